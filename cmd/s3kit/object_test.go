package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/s3kit/s3kit"
)

func TestStatTagMeta(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		if _, err := e.bucket.PutString(t.Context(), "doc.txt", "hello", &s3kit.PutOptions{
			Metadata: map[string]string{"owner": "ana"}, Tags: map[string]string{"team": "x"}, CacheControl: "no-cache",
		}); err != nil {
			t.Fatal(err)
		}
		r := e.ok(t, nil, "stat", "--tags", e.url("doc.txt"))
		for _, s := range []string{"Size:", " 5\n", "Cache-Control:", "no-cache", "owner=ana", "team=x", "ETag:"} {
			if !strings.Contains(r.stdout, s) {
				t.Errorf("stat does not show %q:\n%s", s, r.stdout)
			}
		}
		r = e.ok(t, nil, "--json", "stat", e.url("doc.txt"))
		recs, _ := records(t, r.stdout)
		info, _ := recs[0].Info.(map[string]any)
		if len(recs) != 1 || recs[0].Size != 5 || info["cache_control"] != "no-cache" || info["metadata"].(map[string]any)["owner"] != "ana" {
			t.Errorf("stat --json %+v", recs)
		}
		r = e.run(t, nil, "stat", e.url("nope"))
		want(t, r, exitFailed)

		// Tags: replace, read, clear.
		e.ok(t, nil, "tag", e.url("doc.txt"), "a=1", "b=2")
		r = e.ok(t, nil, "tag", e.url("doc.txt"))
		if r.stdout != "a=1\nb=2\n" {
			t.Errorf("tags %q", r.stdout)
		}
		e.ok(t, nil, "tag", "--clear", e.url("doc.txt"))
		if tags, err := e.bucket.GetTags(t.Context(), "doc.txt"); err != nil || len(tags) != 0 {
			t.Errorf("after --clear: %v, %v", tags, err)
		}

		// Metadata, in place.
		e.ok(t, nil, "meta", e.url("doc.txt"), "owner=bo", "k=v")
		r = e.ok(t, nil, "meta", e.url("doc.txt"))
		if r.stdout != "k=v\nowner=bo\n" {
			t.Errorf("meta %q", r.stdout)
		}
		if got := e.get(t, "doc.txt"); got != "hello" {
			t.Errorf("content after meta %q", got)
		}
		e.ok(t, nil, "meta", "--clear", e.url("doc.txt"))
		if info, err := e.bucket.Head(t.Context(), "doc.txt", nil); err != nil || len(info.Metadata) != 0 || info.CacheControl != "no-cache" {
			t.Errorf("after meta --clear: %v, %+v", err, info)
		}
		args := []string{"meta", "--clear", e.url("doc.txt"), "k=v"}
		want(t, e.run(t, nil, args...), exitUsage, args...)
	})
}

func TestPresign(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		e.put(t, "doc.txt", "presigned")
		r := e.ok(t, nil, "presign", "--expires", "5m", e.url("doc.txt"))
		u := strings.TrimSpace(r.stdout)
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "presigned" {
			t.Errorf("GET of the presigned URL: %d %q", resp.StatusCode, body)
		}

		r = e.ok(t, nil, "--json", "presign", "--put", e.url("up.txt"))
		recs, _ := records(t, r.stdout)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, recs[0].URL, bytes.NewReader([]byte("put by url")))
		if err != nil {
			t.Fatal(err)
		}
		if info, ok := recs[0].Info.(map[string]any); ok {
			h, _ := info["headers"].(map[string]any)
			for k, v := range h {
				req.Header.Set(k, v.(string))
			}
		}
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("PUT of the presigned URL: %d", resp.StatusCode)
		}
		if got := e.get(t, "up.txt"); got != "put by url" {
			t.Errorf("uploaded %q", got)
		}
		// Beyond 7 days is refused by the library: a failure.
		r = e.run(t, nil, "presign", "--expires", "200h", e.url("doc.txt"))
		want(t, r, exitFailed)
		// No secret ever reaches the output.
		if strings.Contains(r.stdout+r.stderr, e.srv.SecretKey) {
			t.Error("the secret key was printed")
		}
	})
}

func TestBucketsAndDu(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		name := e.bucket.Name() + "-mb"
		e.ok(t, nil, "mb", "s3://"+name)
		t.Cleanup(func() { e.client.DeleteBucket(t.Context(), name, &s3kit.DeleteBucketOptions{Empty: true}) })
		r := e.run(t, nil, "mb", "s3://"+name)
		want(t, r, exitFailed)

		b := e.client.Bucket(name)
		for _, k := range []string{"a", "d/b", "d/c"} {
			if _, err := b.PutString(t.Context(), k, strings.Repeat("x", len(k)*10), nil); err != nil {
				t.Fatal(err)
			}
		}
		r = e.ok(t, nil, "--json", "du", "s3://"+name+"/d/", "s3://"+name)
		recs, _ := records(t, r.stdout)
		var totals []record
		for _, rec := range recs {
			if rec.StorageClass == "" {
				totals = append(totals, rec)
			}
		}
		if len(totals) != 2 || totals[0].Count != 2 || totals[0].Size != 60 || totals[1].Count != 3 || totals[1].Size != 70 {
			t.Errorf("du totals %+v", totals)
		}
		r = e.ok(t, nil, "du", "s3://"+name)
		if !strings.Contains(r.stdout, "3 objects") || !strings.Contains(r.stdout, "STANDARD") {
			t.Errorf("du text:\n%s", r.stdout)
		}
		// No argument: every bucket.
		r = e.ok(t, nil, "--json", "du")
		recs, _ = records(t, r.stdout)
		found := false
		for _, rec := range recs {
			if rec.Source == "s3://"+name && rec.StorageClass == "" {
				found = rec.Count == 3 && rec.Size == 70
			}
		}
		if !found {
			t.Errorf("du of every bucket: no total of 3 objects, 70 bytes for %s in %+v", name, recs)
		}

		r = e.run(t, nil, "rb", "s3://"+name)
		want(t, r, exitFailed)
		if !strings.Contains(r.stderr, "not empty") {
			t.Errorf("rb of a full bucket: %q", r.stderr)
		}
		e.ok(t, nil, "rb", "--force", "s3://"+name)
		if ok, err := e.client.BucketExists(t.Context(), name); err != nil || ok {
			t.Errorf("bucket after rb --force: %v %v", ok, err)
		}
	})
}

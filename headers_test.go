package s3kit_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// Expires, Content-Language and the website redirect location go with
// every write, are kept by copies and SetMetadata, and come back from
// Head and Get.
func TestStandardHeaders(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		b := e.bucket
		_, noRedirect := lacks[e.name]["website redirect location"]
		if noRedirect {
			t.Logf("%s: WebsiteRedirectLocation not checked: %s", e.name, lacks[e.name]["website redirect location"])
		}
		exp := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
		want := s3kit.PutOptions{Expires: exp, ContentLanguage: "fr-CA", WebsiteRedirectLocation: "/moved.html"}
		check := func(what string, info s3kit.ObjectInfo, w s3kit.PutOptions) {
			t.Helper()
			if noRedirect {
				w.WebsiteRedirectLocation = ""
			}
			if !info.Expires.Equal(w.Expires) || info.ContentLanguage != w.ContentLanguage || info.WebsiteRedirectLocation != w.WebsiteRedirectLocation {
				t.Errorf("%s: Expires %v, ContentLanguage %q, WebsiteRedirectLocation %q; want %v, %q, %q", what,
					info.Expires, info.ContentLanguage, info.WebsiteRedirectLocation, w.Expires, w.ContentLanguage, w.WebsiteRedirectLocation)
			}
		}
		head := func(key string) s3kit.ObjectInfo {
			t.Helper()
			h, err := b.Head(ctx, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}

		o := want
		if _, err := b.PutString(ctx, "put.txt", "x", &o); err != nil {
			t.Fatal(err)
		}
		check("Head after Put", head("put.txt"), want)
		if _, info, err := b.GetBytes(ctx, "put.txt"); err != nil {
			t.Fatal(err)
		} else {
			check("GetBytes", info, want)
		}

		data := randomBytes(s3kit.MinPartSize + 1)
		w, err := b.NewWriter(ctx, "multi.bin", &s3kit.WriterOptions{PutOptions: want, PartSize: s3kit.MinPartSize})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		check("Head after a multipart Writer", head("multi.bin"), want)

		local := filepath.Join(t.TempDir(), "up.bin")
		if err := os.WriteFile(local, data, 0o600); err != nil {
			t.Fatal(err)
		}
		o = want
		if _, err := b.Upload(ctx, local, "up.bin", &s3kit.TransferOptions{Put: &o, PartSize: s3kit.MinPartSize}); err != nil {
			t.Fatal(err)
		}
		check("Head after Upload", head("up.bin"), want)

		// A copy keeps Expires and Content-Language, but not the redirect,
		// which S3 does not copy; one that replaces the metadata sets its
		// own, or keeps the source's where it sets none.
		if _, err := b.Copy(ctx, "put.txt", "copy.txt", nil); err != nil {
			t.Fatal(err)
		}
		kept := want
		kept.WebsiteRedirectLocation = head("copy.txt").WebsiteRedirectLocation
		if _, ok := lacks[e.name]["Expires kept by copy"]; ok {
			t.Logf("%s: Expires of a copy not checked: %s", e.name, lacks[e.name]["Expires kept by copy"])
			kept.Expires = time.Time{}
		}
		check("Head after Copy", head("copy.txt"), kept)
		other := s3kit.PutOptions{Expires: exp.Add(time.Hour), ContentLanguage: "en", WebsiteRedirectLocation: "https://example.com/x"}
		if _, err := b.Copy(ctx, "put.txt", "replaced.txt", &s3kit.CopyOptions{ReplaceMetadata: true,
			Expires: other.Expires, ContentLanguage: other.ContentLanguage, WebsiteRedirectLocation: other.WebsiteRedirectLocation}); err != nil {
			t.Fatal(err)
		}
		check("Head after Copy with new headers", head("replaced.txt"), other)
		if _, err := b.Copy(ctx, "put.txt", "kept.txt", &s3kit.CopyOptions{ReplaceMetadata: true, Metadata: map[string]string{"a": "b"}}); err != nil {
			t.Fatal(err)
		}
		check("Head after Copy with new metadata only", head("kept.txt"), want)
		if _, err := b.Copy(ctx, "multi.bin", "multicopy.bin", &s3kit.CopyOptions{MultipartThreshold: s3kit.MinPartSize, PartSize: s3kit.MinPartSize}); err != nil {
			t.Fatal(err)
		}
		check("Head after a multipart copy", head("multicopy.bin"), want)
		if err := b.SetMetadata(ctx, "put.txt", map[string]string{"new": "1"}); err != nil {
			t.Fatal(err)
		}
		check("Head after SetMetadata", head("put.txt"), want)
		if err := s3kit.SetMetadataAbove(ctx, b, "multi.bin", map[string]string{"new": "1"}, s3kit.MinPartSize); err != nil {
			t.Fatal(err)
		}
		check("Head after SetMetadata in parts", head("multi.bin"), want)

		// As put defaults, and bound by PresignPut.
		db := b.WithPutDefaults(&want)
		if _, err := db.PutString(ctx, "default.txt", "x", nil); err != nil {
			t.Fatal(err)
		}
		check("Head after a Put with defaults", head("default.txt"), want)
		u, header, err := db.PresignPut(ctx, "presigned.txt", time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		if header.Get("Expires") != exp.Format(http.TimeFormat) || header.Get("X-Amz-Website-Redirect-Location") != "/moved.html" {
			t.Errorf("PresignPut header = %v", header)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader([]byte("x")))
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT to the presigned URL: %s", resp.Status)
		}
		check("Head after a presigned PUT", head("presigned.txt"), want)

		// Sync's Put options set them on copies between buckets.
		if _, err := b.PutString(ctx, "s/one.txt", "1", nil); err != nil {
			t.Fatal(err)
		}
		dst := newBucket(t, e.client)
		o = other
		if res, err := s3kit.Sync(ctx, b.Prefix("s"), dst, &s3kit.SyncOptions{Put: &o}); err != nil || res.Copied.Files != 1 {
			t.Fatalf("Sync: %+v, %v", res, err)
		}
		if h, err := dst.Head(ctx, "one.txt", nil); err != nil {
			t.Fatal(err)
		} else {
			check("Head after Sync with Put options", h, other)
		}
	})
}

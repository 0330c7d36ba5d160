package s3kit_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// weirdKeys are keys that break naive URL building, escaping or path
// handling.
var weirdKeys = []struct{ name, key string }{
	{"unicode", "日本語/ファイル-é-ß-😀.txt"},
	{"spaces", "with space/and  two.txt"},
	{"plus", "a+b/c+d.txt"},
	{"percent", "100%/%41%2F.txt"},
	{"question", "what?/is=this&x.txt"},
	{"hash", "#tag/#1.txt"},
	{"double slash", "a//b.txt"},
	{"leading slash", "/leading.txt"},
	{"dot dot", "../up.txt"},
	{"trailing slash", "dir-marker/"},
	{"tilde and quotes", "~user/'single' \"double\".txt"},
	{"semicolon comma", "a;b,c:d@e$f.txt"},
	{"brackets", "[x]/{y}/(z).txt"},
	// Filesystem-backed stores cap a path segment at 255 bytes, so the
	// longest key is built of several.
	{"1024 bytes", strings.Repeat(strings.Repeat("k", 250)+"/", 4) + strings.Repeat("k", 16) + ".txt"},
}

func TestWeirdKeys(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		for _, k := range weirdKeys {
			t.Run(k.name, func(t *testing.T) {
				e.requireFeature(t, "key "+k.name)
				body := "content of " + k.name
				if strings.HasSuffix(k.key, "/") {
					body = "" // a directory marker
				}
				if _, err := b.PutString(ctx, k.key, body, &s3kit.PutOptions{Tags: map[string]string{"t": "1"}}); err != nil {
					t.Fatal(err)
				}
				if got, _, err := b.GetString(ctx, k.key); err != nil || got != body {
					t.Fatalf("GetString = %q, %v", got, err)
				}
				info, err := b.Head(ctx, k.key, &s3kit.HeadOptions{WithTags: true})
				if err != nil || info.Key != k.key || info.Size != int64(len(body)) || info.Tags["t"] != "1" {
					t.Fatalf("Head = %+v, %v", info, err)
				}
				found := false
				for obj, err := range b.List(ctx, &s3kit.ListOptions{Prefix: k.key}) {
					if err != nil {
						t.Fatal(err)
					}
					found = found || obj.Key == k.key
				}
				if !found {
					t.Fatal("List does not return the key")
				}
				dst := "copies/" + k.key
				if len(dst) > s3kit.MaxKeyLength || strings.HasSuffix(k.key, "/") {
					dst = "copies/" + k.name
				}
				if why, no := lacks[e.name]["copy of a directory marker"]; no && strings.HasSuffix(k.key, "/") {
					t.Logf("%s does not support copy of a directory marker: %s; Copy and SetMetadata not tested here", e.name, why)
				} else {
					if _, err := b.Copy(ctx, k.key, dst, nil); err != nil {
						t.Fatalf("Copy: %v", err)
					}
					if got, _, _ := b.GetString(ctx, dst); got != body {
						t.Fatalf("copy holds %q", got)
					}
					if err := b.SetMetadata(ctx, k.key, map[string]string{"m": "1"}); err != nil {
						t.Fatalf("SetMetadata: %v", err)
					}
				}
				url, _, err := b.PresignGet(ctx, k.key, time.Minute, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got := httpGet(t, url); got != body {
					t.Fatalf("presigned GET = %q", got)
				}
				if _, err := b.DeleteMany(ctx, []string{dst}); err != nil {
					t.Fatal(err)
				}
				if err := b.Delete(ctx, k.key); err != nil {
					t.Fatal(err)
				}
				if ok, err := b.Exists(ctx, k.key); ok || err != nil {
					t.Fatalf("Exists after Delete = %v, %v", ok, err)
				}
			})
		}
	})
}

func TestPrefixHandles(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		p := b.Prefix("2025", "06")
		if p.KeyPrefix() != "2025/06/" || b.Prefix("a/", "", "b").KeyPrefix() != "a/b/" {
			t.Fatalf("prefixes %q, %q", p.KeyPrefix(), b.Prefix("a/", "", "b").KeyPrefix())
		}
		if _, err := p.PutString(ctx, "a.txt", "A", nil); err != nil {
			t.Fatal(err)
		}
		if s, _, err := b.GetString(ctx, "2025/06/a.txt"); err != nil || s != "A" {
			t.Fatalf("object not under the prefix: %q, %v", s, err)
		}
		info, err := p.Head(ctx, "a.txt", nil)
		if err != nil || info.Key != "a.txt" {
			t.Fatalf("Head key %q, %v; want relative", info.Key, err)
		}
		if _, err := p.Copy(ctx, "a.txt", "b.txt", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := b.PutString(ctx, "2025/07/c.txt", "C", nil); err != nil {
			t.Fatal(err)
		}
		got := keysOf(t, p, nil)
		if !slices.Equal(got, []string{"a.txt", "b.txt"}) {
			t.Fatalf("List of scoped handle = %q", got)
		}
		var se *s3kit.Error
		if _, _, err := p.GetBytes(ctx, "missing"); !errors.As(err, &se) || se.Key != "2025/06/missing" {
			t.Fatalf("error names key %q, want the full key", se.Key)
		}
		if res, err := p.DeleteAll(ctx); err != nil || res.Deleted != 2 {
			t.Fatalf("DeleteAll = %+v, %v", res, err)
		}
		if got := keysOf(t, b, nil); !slices.Equal(got, []string{"2025/07/c.txt"}) {
			t.Fatalf("DeleteAll of a prefix touched other keys: %q", got)
		}
	})
}

func TestLines(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		long := strings.Repeat("L", 200_000) // longer than any read buffer
		content := "first\r\nsecond\n\n" + long + "\nlast without newline"
		if _, err := b.PutString(ctx, "lines.txt", content, nil); err != nil {
			t.Fatal(err)
		}
		var got []string
		for line, err := range b.Lines(ctx, "lines.txt") {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, line)
		}
		if want := []string{"first", "second", "", long, "last without newline"}; !slices.Equal(got, want) {
			t.Fatalf("got %d lines, want %d", len(got), len(want))
		}
		n := 0
		for range b.Lines(ctx, "lines.txt") {
			if n++; n == 2 {
				break
			}
		}
		if n != 2 {
			t.Fatalf("break: saw %d", n)
		}
	})
}

func TestWaitExists(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		go func() {
			time.Sleep(300 * time.Millisecond)
			errOf(b.PutString(ctx, "later", "x", nil))
		}()
		if err := b.WaitExists(ctx, "later", time.Minute); err != nil {
			t.Fatal(err)
		}
		err := b.WaitExists(ctx, "never", 200*time.Millisecond)
		if !errors.Is(err, s3kit.ErrNotExist) || !errors.Is(err, errDeadline) {
			t.Fatalf("WaitExists(never) = %v, want ErrNotExist and DeadlineExceeded", err)
		}
		err = e.client.Bucket("no-such-bucket-wait").WaitExists(ctx, "k", time.Minute)
		if !errors.Is(err, s3kit.ErrBucketNotExist) {
			t.Fatalf("WaitExists on a missing bucket = %v, want ErrBucketNotExist at once", err)
		}
	})
}

func TestBuckets(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, c := t.Context(), e.client
		name := fmt.Sprintf("s3kit-buckets-%s-%d", e.name, time.Now().UnixNano()%1e9)
		if err := c.CreateBucket(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		if err := c.CreateBucket(ctx, name, nil); !errors.Is(err, s3kit.ErrExist) {
			t.Errorf("creating it again: %v, want ErrExist", err)
		}
		if ok, err := c.BucketExists(ctx, name); !ok || err != nil {
			t.Errorf("BucketExists = %v, %v", ok, err)
		}
		all, err := c.ListBuckets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(all, func(bi s3kit.BucketInfo) bool { return bi.Name == name && !bi.Created.IsZero() }) {
			t.Errorf("ListBuckets misses %s: %v", name, all)
		}
		b := c.Bucket(name)
		putTree(t, b, []string{"a", "b/c", "d/"})
		// An unfinished multipart upload must not keep the bucket alive.
		if _, err := c.S3().CreateMultipartUpload(ctx, mpuInput(name, "unfinished")); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteBucket(ctx, name, nil); !errors.Is(err, s3kit.ErrBucketNotEmpty) {
			t.Errorf("deleting a full bucket: %v, want ErrBucketNotEmpty", err)
		}
		if err := c.DeleteBucket(ctx, name, &s3kit.DeleteBucketOptions{Empty: true}); err != nil {
			t.Fatal(err)
		}
		if ok, err := c.BucketExists(ctx, name); ok || err != nil {
			t.Errorf("BucketExists after delete = %v, %v", ok, err)
		}
		if err := c.DeleteBucket(ctx, name, nil); !errors.Is(err, s3kit.ErrBucketNotExist) {
			t.Errorf("deleting it again: %v, want ErrBucketNotExist", err)
		}
	})
}

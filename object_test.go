package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

func TestRoundTrip(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket

		if _, err := b.PutBytes(ctx, "bytes", []byte{0, 1, 2, 255}, nil); err != nil {
			t.Fatal(err)
		}
		got, _, err := b.GetBytes(ctx, "bytes")
		if err != nil || !bytes.Equal(got, []byte{0, 1, 2, 255}) {
			t.Fatalf("GetBytes = %v, %v", got, err)
		}

		if _, err := b.PutString(ctx, "text", "héllo\nworld", nil); err != nil {
			t.Fatal(err)
		}
		if s, _, err := b.GetString(ctx, "text"); err != nil || s != "héllo\nworld" {
			t.Fatalf("GetString = %q, %v", s, err)
		}

		type doc struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}
		in := doc{Name: "x", Tags: []string{"a", "b"}}
		if _, err := b.PutJSON(ctx, "doc", in, nil); err != nil {
			t.Fatal(err)
		}
		var out doc
		if _, err := b.GetJSON(ctx, "doc", &out); err != nil || out.Name != "x" || len(out.Tags) != 2 {
			t.Fatalf("GetJSON = %+v, %v", out, err)
		}
		var wrong int
		if _, err := b.GetJSON(ctx, "doc", &wrong); err == nil {
			t.Fatal("GetJSON into an int succeeded")
		}

		if _, err := b.PutBytes(ctx, "empty", nil, nil); err != nil {
			t.Fatal(err)
		}
		if got, _, err := b.GetBytes(ctx, "empty"); err != nil || len(got) != 0 {
			t.Fatalf("GetBytes(empty) = %q, %v", got, err)
		}

		// A reader that is not seekable is buffered; one that is goes as is,
		// from its current offset.
		body := strings.Repeat("0123456789", 100_000)
		info, err := b.Put(ctx, "stream", io.MultiReader(strings.NewReader(body[:5]), strings.NewReader(body[5:])), nil)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(body)) || info.ETag == "" || info.Key != "stream" {
			t.Fatalf("Put info = %+v", info)
		}
		if s, _, err := b.GetString(ctx, "stream"); err != nil || s != body {
			t.Fatalf("GetString(stream) = %d bytes, %v", len(s), err)
		}
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, []byte("skip:payload"), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.Seek(5, io.SeekStart)
		if _, err := b.Put(ctx, "file", f, nil); err != nil {
			t.Fatal(err)
		}
		if s, _, err := b.GetString(ctx, "file"); err != nil || s != "payload" {
			t.Fatalf("GetString(file) = %q, %v", s, err)
		}

		// Larger than a part and not seekable: streamed as a multipart upload.
		big := bytes.Repeat([]byte("0123456789abcdef"), (s3kit.DefaultPartSize+12345)/16)
		info, err = b.Put(ctx, "big", io.MultiReader(bytes.NewReader(big)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(big)) {
			t.Fatalf("Put(big) size %d", info.Size)
		}
		if got, _, err := b.GetBytes(ctx, "big"); err != nil || !bytes.Equal(got, big) {
			t.Fatalf("GetBytes(big): %d bytes, %v", len(got), err)
		}
	})
}

func TestContentTypes(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		for _, c := range []struct {
			key  string
			put  func(key string) error
			want string
		}{
			{"a.json", func(k string) error { return errOf(b.PutString(ctx, k, "{}", nil)) }, "application/json"},
			{"a.html", func(k string) error { return errOf(b.PutBytes(ctx, k, []byte("<p>"), nil)) }, "text/html; charset=utf-8"},
			{"noext-string", func(k string) error { return errOf(b.PutString(ctx, k, "x", nil)) }, "text/plain; charset=utf-8"},
			{"noext-json", func(k string) error { return errOf(b.PutJSON(ctx, k, 1, nil)) }, "application/json"},
			{"noext-bytes", func(k string) error { return errOf(b.PutBytes(ctx, k, []byte("x"), nil)) }, "application/octet-stream"},
			{"explicit.json", func(k string) error {
				return errOf(b.PutString(ctx, k, "x", &s3kit.PutOptions{ContentType: "text/x-custom"}))
			}, "text/x-custom"},
		} {
			if err := c.put(c.key); err != nil {
				t.Fatalf("%s: %v", c.key, err)
			}
			info, err := b.Head(ctx, c.key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if info.ContentType != c.want {
				t.Errorf("%s: content type %q, want %q", c.key, info.ContentType, c.want)
			}
		}
	})
}

func TestPutOptions(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		opts := &s3kit.PutOptions{
			CacheControl:       "max-age=3600",
			ContentDisposition: `attachment; filename="r.txt"`,
			ContentEncoding:    "identity",
			ContentLanguage:    "en",
			Metadata:           map[string]string{"owner": "ann", "Run-Id": "42"},
			Tags:               map[string]string{"team": "data", "tier": "hot one"},
			ACL:                "private",
		}
		if _, err := b.PutString(ctx, "r.txt", "report", opts); err != nil {
			t.Fatal(err)
		}
		info, err := b.Head(ctx, "r.txt", &s3kit.HeadOptions{WithTags: true})
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != 6 || info.CacheControl != opts.CacheControl || info.ContentDisposition != opts.ContentDisposition ||
			info.ContentEncoding != "identity" || info.ContentLanguage != "en" {
			t.Errorf("Head = %+v", info)
		}
		if info.Metadata["owner"] != "ann" || info.Metadata["run-id"] != "42" {
			t.Errorf("metadata = %v", info.Metadata)
		}
		if info.Tags["team"] != "data" || info.Tags["tier"] != "hot one" || len(info.Tags) != 2 {
			t.Errorf("tags = %v", info.Tags)
		}
		if info.LastModified.IsZero() || info.ETag == "" || info.StorageClass == "" {
			t.Errorf("Head misses basics: %+v", info)
		}
	})
}

func TestConditionalWrites(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		create := &s3kit.PutOptions{IfNoneMatch: "*"}
		first, err := b.Put(ctx, "lock", strings.NewReader("one"), create)
		if err != nil {
			t.Fatalf("create-only on a new key: %v", err)
		}
		_, err = b.Put(ctx, "lock", strings.NewReader("two"), create)
		if !errors.Is(err, s3kit.ErrPreconditionFailed) || !errors.Is(err, s3kit.ErrExist) || !errors.Is(err, fs.ErrExist) {
			t.Fatalf("create-only on an existing key: %v, want ErrPreconditionFailed and ErrExist", err)
		}
		second, err := b.Put(ctx, "lock", strings.NewReader("three"), &s3kit.PutOptions{IfMatch: first.ETag})
		if err != nil {
			t.Fatalf("compare-and-swap with the current ETag: %v", err)
		}
		_, err = b.Put(ctx, "lock", strings.NewReader("four"), &s3kit.PutOptions{IfMatch: first.ETag})
		if !errors.Is(err, s3kit.ErrPreconditionFailed) {
			t.Fatalf("compare-and-swap with a stale ETag: %v, want ErrPreconditionFailed", err)
		}
		var se *s3kit.Error
		if !errors.As(err, &se) || se.StatusCode != 412 || se.Key != "lock" || se.Op != "Put" {
			t.Fatalf("error fields: %#v", se)
		}
		if s, _, _ := b.GetString(ctx, "lock"); s != "three" {
			t.Fatalf("content after the lost writes = %q, want three", s)
		}
		if second.ETag == first.ETag {
			t.Fatal("ETag did not change")
		}
	})
}

func TestMissing(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		_, _, err := b.GetBytes(ctx, "nope")
		if !errors.Is(err, s3kit.ErrNotExist) || !errors.Is(err, fs.ErrNotExist) || errors.Is(err, s3kit.ErrBucketNotExist) {
			t.Errorf("GetBytes missing key: %v", err)
		}
		_, err = b.Head(ctx, "nope", nil)
		if !errors.Is(err, s3kit.ErrNotExist) || errors.Is(err, s3kit.ErrBucketNotExist) {
			t.Errorf("Head missing key: %v", err)
		}
		var se *s3kit.Error
		if !errors.As(err, &se) || se.StatusCode != 404 || se.Bucket != b.Name() || se.Key != "nope" {
			t.Errorf("Head error fields: %#v", se)
		}
		if ok, err := b.Exists(ctx, "nope"); ok || err != nil {
			t.Errorf("Exists missing = %v, %v", ok, err)
		}
		if err := b.Delete(ctx, "nope"); err != nil {
			t.Errorf("Delete missing key: %v, want nil (idempotent)", err)
		}
		for _, err := range b.Lines(ctx, "nope") {
			if !errors.Is(err, s3kit.ErrNotExist) {
				t.Errorf("Lines missing: %v", err)
			}
		}

		gone := e.client.Bucket("no-such-bucket-s3kit")
		checks := map[string]error{}
		checks["Put"] = errOf(gone.PutString(ctx, "k", "v", nil))
		_, _, checks["GetBytes"] = gone.GetBytes(ctx, "k")
		_, checks["Head"] = gone.Head(ctx, "k", nil)
		_, checks["Exists"] = gone.Exists(ctx, "k")
		checks["Delete"] = gone.Delete(ctx, "k")
		_, checks["ListAll"] = gone.ListAll(ctx, nil)
		_, checks["GetTags"] = gone.GetTags(ctx, "k")
		checks["SetTags"] = gone.SetTags(ctx, "k", map[string]string{"a": "b"})
		_, checks["DeleteMany"] = gone.DeleteMany(ctx, []string{"a", "b"})
		_, checks["Copy"] = gone.Copy(ctx, "a", "b", nil)
		checks["DeleteBucket"] = e.client.DeleteBucket(ctx, gone.Name(), nil)
		for op, err := range checks {
			if !errors.Is(err, s3kit.ErrBucketNotExist) || !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s on a missing bucket: %v, want ErrBucketNotExist", op, err)
			}
		}
		if ok, err := e.client.BucketExists(ctx, gone.Name()); ok || err != nil {
			t.Errorf("BucketExists(missing) = %v, %v", ok, err)
		}
	})
}

// objectCtx bounds a test's requests, so that a hang fails the test.
func objectCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestSetMetadataMultipart(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := objectCtx(t), e.bucket
		data := randomBytes(12*mib + 5)
		opts := &s3kit.PutOptions{
			ContentType: "video/mp4", CacheControl: "max-age=60", ContentLanguage: "de",
			Metadata: map[string]string{"old": "1"}, Tags: map[string]string{"t": "1"},
		}
		_, noSSE := lacks[e.name]["SSE-S3"]
		if !noSSE {
			opts.SSE = s3kit.SSES3
		}
		if _, err := b.Put(ctx, "big", bytes.NewReader(data), opts); err != nil {
			t.Fatal(err)
		}
		_, keepsMetadata := lacks[e.name]["clearing metadata by overwrite"]
		check := func(step string, meta map[string]string) {
			t.Helper()
			h, err := b.Head(ctx, "big", nil)
			if err != nil {
				t.Fatal(err)
			}
			if meta == nil && keepsMetadata {
				t.Logf("%s: metadata %v: %s", step, h.Metadata, lacks[e.name]["clearing metadata by overwrite"])
			} else if len(h.Metadata) != len(meta) || h.Metadata["new"] != meta["new"] {
				t.Errorf("%s: metadata %v, want %v", step, h.Metadata, meta)
			}
			if h.ContentType != "video/mp4" || h.CacheControl != "max-age=60" || h.ContentLanguage != "de" || !noSSE && h.SSE != s3kit.SSES3 {
				t.Errorf("%s: headers not kept: %+v", step, h)
			}
			if !strings.HasSuffix(strings.Trim(h.ETag, `"`), "-1") {
				t.Errorf("%s: ETag %s: not copied in parts", step, h.ETag)
			}
			if tags, err := b.GetTags(ctx, "big"); err != nil || tags["t"] != "1" || len(tags) != 1 {
				t.Errorf("%s: tags %v, %v", step, tags, err)
			}
			if got, _, err := b.GetBytes(ctx, "big"); err != nil || !bytes.Equal(got, data) {
				t.Errorf("%s: content changed (%d bytes, %v)", step, len(got), err)
			}
		}
		// One byte below the object's size, as 5 GiB is below a larger one.
		threshold := int64(len(data)) - 1
		if err := s3kit.SetMetadataAbove(ctx, b, "big", map[string]string{"new": "2"}, threshold); err != nil {
			t.Fatal(err)
		}
		check("replaced", map[string]string{"new": "2"})
		if err := s3kit.SetMetadataAbove(ctx, b, "big", nil, threshold); err != nil {
			t.Fatal(err)
		}
		check("removed", nil)
		if err := s3kit.SetMetadataAbove(ctx, b, "missing", nil, threshold); !errors.Is(err, s3kit.ErrNotExist) {
			t.Fatalf("SetMetadata of a missing key: %v", err)
		}
		noUploadsLeft(t, e.client, b.Name())
	})
}

// headsOf counts the HEAD requests p saw for objects of bucket and for the
// bucket itself (HeadBucket), and all other requests.
func headsOf(p *faultproxy.Proxy, bucket string) (objects, buckets, other int) {
	for _, r := range p.Requests() {
		switch {
		case r.Method != http.MethodHead:
			other++
		case r.Path == "/"+bucket || r.Path == "/"+bucket+"/":
			buckets++
		default:
			objects++
		}
	}
	return objects, buckets, other
}

func TestMissingKeyOneRequest(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := objectCtx(t)
		c, p := proxied(t, e, s3kit.Config{})
		name := e.bucket.Name()
		b := c.Bucket(name)
		want := func(step string, objects, buckets int) {
			t.Helper()
			o, bk, other := headsOf(p, name)
			if o != objects || bk != buckets || other != 0 {
				t.Errorf("%s: %d object HEADs, %d HeadBuckets, %d others; want %d, %d, 0", step, o, bk, other, objects, buckets)
			}
			p.Reset()
		}

		// A new Client does not know the bucket: the 404 is followed by a
		// HeadBucket; then it does.
		if ok, err := b.Exists(ctx, "missing"); ok || err != nil {
			t.Fatalf("Exists(missing) = %v, %v", ok, err)
		}
		want("first Exists", 1, 1)
		if ok, err := b.Exists(ctx, "missing"); ok || err != nil {
			t.Fatalf("Exists(missing) = %v, %v", ok, err)
		}
		want("Exists, bucket known", 1, 0)
		if _, err := c.Bucket(name).Prefix("sub").Head(ctx, "missing", nil); !errors.Is(err, s3kit.ErrNotExist) || errors.Is(err, s3kit.ErrBucketNotExist) {
			t.Fatalf("Head(missing) = %v", err)
		}
		want("Head from another handle, bucket known", 1, 0)
		err := b.WaitExists(ctx, "missing", 400*time.Millisecond)
		if !errors.Is(err, s3kit.ErrNotExist) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitExists(missing) = %v", err)
		}
		if o, bk, other := headsOf(p, name); o < 2 || bk != 0 || other != 0 {
			t.Errorf("WaitExists: %d object HEADs, %d HeadBuckets, %d others; want one HEAD per poll", o, bk, other)
		}
		p.Reset()

		// A successful HEAD shows the bucket too, to another Client.
		c2, p2 := proxied(t, e, s3kit.Config{})
		b2 := c2.Bucket(name)
		if _, err := e.bucket.PutString(ctx, "there", "x", nil); err != nil {
			t.Fatal(err)
		}
		if ok, err := b2.Exists(ctx, "there"); !ok || err != nil {
			t.Fatalf("Exists(there) = %v, %v", ok, err)
		}
		p2.Reset()
		if ok, err := b2.Exists(ctx, "missing"); ok || err != nil {
			t.Fatalf("Exists(missing) = %v, %v", ok, err)
		}
		if o, bk, _ := headsOf(p2, name); o != 1 || bk != 0 {
			t.Errorf("Exists after a successful HEAD: %d object HEADs, %d HeadBuckets; want 1, 0", o, bk)
		}

		// A missing bucket is still told apart, every time.
		gone := c.Bucket("no-such-bucket-s3kit-a9")
		for range 2 {
			if ok, err := gone.Exists(ctx, "k"); ok || !errors.Is(err, s3kit.ErrBucketNotExist) {
				t.Errorf("Exists on a missing bucket = %v, %v", ok, err)
			}
			if _, err := gone.Head(ctx, "k", nil); !errors.Is(err, s3kit.ErrBucketNotExist) {
				t.Errorf("Head on a missing bucket = %v", err)
			}
			if err := gone.WaitExists(ctx, "k", time.Minute); !errors.Is(err, s3kit.ErrBucketNotExist) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("WaitExists on a missing bucket = %v", err)
			}
		}
		if o, bk, _ := headsOf(p, gone.Name()); o != 6 || bk != 6 {
			t.Errorf("missing bucket: %d object HEADs, %d HeadBuckets; want 6, 6", o, bk)
		}
	})
}

package s3kit_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// useURLEnv gives the URL opener, which takes credentials from the standard
// chain, the credentials of e's server. (t.Setenv rules out t.Parallel.)
func useURLEnv(t *testing.T, e *env) {
	t.Setenv("AWS_ACCESS_KEY_ID", e.srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", e.srv.SecretKey)
	t.Setenv("AWS_REGION", e.srv.Region)
}

// s3URL returns "s3://bucket/key?endpoint=…&params", key percent-encoded
// except for "/".
func s3URL(bucket, key, endpoint string, params ...string) string {
	u := "s3://" + bucket + "/" + escapeURLPath(key) + "?endpoint=" + endpoint
	for _, p := range params {
		u += "&" + p
	}
	return u
}

func escapeURLPath(key string) string {
	var sb strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "%%%02X", c)
		}
	}
	return sb.String()
}

// urlKeys are keys that need care in a URL: each is written once
// percent-encoded and, where a URL may hold it as it is, literally.
var urlKeys = []struct {
	name, key, literal string // literal: the key as written in a URL path, "" if it must be encoded
}{
	{"space", "dir/a b.txt", "dir/a b.txt"},
	{"unicode", "über/日本語 ✓.txt", "über/日本語 ✓.txt"},
	{"plus", "a+b.txt", "a+b.txt"},
	{"percent", "100%.txt", ""},
	{"question mark", "what?.txt", ""},
	{"hash", "issue#7.txt", ""},
	{"encoded-looking", "a%20b.txt", ""}, // the key holds "%20", written %2520
	{"at sign and equals", "user@example.com=1.txt", "user@example.com=1.txt"},
}

// TestOpenURL reads objects with awkward keys through s3:// URLs, both
// percent-encoded and literal, and checks that a missing key or bucket is
// reported as such.
func TestOpenURL(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		useURLEnv(t, e)
		ctx := t.Context()
		name := e.bucket.Name()
		for _, k := range urlKeys {
			t.Run(k.name, func(t *testing.T) {
				want := "content of " + k.key
				if _, err := e.bucket.PutString(ctx, k.key, want, nil); err != nil {
					t.Fatal(err)
				}
				raws := []string{s3URL(name, k.key, e.srv.Endpoint)}
				if k.literal != "" {
					raws = append(raws, "s3://"+name+"/"+k.literal+"?endpoint="+e.srv.Endpoint)
				}
				for _, raw := range raws {
					r, err := s3kit.Open(ctx, raw)
					if err != nil {
						t.Fatalf("Open(%q): %v", raw, err)
					}
					got, err := io.ReadAll(r)
					if cerr := r.Close(); err == nil {
						err = cerr
					}
					if err != nil || string(got) != want {
						t.Errorf("Open(%q) read %q, %v; want %q", raw, got, err, want)
					}
					if r.Info().Key != k.key {
						t.Errorf("Open(%q): Info().Key %q, want %q", raw, r.Info().Key, k.key)
					}
				}
			})
		}

		t.Run("encoded slash", func(t *testing.T) {
			if _, err := e.bucket.PutString(ctx, "x/y.txt", "xy", nil); err != nil {
				t.Fatal(err)
			}
			r, err := s3kit.Open(ctx, "s3://"+name+"/x%2Fy.txt?endpoint="+e.srv.Endpoint)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got, err := io.ReadAll(r); err != nil || string(got) != "xy" {
				t.Errorf("read %q, %v", got, err)
			}
		})

		t.Run("one HEAD, missing key and bucket", func(t *testing.T) {
			p := faultproxy.New(e.srv.Endpoint)
			t.Cleanup(p.Close)
			if _, err := e.bucket.PutString(ctx, "here.txt", "x", nil); err != nil {
				t.Fatal(err)
			}
			r, err := s3kit.Open(ctx, s3URL(name, "here.txt", p.URL))
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			if reqs := p.Requests(); len(reqs) != 1 || reqs[0].Method != http.MethodHead {
				t.Errorf("Open sent %d requests (%v), want one HEAD", len(reqs), reqs)
			}
			_, err = s3kit.Open(ctx, s3URL(name, "missing.txt", p.URL, "check_bucket=false"))
			if !errors.Is(err, s3kit.ErrNotExist) || !errors.Is(err, fs.ErrNotExist) || errors.Is(err, s3kit.ErrBucketNotExist) {
				t.Errorf("missing key: %v, want ErrNotExist", err)
			}
			var se *s3kit.Error
			if !errors.As(err, &se) || se.Op != "Open" || se.Key != "missing.txt" {
				t.Errorf("missing key: %#v, want an *Error of Open on missing.txt", err)
			}
			_, err = s3kit.Open(ctx, s3URL("no-such-bucket-"+name, "k", p.URL))
			if !errors.Is(err, s3kit.ErrBucketNotExist) {
				t.Errorf("missing bucket: %v, want ErrBucketNotExist", err)
			}
		})
	})
}

// TestCreateURL writes objects with awkward keys through s3:// URLs whose
// parameters become the objects' headers, and checks that nothing is
// visible before Close.
func TestCreateURL(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		useURLEnv(t, e)
		ctx := t.Context()
		name := e.bucket.Name()
		for _, k := range urlKeys {
			t.Run(k.name, func(t *testing.T) {
				raw := s3URL(name, k.key, e.srv.Endpoint, "content_type=text/x-foo;+charset=utf-8", "cache_control=max-age%3D60,+public")
				w, err := s3kit.Create(ctx, raw)
				if err != nil {
					t.Fatalf("Create(%q): %v", raw, err)
				}
				want := "created " + k.key
				if _, err := io.WriteString(w, want); err != nil {
					t.Fatal(err)
				}
				if ok, err := e.bucket.Exists(ctx, k.key); err != nil || ok {
					t.Fatalf("before Close: Exists = %v, %v; want false", ok, err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if got, _, err := e.bucket.GetString(ctx, k.key); err != nil || got != want {
					t.Fatalf("read back %q, %v; want %q", got, err, want)
				}
				info, err := e.bucket.Head(ctx, k.key, nil)
				if err != nil {
					t.Fatal(err)
				}
				if info.ContentType != "text/x-foo; charset=utf-8" || info.CacheControl != "max-age=60, public" {
					t.Errorf("Content-Type %q, Cache-Control %q; want the URL's", info.ContentType, info.CacheControl)
				}
			})
		}

		t.Run("missing bucket", func(t *testing.T) {
			p := faultproxy.New(e.srv.Endpoint)
			t.Cleanup(p.Close)
			missing := "no-such-bucket-" + name
			if _, err := s3kit.Create(ctx, s3URL(missing, "k", p.URL)); !errors.Is(err, s3kit.ErrBucketNotExist) {
				t.Errorf("Create: %v, want ErrBucketNotExist", err)
			}
			if n := p.Count(); n != 1 {
				t.Errorf("Create sent %d requests, want 1 (HeadBucket)", n)
			}
			p.Reset()
			w, err := s3kit.Create(ctx, s3URL(missing, "k", p.URL, "check_bucket=false"))
			if err != nil {
				t.Fatal(err)
			}
			if n := p.Count(); n != 0 {
				t.Errorf("Create with check_bucket=false sent %d requests", n)
			}
			io.WriteString(w, "x")
			if err := w.Close(); !errors.Is(err, s3kit.ErrBucketNotExist) {
				t.Errorf("Close: %v, want ErrBucketNotExist", err)
			}
		})
	})
}

// TestOpenBucketURL checks the prefix of the handle, the check of the
// bucket (one request, ErrBucketNotExist), and that check_bucket=false
// sends nothing.
func TestOpenBucketURL(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		useURLEnv(t, e)
		ctx := t.Context()
		name := e.bucket.Name()

		for _, tt := range []struct{ path, prefix string }{
			{"", ""}, {"/", ""}, {"/logs/2025", "logs/2025/"}, {"/logs/2025/", "logs/2025/"}, {"/l%C3%B6gs/a%20b", "lögs/a b/"},
		} {
			b, err := s3kit.OpenBucket(ctx, "s3://"+name+tt.path+"?endpoint="+e.srv.Endpoint)
			if err != nil {
				t.Fatalf("path %q: %v", tt.path, err)
			}
			if b.Name() != name || b.KeyPrefix() != tt.prefix {
				t.Errorf("path %q: bucket %q prefix %q, want %q %q", tt.path, b.Name(), b.KeyPrefix(), name, tt.prefix)
			}
		}

		b, err := s3kit.OpenBucket(ctx, "s3://"+name+"/logs/2025?endpoint="+e.srv.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.PutString(ctx, "a.txt", "scoped", nil); err != nil {
			t.Fatal(err)
		}
		if got, _, err := e.bucket.GetString(ctx, "logs/2025/a.txt"); err != nil || got != "scoped" {
			t.Errorf("logs/2025/a.txt: %q, %v", got, err)
		}

		p := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(p.Close)
		if _, err := s3kit.OpenBucket(ctx, s3URL(name, "", p.URL)); err != nil {
			t.Fatal(err)
		}
		if reqs := p.Requests(); len(reqs) != 1 || reqs[0].Method != http.MethodHead || strings.Trim(reqs[0].Path, "/") != name {
			t.Errorf("OpenBucket sent %v, want one HeadBucket", reqs)
		}

		p.Reset()
		missing := "no-such-bucket-" + name
		_, err = s3kit.OpenBucket(ctx, s3URL(missing, "p", p.URL))
		if !errors.Is(err, s3kit.ErrBucketNotExist) || !errors.Is(err, fs.ErrNotExist) || errors.Is(err, s3kit.ErrNotExist) {
			t.Errorf("missing bucket: %v, want ErrBucketNotExist", err)
		}
		var se *s3kit.Error
		if !errors.As(err, &se) || se.Op != "OpenBucket" || se.Bucket != missing {
			t.Errorf("missing bucket: %#v, want an *Error of OpenBucket on %s", err, missing)
		}
		if n := p.Count(); n != 1 {
			t.Errorf("OpenBucket of a missing bucket sent %d requests, want 1", n)
		}

		p.Reset()
		mb, err := s3kit.OpenBucket(ctx, s3URL(missing, "p", p.URL, "check_bucket=false"))
		if err != nil {
			t.Fatalf("check_bucket=false: %v", err)
		}
		if n := p.Count(); n != 0 {
			t.Errorf("OpenBucket with check_bucket=false sent %d requests", n)
		}
		if _, err := mb.PutString(ctx, "k", "v", nil); !errors.Is(err, s3kit.ErrBucketNotExist) {
			t.Errorf("Put into the missing bucket: %v, want ErrBucketNotExist", err)
		}
	})
}

// TestURLPutDefaults checks that the write parameters of a URL apply to
// every kind of write through the handle, that a caller's own option wins,
// and that they stay with the handle, not with the Client it shares.
func TestURLPutDefaults(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		useURLEnv(t, e)
		ctx := t.Context()
		name := e.bucket.Name()
		b, err := s3kit.OpenBucket(ctx, s3URL(name, "d", e.srv.Endpoint, "cache_control=max-age%3D60", "content_type=text/x-foo"))
		if err != nil {
			t.Fatal(err)
		}
		check := func(t *testing.T, key, wantType string) {
			t.Helper()
			info, err := e.bucket.Head(ctx, "d/"+key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if info.CacheControl != "max-age=60" || info.ContentType != wantType {
				t.Errorf("%s: Cache-Control %q, Content-Type %q; want max-age=60, %s", key, info.CacheControl, info.ContentType, wantType)
			}
		}

		t.Run("Put", func(t *testing.T) {
			if _, err := b.Put(ctx, "put.txt", strings.NewReader("x"), nil); err != nil {
				t.Fatal(err)
			}
			check(t, "put.txt", "text/x-foo")
		})
		t.Run("PutBytes PutString PutJSON", func(t *testing.T) {
			if _, err := b.PutBytes(ctx, "bytes.bin", []byte{1}, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := b.PutString(ctx, "string.txt", "s", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := b.PutJSON(ctx, "v.json", map[string]int{"a": 1}, nil); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"bytes.bin", "string.txt", "v.json"} {
				check(t, k, "text/x-foo")
			}
		})
		t.Run("the caller's option wins", func(t *testing.T) {
			opts := &s3kit.PutOptions{ContentType: "application/json", Metadata: map[string]string{"m": "1"}}
			if _, err := b.PutJSON(ctx, "own.json", 1, opts); err != nil {
				t.Fatal(err)
			}
			check(t, "own.json", "application/json")
			if opts.CacheControl != "" {
				t.Errorf("the caller's options were modified: %+v", opts)
			}
			info, err := e.bucket.Head(ctx, "d/own.json", nil)
			if err != nil || info.Metadata["m"] != "1" {
				t.Errorf("metadata %v, %v", info.Metadata, err)
			}
		})
		t.Run("NewWriter multipart", func(t *testing.T) {
			w, err := b.NewWriter(ctx, "big.dat", &s3kit.WriterOptions{PartSize: s3kit.MinPartSize})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(bytes.Repeat([]byte("m"), s3kit.MinPartSize+1)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			check(t, "big.dat", "text/x-foo")
		})
		t.Run("Upload", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "up.html")
			if err := os.WriteFile(path, []byte("<p>"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Upload(ctx, path, "up.html", nil); err != nil {
				t.Fatal(err)
			}
			check(t, "up.html", "text/x-foo")
		})
		t.Run("Prefix keeps them", func(t *testing.T) {
			if _, err := b.Prefix("sub").PutString(ctx, "p.txt", "p", nil); err != nil {
				t.Fatal(err)
			}
			check(t, "sub/p.txt", "text/x-foo")
		})
		t.Run("not on the shared Client", func(t *testing.T) {
			plain, err := s3kit.OpenBucket(ctx, s3URL(name, "d", e.srv.Endpoint))
			if err != nil {
				t.Fatal(err)
			}
			if plain.Client() != b.Client() {
				t.Fatal("URLs with the same connection settings got different Clients")
			}
			if _, err := plain.PutString(ctx, "plain.txt", "p", nil); err != nil {
				t.Fatal(err)
			}
			info, err := e.bucket.Head(ctx, "d/plain.txt", nil)
			if err != nil || info.CacheControl != "" || info.ContentType != "text/plain; charset=utf-8" {
				t.Errorf("a handle without write parameters wrote Cache-Control %q, Content-Type %q (%v)", info.CacheControl, info.ContentType, err)
			}
		})
		t.Run("Copy takes acl and storage_class", func(t *testing.T) {
			p := faultproxy.New(e.srv.Endpoint)
			t.Cleanup(p.Close)
			cb, err := s3kit.OpenBucket(ctx, s3URL(name, "d", p.URL, "acl=private", "storage_class=STANDARD", "cache_control=no-cache"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.bucket.PutString(ctx, "d/src.txt", "src", &s3kit.PutOptions{CacheControl: "max-age=5"}); err != nil {
				t.Fatal(err)
			}
			p.Reset()
			if _, err := cb.Copy(ctx, "src.txt", "dst.txt", nil); err != nil {
				t.Fatal(err)
			}
			var copyReq *faultproxy.Request
			for _, r := range p.Requests() {
				if r.Header.Get("X-Amz-Copy-Source") != "" {
					copyReq = &r
				}
			}
			if copyReq == nil {
				t.Fatalf("no CopyObject request among %v", p.Requests())
			}
			if acl, sc := copyReq.Header.Get("X-Amz-Acl"), copyReq.Header.Get("X-Amz-Storage-Class"); acl != "private" || sc != "STANDARD" {
				t.Errorf("CopyObject sent x-amz-acl %q, x-amz-storage-class %q; want private, STANDARD", acl, sc)
			}
			// A copy keeps its source's content headers.
			info, err := e.bucket.Head(ctx, "d/dst.txt", nil)
			if err != nil || info.CacheControl != "max-age=5" {
				t.Errorf("copy: Cache-Control %q, %v; want the source's max-age=5", info.CacheControl, err)
			}
		})
	})
}

// TestURLClientsShared checks that URLs share a Client exactly when their
// connection settings are equal, also when opened concurrently (run with
// -race).
func TestURLClientsShared(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		useURLEnv(t, e)
		ctx := t.Context()
		name := e.bucket.Name()
		open := func(raw string) *s3kit.Client {
			t.Helper()
			b, err := s3kit.OpenBucket(ctx, raw)
			if err != nil {
				t.Fatalf("OpenBucket(%q): %v", raw, err)
			}
			return b.Client()
		}
		base := open(s3URL(name, "", e.srv.Endpoint))
		if c := open(s3URL(name, "other/prefix", e.srv.Endpoint, "content_type=text/x-foo")); c != base {
			t.Error("same settings, other prefix and write options: different Client")
		}
		if c := open("s3://" + name + "?endpoint=" + e.srv.Endpoint + "/"); c != base {
			t.Error("the same endpoint with a trailing slash: different Client")
		}
		p := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(p.Close)
		for _, raw := range []string{
			s3URL(name, "", p.URL),
			s3URL(name, "", e.srv.Endpoint, "checksum=CRC32C"),
			s3URL(name, "", e.srv.Endpoint, "path_style=true"),
			s3URL(name, "", e.srv.Endpoint, "region=us-west-2", "check_bucket=false"),
		} {
			if c := open(raw); c == base {
				t.Errorf("%s: the same Client as different settings", raw)
			}
		}
		if c, d := open(s3URL(name, "", e.srv.Endpoint, "checksum=crc32c")), open(s3URL(name, "", e.srv.Endpoint, "checksum=CRC32C")); c != d {
			t.Error("checksum=crc32c and CRC32C: different Clients")
		}

		// Concurrent first uses of new settings all get one Client.
		region := fmt.Sprintf("race-%s-%d", e.name, os.Getpid())
		raw := s3URL(name, "", e.srv.Endpoint, "region="+region, "check_bucket=false")
		var wg sync.WaitGroup
		got := make([]*s3kit.Client, 16)
		errs := make([]error, len(got))
		for i := range got {
			wg.Go(func() {
				b, err := s3kit.OpenBucket(ctx, raw)
				if err == nil {
					got[i] = b.Client()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if got[i] != got[0] || got[i] == base {
				t.Fatalf("concurrent OpenBucket %d got Client %p, want %p (and not %p)", i, got[i], got[0], base)
			}
		}
		if got[0].Region() != region {
			t.Errorf("Region() = %q, want %q", got[0].Region(), region)
		}
	})
}

// TestURLBadInputSendsNothing checks that bad URLs are refused with
// ErrInvalid and a message naming what was wrong, before any request
// reaches the store, and that secrets in them are not repeated.
func TestURLBadInputSendsNothing(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		useURLEnv(t, e)
		ctx := t.Context()
		p := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(p.Close)
		name := e.bucket.Name()
		ep := "?endpoint=" + p.URL
		openBucket := func(raw string) error { _, err := s3kit.OpenBucket(ctx, raw); return err }
		open := func(raw string) error { _, err := s3kit.Open(ctx, raw); return err }
		create := func(raw string) error { _, err := s3kit.Create(ctx, raw); return err }
		cases := []struct {
			name, raw, want string
			call            func(string) error
		}{
			{"scheme", "https://" + name + "/k" + ep, `scheme "https"`, open},
			{"no scheme", name + "/k", "not an s3:// URL", openBucket},
			{"no bucket", "s3:///k" + ep, "no bucket", create},
			{"bad bucket", "s3://Bad_Bucket/k" + ep, "lowercase", openBucket},
			{"fragment", "s3://" + name + "/k#frag" + ep, "fragment", open},
			{"bad escape", "s3://" + name + "/100%.txt" + ep, "%25", open},
			{"Open without key", "s3://" + name + "/" + ep, "no object key", open},
			{"Create without key", "s3://" + name + ep, "no object key", create},
			{"unknown parameter", "s3://" + name + ep + "&colour=red", `"colour"`, openBucket},
			{"repeated parameter", "s3://" + name + ep + "&endpoint=" + p.URL, "endpoint is given twice", openBucket},
			{"path_style", "s3://" + name + ep + "&path_style=maybe", "path_style", openBucket},
			{"checksum", "s3://" + name + "/k" + ep + "&checksum=md5", "checksum", create},
			{"acl", "s3://" + name + "/k" + ep + "&acl=public", "acl", create},
			{"storage_class", "s3://" + name + ep + "&storage_class=cold", "storage_class", openBucket},
			{"sse", "s3://" + name + ep + "&sse=rot13", "sse", openBucket},
			{"content_type", "s3://" + name + "/k" + ep + "&content_type=a%0Ab", "content_type", create},
			{"endpoint", "s3://" + name + "?endpoint=ftp://127.0.0.1:1", "endpoint", openBucket},
			{"credentials", "s3://AKIAEXAMPLE:hunter2@" + name + "/k" + ep, "AWS_ACCESS_KEY_ID", open},
			{"credentials in endpoint", "s3://" + name + "/k?endpoint=http://AKIAEXAMPLE:hunter2@" + strings.TrimPrefix(p.URL, "http://"), "AWS_ACCESS_KEY_ID", create},
			{"secret parameter", "s3://" + name + ep + "&aws_secret_access_key=hunter2", "AWS_ACCESS_KEY_ID", openBucket},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := p.Count()
				err := c.call(c.raw)
				if !errors.Is(err, s3kit.ErrInvalid) || !errors.Is(err, fs.ErrInvalid) {
					t.Fatalf("got %v, want ErrInvalid", err)
				}
				var se *s3kit.Error
				if !errors.As(err, &se) {
					t.Errorf("%T is not an *s3kit.Error", err)
				}
				if !strings.Contains(err.Error(), c.want) {
					t.Errorf("message %q does not say %q", err, c.want)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("message %q contains the secret", err)
				}
				if n := p.Count() - before; n != 0 {
					t.Errorf("%d requests reached the server", n)
				}
			})
		}

		t.Run("invalid WithPutDefaults", func(t *testing.T) {
			b, err := s3kit.OpenBucket(ctx, "s3://"+name+ep+"&check_bucket=false")
			if err != nil {
				t.Fatal(err)
			}
			bad := b.WithPutDefaults(&s3kit.PutOptions{ACL: "public"})
			before := p.Count()
			if _, err := bad.PutString(ctx, "k", "v", nil); !errors.Is(err, s3kit.ErrInvalid) || !strings.Contains(err.Error(), "canned ACL") {
				t.Errorf("Put: %v, want ErrInvalid naming the ACL", err)
			}
			if _, _, err := bad.GetBytes(ctx, "k"); !errors.Is(err, s3kit.ErrInvalid) {
				t.Errorf("GetBytes: %v, want ErrInvalid", err)
			}
			if _, err := b.WithPutDefaults(&s3kit.PutOptions{IfNoneMatch: "*"}).PutString(ctx, "k", "v", nil); !errors.Is(err, s3kit.ErrInvalid) {
				t.Errorf("IfNoneMatch default: %v, want ErrInvalid", err)
			}
			// Valid defaults and options that are invalid only together.
			tagged := b.WithPutDefaults(&s3kit.PutOptions{Tags: map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6"}})
			own := map[string]string{"g": "1", "h": "2", "i": "3", "j": "4", "k": "5"}
			if _, err := tagged.PutString(ctx, "k", "v", &s3kit.PutOptions{Tags: own}); !errors.Is(err, s3kit.ErrInvalid) || !strings.Contains(err.Error(), "11 tags") {
				t.Errorf("11 merged tags: %v, want ErrInvalid", err)
			}
			if n := p.Count() - before; n != 0 {
				t.Errorf("%d requests reached the server", n)
			}
		})
	})
}

func TestOpenFSURL(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		useURLEnv(t, e)
		ctx := t.Context()
		for k, v := range map[string]string{"www/index.html": "<h1>hi</h1>", "www/css/a.css": "a{}", "other.txt": "x"} {
			if _, err := e.bucket.PutString(ctx, k, v, nil); err != nil {
				t.Fatal(err)
			}
		}
		fsys, err := s3kit.OpenFS(ctx, s3URL(e.bucket.Name(), "www", e.srv.Endpoint))
		if err != nil {
			t.Fatal(err)
		}
		if err := fstest.TestFS(fsys, "index.html", "css/a.css"); err != nil {
			t.Fatal(err)
		}
		if _, err := s3kit.OpenFS(ctx, s3URL("no-such-bucket-openfs", "", e.srv.Endpoint)); !errors.Is(err, s3kit.ErrBucketNotExist) {
			t.Fatalf("OpenFS of a missing bucket = %v; want ErrBucketNotExist", err)
		}
		if _, err := s3kit.OpenFS(ctx, "s3://"+e.bucket.Name()+"?endpoint="+e.srv.Endpoint+"&bogus=1"); !errors.Is(err, s3kit.ErrInvalid) {
			t.Fatalf("OpenFS with an unknown parameter = %v; want ErrInvalid", err)
		}
	})
}

// TestURLOpenerRefuses checks that an opener refuses URLs whose endpoint,
// profile or parameters it does not allow, with ErrInvalid naming the
// parameter, before any request reaches the store and before any Client
// is made; and that the zero opener refuses endpoint and profile.
func TestURLOpenerRefuses(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		useURLEnv(t, e)
		ctx := t.Context()
		p := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(p.Close)
		name := e.bucket.Name()
		strict := &s3kit.URLOpener{
			AllowEndpoints: []string{e.srv.Endpoint},
			AllowProfiles:  []string{"allowed"},
			AllowParams:    []string{"region", "check_bucket", "content_type"},
		}
		zero := &s3kit.URLOpener{}
		t.Cleanup(func() { strict.Close(); zero.Close() })
		calls := map[string]func(o *s3kit.URLOpener, raw string) error{
			"OpenBucket": func(o *s3kit.URLOpener, raw string) error { _, err := o.OpenBucket(ctx, raw); return err },
			"Open":       func(o *s3kit.URLOpener, raw string) error { _, err := o.Open(ctx, raw); return err },
			"Create":     func(o *s3kit.URLOpener, raw string) error { _, err := o.Create(ctx, raw); return err },
			"OpenFS":     func(o *s3kit.URLOpener, raw string) error { _, err := o.OpenFS(ctx, raw); return err },
		}
		for _, c := range []struct {
			name  string
			o     *s3kit.URLOpener
			query string
			want  string
		}{
			{"endpoint not allowed", strict, "endpoint=" + p.URL, "URL parameter endpoint"},
			{"internal endpoint", strict, "endpoint=http://10.0.0.5:8080", "URL parameter endpoint"},
			{"endpoint by another name", strict, "endpoint=" + strings.Replace(e.srv.Endpoint, "127.0.0.1", "localhost", 1), "URL parameter endpoint"},
			{"profile not allowed", strict, "profile=prod-admin", "URL parameter profile"},
			{"parameter not allowed", strict, "endpoint=" + e.srv.Endpoint + "&acl=private", "URL parameter acl"},
			{"zero opener, endpoint", zero, "endpoint=" + p.URL, "URL parameter endpoint"},
			{"zero opener, profile", zero, "profile=allowed", "URL parameter profile"},
		} {
			for op, call := range calls {
				t.Run(c.name+"/"+op, func(t *testing.T) {
					before := p.Count()
					err := call(c.o, "s3://"+name+"/k?"+c.query)
					if !errors.Is(err, s3kit.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
						t.Fatalf("got %v, want ErrInvalid naming %q", err, c.want)
					}
					var se *s3kit.Error
					if !errors.As(err, &se) || se.Op != op {
						t.Errorf("%#v is not an *s3kit.Error of %s", err, op)
					}
					if n := p.Count() - before; n != 0 {
						t.Errorf("%d requests reached the server", n)
					}
					if n := s3kit.URLOpenerClients(c.o); n != 0 {
						t.Errorf("the opener made %d Clients", n)
					}
				})
			}
		}

		// What the strict opener lists works.
		w, err := strict.Create(ctx, s3URL(name, "k", e.srv.Endpoint, "content_type=text/x-listed", "region="+e.srv.Region))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "listed")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if info, err := e.bucket.Head(ctx, "k", nil); err != nil || info.ContentType != "text/x-listed" {
			t.Errorf("written through the strict opener: %+v, %v", info, err)
		}
	})
}

// TestURLOpenerAllows checks that what an opener allows works against the
// store: an allowed endpoint (written in another case, with a trailing
// slash), an allowed profile of the shared config file, and allowed write
// parameters.
func TestURLOpenerAllows(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		useURLEnv(t, e)
		ctx := t.Context()
		p := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(p.Close)
		name := e.bucket.Name()
		o := &s3kit.URLOpener{AllowEndpoints: []string{strings.ToUpper(p.URL) + "/"}, AllowProfiles: []string{"allowed"}}
		t.Cleanup(func() { o.Close() })

		w, err := o.Create(ctx, s3URL(name, "a b.txt", p.URL, "content_type=text/x-allowed"))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "allowed")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if p.Count() == 0 {
			t.Error("no request went through the allowed endpoint")
		}
		r, err := o.Open(ctx, s3URL(name, "a b.txt", p.URL))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(got) != "allowed" || r.Info().ContentType != "text/x-allowed" {
			t.Errorf("read %q (%s), %v", got, r.Info().ContentType, err)
		}

		// A profile of the shared config file, with the server's keys; the
		// environment's keys are wrong, so only the profile can succeed.
		config := filepath.Join(t.TempDir(), "config")
		profile := fmt.Sprintf("[profile allowed]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = %s\n", e.srv.AccessKey, e.srv.SecretKey, e.srv.Region)
		if err := os.WriteFile(config, []byte(profile), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AWS_CONFIG_FILE", config)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDWRONG")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
		_, err = o.OpenBucket(ctx, "s3://"+name+"?profile=allowed&endpoint="+e.srv.Endpoint+"/")
		if !errors.Is(err, s3kit.ErrInvalid) {
			t.Fatalf("an endpoint allowed only through the proxy: %v, want ErrInvalid", err)
		}
		b, err := o.OpenBucket(ctx, "s3://"+name+"?profile=allowed&endpoint="+p.URL)
		if err != nil {
			t.Fatal(err)
		}
		if s, _, err := b.GetString(ctx, "a b.txt"); err != nil || s != "allowed" {
			t.Errorf("through the profile: %q, %v", s, err)
		}
	})
}

// TestURLOpenerClients checks that an opener's Clients are shared by
// concurrent opens of the same settings (run with -race), that it keeps
// at most MaxClients, that handles, Readers and Writers of a dropped
// Client keep working, and Close.
func TestURLOpenerClients(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		useURLEnv(t, e)
		ctx := t.Context()
		name := e.bucket.Name()
		o := &s3kit.URLOpener{AllowEndpoints: []string{e.srv.Endpoint}, MaxClients: 2}
		t.Cleanup(func() { o.Close() })
		raw := s3URL(name, "", e.srv.Endpoint)

		var wg sync.WaitGroup
		got := make([]*s3kit.Bucket, 16)
		errs := make([]error, len(got))
		for i := range got {
			wg.Go(func() { got[i], errs[i] = o.OpenBucket(ctx, raw) })
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if got[i].Client() != got[0].Client() {
				t.Fatalf("concurrent OpenBucket %d got another Client", i)
			}
		}
		b := got[0]

		// In use: a handle, a Reader half read, a Writer half written.
		data := bytes.Repeat([]byte("0123456789"), 3<<20/10)
		if _, err := b.PutBytes(ctx, "big.bin", data, nil); err != nil {
			t.Fatal(err)
		}
		r, err := o.Open(ctx, s3URL(name, "big.bin", e.srv.Endpoint))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		first := make([]byte, 1<<20)
		if _, err := io.ReadFull(r, first); err != nil {
			t.Fatal(err)
		}
		w, err := o.Create(ctx, s3URL(name, "new.txt", e.srv.Endpoint))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "written ")

		for i := range 5 {
			if _, err := o.OpenBucket(ctx, s3URL(name, "", e.srv.Endpoint, fmt.Sprintf("region=evict-%d", i), "check_bucket=false")); err != nil {
				t.Fatal(err)
			}
			if n := s3kit.URLOpenerClients(o); n > 2 {
				t.Fatalf("%d Clients kept, want at most 2", n)
			}
		}
		again, err := o.OpenBucket(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		if again.Client() == b.Client() {
			t.Fatal("the first Client was not dropped")
		}

		rest, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(append(first, rest...), data) {
			t.Errorf("Reader after its Client was dropped: %d bytes, %v", len(first)+len(rest), err)
		}
		io.WriteString(w, "after")
		if err := w.Close(); err != nil {
			t.Fatalf("Writer after its Client was dropped: %v", err)
		}
		if _, err := b.PutString(ctx, "handle.txt", "h", nil); err != nil {
			t.Errorf("handle after its Client was dropped: %v", err)
		}
		if s, _, err := again.GetString(ctx, "new.txt"); err != nil || s != "written after" {
			t.Errorf("new.txt: %q, %v", s, err)
		}

		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := o.OpenBucket(ctx, raw); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("OpenBucket after Close: %v, want fs.ErrClosed", err)
		}
		if s, _, err := again.GetString(ctx, "handle.txt"); err != nil || s != "h" {
			t.Errorf("handle after Close: %q, %v", s, err)
		}
	})
}

package s3kit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/s3test"
)

// requestCounter counts the requests a client sends, to tell a retried
// failure from one that was not.
// requestCounter counts the requests that go through it.
type requestCounter struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (c *requestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// tlsEnv is an env on a server started by s3test.StartTLS, whose client
// trusts the server's certificate and counts its requests.
type tlsEnv struct {
	*env
	requests *requestCounter
}

// trustingClient returns an HTTP client that trusts the certificate of
// srv, with the settings s3kit's own transport has that matter here.
func trustingClient(t *testing.T, srv *s3test.Server) (*http.Client, *requestCounter) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: srv.RootCAs}
	tr.DisableCompression = true
	t.Cleanup(tr.CloseIdleConnections)
	ct := &requestCounter{base: tr}
	return &http.Client{Transport: ct}, ct
}

// eachTLSServer starts each selected server over TLS for t and runs fn as
// a subtest per server; fn's subtests share the server, each with a
// bucket of its own (newTLSEnv).
func eachTLSServer(t *testing.T, fn func(t *testing.T, srv *s3test.Server)) {
	t.Helper()
	if len(servers) == 0 {
		t.Skip("no servers selected (S3KIT_TEST_SERVERS=none)")
	}
	for _, name := range s3test.Names() {
		t.Run(name, func(t *testing.T) {
			fn(t, s3test.StartTLSTB(t, name))
		})
	}
}

// newTLSEnv returns a client of srv that trusts its certificate, with
// small parts so that multipart paths are cheap, and a fresh bucket.
func newTLSEnv(t *testing.T, srv *s3test.Server) *tlsEnv {
	t.Helper()
	hc, ct := trustingClient(t, srv)
	c := newClient(t, srv, s3kit.Config{HTTPClient: hc, PartSize: s3kit.MinPartSize})
	return &tlsEnv{env: &env{name: srv.Name, srv: srv, client: c, bucket: newBucket(t, c)}, requests: ct}
}

func newKey(t testing.TB) (*s3kit.SSECustomerKey, string) {
	t.Helper()
	raw := make([]byte, s3kit.SSECustomerKeySize)
	rand.Read(raw)
	k, err := s3kit.NewSSECustomerKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k, base64.StdEncoding.EncodeToString(raw)
}

// requireSSEC skips t on stores that do not implement SSE-C.
func (e *tlsEnv) requireSSEC(t *testing.T) { e.requireFeature(t, "SSE-C") }

// TestSSEC covers customer-provided keys on every path that reads or
// writes an object, over TLS, as stores require.
func TestSSEC(t *testing.T) {
	eachTLSServer(t, func(t *testing.T, srv *s3test.Server) {
		t.Run("put get head range", func(t *testing.T) {
			e := newTLSEnv(t, srv)
			e.requireSSEC(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			k1, _ := newKey(t)
			k2, _ := newKey(t)
			b, eb := e.bucket, e.bucket.WithSSECustomerKey(k1)
			info, err := eb.PutString(ctx, "a.txt", "hello, encrypted world", nil)
			if err != nil {
				t.Fatal(err)
			}
			if info.SSECustomerKeyMD5 != k1.MD5() {
				t.Errorf("Put: SSECustomerKeyMD5 = %q, want %q", info.SSECustomerKeyMD5, k1.MD5())
			}
			h, err := eb.Head(ctx, "a.txt", nil)
			if err != nil || h.SSECustomerKeyMD5 != k1.MD5() || h.Size != 22 {
				t.Errorf("Head = %+v, %v; want size 22 and the key's MD5", h, err)
			}
			if s, _, err := eb.GetString(ctx, "a.txt"); err != nil || s != "hello, encrypted world" {
				t.Errorf("GetString = %q, %v", s, err)
			}
			// Per call, on a handle without a key.
			if _, err := b.Head(ctx, "a.txt", &s3kit.HeadOptions{SSECustomerKey: k1}); err != nil {
				t.Errorf("Head with HeadOptions.SSECustomerKey: %v", err)
			}
			r, err := b.NewReader(ctx, "a.txt", &s3kit.ReaderOptions{SSECustomerKey: k1, Offset: 7, Length: 9})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || string(got) != "encrypted" {
				t.Errorf("ranged read = %q, %v; want \"encrypted\"", got, err)
			}
			if _, err := b.PutString(ctx, "b.txt", "per call", &s3kit.PutOptions{SSECustomerKey: k2}); err != nil {
				t.Fatal(err)
			}
			if s, _, err := b.WithSSECustomerKey(k2).GetString(ctx, "b.txt"); err != nil || s != "per call" {
				t.Errorf("GetString of a per-call write = %q, %v", s, err)
			}

			// Failures that no retry can fix are sent once.
			for _, c := range []struct {
				name string
				want error
				call func() error
			}{
				{"Head without the key", s3kit.ErrInvalid, func() error { return errOf(b.Head(ctx, "a.txt", nil)) }},
				{"GetBytes without the key", s3kit.ErrInvalid, func() error { _, _, err := b.GetBytes(ctx, "a.txt"); return err }},
				{"Head with another key", s3kit.ErrPermission, func() error { return errOf(b.WithSSECustomerKey(k2).Head(ctx, "a.txt", nil)) }},
				{"GetBytes with another key", s3kit.ErrPermission, func() error {
					_, _, err := b.WithSSECustomerKey(k2).GetBytes(ctx, "a.txt")
					return err
				}},
			} {
				before := e.requests.n.Load()
				err := c.call()
				if !errors.Is(err, c.want) {
					t.Errorf("%s: %v, want %v", c.name, err, c.want)
				}
				if n := e.requests.n.Load() - before; n != 1 {
					t.Errorf("%s: %d requests, want 1 (not retried)", c.name, n)
				}
				// S3's own words for a GET without the key are clear too.
				if msg := err.Error(); !strings.Contains(msg, "SSE-C") && !strings.Contains(msg, "Server Side Encryption") {
					t.Errorf("%s: %q does not name SSE-C as the likely cause", c.name, err)
				}
			}
			if _, err := b.PutString(ctx, "plain.txt", "plain", nil); err != nil {
				t.Fatal(err)
			}
			_, herr := eb.Head(ctx, "plain.txt", nil)
			_, _, gerr := eb.GetBytes(ctx, "plain.txt")
			if why, lacking := lacks[e.name]["SSE-C key on a plain object"]; lacking {
				// Recorded, so that a store that starts refusing it is seen.
				if herr != nil || gerr != nil {
					t.Errorf("%s (%s): Head %v, GetBytes %v; want both to succeed", e.name, why, herr, gerr)
				}
			} else {
				if !errors.Is(herr, s3kit.ErrInvalid) {
					t.Errorf("Head of a plain object with a key: %v, want ErrInvalid", herr)
				}
				if !errors.Is(gerr, s3kit.ErrInvalid) {
					t.Errorf("GetBytes of a plain object with a key: %v, want ErrInvalid", gerr)
				}
			}
		})

		t.Run("writer multipart and reader", func(t *testing.T) {
			e := newTLSEnv(t, srv)
			e.requireSSEC(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			k, _ := newKey(t)
			eb := e.bucket.WithSSECustomerKey(k)
			data := randomBytes(2*s3kit.MinPartSize + 1) // three parts, the last of one byte
			w, err := eb.NewWriter(ctx, "big.bin", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			h, err := eb.Head(ctx, "big.bin", nil)
			if err != nil || h.Size != int64(len(data)) || h.SSECustomerKeyMD5 != k.MD5() {
				t.Fatalf("Head = %+v, %v", h, err)
			}
			// Every range GET carries the key: parts of 64 KiB, read ahead
			// in parallel, and ReadAt across a part boundary.
			r, err := eb.NewReader(ctx, "big.bin", &s3kit.ReaderOptions{PartSize: 64 << 10, Concurrency: 4})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("ReadAll: %d bytes, %v; equal %v", len(got), err, bytes.Equal(got, data))
			}
			p := make([]byte, 10)
			off := int64(s3kit.MinPartSize - 5)
			if _, err := r.ReadAt(p, off); err != nil || !bytes.Equal(p, data[off:off+10]) {
				t.Errorf("ReadAt across the part boundary: %v", err)
			}
			// Put of a plain io.Reader above the part size streams through
			// a Writer too.
			if _, err := eb.Put(ctx, "streamed.bin", io.MultiReader(bytes.NewReader(data)), nil); err != nil {
				t.Fatal(err)
			}
			if got, _, err := eb.GetBytes(ctx, "streamed.bin"); err != nil || !bytes.Equal(got, data) {
				t.Errorf("GetBytes of the streamed put: %v", err)
			}
		})

		t.Run("upload download", func(t *testing.T) {
			e := newTLSEnv(t, srv)
			e.requireSSEC(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			k, _ := newKey(t)
			eb := e.bucket.WithSSECustomerKey(k)
			dir := t.TempDir()
			data := randomBytes(s3kit.MinPartSize + 17)
			src := filepath.Join(dir, "src.bin")
			if err := os.WriteFile(src, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := eb.Upload(ctx, src, "up.bin", nil); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, "dst.bin")
			if _, err := eb.Download(ctx, "up.bin", dst, nil); err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, data) {
				t.Errorf("downloaded file differs: %v", err)
			}
			// Upload with the key of one call.
			if _, err := e.bucket.Upload(ctx, src, "up2.bin", &s3kit.TransferOptions{Put: &s3kit.PutOptions{SSECustomerKey: k}}); err != nil {
				t.Fatal(err)
			}
			if h, err := eb.Head(ctx, "up2.bin", nil); err != nil || h.SSECustomerKeyMD5 != k.MD5() {
				t.Errorf("Head of a per-call upload = %+v, %v", h, err)
			}
			nokey := filepath.Join(dir, "nokey.bin")
			if _, err := e.bucket.Download(ctx, "up.bin", nokey, nil); !errors.Is(err, s3kit.ErrInvalid) {
				t.Errorf("Download without the key: %v, want ErrInvalid", err)
			}
			if _, err := os.Stat(nokey); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed download left %s: %v", nokey, err)
			}
		})

		t.Run("copy", func(t *testing.T) {
			e := newTLSEnv(t, srv)
			e.requireSSEC(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			k1, _ := newKey(t)
			k2, _ := newKey(t)
			b, eb := e.bucket, e.bucket.WithSSECustomerKey(k1)
			if _, err := eb.PutString(ctx, "src.txt", "secret", &s3kit.PutOptions{Metadata: map[string]string{"a": "1"}}); err != nil {
				t.Fatal(err)
			}
			check := func(key string, k *s3kit.SSECustomerKey) {
				t.Helper()
				s, info, err := b.WithSSECustomerKey(k).GetString(ctx, key)
				if err != nil || s != "secret" || info.SSECustomerKeyMD5 != k.MD5() {
					t.Errorf("%s with %v: %q, md5 %q, %v", key, k, s, info.SSECustomerKeyMD5, err)
				}
			}
			// Same handle: the copy keeps the handle's key.
			if _, err := eb.Copy(ctx, "src.txt", "same.txt", nil); err != nil {
				t.Fatal(err)
			}
			check("same.txt", k1)
			// SSE-C to SSE-C with a new key.
			if _, err := eb.Copy(ctx, "src.txt", "rekeyed.txt", &s3kit.CopyOptions{SSECustomerKey: k2}); err != nil {
				t.Fatal(err)
			}
			check("rekeyed.txt", k2)
			if _, err := eb.Head(ctx, "rekeyed.txt", nil); !errors.Is(err, s3kit.ErrPermission) {
				t.Errorf("rekeyed copy with the old key: %v, want ErrPermission", err)
			}
			// SSE-C to plain, through a handle without a key.
			if _, err := b.Copy(ctx, "src.txt", "plain.txt", &s3kit.CopyOptions{SourceSSECustomerKey: k1}); err != nil {
				t.Fatal(err)
			}
			if s, info, err := b.GetString(ctx, "plain.txt"); err != nil || s != "secret" || info.SSECustomerKeyMD5 != "" {
				t.Errorf("plain copy: %q, md5 %q, %v", s, info.SSECustomerKeyMD5, err)
			}
			// Plain to SSE-C.
			if _, err := b.Copy(ctx, "plain.txt", "enc.txt", &s3kit.CopyOptions{SSECustomerKey: k2}); err != nil {
				t.Fatal(err)
			}
			check("enc.txt", k2)
			// Replacing the metadata reads the source's headers with its key.
			if _, err := eb.Copy(ctx, "src.txt", "meta.txt", &s3kit.CopyOptions{ReplaceMetadata: true, Metadata: map[string]string{"b": "2"}}); err != nil {
				t.Fatal(err)
			}
			if h, err := eb.Head(ctx, "meta.txt", nil); err != nil || h.Metadata["b"] != "2" || h.ContentType != "text/plain; charset=utf-8" {
				t.Errorf("copy with new metadata: %+v, %v", h, err)
			}
			if err := eb.SetMetadata(ctx, "meta.txt", map[string]string{"c": "3"}); err != nil {
				t.Fatal(err)
			}
			if h, err := eb.Head(ctx, "meta.txt", nil); err != nil || h.Metadata["c"] != "3" || h.SSECustomerKeyMD5 != k1.MD5() {
				t.Errorf("SetMetadata of an SSE-C object: %+v, %v", h, err)
			}
			if err := eb.Move(ctx, "meta.txt", "moved.txt", nil); err != nil {
				t.Fatal(err)
			}
			check("moved.txt", k1)
			// Through a handle without a key, the source's key given to
			// Move alone: its delete, pinned to the ETag, needs no key.
			if err := b.Move(ctx, "moved.txt", "moved2.txt", &s3kit.CopyOptions{SourceSSECustomerKey: k1, SSECustomerKey: k1}); err != nil {
				t.Fatalf("Move with the source's key as an option: %v", err)
			}
			check("moved2.txt", k1)
			if ok, err := b.Exists(ctx, "moved.txt"); ok || err != nil {
				t.Errorf("source after Move: %v, %v", ok, err)
			}
			// A copy of an SSE-C source without its key fails and is not
			// retried.
			before := e.requests.n.Load()
			if _, err := b.Copy(ctx, "src.txt", "nokey.txt", nil); !errors.Is(err, s3kit.ErrInvalid) {
				t.Errorf("copy without the source's key: %v", err)
			}
			// The CopyObject once, and the HEAD that looks whether the
			// source is too large for one copy.
			if n := e.requests.n.Load() - before; n > 2 {
				t.Errorf("copy without the source's key: %d requests, want at most 2", n)
			}
		})

		t.Run("multipart copy", func(t *testing.T) {
			e := newTLSEnv(t, srv)
			e.requireSSEC(t)
			e.requireFeature(t, "SSE-C multipart copy")
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			k1, _ := newKey(t)
			k2, _ := newKey(t)
			eb := e.bucket.WithSSECustomerKey(k1)
			data := randomBytes(2*s3kit.MinPartSize + 3)
			if _, err := eb.PutBytes(ctx, "src.bin", data, &s3kit.PutOptions{ContentLanguage: "de"}); err != nil {
				t.Fatal(err)
			}
			o := &s3kit.CopyOptions{SSECustomerKey: k2, PartSize: s3kit.MinPartSize, MultipartThreshold: s3kit.MinPartSize}
			info, err := eb.Copy(ctx, "src.bin", "dst.bin", o)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(strings.Trim(info.ETag, `"`), "-3") {
				t.Errorf("ETag %s is not that of a 3-part upload", info.ETag)
			}
			got, ginfo, err := e.bucket.WithSSECustomerKey(k2).GetBytes(ctx, "dst.bin")
			if err != nil || !bytes.Equal(got, data) || ginfo.ContentLanguage != "de" {
				t.Errorf("multipart copy: %d bytes, language %q, %v", len(got), ginfo.ContentLanguage, err)
			}
			// SetMetadata in parts, in place, keeps the key.
			if err := s3kit.SetMetadataAbove(ctx, eb, "src.bin", map[string]string{"x": "y"}, s3kit.MinPartSize); err != nil {
				t.Fatal(err)
			}
			if got, info, err := eb.GetBytes(ctx, "src.bin"); err != nil || !bytes.Equal(got, data) || info.Metadata["x"] != "y" {
				t.Errorf("SetMetadata in parts: %v, metadata %v", err, info.Metadata)
			}
		})

		t.Run("presign", func(t *testing.T) {
			e := newTLSEnv(t, srv)
			e.requireSSEC(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			k, b64 := newKey(t)
			hc, _ := trustingClient(t, srv)
			u, header, err := e.bucket.PresignPut(ctx, "up.txt", time.Minute, &s3kit.PresignOptions{SSECustomerKey: k})
			if err != nil {
				t.Fatal(err)
			}
			if header.Get("X-Amz-Server-Side-Encryption-Customer-Key") != b64 {
				t.Errorf("PresignPut header lacks the key: %v", header.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5"))
			}
			if unq, _ := url.QueryUnescape(u); strings.Contains(unq, b64) {
				t.Errorf("the presigned URL holds the key")
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPut, u, strings.NewReader("via URL"))
			req.Header = header
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("PUT to the presigned URL: %s", resp.Status)
			}
			eb := e.bucket.WithSSECustomerKey(k)
			if s, info, err := eb.GetString(ctx, "up.txt"); err != nil || s != "via URL" || info.SSECustomerKeyMD5 != k.MD5() {
				t.Errorf("object uploaded through the URL: %q, %+v, %v", s, info, err)
			}
			gu, gheader, err := eb.PresignGet(ctx, "up.txt", time.Minute, nil)
			if err != nil {
				t.Fatal(err)
			}
			if unq, _ := url.QueryUnescape(gu); strings.Contains(unq, b64) {
				t.Errorf("the presigned URL holds the key")
			}
			get := func(h http.Header) (int, string) {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, gu, nil)
				req.Header = h
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(body)
			}
			if code, body := get(gheader); code != http.StatusOK || body != "via URL" {
				t.Errorf("GET of the presigned URL with its headers: %d %q", code, body)
			}
			if code, _ := get(http.Header{}); code == http.StatusOK {
				t.Errorf("GET of the presigned URL without the key's headers succeeded")
			}
			// Without a key, PresignGet's header is empty, never nil.
			if _, h, err := e.bucket.PresignGet(ctx, "up.txt", time.Minute, nil); err != nil || h == nil || len(h) != 0 {
				t.Errorf("PresignGet without a key: header %v, %v", h, err)
			}
		})

		t.Run("sync", func(t *testing.T) {
			e := newTLSEnv(t, srv)
			e.requireSSEC(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			k1, _ := newKey(t)
			k2, _ := newKey(t)
			src := t.TempDir()
			files := map[string][]byte{"a.txt": []byte("aaa"), "d/b.bin": randomBytes(s3kit.MinPartSize + 1)}
			for p, data := range files {
				os.MkdirAll(filepath.Join(src, filepath.Dir(p)), 0o700)
				if err := os.WriteFile(filepath.Join(src, p), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			eb1 := e.bucket.Prefix("one").WithSSECustomerKey(k1)
			eb2 := newBucket(t, e.client).WithSSECustomerKey(k2)
			plain := e.bucket.Prefix("plain")
			if _, err := s3kit.Sync(ctx, s3kit.LocalDir(src), eb1, nil); err != nil {
				t.Fatal(err)
			}
			// Between buckets with different keys, and to a plain prefix.
			if res, err := s3kit.Sync(ctx, eb1, eb2, nil); err != nil || res.Copied.Files != 2 {
				t.Fatalf("Sync k1 to k2: %+v, %v", res, err)
			}
			if res, err := s3kit.Sync(ctx, eb2, plain, nil); err != nil || res.Copied.Files != 2 {
				t.Fatalf("Sync k2 to plain: %+v, %v", res, err)
			}
			// SyncOptions.Put's key encrypts the copies too.
			k3, _ := newKey(t)
			eb3 := e.bucket.Prefix("three").WithSSECustomerKey(k3)
			if res, err := s3kit.Sync(ctx, eb2, e.bucket.Prefix("three"), &s3kit.SyncOptions{Put: &s3kit.PutOptions{SSECustomerKey: k3}}); err != nil || res.Copied.Files != 2 {
				t.Fatalf("Sync with SyncOptions.Put.SSECustomerKey: %+v, %v", res, err)
			}
			for p := range files {
				if h, err := eb3.Head(ctx, p, nil); err != nil || h.SSECustomerKeyMD5 != k3.MD5() {
					t.Errorf("k3 %s: %+v, %v", p, h, err)
				}
				if h, err := plain.Head(ctx, p, nil); err != nil || h.SSECustomerKeyMD5 != "" {
					t.Errorf("plain %s: %+v, %v", p, h, err)
				}
				if h, err := eb2.Head(ctx, p, nil); err != nil || h.SSECustomerKeyMD5 != k2.MD5() {
					t.Errorf("k2 %s: %+v, %v", p, h, err)
				}
			}
			back := t.TempDir()
			if _, err := s3kit.Sync(ctx, eb2, s3kit.LocalDir(back), nil); err != nil {
				t.Fatal(err)
			}
			for p, data := range files {
				if got, err := os.ReadFile(filepath.Join(back, p)); err != nil || !bytes.Equal(got, data) {
					t.Errorf("%s after the round trip: %v", p, err)
				}
			}
			// Compared by content, nothing is copied again.
			if res, err := s3kit.Sync(ctx, s3kit.LocalDir(src), eb1, &s3kit.SyncOptions{Checksum: true}); err != nil || res.Copied.Files != 0 {
				t.Errorf("second Sync with Checksum: %+v, %v", res, err)
			}
		})

		t.Run("fs", func(t *testing.T) {
			e := newTLSEnv(t, srv)
			e.requireSSEC(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			k, _ := newKey(t)
			fsys := e.bucket.WithSSECustomerKey(k).FS(ctx)
			if err := fsys.WriteFile("d/a.txt", []byte("in the vault"), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, err := fs.ReadFile(fsys, "d/a.txt"); err != nil || string(got) != "in the vault" {
				t.Errorf("ReadFile = %q, %v", got, err)
			}
			if st, err := fs.Stat(fsys, "d/a.txt"); err != nil || st.Size() != 12 {
				t.Errorf("Stat = %v, %v", st, err)
			}
			f, err := fsys.OpenFile("d/a.txt", os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(0, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte("!")); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if h, err := e.bucket.WithSSECustomerKey(k).Head(ctx, "d/a.txt", nil); err != nil || h.Size != 13 || h.SSECustomerKeyMD5 != k.MD5() {
				t.Errorf("after the read-write file: %+v, %v", h, err)
			}
			if _, err := fs.ReadFile(e.bucket.FS(ctx), "d/a.txt"); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("ReadFile without the key: %v, want ErrInvalid", err)
			}
		})

		t.Run("store that ignores SSE-C", func(t *testing.T) {
			e := newTLSEnv(t, srv)
			if _, ok := lacks[e.name]["SSE-C"]; !ok {
				t.Skipf("%s supports SSE-C", e.name)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			k, _ := newKey(t)
			eb := e.bucket.WithSSECustomerKey(k)
			// A single PUT is checked: S3 and MinIO echo the key's MD5.
			if _, err := eb.PutString(ctx, "a.txt", "x", nil); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "ignored") {
				t.Errorf("Put with a key the store ignores: %v, want ErrUnsupported", err)
			}
		})

		t.Run("key not in errors or logs", func(t *testing.T) {
			e := newTLSEnv(t, srv)
			e.requireSSEC(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			k, b64 := newKey(t)
			other, b64other := newKey(t)
			// Retries logged at debug level: the first GETs are answered
			// 503 SlowDown.
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			hc, _ := trustingClient(t, srv)
			sd := &slowDownGets{base: hc.Transport}
			sd.n.Store(2)
			hc.Transport = sd
			c := newClient(t, srv, s3kit.Config{Logger: log, HTTPClient: hc, RetryBaseDelay: time.Millisecond})
			pb := c.Bucket(e.bucket.Name()).WithSSECustomerKey(k)
			if _, err := e.bucket.WithSSECustomerKey(k).PutString(ctx, "a.txt", "x", nil); err != nil {
				t.Fatal(err)
			}
			if _, _, err := pb.GetString(ctx, "a.txt"); err != nil {
				t.Fatalf("GetString through the proxy: %v", err)
			}
			if !strings.Contains(logs.String(), "retrying") {
				t.Errorf("no retry was logged: %s", logs.String())
			}
			_, _, err := e.bucket.WithSSECustomerKey(other).GetString(ctx, "a.txt")
			if err == nil {
				t.Fatal("GetString with another key succeeded")
			}
			opts := &s3kit.CopyOptions{SSECustomerKey: k, SourceSSECustomerKey: other}
			for _, s := range []string{
				logs.String(), err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%v", errors.Unwrap(err)),
				fmt.Sprintf("%+v", opts), fmt.Sprintf("%#v", opts), fmt.Sprintf("%v", *opts),
			} {
				for _, secret := range []string{b64, b64other} {
					if strings.Contains(s, secret) {
						t.Errorf("the key is in %q", s)
					}
				}
			}
		})
	})
}

// slowDownGets answers the first n GET requests with 503 SlowDown, as S3
// does under load, without sending them.
type slowDownGets struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (s *slowDownGets) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && s.n.Add(-1) >= 0 {
		body := "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/xml"}}, Body: io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)), Request: r}, nil
	}
	return s.base.RoundTrip(r)
}

// A key never prints itself, whatever the verb, and a key of the wrong
// size is refused with ErrInvalid.
func TestSSECustomerKeyRedacted(t *testing.T) {
	raw := bytes.Repeat([]byte("k"), 32)
	k, err := s3kit.NewSSECustomerKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(raw)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("key", "k", k, "opts", &s3kit.PutOptions{SSECustomerKey: k})
	type holder struct{ key s3kit.SSECustomerKey }
	opts := []any{
		&s3kit.PutOptions{SSECustomerKey: k}, s3kit.PutOptions{SSECustomerKey: k},
		&s3kit.CopyOptions{SSECustomerKey: k, SourceSSECustomerKey: k}, &s3kit.ReaderOptions{SSECustomerKey: k},
		&s3kit.HeadOptions{SSECustomerKey: k}, &s3kit.PresignOptions{SSECustomerKey: k},
		&s3kit.WriterOptions{PutOptions: s3kit.PutOptions{SSECustomerKey: k}}, k, *k, holder{*k},
	}
	outs := []string{logs.String()}
	for _, o := range opts {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			outs = append(outs, fmt.Sprintf(verb, o))
		}
	}
	for _, s := range outs {
		if strings.Contains(s, string(raw)) || strings.Contains(s, b64) || strings.Contains(s, fmt.Sprintf("%x", raw)) {
			t.Errorf("the key is in %q", s)
		}
	}
	if want := "SSECustomerKey(md5=" + k.MD5() + ")"; k.String() != want || fmt.Sprint(k) != want {
		t.Errorf("String = %q, want %q", k.String(), want)
	}
	for _, n := range []int{0, 16, 31, 33, 64} {
		key := bytes.Repeat([]byte("s"), n)
		_, err := s3kit.NewSSECustomerKey(key)
		if !errors.Is(err, s3kit.ErrInvalid) {
			t.Errorf("NewSSECustomerKey of %d bytes: %v, want ErrInvalid", n, err)
		}
		if n > 0 && (strings.Contains(err.Error(), string(key)) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(key))) {
			t.Errorf("the key is in %q", err)
		}
	}
}

// Options that cannot go together, or a key not made by
// NewSSECustomerKey, are refused before any request.
func TestSSECValidation(t *testing.T) {
	c, err := s3kit.New(t.Context(), s3kit.Config{Endpoint: "http://127.0.0.1:1", AccessKeyID: "a", SecretAccessKey: "b", Region: "us-east-1", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	k, _ := newKey(t)
	b := c.Bucket("bucket")
	for _, tc := range []struct {
		name, want string
		call       func() error
	}{
		{"SSE and a key", "cannot both", func() error {
			return errOf(b.PutString(ctx, "k", "x", &s3kit.PutOptions{SSE: s3kit.SSES3, SSECustomerKey: k}))
		}},
		{"KMS key and a key", "", func() error {
			return errOf(b.PutString(ctx, "k", "x", &s3kit.PutOptions{SSEKMSKeyID: "kms", SSECustomerKey: k}))
		}},
		{"zero key", "NewSSECustomerKey", func() error {
			return errOf(b.PutString(ctx, "k", "x", &s3kit.PutOptions{SSECustomerKey: &s3kit.SSECustomerKey{}}))
		}},
		{"zero source key", "NewSSECustomerKey", func() error {
			return errOf(b.Copy(ctx, "a", "b", &s3kit.CopyOptions{SourceSSECustomerKey: &s3kit.SSECustomerKey{}}))
		}},
		{"copy key and SSE", "cannot both", func() error {
			return errOf(b.Copy(ctx, "a", "b", &s3kit.CopyOptions{SSE: s3kit.SSES3, SSECustomerKey: k}))
		}},
		{"put defaults with a key", "WithSSECustomerKey", func() error {
			return errOf(b.WithPutDefaults(&s3kit.PutOptions{SSECustomerKey: k}).PutString(ctx, "k", "x", nil))
		}},
		{"presign zero key", "NewSSECustomerKey", func() error {
			_, _, err := b.PresignGet(ctx, "k", time.Minute, &s3kit.PresignOptions{SSECustomerKey: &s3kit.SSECustomerKey{}})
			return err
		}},
		{"redirect not a path or URL", "must begin", func() error {
			return errOf(b.PutString(ctx, "k", "x", &s3kit.PutOptions{WebsiteRedirectLocation: "other.html"}))
		}},
		{"redirect too long", "at most", func() error {
			return errOf(b.PutString(ctx, "k", "x", &s3kit.PutOptions{WebsiteRedirectLocation: "/" + strings.Repeat("a", 2048)}))
		}},
		{"redirect with a newline", "printable", func() error {
			return errOf(b.PutString(ctx, "k", "x", &s3kit.PutOptions{WebsiteRedirectLocation: "/a\nb"}))
		}},
		{"copy Expires without ReplaceMetadata", "ReplaceMetadata", func() error {
			return errOf(b.Copy(ctx, "a", "b", &s3kit.CopyOptions{Expires: time.Now()}))
		}},
		{"copy redirect without ReplaceMetadata", "ReplaceMetadata", func() error {
			return errOf(b.Copy(ctx, "a", "b", &s3kit.CopyOptions{WebsiteRedirectLocation: "/x"}))
		}},
	} {
		err := tc.call()
		if !errors.Is(err, s3kit.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", tc.name, err, tc.want)
		}
	}
	// At the limit, a redirect is sent (and here fails to connect).
	err = errOf(b.PutString(ctx, "k", "x", &s3kit.PutOptions{WebsiteRedirectLocation: "/" + strings.Repeat("a", 2047)}))
	if errors.Is(err, s3kit.ErrInvalid) {
		t.Errorf("a redirect of 2048 bytes: %v", err)
	}
}

// A client that does not trust the store's certificate fails at once
// with an error that says so, without retrying; so does one that speaks
// TLS to a store that does not.
func TestTLSUntrusted(t *testing.T) {
	eachTLSServer(t, func(t *testing.T, srv *s3test.Server) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		ct := &requestCounter{base: http.DefaultTransport.(*http.Transport).Clone()}
		t.Cleanup(ct.base.(*http.Transport).CloseIdleConnections)
		c := newClient(t, srv, s3kit.Config{HTTPClient: &http.Client{Transport: ct}, MaxAttempts: 4, RetryBaseDelay: time.Millisecond})
		_, err := c.Bucket("bbb").Head(ctx, "k", nil)
		var cv *tls.CertificateVerificationError
		if !errors.As(err, &cv) || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "RootCAs") {
			t.Errorf("Head with an untrusted certificate: %v", err)
		}
		if n := ct.n.Load(); n != 1 {
			t.Errorf("%d attempts with an untrusted certificate, want 1", n)
		}

		// The same client trusts the store once given its CA.
		hc, _ := trustingClient(t, srv)
		tc := newClient(t, srv, s3kit.Config{HTTPClient: hc})
		if err := tc.CreateBucket(ctx, "tls-trusted", nil); err != nil {
			t.Fatal(err)
		}
		defer tc.DeleteBucket(context.WithoutCancel(ctx), "tls-trusted", nil)
		if _, err := tc.Bucket("tls-trusted").PutString(ctx, "k", "v", nil); err != nil {
			t.Errorf("Put over trusted TLS: %v", err)
		}

		// s3kit's own transport trusts the CA given as Config.RootCAs, or
		// named by AWS_CA_BUNDLE, as the SDK and the aws CLI do.
		rc := newClient(t, srv, s3kit.Config{RootCAs: srv.RootCAs})
		if _, _, err := rc.Bucket("tls-trusted").GetString(ctx, "k"); err != nil {
			t.Errorf("Get with Config.RootCAs: %v", err)
		}
		t.Setenv("AWS_CA_BUNDLE", srv.CAFile)
		bc := newClient(t, srv, s3kit.Config{})
		if _, _, err := bc.Bucket("tls-trusted").GetString(ctx, "k"); err != nil {
			t.Errorf("Get with AWS_CA_BUNDLE: %v", err)
		}
		t.Setenv("AWS_CA_BUNDLE", "")
		nc := newClient(t, srv, s3kit.Config{MaxAttempts: 1})
		if _, _, err := nc.Bucket("tls-trusted").GetString(ctx, "k"); !errors.As(err, &cv) {
			t.Errorf("Get without the CA: %v, want a certificate error", err)
		}
	})
	if len(servers) == 0 {
		return
	}
	// TLS to a plain HTTP store.
	srv := servers[0]
	ct := &requestCounter{base: http.DefaultTransport.(*http.Transport).Clone()}
	c := newClient(t, srv, s3kit.Config{Endpoint: strings.Replace(srv.Endpoint, "http://", "https://", 1),
		HTTPClient: &http.Client{Transport: ct}, MaxAttempts: 4, RetryBaseDelay: time.Millisecond})
	if _, err := c.Bucket("bbb").Head(t.Context(), "k", nil); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("Head over TLS to a plain store: %v", err)
	}
	if n := ct.n.Load(); n != 1 {
		t.Errorf("%d attempts over TLS to a plain store, want 1", n)
	}
}

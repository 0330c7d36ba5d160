package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3kit/s3kit/internal/faultproxy"
)

// mv deletes its source pinned to the version it copied: an object
// rewritten between the copy and the delete is kept, and the move fails
// (exit 1) saying so. A proxy between the command and the server writes
// the new version when the delete's first request arrives (the DELETE, or
// the listing of the key that checks its ETag on a store that ignores
// If-Match on DeleteObject), and only then forwards it.
func TestMvRacingWriter(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		p := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(p.Close)
		dir := t.TempDir()
		for _, c := range []struct {
			name, key string
			args      []string
			copied    func() string
		}{
			{"to a file", "one/k", []string{"mv", e.url("one/k"), filepath.Join(dir, "one")},
				func() string { return readFile(t, filepath.Join(dir, "one")) }},
			{"-r to a directory", "many/k", []string{"mv", "-r", e.url("many/"), filepath.Join(dir, "many")},
				func() string { return readFile(t, filepath.Join(dir, "many", "k")) }},
			{"to another key", "s3/k", []string{"mv", e.url("s3/k"), e.url("moved/k")},
				func() string { return e.get(t, "moved/k") }},
		} {
			t.Run(c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				e.put(t, c.key, "version one")
				var (
					mu       sync.Mutex
					writeErr error
				)
				p.Reset()
				rule := p.Add(faultproxy.Rule{Times: 1, Match: func(r *http.Request) bool {
					q := r.URL.Query()
					hit := r.Method == http.MethodDelete ||
						r.Method == http.MethodGet && q.Get("list-type") == "2" && q.Get("max-keys") == "1" && q.Get("prefix") == c.key
					if hit {
						// Under the proxy's lock, so the write lands before
						// the request goes on; straight to the server.
						_, err := e.bucket.PutString(ctx, c.key, "version two, written meanwhile", nil)
						mu.Lock()
						writeErr = err
						mu.Unlock()
					}
					return hit
				}})
				r := e.runEnv(t, []string{
					"AWS_ENDPOINT_URL=" + p.URL, "AWS_ACCESS_KEY_ID=" + e.srv.AccessKey,
					"AWS_SECRET_ACCESS_KEY=" + e.srv.SecretKey, "AWS_REGION=" + e.srv.Region,
				}, c.args...)
				mu.Lock()
				defer mu.Unlock()
				if writeErr != nil || rule.Fired() != 1 {
					t.Fatalf("the racing write: %v, fired %d", writeErr, rule.Fired())
				}
				if got := e.get(t, c.key); got != "version two, written meanwhile" {
					t.Fatalf("the version written meanwhile was lost: %q", got)
				}
				want(t, r, exitFailed, c.args...)
				if !strings.Contains(r.stderr, "changed") {
					t.Errorf("stderr %q does not say the source changed", r.stderr)
				}
				if got := c.copied(); got != "version one" {
					t.Errorf("the copy holds %q, want the version moved", got)
				}
			})
		}
	})
}

// mv of a local file keeps it if it changed during the upload: the proxy
// touches the file when the upload reaches the store (a new time, the
// same bytes, so that the upload itself still succeeds).
func TestMvLocalRacingWriter(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		p := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(p.Close)
		src := filepath.Join(t.TempDir(), "f.txt")
		writeFile(t, src, "version one", mtime1)
		var (
			mu       sync.Mutex
			writeErr error
		)
		rule := p.Add(faultproxy.Rule{Method: http.MethodPut, Times: 1, Match: func(*http.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			writeErr = os.Chtimes(src, time.Now(), time.Now())
			return true
		}})
		args := []string{"mv", src, e.url("f.txt")}
		r := e.runEnv(t, proxyEnv(e, p), args...)
		mu.Lock()
		defer mu.Unlock()
		if writeErr != nil || rule.Fired() != 1 {
			t.Fatalf("the racing write: %v, fired %d", writeErr, rule.Fired())
		}
		if got, err := os.ReadFile(src); err != nil || string(got) != "version one" {
			t.Fatalf("the file changed during the upload was removed: %q, %v", got, err)
		}
		want(t, r, exitFailed, args...)
		if !strings.Contains(r.stderr, "changed") {
			t.Errorf("stderr %q does not say the source changed", r.stderr)
		}
	})
}

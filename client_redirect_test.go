package s3kit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// front is a server on 127.0.0.1 in front of a real server. Its hook may
// answer a request itself (and return true); the others are forwarded with
// their Host header, which their signature covers, untouched.
type front struct {
	*httptest.Server
	hook func(w http.ResponseWriter, r *http.Request) bool

	mu   sync.Mutex
	reqs []*http.Request // headers only
}

func newFront(t *testing.T, target string, useTLS bool, hook func(w http.ResponseWriter, r *http.Request) bool) *front {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Proxy: nil, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
		},
		Transport: tr,
	}
	f := &front{hook: hook}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, &http.Request{Method: r.Method, URL: r.URL, Header: r.Header.Clone()})
		f.mu.Unlock()
		if f.hook != nil && f.hook(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	})
	if useTLS {
		f.Server = httptest.NewTLSServer(h)
	} else {
		f.Server = httptest.NewServer(h)
	}
	t.Cleanup(f.Close)
	return f
}

func (f *front) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.reqs...)
}

// TestRedirect covers review finding S2: redirects are followed only when
// they keep the method (307, 308) and stay with the endpoint (same scheme,
// host and port), so that the signature and session token never reach
// another server and another server's answer is never taken for the
// store's.
func TestRedirect(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		if _, err := e.bucket.PutString(ctx, "obj", "the store's bytes", nil); err != nil {
			t.Fatal(err)
		}

		// other is where the redirects point: it answers as a store would,
		// with bytes and metadata of its own.
		var otherMu sync.Mutex
		var otherReqs []http.Header
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			otherMu.Lock()
			otherReqs = append(otherReqs, r.Header.Clone())
			otherMu.Unlock()
			w.Header().Set("ETag", `"other"`)
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("another server's bytes"))
		}))
		defer other.Close()
		otherURL, _ := url.Parse(other.URL)

		redirectTo := func(status int, target func(r *http.Request) string) func(w http.ResponseWriter, r *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/obj") {
					return false
				}
				w.Header().Set("Location", target(r))
				w.WriteHeader(status)
				return true
			}
		}
		toOther := func(r *http.Request) string { return other.URL + r.URL.RequestURI() }

		for _, status := range []int{301, 302, 303, 307, 308} {
			t.Run(http.StatusText(status)+" to another port", func(t *testing.T) {
				otherMu.Lock()
				otherReqs = nil
				otherMu.Unlock()
				f := newFront(t, e.srv.Endpoint, false, redirectTo(status, toOther))
				// A session token, which the SDK's own policy would
				// forward to another host.
				c := newClient(t, e.srv, s3kit.Config{Endpoint: f.URL, SessionToken: "session-token-secret", RetryBaseDelay: time.Millisecond})
				b := c.Bucket(e.bucket.Name())

				if info, err := b.Head(ctx, "obj", nil); err == nil {
					t.Errorf("Head followed the redirect: %+v", info)
				}
				s, _, err := b.GetString(ctx, "obj")
				t.Logf("GetString: %v", err)
				if err == nil {
					t.Errorf("GetString followed the redirect: %q", s)
				}
				if status >= 307 && (err == nil || !strings.Contains(err.Error(), fmt.Sprintf("refused to follow an HTTP %d redirect", status)) ||
					!strings.Contains(err.Error(), otherURL.Host)) {
					t.Errorf("GetString: %v, want an error that says which redirect was refused", err)
				}
				otherMu.Lock()
				defer otherMu.Unlock()
				for _, h := range otherReqs {
					if h.Get("Authorization") != "" || h.Get("X-Amz-Security-Token") != "" {
						t.Fatalf("the other server received credentials: %v", h)
					}
				}
				if len(otherReqs) != 0 {
					t.Fatalf("the other server received %d requests, want none", len(otherReqs))
				}
				if status >= 307 {
					// A refused redirect is not retried: the store would
					// send it again.
					if n := len(f.requests()); n != 2 {
						t.Fatalf("the endpoint received %d requests, want 2 (Head and GetString, once each)", n)
					}
				}
			})
		}

		t.Run("307 to another host name, same port", func(t *testing.T) {
			f := newFront(t, e.srv.Endpoint, false, nil)
			port := strings.TrimPrefix(f.URL, "http://127.0.0.1:")
			f.hook = redirectTo(307, func(r *http.Request) string { return "http://localhost:" + port + r.URL.RequestURI() })
			c := newClient(t, e.srv, s3kit.Config{Endpoint: f.URL, SessionToken: "session-token-secret"})
			if _, _, err := c.Bucket(e.bucket.Name()).GetString(ctx, "obj"); err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("GetString: %v, want a refused redirect", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Fatalf("%d requests reached the server, want 1", n)
			}
		})

		t.Run("307 from https to http", func(t *testing.T) {
			f := newFront(t, e.srv.Endpoint, true, nil)
			// Same host and port, plain http: a downgrade.
			f.hook = redirectTo(307, func(r *http.Request) string {
				return "http://" + strings.TrimPrefix(f.URL, "https://") + r.URL.RequestURI()
			})
			c := newClient(t, e.srv, s3kit.Config{Endpoint: f.URL, InsecureSkipVerify: true})
			if _, _, err := c.Bucket(e.bucket.Name()).GetString(ctx, "obj"); err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("GetString: %v, want a refused redirect", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Fatalf("%d requests reached the server, want 1", n)
			}
		})

		t.Run("307 loop", func(t *testing.T) {
			f := newFront(t, e.srv.Endpoint, false, nil)
			f.hook = redirectTo(307, func(r *http.Request) string { return f.URL + r.URL.RequestURI() })
			c := newClient(t, e.srv, s3kit.Config{Endpoint: f.URL})
			if _, err := c.Bucket(e.bucket.Name()).Head(ctx, "obj", nil); err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
				t.Fatalf("Head: %v, want the redirect loop cut", err)
			}
			if n := len(f.requests()); n != 10 {
				t.Fatalf("%d requests, want 10 and no retry", n)
			}
		})

		for _, status := range []int{307, 308} {
			t.Run(http.StatusText(status)+" to the endpoint itself", func(t *testing.T) {
				var redirected sync.Map
				f := newFront(t, e.srv.Endpoint, false, nil)
				f.hook = func(w http.ResponseWriter, r *http.Request) bool {
					// Each request once, to the same URL on the same host
					// and port, as a store behind a load balancer might.
					if _, seen := redirected.LoadOrStore(r.Method+" "+r.URL.RequestURI(), true); seen {
						return false
					}
					w.Header().Set("Location", f.URL+r.URL.RequestURI())
					w.WriteHeader(status)
					return true
				}
				c := newClient(t, e.srv, s3kit.Config{Endpoint: f.URL})
				b := c.Bucket(e.bucket.Name())
				if info, err := b.Head(ctx, "obj", nil); err != nil || info.Size != int64(len("the store's bytes")) {
					t.Fatalf("Head: %+v, %v", info, err)
				}
				if s, _, err := b.GetString(ctx, "obj"); err != nil || s != "the store's bytes" {
					t.Fatalf("GetString: %q, %v", s, err)
				}
				if n := len(f.requests()); n != 4 {
					t.Fatalf("%d requests, want 4: two redirected, two followed", n)
				}
				// net/http cannot replay a body the SDK streams, so an
				// upload is not redirected: its 307 is an error, as with the
				// SDK's own client.
				if _, err := b.PutString(ctx, "put", "body", nil); err == nil || !strings.Contains(err.Error(), fmt.Sprint(status)) {
					t.Fatalf("PutString: %v, want the redirect as an error", err)
				}
			})
		}
	})
}

// TestRedirectHTTPClient checks that a caller's http.Client without a
// redirect policy gets s3kit's, and is not changed.
func TestRedirectHTTPClient(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		var otherHits sync.Map
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			otherHits.Store(r.URL.Path, r.Header.Get("Authorization"))
		}))
		defer other.Close()
		f := newFront(t, e.srv.Endpoint, false, func(w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return true
		})
		hc := &http.Client{Transport: &http.Transport{Proxy: nil}}
		c := newClient(t, e.srv, s3kit.Config{Endpoint: f.URL, HTTPClient: hc})
		if _, err := c.Bucket(e.bucket.Name()).Head(ctx, "obj", nil); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("Head: %v, want a refused redirect", err)
		}
		otherHits.Range(func(k, v any) bool {
			t.Errorf("the other server received %v (Authorization %q)", k, v)
			return true
		})
		if hc.CheckRedirect != nil {
			t.Fatal("the caller's http.Client was changed")
		}
	})
}

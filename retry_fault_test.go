package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// proxied returns a client that reaches e's server through a fault proxy,
// with short back-off so retries do not slow the suite.
func proxied(t *testing.T, e *env, cfg s3kit.Config) (*s3kit.Client, *faultproxy.Proxy) {
	t.Helper()
	p := faultproxy.New(e.srv.Endpoint)
	t.Cleanup(p.Close)
	cfg.Endpoint = p.URL
	if cfg.RetryBaseDelay == 0 {
		cfg.RetryBaseDelay = time.Millisecond
	}
	if cfg.RetryMaxDelay == 0 {
		cfg.RetryMaxDelay = 5 * time.Millisecond
	}
	return newClient(t, e.srv, cfg), p
}

func TestRetry(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c, p := proxied(t, e, s3kit.Config{MaxAttempts: 4})
		b := c.Bucket(e.bucket.Name())

		t.Run("503 then 200, body replayed", func(t *testing.T) {
			r := p.Add(faultproxy.Rule{Method: http.MethodPut, Times: 2, Fault: faultproxy.Status(503, "SlowDown")})
			body := bytes.Repeat([]byte("replay me "), 10_000)
			if _, err := b.PutBytes(ctx, "retried", body, nil); err != nil {
				t.Fatal(err)
			}
			if r.Fired() != 2 {
				t.Fatalf("fault fired %d times, want 2", r.Fired())
			}
			got, _, err := b.GetBytes(ctx, "retried")
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("stored body differs after retries (%d bytes, %v)", len(got), err)
			}
		})

		t.Run("500 InternalError and reset connection", func(t *testing.T) {
			p.Reset()
			p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.Status(500, "InternalError")})
			p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.ResetAfter(0)})
			if s, _, err := b.GetString(ctx, "retried"); err != nil || !strings.HasPrefix(s, "replay me") {
				t.Fatalf("GetString through faults: %v", err)
			}
			if n := p.Count(); n != 3 {
				t.Fatalf("%d requests, want 3", n)
			}
		})

		t.Run("broken body resumed", func(t *testing.T) {
			p.Reset()
			want, _, _ := e.bucket.GetBytes(ctx, "retried")
			p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.ResetAfter(30_000)})
			p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.Truncate(60_000)})
			got, _, err := b.GetBytes(ctx, "retried")
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("GetBytes through a reset and a truncation: %d bytes, %v", len(got), err)
			}
			reqs := p.Requests()
			if len(reqs) != 3 || reqs[1].Header.Get("Range") == "" || reqs[2].Header.Get("If-Match") == "" {
				t.Fatalf("requests %+v, want a GET and two ranged GETs pinned with If-Match", reqs)
			}
		})

		t.Run("object replaced mid-read", func(t *testing.T) {
			p.Reset()
			lines := strings.Repeat(strings.Repeat("x", 99)+"\n", 5000) // 500 kB
			if _, err := e.bucket.PutString(ctx, "lines", lines, nil); err != nil {
				t.Fatal(err)
			}
			p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.ResetAfter(200_000)})
			n := 0
			var last error
			for line, err := range b.Lines(ctx, "lines") {
				if err != nil {
					last = err
					break
				}
				if len(line) != 99 {
					t.Fatalf("line %d is %q", n, line)
				}
				if n++; n == 1 {
					if _, err := e.bucket.PutString(ctx, "lines", strings.ReplaceAll(lines, "x", "y"), nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !errors.Is(last, s3kit.ErrPreconditionFailed) {
				t.Fatalf("after %d lines: %v, want ErrPreconditionFailed", n, last)
			}
		})

		t.Run("200 with an error body", func(t *testing.T) {
			p.Reset()
			r := p.Add(faultproxy.Rule{Method: http.MethodPut, Match: func(r *http.Request) bool {
				return r.Header.Get("X-Amz-Copy-Source") != ""
			}, Times: 1, Fault: faultproxy.OKWithError("InternalError")})
			if _, err := b.Copy(ctx, "retried", "copied", nil); err != nil {
				t.Fatal(err)
			}
			if r.Fired() != 1 {
				t.Fatalf("fault fired %d times", r.Fired())
			}
			if ok, _ := e.bucket.Exists(ctx, "copied"); !ok {
				t.Fatal("copy missing after retry")
			}
		})

		t.Run("503 forever", func(t *testing.T) {
			p.Reset()
			p.Add(faultproxy.Rule{Fault: faultproxy.Status(503, "SlowDown")})
			_, _, err := b.GetBytes(ctx, "retried")
			var se *s3kit.Error
			if !errors.As(err, &se) || se.StatusCode != 503 || se.Code != "SlowDown" || se.RequestID == "" {
				t.Fatalf("after MaxAttempts: %#v (%v)", se, err)
			}
			if n := p.Count(); n != 4 {
				t.Fatalf("%d attempts, want MaxAttempts = 4", n)
			}
		})

		t.Run("4xx never retried", func(t *testing.T) {
			p.Reset()
			p.Add(faultproxy.Rule{Fault: faultproxy.Status(400, "InvalidArgument")})
			_, err := b.PutString(ctx, "x", "y", nil)
			if !errors.Is(err, s3kit.ErrInvalid) {
				t.Fatalf("got %v", err)
			}
			if n := p.Count(); n != 1 {
				t.Fatalf("%d attempts of a 400, want 1", n)
			}
		})

		t.Run("cancel during back-off", func(t *testing.T) {
			// A back-off drawn from [0, 1h]: the retry, if any, comes long
			// after the cancel.
			slow, sp := proxied(t, e, s3kit.Config{MaxAttempts: 10, RetryBaseDelay: time.Hour, RetryMaxDelay: time.Hour})
			sp.Add(faultproxy.Rule{Fault: faultproxy.Status(503, "SlowDown")})
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				_, _, err := slow.Bucket(e.bucket.Name()).GetBytes(ctx, "retried")
				done <- err
			}()
			for sp.Count() == 0 { // wait for the first attempt to fail
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // now in back-off, or about to be
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("got %v, want context.Canceled", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("still waiting out the back-off a minute after the cancel")
			}
			if n := sp.Count(); n != 1 {
				t.Fatalf("%d attempts, want 1", n)
			}
		})
	})
}

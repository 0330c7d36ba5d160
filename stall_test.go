package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// stallTimeout is short so that the tests do not wait long, and long
// enough that a loaded machine does not see a stall where there is none.
const stallTimeout = time.Second

// TestStallTimeout covers review finding C5(c): a response that stops
// sending, before its headers or mid-body, is given up after
// Config.StallTimeout and retried or resumed, never waited on until the
// caller's deadline.
func TestStallTimeout(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		c, p := proxied(t, e, s3kit.Config{StallTimeout: stallTimeout, MaxAttempts: 4})
		b := c.Bucket(e.bucket.Name())

		// 17 ranges of 64 KiB for the Reader, the last one short.
		const size = 16*64<<10 + 1234
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(i*7 + i/251)
		}
		if _, err := e.bucket.PutBytes(ctx, "obj", want, nil); err != nil {
			t.Fatal(err)
		}

		reads := []struct {
			name string
			read func(ctx context.Context) ([]byte, error)
		}{
			{"GetBytes", func(ctx context.Context) ([]byte, error) { data, _, err := b.GetBytes(ctx, "obj"); return data, err }},
			{"Reader", func(ctx context.Context) ([]byte, error) {
				r, err := b.NewReader(ctx, "obj", &s3kit.ReaderOptions{PartSize: 64 << 10, Concurrency: 3})
				if err != nil {
					return nil, err
				}
				defer r.Close()
				return io.ReadAll(r)
			}},
			{"Download", func(ctx context.Context) ([]byte, error) {
				dst := filepath.Join(t.TempDir(), "obj")
				if _, err := b.Download(ctx, "obj", dst, &s3kit.TransferOptions{PartSize: 64 << 10}); err != nil {
					return nil, err
				}
				return os.ReadFile(dst)
			}},
		}
		faults := []struct {
			name  string
			fault faultproxy.Fault
		}{
			{"stall mid-body", faultproxy.StallAfter(40_000)},
			{"stall after the header", faultproxy.StallAfter(0)},
			{"hang before the header", faultproxy.Hang()},
		}
		for _, rd := range reads {
			for _, f := range faults {
				t.Run(rd.name+"/"+f.name, func(t *testing.T) {
					p.Reset()
					rule := p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: f.fault})
					ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					defer cancel()
					got, err := rd.read(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("read %d bytes that differ from the %d written", len(got), len(want))
					}
					if rule.Fired() != 1 {
						t.Fatalf("fault fired %d times, want 1", rule.Fired())
					}
				})
			}
		}

		t.Run("resumes at the byte where the body stalled", func(t *testing.T) {
			p.Reset()
			p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.StallAfter(40_000)})
			if got, _, err := b.GetBytes(ctx, "obj"); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("GetBytes: %d bytes, %v", len(got), err)
			}
			reqs := p.Requests()
			if len(reqs) != 2 || !strings.HasPrefix(reqs[1].Header.Get("Range"), "bytes=40000-") || reqs[1].Header.Get("If-Match") == "" {
				t.Fatalf("requests %+v, want a GET and a GET of bytes=40000- pinned with If-Match", reqs)
			}
		})

		t.Run("List", func(t *testing.T) {
			p.Reset()
			rule := p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.StallAfter(100)})
			objs, err := b.ListAll(ctx, nil)
			if err != nil || len(objs) != 1 || objs[0].Key != "obj" {
				t.Fatalf("ListAll: %v, %v", objs, err)
			}
			if rule.Fired() != 1 || p.Count() != 2 {
				t.Fatalf("fault fired %d times, %d requests; want 1 and 2", rule.Fired(), p.Count())
			}
		})

		t.Run("upload", func(t *testing.T) {
			for _, n := range []int{1000, s3kit.DefaultPartSize + 1} {
				p.Reset()
				rule := p.Add(faultproxy.Rule{Method: http.MethodPut, Times: 1, Fault: faultproxy.Hang()})
				data := bytes.Repeat([]byte{'u'}, n)
				if _, err := b.PutBytes(ctx, "up", data, nil); err != nil {
					t.Fatalf("PutBytes of %d bytes: %v", n, err)
				}
				if rule.Fired() != 1 {
					t.Fatalf("fault fired %d times", rule.Fired())
				}
				if got, _, err := e.bucket.GetBytes(ctx, "up"); err != nil || !bytes.Equal(got, data) {
					t.Fatalf("read back %d bytes, %v", len(got), err)
				}
			}
		})

		t.Run("slow caller", func(t *testing.T) {
			// The clock runs only while a Read waits: a caller that takes
			// its time between Reads is not a stall.
			p.Reset()
			r, err := b.NewReader(ctx, "obj", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			head := make([]byte, 1000)
			if _, err := io.ReadFull(r, head); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * stallTimeout)
			rest, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(append(head, rest...), want) {
				t.Fatalf("read %d bytes, %v", len(head)+len(rest), err)
			}
			for _, req := range p.Requests() {
				if rng := req.Header.Get("Range"); req.Method == http.MethodGet && rng != "" && !strings.HasPrefix(rng, "bytes=0-") {
					t.Fatalf("the body was resumed (%s %s) after the caller paused", req.Method, rng)
				}
			}
		})

		t.Run("resumes and the SDK's retries share MaxAttempts", func(t *testing.T) {
			// The body stalls once after its header; every GET after that
			// is refused with a 503 before its header, which the SDK
			// retries. Together: 4 attempts, not 1 + 4.
			p.Reset()
			p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.StallAfter(0)})
			p.Add(faultproxy.Rule{Method: http.MethodGet, Fault: faultproxy.Status(503, "SlowDown")})
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if _, _, err := b.GetBytes(ctx, "obj"); err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v, want the 503 after the stall", err)
			}
			if n := p.Count(); n != 4 {
				t.Fatalf("%d attempts, want MaxAttempts = 4", n)
			}
		})

		for _, f := range faults[1:] {
			t.Run("every attempt/"+f.name, func(t *testing.T) {
				p.Reset()
				p.Add(faultproxy.Rule{Method: http.MethodGet, Fault: f.fault})
				ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				_, _, err := b.GetBytes(ctx, "obj")
				var ne net.Error
				if err == nil || errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() ||
					!strings.Contains(err.Error(), "StallTimeout") {
					t.Fatalf("got %v, want a stall error before the deadline", err)
				}
				if n := p.Count(); n != 4 {
					t.Fatalf("%d attempts, want MaxAttempts = 4", n)
				}
			})
		}
	})
}

func TestStallTimeoutInvalid(t *testing.T) {
	_, err := s3kit.New(t.Context(), s3kit.Config{StallTimeout: -time.Second, Endpoint: "http://127.0.0.1:1"})
	if !errors.Is(err, s3kit.ErrInvalid) || !strings.Contains(err.Error(), "StallTimeout") {
		t.Fatalf("New with a negative StallTimeout: %v, want ErrInvalid naming it", err)
	}
}

// TestStallTimeoutHTTPClient checks that a caller's http.Client gets the
// watchdog without being changed.
func TestStallTimeoutHTTPClient(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		tr := &http.Transport{Proxy: nil}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		c, p := proxied(t, e, s3kit.Config{StallTimeout: stallTimeout, HTTPClient: hc})
		b := c.Bucket(e.bucket.Name())
		want := bytes.Repeat([]byte("0123456789"), 10_000)
		if _, err := b.PutBytes(ctx, "obj", want, nil); err != nil {
			t.Fatal(err)
		}
		p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.StallAfter(5000)})
		p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.Hang()})
		if got, _, err := b.GetBytes(ctx, "obj"); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("GetBytes: %d bytes, %v", len(got), err)
		}
		if hc.Transport != tr || hc.CheckRedirect != nil {
			t.Fatal("the caller's http.Client was changed")
		}
	})
}

package s3kit_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// connCounter is a TCP relay to a server that counts the connections
// open through it, to see a Client's idle connections close.
type connCounter struct {
	ln   net.Listener
	open atomic.Int64
	wg   sync.WaitGroup
}

func newConnCounter(t *testing.T, endpoint string) *connCounter {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cc := &connCounter{ln: ln}
	cc.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", u.Host)
			if err != nil {
				in.Close()
				continue
			}
			cc.open.Add(1)
			cc.wg.Go(func() {
				io.Copy(out, in) // until the client closes
				out.Close()
				cc.open.Add(-1)
			})
			cc.wg.Go(func() {
				io.Copy(in, out)
				in.Close()
			})
		}
	})
	t.Cleanup(func() { ln.Close(); cc.wg.Wait() })
	return cc
}

func (cc *connCounter) endpoint() string { return "http://" + cc.ln.Addr().String() }

// waitOpen waits until n connections are open, or ctx ends.
func (cc *connCounter) waitOpen(ctx context.Context, n int64) bool {
	for cc.open.Load() != n {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return true
}

// TestClientClose checks that Close closes the idle connections of the
// transport the Client made, that every later call fails with ErrClosed
// without a request, and that Close can be called again.
func TestClientClose(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if _, err := e.bucket.PutString(ctx, "k.txt", "hello", nil); err != nil {
			t.Fatal(err)
		}
		cc := newConnCounter(t, e.srv.Endpoint)
		c := newClient(t, e.srv, s3kit.Config{Endpoint: cc.endpoint()})
		b := c.Bucket(e.bucket.Name())
		if s, _, err := b.GetString(ctx, "k.txt"); err != nil || s != "hello" {
			t.Fatalf("GetString = %q, %v", s, err)
		}
		if n := cc.open.Load(); n < 1 {
			t.Fatalf("%d connections open after a request, want at least 1 kept idle", n)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if !cc.waitOpen(ctx, 0) {
			t.Fatalf("%d connections still open after Close", cc.open.Load())
		}
		if err := c.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		w, err := b.NewWriter(ctx, "w.txt", nil)
		if err != nil {
			t.Fatal(err) // NewWriter sends nothing
		}
		defer w.Abort()
		io.WriteString(w, "x")
		calls := map[string]error{
			"GetString": errOf2(b.GetString(ctx, "k.txt")),
			"PutString": errOf(b.PutString(ctx, "p.txt", "x", nil)),
			"Head":      errOf(b.Head(ctx, "k.txt", nil)),
			"Delete":    b.Delete(ctx, "k.txt"),
			"Writer":    w.Close(),
		}
		_, calls["List"] = b.ListAll(ctx, nil)
		_, _, calls["PresignGet"] = b.PresignGet(ctx, "k.txt", time.Minute, nil)
		_, calls["BucketExists"] = c.BucketExists(ctx, e.bucket.Name())
		for name, err := range calls {
			if !errors.Is(err, s3kit.ErrClosed) || !errors.Is(err, fs.ErrClosed) {
				t.Errorf("%s after Close: %v, want ErrClosed", name, err)
			}
		}
		var se *s3kit.Error
		if err := calls["Head"]; !errors.As(err, &se) || se.Err != s3kit.ErrClosed || !strings.Contains(err.Error(), "client is closed") {
			t.Errorf("Head after Close: %v, want an *Error whose Err is ErrClosed", err)
		}
		if n := cc.open.Load(); n != 0 {
			t.Errorf("%d connections opened by calls after Close", n)
		}
		// The object is untouched: nothing was sent.
		if s, _, err := e.bucket.GetString(ctx, "k.txt"); err != nil || s != "hello" {
			t.Errorf("after Close: object is %q, %v", s, err)
		}
	})
}

func errOf2(_ string, _ s3kit.ObjectInfo, err error) error { return err }

// TestClientCloseCallerTransport checks that Close leaves the idle
// connections of a caller's HTTPClient open: the caller may share it.
func TestClientCloseCallerTransport(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		tr := http.DefaultTransport.(*http.Transport).Clone()
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		c := newClient(t, e.srv, s3kit.Config{HTTPClient: hc})
		if _, err := c.BucketExists(ctx, e.bucket.Name()); err != nil {
			t.Fatal(err)
		}
		c.Close()
		reused := false
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
		}), http.MethodGet, e.srv.Endpoint, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !reused {
			t.Error("the caller's idle connection was closed by Client.Close")
		}
	})
}

// TestClientCloseConcurrent closes a Client while operations are in
// flight: each either succeeds or fails with ErrClosed, and a Writer cut
// off by the Close leaves no multipart upload behind.
func TestClientCloseConcurrent(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		c := newClient(t, e.srv, s3kit.Config{PartSize: s3kit.MinPartSize})
		b := c.Bucket(e.bucket.Name())
		if _, err := b.PutString(ctx, "k.txt", "hello", nil); err != nil {
			t.Fatal(err)
		}
		part := make([]byte, s3kit.MinPartSize)
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		started := make(chan struct{})
		var once sync.Once
		for i := range 4 {
			wg.Go(func() {
				for j := 0; ; j++ {
					var err error
					if i == 0 {
						// A multipart upload of several parts.
						w, werr := b.NewWriter(ctx, "big.bin", nil)
						if werr != nil {
							errs <- werr
							return
						}
						for range 3 {
							if _, err = w.Write(part); err != nil {
								break
							}
						}
						if cerr := w.Close(); err == nil {
							err = cerr
						}
					} else {
						_, _, err = b.GetString(ctx, "k.txt")
					}
					once.Do(func() { close(started) })
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		<-started
		var cw sync.WaitGroup
		for range 3 {
			cw.Go(func() { c.Close() })
		}
		cw.Wait()
		wg.Wait()
		close(errs)
		for err := range errs {
			if !errors.Is(err, s3kit.ErrClosed) {
				t.Errorf("an operation cut off by Close failed with %v, want ErrClosed", err)
			}
		}
		if n, err := uploadsFor(ctx, e, "big.bin"); err != nil || n != 0 {
			t.Errorf("%d multipart uploads left after Close (%v), want 0", n, err)
		}
	})
}

package s3kit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"
)

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestStallTransportUpload checks that a server that stops reading an
// upload is a stall, which the server-side tests cannot show: on loopback
// the socket buffers take in tens of megabytes before a sender blocks.
func TestStallTransportUpload(t *testing.T) {
	// A listener whose connections take in little: the client blocks soon.
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	conns := make(chan net.Conn, 1)
	go func() {
		// Accept, and never read.
		if c, err := l.Accept(); err == nil {
			conns <- c
		}
	}()
	defer func() {
		select {
		case c := <-conns:
			c.Close()
		default:
		}
	}()

	const timeout = 300 * time.Millisecond
	tr := &http.Transport{Proxy: nil}
	defer tr.CloseIdleConnections()
	c := newHTTPClient(&http.Client{Transport: tr}, 1, false, nil, timeout)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const size = 64 << 20 // far more than the client's send buffer
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+l.Addr().String()+"/k", io.LimitReader(zeros{}, size))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	var se *stallError
	if !errors.As(err, &se) || ctx.Err() != nil {
		t.Fatalf("upload to a server that does not read: %v, want a stall before the deadline", err)
	}
}

// slowReader sends n bytes in chunks, pausing before each.
type slowReader struct {
	n     int
	chunk int
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	k := min(len(p), r.chunk, r.n)
	clear(p[:k])
	r.n -= k
	return k, nil
}

// TestStallTransportSlowUpload checks that an upload that keeps sending,
// however slowly, is not a stall, and neither is a slow answer to it once
// its bytes flow.
func TestStallTransportSlowUpload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", "8")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "%08d", n)
	}))
	defer srv.Close()

	const timeout = 300 * time.Millisecond
	c := newHTTPClient(nil, 1, false, nil, timeout)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// Ten pauses of a third of the timeout: three timeouts in all.
	const size = 10 * 1000
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/k", &slowReader{n: size, chunk: 1000, pause: timeout / 3})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != fmt.Sprintf("%08d", size) {
		t.Fatalf("answer %q, %v", body, err)
	}
}

type idleCounter struct {
	http.RoundTripper
	closed int
}

func (c *idleCounter) CloseIdleConnections() { c.closed++ }

func TestStallTransportCloseIdleConnections(t *testing.T) {
	base := &idleCounter{RoundTripper: http.DefaultTransport}
	newHTTPClient(&http.Client{Transport: base}, 1, false, nil, time.Second).CloseIdleConnections()
	if base.closed != 1 {
		t.Fatalf("CloseIdleConnections reached the caller's transport %d times, want 1", base.closed)
	}
}

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"http://127.0.0.1:9000/b/k", "http://127.0.0.1:9000/other?x=1", true},
		{"https://S3.example.com/k", "https://s3.example.com:443/k", true},
		{"http://example.com/k", "http://example.com:80/k", true},
		{"http://127.0.0.1:9000/k", "http://127.0.0.1:9001/k", false},
		{"http://127.0.0.1:9000/k", "http://localhost:9000/k", false},
		{"https://example.com/k", "http://example.com:443/k", false},
		{"https://example.com/k", "http://example.com/k", false},
		{"https://bucket.s3.amazonaws.com/k", "https://bucket.s3.us-west-2.amazonaws.com/k", false},
	} {
		a, _ := url.Parse(tc.a)
		b, _ := url.Parse(tc.b)
		if got := sameOrigin(a, b); got != tc.same {
			t.Errorf("sameOrigin(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

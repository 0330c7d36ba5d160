package faultproxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/s3kit/s3kit/internal/faultproxy"
)

func TestStallAfter(t *testing.T) {
	b := newBackend(t)
	p := newProxy(t, b.URL)
	const size = 1 << 20
	for _, n := range []int64{0, 1, 32<<10 + 1, size - 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			p.Reset()
			p.Add(faultproxy.Rule{Times: 1, Fault: faultproxy.StallAfter(n)})
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/blob/%d", p.URL, size), nil)
			if err != nil {
				t.Fatal(err)
			}
			// The header arrives before the stall, even with n = 0.
			resp := mustDo(t, client(), req)
			if resp.StatusCode != 200 || resp.ContentLength != size {
				t.Fatalf("%s, Content-Length %d", resp.Status, resp.ContentLength)
			}
			got, err := io.ReadAll(resp.Body)
			if int64(len(got)) != n || !bytes.Equal(got, blobData(size)[:n]) {
				t.Errorf("read %d bytes before the stall, want the first %d", len(got), n)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("read error %v, want the client's deadline", err)
			}
			if got := p.Requests(); len(got) != 1 || got[0].Fault != fmt.Sprintf("StallAfter(%d)", n) {
				t.Errorf("log %+v", got)
			}
		})
	}

	t.Run("short body", func(t *testing.T) {
		p.Reset()
		p.Add(faultproxy.Rule{Times: 1, Fault: faultproxy.StallAfter(5000)})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/blob/1000", nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(mustDo(t, client(), req).Body)
		if err != nil || !bytes.Equal(got, blobData(1000)) {
			t.Errorf("body of 1000 bytes under StallAfter(5000): %d bytes, %v", len(got), err)
		}
	})
}

// TestStallAfterClose checks that Close ends a stalled response as a broken
// one, not as a complete one, and does not wait for the client.
func TestStallAfterClose(t *testing.T) {
	b := newBackend(t)
	p := faultproxy.New(b.URL)
	defer p.Close()
	p.Add(faultproxy.Rule{Fault: faultproxy.StallAfter(100)})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/blob/1000?chunked", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := mustDo(t, client(), req)
	got := make([]byte, 100)
	if _, err := io.ReadFull(resp.Body, got); err != nil || !bytes.Equal(got, blobData(100)) {
		t.Fatalf("first 100 bytes: %v", err)
	}
	closed := make(chan struct{})
	go func() {
		p.Close()
		close(closed)
	}()
	rest, err := io.ReadAll(resp.Body)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || len(rest) != 0 {
		t.Errorf("after Close: %d more bytes, %v; want a broken connection", len(rest), err)
	}
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("Close did not return")
	}
	if got := b.hits.Load(); got != 1 {
		t.Errorf("backend got %d requests, want 1", got)
	}
}

package s3kit_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// countingTransport counts, per method, the requests and the bytes the
// store answered GETs with (Content-Length): what it was asked to send,
// whether or not the client read all of it.
type countingTransport struct {
	rt    http.RoundTripper
	mu    sync.Mutex
	bytes int64
	gets  []string // Range headers of the GETs
	heads int
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch req.Method {
	case http.MethodGet:
		c.gets = append(c.gets, req.Header.Get("Range"))
		if resp.ContentLength > 0 {
			c.bytes += resp.ContentLength
		}
	case http.MethodHead:
		c.heads++
	}
	return resp, nil
}

func (c *countingTransport) reset() {
	c.mu.Lock()
	c.bytes, c.gets, c.heads = 0, nil, 0
	c.mu.Unlock()
}

func (c *countingTransport) fetched() (int64, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, append([]string(nil), c.gets...)
}

// TestFileServerRangeFetchesLittle serves 1 MiB ranges of a 64 MiB object
// through http.FileServerFS over the library's FS, as a video player
// would ask for them, and counts what the store was asked for: about the
// range, not the whole read-ahead window (review P3).
func TestFileServerRangeFetchesLittle(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		const size = 64 * mib
		data := randomBytes(size)
		if _, err := e.bucket.Put(ctx, "movie.bin", bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		ct := &countingTransport{rt: http.DefaultTransport.(*http.Transport).Clone()}
		c := newClient(t, e.srv, s3kit.Config{HTTPClient: &http.Client{Transport: ct}})
		srv := httptest.NewServer(http.FileServerFS(c.Bucket(e.bucket.Name()).FS(ctx)))
		defer srv.Close()

		for _, start := range []int64{0, 5*mib + 12345, size - mib} {
			ct.reset()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/movie.bin", nil)
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, start+mib-1))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, data[start:start+mib]) {
				t.Fatalf("range at %d: %s, %d bytes, %v", start, resp.Status, len(got), err)
			}
			n, gets := ct.fetched()
			t.Logf("range at %d: the store was asked for %d bytes in %d GETs %q", start, n, len(gets), gets)
			if n > 2*mib {
				t.Errorf("serving 1 MiB at %d asked the store for %s bytes in %d GETs %q, want about 1 MiB", start, strconv.FormatInt(n, 10), len(gets), gets)
			}
		}

		// Read on in order, and the ranges grow back to the part size.
		ct.reset()
		r, err := c.Bucket(e.bucket.Name()).NewReader(ctx, "movie.bin", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.Seek(mib, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(struct{ io.Reader }{r}) // Read only, not WriteTo
		if err != nil || !bytes.Equal(got, data[mib:]) {
			t.Fatalf("reading on: %d bytes, %v", len(got), err)
		}
		n, gets := ct.fetched()
		if n != size-mib {
			t.Errorf("reading %d bytes in order asked the store for %d", size-mib, n)
		}
		var sizes []int64
		for _, g := range gets {
			var from, to int64
			fmt.Sscanf(g, "bytes=%d-%d", &from, &to)
			sizes = append(sizes, (to-from+1)/mib)
		}
		if len(sizes) == 0 || sizes[0] != 1 || slices.Max(sizes) != 8 {
			t.Errorf("ranges of %v MiB, want from 1 growing to 8", sizes)
		}
	})
}

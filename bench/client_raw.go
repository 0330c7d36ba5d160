package bench

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// rawClient is plain net/http with no signing, no retries and no
// checksums: the ceiling a client library can approach on the null
// server. A file upload is one PUT that net/http sends with sendfile; a
// stream is one chunked PUT; a download is one GET.
type rawClient struct {
	base string // endpoint URL and bucket, ending in "/"
	hc   *http.Client
}

func newRaw(ep Endpoint) *rawClient {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = TunedIdleConns
	t.MaxIdleConnsPerHost = TunedIdleConns
	t.DisableCompression = true
	return &rawClient{base: ep.URL + "/" + BenchBucket + "/", hc: &http.Client{Transport: t}}
}

func (c *rawClient) Name() string { return "raw" }

func (c *rawClient) do(ctx context.Context, method, key string, body io.Reader, size int64, hdr ...string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+escapePath(key), body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %s: %s", method, key, resp.Status, msg)
	}
	return resp, nil
}

func (c *rawClient) put(ctx context.Context, key string, body io.Reader, size int64) error {
	resp, err := c.do(ctx, http.MethodPut, key, body, size)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

func (c *rawClient) PutBytes(ctx context.Context, key string, data []byte) error {
	return c.put(ctx, key, bytesReader(data), int64(len(data)))
}

func (c *rawClient) GetBytes(ctx context.Context, key string) ([]byte, error) {
	resp, err := c.do(ctx, http.MethodGet, key, nil, 0)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func (c *rawClient) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	resp, err := c.do(ctx, http.MethodGet, key, nil, 0, "Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func (c *rawClient) Head(ctx context.Context, key string) (int64, error) {
	resp, err := c.do(ctx, http.MethodHead, key, nil, 0)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.ContentLength, nil
}

// rawListPage is the part of a ListObjectsV2 page the raw client decodes.
type rawListPage struct {
	Contents []struct {
		Key          string
		Size         int64
		ETag         string
		LastModified time.Time
	}
	IsTruncated           bool
	NextContinuationToken string
}

func (c *rawClient) List(ctx context.Context, prefix string, fn func(string, int64)) (int, error) {
	n, token := 0, ""
	for {
		q := url.Values{"list-type": {"2"}, "prefix": {prefix}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"?"+q.Encode(), nil)
		if err != nil {
			return n, err
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return n, err
		}
		var page rawListPage
		err = xml.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return n, fmt.Errorf("list: %s", resp.Status)
		}
		if err != nil {
			return n, err
		}
		for _, o := range page.Contents {
			fn(o.Key, o.Size)
			n++
		}
		if !page.IsTruncated {
			return n, nil
		}
		token = page.NextContinuationToken
	}
}

func (c *rawClient) UploadFile(ctx context.Context, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return c.put(ctx, key, f, fi.Size())
}

func (c *rawClient) UploadStream(ctx context.Context, key string, r io.Reader) error {
	return c.put(ctx, key, io.NopCloser(r), -1) // -1: chunked
}

func (c *rawClient) DownloadFile(ctx context.Context, key, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.DownloadWriter(ctx, key, f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (c *rawClient) DownloadWriter(ctx context.Context, key string, w io.Writer) (int64, error) {
	resp, err := c.do(ctx, http.MethodGet, key, nil, 0)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// escapePath escapes a key for a URL path, keeping "/".
func escapePath(key string) string {
	return (&url.URL{Path: key}).EscapedPath()
}

package bench

import (
	"context"
	"io"

	"github.com/s3kit/s3kit"
)

// s3kitClient is s3kit at its defaults (8 MiB parts, 8 at once, a 64 MiB
// memory budget, CRC64NVME checksums with unsigned payloads), or
// tuned-equal. Every setting is the Client's, so the calls pass no
// options.
type s3kitClient struct {
	name  string
	tuned bool
	c     *s3kit.Client
	b     *s3kit.Bucket
}

func newS3kit(ctx context.Context, name string, ep Endpoint, tuned bool) (*s3kitClient, error) {
	cfg := s3kit.Config{
		Endpoint:        ep.URL,
		Region:          ep.Region,
		AccessKeyID:     ep.AccessKey,
		SecretAccessKey: ep.SecretKey,
	}
	if tuned {
		// Concurrency also sets the idle connections per host:
		// max(2*8, 64) = 64 = TunedIdleConns.
		cfg.Concurrency = TunedConcurrency
		cfg.PartSize = TunedPartSize
		cfg.Checksum = TunedChecksum
		// The default budget (64 MiB) would hold 4 parts of 16 MiB, not
		// 8: give s3kit the buffers the peers allocate for the same
		// concurrency (parts in flight plus the one being filled).
		cfg.MemoryLimit = (TunedConcurrency + 1) * TunedPartSize
	}
	c, err := s3kit.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &s3kitClient{name: name, tuned: tuned, c: c, b: c.Bucket(BenchBucket)}, nil
}

func (c *s3kitClient) Name() string { return c.name }

func (c *s3kitClient) PutBytes(ctx context.Context, key string, data []byte) error {
	_, err := c.b.PutBytes(ctx, key, data, nil)
	return err
}

func (c *s3kitClient) GetBytes(ctx context.Context, key string) ([]byte, error) {
	data, _, err := c.b.GetBytes(ctx, key)
	return data, err
}

func (c *s3kitClient) Head(ctx context.Context, key string) (int64, error) {
	info, err := c.b.Head(ctx, key, nil)
	return info.Size, err
}

func (c *s3kitClient) List(ctx context.Context, prefix string, fn func(string, int64)) (int, error) {
	n := 0
	for o, err := range c.b.List(ctx, &s3kit.ListOptions{Prefix: prefix}) {
		if err != nil {
			return n, err
		}
		fn(o.Key, o.Size)
		n++
	}
	return n, nil
}

func (c *s3kitClient) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	r, err := c.b.NewReader(ctx, key, &s3kit.ReaderOptions{Offset: off, Length: n})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (c *s3kitClient) UploadFile(ctx context.Context, key, path string) error {
	_, err := c.b.Upload(ctx, path, key, nil)
	return err
}

func (c *s3kitClient) UploadStream(ctx context.Context, key string, r io.Reader) error {
	w, err := c.b.NewWriter(ctx, key, nil)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil { // Writer.ReadFrom
		w.Abort()
		return err
	}
	return w.Close()
}

func (c *s3kitClient) DownloadFile(ctx context.Context, key, path string) error {
	_, err := c.b.Download(ctx, key, path, nil)
	return err
}

func (c *s3kitClient) DownloadWriter(ctx context.Context, key string, w io.Writer) (int64, error) {
	r, err := c.b.NewReader(ctx, key, nil)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return r.WriteTo(w)
}

package bench

import (
	"context"
	"io"
	"net/url"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// minioClient is minio-go at its defaults (payloads signed with streaming
// SHA-256 chunk signatures on plain HTTP, 4 parts at once, part sizes
// chosen for a 5 TiB object when the size is unknown, downloads in one
// GET), or tuned-equal.
type minioClient struct {
	name  string
	tuned bool
	mc    *minio.Client
}

func newMinio(name string, ep Endpoint, tuned bool) (*minioClient, error) {
	u, err := url.Parse(ep.URL)
	if err != nil {
		return nil, err
	}
	opts := &minio.Options{
		Creds:  credentials.NewStaticV4(ep.AccessKey, ep.SecretKey, ""),
		Secure: u.Scheme == "https",
	}
	if tuned {
		tr, err := minio.DefaultTransport(opts.Secure)
		if err != nil {
			return nil, err
		}
		tr.MaxIdleConns = TunedIdleConns
		tr.MaxIdleConnsPerHost = TunedIdleConns
		opts.Transport = tr
		opts.Region = ep.Region
		// Needed for a checksum with an unsigned payload (a trailer).
		opts.TrailingHeaders = true
	}
	mc, err := minio.New(u.Host, opts)
	if err != nil {
		return nil, err
	}
	return &minioClient{name: name, tuned: tuned, mc: mc}, nil
}

func (c *minioClient) Name() string { return c.name }

func (c *minioClient) putOptions() minio.PutObjectOptions {
	if !c.tuned {
		return minio.PutObjectOptions{}
	}
	return minio.PutObjectOptions{
		PartSize:              TunedPartSize,
		NumThreads:            TunedConcurrency,
		DisableContentSha256:  true,
		Checksum:              minio.ChecksumCRC32C, // TunedChecksum
		ConcurrentStreamParts: true,
	}
}

func (c *minioClient) PutBytes(ctx context.Context, key string, data []byte) error {
	_, err := c.mc.PutObject(ctx, BenchBucket, key, bytesReader(data), int64(len(data)), c.putOptions())
	return err
}

func (c *minioClient) GetBytes(ctx context.Context, key string) ([]byte, error) {
	o, err := c.mc.GetObject(ctx, BenchBucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	defer o.Close()
	return io.ReadAll(o)
}

func (c *minioClient) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	var opts minio.GetObjectOptions
	if err := opts.SetRange(off, off+n-1); err != nil {
		return nil, err
	}
	o, err := c.mc.GetObject(ctx, BenchBucket, key, opts)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	return io.ReadAll(o)
}

func (c *minioClient) Head(ctx context.Context, key string) (int64, error) {
	info, err := c.mc.StatObject(ctx, BenchBucket, key, minio.StatObjectOptions{})
	return info.Size, err
}

func (c *minioClient) List(ctx context.Context, prefix string, fn func(string, int64)) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine on an early return
	n := 0
	for o := range c.mc.ListObjects(ctx, BenchBucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return n, o.Err
		}
		fn(o.Key, o.Size)
		n++
	}
	return n, nil
}

func (c *minioClient) UploadFile(ctx context.Context, key, path string) error {
	_, err := c.mc.FPutObject(ctx, BenchBucket, key, path, c.putOptions())
	return err
}

func (c *minioClient) UploadStream(ctx context.Context, key string, r io.Reader) error {
	_, err := c.mc.PutObject(ctx, BenchBucket, key, r, -1, c.putOptions())
	return err
}

func (c *minioClient) DownloadFile(ctx context.Context, key, path string) error {
	return c.mc.FGetObject(ctx, BenchBucket, key, path, minio.GetObjectOptions{})
}

func (c *minioClient) DownloadWriter(ctx context.Context, key string, w io.Writer) (int64, error) {
	o, err := c.mc.GetObject(ctx, BenchBucket, key, minio.GetObjectOptions{})
	if err != nil {
		return 0, err
	}
	defer o.Close()
	return io.Copy(w, o)
}

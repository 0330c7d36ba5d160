package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// newS3API returns an aws-sdk-go-v2 service/s3 client for ep: at the SDK's
// defaults (its HTTP client keeps 10 idle connections per host; payloads
// signed with SHA-256 on plain HTTP; a CRC32 checksum on every upload and
// response checksums validated), or tuned-equal.
func newS3API(ep Endpoint, tuned bool) *s3.Client {
	cfg := aws.Config{
		Region:      ep.Region,
		Credentials: credentials.NewStaticCredentialsProvider(ep.AccessKey, ep.SecretKey, ""),
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(ep.URL)
		o.UsePathStyle = true
		if !tuned {
			return
		}
		o.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = TunedIdleConns
			t.MaxIdleConnsPerHost = TunedIdleConns
		})
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		// The checksum is asked for per request (TunedChecksum), not
		// added by the SDK's own default (CRC32).
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
}

// sdkClient is aws-sdk-go-v2's service/s3 used directly: one request per
// operation, no multipart, no parallel ranges.
type sdkClient struct {
	name  string
	tuned bool
	s3    *s3.Client
}

func newSDK(name string, ep Endpoint, tuned bool) *sdkClient {
	return &sdkClient{name: name, tuned: tuned, s3: newS3API(ep, tuned)}
}

func (c *sdkClient) Name() string { return c.name }

func (c *sdkClient) checksum() types.ChecksumAlgorithm {
	if c.tuned {
		return types.ChecksumAlgorithm(TunedChecksum)
	}
	return ""
}

func (c *sdkClient) put(ctx context.Context, key string, body io.Reader, size int64) error {
	_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(BenchBucket),
		Key:               aws.String(key),
		Body:              body,
		ContentLength:     aws.Int64(size),
		ChecksumAlgorithm: c.checksum(),
	})
	return err
}

func (c *sdkClient) PutBytes(ctx context.Context, key string, data []byte) error {
	return c.put(ctx, key, bytesReader(data), int64(len(data)))
}

func (c *sdkClient) get(ctx context.Context, key, rng string) (*s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(BenchBucket), Key: aws.String(key)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	return c.s3.GetObject(ctx, in)
}

func (c *sdkClient) GetBytes(ctx context.Context, key string) ([]byte, error) {
	out, err := c.get(ctx, key, "")
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (c *sdkClient) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	out, err := c.get(ctx, key, fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (c *sdkClient) Head(ctx context.Context, key string) (int64, error) {
	out, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(BenchBucket), Key: aws.String(key)})
	if err != nil {
		return 0, err
	}
	return aws.ToInt64(out.ContentLength), nil
}

func (c *sdkClient) List(ctx context.Context, prefix string, fn func(string, int64)) (int, error) {
	p := s3.NewListObjectsV2Paginator(c.s3, &s3.ListObjectsV2Input{Bucket: aws.String(BenchBucket), Prefix: aws.String(prefix)})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, err
		}
		for _, o := range page.Contents {
			fn(aws.ToString(o.Key), aws.ToInt64(o.Size))
			n++
		}
	}
	return n, nil
}

// UploadFile sends the file in one PutObject (up to 5 GiB).
func (c *sdkClient) UploadFile(ctx context.Context, key, path string) error {
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

func (c *sdkClient) UploadStream(context.Context, string, io.Reader) error {
	return unsupported("service/s3 PutObject needs a known length or a seekable body (or TLS with a trailing checksum)")
}

func (c *sdkClient) DownloadFile(ctx context.Context, key, path string) error {
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

func (c *sdkClient) DownloadWriter(ctx context.Context, key string, w io.Writer) (int64, error) {
	out, err := c.get(ctx, key, "")
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	return io.Copy(w, out.Body)
}

// tmClient is aws-sdk-go-v2's feature/s3/transfermanager over a service/s3
// client configured the same way: at their defaults (8 MiB parts, 5 at
// once, a CRC32 checksum, downloads by part number), or tuned-equal
// (downloads by ranges of the part size).
type tmClient struct {
	name string
	tm   *transfermanager.Client
}

func newTM(name string, ep Endpoint, tuned bool) *tmClient {
	var opts []func(*transfermanager.Options)
	if tuned {
		opts = append(opts, func(o *transfermanager.Options) {
			o.PartSizeBytes = TunedPartSize
			o.Concurrency = TunedConcurrency
			o.ChecksumAlgorithm = tmtypes.ChecksumAlgorithm(TunedChecksum)
			o.GetObjectType = tmtypes.GetObjectRanges
		})
	}
	return &tmClient{name: name, tm: transfermanager.New(newS3API(ep, tuned), opts...)}
}

func (c *tmClient) Name() string { return c.name }

func (c *tmClient) PutBytes(context.Context, string, []byte) error {
	return unsupported("transfermanager is measured on transfers only; small objects go through service/s3 (client sdk)")
}

func (c *tmClient) GetBytes(context.Context, string) ([]byte, error) {
	return nil, unsupported("transfermanager is measured on transfers only")
}

func (c *tmClient) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	out, err := c.tm.GetObject(ctx, &transfermanager.GetObjectInput{
		Bucket: aws.String(BenchBucket), Key: aws.String(key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1)),
	}, func(o *transfermanager.Options) {
		// Range is ignored in the default mode, by part numbers.
		o.GetObjectType = tmtypes.GetObjectRanges
	})
	if err != nil {
		return nil, err
	}
	return io.ReadAll(out.Body)
}

func (c *tmClient) Head(context.Context, string) (int64, error) {
	return 0, unsupported("transfermanager has no HeadObject")
}

func (c *tmClient) List(context.Context, string, func(string, int64)) (int, error) {
	return 0, unsupported("transfermanager has no listing")
}

func (c *tmClient) upload(ctx context.Context, key string, r io.Reader) error {
	_, err := c.tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(BenchBucket), Key: aws.String(key), Body: r,
	})
	return err
}

func (c *tmClient) UploadFile(ctx context.Context, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.upload(ctx, key, f)
}

func (c *tmClient) UploadStream(ctx context.Context, key string, r io.Reader) error {
	return c.upload(ctx, key, r)
}

func (c *tmClient) DownloadFile(ctx context.Context, key, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = c.tm.DownloadObject(ctx, &transfermanager.DownloadObjectInput{
		Bucket: aws.String(BenchBucket), Key: aws.String(key), WriterAt: f,
	})
	if err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// DownloadWriter would read GetObject's Body, which in this version
// deadlocks for good on large multipart objects read in small chunks
// (aws/aws-sdk-go-v2#3552, fixed in v0.4.5). v0.4.5 and later need
// aws-sdk-go-v2 v1.47, which would upgrade the SDK s3kit is measured with
// (it pins v1.45), so the case is not measured for transfermanager.
func (c *tmClient) DownloadWriter(context.Context, string, io.Writer) (int64, error) {
	return 0, unsupported("transfermanager v0.4.1's GetObject deadlocks on large multipart objects (aws/aws-sdk-go-v2#3552, fixed in v0.4.5, which needs a newer SDK than s3kit's)")
}

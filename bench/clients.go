// Package bench measures s3kit against its peers — aws-sdk-go-v2's
// service/s3 and feature/s3/transfermanager, and minio-go — in the same
// run, against the same servers, with Go's benchmark harness. See
// README.md in this directory and run.sh.
//
// The package holds what the benchmarks and the child processes they start
// share: the null S3 server, the server launchers and one adapter per
// client library configuration (Client).
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// BenchBucket is the bucket every benchmark works in.
const BenchBucket = "bench"

// The "tuned-equal" configuration: every library that has the knob is set
// the same way, so that differences come from the libraries rather than
// from their defaults.
const (
	TunedPartSize    = 16 << 20 // bytes per part of multipart transfers
	TunedConcurrency = 8        // parts in flight per transfer
	TunedIdleConns   = 64       // idle HTTP connections kept per host
	// TunedChecksum is the checksum every library computes on upload.
	// CRC32C is the one all of them support and compute with the CPU's
	// CRC instruction, so it measures the libraries, not checksum code.
	TunedChecksum = "CRC32C"
	// Payloads are sent unsigned (UNSIGNED-PAYLOAD) where the library
	// allows it: signing a payload costs a SHA-256 pass over every byte.
)

// Endpoint is a server the benchmarks talk to.
type Endpoint struct {
	Server    string // "null" or "versitygw"
	URL       string // "http://127.0.0.1:PORT"
	AccessKey string
	SecretKey string
	Region    string
	// Unsigned is true for a server that checks no signature (the null
	// server), where the raw net/http client can be measured.
	Unsigned bool
}

// Client is one S3 client library in one configuration, reduced to the
// operations the benchmarks time. Every method works on BenchBucket. A
// method the library cannot do returns an error matching ErrNotSupported,
// and the benchmark is skipped, saying why.
type Client interface {
	// Name is the client's name in benchmark results: a library ("s3kit",
	// "sdk", "tm", "minio", "raw") and "-tuned" for the tuned-equal
	// configuration.
	Name() string
	// PutBytes writes a small object.
	PutBytes(ctx context.Context, key string, data []byte) error
	// GetBytes reads a small object whole.
	GetBytes(ctx context.Context, key string) ([]byte, error)
	// GetRange reads n bytes of the object from offset off.
	GetRange(ctx context.Context, key string, off, n int64) ([]byte, error)
	// Head returns the object's size.
	Head(ctx context.Context, key string) (int64, error)
	// List calls fn for every key under prefix, in order, and returns how
	// many there were.
	List(ctx context.Context, prefix string, fn func(key string, size int64)) (int, error)
	// UploadFile writes the local file at path to key.
	UploadFile(ctx context.Context, key, path string) error
	// UploadStream writes everything r yields to key; r is not seekable
	// and its size is not known in advance.
	UploadStream(ctx context.Context, key string, r io.Reader) error
	// DownloadFile writes the object at key to the local file at path.
	DownloadFile(ctx context.Context, key, path string) error
	// DownloadWriter writes the object at key to w, in order.
	DownloadWriter(ctx context.Context, key string, w io.Writer) (int64, error)
}

// ClientNames lists every client configuration, in the order results show
// them: s3kit first, then each peer at its defaults and tuned-equal, then
// the raw net/http ceiling.
var ClientNames = []string{
	"s3kit", "s3kit-tuned",
	"sdk", "sdk-tuned",
	"tm", "tm-tuned",
	"minio", "minio-tuned",
	"raw",
}

// NewClient returns the named client configuration for ep.
func NewClient(ctx context.Context, name string, ep Endpoint) (Client, error) {
	if !slices.Contains(ClientNames, name) {
		return nil, fmt.Errorf("bench: unknown client %q (want one of %v)", name, ClientNames)
	}
	switch name {
	case "s3kit", "s3kit-tuned":
		return newS3kit(ctx, name, ep, name == "s3kit-tuned")
	case "sdk", "sdk-tuned":
		return newSDK(name, ep, name == "sdk-tuned"), nil
	case "tm", "tm-tuned":
		return newTM(name, ep, name == "tm-tuned"), nil
	case "minio", "minio-tuned":
		return newMinio(name, ep, name == "minio-tuned")
	default:
		if !ep.Unsigned {
			return nil, unsupported("the raw client sends unsigned requests, which %s refuses", ep.Server)
		}
		return newRaw(ep), nil
	}
}

// ErrNotSupported is the error of an operation a client library does not
// have. It is not errors.ErrUnsupported, which a library may return for a
// server's NotImplemented: that is a failure of the server, not a gap of
// the client.
var ErrNotSupported = errors.New("not supported by this client")

// unsupported returns an error matching ErrNotSupported that says why.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotSupported, fmt.Sprintf(format, args...))
}

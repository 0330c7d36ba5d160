package s3kit_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// mpSource writes an object of just over one part at key: a multipart copy
// of it with PartSize MinPartSize has two parts.
func mpSource(t *testing.T, b *s3kit.Bucket, key string) []byte {
	t.Helper()
	data := bytes.Repeat([]byte("0123456789abcdef"), (s3kit.MinPartSize+1<<20)/16)
	if _, err := b.PutBytes(t.Context(), key, data, nil); err != nil {
		t.Fatal(err)
	}
	return data
}

func isPlainCopy(r *http.Request) bool {
	return r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" && !r.URL.Query().Has("uploadId")
}

func isComplete(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Query().Has("uploadId")
}

// abortAll aborts the multipart uploads left in b.
func abortAll(t *testing.T, e *env, b *s3kit.Bucket) {
	t.Helper()
	cl := sdkClient(e)
	out, err := cl.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(b.Name())})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range out.Uploads {
		if _, err := cl.AbortMultipartUpload(t.Context(), &s3.AbortMultipartUploadInput{Bucket: aws.String(b.Name()), Key: u.Key, UploadId: u.UploadId}); err != nil {
			t.Error(err)
		}
	}
}

// The fallback to a multipart copy, taken when the store refuses a source
// as too large for one CopyObject, honours the caller's IfMatch.
func TestCopyFallbackIfMatch(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		data := mpSource(t, e.bucket, "big")
		h, err := e.bucket.Head(ctx, "big", nil)
		if err != nil {
			t.Fatal(err)
		}
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		// As S3 answers a CopyObject of more than 5 GiB.
		p.Add(faultproxy.Rule{Match: isPlainCopy, Fault: faultproxy.Status(400, "InvalidRequest")})
		creates := p.Add(faultproxy.Rule{Method: http.MethodPost, Match: faultproxy.HasQuery("uploads")})
		opts := func(ifMatch string) *s3kit.CopyOptions {
			o := &s3kit.CopyOptions{IfMatch: ifMatch, PartSize: s3kit.MinPartSize}
			s3kit.SetMaxSingleCopy(o, s3kit.MinPartSize)
			return o
		}

		_, err = b.Copy(ctx, "big", "stale", opts(`"0123456789abcdef0123456789abcdef"`))
		if !errors.Is(err, s3kit.ErrPreconditionFailed) {
			t.Fatalf("fallback copy with a stale IfMatch: %v, want ErrPreconditionFailed", err)
		}
		if n := creates.Fired(); n != 0 {
			t.Fatalf("%d multipart uploads created for a failed precondition", n)
		}
		if _, err := e.bucket.Head(ctx, "stale", nil); !errors.Is(err, s3kit.ErrNotExist) {
			t.Fatalf("destination of a refused copy: %v", err)
		}

		info, err := b.Copy(ctx, "big", "fresh", opts(h.ETag))
		if err != nil {
			t.Fatal(err)
		}
		if creates.Fired() != 1 || info.Size != int64(len(data)) {
			t.Fatalf("fallback copy: %d uploads, %+v", creates.Fired(), info)
		}
		if got, _, err := e.bucket.GetBytes(ctx, "fresh"); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("copied %d bytes, %v", len(got), err)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for a Logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A multipart copy whose abort fails says so in the log, as a Writer does.
func TestMultipartCopyAbortLogged(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		mpSource(t, e.bucket, "big")
		var log syncBuffer
		c, p := proxied(t, e, s3kit.Config{MaxAttempts: 1, Logger: slog.New(slog.NewTextHandler(&log, nil))})
		partCopy := func(r *http.Request) bool {
			return r.Method == http.MethodPut && r.URL.Query().Has("uploadId") && r.Header.Get("X-Amz-Copy-Source") != ""
		}
		p.Add(faultproxy.Rule{Match: partCopy, Fault: faultproxy.Status(403, "AccessDenied")})
		aborts := p.Add(faultproxy.Rule{Method: http.MethodDelete, Match: faultproxy.HasQuery("uploadId"), Fault: faultproxy.Status(403, "AccessDenied")})
		_, err := c.Bucket(e.bucket.Name()).Copy(ctx, "big", "copy", &s3kit.CopyOptions{MultipartThreshold: 1, PartSize: s3kit.MinPartSize})
		p.Reset()
		abortAll(t, e, e.bucket)
		if !errors.Is(err, s3kit.ErrPermission) {
			t.Fatalf("Copy = %v, want the part copies' ErrPermission", err)
		}
		if aborts.Fired() == 0 {
			t.Fatal("no abort sent")
		}
		if got := log.String(); !strings.Contains(got, "aborting multipart copy failed") || !strings.Contains(got, "copy") {
			t.Fatalf("log: %q; want the failed abort", got)
		}
	})
}

// A CompleteMultipartUpload whose first attempt completed the copy but
// whose answer was lost is retried by the SDK and answered NoSuchUpload:
// the copy succeeded. If the upload vanished otherwise, the error says so
// and does not claim the object does not exist. (versitygw answers the
// retried Complete of a completed upload with success, so only MinIO
// takes the NoSuchUpload path in the first case.)
func TestMultipartCopyLostComplete(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, direct := t.Context(), e.bucket
		data := mpSource(t, direct, "big")
		opts := &s3kit.CopyOptions{MultipartThreshold: 1, PartSize: s3kit.MinPartSize}

		t.Run("answer lost", func(t *testing.T) {
			first := once()
			completes := 0
			c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
				if !isComplete(r) {
					return next(r)
				}
				completes++ // one Copy, attempts in sequence
				resp, err := next(r)
				if err != nil || !first() {
					return resp, err
				}
				// Committed; the answer never arrives.
				resp.Body.Close()
				return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
			})
			info, err := c.Bucket(direct.Name()).Copy(ctx, "big", "copied", opts)
			if err != nil {
				t.Fatalf("Copy whose Complete answer was lost: %v", err)
			}
			if completes != 2 {
				t.Fatalf("%d Complete attempts, want 2 (the SDK's retry)", completes)
			}
			h, err := direct.Head(ctx, "copied", nil)
			if err != nil || info.Size != int64(len(data)) || info.ETag != h.ETag {
				t.Fatalf("Copy info %+v; object %+v, %v", info, h, err)
			}
			if got, _, err := direct.GetBytes(ctx, "copied"); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("copied %d bytes, %v", len(got), err)
			}
		})

		t.Run("upload vanished", func(t *testing.T) {
			cl := sdkClient(e)
			c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
				if isComplete(r) {
					// Another client aborts it first.
					key := strings.TrimPrefix(r.URL.Path, "/"+direct.Name()+"/")
					if _, err := cl.AbortMultipartUpload(r.Context(), &s3.AbortMultipartUploadInput{
						Bucket: aws.String(direct.Name()), Key: aws.String(key), UploadId: aws.String(r.URL.Query().Get("uploadId")),
					}); err != nil {
						return nil, err
					}
				}
				return next(r)
			})
			_, err := c.Bucket(direct.Name()).Copy(ctx, "big", "vanished", opts)
			if err == nil || errors.Is(err, s3kit.ErrNotExist) || !strings.Contains(err.Error(), "vanished") {
				t.Fatalf("Copy whose upload was aborted: %v; want an error saying it vanished, not ErrNotExist", err)
			}
			if _, err := direct.Head(ctx, "vanished", nil); !errors.Is(err, s3kit.ErrNotExist) {
				t.Fatalf("destination: %v", err)
			}
		})
	})
}

// A MultipartThreshold above the largest single copy is bounded by it: a
// source too large for one CopyObject is copied in parts, not sent as a
// single copy the store refuses.
func TestCopyThresholdAboveMaxCopySize(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		data := mpSource(t, e.bucket, "big")
		c, p := proxied(t, e, s3kit.Config{})
		// As S3 answers a CopyObject of more than 5 GiB.
		plain := p.Add(faultproxy.Rule{Match: isPlainCopy, Fault: faultproxy.Status(400, "InvalidRequest")})
		o := &s3kit.CopyOptions{MultipartThreshold: 1 << 40, PartSize: s3kit.MinPartSize}
		s3kit.SetMaxSingleCopy(o, s3kit.MinPartSize)
		info, err := c.Bucket(e.bucket.Name()).Copy(ctx, "big", "copied", o)
		if err != nil || plain.Fired() != 0 || info.Size != int64(len(data)) {
			t.Fatalf("Copy with a threshold above the largest single copy: %+v, %v, %d single copies; want a multipart copy", info, err, plain.Fired())
		}
		if got, _, err := e.bucket.GetBytes(ctx, "copied"); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("copied %d bytes, %v", len(got), err)
		}
	})
}

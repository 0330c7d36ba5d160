package s3kit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/crc64nvme"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

const mib = 1 << 20

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 42))
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b
}

func crc64Of(data []byte) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], crc64nvme.Checksum(data))
	return base64.StdEncoding.EncodeToString(b[:])
}

// noUploadsLeft fails t if any multipart upload is still open in b.
func noUploadsLeft(t *testing.T, c *s3kit.Client, bucket string) {
	t.Helper()
	out, err := c.S3().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left open, first %q", len(out.Uploads), aws.ToString(out.Uploads[0].Key))
	}
}

// writeChunks writes data to w in uneven chunks, as a program would.
func writeChunks(t *testing.T, w io.Writer, data []byte) {
	t.Helper()
	for len(data) > 0 {
		n := min(len(data), 1+rand.IntN(300_000))
		if _, err := w.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
}

func TestWriter(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		opts := &s3kit.WriterOptions{PartSize: 5 * mib, Concurrency: 3}

		t.Run("small is one PUT", func(t *testing.T) {
			w, err := b.NewWriter(ctx, "small.txt", opts)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, "tiny")
			if ok, _ := b.Exists(ctx, "small.txt"); ok {
				t.Fatal("object visible before Close")
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if s, _, _ := b.GetString(ctx, "small.txt"); s != "tiny" {
				t.Fatalf("content %q", s)
			}
			info, err := b.Head(ctx, "small.txt", nil)
			if err != nil || info.ContentType != "text/plain; charset=utf-8" {
				t.Fatalf("Head = %+v, %v", info, err)
			}
			if got := info.Checksums["CRC64NVME"]; got != crc64Of([]byte("tiny")) {
				t.Errorf("stored CRC64NVME %q, want %q", got, crc64Of([]byte("tiny")))
			}
			if err := w.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if _, err := w.Write([]byte("x")); err == nil {
				t.Error("Write after Close succeeded")
			}
		})

		t.Run("multipart streams", func(t *testing.T) {
			data := randomBytes(17*mib + 12345)
			w, err := b.NewWriter(ctx, "big.bin", &s3kit.WriterOptions{PartSize: 5 * mib, Concurrency: 3,
				PutOptions: s3kit.PutOptions{Metadata: map[string]string{"k": "v"}, Tags: map[string]string{"t": "1"}}})
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, w, data)
			if ok, _ := b.Exists(ctx, "big.bin"); ok {
				t.Fatal("object visible before Close")
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if w.Info().Size != int64(len(data)) {
				t.Errorf("Info().Size = %d", w.Info().Size)
			}
			got, _, err := b.GetBytes(ctx, "big.bin")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("content differs (%d bytes, %v)", len(got), err)
			}
			info, err := b.Head(ctx, "big.bin", &s3kit.HeadOptions{WithTags: true})
			if err != nil || info.Metadata["k"] != "v" || info.Tags["t"] != "1" {
				t.Fatalf("Head = %+v, %v", info, err)
			}
			e.requireFeature(t, "full-object multipart checksums")
			if got := info.Checksums["CRC64NVME"]; got != crc64Of(data) || info.ChecksumType != "FULL_OBJECT" {
				t.Errorf("stored checksum %q (%s), want %q FULL_OBJECT", got, info.ChecksumType, crc64Of(data))
			}
			noUploadsLeft(t, e.client, b.Name())
		})

		t.Run("ReadFrom a file uploads parts straight from it", func(t *testing.T) {
			data := randomBytes(11*mib + 7)
			path := filepath.Join(t.TempDir(), "src")
			os.WriteFile(path, data, 0o600)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w, err := b.NewWriter(ctx, "from-file", opts)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := w.ReadFrom(f); err != nil || n != int64(len(data)) {
				t.Fatalf("ReadFrom = %d, %v", n, err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := b.GetBytes(ctx, "from-file"); !bytes.Equal(got, data) {
				t.Fatal("content differs")
			}
		})

		t.Run("Abort leaves nothing", func(t *testing.T) {
			if _, err := b.PutString(ctx, "kept", "old", nil); err != nil {
				t.Fatal(err)
			}
			w, err := b.NewWriter(ctx, "kept", opts)
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, w, randomBytes(12*mib))
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err == nil {
				t.Fatal("Close after Abort succeeded")
			}
			if s, _, _ := b.GetString(ctx, "kept"); s != "old" {
				t.Fatalf("previous object changed to %q", s)
			}
			noUploadsLeft(t, e.client, b.Name())
		})

		t.Run("cancelled context aborts", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			w, err := b.NewWriter(cctx, "cancelled", opts)
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, w, randomBytes(11*mib))
			cancel()
			w.Write(make([]byte, 5*mib))
			if err := w.Close(); !errors.Is(err, context.Canceled) {
				t.Fatalf("Close = %v, want context.Canceled", err)
			}
			if ok, _ := b.Exists(ctx, "cancelled"); ok {
				t.Fatal("object exists after cancel")
			}
			noUploadsLeft(t, e.client, b.Name())
		})

		t.Run("create-only", func(t *testing.T) {
			w, err := b.NewWriter(ctx, "kept", &s3kit.WriterOptions{PartSize: 5 * mib, PutOptions: s3kit.PutOptions{IfNoneMatch: "*"}})
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, w, randomBytes(6*mib))
			e.requireFeature(t, "conditional multipart completion")
			if err := w.Close(); !errors.Is(err, s3kit.ErrExist) {
				t.Fatalf("Close = %v, want ErrExist", err)
			}
			if s, _, _ := b.GetString(ctx, "kept"); s != "old" {
				t.Fatalf("existing object overwritten: %q", s[:min(len(s), 10)])
			}
			noUploadsLeft(t, e.client, b.Name())
		})
	})
}

func TestWriterFaults(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c, p := proxied(t, e, s3kit.Config{PartSize: 5 * mib, MaxAttempts: 3})
		b := c.Bucket(e.bucket.Name())
		isPart := faultproxy.HasQuery("partNumber")

		t.Run("part retried", func(t *testing.T) {
			p.Reset()
			r := p.Add(faultproxy.Rule{Method: http.MethodPut, Match: isPart, Times: 2, Fault: faultproxy.Status(503, "SlowDown")})
			data := randomBytes(12 * mib)
			if _, err := b.Put(ctx, "retried", io.MultiReader(bytes.NewReader(data)), nil); err != nil {
				t.Fatal(err)
			}
			if r.Fired() != 2 {
				t.Fatalf("fault fired %d times", r.Fired())
			}
			if got, _, _ := e.bucket.GetBytes(ctx, "retried"); !bytes.Equal(got, data) {
				t.Fatal("content differs after part retries")
			}
		})

		t.Run("persistent failure aborts", func(t *testing.T) {
			p.Reset()
			p.Add(faultproxy.Rule{Method: http.MethodPut, Match: isPart, Fault: faultproxy.Status(500, "InternalError")})
			_, err := b.Put(ctx, "failed", bytes.NewReader(randomBytes(12*mib)), nil)
			var se *s3kit.Error
			if !errors.As(err, &se) || se.Code != "InternalError" || se.Op != "Put" {
				t.Fatalf("Put = %v, want the part's InternalError", err)
			}
			if ok, _ := e.bucket.Exists(ctx, "failed"); ok {
				t.Fatal("object exists after a failed upload")
			}
			noUploadsLeft(t, e.client, b.Name())
		})

		t.Run("reset mid-part retried", func(t *testing.T) {
			p.Reset()
			p.Add(faultproxy.Rule{Method: http.MethodPut, Match: isPart, Times: 1, Fault: faultproxy.ResetAfter(0)})
			data := randomBytes(11 * mib)
			if _, err := b.Put(ctx, "reset", bytes.NewReader(data), nil); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := e.bucket.GetBytes(ctx, "reset"); !bytes.Equal(got, data) {
				t.Fatal("content differs")
			}
		})

		t.Run("large body from a ReaderAt goes in parallel parts", func(t *testing.T) {
			p.Reset()
			data := randomBytes(16 * mib)
			if _, err := b.Put(ctx, "readerat", bytes.NewReader(data), nil); err != nil {
				t.Fatal(err)
			}
			parts := 0
			for _, r := range p.Requests() {
				if strings.Contains(r.RawQuery, "partNumber") {
					parts++
				}
			}
			if parts != 4 {
				t.Fatalf("%d parts, want 4 of 5 MiB", parts)
			}
		})
	})
}

func TestChecksumAlgorithms(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		for _, alg := range []string{s3kit.ChecksumCRC32C, s3kit.ChecksumCRC32, s3kit.ChecksumNone} {
			t.Run(alg, func(t *testing.T) {
				c := newClient(t, e.srv, s3kit.Config{Checksum: alg, PartSize: 5 * mib})
				b := c.Bucket(e.bucket.Name())
				for _, size := range []int{1000, 11 * mib} {
					data := randomBytes(size)
					key := fmt.Sprintf("%s-%d", alg, size)
					if _, err := b.Put(ctx, key, io.MultiReader(bytes.NewReader(data)), nil); err != nil {
						t.Fatal(err)
					}
					r, err := b.NewReader(ctx, key, nil)
					if err != nil {
						t.Fatal(err)
					}
					got, err := io.ReadAll(r)
					r.Close()
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("%d bytes: read back %d, %v", size, len(got), err)
					}
					info := r.Info()
					if alg == s3kit.ChecksumNone {
						continue
					}
					if info.Checksums[alg] == "" {
						t.Errorf("%d bytes: no %s stored: %v", size, alg, info.Checksums)
					}
				}
			})
		}
	})
}

func TestWriterDeadline(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		c, p := proxied(t, e, s3kit.Config{PartSize: 5 * mib})
		b := c.Bucket(e.bucket.Name())
		p.Add(faultproxy.Rule{Method: http.MethodPut, Match: faultproxy.HasQuery("partNumber"), Fault: faultproxy.Delay(10 * time.Second)})
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		_, err := b.Put(ctx, "slow", bytes.NewReader(randomBytes(11*mib)), nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Put past its deadline = %v, want DeadlineExceeded", err)
		}
		p.Reset()
		noUploadsLeft(t, e.client, b.Name())
		if ok, _ := e.bucket.Exists(t.Context(), "slow"); ok {
			t.Fatal("object exists")
		}
	})
}

// ReadFrom of a file uploads its whole parts straight from it, wherever it
// comes among other writes: before, after, and twice in a row.
func TestWriterReadFromAmongWrites(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c := newClient(t, e.srv, s3kit.Config{PartSize: s3kit.MinPartSize})
		b := c.Bucket(e.bucket.Name())
		dir := t.TempDir()
		src := func(name string, n int) *os.File {
			t.Helper()
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, randomBytes(n), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}
		for _, tc := range []struct {
			name  string
			sizes []int // file sizes; 0 means a 6-byte Write
		}{
			{"write then file", []int{0, 2*s3kit.MinPartSize + 1000}},
			{"file of whole parts then write", []int{2 * s3kit.MinPartSize, 0}},
			{"file, file, write", []int{s3kit.MinPartSize + 7, 3*s3kit.MinPartSize - 5, 0}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				w, err := b.NewWriter(ctx, "mixed", nil)
				if err != nil {
					t.Fatal(err)
				}
				var want bytes.Buffer
				for i, n := range tc.sizes {
					if n == 0 {
						want.WriteString("HEADER")
						if _, err := w.Write([]byte("HEADER")); err != nil {
							t.Fatal(err)
						}
						continue
					}
					f := src(fmt.Sprintf("%s-%d", strings.ReplaceAll(tc.name, " ", "-"), i), n)
					data, err := os.ReadFile(f.Name())
					if err != nil {
						t.Fatal(err)
					}
					want.Write(data)
					if got, err := io.Copy(w, f); err != nil || got != int64(n) {
						t.Fatalf("io.Copy = %d, %v", got, err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				got, _, err := b.GetBytes(ctx, "mixed")
				if err != nil || !bytes.Equal(got, want.Bytes()) {
					t.Fatalf("object is %d bytes (%v), want %d; equal=%v", len(got), err, want.Len(), bytes.Equal(got, want.Bytes()))
				}
			})
		}
	})
}

package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// memWriterAt is an in-memory io.WriterAt, safe for concurrent use; check,
// if set, runs at every WriteAt.
type memWriterAt struct {
	mu    sync.Mutex
	buf   []byte
	check func()
}

func (m *memWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if m.check != nil {
		m.check()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(m.buf)) {
		m.buf = append(m.buf, make([]byte, end-int64(len(m.buf)))...)
	}
	copy(m.buf[off:], p)
	return len(p), nil
}

func (m *memWriterAt) bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.buf)
}

// objectGets returns the GETs and HEADs of objects among the requests a
// proxy saw (not the listings).
func objectGets(p *faultproxy.Proxy) (gets []faultproxy.Request, heads int) {
	for _, r := range p.Requests() {
		switch {
		case r.Method == http.MethodHead:
			heads++
		case r.Method == http.MethodGet && !strings.Contains(r.RawQuery, "list-type"):
			gets = append(gets, r)
		}
	}
	return gets, heads
}

// checkPinned fails t unless the first GET asks for the whole object and
// every other GET is pinned to etag; firstPinned says whether the first
// must be pinned too (the ETag came from a listing).
func checkPinned(t *testing.T, gets []faultproxy.Request, etag string, firstPinned bool) {
	t.Helper()
	for i, r := range gets {
		rng, match := r.Header.Get("Range"), r.Header.Get("If-Match")
		if i == 0 && rng != "" {
			t.Errorf("the first GET has Range %q, want the whole object", rng)
		}
		if (i > 0 || firstPinned) && match != etag {
			t.Errorf("GET %d (Range %q) has If-Match %q, want %q", i, rng, match, etag)
		}
	}
}

// TestDownloadToSizes downloads objects of sizes at every boundary of the
// range size, stored in one part and in many, into a file, into memory
// and with Download, and counts the requests: one GET per range, the
// first for the whole object, the others pinned to its ETag, and no HEAD.
func TestDownloadToSizes(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := downloadCtx(t)
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		const part = 300 << 10 // not a multiple of the copy buffer
		opts := &s3kit.TransferOptions{PartSize: part, Concurrency: 3}
		dir := t.TempDir()
		type object struct {
			key  string
			data []byte
		}
		var objects []object
		for _, size := range []int{0, 1, part - 1, part, part + 1, 3 * part, 3*part + 1, 7*part + 12345} {
			data := randomBytes(size)
			key := fmt.Sprintf("size-%d", size)
			if _, err := e.bucket.PutBytes(ctx, key, data, nil); err != nil {
				t.Fatal(err)
			}
			objects = append(objects, object{key, data})
		}
		// An object stored in parts (its ETag ends in -N).
		data := randomBytes(11*mib + 5)
		w, err := e.bucket.NewWriter(ctx, "parts", &s3kit.WriterOptions{PartSize: 5 * mib})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, object{"parts", data})

		for _, o := range objects {
			ranges := max((len(o.data)+part-1)/part, 1)
			for _, target := range []string{"file", "memory", "Download"} {
				p.Reset()
				var got []byte
				var info s3kit.ObjectInfo
				var err error
				switch target {
				case "file":
					f, ferr := os.Create(filepath.Join(dir, "file"))
					if ferr != nil {
						t.Fatal(ferr)
					}
					info, err = b.DownloadTo(ctx, o.key, f, opts)
					f.Close()
					got, _ = os.ReadFile(f.Name())
				case "memory":
					var m memWriterAt
					info, err = b.DownloadTo(ctx, o.key, &m, opts)
					got = m.bytes()
				case "Download":
					dst := filepath.Join(dir, "dl", o.key)
					info, err = b.Download(ctx, o.key, dst, opts)
					got, _ = os.ReadFile(dst)
				}
				if err != nil {
					t.Fatalf("%s into %s: %v", o.key, target, err)
				}
				if !bytes.Equal(got, o.data) {
					t.Fatalf("%s into %s: %d bytes differ from the %d stored", o.key, target, len(got), len(o.data))
				}
				if info.Size != int64(len(o.data)) || info.ETag == "" || info.LastModified.IsZero() {
					t.Fatalf("%s into %s: info %+v", o.key, target, info)
				}
				gets, heads := objectGets(p)
				if len(gets) != ranges || heads != 0 {
					t.Fatalf("%s into %s: %d GETs and %d HEADs, want %d GETs and no HEAD", o.key, target, len(gets), heads, ranges)
				}
				checkPinned(t, gets, info.ETag, false)
			}
		}
		if temps := downloadTemps(t, filepath.Join(dir, "dl")); len(temps) != 0 {
			t.Fatalf("temporary files left: %v", temps)
		}
	})
}

// TestDownloadAllNoHead checks that DownloadAll sends one GET per range,
// the first pinned to the ETag of the listing, and no HEAD.
func TestDownloadAllNoHead(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := downloadCtx(t)
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		const part = 256 << 10
		sizes := map[string]int{"a": 0, "b": 10, "c/d": part, "e": 2*part + 1}
		etags := map[string]string{}
		for k, n := range sizes {
			info, err := e.bucket.PutBytes(ctx, k, randomBytes(n), nil)
			if err != nil {
				t.Fatal(err)
			}
			etags[k] = info.ETag
		}
		res, err := b.DownloadAll(ctx, t.TempDir(), &s3kit.TransferOptions{PartSize: part, Concurrency: 2})
		if err != nil || res.Downloaded != len(sizes) {
			t.Fatalf("DownloadAll: %+v, %v", res, err)
		}
		gets, heads := objectGets(p)
		if heads != 0 || len(gets) != 1+1+1+3 {
			t.Fatalf("%d GETs and %d HEADs, want 6 GETs and no HEAD", len(gets), heads)
		}
		for k := range sizes {
			var mine []faultproxy.Request
			for _, r := range gets {
				if strings.HasSuffix(r.Path, "/"+k) {
					mine = append(mine, r)
				}
			}
			checkPinned(t, mine, etags[k], true)
		}
	})
}

// TestDownloadToFaults downloads through broken connections, server
// errors, flipped bytes, a replaced object and a cancellation.
func TestDownloadToFaults(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := downloadCtx(t)
		c, p := proxied(t, e, s3kit.Config{MaxAttempts: 4})
		b := c.Bucket(e.bucket.Name())
		const part = 256 << 10
		opts := &s3kit.TransferOptions{PartSize: part, Concurrency: 3}
		data := randomBytes(5*part + 777)
		if _, err := e.bucket.PutBytes(ctx, "obj", data, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.bucket.PutBytes(ctx, "small", data[:1000], nil); err != nil {
			t.Fatal(err)
		}
		isGet := func(r *http.Request) bool { return r.Method == http.MethodGet }
		ranged := func(r *http.Request) bool { return isGet(r) && r.Header.Get("Range") != "" }
		whole := func(r *http.Request) bool { return isGet(r) && r.Header.Get("Range") == "" }
		// fullRange matches the first GET of a range other than the last.
		fullRange := func(r *http.Request) bool {
			var from, to int64
			_, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &from, &to)
			return isGet(r) && err == nil && from%part == 0 && to-from+1 == part
		}
		dir := t.TempDir()
		dst := filepath.Join(dir, "obj")
		// failed checks that a failed Download left the previous file as it
		// was and no temporary file.
		failed := func(t *testing.T) {
			t.Helper()
			if got, _ := os.ReadFile(dst); string(got) != "previous" {
				t.Fatalf("the file under the final name changed to %d bytes", len(got))
			}
			if temps := downloadTemps(t, dir); len(temps) != 0 {
				t.Fatalf("temporary files left: %v", temps)
			}
		}
		os.WriteFile(dst, []byte("previous"), 0o600)

		t.Run("resets and truncations resume where the bytes stopped", func(t *testing.T) {
			p.Reset()
			p.Add(faultproxy.Rule{Match: whole, Times: 1, Fault: faultproxy.Truncate(50_000)})
			p.Add(faultproxy.Rule{Match: fullRange, Times: 2, Fault: faultproxy.ResetAfter(100_000)})
			var m memWriterAt
			info, err := b.DownloadTo(ctx, "obj", &m, opts)
			if err != nil || !bytes.Equal(m.bytes(), data) {
				t.Fatalf("DownloadTo through faults: %d bytes, %v", len(m.bytes()), err)
			}
			gets, _ := objectGets(p)
			// 6 ranges, and a resume for each of the 3 broken bodies.
			if len(gets) != 6+3 {
				t.Fatalf("%d GETs, want 9", len(gets))
			}
			checkPinned(t, gets, info.ETag, false)
			resumes := 0
			for _, r := range gets {
				rng := r.Header.Get("Range")
				if rng == fmt.Sprintf("bytes=50000-%d", part-1) {
					resumes++ // the first body, cut at the end of its range
				}
				var from, to int64
				if _, err := fmt.Sscanf(rng, "bytes=%d-%d", &from, &to); err == nil && from%part == 100_000 {
					resumes++
				}
			}
			if resumes != 3 {
				t.Fatalf("%d GETs resume where the bytes stopped, want 3: %v", resumes, gets)
			}
		})

		t.Run("5xx are retried", func(t *testing.T) {
			p.Reset()
			p.Add(faultproxy.Rule{Match: whole, Times: 1, Fault: faultproxy.Status(503, "SlowDown")})
			p.Add(faultproxy.Rule{Match: ranged, Times: 2, Fault: faultproxy.Status(500, "InternalError")})
			if _, err := b.Download(ctx, "obj", filepath.Join(dir, "retried"), opts); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "retried")); !bytes.Equal(got, data) {
				t.Fatal("downloaded content differs")
			}
			os.Remove(filepath.Join(dir, "retried"))
		})

		t.Run("a flipped byte is ErrChecksum and leaves no file", func(t *testing.T) {
			for _, c := range []struct {
				key   string
				match func(*http.Request) bool
			}{{"obj", whole}, {"obj", ranged}, {"small", whole}} {
				p.Reset()
				p.Add(faultproxy.Rule{Match: c.match, Times: 1, Fault: faultproxy.FlipByte(part / 2)})
				if c.key == "small" {
					p.Reset()
					p.Add(faultproxy.Rule{Match: c.match, Times: 1, Fault: faultproxy.FlipByte(10)})
				}
				if _, err := b.Download(ctx, c.key, dst, opts); !errors.Is(err, s3kit.ErrChecksum) {
					t.Fatalf("%s: Download with a flipped byte: %v, want ErrChecksum", c.key, err)
				}
				failed(t)
			}
		})

		t.Run("a replaced object is ErrPreconditionFailed and leaves no file", func(t *testing.T) {
			p.Reset()
			other := bytes.Clone(data)
			other[0] ^= 1 // randomBytes of a size is always the same
			var once sync.Once
			p.Add(faultproxy.Rule{Match: func(r *http.Request) bool {
				if ranged(r) {
					// Replace it before the first ranged GET reaches the store.
					once.Do(func() {
						if _, err := e.bucket.PutBytes(context.Background(), "obj", other, nil); err != nil {
							t.Error(err)
						}
					})
				}
				return false
			}})
			if _, err := b.Download(ctx, "obj", dst, opts); !errors.Is(err, s3kit.ErrPreconditionFailed) {
				t.Fatalf("Download of an object replaced mid-download: %v, want ErrPreconditionFailed", err)
			}
			failed(t)
			if _, err := e.bucket.PutBytes(ctx, "obj", data, nil); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("a cancelled download leaves no file", func(t *testing.T) {
			p.Reset()
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			p.Add(faultproxy.Rule{Match: func(r *http.Request) bool {
				if ranged(r) {
					cancel()
					return true
				}
				return false
			}, Fault: faultproxy.Hang()})
			if _, err := b.Download(cctx, "obj", dst, opts); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled Download: %v, want context.Canceled", err)
			}
			failed(t)
		})
	})
}

// TestDownloadToChecksums downloads, in several ranges, objects whose
// store holds a CRC32C or a CRC32 instead of CRC64NVME: the combined
// per-range CRC must match, and a flipped byte must not.
func TestDownloadToChecksums(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := downloadCtx(t)
		c, p := proxied(t, e, s3kit.Config{MaxAttempts: 2})
		b := c.Bucket(e.bucket.Name())
		const part = 128 << 10
		opts := &s3kit.TransferOptions{PartSize: part, Concurrency: 4}
		data := randomBytes(5*part + 3)
		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc64nvme} {
			key := "crc-" + string(alg)
			// The SDK computes the checksum it sends.
			_, err := e.client.S3().PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(e.bucket.Name()), Key: aws.String(key),
				Body: bytes.NewReader(data), ChecksumAlgorithm: alg,
			})
			if err != nil {
				t.Fatal(err)
			}
			var m memWriterAt
			p.Reset()
			info, err := b.DownloadTo(ctx, key, &m, opts)
			if err != nil || !bytes.Equal(m.bytes(), data) {
				t.Fatalf("%s: %d bytes, %v", alg, len(m.bytes()), err)
			}
			if info.Checksums[string(alg)] == "" {
				t.Fatalf("%s: the store reported no such checksum: %v", alg, info.Checksums)
			}
			p.Add(faultproxy.Rule{Match: func(r *http.Request) bool { return r.Header.Get("Range") != "" }, Times: 1, Fault: faultproxy.FlipByte(1)})
			if _, err := b.DownloadTo(ctx, key, &memWriterAt{}, opts); !errors.Is(err, s3kit.ErrChecksum) {
				t.Fatalf("%s: a flipped byte: %v, want ErrChecksum", alg, err)
			}
		}
	})
}

// TestDownloadToBudget checks that a download holds no more of the
// memory budget than a copy buffer per range in flight, and no
// read-ahead.
func TestDownloadToBudget(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := downloadCtx(t)
		const conc = 4
		c := newClient(t, e.srv, s3kit.Config{Concurrency: conc})
		b := c.Bucket(e.bucket.Name())
		data := randomBytes(20 * mib)
		if _, err := e.bucket.PutBytes(ctx, "obj", data, nil); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var peak int64
		m := &memWriterAt{check: func() {
			committed, speculative := s3kit.BudgetInUse(c)
			mu.Lock()
			peak = max(peak, committed+speculative)
			mu.Unlock()
		}}
		if _, err := b.DownloadTo(ctx, "obj", m, &s3kit.TransferOptions{PartSize: 2 * mib}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.bytes(), data) {
			t.Fatal("downloaded content differs")
		}
		if peak == 0 || peak > conc*256<<10 {
			t.Fatalf("the download held %d bytes of the budget, want at most %d copy buffers of 256 KiB", peak, conc)
		}
	})
}

func TestDownloadToInvalid(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := downloadCtx(t)
		b := e.bucket
		for _, c := range []struct {
			w    *memWriterAt
			opts *s3kit.TransferOptions
		}{
			{nil, nil},
			{&memWriterAt{}, &s3kit.TransferOptions{PartSize: 1000}},
			{&memWriterAt{}, &s3kit.TransferOptions{Concurrency: -1}},
		} {
			var w interface {
				WriteAt([]byte, int64) (int, error)
			}
			if c.w != nil {
				w = c.w
			}
			if _, err := b.DownloadTo(ctx, "k", w, c.opts); !errors.Is(err, s3kit.ErrInvalid) {
				t.Fatalf("DownloadTo(%v, %+v) = %v, want ErrInvalid", c.w, c.opts, err)
			}
		}
	})
}

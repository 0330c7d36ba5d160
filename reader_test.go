package s3kit_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

func TestReader(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		data := randomBytes(11*mib + 333)
		if _, err := b.Put(ctx, "obj", bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		small := []byte("small object")
		if _, err := b.PutBytes(ctx, "small", small, nil); err != nil {
			t.Fatal(err)
		}
		opts := &s3kit.ReaderOptions{PartSize: 1 * mib, Concurrency: 4}

		t.Run("missing is an error of NewReader", func(t *testing.T) {
			if _, err := b.NewReader(ctx, "nope", nil); !errors.Is(err, s3kit.ErrNotExist) {
				t.Fatalf("got %v", err)
			}
		})

		t.Run("sequential", func(t *testing.T) {
			for _, key := range []string{"obj", "small"} {
				r, err := b.NewReader(ctx, key, opts)
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				buf := make([]byte, 77_777) // not aligned with the parts
				for {
					n, err := r.Read(buf)
					got.Write(buf[:n])
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				want := data
				if key == "small" {
					want = small
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Fatalf("%s: read %d bytes, differ", key, got.Len())
				}
				if r.Info().Size != int64(len(want)) || r.Size() != int64(len(want)) {
					t.Fatalf("Info %+v", r.Info())
				}
				r.Close()
			}
		})

		t.Run("WriteTo", func(t *testing.T) {
			r, err := b.NewReader(ctx, "obj", opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got bytes.Buffer
			if n, err := io.Copy(&got, r); err != nil || n != int64(len(data)) {
				t.Fatalf("io.Copy = %d, %v", n, err)
			}
			if !bytes.Equal(got.Bytes(), data) {
				t.Fatal("content differs")
			}
		})

		t.Run("Seek and ranges", func(t *testing.T) {
			r, err := b.NewReader(ctx, "obj", opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			buf := make([]byte, 1000)
			for _, off := range []int64{5 * mib, 100, int64(len(data)) - 1000, 3*mib - 10} {
				if _, err := r.Seek(off, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(r, buf); err != nil {
					t.Fatalf("at %d: %v", off, err)
				}
				if !bytes.Equal(buf, data[off:off+1000]) {
					t.Fatalf("bytes at %d differ", off)
				}
			}
			if pos, _ := r.Seek(-10, io.SeekEnd); pos != int64(len(data))-10 {
				t.Fatalf("SeekEnd = %d", pos)
			}
			rest, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(rest, data[len(data)-10:]) {
				t.Fatalf("tail = %d bytes, %v", len(rest), err)
			}

			rr, err := b.NewReader(ctx, "obj", &s3kit.ReaderOptions{Offset: 1000, Length: 3 * mib, PartSize: mib})
			if err != nil {
				t.Fatal(err)
			}
			defer rr.Close()
			got, err := io.ReadAll(rr)
			if err != nil || !bytes.Equal(got, data[1000:1000+3*mib]) {
				t.Fatalf("range read %d bytes, %v", len(got), err)
			}
		})

		t.Run("ReadAt concurrent", func(t *testing.T) {
			r, err := b.NewReader(ctx, "obj", opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					off := int64(i) * 1_300_001
					p := make([]byte, 2*mib+5)
					n, err := r.ReadAt(p, off)
					end := min(off+int64(len(p)), int64(len(data)))
					if int64(n) != end-off || (err != nil && err != io.EOF) || !bytes.Equal(p[:n], data[off:end]) {
						t.Errorf("ReadAt(%d) = %d, %v", off, n, err)
					}
				})
			}
			wg.Wait()
			if _, err := r.ReadAt(make([]byte, 10), int64(len(data))); err != io.EOF {
				t.Fatalf("ReadAt at the end: %v", err)
			}
		})
	})
}

func TestReaderFaults(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c, p := proxied(t, e, s3kit.Config{MaxAttempts: 4})
		b := c.Bucket(e.bucket.Name())
		data := randomBytes(6*mib + 1)
		if _, err := e.bucket.Put(ctx, "obj", bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		opts := &s3kit.ReaderOptions{PartSize: mib, Concurrency: 3}
		isGet := func(r *http.Request) bool { return r.Method == http.MethodGet }

		t.Run("resets and truncations resume", func(t *testing.T) {
			p.Reset()
			p.Add(faultproxy.Rule{Match: isGet, Times: 2, Fault: faultproxy.ResetAfter(100_000)})
			p.Add(faultproxy.Rule{Match: isGet, Times: 2, Fault: faultproxy.Truncate(300_000)})
			r, err := b.NewReader(ctx, "obj", opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("ReadAll through faults: %d bytes, %v", len(got), err)
			}
		})

		t.Run("replaced object is an error, not mixed bytes", func(t *testing.T) {
			p.Reset()
			r, err := b.NewReader(ctx, "obj", opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			buf := make([]byte, 1000)
			if _, err := io.ReadFull(r, buf); err != nil {
				t.Fatal(err)
			}
			if _, err := e.bucket.Put(ctx, "obj", bytes.NewReader(randomBytes(6*mib+2)), nil); err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(r)
			if !errors.Is(err, s3kit.ErrPreconditionFailed) {
				t.Fatalf("reading on after a replace: %v, want ErrPreconditionFailed", err)
			}
			if _, err := r.ReadAt(buf, 5*mib); !errors.Is(err, s3kit.ErrPreconditionFailed) {
				t.Fatalf("ReadAt after a replace: %v, want ErrPreconditionFailed", err)
			}
			e.bucket.Put(ctx, "obj", bytes.NewReader(data), nil)
		})

		t.Run("flipped byte is ErrChecksum", func(t *testing.T) {
			for _, key := range []string{"obj", "small"} {
				if key == "small" {
					if _, err := e.bucket.PutBytes(ctx, key, data[:1000], nil); err != nil {
						t.Fatal(err)
					}
				}
				p.Reset()
				p.Add(faultproxy.Rule{Match: isGet, Times: 1, Fault: faultproxy.FlipByte(10)})
				r, err := b.NewReader(ctx, key, opts)
				if err != nil {
					t.Fatal(err)
				}
				_, err = io.ReadAll(r)
				r.Close()
				if !errors.Is(err, s3kit.ErrChecksum) {
					t.Fatalf("%s: Read with a flipped byte: %v, want ErrChecksum", key, err)
				}
				p.Reset()
				p.Add(faultproxy.Rule{Match: isGet, Times: 1, Fault: faultproxy.FlipByte(10)})
				if _, _, err := b.GetBytes(ctx, key); !errors.Is(err, s3kit.ErrChecksum) {
					t.Fatalf("%s: GetBytes with a flipped byte: %v, want ErrChecksum", key, err)
				}
			}
		})
	})
}

// TestReaderToWriter copies an object through io.Copy from a Reader to a
// Writer of the same Client with a small memory budget: read-ahead must
// leave the writer room for its parts.
func TestReaderToWriter(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c := newClient(t, e.srv, s3kit.Config{PartSize: 5 * mib, MemoryLimit: 15 * mib, Concurrency: 8})
		b := c.Bucket(e.bucket.Name())
		data := randomBytes(23 * mib)
		if _, err := b.Put(ctx, "src", bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		r, err := b.NewReader(ctx, "src", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		w, err := b.NewWriter(ctx, "dst", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, r); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := b.GetBytes(ctx, "dst"); !bytes.Equal(got, data) {
			t.Fatal("copy differs")
		}
	})
}

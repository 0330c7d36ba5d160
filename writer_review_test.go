package s3kit_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// Tests of the Writer, the Reader and the memory budget for the bugs of the
// December 2026 review: each fails on the code the review read.

// deadline returns a context that ends a test stuck in a deadlock instead
// of letting it hang the suite.
func deadline(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// mustEqualObject fails t unless key holds exactly want.
func mustEqualObject(t *testing.T, ctx context.Context, b *s3kit.Bucket, key string, want []byte) {
	t.Helper()
	got, _, err := b.GetBytes(ctx, key)
	if err != nil {
		t.Fatalf("reading %s back: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s holds %d bytes that differ from the %d written", key, len(got), len(want))
	}
}

// openUploads returns the multipart uploads open for key.
func openUploads(t *testing.T, ctx context.Context, c *s3kit.Client, bucket, key string) int {
	t.Helper()
	out, err := c.S3().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

// waitNoUploads waits, within ctx, until no multipart upload is open for
// key: an abort started by a failure runs in the background.
func waitNoUploads(t *testing.T, ctx context.Context, c *s3kit.Client, bucket, key string) {
	t.Helper()
	for openUploads(t, ctx, c, bucket, key) > 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("multipart upload of %s still open: %v", key, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestWriterPartBoundaries writes bodies of exactly k parts, and one byte
// either side, through every way Go code feeds a Writer (review D1: Close
// panicked when a Write-fed upload ended on a part boundary).
func TestWriterPartBoundaries(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		const part = 5 * mib
		feeds := map[string]func(w *s3kit.Writer, data []byte) error{
			"Write": func(w *s3kit.Writer, data []byte) error { _, err := w.Write(data); return err },
			"io.Copy from bytes.Reader": func(w *s3kit.Writer, data []byte) error {
				_, err := io.Copy(w, bytes.NewReader(data))
				return err
			},
			"ReadFrom bytes.Reader": func(w *s3kit.Writer, data []byte) error {
				_, err := w.ReadFrom(bytes.NewReader(data))
				return err
			},
			"ReadFrom plain reader": func(w *s3kit.Writer, data []byte) error {
				_, err := w.ReadFrom(struct{ io.Reader }{bytes.NewReader(data)})
				return err
			},
		}
		for _, size := range []int{0, 1, part - 1, part, part + 1, 2 * part, 2*part + 1, 3 * part} {
			data := randomBytes(size)
			for name, feed := range feeds {
				key := strings.ReplaceAll(name, " ", "-") + "/" + strconv.Itoa(size)
				w, err := e.bucket.NewWriter(ctx, key, &s3kit.WriterOptions{PartSize: part})
				if err != nil {
					t.Fatal(err)
				}
				if err := feed(w, data); err != nil {
					t.Fatalf("%s of %d bytes: %v", name, size, err)
				}
				if err := w.Close(); err != nil {
					t.Fatalf("%s of %d bytes: Close: %v", name, size, err)
				}
				mustEqualObject(t, ctx, e.bucket, key, data)
			}
		}
		// io.Copy from an s3kit Reader (a WriterTo) into a Writer, exactly
		// two parts, and a Writer told the size.
		data := randomBytes(2 * part)
		if _, err := e.bucket.PutBytes(ctx, "src", data, nil); err != nil {
			t.Fatal(err)
		}
		r, err := e.bucket.NewReader(ctx, "src", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		w, err := e.bucket.NewWriter(ctx, "copied", &s3kit.WriterOptions{PartSize: part, Size: r.Size()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, r); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		mustEqualObject(t, ctx, e.bucket, "copied", data)
		noUploadsLeft(t, e.client, e.bucket.Name())
	})
}

// TestWriterReadFromConsumesSource checks that ReadFrom returns only once
// its source is read (review D2): a buffer reused after io.Copy must not
// change the object, a file closed after io.Copy must not fail Close, and
// the file is left at its end.
func TestWriterReadFromConsumesSource(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		const part = 5 * mib
		for _, size := range []int{3*part + 12345, 4 * part} {
			buf := randomBytes(size)
			want := bytes.Clone(buf)
			w, err := e.bucket.NewWriter(ctx, "reused", &s3kit.WriterOptions{PartSize: part, Concurrency: 2})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.ReadFrom(bytes.NewReader(buf)); err != nil {
				t.Fatal(err)
			}
			for i := range buf {
				buf[i] = 0xAA // the caller's next record
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			mustEqualObject(t, ctx, e.bucket, "reused", want)

			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, want, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			w, err = e.bucket.NewWriter(ctx, "file", &s3kit.WriterOptions{PartSize: part})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(w, f); err != nil {
				t.Fatal(err)
			}
			if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(size) {
				t.Errorf("file left at %d after io.Copy of %d bytes", pos, size)
			}
			f.Close()
			if err := w.Close(); err != nil {
				t.Fatalf("Close after the source file was closed: %v", err)
			}
			mustEqualObject(t, ctx, e.bucket, "file", want)
		}
	})
}

// TestBudgetCannotDeadlock drives Writers and Readers of one Client from
// one goroutine in the patterns that deadlocked (review C1, C2): io.Copy
// from a Reader to a Writer whose part is larger than the Client's, and
// more Writers than the budget has parts, written in turn.
func TestBudgetCannotDeadlock(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		const part = 5 * mib
		c := newClient(t, e.srv, s3kit.Config{PartSize: part, MemoryLimit: 4 * part})
		b := c.Bucket(e.bucket.Name())
		data := randomBytes(8*part + 999)
		if _, err := b.PutBytes(ctx, "big", data, nil); err != nil {
			t.Fatal(err)
		}

		t.Run("io.Copy Reader to Writer with larger parts", func(t *testing.T) {
			for _, wpart := range []int64{part, 2 * part, 4 * part, 6 * part} {
				r, err := b.NewReader(ctx, "big", nil)
				if err != nil {
					t.Fatal(err)
				}
				w, err := b.NewWriter(ctx, "copy", &s3kit.WriterOptions{PartSize: wpart})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.Copy(w, r); err != nil {
					t.Fatalf("part %d: %v", wpart, err)
				}
				r.Close()
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				mustEqualObject(t, ctx, b, "copy", data)
			}
		})

		t.Run("more Writers than the budget has parts", func(t *testing.T) {
			const n = 9
			var ws []*s3kit.Writer
			for i := range n {
				w, err := b.NewWriter(ctx, "shard/"+strconv.Itoa(i), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer w.Abort()
				ws = append(ws, w)
			}
			chunk := data[:part/2+1]
			var want [n][]byte
			for round := range 5 {
				for i, w := range ws {
					if _, err := w.Write(chunk); err != nil {
						t.Fatalf("round %d, writer %d: %v", round, i, err)
					}
					want[i] = append(want[i], chunk...)
				}
			}
			for i, w := range ws {
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				mustEqualObject(t, ctx, b, "shard/"+strconv.Itoa(i), want[i])
			}
		})

		t.Run("Readers read in turn", func(t *testing.T) {
			var rs []*s3kit.Reader
			for range 6 {
				r, err := b.NewReader(ctx, "big", &s3kit.ReaderOptions{PartSize: part})
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				rs = append(rs, r)
			}
			got := make([][]byte, len(rs))
			buf := make([]byte, 1<<20+3)
			for open := len(rs); open > 0; {
				open = 0
				for i, r := range rs {
					n, err := r.Read(buf)
					got[i] = append(got[i], buf[:n]...)
					if err == io.EOF {
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					open++
				}
			}
			for i := range rs {
				if !bytes.Equal(got[i], data) {
					t.Fatalf("reader %d read %d bytes that differ", i, len(got[i]))
				}
			}
		})
		if com, spec := s3kit.BudgetInUse(c); com != 0 {
			t.Errorf("%d committed bytes still counted after every Writer closed (%d speculative)", com, spec)
		}
	})
}

// TestWriterSizeEnforced checks WriterOptions.Size (review A3): fewer or
// more bytes than declared is an error, and nothing is committed.
func TestWriterSizeEnforced(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		const part = 5 * mib
		b := e.bucket
		data := randomBytes(3*part + 5)
		cases := []struct {
			name     string
			declared int64
			feed     func(w *s3kit.Writer) error
		}{
			{"short by Write", 4 * part, func(w *s3kit.Writer) error { _, err := w.Write(data); return err }},
			{"short, one part", 10, func(w *s3kit.Writer) error { _, err := w.Write(data[:3]); return err }},
			{"long by Write", 2 * part, func(w *s3kit.Writer) error { _, err := w.Write(data); return err }},
			{"long by one byte", int64(len(data)) - 1, func(w *s3kit.Writer) error { _, err := w.Write(data); return err }},
			{"long by ReadFrom ReaderAt", 2 * part, func(w *s3kit.Writer) error { _, err := w.ReadFrom(bytes.NewReader(data)); return err }},
			{"long by ReadFrom reader", 2*part + 1, func(w *s3kit.Writer) error {
				_, err := w.ReadFrom(struct{ io.Reader }{bytes.NewReader(data)})
				return err
			}},
			{"short by ReadFrom reader", 4 * part, func(w *s3kit.Writer) error {
				_, err := w.ReadFrom(struct{ io.Reader }{bytes.NewReader(data)})
				return err
			}},
		}
		for _, tc := range cases {
			key := "sized/" + strings.ReplaceAll(tc.name, " ", "-")
			w, err := b.NewWriter(ctx, key, &s3kit.WriterOptions{PartSize: part, Size: tc.declared})
			if err != nil {
				t.Fatal(err)
			}
			ferr := tc.feed(w)
			cerr := w.Close()
			if cerr == nil {
				t.Fatalf("%s: Close succeeded (feed error %v)", tc.name, ferr)
			}
			if !errors.Is(cerr, s3kit.ErrInvalid) {
				t.Errorf("%s: Close error %v is not ErrInvalid", tc.name, cerr)
			}
			if ok, err := b.Exists(ctx, key); err != nil || ok {
				t.Fatalf("%s: object committed (exists %v, %v)", tc.name, ok, err)
			}
			waitNoUploads(t, ctx, e.client, b.Name(), key)
		}
		// The declared size, exactly, works through each path.
		w, err := b.NewWriter(ctx, "sized/exact", &s3kit.WriterOptions{PartSize: part, Size: int64(len(data))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.ReadFrom(struct{ io.Reader }{bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		mustEqualObject(t, ctx, b, "sized/exact", data)
	})
}

// TestWriterFailureAborts checks that a Writer whose part failed, or whose
// context was cancelled, aborts its upload without waiting for Close
// (review C5(b)), and that Close and Abort then agree.
func TestWriterFailureAborts(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		const part = 5 * mib
		c, p := proxied(t, e, s3kit.Config{MaxAttempts: 1})
		b := c.Bucket(e.bucket.Name())
		data := randomBytes(3 * part)

		t.Run("part fails", func(t *testing.T) {
			p.Add(faultproxy.Rule{Method: http.MethodPut, Match: faultproxy.HasQuery("partNumber"), Times: 1,
				Fault: faultproxy.Status(500, "InternalError")})
			w, err := b.NewWriter(ctx, "failed", &s3kit.WriterOptions{PartSize: part, Concurrency: 1})
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			for i := 0; i < 20 && werr == nil; i++ {
				_, werr = w.Write(data[:part])
			}
			if werr == nil {
				t.Fatal("Write never reported the failed part")
			}
			// The caller returns the error without Close or Abort.
			waitNoUploads(t, ctx, e.client, b.Name(), "failed")
			if err := w.Close(); err == nil {
				t.Fatal("Close succeeded after a failed part")
			}
			if err := w.Abort(); err != nil {
				t.Fatalf("Abort after Close: %v", err)
			}
		})

		t.Run("context cancelled", func(t *testing.T) {
			wctx, cancel := context.WithCancel(ctx)
			w, err := b.NewWriter(wctx, "cancelled", &s3kit.WriterOptions{PartSize: part})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data[:2*part]); err != nil {
				t.Fatal(err)
			}
			for openUploads(t, ctx, e.client, b.Name(), "cancelled") == 0 {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			// Aborted without a call to the Writer...
			waitNoUploads(t, ctx, e.client, b.Name(), "cancelled")
			// ...and Close returns once the abort has made sure the
			// parts cut off did not bring the upload back.
			if err := w.Close(); !errors.Is(err, context.Canceled) {
				t.Fatalf("Close after cancel: %v", err)
			}
			if n := openUploads(t, ctx, e.client, b.Name(), "cancelled"); n != 0 {
				t.Fatalf("%d uploads open after Close", n)
			}
		})

		t.Run("Abort then Close", func(t *testing.T) {
			w, err := b.NewWriter(ctx, "aborted", &s3kit.WriterOptions{PartSize: part})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err == nil {
				t.Fatal("Close after Abort succeeded")
			}
			if _, err := w.Write([]byte("x")); err == nil {
				t.Fatal("Write after Abort succeeded")
			}
			if ok, _ := b.Exists(ctx, "aborted"); ok {
				t.Fatal("aborted object exists")
			}
			noUploadsLeft(t, e.client, b.Name())
		})
	})
}

// TestWriterLostCompleteResponse loses the answer of a
// CompleteMultipartUpload the store carried out, so that the SDK's retry
// finds no upload (review D6): the write succeeded, and Close must say so.
func TestWriterLostCompleteResponse(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		const part = 5 * mib
		// With a checksum the stored object is recognised by it; without,
		// by the multipart ETag its parts make.
		for _, sum := range []string{s3kit.ChecksumCRC64NVME, s3kit.ChecksumNone} {
			c, p := proxied(t, e, s3kit.Config{Checksum: sum})
			b := c.Bucket(e.bucket.Name())
			data := randomBytes(2*part + 17)
			r := p.Add(faultproxy.Rule{Method: http.MethodPost, Match: faultproxy.HasQuery("uploadId"), Times: 1,
				Fault: faultproxy.ResetAfter(0)})
			key := "lost-" + sum
			w, err := b.NewWriter(ctx, key, &s3kit.WriterOptions{PartSize: part})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("checksum %s: Close after a lost Complete answer: %v", sum, err)
			}
			if r.Fired() != 1 {
				t.Fatalf("the fault fired %d times", r.Fired())
			}
			mustEqualObject(t, ctx, b, key, data)
			if got := w.Info().Size; got != int64(len(data)) {
				t.Errorf("Info().Size = %d", got)
			}
		}
	})
}

// TestReaderSeekReturnsReadAheadBudget checks that a Seek stops the ranges it
// makes useless (review C5(d)): with every read-ahead GET hung, their
// buffers come back only if the Seek cancels them.
func TestReaderSeekReturnsReadAheadBudget(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		data := randomBytes(4 * mib)
		if _, err := b.PutBytes(ctx, "obj", data, nil); err != nil {
			t.Fatal(err)
		}
		r, err := b.NewReader(ctx, "obj", &s3kit.ReaderOptions{PartSize: 256 << 10, Concurrency: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		// Ranges from 1 MiB on hang; reading the first 768 KiB in order
		// widens the read-ahead window into them.
		hang := p.Add(faultproxy.Rule{Method: http.MethodGet, Fault: faultproxy.Hang(), Match: func(r *http.Request) bool {
			var start int64
			_, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &start)
			return err == nil && start >= 1*mib
		}})
		buf := make([]byte, 768<<10)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatal(err)
		}
		for hang.Fired() == 0 {
			select {
			case <-ctx.Done():
				t.Fatal("read-ahead never reached the hung ranges")
			case <-time.After(10 * time.Millisecond):
			}
		}
		p.Reset()
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		for {
			if _, spec := s3kit.BudgetInUse(c); spec == 0 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatal("read-ahead buffers of hung ranges never came back after Seek")
			case <-time.After(20 * time.Millisecond):
			}
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read after Seek: %d bytes, %v", len(got), err)
		}
	})
}

// TestReaderReadAheadFollowsTheCaller checks that a short read after a Seek
// (an HTTP Range request) fetches about what it reads, not Concurrency
// ranges (review P3).
func TestReaderReadAheadFollowsTheCaller(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		data := randomBytes(8 * mib)
		if _, err := b.PutBytes(ctx, "video", data, nil); err != nil {
			t.Fatal(err)
		}
		r, err := b.NewReader(ctx, "video", &s3kit.ReaderOptions{PartSize: 1 * mib, Concurrency: 8})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		gets := p.Add(faultproxy.Rule{Method: http.MethodGet})
		if _, err := r.Seek(3*mib, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 512<<10)
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data[3*mib:3*mib+len(got)]) {
			t.Fatal("wrong bytes after Seek")
		}
		if n := gets.Fired(); n > 2 {
			t.Fatalf("reading 512 KiB after a Seek sent %d GETs of 1 MiB", n)
		}
	})
}

// TestSyncAcrossClientsAtPartBoundaries syncs objects of exactly one and
// two parts between buckets of two Clients, the streamed path of Sync
// that went through the Writer's panic (review D1).
func TestSyncAcrossClientsAtPartBoundaries(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		const part = 5 * mib
		src := e.bucket
		other := newClient(t, e.srv, s3kit.Config{
			Endpoint: strings.Replace(e.srv.Endpoint, "127.0.0.1", "localhost", 1), PartSize: part,
		})
		dst := newBucket(t, other)
		want := map[string][]byte{}
		for _, size := range []int{0, 1, part, 2 * part, 2*part + 1} {
			key := "obj-" + strconv.Itoa(size)
			want[key] = randomBytes(size)
			if _, err := src.PutBytes(ctx, key, want[key], nil); err != nil {
				t.Fatal(err)
			}
		}
		res, err := s3kit.Sync(ctx, src, dst, nil)
		if err != nil {
			t.Fatalf("Sync: %v (%+v)", err, res.Failures)
		}
		if res.Copied.Files != len(want) {
			t.Fatalf("copied %d objects of %d", res.Copied.Files, len(want))
		}
		for key, data := range want {
			mustEqualObject(t, ctx, dst, key, data)
		}
		noUploadsLeft(t, other, dst.Name())
	})
}

// TestTypedCallsReturnInfo checks that the typed getters and setters return
// the object's ETag (review A1), so that a compare-and-swap is one GET and
// one conditional PUT, with no HEAD between them to race with.
func TestTypedCallsReturnInfo(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		put, err := b.PutJSON(ctx, "state.json", map[string]int{"n": 1}, nil)
		if err != nil || put.ETag == "" {
			t.Fatalf("PutJSON: %+v, %v", put, err)
		}
		head, err := b.Head(ctx, "state.json", nil)
		if err != nil || head.ETag != put.ETag {
			t.Fatalf("PutJSON's ETag %q, Head's %q (%v)", put.ETag, head.ETag, err)
		}
		for name, get := range map[string]func() (s3kit.ObjectInfo, error){
			"GetBytes":  func() (s3kit.ObjectInfo, error) { _, info, err := b.GetBytes(ctx, "state.json"); return info, err },
			"GetString": func() (s3kit.ObjectInfo, error) { _, info, err := b.GetString(ctx, "state.json"); return info, err },
			"GetJSON": func() (s3kit.ObjectInfo, error) {
				var v map[string]int
				return b.GetJSON(ctx, "state.json", &v)
			},
		} {
			info, err := get()
			if err != nil || info.ETag != put.ETag || info.Size != head.Size || info.ContentType != head.ContentType {
				t.Fatalf("%s: %+v, %v; Head saw %+v", name, info, err, head)
			}
		}
		before := p.Count()
		var v map[string]int
		info, err := b.GetJSON(ctx, "state.json", &v)
		if err != nil {
			t.Fatal(err)
		}
		v["n"]++
		next, err := b.PutJSON(ctx, "state.json", v, &s3kit.PutOptions{IfMatch: info.ETag})
		if err != nil {
			t.Fatal(err)
		}
		if n := p.Count() - before; n != 2 {
			t.Errorf("compare-and-swap sent %d requests, want 2", n)
		}
		if _, err := b.PutString(ctx, "state.json", "stale", &s3kit.PutOptions{IfMatch: info.ETag}); !errors.Is(err, s3kit.ErrPreconditionFailed) {
			t.Errorf("a write on the replaced ETag: %v, want ErrPreconditionFailed", err)
		}
		if s, now, err := b.GetString(ctx, "state.json"); err != nil || s != `{"n":2}` || now.ETag != next.ETag {
			t.Errorf("after the swap: %q, %q (PutJSON said %q), %v", s, now.ETag, next.ETag, err)
		}
	})
}

// TestURLErrorsQuoteNoSecret opens URLs whose credentials a "/", "?" or
// "&" in the secret cuts into what looks like a bucket, a key or a
// parameter: no part of the secret may appear in the error (found by
// FuzzParseS3URL).
func TestURLErrorsQuoteNoSecret(t *testing.T) {
	ctx := deadline(t)
	for _, u := range []string{
		"s3://wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY@bucket/key",
		"s3://SeCrEtHeAd?SeCrEtTaIl@0",
		"s3://b-1/k?endpoint=http://user:pa&ss@127.0.0.1:9000",
		"s3://b-1/k?endpoint=http://user:pa%ZZss@127.0.0.1:9000",
	} {
		_, err := s3kit.OpenBucket(ctx, u)
		if err == nil {
			t.Errorf("%s: opened", u)
			continue
		}
		if !errors.Is(err, s3kit.ErrInvalid) {
			t.Errorf("%s: %v is not ErrInvalid", u, err)
		}
		for _, secret := range []string{"wJalrXUtnFEMI", "K7MDENG", "bPxRfiCYEXAMPLEKEY", "SeCrEtHeAd", "SeCrEtTaIl", "user:pa", "pa&ss", "pa%ZZss"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error quotes %q: %v", u, secret, err)
			}
		}
	}
}

// TestRetryDamagedResponses cuts short or damages the XML answers of
// operations the store carried out: the SDK reports them as deserialization
// errors, which s3kit retries as it retries a broken connection (found by
// the soak).
func TestRetryDamagedResponses(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		if _, err := b.PutString(ctx, "a.txt", "a", nil); err != nil {
			t.Fatal(err)
		}
		isCopy := func(r *http.Request) bool { return r.Header.Get("X-Amz-Copy-Source") != "" }
		isList := faultproxy.HasQuery("list-type")
		for _, f := range []faultproxy.Fault{faultproxy.Truncate(10), faultproxy.FlipByte(45)} {
			copyRule := p.Add(faultproxy.Rule{Method: http.MethodPut, Match: isCopy, Times: 1, Fault: f})
			if _, err := b.Copy(ctx, "a.txt", "b.txt", nil); err != nil {
				t.Fatalf("Copy after %s: %v", f, err)
			}
			listRule := p.Add(faultproxy.Rule{Method: http.MethodGet, Match: isList, Times: 1, Fault: f})
			objs, err := b.ListAll(ctx, nil)
			if err != nil || len(objs) != 2 {
				t.Fatalf("ListAll after %s: %d objects, %v", f, len(objs), err)
			}
			if copyRule.Fired() != 1 || listRule.Fired() != 1 {
				t.Fatalf("%s fired %d and %d times", f, copyRule.Fired(), listRule.Fired())
			}
		}
	})
}

// errAfter returns n bytes of data, then err.
type errAfter struct {
	data []byte
	err  error
}

func (r *errAfter) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestWriterTruncatedSourceFails feeds Writers sources that end with an
// error rather than io.EOF (an HTTP body cut short, a truncated gzip
// stream): io.Copy must fail and nothing be committed, where the Writer
// used to take io.ErrUnexpectedEOF for the end (found by review).
func TestWriterTruncatedSourceFails(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		b := e.bucket
		data := randomBytes(6 * mib)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(data)
		zw.Close()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data[:len(data)/2]) // then the connection closes early
		}))
		defer srv.Close()
		sources := map[string]func() io.Reader{
			"unexpected EOF": func() io.Reader { return &errAfter{data[:1000], io.ErrUnexpectedEOF} },
			"truncated HTTP body": func() io.Reader {
				resp, err := http.Get(srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { resp.Body.Close() })
				return resp.Body
			},
			"truncated gzip": func() io.Reader {
				zr, err := gzip.NewReader(bytes.NewReader(gz.Bytes()[:gz.Len()/2]))
				if err != nil {
					t.Fatal(err)
				}
				return zr
			},
		}
		for name, src := range sources {
			key := "truncated/" + strings.ReplaceAll(name, " ", "-")
			w, err := b.NewWriter(ctx, key, &s3kit.WriterOptions{PartSize: 5 * mib})
			if err != nil {
				t.Fatal(err)
			}
			_, cerr := io.Copy(w, src())
			if err := w.Close(); err == nil || cerr == nil {
				t.Fatalf("%s: io.Copy %v, Close %v: a truncated source was committed", name, cerr, err)
			}
			if ok, err := b.Exists(ctx, key); err != nil || ok {
				t.Fatalf("%s: object exists (%v, %v)", name, ok, err)
			}
			waitNoUploads(t, ctx, e.client, b.Name(), key)
		}
	})
}

// TestReaderChecksumAtTheLastByte flips a byte of every GET and reads the
// object in the ways that used to miss it (found by review): exactly
// Size() bytes with io.ReadFull (the Read that delivers the last byte must
// report the mismatch), and http.ServeContent's pattern of a short read,
// a Seek back to 0 and a read to the end.
func TestReaderChecksumAtTheLastByte(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		for _, size := range []int{100 << 10, 12 * mib} {
			key := "flipped-" + strconv.Itoa(size)
			if _, err := b.PutBytes(ctx, key, randomBytes(size), nil); err != nil {
				t.Fatal(err)
			}
			p.Reset()
			p.Add(faultproxy.Rule{Method: http.MethodGet, Fault: faultproxy.FlipByte(5)})

			r, err := b.NewReader(ctx, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadFull(r, make([]byte, r.Size()))
			r.Close()
			if !errors.Is(err, s3kit.ErrChecksum) {
				t.Errorf("%d bytes, io.ReadFull of Size(): %v, want ErrChecksum", size, err)
			}

			r, err = b.NewReader(ctx, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(r, make([]byte, 512)); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 32<<10)
			for err == nil {
				_, err = r.Read(buf)
			}
			r.Close()
			if !errors.Is(err, s3kit.ErrChecksum) {
				t.Errorf("%d bytes, read 512, Seek(0), read to the end: %v, want ErrChecksum", size, err)
			}
			p.Reset()
		}
	})
}

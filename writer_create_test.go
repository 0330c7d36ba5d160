package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// TestCancelDuringCreate: a cancel that cuts off CreateMultipartUpload
// after the store created the upload, before its answer came back, leaves
// no upload behind: the answer is still awaited (createUpload's grace), so
// the upload it names can be aborted. Before, the Writer never learnt the
// upload's ID and left it (and any multipart copy likewise).
func TestCancelDuringCreate(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		c, p := proxied(t, e, s3kit.Config{PartSize: s3kit.MinPartSize})
		b := c.Bucket(e.bucket.Name())
		bounded, done := context.WithTimeout(t.Context(), 2*time.Minute)
		defer done()

		uploads := func(key string) int {
			t.Helper()
			n := 0
			for u, err := range e.bucket.ListUploads(bounded, &s3kit.ListUploadsOptions{Prefix: key}) {
				if err != nil {
					t.Fatal(err)
				}
				if u.Key == key {
					n++
				}
			}
			return n
		}
		// cancelDuringCreate starts op with a context it cancels once the
		// store has had the create for a while, its answer still held back.
		cancelDuringCreate := func(op func(ctx context.Context) error) error {
			t.Helper()
			r := p.Add(faultproxy.Rule{Method: http.MethodPost, Match: faultproxy.HasQuery("uploads"), Times: 1,
				Fault: faultproxy.DelayAnswer(1500 * time.Millisecond)})
			ctx, cancel := context.WithCancel(bounded)
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- op(ctx) }()
			for r.Fired() == 0 {
				select {
				case err := <-errc:
					t.Fatalf("ended before its create: %v", err)
				case <-bounded.Done():
					t.Fatal("no CreateMultipartUpload sent")
				case <-time.After(5 * time.Millisecond):
				}
			}
			// The proxy forwarded the create at once: give the store time
			// to make the upload, well within the delay of its answer.
			time.Sleep(500 * time.Millisecond)
			cancel()
			select {
			case err := <-errc:
				return err
			case <-bounded.Done():
				t.Fatal("no return after the cancel")
				return nil
			}
		}

		t.Run("Writer", func(t *testing.T) {
			data := bytes.Repeat([]byte("w"), 3*s3kit.MinPartSize)
			err := cancelDuringCreate(func(ctx context.Context) error {
				w, err := b.NewWriter(ctx, "writer.bin", nil)
				if err != nil {
					return err
				}
				defer w.Abort()
				if _, err := w.Write(data); err != nil {
					return err
				}
				return w.Close()
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Writer: %v, want context.Canceled", err)
			}
			if n := uploads("writer.bin"); n != 0 {
				t.Errorf("%d multipart uploads left after the cancel", n)
			}
			if ok, err := e.bucket.Exists(bounded, "writer.bin"); ok || err != nil {
				t.Errorf("object after the cancel: %v %v", ok, err)
			}
		})
		t.Run("multipart copy", func(t *testing.T) {
			if _, err := e.bucket.PutBytes(bounded, "src.bin", bytes.Repeat([]byte("c"), 2*s3kit.MinPartSize+1), nil); err != nil {
				t.Fatal(err)
			}
			err := cancelDuringCreate(func(ctx context.Context) error {
				o := &s3kit.CopyOptions{PartSize: s3kit.MinPartSize, MultipartThreshold: s3kit.MinPartSize}
				_, err := b.Copy(ctx, "src.bin", "copy.bin", o)
				return err
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Copy: %v, want context.Canceled", err)
			}
			if n := uploads("copy.bin"); n != 0 {
				t.Errorf("%d multipart uploads left after the cancel", n)
			}
		})
	})
}

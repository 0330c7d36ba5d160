package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// TestWriterDeferAbort checks the idiom "defer w.Abort() right after
// NewWriter": once Close has succeeded, Abort is a no-op that returns nil
// and leaves the object; without a successful Close, it aborts.
func TestWriterDeferAbort(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		b := e.bucket
		for _, size := range []int{0, 1, s3kit.MinPartSize, s3kit.MinPartSize + 1} {
			key := "obj"
			data := bytes.Repeat([]byte("d"), size)
			commit := func(fail bool) error {
				w, err := b.NewWriter(ctx, key, &s3kit.WriterOptions{PartSize: s3kit.MinPartSize})
				if err != nil {
					return err
				}
				defer w.Abort()
				if _, err := w.Write(data); err != nil {
					return err
				}
				if fail {
					return errors.New("the caller gives up")
				}
				if err := w.Close(); err != nil {
					return err
				}
				// Abort after a successful Close, then Close again.
				if err := w.Abort(); err != nil {
					t.Errorf("size %d: Abort after Close: %v, want nil", size, err)
				}
				if err := w.Close(); err != nil {
					t.Errorf("size %d: Close after Close and Abort: %v, want nil", size, err)
				}
				return nil
			}
			if err := commit(false); err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			got, _, err := b.GetBytes(ctx, key)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("size %d: after Close and the deferred Abort: %d bytes, %v", size, len(got), err)
			}
			if err := b.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			// Without Close, the deferred Abort leaves nothing.
			if err := commit(true); err == nil {
				t.Fatal("commit(true) succeeded")
			}
			if ok, err := b.Exists(ctx, key); err != nil || ok {
				t.Errorf("size %d: object exists (%v) after the deferred Abort of an unclosed Writer", size, err)
			}
			if n, err := uploadsFor(ctx, e, key); err != nil || n != 0 {
				t.Errorf("size %d: %d uploads left (%v)", size, n, err)
			}
		}
	})
}

// TestGetStringErrorsNameIt checks that GetString's errors name
// GetString, not the GetBytes it is built on.
func TestGetStringErrorsNameIt(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		_, _, err := e.bucket.GetString(t.Context(), "missing")
		var se *s3kit.Error
		if !errors.As(err, &se) || se.Op != "GetString" || !strings.Contains(err.Error(), "GetString") || strings.Contains(err.Error(), "GetBytes") {
			t.Errorf("GetString of a missing key: %v, want an *Error of op GetString", err)
		}
		_, _, err = e.bucket.GetString(t.Context(), "")
		if !errors.As(err, &se) || se.Op != "GetString" {
			t.Errorf("GetString of an empty key: %v, want an *Error of op GetString", err)
		}
	})
}

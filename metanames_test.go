package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// TestMetadataNames checks that a metadata name given with its header
// prefix (as the Python s3 package passes "x-amz-meta-state") is stored
// without it, by every call that writes metadata, and never doubled.
func TestMetadataNames(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		b := e.bucket
		meta := map[string]string{"x-amz-meta-state": "on", "X-Amz-Meta-Owner": "ann", "plain": "p"}
		want := map[string]string{"state": "on", "owner": "ann", "plain": "p"}
		check := func(what, key string) {
			t.Helper()
			info, err := b.Head(ctx, key, nil)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if !maps.Equal(info.Metadata, want) {
				t.Errorf("%s: metadata %v, want %v", what, info.Metadata, want)
			}
		}
		if _, err := b.PutString(ctx, "put.txt", "x", &s3kit.PutOptions{Metadata: meta}); err != nil {
			t.Fatal(err)
		}
		check("PutString", "put.txt")

		// A multipart upload sends the metadata with CreateMultipartUpload.
		w, err := b.NewWriter(ctx, "big.bin", &s3kit.WriterOptions{PutOptions: s3kit.PutOptions{Metadata: meta}, PartSize: s3kit.MinPartSize})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		if _, err := w.Write(bytes.Repeat([]byte("m"), s3kit.MinPartSize+1)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		check("Writer (multipart)", "big.bin")

		if _, err := b.PutString(ctx, "set.txt", "x", nil); err != nil {
			t.Fatal(err)
		}
		if err := b.SetMetadata(ctx, "set.txt", meta); err != nil {
			t.Fatal(err)
		}
		check("SetMetadata", "set.txt")

		if _, err := b.Copy(ctx, "set.txt", "copy.txt", &s3kit.CopyOptions{ReplaceMetadata: true, Metadata: meta}); err != nil {
			t.Fatal(err)
		}
		check("Copy with ReplaceMetadata", "copy.txt")

		// Handle defaults and a write's own metadata name the same entry
		// whatever the prefix: the write's own wins.
		d := b.WithPutDefaults(&s3kit.PutOptions{Metadata: map[string]string{"X-Amz-Meta-State": "default", "owner": "ann", "plain": "p"}})
		if _, err := d.PutString(ctx, "defaults.txt", "x", &s3kit.PutOptions{Metadata: map[string]string{"state": "on"}}); err != nil {
			t.Fatal(err)
		}
		check("WithPutDefaults", "defaults.txt")
	})
}

// TestMetadataNamesRefused checks that names S3 would store as one entry
// are refused with ErrInvalid, before any request, by every call that
// takes metadata.
func TestMetadataNamesRefused(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if _, err := e.bucket.PutString(ctx, "src.txt", "x", nil); err != nil {
			t.Fatal(err)
		}
		var sent atomic.Int64
		c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			sent.Add(1)
			return next(r)
		})
		b := c.Bucket(e.bucket.Name())
		for _, meta := range []map[string]string{
			{"State": "1", "state": "2"},
			{"x-amz-meta-state": "1", "state": "2"},
			{"X-AMZ-META-STATE": "1", "x-amz-meta-state": "2"},
			{"x-amz-meta-": "empty name"},
			{"x-amz-meta-X-Amz-Meta-": "empty name"},
		} {
			calls := map[string]error{
				"PutString":   errOf(b.PutString(ctx, "k.txt", "x", &s3kit.PutOptions{Metadata: meta})),
				"SetMetadata": b.SetMetadata(ctx, "src.txt", meta),
				"Copy":        errOf(b.Copy(ctx, "src.txt", "k.txt", &s3kit.CopyOptions{ReplaceMetadata: true, Metadata: meta})),
				"WithPutDefaults": errOf(b.WithPutDefaults(&s3kit.PutOptions{Metadata: meta}).
					PutString(ctx, "k.txt", "x", nil)),
			}
			_, err := b.NewWriter(ctx, "k.txt", &s3kit.WriterOptions{PutOptions: s3kit.PutOptions{Metadata: meta}})
			calls["NewWriter"] = err
			for name, err := range calls {
				if !errors.Is(err, s3kit.ErrInvalid) {
					t.Errorf("%s with metadata %v: %v, want ErrInvalid", name, meta, err)
				}
			}
		}
		if n := sent.Load(); n != 0 {
			t.Errorf("%d requests sent for refused metadata, want none", n)
		}
	})
}

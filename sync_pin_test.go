package s3kit_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// TestSyncDownloadPinnedToListing: Sync's downloads carry the ETag the
// listing gave, as DownloadAll's do, so an object replaced between the
// listing and its download fails with ErrPreconditionFailed and leaves no
// file, rather than land as the listed object; the others are copied.
// With and without NoClobber, whose "exists" skip must not swallow it.
func TestSyncDownloadPinnedToListing(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		for _, noClobber := range []bool{false, true} {
			name := map[bool]string{false: "overwrite", true: "NoClobber"}[noClobber]
			t.Run(name, func(t *testing.T) {
				b := e.bucket.Prefix(name)
				if _, err := b.PutString(ctx, "raced.txt", "listed version", nil); err != nil {
					t.Fatal(err)
				}
				if _, err := b.PutString(ctx, "calm.txt", "left alone", nil); err != nil {
					t.Fatal(err)
				}
				c, p := proxied(t, e, s3kit.Config{})
				// The racing writer replaces raced.txt just before its
				// download's GET reaches the store.
				var once sync.Once
				p.Add(faultproxy.Rule{Method: http.MethodGet, Match: func(r *http.Request) bool {
					if strings.HasSuffix(r.URL.Path, "/raced.txt") {
						once.Do(func() {
							if _, err := b.PutString(context.Background(), "raced.txt", "racing version", nil); err != nil {
								t.Error(err)
							}
						})
					}
					return false
				}})
				dir := t.TempDir()
				res, err := s3kit.Sync(ctx, c.Bucket(e.bucket.Name()).Prefix(name), s3kit.LocalDir(dir), &s3kit.SyncOptions{NoClobber: noClobber})
				if err == nil || res.Failed.Files != 1 || len(res.Failures) != 1 || res.Failures[0].Key != "raced.txt" ||
					!errors.Is(res.Failures[0].Err, s3kit.ErrPreconditionFailed) {
					t.Fatalf("Sync with raced.txt replaced after the listing: %v, %+v; want raced.txt failed with ErrPreconditionFailed", err, res)
				}
				if got, err := os.ReadFile(filepath.Join(dir, "raced.txt")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("raced.txt is %q (%v), want no file", got, err)
				}
				if got, err := os.ReadFile(filepath.Join(dir, "calm.txt")); err != nil || string(got) != "left alone" {
					t.Errorf("calm.txt: %q, %v", got, err)
				}
				if left, _ := os.ReadDir(dir); len(left) != 1 {
					t.Errorf("the directory holds %v, want calm.txt only", left)
				}
			})
		}
	})
}

// TestSyncNoClobberSourceReplaced: with NoClobber, a copy between buckets
// whose source is replaced while it is copied fails with
// ErrPreconditionFailed; it is not an "exists" skip, which would report a
// destination that was never written as kept. Both ways a copy goes: a
// server-side copy (one Client; Put options make it pinned to the
// source's ETag) and a stream between two Clients (the Reader is pinned).
func TestSyncNoClobberSourceReplaced(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		for _, way := range []string{"server-side", "stream"} {
			t.Run(way, func(t *testing.T) {
				src := e.bucket.Prefix(way + "-src/")
				if _, err := src.PutString(ctx, "raced.txt", "listed version", nil); err != nil {
					t.Fatal(err)
				}
				if _, err := src.PutString(ctx, "calm.txt", "left alone", nil); err != nil {
					t.Fatal(err)
				}
				c, p := proxied(t, e, s3kit.Config{})
				// The racing writer replaces raced.txt just before the
				// request that reads it: the copy's PUT, or the stream's
				// first GET.
				var once sync.Once
				p.Add(faultproxy.Rule{Match: func(r *http.Request) bool {
					reads := strings.HasSuffix(r.URL.Path, "-src/raced.txt") && r.Method == http.MethodGet ||
						strings.HasSuffix(r.Header.Get("X-Amz-Copy-Source"), "-src/raced.txt")
					if reads {
						once.Do(func() {
							if _, err := src.PutString(context.Background(), "raced.txt", "racing version", nil); err != nil {
								t.Error(err)
							}
						})
					}
					return false
				}})
				from := c.Bucket(e.bucket.Name()).Prefix(way + "-src/")
				to := c.Bucket(e.bucket.Name()).Prefix(way + "-dst/")
				if way == "stream" {
					to = e.client.Bucket(e.bucket.Name()).Prefix(way + "-dst/")
				}
				res, err := s3kit.Sync(ctx, from, to, &s3kit.SyncOptions{NoClobber: true, Put: &s3kit.PutOptions{ContentType: "text/plain"}})
				if err == nil || res.Failed.Files != 1 || res.Skipped.Files != 0 || len(res.Failures) != 1 ||
					res.Failures[0].Key != "raced.txt" || !errors.Is(res.Failures[0].Err, s3kit.ErrPreconditionFailed) {
					t.Fatalf("Sync with raced.txt replaced during its copy: %v, %+v; want raced.txt failed with ErrPreconditionFailed", err, res)
				}
				dst := e.bucket.Prefix(way + "-dst/")
				if got, _, err := dst.GetString(ctx, "raced.txt"); !errors.Is(err, s3kit.ErrNotExist) {
					t.Errorf("the destination's raced.txt is %q (%v), want none", got, err)
				}
				if got, _, err := dst.GetString(ctx, "calm.txt"); err != nil || got != "left alone" {
					t.Errorf("the destination's calm.txt: %q, %v", got, err)
				}
			})
		}
	})
}

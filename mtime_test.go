package s3kit_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// TestUploadMtime: Upload stores the file's modification time as rclone
// does, by a single PUT and by a multipart upload alike, unless the
// caller's metadata sets it.
func TestUploadMtime(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		dir := t.TempDir()
		mt := time.Unix(1700000000, 123456789)
		for _, size := range []int{0, 5*mib + 1} {
			src := filepath.Join(dir, "f")
			if err := os.WriteFile(src, randomBytes(size), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(src, mt, mt); err != nil {
				t.Fatal(err)
			}
			put := &s3kit.PutOptions{Metadata: map[string]string{"a": "b"}}
			if _, err := b.Upload(ctx, src, "f", &s3kit.TransferOptions{PartSize: 5 * mib, Put: put}); err != nil {
				t.Fatal(err)
			}
			info, err := b.Head(ctx, "f", nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]string{"a": "b", "mtime": "1700000000.123456789"}; !maps.Equal(info.Metadata, want) {
				t.Errorf("%d bytes: metadata %v, want %v", size, info.Metadata, want)
			}
			if !maps.Equal(put.Metadata, map[string]string{"a": "b"}) {
				t.Errorf("the caller's metadata was modified: %v", put.Metadata)
			}

			own := &s3kit.PutOptions{Metadata: map[string]string{"X-Amz-Meta-Mtime": "42"}}
			if _, err := b.Upload(ctx, src, "own", &s3kit.TransferOptions{PartSize: 5 * mib, Put: own}); err != nil {
				t.Fatal(err)
			}
			if info, err := b.Head(ctx, "own", nil); err != nil || !maps.Equal(info.Metadata, map[string]string{"mtime": "42"}) {
				t.Errorf("%d bytes, the caller's mtime: %v, %v", size, info.Metadata, err)
			}
		}
	})
}

// TestSyncUploadMtime: Sync's uploads store each file's time, and a Sync
// run again, comparing with the objects' LastModified (the listing has no
// metadata), finds nothing to do.
func TestSyncUploadMtime(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		dir := t.TempDir()
		syncWrite(t, dir, syncTree)
		want := map[string]string{}
		i := int64(0)
		for p := range syncTree {
			i++
			mt := time.Unix(1700000000+i, i*111111111%1e9)
			if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(p)), mt, mt); err != nil {
				t.Fatal(err)
			}
			want[p] = fmt.Sprintf("%d.%09d", mt.Unix(), mt.Nanosecond()) // no trailing zero to drop
		}
		b := e.bucket.Prefix("up/")
		if _, err := s3kit.Sync(ctx, s3kit.LocalDir(dir), b, nil); err != nil {
			t.Fatal(err)
		}
		for p, w := range want {
			info, err := b.Head(ctx, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Metadata["mtime"]; got != w {
				t.Errorf("%s: mtime %q, want %q", p, got, w)
			}
		}
		res, err := s3kit.Sync(ctx, s3kit.LocalDir(dir), b, nil)
		if err != nil || res.Copied.Files != 0 || res.Unchanged.Files != len(syncTree) {
			t.Fatalf("second sync: %+v, %v", res, err)
		}
	})
}

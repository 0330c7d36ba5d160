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

// TestDownloadMtime: Download and DownloadAll give the file the time in
// the object's mtime metadata, to the nanosecond, whoever wrote it in
// rclone's format; without one, or with one that is not a time, the
// object's LastModified.
func TestDownloadMtime(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		b := e.bucket.Prefix("m/")
		dir := t.TempDir()
		mt := time.Unix(1700000000, 123456789)
		for _, size := range []int{0, 5*mib + 1} {
			src := filepath.Join(dir, "src")
			if err := os.WriteFile(src, randomBytes(size), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(src, mt, mt); err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("up%d", size)
			if _, err := b.Upload(ctx, src, key, &s3kit.TransferOptions{PartSize: 5 * mib}); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, "down", key)
			// Ranges of 1 MiB: the time comes from the first GET's
			// metadata however the object is fetched.
			if _, err := b.Download(ctx, key, dst, &s3kit.TransferOptions{PartSize: mib}); err != nil {
				t.Fatal(err)
			}
			if st, err := os.Stat(dst); err != nil || !st.ModTime().Equal(mt) {
				t.Errorf("%d bytes: downloaded file's time %v (%v), want %v", size, st.ModTime(), err, mt)
			}
		}
		for k, v := range map[string]string{
			"whole": "1700000000", "half": "1700000000.5", "nano": "1700000000.000000001",
			"bad": "yesterday", "dots": "1.2.3", "empty": "",
		} {
			if _, err := b.PutString(ctx, "meta/"+k, k, &s3kit.PutOptions{Metadata: map[string]string{"mtime": v}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.PutString(ctx, "meta/none", "none", nil); err != nil {
			t.Fatal(err)
		}
		want := map[string]time.Time{
			"whole": time.Unix(1700000000, 0), "half": time.Unix(1700000000, 5e8), "nano": time.Unix(1700000000, 1),
		}
		all := filepath.Join(dir, "all")
		if _, err := b.Prefix("meta/").DownloadAll(ctx, all, nil); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"whole", "half", "nano", "bad", "dots", "empty", "none"} {
			info, err := b.Head(ctx, "meta/"+k, nil)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[k]
			if !ok {
				w = info.LastModified
			}
			one := filepath.Join(dir, "one", k)
			if _, err := b.Download(ctx, "meta/"+k, one, nil); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{one, filepath.Join(all, k)} {
				if st, err := os.Stat(name); err != nil || !st.ModTime().Equal(w) {
					t.Errorf("%s (mtime %q): time %v (%v), want %v", name, info.Metadata["mtime"], st.ModTime(), err, w)
				}
			}
		}
	})
}

// TestSyncDownloadMtime: Sync down from objects uploaded with their mtime
// gives the files the objects' LastModified, so that Sync run again, which
// sees only the listing, finds nothing to do in either direction.
func TestSyncDownloadMtime(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		up := t.TempDir()
		syncWrite(t, up, syncTree)
		mt := time.Unix(1700000000, 987654321)
		for p := range syncTree {
			if err := os.Chtimes(filepath.Join(up, filepath.FromSlash(p)), mt, mt); err != nil {
				t.Fatal(err)
			}
		}
		b := e.bucket.Prefix("s/")
		if _, err := s3kit.Sync(ctx, s3kit.LocalDir(up), b, nil); err != nil {
			t.Fatal(err)
		}
		down := t.TempDir()
		if res, err := s3kit.Sync(ctx, b, s3kit.LocalDir(down), nil); err != nil || res.Copied.Files != len(syncTree) {
			t.Fatalf("sync down: %+v, %v", res, err)
		}
		for p := range syncTree {
			info, err := b.Head(ctx, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if info.Metadata["mtime"] != "1700000000.987654321" {
				t.Errorf("%s: mtime metadata %q", p, info.Metadata["mtime"])
			}
			if st, err := os.Stat(filepath.Join(down, filepath.FromSlash(p))); err != nil || !st.ModTime().Equal(info.LastModified) {
				t.Errorf("%s: time %v (%v), want LastModified %v", p, st.ModTime(), err, info.LastModified)
			}
		}
		for _, dir := range []struct{ src, dst s3kit.Location }{{b, s3kit.LocalDir(down)}, {s3kit.LocalDir(up), b}, {s3kit.LocalDir(down), b}} {
			if res, err := s3kit.Sync(ctx, dir.src, dir.dst, nil); err != nil || res.Copied.Files != 0 || res.Unchanged.Files != len(syncTree) {
				t.Errorf("sync %v → %v again: %+v, %v", dir.src, dir.dst, res, err)
			}
		}
	})
}

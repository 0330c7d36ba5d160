package s3kit_test

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// SizeOnly copies a file whose size differs and leaves one of the same
// size whatever its time, in both directions.
func TestSyncSizeOnly(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		dir := t.TempDir()
		syncWrite(t, dir, syncTree)
		b := e.bucket.Prefix("up/")
		if _, err := s3kit.Sync(ctx, s3kit.LocalDir(dir), b, nil); err != nil {
			t.Fatal(err)
		}
		// Same size, later time; another size.
		syncWrite(t, dir, map[string]string{"a.txt": "ALPHA", "dir/b.txt": "bravo, longer"})
		later := time.Now().Add(time.Hour)
		if err := os.Chtimes(filepath.Join(dir, "a.txt"), later, later); err != nil {
			t.Fatal(err)
		}
		res, err := syncRec(t, ctx, s3kit.LocalDir(dir), b, &s3kit.SyncOptions{SizeOnly: true, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied (dry run, size only)", syncItems(res.CopiedItems), []string{"dir/b.txt size"})
		res, err = syncRec(t, ctx, s3kit.LocalDir(dir), b, &s3kit.SyncOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied (dry run, by time)", syncItems(res.CopiedItems), []string{"a.txt newer", "dir/b.txt size"})
		res, err = syncRec(t, ctx, s3kit.LocalDir(dir), b, &s3kit.SyncOptions{SizeOnly: true})
		if err != nil || res.Unchanged.Files != len(syncTree)-1 {
			t.Fatalf("size only: %+v, %v", res, err)
		}
		wantItems(t, "copied (size only)", syncItems(res.CopiedItems), []string{"dir/b.txt size"})
		if got, _, _ := b.GetString(ctx, "a.txt"); got != "alpha" {
			t.Fatalf("a.txt of the same size was uploaded: %q", got)
		}

		// Down: objects rewritten since, one of the same size.
		down := t.TempDir()
		if _, err := s3kit.Sync(ctx, b, s3kit.LocalDir(down), nil); err != nil {
			t.Fatal(err)
		}
		earlier := time.Now().Add(-time.Hour)
		for p := range syncTree {
			if err := os.Chtimes(filepath.Join(down, filepath.FromSlash(p)), earlier, earlier); err != nil {
				t.Fatal(err)
			}
		}
		syncPut(t, b, map[string]string{"a.txt": "AlPhA", "empty": "now full"})
		res, err = syncRec(t, ctx, b, s3kit.LocalDir(down), &s3kit.SyncOptions{SizeOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "downloaded (size only)", syncItems(res.CopiedItems), []string{"empty size"})
		want := maps.Clone(syncTree)
		want["dir/b.txt"], want["empty"] = "bravo, longer", "now full"
		if got := syncDirFiles(t, down); !maps.Equal(got, want) {
			t.Fatalf("directory holds %q", got)
		}
	})
}

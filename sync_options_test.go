package s3kit_test

import (
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"path/filepath"
	"slices"
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

// Two Syncs whose Filters split the paths in two copy everything between
// them, each file once, and with Delete each deletes only its own share
// of what the source lacks.
func TestSyncFilterShards(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		dir := t.TempDir()
		files := maps.Clone(syncTree)
		for i := range 20 {
			files[fmt.Sprintf("many/%02d.txt", i)] = fmt.Sprint(i)
		}
		syncWrite(t, dir, files)
		b := e.bucket.Prefix("up/")
		extra := map[string]string{"gone/a": "1", "gone/bb": "2", "gone/ccc": "3", "gone/dddd": "4"}
		syncPut(t, b, extra)
		shard := func(i int) func(string) bool {
			return func(p string) bool {
				h := fnv.New32a()
				h.Write([]byte(p))
				return int(h.Sum32()%2) == i
			}
		}
		if n := len(slices.DeleteFunc(slices.Collect(maps.Keys(extra)), shard(0))); n == 0 || n == len(extra) {
			t.Fatalf("%d of the %d extra files in shard 1: the test needs both shards to own some", n, len(extra))
		}
		seen := map[string]int{}
		deleted := map[string]int{}
		for i := range 2 {
			res, err := syncRec(t, ctx, s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Filter: shard(i), Delete: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.CopiedItems) == 0 || len(res.CopiedItems) == len(files) {
				t.Errorf("shard %d copied %d of %d files", i, len(res.CopiedItems), len(files))
			}
			for _, it := range res.CopiedItems {
				seen[it.Path]++
				if !shard(i)(it.Path) {
					t.Errorf("shard %d copied %s", i, it.Path)
				}
			}
			for _, it := range res.DeletedItems {
				deleted[it.Path]++
				if !shard(i)(it.Path) {
					t.Errorf("shard %d deleted %s, which its Filter drops", i, it.Path)
				}
			}
			if i == 0 {
				// What shard 1 owns is still there: never deleted by shard 0.
				for k := range extra {
					if _, _, err := b.GetString(ctx, k); (err == nil) != shard(1)(k) {
						t.Errorf("after shard 0: %s present: %v", k, err == nil)
					}
				}
			}
		}
		for p := range files {
			if seen[p] != 1 {
				t.Errorf("%s copied by %d shards", p, seen[p])
			}
		}
		for p := range extra {
			if deleted[p] != 1 {
				t.Errorf("%s deleted by %d shards", p, deleted[p])
			}
		}
		if got := syncBucketFiles(t, b); !maps.Equal(got, files) {
			t.Fatalf("bucket holds %q", got)
		}
	})
}

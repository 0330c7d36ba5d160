package s3kit_test

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/s3kit/s3kit"
)

// DownloadAll's Filter selects the keys, relative to the prefix, that are
// downloaded, reported and counted; the others are not touched.
func TestDownloadAllFilter(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		b := e.bucket.Prefix("pics/")
		syncPut(t, b, map[string]string{
			"a.txt": "text", "b.jpg": "bee", "dir/c.jpg": "sea!", "skip/d.jpg": "dee", "skip/e.txt": "e",
		})
		putTree(t, b, []string{"empty/"})
		g, err := s3kit.CompileGlob("**.jpg")
		if err != nil {
			t.Fatal(err)
		}
		var (
			mu              sync.Mutex
			asked, reported []string
			total           int64
		)
		dir := t.TempDir()
		res, err := b.DownloadAll(ctx, dir, &s3kit.TransferOptions{
			Filter: func(key string) bool {
				asked = append(asked, key) // on DownloadAll's goroutine: no lock
				return g.Match(key) && !(len(key) > 5 && key[:5] == "skip/")
			},
			OnFile: func(key string, _ s3kit.ObjectInfo, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("%s: %v", key, err)
				}
				reported = append(reported, key)
			},
			Progress: func(p s3kit.Progress) { total = p.Total },
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(reported)
		if want := []string{"b.jpg", "dir/c.jpg"}; !slices.Equal(reported, want) {
			t.Errorf("reported %q, want %q", reported, want)
		}
		slices.Sort(asked)
		if want := []string{"a.txt", "b.jpg", "dir/c.jpg", "empty/", "skip/d.jpg", "skip/e.txt"}; !slices.Equal(asked, want) {
			t.Errorf("Filter asked about %q, want %q", asked, want)
		}
		if res.Downloaded != 2 || res.Bytes != int64(len("bee")+len("sea!")) || total != res.Bytes {
			t.Errorf("result %+v, progress total %d", res, total)
		}
		if got, want := syncDirFiles(t, dir), map[string]string{"b.jpg": "bee", "dir/c.jpg": "sea!"}; !maps.Equal(got, want) {
			t.Errorf("directory holds %q", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "empty")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the marker Filter dropped made a directory: %v", err)
		}
	})
}

package s3kit_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/s3kit/s3kit"
)

// With NoClobber, Download never replaces a file: not one that was there
// before, nor a symbolic link, nor one created while the bytes flowed.
func TestDownloadNoClobber(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := downloadCtx(t), e.bucket
		syncPut(t, b, map[string]string{"k": "from the store"})
		dir := t.TempDir()
		nc := &s3kit.TransferOptions{NoClobber: true}

		there := filepath.Join(dir, "there")
		os.WriteFile(there, []byte("mine"), 0o666)
		if _, err := b.Download(ctx, "k", there, nc); !errors.Is(err, s3kit.ErrExist) {
			t.Errorf("Download over a file = %v, want ErrExist", err)
		}
		if got, _ := os.ReadFile(there); string(got) != "mine" {
			t.Errorf("the file was replaced: %q", got)
		}
		link := filepath.Join(dir, "link")
		os.Symlink(filepath.Join(dir, "nowhere"), link)
		if _, err := b.Download(ctx, "k", link, nc); !errors.Is(err, s3kit.ErrExist) {
			t.Errorf("Download over a dangling symbolic link = %v, want ErrExist", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the download followed the link: %v", err)
		}

		// A file that appears during the download, after the first check,
		// is kept too: the name is taken with an exclusive create. The
		// Progress callback runs while bytes flow, before the file is
		// put in place.
		racy := filepath.Join(dir, "racy")
		var once sync.Once
		_, err := b.Download(ctx, "k", racy, &s3kit.TransferOptions{NoClobber: true, Progress: func(s3kit.Progress) {
			once.Do(func() { os.WriteFile(racy, []byte("raced"), 0o666) })
		}})
		if !errors.Is(err, s3kit.ErrExist) {
			t.Errorf("Download racing a writer = %v, want ErrExist", err)
		}
		if got, _ := os.ReadFile(racy); string(got) != "raced" {
			t.Errorf("the racing file was replaced: %q", got)
		}

		fresh := filepath.Join(dir, "fresh")
		if _, err := b.Download(ctx, "k", fresh, nc); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(fresh); string(got) != "from the store" {
			t.Errorf("new file %q", got)
		}
		if temps := downloadTemps(t, dir); len(temps) != 0 {
			t.Errorf("temporary files left: %q", temps)
		}
	})
}

// DownloadAll with NoClobber reports each kept file to OnFile with
// ErrExist and counts it as skipped, not failed; OnStart sees each file
// before OnFile does, one call at a time.
func TestDownloadAllNoClobberOnStart(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := downloadCtx(t), e.bucket.Prefix("in")
		syncPut(t, b, map[string]string{"a.txt": "new a", "d/b.txt": "new b", "d/c.txt": "new c"})
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "d"), 0o777)
		os.WriteFile(filepath.Join(dir, "d", "b.txt"), []byte("old b"), 0o666)

		// No lock: the calls are documented to be one at a time, which the
		// race detector checks.
		started := map[string]int64{}
		var skipped, done []string
		res, err := b.DownloadAll(ctx, dir, &s3kit.TransferOptions{
			NoClobber: true,
			OnStart:   func(key string, info s3kit.ObjectInfo) { started[key] = info.Size },
			OnFile: func(key string, _ s3kit.ObjectInfo, err error) {
				if _, ok := started[key]; !ok {
					t.Errorf("OnFile(%s) before OnStart", key)
				}
				switch {
				case errors.Is(err, s3kit.ErrExist):
					skipped = append(skipped, key)
				case err != nil:
					t.Errorf("%s: %v", key, err)
				default:
					done = append(done, key)
				}
			},
		})
		if err != nil {
			t.Fatalf("DownloadAll = %v; a kept file is no failure", err)
		}
		slices.Sort(done)
		if !slices.Equal(skipped, []string{"d/b.txt"}) || !slices.Equal(done, []string{"a.txt", "d/c.txt"}) {
			t.Errorf("skipped %q, downloaded %q", skipped, done)
		}
		if want := map[string]int64{"a.txt": 5, "d/b.txt": 5, "d/c.txt": 5}; !maps.Equal(started, want) {
			t.Errorf("OnStart saw %v, want %v", started, want)
		}
		if res.Downloaded != 2 || res.Skipped != 1 || res.FailedFiles != 0 {
			t.Errorf("result %+v", res)
		}
		want := map[string]string{"a.txt": "new a", "d/b.txt": "old b", "d/c.txt": "new c"}
		if got := syncDirFiles(t, dir); !maps.Equal(got, want) {
			t.Errorf("directory holds %q, want %q", got, want)
		}
	})
}

// DownloadAll's Pattern downloads only the keys that match the glob, with
// the glob's meaning: "*" stops at "/", "**" crosses it.
func TestDownloadAllPattern(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := downloadCtx(t), e.bucket.Prefix("logs")
		syncPut(t, b, map[string]string{"2025-01.gz": "1", "2025-02.txt": "2", "old/2025-03.gz": "3", "2024-12.gz": "4"})
		for pattern, want := range map[string]map[string]string{
			"2025-*.gz":   {"2025-01.gz": "1"},
			"**2025-*.gz": {"2025-01.gz": "1", "old/2025-03.gz": "3"},
		} {
			dir := t.TempDir()
			var asked []string
			res, err := b.DownloadAll(ctx, dir, &s3kit.TransferOptions{Pattern: pattern, Filter: func(key string) bool {
				asked = append(asked, key)
				return true
			}})
			if err != nil {
				t.Fatalf("%s: %v", pattern, err)
			}
			if got := syncDirFiles(t, dir); !maps.Equal(got, want) || res.Downloaded != len(want) {
				t.Errorf("%s: downloaded %q (%+v), want %q", pattern, got, res, want)
			}
			if len(asked) != len(want) {
				t.Errorf("%s: Filter saw %q, only the matches should reach it", pattern, asked)
			}
		}
		_, err := b.DownloadAll(ctx, t.TempDir(), &s3kit.TransferOptions{Pattern: "[z-a]"})
		if !errors.Is(err, s3kit.ErrInvalid) || !strings.Contains(err.Error(), "z-a") {
			t.Errorf("an invalid Pattern: %v, want ErrInvalid naming it", err)
		}
	})
}

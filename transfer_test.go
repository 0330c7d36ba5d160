package s3kit_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

func TestUploadDownload(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		dir := t.TempDir()
		data := randomBytes(13*mib + 99)
		src := filepath.Join(dir, "src.bin")
		os.WriteFile(src, data, 0o600)

		var mu sync.Mutex
		var seen []s3kit.Progress
		opts := &s3kit.TransferOptions{PartSize: 5 * mib, Concurrency: 3, Progress: func(p s3kit.Progress) {
			mu.Lock()
			seen = append(seen, p)
			mu.Unlock()
		}}
		info, err := b.Upload(ctx, src, "up/src.bin", opts)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(data)) {
			t.Fatalf("Upload info %+v", info)
		}
		if last := seen[len(seen)-1]; last.Done != int64(len(data)) || last.Total != int64(len(data)) || last.Rate <= 0 {
			t.Fatalf("last progress %+v", last)
		}

		seen = nil
		dst := filepath.Join(dir, "new", "sub", "dst.bin")
		if _, err := b.Download(ctx, "up/src.bin", dst, opts); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(dst)
		if !bytes.Equal(got, data) {
			t.Fatal("downloaded content differs")
		}
		if last := seen[len(seen)-1]; last.Done != int64(len(data)) {
			t.Fatalf("last progress %+v", last)
		}
		entries, _ := os.ReadDir(filepath.Dir(dst))
		if len(entries) != 1 {
			t.Fatalf("download left extra files: %v", entries)
		}

		if _, err := b.Download(ctx, "missing", filepath.Join(dir, "missing"), nil); !errors.Is(err, s3kit.ErrNotExist) {
			t.Fatalf("Download(missing) = %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
			t.Fatal("a failed download left a file")
		}
		if _, err := b.Upload(ctx, filepath.Join(dir, "nope"), "x", nil); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Upload of a missing file = %v", err)
		}
	})
}

func TestDownloadFailureLeavesNothing(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c, p := proxied(t, e, s3kit.Config{MaxAttempts: 2})
		b := c.Bucket(e.bucket.Name())
		data := randomBytes(3 * mib)
		if _, err := e.bucket.Put(ctx, "obj", bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		dst := filepath.Join(dir, "obj")
		os.WriteFile(dst, []byte("previous"), 0o600)
		p.Add(faultproxy.Rule{Method: "GET", Match: faultproxy.HasQuery("x-id"), Fault: faultproxy.ResetAfter(0)})
		if _, err := b.Download(ctx, "obj", dst, &s3kit.TransferOptions{PartSize: mib}); err == nil {
			t.Fatal("Download through a persistent fault succeeded")
		}
		if got, _ := os.ReadFile(dst); string(got) != "previous" {
			t.Fatalf("the file under the final name changed to %d bytes", len(got))
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("temporary files left: %v", entries)
		}
	})
}

func TestDownloadAll(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		putTree(t, b, []string{"set/a.txt", "set/d/b.txt", "set/file..txt", "set/empty/", `set/back\slash.txt`, "set/C:/drive.txt", "set/link/escape.txt"})
		dir := t.TempDir()
		outside := t.TempDir()
		// A symbolic link inside the destination that points out of it.
		os.Symlink(outside, filepath.Join(dir, "link"))

		res, err := b.Prefix("set").DownloadAll(ctx, dir, nil)
		if !errors.Is(err, s3kit.ErrInsecurePath) {
			t.Fatalf("DownloadAll = %v, want an ErrInsecurePath error", err)
		}
		var failed []string
		for _, f := range res.Failed {
			failed = append(failed, f.Key)
		}
		sort.Strings(failed)
		want := []string{"C:/drive.txt", `back\slash.txt`, "link/escape.txt"}
		if strings.Join(failed, ",") != strings.Join(want, ",") {
			t.Fatalf("failed keys %q, want %q", failed, want)
		}
		if res.Downloaded != 3 {
			t.Fatalf("downloaded %d, want 3", res.Downloaded)
		}
		for _, name := range []string{"a.txt", "d/b.txt", "file..txt"} {
			if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != "x" {
				t.Errorf("%s: %q, %v", name, got, err)
			}
		}
		if st, err := os.Stat(filepath.Join(dir, "empty")); err != nil || !st.IsDir() {
			t.Errorf("directory marker not made a directory: %v", err)
		}
		if entries, _ := os.ReadDir(outside); len(entries) != 0 {
			t.Fatalf("a download escaped through the symbolic link: %v", entries)
		}
	})
}

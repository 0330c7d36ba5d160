package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

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

// downloadCtx bounds a test's downloads, so that a hang fails the test.
func downloadCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// downloadTemps returns the temporary files of downloads in dir, by the
// pattern Sync skips (".NAME.s3kit-*.tmp").
func downloadTemps(t *testing.T, dir string) []string {
	t.Helper()
	var temps []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".tmp") && strings.Contains(n, ".s3kit-") {
			temps = append(temps, n)
		}
	}
	return temps
}

func TestDownloadKeepsMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no permission bits")
	}
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := downloadCtx(t), e.bucket
		if _, err := b.PutString(ctx, "f", "new content", nil); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for _, perm := range []os.FileMode{0o600, 0o640, 0o755, 0o666, 0o400} {
			dst := filepath.Join(dir, perm.String())
			if err := os.WriteFile(dst, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			// Chmod: the umask must not narrow what the test sets.
			if err := os.Chmod(dst, perm); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Download(ctx, "f", dst, nil); err != nil {
				t.Fatal(err)
			}
			if st, err := os.Stat(dst); err != nil || st.Mode().Perm() != perm {
				t.Errorf("existing %v file: mode after Download %v, %v", perm, st.Mode().Perm(), err)
			}
			if got, _ := os.ReadFile(dst); string(got) != "new content" {
				t.Errorf("existing %v file: content %q", perm, got)
			}
		}

		// A new file gets what os.Create gives: 0666 less the umask.
		ref, err := os.OpenFile(filepath.Join(dir, "ref"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		refSt, _ := ref.Stat()
		ref.Close()
		fresh := filepath.Join(dir, "fresh")
		if _, err := b.Download(ctx, "f", fresh, nil); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != refSt.Mode().Perm() {
			t.Errorf("new file: mode %v, want %v (%v)", st.Mode().Perm(), refSt.Mode().Perm(), err)
		}

		// DownloadAll over an existing private file.
		all := t.TempDir()
		if err := os.WriteFile(filepath.Join(all, "f"), []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := b.DownloadAll(ctx, all, nil); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(filepath.Join(all, "f")); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("DownloadAll over a 0600 file: mode %v, %v", st.Mode().Perm(), err)
		}
	})
}

func TestDownloadLongName(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := downloadCtx(t), e.bucket
		names := []string{
			strings.Repeat("a", 250),
			strings.Repeat("b", 255), // the longest file name
			strings.Repeat("é", 127), // 254 bytes: the temp name is cut inside a rune
		}
		for _, name := range names {
			if _, err := b.PutString(ctx, "long/"+name, name[:1], nil); err != nil {
				t.Fatal(err)
			}
		}
		dir := t.TempDir()
		for _, name := range names {
			var temps []string
			opts := &s3kit.TransferOptions{Progress: func(s3kit.Progress) {
				if temps == nil {
					temps = downloadTemps(t, dir)
				}
			}}
			if _, err := b.Download(ctx, "long/"+name, filepath.Join(dir, name), opts); err != nil {
				t.Fatalf("Download of a %d-byte name: %v", len(name), err)
			}
			if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != name[:1] {
				t.Fatalf("%d-byte name: %q, %v", len(name), got, err)
			}
			if len(temps) != 1 || len(temps[0]) > 255 || !utf8.ValidString(temps[0]) || !strings.HasPrefix(temps[0], "."+name[:10]) {
				t.Errorf("temporary file while downloading a %d-byte name: %q", len(name), temps)
			}
			os.Remove(filepath.Join(dir, name))
		}
		if left := downloadTemps(t, dir); len(left) != 0 {
			t.Errorf("temporary files left: %q", left)
		}
		res, err := b.DownloadAll(ctx, dir, nil)
		if err != nil || res.Downloaded != len(names) {
			t.Fatalf("DownloadAll of long names: %+v, %v", res, err)
		}
	})
}

// TestDownloadTimesError makes setting the modification time fail after
// the bytes arrived: while the download runs, its temporary file is
// swapped for a dangling symbolic link, which Chtimes follows (and fails)
// and the rename moves.
func TestDownloadTimesError(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := downloadCtx(t), e.bucket
		data := randomBytes(200_000)
		if _, err := b.PutBytes(ctx, "obj", data, nil); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		var once sync.Once
		opts := &s3kit.TransferOptions{Progress: func(s3kit.Progress) {
			once.Do(func() {
				temps := downloadTemps(t, dir)
				if len(temps) != 1 {
					t.Errorf("temporary files while downloading: %q", temps)
					return
				}
				tmp := filepath.Join(dir, temps[0])
				if err := os.Remove(tmp); err != nil {
					t.Error(err)
				}
				if err := os.Symlink("nowhere", tmp); err != nil {
					t.Error(err)
				}
			})
		}}
		info, err := b.Download(ctx, "obj", filepath.Join(dir, "obj"), opts)
		if err == nil || !strings.Contains(err.Error(), "in place, but setting its modification time failed") || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Download with a failing Chtimes = %v; want the Chtimes error, saying the file is in place", err)
		}
		if info.Size != int64(len(data)) {
			t.Errorf("info with the Chtimes error: %+v", info)
		}
		if _, err := os.Lstat(filepath.Join(dir, "obj")); err != nil {
			t.Errorf("nothing renamed into place: %v", err)
		}
	})
}

// TestDownloadCrashKeepsOldFile kills a process in the middle of a download
// over an existing file: the file keeps its old content, whole, and the
// temporary file is left behind under the name Sync skips.
func TestDownloadCrashKeepsOldFile(t *testing.T) {
	if os.Getenv("S3KIT_CRASH_CHILD") == "1" {
		crashChild(t)
		return
	}
	eachServer(t, func(t *testing.T, e *env) {
		ctx := downloadCtx(t)
		data := randomBytes(64 * mib)
		if _, err := e.bucket.Put(ctx, "big.bin", bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		p := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(p.Close)
		// 13 ranges of 5 MiB, one at a time, each delayed: seconds in all.
		p.Add(faultproxy.Rule{Method: http.MethodGet, Fault: faultproxy.Delay(300 * time.Millisecond)})
		dir := t.TempDir()
		dst := filepath.Join(dir, "big.bin")
		old := bytes.Repeat([]byte("old content "), 100_000)
		if err := os.WriteFile(dst, old, 0o644); err != nil {
			t.Fatal(err)
		}

		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDownloadCrashKeepsOldFile$", "-test.count=1")
		cmd.Env = append(os.Environ(), "S3KIT_CRASH_CHILD=1", "S3KIT_TEST_SERVERS=none",
			"S3KIT_CRASH_ENDPOINT="+p.URL, "S3KIT_CRASH_REGION="+e.srv.Region,
			"S3KIT_CRASH_ACCESS_KEY="+e.srv.AccessKey, "S3KIT_CRASH_SECRET_KEY="+e.srv.SecretKey,
			"S3KIT_CRASH_BUCKET="+e.bucket.Name(), "S3KIT_CRASH_DST="+dst,
			// The killed child's own temporary directory goes with the test.
			"TMPDIR="+t.TempDir())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Kill once at least one range is in the temporary file.
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
	wait:
		for {
			select {
			case err := <-exited:
				t.Fatalf("the downloading process ended before it was killed (%v):\n%s", err, out.Bytes())
			case <-ctx.Done():
				t.Fatalf("no partial temporary file appeared: %v\n%s", ctx.Err(), out.Bytes())
			case <-tick.C:
				for _, n := range downloadTemps(t, dir) {
					if st, err := os.Stat(filepath.Join(dir, n)); err == nil && st.Size() >= 5*mib {
						break wait
					}
				}
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-exited

		if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, old) {
			t.Fatalf("after the kill, the destination holds %d bytes (%v), not its old %d", len(got), err, len(old))
		}
		temps := downloadTemps(t, dir)
		if entries, _ := os.ReadDir(dir); len(entries) != 2 || len(temps) != 1 {
			t.Fatalf("after the kill the directory holds %v; want the old file and one temporary file", entries)
		}
		partial, err := os.ReadFile(filepath.Join(dir, temps[0]))
		if err != nil {
			t.Fatal(err)
		}
		if len(partial) >= len(data) || !bytes.Equal(partial, data[:len(partial)]) {
			t.Fatalf("temporary file: %d bytes, not a prefix of the object", len(partial))
		}
		t.Logf("left behind: %s, %d of %d bytes", temps[0], len(partial), len(data))
	})
}

// crashChild is the process TestDownloadCrashKeepsOldFile kills: it
// downloads as the parent says, through the parent's slow proxy.
func crashChild(t *testing.T) {
	ctx := downloadCtx(t)
	c, err := s3kit.New(ctx, s3kit.Config{
		Endpoint: os.Getenv("S3KIT_CRASH_ENDPOINT"), Region: os.Getenv("S3KIT_CRASH_REGION"),
		AccessKeyID: os.Getenv("S3KIT_CRASH_ACCESS_KEY"), SecretAccessKey: os.Getenv("S3KIT_CRASH_SECRET_KEY"),
	})
	if err != nil {
		t.Fatal(err)
	}
	b := c.Bucket(os.Getenv("S3KIT_CRASH_BUCKET"))
	_, err = b.Download(ctx, "big.bin", os.Getenv("S3KIT_CRASH_DST"), &s3kit.TransferOptions{PartSize: 5 * mib, Concurrency: 1})
	t.Fatalf("the download was not killed; it returned %v", err)
}

func TestUploadContentTypeNoExtension(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := downloadCtx(t)
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		dir := t.TempDir()
		for _, size := range []int{0, 5, 5 * mib, 5*mib + 1} {
			name := fmt.Sprintf("LICENSE%d", size)
			src := filepath.Join(dir, name)
			if err := os.WriteFile(src, randomBytes(size), 0o644); err != nil {
				t.Fatal(err)
			}
			p.Reset()
			if _, err := b.Upload(ctx, src, name, &s3kit.TransferOptions{PartSize: 5 * mib}); err != nil {
				t.Fatal(err)
			}
			var sent []string
			for _, r := range p.Requests() {
				if r.Method == http.MethodPut && !strings.Contains(r.RawQuery, "partNumber") || r.Method == http.MethodPost && strings.Contains(r.RawQuery, "uploads") {
					sent = append(sent, r.Header.Get("Content-Type"))
				}
			}
			if len(sent) != 1 || sent[0] != "application/octet-stream" {
				t.Errorf("%d bytes: Content-Type sent %q", size, sent)
			}
			if h, err := b.Head(ctx, name, nil); err != nil || h.ContentType != "application/octet-stream" {
				t.Errorf("%d bytes: stored Content-Type %q, %v", size, h.ContentType, err)
			}
		}
	})
}

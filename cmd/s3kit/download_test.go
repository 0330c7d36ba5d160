package main

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// localFiles returns the regular files under dir, slash-separated and
// relative to it, with their contents.
func localFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = readFile(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// cp -r and globs down into a directory go through the library's
// DownloadAll: each file reported, --no-clobber keeping what is there,
// --shard splitting the keys, and nothing written outside the directory
// through a symbolic link in it.
func TestCpRecursiveDown(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		for _, k := range []string{"up/a.txt", "up/b.jpg", "up/sub/c.txt", "up/sub/deep/d.jpg", "other/x.txt"} {
			e.put(t, k, "content of "+k)
		}
		e.put(t, "up/empty/", "")

		// --no-clobber: an existing file is kept and reported as skipped,
		// the others are downloaded; --json has a line for each.
		out := t.TempDir()
		writeFile(t, filepath.Join(out, "sub", "c.txt"), "mine", time.Time{})
		r := e.ok(t, nil, "--json", "cp", "-r", "-n", e.url("up"), out)
		recs, sum := records(t, r.stdout)
		var skipped, done []string
		for _, rec := range recs {
			if rec.Skipped == "exists" {
				skipped = append(skipped, rec.Source)
			} else {
				done = append(done, rec.Destination)
			}
		}
		slices.Sort(done)
		wantDone := []string{filepath.Join(out, "a.txt"), filepath.Join(out, "b.jpg"), filepath.Join(out, "sub", "deep", "d.jpg")}
		if !slices.Equal(skipped, []string{e.url("up/sub/c.txt")}) || !slices.Equal(done, wantDone) {
			t.Errorf("skipped %q, copied %q, want %q", skipped, done, wantDone)
		}
		if sum.OK != 4 || sum.Failed != 0 {
			t.Errorf("summary %+v", sum)
		}
		wantFiles := map[string]string{"a.txt": "content of up/a.txt", "b.jpg": "content of up/b.jpg",
			"sub/c.txt": "mine", "sub/deep/d.jpg": "content of up/sub/deep/d.jpg"}
		if got := localFiles(t, out); !maps.Equal(got, wantFiles) {
			t.Errorf("downloaded %q, want %q", got, wantFiles)
		}
		// Without it, the file is replaced.
		e.ok(t, nil, "cp", "-r", e.url("up/"), out)
		if got := readFile(t, filepath.Join(out, "sub", "c.txt")); got != "content of up/sub/c.txt" {
			t.Errorf("without --no-clobber: %q", got)
		}

		// --shard splits a download into disjoint parts that cover it.
		seen := map[string]int{}
		for _, s := range []string{"0/3", "1/3", "2/3"} {
			r := e.ok(t, nil, "--json", "cp", "-r", "--shard", s, e.url("up/"), t.TempDir())
			recs, _ := records(t, r.stdout)
			for _, rec := range recs {
				seen[rec.Source]++
			}
		}
		for _, k := range []string{"up/a.txt", "up/b.jpg", "up/sub/c.txt", "up/sub/deep/d.jpg"} {
			if seen[e.url(k)] != 1 {
				t.Errorf("%s downloaded by %d shards", k, seen[e.url(k)])
			}
		}

		// A glob down: names relative to the literal directory before the
		// wildcard, "*" stopping at "/"; --exclude still applies.
		out = t.TempDir()
		e.ok(t, nil, "cp", "--exclude", "b.*", e.url("up/*.*"), out)
		if got, want := localFiles(t, out), map[string]string{"a.txt": "content of up/a.txt"}; !maps.Equal(got, want) {
			t.Errorf("glob download %q, want %q", got, want)
		}
		r = e.run(t, nil, "cp", e.url("up/*.zip"), out)
		want(t, r, exitFailed)
		if !strings.Contains(r.stderr, "matches nothing") {
			t.Errorf("a glob matching nothing: stderr %q", r.stderr)
		}
		r = e.run(t, nil, "cp", "-r", e.url("nothing/"), out)
		want(t, r, exitFailed)

		// A symbolic link in the destination that leads out of it: the
		// download does not follow it.
		out = t.TempDir()
		outside := t.TempDir()
		if err := os.Symlink(outside, filepath.Join(out, "sub")); err != nil {
			t.Fatal(err)
		}
		r = e.run(t, nil, "cp", "-r", e.url("up/"), out)
		want(t, r, exitFailed)
		if left, _ := os.ReadDir(outside); len(left) != 0 {
			t.Errorf("written outside the destination through a symbolic link: %v", left)
		}
		if got := readFile(t, filepath.Join(out, "a.txt")); got != "content of up/a.txt" {
			t.Errorf("the other files: %q", got)
		}

		// mv -r down deletes each source once its file is in place.
		out = t.TempDir()
		e.ok(t, nil, "mv", "-r", e.url("up/sub/"), out)
		if got := localFiles(t, out); len(got) != 2 || got["deep/d.jpg"] != "content of up/sub/deep/d.jpg" {
			t.Errorf("moved down %q", got)
		}
		if got, want := e.keys(t), []string{"other/x.txt", "up/a.txt", "up/b.jpg", "up/empty/"}; !slices.Equal(got, want) {
			t.Errorf("keys after mv -r %q, want %q", got, want)
		}
	})
}

// SIGINT in the middle of a cp -r down (DownloadAll) exits 130 and leaves
// neither the files nor temporary ones.
func TestInterruptDownloadAll(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		writeRandom(t, e, "d/big.bin", 64<<20)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		dir := t.TempDir()
		// One range at a time, small ones, so the download lasts.
		c := e.cmd(ctx, "--json", "--part-size", "5MiB", "--concurrency", "1", "cp", "-r", e.url("d/"), dir)
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		interruptWhenWriting(ctx, t, c, dir, &stderr)
		if _, sum := records(t, stdout.String()); !sum.Interrupted {
			t.Errorf("summary %+v does not say interrupted", sum)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("files left after the interrupt: %v", left)
		}
	})
}

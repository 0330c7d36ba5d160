package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

var mtime1 = time.Unix(1700000000, 123456789)

// An upload stores the file's mtime in rclone's format; a download sets
// it back; the bytes make the round trip.
func TestCpFileRoundTrip(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		src := filepath.Join(dir, "photo.jpg")
		writeFile(t, src, "jpeg bytes", mtime1)

		r := e.ok(t, nil, "--json", "cp", src, e.url("pics/"))
		recs, sum := records(t, r.stdout)
		if len(recs) != 1 || recs[0].Operation != "cp" || recs[0].Source != src || recs[0].Destination != e.url("pics/photo.jpg") || recs[0].Size != 10 {
			t.Errorf("records %+v", recs)
		}
		if sum.OK != 1 || sum.Failed != 0 || sum.Bytes != 10 {
			t.Errorf("summary %+v", sum)
		}
		info, err := e.bucket.Head(t.Context(), "pics/photo.jpg", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Metadata["mtime"]; got != "1700000000.123456789" {
			t.Errorf("mtime metadata %q, want 1700000000.123456789", got)
		}
		if info.ContentType != "image/jpeg" {
			t.Errorf("Content-Type %q, want image/jpeg by extension", info.ContentType)
		}

		// Down to a file name, and into a directory.
		out := filepath.Join(dir, "out.jpg")
		e.ok(t, nil, "cp", e.url("pics/photo.jpg"), out)
		if got := readFile(t, out); got != "jpeg bytes" {
			t.Errorf("downloaded %q", got)
		}
		st, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if !st.ModTime().Equal(mtime1) {
			t.Errorf("downloaded mtime %v, want %v", st.ModTime(), mtime1)
		}
		sub := filepath.Join(dir, "sub") + string(filepath.Separator)
		e.ok(t, nil, "cp", e.url("pics/photo.jpg"), sub)
		if got := readFile(t, filepath.Join(sub, "photo.jpg")); got != "jpeg bytes" {
			t.Errorf("downloaded into a directory: %q", got)
		}

		// Without mtime metadata, the file gets the object's LastModified.
		e.put(t, "plain.txt", "plain")
		e.ok(t, nil, "cp", e.url("plain.txt"), dir)
		st, err = os.Stat(filepath.Join(dir, "plain.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(st.ModTime()); d < -time.Minute || d > time.Hour {
			t.Errorf("mtime without metadata: %v", st.ModTime())
		}

		// Text output names what was copied; -q says nothing.
		r = e.ok(t, nil, "cp", src, e.url("x.jpg"))
		if want := "cp " + src + " " + e.url("x.jpg") + "\n"; r.stdout != want {
			t.Errorf("stdout %q, want %q", r.stdout, want)
		}
		if r.stderr != "" {
			t.Errorf("stderr on a pipe %q, want nothing (no progress)", r.stderr)
		}
		r = e.ok(t, nil, "-q", "cp", src, e.url("x.jpg"))
		if r.stdout != "" {
			t.Errorf("-q stdout %q", r.stdout)
		}

		// A missing source is a failure with its cause.
		r = e.run(t, nil, "cp", e.url("nope.txt"), dir)
		want(t, r, exitFailed)
		if !strings.Contains(r.stderr, "nope.txt") || !strings.Contains(r.stderr, "does not exist") {
			t.Errorf("stderr %q", r.stderr)
		}
	})
}

func TestCpHeaders(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		src := filepath.Join(t.TempDir(), "data.bin")
		writeFile(t, src, "data", time.Time{})
		e.ok(t, nil, "cp", "--content-type", "text/csv", "--cache-control", "max-age=60",
			"--metadata", "owner=ana", "--metadata", "team=x", "--tags", "env=test", "--storage-class", "STANDARD",
			"--acl", "private", src, e.url("data.bin"))
		info, err := e.bucket.Head(t.Context(), "data.bin", &s3kit.HeadOptions{WithTags: true})
		if err != nil {
			t.Fatal(err)
		}
		if info.ContentType != "text/csv" || info.CacheControl != "max-age=60" || info.Metadata["owner"] != "ana" ||
			info.Metadata["team"] != "x" || info.Tags["env"] != "test" || info.Metadata["mtime"] == "" {
			t.Errorf("headers %+v", info)
		}

		// A copy between keys with new headers replaces them.
		e.ok(t, nil, "cp", "--content-type", "text/plain", "--metadata", "owner=bo", e.url("data.bin"), e.url("copy.bin"))
		info, err = e.bucket.Head(t.Context(), "copy.bin", nil)
		if err != nil {
			t.Fatal(err)
		}
		if info.ContentType != "text/plain" || info.Metadata["owner"] != "bo" {
			t.Errorf("copy headers %+v", info)
		}
		// An encryption the library refuses fails the operation: exit 1,
		// and the cause on stderr.
		r := e.run(t, nil, "cp", "--sse", "rot13", src, e.url("bad.bin"))
		want(t, r, exitFailed)
		if !strings.Contains(r.stderr, "rot13") {
			t.Errorf("stderr %q", r.stderr)
		}
	})
}

func TestCpRecursive(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		for _, p := range []string{"a.txt", "b.jpg", "sub/c.txt", "sub/deep/d.jpg", "cache/e.txt"} {
			writeFile(t, filepath.Join(dir, p), "content of "+p, mtime1)
		}
		// A directory without -r is a failure.
		r := e.run(t, nil, "cp", dir, e.url("up/"))
		want(t, r, exitFailed)
		if !strings.Contains(r.stderr, "is a directory") {
			t.Errorf("stderr %q", r.stderr)
		}

		e.ok(t, nil, "cp", "-r", "--exclude", "cache/**", dir, e.url("up"))
		if got, want := e.keys(t), []string{"up/a.txt", "up/b.jpg", "up/sub/c.txt", "up/sub/deep/d.jpg"}; !slices.Equal(got, want) {
			t.Fatalf("keys %q, want %q", got, want)
		}
		if got := e.get(t, "up/sub/deep/d.jpg"); got != "content of sub/deep/d.jpg" {
			t.Errorf("content %q", got)
		}

		// Down again, only the .jpg files at any depth.
		out := t.TempDir()
		e.ok(t, nil, "cp", "-r", "--include", "**.jpg", e.url("up/"), out)
		var got []string
		filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(out, p)
				got = append(got, filepath.ToSlash(rel))
			}
			return err
		})
		if want := []string{"b.jpg", "sub/deep/d.jpg"}; !slices.Equal(got, want) {
			t.Errorf("downloaded %q, want %q", got, want)
		}

		// A glob source names its matches relative to the literal directory
		// before the wildcard.
		out2 := t.TempDir()
		e.ok(t, nil, "cp", e.url("up/sub/**.txt"), out2)
		if got := readFile(t, filepath.Join(out2, "c.txt")); got != "content of sub/c.txt" {
			t.Errorf("glob download %q", got)
		}

		// Server-side copy of a prefix, and dry runs that change nothing.
		r = e.ok(t, nil, "--json", "cp", "--dry-run", "-r", e.url("up/sub/"), e.url("copied/"))
		recs, _ := records(t, r.stdout)
		if len(recs) != 2 || !recs[0].DryRun {
			t.Errorf("dry run records %+v", recs)
		}
		if keys := e.keys(t); slices.Contains(keys, "copied/c.txt") {
			t.Fatal("--dry-run copied")
		}
		e.ok(t, nil, "cp", "-r", e.url("up/sub/"), e.url("copied/"))
		if got := e.get(t, "copied/deep/d.jpg"); got != "content of sub/deep/d.jpg" {
			t.Errorf("server-side copy %q", got)
		}

		// Into another bucket, server-side.
		other := newBucket(t, e.client)
		e.ok(t, nil, "cp", "-r", e.url("up/sub/"), "s3://"+other.Name()+"/in/")
		if got, _, err := other.GetString(t.Context(), "in/deep/d.jpg"); err != nil || got != "content of sub/deep/d.jpg" {
			t.Errorf("copy to another bucket: %q, %v", got, err)
		}

		// Several sources into one prefix.
		e.ok(t, nil, "cp", filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.jpg"), e.url("two"))
		if got := e.get(t, "two/b.jpg"); got != "content of b.jpg" {
			t.Errorf("two sources: %q", got)
		}

		// A glob matching nothing fails, and the others still copy.
		r = e.run(t, nil, "cp", e.url("up/*.zip"), e.url("up/a.txt"), t.TempDir())
		want(t, r, exitFailed)
	})
}

// --no-clobber never overwrites: an upload is create-only, a download
// skips an existing file.
func TestCpNoClobber(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		src := filepath.Join(dir, "f.txt")
		writeFile(t, src, "new", time.Time{})
		e.put(t, "f.txt", "old")
		r := e.ok(t, nil, "--json", "cp", "-n", src, e.url("f.txt"))
		if got := e.get(t, "f.txt"); got != "old" {
			t.Errorf("--no-clobber overwrote: %q", got)
		}
		if !strings.Contains(r.stdout, `"skipped":"exists"`) {
			t.Errorf("no skip record: %s", r.stdout)
		}
		e.ok(t, nil, "cp", "-n", src, e.url("g.txt"))
		if got := e.get(t, "g.txt"); got != "new" {
			t.Errorf("--no-clobber to a new key: %q", got)
		}
		r = e.ok(t, strings.NewReader("streamed"), "--json", "cp", "-n", "-", e.url("f.txt"))
		if got := e.get(t, "f.txt"); got != "old" || !strings.Contains(r.stdout, `"skipped":"exists"`) {
			t.Errorf("--no-clobber from stdin: %q, %s", got, r.stdout)
		}
		e.ok(t, nil, "cp", "-n", e.url("f.txt"), src)
		if got := readFile(t, src); got != "new" {
			t.Errorf("--no-clobber download overwrote: %q", got)
		}
		// Between S3 locations: a create-only copy, in one bucket and
		// into another.
		r = e.ok(t, nil, "--json", "cp", "-n", e.url("g.txt"), e.url("f.txt"))
		if got := e.get(t, "f.txt"); got != "old" || !strings.Contains(r.stdout, `"skipped":"exists"`) {
			t.Errorf("--no-clobber S3 copy: %q, %s", got, r.stdout)
		}
		r = e.ok(t, nil, "--json", "mv", "-n", e.url("g.txt"), e.url("f.txt"))
		if got := e.get(t, "f.txt"); got != "old" || e.get(t, "g.txt") != "new" {
			t.Errorf("--no-clobber S3 move: destination %q, source %q", got, e.get(t, "g.txt"))
		}
		e.ok(t, nil, "cp", "-n", e.url("g.txt"), e.url("h.txt"))
		if got := e.get(t, "h.txt"); got != "new" {
			t.Errorf("--no-clobber S3 copy to a new key: %q", got)
		}
	})
}

func TestMv(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		src := filepath.Join(dir, "f.txt")
		writeFile(t, src, "moving", time.Time{})
		// --dry-run moves nothing.
		r := e.ok(t, nil, "--json", "mv", "--dry-run", src, e.url("a.txt"))
		if recs, _ := records(t, r.stdout); len(recs) != 1 || !recs[0].DryRun || readFile(t, src) != "moving" || len(e.keys(t)) != 0 {
			t.Fatalf("mv --dry-run: %+v, keys %q", recs, e.keys(t))
		}
		e.ok(t, nil, "mv", src, e.url("a.txt"))
		if _, err := os.Stat(src); !os.IsNotExist(err) {
			t.Errorf("local source still there: %v", err)
		}
		e.ok(t, nil, "mv", "--dry-run", e.url("a.txt"), e.url("b.txt"))
		if got := e.keys(t); len(got) != 1 || got[0] != "a.txt" {
			t.Fatalf("mv --dry-run between keys: %q", got)
		}
		e.ok(t, nil, "mv", e.url("a.txt"), e.url("b.txt"))
		e.ok(t, nil, "mv", e.url("b.txt"), src)
		if got := readFile(t, src); got != "moving" {
			t.Errorf("moved back %q", got)
		}
		if keys := e.keys(t); len(keys) != 0 {
			t.Errorf("objects left %q", keys)
		}
	})
}

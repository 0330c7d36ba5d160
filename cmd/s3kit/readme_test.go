package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The session of the README: sync a folder up, ls, cat, presign and
// fetch, sync down, and find the same files.
func TestReadmeSession(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		site := t.TempDir()
		files := map[string]string{"index.html": "<h1>hi</h1>", "css/site.css": "body{}", "img/a/logo.svg": "<svg/>"}
		for p, c := range files {
			writeFile(t, filepath.Join(site, p), c, mtime1)
		}
		e.ok(t, nil, "sync", site, e.url("site"), "--delete")
		r := e.ok(t, nil, "ls", "-r", e.url("site/"))
		if n := strings.Count(r.stdout, "\n"); n != 3 {
			t.Errorf("ls -r shows %d lines:\n%s", n, r.stdout)
		}
		r = e.ok(t, nil, "cat", e.url("site/index.html"))
		if r.stdout != files["index.html"] {
			t.Errorf("cat %q", r.stdout)
		}
		r = e.ok(t, nil, "presign", "--expires", "15m", e.url("site/index.html"))
		resp, err := http.Get(strings.TrimSpace(r.stdout))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != files["index.html"] {
			t.Errorf("fetched %q", body)
		}
		copyDir := filepath.Join(t.TempDir(), "copy")
		e.ok(t, nil, "sync", e.url("site"), copyDir)
		for p, c := range files {
			if got := readFile(t, filepath.Join(copyDir, p)); got != c {
				t.Errorf("%s: %q, want %q", p, got, c)
			}
		}
		var n int
		filepath.WalkDir(copyDir, func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return err
		})
		if n != len(files) {
			t.Errorf("%d files synced down, want %d", n, len(files))
		}
	})
}

// The help shows how the globs differ from s5cmd's, with an example.
func TestHelpGlobs(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		for _, verb := range []string{"", "cp", "ls", "rm", "du", "sync"} {
			args := []string{"help"}
			if verb != "" {
				args = append(args, verb)
			}
			r := e.ok(t, nil, args...)
			for _, s := range []string{`"*" and "?" stop`, `"**" crosses it`, "s5cmd", "'s3://logs/2025/**.gz'"} {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("s3kit %q does not show %q", args, s)
				}
			}
		}
	})
}

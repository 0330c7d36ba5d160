package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// copied returns the paths a sync's --json output reports copied.
func copied(t *testing.T, stdout, op string) []string {
	t.Helper()
	recs, sum := records(t, stdout)
	var got []string
	for _, r := range recs {
		if r.Operation == op {
			got = append(got, r.Destination)
		}
	}
	if sum.Failed != 0 {
		t.Errorf("summary %+v", sum)
	}
	// Sync reports each file when it is done, copies running in parallel.
	slices.Sort(got)
	return got
}

func TestSync(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		old := time.Now().Add(-time.Hour)
		for _, p := range []string{"a.txt", "sub/b.txt", "skip.log"} {
			writeFile(t, filepath.Join(dir, p), "v1 "+p, old)
		}
		r := e.ok(t, nil, "--json", "sync", "--exclude", "*.log", dir, e.url("site"))
		if got, want := copied(t, r.stdout, "copy"), []string{e.url("site/a.txt"), e.url("site/sub/b.txt")}; !slices.Equal(got, want) {
			t.Fatalf("first sync copied %q, want %q", got, want)
		}
		// Nothing changed: nothing to copy.
		r = e.ok(t, nil, "--json", "sync", "--exclude", "*.log", dir, e.url("site"))
		if got := copied(t, r.stdout, "copy"); len(got) != 0 {
			t.Errorf("no-op sync copied %q", got)
		}
		// A change of size is copied; --dry-run only says so.
		writeFile(t, filepath.Join(dir, "a.txt"), "v2 is longer", time.Time{})
		r = e.ok(t, nil, "--json", "sync", "--dry-run", "--exclude", "*.log", dir, e.url("site"))
		if got := copied(t, r.stdout, "copy"); !slices.Equal(got, []string{e.url("site/a.txt")}) {
			t.Errorf("dry run would copy %q", got)
		}
		if got := e.get(t, "site/a.txt"); got != "v1 a.txt" {
			t.Fatalf("--dry-run copied: %q", got)
		}
		e.ok(t, nil, "sync", "--exclude", "*.log", dir, e.url("site"))
		if got := e.get(t, "site/a.txt"); got != "v2 is longer" {
			t.Errorf("after sync: %q", got)
		}
		// Same size, same time, other content: only --checksum sees it.
		writeFile(t, filepath.Join(dir, "sub/b.txt"), "V1 sub/b.txt", time.Time{})
		os.Chtimes(filepath.Join(dir, "sub/b.txt"), old, old)
		r = e.ok(t, nil, "--json", "sync", "--checksum", "--exclude", "*.log", dir, e.url("site"))
		if got := copied(t, r.stdout, "copy"); !slices.Equal(got, []string{e.url("site/sub/b.txt")}) {
			t.Errorf("--checksum copied %q", got)
		}
		// Same size, later time, other content: --size-only leaves it.
		writeFile(t, filepath.Join(dir, "sub/b.txt"), "W1 sub/b.txt", time.Now().Add(time.Hour))
		r = e.ok(t, nil, "--json", "sync", "--size-only", "--exclude", "*.log", dir, e.url("site"))
		if got := copied(t, r.stdout, "copy"); len(got) != 0 {
			t.Errorf("--size-only copied %q", got)
		}
		r = e.ok(t, nil, "--json", "sync", "--dry-run", "--exclude", "*.log", dir, e.url("site"))
		if got := copied(t, r.stdout, "copy"); !slices.Equal(got, []string{e.url("site/sub/b.txt")}) {
			t.Errorf("without --size-only, would copy %q", got)
		}
		// --delete removes what the source lacks, but --max-delete stops
		// it, and nothing at all is deleted, when more would go.
		os.Remove(filepath.Join(dir, "a.txt"))
		os.Remove(filepath.Join(dir, "sub/b.txt"))
		args := []string{"--json", "sync", "--delete", "--max-delete", "1", "--exclude", "*.log", dir, e.url("site")}
		r = e.run(t, nil, args...)
		want(t, r, 1, args...)
		if !strings.Contains(r.stderr, "too many deletes") {
			t.Errorf("--max-delete 1 with 2 to delete: stderr %q", r.stderr)
		}
		if got := e.get(t, "site/a.txt"); got != "v2 is longer" {
			t.Errorf("--max-delete let a delete through: %q", got)
		}
		writeFile(t, filepath.Join(dir, "sub/b.txt"), "V1 sub/b.txt", old)
		r = e.ok(t, nil, "--json", "sync", "--delete", "--max-delete", "1", "--exclude", "*.log", dir, e.url("site"))
		if got := copied(t, r.stdout, "delete"); !slices.Equal(got, []string{e.url("site/a.txt")}) {
			t.Errorf("--delete deleted %q", got)
		}

		// --include selects by the whole relative path.
		incl := t.TempDir()
		r = e.ok(t, nil, "--json", "sync", "--include", "sub/**", e.url("site/"), incl)
		if got := copied(t, r.stdout, "copy"); !slices.Equal(got, []string{incl + "/sub/b.txt"}) {
			t.Errorf("sync --include copied %q", got)
		}

		// Down, and bucket to bucket.
		out := t.TempDir()
		e.ok(t, nil, "sync", e.url("site/"), out)
		if got := readFile(t, filepath.Join(out, "sub/b.txt")); got != "V1 sub/b.txt" {
			t.Errorf("synced down %q", got)
		}
		other := newBucket(t, e.client)
		e.ok(t, nil, "sync", e.url("site"), "s3://"+other.Name()+"/mirror")
		if got, _, err := other.GetString(t.Context(), "mirror/sub/b.txt"); err != nil || got != "V1 sub/b.txt" {
			t.Errorf("bucket to bucket: %q %v", got, err)
		}

		// --no-clobber replaces nothing that exists at DST, in each
		// direction, and still creates what is missing.
		writeFile(t, filepath.Join(dir, "sub/b.txt"), "v3, longer than before", time.Time{})
		writeFile(t, filepath.Join(dir, "new.txt"), "new", time.Time{})
		r = e.ok(t, nil, "--json", "sync", "--no-clobber", "--exclude", "*.log", dir, e.url("site"))
		if got := e.get(t, "site/sub/b.txt"); got != "V1 sub/b.txt" {
			t.Errorf("--no-clobber upload replaced: %q", got)
		}
		if got := copied(t, r.stdout, "copy"); !slices.Equal(got, []string{e.url("site/new.txt")}) {
			t.Errorf("--no-clobber upload copied %q", got)
		}
		writeFile(t, filepath.Join(out, "sub/b.txt"), "local, kept", time.Time{})
		e.ok(t, nil, "sync", "--no-clobber", e.url("site/"), out)
		if got := readFile(t, filepath.Join(out, "sub/b.txt")); got != "local, kept" {
			t.Errorf("--no-clobber download replaced: %q", got)
		}
		if got := readFile(t, filepath.Join(out, "new.txt")); got != "new" {
			t.Errorf("--no-clobber download of a new file: %q", got)
		}
		if _, err := other.PutString(t.Context(), "mirror/sub/b.txt", "theirs", nil); err != nil {
			t.Fatal(err)
		}
		e.ok(t, nil, "sync", "--no-clobber", e.url("site"), "s3://"+other.Name()+"/mirror")
		if got, _, err := other.GetString(t.Context(), "mirror/sub/b.txt"); err != nil || got != "theirs" {
			t.Errorf("--no-clobber bucket to bucket replaced: %q %v", got, err)
		}
		if got, _, err := other.GetString(t.Context(), "mirror/new.txt"); err != nil || got != "new" {
			t.Errorf("--no-clobber bucket to bucket, new file: %q %v", got, err)
		}
	})
}

// --shard I/N splits a recursive copy into disjoint parts that together
// copy everything.
func TestShardCopy(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		var all []string
		for i := range 40 {
			p := filepath.Join("d", string(rune('a'+i%26)), "f"+string(rune('a'+i/26))+".txt")
			writeFile(t, filepath.Join(dir, p), p, time.Time{})
			all = append(all, "up/"+filepath.ToSlash(p))
		}
		slices.Sort(all)
		seen := map[string]int{}
		for i := range 3 {
			r := e.ok(t, nil, "--json", "cp", "-r", "--shard", []string{"0/3", "1/3", "2/3"}[i], dir, e.url("up"))
			recs, _ := records(t, r.stdout)
			if len(recs) == 0 || len(recs) == len(all) {
				t.Errorf("shard %d/3 copied %d of %d", i, len(recs), len(all))
			}
			for _, rec := range recs {
				seen[rec.Destination]++
			}
		}
		for _, k := range all {
			if seen[e.url(k)] != 1 {
				t.Errorf("%s copied by %d shards", k, seen[e.url(k)])
			}
		}
		if got := e.keys(t); !slices.Equal(got, all) {
			t.Errorf("keys %q", got)
		}
		// The same split for rm.
		for _, s := range []string{"0/2", "1/2"} {
			e.ok(t, nil, "rm", "-r", "--shard", s, e.url("up/"))
		}
		if got := e.keys(t); len(got) != 0 {
			t.Errorf("left after rm of both shards: %q", got)
		}
		// A shard that holds none of the paths is no failure.
		one := t.TempDir()
		writeFile(t, filepath.Join(one, "only.txt"), "x", time.Time{})
		total := 0
		for _, s := range []string{"0/2", "1/2"} {
			r := e.ok(t, nil, "--json", "cp", "-r", "--shard", s, one, e.url("one/"))
			recs, _ := records(t, r.stdout)
			total += len(recs)
		}
		if total != 1 {
			t.Errorf("the two shards copied %d files, want 1", total)
		}
	})
}

// --shard I/N splits a sync, deletions included, into disjoint parts that
// together sync everything.
func TestShardSync(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		var all []string
		for i := range 30 {
			p := fmt.Sprintf("d%d/f%02d.txt", i%4, i)
			writeFile(t, filepath.Join(dir, p), p, time.Time{})
			all = append(all, "site/"+p)
		}
		slices.Sort(all)
		for _, k := range []string{"site/old1", "site/old22", "site/old333", "site/old4444", "site/old55555"} {
			if _, err := e.bucket.PutString(t.Context(), k, "stale", nil); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]int{}
		for _, s := range []string{"0/2", "1/2"} {
			r := e.ok(t, nil, "--json", "sync", "--delete", "--shard", s, dir, e.url("site"))
			recs, _ := records(t, r.stdout)
			if len(recs) == 0 || len(recs) >= len(all) {
				t.Errorf("shard %s did %d operations for %d files", s, len(recs), len(all))
			}
			for _, rec := range recs {
				seen[rec.Operation+" "+rec.Destination]++
			}
		}
		for _, k := range all {
			if seen["copy "+e.url(k)] != 1 {
				t.Errorf("%s copied by %d shards", k, seen["copy "+e.url(k)])
			}
		}
		if got := e.keys(t); !slices.Equal(got, all) {
			t.Errorf("keys after both shards %q", got)
		}
		args := []string{"sync", "--shard", "1/1x", dir, e.url("site")}
		want(t, e.run(t, nil, args...), exitUsage, args...)
	})
}

package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// syncTree is a small tree with nested directories, names with spaces and
// non-ASCII letters, and an empty file.
var syncTree = map[string]string{
	"a.txt":                     "alpha",
	"empty":                     "",
	"dir/b.txt":                 "bravo",
	"dir/sub/c.bin":             "charlie charlie",
	"space dir/d e.txt":         "delta",
	"ünïcödé/名前 with space.txt": "unicode",
}

// syncWrite writes files (slash-separated path → content) under dir.
func syncWrite(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
	}
}

// syncPut writes files as objects under b.
func syncPut(t *testing.T, b *s3kit.Bucket, files map[string]string) {
	t.Helper()
	for k, content := range files {
		if _, err := b.PutString(t.Context(), k, content, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// syncDirFiles returns the regular files under dir with their content.
func syncDirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(name)
		rel, _ := filepath.Rel(dir, name)
		got[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// syncBucketFiles returns the objects under b, markers left out, with
// their content.
func syncBucketFiles(t *testing.T, b *s3kit.Bucket) map[string]string {
	t.Helper()
	got := map[string]string{}
	for obj, err := range b.List(t.Context(), &s3kit.ListOptions{FilesOnly: true}) {
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := b.GetString(t.Context(), obj.Key)
		if err != nil {
			t.Fatal(err)
		}
		got[obj.Key] = s
	}
	return got
}

// syncItems renders items as "path reason" (or just "path"), in order.
func syncItems(items []s3kit.SyncItem) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, strings.TrimSpace(it.Path+" "+it.Reason))
	}
	return out
}

// syncAll lists the paths of files, sorted, each followed by reason.
func syncAll(files map[string]string, reason string) []string {
	out := []string{}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		out = append(out, strings.TrimSpace(p+" "+reason))
	}
	return out
}

// syncRec runs Sync with Record set, and checks that the counts, the
// lists and the OnItem calls agree.
func syncRec(t *testing.T, ctx context.Context, src, dst s3kit.Location, opts *s3kit.SyncOptions) (s3kit.SyncResult, error) {
	t.Helper()
	o := s3kit.SyncOptions{}
	if opts != nil {
		o = *opts
	}
	o.Record = true
	var (
		mu     sync.Mutex
		events = map[s3kit.SyncOp]s3kit.SyncCount{}
		inCall bool
	)
	user := o.OnItem
	o.OnItem = func(ev s3kit.SyncEvent) {
		mu.Lock()
		if inCall {
			t.Error("OnItem called while another call runs")
		}
		inCall = true
		mu.Unlock()
		if user != nil {
			user(ev)
		}
		mu.Lock()
		c := events[ev.Op]
		c.Files++
		c.Bytes += ev.Size
		events[ev.Op] = c
		if (ev.Op == s3kit.SyncFailed) != (ev.Err != nil) {
			t.Errorf("event %+v", ev)
		}
		inCall = false
		mu.Unlock()
	}
	res, err := s3kit.Sync(ctx, src, dst, &o)
	if err != nil && errors.Is(err, s3kit.ErrInvalid) && res.Copied.Files == 0 && len(events) == 0 {
		return res, err
	}
	mu.Lock()
	defer mu.Unlock()
	for _, c := range []struct {
		op    s3kit.SyncOp
		count s3kit.SyncCount
		items []s3kit.SyncItem
	}{
		{s3kit.SyncCopied, res.Copied, res.CopiedItems},
		{s3kit.SyncDeleted, res.Deleted, res.DeletedItems},
		{s3kit.SyncSkipped, res.Skipped, res.SkippedItems},
	} {
		var sum s3kit.SyncCount
		for _, it := range c.items {
			sum.Files++
			sum.Bytes += it.Size
		}
		if sum != c.count || events[c.op] != c.count {
			t.Errorf("%v: count %+v, list %+v, OnItem %+v", c.op, c.count, sum, events[c.op])
		}
	}
	if res.Failed.Files != len(res.Failures) || events[s3kit.SyncFailed].Files != len(res.Failures) {
		t.Errorf("failed: count %d, list %d, OnItem %d", res.Failed.Files, len(res.Failures), events[s3kit.SyncFailed].Files)
	}
	return res, err
}

func syncFailed(res s3kit.SyncResult) []string {
	out := []string{}
	for _, f := range res.Failures {
		out = append(out, f.Key)
	}
	return out
}

func syncSize(files map[string]string) int64 {
	var n int64
	for _, s := range files {
		n += int64(len(s))
	}
	return n
}

func wantItems(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestSyncUpload(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		dir := t.TempDir()
		syncWrite(t, dir, syncTree)
		b := e.bucket.Prefix("up")

		res, err := syncRec(t, ctx, s3kit.LocalDir(dir), b, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), syncAll(syncTree, "new"))
		if res.Copied.Bytes != syncSize(syncTree) || res.Unchanged.Files != 0 || len(res.DeletedItems)+len(res.SkippedItems)+len(res.Failures) != 0 {
			t.Fatalf("result %+v", res)
		}
		if got := syncBucketFiles(t, b); !maps.Equal(got, syncTree) {
			t.Fatalf("bucket holds %q", got)
		}

		res, err = syncRec(t, ctx, s3kit.LocalDir(dir), b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.CopiedItems) != 0 || res.Unchanged.Files != len(syncTree) || res.Copied.Bytes != 0 {
			t.Fatalf("second sync: %+v", res)
		}

		// One file changes size; another keeps its size but is modified
		// later.
		syncWrite(t, dir, map[string]string{"a.txt": "alpha, longer", "dir/b.txt": "BRAVO"})
		later := time.Now().Add(time.Minute)
		if err := os.Chtimes(filepath.Join(dir, "dir", "b.txt"), later, later); err != nil {
			t.Fatal(err)
		}
		res, err = syncRec(t, ctx, s3kit.LocalDir(dir), b, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"a.txt size", "dir/b.txt newer"})
		if res.Unchanged.Files != len(syncTree)-2 || res.Copied.Bytes != int64(len("alpha, longer")+len("BRAVO")) {
			t.Fatalf("result %+v", res)
		}
		if got, _, _ := b.GetString(ctx, "dir/b.txt"); got != "BRAVO" {
			t.Fatalf("dir/b.txt is %q", got)
		}
		info, err := b.Head(ctx, "a.txt", nil)
		if err != nil || info.ContentType != "text/plain; charset=utf-8" {
			t.Fatalf("a.txt: %+v, %v (content type by extension, as Upload)", info, err)
		}
	})
}

func TestSyncDownload(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		b := e.bucket.Prefix("down")
		syncPut(t, b, syncTree)
		putTree(t, b, []string{"only/a/marker/"})
		dir := filepath.Join(t.TempDir(), "new", "dst") // created by Sync

		res, err := syncRec(t, ctx, b, s3kit.LocalDir(dir), nil)
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), syncAll(syncTree, "new"))
		if got := syncDirFiles(t, dir); !maps.Equal(got, syncTree) {
			t.Fatalf("directory holds %q", got)
		}
		if st, err := os.Stat(filepath.Join(dir, "only", "a", "marker")); err != nil || !st.IsDir() {
			t.Fatalf("the directory marker made no directory: %v", err)
		}
		for p := range syncTree {
			info, err := b.Head(ctx, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
			if err != nil {
				t.Fatal(err)
			}
			if !st.ModTime().Equal(info.LastModified) {
				t.Errorf("%s: modification time %v, object's LastModified %v", p, st.ModTime(), info.LastModified)
			}
		}

		res, err = syncRec(t, ctx, b, s3kit.LocalDir(dir), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.CopiedItems) != 0 || res.Unchanged.Files != len(syncTree) {
			t.Fatalf("second sync: %+v", res)
		}

		// The object changes size; a local file is changed, keeping its
		// size, and its modification time put back before the object's.
		syncPut(t, b, map[string]string{"a.txt": "alpha, longer"})
		bp := filepath.Join(dir, "dir", "b.txt")
		syncWrite(t, dir, map[string]string{"dir/b.txt": "BRAVO"})
		earlier := time.Now().Add(-time.Hour)
		if err := os.Chtimes(bp, earlier, earlier); err != nil {
			t.Fatal(err)
		}
		res, err = syncRec(t, ctx, b, s3kit.LocalDir(dir), nil)
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"a.txt size", "dir/b.txt newer"})
		want := maps.Clone(syncTree)
		want["a.txt"] = "alpha, longer"
		if got := syncDirFiles(t, dir); !maps.Equal(got, want) {
			t.Fatalf("directory holds %q", got)
		}
		if res, err := syncRec(t, ctx, b, s3kit.LocalDir(dir), nil); err != nil || len(res.CopiedItems) != 0 {
			t.Fatalf("third sync: %+v, %v", res, err)
		}
	})
}

func TestSyncBuckets(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c, p := proxied(t, e, s3kit.Config{})
		src := c.Bucket(e.bucket.Name()).Prefix("src")
		dst := c.Bucket(newBucket(t, e.client).Name()).Prefix("mirror")
		syncPut(t, src, syncTree)
		if _, err := src.PutString(ctx, "meta.txt", "with metadata", &s3kit.PutOptions{Metadata: map[string]string{"color": "blue"}}); err != nil {
			t.Fatal(err)
		}
		want := maps.Clone(syncTree)
		want["meta.txt"] = "with metadata"

		p.Reset()
		res, err := syncRec(t, ctx, src, dst, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), syncAll(want, "new"))
		copies, gets := 0, 0
		for _, r := range p.Requests() {
			switch {
			case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
				copies++
			case r.Method == http.MethodGet && !strings.Contains(r.RawQuery, "list-type"):
				gets++
			}
		}
		if copies != len(want) || gets != 0 {
			t.Fatalf("%d server-side copies and %d GETs of objects; want %d and 0", copies, gets, len(want))
		}
		if got := syncBucketFiles(t, dst); !maps.Equal(got, want) {
			t.Fatalf("destination holds %q", got)
		}
		if info, err := dst.Head(ctx, "meta.txt", nil); err != nil || info.Metadata["color"] != "blue" {
			t.Fatalf("metadata not copied: %+v, %v", info, err)
		}

		// The listings decide: one LIST per side, no HEAD, also with
		// Checksum, the copies having kept their source's ETags.
		for _, opts := range []*s3kit.SyncOptions{nil, {Checksum: true}} {
			p.Reset()
			res, err := syncRec(t, ctx, src, dst, opts)
			if err != nil || len(res.CopiedItems) != 0 || res.Unchanged.Files != len(want) {
				t.Fatalf("second sync (%+v): %+v, %v", opts, res, err)
			}
			for _, r := range p.Requests() {
				if q, _ := url.ParseQuery(r.RawQuery); !q.Has("list-type") {
					t.Fatalf("a sync that changes nothing (%+v) sent %s %s", opts, r.Method, r.Path)
				}
			}
			if n := p.Count(); n != 2 {
				t.Fatalf("a sync that changes nothing (%+v) sent %d LISTs, want 2", opts, n)
			}
		}

		// Same size, new content: Checksum sees it.
		syncPut(t, src, map[string]string{"a.txt": "ALPHA"})
		res, err = syncRec(t, ctx, src, dst, &s3kit.SyncOptions{Checksum: true})
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"a.txt checksum"})
		if got, _, _ := dst.GetString(ctx, "a.txt"); got != "ALPHA" {
			t.Fatalf("a.txt is %q", got)
		}
	})
}

// TestSyncAcrossClients syncs between buckets of two Clients, to the other
// server where there is one: the bytes stream through the process.
func TestSyncAcrossClients(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		other := servers[0]
		for _, s := range servers {
			if s.Name != e.name {
				other = s
			}
		}
		c, p := proxied(t, e, s3kit.Config{})
		src := c.Bucket(e.bucket.Name()).Prefix("src")
		dst := newBucket(t, newClient(t, other, s3kit.Config{})).Prefix("from-" + e.name)
		syncPut(t, src, syncTree)
		big := randomBytes(6*mib + 5)
		if _, err := src.Put(ctx, "big.bin", bytes.NewReader(big), &s3kit.PutOptions{ContentType: "application/x-test", Metadata: map[string]string{"color": "blue"}}); err != nil {
			t.Fatal(err)
		}
		want := maps.Clone(syncTree)
		want["big.bin"] = string(big)

		p.Reset()
		res, err := syncRec(t, ctx, src, dst, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), syncAll(want, "new"))
		if res.Copied.Bytes != syncSize(want) {
			t.Fatalf("Bytes %d, want %d", res.Copied.Bytes, syncSize(want))
		}
		for _, r := range p.Requests() {
			if r.Header.Get("X-Amz-Copy-Source") != "" {
				t.Fatal("a server-side copy between Clients")
			}
		}
		if got := syncBucketFiles(t, dst); !maps.Equal(got, want) {
			t.Fatal("destination content differs")
		}
		info, err := dst.Head(ctx, "big.bin", nil)
		if err != nil || info.ContentType != "application/x-test" || info.Metadata["color"] != "blue" {
			t.Fatalf("content type and metadata not carried over: %+v, %v", info, err)
		}
		for _, opts := range []*s3kit.SyncOptions{nil, {Checksum: true}} {
			res, err := syncRec(t, ctx, src, dst, opts)
			if err != nil || len(res.CopiedItems) != 0 || res.Unchanged.Files != len(want) {
				t.Fatalf("second sync (%+v): %+v, %v", opts, res, err)
			}
		}
	})
}

func TestSyncChecksum(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		dir := t.TempDir()
		syncWrite(t, dir, syncTree)
		b := e.bucket.Prefix("sum")
		if _, err := syncRec(t, ctx, s3kit.LocalDir(dir), b, nil); err != nil {
			t.Fatal(err)
		}

		// Same size, same modification time, other content: only
		// Checksum sees it.
		a := filepath.Join(dir, "a.txt")
		st, err := os.Stat(a)
		if err != nil {
			t.Fatal(err)
		}
		syncWrite(t, dir, map[string]string{"a.txt": "ALPHA"})
		if err := os.Chtimes(a, st.ModTime(), st.ModTime()); err != nil {
			t.Fatal(err)
		}
		res, err := syncRec(t, ctx, s3kit.LocalDir(dir), b, nil)
		if err != nil || len(res.CopiedItems) != 0 {
			t.Fatalf("default sync: %+v, %v; want nothing copied", res, err)
		}
		res, err = syncRec(t, ctx, s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Checksum: true})
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"a.txt checksum"})
		if got, _, _ := b.GetString(ctx, "a.txt"); got != "ALPHA" {
			t.Fatalf("a.txt is %q", got)
		}
		res, err = syncRec(t, ctx, s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Checksum: true})
		if err != nil || len(res.CopiedItems) != 0 || res.Unchanged.Files != len(syncTree) {
			t.Fatalf("checksum sync again: %+v, %v", res, err)
		}

		// The other way.
		down := t.TempDir()
		if _, err := syncRec(t, ctx, b, s3kit.LocalDir(down), nil); err != nil {
			t.Fatal(err)
		}
		c := filepath.Join(down, "dir", "sub", "c.bin")
		st, err = os.Stat(c)
		if err != nil {
			t.Fatal(err)
		}
		syncWrite(t, down, map[string]string{"dir/sub/c.bin": "CHARLIE CHARLIE"})
		if err := os.Chtimes(c, st.ModTime(), st.ModTime()); err != nil {
			t.Fatal(err)
		}
		if res, err := syncRec(t, ctx, b, s3kit.LocalDir(down), nil); err != nil || len(res.CopiedItems) != 0 {
			t.Fatalf("default sync: %+v, %v; want nothing copied", res, err)
		}
		res, err = syncRec(t, ctx, b, s3kit.LocalDir(down), &s3kit.SyncOptions{Checksum: true})
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"dir/sub/c.bin checksum"})
		if got, _ := os.ReadFile(c); string(got) != syncTree["dir/sub/c.bin"] {
			t.Fatalf("c.bin is %q", got)
		}
	})
}

func TestSyncDelete(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		dir := t.TempDir()
		outside := filepath.Join(t.TempDir(), "outside.txt")
		syncWrite(t, dir, map[string]string{"a.txt": "a", "keep/local.log": "l"})
		os.WriteFile(outside, []byte("outside"), 0o666)
		if err := os.Symlink(outside, filepath.Join(dir, "link.txt")); err != nil {
			t.Fatal(err)
		}
		b := e.bucket.Prefix("del")
		syncPut(t, b, map[string]string{"old.txt": "o", "sub/old.txt": "o", "keep/x.log": "x", "link.txt": "kept"})
		putTree(t, b, []string{"marker/"})
		opts := &s3kit.SyncOptions{Delete: true, Exclude: []string{"keep/**"}}

		res, err := syncRec(t, ctx, s3kit.LocalDir(dir), b, opts)
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"a.txt new"})
		wantItems(t, "deleted", syncItems(res.DeletedItems), []string{"old.txt", "sub/old.txt"})
		wantItems(t, "skipped", syncItems(res.SkippedItems), []string{"link.txt symbolic link leading out of the directory"})
		want := []string{"a.txt", "keep/x.log", "link.txt", "marker/ (dir)"}
		wantItems(t, "bucket", keysOf(t, b, nil), want)

		// The other way: extraneous local files go, excluded ones stay.
		down := t.TempDir()
		// A download in progress (of another process) is left alone.
		tmp := ".x.txt.s3kit-1-2.tmp"
		syncWrite(t, down, map[string]string{"extra.txt": "e", "deep/er/extra.txt": "e", "keep/y.log": "y", "a.txt": "a", tmp: "partial"})
		res, err = syncRec(t, ctx, b, s3kit.LocalDir(down), opts)
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"link.txt new"})
		wantItems(t, "deleted", syncItems(res.DeletedItems), []string{"deep/er/extra.txt", "extra.txt"})
		got := syncDirFiles(t, down)
		if !maps.Equal(got, map[string]string{"a.txt": "a", "keep/y.log": "y", "link.txt": "kept", tmp: "partial"}) {
			t.Fatalf("directory holds %q", got)
		}
	})
}

func TestSyncDryRun(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		dir := t.TempDir()
		syncWrite(t, dir, syncTree)
		b := e.bucket.Prefix("dry")
		syncPut(t, b, map[string]string{"old.txt": "o", "a.txt": "old alpha"})
		before := keysOf(t, b, nil)

		opts := &s3kit.SyncOptions{DryRun: true, Delete: true, Progress: func(s3kit.SyncProgress) { t.Error("Progress called in a dry run") }}
		res, err := syncRec(t, ctx, s3kit.LocalDir(dir), b, opts)
		if err != nil {
			t.Fatal(err)
		}
		want := syncAll(syncTree, "new")
		want[0] = "a.txt size"
		wantItems(t, "copied", syncItems(res.CopiedItems), want)
		wantItems(t, "deleted", syncItems(res.DeletedItems), []string{"old.txt"})
		if res.Copied.Bytes != syncSize(syncTree) {
			t.Fatalf("Bytes %d, want %d", res.Copied.Bytes, syncSize(syncTree))
		}
		wantItems(t, "bucket after a dry run", keysOf(t, b, nil), before)
		if got, _, _ := b.GetString(ctx, "a.txt"); got != "old alpha" {
			t.Fatal("a dry run changed an object")
		}

		// Into a directory that does not exist: it is not created.
		down := filepath.Join(t.TempDir(), "none")
		res, err = syncRec(t, ctx, b, s3kit.LocalDir(down), opts)
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"a.txt new", "old.txt new"})
		if _, err := os.Stat(down); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("a dry run created the destination: %v", err)
		}
	})
}

func TestSyncFilters(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		dir := t.TempDir()
		syncWrite(t, dir, map[string]string{
			"a.txt": "a", "b.log": "b", "docs/x.txt": "x", "docs/y.log": "y",
			"docs/skip/z.txt": "z", "docs/deep/w.txt": "w", "other/v.txt": "v",
		})
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name()).Prefix("f")
		syncPut(t, b, map[string]string{"other/old.txt": "o", "docs/old.log": "o"})

		opts := &s3kit.SyncOptions{Include: []string{"docs/**"}, Exclude: []string{"**/*.log", "docs/skip/**"}, Delete: true}
		res, err := syncRec(t, ctx, s3kit.LocalDir(dir), b, opts)
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"docs/deep/w.txt new", "docs/x.txt new"})
		if len(res.DeletedItems) != 0 {
			t.Fatalf("deleted %q: excluded or not included", syncItems(res.DeletedItems))
		}
		// The listing asked only for what Include can select.
		lists := 0
		for _, r := range p.Requests() {
			if q, _ := url.ParseQuery(r.RawQuery); q.Has("list-type") {
				lists++
				if q.Get("prefix") != "f/docs/" {
					t.Errorf("listed with prefix %q, want f/docs/", q.Get("prefix"))
				}
			}
		}
		if lists == 0 {
			t.Fatal("no listing seen")
		}

		res, err = syncRec(t, ctx, s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Include: []string{"*.txt", "other/*"}})
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"a.txt new", "other/v.txt new"})
	})
}

func TestSyncSymlinks(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		dir := t.TempDir()
		outside := t.TempDir()
		syncWrite(t, dir, map[string]string{"real/target.txt": "target"})
		syncWrite(t, outside, map[string]string{"secret.txt": "secret"})
		for link, to := range map[string]string{
			"in.txt":      filepath.Join("real", "target.txt"),
			"out.txt":     filepath.Join(outside, "secret.txt"),
			"up.txt":      filepath.Join("..", filepath.Base(outside), "secret.txt"),
			"dirlink":     "real",
			"dangling":    "nothing",
			"outdir":      outside,
			"real/up.txt": "../in.txt",
		} {
			if err := os.Symlink(to, filepath.Join(dir, link)); err != nil {
				t.Fatal(err)
			}
		}
		b := e.bucket.Prefix("links")
		res, err := syncRec(t, ctx, s3kit.LocalDir(dir), b, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"in.txt new", "real/target.txt new", "real/up.txt new"})
		wantItems(t, "skipped", syncItems(res.SkippedItems), []string{
			"dangling symbolic link to nothing",
			"dirlink symbolic link to a directory",
			"out.txt symbolic link leading out of the directory",
			"outdir symbolic link leading out of the directory",
			"up.txt symbolic link leading out of the directory",
		})
		want := map[string]string{"in.txt": "target", "real/target.txt": "target", "real/up.txt": "target"}
		if got := syncBucketFiles(t, b); !maps.Equal(got, want) {
			t.Fatalf("bucket holds %q", got)
		}

		// Downloading through a link out of the destination fails, and
		// writes nothing out there.
		syncPut(t, b, map[string]string{"outdir/escape.txt": "x"})
		empty := t.TempDir()
		down := t.TempDir()
		if err := os.Symlink(empty, filepath.Join(down, "outdir")); err != nil {
			t.Fatal(err)
		}
		res, err = syncRec(t, ctx, b, s3kit.LocalDir(down), nil)
		if err == nil {
			t.Fatal("a download through a symbolic link out of the directory succeeded")
		}
		wantItems(t, "failed", syncFailed(res), []string{"outdir/escape.txt"})
		if len(res.CopiedItems) != 3 {
			t.Fatalf("copied %q", syncItems(res.CopiedItems))
		}
		if entries, _ := os.ReadDir(empty); len(entries) != 0 {
			t.Fatalf("a download escaped through the symbolic link: %v", entries)
		}
	})
}

func TestSyncFailures(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())

		// Upload: the store refuses one object, and one path is too long
		// for a key; the others are uploaded.
		dir := t.TempDir()
		long := strings.Repeat(strings.Repeat("x", 240)+"/", 5) + "long.txt"
		syncWrite(t, dir, map[string]string{"ok1.txt": "1", "deny.txt": "d", "ok2.txt": "2", long: "l"})
		p.Add(faultproxy.Rule{Method: http.MethodPut, Match: faultproxy.PathHasSuffix("/deny.txt"), Fault: faultproxy.Status(403, "AccessDenied")})
		res, err := syncRec(t, ctx, s3kit.LocalDir(dir), b.Prefix("up"), nil)
		if !errors.Is(err, s3kit.ErrPermission) {
			t.Fatalf("Sync = %v, want an ErrPermission error", err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"ok1.txt new", "ok2.txt new"})
		wantItems(t, "failed", syncFailed(res), []string{"deny.txt", long})
		if f := res.Failures[0]; f.Code != "AccessDenied" || !errors.Is(f, s3kit.ErrPermission) {
			t.Fatalf("failure of deny.txt: %+v", f)
		}
		if f := res.Failures[1]; !errors.Is(f, s3kit.ErrInvalid) {
			t.Fatalf("failure of the long path: %v", f)
		}
		var se *s3kit.Error
		if !errors.As(res.Failures[0].Err, &se) || se.Op != "Sync" || !strings.Contains(se.Error(), "upload") {
			t.Fatalf("failure of deny.txt is %#v", res.Failures[0].Err)
		}
		wantItems(t, "bucket", keysOf(t, b.Prefix("up"), nil), []string{"ok1.txt", "ok2.txt"})

		// Download: a key that would be written outside the directory.
		putTree(t, b.Prefix("down"), []string{"ok.txt", `bad\name.txt`, "C:/drive.txt"})
		down := t.TempDir()
		res, err = syncRec(t, ctx, b.Prefix("down"), s3kit.LocalDir(down), nil)
		if !errors.Is(err, s3kit.ErrInsecurePath) {
			t.Fatalf("Sync = %v, want an ErrInsecurePath error", err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"ok.txt new"})
		wantItems(t, "failed", syncFailed(res), []string{"C:/drive.txt", `bad\name.txt`})
		if got := syncDirFiles(t, down); !maps.Equal(got, map[string]string{"ok.txt": "x"}) {
			t.Fatalf("directory holds %q", got)
		}
	})
}

func TestSyncProgress(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c := newClient(t, e.srv, s3kit.Config{PartSize: 5 * mib})
		b := c.Bucket(e.bucket.Name()).Prefix("p")
		dir := t.TempDir()
		files := maps.Clone(syncTree)
		files["big.bin"] = string(randomBytes(6*mib + 7))
		syncWrite(t, dir, files)

		for _, tc := range []struct {
			name     string
			src, dst s3kit.Location
		}{
			{"upload", s3kit.LocalDir(dir), b},
			{"download", b, s3kit.LocalDir(t.TempDir())},
		} {
			var (
				mu   sync.Mutex
				seen []s3kit.SyncProgress
			)
			opts := &s3kit.SyncOptions{Concurrency: 2, Progress: func(p s3kit.SyncProgress) {
				mu.Lock()
				seen = append(seen, p)
				mu.Unlock()
			}}
			if _, err := syncRec(t, ctx, tc.src, tc.dst, opts); err != nil {
				t.Fatal(err)
			}
			if len(seen) == 0 {
				t.Fatalf("%s: Progress not called", tc.name)
			}
			for i := 1; i < len(seen); i++ {
				if seen[i].Done < seen[i-1].Done || seen[i].Files < seen[i-1].Files {
					t.Fatalf("%s: progress went back: %+v then %+v", tc.name, seen[i-1], seen[i])
				}
			}
			last := seen[len(seen)-1]
			for _, p := range seen[:len(seen)-1] {
				if p.FilesTotal > last.FilesTotal || p.Total > last.Total {
					t.Fatalf("%s: progress %+v beyond the final totals", tc.name, p)
				}
			}
			if last.Listing {
				t.Fatalf("%s: the last progress says the listing runs", tc.name)
			}
			if last.Done != syncSize(files) || last.Total != syncSize(files) || last.Files != len(files) || last.FilesTotal != len(files) {
				t.Fatalf("%s: last progress %+v, want %d bytes and %d files", tc.name, last, syncSize(files), len(files))
			}
		}
	})
}

func TestSyncCancel(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		files := map[string]string{}
		for i := range 16 {
			files[path.Join("d", string(rune('a'+i))+".bin")] = string(randomBytes(64<<10 + i))
		}
		syncPut(t, e.bucket, files)
		c, p := proxied(t, e, s3kit.Config{})
		// Every request for an object takes a while, so that the sync is
		// still running when it is cancelled.
		p.Add(faultproxy.Rule{Match: faultproxy.Not(faultproxy.HasQuery("list-type")), Fault: faultproxy.Delay(150 * time.Millisecond)})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(500*time.Millisecond, cancel)
		dir := t.TempDir()
		start := time.Now()
		res, err := syncRec(t, ctx, c.Bucket(e.bucket.Name()), s3kit.LocalDir(dir), &s3kit.SyncOptions{Concurrency: 1})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Sync = %v, want context.Canceled", err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("Sync took %v after being cancelled at 500ms", el)
		}
		// The files in flight fail with ctx's error; those not reached
		// are not examined.
		if len(res.CopiedItems) == len(files) || len(res.CopiedItems)+len(res.Failures) > len(files) || len(res.Failures) == 0 {
			t.Fatalf("copied %d and failed %d of %d", len(res.CopiedItems), len(res.Failures), len(files))
		}
		for _, f := range res.Failures {
			if !errors.Is(f, context.Canceled) {
				t.Fatalf("failure %v, want context.Canceled", f)
			}
		}
		got := syncDirFiles(t, dir)
		if len(got) != len(res.CopiedItems) {
			t.Fatalf("%d files on disk (temporary ones included), %d copied", len(got), len(res.CopiedItems))
		}
		for _, it := range res.CopiedItems {
			if got[it.Path] != files[it.Path] {
				t.Fatalf("%s is incomplete", it.Path)
			}
		}
	})
}

func TestSyncInvalid(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		dir := t.TempDir()
		file := filepath.Join(dir, "file")
		syncWrite(t, dir, map[string]string{"file": "x"})
		for _, tc := range []struct {
			name     string
			src, dst s3kit.Location
			opts     *s3kit.SyncOptions
			want     error
		}{
			{"nil source", nil, b, nil, s3kit.ErrInvalid},
			{"nil bucket", (*s3kit.Bucket)(nil), s3kit.LocalDir(dir), nil, s3kit.ErrInvalid},
			{"invalid bucket", c.Bucket("Not_A_Bucket"), s3kit.LocalDir(dir), nil, s3kit.ErrInvalid},
			{"empty directory name", b, s3kit.LocalDir(""), nil, s3kit.ErrInvalid},
			{"local to local", s3kit.LocalDir(dir), s3kit.LocalDir(t.TempDir()), nil, s3kit.ErrInvalid},
			{"bad pattern", s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Include: []string{"[abc"}}, s3kit.ErrInvalid},
			{"bad exclude", s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Exclude: []string{`a\`}}, s3kit.ErrInvalid},
			{"negative concurrency", s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Concurrency: -1}, s3kit.ErrInvalid},
			{"negative MaxDelete", s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Delete: true, MaxDelete: -1}, s3kit.ErrInvalid},
			{"size only and checksum", s3kit.LocalDir(dir), b, &s3kit.SyncOptions{SizeOnly: true, Checksum: true}, s3kit.ErrInvalid},
			{"conditional put", s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Put: &s3kit.PutOptions{IfNoneMatch: "*"}}, s3kit.ErrInvalid},
			{"bad put", s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Put: &s3kit.PutOptions{ACL: "nope"}}, s3kit.ErrInvalid},
			{"same place", b.Prefix("a"), b.Prefix("a"), nil, s3kit.ErrInvalid},
			{"nested", b.Prefix("a"), b.Prefix("a", "b"), nil, s3kit.ErrInvalid},
			{"whole bucket", b, b.Prefix("x"), nil, s3kit.ErrInvalid},
			{"missing source", s3kit.LocalDir(filepath.Join(dir, "missing")), b, nil, fs.ErrNotExist},
			{"source is a file", s3kit.LocalDir(file), b, nil, s3kit.ErrInvalid},
			{"destination is a file", b, s3kit.LocalDir(file), nil, s3kit.ErrInvalid},
		} {
			_, err := syncRec(t, ctx, tc.src, tc.dst, tc.opts)
			var se *s3kit.Error
			if !errors.Is(err, tc.want) || !errors.As(err, &se) || se.Op != "Sync" {
				t.Errorf("%s: Sync = %v, want an *Error of Sync matching %v", tc.name, err, tc.want)
			}
		}
		if n := p.Count(); n != 0 {
			t.Fatalf("%d requests sent for invalid arguments", n)
		}
	})
}

// Sync refuses two Buckets of one name whose prefixes overlap even when
// their Clients spell the endpoint differently, before any request.
func TestSyncOverlapAcrossEndpoints(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, direct := t.Context(), e.bucket
		for _, k := range []string{"backup/x", "backup/y", "top"} {
			if _, err := direct.PutString(ctx, k, k, nil); err != nil {
				t.Fatal(err)
			}
		}
		pA := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(pA.Close)
		pB := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(pB.Close)
		if !strings.HasPrefix(pB.URL, "http://127.0.0.1:") {
			t.Fatalf("proxy at %s", pB.URL)
		}
		cA := newClient(t, e.srv, s3kit.Config{Endpoint: pA.URL})
		cB := newClient(t, e.srv, s3kit.Config{Endpoint: strings.Replace(pB.URL, "127.0.0.1", "localhost", 1)})
		a, b := cA.Bucket(direct.Name()), cB.Bucket(direct.Name())
		for _, tc := range []struct {
			name     string
			src, dst *s3kit.Bucket
		}{
			{"source inside destination", a.Prefix("backup"), b},
			{"destination inside source", a, b.Prefix("backup")},
			{"same prefix", a.Prefix("backup"), b.Prefix("backup")},
		} {
			_, err := syncRec(t, ctx, tc.src, tc.dst, &s3kit.SyncOptions{Delete: true})
			if !errors.Is(err, s3kit.ErrInvalid) {
				t.Errorf("%s: Sync = %v, want ErrInvalid", tc.name, err)
			}
		}
		if n := pA.Count() + pB.Count(); n != 0 {
			t.Fatalf("%d requests sent for overlapping locations", n)
		}
		if got := keysUnder(t, direct, ""); !slices.Equal(got, []string{"backup/x", "backup/y", "top"}) {
			t.Fatalf("after refused Syncs: %q", got)
		}
		// Disjoint prefixes of one bucket, "backup/" and "backup2/" among
		// them, still sync.
		res, err := syncRec(t, ctx, a.Prefix("backup"), b.Prefix("backup2"), &s3kit.SyncOptions{Delete: true})
		if err != nil || len(res.CopiedItems) != 2 {
			t.Fatalf("disjoint prefixes: %+v, %v", res, err)
		}
		if got := keysUnder(t, direct, ""); !slices.Equal(got, []string{"backup/x", "backup/y", "backup2/x", "backup2/y", "top"}) {
			t.Fatalf("after Sync to backup2/: %q", got)
		}
	})
}

// A failed listing of one side stops the listing of the other.
func TestSyncListingFailureStopsOther(t *testing.T) {
	const n = 2*s3kit.MaxListPage + 1 // three pages
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		putMany(t, e.bucket, "k%05d", n)
		c, p := proxied(t, e, s3kit.Config{})
		src := c.Bucket(e.bucket.Name())
		pages := p.Add(faultproxy.Rule{
			Method: http.MethodGet,
			Match: faultproxy.And(faultproxy.HasQuery("list-type"), func(r *http.Request) bool {
				return strings.TrimSuffix(r.URL.Path, "/") == "/"+src.Name()
			}),
			Fault: faultproxy.Delay(3 * time.Second),
		})
		_, err := syncRec(t, ctx, src, c.Bucket(src.Name()+"-missing"), &s3kit.SyncOptions{Delete: true})
		if !errors.Is(err, s3kit.ErrBucketNotExist) {
			t.Fatalf("Sync to a missing bucket: %v, want ErrBucketNotExist", err)
		}
		if got := pages.Fired(); got > 1 {
			t.Fatalf("%d source pages requested; want at most 1, the one in flight when the destination failed", got)
		}
	})
}

// With Delete, an object written at the destination after the listing is
// kept where the store honours the condition of a batch delete.
func TestSyncDeleteConditional(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, direct := t.Context(), e.bucket
		srcBucket := newBucket(t, e.client)
		if _, err := srcBucket.PutString(ctx, "same", "s", nil); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"extra", "gone"} {
			if _, err := direct.PutString(ctx, k, "old", nil); err != nil {
				t.Fatal(err)
			}
		}
		first := once()
		c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			if isDeleteObjects(r) && first() {
				if _, err := direct.PutString(ctx, "extra", "written meanwhile", nil); err != nil {
					return nil, err
				}
			}
			return next(r)
		})
		res, err := syncRec(t, ctx, c.Bucket(srcBucket.Name()), c.Bucket(direct.Name()), &s3kit.SyncOptions{Delete: true})
		got := keysUnder(t, direct, "")
		if why, lacking := lacks[e.name]["conditional batch delete"]; lacking {
			if err != nil || !slices.Equal(got, []string{"same"}) {
				t.Fatalf("%s ignores conditional batch deletes (%s): Sync %v, left %q", e.name, why, err, got)
			}
			return
		}
		if !errors.Is(err, s3kit.ErrPreconditionFailed) || len(res.Failures) != 1 || res.Failures[0].Key != "extra" {
			t.Fatalf("Sync: %v, failed %+v; want extra failed with ErrPreconditionFailed", err, res.Failures)
		}
		if !slices.Equal(got, []string{"extra", "same"}) || len(res.DeletedItems) != 1 || res.DeletedItems[0].Path != "gone" {
			t.Fatalf("left %q, deleted %+v; want extra kept, gone deleted", got, res.Deleted)
		}
	})
}

// TestSyncDeleteCheckedAfterListing: an extra object rewritten after the
// destination was listed, before the deletes, is kept on every store:
// where the store ignores the ETags of a batch delete, Sync checks each
// just before (its StoreProfile says where).
func TestSyncDeleteCheckedAfterListing(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, direct := t.Context(), e.bucket
		src := t.TempDir()
		if err := os.WriteFile(filepath.Join(src, "same"), []byte("s"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"extra", "gone"} {
			if _, err := direct.PutString(ctx, k, "old", nil); err != nil {
				t.Fatal(err)
			}
		}
		first := once()
		c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			resp, err := next(r)
			if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" && first() {
				if _, err := direct.PutString(ctx, "extra", "written meanwhile", nil); err != nil {
					return nil, err
				}
			}
			return resp, err
		})
		res, err := syncRec(t, ctx, s3kit.LocalDir(src), c.Bucket(direct.Name()), &s3kit.SyncOptions{Delete: true})
		if !errors.Is(err, s3kit.ErrPreconditionFailed) || len(res.Failures) != 1 || res.Failures[0].Key != "extra" {
			t.Fatalf("Sync: %v, failed %+v; want extra failed with ErrPreconditionFailed", err, res.Failures)
		}
		if got := keysUnder(t, direct, ""); !slices.Equal(got, []string{"extra", "same"}) {
			t.Fatalf("left %q; want extra kept, gone deleted", got)
		}
		if s, _, err := direct.GetString(ctx, "extra"); err != nil || s != "written meanwhile" {
			t.Errorf("extra: %q, %v", s, err)
		}
	})
}

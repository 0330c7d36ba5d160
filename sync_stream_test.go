package s3kit_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
	"go.uber.org/goleak"
)

// Tests of Sync as a merge-join of two streams (issue 10) and of
// DownloadAll streaming.

// syncOrderKeys sort one way as paths ("a/b" before "a.txt" in a
// directory walk) and another as bytes ('-' 0x2D < '.' 0x2E < '/' 0x2F),
// with spaces, '+' and non-ASCII letters.
var syncOrderKeys = []string{
	"a/b", "a.txt", "a-b", "a/c/d", "a0", "a b", "a+b", "a~", "ab/x", "ä",
	"z ü/名 x", "b/a.txt/x", "b/a.txt0", "b/a-", "b/a b/c",
}

// syncOrderExtra are at the destination only, between the others.
var syncOrderExtra = []string{"a/a", "a.txt0", "a,b", "b/a", "a/c/d0", "zz", "b/a b/b"}

// TestSyncMergeOrder syncs keys whose path order and byte order differ,
// in each direction, with extra files at the destination and some files
// already there, and checks the copies and deletions, in the order
// OnItem sees them with one file at a time, against a model: sort.Strings
// over the keys.
func TestSyncMergeOrder(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		src := map[string]string{}
		for _, k := range syncOrderKeys {
			src[k] = "src " + k
		}
		dst := map[string]string{}
		for i, k := range syncOrderKeys {
			if i%3 == 0 {
				dst[k] = src[k] // the same
			}
		}
		dst["a.txt"] = "other size" // differs
		for _, k := range syncOrderExtra {
			dst[k] = "extra"
		}
		var wantCopies, wantDeletes []string
		for k := range src {
			if d, ok := dst[k]; !ok || d != src[k] {
				wantCopies = append(wantCopies, k)
			}
		}
		for k := range dst {
			if _, ok := src[k]; !ok {
				wantDeletes = append(wantDeletes, k)
			}
		}
		sort.Strings(wantCopies)
		sort.Strings(wantDeletes)
		var want []string
		for _, k := range wantCopies {
			want = append(want, "copied "+k)
		}
		for _, k := range wantDeletes {
			want = append(want, "deleted "+k)
		}

		other := newBucket(t, e.client)
		for _, dir := range []string{"upload", "download", "buckets"} {
			t.Run(dir, func(t *testing.T) {
				var from, to s3kit.Location
				var got func() map[string]string
				switch dir {
				case "upload":
					d := t.TempDir()
					syncWrite(t, d, src)
					b := e.bucket.Prefix("up")
					syncPut(t, b, dst) // written after: not older than the files
					from, to, got = s3kit.LocalDir(d), b, func() map[string]string { return syncBucketFiles(t, b) }
				case "download":
					b := e.bucket.Prefix("down")
					syncPut(t, b, src)
					putTree(t, b, []string{"a/"}) // a marker, between "a.txt" and "a/b"
					d := t.TempDir()
					syncWrite(t, d, dst)
					from, to, got = b, s3kit.LocalDir(d), func() map[string]string { return syncDirFiles(t, d) }
				case "buckets":
					b := e.bucket.Prefix("from")
					syncPut(t, b, src)
					putTree(t, b, []string{"a/"})
					o := other.Prefix("to")
					syncPut(t, o, dst)
					from, to, got = b, o, func() map[string]string { return syncBucketFiles(t, o) }
				}
				var seen []string
				opts := &s3kit.SyncOptions{Delete: true, Concurrency: 1, OnItem: func(ev s3kit.SyncEvent) {
					seen = append(seen, fmt.Sprintf("%v %s", ev.Op, ev.Path))
				}}
				res, err := syncRec(t, ctx, from, to, opts)
				if err != nil {
					t.Fatal(err)
				}
				wantItems(t, "OnItem", seen, want)
				if res.Unchanged.Files != len(src)-len(wantCopies) {
					t.Fatalf("unchanged %d, want %d", res.Unchanged.Files, len(src)-len(wantCopies))
				}
				if g := got(); !maps.Equal(g, src) {
					t.Fatalf("destination holds %q", g)
				}
				res, err = syncRec(t, ctx, from, to, &s3kit.SyncOptions{Delete: true})
				if err != nil || res.Unchanged.Files != len(src) || res.Copied.Files+res.Deleted.Files+res.Skipped.Files != 0 {
					t.Fatalf("second sync: %+v, %v", res, err)
				}
			})
		}
	})
}

// TestSyncDeletesWithheld fails the second page of the source's listing:
// the files the first page held are copied, nothing is deleted, and the
// listing's error is returned. Without the fault, the same Sync deletes.
// A Sync that changes nothing sends one LIST per 1,000 keys and no HEAD.
func TestSyncDeletesWithheld(t *testing.T) {
	const n = s3kit.MaxListPage + 1 // two pages
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		putMany(t, e.bucket, "k%05d", n)
		c, p := proxied(t, e, s3kit.Config{})
		src := c.Bucket(e.bucket.Name())
		dir := t.TempDir()
		if res, err := s3kit.Sync(ctx, src, s3kit.LocalDir(dir), nil); err != nil || res.Copied.Files != n {
			t.Fatalf("first sync: %+v, %v", res, err)
		}

		// A no-op: the listing alone decides.
		p.Reset()
		res, err := s3kit.Sync(ctx, src, s3kit.LocalDir(dir), &s3kit.SyncOptions{Delete: true})
		if err != nil || res.Unchanged.Files != n {
			t.Fatalf("no-op sync: %+v, %v", res, err)
		}
		lists, others := 0, 0
		for _, r := range p.Requests() {
			if q, _ := url.ParseQuery(r.RawQuery); q.Has("list-type") {
				lists++
			} else {
				others++
			}
		}
		if lists != 2 || others != 0 {
			t.Fatalf("a no-op sync of %d keys sent %d LISTs and %d other requests; want 2 and 0", n, lists, others)
		}

		extras := map[string]string{"0-extra": "e", "k00500x": "e", "zz-extra": "e"}
		syncWrite(t, dir, extras)
		os.Remove(filepath.Join(dir, "k00999")) // to copy again, from the first page
		page2 := p.Add(faultproxy.Rule{Method: http.MethodGet, Match: faultproxy.HasQuery("continuation-token"), Fault: faultproxy.Status(403, "AccessDenied")})
		res, err = syncRec(t, ctx, src, s3kit.LocalDir(dir), &s3kit.SyncOptions{Delete: true})
		if !errors.Is(err, s3kit.ErrPermission) || page2.Fired() != 1 {
			t.Fatalf("Sync with a failed second page = %v (fault fired %d times), want ErrPermission", err, page2.Fired())
		}
		// k00999 was copied, cancelled in flight by the failure, or not
		// reached.
		if res.Deleted.Files != 0 || res.Copied.Files+res.Failed.Files > 1 {
			t.Fatalf("copied %q, failed %v, deleted %d", syncItems(res.CopiedItems), res.Failures, res.Deleted.Files)
		}
		for k := range extras {
			if _, err := os.Stat(filepath.Join(dir, k)); err != nil {
				t.Fatalf("%s deleted after a failed listing: %v", k, err)
			}
		}

		p.Reset()
		res, err = syncRec(t, ctx, src, s3kit.LocalDir(dir), &s3kit.SyncOptions{Delete: true})
		if err != nil || !slices.Equal(syncItems(res.DeletedItems), syncAll(extras, "")) {
			t.Fatalf("Sync without the fault: deleted %q, %v", syncItems(res.DeletedItems), err)
		}
	})
}

func TestSyncMaxDelete(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		dir := t.TempDir()
		syncWrite(t, dir, map[string]string{"keep.txt": "k", "new.txt": "n"})
		extras := []string{"x1", "x2", "x3"}
		for _, tc := range []struct {
			name      string
			max       int
			dryRun    bool
			deleted   int
			tooMany   bool
			remaining []string
		}{
			{"above the bound, dry run", 2, true, 0, true, extras},
			{"above the bound", 2, false, 0, true, extras},
			{"at the bound", 3, false, 3, false, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := e.bucket.Prefix(strings.ReplaceAll(tc.name, " ", "-"))
				syncPut(t, b, map[string]string{"keep.txt": "k", "x1": "1", "x2": "2", "x3": "3"})
				res, err := syncRec(t, ctx, s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Delete: true, MaxDelete: tc.max, DryRun: tc.dryRun})
				if got := errors.Is(err, s3kit.ErrTooManyDeletes); got != tc.tooMany {
					t.Fatalf("Sync = %v; ErrTooManyDeletes %v, want %v", err, got, tc.tooMany)
				}
				if tc.tooMany && !strings.Contains(err.Error(), fmt.Sprintf("3 files to delete, more than MaxDelete (%d)", tc.max)) {
					t.Fatalf("error %q does not say how many", err)
				}
				if res.Deleted.Files != tc.deleted || res.Copied.Files != 1 {
					t.Fatalf("deleted %d, copied %d; want %d and 1", res.Deleted.Files, res.Copied.Files, tc.deleted)
				}
				var left []string
				for _, k := range keysUnder(t, b, "") {
					if strings.HasPrefix(k, "x") {
						left = append(left, k)
					}
				}
				if !slices.Equal(left, tc.remaining) {
					t.Fatalf("left %q, want %q", left, tc.remaining)
				}
			})
		}
	})
}

// TestSyncNoClobber: existing files are never replaced, also one written
// by someone else between the listing and the write.
func TestSyncNoClobber(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		direct := e.bucket.Prefix("nc")
		racer := "written meanwhile"
		c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/race.txt") {
				if _, err := direct.PutString(ctx, "race.txt", racer, nil); err != nil {
					return nil, err
				}
			}
			return next(r)
		})
		b := c.Bucket(e.bucket.Name()).Prefix("nc")
		syncPut(t, direct, map[string]string{"old.txt": "old content", "same.txt": "same"})
		dir := t.TempDir()
		syncWrite(t, dir, map[string]string{"old.txt": "new content, longer", "new.txt": "n", "race.txt": "mine", "same.txt": "same"})
		// Older than the object, whatever second each was written in.
		earlier := time.Now().Add(-time.Hour)
		if err := os.Chtimes(filepath.Join(dir, "same.txt"), earlier, earlier); err != nil {
			t.Fatal(err)
		}

		res, err := syncRec(t, ctx, s3kit.LocalDir(dir), b, &s3kit.SyncOptions{NoClobber: true})
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"new.txt new"})
		wantItems(t, "skipped", syncItems(res.SkippedItems), []string{"old.txt exists at the destination", "race.txt exists at the destination"})
		if res.Unchanged.Files != 1 {
			t.Fatalf("unchanged %d, want 1", res.Unchanged.Files)
		}
		want := map[string]string{"old.txt": "old content", "same.txt": "same", "new.txt": "n", "race.txt": racer}
		if got := syncBucketFiles(t, direct); !maps.Equal(got, want) {
			t.Fatalf("bucket holds %q, want %q", got, want)
		}

		// Downloading: a file created while the object is fetched is kept.
		down := t.TempDir()
		syncWrite(t, down, map[string]string{"old.txt": "local"})
		first := once()
		d := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/race.txt") && first() {
				syncWrite(t, down, map[string]string{"race.txt": "local racer"})
			}
			return next(r)
		})
		res, err = syncRec(t, ctx, d.Bucket(e.bucket.Name()).Prefix("nc"), s3kit.LocalDir(down), &s3kit.SyncOptions{NoClobber: true})
		if err != nil {
			t.Fatal(err)
		}
		wantItems(t, "copied", syncItems(res.CopiedItems), []string{"new.txt new", "same.txt new"})
		wantItems(t, "skipped", syncItems(res.SkippedItems), []string{"old.txt exists at the destination", "race.txt exists at the destination"})
		want = map[string]string{"old.txt": "local", "race.txt": "local racer", "new.txt": "n", "same.txt": "same"}
		if got := syncDirFiles(t, down); !maps.Equal(got, want) {
			t.Fatalf("directory holds %q, want %q", got, want)
		}
	})
}

// TestSyncFlatMemory syncs a local tree of 30,000 files: the items a
// Sync holds at once are bounded by Concurrency, the listing pages and the
// widest directory, not by the number of files; so are the deletions
// waiting, beyond which they go to a file. (The bucket sides are small:
// 30,000 objects would take minutes to write on the test servers; the
// bucket listing goes through the same stream as the walk.)
func TestSyncFlatMemory(t *testing.T) {
	const dirs, width, conc = 30, 1000, 4
	const n = dirs * width
	tree := func(t *testing.T) string {
		dir := t.TempDir()
		for d := range dirs {
			sub := filepath.Join(dir, fmt.Sprintf("d%02d", d))
			if err := os.Mkdir(sub, 0o777); err != nil {
				t.Fatal(err)
			}
			for f := range width {
				if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d", f)), []byte{byte(f)}, 0o666); err != nil {
					t.Fatal(err)
				}
			}
		}
		return dir
	}
	top := t
	dir := tree(top)
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name()).Prefix("flat")
		check := func(what string, held s3kit.SyncHeld, spillAt int64) {
			t.Helper()
			t.Logf("%s held at most %+v", what, held)
			// Per side: the batch being filled, one in the channel, one
			// being joined.
			if held.Listed > 2*3*s3kit.MaxListPage || held.InFlight > conc || held.Walk > width+dirs || held.Deletes > spillAt {
				t.Fatalf("%s held %+v at once, for %d files at Concurrency %d", what, held, n, conc)
			}
		}
		res, held, err := s3kit.SyncMeasured(ctx, s3kit.LocalDir(dir), b, &s3kit.SyncOptions{Concurrency: conc, DryRun: true}, 0)
		if err != nil || res.Copied.Files != n || res.CopiedItems != nil {
			t.Fatalf("dry run: %+v, %v", res.Copied, err)
		}
		check("a dry run of 30,000 uploads", held, 0)
		if held.Walk < width {
			t.Fatalf("the walk held %d entries at most: the gauge does not count", held.Walk)
		}

		// Real copies, fewer of them: at most Concurrency at once.
		small := t.TempDir()
		for i := range 200 {
			syncWrite(t, small, map[string]string{fmt.Sprintf("s/%03d", i): "x"})
		}
		res, held, err = s3kit.SyncMeasured(ctx, s3kit.LocalDir(small), b, &s3kit.SyncOptions{Concurrency: conc}, 0)
		if err != nil || res.Copied.Files != 200 {
			t.Fatalf("upload: %+v, %v", res.Copied, err)
		}
		check("200 uploads", held, 0)
		if held.InFlight < 2 {
			t.Fatalf("at most %d file in flight at Concurrency %d", held.InFlight, conc)
		}

		// Everything local to delete, the source being empty: the
		// deletions waiting go to a file beyond 100; a dry run, then for
		// real.
		p.Reset()
		for _, dry := range []bool{true, false} {
			var deleted int
			res, held, err = s3kit.SyncMeasured(ctx, b.Prefix("empty"), s3kit.LocalDir(dir), &s3kit.SyncOptions{
				Concurrency: conc, Delete: true, DryRun: dry,
				OnItem: func(ev s3kit.SyncEvent) {
					if ev.Op == s3kit.SyncDeleted {
						deleted++
					}
				},
			}, 100)
			if err != nil || res.Deleted.Files != n || deleted != n || res.DeletedItems != nil {
				t.Fatalf("deleting all (dry run %v): %+v (%d OnItem), %v", dry, res.Deleted, deleted, err)
			}
			check("deleting everything", held, 100)
		}
		if got := syncDirFiles(t, dir); len(got) != 0 {
			t.Fatalf("%d files left", len(got))
		}
		if reqs := p.Requests(); len(reqs) != 2 {
			t.Fatalf("%d requests to list an empty prefix twice", len(reqs))
		}
		dir = tree(top) // for the next server
	})
}

// TestSyncCancelNoLeak cancels a Sync while files are in flight: it
// returns with ctx's error and leaves no goroutine of its own behind (the
// connections of the proxy and the transport aside).
func TestSyncCancelNoLeak(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		putMany(t, e.bucket, "k%03d", 40)
		c, p := proxied(t, e, s3kit.Config{})
		p.Add(faultproxy.Rule{Fault: faultproxy.Delay(100 * time.Millisecond)})
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
			goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
			goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"))
		ctx, cancel := context.WithCancel(deadline(t))
		var once sync.Once
		_, err := s3kit.Sync(ctx, c.Bucket(e.bucket.Name()), s3kit.LocalDir(t.TempDir()), &s3kit.SyncOptions{
			Concurrency: 4,
			OnItem:      func(s3kit.SyncEvent) { once.Do(cancel) },
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Sync = %v, want context.Canceled", err)
		}
	})
}

// TestDownloadAllStreams: downloads start while the listing continues,
// the progress's total grows with the listing, every key is reported to
// OnFile, and a failed page stops the rest.
func TestDownloadAllStreams(t *testing.T) {
	const n = s3kit.MaxListPage + 1
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		putMany(t, e.bucket, "k%05d", n)
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		p.Add(faultproxy.Rule{Method: http.MethodGet, Match: faultproxy.HasQuery("continuation-token"), Fault: faultproxy.Delay(time.Second)})
		var (
			mu     sync.Mutex
			totals []int64
			files  = map[string]bool{}
		)
		opts := &s3kit.TransferOptions{
			Progress: func(pr s3kit.Progress) {
				mu.Lock()
				totals = append(totals, pr.Total)
				mu.Unlock()
			},
			OnFile: func(key string, info s3kit.ObjectInfo, err error) {
				mu.Lock()
				if err != nil || files[key] {
					t.Errorf("OnFile(%q, %v) again or failed", key, err)
				}
				files[key] = true
				mu.Unlock()
			},
		}
		dir := t.TempDir()
		res, err := b.DownloadAll(ctx, dir, opts)
		if err != nil || res.Downloaded != n || len(files) != n {
			t.Fatalf("DownloadAll: %+v (%d OnFile), %v", res, len(files), err)
		}
		// A GET of an object went out before the second page was asked
		// for.
		early := false
		for _, r := range p.Requests() {
			q, _ := url.ParseQuery(r.RawQuery)
			if q.Has("continuation-token") {
				break
			}
			early = early || r.Method == http.MethodGet && !q.Has("list-type")
		}
		if !early {
			t.Fatal("no download started before the listing's second page")
		}
		if len(totals) < 2 || totals[0] >= totals[len(totals)-1] || totals[len(totals)-1] != res.Bytes {
			t.Fatalf("progress totals %v, want growing to %d", totals, res.Bytes)
		}

		p.Reset()
		p.Add(faultproxy.Rule{Method: http.MethodGet, Match: faultproxy.HasQuery("continuation-token"), Fault: faultproxy.Status(403, "AccessDenied")})
		res, err = b.DownloadAll(ctx, t.TempDir(), nil)
		if !errors.Is(err, s3kit.ErrPermission) || res.Downloaded+res.FailedFiles > s3kit.MaxListPage {
			t.Fatalf("DownloadAll with a failed page: %d downloaded, %d failed, %v", res.Downloaded, res.FailedFiles, err)
		}
		for _, f := range res.Failed { // in flight when the listing failed
			if !errors.Is(f, context.Canceled) {
				t.Fatalf("failure %v, want a cancellation", f)
			}
		}
	})
}

// TestSyncFailuresKept: without Record the result keeps the first 1,000
// failures and counts them all; with Record it keeps them all. The paths
// are too long for keys, so no request is sent.
func TestSyncFailuresKept(t *testing.T) {
	const n = 1001
	dir := t.TempDir()
	deep := filepath.Join(dir, strings.Repeat("x", 240), strings.Repeat("y", 240), strings.Repeat("z", 240), strings.Repeat("w", 240))
	if err := os.MkdirAll(deep, 0o777); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(deep, fmt.Sprintf("%s%04d", strings.Repeat("v", 100), i)), nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	eachServer(t, func(t *testing.T, e *env) {
		ctx := deadline(t)
		for _, record := range []bool{false, true} {
			var events int
			res, err := s3kit.Sync(ctx, s3kit.LocalDir(dir), e.bucket, &s3kit.SyncOptions{
				Record: record, OnItem: func(ev s3kit.SyncEvent) { events++ },
			})
			kept := 1000
			if record {
				kept = n
			}
			if !errors.Is(err, s3kit.ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprintf("%d of %d failed", n, n)) {
				t.Fatalf("Sync = %v", err)
			}
			if res.Failed.Files != n || len(res.Failures) != kept || events != n {
				t.Fatalf("Record %v: %d failed, %d kept, %d OnItem; want %d, %d, %d", record, res.Failed.Files, len(res.Failures), events, n, kept, n)
			}
			if !slices.IsSortedFunc(res.Failures, func(a, b s3kit.KeyError) int { return strings.Compare(a.Key, b.Key) }) {
				t.Fatal("failures not sorted by path")
			}
		}
	})
}

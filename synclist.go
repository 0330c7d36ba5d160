package s3kit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// syncSide is one side of a Sync: a bucket, or a local directory and its
// root once opened.
type syncSide struct {
	b    *Bucket
	dir  string
	root *os.Root // nil for a bucket, and for a local destination that is missing in a dry run
}

// syncKind is what a listing entry stands for.
type syncKind uint8

const (
	syncFile    syncKind = iota
	syncMarker           // a directory marker of a bucket source, for a local destination
	syncSkip             // a source entry that is not synced, with its reason
	syncListErr          // a part of a local side that could not be listed
)

// syncEntry is one path as a listing saw it.
type syncEntry struct {
	path   string
	kind   syncKind
	size   int64 // -1 for a local destination entry that cannot be read as a file, so that it differs
	mtime  time.Time
	etag   string // of an object
	reason string // of a syncSkip
	err    error  // of a syncListErr
	// incomplete marks a syncListErr of the source: the source may hold
	// files its listing missed, so nothing may be deleted.
	incomplete bool
}

// syncBatchLen is how many entries a listing hands to the join at once: a
// page of ListObjectsV2.
const syncBatchLen = MaxListPage

// syncStream carries one side's listing, in S3's order, from the goroutine
// that lists it to the join, a batch at a time. At most two batches are
// in the channel and in the join's hands, and one is being filled.
type syncStream struct {
	ch  chan []syncEntry
	err error // why the listing stopped early; written before ch is closed

	buf   []syncEntry // the batch the join is reading
	i     int
	ended bool
	held  *syncGauge
}

func newSyncStream(held *syncGauge) *syncStream {
	return &syncStream{ch: make(chan []syncEntry, 1), held: held}
}

// head returns the next entry without taking it, nil at the end of a
// listing that ended cleanly, and the listing's error if it failed.
func (st *syncStream) head() (*syncEntry, error) {
	for st.i == len(st.buf) {
		if st.ended {
			return nil, st.err
		}
		b, ok := <-st.ch
		if !ok {
			st.ended = true
			st.buf, st.i = nil, 0
			continue
		}
		st.buf, st.i = b, 0
	}
	return &st.buf[st.i], nil
}

// pop takes the entry head returned.
func (st *syncStream) pop() {
	st.buf[st.i] = syncEntry{} // let it go now, not with the batch
	st.i++
	st.held.add(-1)
}

// produce lists one side into st, checking that the paths come in strictly
// increasing order: a listing out of order would make the join take a
// file for missing, and delete it. It closes st.ch when done, after
// setting st.err if the listing failed.
func (s *syncer) produce(ctx context.Context, sd *syncSide, isSrc bool, st *syncStream) (err error) {
	var (
		batch = make([]syncEntry, 0, syncBatchLen)
		last  string
		seen  bool
	)
	defer func() {
		if err == nil && len(batch) > 0 {
			select {
			case st.ch <- batch:
				batch = nil
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		st.held.add(-int64(len(batch)))
		st.err = err
		close(st.ch)
	}()
	emit := func(e syncEntry) error {
		if e.kind != syncListErr {
			if seen && e.path <= last {
				return wrapErr("Sync", s.bucket.name, "", fmt.Errorf("the listing of the %s is not in S3's order: %q came after %q", sideName(isSrc), e.path, last))
			}
			last, seen = e.path, true
		}
		st.held.add(1)
		batch = append(batch, e)
		if len(batch) < syncBatchLen {
			return nil
		}
		select {
		case st.ch <- batch:
			batch = make([]syncEntry, 0, syncBatchLen)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	switch {
	case sd.b != nil:
		return s.listBucket(ctx, sd.b, isSrc, emit)
	case sd.root != nil:
		return s.walkLocal(ctx, sd, isSrc, emit)
	}
	return nil // a missing local destination in a dry run: empty
}

func sideName(isSrc bool) string {
	if isSrc {
		return "source"
	}
	return "destination"
}

// selected reports whether the filters select the path p.
func (s *syncer) selected(p string) bool {
	match := func(g *glob) bool { return g.match(p) }
	if len(s.include) > 0 && !slices.ContainsFunc(s.include, match) {
		return false
	}
	return !slices.ContainsFunc(s.exclude, match) && (s.opts.Filter == nil || s.opts.Filter(p))
}

// open opens the local sides, creating a missing destination directory
// unless this is a dry run.
func (s *syncer) open() error {
	var err error
	if s.src.b == nil {
		if s.src.root, err = os.OpenRoot(s.src.dir); err != nil {
			return wrapErr("Sync", s.bucket.name, "", err)
		}
	}
	if s.dst.b == nil {
		if !s.opts.DryRun {
			if err := os.MkdirAll(s.dst.dir, 0o777); err != nil {
				return wrapErr("Sync", s.bucket.name, "", err)
			}
		}
		if s.dst.root, err = os.OpenRoot(s.dst.dir); err != nil && !(s.opts.DryRun && errors.Is(err, fs.ErrNotExist)) {
			return wrapErr("Sync", s.bucket.name, "", err)
		}
	}
	return nil
}

func (s *syncer) listBucket(ctx context.Context, b *Bucket, isSrc bool, emit func(syncEntry) error) error {
	toLocal := isSrc && s.dst.b == nil
	for obj, err := range b.List(ctx, &ListOptions{Prefix: s.prefix}) {
		if err != nil {
			return err
		}
		p := obj.Key
		var e syncEntry
		switch {
		case obj.IsDir:
			if !toLocal || !s.selected(strings.TrimSuffix(p, "/")) {
				continue
			}
			e = syncEntry{path: p, kind: syncMarker}
		case !s.selected(p):
			continue
		case toLocal && strings.HasSuffix(p, "/"):
			e = syncEntry{path: p, kind: syncSkip, size: obj.Size, reason: "key ends in / but is not an empty directory marker"}
		default:
			e = syncEntry{path: p, size: obj.Size, mtime: obj.LastModified, etag: obj.ETag}
		}
		if err := emit(e); err != nil {
			return err
		}
	}
	return nil
}

// walkFrame is a directory of a local walk: its entries, sorted as S3
// sorts their paths, and how far the walk has come.
type walkFrame struct {
	dir  string // slash-separated, relative to the root; "." for the root
	ents []fs.DirEntry
	next int
}

// walkLocal lists a local side in S3's order. It reads one directory at
// a time, sorts its entries by their path as a key (a subdirectory's name
// with "/" appended: "a/b" comes after "a.txt" and "a-b"), and descends
// into a subdirectory when the walk reaches it. Memory therefore holds the
// entries of the directories on the current path only.
func (s *syncer) walkLocal(ctx context.Context, sd *syncSide, isSrc bool, emit func(syncEntry) error) error {
	// Begin the walk at the deepest directory every included path is in,
	// unless a symbolic link leads there, which the walk from the top
	// would not follow.
	start := "."
	if i := strings.LastIndexByte(s.prefix, '/'); i > 0 && fs.ValidPath(s.prefix[:i]) {
		elems := strings.Split(s.prefix[:i], "/")
		start = path.Join(elems...)
		for i := range elems {
			st, err := sd.root.Lstat(filepath.Join(elems[:i+1]...))
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err == nil && st.Mode()&fs.ModeSymlink != 0 {
				start = "."
				break
			}
		}
	}
	listErr := func(p string, err error) error {
		return emit(syncEntry{path: p, kind: syncListErr, err: err, incomplete: isSrc})
	}
	var stack []*walkFrame
	defer func() {
		for _, f := range stack {
			s.gauges.walk.add(-int64(len(f.ents)))
		}
	}()
	push := func(dir string) error {
		ents, err := s.readDir(sd.root, dir)
		if err != nil {
			if dir == start && errors.Is(err, fs.ErrNotExist) {
				return nil // nothing under the prefix
			}
			// Go on with what was read, as fs.WalkDir does.
			if err := listErr(dir, err); err != nil {
				return err
			}
		}
		s.gauges.walk.add(int64(len(ents)))
		stack = append(stack, &walkFrame{dir: dir, ents: ents})
		return nil
	}
	if err := push(start); err != nil {
		return err
	}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		f := stack[len(stack)-1]
		if f.next == len(f.ents) {
			s.gauges.walk.add(-int64(len(f.ents)))
			stack = stack[:len(stack)-1]
			continue
		}
		d := f.ents[f.next]
		f.ents[f.next] = nil
		f.next++
		p := d.Name()
		if f.dir != "." {
			p = f.dir + "/" + p
		}
		if d.IsDir() {
			// Only directories on the way to the included paths, or in
			// them.
			if q := p + "/"; strings.HasPrefix(q, s.prefix) || strings.HasPrefix(s.prefix, q) {
				if err := push(p); err != nil {
					return err
				}
			}
			continue
		}
		if isDownloadTemp(d.Name()) || !s.selected(p) {
			continue
		}
		if e, ok := s.localEntry(sd, isSrc, p, d); ok {
			if err := emit(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// readDir reads the directory dir of root, sorted as S3 sorts the paths
// of its entries.
func (s *syncer) readDir(root *os.Root, dir string) ([]fs.DirEntry, error) {
	f, err := root.Open(filepath.FromSlash(dir))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return cmpS3Names(a.Name(), a.IsDir(), b.Name(), b.IsDir()) })
	return ents, err
}

// cmpS3Names compares two names of one directory as S3 compares their
// keys: a directory's as if it ended in "/", since every key under it
// does.
func cmpS3Names(a string, aDir bool, b string, bDir bool) int {
	n := min(len(a), len(b))
	if c := strings.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	// One is a prefix of the other: compare the byte that follows it,
	// "/" for a directory that ends there.
	next := func(s string, dir bool) int {
		switch {
		case len(s) > n:
			return int(s[n])
		case dir:
			return '/'
		}
		return -1
	}
	return next(a, aDir) - next(b, bDir)
}

// localEntry is the entry of the local file p (not a directory), and
// false if it has none: gone since its directory was read, or a special
// file at the destination.
func (s *syncer) localEntry(sd *syncSide, isSrc bool, p string, d fs.DirEntry) (syncEntry, bool) {
	skip := func(reason string) (syncEntry, bool) {
		if isSrc {
			return syncEntry{path: p, kind: syncSkip, reason: reason}, true
		}
		return syncEntry{path: p, size: -1}, true
	}
	var (
		fi  fs.FileInfo
		err error
	)
	switch t := d.Type(); {
	case t.IsRegular():
		fi, err = d.Info()
	case t&fs.ModeSymlink != 0:
		// Root follows a link only while it stays inside.
		fi, err = sd.root.Stat(filepath.FromSlash(p))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return skip("symbolic link to nothing")
		case err != nil && !errors.Is(err, fs.ErrPermission):
			return skip("symbolic link leading out of the directory")
		case err == nil && fi.IsDir():
			return skip("symbolic link to a directory")
		}
	}
	switch {
	case err != nil && errors.Is(err, fs.ErrNotExist):
		return syncEntry{}, false // gone since the directory was read
	case err != nil:
		return syncEntry{path: p, kind: syncListErr, err: err, incomplete: isSrc}, true
	case fi == nil || !fi.Mode().IsRegular():
		if isSrc {
			return skip("not a regular file")
		}
		return syncEntry{}, false
	}
	return syncEntry{path: p, size: fi.Size(), mtime: fi.ModTime()}, true
}

// isDownloadTemp reports whether name is the temporary file of a download
// in progress (see downloadTo).
func isDownloadTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") && strings.Contains(name, ".s3kit-")
}

// syncGauge counts items a Sync holds, and the most it held at once, for
// the tests of its memory.
type syncGauge struct{ cur, max atomic.Int64 }

func (g *syncGauge) add(n int64) {
	c := g.cur.Add(n)
	for m := g.max.Load(); c > m && !g.max.CompareAndSwap(m, c); m = g.max.Load() {
	}
}

// syncGauges are the items a Sync holds, by kind.
type syncGauges struct {
	listed   syncGauge // entries listed and not yet taken by the join
	walk     syncGauge // directory entries of local walks
	inFlight syncGauge // files being compared or copied
	deletes  syncGauge // deletions waiting in memory
}

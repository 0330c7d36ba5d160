package s3kit

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Location is one side of a Sync: a LocalDir, or a *Bucket, which stands
// for the objects under its prefix. No other type implements it.
type Location interface{ location() }

// LocalDir is a directory of the local file system, as a Location.
type LocalDir string

func (LocalDir) location() {}
func (*Bucket) location()  {}

// SyncOptions are the options of Sync. nil means defaults: copy what is
// missing or different, compared by size and modification time, and
// delete nothing.
type SyncOptions struct {
	// Delete deletes the files (objects) at the destination that the
	// source lacks, among those Include and Exclude select: an excluded
	// path is never deleted, nor one the source has but skips. If part of
	// the source could not be listed, nothing is deleted.
	Delete bool
	// DryRun only plans: the result lists what would be copied, deleted
	// and skipped, and nothing is changed. The comparisons still run,
	// with Checksum their HEAD requests and reads of local files too.
	DryRun bool
	// Checksum compares content instead of modification times: a file
	// that both sides have with the same size is copied only if its
	// content differs. The local file's CRC64NVME, CRC32C or CRC32 is
	// computed and compared with the object's full-object checksum of the
	// same algorithm (one HEAD per file); an object without one is
	// compared by MD5 with its ETag if that is a single-part one, and
	// counts as different otherwise. Between buckets, the checksums of
	// both HEADs are compared, else the ETags.
	Checksum bool
	// Include, if not empty, selects only the paths that match one of its
	// patterns; Exclude then drops those that match one of its own.
	// Patterns match the whole path of a file, relative to its side and
	// slash-separated ("photos/2025/a.jpg"), with the syntax of
	// ListOptions.Pattern: "*" and "?" do not match "/", "**" does; so
	// "*.jpg" matches at the top only, "**/*.jpg" at any depth, and
	// "cache/**" everything under cache. The literal text that every
	// Include pattern begins with narrows the listings.
	Include []string
	Exclude []string
	// Concurrency is how many files are compared or copied at once; 0
	// means the Client's. A large file is moreover transferred in
	// parallel parts, as by Upload and Download, all within the Client's
	// memory budget.
	Concurrency int
	// Progress, if set, is called from one goroutine at a time, at most
	// every 100 ms while bytes flow and once at the end, with the bytes
	// and files copied so far of those to copy. It is not called with
	// DryRun.
	Progress func(SyncProgress)
	// Put applies to every object written: to uploads as to Put, and to
	// copies between buckets, where its ACL, StorageClass, SSE and Tags
	// apply as in CopyOptions, and its content headers and Metadata, if
	// any is set, replace the source's. IfMatch and IfNoneMatch are
	// refused: Sync decides itself what to overwrite.
	Put *PutOptions
}

// SyncResult is the outcome of Sync. Its lists are sorted by path.
type SyncResult struct {
	Copied    []SyncItem // copied to the destination (with DryRun: to be copied)
	Deleted   []SyncItem // deleted from the destination (with DryRun: to be deleted)
	Skipped   []SyncItem // in the source but not synced, each with why
	Unchanged int        // files the same at both sides
	// Failed lists the files that could not be compared, copied or
	// deleted, and the parts of a local directory that could not be
	// listed. Key is the path; Err is an *Error whose cause begins with
	// the step that failed ("upload", "download", "copy", "compare",
	// "delete", "list").
	Failed []KeyError
	Bytes  int64 // bytes of the files copied (with DryRun: to be copied)
}

// SyncItem is one file (or object) that Sync copied, deleted or skipped.
type SyncItem struct {
	Path string // relative to both sides, slash-separated
	Size int64  // at the source; for a deletion, at the destination
	// Reason says why a file was copied: "new" (the destination lacks
	// it), "size" (the sizes differ), "newer" (the source was modified
	// later) or "checksum" (the contents differ); or why it was skipped.
	// It is empty for deletions.
	Reason string
}

// SyncProgress reports how far a Sync is: its bytes as a Progress does,
// those of all the files to copy together, and how many of these files
// are done.
type SyncProgress struct {
	Progress
	Files      int // files finished copying, failed ones included
	FilesTotal int // files to copy
}

// Why a file is copied (SyncItem.Reason).
const (
	syncNew      = "new"
	syncSize     = "size"
	syncNewer    = "newer"
	syncChecksum = "checksum"
)

// Sync makes the destination dst a copy of the source src: it copies each
// file of src that dst lacks or holds in another version, and with
// opts.Delete deletes the files that dst has and src does not. Either side
// is a LocalDir or a *Bucket, which stands for the objects under its
// prefix, as in the `aws s3 sync` command: the file photos/a.jpg in the
// directory is the key "photos/a.jpg" under the prefix. Syncing one local
// directory to another is not supported (ErrInvalid).
//
// By default a file is copied when dst lacks it, when the sizes differ, or
// when src was modified later than dst, to the second (some S3 responses
// carry no finer time). For a local file that is its modification time,
// for an object its LastModified, the time it was stored. Each download
// sets the file's modification time to the object's LastModified, so
// that Sync run again copies nothing, in either direction. These times
// come from two clocks: if the store's runs behind the local one, files
// are uploaded again until the difference has passed; opts.Checksum
// compares content instead.
//
// Uploads go in parallel parts straight from each file, as Upload's do.
// Downloads go as DownloadAll's: through os.Root, so that a symbolic link
// inside dst never leads a write out of it; into a temporary file renamed
// into place when complete and verified; and a key that would land
// outside dst (a ".." segment, an absolute path, a backslash, a drive
// letter) fails with ErrInsecurePath. Between two Buckets of the same
// Client, copies are server-side, as Copy's: no byte passes through this
// process, and each copy keeps its source's content headers, metadata and
// tags. Between Buckets of different Clients, such as two stores, each
// object streams through this process, read in parallel ranges and
// verified while it is written in parallel parts, and keeps its source's
// content headers and metadata but not its tags.
//
// Only files are synced. A zero-byte "dir/" marker object is neither
// copied nor deleted, though a download creates its directory; empty local
// directories are not uploaded; Delete deletes files, not directories. A
// local symbolic link is followed if it resolves, through relative links,
// to a regular file inside the directory; one to a directory, out of the
// directory or to nothing, and special files such as sockets, are listed
// in the result's Skipped. Temporary files of downloads in progress are
// ignored.
//
// The options and both Locations are checked before any request: a nil
// or invalid Bucket, an empty LocalDir, a malformed pattern, a negative
// Concurrency, bad Put options, or source and destination that overlap
// are ErrInvalid. Two Buckets overlap if they have the same name and the
// prefix of one is a prefix of the other's (or equal), whatever their
// Clients: two endpoints can name one store, and bucket names are global
// on Amazon S3. A missing source directory is an error matching
// fs.ErrNotExist; a missing destination directory is created. Then both
// sides are listed in full, at once (memory grows with the number of
// files), and up to Concurrency files are compared and copied at once;
// deletions come last, at most 1,000 in one request for a bucket. If a
// listing fails, the other is cancelled, nothing is changed and Sync
// returns the error.
//
// With Delete, an object at a bucket destination is deleted only while it
// has the ETag listed: one written there since the listing, with other
// bytes, is kept and reported in Failed, with an error that matches
// ErrPreconditionFailed, by a store that honours the condition (Amazon S3
// documents it). The race that remains: a store that ignores the
// condition (of those s3kit is tested with, MinIO and versitygw both
// ignore it in a batch delete) deletes an object written after the
// listing, which the source does not have; and a local file is deleted
// without such a check, so one written after the listing is deleted.
//
// A file that fails does not stop the others: it is reported in the
// result's Failed, and the error is non-nil whenever anything failed, as
// for DeleteMany. Cancelling ctx stops Sync promptly, without a partial
// object or file: files not yet started are reported in Failed with ctx's
// error, and the error matches it.
//
// With Delete, a source that holds nothing (a mistyped prefix, a wrong
// directory) makes Sync delete everything at the destination that the
// filters select: try DryRun first.
func Sync(ctx context.Context, src, dst Location, opts *SyncOptions) (SyncResult, error) {
	s, err := newSyncer(src, dst, opts)
	if err != nil {
		return SyncResult{}, err
	}
	defer s.close()
	return s.run(ctx)
}

// syncSide is one side of a Sync: a bucket, or a local directory and its
// root once opened.
type syncSide struct {
	b    *Bucket
	dir  string
	root *os.Root // nil for a bucket, and for a local destination that is missing in a dry run
}

// syncFile is a file as a listing saw it.
type syncFile struct {
	size  int64 // -1 for a local destination entry that cannot be read as a file, so that it differs
	mtime time.Time
	etag  string // of an object
}

// syncListing is what one side holds among the paths the filters select.
type syncListing struct {
	files      map[string]syncFile
	dirs       []string   // directory markers, of a bucket source for a local destination
	skipped    []SyncItem // of a source
	failed     []KeyError
	incomplete bool // part of the side could not be listed
}

type syncer struct {
	src, dst         syncSide
	opts             SyncOptions
	include, exclude []*glob
	prefix           string // the literal text every included path begins with
	conc             int
	bucket           *Bucket      // for errors: the destination if it is a bucket, else the source
	copyOpts         *CopyOptions // for server-side copies
}

// newSyncer checks the arguments of Sync, sending no request.
func newSyncer(src, dst Location, opts *SyncOptions) (*syncer, error) {
	s := &syncer{}
	if opts != nil {
		s.opts = *opts
	}
	var err1, err2 error
	s.src, err1 = syncSideOf("source", src)
	s.dst, err2 = syncSideOf("destination", dst)
	s.bucket = cmp.Or(s.dst.b, s.src.b)
	name := ""
	if s.bucket != nil {
		name = s.bucket.name
	}
	fail := func(err error) (*syncer, error) { return nil, wrapErr("Sync", name, "", err) }
	if err := cmp.Or(err1, err2); err != nil {
		return fail(err)
	}
	if s.bucket == nil {
		return fail(invalidf("syncing one local directory to another is not supported"))
	}
	// Whatever the Clients: two spellings of one endpoint reach one bucket,
	// and bucket names are global on Amazon S3. Prefixes end in "/" (or
	// are empty), so a prefix of the other is one at a path boundary.
	// Refused, no destination object can be a source object, so Delete
	// never removes a source, whether or not its copy succeeded.
	if a, b := s.src.b, s.dst.b; a != nil && b != nil && a.name == b.name &&
		(strings.HasPrefix(a.prefix, b.prefix) || strings.HasPrefix(b.prefix, a.prefix)) {
		return fail(invalidf("source %q and destination %q overlap in bucket %s", a.prefix, b.prefix, a.name))
	}
	if s.opts.Concurrency < 0 {
		return fail(invalidf("Concurrency %d is negative", s.opts.Concurrency))
	}
	s.conc = cmp.Or(s.opts.Concurrency, s.bucket.c.concurrency)
	if p := s.opts.Put; p != nil {
		if p.IfMatch != "" || p.IfNoneMatch != "" {
			return fail(invalidf("Put.IfMatch and Put.IfNoneMatch do not apply to Sync, which decides itself what to overwrite"))
		}
		if err := p.validate(); err != nil {
			return fail(err)
		}
	}
	for i, pats := range [][]string{s.opts.Include, s.opts.Exclude} {
		for _, p := range pats {
			g, err := compileGlob(p)
			if err != nil {
				return fail(err)
			}
			if i == 0 {
				s.include = append(s.include, g)
			} else {
				s.exclude = append(s.exclude, g)
			}
		}
	}
	for i, g := range s.include {
		if i == 0 {
			s.prefix = g.prefix
			continue
		}
		n := 0
		for n < len(s.prefix) && n < len(g.prefix) && s.prefix[n] == g.prefix[n] {
			n++
		}
		s.prefix = s.prefix[:n]
	}
	if s.src.b == nil {
		st, err := os.Stat(s.src.dir)
		if err != nil {
			return fail(err)
		}
		if !st.IsDir() {
			return fail(invalidf("source %s is not a directory", s.src.dir))
		}
	}
	if s.dst.b == nil {
		st, err := os.Stat(s.dst.dir)
		if err == nil && !st.IsDir() {
			return fail(invalidf("destination %s is not a directory", s.dst.dir))
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fail(err)
		}
	}
	if s.src.b != nil && s.dst.b != nil {
		// The destination's put defaults (WithPutDefaults) apply, as to
		// the writes of the other directions.
		s.copyOpts = s.dst.b.copyOptions(copyOptionsOf(s.dst.b.name, s.opts.Put))
	}
	return s, nil
}

func syncSideOf(what string, l Location) (syncSide, error) {
	switch l := l.(type) {
	case LocalDir:
		if l == "" {
			return syncSide{}, invalidf("the %s directory is empty; use \".\" for the current one", what)
		}
		return syncSide{dir: filepath.Clean(string(l))}, nil
	case *Bucket:
		if l == nil || l.c == nil {
			return syncSide{}, invalidf("the %s bucket is nil or not made by Client.Bucket", what)
		}
		if l.err != nil {
			return syncSide{b: l}, l.err
		}
		return syncSide{b: l}, nil
	}
	return syncSide{}, invalidf("the %s is nil", what)
}

// copyOptionsOf maps the Put options of a Sync to those of its
// server-side copies into the bucket dest.
func copyOptionsOf(dest string, p *PutOptions) *CopyOptions {
	o := &CopyOptions{DestBucket: dest}
	if p == nil {
		return o
	}
	o.ACL, o.StorageClass, o.SSE, o.SSEKMSKeyID, o.Tags = p.ACL, p.StorageClass, p.SSE, p.SSEKMSKeyID, p.Tags
	if p.Metadata != nil || p.ContentType != "" || p.CacheControl != "" || p.ContentDisposition != "" ||
		p.ContentEncoding != "" || p.ContentLanguage != "" {
		o.ReplaceMetadata = true
		o.Metadata, o.ContentType, o.CacheControl = p.Metadata, p.ContentType, p.CacheControl
		o.ContentDisposition, o.ContentEncoding, o.ContentLanguage = p.ContentDisposition, p.ContentEncoding, p.ContentLanguage
	}
	return o
}

func (s *syncer) close() {
	for _, sd := range []*syncSide{&s.src, &s.dst} {
		if sd.root != nil {
			sd.root.Close()
		}
	}
}

// selected reports whether the filters select the path p.
func (s *syncer) selected(p string) bool {
	match := func(g *glob) bool { return g.match(p) }
	if len(s.include) > 0 && !slices.ContainsFunc(s.include, match) {
		return false
	}
	return !slices.ContainsFunc(s.exclude, match)
}

// syncJob is a file to copy.
type syncJob struct {
	SyncItem
	err error
}

func (s *syncer) run(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	if err := s.open(); err != nil {
		return res, err
	}
	// A listing that fails stops the other: Sync would change nothing.
	var src, dst *syncListing
	g, lctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { src, err = s.list(lctx, &s.src, true); return err })
	g.Go(func() (err error) { dst, err = s.list(lctx, &s.dst, false); return err })
	if err := g.Wait(); err != nil {
		return res, err
	}
	res.Skipped = src.skipped
	res.Failed = append(src.failed, dst.failed...)

	pl := s.plan(src, dst)
	res.Unchanged = pl.unchanged
	res.Failed = append(res.Failed, pl.failed...)
	jobs, checks, dels := pl.copies, pl.checks, pl.deletes
	if len(checks) > 0 {
		forEach(ctx, len(checks), s.conc, func(i int) {
			same, err := s.sameContent(ctx, checks[i].Path)
			if err == nil && !same {
				checks[i].Reason = syncChecksum
			}
			checks[i].err = err
		}, func(i int, err error) { checks[i].err = err })
		for _, c := range checks {
			switch {
			case c.err != nil:
				res.Failed = append(res.Failed, s.itemErr(c.Path, "compare", c.err, true))
			case c.Reason == "":
				res.Unchanged++
			default:
				jobs = append(jobs, c)
			}
		}
		slices.SortFunc(jobs, func(a, b syncJob) int { return strings.Compare(a.Path, b.Path) })
	}

	if s.opts.DryRun {
		for _, j := range jobs {
			res.Copied = append(res.Copied, j.SyncItem)
			res.Bytes += j.Size
		}
		res.Deleted = dels
		return s.finish(ctx, res)
	}

	for _, d := range src.dirs {
		if err := s.mkdir(d); err != nil {
			res.Failed = append(res.Failed, s.itemErr(d, "download", err, true))
		}
	}
	var total int64
	for _, j := range jobs {
		total += j.Size
	}
	sp := newSyncProgress(s.opts.Progress, len(jobs), total)
	forEach(ctx, len(jobs), s.conc, func(i int) {
		size, err := s.copy(ctx, jobs[i].SyncItem, sp)
		jobs[i].Size, jobs[i].err = size, err
	}, func(i int, err error) { jobs[i].err = err })
	sp.add(0, 0, true)
	for _, j := range jobs {
		if j.err != nil {
			res.Failed = append(res.Failed, s.itemErr(j.Path, s.copyStep(), j.err, true))
			continue
		}
		res.Copied = append(res.Copied, j.SyncItem)
		res.Bytes += j.Size
	}
	deleted, failed := s.delete(ctx, dels, dst.files)
	res.Deleted = deleted
	res.Failed = append(res.Failed, failed...)
	return s.finish(ctx, res)
}

// syncPlan is what Sync is to do, as far as the listings tell.
type syncPlan struct {
	copies    []syncJob  // with their Reason
	checks    []syncJob  // to compare by content before copying
	deletes   []SyncItem // extraneous at the destination
	unchanged int
	failed    []KeyError
}

// plan compares the listings of the two sides, in path order.
func (s *syncer) plan(src, dst *syncListing) syncPlan {
	var pl syncPlan
	for _, p := range slices.Sorted(maps.Keys(src.files)) {
		f := src.files[p]
		item := SyncItem{Path: p, Size: f.size}
		if err := s.writable(p); err != nil {
			pl.failed = append(pl.failed, s.itemErr(p, s.copyStep(), err, true))
			continue
		}
		d, ok := dst.files[p]
		switch {
		case !ok:
			item.Reason = syncNew
		case f.size != d.size:
			item.Reason = syncSize
		case s.opts.Checksum:
			pl.checks = append(pl.checks, syncJob{SyncItem: item})
			continue
		case f.mtime.Truncate(time.Second).After(d.mtime.Truncate(time.Second)):
			item.Reason = syncNewer
		default:
			pl.unchanged++
			continue
		}
		pl.copies = append(pl.copies, syncJob{SyncItem: item})
	}
	if !s.opts.Delete || src.incomplete {
		return pl
	}
	skipped := make(map[string]bool, len(src.skipped))
	for _, it := range src.skipped {
		skipped[it.Path] = true
	}
	for _, p := range slices.Sorted(maps.Keys(dst.files)) {
		if _, ok := src.files[p]; !ok && !skipped[p] {
			pl.deletes = append(pl.deletes, SyncItem{Path: p, Size: max(dst.files[p].size, 0)})
		}
	}
	return pl
}

// finish sorts what listing order left unsorted and returns the error that sums them up.
func (s *syncer) finish(ctx context.Context, res SyncResult) (SyncResult, error) {
	// A directory walk lists "a/b" before "a.txt".
	slices.SortFunc(res.Skipped, func(a, b SyncItem) int { return strings.Compare(a.Path, b.Path) })
	if len(res.Failed) == 0 {
		return res, nil
	}
	slices.SortStableFunc(res.Failed, func(a, b KeyError) int { return strings.Compare(a.Key, b.Key) })
	first := res.Failed[0]
	if err := ctx.Err(); err != nil {
		// Say first that it was cancelled, not what the cancellation broke.
		if i := slices.IndexFunc(res.Failed, func(f KeyError) bool { return errors.Is(f.Err, err) }); i >= 0 {
			first = res.Failed[i]
		}
	}
	total := len(res.Copied) + len(res.Deleted) + len(res.Failed)
	return res, batchErr("Sync", s.bucket.name, len(res.Failed), total, first.Key, first.Err)
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

// list lists the files of one side that the filters select.
func (s *syncer) list(ctx context.Context, sd *syncSide, isSrc bool) (*syncListing, error) {
	l := &syncListing{files: make(map[string]syncFile)}
	if sd.b != nil {
		return l, s.listBucket(ctx, sd.b, isSrc, l)
	}
	if sd.root == nil {
		return l, nil
	}
	return l, s.listLocal(ctx, sd, isSrc, l)
}

func (s *syncer) listBucket(ctx context.Context, b *Bucket, isSrc bool, l *syncListing) error {
	toLocal := isSrc && s.dst.b == nil
	for obj, err := range b.List(ctx, &ListOptions{Prefix: s.prefix}) {
		if err != nil {
			return err
		}
		p := obj.Key
		if obj.IsDir {
			if toLocal && s.selected(strings.TrimSuffix(p, "/")) {
				l.dirs = append(l.dirs, p)
			}
			continue
		}
		if !s.selected(p) {
			continue
		}
		if toLocal && strings.HasSuffix(p, "/") {
			l.skipped = append(l.skipped, SyncItem{Path: p, Size: obj.Size, Reason: "key ends in / but is not an empty directory marker"})
			continue
		}
		l.files[p] = syncFile{size: obj.Size, mtime: obj.LastModified, etag: obj.ETag}
	}
	return nil
}

func (s *syncer) listLocal(ctx context.Context, sd *syncSide, isSrc bool, l *syncListing) error {
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
	err := fs.WalkDir(sd.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && d == nil && errors.Is(err, fs.ErrNotExist) {
				return nil // nothing under the prefix
			}
			l.failed = append(l.failed, s.itemErr(p, "list", err, false))
			l.incomplete = true
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || isDownloadTemp(d.Name()) || !s.selected(p) {
			return nil
		}
		skip := func(reason string) {
			if isSrc {
				l.skipped = append(l.skipped, SyncItem{Path: p, Reason: reason})
			} else {
				l.files[p] = syncFile{size: -1}
			}
		}
		var fi fs.FileInfo
		switch t := d.Type(); {
		case t.IsRegular():
			fi, err = d.Info()
		case t&fs.ModeSymlink != 0:
			// Root follows a link only while it stays inside.
			fi, err = sd.root.Stat(filepath.FromSlash(p))
			switch {
			case errors.Is(err, fs.ErrNotExist):
				skip("symbolic link to nothing")
				return nil
			case err != nil && !errors.Is(err, fs.ErrPermission):
				skip("symbolic link leading out of the directory")
				return nil
			case err == nil && fi.IsDir():
				skip("symbolic link to a directory")
				return nil
			}
		}
		switch {
		case err != nil && errors.Is(err, fs.ErrNotExist):
			// Gone since the directory was read.
		case err != nil:
			l.failed = append(l.failed, s.itemErr(p, "list", err, false))
			l.incomplete = l.incomplete || isSrc
		case fi == nil || !fi.Mode().IsRegular():
			if isSrc {
				skip("not a regular file")
			}
		default:
			l.files[p] = syncFile{size: fi.Size(), mtime: fi.ModTime()}
		}
		return nil
	})
	if err != nil {
		return wrapErr("Sync", s.bucket.name, "", err)
	}
	return nil
}

// isDownloadTemp reports whether name is the temporary file of a download
// in progress (see downloadTo).
func isDownloadTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") && strings.Contains(name, ".s3kit-")
}

// writable reports why the path p cannot be written at the destination,
// or nil.
func (s *syncer) writable(p string) error {
	if s.dst.b != nil {
		_, err := s.dst.b.key(p)
		return err
	}
	_, err := localName(p)
	return err
}

// copyStep names the step that copies a file.
func (s *syncer) copyStep() string {
	switch {
	case s.src.b == nil:
		return "upload"
	case s.dst.b == nil:
		return "download"
	}
	return "copy"
}

// itemErr is the failure of the step at path p. obj says whether p names
// an object, of the bucket side, that the error should name.
func (s *syncer) itemErr(p, step string, err error, obj bool) KeyError {
	var e *Error
	if errors.As(err, &e) {
		c := *e // the *Error may be shared by the keys of one request
		c.Op, c.Err = "Sync", fmt.Errorf("%s: %w", step, e.Err)
		return KeyError{Key: p, Code: c.Code, Err: &c}
	}
	c := &Error{Op: "Sync", Err: fmt.Errorf("%s: %w", step, err)}
	if obj {
		c.Bucket, c.Key = s.bucket.name, s.bucket.prefix+p
	}
	return KeyError{Key: p, Err: c}
}

// forEach calls fn(i) for i in [0, n), at most conc at once, and calls
// notStarted(i, err) instead for those it did not start because ctx is
// done.
func forEach(ctx context.Context, n, conc int, fn func(i int), notStarted func(i int, err error)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(conc, 1))
	for i := range n {
		if ctx.Err() == nil {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
		}
		if err := ctx.Err(); err != nil {
			notStarted(i, err)
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// sameContent reports whether the two sides hold the same content at p.
func (s *syncer) sameContent(ctx context.Context, p string) (bool, error) {
	switch {
	case s.src.b != nil && s.dst.b != nil:
		a, err := s.src.b.Head(ctx, p, nil)
		if err != nil {
			return false, err
		}
		b, err := s.dst.b.Head(ctx, p, nil)
		if err != nil {
			return false, err
		}
		return sameObject(a, b), nil
	case s.src.b != nil:
		info, err := s.src.b.Head(ctx, p, nil)
		if err != nil {
			return false, err
		}
		return localMatches(s.dst.root, p, info)
	}
	info, err := s.dst.b.Head(ctx, p, nil)
	if err != nil {
		return false, err
	}
	return localMatches(s.src.root, p, info)
}

// localMatches reports whether the local file p holds the content of the
// object info describes, by its full-object CRC or, failing that, the MD5
// of a single-part ETag. Without either it reports false.
func localMatches(root *os.Root, p string, info ObjectInfo) (bool, error) {
	cs, want := fullChecksumOf(info)
	md5want := ""
	if cs == nil {
		if md5want = etagMD5(info.ETag); md5want == "" {
			return false, nil
		}
	}
	f, err := root.Open(filepath.FromSlash(p))
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if st.Size() != info.Size {
		return false, nil
	}
	if cs != nil {
		crc, err := crcOfReader(cs, f)
		if err != nil {
			return false, err
		}
		return cs.encode(crc) == want, nil
	}
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == md5want, nil
}

// etagMD5 returns the MD5 an ETag is, in lower-case hex, or "" if it is
// not one (a multipart upload's ETag has a "-N" suffix).
func etagMD5(etag string) string {
	e := strings.ToLower(strings.Trim(etag, `"`))
	if len(e) != 2*md5.Size {
		return ""
	}
	if _, err := hex.DecodeString(e); err != nil {
		return ""
	}
	return e
}

// sameObject reports whether two objects hold the same content, by a
// full-object checksum both have, else by their ETags.
func sameObject(a, b ObjectInfo) bool {
	if a.Size != b.Size {
		return false
	}
	sa, sb := fullSums(a), fullSums(b)
	for _, alg := range []string{"CRC64NVME", "CRC32C", "CRC32", "SHA256", "SHA1"} {
		if va, vb := sa[alg], sb[alg]; va != "" && vb != "" {
			return va == vb
		}
	}
	// Equal ETags mean equal content, also for multipart ones (the MD5 of
	// the parts' MD5s); different ones prove nothing, and count as
	// different.
	return a.ETag != "" && a.ETag == b.ETag
}

// fullSums returns the checksums of the whole content of an object.
func fullSums(info ObjectInfo) map[string]string {
	if info.ChecksumType == "COMPOSITE" {
		return nil
	}
	m := make(map[string]string, len(info.Checksums))
	for alg, v := range info.Checksums {
		if !strings.Contains(v, "-") {
			m[alg] = v
		}
	}
	return m
}

// mkdir creates the local directory of a marker key.
func (s *syncer) mkdir(marker string) error {
	name, err := localName(marker)
	if err != nil {
		return err
	}
	return s.dst.root.MkdirAll(name, 0o777)
}

// copy copies one file and returns its size.
func (s *syncer) copy(ctx context.Context, it SyncItem, sp *syncProgress) (int64, error) {
	var counted atomic.Int64 // bytes of this file passed to sp
	topts := &TransferOptions{Put: s.opts.Put}
	if sp != nil {
		topts.Progress = func(p Progress) { sp.add(p.Done-counted.Swap(p.Done), 0, false) }
	}
	size, err := s.transfer(ctx, it, topts, &counted, sp)
	if err == nil {
		sp.add(size-counted.Load(), 1, false)
	} else {
		sp.add(0, 1, false)
	}
	return size, err
}

func (s *syncer) transfer(ctx context.Context, it SyncItem, topts *TransferOptions, counted *atomic.Int64, sp *syncProgress) (int64, error) {
	p := it.Path
	switch {
	case s.src.b == nil:
		f, err := s.src.root.Open(filepath.FromSlash(p))
		if err != nil {
			return 0, err
		}
		defer f.Close()
		info, err := s.dst.b.uploadFile(ctx, "Sync", f, p, topts)
		return info.Size, err
	case s.dst.b == nil:
		if d := path.Dir(p); d != "." {
			if err := s.dst.root.MkdirAll(d, 0o777); err != nil {
				return 0, err
			}
		}
		info, err := s.src.b.downloadTo(ctx, "Sync", p, s.dst.root, p, topts)
		return info.Size, err
	case s.src.b.c == s.dst.b.c:
		_, err := s.src.b.copy(ctx, "Sync", p, s.dst.b.prefix+p, s.copyOpts)
		return it.Size, err
	}
	return s.stream(ctx, p, counted, sp)
}

// stream copies the object at p between buckets of two Clients through
// this process: a verified, parallel read into a parallel write.
func (s *syncer) stream(ctx context.Context, p string, counted *atomic.Int64, sp *syncProgress) (int64, error) {
	r, err := s.src.b.NewReader(ctx, p, nil)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	in := r.Info()
	wo := &WriterOptions{Size: r.Size()}
	if s.opts.Put != nil {
		wo.PutOptions = *s.opts.Put
	}
	// Keep what a server-side copy keeps, where Put does not replace it.
	o := &wo.PutOptions
	if o.ContentType == "" && o.CacheControl == "" && o.ContentDisposition == "" &&
		o.ContentEncoding == "" && o.ContentLanguage == "" && o.Metadata == nil {
		o.ContentType, o.CacheControl, o.ContentDisposition = in.ContentType, in.CacheControl, in.ContentDisposition
		o.ContentEncoding, o.ContentLanguage, o.Metadata = in.ContentEncoding, in.ContentLanguage, in.Metadata
	}
	w, err := s.dst.b.NewWriter(ctx, p, wo)
	if err != nil {
		return 0, err
	}
	var dst io.Writer = w
	if sp != nil {
		dst = syncCounter{w, func(n int64) { counted.Add(n); sp.add(n, 0, false) }}
	}
	if _, err := io.Copy(dst, r); err != nil {
		w.Abort()
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return w.Info().Size, nil
}

// syncCounter counts the bytes written through it.
type syncCounter struct {
	w   io.Writer
	add func(int64)
}

func (c syncCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.add(int64(n))
	return n, err
}

// delete deletes the extraneous files of the destination, as listed. An
// object is deleted only while it has the ETag listed, so that one
// written meanwhile is kept (on stores that honour the condition).
func (s *syncer) delete(ctx context.Context, items []SyncItem, listed map[string]syncFile) ([]SyncItem, []KeyError) {
	if len(items) == 0 {
		return nil, nil
	}
	var failed []KeyError
	bad := make(map[string]bool)
	if s.dst.b != nil {
		full, etags := make([]string, len(items)), make([]string, len(items))
		for i, it := range items {
			full[i], etags[i] = s.dst.b.prefix+it.Path, listed[it.Path].etag
		}
		dr, err := s.dst.b.deleteKeys(ctx, "Sync", full, etags)
		if err != nil && len(dr.Failed) == 0 {
			for _, it := range items {
				dr.Failed = append(dr.Failed, KeyError{Key: it.Path, Err: err})
			}
		}
		for _, f := range dr.Failed {
			bad[f.Key] = true
			step := "delete"
			if errors.Is(f.Err, ErrPreconditionFailed) {
				step = "delete: changed since it was listed, so it was kept"
			}
			failed = append(failed, s.itemErr(f.Key, step, f.Err, true))
		}
	} else {
		for _, it := range items {
			err := ctx.Err()
			if err == nil {
				if err = s.dst.root.Remove(filepath.FromSlash(it.Path)); errors.Is(err, fs.ErrNotExist) {
					err = nil
				}
			}
			if err != nil {
				bad[it.Path] = true
				failed = append(failed, s.itemErr(it.Path, "delete", err, false))
			}
		}
	}
	var deleted []SyncItem
	for _, it := range items {
		if !bad[it.Path] {
			deleted = append(deleted, it)
		}
	}
	return deleted, failed
}

// syncProgress sums the progress of the files of a Sync, throttled as a
// transfer's.
type syncProgress struct {
	fn    func(SyncProgress)
	start time.Time
	mu    sync.Mutex
	last  time.Time
	p     SyncProgress
}

func newSyncProgress(fn func(SyncProgress), files int, bytes int64) *syncProgress {
	if fn == nil {
		return nil
	}
	sp := &syncProgress{fn: fn, start: time.Now()}
	sp.p.Total, sp.p.FilesTotal = bytes, files
	return sp
}

func (sp *syncProgress) add(n int64, files int, final bool) {
	if sp == nil {
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.p.Done += n
	sp.p.Files += files
	now := time.Now()
	if !final && now.Sub(sp.last) < progressEvery {
		return
	}
	sp.last = now
	sp.p.Progress = progressAt(sp.p.Done, sp.p.Total, sp.start, now)
	sp.fn(sp.p)
}

package s3kit

import (
	"cmp"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Location is one side of a Sync: a LocalDir, or a *Bucket, which stands
// for the objects under its prefix. No other type implements it.
type Location interface{ location() }

// LocalDir is a directory of the local file system, as a Location.
type LocalDir string

func (LocalDir) location() {}

func (*Bucket) location() {}

// SyncOptions are the options of Sync. nil means defaults: copy what is
// missing or different, compared by size and modification time, delete
// nothing, and report counts only.
type SyncOptions struct {
	// Delete deletes the files (objects) at the destination that the
	// source lacks, among those Include, Exclude and Filter select: an
	// excluded path is never deleted, nor one the source has but skips.
	// Deletions wait until both listings have ended: if either failed, or
	// part of the source could not be listed, nothing is deleted.
	Delete bool
	// MaxDelete, if positive, bounds the deletions: if more than MaxDelete
	// files would be deleted, none is, and Sync returns an error matching
	// ErrTooManyDeletes that says how many (the copies are done all the
	// same). As rclone's --max-delete; 0 means no bound.
	MaxDelete int
	// NoClobber never replaces a file that exists at the destination: it
	// only creates. An existing file that differs by size or time is
	// reported as skipped ("exists at the destination"), one that does not
	// as unchanged; content is not compared. Uploads and copies between
	// Clients are sent with If-None-Match "*", and downloads are linked
	// into place only where no file is, so a file written at the
	// destination after the listing is kept, and reported as skipped, not
	// failed. Server-side copies between buckets of one Client are create-
	// only copies (CopyOptions.NoClobber): they close that race only on a
	// store that honours If-None-Match on CopyObject.
	NoClobber bool
	// DryRun only plans: the result and OnItem report what would be
	// copied, deleted and skipped, and nothing is changed. The comparisons
	// still run, with Checksum their HEAD requests and reads of local
	// files too.
	DryRun bool
	// Checksum compares content instead of modification times: a file
	// that both sides have with the same size is copied only if its
	// content differs. The local file's CRC64NVME, CRC32C or CRC32 is
	// computed and compared with the object's full-object checksum of the
	// same algorithm (one HEAD per file: listings carry no checksum); an
	// object without one is compared by MD5 with its ETag if that is a
	// single-part one, and counts as different otherwise. Between buckets,
	// equal listed ETags mean equal content; otherwise the checksums of
	// both HEADs are compared, else the ETags. Without Checksum, Sync
	// sends no HEAD: size and time come from the listings.
	Checksum bool
	// SizeOnly compares by size alone, as rclone's --size-only: a file
	// that both sides have with the same size is left as it is, whatever
	// its time. It excludes Checksum (ErrInvalid). Useful where times are
	// not to be trusted, such as objects written by a tool that keeps no
	// mtime, or clocks far apart.
	SizeOnly bool
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
	// Filter, if set, selects the paths (as Include and Exclude see them,
	// slash-separated, relative to each side) that Include and Exclude
	// selected: a path for which it returns false is left out on both
	// sides, before any comparison, so it is neither copied nor, with
	// Delete, deleted, as if excluded. It is called for every path of
	// both listings, from two goroutines at once, so it must be safe for
	// concurrent use, and must answer the same for the same path: one
	// that a destination listing kept but the source's dropped would be
	// deleted. Splitting a large Sync between machines by a hash of the
	// path, each syncing its own share, is what it is for.
	Filter func(path string) bool
	// Concurrency is how many files are compared or copied at once; 0
	// means the Client's. A large file is moreover transferred in
	// parallel parts, as by Upload and Download, all within the Client's
	// memory budget.
	Concurrency int
	// Progress, if set, is called from one goroutine at a time, at most
	// every 100 ms while bytes flow and once at the end, with the bytes
	// and files copied so far of those found to copy so far: while
	// SyncProgress.Listing is true the listings are still running and the
	// totals may grow. It is not called with DryRun.
	Progress func(SyncProgress)
	// OnItem, if set, is called once for each file copied, deleted,
	// skipped or failed (not for unchanged ones), as it happens, in no
	// particular order, with DryRun for what would be done. It is called
	// from one goroutine at a time, while the copies continue, so it
	// should return quickly; Sync returns only after its last call. This
	// is how to follow a Sync of any size item by item.
	OnItem func(SyncEvent)
	// Record fills the result's Copied, Deleted and Skipped lists and
	// keeps every failure in Failed. Without it the result holds counts
	// and the first 1,000 failures only, so that its memory does not grow
	// with the number of files.
	Record bool
	// Put applies to every object written: to uploads as to Put, and to
	// copies between buckets, where its ACL, StorageClass, SSE, SSECustomerKey and Tags
	// apply as in CopyOptions, and its content headers and Metadata, if
	// any is set, replace the source's. IfMatch and IfNoneMatch are
	// refused: Sync decides itself what to overwrite (see NoClobber).
	Put *PutOptions
}

// maxSyncFailed is how many failures a SyncResult keeps without
// SyncOptions.Record.
const maxSyncFailed = 1000

// SyncResult is the outcome of Sync. With DryRun it says what would be
// done.
type SyncResult struct {
	// Counts of files and their bytes by outcome, always kept. A skipped
	// local file counts no bytes.
	Copied, Deleted, Skipped, Unchanged, Failed SyncCount

	// The lists, sorted by path, only with SyncOptions.Record: the files
	// copied, deleted, and those in the source not synced, each with why.
	CopiedItems, DeletedItems, SkippedItems []SyncItem

	// Failures lists the files that could not be compared, copied or
	// deleted, and the parts of a local directory that could not be
	// listed, sorted by path: all of them with Record, else the first
	// 1,000 that happened (Failed.Files counts them all). Key is the path;
	// Err is an *Error whose cause begins with the step that failed
	// ("upload", "download", "copy", "compare", "delete", "list").
	Failures []KeyError
}

// SyncCount is a number of files and of their bytes.
type SyncCount struct {
	Files int
	Bytes int64
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

// SyncEvent is one file as SyncOptions.OnItem reports it.
type SyncEvent struct {
	SyncItem
	Op  SyncOp
	Err error // with SyncFailed: the failure, as in SyncResult.Failures
}

// SyncOp is what happened to a file.
type SyncOp int

// The outcomes SyncOptions.OnItem reports.
const (
	SyncCopied SyncOp = iota + 1
	SyncDeleted
	SyncSkipped
	SyncFailed
)

func (op SyncOp) String() string {
	switch op {
	case SyncCopied:
		return "copied"
	case SyncDeleted:
		return "deleted"
	case SyncSkipped:
		return "skipped"
	case SyncFailed:
		return "failed"
	}
	return "SyncOp(" + strconv.Itoa(int(op)) + ")"
}

// SyncProgress reports how far a Sync is: its bytes as a Progress does,
// of the files found to copy so far, and how many of these files are
// done. While Listing is true, more files may yet be found: Total and
// FilesTotal only grow.
type SyncProgress struct {
	Progress
	Files      int  // files finished copying, failed ones included
	FilesTotal int  // files found to copy so far
	Listing    bool // the listings are still running
}

// Why a file is copied (SyncItem.Reason), or skipped.
const (
	syncNew      = "new"
	syncSize     = "size"
	syncNewer    = "newer"
	syncChecksum = "checksum"
	syncExists   = "exists at the destination"
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
// that Sync run again copies nothing, in either direction. Unlike
// Download and DownloadAll, it does not use the object's mtime metadata
// for this: the next Sync, which sees only the listing's LastModified,
// later than that mtime, would download the file again every time (or
// need a HEAD per object to read it). These times
// come from two clocks: if the store's runs behind the local one, files
// are uploaded again until the difference has passed; opts.Checksum
// compares content instead.
//
// Both sides are read as streams sorted in S3's order (UTF-8 bytes; a
// local directory walked one directory at a time, each sorted as if its
// subdirectories' names ended in "/") and merged, and copies start while
// the listings continue: memory grows with Concurrency (and the widest
// local directory), not with the number of files, and a Sync that changes
// nothing sends one LIST request per 1,000 keys of each bucket side and no
// other. Up to Concurrency files are compared and copied at once.
//
// Uploads go in parallel parts straight from each file, as Upload's do,
// and like Upload's store the file's modification time as the metadata
// mtime, in rclone's format (unless opts.Put.Metadata sets mtime itself).
// The comparison still uses the object's LastModified, not that mtime: a
// listing carries no metadata, and reading it would take a HEAD per
// object. A file just uploaded has a LastModified at or after its
// modification time, so Sync run again does not upload it again.
// Downloads go as DownloadAll's (but for the time they set, above):
// through os.Root, so that a symbolic link
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
// directory or to nothing, and special files such as sockets, are
// reported as skipped. Temporary files of downloads in progress are
// ignored.
//
// The options and both Locations are checked before any request: a nil
// or invalid Bucket, an empty LocalDir, a malformed pattern, a negative
// Concurrency or MaxDelete, bad Put options, or source and destination
// that overlap are ErrInvalid. Two Buckets overlap if they have the same
// name and the prefix of one is a prefix of the other's (or equal),
// whatever their Clients: two endpoints can name one store, and bucket
// names are global on Amazon S3. A missing source directory is an error
// matching fs.ErrNotExist; a missing destination directory is created.
//
// Deletions come last, once both listings have ended without error and
// the copies are done, at most 1,000 in one request for a bucket; the
// paths waiting for them beyond a few thousand are kept in a temporary
// file, not in memory. If a listing fails (a listing out of S3's order
// counts as failed), the other listing and the copies in flight are
// cancelled at once, nothing is deleted, and Sync returns that error with
// the result so far: the copies that completed stay.
//
// With Delete, an object at a bucket destination is deleted only while it
// has the ETag listed: one written there since the listing, with other
// bytes, is kept and reported as failed, with an error that matches
// ErrPreconditionFailed, by a store that honours the condition (Amazon S3
// documents it), else by a listing of the key just before the delete
// (Client.StoreProfile says which stores ignore it: of those s3kit is
// tested with, MinIO and versitygw in a batch delete). The race that
// remains: there, an object written between that check and the delete
// is deleted; and a local file is deleted without such a check, so one
// written after the listing is deleted.
//
// A file that fails does not stop the others: it is reported as failed,
// and the error is non-nil whenever anything failed, as for DeleteMany.
// Cancelling ctx stops Sync promptly, without a partial object or file:
// the files in flight are reported as failed with ctx's error, those not
// yet reached are not examined, nothing is deleted, and the error matches
// ctx's.
//
// With Delete, a source that holds nothing (a mistyped prefix, a wrong
// directory) makes Sync delete everything at the destination that the
// filters select: try DryRun, or set MaxDelete.
func Sync(ctx context.Context, src, dst Location, opts *SyncOptions) (SyncResult, error) {
	s, err := newSyncer(src, dst, opts)
	if err != nil {
		return SyncResult{}, err
	}
	defer s.close()
	return s.run(ctx)
}

type syncer struct {
	src, dst         syncSide
	opts             SyncOptions
	include, exclude []*glob
	prefix           string // the literal text every included path begins with
	conc             int
	bucket           *Bucket      // for errors: the destination if it is a bucket, else the source
	copyOpts         *CopyOptions // for server-side copies
	spillAt          int          // deletions kept in memory; 0 means syncSpillAt (tests set less)
	gauges           syncGauges
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
	if s.opts.SizeOnly && s.opts.Checksum {
		return fail(invalidf("SizeOnly and Checksum exclude each other: compare by size alone, or by content"))
	}
	if s.opts.MaxDelete < 0 {
		return fail(invalidf("MaxDelete %d is negative; 0 means no bound", s.opts.MaxDelete))
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
		s.copyOpts.NoClobber = s.opts.NoClobber
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
	o.SSECustomerKey = p.SSECustomerKey
	if p.Metadata != nil || p.ContentType != "" || p.CacheControl != "" || p.ContentDisposition != "" ||
		p.ContentEncoding != "" || p.ContentLanguage != "" || !p.Expires.IsZero() || p.WebsiteRedirectLocation != "" {
		o.ReplaceMetadata = true
		o.Metadata, o.ContentType, o.CacheControl = p.Metadata, p.ContentType, p.CacheControl
		o.ContentDisposition, o.ContentEncoding, o.ContentLanguage = p.ContentDisposition, p.ContentEncoding, p.ContentLanguage
		o.Expires, o.WebsiteRedirectLocation = p.Expires, p.WebsiteRedirectLocation
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

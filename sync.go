package s3kit

import (
	"cmp"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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
	// copies between buckets, where its ACL, StorageClass, SSE, SSECustomerKey and Tags
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

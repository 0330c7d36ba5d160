package s3kit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// Progress reports how far a transfer is.
type Progress struct {
	Done    int64         // bytes transferred so far
	Total   int64         // bytes in all
	Elapsed time.Duration // since the transfer started
	Rate    float64       // bytes per second, on average since the start
}

// TransferOptions are the options of Upload, Download and DownloadAll.
// nil means defaults.
type TransferOptions struct {
	// PartSize and Concurrency of the parts or ranges; 0 means the
	// Client's.
	PartSize    int64
	Concurrency int
	// Progress, if set, is called from one goroutine at a time, at most
	// every 100 ms while bytes flow and once at the end.
	Progress func(Progress)
	// Put applies to uploads as to Put.
	Put *PutOptions
	// OnFile, if set, is called by DownloadAll for each key, once it is
	// downloaded (err nil) or has failed, from one goroutine at a time.
	OnFile func(key string, info ObjectInfo, err error)
	// Filter, if set, selects the keys DownloadAll downloads: it is called
	// for each key listed (relative to the Bucket's prefix; a directory
	// marker with its trailing "/"), on the goroutine that called
	// DownloadAll, before anything else is done with it; a key for which
	// it returns false is neither downloaded nor reported, nor counted in
	// the Progress. A CompileGlob pattern's Match, or a hash of the key
	// to split one download between machines, are typical. Upload and
	// Download ignore it.
	Filter func(key string) bool
	// Pattern, if set, makes DownloadAll download only the keys, relative
	// to the handle, that match this glob (ListOptions.Pattern's syntax
	// and meaning): the literal text before its first wildcard narrows
	// the listing on the server, and Filter sees only the keys that
	// match. An invalid pattern fails DownloadAll with ErrInvalid before
	// anything is downloaded. Upload and Download ignore it.
	Pattern string
	// OnStart, if set, is called by DownloadAll for each file just before
	// its download starts, with the object as listed; every file it is
	// called for is then reported to OnFile once. It is called one call at
	// a time, and never at the same time as OnFile.
	OnStart func(key string, info ObjectInfo)
	// NoClobber makes Download and DownloadAll create-only: a file that
	// exists at the destination (a symbolic link or a directory
	// included) is left as it is and not downloaded. The name is checked
	// before the download, and taken at the end with an exclusive create
	// (a hard link to the finished temporary file, or, where the file
	// system has no hard links, an exclusive create of the name that the
	// finished file is then renamed over), so that a file created there
	// by anyone in the meantime is kept too. A file so kept fails Download
	// with an error matching ErrExist, and DownloadAll reports it to
	// OnFile with such an error and counts it as Skipped, not as failed.
	NoClobber bool
}

// progress counts bytes and calls the callback, throttled.
type progress struct {
	fn    func(Progress)
	total int64
	start time.Time
	done  atomic.Int64
	mu    sync.Mutex
	last  time.Time
}

func newProgress(fn func(Progress), total int64) *progress {
	if fn == nil {
		return nil
	}
	return &progress{fn: fn, total: total, start: time.Now()}
}

func (p *progress) add(n int64, final bool) {
	if p == nil {
		return
	}
	done := p.done.Add(n)
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !final && now.Sub(p.last) < progressEvery {
		return
	}
	p.last = now
	p.fn(progressAt(done, p.total, p.start, now))
}

// progressEvery is how often progress is reported while bytes flow.
const progressEvery = 100 * time.Millisecond

// progressAt is the Progress of done bytes of total at now, for a transfer
// started at start.
func progressAt(done, total int64, start, now time.Time) Progress {
	pr := Progress{Done: done, Total: total, Elapsed: now.Sub(start)}
	if pr.Elapsed > 0 {
		pr.Rate = float64(done) / pr.Elapsed.Seconds()
	}
	return pr
}

// Upload uploads the local file at localPath to key, in parallel parts read
// straight from the file, and returns what the store reported of the
// object. Nothing is visible until it returns nil; on error nothing is left
// behind.
//
// The file's modification time is stored with the object as the user
// metadata mtime (x-amz-meta-mtime), in rclone's format: seconds since the
// epoch with up to nine decimals ("1700000000.123456789"), so that rclone
// and Download give the file its time back. opts.Put.Metadata takes
// precedence: an mtime entry there is sent instead, and none is added
// where the metadata leaves no room for it within MaxMetadataSize.
func (b *Bucket) Upload(ctx context.Context, localPath, key string, opts *TransferOptions) (ObjectInfo, error) {
	full, err := b.key(key)
	if err != nil {
		return ObjectInfo{}, b.fail("Upload", full, err)
	}
	f, err := os.Open(localPath)
	if err != nil {
		return ObjectInfo{}, b.fail("Upload", full, err)
	}
	defer f.Close()
	return b.uploadFile(ctx, "Upload", f, key, opts)
}

// uploadFile uploads the open file f to key, as Upload does.
func (b *Bucket) uploadFile(ctx context.Context, op string, f *os.File, key string, opts *TransferOptions) (ObjectInfo, error) {
	full, err := b.key(key)
	if err != nil {
		return ObjectInfo{}, b.fail(op, full, err)
	}
	opts = cmp.Or(opts, &TransferOptions{})
	st, err := f.Stat()
	if err != nil {
		return ObjectInfo{}, b.fail(op, full, err)
	}
	if !st.Mode().IsRegular() {
		return ObjectInfo{}, b.fail(op, full, invalidf("%s is not a regular file", f.Name()))
	}
	wo := &WriterOptions{PartSize: opts.PartSize, Concurrency: opts.Concurrency, Size: st.Size()}
	wo.PutOptions = *withMtime(opts.Put, st.ModTime())
	w, err := b.NewWriter(ctx, key, wo)
	if err != nil {
		return ObjectInfo{}, err
	}
	pr := newProgress(opts.Progress, st.Size())
	if st.Size() <= w.opts.PartSize && st.Size() <= b.c.partSize {
		// One PUT straight from the file: no part buffer to fill.
		w.Abort() // sends nothing: nothing was written
		info, err := b.put(ctx, op, key, io.NewSectionReader(f, 0, st.Size()), typeBinary, &w.opts.PutOptions)
		if err != nil {
			return ObjectInfo{}, err
		}
		pr.add(st.Size(), true)
		return info, nil
	}
	w.progress = pr
	if err := w.uploadFrom(f, 0, st.Size()); err != nil {
		w.fail(err)
	}
	if err := w.Close(); err != nil {
		return ObjectInfo{}, renameOp(err, op)
	}
	pr.add(0, true)
	return w.Info(), nil
}

// Download downloads the object at key to the local file localPath, as
// DownloadTo does: ranges fetched in parallel and written at their offsets
// as they arrive, one GET and no HEAD for an object of one range, and the
// checksum verified where the store reported one. Missing parent
// directories are created.
//
// It writes to a temporary file in the same directory (named
// ".NAME.s3kit-PID-RANDOM.tmp", NAME cut short if need be to keep the name
// within 255 bytes), flushes it to stable storage, and renames it into
// place only when everything arrived and checked out; then it flushes the
// directory. A failed or cancelled download therefore leaves no partial file
// under localPath, and after Download returns nil a crash of the machine
// leaves the new content there, never an empty or partial file (a parent
// directory that Download had to create is not flushed into its own
// parent, and may be lost with it). A process killed mid-download leaves
// localPath as it was, and its temporary file behind. With opts.NoClobber
// a file at localPath is never replaced (see TransferOptions.NoClobber).
//
// A file that existed at localPath keeps its permission bits; a new one
// gets 0666 less the umask. The file's modification time is set to the
// one the object's mtime metadata holds, as Upload and rclone store it
// (read from the GET that fetches the bytes: no request is added), else,
// where the object has none or one that is not a time in that format, to
// its LastModified. If only that, or the flush of the directory,
// fails, the complete file is already in place: the error says so, and the
// ObjectInfo is returned with it.
func (b *Bucket) Download(ctx context.Context, key, localPath string, opts *TransferOptions) (ObjectInfo, error) {
	full, err := b.key(key)
	if err != nil {
		return ObjectInfo{}, b.fail("Download", full, err)
	}
	dir := filepath.Dir(localPath)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return ObjectInfo{}, b.fail("Download", full, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return ObjectInfo{}, b.fail("Download", full, err)
	}
	defer root.Close()
	return b.downloadTo(ctx, "Download", key, root, filepath.Base(localPath), nil, false, opts)
}

// downloadTo downloads key to name inside root through a temporary file,
// as Download describes. The file's modification time is the object's
// mtime metadata if it has a valid one (modTime), else its LastModified;
// with lastModified, always its LastModified. listed, if not nil, is the object as a listing
// gave it: the first GET is then pinned to its ETag, so that the download
// is of the version listed or fails with ErrPreconditionFailed. The fsyncs
// run on the calling goroutine, so that the bulk callers' workers flush
// their files in parallel.
func (b *Bucket) downloadTo(ctx context.Context, op, key string, root *os.Root, name string, listed *ObjectInfo, lastModified bool, opts *TransferOptions) (ObjectInfo, error) {
	full, err := b.key(key)
	if err != nil {
		return ObjectInfo{}, b.fail(op, full, err)
	}
	d, err := b.newDownload(op, full, opts)
	if err != nil {
		return ObjectInfo{}, err
	}
	noClobber := opts != nil && opts.NoClobber
	// Lstat: a symbolic link at name is replaced, not followed.
	st, err := root.Lstat(name)
	if noClobber && err == nil {
		return ObjectInfo{}, b.fail(op, full, errNoClobber(name))
	}
	keepMode := err == nil && st.Mode().IsRegular()
	f, tmp, err := createTemp(root, name)
	if err != nil {
		return ObjectInfo{}, b.fail(op, full, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			root.Remove(tmp)
		}
	}()
	if keepMode {
		// Chmod, not OpenFile's mode: the umask must not narrow them either.
		if err := f.Chmod(st.Mode().Perm()); err != nil {
			return ObjectInfo{}, b.fail(op, full, err)
		}
	}
	d.file = f
	var etag string
	if listed != nil {
		etag = listed.ETag
	}
	info, err := d.run(ctx, f, etag)
	if err != nil {
		return ObjectInfo{}, err
	}
	// Set before the fsync, which then makes the time durable with the
	// bytes; a failure is reported once the file is in place.
	var timeErr error
	mtime := info.LastModified
	if !lastModified {
		mtime = modTime(info)
	}
	if !mtime.IsZero() {
		timeErr = root.Chtimes(tmp, time.Now(), mtime)
	}
	if err := f.Sync(); err != nil {
		return ObjectInfo{}, b.fail(op, full, fmt.Errorf("flushing %s: %w", tmp, err))
	}
	if err := f.Close(); err != nil {
		return ObjectInfo{}, b.fail(op, full, err)
	}
	if noClobber {
		err = placeNew(root, tmp, name)
	} else {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		return ObjectInfo{}, b.fail(op, full, err)
	}
	ok = true
	d.pr.add(0, true)
	if err := syncDir(root, path.Dir(name)); err != nil {
		return info, b.fail(op, full, fmt.Errorf("%s is in place, but flushing its directory failed: %w", name, err))
	}
	if timeErr != nil {
		return info, b.fail(op, full, fmt.Errorf("%s is in place, but setting its modification time failed: %w", name, timeErr))
	}
	return info, nil
}

// errNoClobber is why a create-only download (NoClobber) left name as it
// was.
func errNoClobber(name string) error {
	return fmt.Errorf("%w: %s exists and the download is create-only (NoClobber)", ErrExist, name)
}

// placeNew gives the finished temporary file tmp the name name only if
// nothing is there, with an exclusive create: a hard link, which fails if
// the name exists, then the removal of tmp. Where the file system has no
// hard links, the name is created exclusively, empty, and tmp renamed over
// it; a reader may then see the empty file for that instant. Either way a
// file that appeared at name since the download began is kept, and the
// error matches ErrExist. On error tmp is left to the caller to remove.
func placeNew(root *os.Root, tmp, name string) error {
	err := root.Link(tmp, name)
	if err == nil {
		// Only the extra name goes: the file is in place.
		root.Remove(tmp)
		return nil
	}
	if !errors.Is(err, fs.ErrExist) {
		var f *os.File
		if f, err = root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666); err == nil {
			placeholder, serr := f.Stat()
			f.Close()
			if err = root.Rename(tmp, name); err != nil && serr == nil {
				// Only the empty placeholder goes, never a file someone
				// else has put at name since.
				if now, lerr := root.Lstat(name); lerr == nil && os.SameFile(now, placeholder) {
					root.Remove(name)
				}
			}
			return err
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return errNoClobber(name)
	}
	return err
}

// maxNameLen is the longest file name (one path element) in bytes that
// common file systems take: NAME_MAX of Linux, the BSDs and macOS.
const maxNameLen = 255

// createTemp creates, exclusively, the temporary file of a download to
// name inside root: ".BASE.s3kit-PID-RANDOM.tmp" in name's directory, which
// Sync recognises and skips (isDownloadTemp). BASE is name's last element,
// cut at a UTF-8 boundary where the whole would exceed maxNameLen.
func createTemp(root *os.Root, name string) (*os.File, string, error) {
	dir, base := path.Split(name)
	for try := 0; ; try++ {
		suffix := fmt.Sprintf(".s3kit-%d-%08x.tmp", os.Getpid(), rand.Uint32())
		keep := min(len(base), maxNameLen-1-len(suffix))
		for keep > 0 && keep < len(base) && !utf8.RuneStart(base[keep]) {
			keep--
		}
		tmp := dir + "." + base[:keep] + suffix
		f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil || !errors.Is(err, fs.ErrExist) || try == 100 {
			return f, tmp, err
		}
	}
}

// syncDir flushes the directory dir of root to stable storage, so that a
// rename in it survives a crash. Systems and file systems that cannot sync
// a directory (Windows; some network file systems answer EINVAL) are
// skipped: there is nothing more to do there.
func syncDir(root *os.Root, dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// renameOp names op as the operation of an *Error that a lower layer
// (Writer, Reader) made. It returns a copy: the original may be a Writer's
// or Reader's sticky error, returned again later and read concurrently. An
// *Error wrapped inside another error is left as it is.
func renameOp(err error, op string) error {
	// Not errors.As: only an *Error at the top can be replaced by a copy.
	e, ok := err.(*Error)
	if !ok || e.Op == op {
		return err
	}
	c := *e
	c.Op = op
	return &c
}

// DownloadResult is the outcome of DownloadAll. It does not grow with the
// number of keys: Failed keeps the first 1,000 failures, FailedFiles
// counts them all, and TransferOptions.OnFile sees each key.
type DownloadResult struct {
	Downloaded  int
	Bytes       int64
	Failed      []KeyError
	FailedFiles int
	// Skipped counts the files that existed and were kept (NoClobber).
	Skipped int
}

// DownloadAll downloads every object under the handle into the local
// directory dir, each to the path its key has below the handle's prefix. Keys that would land
// outside dir — with a ".." segment, an absolute path, a backslash or a
// drive letter — are refused with ErrInsecurePath and reported in the
// result; the others are downloaded. Files are written through os.Root, so
// a symbolic link inside dir cannot lead a download out of it. Each file
// is written, flushed and renamed into place as Download does it (with
// opts.NoClobber, only where no file is: see there). Directory markers
// ("dir/") become directories. The error is non-nil if anything failed; a
// file kept by NoClobber is no failure.
//
// Downloads start while the listing continues, Concurrency/2 files at
// once (each in up to Concurrency ranges), so memory does not grow with
// the number of keys. Progress reports as Total the bytes listed so far,
// which grows until the listing ends; the last call has the whole. If the
// listing fails, the downloads in flight are cancelled and DownloadAll
// returns the listing's error; the files already in place stay.
// Cancelling ctx stops DownloadAll promptly: the files in flight fail
// with ctx's error, and the keys not yet started are not reported.
func (b *Bucket) DownloadAll(ctx context.Context, dir string, opts *TransferOptions) (DownloadResult, error) {
	var res DownloadResult
	if b.err != nil {
		return res, b.fail("DownloadAll", "", b.err)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return res, b.fail("DownloadAll", "", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return res, b.fail("DownloadAll", "", err)
	}
	defer root.Close()
	opts = cmp.Or(opts, &TransferOptions{})
	fileOpts := *opts
	fileOpts.Progress, fileOpts.OnFile, fileOpts.Filter, fileOpts.OnStart = nil, nil, nil, nil
	var (
		mu    sync.Mutex
		total atomic.Int64
		first KeyError
	)
	pr := newProgress(opts.Progress, 0)
	report := func(key string, info ObjectInfo, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case opts.NoClobber && errors.Is(err, ErrExist):
			res.Skipped++
		case err != nil:
			if res.FailedFiles == 0 {
				first = KeyError{Key: key, Err: err}
			}
			res.FailedFiles++
			if len(res.Failed) < maxSyncFailed {
				res.Failed = append(res.Failed, KeyError{Key: key, Err: err})
			}
		default:
			res.Downloaded++
			res.Bytes += info.Size
		}
		if opts.OnFile != nil {
			opts.OnFile(key, info, err)
		}
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pool := newFanOut(lctx, max(cmp.Or(opts.Concurrency, b.c.concurrency)/2, 1))
	start := func(key string, info ObjectInfo) {
		if opts.OnStart != nil {
			mu.Lock()
			defer mu.Unlock()
			opts.OnStart(key, info)
		}
	}
	var listErr error
	for obj, err := range b.List(lctx, &ListOptions{Pattern: opts.Pattern}) {
		if err != nil {
			listErr = err
			break
		}
		if opts.Filter != nil && !opts.Filter(obj.Key) {
			continue
		}
		total.Add(obj.Size)
		if pr != nil {
			pr.mu.Lock()
			pr.total = total.Load()
			pr.mu.Unlock()
		}
		name, err := localName(obj.Key)
		if err != nil {
			report(obj.Key, obj, b.fail("DownloadAll", b.prefix+obj.Key, err))
			continue
		}
		if obj.IsDir {
			if err := root.MkdirAll(name, 0o777); err != nil {
				report(obj.Key, obj, b.fail("DownloadAll", b.prefix+obj.Key, err))
			}
			continue
		}
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o777); err != nil {
				report(obj.Key, obj, b.fail("DownloadAll", b.prefix+obj.Key, err))
				continue
			}
		}
		if !pool.Go(func(ctx context.Context) {
			start(obj.Key, obj)
			info, err := b.downloadTo(ctx, "DownloadAll", obj.Key, root, name, &obj, false, &fileOpts)
			if err != nil {
				report(obj.Key, info, err)
				return
			}
			report(obj.Key, info, nil)
			pr.add(info.Size, false)
		}) {
			break
		}
	}
	if listErr != nil {
		cancel()
	}
	pool.Wait()
	pr.add(0, true)
	switch {
	case ctx.Err() != nil:
		return res, b.fail("DownloadAll", "", ctx.Err())
	case listErr != nil:
		return res, listErr
	case res.FailedFiles > 0:
		return res, batchErr("DownloadAll", b.name, res.FailedFiles, res.Downloaded+res.Skipped+res.FailedFiles, first.Key, first.Err)
	}
	return res, nil
}

// localName returns the slash-separated local path of a key, or
// ErrInsecurePath if it would not stay inside the download directory on
// any operating system.
func localName(key string) (string, error) {
	name := strings.TrimSuffix(key, "/")
	bad := name == "" || strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") ||
		len(name) >= 2 && name[1] == ':' || !filepath.IsLocal(filepath.FromSlash(name))
	if !bad {
		for _, seg := range strings.Split(name, "/") {
			if seg == ".." || seg == "." || seg == "" {
				bad = true
				break
			}
		}
	}
	if bad {
		return "", fmt.Errorf("%w: key %q would be written outside the directory", ErrInsecurePath, key)
	}
	return name, nil
}

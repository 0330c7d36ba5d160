package s3kit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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

// countingWriter counts what passes to the progress.
type countingWriter struct {
	w io.Writer
	p *progress
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.p.add(int64(n), false)
	return n, err
}

// Upload uploads the local file at localPath to key, in parallel parts read
// straight from the file, and returns what the store reported of the
// object. Nothing is visible until it returns nil; on error nothing is left
// behind.
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
	if opts.Put != nil {
		wo.PutOptions = *opts.Put
	}
	w, err := b.NewWriter(ctx, key, wo)
	if err != nil {
		return ObjectInfo{}, err
	}
	pr := newProgress(opts.Progress, st.Size())
	if st.Size() <= w.opts.PartSize && st.Size() <= b.c.partSize {
		// One PUT straight from the file: no part buffer to fill.
		w.Abort() // sends nothing: nothing was written
		info, err := b.put(ctx, op, key, io.NewSectionReader(f, 0, st.Size()), "", &w.opts.PutOptions)
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

// Download downloads the object at key to the local file localPath,
// fetching ranges in parallel, and verifies its checksum where the store
// reported one. It writes to a temporary file in the same directory, and
// renames it into place only when everything arrived and checked out: a
// failed download leaves no partial file under localPath. Missing parent
// directories are created.
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
	return b.downloadTo(ctx, "Download", key, root, filepath.Base(localPath), opts)
}

// downloadTo downloads key to name inside root through a temporary file.
func (b *Bucket) downloadTo(ctx context.Context, op, key string, root *os.Root, name string, opts *TransferOptions) (ObjectInfo, error) {
	opts = cmp.Or(opts, &TransferOptions{})
	r, err := b.NewReader(ctx, key, &ReaderOptions{PartSize: opts.PartSize, Concurrency: opts.Concurrency})
	if err != nil {
		return ObjectInfo{}, renameOp(err, op)
	}
	defer r.Close()
	tmp := path.Join(path.Dir(name), "."+path.Base(name)+fmt.Sprintf(".s3kit-%d-%d.tmp", os.Getpid(), time.Now().UnixNano()))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return ObjectInfo{}, b.fail(op, r.full, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			root.Remove(tmp)
		}
	}()
	pr := newProgress(opts.Progress, r.Size())
	var w io.Writer = f
	if pr != nil {
		w = countingWriter{f, pr}
	}
	if _, err := r.WriteTo(w); err != nil {
		return ObjectInfo{}, renameOp(b.fail(op, r.full, err), op)
	}
	if err := f.Close(); err != nil {
		return ObjectInfo{}, b.fail(op, r.full, err)
	}
	if !r.info.LastModified.IsZero() {
		root.Chtimes(tmp, time.Now(), r.info.LastModified)
	}
	if err := root.Rename(tmp, name); err != nil {
		return ObjectInfo{}, b.fail(op, r.full, err)
	}
	ok = true
	pr.add(0, true)
	return r.Info(), nil
}

// renameOp names op as the operation of an *Error that a lower layer
// (Writer, Reader) made.
func renameOp(err error, op string) error {
	var e *Error
	if errors.As(err, &e) {
		e.Op = op
	}
	return err
}

// DownloadResult is the outcome of DownloadAll.
type DownloadResult struct {
	Downloaded int
	Bytes      int64
	Failed     []KeyError
}

// DownloadAll downloads every object under the handle into the local
// directory dir, each to the path its key has below the handle's prefix. Keys that would land
// outside dir — with a ".." segment, an absolute path, a backslash or a
// drive letter — are refused with ErrInsecurePath and reported in the
// result; the others are downloaded. Files are written through os.Root, so
// a symbolic link inside dir cannot lead a download out of it. Directory
// markers ("dir/") become directories. The error is non-nil if anything
// failed.
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
	fileOpts.Progress = nil
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, max(cmp.Or(opts.Concurrency, b.c.concurrency)/2, 1))
	)
	failed := func(key string, err error) {
		mu.Lock()
		res.Failed = append(res.Failed, KeyError{Key: key, Err: err})
		mu.Unlock()
	}
	var total int64
	var objs []ObjectInfo
	for obj, err := range b.List(ctx, nil) {
		if err != nil {
			return res, err
		}
		objs = append(objs, obj)
		total += obj.Size
	}
	pr := newProgress(opts.Progress, total)
	for _, obj := range objs {
		name, err := localName(obj.Key)
		if err != nil {
			failed(obj.Key, b.fail("DownloadAll", b.prefix+obj.Key, err))
			continue
		}
		if obj.IsDir {
			if err := root.MkdirAll(name, 0o777); err != nil {
				failed(obj.Key, b.fail("DownloadAll", b.prefix+obj.Key, err))
			}
			continue
		}
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o777); err != nil {
				failed(obj.Key, b.fail("DownloadAll", b.prefix+obj.Key, err))
				continue
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			failed(obj.Key, b.fail("DownloadAll", b.prefix+obj.Key, ctx.Err()))
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			info, err := b.downloadTo(ctx, "DownloadAll", obj.Key, root, name, &fileOpts)
			if err != nil {
				failed(obj.Key, err)
				return
			}
			mu.Lock()
			res.Downloaded++
			res.Bytes += info.Size
			mu.Unlock()
			pr.add(info.Size, false)
		})
	}
	wg.Wait()
	pr.add(0, true)
	if len(res.Failed) > 0 {
		f := res.Failed[0]
		return res, batchErr("DownloadAll", b.name, len(res.Failed), len(objs), f.Key, f.Err)
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

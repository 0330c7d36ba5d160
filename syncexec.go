package s3kit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// syncExec carries out what the join decides: copies and comparisons on
// a bounded pool, deletions once everything else is done, and the report.
type syncExec struct {
	s       *syncer
	rep     *syncReport
	pool    *fanOut
	deletes *syncDeletes
	// incomplete: part of the source could not be listed, so nothing may
	// be deleted. Written by the join only.
	incomplete bool
}

func (s *syncer) run(ctx context.Context) (SyncResult, error) {
	if err := s.open(); err != nil {
		return SyncResult{}, err
	}
	rep := newSyncReport(s)
	// Both listings, the join and the copies share lctx: a listing that
	// fails cancels the other, the join, and the copies in flight at once.
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var g errgroup.Group
	stopOnErr := func(fn func() error) func() error {
		return func() error {
			err := fn()
			if err != nil {
				cancel(err)
			}
			return err
		}
	}
	ex := &syncExec{
		s: s, rep: rep, pool: newFanOut(lctx, s.conc),
		deletes: &syncDeletes{bound: s.opts.MaxDelete, spillAt: cmp.Or(s.spillAt, syncSpillAt), held: &s.gauges.deletes},
	}
	defer ex.deletes.close()
	src, dst := newSyncStream(&s.gauges.listed), newSyncStream(&s.gauges.listed)
	g.Go(stopOnErr(func() error { return s.produce(lctx, &s.src, true, src) }))
	g.Go(stopOnErr(func() error { return s.produce(lctx, &s.dst, false, dst) }))
	g.Go(stopOnErr(func() error { return s.join(lctx, src, dst, func(d syncDecision) { ex.apply(lctx, d) }) }))
	g.Wait()
	ex.pool.Wait()
	// The first failure, not another side's cancellation that followed.
	listErr := context.Cause(lctx)
	rep.listed()
	switch {
	case ctx.Err() != nil:
		// Cancelled: say so first, not what the cancellation broke.
		return rep.finish(wrapErr("Sync", s.bucket.name, "", ctx.Err()))
	case listErr != nil:
		return rep.finish(listErr)
	}
	if s.opts.Delete && !ex.incomplete {
		if err := ex.applyDeletes(ctx); err != nil {
			return rep.finish(err)
		}
	}
	return rep.finish(nil)
}

// apply carries out a decision of the join, on the join's goroutine:
// a copy or comparison is handed to the pool, waiting for a free worker
// (a Sync that is stopping starts nothing more); the rest is reported at
// once.
func (ex *syncExec) apply(ctx context.Context, d syncDecision) {
	s, rep := ex.s, ex.rep
	switch d.act {
	case actUnchanged:
		rep.unchanged(d.item.Size)
		return
	case actSkip:
		rep.item(SyncSkipped, d.item, nil)
		return
	case actMkdir:
		ex.mkdir(d.item.Path)
		return
	case actFail:
		ex.incomplete = ex.incomplete || d.incomplete
		rep.fail(d.err, d.item.Size)
		return
	case actDelete:
		ex.deletes.add(d.del)
		return
	case actCopy:
		rep.found(d.item.Size)
		if s.opts.DryRun {
			rep.item(SyncCopied, d.item, nil)
			return
		}
	}
	j := syncJob{SyncItem: d.item, check: d.act == actCheck, etag: d.etag}
	ex.pool.Go(func(ctx context.Context) {
		s.gauges.inFlight.add(1)
		defer s.gauges.inFlight.add(-1)
		ex.do(ctx, j)
	})
}

// do compares (with Checksum) and copies one file, and reports it.
func (ex *syncExec) do(ctx context.Context, j syncJob) {
	s, rep := ex.s, ex.rep
	if j.check {
		same, err := s.sameContent(ctx, j.Path)
		if err != nil {
			rep.fail(s.itemErr(j.Path, "compare", withCause(ctx, err), true), j.Size)
			return
		}
		if same {
			rep.unchanged(j.Size)
			return
		}
		j.Reason = syncChecksum
		rep.found(j.Size)
		if s.opts.DryRun {
			rep.item(SyncCopied, j.SyncItem, nil)
			return
		}
	}
	size, err := ex.copy(ctx, j)
	switch {
	case err == nil:
		j.Size = size
		rep.item(SyncCopied, j.SyncItem, nil)
	case s.opts.NoClobber && errors.Is(err, fs.ErrExist):
		// Written by someone else since the listing: kept, as asked. Every
		// write maps a create-only conflict to ErrExist; what is left as
		// ErrPreconditionFailed is the source replaced since the listing
		// or its HEAD (a failure), or a conflicting write in flight.
		j.Reason = syncExists
		rep.item(SyncSkipped, j.SyncItem, nil)
	default:
		rep.fail(s.itemErr(j.Path, s.copyStep(), withCause(ctx, err), true), j.Size)
	}
}

// withCause returns the cause of ctx's cancellation in place of err if err is
// only that cancellation: the failed listing that stopped a copy, rather
// than "context canceled".
func withCause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && errors.Is(err, context.Canceled) && !errors.Is(c, context.Canceled) {
		return fmt.Errorf("%w (stopped: %w)", err, c)
	}
	return err
}

// mkdir creates the local directory of a marker key.
func (ex *syncExec) mkdir(marker string) {
	s := ex.s
	if s.opts.DryRun {
		return
	}
	name, err := localName(marker)
	if err == nil {
		err = s.dst.root.MkdirAll(name, 0o777)
	}
	if err != nil {
		ex.rep.fail(s.itemErr(marker, "download", err, true), 0)
	}
}

// copy copies one file and returns its size.
func (ex *syncExec) copy(ctx context.Context, it syncJob) (int64, error) {
	rep := ex.rep
	var counted atomic.Int64 // bytes of this file passed to the progress
	topts := &TransferOptions{Put: ex.s.opts.Put}
	if ex.s.opts.NoClobber {
		o := PutOptions{}
		if topts.Put != nil {
			o = *topts.Put
		}
		o.IfNoneMatch = "*"
		topts.Put = &o
	}
	if rep.progress != nil {
		topts.Progress = func(p Progress) { rep.bytes(p.Done - counted.Swap(p.Done)) }
	}
	size, err := ex.transfer(ctx, it, topts, &counted)
	if err == nil {
		rep.bytes(size - counted.Load())
	}
	rep.fileDone()
	return size, err
}

// transfer copies one file. A download is pinned to the ETag listed, as
// DownloadAll's are: an object replaced since the listing fails with
// ErrPreconditionFailed rather than land under the listed size and time.
func (ex *syncExec) transfer(ctx context.Context, it syncJob, topts *TransferOptions, counted *atomic.Int64) (int64, error) {
	s, p := ex.s, it.Path
	var listed *ObjectInfo
	if it.etag != "" {
		listed = &ObjectInfo{ETag: it.etag}
	}
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
		if s.opts.NoClobber {
			return ex.downloadNew(ctx, p, listed, topts)
		}
		info, err := s.src.b.downloadTo(ctx, "Sync", p, s.dst.root, p, listed, true, topts)
		return info.Size, err
	case s.src.b.c == s.dst.b.c:
		_, err := s.src.b.copy(ctx, "Sync", p, s.dst.b.prefix+p, s.copyOpts)
		return it.Size, err
	}
	return ex.stream(ctx, p, topts.Put, counted)
}

// downloadNew downloads p only where no file is: into a temporary file,
// then given its name by placeNew, which fails if anything is there, so
// that a file created since the listing is kept.
func (ex *syncExec) downloadNew(ctx context.Context, p string, listed *ObjectInfo, topts *TransferOptions) (int64, error) {
	s := ex.s
	root := s.dst.root
	f, tmp, err := createTemp(root, p)
	if err != nil {
		return 0, err
	}
	f.Close()
	defer root.Remove(tmp)
	info, err := s.src.b.downloadTo(ctx, "Sync", p, root, tmp, listed, true, topts)
	if err != nil {
		return 0, err
	}
	if err := placeNew(root, tmp, p); err != nil {
		return 0, s.src.b.fail("Sync", s.src.b.prefix+p, err)
	}
	if err := syncDir(root, path.Dir(p)); err != nil {
		return info.Size, s.src.b.fail("Sync", s.src.b.prefix+p, fmt.Errorf("%s is in place, but flushing its directory failed: %w", p, err))
	}
	return info.Size, nil
}

// stream copies the object at p between buckets of two Clients through
// this process: a verified, parallel read into a parallel write.
func (ex *syncExec) stream(ctx context.Context, p string, put *PutOptions, counted *atomic.Int64) (int64, error) {
	s, rep := ex.s, ex.rep
	r, err := s.src.b.NewReader(ctx, p, nil)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	in := r.Info()
	wo := &WriterOptions{Size: r.Size()}
	if put != nil {
		wo.PutOptions = *put
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
	if rep.progress != nil {
		dst = syncCounter{w, func(n int64) { counted.Add(n); rep.bytes(n) }}
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

// applyDeletes deletes the extraneous files of the destination, as
// listed, in batches of MaxDeleteBatch: none if there are more than
// MaxDelete. An object is deleted only while it has the ETag listed, so
// that one written meanwhile is kept (on stores that honour the
// condition).
func (ex *syncExec) applyDeletes(ctx context.Context) error {
	s, ds := ex.s, ex.deletes
	if ds.bound > 0 && ds.n > ds.bound {
		return &Error{Op: "Sync", Bucket: s.bucket.name, Err: fmt.Errorf("%w: %d files to delete, more than MaxDelete (%d); none deleted", ErrTooManyDeletes, ds.n, ds.bound)}
	}
	pool := newFanOut(ctx, min(s.conc, 4))
	err := ds.each(MaxDeleteBatch, func(batch []syncDelete) bool {
		switch {
		case s.opts.DryRun:
			for _, d := range batch {
				ex.rep.item(SyncDeleted, SyncItem{Path: d.path, Size: d.size}, nil)
			}
			return true
		case s.dst.b == nil:
			for _, d := range batch {
				err := ctx.Err()
				if err == nil {
					if err = s.dst.root.Remove(filepath.FromSlash(d.path)); errors.Is(err, fs.ErrNotExist) {
						err = nil
					}
				}
				if err != nil {
					ex.rep.fail(s.itemErr(d.path, "delete", err, false), d.size)
				} else {
					ex.rep.item(SyncDeleted, SyncItem{Path: d.path, Size: d.size}, nil)
				}
			}
			return ctx.Err() == nil
		}
		return pool.Go(func(ctx context.Context) { ex.deleteObjects(ctx, batch) })
	})
	pool.Wait()
	if err != nil {
		return wrapErr("Sync", s.bucket.name, "", err)
	}
	return ctx.Err()
}

// deleteObjects deletes one batch of objects, each while it has the ETag
// listed.
func (ex *syncExec) deleteObjects(ctx context.Context, batch []syncDelete) {
	s := ex.s
	full, etags := make([]string, len(batch)), make([]string, len(batch))
	for i, d := range batch {
		full[i], etags[i] = s.dst.b.prefix+d.path, d.etag
	}
	// Where the store ignores the ETags of a batch delete, each is
	// checked just before.
	full, etags, failed := s.dst.b.keepUnchanged(ctx, "Sync", full, etags)
	if len(full) > 0 {
		_, f := s.dst.b.deleteBatch(ctx, "Sync", full, etags)
		failed = append(failed, f...)
	}
	bad := make(map[string]bool, len(failed))
	for _, f := range failed {
		bad[f.Key] = true
	}
	for _, d := range batch {
		if !bad[d.path] {
			ex.rep.item(SyncDeleted, SyncItem{Path: d.path, Size: d.size}, nil)
		}
	}
	for _, f := range failed {
		step := "delete"
		if errors.Is(f.Err, ErrPreconditionFailed) {
			step = "delete: changed since it was listed, so it was kept"
		}
		size := int64(0)
		if i := slices.IndexFunc(batch, func(d syncDelete) bool { return d.path == f.Key }); i >= 0 {
			size = batch[i].size
		}
		ex.rep.fail(s.itemErr(f.Key, step, f.Err, true), size)
	}
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

// syncReport gathers the outcome of a Sync: its counts, its lists if
// recorded, its failures, the OnItem calls and the progress. Its methods
// are safe for concurrent use, and call OnItem and Progress under its
// lock, so from one goroutine at a time.
type syncReport struct {
	s        *syncer
	mu       sync.Mutex
	res      SyncResult
	onItem   func(SyncEvent)
	progress func(SyncProgress)
	start    time.Time
	last     time.Time
	p        SyncProgress
}

func newSyncReport(s *syncer) *syncReport {
	r := &syncReport{s: s, onItem: s.opts.OnItem, start: time.Now()}
	if !s.opts.DryRun {
		r.progress = s.opts.Progress
	}
	r.p.Listing = true
	return r
}

// item reports a file copied, deleted or skipped (err nil), or failed
// (err a KeyError).
func (r *syncReport) item(op SyncOp, it SyncItem, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &r.res
	var c *SyncCount
	switch op {
	case SyncCopied:
		c = &res.Copied
		if r.s.opts.Record {
			res.CopiedItems = append(res.CopiedItems, it)
		}
	case SyncDeleted:
		c = &res.Deleted
		if r.s.opts.Record {
			res.DeletedItems = append(res.DeletedItems, it)
		}
	case SyncSkipped:
		c = &res.Skipped
		if r.s.opts.Record {
			res.SkippedItems = append(res.SkippedItems, it)
		}
	case SyncFailed:
		c = &res.Failed
		if r.s.opts.Record || len(res.Failures) < maxSyncFailed {
			res.Failures = append(res.Failures, err.(KeyError))
		}
	}
	c.Files++
	c.Bytes += it.Size
	if r.onItem != nil {
		r.onItem(SyncEvent{SyncItem: it, Op: op, Err: err})
	}
}

func (r *syncReport) fail(ke KeyError, size int64) {
	r.item(SyncFailed, SyncItem{Path: ke.Key, Size: size}, ke)
}

func (r *syncReport) unchanged(size int64) {
	r.mu.Lock()
	r.res.Unchanged.Files++
	r.res.Unchanged.Bytes += size
	r.mu.Unlock()
}

// found counts a file to copy into the progress's totals.
func (r *syncReport) found(size int64) { r.advance(0, 1, size, 0, false) }

// bytes counts n bytes copied.
func (r *syncReport) bytes(n int64) { r.advance(0, 0, 0, n, false) }

// fileDone counts a file done, copied or failed.
func (r *syncReport) fileDone() { r.advance(1, 0, 0, 0, false) }

// listed marks the listings ended, and reports the final progress.
func (r *syncReport) listed() { r.advance(0, 0, 0, 0, true) }

func (r *syncReport) advance(files, found int, total, done int64, final bool) {
	if r.progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.p.Files += files
	r.p.FilesTotal += found
	r.p.Total += total
	r.p.Done += done
	if final {
		r.p.Listing = false
	}
	now := time.Now()
	if !final && now.Sub(r.last) < progressEvery {
		return
	}
	r.last = now
	r.p.Progress = progressAt(r.p.Done, r.p.Total, r.start, now)
	r.progress(r.p)
}

// finish returns the result, its lists sorted, with err, or else the
// error that sums up the failures.
func (r *syncReport) finish(err error) (SyncResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.res
	byPath := func(a, b SyncItem) int { return strings.Compare(a.Path, b.Path) }
	slices.SortFunc(res.CopiedItems, byPath)
	slices.SortFunc(res.DeletedItems, byPath)
	slices.SortFunc(res.SkippedItems, byPath)
	slices.SortStableFunc(res.Failures, func(a, b KeyError) int { return strings.Compare(a.Key, b.Key) })
	if err != nil || len(res.Failures) == 0 {
		return res, err
	}
	first := res.Failures[0]
	total := res.Copied.Files + res.Deleted.Files + res.Failed.Files
	return res, batchErr("Sync", r.s.bucket.name, res.Failed.Files, total, first.Key, first.Err)
}

package s3kit

import (
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
		info, err := s.src.b.downloadTo(ctx, "Sync", p, s.dst.root, p, nil, topts)
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

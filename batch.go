package s3kit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// KeyError is the failure of one key of a batch operation.
type KeyError struct {
	Key  string // relative to the handle
	Code string // the S3 error code, such as "AccessDenied"; empty if the request failed as a whole
	Err  error  // an *Error
}

func (e KeyError) Error() string { return e.Err.Error() }
func (e KeyError) Unwrap() error { return e.Err }

// DeleteResult is the outcome of DeleteMany and DeleteAll.
type DeleteResult struct {
	Deleted int        // keys deleted (or already absent)
	Failed  []KeyError // keys not deleted, each with why
}

// batchErr returns nil if nothing failed, else an *Error that says how
// many of total failed and wraps the first failure, so errors.Is sees its
// kind. The caller finds every failure in the result.
func batchErr(op, bucket string, failed int, total int, firstKey string, firstErr error) error {
	if failed == 0 {
		return nil
	}
	return &Error{Op: op, Bucket: bucket,
		Err: fmt.Errorf("%d of %d failed, the first at %q: %w", failed, total, firstKey, firstErr)}
}

// DeleteMany deletes the objects at keys, up to 1,000 per request
// (several requests run at once for more), and reports each key that
// could not be deleted. Keys that do not exist count as deleted. The error
// is non-nil if any key failed; the result then lists them all, so the
// caller can retry only those. Every key is checked before any request is
// sent.
func (b *Bucket) DeleteMany(ctx context.Context, keys []string) (DeleteResult, error) {
	full := make([]string, len(keys))
	for i, k := range keys {
		f, err := b.key(k)
		if err != nil {
			return DeleteResult{}, b.fail("DeleteMany", f, err)
		}
		full[i] = f
	}
	return b.deleteKeys(ctx, "DeleteMany", full, nil)
}

// keepUnchanged returns the keys of a batch delete pinned to etags that
// still have their ETag, with their ETags, and the others as failures. It
// checks each (checkETag), in parallel, only on a store that ignores the
// ETags of a batch delete (StoreProfile); elsewhere, or with no etags, it
// returns the batch as it is.
func (b *Bucket) keepUnchanged(ctx context.Context, op string, full, etags []string) ([]string, []string, []KeyError) {
	if etags == nil || b.c.storeProfile(ctx).ConditionalBatchDelete {
		return full, etags, nil
	}
	errs := make([]error, len(full))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.c.concurrency)
	for i := range full {
		g.Go(func() error {
			errs[i] = b.checkETag(gctx, op, full[i], etags[i])
			return nil
		})
	}
	_ = g.Wait()
	var keep, keepTags []string
	var changed []KeyError
	for i, err := range errs {
		if err != nil {
			changed = append(changed, KeyError{Key: b.rel(full[i]), Err: err})
			continue
		}
		keep, keepTags = append(keep, full[i]), append(keepTags, etags[i])
	}
	return keep, keepTags, changed
}

// deleteKeys deletes the objects at the full keys as DeleteMany does. If
// etags is not nil, each key whose etags entry is not empty is deleted
// only while its ETag is that one: a changed object is reported as failed
// with ErrPreconditionFailed and kept, by the store where it honours the
// condition, else by a check just before the delete (keepUnchanged), which
// leaves a short window.
func (b *Bucket) deleteKeys(ctx context.Context, op string, full, etags []string) (DeleteResult, error) {
	var (
		mu  sync.Mutex
		res DeleteResult
		wg  sync.WaitGroup
		sem = make(chan struct{}, min(b.c.concurrency, 4))
	)
	for start := 0; start < len(full); start += MaxDeleteBatch {
		end := min(start+MaxDeleteBatch, len(full))
		chunk := full[start:end]
		var tags []string
		if etags != nil {
			tags = etags[start:end]
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			err := wrapErr(op, b.name, "", ctx.Err())
			mu.Lock()
			for _, k := range full[start:] {
				res.Failed = append(res.Failed, KeyError{Key: b.rel(k), Err: err})
			}
			mu.Unlock()
			start = len(full)
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			chunk, tags, failed := b.keepUnchanged(ctx, op, chunk, tags)
			deleted := 0
			if len(chunk) > 0 {
				var f []KeyError
				deleted, f = b.deleteBatch(ctx, op, chunk, tags)
				failed = append(failed, f...)
			}
			mu.Lock()
			res.Deleted += deleted
			res.Failed = append(res.Failed, failed...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(res.Failed) > 0 {
		f := res.Failed[0]
		return res, batchErr(op, b.name, len(res.Failed), len(full), f.Key, f.Err)
	}
	return res, nil
}

// deleteBatch sends one DeleteObjects request for at most 1,000 full keys,
// each with the condition of its entry of etags (see deleteKeys).
func (b *Bucket) deleteBatch(ctx context.Context, op string, full, etags []string) (int, []KeyError) {
	ids := make([]types.ObjectIdentifier, len(full))
	for i := range full {
		ids[i] = types.ObjectIdentifier{Key: aws.String(full[i])}
		if etags != nil {
			ids[i].ETag = optString(etags[i])
		}
	}
	out, err := b.c.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: aws.String(b.name),
		Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
	})
	if err != nil {
		err = wrapErr(op, b.name, "", err)
		failed := make([]KeyError, len(full))
		for i, k := range full {
			failed[i] = KeyError{Key: b.rel(k), Err: err}
		}
		return 0, failed
	}
	var failed []KeyError
	for _, e := range out.Errors {
		key, code := aws.ToString(e.Key), aws.ToString(e.Code)
		if code == "NoSuchKey" { // absent is what was asked for
			continue
		}
		ke := &Error{Op: op, Bucket: b.name, Key: key, Code: code, Message: aws.ToString(e.Message)}
		if ke.Err = classify(0, code); ke.Err == nil {
			ke.Err = errors.New(cmp.Or(ke.Message, code))
		}
		failed = append(failed, KeyError{Key: b.rel(key), Code: code, Err: ke})
	}
	return len(full) - len(failed), failed
}

// DeleteAll deletes every object under the handle's prefix (the whole
// bucket for an unscoped handle), listing and deleting a page at a time.
// On a versioned bucket it deletes the current versions only, leaving
// delete markers. The error is non-nil if the listing failed or any key
// could not be deleted; the result says how far it got.
func (b *Bucket) DeleteAll(ctx context.Context) (DeleteResult, error) {
	var res DeleteResult
	page := make([]string, 0, MaxDeleteBatch)
	flush := func() {
		deleted, failed := b.deleteBatch(ctx, "DeleteAll", page, nil)
		res.Deleted += deleted
		res.Failed = append(res.Failed, failed...)
		page = page[:0]
	}
	for info, err := range b.List(ctx, &ListOptions{withSelf: true}) {
		if err != nil {
			return res, err
		}
		page = append(page, b.prefix+info.Key)
		if len(page) == MaxDeleteBatch {
			flush()
		}
	}
	if len(page) > 0 {
		flush()
	}
	if len(res.Failed) > 0 {
		f := res.Failed[0]
		return res, batchErr("DeleteAll", b.name, len(res.Failed), res.Deleted+len(res.Failed), f.Key, f.Err)
	}
	return res, nil
}

// CopyPair names one copy of a batch: Src to Dst, both relative to the
// handle (Dst is a full key when the options name a DestBucket).
type CopyPair struct{ Src, Dst string }

// CopyError is the failure of one pair of CopyMany.
type CopyError struct {
	CopyPair
	Err error // an *Error
}

func (e CopyError) Error() string { return e.Err.Error() }
func (e CopyError) Unwrap() error { return e.Err }

// CopyResult is the outcome of CopyMany.
type CopyResult struct {
	Copied int
	Failed []CopyError // in the order of the pairs given
}

// Pairs returns the pairs that failed, to pass to CopyMany again.
func (r CopyResult) Pairs() []CopyPair {
	ps := make([]CopyPair, len(r.Failed))
	for i, f := range r.Failed {
		ps[i] = f.CopyPair
	}
	return ps
}

// BatchOptions are the options of CopyMany. nil means defaults.
type BatchOptions struct {
	// Concurrency is how many copies run at once; 0 means the Client's.
	Concurrency int
	// Copy applies to every pair.
	Copy *CopyOptions
}

// CopyMany copies each pair on the server, several at once, and reports
// each pair that failed. The error is non-nil if any pair failed; retry
// only those with CopyMany(ctx, res.Pairs(), opts). Every key and option
// is checked before any request is sent. Cancelling ctx stops starting new
// copies; the pairs not started are reported as failed with ctx's error.
func (b *Bucket) CopyMany(ctx context.Context, pairs []CopyPair, opts *BatchOptions) (CopyResult, error) {
	return b.copyMany(ctx, "CopyMany", pairs, nil, opts)
}

// copyMany is CopyMany, with each pair's copy pinned to the source ETag
// of its entry of ifMatch if that is not nil (overriding opts.Copy's).
func (b *Bucket) copyMany(ctx context.Context, op string, pairs []CopyPair, ifMatch []string, opts *BatchOptions) (CopyResult, error) {
	if opts == nil {
		opts = &BatchOptions{}
	}
	if opts.Concurrency < 0 {
		return CopyResult{}, b.fail(op, "", invalidf("Concurrency %d is negative", opts.Concurrency))
	}
	if err := opts.Copy.validate(); err != nil {
		return CopyResult{}, b.fail(op, "", err)
	}
	dst := b
	if opts.Copy != nil && opts.Copy.DestBucket != "" {
		dst = b.c.Bucket(opts.Copy.DestBucket)
	}
	for _, p := range pairs {
		if f, err := b.key(p.Src); err != nil {
			return CopyResult{}, b.fail(op, f, err)
		}
		if f, err := dst.key(p.Dst); err != nil {
			return CopyResult{}, dst.fail(op, f, err)
		}
	}
	n := opts.Concurrency
	if n == 0 {
		n = b.c.concurrency
	}
	errs := make([]error, len(pairs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, n)
	for i, p := range pairs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = wrapErr(op, b.name, b.prefix+p.Src, ctx.Err())
			continue
		}
		co := opts.Copy
		if ifMatch != nil && ifMatch[i] != "" {
			o := CopyOptions{}
			if co != nil {
				o = *co
			}
			o.IfMatch = ifMatch[i]
			co = &o
		}
		wg.Go(func() {
			defer func() { <-sem }()
			_, errs[i] = b.copy(ctx, op, p.Src, p.Dst, co)
		})
	}
	wg.Wait()
	var res CopyResult
	for i, err := range errs {
		if err != nil {
			res.Failed = append(res.Failed, CopyError{CopyPair: pairs[i], Err: err})
		} else {
			res.Copied++
		}
	}
	if len(res.Failed) > 0 {
		f := res.Failed[0]
		return res, batchErr(op, b.name, len(res.Failed), len(pairs), f.Src, f.Err)
	}
	return res, nil
}

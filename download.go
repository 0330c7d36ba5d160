package s3kit

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
)

// downloadCopyBuffer is the buffer through which each range of a download
// passes from its response body to its offset in the destination: all a
// range in flight holds, whatever the part size.
const downloadCopyBuffer = 256 << 10

// DownloadTo downloads the object at key into w, each byte at its own
// offset (the object's byte n goes to offset n), and returns what the
// store reported of the object. Ranges of TransferOptions.PartSize are
// fetched by Concurrency GETs at once and written with WriteAt straight
// from the response bodies, from several goroutines at disjoint offsets
// (which io.WriterAt allows; an *os.File does it safely). w is not
// truncated: bytes beyond the object's size stay as they were.
//
// The first GET asks for the whole object, so that an object of one range
// costs one request and no HEAD; it answers with the object's size, ETag
// and full-object checksum, and every later request is pinned to that
// ETag (If-Match): an object replaced mid-download is
// ErrPreconditionFailed, never a mix of two versions. For a larger object
// that first GET supplies the first range only and is then closed, so the
// bytes the store had already sent beyond it (at most what the
// connection buffers) are lost. A connection broken mid-body resumes from
// its last byte. The checksum (CRC64NVME, CRC32C or CRC32, whichever the
// store reports) is computed as the bytes pass and combined across ranges;
// a mismatch is ErrChecksum. A composite checksum (a multipart upload's
// CRC32 or CRC32C of its parts' CRCs, as the aws CLI writes) is verified
// too, part by part: for one of several parts, that costs requests made
// after the first GET to learn where the parts are (one
// GetObjectAttributes per 1,000 parts, or, where the store refuses it, a
// HEAD per part); if the store does not tell, the bytes are not verified. ObjectInfo.Verified
// names the checksum the bytes matched, and is empty if none was checked.
//
// On any error, including a cancelled ctx, DownloadTo returns once no
// range writes to w any more; w may then hold part of the object, or all
// of it with a wrong checksum, and is the caller's to discard. Download
// writes to a file only through a temporary file, so that this cannot
// show.
func (b *Bucket) DownloadTo(ctx context.Context, key string, w io.WriterAt, opts *TransferOptions) (ObjectInfo, error) {
	const op = "DownloadTo"
	full, err := b.key(key)
	if err == nil && w == nil {
		err = invalidf("the io.WriterAt is nil")
	}
	if err != nil {
		return ObjectInfo{}, b.fail(op, full, err)
	}
	d, err := b.newDownload(op, full, opts)
	if err != nil {
		return ObjectInfo{}, err
	}
	info, err := d.run(ctx, w, "")
	if err != nil {
		return ObjectInfo{}, err
	}
	d.pr.add(0, true)
	return info, nil
}

// download is one object's transfer into an io.WriterAt by parallel
// ranges (DownloadTo, and Download through its temporary file).
type download struct {
	b        *Bucket
	op, full string
	part     int64
	conc     int
	progress func(Progress)
	// file, if set, is the destination as a file, whose write-back is
	// started as ranges are written (see writeback.go).
	file *os.File

	pr *progress // made once the size is known
}

// newDownload checks the options of a download of full.
func (b *Bucket) newDownload(op, full string, opts *TransferOptions) (*download, error) {
	opts = cmp.Or(opts, &TransferOptions{})
	var err error
	switch {
	case opts.PartSize != 0 && opts.PartSize < 64<<10:
		err = invalidf("PartSize %d is below 64 KiB", opts.PartSize)
	case opts.Concurrency < 0:
		err = invalidf("Concurrency %d is negative", opts.Concurrency)
	}
	if err != nil {
		return nil, b.fail(op, full, err)
	}
	return &download{
		b: b, op: op, full: full,
		part:     cmp.Or(opts.PartSize, b.c.partSize),
		conc:     max(cmp.Or(opts.Concurrency, b.c.concurrency), 1),
		progress: opts.Progress,
	}, nil
}

// run downloads the object into w. etag, if not empty, pins even the
// first request to that version (the ETag a listing gave).
func (d *download) run(ctx context.Context, w io.WriterAt, etag string) (ObjectInfo, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	first, out, err := d.b.openRange(ctx, d.op, d.full, etag, "", 0, -1)
	if err != nil {
		return ObjectInfo{}, err
	}
	info := d.b.infoOfGet(d.full, out)
	// The ranges are checksummed here, each on its own, and combined.
	verify := first.check
	first.check = nil
	size := first.end
	d.pr = newProgress(d.progress, max(size, 0))
	if size < 0 || first.etag == "" || size <= d.part {
		// One range, or a store that gives no length or no ETag to pin
		// further ranges to: the first body is the whole download.
		defer first.Close()
		spans, n, err := d.copyRange(w, first, 0, verify)
		if err != nil {
			return ObjectInfo{}, err
		}
		info.Size = n
		return info, d.check(&info, verify, spans)
	}
	first.end = d.part

	var (
		g      errgroup.Group
		mu     sync.Mutex
		failed error
	)
	fail := func(err error) error {
		mu.Lock()
		if failed == nil {
			failed = err
			cancel() // the other ranges are of no use now
		}
		mu.Unlock()
		return err
	}
	n := (size + d.part - 1) / d.part
	pieces := make([][]crcSpan, n)
	g.SetLimit(d.conc)
	g.Go(func() error {
		defer first.Close() // early: the rest of its body is other ranges'
		spans, _, err := d.copyRange(w, first, 0, verify)
		pieces[0] = spans
		if err != nil {
			return fail(err)
		}
		return nil
	})
	next := int64(1)
	for ; next < n && ctx.Err() == nil; next++ {
		i := next
		g.Go(func() error {
			start := i * d.part
			end := min(start+d.part, size)
			body, _, err := d.b.openRange(ctx, d.op, d.full, first.etag, "", start, end)
			if err != nil {
				return fail(err)
			}
			defer body.Close()
			spans, _, err := d.copyRange(w, body, start, verify)
			pieces[i] = spans
			if err != nil {
				return fail(err)
			}
			return nil
		})
	}
	g.Wait()
	if failed != nil {
		return ObjectInfo{}, failed
	}
	if next < n {
		// Cancelled before every range was started.
		return ObjectInfo{}, d.b.fail(d.op, d.full, context.Cause(ctx))
	}
	return info, d.check(&info, verify, slices.Concat(pieces...))
}

// copyRange copies body, whose first byte is the object's byte at off,
// into w at its offsets through one copy buffer, and returns the CRCs of
// the bytes (if verify is set) and their number.
func (d *download) copyRange(w io.WriterAt, body *rangeBody, off int64, verify *crcCheck) ([]crcSpan, int64, error) {
	size := int64(downloadCopyBuffer)
	if body.end >= 0 {
		size = max(min(size, body.end-off), 1)
	}
	buf, err := d.b.c.pool.get(body.ctx, int(size))
	if err != nil {
		return nil, 0, d.b.fail(d.op, d.full, err)
	}
	defer d.b.c.pool.put(buf)
	var spans []crcSpan
	start, flushed := off, off
	for {
		n, rerr := io.ReadFull(body, buf)
		if n > 0 {
			if _, err := w.WriteAt(buf[:n], off); err != nil {
				return nil, off - start, d.b.fail(d.op, d.full, err)
			}
			if verify != nil {
				spans = verify.add(spans, off, buf[:n])
			}
			off += int64(n)
			d.pr.add(int64(n), false)
			if d.file != nil && off-flushed >= writeBehindChunk {
				startWriteback(d.file, flushed, off-flushed)
				flushed = off
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			// rangeBody ends with io.EOF only where its range ends.
			break
		}
		if rerr != nil {
			return nil, off - start, rerr
		}
	}
	if d.file != nil && off > flushed {
		startWriteback(d.file, flushed, off-flushed)
	}
	return spans, off - start, nil
}

// check compares the CRCs of the spans, the whole object's, with the
// store's checksum, if it reported one that can be checked, and records
// in info what was verified.
func (d *download) check(info *ObjectInfo, verify *crcCheck, spans []crcSpan) error {
	if verify == nil {
		return nil
	}
	if msg := verify.mismatch(spans, info.Size); msg != "" {
		return &Error{Op: d.op, Bucket: d.b.name, Key: d.full, Err: fmt.Errorf("%w: %s", ErrChecksum, msg)}
	}
	info.Verified = verify.name()
	return nil
}

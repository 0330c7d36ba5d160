package s3kit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// WriterOptions are the options of NewWriter. nil means defaults.
type WriterOptions struct {
	// PutOptions apply to the object as to Put: content type, metadata,
	// tags, ACL, storage class, encryption, IfNoneMatch and IfMatch.
	PutOptions
	// PartSize is the size of each part; 0 means the Client's. For an
	// unknown size it doubles every 900 parts so that 10,000 parts reach
	// MaxObjectSize.
	PartSize int64
	// Concurrency is how many parts upload at once while the caller keeps
	// writing; 0 means the Client's.
	Concurrency int
	// Size, if known (> 0), is the object's size; the part size is then
	// raised as needed for it to fit in 10,000 parts, and a size over
	// MaxObjectSize fails before anything is sent.
	Size int64
}

// Writer writes an object. Nothing is visible in the bucket until Close
// returns nil: a body of at most one part goes in one PUT on Close; a
// larger one streams as a multipart upload whose parts upload in parallel
// while the caller writes, in buffers taken from the Client's memory
// budget (Write waits when it is spent).
//
// If a part fails after its retries, if the Writer's context is cancelled,
// or if Abort is called, the multipart upload is aborted: no object and no
// orphaned parts are left, and Write and Close return the cause.
//
// A Writer keeps the context it was made with for all its requests. It is
// not safe for concurrent use; to stop one from another goroutine, cancel
// its context: the next Write or Close aborts the upload.
type Writer struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	b      *Bucket
	full   string
	opts   WriterOptions
	cs     *checksummer
	slots  chan struct{}
	// fallbackType is the content type when neither the options nor the
	// key's extension give one.
	fallbackType string
	progress     *progress // Upload's; nil otherwise

	buf     []byte // the part being filled; nil between parts
	n       int    // bytes in buf
	written int64
	part    int32 // parts started
	upload  string
	wg      sync.WaitGroup

	mu     sync.Mutex
	err    error     // first failure
	parts  []partRes // by part number - 1
	closed bool
	result error
	info   ObjectInfo
}

type partRes struct {
	etag     string
	crc      uint64
	size     int64
	checksum string
}

var errWriterClosed = errors.New("writer is closed")

// NewWriter returns a Writer for key. Its options are checked at once; no
// request is sent before the first part is full or Close is called.
func (b *Bucket) NewWriter(ctx context.Context, key string, opts *WriterOptions) (*Writer, error) {
	full, err := b.key(key)
	if err != nil {
		return nil, b.fail("NewWriter", full, err)
	}
	w := &Writer{b: b, full: full, cs: b.c.checksum, fallbackType: typeBinary}
	if opts != nil {
		w.opts = *opts
	}
	w.opts.PutOptions = *b.putOptions(&w.opts.PutOptions)
	if err := w.opts.PutOptions.validate(); err != nil {
		return nil, b.fail("NewWriter", full, err)
	}
	if err := w.setup(); err != nil {
		return nil, b.fail("NewWriter", full, err)
	}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	return w, nil
}

// setup checks and completes the sizes and concurrency of the options.
func (w *Writer) setup() error {
	o := &w.opts
	if o.Concurrency < 0 {
		return invalidf("Concurrency %d is negative", o.Concurrency)
	}
	if o.Concurrency == 0 {
		o.Concurrency = w.b.c.concurrency
	}
	if o.Size < 0 {
		return invalidf("Size %d is negative", o.Size)
	}
	if o.Size > MaxObjectSize {
		return invalidf("size %d is over the largest object S3 stores (%d, 5 TiB)", o.Size, int64(MaxObjectSize))
	}
	if o.PartSize == 0 {
		o.PartSize = w.b.c.partSize
	}
	if o.PartSize < MinPartSize || o.PartSize > MaxPartSize {
		return invalidf("PartSize %d is not between %d (5 MiB) and %d (5 GiB)", o.PartSize, MinPartSize, int64(MaxPartSize))
	}
	if o.Size > 0 {
		o.PartSize = partSizeFor(o.Size, o.PartSize)
	}
	if o.PartSize > w.b.c.pool.limit && o.Size == 0 {
		return invalidf("PartSize %d is larger than the Client's MemoryLimit %d", o.PartSize, w.b.c.pool.limit)
	}
	w.slots = make(chan struct{}, o.Concurrency)
	return nil
}

// partSizeFor returns the smallest part size ≥ min, rounded up to a MiB,
// with which size fits in MaxParts parts.
func partSizeFor(size, min int64) int64 {
	need := (size + MaxParts - 1) / MaxParts
	need = (need + 1<<20 - 1) &^ (1<<20 - 1)
	return max(min, need)
}

// partSizeAt returns the size of part n (1-based) of an upload of unknown
// size: the base size doubled every 900 parts, so that 10,000 parts hold
// more than MaxObjectSize even from the 5 MiB minimum, while the first
// 7 GiB (at 8 MiB) go in parts of the base size.
func (w *Writer) partSizeAt(n int32) int64 {
	if w.opts.Size > 0 {
		return w.opts.PartSize
	}
	return min(w.opts.PartSize<<((n-1)/900), MaxPartSize)
}

// Write writes p to the object. It returns an error if an earlier part
// failed, the context was cancelled, or the Writer is closed.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.failure(); err != nil {
		return 0, err
	}
	written := 0
	for len(p) > 0 {
		if w.buf == nil {
			if err := w.nextBuffer(); err != nil {
				return written, w.fail(err)
			}
		}
		c := copy(w.buf[w.n:], p)
		w.n += c
		written += c
		p = p[c:]
		if w.n == len(w.buf) {
			if err := w.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// ReadFrom writes everything r holds to the object. A source that is an
// io.ReaderAt of known size (an *os.File, *bytes.Reader, io.SectionReader),
// given to a Writer nothing has been written to yet, is uploaded in
// parallel parts read straight from it, without buffering; any other
// source is read directly into the part buffers.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if err := w.failure(); err != nil {
		return 0, err
	}
	var total int64
	if w.written == 0 && w.upload == "" && w.n == 0 {
		if ra, off, size, ok := readerAtSize(r); ok && size > w.opts.PartSize {
			// Whole parts go straight from the source; the rest goes
			// through the buffer below, so that later writes follow it.
			ps := partSizeFor(size, w.opts.PartSize)
			whole := size - size%ps
			if err := w.create(); err != nil {
				return 0, w.fail(err)
			}
			if err := w.uploadParts(ra, off, whole, ps); err != nil {
				return 0, w.fail(err)
			}
			if whole == size {
				return size, nil
			}
			total = whole
			r = io.NewSectionReader(ra, off+whole, size-whole)
		}
	}
	for {
		if w.buf == nil {
			if err := w.nextBuffer(); err != nil {
				return total, w.fail(err)
			}
		}
		n, err := io.ReadFull(r, w.buf[w.n:])
		w.n += n
		total += int64(n)
		if w.n == len(w.buf) {
			if ferr := w.flush(); ferr != nil {
				return total, ferr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return total, nil
		}
		if err != nil {
			return total, w.fail(err)
		}
	}
}

// nextBuffer takes the buffer of the next part from the memory budget.
func (w *Writer) nextBuffer() error {
	size := w.partSizeAt(w.part + 1)
	buf, err := w.b.c.pool.get(w.ctx, int(size))
	if err != nil {
		return context.Cause(w.ctx)
	}
	w.buf, w.n = buf, 0
	return nil
}

// flush starts the upload of the filled buffer as the next part.
func (w *Writer) flush() error {
	data := w.buf[:w.n]
	w.buf = nil
	if w.written+int64(len(data)) > MaxObjectSize {
		w.b.c.pool.put(data)
		return w.fail(invalidf("object is over the largest S3 stores (%d bytes, 5 TiB)", int64(MaxObjectSize)))
	}
	if w.part+1 > MaxParts {
		w.b.c.pool.put(data)
		return w.fail(invalidf("object needs more than %d parts; set WriterOptions.Size or a larger PartSize", MaxParts))
	}
	if w.upload == "" {
		if err := w.create(); err != nil {
			w.b.c.pool.put(data)
			return w.fail(err)
		}
	}
	w.written += int64(len(data))
	w.part++
	num := w.part
	select {
	case w.slots <- struct{}{}:
	case <-w.ctx.Done():
		w.b.c.pool.put(data)
		return w.fail(context.Cause(w.ctx))
	}
	w.wg.Go(func() {
		defer func() { <-w.slots }()
		defer w.b.c.pool.put(data)
		// The CRC is computed here, in parallel with the other parts, not
		// on the writer's goroutine.
		res, err := w.uploadPart(num, bytes.NewReader(data), int64(len(data)), w.crcOf(data))
		if err != nil {
			w.fail(err)
			return
		}
		w.record(num, res)
		w.progress.add(int64(len(data)), false)
	})
	return nil
}

func (w *Writer) crcOf(data []byte) uint64 {
	if w.cs == nil {
		return 0
	}
	return w.cs.sum(0, data)
}

// create starts the multipart upload.
func (w *Writer) create() error {
	put := w.b.putInput(w.full, &w.opts.PutOptions, w.fallbackType)
	in := &s3.CreateMultipartUploadInput{
		Bucket: put.Bucket, Key: put.Key, ContentType: put.ContentType, Metadata: put.Metadata,
		CacheControl: put.CacheControl, ContentDisposition: put.ContentDisposition,
		ContentEncoding: put.ContentEncoding, ContentLanguage: put.ContentLanguage,
		SSEKMSKeyId: put.SSEKMSKeyId, ACL: put.ACL, StorageClass: put.StorageClass,
		ServerSideEncryption: put.ServerSideEncryption, Tagging: put.Tagging,
	}
	if w.cs != nil {
		in.ChecksumAlgorithm = types.ChecksumAlgorithm(w.cs.name)
		in.ChecksumType = types.ChecksumTypeFullObject
	}
	out, err := w.b.c.s3.CreateMultipartUpload(w.ctx, in)
	if err != nil {
		return err
	}
	w.upload = aws.ToString(out.UploadId)
	w.mu.Lock()
	w.parts = make([]partRes, 0, 16)
	w.mu.Unlock()
	return nil
}

// uploadPart uploads one part from body, whose CRC is crc.
func (w *Writer) uploadPart(num int32, body io.ReadSeeker, size int64, crc uint64) (partRes, error) {
	in := &s3.UploadPartInput{
		Bucket: aws.String(w.b.name), Key: aws.String(w.full), UploadId: aws.String(w.upload),
		PartNumber: aws.Int32(num), Body: body, ContentLength: aws.Int64(size),
	}
	res := partRes{crc: crc, size: size}
	if w.cs != nil {
		res.checksum = w.cs.encode(crc)
		setChecksum(w.cs.name, res.checksum, &in.ChecksumCRC64NVME, &in.ChecksumCRC32C)
	}
	out, err := w.b.c.s3.UploadPart(w.ctx, in, w.b.c.uploadOptions)
	if err != nil {
		return res, err
	}
	res.etag = aws.ToString(out.ETag)
	return res, nil
}

func (w *Writer) record(num int32, res partRes) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for int(num) > len(w.parts) {
		w.parts = append(w.parts, partRes{})
	}
	w.parts[num-1] = res
}

// fail records the first failure, stops the other parts, and returns it
// wrapped.
func (w *Writer) fail(err error) error {
	w.mu.Lock()
	if w.err == nil {
		if ctxErr := context.Cause(w.ctx); ctxErr != nil && !errors.Is(err, ErrInvalid) {
			err = ctxErr
		}
		w.err = w.b.fail("Writer", w.full, err)
		w.cancel(w.err)
	}
	err = w.err
	w.mu.Unlock()
	return err
}

func (w *Writer) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.b.fail("Writer", w.full, errWriterClosed)
	}
	if w.err != nil {
		return w.err
	}
	if err := context.Cause(w.ctx); err != nil {
		w.err = w.b.fail("Writer", w.full, err)
		return w.err
	}
	return nil
}

// Close uploads what is left, completes the object, and returns nil only
// if the object is now in the bucket, in full. Always check its error.
// Calling it again returns the same result.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		defer w.mu.Unlock()
		return w.result
	}
	w.mu.Unlock()
	err := w.failure()
	if err == nil {
		if w.upload == "" {
			err = w.putSingle()
		} else {
			if w.n > 0 {
				err = w.flush()
			} else if w.buf != nil {
				w.b.c.pool.put(w.buf)
				w.buf = nil
			}
			w.wg.Wait()
			if err == nil {
				err = w.failure()
			}
			if err == nil {
				err = w.complete()
			}
		}
	}
	if err != nil {
		w.abort()
		err = w.fail(err)
	}
	w.mu.Lock()
	w.closed, w.result = true, err
	w.mu.Unlock()
	w.cancel(errWriterClosed)
	return err
}

// putSingle writes a body of at most one part with one PUT.
func (w *Writer) putSingle() error {
	var data []byte
	if w.buf != nil {
		data = w.buf[:w.n]
		defer func() { w.b.c.pool.put(w.buf); w.buf = nil }()
	}
	info, err := w.b.putBody(w.ctx, w.full, bytes.NewReader(data), int64(len(data)), w.crcOf(data), &w.opts.PutOptions, w.fallbackType)
	if err != nil {
		return w.b.putErr("Writer", w.full, &w.opts.PutOptions, err)
	}
	w.written = int64(len(data))
	w.info = info
	w.progress.add(int64(len(data)), false)
	return nil
}

// complete asks the store to assemble the parts.
func (w *Writer) complete() error {
	w.mu.Lock()
	parts := w.parts
	w.mu.Unlock()
	if len(parts) != int(w.part) {
		return fmt.Errorf("s3kit: internal error: %d parts recorded of %d", len(parts), w.part)
	}
	done := make([]types.CompletedPart, len(parts))
	pieces := make([]crcPiece, len(parts))
	for i, p := range parts {
		done[i] = types.CompletedPart{ETag: aws.String(p.etag), PartNumber: aws.Int32(int32(i + 1))}
		if w.cs != nil {
			setChecksum(w.cs.name, p.checksum, &done[i].ChecksumCRC64NVME, &done[i].ChecksumCRC32C)
		}
		pieces[i] = crcPiece{p.crc, p.size}
	}
	sort.Slice(done, func(i, j int) bool { return *done[i].PartNumber < *done[j].PartNumber })
	in := &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(w.b.name), Key: aws.String(w.full), UploadId: aws.String(w.upload),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
		IfMatch:         optString(w.opts.IfMatch),
		IfNoneMatch:     optString(w.opts.IfNoneMatch),
	}
	var sum string
	if w.cs != nil {
		sum = w.cs.encode(w.cs.combineAll(pieces))
		setChecksum(w.cs.name, sum, &in.ChecksumCRC64NVME, &in.ChecksumCRC32C)
		in.ChecksumType = types.ChecksumTypeFullObject
	}
	out, err := w.b.c.s3.CompleteMultipartUpload(w.ctx, in)
	if err != nil {
		return w.b.putErr("Writer", w.full, &w.opts.PutOptions, err)
	}
	w.info = ObjectInfo{
		Key: w.b.rel(w.full), Size: w.written, ETag: aws.ToString(out.ETag),
		VersionID: aws.ToString(out.VersionId), ContentType: detectContentType(w.opts.ContentType, w.full, w.fallbackType),
	}
	w.info.Checksums, w.info.ChecksumType = checksums(out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256, out.ChecksumType)
	if w.cs != nil && w.info.Checksums[w.cs.name] == "" {
		w.info.Checksums = map[string]string{w.cs.name: sum}
	}
	return nil
}

// Abort stops the Writer and removes everything it uploaded; the object is
// not written and any object already at the key is left as it was. It lets
// the parts in flight finish first (a part cut off mid-request may still
// be stored by the server after the abort, and bring the upload back).
// Close after Abort returns an error.
func (w *Writer) Abort() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.result = w.b.fail("Writer", w.full, errors.New("writer was aborted"))
	w.mu.Unlock()
	err := w.abort()
	w.cancel(context.Canceled)
	return err
}

// abort waits for the parts in flight and aborts the multipart upload,
// with a context of its own: the Writer's may be what was cancelled.
func (w *Writer) abort() error {
	w.wg.Wait()
	if w.buf != nil {
		w.b.c.pool.put(w.buf)
		w.buf = nil
	}
	if w.upload == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), time.Minute)
	defer cancel()
	id := w.upload
	w.upload = ""
	// Parts cut off by a cancelled context may still land on the server
	// after the first abort: look again a little later.
	err := abortUpload(ctx, w.b, w.full, id, w.ctx.Err() != nil)
	if err != nil && w.b.c.log != nil {
		w.b.c.log.Warn("s3kit: aborting multipart upload failed; its parts stay until a lifecycle rule removes them",
			"bucket", w.b.name, "key", w.full, "error", err)
	}
	return err
}

// abortUpload aborts a multipart upload until the store no longer knows it.
// A part whose request was cancelled on the client may still be completing
// on the server and bring the upload back, so S3 advises aborting again
// until ListParts says it is gone; with settle, it also looks once more
// after a pause once it seems gone.
func abortUpload(ctx context.Context, b *Bucket, full, id string, settle bool) error {
	for attempt := 1; ; attempt++ {
		_, err := b.c.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(b.name), Key: aws.String(full), UploadId: aws.String(id),
		})
		if err = b.fail("Writer.Abort", full, err); err != nil && !errors.Is(err, ErrNotExist) {
			return err
		}
		_, err = b.c.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b.name), Key: aws.String(full), UploadId: aws.String(id)})
		if err = b.fail("Writer.Abort", full, err); errors.Is(err, ErrNotExist) {
			if !settle || attempt >= 5 {
				return nil
			}
			settle = false
		} else if attempt >= 5 {
			if err == nil {
				err = b.fail("Writer.Abort", full, errors.New("the upload is still listed after 5 aborts"))
			}
			return err
		}
		t := time.NewTimer(time.Duration(attempt) * 100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return b.fail("Writer.Abort", full, ctx.Err())
		case <-t.C:
		}
	}
}

// Info returns what the store reported of the object written; valid after
// Close returned nil.
func (w *Writer) Info() ObjectInfo { return w.info }

// uploadFrom uploads size bytes of ra from off as parallel parts read
// straight from it.
func (w *Writer) uploadFrom(ra io.ReaderAt, off, size int64) error {
	if w.opts.Size == 0 {
		w.opts.PartSize = partSizeFor(size, w.opts.PartSize)
		w.opts.Size = size
	}
	if size > MaxObjectSize {
		return invalidf("body is %d bytes, over the largest object S3 stores (%d, 5 TiB)", size, int64(MaxObjectSize))
	}
	if err := w.create(); err != nil {
		return err
	}
	return w.uploadParts(ra, off, size, w.opts.PartSize)
}

// uploadParts uploads the size bytes of ra at off as the next parts, of ps
// bytes each but the last, in parallel.
func (w *Writer) uploadParts(ra io.ReaderAt, off, size, ps int64) error {
	for start := int64(0); start < size; start += ps {
		n := min(ps, size-start)
		w.part++
		num := w.part
		select {
		case w.slots <- struct{}{}:
		case <-w.ctx.Done():
			return context.Cause(w.ctx)
		}
		w.written += n
		w.wg.Go(func() {
			defer func() { <-w.slots }()
			sec := io.NewSectionReader(ra, off+start, n)
			var crc uint64
			if w.cs != nil {
				var err error
				if crc, err = crcOfReader(w.cs, sec); err != nil {
					w.fail(err)
					return
				}
			}
			res, err := w.uploadPart(num, sec, n, crc)
			if err != nil {
				w.fail(err)
				return
			}
			w.record(num, res)
			w.progress.add(n, false)
		})
	}
	return nil
}

// crcOfReader returns the CRC of what r holds and rewinds it.
func crcOfReader(cs *checksummer, r io.ReadSeeker) (uint64, error) {
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	var crc uint64
	for {
		n, err := r.Read(*bp)
		crc = cs.sum(crc, (*bp)[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	_, err := r.Seek(0, io.SeekStart)
	return crc, err
}

var scratch = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// readerAtSize returns r as an io.ReaderAt with the offset and length of
// what is left to read, if it is one and its size can be known.
func readerAtSize(r io.Reader) (io.ReaderAt, int64, int64, bool) {
	ra, ok := r.(io.ReaderAt)
	if !ok {
		return nil, 0, 0, false
	}
	if s, ok := r.(io.Seeker); ok {
		cur, err := s.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, 0, 0, false
		}
		end, err := s.Seek(0, io.SeekEnd)
		if err != nil {
			return nil, 0, 0, false
		}
		if _, err := s.Seek(cur, io.SeekStart); err != nil {
			return nil, 0, 0, false
		}
		return ra, cur, max(end-cur, 0), true
	}
	if sz, ok := r.(interface{ Size() int64 }); ok {
		return ra, 0, sz.Size(), true
	}
	return nil, 0, 0, false
}

func setChecksum(alg, v string, crc64, crc32c **string) {
	if alg == ChecksumCRC64NVME {
		*crc64 = aws.String(v)
	} else {
		*crc32c = aws.String(v)
	}
}

// unsignedPayload makes a request send UNSIGNED-PAYLOAD instead of the
// SHA-256 of its body: with a checksum header the store verifies, hashing
// every byte a second time buys nothing.
var unsignedPayload = s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)

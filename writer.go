package s3kit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
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
	// unknown size it doubles every 900 parts, after as many parts of
	// this size as 10,000 parts leave room for while still holding 9 TiB
	// (about 600 more at 8 MiB, so that doubling starts at 11.7 GiB
	// written instead of 7); a larger stream needs Size. Parts upload in
	// parallel only as far as Config.MemoryLimit holds them: at the 8 MiB
	// default part, the default 64 MiB holds 8 parts up to 11.7 GiB
	// written, 4 up to 26 GiB, 2 up to 54 GiB and 1 up to 110 GiB; a long
	// stream that should keep Concurrency parts uploading needs a
	// MemoryLimit of Concurrency times the part size it reaches.
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
// while the caller writes. Write and ReadFrom wait while the parts in
// flight fill the Client's memory budget (back-pressure); they never wait
// on memory that only the caller could give back, so a goroutine may drive
// any number of Writers and Readers of one Client in turn.
//
// If a part fails after its retries or the Writer's context is cancelled,
// the Writer fails: the multipart upload is aborted at once, in the
// background (no object and no orphaned parts are left), and Write,
// ReadFrom and Close return the cause. Abort stops it on purpose. When the
// caller gives up for a reason of its own (its source failed), it must call
// Close or Abort: until then the parts uploaded so far are kept. `defer
// w.Abort()` is the safe pattern: after a successful Close, Abort does
// nothing.
//
// WriterOptions.Size, when set, is enforced: writing more fails at once,
// and Close fails if fewer bytes were written; either way nothing is
// committed.
//
// A Writer keeps the context it was made with for all its requests. It is
// not safe for concurrent use; to stop one from another goroutine, cancel
// its context.
type Writer struct {
	ctx       context.Context
	cancel    context.CancelCauseFunc
	stopWatch func() bool // stops the context watch that aborts on cancellation
	b         *Bucket
	full      string
	opts      WriterOptions
	cs        *checksummer
	slots     chan struct{}
	// fallbackType is the content type when neither the options nor the
	// key's extension give one.
	fallbackType string
	progress     *progress // Upload's; nil otherwise

	// Used by the caller's goroutine only.
	cur     []byte // the part being filled, as one value: len is what it holds; nil between parts
	written int64  // bytes handed to parts
	part    int32  // parts started
	// growAfter is how many parts of an unknown size keep the base size
	// before the doubling starts (see partSizeAt).
	growAfter int32
	created   bool // the multipart upload was created

	mu    sync.Mutex
	state writerState
	err   error     // the failure, from state failed on
	parts []partRes // by part number - 1
	// upload is the multipart upload's ID, "" once completed or aborted.
	upload string
	// wg counts the parts in flight; Add only under mu in state writing,
	// so that once the Writer has failed, the abort's Wait sees them all.
	wg        sync.WaitGroup
	abortOnce sync.Once
	aborted   chan struct{} // closed when the abort has finished
	abortErr  error
	result    error // what Close returns, from state closed on
	info      ObjectInfo
}

// writerState is the lifecycle of a Writer: writing, then closed (Close or
// Abort returned), possibly through failed (a failure is recorded and the
// upload is being aborted).
type writerState uint8

const (
	writing writerState = iota
	failed
	closed
)

type partRes struct {
	etag     string
	crc      uint64
	size     int64
	checksum string
}

var (
	errWriterClosed  = errors.New("writer is closed")
	errWriterAborted = errors.New("writer was aborted")
)

// NewWriter returns a Writer for key. Its options are checked at once; no
// request is sent before the first part is full or Close is called.
func (b *Bucket) NewWriter(ctx context.Context, key string, opts *WriterOptions) (*Writer, error) {
	full, err := b.key(key)
	if err != nil {
		return nil, b.fail("NewWriter", full, err)
	}
	w := &Writer{b: b, full: full, cs: b.c.uploadChecksum(), fallbackType: typeBinary, aborted: make(chan struct{})}
	if opts != nil {
		w.opts = *opts
	}
	w.opts.PutOptions = *b.putOptions(&w.opts.PutOptions)
	if err := w.opts.PutOptions.validate(); err != nil {
		return nil, b.fail("NewWriter", full, err)
	}
	// The upload's every request, and a HEAD after a lost answer, carry
	// the write's key.
	w.b = b.withSSEC(w.opts.SSECustomerKey)
	if err := w.setup(); err != nil {
		return nil, b.fail("NewWriter", full, err)
	}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	// A cancelled context aborts the upload even if the caller never
	// calls the Writer again.
	w.stopWatch = context.AfterFunc(w.ctx, func() { w.fail(context.Cause(w.ctx)) })
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
		return invalidf("Size %d is over the largest object S3 stores (%d bytes: %d parts of %d)", o.Size, int64(MaxObjectSize), MaxParts, int64(MaxPartSize))
	}
	if o.PartSize == 0 {
		o.PartSize = w.b.c.partSize
	}
	if o.PartSize < MinPartSize || o.PartSize > MaxPartSize {
		return invalidf("PartSize %d is not between %d (5 MiB) and %d (5 GiB)", o.PartSize, MinPartSize, int64(MaxPartSize))
	}
	if o.Size > 0 {
		o.PartSize = partSizeFor(o.Size, o.PartSize)
	} else {
		w.growAfter = growthDelay(o.PartSize)
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

// unknownSizeReach is what the parts of a stream of unknown size must
// be able to hold in all: over 9 TiB, as 10,000 parts doubling every 900
// from the 5 MiB minimum do.
const unknownSizeReach = 9 << 40

// doublingSum returns the bytes in the first k parts of the schedule that
// starts at base and doubles every 900 parts, up to MaxPartSize.
func doublingSum(base int64, k int64) int64 {
	var sum int64
	for size := base; k > 0; size = min(2*size, MaxPartSize) {
		n := min(k, 900)
		sum += n * size
		k -= n
	}
	return sum
}

// growthDelay returns how many parts of base size a stream of unknown
// size starts with before its part size doubles every 900 parts: as many
// as leave the 10,000 parts able to hold unknownSizeReach. The parts only
// grow as much as the parts left require, and no later than the plain
// doubling schedule would grow them: at any size written, a part is no
// larger than that schedule's, so at least as many fit in the budget.
func growthDelay(base int64) int32 {
	reach := func(d int64) int64 { return d*base + doublingSum(base, MaxParts-d) }
	lo, hi := int64(0), int64(MaxParts) // reach(lo) ≥ unknownSizeReach or lo = 0
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if reach(mid) >= unknownSizeReach {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return int32(lo)
}

// partSizeAt returns the size of part n (1-based). For an unknown size
// the first growAfter parts (see growthDelay) have the base size, and the
// following ones double every 900 parts, up to MaxPartSize.
func (w *Writer) partSizeAt(n int32) int64 {
	if w.opts.Size > 0 || n <= w.growAfter {
		return w.opts.PartSize
	}
	return min(w.opts.PartSize<<((n-1-w.growAfter)/900), MaxPartSize)
}

// Write writes p to the object. It returns an error if the Writer has
// failed or is closed, or if p goes past WriterOptions.Size.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.accept(int64(len(p))); err != nil {
		return 0, err
	}
	written := 0
	for len(p) > 0 {
		c := w.room(len(p))
		w.cur = append(w.cur, p[:c]...)
		written += c
		p = p[c:]
		if err := w.flushIfFull(); err != nil {
			return written, err
		}
	}
	return written, nil
}

// accept checks, before taking n more bytes, that the Writer can.
func (w *Writer) accept(n int64) error {
	if err := w.failure(); err != nil {
		return err
	}
	if s := w.opts.Size; s > 0 && w.written+int64(len(w.cur))+n > s {
		return w.fail(invalidf("writing %d bytes more than WriterOptions.Size %d", w.written+int64(len(w.cur))+n-s, s))
	}
	return nil
}

// room makes room in the part being filled for up to n more bytes, and
// returns how many fit before the part is full.
func (w *Writer) room(n int) int {
	target := int(w.partSizeAt(w.part + 1))
	if len(w.cur) == cap(w.cur) {
		w.grow(target, n)
	}
	return min(n, target-len(w.cur), cap(w.cur)-len(w.cur))
}

// grow gives the part being filled a larger buffer, of at most target
// bytes. Every part starts small and doubles as the caller writes (a
// single large Write takes what it needs at once), so that a Writer that
// holds a few bytes holds little memory: the part being filled is not
// counted in the budget.
func (w *Writer) grow(target, n int) {
	size := min(target, max(2*cap(w.cur), len(w.cur)+n, minClass))
	buf := w.b.c.pool.alloc(size)[:len(w.cur)]
	copy(buf, w.cur)
	if w.cur != nil {
		w.b.c.pool.free(w.cur)
	}
	w.cur = buf
}

// flushIfFull hands the part being filled to an upload once it is full.
func (w *Writer) flushIfFull() error {
	if int64(len(w.cur)) < w.partSizeAt(w.part+1) {
		return nil
	}
	return w.flush()
}

// ReadFrom writes everything r holds to the object and returns once all of
// it has been read: the caller may reuse or close r when it returns. A
// source that is an io.ReaderAt of known size (an *os.File, *bytes.Reader,
// io.SectionReader), given to a Writer nothing has been written to yet, is
// uploaded in parallel parts read straight from it, without buffering, and
// a source that is also an io.Seeker is left at its end, as a Read to EOF
// would leave it. Any other source is read into part buffers.
//
// Only io.EOF ends the source. Any other error from r, io.ErrUnexpectedEOF
// included (an HTTP body or a gzip stream cut short), fails the Writer and
// aborts the upload, so that a truncated source is never stored as a
// whole object.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if err := w.failure(); err != nil {
		return 0, err
	}
	var total int64
	if w.part == 0 && len(w.cur) == 0 {
		if ra, off, size, ok := readerAtSize(r); ok && size > w.opts.PartSize {
			if err := w.accept(size); err != nil {
				return 0, err
			}
			// Whole parts go straight from the source; the rest goes
			// through a buffer, so that later writes follow it.
			ps := w.opts.PartSize
			if w.opts.Size == 0 {
				ps = partSizeFor(size, ps)
			}
			whole := size - size%ps
			if err := w.create(); err != nil {
				return 0, w.fail(err)
			}
			if err := w.uploadParts(ra, off, whole, ps); err != nil {
				return 0, w.fail(err)
			}
			// Later parts are sized from these: the schedule of unknown
			// sizes goes on from the part number reached, with ps as its
			// base. Their buffers start small (see grow): the rest may be
			// a few bytes.
			w.opts.PartSize = ps
			total = whole
			sec := io.NewSectionReader(ra, off+whole, size-whole)
			n, err := w.readInto(sec)
			total += n
			if err != nil {
				return total, err
			}
			if s, ok := r.(io.Seeker); ok {
				if _, err := s.Seek(off+size, io.SeekStart); err != nil {
					return total, w.fail(err)
				}
			}
			return total, nil
		}
	}
	n, err := w.readInto(r)
	return total + n, err
}

// readInto reads r to its end into part buffers. Only io.EOF ends it: any
// other error of r, io.ErrUnexpectedEOF included (an HTTP body or a gzip
// stream cut short), fails the Writer, so that a truncated source is never
// committed as a whole object.
func (w *Writer) readInto(r io.Reader) (int64, error) {
	var total int64
	for {
		if err := w.accept(0); err != nil {
			return total, err
		}
		if s := w.opts.Size; s > 0 && w.written+int64(len(w.cur)) == s {
			// All the declared bytes are in: one more would be too many.
			var probe [1]byte
			n, err := io.ReadFull(r, probe[:])
			if n > 0 {
				return total, w.accept(1)
			}
			if err == io.EOF {
				return total, nil
			}
			return total, w.fail(err)
		}
		// Grow by doubling, as Write does: a small source must not take a
		// whole part.
		target := int(w.partSizeAt(w.part + 1))
		if len(w.cur) == cap(w.cur) {
			w.grow(target, 1)
		}
		c := min(target-len(w.cur), cap(w.cur)-len(w.cur))
		if s := w.opts.Size; s > 0 {
			c = int(min(int64(c), s-w.written-int64(len(w.cur))))
		}
		n, err := readFull(r, w.cur[len(w.cur):len(w.cur)+c])
		w.cur = w.cur[:len(w.cur)+n]
		total += int64(n)
		if ferr := w.flushIfFull(); ferr != nil {
			return total, ferr
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, w.fail(err)
		}
	}
}

// readFull reads into p until it is full or r fails, as io.ReadFull does,
// but returns r's errors as they are: io.EOF only at the end of r, never
// turned into io.ErrUnexpectedEOF, nor the reverse.
func readFull(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// flush hands the filled part to an upload, once the budget has room for
// it and fewer than Concurrency parts are in flight.
func (w *Writer) flush() error {
	data := w.cur
	w.cur = nil
	pool := w.b.c.pool
	if err := w.checkLimits(int64(len(data))); err != nil {
		pool.free(data)
		return w.fail(err)
	}
	if !w.created {
		if err := w.create(); err != nil {
			pool.free(data)
			return w.fail(err)
		}
	}
	if err := pool.commit(w.ctx, data); err != nil {
		pool.free(data)
		return w.fail(context.Cause(w.ctx))
	}
	release := func() { pool.put(data) }
	return w.startPart(int64(len(data)), release, func(num int32) (partRes, error) {
		// The CRC is computed here, in parallel with the other parts, not
		// on the writer's goroutine.
		return w.uploadPart(num, bytes.NewReader(data), int64(len(data)), w.crcOf(data))
	})
}

// checkLimits checks that one more part of n bytes stays within S3's
// limits.
func (w *Writer) checkLimits(n int64) error {
	if w.written+n > MaxObjectSize {
		return invalidf("object is over the largest S3 stores (%d bytes)", int64(MaxObjectSize))
	}
	if w.part+1 > MaxParts {
		return invalidf("object needs more than %d parts; set WriterOptions.Size or a larger PartSize", MaxParts)
	}
	return nil
}

// startPart starts uploading the next part of n bytes with upload, once a
// slot is free; release, if not nil, runs when the part is done with its
// bytes. It returns the Writer's failure if the part cannot start.
func (w *Writer) startPart(n int64, release func(), upload func(num int32) (partRes, error)) error {
	done := func() {
		if release != nil {
			release()
		}
	}
	select {
	case w.slots <- struct{}{}:
	case <-w.ctx.Done():
		done()
		return w.fail(context.Cause(w.ctx))
	}
	w.mu.Lock()
	if w.state != writing {
		w.mu.Unlock()
		<-w.slots
		done()
		return w.failure()
	}
	w.wg.Add(1)
	w.mu.Unlock()
	w.part++
	w.written += n
	num := w.part
	go func() {
		defer w.wg.Done()
		defer func() { <-w.slots }()
		defer done()
		res, err := upload(num)
		if err != nil {
			w.fail(err)
			return
		}
		w.record(num, res)
		w.progress.add(n, false)
	}()
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
		Expires: put.Expires, WebsiteRedirectLocation: put.WebsiteRedirectLocation,
	}
	w.b.ssec.apply(in)
	if w.cs != nil {
		in.ChecksumAlgorithm = types.ChecksumAlgorithm(w.cs.name)
		in.ChecksumType = types.ChecksumTypeFullObject
	}
	// The create counts as a part in flight, so that an abort started by
	// a failure meanwhile waits for it and aborts the upload it made.
	w.mu.Lock()
	if w.state != writing {
		w.mu.Unlock()
		return w.failure()
	}
	w.wg.Add(1)
	w.mu.Unlock()
	defer w.wg.Done()
	out, err := w.b.c.createUpload(w.ctx, in)
	if w.cs != nil && w.b.c.checksumRefused(err) {
		refusal := err
		in.ChecksumAlgorithm, in.ChecksumType = "", ""
		if out, err = w.b.c.createUpload(w.ctx, in); err == nil {
			w.b.c.dropChecksums(refusal)
			// No part has started: their goroutines see this.
			w.cs = nil
		}
	}
	if err != nil {
		return err
	}
	w.created = true
	w.mu.Lock()
	w.upload = aws.ToString(out.UploadId)
	w.parts = make([]partRes, 0, 16)
	failed := w.state != writing
	w.mu.Unlock()
	if failed {
		return w.failure()
	}
	return nil
}

// createGrace is how long a CreateMultipartUpload already on its way may
// still take to answer once its context is done.
const createGrace = 5 * time.Second

// createUpload sends CreateMultipartUpload so that a cancel of ctx does
// not lose its answer: cut off, the request may still have created the
// upload, whose ID the caller then never learns and so cannot abort, and
// its parts would be kept (and billed) until a lifecycle rule removes
// them. Once ctx is done the request gets createGrace more to answer;
// the caller, seeing ctx done, aborts the upload it then has. A ctx
// already done sends nothing.
func (c *Client) createUpload(ctx context.Context, in *s3.CreateMultipartUploadInput) (*s3.CreateMultipartUploadOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var mu sync.Mutex
	var grace *time.Timer
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		grace = time.AfterFunc(createGrace, cancel)
		mu.Unlock()
	})
	defer func() {
		if !stop() {
			mu.Lock()
			if grace != nil {
				grace.Stop()
			}
			mu.Unlock()
		}
	}()
	out, err := c.s3.CreateMultipartUpload(cctx, in)
	if err != nil && ctx.Err() != nil {
		// The cancel ended it, or came while the store failed it: say so,
		// as a request sent with ctx would have.
		return nil, errors.Join(ctx.Err(), err)
	}
	return out, err
}

// uploadPart uploads one part from body, whose CRC is crc.
func (w *Writer) uploadPart(num int32, body io.ReadSeeker, size int64, crc uint64) (partRes, error) {
	in := &s3.UploadPartInput{
		Bucket: aws.String(w.b.name), Key: aws.String(w.full), UploadId: aws.String(w.upload),
		PartNumber: aws.Int32(num), Body: body, ContentLength: aws.Int64(size),
	}
	w.b.ssec.apply(in)
	res := partRes{crc: crc, size: size}
	// w.cs was settled by create: an upload the store created with a
	// checksum algorithm needs every part's checksum (Amazon S3 and
	// versitygw refuse a completion without them), whatever the Client
	// has learned since.
	if w.cs != nil {
		res.checksum = w.cs.encode(crc)
		setChecksum(w.cs.name, res.checksum, &in.ChecksumCRC64NVME, &in.ChecksumCRC32C, &in.ChecksumCRC32)
	} else if md, err := w.b.c.contentMD5(body); err != nil {
		return res, err
	} else {
		in.ContentMD5 = optString(md)
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

// fail records the first failure, so that no part starts any more, starts
// aborting the upload, and returns the failure wrapped. After Close or
// Abort it only returns what Close returned. The parts in flight are not
// cut off (unless the context was cancelled): a part cut off mid-request
// may still be stored by the server after the abort, and bring the upload
// back.
func (w *Writer) fail(err error) error {
	w.mu.Lock()
	switch w.state {
	case closed:
		defer w.mu.Unlock()
		return w.result
	case failed:
		defer w.mu.Unlock()
		return w.err
	}
	if ctxErr := context.Cause(w.ctx); ctxErr != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, errWriterAborted) {
		err = ctxErr
	}
	w.err = w.b.fail("Writer", w.full, err)
	w.state = failed
	w.mu.Unlock()
	w.startAbort()
	return w.err
}

// failure returns the Writer's failure, or nil if it is still writing.
func (w *Writer) failure() error {
	w.mu.Lock()
	state, err := w.state, w.err
	if state == closed {
		w.mu.Unlock()
		return w.b.fail("Writer", w.full, errWriterClosed)
	}
	w.mu.Unlock()
	if state == failed {
		return err
	}
	if cause := context.Cause(w.ctx); cause != nil {
		return w.fail(cause)
	}
	return nil
}

// startAbort aborts the upload once, in the background, after the parts in
// flight are done.
func (w *Writer) startAbort() {
	w.abortOnce.Do(func() {
		go func() {
			defer close(w.aborted)
			w.wg.Wait()
			w.mu.Lock()
			id := w.upload
			w.upload = ""
			w.mu.Unlock()
			if id != "" {
				w.abortErr = w.abortID(id)
			}
		}()
	})
}

// Close uploads what is left, completes the object, and returns nil only
// if the object is now in the bucket, in full. Always check its error.
// Calling it again returns the same result. If Close fails, the upload has
// been aborted by the time it returns.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.state == closed {
		defer w.mu.Unlock()
		return w.result
	}
	w.mu.Unlock()
	err := w.failure()
	if err == nil {
		if s := w.opts.Size; s > 0 && w.written+int64(len(w.cur)) != s {
			err = invalidf("%d bytes written, WriterOptions.Size is %d", w.written+int64(len(w.cur)), s)
		}
	}
	if err == nil {
		if !w.created {
			err = w.putSingle()
		} else {
			if len(w.cur) > 0 {
				err = w.flush()
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
		err = w.fail(err)
		<-w.aborted
	}
	w.finish(err)
	return err
}

// finish ends the Writer with the result Close returns.
func (w *Writer) finish(err error) {
	w.stopWatch()
	w.mu.Lock()
	w.state, w.result = closed, err
	w.mu.Unlock()
	w.cancel(errWriterClosed)
	if w.cur != nil {
		w.b.c.pool.free(w.cur)
		w.cur = nil
	}
}

// putSingle writes a body of at most one part with one PUT.
func (w *Writer) putSingle() error {
	data := w.cur
	info, err := w.b.putBody(w.ctx, w.full, bytes.NewReader(data), int64(len(data)), w.cs, w.crcOf(data), &w.opts.PutOptions, w.fallbackType)
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
	parts, id := w.parts, w.upload
	w.mu.Unlock()
	if len(parts) != int(w.part) {
		return fmt.Errorf("s3kit: internal error: %d parts recorded of %d", len(parts), w.part)
	}
	done := make([]types.CompletedPart, len(parts))
	pieces := make([]crcPiece, len(parts))
	for i, p := range parts {
		done[i] = types.CompletedPart{ETag: aws.String(p.etag), PartNumber: aws.Int32(int32(i + 1))}
		if w.cs != nil {
			setChecksum(w.cs.name, p.checksum, &done[i].ChecksumCRC64NVME, &done[i].ChecksumCRC32C, &done[i].ChecksumCRC32)
		}
		pieces[i] = crcPiece{p.crc, p.size}
	}
	in := &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(w.b.name), Key: aws.String(w.full), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
		IfMatch:         optString(w.opts.IfMatch),
		IfNoneMatch:     optString(w.opts.IfNoneMatch),
	}
	w.b.ssec.apply(in)
	var sum string
	if w.cs != nil {
		sum = w.cs.encode(w.cs.combineAll(pieces))
		setChecksum(w.cs.name, sum, &in.ChecksumCRC64NVME, &in.ChecksumCRC32C, &in.ChecksumCRC32)
		in.ChecksumType = types.ChecksumTypeFullObject
	}
	out, err := w.b.c.s3.CompleteMultipartUpload(w.ctx, in)
	if err != nil {
		err = w.b.putErr("Writer", w.full, &w.opts.PutOptions, err)
		if errors.Is(err, errUploadGone) {
			return w.reconcile(sum, done, err)
		}
		return err
	}
	w.mu.Lock()
	w.upload = "" // completed: nothing to abort any more
	w.mu.Unlock()
	w.info = ObjectInfo{
		Key: w.b.rel(w.full), Size: w.written, ETag: aws.ToString(out.ETag),
		VersionID: aws.ToString(out.VersionId), ContentType: detectContentType(w.opts.ContentType, w.full, w.fallbackType),
	}
	w.info.Checksums, w.info.ChecksumType = checksums(out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256, out.ChecksumType)
	if w.cs != nil && w.info.Checksums[w.cs.name] == "" {
		w.info.Checksums = map[string]string{w.cs.name: sum}
	}
	w.info.fullObject(w.cs, sum)
	return nil
}

// reconcile decides what a CompleteMultipartUpload answered NoSuchUpload
// means. The SDK retries Complete after a lost answer, so the first attempt
// may have assembled the object: if the object at the key has this
// upload's size and full-object checksum (or, without a checksum, the
// multipart ETag its parts make: see completedEarlier), the write
// succeeded. Otherwise the error says the upload vanished, not that an
// object is missing.
func (w *Writer) reconcile(sum string, parts []types.CompletedPart, cause error) error {
	w.mu.Lock()
	w.upload = "" // gone: nothing to abort
	w.mu.Unlock()
	info, err := w.b.headOnly(w.ctx, "Writer", w.full, "")
	if err != nil || info.Size != w.written {
		return cause
	}
	if w.cs != nil {
		if info.Checksums[w.cs.name] != sum || info.ChecksumType != string(types.ChecksumTypeFullObject) {
			return cause
		}
	} else if want := multipartETag(parts); want == "" || w.b.ssec != nil || strings.ToLower(strings.Trim(info.ETag, `"`)) != want {
		// An SSE-C object's ETag is not made of MD5s.
		return cause
	}
	w.info = info
	return nil
}

// Abort stops the Writer and removes everything it uploaded; the object is
// not written and any object already at the key is left as it was. It lets
// the parts in flight finish first (a part cut off mid-request may still be
// stored by the server after the abort, and bring the upload back), then
// aborts until the store no longer lists the upload. The abort goes on
// after the Writer's context has ended, for at most a minute: Abort, and a
// Close that fails, may return that much later than the context.
// Close after Abort returns an error; Abort after Close does nothing.
func (w *Writer) Abort() error {
	w.mu.Lock()
	if w.state == closed {
		w.mu.Unlock()
		return nil
	}
	w.mu.Unlock()
	err := w.fail(errWriterAborted)
	<-w.aborted
	w.finish(err)
	return w.abortErr
}

// abortID aborts the multipart upload id, with a context of its own: the
// Writer's may be what was cancelled.
func (w *Writer) abortID(id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), time.Minute)
	defer cancel()
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
// until ListParts says it is gone; with settle (parts were cut off), it
// also looks again after the pauses of settleAfter once it seems gone.
func abortUpload(ctx context.Context, b *Bucket, full, id string, settle bool) error {
	settles := len(settleAfter)
	if settle {
		settles = 0
	}
	for attempt := 1; ; attempt++ {
		pause := time.Duration(attempt) * 100 * time.Millisecond
		_, err := b.c.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(b.name), Key: aws.String(full), UploadId: aws.String(id),
		})
		if err = b.fail("Writer.Abort", full, err); err != nil && !errors.Is(err, errUploadGone) && !errors.Is(err, ErrNotExist) {
			return err
		}
		lin := &s3.ListPartsInput{Bucket: aws.String(b.name), Key: aws.String(full), UploadId: aws.String(id)}
		b.ssec.apply(lin)
		_, err = b.c.s3.ListParts(ctx, lin)
		if err = b.fail("Writer.Abort", full, err); errors.Is(err, errUploadGone) || errors.Is(err, ErrNotExist) {
			if settles >= len(settleAfter) {
				return nil
			}
			pause = settleAfter[settles]
			settles++
		} else if attempt >= 8 {
			if err == nil {
				err = b.fail("Writer.Abort", full, errors.New("the upload is still listed after 8 aborts"))
			}
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return b.fail("Writer.Abort", full, ctx.Err())
		case <-t.C:
		}
	}
}

// settleAfter are the pauses after which an abort whose parts were cut off
// looks again whether the upload came back: a server may finish writing a
// part whose client went away a while later, under load.
var settleAfter = []time.Duration{250 * time.Millisecond, time.Second}

// Info returns what the store reported of the object written; valid after
// Close returned nil.
func (w *Writer) Info() ObjectInfo { return w.info }

// uploadFrom uploads size bytes of ra from off as parallel parts read
// straight from it.
func (w *Writer) uploadFrom(ra io.ReaderAt, off, size int64) error {
	if size > MaxObjectSize {
		return invalidf("body is %d bytes, over the largest object S3 stores (%d)", size, int64(MaxObjectSize))
	}
	if w.opts.Size == 0 {
		w.opts.PartSize = partSizeFor(size, w.opts.PartSize)
		w.opts.Size = size
	}
	if err := w.create(); err != nil {
		return err
	}
	return w.uploadParts(ra, off, size, w.opts.PartSize)
}

// uploadParts uploads the size bytes of ra at off as the next parts, of ps
// bytes each but the last, in parallel, and returns once every one of them
// is done with ra: the caller may then reuse or close it.
func (w *Writer) uploadParts(ra io.ReaderAt, off, size, ps int64) error {
	var read sync.WaitGroup
	defer read.Wait()
	for start := int64(0); start < size; start += ps {
		n := min(ps, size-start)
		if err := w.checkLimits(n); err != nil {
			return err
		}
		read.Add(1)
		err := w.startPart(n, read.Done, func(num int32) (partRes, error) {
			sec := io.NewSectionReader(ra, off+start, n)
			var crc uint64
			if w.cs != nil {
				var err error
				if crc, err = crcOfReader(w.cs, sec); err != nil {
					return partRes{}, err
				}
			}
			return w.uploadPart(num, sec, n, crc)
		})
		if err != nil {
			return err
		}
	}
	read.Wait()
	return w.failure()
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

func setChecksum(alg, v string, crc64, crc32c, crc32 **string) {
	switch alg {
	case ChecksumCRC64NVME:
		*crc64 = aws.String(v)
	case ChecksumCRC32C:
		*crc32c = aws.String(v)
	default:
		*crc32 = aws.String(v)
	}
}

// unsignedPayload makes a request send UNSIGNED-PAYLOAD instead of the
// SHA-256 of its body. The Client uses it over TLS, which protects the
// bytes on the way, and the checksum header catches accidents; over plain
// HTTP only with Config.UnsignedPayload (see New).
var unsignedPayload = s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)

package s3kit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ReaderOptions are the options of NewReader. nil means the whole object.
type ReaderOptions struct {
	// Offset and Length select the bytes [Offset, Offset+Length) of the
	// object; Length 0 means to the end. A range past the end is cut at
	// the end. The Reader's offsets (Seek, ReadAt) count from Offset.
	Offset, Length int64
	// VersionID reads that version; empty means the current one.
	VersionID string
	// PartSize is the size of each ranged GET; 0 means the Client's.
	PartSize int64
	// Concurrency is how many ranges are fetched ahead of a sequential
	// reader, or at once by ReadAt and WriteTo; 0 means the Client's.
	Concurrency int
	// SSECustomerKey is the key of an object encrypted with a customer key
	// (SSE-C), sent with every request; nil means the handle's
	// (WithSSECustomerKey), if any.
	SSECustomerKey *SSECustomerKey
}

// Reader reads an object. It is pinned to the version seen when it was
// opened: every request after the first carries If-Match with its ETag (and
// its version ID where the store has versions), so if the object is
// replaced mid-read, reads fail with ErrPreconditionFailed instead of
// mixing bytes of two objects. A connection broken mid-body resumes from
// the last byte received.
//
// Sequential reads (Read, WriteTo) fetch the following ranges in parallel
// ahead of the caller while it keeps reading in order, in buffers from the
// Client's memory budget; without room there, a Read fetches straight into
// the caller's buffer. Read-ahead follows the reader: after a Seek (any
// Seek, even to where it is) it fetches one range of 1 MiB (PartSize if
// smaller), and every range read in order doubles both the size of the
// next ranges, up to PartSize, and their number, up to Concurrency; so a
// caller that reads a little after a Seek (an HTTP Range request through
// http.FileServerFS) costs little more than what it reads. A Reader
// starts likewise, except that what it covers of an object of at most
// PartSize is one GET; WriteTo fetches Concurrency ranges of PartSize at
// once. A read from the first byte to the last (Seeks back included)
// verifies the object's full-object checksum, if the store reported one:
// on a mismatch, the Read or WriteTo that would hand over the last bytes
// returns ErrChecksum instead, and withholds them, so that a caller who
// reads exactly Size() bytes (io.ReadFull) gets the error too. A
// composite checksum (see DownloadTo) is verified likewise; the first
// Read or WriteTo from the object's first byte then asks the store where
// the parts are (as DownloadTo does), and if it does not tell, the object
// is read unverified. Info().Verified says what was verified.
//
// ReadAt is safe for concurrent use; Read, Seek and WriteTo are not. The
// Reader keeps the context it was made with for all its requests; Close
// releases its buffers and connections.
type Reader struct {
	ctx    context.Context
	cancel context.CancelFunc
	b      *Bucket
	full   string
	info   ObjectInfo
	etag   string
	ver    string
	start  int64 // absolute offset of the Reader's first byte
	size   int64 // bytes the Reader covers
	part   int64
	conc   int
	ahead  int   // read-ahead window in ranges (see fill)
	span   int64 // size of the next range read ahead (see fill)

	pos    int64 // next Read, relative to start
	err    error // sticky error of Read
	closed bool

	// Sequential state: a direct stream for what fits one part, else a
	// queue of prefetched ranges.
	body  *rangeBody
	queue []*chunk
	next  int64 // next offset to prefetch, relative

	// Whole-object verification across chunks.
	check    *crcCheck
	spans    []crcSpan
	verified int64 // bytes folded into spans, from the object's first byte

	cache blockCache // of small ReadAt calls
}

type chunk struct {
	off    int64 // relative
	n      int64
	buf    []byte
	done   chan struct{}
	cancel context.CancelFunc
	// verify is the Reader's check when the chunk was scheduled: the
	// fetch must not read the Reader's field, which eof clears.
	verify *crcCheck
	err    error
	spans  []crcSpan
	read   int // bytes consumed by Read
}

// NewReader opens the object at key for reading. A missing object is an
// error of NewReader itself (ErrNotExist), not of the first Read. It sends
// one HEAD request; data is fetched as it is read.
func (b *Bucket) NewReader(ctx context.Context, key string, opts *ReaderOptions) (*Reader, error) {
	full, err := b.key(key)
	if err != nil {
		return nil, b.fail("NewReader", full, err)
	}
	o := ReaderOptions{}
	if opts != nil {
		o = *opts
	}
	switch {
	case o.Offset < 0 || o.Length < 0:
		err = invalidf("Offset %d and Length %d must not be negative", o.Offset, o.Length)
	case o.PartSize != 0 && o.PartSize < 64<<10:
		err = invalidf("PartSize %d is below 64 KiB", o.PartSize)
	case o.Concurrency < 0:
		err = invalidf("Concurrency %d is negative", o.Concurrency)
	}
	if err != nil {
		return nil, b.fail("NewReader", full, err)
	}
	if o.SSECustomerKey != nil {
		b = b.withSSEC(o.SSECustomerKey)
	}
	info, err := b.head(ctx, "NewReader", full, o.VersionID)
	if err != nil {
		return nil, err
	}
	return b.readerFor(ctx, full, info, o), nil
}

// readerFor returns a Reader of the object full that a HEAD described as
// info; its requests are pinned to info's ETag.
func (b *Bucket) readerFor(ctx context.Context, full string, info ObjectInfo, o ReaderOptions) *Reader {
	r := &Reader{
		b: b, full: full, info: info, etag: info.ETag, ver: o.VersionID,
		part: cmp.Or(o.PartSize, b.c.partSize), conc: max(cmp.Or(o.Concurrency, b.c.concurrency), 1),
		ahead: 1,
	}
	if r.part > b.c.pool.limit {
		r.part = b.c.pool.limit
	}
	r.start = min(o.Offset, info.Size)
	r.size = info.Size - r.start
	if o.Length > 0 && o.Length < r.size {
		r.size = o.Length
	}
	// What fits in one range is one GET; a larger object starts small,
	// as after a Seek, since the first read may be all the caller wants
	// (http.FileServerFS sniffs 512 bytes, then seeks).
	r.span = r.part
	if r.size > r.part {
		r.span = min(readAheadMin, r.part)
	}
	if r.start == 0 && r.size == info.Size {
		r.check = checkOfInfo(info)
	}
	r.ctx, r.cancel = context.WithCancel(ctx)
	return r
}

// fullChecksumOf returns what to verify a whole download of info against.
func fullChecksumOf(info ObjectInfo) (*checksummer, string) {
	get := func(name string) *string {
		if v, ok := info.Checksums[name]; ok {
			return &v
		}
		return nil
	}
	return fullChecksum(get("CRC64NVME"), get("CRC32C"), get("CRC32"), types.ChecksumType(info.ChecksumType))
}

// Info returns the object's metadata as the HEAD at open saw it, and,
// once the object was read through in order and its checksum matched,
// Verified.
func (r *Reader) Info() ObjectInfo { return r.info }

// prepare learns where the parts of an object with a composite checksum
// are, before its first byte is read, so that the bytes can be summed
// per part; the check is dropped if the store does not tell.
func (r *Reader) prepare() error {
	if r.check == nil || r.check.ready() || r.pos != 0 || r.verified != 0 {
		return nil
	}
	k, err := r.b.verifyWhole(r.ctx, r.check, "Read", r.full, r.etag, r.ver, r.info.Size)
	if err != nil {
		return r.fail(err)
	}
	r.check = k
	return nil
}

// Size returns the number of bytes the Reader covers.
func (r *Reader) Size() int64 { return r.size }

// Read reads the next bytes of the object.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.closed {
		return 0, r.fail(errors.New("reader is closed"))
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := r.prepare(); err != nil {
		return 0, err
	}
	for {
		if r.pos >= r.size {
			return 0, r.eof()
		}
		if r.body == nil && len(r.queue) == 0 {
			end := r.size
			if r.size-r.pos > r.span {
				r.next = r.pos
				r.fill()
				// Without room in the budget for read-ahead, read one
				// range straight into p: a Reader never waits for memory,
				// so it cannot wait on a Writer its caller feeds.
				end = r.pos + r.span
			}
			if len(r.queue) == 0 {
				body, _, err := r.b.openRange(r.ctx, "Read", r.full, r.etag, r.ver, r.start+r.pos, r.start+end)
				if err != nil {
					return 0, r.fail(err)
				}
				r.body = body
			}
		}
		if r.body != nil {
			n, err := r.body.Read(p)
			r.fold(p[:n])
			r.pos += int64(n)
			if err == nil && r.pos >= r.size {
				err = io.EOF
			}
			if err == io.EOF {
				r.body.Close()
				r.body = nil
				if r.pos >= r.size {
					// The whole object is in: on a checksum mismatch,
					// withhold this Read's bytes, so that a caller who
					// reads Size() bytes (io.ReadFull drops an error that
					// comes with the last bytes) gets the error.
					if cerr := r.eof(); cerr != io.EOF {
						return 0, cerr
					}
					if n > 0 {
						return n, nil
					}
					return 0, io.EOF
				}
				if n == 0 {
					continue
				}
				err = nil
			}
			if err != nil {
				return n, r.fail(err)
			}
			return n, nil
		}
		c, err := r.front()
		if err != nil {
			return 0, r.fail(err)
		}
		n := copy(p, c.buf[c.read:c.n])
		if r.pos+int64(n) >= r.size {
			// As above: a mismatch withholds the last bytes.
			if cerr := r.eof(); cerr != io.EOF {
				return 0, cerr
			}
		}
		c.read += n
		r.pos += int64(n)
		if int64(c.read) == c.n {
			r.pop(c)
		}
		if r.pos >= r.size {
			return n, io.EOF
		}
		return n, nil
	}
}

// fold adds bytes read at the read position to the whole-object checksum,
// from the first byte not yet folded: a read that starts before it (after
// a Seek back) folds only what is new.
func (r *Reader) fold(p []byte) {
	at := r.start + r.pos
	if r.check != nil && r.check.ready() && at <= r.verified && r.verified < at+int64(len(p)) {
		r.spans = r.check.add(r.spans, r.verified, p[r.verified-at:])
		r.verified = at + int64(len(p))
	}
}

// eof returns io.EOF at the end, or ErrChecksum if the whole object was
// read in order and does not match its checksum.
func (r *Reader) eof() error {
	if r.check != nil && r.check.ready() && r.verified == r.info.Size {
		if msg := r.check.mismatch(r.spans, r.info.Size); msg != "" {
			r.err = &Error{Op: "Read", Bucket: r.b.name, Key: r.full, Err: fmt.Errorf("%w: %s", ErrChecksum, msg)}
			return r.err
		}
		r.info.Verified = r.check.name()
		r.check = nil
	}
	return io.EOF
}

func (r *Reader) fail(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		err = r.b.fail("Read", r.full, err)
	}
	r.err = err
	return err
}

// front returns the chunk at the read position, waiting for it, and keeps
// the prefetch queue full. The queue must not be empty.
func (r *Reader) front() (*chunk, error) {
	r.fill()
	c := r.queue[0]
	select {
	case <-c.done:
	case <-r.ctx.Done():
		return nil, r.ctx.Err()
	}
	if c.err != nil {
		return nil, c.err
	}
	if at := r.start + c.off; r.check != nil && r.check.ready() && at <= r.verified && r.verified < at+c.n {
		if at == r.verified && c.verify == r.check {
			// The usual case: the CRCs the fetch computed in parallel.
			r.spans = r.check.join(r.spans, c.spans)
		} else {
			// A chunk that starts before the verified offset (ranges
			// restart at a Seek), or scheduled before the parts were
			// known: fold the part not yet folded.
			r.spans = r.check.add(r.spans, r.verified, c.buf[r.verified-at:c.n])
		}
		r.verified = at + c.n
	}
	return c, nil
}

// fill schedules ranges ahead, as far as the read-ahead window and the
// memory budget allow without waiting. The window starts at one range,
// of readAheadMin after a Seek, and the range size and the window double
// with every range read in order, up to PartSize and Concurrency, so that
// a caller reading a little after a Seek (an HTTP Range request) does not
// pay for ranges it never reads.
func (r *Reader) fill() {
	for len(r.queue) < max(r.ahead, 1) && r.next < r.size {
		if !r.schedule() {
			return
		}
	}
}

// schedule starts fetching the next range into a read-ahead buffer, if the
// budget has room for one now.
func (r *Reader) schedule() bool {
	n := min(r.span, r.size-r.next)
	buf, ok := r.b.c.pool.tryGet(int(n))
	if !ok {
		return false
	}
	ctx, cancel := context.WithCancel(r.ctx)
	c := &chunk{off: r.next, n: n, buf: buf, done: make(chan struct{}), cancel: cancel, verify: r.check}
	r.next += n
	r.queue = append(r.queue, c)
	go r.fetch(ctx, c)
	return true
}

// fetch reads one range into its buffer.
func (r *Reader) fetch(ctx context.Context, c *chunk) {
	defer close(c.done)
	c.err = r.readRange(ctx, c.buf[:c.n], c.off)
	if c.err == nil && c.verify != nil && c.verify.ready() {
		c.spans = c.verify.add(nil, r.start+c.off, c.buf[:c.n])
	}
}

// readRange fills p with the bytes at relative offset off.
func (r *Reader) readRange(ctx context.Context, p []byte, off int64) error {
	body, _, err := r.b.openRange(ctx, "Read", r.full, r.etag, r.ver, r.start+off, r.start+off+int64(len(p)))
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = io.ReadFull(body, p)
	return err
}

// pop drops the consumed front chunk, gives its buffer back, and widens
// the read-ahead window.
func (r *Reader) pop(c *chunk) {
	r.queue = r.queue[1:]
	c.cancel()
	r.b.c.pool.putSpeculative(c.buf)
	r.ahead = min(2*max(r.ahead, 1), r.conc)
	r.span = min(2*r.span, r.part)
}

// drop cancels the prefetched ranges, those in flight included, and the
// direct stream, after a Seek or on Close.
func (r *Reader) drop() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
	for _, c := range r.queue {
		c.cancel()
		go func() {
			<-c.done // the fetch may still be writing into the buffer
			r.b.c.pool.putSpeculative(c.buf)
		}()
	}
	r.queue = nil
	r.ahead = 1
	r.span = min(readAheadMin, r.part)
}

// Seek sets the offset of the next Read, relative to the Reader's first
// byte (ReaderOptions.Offset), as io.Seeker says. Seeking drops prefetched
// data unless the offset does not change.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	abs, err := seekTo(offset, whence, r.pos, r.size)
	if err != nil {
		return r.pos, r.b.fail("Seek", r.full, err)
	}
	// A Seek says the caller reads where it chooses: read ahead little
	// until it reads on in order.
	r.span = min(readAheadMin, r.part)
	if abs != r.pos {
		r.drop()
		r.pos = abs
		r.next = abs
		if r.err != nil && !errors.Is(r.err, ErrChecksum) {
			r.err = nil
		}
	}
	return abs, nil
}

// seekTo returns the offset io.Seeker's Seek(offset, whence) moves to from
// pos in something of size bytes.
func seekTo(offset int64, whence int, pos, size int64) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = pos + offset
	case io.SeekEnd:
		abs = size + offset
	default:
		return 0, invalidf("whence %d is not io.SeekStart, io.SeekCurrent or io.SeekEnd", whence)
	}
	if abs < 0 {
		return 0, invalidf("offset %d is before the start", abs)
	}
	return abs, nil
}

// ReadAt reads len(p) bytes at offset off (relative to the Reader's first
// byte), fetching ranges in parallel straight into p. It is safe for
// concurrent use, also with Read.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, r.b.fail("ReadAt", r.full, invalidf("offset %d is negative", off))
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := p
	if rest := r.size - off; int64(len(p)) > rest {
		want = p[:rest]
	}
	if len(want) < cacheBlock {
		if err := r.cachedRead(want, off); err != nil {
			return 0, r.b.fail("ReadAt", r.full, err)
		}
		if len(want) < len(p) {
			return len(want), io.EOF
		}
		return len(p), nil
	}
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		sem   = make(chan struct{}, r.conc)
		mu    sync.Mutex
		first error
	)
	for start := int64(0); start < int64(len(want)) && ctx.Err() == nil; start += r.part {
		piece := want[start:min(start+r.part, int64(len(want)))]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := r.readRange(ctx, piece, off+start); err != nil {
				mu.Lock()
				if first == nil {
					first = err
					cancel() // the other pieces are of no use now
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err() // the Reader's context ended before every piece was read
	}
	if first != nil {
		return 0, r.b.fail("ReadAt", r.full, first)
	}
	if len(want) < len(p) {
		return len(want), io.EOF
	}
	return len(p), nil
}

// readAheadMin is the size of the first range a Reader reads ahead, at
// the start and after a Seek: about what an HTTP Range request of a
// media player asks for.
const readAheadMin = 1 << 20

// Small ReadAt calls are served from a few cached blocks, so that a caller
// reading a structure field by field (archive/zip, image decoders,
// testing/iotest) sends one request per block rather than per call.
const (
	cacheBlock  = 64 << 10
	cacheBlocks = 4
)

type blockCache struct {
	mu     sync.Mutex
	blocks [cacheBlocks]cachedBlock
	tick   uint64
}

type cachedBlock struct {
	off  int64
	data []byte // nil if the slot is empty
	used uint64
}

// cachedRead fills p, shorter than a block, from the bytes at off.
func (r *Reader) cachedRead(p []byte, off int64) error {
	for len(p) > 0 {
		start := off / cacheBlock * cacheBlock
		data, err := r.block(start)
		if err != nil {
			return err
		}
		n := copy(p, data[off-start:])
		p, off = p[n:], off+int64(n)
	}
	return nil
}

// block returns the cached block at start, fetching it on a miss.
func (r *Reader) block(start int64) ([]byte, error) {
	c := &r.cache
	c.mu.Lock()
	c.tick++
	for i := range c.blocks {
		if b := &c.blocks[i]; b.data != nil && b.off == start {
			b.used = c.tick
			data := b.data
			c.mu.Unlock()
			return data, nil
		}
	}
	c.mu.Unlock()
	data := make([]byte, min(cacheBlock, r.size-start))
	if err := r.readRange(r.ctx, data, start); err != nil {
		return nil, err
	}
	c.mu.Lock()
	lru := &c.blocks[0]
	for i := range c.blocks {
		if c.blocks[i].used < lru.used {
			lru = &c.blocks[i]
		}
	}
	*lru = cachedBlock{off: start, data: data, used: c.tick}
	c.mu.Unlock()
	return data, nil
}

// WriteTo writes the rest of the object to w, fetching ranges in parallel
// ahead of w and writing them in order. io.Copy uses it.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if err := r.prepare(); err != nil {
		return 0, err
	}
	r.ahead, r.span = r.conc, r.part // the caller means to read it all
	var scratch []byte
	for {
		if r.err != nil {
			return total, r.err
		}
		if len(r.queue) == 0 {
			// One part or less left, a stream open, or no room for
			// read-ahead: Read streams straight from the store.
			if scratch == nil {
				scratch = r.b.c.pool.alloc(64 << 10)
				defer r.b.c.pool.free(scratch)
			}
			n, err := r.Read(scratch)
			if n > 0 {
				m, werr := w.Write(scratch[:n])
				total += int64(m)
				if werr == nil && m < n {
					werr = io.ErrShortWrite
				}
				if werr != nil {
					return total, werr
				}
			}
			if err == io.EOF {
				return total, nil
			}
			if err != nil {
				return total, err
			}
			continue
		}
		c, err := r.front()
		if err != nil {
			return total, r.fail(err)
		}
		if r.pos+c.n-int64(c.read) >= r.size {
			// The last bytes go to w only if the whole object checks out.
			if cerr := r.eof(); cerr != io.EOF {
				return total, cerr
			}
		}
		m, werr := w.Write(c.buf[c.read:c.n])
		total += int64(m)
		r.pos += int64(m)
		c.read += m
		if werr == nil && int64(c.read) < c.n {
			werr = io.ErrShortWrite
		}
		if werr != nil {
			return total, werr
		}
		r.pop(c)
		if r.pos >= r.size {
			return total, nil
		}
	}
}

// Close stops prefetching and releases the Reader's buffers. Reads after
// Close fail.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.cancel()
	r.drop()
	return nil
}

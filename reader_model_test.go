package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// The Reader model test opens objects of sizes around the boundaries of the
// Reader's part and of its 64 KiB ReadAt cache block, through a fault proxy,
// and checks random sequences of Read, Seek, ReadAt (sometimes from several
// goroutines at once), WriteTo and io.CopyN against a bytes.Reader over the
// same bytes. Replay and exploration work as for the Writer model
// (S3KIT_MODEL_SEED, S3KIT_MODEL_SEEDS, S3KIT_MODEL_TIMEOUT).
//
// Which corruption a Reader can detect: a flipped byte is reported as
// ErrChecksum only when the store reported a full-object checksum (CRC64NVME,
// CRC32C or CRC32, not a composite one) at open and the bytes were read in
// order from the object's first byte to its last by Read or WriteTo.
// ReadAt, a Reader of a window (Offset, Length), a read that Seeks away
// before the end, and objects stored without a checksum cannot detect it:
// the model lets those deliver the flipped byte and counts them.

const cacheBlock = 64 << 10 // the Reader's ReadAt cache block

// readerClients are the Client configurations a reader case runs on. The
// smaller budgets leave read-ahead no room beside the reserve it keeps for
// a Writer, so that Read falls back to one range at a time.
var readerClients = []s3kit.Config{
	{},
	{PartSize: s3kit.MinPartSize, MemoryLimit: s3kit.MinPartSize},
	{PartSize: s3kit.MinPartSize, MemoryLimit: s3kit.MinPartSize + 256<<10},
	{Checksum: s3kit.ChecksumNone},
}

// readerPartSizes are the ReaderOptions.PartSize values drawn; 0 is the
// Client's, larger than every object here.
var readerPartSizes = []int64{64 << 10, 64<<10 + 1, 100 << 10, 128 << 10, 0}

type rOpKind int

const (
	rRead rOpKind = iota
	rSeek
	rReadAt
	rConcurrent // ReadAt from several goroutines, beside a Read
	rWriteTo
	rCopyN
	rClose
)

type rOp struct {
	kind   rOpKind
	n      int64 // buffer size, or CopyN's count
	off    int64 // Seek's offset, ReadAt's offset
	whence int
	par    [][]rOp // rConcurrent: the ReadAts of each goroutine
	read   *rOp    // rConcurrent: a Read beside them, or nil
}

func (o rOp) String() string {
	switch o.kind {
	case rRead:
		return fmt.Sprintf("Read(%d)", o.n)
	case rSeek:
		return fmt.Sprintf("Seek(%d, %s)", o.off, [...]string{"SeekStart", "SeekCurrent", "SeekEnd", "whence 3"}[o.whence])
	case rReadAt:
		return fmt.Sprintf("ReadAt(%d, off %d)", o.n, o.off)
	case rConcurrent:
		var parts []string
		for _, g := range o.par {
			var s []string
			for _, p := range g {
				s = append(s, p.String())
			}
			parts = append(parts, "["+strings.Join(s, ", ")+"]")
		}
		if o.read != nil {
			parts = append(parts, o.read.String())
		}
		return "concurrently " + strings.Join(parts, " | ")
	case rWriteTo:
		return "WriteTo"
	case rCopyN:
		return fmt.Sprintf("io.CopyN(%d)", o.n)
	}
	return "Close"
}

type rFault int

const (
	rfNone     rFault = iota
	rf503             // GETs answered 503 SlowDown, then retried
	rfReset           // GET bodies cut by a reset after some bytes, then resumed
	rfTruncate        // GET bodies cut short cleanly, then resumed
	rfFlip            // one GET body with a flipped byte
	rfDelay           // GETs held back, so that read-ahead a Seek drops is still running
)

func (f rFault) String() string {
	return [...]string{"none", "503 SlowDown", "ResetAfter", "Truncate", "FlipByte", "Delay"}[f]
}

type rCase struct {
	seed     uint64
	client   int
	size     int64
	checksum types.ChecksumAlgorithm // "" stores no checksum
	opts     s3kit.ReaderOptions
	fault    rFault
	faultN   int64 // the fault's byte offset
	times    int   // how many GETs the fault hits
	ops      []rOp
}

func (c *rCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: object of %d bytes, checksum %q; Client %d %+v; ReaderOptions{Offset %d, Length %d, PartSize %d, Concurrency %d}; fault %s",
		c.seed, c.size, c.checksum, c.client, readerClients[c.client], c.opts.Offset, c.opts.Length, c.opts.PartSize, c.opts.Concurrency, c.fault)
	if c.fault != rfNone {
		fmt.Fprintf(&b, " at %d, %d time(s)", c.faultN, c.times)
	}
	for i, o := range c.ops {
		fmt.Fprintf(&b, "\n  %d. %s", i+1, o)
	}
	return b.String()
}

// partOf is the part size the Reader uses.
func (c *rCase) partOf() int64 {
	if c.opts.PartSize > 0 {
		return c.opts.PartSize
	}
	return cmpOr(readerClients[c.client].PartSize, s3kit.DefaultPartSize)
}

func genReaderCase(seed uint64, ch *chooser) *rCase {
	c := &rCase{seed: seed, client: ch.weighted(4, 2, 2, 1)}
	c.opts.PartSize = readerPartSizes[ch.intn(len(readerPartSizes))]
	c.opts.Concurrency = []int{0, 1, 2, 3, 8}[ch.intn(5)]
	p := c.partOf()
	if p > 1<<20 {
		p = 100 << 10 // sizes around a part the objects never reach are no use
	}
	bounds := []int64{0, 1, cacheBlock - 1, cacheBlock, cacheBlock + 1, 2*cacheBlock - 1, 2*cacheBlock + 1,
		p - 1, p, p + 1, 2*p - 1, 2 * p, 2*p + 1, 3*p + 1, 4*p - 1, 5 * p}
	c.size = bounds[ch.intn(len(bounds))]
	if ch.oneIn(4) {
		c.size = ch.int64n(6*p + 1)
	}
	c.checksum = []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmCrc32c,
		types.ChecksumAlgorithmCrc32, ""}[ch.weighted(4, 1, 1, 1)]
	if ch.oneIn(3) {
		c.opts.Offset = ch.int64n(c.size + 2)
		if ch.oneIn(2) {
			c.opts.Length = 1 + ch.int64n(c.size+2)
		}
	}
	if ch.oneIn(3) {
		c.fault = rFault(1 + ch.intn(5))
		c.times = 1 + ch.intn(2)
		c.faultN = ch.int64n(p)
		if c.fault == rfFlip {
			c.times = 1
			c.faultN = ch.int64n(max(min(c.size, p), 1))
		}
	}
	win := windowOf(c.size, c.opts)
	pos := int64(0) // where Read would go on, to draw sizes around it
	nops := 2 + ch.intn(10)
	for range nops {
		o := drawReaderOp(ch, win, p, pos)
		switch o.kind {
		case rRead, rCopyN:
			pos += o.n
		case rWriteTo:
			pos = win
		case rSeek:
			pos = []int64{o.off, pos + o.off, win + o.off, pos}[o.whence]
		}
		c.ops = append(c.ops, o)
		if o.kind == rClose {
			if ch.oneIn(2) {
				c.ops = append(c.ops, drawReaderOp(ch, win, p, pos))
			}
			break
		}
	}
	return c
}

// windowOf returns how many bytes a Reader with opts covers of an object
// of size bytes.
func windowOf(size int64, opts s3kit.ReaderOptions) int64 {
	start := min(opts.Offset, size)
	n := size - start
	if opts.Length > 0 && opts.Length < n {
		n = opts.Length
	}
	return n
}

// drawLen draws a length around the boundaries that matter for a read of
// size bytes at pos: the end, the part and the cache block.
func drawLen(ch *chooser, size, p, pos int64) int64 {
	rest := max(size-pos, 0)
	switch ch.intn(8) {
	case 0:
		return []int64{0, 1, 2}[ch.intn(3)]
	case 1:
		return rest + int64(ch.intn(3)) - 1
	case 2:
		return p + int64(ch.intn(3)) - 1
	case 3:
		return cacheBlock + int64(ch.intn(3)) - 1
	case 4:
		return 2*p + int64(ch.intn(3)) - 1
	case 5:
		return p - pos%p + int64(ch.intn(3)) - 1
	default:
		return 1 + ch.int64n(3*p)
	}
}

// drawOff draws an offset around the boundaries of an object of size bytes.
func drawOff(ch *chooser, size, p int64) int64 {
	switch ch.intn(5) {
	case 0:
		return []int64{0, 1, size - 1, size, size + 1}[ch.intn(5)]
	case 1:
		return p*int64(ch.intn(4)) + int64(ch.intn(3)) - 1
	case 2:
		return cacheBlock*int64(ch.intn(4)) + int64(ch.intn(3)) - 1
	default:
		return ch.int64n(size + 2)
	}
}

func drawReaderOp(ch *chooser, size, p, pos int64) rOp {
	switch ch.weighted(8, 3, 4, 2, 2, 2, 1) {
	case 0:
		return rOp{kind: rRead, n: max(drawLen(ch, size, p, pos), 0)}
	case 1:
		o := rOp{kind: rSeek, whence: ch.weighted(5, 3, 3, 1)}
		switch o.whence {
		case io.SeekStart:
			o.off = drawOff(ch, size, p)
		case io.SeekCurrent:
			o.off = drawOff(ch, size, p) - pos
		case io.SeekEnd:
			o.off = drawOff(ch, size, p) - size
		}
		return o
	case 2:
		return rOp{kind: rReadAt, n: max(drawLen(ch, size, p, 0), 0), off: drawOff(ch, size, p)}
	case 3:
		o := rOp{kind: rConcurrent}
		for range 2 + ch.intn(2) {
			var g []rOp
			for range 1 + ch.intn(3) {
				g = append(g, rOp{kind: rReadAt, n: max(drawLen(ch, size, p, 0), 0), off: drawOff(ch, size, p)})
			}
			o.par = append(o.par, g)
		}
		if ch.oneIn(2) {
			o.read = &rOp{kind: rRead, n: max(drawLen(ch, size, p, pos), 1)}
		}
		return o
	case 4:
		return rOp{kind: rWriteTo}
	case 5:
		return rOp{kind: rCopyN, n: max(drawLen(ch, size, p, pos), 0)}
	}
	return rOp{kind: rClose}
}

// readerRun is one run of a reader case: the model is a bytes.Reader's
// position over want, plus what the model knows of integrity.
type readerRun struct {
	c      *rCase
	r      *s3kit.Reader
	want   []byte // the bytes the Reader covers
	pos    int64
	closed bool
	ctx    context.Context

	mu    sync.Mutex
	fails []string

	// Integrity: flipAllowed is true while a FlipByte fault may have
	// reached delivered bytes; inOrder while every byte Read or WriteTo
	// delivered came in order from the object's first byte, with no
	// Seek; corrupt once they delivered a wrong byte.
	flipAllowed bool
	verifiable  bool
	inOrder     bool
	corrupt     bool
	undetected  []string // wrong bytes the Reader cannot detect
	sawChecksum bool     // an ErrChecksum was returned
}

func (r *readerRun) failf(format string, args ...any) {
	r.mu.Lock()
	r.fails = append(r.fails, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// note records a corruption the Reader cannot detect.
func (r *readerRun) note(s string) {
	r.mu.Lock()
	r.undetected = append(r.undetected, s)
	r.mu.Unlock()
}

// runReaderCase runs c on e's server; it returns the failures, the
// corruptions the Reader could not have detected, and whether it reported
// one as ErrChecksum.
func runReaderCase(t *testing.T, e *env, c *rCase) (fails, undetected []string, detected bool) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	data := modelBytes(c.seed, 7, c.size)
	key := fmt.Sprintf("rm%d-%d", c.seed%100000, readerCaseSeq.Add(1))
	in := &s3.PutObjectInput{Bucket: aws.String(e.bucket.Name()), Key: aws.String(key), Body: bytes.NewReader(data), ChecksumAlgorithm: c.checksum}
	var optFns []func(*s3.Options)
	if c.checksum == "" {
		optFns = append(optFns, func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired })
	}
	if _, err := e.client.S3().PutObject(ctx, in, optFns...); err != nil {
		t.Fatalf("putting the object: %v", err)
	}
	cfg := readerClients[c.client]
	cli, p := proxied(t, e, cfg)
	switch c.fault {
	case rf503:
		p.Add(faultproxy.Rule{Method: http.MethodGet, Times: c.times, Fault: faultproxy.Status(503, "SlowDown")})
	case rfReset:
		p.Add(faultproxy.Rule{Method: http.MethodGet, Times: c.times, Fault: faultproxy.ResetAfter(c.faultN)})
	case rfTruncate:
		p.Add(faultproxy.Rule{Method: http.MethodGet, Times: c.times, Fault: faultproxy.Truncate(c.faultN)})
	case rfFlip:
		p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.FlipByte(c.faultN)})
	case rfDelay:
		p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 2 * c.times, Fault: faultproxy.Delay(time.Duration(c.faultN%200) * time.Millisecond)})
	}
	rctx, rcancel := context.WithTimeout(t.Context(), caseTimeout)
	defer rcancel()
	rd, err := cli.Bucket(e.bucket.Name()).NewReader(rctx, key, &c.opts)
	if err != nil {
		return []string{fmt.Sprintf("NewReader: %v", err)}, nil, false
	}
	start := min(c.opts.Offset, c.size)
	run := &readerRun{c: c, r: rd, want: data[start : start+windowOf(c.size, c.opts)], ctx: rctx,
		flipAllowed: c.fault == rfFlip, inOrder: true}
	info := rd.Info()
	whole := start == 0 && int64(len(run.want)) == c.size
	stored := info.Checksums["CRC64NVME"] != "" || info.Checksums["CRC32C"] != "" || info.Checksums["CRC32"] != ""
	run.verifiable = whole && stored && info.ChecksumType != "COMPOSITE"
	if c.checksum != "" && !stored {
		run.failf("the object was stored with %s but NewReader's HEAD reported checksums %v", c.checksum, info.Checksums)
	}
	if rd.Size() != int64(len(run.want)) {
		run.failf("Size() = %d, want %d", rd.Size(), len(run.want))
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				run.failf("panic: %v\n%s", v, debug.Stack())
			}
		}()
		for i, o := range c.ops {
			run.do(i, o)
		}
		if !run.closed {
			if err := rd.Close(); err != nil {
				run.failf("Close: %v", err)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(caseTimeout + 30*time.Second):
		run.failf("hung: still running %v after the case's context ended; the Reader ignores its context", caseTimeout+30*time.Second)
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.fails, run.undetected, run.sawChecksum
}

var readerCaseSeq atomic.Int64

// do runs operation i and checks it against the model.
func (r *readerRun) do(i int, o rOp) {
	step := fmt.Sprintf("op %d, %s", i+1, o)
	switch o.kind {
	case rRead:
		r.read(step, o.n)
	case rSeek:
		r.seek(step, o)
	case rReadAt:
		r.readAt(step, o)
	case rConcurrent:
		var wg sync.WaitGroup
		for _, g := range o.par {
			wg.Go(func() {
				for _, a := range g {
					r.readAt(step+": "+a.String(), a)
				}
			})
		}
		if o.read != nil {
			r.read(step+": "+o.read.String(), o.read.n)
		}
		wg.Wait()
	case rWriteTo:
		r.writeTo(step)
	case rCopyN:
		r.copyN(step, o.n)
	case rClose:
		if err := r.r.Close(); err != nil {
			r.failf("%s: %v", step, err)
		}
		r.closed = true
	}
}

// errKind classifies an error as the model compares them.
func errKind(err error) string {
	switch {
	case err == nil:
		return "nil"
	case err == io.EOF:
		return "io.EOF"
	case errors.Is(err, s3kit.ErrChecksum):
		return "ErrChecksum"
	}
	return "error"
}

// describe tells a call that waited for the case's deadline from an
// ordinary error.
func (r *readerRun) describe(err error) string {
	if r.ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("blocked until the case's %v deadline: %v", caseTimeout, err)
	}
	return fmt.Sprintf("%v (%s)", err, errKind(err))
}

// delivered checks bytes that Read, WriteTo or CopyN returned at the model's
// position, and advances it.
func (r *readerRun) delivered(step string, got []byte) {
	want := r.want[min(r.pos, int64(len(r.want))):]
	want = want[:min(len(want), len(got))]
	if len(got) > len(want) {
		r.failf("%s: returned %d bytes, only %d are left", step, len(got), len(want))
		got = got[:len(want)]
	}
	if !bytes.Equal(got, want) {
		if !r.flipAllowed {
			r.failf("%s: wrong data at %d: %s", step, r.pos, diffBytes(got, want))
		} else if r.verifiable && r.inOrder {
			r.corrupt = true
		} else {
			r.note(fmt.Sprintf("%s delivered a flipped byte that it cannot detect (verifiable %v, in order %v)", step, r.verifiable, r.inOrder))
		}
	}
	r.pos += int64(len(got))
}

// atEnd checks the error of the call whose bytes reached the end, when the
// model knows whether the whole object came in order and what it held.
func (r *readerRun) atEnd(step string, err error) {
	switch {
	case r.corrupt && errKind(err) != "ErrChecksum":
		r.failf("%s: a wrong byte was delivered in a whole in-order read of an object with a stored checksum, and the end returned %v, not ErrChecksum", step, err)
	case errKind(err) == "ErrChecksum" && !r.flipAllowed:
		r.failf("%s: ErrChecksum without any corruption: %v", step, err)
	}
	if errKind(err) == "ErrChecksum" {
		r.sawChecksum = true
	}
}

func (r *readerRun) read(step string, n int64) {
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = 0xee
	}
	got, err := r.r.Read(buf)
	if r.closed {
		if err == nil || got != 0 {
			r.failf("%s after Close: %d, %v; want an error", step, got, err)
		}
		return
	}
	if got < 0 || int64(got) > n {
		r.failf("%s: returned n = %d of a %d-byte buffer", step, got, n)
		return
	}
	if r.sawChecksum {
		if errKind(err) != "ErrChecksum" {
			r.failf("%s: after ErrChecksum, Read returned %d, %v; the error must stay", step, got, err)
		}
		return
	}
	rest := max(int64(len(r.want))-r.pos, 0)
	switch {
	case n == 0:
		if got != 0 || (err != nil && err != io.EOF) || (err == io.EOF && rest > 0) {
			r.failf("%s: Read of an empty buffer with %d bytes left returned %d, %v", step, rest, got, err)
		}
	case rest == 0:
		if got != 0 || (err != io.EOF && errKind(err) != "ErrChecksum") {
			r.failf("%s: at the end (%d of %d) returned %d, %s; want 0, io.EOF", step, r.pos, len(r.want), got, r.describe(err))
		}
		r.atEnd(step, err)
	case err != nil && err != io.EOF && errKind(err) != "ErrChecksum":
		r.failf("%s: %s", step, r.describe(err))
		r.delivered(step, buf[:got])
	case errKind(err) == "ErrChecksum":
		// The Read that would deliver the last bytes withholds them on a
		// mismatch (io.ReadFull would drop an error that came with them).
		r.delivered(step, buf[:got])
		r.atEnd(step, err)
	case got == 0:
		r.failf("%s: returned 0, %v with %d bytes left", step, err, rest)
	default:
		r.delivered(step, buf[:got])
		if err != nil && r.pos < int64(len(r.want)) {
			r.failf("%s: returned %s at %d of %d", step, errKind(err), r.pos, len(r.want))
		}
		if r.pos == int64(len(r.want)) && err != nil {
			r.atEnd(step, err)
		}
	}
}

// outOfOrder records that the reads no longer go in order: a wrong byte
// delivered before becomes one the Reader is not required to detect.
func (r *readerRun) outOfOrder(step string) {
	if r.corrupt {
		r.note(step + " moved away after a flipped byte was read in order: the read is no longer whole")
		r.corrupt = false
	}
	r.inOrder = false
}

func (r *readerRun) seek(step string, o rOp) {
	m := bytes.NewReader(r.want)
	m.Seek(r.pos, io.SeekStart)
	wantPos, wantErr := m.Seek(o.off, o.whence)
	got, err := r.r.Seek(o.off, o.whence)
	if (err == nil) != (wantErr == nil) {
		r.failf("%s: returned %d, %v; bytes.Reader %d, %v", step, got, err, wantPos, wantErr)
		return
	}
	if err == nil {
		if got != wantPos {
			r.failf("%s: returned %d, want %d", step, got, wantPos)
		}
		if got != r.pos {
			r.outOfOrder(step)
		}
		r.pos = got
	}
}

func (r *readerRun) readAt(step string, o rOp) {
	buf := make([]byte, o.n)
	wantBuf := make([]byte, o.n)
	got, err := r.r.ReadAt(buf, o.off)
	var wantN int
	var wantErr error
	if o.off < 0 {
		wantErr = errors.New("negative offset")
	} else {
		wantN, wantErr = bytes.NewReader(r.want).ReadAt(wantBuf, o.off)
	}
	if r.closed {
		if err == nil && !bytes.Equal(buf[:got], wantBuf[:wantN]) {
			r.failf("%s after Close: returned wrong data", step)
		}
		return
	}
	switch {
	case o.off < 0:
		if err == nil {
			r.failf("%s: negative offset returned %d, nil", step, got)
		}
		return
	case err != nil && err != io.EOF:
		r.failf("%s: %s", step, r.describe(err))
		return
	case got != wantN:
		r.failf("%s: returned %d, %v; want %d, %v", step, got, err, wantN, wantErr)
		return
	case wantN < len(buf) && err != io.EOF:
		r.failf("%s: returned %d < %d bytes with %v; want io.EOF", step, got, len(buf), err)
	case err == io.EOF && o.off+int64(got) < int64(len(r.want)):
		r.failf("%s: returned io.EOF at %d of %d", step, o.off+int64(got), len(r.want))
	}
	if !bytes.Equal(buf[:got], wantBuf[:wantN]) {
		if r.flipAllowed {
			r.note(step + " delivered a flipped byte: ReadAt cannot detect it")
		} else {
			r.failf("%s: wrong data: %s", step, diffBytes(buf[:got], wantBuf[:wantN]))
		}
	}
}

func (r *readerRun) writeTo(step string) {
	var buf bytes.Buffer
	n, err := r.r.WriteTo(&buf)
	if r.closed {
		if n != 0 {
			r.failf("%s after Close: wrote %d bytes, %v", step, n, err)
		}
		return
	}
	if int64(buf.Len()) != n {
		r.failf("%s: returned %d, wrote %d", step, n, buf.Len())
	}
	if r.sawChecksum {
		if errKind(err) != "ErrChecksum" {
			r.failf("%s: after ErrChecksum, WriteTo returned %d, %v; the error must stay", step, n, err)
		}
		return
	}
	rest := max(int64(len(r.want))-r.pos, 0)
	if err != nil && errKind(err) != "ErrChecksum" {
		r.failf("%s: %s after %d bytes", step, r.describe(err), n)
		r.delivered(step, buf.Bytes())
		return
	}
	// On a checksum mismatch, WriteTo withholds the last bytes.
	if n != rest && errKind(err) != "ErrChecksum" {
		r.failf("%s: returned %d, %v; want %d bytes", step, n, err, rest)
	}
	r.delivered(step, buf.Bytes())
	if r.pos >= int64(len(r.want)) || errKind(err) == "ErrChecksum" {
		r.atEnd(step, err)
	}
}

func (r *readerRun) copyN(step string, count int64) {
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, r.r, count)
	if r.closed {
		if n != 0 || err == nil && count > 0 {
			r.failf("%s after Close: copied %d, %v", step, n, err)
		}
		return
	}
	if r.sawChecksum {
		if count > 0 && errKind(err) != "ErrChecksum" {
			r.failf("%s: after ErrChecksum, CopyN returned %d, %v; the error must stay", step, n, err)
		}
		return
	}
	rest := max(int64(len(r.want))-r.pos, 0)
	wantN := min(count, rest)
	switch {
	case err != nil && err != io.EOF && errKind(err) != "ErrChecksum":
		r.failf("%s: %s after %d bytes", step, r.describe(err), n)
	case n != wantN:
		r.failf("%s: copied %d, %v; want %d", step, n, err, wantN)
	case count > rest && err != io.EOF && errKind(err) != "ErrChecksum":
		r.failf("%s: copied %d of %d asked with %d left and returned %v; want io.EOF", step, n, count, rest, err)
	case count <= rest && err == io.EOF:
		r.failf("%s: copied %d of %d asked with %d left and returned io.EOF", step, n, count, rest)
	}
	r.delivered(step, buf.Bytes())
	if count > rest {
		r.atEnd(step, err) // the copy read up to the end
	}
}

// readerSeeds are the seeds every `go test` runs on each server.
var readerSeeds = func() []uint64 {
	s := make([]uint64, 200)
	for i := range s {
		s[i] = uint64(i + 1)
	}
	return s
}()

func TestReaderModel(t *testing.T) {
	seeds := modelSeeds(readerSeeds)
	eachServer(t, func(t *testing.T, e *env) {
		undetected, detected := 0, 0
		for _, seed := range seeds {
			t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
				c := genReaderCase(seed, newChooser(seed, nil))
				fails, und, det := runReaderCase(t, e, c)
				undetected += len(und)
				if det {
					detected++
				}
				for _, u := range und {
					t.Logf("seed %d: %s", seed, u)
				}
				if len(fails) > 0 {
					t.Errorf("%s\n%s", c, strings.Join(fails, "\n"))
				}
			})
		}
		t.Logf("%d flipped bytes reported as ErrChecksum; %d delivered where the Reader cannot detect them (ReadAt, windows, reads that seek)", detected, undetected)
	})
}

// FuzzReaderModel runs reader cases drawn from the fuzzer's seed and bytes
// on every selected server:
//
//	go test -run '^$' -fuzz '^FuzzReaderModel$' -fuzztime 3m -parallel 1 .
func FuzzReaderModel(f *testing.F) {
	caseTimeout = min(caseTimeout, fuzzCaseTimeout)
	for _, s := range readerSeeds[:8] {
		f.Add(s, []byte{})
	}
	f.Fuzz(func(t *testing.T, seed uint64, choices []byte) {
		if len(choices) > 256 {
			choices = choices[:256]
		}
		eachServer(t, func(t *testing.T, e *env) {
			c := genReaderCase(seed, newChooser(seed, choices))
			if fails, _, _ := runReaderCase(t, e, c); len(fails) > 0 {
				t.Errorf("%s\n%s", c, strings.Join(fails, "\n"))
			}
		})
	})
}

// TestReaderSeekCancelsReadAhead: a Seek drops the ranges fetched ahead,
// and must also cancel their requests; the proxy stalls ranges 3 to 6, and
// their server-side contexts end only when the client gives up.
func TestReaderSeekCancelsReadAhead(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		const part = 64 << 10
		data := modelBytes(99, 1, 10*part)
		if err := sdkPut(t.Context(), e, "ahead", data); err != nil {
			t.Fatal(err)
		}
		cli, p := proxied(t, e, s3kit.Config{})
		var mu sync.Mutex
		var stalled []context.Context
		p.Add(faultproxy.Rule{Method: http.MethodGet, Match: func(q *http.Request) bool {
			var from int64
			if _, err := fmt.Sscanf(q.Header.Get("Range"), "bytes=%d-", &from); err != nil || from < 3*part || from >= 7*part {
				return false
			}
			mu.Lock()
			stalled = append(stalled, q.Context())
			mu.Unlock()
			return true
		}, Fault: faultproxy.Hang()})
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		r, err := cli.Bucket(e.bucket.Name()).NewReader(ctx, "ahead", &s3kit.ReaderOptions{PartSize: part, Concurrency: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		// Read-ahead widens as ranges are read in order: reading into the
		// third range has the window reach the stalled ones.
		buf := make([]byte, 2*part+1)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatal(err)
		}
		// The ranges ahead are requested from goroutines: wait until one
		// has reached the proxy.
		for {
			mu.Lock()
			n := len(stalled)
			mu.Unlock()
			if n > 0 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatal("no read-ahead request was stalled: the test no longer exercises read-ahead")
			case <-time.After(10 * time.Millisecond):
			}
		}
		if _, err := r.Seek(8*part, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 1000)
		if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, data[8*part:8*part+1000]) {
			t.Fatalf("Read after Seek: %v", err)
		}
		mu.Lock()
		n := len(stalled)
		mu.Unlock()
		if n == 0 {
			t.Fatal("no read-ahead request was stalled: the test no longer exercises read-ahead")
		}
		for i := range n {
			mu.Lock()
			sc := stalled[i]
			mu.Unlock()
			select {
			case <-sc.Done():
			case <-ctx.Done():
				t.Fatalf("%d of %d read-ahead GETs dropped by Seek were still open on the server when the test's 30 s ran out; Seek must cancel them", n-i, n)
			}
		}
	})
}

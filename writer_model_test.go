package s3kit_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// The Writer model test drives Writers with random sequences of Write,
// ReadFrom and io.Copy from every kind of source, ending in Close or Abort,
// and checks each step against a model: the bytes written so far. Sizes are
// drawn around the part boundaries, where the Writer changes state. A case
// is a pure function of its seed (and, when fuzzing, of the fuzzer's bytes),
// so a failure is replayed by its seed alone:
//
//	S3KIT_MODEL_SEED=1234 go test -run 'TestWriterModel$' .
//
// S3KIT_MODEL_SEEDS=N runs N more random seeds after the fixed ones, and
// S3KIT_MODEL_SHRINK=1 shrinks each failing case to fewer operations.

// chooser makes the random decisions of a case: from the fuzzer's bytes
// while they last, then from a PRNG seeded with the case's seed, so that the
// fuzzer's mutations change decisions rather than only the seed.
type chooser struct {
	data []byte
	rng  *rand.Rand
}

func newChooser(seed uint64, data []byte) *chooser {
	return &chooser{data: data, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// intn returns a choice in [0, n).
func (c *chooser) intn(n int) int {
	if n <= 1 {
		return 0
	}
	if len(c.data) >= 2 {
		v := binary.LittleEndian.Uint16(c.data)
		c.data = c.data[2:]
		return int(v) % n
	}
	return c.rng.IntN(n)
}

func (c *chooser) int64n(n int64) int64 {
	if n <= 1 {
		return 0
	}
	if n <= 1<<16 || len(c.data) < 2 {
		if len(c.data) >= 2 {
			return int64(c.intn(int(n)))
		}
		return c.rng.Int64N(n)
	}
	hi := int64(c.intn(1 << 16))
	return (hi<<32 | int64(c.rng.Uint32())) % n
}

// oneIn reports true with probability 1/n.
func (c *chooser) oneIn(n int) bool { return c.intn(n) == 0 }

// weighted returns an index into weights with probability proportional to
// its weight.
func (c *chooser) weighted(weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	v := c.intn(total)
	for i, w := range weights {
		if v < w {
			return i
		}
		v -= w
	}
	return len(weights) - 1
}

// modelBytes returns n bytes that depend only on seed and stream.
func modelBytes(seed, stream uint64, n int64) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	binary.LittleEndian.PutUint64(s[8:], stream)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// writerClients are the Client configurations a writer case runs on: all
// with 5 MiB parts, and budgets of a few parts so that back-pressure, the
// read-ahead reserve and several Writers on one Client come into play.
var writerClients = []s3kit.Config{
	{PartSize: s3kit.MinPartSize, MemoryLimit: 3 * s3kit.MinPartSize},
	{PartSize: s3kit.MinPartSize, MemoryLimit: 5 * s3kit.MinPartSize},
	{PartSize: s3kit.MinPartSize},
	{PartSize: s3kit.MinPartSize, MemoryLimit: 4 * s3kit.MinPartSize, Checksum: s3kit.ChecksumNone},
	{PartSize: s3kit.MinPartSize + 1, MemoryLimit: 4*s3kit.MinPartSize + 4, Checksum: s3kit.ChecksumCRC32C},
}

type sizeMode int

const (
	sizeUnknown sizeMode = iota // WriterOptions.Size 0
	sizeExact
	sizeSmall // declared smaller than what is written
	sizeLarge // declared larger than what is written
)

func (m sizeMode) String() string {
	return [...]string{"unknown", "exact", "too small", "too large"}[m]
}

type wEnd int

const (
	endClose wEnd = iota
	endAbort
	// endNoClose: after an operation failed, one more Write, then the
	// upload must be gone without Close or Abort ("the next Write or Close
	// aborts the upload"); Close follows only to release the Writer.
	endNoClose
)

// wSpec is one Writer of a case.
type wSpec struct {
	partSize int64 // WriterOptions.PartSize; 0: the Client's
	conc     int
	mode     sizeMode
	declared int64 // WriterOptions.Size
	total    int64 // bytes the operations write
	prior    bool  // an object is at the key before
	end      wEnd
}

type wOpKind int

const (
	opWrite    wOpKind = iota // Write, in chunks of chunk bytes (0: one call)
	opReadFrom                // w.ReadFrom(src)
	opCopy                    // io.Copy(w, src)
)

type srcKind int

const (
	srcBytes   srcKind = iota // *bytes.Reader: io.ReaderAt, io.Seeker, io.WriterTo
	srcStrings                // *strings.Reader: the same, over a string
	srcBuffer                 // *bytes.Buffer: io.WriterTo only
	srcSection                // *io.SectionReader: io.ReaderAt, io.Seeker, Size
	srcFile                   // *os.File
	srcPlain                  // an io.Reader and nothing else
	srcS3kit                  // an s3kit *Reader of another object
	nSrcKinds
)

func (k srcKind) String() string {
	return [...]string{"bytes.Reader", "strings.Reader", "bytes.Buffer", "SectionReader", "os.File", "plain reader", "s3kit.Reader"}[k]
}

// mutation is what happens to a source once the call that read it returned:
// the caller owns it again, so nothing may change what gets stored.
type mutation int

const (
	mutNone      mutation = iota
	mutOverwrite          // the buffer (or file, or object) is refilled
	mutClose              // the file or Reader is closed
	mutBoth
)

type wOp struct {
	w     int // index of the Writer
	kind  wOpKind
	src   srcKind
	n     int64 // bytes written
	skip  int64 // bytes of the source before its read position
	chunk int64 // opWrite: bytes per Write call; 0: one call
	mut   mutation
	same  bool // srcS3kit: a Reader of the writers' own Client
}

func (o wOp) String() string {
	var s string
	switch o.kind {
	case opWrite:
		s = fmt.Sprintf("w%d.Write(%s)", o.w, sizeName(o.n))
		if o.chunk > 0 {
			s = fmt.Sprintf("w%d.Write(%s in chunks of %s)", o.w, sizeName(o.n), sizeName(o.chunk))
		}
		return s
	case opReadFrom:
		s = fmt.Sprintf("w%d.ReadFrom(%s of %s", o.w, o.src, sizeName(o.n))
	default:
		s = fmt.Sprintf("io.Copy(w%d, %s of %s", o.w, o.src, sizeName(o.n))
	}
	if o.skip > 0 {
		s += fmt.Sprintf(" after %s", sizeName(o.skip))
	}
	if o.src == srcS3kit {
		s += map[bool]string{true: ", same Client", false: ", other Client"}[o.same]
	}
	s += ")"
	switch o.mut {
	case mutOverwrite:
		s += "; source overwritten"
	case mutClose:
		s += "; source closed"
	case mutBoth:
		s += "; source overwritten and closed"
	}
	return s
}

// sizeName writes n relative to the 5 MiB part where that is shorter.
func sizeName(n int64) string {
	const p = s3kit.MinPartSize
	if n >= p/2 {
		k := (n + p/2) / p
		if d := n - k*p; d >= -4096 && d <= 4096 {
			switch {
			case d == 0:
				return fmt.Sprintf("%dP", k)
			case d > 0:
				return fmt.Sprintf("%dP+%d", k, d)
			default:
				return fmt.Sprintf("%dP%d", k, d)
			}
		}
	}
	return strconv.FormatInt(n, 10)
}

type wFault int

const (
	wfNone         wFault = iota
	wfPart503             // one UploadPart answered 503 SlowDown: retried
	wfPartReset           // one UploadPart's response cut by a reset: retried
	wfCreate503           // CreateMultipartUpload answered 503 once: retried
	wfPartFail            // every UploadPart answered 500: the upload fails
	wfCompleteFail        // every CompleteMultipartUpload answered 500
	wfPutFail             // every single PUT answered 500
)

func (f wFault) String() string {
	return [...]string{"none", "one UploadPart 503", "one UploadPart reset", "one Create 503",
		"UploadPart 500 always", "Complete 500 always", "PutObject 500 always"}[f]
}

// persistent reports whether the fault makes the request it hits fail for
// good.
func (f wFault) persistent() bool { return f >= wfPartFail }

type wCase struct {
	seed    uint64
	client  int
	fault   wFault
	writers []wSpec
	ops     []wOp
	order   []int // order in which the Writers end
}

func (c *wCase) String() string {
	var b strings.Builder
	cfg := writerClients[c.client]
	fmt.Fprintf(&b, "seed %d: Client{PartSize %s, MemoryLimit %s, Checksum %q}, faults: %s\n", c.seed,
		sizeName(cfg.PartSize), sizeName(cfg.MemoryLimit), cfg.Checksum, c.fault)
	for i, w := range c.writers {
		fmt.Fprintf(&b, "  w%d: PartSize %s, Concurrency %d, Size %s", i, sizeName(w.partSize), w.conc, w.mode)
		if w.mode != sizeUnknown {
			fmt.Fprintf(&b, " (%s declared, %s written)", sizeName(w.declared), sizeName(w.total))
		}
		if w.prior {
			b.WriteString(", an object already at the key")
		}
		b.WriteString(", ends with " + [...]string{"Close", "Abort", "a Write after the failure"}[w.end] + "\n")
	}
	for i, o := range c.ops {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, o)
	}
	fmt.Fprintf(&b, "  end order %v", c.order)
	return b.String()
}

// partOf returns the part size w uses.
func (c *wCase) partOf(w int) int64 {
	if p := c.writers[w].partSize; p > 0 {
		return p
	}
	return writerClients[c.client].PartSize
}

// genWriterCase draws a case. Most cases have one Writer; some have more
// Writers than the Client's budget has parts, all driven from one goroutine.
func genWriterCase(seed uint64, ch *chooser) *wCase {
	c := &wCase{seed: seed, client: ch.intn(len(writerClients))}
	cfg := writerClients[c.client]
	limit := cmpOr(cfg.MemoryLimit, s3kit.DefaultMemoryLimit)
	nw := 1
	if ch.oneIn(5) {
		// More Writers than parts fit in the budget.
		nw = int(limit/cfg.PartSize) + 1 + ch.intn(2)
		nw = min(nw, 6)
	}
	if ch.oneIn(4) {
		c.fault = wFault(1 + ch.intn(6))
	}
	budget := int64(4*s3kit.MinPartSize + s3kit.MinPartSize/2)
	if nw > 1 {
		budget = s3kit.MinPartSize + 64<<10
	}
	for range nw {
		w := wSpec{conc: 1 + ch.intn(8), prior: ch.oneIn(3)}
		switch ch.weighted(4, 3, 2) {
		case 1:
			w.partSize = s3kit.MinPartSize
		case 2:
			// A part larger than the Client's: io.Copy from a Reader of the
			// same Client must still not wait for itself.
			if 2*s3kit.MinPartSize <= limit {
				w.partSize = 2 * s3kit.MinPartSize
			}
		}
		c.writers = append(c.writers, w)
	}
	nops := 1 + ch.intn(5)
	if nw > 1 {
		nops = nw + ch.intn(3*nw)
	}
	totals := make([]int64, nw)
	for i := range nops {
		o := wOp{w: ch.intn(nw)}
		if nw > 1 && i < nw {
			o.w = i // every Writer gets its buffer before any closes
		}
		p := c.partOf(o.w)
		o.n = drawSize(ch, p, totals[o.w], budget-totals[o.w])
		if nw > 1 && i < nw {
			o.n = 1 + ch.int64n(4096) // a few bytes take a whole part buffer
		}
		switch ch.weighted(4, 3, 4) {
		case 0:
			o.kind = opWrite
			if ch.oneIn(2) && o.n > 1 {
				o.chunk = 1 + ch.int64n(min(o.n, 3<<20))
			}
		case 1:
			o.kind = opReadFrom
		default:
			o.kind = opCopy
		}
		if o.kind != opWrite {
			o.src = srcKind(ch.intn(int(nSrcKinds)))
			if o.src != srcPlain && o.src != srcBuffer && ch.oneIn(3) {
				o.skip = 1 + ch.int64n(100_000)
			}
			if o.src == srcS3kit {
				o.same = ch.oneIn(2)
			}
			switch o.src {
			case srcBytes, srcSection, srcFile, srcS3kit:
				o.mut = mutation(ch.intn(4))
			}
		}
		totals[o.w] += o.n
		c.ops = append(c.ops, o)
	}
	for i := range c.writers {
		w := &c.writers[i]
		w.total = totals[i]
		p := c.partOf(i)
		switch w.mode = sizeMode(ch.weighted(5, 3, 1, 1)); w.mode {
		case sizeExact:
			w.declared = w.total
		case sizeSmall:
			w.declared = w.total - []int64{1, p, w.total / 2}[ch.intn(3)]
		case sizeLarge:
			w.declared = w.total + []int64{1, p, 1 + ch.int64n(p)}[ch.intn(3)]
		}
		if w.declared <= 0 {
			w.mode, w.declared = sizeUnknown, 0
		}
		ends := []int{8, 2, 0}
		if c.fault.persistent() {
			ends[2] = 6
		}
		w.end = wEnd(ch.weighted(ends...))
	}
	c.order = make([]int, nw)
	for i := range c.order {
		c.order[i] = i
	}
	for i := len(c.order) - 1; i > 0; i-- {
		j := ch.intn(i + 1)
		c.order[i], c.order[j] = c.order[j], c.order[i]
	}
	return c
}

// drawSize returns a size near a boundary of the part p, or of the part
// being filled after total bytes, within budget.
func drawSize(ch *chooser, p, total, budget int64) int64 {
	toBoundary := p - total%p
	var n int64
	switch ch.intn(9) {
	case 0:
		n = []int64{0, 1, 2}[ch.intn(3)]
	case 1:
		n = 1 + ch.int64n(64<<10)
	case 2:
		n = p + int64(ch.intn(3)) - 1
	case 3:
		n = int64(2+ch.intn(2))*p + int64(ch.intn(3)) - 1
	case 4, 5:
		n = toBoundary + int64(ch.intn(3)) - 1
	case 6:
		n = toBoundary + p + int64(ch.intn(3)) - 1
	case 7:
		n = 1 + ch.int64n(2*p)
	default:
		n = toBoundary + int64(ch.intn(2))*p
	}
	if n > budget || n < 0 {
		n = min(max(budget, 0), ch.int64n(64<<10))
	}
	return n
}

func cmpOr(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

// wState is the model of one Writer while a case runs.
type wState struct {
	spec   wSpec
	key    string
	w      *s3kit.Writer
	want   []byte // bytes written so far
	prior  []byte // the object at the key before, nil if none
	failed error  // first error an operation returned
	ended  bool   // Close or Abort returned
}

// caseTimeout bounds every case: a Writer that waits for itself (a
// deadlock) fails the case instead of hanging the test. S3KIT_MODEL_TIMEOUT
// (a time.Duration) changes it, for slow machines or for exploring seeds.
var caseTimeout = func() time.Duration {
	if s := os.Getenv("S3KIT_MODEL_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			panic("S3KIT_MODEL_TIMEOUT: " + err.Error())
		}
		return d
	}
	return 30 * time.Second
}()

// fuzzCaseTimeout is caseTimeout under the fuzz targets: the fuzzing
// engine kills a worker whose input runs for 10 s, which would hide which
// call waited.
const fuzzCaseTimeout = 5 * time.Second

// writerRun is one run of a case against one server.
type writerRun struct {
	t      *testing.T
	e      *env
	c      *wCase
	cli    *s3kit.Client
	proxy  *faultproxy.Proxy
	rule   *faultproxy.Rule
	b      *s3kit.Bucket
	prefix string
	ws     []*wState
	tmp    string
	fails  []string
	// closers are sources left open until the Writers end.
	closers []io.Closer
}

func (r *writerRun) failf(format string, args ...any) {
	r.fails = append(r.fails, fmt.Sprintf(format, args...))
}

var writerCaseSeq int

// runWriterCase runs c on e's server and returns what went wrong, each
// failure a sentence; nil means the Writers behaved as the model says.
func runWriterCase(t *testing.T, e *env, c *wCase) []string {
	writerCaseSeq++
	cfg := writerClients[c.client]
	cfg.MaxAttempts = 3
	cli, p := proxied(t, e, cfg)
	r := &writerRun{t: t, e: e, c: c, cli: cli, proxy: p, b: cli.Bucket(e.bucket.Name()),
		prefix: fmt.Sprintf("wm%d-%d/", c.seed%100000, writerCaseSeq), tmp: t.TempDir()}
	setup, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, spec := range c.writers {
		ws := &wState{spec: spec, key: fmt.Sprintf("%sw%d", r.prefix, i)}
		if spec.prior {
			ws.prior = modelBytes(c.seed, 1000+uint64(i), 1+int64(i)*1000)
			if err := sdkPut(setup, e, ws.key, ws.prior); err != nil {
				t.Fatalf("putting the prior object: %v", err)
			}
		}
		r.ws = append(r.ws, ws)
	}
	r.addFault()

	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				r.failf("panic: %v\n%s", v, debug.Stack())
			}
		}()
		r.drive()
		for _, c := range r.closers {
			c.Close()
		}
	}()
	select {
	case <-done:
	case <-time.After(caseTimeout + 30*time.Second):
		// The goroutine is left behind: nothing can stop it.
		r.failf("hung: still running %v after the case's context ended; the Writer ignores its context", caseTimeout+30*time.Second)
		return r.fails
	}
	r.proxy.Reset() // the checks go around the proxy, without faults
	for _, ws := range r.ws {
		r.check(ws)
	}
	return r.fails
}

func (r *writerRun) addFault() {
	isPart := faultproxy.HasQuery("partNumber")
	var rule faultproxy.Rule
	switch r.c.fault {
	case wfNone:
		return
	case wfPart503:
		rule = faultproxy.Rule{Method: http.MethodPut, Match: isPart, Times: 1, Fault: faultproxy.Status(503, "SlowDown")}
	case wfPartReset:
		rule = faultproxy.Rule{Method: http.MethodPut, Match: isPart, Times: 1, Fault: faultproxy.ResetAfter(0)}
	case wfCreate503:
		rule = faultproxy.Rule{Method: http.MethodPost, Match: faultproxy.HasQuery("uploads"), Times: 1, Fault: faultproxy.Status(503, "SlowDown")}
	case wfPartFail:
		rule = faultproxy.Rule{Method: http.MethodPut, Match: isPart, Fault: faultproxy.Status(500, "InternalError")}
	case wfCompleteFail:
		rule = faultproxy.Rule{Method: http.MethodPost, Match: faultproxy.HasQuery("uploadId"), Fault: faultproxy.Status(500, "InternalError")}
	case wfPutFail:
		rule = faultproxy.Rule{Method: http.MethodPut, Match: func(q *http.Request) bool {
			return !q.URL.Query().Has("partNumber") && q.Header.Get("X-Amz-Copy-Source") == ""
		}, Fault: faultproxy.Status(500, "InternalError")}
	}
	r.rule = r.proxy.Add(rule)
}

// sdkPut stores data at key with the SDK, around s3kit and the proxy.
func sdkPut(ctx context.Context, e *env, key string, data []byte) error {
	_, err := e.client.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket.Name()), Key: aws.String(key), Body: bytes.NewReader(data)})
	return err
}

// sdkGet returns the object at key, or nil if there is none.
func sdkGet(ctx context.Context, e *env, key string) ([]byte, error) {
	out, err := e.client.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.bucket.Name()), Key: aws.String(key)})
	if nsk := new(types.NoSuchKey); errors.As(err, &nsk) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if data == nil {
		data = []byte{}
	}
	return data, err
}

// drive runs the operations and the ends of the Writers.
func (r *writerRun) drive() {
	ctx, cancel := context.WithTimeout(r.t.Context(), caseTimeout)
	defer cancel()
	for i, ws := range r.ws {
		opts := &s3kit.WriterOptions{PartSize: ws.spec.partSize, Concurrency: ws.spec.conc, Size: ws.spec.declared}
		w, err := r.b.NewWriter(ctx, ws.key, opts)
		if err != nil {
			r.failf("NewWriter w%d: %v", i, err)
			return
		}
		ws.w = w
	}
	for i, o := range r.c.ops {
		ws := r.ws[o.w]
		data := modelBytes(r.c.seed, uint64(i), o.n)
		n, err := r.do(ctx, i, o, data)
		step := fmt.Sprintf("op %d, %s", i+1, o)
		switch {
		case ws.failed != nil:
			// io.Copy from an empty source with WriterTo never calls the
			// Writer, so it cannot report the Writer's failure.
			if err == nil && !(o.n == 0 && o.kind == opCopy) {
				r.failf("%s: returned nil after an earlier operation of w%d failed (%v); errors must be sticky", step, o.w, ws.failed)
			}
		case err != nil:
			ws.failed = err
			if !r.mayFail(ws) || deadlocked(ctx, err) {
				r.failf("%s: %s", step, describeErr(ctx, err))
			}
			if ws.spec.end == endNoClose {
				r.noCloseCheck(ctx, ws, i)
			}
		case n != o.n:
			r.failf("%s: returned %d, nil; want %d", step, n, o.n)
			ws.failed = fmt.Errorf("short count %d", n)
		default:
			ws.want = append(ws.want, data...)
		}
	}
	for i, ws := range r.ws {
		if ws.spec.end == endNoClose && ws.failed == nil && r.c.fault == wfPartFail && ws.spec.total >= r.c.partOf(i) {
			r.awaitFailure(ctx, ws, len(r.c.ops))
		}
	}
	for _, i := range r.c.order {
		ws := r.ws[i]
		if ws.spec.end == endAbort {
			if err := ws.w.Abort(); err != nil && !r.c.fault.persistent() {
				r.failf("w%d.Abort: %s", i, describeErr(ctx, err))
			}
			ws.ended = true
			if err := ws.w.Close(); err == nil {
				r.failf("w%d.Close after Abort returned nil", i)
			}
			continue
		}
		err := ws.w.Close()
		ws.ended = true
		if err != nil && ws.failed == nil {
			ws.failed = err
			if !r.mayFail(ws) || deadlocked(ctx, err) {
				r.failf("w%d.Close: %s", i, describeErr(ctx, err))
			}
		}
		if err == nil && ws.failed != nil {
			r.failf("w%d.Close returned nil after an operation failed (%v)", i, ws.failed)
		}
		if err2 := ws.w.Close(); (err2 == nil) != (err == nil) {
			r.failf("w%d: second Close returned %v, first %v", i, err2, err)
		}
		if _, err := ws.w.Write([]byte("x")); err == nil {
			r.failf("w%d: Write after Close returned nil", i)
		}
	}
}

// mayFail reports whether the model allows ws to fail: its declared size is
// wrong, or a fault keeps failing a request.
func (r *writerRun) mayFail(ws *wState) bool {
	return ws.spec.mode == sizeSmall || ws.spec.mode == sizeLarge || r.c.fault.persistent()
}

// deadlocked reports whether err is the end of the case's context: a call
// that waited that long waited for itself, whatever else went wrong.
func deadlocked(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded)
}

// describeErr tells a Writer that waited for the case's deadline (a
// deadlock) from an ordinary error.
func describeErr(ctx context.Context, err error) string {
	if deadlocked(ctx, err) {
		return fmt.Sprintf("blocked until the case's %v deadline (deadlock): %v", caseTimeout, err)
	}
	return "unexpected error: " + err.Error()
}

// settleTime is how long a failed part may take to show in the next Write,
// and a failed Writer to abort its upload, without Close.
const settleTime = 3 * time.Second

// awaitFailure writes a byte at a time until a part that failed in the
// background makes a Write fail, as it must once the failure is recorded,
// then checks what that leaves behind.
func (r *writerRun) awaitFailure(ctx context.Context, ws *wState, op int) {
	deadline := time.Now().Add(settleTime)
	for time.Now().Before(deadline) {
		if _, err := ws.w.Write([]byte{'x'}); err != nil {
			ws.failed = err
			r.noCloseCheck(ctx, ws, op)
			return
		}
		ws.want = append(ws.want, 'x')
		time.Sleep(20 * time.Millisecond)
	}
}

// noCloseCheck checks, after an operation of ws failed, that one more Write
// fails and leaves no upload behind without Close or Abort.
func (r *writerRun) noCloseCheck(ctx context.Context, ws *wState, op int) {
	if _, err := ws.w.Write([]byte("after the failure")); err == nil {
		r.failf("op %d: Write after a failed operation returned nil", op+1)
	}
	lctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	deadline := time.Now().Add(settleTime)
	for {
		n, err := uploadsFor(lctx, r.e, ws.key)
		if err != nil {
			r.failf("op %d: listing uploads: %v", op+1, err)
			return
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.failf("op %d failed (%v) and the next Write failed too, but %d multipart upload(s) of %s stayed open "+
				"for %v without Close: the Writer's doc says the next Write aborts it", op+1, ws.failed, n, ws.key, settleTime)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func uploadsFor(ctx context.Context, e *env, key string) (int, error) {
	out, err := e.client.S3().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(e.bucket.Name()), Prefix: aws.String(key)})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range out.Uploads {
		if aws.ToString(u.Key) == key {
			n++
		}
	}
	return n, nil
}

// do runs one operation with data as the bytes it writes.
func (r *writerRun) do(ctx context.Context, i int, o wOp, data []byte) (int64, error) {
	w := r.ws[o.w].w
	if o.kind == opWrite {
		if o.chunk == 0 {
			n, err := w.Write(data)
			return int64(n), err
		}
		var total int64
		for len(data) > 0 {
			c := min(int64(len(data)), o.chunk)
			n, err := w.Write(data[:c])
			total += int64(n)
			if err != nil {
				return total, err
			}
			data = data[c:]
		}
		return total, nil
	}
	// The source holds skip bytes before the ones to write.
	buf := append(modelBytes(r.c.seed, 500+uint64(i), o.skip), data...)
	var src io.Reader
	var after func()
	overwrite := o.mut == mutOverwrite || o.mut == mutBoth
	closeIt := o.mut == mutClose || o.mut == mutBoth
	switch o.src {
	case srcBytes:
		br := bytes.NewReader(buf)
		br.Seek(o.skip, io.SeekStart)
		src = br
		after = func() {
			if overwrite || closeIt {
				scribble(buf)
			}
		}
	case srcStrings:
		sr := strings.NewReader(string(buf))
		sr.Seek(o.skip, io.SeekStart)
		src = sr
	case srcBuffer:
		src = bytes.NewBuffer(buf)
		after = func() { scribble(buf) }
	case srcSection:
		src = io.NewSectionReader(bytes.NewReader(buf), o.skip, o.n)
		after = func() {
			if o.mut != mutNone {
				scribble(buf)
			}
		}
	case srcPlain:
		src = struct{ io.Reader }{bytes.NewReader(buf)}
		after = func() { scribble(buf) }
	case srcFile:
		path := filepath.Join(r.tmp, fmt.Sprintf("src-%d", i))
		if err := os.WriteFile(path, buf, 0o600); err != nil {
			r.t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			r.t.Fatal(err)
		}
		if _, err := f.Seek(o.skip, io.SeekStart); err != nil {
			r.t.Fatal(err)
		}
		src = f
		r.closers = append(r.closers, f)
		after = func() {
			if overwrite {
				scribble(buf)
				os.WriteFile(path, buf, 0o600)
			}
			if closeIt {
				f.Close()
			}
		}
	case srcS3kit:
		key := fmt.Sprintf("%ssrc-%d", r.prefix, i)
		setup, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sdkPut(setup, r.e, key, buf); err != nil {
			r.t.Fatalf("putting a source object: %v", err)
		}
		c := r.e.client
		if o.same {
			c = r.cli
		}
		rd, err := c.Bucket(r.e.bucket.Name()).NewReader(ctx, key, nil)
		if err != nil {
			return 0, fmt.Errorf("opening the source: %w", err)
		}
		if _, err := rd.Seek(o.skip, io.SeekStart); err != nil {
			r.t.Fatal(err)
		}
		src = rd
		r.closers = append(r.closers, rd)
		after = func() {
			if overwrite {
				scribble(buf)
				sdkPut(setup, r.e, key, buf)
			}
			if closeIt {
				rd.Close()
			}
		}
	}
	var n int64
	var err error
	if o.kind == opReadFrom {
		n, err = w.ReadFrom(src)
	} else {
		n, err = io.Copy(w, src)
	}
	if after != nil {
		after()
	}
	return n, err
}

// scribble changes every byte of b, as a caller reusing its buffer would.
func scribble(b []byte) {
	for i := range b {
		b[i] ^= 0x5a
	}
}

// check compares what the store holds at ws's key with the model.
func (r *writerRun) check(ws *wState) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := ws.key[len(r.prefix):]
	got, err := sdkGet(ctx, r.e, ws.key)
	if err != nil {
		r.failf("%s: reading the result: %v", name, err)
		return
	}
	committed := ws.failed == nil && ws.spec.end != endAbort
	if !ws.ended {
		// A panic cut the case short: only what it left behind is checked.
		if !bytes.Equal(got, ws.prior) || (got == nil) != (ws.prior == nil) {
			r.failf("%s: the object at the key changed although the Writer never ended", name)
		}
	} else if committed {
		if ws.spec.mode == sizeSmall || ws.spec.mode == sizeLarge {
			r.failf("%s: Close returned nil with Size %d declared and %d bytes written; want an error and nothing stored",
				name, ws.spec.declared, ws.spec.total)
		}
		if len(r.ws) == 1 && r.rule != nil && r.c.fault.persistent() && r.rule.Fired() > 0 {
			r.failf("%s: Close returned nil although %s fired %d times", name, r.c.fault, r.rule.Fired())
		}
		if !bytes.Equal(got, ws.want) {
			r.failf("%s: Close returned nil but the object %s", name, diffBytes(got, ws.want))
		} else if info := ws.w.Info(); info.Size != int64(len(ws.want)) {
			r.failf("%s: Info().Size = %d, want %d", name, info.Size, len(ws.want))
		}
		r.checkParts(ws)
	} else if !bytes.Equal(got, ws.prior) || (got == nil) != (ws.prior == nil) {
		what := "Close failed"
		if ws.spec.end == endAbort {
			what = "after Abort"
		}
		if ws.prior == nil {
			r.failf("%s: %s (%v) but an object of %d bytes is at the key", name, what, ws.failed, len(got))
		} else {
			r.failf("%s: %s (%v) but the object at the key changed: %s", name, what, ws.failed, diffBytes(got, ws.prior))
		}
	}
	if n, err := uploadsFor(ctx, r.e, ws.key); err != nil {
		r.failf("%s: listing uploads: %v", name, err)
	} else if n > 0 {
		after := [...]string{"Close", "Abort", "Close"}[ws.spec.end]
		if !ws.ended {
			after = "the panic"
		}
		r.failf("%s: %d multipart upload(s) left open after %s", name, n, after)
	}
}

// checkParts checks the parts of the completed upload, as the proxy saw
// them, against the rules of S3: numbered 1..N, every part but the last at
// least MinPartSize, and together the object's size.
func (r *writerRun) checkParts(ws *wState) {
	path := "/" + r.e.bucket.Name() + "/" + ws.key
	var upload string
	sizes := map[string]map[int]int64{}
	for _, q := range r.proxy.Requests() {
		if q.Path != path || q.Fault != "" {
			continue
		}
		v, _ := url.ParseQuery(q.RawQuery)
		id := v.Get("uploadId")
		switch {
		case q.Method == http.MethodPost && id != "":
			upload = id
		case q.Method == http.MethodPut && id != "":
			num, _ := strconv.Atoi(v.Get("partNumber"))
			size, _ := strconv.ParseInt(cmpOrString(q.Header.Get("X-Amz-Decoded-Content-Length"), q.Header.Get("Content-Length")), 10, 64)
			if sizes[id] == nil {
				sizes[id] = map[int]int64{}
			}
			sizes[id][num] = size
		}
	}
	if upload == "" {
		return // one PUT
	}
	parts := sizes[upload]
	nums := slices.Sorted(maps.Keys(parts))
	var sum int64
	for i, num := range nums {
		if num != i+1 {
			r.failf("%s: part numbers %v are not 1..%d", ws.key, nums, len(nums))
			return
		}
		if i < len(nums)-1 && parts[num] < s3kit.MinPartSize {
			r.failf("%s: part %d of %d is %d bytes, under MinPartSize", ws.key, num, len(nums), parts[num])
		}
		sum += parts[num]
	}
	if sum != int64(len(ws.want)) {
		r.failf("%s: parts sent add up to %d bytes, the object is %d", ws.key, sum, len(ws.want))
	}
}

func cmpOrString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// diffBytes describes how got differs from want.
func diffBytes(got, want []byte) string {
	if got == nil {
		return "is missing"
	}
	if len(got) != len(want) {
		return fmt.Sprintf("is %s bytes, want %s", sizeName(int64(len(got))), sizeName(int64(len(want))))
	}
	for i := range got {
		if got[i] != want[i] {
			j := i
			for j < len(got) && got[j] != want[j] {
				j++
			}
			return fmt.Sprintf("differs from byte %s (first run of %d differing bytes)", sizeName(int64(i)), j-i)
		}
	}
	return "is equal"
}

// writerSeeds are the seeds every `go test` runs on each server, about
// 330 MiB written: single Writers with every kind of source, size mode and
// fault, and seven cases of several Writers on one Client. The regressions
// of known bugs are the seed corpus of FuzzWriterModel, in
// testdata/fuzz/FuzzWriterModel, which plain `go test` runs too.
var writerSeeds = func() []uint64 {
	s := make([]uint64, 30)
	for i := range s {
		s[i] = uint64(i + 1)
	}
	return s
}()

func TestWriterModel(t *testing.T) {
	seeds := modelSeeds(writerSeeds)
	eachServer(t, func(t *testing.T, e *env) {
		for _, seed := range seeds {
			t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
				c := genWriterCase(seed, newChooser(seed, nil))
				if fails := runWriterCase(t, e, c); len(fails) > 0 {
					reportWriterCase(t, e, c, fails)
				}
			})
		}
	})
}

// modelSeeds returns the seeds to run: S3KIT_MODEL_SEED alone if set, else
// fixed followed by S3KIT_MODEL_SEEDS random ones.
func modelSeeds(fixed []uint64) []uint64 {
	if s := os.Getenv("S3KIT_MODEL_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			panic("S3KIT_MODEL_SEED: " + err.Error())
		}
		return []uint64{seed}
	}
	seeds := slices.Clone(fixed)
	if s := os.Getenv("S3KIT_MODEL_SEEDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			panic("S3KIT_MODEL_SEEDS: " + err.Error())
		}
		for range n {
			seeds = append(seeds, rand.Uint64()%1_000_000)
		}
	}
	return seeds
}

// reportWriterCase fails t with the case and its failures, shrunk first if
// S3KIT_MODEL_SHRINK is set.
func reportWriterCase(t *testing.T, e *env, c *wCase, fails []string) {
	t.Helper()
	if os.Getenv("S3KIT_MODEL_SHRINK") != "" {
		c, fails = shrinkWriterCase(t, e, c, fails)
	}
	t.Errorf("%s\n%s", c, strings.Join(fails, "\n"))
}

// shrinkWriterCase drops operations and Writers one at a time while the
// case still fails with the same first kind of failure.
func shrinkWriterCase(t *testing.T, e *env, c *wCase, fails []string) (*wCase, []string) {
	kind := failKind(fails[0])
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(c.ops); i++ {
			d := *c
			d.ops = slices.Delete(slices.Clone(c.ops), i, i+1)
			d.writers = slices.Clone(c.writers)
			recount(&d)
			if f := runWriterCase(t, e, &d); len(f) > 0 && failKind(f[0]) == kind {
				c, fails, changed = &d, f, true
				i--
			}
		}
		if c.fault != wfNone {
			d := *c
			d.fault = wfNone
			if f := runWriterCase(t, e, &d); len(f) > 0 && failKind(f[0]) == kind {
				c, fails, changed = &d, f, true
			}
		}
	}
	return c, fails
}

// recount updates the Writers' totals and declared sizes after operations
// were dropped.
func recount(c *wCase) {
	for i := range c.writers {
		w := &c.writers[i]
		old := w.total
		w.total = 0
		for _, o := range c.ops {
			if o.w == i {
				w.total += o.n
			}
		}
		if w.mode != sizeUnknown {
			w.declared += w.total - old
			if w.mode == sizeExact {
				w.declared = w.total
			}
			if w.declared <= 0 {
				w.mode, w.declared = sizeUnknown, 0
			}
		}
	}
}

// failKind is the part of a failure message that names what went wrong,
// without the numbers.
func failKind(s string) string {
	if i := strings.Index(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	s, _, _ = strings.Cut(s, "\n")
	s = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, s)
	return s[:min(len(s), 40)]
}

// FuzzWriterModel runs cases drawn from the fuzzer's seed and bytes on
// every selected server. Run it alone and on one core:
//
//	go test -run '^$' -fuzz '^FuzzWriterModel$' -fuzztime 3m -parallel 1 .
func FuzzWriterModel(f *testing.F) {
	caseTimeout = min(caseTimeout, fuzzCaseTimeout)
	f.Fuzz(func(t *testing.T, seed uint64, choices []byte) {
		if len(choices) > 128 {
			choices = choices[:128]
		}
		eachServer(t, func(t *testing.T, e *env) {
			c := genWriterCase(seed, newChooser(seed, choices))
			if fails := runWriterCase(t, e, c); len(fails) > 0 {
				t.Errorf("%s\n%s", c, strings.Join(fails, "\n"))
			}
		})
	})
}

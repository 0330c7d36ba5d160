package s3kit_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
	"github.com/s3kit/s3kit/internal/s3test"
)

// TestSoak runs random mixes of operations through a fault proxy that
// injects random faults, on every server at once, and checks the results
// against a model of what each object and local file may legally hold.
//
// Every worker owns its keys and local files, so its operations on them are
// sequential and the model needs no ordering across workers; the workers
// still share one Client (its connections and memory budget) and run
// concurrently. An operation that returns nil must have done its work; one
// that returns an error may or may not have (an answer lost after the
// server committed), so the model then allows both. Checks: every read
// returns bytes of an allowed content or an error; at the end, with a
// fault-free client, every object holds exactly one allowed content, whole,
// no object exists that may not, no multipart upload is left, local
// directories hold only allowed files (no temporary file), TMPDIR holds
// nothing of s3kit, and goroutines settle back.
//
// A seed reproduces a run: each worker draws its operations from it, and
// the proxy its faults from it and each request (see faultproxy.Random),
// not from timing; an operation is named by its worker and its number
// there ("worker 2 #57"), the same in every run of the seed. Timing still
// varies (delays, which of the parallel parts a fault meets first), so a
// rerun meets most, not always all, of the same failures.
//
// Environment: S3KIT_SOAK_SEED (default: random, printed first),
// S3KIT_SOAK_OPS (operations per server,
// default 500), S3KIT_SOAK_WORKERS (default 4), S3KIT_SOAK_RATE (fault
// probability per request, default 0.12), S3KIT_SOAK_OP_TIMEOUT (default
// 15s), S3KIT_SOAK_LOG (a file that receives every operation as it ends,
// which survives a crash). scripts/soak.sh runs the short and long modes.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak skipped in -short mode")
	}
	if len(servers) == 0 {
		t.Skip("no servers selected (S3KIT_TEST_SERVERS=none)")
	}
	cfg := soakConfigFromEnv(t)
	// The seed goes to stderr at once, so that a crash still names it.
	fmt.Fprintf(os.Stderr, "soak: seed %d (S3KIT_SOAK_SEED=%d reproduces), %d ops per server, %d workers, fault rate %.2f\n",
		cfg.seed, cfg.seed, cfg.ops, cfg.workers, cfg.rate)
	t.Logf("seed %d", cfg.seed)

	// s3kit's own temporary files (FS spools) go to a directory of the
	// soak's, which must be empty at the end. (t.Setenv would forbid the
	// parallel subtests.)
	tmpdir := t.TempDir()
	oldTmp, hadTmp := os.LookupEnv("TMPDIR")
	os.Setenv("TMPDIR", tmpdir)
	defer func() {
		if hadTmp {
			os.Setenv("TMPDIR", oldTmp)
		} else {
			os.Unsetenv("TMPDIR")
		}
	}()

	var logFile *os.File
	if cfg.logPath != "" {
		f, err := os.Create(cfg.logPath)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		logFile = f
	}

	baseline := runtime.NumGoroutine()
	start := time.Now()
	runs := make([]*soakRun, len(servers))
	t.Run("servers", func(t *testing.T) {
		for i, srv := range servers {
			t.Run(srv.Name, func(t *testing.T) {
				t.Parallel()
				runs[i] = newSoakRun(t, srv, cfg, logFile)
				runs[i].run(t)
			})
		}
	})
	elapsed := time.Since(start)

	var violations []string
	for _, r := range runs {
		if r != nil {
			for _, v := range r.violations {
				violations = append(violations, r.srv.Name+": "+v)
			}
		}
	}
	var ents []os.DirEntry
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if ents, err = os.ReadDir(tmpdir); err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, e := range ents {
		violations = append(violations, fmt.Sprintf("TMPDIR: %s left behind", e.Name()))
	}
	if leak := goroutineLeak(baseline, 10*time.Second); leak != "" {
		violations = append(violations, leak)
	}

	t.Logf("soak: %d ops on %d servers in %v (seed %d)\n%s", cfg.ops*len(servers), len(servers), elapsed.Round(time.Second), cfg.seed, summaryTable(runs, violations))
	if len(violations) > 0 {
		if cfg.logPath != "" {
			t.Logf("operation log: %s", cfg.logPath)
		} else {
			for _, r := range runs {
				if r != nil {
					var b strings.Builder
					for _, op := range r.ops {
						b.WriteString(op.String() + "\n")
					}
					t.Logf("operation log of %s:\n%s", r.srv.Name, b.String())
				}
			}
		}
		t.Errorf("soak with seed %d (S3KIT_SOAK_SEED=%d reproduces): %d invariant violations:\n%s",
			cfg.seed, cfg.seed, len(violations), strings.Join(violations, "\n\n"))
	}
}

type soakConfig struct {
	seed      uint64
	ops       int // per server
	workers   int
	rate      float64
	opTimeout time.Duration
	logPath   string
}

func soakConfigFromEnv(t *testing.T) soakConfig {
	cfg := soakConfig{seed: rand.Uint64() >> 1, ops: 500, workers: 4, rate: 0.12, opTimeout: 15 * time.Second}
	num := func(name string, parse func(string) error) {
		if v := os.Getenv(name); v != "" {
			if err := parse(v); err != nil {
				t.Fatalf("%s=%q: %v", name, v, err)
			}
		}
	}
	num("S3KIT_SOAK_SEED", func(v string) (err error) { cfg.seed, err = strconv.ParseUint(v, 10, 64); return })
	num("S3KIT_SOAK_OPS", func(v string) (err error) { cfg.ops, err = strconv.Atoi(v); return })
	num("S3KIT_SOAK_WORKERS", func(v string) (err error) { cfg.workers, err = strconv.Atoi(v); return })
	num("S3KIT_SOAK_RATE", func(v string) (err error) { cfg.rate, err = strconv.ParseFloat(v, 64); return })
	num("S3KIT_SOAK_OP_TIMEOUT", func(v string) (err error) { cfg.opTimeout, err = time.ParseDuration(v); return })
	cfg.logPath = os.Getenv("S3KIT_SOAK_LOG")
	if cfg.ops < 1 || cfg.workers < 1 || cfg.rate < 0 || cfg.rate > 1 || cfg.opTimeout <= 0 {
		t.Fatalf("bad soak settings %+v", cfg)
	}
	return cfg
}

func getBytes(ctx context.Context, b *s3kit.Bucket, key string) ([]byte, error) {
	data, _, err := b.GetBytes(ctx, key)
	return data, err
}

func putBytes(ctx context.Context, b *s3kit.Bucket, key string, data []byte) error {
	_, err := b.PutBytes(ctx, key, data, nil)
	return err
}

// soakPart is the part size of every multipart transfer of the soak: the
// smallest S3 allows, to keep the volume down while crossing part
// boundaries.
const soakPart = s3kit.MinPartSize

// version is one content an object or file may hold: size bytes generated
// from id. The zero version stands for "absent".
type version struct {
	id   uint64
	size int64
}

var absent = version{}

func (v version) String() string {
	if v == absent {
		return "absent"
	}
	return fmt.Sprintf("v%x(%d B)", v.id&0xffffffff, v.size)
}

func (v version) bytes() []byte {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], v.id)
	b := make([]byte, v.size)
	_, _ = rand.NewChaCha8(seed).Read(b)
	return b
}

// vset is the set of versions a key or a file may hold.
type vset map[version]bool

func (s vset) String() string {
	var vs []string
	for v := range s {
		vs = append(vs, v.String())
	}
	sort.Strings(vs)
	return "{" + strings.Join(vs, ", ") + "}"
}

func (s vset) clone() vset {
	c := vset{}
	for v := range s {
		c[v] = true
	}
	return c
}

// present is s without absent.
func (s vset) present() vset {
	c := s.clone()
	delete(c, absent)
	return c
}

// match returns the version of s whose bytes are data.
func (s vset) match(data []byte) (version, bool) {
	for v := range s {
		if v != absent && v.size == int64(len(data)) && bytes.Equal(v.bytes(), data) {
			return v, true
		}
	}
	return absent, false
}

// opRecord is one operation as the log shows it.
type opRecord struct {
	n        int // in the order operations of all workers began
	worker   int
	nth      int // of the worker's: the same in every run of a seed
	kind     string
	desc     string
	err      error
	panicked bool
	faults   []string
	// elsewhere counts the faults that, meanwhile, hit requests naming no
	// worker's key (DeleteObjects carries its keys in the body): this
	// operation's, or another's.
	elsewhere int64
	took      time.Duration
}

func (r *opRecord) String() string {
	res := "ok"
	switch {
	case r.panicked:
		res = "PANIC"
	case r.err != nil:
		res = "error: " + r.err.Error()
	}
	s := fmt.Sprintf("op %d (worker %d #%d) %s %s [%v] -> %s", r.n, r.worker, r.nth, r.kind, r.desc, r.took.Round(time.Millisecond), res)
	if len(r.faults) > 0 {
		s += "\n      faults: " + strings.Join(r.faults, ", ")
	}
	if r.elsewhere > 0 {
		s += fmt.Sprintf("\n      and %d faults meanwhile on requests of no single worker (DeleteObjects, listings)", r.elsewhere)
	}
	return s
}

// soakRun is the soak on one server.
type soakRun struct {
	srv     *s3test.Server
	cfg     soakConfig
	proxy   *faultproxy.Proxy
	faulty  *s3kit.Bucket // through the proxy
	checker *s3kit.Client // straight to the server, for the final checks
	checkTr *http.Transport
	bucket  string
	logFile *os.File
	workers []*soakWorker
	opSeq   atomic.Int64
	// unattributedN counts the faults of requests that name no worker's
	// key; any operation running meanwhile may have met one.
	unattributedN atomic.Int64

	mu           sync.Mutex
	ops          []*opRecord
	faultsByKind map[string]int
	violations   []string
	notes        []string
	fragile      []*opRecord // failed on a single fault
	unattributed []string
}

func newSoakRun(t *testing.T, srv *s3test.Server, cfg soakConfig, logFile *os.File) *soakRun {
	r := &soakRun{srv: srv, cfg: cfg, logFile: logFile, faultsByKind: map[string]int{}}
	r.checkTr = &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
	t.Cleanup(r.checkTr.CloseIdleConnections)
	r.checker = newClient(t, srv, s3kit.Config{HTTPClient: &http.Client{Transport: r.checkTr}})
	b := newBucket(t, r.checker)
	r.bucket = b.Name()

	r.proxy = faultproxy.New(srv.Endpoint)
	t.Cleanup(r.proxy.Close)
	picker := &faultproxy.Random{Seed: cfg.seed ^ hashString(srv.Name), Rate: cfg.rate}
	r.proxy.Add(faultproxy.Rule{Choose: func(req *http.Request) faultproxy.Fault {
		f := picker.Choose(req)
		if s := f.String(); s != "" {
			r.noteFault(req, s)
		}
		return f
	}})
	fcfg := s3kit.Config{
		Endpoint: r.proxy.URL, MaxAttempts: 4,
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: 20 * time.Millisecond,
		PartSize: soakPart, MemoryLimit: 128 << 20, Concurrency: 4,
		// Hung answers end in seconds rather than at the operation's
		// timeout.
		StallTimeout: 2 * time.Second,
	}
	r.faulty = newClient(t, srv, fcfg).Bucket(r.bucket)
	return r
}

// hashString gives each server its own faults from one seed.
func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

var workerOfKey = regexp.MustCompile(`^w([0-9]+)/`)

// noteFault counts a fault and attributes it to the worker whose key or
// listing prefix the request names; it runs under the proxy's lock.
func (r *soakRun) noteFault(req *http.Request, fault string) {
	kind, _, _ := strings.Cut(fault, "(")
	if kind == "Status" || kind == "OKWithError" {
		kind = fault // no random parameter: the code tells more
	}
	_, key, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	if key == "" {
		key = req.URL.Query().Get("prefix")
	}
	desc := fmt.Sprintf("%s %s?%s: %s", req.Method, key, req.URL.RawQuery, fault)
	r.mu.Lock()
	r.faultsByKind[kind]++
	r.mu.Unlock()
	if m := workerOfKey.FindStringSubmatch(key); m != nil {
		if i, err := strconv.Atoi(m[1]); err == nil && i < len(r.workers) {
			r.workers[i].noteFault(desc)
			return
		}
	}
	// Requests that name no key of a worker (a DeleteObjects carries its
	// keys in the body) are logged with the run.
	r.mu.Lock()
	r.unattributed = append(r.unattributed, desc)
	r.mu.Unlock()
	r.unattributedN.Add(1)
}

func (r *soakRun) note(format string, args ...any) {
	r.mu.Lock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *soakRun) violation(format string, args ...any) {
	r.mu.Lock()
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *soakRun) run(t *testing.T) {
	root := t.TempDir()
	r.workers = make([]*soakWorker, r.cfg.workers)
	for i := range r.workers {
		dir := filepath.Join(root, "w"+strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		r.workers[i] = &soakWorker{
			run: r, id: i, dir: dir, pfx: "w" + strconv.Itoa(i),
			keys:    map[string]vset{},
			local:   map[string]vset{},
			history: map[string][]*opRecord{},
		}
	}
	per := (r.cfg.ops + r.cfg.workers - 1) / r.cfg.workers
	var wg sync.WaitGroup
	for i, w := range r.workers {
		n := min(per, r.cfg.ops-i*per)
		wg.Go(func() {
			for j := 0; j < n; j++ {
				w.step()
			}
		})
	}
	wg.Wait()
	// Nothing may arrive late: the proxy is closed before the checks,
	// which also ends the faulty client's connections.
	r.proxy.Close()
	r.finalChecks(t, root)
}

// finalChecks compares the bucket, the uploads and the local directories
// with the models, through the fault-free client.
func (r *soakRun) finalChecks(t *testing.T, root string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b := r.checker.Bucket(r.bucket)

	// Multipart uploads left behind; a store may list an aborted upload
	// for a moment.
	var uploads []string
	for attempt := 0; attempt < 10; attempt++ {
		out, err := r.checker.S3().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(r.bucket)})
		if err != nil {
			r.violation("ListMultipartUploads: %v", err)
			break
		}
		uploads = uploads[:0]
		for _, u := range out.Uploads {
			key := aws.ToString(u.Key)
			uploads = append(uploads, key)
			if attempt == 9 {
				r.violation("multipart upload %s of %s left behind (initiated %v)%s", aws.ToString(u.UploadId), key, aws.ToTime(u.Initiated).Format(time.TimeOnly), r.historyOf(key))
				_, _ = r.checker.S3().AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(r.bucket), Key: u.Key, UploadId: u.UploadId})
			}
		}
		if len(uploads) == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Objects: each listed one must be allowed and whole.
	listed := map[string]bool{}
	for obj, err := range b.List(ctx, nil) {
		if err != nil {
			r.violation("listing the bucket: %v", err)
			break
		}
		listed[obj.Key] = true
		w := r.ownerOf(obj.Key)
		if w == nil {
			r.violation("object %s (%d B) belongs to no worker", obj.Key, obj.Size)
			continue
		}
		allowed := w.keys[obj.Key]
		if len(allowed.present()) == 0 {
			r.violation("object %s (%d B) exists, but the model allows only %v%s", obj.Key, obj.Size, allowed, w.historyOf(obj.Key))
			continue
		}
		data, err := getBytes(ctx, b, obj.Key)
		if err != nil {
			r.violation("reading %s fault-free: %v", obj.Key, err)
			continue
		}
		if _, ok := allowed.match(data); !ok {
			r.violation("object %s holds %d bytes matching none of %v%s%s", obj.Key, len(data), allowed, describeMismatch(allowed, data), w.historyOf(obj.Key))
		}
	}
	for _, w := range r.workers {
		for _, key := range slices.Sorted(maps.Keys(w.keys)) {
			if !listed[key] && !w.keys[key][absent] {
				r.violation("object %s is missing; the model allows only %v%s", key, w.keys[key], w.historyOf(key))
			}
		}
		w.checkLocal("at the end")
	}
	// Nothing written beside the workers' directories.
	ents, err := os.ReadDir(root)
	if err != nil {
		r.violation("reading %s: %v", root, err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "w") {
			r.violation("%s written outside the download roots", filepath.Join(root, e.Name()))
		}
	}
}

// describeMismatch says how data differs from the allowed version of its
// size: where the first wrong byte is, or that no version has its size.
func describeMismatch(allowed vset, data []byte) string {
	for v := range allowed {
		if v != absent && v.size == int64(len(data)) {
			want := v.bytes()
			for i := range want {
				if want[i] != data[i] {
					n := 0
					for j := i; j < len(want); j++ {
						if want[j] != data[j] {
							n++
						}
					}
					return fmt.Sprintf(" (against %v: first wrong byte at %d, %d bytes wrong)", v, i, n)
				}
			}
		}
	}
	return " (no allowed version has that size)"
}

func (r *soakRun) ownerOf(key string) *soakWorker {
	if m := workerOfKey.FindStringSubmatch(key); m != nil {
		if i, err := strconv.Atoi(m[1]); err == nil && i < len(r.workers) {
			return r.workers[i]
		}
	}
	return nil
}

func (r *soakRun) historyOf(key string) string {
	if w := r.ownerOf(key); w != nil {
		return w.historyOf(key)
	}
	return ""
}

// soakWorker runs operations on its own keys (under "wN/") and local
// directory, and keeps their model.
type soakWorker struct {
	run *soakRun
	id  int
	pfx string
	dir string
	// rnd draws the current operation and its arguments; it is seeded
	// anew for each, so that what a worker's nth operation does never
	// depends on how earlier ones went.
	rnd *rand.Rand

	keys    map[string]vset // object key -> allowed versions
	local   map[string]vset // path under dir, slash-separated -> allowed versions
	history map[string][]*opRecord
	cur     *opRecord
	nops    int
	verify  []string // keys the current operation reported written

	cacheV version
	cacheB []byte

	fmu    sync.Mutex
	faults []string // of the current operation
}

func (w *soakWorker) noteFault(desc string) {
	w.fmu.Lock()
	w.faults = append(w.faults, desc)
	w.fmu.Unlock()
}

func (w *soakWorker) violation(format string, args ...any) {
	w.run.violation("op %d (worker %d #%d, seed %d) %s %s: %s", w.cur.n, w.id, w.cur.nth, w.run.cfg.seed, w.cur.kind, w.cur.desc, fmt.Sprintf(format, args...))
}

func (w *soakWorker) historyOf(key string) string {
	h := w.history[key]
	if len(h) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n    history of " + key + ":")
	for _, op := range h {
		b.WriteString("\n    " + op.String())
	}
	return b.String()
}

// soakOps are the operations and their weights.
var soakOps = []struct {
	name   string
	weight int
	fn     func(w *soakWorker, ctx context.Context) error
}{
	{"put", 10, (*soakWorker).opPut},
	{"get", 10, (*soakWorker).opGet},
	{"copy", 6, func(w *soakWorker, ctx context.Context) error { return w.opCopy(ctx, false) }},
	{"mpcopy", 4, func(w *soakWorker, ctx context.Context) error { return w.opCopy(ctx, true) }},
	{"delete", 5, (*soakWorker).opDelete},
	{"deletemany", 3, (*soakWorker).opDeleteMany},
	{"writer", 10, (*soakWorker).opWriter},
	{"writer-abort", 1, (*soakWorker).opWriterAbort},
	{"reader", 8, (*soakWorker).opReader},
	{"upload", 5, (*soakWorker).opUpload},
	{"download", 6, (*soakWorker).opDownload},
	{"fs-create", 3, (*soakWorker).opFSCreate},
	{"sync-up", 3, (*soakWorker).opSyncUp},
	{"sync-down", 3, (*soakWorker).opSyncDown},
	{"fs-rename", 4, (*soakWorker).opRename},
	{"fs-removeall", 2, (*soakWorker).opRemoveAll},
}

// step draws and runs one operation, catching a panic as a finding.
func (w *soakWorker) step() {
	w.nops++
	w.rnd = rand.New(rand.NewPCG(w.run.cfg.seed, uint64(w.id)<<32|uint64(w.nops)))
	total := 0
	for _, o := range soakOps {
		total += o.weight
	}
	pick := w.rnd.IntN(total)
	i := 0
	for ; pick >= soakOps[i].weight; i++ {
		pick -= soakOps[i].weight
	}
	op := soakOps[i]
	rec := &opRecord{n: int(w.run.opSeq.Add(1)), worker: w.id, nth: w.nops, kind: op.name}
	if rec.n%100 == 0 {
		// The soak reads no request log; a long run would hoard it.
		w.run.proxy.ForgetRequests()
	}
	w.cur = rec
	w.fmu.Lock()
	w.faults = nil
	w.fmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), w.run.cfg.opTimeout)
	start := time.Now()
	unattributed := w.run.unattributedN.Load()
	func() {
		defer func() {
			if p := recover(); p != nil {
				rec.panicked = true
				rec.err = fmt.Errorf("panic: %v", p)
				w.violation("panic: %v\n%s", p, libraryFrames(debug.Stack()))
			}
		}()
		rec.err = op.fn(w, ctx)
	}()
	cancel()
	rec.took = time.Since(start)
	w.fmu.Lock()
	rec.faults = w.faults
	w.fmu.Unlock()
	rec.elsewhere = w.run.unattributedN.Load() - unattributed
	if over := rec.took - w.run.cfg.opTimeout; over > 5*time.Second {
		w.violation("returned %v after its context's deadline\n    %s", over.Round(time.Millisecond), rec)
	}
	w.checkUploads()
	if rec.panicked {
		w.verify = w.verify[:0]
	}
	w.verifyWrites()
	// Without a fault, an operation may fail only because the model lets
	// the object be absent (or present, for a rename onto a directory).
	if rec.err != nil && !rec.panicked && len(rec.faults) == 0 && rec.elsewhere == 0 &&
		!errors.Is(rec.err, fs.ErrNotExist) && !errors.Is(rec.err, fs.ErrExist) {
		w.violation("failed although no fault hit it: %v", rec.err)
	}
	// One fault that is not a stall should be absorbed by the retries
	// (MaxAttempts 4); an operation it fails is fragile, not wrong. A
	// checksum mismatch is the detection working, not a missed retry.
	if rec.err != nil && !rec.panicked && len(rec.faults) == 1 && rec.elsewhere == 0 &&
		!errors.Is(rec.err, fs.ErrNotExist) && !errors.Is(rec.err, fs.ErrExist) && !errors.Is(rec.err, s3kit.ErrChecksum) &&
		!strings.Contains(rec.faults[0], "Hang") {
		w.run.mu.Lock()
		w.run.fragile = append(w.run.fragile, rec)
		w.run.mu.Unlock()
	}
	w.run.mu.Lock()
	w.run.ops = append(w.run.ops, rec)
	if f := w.run.logFile; f != nil {
		fmt.Fprintf(f, "%s: %s\n", w.run.srv.Name, rec)
	}
	w.run.mu.Unlock()
}

// checkUploads reports the multipart uploads of the worker's keys that
// the operation just ended left behind, and aborts them so that the next
// operation is not blamed. A store may list an aborted upload for a
// moment.
func (w *soakWorker) checkUploads() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s3c := w.run.checker.S3()
	for attempt := 0; ; attempt++ {
		// The whole bucket's: MinIO lists the uploads under a prefix only
		// when it is a whole key.
		out, err := s3c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(w.run.bucket)})
		if err != nil {
			w.violation("ListMultipartUploads: %v", err)
			return
		}
		out.Uploads = slices.DeleteFunc(out.Uploads, func(u types.MultipartUpload) bool {
			return !strings.HasPrefix(aws.ToString(u.Key), w.pfx+"/")
		})
		if len(out.Uploads) == 0 {
			return
		}
		if attempt < 5 {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		for _, u := range out.Uploads {
			w.violation("left the multipart upload %s of %s behind\n    %s", aws.ToString(u.UploadId), aws.ToString(u.Key), w.cur)
			_, _ = s3c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(w.run.bucket), Key: u.Key, UploadId: u.UploadId})
		}
		return
	}
}

// libraryFrames keeps the frames of s3kit's own code from a stack trace.
func libraryFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	var out []string
	for i := 0; i+1 < len(lines); i++ {
		if strings.HasPrefix(lines[i], "github.com/s3kit/s3kit.") {
			out = append(out, "    "+lines[i], "    "+lines[i+1])
		}
	}
	return strings.Join(out, "\n")
}

// touched records that the current operation may change key.
func (w *soakWorker) touched(key string) {
	h := w.history[key]
	if len(h) == 0 || h[len(h)-1] != w.cur {
		w.history[key] = append(h, w.cur)
	}
}

// maybe allows v at key before an operation that may write it; sure makes
// v the only version after the operation returned nil. A panic or an error
// in between leaves both versions allowed.
func (w *soakWorker) maybe(key string, vs ...version) {
	w.touched(key)
	s := w.keys[key]
	if s == nil {
		s = vset{absent: true}
		w.keys[key] = s
	}
	for _, v := range vs {
		s[v] = true
	}
}

func (w *soakWorker) sure(key string, vs ...version) {
	s := vset{}
	for _, v := range vs {
		s[v] = true
	}
	w.keys[key] = s
	if !slices.Contains(w.verify, key) {
		w.verify = append(w.verify, key)
	}
}

// verifyWrites checks, fault-free, the keys that the operation just ended
// reported written or deleted, so that a wrong object is blamed on the
// operation that made it. A wrong object is deleted and modelled absent,
// so that it is reported once.
func (w *soakWorker) verifyWrites() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := w.run.checker.Bucket(w.run.bucket)
	for _, key := range w.verify {
		allowed := w.keys[key]
		data, err := getBytes(ctx, b, key)
		switch {
		case errors.Is(err, s3kit.ErrNotExist):
			if !allowed[absent] {
				w.violation("returned nil, but %s is missing; the model allows only %v%s", key, allowed, w.historyOf(key))
				w.keys[key] = vset{absent: true}
			}
		case err != nil:
			w.violation("reading %s fault-free: %v", key, err)
		default:
			if _, ok := allowed.match(data); !ok {
				w.violation("returned nil, but %s holds %d bytes matching none of %v%s%s", key, len(data), allowed, describeMismatch(allowed, data), w.historyOf(key))
				_ = b.Delete(ctx, key)
				w.keys[key] = vset{absent: true}
			}
		}
	}
	w.verify = w.verify[:0]
}

// allowed returns the versions key may hold.
func (w *soakWorker) allowed(key string) vset {
	if s, ok := w.keys[key]; ok {
		return s
	}
	return vset{absent: true}
}

// bytesOf is v.bytes(), remembered for the last version asked.
func (w *soakWorker) bytesOf(v version) []byte {
	if w.cacheV != v || w.cacheB == nil {
		w.cacheV, w.cacheB = v, v.bytes()
	}
	return w.cacheB
}

func (w *soakWorker) newVersion(size int64) version {
	return version{id: w.rnd.Uint64() | 1, size: size}
}

// smallSize draws a size from 0 to 1 MiB, log-uniformly.
func (w *soakWorker) smallSize() int64 {
	if w.rnd.IntN(20) == 0 {
		return 0
	}
	return w.rnd.Int64N(int64(1) << (1 + w.rnd.IntN(20)))
}

// transferSize draws sizes at the part boundaries half of the time.
func (w *soakWorker) transferSize() int64 {
	if w.rnd.IntN(2) == 0 {
		return []int64{0, 1, soakPart - 1, soakPart, soakPart + 1, 2 * soakPart}[w.rnd.IntN(6)]
	}
	return w.smallSize()
}

// soakFlat is how many flat keys each worker writes and reads.
const soakFlat = 4

func (w *soakWorker) flatKey() string { return fmt.Sprintf("%s/obj/%d", w.pfx, w.rnd.IntN(soakFlat)) }

func (w *soakWorker) opPut(ctx context.Context) error {
	key, v := w.flatKey(), w.newVersion(w.smallSize())
	w.cur.desc = key + " " + v.String()
	w.maybe(key, v)
	if err := putBytes(ctx, w.run.faulty, key, v.bytes()); err != nil {
		return err
	}
	w.sure(key, v)
	return nil
}

func (w *soakWorker) opGet(ctx context.Context) error {
	key := w.flatKey()
	w.cur.desc = key
	allowed := w.allowed(key)
	data, err := getBytes(ctx, w.run.faulty, key)
	if errors.Is(err, s3kit.ErrNotExist) && !allowed[absent] {
		w.violation("ErrNotExist, but the model allows only %v", allowed)
	}
	if err != nil {
		return err
	}
	if _, ok := allowed.match(data); !ok {
		w.wrongBytes(key, true, "returned %d bytes matching none of %v%s%s", len(data), allowed, describeMismatch(allowed, data), w.historyOf(key))
	}
	return nil
}

func (w *soakWorker) opCopy(ctx context.Context, multipart bool) error {
	src, dst := w.flatKey(), w.flatKey()
	for dst == src {
		dst = w.flatKey()
	}
	w.cur.desc = src + " -> " + dst
	var opts *s3kit.CopyOptions
	if multipart {
		opts = &s3kit.CopyOptions{MultipartThreshold: 1, PartSize: soakPart}
	}
	from := w.allowed(src).present()
	w.touched(src)
	w.maybe(dst, slices.Collect(maps.Keys(from))...)
	if _, err := w.run.faulty.Copy(ctx, src, dst, opts); err != nil {
		return err
	}
	if len(from) == 0 {
		w.violation("a copy of %s, which the model says is absent, succeeded", src)
		return nil
	}
	w.sure(dst, slices.Collect(maps.Keys(from))...)
	return nil
}

func (w *soakWorker) opDelete(ctx context.Context) error {
	key := w.flatKey()
	w.cur.desc = key
	w.maybe(key, absent)
	if err := w.run.faulty.Delete(ctx, key); err != nil {
		return err
	}
	w.sure(key, absent)
	return nil
}

func (w *soakWorker) opDeleteMany(ctx context.Context) error {
	n := 2 + w.rnd.IntN(3)
	var keys []string
	for len(keys) < n {
		if k := w.flatKey(); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	w.cur.desc = strings.Join(keys, " ")
	for _, k := range keys {
		w.maybe(k, absent)
	}
	res, err := w.run.faulty.DeleteMany(ctx, keys)
	failed := map[string]bool{}
	for _, ke := range res.Failed {
		failed[ke.Key] = true
	}
	if err == nil && len(res.Failed) > 0 {
		w.violation("nil error, yet %d keys failed", len(res.Failed))
	}
	if err != nil && len(res.Failed) == 0 {
		// The whole batch may have failed: nothing known per key.
		return err
	}
	for _, k := range keys {
		if !failed[k] {
			w.sure(k, absent)
		}
	}
	return err
}

// opWriter writes an object through a Writer, by one of the ways callers
// feed one: Writes of random sizes, io.Copy from a *bytes.Reader (whose
// WriteTo makes one Write), ReadFrom of an io.ReaderAt whose buffer is
// overwritten as soon as ReadFrom returns, ReadFrom of a plain stream, and
// Writes followed by ReadFrom.
func (w *soakWorker) opWriter(ctx context.Context) error {
	key, v := w.flatKey(), w.newVersion(w.transferSize())
	modes := []string{"write", "io.Copy", "readfrom-readerat", "readfrom-stream", "write+readfrom"}
	mode := modes[w.rnd.IntN(len(modes))]
	w.cur.desc = fmt.Sprintf("%s %v via %s", key, v, mode)
	data := v.bytes()
	w.maybe(key, v)
	wr, err := w.run.faulty.NewWriter(ctx, key, &s3kit.WriterOptions{PartSize: soakPart})
	if err != nil {
		return err
	}
	var werr error
	switch mode {
	case "write":
		werr = w.writeChunks(wr, data)
	case "io.Copy":
		_, werr = io.Copy(wr, bytes.NewReader(data))
	case "readfrom-readerat":
		buf := slices.Clone(data)
		src := &watchedReader{Reader: bytes.NewReader(buf)}
		_, werr = wr.ReadFrom(src)
		// The caller owns its buffer again once ReadFrom has returned.
		src.returned.Store(true)
		for i := range buf {
			buf[i] = 0xA5
		}
		defer func() {
			if n := src.late.Load(); n > 0 {
				w.violation("ReadFrom returned before it had read its source: %d reads came after it returned", n)
			}
		}()
	case "readfrom-stream":
		_, werr = wr.ReadFrom(io.MultiReader(bytes.NewReader(data)))
	case "write+readfrom":
		cut := w.rnd.IntN(len(data) + 1)
		if werr = w.writeChunks(wr, data[:cut]); werr == nil {
			_, werr = wr.ReadFrom(bytes.NewReader(data[cut:]))
		}
	}
	cerr := wr.Close()
	if cerr == nil && werr != nil {
		w.violation("Close returned nil after the writes failed: %v", werr)
		return werr
	}
	if cerr != nil {
		return cerr
	}
	w.sure(key, v)
	return nil
}

// watchedReader counts the reads that come after the caller was told the
// source is no longer needed.
type watchedReader struct {
	*bytes.Reader
	returned atomic.Bool
	late     atomic.Int64
}

func (r *watchedReader) Read(p []byte) (int, error) {
	if r.returned.Load() {
		r.late.Add(1)
	}
	return r.Reader.Read(p)
}

func (r *watchedReader) ReadAt(p []byte, off int64) (int, error) {
	if r.returned.Load() {
		r.late.Add(1)
	}
	return r.Reader.ReadAt(p, off)
}

// writeChunks writes data in chunks of random sizes, whole parts among
// them.
func (w *soakWorker) writeChunks(wr io.Writer, data []byte) error {
	for len(data) > 0 {
		var n int
		switch w.rnd.IntN(4) {
		case 0:
			n = soakPart
		case 1:
			n = 1 + w.rnd.IntN(1024)
		default:
			n = 1 + w.rnd.IntN(256<<10)
		}
		n = min(n, len(data))
		if _, err := wr.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

func (w *soakWorker) opWriterAbort(ctx context.Context) error {
	key, v := w.flatKey(), w.newVersion(w.transferSize())
	w.cur.desc = fmt.Sprintf("%s %v", key, v)
	w.touched(key)
	wr, err := w.run.faulty.NewWriter(ctx, key, &s3kit.WriterOptions{PartSize: soakPart})
	if err != nil {
		return err
	}
	// Nothing may come of it, whatever the writes and Abort return.
	werr := w.writeChunks(wr, v.bytes())
	return errors.Join(werr, wr.Abort())
}

// opReader reads an object through a Reader: either straight through
// with Reads of random sizes (which verifies the checksum at the end), or
// by random Seeks, Reads and ReadAts.
func (w *soakWorker) opReader(ctx context.Context) error {
	key := w.flatKey()
	opts := &s3kit.ReaderOptions{PartSize: int64(1+w.rnd.IntN(4)) * 64 << 10, Concurrency: 1 + w.rnd.IntN(3)}
	sequential := w.rnd.IntN(2) == 0
	w.cur.desc = fmt.Sprintf("%s part %d conc %d sequential=%v", key, opts.PartSize, opts.Concurrency, sequential)
	allowed := w.allowed(key)
	r, err := w.run.faulty.NewReader(ctx, key, opts)
	if errors.Is(err, s3kit.ErrNotExist) && !allowed[absent] {
		w.violation("ErrNotExist, but the model allows only %v", allowed)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	cands := vset{}
	for v := range allowed.present() {
		if v.size == r.Size() {
			cands[v] = true
		}
	}
	if len(cands) == 0 {
		w.violation("Reader of %d bytes, but the model allows only %v", r.Size(), allowed)
		return nil
	}
	// check narrows the candidates to those holding got at off.
	check := func(how string, off int64, got []byte) {
		for v := range cands {
			if !bytes.Equal(w.bytesOf(v)[off:off+int64(len(got))], got) {
				delete(cands, v)
			}
		}
		if len(cands) == 0 {
			full := off == 0 && int64(len(got)) == r.Size()
			w.wrongBytes(key, full, "%s returned %d bytes at offset %d that match no allowed version (%v) and no error%s",
				how, len(got), off, allowed, w.historyOf(key))
		}
	}
	if sequential {
		var got []byte
		buf := make([]byte, 256<<10)
		for {
			n, err := r.Read(buf[:1+w.rnd.IntN(len(buf))])
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		check("Read to the end", 0, got)
		if len(cands) > 0 && int64(len(got)) != r.Size() {
			w.violation("Read returned io.EOF after %d of %d bytes", len(got), r.Size())
		}
		return nil
	}
	size := r.Size()
	for i := 0; i < 3+w.rnd.IntN(6) && len(cands) > 0; i++ {
		off := int64(0)
		if size > 0 {
			off = w.rnd.Int64N(size + 1)
		}
		n := 1 + w.rnd.IntN(64<<10)
		if w.rnd.IntN(3) == 0 {
			n = 1 + w.rnd.IntN(1<<20)
		}
		p := make([]byte, n)
		if w.rnd.IntN(2) == 0 {
			got, err := r.ReadAt(p, off)
			want := min(int64(n), size-off)
			if err != nil && (err != io.EOF || int64(got) != want) {
				return err
			}
			if int64(got) != want {
				w.violation("ReadAt(%d bytes at %d) of %d returned %d bytes, nil", n, off, size, got)
			}
			check("ReadAt", off, p[:got])
			continue
		}
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			return err
		}
		got, err := io.ReadFull(r, p)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return err
		}
		if want := min(int64(n), size-off); int64(got) != want {
			w.violation("Seek(%d) and Read of %d of %d returned %d bytes, %v", off, n, size, got, err)
		}
		check("Seek and Read", off, p[:got])
	}
	return nil
}

// flipNote says whether the proxy corrupted a body during the operation:
// only a read from the first byte to the last can detect that, by the
// object's checksum.
func (w *soakWorker) flipNote() string {
	w.fmu.Lock()
	defer w.fmu.Unlock()
	for _, f := range w.faults {
		if strings.Contains(f, "FlipByte") {
			return " (a FlipByte fault hit this operation)"
		}
	}
	return ""
}

// wrongBytes reports bytes of key that match no allowed version: a
// violation, unless a FlipByte fault hit the operation and the object has
// no full-object checksum, so that no client could have noticed (partial
// reads cannot be verified either; full is false for them).
func (w *soakWorker) wrongBytes(key string, full bool, format string, args ...any) {
	if note := w.flipNote(); note != "" && (!full || !w.verifiable(key)) {
		w.run.note("op %d (worker %d #%d) %s %s: undetectable corruption: %s%s", w.cur.n, w.id, w.cur.nth, w.cur.kind, w.cur.desc, fmt.Sprintf(format, args...), note)
		return
	}
	w.violation(format, args...)
}

// verifiable reports whether the object at key has a full-object checksum
// that a whole read can be verified against, as a fault-free HEAD sees it.
func (w *soakWorker) verifiable(key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := w.run.checker.Bucket(w.run.bucket).Head(ctx, key, nil)
	if err != nil || info.ChecksumType == "COMPOSITE" {
		return false
	}
	for _, alg := range []string{"CRC64NVME", "CRC32C", "CRC32"} {
		if v := info.Checksums[alg]; v != "" && !strings.Contains(v, "-") {
			return true
		}
	}
	return false
}

func (w *soakWorker) opUpload(ctx context.Context) error {
	key, v := w.flatKey(), w.newVersion(w.transferSize())
	w.cur.desc = fmt.Sprintf("%s %v", key, v)
	src := filepath.Join(w.dir, "up", "src")
	w.writeLocal("up/src", v)
	w.maybe(key, v)
	_, err := w.run.faulty.Upload(ctx, src, key, nil)
	// The file is the caller's again once Upload has returned.
	w.writeLocal("up/src", w.newVersion(v.size))
	if err != nil {
		return err
	}
	w.sure(key, v)
	return nil
}

// writeLocal makes the local file rel hold v, or removes it for absent.
func (w *soakWorker) writeLocal(rel string, v version) {
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	if v == absent {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			panic(err)
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			panic(err)
		}
		if err := os.WriteFile(p, v.bytes(), 0o644); err != nil {
			panic(err)
		}
	}
	w.local[rel] = vset{v: true}
}

func (w *soakWorker) opDownload(ctx context.Context) error {
	key := w.flatKey()
	rel := "dl/" + strings.ReplaceAll(key, "/", "_")
	opts := &s3kit.TransferOptions{PartSize: int64(1+w.rnd.IntN(8)) * 64 << 10, Concurrency: 1 + w.rnd.IntN(3)}
	w.cur.desc = fmt.Sprintf("%s -> %s part %d conc %d", key, rel, opts.PartSize, opts.Concurrency)
	before := w.local[rel]
	if before == nil {
		before = vset{absent: true}
	}
	allowed := w.allowed(key)
	_, err := w.run.faulty.Download(ctx, key, filepath.Join(w.dir, filepath.FromSlash(rel)), opts)
	data, rerr := os.ReadFile(filepath.Join(w.dir, filepath.FromSlash(rel)))
	switch {
	case err == nil && rerr != nil:
		w.violation("Download returned nil, but the file cannot be read: %v", rerr)
	case err == nil:
		v, ok := allowed.match(data)
		if !ok {
			w.wrongBytes(key, true, "Download returned nil, but the file's %d bytes match none of %v%s%s", len(data), allowed, describeMismatch(allowed, data), w.historyOf(key))
			// Counted once: the file goes.
			w.writeLocal(rel, absent)
			break
		}
		w.local[rel] = vset{v: true}
	case errors.Is(err, s3kit.ErrNotExist) && !allowed[absent]:
		w.violation("ErrNotExist, but the model allows only %v", allowed)
	case rerr == nil:
		if _, ok := before.match(data); !ok {
			w.violation("a failed Download (%v) left %d bytes in the file, not its earlier content %v", err, len(data), before)
			w.writeLocal(rel, absent)
		}
	case !before[absent]:
		w.violation("a failed Download (%v) removed the file", err)
	}
	w.checkLocal("after the Download")
	return err
}

func (w *soakWorker) opFSCreate(ctx context.Context) error {
	key, v := w.flatKey(), w.newVersion(w.transferSize())
	w.cur.desc = fmt.Sprintf("%s %v", key, v)
	w.maybe(key, v)
	f, err := w.run.faulty.Prefix(w.pfx).FS(ctx).Create(strings.TrimPrefix(key, w.pfx+"/"))
	if err != nil {
		return err
	}
	_, werr := io.Copy(f, bytes.NewReader(v.bytes()))
	cerr := f.Close()
	if cerr == nil && werr != nil {
		w.violation("Close returned nil after the writes failed: %v", werr)
		return werr
	}
	if cerr != nil {
		return cerr
	}
	w.sure(key, v)
	return nil
}

// The tree that Sync and FS operations work on: local names of the sync
// source, and the directories renames move them between.
var soakTree = []string{"a", "b", "c/d", "c/e", "f/g/h"}

func (w *soakWorker) treeKey(name string) string { return w.pfx + "/tree/" + name }

// opSyncUp changes the local tree at random, then syncs it to the bucket
// with Delete and Checksum, after which the tree in the bucket must be the
// local one exactly.
func (w *soakWorker) opSyncUp(ctx context.Context) error {
	for _, name := range soakTree {
		switch w.rnd.IntN(6) {
		case 0:
			w.writeLocal("src/"+name, absent)
		case 1, 2:
			size := w.smallSize()
			if w.rnd.IntN(10) == 0 {
				size = soakPart + 1
			}
			w.writeLocal("src/"+name, w.newVersion(size))
		}
	}
	conc := 1 + w.rnd.IntN(3)
	w.cur.desc = fmt.Sprintf("src -> %s/tree conc %d", w.pfx, conc)
	want := map[string]version{}
	for _, name := range soakTree {
		if s, ok := w.local["src/"+name]; ok {
			for v := range s {
				want[w.treeKey(name)] = v
			}
		}
	}
	for key := range w.keys {
		if strings.HasPrefix(key, w.treeKey("")) {
			if _, ok := want[key]; !ok {
				want[key] = absent
			}
		}
	}
	for key, v := range want {
		w.maybe(key, v)
	}
	_, err := s3kit.Sync(ctx, s3kit.LocalDir(filepath.Join(w.dir, "src")), w.run.faulty.Prefix(w.pfx, "tree"),
		&s3kit.SyncOptions{Delete: true, Checksum: true, Concurrency: conc})
	if err != nil {
		return err
	}
	for key, v := range want {
		w.sure(key, v)
	}
	return nil
}

// opSyncDown syncs the tree in the bucket to a local directory with Delete
// and Checksum, after which each local file must be the object's.
func (w *soakWorker) opSyncDown(ctx context.Context) error {
	conc := 1 + w.rnd.IntN(3)
	w.cur.desc = fmt.Sprintf("%s/tree -> down conc %d", w.pfx, conc)
	want := map[string]vset{}
	for key, s := range w.keys {
		if name, ok := strings.CutPrefix(key, w.treeKey("")); ok {
			want["down/"+name] = s.clone()
			w.touched(key)
		}
	}
	for rel, s := range want {
		old := w.local[rel]
		if old == nil {
			old = vset{absent: true}
		}
		for v := range s {
			old[v] = true
		}
		w.local[rel] = old
	}
	_, err := s3kit.Sync(ctx, w.run.faulty.Prefix(w.pfx, "tree"), s3kit.LocalDir(filepath.Join(w.dir, "down")),
		&s3kit.SyncOptions{Delete: true, Checksum: true, Concurrency: conc})
	if err == nil {
		for rel, s := range want {
			w.local[rel] = s
		}
	}
	w.checkLocal("after the Sync")
	return err
}

// opRename renames a file over a file, or a directory of the tree to a
// name that may be free or not.
func (w *soakWorker) opRename(ctx context.Context) error {
	var from, to string
	switch w.rnd.IntN(3) {
	case 0:
		i := w.rnd.IntN(soakFlat)
		from, to = "obj/"+strconv.Itoa(i), "obj/"+strconv.Itoa((i+1+w.rnd.IntN(soakFlat-1))%soakFlat)
	case 1:
		from, to = "tree/a", "tree/b"
	default:
		from, to = "tree/c", "tree/x"
	}
	if w.rnd.IntN(2) == 0 {
		from, to = to, from
	}
	w.cur.desc = from + " -> " + to
	src, dst := w.pfx+"/"+from, w.pfx+"/"+to
	// What may move: the file src, or the objects under src/.
	moves := map[string]vset{}
	if s := w.allowed(src).present(); len(s) > 0 {
		moves[src] = s
	}
	for key, s := range w.keys {
		if strings.HasPrefix(key, src+"/") && len(s.present()) > 0 {
			moves[key] = s.clone()
		}
	}
	dstOf := func(key string) string { return dst + strings.TrimPrefix(key, src) }
	for key, s := range moves {
		w.maybe(dstOf(key), slices.Collect(maps.Keys(s))...)
		w.maybe(key, absent)
	}
	if err := w.run.faulty.Prefix(w.pfx).FS(ctx).Rename(from, to); err != nil {
		return err
	}
	if len(moves) == 0 {
		w.violation("Rename succeeded, but the model says %s is absent", src)
		return nil
	}
	for key, s := range moves {
		w.sure(dstOf(key), slices.Collect(maps.Keys(s))...)
		w.sure(key, absent)
	}
	return nil
}

func (w *soakWorker) opRemoveAll(ctx context.Context) error {
	names := []string{"tree/c", "tree/x", "tree/f", "tree/a", "obj/" + strconv.Itoa(w.rnd.IntN(soakFlat))}
	name := names[w.rnd.IntN(len(names))]
	w.cur.desc = name
	full := w.pfx + "/" + name
	var gone []string
	for key := range w.keys {
		if key == full || strings.HasPrefix(key, full+"/") {
			gone = append(gone, key)
			w.maybe(key, absent)
		}
	}
	if err := w.run.faulty.Prefix(w.pfx).FS(ctx).RemoveAll(name); err != nil {
		return err
	}
	for _, key := range gone {
		w.sure(key, absent)
	}
	return nil
}

// checkLocal compares the worker's directory with the local model: every
// file there must be allowed (a temporary file never is), and every file
// that must exist does.
func (w *soakWorker) checkLocal(when string) {
	seen := map[string]bool{}
	err := filepath.WalkDir(w.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(w.dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		allowed, ok := w.local[rel]
		if !ok || len(allowed.present()) == 0 {
			w.violation("%s: unexpected local file %s", when, rel)
			return nil
		}
		if !d.Type().IsRegular() {
			w.violation("%s: %s is not a regular file", when, rel)
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, ok := allowed.match(data); !ok {
			msg := fmt.Sprintf("%s: local file %s holds %d bytes matching none of %v%s", when, rel, len(data), allowed, describeMismatch(allowed, data))
			if key := w.sourceOf(rel); key != "" {
				w.wrongBytes(key, true, "%s%s", msg, w.historyOf(key))
			} else {
				w.violation("%s", msg)
			}
			// Counted once: the file goes.
			w.writeLocal(rel, absent)
		}
		return nil
	})
	if err != nil {
		w.violation("%s: walking %s: %v", when, w.dir, err)
	}
	for rel, s := range w.local {
		if !seen[rel] && !s[absent] {
			w.violation("%s: local file %s is missing; the model allows only %v%s", when, rel, s, w.historyOf(w.sourceOf(rel)))
		}
	}
}

// sourceOf returns the key a local file of the sync or download
// directories comes from, or "".
func (w *soakWorker) sourceOf(rel string) string {
	if name, ok := strings.CutPrefix(rel, "down/"); ok {
		return w.treeKey(name)
	}
	if name, ok := strings.CutPrefix(rel, "dl/"); ok {
		return strings.ReplaceAll(name, "_", "/")
	}
	return ""
}

// goroutineLeak waits up to wait for the number of goroutines to fall back
// to baseline and, if it does not, describes the goroutines that run s3kit
// code.
func goroutineLeak(baseline int, wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			var s3kitStacks []string
			for _, g := range strings.Split(string(buf), "\n\n") {
				if strings.Contains(g, "s3kit/s3kit.") && !strings.Contains(g, "TestSoak") {
					s3kitStacks = append(s3kitStacks, g)
				}
			}
			return fmt.Sprintf("goroutines: %d at the end, %d at the start; those in s3kit code:\n%s",
				runtime.NumGoroutine(), baseline, strings.Join(s3kitStacks, "\n\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ""
}

// summaryTable formats the operations by kind, the faults by kind and the
// violations of every run.
func summaryTable(runs []*soakRun, violations []string) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\top\tcount\terrors\tpanics\ttimeouts\tmax time\t")
	for _, r := range runs {
		if r == nil {
			continue
		}
		type agg struct {
			n, errs, panics, timeouts int
			max                       time.Duration
		}
		by := map[string]*agg{}
		tot := &agg{}
		for _, op := range r.ops {
			a := by[op.kind]
			if a == nil {
				a = &agg{}
				by[op.kind] = a
			}
			for _, x := range []*agg{a, tot} {
				x.n++
				x.max = max(x.max, op.took)
				if op.err != nil {
					x.errs++
				}
				if op.panicked {
					x.panics++
				}
				if errors.Is(op.err, context.DeadlineExceeded) {
					x.timeouts++
				}
			}
		}
		for _, name := range slices.Sorted(maps.Keys(by)) {
			a := by[name]
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%v\t\n", r.srv.Name, name, a.n, a.errs, a.panics, a.timeouts, a.max.Round(time.Millisecond))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%v\t\n", r.srv.Name, "ALL", tot.n, tot.errs, tot.panics, tot.timeouts, tot.max.Round(time.Millisecond))
	}
	tw.Flush()
	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\tfault\tinjected\t")
	for _, r := range runs {
		if r == nil {
			continue
		}
		total := 0
		for _, name := range slices.Sorted(maps.Keys(r.faultsByKind)) {
			fmt.Fprintf(tw, "%s\t%s\t%d\t\n", r.srv.Name, name, r.faultsByKind[name])
			total += r.faultsByKind[name]
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t\n", r.srv.Name, "ALL", total)
	}
	tw.Flush()
	for _, r := range runs {
		if r == nil {
			continue
		}
		fmt.Fprintf(&b, "\n%s: %d faults hit requests of no single worker (DeleteObjects, bucket listings)", r.srv.Name, len(r.unattributed))
		var stalled []string
		for _, op := range r.ops {
			if errors.Is(op.err, context.DeadlineExceeded) {
				stalled = append(stalled, strings.ReplaceAll(op.String(), "\n", "\n    "))
			}
		}
		fmt.Fprintf(&b, "\n%s: %d operations ended only by their deadline (%v)", r.srv.Name, len(stalled), r.cfg.opTimeout)
		for _, s := range stalled {
			b.WriteString("\n    " + s)
		}
		fmt.Fprintf(&b, "\n%s: %d operations failed on a single fault that retries should have absorbed", r.srv.Name, len(r.fragile))
		for _, op := range r.fragile {
			b.WriteString("\n    " + strings.ReplaceAll(op.String(), "\n", "\n    "))
		}
		fmt.Fprintf(&b, "\n%s: %d corruptions no client could detect (FlipByte on a partial read or an object without a full-object checksum)", r.srv.Name, len(r.notes))
		for _, n := range r.notes {
			b.WriteString("\n    " + n)
		}
	}
	fmt.Fprintf(&b, "\n\ninvariant violations: %d\n", len(violations))
	return b.String()
}

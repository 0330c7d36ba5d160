package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3kit/s3kit"
)

var (
	flagServers = flag.String("servers", "null,versitygw", "servers to benchmark against, comma-separated: null, versitygw")
	flagClients = flag.String("clients", "", "clients to benchmark, comma-separated (default all: "+strings.Join(ClientNames, ",")+"; and s5cmd in the sync cases)")
	flagLarge   = flag.String("large", "", "size of the large transfers (default 1GiB; 16MiB with -test.short)")
	flagRSS     = flag.String("rss-size", "", "size of the stream upload whose peak RSS is measured (default 2GiB; 32MiB with -test.short)")
	flagKeys    = flag.Int("keys", 100000, "keys of the null server's canned listing")
	flagRound   = flag.Int("round", 0, "round of an interleaved run: rotates the order in which clients run")
)

func TestMain(m *testing.M) {
	ChildMain() // exits if this process is a child the benchmarks started
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		// Configuration lines of the benchmark format, kept by benchstat
		// and read by cmd/benchreport.
		fmt.Printf("tuned-equal: part=%s concurrency=%d idle-conns=%d checksum=%s payload=unsigned\n",
			FormatSize(TunedPartSize), TunedConcurrency, TunedIdleConns, TunedChecksum)
		fmt.Printf("scale-aws-max-keys: %d\nscale-aws-first-max-keys: %d\nscale-s5cmd-max-keys: %d\nscale-first-max-keys: %d\n", *flagAWSMax, *flagAWSFirstMax, *flagS5cmdMax, *flagFirstMax)
	}
	code := m.Run()
	env.close()
	os.Exit(code)
}

// env is what the benchmarks of one process share: servers started on
// first use, clients, the source file of uploads.
var env = &benchEnv{
	servers: map[string]*Server{},
	errs:    map[string]error{},
	clients: map[string]Client{},
	seeded:  map[string]bool{},
}

type benchEnv struct {
	mu      sync.Mutex
	servers map[string]*Server
	errs    map[string]error
	clients map[string]Client
	seeded  map[string]bool // "server/key" of objects written
	dir     string          // temporary directory of source and downloaded files
	src     string          // the upload source file, largeSize() bytes
	cli     string          // the s3kit command built from this checkout
}

// The objects every server holds for the download and small-object cases:
// "big" as a typical multipart upload leaves it (8 MiB parts), "small" of
// one PUT.
const (
	bigKey       = "big"
	smallKey     = "small"
	smallSize    = 4 * KiB
	seedPartSize = 8 * MiB
)

func sizeFlag(tb testing.TB, f *string, def, short int64) int64 {
	if *f == "" {
		if testing.Short() {
			return short
		}
		return def
	}
	n, err := ParseSize(*f)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func largeSize(tb testing.TB) int64 { return sizeFlag(tb, flagLarge, GiB, 16*MiB) }
func rssSize(tb testing.TB) int64   { return sizeFlag(tb, flagRSS, 2*GiB, 32*MiB) }

// server returns the named server, starting it on first use.
func (e *benchEnv) server(tb testing.TB, name string) *Server {
	tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.servers[name]; s != nil {
		return s
	}
	if err := e.errs[name]; err != nil {
		tb.Fatalf("%s did not start: %v", name, err)
	}
	ctx := context.Background()
	var s *Server
	var err error
	switch name {
	case "null":
		// Objects cost the null server nothing: all of them at start.
		objs := []Object{e.seedObject(tb, bigKey), e.seedObject(tb, smallKey)}
		for _, parts := range downloadParts(tb) {
			objs = append(objs, e.seedObject(tb, downloadKey(parts)))
		}
		s, err = StartNull(ctx, *flagKeys, objs)
	case "versitygw":
		s, err = StartVersityGW(ctx) // objects seeded on first use
	case "minio":
		s, err = StartMinIO(ctx)
	default:
		err = fmt.Errorf("unknown server %q (want null, versitygw or minio)", name)
	}
	if err != nil {
		if s != nil {
			s.Stop()
		}
		e.errs[name] = err
		tb.Fatal(err)
	}
	e.servers[name] = s
	return s
}

// seedObject returns the object the benchmarks read at key.
func (e *benchEnv) seedObject(tb testing.TB, key string) Object {
	if key == bigKey {
		return Object{Key: bigKey, Size: largeSize(tb), PartSize: seedPartSize}
	}
	for _, parts := range downloadParts(tb) {
		if key == downloadKey(parts) {
			return downloadObject(tb, parts)
		}
	}
	return Object{Key: smallKey, Size: smallSize}
}

// object makes sure that s holds the object the benchmarks read at key,
// writing it on first use.
func (e *benchEnv) object(tb testing.TB, s *Server, key string) {
	tb.Helper()
	if s.Server == "null" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	k := s.Server + "/" + key
	if e.seeded[k] {
		return
	}
	if err := Seed(context.Background(), s.Endpoint, e.seedObject(tb, key)); err != nil {
		tb.Fatalf("writing %s to %s: %v", key, s.Server, err)
	}
	e.seeded[k] = true
}

// client returns the named client of server s, skipping tb if the pair
// cannot be measured.
func (e *benchEnv) client(tb testing.TB, s *Server, name string) Client {
	tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	k := s.Server + "/" + name
	if c := e.clients[k]; c != nil {
		return c
	}
	c, err := NewClient(context.Background(), name, s.Endpoint)
	if errors.Is(err, ErrNotSupported) {
		tb.Skip(err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	e.clients[k] = c
	return c
}

// tempDir returns the directory of the benchmarks' files, under
// os.TempDir(), removed by close.
func (e *benchEnv) tempDir(tb testing.TB) string {
	tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dir == "" {
		d, err := os.MkdirTemp("", "s3kit-bench-")
		if err != nil {
			tb.Fatal(err)
		}
		e.dir = d
	}
	return e.dir
}

// source returns the path of a file of largeSize bytes to upload.
func (e *benchEnv) source(tb testing.TB) string {
	tb.Helper()
	dir := e.tempDir(tb)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.src == "" {
		p := filepath.Join(dir, "source")
		if err := WritePatternFile(p, largeSize(tb)); err != nil {
			tb.Fatal(err)
		}
		e.src = p
	}
	return e.src
}

func (e *benchEnv) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for name, s := range e.servers {
		if err := s.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping %s: %v\n", name, err)
		}
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// verifier returns a client used to check what the others wrote: the SDK,
// tuned (it is not the one being measured when it checks).
func (e *benchEnv) verifier(tb testing.TB, s *Server) Client {
	return e.client(tb, s, "sdk-tuned")
}

// delete removes key from s, outside any measurement.
func (e *benchEnv) delete(s *Server, key string) error {
	_, err := newS3API(s.Endpoint, true).DeleteObject(context.Background(),
		&s3.DeleteObjectInput{Bucket: aws.String(BenchBucket), Key: aws.String(key)})
	return err
}

// selectedClients returns the clients of -clients among want, in the
// order of want rotated by -round, so that over an interleaved run every
// client runs in every position.
func selectedClients(want []string) []string {
	var names []string
	for _, n := range want {
		if *flagClients == "" || slices.Contains(strings.Split(*flagClients, ","), n) {
			names = append(names, n)
		}
	}
	if len(names) > 0 {
		r := *flagRound % len(names)
		names = append(names[r:], names[:r]...)
	}
	return names
}

func selectedServers() []string {
	var names []string
	for _, n := range strings.Split(*flagServers, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// patternChecker is a writer that checks that what it is given is the null
// server's content from offset 0 on.
type patternChecker struct {
	off int64
	buf []byte
	err error
}

func (w *patternChecker) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if cap(w.buf) < len(p) {
		w.buf = make([]byte, len(p))
	}
	want := w.buf[:len(p)]
	FillPattern(want, w.off)
	if i := firstDiff(p, want); i >= 0 {
		w.err = fmt.Errorf("byte %d differs from the pattern", w.off+int64(i))
		return i, w.err
	}
	w.off += int64(len(p))
	return len(p), nil
}

func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestNullServer checks that the null server is a correct enough S3 for
// every client measured against it: each can write (one PUT, a multipart
// upload from a file and from a stream), head, read whole, read a range,
// download, and list through it. An operation a client does not have is
// logged, not failed.
func TestNullServer(t *testing.T) {
	const (
		keys = 2500     // three pages of the listing, the last one partial
		size = 20 * MiB // above every client's multipart threshold
	)
	ns := NewNullServer(keys)
	ns.SetObject(BenchBucket, bigKey, size, seedPartSize)
	ns.SetObject(BenchBucket, smallKey, smallSize, 0)
	hs := httptest.NewServer(ns)
	defer hs.Close()
	ep := Endpoint{Server: "null", URL: hs.URL, AccessKey: AccessKey, SecretKey: SecretKey, Region: Region, Unsigned: true}

	dir := t.TempDir()
	src := filepath.Join(dir, "source")
	if err := WritePatternFile(src, size); err != nil {
		t.Fatal(err)
	}
	small := make([]byte, smallSize)
	FillPattern(small, 0)
	ctx := context.Background()

	for _, name := range ClientNames {
		t.Run(name, func(t *testing.T) {
			c, err := NewClient(ctx, name, ep)
			if err != nil {
				t.Fatal(err)
			}
			// check runs one operation; an unsupported one is logged.
			check := func(op string, err error) bool {
				t.Helper()
				if errors.Is(err, ErrNotSupported) {
					t.Logf("%s: %v", op, err)
					return false
				}
				if err != nil {
					t.Errorf("%s: %v", op, err)
					return false
				}
				return true
			}
			wantSize := func(op, key string, want int64) {
				t.Helper()
				if got, ok := ns.ObjectSize(BenchBucket, key); !ok || got != want {
					t.Errorf("%s: server holds %d bytes (exists %t), want %d", op, got, ok, want)
				}
			}
			pre := "sanity/" + name + "/"

			if check("PutBytes", c.PutBytes(ctx, pre+"small", small)) {
				wantSize("PutBytes", pre+"small", smallSize)
			}
			if check("UploadFile", c.UploadFile(ctx, pre+"file", src)) {
				wantSize("UploadFile", pre+"file", size)
			}
			if check("UploadStream", c.UploadStream(ctx, pre+"stream", PatternReader(size))) {
				wantSize("UploadStream", pre+"stream", size)
			}
			if n, err := c.Head(ctx, bigKey); check("Head", err) && n != size {
				t.Errorf("Head: size %d, want %d", n, size)
			}
			if got, err := c.GetBytes(ctx, smallKey); check("GetBytes", err) && !bytes.Equal(got, small) {
				t.Errorf("GetBytes: %d bytes not the object's %d", len(got), smallSize)
			}
			// A range across the end of the pattern and a part boundary.
			off, n := int64(seedPartSize-100), int64(300)
			if got, err := c.GetRange(ctx, bigKey, off, n); check("GetRange", err) {
				want := make([]byte, n)
				FillPattern(want, off)
				if !bytes.Equal(got, want) {
					t.Errorf("GetRange(%d, %d): got %d bytes, not the object's", off, n, len(got))
				}
			}
			pc := &patternChecker{}
			if n, err := c.DownloadWriter(ctx, bigKey, pc); check("DownloadWriter", err) && n != size {
				t.Errorf("DownloadWriter: %d bytes, want %d", n, size)
			}
			dst := filepath.Join(dir, name)
			if check("DownloadFile", c.DownloadFile(ctx, bigKey, dst)) {
				f, err := os.Open(dst)
				if err != nil {
					t.Fatal(err)
				}
				pc := &patternChecker{}
				if n, err := io.Copy(pc, f); err != nil || n != size {
					t.Errorf("DownloadFile: file of %d bytes (%v), want %d of the object", n, err, size)
				}
				f.Close()
			}
			i := 0
			count, err := c.List(ctx, "", func(key string, sz int64) {
				if i < keys && (key != ListKey(i) || sz != ListSize(i)) {
					t.Errorf("List: entry %d is %q (%d bytes), want %q (%d)", i, key, sz, ListKey(i), ListSize(i))
				}
				i++
			})
			if check("List", err) && count != keys {
				t.Errorf("List: %d keys, want %d", count, keys)
			}
		})
	}
}

// TestNullServerErrors checks the answers clients rely on to classify
// failures, through s3kit.
func TestNullServerErrors(t *testing.T) {
	ns := NewNullServer(10)
	hs := httptest.NewServer(ns)
	defer hs.Close()
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{Endpoint: hs.URL, AccessKeyID: AccessKey, SecretAccessKey: SecretKey, Region: Region, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := c.Bucket(BenchBucket)
	if _, _, err := b.GetBytes(ctx, "missing"); !errors.Is(err, s3kit.ErrNotExist) {
		t.Errorf("GetBytes of a missing key: %v, want ErrNotExist", err)
	}
	if _, err := b.Head(ctx, "missing", nil); !errors.Is(err, s3kit.ErrNotExist) {
		t.Errorf("Head of a missing key: %v, want ErrNotExist", err)
	}
	if _, err := b.PutString(ctx, "k", "v", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PutString(ctx, "k", "v", &s3kit.PutOptions{IfNoneMatch: "*"}); !errors.Is(err, s3kit.ErrExist) {
		t.Errorf("create-only Put over an object: %v, want ErrExist", err)
	}
	for _, tc := range []struct {
		h          string
		size       int64
		start, end int64
		ok         bool
	}{
		{"bytes=0-9", 100, 0, 10, true},
		{"bytes=90-", 100, 90, 100, true},
		{"bytes=-10", 100, 90, 100, true},
		{"bytes=50-500", 100, 50, 100, true},
		{"bytes=100-", 100, 0, 0, false},
		{"bytes=0-1,5-6", 100, 0, 100, true},
	} {
		s, e, ok := parseRange(tc.h, tc.size)
		if s != tc.start || e != tc.end || ok != tc.ok {
			t.Errorf("parseRange(%q, %d) = %d, %d, %t; want %d, %d, %t", tc.h, tc.size, s, e, ok, tc.start, tc.end, tc.ok)
		}
	}
}

package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3kit/s3kit"
)

// The directory sync cases: a local directory to a prefix of BenchBucket
// on versitygw (the null server keeps nothing it is sent, so a sync to it
// would compare against a listing that never changes). The contenders,
// each at its defaults:
//
//   - s3kit: s3kit.Sync (8 files at once, each file's upload as Upload's).
//   - s5cmd: the s5cmd CLI's sync command (256 workers), a process per
//     sync, its start-up included; built by tools/install.sh at the version
//     pinned in tools/go.mod.
//   - sdk: the loop one would write with aws-sdk-go-v2 service/s3 alone,
//     at the SDK's defaults: walk the directory, one PutObject per file
//     from s3kit.DefaultConcurrency goroutines. It lists and compares
//     nothing at the destination: less work than a sync, a ceiling for the
//     uploads into an empty prefix.
//
// Every sync starts from the same state: a new client (new connections),
// and for uploads a prefix that no sync has used. What a sync wrote is
// checked against the directory and deleted with the timer stopped.
var (
	syncUploadClients    = []string{"s3kit", "s5cmd", "sdk"}
	syncUnchangedClients = []string{"s3kit", "s5cmd"} // sdk does not compare
)

var (
	flagSyncSmall = flag.String("sync-small", "", "files of the small-file sync cases, as COUNTxSIZE (default 1000x4KiB; 50x4KiB with -test.short)")
	flagSyncLarge = flag.String("sync-large", "", "files of the large-file sync case, as COUNTxSIZE (default 16x8MiB; 2x1MiB with -test.short)")
	flagS5cmd     = flag.String("s5cmd", "", "the s5cmd binary (default <repo>/.tools/bin/s5cmd, built by bench/tools/install.sh if missing); none: skip s5cmd")
)

// syncSpec is the shape of a directory to sync: files of one size.
type syncSpec struct {
	files int
	size  int64
}

func (s syncSpec) String() string {
	return fmt.Sprintf("files=%d/size=%s", s.files, FormatSize(s.size))
}

func syncSpecFlag(tb testing.TB, f *string, def, short syncSpec) syncSpec {
	if *f == "" {
		if testing.Short() {
			return short
		}
		return def
	}
	n, size, ok := strings.Cut(*f, "x")
	files, err1 := strconv.Atoi(n)
	sz, err2 := ParseSize(size)
	if !ok || err1 != nil || err2 != nil || files < 1 || sz < 1 {
		tb.Fatalf("bad sync size %q: want COUNTxSIZE, such as 1000x4KiB", *f)
	}
	return syncSpec{files, sz}
}

func syncSmall(tb testing.TB) syncSpec {
	return syncSpecFlag(tb, flagSyncSmall, syncSpec{1000, 4 * KiB}, syncSpec{50, 4 * KiB})
}

func syncLarge(tb testing.TB) syncSpec {
	return syncSpecFlag(tb, flagSyncLarge, syncSpec{16, 8 * MiB}, syncSpec{2, MiB})
}

// BenchmarkSyncSmallFiles syncs a directory of -sync-small files (1,000
// of 4 KiB) into an empty prefix, and reports files/s.
func BenchmarkSyncSmallFiles(b *testing.B) {
	benchSyncUpload(b, syncSmall(b), false)
}

// BenchmarkSyncLargeFiles syncs a directory of -sync-large files (16 of
// 8 MiB) into an empty prefix, and reports MB/s and files/s.
func BenchmarkSyncLargeFiles(b *testing.B) {
	benchSyncUpload(b, syncLarge(b), true)
}

// BenchmarkSyncUnchanged syncs the -sync-small directory again into a
// prefix that already holds it: nothing to copy, so what is timed is
// listing both sides and comparing them.
func BenchmarkSyncUnchanged(b *testing.B) {
	syncCase(b, syncSmall(b), syncUnchangedClients, func(b *testing.B, s *Server, t *syncTree, name string) {
		api := newS3API(s.Endpoint, true)
		prefix := syncPrefix("unchanged", name)
		// The same objects for every client, written by none of them.
		if _, err := sdkSync(context.Background(), newS3API(s.Endpoint, false), t.dir, prefix); err != nil {
			b.Fatal(err)
		}
		checkSynced(b, api, prefix, t)
		timeSync(b, name, s.Endpoint, t, false, func() string { return prefix }, func(_ string, run syncRun) {
			if run.copied != 0 {
				b.Fatalf("%s copied %d of %d unchanged files", name, run.copied, len(t.paths))
			}
		})
		// Copying nothing is also what a sync that compares nothing does.
		checkSeesChange(b, newSyncClient(b, name, s.Endpoint), api, prefix, t)
		deletePrefix(b, api, prefix)
	})
}

func benchSyncUpload(b *testing.B, spec syncSpec, setBytes bool) {
	syncCase(b, spec, syncUploadClients, func(b *testing.B, s *Server, t *syncTree, name string) {
		api := newS3API(s.Endpoint, true)
		timeSync(b, name, s.Endpoint, t, setBytes, func() string { return syncPrefix("upload", name) }, func(prefix string, run syncRun) {
			if run.copied != len(t.paths) {
				b.Fatalf("%s reports %d files copied, want %d", name, run.copied, len(t.paths))
			}
			checkSynced(b, api, prefix, t)
			// Left in place, every sync's files would stay on versitygw's
			// disk, and the kernel would be writing them back while the
			// next syncs run.
			deletePrefix(b, api, prefix)
		})
	})
}

// syncCase runs fn as the sub-benchmark spec/server=versitygw/client=C
// for every selected client, on one directory of spec's files.
func syncCase(b *testing.B, spec syncSpec, clients []string, fn func(b *testing.B, s *Server, t *syncTree, name string)) {
	b.Run(spec.String(), func(b *testing.B) {
		if !slices.Contains(selectedServers(), "versitygw") {
			b.Skip("the sync cases run against versitygw only, which -servers leaves out")
		}
		t := syncTreeOf(b, spec)
		b.Run("server=versitygw", func(b *testing.B) {
			s := env.server(b, "versitygw")
			for _, name := range selectedClients(clients) {
				b.Run("client="+name, func(b *testing.B) { fn(b, s, t, name) })
			}
		})
	})
}

// timeSync times b.N syncs of t, each by a new client of the named kind
// into the prefix that nextPrefix returns, and reports files/s, the CPU
// time of one sync (this process's, plus s5cmd's), and for the clients
// that run in this process their allocations; with setBytes, MB/s too.
// after checks each sync with the timer stopped.
func timeSync(b *testing.B, name string, ep Endpoint, t *syncTree, setBytes bool, nextPrefix func() string, after func(prefix string, run syncRun)) {
	if setBytes {
		b.SetBytes(int64(len(t.paths)) * t.size)
	}
	if name != "s5cmd" {
		b.ReportAllocs()
	}
	var cpu time.Duration
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		c, prefix := newSyncClient(b, name, ep), nextPrefix()
		c0 := CPUTime()
		b.StartTimer()
		run, err := c.sync(context.Background(), t.dir, prefix)
		b.StopTimer()
		cpu += CPUTime() - c0 + run.childCPU
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		after(prefix, run)
	}
	b.ReportMetric(float64(len(t.paths)*b.N)/b.Elapsed().Seconds(), "files/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

var syncSeq atomic.Int64

// syncPrefix returns a prefix no other sync of this process has used.
func syncPrefix(kind, client string) string {
	return fmt.Sprintf("sync/%s/%s/%d", kind, client, syncSeq.Add(1))
}

// syncTree is a local directory that the sync cases upload.
type syncTree struct {
	dir   string
	paths []string // of its files, slash-separated, relative to dir, sorted
	size  int64    // of every file
	mtime time.Time
}

var syncTrees struct {
	sync.Mutex
	m map[syncSpec]*syncTree
}

// syncTreeOf returns the directory of spec's files, writing it on first
// use: 100 files to a subdirectory, each the pattern from a different
// offset with its own path written first, so that no two are alike.
//
// Every file's modification time is an hour ago: a sync compares it with
// the LastModified of the object, which is in whole seconds, and a file
// written in the same second as its object would look newer than it
// (s5cmd compares to the nanosecond) and be uploaded again by every sync.
func syncTreeOf(b *testing.B, spec syncSpec) *syncTree {
	b.Helper()
	base := env.tempDir(b)
	syncTrees.Lock()
	defer syncTrees.Unlock()
	if t := syncTrees.m[spec]; t != nil {
		return t
	}
	t := &syncTree{
		dir:   filepath.Join(base, fmt.Sprintf("sync-%dx%s", spec.files, FormatSize(spec.size))),
		size:  spec.size,
		mtime: time.Now().Add(-time.Hour).Truncate(time.Second),
	}
	buf := make([]byte, spec.size)
	for i := range spec.files {
		p := fmt.Sprintf("d%02d/f%05d.bin", i/100, i)
		t.paths = append(t.paths, p)
		FillPattern(buf, int64(i)*spec.size)
		copy(buf, p+"\n")
		name := filepath.Join(t.dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(name, buf, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Chtimes(name, t.mtime, t.mtime); err != nil {
			b.Fatal(err)
		}
	}
	if syncTrees.m == nil {
		syncTrees.m = map[syncSpec]*syncTree{}
	}
	syncTrees.m[spec] = t
	return t
}

// syncRun is what one sync did, as its client tells.
type syncRun struct {
	copied   int           // files copied, as the client reports them
	childCPU time.Duration // CPU time of the process the sync ran (s5cmd)
}

// syncClient is one contender of the sync cases.
type syncClient struct {
	// sync makes the prefix ("a/b", no trailing slash) of BenchBucket a
	// copy of the local directory dir.
	sync func(ctx context.Context, dir, prefix string) (syncRun, error)
}

// newSyncClient returns the named contender, with new connections,
// skipping b if s5cmd cannot be had.
func newSyncClient(b *testing.B, name string, ep Endpoint) syncClient {
	b.Helper()
	ctx := context.Background()
	switch name {
	case "s3kit":
		c, err := newS3kit(ctx, name, ep, false)
		if err != nil {
			b.Fatal(err)
		}
		return syncClient{sync: func(ctx context.Context, dir, prefix string) (syncRun, error) {
			res, err := s3kit.Sync(ctx, s3kit.LocalDir(dir), c.b.Prefix(prefix), nil)
			return syncRun{copied: res.Copied.Files}, err
		}}
	case "sdk":
		api := newS3API(ep, false)
		return syncClient{sync: func(ctx context.Context, dir, prefix string) (syncRun, error) {
			return sdkSync(ctx, api, dir, prefix)
		}}
	case "s5cmd":
		bin, err := s5cmdBinary()
		if err != nil {
			if *flagS5cmd != "" && *flagS5cmd != "none" {
				b.Fatal(err)
			}
			b.Skip(err)
		}
		home := filepath.Join(env.tempDir(b), "s5cmd-home")
		if err := os.MkdirAll(home, 0o755); err != nil {
			b.Fatal(err)
		}
		// Credentials from the environment, and a HOME of its own, so that
		// no ~/.aws file or instance metadata is consulted.
		environ := []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + home,
			"AWS_ACCESS_KEY_ID=" + ep.AccessKey, "AWS_SECRET_ACCESS_KEY=" + ep.SecretKey,
			"AWS_REGION=" + ep.Region, "AWS_EC2_METADATA_DISABLED=true",
		}
		return syncClient{sync: func(ctx context.Context, dir, prefix string) (syncRun, error) {
			return s5cmdSync(ctx, bin, ep.URL, environ, dir, prefix)
		}}
	}
	b.Fatalf("unknown sync client %q", name)
	return syncClient{}
}

// sdkSync uploads every file of dir to prefix/, one PutObject per file,
// from s3kit.DefaultConcurrency goroutines, and stops at the first error.
func sdkSync(ctx context.Context, api *s3.Client, dir, prefix string) (syncRun, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return syncRun{}, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(s3kit.DefaultConcurrency, len(paths)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(paths) {
					return
				}
				rel, err := filepath.Rel(dir, paths[i])
				if err == nil {
					err = putFile(ctx, api, prefix+"/"+filepath.ToSlash(rel), paths[i])
				}
				if err != nil {
					cancel(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return syncRun{copied: int(done.Load())}, context.Cause(ctx)
}

func putFile(ctx context.Context, api *s3.Client, key, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	_, err = api.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(BenchBucket), Key: aws.String(key), Body: f, ContentLength: aws.Int64(st.Size()),
	})
	return err
}

// s5cmdSync runs `s5cmd sync dir/ s3://BenchBucket/prefix/`, and counts
// the files it copied by the lines it prints ("cp SRC DST" for each, at
// its default log level).
func s5cmdSync(ctx context.Context, bin, endpoint string, environ []string, dir, prefix string) (syncRun, error) {
	cmd := exec.CommandContext(ctx, bin, "--endpoint-url", endpoint,
		// The trailing slash syncs the directory's content, not the
		// directory itself.
		"sync", dir+string(filepath.Separator), "s3://"+BenchBucket+"/"+prefix+"/")
	cmd.Env = environ
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = childAttr()
	err := cmd.Run()
	var run syncRun
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			run.childCPU = rusageCPU(ru)
		}
	}
	failed := false
	for line := range strings.Lines(out.String()) {
		switch {
		case strings.HasPrefix(line, "cp "):
			run.copied++
		case strings.HasPrefix(line, "ERROR"):
			failed = true
		}
	}
	if err == nil && failed {
		err = errors.New("errors reported")
	}
	if err != nil {
		return run, fmt.Errorf("s5cmd sync: %v; its output ends:\n%s", err, lastLines(out.String(), 10))
	}
	return run, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// s5cmdBinary returns the s5cmd to run: -s5cmd, or the one
// tools/install.sh builds into <repo>/.tools/bin, built now if missing
// (run.sh builds it before the benchmarks, so that no case pays for it).
var s5cmdBinary = sync.OnceValues(func() (string, error) {
	if *flagS5cmd == "none" {
		return "", errors.New("s5cmd left out (-s5cmd none)")
	}
	if *flagS5cmd != "" {
		if _, err := os.Stat(*flagS5cmd); err != nil {
			return "", fmt.Errorf("-s5cmd: %w", err)
		}
		return *flagS5cmd, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".tools", "bin", "s5cmd")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	timeout := 5 * time.Minute
	if testing.Short() {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "bench", "tools", "install.sh"), "s5cmd")
	cmd.Dir = root
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("s5cmd is not installed and bench/tools/install.sh failed (%v):\n%s", err, out)
	}
	return bin, nil
})

// checkSynced fails b unless prefix/ holds exactly the files of t, each
// of its size, and the first, middle and last with the content of the
// local file.
func checkSynced(b *testing.B, api *s3.Client, prefix string, t *syncTree) {
	b.Helper()
	ctx := context.Background()
	objs, err := listPrefix(ctx, api, prefix)
	if err != nil {
		b.Fatal(err)
	}
	var keys []string
	for k, size := range objs {
		keys = append(keys, k)
		if size != t.size {
			b.Errorf("%s/%s holds %d bytes, want %d", prefix, k, size, t.size)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, t.paths) {
		b.Fatalf("%s/ holds %d objects (first %q), want the directory's %d files (first %q)",
			prefix, len(keys), keys[:min(len(keys), 3)], len(t.paths), t.paths[:min(len(t.paths), 3)])
	}
	for _, i := range []int{0, len(t.paths) / 2, len(t.paths) - 1} {
		checkObject(b, api, prefix, t, t.paths[i])
	}
}

// checkObject fails b unless the object prefix/p holds the content of the
// local file p of t.
func checkObject(b *testing.B, api *s3.Client, prefix string, t *syncTree, p string) {
	b.Helper()
	want, err := os.ReadFile(filepath.Join(t.dir, filepath.FromSlash(p)))
	if err != nil {
		b.Fatal(err)
	}
	out, err := api.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(BenchBucket), Key: aws.String(prefix + "/" + p)})
	if err != nil {
		b.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	if i := firstDiff(got, want); i >= 0 {
		b.Fatalf("%s/%s: %d bytes that differ from the file's %d at byte %d", prefix, p, len(got), len(want), i)
	}
}

// checkSeesChange gives one file of t new content of the same size and
// a later modification time, and checks that one sync by c uploads that
// file and no other. The file is restored before it returns.
func checkSeesChange(b *testing.B, c syncClient, api *s3.Client, prefix string, t *syncTree) {
	b.Helper()
	p := t.paths[len(t.paths)/2]
	name := filepath.Join(t.dir, filepath.FromSlash(p))
	orig, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := errors.Join(os.WriteFile(name, orig, 0o644), os.Chtimes(name, t.mtime, t.mtime)); err != nil {
			b.Fatal(err)
		}
	}()
	changed := bytes.Clone(orig)
	for i := range changed {
		changed[i] ^= 0xff
	}
	// Later than the object by more than the second that s3kit rounds to.
	later := time.Now().Add(2 * time.Second)
	if err := errors.Join(os.WriteFile(name, changed, 0o644), os.Chtimes(name, later, later)); err != nil {
		b.Fatal(err)
	}
	run, err := c.sync(context.Background(), t.dir, prefix)
	if err != nil {
		b.Fatal(err)
	}
	if run.copied != 1 {
		b.Fatalf("after changing %s, a sync copied %d files, want 1", p, run.copied)
	}
	checkObject(b, api, prefix, t, p)
}

// listPrefix returns the size of every object under prefix/, by key
// relative to it.
func listPrefix(ctx context.Context, api *s3.Client, prefix string) (map[string]int64, error) {
	objs := map[string]int64{}
	pg := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(BenchBucket), Prefix: aws.String(prefix + "/")})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			objs[strings.TrimPrefix(aws.ToString(o.Key), prefix+"/")] = aws.ToInt64(o.Size)
		}
	}
	return objs, nil
}

// deletePrefix deletes every object under prefix/.
func deletePrefix(b *testing.B, api *s3.Client, prefix string) {
	b.Helper()
	ctx := context.Background()
	objs, err := listPrefix(ctx, api, prefix)
	if err != nil {
		b.Fatal(err)
	}
	var ids []types.ObjectIdentifier
	for k := range objs {
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(prefix + "/" + k)})
	}
	for batch := range slices.Chunk(ids, 1000) {
		out, err := api.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(BenchBucket), Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)},
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Errors) > 0 {
			b.Fatalf("deleting %s/: %d errors, the first: %s: %s", prefix, len(out.Errors), aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message))
		}
	}
}

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
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The command-line cases of issue 9: the s3kit command (cmd/s3kit, built
// from this checkout) against the s5cmd, rclone and aws CLIs, each a
// whole process at its defaults (see Spawn), on versitygw and MinIO:
//
//   - small: a tree of -cli-small files (10,000 of 4 KiB, 100 to a
//     directory) copied up into an empty prefix (cp-up), synced up again
//     with nothing changed (sync-noop, against the objects the same tool's
//     cp-up wrote), and copied down into an empty directory (cp-down, of
//     objects the SDK wrote, the same for every tool);
//   - large: one -large file (1 GiB) copied up (cp-up) and one object of
//     8 MiB parts copied down to a file (cp-down).
//
// Within a case the tools run one after the other, their order rotated by
// -round. What each wrote is checked afterwards (count, sizes, bytes) with
// the timer stopped, and deleted; a tool that fails fails its
// sub-benchmark and is not timed.
var (
	flagCLIServers = flag.String("cli-servers", "versitygw,minio", "servers of the command-line cases, comma-separated")
	flagCLIClients = flag.String("cli-clients", "s3kit,s5cmd,rclone,aws", "tools of the command-line cases, comma-separated, each at its defaults")
	flagCLICases   = flag.String("cli-cases", "small,large", "command-line cases: small (many small files), large (one -large file)")
	flagCLIOps     = flag.String("cli-ops", "cp-up,sync-noop,cp-down", "operations of the command-line cases (sync-noop: small only)")
	flagCLISmall   = flag.String("cli-small", "", "files of the small-file command-line cases, as COUNTxSIZE (default 10000x4KiB; 20x4KiB with -test.short)")
	flagCLIBin     = flag.String("cli-s3kit", "", "the s3kit command to measure (default: go build of ../cmd/s3kit into the temporary directory, once per process)")
)

// CLITools are the contenders of BenchmarkCLI, in the order of its
// first round.
var CLITools = []string{"s3kit", "s5cmd", "rclone", "aws"}

func cliSmall(tb testing.TB) syncSpec {
	return syncSpecFlag(tb, flagCLISmall, syncSpec{10000, 4 * KiB}, syncSpec{20, 4 * KiB})
}

// BenchmarkCLI runs the command-line cases: for every server, case and
// operation, every tool, a whole process each. It reports the wall time
// (and MB/s, files/s), the CPU time and the peak RSS of the tool's
// process.
func BenchmarkCLI(b *testing.B) {
	cases := splitList(*flagCLICases)
	ops := splitList(*flagCLIOps)
	for _, sname := range splitList(*flagCLIServers) {
		if slices.Contains(cases, "small") {
			spec := cliSmall(b)
			for _, op := range []string{"cp-up", "sync-noop", "cp-down"} {
				if !slices.Contains(ops, op) {
					continue
				}
				b.Run(fmt.Sprintf("op=%s/%s/server=%s", op, spec, sname), func(b *testing.B) {
					s := env.server(b, sname)
					t := syncTreeOf(b, spec)
					for _, tool := range selectedClients(splitList(*flagCLIClients)) {
						b.Run("client="+tool, func(b *testing.B) { cliSmallOp(b, s, tool, op, t, slices.Contains(ops, "sync-noop")) })
					}
				})
			}
		}
		if slices.Contains(cases, "large") {
			size := largeSize(b)
			for _, op := range []string{"cp-up", "cp-down"} {
				if !slices.Contains(ops, op) {
					continue
				}
				b.Run(fmt.Sprintf("op=%s/files=1/size=%s/server=%s", op, FormatSize(size), sname), func(b *testing.B) {
					s := env.server(b, sname)
					for _, tool := range selectedClients(splitList(*flagCLIClients)) {
						b.Run("client="+tool, func(b *testing.B) { cliLargeOp(b, s, tool, op, size) })
					}
				})
			}
		}
	}
}

// cliUploads holds, by "server/tool", the prefix of the small tree that
// the tool's last cp-up left for its sync-noop.
var cliUploads = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

func cliSmallOp(b *testing.B, s *Server, tool, op string, t *syncTree, keepForSync bool) {
	ctx := context.Background()
	api := newS3API(s.Endpoint, true)
	out := filepath.Join(env.tempDir(b), "out-cli-"+tool)
	defer os.Remove(out)
	var m cliMeasure
	b.SetBytes(int64(len(t.paths)) * t.size)
	b.ResetTimer()
	b.StopTimer()
	switch op {
	case "cp-up":
		for i := range b.N {
			prefix := fmt.Sprintf("cli/%s/up/%d", tool, syncSeq.Add(1))
			m.run(b, s, tool, out, cliCommand(b, tool, s.Endpoint, "cp-up", t.dir, prefix))
			checkSynced(b, api, prefix, t)
			if keepForSync && i == b.N-1 {
				cliUploads.Lock()
				cliUploads.m[s.Server+"/"+tool] = prefix
				cliUploads.Unlock()
				continue
			}
			deletePrefix(b, api, prefix)
		}
	case "sync-noop":
		cliUploads.Lock()
		prefix := cliUploads.m[s.Server+"/"+tool]
		delete(cliUploads.m, s.Server+"/"+tool)
		cliUploads.Unlock()
		if prefix == "" {
			// No cp-up of this tool ran before (left out by -cli-ops, or
			// it failed): its own upload first, untimed.
			prefix = fmt.Sprintf("cli/%s/up/%d", tool, syncSeq.Add(1))
			cmd := cliCommand(b, tool, s.Endpoint, "cp-up", t.dir, prefix)
			if res, err := Spawn(ctx, cmd.argv, cmd.env, out); err != nil || res.ExitCode != 0 {
				b.Fatalf("%s: the upload before the sync: %v, exit %d: %s", tool, err, res.ExitCode, tail(out))
			}
			checkSynced(b, api, prefix, t)
		}
		defer deletePrefix(b, api, prefix)
		before, err := listState(ctx, api, prefix)
		if err != nil {
			b.Fatal(err)
		}
		for range b.N {
			m.run(b, s, tool, out, cliCommand(b, tool, s.Endpoint, "sync", t.dir, prefix))
			after, err := listState(ctx, api, prefix)
			if err != nil {
				b.Fatal(err)
			}
			if d := diffState(before, after); d != "" {
				b.Fatalf("%s: a sync of an unchanged tree changed the destination: %s; its output ends:\n%s", tool, d, tail(out))
			}
		}
	case "cp-down":
		prefix := env.cliSeed(b, s, t)
		for range b.N {
			dir, err := os.MkdirTemp(scaleDir(b), "s3kit-bench-cli-")
			if err != nil {
				b.Fatal(err)
			}
			// tmpfs is memory: the copy lives only while it is checked,
			// also when the tool fails (b.Fatal runs deferred calls).
			func() {
				defer os.RemoveAll(dir)
				m.run(b, s, tool, out, cliCommand(b, tool, s.Endpoint, "cp-down", prefix, dir))
				if err := checkTreeCopy(dir, t); err != nil {
					b.Fatalf("%s: %v; its output ends:\n%s", tool, err, tail(out))
				}
			}()
		}
	default:
		b.Fatalf("unknown operation %q", op)
	}
	m.report(b, len(t.paths))
}

func cliLargeOp(b *testing.B, s *Server, tool, op string, size int64) {
	ctx := context.Background()
	api := newS3API(s.Endpoint, true)
	dir := env.tempDir(b)
	out := filepath.Join(dir, "out-cli-"+tool)
	defer os.Remove(out)
	var m cliMeasure
	b.SetBytes(size)
	b.ResetTimer()
	b.StopTimer()
	switch op {
	case "cp-up":
		src := env.source(b)
		for range b.N {
			key := fmt.Sprintf("cli/%s/large/%d", tool, syncSeq.Add(1))
			m.run(b, s, tool, out, cliCommand(b, tool, s.Endpoint, "cp-file", src, "s3://"+BenchBucket+"/"+key))
			err := checkPatternObject(ctx, api, key, size)
			// Deleted at once, so that the server's disk is not writing
			// this one back while the next tool runs.
			if derr := env.delete(s, key); derr != nil {
				b.Fatal(derr)
			}
			if err != nil {
				b.Fatalf("%s: %v; its output ends:\n%s", tool, err, tail(out))
			}
		}
	case "cp-down":
		parts := downloadParts(b)[1]
		key := downloadKey(parts)
		env.object(b, s, key)
		for range b.N {
			dst := filepath.Join(dir, fmt.Sprintf("cli-dl-%s-%d", tool, syncSeq.Add(1)))
			m.run(b, s, tool, out, cliCommand(b, tool, s.Endpoint, "cp-file", "s3://"+BenchBucket+"/"+key, dst))
			err := checkPatternFile(dst, size)
			// Deleting the file drops its dirty pages unwritten: the next
			// tool does not pay for this one's write-back.
			os.Remove(dst)
			if err != nil {
				b.Fatalf("%s: %v; its output ends:\n%s", tool, err, tail(out))
			}
		}
	default:
		b.Fatalf("unknown operation %q", op)
	}
	m.report(b, 1)
}

// cliMeasure sums what Spawn measured of the timed processes.
type cliMeasure struct {
	n         int
	wall, cpu float64
	rss       int64
	load      float64 // sum of the 1-minute load averages at their starts
	server    float64 // CPU seconds the server process spent meanwhile
	serverOK  bool
}

// run times one process of tool: argv and its environment, output to the
// file out. A process that cannot be started or exits with a non-zero
// status fails b, with the end of its output.
func (m *cliMeasure) run(b *testing.B, s *Server, tool, out string, cmd cliCmd) {
	b.Helper()
	m.load += loadAverage()
	s0, err0 := s.cpuTime()
	b.StartTimer()
	res, err := Spawn(context.Background(), cmd.argv, cmd.env, out)
	b.StopTimer()
	s1, err1 := s.cpuTime()
	if m.n == 0 {
		m.serverOK = err0 == nil && err1 == nil
	}
	m.server += s1 - s0
	if err != nil {
		b.Fatal(err)
	}
	if res.ExitCode != 0 {
		b.Fatalf("%s exited with %d: %q; its output ends:\n%s", tool, res.ExitCode, cmd.argv, tail(out))
	}
	m.n++
	m.wall += res.Wall
	m.cpu += res.CPU
	m.rss = max(m.rss, res.PeakRSSKiB)
}

func (m *cliMeasure) report(b *testing.B, files int) {
	if m.n == 0 {
		return
	}
	n := float64(m.n)
	b.ReportMetric(m.wall/n, "wall-s")
	b.ReportMetric(m.cpu/n, "cpu-s")
	b.ReportMetric(float64(m.rss)/KiB, "peak-RSS-MiB")
	if files > 1 {
		b.ReportMetric(float64(files)*n/m.wall, "files/s")
	}
	// The machine is shared: how busy it was is part of the result.
	b.ReportMetric(m.load/n, "load-avg")
	if m.serverOK {
		// Whether a tool waits on the server, which shares the cores.
		b.ReportMetric(m.server/n, "server-cpu-s")
	}
}

// cpuTime returns the user and system CPU time the server process has
// used so far, its waited-for children included (/proc/PID/stat).
func (s *Server) cpuTime() (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which may hold spaces, in parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("no command name in /proc/PID/stat")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 15 {
		return 0, fmt.Errorf("/proc/PID/stat has %d fields after the name", len(f))
	}
	var ticks float64
	for _, v := range f[11:15] { // utime, stime, cutime, cstime
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	// USER_HZ, 100 on every Linux architecture Go runs on.
	return ticks / 100, nil
}

// loadAverage returns the 1-minute load average of the machine, or 0 if
// it cannot be read.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// cliCmd is a command and its whole environment.
type cliCmd struct{ argv, env []string }

// cliCommand returns tool's command line for one operation, at the
// tool's defaults, and its environment: credentials and region in the
// AWS variables (rclone: its own), the endpoint on the command line, a
// HOME of its own so that no configuration file is read. The operations:
//
//   - cp-up: the directory src (its content) to the prefix dst of
//     BenchBucket;
//   - cp-down: the prefix src of BenchBucket to the directory dst;
//   - sync: the directory src to the prefix dst;
//   - cp-file: one file to one object or back, given as a local path and
//     an s3://BenchBucket/key URL.
//
// A tool that is not installed fails b, or skips it with -test.short.
func cliCommand(b *testing.B, tool string, ep Endpoint, op, src, dst string) cliCmd {
	b.Helper()
	bin, environ := toolEnv(b, tool, ep)
	dirURL := func(prefix string) string { return "s3://" + BenchBucket + "/" + prefix + "/" }
	rcl := func(p string) string { // an rclone remote path for an s3:// URL or a prefix
		if rest, ok := strings.CutPrefix(p, "s3://"); ok {
			return ":s3:" + rest
		}
		return ":s3:" + BenchBucket + "/" + p
	}
	var args []string
	switch tool + " " + op {
	case "s3kit cp-up":
		args = []string{"--endpoint", ep.URL, "cp", "-r", src, dirURL(dst)}
	case "s3kit cp-down":
		args = []string{"--endpoint", ep.URL, "cp", "-r", dirURL(src), dst + "/"}
	case "s3kit sync":
		args = []string{"--endpoint", ep.URL, "sync", src, dirURL(dst)}
	case "s3kit cp-file":
		args = []string{"--endpoint", ep.URL, "cp", src, dst}
	case "s5cmd cp-up":
		// s5cmd's wildcard crosses "/": the whole tree, paths kept.
		args = []string{"--endpoint-url", ep.URL, "cp", src + "/*", dirURL(dst)}
	case "s5cmd cp-down":
		args = []string{"--endpoint-url", ep.URL, "cp", dirURL(src) + "*", dst + "/"}
	case "s5cmd sync":
		// The trailing slash syncs the directory's content.
		args = []string{"--endpoint-url", ep.URL, "sync", src + "/", dirURL(dst)}
	case "s5cmd cp-file":
		args = []string{"--endpoint-url", ep.URL, "cp", src, dst}
	case "rclone cp-up":
		args = []string{"copy", src, rcl(dst)}
	case "rclone cp-down":
		args = []string{"copy", rcl(src), dst}
	case "rclone sync":
		args = []string{"sync", src, rcl(dst)}
	case "rclone cp-file":
		// copyto: copy with the destination's name given.
		if strings.HasPrefix(src, "s3://") {
			args = []string{"copyto", rcl(src), dst}
		} else {
			args = []string{"copyto", src, rcl(dst)}
		}
	case "aws cp-up":
		args = []string{"s3", "cp", "--recursive", src, dirURL(dst), "--endpoint-url", ep.URL}
	case "aws cp-down":
		args = []string{"s3", "cp", "--recursive", dirURL(src), dst + "/", "--endpoint-url", ep.URL}
	case "aws sync":
		args = []string{"s3", "sync", src, dirURL(dst), "--endpoint-url", ep.URL}
	case "aws cp-file":
		args = []string{"s3", "cp", src, dst, "--endpoint-url", ep.URL}
	default:
		b.Fatalf("no command for %s %s", tool, op)
	}
	return cliCmd{argv: append([]string{bin}, args...), env: environ}
}

// toolEnv returns the binary of a command-line tool and its environment:
// PATH, a HOME of its own, and the credentials and region of ep (for
// rclone, an on-the-fly :s3: remote configured from the environment). The
// tool "s3kit" is the s3kit command, "s3kit-cli" too. A tool that is not
// installed fails b, or skips it with -test.short (CI installs s5cmd
// only).
func toolEnv(b *testing.B, tool string, ep Endpoint) (string, []string) {
	b.Helper()
	missing := func(err error) {
		b.Helper()
		if testing.Short() {
			b.Skipf("%s is not installed (bash bench/tools/install.sh %s): %v", tool, tool, err)
		}
		b.Fatalf("%s is not installed (bash bench/tools/install.sh %s): %v", tool, tool, err)
	}
	home := filepath.Join(env.tempDir(b), tool+"-home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		b.Fatal(err)
	}
	environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	creds := []string{"AWS_ACCESS_KEY_ID=" + ep.AccessKey, "AWS_SECRET_ACCESS_KEY=" + ep.SecretKey,
		"AWS_REGION=" + ep.Region, "AWS_DEFAULT_REGION=" + ep.Region, "AWS_EC2_METADATA_DISABLED=true"}
	switch tool {
	case "s3kit", "s3kit-cli":
		bin, err := env.s3kitCLI(b)
		if err != nil {
			b.Fatal(err)
		}
		if base := os.Getenv(EnvCPUProfile); base != "" {
			// Read only by a command that tools/cliprofile.sh built.
			environ = append(environ, fmt.Sprintf("S3KIT_CLI_CPUPROFILE=%s-s3kit-cli-%d.pprof", strings.TrimSuffix(base, ".pprof"), syncSeq.Add(1)))
		}
		return bin, append(environ, creds...)
	case "s5cmd":
		bin, err := s5cmdBinary()
		if err != nil {
			missing(err)
		}
		return bin, append(environ, creds...)
	case "rclone":
		root, err := RepoRoot()
		if err != nil {
			b.Fatal(err)
		}
		bin := filepath.Join(root, ".tools", "bin", "rclone")
		if _, err := os.Stat(bin); err != nil {
			missing(err)
		}
		return bin, append(environ, "RCLONE_CONFIG="+filepath.Join(home, "rclone.conf"), "RCLONE_S3_PROVIDER=Other",
			"RCLONE_S3_ENDPOINT="+ep.URL, "RCLONE_S3_ACCESS_KEY_ID="+ep.AccessKey,
			"RCLONE_S3_SECRET_ACCESS_KEY="+ep.SecretKey, "RCLONE_S3_REGION="+ep.Region)
	case "aws":
		bin, err := exec.LookPath("aws")
		if err != nil {
			missing(err)
		}
		return bin, append(environ, creds...)
	}
	b.Fatalf("unknown tool %q (want s3kit, s5cmd, rclone or aws)", tool)
	return "", nil
}

// s3kitCLI returns the s3kit command to measure: -cli-s3kit, or one built
// from this checkout's cmd/s3kit on first use into env.tempDir (removed
// with it when the process ends).
func (e *benchEnv) s3kitCLI(tb testing.TB) (string, error) {
	if *flagCLIBin != "" {
		if _, err := os.Stat(*flagCLIBin); err != nil {
			return "", fmt.Errorf("-cli-s3kit: %w", err)
		}
		return *flagCLIBin, nil
	}
	dir := e.tempDir(tb)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cli != "" {
		return e.cli, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "s3kit")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/s3kit")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the s3kit command: %v\n%s", err, out)
	}
	e.cli = bin
	return bin, nil
}

// cliSeed returns the prefix of server s that holds the tree t as the
// aws-sdk-go-v2 loop wrote it (no checksum), writing it on first use:
// the objects every tool's cp-down reads.
func (e *benchEnv) cliSeed(b *testing.B, s *Server, t *syncTree) string {
	b.Helper()
	prefix := fmt.Sprintf("cli/seed/%dx%s", len(t.paths), FormatSize(t.size))
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seeded[s.Server+"/"+prefix] {
		return prefix
	}
	api := newS3API(s.Endpoint, true)
	if _, err := sdkSync(context.Background(), api, t.dir, prefix); err != nil {
		b.Fatalf("writing %s to %s: %v", prefix, s.Server, err)
	}
	checkSynced(b, api, prefix, t)
	e.seeded[s.Server+"/"+prefix] = true
	return prefix
}

// listState returns, by key under prefix/, the size, ETag and
// modification time of every object: what a sync that copied or
// re-stamped nothing leaves as it was.
func listState(ctx context.Context, api *s3.Client, prefix string) (map[string]string, error) {
	st := map[string]string{}
	pg := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(BenchBucket), Prefix: aws.String(prefix + "/")})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			st[aws.ToString(o.Key)] = fmt.Sprintf("%d %s %s", aws.ToInt64(o.Size), aws.ToString(o.ETag), aws.ToTime(o.LastModified).Format(time.RFC3339Nano))
		}
	}
	return st, nil
}

// diffState describes the first difference between two listings, or
// returns "".
func diffState(before, after map[string]string) string {
	if len(before) != len(after) {
		return fmt.Sprintf("%d objects before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			return fmt.Sprintf("%s was %q, is %q", k, v, after[k])
		}
	}
	return ""
}

// checkTreeCopy checks that dir holds exactly the files of t, byte for
// byte.
func checkTreeCopy(dir string, t *syncTree) error {
	var got []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(got)
	if !slices.Equal(got, t.paths) {
		return fmt.Errorf("the copy holds %d files (first %q), want the tree's %d (first %q)",
			len(got), got[:min(len(got), 3)], len(t.paths), t.paths[:min(len(t.paths), 3)])
	}
	for _, p := range t.paths {
		a, err1 := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		w, err2 := os.ReadFile(filepath.Join(t.dir, filepath.FromSlash(p)))
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if i := firstDiff(a, w); i >= 0 {
			return fmt.Errorf("%s: %d bytes that differ from the original's %d at byte %d", p, len(a), len(w), i)
		}
	}
	return nil
}

// patternSamples returns the offsets of the 4 KiB samples that the large
// cases compare with the pattern: the first, the last, and seven between
// that straddle no particular boundary.
func patternSamples(size int64) []int64 {
	const n = 4 * KiB
	offs := []int64{0, max(0, size-n)}
	for i := int64(1); i < 8; i++ {
		offs = append(offs, min(size*i/8+12345, max(0, size-n)))
	}
	return offs
}

// checkPatternObject checks that key holds size bytes of the pattern
// (WritePatternFile's content), by its size and samples.
func checkPatternObject(ctx context.Context, api *s3.Client, key string, size int64) error {
	head, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(BenchBucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	if n := aws.ToInt64(head.ContentLength); n != size {
		return fmt.Errorf("%s holds %d bytes, want %d", key, n, size)
	}
	for _, off := range patternSamples(size) {
		n := min(4*KiB, size-off)
		out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(BenchBucket), Key: aws.String(key),
			Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1))})
		if err != nil {
			return err
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			return err
		}
		if err := checkPattern(got, off, n); err != nil {
			return fmt.Errorf("%s: %v", key, err)
		}
	}
	return nil
}

// checkPatternFile checks that the file at path holds size bytes of the
// pattern, by its size and samples.
func checkPatternFile(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() != size {
		return fmt.Errorf("%s holds %d bytes, want %d", path, st.Size(), size)
	}
	for _, off := range patternSamples(size) {
		got := make([]byte, min(4*KiB, size-off))
		if _, err := f.ReadAt(got, off); err != nil {
			return err
		}
		if err := checkPattern(got, off, int64(len(got))); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
	}
	return nil
}

func checkPattern(got []byte, off, n int64) error {
	want := make([]byte, n)
	FillPattern(want, off)
	if i := firstDiff(got, want); i >= 0 {
		return fmt.Errorf("%d bytes at %d differ from the pattern's %d at byte %d", len(got), off, n, off+int64(i))
	}
	return nil
}

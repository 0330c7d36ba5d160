package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3kit/s3kit"
)

// Credentials and region of every server started here (those of
// internal/s3test, which this module cannot import).
const (
	AccessKey = "s3kitadmin"
	SecretKey = "s3kitsecret123"
	Region    = "us-east-1"
)

// Environment variables of the child processes the benchmarks start by
// running their own test binary again (see ChildMain).
const (
	envChild    = "S3KIT_BENCH_CHILD"    // what the child does: "null-server" or "upload-stream"
	envKeys     = "S3KIT_BENCH_KEYS"     // null-server: keys of the canned listing
	envObjects  = "S3KIT_BENCH_OBJECTS"  // null-server: "key=size:partsize,..." made at start
	envEndpoint = "S3KIT_BENCH_ENDPOINT" // upload-stream: the Endpoint, as JSON
	envClient   = "S3KIT_BENCH_CLIENT"   // upload-stream: the client name
	envSize     = "S3KIT_BENCH_SIZE"     // upload-stream: bytes to upload
	envKey      = "S3KIT_BENCH_KEY"      // upload-stream: the key to write
)

// Server is a server process the benchmarks started.
type Server struct {
	Endpoint
	cmd      *exec.Cmd
	dir      string    // temporary directory removed by Stop, if any
	stdin    io.Closer // closing it tells a null-server child to exit
	done     chan struct{}
	stopOnce sync.Once
	stopErr  error
}

// Stop kills the server, waits for it and removes its temporary directory.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.stdin != nil {
			s.stdin.Close()
		}
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.stopErr = fmt.Errorf("bench: %s (pid %d) still running 10s after SIGKILL", s.Server, s.cmd.Process.Pid)
		}
		if s.dir != "" {
			s.stopErr = errors.Join(s.stopErr, os.RemoveAll(s.dir))
		}
	})
	return s.stopErr
}

// childAttr puts a child in a process group of its own and has the kernel
// kill it if this process dies first.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Object is an object a server starts with.
type Object struct {
	Key      string
	Size     int64
	PartSize int64 // as if uploaded in parts of this size; 0: one PUT
}

// StartNull starts a NullServer in a child process — the running test
// binary again, which must call ChildMain first — so that its CPU time is
// not counted as the client's. The server has a canned listing of
// listKeys keys and the given objects in BenchBucket.
func StartNull(ctx context.Context, listKeys int, objects []Object) (*Server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var spec []string
	for _, o := range objects {
		spec = append(spec, fmt.Sprintf("%s=%d:%d", o.Key, o.Size, o.PartSize))
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=null-server", envKeys+"="+strconv.Itoa(listKeys), envObjects+"="+strings.Join(spec, ","))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(l)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case l := <-line:
		u, ok := strings.CutPrefix(l, "listening on ")
		if !ok {
			s.Stop()
			return nil, fmt.Errorf("bench: null server said %q", l)
		}
		s.Endpoint = Endpoint{Server: "null", URL: u, AccessKey: AccessKey, SecretKey: SecretKey, Region: Region, Unsigned: true}
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("bench: null server exited: %v", cmd.ProcessState)
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	}
}

// ChildMain runs the job of a child process the benchmarks started, if
// this process is one, and then exits; otherwise it returns at once. Call
// it first thing in TestMain.
func ChildMain() {
	switch os.Getenv(envChild) {
	case "":
		return
	case "null-server":
		err := runNullChild()
		fmt.Fprintln(os.Stderr, "bench: null server:", err)
		os.Exit(1)
	case "spawn":
		os.Exit(runSpawnChild())
	case "download":
		exitChild(runDownloadChild())
	case "sync":
		exitChild(runSyncChild())
	case "upload-stream":
		if err := runUploadChild(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: upload child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "bench: unknown %s=%q\n", envChild, os.Getenv(envChild))
		os.Exit(2)
	}
}

func runNullChild() error {
	keys, err := strconv.Atoi(os.Getenv(envKeys))
	if err != nil {
		return fmt.Errorf("%s: %v", envKeys, err)
	}
	ns := NewNullServer(keys)
	for _, spec := range strings.Split(os.Getenv(envObjects), ",") {
		if spec == "" {
			continue
		}
		key, sizes, _ := strings.Cut(spec, "=")
		size, part, _ := strings.Cut(sizes, ":")
		n, err1 := strconv.ParseInt(size, 10, 64)
		p, err2 := strconv.ParseInt(part, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("%s: %q: %v", envObjects, spec, err)
		}
		ns.SetObject(BenchBucket, key, n, p)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() {
		// The parent closes stdin when it is done (or dies).
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Printf("listening on http://%s\n", l.Addr())
	return (&http.Server{Handler: ns}).Serve(l)
}

// UploadResult is what an upload-stream child reports on its standard
// output.
type UploadResult struct {
	Seconds float64 // wall time of the upload alone
	// PeakRSSKiB is the child's peak resident set (VmHWM of
	// /proc/self/status) after the upload: the memory a process that did
	// nothing but that upload needed, Go runtime included.
	//
	// The child's ru_maxrss is no measure of it: os/exec starts children
	// with CLONE_VM|CLONE_VFORK, and at execve Linux records the old
	// address space's high-water mark — the parent's — as the child's
	// maxrss, so ru_maxrss is at least the benchmark process's own peak.
	PeakRSSKiB int64
}

// RunUploadChild uploads size bytes of a non-seekable stream with the
// named client in a child process that does nothing else, and returns the
// child's resource usage (its CPU time) and its report.
func RunUploadChild(ctx context.Context, ep Endpoint, client, key string, size int64) (*syscall.Rusage, UploadResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, UploadResult{}, err
	}
	epJSON, err := json.Marshal(ep)
	if err != nil {
		return nil, UploadResult{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=upload-stream", envEndpoint+"="+string(epJSON),
		envClient+"="+client, envKey+"="+key, envSize+"="+strconv.FormatInt(size, 10))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = childAttr()
	var res UploadResult
	if err := cmd.Run(); err != nil {
		return nil, res, fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, res, fmt.Errorf("child output %q: %v", stdout.Bytes(), err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return nil, res, errors.New("no rusage of the child")
	}
	return ru, res, nil
}

func runUploadChild() error {
	var ep Endpoint
	if err := json.Unmarshal([]byte(os.Getenv(envEndpoint)), &ep); err != nil {
		return fmt.Errorf("%s: %v", envEndpoint, err)
	}
	size, err := strconv.ParseInt(os.Getenv(envSize), 10, 64)
	if err != nil {
		return fmt.Errorf("%s: %v", envSize, err)
	}
	ctx := context.Background()
	c, err := NewClient(ctx, os.Getenv(envClient), ep)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := c.UploadStream(ctx, os.Getenv(envKey), PatternReader(size)); err != nil {
		if errors.Is(err, ErrNotSupported) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(childUnsupportedStatus)
		}
		return err
	}
	res := UploadResult{Seconds: time.Since(start).Seconds()}
	if res.PeakRSSKiB, err = peakRSS(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// peakRSS returns the peak resident set of this process in KiB (VmHWM).
func peakRSS() (int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

// childUnsupportedStatus is the exit status of an upload child whose client
// cannot upload a stream.
const childUnsupportedStatus = 3

// ChildUnsupported reports whether err from RunUploadChild means the
// client cannot upload a stream at all.
func ChildUnsupported(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == childUnsupportedStatus
}

// RepoRoot returns the directory of s3kit's go.mod, found by walking up
// from the working directory.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("module github.com/s3kit/s3kit\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("bench: no go.mod of github.com/s3kit/s3kit in %s or above", wd)
		}
		dir = parent
	}
}

// StartVersityGW starts versitygw (posix backend) on a free port of
// 127.0.0.1 with a fresh temporary directory, as internal/s3test does,
// and creates BenchBucket in it. The binary is the one
// scripts/servers.sh installs into <repo>/.tools/bin; it is installed if
// missing.
func StartVersityGW(ctx context.Context) (*Server, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(root, ".tools", "bin", "versitygw")
	if _, err := os.Stat(bin); err != nil {
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "servers.sh"), "install", "versitygw")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("bench: installing versitygw: %v\n%s", err, out)
		}
	}
	var errs []error
	for range 3 { // the free port may be taken before versitygw binds it
		s, err := startVersityGW(ctx, bin)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func startVersityGW(ctx context.Context, bin string) (_ *Server, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	dir, err := os.MkdirTemp("", "s3kit-bench-versitygw-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	for _, d := range []string{"data", "sidecar", "versions"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// The flags of internal/s3test: keep-alive (versitygw otherwise closes
	// every connection), metadata in a sidecar directory rather than
	// extended attributes.
	cmd := exec.Command(bin,
		"--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", addr, "--keep-alive",
		"posix",
		"--sidecar", filepath.Join(dir, "sidecar"),
		"--versioning-dir", filepath.Join(dir, "versions"),
		filepath.Join(dir, "data"))
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{
		Endpoint: Endpoint{Server: "versitygw", URL: "http://" + addr, AccessKey: AccessKey, SecretKey: SecretKey, Region: Region},
		cmd:      cmd, dir: dir, done: make(chan struct{}),
	}
	go func() { cmd.Wait(); close(s.done) }()
	if err := waitHTTP(ctx, s); err != nil {
		s.dir = "" // removed by the deferred function
		s.Stop()
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return nil, fmt.Errorf("bench: versitygw on %s: %v; its log:\n%s", addr, err, log)
	}
	c, err := s3kit.New(ctx, s3kit.Config{Endpoint: s.URL, AccessKeyID: AccessKey, SecretAccessKey: SecretKey, Region: Region})
	if err == nil {
		err = c.CreateBucket(ctx, BenchBucket, nil)
	}
	if err != nil {
		s.dir = ""
		s.Stop()
		return nil, err
	}
	return s, nil
}

// StartMinIO starts MinIO (one drive) on a free port of 127.0.0.1 with a
// fresh temporary directory, as internal/s3test does, and creates
// BenchBucket in it. The binary is the one scripts/servers.sh installs
// into <repo>/.tools/bin; it is installed if missing.
func StartMinIO(ctx context.Context) (*Server, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(root, ".tools", "bin", "minio")
	if _, err := os.Stat(bin); err != nil {
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "servers.sh"), "install", "minio")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("bench: installing minio: %v\n%s", err, out)
		}
	}
	var errs []error
	for range 3 { // a free port may be taken before MinIO binds it
		s, err := startMinIO(ctx, bin)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func startMinIO(ctx context.Context, bin string) (_ *Server, err error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	console, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "s3kit-bench-minio-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// The settings of internal/s3test: the console's port chosen here (it
	// is bound even when disabled), certificates and HOME in the
	// temporary directory, CI mode for a drive on the root file system.
	cmd := exec.Command(bin, "server", filepath.Join(dir, "data"),
		"--address", addr, "--console-address", console, "--certs-dir", filepath.Join(dir, "certs"))
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir,
		"MINIO_ROOT_USER=" + AccessKey, "MINIO_ROOT_PASSWORD=" + SecretKey, "MINIO_REGION=" + Region,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1"}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{
		Endpoint: Endpoint{Server: "minio", URL: "http://" + addr, AccessKey: AccessKey, SecretKey: SecretKey, Region: Region},
		cmd:      cmd, dir: dir, done: make(chan struct{}),
	}
	go func() { cmd.Wait(); close(s.done) }()
	fail := func(err error) (*Server, error) {
		s.dir = "" // removed by the deferred function
		s.Stop()
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return nil, fmt.Errorf("bench: minio on %s: %v; its log:\n%s", addr, err, log)
	}
	// /minio/health/cluster answers 200 once the object layer and IAM
	// are ready, not merely the listener.
	if err := waitPath(ctx, s, "/minio/health/cluster"); err != nil {
		return fail(err)
	}
	c, err := s3kit.New(ctx, s3kit.Config{Endpoint: s.URL, AccessKeyID: AccessKey, SecretAccessKey: SecretKey, Region: Region})
	if err == nil {
		err = c.CreateBucket(ctx, BenchBucket, nil)
	}
	if err != nil {
		return fail(err)
	}
	return s, nil
}

// waitPath polls path of the server until it answers 200, or the server
// exits.
func waitPath(ctx context.Context, s *Server, path string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", path, resp.Status)
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited (%v)", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %v (last error %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitHTTP polls the server until it answers any HTTP request (versitygw
// answers unsigned ones with AccessDenied once it serves S3), or exits.
func waitHTTP(ctx context.Context, s *Server) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited (%v)", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %v (last error %v)", ctx.Err(), err)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Seed writes an object of the null server's content to a real server,
// in parts of o.PartSize if it is set, with no checksum, so that every
// client downloads the same kind of object.
func Seed(ctx context.Context, ep Endpoint, o Object) error {
	c := newS3API(ep, true)
	bucket, key := aws.String(BenchBucket), aws.String(o.Key)
	if o.PartSize == 0 || o.Size <= o.PartSize {
		// From a reader of the pattern rather than a buffer: a 1 GiB
		// buffer would stay in this process's peak RSS, which the child
		// processes it starts inherit as their floor.
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: io.NewSectionReader(patternReaderAt{}, 0, o.Size), ContentLength: aws.Int64(o.Size)})
		return err
	}
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	buf := make([]byte, o.PartSize)
	for off, n := int64(0), int32(1); off < o.Size; off, n = off+o.PartSize, n+1 {
		p := buf[:min(o.PartSize, o.Size-off)]
		FillPattern(p, off)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: aws.Int32(n),
			Body: bytes.NewReader(p), ContentLength: aws.Int64(int64(len(p))),
		})
		if err != nil {
			c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: key, UploadId: up.UploadId})
			return err
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: bucket, Key: key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}

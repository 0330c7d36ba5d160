// Package s3test installs and runs real S3-compatible servers for tests.
//
// Three servers are supported, at versions pinned in scripts/servers.sh:
// versitygw (Versity S3 Gateway, posix backend), MinIO (single drive) and
// SeaweedFS (`weed server`: master, volume server, filer and S3 gateway in
// one process).
// Each Start runs a fresh server process on 127.0.0.1 with its own temporary
// data directory, so tests never share state with each other or with
// anything outside the test.
//
// Installing builds the servers from source through the Go module proxy
// into <repo>/.tools/bin, which takes minutes for MinIO and SeaweedFS; run
// `scripts/servers.sh install` before `go test` so that the first test does
// not spend its timeout on it.
package s3test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Module is the module path RepoRoot looks for.
const Module = "github.com/s3kit/s3kit"

// Server names accepted by Install and Start.
const (
	VersityGW = "versitygw"
	MinIO     = "minio"
	SeaweedFS = "seaweedfs"
)

// binary names the installed binary of a server.
func binary(name string) string {
	if name == SeaweedFS {
		return "weed"
	}
	return name
}

// Fixed test credentials and region of every server started here.
const (
	AccessKey = "s3kitadmin"
	SecretKey = "s3kitsecret123" // MinIO wants at least 8 characters
	Region    = "us-east-1"
)

const (
	// readyTimeout bounds the wait for a started server to answer. Both
	// start in well under a second on an idle machine; the margin is for
	// loaded CI machines.
	readyTimeout = 60 * time.Second
	// bindAttempts is how many ports Start tries: the free port it picks
	// can be taken by another process before the server binds it.
	bindAttempts = 3
)

// Server is a running S3-compatible server on 127.0.0.1, serving path-style
// requests signed with AccessKey and SecretKey for Region.
type Server struct {
	Name      string // VersityGW, MinIO or SeaweedFS
	Endpoint  string // "http://127.0.0.1:PORT"
	AccessKey string
	SecretKey string
	Region    string
	// RootCAs trusts the certificate of a server started by StartTLS, and
	// CAFile holds that authority's certificate in PEM (as AWS_CA_BUNDLE
	// names one); nil and "" for one started by Start, which serves plain
	// HTTP.
	RootCAs *x509.CertPool
	CAFile  string

	dir  string // temporary directory holding data, metadata and log
	log  string // path of the file receiving the server's output
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited

	stopOnce sync.Once
	stopErr  error
}

// Names returns the servers tests should run against: the comma-separated
// list in the environment variable S3KIT_TEST_SERVERS, or
// "versitygw,minio,seaweedfs" when it is unset or empty. The value "none" gives an empty list. Names
// are not checked here; Start rejects unknown ones.
func Names() []string {
	v := strings.TrimSpace(os.Getenv("S3KIT_TEST_SERVERS"))
	if v == "" {
		return []string{VersityGW, MinIO, SeaweedFS}
	}
	if v == "none" {
		return nil
	}
	var names []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// RepoRoot returns the directory of the go.mod file declaring Module, found
// by walking up from the working directory (a package directory under
// go test).
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(data) == Module {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("s3test: no go.mod of module %s in %s or above", Module, wd)
		}
		dir = parent
	}
}

// modulePath returns the module path declared in a go.mod file, or "".
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			rest, _, _ = strings.Cut(rest, "//")
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// Install makes sure the pinned version of the named server is installed in
// <repo>/.tools/bin and returns the binary's path. It always runs
// scripts/servers.sh, which owns the pins and returns at once when the
// binary is current, so a pin change there takes effect without touching
// this package. Concurrent installs of the same server, even from several
// test processes, build it once.
func Install(ctx context.Context, name string) (string, error) {
	if name != VersityGW && name != MinIO && name != SeaweedFS {
		return "", fmt.Errorf("s3test: unknown server %q (want %q, %q or %q)", name, VersityGW, MinIO, SeaweedFS)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "servers.sh"), "install", name)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("s3test: installing %s: %v\n%s", name, err, out)
	}
	return filepath.Join(root, ".tools", "bin", binary(name)), nil
}

// Start installs the named server if needed and starts it on a free port of
// 127.0.0.1 with fresh temporary directories, returning once it answers
// HTTP requests and is ready to serve S3 ones. ctx bounds installation and
// startup only; the server runs until Stop. If the server exits or does not
// become ready within a minute, the error includes the end of its log.
//
// The directories are kept after Stop if the environment variable
// S3KIT_KEEP_SERVER_DIRS is "1", for looking at the server's log and data.
func Start(ctx context.Context, name string) (*Server, error) {
	return startServer(ctx, name, false)
}

// startServer is Start, serving HTTPS if tlsOn (see StartTLS).
func startServer(ctx context.Context, name string, tlsOn bool) (*Server, error) {
	bin, err := Install(ctx, name)
	if err != nil {
		return nil, err
	}
	var errs []error
	for range bindAttempts {
		s, err := start(ctx, name, bin, tlsOn)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if !errors.Is(err, errBind) {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// StartTB starts the named server for the test or benchmark tb, stops it
// when tb and its subtests have finished, and fails tb if it cannot start.
func StartTB(tb testing.TB, name string) *Server {
	tb.Helper()
	return startTB(tb, name, false)
}

func startTB(tb testing.TB, name string, tlsOn bool) *Server {
	tb.Helper()
	s, err := startServer(tb.Context(), name, tlsOn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("stopping %s: %v", name, err)
		}
	})
	return s
}

// LogPath returns the path of the file receiving the server's standard
// output and error. It is removed by Stop unless S3KIT_KEEP_SERVER_DIRS=1.
func (s *Server) LogPath() string { return s.log }

// Stop kills the server and any process it started, waits for it to exit
// and removes its temporary directories. Only the first call does anything;
// later ones return the first one's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Server) stop() error {
	// SIGKILL rather than a graceful shutdown: the data is thrown away, and
	// a server slow to shut down would slow every test.
	killGroup(s.cmd.Process)
	var err error
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		err = fmt.Errorf("s3test: %s (pid %d) still running 10s after SIGKILL", s.Name, s.cmd.Process.Pid)
	}
	if keepDirs() {
		return err
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

func keepDirs() bool { return os.Getenv("S3KIT_KEEP_SERVER_DIRS") == "1" }

// errBind marks a start that failed because the port was taken meanwhile.
var errBind = errors.New("port already in use")

// start makes one attempt at starting the server on a fresh free port.
func start(ctx context.Context, name, bin string, tlsOn bool) (_ *Server, err error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "s3kit-"+name+"-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && !keepDirs() {
			os.RemoveAll(dir)
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := &Server{
		Name:      name,
		Endpoint:  "http://" + addr,
		AccessKey: AccessKey,
		SecretKey: SecretKey,
		Region:    Region,
		dir:       dir,
		log:       filepath.Join(dir, "server.log"),
		done:      make(chan struct{}),
	}

	// A minimal environment: the servers read configuration from many
	// variables (AWS_*, MINIO_*, VGW_*, ROOT_ACCESS_KEY, ...) that must not
	// leak in from the developer's shell, and HOME points into the temporary
	// directory so that nothing is read from or written to the real one
	// (MinIO keeps ~/.minio/certs there).
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir}
	var args, readyPath []string
	switch name {
	case VersityGW:
		for _, d := range []string{"data", "sidecar", "versions"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
				return nil, err
			}
		}
		args = []string{
			"--access", AccessKey, "--secret", SecretKey, "--region", Region,
			"--port", addr,
			// Without this versitygw closes the connection after every
			// response, unlike S3, and connection reuse goes untested.
			"--keep-alive",
			"posix",
			// Metadata in a sidecar directory instead of extended
			// attributes, which some temporary file systems lack. versitygw
			// rejects a sidecar path that has the data path as a string
			// prefix, hence "sidecar" rather than "data-meta".
			"--sidecar", filepath.Join(dir, "sidecar"),
			// Without a versioning directory PutBucketVersioning fails;
			// with it, buckets still start unversioned as on S3.
			"--versioning-dir", filepath.Join(dir, "versions"),
			filepath.Join(dir, "data"),
		}
		// Unsigned requests get an AccessDenied answer once the S3 API is
		// listening, which is all the readiness there is to check.
		readyPath = []string{"/"}
	case MinIO:
		if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
			return nil, err
		}
		console, err := freePort()
		if err != nil {
			return nil, err
		}
		args = []string{
			"server", filepath.Join(dir, "data"),
			"--address", addr,
			// The console is disabled below, but MinIO still binds its
			// address, by default a fixed port that parallel servers would
			// fight over.
			"--console-address", fmt.Sprintf("127.0.0.1:%d", console),
			"--certs-dir", filepath.Join(dir, "certs"),
		}
		env = append(env,
			"MINIO_ROOT_USER="+AccessKey,
			"MINIO_ROOT_PASSWORD="+SecretKey,
			"MINIO_REGION="+Region,
			"MINIO_BROWSER=off",
			"MINIO_UPDATE=off",
			// CI/CD mode lets a single drive live on the root file system,
			// which MinIO otherwise refuses.
			"MINIO_CI_CD=1",
			// A static key for MinIO's built-in KMS, so that SSE-S3 works
			// without a KMS server. Test data only.
			"MINIO_KMS_SECRET_KEY=s3kit-test-key:"+base64.StdEncoding.EncodeToString([]byte("s3kit-test-kms-key-32-bytes-long")),
		)
		// /minio/health/live and /ready answer 200 before the object
		// layer and IAM are initialised; /cluster waits for both.
		readyPath = []string{"/minio/health/live", "/minio/health/cluster"}
	case SeaweedFS:
		args, readyPath, err = seaweedArgs(dir, port)
		if err != nil {
			return nil, err
		}
		// The secret SSE-S3 derives its keys from (read by weed's
		// configuration as s3.sse.key); without one SSE-S3 is off and a
		// PUT asking for it fails with 500. Test data only.
		env = append(env, "WEED_S3_SSE_KEY=s3kit-test-sse-secret")
	default:
		return nil, fmt.Errorf("s3test: unknown server %q", name)
	}
	if tlsOn {
		var tlsArgs []string
		if s.RootCAs, tlsArgs, err = writeCert(dir, name); err != nil {
			return nil, err
		}
		s.CAFile = filepath.Join(dir, "ca.pem")
		if name == SeaweedFS {
			args = append(args, tlsArgs...)
		} else {
			// Global flags, before any subcommand.
			args = append(tlsArgs, args...)
		}
		s.Endpoint = "https://" + addr
	}

	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	// The child has its own copy of the descriptor; ours is not needed.
	defer logf.Close()

	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Env = env
	s.cmd.Stdout = logf
	s.cmd.Stderr = logf
	s.cmd.SysProcAttr = sysProcAttr()
	began := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("s3test: starting %s: %w", name, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()

	if err := s.waitReady(ctx, readyPath); err != nil {
		killGroup(s.cmd.Process)
		<-s.done
		tail := logTail(s.log)
		// versitygw says "bind: address already in use", MinIO
		// "Specified port is already in use".
		if strings.Contains(tail, "already in use") {
			err = fmt.Errorf("%w: %w", errBind, err)
		}
		if strings.TrimSpace(tail) == "" {
			tail = "(empty)"
		}
		where := ""
		if keepDirs() {
			where = " " + s.log
		}
		return nil, fmt.Errorf("s3test: %s on %s: %w after %v; its log%s ends with:\n%s",
			name, addr, err, time.Since(began).Round(time.Millisecond), where, tail)
	}
	return s, nil
}

// waitReady polls until every path (or absolute URL) answers, for
// versitygw with any HTTP response, for MinIO with 200 OK and for SeaweedFS
// as seaweedReady says. It fails at once if the process
// exits.
func (s *Server) waitReady(ctx context.Context, paths []string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: s.RootCAs}},
		Timeout:   5 * time.Second,
	}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var last error
	for _, p := range paths {
		for {
			last = s.probe(ctx, client, p)
			if last == nil {
				break
			}
			select {
			case <-s.done:
				return fmt.Errorf("exited before becoming ready (%v)", s.cmd.ProcessState)
			case <-ctx.Done():
				return fmt.Errorf("not ready (%w); last probe: %v", ctx.Err(), last)
			case <-tick.C:
			}
		}
	}
	return nil
}

func (s *Server) probe(ctx context.Context, client *http.Client, path string) error {
	u := path
	if !strings.HasPrefix(u, "http://") {
		u = s.Endpoint + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if s.Name == MinIO && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if s.Name == SeaweedFS {
		return seaweedReady(u, resp, body)
	}
	return nil
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logTail returns the last lines of the log file at path, at most 4 KiB.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	const max = 4 << 10
	if len(data) > max {
		data = data[len(data)-max:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return string(data)
}

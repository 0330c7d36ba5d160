package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/s3kit/s3kit"
)

// Environment of the child processes of the whole-process cases (see
// Spawn, and ChildMain for the jobs).
const (
	envArgv   = "S3KIT_BENCH_ARGV"   // spawn: the command to run, as a JSON array
	envEnv    = "S3KIT_BENCH_ENV"    // spawn: its environment, as a JSON array
	envOut    = "S3KIT_BENCH_OUT"    // spawn: the file its output goes to
	envMode   = "S3KIT_BENCH_MODE"   // download: "file" or "writer"
	envDst    = "S3KIT_BENCH_DST"    // download: the file to write; sync: the local directory
	envPrefix = "S3KIT_BENCH_PREFIX" // sync: the prefix of BenchBucket to sync to
	// EnvCPUProfile, if set in the environment of a benchmark, has the
	// download and sync children write a CPU profile there (NAME.pprof
	// becomes NAME-CLIENT-PID.pprof) and a heap profile beside it
	// (-heap.pprof) at the end: what the report's "what a profile shows"
	// comes from.
	EnvCPUProfile = "S3KIT_BENCH_CPUPROFILE"
)

// profile starts a CPU profile if EnvCPUProfile asks for one, and returns
// the function that stops it and writes the heap profile.
func profile(client string) (stop func(), err error) {
	base := os.Getenv(EnvCPUProfile)
	if base == "" {
		return func() {}, nil
	}
	base = strings.TrimSuffix(base, ".pprof") + "-" + client + "-" + strconv.Itoa(os.Getpid())
	f, err := os.Create(base + ".pprof")
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		if h, err := os.Create(base + "-heap.pprof"); err == nil {
			pprof.Lookup("allocs").WriteTo(h, 0)
			h.Close()
		}
	}, nil
}

// ProcResult is what Spawn measured of one process.
type ProcResult struct {
	Wall       float64 // seconds from start to exit
	CPU        float64 // user plus system seconds, its children included
	PeakRSSKiB int64   // its ru_maxrss: the peak resident set of the whole process
	ExitCode   int
}

// Spawn runs argv with the environment env, its standard output and error
// going to the file out, and measures the whole process: wall time, CPU
// time and peak RSS. A non-zero exit is not an error: see ExitCode.
//
// The process is started by a small intermediate process (this test
// binary again, which does nothing but start it and wait), not by this
// one: os/exec starts children with CLONE_VM|CLONE_VFORK, and at execve
// Linux records the old address space's high-water mark as the child's
// ru_maxrss, so a child of the benchmark process would report at least
// the benchmark process's peak. The intermediate process's own peak (a
// few MiB, SpawnFloor) is the floor of every figure.
func Spawn(ctx context.Context, argv, env []string, out string) (ProcResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return ProcResult{}, err
	}
	a, _ := json.Marshal(argv)
	e, _ := json.Marshal(env)
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), envChild + "=spawn", envArgv + "=" + string(a), envEnv + "=" + string(e), envOut + "=" + out}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = childAttr()
	// The spawned process is in the intermediate one's process group.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var res ProcResult
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("spawning %q: %w: %s", argv, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, fmt.Errorf("spawning %q: output %q: %v", argv, stdout.Bytes(), err)
	}
	return res, nil
}

func runSpawnChild() int {
	var argv, env []string
	err := errors.Join(json.Unmarshal([]byte(os.Getenv(envArgv)), &argv), json.Unmarshal([]byte(os.Getenv(envEnv)), &env))
	if err == nil && len(argv) == 0 {
		err = errors.New("no command")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: spawn:", err)
		return 1
	}
	out, err := os.Create(os.Getenv(envOut))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: spawn:", err)
		return 1
	}
	defer out.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	err = cmd.Run()
	res := ProcResult{Wall: time.Since(start).Seconds()}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "bench: spawn:", err)
		return 1
	}
	res.ExitCode = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.CPU = rusageCPU(ru).Seconds()
		res.PeakRSSKiB = ru.Maxrss
	}
	json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

// SelfCommand returns the command and environment that run this test
// binary as the child doing job, with the given extra environment.
func SelfCommand(job string, extra ...string) ([]string, []string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	env := append([]string{"PATH=" + os.Getenv("PATH"), envChild + "=" + job}, extra...)
	if p := os.Getenv(EnvCPUProfile); p != "" {
		env = append(env, EnvCPUProfile+"="+p)
	}
	return []string{exe, "-test.run=^$"}, env, nil
}

func exitChild(err error) {
	if errors.Is(err, ErrNotSupported) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(childUnsupportedStatus)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func childEndpoint() (Endpoint, error) {
	var ep Endpoint
	if err := json.Unmarshal([]byte(os.Getenv(envEndpoint)), &ep); err != nil {
		return ep, fmt.Errorf("%s: %v", envEndpoint, err)
	}
	return ep, nil
}

// runDownloadChild downloads one object with one client, to a file or to
// a writer that counts and discards, and checks its size.
func runDownloadChild() error {
	ep, err := childEndpoint()
	if err != nil {
		return err
	}
	size, err := strconv.ParseInt(os.Getenv(envSize), 10, 64)
	if err != nil {
		return fmt.Errorf("%s: %v", envSize, err)
	}
	stop, err := profile(os.Getenv(envClient))
	if err != nil {
		return err
	}
	defer stop()
	ctx := context.Background()
	c, err := NewClient(ctx, os.Getenv(envClient), ep)
	if err != nil {
		return err
	}
	key := os.Getenv(envKey)
	var n int64
	switch os.Getenv(envMode) {
	case "file":
		dst := os.Getenv(envDst)
		if err := c.DownloadFile(ctx, key, dst); err != nil {
			return err
		}
		st, err := os.Stat(dst)
		if err != nil {
			return err
		}
		n = st.Size()
	case "writer":
		if n, err = c.DownloadWriter(ctx, key, &CountingWriter{}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s=%q: want file or writer", envMode, os.Getenv(envMode))
	}
	if n != size {
		return fmt.Errorf("downloaded %d bytes of %s, want %d", n, key, size)
	}
	return nil
}

// SyncReport is what a sync child prints on its standard output.
type SyncReport struct {
	Copied, Unchanged, Failed int
}

// runSyncChild syncs a local directory to a prefix with s3kit.Sync at its
// defaults.
func runSyncChild() error {
	ep, err := childEndpoint()
	if err != nil {
		return err
	}
	stop, err := profile("s3kit-sync")
	if err != nil {
		return err
	}
	defer stop()
	ctx := context.Background()
	c, err := newS3kit(ctx, "s3kit", ep, false)
	if err != nil {
		return err
	}
	res, err := s3kit.Sync(ctx, s3kit.LocalDir(os.Getenv(envDst)), c.b.Prefix(os.Getenv(envPrefix)), nil)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(SyncReport{Copied: res.Copied.Files, Unchanged: res.Unchanged.Files, Failed: res.Failed.Files})
}

// NullServerStats returns the requests a null server has served so far.
func NullServerStats(ctx context.Context, ep Endpoint) (NullStats, error) {
	var st NullStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+statsPath, nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return st, err
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("%s: %s", statsPath, resp.Status)
	}
	return st, json.Unmarshal(data, &st)
}

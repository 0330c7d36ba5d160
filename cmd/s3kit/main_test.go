package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/s3test"
)

// The end-to-end tests run the built command against the real servers that
// TestMain starts on 127.0.0.1, as the library's tests do.
var (
	servers []*s3test.Server
	binary  string // the built s3kit
	tmpRoot string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	var err error
	tmpRoot, err = os.MkdirTemp("", "s3kit-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmpRoot)
	// The command must never pick up the developer's own AWS setup: it
	// could point it at a real account.
	s3test.IsolateAWS(tmpRoot)

	binary = filepath.Join(tmpRoot, "s3kit")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building s3kit: %v\n%s", err, out)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	started, err := s3test.StartAll(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3kit command tests: starting servers:", err)
		return 1
	}
	defer func() {
		for _, s := range started {
			s.Stop()
		}
	}()
	servers = started
	return m.Run()
}

// env is one server as a test sees it: a library client for setting up
// and checking, and a fresh bucket deleted with everything in it when the
// test ends.
type env struct {
	name   string
	srv    *s3test.Server
	client *s3kit.Client
	bucket *s3kit.Bucket
}

// eachServer runs fn as a subtest per server.
func eachServer(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	if len(servers) == 0 {
		t.Skip("no servers selected (S3KIT_TEST_SERVERS=none)")
	}
	for _, srv := range servers {
		t.Run(srv.Name, func(t *testing.T) {
			c, err := s3kit.New(t.Context(), s3kit.Config{
				Endpoint: srv.Endpoint, Region: srv.Region,
				AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey,
			})
			if err != nil {
				t.Fatal(err)
			}
			e := &env{name: srv.Name, srv: srv, client: c}
			e.bucket = newBucket(t, c)
			fn(t, e)
		})
	}
}

var (
	bucketSeq     atomic.Int64
	notBucketChar = regexp.MustCompile(`[^a-z0-9-]+`)
)

// newBucket creates a bucket named after the test and deletes it, with
// everything in it, when the test ends.
func newBucket(t *testing.T, c *s3kit.Client) *s3kit.Bucket {
	t.Helper()
	name := strings.Trim(notBucketChar.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 40 {
		name = strings.Trim(name[:40], "-")
	}
	name = fmt.Sprintf("cli-%s-%d-%d", name, os.Getpid()%10000, bucketSeq.Add(1))
	if err := c.CreateBucket(t.Context(), name, nil); err != nil {
		t.Fatalf("creating bucket: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.DeleteBucket(ctx, name, &s3kit.DeleteBucketOptions{Empty: true}); err != nil && !errors.Is(err, s3kit.ErrBucketNotExist) {
			t.Errorf("deleting bucket %s: %v", name, err)
		}
	})
	return c.Bucket(name)
}

// url names key in the test's bucket.
func (e *env) url(key string) string { return "s3://" + e.bucket.Name() + "/" + key }

// result is how one run of the command ended.
type result struct {
	stdout, stderr string
	code           int
}

// cmd returns the command with args, configured for the server through
// the environment only, as a user's shell would.
func (e *env) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, binary, args...)
	c.Env = append(os.Environ(),
		"AWS_ENDPOINT_URL="+e.srv.Endpoint,
		"AWS_ACCESS_KEY_ID="+e.srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY="+e.srv.SecretKey,
		"AWS_REGION="+e.srv.Region,
	)
	return c
}

// runEnv runs the command as run does, with only the AWS environment
// given (the server's endpoint and credentials left out).
func (e *env) runEnv(t *testing.T, awsEnv []string, args ...string) result {
	t.Helper()
	return e.runWith(t, func(c *exec.Cmd) { c.Env = append(os.Environ(), awsEnv...) }, args...)
}

// run runs the command to its end, with stdin if not nil, bounded by a
// timeout so that a hang fails the test.
func (e *env) run(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	return e.runWith(t, func(c *exec.Cmd) { c.Stdin = stdin }, args...)
}

// runWith runs the command of e.cmd, changed by setup, to its end,
// bounded by a timeout so that a hang fails the test.
func (e *env) runWith(t *testing.T, setup func(*exec.Cmd), args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c := e.cmd(ctx, args...)
	setup(c)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("s3kit %q: %v", args, err)
	}
	return r
}

// ok runs the command and fails the test unless it exits 0.
func (e *env) ok(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	r := e.run(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("s3kit %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// want checks the exit status of a run.
func want(t *testing.T, r result, code int, args ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("s3kit %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, r.code, code, r.stdout, r.stderr)
	}
}

// records parses --json output: every line a record, the last the summary.
func records(t *testing.T, stdout string) ([]record, summaryRecord) {
	t.Helper()
	var recs []record
	var sum summaryRecord
	sc := bufio.NewScanner(strings.NewReader(stdout))
	lines := 0
	var last string
	for sc.Scan() {
		lines++
		last = sc.Text()
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("stdout line %d is not JSON: %q", lines, sc.Text())
		}
		if raw["operation"] == "summary" {
			continue
		}
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if lines == 0 || json.Unmarshal([]byte(last), &sum) != nil || sum.Operation != "summary" {
		t.Fatalf("the last line of --json output is not the summary:\n%s", stdout)
	}
	return recs, sum
}

func writeFile(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (e *env) get(t *testing.T, key string) string {
	t.Helper()
	s, _, err := e.bucket.GetString(t.Context(), key)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return s
}

func (e *env) put(t *testing.T, key, content string) {
	t.Helper()
	if _, err := e.bucket.PutString(t.Context(), key, content, nil); err != nil {
		t.Fatal(err)
	}
}

func (e *env) keys(t *testing.T) []string {
	t.Helper()
	objs, err := e.bucket.ListAll(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

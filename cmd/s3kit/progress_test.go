package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// On a terminal the progress display shows the totals on stderr; checked
// in a real terminal, a tmux pane. On a pipe it is absent (checked by
// TestCpFileRoundTrip and the stderr of every other test).
func TestProgressOnTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	eachServer(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		for i := range 3 {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%d.bin", i)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.CopyN(f, rand.Reader, 8<<20); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}

		for _, c := range []struct {
			flags []string
			shown bool
		}{
			{nil, true},
			{[]string{"--no-progress"}, false},
			{[]string{"--quiet"}, false},
		} {
			pane := runInTmux(t, e, append(c.flags, "--concurrency", "2", "cp", "-r", dir, e.url("up/"))...)
			shown := strings.Contains(pane, "3/3 objects") && strings.Contains(pane, "24.0 MiB / 24.0 MiB")
			if shown != c.shown {
				t.Errorf("flags %q: progress shown %v, want %v; pane:\n%s", c.flags, shown, c.shown, pane)
			}
			// The lines of the copies go above the display and do not tear
			// it: one line of totals is left on the screen.
			if n := strings.Count(pane, " objects "); c.shown && n != 1 {
				t.Errorf("flags %q: %d lines of totals on the screen, want 1:\n%s", c.flags, n, pane)
			}
			if n := strings.Count(pane, "cp "+dir); n != 3 && !slices.Contains(c.flags, "--quiet") {
				t.Errorf("flags %q: %d lines of copies, want 3:\n%s", c.flags, n, pane)
			}
		}
		// Down through DownloadAll, whose OnStart and OnFile feed the
		// same display.
		pane := runInTmux(t, e, "--concurrency", "2", "cp", "-r", e.url("up/"), t.TempDir())
		if !strings.Contains(pane, "3/3 objects") || !strings.Contains(pane, "24.0 MiB / 24.0 MiB") || strings.Count(pane, " objects ") != 1 {
			t.Errorf("cp -r down: no progress, or a torn one:\n%s", pane)
		}
		if n := strings.Count(pane, "cp "+e.url("up/")); n != 3 {
			t.Errorf("cp -r down: %d lines of copies, want 3:\n%s", n, pane)
		}
	})
}

var tmuxSeq atomic.Int64

// runInTmux runs the command in a detached tmux pane of its own server and
// returns the pane's text once the command has ended.
func runInTmux(t *testing.T, e *env, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	// A server of its own per run, so no run sees another's pane.
	sock := fmt.Sprintf("s3kit-test-%d-%d", os.Getpid(), tmuxSeq.Add(1))
	tmux := func(a ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "tmux", append([]string{"-L", sock}, a...)...).CombinedOutput()
		return string(out), err
	}
	var cmd strings.Builder
	fmt.Fprintf(&cmd, "env AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=%s %s",
		e.srv.Endpoint, e.srv.AccessKey, e.srv.SecretKey, e.srv.Region, binary)
	for _, a := range args {
		fmt.Fprintf(&cmd, " '%s'", a)
	}
	cmd.WriteString("; echo EXIT=$?; sleep 60")
	if out, err := tmux("new-session", "-d", "-x", "160", "-y", "20", cmd.String()); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	defer tmux("kill-server")
	for {
		pane, err := tmux("capture-pane", "-p")
		if err != nil {
			t.Fatalf("capture-pane: %v %s", err, pane)
		}
		if strings.Contains(pane, "EXIT=") {
			if !strings.Contains(pane, "EXIT=0") {
				t.Fatalf("the command failed:\n%s", pane)
			}
			return pane
		}
		if ctx.Err() != nil {
			t.Fatalf("the command did not end:\n%s", pane)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3kit/s3kit"
)

// stdin streams to an object through the Writer (multipart above one
// part), and cat and cp to "-" stream it back in order.
func TestStreams(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		data := make([]byte, 11<<20+12345) // three parts of 5 MiB, the last short
		rand.Read(data)
		r := e.ok(t, bytes.NewReader(data), "--part-size", "5MiB", "--json", "cp", "--metadata", "src=stdin", "-", e.url("big.bin"))
		recs, sum := records(t, r.stdout)
		if len(recs) != 1 || recs[0].Source != "-" || sum.OK != 1 {
			t.Errorf("records %+v %+v", recs, sum)
		}
		info, err := e.bucket.Head(t.Context(), "big.bin", nil)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(data)) || info.Metadata["src"] != "stdin" {
			t.Fatalf("uploaded %+v", info)
		}

		r = e.ok(t, nil, "--part-size", "5MiB", "cat", e.url("big.bin"))
		if r.stdout != string(data) {
			t.Fatalf("cat: %d bytes, not the %d uploaded", len(r.stdout), len(data))
		}
		r = e.ok(t, nil, "--json", "cp", e.url("big.bin"), "-")
		if r.stdout != string(data) {
			t.Fatalf("cp to -: %d bytes, not the %d uploaded (--json records must stay off stdout)", len(r.stdout), len(data))
		}
		r = e.ok(t, nil, "cat", "--offset", "5MiB", "--length", "10", e.url("big.bin"))
		if r.stdout != string(data[5<<20:5<<20+10]) {
			t.Errorf("cat --offset --length: %q", r.stdout)
		}
		r = e.ok(t, nil, "cat", "--offset", "11MiB", e.url("big.bin"))
		if r.stdout != string(data[11<<20:]) {
			t.Errorf("cat --offset to the end: %d bytes", len(r.stdout))
		}

		// An empty stdin makes an empty object.
		e.ok(t, strings.NewReader(""), "cp", "-", e.url("empty"))
		if got := e.get(t, "empty"); got != "" {
			t.Errorf("empty stream: %q", got)
		}
		// cat of a missing object fails with nothing on stdout.
		r = e.run(t, nil, "cat", e.url("missing"))
		want(t, r, exitFailed)
		if r.stdout != "" || !strings.Contains(r.stderr, "does not exist") {
			t.Errorf("cat missing: stdout %q stderr %q", r.stdout, r.stderr)
		}
	})
}

// SIGINT in the middle of an upload from stdin exits 130 and leaves no
// object, no unfinished multipart upload and no temporary file.
func TestInterruptUpload(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		tmp := t.TempDir()
		c := e.cmd(ctx, "--json", "--part-size", "5MiB", "cp", "-", e.url("stream.bin"))
		c.Env = append(c.Env, "TMPDIR="+tmp)
		stdin, err := c.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		// Feed it until a part has gone up (the upload is then mid-way,
		// past its CreateMultipartUpload); the stream never ends by itself.
		go func() {
			buf := make([]byte, 1<<20)
			for ctx.Err() == nil {
				if _, err := stdin.Write(buf); err != nil {
					return
				}
			}
		}()
		for {
			if ctx.Err() != nil {
				t.Fatal("no multipart upload appeared")
			}
			if partsUploaded(t, e) > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := c.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		err = c.Wait()
		stdin.Close()
		if code := c.ProcessState.ExitCode(); code != exitInterrupted {
			t.Fatalf("exit %d (%v), want 130\nstderr:\n%s", code, err, stderr.String())
		}
		if _, sum := records(t, stdout.String()); !sum.Interrupted {
			t.Errorf("summary %+v does not say interrupted", sum)
		}
		if n := countUploads(t, e.bucket); n != 0 {
			t.Errorf("%d multipart uploads left after the interrupt", n)
		}
		if ok, err := e.bucket.Exists(t.Context(), "stream.bin"); err != nil || ok {
			t.Errorf("object after the interrupt: %v, %v", ok, err)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	})
}

// partsUploaded returns how many parts the unfinished uploads of the
// bucket have stored.
func partsUploaded(t *testing.T, e *env) int {
	t.Helper()
	n := 0
	for u, err := range e.bucket.ListUploads(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.client.S3().ListParts(t.Context(), &s3.ListPartsInput{
			Bucket: aws.String(e.bucket.Name()), Key: aws.String(u.Key), UploadId: aws.String(u.UploadID),
		})
		if err != nil {
			continue // aborted meanwhile
		}
		n += len(out.Parts)
	}
	return n
}

func countUploads(t *testing.T, b *s3kit.Bucket) int {
	t.Helper()
	n := 0
	for _, err := range b.ListUploads(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// SIGINT in the middle of a download exits 130 and leaves neither the file
// nor a temporary one.
func TestInterruptDownload(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		writeRandom(t, e, "big.bin", 64<<20)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		dir := t.TempDir()
		// One range at a time, small ones, so the download lasts.
		c := e.cmd(ctx, "--part-size", "5MiB", "--concurrency", "1", "cp", e.url("big.bin"), dir+"/")
		var stderr bytes.Buffer
		c.Stderr = &stderr
		interruptWhenWriting(ctx, t, c, dir, &stderr)
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("files left after the interrupt: %v", left)
		}
	})
}

// writeRandom writes size random bytes to key.
func writeRandom(t *testing.T, e *env, key string, size int64) {
	t.Helper()
	w, err := e.bucket.NewWriter(t.Context(), key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// interruptWhenWriting starts c, sends it SIGINT as soon as something (a
// temporary file) appears in dir, and checks that it exits 130; it skips
// t if c finished first, and fails it if nothing appears before ctx ends.
func interruptWhenWriting(ctx context.Context, t *testing.T, c *exec.Cmd, dir string, stderr *bytes.Buffer) {
	t.Helper()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	for {
		if ctx.Err() != nil {
			c.Process.Kill()
			c.Wait()
			t.Fatal("no temporary file appeared")
		}
		if ents, _ := os.ReadDir(dir); len(ents) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Process.Signal(syscall.SIGINT)
	c.Wait()
	code := c.ProcessState.ExitCode()
	if code == 0 {
		t.Skip("the download finished before the interrupt")
	}
	if code != exitInterrupted {
		t.Fatalf("exit %d, want 130\nstderr:\n%s", code, stderr.String())
	}
}

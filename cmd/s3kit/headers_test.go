package main

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3kit/s3kit/internal/faultproxy"
)

// proxyEnv is the AWS environment that points the command at the proxy p
// in front of e's server.
func proxyEnv(e *env, p *faultproxy.Proxy) []string {
	return []string{
		"AWS_ENDPOINT_URL=" + p.URL, "AWS_ACCESS_KEY_ID=" + e.srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + e.srv.SecretKey, "AWS_REGION=" + e.srv.Region,
	}
}

// writes returns the requests of p that create an object or an upload
// (PUT without a part number or a copy of a part; POST ?uploads), by the
// path of their key.
func writes(p *faultproxy.Proxy) map[string]faultproxy.Request {
	got := map[string]faultproxy.Request{}
	for _, r := range p.Requests() {
		q := r.RawQuery
		switch {
		case r.Method == http.MethodPut && !strings.Contains(q, "partNumber=") && !strings.Contains(q, "tagging"):
		case r.Method == http.MethodPost && strings.Contains(q, "uploads"):
		default:
			continue
		}
		i := strings.LastIndex(r.Path, "/")
		got[r.Path[i+1:]] = r
	}
	return got
}

// --acl, --storage-class and --sse reach the store on every kind of write
// cp makes: a single PUT, a multipart upload from a file and from stdin, a
// server-side copy and a multipart copy (--copy-threshold); and the
// multipart copy copies the bytes and the metadata.
func TestCpWriteFlagsReachStore(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		p := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(p.Close)
		pe := proxyEnv(e, p)
		dir := t.TempDir()
		small := filepath.Join(dir, "small")
		writeFile(t, small, "small", mtime1)
		big := make([]byte, 11<<20+1) // three parts of 5 MiB
		rand.Read(big)
		bigFile := filepath.Join(dir, "big")
		writeFile(t, bigFile, string(big), mtime1)

		// SSE-S3 where the store applies it; elsewhere the header is only
		// checked to have been sent.
		sse := []string{"--sse", "AES256"}
		if e.name == "versitygw" {
			sse = nil // it accepts the header but neither applies nor reports it
		}
		flags := append([]string{"--acl", "private", "--storage-class", "STANDARD"}, sse...)
		run := func(stdin []byte, args ...string) {
			t.Helper()
			r := e.runWith(t, func(c *exec.Cmd) {
				c.Env = append(c.Env, pe...)
				if stdin != nil {
					c.Stdin = bytes.NewReader(stdin)
				}
			}, append([]string{"--part-size", "5MiB"}, args...)...)
			want(t, r, exitOK, args...)
		}
		run(nil, append([]string{"cp"}, append(flags, small, e.url("put"))...)...)
		run(nil, append([]string{"cp"}, append(flags, bigFile, e.url("multipart"))...)...)
		run(big, append([]string{"cp"}, append(flags, "-", e.url("stdin"))...)...)
		run(nil, append([]string{"cp"}, append(flags, e.url("put"), e.url("copy"))...)...)
		run(nil, append([]string{"cp", "--copy-threshold", "5MiB"}, append(flags, e.url("multipart"), e.url("mpcopy"))...)...)

		got := writes(p)
		for _, key := range []string{"put", "multipart", "stdin", "copy", "mpcopy"} {
			r, ok := got[key]
			if !ok {
				t.Errorf("%s: no write seen", key)
				continue
			}
			for h, v := range map[string]string{"X-Amz-Acl": "private", "X-Amz-Storage-Class": "STANDARD"} {
				if r.Header.Get(h) != v {
					t.Errorf("%s: %s %s %q, want %q", key, r.Method, h, r.Header.Get(h), v)
				}
			}
			if sse != nil && r.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
				t.Errorf("%s: no SSE header", key)
			}
		}
		// The multipart copy was made of part copies, and is the object.
		parts := 0
		for _, r := range p.Requests() {
			if r.Method == http.MethodPut && strings.HasSuffix(r.Path, "/mpcopy") && r.Header.Get("X-Amz-Copy-Source-Range") != "" {
				parts++
			}
		}
		if parts != 3 {
			t.Errorf("the multipart copy took %d part copies, want 3", parts)
		}
		if e.get(t, "mpcopy") != string(big) {
			t.Error("the multipart copy's bytes differ")
		}
		for _, key := range []string{"put", "multipart", "copy", "mpcopy"} {
			info, err := e.bucket.Head(t.Context(), key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if info.Metadata["mtime"] != "1700000000.123456789" {
				t.Errorf("%s: mtime %q", key, info.Metadata["mtime"])
			}
			if sse != nil && info.SSE != "AES256" {
				t.Errorf("%s: SSE %q, want AES256", key, info.SSE)
			}
		}
		// sync's uploads carry them too.
		syncDir := t.TempDir()
		writeFile(t, filepath.Join(syncDir, "synced"), "synced", mtime1)
		p.Reset()
		run(nil, append([]string{"sync"}, append(flags, syncDir, e.url(""))...)...)
		if r, ok := writes(p)["synced"]; !ok || r.Header.Get("X-Amz-Acl") != "private" || r.Header.Get("X-Amz-Storage-Class") != "STANDARD" ||
			sse != nil && r.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
			t.Errorf("sync's upload: %v, headers %v", ok, r.Header)
		}

		// mv too goes through the multipart copy, and deletes its source.
		run(nil, "mv", "--copy-threshold", "5MiB", e.url("mpcopy"), e.url("moved"))
		if e.get(t, "moved") != string(big) {
			t.Error("the multipart move's bytes differ")
		}
		if ok, err := e.bucket.Exists(t.Context(), "mpcopy"); err != nil || ok {
			t.Errorf("the source of the move: %v, %v", ok, err)
		}
	})
}

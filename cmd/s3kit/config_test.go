package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// The configuration comes from the flags and the AWS environment and
// profiles, as the library's New takes it; no secret is printed.
func TestConfiguration(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		e.put(t, "k", "v")
		creds := []string{"AWS_ACCESS_KEY_ID=" + e.srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + e.srv.SecretKey}

		// --endpoint and --region instead of the environment.
		r := e.runEnv(t, creds, "--endpoint", e.srv.Endpoint, "--region", e.srv.Region, "cat", e.url("k"))
		want(t, r, exitOK)
		if r.stdout != "v" {
			t.Errorf("cat with --endpoint: %q", r.stdout)
		}

		// --profile picks a profile of the shared files.
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "config"), "[profile test]\nregion = "+e.srv.Region+"\nendpoint_url = "+e.srv.Endpoint+"\n", time.Time{})
		writeFile(t, filepath.Join(dir, "credentials"), "[test]\naws_access_key_id = "+e.srv.AccessKey+"\naws_secret_access_key = "+e.srv.SecretKey+"\n", time.Time{})
		files := []string{"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials")}
		r = e.runEnv(t, files, "--profile", "test", "cat", e.url("k"))
		want(t, r, exitOK)
		if r.stdout != "v" {
			t.Errorf("cat with --profile: %q", r.stdout)
		}

		// A wrong secret fails without showing either secret.
		const wrong = "wrong-secret-9f8e7d6c"
		r = e.runEnv(t, []string{"AWS_ENDPOINT_URL=" + e.srv.Endpoint, "AWS_REGION=" + e.srv.Region,
			"AWS_ACCESS_KEY_ID=" + e.srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + wrong}, "--json", "cat", e.url("k"))
		want(t, r, exitFailed)
		if !strings.Contains(r.stderr, "permission denied") {
			t.Errorf("wrong secret: stderr %q", r.stderr)
		}
		if out := r.stdout + r.stderr; strings.Contains(out, wrong) || strings.Contains(out, e.srv.SecretKey) {
			t.Error("a secret was printed")
		}
		// No flag takes a secret.
		r = e.run(t, nil, "help", "cp")
		for _, f := range []string{"--secret", "--access-key", "--session-token", "--key"} {
			if strings.Contains(r.stdout, f) {
				t.Errorf("help shows a flag %s:\n%s", f, r.stdout)
			}
		}

		// --checksum picks the uploads' algorithm; --concurrency, --part-size
		// and --memory shape the transfer.
		src := filepath.Join(t.TempDir(), "f")
		writeFile(t, src, strings.Repeat("x", 6<<20), time.Time{})
		e.ok(t, nil, "--checksum", "CRC32C", "--concurrency", "2", "--part-size", "5MiB", "--memory", "16MiB", "cp", src, e.url("crc"))
		info, err := e.bucket.Head(t.Context(), "crc", nil)
		if err != nil {
			t.Fatal(err)
		}
		if info.Checksums["CRC32C"] == "" || info.Size != 6<<20 {
			t.Errorf("--checksum CRC32C: %+v", info)
		}
		// A memory budget that cannot hold one part is refused: bad usage.
		r = e.run(t, nil, "--memory", "1MiB", "--part-size", "8MiB", "cat", e.url("k"))
		want(t, r, exitUsage)
		if _, err := s3kit.New(t.Context(), s3kit.Config{MemoryLimit: 1 << 20, PartSize: 8 << 20}); err == nil {
			t.Error("the library takes a budget smaller than a part")
		}
		os.Remove(src)
	})
}

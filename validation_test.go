package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// TestBadInputSendsNothing checks that every bad input is refused with
// ErrInvalid and a message naming what was wrong, before any request
// reaches the store: the client talks through a proxy that counts requests.
func TestBadInputSendsNothing(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		c, p := proxied(t, e, s3kit.Config{})
		ctx := t.Context()
		b := c.Bucket(e.bucket.Name())
		long := strings.Repeat("k", s3kit.MaxKeyLength+1)
		cases := []struct {
			name, want string
			call       func() error
		}{
			{"bucket uppercase", "lowercase", func() error { return errOf(c.Bucket("Photos").PutString(ctx, "k", "v", nil)) }},
			{"bucket too short", "3 to 63", func() error { _, _, err := c.Bucket("ab").GetBytes(ctx, "k"); return err }},
			{"bucket IP", "IP address", func() error { _, err := c.Bucket("10.0.0.1").Head(ctx, "k", nil); return err }},
			{"bucket double dot", "adjacent periods", func() error { _, err := c.Bucket("a..b").ListAll(ctx, nil); return err }},
			{"bucket reserved prefix", "reserved prefix", func() error { return c.Bucket("xn--abc").Delete(ctx, "k") }},
			{"bucket reserved suffix", "reserved suffix", func() error { return c.CreateBucket(ctx, "data-s3alias", nil) }},
			{"create bucket underscore", "only lowercase", func() error { return c.CreateBucket(ctx, "my_bucket", nil) }},
			{"empty key", "empty", func() error { return errOf(b.PutString(ctx, "", "v", nil)) }},
			{"key too long", "1024", func() error { _, _, err := b.GetBytes(ctx, long); return err }},
			{"key too long after prefix", "prefix included", func() error {
				return errOf(b.Prefix("p").PutString(ctx, long[:s3kit.MaxKeyLength-1], "v", nil))
			}},
			{"key not UTF-8", "UTF-8", func() error { _, err := b.Exists(ctx, "bad\xff"); return err }},
			{"IfNoneMatch not *", "only \"*\"", func() error {
				return errOf(b.PutString(ctx, "k", "v", &s3kit.PutOptions{IfNoneMatch: `"etag"`}))
			}},
			{"header injection", "0x0a", func() error {
				return errOf(b.PutString(ctx, "k", "v", &s3kit.PutOptions{CacheControl: "a\nX-Evil: 1"}))
			}},
			{"metadata name", "header tokens", func() error {
				return errOf(b.PutString(ctx, "k", "v", &s3kit.PutOptions{Metadata: map[string]string{"a b": "1"}}))
			}},
			{"metadata too large", "2048", func() error {
				return errOf(b.PutString(ctx, "k", "v", &s3kit.PutOptions{Metadata: map[string]string{"m": strings.Repeat("x", 3000)}}))
			}},
			{"too many tags", "at most 10", func() error {
				tags := map[string]string{}
				for i := range 11 {
					tags[string(rune('a'+i))] = "v"
				}
				return b.SetTags(ctx, "k", tags)
			}},
			{"ACL", "canned ACL", func() error { return errOf(b.PutString(ctx, "k", "v", &s3kit.PutOptions{ACL: "public"})) }},
			{"SSE", "server-side encryption", func() error { return errOf(b.PutString(ctx, "k", "v", &s3kit.PutOptions{SSE: "rot13"})) }},
			{"KMS key without KMS", "KMS key", func() error {
				return errOf(b.PutString(ctx, "k", "v", &s3kit.PutOptions{SSE: s3kit.SSES3, SSEKMSKeyID: "key"}))
			}},
			{"storage class", "storage class", func() error {
				return errOf(b.PutString(ctx, "k", "v", &s3kit.PutOptions{StorageClass: "cold storage"}))
			}},
			{"presign expiry", "7 days", func() error { _, _, err := b.PresignGet(ctx, "k", 8*24*time.Hour, nil); return err }},
			{"presign zero expiry", "not positive", func() error { _, _, err := b.PresignPut(ctx, "k", 0, nil); return err }},
			{"page size", "PageSize", func() error { _, err := b.ListAll(ctx, &s3kit.ListOptions{PageSize: 5000}); return err }},
			{"pattern", "unterminated", func() error { _, err := b.ListAll(ctx, &s3kit.ListOptions{Pattern: "[x"}); return err }},
			{"copy metadata without replace", "ReplaceMetadata", func() error {
				_, err := b.Copy(ctx, "a", "b", &s3kit.CopyOptions{Metadata: map[string]string{"a": "b"}})
				return err
			}},
			{"copy to bad bucket", "lowercase", func() error {
				_, err := b.Copy(ctx, "a", "b", &s3kit.CopyOptions{DestBucket: "UPPER"})
				return err
			}},
			{"DeleteMany with one bad key", "empty", func() error { _, err := b.DeleteMany(ctx, []string{"a", "b", ""}); return err }},
			{"CopyMany concurrency", "negative", func() error {
				_, err := b.CopyMany(ctx, []s3kit.CopyPair{{Src: "a", Dst: "b"}}, &s3kit.BatchOptions{Concurrency: -1})
				return err
			}},
			{"WaitExists timeout", "negative", func() error { return b.WaitExists(ctx, "k", -time.Second) }},
			{"JSON", "encoding JSON", func() error { return errOf(b.PutJSON(ctx, "k", func() {}, nil)) }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := p.Count()
				err := c.call()
				if !errors.Is(err, s3kit.ErrInvalid) || !errors.Is(err, fs.ErrInvalid) {
					t.Fatalf("got %v, want ErrInvalid", err)
				}
				if !strings.Contains(err.Error(), c.want) {
					t.Errorf("message %q does not say %q", err, c.want)
				}
				if n := p.Count() - before; n != 0 {
					t.Errorf("%d requests reached the server", n)
				}
			})
		}
		if _, err := s3kit.New(ctx, s3kit.Config{Endpoint: "http://user:hunter2@127.0.0.1:1"}); !errors.Is(err, s3kit.ErrInvalid) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("credentials in the endpoint: %v", err)
		}
		if _, err := s3kit.New(ctx, s3kit.Config{MaxAttempts: -1}); !errors.Is(err, s3kit.ErrInvalid) {
			t.Errorf("negative MaxAttempts: %v", err)
		}
	})
}

// TestSecretsNeverLeak runs failing operations with canary credentials and
// checks that neither the errors nor the debug log contain the secret key,
// the session token or a signature.
func TestSecretsNeverLeak(t *testing.T) {
	const secret, token = "CANARY-SECRET-Zm9vYmFyYmF6cXV4", "CANARY-TOKEN-c2Vzc2lvbnRva2Vu"
	eachServer(t, func(t *testing.T, e *env) {
		var log bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		cfg := s3kit.Config{AccessKeyID: "AKIACANARY", SecretAccessKey: secret, SessionToken: token,
			Logger: logger, MaxAttempts: 2, RetryBaseDelay: time.Millisecond}
		c, p := proxied(t, e, cfg)
		p.Add(faultproxy.Rule{Times: 1, Fault: faultproxy.Status(503, "SlowDown")})
		ctx := t.Context()
		b := c.Bucket(e.bucket.Name())

		var errs []error
		errs = append(errs, errOf(b.PutString(ctx, "k", "v", nil)))
		_, _, err := b.GetBytes(ctx, "k")
		errs = append(errs, err)
		_, err = b.Head(ctx, "k", nil)
		errs = append(errs, err)
		_, err = b.ListAll(ctx, nil)
		errs = append(errs, err)
		_, err = b.DeleteMany(ctx, []string{"a"})
		errs = append(errs, err)
		_, err = b.Copy(ctx, "a", "b", nil)
		errs = append(errs, err)
		errs = append(errs, c.CreateBucket(ctx, "canary-bucket", nil))
		_, err = c.ListBuckets(ctx)
		errs = append(errs, err)
		// A dead endpoint: transport errors carry the request URL.
		dead, err := s3kit.New(ctx, s3kit.Config{Endpoint: "http://127.0.0.1:1", AccessKeyID: "AKIACANARY",
			SecretAccessKey: secret, SessionToken: token, Logger: logger, MaxAttempts: 2, RetryBaseDelay: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		errs = append(errs, errOf(dead.Bucket("x-bucket").PutString(ctx, "k", "v", nil)))
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, _, err = dead.Bucket("x-bucket").GetBytes(dctx, "k")
		errs = append(errs, err)

		for i, err := range errs {
			if err == nil {
				t.Fatalf("operation %d succeeded with bad credentials", i)
			}
			_, bareHead := lacks[e.name]["403 on a badly signed HEAD"]
			if i < len(errs)-2 && !(i == 2 && bareHead) && !errors.Is(err, s3kit.ErrPermission) {
				t.Errorf("operation %d: %v, want ErrPermission", i, err)
			}
			for _, canary := range []string{secret, token, "Signature=", "X-Amz-Signature", "Credential="} {
				if strings.Contains(err.Error(), canary) {
					t.Errorf("error %d contains %q: %v", i, canary, err)
				}
				if strings.Contains(log.String(), canary) {
					t.Errorf("log contains %q", canary)
				}
			}
		}
		if !strings.Contains(log.String(), "retrying") {
			t.Errorf("the debug log did not record the retry:\n%s", log.String())
		}
	})
}

package s3kit_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3kit/s3kit"
)

// TestConfigSources checks that the standard AWS configuration chain
// reaches s3kit: environment variables, a named profile from shared files,
// and the endpoint variables, with path-style addressing chosen by itself
// for a localhost endpoint.
func TestConfigSources(t *testing.T) {
	srv := servers[0]
	ctx := t.Context()
	owner := newClient(t, srv, s3kit.Config{})
	b := newBucket(t, owner)
	if _, err := b.PutString(ctx, "k", "v", nil); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, cfg s3kit.Config) {
		t.Helper()
		c, err := s3kit.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if s, _, err := c.Bucket(b.Name()).GetString(ctx, "k"); err != nil || s != "v" {
			t.Fatalf("GetString = %q, %v", s, err)
		}
	}

	t.Run("environment", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // overridden by the S3-specific one
		t.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
		t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
		t.Setenv("AWS_REGION", srv.Region)
		check(t, s3kit.Config{})
	})

	t.Run("profile", func(t *testing.T) {
		dir := t.TempDir()
		config := filepath.Join(dir, "config")
		creds := filepath.Join(dir, "credentials")
		os.WriteFile(config, []byte(fmt.Sprintf("[profile tour]\nregion = %s\nendpoint_url = %s\n", srv.Region, srv.Endpoint)), 0o600)
		os.WriteFile(creds, []byte(fmt.Sprintf("[tour]\naws_access_key_id = %s\naws_secret_access_key = %s\n", srv.AccessKey, srv.SecretKey)), 0o600)
		t.Setenv("AWS_CONFIG_FILE", config)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
		check(t, s3kit.Config{Profile: "tour"})
		t.Setenv("AWS_PROFILE", "tour")
		check(t, s3kit.Config{})
		if _, err := s3kit.New(ctx, s3kit.Config{Profile: "no-such-profile"}); err == nil {
			t.Fatal("a missing profile was accepted")
		}
	})

	t.Run("localhost is path-style", func(t *testing.T) {
		check(t, s3kit.Config{
			Endpoint:    strings.Replace(srv.Endpoint, "127.0.0.1", "localhost", 1),
			AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey,
		})
	})

	t.Run("anonymous", func(t *testing.T) {
		c, err := s3kit.New(ctx, s3kit.Config{Endpoint: srv.Endpoint, Anonymous: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Bucket(b.Name()).GetBytes(ctx, "k"); !errors.Is(err, s3kit.ErrPermission) {
			t.Fatalf("anonymous GET of a private object: %v, want ErrPermission", err)
		}
	})

	t.Run("missing credentials", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		c, err := s3kit.New(ctx, s3kit.Config{Endpoint: srv.Endpoint})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Bucket(b.Name()).GetBytes(ctx, "k")
		if !errors.Is(err, s3kit.ErrPermission) || !strings.Contains(err.Error(), "credentials") {
			t.Fatalf("GET without credentials: %v", err)
		}
	})
}

func TestEncryptionAndStorageClass(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		if _, err := b.Put(ctx, "std", strings.NewReader("x"), &s3kit.PutOptions{StorageClass: "STANDARD"}); err != nil {
			t.Fatal(err)
		}
		if info, err := b.Head(ctx, "std", nil); err != nil || info.StorageClass != "STANDARD" {
			t.Fatalf("Head = %+v, %v", info, err)
		}
		e.requireFeature(t, "SSE-S3")
		info, err := b.Put(ctx, "enc", strings.NewReader("secret"), &s3kit.PutOptions{SSE: s3kit.SSES3})
		if err != nil {
			t.Fatal(err)
		}
		if info.SSE != s3kit.SSES3 {
			t.Errorf("Put reports SSE %q", info.SSE)
		}
		if s, _, err := b.GetString(ctx, "enc"); err != nil || s != "secret" {
			t.Fatalf("GetString = %q, %v", s, err)
		}
		if err := b.SetMetadata(ctx, "enc", map[string]string{"m": "1"}); err != nil {
			t.Fatal(err)
		}
		if info, err := b.Head(ctx, "enc", nil); err != nil || info.SSE != s3kit.SSES3 || info.Metadata["m"] != "1" {
			t.Fatalf("after SetMetadata: %+v, %v; want SSE kept", info, err)
		}
	})
}

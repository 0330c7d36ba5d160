package s3test_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit/internal/s3test"
)

func TestStartStop(t *testing.T) {
	for _, name := range s3test.Names() {
		t.Run(name, func(t *testing.T) {
			began := time.Now()
			s, err := s3test.Start(t.Context(), name)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s ready at %s after %v", name, s.Endpoint, time.Since(began).Round(time.Millisecond))
			defer s.Stop()

			u, err := url.Parse(s.Endpoint)
			if err != nil {
				t.Fatal(err)
			}
			if host, _, _ := net.SplitHostPort(u.Host); u.Scheme != "http" || host != "127.0.0.1" {
				t.Fatalf("Endpoint = %q, want http://127.0.0.1:PORT", s.Endpoint)
			}
			if s.Name != name || s.AccessKey == "" || s.SecretKey == "" || s.Region != "us-east-1" {
				t.Errorf("server fields = %q %q %q %q", s.Name, s.AccessKey, s.SecretKey, s.Region)
			}

			// An unsigned request must reach the S3 API and be refused by
			// it, which shows that the server parses S3 requests.
			resp, err := http.Get(s.Endpoint + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
				t.Errorf("unsigned GET / = %s %q, want 403 AccessDenied", resp.Status, body)
			}

			log := s.LogPath()
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
			if err := s.Stop(); err != nil {
				t.Errorf("second Stop: %v", err)
			}
			if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after Stop", u.Host)
			}
			if _, err := os.Stat(log); !os.IsNotExist(err) {
				t.Errorf("log %s not removed by Stop: %v", log, err)
			}
		})
	}
}

func TestStartUnknown(t *testing.T) {
	if _, err := s3test.Start(t.Context(), "nosuchserver"); err == nil {
		t.Fatal("Start of an unknown server succeeded")
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want string
	}{
		{"", "versitygw,minio,seaweedfs"},
		{"minio", "minio"},
		{" versitygw , ,minio ", "versitygw,minio"},
		{"none", ""},
	} {
		t.Setenv("S3KIT_TEST_SERVERS", tc.env)
		if got := strings.Join(s3test.Names(), ","); got != tc.want {
			t.Errorf("S3KIT_TEST_SERVERS=%q: Names() = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := s3test.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root + "/scripts/servers.sh"); err != nil {
		t.Errorf("RepoRoot() = %q, which has no scripts/servers.sh: %v", root, err)
	}
}

// A server started by StartTLS serves HTTPS with a certificate that its
// RootCAs trusts and nothing else does.
func TestStartTLS(t *testing.T) {
	for _, name := range s3test.Names() {
		t.Run(name, func(t *testing.T) {
			s := s3test.StartTLSTB(t, name)
			if !strings.HasPrefix(s.Endpoint, "https://127.0.0.1:") || s.RootCAs == nil {
				t.Fatalf("Endpoint = %q, RootCAs = %v; want https://127.0.0.1:PORT and a pool", s.Endpoint, s.RootCAs)
			}
			trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.RootCAs}}}
			defer trusting.CloseIdleConnections()
			resp, err := trusting.Get(s.Endpoint + "/")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("unsigned GET / over TLS = %s, want 403", resp.Status)
			}
			plain := &http.Client{Transport: &http.Transport{}}
			defer plain.CloseIdleConnections()
			_, err = plain.Get(s.Endpoint + "/")
			var cv *tls.CertificateVerificationError
			if !errors.As(err, &cv) {
				t.Errorf("GET without the CA: %v, want a certificate verification error", err)
			}
		})
	}
}

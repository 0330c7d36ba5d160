package s3kit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// onlyReader hides every method of its reader but Read, as a pipe or a
// network stream would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestPayloadSigning covers review finding S1: uploads send the signed
// SHA-256 of their bytes over plain http, and UNSIGNED-PAYLOAD only over
// https (or when Config.UnsignedPayload says the network is trusted).
func TestPayloadSigning(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()

		small := bytes.Repeat([]byte("small object "), 1000)
		// Two parts at the smallest part size, the second of one byte.
		large := make([]byte, s3kit.MinPartSize+1)
		for i := range large {
			large[i] = byte(i*31 + i/4093)
		}

		cases := []struct {
			name     string
			https    bool
			cfg      s3kit.Config
			unsigned bool
		}{
			{"http", false, s3kit.Config{}, false},
			{"http UnsignedPayload", false, s3kit.Config{UnsignedPayload: true}, true},
			{"http ChecksumNone", false, s3kit.Config{Checksum: s3kit.ChecksumNone}, false},
			{"https", true, s3kit.Config{}, true},
			{"https ChecksumCRC32C", true, s3kit.Config{Checksum: s3kit.ChecksumCRC32C}, true},
			{"https ChecksumNone", true, s3kit.Config{Checksum: s3kit.ChecksumNone}, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p := faultproxy.New(e.srv.Endpoint)
				t.Cleanup(p.Close)
				cfg := tc.cfg
				cfg.Endpoint = p.URL
				cfg.PartSize = s3kit.MinPartSize
				if tc.https {
					cfg.Endpoint = newFront(t, p.URL, true, nil).URL
					cfg.InsecureSkipVerify = true
				}
				b := newClient(t, e.srv, cfg).Bucket(e.bucket.Name())

				uploads := []struct {
					key  string
					data []byte
					put  func(key string, data []byte) error
				}{
					{"bytes", small, func(k string, d []byte) error { return errOf(b.PutBytes(ctx, k, d, nil)) }},
					{"stream", small, func(k string, d []byte) error {
						_, err := b.Put(ctx, k, onlyReader{bytes.NewReader(d)}, nil)
						return err
					}},
					{"multipart", large, func(k string, d []byte) error { return errOf(b.PutBytes(ctx, k, d, nil)) }},
					{"multipart stream", large, func(k string, d []byte) error {
						_, err := b.Put(ctx, k, onlyReader{bytes.NewReader(d)}, nil)
						return err
					}},
					{"writer", large, func(k string, d []byte) error {
						w, err := b.NewWriter(ctx, k, nil)
						if err != nil {
							return err
						}
						if _, err := w.Write(d); err != nil {
							w.Abort()
							return err
						}
						return w.Close()
					}},
				}
				for _, u := range uploads {
					p.Reset()
					if err := u.put(u.key, u.data); err != nil {
						t.Fatalf("%s: %v", u.key, err)
					}
					sent := 0
					for _, r := range p.Requests() {
						if r.Method != http.MethodPut || r.Header.Get("X-Amz-Copy-Source") != "" {
							continue
						}
						sent++
						got := r.Header.Get("X-Amz-Content-Sha256")
						switch {
						case tc.unsigned && got != "UNSIGNED-PAYLOAD":
							t.Errorf("%s: %s?%s sent X-Amz-Content-Sha256 %q, want UNSIGNED-PAYLOAD", u.key, r.Path, r.RawQuery, got)
						case !tc.unsigned && !sha256Hex.MatchString(got):
							t.Errorf("%s: %s?%s sent X-Amz-Content-Sha256 %q, want the SHA-256 of the body", u.key, r.Path, r.RawQuery, got)
						case !tc.unsigned && len(u.data) == len(small) && got != sha256Of(u.data):
							t.Errorf("%s: X-Amz-Content-Sha256 %s is not the SHA-256 of the object", u.key, got)
						}
					}
					if want := 1 + len(u.data)/s3kit.MinPartSize; sent != want {
						t.Errorf("%s: %d PUTs with a body, want %d", u.key, sent, want)
					}
					if got, _, err := e.bucket.GetBytes(ctx, u.key); err != nil || !bytes.Equal(got, u.data) {
						t.Errorf("%s: read back %d bytes, %v", u.key, len(got), err)
					}
				}
			})
		}
	})
}

func sha256Of(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// BenchmarkPayloadSigning measures what signing the payload costs: a
// 64 MiB upload over plain http with the SHA-256 of every part, and with
// UNSIGNED-PAYLOAD.
//
//	S3KIT_TEST_SERVERS=versitygw go test -run '^$' -bench PayloadSigning -benchtime 5x .
func BenchmarkPayloadSigning(b *testing.B) {
	if len(servers) == 0 {
		b.Skip("no servers selected")
	}
	data := make([]byte, 64<<20)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	for _, unsigned := range []bool{false, true} {
		name := "signed"
		if unsigned {
			name = "unsigned"
		}
		b.Run(name, func(b *testing.B) {
			c := newClient(b, servers[0], s3kit.Config{UnsignedPayload: unsigned})
			bk := newBucket(b, c)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bk.PutBytes(b.Context(), "big", data, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

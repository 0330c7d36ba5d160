package s3kit_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// checksumPrefixes are the headers a store that knows no checksums
// refuses: the values and algorithm of uploads, the SDK's algorithm, and
// x-amz-checksum-mode on reads (Backblaze B2 refuses all of them).
var checksumPrefixes = []string{"x-amz-checksum-", "x-amz-sdk-checksum-"}

// refusals are the answers of real stores to a checksum header they do
// not know.
var refusals = []struct {
	name   string
	status int
	code   string
	format string
}{
	// Backblaze B2.
	{"400 Unsupported header", 400, "InvalidArgument", "Unsupported header '%s' received for this API call."},
	// Cloudflare R2 before it knew CRC32.
	{"501 NotImplemented", 501, "NotImplemented", "Header '%s' with value 'x' not implemented"},
}

// hasChecksumHeader reports whether a request carried a checksum header.
func hasChecksumHeader(r faultproxy.Request) bool {
	for name := range r.Header {
		for _, p := range checksumPrefixes {
			if strings.HasPrefix(strings.ToLower(name), p) {
				return true
			}
		}
	}
	return false
}

// withChecksums counts the requests of the log that carried a checksum
// header.
func withChecksums(reqs []faultproxy.Request) int {
	n := 0
	for _, r := range reqs {
		if hasChecksumHeader(r) {
			n++
		}
	}
	return n
}

// md5Of is the base64 MD5 of data, as in Content-MD5.
func md5Of(data []byte) string {
	sum := md5.Sum(data)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// checkHonest fails unless every full-object CRC64NVME info reports is
// that of data: a checksum reported must be the object's, whoever
// computed it.
func checkHonest(t *testing.T, info s3kit.ObjectInfo, data []byte) {
	t.Helper()
	if v, ok := info.Checksums["CRC64NVME"]; ok && info.ChecksumType != "COMPOSITE" && v != crc64Of(data) {
		t.Errorf("ObjectInfo reports CRC64NVME %s, the data's is %s", v, crc64Of(data))
	}
}

// TestChecksumFallback: an upload to a store that refuses checksum headers
// (as Backblaze B2 and Cloudflare R2 answer) is sent once more without
// them and succeeds, on every upload path; the Client then remembers, and
// its next uploads and reads carry no checksum header from the first
// request on. The stores behind the proxy are real.
func TestChecksumFallback(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		for _, ref := range refusals {
			t.Run(ref.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
				defer cancel()
				// fresh returns a Client that has learned nothing yet,
				// behind a proxy refusing checksum headers.
				fresh := func(t *testing.T) (*s3kit.Bucket, *faultproxy.Proxy, *faultproxy.Rule) {
					c, p := proxied(t, e, s3kit.Config{PartSize: s3kit.MinPartSize})
					r := p.Add(faultproxy.RefuseHeaders(ref.status, ref.code, ref.format, checksumPrefixes...))
					return c.Bucket(e.bucket.Name()), p, r
				}
				small := bytes.Repeat([]byte("small "), 1000)
				large := bytes.Repeat([]byte("0123456789abcdef"), (2*s3kit.MinPartSize+12345)/16)
				// stored checks what the store holds, read past the proxy.
				stored := func(t *testing.T, key string, want []byte) {
					t.Helper()
					got, _, err := e.bucket.GetBytes(ctx, key)
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("%s holds %d bytes (%v), want the %d written", key, len(got), err, len(want))
					}
				}
				// learned checks that after the first refusal no request
				// carried a checksum header, and every upload of bytes
				// carried their Content-MD5 instead.
				learned := func(t *testing.T, p *faultproxy.Proxy, r *faultproxy.Rule) {
					t.Helper()
					if r.Fired() != 1 {
						t.Errorf("refused %d times, want once", r.Fired())
					}
					reqs := p.Requests()
					if n := withChecksums(reqs); n != 1 {
						t.Errorf("%d requests carried checksum headers, want only the refused one", n)
					}
					uploads := 0
					for _, req := range reqs {
						if req.Fault != "" || req.Method != http.MethodPut || req.Header.Get("X-Amz-Copy-Source") != "" {
							continue
						}
						uploads++
						if req.Header.Get("Content-Md5") == "" {
							t.Errorf("PUT %s?%s carried neither a checksum nor Content-MD5", req.Path, req.RawQuery)
						}
					}
					if uploads == 0 {
						t.Error("no upload of bytes seen")
					}
				}

				t.Run("Put, then Put and Get again", func(t *testing.T) {
					b, p, r := fresh(t)
					info, err := b.PutBytes(ctx, "put", small, nil)
					if err != nil {
						t.Fatal(err)
					}
					checkHonest(t, info, small)
					if reqs := p.Requests(); len(reqs) != 2 || r.Fired() != 1 || !hasChecksumHeader(reqs[0]) || hasChecksumHeader(reqs[1]) {
						t.Fatalf("%d requests, %d refused; want the refused one with checksum headers, then one without", len(reqs), r.Fired())
					} else if got := reqs[1].Header.Get("Content-Md5"); got != md5Of(small) {
						t.Fatalf("the retry's Content-MD5 is %q, want %q", got, md5Of(small))
					}
					stored(t, "put", small)
					// The second upload of the Client goes without at once.
					p.Reset()
					if _, err := b.PutBytes(ctx, "put2", small, nil); err != nil {
						t.Fatal(err)
					}
					if reqs := p.Requests(); len(reqs) != 1 || hasChecksumHeader(reqs[0]) || reqs[0].Header.Get("Content-Md5") != md5Of(small) {
						t.Fatalf("second upload: %d requests, %d with checksum headers; want 1 and 0, with Content-MD5", len(reqs), withChecksums(reqs))
					}
					got, info, err := b.GetBytes(ctx, "put2")
					if err != nil || !bytes.Equal(got, small) {
						t.Fatalf("GetBytes: %d bytes, %v", len(got), err)
					}
					checkHonest(t, info, small)
					if n := withChecksums(p.Requests()); n != 0 {
						t.Errorf("%d requests carried checksum headers after the Client learned", n)
					}
				})

				t.Run("Writer single part", func(t *testing.T) {
					b, p, r := fresh(t)
					w, err := b.NewWriter(ctx, "w1", nil)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := w.Write(small); err != nil {
						t.Fatal(err)
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					checkHonest(t, w.Info(), small)
					learned(t, p, r)
					stored(t, "w1", small)
				})

				t.Run("Writer multipart, Write", func(t *testing.T) {
					b, p, r := fresh(t)
					w, err := b.NewWriter(ctx, "w2", nil)
					if err != nil {
						t.Fatal(err)
					}
					// Write in pieces that straddle the part boundaries.
					for rest := large; len(rest) > 0; {
						n := min(len(rest), 3<<20)
						if _, err := w.Write(rest[:n]); err != nil {
							t.Fatal(err)
						}
						rest = rest[n:]
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					checkHonest(t, w.Info(), large)
					learned(t, p, r)
					stored(t, "w2", large)
				})

				t.Run("Writer multipart, ReadFrom a ReaderAt", func(t *testing.T) {
					b, p, r := fresh(t)
					w, err := b.NewWriter(ctx, "w3", nil)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := w.ReadFrom(bytes.NewReader(large)); err != nil {
						t.Fatal(err)
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					checkHonest(t, w.Info(), large)
					learned(t, p, r)
					stored(t, "w3", large)
				})

				t.Run("Writer multipart, ReadFrom a stream", func(t *testing.T) {
					b, p, r := fresh(t)
					w, err := b.NewWriter(ctx, "w4", nil)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := w.ReadFrom(io.MultiReader(bytes.NewReader(large))); err != nil {
						t.Fatal(err)
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					learned(t, p, r)
					stored(t, "w4", large)
				})

				t.Run("Upload a file", func(t *testing.T) {
					b, p, r := fresh(t)
					path := filepath.Join(t.TempDir(), "f")
					if err := os.WriteFile(path, large, 0o600); err != nil {
						t.Fatal(err)
					}
					info, err := b.Upload(ctx, path, "up", nil)
					if err != nil {
						t.Fatal(err)
					}
					checkHonest(t, info, large)
					learned(t, p, r)
					stored(t, "up", large)
					// And a second, single-part one, at once without.
					p.Reset()
					if err := os.WriteFile(path, small, 0o600); err != nil {
						t.Fatal(err)
					}
					if _, err := b.Upload(ctx, path, "up2", nil); err != nil {
						t.Fatal(err)
					}
					if reqs := p.Requests(); withChecksums(reqs) != 0 {
						t.Errorf("second Upload: %d of %d requests carried checksum headers", withChecksums(reqs), len(reqs))
					}
					stored(t, "up2", small)
				})

				t.Run("Get, then Put", func(t *testing.T) {
					if _, err := e.bucket.PutBytes(ctx, "read", small, nil); err != nil {
						t.Fatal(err)
					}
					b, p, r := fresh(t)
					got, info, err := b.GetBytes(ctx, "read")
					if err != nil || !bytes.Equal(got, small) {
						t.Fatalf("GetBytes: %d bytes, %v", len(got), err)
					}
					checkHonest(t, info, small)
					if reqs := p.Requests(); len(reqs) != 2 || r.Fired() != 1 || hasChecksumHeader(reqs[1]) {
						t.Fatalf("%d requests, %d refused; want the refused GET, then one without x-amz-checksum-mode", len(reqs), r.Fired())
					}
					p.Reset()
					if _, err := b.PutBytes(ctx, "read2", small, nil); err != nil {
						t.Fatal(err)
					}
					if reqs := p.Requests(); len(reqs) != 1 || hasChecksumHeader(reqs[0]) || reqs[0].Header.Get("Content-Md5") != md5Of(small) {
						t.Fatalf("upload after the refused read: %d requests, %d with checksum headers; want 1 and 0, with Content-MD5", len(reqs), withChecksums(reqs))
					}
				})

				t.Run("Head after Put", func(t *testing.T) {
					b, p, r := fresh(t)
					// A HEAD's refusal cannot say why (see the README):
					// the Client learns from its first upload.
					if _, err := b.PutBytes(ctx, "head", small, nil); err != nil {
						t.Fatal(err)
					}
					p.Reset()
					info, err := b.Head(ctx, "head", nil)
					if err != nil || info.Size != int64(len(small)) {
						t.Fatalf("Head: %+v, %v", info, err)
					}
					checkHonest(t, info, small)
					if reqs := p.Requests(); len(reqs) != 1 || hasChecksumHeader(reqs[0]) || r.Fired() != 1 {
						t.Fatalf("%d requests, %d with checksum headers; want one HEAD without x-amz-checksum-mode", len(reqs), withChecksums(reqs))
					}
				})

				t.Run("DeleteMany twice", func(t *testing.T) {
					keys := []string{"del1", "del2", "del3"}
					for _, k := range keys {
						if _, err := e.bucket.PutBytes(ctx, k, small, nil); err != nil {
							t.Fatal(err)
						}
					}
					b, p, r := fresh(t)
					if res, err := b.DeleteMany(ctx, keys[:2]); err != nil || len(res.Failed) != 0 {
						t.Fatalf("DeleteMany: %+v, %v", res, err)
					}
					reqs := p.Requests()
					if len(reqs) != 2 || r.Fired() != 1 || hasChecksumHeader(reqs[1]) || reqs[1].Header.Get("Content-Md5") == "" {
						t.Fatalf("%d requests, %d refused; want the refused DeleteObjects, then one with Content-MD5 instead", len(reqs), r.Fired())
					}
					p.Reset()
					if res, err := b.DeleteMany(ctx, keys[2:]); err != nil || len(res.Failed) != 0 {
						t.Fatalf("second DeleteMany: %+v, %v", res, err)
					}
					if reqs := p.Requests(); len(reqs) != 1 || hasChecksumHeader(reqs[0]) || reqs[0].Header.Get("Content-Md5") == "" {
						t.Fatalf("second DeleteMany: %d requests, %d with checksum headers; want 1 and 0, with Content-MD5", len(reqs), withChecksums(reqs))
					}
					for _, k := range keys {
						if ok, err := e.bucket.Exists(ctx, k); err != nil || ok {
							t.Errorf("%s: exists %v, %v after the deletes", k, ok, err)
						}
					}
				})

				t.Run("Copy", func(t *testing.T) {
					if _, err := e.bucket.PutBytes(ctx, "src", large, nil); err != nil {
						t.Fatal(err)
					}
					// A copy carries no checksum header: taken at once.
					b, p, r := fresh(t)
					if _, err := b.Copy(ctx, "src", "copied", nil); err != nil {
						t.Fatal(err)
					}
					if r.Fired() != 0 {
						t.Errorf("a copy was refused for checksum headers %d times", r.Fired())
					}
					stored(t, "copied", large)
					// A multipart copy, from a Client that has learned.
					if _, err := b.PutBytes(ctx, "learn", small, nil); err != nil {
						t.Fatal(err)
					}
					p.Reset()
					if _, err := b.Copy(ctx, "src", "copied2", &s3kit.CopyOptions{MultipartThreshold: s3kit.MinPartSize, PartSize: s3kit.MinPartSize}); err != nil {
						t.Fatal(err)
					}
					if n := withChecksums(p.Requests()); n != 0 {
						t.Errorf("%d requests of the multipart copy carried checksum headers", n)
					}
					stored(t, "copied2", large)
				})
			})
		}
	})
}

// TestChecksumFallbackUploadInFlight: a multipart upload the store
// created with a checksum algorithm keeps its checksums to the end, even
// if meanwhile the Client learns (from another upload refused) to send
// none: stores that know checksums refuse a completion without the
// parts' checksums.
func TestChecksumFallbackUploadInFlight(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		c, p := proxied(t, e, s3kit.Config{PartSize: s3kit.MinPartSize})
		b := c.Bucket(e.bucket.Name())
		part := bytes.Repeat([]byte("part "), s3kit.MinPartSize/5)
		w, err := b.NewWriter(ctx, "inflight", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(part); err != nil {
			t.Fatal(err)
		}
		// The first part is under way; now single PUTs are refused.
		r := p.Add(faultproxy.Rule{
			Match: faultproxy.And(faultproxy.Not(faultproxy.HasQuery("uploadId")), faultproxy.HasHeader(checksumPrefixes...)),
			Fault: faultproxy.StatusMessage(400, "InvalidArgument", "Unsupported header 'x-amz-checksum-crc64nvme' received for this API call."),
		})
		if _, err := b.PutBytes(ctx, "other", []byte("learn"), nil); err != nil {
			t.Fatal(err)
		}
		if r.Fired() != 1 {
			t.Fatalf("refused %d times, want 1", r.Fired())
		}
		if _, err := w.Write(part[:1000]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		want := append(bytes.Clone(part), part[:1000]...)
		checkHonest(t, w.Info(), want)
		if w.Info().Checksums["CRC64NVME"] != crc64Of(want) {
			t.Errorf("Info().Checksums %v, want the CRC64NVME sent and verified", w.Info().Checksums)
		}
		got, _, err := e.bucket.GetBytes(ctx, "inflight")
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("stored %d bytes, %v", len(got), err)
		}
		for _, req := range p.Requests() {
			if strings.Contains(req.RawQuery, "uploadId") && !hasChecksumHeader(req) {
				t.Errorf("%s ?%s carried no checksum", req.Method, req.RawQuery)
			}
		}
	})
}

// TestChecksumFallbackNotForOtherErrors: only a refusal of checksum
// headers is retried without them, and only one the store then took
// teaches the Client anything; a Checksum the caller chose is never
// dropped.
func TestChecksumFallbackNotForOtherErrors(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		data := []byte("not retried")
		for _, tc := range []struct {
			name  string
			cfg   s3kit.Config
			fault faultproxy.Fault
			sent  int // requests the failed Put sends
		}{
			{"bad key", s3kit.Config{}, faultproxy.StatusMessage(400, "InvalidArgument", "Invalid key name."), 1},
			{"checksum mismatch", s3kit.Config{}, faultproxy.StatusMessage(400, "BadDigest", "The CRC64NVME you specified did not match the calculated checksum."), 1},
			{"invalid checksum value", s3kit.Config{}, faultproxy.StatusMessage(400, "InvalidRequest", "Value for x-amz-checksum-crc64nvme header is invalid."), 1},
			// Refused with and without the header: tried twice, nothing learned.
			{"not implemented either way", s3kit.Config{}, faultproxy.StatusMessage(501, "NotImplemented", "A header you provided implies functionality that is not implemented."), 2},
			{"Checksum chosen by the caller", s3kit.Config{Checksum: s3kit.ChecksumCRC64NVME}, faultproxy.StatusMessage(501, "NotImplemented", "Header 'x-amz-checksum-crc64nvme' with value 'x' not implemented"), 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, p := proxied(t, e, tc.cfg)
				b := c.Bucket(e.bucket.Name())
				r := p.Add(faultproxy.Rule{Method: http.MethodPut, Fault: tc.fault})
				if _, err := b.PutBytes(ctx, "k", data, nil); err == nil {
					t.Fatal("Put succeeded through a refusal")
				}
				if r.Fired() != tc.sent {
					t.Fatalf("%d requests sent, want %d", r.Fired(), tc.sent)
				}
				// Nothing learned: the next upload still carries its
				// checksum.
				p.Reset()
				if _, err := b.PutBytes(ctx, "k", data, nil); err != nil {
					t.Fatal(err)
				}
				if reqs := p.Requests(); len(reqs) != 1 || !hasChecksumHeader(reqs[0]) {
					t.Fatalf("next upload: %d requests, %d with checksum headers; want 1 and 1", len(reqs), withChecksums(reqs))
				}
			})
		}
	})
}

// TestConfigStoreProfile: a profile given in Config.StoreProfile replaces
// detection (no probe), its Checksum chooses what uploads carry, none at
// all for ChecksumNone (reads included), and an impossible profile is
// refused by New with ErrInvalid.
func TestConfigStoreProfile(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		data := bytes.Repeat([]byte("profile "), 100)

		t.Run("ChecksumNone", func(t *testing.T) {
			prof, _ := s3kit.KnownStoreProfile(s3kit.StoreGeneric)
			prof.Name, prof.Checksum = "no-checksums", s3kit.ChecksumNone
			c, p := proxied(t, e, s3kit.Config{StoreProfile: &prof})
			r := p.Add(faultproxy.RefuseHeaders(400, "InvalidArgument", "Unsupported header '%s' received for this API call.", checksumPrefixes...))
			got, err := c.StoreProfile(ctx)
			if err != nil || got != prof || p.Count() != 0 {
				t.Fatalf("StoreProfile: %+v, %v after %d requests; want the given one and no probe", got, err, p.Count())
			}
			prof.Name = "changed" // the Client keeps its copy
			if got, _ := c.StoreProfile(ctx); got.Name != "no-checksums" {
				t.Fatalf("the Client's profile follows the caller's value: %q", got.Name)
			}
			b := c.Bucket(e.bucket.Name())
			info, err := b.PutBytes(ctx, "none", data, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkHonest(t, info, data)
			if back, _, err := b.GetBytes(ctx, "none"); err != nil || !bytes.Equal(back, data) {
				t.Fatalf("GetBytes: %d bytes, %v", len(back), err)
			}
			if r.Fired() != 0 {
				t.Fatalf("%d requests refused for checksum headers, want 0", r.Fired())
			}
			if reqs := p.Requests(); len(reqs) != 2 || reqs[0].Header.Get("Content-Md5") != md5Of(data) {
				t.Fatalf("%d requests; want a PUT with Content-MD5, then a GET", len(reqs))
			}
		})

		t.Run("CRC32C", func(t *testing.T) {
			prof, _ := s3kit.KnownStoreProfile(e.name)
			prof.Checksum = s3kit.ChecksumCRC32C
			c, p := proxied(t, e, s3kit.Config{StoreProfile: &prof})
			if _, err := c.Bucket(e.bucket.Name()).PutBytes(ctx, "crc32c", data, nil); err != nil {
				t.Fatal(err)
			}
			if reqs := p.Requests(); len(reqs) != 1 || reqs[0].Header.Get("X-Amz-Checksum-Crc32c") == "" {
				t.Fatalf("%d requests; want one PUT with x-amz-checksum-crc32c", len(reqs))
			}
			// Config.Checksum still wins over the profile.
			c, p = proxied(t, e, s3kit.Config{StoreProfile: &prof, Checksum: s3kit.ChecksumCRC64NVME})
			if _, err := c.Bucket(e.bucket.Name()).PutBytes(ctx, "crc64", data, nil); err != nil {
				t.Fatal(err)
			}
			if reqs := p.Requests(); len(reqs) != 1 || reqs[0].Header.Get("X-Amz-Checksum-Crc64nvme") == "" {
				t.Fatalf("%d requests; want one PUT with x-amz-checksum-crc64nvme", len(reqs))
			}
		})

		t.Run("invalid", func(t *testing.T) {
			good, _ := s3kit.KnownStoreProfile(s3kit.StoreGeneric)
			for name, change := range map[string]func(*s3kit.StoreProfile){
				"no name":           func(p *s3kit.StoreProfile) { p.Name = "" },
				"unknown checksum":  func(p *s3kit.StoreProfile) { p.Checksum = "MD5" },
				"no checksum given": func(p *s3kit.StoreProfile) { p.Checksum = "" },
				"key length 0":      func(p *s3kit.StoreProfile) { p.MaxKeyLength = 0 },
				"key length 1025":   func(p *s3kit.StoreProfile) { p.MaxKeyLength = s3kit.MaxKeyLength + 1 },
				"segment negative":  func(p *s3kit.StoreProfile) { p.MaxKeySegment = -1 },
			} {
				prof := good
				change(&prof)
				p := faultproxy.New(e.srv.Endpoint)
				_, err := s3kit.New(ctx, s3kit.Config{Endpoint: p.URL, StoreProfile: &prof, AccessKeyID: "a", SecretAccessKey: "b"})
				if !errors.Is(err, s3kit.ErrInvalid) || !strings.Contains(err.Error(), "StoreProfile") {
					t.Errorf("%s: New returned %v, want ErrInvalid naming StoreProfile", name, err)
				}
				if p.Count() != 0 {
					t.Errorf("%s: %d requests sent", name, p.Count())
				}
				p.Close()
			}
		})
	})
}

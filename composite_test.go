package s3kit_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// TestCompositeChecksum: an object the aws CLI uploads in parts with
// --checksum-algorithm CRC32 has a composite checksum (the CRC32 of its
// parts' CRC32s, "BASE64-N"); s3kit's whole-object reads verify it part by
// part, with ranges that cross the parts' bounds, and say so in
// ObjectInfo.Verified. Sizes are at the aws CLI's part size (5 MiB here):
// one byte below (a single PUT, a full-object CRC32), at it (one part),
// one above, twice, and twice and one; and parts of uneven sizes made with
// the SDK. A flipped byte is ErrChecksum and leaves no file; a store that
// does not tell where the parts are leaves the bytes unverified, and
// Verified says so.
func TestCompositeChecksum(t *testing.T) {
	const part = 5 << 20 // the test's aws CLI configuration (newCLI)
	sizes := []struct {
		name      string
		size      int
		composite bool
	}{
		{"below", part - 1, false},
		{"at", part, true},
		{"above", part + 1, true},
		{"twice", 2 * part, true},
		{"twice-plus", 2*part + 1, true},
	}
	uneven := []int{part + 3, part + 1<<20 - 1, 17}
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		b := e.bucket.Name()
		src := t.TempDir()
		content := map[string][]byte{}
		for _, s := range sizes {
			content["aws/"+s.name] = randomBytes(s.size)
			if err := os.WriteFile(filepath.Join(src, s.name), content["aws/"+s.name], 0o600); err != nil {
				t.Fatal(err)
			}
		}
		newCLI(t, "aws", e.srv).Run(t, "s3", "cp", "--recursive", "--checksum-algorithm", "CRC32", src, "s3://"+b+"/aws/")
		content["sdk/uneven"] = uploadParts(ctx, t, sdkClient(e), b, "sdk/uneven", uneven)
		composite := map[string]bool{"sdk/uneven": true}
		for _, s := range sizes {
			composite["aws/"+s.name] = s.composite
		}

		c, p := proxied(t, e, s3kit.Config{})
		bk := c.Bucket(b)
		dir := t.TempDir()
		for key, data := range content {
			t.Run(strings.ReplaceAll(key, "/", "-"), func(t *testing.T) {
				h, err := bk.Head(ctx, key, nil)
				if err != nil {
					t.Fatal(err)
				}
				if wantType := map[bool]string{true: "COMPOSITE", false: "FULL_OBJECT"}[composite[key]]; h.ChecksumType != wantType && (h.ChecksumType != "" || strings.Contains(h.Checksums["CRC32"], "-") != composite[key]) {
					t.Fatalf("the store reports checksum %v of type %q, want %s", h.Checksums, h.ChecksumType, wantType)
				}
				check := func(how string, info s3kit.ObjectInfo, got []byte) {
					t.Helper()
					if !bytes.Equal(got, data) {
						t.Errorf("%s: %d bytes differ from the %d uploaded", how, len(got), len(data))
					}
					if info.Verified != "CRC32" {
						t.Errorf("%s: Verified %q, want CRC32 (checksums %v, type %q)", how, info.Verified, info.Checksums, info.ChecksumType)
					}
				}
				dst := filepath.Join(dir, strings.ReplaceAll(key, "/", "-"))
				// Ranges of 3 MiB cross the parts' bounds.
				p.Reset()
				info, err := bk.Download(ctx, key, dst, &s3kit.TransferOptions{PartSize: 3 << 20, Concurrency: 3})
				if err != nil {
					t.Fatal(err)
				}
				got, _ := os.ReadFile(dst)
				check("Download", info, got)
				if len(data) <= part {
					// One range and at most one part: one GET, nothing more.
					p.Reset()
					info, err := bk.Download(ctx, key, dst, nil)
					if err != nil {
						t.Fatal(err)
					}
					got, _ := os.ReadFile(dst)
					check("Download in one range", info, got)
					if reqs := p.Requests(); len(reqs) != 1 {
						t.Errorf("Download in one range sent %d requests, want the GET only", len(reqs))
					}
				}
				os.Remove(dst)

				f, err := os.Create(dst)
				if err != nil {
					t.Fatal(err)
				}
				info, err = bk.DownloadTo(ctx, key, f, nil)
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				got, _ = os.ReadFile(dst)
				check("DownloadTo", info, got)
				os.Remove(dst)

				for _, how := range []string{"Reader.WriteTo", "Reader.Read"} {
					r, err := bk.NewReader(ctx, key, &s3kit.ReaderOptions{PartSize: 3 << 20})
					if err != nil {
						t.Fatal(err)
					}
					var buf bytes.Buffer
					if how == "Reader.WriteTo" {
						_, err = io.Copy(&buf, r)
					} else {
						_, err = io.CopyBuffer(&buf, struct{ io.Reader }{r}, make([]byte, 100_000))
					}
					r.Close()
					if err != nil {
						t.Fatalf("%s: %v", how, err)
					}
					check(how, r.Info(), buf.Bytes())
				}

				got, info, err = bk.GetBytes(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				check("GetBytes", info, got)
			})
		}

		t.Run("DownloadAll", func(t *testing.T) {
			verified := map[string]string{}
			var mu sync.Mutex
			res, err := bk.DownloadAll(ctx, filepath.Join(dir, "all"), &s3kit.TransferOptions{PartSize: 3 << 20,
				OnFile: func(key string, info s3kit.ObjectInfo, err error) {
					mu.Lock()
					defer mu.Unlock()
					verified[key] = info.Verified
				}})
			if err != nil || res.Downloaded != len(content) {
				t.Fatalf("DownloadAll: %d files, %v; want %d", res.Downloaded, err, len(content))
			}
			for key := range content {
				if verified[key] != "CRC32" {
					t.Errorf("DownloadAll of %s: Verified %q, want CRC32", key, verified[key])
				}
			}
			os.RemoveAll(filepath.Join(dir, "all"))
		})

		for _, key := range []string{"aws/twice-plus", "sdk/uneven"} {
			t.Run("flipped byte in "+strings.ReplaceAll(key, "/", "-"), func(t *testing.T) {
				dst := filepath.Join(dir, "flipped")
				for _, ranged := range []bool{false, true} {
					// In one GET, a byte of the second part; else a byte
					// of one of the 3 MiB ranges.
					opts, flip := &s3kit.TransferOptions{PartSize: 16 << 20}, faultproxy.FlipByte(part+100)
					if ranged {
						opts.PartSize, flip = 3<<20, faultproxy.FlipByte(100)
					}
					p.Reset()
					p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: flip,
						Match: func(r *http.Request) bool {
							return (r.Header.Get("Range") != "") == ranged && !r.URL.Query().Has("attributes")
						}})
					if _, err := bk.Download(ctx, key, dst, opts); !errors.Is(err, s3kit.ErrChecksum) {
						t.Fatalf("Download with a flipped byte (ranged %v): %v, want ErrChecksum", ranged, err)
					}
					if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
						t.Fatalf("a failed Download left %s: %v", dst, err)
					}
					if left, _ := os.ReadDir(dir); len(left) != 0 {
						t.Fatalf("a failed Download left %v", left)
					}
				}
				p.Reset()
				p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.FlipByte(100),
					Match: func(r *http.Request) bool { return r.Header.Get("Range") != "" }})
				r, err := bk.NewReader(ctx, key, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if _, err := io.Copy(io.Discard, r); !errors.Is(err, s3kit.ErrChecksum) {
					t.Fatalf("Reader with a flipped byte: %v, want ErrChecksum", err)
				}
				p.Reset()
				p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.FlipByte(part - 1)})
				if _, _, err := bk.GetBytes(ctx, key); !errors.Is(err, s3kit.ErrChecksum) {
					t.Fatalf("GetBytes with a flipped byte: %v, want ErrChecksum", err)
				}
			})
		}

		t.Run("parts by HEAD", func(t *testing.T) {
			// Where GetObjectAttributes is refused (a missing
			// s3:GetObjectAttributes permission), a HEAD per part number
			// tells the parts.
			p.Reset()
			attrs := p.Add(faultproxy.Rule{Match: faultproxy.HasQuery("attributes"),
				Fault: faultproxy.Status(http.StatusForbidden, "AccessDenied")})
			for _, key := range []string{"aws/twice-plus", "sdk/uneven"} {
				got, info, err := bk.GetBytes(ctx, key)
				if err != nil || !bytes.Equal(got, content[key]) || info.Verified != "CRC32" {
					t.Errorf("GetBytes of %s without GetObjectAttributes: %d bytes, Verified %q, %v; want the bytes, verified CRC32",
						key, len(got), info.Verified, err)
				}
			}
			heads := 0
			for _, r := range p.Requests() {
				if r.Method == http.MethodHead && strings.Contains(r.RawQuery, "partNumber=") {
					heads++
				}
			}
			if attrs.Fired() != 2 || heads != 3+3 {
				t.Errorf("%d GetObjectAttributes and %d HEADs of a part, want 2 and 6", attrs.Fired(), heads)
			}
		})

		t.Run("parts not told", func(t *testing.T) {
			// A store that answers neither GetObjectAttributes nor a HEAD
			// of a part: the bytes arrive, and nothing claims they were
			// verified.
			p.Reset()
			p.Add(faultproxy.Rule{Match: func(r *http.Request) bool {
				return r.URL.Query().Has("attributes") || r.URL.Query().Has("partNumber")
			}, Fault: faultproxy.Status(http.StatusNotImplemented, "NotImplemented")})
			dst := filepath.Join(dir, "untold")
			info, err := bk.Download(ctx, "aws/twice-plus", dst, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(dst)
			if !bytes.Equal(got, content["aws/twice-plus"]) || info.Verified != "" || info.ChecksumType != "COMPOSITE" {
				t.Errorf("Download where the parts are not told: %d bytes, Verified %q, type %q; want the bytes, unverified, COMPOSITE",
					len(got), info.Verified, info.ChecksumType)
			}
			os.Remove(dst)
		})
	})
}

// uploadParts uploads a multipart object of parts of the given sizes, each
// with its CRC32, so that the store keeps a composite CRC32, and returns
// its content.
func uploadParts(ctx context.Context, t *testing.T, cl *s3.Client, bucket, key string, sizes []int) []byte {
	t.Helper()
	mpu, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32, ChecksumType: types.ChecksumTypeComposite})
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	var done []types.CompletedPart
	for i, n := range sizes {
		data := randomBytes(n + i)[i:] // not the same bytes as another object's
		all = append(all, data...)
		out, err := cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mpu.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	if _, err := cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: mpu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatal(err)
	}
	return all
}

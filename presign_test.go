package s3kit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/crc64nvme"
	"github.com/s3kit/s3kit"
)

func TestPresign(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		if _, err := b.PutString(ctx, "dir/hello world+1.txt", "hi there", nil); err != nil {
			t.Fatal(err)
		}

		get, _, err := b.PresignGet(ctx, "dir/hello world+1.txt", time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(get)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "hi there" {
			t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
		}

		put, hdr, err := b.PresignPut(ctx, "up/load.bin", time.Minute, &s3kit.PresignOptions{ContentType: "image/png"})
		if err != nil {
			t.Fatal(err)
		}
		if len(hdr) != 1 || hdr.Get("Content-Type") != "image/png" {
			t.Errorf("PresignPut headers %v, want only Content-Type: image/png", hdr)
		}
		send := func(contentType string) int {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPut, put, strings.NewReader("png bytes"))
			req.Header.Set("Content-Type", contentType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := send("text/plain"); code != http.StatusForbidden {
			t.Errorf("presigned PUT with another content type: HTTP %d, want 403", code)
		}
		if code := send("image/png"); code != 200 {
			t.Fatalf("presigned PUT: HTTP %d", code)
		}
		info, err := b.Head(ctx, "up/load.bin", nil)
		if err != nil || info.ContentType != "image/png" || info.Size != 9 {
			t.Fatalf("after presigned PUT: %+v, %v", info, err)
		}

		// A URL past its expiry is refused by the server.
		short, _, err := b.PresignGet(ctx, "dir/hello world+1.txt", time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2100 * time.Millisecond)
		resp, err = http.Get(short)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("expired presigned GET: HTTP %d, want 403", resp.StatusCode)
		}

		for _, d := range []time.Duration{0, -time.Second, 7*24*time.Hour + time.Second} {
			if _, _, err := b.PresignGet(ctx, "k", d, nil); !errors.Is(err, s3kit.ErrInvalid) {
				t.Errorf("expiry %v: %v, want ErrInvalid", d, err)
			}
		}
		if _, _, err := b.PresignPut(ctx, "k", 7*24*time.Hour, nil); err != nil {
			t.Errorf("expiry of exactly 7 days: %v", err)
		}
	})
}

func TestURLAndMakePublic(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		if want := e.srv.Endpoint + "/" + b.Name() + "/a%20b/c%2Bd.txt"; b.URL("a b/c+d.txt") != want {
			t.Errorf("URL = %q, want %q", b.URL("a b/c+d.txt"), want)
		}
		if b.URL("") != "" {
			t.Errorf("URL of an empty key = %q, want empty", b.URL(""))
		}
		if _, err := b.PutString(ctx, "pub/a b.txt", "public", nil); err != nil {
			t.Fatal(err)
		}
		status := func() int {
			resp, err := http.Get(b.URL("pub/a b.txt"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := status(); code != http.StatusForbidden {
			t.Fatalf("anonymous GET of a private object: HTTP %d, want 403", code)
		}
		// A bucket policy proves URL is what an anonymous client fetches.
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},` +
			`"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + b.Name() + `/pub/*"]}]}`
		if _, err := e.client.S3().PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b.Name()), Policy: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
		if code := status(); code != 200 {
			t.Fatalf("anonymous GET under a public-read policy: HTTP %d", code)
		}

		if _, err := b.PutString(ctx, "acl.txt", "x", nil); err != nil {
			t.Fatal(err)
		}
		err := b.MakePublic(ctx, "acl.txt")
		if _, lacking := lacks[e.name]["object ACLs"]; lacking {
			if !errors.Is(err, errors.ErrUnsupported) {
				t.Fatalf("MakePublic on a store without object ACLs: %v, want errors.ErrUnsupported", err)
			}
			e.requireFeature(t, "object ACLs")
		}
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(b.URL("acl.txt"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("anonymous GET after MakePublic: HTTP %d", resp.StatusCode)
		}
	})
}

// presignedPut sends body to a presigned URL with a plain net/http client,
// with header and, unless chunked, a Content-Length of len(body). It
// returns the status and the S3 error code of the answer; a store that
// refuses a request by closing the connection before reading the whole
// body gives status 0 and the code "connection closed".
func presignedPut(t *testing.T, url string, header http.Header, body []byte, chunked bool) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var r io.Reader = bytes.NewReader(body)
	if chunked {
		r = io.MultiReader(r) // of unknown length: sent chunked
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, r)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(req.Header, header)
	// The store may answer before reading the body: do not reuse the
	// connection.
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		return 0, "connection closed"
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Code string }
	data, _ := io.ReadAll(resp.Body)
	xml.Unmarshal(data, &e)
	return resp.StatusCode, e.Code
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// checksumOptions are the four ways PresignOptions binds content.
var checksumOptions = []struct {
	name string
	set  func(o *s3kit.PresignOptions, data []byte)
}{
	{"CRC64NVME", func(o *s3kit.PresignOptions, data []byte) {
		o.ChecksumCRC64NVME = b64(binary.BigEndian.AppendUint64(nil, crc64nvme.Checksum(data)))
	}},
	{"CRC32C", func(o *s3kit.PresignOptions, data []byte) {
		o.ChecksumCRC32C = b64(binary.BigEndian.AppendUint32(nil, crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))))
	}},
	{"CRC32", func(o *s3kit.PresignOptions, data []byte) {
		o.ChecksumCRC32 = b64(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data)))
	}},
	{"SHA256", func(o *s3kit.PresignOptions, data []byte) {
		sum := sha256.Sum256(data)
		o.ChecksumSHA256 = b64(sum[:])
	}},
}

// TestPresignPutBinds checks that a presigned PUT with a bound length and
// checksum accepts exactly those bytes, sent with its headers, and that
// the stores refuse any other length, other bytes of the same length, and
// a request without the checksum header or without a Content-Length.
func TestPresignPutBinds(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		for _, size := range []int{1, 1<<16 + 1} {
			for _, cs := range checksumOptions {
				t.Run(fmt.Sprintf("%s/%d", cs.name, size), func(t *testing.T) {
					data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
					key := fmt.Sprintf("bound/%s-%d", cs.name, size)
					opts := &s3kit.PresignOptions{ContentLength: int64(size)}
					cs.set(opts, data)
					url, hdr, err := e.bucket.PresignPut(ctx, key, time.Minute, opts)
					if err != nil {
						t.Fatal(err)
					}
					var sumHeader string
					for k := range hdr {
						if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
							sumHeader = k
						}
					}
					if len(hdr) != 1 || !strings.EqualFold(sumHeader, "X-Amz-Checksum-"+cs.name) {
						t.Fatalf("headers %v, want only x-amz-checksum-%s", hdr, strings.ToLower(cs.name))
					}
					if !strings.Contains(url, "content-length") {
						t.Errorf("Content-Length is not among the signed headers of %s", url)
					}

					other := bytes.Clone(data)
					other[len(other)/2] ^= 1
					noSum := hdr.Clone()
					noSum.Del(sumHeader)
					for _, bad := range []struct {
						name    string
						body    []byte
						header  http.Header
						chunked bool
					}{
						{"longer", append(bytes.Clone(data), 'x'), hdr, false},
						{"shorter", data[:size-1], hdr, false},
						{"same length, other bytes", other, hdr, false},
						{"without the checksum header", data, noSum, false},
						{"without Content-Length", data, hdr, true},
					} {
						code, s3code := presignedPut(t, url, bad.header, bad.body, bad.chunked)
						if code/100 == 2 {
							t.Errorf("%s: HTTP %d, want a refusal", bad.name, code)
						} else {
							t.Logf("%s: HTTP %d %s", bad.name, code, s3code)
						}
						// MinIO names a checksum mismatch XAmzContentChecksumMismatch.
						if bad.name == "same length, other bytes" && !slices.Contains([]string{"BadDigest", "XAmzContentChecksumMismatch", "SignatureDoesNotMatch"}, s3code) {
							t.Errorf("%s: HTTP %d %s, want a checksum mismatch or SignatureDoesNotMatch", bad.name, code, s3code)
						}
					}
					if ok, err := e.bucket.Exists(ctx, key); err != nil || ok {
						t.Fatalf("after the refused PUTs: Exists = %v, %v; want false", ok, err)
					}

					if code, s3code := presignedPut(t, url, hdr, data, false); code != http.StatusOK {
						t.Fatalf("PUT of the bound bytes: HTTP %d %s", code, s3code)
					}
					got, _, err := e.bucket.GetBytes(ctx, key)
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("stored %d bytes (%v), want the %d bound ones", len(got), err, len(data))
					}
				})
			}
		}
	})
}

// TestPresignPutEmpty checks that the SHA-256 of no bytes binds an upload
// to an empty body, which ContentLength cannot bind.
func TestPresignPutEmpty(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		sum := sha256.Sum256(nil)
		url, hdr, err := e.bucket.PresignPut(ctx, "empty", time.Minute, &s3kit.PresignOptions{ChecksumSHA256: b64(sum[:])})
		if err != nil {
			t.Fatal(err)
		}
		if code, s3code := presignedPut(t, url, hdr, []byte("x"), false); code/100 == 2 {
			t.Errorf("PUT of one byte: HTTP %d %s, want a refusal", code, s3code)
		}
		if code, s3code := presignedPut(t, url, hdr, nil, false); code != http.StatusOK {
			t.Fatalf("PUT of no bytes: HTTP %d %s", code, s3code)
		}
		if info, err := e.bucket.Head(ctx, "empty", nil); err != nil || info.Size != 0 {
			t.Errorf("stored %+v, %v", info, err)
		}
	})
}

// TestPresignPutDefaults checks that the handle's put defaults are signed
// into a presigned PUT: an upload with the returned headers gets them, one
// without any of them is refused, and the caller's ContentType wins.
func TestPresignPutDefaults(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		b := e.bucket.Prefix("d").WithPutDefaults(&s3kit.PutOptions{
			ContentType: "text/x-default", CacheControl: "max-age=60", ContentDisposition: "attachment",
			ContentLanguage: "de", ACL: "private", StorageClass: "STANDARD",
			Metadata: map[string]string{"owner": "team-a"}, Tags: map[string]string{"project": "x y"},
		})
		url, hdr, err := b.PresignPut(ctx, "up.txt", time.Minute, &s3kit.PresignOptions{ContentType: "text/x-own"})
		if err != nil {
			t.Fatal(err)
		}
		want := http.Header{
			"Content-Type": {"text/x-own"}, "Cache-Control": {"max-age=60"}, "Content-Disposition": {"attachment"},
			"Content-Language": {"de"}, "X-Amz-Acl": {"private"}, "X-Amz-Storage-Class": {"STANDARD"},
			"X-Amz-Meta-Owner": {"team-a"}, "X-Amz-Tagging": {"project=x%20y"},
		}
		if !maps.EqualFunc(hdr, want, slices.Equal) {
			t.Errorf("headers\n got %v\nwant %v", hdr, want)
		}
		for name := range hdr {
			h := hdr.Clone()
			h.Del(name)
			if code, s3code := presignedPut(t, url, h, []byte("x"), false); code/100 == 2 {
				t.Errorf("PUT without %s: HTTP %d, want a refusal", name, code)
			} else {
				t.Logf("PUT without %s: HTTP %d %s", name, code, s3code)
			}
		}
		if code, s3code := presignedPut(t, url, hdr, []byte("presigned"), false); code != http.StatusOK {
			t.Fatalf("PUT with the headers: HTTP %d %s", code, s3code)
		}
		info, err := e.bucket.Head(ctx, "d/up.txt", nil)
		if err != nil {
			t.Fatal(err)
		}
		if info.ContentType != "text/x-own" || info.CacheControl != "max-age=60" || info.ContentDisposition != "attachment" ||
			info.ContentLanguage != "de" || info.Metadata["owner"] != "team-a" {
			t.Errorf("stored object: %+v", info)
		}
		if tags, err := e.bucket.GetTags(ctx, "d/up.txt"); err != nil || tags["project"] != "x y" {
			t.Errorf("tags %v, %v; want project=x y", tags, err)
		}

		// Without options, the default ContentType is bound; SSE is signed
		// too (not uploaded: versitygw ignores SSE-S3).
		_, hdr, err = b.WithPutDefaults(&s3kit.PutOptions{ContentType: "text/x-default", SSE: s3kit.SSEKMS, SSEKMSKeyID: "key-1"}).
			PresignPut(ctx, "plain.txt", time.Minute, nil)
		if err != nil || hdr.Get("Content-Type") != "text/x-default" || hdr.Get("X-Amz-Server-Side-Encryption") != "aws:kms" ||
			hdr.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id") != "key-1" {
			t.Errorf("headers %v, %v; want the default Content-Type and SSE", hdr, err)
		}
	})
}

// TestPresignOptionsInvalid checks that options that cannot be signed are
// refused with ErrInvalid, naming the field, before anything is signed.
func TestPresignOptionsInvalid(t *testing.T) {
	c, err := s3kit.New(t.Context(), s3kit.Config{
		Endpoint: "http://127.0.0.1:1", Region: "us-east-1", AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret",
	})
	if err != nil {
		t.Fatal(err)
	}
	b := c.Bucket("presign-invalid")
	crc := b64(make([]byte, 8))
	for _, tt := range []struct {
		name string
		get  bool
		opts s3kit.PresignOptions
		want string
	}{
		{"negative length", false, s3kit.PresignOptions{ContentLength: -1}, "ContentLength -1"},
		{"length over 5 GiB", false, s3kit.PresignOptions{ContentLength: s3kit.MaxPutSize + 1}, "ContentLength"},
		{"CRC64NVME not base64", false, s3kit.PresignOptions{ChecksumCRC64NVME: "not base64!"}, "ChecksumCRC64NVME"},
		{"CRC64NVME of 4 bytes", false, s3kit.PresignOptions{ChecksumCRC64NVME: b64([]byte{1, 2, 3, 4})}, "ChecksumCRC64NVME"},
		{"CRC32C of 8 bytes", false, s3kit.PresignOptions{ChecksumCRC32C: crc}, "ChecksumCRC32C"},
		{"CRC32C unpadded", false, s3kit.PresignOptions{ChecksumCRC32C: "AAAAAA"}, "ChecksumCRC32C"},
		{"CRC32C stray bits", false, s3kit.PresignOptions{ChecksumCRC32C: "AAAAAB=="}, "ChecksumCRC32C"},
		{"CRC32 of 8 bytes", false, s3kit.PresignOptions{ChecksumCRC32: crc}, "ChecksumCRC32"},
		{"CRC32 and CRC32C", false, s3kit.PresignOptions{ChecksumCRC32: b64(make([]byte, 4)), ChecksumCRC32C: b64(make([]byte, 4))}, "both set"},
		{"SHA256 of 8 bytes", false, s3kit.PresignOptions{ChecksumSHA256: crc}, "ChecksumSHA256"},
		{"two checksums", false, s3kit.PresignOptions{ChecksumCRC64NVME: crc, ChecksumCRC32C: b64(make([]byte, 4))}, "both set"},
		{"content type control byte", false, s3kit.PresignOptions{ContentType: "a\nb"}, "ContentType"},
		{"response type on a PUT", false, s3kit.PresignOptions{ResponseContentType: "text/plain"}, "PresignGet only"},
		{"length on a GET", true, s3kit.PresignOptions{ContentLength: 1}, "PresignPut only"},
		{"checksum on a GET", true, s3kit.PresignOptions{ChecksumSHA256: b64(make([]byte, 32))}, "PresignPut only"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.get {
				_, _, err = b.PresignGet(t.Context(), "k", time.Minute, &tt.opts)
			} else {
				_, _, err = b.PresignPut(t.Context(), "k", time.Minute, &tt.opts)
			}
			if !errors.Is(err, s3kit.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrInvalid naming %q", err, tt.want)
			}
		})
	}
	ok := &s3kit.PresignOptions{ContentLength: s3kit.MaxPutSize, ChecksumCRC32C: b64(make([]byte, 4))}
	if _, _, err := b.PresignPut(t.Context(), "k", time.Minute, ok); err != nil {
		t.Errorf("a length of MaxPutSize with a CRC32C: %v", err)
	}
}

package s3kit

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// SSECustomerKey is a key for server-side encryption with a key the
// customer provides (SSE-C): the store encrypts an object with it on
// write, keeps only a salted MD5 of it, and serves the object only to a
// request that presents the same key. Losing the key loses the object.
//
// A key is made by NewSSECustomerKey and never changes. It does not reveal
// itself: its String, GoString, Format and LogValue print only the
// base64 MD5 of the key, which the store also reports
// (ObjectInfo.SSECustomerKeyMD5), and no error of s3kit contains the key.
// The key travels in request headers, which is why stores accept it only
// over HTTPS.
type SSECustomerKey struct {
	md5 string // base64 of the key's MD5
	// b64 returns the key, base64: the header's value. A func, because
	// fmt prints a func as an address whatever the verb, also where it
	// reaches the key by reflection (an SSECustomerKey in an unexported
	// field, where it cannot call Format), and would print a string.
	b64 func() string
}

// SSECustomerKeySize is the size of an SSE-C key: a 256-bit AES key, the
// only kind S3 takes ("AES256").
const SSECustomerKeySize = 32

// ssecAlgorithm is the only SSE-C algorithm S3 defines.
const ssecAlgorithm = "AES256"

// NewSSECustomerKey returns the SSE-C key of the 32 bytes key (AES-256),
// for WithSSECustomerKey and the SSECustomerKey fields of the options. A
// key of another size is an error matching ErrInvalid that gives the size
// only. It keeps no reference to key.
func NewSSECustomerKey(key []byte) (*SSECustomerKey, error) {
	if len(key) != SSECustomerKeySize {
		return nil, &Error{Op: "NewSSECustomerKey", Err: invalidf("an SSE-C key is %d bytes (AES-256), not %d", SSECustomerKeySize, len(key))}
	}
	sum := md5.Sum(key)
	b64 := base64.StdEncoding.EncodeToString(key)
	return &SSECustomerKey{md5: base64.StdEncoding.EncodeToString(sum[:]), b64: func() string { return b64 }}, nil
}

// MD5 returns the base64 MD5 of the key, as S3 reports it for an object
// encrypted with it (ObjectInfo.SSECustomerKeyMD5).
func (k SSECustomerKey) MD5() string { return k.md5 }

// String returns "SSECustomerKey(md5=…)", never the key; for the zero
// SSECustomerKey, "SSECustomerKey(none)".
func (k SSECustomerKey) String() string {
	if k.b64 == nil {
		return "SSECustomerKey(none)"
	}
	return "SSECustomerKey(md5=" + k.md5 + ")"
}

// GoString is String, so that %#v does not print the key.
func (k SSECustomerKey) GoString() string { return k.String() }

// Format prints String for every verb, so that no verb or flag (%x, %+v,
// %#v) prints the key.
func (k SSECustomerKey) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// LogValue is String, for log/slog.
func (k SSECustomerKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// WithSSECustomerKey returns a handle whose every request that reads or
// writes an object's content or metadata presents key (SSE-C): Put and
// its variants, NewWriter, Upload, Get and its variants, NewReader,
// Download, Head, Stat, Copy (as the key of the source, and of the copy
// unless CopyOptions.SSECustomerKey says otherwise), SetMetadata, the
// presigned URLs, the FS view and Sync, whose reads, writes and copies
// between buckets use the key of the handle on each side. Objects written
// through the handle are encrypted with key. Reading one without a key
// fails with ErrInvalid (the request lacks what the object needs), with
// another key with ErrPermission (the key is a credential the caller
// lacks); neither is retried, and the error names SSE-C as the likely
// cause where the store does not say (a HEAD's answer has no body).
//
// The options of one call may name another key (PutOptions,
// ReaderOptions, HeadOptions, CopyOptions, PresignOptions); a write that
// sets PutOptions.SSE uses that instead. Put defaults' SSE is not used
// while the handle has a key. Listing, tagging and deleting need no key.
// nil gives a handle without a key. Handles made from the returned one
// with Prefix or WithPutDefaults keep the key. It sends no request.
//
// Stores accept SSE-C only over HTTPS.
func (b *Bucket) WithSSECustomerKey(key *SSECustomerKey) *Bucket {
	nb := *b
	nb.ssec = key
	return &nb
}

// withSSEC is WithSSECustomerKey that returns b itself if it has key.
func (b *Bucket) withSSEC(key *SSECustomerKey) *Bucket {
	if b.ssec == key {
		return b
	}
	return b.WithSSECustomerKey(key)
}

// apply sets the SSE-C headers of k on in, the request of an object that
// is (or is to be) encrypted with k; a nil k sets none.
func (k *SSECustomerKey) apply(in any) {
	if k == nil || k.b64 == nil {
		return
	}
	alg, key, sum := aws.String(ssecAlgorithm), aws.String(k.b64()), aws.String(k.md5)
	switch in := in.(type) {
	case *s3.PutObjectInput:
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = alg, key, sum
	case *s3.GetObjectInput:
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = alg, key, sum
	case *s3.HeadObjectInput:
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = alg, key, sum
	case *s3.CreateMultipartUploadInput:
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = alg, key, sum
	case *s3.UploadPartInput:
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = alg, key, sum
	case *s3.CompleteMultipartUploadInput:
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = alg, key, sum
	case *s3.ListPartsInput:
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = alg, key, sum
	case *s3.CopyObjectInput:
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = alg, key, sum
	case *s3.UploadPartCopyInput:
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = alg, key, sum
	default:
		panic(fmt.Sprintf("s3kit: SSE-C headers on a %T", in))
	}
}

// applySource sets the SSE-C headers of k on in as the key of the source
// of a copy; a nil k sets none.
func (k *SSECustomerKey) applySource(in any) {
	if k == nil || k.b64 == nil {
		return
	}
	alg, key, sum := aws.String(ssecAlgorithm), aws.String(k.b64()), aws.String(k.md5)
	switch in := in.(type) {
	case *s3.CopyObjectInput:
		in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = alg, key, sum
	case *s3.UploadPartCopyInput:
		in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = alg, key, sum
	default:
		panic(fmt.Sprintf("s3kit: SSE-C copy source headers on a %T", in))
	}
}

// putKey returns opts with the handle's key where the write names none
// and no other encryption; opts itself if that changes nothing.
func (b *Bucket) putKey(opts *PutOptions) *PutOptions {
	if b.ssec == nil || opts != nil && (opts.SSECustomerKey != nil || opts.SSE != "") {
		return opts
	}
	o := PutOptions{}
	if opts != nil {
		o = *opts
	}
	o.SSECustomerKey = b.ssec
	return &o
}

// copyKey returns opts with the key of the copy decided: its own, else
// the handle's unless it sets SSE. Deciding once matters to Sync, which
// decides with the destination's handle and copies through the source's.
func (b *Bucket) copyKey(opts *CopyOptions) *CopyOptions {
	if opts != nil && opts.ssecDecided {
		return opts
	}
	o := CopyOptions{}
	if opts != nil {
		o = *opts
	}
	if o.SSECustomerKey == nil && o.SSE == "" {
		o.SSECustomerKey = b.ssec
	}
	o.ssecDecided = true
	return &o
}

// validSSEC checks that an SSE-C key does not come with another
// encryption.
func validSSEC(key *SSECustomerKey, sse, kmsKeyID string) error {
	if key == nil {
		return nil
	}
	if key.b64 == nil {
		return invalidf("SSECustomerKey is not made by NewSSECustomerKey")
	}
	if sse != "" || kmsKeyID != "" {
		return invalidf("SSECustomerKey and SSE %q (or a KMS key) cannot both be set; an object has one encryption", sse)
	}
	return nil
}

// validRedirect checks a WebsiteRedirectLocation as S3 does: a path in the
// bucket ("/…") or an absolute http(s) URL, of printable US-ASCII.
func validRedirect(loc string) error {
	if loc == "" {
		return nil
	}
	if !strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "http://") && !strings.HasPrefix(loc, "https://") {
		return invalidf("WebsiteRedirectLocation %q must begin with \"/\", \"http://\" or \"https://\"", loc)
	}
	if len(loc) > maxRedirectLength {
		return invalidf("WebsiteRedirectLocation is %d bytes; S3 takes at most %d", len(loc), maxRedirectLength)
	}
	return validHeaderValue("WebsiteRedirectLocation", loc)
}

// maxRedirectLength is the longest x-amz-website-redirect-location S3
// takes (2 KB: "Object key and metadata", Amazon S3 User Guide).
const maxRedirectLength = 2 << 10

// optTime returns a pointer to t, or nil for the zero time.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// parseExpires reads an Expires header as the SDK passes it unparsed;
// the zero time if it is absent or not an HTTP date (such as "0", which
// HTTP reads as already expired).
func parseExpires(s *string) time.Time {
	if s == nil {
		return time.Time{}
	}
	t, err := http.ParseTime(*s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// echoed checks the key MD5 a store echoed to a PutObject encrypted with
// k: a store that ignores SSE-C echoes none, and has stored the object
// unencrypted, which must not pass for success. (MinIO echoes none to
// CreateMultipartUpload and CopyObject, where S3 does, so the absence
// proves nothing there.)
func (k *SSECustomerKey) echoed(md5 *string) error {
	if k == nil || k.b64 == nil || aws.ToString(md5) == k.md5 {
		return nil
	}
	if aws.ToString(md5) == "" {
		return fmt.Errorf("%w: the store ignored the customer key (SSE-C) and did not encrypt the object with it", errors.ErrUnsupported)
	}
	return fmt.Errorf("the store reports the customer key (SSE-C) md5=%s, not that of %v", aws.ToString(md5), k)
}

// ssecErr makes the error of a HEAD or GET clear where SSE-C is the likely
// cause. A HEAD has no body to say why: an object encrypted with a
// customer key answers a HEAD without the key, or a HEAD with a key for an
// object without one, with a bare 400, which becomes ErrInvalid. A 403 to
// a request with a key is ErrPermission, most likely because the object's
// key is another one.
func (b *Bucket) ssecErr(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case e.StatusCode == http.StatusBadRequest && e.Code == "BadRequest" && b.ssec == nil:
		e.Err = fmt.Errorf("%w: the store refused the request without saying why; the object may be encrypted with a customer key (SSE-C), which the request must present", ErrInvalid)
	case e.StatusCode == http.StatusBadRequest && e.Code == "BadRequest":
		e.Err = fmt.Errorf("%w: the store refused the request without saying why; the object may not be encrypted with a customer key (SSE-C), yet the request presented %v", ErrInvalid, b.ssec)
	case e.StatusCode == http.StatusForbidden && b.ssec != nil && errors.Is(e.Err, ErrPermission):
		e.Err = fmt.Errorf("%w: the object's customer key (SSE-C) may not be %v", ErrPermission, b.ssec)
	}
	return err
}

package s3kit

import (
	"cmp"
	"context"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// PresignOptions are the options of PresignGet and PresignPut. nil means
// defaults. Setting a field of one of them in a call of the other is an
// error matching ErrInvalid.
type PresignOptions struct {
	// ContentType, for PresignPut, binds the upload's Content-Type header.
	// Empty: the handle's default ContentType (WithPutDefaults), if any;
	// otherwise the header is not bound and the uploader may send any.
	ContentType string

	// ContentLength, for PresignPut, if positive, binds the size of the
	// upload: the request must carry a Content-Length header of exactly
	// this value (not a chunked body), or the store refuses it. At most
	// MaxPutSize; 0 binds nothing, as the SDK's signer does not sign a
	// zero Content-Length (to allow only an empty body, bind the
	// ChecksumSHA256 of no bytes).
	ContentLength int64

	// ChecksumCRC64NVME, ChecksumCRC32C, ChecksumCRC32 and ChecksumSHA256,
	// for PresignPut, bind the upload's content: the request must send the
	// x-amz-checksum-crc64nvme, -crc32c, -crc32 or -sha256 header with this
	// value, and the store refuses a body whose checksum differs (400
	// BadDigest; MinIO says XAmzContentChecksumMismatch). At most one may
	// be set, in the form S3 uses: the standard base64 encoding of the
	// big-endian checksum (8, 4, 4 or 32 bytes).
	//
	// A CRC catches accidents, not an adversary: anyone holding the URL
	// can compute other bytes of the same length with the same CRC in
	// microseconds. To bind the content against whoever holds the URL, use
	// ChecksumSHA256.
	ChecksumCRC64NVME string
	ChecksumCRC32C    string
	ChecksumCRC32     string
	ChecksumSHA256    string

	// ResponseContentType and ResponseContentDisposition, for PresignGet,
	// override those headers of the response, e.g. "attachment;
	// filename=report.pdf" to make a browser download the object.
	ResponseContentType        string
	ResponseContentDisposition string
	// VersionID, for PresignGet, selects a version of the object.
	VersionID string

	// SSECustomerKey, for either, is the customer key (SSE-C) of the
	// object to download, or to encrypt the upload with; nil means the
	// handle's (WithSSECustomerKey), if any. The key is not in the URL:
	// it is among the headers returned, which the request must send, so
	// whoever uses the URL must hold the key too, and send it over HTTPS.
	SSECustomerKey *SSECustomerKey
}

// checksumSizes are the decoded sizes of the checksums PresignOptions binds.
var checksumSizes = []struct {
	field string
	size  int
}{{"ChecksumCRC64NVME", 8}, {"ChecksumCRC32C", 4}, {"ChecksumCRC32", 4}, {"ChecksumSHA256", 32}}

func (o *PresignOptions) validate(put bool) error {
	if o == nil {
		return nil
	}
	for _, h := range []struct{ name, v string }{
		{"ContentType", o.ContentType}, {"ResponseContentType", o.ResponseContentType},
		{"ResponseContentDisposition", o.ResponseContentDisposition},
	} {
		if err := validHeaderValue(h.name, h.v); err != nil {
			return err
		}
	}
	getOnly := o.ResponseContentType != "" || o.ResponseContentDisposition != "" || o.VersionID != ""
	sums := []string{o.ChecksumCRC64NVME, o.ChecksumCRC32C, o.ChecksumCRC32, o.ChecksumSHA256}
	putOnly := o.ContentType != "" || o.ContentLength != 0
	for _, s := range sums {
		putOnly = putOnly || s != ""
	}
	switch {
	case put && getOnly:
		return invalidf("ResponseContentType, ResponseContentDisposition and VersionID apply to PresignGet only")
	case !put && putOnly:
		return invalidf("ContentType, ContentLength and the checksums apply to PresignPut only")
	}
	if err := validSSEC(o.SSECustomerKey, "", ""); err != nil {
		return err
	}
	if o.ContentLength < 0 || o.ContentLength > MaxPutSize {
		return invalidf("ContentLength %d is not between 0 and %d (5 GiB)", o.ContentLength, int64(MaxPutSize))
	}
	set := ""
	for i, s := range sums {
		if s == "" {
			continue
		}
		f := checksumSizes[i]
		if set != "" {
			return invalidf("%s and %s are both set; an upload carries one checksum", set, f.field)
		}
		set = f.field
		// Strict: a value S3 would decode differently must not pass here.
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil || len(b) != f.size {
			return invalidf("%s %q is not the standard base64 of %d bytes", f.field, s, f.size)
		}
	}
	return nil
}

// PresignGet returns a URL that lets anyone who has it download the object
// at key with a plain HTTP GET until expires has passed (at most
// MaxPresignExpiry, 7 days), and the headers that GET must send. It sends
// no request and does not check that the object exists. The URL carries a
// signature: treat it as a secret. Temporary credentials end the URL's
// validity when they expire.
//
// The headers are signed, and the GET must send each with exactly its
// value: they are those of the object's customer key (SSE-C:
// opts.SSECustomerKey or the handle's), which are secret like the key
// itself. header is never nil; without a key it is empty, and the URL
// alone downloads the object.
func (b *Bucket) PresignGet(ctx context.Context, key string, expires time.Duration, opts *PresignOptions) (url string, header http.Header, err error) {
	full, err := b.presignCheck(key, expires, opts, false)
	if err != nil {
		return "", nil, b.fail("PresignGet", full, err)
	}
	if opts == nil {
		opts = &PresignOptions{}
	}
	b = b.withSSEC(cmp.Or(opts.SSECustomerKey, b.ssec))
	in := &s3.GetObjectInput{
		Bucket:                     aws.String(b.name),
		Key:                        aws.String(full),
		VersionId:                  optString(opts.VersionID),
		ResponseContentType:        optString(opts.ResponseContentType),
		ResponseContentDisposition: optString(opts.ResponseContentDisposition),
	}
	b.ssec.apply(in)
	req, err := b.c.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(expires))
	if err != nil {
		return "", nil, b.fail("PresignGet", full, err)
	}
	return req.URL, signedHeader(req.SignedHeader), nil
}

// PresignPut returns a URL that lets anyone who has it upload one object to
// key with a plain HTTP PUT of the body until expires has passed (at most
// MaxPresignExpiry, 7 days), and the headers that PUT must send. It sends
// no request. The URL carries a signature: treat it as a secret.
//
// The headers are signed: the upload must send each of them with exactly
// its value, or the store refuses it (SignatureDoesNotMatch, or MinIO's
// AccessDenied for a missing one). They
// are the Content-Type of opts, the checksum header of opts, and the
// handle's put defaults (WithPutDefaults) as a PUT through the handle
// would send them: Cache-Control, Content-Disposition, Content-Encoding,
// Content-Language, Content-Type, x-amz-acl, x-amz-storage-class,
// x-amz-server-side-encryption (and its KMS key), x-amz-meta-*,
// x-amz-tagging, Expires, x-amz-website-redirect-location, and the three
// x-amz-server-side-encryption-customer-* headers of a customer key
// (opts.SSECustomerKey or the handle's), which are as secret as the key.
// An object uploaded through the URL therefore gets the
// same settings as one written through the handle, but for the
// Content-Type that Put derives from the key's extension, which is not
// bound. Host is not among them
// (the URL sets it), nor is Content-Length, which an HTTP client derives
// from the body: with opts.ContentLength the body must be exactly that
// long. header is never nil; without options or defaults it is empty and
// the uploader may send any Content-Type and body of up to 5 GiB.
func (b *Bucket) PresignPut(ctx context.Context, key string, expires time.Duration, opts *PresignOptions) (url string, header http.Header, err error) {
	full, err := b.presignCheck(key, expires, opts, true)
	if err != nil {
		return "", nil, b.fail("PresignPut", full, err)
	}
	if opts == nil {
		opts = &PresignOptions{}
	}
	b = b.withSSEC(cmp.Or(opts.SSECustomerKey, b.ssec))
	po := b.putOptions(nil) // validated by WithPutDefaults
	in := b.putInput(full, po, "")
	// putInput always names a type; a presigned PUT binds one only if asked.
	in.ContentType = nil
	if po != nil {
		in.ContentType = optString(po.ContentType)
	}
	if opts.ContentType != "" {
		in.ContentType = aws.String(opts.ContentType)
	}
	if opts.ContentLength > 0 {
		in.ContentLength = aws.Int64(opts.ContentLength)
	}
	in.ChecksumCRC64NVME = optString(opts.ChecksumCRC64NVME)
	in.ChecksumCRC32C = optString(opts.ChecksumCRC32C)
	in.ChecksumCRC32 = optString(opts.ChecksumCRC32)
	in.ChecksumSHA256 = optString(opts.ChecksumSHA256)
	req, err := b.c.presign.PresignPutObject(ctx, in, s3.WithPresignExpires(expires))
	if err != nil {
		return "", nil, b.fail("PresignPut", full, err)
	}
	return req.URL, signedHeader(req.SignedHeader), nil
}

// signedHeader returns the headers a presigned request must send: the
// signed ones but Host, which the URL sets, and Content-Length, which an
// HTTP client derives from the body. Never nil.
func signedHeader(signed http.Header) http.Header {
	header := signed.Clone()
	if header == nil {
		header = http.Header{}
	}
	header.Del("Host")
	header.Del("Content-Length")
	return header
}

func (b *Bucket) presignCheck(key string, expires time.Duration, opts *PresignOptions, put bool) (string, error) {
	full, err := b.key(key)
	if err != nil {
		return full, err
	}
	if err := validExpiry(expires); err != nil {
		return full, err
	}
	return full, opts.validate(put)
}

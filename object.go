package s3kit

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Server-side encryption modes for PutOptions.SSE.
const (
	SSES3      = "AES256"       // keys managed by S3 (SSE-S3)
	SSEKMS     = "aws:kms"      // keys in AWS KMS (SSE-KMS); see PutOptions.SSEKMSKeyID
	SSEKMSDSSE = "aws:kms:dsse" // dual-layer SSE-KMS
)

// ObjectInfo describes an object, or a directory of a delimited listing.
type ObjectInfo struct {
	// Key is relative to the handle it came from. A directory's key ends
	// in the delimiter.
	Key string
	// IsDir marks a common prefix of a delimited listing, or a zero-byte
	// directory marker whose key ends in "/".
	IsDir        bool
	Size         int64
	ETag         string // as the server sent it, quotes included
	LastModified time.Time
	StorageClass string

	// Set by Head and by writes where the server reports them.
	VersionID          string
	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	Metadata           map[string]string // user metadata, names in lower case
	Tags               map[string]string // only with HeadOptions.WithTags
	SSE                string
	SSEKMSKeyID        string
	// SSECustomerKeyMD5 is set for an object encrypted with a customer
	// key (SSE-C): the base64 MD5 of that key (SSECustomerKey.MD5). The
	// ETag of such an object is not the MD5 of its content.
	SSECustomerKeyMD5 string
	// Expires is the object's Expires header; zero if it has none or one
	// that is not an HTTP date.
	Expires time.Time
	// WebsiteRedirectLocation is where a bucket's website endpoint
	// redirects requests for the object.
	WebsiteRedirectLocation string
	// Checksums maps an algorithm ("CRC32", "CRC32C", "CRC64NVME", "SHA1",
	// "SHA256") to its base64 value, for those the server reported.
	Checksums    map[string]string
	ChecksumType string // "FULL_OBJECT" or "COMPOSITE", if reported
	// Verified is set by the reads that fetch a whole object (Download,
	// DownloadTo, DownloadAll's OnFile, GetBytes, GetString, and a
	// Reader's Info once it was read through in order) to the checksum
	// the bytes were found to match, a key of Checksums: also a
	// COMPOSITE one, checked part by part. Empty means the bytes were
	// not verified: the store reported no CRC (or a SHA only), or a
	// composite checksum without telling where the parts are.
	Verified string
}

// PutOptions are the options of Put and its typed variants. nil means
// defaults. Every field is checked before a request is sent.
type PutOptions struct {
	// ContentType of the object. Empty: by the key's extension, else by
	// the Go type written (PutJSON: application/json; PutString: text/plain;
	// charset=utf-8; otherwise application/octet-stream).
	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	// Expires, if not zero, is sent as the object's Expires header (an HTTP
	// date, to the second): when caches should consider it stale. S3 does
	// not delete the object then.
	Expires time.Time
	// WebsiteRedirectLocation makes a bucket's website endpoint redirect
	// requests for the object to this path of the bucket ("/other.html")
	// or URL ("https://…").
	WebsiteRedirectLocation string

	// Metadata is the user metadata (x-amz-meta-*), at most 2 KiB of
	// names of printable US-ASCII (HTTP header tokens) and values of
	// printable UTF-8. A value that is not US-ASCII is sent as RFC 2047
	// encoded words, as S3 documents, and counts towards the 2 KiB as
	// sent; reads (Head, Get, Download, a Reader's Info) decode such
	// words, so the value reads back as written, from S3, MinIO,
	// versitygw and SeaweedFS alike, and raw UTF-8 another client sent
	// reads back as it is. A name may be given with its
	// header prefix, "x-amz-meta-state" for "state" (in any case): the
	// prefix is stripped, never doubled. Names that are the same without
	// regard to case or prefix ("State" and "state") are ErrInvalid, since
	// S3 would keep one of them; names read back are in lower case.
	Metadata map[string]string
	// Tags are the object's tags, at most 10.
	Tags map[string]string

	// ACL is a canned ACL such as "private" or "public-read". Buckets with
	// ACLs disabled (Amazon S3's default since 2023) refuse any but
	// "private", "bucket-owner-full-control" or none; stores without
	// object ACLs, MinIO and versitygw among them, accept the header and
	// ignore it, and the object stays private. Make objects public there
	// with [Bucket.SetPublicRead].
	ACL string
	// StorageClass such as "STANDARD_IA"; empty means the bucket's default.
	StorageClass string
	// SSE is the server-side encryption: SSES3, SSEKMS or SSEKMSDSSE;
	// empty means the bucket's default.
	SSE string
	// SSEKMSKeyID is the KMS key for SSEKMS; empty means the account's
	// default key.
	SSEKMSKeyID string
	// SSECustomerKey encrypts the object with this customer-provided key
	// (SSE-C), which every later read of it must present; nil means the
	// handle's (WithSSECustomerKey), if any. It excludes SSE.
	SSECustomerKey *SSECustomerKey

	// IfNoneMatch "*" makes the write create-only: if the key exists, the
	// write fails with an error matching ErrExist and ErrPreconditionFailed
	// and the object is unchanged.
	IfNoneMatch string
	// IfMatch makes the write a compare-and-swap: it succeeds only while
	// the object's ETag is this one, else it fails with
	// ErrPreconditionFailed (ErrNotExist if the object is gone) and the
	// object is unchanged.
	//
	// As with any conditional request over a network: if the store
	// applied a conditional write but the response was lost, the retry
	// finds the condition failed and the write is reported as lost. Compare
	// the stored object's checksum (Head) with yours to tell.
	IfMatch string
}

func (o *PutOptions) validate() error {
	if o == nil {
		return nil
	}
	for _, h := range []struct{ name, v string }{
		{"ContentType", o.ContentType}, {"CacheControl", o.CacheControl},
		{"ContentDisposition", o.ContentDisposition}, {"ContentEncoding", o.ContentEncoding},
		{"ContentLanguage", o.ContentLanguage}, {"IfMatch", o.IfMatch},
	} {
		if err := validHeaderValue(h.name, h.v); err != nil {
			return err
		}
	}
	if o.IfNoneMatch != "" && o.IfNoneMatch != "*" {
		return invalidf("IfNoneMatch is %q; S3 accepts only \"*\" (create-only)", o.IfNoneMatch)
	}
	if o.IfNoneMatch != "" && o.IfMatch != "" {
		return invalidf("IfNoneMatch and IfMatch cannot both be set")
	}
	if err := validMetadata(o.Metadata); err != nil {
		return err
	}
	if err := validTags(o.Tags); err != nil {
		return err
	}
	if err := validACL(o.ACL); err != nil {
		return err
	}
	if err := validStorageClass(o.StorageClass); err != nil {
		return err
	}
	if err := validRedirect(o.WebsiteRedirectLocation); err != nil {
		return err
	}
	if err := validSSEC(o.SSECustomerKey, o.SSE, o.SSEKMSKeyID); err != nil {
		return err
	}
	return validSSE(o.SSE, o.SSEKMSKeyID)
}

// putInput builds the PutObject request for full with the options applied.
func (b *Bucket) putInput(full string, o *PutOptions, fallbackType string) *s3.PutObjectInput {
	if o == nil {
		o = &PutOptions{}
	}
	in := &s3.PutObjectInput{
		Bucket:      aws.String(b.name),
		Key:         aws.String(full),
		ContentType: aws.String(detectContentType(o.ContentType, full, fallbackType)),
		Metadata:    metaHeaders(o.Metadata),
	}
	in.CacheControl = optString(o.CacheControl)
	in.ContentDisposition = optString(o.ContentDisposition)
	in.ContentEncoding = optString(o.ContentEncoding)
	in.ContentLanguage = optString(o.ContentLanguage)
	in.Expires, in.WebsiteRedirectLocation = optTime(o.Expires), optString(o.WebsiteRedirectLocation)
	o.SSECustomerKey.apply(in)
	in.IfNoneMatch = optString(o.IfNoneMatch)
	in.IfMatch = optString(o.IfMatch)
	in.SSEKMSKeyId = optString(o.SSEKMSKeyID)
	in.ACL = types.ObjectCannedACL(o.ACL)
	in.StorageClass = types.StorageClass(o.StorageClass)
	in.ServerSideEncryption = types.ServerSideEncryption(o.SSE)
	if len(o.Tags) > 0 {
		in.Tagging = aws.String(encodeTags(o.Tags))
	}
	return in
}

// Put writes the body read from r to key, replacing any object there, and
// returns what the server reported of the new object. The object is
// visible only if Put returns nil; on error nothing was written, and a
// multipart upload begun for it is aborted.
//
// A body of at most one part (Config.PartSize) goes in one PUT. A larger
// body that is an io.ReaderAt of known size (an *os.File, *bytes.Reader,
// *strings.Reader, io.SectionReader) is uploaded in parallel parts read
// straight from it, without buffering; any other body streams through a
// Writer, within the Client's memory budget. The body is read from its
// current offset.
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, opts *PutOptions) (ObjectInfo, error) {
	return b.put(ctx, "Put", key, r, typeBinary, opts)
}

// PutBytes writes data to key; see Put. The ObjectInfo it returns holds
// the new object's ETag, for a later IfMatch.
func (b *Bucket) PutBytes(ctx context.Context, key string, data []byte, opts *PutOptions) (ObjectInfo, error) {
	return b.put(ctx, "PutBytes", key, bytes.NewReader(data), typeBinary, opts)
}

// PutString writes s to key, as text/plain; charset=utf-8 unless the key's
// extension or opts say otherwise; see PutBytes.
func (b *Bucket) PutString(ctx context.Context, key, s string, opts *PutOptions) (ObjectInfo, error) {
	return b.put(ctx, "PutString", key, strings.NewReader(s), typeText, opts)
}

// PutJSON writes v encoded as JSON to key, as application/json unless opts
// say otherwise; see PutBytes. A value json.Marshal refuses is ErrInvalid.
func (b *Bucket) PutJSON(ctx context.Context, key string, v any, opts *PutOptions) (ObjectInfo, error) {
	data, err := json.Marshal(v)
	if err != nil {
		full, _ := b.key(key)
		return ObjectInfo{}, b.fail("PutJSON", full, invalidf("encoding JSON: %v", err))
	}
	return b.put(ctx, "PutJSON", key, bytes.NewReader(data), typeJSON, opts)
}

func (b *Bucket) put(ctx context.Context, op, key string, r io.Reader, fallbackType string, opts *PutOptions) (ObjectInfo, error) {
	full, err := b.key(key)
	opts = b.putOptions(opts)
	if err == nil {
		err = opts.validate()
	}
	if err != nil {
		return ObjectInfo{}, b.fail(op, full, err)
	}
	if r == nil {
		r = bytes.NewReader(nil)
	}
	ra, off, size, sized := readerAtSize(r)
	if sized && size <= b.c.partSize {
		body := io.NewSectionReader(ra, off, size)
		var crc uint64
		cs := b.c.uploadChecksum()
		if cs != nil {
			if crc, err = crcOfReader(cs, body); err != nil {
				return ObjectInfo{}, b.fail(op, full, err)
			}
		}
		info, err := b.putBody(ctx, full, body, size, cs, crc, opts, fallbackType)
		if err != nil {
			return ObjectInfo{}, b.putErr(op, full, opts, err)
		}
		return info, nil
	}
	wo := &WriterOptions{}
	if opts != nil {
		wo.PutOptions = *opts
	}
	if sized {
		wo.Size = size
	}
	w, err := b.NewWriter(ctx, key, wo)
	if err != nil {
		return ObjectInfo{}, err
	}
	w.fallbackType = fallbackType
	if sized {
		if err := w.uploadFrom(ra, off, size); err != nil {
			w.fail(err)
		}
	} else if _, err := w.ReadFrom(r); err != nil {
		w.fail(err)
	}
	if err := w.Close(); err != nil {
		return ObjectInfo{}, renameOp(err, op)
	}
	return w.Info(), nil
}

// putBody sends one PutObject of size bytes from body, with crc, their
// CRC by cs (none if cs is nil). A store that refuses the checksum header
// gets the body once more without it (see Client.checksumRefused).
func (b *Bucket) putBody(ctx context.Context, full string, body io.ReadSeeker, size int64, cs *checksummer, crc uint64, opts *PutOptions, fallbackType string) (ObjectInfo, error) {
	in := b.putInput(full, opts, fallbackType)
	in.Body = body
	in.ContentLength = aws.Int64(size)
	var sum string
	if cs = b.c.stillSending(cs); cs != nil {
		sum = cs.encode(crc)
		setChecksum(cs.name, sum, &in.ChecksumCRC64NVME, &in.ChecksumCRC32C, &in.ChecksumCRC32)
	} else if md, err := b.c.contentMD5(body); err != nil {
		return ObjectInfo{}, err
	} else {
		in.ContentMD5 = optString(md)
	}
	out, err := b.c.s3.PutObject(ctx, in, b.c.uploadOptions)
	if sum != "" && b.c.checksumRefused(err) {
		if _, serr := body.Seek(0, io.SeekStart); serr == nil {
			refusal := err
			in.ChecksumCRC64NVME, in.ChecksumCRC32C, in.ChecksumCRC32, sum = nil, nil, nil, ""
			// The retry carries Content-MD5, so that the store still
			// checks the bytes.
			if md, merr := md5Of(body); merr != nil {
				err = merr
			} else {
				in.ContentMD5 = aws.String(md)
				if out, err = b.c.s3.PutObject(ctx, in, b.c.uploadOptions); err == nil {
					b.c.dropChecksums(refusal)
				}
			}
		}
	}
	if err == nil && opts != nil {
		err = opts.SSECustomerKey.echoed(out.SSECustomerKeyMD5)
	}
	if err != nil {
		return ObjectInfo{}, err
	}
	info := ObjectInfo{
		Key:         b.rel(full),
		Size:        size,
		ETag:        aws.ToString(out.ETag),
		VersionID:   aws.ToString(out.VersionId),
		ContentType: aws.ToString(in.ContentType),
		SSE:         string(out.ServerSideEncryption),
		SSEKMSKeyID: aws.ToString(out.SSEKMSKeyId),

		SSECustomerKeyMD5: aws.ToString(out.SSECustomerKeyMD5),
	}
	info.Checksums, info.ChecksumType = checksums(out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256, out.ChecksumType)
	if sum != "" && info.Checksums[cs.name] == "" {
		// The store verified the header it took.
		info.Checksums = map[string]string{cs.name: sum}
	}
	info.fullObject(cs, sum)
	return info, nil
}

// fullObject sets the ChecksumType of a write the store took with the
// full-object checksum sum of cs (which it checks) where its answer did
// not say the type: some stores leave it out of the write's answer
// (MinIO after a multipart upload, whose HEAD then says FULL_OBJECT;
// SeaweedFS after a PUT).
func (info *ObjectInfo) fullObject(cs *checksummer, sum string) {
	if cs != nil && sum != "" && info.ChecksumType == "" && info.Checksums[cs.name] == sum {
		info.ChecksumType = string(types.ChecksumTypeFullObject)
	}
}

// putErr wraps the error of a write, so that a create-only write that
// found an object is ErrExist as well as ErrPreconditionFailed.
func (b *Bucket) putErr(op, full string, opts *PutOptions, err error) error {
	err = b.fail(op, full, err)
	var e *Error
	// A 409 conflict says another write was in progress, not that an
	// object exists.
	if opts != nil && opts.IfNoneMatch != "" && errors.As(err, &e) && e.Err == ErrPreconditionFailed && e.Code != "ConditionalRequestConflict" {
		e.Err = errCreateConflict
	}
	return err
}

// GetBytes returns the content of the object at key, and its metadata as
// the same response gave it: the ETag in it is the one of these bytes, for
// a compare-and-swap with PutOptions.IfMatch.
func (b *Bucket) GetBytes(ctx context.Context, key string) ([]byte, ObjectInfo, error) {
	return b.getBytes(ctx, "GetBytes", key)
}

// getBytes is GetBytes, with errors naming op.
func (b *Bucket) getBytes(ctx context.Context, op, key string) ([]byte, ObjectInfo, error) {
	full, body, info, err := b.get(ctx, op, key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	defer body.Close()
	buf := bytes.NewBuffer(make([]byte, 0, max(info.Size, 0)+bytes.MinRead))
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, ObjectInfo{}, b.fail(op, full, err)
	}
	if rb, ok := body.(*rangeBody); ok {
		info.Verified = rb.verified
	}
	return buf.Bytes(), info, nil
}

// GetString returns the content of the object at key as a string, and its
// metadata; see GetBytes.
func (b *Bucket) GetString(ctx context.Context, key string) (string, ObjectInfo, error) {
	data, info, err := b.getBytes(ctx, "GetString", key)
	return string(data), info, err
}

// GetJSON decodes the JSON object at key into v, as json.Unmarshal does,
// streaming it from the response, and returns the object's metadata; see
// GetBytes. Content that is not valid JSON for v is an error wrapping the
// json package's error.
func (b *Bucket) GetJSON(ctx context.Context, key string, v any) (ObjectInfo, error) {
	full, body, info, err := b.get(ctx, "GetJSON", key)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer body.Close()
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		return ObjectInfo{}, b.fail("GetJSON", full, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var syn *json.SyntaxError
		if err != nil && !errors.As(err, &syn) {
			return ObjectInfo{}, b.fail("GetJSON", full, err)
		}
		return ObjectInfo{}, b.fail("GetJSON", full, errors.New("invalid JSON: data after the top-level value"))
	}
	return info, nil
}

// Lines returns the lines of the object at key as they stream in, without
// their "\n" or "\r\n" endings, holding one line at a time in memory (a
// line is as long as the object makes it). A failure (including a missing object) is yielded once as the
// last pair. Breaking out of the loop closes the response.
func (b *Bucket) Lines(ctx context.Context, key string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		full, body, _, err := b.get(ctx, "Lines", key)
		if err != nil {
			yield("", err)
			return
		}
		defer body.Close()
		br := bufio.NewReaderSize(body, 64<<10)
		for {
			line, err := br.ReadString('\n')
			if err != nil && err != io.EOF {
				// A partial line is not a line.
				yield("", b.fail("Lines", full, err))
				return
			}
			if line != "" {
				line = strings.TrimSuffix(line, "\n")
				line = strings.TrimSuffix(line, "\r")
				if !yield(line, nil) {
					return
				}
			}
			if err == io.EOF {
				return
			}
		}
	}
}

// get opens the body of key, resumable and verified; the caller closes
// it.
func (b *Bucket) get(ctx context.Context, op, key string) (string, io.ReadCloser, ObjectInfo, error) {
	full, err := b.key(key)
	if err != nil {
		return full, nil, ObjectInfo{}, b.fail(op, full, err)
	}
	body, out, err := b.openRange(ctx, op, full, "", "", 0, -1)
	if err != nil {
		return full, nil, ObjectInfo{}, err
	}
	return full, body, b.infoOfGet(full, out), nil
}

// infoOfGet returns the metadata of the object a whole-object GET answered
// with.
func (b *Bucket) infoOfGet(full string, out *s3.GetObjectOutput) ObjectInfo {
	info := ObjectInfo{
		Key:                b.rel(full),
		IsDir:              strings.HasSuffix(full, "/") && aws.ToInt64(out.ContentLength) == 0,
		Size:               aws.ToInt64(out.ContentLength),
		ETag:               aws.ToString(out.ETag),
		LastModified:       aws.ToTime(out.LastModified),
		StorageClass:       cmp.Or(string(out.StorageClass), string(types.StorageClassStandard)),
		VersionID:          aws.ToString(out.VersionId),
		ContentType:        aws.ToString(out.ContentType),
		CacheControl:       aws.ToString(out.CacheControl),
		ContentDisposition: aws.ToString(out.ContentDisposition),
		ContentEncoding:    aws.ToString(out.ContentEncoding),
		ContentLanguage:    aws.ToString(out.ContentLanguage),
		Metadata:           decodeMeta(out.Metadata),
		SSE:                string(out.ServerSideEncryption),
		SSEKMSKeyID:        aws.ToString(out.SSEKMSKeyId),

		SSECustomerKeyMD5:       aws.ToString(out.SSECustomerKeyMD5),
		Expires:                 parseExpires(out.ExpiresString),
		WebsiteRedirectLocation: aws.ToString(out.WebsiteRedirectLocation),
	}
	info.Checksums, info.ChecksumType = checksums(out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256, out.ChecksumType)
	return info
}

// HeadOptions are the options of Head. nil means defaults.
type HeadOptions struct {
	// WithTags also fetches the object's tags (one more request).
	WithTags bool
	// VersionID selects a version of the object; empty means the current.
	VersionID string
	// SSECustomerKey is the key of an object encrypted with a customer key
	// (SSE-C); nil means the handle's (WithSSECustomerKey), if any.
	SSECustomerKey *SSECustomerKey
}

// Head returns the metadata of the object at key without its content. A
// missing object is ErrNotExist, a missing bucket ErrBucketNotExist.
//
// A HEAD response cannot say which of the two is missing, so a 404 is
// followed by a HeadBucket, unless the same Client saw the bucket exist in
// the last 10 seconds (any successful Head, Exists or WaitExists shows it):
// a missing key then costs one request. A bucket deleted within those
// seconds is reported as a missing key, ErrNotExist.
func (b *Bucket) Head(ctx context.Context, key string, opts *HeadOptions) (ObjectInfo, error) {
	full, err := b.key(key)
	if err != nil {
		return ObjectInfo{}, b.fail("Head", full, err)
	}
	if opts == nil {
		opts = &HeadOptions{}
	}
	if opts.SSECustomerKey != nil {
		b = b.withSSEC(opts.SSECustomerKey)
	}
	info, err := b.head(ctx, "Head", full, opts.VersionID)
	if err != nil {
		return info, err
	}
	if opts.WithTags {
		in := &s3.GetObjectTaggingInput{Bucket: aws.String(b.name), Key: aws.String(full), VersionId: optString(opts.VersionID)}
		out, err := b.c.s3.GetObjectTagging(ctx, in)
		if err != nil {
			return info, b.fail("Head", full, err)
		}
		info.Tags = tagMap(out.TagSet)
	}
	return info, nil
}

func (b *Bucket) head(ctx context.Context, op, full, version string) (ObjectInfo, error) {
	info, err := b.headOnly(ctx, op, full, version)
	if err != nil && errors.Is(err, ErrNotExist) {
		err = b.headErr(ctx, op, full, err)
	}
	return info, err
}

// headOnly is head without the HeadBucket that tells a missing bucket from
// a missing key: a 404 is ErrNotExist either way. Success shows that the
// bucket exists, and is remembered (see headErr).
func (b *Bucket) headOnly(ctx context.Context, op, full, version string) (ObjectInfo, error) {
	in := &s3.HeadObjectInput{
		Bucket:       aws.String(b.name),
		Key:          aws.String(full),
		VersionId:    optString(version),
		ChecksumMode: types.ChecksumModeEnabled,
	}
	b.ssec.apply(in)
	out, err := b.c.s3.HeadObject(ctx, in)
	if err != nil {
		return ObjectInfo{}, b.ssecErr(b.fail(op, full, err))
	}
	b.sawBucket()
	info := ObjectInfo{
		Key:                b.rel(full),
		IsDir:              strings.HasSuffix(full, "/") && aws.ToInt64(out.ContentLength) == 0,
		Size:               aws.ToInt64(out.ContentLength),
		ETag:               aws.ToString(out.ETag),
		LastModified:       aws.ToTime(out.LastModified),
		StorageClass:       string(out.StorageClass),
		VersionID:          aws.ToString(out.VersionId),
		ContentType:        aws.ToString(out.ContentType),
		CacheControl:       aws.ToString(out.CacheControl),
		ContentDisposition: aws.ToString(out.ContentDisposition),
		ContentEncoding:    aws.ToString(out.ContentEncoding),
		ContentLanguage:    aws.ToString(out.ContentLanguage),
		Metadata:           decodeMeta(out.Metadata),
		SSE:                string(out.ServerSideEncryption),
		SSEKMSKeyID:        aws.ToString(out.SSEKMSKeyId),

		SSECustomerKeyMD5:       aws.ToString(out.SSECustomerKeyMD5),
		Expires:                 parseExpires(out.ExpiresString),
		WebsiteRedirectLocation: aws.ToString(out.WebsiteRedirectLocation),
	}
	if info.StorageClass == "" {
		info.StorageClass = string(types.StorageClassStandard)
	}
	info.Checksums, info.ChecksumType = checksums(out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256, out.ChecksumType)
	return info, nil
}

// headErr wraps the error of a HEAD request. A HEAD response has no body,
// so a 404 does not say whether the key or the bucket is missing; one
// HeadBucket tells, so that a missing bucket is ErrBucketNotExist here as
// on every other operation.
//
// That HeadBucket is skipped while the bucket was seen to exist less than
// bucketSeenTTL ago by the same Client, here or by a successful HEAD: a
// missing key then costs one request, and WaitExists one per poll. A bucket
// deleted within that time is reported as a missing key, ErrNotExist;
// Amazon S3's own view of a deleted bucket takes time to settle too.
func (b *Bucket) headErr(ctx context.Context, op, full string, err error) error {
	err = b.fail(op, full, err)
	var e *Error
	if errors.As(err, &e) && e.Err == ErrNotExist && e.Code != "NoSuchKey" && e.Code != "NoSuchVersion" && !b.bucketSeen() {
		_, berr := b.c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.name)})
		var be *Error
		if berr == nil {
			b.sawBucket()
		} else if errors.As(wrapErr(op, b.name, "", berr), &be) && be.Err == ErrNotExist {
			e.Err = ErrBucketNotExist
		}
	}
	return err
}

// bucketSeenTTL is how long a bucket seen to exist is taken to still exist
// when a HEAD answers a bare 404 (see headErr). Short, because a deleted
// bucket is misreported for that long; long enough that polling sends a
// HeadBucket only now and then.
const bucketSeenTTL = 10 * time.Second

// bucketsSeen is when each bucket of a Client was last seen to exist.
// Entries older than bucketSeenTTL are swept when new ones are added,
// which bounds the map by the buckets used within that time.
type bucketsSeen struct {
	mu    sync.Mutex
	at    map[string]time.Time
	swept time.Time
}

// sawBucket records that b's bucket exists, as of now.
func (b *Bucket) sawBucket() {
	now := time.Now()
	s := &b.c.seen
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at == nil {
		s.at = make(map[string]time.Time)
	}
	if now.Sub(s.swept) > bucketSeenTTL {
		for k, t := range s.at {
			if now.Sub(t) > bucketSeenTTL {
				delete(s.at, k)
			}
		}
		s.swept = now
	}
	s.at[b.name] = now
}

// bucketSeen reports whether b's bucket was seen to exist less than
// bucketSeenTTL ago.
func (b *Bucket) bucketSeen() bool {
	s := &b.c.seen
	s.mu.Lock()
	t, ok := s.at[b.name]
	s.mu.Unlock()
	return ok && time.Since(t) < bucketSeenTTL
}

// Exists reports whether an object is at key. A missing bucket is an
// error, ErrBucketNotExist, not false. It sends one HEAD, and after a 404
// one HeadBucket unless the bucket is known to exist (see Head).
func (b *Bucket) Exists(ctx context.Context, key string) (bool, error) {
	full, err := b.key(key)
	if err != nil {
		return false, b.fail("Exists", full, err)
	}
	_, err = b.head(ctx, "Exists", full, "")
	if err == nil {
		return true, nil
	}
	if errors.Is(err, ErrNotExist) {
		return false, nil
	}
	return false, err
}

// Delete removes the object at key. Deleting a key that does not exist is
// not an error; a missing bucket is.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	full, err := b.key(key)
	if err != nil {
		return b.fail("Delete", full, err)
	}
	_, err = b.c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.name), Key: aws.String(full)})
	if err != nil {
		err = b.fail("Delete", full, err)
		if errors.Is(err, ErrNotExist) && !errors.Is(err, ErrBucketNotExist) {
			return nil
		}
		return err
	}
	return nil
}

// DeleteIfMatch removes the object at key only while its ETag is etag (as
// ObjectInfo.ETag gives it, with or without quotes), so that an object
// rewritten since etag was read is not lost: the delete then fails with
// an error matching ErrPreconditionFailed and the object stays. An object
// that is already gone counts as deleted; a missing bucket is an error,
// and so is an empty etag (ErrInvalid, before any request).
//
// The store enforces the condition where it honours If-Match on
// DeleteObject (StoreProfile.ConditionalDelete). Elsewhere s3kit checks
// the ETag with a listing of the key just before the delete, which
// narrows the window in which a write is lost to the time between the
// two requests but cannot close it. A rewrite with the same bytes may
// keep the ETag (a single-part upload does), and is then deleted.
func (b *Bucket) DeleteIfMatch(ctx context.Context, key, etag string) error {
	full, err := b.key(key)
	if err == nil && strings.Trim(etag, `"`) == "" {
		err = invalidf("DeleteIfMatch needs the ETag the object must have; Delete deletes unconditionally")
	}
	if err != nil {
		return b.fail("DeleteIfMatch", full, err)
	}
	if !strings.HasPrefix(etag, `"`) {
		etag = `"` + etag + `"`
	}
	return b.deleteIfMatch(ctx, "DeleteIfMatch", full, etag)
}

// SetTags replaces the tags of the object at key; an empty map removes
// them all.
func (b *Bucket) SetTags(ctx context.Context, key string, tags map[string]string) error {
	full, err := b.key(key)
	if err == nil {
		err = validTags(tags)
	}
	if err != nil {
		return b.fail("SetTags", full, err)
	}
	if len(tags) == 0 {
		_, err = b.c.s3.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(b.name), Key: aws.String(full)})
	} else {
		_, err = b.c.s3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
			Bucket:  aws.String(b.name),
			Key:     aws.String(full),
			Tagging: &types.Tagging{TagSet: tagSet(tags)},
		})
	}
	if err != nil {
		return b.headErr(ctx, "SetTags", full, err)
	}
	return nil
}

// GetTags returns the tags of the object at key (an empty map if none).
func (b *Bucket) GetTags(ctx context.Context, key string) (map[string]string, error) {
	full, err := b.key(key)
	if err != nil {
		return nil, b.fail("GetTags", full, err)
	}
	out, err := b.c.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b.name), Key: aws.String(full)})
	if err != nil {
		return nil, b.headErr(ctx, "GetTags", full, err)
	}
	return tagMap(out.TagSet), nil
}

// SetMetadata replaces the user metadata of the object at key with meta
// (nil or empty removes it), in place, by copying the object onto itself.
// Content type, cache control, content disposition, encoding and language,
// storage class, encryption and tags are kept. The copy is guarded by the
// ETag read first: if the object changes in between, SetMetadata fails with
// ErrPreconditionFailed rather than undo that change. The object gets a new
// ETag, LastModified and (on versioned buckets) version; an object ACL is
// reset to the bucket's default, as on any copy.
//
// An object larger than MaxCopySize is copied as Copy copies it, in parts
// (its ETag then ends in -N); if that fails, its upload is aborted and the
// object is left as it was.
func (b *Bucket) SetMetadata(ctx context.Context, key string, meta map[string]string) error {
	return b.setMetadata(ctx, key, meta, MaxCopySize)
}

// setMetadata is SetMetadata with objects larger than threshold bytes
// copied in parts.
func (b *Bucket) setMetadata(ctx context.Context, key string, meta map[string]string, threshold int64) error {
	full, err := b.key(key)
	if err == nil {
		err = validMetadata(meta)
	}
	if err != nil {
		return b.fail("SetMetadata", full, err)
	}
	info, err := b.head(ctx, "SetMetadata", full, "")
	if err != nil {
		return err
	}
	if meta == nil {
		meta = map[string]string{}
	}
	var class types.StorageClass
	if info.StorageClass != "" && info.StorageClass != string(types.StorageClassStandard) {
		class = types.StorageClass(info.StorageClass)
	}
	if info.Size > threshold {
		// Each part is pinned to info.ETag, as the single copy is below.
		_, err := b.multipartCopy(ctx, "SetMetadata", full, info, b, full, &CopyOptions{
			ReplaceMetadata: true, Metadata: meta,
			StorageClass: string(class), SSE: info.SSE, SSEKMSKeyID: info.SSEKMSKeyID,
			Expires: info.Expires, WebsiteRedirectLocation: info.WebsiteRedirectLocation,
		})
		return err
	}
	in := &s3.CopyObjectInput{
		Bucket:             aws.String(b.name),
		Key:                aws.String(full),
		CopySource:         aws.String(copySource(b.name, full, "")),
		CopySourceIfMatch:  aws.String(info.ETag),
		MetadataDirective:  types.MetadataDirectiveReplace,
		Metadata:           metaHeaders(meta),
		ContentType:        optString(info.ContentType),
		CacheControl:       optString(info.CacheControl),
		ContentDisposition: optString(info.ContentDisposition),
		ContentEncoding:    optString(info.ContentEncoding),
		ContentLanguage:    optString(info.ContentLanguage),
		StorageClass:       class,
		SSEKMSKeyId:        optString(info.SSEKMSKeyID),
	}
	in.ServerSideEncryption = types.ServerSideEncryption(info.SSE)
	in.Expires, in.WebsiteRedirectLocation = optTime(info.Expires), optString(info.WebsiteRedirectLocation)
	b.ssec.apply(in)
	b.ssec.applySource(in)
	if _, err := b.c.s3.CopyObject(ctx, in); err != nil {
		return b.fail("SetMetadata", full, err)
	}
	return nil
}

// WaitExists waits until an object is at key, polling with back-off, for
// stores without read-after-write consistency or for objects another
// process is writing. It gives up after timeout (0: only ctx bounds it)
// with an error matching ErrNotExist and context.DeadlineExceeded. A
// missing bucket ends the wait with ErrBucketNotExist. Each poll is one
// HEAD; a HeadBucket is added at most once per 10 seconds (see Head).
func (b *Bucket) WaitExists(ctx context.Context, key string, timeout time.Duration) error {
	full, err := b.key(key)
	if err == nil && timeout < 0 {
		err = invalidf("timeout %v is negative", timeout)
	}
	if err != nil {
		return b.fail("WaitExists", full, err)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	for attempt := 1; ; attempt++ {
		_, err := b.head(ctx, "WaitExists", full, "")
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			break
		}
		if !errors.Is(err, ErrNotExist) || errors.Is(err, ErrBucketNotExist) {
			return err
		}
		t := time.NewTimer(backoffDelay(attempt, 50*time.Millisecond, time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	return &Error{Op: "WaitExists", Bucket: b.name, Key: full, Err: fmt.Errorf("%w (gave up waiting: %w)", ErrNotExist, context.Cause(ctx))}
}

// MakePublic gives the object at key the canned ACL "public-read", so that
// URL(key) serves it to anyone. Where object ACLs are off (Amazon S3
// buckets with ACLs disabled, the default since 2023; stores without ACLs,
// MinIO and versitygw among them) it changes nothing and fails with an
// error matching errors.ErrUnsupported that says so: make a prefix public
// with [Bucket.SetPublicRead] there, which uses the bucket policy.
func (b *Bucket) MakePublic(ctx context.Context, key string) error {
	full, err := b.key(key)
	if err != nil {
		return b.fail("MakePublic", full, err)
	}
	_, err = b.c.s3.PutObjectAcl(ctx, &s3.PutObjectAclInput{
		Bucket: aws.String(b.name), Key: aws.String(full), ACL: types.ObjectCannedACLPublicRead,
	})
	if err != nil {
		err = b.headErr(ctx, "MakePublic", full, err)
		if e := (*Error)(nil); errors.As(err, &e) && (e.Err == errors.ErrUnsupported || e.Code == "AccessControlListNotSupported") {
			e.Err = errNoObjectACLs
		}
		return err
	}
	return nil
}

// URL returns the plain, unsigned URL of the object at key: what a browser
// fetches if the object is public. It returns "" if the bucket name or key
// is invalid. It sends no request.
func (b *Bucket) URL(key string) string {
	full, err := b.key(key)
	if err != nil {
		return ""
	}
	ek := escapeKey(full)
	if b.c.endpoint == nil {
		if b.c.pathStyle || strings.Contains(b.name, ".") {
			// Dotted names break the wildcard TLS certificate of
			// virtual-hosted addressing.
			return "https://s3." + b.c.region + ".amazonaws.com/" + b.name + "/" + ek
		}
		return "https://" + b.name + ".s3." + b.c.region + ".amazonaws.com/" + ek
	}
	u := *b.c.endpoint
	if b.c.pathStyle {
		return u.Scheme + "://" + u.Host + u.EscapedPath() + "/" + b.name + "/" + ek
	}
	return u.Scheme + "://" + b.name + "." + u.Host + u.EscapedPath() + "/" + ek
}

// escapeKey percent-encodes a key for a URL path, keeping "/" and the
// characters RFC 3986 leaves unreserved; unlike url.PathEscape it also
// encodes "+", which some stores decode as a space.
func escapeKey(key string) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&15])
	}
	return sb.String()
}

// copySource is the x-amz-copy-source value of bucket/key (and version).
func copySource(bucket, key, version string) string {
	s := bucket + "/" + escapeKey(key)
	if version != "" {
		s += "?versionId=" + url.QueryEscape(version)
	}
	return s
}

func encodeTags(tags map[string]string) string {
	var sb strings.Builder
	for k, v := range tags {
		if sb.Len() > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(strings.ReplaceAll(escapeKey(k), "/", "%2F"))
		sb.WriteByte('=')
		sb.WriteString(strings.ReplaceAll(escapeKey(v), "/", "%2F"))
	}
	return sb.String()
}

func tagSet(tags map[string]string) []types.Tag {
	ts := make([]types.Tag, 0, len(tags))
	for k, v := range tags {
		ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return ts
}

func tagMap(ts []types.Tag) map[string]string {
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func checksums(crc32, crc32c, crc64, sha1, sha256 *string, typ types.ChecksumType) (map[string]string, string) {
	var m map[string]string
	for _, c := range []struct {
		name string
		v    *string
	}{{"CRC32", crc32}, {"CRC32C", crc32c}, {"CRC64NVME", crc64}, {"SHA1", sha1}, {"SHA256", sha256}} {
		if c.v != nil && *c.v != "" {
			if m == nil {
				m = make(map[string]string, 1)
			}
			m[c.name] = *c.v
		}
	}
	return m, string(typ)
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

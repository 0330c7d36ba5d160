package s3kit

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// CopyOptions are the options of Copy, CopyMany and Move. nil means a copy
// within the handle that keeps the source's metadata and tags.
type CopyOptions struct {
	// DestBucket copies into another bucket (of the same Client's store).
	// The destination key is then a full key of that bucket, not relative
	// to this handle's prefix.
	DestBucket string

	// ReplaceMetadata gives the copy Metadata and the content headers below
	// instead of the source's. Content headers left empty keep the
	// source's value (read with one HEAD), so replacing the metadata never
	// silently drops a Content-Type.
	ReplaceMetadata    bool
	Metadata           map[string]string
	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	// Expires and WebsiteRedirectLocation are replaced with the metadata
	// too; see PutOptions. A copy that keeps the source's metadata keeps
	// its Expires but not its WebsiteRedirectLocation, which S3 does not
	// copy; one with ReplaceMetadata keeps the source's where these are
	// empty.
	Expires                 time.Time
	WebsiteRedirectLocation string

	// Tags, if non-nil, replace the source's tags on the copy (an empty map
	// gives it none); nil keeps them.
	Tags map[string]string

	// ACL, StorageClass, SSE and SSEKMSKeyID apply to the copy as in
	// PutOptions. An ACL is never copied from the source.
	ACL          string
	StorageClass string
	SSE          string
	SSEKMSKeyID  string

	// SourceSSECustomerKey is the key of a source encrypted with a
	// customer key (SSE-C); nil means the handle's (WithSSECustomerKey).
	SourceSSECustomerKey *SSECustomerKey
	// SSECustomerKey encrypts the copy with this customer key, which may
	// differ from the source's; nil means the key of the handle the copy
	// is made through (none for a handle without one, which gives a copy
	// without SSE-C), unless SSE is set.
	SSECustomerKey *SSECustomerKey

	// IfMatch copies only while the source's ETag is this one, else fails
	// with ErrPreconditionFailed.
	IfMatch string

	// NoClobber makes the copy create-only: if an object exists at the
	// destination, the copy fails with an error matching ErrExist (not
	// ErrPreconditionFailed) and the destination is unchanged. s3kit
	// checks with a HEAD first, then sends the copy with If-None-Match: *,
	// on CopyObject and, for a multipart copy, on CompleteMultipartUpload.
	// Only a store that honours that header closes the race with an object
	// written at the destination between the HEAD and the copy; one that
	// ignores it replaces such an object. Of the stores s3kit is tested
	// with, versitygw and MinIO both ignore it on CopyObject and honour it
	// on CompleteMultipartUpload; Amazon S3 documents both.
	//
	// As with any conditional request over a network, if a store that
	// honours the header made the copy but its answer was lost, the retry
	// finds the destination taken and the copy is reported as ErrExist.
	NoClobber bool

	// MultipartThreshold is the source size above which the copy is a
	// parallel multipart copy (UploadPartCopy); 0 means MaxCopySize (5
	// GiB), the largest a single CopyObject takes, which also bounds a
	// larger threshold. Setting it sends a HEAD
	// first; at 0 a single copy is tried and the HEAD is sent only if the
	// store refuses the source as too large.
	MultipartThreshold int64
	// PartSize of a multipart copy; 0 means 256 MiB (raised to fit the
	// object in 10,000 parts). Concurrency of its parts; 0 means the
	// Client's.
	PartSize    int64
	Concurrency int

	// maxSingle stands in for MaxCopySize when set, so that tests reach
	// the multipart fallback without 5 GiB objects.
	maxSingle int64
	// ssecDecided: SSECustomerKey is the copy's key, nil meaning none
	// (see copyKey).
	ssecDecided bool
}

func (o *CopyOptions) validate() error {
	if o == nil {
		return nil
	}
	if o.DestBucket != "" {
		if err := validBucketName(o.DestBucket); err != nil {
			return err
		}
	}
	if !o.ReplaceMetadata && (o.Metadata != nil || o.ContentType != "" || o.CacheControl != "" ||
		o.ContentDisposition != "" || o.ContentEncoding != "" || o.ContentLanguage != "" ||
		!o.Expires.IsZero() || o.WebsiteRedirectLocation != "") {
		return invalidf("Metadata and content headers of a copy need ReplaceMetadata")
	}
	if o.Tags != nil {
		if err := validTags(o.Tags); err != nil {
			return err
		}
	}
	if o.MultipartThreshold < 0 || o.Concurrency < 0 || o.PartSize != 0 && (o.PartSize < MinPartSize || o.PartSize > MaxPartSize) {
		return invalidf("MultipartThreshold %d, PartSize %d or Concurrency %d out of range", o.MultipartThreshold, o.PartSize, o.Concurrency)
	}
	if err := validSSEC(o.SourceSSECustomerKey, "", ""); err != nil {
		return err
	}
	return (&PutOptions{
		Expires: o.Expires, WebsiteRedirectLocation: o.WebsiteRedirectLocation, SSECustomerKey: o.SSECustomerKey,
		ContentType: o.ContentType, CacheControl: o.CacheControl, ContentDisposition: o.ContentDisposition,
		ContentEncoding: o.ContentEncoding, ContentLanguage: o.ContentLanguage, Metadata: o.Metadata,
		ACL: o.ACL, StorageClass: o.StorageClass, SSE: o.SSE, SSEKMSKeyID: o.SSEKMSKeyID, IfMatch: o.IfMatch,
	}).validate()
}

// Copy copies the object at src to dst on the server, without the bytes
// passing through the client, and returns what the server reported of the
// copy. Both keys are relative to the handle unless opts.DestBucket is set
// (see CopyOptions). The destination is replaced if it exists, unless
// opts.NoClobber is set (see there).
//
// A source larger than MaxCopySize (5 GiB, or opts.MultipartThreshold)
// is copied as a parallel multipart copy, carrying the source's content
// headers, metadata and tags as a single copy does; if it fails, its
// upload is aborted and the destination is left as it was.
func (b *Bucket) Copy(ctx context.Context, src, dst string, opts *CopyOptions) (ObjectInfo, error) {
	return b.copy(ctx, "Copy", src, dst, opts)
}

func (b *Bucket) copy(ctx context.Context, op, src, dst string, opts *CopyOptions) (ObjectInfo, error) {
	srcFull, err := b.key(src)
	if err != nil {
		return ObjectInfo{}, b.fail(op, srcFull, err)
	}
	opts = b.copyOptions(opts)
	if err := opts.validate(); err != nil {
		return ObjectInfo{}, b.fail(op, srcFull, err)
	}
	if opts == nil {
		opts = &CopyOptions{}
	}
	if opts.SourceSSECustomerKey != nil {
		b = b.withSSEC(opts.SourceSSECustomerKey)
	}
	dstBucket := b
	if opts.DestBucket != "" {
		dstBucket = b.c.Bucket(opts.DestBucket)
	}
	dstBucket = dstBucket.withSSEC(opts.SSECustomerKey)
	dstFull, err := dstBucket.key(dst)
	if err != nil {
		return ObjectInfo{}, dstBucket.fail(op, dstFull, err)
	}
	if opts.NoClobber {
		if err := dstBucket.refuseExisting(ctx, op, dstFull); err != nil {
			return ObjectInfo{}, err
		}
	}
	single := cmp.Or(opts.maxSingle, MaxCopySize)
	var head *ObjectInfo
	if opts.MultipartThreshold > 0 || opts.ReplaceMetadata {
		h, err := b.headSource(ctx, op, srcFull, opts.IfMatch)
		if err != nil {
			return ObjectInfo{}, err
		}
		head = &h
		if h.Size > min(cmp.Or(opts.MultipartThreshold, single), single) {
			return b.multipartCopy(ctx, op, srcFull, h, dstBucket, dstFull, opts)
		}
	}
	in := &s3.CopyObjectInput{
		Bucket:            aws.String(dstBucket.name),
		Key:               aws.String(dstFull),
		CopySource:        aws.String(copySource(b.name, srcFull, "")),
		CopySourceIfMatch: optString(opts.IfMatch),
		ACL:               types.ObjectCannedACL(opts.ACL),
		StorageClass:      types.StorageClass(opts.StorageClass),
		SSEKMSKeyId:       optString(opts.SSEKMSKeyID),
	}
	in.ServerSideEncryption = types.ServerSideEncryption(opts.SSE)
	if opts.NoClobber {
		in.IfNoneMatch = aws.String("*")
	}
	dstBucket.ssec.apply(in)
	b.ssec.applySource(in)
	if opts.Tags != nil {
		in.TaggingDirective = types.TaggingDirectiveReplace
		in.Tagging = aws.String(encodeTags(opts.Tags))
	}
	if opts.ReplaceMetadata {
		in.MetadataDirective = types.MetadataDirectiveReplace
		h := opts.replaced(*head)
		in.Metadata, in.ContentType, in.CacheControl = h.Metadata, optString(h.ContentType), optString(h.CacheControl)
		in.ContentDisposition, in.ContentEncoding = optString(h.ContentDisposition), optString(h.ContentEncoding)
		in.ContentLanguage = optString(h.ContentLanguage)
		in.Expires, in.WebsiteRedirectLocation = optTime(h.Expires), optString(h.WebsiteRedirectLocation)
		// Take the headers and the bytes from the same version.
		in.CopySourceIfMatch = aws.String(head.ETag)
	}
	out, err := b.c.s3.CopyObject(ctx, in)
	if err != nil {
		err = wrapErr(op, dstBucket.name, dstFull, err)
		if head == nil && errors.Is(err, ErrInvalid) {
			// Perhaps too large for one copy: look, and copy in parts,
			// pinned to the caller's IfMatch as the single copy was.
			if h, herr := b.head(ctx, op, srcFull, ""); herr == nil && h.Size > single {
				if opts.IfMatch != "" && opts.IfMatch != h.ETag {
					return ObjectInfo{}, b.fail(op, srcFull, ErrPreconditionFailed)
				}
				return b.multipartCopy(ctx, op, srcFull, h, dstBucket, dstFull, opts)
			}
		}
		var e *Error
		if errors.As(err, &e) && e.Err == ErrPreconditionFailed && opts.NoClobber && e.Code != "ConditionalRequestConflict" {
			// The condition on the source or the one on the destination:
			// a destination that exists now tells.
			if rerr := dstBucket.refuseExisting(ctx, op, dstFull); errors.Is(rerr, ErrExist) {
				return ObjectInfo{}, rerr
			}
		}
		if errors.As(err, &e) && (e.Err == ErrNotExist || e.Err == ErrPreconditionFailed) {
			// Only the source can be missing or changed.
			e.Bucket, e.Key = b.name, srcFull
		}
		return ObjectInfo{}, err
	}
	info := ObjectInfo{Key: dstBucket.rel(dstFull), VersionID: aws.ToString(out.VersionId)}
	if r := out.CopyObjectResult; r != nil {
		info.ETag = aws.ToString(r.ETag)
		info.LastModified = aws.ToTime(r.LastModified)
		info.Checksums, info.ChecksumType = checksums(r.ChecksumCRC32, r.ChecksumCRC32C, r.ChecksumCRC64NVME, r.ChecksumSHA1, r.ChecksumSHA256, r.ChecksumType)
	}
	return info, nil
}

// refuseExisting returns an error matching ErrExist if an object is at
// the full key, nil if none is, and the error of the HEAD otherwise.
func (b *Bucket) refuseExisting(ctx context.Context, op, full string) error {
	_, err := b.headOnly(ctx, op, full, "")
	switch {
	case err == nil:
		return b.fail(op, full, fmt.Errorf("%w: the destination exists and the copy is create-only (NoClobber)", ErrExist))
	case errors.Is(err, ErrNotExist) && !errors.Is(err, ErrBucketNotExist):
		return nil
	}
	return err
}

// headSource reads the source of a copy, which must have the ETag
// ifMatch if that is set (else ErrPreconditionFailed).
func (b *Bucket) headSource(ctx context.Context, op, srcFull, ifMatch string) (ObjectInfo, error) {
	h, err := b.head(ctx, op, srcFull, "")
	if err != nil {
		return ObjectInfo{}, err
	}
	if ifMatch != "" && ifMatch != h.ETag {
		return ObjectInfo{}, b.fail(op, srcFull, ErrPreconditionFailed)
	}
	return h, nil
}

// Move copies src to dst (see Copy) and then deletes src, both pinned to
// one version of src: the one whose ETag is opts.IfMatch if set, else the
// one a HEAD sees first. The copy is made only while src still has that
// ETag, and the delete asks the store to delete src only while it still
// has it. A change of src before the copy fails the copy with
// ErrPreconditionFailed, and nothing is deleted. With opts.NoClobber, a
// destination that exists fails the copy with ErrExist and src is not
// deleted; on a store that ignores the create-only header of a copy (see
// CopyOptions.NoClobber), an object written at dst in the instant between
// Move's check and its copy is replaced, but src is never lost.
//
// If src changes between the copy and the delete, a store that honours
// the condition of the delete refuses it: Move then fails with an error
// that matches ErrPreconditionFailed and says that src changed since it
// was copied, and the object exists under both keys, dst holding the
// copied version and src the new one. The race that remains: a rewrite of
// src with the same bytes keeps its ETag (for a single-part upload) and is
// deleted, its content safe at dst but not any new metadata or tags; and a
// store that ignores the condition deletes src whatever was written there
// after the copy, which is then lost. Amazon S3 documents the condition;
// of the stores s3kit is tested with, versitygw honours it and MinIO
// ignores it. If the delete fails otherwise, the object exists under both
// keys and the error says so.
func (b *Bucket) Move(ctx context.Context, src, dst string, opts *CopyOptions) error {
	srcFull, err := b.key(src)
	if err != nil {
		return b.fail("Move", srcFull, err)
	}
	dstName, dstFull := b.name, b.prefix+dst
	if opts != nil && opts.DestBucket != "" {
		dstName, dstFull = opts.DestBucket, dst
	}
	if dstName == b.name && dstFull == srcFull {
		// The delete would remove the only copy.
		return b.fail("Move", srcFull, invalidf("source and destination are the same object"))
	}
	o := CopyOptions{}
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return b.fail("Move", srcFull, err)
	}
	if o.IfMatch == "" {
		h, err := b.withSSEC(cmp.Or(o.SourceSSECustomerKey, b.ssec)).head(ctx, "Move", srcFull, "")
		if err != nil {
			return err
		}
		o.IfMatch = h.ETag
	}
	if _, err := b.copy(ctx, "Move", src, dst, &o); err != nil {
		return err
	}
	if err := b.deleteIfMatch(ctx, "Move", srcFull, o.IfMatch); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Op = "Move"
			if errors.Is(e.Err, ErrPreconditionFailed) {
				e.Err = fmt.Errorf("copied to %s/%s, but the source changed since it was copied and was not deleted (the object exists under both keys): %w", dstName, dstFull, e.Err)
			} else {
				e.Err = fmt.Errorf("copied to %s/%s, but deleting the source failed (it still exists): %w", dstName, dstFull, e.Err)
			}
		}
		return err
	}
	return nil
}

// deleteIfMatch deletes the object at the full key if its ETag is etag;
// an object that is already gone counts as deleted. A store that honours
// the condition refuses the delete of a changed object with
// ErrPreconditionFailed; one that ignores it deletes the object anyway.
func (b *Bucket) deleteIfMatch(ctx context.Context, op, full, etag string) error {
	if err := b.checkUnchanged(ctx, op, full, etag); err != nil {
		if errors.Is(err, ErrNotExist) && !errors.Is(err, ErrBucketNotExist) {
			return nil
		}
		return err
	}
	_, err := b.c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.name), Key: aws.String(full), IfMatch: optString(etag)})
	if err != nil {
		err = b.fail(op, full, err)
		if errors.Is(err, ErrNotExist) && !errors.Is(err, ErrBucketNotExist) {
			return nil
		}
		if etag != "" && errors.Is(err, ErrPreconditionFailed) && b.absent(ctx, op, full) {
			// SeaweedFS answers 412 for a key that is not there.
			return nil
		}
		return err
	}
	return nil
}

// absent reports whether the listing that checkETag reads shows no object
// at the full key: an ETag that no object has passes its check only where
// nothing is. A failed listing reports false.
func (b *Bucket) absent(ctx context.Context, op, full string) bool {
	return b.checkETag(ctx, op, full, "\x00 no object has this ETag") == nil
}

// multipartCopy copies the source described by head to dst with parallel
// UploadPartCopy requests, each pinned to the source's ETag.
func (b *Bucket) multipartCopy(ctx context.Context, op, srcFull string, head ObjectInfo, dst *Bucket, dstFull string, opts *CopyOptions) (ObjectInfo, error) {
	fail := func(err error) (ObjectInfo, error) { return ObjectInfo{}, wrapErr(op, dst.name, dstFull, err) }
	tags := opts.Tags
	if tags == nil {
		out, err := b.c.s3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b.name), Key: aws.String(srcFull)})
		if err != nil && !errors.Is(wrapErr(op, b.name, srcFull, err), errors.ErrUnsupported) {
			return ObjectInfo{}, wrapErr(op, b.name, srcFull, err)
		}
		if out != nil {
			tags = tagMap(out.TagSet)
		}
	}
	h := head
	h.Metadata = metaHeaders(head.Metadata) // read decoded, sent encoded
	if opts.ReplaceMetadata {
		h = opts.replaced(head)
	}
	in := &s3.CreateMultipartUploadInput{
		Bucket: aws.String(dst.name), Key: aws.String(dstFull),
		Metadata: h.Metadata, ContentType: optString(h.ContentType),
		CacheControl: optString(h.CacheControl), ContentDisposition: optString(h.ContentDisposition),
		ContentEncoding: optString(h.ContentEncoding), ContentLanguage: optString(h.ContentLanguage),
		ACL: types.ObjectCannedACL(opts.ACL), StorageClass: types.StorageClass(opts.StorageClass),
		ServerSideEncryption: types.ServerSideEncryption(opts.SSE), SSEKMSKeyId: optString(opts.SSEKMSKeyID),
		Expires: optTime(h.Expires), WebsiteRedirectLocation: optString(h.WebsiteRedirectLocation),
	}
	dst.ssec.apply(in)
	if len(tags) > 0 {
		in.Tagging = aws.String(encodeTags(tags))
	}
	created, err := b.c.createUpload(ctx, in)
	if err != nil {
		return fail(err)
	}
	id := aws.ToString(created.UploadId)
	ps := partSizeFor(head.Size, cmp.Or(opts.PartSize, 256<<20))
	n := int((head.Size + ps - 1) / ps)
	parts := make([]types.CompletedPart, n)
	errs := make([]error, n)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, cmp.Or(opts.Concurrency, b.c.concurrency))
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-pctx.Done():
			errs[i] = pctx.Err()
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			start := int64(i) * ps
			end := min(start+ps, head.Size) - 1
			in := &s3.UploadPartCopyInput{
				Bucket: aws.String(dst.name), Key: aws.String(dstFull), UploadId: aws.String(id),
				PartNumber:        aws.Int32(int32(i + 1)),
				CopySource:        aws.String(copySource(b.name, srcFull, "")),
				CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", start, end)),
				CopySourceIfMatch: aws.String(head.ETag),
			}
			dst.ssec.apply(in)
			b.ssec.applySource(in)
			out, err := b.c.s3.UploadPartCopy(pctx, in)
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			parts[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1))}
			if out.CopyPartResult != nil {
				parts[i].ETag = out.CopyPartResult.ETag
			}
		})
	}
	wg.Wait()
	info := ObjectInfo{Key: dst.rel(dstFull), Size: head.Size}
	err = errors.Join(errs...)
	if err == nil {
		var out *s3.CompleteMultipartUploadOutput
		in := &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(dst.name), Key: aws.String(dstFull), UploadId: aws.String(id),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		}
		if opts.NoClobber {
			in.IfNoneMatch = aws.String("*")
		}
		dst.ssec.apply(in)
		out, err = b.c.s3.CompleteMultipartUpload(ctx, in)
		if err == nil {
			info.ETag, info.VersionID = aws.ToString(out.ETag), aws.ToString(out.VersionId)
			return info, nil
		}
		if e := (*Error)(nil); opts.NoClobber && errors.As(wrapErr(op, dst.name, dstFull, err), &e) && e.Err == ErrPreconditionFailed && e.Code != "ConditionalRequestConflict" {
			// The parts are pinned to the source on their own requests:
			// this condition is the destination's.
			err = fmt.Errorf("%w: the destination was written during the copy, which is create-only (NoClobber)", ErrExist)
		}
		if e := (*Error)(nil); errors.As(wrapErr(op, dst.name, dstFull, err), &e) && e.Code == "NoSuchUpload" {
			// The SDK retries a Complete whose answer was lost; if the
			// lost attempt had completed the upload, the retry finds it
			// gone.
			return dst.completedEarlier(ctx, op, dstFull, info, parts, e)
		}
	}
	for _, e := range errs {
		if e != nil && !errors.Is(e, context.Canceled) {
			err = e // the cause, not the cancellations it caused
			break
		}
	}
	actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer acancel()
	if aerr := abortUpload(actx, dst, dstFull, id, true); aerr != nil && b.c.log != nil {
		b.c.log.Warn("s3kit: aborting multipart copy failed; its parts stay until a lifecycle rule removes them",
			"bucket", dst.name, "key", dstFull, "error", aerr)
	}
	return fail(err)
}

// errUploadVanished is the cause of a multipart copy whose upload was gone
// when it was completed, and whose key does not hold its result.
var errUploadVanished = errors.New("the multipart upload vanished before it was completed, and the object at the key is not its result " +
	"(another client aborted the upload, or completed it and the object was replaced since)")

// completedEarlier decides the outcome of a multipart copy whose Complete
// answered NoSuchUpload (noUpload). It succeeds, with info completed from
// a HEAD, if the object at full is the one the parts make; else it fails
// with errUploadVanished, which does not match ErrNotExist: the source
// exists, and the copy may be retried.
//
// The evidence is the ETag. S3 gives a completed multipart upload the ETag
// "M-N", where M is the MD5 of the concatenated binary MD5s of its N
// parts, and each part's ETag (returned by UploadPartCopy) is the MD5 of
// its bytes. An object with that ETag and the source's size is thus made
// of parts with the same contents in the same order, which is the copy
// whoever completed it. Stores (or encryption modes, such as SSE-KMS) whose
// part ETags are not MD5s give no evidence, and the copy is reported as
// vanished rather than guessed to have succeeded; so is a copy encrypted
// with a customer key (SSE-C), whose ETags are not MD5s of the content.
func (b *Bucket) completedEarlier(ctx context.Context, op, full string, info ObjectInfo, parts []types.CompletedPart, noUpload *Error) (ObjectInfo, error) {
	vanished := *noUpload
	vanished.Op, vanished.Err = op, errUploadVanished
	want := multipartETag(parts)
	if want == "" || b.ssec != nil {
		return ObjectInfo{}, &vanished
	}
	h, err := b.headOnly(ctx, op, full, "")
	if err != nil {
		if errors.Is(err, ErrNotExist) {
			return ObjectInfo{}, &vanished
		}
		return ObjectInfo{}, err
	}
	if h.Size != info.Size || strings.ToLower(strings.Trim(h.ETag, `"`)) != want {
		return ObjectInfo{}, &vanished
	}
	info.ETag, info.VersionID = h.ETag, h.VersionID
	return info, nil
}

// multipartETag returns the ETag, without quotes, that S3 gives the
// completion of parts, or "" if a part's ETag is not an MD5.
func multipartETag(parts []types.CompletedPart) string {
	h := md5.New()
	for _, p := range parts {
		m, err := hex.DecodeString(etagMD5(aws.ToString(p.ETag)))
		if err != nil || len(m) != md5.Size {
			return ""
		}
		h.Write(m)
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(parts))
}

// replaced returns the metadata and content headers a copy with
// ReplaceMetadata gives the object: the options' where set, else the
// source's, so that replacing the metadata never drops a Content-Type.
func (o *CopyOptions) replaced(src ObjectInfo) ObjectInfo {
	h := ObjectInfo{
		Metadata:           metaHeaders(o.Metadata),
		ContentType:        cmp.Or(o.ContentType, src.ContentType),
		CacheControl:       cmp.Or(o.CacheControl, src.CacheControl),
		ContentDisposition: cmp.Or(o.ContentDisposition, src.ContentDisposition),
		ContentEncoding:    cmp.Or(o.ContentEncoding, src.ContentEncoding),
		ContentLanguage:    cmp.Or(o.ContentLanguage, src.ContentLanguage),

		WebsiteRedirectLocation: cmp.Or(o.WebsiteRedirectLocation, src.WebsiteRedirectLocation),
		Expires:                 o.Expires,
	}
	if h.Expires.IsZero() {
		h.Expires = src.Expires
	}
	if h.Metadata == nil {
		h.Metadata = map[string]string{}
	}
	return h
}

package s3kit

import (
	"cmp"
	"context"
	"errors"
	"fmt"

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

	// Tags, if non-nil, replace the source's tags on the copy (an empty map
	// gives it none); nil keeps them.
	Tags map[string]string

	// ACL, StorageClass, SSE and SSEKMSKeyID apply to the copy as in
	// PutOptions. An ACL is never copied from the source.
	ACL          string
	StorageClass string
	SSE          string
	SSEKMSKeyID  string

	// IfMatch copies only while the source's ETag is this one, else fails
	// with ErrPreconditionFailed.
	IfMatch string
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
		o.ContentDisposition != "" || o.ContentEncoding != "" || o.ContentLanguage != "") {
		return invalidf("Metadata and content headers of a copy need ReplaceMetadata")
	}
	if o.Tags != nil {
		if err := validTags(o.Tags); err != nil {
			return err
		}
	}
	return (&PutOptions{
		ContentType: o.ContentType, CacheControl: o.CacheControl, ContentDisposition: o.ContentDisposition,
		ContentEncoding: o.ContentEncoding, ContentLanguage: o.ContentLanguage, Metadata: o.Metadata,
		ACL: o.ACL, StorageClass: o.StorageClass, SSE: o.SSE, SSEKMSKeyID: o.SSEKMSKeyID, IfMatch: o.IfMatch,
	}).validate()
}

// Copy copies the object at src to dst on the server, without the bytes
// passing through the client, and returns what the server reported of the
// copy. Both keys are relative to the handle unless opts.DestBucket is set
// (see CopyOptions). The destination is replaced if it exists.
//
// Sources larger than MaxCopySize (5 GiB) need a multipart copy, which
// this version of s3kit does not do yet: the store refuses them.
func (b *Bucket) Copy(ctx context.Context, src, dst string, opts *CopyOptions) (ObjectInfo, error) {
	return b.copy(ctx, "Copy", src, dst, opts)
}

func (b *Bucket) copy(ctx context.Context, op, src, dst string, opts *CopyOptions) (ObjectInfo, error) {
	srcFull, err := b.key(src)
	if err != nil {
		return ObjectInfo{}, b.fail(op, srcFull, err)
	}
	if err := opts.validate(); err != nil {
		return ObjectInfo{}, b.fail(op, srcFull, err)
	}
	if opts == nil {
		opts = &CopyOptions{}
	}
	dstBucket := b
	if opts.DestBucket != "" {
		dstBucket = b.c.Bucket(opts.DestBucket)
	}
	dstFull, err := dstBucket.key(dst)
	if err != nil {
		return ObjectInfo{}, dstBucket.fail(op, dstFull, err)
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
	if opts.Tags != nil {
		in.TaggingDirective = types.TaggingDirectiveReplace
		in.Tagging = aws.String(encodeTags(opts.Tags))
	}
	if opts.ReplaceMetadata {
		head, err := b.head(ctx, op, srcFull, "")
		if err != nil {
			return ObjectInfo{}, err
		}
		in.MetadataDirective = types.MetadataDirectiveReplace
		in.Metadata = opts.Metadata
		if in.Metadata == nil {
			in.Metadata = map[string]string{}
		}
		in.ContentType = optString(cmp.Or(opts.ContentType, head.ContentType))
		in.CacheControl = optString(cmp.Or(opts.CacheControl, head.CacheControl))
		in.ContentDisposition = optString(cmp.Or(opts.ContentDisposition, head.ContentDisposition))
		in.ContentEncoding = optString(cmp.Or(opts.ContentEncoding, head.ContentEncoding))
		in.ContentLanguage = optString(cmp.Or(opts.ContentLanguage, head.ContentLanguage))
		if opts.IfMatch != "" && opts.IfMatch != head.ETag {
			return ObjectInfo{}, b.fail(op, srcFull, ErrPreconditionFailed)
		}
		// Take the headers and the bytes from the same version.
		in.CopySourceIfMatch = aws.String(head.ETag)
	}
	out, err := b.c.s3.CopyObject(ctx, in)
	if err != nil {
		err = wrapErr(op, dstBucket.name, dstFull, err)
		var e *Error
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

// Move copies src to dst (see Copy) and then deletes src. If the delete
// fails, the object exists under both keys and the error says so; nothing
// is lost.
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
	if _, err := b.copy(ctx, "Move", src, dst, opts); err != nil {
		return err
	}
	if err := b.Delete(ctx, src); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Op = "Move"
			e.Err = fmt.Errorf("copied to %s/%s, but deleting the source failed (it still exists): %w", dstName, dstFull, e.Err)
		}
		return err
	}
	return nil
}

package s3kit

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// UploadInfo describes an unfinished multipart upload: one that was started
// and neither completed nor aborted. Its parts are stored, and billed, until
// it is aborted.
type UploadInfo struct {
	Key          string // relative to the handle
	UploadID     string
	Initiated    time.Time
	StorageClass string
}

// ListUploadsOptions are the options of ListUploads. nil means every
// unfinished upload under the handle.
type ListUploadsOptions struct {
	// Prefix keeps only the uploads of keys beginning with it (relative to
	// the handle).
	Prefix string
	// PageSize is how many uploads one request asks for (1 to 1000); 0
	// means the server's default of 1000.
	PageSize int
}

// ListUploads returns the unfinished multipart uploads of keys under the
// handle, ordered by key and, for one key, by when they were started,
// fetching pages as the loop asks for them. Programs whose uploads were
// killed before they could abort leave such uploads behind; AbortUpload
// removes one. A failure is yielded once, as the last pair; a store that
// does not implement the listing yields an error matching
// errors.ErrUnsupported. Breaking out of the loop stops the listing.
//
// The whole bucket's uploads are listed and those outside the prefix
// dropped, because not every store filters this listing by prefix; a bucket
// rarely holds many unfinished uploads.
func (b *Bucket) ListUploads(ctx context.Context, opts *ListUploadsOptions) iter.Seq2[UploadInfo, error] {
	return func(yield func(UploadInfo, error) bool) {
		opts := cmp.Or(opts, &ListUploadsOptions{})
		if b.err != nil {
			yield(UploadInfo{}, b.fail("ListUploads", b.prefix, b.err))
			return
		}
		if opts.PageSize < 0 || opts.PageSize > MaxListPage {
			yield(UploadInfo{}, b.fail("ListUploads", b.prefix, invalidf("PageSize %d is not between 1 and %d", opts.PageSize, MaxListPage)))
			return
		}
		prefix := b.prefix + opts.Prefix
		// No Prefix goes to the store: MinIO takes it for a whole key and
		// lists nothing under "dir/". The keys are filtered here instead.
		in := &s3.ListMultipartUploadsInput{Bucket: aws.String(b.name)}
		if opts.PageSize > 0 {
			in.MaxUploads = aws.Int32(int32(opts.PageSize))
		}
		for {
			out, err := b.c.s3.ListMultipartUploads(ctx, in)
			if err != nil {
				yield(UploadInfo{}, b.fail("ListUploads", prefix, err))
				return
			}
			for _, u := range out.Uploads {
				key := aws.ToString(u.Key)
				if !strings.HasPrefix(key, prefix) {
					continue
				}
				info := UploadInfo{
					Key:          b.rel(key),
					UploadID:     aws.ToString(u.UploadId),
					Initiated:    aws.ToTime(u.Initiated),
					StorageClass: string(u.StorageClass),
				}
				if !yield(info, nil) {
					return
				}
			}
			if !aws.ToBool(out.IsTruncated) {
				return
			}
			if aws.ToString(out.NextKeyMarker) == aws.ToString(in.KeyMarker) &&
				aws.ToString(out.NextUploadIdMarker) == aws.ToString(in.UploadIdMarker) {
				// A truncated page whose markers do not move on would list
				// the same page forever.
				yield(UploadInfo{}, b.fail("ListUploads", prefix, errors.New("the store answered a truncated page without moving its markers")))
				return
			}
			in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
		}
	}
}

// AbortUpload aborts the unfinished multipart upload uploadID of key
// (relative to the handle) and frees its parts. An upload that is already
// gone — aborted, or completed into an object — is not an error, so an
// abort can be retried; the object a completed upload made is left alone.
func (b *Bucket) AbortUpload(ctx context.Context, key, uploadID string) error {
	full, err := b.key(key)
	if err != nil {
		return b.fail("AbortUpload", full, err)
	}
	if uploadID == "" {
		return b.fail("AbortUpload", full, invalidf("empty upload ID"))
	}
	_, err = b.c.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(b.name), Key: aws.String(full), UploadId: aws.String(uploadID),
	})
	if err = b.fail("AbortUpload", full, err); errors.Is(err, errUploadGone) {
		return nil
	}
	return err
}

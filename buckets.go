package s3kit

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// BucketInfo describes a bucket of ListBuckets.
type BucketInfo struct {
	Name    string
	Created time.Time
	Region  string // if the store reports it
}

// CreateBucketOptions are the options of CreateBucket. nil means defaults.
type CreateBucketOptions struct {
	// Region to create the bucket in; empty means the Client's.
	Region string
	// ObjectLock enables S3 Object Lock (and versioning) on the bucket.
	ObjectLock bool
}

// CreateBucket creates a bucket. If it exists already, the error matches
// ErrExist.
func (c *Client) CreateBucket(ctx context.Context, name string, opts *CreateBucketOptions) error {
	if err := validBucketName(name); err != nil {
		return wrapErr("CreateBucket", name, "", err)
	}
	if opts == nil {
		opts = &CreateBucketOptions{}
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	region := cmp.Or(opts.Region, c.region)
	// us-east-1 is the one region S3 wants named by no constraint at all.
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(region),
		}
	}
	if opts.ObjectLock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	_, err := c.s3.CreateBucket(ctx, in, func(o *s3.Options) { o.Region = region })
	return wrapErr("CreateBucket", name, "", err)
}

// DeleteBucketOptions are the options of DeleteBucket. nil means defaults.
type DeleteBucketOptions struct {
	// Empty deletes everything in the bucket first: every object, every
	// version and delete marker where the store keeps versions, and every
	// unfinished multipart upload. Without it a bucket that is not empty
	// is not deleted and the error matches ErrBucketNotEmpty.
	Empty bool
}

// DeleteBucket deletes the bucket name. A missing bucket is
// ErrBucketNotExist.
func (c *Client) DeleteBucket(ctx context.Context, name string, opts *DeleteBucketOptions) error {
	if err := validBucketName(name); err != nil {
		return wrapErr("DeleteBucket", name, "", err)
	}
	if opts != nil && opts.Empty {
		if err := c.emptyBucket(ctx, name); err != nil {
			return err
		}
	}
	_, err := c.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	return c.bucketErr("DeleteBucket", name, err)
}

// emptyBucket deletes every unfinished upload, version and object of the
// bucket.
func (c *Client) emptyBucket(ctx context.Context, name string) error {
	b := c.Bucket(name)
	var uploads s3.ListMultipartUploadsInput
	uploads.Bucket = aws.String(name)
	for {
		out, err := c.s3.ListMultipartUploads(ctx, &uploads)
		if err != nil {
			if errors.Is(wrapErr("", name, "", err), errors.ErrUnsupported) {
				break
			}
			return wrapErr("DeleteBucket", name, "", err)
		}
		for _, u := range out.Uploads {
			_, err := c.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: aws.String(name), Key: u.Key, UploadId: u.UploadId,
			})
			if err = wrapErr("DeleteBucket", name, aws.ToString(u.Key), err); err != nil && !errors.Is(err, ErrNotExist) {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		uploads.KeyMarker, uploads.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}

	versions := s3.ListObjectVersionsInput{Bucket: aws.String(name)}
	for {
		out, err := c.s3.ListObjectVersions(ctx, &versions)
		if err != nil {
			if errors.Is(wrapErr("", name, "", err), errors.ErrUnsupported) {
				break // a store without versions: DeleteAll below does it
			}
			return wrapErr("DeleteBucket", name, "", err)
		}
		var ids []types.ObjectIdentifier
		for _, v := range out.Versions {
			ids = append(ids, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		for len(ids) > 0 {
			n := min(len(ids), MaxDeleteBatch)
			dout, err := c.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
				Bucket: aws.String(name),
				Delete: &types.Delete{Objects: ids[:n], Quiet: aws.Bool(true)},
			})
			if err != nil {
				return wrapErr("DeleteBucket", name, "", err)
			}
			if len(dout.Errors) > 0 {
				e := dout.Errors[0]
				return &Error{Op: "DeleteBucket", Bucket: name, Key: aws.ToString(e.Key), Code: aws.ToString(e.Code),
					Message: aws.ToString(e.Message), Err: cmp.Or(classify(0, aws.ToString(e.Code)), error(ErrBucketNotEmpty))}
			}
			ids = ids[n:]
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		versions.KeyMarker, versions.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	_, err := b.DeleteAll(ctx)
	return err
}

// bucketErr wraps the error of a bucket request; a bare 404 means the
// bucket is missing.
func (c *Client) bucketErr(op, name string, err error) error {
	err = wrapErr(op, name, "", err)
	var e *Error
	if errors.As(err, &e) && e.Err == ErrNotExist {
		e.Err = ErrBucketNotExist
	}
	return err
}

// BucketExists reports whether the bucket exists. A bucket that exists but
// that the credentials may not access is an error matching ErrPermission.
func (c *Client) BucketExists(ctx context.Context, name string) (bool, error) {
	if err := validBucketName(name); err != nil {
		return false, wrapErr("BucketExists", name, "", err)
	}
	_, err := c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	if err == nil {
		return true, nil
	}
	err = c.bucketErr("BucketExists", name, err)
	if errors.Is(err, ErrBucketNotExist) {
		return false, nil
	}
	return false, err
}

// ListBuckets returns the buckets the credentials own, sorted by name.
func (c *Client) ListBuckets(ctx context.Context) ([]BucketInfo, error) {
	var all []BucketInfo
	in := &s3.ListBucketsInput{}
	for {
		out, err := c.s3.ListBuckets(ctx, in)
		if err != nil {
			return nil, wrapErr("ListBuckets", "", "", err)
		}
		for _, b := range out.Buckets {
			all = append(all, BucketInfo{Name: aws.ToString(b.Name), Created: aws.ToTime(b.CreationDate), Region: aws.ToString(b.BucketRegion)})
		}
		if aws.ToString(out.ContinuationToken) == "" {
			break
		}
		in.ContinuationToken = out.ContinuationToken
	}
	slices.SortFunc(all, func(a, b BucketInfo) int { return strings.Compare(a.Name, b.Name) })
	return all, nil
}

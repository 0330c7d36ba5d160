package s3kit

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// PresignOptions are the options of PresignGet and PresignPut. nil means
// defaults.
type PresignOptions struct {
	// ContentType, for PresignPut, is signed into the URL: the upload must
	// send exactly this Content-Type header or the store refuses it.
	ContentType string
	// ResponseContentType and ResponseContentDisposition, for PresignGet,
	// override those headers of the response, e.g. "attachment;
	// filename=report.pdf" to make a browser download the object.
	ResponseContentType        string
	ResponseContentDisposition string
	// VersionID, for PresignGet, selects a version of the object.
	VersionID string
}

func (o *PresignOptions) validate() error {
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
	return nil
}

// PresignGet returns a URL that lets anyone who has it download the object
// at key with a plain HTTP GET until expires has passed (at most
// MaxPresignExpiry, 7 days). It sends no request and does not check that
// the object exists. The URL carries a signature: treat it as a secret.
// Temporary credentials end the URL's validity when they expire.
func (b *Bucket) PresignGet(ctx context.Context, key string, expires time.Duration, opts *PresignOptions) (string, error) {
	full, err := b.presignCheck(key, expires, opts)
	if err != nil {
		return "", b.fail("PresignGet", full, err)
	}
	if opts == nil {
		opts = &PresignOptions{}
	}
	req, err := b.c.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     aws.String(b.name),
		Key:                        aws.String(full),
		VersionId:                  optString(opts.VersionID),
		ResponseContentType:        optString(opts.ResponseContentType),
		ResponseContentDisposition: optString(opts.ResponseContentDisposition),
	}, s3.WithPresignExpires(expires))
	if err != nil {
		return "", b.fail("PresignGet", full, err)
	}
	return req.URL, nil
}

// PresignPut returns a URL that lets anyone who has it upload one object to
// key with a plain HTTP PUT of the body until expires has passed (at most
// MaxPresignExpiry, 7 days). It sends no request. The URL carries a
// signature: treat it as a secret.
func (b *Bucket) PresignPut(ctx context.Context, key string, expires time.Duration, opts *PresignOptions) (string, error) {
	full, err := b.presignCheck(key, expires, opts)
	if err != nil {
		return "", b.fail("PresignPut", full, err)
	}
	in := &s3.PutObjectInput{Bucket: aws.String(b.name), Key: aws.String(full)}
	if opts != nil {
		in.ContentType = optString(opts.ContentType)
	}
	req, err := b.c.presign.PresignPutObject(ctx, in, s3.WithPresignExpires(expires))
	if err != nil {
		return "", b.fail("PresignPut", full, err)
	}
	return req.URL, nil
}

func (b *Bucket) presignCheck(key string, expires time.Duration, opts *PresignOptions) (string, error) {
	full, err := b.key(key)
	if err != nil {
		return full, err
	}
	if err := validExpiry(expires); err != nil {
		return full, err
	}
	return full, opts.validate()
}

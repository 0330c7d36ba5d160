package s3kit

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// resumingBody is the body of a GET that survives a broken connection: when
// a read fails mid-body it asks again for the rest (Range: bytes=N-),
// pinned to the ETag of the first response with If-Match, so the bytes
// after the break come from the same object or not at all. The SDK's
// retries end when the response headers arrive; this covers the body.
type resumingBody struct {
	ctx         context.Context
	b           *Bucket
	op, full    string
	etag        string
	size        int64 // of the whole object
	off         int64 // bytes delivered so far
	body        io.ReadCloser
	resumes     int
	maxResumes  int
	base, limit time.Duration
	err         error // sticky
}

func (b *Bucket) newResumingBody(ctx context.Context, op, full string, out *s3.GetObjectOutput) *resumingBody {
	return &resumingBody{
		ctx: ctx, b: b, op: op, full: full,
		etag:       aws.ToString(out.ETag),
		size:       aws.ToInt64(out.ContentLength),
		body:       out.Body,
		maxResumes: b.c.maxAttempts - 1,
		base:       b.c.retryBase,
		limit:      b.c.retryMax,
	}
}

func (r *resumingBody) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	for {
		n, err := r.body.Read(p)
		r.off += int64(n)
		if err == nil || err == io.EOF {
			if err == io.EOF && r.off != r.size {
				err = io.ErrUnexpectedEOF
			} else {
				return n, err
			}
		}
		if rerr := r.resume(err); rerr != nil {
			r.err = rerr
			if n > 0 {
				return n, nil
			}
			return 0, rerr
		}
		if n > 0 {
			return n, nil
		}
	}
}

// resume replaces the broken body with one that starts at r.off, or
// returns why it cannot.
func (r *resumingBody) resume(cause error) error {
	r.body.Close()
	if r.ctx.Err() != nil {
		return r.b.fail(r.op, r.full, r.ctx.Err())
	}
	if r.etag == "" || r.resumes >= r.maxResumes {
		return r.b.fail(r.op, r.full, cause)
	}
	r.resumes++
	t := time.NewTimer(backoffDelay(r.resumes, r.base, r.limit))
	select {
	case <-r.ctx.Done():
		t.Stop()
		return r.b.fail(r.op, r.full, r.ctx.Err())
	case <-t.C:
	}
	out, err := r.b.c.s3.GetObject(r.ctx, &s3.GetObjectInput{
		Bucket:  aws.String(r.b.name),
		Key:     aws.String(r.full),
		Range:   aws.String("bytes=" + strconv.FormatInt(r.off, 10) + "-"),
		IfMatch: aws.String(r.etag),
	})
	if err != nil {
		err = r.b.fail(r.op, r.full, err)
		if errors.Is(err, ErrPreconditionFailed) {
			// The object was replaced mid-read: its bytes must not be
			// mixed with the old ones.
			var e *Error
			if errors.As(err, &e) {
				e.Message = "object replaced while it was being read"
			}
		}
		return err
	}
	if r.b.c.log != nil {
		r.b.c.log.Debug("s3kit: resumed download", "bucket", r.b.name, "key", r.full, "offset", r.off, "error", cause)
	}
	r.body = out.Body
	return nil
}

func (r *resumingBody) Close() error { return r.body.Close() }

package s3kit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// rangeBody reads the bytes [start, end) of an object version and
// survives a broken connection: when a read fails mid-body (a reset, an
// early end, or a body silent for Config.StallTimeout, which the
// transport turns into an error) it asks again for the rest
// (Range: bytes=N-), pinned to the ETag with If-Match, so the
// bytes after the break come from the same object or not at all. The SDK's
// retries end when the response headers arrive; this covers the body.
//
// When it reads a whole object whose store reported a checksum it can
// check (see crcCheck), it verifies it and returns ErrChecksum instead of
// io.EOF on a mismatch.
type rangeBody struct {
	ctx         context.Context
	b           *Bucket
	op, full    string
	etag        string
	version     string
	start, end  int64 // absolute; end < 0 until the first response says
	off         int64 // absolute offset of the next byte
	body        io.ReadCloser
	resumes     int   // resumes since the offset last advanced
	resumedAt   int64 // offset of the last resume
	maxResumes  int
	base, limit time.Duration
	err         error // sticky

	check    *crcCheck // nil: nothing to verify
	spans    []crcSpan
	verified string // the algorithm, once the whole object checked out
}

// openRange sends the first GET of [start, end) (end < 0: to the end of
// the object). etag, if known, pins the object. For the whole object with
// a composite checksum of several parts, it also asks where the parts are
// (see learnParts), so that the bytes can be verified as they pass.
func (b *Bucket) openRange(ctx context.Context, op, full, etag, version string, start, end int64) (*rangeBody, *s3.GetObjectOutput, error) {
	r := &rangeBody{
		ctx: ctx, b: b, op: op, full: full, etag: etag, version: version,
		start: start, end: end, off: start,
		maxResumes: b.c.maxAttempts - 1, base: b.c.retryBase, limit: b.c.retryMax,
	}
	out, err := r.get()
	if err != nil {
		return nil, nil, err
	}
	r.body = out.Body
	if r.etag == "" {
		r.etag = aws.ToString(out.ETag)
	}
	if r.end < 0 && out.ContentLength != nil {
		r.end = r.start + *out.ContentLength
	}
	if start == 0 && end < 0 {
		// The whole object (checkRange made sure of it): verify it if the
		// store said what it holds.
		k := checkOf(out.ChecksumCRC64NVME, out.ChecksumCRC32C, out.ChecksumCRC32, out.ChecksumType)
		if r.check, err = b.verifyWhole(ctx, k, op, full, r.etag, version, aws.ToInt64(out.ContentLength)); err != nil {
			out.Body.Close()
			return nil, nil, err
		}
	}
	return r, out, nil
}

// get sends a GET for [off, end).
func (r *rangeBody) get() (*s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{
		Bucket:    aws.String(r.b.name),
		Key:       aws.String(r.full),
		VersionId: optString(r.version),
		IfMatch:   optString(r.etag),
	}
	r.b.ssec.apply(in)
	if r.off > 0 || r.end >= 0 {
		rng := "bytes=" + strconv.FormatInt(r.off, 10) + "-"
		if r.end >= 0 {
			rng += strconv.FormatInt(r.end-1, 10)
		}
		in.Range = aws.String(rng)
	}
	// The SDK's retries of this GET (before its headers) and the resumes
	// (after them) share one budget of Config.MaxAttempts per offset: a
	// resume may make only the attempts left.
	left := r.maxResumes + 1 - r.resumes
	out, err := r.b.c.s3.GetObject(r.ctx, in, checksumMode, func(o *s3.Options) { o.RetryMaxAttempts = left })
	if err == nil {
		if ar, ok := retry.GetAttemptResults(out.ResultMetadata); ok && len(ar.Results) > 1 {
			r.resumes += len(ar.Results) - 1
		}
	}
	if err != nil {
		err = r.b.ssecErr(r.b.fail(r.op, r.full, err))
		var e *Error
		if r.etag != "" && errors.As(err, &e) && e.Err == ErrPreconditionFailed {
			// The object was replaced after it was opened: its bytes must
			// not be mixed with the old ones.
			e.Message = "object replaced while it was being read"
		}
		return nil, err
	}
	// A store or proxy that ignores Range or If-Match must not get its
	// bytes spliced in at the wrong offset, cut short, or from another
	// object.
	if err := r.checkRange(in.Range != nil, out); err != nil {
		out.Body.Close()
		return nil, r.b.fail(r.op, r.full, err)
	}
	if r.etag != "" && out.ETag != nil && *out.ETag != r.etag {
		out.Body.Close()
		return nil, &Error{Op: r.op, Bucket: r.b.name, Key: r.full, Err: ErrPreconditionFailed,
			Message: "object replaced while it was being read"}
	}
	return out, nil
}

// checkRange checks that a GET's answer is the bytes asked for: with a
// Range, a 206 whose Content-Range starts at r.off and ends at r.end (or
// earlier, at the end of the object), with as many bytes; without one, the
// whole object: a 200, or a Content-Range that covers all of it.
func (r *rangeBody) checkRange(ranged bool, out *s3.GetObjectOutput) error {
	status := 0
	if raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response); ok {
		status = raw.StatusCode
	}
	cr, hasCR := out.ContentRange, out.ContentRange != nil
	br, ok := parseByteRange(aws.ToString(cr))
	length := aws.ToInt64(out.ContentLength)
	switch {
	case !ranged && !hasCR:
		if status == http.StatusOK {
			return nil
		}
	case !ranged:
		if ok && br.first == 0 && br.total >= 0 && br.last == br.total-1 && length == br.total &&
			(status == http.StatusOK || status == http.StatusPartialContent) {
			return nil
		}
	default:
		if hasCR && ok && status == http.StatusPartialContent && br.first == r.off &&
			length == br.last-br.first+1 && (r.end < 0 || br.last <= r.end-1 && (br.last == r.end-1 || br.total == br.last+1)) {
			return nil
		}
	}
	asked := "the whole object"
	if ranged {
		asked = "bytes from " + strconv.FormatInt(r.off, 10)
		if r.end >= 0 {
			asked += " to " + strconv.FormatInt(r.end-1, 10)
		}
	}
	got := "no Content-Range"
	if hasCR {
		got = "Content-Range " + strconv.Quote(*cr)
	}
	return fmt.Errorf("asked for %s, the store answered %d with %s and %d bytes", asked, status, got, length)
}

// byteRange is a Content-Range "bytes FIRST-LAST/TOTAL"; total is -1 for
// "*".
type byteRange struct{ first, last, total int64 }

// parseByteRange reads a Content-Range strictly (RFC 9110, section 14.4),
// in the form S3 sends: decimal numbers without sign or leading zeros,
// FIRST ≤ LAST < TOTAL.
func parseByteRange(s string) (byteRange, bool) {
	num := func(s string) (int64, bool) {
		if s == "" || len(s) > 1 && s[0] == '0' || strings.Trim(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return byteRange{}, false
	}
	rng, total, ok1 := strings.Cut(rest, "/")
	first, last, ok2 := strings.Cut(rng, "-")
	var br byteRange
	var ok3, ok4, ok5 bool
	br.first, ok3 = num(first)
	br.last, ok4 = num(last)
	if total == "*" {
		br.total, ok5 = -1, true
	} else {
		br.total, ok5 = num(total)
	}
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || br.last < br.first || br.total >= 0 && br.last >= br.total {
		return byteRange{}, false
	}
	return br, true
}

func (r *rangeBody) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.end >= 0 {
		rest := r.end - r.off
		if rest == 0 {
			return 0, r.finish()
		}
		if int64(len(p)) > rest {
			p = p[:rest]
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := r.body.Read(p)
		r.off += int64(n)
		if r.check != nil {
			r.spans = r.check.add(r.spans, r.off-int64(n), p[:n])
		}
		switch {
		case err == nil || r.end >= 0 && r.off == r.end:
			// At the end of the range the next Read reports it.
			return n, nil
		case err == io.EOF && r.end < 0:
			// No length was given: the end of the body is the end.
			r.end = r.off
			if n > 0 {
				return n, nil
			}
			return 0, r.finish()
		case err == io.EOF:
			err = io.ErrUnexpectedEOF // the body ended early
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

// finish is called at the end of the range; it returns io.EOF, or
// ErrChecksum if a whole object's bytes do not match its checksum.
func (r *rangeBody) finish() error {
	if r.check != nil {
		if msg := r.check.mismatch(r.spans, r.off); msg != "" {
			r.err = &Error{Op: r.op, Bucket: r.b.name, Key: r.full, Err: fmt.Errorf("%w: %s", ErrChecksum, msg)}
			return r.err
		}
		r.verified = r.check.name()
		r.check = nil
	}
	r.err = io.EOF
	return io.EOF
}

// resume replaces the broken body with one that starts at r.off, or
// returns why it cannot.
func (r *rangeBody) resume(cause error) error {
	r.body.Close()
	if r.ctx.Err() != nil {
		return r.b.fail(r.op, r.full, r.ctx.Err())
	}
	if r.off > r.resumedAt {
		// Progress since the last break: a long download over a flaky link
		// gets the full budget for each break.
		r.resumes, r.resumedAt = 0, r.off
	}
	if r.etag == "" || r.end < 0 || r.resumes >= r.maxResumes {
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
	out, err := r.get()
	if err != nil {
		return err
	}
	if r.b.c.log != nil {
		r.b.c.log.Debug("s3kit: resumed download", "bucket", r.b.name, "key", r.full, "offset", r.off, "error", cause)
	}
	r.body = out.Body
	return nil
}

func (r *rangeBody) Close() error { return r.body.Close() }

// fullChecksum returns the checksummer and value to verify a whole object
// against, from what a response reported; nil if there is none it can
// check (no checksum, or a composite one that depends on part sizes).
func fullChecksum(crc64, crc32c, crc32 *string, typ types.ChecksumType) (*checksummer, string) {
	if typ == types.ChecksumTypeComposite {
		return nil, ""
	}
	for _, c := range []struct {
		cs *checksummer
		v  *string
	}{{crc64nvmeSum, crc64}, {crc32cSum, crc32c}, {crc32Sum, crc32}} {
		if v := aws.ToString(c.v); v != "" && !strings.Contains(v, "-") {
			return c.cs, v
		}
	}
	return nil, ""
}

// checksumMode asks the store for the object's checksums in the response
// headers. It sets the header itself, after the SDK has decided what to
// validate, so that the SDK does not validate (more slowly, and once more)
// what s3kit does.
var checksumMode = s3.WithAPIOptions(func(stack *middleware.Stack) error {
	return stack.Build.Add(middleware.BuildMiddlewareFunc("s3kit.ChecksumMode",
		func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				req.Header.Set("X-Amz-Checksum-Mode", "ENABLED")
			}
			return next.HandleBuild(ctx, in)
		}), middleware.After)
})

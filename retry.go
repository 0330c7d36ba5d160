package s3kit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// retryableCodes are S3 error codes worth another attempt beyond those the
// SDK already retries (5xx statuses, throttling codes such as SlowDown,
// RequestTimeout, connection errors). InternalError matters most: S3 sends
// it with status 200 in the body of a failed CopyObject or
// CompleteMultipartUpload, where no 5xx status gives it away.
var retryableCodes = map[string]struct{}{
	"InternalError":      {},
	"ServiceUnavailable": {},
	"SlowDown":           {},
	"RequestTimeout":     {},
	"OperationAborted":   {},
	// A conditional write raced another write to the same key; S3 asks
	// for a retry, which then meets the winner's object.
	"ConditionalRequestConflict": {},
}

// newRetryer builds the retry policy of a Client: the SDK's standard
// retryer with these changes:
//
//   - The back-off is exponential with full jitter between 0 and
//     min(maxDelay, baseDelay·2^(attempt-1)); the SDK's own starts at one
//     second, too slow for a local store and not configurable.
//   - The client-side retry token bucket is off (ratelimit.None). With it,
//     a burst of throttling across many parallel part uploads drains the
//     bucket and the remaining parts fail at once with "retry quota
//     exceeded" instead of backing off; S3 asks for back-off, and that is
//     what every part does.
//   - S3's InternalError and ServiceUnavailable codes are retried even when
//     they arrive with status 200.
//   - A stalled response (Config.StallTimeout) and a response body cut
//     short or damaged before it was decoded are retried; a redirect that
//     s3kit refused is not, nor a TLS handshake that failed on the
//     server's certificate (see isTLSError).
//
// A cancelled context is never retried, and the SDK's sleep between
// attempts returns as soon as the context is done.
func newRetryer(maxAttempts int, baseDelay, maxDelay time.Duration, log *slog.Logger) aws.RetryerV2 {
	std := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxDelay
		o.RateLimiter = ratelimit.None
		o.Backoff = jitterBackoff{base: baseDelay, max: maxDelay}
		// First, because the SDK takes every error of its HTTP client for
		// a broken connection, a refused redirect included, and a stall
		// within a response body comes wrapped as a deserialization error.
		o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			var (
				de  *smithy.DeserializationError
				syn *xml.SyntaxError
			)
			switch {
			case isRedirectError(err), isTLSError(err):
				return aws.FalseTernary
			case isStallError(err):
				return aws.TrueTernary
			case (errors.As(err, &de) || errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF)) &&
				!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
				// A response cut short or damaged on the way (a truncated
				// or reset XML body): the request may be sent again, as
				// after a broken connection. A Complete whose answer was
				// lost this way is reconciled by its callers; a retried
				// CreateMultipartUpload starts an upload as the first one
				// may have.
				return aws.TrueTernary
			}
			return aws.UnknownTernary
		})}, o.Retryables...)
		o.Retryables = append(o.Retryables, retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			var e interface{ ErrorCode() string }
			if errors.As(err, &e) {
				if _, ok := retryableCodes[e.ErrorCode()]; ok {
					return aws.TrueTernary
				}
			}
			return aws.UnknownTernary
		}))
	})
	return &loggingRetryer{RetryerV2: std, log: log}
}

// isTLSError reports whether err is a TLS handshake failure that another
// attempt cannot fix: a certificate the client does not trust, made for
// another name, or expired, or a server that does not speak TLS at all.
// The SDK takes it for a broken connection and would retry it.
func isTLSError(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		roots    x509.SystemRootsError
		record   tls.RecordHeaderError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &roots) || errors.As(err, &record) ||
		// net/http turns a RecordHeaderError that looks like HTTP into a
		// plain error with this text.
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// jitterBackoff is exponential back-off with full jitter ("Exponential
// Backoff And Jitter", AWS Architecture Blog, 2015).
type jitterBackoff struct{ base, max time.Duration }

func (j jitterBackoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	return backoffDelay(attempt, j.base, j.max), nil
}

// backoffDelay returns a random delay in [0, min(max, base·2^(attempt-1))]
// for the attempt-th retry (attempt ≥ 1), without overflow for any input.
func backoffDelay(attempt int, base, max time.Duration) time.Duration {
	if base <= 0 || max <= 0 {
		return 0
	}
	ceiling := min(base, max)
	for i := 1; i < attempt && ceiling < max; i++ {
		if ceiling > max/2 {
			ceiling = max
			break
		}
		ceiling *= 2
	}
	if ceiling == math.MaxInt64 {
		return time.Duration(rand.Int64N(int64(ceiling)))
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// loggingRetryer logs each retry at debug level. It logs the SDK's error
// text, which names the operation and status but never a credential or a
// signature.
type loggingRetryer struct {
	aws.RetryerV2
	log *slog.Logger
}

func (r *loggingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, derr := r.RetryerV2.RetryDelay(attempt, err)
	if r.log != nil && derr == nil {
		r.log.Debug("s3kit: retrying request", "attempt", attempt+1, "delay", d, "error", err)
	}
	return d, derr
}

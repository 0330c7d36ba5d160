package s3kit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

// backoffCeiling is the documented upper bound of backoffDelay,
// min(max, base·2^(attempt-1)), computed without overflow.
func backoffCeiling(attempt int, base, max time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if base <= 0 || max <= 0 {
		return 0
	}
	shift := attempt - 1
	if shift >= 63 || base > max>>shift {
		return max
	}
	return base << shift
}

// safeBackoffDelay calls backoffDelay, turning a panic into a value so
// that one bad case fails its subtest instead of the whole test binary.
func safeBackoffDelay(attempt int, base, max time.Duration) (d time.Duration, panicked any) {
	defer func() { panicked = recover() }()
	return backoffDelay(attempt, base, max), nil
}

func TestBackoffDelayBounds(t *testing.T) {
	tests := []struct {
		name      string
		base, max time.Duration
	}{
		{"client defaults", DefaultRetryBaseDelay, DefaultRetryMaxDelay},
		{"WaitExists", 50 * time.Millisecond, time.Second},
		{"base above max", 10 * time.Second, time.Second},
		{"base equals max", time.Second, time.Second},
		{"1ns base", time.Nanosecond, time.Millisecond},
		{"long delays", time.Hour, 24 * time.Hour},
		// The ceiling keeps doubling past 32 attempts while it stays
		// below max: 1µs·2^32 is only 72 minutes.
		{"tiny base, long max", time.Microsecond, 24 * time.Hour},
		// base·2^31 wraps around int64 to a small positive number (2^31ns):
		// the ceiling must still be max, not that remainder.
		{"base whose doubling overflows", 1<<33 + 1, time.Minute},
		// A max of the largest Duration ("no limit") must not overflow
		// the random draw once the ceiling reaches it.
		{"max duration", time.Second, math.MaxInt64},
	}
	const samples = 64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attempts := []int{math.MaxInt, 1 << 62, 1000}
			for a := 0; a <= 70; a++ {
				attempts = append(attempts, a)
			}
			for _, attempt := range attempts {
				ceiling := backoffCeiling(attempt, tt.base, tt.max)
				var top time.Duration
				for range samples {
					d, p := safeBackoffDelay(attempt, tt.base, tt.max)
					if p != nil {
						t.Fatalf("backoffDelay(%d, %v, %v) panicked: %v", attempt, tt.base, tt.max, p)
					}
					if d < 0 || d > ceiling {
						t.Fatalf("backoffDelay(%d, %v, %v) = %v, want within [0, %v]", attempt, tt.base, tt.max, d, ceiling)
					}
					top = max(top, d)
				}
				// Full jitter spreads delays over the whole range: with 64
				// uniform draws the largest is below half the ceiling with
				// probability 2^-64, so this fails only if the ceiling is
				// wrong.
				if top < ceiling/2 {
					t.Fatalf("backoffDelay(%d, %v, %v): largest of %d samples is %v, want near the ceiling %v", attempt, tt.base, tt.max, samples, top, ceiling)
				}
			}
		})
	}
}

func TestBackoffDelayJitter(t *testing.T) {
	// Identical delays would make parallel clients retry in lockstep.
	seen := make(map[time.Duration]bool)
	for range 200 {
		seen[backoffDelay(3, DefaultRetryBaseDelay, DefaultRetryMaxDelay)] = true
	}
	// 200 draws from 400,000,001 nanosecond values: any collision is rare.
	if len(seen) < 150 {
		t.Errorf("200 delays at attempt 3 took only %d distinct values", len(seen))
	}
}

func TestBackoffDelayZeroBase(t *testing.T) {
	for _, attempt := range []int{0, 1, 2, 10, 64, math.MaxInt} {
		t.Run(fmt.Sprint(attempt), func(t *testing.T) {
			for range 20 {
				if d := backoffDelay(attempt, 0, time.Second); d != 0 {
					t.Fatalf("backoffDelay(%d, 0, 1s) = %v, want 0", attempt, d)
				}
			}
		})
	}
}

func TestRetryerMaxAttempts(t *testing.T) {
	for _, n := range []int{1, 2, DefaultMaxAttempts, 10} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := newRetryer(n, time.Millisecond, time.Second, nil)
			if got := r.MaxAttempts(); got != n {
				t.Errorf("MaxAttempts() = %d, want %d", got, n)
			}
		})
	}
}

func TestRetryerRetryDelay(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := newRetryer(5, 100*time.Millisecond, time.Second, log)
	for attempt := 1; attempt <= 6; attempt++ {
		d, err := r.RetryDelay(attempt, sdkError("GetObject", 503, "SlowDown", "Please reduce your request rate."))
		if err != nil {
			t.Fatalf("RetryDelay(%d): %v", attempt, err)
		}
		if c := backoffCeiling(attempt, 100*time.Millisecond, time.Second); d < 0 || d > c {
			t.Errorf("RetryDelay(%d) = %v, want within [0, %v]", attempt, d, c)
		}
	}
	if !bytes.Contains(buf.Bytes(), []byte("s3kit: retrying request")) {
		t.Errorf("no debug record of the retry; log: %q", buf.String())
	}
	// A nil logger must not be called.
	if _, err := newRetryer(5, time.Millisecond, time.Second, nil).RetryDelay(1, errors.New("x")); err != nil {
		t.Errorf("RetryDelay with nil logger: %v", err)
	}
}

func TestRetryerIsErrorRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"503", sdkError("PutObject", 503, "", ""), true},
		{"500", sdkError("PutObject", 500, "", ""), true},
		{"502", sdkError("PutObject", 502, "", ""), true},
		{"SlowDown 503", sdkError("PutObject", 503, "SlowDown", "Please reduce your request rate."), true},
		// S3 reports a failed CopyObject or CompleteMultipartUpload as
		// InternalError in the body of a 200 response.
		{"InternalError with 200", sdkError("CopyObject", 200, "InternalError", "We encountered an internal error."), true},
		{"ServiceUnavailable with 200", sdkError("CompleteMultipartUpload", 200, "ServiceUnavailable", "busy"), true},
		{"RequestTimeout 400", sdkError("PutObject", 400, "RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period."), true},
		{"OperationAborted 409", sdkError("PutBucketPolicy", 409, "OperationAborted", "conflicting operation"), true},
		{"InvalidArgument 400", sdkError("PutObject", 400, "InvalidArgument", "bad"), false},
		{"AccessDenied 403", sdkError("GetObject", 403, "AccessDenied", "Access Denied"), false},
		{"NoSuchKey 404", sdkError("GetObject", 404, "NoSuchKey", "The specified key does not exist."), false},
		{"PreconditionFailed 412", sdkError("PutObject", 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"), false},
		{"context.Canceled from the SDK", &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject",
			Err: &smithy.CanceledError{Err: context.Canceled}}, false},
		{"plain context.Canceled", context.Canceled, false},
		// A 200 whose XML body was cut short or damaged on the way.
		{"truncated body", &smithy.OperationError{ServiceID: "S3", OperationName: "CopyObject",
			Err: &smithy.DeserializationError{Err: io.ErrUnexpectedEOF}}, true},
		{"damaged body", &smithy.OperationError{ServiceID: "S3", OperationName: "ListObjectsV2",
			Err: &smithy.DeserializationError{Err: errors.New("XML syntax error on line 1")}}, true},
		{"body read cancelled", &smithy.OperationError{ServiceID: "S3", OperationName: "ListObjectsV2",
			Err: &smithy.DeserializationError{Err: context.Canceled}}, false},
	}
	r := newRetryer(DefaultMaxAttempts, time.Millisecond, time.Second, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.IsErrorRetryable(tt.err); got != tt.want {
				t.Errorf("IsErrorRetryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

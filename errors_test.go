package s3kit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const testRequestID = "req-1"

// sdkError builds the error chain the SDK returns for an S3 error
// response: an OperationError around an awshttp.ResponseError (status and
// request ID) around the API error decoded from the body. An empty code
// stands for a response without an error body (a HEAD, say), where the
// SDK has no API error to give.
func sdkError(op string, status int, code, msg string) error {
	var inner error = errors.New("response body was empty")
	if code != "" {
		inner = &smithy.GenericAPIError{Code: code, Message: msg}
	}
	return &smithy.OperationError{
		ServiceID:     "S3",
		OperationName: op,
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      inner,
			},
			RequestID: testRequestID,
		},
	}
}

func TestWrapErrClassify(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		want   error   // e.Err, compared with ==
		is     []error // errors.Is must hold for each
		isNot  []error // and fail for each
	}{
		{"NoSuchKey", 404, "NoSuchKey", ErrNotExist,
			[]error{ErrNotExist, fs.ErrNotExist}, []error{ErrBucketNotExist, ErrPermission}},
		{"NoSuchVersion", 404, "NoSuchVersion", ErrNotExist,
			[]error{ErrNotExist, fs.ErrNotExist}, []error{ErrBucketNotExist}},
		{"NotFound", 404, "NotFound", ErrNotExist,
			[]error{ErrNotExist, fs.ErrNotExist}, nil},
		// A missing bucket is fs.ErrNotExist but not ErrNotExist, so that
		// callers can tell it from a missing key.
		{"NoSuchBucket", 404, "NoSuchBucket", ErrBucketNotExist,
			[]error{ErrBucketNotExist, fs.ErrNotExist}, []error{ErrNotExist}},
		{"AccessDenied", 403, "AccessDenied", ErrPermission,
			[]error{ErrPermission, fs.ErrPermission}, []error{fs.ErrNotExist}},
		{"InvalidAccessKeyId", 403, "InvalidAccessKeyId", ErrPermission,
			[]error{ErrPermission, fs.ErrPermission}, nil},
		{"SignatureDoesNotMatch", 403, "SignatureDoesNotMatch", ErrPermission,
			[]error{ErrPermission, fs.ErrPermission}, nil},
		{"ExpiredToken", 400, "ExpiredToken", ErrPermission,
			[]error{ErrPermission, fs.ErrPermission}, []error{ErrInvalid}},
		{"PreconditionFailed", 412, "PreconditionFailed", ErrPreconditionFailed,
			[]error{ErrPreconditionFailed}, []error{ErrExist, fs.ErrExist}},
		{"ConditionalRequestConflict", 409, "ConditionalRequestConflict", ErrPreconditionFailed,
			[]error{ErrPreconditionFailed}, nil},
		{"BucketAlreadyOwnedByYou", 409, "BucketAlreadyOwnedByYou", ErrExist,
			[]error{ErrExist, fs.ErrExist}, []error{ErrPreconditionFailed}},
		{"BucketAlreadyExists", 409, "BucketAlreadyExists", ErrExist,
			[]error{ErrExist, fs.ErrExist}, nil},
		{"BucketNotEmpty", 409, "BucketNotEmpty", ErrBucketNotEmpty,
			[]error{ErrBucketNotEmpty}, []error{ErrExist}},
		{"NotImplemented", 501, "NotImplemented", errors.ErrUnsupported,
			[]error{errors.ErrUnsupported}, nil},
		{"InvalidArgument", 400, "InvalidArgument", ErrInvalid,
			[]error{ErrInvalid, fs.ErrInvalid}, nil},
		{"InvalidRange", 416, "InvalidRange", ErrInvalid,
			[]error{ErrInvalid, fs.ErrInvalid}, nil},
		{"BadDigest", 400, "BadDigest", ErrChecksum,
			[]error{ErrChecksum}, []error{ErrInvalid}},
		// Without a code (HEAD responses have no body) the status decides.
		{"status 404 only", 404, "", ErrNotExist, []error{ErrNotExist, fs.ErrNotExist}, nil},
		{"status 403 only", 403, "", ErrPermission, []error{ErrPermission, fs.ErrPermission}, nil},
		{"status 401 only", 401, "", ErrPermission, []error{ErrPermission}, nil},
		{"status 412 only", 412, "", ErrPreconditionFailed, []error{ErrPreconditionFailed}, nil},
		{"status 501 only", 501, "", errors.ErrUnsupported, []error{errors.ErrUnsupported}, nil},
		{"status 416 only", 416, "", ErrInvalid, []error{ErrInvalid}, nil},
		// A code s3kit does not know falls back to the status.
		{"unknown code with 404", 404, "NoSuchLifecycleConfiguration", ErrNotExist, []error{ErrNotExist}, nil},
		// A vanished multipart upload says nothing of the object: it may
		// be in place (a Complete whose answer was lost).
		{"no such upload", 404, "NoSuchUpload", errUploadGone, []error{errUploadGone}, []error{ErrNotExist, fs.ErrNotExist}},
		// A known code wins over a status that says otherwise.
		{"code wins over status", 400, "NoSuchKey", ErrNotExist, []error{ErrNotExist}, []error{ErrInvalid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const msg = "the server's explanation"
			err := wrapErr("Get", "bkt", "dir/k", sdkError("GetObject", tt.status, tt.code, msg))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("wrapErr returned %T, want *Error", err)
			}
			if e.Err != tt.want {
				t.Errorf("Err = %v, want %v", e.Err, tt.want)
			}
			if e.Op != "Get" || e.Bucket != "bkt" || e.Key != "dir/k" {
				t.Errorf("Op, Bucket, Key = %q, %q, %q", e.Op, e.Bucket, e.Key)
			}
			if e.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", e.StatusCode, tt.status)
			}
			if e.Code != tt.code {
				t.Errorf("Code = %q, want %q", e.Code, tt.code)
			}
			if e.RequestID != testRequestID {
				t.Errorf("RequestID = %q, want %q", e.RequestID, testRequestID)
			}
			wantMsg := msg
			if tt.code == "" {
				wantMsg = ""
			}
			if e.Message != wantMsg {
				t.Errorf("Message = %q, want %q", e.Message, wantMsg)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = false, want true", target)
				}
			}
			for _, target := range tt.isNot {
				if errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = true, want false", target)
				}
			}
		})
	}
}

// TestWrapErrUnknown: an error s3kit cannot classify stays the SDK's, so
// callers can still reach the SDK's types through the *Error.
func TestWrapErrUnknown(t *testing.T) {
	orig := sdkError("GetObject", 500, "InternalError", "We encountered an internal error.")
	err := wrapErr("Get", "bkt", "k", orig)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("wrapErr returned %T, want *Error", err)
	}
	if e.Err != orig {
		t.Errorf("Err = %v, want the original error", e.Err)
	}
	if e.StatusCode != 500 || e.Code != "InternalError" || e.RequestID != testRequestID {
		t.Errorf("StatusCode, Code, RequestID = %d, %q, %q", e.StatusCode, e.Code, e.RequestID)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InternalError" {
		t.Errorf("errors.As(err, smithy.APIError) = %v, %v; want the InternalError", api, err)
	}
	var op *smithy.OperationError
	if !errors.As(err, &op) || op.OperationName != "GetObject" {
		t.Errorf("errors.As(err, *smithy.OperationError) failed")
	}
	for _, s := range []error{ErrNotExist, ErrPermission, ErrInvalid, ErrPreconditionFailed, ErrExist, errors.ErrUnsupported} {
		if errors.Is(err, s) {
			t.Errorf("errors.Is(err, %v) = true for an unclassified error", s)
		}
	}
}

func TestWrapErrNonSDK(t *testing.T) {
	t.Run("nil", func(t *testing.T) {
		if err := wrapErr("Get", "b", "k", nil); err != nil {
			t.Errorf("wrapErr(nil) = %v, want nil", err)
		}
	})
	t.Run("*Error unchanged", func(t *testing.T) {
		in := &Error{Op: "Put", Bucket: "b", Key: "k", Err: ErrExist}
		if got := wrapErr("Get", "other", "other", in); got != error(in) {
			t.Errorf("wrapErr(*Error) = %#v, want the same *Error", got)
		}
	})
	t.Run("wrapped *Error unchanged", func(t *testing.T) {
		in := fmt.Errorf("context: %w", &Error{Op: "Put", Err: ErrExist})
		if got := wrapErr("Get", "b", "k", in); got != in {
			t.Errorf("wrapErr = %v, want the same error", got)
		}
	})
	t.Run("plain error", func(t *testing.T) {
		orig := errors.New("boom")
		err := wrapErr("Get", "b", "k", orig)
		var e *Error
		if !errors.As(err, &e) || e.Err != orig || e.StatusCode != 0 || e.Code != "" {
			t.Errorf("wrapErr(plain) = %#v", err)
		}
	})
	t.Run("invalidf keeps ErrInvalid", func(t *testing.T) {
		err := wrapErr("Put", "b", "k", invalidf("bad %s", "thing"))
		wantInvalid(t, err, "bad thing")
	})
}

func TestWrapErrContext(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"canceled by the SDK", &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject",
			Err: &smithy.CanceledError{Err: context.Canceled}}, context.Canceled},
		{"deadline by the SDK", &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject",
			Err: &smithy.CanceledError{Err: context.DeadlineExceeded}}, context.DeadlineExceeded},
		{"canceled in net/http", &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject",
			Err: &url.Error{Op: "Put", URL: "http://127.0.0.1/b/k", Err: context.Canceled}}, context.Canceled},
		{"deadline while reading a body", fmt.Errorf("read: %w", context.DeadlineExceeded), context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrapErr("Get", "b", "k", tt.err)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("wrapErr returned %T, want *Error", err)
			}
			if e.Err != tt.want {
				t.Errorf("Err = %v, want %v", e.Err, tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("errors.Is(err, %v) = false", tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		status int
		code   string
		want   error
	}{
		// DeleteObjects reports per-key errors with a code and no status.
		{0, "AccessDenied", ErrPermission},
		{0, "NoSuchKey", ErrNotExist},
		{0, "InternalError", nil},
		{0, "", nil},
		{200, "", nil},
		{500, "", nil},
		{503, "SlowDown", nil},
		{409, "", nil},
		{404, "", ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.code), func(t *testing.T) {
			if got := classify(tt.status, tt.code); got != tt.want {
				t.Errorf("classify(%d, %q) = %v, want %v", tt.status, tt.code, got, tt.want)
			}
		})
	}
}

func TestErrorSentinels(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		is    []error
		isNot []error
	}{
		{"ErrNotExist", ErrNotExist, []error{fs.ErrNotExist}, []error{ErrBucketNotExist}},
		{"ErrBucketNotExist", ErrBucketNotExist, []error{fs.ErrNotExist}, []error{ErrNotExist}},
		{"ErrPermission", ErrPermission, []error{fs.ErrPermission}, nil},
		{"ErrExist", ErrExist, []error{fs.ErrExist}, []error{ErrPreconditionFailed}},
		{"ErrInvalid", ErrInvalid, []error{fs.ErrInvalid}, nil},
		{"ErrPreconditionFailed", ErrPreconditionFailed, nil, []error{fs.ErrExist, ErrExist}},
		// A failed create-only write is both kinds at once.
		{"errCreateConflict", errCreateConflict,
			[]error{ErrExist, fs.ErrExist, ErrPreconditionFailed}, []error{ErrNotExist, ErrInvalid}},
		{"errCreateConflict in an *Error", &Error{Op: "Put", Err: errCreateConflict},
			[]error{ErrExist, fs.ErrExist, ErrPreconditionFailed}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, target := range tt.is {
				if !errors.Is(tt.err, target) {
					t.Errorf("errors.Is(%v, %v) = false, want true", tt.err, target)
				}
			}
			for _, target := range tt.isNot {
				if errors.Is(tt.err, target) {
					t.Errorf("errors.Is(%v, %v) = true, want false", tt.err, target)
				}
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	const msg = "The specified key does not exist."
	tests := []struct {
		name    string
		err     error
		want    []string // substrings
		notWant []string
		msg     string // must appear exactly once, if set
	}{
		{
			name: "classified",
			err:  wrapErr("Get", "bkt", "dir/k.txt", sdkError("GetObject", 404, "NoSuchKey", msg)),
			want: []string{"s3kit: Get", "bkt/dir/k.txt", "object does not exist", "NoSuchKey", "HTTP 404", "request id " + testRequestID},
			msg:  msg,
		},
		{
			// The SDK's own text already holds the message: it must not
			// be added a second time.
			name: "unclassified",
			err:  wrapErr("Get", "bkt", "k", sdkError("GetObject", 500, "InternalError", "We encountered an internal error.")),
			want: []string{"s3kit: Get", "bkt/k", "InternalError", "HTTP 500", testRequestID},
			msg:  "We encountered an internal error.",
		},
		{
			name:    "bucket only",
			err:     wrapErr("DeleteBucket", "bkt", "", sdkError("DeleteBucket", 409, "BucketNotEmpty", "not empty")),
			want:    []string{"s3kit: DeleteBucket bkt: bucket is not empty", "BucketNotEmpty", "HTTP 409"},
			notWant: []string{"bkt/"},
		},
		{
			name:    "no bucket, no details",
			err:     &Error{Op: "New", Err: errors.New("bad config")},
			want:    []string{"s3kit: New: bad config"},
			notWant: []string{"(", "HTTP"},
		},
		{
			name: "no cause",
			err:  &Error{Op: "Get", Bucket: "b"},
			want: []string{"unknown error"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.err.Error()
			for _, s := range tt.want {
				if !strings.Contains(text, s) {
					t.Errorf("%q does not contain %q", text, s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(text, s) {
					t.Errorf("%q contains %q", text, s)
				}
			}
			if tt.msg != "" {
				if n := strings.Count(text, tt.msg); n != 1 {
					t.Errorf("%q contains the message %d times, want once", text, n)
				}
			}
		})
	}
}

func TestKeyErrorUnwrap(t *testing.T) {
	inner := &Error{Op: "DeleteMany", Bucket: "b", Key: "p/k", Code: "AccessDenied", Err: ErrPermission}
	tests := []struct {
		name string
		err  error
	}{
		{"KeyError", KeyError{Key: "k", Code: "AccessDenied", Err: inner}},
		{"*KeyError", &KeyError{Key: "k", Code: "AccessDenied", Err: inner}},
		{"CopyError", CopyError{CopyPair: CopyPair{Src: "a", Dst: "b"}, Err: inner}},
		{"*CopyError", &CopyError{CopyPair: CopyPair{Src: "a", Dst: "b"}, Err: inner}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, ErrPermission) || !errors.Is(tt.err, fs.ErrPermission) {
				t.Errorf("errors.Is(%v, ErrPermission/fs.ErrPermission) = false", tt.err)
			}
			var e *Error
			if !errors.As(tt.err, &e) || e.Code != "AccessDenied" {
				t.Errorf("errors.As(*Error) did not reach the inner error")
			}
			if !strings.Contains(tt.err.Error(), inner.Error()) {
				t.Errorf("Error() = %q, want it to contain %q", tt.err.Error(), inner.Error())
			}
		})
	}
	t.Run("batchErr with no failure", func(t *testing.T) {
		if err := batchErr("DeleteMany", "b", 0, 3, "", nil); err != nil {
			t.Errorf("batchErr(0 failed) = %v, want nil", err)
		}
	})
	// batchErr wraps the first failure, so its kind shows through the
	// summary *Error.
	t.Run("batchErr", func(t *testing.T) {
		err := batchErr("CopyMany", "b", 2, 5, "src", inner)
		if !errors.Is(err, ErrPermission) || !errors.Is(err, fs.ErrPermission) {
			t.Errorf("errors.Is(%v, ErrPermission) = false", err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Op != "CopyMany" || e.Bucket != "b" {
			t.Errorf("errors.As(*Error) = %#v, want the summary error", e)
		}
		if !strings.Contains(err.Error(), `2 of 5 failed, the first at "src"`) {
			t.Errorf("batchErr text = %q", err)
		}
	})
}

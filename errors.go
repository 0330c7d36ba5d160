package s3kit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Errors that s3kit returns, wrapped in an *Error. Test for them with
// errors.Is; the ones that have an io/fs counterpart match it too, so code
// written against io/fs works unchanged.
var (
	// ErrNotExist: the object (or version) does not exist. Matches
	// fs.ErrNotExist.
	ErrNotExist = &sentinel{"object does not exist", fs.ErrNotExist}

	// ErrBucketNotExist: the bucket does not exist. Matches fs.ErrNotExist
	// but not ErrNotExist, so callers can tell a missing bucket from a
	// missing key.
	ErrBucketNotExist = &sentinel{"bucket does not exist", fs.ErrNotExist}

	// ErrPermission: the credentials are missing, wrong, or not allowed to
	// do this. Matches fs.ErrPermission.
	ErrPermission = &sentinel{"permission denied", fs.ErrPermission}

	// ErrExist: the bucket or object already exists (a create-only write
	// such as PutOptions.IfNoneMatch "*" found an object, or CreateBucket
	// found the bucket). Matches fs.ErrExist.
	ErrExist = &sentinel{"already exists", fs.ErrExist}

	// ErrPreconditionFailed: a condition of the request did not hold (HTTP
	// 412, or 409 ConditionalRequestConflict after retries): the object
	// changed since its
	// ETag was read, or a create-only write found an object. A failed
	// create-only write matches both ErrExist and ErrPreconditionFailed.
	ErrPreconditionFailed = &sentinel{"precondition failed", nil}

	// ErrInvalid: an argument was refused, by s3kit before any request was
	// sent (bucket name, key, option, size, expiry), or by the server as
	// invalid. Matches fs.ErrInvalid.
	ErrInvalid = &sentinel{"invalid argument", fs.ErrInvalid}

	// ErrBucketNotEmpty: DeleteBucket found objects in the bucket.
	ErrBucketNotEmpty = &sentinel{"bucket is not empty", nil}

	// ErrDirNotEmpty: FS.Remove found entries in the directory.
	ErrDirNotEmpty = &sentinel{"directory not empty", nil}

	// ErrChecksum: the bytes received do not match the checksum the object
	// was stored with.
	ErrChecksum = &sentinel{"checksum mismatch", nil}

	// ErrInsecurePath: a key would be written outside the local directory
	// it is downloaded into.
	ErrInsecurePath = &sentinel{"insecure path", nil}

	// ErrClosed: the Client was closed (Client.Close). Matches
	// fs.ErrClosed.
	ErrClosed = &sentinel{"client is closed", fs.ErrClosed}

	// ErrTooManyDeletes: Sync would have deleted more files than
	// SyncOptions.MaxDelete allows, and deleted none.
	ErrTooManyDeletes = &sentinel{"too many deletes", nil}
)

// A sentinel is one of the Err values above; it unwraps to its io/fs
// counterpart so errors.Is(err, fs.ErrNotExist) holds for ErrNotExist.
type sentinel struct {
	msg  string
	base error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.base }

// Error is the error of every failed s3kit operation. Err says what kind of
// failure it was: one of the sentinels above, errors.ErrUnsupported (the
// store does not implement the operation), a context error, or the
// underlying error when none of these applies. Error strings never contain
// credentials, signatures or presigned URLs.
type Error struct {
	Op         string // the s3kit operation, such as "Put" or "List"
	Bucket     string // the bucket, if the operation had one
	Key        string // the full object key in Bucket (the handle's prefix included), if any
	StatusCode int    // the HTTP status of the last response, 0 if none was received
	Code       string // the S3 error code, such as "NoSuchKey", if the server sent one
	Message    string // the server's message, if it sent one
	RequestID  string // the server's request ID, for its operators
	Err        error  // the cause; see above
}

func (e *Error) Error() string {
	var sb strings.Builder
	sb.WriteString("s3kit: ")
	sb.WriteString(e.Op)
	if e.Bucket != "" {
		sb.WriteString(" ")
		sb.WriteString(e.Bucket)
		if e.Key != "" {
			sb.WriteString("/")
			sb.WriteString(e.Key)
		}
	}
	sb.WriteString(": ")
	if e.Err != nil {
		sb.WriteString(e.Err.Error())
	} else {
		sb.WriteString("unknown error")
	}
	var details []string
	if e.Code != "" {
		details = append(details, e.Code)
	}
	if e.StatusCode != 0 {
		details = append(details, "HTTP "+strconv.Itoa(e.StatusCode))
	}
	if e.Message != "" && (e.Err == nil || !strings.Contains(e.Err.Error(), e.Message)) {
		details = append(details, strconv.Quote(e.Message))
	}
	if e.RequestID != "" {
		details = append(details, "request id "+e.RequestID)
	}
	if len(details) > 0 {
		sb.WriteString(" (")
		sb.WriteString(strings.Join(details, ", "))
		sb.WriteString(")")
	}
	return sb.String()
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// invalidf returns an error wrapping ErrInvalid that says what was wrong.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// errCreateConflict is the cause of a create-only write that found an
// object: it is both ErrExist and ErrPreconditionFailed.
// errUploadGone is S3's NoSuchUpload: the multipart upload was completed
// (by an attempt whose answer was lost) or aborted. It is not ErrNotExist:
// no object is missing, and the object may well be in place.
var errUploadGone = &sentinel{"multipart upload no longer exists (completed by an attempt whose answer was lost, or aborted)", nil}

var errCreateConflict = fmt.Errorf("%w (%w)", ErrExist, ErrPreconditionFailed)

// wrapErr turns err, as returned by the SDK, by net/http or by s3kit
// itself, into an *Error for op on bucket/key. It returns nil for nil and
// leaves an *Error as it is.
func wrapErr(op, bucket, key string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	e = &Error{Op: op, Bucket: bucket, Key: key}

	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.StatusCode = re.HTTPStatusCode()
		e.RequestID = re.ServiceRequestID()
	} else {
		var sre *smithyhttp.ResponseError
		if errors.As(err, &sre) {
			e.StatusCode = sre.HTTPStatusCode()
		}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		e.Code = api.ErrorCode()
		e.Message = api.ErrorMessage()
	}
	var ce *credentialsError
	switch {
	case errors.As(err, &ce) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		e.Err = fmt.Errorf("%w: %w", ErrPermission, ce)
	case errors.Is(err, ErrClosed):
		e.Err = ErrClosed
	case errors.Is(err, context.Canceled):
		e.Err = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		e.Err = context.DeadlineExceeded
	case isTLSError(err):
		e.Err = fmt.Errorf("TLS handshake with the store failed: %w (a store whose certificate is signed by a CA of its own needs that CA in Config.RootCAs, or in a bundle named by AWS_CA_BUNDLE)", err)
	default:
		if s := classify(e.StatusCode, e.Code); s != nil {
			e.Err = s
		} else {
			e.Err = err
		}
	}
	return e
}

// classify maps an S3 error code, or failing that an HTTP status, to the
// sentinel that describes it, or nil.
func classify(status int, code string) error {
	switch code {
	case "NoSuchKey", "NoSuchVersion", "NotFound":
		return ErrNotExist
	case "NoSuchBucket":
		return ErrBucketNotExist
	case "NoSuchUpload":
		return errUploadGone
	case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"AllAccessDisabled", "AccountProblem", "ExpiredToken", "InvalidToken",
		"InvalidSecurity", "MissingSecurityHeader", "AuthorizationHeaderMalformed":
		return ErrPermission
	case "PreconditionFailed", "ConditionalRequestConflict":
		return ErrPreconditionFailed
	case "BucketAlreadyOwnedByYou", "BucketAlreadyExists":
		return ErrExist
	case "BucketNotEmpty":
		return ErrBucketNotEmpty
	case "NotImplemented":
		return errors.ErrUnsupported
	case "InvalidArgument", "InvalidBucketName", "KeyTooLongError", "InvalidRange",
		"EntityTooLarge", "EntityTooSmall", "InvalidTag", "InvalidStorageClass",
		"MetadataTooLarge", "InvalidDigest", "InvalidRequest", "InvalidPart",
		"InvalidPartOrder", "MalformedXML":
		return ErrInvalid
	case "BadDigest", "XAmzContentChecksumMismatch", "XAmzContentSHA256Mismatch":
		return ErrChecksum
	}
	switch status {
	case http.StatusNotFound:
		return ErrNotExist
	case http.StatusForbidden, http.StatusUnauthorized:
		return ErrPermission
	case http.StatusPreconditionFailed:
		return ErrPreconditionFailed
	case http.StatusNotImplemented:
		return errors.ErrUnsupported
	case http.StatusRequestedRangeNotSatisfiable:
		return ErrInvalid
	}
	return nil
}

package s3kit

import (
	"context"
	"encoding/xml"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sentinels are the error kinds classify can give.
var sentinels = []error{
	ErrNotExist, ErrBucketNotExist, ErrPermission, ErrExist, ErrPreconditionFailed,
	ErrInvalid, ErrBucketNotEmpty, ErrDirNotEmpty, ErrChecksum, ErrInsecurePath,
	errors.ErrUnsupported,
}

// checkClassified fails t unless e says one kind of failure, the one
// classify gives for its status and code, and its text names the
// operation, the code and the status.
func checkClassified(t *testing.T, what string, e *Error) {
	t.Helper()
	want := classify(e.StatusCode, e.Code)
	if want != nil && e.Err != want {
		t.Fatalf("%s: Err = %v, classify(%d, %q) = %v", what, e.Err, e.StatusCode, e.Code, want)
	}
	var kinds []error
	for _, s := range sentinels {
		if errors.Is(e, s) {
			kinds = append(kinds, s)
		}
	}
	if len(kinds) > 1 {
		t.Fatalf("%s: %v is %v at once", what, e, kinds)
	}
	if want != nil && (len(kinds) != 1 || kinds[0] != want) {
		t.Fatalf("%s: %v matches %v, want %v", what, e, kinds, want)
	}
	// The io/fs counterparts follow.
	for _, p := range [][2]error{{ErrNotExist, fs.ErrNotExist}, {ErrBucketNotExist, fs.ErrNotExist},
		{ErrPermission, fs.ErrPermission}, {ErrExist, fs.ErrExist}, {ErrInvalid, fs.ErrInvalid}} {
		if errors.Is(e, p[0]) && !errors.Is(e, p[1]) {
			t.Fatalf("%s: %v is %v but not %v", what, e, p[0], p[1])
		}
	}
	msg := e.Error()
	if !strings.HasPrefix(msg, "s3kit: "+e.Op) || e.Code != "" && !strings.Contains(msg, e.Code) {
		t.Fatalf("%s: error text %q does not name the operation %q and code %q", what, msg, e.Op, e.Code)
	}
}

// FuzzClassify checks wrapErr on the error chain the SDK returns for an
// error response: status, code, message and request ID are kept, the kind
// is classify's (where the code decides, whatever the status), and
// wrapping again changes nothing.
func FuzzClassify(f *testing.F) {
	for _, c := range []struct {
		status int
		code   string
	}{
		{404, "NoSuchKey"}, {404, "NoSuchBucket"}, {404, ""}, {403, "AccessDenied"}, {400, "SignatureDoesNotMatch"},
		{412, "PreconditionFailed"}, {409, "ConditionalRequestConflict"}, {409, "BucketAlreadyOwnedByYou"},
		{409, "BucketNotEmpty"}, {501, "NotImplemented"}, {400, "InvalidArgument"}, {416, "InvalidRange"},
		{400, "BadDigest"}, {200, "InternalError"}, {500, "InternalError"}, {503, "SlowDown"}, {0, ""},
		{400, "nosuchkey"}, {404, "AccessDenied"}, {-1, "x"}, {999, "\x00"},
	} {
		f.Add(c.status, c.code, "message", "req-1")
	}
	f.Fuzz(func(t *testing.T, status int, code, message, requestID string) {
		var inner error = errors.New("response body was empty")
		if code != "" {
			inner = &smithy.GenericAPIError{Code: code, Message: message}
		}
		err := sdkErrorWithID("CopyObject", status, inner, requestID)
		wrapped := wrapErr("Copy", "b-1", "k", err)
		var e *Error
		if !errors.As(wrapped, &e) {
			t.Fatalf("wrapErr gave %T, not *Error", wrapped)
		}
		if e.StatusCode != status || e.Code != code || code != "" && e.Message != message || e.RequestID != requestID {
			t.Fatalf("wrapErr(%d, %q, %q, %q) = %+v: the response's details are lost", status, code, message, requestID, e)
		}
		if want := classify(status, code); want == nil && e.Err != err {
			t.Fatalf("wrapErr(%d, %q): unclassified, yet Err = %v, not the SDK's error", status, code, e.Err)
		}
		if known := classify(0, code); known != nil {
			for _, s := range []int{200, 400, 404, 500} {
				if classify(s, code) != known {
					t.Fatalf("classify(%d, %q) = %v, but the code alone says %v", s, code, classify(s, code), known)
				}
			}
		}
		checkClassified(t, "wrapErr", e)
		if again := wrapErr("Other", "", "", wrapped); again != wrapped {
			t.Fatalf("wrapErr of an *Error changed it: %v", again)
		}
	})
}

// sdkErrorWithID is sdkError with the API error and request ID given.
func sdkErrorWithID(op string, status int, inner error, requestID string) error {
	return &smithy.OperationError{
		ServiceID:     "S3",
		OperationName: op,
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      inner,
			},
			RequestID: requestID,
		},
	}
}

// errorServer is an HTTP server that answers every request with the
// response the current fuzz input sets.
type errorServer struct {
	*httptest.Server
	mu        sync.Mutex
	status    int
	body      []byte
	requestID string
}

func (s *errorServer) set(status int, body []byte, requestID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body, s.requestID = status, body, requestID
}

func (s *errorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	status, body, id := s.status, s.body, s.requestID
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", id)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// xmlRoot returns the name of the root element of body, or "" if body
// does not begin with one.
func xmlRoot(body []byte) string {
	d := xml.NewDecoder(strings.NewReader(string(body)))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local
		}
	}
}

// FuzzErrorResponse sends a CopyObject, through the SDK and s3kit, to a
// server that answers with a fuzzed status and body: nothing panics, a
// 200 whose body is an S3 <Error> is a failure, never a success, and every
// failure is an *Error classified by its status and code.
func FuzzErrorResponse(f *testing.F) {
	doc := func(code, msg string) []byte {
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>")
		xml.EscapeText(&sb, []byte(code))
		sb.WriteString("</Code><Message>")
		xml.EscapeText(&sb, []byte(msg))
		sb.WriteString("</Message><RequestId>r</RequestId></Error>")
		return []byte(sb.String())
	}
	ok := []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<CopyObjectResult><ETag>"9b2cf535f27731c974343645a3985328"</ETag><LastModified>2026-01-01T00:00:00.000Z</LastModified></CopyObjectResult>`)
	for _, c := range []struct {
		status int
		body   []byte
	}{
		{200, ok}, {200, doc("InternalError", "We encountered an internal error. Please try again.")},
		{200, doc("SlowDown", "")}, {200, []byte("<Error><Code>AccessDenied</Code></Error>")},
		{200, []byte("  \n<Error/>")}, {200, []byte("")}, {200, []byte("<CopyObjectResult>")},
		{200, []byte("not xml")}, {404, doc("NoSuchKey", "The specified key does not exist.")},
		{404, doc("NoSuchBucket", "")}, {404, nil}, {403, doc("AccessDenied", "")},
		{412, doc("PreconditionFailed", "")}, {400, doc("InvalidArgument", "x")},
		{400, doc("", "no code")}, {409, doc("ConditionalRequestConflict", "")},
		{500, doc("InternalError", "")}, {503, []byte("<html>busy</html>")},
		{301, doc("PermanentRedirect", "")}, {307, nil}, {416, doc("InvalidRange", "")},
		{400, []byte("<Error><Code>A</Code><Code>B</Code></Error>")},
		{400, []byte("<Error><Code>&lt;x&gt;</Code><Message>\xff</Message></Error>")},
	} {
		f.Add(c.status, c.body, "req-1")
	}
	srv := &errorServer{}
	srv.Server = httptest.NewServer(srv)
	f.Cleanup(srv.Close)
	c, err := New(context.Background(), Config{
		Endpoint: srv.URL, Region: "us-east-1", AccessKeyID: "AKIAFUZZ", SecretAccessKey: "fuzz-secret",
		MaxAttempts: 2, RetryBaseDelay: time.Microsecond, RetryMaxDelay: time.Microsecond,
	})
	if err != nil {
		f.Fatal(err)
	}
	b := c.Bucket("b-1")
	f.Fuzz(func(t *testing.T, status int, body []byte, requestID string) {
		// Statuses a server can send; 1xx are interim, not answers.
		if status < 200 || status > 599 {
			status = 200 + (status%400+400)%400
		}
		requestID = strings.Map(func(r rune) rune {
			if r < 0x21 || r > 0x7e {
				return -1
			}
			return r
		}, requestID)
		srv.set(status, body, requestID)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		info, err := b.Copy(ctx, "src", "dst", nil)
		root := xmlRoot(body)
		if err == nil {
			if status >= 300 || strings.EqualFold(root, "Error") {
				t.Fatalf("HTTP %d with body %q: Copy succeeded (%+v)", status, body, info)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("HTTP %d with body %q: %v is not an *Error", status, body, err)
		}
		if e.Op != "Copy" {
			t.Fatalf("HTTP %d: error %v names the operation %q", status, err, e.Op)
		}
		// The SDK turns a 200 with an <Error> body into a 500, so that it
		// is retried like one.
		if e.StatusCode != 0 && e.StatusCode != status && !(status < 300 && strings.EqualFold(root, "Error") && e.StatusCode == 500) {
			t.Fatalf("HTTP %d: error %v reports HTTP %d", status, err, e.StatusCode)
		}
		checkClassified(t, "Copy", e)
		if strings.Contains(err.Error(), "fuzz-secret") {
			t.Fatalf("error %q holds the secret key", err)
		}
	})
}

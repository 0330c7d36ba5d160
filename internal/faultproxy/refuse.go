package faultproxy

import (
	"fmt"
	"net/http"
	"strings"
)

// StatusMessage is Status with the error's Message given: the wording of
// a particular store, for a client that reads it.
func StatusMessage(code int, s3code, message string) Fault {
	return Fault{kind: kindStatus, status: code, s3code: s3code, msg: message}
}

// HasHeader matches requests that carry a header whose name starts with
// one of prefixes, compared without regard to case.
func HasHeader(prefixes ...string) func(*http.Request) bool {
	return func(r *http.Request) bool { return headerWith(r, prefixes) != "" }
}

// headerWith returns the lower-case name of a header of r that starts with
// one of prefixes, the first in sorted order, or "".
func headerWith(r *http.Request, prefixes []string) string {
	found := ""
	for name := range r.Header {
		lower := strings.ToLower(name)
		for _, p := range prefixes {
			if strings.HasPrefix(lower, strings.ToLower(p)) && (found == "" || lower < found) {
				found = lower
			}
		}
	}
	return found
}

// RefuseHeaders returns a rule that answers every request carrying a
// header whose name starts with one of prefixes as a store that does not
// know that header does: with status code, the S3 error code s3code and
// the message format with the header's lower-case name in place of its
// %s, without contacting the server. For example Backblaze B2 refuses
// checksum headers with
//
//	RefuseHeaders(400, "InvalidArgument", "Unsupported header '%s' received for this API call.", "x-amz-checksum-", "x-amz-sdk-checksum-")
func RefuseHeaders(code int, s3code, format string, prefixes ...string) Rule {
	return Rule{
		Match: HasHeader(prefixes...),
		Choose: func(r *http.Request) Fault {
			return StatusMessage(code, s3code, fmt.Sprintf(format, headerWith(r, prefixes)))
		},
	}
}

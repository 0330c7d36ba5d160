package s3kit

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// OpenBucket returns a handle on the bucket, and the key prefix, that an
// s3:// URL names:
//
//	s3://BUCKET[/PREFIX][?PARAMETER=VALUE&…]
//
// such as "s3://photos/2025/06?endpoint=http://127.0.0.1:7070". The
// handle is scoped under PREFIX as by [Bucket.Prefix] ("" or "/" for the
// whole bucket). OpenBucket checks that the bucket exists with one
// HeadBucket request, and a missing bucket is ErrBucketNotExist; with
// check_bucket=false it sends no request at all.
//
// # Keys
//
// The path after the bucket is percent-decoded as a URL path: "%20" is a
// space, "+" stays "+", and "%2F" is "/" (keys have no directories, so
// "a%2Fb" and "a/b" are the same key). Write "%", "?" and "#" in a key as
// "%25", "%3F" and "%23"; any other character, spaces and non-ASCII
// letters included, may be written as it is or percent-encoded. The
// bucket name follows the S3 naming rules.
//
// # Parameters
//
// The query configures the connection and the writes made through the
// handle. Values are percent-decoded as in any URL query ("+" is a space,
// "%3D" is "="), and a literal ";" is allowed in them.
//
//   - region: the region to sign for (Config.Region).
//   - endpoint: the base URL of an S3-compatible store, such as
//     http://127.0.0.1:9000 (Config.Endpoint).
//   - path_style: true addresses buckets as endpoint/bucket
//     (Config.PathStyle; automatic for IP addresses and localhost).
//   - profile: a profile of the shared config and credentials files
//     (Config.Profile).
//   - checksum: CRC64NVME, CRC32C or none (Config.Checksum),
//     case-insensitive.
//   - acl, cache_control, content_type, content_disposition,
//     content_encoding, content_language, storage_class, sse,
//     sse_kms_key_id: defaults for every write made through the handle
//     (the PutOptions fields of the same names), as by
//     [Bucket.WithPutDefaults]: Put and its variants, NewWriter, Upload,
//     and, for acl, storage_class, sse and sse_kms_key_id, copies.
//   - check_bucket: false skips the HeadBucket request of OpenBucket and
//     Create, for a bucket known to exist or for credentials without the
//     s3:ListBucket permission HeadBucket needs (which is ErrPermission).
//
// Booleans take the values strconv.ParseBool accepts. An unknown,
// repeated or empty parameter, a malformed value, a missing or invalid
// bucket name, a scheme other than s3 and a fragment are errors matching
// ErrInvalid, whose message names what was wrong; they are reported
// before any request is sent.
//
// # Credentials and clients
//
// Credentials come from the standard AWS chain: the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the
// profile, SSO, web identity or instance metadata. A URL holding
// credentials, as user information (s3://KEY:SECRET@bucket) or in the
// endpoint parameter, is refused with ErrInvalid, because URLs end up in
// logs and shell histories; the error does not repeat the secret.
//
// URLs with the same region, endpoint, path_style, profile and checksum
// share one [Client], made on first use with the environment and shared
// files as they are then, and kept for the life of the program; its
// connections are reused across calls. OpenBucket, Open and Create are
// safe for concurrent use. For other settings (retries, memory,
// concurrency, explicit credentials) make a Client with [New] and use
// [Client.Bucket].
func OpenBucket(ctx context.Context, rawURL string) (*Bucket, error) {
	b, _, err := openURL(ctx, "OpenBucket", rawURL, false, true)
	return b, err
}

// Open opens the object an s3:// URL names, "s3://BUCKET/KEY[?…]", for
// reading, as [Bucket.NewReader] does: the Reader keeps ctx for all its
// requests, and the caller closes it. It accepts the URLs and parameters
// OpenBucket does (the write parameters have no effect), but the URL must
// name a key. It sends one HEAD request for the object, and after a 404
// one HeadBucket to tell a missing object (ErrNotExist) from a missing
// bucket (ErrBucketNotExist); check_bucket has no effect.
func Open(ctx context.Context, rawURL string) (*Reader, error) {
	// NewReader's HEAD tells a missing bucket from a missing key itself.
	b, key, err := openURL(ctx, "Open", rawURL, true, false)
	if err != nil {
		return nil, err
	}
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, renameOp(err, "Open")
	}
	return r, nil
}

// Create returns a Writer for the object an s3:// URL names,
// "s3://BUCKET/KEY[?…]", as [Bucket.NewWriter] does, with the write
// parameters of the URL (content_type, cache_control, acl, …) as its
// PutOptions. It accepts the URLs and parameters OpenBucket does, but the
// URL must name a key. Unless check_bucket=false, it checks that the
// bucket exists with one HeadBucket request, so that a wrong URL fails
// here rather than at Close. As for any Writer, nothing is visible until
// Close returns nil, and the Writer keeps ctx for all its requests.
func Create(ctx context.Context, rawURL string) (*Writer, error) {
	b, key, err := openURL(ctx, "Create", rawURL, true, true)
	if err != nil {
		return nil, err
	}
	w, err := b.NewWriter(ctx, key, nil)
	if err != nil {
		return nil, renameOp(err, "Create")
	}
	return w, nil
}

// OpenFS returns the file-system view ([Bucket.FS]) of the bucket and
// prefix an s3:// URL names, as OpenBucket opens them:
// s3kit.OpenFS(ctx, "s3://site/www") views the objects under "www/". The
// FS keeps ctx for all its requests.
func OpenFS(ctx context.Context, rawURL string) (*FS, error) {
	b, _, err := openURL(ctx, "OpenFS", rawURL, false, true)
	if err != nil {
		return nil, err
	}
	return b.FS(ctx), nil
}

// openURL parses rawURL and finds or makes its Client. With wantKey the
// URL must name a key, which is returned with a handle on the whole
// bucket; without, the handle is scoped under the URL's path and the key
// is "". With checkBucket, unless the URL says check_bucket=false, it
// checks that the bucket exists. op names the caller in errors.
func openURL(ctx context.Context, op, rawURL string, wantKey, checkBucket bool) (*Bucket, string, error) {
	u, err := parseS3URL(rawURL, wantKey)
	if err != nil {
		return nil, "", &Error{Op: op, Bucket: u.bucket, Err: err}
	}
	c, err := sharedClient(ctx, u.conn)
	if err != nil {
		return nil, "", renameOp(err, op)
	}
	b := c.Bucket(u.bucket)
	if u.hasPut {
		b = b.WithPutDefaults(&u.put)
	}
	if checkBucket && u.checkBucket {
		ok, err := c.BucketExists(ctx, u.bucket)
		if err != nil {
			return nil, "", renameOp(err, op)
		}
		if !ok {
			return nil, "", &Error{Op: op, Bucket: u.bucket, Err: ErrBucketNotExist}
		}
	}
	if wantKey {
		return b, u.path, nil
	}
	return b.Prefix(u.path), "", nil
}

// connSettings are the settings a URL gives its Client; URLs with equal
// settings share one.
type connSettings struct {
	region, endpoint, profile, checksum string
	pathStyle                           bool
}

// urlClients are the Clients of the URL opener, made on first use.
var urlClients struct {
	mu sync.Mutex
	m  map[connSettings]*Client
}

// sharedClient returns the Client for s, making it on first use.
func sharedClient(ctx context.Context, s connSettings) (*Client, error) {
	urlClients.mu.Lock()
	defer urlClients.mu.Unlock()
	if c := urlClients.m[s]; c != nil {
		return c, nil
	}
	// The Client outlives this call: it must not inherit its cancellation.
	c, err := New(context.WithoutCancel(ctx), Config{
		Region: s.region, Endpoint: s.endpoint, PathStyle: s.pathStyle,
		Profile: s.profile, Checksum: s.checksum,
	})
	if err != nil {
		return nil, err
	}
	if urlClients.m == nil {
		urlClients.m = make(map[connSettings]*Client)
	}
	urlClients.m[s] = c
	return c, nil
}

// s3URL is a parsed s3:// URL.
type s3URL struct {
	bucket      string
	path        string // decoded: the key, or the prefix
	conn        connSettings
	put         PutOptions
	hasPut      bool // a write parameter was given
	checkBucket bool
}

// credentialsAdvice ends the message of every refusal of credentials in
// a URL.
const credentialsAdvice = "credentials do not belong in a URL, which ends up in logs; " +
	"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or use a profile (AWS_PROFILE or the profile parameter)"

// parseS3URL parses and checks rawURL without sending anything. Its errors
// wrap ErrInvalid and never quote user information, where a secret would
// be. The bucket of the result is set as soon as it is known, also on
// error.
func parseS3URL(rawURL string, wantKey bool) (s3URL, error) {
	u := s3URL{checkBucket: true}
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return u, invalidf("%q is not an s3:// URL (want s3://bucket/key)", shownURL(rawURL))
	}
	if !strings.EqualFold(scheme, "s3") {
		if validScheme(scheme) {
			return u, invalidf("URL scheme %q is not s3 (want s3://bucket/key)", scheme)
		}
		return u, invalidf("URL does not start with s3:// (want s3://bucket/key)")
	}
	if strings.Contains(rest, "#") {
		return u, invalidf("URL has a fragment; write '#' in a key as %%23")
	}
	pathPart, rawQuery, _ := strings.Cut(rest, "?")
	host, rawPath, _ := strings.Cut(pathPart, "/")
	if strings.Contains(host, "@") {
		return u, invalidf("URL has user information; %s", credentialsAdvice)
	}
	if strings.Contains(host, ":") {
		// Either host:port or user:password whose password has a "/":
		// quote neither.
		return u, invalidf("the bucket name in the URL has ':'; give a store's host:port with the endpoint parameter (and if it is user:password, %s)", credentialsAdvice)
	}
	if host == "" {
		return u, invalidf("URL names no bucket (want s3://bucket/key)")
	}
	if err := validBucketName(host); err != nil {
		return u, err
	}
	u.bucket = host
	path, err := url.PathUnescape(rawPath)
	if err != nil {
		return u, invalidf("URL path: %v; write '%%' in a key as %%25", err)
	}
	if wantKey {
		if path == "" {
			return u, invalidf("URL names no object key (want s3://%s/key)", host)
		}
		if err := validKey(path, path); err != nil {
			return u, err
		}
	} else {
		if !utf8.ValidString(path) {
			return u, invalidf("key prefix %q is not valid UTF-8", path)
		}
		if len(path) >= MaxKeyLength {
			return u, invalidf("key prefix is %d bytes; keys are at most %d", len(path), MaxKeyLength)
		}
	}
	u.path = path
	if err := u.parseQuery(rawQuery); err != nil {
		return u, err
	}
	return u, nil
}

// urlParams are the parameters parseQuery knows, in the order its errors
// list them.
var urlParams = []string{
	"region", "endpoint", "path_style", "profile", "checksum",
	"acl", "cache_control", "content_type", "content_disposition", "content_encoding",
	"content_language", "storage_class", "sse", "sse_kms_key_id", "check_bucket",
}

func (u *s3URL) parseQuery(rawQuery string) error {
	seen := make(map[string]bool)
	for kv := range strings.SplitSeq(rawQuery, "&") {
		if kv == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(kv, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return invalidf("URL query: %v", err)
		}
		known := false
		for _, p := range urlParams {
			known = known || p == name
		}
		if !known {
			if looksLikeCredentials(name) {
				return invalidf("URL parameter %q: %s", name, credentialsAdvice)
			}
			return invalidf("unknown URL parameter %q (known: %s)", name, strings.Join(urlParams, ", "))
		}
		if seen[name] {
			return invalidf("URL parameter %s is given twice", name)
		}
		seen[name] = true
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return invalidf("URL parameter %s: %v", name, err)
		}
		if value == "" {
			return invalidf("URL parameter %s is empty", name)
		}
		if err := u.set(name, value); err != nil {
			return paramErr(name, err)
		}
	}
	if u.put.SSEKMSKeyID != "" {
		if err := validSSE(u.put.SSE, u.put.SSEKMSKeyID); err != nil {
			return paramErr("sse_kms_key_id", err)
		}
	}
	return nil
}

// set applies parameter name, known and not yet seen, with its decoded
// non-empty value.
func (u *s3URL) set(name, v string) error {
	p := &u.put
	switch name {
	case "region":
		return validRegion(&u.conn.region, v)
	case "endpoint":
		if strings.Contains(v, "@") {
			return invalidf("endpoint has user information; %s", credentialsAdvice)
		}
		e, err := parseEndpoint(v)
		if err != nil {
			return err
		}
		u.conn.endpoint = e.String()
		return nil
	case "path_style":
		return parseBool(&u.conn.pathStyle, v)
	case "profile":
		u.conn.profile = v
		return validHeaderValue("profile", v)
	case "checksum":
		for _, c := range []string{ChecksumCRC64NVME, ChecksumCRC32C, ChecksumNone} {
			if strings.EqualFold(v, c) {
				u.conn.checksum = c
				return nil
			}
		}
		return invalidf("checksum %q is not %s, %s or %s", v, ChecksumCRC64NVME, ChecksumCRC32C, ChecksumNone)
	case "check_bucket":
		return parseBool(&u.checkBucket, v)
	}
	u.hasPut = true
	switch name {
	case "acl":
		p.ACL = v
		return validACL(v)
	case "storage_class":
		p.StorageClass = v
		return validStorageClass(v)
	case "sse":
		p.SSE = v
		return validSSE(v, "")
	case "sse_kms_key_id":
		p.SSEKMSKeyID = v // checked with sse once the query is read
		return nil
	}
	switch name {
	case "cache_control":
		p.CacheControl = v
	case "content_type":
		p.ContentType = v
	case "content_disposition":
		p.ContentDisposition = v
	case "content_encoding":
		p.ContentEncoding = v
	case "content_language":
		p.ContentLanguage = v
	}
	return validHeaderValue(name, v)
}

func parseBool(dst *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return invalidf("%q is not true or false", v)
	}
	*dst = b
	return nil
}

// validRegion accepts the names regions have on AWS and on other stores
// (letters, digits, '-', '_' and '.'), which go into hostnames and
// signatures.
func validRegion(dst *string, v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return invalidf("region %q may hold only letters, digits, '-', '_' and '.'", v)
		}
	}
	*dst = v
	return nil
}

// paramErr returns err, which wraps ErrInvalid, as an error naming the URL
// parameter at fault.
func paramErr(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
	return invalidf("URL parameter %s: %s", name, msg)
}

// looksLikeCredentials reports whether a parameter name suggests a
// secret was put in the URL.
func looksLikeCredentials(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"secret", "password", "token", "access_key", "accesskey", "credential", "signature"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// shownURL is rawURL as an error may quote it: without user information
// or query.
func shownURL(rawURL string) string {
	s := redactURL(rawURL)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i] + "…"
	}
	return s
}

// validScheme reports whether s has the form of a URL scheme (RFC 3986),
// and so can be quoted: it cannot hold a password.
func validScheme(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

package s3kit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"slices"
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
// # Trusted URLs only
//
// The URL must come from trusted configuration (a flag, a config file),
// never from the users of a service: its endpoint parameter sends
// requests signed with the program's credentials, session token included,
// to any host, an internal one too; its profile parameter selects any
// profile of the shared config files, and so runs any credential_process
// they name. To open URLs from users, configure a [URLOpener] with the
// endpoints, profiles and parameters they may use.
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
//   - region: the region to sign for (Config.Region): 1 to 63 lowercase
//     letters, digits and hyphens, starting with a letter and not ending
//     with a hyphen, as AWS names regions ("us-east-1", "eu-central-2")
//     and S3-compatible stores follow ("auto" for R2, "garage", "fr-par",
//     "nyc3", "us-west-004"). A region outside this rule (MinIO accepts
//     "My_Region") can be set with Config.Region or AWS_REGION.
//   - endpoint: the base URL of an S3-compatible store, such as
//     http://127.0.0.1:9000 (Config.Endpoint).
//   - path_style: true addresses buckets as endpoint/bucket
//     (Config.PathStyle; automatic for IP addresses and localhost).
//   - profile: a profile of the shared config and credentials files
//     (Config.Profile).
//   - checksum: CRC64NVME, CRC32C, CRC32 or none (Config.Checksum),
//     case-insensitive.
//   - acl, cache_control, content_type, content_disposition,
//     content_encoding, content_language, storage_class, sse,
//     sse_kms_key_id: defaults for every write made through the handle
//     (the PutOptions fields of the same names), as by
//     [Bucket.WithPutDefaults]: Put and its variants, NewWriter, Upload,
//     PresignPut, and, for acl, storage_class, sse and sse_kms_key_id,
//     copies. An acl other than private or bucket-owner-full-control
//     costs one GetBucketOwnershipControls request when the URL is opened
//     (check_bucket=false does not skip it), and where the bucket has
//     object ACLs disabled or the store has none (MinIO, versitygw), which
//     would store the objects private whatever the acl, the open fails
//     with an error matching errors.ErrUnsupported that points at
//     [Bucket.SetPublicRead], the way to make a prefix public there.
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
// files as they are then; its connections are reused across calls. The
// package keeps the DefaultMaxURLClients most recently used of these
// Clients; a Client dropped from the cache stays usable by the handles
// that hold it. OpenBucket, Open, Create, OpenFS and OpenFile are safe for
// concurrent use. For other settings (retries, memory, concurrency,
// explicit credentials) use a [URLOpener] with a Config, or make a Client
// with [New] and use [Client.Bucket].
func OpenBucket(ctx context.Context, rawURL string) (*Bucket, error) {
	return defaultOpener.OpenBucket(ctx, rawURL)
}

// Open opens the object an s3:// URL names, "s3://BUCKET/KEY[?…]", for
// reading, as [Bucket.NewReader] does: the Reader keeps ctx for all its
// requests, and the caller closes it. It accepts the URLs and parameters
// OpenBucket does (the write parameters have no effect), but the URL must
// name a key, and like OpenBucket's it must come from trusted
// configuration. It sends one HEAD request for the object, and after a
// 404 one HeadBucket to tell a missing object (ErrNotExist) from a
// missing bucket (ErrBucketNotExist); check_bucket has no effect.
func Open(ctx context.Context, rawURL string) (*Reader, error) {
	return defaultOpener.Open(ctx, rawURL)
}

// Create returns a Writer for the object an s3:// URL names,
// "s3://BUCKET/KEY[?…]", as [Bucket.NewWriter] does, with the write
// parameters of the URL (content_type, cache_control, acl, …) as its
// PutOptions. It accepts the URLs and parameters OpenBucket does, but the
// URL must name a key, and like OpenBucket's it must come from trusted
// configuration. Unless check_bucket=false, it checks that the bucket
// exists with one HeadBucket request, so that a wrong URL fails here
// rather than at Close. As for any Writer, nothing is visible until Close
// returns nil, and the Writer keeps ctx for all its requests.
func Create(ctx context.Context, rawURL string) (*Writer, error) {
	return defaultOpener.Create(ctx, rawURL)
}

// OpenFS returns the file-system view ([Bucket.FS]) of the bucket and
// prefix an s3:// URL names, as OpenBucket opens them:
// s3kit.OpenFS(ctx, "s3://site/www") views the objects under "www/". The
// FS keeps ctx for all its requests. Like OpenBucket's, the URL must come
// from trusted configuration.
func OpenFS(ctx context.Context, rawURL string) (*FS, error) {
	return defaultOpener.OpenFS(ctx, rawURL)
}

// OpenFile opens the object an s3:// URL names, "s3://BUCKET/KEY[?…]", as
// a file of the bucket's file-system view, with the flags of os.OpenFile,
// as [FS.OpenFile] does; perm is ignored. Opened os.O_RDWR, the file is
// read lazily and written back, whole, on Close (or Sync) only if it was
// changed, on the condition that the object is still the one seen at open
// (see [File]); opened os.O_RDONLY it reads through a [Reader];
// os.O_CREATE|os.O_EXCL creates only if nothing is at the key (fs.ErrExist
// otherwise). It accepts the URLs and parameters OpenBucket does, the
// write parameters applying to what the file writes, but the URL must name
// a key that is a valid FS name (fs.ValidPath: no empty, "." or ".."
// elements, no leading or trailing "/"), and like OpenBucket's it must come
// from trusted configuration. Opened for writing, unless check_bucket=false,
// it checks that the bucket exists with one HeadBucket request. The file
// keeps ctx for all its requests. Errors of the URL are *Error; those of
// the open itself are the *fs.PathError of FS.OpenFile.
func OpenFile(ctx context.Context, rawURL string, flag int, perm fs.FileMode) (*File, error) {
	return defaultOpener.OpenFile(ctx, rawURL, flag, perm)
}

// defaultOpener opens the URLs of OpenBucket, Open, Create, OpenFS and
// OpenFile,
// which come from trusted configuration: any endpoint and profile.
var defaultOpener = &URLOpener{AllowEndpoints: []string{"*"}, AllowProfiles: []string{"*"}}

// DefaultMaxURLClients is how many Clients a URLOpener whose MaxClients is
// 0 keeps, and the package-level OpenBucket, Open, Create, OpenFS and
// OpenFile keep.
const DefaultMaxURLClients = 16

// A URLOpener opens s3:// URLs, as OpenBucket, Open, Create, OpenFS and
// OpenFile do, under rules the program sets: which endpoints, profiles and
// parameters a URL may name, the Config its Clients start from, and how
// many Clients it keeps. It is the way to open URLs that come from the
// users of a service.
//
// Its zero value is ready to use and refuses URLs with an endpoint or a
// profile parameter, the two that decide where the program's credentials
// go and which credentials are used; other parameters are allowed. Such a
// URL reaches the store of Config.Endpoint (or of AWS_ENDPOINT_URL, or
// Amazon S3) with the credentials of Config (or of the standard chain).
//
// A URL whose endpoint, profile or parameters the opener does not allow
// fails with an error matching ErrInvalid that names the parameter, before
// any request is sent and before any Client is made. The opener does not
// restrict buckets: a URL may name any bucket its credentials reach, so
// give a service credentials for the buckets its users may use.
//
// A URLOpener is safe for concurrent use. Its fields must not change once
// it is in use, and it must not be copied then.
type URLOpener struct {
	// Config is the configuration of every Client the opener makes. A
	// URL's region, endpoint, profile and checksum replace its Region,
	// Endpoint, Profile and Checksum, and path_style=true sets its
	// PathStyle.
	Config Config

	// AllowEndpoints are the endpoints a URL's endpoint parameter may
	// name, as base URLs such as "https://s3.example.com" or
	// "http://127.0.0.1:9000". An endpoint matches when its scheme, host,
	// port and path are equal, compared without regard to the case of
	// scheme and host, with a port of 80 for http and 443 for https the
	// same as none, and without a trailing "/". The host is compared as a
	// name, not resolved. The single entry "*" allows any endpoint. nil or
	// empty: a URL may not have an endpoint parameter.
	AllowEndpoints []string

	// AllowProfiles are the profiles a URL's profile parameter may name,
	// compared exactly; "*" allows any. nil or empty: a URL may not have a
	// profile parameter.
	AllowProfiles []string

	// AllowParams are the parameters other than endpoint and profile that
	// a URL may have, such as "region" or "content_type"; a URL with
	// another is refused. nil allows all of them; a non-nil empty slice
	// allows none.
	AllowParams []string

	// MaxClients is how many Clients the opener keeps: when a URL needs a
	// new one and MaxClients are kept, the least recently used is dropped.
	// A dropped Client stays usable by the handles, Readers, Writers and
	// FSs that hold it. 0 means DefaultMaxURLClients. Every distinct
	// combination of region, endpoint, path_style, profile and checksum
	// needs its own Client, so URLs that vary them more than MaxClients
	// ways make a Client at almost every open: allow users only the
	// connection parameters they need.
	MaxClients int

	mu      sync.Mutex
	closed  bool
	clients map[connSettings]*cachedClient
	clock   uint64 // counts uses, for the least recently used
}

var errOpenerClosed = fmt.Errorf("URLOpener is closed: %w", fs.ErrClosed)

// cachedClient is a Client of a URLOpener with its last use.
type cachedClient struct {
	c    *Client
	used uint64
}

// OpenBucket is [OpenBucket] under the rules of o.
func (o *URLOpener) OpenBucket(ctx context.Context, rawURL string) (*Bucket, error) {
	b, _, err := o.open(ctx, "OpenBucket", rawURL, false, true)
	return b, err
}

// Open is [Open] under the rules of o.
func (o *URLOpener) Open(ctx context.Context, rawURL string) (*Reader, error) {
	// NewReader's HEAD tells a missing bucket from a missing key itself.
	b, key, err := o.open(ctx, "Open", rawURL, true, false)
	if err != nil {
		return nil, err
	}
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, renameOp(err, "Open")
	}
	return r, nil
}

// Create is [Create] under the rules of o.
func (o *URLOpener) Create(ctx context.Context, rawURL string) (*Writer, error) {
	b, key, err := o.open(ctx, "Create", rawURL, true, true)
	if err != nil {
		return nil, err
	}
	w, err := b.NewWriter(ctx, key, nil)
	if err != nil {
		return nil, renameOp(err, "Create")
	}
	return w, nil
}

// OpenFS is [OpenFS] under the rules of o.
func (o *URLOpener) OpenFS(ctx context.Context, rawURL string) (*FS, error) {
	b, _, err := o.open(ctx, "OpenFS", rawURL, false, true)
	if err != nil {
		return nil, err
	}
	return b.FS(ctx), nil
}

// OpenFile is [OpenFile] under the rules of o.
func (o *URLOpener) OpenFile(ctx context.Context, rawURL string, flag int, perm fs.FileMode) (*File, error) {
	const op = "OpenFile"
	// Everything is checked before the bucket is.
	u, err := parseS3URL(rawURL, true)
	if err == nil {
		err = checkOpenFlags(flag)
	}
	if err == nil && !fs.ValidPath(u.path) {
		err = invalidf("key %q is not a file name of the FS view (empty, \".\" or \"..\" elements, or a leading or trailing \"/\"); use Open or Create", u.path)
	}
	if err != nil {
		return nil, &Error{Op: op, Bucket: u.bucket, Err: err}
	}
	b, key, err := o.open(ctx, op, rawURL, true, flag&(os.O_WRONLY|os.O_RDWR) != 0)
	if err != nil {
		return nil, err
	}
	return b.FS(ctx).OpenFile(key, flag, perm)
}

// Close drops the opener's Clients and closes their idle connections.
// Handles, Readers, Writers and FSs opened before keep working (they open
// new connections as they need them). After Close, the opener's methods
// fail with an error matching fs.ErrClosed. Close always returns nil;
// closing again does nothing.
func (o *URLOpener) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	for _, e := range o.clients {
		o.release(e.c)
	}
	o.clients = nil
	return nil
}

// open parses rawURL, checks it against o's rules, and finds or makes its
// Client. With wantKey the URL must name a key, which is returned with a
// handle on the whole bucket; without, the handle is scoped under the
// URL's path and the key is "". With checkBucket, unless the URL says
// check_bucket=false, it checks that the bucket exists. op names the
// caller in errors.
func (o *URLOpener) open(ctx context.Context, op, rawURL string, wantKey, checkBucket bool) (*Bucket, string, error) {
	u, err := parseS3URL(rawURL, wantKey)
	if err == nil {
		err = o.allow(&u)
	}
	if err != nil {
		return nil, "", &Error{Op: op, Bucket: u.bucket, Err: err}
	}
	c, err := o.client(ctx, u.conn)
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
	if op != "Open" && u.put.ACL != "" && u.put.ACL != "private" && u.put.ACL != "bucket-owner-full-control" {
		// Stores without object ACLs take the header and ignore it: say
		// so here rather than write objects that stay private.
		if why := c.aclsOff(ctx, u.bucket); why != "" {
			return nil, "", &Error{Op: op, Bucket: u.bucket, Err: fmt.Errorf("%w: URL parameter acl=%s: %s, so the objects written would not be %s; "+
				"drop the parameter and make the prefix public with Bucket.SetPublicRead, which uses the bucket policy", errors.ErrUnsupported, u.put.ACL, why, u.put.ACL)}
		}
	}
	if wantKey {
		return b, u.path, nil
	}
	return b.Prefix(u.path), "", nil
}

// allow checks the rules of o, and u against them.
func (o *URLOpener) allow(u *s3URL) error {
	if o.MaxClients < 0 {
		return invalidf("URLOpener.MaxClients %d is negative", o.MaxClients)
	}
	for _, p := range o.AllowParams {
		if p == "endpoint" || p == "profile" {
			return invalidf("URLOpener.AllowParams lists %s; allow its values with Allow%ss", p, strings.ToUpper(p[:1])+p[1:])
		}
		if !slices.Contains(urlParams, p) {
			return invalidf("URLOpener.AllowParams lists %q, which is not a URL parameter (known: %s)", p, strings.Join(urlParams, ", "))
		}
	}
	allowed, err := o.endpointAllowed(u.conn.endpoint)
	if err != nil {
		return err
	}
	for _, name := range u.params {
		switch {
		case name == "endpoint":
			if !allowed {
				return invalidf("URL parameter endpoint: %q is not among the endpoints this URLOpener allows (AllowEndpoints)", u.conn.endpoint)
			}
		case name == "profile":
			if !slices.Contains(o.AllowProfiles, "*") && !slices.Contains(o.AllowProfiles, u.conn.profile) {
				return invalidf("URL parameter profile: %q is not among the profiles this URLOpener allows (AllowProfiles)", u.conn.profile)
			}
		case o.AllowParams != nil && !slices.Contains(o.AllowParams, name):
			return invalidf("URL parameter %s is not allowed by this URLOpener (AllowParams: %s)", name, strings.Join(o.AllowParams, ", "))
		}
	}
	return nil
}

// endpointAllowed reports whether AllowEndpoints allows endpoint, in the
// form parseS3URL gives it ("" if the URL has none). An entry that is not
// an endpoint is an error.
func (o *URLOpener) endpointAllowed(endpoint string) (bool, error) {
	ok := false
	for _, a := range o.AllowEndpoints {
		if a == "*" {
			ok = true
			continue
		}
		e, err := parseEndpoint(a)
		if err != nil {
			return false, invalidf("URLOpener.AllowEndpoints: %s", strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
		}
		ok = ok || endpointKey(e) == endpoint
	}
	return ok, nil
}

// endpointKey is the form in which endpoints are compared and Clients
// shared: the scheme and host in lower case, the port unless it is the
// scheme's default, and the path without a trailing "/" (parseEndpoint
// removed it).
func endpointKey(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443" {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host + u.EscapedPath()
}

// connSettings are the settings a URL gives its Client; URLs with equal
// settings share one.
type connSettings struct {
	region, endpoint, profile, checksum string
	pathStyle                           bool
}

// client returns the Client for s, making it on first use, and dropping
// the least recently used one if o keeps too many.
func (o *URLOpener) client(ctx context.Context, s connSettings) (*Client, error) {
	// Held while New runs, which reads files but sends nothing, so that
	// concurrent first uses of s share one Client.
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil, &Error{Err: errOpenerClosed}
	}
	o.clock++
	if e := o.clients[s]; e != nil {
		e.used = o.clock
		return e.c, nil
	}
	cfg := o.Config
	cfg.Region = cmp.Or(s.region, cfg.Region)
	cfg.Endpoint = cmp.Or(s.endpoint, cfg.Endpoint)
	cfg.Profile = cmp.Or(s.profile, cfg.Profile)
	cfg.Checksum = cmp.Or(s.checksum, cfg.Checksum)
	cfg.PathStyle = cfg.PathStyle || s.pathStyle
	// The Client outlives this call: it must not inherit its cancellation.
	c, err := New(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return nil, err
	}
	if o.clients == nil {
		o.clients = make(map[connSettings]*cachedClient)
	}
	for len(o.clients) >= cmp.Or(o.MaxClients, DefaultMaxURLClients) {
		var oldest connSettings
		var e *cachedClient
		for k, v := range o.clients {
			if e == nil || v.used < e.used {
				oldest, e = k, v
			}
		}
		delete(o.clients, oldest)
		o.release(e.c)
	}
	o.clients[s] = &cachedClient{c: c, used: o.clock}
	return c, nil
}

// release closes the idle connections of a Client the opener drops, so
// that its transport and buffers can be collected once no handle holds
// it; requests in flight are not disturbed. A Config.HTTPClient is the
// caller's, shared by every Client, and is left alone.
func (o *URLOpener) release(c *Client) {
	if o.Config.HTTPClient != nil {
		return
	}
	if h, ok := c.s3.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
		h.CloseIdleConnections()
	}
}

// s3URL is a parsed s3:// URL.
type s3URL struct {
	bucket      string
	path        string // decoded: the key, or the prefix
	conn        connSettings
	put         PutOptions
	hasPut      bool     // a write parameter was given
	params      []string // the names of the parameters given
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
	u, err := parseS3URLQuoting(rawURL, wantKey)
	if err != nil && strings.Contains(rawURL, "@") {
		// An "@" may end credentials that a "/", "?" or "&" in the secret
		// cut into what looks like a bucket, a key or a parameter: quote
		// nothing of such a URL.
		err = redactQuoted{err}
	}
	return u, err
}

// quoted matches a Go-quoted string in an error message.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// redactQuoted is an error whose quoted parts are replaced by "…".
type redactQuoted struct{ err error }

func (r redactQuoted) Error() string { return quoted.ReplaceAllString(r.err.Error(), `"…"`) }
func (r redactQuoted) Unwrap() error { return r.err }

// parseS3URLQuoting is parseS3URL, with errors that quote the URL's parts.
func parseS3URLQuoting(rawURL string, wantKey bool) (s3URL, error) {
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
		u.params = append(u.params, name)
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
		u.conn.endpoint = endpointKey(e)
		return nil
	case "path_style":
		return parseBool(&u.conn.pathStyle, v)
	case "profile":
		u.conn.profile = v
		return validHeaderValue("profile", v)
	case "checksum":
		for _, c := range []string{ChecksumCRC64NVME, ChecksumCRC32C, ChecksumCRC32, ChecksumNone} {
			if strings.EqualFold(v, c) {
				u.conn.checksum = c
				return nil
			}
		}
		return invalidf("checksum %q is not %s, %s, %s or %s", v, ChecksumCRC64NVME, ChecksumCRC32C, ChecksumCRC32, ChecksumNone)
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

// validRegion accepts a region as AWS names them and S3-compatible
// stores follow: a DNS label of lowercase letters, digits and hyphens that
// starts with a letter, since Amazon puts the region in hostnames. The
// rule keeps junk out of the Clients a URL makes.
func validRegion(dst *string, v string) error {
	ok := v != "" && len(v) <= 63 && v[0] >= 'a' && v[0] <= 'z' && v[len(v)-1] != '-'
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
	}
	if !ok {
		return invalidf("region %q is not 1 to 63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen", v)
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

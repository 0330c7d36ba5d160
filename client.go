package s3kit

import (
	"cmp"
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// Config configures a Client. Its zero value works: credentials, region and
// endpoint come from the standard AWS chain (environment, shared config and
// credentials files, SSO, web identity, EC2/ECS metadata).
type Config struct {
	// Region of the buckets. Empty: AWS_REGION, then the profile's region,
	// then "us-east-1" (which S3-compatible stores usually accept).
	Region string

	// Endpoint is the base URL of an S3-compatible store, such as
	// "http://127.0.0.1:7070". Empty: AWS_ENDPOINT_URL_S3, then
	// AWS_ENDPOINT_URL, then the profile's endpoint_url, then Amazon S3.
	// It must not contain credentials.
	Endpoint string

	// PathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key. It is turned on automatically when the endpoint
	// host is an IP address or localhost, where virtual-hosted names cannot
	// resolve.
	PathStyle bool

	// Profile selects a profile of the shared config and credentials files
	// (as AWS_PROFILE does).
	Profile string

	// AccessKeyID, SecretAccessKey and SessionToken, when AccessKeyID is
	// set, are used instead of the credential chain. Prefer the environment
	// or a profile: secrets in source code end up in version control.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string

	// Anonymous sends unsigned requests, for public buckets.
	Anonymous bool

	// MaxAttempts is how many times a request is tried in all; 0 means
	// DefaultMaxAttempts and 1 turns retries off.
	MaxAttempts int

	// RetryBaseDelay and RetryMaxDelay bound the exponential back-off with
	// full jitter between attempts; 0 means DefaultRetryBaseDelay and
	// DefaultRetryMaxDelay.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration

	// Concurrency is how many requests batch operations and transfers run
	// at once when their options do not say; 0 means DefaultConcurrency.
	// The HTTP transport keeps at least this many idle connections per host.
	Concurrency int

	// MemoryLimit bounds the part buffers of the Client's uploads in
	// flight (a Writer that would exceed it waits for one to finish) and
	// the read-ahead of its Readers (which takes only what is free); see
	// the package documentation for the whole contract. 0 means
	// DefaultMemoryLimit (64 MiB); it must hold at least one part of
	// Config.PartSize. A part larger than the limit takes all of it.
	MemoryLimit int64

	// PartSize is the part size of multipart transfers when their options
	// do not say: 0 means DefaultPartSize (8 MiB); at least MinPartSize.
	PartSize int64

	// Checksum is the full-object checksum every upload carries for the
	// store to verify, and that full downloads are verified against:
	// ChecksumCRC64NVME (the default), ChecksumCRC32C, ChecksumCRC32 (for
	// objects that clients checking only CRC32, such as the aws CLI
	// without awscrt, can verify), or ChecksumNone for stores that reject
	// checksum headers (some older S3-compatible stores, and proxies that
	// rewrite bodies).
	//
	// Left empty, the checksum is chosen for the store: the one of
	// StoreProfile if set, else the one of the profile the endpoint's host
	// names (none for Backblaze B2), else CRC64NVME. Without StoreProfile,
	// a store that refuses a request for its checksum headers (a 501
	// NotImplemented, or a 400 whose message says a checksum header is
	// not supported) also gets the request once more without them. If the
	// store takes it so, the Client remembers that its store takes no
	// checksum headers: its later requests carry none, its uploads carry
	// Content-MD5 instead, and its ObjectInfo reports only the checksums
	// the store reports (see the README's store profiles). Set, Checksum
	// is used as given, and a store's refusal is the upload's error.
	//
	// The checksum catches accidents, not attacks: whoever can change the
	// bytes can fix up their CRC. Against attacks, uploads over https rely
	// on TLS and send UNSIGNED-PAYLOAD; over plain http they carry the
	// signed SHA-256 of their bytes, unless UnsignedPayload is set.
	Checksum string

	// StoreProfile, if set, is the profile of the store (see
	// Client.StoreProfile): it replaces detection, so that no probe is
	// sent, and its Checksum is the checksum of uploads unless
	// Config.Checksum says otherwise. Start from KnownStoreProfile for a
	// known store, or from the generic profile for another one, and change
	// what you know differs; a profile whose Checksum is ChecksumNone
	// makes uploads carry no checksum headers at all. Name must not be
	// empty, Checksum must be one of the Checksum* constants, MaxKeyLength
	// between 1 and MaxKeyLength and MaxKeySegment between 0 and
	// MaxKeyLength: otherwise New fails with ErrInvalid. The value is
	// copied.
	StoreProfile *StoreProfile

	// UnsignedPayload sends uploads over plain http with UNSIGNED-PAYLOAD
	// instead of the signed SHA-256 of their bytes, which costs a second
	// pass over every byte. Set it only on a network you trust (a store on
	// the same host, or inside one cluster): a CRC is not a MAC, so anyone
	// on the path can change an unsigned body and fix up its CRC, and the
	// store accepts it under a valid signature. With ChecksumNone nothing
	// then checks the bytes at all. Over https it changes nothing: uploads
	// are always sent with UNSIGNED-PAYLOAD there.
	UnsignedPayload bool

	// StallTimeout is the longest a request may go without progress: with
	// a connection, without sending a byte of the request or, once it is
	// sent, without response headers (a 100 Continue included); then, in
	// each Read of the response body, without a byte. A stalled request
	// fails with a transient error (a net.Error whose Timeout is true): it
	// is retried as after a broken connection, and a download resumes
	// where it stopped. A Read is timed only while it waits, so a caller
	// slow to call Read never trips it. 0 means DefaultStallTimeout (60 s);
	// it cannot be turned off, only raised, and must stay above the longest
	// silence of a healthy store: Amazon S3 keeps a long CopyObject or
	// CompleteMultipartUpload alive by sending blanks, a store that does
	// not may need more. Negative is ErrInvalid.
	StallTimeout time.Duration

	// RootCAs, if set, are the certificate authorities s3kit's own HTTP
	// client trusts, instead of the system's: for a store whose
	// certificate a private authority signed. Without it, a CA bundle
	// named by AWS_CA_BUNDLE or by the profile's ca_bundle is trusted
	// instead of the system's, as by the SDK and the aws CLI. Either way
	// the tuned transport is kept, which replacing HTTPClient would lose.
	RootCAs *x509.CertPool

	// HTTPClient, if set, is used instead of the tuned client s3kit builds;
	// RootCAs and InsecureSkipVerify then have no effect. s3kit uses a copy and never
	// changes the value given. The copy keeps the client's Transport, Jar
	// and Timeout, with two additions. Its Transport is wrapped with the
	// watchdog of StallTimeout; the bounds on sending and on the response
	// headers need a RoundTripper that reports to an httptrace.ClientTrace
	// (net/http's do), the bound on body reads does not. If its
	// CheckRedirect is nil, s3kit's redirect policy is installed (see the
	// package's Security section), because net/http's default one would
	// send the session token wherever a store redirects, and the
	// signature too when only the port changes. A CheckRedirect the client
	// already has is kept: it then decides where credentials may go.
	HTTPClient *http.Client

	// Logger receives debug records of retries and warnings. nil: nothing
	// is logged. Records never contain credentials or signatures.
	Logger *slog.Logger

	// InsecureSkipVerify DISABLES TLS CERTIFICATE VERIFICATION: anyone on
	// the network path can then read and alter every request, credentials'
	// signatures and object data included. Use it only against a test
	// store with a self-signed certificate, never against real data. A
	// warning is logged when it is set.
	InsecureSkipVerify bool
}

// Client is a connection to S3 or an S3-compatible store: the resolved
// configuration, one tuned HTTP transport, one SDK client and the retry
// policy, shared by every Bucket made from it. A Client is safe for
// concurrent use and should be reused; making one per request throws away
// the connection pool. Close it when done with it (see Close).
type Client struct {
	s3          *s3.Client
	presign     *s3.PresignClient
	region      string
	endpoint    *url.URL // nil for Amazon S3 itself
	pathStyle   bool
	concurrency int
	log         *slog.Logger

	store profileState // what the store honours, found once (StoreProfile)

	pool     *bufferPool
	partSize int64
	checksum *checksummer // nil: ChecksumNone
	// checksumFallback: the checksum was chosen by s3kit, not by the
	// caller, and may be dropped for a store that refuses it.
	checksumFallback bool
	// noChecksums: the store refused checksum headers and took the
	// request without them; set once, never cleared.
	noChecksums atomic.Bool
	// uploadOptions apply to requests that carry object bytes.
	uploadOptions func(*s3.Options)

	// The retry policy, also applied to resuming broken downloads.
	maxAttempts         int
	retryBase, retryMax time.Duration
	seen                bucketsSeen // buckets known to exist, for HEAD's bare 404

	closed atomic.Bool
	// idle closes the idle connections of the transport the Client made;
	// nil when the caller supplied Config.HTTPClient.
	idle func()
}

// New returns a Client for cfg. It resolves credentials lazily: New itself
// sends no request, and a missing credential shows as ErrPermission on the
// first operation.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.MaxAttempts < 0 {
		return nil, &Error{Op: "New", Err: invalidf("MaxAttempts %d is negative", cfg.MaxAttempts)}
	}
	if cfg.RetryBaseDelay < 0 || cfg.RetryMaxDelay < 0 {
		return nil, &Error{Op: "New", Err: invalidf("retry delays must not be negative")}
	}
	if cfg.Concurrency < 0 {
		return nil, &Error{Op: "New", Err: invalidf("Concurrency %d is negative", cfg.Concurrency)}
	}
	if cfg.AccessKeyID != "" && cfg.SecretAccessKey == "" {
		return nil, &Error{Op: "New", Err: invalidf("AccessKeyID is set but SecretAccessKey is empty")}
	}
	if cfg.StallTimeout < 0 {
		return nil, &Error{Op: "New", Err: invalidf("StallTimeout %v is negative", cfg.StallTimeout)}
	}
	if cfg.MemoryLimit < 0 || cfg.PartSize < 0 {
		return nil, &Error{Op: "New", Err: invalidf("MemoryLimit and PartSize must not be negative")}
	}
	if cfg.PartSize != 0 && (cfg.PartSize < MinPartSize || cfg.PartSize > MaxPartSize) {
		return nil, &Error{Op: "New", Err: invalidf("PartSize %d is not between %d (5 MiB) and %d (5 GiB)", cfg.PartSize, MinPartSize, int64(MaxPartSize))}
	}
	switch cfg.Checksum {
	case "", ChecksumCRC64NVME, ChecksumCRC32C, ChecksumCRC32, ChecksumNone:
	default:
		return nil, &Error{Op: "New", Err: invalidf("Checksum %q is not %q, %q, %q or %q", cfg.Checksum, ChecksumCRC64NVME, ChecksumCRC32C, ChecksumCRC32, ChecksumNone)}
	}
	if p := cfg.StoreProfile; p != nil {
		if err := p.validate(); err != nil {
			return nil, &Error{Op: "New", Err: err}
		}
	}
	c := &Client{concurrency: cfg.Concurrency, log: cfg.Logger, partSize: cfg.PartSize}
	if c.partSize == 0 {
		c.partSize = DefaultPartSize
	}
	limit := cfg.MemoryLimit
	if limit == 0 {
		limit = DefaultMemoryLimit
	}
	if limit < c.partSize {
		return nil, &Error{Op: "New", Err: invalidf("MemoryLimit %d is smaller than one part (%d)", limit, c.partSize)}
	}
	c.pool = newBufferPool(limit)
	if c.concurrency == 0 {
		c.concurrency = DefaultConcurrency
	}
	maxAttempts := cfg.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = DefaultMaxAttempts
	}
	base, maxDelay := cfg.RetryBaseDelay, cfg.RetryMaxDelay
	if base == 0 {
		base = DefaultRetryBaseDelay
	}
	if maxDelay == 0 {
		maxDelay = DefaultRetryMaxDelay
	}
	if maxDelay < base {
		maxDelay = base
	}
	c.maxAttempts, c.retryBase, c.retryMax = maxAttempts, base, maxDelay

	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	switch {
	case cfg.Anonymous:
		opts = append(opts, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	case cfg.AccessKeyID != "":
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		// The SDK's message names the file or profile at fault; it holds no
		// secret.
		return nil, &Error{Op: "New", Err: fmt.Errorf("loading AWS configuration: %w", err)}
	}
	if !cfg.Anonymous && awsCfg.Credentials != nil {
		awsCfg.Credentials = credentialsMarker{awsCfg.Credentials}
	}
	c.region = awsCfg.Region
	if c.region == "" {
		c.region = "us-east-1"
	}

	endpoint := cfg.Endpoint
	if endpoint == "" && !strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		endpoint = os.Getenv("AWS_ENDPOINT_URL_S3")
		if endpoint == "" {
			endpoint = os.Getenv("AWS_ENDPOINT_URL")
		}
		if endpoint == "" && awsCfg.BaseEndpoint != nil {
			endpoint = *awsCfg.BaseEndpoint
		}
	}
	if endpoint != "" {
		u, err := parseEndpoint(endpoint)
		if err != nil {
			return nil, &Error{Op: "New", Err: err}
		}
		c.endpoint = u
	}
	c.pathStyle = cfg.PathStyle || (c.endpoint != nil && isLocalHost(c.endpoint.Hostname()))
	c.setProfile(cfg.StoreProfile)
	storeSum := ""
	if c.store.found {
		storeSum = c.store.result.Checksum
	}
	c.checksum = checksummerFor(cmp.Or(cfg.Checksum, storeSum, ChecksumCRC64NVME))
	c.checksumFallback = cfg.Checksum == "" && cfg.StoreProfile == nil
	// A profile that says none is the store's word; a Checksum set is the
	// caller's, which wins.
	c.noChecksums.Store(cfg.Checksum == "" && storeSum == ChecksumNone)
	// Without TLS the signed SHA-256 is what keeps the bytes from being
	// altered in transit; with TLS it is a second pass over every byte for
	// nothing, and the SDK itself then sends UNSIGNED-PAYLOAD. Amazon S3
	// itself is always reached over https.
	c.uploadOptions = func(*s3.Options) {}
	if cfg.UnsignedPayload || c.endpoint == nil || c.endpoint.Scheme == "https" {
		c.uploadOptions = unsignedPayload
	}

	if cfg.InsecureSkipVerify && cfg.Logger != nil {
		cfg.Logger.Warn("s3kit: TLS certificate verification is DISABLED (Config.InsecureSkipVerify); use this only for testing")
	}
	roots := cfg.RootCAs
	if roots == nil {
		roots = sdkRootCAs(awsCfg.HTTPClient)
	}
	httpClient := newHTTPClient(cfg.HTTPClient, c.concurrency, cfg.InsecureSkipVerify, roots, cmp.Or(cfg.StallTimeout, DefaultStallTimeout))
	if cfg.HTTPClient == nil {
		c.idle = httpClient.CloseIdleConnections
	}

	var sdkLog logging.Logger = logging.Nop{}
	if cfg.Logger != nil {
		sdkLog = slogAdapter{cfg.Logger}
	}
	c.s3 = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.Region = c.region
		o.UsePathStyle = c.pathStyle
		if c.endpoint != nil {
			o.BaseEndpoint = aws.String(c.endpoint.String())
		}
		o.HTTPClient = httpClient
		o.Retryer = newRetryer(maxAttempts, base, maxDelay, cfg.Logger)
		o.Logger = sdkLog
		o.ClientLogMode = 0
		// The SDK would otherwise add a CRC32 trailer to every upload and
		// check one on every download: CPU spent twice once s3kit checks its
		// own, and headers that several S3-compatible stores reject. It still
		// sends the checksums operations require (DeleteObjects).
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
		o.APIOptions = append(o.APIOptions, c.refuseWhenClosed, c.dropChecksumMode, c.sdkChecksums)
	})
	c.presign = s3.NewPresignClient(c.s3)
	return c, nil
}

// Close releases what the Client holds: the idle connections of the HTTP
// transport it made and its pooled buffers. A Config.HTTPClient is the
// caller's, possibly shared, and its connections are left alone. After
// Close, every request of the Client, its Buckets, Readers, Writers and
// FSs, and of its S3() and presign clients fails with an error matching
// ErrClosed (and fs.ErrClosed), and is not sent.
//
// Close does not wait for or cancel operations in flight: a request
// already sent completes (its connection is closed once it is idle again),
// and an operation of several requests fails with ErrClosed at its next
// one; a Writer that fails so still aborts its multipart upload, whose
// abort requests Close lets through. Close is safe to call concurrently
// with any other method, and again: it always returns nil.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.idle != nil {
		c.idle()
	}
	c.pool.close()
	return nil
}

// refuseWhenClosed makes every request of a closed Client fail before it
// is signed or sent, except those that clean up a multipart upload.
func (c *Client) refuseWhenClosed(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("s3kitClosed",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if c.closed.Load() {
				switch awsmiddleware.GetOperationName(ctx) {
				case "AbortMultipartUpload", "ListParts":
				default:
					return middleware.InitializeOutput{}, middleware.Metadata{}, ErrClosed
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// S3 returns the SDK client the Client uses, configured as the Client is
// (endpoint, credentials, retries, transport), for operations s3kit does
// not cover. Errors it returns are the SDK's, not *Error.
func (c *Client) S3() *s3.Client { return c.s3 }

// Region returns the region the Client signs requests for.
func (c *Client) Region() string { return c.region }

// parseEndpoint checks an endpoint URL: http or https, a host, no
// credentials, no query. Its errors quote the URL without user
// information, query or fragment, where secrets would be.
func parseEndpoint(s string) (*url.URL, error) {
	shown := redactURL(s)
	if i := strings.IndexAny(shown, "?#"); i >= 0 {
		shown = shown[:i] + "…"
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, invalidf("endpoint %q is not a URL", shown)
	}
	if u.User != nil || strings.Contains(u.Opaque, "@") {
		return nil, invalidf("endpoint %q contains credentials; use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile instead", shown)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, invalidf("endpoint %q must start with http:// or https://", shown)
	}
	if u.Host == "" {
		return nil, invalidf("endpoint %q has no host", shown)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, invalidf("endpoint %q must not have a query or fragment", shown)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// redactURL replaces what stands before an "@" in the authority of a URL
// (user and password) so that a password typed into an endpoint never
// reaches an error message, whether or not the URL has a scheme.
func redactURL(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		start = i + 3
	}
	return s[:start] + "REDACTED@" + s[at+1:]
}

func isLocalHost(host string) bool {
	host = strings.ToLower(host)
	return net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// slogAdapter passes the SDK's own log lines (warnings such as a skipped
// checksum validation) to the Client's Logger.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Logf(class logging.Classification, format string, v ...any) {
	if class == logging.Warn {
		a.l.Warn("s3kit: aws-sdk: " + fmt.Sprintf(format, v...))
		return
	}
	a.l.Debug("s3kit: aws-sdk: " + fmt.Sprintf(format, v...))
}

// Bucket returns a handle on the named bucket. It sends no request; an
// invalid name is reported with ErrInvalid by every operation of the
// handle.
func (c *Client) Bucket(name string) *Bucket {
	return &Bucket{c: c, name: name, err: validBucketName(name)}
}

// credentialsMarker marks a failure to obtain credentials (none configured,
// an expired SSO session, an unreachable metadata service) so that it is
// reported as ErrPermission rather than as an unclassified error.
type credentialsMarker struct{ p aws.CredentialsProvider }

func (m credentialsMarker) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := m.p.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err}
	}
	return c, nil
}

type credentialsError struct{ err error }

func (e *credentialsError) Error() string {
	return "no usable credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile): " + e.err.Error()
}
func (e *credentialsError) Unwrap() error { return e.err }

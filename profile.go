package s3kit

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Store profile names, the values of StoreProfile.Name.
const (
	StoreAmazonS3  = "amazon-s3"
	StoreMinIO     = "minio"
	StoreVersityGW = "versitygw"
	StoreSeaweedFS = "seaweedfs"
	// StoreBackblazeB2 is Backblaze B2's S3-compatible API, known by its
	// host (*.backblazeb2.com): it refuses checksum headers ("Unsupported
	// header 'x-amz-checksum-crc32' received for this API call"), and is
	// otherwise assumed no better than StoreGeneric.
	StoreBackblazeB2 = "backblaze-b2"
	// StoreGeneric is any other S3-compatible store: nothing is assumed of
	// it that S3-compatible stores are known to get wrong.
	StoreGeneric = "generic"
)

// StoreProfile says how a store behaves where S3-compatible stores differ
// from Amazon S3 and from each other: which upload checksum it accepts,
// which conditions it honours and which it ignores, what it does with
// unusual keys. It is what s3kit needs so that its callers need not know
// these differences, and what a caller needs to tell a guarantee from a
// best effort.
//
// A profile is data, established by the conformance suite run against each
// store (the README lists the tests behind every field); a field that is
// false means the store was seen not to do it, or that nothing is known
// (StoreGeneric), never that it was not tried.
type StoreProfile struct {
	// Name is one of the Store* constants.
	Name string

	// Server is the Server header the store answered with, if any: the
	// product and often its version, for logs and bug reports.
	Server string

	// Checksum is the full-object checksum algorithm uploads to the store
	// should carry (ChecksumCRC64NVME, ChecksumCRC32C, ChecksumCRC32), or
	// ChecksumNone for a store that rejects checksum headers. A Client whose profile is
	// known when it is made (Config.StoreProfile, or a store known by its
	// host) uploads with it unless Config.Checksum says otherwise, and with
	// ChecksumNone sends no checksum header at all, x-amz-checksum-mode on
	// reads included.
	Checksum string

	// FullObjectMultipartChecksums: the store takes a full-object CRC for
	// a multipart upload (x-amz-checksum-type: FULL_OBJECT), not only a
	// checksum of checksums of the parts.
	FullObjectMultipartChecksums bool

	// ConditionalWrites: PUT and CompleteMultipartUpload honour If-None-Match
	// and If-Match (a create-only write or a compare-and-swap fails with
	// 412 rather than overwriting).
	ConditionalWrites bool

	// ConditionalDelete: DeleteObject honours If-Match. Where it is false,
	// a delete pinned to an ETag (Move, Rename, Sync's deletes) is no
	// guarantee: the store deletes whatever is there. Checking the ETag
	// with a HEAD just before deleting narrows the window in which a
	// concurrent write is lost, but cannot close it.
	ConditionalDelete bool

	// ConditionalBatchDelete: DeleteObjects honours the ETag of each entry.
	ConditionalBatchDelete bool

	// ObjectACLs: PutObjectAcl with a canned ACL other than private works.
	ObjectACLs bool

	// Tagging: object tags can be set, read and removed.
	Tagging bool

	// KeysVerbatim: keys are stored as sent; a//b, /a and a/../b are
	// three distinct keys that List returns as written. Where it is false
	// the store maps keys to file paths: it merges or strips empty
	// segments, or refuses such keys (see the README's table).
	KeysVerbatim bool

	// MaxKeyLength is the longest key in bytes the store accepts.
	MaxKeyLength int
	// MaxKeySegment, if not 0, is the longest part of a key between two
	// slashes, in bytes, that the store accepts: a store that keeps
	// objects as files refuses longer file names.
	MaxKeySegment int

	// KeepAlive: the store keeps a connection open after a response. A
	// store that closes it costs a TCP (and TLS) handshake per request.
	KeepAlive bool
}

// knownProfiles holds the profile of each known store, as established by
// the tests named in the README. Amazon S3's is its documentation.
func knownProfile(name string) (StoreProfile, bool) {
	switch name {
	case StoreAmazonS3:
		return StoreProfile{
			Name: StoreAmazonS3, Checksum: ChecksumCRC64NVME, FullObjectMultipartChecksums: true,
			ConditionalWrites: true, ConditionalDelete: true, ConditionalBatchDelete: true,
			// New buckets have ACLs disabled (Object Ownership: bucket owner
			// enforced) since April 2023.
			ObjectACLs: false,
			Tagging:    true, KeysVerbatim: true, MaxKeyLength: MaxKeyLength, KeepAlive: true,
		}, true
	case StoreMinIO:
		return StoreProfile{
			Name: StoreMinIO, Checksum: ChecksumCRC64NVME, FullObjectMultipartChecksums: true,
			ConditionalWrites: true, ConditionalDelete: false, ConditionalBatchDelete: false,
			ObjectACLs: false, Tagging: true, KeysVerbatim: false, MaxKeyLength: MaxKeyLength, MaxKeySegment: 255,
			KeepAlive: true,
		}, true
	case StoreVersityGW:
		return StoreProfile{
			Name: StoreVersityGW, Checksum: ChecksumCRC64NVME, FullObjectMultipartChecksums: true,
			ConditionalWrites: true, ConditionalDelete: true, ConditionalBatchDelete: false,
			ObjectACLs: false, Tagging: true, KeysVerbatim: false, MaxKeyLength: MaxKeyLength, MaxKeySegment: 255,
			// Only with --keep-alive; the probe sees which.
			KeepAlive: false,
		}, true
	case StoreSeaweedFS:
		return StoreProfile{
			Name: StoreSeaweedFS, Checksum: ChecksumCRC64NVME, FullObjectMultipartChecksums: true,
			ConditionalWrites: true, ConditionalDelete: true, ConditionalBatchDelete: true,
			ObjectACLs: true, Tagging: true, KeysVerbatim: false, MaxKeyLength: MaxKeyLength, MaxKeySegment: 255,
			KeepAlive: true,
		}, true
	case StoreBackblazeB2:
		// Users report B2 refusing checksum headers, citing the
		// unsupported features of its S3-compatible API documentation;
		// nothing else is assumed.
		return StoreProfile{
			Name: StoreBackblazeB2, Checksum: ChecksumNone,
			ConditionalWrites: true, Tagging: true, MaxKeyLength: MaxKeyLength, KeepAlive: true,
		}, true
	case StoreGeneric:
		// CRC32C rather than CRC64NVME: the older of the two full-object
		// algorithms, which more stores know. Conditions are assumed
		// ignored so that nothing is promised on their strength.
		return StoreProfile{
			Name: StoreGeneric, Checksum: ChecksumCRC32C,
			ConditionalWrites: true, Tagging: true, MaxKeyLength: MaxKeyLength, KeepAlive: true,
		}, true
	}
	return StoreProfile{}, false
}

// KnownStoreProfile returns the profile of the store called name (one of
// the Store* constants), and false for any other name.
func KnownStoreProfile(name string) (StoreProfile, bool) { return knownProfile(name) }

// storeFromServer maps the Server header of a store's response to a
// profile name: "AmazonS3", "MinIO", "SeaweedFS 4.01", "VERSITYGW".
func storeFromServer(server string) string {
	s := strings.ToLower(strings.TrimSpace(server))
	switch {
	case s == "amazons3":
		return StoreAmazonS3
	case strings.HasPrefix(s, "minio"):
		return StoreMinIO
	case strings.HasPrefix(s, "seaweedfs"):
		return StoreSeaweedFS
	case strings.HasPrefix(s, "versitygw"):
		return StoreVersityGW
	}
	return StoreGeneric
}

// isAmazonHost reports whether host is an Amazon S3 endpoint, which needs
// no probe.
func isAmazonHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "amazonaws.com" || strings.HasSuffix(host, ".amazonaws.com") ||
		strings.HasSuffix(host, ".amazonaws.com.cn")
}

// storeFromHost returns the profile name of a store known by the host of
// its endpoint, which needs no probe, or "".
func storeFromHost(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	switch {
	case isAmazonHost(host):
		return StoreAmazonS3
	case host == "backblazeb2.com" || strings.HasSuffix(host, ".backblazeb2.com"):
		return StoreBackblazeB2
	}
	return ""
}

// setProfile settles the Client's profile when it needs no probe: the
// one given in Config.StoreProfile, or the one the endpoint's host names
// (no endpoint is Amazon S3). Called by New, before the Client is shared.
func (c *Client) setProfile(given *StoreProfile) {
	st := c.profileState()
	switch {
	case given != nil:
		st.found, st.result = true, *given
	case c.endpoint == nil:
		st.result, st.found = knownProfile(StoreAmazonS3)
	default:
		if name := storeFromHost(c.endpoint.Hostname()); name != "" {
			st.result, st.found = knownProfile(name)
		}
	}
}

// dropChecksumMode keeps x-amz-checksum-mode off the reads of a Client
// whose store takes no checksum headers (its profile says so, or it
// refused them): Backblaze B2 refuses a GET or HEAD that carries it
// ("Unsupported header 'x-amz-checksum-mode'"), and such a store reports
// no checksum to ask for. A read the store refuses for it (see
// Client.checksumRefused) is sent once more without it, and teaches the
// Client as a refused upload does if the store then answers. A HEAD's
// refusal has no body to say why, and a 400 to a HEAD has other causes
// (an SSE-C object read without its key): it is not retried, and a HEAD
// before the Client has learned fails on such a store.
func (c *Client) dropChecksumMode(stack *middleware.Stack) error {
	// First in Finalize: after every Build step, where reads set the
	// header, and before the retries and the signature.
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("s3kitNoChecksumMode",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			req, ok := in.Request.(*smithyhttp.Request)
			if !ok || req.Header.Get("X-Amz-Checksum-Mode") == "" {
				return next.HandleFinalize(ctx, in)
			}
			if c.noChecksums.Load() {
				req.Header.Del("X-Amz-Checksum-Mode")
				return next.HandleFinalize(ctx, in)
			}
			out, md, err := next.HandleFinalize(ctx, in)
			if !c.checksumRefused(err) || req.RewindStream() != nil {
				return out, md, err
			}
			refusal := err
			req.Header.Del("X-Amz-Checksum-Mode")
			if out, md, err = next.HandleFinalize(ctx, in); err == nil {
				c.dropChecksums(refusal)
			}
			return out, md, err
		}), middleware.Before)
}

// sdkChecksums deals with the checksum the SDK adds by itself to the
// operations that require one (DeleteObjects, bucket configurations): an
// x-amz-checksum-crc32 header, which a store that takes no checksum
// headers refuses. For such a store it becomes Content-MD5, which S3
// required of these operations before flexible checksums and stores
// still know; a store not yet known to refuse them gets the request once
// more so if it refuses it (see Client.checksumRefused), as uploads do.
// The checksums s3kit sets itself on uploads are left to the code that
// sets them.
func (c *Client) sdkChecksums(stack *middleware.Stack) error {
	const computed = "AWSChecksum:ComputeInputPayloadChecksum"
	if _, ok := stack.Finalize.Get(computed); !ok {
		return nil
	}
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("s3kitSDKChecksums",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			req, ok := in.Request.(*smithyhttp.Request)
			if !ok || !hasChecksumHeader(req.Header) {
				return next.HandleFinalize(ctx, in)
			}
			switch awsmiddleware.GetOperationName(ctx) {
			case "PutObject", "UploadPart", "CreateMultipartUpload", "CompleteMultipartUpload":
				return next.HandleFinalize(ctx, in)
			}
			if c.noChecksums.Load() {
				if err := toContentMD5(req); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleFinalize(ctx, in)
			}
			out, md, err := next.HandleFinalize(ctx, in)
			if !c.checksumRefused(err) || toContentMD5(req) != nil {
				return out, md, err
			}
			refusal := err
			if out, md, err = next.HandleFinalize(ctx, in); err == nil {
				c.dropChecksums(refusal)
			}
			return out, md, err
		}), computed, middleware.After)
}

// hasChecksumHeader reports whether h holds a flexible checksum header.
func hasChecksumHeader(h http.Header) bool {
	for name := range h {
		n := strings.ToLower(name)
		if strings.HasPrefix(n, "x-amz-checksum-") || strings.HasPrefix(n, "x-amz-sdk-checksum-") {
			return true
		}
	}
	return false
}

// toContentMD5 replaces the flexible checksum headers of req by the
// Content-MD5 of its body, which it leaves rewound.
func toContentMD5(req *smithyhttp.Request) error {
	if err := req.RewindStream(); err != nil {
		return err
	}
	sum := md5.New()
	if body := req.GetStream(); body != nil {
		if _, err := io.Copy(sum, body); err != nil {
			return err
		}
		if err := req.RewindStream(); err != nil {
			return err
		}
	}
	for name := range req.Header {
		n := strings.ToLower(name)
		if strings.HasPrefix(n, "x-amz-checksum-") || strings.HasPrefix(n, "x-amz-sdk-checksum-") {
			req.Header.Del(name)
		}
	}
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum.Sum(nil)))
	return nil
}

// validate refuses a profile given in Config.StoreProfile that no store
// could have.
func (p *StoreProfile) validate() error {
	switch {
	case p.Name == "":
		return invalidf("StoreProfile has no Name (start from KnownStoreProfile)")
	case checksummerFor(p.Checksum) == nil && p.Checksum != ChecksumNone:
		return invalidf("StoreProfile.Checksum %q is not %q, %q, %q or %q", p.Checksum, ChecksumCRC64NVME, ChecksumCRC32C, ChecksumCRC32, ChecksumNone)
	case p.MaxKeyLength < 1 || p.MaxKeyLength > MaxKeyLength:
		return invalidf("StoreProfile.MaxKeyLength %d is not between 1 and %d", p.MaxKeyLength, MaxKeyLength)
	case p.MaxKeySegment < 0 || p.MaxKeySegment > MaxKeyLength:
		return invalidf("StoreProfile.MaxKeySegment %d is not between 0 and %d", p.MaxKeySegment, MaxKeyLength)
	}
	return nil
}

// profileState is a Client's profile, found once.
type profileState struct {
	mu     sync.Mutex
	found  bool
	result StoreProfile
}

func (c *Client) profileState() *profileState { return &c.store }

// StoreProfile returns the profile of the Client's store. For a profile
// given in Config.StoreProfile, for Amazon S3 (no endpoint, or an
// amazonaws.com host) and for Backblaze B2 (a backblazeb2.com host) it
// sends nothing; otherwise the
// first call sends one ListBuckets request (read-only; asking for at most
// one bucket) and reads the store from its Server header, and whether it
// keeps connections alive from its Connection header. Any HTTP answer will
// do, an access-denied one included, so the probe needs no permission.
//
// The result is cached for the life of the Client; calls are safe for
// concurrent use and wait for a probe in flight. If no answer arrives
// (ctx ends, the store is unreachable), StoreProfile returns the generic
// profile with the error and probes again on the next call.
func (c *Client) StoreProfile(ctx context.Context) (StoreProfile, error) {
	st := c.profileState()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.found {
		return st.result, nil
	}
	p, err := c.probeProfile(ctx)
	if err != nil {
		return p, err
	}
	st.found, st.result = true, p
	return p, nil
}

// storeProfile is StoreProfile for the library's own decisions: a failed
// probe gives the generic profile, which promises nothing.
func (c *Client) storeProfile(ctx context.Context) StoreProfile {
	p, _ := c.StoreProfile(ctx)
	return p
}

func (c *Client) probeProfile(ctx context.Context) (StoreProfile, error) {
	generic, _ := knownProfile(StoreGeneric)
	out, err := c.s3.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1)},
		func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	var resp *http.Response
	if err == nil {
		if raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response); ok {
			resp = raw.Response
		}
	} else {
		var re *smithyhttp.ResponseError
		// A request that got no answer carries a ResponseError too, with
		// status 0.
		if errors.As(err, &re) && re.Response != nil && re.HTTPStatusCode() != 0 {
			resp = re.Response.Response
		}
	}
	if resp == nil {
		if err == nil {
			err = errors.New("no HTTP response")
		}
		return generic, wrapErr("StoreProfile", "", "", err)
	}
	server := resp.Header.Get("Server")
	p, _ := knownProfile(storeFromServer(server))
	p.Server = server
	// A store that closes the connection says so; one that keeps it says
	// nothing (HTTP/1.1) or "keep-alive".
	p.KeepAlive = !resp.Close && !strings.EqualFold(resp.Header.Get("Connection"), "close")
	return p, nil
}

// checkUnchanged is the check a delete pinned to etag makes first on a
// store that ignores If-Match on DeleteObject (see checkETag); elsewhere,
// or with no etag, it sends nothing.
func (b *Bucket) checkUnchanged(ctx context.Context, op, full, etag string) error {
	if etag == "" || b.c.storeProfile(ctx).ConditionalDelete {
		return nil
	}
	return b.checkETag(ctx, op, full, etag)
}

// checkETag fails with ErrPreconditionFailed if the object at the full key
// now has another ETag than etag; a gone object passes (its delete then
// has nothing to do), and so does any object when etag is empty. It reads the ETag from a listing of one key, not a
// HEAD, which would need the customer key of an SSE-C object and read
// permission. It narrows the window in which a write is lost to the time
// between this request and the delete; it cannot close it.
func (b *Bucket) checkETag(ctx context.Context, op, full, etag string) error {
	if etag == "" {
		return nil // an unpinned delete
	}
	out, err := b.c.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(b.name), Prefix: aws.String(full), MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return wrapErr(op, b.name, full, err)
	}
	// The key itself sorts first among the keys it prefixes.
	if len(out.Contents) == 0 || aws.ToString(out.Contents[0].Key) != full {
		return nil
	}
	if got := aws.ToString(out.Contents[0].ETag); strings.Trim(got, `"`) != strings.Trim(etag, `"`) {
		return &Error{Op: op, Bucket: b.name, Key: full, Err: ErrPreconditionFailed,
			Message: "the object's ETag is " + got + ", not " + etag + " (checked before the delete: the store ignores the condition of a delete)"}
	}
	return nil
}

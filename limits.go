package s3kit

import "time"

// Limits of Amazon S3 that s3kit enforces before sending a request. Each is
// taken from the S3 documentation named beside it; S3-compatible stores
// usually share them.
const (
	// MinPartSize is the smallest part of a multipart upload other than the
	// last (Amazon S3 multipart upload limits).
	MinPartSize = 5 << 20

	// MaxPartSize is the largest part of a multipart upload (Amazon S3
	// multipart upload limits).
	MaxPartSize = 5 << 30

	// MaxParts is the largest number of parts in one multipart upload
	// (Amazon S3 multipart upload limits).
	MaxParts = 10000

	// MaxObjectSize is the largest object a multipart upload can make:
	// MaxParts parts of MaxPartSize, 48.8 TiB (Amazon S3 multipart upload
	// limits; older copies of that page say 5 TiB). Stores with a lower
	// limit answer EntityTooLarge.
	MaxObjectSize = MaxParts * MaxPartSize

	// MaxPutSize is the largest body of a single PutObject request (PutObject
	// API reference).
	MaxPutSize = 5 << 30

	// MaxCopySize is the largest source a single CopyObject request copies;
	// larger objects need UploadPartCopy (CopyObject API reference).
	MaxCopySize = 5 << 30

	// MaxKeyLength is the longest object key in bytes of UTF-8 (Amazon S3
	// "Naming objects").
	MaxKeyLength = 1024

	// MaxPresignExpiry is the longest validity of a SigV4 presigned URL
	// (Amazon S3 "Sharing objects with presigned URLs").
	MaxPresignExpiry = 7 * 24 * time.Hour

	// MaxDeleteBatch is the largest number of keys in one DeleteObjects
	// request (DeleteObjects API reference).
	MaxDeleteBatch = 1000

	// MaxListPage is the most keys one ListObjectsV2 response holds
	// (ListObjectsV2 API reference, max-keys).
	MaxListPage = 1000

	// MaxTags is the largest number of tags on one object; keys are at most
	// 128 and values at most 256 Unicode characters (Amazon S3 "Categorizing
	// your storage using tags").
	MaxTags        = 10
	maxTagKeyLen   = 128
	maxTagValueLen = 256

	// MaxMetadataSize is the largest total size in bytes of the user-defined
	// metadata of an object, names and values together (Amazon S3 "Working
	// with object metadata").
	MaxMetadataSize = 2 << 10

	// minBucketNameLen and maxBucketNameLen bound general purpose bucket
	// names (Amazon S3 "General purpose bucket naming rules").
	minBucketNameLen = 3
	maxBucketNameLen = 63
)

// Defaults of s3kit, not limits of S3.
const (
	// DefaultPartSize is the part size of multipart transfers and the
	// largest body Put buffers from a reader of unknown size.
	DefaultPartSize = 8 << 20

	// DefaultMaxAttempts is how many times a request is tried in all,
	// the first attempt included.
	DefaultMaxAttempts = 5

	// DefaultRetryBaseDelay and DefaultRetryMaxDelay bound the back-off
	// between attempts.
	DefaultRetryBaseDelay = 100 * time.Millisecond
	DefaultRetryMaxDelay  = 5 * time.Second

	// DefaultConcurrency is how many requests one batch or transfer runs
	// at once when its options do not say.
	DefaultConcurrency = 8

	// DefaultStallTimeout is how long a request may go without progress
	// (no byte sent or received) when Config.StallTimeout does not say.
	DefaultStallTimeout = 60 * time.Second

	// DefaultMemoryLimit is the default of Config.MemoryLimit.
	DefaultMemoryLimit = 64 << 20
)

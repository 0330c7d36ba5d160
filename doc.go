// Package s3kit is a client for Amazon S3 and S3-compatible object stores
// (MinIO, versitygw, Ceph RGW, Cloudflare R2, …) whose API reads like the
// standard library.
//
// A [Client] holds everything expensive and shared: configuration,
// credentials, one tuned HTTP transport and the retry policy. A [Bucket] is
// a cheap handle on a bucket, optionally scoped under a key prefix with
// [Bucket.Prefix]; making one sends no request.
//
//	c, err := s3kit.New(ctx, s3kit.Config{})   // the standard AWS chain
//	b := c.Bucket("photos").Prefix("2025")      // keys under "2025/"
//	_, err = b.PutString(ctx, "hello.txt", "hi", nil)
//	for obj, err := range b.List(ctx, &s3kit.ListOptions{Delimiter: "/"}) { … }
//
// Every operation that talks to the store takes a context first.
//
// # Transfers
//
// [Bucket.NewWriter] streams an object of any size: at most one part goes
// in one PUT on Close, anything larger as a multipart upload whose parts
// upload in parallel while the caller writes. [Bucket.NewReader] reads one:
// seekable, with parallel prefetch for sequential reads, a concurrent
// ReadAt, and WriteTo for io.Copy. [Bucket.Put] picks the path by itself:
// a large io.ReaderAt (a file) is uploaded in parallel parts straight from
// it. [Bucket.Upload], [Bucket.Download] and [Bucket.DownloadAll] move
// local files, with progress; a failed download never leaves a partial
// file under the final name. Copies above 5 GiB become multipart copies.
//
// The transfers of a Client share one memory budget (Config.MemoryLimit,
// 64 MiB by default). What a program can rely on:
//
//   - The parts of uploads in flight never exceed it: a Writer that would
//     waits for another part to finish uploading (back-pressure). It waits
//     for nothing else, so no pattern of calls can deadlock it: any number
//     of Writers and Readers of one Client may be driven from one goroutine,
//     with any part sizes, and io.Copy from a Reader to a Writer works.
//   - Read-ahead uses only what is free and never waits; a Reader without
//     room reads straight into the caller's buffer, one range at a time.
//     Read-ahead already fetched is kept until it is read, so uploads that
//     overtake it can bring the total to at most twice the limit for a
//     while.
//   - Besides the budget, each open Writer holds the part it is filling: it
//     starts at 64 KiB and grows to the part size as bytes arrive.
//   - Buffers are recycled in size classes; idle ones are left to the
//     garbage collector.
//
// # Files and folders
//
// [Bucket.FS] is an io/fs view of the objects under a handle: it
// implements fs.FS, fs.StatFS, fs.ReadDirFS, fs.ReadFileFS, fs.SubFS and
// fs.GlobFS, so fs.WalkDir, http.FileServerFS, template.ParseFS and
// testing/fstest work on a bucket. Directories are key prefixes, with or
// without a "dir/" marker object. Its write side — [FS.Create],
// [FS.OpenFile], [FS.WriteFile], [FS.Mkdir], [FS.MkdirAll], [FS.Remove],
// [FS.RemoveAll], [FS.Rename] — gives files that stream to the store, or
// that are readable, writable and seekable and uploaded on Close only if
// they changed, guarded against concurrent writers (see [File]).
//
// [Sync] brings a local directory or a bucket prefix up to date with
// another, copying what is missing or different. It merges both sides as
// streams in S3's key order, so its memory does not grow with the number
// of keys, and reports each file through a callback and counts.
//
// # URLs
//
// [OpenBucket], [Open], [Create] and [OpenFS] take s3:// URLs such as
// "s3://photos/2025?endpoint=http://127.0.0.1:9000&cache_control=no-cache",
// whose query sets the connection and the defaults of writes; URLs with the
// same connection settings share one Client. Credentials in a URL are
// refused. These functions trust their URLs, whose endpoint and profile
// parameters decide where the program's credentials go; a [URLOpener]
// opens URLs from users under the rules the program sets.
//
// # Integrity
//
// Every upload carries a full-object CRC64NVME checksum, computed with SIMD
// instructions (Config.Checksum: also CRC32C, CRC32 for clients that check
// only it, or none for stores that reject checksum headers), which the
// store verifies before it stores the object; a multipart upload combines the CRCs of its parts into the one of
// the whole. Every read of a whole object — GetBytes, GetString, GetJSON,
// Lines, a Reader read to the end, Download — is verified against the
// checksum the store reports (CRC64NVME, CRC32C or CRC32 of the full
// object, or the composite CRC32 or CRC32C of a multipart upload's parts,
// checked part by part where the store tells where the parts are), and a
// mismatch is ErrChecksum from the read itself, not from Close.
// ObjectInfo.Verified names the checksum a download matched. versitygw,
// MinIO and SeaweedFS accept and report these checksums.
//
// # Errors
//
// Every failed operation returns an [*Error] naming the operation, bucket
// and key, with the HTTP status, the S3 error code and the request ID
// where the store sent them. Its Err field, reachable with errors.Is, says
// what kind of failure it was:
//
//   - [ErrNotExist] (also fs.ErrNotExist): no such object. HeadObject's bare
//     404 is told apart from a missing bucket with one HeadBucket.
//   - [ErrBucketNotExist] (also fs.ErrNotExist): no such bucket, on every
//     operation.
//   - [ErrPermission] (also fs.ErrPermission): missing or wrong credentials,
//     or access denied.
//   - [ErrExist] (also fs.ErrExist) and [ErrPreconditionFailed]: a
//     create-only or compare-and-swap write lost.
//   - [ErrInvalid] (also fs.ErrInvalid): a bad bucket name, key, option,
//     size or expiry. s3kit checks these before sending any request, and
//     the message says what was wrong.
//   - errors.ErrUnsupported: the store does not implement the operation.
//   - context.Canceled and context.DeadlineExceeded.
//
// Batch operations (DeleteMany, DeleteAll, CopyMany, Sync) report each
// failed key in their result and return a non-nil error whenever anything
// failed.
//
// # Retries
//
// Requests that fail with HTTP 500, 502, 503 or 504, SlowDown and other
// throttling codes, RequestTimeout, InternalError (also when S3 sends it
// with status 200, as it does for failed copies), or a broken connection
// are retried up to Config.MaxAttempts times in all (default 5), with
// exponential back-off and full jitter between Config.RetryBaseDelay and
// Config.RetryMaxDelay. Request bodies are replayed byte for byte. Other
// client errors (4xx) are never retried, and a cancelled context stops at once,
// also during a back-off. The SDK's client-side retry quota is off, so a
// burst of throttling across parallel requests backs off instead of
// failing.
//
// # Consistency
//
// A Reader is pinned to the object it opened: its later requests carry
// If-Match with the ETag, so an object replaced mid-read is
// ErrPreconditionFailed, never a mix of two objects. A broken connection
// resumes from the last byte received, under the same pin.
//
// Amazon S3 gives strong read-after-write consistency for every operation;
// some S3-compatible stores do not, and [Bucket.WaitExists] polls for an
// object there. Writes are atomic: an object is visible in full or not at
// all, and a failed write leaves the previous object in place. Create-only
// writes (PutOptions.IfNoneMatch "*") and compare-and-swap writes
// (PutOptions.IfMatch) let concurrent writers coordinate without locks.
// [Bucket.SetMetadata] and copies with replaced metadata are guarded by the
// source's ETag, so they never undo a concurrent write.
//
// # Security
//
// No error string or log record contains a secret key, session token,
// signature or presigned URL. Credentials in an endpoint URL are refused,
// because URLs end up in logs; use the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), a profile, SSO, web identity or
// instance metadata instead. A presigned URL is a bearer credential until
// it expires (at most 7 days): share it like a password. A presigned PUT
// accepts any body unless PresignOptions bind its length and checksum
// (SHA-256 against an adversary; a CRC only against accidents). OpenBucket
// and the other URL functions are for trusted URLs; open URLs from users
// with a [URLOpener]. TLS certificates
// are verified unless Config.InsecureSkipVerify is set, which is for
// testing only. A store whose certificate a CA of its own signed is
// trusted through Config.RootCAs, or a bundle named by AWS_CA_BUNDLE or the
// profile's ca_bundle, as by the aws CLI. A handshake that fails on the certificate, or
// over TLS to a store that speaks plain HTTP, is an error that says so
// and is not retried.
//
// Customer-provided keys (SSE-C, [SSECustomerKey]) travel in request
// headers, which is why stores take them only over TLS. A key never
// prints itself (fmt, slog) and never appears in an error: only the MD5
// of the key does, which the store reports too. A request for an SSE-C
// object without its key is ErrInvalid; with another key, ErrPermission;
// neither is retried. A presigned URL for an SSE-C object does not hold
// the key: the headers PresignGet and PresignPut return do, and must be
// sent with it. A store that ignores SSE-C (it echoes no key MD5 to a
// PUT) fails the write with errors.ErrUnsupported rather than pass an
// unencrypted object for an encrypted one; the object it stored is left
// in place. An SSE-C object's ETag is not the MD5 of its content, and no
// comparison takes it for one.
//
// Redirects are followed only with status 307 or 308, which keep the
// signed method, and only to the scheme, host and port the request went
// to. A redirect anywhere else, https to http included, fails the request
// with an error and is not retried: the signature and session token never
// reach another server, and another server's answer is never taken for
// the store's. Other 3xx statuses are errors; uploads are not redirected,
// since their body cannot be replayed. A Config.HTTPClient without a
// CheckRedirect gets this policy; one with its own keeps it.
//
// Uploads over https send UNSIGNED-PAYLOAD: TLS protects the bytes. Over
// plain http they carry the signed SHA-256 of their bytes, because the
// checksum is a CRC, not a MAC: whoever can alter the bytes on the way can
// fix up their CRC too. Config.UnsignedPayload saves that second pass
// over the bytes, on trusted networks only.
//
// A request that makes no progress for Config.StallTimeout (default 60 s)
// is abandoned as a broken connection: nothing sent, no response headers,
// or a Read of the body that gets no byte. It is then retried, and a
// download resumes, so a store or proxy that goes silent with the
// connection open cannot hold an operation until its context ends.
package s3kit

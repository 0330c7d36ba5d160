package s3kit

import (
	"cmp"
	"maps"
	"strings"
)

// Bucket is a handle on a bucket, optionally scoped under a key prefix.
// Making one sends no request. Keys given to and returned by a scoped
// handle are relative to its prefix: on b.Prefix("logs"), the key "a.txt"
// is the object "logs/a.txt", and List returns it as "a.txt".
//
// A Bucket is safe for concurrent use. Its methods take a context first;
// cancelling it stops the operation and returns ctx.Err() wrapped in an
// *Error.
type Bucket struct {
	c      *Client
	name   string
	prefix string // "" or ends in "/"
	err    error  // why name, prefix or put defaults are invalid, reported by every operation
	// putDefaults fill what the PutOptions of each write leave empty; nil:
	// none. Validated, never modified.
	putDefaults *PutOptions
	// ssec is the SSE-C key of every request (WithSSECustomerKey); nil:
	// none.
	ssec *SSECustomerKey
}

// Name returns the bucket's name.
func (b *Bucket) Name() string { return b.name }

// KeyPrefix returns the handle's key prefix: "" for the whole bucket, else
// a string ending in "/".
func (b *Bucket) KeyPrefix() string { return b.prefix }

// Client returns the Client the handle was made from.
func (b *Bucket) Client() *Client { return b.c }

// Prefix returns a handle scoped under the handle's prefix followed by the
// elements joined with "/" and ending in "/": b.Prefix("2025", "06") is
// scoped under "2025/06/". Empty elements are skipped and one trailing "/"
// of an element is dropped. Keys are not paths: "." and ".." are kept as
// they are. It sends no request.
func (b *Bucket) Prefix(elem ...string) *Bucket {
	nb := *b
	var sb strings.Builder
	sb.WriteString(b.prefix)
	for _, e := range elem {
		e = strings.TrimSuffix(e, "/")
		if e == "" {
			continue
		}
		sb.WriteString(e)
		sb.WriteByte('/')
	}
	nb.prefix = sb.String()
	if nb.err == nil && len(nb.prefix) >= MaxKeyLength {
		nb.err = invalidf("key prefix is %d bytes; keys are at most %d", len(nb.prefix), MaxKeyLength)
	}
	return &nb
}

// WithPutDefaults returns a handle that writes every object with defaults
// for what the caller's options leave empty: each field of PutOptions that
// a write's own options leave empty ("" or nil) is taken from defaults,
// for Put, PutBytes, PutString, PutJSON, NewWriter and Upload alike, so
// the caller's explicit options always win. A default ContentType
// replaces the detection by the key's extension. Metadata and Tags are
// merged: the write gets the defaults' entries and its own, its own value
// winning for a name both have (metadata names compared case-insensitively,
// as HTTP does, and without an x-amz-meta- prefix). SSE and SSEKMSKeyID go
// together: when a write sets SSE, the defaults' KMS key is not used; a
// write with a customer key (SSE-C) uses neither.
//
// Copy, CopyMany and Move made through the handle take ACL, StorageClass,
// SSE and SSEKMSKeyID from the defaults where the CopyOptions leave them
// empty, since S3 does not carry those over from the source; the content
// headers, metadata and tags of a copy still come from its source or its
// CopyOptions. SetMetadata, SetTags and MakePublic change an object in
// place and ignore the defaults.
//
// defaults may not set IfMatch or IfNoneMatch, which belong to one write,
// nor SSECustomerKey, which reads need too: see WithSSECustomerKey.
// Invalid defaults are reported with ErrInvalid by every operation of the
// returned handle, before any request. The handle keeps a copy of
// defaults; nil gives a handle without defaults. Handles made from the
// returned one with Prefix keep its defaults. It sends no request.
func (b *Bucket) WithPutDefaults(defaults *PutOptions) *Bucket {
	nb := *b
	nb.putDefaults = nil
	if defaults == nil {
		return &nb
	}
	d := *defaults
	d.Metadata, d.Tags = maps.Clone(d.Metadata), maps.Clone(d.Tags)
	nb.putDefaults = &d
	if nb.err == nil {
		nb.err = validPutDefaults(&d)
	}
	return &nb
}

func validPutDefaults(d *PutOptions) error {
	if d.IfMatch != "" || d.IfNoneMatch != "" {
		return invalidf("put defaults cannot set IfMatch or IfNoneMatch; conditions belong to one write")
	}
	if d.SSECustomerKey != nil {
		return invalidf("put defaults cannot set SSECustomerKey; use WithSSECustomerKey, which the reads need too")
	}
	return d.validate()
}

// putOptions returns the options of one write: opts with what it leaves
// empty taken from the handle's defaults (see WithPutDefaults). Applying
// it twice gives the same options. opts is not modified.
func (b *Bucket) putOptions(opts *PutOptions) *PutOptions {
	opts = b.putKey(opts)
	d := b.putDefaults
	if d == nil {
		return opts
	}
	if opts == nil {
		opts = &PutOptions{}
	}
	o := *opts
	o.ContentType = cmp.Or(o.ContentType, d.ContentType)
	o.CacheControl = cmp.Or(o.CacheControl, d.CacheControl)
	o.ContentDisposition = cmp.Or(o.ContentDisposition, d.ContentDisposition)
	o.ContentEncoding = cmp.Or(o.ContentEncoding, d.ContentEncoding)
	o.ContentLanguage = cmp.Or(o.ContentLanguage, d.ContentLanguage)
	o.WebsiteRedirectLocation = cmp.Or(o.WebsiteRedirectLocation, d.WebsiteRedirectLocation)
	if o.Expires.IsZero() {
		o.Expires = d.Expires
	}
	o.ACL = cmp.Or(o.ACL, d.ACL)
	o.StorageClass = cmp.Or(o.StorageClass, d.StorageClass)
	if o.SSE == "" && o.SSECustomerKey == nil {
		o.SSE, o.SSEKMSKeyID = d.SSE, cmp.Or(o.SSEKMSKeyID, d.SSEKMSKeyID)
	}
	o.Metadata = mergeDefaults(d.Metadata, o.Metadata, sameMetaName)
	o.Tags = mergeDefaults(d.Tags, o.Tags, func(a, b string) bool { return a == b })
	return &o
}

// copyOptions returns the options of one copy with the put defaults S3
// does not carry over from the source filled in. opts is not modified.
func (b *Bucket) copyOptions(opts *CopyOptions) *CopyOptions {
	opts = b.copyKey(opts)
	d := b.putDefaults
	if d == nil {
		return opts
	}
	if opts == nil {
		opts = &CopyOptions{}
	}
	o := *opts
	o.ACL = cmp.Or(o.ACL, d.ACL)
	o.StorageClass = cmp.Or(o.StorageClass, d.StorageClass)
	if o.SSE == "" && o.SSECustomerKey == nil {
		o.SSE, o.SSEKMSKeyID = d.SSE, cmp.Or(o.SSEKMSKeyID, d.SSEKMSKeyID)
	}
	return &o
}

// mergeDefaults returns own with the entries of defaults whose name no
// entry of own has (by same); own itself if defaults add nothing.
func mergeDefaults(defaults, own map[string]string, same func(a, b string) bool) map[string]string {
	if len(defaults) == 0 {
		return own
	}
	m := maps.Clone(own)
	if m == nil {
		m = make(map[string]string, len(defaults))
	}
next:
	for k, v := range defaults {
		for ok := range own {
			if same(k, ok) {
				continue next
			}
		}
		m[k] = v
	}
	return m
}

// key returns the full key of rel, or why it is invalid.
func (b *Bucket) key(rel string) (string, error) {
	if b.err != nil {
		return "", b.err
	}
	full := b.prefix + rel
	if err := validKey(full, rel); err != nil {
		return "", err
	}
	return full, nil
}

// rel returns a full key relative to the handle's prefix.
func (b *Bucket) rel(full string) string {
	return strings.TrimPrefix(full, b.prefix)
}

// fail wraps err as the *Error of op on the full key.
func (b *Bucket) fail(op, fullKey string, err error) error {
	return wrapErr(op, b.name, fullKey, err)
}

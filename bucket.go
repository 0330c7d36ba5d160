package s3kit

import (
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
	err    error  // why name or prefix is invalid, reported by every operation
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

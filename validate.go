package s3kit

import (
	"encoding/base64"
	"mime"
	"strings"
	"time"
	"unicode/utf8"
)

// validBucketName reports why name is not a valid general purpose bucket
// name (Amazon S3 "General purpose bucket naming rules"), or nil.
func validBucketName(name string) error {
	if name == "" {
		return invalidf("bucket name is empty")
	}
	if n := len(name); n < minBucketNameLen || n > maxBucketNameLen {
		return invalidf("bucket name %q is %d characters; it must be %d to %d", name, n, minBucketNameLen, maxBucketNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return invalidf("bucket name %q has %q; only lowercase letters, digits, '.' and '-' are allowed", name, string(rune(c)))
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return invalidf("bucket name %q must begin and end with a lowercase letter or digit", name)
	}
	if strings.Contains(name, "..") {
		return invalidf("bucket name %q has two adjacent periods", name)
	}
	if ipFormed(name) {
		return invalidf("bucket name %q is formatted as an IP address", name)
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return invalidf("bucket name %q begins with the reserved prefix %q", name, p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return invalidf("bucket name %q ends with the reserved suffix %q", name, s)
		}
	}
	return nil
}

// ipFormed reports whether name is four dot-separated runs of digits.
// That is the form S3 forbids, whether or not the numbers make an address
// that parses ("256.1.1.1", "010.1.1.1"): MinIO and versitygw refuse
// every such name as InvalidBucketName.
func ipFormed(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// validKey reports why full, an object key with the handle's prefix
// already prepended, is not a key S3 accepts, or nil. rel is the key as the
// caller gave it, for the message.
func validKey(full, rel string) error {
	if rel == "" {
		return invalidf("object key is empty")
	}
	if !utf8.ValidString(full) {
		return invalidf("object key %q is not valid UTF-8", rel)
	}
	if len(full) > MaxKeyLength {
		return invalidf("object key is %d bytes (prefix included); the limit is %d", len(full), MaxKeyLength)
	}
	return nil
}

// validExpiry reports why d is not a presigned URL lifetime, or nil.
func validExpiry(d time.Duration) error {
	if d <= 0 {
		return invalidf("expiry %v is not positive", d)
	}
	if d > MaxPresignExpiry {
		return invalidf("expiry %v is longer than the 7 days (%v) a SigV4 presigned URL may last", d, MaxPresignExpiry)
	}
	return nil
}

// validHeaderValue reports why v cannot be sent as the value of the header
// named what: a CR or LF would split the request, and S3 accepts only
// printable US-ASCII there.
func validHeaderValue(what, v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c >= 0x7f {
			return invalidf("%s %q has a byte 0x%02x; only printable US-ASCII is allowed", what, v, c)
		}
	}
	return nil
}

// validMetadata checks user metadata: names are HTTP tokens (sent as
// x-amz-meta-NAME headers), values printable UTF-8 (sent RFC 2047-encoded
// where they are not US-ASCII, see encodeMetaValue), at most 2 KiB in all,
// counted as sent.
// A name may be given with its header prefix ("x-amz-meta-state", in any
// case), which is stripped (see metaName); two names that are the same
// once stripped and compared without regard to case are refused, since S3
// stores names in lower case and would keep only one of them.
func validMetadata(m map[string]string) error {
	total := 0
	seen := make(map[string]string, len(m))
	for k, v := range m {
		if k == "" {
			return invalidf("metadata name is empty")
		}
		for i := 0; i < len(k); i++ {
			if !tokenChar(k[i]) {
				return invalidf("metadata name %q has %q; names must be HTTP header tokens", k, string(rune(k[i])))
			}
		}
		name := metaName(k)
		if name == "" {
			return invalidf("metadata name %q is only the header prefix %s", k, metaPrefix)
		}
		if other, dup := seen[strings.ToLower(name)]; dup {
			a, b := min(k, other), max(k, other) // the same message whatever the map's order
			return invalidf("metadata names %q and %q are the same name (S3 stores names in lower case, without the %s prefix)", a, b, metaPrefix)
		}
		seen[strings.ToLower(name)] = k
		if err := validMetaValue(k, v); err != nil {
			return err
		}
		total += len(name) + len(encodeMetaValue(v))
	}
	if total > MaxMetadataSize {
		return invalidf("metadata is %d bytes; the limit is %d", total, MaxMetadataSize)
	}
	return nil
}

// metaPrefix begins the header of each user metadata entry.
const metaPrefix = "x-amz-meta-"

// metaName returns the metadata name k without the header prefix
// x-amz-meta- (in any case, repeated or not), which the SDK adds itself:
// passed on, "x-amz-meta-state" would be stored as
// x-amz-meta-x-amz-meta-state.
func metaName(k string) string {
	for len(k) >= len(metaPrefix) && strings.EqualFold(k[:len(metaPrefix)], metaPrefix) {
		k = k[len(metaPrefix):]
	}
	return k
}

// sameMetaName reports whether two metadata names name the same entry.
func sameMetaName(a, b string) bool { return strings.EqualFold(metaName(a), metaName(b)) }

// metaHeaders returns the metadata to send for m, which validMetadata
// accepted: m itself, or a copy with the names' header prefixes stripped
// and the values encoded (encodeMetaValue).
func metaHeaders(m map[string]string) map[string]string {
	for k, v := range m {
		if metaName(k) != k || encodeMetaValue(v) != v {
			out := make(map[string]string, len(m))
			for k, v := range m {
				out[metaName(k)] = encodeMetaValue(v)
			}
			return out
		}
	}
	return m
}

// validMetaValue reports why v cannot be the value of the metadata entry
// k: it is not UTF-8, or has a control character (a CR or LF would split
// the request).
func validMetaValue(k, v string) error {
	if !utf8.ValidString(v) {
		return invalidf("metadata value of %s %q is not UTF-8", k, v)
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return invalidf("metadata value of %s %q has the control character %U", k, v, r)
		}
	}
	return nil
}

// encodeMetaValue returns v as S3 takes it in a header: unchanged if it
// is printable US-ASCII, else RFC 2047 encoded words of UTF-8, as S3
// documents for user metadata (it decodes them on write and encodes
// them again on read; other stores keep them as sent). A US-ASCII value
// that decodeMetaValue would change (it holds something like an encoded
// word) is encoded too, so that it reads back as written.
func encodeMetaValue(v string) string {
	if validHeaderValue("", v) == nil {
		if decodeMetaValue(v) == v {
			return v
		}
		// mime's encoders leave US-ASCII as it is: B-encode it here,
		// in words of at most 75 characters (45 bytes each).
		var words []string
		for len(v) > 0 {
			n := min(len(v), 45)
			words = append(words, "=?UTF-8?b?"+base64.StdEncoding.EncodeToString([]byte(v[:n]))+"?=")
			v = v[n:]
		}
		return strings.Join(words, " ")
	}
	return mime.QEncoding.Encode("UTF-8", v)
}

// metaDecoder decodes RFC 2047 encoded words in UTF-8, US-ASCII and
// ISO-8859-1, the charsets mime knows without a CharsetReader.
var metaDecoder = new(mime.WordDecoder)

// decodeMetaValue returns a metadata value as read from a store: with its
// RFC 2047 encoded words decoded (S3 and MinIO encode a value that is not
// US-ASCII; versitygw and SeaweedFS return raw UTF-8 as sent), or as it
// is if it has none, cannot be decoded, or decodes to what s3kit would
// not write.
func decodeMetaValue(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := metaDecoder.DecodeHeader(v)
	if err != nil || validMetaValue("", d) != nil {
		// Kept as read: a value with a control character could not be
		// written back (see validMetaValue).
		return v
	}
	return d
}

// decodeMeta returns the user metadata a response carried with its values
// decoded (decodeMetaValue): m itself if none needed it.
func decodeMeta(m map[string]string) map[string]string {
	for _, v := range m {
		if decodeMetaValue(v) != v {
			out := make(map[string]string, len(m))
			for k, v := range m {
				out[k] = decodeMetaValue(v)
			}
			return out
		}
	}
	return m
}

func tokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validTags checks object tags against S3's limits.
func validTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return invalidf("%d tags; an object takes at most %d", len(tags), MaxTags)
	}
	for k, v := range tags {
		if k == "" {
			return invalidf("tag key is empty")
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return invalidf("tag %q is not valid UTF-8", k)
		}
		if n := utf8.RuneCountInString(k); n > maxTagKeyLen {
			return invalidf("tag key %q is %d characters; the limit is %d", k, n, maxTagKeyLen)
		}
		if n := utf8.RuneCountInString(v); n > maxTagValueLen {
			return invalidf("tag value of %q is %d characters; the limit is %d", k, n, maxTagValueLen)
		}
	}
	return nil
}

// cannedACLs are the canned ACLs S3 defines (Amazon S3 "Access control list
// (ACL) overview").
var cannedACLs = []string{
	"private", "public-read", "public-read-write", "authenticated-read",
	"aws-exec-read", "bucket-owner-read", "bucket-owner-full-control",
}

func validACL(acl string) error {
	if acl == "" {
		return nil
	}
	for _, a := range cannedACLs {
		if acl == a {
			return nil
		}
	}
	return invalidf("ACL %q is not a canned ACL (%s)", acl, strings.Join(cannedACLs, ", "))
}

// validStorageClass accepts any upper-case token: stores other than AWS
// define their own classes, so only the form is checked.
func validStorageClass(sc string) error {
	for i := 0; i < len(sc); i++ {
		if c := sc[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return invalidf("storage class %q must be upper-case letters, digits and '_' (such as STANDARD_IA)", sc)
		}
	}
	return nil
}

func validSSE(sse, kmsKeyID string) error {
	switch sse {
	case "", SSES3, SSEKMS, SSEKMSDSSE:
	default:
		return invalidf("server-side encryption %q is not one of %q, %q, %q", sse, SSES3, SSEKMS, SSEKMSDSSE)
	}
	if kmsKeyID != "" && sse != SSEKMS && sse != SSEKMSDSSE {
		return invalidf("a KMS key ID needs server-side encryption %q", SSEKMS)
	}
	return validHeaderValue("KMS key ID", kmsKeyID)
}

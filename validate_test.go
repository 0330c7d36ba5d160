package s3kit

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wantInvalid fails the test unless err is an argument error that callers
// can recognise both as ErrInvalid and, through io/fs, as fs.ErrInvalid,
// and whose text names the reason (so a user can fix the argument).
func wantInvalid(t *testing.T, err error, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want an ErrInvalid error mentioning %q", reason)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	if !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("errors.Is(%v, fs.ErrInvalid) = false", err)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("error %q does not mention %q", err, reason)
	}
}

// checkValid runs one table case: want "" means the input must be accepted,
// anything else is the reason the error must mention.
func checkValid(t *testing.T, err error, reason string) {
	t.Helper()
	if reason == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	wantInvalid(t, err, reason)
}

func TestValidBucketName(t *testing.T) {
	tests := []struct {
		name   string
		bucket string
		reason string // "" means valid
	}{
		{"shortest", "abc", ""},
		{"dots and dashes", "my-bucket.data", ""},
		{"digits", "123", ""},
		{"63 chars", strings.Repeat("a", 63), ""},
		{"empty", "", "empty"},
		{"2 chars", "ab", "is 2 characters"},
		{"64 chars", strings.Repeat("a", 64), "is 64 characters"},
		{"uppercase", "myBucket", `has "B"`},
		{"underscore", "my_bucket", `has "_"`},
		{"space", "my bucket", `has " "`},
		{"non-ASCII", "bücket", "only lowercase letters"},
		{"leading dash", "-abc", "begin and end"},
		{"trailing dash", "abc-", "begin and end"},
		{"leading dot", ".abc", "begin and end"},
		{"trailing dot", "abc.", "begin and end"},
		{"adjacent dots", "a..b", "adjacent periods"},
		{"IPv4 form", "192.168.5.4", "IP address"},
		{"reserved prefix xn--", "xn--abc", `reserved prefix "xn--"`},
		{"reserved prefix sthree-", "sthree-x", `reserved prefix "sthree-"`},
		{"reserved prefix amzn-s3-demo-", "amzn-s3-demo-x", `reserved prefix "amzn-s3-demo-"`},
		{"reserved suffix -s3alias", "x-s3alias", `reserved suffix "-s3alias"`},
		{"reserved suffix --ol-s3", "x--ol-s3", `reserved suffix "--ol-s3"`},
		{"reserved suffix .mrap", "x.mrap", `reserved suffix ".mrap"`},
		{"reserved suffix --x-s3", "x--x-s3", `reserved suffix "--x-s3"`},
		{"reserved suffix --table-s3", "x--table-s3", `reserved suffix "--table-s3"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValid(t, validBucketName(tt.bucket), tt.reason)
		})
	}
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		name      string
		full, rel string
		reason    string
	}{
		{"plain", "a/b.txt", "a/b.txt", ""},
		{"unicode", "données/été.csv", "données/été.csv", ""},
		{"exactly 1024 bytes", strings.Repeat("k", 1024), strings.Repeat("k", 1024), ""},
		{"1024 bytes of multi-byte runes", strings.Repeat("é", 512), strings.Repeat("é", 512), ""},
		{"1025 bytes", strings.Repeat("k", 1025), strings.Repeat("k", 1025), "1025 bytes"},
		// The limit is in bytes, not characters: 513 "é" are 1026 bytes.
		{"513 two-byte runes", strings.Repeat("é", 513), strings.Repeat("é", 513), "1026 bytes"},
		{"empty", "", "", "empty"},
		{"empty relative key under a prefix", "p/", "", "empty"},
		{"invalid UTF-8", "\xff", "\xff", "not valid UTF-8"},
		{"invalid UTF-8 in the prefix", "\xff/k", "k", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValid(t, validKey(tt.full, tt.rel), tt.reason)
		})
	}
}

// TestValidKeyWithPrefix checks that the 1024-byte limit counts the
// handle's prefix, which S3 sees as part of the key.
func TestValidKeyWithPrefix(t *testing.T) {
	tests := []struct {
		name   string
		b      *Bucket
		rel    string
		want   string // the full key when valid
		reason string
	}{
		{"prefix + key = 1024", &Bucket{name: "b", prefix: "p/"}, strings.Repeat("k", 1022), "p/" + strings.Repeat("k", 1022), ""},
		{"prefix + key = 1025", &Bucket{name: "b", prefix: "p/"}, strings.Repeat("k", 1023), "", "1025 bytes (prefix included)"},
		{"empty key", &Bucket{name: "b", prefix: "p/"}, "", "", "empty"},
		{"invalid UTF-8", &Bucket{name: "b", prefix: "p/"}, "\xff", "", "not valid UTF-8"},
		{"Prefix of 1023 bytes, 1-byte key", (&Bucket{name: "b"}).Prefix(strings.Repeat("a", 1022)), "x", strings.Repeat("a", 1022) + "/x", ""},
		{"Prefix of 1023 bytes, 2-byte key", (&Bucket{name: "b"}).Prefix(strings.Repeat("a", 1022)), "xy", "", "1025 bytes"},
		// A 1024-byte prefix leaves no room for any key, so Prefix
		// itself records the error and every key is refused.
		{"Prefix of 1024 bytes", (&Bucket{name: "b"}).Prefix(strings.Repeat("a", 1023)), "x", "", "key prefix is 1024 bytes"},
		{"Prefix too long over several calls", (&Bucket{name: "b"}).Prefix(strings.Repeat("a", 600)).Prefix(strings.Repeat("b", 600)), "x", "", "key prefix is 1202 bytes"},
		{"invalid bucket name", &Bucket{name: "B", err: validBucketName("B")}, "k", "", "bucket name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.b.key(tt.rel)
			checkValid(t, err, tt.reason)
			if tt.reason == "" && got != tt.want {
				t.Errorf("key(%q) = %q, want %q", tt.rel, got, tt.want)
			}
		})
	}
}

func TestValidExpiry(t *testing.T) {
	tests := []struct {
		name   string
		d      time.Duration
		reason string
	}{
		{"zero", 0, "not positive"},
		{"negative", -time.Second, "not positive"},
		{"1ns", time.Nanosecond, ""},
		{"15 minutes", 15 * time.Minute, ""},
		{"7 days", 7 * 24 * time.Hour, ""},
		{"7 days + 1ns", 7*24*time.Hour + time.Nanosecond, "longer than the 7 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValid(t, validExpiry(tt.d), tt.reason)
		})
	}
}

func TestValidHeaderValue(t *testing.T) {
	tests := []struct {
		name   string
		v      string
		reason string
	}{
		{"empty", "", ""},
		{"printable", `text/plain; charset=utf-8`, ""},
		{"tab", "a\tb", ""},
		{"space and tilde", "a b~", ""},
		// CR and LF would let a value start a new header.
		{"CR", "a\rb", "0x0d"},
		{"LF", "a\nb", "0x0a"},
		{"CRLF injection", "x\r\nX-Amz-Acl: public-read", "0x0d"},
		{"NUL", "a\x00b", "0x00"},
		{"DEL", "a\x7fb", "0x7f"},
		{"non-ASCII", "café", "0xc3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validHeaderValue("CacheControl", tt.v)
			checkValid(t, err, tt.reason)
			if err != nil && !strings.Contains(err.Error(), "CacheControl") {
				t.Errorf("error %q does not name the header", err)
			}
		})
	}
}

func TestValidMetadata(t *testing.T) {
	tests := []struct {
		name   string
		m      map[string]string
		reason string
	}{
		{"nil", nil, ""},
		{"simple", map[string]string{"owner": "alice", "x-trace_id.v2": "1"}, ""},
		{"exactly 2 KiB", map[string]string{"k": strings.Repeat("v", 2047)}, ""},
		{"name with space", map[string]string{"my name": "v"}, `has " "`},
		{"name with colon", map[string]string{"a:b": "v"}, `has ":"`},
		{"empty name", map[string]string{"": "v"}, "name is empty"},
		{"name with non-ASCII", map[string]string{"naïve": "v"}, "HTTP header tokens"},
		{"value with newline", map[string]string{"k": "a\nb"}, "metadata value of k"},
		{"value with non-ASCII", map[string]string{"k": "東京 é"}, ""},
		{"value not UTF-8", map[string]string{"k": "\xff"}, "not UTF-8"},
		{"value with a C1 control", map[string]string{"k": "a\u0085b"}, "control character"},
		// 600 bytes of UTF-8, over 2 KiB as RFC 2047 encoded words.
		{"2 KiB counted encoded", map[string]string{"k": strings.Repeat("é", 300)}, "the limit is 2048"},
		{"2 KiB + 1", map[string]string{"k": strings.Repeat("v", 2048)}, "2049 bytes"},
		{"over 2 KiB across entries", map[string]string{"a": strings.Repeat("v", 1500), "b": strings.Repeat("v", 1500)}, "3002 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValid(t, validMetadata(tt.m), tt.reason)
		})
	}
}

func TestValidTags(t *testing.T) {
	nTags := func(n int) map[string]string {
		m := make(map[string]string, n)
		for i := range n {
			m["k"+strconv.Itoa(i)] = "v"
		}
		return m
	}
	tests := []struct {
		name   string
		tags   map[string]string
		reason string
	}{
		{"nil", nil, ""},
		{"10 tags", nTags(10), ""},
		{"11 tags", nTags(11), "11 tags"},
		{"128-char key", map[string]string{strings.Repeat("k", 128): "v"}, ""},
		// Limits count characters, not bytes: 128 "é" are 256 bytes.
		{"128 two-byte runes in key", map[string]string{strings.Repeat("é", 128): "v"}, ""},
		{"129-char key", map[string]string{strings.Repeat("k", 129): "v"}, "129 characters"},
		{"256-char value", map[string]string{"k": strings.Repeat("v", 256)}, ""},
		{"257-char value", map[string]string{"k": strings.Repeat("v", 257)}, "257 characters"},
		{"empty value", map[string]string{"k": ""}, ""},
		{"empty key", map[string]string{"": "v"}, "key is empty"},
		{"invalid UTF-8 key", map[string]string{"\xff": "v"}, "not valid UTF-8"},
		{"invalid UTF-8 value", map[string]string{"k": "\xff"}, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValid(t, validTags(tt.tags), tt.reason)
		})
	}
}

func TestValidACL(t *testing.T) {
	tests := []struct {
		acl    string
		reason string
	}{
		{"", ""},
		{"private", ""},
		{"public-read", ""},
		{"public-read-write", ""},
		{"authenticated-read", ""},
		{"aws-exec-read", ""},
		{"bucket-owner-read", ""},
		{"bucket-owner-full-control", ""},
		{"Private", "not a canned ACL"},
		{"public", "not a canned ACL"},
		{"private ", "not a canned ACL"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.acl), func(t *testing.T) {
			checkValid(t, validACL(tt.acl), tt.reason)
		})
	}
}

func TestValidStorageClass(t *testing.T) {
	tests := []struct {
		sc     string
		reason string
	}{
		{"", ""},
		{"STANDARD", ""},
		{"STANDARD_IA", ""},
		{"GLACIER_IR", ""},
		{"TIER2", ""}, // other stores define their own classes
		{"standard", "upper-case"},
		{"STANDARD-IA", "upper-case"},
		{"STANDARD IA", "upper-case"},
		{"STANDARD\n", "upper-case"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.sc), func(t *testing.T) {
			checkValid(t, validStorageClass(tt.sc), tt.reason)
		})
	}
}

func TestValidSSE(t *testing.T) {
	tests := []struct {
		name     string
		sse, key string
		reason   string
	}{
		{"none", "", "", ""},
		{"SSE-S3", SSES3, "", ""},
		{"SSE-KMS default key", SSEKMS, "", ""},
		{"SSE-KMS with key", SSEKMS, "arn:aws:kms:us-east-1:111122223333:key/abc", ""},
		{"DSSE-KMS with key", SSEKMSDSSE, "abc", ""},
		{"unknown mode", "aes256", "", "is not one of"},
		{"unknown mode aws:kms2", "aws:kms2", "", "is not one of"},
		{"KMS key without a mode", "", "abc", "needs server-side encryption"},
		{"KMS key with SSE-S3", SSES3, "abc", "needs server-side encryption"},
		{"KMS key with a newline", SSEKMS, "abc\nX: y", "KMS key ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValid(t, validSSE(tt.sse, tt.key), tt.reason)
		})
	}
}

func TestPutOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		o      *PutOptions
		reason string
	}{
		{"nil", nil, ""},
		{"zero", &PutOptions{}, ""},
		{"create-only", &PutOptions{IfNoneMatch: "*"}, ""},
		{"compare-and-swap", &PutOptions{IfMatch: `"0123abcd"`}, ""},
		{"everything valid", &PutOptions{
			ContentType: "text/csv", CacheControl: "max-age=60", Metadata: map[string]string{"a": "b"},
			Tags: map[string]string{"t": "v"}, ACL: "private", StorageClass: "STANDARD_IA", SSE: SSEKMS, SSEKMSKeyID: "k",
		}, ""},
		{"IfNoneMatch an ETag", &PutOptions{IfNoneMatch: `"0123abcd"`}, `S3 accepts only "*"`},
		{"IfNoneMatch and IfMatch", &PutOptions{IfNoneMatch: "*", IfMatch: `"0123abcd"`}, "cannot both be set"},
		{"ContentType with CRLF", &PutOptions{ContentType: "text/plain\r\nX: y"}, "ContentType"},
		{"IfMatch with LF", &PutOptions{IfMatch: "a\nb"}, "IfMatch"},
		{"bad metadata", &PutOptions{Metadata: map[string]string{"a b": "v"}}, "metadata name"},
		{"bad tags", &PutOptions{Tags: map[string]string{"": "v"}}, "tag key is empty"},
		{"bad ACL", &PutOptions{ACL: "public"}, "canned ACL"},
		{"bad storage class", &PutOptions{StorageClass: "cold"}, "storage class"},
		{"bad SSE", &PutOptions{SSE: "rot13"}, "server-side encryption"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValid(t, tt.o.validate(), tt.reason)
		})
	}
}

func TestCopyOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		o      *CopyOptions
		reason string
	}{
		{"nil", nil, ""},
		{"zero", &CopyOptions{}, ""},
		{"other bucket", &CopyOptions{DestBucket: "other-bucket"}, ""},
		{"replace metadata", &CopyOptions{ReplaceMetadata: true, Metadata: map[string]string{"a": "b"}, ContentType: "text/plain"}, ""},
		{"empty tags remove them", &CopyOptions{Tags: map[string]string{}}, ""},
		{"Metadata without ReplaceMetadata", &CopyOptions{Metadata: map[string]string{"a": "b"}}, "need ReplaceMetadata"},
		// An empty but non-nil map still asks for a metadata change.
		{"empty Metadata without ReplaceMetadata", &CopyOptions{Metadata: map[string]string{}}, "need ReplaceMetadata"},
		{"ContentType without ReplaceMetadata", &CopyOptions{ContentType: "text/plain"}, "need ReplaceMetadata"},
		{"bad DestBucket", &CopyOptions{DestBucket: "Bad_Bucket"}, "bucket name"},
		{"DestBucket with reserved prefix", &CopyOptions{DestBucket: "xn--abc"}, "reserved prefix"},
		{"bad metadata", &CopyOptions{ReplaceMetadata: true, Metadata: map[string]string{"a:b": "v"}}, "metadata name"},
		{"too many tags", &CopyOptions{Tags: map[string]string{"1": "", "2": "", "3": "", "4": "", "5": "", "6": "", "7": "", "8": "", "9": "", "10": "", "11": ""}}, "11 tags"},
		{"bad ACL", &CopyOptions{ACL: "public"}, "canned ACL"},
		{"KMS key without SSE", &CopyOptions{SSEKMSKeyID: "k"}, "KMS key"},
		{"IfMatch with CR", &CopyOptions{IfMatch: "a\rb"}, "IfMatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValid(t, tt.o.validate(), tt.reason)
		})
	}
}

func TestListInput(t *testing.T) {
	scoped := &Bucket{name: "b", prefix: "p/"}
	whole := &Bucket{name: "b"}
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return strconv.Quote(*p)
	}
	tests := []struct {
		name    string
		b       *Bucket
		opts    ListOptions
		reason  string // error wanted
		prefix  string // the request's Prefix, "<nil>" for none
		delim   string
		start   string
		maxKeys int32 // 0 for unset
		glob    bool  // a glob is returned
	}{
		{name: "whole bucket", b: whole, prefix: "<nil>", delim: "<nil>", start: "<nil>"},
		{name: "scoped handle", b: scoped, prefix: `"p/"`, delim: "<nil>", start: "<nil>"},
		{name: "Prefix under the handle", b: scoped, opts: ListOptions{Prefix: "logs/"}, prefix: `"p/logs/"`, delim: "<nil>", start: "<nil>"},
		{name: "Delimiter and StartAfter", b: scoped, opts: ListOptions{Delimiter: "/", StartAfter: "k"}, prefix: `"p/"`, delim: `"/"`, start: `"p/k"`},
		{name: "PageSize 1", b: scoped, opts: ListOptions{PageSize: 1}, prefix: `"p/"`, delim: "<nil>", start: "<nil>", maxKeys: 1},
		{name: "PageSize 1000", b: scoped, opts: ListOptions{PageSize: 1000}, prefix: `"p/"`, delim: "<nil>", start: "<nil>", maxKeys: 1000},
		{name: "PageSize -1", b: scoped, opts: ListOptions{PageSize: -1}, reason: "PageSize -1"},
		{name: "PageSize 1001", b: scoped, opts: ListOptions{PageSize: 1001}, reason: "PageSize 1001"},
		{name: "FilesOnly and DirsOnly", b: scoped, opts: ListOptions{FilesOnly: true, DirsOnly: true}, reason: "cannot both be set"},
		{name: "malformed Pattern", b: scoped, opts: ListOptions{Pattern: "[a"}, reason: "unterminated ["},
		{name: "invalid handle", b: &Bucket{name: "B", err: validBucketName("B")}, reason: "bucket name"},
		// The literal head of the pattern narrows the listing on the server.
		{name: "Pattern narrows the prefix", b: scoped, opts: ListOptions{Pattern: "logs/2025-*.gz"}, prefix: `"p/logs/2025-"`, delim: "<nil>", start: "<nil>", glob: true},
		{name: "Pattern narrows a shorter Prefix", b: scoped, opts: ListOptions{Prefix: "logs/", Pattern: "logs/2025-*"}, prefix: `"p/logs/2025-"`, delim: "<nil>", start: "<nil>", glob: true},
		{name: "Prefix longer than the Pattern's literal", b: scoped, opts: ListOptions{Prefix: "logs/2025-06", Pattern: "logs/*"}, prefix: `"p/logs/2025-06"`, delim: "<nil>", start: "<nil>", glob: true},
		{name: "Pattern with no literal head", b: whole, opts: ListOptions{Pattern: "*.gz"}, prefix: "<nil>", delim: "<nil>", start: "<nil>", glob: true},
		{name: "Pattern with escaped wildcard", b: whole, opts: ListOptions{Pattern: `a\*b/*`}, prefix: `"a*b/"`, delim: "<nil>", start: "<nil>", glob: true},
		// A directory Prefix makes a Pattern that does not begin with it
		// relative to it; other Prefixes that contradict the Pattern are
		// refused rather than listing nothing.
		{name: "Pattern relative to a directory Prefix", b: scoped, opts: ListOptions{Prefix: "docs/", Pattern: "*.txt"}, prefix: `"p/docs/"`, delim: "<nil>", start: "<nil>", glob: true},
		{name: "Pattern literal relative to a directory Prefix", b: scoped, opts: ListOptions{Prefix: "x/", Pattern: "y/*"}, prefix: `"p/x/y/"`, delim: "<nil>", start: "<nil>", glob: true},
		{name: "Pattern relative to a directory Prefix with wildcards", b: scoped, opts: ListOptions{Prefix: "a*[b]/", Pattern: "c*"}, prefix: `"p/a*[b]/c"`, delim: "<nil>", start: "<nil>", glob: true},
		{name: "Prefix and Pattern disjoint", b: scoped, opts: ListOptions{Prefix: "x", Pattern: "y/*"}, reason: `no key can begin with Prefix "x" and match Pattern "y/*"`},
		{name: "Prefix deeper than the Pattern", b: scoped, opts: ListOptions{Prefix: "docs/a", Pattern: "*.txt"}, reason: "no key can begin with Prefix"},
		{name: "Prefix deeper than a ** Pattern", b: scoped, opts: ListOptions{Prefix: "docs/a", Pattern: "**.txt"}, prefix: `"p/docs/a"`, delim: "<nil>", start: "<nil>", glob: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, g, err := tt.b.listInput(&tt.opts)
			if tt.reason != "" {
				wantInvalid(t, err, tt.reason)
				if in != nil {
					t.Errorf("request %+v returned with an error", in)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if in == nil {
				t.Fatal("request is nil")
			}
			if got := str(in.Bucket); got != `"b"` {
				t.Errorf("Bucket = %s, want \"b\"", got)
			}
			if got := str(in.Prefix); got != tt.prefix {
				t.Errorf("Prefix = %s, want %s", got, tt.prefix)
			}
			if got := str(in.Delimiter); got != tt.delim {
				t.Errorf("Delimiter = %s, want %s", got, tt.delim)
			}
			if got := str(in.StartAfter); got != tt.start {
				t.Errorf("StartAfter = %s, want %s", got, tt.start)
			}
			var maxKeys int32
			if in.MaxKeys != nil {
				maxKeys = *in.MaxKeys
			}
			if maxKeys != tt.maxKeys {
				t.Errorf("MaxKeys = %d, want %d", maxKeys, tt.maxKeys)
			}
			if (g != nil) != tt.glob {
				t.Errorf("glob returned = %v, want %v", g != nil, tt.glob)
			}
		})
	}
}

func TestParseEndpoint(t *testing.T) {
	const secret = "hunter2"
	tests := []struct {
		name   string
		in     string
		want   string // the URL returned, if valid
		reason string
	}{
		{"http with port", "http://127.0.0.1:9000", "http://127.0.0.1:9000", ""},
		{"https", "https://s3.example.com", "https://s3.example.com", ""},
		{"trailing slash trimmed", "https://s3.example.com/", "https://s3.example.com", ""},
		{"base path trailing slash trimmed", "http://host:9000/s3/", "http://host:9000/s3", ""},
		{"IPv6", "http://[::1]:9000", "http://[::1]:9000", ""},
		{"credentials", "http://minio:" + secret + "@localhost:9000", "", "contains credentials"},
		{"credentials with https and path", "https://AKIAEXAMPLE:" + secret + "@s3.example.com/x", "", "contains credentials"},
		{"user only", "http://minio@localhost:9000", "", "contains credentials"},
		// Without a scheme, url.Parse takes "minio" as the scheme and the
		// rest as opaque data: no User is parsed, but the text still holds
		// the password and must not be echoed.
		{"credentials without scheme", "minio:" + secret + "@localhost:9000", "", "contains credentials"},
		// With "http:" but no "//", url.Parse sees no host and no user:
		// it is still recognised as credentials, and not echoed.
		{"credentials without slashes", "http:minio:" + secret + "@localhost:9000", "", "contains credentials"},
		// A presigned URL pasted as the endpoint: its signature is a
		// credential for that object and must not reach the error text.
		{"presigned URL", "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=" + secret, "", "query or fragment"},
		{"ftp", "ftp://host", "", "http:// or https://"},
		{"no scheme", "localhost:9000", "", "http:// or https://"},
		{"no host", "http://", "", "no host"},
		{"path but no host", "http:///bucket", "", "no host"},
		{"query", "http://host?x=1", "", "query or fragment"},
		{"fragment", "http://host#f", "", "query or fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := parseEndpoint(tt.in)
			checkValid(t, err, tt.reason)
			if err != nil {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q reveals the password", err)
				}
				return
			}
			if got := u.String(); got != tt.want {
				t.Errorf("parseEndpoint(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseEndpointEmptyQuery: a bare "?" parses as an empty query that
// url.URL.String keeps, so the SDK would get an endpoint ending in "?".
// Either refusing it or dropping the "?" is fine; passing it on is not.
func TestParseEndpointEmptyQuery(t *testing.T) {
	u, err := parseEndpoint("http://host:9000?")
	if err != nil {
		wantInvalid(t, err, "query")
		return
	}
	if got := u.String(); strings.Contains(got, "?") {
		t.Errorf(`parseEndpoint("http://host:9000?") = %q, want it refused or without the "?"`, got)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"user and password", "https://u:secret@host/x", "https://REDACTED@host/x"},
		{"user only", "http://u@host", "http://REDACTED@host"},
		// The last "@" ends the user info, as in url.Parse.
		{"@ in password", "http://u:p@ss@host:9000", "http://REDACTED@host:9000"},
		{"no credentials", "http://host:9000/x", "http://host:9000/x"},
		{"not a URL", "plain text", "plain text"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactURL(tt.in); got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsLocalHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"localhost", true},
		{"foo.localhost", true},
		// Any IP address: virtual-hosted names cannot be built on one.
		{"10.0.0.5", true},
		// Host names are case-insensitive and url.Parse does not fold them.
		{"LocalHost", true},
		{"example.com", false},
		{"s3.amazonaws.com", false},
		{"notlocalhost", false},
		{"localhost.example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.host), func(t *testing.T) {
			if got := isLocalHost(tt.host); got != tt.want {
				t.Errorf("isLocalHost(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

func TestPrefix(t *testing.T) {
	root := &Bucket{name: "b"}
	tests := []struct {
		name string
		b    *Bucket
		want string
	}{
		{"no elements", root.Prefix(), ""},
		{"one element", root.Prefix("logs"), "logs/"},
		{"two elements", root.Prefix("a", "b"), "a/b/"},
		{"trailing slashes and empty elements", root.Prefix("a/", "", "b/"), "a/b/"},
		{"only empty elements", root.Prefix("", "/"), ""},
		{"nested calls", root.Prefix("a").Prefix("b", "c").Prefix("d/"), "a/b/c/d/"},
		{"inner slash kept", root.Prefix("2025/06"), "2025/06/"},
		// Only one trailing "/" is dropped: keys are not paths.
		{"double trailing slash", root.Prefix("a//"), "a//"},
		{"leading slash kept", root.Prefix("/a"), "/a/"},
		{"dot segments kept literally", root.Prefix(".", "..", "a"), "./../a/"},
		{"from a scoped literal", (&Bucket{name: "b", prefix: "p/"}).Prefix("q"), "p/q/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.KeyPrefix(); got != tt.want {
				t.Errorf("prefix = %q, want %q", got, tt.want)
			}
			if tt.b.err != nil {
				t.Errorf("unexpected error: %v", tt.b.err)
			}
			if tt.b.Name() != "b" {
				t.Errorf("Name() = %q, want \"b\"", tt.b.Name())
			}
		})
	}
	t.Run("does not modify the receiver", func(t *testing.T) {
		a := root.Prefix("a")
		_ = a.Prefix("b")
		if a.KeyPrefix() != "a/" || root.KeyPrefix() != "" {
			t.Errorf("receivers changed: %q, %q", a.KeyPrefix(), root.KeyPrefix())
		}
	})
	t.Run("error of the parent is kept", func(t *testing.T) {
		bad := &Bucket{name: "B", err: validBucketName("B")}
		if err := bad.Prefix("a").err; err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("err = %v, want the bucket name error", err)
		}
	})
}

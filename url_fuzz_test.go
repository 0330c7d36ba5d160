package s3kit

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// percentDecode decodes %XX escapes, and with plusSpace a "+" as a space;
// it reports false for a "%" not followed by two hex digits. It is the
// test's own reading of RFC 3986 escapes, not net/url's.
func percentDecode(s string, plusSpace bool) (string, bool) {
	unhex := func(c byte) (byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', true
		case 'a' <= c && c <= 'f':
			return c - 'a' + 10, true
		case 'A' <= c && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b = append(b, hi<<4|lo)
			i += 2
		case c == '+' && plusSpace:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// urlKeyText writes a key into an s3:// URL path as OpenBucket's doc says
// it may be written: "%", "?" and "#" escaped, everything else as it is.
func urlKeyText(k string) string {
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(k)
}

// Markers around the secret of a URL with credentials: an error that
// quotes any part of the secret quotes one of them.
const (
	secretHead = "SeCrEtHeAd"
	secretTail = "SeCrEtTaIl"
)

// credentialURL puts secret into rest (a URL, or a bucket and path) in one
// of the ways a user may put credentials into an s3:// URL.
func credentialURL(form uint8, rest, secret string) string {
	bucketPath := strings.TrimPrefix(rest, "s3://")
	switch form % 10 {
	case 0:
		return "s3://AKIAIOSFODNN7EXAMPLE:" + secret + "@" + bucketPath
	case 1:
		return "s3://" + secret + "@" + bucketPath
	case 2:
		return "S3://user:" + secret + "@" + bucketPath
	case 3:
		return "s3://b-1/k?endpoint=http://user:" + secret + "@127.0.0.1:9000"
	case 4:
		return "s3://b-1/k?endpoint=" + url.QueryEscape("https://user:"+secret+"@s3.example.com/")
	case 5:
		return "s3://b-1/k?region=x&aws_secret_access_key=" + secret
	case 6:
		return "s3://b-1/k?X-Amz-Signature=" + secret + "&X-Amz-Credential=AKIA%2F20260101"
	case 7:
		return "s3://b-1/k?x-amz-security-token=" + url.QueryEscape(secret)
	case 8:
		return "https://user:" + secret + "@" + bucketPath
	default:
		return "s3:/user:" + secret + "@" + bucketPath
	}
}

// FuzzParseS3URL checks parseS3URL: it never panics; every refusal is
// ErrInvalid; an accepted URL's bucket and path are what the URL says,
// decoded by the test's own decoder, and the URL written back from them
// parses to the same; credentials are refused in every form tried, and no
// part of the secret appears in the error.
func FuzzParseS3URL(f *testing.F) {
	for _, s := range []string{
		"s3://photos", "s3://photos/", "S3://photos/a", "s3://photos/2025/06/",
		"s3://b-1/a%20b.txt", "s3://b-1/a b.txt", "s3://b-1/a+b.txt", "s3://b-1/a%2Fb.txt",
		"s3://b-1/100%25%3F%23.txt", "s3://b-1/%C3%BCber/日本.txt", "s3://b-1/user@example.com",
		"s3://b-1/k?", "s3://b-1/k?&&sse=AES256&", "s3://b-1/%", "s3://b-1/%zz", "s3://b-1/%ff",
		"s3://b-1/k#frag", "s3://b-1/k?region=eu-west-1&endpoint=http://127.0.0.1:9000/&path_style=true&profile=dev&checksum=crc32c&check_bucket=0",
		"s3://b-1/k?acl=private&cache_control=max-age%3D60&content_type=text/plain;+charset=utf-8&storage_class=STANDARD_IA",
		"s3://b-1/k?sse=aws:kms&sse_kms_key_id=arn%3Akey%2F1", "s3://b-1/k?sse_kms_key_id=x",
		"s3://b-1/k?region=a&region=b", "s3://b-1/k?region=", "s3://b-1/k?nope=1", "s3://b-1/k?%zz=1",
		"s3://b-1/k?endpoint=ftp://x", "s3://b-1/k?endpoint=http://x?y", "s3://b-1/k?endpoint=http%3A%2F%2F%5B%3A%3A1%5D%3A9000",
		"s3://Bucket/k", "s3://192.168.5.4/k", "s3:///k", "s3://", "s3:bucket", "bucket/key", "http://b-1/k",
		"s3://b-1:9000/k", "s3://u@b-1/k", "s3://b-1/" + strings.Repeat("k", MaxKeyLength), "s3://b-1/\xff",
		"s3://b-1//k", "s3://b-1/k?profile=a%0Ab", "s3://b-1/k?content_type=a%7Fb",
	} {
		f.Add(s, true, "", uint8(255))
		f.Add(s, false, "", uint8(255))
	}
	for form := range uint8(10) {
		f.Add("s3://b-1/k", true, "hunter2", form)
		f.Add("b-1/k", false, "pa/ss?w#rd@x:y", form)
		f.Add("b-1", false, "%2F%40", form)
	}
	f.Fuzz(func(t *testing.T, raw string, wantKey bool, secret string, form uint8) {
		withSecret := form < 200
		if withSecret {
			secret = secretHead + secret + secretTail
			raw = credentialURL(form, raw, secret)
		}
		u, err := parseS3URL(raw, wantKey)
		if withSecret {
			if err == nil {
				t.Fatalf("parseS3URL(%q) accepted credentials: %+v", raw, u)
			}
			if msg := err.Error(); strings.Contains(msg, secretHead) || strings.Contains(msg, secretTail) {
				t.Fatalf("parseS3URL(%q): error %q quotes the secret", raw, msg)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("parseS3URL(%q): %v is not ErrInvalid", raw, err)
			}
			return
		}

		// What the URL says, read independently: the scheme, then the
		// bucket up to the first "/" or "?", then the path up to "?".
		scheme, rest, _ := strings.Cut(raw, "://")
		if !strings.EqualFold(scheme, "s3") || strings.Contains(rest, "#") {
			t.Fatalf("parseS3URL(%q) accepted a URL that is not s3:// or has a fragment", raw)
		}
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		if u.bucket != rest[:end] || validBucketName(u.bucket) != nil {
			t.Fatalf("parseS3URL(%q): bucket %q, the URL says %q", raw, u.bucket, rest[:end])
		}
		rawPath, rawQuery, _ := strings.Cut(rest[end:], "?")
		wantPath, ok := percentDecode(strings.TrimPrefix(rawPath, "/"), false)
		if !ok {
			t.Fatalf("parseS3URL(%q) accepted the malformed escape in path %q", raw, rawPath)
		}
		if u.path != wantPath {
			t.Fatalf("parseS3URL(%q): path %q, want %q", raw, u.path, wantPath)
		}
		if !utf8.ValidString(u.path) || wantKey && (u.path == "" || len(u.path) > MaxKeyLength) ||
			!wantKey && len(u.path) >= MaxKeyLength {
			t.Fatalf("parseS3URL(%q, %v) accepted the path %q", raw, wantKey, u.path)
		}
		if u.conn.endpoint != "" {
			e, err := url.Parse(u.conn.endpoint)
			if err != nil || e.User != nil || e.RawQuery != "" || e.Fragment != "" {
				t.Fatalf("parseS3URL(%q): endpoint %q", raw, u.conn.endpoint)
			}
		}

		// Written back, with the query parameters decoded and re-escaped,
		// the URL must say the same.
		var q []string
		for kv := range strings.SplitSeq(rawQuery, "&") {
			if kv == "" {
				continue
			}
			name, value, _ := strings.Cut(kv, "=")
			n, ok1 := percentDecode(name, true)
			v, ok2 := percentDecode(value, true)
			if !ok1 || !ok2 || v == "" || looksLikeCredentials(n) {
				t.Fatalf("parseS3URL(%q) accepted the parameter %q", raw, kv)
			}
			q = append(q, url.QueryEscape(n)+"="+url.QueryEscape(v))
		}
		query := strings.Join(q, "&")
		for _, again := range []string{
			"s3://" + u.bucket + "/" + urlKeyText(u.path) + "?" + query,
			"S3://" + u.bucket + "/" + url.PathEscape(u.path) + "?" + query,
		} {
			u2, err := parseS3URL(again, wantKey)
			if err != nil {
				t.Fatalf("parseS3URL(%q) = %+v, but its rewriting %q: %v", raw, u, again, err)
			}
			if !reflect.DeepEqual(u, u2) {
				t.Fatalf("parseS3URL(%q) = %+v, but its rewriting %q gives %+v", raw, u, again, u2)
			}
		}
	})
}

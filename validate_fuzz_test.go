package s3kit

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"
)

// bucketNameModel is Amazon S3's "General purpose bucket naming rules",
// written out rule by rule from the documentation, independently of
// validBucketName: it reports whether name is a valid bucket name.
func bucketNameModel(name string) bool {
	// Bucket names must be between 3 (min) and 63 (max) characters long.
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	// Bucket names can consist only of lowercase letters, numbers,
	// periods (.), and hyphens (-).
	for _, r := range name {
		if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz0123456789.-", r) {
			return false
		}
	}
	// Bucket names must begin and end with a letter or number.
	isAlnum := func(b byte) bool { return strings.IndexByte("abcdefghijklmnopqrstuvwxyz0123456789", b) >= 0 }
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return false
	}
	// Bucket names must not contain two adjacent periods.
	if strings.Contains(name, "..") {
		return false
	}
	// Bucket names must not be formatted as an IP address (for example,
	// 192.168.5.4). Read as the stores read it (MinIO refuses any four
	// dot-separated runs of digits), not only as addresses that parse:
	// "256.1.1.1" and "010.1.1.1" are also formatted as IP addresses.
	if parts := strings.Split(name, "."); len(parts) == 4 {
		digits := true
		for _, p := range parts {
			digits = digits && p != "" && strings.Trim(p, "0123456789") == ""
		}
		if digits {
			return false
		}
	}
	// Reserved prefixes and suffixes.
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

// checkInvalidErr fails t unless err is an argument error that both
// errors.Is(err, ErrInvalid) and errors.Is(err, fs.ErrInvalid) recognise,
// and that has a message beyond the sentinel's.
func checkInvalidErr(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("%s: error %v does not wrap ErrInvalid and fs.ErrInvalid", what, err)
	}
	if len(err.Error()) <= len(ErrInvalid.Error())+2 {
		t.Fatalf("%s: error %q does not say what was wrong", what, err)
	}
}

// FuzzBucketName checks validBucketName against bucketNameModel.
func FuzzBucketName(f *testing.F) {
	for _, s := range []string{
		"", "a", "ab", "abc", "my-bucket.data", "123",
		strings.Repeat("a", 63), strings.Repeat("a", 64),
		"myBucket", "my_bucket", "my bucket", "bücket", "b\xffc", "abc\x00",
		"-abc", "abc-", ".abc", "abc.", "a..b", "a.-b", "a-.b",
		"192.168.5.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "010.1.1.1", "1.2.3.a",
		"0.0.0.0", "999.999.999.999", "1..2.3", "::1", "1:2::3",
		"xn--abc", "xn-abc", "sthree-x", "sthree", "amzn-s3-demo-x", "amzn-s3-demo",
		"x-s3alias", "s3alias", "x--ol-s3", "x.mrap", "mrap", "x--x-s3", "x--table-s3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := validBucketName(name)
		want := bucketNameModel(name)
		if want && err != nil {
			t.Fatalf("validBucketName(%q) = %v; the naming rules allow it", name, err)
		}
		if !want {
			if err == nil {
				t.Fatalf("validBucketName(%q) = nil; the naming rules forbid it", name)
			}
			checkInvalidErr(t, "validBucketName("+name+")", err)
		}
	})
}

// FuzzKey checks the key of a handle, Bucket.key, against the rules S3
// puts on keys: not empty, valid UTF-8, at most MaxKeyLength bytes with
// the handle's prefix, which itself must leave room for a key.
func FuzzKey(f *testing.F) {
	long := strings.Repeat("k", MaxKeyLength)
	for _, s := range [][2]string{
		{"", "a"}, {"", ""}, {"p", ""}, {"", "a/b/c.txt"}, {"", "../x"}, {"", "é"},
		{"", "\xff"}, {"\xff", "a"}, {"\xc3", "\xa9"}, {"", "\x00"}, {"", "a\nb"},
		{"", long}, {"", long + "k"}, {"", long[:MaxKeyLength-1] + "é"},
		{"dir", long[:MaxKeyLength-4]}, {"dir", long[:MaxKeyLength-3]},
		{"dir/", "x"}, {"dir//", "x"}, {"/", "x"}, {long[:MaxKeyLength-1], "x"},
		{long[:MaxKeyLength-2], "x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, prefix, key string) {
		b := (&Bucket{}).Prefix(prefix)
		full, err := b.key(key)

		// The prefix as Prefix stores it: a trailing "/" added unless the
		// element is empty or "/".
		p := strings.TrimSuffix(prefix, "/")
		if p != "" {
			p += "/"
		}
		wantFull := p + key
		var reason string
		switch {
		case len(p) >= MaxKeyLength:
			reason = "the prefix leaves no room for a key"
		case key == "":
			reason = "the key is empty"
		case !utf8.ValidString(wantFull):
			reason = "the key is not UTF-8"
		case len(wantFull) > MaxKeyLength:
			reason = "the key is too long"
		}
		if reason == "" {
			if err != nil {
				t.Fatalf("prefix %q, key %q: %v; S3 takes the key %q", prefix, key, err, wantFull)
			}
			if full != wantFull {
				t.Fatalf("prefix %q, key %q: full key %q, want %q", prefix, key, full, wantFull)
			}
			return
		}
		if err == nil {
			t.Fatalf("prefix %q, key %q: accepted as %q, but %s", prefix, key, full, reason)
		}
		checkInvalidErr(t, "key "+key, err)
	})
}

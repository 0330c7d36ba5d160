package s3kit

import (
	"strings"
	"testing"
)

// FuzzMetaValue: every metadata value s3kit accepts is sent as printable
// US-ASCII in encoded words of at most 75 characters (RFC 2047, section
// 2), and reads back as written.
func FuzzMetaValue(f *testing.F) {
	for _, v := range []string{"", "plain", "東京 é", "=?UTF-8?q?abc?=", "a =?utf-8?b?w6k=?= b", "tab\there",
		strings.Repeat("é", 100), strings.Repeat("=?", 40), "ünï\tcode ", "?=", "=?x?="} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if validMetaValue("k", v) != nil {
			return
		}
		enc := encodeMetaValue(v)
		if err := validHeaderValue("encoded", enc); err != nil {
			t.Fatalf("%q encodes as %q: %v", v, enc, err)
		}
		if got := decodeMetaValue(enc); got != v {
			t.Fatalf("%q encodes as %q, which decodes as %q", v, enc, got)
		}
		if enc != v {
			for _, w := range strings.Fields(enc) {
				if len(w) > 75 {
					t.Fatalf("%q encodes as %q, with a word of %d characters", v, enc, len(w))
				}
			}
		}
	})
}

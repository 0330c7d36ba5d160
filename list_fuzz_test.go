package s3kit

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// FuzzListPrefixPattern checks how List combines Prefix and Pattern, for
// a key made of Prefix and any suffix: a refusal is ErrInvalid and only
// where the pattern, relative to the handle, cannot match that key; an
// accepted combination never narrows the request past a key the filter
// keeps; and with a directory Prefix, a pattern that does not begin with
// it matches the key relative to it.
func FuzzListPrefixPattern(f *testing.F) {
	for _, s := range [][3]string{
		{"docs/", "*.txt", "a.txt"}, {"docs/", "docs/*.txt", "a.txt"}, {"docs/", "**", "a/b"},
		{"x", "y*", "z"}, {"docs/a", "*.txt", "b.txt"}, {"docs/a", "**.txt", "/b.txt"},
		{"a*[b]/", "c?", "cd"}, {"logs/2025-06", "logs/*", "-01.gz"}, {"", "*", "k"}, {"a/", "[/]x", "/x"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	b := &Bucket{name: "b", prefix: "p/"}
	f.Fuzz(func(t *testing.T, prefix, pattern, suffix string) {
		// Keys are UTF-8: validKey refuses others.
		if pattern == "" || len(prefix)+len(suffix) > 200 || len(pattern) > 100 ||
			!utf8.ValidString(prefix+pattern+suffix) {
			return
		}
		plain, perr := compileGlob(pattern)
		in, g, err := b.listInput(&ListOptions{Prefix: prefix, Pattern: pattern})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Prefix %q, Pattern %q: %v is not ErrInvalid", prefix, pattern, err)
			}
			if perr == nil && strings.Contains(err.Error(), "no key can begin") && plain.match(prefix+suffix) {
				t.Fatalf("Prefix %q, Pattern %q refused, but the pattern matches %q", prefix, pattern, prefix+suffix)
			}
			return
		}
		key := prefix + suffix
		if g.match(key) && !strings.HasPrefix("p/"+key, aws.ToString(in.Prefix)) {
			t.Fatalf("Prefix %q, Pattern %q: the request's prefix %q misses %q, which matches", prefix, pattern, aws.ToString(in.Prefix), key)
		}
		if strings.HasSuffix(prefix, "/") && !strings.HasPrefix(plain.prefix, prefix) {
			if got, want := g.match(key), plain.match(suffix); got != want {
				t.Fatalf("Prefix %q, Pattern %q, key %q: match = %v, the pattern on %q says %v", prefix, pattern, key, got, suffix, want)
			}
		} else if got, want := g.match(key), plain.match(key); got != want {
			t.Fatalf("Prefix %q, Pattern %q, key %q: match = %v, the pattern relative to the handle says %v", prefix, pattern, key, got, want)
		}
	})
}

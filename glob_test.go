package s3kit

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGlobMatch(t *testing.T) {
	type kv struct {
		key  string
		want bool
	}
	tests := []struct {
		name    string
		pattern string
		keys    []kv
	}{
		{"star stays within a segment", "*", []kv{{"abc", true}, {"", true}, {"a/b", false}, {"/", false}}},
		{"star with suffix", "*.txt", []kv{{"a.txt", true}, {".txt", true}, {"dir/a.txt", false}, {"a.txt.gz", false}}},
		{"star after a directory", "dir/*", []kv{{"dir/a", true}, {"dir/", true}, {"dir/a/b", false}, {"dir", false}}},
		{"star in the middle", "*/c", []kv{{"b/c", true}, {"a/b/c", false}}},
		// "*" is a run of runes, not bytes, and may hold a newline: S3 keys can.
		{"star over unicode and newline", "a*z", []kv{{"aéz", true}, {"a\nz", true}}},
		{"question mark is one rune", "?", []kv{{"a", true}, {"é", true}, {"日", true}, {"", false}, {"ab", false}, {"/", false}}},
		{"question mark in a word", "caf?", []kv{{"café", true}, {"cafe", true}, {"caf", false}, {"caf/", false}}},
		{"double star crosses slashes", "**", []kv{{"", true}, {"a", true}, {"a/b/c", true}}},
		// Like "*", "**" must match every character, newline included.
		{"double star over a newline", "**", []kv{{"a\nb", true}, {"a/\n/b", true}}},
		{"double star under a directory", "a/**", []kv{{"a/x", true}, {"a/x/y", true}, {"b/x", false}}},
		{"double star segment", "a/**/b", []kv{{"a/b", true}, {"a/x/b", true}, {"a/x/y/b", true}, {"a/xb", false}, {"ab", false}, {"a/x/y/c", false}}},
		{"leading double star segment", "**/b.txt", []kv{{"b.txt", true}, {"x/b.txt", true}, {"x/y/b.txt", true}, {"xb.txt", false}}},
		{"double star segment over a newline", "a/**/b", []kv{{"a/x\ny/b", true}}},
		// "**" glued to text is a run of characters followed by a literal
		// "/"; only a whole "/**/" segment may vanish.
		{"double star glued to text", "a**/b", []kv{{"a/b", true}, {"ax/b", true}, {"ax/y/b", true}, {"ab", false}}},
		{"class", "[abc]", []kv{{"a", true}, {"c", true}, {"d", false}, {"ab", false}, {"", false}}},
		{"range", "[a-c]", []kv{{"b", true}, {"c", true}, {"d", false}, {"-", false}}},
		{"two ranges", "x[a-cx-z]", []kv{{"xb", true}, {"xy", true}, {"xm", false}}},
		{"unicode class", "[éè]", []kv{{"é", true}, {"è", true}, {"e", false}}},
		{"negated with !", "[!a]", []kv{{"b", true}, {"é", true}, {"a", false}, {"/", false}, {"", false}}},
		{"negated with ^", "[^a]", []kv{{"b", true}, {"a", false}, {"/", false}}},
		{"negated range", "x[!a-c]", []kv{{"xd", true}, {"xb", false}, {"x/", false}}},
		{"close bracket first", "[]a]", []kv{{"]", true}, {"a", true}, {"b", false}}},
		{"close bracket first, negated", "[!]a]", []kv{{"b", true}, {"]", false}, {"a", false}}},
		{"caret not first is a member", "[a^]", []kv{{"^", true}, {"a", true}, {"b", false}}},
		{"open bracket in a class", "[[]", []kv{{"[", true}, {"a", false}}},
		{"escaped close bracket in a class", `[\]]`, []kv{{"]", true}, {`\`, false}}},
		{"escaped backslash in a class", `[\\]`, []kv{{`\`, true}, {"a", false}}},
		// An escaped "-" is a member, not a range: "b" lies between "a"
		// and "z" but is not in the class.
		{"escaped dash in a class", `[a\-z]`, []kv{{"a", true}, {"-", true}, {"z", true}, {"b", false}}},
		{"leading dash in a class", "[-a]", []kv{{"-", true}, {"a", true}, {"b", false}}},
		{"escaped star", `\*`, []kv{{"*", true}, {"a", false}, {"", false}}},
		{"escaped question mark", `a\?`, []kv{{"a?", true}, {"ab", false}}},
		{"escaped bracket", `\[x]`, []kv{{"[x]", true}, {"x", false}}},
		{"escaped backslash", `a\\b`, []kv{{`a\b`, true}, {"ab", false}}},
		{"escaped ordinary letter", `\a`, []kv{{"a", true}}},
		{"unicode literal prefix", "données/été-*.csv", []kv{{"données/été-01.csv", true}, {"donnees/ete-01.csv", false}}},
		{"whole key only", "a/b", []kv{{"a/b", true}, {"a/b/c", false}, {"x/a/b", false}}},
		// Regexp metacharacters in a pattern are plain characters.
		{"dot is literal", "a.b", []kv{{"a.b", true}, {"axb", false}}},
		{"parentheses are literal", "(x)", []kv{{"(x)", true}, {"x", false}}},
		{"plus is literal", "a+", []kv{{"a+", true}, {"aa", false}, {"a", false}}},
		{"dollar is literal", "a$", []kv{{"a$", true}, {"a", false}}},
		{"caret is literal", "^a", []kv{{"^a", true}, {"a", false}}},
		{"pipe is literal", "a|b", []kv{{"a|b", true}, {"a", false}, {"b", false}}},
		{"braces are literal", "{a,b}", []kv{{"{a,b}", true}, {"a", false}}},
		{"regexp class syntax is literal", `\d`, []kv{{"d", true}, {"1", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := compileGlob(tt.pattern)
			if err != nil {
				t.Fatalf("compileGlob(%q): %v", tt.pattern, err)
			}
			for _, c := range tt.keys {
				if got := g.match(c.key); got != c.want {
					t.Errorf("compileGlob(%q).match(%q) = %v, want %v", tt.pattern, c.key, got, c.want)
				}
			}
		})
	}
}

func TestGlobPrefix(t *testing.T) {
	tests := []struct {
		pattern, want string
	}{
		{"", ""},
		{"abc", "abc"},
		{"logs/2025-*.gz", "logs/2025-"},
		{"*.txt", ""},
		{"**/x", ""},
		{"a/**/b", "a/"},
		{"a?c", "a"},
		{"a[bc]d", "a"},
		// Escaped characters are literal and belong to the prefix, without
		// their backslash.
		{`a\*b*`, "a*b"},
		{`\[x]`, "[x]"},
		{`a\\b?`, `a\b`},
		{"données/été-*", "données/été-"},
		{"日本/*", "日本/"},
		// Regexp metacharacters are literal text, unescaped.
		{"a.b(c)+$|^*", "a.b(c)+$|^"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			g, err := compileGlob(tt.pattern)
			if err != nil {
				t.Fatalf("compileGlob(%q): %v", tt.pattern, err)
			}
			if g.prefix != tt.want {
				t.Errorf("prefix of %q = %q, want %q", tt.pattern, g.prefix, tt.want)
			}
			// The prefix must be a real lower bound of the listing: every
			// key the pattern matches starts with it. Check on the key the
			// prefix itself would be if the pattern were literal.
			if !strings.ContainsAny(tt.pattern, `*?[\`) && !g.match(tt.want) {
				t.Errorf("literal pattern %q does not match its prefix", tt.pattern)
			}
		})
	}
}

func TestGlobMalformed(t *testing.T) {
	tests := []struct {
		name, pattern, reason string
	}{
		{"unterminated class", "[abc", "unterminated ["},
		{"unterminated class after text", "logs/[a", "unterminated ["},
		{"empty class", "[]", "unterminated ["},
		{"empty negated class", "[!]", "unterminated ["},
		{"escaped close bracket does not close", `[a\]`, "unterminated ["},
		{"trailing backslash", `abc\`, `lone \`},
		{"lone backslash", `\`, `lone \`},
		{"reversed range", "[z-a]", "pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := compileGlob(tt.pattern)
			if g != nil {
				t.Errorf("compileGlob(%q) returned a glob", tt.pattern)
			}
			wantInvalid(t, err, tt.reason)
		})
	}
}

// FuzzGlob checks that no pattern makes CompileGlob or Match panic, that
// every refusal is ErrInvalid, and that a pattern without metacharacters
// is a literal: it matches itself, its prefix is all of it, and it matches
// no other key.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"logs/2025-*.gz", "logs/2025-01.gz"},
		{"a/**/b", "a/x/y/b"},
		{"[!]a]", "b"},
		{`\*`, "*"},
		{"[abc", "a"},
		{`x\`, "x"},
		{"données/été", "données/été"},
		{"a.b", "axb"},
		{"(x)+$", "(x)+$"},
		{"[a-]", "-"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, key string) {
		g, err := CompileGlob(pattern)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("CompileGlob(%q) error %v is not ErrInvalid", pattern, err)
			}
			return
		}
		got := g.Match(key)
		// Keys are UTF-8 (validKey refuses others); invalid bytes in the
		// pattern are read as U+FFFD, so the literal property holds only
		// for valid text.
		if strings.ContainsAny(pattern, `*?[\`) || !utf8.ValidString(pattern) || !utf8.ValidString(key) {
			return
		}
		if !g.Match(pattern) {
			t.Fatalf("literal pattern %q does not match itself", pattern)
		}
		if g.Prefix() != pattern {
			t.Fatalf("prefix of literal pattern %q = %q", pattern, g.Prefix())
		}
		if got != (key == pattern) {
			t.Fatalf("literal pattern %q: match(%q) = %v", pattern, key, got)
		}
	})
}

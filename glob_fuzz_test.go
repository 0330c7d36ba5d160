package s3kit

import (
	"errors"
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

// A refGlob is a pattern as the reference matcher reads it: a list of
// tokens, matched by plain recursion over runes.
type refGlob []refTok

type refTokKind int

const (
	refLit      refTokKind = iota // one rune
	refAny                        // ?: one rune other than "/"
	refStar                       // *: a run of runes other than "/"
	refDStar                      // **: any run of runes
	refDStarSeg                   // "**/" as a whole segment: "" or a run ending in "/"
	refClass                      // [...]
)

type refTok struct {
	kind   refTokKind
	r      rune      // refLit
	neg    bool      // refClass
	ranges [][2]rune // refClass: inclusive ranges, a single rune as [r, r]
}

// parseRefGlob reads pattern by the syntax compileGlob documents, and
// reports false for a malformed pattern: an unterminated class, a trailing
// lone backslash, or a range whose ends are reversed.
func parseRefGlob(pattern string) (refGlob, bool) {
	p := []rune(pattern)
	var g refGlob
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				// "**" is a whole segment when it starts the pattern or
				// follows a "/", and a "/" follows it.
				seg := (i == 0 || p[i-1] == '/') && i+2 < len(p) && p[i+2] == '/'
				if seg {
					g = append(g, refTok{kind: refDStarSeg})
					i += 2
				} else {
					g = append(g, refTok{kind: refDStar})
					i++
				}
				continue
			}
			g = append(g, refTok{kind: refStar})
		case '?':
			g = append(g, refTok{kind: refAny})
		case '\\':
			if i+1 == len(p) {
				return nil, false
			}
			i++
			g = append(g, refTok{kind: refLit, r: p[i]})
		case '[':
			tok := refTok{kind: refClass}
			j := i + 1
			if j < len(p) && (p[j] == '!' || p[j] == '^') {
				tok.neg = true
				j++
			}
			// member reads one class member at j, escaped or not; a "]"
			// is a member only as the first.
			first := true
			member := func() (r rune, escaped, ok bool) {
				if j >= len(p) {
					return 0, false, false
				}
				if p[j] == '\\' {
					if j+1 >= len(p) {
						return 0, false, false
					}
					j += 2
					return p[j-1], true, true
				}
				j++
				return p[j-1], false, true
			}
			for {
				if j >= len(p) {
					return nil, false
				}
				if p[j] == ']' && !first {
					break
				}
				first = false
				lo, _, ok := member()
				if !ok {
					return nil, false
				}
				hi := lo
				// An unescaped "-" between two members makes a range; one
				// that ends the class is itself a member.
				if j+1 < len(p) && p[j] == '-' && p[j+1] != ']' {
					j++
					if hi, _, ok = member(); !ok {
						return nil, false
					}
					if hi < lo {
						return nil, false
					}
				}
				tok.ranges = append(tok.ranges, [2]rune{lo, hi})
			}
			g = append(g, tok)
			i = j
		default:
			g = append(g, refTok{kind: refLit, r: p[i]})
		}
	}
	return g, true
}

func (t refTok) matchRune(c rune) bool {
	switch t.kind {
	case refLit:
		return c == t.r
	case refAny:
		return c != '/'
	}
	if t.neg && c == '/' {
		return false
	}
	in := false
	for _, r := range t.ranges {
		in = in || r[0] <= c && c <= r[1]
	}
	return in != t.neg
}

// match reports whether g matches all of key.
func (g refGlob) match(key string) bool {
	k := []rune(key)
	memo := make(map[[2]int]bool)
	var m func(ti, ki int) bool
	m = func(ti, ki int) bool {
		if ti == len(g) {
			return ki == len(k)
		}
		at := [2]int{ti, ki}
		if v, ok := memo[at]; ok {
			return v
		}
		var res bool
		switch t := g[ti]; t.kind {
		case refStar, refDStar:
			for n := ki; ; n++ {
				if m(ti+1, n) {
					res = true
					break
				}
				if n == len(k) || t.kind == refStar && k[n] == '/' {
					break
				}
			}
		case refDStarSeg:
			res = m(ti+1, ki)
			for n := ki; !res && n < len(k); n++ {
				res = k[n] == '/' && m(ti+1, n+1)
			}
		default:
			res = ki < len(k) && t.matchRune(k[ki]) && m(ti+1, ki+1)
		}
		memo[at] = res
		return res
	}
	return m(0, 0)
}

// FuzzGlobMatch checks CompileGlob and Match, the exported face of
// compileGlob and match, against the reference matcher above, and, for
// patterns without "**", against path.Match where the two syntaxes mean
// the same thing.
func FuzzGlobMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"*", "abc"}, {"*", "a/b"}, {"*.txt", "dir/a.txt"}, {"dir/*", "dir/"},
		{"?", "é"}, {"?", "/"}, {"**", "a/\n/b"}, {"a/**", "a/x/y"},
		{"a/**/b", "a/b"}, {"a/**/b", "a/x/y/b"}, {"a/**/b", "a/xb"},
		{"**/b.txt", "b.txt"}, {"**/b.txt", "xb.txt"}, {"a**/b", "ab"},
		{"a/***/b", "a/b"}, {"****/x", "x"}, {"\\/**/x", "/x"}, {"[/]**/x", "/x"},
		{"[abc]", "b"}, {"[a-c]", "-"}, {"x[a-cx-z]", "xy"}, {"[!a]", "/"},
		{"[^a]", "b"}, {"[]a]", "]"}, {"[!]a]", "]"}, {"[a^]", "^"}, {"[[]", "["},
		{`[\]]`, "]"}, {`[\\]`, `\`}, {`[a\-z]`, "b"}, {"[-a]", "-"}, {"[a-]", "-"},
		{"[!-a]", "0"}, {"[^-a]", "-"}, {"[!a-]", "-"}, {"[--a]", "0"}, {"[a-b-c]", "-"},
		{`[\a-z]`, "b"}, {`[a-\]]`, "b"}, {`[\]-a]`, "^"}, {"[z-a]", "b"},
		{`\*`, "*"}, {`a\`, "a"}, {"[abc", "a"}, {"[!]", "a"}, {"[]", "]"},
		{"données/*.csv", "données/été.csv"}, {"a*z", "a\nz"}, {"(x)+$", "(x)+$"},
		{"a.b", "axb"}, {"*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, key string) {
		g, err := CompileGlob(pattern)
		// Keys are UTF-8 (validKey refuses others), and the reference
		// works on runes.
		if !utf8.ValidString(pattern) || !utf8.ValidString(key) {
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("CompileGlob(%q): %v is not ErrInvalid", pattern, err)
			}
			if err == nil {
				g.Match(key)
			}
			return
		}
		ref, ok := parseRefGlob(pattern)
		if !ok {
			if err == nil {
				t.Fatalf("CompileGlob(%q) accepts a malformed pattern", pattern)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("CompileGlob(%q): %v is not ErrInvalid", pattern, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("CompileGlob(%q): %v; the pattern is well formed", pattern, err)
		}
		if len(key) > 512 || len(pattern) > 256 {
			return // keep the reference's cost bounded
		}
		got, want := g.Match(key), ref.match(key)
		if got != want {
			t.Fatalf("pattern %q, key %q: match = %v, the reference says %v", pattern, key, got, want)
		}
		if got && !strings.HasPrefix(key, g.Prefix()) {
			t.Fatalf("pattern %q matches %q, which lacks its literal prefix %q", pattern, key, g.Prefix())
		}
		// path.Match reads "[!" as a literal "!", and its negated classes
		// match "/"; elsewhere its syntax is a subset of the glob's.
		if strings.Contains(pattern, "**") || strings.Contains(pattern, "[!") ||
			strings.Contains(pattern, "[^") && strings.Contains(key, "/") {
			return
		}
		if pm, err := path.Match(pattern, key); err == nil && pm != got {
			t.Fatalf("pattern %q, key %q: match = %v, path.Match says %v", pattern, key, got, pm)
		}
	})
}

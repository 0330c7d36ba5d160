package s3kit

import (
	"fmt"
	"regexp"
	"strings"
)

// A Glob is a compiled pattern of keys or slash-separated paths, with the
// syntax of ListOptions.Pattern and SyncOptions.Include:
//
//	"*"      any run of characters other than "/"
//	"?"      one character other than "/"
//	"**"     any run of characters, "/" included; "a/**/b" also matches "a/b"
//	"[abc]"  one of the characters listed; "[a-z]" a range; "[!a]" or "[^a]" negated
//	"\x"     the character x itself
//
// A pattern matches the whole name: "*.jpg" matches "a.jpg" but not
// "photos/a.jpg", which "**.jpg" and "**/*.jpg" match; "logs/*" matches
// "logs/a" but not "logs/2025/a", which "logs/**" matches. (s5cmd's "*"
// crosses "/"; here only "**" does.) A Glob is immutable and safe for
// concurrent use.
type Glob struct{ g glob }

// CompileGlob compiles pattern. A malformed pattern (an unterminated
// "[", a trailing lone "\", a range whose ends are reversed) is an error
// matching ErrInvalid that says what is wrong.
func CompileGlob(pattern string) (*Glob, error) {
	g, err := compileGlob(pattern)
	if err != nil {
		return nil, err
	}
	return &Glob{*g}, nil
}

// Match reports whether the pattern matches the whole of name.
func (g *Glob) Match(name string) bool { return g.g.match(name) }

// Prefix returns the literal text before the pattern's first wildcard,
// escapes resolved: every name it matches begins with it, so a listing
// can be narrowed to it ("photos/2025/" for "photos/2025/*.jpg").
func (g *Glob) Prefix() string { return g.g.prefix }

// glob is a compiled pattern, with the syntax Glob describes.
type glob struct {
	re     *regexp.Regexp
	prefix string // the literal text before the first wildcard
}

// compileGlob compiles pattern, or says why it is malformed (ErrInvalid).
func compileGlob(pattern string) (*glob, error) {
	var re, lit strings.Builder
	literal := true // still in the leading literal part
	p := []rune(pattern)
	re.WriteString(`(?s)^`)
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '*':
			literal = false
			if i+1 < len(p) && p[i+1] == '*' {
				i++
				if i+1 < len(p) && p[i+1] == '/' && (i == 1 || p[i-2] == '/') {
					i++
					re.WriteString(`(?:.*/)?`)
				} else {
					re.WriteString(`.*`)
				}
			} else {
				re.WriteString(`[^/]*`)
			}
		case '?':
			literal = false
			re.WriteString(`[^/]`)
		case '[':
			literal = false
			end := classEnd(p, i)
			if end < 0 {
				return nil, invalidf("pattern %q has an unterminated [", pattern)
			}
			class := p[i+1 : end]
			negated := class[0] == '!' || class[0] == '^'
			re.WriteByte('[')
			if negated {
				re.WriteByte('^')
				class = class[1:]
			}
			// Every member and range goes out as \x{…}, with no bare "-"
			// left for the regexp parser to pair up otherwise than the
			// glob does, as it would with the "/" a negated class adds.
			for j := 0; j < len(class); {
				lo, n := classMember(class[j:])
				j += n
				if j+1 < len(class) && class[j] == '-' {
					hi, m := classMember(class[j+1:])
					j += 1 + m
					if hi < lo {
						return nil, invalidf("pattern %q has the range %q-%q, whose ends are reversed", pattern, lo, hi)
					}
					fmt.Fprintf(&re, `\x{%x}-\x{%x}`, lo, hi)
					continue
				}
				fmt.Fprintf(&re, `\x{%x}`, lo)
			}
			if negated {
				re.WriteString(`\x{2f}`)
			}
			re.WriteByte(']')
			i = end
		case '\\':
			if i+1 == len(p) {
				return nil, invalidf("pattern %q ends with a lone \\", pattern)
			}
			i++
			re.WriteString(regexp.QuoteMeta(string(p[i])))
			if literal {
				lit.WriteRune(p[i])
			}
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
			if literal {
				lit.WriteRune(c)
			}
		}
	}
	re.WriteString(`$`)
	r, err := regexp.Compile(re.String())
	if err != nil {
		return nil, invalidf("pattern %q: %v", pattern, err)
	}
	return &glob{re: r, prefix: lit.String()}, nil
}

// classEnd returns the index of the "]" closing the class opened at
// pattern[open], or -1. A "]" right after "[" or "[!" is a member.
func classEnd(p []rune, open int) int {
	j := open + 1
	if j < len(p) && (p[j] == '!' || p[j] == '^') {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for ; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case ']':
			return j
		}
	}
	return -1
}

// classMember returns the class member that class begins with, a
// character or an escaped one, and how many runes it takes.
func classMember(class []rune) (rune, int) {
	if class[0] == '\\' {
		return class[1], 2
	}
	return class[0], 1
}

func (g *glob) match(key string) bool { return g.re.MatchString(key) }

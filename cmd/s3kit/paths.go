package main

import (
	"path"
	"strings"

	"github.com/s3kit/s3kit"
)

// location is one path argument: an S3 bucket and key, a local path, or
// "-" for stdin or stdout.
type location struct {
	raw    string
	s3     bool
	bucket string
	key    string
	local  string
	std    bool
}

func (l location) String() string { return l.raw }

// parseLocation parses s3://bucket/key, "-" or a local path.
func parseLocation(s string) (location, error) {
	if s == "-" {
		return location{raw: s, std: true}, nil
	}
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		if strings.Contains(s, "://") {
			return location{}, usagef("%q: only s3:// URLs and local paths are paths", s)
		}
		if s == "" {
			return location{}, usagef("empty path")
		}
		return location{raw: s, local: s}, nil
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return location{}, usagef("%q: no bucket", s)
	}
	if hasWildcard(key) {
		if _, err := s3kit.CompileGlob(key); err != nil {
			return location{}, usagef("%q: %v", s, err)
		}
	}
	return location{raw: s, s3: true, bucket: bucket, key: key}, nil
}

// parseS3 parses an argument that must be an S3 location.
func parseS3(s string) (location, error) {
	l, err := parseLocation(s)
	if err != nil {
		return l, err
	}
	if !l.s3 {
		return l, usagef("%q: want s3://bucket[/key]", s)
	}
	return l, nil
}

// parseObject parses the argument of verb that names one object: an
// s3:// URL with a key and no wildcard.
func parseObject(verb, s string) (location, error) {
	l, err := parseS3(s)
	if err != nil {
		return l, err
	}
	if l.key == "" || hasWildcard(l.key) {
		return l, usagef("%s %s: want one object, s3://bucket/key", verb, l)
	}
	return l, nil
}

// s3URL formats bucket and key as an s3:// URL.
func s3URL(bucket, key string) string { return "s3://" + bucket + "/" + key }

// hasWildcard reports whether s holds a glob wildcard (s3kit.Glob's
// syntax), and so names the keys it matches rather than one key.
func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?[") }

// globBase is the directory part of the literal text before a glob's first
// wildcard: the paths it matches are named relative to it at the
// destination, so 's3://b/logs/2025-*.gz' copies 2025-01.gz, not
// logs/2025-01.gz.
func globBase(pattern string) (string, error) {
	g, err := s3kit.CompileGlob(pattern)
	if err != nil {
		return "", err
	}
	if i := strings.LastIndex(g.Prefix(), "/"); i >= 0 {
		return g.Prefix()[:i+1], nil
	}
	return "", nil
}

// dirKey returns key as a prefix of keys beneath it: with a trailing "/"
// unless empty.
func dirKey(key string) string {
	if key == "" || strings.HasSuffix(key, "/") {
		return key
	}
	return key + "/"
}

// joinKey names rel under the destination key dst taken as a directory.
func joinKey(dst, rel string) string { return dirKey(dst) + rel }

func baseName(key string) string { return path.Base(key) }

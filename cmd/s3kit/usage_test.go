package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3kit/s3kit"
)

// Bad usage exits 2 before any request, and says what was wrong.
func TestUsageErrors(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		for _, c := range []struct {
			args []string
			says string
		}{
			{[]string{"nosuchverb"}, "unknown command"},
			{[]string{"cp", "s3://b/k"}, "requires at least 2 arg"},
			{[]string{"cp", "--nosuchflag", "a", "s3://b/k"}, "unknown flag"},
			{[]string{"--part-size", "lots", "ls"}, "not a size"},
			{[]string{"--checksum", "md5", "ls"}, "--checksum"},
			{[]string{"--checksum-algorithm", "md5", "ls"}, `--checksum-algorithm "md5"`},
			{[]string{"--checksum", "crc-32", "ls"}, "want CRC64NVME, CRC32C, CRC32 or none"},
			{[]string{"sync", "--checksum-algorithm", "md5", "a", "s3://b/"}, `--checksum-algorithm "md5"`},
			{[]string{"--checksum", "crc32c", "--checksum-algorithm", "none", "ls"}, "disagree"},
			// sync's --checksum is a switch: an algorithm given to it is
			// pointed to --checksum-algorithm.
			{[]string{"sync", "--checksum=CRC32C", "a", "s3://b/"}, "--checksum-algorithm CRC32C"},
			{[]string{"sync", "--checksum", "CRC32C", "a", "s3://b/"}, "--checksum-algorithm CRC32C"},
			{[]string{"sync", "a", "s3://b/", "--checksum", "none"}, "--checksum-algorithm none"},
			{[]string{"cp", "--shard", "2/2", "a", "s3://b/"}, "I/N"},
			{[]string{"cp", "a", "b"}, "one side must be s3://"},
			{[]string{"cp", "-", "s3://b/dir/"}, "stdin goes to one object"},
			{[]string{"cp", "ftp://x/y", "s3://b/k"}, "only s3:// URLs"},
			{[]string{"ls", "s3://"}, "no bucket"},
			{[]string{"cat", "s3://b/*.txt"}, "one object"},
			{[]string{"tag", "s3://b/k", "novalue"}, "want k=v"},
			{[]string{"mb", "s3://b/key"}, "no key"},
			{[]string{"rm", "--older-than", "1h", "s3://b/k"}, "--incomplete"},
			{[]string{"cp", "--metadata", "x", "a", "s3://b/k"}, "want k=v"},
			{[]string{"sync", "-", "s3://b/"}, "not a directory"},
			{[]string{"sync", "--size-only", "--checksum", "a", "s3://b/"}, "exclude each other"},
			{[]string{"ls", "s3://b/[a"}, "unterminated ["},
			{[]string{"rm", "s3://b/x/**/[z-a]"}, "reversed"},
			// Refused by the library's Sync before it looks at anything.
			{[]string{"sync", t.TempDir(), t.TempDir()}, "sync: "},
			{[]string{"sync", e.url("a"), e.url("a/b")}, "overlap"},
		} {
			r := e.run(t, nil, c.args...)
			want(t, r, exitUsage, c.args...)
			if !strings.Contains(r.stderr, c.says) {
				t.Errorf("s3kit %q: stderr %q does not say %q", c.args, r.stderr, c.says)
			}
			if r.stdout != "" {
				t.Errorf("s3kit %q: stdout %q, want nothing", c.args, r.stdout)
			}
		}
	})
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"64MiB", 64 << 20, true}, {"64mib", 64 << 20, true}, {"5M", 5 << 20, true},
		{"100MB", 100e6, true}, {"1.5GiB", 3 << 29, true}, {"4096", 4096, true},
		{"0", 0, true}, {"1KiB", 1024, true}, {"1kb", 1000, true}, {"7B", 7, true},
		{"", 0, false}, {"MiB", 0, false}, {"-1MiB", 0, false}, {"ten", 0, false},
		{"1e30TiB", 0, false},
	} {
		got, err := parseSize(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

// Shards split the paths into disjoint sets that cover them all.
func TestShard(t *testing.T) {
	const n = 4
	counts := make([]int, n)
	for i := range 1000 {
		p := strings.Repeat("d/", i%3) + "file" + string(rune('a'+i%26)) + strings.Repeat("x", i)
		in := 0
		for s := range uint64(n) {
			sh := shard{i: s, n: n}
			if sh.has(p) {
				in++
				counts[s]++
			}
		}
		if in != 1 {
			t.Fatalf("%q is in %d shards", p, in)
		}
	}
	for s, c := range counts {
		if c < 150 {
			t.Errorf("shard %d/%d has only %d of 1000 paths", s, n, c)
		}
	}
}

// A key that would land outside a local destination directory is refused
// with ErrInsecurePath, as the library's DownloadAll refuses it.
func TestDestinationInsecure(t *testing.T) {
	dst := location{raw: "out", local: "out"}
	for _, rel := range []string{"../evil", "a/../../evil", "/etc/passwd", `a\..\..\evil`, ".."} {
		if d, err := destination(dst, rel, true); !errors.Is(err, s3kit.ErrInsecurePath) {
			t.Errorf("destination(%q) = %v, %v; want ErrInsecurePath", rel, d, err)
		}
	}
	d, err := destination(dst, "a/b.txt", true)
	if err != nil || d.local != filepath.Join("out", "a", "b.txt") {
		t.Errorf("destination(a/b.txt) = %v, %v", d, err)
	}
}

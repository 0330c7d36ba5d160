package main

import (
	"bytes"
	"encoding/base64"
	binenc "encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// In sync, --checksum compares contents and --checksum-algorithm picks the
// uploads' algorithm; both work in one run. Elsewhere --checksum-algorithm
// is --checksum ALGO under another name.
func TestSyncChecksumAlgorithm(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		old := time.Now().Add(-time.Hour)
		writeFile(t, filepath.Join(dir, "a.txt"), "first", old)
		e.ok(t, nil, "sync", "--checksum-algorithm", "CRC32C", dir, e.url("s"))
		crc32c := func(key string) string {
			t.Helper()
			info, err := e.bucket.Head(t.Context(), key, nil)
			if err != nil {
				t.Fatal(err)
			}
			return info.Checksums[s3kit.ChecksumCRC32C]
		}
		if crc32c("s/a.txt") == "" {
			t.Errorf("sync --checksum-algorithm CRC32C: no CRC32C on the upload")
		}
		// Same size and time, other content: only the comparison by
		// content sees it, and the copy carries the algorithm asked for.
		writeFile(t, filepath.Join(dir, "a.txt"), "FIRST", old)
		r := e.ok(t, nil, "--json", "sync", "--checksum", "--checksum-algorithm", "crc32c", dir, e.url("s"))
		if got := copied(t, r.stdout, "copy"); !slices.Equal(got, []string{e.url("s/a.txt")}) {
			t.Errorf("sync --checksum --checksum-algorithm copied %q", got)
		}
		if got := e.get(t, "s/a.txt"); got != "FIRST" || crc32c("s/a.txt") == "" {
			t.Errorf("after sync --checksum --checksum-algorithm: %q, CRC32C %q", got, crc32c("s/a.txt"))
		}
		// The same name outside sync, and the global --checksum ALGO
		// with it when they agree.
		e.ok(t, nil, "--checksum-algorithm", "CRC32C", "--checksum", "crc32c", "cp", filepath.Join(dir, "a.txt"), e.url("cp.txt"))
		if crc32c("cp.txt") == "" {
			t.Errorf("cp --checksum-algorithm CRC32C: no CRC32C on the upload")
		}
	})
}

// --checksum CRC32 (any case) and sync's --checksum-algorithm CRC32 make
// uploads carry the CRC32 of the whole file, FULL_OBJECT when multipart.
func TestChecksumCRC32(t *testing.T) {
	const part = 5 << 20
	eachServer(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		for _, c := range []struct {
			name string
			size int
			args func(file, key string) []string
		}{
			{"cp one PUT", 1, func(f, k string) []string { return []string{"--checksum", "CRC32", "cp", f, e.url(k)} }},
			{"cp multipart", part + 1, func(f, k string) []string {
				return []string{"--checksum", "crc32", "--part-size", "5MiB", "cp", f, e.url(k)}
			}},
			{"sync", part + 1, func(f, k string) []string {
				return []string{"--part-size", "5MiB", "sync", "--checksum-algorithm", "Crc32", filepath.Dir(f), e.url(k)}
			}},
		} {
			data := bytes.Repeat([]byte{byte(c.size)}, c.size)
			data[0] = 'x'
			sub := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			if err := os.MkdirAll(sub, 0o700); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(sub, "f")
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
			key := strings.ReplaceAll(c.name, " ", "-")
			e.ok(t, nil, c.args(file, key)...)
			if c.name == "sync" {
				key += "/f"
			}
			info, err := e.bucket.Head(t.Context(), key, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := base64.StdEncoding.EncodeToString(binenc.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data)))
			if got := info.Checksums[s3kit.ChecksumCRC32]; got != want || (c.size > part && info.ChecksumType != "FULL_OBJECT") {
				t.Errorf("%s: the store has CRC32 %q (%s), want %q FULL_OBJECT; all: %v", c.name, got, info.ChecksumType, want, info.Checksums)
			}
		}
	})
}

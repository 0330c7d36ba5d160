package main

import (
	"path/filepath"
	"slices"
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

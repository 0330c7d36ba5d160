package s3kit

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSyncPlan(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	src := &syncListing{
		files: map[string]syncFile{
			"new":         {1, t0, ""},
			"size":        {2, t0, ""},
			"newer":       {1, t0.Add(time.Second), ""},
			"same-second": {1, t0.Add(900 * time.Millisecond), ""}, // S3 times may have no fraction
			"dst-newer":   {1, t0, ""},
			"same":        {1, t0, ""},
			`back\slash`:  {1, t0, ""},
			"bad-\xff":    {1, t0, ""},
		},
		skipped: []SyncItem{{Path: "link", Reason: "symbolic link to nothing"}},
	}
	dst := &syncListing{files: map[string]syncFile{
		"size":        {3, t0, ""},
		"newer":       {1, t0.Add(999 * time.Millisecond), ""},
		"same-second": {1, t0, ""},
		"dst-newer":   {1, t0.Add(time.Hour), ""},
		"same":        {1, t0, ""},
		"gone":        {4, t0, ""},
		"broken-link": {-1, time.Time{}, ""},
		"link":        {1, t0, ""},
	}}
	b := &Bucket{name: "bucket", prefix: "p/"}
	paths := func(items []syncJob) []string {
		var out []string
		for _, it := range items {
			out = append(out, strings.TrimSpace(it.Path+" "+it.Reason))
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		s          *syncer
		incomplete bool
		copies     []string
		checks     []string
		deletes    []string
		unchanged  int
		failed     []string
	}{
		{
			name:      "upload",
			s:         &syncer{src: syncSide{dir: "."}, dst: syncSide{b: b}, bucket: b},
			copies:    []string{`back\slash new`, "new new", "newer newer", "size size"},
			unchanged: 3, failed: []string{"bad-\xff"},
		},
		{
			name:      "download, deleting",
			s:         &syncer{src: syncSide{b: b}, dst: syncSide{dir: "."}, bucket: b, opts: SyncOptions{Delete: true}},
			copies:    []string{"bad-\xff new", "new new", "newer newer", "size size"},
			deletes:   []string{"broken-link", "gone"},
			unchanged: 3, failed: []string{`back\slash`},
		},
		{
			name:       "source listed in part",
			s:          &syncer{src: syncSide{b: b}, dst: syncSide{dir: "."}, bucket: b, opts: SyncOptions{Delete: true}},
			incomplete: true,
			copies:     []string{"bad-\xff new", "new new", "newer newer", "size size"},
			unchanged:  3, failed: []string{`back\slash`},
		},
		{
			name:   "checksum",
			s:      &syncer{src: syncSide{dir: "."}, dst: syncSide{b: b}, bucket: b, opts: SyncOptions{Checksum: true}},
			copies: []string{`back\slash new`, "new new", "size size"},
			checks: []string{"dst-newer", "newer", "same", "same-second"},
			failed: []string{"bad-\xff"},
		},
	} {
		src.incomplete = tc.incomplete
		pl := tc.s.plan(src, dst)
		var dels, failed []string
		for _, d := range pl.deletes {
			dels = append(dels, d.Path)
		}
		for _, f := range pl.failed {
			failed = append(failed, f.Key)
		}
		if !slices.Equal(paths(pl.copies), tc.copies) || !slices.Equal(paths(pl.checks), tc.checks) ||
			!slices.Equal(dels, tc.deletes) || !slices.Equal(failed, tc.failed) || pl.unchanged != tc.unchanged {
			t.Errorf("%s: copies %q, checks %q, deletes %q, failed %q, unchanged %d\nwant %q, %q, %q, %q, %d",
				tc.name, paths(pl.copies), paths(pl.checks), dels, failed, pl.unchanged,
				tc.copies, tc.checks, tc.deletes, tc.failed, tc.unchanged)
		}
	}
	up := &syncer{src: syncSide{dir: "."}, dst: syncSide{b: b}, bucket: b}
	if f := up.plan(src, dst).failed[0]; !errors.Is(f, ErrInvalid) || !strings.Contains(f.Error(), "upload") {
		t.Errorf("failure of an invalid key: %v", f)
	}
	down := &syncer{src: syncSide{b: b}, dst: syncSide{dir: "."}, bucket: b}
	if f := down.plan(src, dst).failed[0]; !errors.Is(f, ErrInsecurePath) || !strings.Contains(f.Error(), "download") {
		t.Errorf("failure of an insecure key: %v", f)
	}
}

func TestSyncLocalMatches(t *testing.T) {
	dir := t.TempDir()
	data := []byte("hello, sync")
	if err := os.WriteFile(filepath.Join(dir, "f"), data, 0o666); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	sum := md5.Sum(data)
	md5ETag := `"` + hex.EncodeToString(sum[:]) + `"`
	crc64 := crc64nvmeSum.encode(crc64nvmeSum.sum(0, data))
	crc32c := crc32cSum.encode(crc32cSum.sum(0, data))
	other := crc64nvmeSum.encode(crc64nvmeSum.sum(0, []byte("hello, SYNC")))
	n := int64(len(data))
	for _, tc := range []struct {
		name string
		info ObjectInfo
		want bool
	}{
		{"CRC64NVME", ObjectInfo{Size: n, Checksums: map[string]string{"CRC64NVME": crc64}, ChecksumType: "FULL_OBJECT"}, true},
		{"other CRC64NVME", ObjectInfo{Size: n, Checksums: map[string]string{"CRC64NVME": other}, ETag: md5ETag}, false},
		{"CRC32C", ObjectInfo{Size: n, Checksums: map[string]string{"CRC32C": crc32c}}, true},
		{"composite CRC, MD5 ETag", ObjectInfo{Size: n, Checksums: map[string]string{"CRC32C": "AAAAAA==-2"}, ChecksumType: "COMPOSITE", ETag: md5ETag}, true},
		{"MD5 ETag", ObjectInfo{Size: n, ETag: strings.ToUpper(md5ETag)}, true},
		{"other MD5 ETag", ObjectInfo{Size: n, ETag: `"0123456789abcdef0123456789abcdef"`}, false},
		{"multipart ETag only", ObjectInfo{Size: n, ETag: `"0123456789abcdef0123456789abcdef-2"`}, false},
		{"other size", ObjectInfo{Size: n + 1, Checksums: map[string]string{"CRC64NVME": crc64}}, false},
	} {
		got, err := localMatches(root, "f", tc.info)
		if err != nil || got != tc.want {
			t.Errorf("%s: localMatches = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := localMatches(root, "missing", ObjectInfo{ETag: md5ETag}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("localMatches of a missing file: %v", err)
	}
}

func TestSyncSameObject(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b ObjectInfo
		want bool
	}{
		{"same CRC", ObjectInfo{Size: 1, ETag: "x", Checksums: map[string]string{"CRC64NVME": "A"}},
			ObjectInfo{Size: 1, ETag: "y", Checksums: map[string]string{"CRC64NVME": "A", "CRC32C": "B"}}, true},
		{"other CRC, same ETag", ObjectInfo{Size: 1, ETag: "x", Checksums: map[string]string{"CRC64NVME": "A"}},
			ObjectInfo{Size: 1, ETag: "x", Checksums: map[string]string{"CRC64NVME": "B"}}, false},
		{"no common algorithm, same ETag", ObjectInfo{Size: 1, ETag: "x", Checksums: map[string]string{"CRC64NVME": "A"}},
			ObjectInfo{Size: 1, ETag: "x", Checksums: map[string]string{"CRC32C": "B"}}, true},
		{"composite ignored", ObjectInfo{Size: 1, ETag: "x", Checksums: map[string]string{"CRC32C": "A"}, ChecksumType: "COMPOSITE"},
			ObjectInfo{Size: 1, ETag: "y", Checksums: map[string]string{"CRC32C": "A"}, ChecksumType: "COMPOSITE"}, false},
		{"other ETags", ObjectInfo{Size: 1, ETag: "x"}, ObjectInfo{Size: 1, ETag: "y"}, false},
		{"other sizes", ObjectInfo{Size: 1, ETag: "x"}, ObjectInfo{Size: 2, ETag: "x"}, false},
		{"nothing to compare", ObjectInfo{Size: 1}, ObjectInfo{Size: 1}, false},
	} {
		if got := sameObject(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: sameObject = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSyncDownloadTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".a.txt.s3kit-123-1750000000000000000.tmp": true,
		"a.tmp":             false,
		".hidden":           false,
		".a.s3kit-notes.md": false,
	} {
		if got := isDownloadTemp(name); got != want {
			t.Errorf("isDownloadTemp(%q) = %v", name, got)
		}
	}
}

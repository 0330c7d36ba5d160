package s3kit

import (
	"cmp"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// streamOf is a stream that yields entries, as a listing would.
func streamOf(entries []syncEntry) *syncStream {
	st := newSyncStream(&syncGauge{})
	go func() {
		defer close(st.ch)
		for i := 0; i < len(entries); i += 3 { // batches of 3, to cross batch ends
			b := entries[i:min(i+3, len(entries))]
			st.held.add(int64(len(b)))
			st.ch <- slices.Clone(b)
		}
	}()
	return st
}

func TestSyncJoin(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	file := func(p string, size int64, mtime time.Time) syncEntry {
		return syncEntry{path: p, size: size, mtime: mtime}
	}
	// In S3's order, as both listings give them.
	src := []syncEntry{
		file("bad-\xff", 1, t0),
		file(`back\slash`, 1, t0),
		{path: "link", kind: syncSkip, reason: "symbolic link to nothing"},
		file("new", 1, t0),
		file("newer", 1, t0.Add(time.Second)),
		file("same", 1, t0),
		file("same-second", 1, t0.Add(900*time.Millisecond)), // S3 times may have no fraction
		file("size", 2, t0),
		file("zz-dst-newer", 1, t0),
	}
	dst := []syncEntry{
		file("broken-link", -1, time.Time{}),
		file("gone", 4, t0),
		file("link", 1, t0),
		file("newer", 1, t0.Add(999*time.Millisecond)),
		file("same", 1, t0),
		file("same-second", 1, t0),
		file("size", 3, t0),
		file("zz-dst-newer", 1, t0.Add(time.Hour)),
	}
	b := &Bucket{name: "bucket", prefix: "p/"}
	for _, tc := range []struct {
		name       string
		s          *syncer
		incomplete bool
		want       []string // "action path reason", in order
	}{
		{
			name: "upload",
			s:    &syncer{src: syncSide{dir: "."}, dst: syncSide{b: b}, bucket: b},
			want: []string{"fail bad-\xff", `copy back\slash new`, "skip link symbolic link to nothing", "copy new new",
				"copy newer newer", "unchanged same", "unchanged same-second", "copy size size", "unchanged zz-dst-newer"},
		},
		{
			name: "download, deleting",
			s:    &syncer{src: syncSide{b: b}, dst: syncSide{dir: "."}, bucket: b, opts: SyncOptions{Delete: true}},
			want: []string{"copy bad-\xff new", `fail back\slash`, "delete broken-link", "delete gone", "skip link symbolic link to nothing",
				"copy new new", "copy newer newer", "unchanged same", "unchanged same-second", "copy size size", "unchanged zz-dst-newer"},
		},
		{
			name: "checksum",
			s:    &syncer{src: syncSide{dir: "."}, dst: syncSide{b: b}, bucket: b, opts: SyncOptions{Checksum: true}},
			want: []string{"fail bad-\xff", `copy back\slash new`, "skip link symbolic link to nothing", "copy new new",
				"check newer", "check same", "check same-second", "copy size size", "check zz-dst-newer"},
		},
		{
			name: "no clobber",
			s:    &syncer{src: syncSide{dir: "."}, dst: syncSide{b: b}, bucket: b, opts: SyncOptions{NoClobber: true, Checksum: true}},
			want: []string{"fail bad-\xff", `copy back\slash new`, "skip link symbolic link to nothing", "copy new new",
				"skip newer exists at the destination", "unchanged same", "unchanged same-second", "skip size exists at the destination", "unchanged zz-dst-newer"},
		},
	} {
		var got []string
		names := map[syncAction]string{actCopy: "copy", actCheck: "check", actUnchanged: "unchanged", actSkip: "skip", actMkdir: "mkdir", actFail: "fail", actDelete: "delete"}
		err := tc.s.join(t.Context(), streamOf(src), streamOf(dst), func(d syncDecision) {
			p := d.item.Path
			if d.act == actDelete {
				p = d.del.path
			}
			got = append(got, strings.TrimSpace(names[d.act]+" "+p+" "+d.item.Reason))
		})
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: join = %v\n got %q\nwant %q", tc.name, err, got, tc.want)
		}
	}
	up := &syncer{src: syncSide{dir: "."}, dst: syncSide{b: b}, bucket: b}
	if d := up.decide(&src[0], nil); !errors.Is(d.err, ErrInvalid) || !strings.Contains(d.err.Error(), "upload") {
		t.Errorf("failure of an invalid key: %v", d.err)
	}
	down := &syncer{src: syncSide{b: b}, dst: syncSide{dir: "."}, bucket: b}
	if d := down.decide(&src[1], nil); !errors.Is(d.err, ErrInsecurePath) || !strings.Contains(d.err.Error(), "download") {
		t.Errorf("failure of an insecure key: %v", d.err)
	}
}

// A listing that fails ends the join with its error, whatever the other
// side still holds.
func TestSyncJoinListingError(t *testing.T) {
	b := &Bucket{name: "bucket"}
	s := &syncer{src: syncSide{b: b}, dst: syncSide{dir: "."}, bucket: b, opts: SyncOptions{Delete: true}}
	boom := errors.New("boom")
	src := newSyncStream(&syncGauge{})
	src.err = boom
	close(src.ch)
	var got []syncDecision
	err := s.join(t.Context(), src, streamOf([]syncEntry{{path: "a", size: 1}}), func(d syncDecision) { got = append(got, d) })
	if !errors.Is(err, boom) || len(got) != 0 {
		t.Fatalf("join = %v with %d decisions; want the listing's error and none", err, len(got))
	}
}

func TestSyncCmpS3Names(t *testing.T) {
	type ent struct {
		name string
		dir  bool
	}
	ents := []ent{{"a", true}, {"a.txt", false}, {"a-b", false}, {"a", false}, {"b", true}, {"a b", false},
		{"a+b", false}, {"ä", false}, {"a0", true}, {"Z", false}, {"a~", false}, {"ab", true}}
	key := func(e ent) string {
		if e.dir {
			return e.name + "/"
		}
		return e.name
	}
	for _, x := range ents {
		for _, y := range ents {
			if x == y {
				continue
			}
			if got, want := cmp.Compare(cmpS3Names(x.name, x.dir, y.name, y.dir), 0), strings.Compare(key(x), key(y)); got != want {
				t.Errorf("cmpS3Names(%q, %q) = %d, want %d", key(x), key(y), got, want)
			}
		}
	}
}

// The local walk lists in the order of sort.Strings over the paths, which
// is S3's, however paths and names sort as paths.
func TestSyncWalkOrder(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for _, p := range []string{"a/b", "a.txt", "a-b", "a/c/d", "a0/x", "ab", "a b/c", "a+b", "ünï/ç", "ü", "z/", "b/a.txt/x", "b/a.txt0", "b/a/x", "b/a-"} {
		name := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(p, "/")))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(name, 0o777); err != nil {
				t.Fatal(err)
			}
			continue // an empty directory lists nothing
		}
		if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, nil, 0o666); err != nil {
			t.Fatal(err)
		}
		want = append(want, p)
	}
	sort.Strings(want)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	b := &Bucket{name: "bucket"}
	s := &syncer{src: syncSide{dir: dir, root: root}, dst: syncSide{b: b}, bucket: b}
	var got []string
	err = s.walkLocal(t.Context(), &s.src, true, func(e syncEntry) error {
		got = append(got, e.path)
		return nil
	})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("walk = %v\n got %q\nwant %q", err, got, want)
	}
	if n := s.gauges.walk.cur.Load(); n != 0 {
		t.Fatalf("%d walk entries still counted", n)
	}
}

// Deletions beyond spillAt go to a temporary file and come back whole, in
// batches, with their ETags and sizes.
func TestSyncDeletesSpill(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 11, 25, 1001} {
		ds := &syncDeletes{spillAt: 10, held: &syncGauge{}}
		for i := range n {
			ds.add(syncDelete{path: fmt.Sprintf("k%d\n+ é", i), etag: fmt.Sprintf(`"%d"`, i), size: int64(i) - 1})
		}
		var got []syncDelete
		err := ds.each(7, func(b []syncDelete) bool {
			if len(b) > 7 || len(b) == 0 {
				t.Errorf("batch of %d", len(b))
			}
			got = append(got, b...)
			return true
		})
		ds.close()
		if err != nil || len(got) != n {
			t.Fatalf("%d deletions: each = %v, %d back", n, err, len(got))
		}
		for i, d := range got {
			if d.path != fmt.Sprintf("k%d\n+ é", i) || d.etag != fmt.Sprintf(`"%d"`, i) || d.size != int64(i)-1 {
				t.Fatalf("deletion %d came back as %+v", i, d)
			}
		}
		if m := ds.held.max.Load(); m > 10 {
			t.Fatalf("%d deletions held in memory at once", m)
		}
		if ds.f != nil {
			if _, err := os.Stat(ds.f.Name()); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("temporary file left: %v", err)
			}
		}
	}
	// Above the bound nothing is kept, but all are counted.
	ds := &syncDeletes{bound: 5, spillAt: 3, held: &syncGauge{}}
	for i := range 20 {
		ds.add(syncDelete{path: fmt.Sprint(i)})
	}
	defer ds.close()
	if ds.n != 20 || len(ds.mem) != 0 || ds.held.cur.Load() != 0 {
		t.Fatalf("over the bound: n %d, %d in memory", ds.n, len(ds.mem))
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

package main

// Interchange of the s3kit command with the aws CLI, rclone and s5cmd, both
// ways, on every server: what `s3kit cp` and `s3kit sync` upload, the other
// clients download byte-exact and see with the same content type,
// Cache-Control, metadata, tags, storage class and (rclone) modification
// time; what they upload, `s3kit cp`, `sync`, `stat` and `ls` read back.
// The clients run through s3test.ForeignCLI, as the library's interchange
// tests (../../interop_test.go) run them: a missing one skips the test,
// saying how to install it, except under CI=true, where it fails.
//
// Modification times: s3kit's uploads store the file's time as
// X-Amz-Meta-Mtime in rclone's format (seconds since the epoch, the
// fraction's trailing zeros dropped), which rclone reads as the object's
// time. `s3kit cp` down sets a file's time from that metadata, else from
// the object's Last-Modified; `s3kit sync` down sets it from Last-Modified
// always (the library's Sync: the next sync compares against the listing's
// LastModified, to the second, and a listing carries no metadata), so a
// second sync copies nothing, even of rclone's objects.
//
// Directory markers, zero-byte "dir/" objects (the aws CLI's put of a key
// ending in "/", rclone's --s3-directory-markers; s5cmd makes none): s3kit
// follows the library. `ls` shows one as a directory (one level: once,
// merged with the common prefix; -r: the marker key itself, "dir": true,
// size 0); `sync` down makes it an empty directory (as Sync does) and never
// a file, and so does `cp -r` down (as DownloadAll does); an empty local
// directory is not
// uploaded by `cp -r` or `sync` (as Sync does not), so the command's
// copies never make a marker (the library's FS.MkdirAll does).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit/internal/s3test"
)

const (
	// interopPartSize is s3kit's --part-size in these tests, and the
	// foreign clients' (s3test.ForeignPartSize): S3's minimum.
	interopPartSize = s3test.ForeignPartSize
	// bigSize makes a file of three parts of interopPartSize, the last
	// 1 MiB and a byte.
	bigSize = 2*interopPartSize + 1<<20 + 1
)

// interopFile is one file of the tree the tests copy both ways.
type interopFile struct {
	rel   string // slash-separated, relative to the tree
	data  []byte
	mtime time.Time
}

// interopTree is a small tree: an empty file, keys with spaces, unicode
// and '+', a multipart-sized file, and times with nanoseconds (one whose
// last digit is 0, which rclone's format drops, and one on a whole
// second, which has no fraction at all). Writing it also makes an empty
// directory, "emptydir".
func interopTree() []interopFile {
	base := time.Date(2020, 2, 29, 12, 34, 56, 123456789, time.UTC)
	big := make([]byte, bigSize)
	rand.NewChaCha8([32]byte{9}).Read(big)
	return []interopFile{
		{"a.txt", []byte("alpha\n"), base},
		{"big.bin", big, base.Add(time.Minute)},
		{"empty.bin", nil, base.Add(time.Hour + 1)},
		{"plus/a+b c+d.txt", []byte("plus and space\n"), base.Add(2 * time.Hour)},
		{"unicode/東京 é.txt", []byte("unicode\n"), time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"with space/a b.txt", []byte("space\n"), base.Add(3 * time.Hour)},
	}
}

// writeTree writes the files of tree under dir, with their times, and the
// empty directory "emptydir".
func writeTree(t *testing.T, dir string, tree []interopFile) {
	t.Helper()
	for _, f := range tree {
		p := filepath.Join(dir, filepath.FromSlash(f.rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, f.mtime, f.mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// localTree returns the regular files under dir by slash-separated
// relative path, and its directories (dir itself left out).
func localTree(t *testing.T, dir string) (files map[string][]byte, dirs []string) {
	t.Helper()
	files = map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			dirs = append(dirs, rel)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[rel] = data
		default:
			return fmt.Errorf("%s: unexpected %v", rel, d.Type())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, dirs
}

// checkTree checks that dir holds exactly the files of tree, byte-exact,
// as who downloaded them.
func checkTree(t *testing.T, who, dir string, tree []interopFile) {
	t.Helper()
	files, _ := localTree(t, dir)
	var want []string
	for _, f := range tree {
		want = append(want, f.rel)
		got, ok := files[f.rel]
		switch {
		case !ok:
			t.Errorf("%s: %s is missing", who, f.rel)
		case !bytes.Equal(got, f.data):
			t.Errorf("%s: %s has %d bytes that differ from the %d written", who, f.rel, len(got), len(f.data))
		}
	}
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, want) {
		t.Errorf("%s: the files are %q, want %q", who, got, want)
	}
}

// modTime returns the modification time of the file at path.
func modTime(t *testing.T, path string) time.Time {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

// rcloneMtime formats a time as rclone stores it in X-Amz-Meta-Mtime.
func rcloneMtime(tm time.Time) string {
	s := fmt.Sprint(tm.Unix())
	if ns := tm.Nanosecond(); ns != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
	}
	return s
}

// The attributes the tests set on objects, both ways. Metadata names are
// given in mixed case; S3 keeps them in lower case.
const (
	interopType  = "text/csv; charset=utf-8"
	interopCache = "public, max-age=3600"
	interopClass = "REDUCED_REDUNDANCY"
)

var (
	interopMeta   = map[string]string{"Camera-Model": "X100 V", "Shot-At": "2026-12-02T10:00:00Z"}
	interopMetaLC = map[string]string{"camera-model": "X100 V", "shot-at": "2026-12-02T10:00:00Z"}
	interopTags   = map[string]string{"project": "s3kit", "tier": "gold"}
)

// keepsStorageClass tells, per server, whether it stores a storage class
// other than STANDARD; one that does not reports STANDARD to every client.
var keepsStorageClass = map[string]bool{
	s3test.VersityGW: false, // its posix backend accepts the header and reports STANDARD
	s3test.MinIO:     true,
	s3test.SeaweedFS: true,
}

// wantClass is the storage class e's server reports for an object written
// with interopClass.
func (e *env) wantClass() string {
	if keepsStorageClass[e.name] {
		return interopClass
	}
	return "STANDARD"
}

// interopFlags are the s3kit flags that set the attributes above.
func interopFlags() []string {
	args := []string{"--content-type", interopType, "--cache-control", interopCache, "--storage-class", interopClass}
	for _, k := range slices.Sorted(maps.Keys(interopMeta)) {
		args = append(args, "--metadata", k+"="+interopMeta[k])
	}
	for _, k := range slices.Sorted(maps.Keys(interopTags)) {
		args = append(args, "--tags", k+"="+interopTags[k])
	}
	return args
}

// eachForeign runs fn for each of the foreign clients on every server, the
// clients of one server in parallel in its bucket (each under prefixes of
// its own where they write: they wait mostly on their own start-up, the
// aws CLI's seconds).
func eachForeign(t *testing.T, clients []string, fn func(t *testing.T, e *env, c *s3test.ForeignCLI)) {
	eachServer(t, func(t *testing.T, e *env) {
		for _, name := range clients {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				fn(t, e, s3test.NewForeignCLI(t, name, e.srv))
			})
		}
	})
}

// getFile downloads bucket/key to path with the client.
func getFile(t *testing.T, c *s3test.ForeignCLI, bucket, key, path string) {
	t.Helper()
	switch c.Name {
	case s3test.AWSCLI:
		c.Run(t, "s3", "cp", "s3://"+bucket+"/"+key, path)
	case s3test.Rclone:
		c.Run(t, "copyto", s3test.Remote(bucket, key), path)
	case s3test.S5cmd:
		c.Run(t, "cp", "s3://"+bucket+"/"+key, path)
	}
}

// getTree downloads everything under bucket/prefix (ending in "/") into
// dir with the client's recursive copy.
func getTree(t *testing.T, c *s3test.ForeignCLI, bucket, prefix, dir string) {
	t.Helper()
	switch c.Name {
	case s3test.AWSCLI:
		c.Run(t, "s3", "cp", "--recursive", "s3://"+bucket+"/"+prefix, dir)
	case s3test.Rclone:
		c.Run(t, "copy", s3test.Remote(bucket, strings.TrimSuffix(prefix, "/")), dir)
	case s3test.S5cmd:
		c.Run(t, "cp", "s3://"+bucket+"/"+prefix+"*", dir+string(filepath.Separator))
	}
}

// putTree uploads the files under dir to bucket/prefix (ending in "/")
// with the client's recursive copy, multipart in parts of
// s3test.ForeignPartSize above that size.
func putTree(t *testing.T, c *s3test.ForeignCLI, dir, bucket, prefix string) {
	t.Helper()
	switch c.Name {
	case s3test.AWSCLI: // part size configured by ForeignCLI
		// Each part with its CRC32: the object has a composite checksum.
		c.Run(t, "s3", "cp", "--recursive", "--checksum-algorithm", "CRC32", dir, "s3://"+bucket+"/"+prefix)
	case s3test.Rclone:
		c.Run(t, "copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", dir, s3test.Remote(bucket, strings.TrimSuffix(prefix, "/")))
	case s3test.S5cmd:
		c.Run(t, "cp", "--part-size", "5", filepath.Join(dir, "*"), "s3://"+bucket+"/"+prefix)
	}
}

// putAttributed uploads the file at path to bucket/key with the client,
// setting the attributes above as far as it can: rclone and s5cmd have no
// way to set tags, and only rclone stores the file's time.
func putAttributed(t *testing.T, c *s3test.ForeignCLI, path, bucket, key string) {
	t.Helper()
	switch c.Name {
	case s3test.AWSCLI:
		mj, err := json.Marshal(interopMeta)
		if err != nil {
			t.Fatal(err)
		}
		tags := url.Values{}
		for k, v := range interopTags {
			tags.Set(k, v)
		}
		c.Run(t, "s3api", "put-object", "--bucket", bucket, "--key", key, "--body", path,
			"--content-type", interopType, "--cache-control", interopCache, "--metadata", string(mj),
			"--tagging", tags.Encode(), "--storage-class", interopClass)
	case s3test.Rclone:
		args := []string{"copyto", "--metadata", "--metadata-set", "content-type=" + interopType,
			"--metadata-set", "cache-control=" + interopCache, "--s3-storage-class", interopClass}
		for k, v := range interopMeta {
			args = append(args, "--metadata-set", k+"="+v)
		}
		c.Run(t, append(args, path, s3test.Remote(bucket, key))...)
	case s3test.S5cmd:
		args := []string{"cp", "--content-type", interopType, "--cache-control", interopCache, "--storage-class", interopClass}
		for k, v := range interopMeta {
			args = append(args, "--metadata", k+"="+v)
		}
		c.Run(t, append(args, path, "s3://"+bucket+"/"+key)...)
	}
}

// lsRecords returns the --json records of `s3kit ls` with args, keyed by
// source URL.
func (e *env) lsRecords(t *testing.T, args ...string) map[string]record {
	t.Helper()
	r := e.ok(t, nil, append([]string{"--json", "ls"}, args...)...)
	recs, sum := records(t, r.stdout)
	m := map[string]record{}
	for _, rec := range recs {
		if _, dup := m[rec.Source]; dup {
			t.Errorf("s3kit ls %q lists %s twice", args, rec.Source)
		}
		m[rec.Source] = rec
	}
	if sum.Failed != 0 || sum.OK != int64(len(recs)) {
		t.Errorf("s3kit ls %q: summary %+v for %d records", args, sum, len(recs))
	}
	return m
}

// statJSON returns the object e.url(key) as `s3kit stat --tags --json`
// reports it.
func (e *env) statJSON(t *testing.T, key string) objectJSON {
	t.Helper()
	r := e.ok(t, nil, "--json", "stat", "--tags", e.url(key))
	recs, _ := records(t, r.stdout)
	if len(recs) != 1 {
		t.Fatalf("s3kit stat %s: %d records, want 1:\n%s", key, len(recs), r.stdout)
	}
	raw, err := json.Marshal(recs[0].Info)
	if err != nil {
		t.Fatal(err)
	}
	var o objectJSON
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// syncRecords runs `s3kit --json sync` with args and returns the records
// of what it did, failing the test on any failure it reports.
func (e *env) syncRecords(t *testing.T, args ...string) ([]record, summaryRecord) {
	t.Helper()
	r := e.ok(t, nil, append([]string{"--json", "sync"}, args...)...)
	recs, sum := records(t, r.stdout)
	if sum.Failed != 0 {
		t.Errorf("s3kit sync %q: %+v\n%s", args, sum, r.stdout)
	}
	return recs, sum
}

// TestInteropUpload: what `s3kit cp` (one file; -r, a tree) and `s3kit
// sync` upload with --content-type, --cache-control, --metadata, --tags
// and --storage-class, in parts of 5 MiB, each foreign client downloads
// byte-exact and reports with those attributes; rclone gives the objects,
// and the files it downloads, the local files' times.
func TestInteropUpload(t *testing.T) {
	tree := interopTree()
	src := t.TempDir()
	writeTree(t, src, tree)
	single := filepath.Join(t.TempDir(), "report 2026.csv")
	singleTime := time.Date(2021, 6, 30, 23, 59, 59, 999999999, time.UTC)
	writeFile(t, single, "a,b\n1,2\n", singleTime)
	mtimes := map[string]time.Time{"single/report 2026.csv": singleTime}
	for _, f := range tree {
		mtimes["cp/"+f.rel], mtimes["sync/"+f.rel] = f.mtime, f.mtime
	}

	eachServer(t, func(t *testing.T, e *env) {
		part := []string{"--part-size", "5MiB"}
		e.ok(t, nil, slices.Concat(part, []string{"cp"}, interopFlags(), []string{single, e.url("single/report 2026.csv")})...)
		e.ok(t, nil, slices.Concat(part, []string{"cp", "-r"}, interopFlags(), []string{src, e.url("cp/")})...)
		e.ok(t, nil, slices.Concat(part, []string{"sync"}, interopFlags(), []string{src, e.url("sync/")})...)

		// Exactly the files went up: no marker for the empty directory.
		listed := e.lsRecords(t, "-r", e.url(""))
		var want []string
		for k := range mtimes {
			want = append(want, e.url(k))
		}
		slices.Sort(want)
		if got := slices.Sorted(maps.Keys(listed)); !slices.Equal(got, want) {
			t.Fatalf("s3kit uploaded %q, want %q", got, want)
		}
		for _, key := range []string{"cp/big.bin", "sync/big.bin"} {
			if etag := listed[e.url(key)].ETag; !strings.HasSuffix(strings.Trim(etag, `"`), "-3") {
				t.Errorf("%s has ETag %s, want that of a three-part upload (--part-size 5MiB)", key, etag)
			}
		}
		// The attributes of every kind of upload: one file, the
		// multipart file of cp -r, the empty file of sync.
		checked := []string{"single/report 2026.csv", "cp/big.bin", "sync/empty.bin"}
		b := e.bucket.Name()

		for _, name := range s3test.ForeignClients() {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				c := s3test.NewForeignCLI(t, name, e.srv)
				out := filepath.Join(t.TempDir(), "report.csv")
				getFile(t, c, b, "single/report 2026.csv", out)
				if got := readFile(t, out); got != "a,b\n1,2\n" {
					t.Errorf("%s downloaded %q", name, got)
				}
				if name == s3test.Rclone {
					if got := modTime(t, out); !got.Equal(singleTime) {
						t.Errorf("rclone gave the downloaded file the time %v, want the uploaded file's %v", got, singleTime)
					}
				}
				for _, prefix := range []string{"cp/", "sync/"} {
					dir := t.TempDir()
					getTree(t, c, b, prefix, dir)
					checkTree(t, name+" downloading "+prefix, dir, tree)
					if name != s3test.Rclone {
						continue
					}
					for _, f := range tree {
						if got := modTime(t, filepath.Join(dir, filepath.FromSlash(f.rel))); !got.Equal(f.mtime) {
							t.Errorf("rclone gave %s%s the time %v, want %v", prefix, f.rel, got, f.mtime)
						}
					}
				}
				for _, key := range checked {
					checkForeignView(t, e, c, key, mtimes[key], listed[e.url(key)].ETag)
				}
				if name == s3test.Rclone {
					// rclone's listing carries the times of all the
					// objects, read from their metadata.
					entries := c.RcloneList(t, b, "", "-R", "--files-only")
					for _, en := range entries {
						if want, ok := mtimes[en.Path]; !ok || !en.ModTime.Equal(want) {
							t.Errorf("rclone lists %s with the time %v, want %v", en.Path, en.ModTime, want)
						}
					}
					if len(entries) != len(mtimes) {
						t.Errorf("rclone lists %d files, want %d", len(entries), len(mtimes))
					}
				}
			})
		}
	})
}

// checkForeignView checks the attributes of an object s3kit uploaded, from
// a file with the time mtime, as the client c reports them; etag is the
// object's as s3kit lists it.
func checkForeignView(t *testing.T, e *env, c *s3test.ForeignCLI, key string, mtime time.Time, etag string) {
	t.Helper()
	b := e.bucket.Name()
	wantMeta := maps.Clone(interopMetaLC)
	wantMeta["mtime"] = rcloneMtime(mtime)
	check := func(field string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s sees %s's %s as %v, want %v", c.Name, key, field, got, want)
		}
	}
	switch c.Name {
	case s3test.AWSCLI:
		h := c.AWSHead(t, b, key)
		check("ETag", h.ETag, etag)
		check("content type", h.ContentType, interopType)
		check("Cache-Control", h.CacheControl, interopCache)
		check("metadata", h.Metadata, wantMeta)
		check("storage class", h.StorageClass, e.wantClass())
		check("tags", c.AWSTags(t, b, key), interopTags)
	case s3test.Rclone:
		o := c.RcloneStat(t, b, key)
		check("content type", o.MimeType, interopType)
		check("Cache-Control", o.Metadata["cache-control"], interopCache)
		check("storage class", o.Metadata["tier"], e.wantClass())
		for k, v := range interopMetaLC {
			check("metadata "+k, o.Metadata[k], v)
		}
		check("modification time", o.ModTime.UTC(), mtime)
		check("metadata mtime", o.Metadata["mtime"], mtime.Format(time.RFC3339Nano))
	case s3test.S5cmd:
		o := c.S5cmdHead(t, b, key)
		check("ETag", o.ETag, strings.Trim(etag, `"`))
		check("content type", o.ContentType, interopType)
		check("metadata", o.Metadata, wantMeta)
		check("storage class", o.StorageClass, e.wantClass())
	}
}

// TestInteropDownload: what each foreign client uploads (one file with its
// attributes; a tree recursively, its large file in parts) `s3kit cp`
// downloads byte-exact with the file's time from rclone's mtime, else the
// object's Last-Modified; `s3kit stat --json` reports the attributes;
// `s3kit cp -r` and `s3kit sync` download the tree, and a second sync
// copies nothing; `s3kit ls --json` lists it all.
func TestInteropDownload(t *testing.T) {
	tree := interopTree()
	src := t.TempDir()
	writeTree(t, src, tree)
	single := filepath.Join(t.TempDir(), "report.csv")
	singleTime := time.Date(2021, 6, 30, 23, 59, 59, 999999999, time.UTC)
	writeFile(t, single, "a,b\n1,2\n", singleTime)

	eachForeign(t, s3test.ForeignClients(), func(t *testing.T, e *env, c *s3test.ForeignCLI) {
		b, p := e.bucket.Name(), c.Name+"/"
		putAttributed(t, c, single, b, p+"single/report.csv")
		putTree(t, c, src, b, p+"tree/")

		// ls: one level, then everything.
		top := e.lsRecords(t, e.url(p+"tree/"))
		var got []string
		for u, r := range top {
			got = append(got, fmt.Sprintf("%s dir=%v", strings.TrimPrefix(u, e.url(p+"tree/")), r.Dir))
		}
		slices.Sort(got)
		want := []string{"a.txt dir=false", "big.bin dir=false", "empty.bin dir=false",
			"plus/ dir=true", "unicode/ dir=true", "with space/ dir=true"}
		if !slices.Equal(got, want) {
			t.Errorf("s3kit ls %s lists %q, want %q", p+"tree/", got, want)
		}
		all := e.lsRecords(t, "-r", e.url(p))
		wantKeys := []string{e.url(p + "single/report.csv")}
		for _, f := range tree {
			wantKeys = append(wantKeys, e.url(p+"tree/"+f.rel))
			if r := all[e.url(p+"tree/"+f.rel)]; r.Size != int64(len(f.data)) || r.Dir || r.Modified == nil {
				t.Errorf("s3kit ls -r lists %s as %+v, want a file of %d bytes with its time", f.rel, r, len(f.data))
			}
		}
		slices.Sort(wantKeys)
		if got := slices.Sorted(maps.Keys(all)); !slices.Equal(got, wantKeys) {
			t.Errorf("s3kit ls -r %s lists %q, want %q", p, got, wantKeys)
		}

		// stat: the attributes, and the multipart upload's ETag.
		o := e.statJSON(t, p+"single/report.csv")
		check := func(field string, got, want any) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("s3kit stat of %s's object: %s %v, want %v", c.Name, field, got, want)
			}
		}
		check("content type", o.ContentType, interopType)
		check("Cache-Control", o.CacheControl, interopCache)
		check("storage class", o.StorageClass, e.wantClass())
		for k, v := range interopMetaLC {
			check("metadata "+k, o.Metadata[k], v)
		}
		switch c.Name {
		case s3test.AWSCLI:
			check("tags", o.Tags, interopTags)
		default: // no way to set tags
			check("tags", o.Tags, map[string]string(nil))
		}
		if c.Name == s3test.Rclone {
			check("metadata mtime", o.Metadata["mtime"], rcloneMtime(singleTime))
		} else if m, ok := o.Metadata["mtime"]; ok {
			t.Errorf("%s stored an mtime %q; the test expects none", c.Name, m)
		}
		big := e.statJSON(t, p+"tree/big.bin")
		if big.Size != bigSize || !strings.HasSuffix(strings.Trim(big.ETag, `"`), "-3") || big.ETag != all[e.url(p+"tree/big.bin")].ETag {
			t.Errorf("s3kit stat of %s's big.bin: size %d, ETag %s (listed: %s); want %d bytes in three parts",
				c.Name, big.Size, big.ETag, all[e.url(p+"tree/big.bin")].ETag, bigSize)
		}
		if c.Name == s3test.AWSCLI && (!strings.HasSuffix(big.Checksums["CRC32"], "-3") || big.ChecksumType != "COMPOSITE") {
			t.Errorf("s3kit stat of the aws CLI's big.bin: checksums %v (%s), want a composite CRC32 of three parts",
				big.Checksums, big.ChecksumType)
		}

		// cp of one object: the time from rclone's mtime, else
		// Last-Modified.
		out := filepath.Join(t.TempDir(), "report.csv")
		e.ok(t, nil, "cp", e.url(p+"single/report.csv"), out)
		if got := readFile(t, out); got != "a,b\n1,2\n" {
			t.Errorf("s3kit cp downloaded %q", got)
		}
		wantTime := o.LastModified
		if c.Name == s3test.Rclone {
			wantTime = singleTime
		}
		if got := modTime(t, out); !got.Equal(wantTime) {
			t.Errorf("s3kit cp gave %s's object the time %v, want %v", c.Name, got, wantTime)
		}

		// cp -r of the tree: the same times.
		dir := t.TempDir()
		e.ok(t, nil, "cp", "-r", e.url(p+"tree/"), dir)
		checkTree(t, "s3kit cp -r", dir, tree)
		for _, f := range tree {
			want := all[e.url(p+"tree/"+f.rel)].Modified.Truncate(time.Second) // as Last-Modified has it
			if c.Name == s3test.Rclone {
				want = f.mtime
			}
			if got := modTime(t, filepath.Join(dir, filepath.FromSlash(f.rel))); !got.Equal(want) {
				t.Errorf("s3kit cp -r gave %s the time %v, want %v", f.rel, got, want)
			}
		}

		// sync: every file once, with its Last-Modified, then nothing.
		dir = t.TempDir()
		recs, sum := e.syncRecords(t, e.url(p+"tree/"), dir)
		var copiedPaths []string
		for _, r := range recs {
			if r.Operation == "copy" {
				copiedPaths = append(copiedPaths, strings.TrimPrefix(r.Destination, dir+string(filepath.Separator)))
			}
		}
		slices.Sort(copiedPaths)
		var rels []string
		for _, f := range tree {
			rels = append(rels, filepath.FromSlash(f.rel))
		}
		if !slices.Equal(copiedPaths, rels) || sum.Bytes != int64(len("alpha\n")+bigSize+len("plus and space\n")+len("unicode\n")+len("space\n")) {
			t.Errorf("s3kit sync copied %q (%d bytes), want %q", copiedPaths, sum.Bytes, rels)
		}
		checkTree(t, "s3kit sync", dir, tree)
		for _, f := range tree {
			// Last-Modified, to the second as HTTP carries it (some
			// stores list it to the millisecond).
			want := all[e.url(p+"tree/"+f.rel)].Modified.Truncate(time.Second)
			if got := modTime(t, filepath.Join(dir, filepath.FromSlash(f.rel))); !got.Equal(want) {
				t.Errorf("s3kit sync gave %s the time %v, want its Last-Modified %v", f.rel, got, want)
			}
		}
		recs, sum = e.syncRecords(t, e.url(p+"tree/"), dir)
		if len(recs) != 0 || sum.OK != 0 || sum.Bytes != 0 {
			t.Errorf("a second s3kit sync did %+v, %+v; want nothing", recs, sum)
		}
	})
}

// TestInteropDirectoryMarkers: the zero-byte "dir/" objects the aws CLI
// (put-object of a key ending in "/") and rclone (--s3-directory-markers)
// make for an empty directory ("empty/") and for one with a file in it
// ("full/", "full/a.txt"), as `s3kit ls`, `sync` and `cp -r` see them (see
// the comment at the top of this file). s5cmd makes none: its cp to a key
// ending in "/" puts the file under that prefix, and its pipe refuses one
// ("must be an object").
func TestInteropDirectoryMarkers(t *testing.T) {
	eachForeign(t, []string{s3test.AWSCLI, s3test.Rclone}, func(t *testing.T, e *env, c *s3test.ForeignCLI) {
		b, p := e.bucket.Name(), c.Name+"/m/"
		file := filepath.Join(t.TempDir(), "a.txt")
		writeFile(t, file, "in full\n", time.Time{})
		switch c.Name {
		case s3test.AWSCLI:
			c.Run(t, "s3api", "put-object", "--bucket", b, "--key", p+"empty/")
			c.Run(t, "s3api", "put-object", "--bucket", b, "--key", p+"full/")
			c.Run(t, "s3", "cp", file, "s3://"+b+"/"+p+"full/a.txt")
		case s3test.Rclone:
			c.Run(t, "mkdir", "--s3-directory-markers", s3test.Remote(b, p+"empty"))
			c.Run(t, "copyto", "--s3-directory-markers", file, s3test.Remote(b, p+"full/a.txt"))
		}

		all := e.lsRecords(t, "-r", e.url(p))
		var got []string
		for u, r := range all {
			got = append(got, fmt.Sprintf("%s dir=%v size=%d", strings.TrimPrefix(u, e.url(p)), r.Dir, r.Size))
		}
		slices.Sort(got)
		if want := []string{"empty/ dir=true size=0", "full/ dir=true size=0", "full/a.txt dir=false size=8"}; !slices.Equal(got, want) {
			t.Fatalf("s3kit ls -r lists %s's markers as %q, want %q", c.Name, got, want)
		}
		top := e.lsRecords(t, e.url(p))
		got = got[:0]
		for u, r := range top {
			got = append(got, fmt.Sprintf("%s dir=%v", strings.TrimPrefix(u, e.url(p)), r.Dir))
		}
		slices.Sort(got)
		if want := []string{"empty/ dir=true", "full/ dir=true"}; !slices.Equal(got, want) {
			t.Errorf("s3kit ls lists %q, want %q", got, want)
		}

		t.Run("sync", func(t *testing.T) {
			dir := t.TempDir()
			recs, _ := e.syncRecords(t, e.url(p), dir)
			if len(recs) != 1 || recs[0].Operation != "copy" || recs[0].Destination != filepath.Join(dir, "full", "a.txt") {
				t.Errorf("s3kit sync of %s's markers did %+v, want one copy, of full/a.txt", c.Name, recs)
			}
			files, dirs := localTree(t, dir)
			if len(files) != 1 || string(files["full/a.txt"]) != "in full\n" {
				t.Errorf("s3kit sync made the files %q, want full/a.txt", slices.Sorted(maps.Keys(files)))
			}
			if slices.Sort(dirs); !slices.Equal(dirs, []string{"empty", "full"}) {
				t.Errorf("s3kit sync made the directories %q, want empty and full", dirs)
			}
			if recs, sum := e.syncRecords(t, e.url(p), dir); len(recs) != 0 || sum.OK != 0 {
				t.Errorf("a second s3kit sync did %+v, %+v; want nothing", recs, sum)
			}
		})

		t.Run("cp -r", func(t *testing.T) {
			dir := t.TempDir()
			r := e.ok(t, nil, "--json", "cp", "-r", e.url(p), dir)
			recs, _ := records(t, r.stdout)
			if len(recs) != 1 || recs[0].Destination != filepath.Join(dir, "full", "a.txt") {
				t.Errorf("s3kit cp -r of %s's markers did %+v, want one copy, of full/a.txt", c.Name, recs)
			}
			files, dirs := localTree(t, dir)
			if len(files) != 1 || string(files["full/a.txt"]) != "in full\n" {
				t.Errorf("s3kit cp -r made the files %q, want full/a.txt", slices.Sorted(maps.Keys(files)))
			}
			if slices.Sort(dirs); !slices.Equal(dirs, []string{"empty", "full"}) {
				t.Errorf("s3kit cp -r made the directories %q, want empty and full, as DownloadAll and sync do", dirs)
			}
		})
	})
}

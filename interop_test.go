package s3kit_test

// Interchange with other S3 clients: objects written by s3kit are read by
// the aws CLI, rclone and s5cmd, and the reverse, against every server.
// The clients are run by s3test.ForeignCLI, shared with the command's
// interchange tests (cmd/s3kit/interop_test.go); a test needing a missing
// one is skipped by name, saying how to install it, except under CI=true,
// where scripts/test.sh installs them first and a missing tool fails.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
	"github.com/s3kit/s3kit/internal/s3test"
)

// cli is a foreign client with the interchange tests' own ways of
// writing, reading and inspecting objects with it.
type cli struct{ *s3test.ForeignCLI }

func newCLI(t *testing.T, name string, srv *s3test.Server) *cli {
	t.Helper()
	return &cli{s3test.NewForeignCLI(t, name, srv)}
}

// attrs are the attributes of an object that the interchange tests carry
// from one client to another.
type attrs struct {
	ContentType        string
	CacheControl       string
	ContentDisposition string
	Metadata           map[string]string // names in lower case
	Tags               map[string]string
	StorageClass       string
}

// sample is what every writer sets. The metadata names are mixed case (S3
// keeps them in lower case) and its values printable ASCII, all s3kit
// writes; unicode values are in TestInterchangeUnicodeMetadata.
var sample = attrs{
	ContentType:        "text/csv; charset=utf-8",
	CacheControl:       "public, max-age=3600",
	ContentDisposition: `attachment; filename="report 2026.csv"`,
	Metadata:           map[string]string{"camera-model": "X100 V", "shot-at": "2026-12-02T10:00:00Z"},
	Tags:               map[string]string{"project": "s3kit", "tier": "gold"},
	StorageClass:       "STANDARD",
}

// sampleMixedCase is sample's metadata as a writer passes it.
var sampleMixedCase = map[string]string{"Camera-Model": "X100 V", "Shot-At": "2026-12-02T10:00:00Z"}

// put writes the file at path to bucket/key with the client, setting a.
// It reports false if the client cannot set tags.
func (c *cli) put(t *testing.T, bucket, key, path string, a attrs) (tagged bool) {
	t.Helper()
	var meta []string
	for k, v := range sampleMixedCase {
		meta = append(meta, k+"="+v)
	}
	var tags []string
	for k, v := range a.Tags {
		tags = append(tags, k+"="+v)
	}
	switch c.Name {
	case "aws":
		mj, _ := json.Marshal(sampleMixedCase)
		c.Run(t, "s3api", "put-object", "--bucket", bucket, "--key", key, "--body", path,
			"--content-type", a.ContentType, "--cache-control", a.CacheControl,
			"--content-disposition", a.ContentDisposition, "--metadata", string(mj),
			"--tagging", strings.Join(tags, "&"), "--storage-class", a.StorageClass)
		return true
	case "rclone":
		args := []string{"copyto", path, "s3:" + bucket + "/" + key, "--metadata",
			"--metadata-set", "content-type=" + a.ContentType,
			"--metadata-set", "cache-control=" + a.CacheControl,
			"--metadata-set", "content-disposition=" + a.ContentDisposition,
			"--s3-storage-class", a.StorageClass}
		for _, m := range meta {
			args = append(args, "--metadata-set", m)
		}
		c.Run(t, args...)
		return false // rclone has no flag for object tags
	case "s5cmd":
		args := []string{"cp", "--content-type", a.ContentType, "--cache-control", a.CacheControl,
			"--content-disposition", a.ContentDisposition, "--storage-class", a.StorageClass}
		for _, m := range meta {
			args = append(args, "--metadata", m)
		}
		c.Run(t, append(args, path, "s3://"+bucket+"/"+key)...)
		return false // s5cmd v2.3.0 cannot set tags
	}
	t.Fatalf("unknown client %s", c.Name)
	return false
}

// get returns the content of bucket/key as the client downloads it.
func (c *cli) get(t *testing.T, bucket, key string) []byte {
	t.Helper()
	switch c.Name {
	case "aws":
		out := filepath.Join(t.TempDir(), "out")
		c.Run(t, "s3", "cp", "s3://"+bucket+"/"+key, out)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return data
	case "rclone":
		return c.Run(t, "cat", "s3:"+bucket+"/"+key)
	case "s5cmd":
		return c.Run(t, "cat", "s3://"+bucket+"/"+key)
	}
	t.Fatalf("unknown client %s", c.Name)
	return nil
}

// seen is an object's attributes as a foreign client reports them.
type seen struct {
	attrs
	Size  int64
	ETag  string    // without quotes
	Mtime time.Time // rclone's modification time
}

// head returns the attributes of bucket/key as the client reports them.
// Fields a client does not report stay empty.
func (c *cli) head(t *testing.T, bucket, key string) seen {
	t.Helper()
	var s seen
	switch c.Name {
	case "aws":
		h := c.AWSHead(t, bucket, key)
		s.Size, s.ETag, s.ContentType, s.CacheControl, s.ContentDisposition, s.Metadata =
			h.ContentLength, strings.Trim(h.ETag, `"`), h.ContentType, h.CacheControl, h.ContentDisposition, h.Metadata
		s.StorageClass = cmp.Or(h.StorageClass, "STANDARD") // S3 omits the default
		s.Tags = c.AWSTags(t, bucket, key)
	case "rclone":
		o := c.RcloneStat(t, bucket, key)
		s.Size, s.ContentType, s.Mtime = o.Size, o.MimeType, o.ModTime
		s.Metadata = map[string]string{}
		for k, v := range o.Metadata {
			switch k {
			case "cache-control":
				s.CacheControl = v
			case "content-disposition":
				s.ContentDisposition = v
			case "tier":
				s.StorageClass = v
			case "content-type", "btime", "mtime", "content-encoding", "content-language":
			default:
				s.Metadata[k] = v
			}
		}
	case "s5cmd":
		o := c.S5cmdHead(t, bucket, key)
		s.Size, s.ETag, s.StorageClass = o.Size, strings.Trim(o.ETag, `"`), o.StorageClass
	}
	return s
}

var interchangeClients = []string{"aws", "rclone", "s5cmd"}

// eachClient runs fn for every foreign client on every server, the clients
// of one server in parallel in its bucket.
func eachClient(t *testing.T, fn func(t *testing.T, e *env, c *cli)) {
	eachServer(t, func(t *testing.T, e *env) {
		for _, name := range interchangeClients {
			t.Run(name, func(t *testing.T) {
				// The clients work under prefixes of their own, and wait
				// mostly on their own start-up (the aws CLI's is seconds).
				t.Parallel()
				fn(t, e, newCLI(t, name, e.srv))
			})
		}
	})
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInterchangeAttributes: what s3kit writes, the other clients read, and
// the reverse: content type, Cache-Control, Content-Disposition, user
// metadata (names given in mixed case), tags and storage class.
func TestInterchangeAttributes(t *testing.T) {
	eachClient(t, func(t *testing.T, e *env, c *cli) {
		ctx := t.Context()
		body := []byte("a,b\n1,2\n")

		t.Run("s3kit writes", func(t *testing.T) {
			_, err := e.bucket.PutBytes(ctx, "from-s3kit-for-"+c.Name+".csv", body, &s3kit.PutOptions{
				ContentType: sample.ContentType, CacheControl: sample.CacheControl,
				ContentDisposition: sample.ContentDisposition, Metadata: sampleMixedCase,
				Tags: sample.Tags, StorageClass: sample.StorageClass,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.get(t, e.bucket.Name(), "from-s3kit-for-"+c.Name+".csv"); !bytes.Equal(got, body) {
				t.Errorf("%s read %q, want %q", c.Name, got, body)
			}
			s := c.head(t, e.bucket.Name(), "from-s3kit-for-"+c.Name+".csv")
			checkSeen(t, c.Name, s, int64(len(body)))
		})

		t.Run(c.Name+" writes", func(t *testing.T) {
			tagged := c.put(t, e.bucket.Name(), "from-"+c.Name+".csv", writeTemp(t, body), sample)
			got, info, err := e.bucket.GetBytes(ctx, "from-"+c.Name+".csv")
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("s3kit read %q, %v; want %q", got, err, body)
			}
			info, err = e.bucket.Head(ctx, "from-"+c.Name+".csv", &s3kit.HeadOptions{WithTags: true})
			if err != nil {
				t.Fatal(err)
			}
			want := sample
			if !tagged {
				want.Tags = map[string]string{}
			}
			if c.Name == "rclone" {
				// With --metadata rclone also stores the source file's
				// own: times as x-amz-meta-mtime, -atime and -btime,
				// mode, uid and gid.
				for _, k := range []string{"atime", "btime", "mtime", "mode", "uid", "gid"} {
					if _, ok := info.Metadata[k]; !ok {
						t.Errorf("rclone --metadata stored no %s", k)
					}
					delete(info.Metadata, k)
				}
			}
			got2 := attrs{info.ContentType, info.CacheControl, info.ContentDisposition, info.Metadata, info.Tags, cmp.Or(info.StorageClass, "STANDARD")}
			if got2.Tags == nil {
				got2.Tags = map[string]string{}
			}
			if fmt.Sprint(got2) != fmt.Sprint(want) {
				t.Errorf("s3kit sees %+v\nwant         %+v", got2, want)
			}
		})
	})
}

// checkSeen compares what a foreign client reports of an object s3kit
// wrote with sample, field by field as far as the client reports them.
func checkSeen(t *testing.T, client string, s seen, size int64) {
	t.Helper()
	if s.Size != size {
		t.Errorf("%s: size %d, want %d", client, s.Size, size)
	}
	check := func(field, got, want string) {
		if got != want {
			t.Errorf("%s: %s %q, want %q", client, field, got, want)
		}
	}
	switch client {
	case "aws":
		check("content type", s.ContentType, sample.ContentType)
		check("Cache-Control", s.CacheControl, sample.CacheControl)
		check("Content-Disposition", s.ContentDisposition, sample.ContentDisposition)
		check("metadata", fmt.Sprint(s.Metadata), fmt.Sprint(sample.Metadata))
		check("tags", fmt.Sprint(s.Tags), fmt.Sprint(sample.Tags))
		check("storage class", s.StorageClass, sample.StorageClass)
	case "rclone":
		check("content type", s.ContentType, sample.ContentType)
		check("Cache-Control", s.CacheControl, sample.CacheControl)
		check("Content-Disposition", s.ContentDisposition, sample.ContentDisposition)
		check("metadata", fmt.Sprint(s.Metadata), fmt.Sprint(sample.Metadata))
	case "s5cmd":
		check("storage class", cmp.Or(s.StorageClass, "STANDARD"), sample.StorageClass)
	}
}

// TestInterchangeKeys: keys with spaces, unicode and '+' (which some
// clients once sent unescaped, as a space), and empty objects cross
// between the clients unchanged, both ways, by recursive copies.
func TestInterchangeKeys(t *testing.T) {
	keys := []string{"with space/a b.txt", "unicode/東京 é.txt", "plus/a+b c+d.txt", "empty/zero.bin"}
	body := func(key string) []byte {
		if strings.HasPrefix(key, "empty/") {
			return nil
		}
		return []byte("content of " + key)
	}
	eachClient(t, func(t *testing.T, e *env, c *cli) {
		ctx := t.Context()
		b := e.bucket.Name()
		src := t.TempDir()
		for _, key := range keys {
			if _, err := e.bucket.PutBytes(ctx, "s3kit-for-"+c.Name+"/"+key, body(key), nil); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(src, filepath.FromSlash(key))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, body(key), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		dst := t.TempDir()
		switch c.Name {
		case "aws":
			c.Run(t, "s3", "cp", "--recursive", "s3://"+b+"/s3kit-for-aws/", dst)
			c.Run(t, "s3", "cp", "--recursive", src, "s3://"+b+"/aws/")
		case "rclone":
			c.Run(t, "copy", "s3:"+b+"/s3kit-for-rclone", dst)
			c.Run(t, "copy", src, "s3:"+b+"/rclone")
		case "s5cmd":
			c.Run(t, "cp", "s3://"+b+"/s3kit-for-s5cmd/*", dst+"/")
			c.Run(t, "cp", src+"/*", "s3://"+b+"/s5cmd/")
		}
		for _, key := range keys {
			got, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(key)))
			if err != nil || !bytes.Equal(got, body(key)) {
				t.Errorf("%s downloaded s3kit-for-%[1]s/%[2]s as %[3]q, %[4]v; want %[5]q", c.Name, key, got, err, body(key))
			}
			foreign := c.Name + "/" + key
			got, info, err := e.bucket.GetBytes(ctx, foreign)
			if err != nil || !bytes.Equal(got, body(key)) || info.Size != int64(len(body(key))) {
				t.Errorf("s3kit read %q as %q (size %d), %v; want %q", foreign, got, info.Size, err, body(key))
			}
		}
		objs, err := e.bucket.ListAll(ctx, &s3kit.ListOptions{Prefix: c.Name + "/"})
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, o := range objs {
			listed = append(listed, strings.TrimPrefix(o.Key, c.Name+"/"))
		}
		if fmt.Sprint(listed) != fmt.Sprint(sortedCopy(keys)) {
			t.Errorf("s3kit lists %q under %s/, want %q", listed, c.Name, sortedCopy(keys))
		}
	})
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestInterchangeDirectoryMarkers: s3kit's FS marks a directory with a
// zero-byte "dir/" object (application/x-directory, as rclone's
// --s3-directory-markers does); the aws CLI has no directories, and its
// "dir/" object is a directory to s3kit too. s5cmd cannot make a "dir/"
// object (its cp to a key ending in "/" puts the file under that prefix,
// here sub/src; its pipe refuses one), so what it makes is a directory by
// a key beneath it.
func TestInterchangeDirectoryMarkers(t *testing.T) {
	eachClient(t, func(t *testing.T, e *env, c *cli) {
		fsys := e.bucket.FS(t.Context())
		if err := fsys.MkdirAll("made-by-s3kit-for-"+c.Name+"/sub", 0o755); err != nil {
			t.Fatal(err)
		}
		b := e.bucket.Name()
		switch c.Name {
		case "rclone":
			var dirs []struct {
				Path  string
				IsDir bool
			}
			if err := json.Unmarshal(c.Run(t, "lsjson", "-R", "s3:"+b+"/made-by-s3kit-for-rclone"), &dirs); err != nil {
				t.Fatal(err)
			}
			if len(dirs) != 1 || dirs[0].Path != "sub" || !dirs[0].IsDir {
				t.Errorf("rclone lists %+v under made-by-s3kit, want the directory sub", dirs)
			}
			c.Run(t, "mkdir", "--s3-directory-markers", "s3:"+b+"/made-by-rclone/sub")
		case "aws":
			c.Run(t, "s3api", "put-object", "--bucket", b, "--key", "made-by-aws/sub/")
			out := c.Run(t, "s3", "ls", "s3://"+b+"/made-by-s3kit-for-aws/")
			if !strings.Contains(string(out), "PRE sub/") {
				t.Errorf("aws s3 ls made-by-s3kit/: %s, want PRE sub/", out)
			}
		case "s5cmd":
			c.Run(t, "cp", writeTemp(t, nil), "s3://"+b+"/made-by-s5cmd/sub/")
			out := c.Run(t, "ls", "s3://"+b+"/made-by-s3kit-for-s5cmd/")
			if !strings.Contains(string(out), "DIR  sub/") {
				t.Errorf("s5cmd ls made-by-s3kit/: %s, want DIR sub/", out)
			}
		}
		st, err := fs.Stat(fsys, "made-by-"+c.Name+"/sub")
		if err != nil || !st.IsDir() {
			t.Errorf("s3kit Stat of %s's directory: %v, %v; want a directory", c.Name, st, err)
		}
	})
}

// TestInterchangeMultipart: a multipart object written by either side is
// read whole by the other, which agrees on its ETag; and the checksums:
// the aws CLI's composite CRC32 of a multipart upload and s3kit's
// full-object CRC64NVME are the checksums of the bytes.
func TestInterchangeMultipart(t *testing.T) {
	const size = 12<<20 + 1 // three parts of 5 MiB (the aws CLI's) or two of 8 MiB (s3kit's)
	eachClient(t, func(t *testing.T, e *env, c *cli) {
		ctx := t.Context()
		data := randomBytes(size)
		b := e.bucket.Name()

		w, err := e.bucket.NewWriter(ctx, "s3kit-for-"+c.Name+".bin", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		info, err := e.bucket.Head(ctx, "s3kit-for-"+c.Name+".bin", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(strings.Trim(info.ETag, `"`), "-2") {
			t.Errorf("s3kit's object has ETag %s, want a two-part multipart ETag", info.ETag)
		}
		if got := c.get(t, b, "s3kit-for-"+c.Name+".bin"); !bytes.Equal(got, data) {
			t.Errorf("%s read s3kit's multipart object wrong (%d bytes)", c.Name, len(got))
		}
		if s := c.head(t, b, "s3kit-for-"+c.Name+".bin"); s.ETag != "" && s.ETag != strings.Trim(info.ETag, `"`) {
			t.Errorf("%s sees ETag %s, s3kit %s", c.Name, s.ETag, info.ETag)
		}
		if want := crc64Of(data); info.Checksums["CRC64NVME"] != "" && info.Checksums["CRC64NVME"] != want {
			t.Errorf("store reports CRC64NVME %s, the bytes have %s", info.Checksums["CRC64NVME"], want)
		}

		path := writeTemp(t, data)
		switch c.Name {
		case "aws":
			// Parts of 5 MiB, each with its CRC32: a composite checksum.
			c.Run(t, "s3", "cp", "--checksum-algorithm", "CRC32", path, "s3://"+b+"/aws.bin")
		case "rclone":
			c.Run(t, "copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", path, "s3:"+b+"/rclone.bin")
		case "s5cmd":
			c.Run(t, "cp", "--part-size", "5", path, "s3://"+b+"/s5cmd.bin")
		}
		key := c.Name + ".bin"
		r, err := e.bucket.NewReader(ctx, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var got bytes.Buffer
		if _, err := got.ReadFrom(r); err != nil {
			t.Fatalf("s3kit reading %s's multipart object: %v", c.Name, err)
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Errorf("s3kit read %s's multipart object wrong", c.Name)
		}
		fi := r.Info()
		if !strings.HasSuffix(strings.Trim(fi.ETag, `"`), "-3") {
			t.Errorf("%s's object has ETag %s, want a three-part multipart ETag", c.Name, fi.ETag)
		}
		if s := c.head(t, b, key); s.ETag != "" && s.ETag != strings.Trim(fi.ETag, `"`) {
			t.Errorf("%s sees ETag %s, s3kit %s", c.Name, s.ETag, fi.ETag)
		}
		if c.Name == "aws" {
			h, err := e.bucket.Head(ctx, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := compositeCRC32(data, 5<<20)
			if got := h.Checksums["CRC32"]; got != want {
				t.Errorf("composite CRC32 of the aws CLI's upload: store reports %q (type %q), the bytes give %q", got, h.ChecksumType, want)
			}
		}
	})
}

// compositeCRC32 is S3's composite CRC32 of data uploaded in parts of
// partSize: the CRC32 of the parts' CRC32s, then "-" and the part count.
func compositeCRC32(data []byte, partSize int) string {
	var sums []byte
	n := 0
	for off := 0; off < len(data); off += partSize {
		sums = binary.BigEndian.AppendUint32(sums, crc32.ChecksumIEEE(data[off:min(off+partSize, len(data))]))
		n++
	}
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], crc32.ChecksumIEEE(sums))
	return fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(out[:]), n)
}

// TestInterchangeModTime records how the modification time crosses:
// rclone stores a file's mtime as X-Amz-Meta-Mtime (seconds since the
// epoch, fractional); s3kit exposes it as ObjectInfo.Metadata["mtime"],
// writes it the same way on Upload, and sets a downloaded file's time
// from it. An object written without a file (Put) has none, and rclone
// falls back to LastModified.
func TestInterchangeModTime(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		c := newCLI(t, "rclone", e.srv)
		ctx := t.Context()
		path := writeTemp(t, []byte("old file"))
		mtime := time.Date(2020, 2, 29, 12, 34, 56, 789000000, time.UTC)
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		c.Run(t, "copyto", path, "s3:"+e.bucket.Name()+"/rclone.txt")
		info, err := e.bucket.Head(ctx, "rclone.txt", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := info.Metadata["mtime"], "1582979696.789"; got != want {
			t.Errorf("rclone's X-Amz-Meta-Mtime as s3kit sees it: %q, want %q", got, want)
		}

		before := time.Now().Add(-time.Minute)
		if _, err := e.bucket.PutString(ctx, "s3kit.txt", "new", nil); err != nil {
			t.Fatal(err)
		}
		s := c.head(t, e.bucket.Name(), "s3kit.txt")
		if s.Mtime.Before(before) {
			t.Errorf("rclone's mtime of an object s3kit wrote: %v, want its LastModified (now)", s.Mtime)
		}

		// A file's time crosses both ways: s3kit's Upload to rclone, and
		// rclone's object to s3kit's Download.
		up := writeTemp(t, []byte("uploaded by s3kit"))
		if err := os.Chtimes(up, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if _, err := e.bucket.Upload(ctx, up, "s3kit-upload.txt", nil); err != nil {
			t.Fatal(err)
		}
		s = c.head(t, e.bucket.Name(), "s3kit-upload.txt")
		if !s.Mtime.Equal(mtime) {
			t.Errorf("rclone's mtime of a file s3kit uploaded: %v, want %v", s.Mtime, mtime)
		}
		down := filepath.Join(t.TempDir(), "from-rclone.txt")
		if _, err := e.bucket.Download(ctx, "rclone.txt", down, nil); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(down); err != nil {
			t.Error(err)
		} else if !fi.ModTime().Equal(mtime) {
			t.Errorf("time of a file s3kit downloaded from rclone's object: %v, want %v", fi.ModTime(), mtime)
		}
	})
}

// TestInterchangeUnicodeMetadata: a metadata value that is not US-ASCII.
// s3kit sends it as RFC 2047 encoded words (as S3 documents) and reads it
// back decoded, from every server and through every read (Head, GetBytes,
// Download, a Reader). rclone and s5cmd send raw UTF-8, which versitygw
// and SeaweedFS return as sent and MinIO encoded; s3kit reads the value
// they wrote either way. The aws CLI refuses to send one. What the
// foreign clients show of s3kit's value is logged.
func TestInterchangeUnicodeMetadata(t *testing.T) {
	const value = "東京 é =?x?= ü"
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		if _, err := e.bucket.PutString(ctx, "s3kit.txt", "x", &s3kit.PutOptions{Metadata: map[string]string{"City": value}}); err != nil {
			t.Fatal(err)
		}
		// stored returns the value as the store returns it.
		stored := func(key string) string {
			t.Helper()
			raw, err := sdkClient(e).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(e.bucket.Name()), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			return raw.Metadata["city"]
		}
		t.Logf("s3kit sent %q; the store returns %q", value, stored("s3kit.txt"))
		reads := func(key string) {
			t.Helper()
			h, err := e.bucket.Head(ctx, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, g, err := e.bucket.GetBytes(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			d, err := e.bucket.Download(ctx, key, filepath.Join(t.TempDir(), "f"), nil)
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.bucket.NewReader(ctx, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			for how, info := range map[string]s3kit.ObjectInfo{"Head": h, "GetBytes": g, "Download": d, "NewReader": r.Info()} {
				if got := info.Metadata["city"]; got != value {
					t.Errorf("%s of %s: metadata city %q, want %q", how, key, got, value)
				}
			}
		}
		reads("s3kit.txt")
		for _, name := range interchangeClients {
			c := newCLI(t, name, e.srv)
			t.Logf("%s shows s3kit's value as %q", name, c.head(t, e.bucket.Name(), "s3kit.txt").Metadata["city"])
			path := writeTemp(t, []byte("x"))
			var err error
			switch name {
			case "aws":
				mj, _ := json.Marshal(map[string]string{"City": value})
				_, err = c.Try(t, "s3api", "put-object", "--bucket", e.bucket.Name(), "--key", "aws.txt", "--body", path, "--metadata", string(mj))
				if err == nil {
					t.Errorf("the aws CLI sent a unicode metadata value; it used to refuse")
				}
				continue
			case "rclone":
				_, err = c.Try(t, "copyto", "--metadata", "--metadata-set", "City="+value, path, "s3:"+e.bucket.Name()+"/rclone.txt")
			case "s5cmd":
				_, err = c.Try(t, "cp", "--metadata", "City="+value, path, "s3://"+e.bucket.Name()+"/s5cmd.txt")
			}
			if err != nil {
				t.Fatalf("%s: writing a unicode metadata value: %v", name, err)
			}
			t.Logf("%s sent %q; the store returns %q", name, value, stored(name+".txt"))
			reads(name + ".txt")
		}
	})
}

// TestInterchangeChecksums: s3kit's multipart upload (two parts, a
// full-object CRC64NVME) is read by the aws CLI with its checksum
// validation on (s3api get-object: one GET; `s3 cp` fetches a large object
// in ranges, which carry no checksum), and a byte flipped on the way must
// fail the aws CLI's download where it can compute the checksum. The
// other direction, the aws CLI's composite CRC32 verified by s3kit's
// downloads, is TestCompositeChecksum.
func TestInterchangeChecksums(t *testing.T) {
	const size = 12<<20 + 1
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		data := randomBytes(size)
		w, err := e.bucket.NewWriter(ctx, "s3kit.bin", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if info := w.Info(); info.Checksums["CRC64NVME"] != crc64Of(data) || !strings.HasSuffix(strings.Trim(info.ETag, `"`), "-2") {
			t.Fatalf("s3kit's upload: ETag %s, checksums %v; want two parts and the bytes' CRC64NVME %s", info.ETag, info.Checksums, crc64Of(data))
		}
		p := faultproxy.New(e.srv.Endpoint)
		defer p.Close()
		c := newCLI(t, "aws", e.srv) // get goes through p
		out := filepath.Join(t.TempDir(), "out")
		// get downloads key with the aws CLI and returns its debug log.
		get := func(key string) (string, error) {
			ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, c.Path, "--debug", "--endpoint-url", p.URL, "s3api", "get-object",
				"--checksum-mode", "ENABLED", "--bucket", e.bucket.Name(), "--key", key, out)
			cmd.Env = c.Env()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			return stderr.String(), err
		}
		// verifies reports whether the aws CLI's download of key fails on
		// a flipped byte, after a clean download of it read want.
		verifies := func(t *testing.T, key string, want []byte) (bool, string) {
			t.Helper()
			p.Reset()
			log, err := get(key)
			if err != nil {
				t.Fatalf("aws s3api get-object %s: %v: %s", key, err, lastLine(log))
			}
			if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
				t.Fatalf("the aws CLI read %s wrong (%d bytes)", key, len(got))
			}
			p.Add(faultproxy.Rule{Method: http.MethodGet, Times: 1, Fault: faultproxy.FlipByte(int64(len(want) / 2))})
			flipped, err := get(key)
			if err != nil && !strings.Contains(flipped, "Expected checksum") {
				t.Errorf("the aws CLI refused the flipped byte of %s, but not for its checksum: %s", key, lastLine(flipped))
			}
			return err != nil, log
		}
		// The harness itself: an object the aws CLI wrote with a CRC32 in
		// one PUT, which it can check.
		small := randomBytes(1 << 20)
		c.Run(t, "s3api", "put-object", "--checksum-algorithm", "CRC32", "--bucket", e.bucket.Name(), "--key", "aws.bin", "--body", writeTemp(t, small))
		if ok, _ := verifies(t, "aws.bin", small); !ok {
			t.Fatal("the aws CLI downloaded a flipped byte of its own CRC32 object without an error")
		}
		// s3kit's uploads with Config.Checksum CRC32, which this aws CLI
		// checks whatever its botocore: one PUT, and a multipart upload
		// whose parts' CRC32s s3kit combines into the FULL_OBJECT CRC32.
		t.Run("CRC32", func(t *testing.T) {
			b32 := newClient(t, e.srv, s3kit.Config{Checksum: s3kit.ChecksumCRC32}).Bucket(e.bucket.Name())
			for _, o := range []struct {
				key   string
				data  []byte
				parts string // the ETag's suffix
			}{{"s3kit-crc32-put.bin", small, ""}, {"s3kit-crc32-multipart.bin", data, "-2"}} {
				if _, err := b32.Put(ctx, o.key, bytes.NewReader(o.data), nil); err != nil {
					t.Fatal(err)
				}
				// What the store keeps: a multipart object's CRC32 must be
				// FULL_OBJECT, as botocore skips a composite one.
				info, err := e.bucket.Head(ctx, o.key, nil)
				if err != nil {
					t.Fatal(err)
				}
				etag := strings.Trim(info.ETag, `"`)
				if info.Checksums["CRC32"] != crc32Of(o.data) || strings.Contains(etag, "-") != (o.parts != "") || !strings.HasSuffix(etag, o.parts) ||
					(o.parts != "" && info.ChecksumType != "FULL_OBJECT") {
					t.Fatalf("s3kit's CRC32 upload %s: ETag %s, checksums %v %s; want ETag suffix %q and the bytes' CRC32 %s, FULL_OBJECT if multipart", o.key, info.ETag, info.Checksums, info.ChecksumType, o.parts, crc32Of(o.data))
				}
				ok, log := verifies(t, o.key, o.data)
				if !ok {
					t.Errorf("the aws CLI downloaded a flipped byte of s3kit's CRC32 object %s without an error", o.key)
				}
				if strings.Contains(log, "Skipping checksum validation") {
					t.Errorf("the aws CLI did not check the CRC32 of s3kit's object %s: %s", o.key, lastLine(log))
				}
			}
		})
		if ok, log := verifies(t, "s3kit.bin", data); !ok {
			if strings.Contains(log, "Skipping checksum validation") {
				// Botocore without awscrt computes CRC32 and the SHAs only.
				t.Skipf("this aws CLI cannot check CRC64NVME (botocore without awscrt): it downloaded a flipped byte of s3kit's object unverified")
			}
			t.Errorf("the aws CLI downloaded a flipped byte of s3kit's object without an error")
		}
	})
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

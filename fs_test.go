package s3kit_test

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// fsTree is the tree the FS tests view: nested implicit directories,
// explicit markers, an empty directory, unicode and space names, an empty
// file and one of several parts.
var fsTree = map[string]string{
	"a.txt":                  "hello, world\n",
	"dir/b.txt":              "bee",
	"dir/sub/c.txt":          "sea",
	"dir/sub/deeper/d.txt":   "dee",
	"explicit/":              "",
	"explicit/e.txt":         "eee",
	"empty/":                 "",
	"unicode/ünïcödé ✓.txt":  "unicode",
	"with space/file 1.txt":  "spaced",
	"zero.bin":               "",
	"dir/sub-sibling.txt":    "sorts between dir/sub and dir/sub/",
	"explicit/inner/":        "",
	"explicit/inner/f.json":  `{"f":1}`,
	"tmpl/page.tmpl":         `{{define "page"}}<p>{{.}}</p>{{end}}`,
	"tmpl/layout.tmpl":       `{{define "layout"}}[{{template "page" .}}]{{end}}`,
	"dir/sub/deeper/e.large": "",
}

// fsFiles are the files (not directories) of fsTree, as fstest expects them.
func fsFiles(tree map[string]string) []string {
	var files []string
	for k := range tree {
		if !strings.HasSuffix(k, "/") {
			files = append(files, k)
		}
	}
	slices.Sort(files)
	return files
}

func putFSTree(t *testing.T, b *s3kit.Bucket) {
	t.Helper()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for k, v := range fsTree {
		data := []byte(v)
		if k == "dir/sub/deeper/e.large" {
			data = big
		}
		if _, err := b.PutBytes(t.Context(), k, data, nil); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
}

func TestFSConformance(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		putFSTree(t, e.bucket)
		fsys := e.bucket.FS(t.Context())
		if err := fstest.TestFS(fsys, fsFiles(fsTree)...); err != nil {
			t.Fatal(err)
		}
		t.Run("sub", func(t *testing.T) {
			sub, err := fs.Sub(fsys, "dir")
			if err != nil {
				t.Fatal(err)
			}
			if err := fstest.TestFS(sub, "b.txt", "sub/c.txt", "sub/deeper/d.txt", "sub-sibling.txt"); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("prefix handle", func(t *testing.T) {
			p := e.bucket.Prefix("scoped")
			for k, v := range map[string]string{"x.txt": "x", "y/z.txt": "z", "y/w/": ""} {
				if _, err := p.PutString(t.Context(), k, v, nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := fstest.TestFS(p.FS(t.Context()), "x.txt", "y/z.txt"); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func TestFSRead(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		putFSTree(t, e.bucket)
		fsys := e.bucket.FS(t.Context())

		t.Run("directories listed once", func(t *testing.T) {
			entries, err := fs.ReadDir(fsys, ".")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range entries {
				name := d.Name()
				if d.IsDir() {
					name += "/"
				}
				got = append(got, name)
			}
			want := []string{"a.txt", "dir/", "empty/", "explicit/", "tmpl/", "unicode/", "with space/", "zero.bin"}
			if !slices.Equal(got, want) {
				t.Fatalf("ReadDir(.) = %q, want %q", got, want)
			}
			entries, err = fs.ReadDir(fsys, "empty")
			if err != nil || len(entries) != 0 {
				t.Fatalf("ReadDir(empty) = %v, %v; want no entries", entries, err)
			}
			entries, err = fs.ReadDir(fsys, "explicit")
			if err != nil || len(entries) != 2 || entries[0].Name() != "e.txt" || !entries[1].IsDir() || entries[1].Name() != "inner" {
				t.Fatalf("ReadDir(explicit) = %v, %v", entries, err)
			}
		})

		t.Run("file info", func(t *testing.T) {
			fi, err := fs.Stat(fsys, "dir/b.txt")
			if err != nil {
				t.Fatal(err)
			}
			obj, ok := fi.Sys().(s3kit.ObjectInfo)
			if fi.Name() != "b.txt" || fi.Size() != 3 || fi.IsDir() || fi.Mode() != 0o644 || !ok || obj.ETag == "" {
				t.Fatalf("Stat(dir/b.txt) = %v (Sys %#v)", fi, fi.Sys())
			}
			if age := time.Since(fi.ModTime()); age < -time.Minute || age > 10*time.Minute {
				t.Fatalf("ModTime %v is not the object's LastModified", fi.ModTime())
			}
			for _, dir := range []string{".", "dir", "dir/sub", "explicit", "empty"} {
				fi, err := fs.Stat(fsys, dir)
				if err != nil || !fi.IsDir() || fi.Mode() != fs.ModeDir|0o755 {
					t.Fatalf("Stat(%s) = %v, %v; want a directory", dir, fi, err)
				}
			}
		})

		t.Run("errors", func(t *testing.T) {
			for _, name := range []string{"missing.txt", "dir/missing", "dir/b.txt/x", "nodir/x"} {
				_, err := fsys.Open(name)
				var pe *fs.PathError
				if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != name {
					t.Errorf("Open(%q) = %v; want a *fs.PathError wrapping fs.ErrNotExist", name, err)
				}
			}
			for _, name := range []string{"/a.txt", "a.txt/", "./a.txt", "dir/../a.txt", "", "dir//b.txt", "dir/./b.txt"} {
				for op, call := range map[string]func() error{
					"Open":     func() error { _, err := fsys.Open(name); return err },
					"Stat":     func() error { _, err := fsys.Stat(name); return err },
					"ReadFile": func() error { _, err := fsys.ReadFile(name); return err },
					"ReadDir":  func() error { _, err := fsys.ReadDir(name); return err },
					"Sub":      func() error { _, err := fsys.Sub(name); return err },
				} {
					err := call()
					var pe *fs.PathError
					if !errors.Is(err, fs.ErrInvalid) || !errors.As(err, &pe) {
						t.Errorf("%s(%q) = %v; want a *fs.PathError wrapping fs.ErrInvalid", op, name, err)
					}
				}
			}
			if _, err := fsys.ReadFile("dir"); err == nil || errors.Is(err, fs.ErrNotExist) {
				t.Errorf("ReadFile(dir) = %v; want an is-a-directory error", err)
			}
			if _, err := fsys.ReadDir("a.txt"); err == nil || errors.Is(err, fs.ErrNotExist) {
				t.Errorf("ReadDir(a.txt) = %v; want a not-a-directory error", err)
			}
			gone := e.client.Bucket("no-such-bucket-for-fs").FS(t.Context())
			if _, err := gone.Stat("."); !errors.Is(err, s3kit.ErrBucketNotExist) {
				t.Errorf("Stat(.) of a missing bucket = %v; want ErrBucketNotExist", err)
			}
			if _, err := gone.Open("a.txt"); !errors.Is(err, s3kit.ErrBucketNotExist) {
				t.Errorf("Open of a missing bucket = %v; want ErrBucketNotExist", err)
			}
		})

		t.Run("requests", func(t *testing.T) {
			c, proxy := proxied(t, e, s3kit.Config{})
			pfs := c.Bucket(e.bucket.Name()).FS(t.Context())
			for name, want := range map[string]int{"a.txt": 1, "dir": 2, "missing": 2} {
				proxy.Reset()
				if f, err := pfs.Open(name); err == nil {
					f.Close()
				}
				if got := methods(proxy, e.bucket.Name()); len(got) != want {
					t.Errorf("Open(%s) sent %q; want %d requests", name, got, want)
				}
			}
			proxy.Reset()
			if _, err := pfs.ReadFile("dir/b.txt"); err != nil {
				t.Fatal(err)
			}
			if got := methods(proxy, e.bucket.Name()); len(got) != 1 || !strings.HasPrefix(got[0], "GET ") {
				t.Errorf("ReadFile sent %q; want one GET", got)
			}
			proxy.Reset()
			if _, err := pfs.ReadDir("dir"); err != nil {
				t.Fatal(err)
			}
			if got := methods(proxy, e.bucket.Name()); len(got) != 1 {
				t.Errorf("ReadDir sent %q; want one listing", got)
			}
		})

		t.Run("seek and ReadAt", func(t *testing.T) {
			f, err := fsys.Open("dir/sub/deeper/e.large")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rs := f.(io.ReadSeeker)
			if _, err := rs.Seek(1<<20-5, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			tail, err := io.ReadAll(rs)
			if err != nil || string(tail) != "bcdef" {
				t.Fatalf("tail = %q, %v", tail, err)
			}
			p := make([]byte, 4)
			if _, err := f.(io.ReaderAt).ReadAt(p, 17); err != nil || string(p) != "1234" {
				t.Fatalf("ReadAt = %q, %v", p, err)
			}
		})

		t.Run("walk", func(t *testing.T) {
			var walked []string
			err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() {
					walked = append(walked, p)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(walked)
			if want := fsFiles(fsTree); !slices.Equal(walked, want) {
				t.Fatalf("WalkDir found %q, want %q", walked, want)
			}
		})

		t.Run("glob", func(t *testing.T) {
			for pattern, want := range map[string][]string{
				"*.txt":          {"a.txt"},
				"dir/*":          {"dir/b.txt", "dir/sub", "dir/sub-sibling.txt"},
				"dir/sub*":       {"dir/sub", "dir/sub-sibling.txt"},
				"*/*.txt":        {"dir/b.txt", "dir/sub-sibling.txt", "explicit/e.txt", "unicode/ünïcödé ✓.txt", "with space/file 1.txt"},
				"*/sub/*/?.txt":  {"dir/sub/deeper/d.txt"},
				"e*":             {"empty", "explicit"},
				"[a-d]*":         {"a.txt", "dir"},
				"nothing*":       nil,
				"explicit/inner": {"explicit/inner"},
			} {
				got, err := fsys.Glob(pattern)
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("Glob(%q) = %q, %v; want %q", pattern, got, err, want)
				}
			}
			if _, err := fsys.Glob("[x"); !errors.Is(err, path.ErrBadPattern) {
				t.Errorf("Glob([x) = %v; want path.ErrBadPattern", err)
			}
		})

		t.Run("template.ParseFS", func(t *testing.T) {
			tm, err := template.ParseFS(fsys, "tmpl/*.tmpl")
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			if err := tm.ExecuteTemplate(&out, "layout", "hi"); err != nil || out.String() != "[<p>hi</p>]" {
				t.Fatalf("template = %q, %v", out.String(), err)
			}
		})
	})
}

func TestFSFileServer(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		putFSTree(t, e.bucket)
		fsys := e.bucket.FS(t.Context())
		srv := httptest.NewServer(http.FileServerFS(fsys))
		defer srv.Close()
		get := func(path string, hdr map[string]string) *http.Response {
			t.Helper()
			req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resp.Body.Close() })
			return resp
		}
		body := func(resp *http.Response) string {
			t.Helper()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}

		resp := get("/a.txt", nil)
		lastMod := resp.Header.Get("Last-Modified")
		if resp.StatusCode != 200 || body(resp) != fsTree["a.txt"] || lastMod == "" {
			t.Fatalf("GET /a.txt: %s, Last-Modified %q", resp.Status, lastMod)
		}

		resp = get("/dir/", nil)
		listing := body(resp)
		for _, want := range []string{`href="b.txt"`, `href="sub/"`, `href="sub-sibling.txt"`} {
			if resp.StatusCode != 200 || !strings.Contains(listing, want) {
				t.Fatalf("GET /dir/: %s, listing lacks %s:\n%s", resp.Status, want, listing)
			}
		}

		resp = get("/dir/sub/deeper/e.large", map[string]string{"Range": "bytes=16-31"})
		if got := body(resp); resp.StatusCode != http.StatusPartialContent || got != "0123456789abcdef" ||
			resp.Header.Get("Content-Range") != "bytes 16-31/1048576" {
			t.Fatalf("Range GET: %s %q Content-Range %q", resp.Status, got, resp.Header.Get("Content-Range"))
		}
		resp = get("/dir/sub/deeper/e.large", map[string]string{"Range": "bytes=1048570-"})
		if got := body(resp); resp.StatusCode != http.StatusPartialContent || got != "abcdef" {
			t.Fatalf("suffix Range GET: %s %q", resp.Status, got)
		}

		resp = get("/a.txt", map[string]string{"If-Modified-Since": lastMod})
		if resp.StatusCode != http.StatusNotModified {
			t.Fatalf("If-Modified-Since: %s, want 304", resp.Status)
		}
		old := time.Now().Add(-24 * time.Hour).UTC().Format(http.TimeFormat)
		if resp = get("/a.txt", map[string]string{"If-Modified-Since": old}); resp.StatusCode != 200 {
			t.Fatalf("If-Modified-Since a day ago: %s, want 200", resp.Status)
		}
		if resp = get("/missing.txt", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET /missing.txt: %s, want 404", resp.Status)
		}

		// If-None-Match needs the ETag, which the documented handler sets
		// from the file's ObjectInfo.
		etagSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			name := strings.TrimPrefix(r.URL.Path, "/")
			f, err := fsys.Open(name)
			if err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("ETag", fi.Sys().(s3kit.ObjectInfo).ETag)
			http.ServeContent(w, r, fi.Name(), fi.ModTime(), f.(io.ReadSeeker))
		}))
		defer etagSrv.Close()
		srv.URL = etagSrv.URL
		resp = get("/a.txt", nil)
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || etag == "" || body(resp) != fsTree["a.txt"] {
			t.Fatalf("GET with ETag: %s, ETag %q", resp.Status, etag)
		}
		if resp = get("/a.txt", map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
			t.Fatalf("If-None-Match %s: %s, want 304", etag, resp.Status)
		}
		if resp = get("/a.txt", map[string]string{"If-None-Match": `"other"`}); resp.StatusCode != 200 {
			t.Fatalf("If-None-Match other: %s, want 200", resp.Status)
		}
	})
}

func mustWrite(t *testing.T, f *s3kit.File, s string) {
	t.Helper()
	if n, err := f.Write([]byte(s)); err != nil || n != len(s) {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

// methods lists the requests the proxy saw as "METHOD path?query", the
// bucket name dropped.
func methods(p *faultproxy.Proxy, bucket string) []string {
	var out []string
	for _, r := range p.Requests() {
		line := r.Method + " " + strings.TrimPrefix(r.Path, "/"+bucket)
		if r.RawQuery != "" {
			line += "?" + r.RawQuery
		}
		out = append(out, line)
	}
	return out
}

// contentGETs counts the GET requests for objects' content (not their
// tags or other sub-resources).
func contentGETs(p *faultproxy.Proxy) int {
	n := 0
	for _, r := range p.Requests() {
		if r.Method == http.MethodGet && !strings.Contains(r.RawQuery, "tagging") {
			n++
		}
	}
	return n
}

func TestFSWriteFiles(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c, proxy := proxied(t, e, s3kit.Config{PartSize: s3kit.MinPartSize})
		b := c.Bucket(e.bucket.Name())
		fsys := b.FS(ctx)

		t.Run("create streams and appears on close", func(t *testing.T) {
			f, err := fsys.Create("new/streamed.txt")
			if err != nil {
				t.Fatal(err)
			}
			mustWrite(t, f, "line one\n")
			if ok, _ := b.Exists(ctx, "new/streamed.txt"); ok {
				t.Fatal("object visible before Close")
			}
			if _, err := f.Read(make([]byte, 1)); err == nil {
				t.Fatal("Read of a write-only file succeeded")
			}
			if _, err := f.Seek(0, io.SeekStart); !errors.Is(err, errors.ErrUnsupported) {
				t.Fatalf("Seek back on a streamed file = %v; want errors.ErrUnsupported", err)
			}
			if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != 9 {
				t.Fatalf("Seek(0, SeekCurrent) = %d, %v; want 9", pos, err)
			}
			if err := f.Sync(); !errors.Is(err, errors.ErrUnsupported) {
				t.Fatalf("Sync of a streamed file = %v; want errors.ErrUnsupported", err)
			}
			mustWrite(t, f, "line two\n")
			if fi, err := f.Stat(); err != nil || fi.Size() != 18 {
				t.Fatalf("Stat while writing = %v, %v; want size 18", fi, err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
				t.Fatalf("second Close = %v; want fs.ErrClosed", err)
			}
			info, err := b.Head(ctx, "new/streamed.txt", nil)
			if err != nil || info.Size != 18 || !strings.HasPrefix(info.ContentType, "text/plain") {
				t.Fatalf("after Close: %+v, %v", info, err)
			}
		})

		t.Run("create of several parts from a reader", func(t *testing.T) {
			data := randomBytes(2*s3kit.MinPartSize + 12345)
			f, err := fsys.Create("big.bin")
			if err != nil {
				t.Fatal(err)
			}
			if n, err := io.Copy(f, bytes.NewReader(data)); err != nil || n != int64(len(data)) {
				t.Fatalf("io.Copy = %d, %v", n, err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := fsys.ReadFile("big.bin")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("ReadFile after multipart Create: %d bytes, %v", len(got), err)
			}
		})

		t.Run("read-write keeps headers and tags, fetches lazily", func(t *testing.T) {
			_, err := b.PutString(ctx, "edit.txt", "0123456789", &s3kit.PutOptions{
				ContentType: "text/x-custom", CacheControl: "max-age=60",
				Metadata: map[string]string{"owner": "ann"}, Tags: map[string]string{"team": "blue"},
			})
			if err != nil {
				t.Fatal(err)
			}
			proxy.Reset()
			f, err := fsys.OpenFile("edit.txt", os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if got := methods(proxy, b.Name()); len(got) != 1 || !strings.HasPrefix(got[0], "HEAD ") {
				t.Fatalf("open and close without I/O sent %q; want one HEAD", got)
			}

			f, err = fsys.OpenFile("edit.txt", os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(4, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, f, "AB")
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if got, err := io.ReadAll(f); err != nil || string(got) != "0123AB6789" {
				t.Fatalf("read back before Close = %q, %v", got, err)
			}
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte("Z"), 12); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			info, err := b.Head(ctx, "edit.txt", &s3kit.HeadOptions{WithTags: true})
			if err != nil {
				t.Fatal(err)
			}
			if got, _, _ := b.GetString(ctx, "edit.txt"); got != "0123AB6789\x00\x00Z" {
				t.Fatalf("content = %q", got)
			}
			if info.ContentType != "text/x-custom" || info.CacheControl != "max-age=60" || info.Metadata["owner"] != "ann" || info.Tags["team"] != "blue" {
				t.Fatalf("rewrite lost headers, metadata or tags: %+v", info)
			}
		})

		t.Run("truncate to zero fetches nothing", func(t *testing.T) {
			if _, err := b.PutString(ctx, "trunc.txt", strings.Repeat("x", 1000), &s3kit.PutOptions{ContentType: "text/x-kept"}); err != nil {
				t.Fatal(err)
			}
			proxy.Reset()
			f, err := fsys.OpenFile("trunc.txt", os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Truncate(0); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, f, "short")
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if n := contentGETs(proxy); n != 0 {
				t.Fatalf("%d GETs for a file truncated before any read: %q", n, methods(proxy, b.Name()))
			}
			if got, _, _ := b.GetString(ctx, "trunc.txt"); got != "short" {
				t.Fatalf("content = %q", got)
			}
			if info, _ := b.Head(ctx, "trunc.txt", nil); info.ContentType != "text/x-kept" {
				t.Fatalf("Truncate(0) lost the content type: %q", info.ContentType)
			}
		})

		t.Run("append", func(t *testing.T) {
			if _, err := b.PutString(ctx, "log.txt", "a\n", nil); err != nil {
				t.Fatal(err)
			}
			f, err := fsys.OpenFile("log.txt", os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			mustWrite(t, f, "b\n")
			if _, err := f.WriteAt([]byte("x"), 0); err == nil {
				t.Fatal("WriteAt on an O_APPEND file succeeded")
			}
			if _, err := f.Read(make([]byte, 1)); err == nil {
				t.Fatal("Read of an O_WRONLY file succeeded")
			}
			mustWrite(t, f, "c\n")
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := b.GetString(ctx, "log.txt"); got != "a\nb\nc\n" {
				t.Fatalf("content = %q", got)
			}
		})

		t.Run("read-write create", func(t *testing.T) {
			f, err := fsys.OpenFile("rw-new.txt", os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			mustWrite(t, f, "hello")
			if _, err := f.Seek(-3, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			p := make([]byte, 3)
			if _, err := io.ReadFull(f, p); err != nil || string(p) != "llo" {
				t.Fatalf("read = %q, %v", p, err)
			}
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := b.GetString(ctx, "rw-new.txt"); got != "hello" {
				t.Fatalf("after Sync: %q", got)
			}
			mustWrite(t, f, "!")
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := b.GetString(ctx, "rw-new.txt"); got != "hello!" {
				t.Fatalf("after Close: %q", got)
			}
			// An empty file is created by Close even with nothing written.
			f, err = fsys.OpenFile("empty-new", os.O_RDWR|os.O_CREATE, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if info, err := b.Head(ctx, "empty-new", nil); err != nil || info.Size != 0 {
				t.Fatalf("empty new file: %+v, %v", info, err)
			}
		})

		t.Run("spool spills to an unlinked temp file", func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			data := randomBytes(s3kit.MinPartSize + 1000)
			if _, err := b.PutBytes(ctx, "large-edit.bin", data, nil); err != nil {
				t.Fatal(err)
			}
			f, err := fsys.OpenFile("large-edit.bin", os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte("HEAD"), 0); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(0, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, f, "TAIL")
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Fatalf("spool file visible in TMPDIR while open: %v", entries)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			want := append(append([]byte("HEAD"), data[4:]...), "TAIL"...)
			if got, _, err := b.GetBytes(ctx, "large-edit.bin"); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("large edit: %d bytes, %v", len(got), err)
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Fatalf("left in TMPDIR: %v", entries)
			}
		})

		t.Run("open errors", func(t *testing.T) {
			if _, err := b.PutString(ctx, "exists.txt", "x", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := b.PutString(ctx, "adir/inner.txt", "x", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := fsys.OpenFile("missing.txt", os.O_WRONLY, 0); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("O_WRONLY on a missing file = %v; want fs.ErrNotExist", err)
			}
			if _, err := fsys.OpenFile("exists.txt", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0); !errors.Is(err, fs.ErrExist) {
				t.Errorf("O_EXCL on an existing file = %v; want fs.ErrExist", err)
			}
			if _, err := fsys.OpenFile("adir", os.O_RDWR, 0); err == nil {
				t.Errorf("O_RDWR on a directory succeeded")
			}
			proxy.Reset()
			for _, flag := range []int{os.O_RDONLY | os.O_TRUNC, os.O_WRONLY | os.O_RDWR, os.O_RDWR | os.O_EXCL, os.O_RDWR | os.O_SYNC, os.O_RDONLY | os.O_APPEND} {
				if _, err := fsys.OpenFile("exists.txt", flag, 0); !errors.Is(err, fs.ErrInvalid) {
					t.Errorf("OpenFile with flags %#x = %v; want fs.ErrInvalid", flag, err)
				}
			}
			for _, name := range []string{"/abs", "a/../b", "trailing/", ""} {
				if _, err := fsys.Create(name); !errors.Is(err, fs.ErrInvalid) {
					t.Errorf("Create(%q) = %v; want fs.ErrInvalid", name, err)
				}
				if err := fsys.WriteFile(name, nil, 0); !errors.Is(err, fs.ErrInvalid) {
					t.Errorf("WriteFile(%q) = %v; want fs.ErrInvalid", name, err)
				}
			}
			if n := proxy.Count(); n != 0 {
				t.Fatalf("invalid opens sent %d requests: %q", n, methods(proxy, b.Name()))
			}
		})
	})
}

func TestFSWriteConflicts(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c, proxy := proxied(t, e, s3kit.Config{MaxAttempts: 2})
		b := c.Bucket(e.bucket.Name())
		fsys := b.FS(ctx)

		t.Run("concurrent writer is not overwritten", func(t *testing.T) {
			if _, err := b.PutString(ctx, "shared.txt", "original", nil); err != nil {
				t.Fatal(err)
			}
			f, err := fsys.OpenFile("shared.txt", os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(0, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, f, " + mine")
			if _, err := b.PutString(ctx, "shared.txt", "theirs", nil); err != nil {
				t.Fatal(err)
			}
			err = f.Close()
			if !errors.Is(err, s3kit.ErrPreconditionFailed) {
				t.Fatalf("Close after a concurrent write = %v; want ErrPreconditionFailed", err)
			}
			if got, _, _ := b.GetString(ctx, "shared.txt"); got != "theirs" {
				t.Fatalf("the other writer's object was replaced: %q", got)
			}
			// The file is still open with the caller's bytes.
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			var mine bytes.Buffer
			if _, err := f.WriteTo(&mine); err != nil || mine.String() != "original + mine" {
				t.Fatalf("content after a failed Close = %q, %v", mine.String(), err)
			}
			if err := f.Discard(); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte("x")); !errors.Is(err, fs.ErrClosed) {
				t.Fatalf("Write after Discard = %v; want fs.ErrClosed", err)
			}
			if got, _, _ := b.GetString(ctx, "shared.txt"); got != "theirs" {
				t.Fatalf("Discard changed the object: %q", got)
			}
		})

		t.Run("content changed before the lazy fetch", func(t *testing.T) {
			if _, err := b.PutString(ctx, "lazy.txt", "v1", nil); err != nil {
				t.Fatal(err)
			}
			f, err := fsys.OpenFile("lazy.txt", os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Discard()
			if _, err := b.PutString(ctx, "lazy.txt", "v2", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadAll(f); !errors.Is(err, s3kit.ErrPreconditionFailed) {
				t.Fatalf("read of a replaced object = %v; want ErrPreconditionFailed", err)
			}
		})

		t.Run("exclusive create loses to a concurrent create", func(t *testing.T) {
			f, err := fsys.OpenFile("excl.txt", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0)
			if err != nil {
				t.Fatal(err)
			}
			mustWrite(t, f, "mine")
			if _, err := b.PutString(ctx, "excl.txt", "first", nil); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); !errors.Is(err, fs.ErrExist) || !errors.Is(err, s3kit.ErrPreconditionFailed) {
				t.Fatalf("Close of an O_EXCL file that lost = %v; want ErrExist and ErrPreconditionFailed", err)
			}
			if got, _, _ := b.GetString(ctx, "excl.txt"); got != "first" {
				t.Fatalf("content = %q", got)
			}
			if ok, _ := noUploadsLeftCount(t, b); ok != 0 {
				t.Fatalf("%d multipart uploads left", ok)
			}
		})

		t.Run("failed upload is reported by Close", func(t *testing.T) {
			if _, err := b.PutString(ctx, "fail.txt", "before", nil); err != nil {
				t.Fatal(err)
			}
			f, err := fsys.OpenFile("fail.txt", os.O_RDWR|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			mustWrite(t, f, "after")
			r := proxy.Add(faultproxy.Rule{Method: http.MethodPut, Match: faultproxy.PathHasSuffix("/fail.txt"), Fault: faultproxy.Status(500, "InternalError")})
			if err := f.Close(); err == nil {
				t.Fatal("Close returned nil for an upload that failed")
			}
			if r.Fired() == 0 {
				t.Fatal("the fault never fired")
			}
			if got, _, _ := b.GetString(ctx, "fail.txt"); got != "before" {
				t.Fatalf("object = %q", got)
			}
			proxy.Reset()
			if err := f.Close(); err != nil {
				t.Fatalf("retried Close = %v", err)
			}
			if got, _, _ := b.GetString(ctx, "fail.txt"); got != "after" {
				t.Fatalf("object after the retried Close = %q", got)
			}
		})

		t.Run("failed streamed upload leaves nothing", func(t *testing.T) {
			f, err := fsys.Create("stream-fail.txt")
			if err != nil {
				t.Fatal(err)
			}
			mustWrite(t, f, "doomed")
			proxy.Add(faultproxy.Rule{Method: http.MethodPut, Match: faultproxy.PathHasSuffix("/stream-fail.txt"), Fault: faultproxy.Status(500, "InternalError")})
			if err := f.Close(); err == nil {
				t.Fatal("Close returned nil for an upload that failed")
			}
			proxy.Reset()
			if ok, _ := b.Exists(ctx, "stream-fail.txt"); ok {
				t.Fatal("object exists after a failed Close")
			}
		})
	})
}

// noUploadsLeftCount returns how many multipart uploads are in progress in
// b's bucket.
func noUploadsLeftCount(t *testing.T, b *s3kit.Bucket) (int, error) {
	t.Helper()
	out, err := b.Client().S3().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(b.Name())})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads), nil
}

func TestFSManage(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		b := e.bucket
		fsys := b.FS(ctx)
		put := func(keys ...string) {
			t.Helper()
			for _, k := range keys {
				if _, err := b.PutString(ctx, k, "content of "+k, nil); err != nil {
					t.Fatal(err)
				}
			}
		}

		t.Run("WriteFile and ReadFile", func(t *testing.T) {
			if err := fsys.WriteFile("w/f.json", []byte(`{"a":1}`), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := fsys.ReadFile("w/f.json")
			if err != nil || string(got) != `{"a":1}` {
				t.Fatalf("ReadFile = %q, %v", got, err)
			}
			if info, _ := b.Head(ctx, "w/f.json", nil); info.ContentType != "application/json" {
				t.Fatalf("content type %q", info.ContentType)
			}
		})

		t.Run("Mkdir and MkdirAll", func(t *testing.T) {
			if err := fsys.Mkdir("m", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := fsys.Mkdir("m", 0o755); !errors.Is(err, fs.ErrExist) {
				t.Fatalf("Mkdir of an existing dir = %v; want fs.ErrExist", err)
			}
			if err := fsys.Mkdir("nope/child", 0o755); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Mkdir without a parent = %v; want fs.ErrNotExist", err)
			}
			if err := fsys.MkdirAll("m/a/b/c", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := fsys.MkdirAll("m/a/b/c", 0o755); err != nil {
				t.Fatalf("MkdirAll of an existing dir = %v", err)
			}
			keys := keysUnder(t, b, "m/")
			if want := []string{"m/", "m/a/", "m/a/b/", "m/a/b/c/"}; !slices.Equal(keys, want) {
				t.Fatalf("markers = %q, want %q", keys, want)
			}
			put("m/file")
			if err := fsys.MkdirAll("m/file/sub", 0o755); err == nil || errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("MkdirAll through a file = %v; want a not-a-directory error", err)
			}
			if err := fsys.Mkdir("m/file", 0o755); !errors.Is(err, fs.ErrExist) {
				t.Fatalf("Mkdir over a file = %v; want fs.ErrExist", err)
			}
		})

		t.Run("Remove", func(t *testing.T) {
			put("r/file.txt", "r/full/x.txt")
			if err := fsys.Mkdir("r/empty", 0); err != nil {
				t.Fatal(err)
			}
			if err := fsys.Remove("r/file.txt"); err != nil {
				t.Fatal(err)
			}
			if err := fsys.Remove("r/file.txt"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Remove of a missing file = %v; want fs.ErrNotExist", err)
			}
			if err := fsys.Remove("r/full"); !errors.Is(err, s3kit.ErrDirNotEmpty) {
				t.Fatalf("Remove of a non-empty dir = %v; want ErrDirNotEmpty", err)
			}
			if err := fsys.Remove("r/empty"); err != nil {
				t.Fatal(err)
			}
			if got := keysUnder(t, b, "r/"); !slices.Equal(got, []string{"r/full/x.txt"}) {
				t.Fatalf("left: %q", got)
			}
		})

		t.Run("RemoveAll", func(t *testing.T) {
			put("ra/x", "ra/y/z", "ra2/keep", "ra.txt")
			if err := fsys.Mkdir("ra/y/empty", 0); err != nil {
				t.Fatal(err)
			}
			if err := fsys.RemoveAll("ra"); err != nil {
				t.Fatal(err)
			}
			if got := keysUnder(t, b, "ra"); !slices.Equal(got, []string{"ra.txt", "ra2/keep"}) {
				t.Fatalf("after RemoveAll(ra): %q", got)
			}
			if err := fsys.RemoveAll("ra"); err != nil {
				t.Fatalf("RemoveAll of nothing = %v", err)
			}
			if err := fsys.RemoveAll("."); !errors.Is(err, fs.ErrInvalid) {
				t.Fatalf("RemoveAll(.) = %v; want fs.ErrInvalid", err)
			}
		})

		t.Run("Rename", func(t *testing.T) {
			put("mv/a.txt", "mv/b.txt", "mv/d/x", "mv/d/y/z", "mv/dd/keep")
			if err := fsys.Mkdir("mv/d/empty", 0); err != nil {
				t.Fatal(err)
			}
			if err := fsys.Rename("mv/a.txt", "mv/c.txt"); err != nil {
				t.Fatal(err)
			}
			if err := fsys.Rename("mv/b.txt", "mv/c.txt"); err != nil {
				t.Fatalf("rename onto a file = %v", err)
			}
			if got, _ := fsys.ReadFile("mv/c.txt"); string(got) != "content of mv/b.txt" {
				t.Fatalf("renamed file = %q", got)
			}
			if err := fsys.Rename("mv/d", "mv/d/inside"); !errors.Is(err, fs.ErrInvalid) {
				t.Fatalf("rename into itself = %v; want fs.ErrInvalid", err)
			}
			if err := fsys.Rename("mv/c.txt", "mv/dd"); !errors.Is(err, fs.ErrExist) {
				t.Fatalf("rename onto a dir = %v; want fs.ErrExist", err)
			}
			if err := fsys.Rename("mv/missing", "mv/x"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("rename of a missing file = %v; want fs.ErrNotExist", err)
			}
			if err := fsys.Rename("mv/d", "mv/e"); err != nil {
				t.Fatal(err)
			}
			want := []string{"mv/c.txt", "mv/dd/keep", "mv/e/empty/", "mv/e/x", "mv/e/y/z"}
			if got := keysUnder(t, b, "mv/"); !slices.Equal(got, want) {
				t.Fatalf("after renames: %q, want %q", got, want)
			}
			if got, _ := fsys.ReadFile("mv/e/y/z"); string(got) != "content of mv/d/y/z" {
				t.Fatalf("moved file = %q", got)
			}
		})
	})
}

// A directory rename that fails part-way loses nothing: what was not moved
// is still at the source, what was moved is at the destination.
func TestFSRenameFailureLosesNothing(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c, proxy := proxied(t, e, s3kit.Config{MaxAttempts: 1})
		b := c.Bucket(e.bucket.Name())
		fsys := b.FS(ctx)
		var keys []string
		for i := range 20 {
			k := fmt.Sprintf("src/f%02d", i)
			keys = append(keys, k)
			if _, err := b.PutString(ctx, k, k, nil); err != nil {
				t.Fatal(err)
			}
		}
		// Copies into dst/f07 and dst/f13 fail.
		bad := func(r *http.Request) bool {
			return r.Header.Get("X-Amz-Copy-Source") != "" && (strings.HasSuffix(r.URL.Path, "/dst/f07") || strings.HasSuffix(r.URL.Path, "/dst/f13"))
		}
		proxy.Add(faultproxy.Rule{Method: http.MethodPut, Match: bad, Fault: faultproxy.Status(403, "AccessDenied")})
		err := fsys.Rename("src", "dst")
		if err == nil {
			t.Fatal("Rename reported success with failed copies")
		}
		proxy.Reset()
		src, dst := keysUnder(t, b, "src/"), keysUnder(t, b, "dst/")
		if !slices.Equal(src, []string{"src/f07", "src/f13"}) {
			t.Fatalf("left at the source: %q; want the two that failed", src)
		}
		if len(dst) != 18 {
			t.Fatalf("moved: %q; want 18", dst)
		}
		for _, k := range keys {
			name := k
			if !slices.Contains(src, k) {
				name = "dst/" + strings.TrimPrefix(k, "src/")
			}
			if got, _, err := b.GetString(ctx, name); err != nil || got != k {
				t.Fatalf("%s = %q, %v; want %q", name, got, err, k)
			}
		}
	})
}

// keysUnder returns the keys under prefix, sorted.
func keysUnder(t *testing.T, b *s3kit.Bucket, prefix string) []string {
	t.Helper()
	all, err := b.ListAll(t.Context(), &s3kit.ListOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range all {
		keys = append(keys, o.Key)
	}
	return keys
}

// A directory Rename that cannot even start (a destination key too long)
// writes and deletes nothing.
func TestFSRenameRefusedMovesNothing(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		fsys := e.bucket.FS(ctx)
		// Stores with file-system backends allow 255 bytes a segment.
		long := "d/" + strings.Repeat(strings.Repeat("k", 200)+"/", 4) + strings.Repeat("k", 190)
		for _, k := range []string{"d/a.txt", "d/b.txt", long} {
			if _, err := e.bucket.PutString(ctx, k, k, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := fsys.Mkdir("d/sub", 0); err != nil {
			t.Fatal(err)
		}
		err := fsys.Rename("d", "a-much-longer-directory-name-that-overflows-the-key")
		if !errors.Is(err, fs.ErrInvalid) {
			t.Fatalf("Rename = %v; want fs.ErrInvalid", err)
		}
		if got := keysUnder(t, e.bucket, ""); !slices.Equal(got, []string{"d/a.txt", "d/b.txt", long, "d/sub/"}) {
			t.Fatalf("after a refused Rename: %q", got)
		}
	})
}

// Rewriting a file keeps its headers even where the store has no object
// tagging.
func TestFSRewriteWithoutTagging(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c, proxy := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		if _, err := b.PutString(ctx, "notes.txt", "one", &s3kit.PutOptions{ContentType: "text/x-notes"}); err != nil {
			t.Fatal(err)
		}
		r := proxy.Add(faultproxy.Rule{Match: faultproxy.HasQuery("tagging"), Fault: faultproxy.Status(501, "NotImplemented")})
		f, err := b.FS(ctx).OpenFile("notes.txt", os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, f, " two")
		if err := f.Close(); err != nil {
			t.Fatalf("Close on a store without tagging = %v", err)
		}
		if r.Fired() == 0 {
			t.Fatal("tags were never asked for")
		}
		proxy.Reset()
		info, err := b.Head(ctx, "notes.txt", nil)
		if got, _, _ := b.GetString(ctx, "notes.txt"); got != "one two" || err != nil || info.ContentType != "text/x-notes" {
			t.Fatalf("after Close: %q, %+v, %v", got, info, err)
		}
	})
}

// FS.Glob answers as fs.Glob does over the same FS without GlobFS.
func TestFSGlobMatchesStandard(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		putFSTree(t, e.bucket)
		fsys := e.bucket.FS(t.Context())
		plain := struct{ fs.ReadDirFS }{fsys} // fs.Glob falls back to ReadDir
		for _, pattern := range []string{
			"*", "*/", "*/.", "*/..", "..", ".", "", "dir/*/*", "*/*/*/*.txt", "[d-e]*/*", "dir/sub?sibling.txt",
			"dir/sub/deeper/*", "explicit/*/f.*", `a\.txt`, "with space/*", "unicode/*", "nothing/*", "*.bin", "a.txt/*",
		} {
			got, gerr := fsys.Glob(pattern)
			want, werr := fs.Glob(plain, pattern)
			if !slices.Equal(got, want) || (gerr == nil) != (werr == nil) {
				t.Errorf("Glob(%q) = %q, %v; fs.Glob = %q, %v", pattern, got, gerr, want, werr)
			}
		}
	})
}

// A directory Rename copies each object only while it is the version
// listed: one rewritten before its copy stays at the source, with its new
// content, and the Rename fails.
func TestFSRenamePinsCopies(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, direct := t.Context(), e.bucket
		for _, k := range []string{"p/a", "p/b", "p/c"} {
			if _, err := direct.PutString(ctx, k, "old", nil); err != nil {
				t.Fatal(err)
			}
		}
		first := once()
		c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			if isCopyObject(r) && strings.HasSuffix(r.Header.Get("X-Amz-Copy-Source"), "/p/b") && first() {
				if _, err := direct.PutString(ctx, "p/b", "new", nil); err != nil {
					return nil, err
				}
			}
			return next(r)
		})
		err := c.Bucket(direct.Name()).FS(ctx).Rename("p", "q")
		if !errors.Is(err, s3kit.ErrPreconditionFailed) {
			t.Fatalf("Rename over a source rewritten before its copy: %v, want ErrPreconditionFailed", err)
		}
		if s, _, err := direct.GetString(ctx, "p/b"); err != nil || s != "new" {
			t.Errorf("p/b = %q, %v; want the new content kept", s, err)
		}
		if got := keysUnder(t, direct, ""); !slices.Equal(got, []string{"p/b", "q/a", "q/c"}) {
			t.Errorf("after the Rename: %q", got)
		}
	})
}

// A directory Rename of more than 1,000 objects deletes each batch's
// sources right after its copies, each only while it is the version
// copied.
func TestFSRenameBatches(t *testing.T) {
	const n = 1001 // two batches
	eachServer(t, func(t *testing.T, e *env) {
		ctx, direct := t.Context(), e.bucket
		putMany(t, direct, "d/f%04d", n)
		if err := direct.FS(ctx).Mkdir("d/sub", 0); err != nil {
			t.Fatal(err)
		}
		var (
			mu            sync.Mutex
			copies        int
			copiesAtFirst = -1 // copies sent before the first batch delete
		)
		c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			mu.Lock()
			if isCopyObject(r) {
				copies++
			}
			firstDelete := isDeleteObjects(r) && copiesAtFirst < 0
			if firstDelete {
				copiesAtFirst = copies
			}
			mu.Unlock()
			if firstDelete {
				// Rewritten after its copy, before its delete.
				if _, err := direct.PutString(ctx, "d/f0005", "rewritten", nil); err != nil {
					return nil, err
				}
			}
			return next(r)
		})
		err := c.Bucket(direct.Name()).FS(ctx).Rename("d", "e")
		if copiesAtFirst != s3kit.MaxDeleteBatch {
			t.Fatalf("%d copies before the first delete; want one batch, %d", copiesAtFirst, s3kit.MaxDeleteBatch)
		}
		if s, _, gerr := direct.GetString(ctx, "e/f0005"); gerr != nil || s != "5" {
			t.Errorf("e/f0005 = %q, %v; want the version copied", s, gerr)
		}
		src, dst := keysUnder(t, direct, "d/"), keysUnder(t, direct, "e/")
		if why, lacking := lacks[e.name]["conditional batch delete"]; lacking {
			// The documented window of one batch: the rewrite is lost.
			if err != nil || len(src) != 0 || len(dst) != n+1 {
				t.Fatalf("%s ignores conditional batch deletes (%s): Rename %v; %d left, %d moved", e.name, why, err, len(src), len(dst))
			}
			return
		}
		if !errors.Is(err, s3kit.ErrPreconditionFailed) || !strings.Contains(err.Error(), "kept under both names") {
			t.Fatalf("Rename: %v; want ErrPreconditionFailed saying the object is kept under both names", err)
		}
		// It stops after the batch: the second batch and the marker stay.
		if !slices.Equal(src, []string{"d/f0005", "d/f1000", "d/sub/"}) || len(dst) != 1000 {
			t.Fatalf("left %q, moved %d; want d/f0005, d/f1000 and d/sub/ left, 1000 moved", src, len(dst))
		}
		if s, _, err := direct.GetString(ctx, "d/f0005"); err != nil || s != "rewritten" {
			t.Errorf("d/f0005 = %q, %v; want the rewrite kept", s, err)
		}
	})
}

package s3kit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/s3kit/s3kit"
)

// The examples find their store through the environment (AWS_ENDPOINT_URL,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), as any program
// using a zero Config does. The tests point them at a local server.

// exampleBucket creates a bucket for one example and returns a function
// that deletes it with everything in it.
func exampleBucket(ctx context.Context, c *s3kit.Client, name string) func() {
	if err := c.CreateBucket(ctx, name, nil); err != nil && !errors.Is(err, s3kit.ErrExist) {
		log.Fatal(err)
	}
	return func() {
		if err := c.DeleteBucket(ctx, name, &s3kit.DeleteBucketOptions{Empty: true}); err != nil {
			log.Fatal(err)
		}
	}
}

func Example() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-photos")()

	b := c.Bucket("example-photos").Prefix("2025", "06")
	if _, err := b.PutString(ctx, "notes.txt", "sunny\nwindy\n", nil); err != nil {
		log.Fatal(err)
	}
	for line, err := range b.Lines(ctx, "notes.txt") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(line)
	}
	info, err := b.Head(ctx, "notes.txt", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Key, info.Size, info.ContentType)
	// Output:
	// sunny
	// windy
	// notes.txt 12 text/plain; charset=utf-8
}

func ExampleBucket_PutJSON() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-json")()
	b := c.Bucket("example-json")

	type Config struct {
		Replicas int      `json:"replicas"`
		Zones    []string `json:"zones"`
	}
	if _, err := b.PutJSON(ctx, "service/config.json", Config{Replicas: 3, Zones: []string{"a", "b"}}, nil); err != nil {
		log.Fatal(err)
	}
	var got Config
	if _, err := b.GetJSON(ctx, "service/config.json", &got); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", got)
	// Output: {Replicas:3 Zones:[a b]}
}

func ExampleBucket_List() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-list")()
	b := c.Bucket("example-list")
	for _, k := range []string{"logs/2025-01-01.gz", "logs/2025-01-02.gz", "logs/old/2024.gz", "readme.md"} {
		if _, err := b.PutString(ctx, k, "x", nil); err != nil {
			log.Fatal(err)
		}
	}

	// One level, like a directory listing.
	for obj, err := range b.List(ctx, &s3kit.ListOptions{Prefix: "logs/", Delimiter: "/"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(obj.Key, obj.IsDir)
	}
	// A glob; "logs/2025-" is listed on the server, the rest matched here.
	all, err := b.ListAll(ctx, &s3kit.ListOptions{Pattern: "logs/2025-*-02.gz"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(all), all[0].Key)
	// Output:
	// logs/2025-01-01.gz false
	// logs/2025-01-02.gz false
	// logs/old/ true
	// 1 logs/2025-01-02.gz
}

func ExampleBucket_Put_conditional() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-cas")()
	b := c.Bucket("example-cas")

	// Create-only: the second writer loses.
	create := &s3kit.PutOptions{IfNoneMatch: "*"}
	first, err := b.Put(ctx, "leader", strings.NewReader("node-1"), create)
	if err != nil {
		log.Fatal(err)
	}
	_, err = b.Put(ctx, "leader", strings.NewReader("node-2"), create)
	fmt.Println(errors.Is(err, s3kit.ErrExist))

	// Compare-and-swap: replace only what was read.
	_, err = b.Put(ctx, "leader", strings.NewReader("node-3"), &s3kit.PutOptions{IfMatch: first.ETag})
	fmt.Println(err)
	_, err = b.Put(ctx, "leader", strings.NewReader("node-4"), &s3kit.PutOptions{IfMatch: first.ETag})
	fmt.Println(errors.Is(err, s3kit.ErrPreconditionFailed))
	// Output:
	// true
	// <nil>
	// true
}

// A counter kept as JSON, updated by compare-and-swap: the ETag GetJSON
// returns is the one of the bytes it decoded, so no HEAD is needed and no
// update is lost to a concurrent writer.
func ExampleBucket_GetJSON_compareAndSwap() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-json-cas")()
	b := c.Bucket("example-json-cas")

	type State struct{ Count int }
	if _, err := b.PutJSON(ctx, "state.json", State{}, &s3kit.PutOptions{IfNoneMatch: "*"}); err != nil {
		log.Fatal(err)
	}
	increment := func() error {
		for {
			var st State
			info, err := b.GetJSON(ctx, "state.json", &st)
			if err != nil {
				return err
			}
			st.Count++
			_, err = b.PutJSON(ctx, "state.json", st, &s3kit.PutOptions{IfMatch: info.ETag})
			if !errors.Is(err, s3kit.ErrPreconditionFailed) {
				return err // nil: the update won
			}
			// Someone else wrote in between: read again.
		}
	}
	for range 3 {
		if err := increment(); err != nil {
			log.Fatal(err)
		}
	}
	var st State
	if _, err := b.GetJSON(ctx, "state.json", &st); err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Count)
	// Output: 3
}

func ExampleBucket_DeleteMany() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-delete")()
	b := c.Bucket("example-delete")
	var keys []string
	for i := range 2500 {
		keys = append(keys, fmt.Sprintf("tmp/%05d", i))
	}
	for _, k := range keys[:10] {
		if _, err := b.PutString(ctx, k, "x", nil); err != nil {
			log.Fatal(err)
		}
	}
	// Three DeleteObjects requests; keys that do not exist count as deleted.
	res, err := b.DeleteMany(ctx, keys)
	if err != nil {
		for _, f := range res.Failed {
			fmt.Println(f.Key, f.Code)
		}
		log.Fatal(err)
	}
	fmt.Println(res.Deleted, len(res.Failed))
	// Output: 2500 0
}

func ExampleBucket_PresignGet() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-presign")()
	b := c.Bucket("example-presign")
	if _, err := b.PutString(ctx, "report.txt", "quarterly numbers", nil); err != nil {
		log.Fatal(err)
	}
	url, _, err := b.PresignGet(ctx, "report.txt", 15*time.Minute, nil)
	if err != nil {
		log.Fatal(err)
	}
	// Anyone with the URL can fetch the object with plain HTTP until it expires.
	resp, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 quarterly numbers
}

func ExampleBucket_PresignPut() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-presign-put")()
	b := c.Bucket("example-presign-put")

	// The uploader told us what it will send; the URL accepts exactly that.
	data := []byte("photo bytes")
	sum := sha256.Sum256(data)
	url, header, err := b.PresignPut(ctx, "uploads/photo.jpg", 15*time.Minute, &s3kit.PresignOptions{
		ContentType:    "image/jpeg",
		ContentLength:  int64(len(data)),
		ChecksumSHA256: base64.StdEncoding.EncodeToString(sum[:]),
	})
	if err != nil {
		log.Fatal(err)
	}
	put := func(body []byte) int {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		maps.Copy(req.Header, header) // the signed headers, exactly
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println(put([]byte("other bytes")), put(data))
	// Output: 400 200
}

func ExampleURLOpener() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-url-opener")()

	// URLs from a service's users: the zero URLOpener refuses an endpoint
	// or profile parameter, and AllowParams limits the others.
	opener := &s3kit.URLOpener{AllowParams: []string{"content_type"}}
	defer opener.Close()
	w, err := opener.Create(ctx, "s3://example-url-opener/export.csv?content_type=text/csv")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(w, "id,total")
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	_, err = opener.Create(ctx, "s3://example-url-opener/export.csv?endpoint=http://10.0.0.5:8080")
	fmt.Println(err)
	_, err = opener.Create(ctx, "s3://example-url-opener/export.csv?acl=public-read")
	fmt.Println(errors.Is(err, s3kit.ErrInvalid))
	// Output:
	// s3kit: Create example-url-opener: invalid argument: URL parameter endpoint: "http://10.0.0.5:8080" is not among the endpoints this URLOpener allows (AllowEndpoints)
	// true
}

func ExampleError() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-errors")()
	b := c.Bucket("example-errors")

	_, _, err = b.GetBytes(ctx, "missing.txt")
	var e *s3kit.Error
	if errors.As(err, &e) {
		fmt.Println(e.Op, e.Key, e.StatusCode, e.Code)
	}
	fmt.Println(errors.Is(err, s3kit.ErrNotExist))

	// Bad input is refused before any request is sent.
	_, err = c.Bucket("Not_A_Bucket").PutString(ctx, "k", "v", nil)
	fmt.Println(errors.Is(err, s3kit.ErrInvalid))
	// Output:
	// GetBytes missing.txt 404 NoSuchKey
	// true
	// true
}

func ExampleOpenBucket() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-url-bucket")()

	// The store and the credentials come from the environment; the query
	// sets defaults for every write made through the handle.
	b, err := s3kit.OpenBucket(ctx, "s3://example-url-bucket/reports/2025?cache_control=max-age%3D3600")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := b.PutString(ctx, "q1.csv", "region,total\neu,42\n", nil); err != nil {
		log.Fatal(err)
	}
	info, err := b.Head(ctx, "q1.csv", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.KeyPrefix(), info.Key)
	fmt.Println(info.ContentType, "|", info.CacheControl)

	_, err = s3kit.OpenBucket(ctx, "s3://example-no-such-bucket")
	fmt.Println(errors.Is(err, s3kit.ErrBucketNotExist))
	// Output:
	// reports/2025/ q1.csv
	// text/csv; charset=utf-8 | max-age=3600
	// true
}

func ExampleOpen() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-url-open")()
	if _, err := c.Bucket("example-url-open").PutString(ctx, "notes/hello world.txt", "hello, world\n", nil); err != nil {
		log.Fatal(err)
	}

	// A space in a key may be written as it is or as %20.
	r, err := s3kit.Open(ctx, "s3://example-url-open/notes/hello%20world.txt")
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	if _, err := io.Copy(os.Stdout, r); err != nil {
		log.Fatal(err)
	}

	_, err = s3kit.Open(ctx, "s3://example-url-open/notes/missing.txt")
	fmt.Println(errors.Is(err, s3kit.ErrNotExist))
	// Output:
	// hello, world
	// true
}

func ExampleCreate() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-url-create")()

	w, err := s3kit.Create(ctx, "s3://example-url-create/out/result?content_type=application/json")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := fmt.Fprintln(w, `{"ok":true}`); err != nil {
		w.Abort()
		log.Fatal(err)
	}
	// Nothing is stored until Close returns nil.
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	info, err := c.Bucket("example-url-create").Head(ctx, "out/result", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Size, info.ContentType)
	// Output:
	// 12 application/json
}

func ExampleBucket_FS() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-fs")()
	b := c.Bucket("example-fs")
	for key, s := range map[string]string{"site/index.html": "<h1>hi</h1>", "site/css/a.css": "a{}", "site/css/b.css": "b{}"} {
		if _, err := b.PutString(ctx, key, s, nil); err != nil {
			log.Fatal(err)
		}
	}

	// The standard library's file-system functions work on a bucket.
	fsys := b.Prefix("site").FS(ctx)
	err = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fmt.Println(name, d.IsDir())
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	css, err := fs.Glob(fsys, "css/*.css")
	fmt.Println(css, err)

	// So does http.FileServerFS: srv := http.FileServerFS(fsys)
	_, err = fsys.Open("missing.html")
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	// Output:
	// . true
	// css true
	// css/a.css false
	// css/b.css false
	// index.html false
	// [css/a.css css/b.css] <nil>
	// true
}

func ExampleFS_OpenFile() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-fs-rw")()
	fsys := c.Bucket("example-fs-rw").FS(ctx)
	if err := fsys.WriteFile("counter.txt", []byte("0041"), 0o644); err != nil {
		log.Fatal(err)
	}

	// Read, seek and overwrite in place; Close uploads the new content,
	// only if no one else changed the object meanwhile.
	f, err := fsys.OpenFile("counter.txt", os.O_RDWR, 0)
	if err != nil {
		log.Fatal(err)
	}
	var n int
	if _, err := fmt.Fscanf(f, "%d", &n); err != nil {
		f.Discard()
		log.Fatal(err)
	}
	if _, err := f.WriteAt(fmt.Appendf(nil, "%04d", n+1), 0); err != nil {
		f.Discard()
		log.Fatal(err)
	}
	if err := f.Close(); errors.Is(err, s3kit.ErrPreconditionFailed) {
		// Someone else wrote first: f is still open with our content.
		f.Discard()
		log.Fatal("lost the race; try again")
	} else if err != nil {
		log.Fatal(err)
	}
	data, err := fs.ReadFile(fsys, "counter.txt")
	fmt.Println(string(data), err)
	// Output:
	// 0042 <nil>
}

func ExampleSync() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-sync")()

	dir, err := os.MkdirTemp("", "site-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	write := func(name, content string) {
		name = filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	write("index.html", "<h1>Hi</h1>")
	write("about.html", "<p>About</p>")
	write("css/site.css", "h1 { color: teal }")
	write("drafts/next.html", "not yet")

	// Publish the directory under site/, leaving out the drafts and
	// deleting what the directory no longer has. Record keeps the lists
	// of what was done (OnItem would follow it as it happens).
	site := c.Bucket("example-sync").Prefix("site")
	opts := &s3kit.SyncOptions{Delete: true, Exclude: []string{"drafts/**"}, Record: true}
	publish := func() {
		res, err := s3kit.Sync(ctx, s3kit.LocalDir(dir), site, opts)
		if err != nil {
			log.Fatal(err)
		}
		for _, it := range res.CopiedItems {
			fmt.Printf("copied %s (%s)\n", it.Path, it.Reason)
		}
		for _, it := range res.DeletedItems {
			fmt.Printf("deleted %s\n", it.Path)
		}
		fmt.Println("unchanged:", res.Unchanged.Files)
	}
	publish()

	// Edit one file and remove another: the next run copies and deletes
	// only those.
	write("index.html", "<h1>Hello</h1>")
	if err := os.Remove(filepath.Join(dir, "css", "site.css")); err != nil {
		log.Fatal(err)
	}
	publish()
	// Output:
	// copied about.html (new)
	// copied css/site.css (new)
	// copied index.html (new)
	// unchanged: 0
	// copied index.html (size)
	// deleted css/site.css
	// unchanged: 1
}

func ExampleSync_download() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-sync-down")()
	b := c.Bucket("example-sync-down")
	for _, key := range []string{"logs/2025-06-01.log", "logs/2025-06-02.log", "logs/notes.txt"} {
		if _, err := b.PutString(ctx, key, "line\n", nil); err != nil {
			log.Fatal(err)
		}
	}

	dir, err := os.MkdirTemp("", "logs-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// Only the .log files under logs/; the listing asks for logs/ only.
	opts := &s3kit.SyncOptions{Include: []string{"logs/*.log"}}
	for range 2 {
		res, err := s3kit.Sync(ctx, b, s3kit.LocalDir(dir), opts)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("copied %d files, %d bytes; %d unchanged\n", res.Copied.Files, res.Copied.Bytes, res.Unchanged.Files)
	}
	// Output:
	// copied 2 files, 10 bytes; 0 unchanged
	// copied 0 files, 0 bytes; 2 unchanged
}

func ExampleClient_Close() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	// Close releases the Client's idle connections and pooled buffers.
	defer c.Close()
	defer exampleBucket(ctx, c, "example-close")()
	b := c.Bucket("example-close")
	if _, err := b.PutString(ctx, "a.txt", "a", nil); err != nil {
		log.Fatal(err)
	}

	// A Client used after Close sends nothing.
	c2, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	c2.Close()
	_, err = c2.Bucket("example-close").Head(ctx, "a.txt", nil)
	fmt.Println(errors.Is(err, s3kit.ErrClosed))
	// Output: true
}

func ExampleBucket_NewWriter_commit() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-writer")()
	b := c.Bucket("example-writer")

	// Commit only if everything succeeded: the deferred Abort drops the
	// upload on any early return, and does nothing once Close succeeded.
	write := func(key string, lines []string) error {
		w, err := b.NewWriter(ctx, key, nil)
		if err != nil {
			return err
		}
		defer w.Abort()
		for _, l := range lines {
			if l == "" {
				return errors.New("empty line")
			}
			if _, err := fmt.Fprintln(w, l); err != nil {
				return err
			}
		}
		return w.Close()
	}
	fmt.Println(write("good.txt", []string{"a", "b"}))
	fmt.Println(write("bad.txt", []string{"a", ""}))
	for _, k := range []string{"good.txt", "bad.txt"} {
		ok, err := b.Exists(ctx, k)
		fmt.Println(k, ok, err)
	}
	// Output:
	// <nil>
	// empty line
	// good.txt true <nil>
	// bad.txt false <nil>
}

func ExampleCopyOptions_noClobber() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-noclobber")()
	b := c.Bucket("example-noclobber")
	for k, v := range map[string]string{"draft.txt": "new", "final.txt": "published"} {
		if _, err := b.PutString(ctx, k, v, nil); err != nil {
			log.Fatal(err)
		}
	}

	// Create-only: a destination that exists is ErrExist, and Move then
	// keeps its source.
	err = b.Move(ctx, "draft.txt", "final.txt", &s3kit.CopyOptions{NoClobber: true})
	fmt.Println(errors.Is(err, s3kit.ErrExist))
	for _, k := range []string{"draft.txt", "final.txt"} {
		s, _, err := b.GetString(ctx, k)
		fmt.Println(k, s, err)
	}
	// The FS view's Rename, likewise.
	err = b.FS(ctx).WithNoClobber().Rename("draft.txt", "final.txt")
	fmt.Println(errors.Is(err, fs.ErrExist))
	// Output:
	// true
	// draft.txt new <nil>
	// final.txt published <nil>
	// true
}

func ExampleBucket_SetPublicRead() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-public")()
	site := c.Bucket("example-public").Prefix("www")
	if _, err := site.PutString(ctx, "index.html", "<h1>hi</h1>", nil); err != nil {
		log.Fatal(err)
	}
	status := func() int {
		resp, err := http.Get(site.URL("index.html")) // no credentials
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	fmt.Println(status())
	// A statement of the bucket policy, where object ACLs are off.
	if err := site.SetPublicRead(ctx, true); err != nil {
		log.Fatal(err)
	}
	fmt.Println(status())
	if err := site.SetPublicRead(ctx, false); err != nil {
		log.Fatal(err)
	}
	fmt.Println(status())
	// Output:
	// 403
	// 200
	// 403
}

func ExampleListOptions_prefixAndPattern() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-prefix-pattern")()
	b := c.Bucket("example-prefix-pattern")
	for _, k := range []string{"docs/a.txt", "docs/b.md", "docs/old/c.txt", "d.txt"} {
		if _, err := b.PutString(ctx, k, "x", nil); err != nil {
			log.Fatal(err)
		}
	}

	// A Pattern is relative to a Prefix that ends in "/".
	for _, pattern := range []string{"*.txt", "**.txt"} {
		objs, err := b.ListAll(ctx, &s3kit.ListOptions{Prefix: "docs/", Pattern: pattern})
		if err != nil {
			log.Fatal(err)
		}
		for _, o := range objs {
			fmt.Println(pattern, o.Key)
		}
	}
	// A combination no key can satisfy is an error, not an empty list.
	_, err = b.ListAll(ctx, &s3kit.ListOptions{Prefix: "docs/old", Pattern: "*.txt"})
	fmt.Println(errors.Is(err, s3kit.ErrInvalid))
	// Output:
	// *.txt docs/a.txt
	// **.txt docs/a.txt
	// **.txt docs/old/c.txt
	// true
}

func ExampleOpenFile() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-openfile")()

	// One object, read and written through one URL, as s3file's s3open.
	f, err := s3kit.OpenFile(ctx, "s3://example-openfile/todo.txt", os.O_RDWR|os.O_CREATE, 0)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.WriteString(f, "buy milk\n"); err != nil {
		f.Discard()
		log.Fatal(err)
	}
	// Close writes the object back, as it changed.
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}

	f, err = s3kit.OpenFile(ctx, "s3://example-openfile/todo.txt", os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.WriteString(f, "call Ann\n"); err != nil {
		f.Discard()
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	s, _, err := c.Bucket("example-openfile").GetString(ctx, "todo.txt")
	fmt.Print(s, err, "\n")
	// Output:
	// buy milk
	// call Ann
	// <nil>
}

func ExampleNewSSECustomerKey() {
	// A real key comes from a secret store: 32 random bytes (AES-256).
	key, err := s3kit.NewSSECustomerKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key) // the MD5 the store reports, never the key
	_, err = s3kit.NewSSECustomerKey([]byte("too short"))
	fmt.Println(errors.Is(err, s3kit.ErrInvalid))
	// Output:
	// SSECustomerKey(md5=y4HAEFCYWuvAXWFTtA1Qpg==)
	// true
}

// Stores take customer keys only over TLS; this one's certificate is
// signed by a CA of its own, which the Client trusts through its
// HTTPClient.
func ExampleBucket_WithSSECustomerKey() {
	ctx := context.Background()
	caPEM, err := os.ReadFile("ca.pem")
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		log.Fatal("no certificate in ca.pem")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots}
	tr.DisableCompression = true // hand out objects stored gzipped as they are
	c, err := s3kit.New(ctx, s3kit.Config{Endpoint: "https://s3.internal:9000", HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		log.Fatal(err)
	}
	secret := make([]byte, 32) // from a secret store
	key, err := s3kit.NewSSECustomerKey(secret)
	if err != nil {
		log.Fatal(err)
	}
	vault := c.Bucket("vault").WithSSECustomerKey(key)
	if _, err := vault.PutString(ctx, "notes.txt", "for my eyes only", nil); err != nil {
		log.Fatal(err)
	}
	s, info, err := vault.GetString(ctx, "notes.txt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s, info.SSECustomerKeyMD5 == key.MD5())

	// Without the key the object cannot be read.
	_, _, err = c.Bucket("vault").GetString(ctx, "notes.txt")
	fmt.Println(errors.Is(err, s3kit.ErrInvalid))

	// A presigned GET needs the key too: it is in the headers returned,
	// which whoever uses the URL must send.
	url, header, err := vault.PresignGet(ctx, "notes.txt", 5*time.Minute, nil)
	if err != nil {
		log.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	maps.Copy(req.Header, header)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
}

func ExamplePutOptions_headers() {
	ctx := context.Background()
	c, err := s3kit.New(ctx, s3kit.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer exampleBucket(ctx, c, "example-headers")()
	b := c.Bucket("example-headers")
	_, err = b.PutString(ctx, "bonjour.html", "<p>Bonjour</p>", &s3kit.PutOptions{
		ContentLanguage: "fr",
		Expires:         time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), // caches: stale after this
		// Served as a redirect by a bucket's website endpoint.
		WebsiteRedirectLocation: "/fr/index.html",
	})
	if err != nil {
		log.Fatal(err)
	}
	info, err := b.Head(ctx, "bonjour.html", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.ContentLanguage, info.Expires.Format(time.RFC3339))
	// Output: fr 2030-01-01T00:00:00Z
}

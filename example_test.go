package s3kit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	defer exampleBucket(ctx, c, "example-presign")()
	b := c.Bucket("example-presign")
	if _, err := b.PutString(ctx, "report.txt", "quarterly numbers", nil); err != nil {
		log.Fatal(err)
	}
	url, err := b.PresignGet(ctx, "report.txt", 15*time.Minute, nil)
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

// Command tour runs s3kit's main operations against an S3-compatible store
// and prints what each one did: put, list, read, presign, copy, move,
// metadata, tags, conditional writes, the io/fs view, sync and deletes.
//
// With no endpoint configured (no -endpoint flag, AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL), it installs a pinned versitygw into .tools/bin (the
// first time only), starts it on 127.0.0.1 with a temporary data directory,
// and stops it at the end. Otherwise it uses the store and credentials the
// environment configures, in a bucket it creates and deletes.
//
//	go run ./examples/tour
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/s3test"
)

func main() {
	endpoint := flag.String("endpoint", "", "S3 endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else a local versitygw)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, *endpoint); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, endpoint string) error {
	cfg := s3kit.Config{Endpoint: endpoint}
	if endpoint == "" && os.Getenv("AWS_ENDPOINT_URL_S3") == "" && os.Getenv("AWS_ENDPOINT_URL") == "" {
		fmt.Println("No endpoint configured: installing (once) and starting a local versitygw...")
		srv, err := s3test.Start(ctx, s3test.VersityGW)
		if err != nil {
			return err
		}
		defer srv.Stop()
		fmt.Println("versitygw is serving at", srv.Endpoint)
		cfg = s3kit.Config{Endpoint: srv.Endpoint, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, Region: srv.Region}
	}
	c, err := s3kit.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()

	name := fmt.Sprintf("s3kit-tour-%d", time.Now().UnixNano()%1e9)
	if err := c.CreateBucket(ctx, name, nil); err != nil {
		return err
	}
	step("CreateBucket", name)
	defer func() {
		if err := c.DeleteBucket(context.WithoutCancel(ctx), name, &s3kit.DeleteBucketOptions{Empty: true}); err != nil {
			fmt.Fprintln(os.Stderr, "tour: cleaning up:", err)
			return
		}
		step("DeleteBucket", name+" (emptied first)")
	}()

	b := c.Bucket(name)
	photos := b.Prefix("photos", "2025")

	// Put: typed helpers, content types by extension and Go type.
	if _, err := b.PutString(ctx, "notes/todo.txt", "buy film\ndevelop roll 3\nprint contact sheet\n", nil); err != nil {
		return err
	}
	if _, err := b.PutJSON(ctx, "config/app.json", map[string]any{"replicas": 3, "zones": []string{"a", "b"}}, nil); err != nil {
		return err
	}
	for i, day := range []string{"06-01", "06-02", "07-14"} {
		opts := &s3kit.PutOptions{
			Metadata: map[string]string{"camera": "x100"},
			Tags:     map[string]string{"roll": fmt.Sprint(i + 1)},
		}
		if _, err := photos.PutBytes(ctx, day+".jpg", []byte(strings.Repeat("\xff", 1000*(i+1))), opts); err != nil {
			return err
		}
	}
	step("Put", "notes/todo.txt, config/app.json, photos/2025/{06-01,06-02,07-14}.jpg")

	// List: a directory view, then a glob narrowed to a server-side prefix.
	var top []string
	for obj, err := range b.List(ctx, &s3kit.ListOptions{Delimiter: "/"}) {
		if err != nil {
			return err
		}
		top = append(top, obj.Key)
	}
	step("List (Delimiter /)", strings.Join(top, "  "))
	june, err := photos.ListAll(ctx, &s3kit.ListOptions{Pattern: "06-*.jpg"})
	if err != nil {
		return err
	}
	for _, o := range june {
		step("List (Pattern 06-*.jpg)", fmt.Sprintf("%s  %d bytes  %s", o.Key, o.Size, o.LastModified.Format(time.RFC3339)))
	}

	// Read: whole, by line, as JSON, and metadata only.
	n := 0
	for line, err := range b.Lines(ctx, "notes/todo.txt") {
		if err != nil {
			return err
		}
		n++
		step("Lines", fmt.Sprintf("%d: %s", n, line))
	}
	var appCfg struct{ Replicas int }
	if _, err := b.GetJSON(ctx, "config/app.json", &appCfg); err != nil {
		return err
	}
	step("GetJSON", fmt.Sprintf("replicas=%d", appCfg.Replicas))
	info, err := photos.Head(ctx, "06-02.jpg", &s3kit.HeadOptions{WithTags: true})
	if err != nil {
		return err
	}
	step("Head", fmt.Sprintf("%s  %s  %d bytes  metadata=%v tags=%v", info.Key, info.ContentType, info.Size, info.Metadata, info.Tags))

	// Presign: a plain HTTP client fetches the object with the URL alone.
	url, _, err := b.PresignGet(ctx, "notes/todo.txt", 5*time.Minute, nil)
	if err != nil {
		return err
	}
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	step("PresignGet", fmt.Sprintf("plain GET of the presigned URL: HTTP %d, %d bytes", resp.StatusCode, len(body)))

	// Copy, CopyMany, Move and metadata in place.
	if _, err := b.Copy(ctx, "config/app.json", "archive/app.json", nil); err != nil {
		return err
	}
	res, err := photos.CopyMany(ctx, []s3kit.CopyPair{
		{Src: "06-01.jpg", Dst: "best/06-01.jpg"},
		{Src: "missing.jpg", Dst: "best/missing.jpg"},
	}, nil)
	step("Copy / CopyMany", fmt.Sprintf("copied %d, failed %d (%v)", res.Copied, len(res.Failed), errors.Is(err, s3kit.ErrNotExist)))
	if err := b.Move(ctx, "notes/todo.txt", "notes/done.txt", nil); err != nil {
		return err
	}
	step("Move", "notes/todo.txt -> notes/done.txt")
	if err := photos.SetMetadata(ctx, "07-14.jpg", map[string]string{"camera": "x100", "edited": "yes"}); err != nil {
		return err
	}
	if err := photos.SetTags(ctx, "07-14.jpg", map[string]string{"best": "true"}); err != nil {
		return err
	}
	info, err = photos.Head(ctx, "07-14.jpg", &s3kit.HeadOptions{WithTags: true})
	if err != nil {
		return err
	}
	step("SetMetadata / SetTags", fmt.Sprintf("metadata=%v tags=%v content-type=%s", info.Metadata, info.Tags, info.ContentType))

	// Conditional writes: create-only, then compare-and-swap.
	lock, err := b.Put(ctx, "locks/leader", strings.NewReader("node-1"), &s3kit.PutOptions{IfNoneMatch: "*"})
	if err != nil {
		return err
	}
	_, err = b.Put(ctx, "locks/leader", strings.NewReader("node-2"), &s3kit.PutOptions{IfNoneMatch: "*"})
	step("Put IfNoneMatch *", fmt.Sprintf("second writer refused: %v", errors.Is(err, s3kit.ErrExist)))
	_, err = b.Put(ctx, "locks/leader", strings.NewReader("node-1 renewed"), &s3kit.PutOptions{IfMatch: lock.ETag})
	step("Put IfMatch", fmt.Sprintf("swap with the ETag read: err=%v", err))

	// Files and folders: the bucket as an io/fs file system, with files
	// that can be written, appended to and read back.
	fsys := b.FS(ctx)
	var files []string
	err = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, name)
		}
		return err
	})
	if err != nil {
		return err
	}
	step("FS WalkDir", strings.Join(files, "  "))
	if err := fsys.WriteFile("notes/log.txt", []byte("first\n"), 0o644); err != nil {
		return err
	}
	f, err := fsys.OpenFile("notes/log.txt", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString("second\n"); err != nil {
		f.Discard()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	logData, err := fsys.ReadFile("notes/log.txt")
	if err != nil {
		return err
	}
	step("FS OpenFile O_APPEND", fmt.Sprintf("%q", logData))

	// Sync a local folder up to a prefix; the second run copies nothing.
	dir, err := os.MkdirTemp("", "s3kit-tour-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for name, content := range map[string]string{"index.html": "<h1>hi</h1>", "css/site.css": "h1{}", "img/logo.svg": "<svg/>"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	site := b.Prefix("site")
	sres, err := s3kit.Sync(ctx, s3kit.LocalDir(dir), site, nil)
	if err != nil {
		return err
	}
	step("Sync (dir -> site/)", fmt.Sprintf("copied %d files, %d bytes", sres.Copied.Files, sres.Copied.Bytes))
	sres, err = s3kit.Sync(ctx, s3kit.LocalDir(dir), site, nil)
	if err != nil {
		return err
	}
	step("Sync again", fmt.Sprintf("copied %d, unchanged %d", sres.Copied.Files, sres.Unchanged.Files))
	if err := fsys.RemoveAll("site"); err != nil {
		return err
	}
	if err := fsys.Remove("notes/log.txt"); err != nil {
		return err
	}
	step("FS RemoveAll / Remove", "site/, notes/log.txt")

	// Errors are values.
	_, _, err = b.GetBytes(ctx, "no/such/key")
	step("GetBytes (missing)", fmt.Sprintf("errors.Is(err, s3kit.ErrNotExist)=%v: %v", errors.Is(err, s3kit.ErrNotExist), err))
	_, err = c.Bucket("Bad_Name").PutString(ctx, "k", "v", nil)
	step("PutString (bad bucket)", fmt.Sprintf("refused before sending: %v", err))

	// Delete: one, many, everything under a prefix.
	if err := b.Delete(ctx, "archive/app.json"); err != nil {
		return err
	}
	dres, err := b.DeleteMany(ctx, []string{"config/app.json", "notes/done.txt", "never/existed"})
	if err != nil {
		return err
	}
	step("Delete / DeleteMany", fmt.Sprintf("deleted %d", dres.Deleted+1))
	dres, err = photos.DeleteAll(ctx)
	if err != nil {
		return err
	}
	step("DeleteAll (photos/2025/)", fmt.Sprintf("deleted %d", dres.Deleted))
	left, err := b.ListAll(ctx, nil)
	if err != nil {
		return err
	}
	var keys []string
	for _, o := range left {
		keys = append(keys, o.Key)
	}
	step("ListAll", fmt.Sprintf("left: %v", keys))
	return nil
}

func step(what, detail string) {
	fmt.Printf("%-24s %s\n", what, detail)
}

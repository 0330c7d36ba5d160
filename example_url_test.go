package s3kit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/s3kit/s3kit"
)

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
	if err := b.PutString(ctx, "q1.csv", "region,total\neu,42\n", nil); err != nil {
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
	if err := c.Bucket("example-url-open").PutString(ctx, "notes/hello world.txt", "hello, world\n", nil); err != nil {
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

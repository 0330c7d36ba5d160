package s3kit_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3kit/s3kit"
)

func TestPresign(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		if err := b.PutString(ctx, "dir/hello world+1.txt", "hi there", nil); err != nil {
			t.Fatal(err)
		}

		get, err := b.PresignGet(ctx, "dir/hello world+1.txt", time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(get)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "hi there" {
			t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
		}

		put, err := b.PresignPut(ctx, "up/load.bin", time.Minute, &s3kit.PresignOptions{ContentType: "image/png"})
		if err != nil {
			t.Fatal(err)
		}
		send := func(contentType string) int {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPut, put, strings.NewReader("png bytes"))
			req.Header.Set("Content-Type", contentType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := send("text/plain"); code != http.StatusForbidden {
			t.Errorf("presigned PUT with another content type: HTTP %d, want 403", code)
		}
		if code := send("image/png"); code != 200 {
			t.Fatalf("presigned PUT: HTTP %d", code)
		}
		info, err := b.Head(ctx, "up/load.bin", nil)
		if err != nil || info.ContentType != "image/png" || info.Size != 9 {
			t.Fatalf("after presigned PUT: %+v, %v", info, err)
		}

		// A URL past its expiry is refused by the server.
		short, err := b.PresignGet(ctx, "dir/hello world+1.txt", time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2100 * time.Millisecond)
		resp, err = http.Get(short)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("expired presigned GET: HTTP %d, want 403", resp.StatusCode)
		}

		for _, d := range []time.Duration{0, -time.Second, 7*24*time.Hour + time.Second} {
			if _, err := b.PresignGet(ctx, "k", d, nil); !errors.Is(err, s3kit.ErrInvalid) {
				t.Errorf("expiry %v: %v, want ErrInvalid", d, err)
			}
		}
		if _, err := b.PresignPut(ctx, "k", 7*24*time.Hour, nil); err != nil {
			t.Errorf("expiry of exactly 7 days: %v", err)
		}
	})
}

func TestURLAndMakePublic(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		if want := e.srv.Endpoint + "/" + b.Name() + "/a%20b/c%2Bd.txt"; b.URL("a b/c+d.txt") != want {
			t.Errorf("URL = %q, want %q", b.URL("a b/c+d.txt"), want)
		}
		if b.URL("") != "" {
			t.Errorf("URL of an empty key = %q, want empty", b.URL(""))
		}
		if err := b.PutString(ctx, "pub/a b.txt", "public", nil); err != nil {
			t.Fatal(err)
		}
		status := func() int {
			resp, err := http.Get(b.URL("pub/a b.txt"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := status(); code != http.StatusForbidden {
			t.Fatalf("anonymous GET of a private object: HTTP %d, want 403", code)
		}
		// A bucket policy proves URL is what an anonymous client fetches.
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},` +
			`"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + b.Name() + `/pub/*"]}]}`
		if _, err := e.client.S3().PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b.Name()), Policy: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
		if code := status(); code != 200 {
			t.Fatalf("anonymous GET under a public-read policy: HTTP %d", code)
		}

		if err := b.PutString(ctx, "acl.txt", "x", nil); err != nil {
			t.Fatal(err)
		}
		err := b.MakePublic(ctx, "acl.txt")
		if _, lacking := lacks[e.name]["object ACLs"]; lacking {
			if !errors.Is(err, errors.ErrUnsupported) {
				t.Fatalf("MakePublic on a store without object ACLs: %v, want errors.ErrUnsupported", err)
			}
			e.requireFeature(t, "object ACLs")
		}
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(b.URL("acl.txt"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("anonymous GET after MakePublic: HTTP %d", resp.StatusCode)
		}
	})
}

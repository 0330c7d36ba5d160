package s3kit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3kit/s3kit"
)

// roundTrip lets a test act on a request before (or instead of) passing
// it on with next, for example to write an object between two requests of
// one operation, deterministically.
type roundTrip func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error)

type hookTransport struct {
	base http.RoundTripper
	fn   roundTrip
}

func (h hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return h.fn(r, h.base.RoundTrip)
}

// hookedClient returns a Client of e's server whose requests go through fn.
func hookedClient(t *testing.T, e *env, fn roundTrip) *s3kit.Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return newClient(t, e.srv, s3kit.Config{HTTPClient: &http.Client{Transport: hookTransport{tr, fn}}})
}

// once returns a function that reports true the first time only.
func once() func() bool {
	var o sync.Once
	return func() (first bool) {
		o.Do(func() { first = true })
		return first
	}
}

func isCopyObject(r *http.Request) bool {
	return r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" && !r.URL.Query().Has("uploadId")
}

func isDeleteObject(r *http.Request, key string) bool {
	return r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/"+key) && !r.URL.Query().Has("uploadId")
}

func isDeleteObjects(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Query().Has("delete")
}

// sdkClient is a plain SDK client of e's server, for requests s3kit does
// not expose.
func sdkClient(e *env) *s3.Client {
	return s3.New(s3.Options{
		Region:       e.srv.Region,
		BaseEndpoint: aws.String(e.srv.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(e.srv.AccessKey, e.srv.SecretKey, ""),
	})
}

// TestConditionalDelete records which servers honour the ETag condition
// of DeleteObject (If-Match) and of DeleteObjects (an object's ETag): a
// delete conditional on an ETag the object no longer has must be refused
// with 412 and keep the object. Where the lacks table says a server
// ignores it, the test checks that it does, so that the table stays true.
func TestConditionalDelete(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		cl := sdkClient(e)
		// stale writes key twice and returns the ETag of the first version.
		stale := func(key string) string {
			if _, err := b.PutString(ctx, key, "one", nil); err != nil {
				t.Fatal(err)
			}
			h, err := b.Head(ctx, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.PutString(ctx, key, "two", nil); err != nil {
				t.Fatal(err)
			}
			return h.ETag
		}
		exists := func(key string) bool {
			_, err := b.Head(ctx, key, nil)
			if err != nil && !errors.Is(err, s3kit.ErrNotExist) {
				t.Fatal(err)
			}
			return err == nil
		}

		t.Run("DeleteObject", func(t *testing.T) {
			etag := stale("single")
			_, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name()), Key: aws.String("single"), IfMatch: aws.String(etag)})
			if why, lacking := lacks[e.name]["conditional delete"]; lacking {
				if err != nil || exists("single") {
					t.Fatalf("listed as ignoring the condition (%s), but the delete answered %v and the object exists: %v; update lacks", why, err, exists("single"))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "412") {
				t.Fatalf("delete of a changed object answered %v, want 412", err)
			}
			if !exists("single") {
				t.Fatal("changed object deleted")
			}
			// The condition holds: deleted.
			h, _ := b.Head(ctx, "single", nil)
			if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name()), Key: aws.String("single"), IfMatch: aws.String(h.ETag)}); err != nil || exists("single") {
				t.Fatalf("delete with the current ETag: %v, exists %v", err, exists("single"))
			}
		})

		t.Run("DeleteObjects", func(t *testing.T) {
			etag := stale("batch-changed")
			if _, err := b.PutString(ctx, "batch-same", "x", nil); err != nil {
				t.Fatal(err)
			}
			same, _ := b.Head(ctx, "batch-same", nil)
			out, err := cl.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b.Name()), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
				{Key: aws.String("batch-changed"), ETag: aws.String(etag)},
				{Key: aws.String("batch-same"), ETag: aws.String(same.ETag)},
			}}})
			if err != nil {
				t.Fatal(err)
			}
			if exists("batch-same") {
				t.Error("object whose ETag matched not deleted")
			}
			if why, lacking := lacks[e.name]["conditional batch delete"]; lacking {
				if len(out.Errors) != 0 || exists("batch-changed") {
					t.Fatalf("listed as ignoring the condition (%s), but it refused or kept the object: %+v; update lacks", why, out.Errors)
				}
				return
			}
			if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "PreconditionFailed" || !exists("batch-changed") {
				t.Fatalf("errors %+v, exists %v; want PreconditionFailed and the changed object kept", out.Errors, exists("batch-changed"))
			}
		})
	})
}

// putMany writes n small objects named fmt.Sprintf(format, i).
func putMany(t *testing.T, b *s3kit.Bucket, format string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs <- errOf(b.PutString(ctx, fmt.Sprintf(format, i), fmt.Sprint(i), nil))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

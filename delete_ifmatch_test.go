package s3kit_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
)

// DeleteIfMatch deletes only the version it names; a changed object stays
// and the delete fails with ErrPreconditionFailed.
func TestDeleteIfMatch(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		b := e.bucket
		v1, err := b.PutString(ctx, "k", "one", nil)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := b.PutString(ctx, "k", "two, longer", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.DeleteIfMatch(ctx, "k", v1.ETag); !errors.Is(err, s3kit.ErrPreconditionFailed) {
			t.Errorf("DeleteIfMatch with the old ETag = %v, want ErrPreconditionFailed", err)
		}
		if got, _, err := b.GetString(ctx, "k"); err != nil || got != "two, longer" {
			t.Fatalf("after a refused delete: %q, %v", got, err)
		}
		// Without quotes, as some tools print ETags.
		if err := b.DeleteIfMatch(ctx, "k", strings.Trim(v2.ETag, `"`)); err != nil {
			t.Fatalf("DeleteIfMatch with the current ETag: %v", err)
		}
		if ok, err := b.Exists(ctx, "k"); err != nil || ok {
			t.Errorf("still there after DeleteIfMatch: %v, %v", ok, err)
		}
		if err := b.DeleteIfMatch(ctx, "k", v2.ETag); err != nil {
			t.Errorf("DeleteIfMatch of a gone object = %v, want nil", err)
		}
		if err := b.DeleteIfMatch(ctx, "k", ""); !errors.Is(err, s3kit.ErrInvalid) {
			t.Errorf("DeleteIfMatch without an ETag = %v, want ErrInvalid", err)
		}
		if err := e.client.Bucket("no-such-bucket-"+e.bucket.Name()).DeleteIfMatch(ctx, "k", v2.ETag); !errors.Is(err, s3kit.ErrBucketNotExist) {
			t.Errorf("DeleteIfMatch in a missing bucket = %v, want ErrBucketNotExist", err)
		}
	})
}

// An object rewritten after its ETag was read and before the delete
// reaches the store is kept, on every server: by the store where it
// honours If-Match on DeleteObject, else by the check that precedes the
// delete. The proxy writes the new version when the delete's first
// request (the DELETE, or the listing that checks the ETag) arrives, and
// only then forwards it.
func TestDeleteIfMatchRacingWriter(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		c, p := proxied(t, e, s3kit.Config{})
		b := c.Bucket(e.bucket.Name())
		v1, err := e.bucket.PutString(ctx, "k", "one", nil)
		if err != nil {
			t.Fatal(err)
		}
		var writeErr error
		p.Add(faultproxy.Rule{Times: 1, Match: func(r *http.Request) bool {
			q := r.URL.Query()
			hit := r.Method == http.MethodDelete || r.Method == http.MethodGet && q.Get("list-type") == "2" && q.Get("prefix") == "k"
			if hit {
				// Synchronous, under the proxy's lock: the write lands
				// before the request is forwarded. It goes to the server
				// directly, not through the proxy.
				_, writeErr = e.bucket.PutString(ctx, "k", "two, written meanwhile", nil)
			}
			return hit
		}})
		err = b.DeleteIfMatch(ctx, "k", v1.ETag)
		if writeErr != nil {
			t.Fatal(writeErr)
		}
		if !errors.Is(err, s3kit.ErrPreconditionFailed) {
			t.Errorf("DeleteIfMatch raced by a writer = %v, want ErrPreconditionFailed", err)
		}
		if got, _, err := e.bucket.GetString(ctx, "k"); err != nil || got != "two, written meanwhile" {
			t.Errorf("the version written meanwhile: %q, %v", got, err)
		}
	})
}

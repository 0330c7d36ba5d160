package s3kit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/faultproxy"
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
			if err := b.PutString(ctx, key, "one", nil); err != nil {
				t.Fatal(err)
			}
			h, err := b.Head(ctx, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.PutString(ctx, key, "two", nil); err != nil {
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
			if err := b.PutString(ctx, "batch-same", "x", nil); err != nil {
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

// TestMovePinned checks that Move copies the version it read and deletes
// its source only while the source is that version.
func TestMovePinned(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, direct := t.Context(), e.bucket

		t.Run("source changed before the copy", func(t *testing.T) {
			if err := direct.PutString(ctx, "a/src", "v1", nil); err != nil {
				t.Fatal(err)
			}
			first := once()
			c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
				if isCopyObject(r) && first() {
					if err := direct.PutString(ctx, "a/src", "v2", nil); err != nil {
						return nil, err
					}
				}
				return next(r)
			})
			err := c.Bucket(direct.Name()).Move(ctx, "a/src", "a/dst", nil)
			if !errors.Is(err, s3kit.ErrPreconditionFailed) {
				t.Fatalf("Move of a source changed before its copy: %v, want ErrPreconditionFailed", err)
			}
			if s, err := direct.GetString(ctx, "a/src"); err != nil || s != "v2" {
				t.Errorf("source %q, %v; want v2 kept", s, err)
			}
			if _, err := direct.Head(ctx, "a/dst", nil); !errors.Is(err, s3kit.ErrNotExist) {
				t.Errorf("destination: %v, want none", err)
			}
		})

		t.Run("source changed after the copy", func(t *testing.T) {
			if err := direct.PutString(ctx, "b/src", "v1", nil); err != nil {
				t.Fatal(err)
			}
			first := once()
			c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
				if isDeleteObject(r, "b/src") && first() {
					if err := direct.PutString(ctx, "b/src", "v2", nil); err != nil {
						return nil, err
					}
				}
				return next(r)
			})
			err := c.Bucket(direct.Name()).Move(ctx, "b/src", "b/dst", nil)
			if s, err := direct.GetString(ctx, "b/dst"); err != nil || s != "v1" {
				t.Errorf("destination %q, %v; want v1", s, err)
			}
			got, gerr := direct.GetString(ctx, "b/src")
			if why, lacking := lacks[e.name]["conditional delete"]; lacking {
				// The documented window: the store deletes v2.
				if err != nil || !errors.Is(gerr, s3kit.ErrNotExist) {
					t.Fatalf("%s ignores conditional deletes (%s): Move %v, source %q, %v", e.name, why, err, got, gerr)
				}
				return
			}
			if !errors.Is(err, s3kit.ErrPreconditionFailed) || !strings.Contains(err.Error(), "changed since it was copied") {
				t.Fatalf("Move: %v, want ErrPreconditionFailed saying the source changed since it was copied", err)
			}
			if gerr != nil || got != "v2" {
				t.Errorf("source %q, %v; want v2 kept", got, gerr)
			}
		})

		t.Run("caller's IfMatch", func(t *testing.T) {
			if err := direct.PutString(ctx, "c/src", "v1", nil); err != nil {
				t.Fatal(err)
			}
			err := direct.Move(ctx, "c/src", "c/dst", &s3kit.CopyOptions{IfMatch: `"0123456789abcdef0123456789abcdef"`})
			if !errors.Is(err, s3kit.ErrPreconditionFailed) {
				t.Fatalf("Move with a stale IfMatch: %v", err)
			}
			h, _ := direct.Head(ctx, "c/src", nil)
			if err := direct.Move(ctx, "c/src", "c/dst", &s3kit.CopyOptions{IfMatch: h.ETag}); err != nil {
				t.Fatal(err)
			}
			if _, err := direct.Head(ctx, "c/src", nil); !errors.Is(err, s3kit.ErrNotExist) {
				t.Errorf("source after Move: %v", err)
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
			errs <- b.PutString(ctx, fmt.Sprintf(format, i), fmt.Sprint(i), nil)
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

// A directory Rename copies each object only while it is the version
// listed: one rewritten before its copy stays at the source, with its new
// content, and the Rename fails.
func TestFSRenamePinsCopies(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, direct := t.Context(), e.bucket
		for _, k := range []string{"p/a", "p/b", "p/c"} {
			if err := direct.PutString(ctx, k, "old", nil); err != nil {
				t.Fatal(err)
			}
		}
		first := once()
		c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			if isCopyObject(r) && strings.HasSuffix(r.Header.Get("X-Amz-Copy-Source"), "/p/b") && first() {
				if err := direct.PutString(ctx, "p/b", "new", nil); err != nil {
					return nil, err
				}
			}
			return next(r)
		})
		err := c.Bucket(direct.Name()).FS(ctx).Rename("p", "q")
		if !errors.Is(err, s3kit.ErrPreconditionFailed) {
			t.Fatalf("Rename over a source rewritten before its copy: %v, want ErrPreconditionFailed", err)
		}
		if s, err := direct.GetString(ctx, "p/b"); err != nil || s != "new" {
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
				if err := direct.PutString(ctx, "d/f0005", "rewritten", nil); err != nil {
					return nil, err
				}
			}
			return next(r)
		})
		err := c.Bucket(direct.Name()).FS(ctx).Rename("d", "e")
		if copiesAtFirst != s3kit.MaxDeleteBatch {
			t.Fatalf("%d copies before the first delete; want one batch, %d", copiesAtFirst, s3kit.MaxDeleteBatch)
		}
		if s, gerr := direct.GetString(ctx, "e/f0005"); gerr != nil || s != "5" {
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
		if s, err := direct.GetString(ctx, "d/f0005"); err != nil || s != "rewritten" {
			t.Errorf("d/f0005 = %q, %v; want the rewrite kept", s, err)
		}
	})
}

// Sync refuses two Buckets of one name whose prefixes overlap even when
// their Clients spell the endpoint differently, before any request.
func TestSyncOverlapAcrossEndpoints(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, direct := t.Context(), e.bucket
		for _, k := range []string{"backup/x", "backup/y", "top"} {
			if err := direct.PutString(ctx, k, k, nil); err != nil {
				t.Fatal(err)
			}
		}
		pA := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(pA.Close)
		pB := faultproxy.New(e.srv.Endpoint)
		t.Cleanup(pB.Close)
		if !strings.HasPrefix(pB.URL, "http://127.0.0.1:") {
			t.Fatalf("proxy at %s", pB.URL)
		}
		cA := newClient(t, e.srv, s3kit.Config{Endpoint: pA.URL})
		cB := newClient(t, e.srv, s3kit.Config{Endpoint: strings.Replace(pB.URL, "127.0.0.1", "localhost", 1)})
		a, b := cA.Bucket(direct.Name()), cB.Bucket(direct.Name())
		for _, tc := range []struct {
			name     string
			src, dst *s3kit.Bucket
		}{
			{"source inside destination", a.Prefix("backup"), b},
			{"destination inside source", a, b.Prefix("backup")},
			{"same prefix", a.Prefix("backup"), b.Prefix("backup")},
		} {
			_, err := s3kit.Sync(ctx, tc.src, tc.dst, &s3kit.SyncOptions{Delete: true})
			if !errors.Is(err, s3kit.ErrInvalid) {
				t.Errorf("%s: Sync = %v, want ErrInvalid", tc.name, err)
			}
		}
		if n := pA.Count() + pB.Count(); n != 0 {
			t.Fatalf("%d requests sent for overlapping locations", n)
		}
		if got := keysUnder(t, direct, ""); !slices.Equal(got, []string{"backup/x", "backup/y", "top"}) {
			t.Fatalf("after refused Syncs: %q", got)
		}
		// Disjoint prefixes of one bucket, "backup/" and "backup2/" among
		// them, still sync.
		res, err := s3kit.Sync(ctx, a.Prefix("backup"), b.Prefix("backup2"), &s3kit.SyncOptions{Delete: true})
		if err != nil || len(res.Copied) != 2 {
			t.Fatalf("disjoint prefixes: %+v, %v", res, err)
		}
		if got := keysUnder(t, direct, ""); !slices.Equal(got, []string{"backup/x", "backup/y", "backup2/x", "backup2/y", "top"}) {
			t.Fatalf("after Sync to backup2/: %q", got)
		}
	})
}

// A failed listing of one side stops the listing of the other.
func TestSyncListingFailureStopsOther(t *testing.T) {
	const n = 2*s3kit.MaxListPage + 1 // three pages
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		putMany(t, e.bucket, "k%05d", n)
		c, p := proxied(t, e, s3kit.Config{})
		src := c.Bucket(e.bucket.Name())
		pages := p.Add(faultproxy.Rule{
			Method: http.MethodGet,
			Match: faultproxy.And(faultproxy.HasQuery("list-type"), func(r *http.Request) bool {
				return strings.TrimSuffix(r.URL.Path, "/") == "/"+src.Name()
			}),
			Fault: faultproxy.Delay(3 * time.Second),
		})
		_, err := s3kit.Sync(ctx, src, c.Bucket(src.Name()+"-missing"), &s3kit.SyncOptions{Delete: true})
		if !errors.Is(err, s3kit.ErrBucketNotExist) {
			t.Fatalf("Sync to a missing bucket: %v, want ErrBucketNotExist", err)
		}
		if got := pages.Fired(); got != 1 {
			t.Fatalf("%d source pages requested; want 1, the one in flight when the destination failed", got)
		}
	})
}

// With Delete, an object written at the destination after the listing is
// kept where the store honours the condition of a batch delete.
func TestSyncDeleteConditional(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, direct := t.Context(), e.bucket
		srcBucket := newBucket(t, e.client)
		if err := srcBucket.PutString(ctx, "same", "s", nil); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"extra", "gone"} {
			if err := direct.PutString(ctx, k, "old", nil); err != nil {
				t.Fatal(err)
			}
		}
		first := once()
		c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			if isDeleteObjects(r) && first() {
				if err := direct.PutString(ctx, "extra", "written meanwhile", nil); err != nil {
					return nil, err
				}
			}
			return next(r)
		})
		res, err := s3kit.Sync(ctx, c.Bucket(srcBucket.Name()), c.Bucket(direct.Name()), &s3kit.SyncOptions{Delete: true})
		got := keysUnder(t, direct, "")
		if why, lacking := lacks[e.name]["conditional batch delete"]; lacking {
			if err != nil || !slices.Equal(got, []string{"same"}) {
				t.Fatalf("%s ignores conditional batch deletes (%s): Sync %v, left %q", e.name, why, err, got)
			}
			return
		}
		if !errors.Is(err, s3kit.ErrPreconditionFailed) || len(res.Failed) != 1 || res.Failed[0].Key != "extra" {
			t.Fatalf("Sync: %v, failed %+v; want extra failed with ErrPreconditionFailed", err, res.Failed)
		}
		if !slices.Equal(got, []string{"extra", "same"}) || len(res.Deleted) != 1 || res.Deleted[0].Path != "gone" {
			t.Fatalf("left %q, deleted %+v; want extra kept, gone deleted", got, res.Deleted)
		}
	})
}

package s3kit_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3kit/s3kit"
)

// startUpload starts a multipart upload of the full key and leaves it
// unfinished, as a killed program would.
func startUpload(t *testing.T, e *env, key string) string {
	t.Helper()
	out, err := e.client.S3().CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{
		Bucket: aws.String(e.bucket.Name()), Key: aws.String(key),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.UploadId)
}

func listUploads(t *testing.T, b *s3kit.Bucket, opts *s3kit.ListUploadsOptions) []s3kit.UploadInfo {
	t.Helper()
	var got []s3kit.UploadInfo
	for u, err := range b.ListUploads(t.Context(), opts) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u)
	}
	return got
}

func uploadKeys(us []s3kit.UploadInfo) []string {
	var keys []string
	for _, u := range us {
		keys = append(keys, u.Key)
	}
	return keys
}

func TestListAndAbortUploads(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		before := time.Now().Add(-time.Minute)
		ids := map[string]string{}
		for _, k := range []string{"a/one", "a/two", "b/three"} {
			ids[k] = startUpload(t, e, k)
		}
		all := listUploads(t, e.bucket, nil)
		if got, want := uploadKeys(all), []string{"a/one", "a/two", "b/three"}; !slices.Equal(got, want) {
			t.Fatalf("ListUploads keys = %q, want %q", got, want)
		}
		for _, u := range all {
			if u.UploadID != ids[u.Key] {
				t.Errorf("%s: UploadID %q, want %q", u.Key, u.UploadID, ids[u.Key])
			}
			if u.Initiated.Before(before) {
				t.Errorf("%s: Initiated %v is not recent", u.Key, u.Initiated)
			}
		}

		t.Run("pages", func(t *testing.T) {
			// A page of one upload makes the listing follow its markers
			// (MinIO ignores the page size and sends all at once).
			e.requireFeature(t, "upload listing pages")
			paged := listUploads(t, e.bucket, &s3kit.ListUploadsOptions{PageSize: 1})
			if !slices.Equal(paged, all) {
				t.Fatalf("paged listing %v, want %v", paged, all)
			}
		})

		// Keys are relative to the handle, which scopes the listing.
		a := e.bucket.Prefix("a")
		if got, want := uploadKeys(listUploads(t, a, nil)), []string{"one", "two"}; !slices.Equal(got, want) {
			t.Fatalf("ListUploads under a/ = %q, want %q", got, want)
		}
		if got, want := uploadKeys(listUploads(t, e.bucket, &s3kit.ListUploadsOptions{Prefix: "b/"})), []string{"b/three"}; !slices.Equal(got, want) {
			t.Fatalf("ListUploads Prefix b/ = %q, want %q", got, want)
		}

		if err := a.AbortUpload(t.Context(), "one", ids["a/one"]); err != nil {
			t.Fatal(err)
		}
		// Aborting again finds it gone, which is not an error.
		if err := a.AbortUpload(t.Context(), "one", ids["a/one"]); err != nil {
			t.Fatalf("second abort: %v", err)
		}
		if got, want := uploadKeys(listUploads(t, e.bucket, nil)), []string{"a/two", "b/three"}; !slices.Equal(got, want) {
			t.Fatalf("after abort: %q, want %q", got, want)
		}
	})
}

func TestUploadsInvalid(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		if err := e.bucket.AbortUpload(t.Context(), "k", ""); !errors.Is(err, s3kit.ErrInvalid) {
			t.Errorf("AbortUpload with no ID: %v, want ErrInvalid", err)
		}
		if err := e.bucket.AbortUpload(t.Context(), "", "id"); !errors.Is(err, s3kit.ErrInvalid) {
			t.Errorf("AbortUpload with no key: %v, want ErrInvalid", err)
		}
		for _, err := range e.bucket.ListUploads(t.Context(), &s3kit.ListUploadsOptions{PageSize: 1001}) {
			if !errors.Is(err, s3kit.ErrInvalid) {
				t.Errorf("ListUploads PageSize 1001: %v, want ErrInvalid", err)
			}
		}
		missing := e.client.Bucket(e.bucket.Name() + "-missing")
		for _, err := range missing.ListUploads(t.Context(), nil) {
			if !errors.Is(err, s3kit.ErrBucketNotExist) {
				t.Errorf("ListUploads of a missing bucket: %v, want ErrBucketNotExist", err)
			}
		}
	})
}

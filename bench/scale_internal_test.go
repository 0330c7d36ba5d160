package bench

import (
	"context"
	"crypto/md5"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestNullServerScale checks the synthetic trees of the sync-at-scale
// cases: ListObjectsV2 and ListObjects (version 1, rclone's) with and
// without the delimiter, across pages, HEAD of their keys, the MD5 ETags
// of uploads under discard/, and the request counts.
func TestNullServerScale(t *testing.T) {
	const n = 2500 // three directories, the last one partial
	ns := NewNullServer(10)
	hs := httptest.NewServer(ns)
	defer hs.Close()
	ep := Endpoint{Server: "null", URL: hs.URL, AccessKey: AccessKey, SecretKey: SecretKey, Region: Region, Unsigned: true}
	api := newS3API(ep, true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prefix := fmt.Sprintf("scale/%d/", n)

	// Version 2, no delimiter: every key, in order, of its size.
	i := 0
	pg := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(BenchBucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(700)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			if aws.ToString(o.Key) != ScaleKey(n, i) || aws.ToInt64(o.Size) != ScaleSize(i) || !aws.ToTime(o.LastModified).Equal(ScaleModTime) {
				t.Fatalf("entry %d: %s (%d bytes, %v), want %s (%d, %v)", i, aws.ToString(o.Key), aws.ToInt64(o.Size), aws.ToTime(o.LastModified), ScaleKey(n, i), ScaleSize(i), ScaleModTime)
			}
			i++
		}
	}
	if i != n {
		t.Fatalf("listed %d keys, want %d", i, n)
	}

	// Version 1 with the delimiter, one entry a page: the directories,
	// each once, by NextMarker.
	var dirs []string
	marker := ""
	for range 10 {
		out, err := api.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(BenchBucket), Prefix: aws.String(prefix), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1), Marker: aws.String(marker)})
		if err != nil {
			t.Fatal(err)
		}
		for _, cp := range out.CommonPrefixes {
			dirs = append(dirs, aws.ToString(cp.Prefix))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = aws.ToString(out.NextMarker)
	}
	if want := []string{prefix + "d0000/", prefix + "d0001/", prefix + "d0002/"}; strings.Join(dirs, " ") != strings.Join(want, " ") {
		t.Errorf("directories %q, want %q", dirs, want)
	}
	// Version 1 of one directory, without a marker in the response body
	// but the last key: rclone's paging.
	out, err := api.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(BenchBucket), Prefix: aws.String(prefix + "d0002/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != n-2000 || aws.ToBool(out.IsTruncated) {
		t.Errorf("d0002/: %d keys (truncated %t), want %d", len(out.Contents), aws.ToBool(out.IsTruncated), n-2000)
	}

	head, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(BenchBucket), Key: aws.String(ScaleKey(n, 16))})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != 16 || aws.ToString(head.ETag) != fmt.Sprintf("%q", scaleETag(16)) {
		t.Errorf("HEAD: %d bytes, ETag %s; want 16, %q", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), scaleETag(16))
	}

	data := []byte("tiny")
	put, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(BenchBucket), Key: aws.String("discard/t/1/a"), Body: bytesReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("\"%x\"", md5.Sum(data)); aws.ToString(put.ETag) != want {
		t.Errorf("PUT under discard/: ETag %s, want %s", aws.ToString(put.ETag), want)
	}

	st, err := NullServerStats(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	if want := (NullStats{List: 4 + 3 + 1, Head: 1, Put: 1}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

// TestWriteScaleTree checks that the local tree is the synthetic one.
func TestWriteScaleTree(t *testing.T) {
	dir := t.TempDir()
	if err := WriteScaleTree(dir, 1001); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 16, 999, 1000} {
		name := filepath.Join(dir, filepath.FromSlash(ScalePath(i)))
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(name)
		if st.Size() != ScaleSize(i) || string(got) != string(ScaleContent(i)) || !st.ModTime().Equal(ScaleModTime) {
			t.Errorf("file %d: %d bytes %q, %v; want %d %q, %v", i, st.Size(), got, st.ModTime(), ScaleSize(i), ScaleContent(i), ScaleModTime)
		}
	}
}

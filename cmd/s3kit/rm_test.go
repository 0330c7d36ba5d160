package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestRm(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		for _, k := range []string{"a.txt", "b.tmp", "logs/1.tmp", "logs/2.txt", "logs/old/3.tmp", "keep/x"} {
			e.put(t, k, k)
		}
		r := e.ok(t, nil, "--json", "rm", "--dry-run", "-r", e.url("logs/"))
		recs, _ := records(t, r.stdout)
		if len(recs) != 3 || !recs[0].DryRun {
			t.Errorf("dry run %+v", recs)
		}
		if len(e.keys(t)) != 6 {
			t.Fatal("--dry-run deleted")
		}

		// --include and --exclude select within what -r lists.
		r = e.ok(t, nil, "--json", "rm", "--dry-run", "-r", "--include", "**.tmp", "--exclude", "old/**", e.url("logs/"))
		if recs, _ := records(t, r.stdout); len(recs) != 1 || recs[0].Source != e.url("logs/1.tmp") {
			t.Errorf("rm --include --exclude would delete %+v", recs)
		}
		e.ok(t, nil, "rm", e.url("a.txt"))
		e.ok(t, nil, "rm", e.url("**.tmp"))
		if got, want := e.keys(t), []string{"keep/x", "logs/2.txt"}; !slices.Equal(got, want) {
			t.Fatalf("after rm of a key and a glob: %q, want %q", got, want)
		}
		r = e.ok(t, nil, "--json", "rm", "-r", e.url("logs"))
		recs, sum := records(t, r.stdout)
		if len(recs) != 1 || recs[0].Source != e.url("logs/2.txt") || sum.OK != 1 {
			t.Errorf("rm -r records %+v %+v", recs, sum)
		}
		if got, want := e.keys(t), []string{"keep/x"}; !slices.Equal(got, want) {
			t.Fatalf("after rm -r: %q, want %q", got, want)
		}
		// A glob matching nothing fails.
		r = e.run(t, nil, "rm", e.url("*.nothing"))
		want(t, r, exitFailed)
		if !strings.Contains(r.stderr, "matches nothing") {
			t.Errorf("stderr %q", r.stderr)
		}
	})
}

// More keys than one DeleteObjects request takes go in batches.
func TestRmBatches(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		const n = 1001
		for i := range n {
			e.put(t, fmt.Sprintf("k/%04d", i), "")
		}
		r := e.ok(t, nil, "--json", "rm", "-r", e.url("k/"))
		_, sum := records(t, r.stdout)
		if sum.OK != n {
			t.Errorf("summary %+v, want %d deleted", sum, n)
		}
		if keys := e.keys(t); len(keys) != 0 {
			t.Errorf("%d keys left", len(keys))
		}
	})
}

// rm --incomplete aborts the unfinished multipart uploads under a prefix,
// and --older-than spares the recent ones.
func TestRmIncomplete(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		for _, k := range []string{"a/1", "a/2", "b/3"} {
			if _, err := e.client.S3().CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(e.bucket.Name()), Key: aws.String(k)}); err != nil {
				t.Fatal(err)
			}
		}
		r := e.ok(t, nil, "--json", "rm", "--incomplete", "--older-than", "1h", e.url("a/"))
		if recs, _ := records(t, r.stdout); len(recs) != 0 || countUploads(t, e.bucket) != 3 {
			t.Fatalf("--older-than 1h aborted recent uploads: %+v", recs)
		}
		r = e.ok(t, nil, "--json", "rm", "--incomplete", "--dry-run", e.url("a/"))
		if recs, _ := records(t, r.stdout); len(recs) != 2 || countUploads(t, e.bucket) != 3 {
			t.Fatalf("--dry-run: %+v", recs)
		}
		r = e.ok(t, nil, "--json", "rm", "--incomplete", e.url("a/"))
		recs, _ := records(t, r.stdout)
		if len(recs) != 2 || recs[0].Operation != "abort" || recs[0].Source != e.url("a/1") {
			t.Errorf("records %+v", recs)
		}
		if n := countUploads(t, e.bucket); n != 1 {
			t.Errorf("%d uploads left, want b/3 only", n)
		}
		e.ok(t, nil, "rm", "--incomplete", e.url(""))
		if n := countUploads(t, e.bucket); n != 0 {
			t.Errorf("%d uploads left", n)
		}
	})
}

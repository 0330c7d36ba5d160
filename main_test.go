package s3kit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3kit/s3kit"
	"github.com/s3kit/s3kit/internal/s3test"
	"go.uber.org/goleak"
)

// servers are the real S3-compatible servers every integration test runs
// against, started once for the package by TestMain.
var servers []*s3test.Server

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "s3kit-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	// Tests must never pick up the developer's own AWS setup: it could point
	// them at a real account.
	s3test.IsolateAWS(tmp)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	started, err := s3test.StartAll(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3kit tests: starting servers:", err)
		return 1
	}
	defer func() {
		for _, s := range started {
			s.Stop()
		}
	}()
	servers = started
	if len(servers) > 0 {
		// The examples configure nothing: they find the first server through
		// the environment, as a program run against it would.
		s := servers[0]
		os.Setenv("AWS_ENDPOINT_URL", s.Endpoint)
		os.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
		os.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
		os.Setenv("AWS_REGION", s.Region)
	}
	code := m.Run()
	for _, s := range started {
		s.Stop()
	}
	started = nil
	if code != 0 {
		return code
	}
	return checkLeaks()
}

// checkLeaks fails the run if goroutines outlive the tests: a Writer's
// abort, a Reader's read-ahead, a stall watchdog or a fan-out left
// running. Connections kept alive by a Client's transport are not leaks;
// goleak retries for a while, so goroutines that are ending get the time
// to end.
func checkLeaks() int {
	err := goleak.Find(
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3kit tests: goroutines left running after the tests:", err)
		return 1
	}
	return 0
}

// env is one server as a test sees it: a client and a fresh bucket that is
// emptied and deleted when the test ends.
type env struct {
	name   string
	srv    *s3test.Server
	client *s3kit.Client
	bucket *s3kit.Bucket
}

// eachServer runs fn as a subtest per server, each with its own bucket.
func eachServer(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	if len(servers) == 0 {
		t.Skip("no servers selected (S3KIT_TEST_SERVERS=none)")
	}
	for _, srv := range servers {
		t.Run(srv.Name, func(t *testing.T) {
			fn(t, newEnv(t, srv))
		})
	}
}

func newClient(t testing.TB, srv *s3test.Server, cfg s3kit.Config) *s3kit.Client {
	t.Helper()
	if cfg.Endpoint == "" {
		cfg.Endpoint = srv.Endpoint
	}
	if cfg.AccessKeyID == "" && !cfg.Anonymous {
		cfg.AccessKeyID, cfg.SecretAccessKey = srv.AccessKey, srv.SecretKey
	}
	if cfg.Region == "" {
		cfg.Region = srv.Region
	}
	c, err := s3kit.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newEnv(t *testing.T, srv *s3test.Server) *env {
	t.Helper()
	e := &env{name: srv.Name, srv: srv, client: newClient(t, srv, s3kit.Config{})}
	e.bucket = newBucket(t, e.client)
	return e
}

var bucketSeq atomic.Int64

var notBucketChar = regexp.MustCompile(`[^a-z0-9-]+`)

// newBucket creates a bucket named after the test and deletes it, with
// everything in it, when the test ends.
func newBucket(t testing.TB, c *s3kit.Client) *s3kit.Bucket {
	t.Helper()
	name := notBucketChar.ReplaceAllString(strings.ToLower(t.Name()), "-")
	name = strings.Trim(name, "-")
	if len(name) > 40 {
		name = strings.Trim(name[:40], "-")
	}
	name = fmt.Sprintf("%s-%d-%d", name, os.Getpid()%10000, bucketSeq.Add(1))
	if err := c.CreateBucket(t.Context(), name, nil); err != nil {
		t.Fatalf("creating bucket: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.DeleteBucket(ctx, name, &s3kit.DeleteBucketOptions{Empty: true}); err != nil {
			t.Errorf("deleting bucket %s: %v", name, err)
		}
	})
	return c.Bucket(name)
}

// lacks lists, per server, the features it is known not to implement; a
// case needing one of them is skipped on that server only, by name. Any
// other failure fails the test.
var lacks = map[string]map[string]string{
	"versitygw": {
		"object ACLs":                "its posix backend answers PutObjectAcl with NotImplemented",
		"403 on a badly signed HEAD": "it answers a HEAD with a wrong signature with a bare 400 Bad Request",
		// Its posix backend maps keys to file paths.
		"key double slash":           "it stores a//b.txt as a/b.txt, so List does not return the key written",
		"key leading slash":          "it stores /leading.txt as leading.txt, so List does not return the key written",
		"key dot dot":                "it refuses a key with a .. segment (400 Bad Request)",
		"copy of a directory marker": "CopyObject of a dir/ marker answers 500 InternalError",
		"upload listing pages":       "ListMultipartUploads refuses the upload-id-marker it sent itself (InvalidArgument)",
		"SSE-S3":                     "it accepts x-amz-server-side-encryption but neither applies nor reports it",
		"SSE-C": "it accepts the x-amz-server-side-encryption-customer-* headers but neither applies nor reports them: " +
			"the ETag is the content's MD5, no key MD5 is echoed, and a GET without the key returns the object",
		"conditional batch delete": "DeleteObjects deletes an object whose ETag is not the one its entry names",
		"clearing metadata by overwrite": "an object replaced by one without user metadata (PUT, multipart upload, " +
			"copy onto another key) keeps the old object's metadata",
		"create-only copy": "CopyObject ignores If-None-Match: * and replaces the destination (CompleteMultipartUpload honours it)",
	},
	"minio": {
		"object ACLs": "MinIO answers PutObjectAcl with NotImplemented for any ACL but private",
		// Its erasure-coded backend maps keys to file paths.
		"key double slash":          "it refuses a key with an empty segment (XMinioInvalidObjectName)",
		"key leading slash":         "it stores /leading.txt as leading.txt, so List does not return the key written",
		"key dot dot":               "it refuses a key with a .. segment (XMinioInvalidResourceName)",
		"conditional delete":        "DeleteObject deletes an object whose ETag is not the If-Match one",
		"website redirect location": "it neither stores nor reports x-amz-website-redirect-location (it has no website endpoint)",
		"Expires kept by copy":      "a CopyObject that keeps the source's metadata drops its Expires header",
		"conditional batch delete":  "DeleteObjects deletes an object whose ETag is not the one its entry names",
		"create-only copy":          "CopyObject ignores If-None-Match: * and replaces the destination (CompleteMultipartUpload honours it)",
	},
	"seaweedfs": {
		// Its filer keeps keys as paths of a file tree.
		"key double slash":           "it stores a//b.txt as a/b.txt, so List does not return the key written",
		"key leading slash":          "it stores /leading.txt as leading.txt, so List does not return the key written",
		"key dot dot":                "it refuses a key with a .. segment (400 InvalidRequest)",
		"copy of a directory marker": "CopyObject of a dir/ marker answers 404 NoSuchKey",
		"order of delimited listings": "a delimited listing returns the common prefix logs/ before logs-archive/, " +
			"though S3 orders keys and prefixes by their bytes ('-' < '/')",
		"SSE-C multipart copy": "a multipart copy with customer keys answers 501 NotImplemented " +
			"(\"A header you provided implies functionality that is not implemented\")",
		"SSE-C key on a plain object": "a HEAD or GET of an unencrypted object with a customer key answers as if " +
			"no key were sent (S3 answers 400)",
		"website redirect location": "it neither stores nor reports x-amz-website-redirect-location",
	},
}

// requireFeature skips t on servers that lack feature.
func (e *env) requireFeature(t *testing.T, feature string) {
	t.Helper()
	if why, ok := lacks[e.name][feature]; ok {
		t.Skipf("%s does not support %s: %s", e.name, feature, why)
	}
}

var errDeadline = context.DeadlineExceeded

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: HTTP %d: %s", resp.StatusCode, body)
	}
	return string(body)
}

func mpuInput(bucket, key string) *s3.CreateMultipartUploadInput {
	return &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}
}

// errOf returns the error of a call that also returns an ObjectInfo, for
// tests that only check the error.
func errOf(_ s3kit.ObjectInfo, err error) error { return err }

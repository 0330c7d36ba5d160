package s3kit_test

import (
	"cmp"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3kit/s3kit"
)

// TestStoreProfileDetected: each test server is recognised from its
// answer to one request, which is not repeated.
func TestStoreProfileDetected(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		var requests atomic.Int64
		c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			requests.Add(1)
			return next(r)
		})
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		p, err := c.StoreProfile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != e.name || p.Server == "" {
			t.Errorf("profile %q from Server %q, want %q", p.Name, p.Server, e.name)
		}
		// Every test server is started keeping connections alive
		// (versitygw with --keep-alive).
		if !p.KeepAlive {
			t.Errorf("KeepAlive false for %s", e.name)
		}
		again, err := c.StoreProfile(ctx)
		if err != nil || again != p {
			t.Errorf("second call: %+v, %v; want %+v", again, err, p)
		}
		if n := requests.Load(); n != 1 {
			t.Errorf("%d requests for two calls, want 1", n)
		}
	})
}

// TestStoreProfileFromAnswer: the probe reads the store from the Server
// header of any answer, an error included, and keep-alive from Connection;
// Amazon S3 is known by its host, without a request; an unreachable store
// gives the generic profile with an error, and is probed again later.
func TestStoreProfileFromAnswer(t *testing.T) {
	for _, tc := range []struct {
		server    string
		status    int
		close     bool
		want      string
		keepAlive bool
	}{
		{"VERSITYGW", http.StatusOK, true, s3kit.StoreVersityGW, false},
		{"MinIO", http.StatusForbidden, false, s3kit.StoreMinIO, true},
		{"SeaweedFS 4.01", http.StatusOK, false, s3kit.StoreSeaweedFS, true},
		{"AmazonS3", http.StatusForbidden, false, s3kit.StoreAmazonS3, true},
		{"Ceph Object Gateway", http.StatusOK, false, s3kit.StoreGeneric, true},
		{"", http.StatusInternalServerError, false, s3kit.StoreGeneric, true},
	} {
		t.Run(tc.want+"/"+tc.server, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || r.URL.Path != "/" {
					t.Errorf("probe sent %s %s, want a ListBuckets", r.Method, r.URL.Path)
				}
				if tc.server != "" {
					w.Header().Set("Server", tc.server)
				}
				if tc.close {
					w.Header().Set("Connection", "close")
				}
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(tc.status)
				if tc.status == http.StatusOK {
					w.Write([]byte(`<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>`))
				} else {
					w.Write([]byte(`<Error><Code>AccessDenied</Code><Message>no</Message></Error>`))
				}
			}))
			defer srv.Close()
			c, err := s3kit.New(t.Context(), s3kit.Config{Endpoint: srv.URL, AccessKeyID: "k", SecretAccessKey: "s", Region: "us-east-1", MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.StoreProfile(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want, _ := s3kit.KnownStoreProfile(tc.want)
			want.Server, want.KeepAlive = tc.server, tc.keepAlive
			if p != want {
				t.Errorf("profile %+v\nwant    %+v", p, want)
			}
		})
	}

	t.Run("amazonaws.com", func(t *testing.T) {
		// No endpoint means Amazon S3, unless the environment names one
		// (TestMain sets AWS_ENDPOINT_URL for the examples).
		t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
		for _, endpoint := range []string{"", "https://s3.eu-west-1.amazonaws.com", "https://bucket.s3.cn-north-1.amazonaws.com.cn"} {
			c, err := s3kit.New(t.Context(), s3kit.Config{Endpoint: endpoint, AccessKeyID: "k", SecretAccessKey: "s", Region: "eu-west-1",
				HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					t.Errorf("probe of Amazon S3 sent %s %s", r.Method, r.URL)
					return nil, errors.New("no request expected")
				})}})
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.StoreProfile(t.Context())
			if want, _ := s3kit.KnownStoreProfile(s3kit.StoreAmazonS3); err != nil || p != want {
				t.Errorf("endpoint %q: %+v, %v; want %+v", endpoint, p, err, want)
			}
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there now
		c, err := s3kit.New(t.Context(), s3kit.Config{Endpoint: "http://" + addr, AccessKeyID: "k", SecretAccessKey: "s", MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		p, err := c.StoreProfile(ctx)
		generic, _ := s3kit.KnownStoreProfile(s3kit.StoreGeneric)
		if err == nil || p != generic {
			t.Fatalf("unreachable store: %+v, %v; want the generic profile and an error", p, err)
		}
		// Now something answers: the next call probes again.
		l2, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("port %s taken meanwhile: %v", addr, err)
		}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Server", "MinIO")
			w.WriteHeader(http.StatusForbidden)
		}))
		srv.Listener.Close()
		srv.Listener = l2
		srv.Start()
		defer srv.Close()
		if p, err := c.StoreProfile(ctx); err != nil || p.Name != s3kit.StoreMinIO {
			t.Errorf("after the store came up: %+v, %v; want minio", p, err)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestStoreProfileMatchesStore establishes each test server's profile:
// every claim of the profile its Server header selects is checked against
// what the store does. A profile that promises more than the store does,
// or less, fails here.
func TestStoreProfileMatchesStore(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		p, err := e.client.StoreProfile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b, cl, name := e.bucket, e.client.S3(), aws.String(e.bucket.Name())
		claim := func(field string, profile, store bool, what string) {
			t.Helper()
			if profile != store {
				t.Errorf("%s: profile says %s %v, but the store %s", e.name, field, profile, what)
			}
		}
		stale := func(key string) string {
			t.Helper()
			old, err := b.PutString(ctx, key, "v1", nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.PutString(ctx, key, "v2", nil); err != nil {
				t.Fatal(err)
			}
			return old.ETag
		}
		exists := func(key string) bool {
			t.Helper()
			_, err := b.Head(ctx, key, nil)
			if err != nil && !errors.Is(err, s3kit.ErrNotExist) {
				t.Fatal(err)
			}
			return err == nil
		}

		// Checksum: an upload carrying it is accepted and the store reports
		// the same value back.
		if p.Checksum != s3kit.ChecksumNone {
			c := newClient(t, e.srv, s3kit.Config{Checksum: p.Checksum})
			if _, err := c.Bucket(b.Name()).PutString(ctx, "checksum", "payload", nil); err != nil {
				t.Errorf("profile checksum %s: upload refused: %v", p.Checksum, err)
			} else if h, err := b.Head(ctx, "checksum", nil); err != nil || h.Checksums[p.Checksum] == "" {
				t.Errorf("profile checksum %s: the store reports %v, %v", p.Checksum, h.Checksums, err)
			}
		}

		stale("cond-write")
		_, err = b.PutString(ctx, "cond-write", "v3", &s3kit.PutOptions{IfNoneMatch: "*"})
		claim("ConditionalWrites", p.ConditionalWrites, errors.Is(err, s3kit.ErrPreconditionFailed), "answered a create-only PUT of an existing key with: "+errString(err))

		etag := stale("cond-delete")
		_, err = cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: name, Key: aws.String("cond-delete"), IfMatch: aws.String(etag)})
		claim("ConditionalDelete", p.ConditionalDelete, err != nil && exists("cond-delete"), "answered a DeleteObject with a stale If-Match with: "+errString(err))

		etag = stale("cond-batch")
		out, err := cl.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: name, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
			{Key: aws.String("cond-batch"), ETag: aws.String(etag)}}}})
		if err != nil {
			t.Fatal(err)
		}
		claim("ConditionalBatchDelete", p.ConditionalBatchDelete, len(out.Errors) == 1 && exists("cond-batch"), "kept the changed object: "+boolString(exists("cond-batch")))

		_, err = cl.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: name, Key: aws.String("cond-write"), ACL: types.ObjectCannedACLPublicRead})
		claim("ObjectACLs", p.ObjectACLs, err == nil, "answered PutObjectAcl public-read with: "+errString(err))

		err = b.SetTags(ctx, "cond-write", map[string]string{"k": "v"})
		tags, terr := b.GetTags(ctx, "cond-write")
		claim("Tagging", p.Tagging, err == nil && terr == nil && tags["k"] == "v", "answered SetTags/GetTags with: "+errString(errors.Join(err, terr)))

		verbatim := true
		for _, key := range []string{"a//b", "/leading", "c/../d"} {
			if _, err := b.PutString(ctx, key, "x", nil); err != nil {
				verbatim = false
				continue
			}
			if _, err := b.Head(ctx, key, nil); err != nil {
				verbatim = false
			}
		}
		all := keysOf(t, b, nil)
		verbatim = verbatim && slices.Contains(all, "a//b") && slices.Contains(all, "/leading") && slices.Contains(all, "c/../d")
		claim("KeysVerbatim", p.KeysVerbatim, verbatim, "listed "+strings.Join(all, ", "))

		// The longest key, in segments of 200 bytes; and the longest
		// segment, which one byte more makes too long.
		long := strings.Repeat(strings.Repeat("s", 199)+"/", 5) + strings.Repeat("s", p.MaxKeyLength-1000)
		if _, err := b.PutString(ctx, long, "x", nil); err != nil {
			t.Errorf("%s: a key of MaxKeyLength (%d) bytes: %v", e.name, len(long), err)
		}
		segment := cmp.Or(p.MaxKeySegment, p.MaxKeyLength-4)
		if _, err := b.PutString(ctx, "seg/"+strings.Repeat("k", segment), "x", nil); err != nil {
			t.Errorf("%s: a key segment of %d bytes: %v", e.name, segment, err)
		}
		if p.MaxKeySegment != 0 {
			_, err = b.PutString(ctx, "seg/"+strings.Repeat("k", segment+1), "x", nil)
			if err == nil {
				t.Errorf("%s: profile says MaxKeySegment %d, but the store took a segment one byte longer", e.name, segment)
			}
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "success"
	}
	return err.Error()
}

func boolString(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// TestCheckUnchanged: on a store that ignores If-Match on DeleteObject, a
// pinned delete checks the ETag first and refuses a changed object; on one
// that honours it the check sends nothing.
func TestCheckUnchanged(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		p, err := e.client.StoreProfile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		old, err := e.bucket.PutString(ctx, "k", "v1", nil)
		if err != nil {
			t.Fatal(err)
		}
		cur, err := e.bucket.PutString(ctx, "k", "v2", nil)
		if err != nil {
			t.Fatal(err)
		}
		err = s3kit.CheckUnchanged(ctx, e.bucket, "k", old.ETag)
		if p.ConditionalDelete {
			if err != nil {
				t.Errorf("store honours the condition, yet the check answered %v", err)
			}
			return
		}
		if !errors.Is(err, s3kit.ErrPreconditionFailed) {
			t.Errorf("stale ETag: %v, want ErrPreconditionFailed", err)
		}
		if err := s3kit.CheckUnchanged(ctx, e.bucket, "k", cur.ETag); err != nil {
			t.Errorf("current ETag: %v", err)
		}
		if err := s3kit.CheckUnchanged(ctx, e.bucket, "gone", cur.ETag); err != nil {
			t.Errorf("missing object: %v, want nil (nothing to delete)", err)
		}
	})
}

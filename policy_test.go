package s3kit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3kit/s3kit"
)

// anonStatus returns the status of a plain, unsigned GET of url.
func anonStatus(t *testing.T, ctx context.Context, url string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// policySids returns the Sids of the bucket policy's statements, nil if
// the bucket has no policy.
func policySids(t *testing.T, ctx context.Context, e *env) []string {
	t.Helper()
	out, err := sdkClient(e).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(e.bucket.Name())})
	if err != nil {
		if strings.Contains(err.Error(), "NoSuchBucketPolicy") {
			return nil
		}
		t.Fatal(err)
	}
	var doc struct{ Statement []struct{ Sid string } }
	if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
		t.Fatalf("policy %s: %v", aws.ToString(out.Policy), err)
	}
	sids := []string{}
	for _, s := range doc.Statement {
		sids = append(sids, s.Sid)
	}
	return sids
}

// TestSetPublicRead makes a prefix public through the bucket policy and
// private again, checked by anonymous GETs, with a statement of someone
// else's in the policy that must survive both changes.
func TestSetPublicRead(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		e.requireFeature(t, "bucket policies")
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		b := e.bucket
		for _, k := range []string{"www/a.txt", "www/sub/b.txt", "wwwx.txt", "private/c.txt", "other/d.txt", "top.txt"} {
			if _, err := b.PutString(ctx, k, k, nil); err != nil {
				t.Fatal(err)
			}
		}
		status := func(key string) int { return anonStatus(t, ctx, b.URL(key)) }
		expect := func(when string, want map[string]int) {
			t.Helper()
			for key, code := range want {
				if got := status(key); got != code {
					t.Errorf("%s: anonymous GET %s: HTTP %d, want %d", when, key, got, code)
				}
			}
		}
		expect("before", map[string]int{"www/a.txt": 403, "other/d.txt": 403})

		// Someone else's statement, which s3kit must leave alone.
		other := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Other","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/other/*"}]}`, b.Name())
		if _, err := sdkClient(e).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b.Name()), Policy: aws.String(other)}); err != nil {
			t.Fatal(err)
		}
		expect("with the other statement", map[string]int{"www/a.txt": 403, "other/d.txt": 200})

		www := b.Prefix("www")
		for range 2 { // twice: one statement all the same
			if err := www.SetPublicRead(ctx, true); err != nil {
				t.Fatal(err)
			}
		}
		expect("public", map[string]int{"www/a.txt": 200, "www/sub/b.txt": 200, "wwwx.txt": 403, "private/c.txt": 403, "other/d.txt": 200})
		if sids := policySids(t, ctx, e); len(sids) != 2 || sids[0] != "Other" || !strings.HasPrefix(sids[1], "S3kitPublicRead") {
			t.Errorf("policy statements %q, want Other and one of s3kit's", sids)
		}
		if pub, err := www.PublicRead(ctx); err != nil || !pub {
			t.Errorf("PublicRead = %v, %v; want true", pub, err)
		}
		if pub, err := b.Prefix("private").PublicRead(ctx); err != nil || pub {
			t.Errorf("PublicRead of another prefix = %v, %v; want false", pub, err)
		}

		if err := www.SetPublicRead(ctx, false); err != nil {
			t.Fatal(err)
		}
		expect("private again", map[string]int{"www/a.txt": 403, "www/sub/b.txt": 403, "other/d.txt": 200})
		if sids := policySids(t, ctx, e); len(sids) != 1 || sids[0] != "Other" {
			t.Errorf("policy statements %q, want only Other", sids)
		}
		if pub, err := www.PublicRead(ctx); err != nil || pub {
			t.Errorf("PublicRead = %v, %v; want false", pub, err)
		}

		// The whole bucket, and the policy deleted once s3kit's statement
		// was its last.
		if _, err := sdkClient(e).DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(b.Name())}); err != nil {
			t.Fatal(err)
		}
		if err := b.SetPublicRead(ctx, true); err != nil {
			t.Fatal(err)
		}
		expect("bucket public", map[string]int{"top.txt": 200, "private/c.txt": 200})
		if err := b.SetPublicRead(ctx, false); err != nil {
			t.Fatal(err)
		}
		expect("bucket private", map[string]int{"top.txt": 403, "private/c.txt": 403})
		if sids := policySids(t, ctx, e); sids != nil {
			t.Errorf("policy statements %q left, want the policy deleted", sids)
		}
		// Making private what is not public changes nothing.
		if err := www.SetPublicRead(ctx, false); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSetPublicReadRefused checks that a prefix a policy would read as a
// pattern is refused before any request.
func TestSetPublicReadRefused(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		var sent atomic.Int64
		c := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
			sent.Add(1)
			return next(r)
		})
		b := c.Bucket(e.bucket.Name())
		for _, p := range []string{"a*", "a?b", "x/${aws:username}"} {
			if err := b.Prefix(p).SetPublicRead(t.Context(), true); !errors.Is(err, s3kit.ErrInvalid) {
				t.Errorf("SetPublicRead under %q: %v, want ErrInvalid", p, err)
			}
			if _, err := b.Prefix(p).PublicRead(t.Context()); !errors.Is(err, s3kit.ErrInvalid) {
				t.Errorf("PublicRead under %q: %v, want ErrInvalid", p, err)
			}
		}
		if n := sent.Load(); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})
}

// TestPublicWithoutACLs checks what MakePublic and the URL opener's acl
// parameter do on a store without object ACLs: they fail, saying so and
// naming SetPublicRead, instead of leaving the object private in silence.
func TestPublicWithoutACLs(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		b := e.bucket
		if _, err := b.PutString(ctx, "a.txt", "a", nil); err != nil {
			t.Fatal(err)
		}
		_, noACLs := lacks[e.name]["object ACLs"]
		err := b.MakePublic(ctx, "a.txt")
		if !noACLs {
			if err != nil || anonStatus(t, ctx, b.URL("a.txt")) != 200 {
				t.Fatalf("MakePublic: %v; want the object public", err)
			}
			return
		}
		if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "SetPublicRead") {
			t.Errorf("MakePublic without object ACLs: %v, want errors.ErrUnsupported naming SetPublicRead", err)
		}
		if got := anonStatus(t, ctx, b.URL("a.txt")); got != 403 {
			t.Errorf("anonymous GET after MakePublic: HTTP %d, want 403", got)
		}

		// A store without ACLs takes x-amz-acl on a write and ignores it;
		// the URL opener asks first.
		useURLEnv(t, e)
		for _, open := range []func(string) error{
			func(u string) error { _, err := s3kit.OpenBucket(ctx, u); return err },
			func(u string) error { _, err := s3kit.OpenFS(ctx, u); return err },
			func(u string) error { _, err := s3kit.Create(ctx, u); return err },
		} {
			err := open(s3URL(b.Name(), "www/x.txt", e.srv.Endpoint, "acl=public-read", "check_bucket=false"))
			if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "acl=public-read") || !strings.Contains(err.Error(), "SetPublicRead") {
				t.Errorf("open with acl=public-read: %v, want errors.ErrUnsupported naming the parameter and SetPublicRead", err)
			}
			if err := open(s3URL(b.Name(), "www/x.txt", e.srv.Endpoint, "acl=private")); err != nil {
				t.Errorf("open with acl=private: %v", err)
			}
		}
		// Reading needs no ACL: Open ignores the parameter.
		r, err := s3kit.Open(ctx, s3URL(b.Name(), "a.txt", e.srv.Endpoint, "acl=public-read"))
		if err != nil {
			t.Fatalf("Open with acl=public-read: %v", err)
		}
		r.Close()
	})
}

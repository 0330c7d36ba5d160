package s3kit

import (
	"errors"
	"io/fs"
	"maps"
	"reflect"
	"strings"
	"testing"
)

func TestParseS3URL(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantKey bool
		want    s3URL
	}{
		{"bucket only", "s3://photos", false, s3URL{bucket: "photos", checkBucket: true}},
		{"bucket slash", "s3://photos/", false, s3URL{bucket: "photos", checkBucket: true}},
		{"scheme case", "S3://photos/a", true, s3URL{bucket: "photos", path: "a", checkBucket: true}},
		{"prefix", "s3://photos/2025/06/", false, s3URL{bucket: "photos", path: "2025/06/", checkBucket: true}},
		{"percent space", "s3://b-1/a%20b.txt", true, s3URL{bucket: "b-1", path: "a b.txt", checkBucket: true}},
		{"literal space", "s3://b-1/a b.txt", true, s3URL{bucket: "b-1", path: "a b.txt", checkBucket: true}},
		{"plus stays plus", "s3://b-1/a+b.txt", true, s3URL{bucket: "b-1", path: "a+b.txt", checkBucket: true}},
		{"encoded plus", "s3://b-1/a%2Bb.txt", true, s3URL{bucket: "b-1", path: "a+b.txt", checkBucket: true}},
		{"encoded slash", "s3://b-1/a%2Fb.txt", true, s3URL{bucket: "b-1", path: "a/b.txt", checkBucket: true}},
		{"encoded percent ? #", "s3://b-1/100%25%3F%23.txt", true, s3URL{bucket: "b-1", path: "100%?#.txt", checkBucket: true}},
		{"unicode", "s3://b-1/%C3%BCber/日本.txt", true, s3URL{bucket: "b-1", path: "über/日本.txt", checkBucket: true}},
		{"at sign in key", "s3://b-1/user@example.com", true, s3URL{bucket: "b-1", path: "user@example.com", checkBucket: true}},
		{"empty query", "s3://b-1/k?", true, s3URL{bucket: "b-1", path: "k", checkBucket: true}},
		{"connection", "s3://b-1/k?region=eu-west-1&endpoint=http://127.0.0.1:9000/&path_style=true&profile=dev&checksum=crc32c&check_bucket=0", true,
			s3URL{bucket: "b-1", path: "k", conn: connSettings{region: "eu-west-1", endpoint: "http://127.0.0.1:9000", pathStyle: true, profile: "dev", checksum: ChecksumCRC32C}}},
		{"checksum none", "s3://b-1?checksum=NONE", false, s3URL{bucket: "b-1", conn: connSettings{checksum: ChecksumNone}, checkBucket: true}},
		{"write options", "s3://b-1/k?acl=private&cache_control=max-age%3D60&content_type=text/plain;+charset=utf-8&storage_class=STANDARD_IA" +
			"&content_disposition=attachment&content_encoding=gzip&content_language=de&sse=aws:kms&sse_kms_key_id=arn%3Akey%2F1", true,
			s3URL{bucket: "b-1", path: "k", checkBucket: true, hasPut: true, put: PutOptions{
				ACL: "private", CacheControl: "max-age=60", ContentType: "text/plain; charset=utf-8", StorageClass: "STANDARD_IA",
				ContentDisposition: "attachment", ContentEncoding: "gzip", ContentLanguage: "de", SSE: SSEKMS, SSEKMSKeyID: "arn:key/1",
			}}},
		{"empty pairs skipped", "s3://b-1?&&sse=AES256&", false, s3URL{bucket: "b-1", checkBucket: true, hasPut: true, put: PutOptions{SSE: SSES3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseS3URL(tt.raw, tt.wantKey)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseS3URL(%q)\n got %+v\nwant %+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseS3URLInvalid(t *testing.T) {
	const secret = "hunter2xyzzy"
	tests := []struct {
		name, raw string
		wantKey   bool
		want      string // in the message
	}{
		{"not a URL", "photos/a.txt", false, "not an s3:// URL"},
		{"other scheme", "https://photos/a.txt", false, `scheme "https" is not s3`},
		{"gs scheme", "gs://photos/a.txt", false, `scheme "gs"`},
		{"no bucket", "s3:///a.txt", false, "no bucket"},
		{"empty", "s3://", false, "no bucket"},
		{"bad bucket", "s3://My_Bucket/a", false, "lowercase"},
		{"short bucket", "s3://ab/a", false, "3 to 63"},
		{"host port", "s3://localhost:9000/b/k", false, "endpoint parameter"},
		{"fragment", "s3://b-1/a#b", true, "fragment"},
		{"fragment in query", "s3://b-1/a?region=x#y", true, "fragment"},
		{"bad escape", "s3://b-1/100%.txt", true, "%25"},
		{"no key", "s3://b-1", true, "no object key"},
		{"no key slash", "s3://b-1/", true, "no object key"},
		{"key not UTF-8", "s3://b-1/%FF", true, "UTF-8"},
		{"prefix not UTF-8", "s3://b-1/%FF/", false, "UTF-8"},
		{"key too long", "s3://b-1/" + strings.Repeat("k", MaxKeyLength+1), true, "1024"},
		{"prefix too long", "s3://b-1/" + strings.Repeat("k", MaxKeyLength), false, "1024"},
		{"unknown parameter", "s3://b-1?colour=red", false, `unknown URL parameter "colour"`},
		{"parameter case", "s3://b-1?Region=x", false, `"Region"`},
		{"repeated", "s3://b-1?region=a&region=b", false, "region is given twice"},
		{"empty value", "s3://b-1?region=", false, "region is empty"},
		{"no value", "s3://b-1?check_bucket", false, "check_bucket is empty"},
		{"bad value escape", "s3://b-1?content_type=%zz", false, "content_type"},
		{"path_style", "s3://b-1?path_style=maybe", false, "path_style"},
		{"check_bucket", "s3://b-1?check_bucket=no", false, "check_bucket"},
		{"region", "s3://b-1?region=eu+west", false, "region"},
		{"endpoint scheme", "s3://b-1?endpoint=ftp://127.0.0.1", false, "endpoint"},
		{"endpoint not URL", "s3://b-1?endpoint=127.0.0.1:9000", false, "endpoint"},
		{"endpoint no host", "s3://b-1?endpoint=http://", false, "endpoint"},
		{"checksum", "s3://b-1?checksum=md5", false, "checksum"},
		{"acl", "s3://b-1?acl=public", false, "acl"},
		{"storage class", "s3://b-1?storage_class=cold+storage", false, "storage_class"},
		{"sse", "s3://b-1?sse=rot13", false, "sse"},
		{"kms key without kms", "s3://b-1?sse_kms_key_id=k", false, "sse_kms_key_id"},
		{"kms key with sse-s3", "s3://b-1?sse=AES256&sse_kms_key_id=k", false, "sse_kms_key_id"},
		{"header injection", "s3://b-1?cache_control=a%0D%0AX-Evil:+1", false, "cache_control"},
		{"profile control", "s3://b-1?profile=a%0Ab", false, "profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseS3URL(tt.raw, tt.wantKey)
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, fs.ErrInvalid) {
				t.Fatalf("parseS3URL(%q) = %v, want ErrInvalid", tt.raw, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("message %q does not say %q", err, tt.want)
			}
		})
	}

	// Credentials: refused, pointed to the environment, never quoted.
	for _, tt := range []struct {
		raw    string
		advise bool // the message names AWS_ACCESS_KEY_ID
	}{
		{"s3://AKIAEXAMPLE:" + secret + "@photos/a.txt", true},
		{"s3://AKIAEXAMPLE:hunter2/xyzzy@photos/a.txt", true}, // "/" in the secret
		{"s3://" + secret + "@photos/a.txt", true},
		{"S3://:" + secret + "@photos", true},
		{"s3://photos/a.txt?endpoint=http://AKIAEXAMPLE:" + secret + "@127.0.0.1:9000", true},
		{"s3://photos/a.txt?endpoint=http%3A%2F%2FAKIAEXAMPLE%3A" + secret + "%40127.0.0.1%3A9000", true},
		{"s3://photos/a.txt?endpoint=http://AKIAEXAMPLE:hunter2/xyzzy@127.0.0.1:9000", true},
		{"s3://photos/a.txt?aws_secret_access_key=" + secret, true},
		{"s3://photos/a.txt?access_key=AKIAEXAMPLE&secret_key=" + secret, true},
		{"s3://photos/a.txt?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=" + secret, true},
		{"https://AKIAEXAMPLE:" + secret + "@photos/a.txt", false},
		{"AKIAEXAMPLE:" + secret + "@photos/a.txt", false},
	} {
		_, err := parseS3URL(tt.raw, false)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("parseS3URL(%q) = %v, want ErrInvalid", tt.raw, err)
			continue
		}
		for _, s := range []string{secret, "hunter2", "xyzzy"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("parseS3URL(%q): message %q contains the secret", tt.raw, err)
			}
		}
		if tt.advise && !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
			t.Errorf("parseS3URL(%q): message %q does not point to AWS_ACCESS_KEY_ID", tt.raw, err)
		}
	}
}

func TestPutDefaultsMerge(t *testing.T) {
	c := &Client{}
	defaults := &PutOptions{
		ContentType: "text/x-foo", CacheControl: "max-age=60", ACL: "private", StorageClass: "STANDARD_IA",
		SSE: SSEKMS, SSEKMSKeyID: "default-key",
		Metadata: map[string]string{"Owner": "team-a", "env": "prod"},
		Tags:     map[string]string{"project": "x", "tier": "1"},
	}
	b := c.Bucket("b-1").WithPutDefaults(defaults)
	defaults.ContentType = "changed" // the handle keeps a copy
	defaults.Metadata["env"] = "changed"

	if got := b.putOptions(nil); got.ContentType != "text/x-foo" || got.Metadata["env"] != "prod" || got.SSEKMSKeyID != "default-key" {
		t.Errorf("nil options: %+v", got)
	}
	own := &PutOptions{
		ContentType: "application/json", SSE: SSES3,
		Metadata: map[string]string{"owner": "me"}, Tags: map[string]string{"tier": "2"}, IfNoneMatch: "*",
	}
	ownCopy := *own
	ownCopy.Metadata, ownCopy.Tags = maps.Clone(own.Metadata), maps.Clone(own.Tags)
	got := b.putOptions(own)
	want := &PutOptions{
		ContentType: "application/json", CacheControl: "max-age=60", ACL: "private", StorageClass: "STANDARD_IA",
		SSE:         SSES3, // the defaults' KMS key goes with the defaults' SSE only
		Metadata:    map[string]string{"owner": "me", "env": "prod"},
		Tags:        map[string]string{"project": "x", "tier": "2"},
		IfNoneMatch: "*",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged\n got %+v\nwant %+v", got, want)
	}
	if err := got.validate(); err != nil {
		t.Errorf("merged options invalid: %v", err)
	}
	if !reflect.DeepEqual(*own, ownCopy) {
		t.Errorf("the caller's options were modified: %+v", own)
	}
	if again := b.putOptions(got); !reflect.DeepEqual(again, got) {
		t.Errorf("applying twice: %+v, want %+v", again, got)
	}
	if got := b.putOptions(&PutOptions{SSEKMSKeyID: "own-key"}); got.SSE != SSEKMS || got.SSEKMSKeyID != "own-key" {
		t.Errorf("own KMS key: SSE %q key %q", got.SSE, got.SSEKMSKeyID)
	}

	co := b.copyOptions(&CopyOptions{StorageClass: "GLACIER"})
	if co.ACL != "private" || co.StorageClass != "GLACIER" || co.SSE != SSEKMS || co.SSEKMSKeyID != "default-key" || co.ContentType != "" || co.Metadata != nil {
		t.Errorf("copy options: %+v", co)
	}
	if err := co.validate(); err != nil {
		t.Errorf("copy options invalid: %v", err)
	}

	if p := b.Prefix("x"); p.putDefaults == nil || p.err != nil {
		t.Errorf("Prefix dropped the defaults")
	}
	if nb := b.WithPutDefaults(nil); nb.putDefaults != nil || nb.putOptions(nil) != nil {
		t.Errorf("WithPutDefaults(nil) kept defaults")
	}
	for _, bad := range []*PutOptions{{IfMatch: `"etag"`}, {IfNoneMatch: "*"}, {ACL: "public"}, {Tags: map[string]string{"": "v"}}} {
		if err := c.Bucket("b-1").WithPutDefaults(bad).err; !errors.Is(err, ErrInvalid) {
			t.Errorf("WithPutDefaults(%+v): err %v, want ErrInvalid", bad, err)
		}
	}
}

package s3kit

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// URLOpenerClients returns how many Clients o keeps; nil means the opener
// of OpenBucket, Open, Create and OpenFS. For the tests of package
// s3kit_test.
func URLOpenerClients(o *URLOpener) int {
	if o == nil {
		o = defaultOpener
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.clients)
}

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
		{"checksum crc32", "s3://b-1?checksum=crc32", false, s3URL{bucket: "b-1", conn: connSettings{checksum: ChecksumCRC32}, checkBucket: true}},
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
			got.params = nil // checked by TestParseS3URLParams
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
		{"region upper case", "s3://b-1?region=A1", false, "region"},
		{"region too long", "s3://b-1?region=" + strings.Repeat("a", 64), false, "1 to 63"},
		{"endpoint scheme", "s3://b-1?endpoint=ftp://127.0.0.1", false, "endpoint"},
		{"endpoint not URL", "s3://b-1?endpoint=127.0.0.1:9000", false, "endpoint"},
		{"endpoint no host", "s3://b-1?endpoint=http://", false, "endpoint"},
		{"checksum", "s3://b-1?checksum=md5", false, "checksum"},
		{"checksum crc-32", "s3://b-1?checksum=crc-32", false, "checksum"},
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

func TestParseS3URLParams(t *testing.T) {
	u, err := parseS3URL("s3://b-1?check_bucket=false&&region=us-east-1&endpoint=HTTP://Example.COM:80/&acl=private", false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"check_bucket", "region", "endpoint", "acl"}; !slices.Equal(u.params, want) {
		t.Errorf("params %q, want %q", u.params, want)
	}
	if u.conn.endpoint != "http://example.com" {
		t.Errorf("endpoint %q, want it normalised to http://example.com", u.conn.endpoint)
	}
}

func TestValidRegion(t *testing.T) {
	for _, r := range []string{
		"us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "us-isob-east-1", "eusc-de-east-1", // AWS
		"auto", "garage", "fr-par", "nyc3", "us-west-004", "ru-central1", "us-ashburn-1", "fsn1", "a", // others
		strings.Repeat("r", 63),
	} {
		var got string
		if err := validRegion(&got, r); err != nil || got != r {
			t.Errorf("validRegion(%q) = %q, %v", r, got, err)
		}
	}
	for _, r := range []string{
		"", "US-EAST-1", "My_Region", "us_east_1", "1region", "-us", "us-", "eu.west", "eu west", "ü", "a/b",
		strings.Repeat("r", 64),
	} {
		var got string
		if err := validRegion(&got, r); !errors.Is(err, ErrInvalid) || got != "" {
			t.Errorf("validRegion(%q) = %q, %v; want ErrInvalid", r, got, err)
		}
	}
}

// TestURLOpenerEndpoints checks how AllowEndpoints matches the endpoint
// parameter: scheme, host, port and path, case and default ports aside.
func TestURLOpenerEndpoints(t *testing.T) {
	allow := []string{"http://127.0.0.1:9000", "https://S3.Example.com/", "http://[::1]:7070", "https://store.example/s3"}
	for _, tt := range []struct {
		endpoint string
		ok       bool
	}{
		{"http://127.0.0.1:9000", true},
		{"http://127.0.0.1:9000/", true},
		{"HTTP://127.0.0.1:9000", true},
		{"https://s3.example.com", true},
		{"https://s3.example.com:443", true},
		{"https://S3.EXAMPLE.COM/", true},
		{"http://[::1]:7070", true},
		{"https://store.example/s3/", true},
		{"https://127.0.0.1:9000", false}, // scheme
		{"http://127.0.0.1:9001", false},  // port
		{"http://127.0.0.1", false},       // default port
		{"http://localhost:9000", false},  // a name is not its address
		{"http://s3.example.com", false},  // scheme
		{"https://s3.example.com:8443", false},
		{"https://s3.example.com.evil.example", false},
		{"https://store.example", false},      // path
		{"https://store.example/s3/x", false}, // path
		{"https://store.example/S3", false},   // paths are case-sensitive
		{"http://10.0.0.5:8080", false},
	} {
		o := &URLOpener{AllowEndpoints: allow}
		u, err := parseS3URL("s3://b-1?endpoint="+tt.endpoint, false)
		if err != nil {
			t.Fatalf("%s: %v", tt.endpoint, err)
		}
		err = o.allow(&u)
		if tt.ok && err != nil || !tt.ok && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "URL parameter endpoint")) {
			t.Errorf("endpoint %s: %v, want allowed %v", tt.endpoint, err, tt.ok)
		}
	}
}

// TestURLOpenerRulesInvalid checks that a misconfigured opener refuses
// every URL with ErrInvalid naming the field at fault.
func TestURLOpenerRulesInvalid(t *testing.T) {
	for _, tt := range []struct {
		o    *URLOpener
		want string
	}{
		{&URLOpener{MaxClients: -1}, "MaxClients"},
		{&URLOpener{AllowParams: []string{"endpoint"}}, "AllowEndpoints"},
		{&URLOpener{AllowParams: []string{"profile"}}, "AllowProfiles"},
		{&URLOpener{AllowParams: []string{"colour"}}, `AllowParams lists "colour"`},
		{&URLOpener{AllowEndpoints: []string{"ftp://127.0.0.1"}}, "AllowEndpoints"},
		{&URLOpener{AllowEndpoints: []string{"127.0.0.1:9000"}}, "AllowEndpoints"},
	} {
		_, err := tt.o.OpenBucket(t.Context(), "s3://b-1?check_bucket=false")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want ErrInvalid naming %s", tt.o, err, tt.want)
		}
		if n := URLOpenerClients(tt.o); n != 0 {
			t.Errorf("%+v: made %d Clients", tt.o, n)
		}
	}
}

// TestURLOpenerLRU opens URLs with 100 regions through an opener and
// through the package's functions, which send nothing with
// check_bucket=false: each keeps at most its MaxClients, the most recently
// used ones.
func TestURLOpenerLRU(t *testing.T) {
	ctx := t.Context()
	const endpoint = "http://127.0.0.1:1" // nothing may be sent there
	o := &URLOpener{Config: Config{Endpoint: endpoint}, MaxClients: 4}
	open := func(o *URLOpener, region string) *Client {
		t.Helper()
		b, err := o.OpenBucket(ctx, "s3://b-1?check_bucket=false&region="+region)
		if err != nil {
			t.Fatal(err)
		}
		return b.Client()
	}
	kept := open(o, "kept")
	for i := range 100 {
		open(o, fmt.Sprintf("r%d", i))
		if n := URLOpenerClients(o); n > 4 {
			t.Fatalf("after %d regions the opener keeps %d Clients, want at most 4", i+1, n)
		}
		if i%2 == 0 && open(o, "kept") != kept { // used often enough to stay
			t.Fatalf("after %d regions the most recently used Client was dropped", i+1)
		}
	}
	if c := open(o, "r0"); c.Region() != "r0" {
		t.Errorf("a dropped region made again: Region() %q", c.Region())
	}

	for i := range 100 {
		if _, err := OpenBucket(ctx, fmt.Sprintf("s3://b-1?check_bucket=false&endpoint=%s&region=lru-%d", endpoint, i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := URLOpenerClients(nil); n > DefaultMaxURLClients {
		t.Errorf("after 100 regions OpenBucket keeps %d Clients, want at most %d", n, DefaultMaxURLClients)
	}
}

// TestURLOpenerConcurrent opens URLs from many goroutines, with few Clients
// kept (run with -race): each gets a working Client for its settings, and
// goroutines with the same settings share one while it is kept.
func TestURLOpenerConcurrent(t *testing.T) {
	ctx := t.Context()
	o := &URLOpener{Config: Config{Endpoint: "http://127.0.0.1:1"}, MaxClients: 3}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			region := fmt.Sprintf("c%d", g%8)
			b, err := o.OpenBucket(ctx, "s3://b-1?check_bucket=false&region="+region)
			if err == nil && b.Client().Region() != region {
				err = fmt.Errorf("region %s got a Client for %s", region, b.Client().Region())
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := URLOpenerClients(o); n > 3 {
		t.Errorf("%d Clients kept, want at most 3", n)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := o.OpenBucket(ctx, "s3://b-1?check_bucket=false"); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("OpenBucket after Close: %v, want fs.ErrClosed", err)
	}
	if n := URLOpenerClients(o); n != 0 {
		t.Errorf("%d Clients kept after Close", n)
	}
}

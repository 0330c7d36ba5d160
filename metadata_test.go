package s3kit_test

import (
	"strings"
	"testing"

	"github.com/s3kit/s3kit"
)

// TestUnicodeMetadataCopies: a metadata value that is not US-ASCII, read
// back decoded, is sent encoded again by what writes metadata it read: a
// multipart copy that keeps the source's metadata, and one that replaces
// it, and SetMetadata. Every x-amz-meta-* header s3kit sends is printable
// US-ASCII (S3 signs and takes nothing else), which a proxy checks: the
// servers here would also take raw UTF-8.
func TestUnicodeMetadataCopies(t *testing.T) {
	const value = "Zürich ⛰"
	eachServer(t, func(t *testing.T, e *env) {
		c, p := proxied(t, e, s3kit.Config{})
		ctx, b := t.Context(), c.Bucket(e.bucket.Name())
		defer func() {
			sent := 0
			for _, r := range p.Requests() {
				for name, vs := range r.Header {
					if !strings.HasPrefix(strings.ToLower(name), "x-amz-meta-") {
						continue
					}
					sent++
					for _, v := range vs {
						for i := 0; i < len(v); i++ {
							if v[i] < 0x20 || v[i] >= 0x7f {
								t.Errorf("%s %s sent %s: %q, not printable US-ASCII", r.Method, r.Path, name, v)
								break
							}
						}
					}
				}
			}
			if sent < 4 {
				t.Errorf("%d metadata headers sent, want one for each write", sent)
			}
		}()
		if _, err := b.PutString(ctx, "src.txt", "content", &s3kit.PutOptions{Metadata: map[string]string{"place": value}}); err != nil {
			t.Fatal(err)
		}
		check := func(key, name string) {
			t.Helper()
			info, err := b.Head(ctx, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Metadata[name]; got != value {
				t.Errorf("%s: metadata %s %q, want %q (all: %v)", key, name, got, value, info.Metadata)
			}
		}
		check("src.txt", "place")
		if _, err := b.Copy(ctx, "src.txt", "kept.txt", &s3kit.CopyOptions{MultipartThreshold: 1}); err != nil {
			t.Fatal(err)
		}
		check("kept.txt", "place")
		if _, err := b.Copy(ctx, "src.txt", "replaced.txt", &s3kit.CopyOptions{MultipartThreshold: 1, ReplaceMetadata: true,
			Metadata: map[string]string{"other": value}}); err != nil {
			t.Fatal(err)
		}
		check("replaced.txt", "other")
		if err := b.SetMetadata(ctx, "src.txt", map[string]string{"again": value}); err != nil {
			t.Fatal(err)
		}
		check("src.txt", "again")
	})
}

package s3kit

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// An SSE-C object's ETag is not the MD5 of its content: even one that
// happens to equal the MD5 of a local file, or another object's ETag,
// proves nothing, and Sync compares such objects by checksum only.
func TestSSECETagIsNotMD5(t *testing.T) {
	dir := t.TempDir()
	content := []byte("local content")
	if err := os.WriteFile(filepath.Join(dir, "f"), content, 0o600); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	sum := md5.Sum(content)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	plain := ObjectInfo{Size: int64(len(content)), ETag: etag}
	if ok, err := localMatches(root, "f", plain); !ok || err != nil {
		t.Fatalf("plain object with the file's MD5 as ETag: %v, %v; want a match", ok, err)
	}
	ssec := plain
	ssec.SSECustomerKeyMD5 = "bWQ1IG9mIHRoZSBrZXkgICA="
	if ok, err := localMatches(root, "f", ssec); ok || err != nil {
		t.Errorf("SSE-C object compared by its ETag: %v, %v; want no match", ok, err)
	}
	if sameObject(ssec, ssec) || sameObject(plain, ssec) {
		t.Errorf("SSE-C objects compared by their ETags")
	}
	if !sameObject(plain, plain) {
		t.Errorf("plain objects with equal ETags differ")
	}
}

package s3kit

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLocalName checks the mapping of keys to local paths that
// DownloadAll (localName) and Sync to a local directory (syncer.writable,
// then the key itself as the path) use: every key is either refused with
// ErrInsecurePath or ErrInvalid, or becomes a relative, clean path that
// stays inside the directory on this system and has nothing another
// system would read as leaving it (backslash, drive letter, NUL).
func FuzzLocalName(f *testing.F) {
	for _, k := range []string{
		"a", "a/b/c.txt", "dir/", "dir//", "", "/", ".", "..", "./a", "a/./b",
		"a/../b", "../a", "a/..", "a/b/../../..", "/etc/passwd", "//a", "a//b",
		`a\b`, `..\..\x`, `\\server\share`, "C:/x", "c:x", "C:", "1:", "a:b",
		"a\x00b", "\x00", "é/ü.txt", "\xff\xfe", "CON", "aux.txt", "a/NUL",
		"...", "a/...", ". /x", ".. /x", "a/ ..", "~/x", "$HOME/x", "a\nb",
		strings.Repeat("a/", 300) + "b",
	} {
		f.Add(k)
	}
	var local syncer // a local destination: no Bucket
	f.Fuzz(func(t *testing.T, key string) {
		name, err := localName(key)
		if werr := local.writable(key); (werr == nil) != (err == nil) {
			t.Fatalf("key %q: localName error %v, Sync's check %v", key, err, werr)
		}
		if err != nil {
			if !errors.Is(err, ErrInsecurePath) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("localName(%q): %v is neither ErrInsecurePath nor ErrInvalid", key, err)
			}
			if !strings.Contains(err.Error(), "outside") && !errors.Is(err, ErrInvalid) {
				t.Fatalf("localName(%q): %q does not say what is wrong", key, err)
			}
			return
		}
		if want := strings.TrimSuffix(key, "/"); name != want {
			t.Fatalf("localName(%q) = %q: the path is not the key's own", key, name)
		}
		why := ""
		switch {
		case name == "":
			why = "is empty"
		case strings.ContainsAny(name, "\x00"):
			why = "has a NUL"
		case strings.Contains(name, `\`):
			why = "has a backslash, a separator on Windows"
		case path.IsAbs(name) || filepath.IsAbs(filepath.FromSlash(name)):
			why = "is absolute"
		case len(name) >= 2 && name[1] == ':':
			why = "starts with a drive letter on Windows"
		case path.Clean(name) != name:
			why = "is not clean"
		case !filepath.IsLocal(filepath.FromSlash(name)):
			why = "is not local"
		}
		for _, seg := range strings.Split(name, "/") {
			if why == "" && (seg == "" || seg == "." || seg == "..") {
				why = "has the element " + `"` + seg + `"`
			}
		}
		if why == "" {
			dir := filepath.FromSlash("/download/dir")
			full := filepath.Join(dir, filepath.FromSlash(name))
			if rel, err := filepath.Rel(dir, full); err != nil || rel != filepath.FromSlash(name) {
				why = "leaves the directory when joined to it (" + full + ")"
			}
		}
		if why != "" {
			t.Fatalf("localName(%q) = %q, which %s", key, name, why)
		}
	})
}

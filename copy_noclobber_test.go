package s3kit_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// isCompleteUpload reports whether r completes a multipart upload.
func isCompleteUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Query().Has("uploadId")
}

// headerLog records the If-None-Match header of the copies and
// completions a Client sends.
type headerLog struct {
	mu   sync.Mutex
	sent []string // "copy *", "complete *", "copy " (no header)
}

func (l *headerLog) hook(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	kind := ""
	switch {
	case isCopyObject(r):
		kind = "copy"
	case isCompleteUpload(r):
		kind = "complete"
	}
	if kind != "" {
		l.mu.Lock()
		l.sent = append(l.sent, kind+" "+r.Header.Get("If-None-Match"))
		l.mu.Unlock()
	}
	return next(r)
}

func (l *headerLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sent
	l.sent = nil
	return s
}

// TestCopyNoClobber checks the create-only option of Copy, CopyMany and
// Move: a copy onto an existing object fails with ErrExist and changes
// nothing, a Move refused so keeps its source, and the copies that are
// made carry If-None-Match: *.
func TestCopyNoClobber(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		log := &headerLog{}
		b := hookedClient(t, e, log.hook).Bucket(e.bucket.Name())
		put := func(key, s string) {
			t.Helper()
			if _, err := b.PutString(ctx, key, s, nil); err != nil {
				t.Fatal(err)
			}
		}
		content := func(key string) string {
			t.Helper()
			s, _, err := b.GetString(ctx, key)
			if errors.Is(err, s3kit.ErrNotExist) {
				return "<none>"
			}
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		refused := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, s3kit.ErrExist) || !errors.Is(err, fs.ErrExist) || errors.Is(err, s3kit.ErrPreconditionFailed) {
				t.Errorf("%s onto an existing object: %v, want ErrExist (and not ErrPreconditionFailed)", what, err)
			}
		}
		put("src", "source")
		put("taken", "kept")
		noClobber := &s3kit.CopyOptions{NoClobber: true}
		// Multipart: a copy in parts of any size above 1 byte.
		noClobberParts := &s3kit.CopyOptions{NoClobber: true, MultipartThreshold: 1}

		t.Run("Copy", func(t *testing.T) {
			if _, err := b.Copy(ctx, "src", "new", noClobber); err != nil {
				t.Fatal(err)
			}
			if got := log.take(); len(got) != 1 || got[0] != "copy *" {
				t.Errorf("requests %q, want one CopyObject with If-None-Match: *", got)
			}
			if got := content("new"); got != "source" {
				t.Errorf("copy holds %q", got)
			}
			refused("Copy", errOf(b.Copy(ctx, "src", "taken", noClobber)))
			if got := log.take(); len(got) != 0 {
				t.Errorf("requests %q sent for a copy the HEAD refused", got)
			}
			if got := content("taken"); got != "kept" {
				t.Errorf("destination replaced: %q", got)
			}
			// Without the option, the destination is replaced as before.
			put("taken2", "kept")
			if _, err := b.Copy(ctx, "src", "taken2", nil); err != nil || content("taken2") != "source" {
				t.Errorf("plain Copy: %v, %q", err, content("taken2"))
			}
			if got := log.take(); len(got) != 1 || got[0] != "copy " {
				t.Errorf("requests %q, want one CopyObject without If-None-Match", got)
			}
		})

		t.Run("multipart Copy", func(t *testing.T) {
			if _, err := b.Copy(ctx, "src", "new-parts", noClobberParts); err != nil {
				t.Fatal(err)
			}
			if got := log.take(); len(got) != 1 || got[0] != "complete *" {
				t.Errorf("requests %q, want one CompleteMultipartUpload with If-None-Match: *", got)
			}
			if got := content("new-parts"); got != "source" {
				t.Errorf("copy holds %q", got)
			}
			refused("multipart Copy", errOf(b.Copy(ctx, "src", "taken", noClobberParts)))
			if got := content("taken"); got != "kept" {
				t.Errorf("destination replaced: %q", got)
			}
			if n, err := uploadsFor(ctx, e, "taken"); err != nil || n != 0 {
				t.Errorf("%d uploads left (%v)", n, err)
			}
		})

		t.Run("CopyMany", func(t *testing.T) {
			res, err := b.CopyMany(ctx, []s3kit.CopyPair{{Src: "src", Dst: "many-new"}, {Src: "src", Dst: "taken"}},
				&s3kit.BatchOptions{Copy: noClobber})
			if res.Copied != 1 || len(res.Failed) != 1 || res.Failed[0].Dst != "taken" {
				t.Fatalf("CopyMany = %+v, %v; want the pair onto taken failed", res, err)
			}
			refused("CopyMany", err)
			refused("CopyMany's pair", res.Failed[0].Err)
			if content("taken") != "kept" || content("many-new") != "source" {
				t.Errorf("after CopyMany: taken %q, many-new %q", content("taken"), content("many-new"))
			}
		})

		t.Run("Move", func(t *testing.T) {
			for _, o := range []*s3kit.CopyOptions{noClobber, noClobberParts} {
				put("move-src", "moving")
				refused("Move", b.Move(ctx, "move-src", "taken", o))
				if content("move-src") != "moving" || content("taken") != "kept" {
					t.Errorf("after a refused Move: source %q, destination %q", content("move-src"), content("taken"))
				}
				if err := b.Move(ctx, "move-src", "moved", o); err != nil {
					t.Fatal(err)
				}
				if content("move-src") != "<none>" || content("moved") != "moving" {
					t.Errorf("after Move: source %q, destination %q", content("move-src"), content("moved"))
				}
				if err := b.Delete(ctx, "moved"); err != nil {
					t.Fatal(err)
				}
			}
		})
	})
}

// TestCopyNoClobberRace writes the destination of a create-only copy
// between s3kit's check and its copy, and records which stores honour
// If-None-Match: * there: one that does refuses the copy (ErrExist) and
// keeps the object written; one that ignores it (lacks "create-only
// copy") replaces it, which this test checks so that the table stays
// true. A Move refused so never deletes its source.
func TestCopyNoClobberRace(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		for _, c := range []struct {
			name    string
			opts    *s3kit.CopyOptions
			request func(*http.Request) bool
			honours bool
		}{
			{"CopyObject", &s3kit.CopyOptions{NoClobber: true}, isCopyObject, lacks[e.name]["create-only copy"] == ""},
			{"CompleteMultipartUpload", &s3kit.CopyOptions{NoClobber: true, MultipartThreshold: 1}, isCompleteUpload, true},
		} {
			t.Run(c.name, func(t *testing.T) {
				dst := "race-" + strings.ToLower(c.name)
				first := once()
				b := hookedClient(t, e, func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
					if c.request(r) && strings.HasSuffix(r.URL.Path, "/"+dst) && first() {
						// Another writer wins the race after s3kit's HEAD.
						if _, err := e.bucket.PutString(ctx, dst, "racer", nil); err != nil {
							t.Error(err)
						}
					}
					return next(r)
				}).Bucket(e.bucket.Name())
				if _, err := b.PutString(ctx, "src", "source", nil); err != nil {
					t.Fatal(err)
				}
				err := b.Move(ctx, "src", dst, c.opts)
				got, _, gerr := e.bucket.GetString(ctx, dst)
				if gerr != nil {
					t.Fatal(gerr)
				}
				_, serr := e.bucket.Head(ctx, "src", nil)
				if !c.honours {
					if err != nil || got != "source" {
						t.Fatalf("listed as ignoring If-None-Match on %s (%s), but Move gave %v and the destination holds %q; update lacks",
							c.name, lacks[e.name]["create-only copy"], err, got)
					}
					return
				}
				if !errors.Is(err, s3kit.ErrExist) || errors.Is(err, s3kit.ErrPreconditionFailed) {
					t.Errorf("Move onto an object written during the copy: %v, want ErrExist", err)
				}
				if got != "racer" {
					t.Errorf("destination holds %q, want the racer's object", got)
				}
				if serr != nil {
					t.Errorf("source of a refused Move: %v, want it kept", serr)
				}
				if n, err := uploadsFor(ctx, e, dst); err != nil || n != 0 {
					t.Errorf("%d uploads left (%v)", n, err)
				}
			})
		}
	})
}

// TestFSRenameNoClobber checks FS.WithNoClobber: Rename onto an existing
// file is fs.ErrExist and keeps both files, and a directory's objects are
// copied create-only.
func TestFSRenameNoClobber(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		log := &headerLog{}
		fsys := hookedClient(t, e, log.hook).Bucket(e.bucket.Name()).FS(ctx)
		nc := fsys.WithNoClobber()
		for name, data := range map[string]string{"a.txt": "a", "b.txt": "b", "dir/x.txt": "x", "dir/sub/y.txt": "y"} {
			if err := fsys.WriteFile(name, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		err := nc.Rename("a.txt", "b.txt")
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("Rename onto a file with WithNoClobber: %v, want fs.ErrExist", err)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) {
			t.Errorf("error %v is not a *fs.PathError", err)
		}
		for name, want := range map[string]string{"a.txt": "a", "b.txt": "b"} {
			if got, err := fsys.ReadFile(name); err != nil || string(got) != want {
				t.Errorf("%s after a refused Rename: %q, %v", name, got, err)
			}
		}
		// A Sub of it keeps the setting.
		sub, err := nc.Sub(".")
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.(*s3kit.FS).Rename("a.txt", "b.txt"); !errors.Is(err, fs.ErrExist) {
			t.Errorf("Rename through Sub: %v, want fs.ErrExist", err)
		}
		log.take()
		if err := nc.Rename("dir", "moved"); err != nil {
			t.Fatal(err)
		}
		for _, h := range log.take() {
			if h != "copy *" {
				t.Errorf("a directory's copy was sent as %q, want If-None-Match: *", h)
			}
		}
		if got, err := fsys.ReadFile("moved/sub/y.txt"); err != nil || string(got) != "y" {
			t.Errorf("moved/sub/y.txt: %q, %v", got, err)
		}
		if err := nc.Rename("a.txt", "c.txt"); err != nil {
			t.Fatal(err)
		}
		// The plain FS replaces, as before.
		if err := fsys.Rename("c.txt", "b.txt"); err != nil {
			t.Fatal(err)
		}
		if got, err := fsys.ReadFile("b.txt"); err != nil || string(got) != "a" {
			t.Errorf("b.txt after a plain Rename: %q, %v", got, err)
		}
	})
}

package s3kit_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/s3kit/s3kit"
)

// TestOpenFile opens single objects by URL as files of the FS view: the
// read side, a new file, read-modify-write, create-only, and an unchanged
// file that is not written back.
func TestOpenFile(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		useURLEnv(t, e)
		b := e.bucket
		if _, err := b.PutString(ctx, "dir/a.txt", "hello", &s3kit.PutOptions{ContentType: "text/x-kept"}); err != nil {
			t.Fatal(err)
		}
		url := func(key string, params ...string) string { return s3URL(b.Name(), key, e.srv.Endpoint, params...) }
		content := func(key string) string {
			t.Helper()
			s, _, err := b.GetString(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}

		t.Run("read", func(t *testing.T) {
			f, err := s3kit.OpenFile(ctx, url("dir/a.txt"), os.O_RDONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			data, err := io.ReadAll(f)
			if err != nil || string(data) != "hello" {
				t.Fatalf("read %q, %v", data, err)
			}
			if _, err := f.Write([]byte("x")); err == nil {
				t.Error("Write to a file opened read-only succeeded")
			}
		})

		t.Run("write a new file", func(t *testing.T) {
			f, err := s3kit.OpenFile(ctx, url("new.txt", "content_type=text/x-test"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(f, "fresh"); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			info, err := b.Head(ctx, "new.txt", nil)
			if err != nil || info.ContentType != "text/x-test" || content("new.txt") != "fresh" {
				t.Errorf("new.txt: %q, %+v, %v", content("new.txt"), info, err)
			}
		})

		t.Run("read-modify-write", func(t *testing.T) {
			f, err := s3kit.OpenFile(ctx, url("dir/a.txt"), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(f)
			if err != nil || string(data) != "hello" {
				t.Fatalf("read %q, %v", data, err)
			}
			if _, err := io.WriteString(f, ", world"); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			info, err := b.Head(ctx, "dir/a.txt", nil)
			if got := content("dir/a.txt"); got != "hello, world" || err != nil || info.ContentType != "text/x-kept" {
				t.Errorf("after read-modify-write: %q, content type %q, %v", got, info.ContentType, err)
			}
		})

		t.Run("create-only", func(t *testing.T) {
			_, err := s3kit.OpenFile(ctx, url("dir/a.txt"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0)
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("O_EXCL on an existing object: %v, want fs.ErrExist", err)
			}
			f, err := s3kit.OpenFile(ctx, url("excl.txt"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(f, "only")
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if got := content("excl.txt"); got != "only" {
				t.Errorf("excl.txt holds %q", got)
			}
		})

		t.Run("unchanged file not written back", func(t *testing.T) {
			var mu sync.Mutex
			var methods []string
			tr := http.DefaultTransport.(*http.Transport).Clone()
			defer tr.CloseIdleConnections()
			o := &s3kit.URLOpener{AllowEndpoints: []string{"*"}, Config: s3kit.Config{HTTPClient: &http.Client{Transport: hookTransport{tr,
				func(r *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
					mu.Lock()
					methods = append(methods, r.Method)
					mu.Unlock()
					return next(r)
				}}}}}
			defer o.Close()
			for _, flag := range []int{os.O_RDWR, os.O_WRONLY} {
				f, err := o.OpenFile(ctx, url("dir/a.txt"), flag, 0)
				if err != nil {
					t.Fatal(err)
				}
				if flag == os.O_RDWR {
					if _, err := io.ReadAll(f); err != nil {
						t.Fatal(err)
					}
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for _, m := range methods {
				if m != http.MethodGet && m != http.MethodHead {
					t.Errorf("a %s request for files opened and closed unchanged (requests: %q)", m, methods)
				}
			}
			if got := content("dir/a.txt"); got != "hello, world" {
				t.Errorf("dir/a.txt holds %q", got)
			}
		})

		t.Run("refused", func(t *testing.T) {
			for _, c := range []struct {
				url  string
				flag int
			}{
				{url("a//b.txt"), os.O_RDONLY},
				{url("dir/"), os.O_RDWR},
				{url("x.txt"), os.O_RDONLY | os.O_TRUNC},
				{url("x.txt") + "&nope=1", os.O_RDWR},
				{url("x.txt"), os.O_WRONLY | os.O_RDWR},
				{url("x.txt"), os.O_RDWR | os.O_EXCL},
			} {
				if f, err := s3kit.OpenFile(ctx, c.url, c.flag, 0); !errors.Is(err, s3kit.ErrInvalid) {
					if f != nil {
						f.Discard()
					}
					t.Errorf("OpenFile(%q, %#x): %v, want ErrInvalid", c.url, c.flag, err)
				}
			}
		})
	})
}

package s3kit_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/s3kit/s3kit"
)

// treeKeys is the tree listings are tested on: nested directories, a
// zero-byte directory marker, and names that sort around "/".
var treeKeys = []string{
	"a.txt",
	"b.gz",
	"docs/",
	"docs/guide.md",
	"docs/img/logo.png",
	"docs/img/photo.jpg",
	"logs/2025-01-01.gz",
	"logs/2025-01-02.gz",
	"logs/2025-02-01.txt",
	"logs/old/2024-12-31.gz",
	"logs-archive/x.gz",
	"z/deep/er/still.txt",
}

func putTree(t *testing.T, b *s3kit.Bucket, keys []string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(keys))
	for i, k := range keys {
		wg.Go(func() {
			body := "x"
			if strings.HasSuffix(k, "/") {
				body = ""
			}
			errs[i] = errOf(b.PutString(t.Context(), k, body, nil))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func keysOf(t *testing.T, b *s3kit.Bucket, opts *s3kit.ListOptions) []string {
	t.Helper()
	var keys []string
	for obj, err := range b.List(t.Context(), opts) {
		if err != nil {
			t.Fatalf("List(%+v): %v", opts, err)
		}
		k := obj.Key
		if obj.IsDir {
			k += " (dir)"
		}
		keys = append(keys, k)
	}
	return keys
}

func TestList(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		b := e.bucket
		putTree(t, b, treeKeys)
		d := " (dir)"
		cases := []struct {
			name string
			opts *s3kit.ListOptions
			want []string
		}{
			{"all", nil, []string{"a.txt", "b.gz", "docs/" + d, "docs/guide.md", "docs/img/logo.png", "docs/img/photo.jpg",
				"logs-archive/x.gz", "logs/2025-01-01.gz", "logs/2025-01-02.gz", "logs/2025-02-01.txt", "logs/old/2024-12-31.gz", "z/deep/er/still.txt"}},
			{"delimiter", &s3kit.ListOptions{Delimiter: "/"}, []string{"a.txt", "b.gz", "docs/" + d, "logs-archive/" + d, "logs/" + d, "z/" + d}},
			{"delimiter in dir", &s3kit.ListOptions{Prefix: "docs/", Delimiter: "/"}, []string{"docs/guide.md", "docs/img/" + d}},
			{"prefix", &s3kit.ListOptions{Prefix: "logs/"}, []string{"logs/2025-01-01.gz", "logs/2025-01-02.gz", "logs/2025-02-01.txt", "logs/old/2024-12-31.gz"}},
			{"start after", &s3kit.ListOptions{Prefix: "logs/", StartAfter: "logs/2025-01-02.gz"}, []string{"logs/2025-02-01.txt", "logs/old/2024-12-31.gz"}},
			{"star", &s3kit.ListOptions{Pattern: "logs/*.gz"}, []string{"logs/2025-01-01.gz", "logs/2025-01-02.gz"}},
			{"question", &s3kit.ListOptions{Pattern: "logs/2025-0?-01.*"}, []string{"logs/2025-01-01.gz", "logs/2025-02-01.txt"}},
			{"double star", &s3kit.ListOptions{Pattern: "**.gz"}, []string{"b.gz", "logs-archive/x.gz", "logs/2025-01-01.gz", "logs/2025-01-02.gz", "logs/old/2024-12-31.gz"}},
			{"double star dir", &s3kit.ListOptions{Pattern: "docs/**/*.png"}, []string{"docs/img/logo.png"}},
			{"class", &s3kit.ListOptions{Pattern: "[ab].*"}, []string{"a.txt", "b.gz"}},
			{"glob with delimiter", &s3kit.ListOptions{Pattern: "logs*", Delimiter: "/"}, []string{"logs-archive/" + d, "logs/" + d}},
			{"files only", &s3kit.ListOptions{Delimiter: "/", FilesOnly: true}, []string{"a.txt", "b.gz"}},
			{"dirs only", &s3kit.ListOptions{Delimiter: "/", DirsOnly: true}, []string{"docs/" + d, "logs-archive/" + d, "logs/" + d, "z/" + d}},
			{"files only recursive", &s3kit.ListOptions{Prefix: "docs/", FilesOnly: true}, []string{"docs/guide.md", "docs/img/logo.png", "docs/img/photo.jpg"}},
			{"pattern relative to a directory prefix", &s3kit.ListOptions{Prefix: "docs/", Pattern: "*.md"}, []string{"docs/guide.md"}},
			{"pattern relative to a directory prefix, deeper", &s3kit.ListOptions{Prefix: "docs/", Pattern: "img/*.png"}, []string{"docs/img/logo.png"}},
			{"pattern relative to a directory prefix, recursive", &s3kit.ListOptions{Prefix: "logs/", Pattern: "**.gz"}, []string{"logs/2025-01-01.gz", "logs/2025-01-02.gz", "logs/old/2024-12-31.gz"}},
			{"pattern relative to a directory prefix, with delimiter", &s3kit.ListOptions{Prefix: "docs/", Pattern: "i*", Delimiter: "/"}, []string{"docs/img/" + d}},
			{"pattern that begins with the prefix", &s3kit.ListOptions{Prefix: "logs/", Pattern: "logs/*.txt"}, []string{"logs/2025-02-01.txt"}},
			{"prefix within the pattern", &s3kit.ListOptions{Prefix: "logs/2025-01", Pattern: "logs/*.gz"}, []string{"logs/2025-01-01.gz", "logs/2025-01-02.gz"}},
			{"small pages", &s3kit.ListOptions{Prefix: "logs/", PageSize: 1}, []string{"logs/2025-01-01.gz", "logs/2025-01-02.gz", "logs/2025-02-01.txt", "logs/old/2024-12-31.gz"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got := keysOf(t, b, c.opts)
				if why, ok := lacks[e.name]["order of delimited listings"]; ok && c.opts != nil && c.opts.Delimiter != "" {
					t.Logf("%s: only the entries are checked, not their order: %s", e.name, why)
					slices.Sort(got)
				}
				if !slices.Equal(got, c.want) {
					t.Errorf("got  %q\nwant %q", got, c.want)
				}
			})
		}

		t.Run("scoped handle", func(t *testing.T) {
			docs := b.Prefix("docs")
			got := keysOf(t, docs, &s3kit.ListOptions{Delimiter: "/"})
			if want := []string{"guide.md", "img/ (dir)"}; !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			got = keysOf(t, b.Prefix("docs", "img"), &s3kit.ListOptions{Pattern: "*.jpg"})
			if want := []string{"photo.jpg"}; !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})

		t.Run("ListAll sorted", func(t *testing.T) {
			all, err := b.ListAll(t.Context(), &s3kit.ListOptions{Delimiter: "/"})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.IsSortedFunc(all, func(x, y s3kit.ObjectInfo) int { return strings.Compare(x.Key, y.Key) }) || len(all) != 6 {
				t.Errorf("ListAll = %v", all)
			}
			for _, o := range all {
				if !o.IsDir && (o.Size != 1 || o.ETag == "" || o.LastModified.IsZero()) {
					t.Errorf("object info incomplete: %+v", o)
				}
			}
		})

		t.Run("break stops", func(t *testing.T) {
			n := 0
			for _, err := range b.List(t.Context(), &s3kit.ListOptions{PageSize: 2}) {
				if err != nil {
					t.Fatal(err)
				}
				if n++; n == 3 {
					break
				}
			}
			if n != 3 {
				t.Fatalf("saw %d", n)
			}
		})

		t.Run("prefix and pattern that no key satisfies", func(t *testing.T) {
			for _, o := range []*s3kit.ListOptions{
				{Prefix: "docs", Pattern: "logs/*"},
				{Prefix: "docs/img", Pattern: "*.png"},
			} {
				if _, err := b.ListAll(t.Context(), o); !errors.Is(err, s3kit.ErrInvalid) || !strings.Contains(err.Error(), "no key can begin with Prefix") {
					t.Errorf("ListAll(%+v) = %v, want ErrInvalid saying no key can match", o, err)
				}
			}
		})

		t.Run("bad pattern", func(t *testing.T) {
			_, err := b.ListAll(t.Context(), &s3kit.ListOptions{Pattern: "logs/[a"})
			if !errors.Is(err, s3kit.ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	})
}

func TestDeleteMany(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		const n = 1234 // more than one DeleteObjects request
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("many/%04d", i)
		}
		putTree(t, b, keys)
		putTree(t, b, []string{"keep/1", "keep/2"})
		res, err := b.DeleteMany(ctx, append(keys, "many/never-existed"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Deleted != n+1 || len(res.Failed) != 0 {
			t.Fatalf("result %+v", res)
		}
		if left := keysOf(t, b, nil); !slices.Equal(left, []string{"keep/1", "keep/2"}) {
			t.Fatalf("left after DeleteMany: %q", left)
		}
		if _, err := b.DeleteMany(ctx, []string{"ok", ""}); !errors.Is(err, s3kit.ErrInvalid) {
			t.Fatalf("empty key: %v, want ErrInvalid", err)
		}
		if res, err := b.DeleteMany(ctx, nil); err != nil || res.Deleted != 0 {
			t.Fatalf("DeleteMany(nil) = %+v, %v", res, err)
		}
	})
}

func TestDeleteAll(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		ctx, b := t.Context(), e.bucket
		keys := make([]string, 1100)
		for i := range keys {
			keys[i] = fmt.Sprintf("tmp/%04d", i)
		}
		putTree(t, b, append(keys, "tmpfile", "other/1"))
		res, err := b.Prefix("tmp").DeleteAll(ctx)
		if err != nil || res.Deleted != len(keys) {
			t.Fatalf("DeleteAll = %+v, %v", res, err)
		}
		if left := keysOf(t, b, nil); !slices.Equal(left, []string{"other/1", "tmpfile"}) {
			t.Fatalf("left after DeleteAll: %q", left)
		}
	})
}

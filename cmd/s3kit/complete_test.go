package main

import (
	"slices"
	"strings"
	"testing"
)

// Shell completion completes s3:// buckets, then keys one level at a time.
func TestCompletion(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		for _, k := range []string{"dir/a.txt", "dir/sub/b.txt", "top.txt"} {
			e.put(t, k, k)
		}
		complete := func(args ...string) []string {
			t.Helper()
			r := e.ok(t, nil, append([]string{"__complete"}, args...)...)
			var out []string
			for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				if !strings.HasPrefix(l, ":") {
					out = append(out, l)
				}
			}
			return out
		}
		name := e.bucket.Name()
		if got := complete("ls", "s3://"+name[:len(name)-1]); !slices.Contains(got, "s3://"+name+"/") {
			t.Errorf("buckets: %q", got)
		}
		if got, want := complete("cp", "s3://"+name+"/"), []string{e.url("dir/"), e.url("top.txt")}; !slices.Equal(got, want) {
			t.Errorf("keys %q, want %q", got, want)
		}
		if got, want := complete("cat", "s3://"+name+"/dir/"), []string{e.url("dir/a.txt"), e.url("dir/sub/")}; !slices.Equal(got, want) {
			t.Errorf("keys under dir/ %q, want %q", got, want)
		}
		if got := complete("cp", "s3"); !slices.Equal(got, []string{"s3://"}) {
			t.Errorf("completing s3: %q", got)
		}
	})
}

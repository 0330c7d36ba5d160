package main

import (
	"slices"
	"strings"
	"testing"
)

func TestLs(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		for _, k := range []string{"a.txt", "logs/2025-01.gz", "logs/2025-02.gz", "logs/old/2024.gz", "logs/readme"} {
			e.put(t, k, "x"+k)
		}

		// No argument: the buckets, ours among them.
		r := e.ok(t, nil, "ls")
		if !strings.Contains(r.stdout, "s3://"+e.bucket.Name()+"\n") {
			t.Errorf("ls does not list the bucket:\n%s", r.stdout)
		}

		lsKeys := func(args ...string) []string {
			t.Helper()
			r := e.ok(t, nil, append([]string{"--json"}, args...)...)
			recs, sum := records(t, r.stdout)
			var keys []string
			for _, rec := range recs {
				if rec.Operation != "ls" || rec.Error != "" {
					t.Errorf("record %+v", rec)
				}
				keys = append(keys, strings.TrimPrefix(rec.Source, e.url("")))
			}
			if sum.OK != int64(len(recs)) || sum.Failed != 0 || sum.Command != "ls" {
				t.Errorf("summary %+v for %d records", sum, len(recs))
			}
			return keys
		}
		for _, c := range []struct {
			args []string
			want []string
		}{
			{[]string{e.url("")}, []string{"a.txt", "logs/"}},
			{[]string{e.url("logs/")}, []string{"logs/2025-01.gz", "logs/2025-02.gz", "logs/old/", "logs/readme"}},
			{[]string{"-r", e.url("logs/")}, []string{"logs/2025-01.gz", "logs/2025-02.gz", "logs/old/2024.gz", "logs/readme"}},
			// "*" stops at "/"; "**" crosses it.
			{[]string{e.url("logs/*.gz")}, []string{"logs/2025-01.gz", "logs/2025-02.gz"}},
			{[]string{e.url("logs/**.gz")}, []string{"logs/2025-01.gz", "logs/2025-02.gz", "logs/old/2024.gz"}},
			{[]string{e.url("**/2024.gz")}, []string{"logs/old/2024.gz"}},
		} {
			if got := lsKeys(append([]string{"ls"}, c.args...)...); !slices.Equal(got, c.want) {
				t.Errorf("ls %q = %q, want %q", c.args, got, c.want)
			}
		}

		// The text listing shows sizes and keys.
		r = e.ok(t, nil, "ls", e.url("logs/*.gz"))
		if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 || !strings.HasSuffix(lines[0], "  logs/2025-01.gz") || !strings.Contains(lines[0], " 16  ") {
			t.Errorf("ls text output:\n%s", r.stdout)
		}

		// A glob matching nothing is a failure, reported on stderr.
		args := []string{"--json", "ls", e.url("logs/*.zip")}
		r = e.run(t, nil, args...)
		want(t, r, exitFailed, args...)
		recs, sum := records(t, r.stdout)
		if len(recs) != 1 || !strings.Contains(recs[0].Error, "matches nothing") || sum.Failed != 1 {
			t.Errorf("glob matching nothing: %+v %+v", recs, sum)
		}
		if !strings.Contains(r.stderr, "logs/*.zip") || !strings.Contains(r.stderr, "matches nothing") {
			t.Errorf("stderr does not report the glob: %q", r.stderr)
		}

		// A missing bucket is a failure naming it.
		r = e.run(t, nil, "ls", "s3://"+e.bucket.Name()+"-missing/")
		want(t, r, exitFailed)
		if !strings.Contains(r.stderr, "bucket does not exist") {
			t.Errorf("missing bucket: stderr %q", r.stderr)
		}
	})
}

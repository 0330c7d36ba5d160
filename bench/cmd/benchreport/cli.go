package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// The command-line cases of issue 9 (bench/cli_test.go): the s3kit
// command against s5cmd, rclone and the aws CLI, whole processes.

// Markers around the CLI section, so that -section cli -into FILE can
// replace it in a report that a run of other cases wrote.
const (
	cliBegin = "<!-- cli-section: written by bench/cmd/benchreport -section cli; do not edit by hand -->"
	cliEnd   = "<!-- cli-section end -->"
)

// cliPeers are the peers of the command-line cases, in table order.
var cliPeers = []string{"s5cmd", "rclone", "aws"}

// cliCommands are the command lines BenchmarkCLI runs (bench/cli_test.go:
// cliCommand), for the report.
var cliCommands = [][5]string{
	// tool, cp up (tree), sync (no-op), cp down (tree), one file (up; down swaps the arguments)
	{"s3kit", "`s3kit --endpoint URL cp -r DIR s3://b/p/`", "`s3kit --endpoint URL sync DIR s3://b/p/`", "`s3kit --endpoint URL cp -r s3://b/p/ DIR/`", "`s3kit --endpoint URL cp FILE s3://b/k`"},
	{"s5cmd", "`s5cmd --endpoint-url URL cp 'DIR/*' s3://b/p/`", "`s5cmd --endpoint-url URL sync DIR/ s3://b/p/`", "`s5cmd --endpoint-url URL cp 's3://b/p/*' DIR/`", "`s5cmd --endpoint-url URL cp FILE s3://b/k`"},
	{"rclone", "`rclone copy DIR :s3:b/p`", "`rclone sync DIR :s3:b/p`", "`rclone copy :s3:b/p DIR`", "`rclone copyto FILE :s3:b/k`"},
	{"aws", "`aws s3 cp --recursive DIR s3://b/p/ --endpoint-url URL`", "`aws s3 sync DIR s3://b/p/ --endpoint-url URL`", "`aws s3 cp --recursive s3://b/p/ DIR/ --endpoint-url URL`", "`aws s3 cp FILE s3://b/k --endpoint-url URL`"},
}

// cliTarget returns the wall-time target of s3kit ÷ peer for a case: 0.8
// against s5cmd and rclone; against the aws CLI 0.2 on the small files
// and 0.5 on the large one.
func cliTarget(peer string, files string) float64 {
	switch {
	case peer != "aws":
		return 0.8
	case files == "1":
		return 0.5
	}
	return 0.2
}

func cliCaseName(pm map[string]string) string {
	what := pm["files"] + " × " + pm["size"]
	if pm["files"] == "1" {
		what = "1 × " + pm["size"]
	}
	return fmt.Sprintf("%s %s", pm["op"], what)
}

func (r *report) writeCLI(w io.Writer) {
	sets := r.rs.paramSets("CLI")
	if len(sets) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("%s\n\n", cliBegin)
	p("## The s3kit command against s5cmd, rclone and the aws CLI (issue 9)\n\n")
	p("Run `%s` (mode %s, %d round(s)", r.command, r.mode, r.rounds)
	if r.duration > 0 {
		p(", %s", r.duration.Round(time.Second))
	}
	p(") on %s", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	if r.commit != "" {
		p(", s3kit %s", r.commit)
	}
	p("; the exact commands are in `bench/results/issue9-commands.txt`, the raw results in `bench/results/`.\n\n")
	p("Every operation is one whole process of the tool at its defaults (no tuning flag; output to a file, so no terminal: s3kit, s5cmd and rclone then show no progress, the aws CLI prints its progress lines anyway, as it does by default), started by a small intermediate process that measures it: wall time, CPU time (user + system, from its rusage) and peak RSS (`ru_maxrss`), start-up included. ")
	p("In every round, every case runs every tool one after the other against the same server process, their order rotated from round to round. ")
	p("The small-file tree is 100 files to a directory on the local disk, every file different, modified an hour before the run; `cp-up` copies it into an empty prefix; `sync-noop` syncs it again to the prefix that the same tool's `cp-up` wrote (nothing to copy: the listing before and after must be identical — size, ETag and LastModified of every object); `cp-down` copies a prefix that aws-sdk-go-v2 wrote (the same objects for every tool, no checksum) into an empty directory on tmpfs. ")
	p("The large file is one file of the pattern on the local disk copied to one key, and one object of 8 MiB parts copied down to a file on the local disk (deleted after each copy). ")
	p("After every operation, with the clock stopped, what arrived is checked — the keys and sizes of every object and the bytes of three (cp-up), every byte of every file (cp-down), the size and nine 4 KiB samples (1 × large) — and deleted; a tool that fails or exits non-zero fails its case and is not timed. ")
	p("The s3kit command is built from this checkout with `go build ./cmd/s3kit`. Servers: versitygw (posix backend) and MinIO (one drive), each on a temporary directory of the local disk, on the same 2 cores as the tools.\n\n")
	p("| tool | cp up (tree) | sync (no-op) | cp down (tree) | one file up (down: arguments swapped) |\n| --- | --- | --- | --- | --- |\n")
	for _, c := range cliCommands {
		p("| %s | %s | %s | %s | %s |\n", c[0], c[1], c[2], c[3], c[4])
	}
	p("\nCredentials and region come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION; rclone's RCLONE_S3_* for an on-the-fly `:s3:` remote of provider Other), HOME is an empty directory. Versions: s5cmd and rclone as pinned in `bench/tools`, the aws CLI v1 (Debian's awscli or whatever `aws` is on PATH).\n\n")

	var tl tally
	verdict := tl.verdict
	p("### Targets: wall time ≤ 0.8× s5cmd and ≤ 0.8× rclone on every case; ≤ 0.2× the aws CLI on the small files, ≤ 0.5× on 1 GiB\n\n")
	p("Medians over the rounds, with ± half the spread (max − min) as a share of the median. \"÷\" is s3kit ÷ the peer (below 1: s3kit takes less).\n\n")
	p("| case | server | s3kit wall-s |")
	for _, peer := range cliPeers {
		p(" %s wall-s | ÷ | target |", peer)
	}
	p(" load avg |\n| --- | --- | ---: |")
	for range cliPeers {
		p(" ---: | ---: | --- |")
	}
	p(" ---: |\n")
	for _, params := range sets {
		pm := r.rs.params[params]
		sk := key{"CLI", params, "s3kit"}
		sw, ok := r.rs.median(sk, "wall-s")
		p("| %s | %s | %s |", cliCaseName(pm), pm["server"], r.cell(r.rs, sk, "wall-s", "%.2f"))
		for _, peer := range cliPeers {
			pk := key{"CLI", params, peer}
			pw, pok := r.rs.median(pk, "wall-s")
			switch {
			case !pok:
				p(" failed or not run | | |")
			case !ok:
				p(" %s | | s3kit failed or not run |", r.cell(r.rs, pk, "wall-s", "%.2f"))
			default:
				t := cliTarget(peer, pm["files"])
				rt := sw / pw
				p(" %s | ×%.2f | ≤ %.1f: %s |", r.cell(r.rs, pk, "wall-s", "%.2f"), rt, t,
					verdict(rt <= t, fmt.Sprintf("%.0f%% over", (rt/t-1)*100)))
			}
		}
		var loads []float64
		for _, c := range r.rs.clientsOf("CLI", params) {
			loads = append(loads, r.rs.sample(key{"CLI", params, c}, "load-avg")...)
		}
		if len(loads) > 0 {
			p(" %.1f–%.1f |\n", slices.Min(loads), slices.Max(loads))
		} else {
			p(" – |\n")
		}
	}
	p("\n**Tally: %d met, %d missed.** Rounds: %d. The load average (1 minute, read before each process started) is the machine's: other engineers' tests share its 2 cores, so wall times carry their noise; CPU time is the steadier figure.\n\n",
		tl.met, tl.missed, len(r.rs.sample(key{"CLI", sets[0], "s3kit"}, "wall-s")))
	r.writeCLIRSS(w)

	p("### Every tool: wall time, CPU time and peak RSS\n\n")
	p("\"÷\" is s3kit ÷ the tool in the same column (below 1: s3kit takes less). \"server CPU-s\" is the CPU time the server process used while the tool ran (from /proc; – where the run did not record it): the server shares the 2 cores with the tool.\n\n")
	p("| case | server | tool | wall-s | ÷ | MB/s | files/s | CPU-s | ÷ | peak RSS MiB | ÷ | server CPU-s |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, params := range sets {
		pm := r.rs.params[params]
		sk := key{"CLI", params, "s3kit"}
		for _, c := range append([]string{"s3kit"}, cliPeers...) {
			k := key{"CLI", params, c}
			if _, ok := r.rs.median(k, "wall-s"); !ok {
				p("| %s | %s | `%s` | failed or not run | | | | | | | | |\n", cliCaseName(pm), pm["server"], c)
				continue
			}
			ratio := func(unit string) string {
				if c == "s3kit" {
					return ""
				}
				a, ok1 := r.rs.median(sk, unit)
				b, ok2 := r.rs.median(k, unit)
				if !ok1 || !ok2 || b == 0 {
					return "–"
				}
				return fmt.Sprintf("×%.2f", a/b)
			}
			files := "–"
			if _, ok := r.rs.median(k, "files/s"); ok {
				files = r.cell(r.rs, k, "files/s", "%.0f")
			}
			p("| %s | %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", cliCaseName(pm), pm["server"], c,
				r.cell(r.rs, k, "wall-s", "%.2f"), ratio("wall-s"), r.cell(r.rs, k, "MB/s", "%.1f"), files,
				r.cell(r.rs, k, "cpu-s", "%.2f"), ratio("cpu-s"), r.cell(r.rs, k, "peak-RSS-MiB", "%.0f"), ratio("peak-RSS-MiB"),
				r.cell(r.rs, k, "server-cpu-s", "%.2f"))
		}
	}
	p("\n")
	if r.cliFindings != "" {
		p("%s\n\n", strings.TrimRight(r.cliFindings, "\n"))
	}
	p("%s\n\n", cliEnd)
}

// writeCLIRSS writes the peak-RSS target of the s3kit command's sync at
// scale (BenchmarkSyncScale, client s3kit-cli), if it was measured.
func (r *report) writeCLIRSS(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	var rows []string
	for _, params := range r.rs.paramSets("SyncScale") {
		k := key{"SyncScale", params, "s3kit-cli"}
		v, ok := r.rs.median(k, "peak-RSS-MiB")
		if !ok {
			continue
		}
		pm := r.rs.params[params]
		mx := slices.Max(r.rs.sample(k, "peak-RSS-MiB"))
		v2 := "**met**"
		if mx > 100 {
			v2 = fmt.Sprintf("missed by %.0f MiB", mx-100)
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %.0f | %s |", pm["keys"], pm["op"], r.cell(r.rs, k, "wall-s", "%.1f"),
			r.cell(r.rs, k, "cpu-s", "%.1f"), r.cell(r.rs, k, "LISTs", "%.0f"), v, v2))
	}
	if len(rows) == 0 {
		return
	}
	p("### Target: peak RSS ≤ 100 MiB on a sync of 1M keys (null server)\n\n")
	p("`s3kit sync DIR s3://b/scale/N/` of BenchmarkSyncScale's tree (files of 0 to 16 bytes, 1,000 to a directory) to the null server's synthetic twin of it (\"noop\": nothing to copy) or to an empty prefix (\"first\"), a whole process.\n\n")
	p("| keys | op | wall-s | CPU-s | LISTs | peak RSS MiB | ≤ 100 MiB |\n| ---: | --- | ---: | ---: | ---: | ---: | --- |\n")
	for _, row := range rows {
		p("%s\n", row)
	}
	p("\n")
}

// spliceCLI replaces the CLI section of the report at path with section,
// or inserts it before the report's first section after "## Clients" if
// it has none.
func spliceCLI(path string, section []byte) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(data)
	sec := strings.TrimRight(string(section), "\n") + "\n\n"
	if i := strings.Index(text, cliBegin); i >= 0 {
		j := strings.Index(text[i:], cliEnd)
		if j < 0 {
			return fmt.Errorf("%s: %q without %q", path, cliBegin, cliEnd)
		}
		end := i + j + len(cliEnd)
		rest := strings.TrimLeft(text[end:], "\n")
		return os.WriteFile(path, []byte(text[:i]+sec+rest), 0o644)
	}
	at := -1
	if c := strings.Index(text, "\n## Clients"); c >= 0 {
		if n := strings.Index(text[c+1:], "\n## "); n >= 0 {
			at = c + 1 + n + 1
		}
	}
	if at < 0 {
		return os.WriteFile(path, []byte(strings.TrimRight(text, "\n")+"\n\n"+sec), 0o644)
	}
	return os.WriteFile(path, []byte(text[:at]+sec+text[at:]), 0o644)
}

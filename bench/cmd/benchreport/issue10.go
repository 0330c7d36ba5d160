package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The whole-process cases of issue 10 (bench/scale_test.go): downloads,
// sync at scale, the FileServerFS range read.

var issue10Benches = []string{"ProcDownload", "SyncScale", "FSRange"}

// hasAny reports whether the results hold any of the benchmarks.
func (rs *results) hasAny(benches ...string) bool {
	return slices.ContainsFunc(rs.keys, func(k key) bool { return slices.Contains(benches, k.bench) })
}

// peerOf returns the best peer (any client but s3kit) of bench and
// params in unit, the highest if higher is better.
func (r *report) peerOf(rs *results, bench, params, unit string, higher bool) (string, float64, bool) {
	var name string
	var val float64
	for _, k := range rs.keys {
		if k.bench != bench || k.params != params || isS3kit(k.client) {
			continue
		}
		v, ok := rs.median(k, unit)
		if !ok {
			continue
		}
		if name == "" || higher && v > val || !higher && v < val {
			name, val = k.client, v
		}
	}
	return name, val, name != ""
}

// clientsOf returns the clients of bench and params in order of first
// appearance.
func (rs *results) clientsOf(bench, params string) []string {
	var out []string
	for _, k := range rs.keys {
		if k.bench == bench && k.params == params && !slices.Contains(out, k.client) {
			out = append(out, k.client)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		if isS3kit(a) != isS3kit(b) {
			if isS3kit(a) {
				return -1
			}
			return 1
		}
		return 0
	})
	return out
}

func spread(v []float64) string {
	if len(v) < 2 {
		return ""
	}
	lo, hi := slices.Min(v), slices.Max(v)
	med := median(v)
	if med == 0 {
		return ""
	}
	return fmt.Sprintf(" ±%.0f%%", (hi-lo)/2/med*100)
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (r *report) cell(rs *results, k key, unit, format string) string {
	v, ok := rs.median(k, unit)
	if !ok {
		return "–"
	}
	return fmt.Sprintf(format, v) + spread(rs.sample(k, unit))
}

// readNotes reads the notes of cases not measured: lines "KEYS OP CLIENT:
// why", such as "100000 first s5cmd: left out: ...".
func readNotes(text string) map[string]string {
	notes := map[string]string{}
	for line := range strings.Lines(text) {
		k, v, ok := strings.Cut(line, ":")
		if ok && len(strings.Fields(k)) == 3 {
			notes[strings.Join(strings.Fields(k), " ")] = strings.TrimSpace(v)
		}
	}
	return notes
}

func (r *report) writeIssue10(w io.Writer) {
	if !r.rs.hasAny(issue10Benches...) {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## Whole-process downloads and sync at scale (issue 10)\n\n")
	p("Every download and every sync is a process of its own (the benchmark binary re-executed, or the peer's CLI), started by a small intermediate process that waits for it: wall time, CPU time (user + system, from its rusage) and peak RSS (`ru_maxrss`) are those of the whole process, start-up included. The intermediate process is a few MiB, the floor of every RSS figure (a child of the benchmark process itself would inherit the benchmark's own peak: see Method). Medians of the rounds, with ± half the spread (max − min) as a share of the median; ratios are s3kit ÷ the best peer.\n\n")
	if r.baseline != nil {
		p("\"Baseline\" columns are s3kit at %s, measured the same way in an earlier run of the same harness; the peers did not change between the two.\n\n", r.baselineCommit)
	}
	r.writeProcDownload(w)
	r.writeSyncScale(w)
	r.writeFSRange(w)
	if r.findings != "" {
		p("%s\n\n", strings.TrimRight(r.findings, "\n"))
	}
}

func (r *report) writeProcDownload(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	sets := r.rs.paramSets("ProcDownload")
	if len(sets) == 0 {
		return
	}
	hasBase := r.baseline != nil && r.baseline.hasAny("ProcDownload")
	p("### Download of one object, whole processes: targets throughput ≥ the best peer, CPU ≤ the best peer's\n\n")
	p("Each client at its defaults: `tm` is transfermanager's `DownloadObject` into the file (an `io.WriterAt`; to a plain `io.Writer` it is not measured: its `GetObject` v0.4.1 deadlocks on large multipart objects, aws/aws-sdk-go-v2#3552), `minio` minio-go (`FGetObject`; `GetObject` copied to the writer), `sdk` one plain `GetObject` of the whole object copied to the file or writer. Objects of 1 part (one PUT) and of 8 MiB parts. \"to=file\" writes a file on the local disk, deleted after each run; \"to=writer\" an `io.Writer` that discards.\n\n")
	p("| to | parts | server | s3kit MB/s | best peer MB/s | ÷ | throughput | s3kit CPU-s | lowest peer CPU-s | ÷ | CPU | s3kit peak RSS MiB | peers' peak RSS MiB |")
	if hasBase {
		p(" baseline s3kit MB/s | baseline CPU-s | baseline RSS MiB |")
	}
	p("\n| --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: |")
	if hasBase {
		p(" ---: | ---: | ---: |")
	}
	p("\n")
	var tl tally
	verdict := tl.verdict
	for _, params := range sets {
		pm := r.rs.params[params]
		sk := key{"ProcDownload", params, "s3kit"}
		sv, ok := r.rs.median(sk, "MB/s")
		if !ok {
			continue
		}
		sc, _ := r.rs.median(sk, "cpu-s")
		tp, tpv, ok1 := r.peerOf(r.rs, "ProcDownload", params, "MB/s", true)
		cp, cpv, ok2 := r.peerOf(r.rs, "ProcDownload", params, "cpu-s", false)
		if !ok1 || !ok2 {
			continue
		}
		var rss []string
		for _, c := range r.rs.clientsOf("ProcDownload", params) {
			if !isS3kit(c) {
				if v, ok := r.rs.median(key{"ProcDownload", params, c}, "peak-RSS-MiB"); ok {
					rss = append(rss, fmt.Sprintf("%s %.0f", c, v))
				}
			}
		}
		rt, rc := sv/tpv, sc/cpv
		p("| %s | %s | %s | %s | %.0f (%s) | ×%.2f | %s | %s | %.2f (%s) | ×%.2f | %s | %s | %s |",
			pm["to"], pm["parts"], pm["server"], r.cell(r.rs, sk, "MB/s", "%.0f"), tpv, tp, rt,
			verdict(rt >= 1, fmt.Sprintf("%.0f%% slower", (1-rt)*100)),
			r.cell(r.rs, sk, "cpu-s", "%.2f"), cpv, cp, rc,
			verdict(rc <= 1, fmt.Sprintf("%.0f%% more CPU", (rc-1)*100)),
			r.cell(r.rs, sk, "peak-RSS-MiB", "%.0f"), strings.Join(rss, ", "))
		if hasBase {
			p(" %s | %s | %s |", r.cell(r.baseline, sk, "MB/s", "%.0f"), r.cell(r.baseline, sk, "cpu-s", "%.2f"), r.cell(r.baseline, sk, "peak-RSS-MiB", "%.0f"))
		}
		p("\n")
	}
	p("\n**Tally: %d met, %d missed.** Rounds: %d.\n\n", tl.met, tl.missed, len(r.rs.sample(key{"ProcDownload", sets[0], "s3kit"}, "MB/s")))
	p("<details><summary>every client</summary>\n\n| to | parts | server | client | MB/s | wall-s | CPU-s | peak RSS MiB |\n| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |\n")
	for _, params := range sets {
		pm := r.rs.params[params]
		for _, c := range r.rs.clientsOf("ProcDownload", params) {
			k := key{"ProcDownload", params, c}
			p("| %s | %s | %s | `%s` | %s | %s | %s | %s |\n", pm["to"], pm["parts"], pm["server"], c,
				r.cell(r.rs, k, "MB/s", "%.0f"), r.cell(r.rs, k, "wall-s", "%.2f"), r.cell(r.rs, k, "cpu-s", "%.2f"), r.cell(r.rs, k, "peak-RSS-MiB", "%.0f"))
		}
	}
	p("\n</details>\n\n")
}

func (r *report) writeSyncScale(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	sets := r.rs.paramSets("SyncScale")
	if len(sets) == 0 {
		return
	}
	hasBase := r.baseline != nil && r.baseline.hasAny("SyncScale")
	p("### Sync at scale: targets peak RSS ≤ 100 MiB at every size and flat from 10k to 1M; ⌈N/1,000⌉ LISTs and no HEAD for a no-op\n\n")
	p("A local tree of N files of 0 to 16 bytes (1,000 to a directory) on tmpfs, synced to the null server, each tool at its defaults, a process per sync: \"noop\" to the server's synthetic twin of the tree (same sizes, LastModified equal to the files' times: nothing to copy, so what is measured is listing both sides and comparing), \"first\" to an empty prefix (every file uploaded). Requests are those the server counted during the sync. `s5cmd sync`, `rclone sync` (an on-the-fly `:s3:` remote, provider Other), `aws s3 sync` (aws CLI v1, Debian/pyenv); endpoint and credentials from flags and the environment, HOME empty.\n\n")
	p("| keys | op | client | keys/s | wall-s | CPU-s | peak RSS MiB | LISTs | HEADs | PUTs | GETs |")
	if hasBase {
		p(" baseline keys/s | baseline RSS MiB | baseline LISTs/HEADs |")
	}
	p("\n| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	if hasBase {
		p(" ---: | ---: | ---: |")
	}
	p("\n")
	awsMax, errMax := strconv.Atoi(r.rs.config["scale-aws-max-keys"])
	awsFirst, errFirst := strconv.Atoi(r.rs.config["scale-aws-first-max-keys"])
	s5Max, errS5 := strconv.Atoi(r.rs.config["scale-s5cmd-max-keys"])
	rssByKeys := map[int]float64{}
	var notes []string
	for _, params := range sets {
		pm := r.rs.params[params]
		n, _ := strconv.Atoi(pm["keys"])
		clients := r.rs.clientsOf("SyncScale", params)
		for _, c := range clients {
			k := key{"SyncScale", params, c}
			p("| %s | %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s |", pm["keys"], pm["op"], c,
				r.cell(r.rs, k, "keys/s", "%.0f"), r.cell(r.rs, k, "wall-s", "%.1f"), r.cell(r.rs, k, "cpu-s", "%.1f"),
				r.cell(r.rs, k, "peak-RSS-MiB", "%.0f"), r.cell(r.rs, k, "LISTs", "%.0f"), r.cell(r.rs, k, "HEADs", "%.0f"),
				r.cell(r.rs, k, "PUTs", "%.0f"), r.cell(r.rs, k, "GETs", "%.0f"))
			if hasBase {
				if isS3kit(c) {
					p(" %s | %s | %s / %s |", r.cell(r.baseline, k, "keys/s", "%.0f"), r.cell(r.baseline, k, "peak-RSS-MiB", "%.0f"),
						r.cell(r.baseline, k, "LISTs", "%.0f"), r.cell(r.baseline, k, "HEADs", "%.0f"))
				} else {
					p(" | | |")
				}
			}
			p("\n")
			if isS3kit(c) {
				if v, ok := r.rs.median(k, "peak-RSS-MiB"); ok {
					rssByKeys[n] = math.Max(rssByKeys[n], v)
				}
				if pm["op"] == "noop" {
					lists, _ := r.rs.median(k, "LISTs")
					heads, _ := r.rs.median(k, "HEADs")
					want := (n + 999) / 1000
					if int(lists) != want || heads != 0 {
						notes = append(notes, fmt.Sprintf("`%s`'s no-op sync of %d keys made %.0f LISTs and %.0f HEADs (target %d and 0): missed", c, n, lists, heads, want))
					} else {
						notes = append(notes, fmt.Sprintf("`%s`'s no-op sync of %d keys: %.0f LISTs (⌈N/1,000⌉ of the bucket side; the local side is a directory walk), 0 HEADs: **met**", c, n, lists))
					}
				}
			}
		}
		for _, tool := range []string{"s3kit", "s5cmd", "rclone", "aws"} {
			if slices.Contains(clients, tool) {
				continue
			}
			why := "not measured in this run (not installed, left out by -scale-clients, or failed: see the run's log)"
			switch {
			case r.notes[pm["keys"]+" "+pm["op"]+" "+tool] != "":
				why = r.notes[pm["keys"]+" "+pm["op"]+" "+tool]
			case tool == "s5cmd" && errS5 == nil && n > s5Max:
				why = fmt.Sprintf("capped at %d keys (`-s5cmd-max-keys`): its peak RSS grows with the number of keys (see the rows above), some 14 GiB at 1M, more than a shared machine should give", s5Max)
			case tool == "aws" && errMax == nil && n > awsMax:
				why = fmt.Sprintf("capped at %d keys (`-aws-max-keys`): the aws CLI syncs about 10 files/s here", awsMax)
			case tool == "aws" && pm["op"] == "first" && errFirst == nil && n > awsFirst:
				why = fmt.Sprintf("first sync capped at %d keys (`-aws-first-max`): it uploaded about 10 files/s here", awsFirst)
			}
			p("| %s | %s | `%s` | %s | | | | | | | |", pm["keys"], pm["op"], tool, why)
			if hasBase {
				p(" | | |")
			}
			p("\n")
		}
	}
	p("\n")
	var sizes []int
	for n := range rssByKeys {
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	for _, n := range sizes {
		v := rssByKeys[n]
		verdict := "**met**"
		if v > 100 {
			verdict = fmt.Sprintf("missed by %.0f MiB", v-100)
		}
		notes = append(notes, fmt.Sprintf("s3kit's highest peak RSS at %d keys: %.0f MiB (≤ 100 MiB: %s)", n, v, verdict))
	}
	if len(sizes) >= 2 {
		lo, hi := rssByKeys[sizes[0]], rssByKeys[sizes[len(sizes)-1]]
		notes = append(notes, fmt.Sprintf("from %d to %d keys s3kit's peak RSS goes from %.0f to %.0f MiB (×%.2f)", sizes[0], sizes[len(sizes)-1], lo, hi, hi/lo))
	}
	for _, n := range notes {
		p("- %s\n", n)
	}
	p("\n")
}

func (r *report) writeFSRange(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	sets := r.rs.paramSets("FSRange")
	if len(sets) == 0 {
		return
	}
	hasBase := r.baseline != nil && r.baseline.hasAny("FSRange")
	p("### `http.FileServerFS` over s3kit's FS: a 1 MiB range of a large object (null server)\n\n")
	p("One `Range: bytes=` request for 1 MiB from the middle of the object, through `http.FileServerFS(bucket.FS(ctx))`; the bytes of object content the null server sent for it (counted as written to the connection, half a second after the response ended, so that ranges cancelled by the file's Close are counted as far as they went).\n\n")
	p("| object | parts | fetched MiB | fetched ÷ served | GETs | HEADs |")
	if hasBase {
		p(" baseline fetched MiB | baseline GETs |")
	}
	p("\n| --- | ---: | ---: | ---: | ---: | ---: |")
	if hasBase {
		p(" ---: | ---: |")
	}
	p("\n")
	for _, params := range sets {
		pm := r.rs.params[params]
		k := key{"FSRange", params, "s3kit"}
		p("| %s | %s | %s | %s | %s | %s |", pm["size"], pm["parts"], r.cell(r.rs, k, "fetched-MiB", "%.1f"), r.cell(r.rs, k, "fetched/served", "%.1f"),
			r.cell(r.rs, k, "GETs", "%.0f"), r.cell(r.rs, k, "HEADs", "%.0f"))
		if hasBase {
			p(" %s | %s |", r.cell(r.baseline, k, "fetched-MiB", "%.1f"), r.cell(r.baseline, k, "GETs", "%.0f"))
		}
		p("\n")
	}
	p("\n")
}

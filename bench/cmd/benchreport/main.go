// Command benchreport writes BENCHMARKS.md from the results of run.sh: the
// tables of results with ratios of s3kit to each peer, the machine, the
// exact command, benchstat's output, and for each target of the suite
// whether it is met and by how much it is missed.
//
// Usage (run.sh does this):
//
//	go run ./cmd/benchreport -results results.txt -benchstat benchstat.txt \
//		-command 'bash bench/run.sh' -mode full -rounds 5 -o ../BENCHMARKS.md
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

func main() {
	var (
		resultsPath   = flag.String("results", "", "benchmark output of every round, concatenated")
		benchstatPath = flag.String("benchstat", "", "benchstat output to include")
		sanityPath    = flag.String("sanity", "", "output of the null-server sanity test to include")
		command       = flag.String("command", "bash bench/run.sh", "the command that produced the results")
		mode          = flag.String("mode", "full", "full or short")
		rounds        = flag.Int("rounds", 0, "rounds the results hold")
		duration      = flag.Duration("duration", 0, "how long the run took")
		commit        = flag.String("commit", "", "s3kit commit measured, and whether the tree had changes")
		goVersion     = flag.String("go", runtime.Version(), "output of go version")
		out           = flag.String("o", "", "file to write (default standard output)")
		baselinePath  = flag.String("baseline", "", "results of an earlier commit, shown beside s3kit's in the whole-process tables")
		baselineRev   = flag.String("baseline-commit", "", "the commit of -baseline")
		previous      = flag.String("previous", "", "an earlier report whose tables this run did not redo, appended as it is")
		previousRev   = flag.String("previous-commit", "", "the commit the earlier report measured")
		findingsPath  = flag.String("findings", "", "markdown written after the whole-process tables: the noise of the run, what the profiles show")
		notesPath     = flag.String("notes", "", "why some sync-at-scale cases were not measured: lines \"KEYS OP CLIENT: why\"")
		cliFindings   = flag.String("cli-findings", "", "markdown written at the end of the command-line section: what the profiles show")
		section       = flag.String("section", "", "write only this section (cli) into the report -into, replacing its earlier one")
		into          = flag.String("into", "", "the report -section goes into")
	)
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchreport: ")
	if *resultsPath == "" {
		log.Fatal("-results is required")
	}
	rs, err := readResults(*resultsPath)
	if err != nil {
		log.Fatal(err)
	}
	if len(rs.keys) == 0 {
		log.Fatalf("no benchmark results in %s", *resultsPath)
	}
	read := func(p string) string {
		if p == "" {
			return ""
		}
		data, err := os.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		return string(data)
	}
	r := &report{
		rs: rs, command: *command, mode: *mode, rounds: *rounds, duration: *duration,
		commit: *commit, goVersion: strings.TrimSpace(*goVersion),
		benchstat: read(*benchstatPath), sanity: read(*sanityPath),
	}
	if *baselinePath != "" {
		if r.baseline, err = readResults(*baselinePath); err != nil {
			log.Fatal(err)
		}
		r.baselineCommit = *baselineRev
	}
	r.notes = readNotes(read(*notesPath))
	r.findings = read(*findingsPath)
	r.cliFindings = read(*cliFindings)
	if *previous != "" {
		r.previous, r.previousCommit = read(*previous), *previousRev
	}
	var buf bytes.Buffer
	if *section != "" {
		if *section != "cli" || *into == "" {
			log.Fatal("-section: only cli, with -into FILE")
		}
		if !rs.hasAny("CLI") {
			log.Fatalf("no command-line results (BenchmarkCLI) in %s", *resultsPath)
		}
		r.writeCLI(&buf)
		if err := spliceCLI(*into, buf.Bytes()); err != nil {
			log.Fatal(err)
		}
		return
	}
	r.write(&buf)
	if *out == "" {
		os.Stdout.Write(buf.Bytes())
		return
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// key identifies one benchmark configuration: a case (the benchmark
// function), its parameters other than the client, and the client.
type key struct {
	bench  string // "UploadFile"
	params string // "size=1GiB/server=null"
	client string
}

type results struct {
	keys   []key // in order of first appearance
	values map[key]map[string][]float64
	config map[string]string // file configuration (goos, cpu, s3kit-file-transfers, ...)
	params map[string]map[string]string
}

var gomaxprocs = regexp.MustCompile(`-\d+$`)

func readResults(path string) (*results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rs := &results{values: map[key]map[string][]float64{}, config: map[string]string{}, params: map[string]map[string]string{}}
	rd := benchfmt.NewReader(f, path)
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue // syntax errors: lines that only look like results
		}
		for _, c := range res.Config {
			if c.File {
				rs.config[c.Key] = string(c.Value)
			}
		}
		name := strings.TrimPrefix(gomaxprocs.ReplaceAllString(string(res.Name), ""), "Benchmark")
		parts := strings.Split(name, "/")
		k := key{bench: parts[0]}
		var ps []string
		pm := map[string]string{}
		for _, p := range parts[1:] {
			kv, v, _ := strings.Cut(p, "=")
			if kv == "client" {
				k.client = v
				continue
			}
			ps = append(ps, p)
			pm[kv] = v
		}
		k.params = strings.Join(ps, "/")
		rs.params[k.params] = pm
		if k.client == "" {
			continue
		}
		if _, ok := rs.values[k]; !ok {
			rs.keys = append(rs.keys, k)
			rs.values[k] = map[string][]float64{}
		}
		for _, v := range res.Values {
			unit, val := v.Unit, v.Value
			if v.OrigUnit != "" {
				unit, val = v.OrigUnit, v.OrigValue
			}
			rs.values[k][unit] = append(rs.values[k][unit], val)
		}
	}
	return rs, rd.Err()
}

// sample returns the measurements of k in unit.
func (rs *results) sample(k key, unit string) []float64 { return rs.values[k][unit] }

// median returns the median of k in unit, and whether there is one.
func (rs *results) median(k key, unit string) (float64, bool) {
	v := slices.Clone(rs.sample(k, unit))
	if len(v) == 0 {
		return 0, false
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// paramSets returns the parameter sets of bench, in order of appearance.
func (rs *results) paramSets(bench string) []string {
	var out []string
	for _, k := range rs.keys {
		if k.bench == bench && !slices.Contains(out, k.params) {
			out = append(out, k.params)
		}
	}
	return out
}

// clients returns the clients measured for bench and params, in the
// order of the suite.
func (rs *results) clients(bench, params string) []string {
	var out []string
	for _, c := range clientOrder {
		if _, ok := rs.values[key{bench, params, c}]; ok {
			out = append(out, c)
		}
	}
	return out
}

var clientOrder = []string{"s3kit", "s3kit-tuned", "s3kit-cli", "sdk", "sdk-tuned", "tm", "tm-tuned", "minio", "minio-tuned", "s5cmd", "rclone", "aws", "raw"}

var clientDesc = map[string]string{
	"s3kit":       "s3kit at its defaults: 8 MiB parts, 8 at once, 64 MiB memory budget, CRC64NVME checksum, unsigned payload",
	"s3kit-tuned": "s3kit tuned-equal",
	"sdk":         "aws-sdk-go-v2 `service/s3`, one request per operation, at its defaults: SHA-256-signed payloads on plain HTTP, CRC32 checksum, 10 idle connections per host",
	"sdk-tuned":   "`service/s3` tuned-equal",
	"tm":          "aws-sdk-go-v2 `feature/s3/transfermanager` at its defaults: 8 MiB parts, 5 at once, CRC32, downloads by part number",
	"tm-tuned":    "transfermanager tuned-equal, downloads by ranges of the part size",
	"minio":       "minio-go at its defaults: streaming SHA-256 chunk signatures on plain HTTP, 4 parts at once, unknown sizes cut into parts sized for a 5 TiB object, one GET per download",
	"minio-tuned": "minio-go tuned-equal, `ConcurrentStreamParts` for streams",
	"s5cmd":       "the s5cmd CLI's `sync` at its defaults (256 files at once, 50 MiB parts; aws-sdk-go v1: SHA-256-signed payloads and Content-MD5 on plain HTTP), one process per sync, its start-up included: directory sync, sync at scale and the command-line cases",
	"rclone":      "the rclone CLI's `sync` at its defaults (bench/tools/rclone/go.mod), an on-the-fly `:s3:` remote of provider Other: ListObjects v1 per directory, a HEAD per object to read its modification time: sync at scale and the command-line cases",
	"aws":         "the aws CLI's `s3 sync` at its defaults (v1 from Debian's awscli, or whatever `aws` is on PATH): sync at scale and the command-line cases",
	"s3kit-cli":   "the s3kit command (`cmd/s3kit`, built from the checkout) at its defaults: sync at scale (the command-line cases call it `s3kit`)",
	"raw":         "plain `net/http`, no signing, no checksum, one request per transfer (a file PUT goes out with sendfile): the ceiling, null server only",
}

// base returns the s3kit configuration a peer is compared with.
func base(client string) string {
	if strings.HasSuffix(client, "-tuned") {
		return "s3kit-tuned"
	}
	return "s3kit"
}

func isS3kit(c string) bool { return strings.HasPrefix(c, "s3kit") }

type report struct {
	rs        *results
	command   string
	mode      string
	rounds    int
	duration  time.Duration
	commit    string
	goVersion string
	benchstat string
	sanity    string

	baseline       *results // an earlier commit's results, or nil
	baselineCommit string
	previous       string // an earlier report, appended
	previousCommit string
	notes          map[string]string // see readNotes
	findings       string
	cliFindings    string
}

var largeCases = []struct{ bench, title string }{
	{"UploadFile", "Upload from a file"},
	{"UploadStream", "Upload from a non-seekable stream of unknown size"},
	{"DownloadFile", "Download to a file"},
	{"DownloadWriter", "Download to an io.Writer"},
}

var smallCases = []struct{ bench, title string }{
	{"Put4K", "PUT 4 KiB"},
	{"Get4K", "GET 4 KiB"},
	{"Head4K", "HEAD"},
}

func (r *report) write(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# s3kit benchmarks\n\n")
	if r.mode != "full" {
		p("> **Smoke run** (`-short`): tiny sizes, one iteration per case. These numbers check that the suite works; they measure nothing. Run `bash bench/run.sh` for the real thing.\n\n")
	}
	p("s3kit against aws-sdk-go-v2 (`service/s3` and `feature/s3/transfermanager`) and minio-go, and for directory sync against the s5cmd CLI, in the same run, against the same server processes, interleaved: every round runs every client of a case one after the other (their order rotating from round to round), and the suite runs %d round(s). Numbers are medians over the rounds; ratios are **s3kit ÷ peer** (s3kit at its defaults against peers at theirs, s3kit tuned-equal against peers tuned-equal). Produced by `bench/run.sh` on %s; the raw results are in `bench/results/`.\n\n",
		r.rounds, time.Now().UTC().Format("2006-01-02 15:04 UTC"))

	p("## How it was run\n\n```sh\n%s\n```\n\n", r.command)
	p("- mode: %s; rounds: %d", r.mode, r.rounds)
	if r.duration > 0 {
		p("; wall time of the whole run: %s", r.duration.Round(time.Second))
	}
	p("\n")
	if r.commit != "" {
		p("- s3kit: %s\n", r.commit)
	}
	if v := r.rs.config["tuned-equal"]; v != "" {
		p("- tuned-equal settings: `%s` (s3kit's memory budget raised to (concurrency+1) × part size so that it holds as many parts as the peers allocate)\n", v)
	}
	p("- peers: %s\n\n", peerVersions())

	p("## Machine\n\n")
	p("| | |\n| --- | --- |\n")
	p("| CPUs (nproc) | %d |\n", runtime.NumCPU())
	p("| CPU model | %s |\n", cpuModel())
	p("| memory | %s |\n", memTotal())
	p("| kernel | %s |\n", strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")))
	p("| Go | %s |\n\n", r.goVersion)
	p("The machine is shared and noisy, and the server runs on the same %d cores as the client; read differences of a few percent as noise unless benchstat calls them significant.\n\n", runtime.NumCPU())

	p("## Clients\n\n| name | what |\n| --- | --- |\n")
	for _, c := range clientOrder {
		p("| `%s` | %s |\n", c, clientDesc[c])
	}
	p("\n")

	r.writeCLI(w)
	r.writeIssue10(w)
	if r.rs.hasAny("UploadFile", "UploadStream", "DownloadFile", "DownloadWriter", "Put4K", "Get4K", "Head4K", "List", "UploadStreamRSS", "SyncSmallFiles", "SyncLargeFiles", "SyncUnchanged") {
		r.writeTargets(w)
		r.writeLarge(w)
		r.writeSmall(w)
		r.writeList(w)
		r.writeSync(w)
		r.writeRSS(w)
	}

	if r.benchstat != "" {
		p("## benchstat\n\nThe same results through `benchstat -col /client` (the first column is the base of the deltas; `~` means no significant difference at α = 0.05; with fewer than 4 rounds nothing can be significant).\n\n")
		p("<details><summary>benchstat output</summary>\n\n```\n%s\n```\n\n</details>\n\n", strings.TrimRight(r.benchstat, "\n"))
	}
	if r.sanity != "" {
		p("## Null-server sanity test\n\nRun before the benchmarks: every client puts, heads, gets whole and by range, downloads and lists through the null server.\n\n<details><summary>go test -run TestNullServer -v</summary>\n\n```\n%s\n```\n\n</details>\n\n", strings.TrimRight(r.sanity, "\n"))
	}
	if r.previous != "" {
		p("## Earlier tables, not re-run (s3kit %s)\n\n", r.previousCommit)
		p("The tables below are those of an earlier full run, at commit %s, kept as they were: this run did not redo their cases. Their own \"How it was run\" says how to.\n\n", r.previousCommit)
		for line := range strings.Lines(r.previous) {
			if strings.HasPrefix(line, "#") {
				line = "##" + line // one level below this report's sections
			}
			p("%s", line)
		}
		p("\n")
	}
	p("## Method and caveats\n\n")
	for _, s := range []string{
		"**Servers.** The null server (`bench/nullserver.go`) runs in a child process (the test binary again), so its CPU time is not the client's: it reads and discards PUT and UploadPart bodies, answers multipart uploads with correct XML, and serves every GET from one in-memory 1 MiB pattern repeated to the object's size, with Range, partNumber, ETag and Last-Modified. versitygw runs on a temporary directory of the local disk, started as `internal/s3test` starts it. Both speak plain HTTP on 127.0.0.1; there is no TLS, so the SDK signs payloads with SHA-256 at its defaults (on HTTPS it would not).",
		"**Objects.** Downloads read an object uploaded in 8 MiB parts without a checksum, so no client validates a checksum on download; uploads carry each client's checksum (tuned: CRC32C for all).",
		"**CPU.** `cpu-s/GiB` is the user+system CPU time of the benchmark process (getrusage RUSAGE_SELF before and after the timed section) per GiB moved, all goroutines included; `cpu-us/op` and `cpu-ms/op` likewise per operation. The server's CPU is not included.",
		"**Peak RSS.** The stream upload is run in a child process that does nothing else; the child reads its own `VmHWM` from /proc/self/status after the upload. Its `ru_maxrss` would be wrong: Go's os/exec starts children with CLONE_VM|CLONE_VFORK, and at execve Linux records the parent's high-water mark as the child's maxrss, so every child would report at least the benchmark process's peak.",
		"**Small objects.** 4 KiB PUT (over 1,000 keys), GET read whole into memory, HEAD; concurrency 32 is 32 goroutines sharing one client. `ops/s` = operations ÷ wall time.",
		"**Listing.** 100,000 keys of the null server's canned listing, 1,000 a page, each entry decoded to key and size.",
		"**Directory sync.** A local directory (100 files to a subdirectory, every file different, modified an hour before the run) to a prefix of a bucket on versitygw. Each sync starts from the same state: a new client (new connections; s5cmd a new process) and, for the uploads, a prefix no sync has used; between syncs, with the timer stopped, aws-sdk-go-v2 lists the prefix (every file there, of its size), reads back the first, middle and last objects and compares them with the files, then deletes the prefix. The unchanged re-sync starts from objects the `sdk` loop wrote; after it, one file is given new content and a later time, and one more sync must upload that file and no other, so that a sync that compared nothing could not pass. `files/s` = files handled ÷ wall time; `CPU-ms` is this process's CPU time per sync plus, for s5cmd, that of its process (from its rusage); s5cmd's allocations happen in its own process and are not counted.",
	} {
		p("- %s\n", s)
	}
}

// cmp compares s3kit's sample in unit with a peer's: the ratio of medians
// and the p-value of a Mann-Whitney U test (benchstat's).
func (r *report) cmp(a, b key, unit string) (ratio, p float64, ok bool) {
	ma, ok1 := r.rs.median(a, unit)
	mb, ok2 := r.rs.median(b, unit)
	if !ok1 || !ok2 || mb == 0 {
		return 0, 0, false
	}
	sa := benchmath.NewSample(r.rs.sample(a, unit), &benchmath.DefaultThresholds)
	sb := benchmath.NewSample(r.rs.sample(b, unit), &benchmath.DefaultThresholds)
	c := benchmath.AssumeNothing.Compare(sa, sb)
	return ma / mb, c.P, true
}

func sig(p float64, n int) string {
	if n < 4 {
		return fmt.Sprintf("n=%d", n)
	}
	if p < 0.05 {
		return fmt.Sprintf("p=%.3f", p)
	}
	return fmt.Sprintf("p=%.2f, not significant", p)
}

// best returns the peer (not s3kit, not raw) of class ("default" or
// "tuned") with the best median in unit: the highest if higher is better.
func (r *report) best(bench, params, class, unit string, higher bool) (string, float64, bool) {
	var name string
	var val float64
	for _, c := range r.rs.clients(bench, params) {
		if isS3kit(c) || c == "raw" || strings.HasSuffix(c, "-tuned") != (class == "tuned") {
			continue
		}
		v, ok := r.rs.median(key{bench, params, c}, unit)
		if !ok {
			continue
		}
		if name == "" || higher && v > val || !higher && v < val {
			name, val = c, v
		}
	}
	return name, val, name != ""
}

func (r *report) writeTargets(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## Targets\n\n")
	p("Reported, not asserted. \"n\" is the number of rounds; p is the Mann-Whitney U test of s3kit's samples against the peer's (benchstat's test); with n < 4 no difference can be significant.\n\n")
	if r.mode != "full" {
		p("> Smoke run: the verdicts below compare tiny transfers measured once. They show the report works, not whether a target is met.\n\n")
	}

	var tl tally
	verdict := tl.verdict

	// 1 and 2: large transfers against the best peer.
	p("### 1. Large transfers: throughput ≥ the best peer, CPU-s/GiB ≤ 0.6 × the best peer\n\n")
	p("| case | server | class | s3kit MB/s | best peer MB/s | ratio | throughput | s3kit CPU-s/GiB | lowest peer CPU-s/GiB | ratio | CPU |\n| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |\n")
	for _, lc := range largeCases {
		for _, params := range r.rs.paramSets(lc.bench) {
			for _, class := range []string{"default", "tuned"} {
				s := "s3kit"
				if class == "tuned" {
					s = "s3kit-tuned"
				}
				sk := key{lc.bench, params, s}
				if _, ok := r.rs.values[sk]; !ok {
					continue
				}
				tp, tpv, ok1 := r.best(lc.bench, params, class, "MB/s", true)
				cp, cpv, ok2 := r.best(lc.bench, params, class, "cpu-s/GiB", false)
				if !ok1 || !ok2 {
					continue
				}
				sv, _ := r.rs.median(sk, "MB/s")
				sc, _ := r.rs.median(sk, "cpu-s/GiB")
				rt, pt, _ := r.cmp(sk, key{lc.bench, params, tp}, "MB/s")
				rc, pc, _ := r.cmp(sk, key{lc.bench, params, cp}, "cpu-s/GiB")
				n := len(r.rs.sample(sk, "MB/s"))
				p("| %s | %s | %s | %.0f | %.0f (%s) | ×%.2f | %s (%s) | %.3f | %.3f (%s) | ×%.2f | %s (%s) |\n",
					lc.bench, r.rs.params[params]["server"], class, sv, tpv, tp, rt,
					verdict(rt >= 1, fmt.Sprintf("%.0f%% slower", (1-rt)*100)), sig(pt, n),
					sc, cpv, cp, rc,
					verdict(rc <= 0.6, fmt.Sprintf("%.2f× the peer's CPU, %.0f%% over the 0.6× target", rc, (rc/0.6-1)*100)), sig(pc, n))
			}
		}
	}
	p("\n")

	// 3: fraction of the raw ceiling on the null server.
	p("### 2. Large transfers: ≥ 80%% of the raw null-server ceiling\n\n")
	p("| case | s3kit MB/s | s3kit-tuned MB/s | raw MB/s | s3kit ÷ raw | verdict | s3kit-tuned ÷ raw | verdict |\n| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |\n")
	for _, lc := range largeCases {
		for _, params := range r.rs.paramSets(lc.bench) {
			if r.rs.params[params]["server"] != "null" {
				continue
			}
			raw, ok := r.rs.median(key{lc.bench, params, "raw"}, "MB/s")
			if !ok {
				continue
			}
			cells := []string{}
			vals := []string{}
			for _, s := range []string{"s3kit", "s3kit-tuned"} {
				v, ok := r.rs.median(key{lc.bench, params, s}, "MB/s")
				if !ok {
					vals = append(vals, "–")
					cells = append(cells, "–", "not measured")
					continue
				}
				vals = append(vals, fmt.Sprintf("%.0f", v))
				f := v / raw
				cells = append(cells, fmt.Sprintf("%.0f%%", f*100), verdict(f >= 0.8, fmt.Sprintf("%.0f points short", (0.8-f)*100)))
			}
			p("| %s | %s | %s | %.0f | %s |\n", lc.bench, vals[0], vals[1], raw, strings.Join(cells, " | "))
		}
	}
	p("\n")

	// 4: peak RSS of the 2 GiB stream upload at default settings.
	p("### 3. Unknown-size stream upload at default settings peaks ≤ 100 MiB RSS (whole process)\n\n")
	for _, params := range r.rs.paramSets("UploadStreamRSS") {
		size := r.rs.params[params]["size"]
		v, ok := r.rs.median(key{"UploadStreamRSS", params, "s3kit"}, "peak-RSS-MiB")
		if !ok {
			p("s3kit was not measured.\n\n")
			continue
		}
		mx := slices.Max(r.rs.sample(key{"UploadStreamRSS", params, "s3kit"}, "peak-RSS-MiB"))
		p("s3kit at its defaults uploading %s: median peak RSS %.1f MiB, highest %.1f MiB: ", size, v, mx)
		switch {
		case size != "2GiB":
			p("not comparable with the target, which is for 2 GiB (this run used %s).\n\n", size)
		default:
			p("%s.\n\n", verdict(mx <= 100, fmt.Sprintf("%.1f MiB over", mx-100)))
		}
	}

	// 5: small objects against raw service/s3.
	p("### 4. Small objects: ops/s ≥ aws-sdk-go-v2 `service/s3`\n\n")
	p("| case | server | concurrency | s3kit ops/s | sdk ops/s | ratio | verdict | s3kit-tuned ops/s | sdk-tuned ops/s | ratio | verdict |\n| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |\n")
	for _, sc := range smallCases {
		for _, params := range r.rs.paramSets(sc.bench) {
			pm := r.rs.params[params]
			cells := []string{}
			for _, pair := range [][2]string{{"s3kit", "sdk"}, {"s3kit-tuned", "sdk-tuned"}} {
				a, b := key{sc.bench, params, pair[0]}, key{sc.bench, params, pair[1]}
				va, ok1 := r.rs.median(a, "ops/s")
				vb, ok2 := r.rs.median(b, "ops/s")
				if !ok1 || !ok2 {
					cells = append(cells, "–", "–", "–", "not measured")
					continue
				}
				rt, pv, _ := r.cmp(a, b, "ops/s")
				n := len(r.rs.sample(a, "ops/s"))
				cells = append(cells, fmt.Sprintf("%.0f", va), fmt.Sprintf("%.0f", vb), fmt.Sprintf("×%.2f", rt),
					fmt.Sprintf("%s (%s)", verdict(rt >= 1, fmt.Sprintf("%.0f%% fewer", (1-rt)*100)), sig(pv, n)))
			}
			p("| %s | %s | %s | %s |\n", sc.title, pm["server"], pm["conc"], strings.Join(cells, " | "))
		}
	}
	p("\n**Tally: %d met, %d missed.**\n\n", tl.met, tl.missed)
}

func (r *report) writeLarge(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## Large transfers\n\nMB/s (higher is better) and client CPU-seconds per GiB (lower is better); \"÷\" columns are s3kit ÷ peer for the same column (s3kit for peers at defaults and raw, s3kit-tuned for tuned peers). A client missing from a table cannot do the case (see the notes under it).\n\n")
	for _, lc := range largeCases {
		for _, params := range r.rs.paramSets(lc.bench) {
			pm := r.rs.params[params]
			p("### %s — %s, %s server\n\n", lc.title, pm["size"], pm["server"])
			p("| client | MB/s | ÷ | CPU-s/GiB | ÷ | allocs/op | B/op |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
			for _, c := range r.rs.clients(lc.bench, params) {
				k := key{lc.bench, params, c}
				p("| `%s` | %s | %s | %s | %s | %s | %s |\n", c,
					r.fmtMedian(k, "MB/s", "%.0f"), r.fmtRatio(k, "MB/s"),
					r.fmtMedian(k, "cpu-s/GiB", "%.3f"), r.fmtRatio(k, "cpu-s/GiB"),
					r.fmtMedian(k, "allocs/op", "%.0f"), fmtBytes(r.rs.median(k, "B/op")))
			}
			p("\n")
			if missing := r.missing(lc.bench, params, lc.bench == "UploadStream"); missing != "" {
				p("%s\n\n", missing)
			}
		}
	}
}

// missing explains clients absent from a large-case table.
func (r *report) missing(bench, params string, stream bool) string {
	have := r.rs.clients(bench, params)
	var notes []string
	for _, c := range clientOrder {
		if slices.Contains(have, c) || c == "s5cmd" { // s5cmd: directory sync only
			continue
		}
		switch {
		case c == "raw" && r.rs.params[params]["server"] != "null":
			notes = append(notes, "`raw`: unsigned requests; versitygw checks signatures")
		case strings.HasPrefix(c, "sdk") && stream:
			notes = append(notes, fmt.Sprintf("`%s`: `PutObject` needs a known length or a seekable body on plain HTTP", c))
		case strings.HasPrefix(c, "tm") && bench == "DownloadWriter":
			notes = append(notes, fmt.Sprintf("`%s`: transfermanager v0.4.1's `GetObject` deadlocks on large multipart objects ([aws/aws-sdk-go-v2#3552](https://github.com/aws/aws-sdk-go-v2/issues/3552), fixed in v0.4.5, which needs aws-sdk-go-v2 v1.47 — newer than the v1.45 s3kit is built with)", c))
		default:
			notes = append(notes, fmt.Sprintf("`%s`: not measured (see the run's log)", c))
		}
	}
	if len(notes) == 0 {
		return ""
	}
	return "Not in the table: " + strings.Join(notes, "; ") + "."
}

func (r *report) fmtMedian(k key, unit, format string) string {
	v, ok := r.rs.median(k, unit)
	if !ok {
		return "–"
	}
	return fmt.Sprintf(format, v)
}

// fmtRatio formats s3kit ÷ k in unit, for a peer k.
func (r *report) fmtRatio(k key, unit string) string {
	if isS3kit(k.client) {
		return ""
	}
	rt, _, ok := r.cmp(key{k.bench, k.params, base(k.client)}, k, unit)
	if !ok {
		return "–"
	}
	return fmt.Sprintf("×%.2f", rt)
}

func fmtBytes(v float64, ok bool) string {
	switch {
	case !ok:
		return "–"
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

func (r *report) writeSmall(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## Small objects\n\nOperations per second (higher is better), with s3kit ÷ peer; CPU-µs and allocations per operation. transfermanager has no small-object operations of its own.\n\n")
	for _, sc := range smallCases {
		sets := r.rs.paramSets(sc.bench)
		if len(sets) == 0 {
			continue
		}
		p("### %s\n\n", sc.title)
		p("| client |")
		for _, ps := range sets {
			pm := r.rs.params[ps]
			p(" %s c=%s ops/s | ÷ |", pm["server"], pm["conc"])
		}
		first := sets[0]
		p(" CPU-µs/op (%s) | allocs/op |\n| --- |", strings.ReplaceAll(first, "/", ", "))
		for range sets {
			p(" ---: | ---: |")
		}
		p(" ---: | ---: |\n")
		for _, c := range clientOrder {
			seen := false
			for _, ps := range sets {
				if _, ok := r.rs.values[key{sc.bench, ps, c}]; ok {
					seen = true
				}
			}
			if !seen {
				continue
			}
			p("| `%s` |", c)
			for _, ps := range sets {
				k := key{sc.bench, ps, c}
				p(" %s | %s |", r.fmtMedian(k, "ops/s", "%.0f"), r.fmtRatio(k, "ops/s"))
			}
			k := key{sc.bench, first, c}
			p(" %s | %s |\n", r.fmtMedian(k, "cpu-us/op", "%.0f"), r.fmtMedian(k, "allocs/op", "%.0f"))
		}
		p("\n")
	}
}

func (r *report) writeList(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	for _, params := range r.rs.paramSets("List") {
		pm := r.rs.params[params]
		p("## Listing %s keys (null server)\n\n", pm["keys"])
		p("| client | keys/s | ÷ | CPU-ms per listing | ÷ | allocs per listing | bytes allocated |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, c := range r.rs.clients("List", params) {
			k := key{"List", params, c}
			p("| `%s` | %s | %s | %s | %s | %s | %s |\n", c,
				r.fmtMedian(k, "keys/s", "%.0f"), r.fmtRatio(k, "keys/s"),
				r.fmtMedian(k, "cpu-ms/op", "%.0f"), r.fmtRatio(k, "cpu-ms/op"),
				r.fmtMedian(k, "allocs/op", "%.0f"), fmtBytes(r.rs.median(k, "B/op")))
		}
		p("\n")
	}
}

var syncCases = []struct{ bench, title string }{
	{"SyncSmallFiles", "Upload into an empty prefix"},
	{"SyncLargeFiles", "Upload into an empty prefix"},
	{"SyncUnchanged", "Re-sync of an unchanged directory: listing and comparing only"},
}

func (r *report) writeSync(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	measured := false
	for _, sc := range syncCases {
		measured = measured || len(r.rs.paramSets(sc.bench)) > 0
	}
	if !measured {
		return
	}
	p("## Directory sync (local directory to a bucket prefix, versitygw)\n\n")
	p("`s3kit.Sync` at its defaults (8 files at once) against `s5cmd sync` at its defaults and, for uploads, `sdk`: the plain aws-sdk-go-v2 loop at the SDK's defaults — walk the directory, one `PutObject` per file from 8 goroutines — which lists and compares nothing at the destination: less work than a sync, a ceiling for the uploads. \"÷\" is s3kit ÷ peer: above ×1.00 s3kit is faster (files/s, MB/s); below ×1.00 it uses less CPU (CPU-ms per sync).\n\n")
	for _, sc := range syncCases {
		for _, params := range r.rs.paramSets(sc.bench) {
			pm := r.rs.params[params]
			p("### %s — %s files of %s\n\n", sc.title, pm["files"], pm["size"])
			clients := r.rs.clients(sc.bench, params)
			mb := slices.ContainsFunc(clients, func(c string) bool {
				_, ok := r.rs.median(key{sc.bench, params, c}, "MB/s")
				return ok
			})
			p("| client | files/s | ÷ |")
			if mb {
				p(" MB/s | ÷ |")
			}
			p(" CPU-ms per sync | ÷ | allocs per sync | bytes allocated |\n| --- | ---: | ---: |")
			if mb {
				p(" ---: | ---: |")
			}
			p(" ---: | ---: | ---: | ---: |\n")
			for _, c := range clients {
				k := key{sc.bench, params, c}
				p("| `%s` | %s | %s |", c, r.fmtMedian(k, "files/s", "%.0f"), r.fmtRatio(k, "files/s"))
				if mb {
					p(" %s | %s |", r.fmtMedian(k, "MB/s", "%.0f"), r.fmtRatio(k, "MB/s"))
				}
				p(" %s | %s | %s | %s |\n", r.fmtMedian(k, "cpu-ms/op", "%.1f"), r.fmtRatio(k, "cpu-ms/op"),
					r.fmtMedian(k, "allocs/op", "%.0f"), fmtBytes(r.rs.median(k, "B/op")))
			}
			p("\n")
			if !slices.Contains(clients, "s5cmd") {
				p("Not in the table: `s5cmd`: not installed, or it failed (see the run's log).\n\n")
			}
		}
	}
}

func (r *report) writeRSS(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	for _, params := range r.rs.paramSets("UploadStreamRSS") {
		pm := r.rs.params[params]
		p("## Peak RSS of a %s stream upload (null server, child process)\n\n", pm["size"])
		p("The whole child process: Go runtime, client, buffers. `raw` (one chunked PUT through a 32 KiB copy buffer) is the floor of a Go process doing the upload. MB/s here includes starting the process.\n\n")
		p("| client | peak RSS MiB (median) | highest | MB/s | CPU-s/GiB |\n| --- | ---: | ---: | ---: | ---: |\n")
		for _, c := range r.rs.clients("UploadStreamRSS", params) {
			k := key{"UploadStreamRSS", params, c}
			mx := "–"
			if s := r.rs.sample(k, "peak-RSS-MiB"); len(s) > 0 {
				mx = fmt.Sprintf("%.1f", slices.Max(s))
			}
			p("| `%s` | %s | %s | %s | %s |\n", c, r.fmtMedian(k, "peak-RSS-MiB", "%.1f"), mx,
				r.fmtMedian(k, "MB/s", "%.0f"), r.fmtMedian(k, "cpu-s/GiB", "%.3f"))
		}
		p("\n`sdk` cannot upload a stream of unknown size over plain HTTP and is not in the table.\n\n")
	}
}

func readFile(p string) string {
	data, _ := os.ReadFile(p)
	return string(data)
}

func cpuModel() string {
	sc := bufio.NewScanner(strings.NewReader(readFile("/proc/cpuinfo")))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() string {
	sc := bufio.NewScanner(strings.NewReader(readFile("/proc/meminfo")))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err == nil {
				return fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	return "unknown"
}

// peerVersions reads the peers' versions from go.mod in the working
// directory (bench/).
func peerVersions() string {
	want := []string{
		"github.com/aws/aws-sdk-go-v2/service/s3",
		"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager",
		"github.com/minio/minio-go/v7",
		"golang.org/x/perf",
	}
	found := map[string]string{}
	for _, line := range strings.Split(readFile("go.mod"), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && slices.Contains(want, f[0]) {
			found[f[0]] = f[1]
		}
	}
	var out []string
	for _, m := range want {
		if v, ok := found[m]; ok {
			out = append(out, fmt.Sprintf("`%s` %s", m, v))
		}
	}
	if len(out) == 0 {
		return "unknown (no bench/go.mod in the working directory)"
	}
	const s5cmd = "github.com/peak/s5cmd/v2"
	for _, line := range strings.Split(readFile("tools/go.mod"), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == s5cmd {
			out = append(out, fmt.Sprintf("`%s` %s (bench/tools/go.mod)", s5cmd, f[1]))
		}
	}
	return strings.Join(out, ", ")
}

// tally counts the targets met and missed as their verdicts are written.
type tally struct{ met, missed int }

// verdict is "**met**" if ok, else "missed: " and miss; it counts which.
func (t *tally) verdict(ok bool, miss string) string {
	if ok {
		t.met++
		return "**met**"
	}
	t.missed++
	return "missed: " + miss
}

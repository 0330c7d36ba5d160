#!/usr/bin/env bash
# Runs s3kit's benchmark suite and writes the report.
#
#   bash bench/run.sh            full run (~20 minutes on 2 cores); writes
#                                BENCHMARKS.md and bench/results/full.txt
#   bash bench/run.sh -short     smoke run (about a minute): tiny sizes, one
#                                iteration per case; writes bench/results/short.md
#                                and short.txt, never BENCHMARKS.md
#
# Options: -rounds N (default 4 full, 1 short), -o FILE (the report),
# -servers null,versitygw, -clients a,b,c, -cases GROUP,... (default all:
# transfers, small, list, rss, sync, fs-range, proc-download, sync-scale,
# cli), -section cli (write only the command-line section, into the report
# -o, replacing its earlier one: for a run of -cases cli; the raw results
# then go to bench/results/cli-MODE.txt),
# -baseline FILE -baseline-commit C (an earlier run's raw results, shown
# beside s3kit's in the whole-process tables), -previous FILE
# -previous-commit C (an earlier report whose tables are appended, for a
# run of only some groups); anything after -- goes to the test binary of
# every round.
#
# The command-line group cli (bench/cli_test.go, issue 9): the s3kit command,
# built here once from the checkout, against s5cmd, rclone and the aws CLI
# on versitygw and MinIO (10,000 files of 4 KiB up, no-op sync, down; 1 GiB
# up and down), every round; 19 to 21 minutes a round on the 2 shared cores
# at load averages of 6 to 23 (the aws CLI takes 70-80 s per small-file copy). The
# smoke run does it with 20 files and 16 MiB on versitygw only.
#
# The whole-process groups (bench/scale_test.go, issue 10): fs-range and
# proc-download run every round; sync-scale (10k, 100k and 1M keys against
# s5cmd, rclone and the aws CLI; about an hour on 2 shared cores) runs in
# round 1 only. The full run installs rclone and the aws CLI
# (bench/tools/install.sh); the smoke run does not, and skips them if they
# are missing.
#
# What it does: installs versitygw (scripts/servers.sh) and s5cmd
# (bench/tools/install.sh; with -short, a failed install skips the s5cmd
# cases instead of failing the run), builds the benchmark test binary once,
# runs the null-server sanity test, then runs N rounds; each round runs
# every case group in its own process, every client of a case one after the
# other against the same servers, their order rotated by the round number.
# benchstat (pinned in bench/go.mod) summarises the rounds, and
# cmd/benchreport writes the report. The exit status is non-zero
# if the sanity test or any benchmark failed; the report is written anyway.
set -euo pipefail

bench=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname -- "$bench")
cd -- "$bench"

mode=full rounds="" out="" servers="" clients="" cases=all section=""
baseline="" baseline_commit="" previous="" previous_commit=""
extra=()
while [[ $# -gt 0 ]]; do
	case $1 in
	-short | --short) mode=short ;;
	-rounds | --rounds) rounds=$2; shift ;;
	-o) out=$2; shift ;;
	-servers | --servers) servers=$2; shift ;;
	-clients | --clients) clients=$2; shift ;;
	-cases | --cases) cases=$2; shift ;;
	-section | --section) section=$2; shift ;;
	-baseline) baseline=$2; shift ;;
	-baseline-commit) baseline_commit=$2; shift ;;
	-previous) previous=$2; shift ;;
	-previous-commit) previous_commit=$2; shift ;;
	--) shift; extra=("$@"); break ;;
	-h | --help) sed -n '2,45p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
	esac
	shift
done

command="bash bench/run.sh"
[[ $mode == short ]] && command+=" -short"
[[ -n $rounds ]] && command+=" -rounds $rounds"
[[ -n $servers ]] && command+=" -servers $servers"
[[ -n $clients ]] && command+=" -clients $clients"
[[ $cases != all ]] && command+=" -cases $cases"
[[ -n $section ]] && command+=" -section $section"
[[ ${#extra[@]} -gt 0 ]] && command+=" -- ${extra[*]}"

flags=()
if [[ $mode == short ]]; then
	rounds=${rounds:-1}
	out=${out:-$bench/results/short.md}
	small_benchtime=1x
	sync_unchanged_benchtime=1x
	# The aws CLI uploads about 10 small files a second on the shared
	# cores: the smoke run has it only list and compare.
	flags+=(-test.short -aws-first-max 0 -cli-servers versitygw)
else
	rounds=${rounds:-4}
	out=${out:-$repo/BENCHMARKS.md}
	# 1,000 operations per small-object case: 0.2-0.5 s on the null server,
	# a few seconds for PUTs on versitygw.
	small_benchtime=1000x
	# A re-sync of 1,000 unchanged files takes 0.05-0.2 s: 10 of them a
	# round, for a median less at the mercy of one hiccup.
	sync_unchanged_benchtime=10x
fi
[[ -n $servers ]] && flags+=(-servers "$servers")
[[ -n $clients ]] && flags+=(-clients "$clients")
flags+=("${extra[@]}")

mkdir -p results
raw=results/$mode.txt
# A run of one section keeps the full run's raw results as they were.
[[ -n $section ]] && raw=results/$section-$mode.txt
work=$(mktemp -d "${TMPDIR:-/tmp}/s3kit-bench-run.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
# The benchmarks' files (1 GiB sources and downloads, versitygw's data) go
# under os.TempDir(); pointing it into $work removes them even when a test
# binary is killed (a timeout) before its own clean-up runs.
mkdir "$work/tmp"
start=$SECONDS
status=0

echo "== installing versitygw"
bash "$repo/scripts/servers.sh" install versitygw

echo "== installing s5cmd"
install_s5cmd=(bash "$bench/tools/install.sh" s5cmd)
# A build from source: half a minute to a minute and a half. The smoke run
# does not wait longer (timeout stops the whole process group: go build too).
[[ $mode == short ]] && install_s5cmd=(timeout -k 10s 3m "${install_s5cmd[@]}")
if ! "${install_s5cmd[@]}"; then
	if [[ $mode != short ]]; then
		echo "run.sh: installing s5cmd failed; the sync cases need it" >&2
		exit 1
	fi
	# Not again in every round's benchmarks, under the smoke run's budget.
	echo "run.sh: installing s5cmd failed; the smoke run skips its cases" >&2
	flags+=(-s5cmd none)
fi

want() { [[ $cases == all || ",$cases," == *",$1,"* ]]; }

if { want sync-scale || want cli; } && [[ $mode != short ]]; then
	echo "== installing rclone and the aws CLI"
	if ! bash "$bench/tools/install.sh" rclone aws; then
		echo "run.sh: installing rclone or the aws CLI failed; the sync-scale and cli cases need them" >&2
		exit 1
	fi
fi
if want proc-download || want cli; then
	echo "== installing minio"
	bash "$repo/scripts/servers.sh" install minio
fi

echo "== building the benchmark binary"
go test -c -o "$work/bench.test" .
if want cli; then
	echo "== building the s3kit command"
	go build -C "$repo" -o "$work/s3kit" ./cmd/s3kit
	flags+=(-cli-s3kit "$work/s3kit")
fi

echo "== sanity test: every client against the null server"
if ! TMPDIR="$work/tmp" "$work/bench.test" -test.run '^TestNullServer' -test.v -test.count=1 >"$work/sanity.txt" 2>&1; then
	cat "$work/sanity.txt"
	echo "run.sh: the null server sanity test failed" >&2
	exit 1
fi
grep -E '^(--- |ok|PASS|FAIL)' "$work/sanity.txt" | grep -v '^    ' | tail -12

: >"$raw"
run() { # benchtime regexp [timeout]
	local st t0=$SECONDS
	set +e
	# The timeout only stops a client that hangs (one did: see
	# client_sdk.go); a group takes a few minutes.
	TMPDIR="$work/tmp" "$work/bench.test" -test.run '^$' -test.bench "$2" -test.benchtime "$1" -test.timeout "${3:-30m}" \
		-round "$round" "${flags[@]}" 2>&1 |
		tee -a "$raw" | grep -E '^(Benchmark|--- FAIL|FAIL|panic|\s+\S+_test\.go:)'
	st=${PIPESTATUS[0]}
	set -e
	echo "-- $2: $((SECONDS - t0))s"
	if [[ $st -ne 0 ]]; then
		echo "run.sh: round $round, $2 failed" >&2
		status=1
	fi
}
for round in $(seq 1 "$rounds"); do
	echo "== round $round/$rounds"
	want transfers && run 1x '^Benchmark(UploadFile|UploadStream|DownloadFile|DownloadWriter)$'
	want small && run "$small_benchtime" '^Benchmark(Put4K|Get4K|Head4K)$'
	want list && run 1x '^BenchmarkList$'
	want rss && run 1x '^BenchmarkUploadStreamRSS$'
	if want sync; then
		run 1x '^BenchmarkSync(SmallFiles|LargeFiles)$'
		run "$sync_unchanged_benchtime" '^BenchmarkSyncUnchanged$'
	fi
	want fs-range && run 1x '^BenchmarkFSRange$'
	want proc-download && run 1x '^BenchmarkProcDownload$' 60m
	want cli && run 1x '^BenchmarkCLI$' 60m
	if want sync-scale && [[ $round == 1 ]]; then
		run 1x '^BenchmarkSyncScale$' 180m
	fi
done

echo "== benchstat"
# One table per unit; columns are the clients, the first (s3kit) the base.
order='s3kit s3kit-tuned s3kit-cli sdk sdk-tuned tm tm-tuned minio minio-tuned s5cmd rclone aws raw'
go run golang.org/x/perf/cmd/benchstat -col "/client@($order)" "$raw" >"$work/benchstat.txt" 2>&1 || status=1

echo "== report"
commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$repo" status --porcelain -- . ':!bench' ':!BENCHMARKS.md' 2>/dev/null)" ]]; then
	commit+=" with uncommitted changes in the working tree"
fi
report=(-o "$out")
[[ -n $section ]] && report=(-section "$section" -into "$out")
go run ./cmd/benchreport -results "$raw" -benchstat "$work/benchstat.txt" -sanity "$work/sanity.txt" \
	-command "$command" -mode "$mode" -rounds "$rounds" -duration "$((SECONDS - start))s" \
	-commit "$commit" -go "$(go version)" "${report[@]}" \
	${baseline:+-baseline "$baseline" -baseline-commit "$baseline_commit"} \
	${previous:+-previous "$previous" -previous-commit "$previous_commit"}
echo "wrote $out and bench/$raw in $((SECONDS - start))s"
exit $status

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
# -servers null,versitygw, -clients a,b,c; anything after -- goes to the test
# binary of every round.
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

mode=full rounds="" out="" servers="" clients=""
extra=()
while [[ $# -gt 0 ]]; do
	case $1 in
	-short | --short) mode=short ;;
	-rounds | --rounds) rounds=$2; shift ;;
	-o) out=$2; shift ;;
	-servers | --servers) servers=$2; shift ;;
	-clients | --clients) clients=$2; shift ;;
	--) shift; extra=("$@"); break ;;
	-h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
	esac
	shift
done

command="bash bench/run.sh"
[[ $mode == short ]] && command+=" -short"
[[ -n $rounds ]] && command+=" -rounds $rounds"
[[ -n $servers ]] && command+=" -servers $servers"
[[ -n $clients ]] && command+=" -clients $clients"
[[ ${#extra[@]} -gt 0 ]] && command+=" -- ${extra[*]}"

flags=()
if [[ $mode == short ]]; then
	rounds=${rounds:-1}
	out=${out:-$bench/results/short.md}
	small_benchtime=1x
	sync_unchanged_benchtime=1x
	flags+=(-test.short)
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

echo "== building the benchmark binary"
go test -c -o "$work/bench.test" .

echo "== sanity test: every client against the null server"
if ! TMPDIR="$work/tmp" "$work/bench.test" -test.run '^TestNullServer' -test.v -test.count=1 >"$work/sanity.txt" 2>&1; then
	cat "$work/sanity.txt"
	echo "run.sh: the null server sanity test failed" >&2
	exit 1
fi
grep -E '^(--- |ok|PASS|FAIL)' "$work/sanity.txt" | grep -v '^    ' | tail -12

: >"$raw"
run() { # benchtime regexp
	local st t0=$SECONDS
	set +e
	# The timeout only stops a client that hangs (one did: see
	# client_sdk.go); a group takes a few minutes.
	TMPDIR="$work/tmp" "$work/bench.test" -test.run '^$' -test.bench "$2" -test.benchtime "$1" -test.timeout 30m \
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
	run 1x '^Benchmark(UploadFile|UploadStream|DownloadFile|DownloadWriter)$'
	run "$small_benchtime" '^Benchmark(Put4K|Get4K|Head4K)$'
	run 1x '^BenchmarkList$'
	run 1x '^BenchmarkUploadStreamRSS$'
	run 1x '^BenchmarkSync(SmallFiles|LargeFiles)$'
	run "$sync_unchanged_benchtime" '^BenchmarkSyncUnchanged$'
done

echo "== benchstat"
# One table per unit; columns are the clients, the first (s3kit) the base.
order='s3kit s3kit-tuned sdk sdk-tuned tm tm-tuned minio minio-tuned s5cmd raw'
go run golang.org/x/perf/cmd/benchstat -col "/client@($order)" "$raw" >"$work/benchstat.txt" 2>&1 || status=1

echo "== report"
commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$repo" status --porcelain -- . ':!bench' ':!BENCHMARKS.md' 2>/dev/null)" ]]; then
	commit+=" with uncommitted changes in the working tree"
fi
go run ./cmd/benchreport -results "$raw" -benchstat "$work/benchstat.txt" -sanity "$work/sanity.txt" \
	-command "$command" -mode "$mode" -rounds "$rounds" -duration "$((SECONDS - start))s" \
	-commit "$commit" -go "$(go version)" -o "$out"
echo "wrote $out and bench/$raw in $((SECONDS - start))s"
exit $status

#!/usr/bin/env bash
# Builds the s3kit command from this checkout into OUT with a CPU profile:
# cmd/s3kit/main.go replaced, through a go build overlay (the checkout is
# not touched), by cliprofile/main.go.txt, which profiles the whole run
# into $S3KIT_CLI_CPUPROFILE when that is set. BenchmarkCLI and
# BenchmarkSyncScale set it for every s3kit process when the benchmark runs
# with S3KIT_BENCH_CPUPROFILE=/some/dir/NAME.pprof (one NAME-s3kit-cli-N.pprof
# per process), e.g.:
#
#   bash bench/tools/cliprofile.sh /tmp/s3kit-prof
#   cd bench && S3KIT_BENCH_CPUPROFILE=/tmp/prof/cli.pprof go test -run '^$' \
#     -bench 'BenchmarkCLI/op=cp-up/files=10000' -benchtime 1x \
#     -cli-s3kit /tmp/s3kit-prof -cli-clients s3kit -cli-servers versitygw .
#   go tool pprof -top /tmp/s3kit-prof /tmp/prof/cli-s3kit-cli-1.pprof
#
# Usage: bash bench/tools/cliprofile.sh OUT
set -euo pipefail
tools=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd -- "$tools/../.." && pwd)
out=${1:?usage: cliprofile.sh OUT}
[[ $out == /* ]] || out=$PWD/$out
overlay=$(mktemp "${TMPDIR:-/tmp}/s3kit-cliprofile.XXXXXX.json")
trap 'rm -f -- "$overlay"' EXIT
printf '{"Replace":{"%s":"%s"}}\n' "$repo/cmd/s3kit/main.go" "$tools/cliprofile/main.go.txt" >"$overlay"
go build -C "$repo" -overlay "$overlay" -o "$out" ./cmd/s3kit

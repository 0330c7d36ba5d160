#!/usr/bin/env bash
# Runs every Go fuzz target (func FuzzXxx) of the s3kit module, one after
# another, each for DURATION (default 10m) with one fuzz worker, so that a
# shared machine is not swamped. Stops at the first failure and says which
# target failed and with which input (go test writes it under
# testdata/fuzz/FuzzXxx/ in the package; re-run it with the command printed).
#
# The fuzz targets need no S3 server, so the test servers the package's
# TestMain would start are off unless S3KIT_TEST_SERVERS says otherwise.
# The first run of each package builds it with coverage instrumentation,
# which takes minutes.
#
# Usage: bash scripts/fuzz.sh [duration]   (a go test -fuzztime value: 90s, 10m, 5000x)
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

duration=${1:-10m}
export S3KIT_TEST_SERVERS=${S3KIT_TEST_SERVERS-none}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

total=0
for dir in $(go list -f '{{.Dir}}' ./...); do
	pkg=.
	[[ "$dir" != "$PWD" ]] && pkg=./${dir#"$PWD"/}
	targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
	for target in $targets; do
		total=$((total + 1))
		echo "== $pkg $target ($duration)"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$duration" -parallel 1 "$pkg" 2>&1 | tee "$log"; then
			echo >&2
			echo "FAILED: $target in package $pkg" >&2
			# go test names the input it saved and the command to replay it.
			grep -E -A1 'Failing input written to|To re-run:|^[[:space:]]+[a-z0-9_]+_test\.go:[0-9]+:' "$log" | grep -v '^--$' >&2 || true
			input=$(sed -n 's/.*Failing input written to \(.*\)$/\1/p' "$log" | tail -1)
			if [[ -n "$input" && -f "$dir/$input" ]]; then
				echo "input ($dir/$input):" >&2
				cat "$dir/$input" >&2
			fi
			exit 1
		fi
	done
done
echo "== all $total fuzz targets passed ($duration each)"

#!/usr/bin/env bash
# Runs the randomized fault soak (TestSoak in soak_test.go) against every
# test server: operations of every kind through a fault-injecting proxy,
# checked against a model at the end. The seed is printed first; rerun with
# S3KIT_SOAK_SEED=<seed> to reproduce a run.
#
# Usage: scripts/soak.sh [short|long] [extra go test flags]
#   short (default): 500 operations per server (a few minutes)
#   long:            10,000 operations per server
# Environment: S3KIT_SOAK_SEED, S3KIT_SOAK_OPS (overrides the mode),
# S3KIT_SOAK_WORKERS, S3KIT_SOAK_RATE, S3KIT_SOAK_OP_TIMEOUT,
# S3KIT_TEST_SERVERS. Every operation is logged as it ends to
# S3KIT_SOAK_LOG (default: a file in TMPDIR named after the time).
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

mode=short
if [[ $# -gt 0 && ( $1 == short || $1 == long ) ]]; then
	mode=$1
	shift
fi
case $mode in
short) ops=500 timeout=20m ;;
long) ops=10000 timeout=4h ;;
esac
export S3KIT_SOAK_OPS=${S3KIT_SOAK_OPS:-$ops}

scripts/servers.sh install all

export S3KIT_SOAK_LOG=${S3KIT_SOAK_LOG:-${TMPDIR:-/tmp}/s3kit-soak-$(date -u +%Y%m%dT%H%M%SZ).log}
echo "soak: $mode mode, $S3KIT_SOAK_OPS operations per server; operation log in $S3KIT_SOAK_LOG" >&2
exec go test -count=1 -run '^TestSoak$' -timeout "$timeout" -v "$@" .

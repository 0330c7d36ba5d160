#!/usr/bin/env bash
# Runs every check and test of s3kit: installs the pinned test servers
# (versitygw, MinIO and SeaweedFS, cached in .tools/bin), checks formatting,
# go vet, staticcheck and go mod tidy, runs the whole test suite with the
# race detector, then checks the benchmark module and runs its sanity tests.
# The tests start their own servers on 127.0.0.1.
#
# The interchange tests (interop_test.go) need the aws CLI, rclone and
# s5cmd. Under CI=true, or with S3KIT_INTEROP=1, they are installed first
# (bench/tools/install.sh, cached in .tools/bin: rclone's first build takes
# minutes) and a missing one fails the tests; otherwise the tests that need
# a missing tool are skipped, each saying how to install it.
#
# Usage: scripts/test.sh [extra go test flags]
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2

echo "== installing test servers"
scripts/servers.sh install all

if [[ ${CI:-} == true || ${S3KIT_INTEROP:-} == 1 ]]; then
	echo "== installing the clients of the interchange tests (aws CLI, rclone, s5cmd)"
	bash bench/tools/install.sh aws rclone s5cmd
	# The tests must not skip for a missing tool: they fail instead.
	export CI=true
fi

echo "== gofmt"
unformatted=$(gofmt -l .)
if [[ -n "$unformatted" ]]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go mod tidy"
cp go.mod /tmp/s3kit-go.mod.$$ && cp go.sum /tmp/s3kit-go.sum.$$
go mod tidy
if ! cmp -s go.mod /tmp/s3kit-go.mod.$$ || ! cmp -s go.sum /tmp/s3kit-go.sum.$$; then
	echo "go.mod/go.sum are not tidy; run go mod tidy" >&2
	exit 1
fi
rm -f /tmp/s3kit-go.mod.$$ /tmp/s3kit-go.sum.$$

echo "== go vet"
go vet ./...

echo "== staticcheck"
go run "$STATICCHECK" ./...

echo "== go test"
go test -race -count=1 -timeout 45m "$@" ./...

# The benchmark module (bench/, its own go.mod so the peers it measures stay
# out of s3kit's): it must build, pass its checks, and its null server must
# be a correct enough S3 for every client.
echo "== bench module: vet, staticcheck, sanity tests"
(cd bench && go vet ./... && go run "$STATICCHECK" ./... && go test -count=1 "$@" ./...)

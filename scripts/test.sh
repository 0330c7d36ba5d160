#!/usr/bin/env bash
# Runs every check and test of s3kit: installs the pinned test servers
# (versitygw and MinIO, cached in .tools/bin), checks formatting, go vet,
# staticcheck and go mod tidy, runs the whole test suite with the race
# detector, then checks the benchmark module and runs its sanity tests. The
# tests start their own servers on 127.0.0.1.
#
# Usage: scripts/test.sh [extra go test flags]
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2

echo "== installing test servers"
scripts/servers.sh install all

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
go test -race -count=1 -timeout 20m "$@" ./...

# The benchmark module (bench/, its own go.mod so the peers it measures stay
# out of s3kit's): it must build, pass its checks, and its null server must
# be a correct enough S3 for every client.
echo "== bench module: vet, staticcheck, sanity tests"
(cd bench && go vet ./... && go run "$STATICCHECK" ./... && go test -count=1 "$@" ./...)

#!/usr/bin/env bash
# Installs the S3-compatible servers that the integration tests run
# (internal/s3test) into <repo>/.tools/bin, at pinned versions.
#
# Usage: scripts/servers.sh install [versitygw|minio|seaweedfs|all]   (default: all)
#
# A server is reinstalled only when its binary is missing or its stamp file
# (.tools/bin/NAME.version) names another version than the pin below, so
# changing a pin here is enough to upgrade every checkout. Installs build from
# source through the Go module proxy; MinIO takes a few minutes, so CI should
# run this before `go test` rather than let the first test pay for it under
# the test timeout.
set -euo pipefail

VERSITYGW_PKG=github.com/versity/versitygw/cmd/versitygw
VERSITYGW_VERSION=v1.8.0
MINIO_PKG=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
# SeaweedFS's go.mod carries replace directives, so `go install pkg@version`
# refuses it: its module source is downloaded and `weed` built there instead.
SEAWEEDFS_MODULE=github.com/seaweedfs/seaweedfs
SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
bin="$repo/.tools/bin"

usage() {
	echo "usage: $0 install [versitygw|minio|seaweedfs|all]" >&2
	exit 2
}

current() { # name version: succeeds if the installed binary is that version
	[[ -x "$bin/$1" ]] || return 1
	[[ -f "$bin/$1.version" && "$(<"$bin/$1.version")" == "$2" ]] && return 0
	# A binary without a stamp (installed by hand with the same command) is
	# adopted if its build information names the pinned version.
	if go version -m "$bin/$1" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]].*[[:space:]]$2([[:space:]]|\$)"; then
		echo "$2" >"$bin/$1.version"
		return 0
	fi
	return 1
}

install_one() { # name package version [build]
	local name=$1 pkg=$2 version=$3 build=${4:-goinstall}
	current "$name" "$version" && return 0
	mkdir -p "$bin"
	(
		# Test binaries of several packages may ask for the same server at
		# once; one builds while the others wait and then find it current.
		if command -v flock >/dev/null; then
			exec {lock}>"$bin/.$name.lock"
			flock "$lock"
			current "$name" "$version" && exit 0
		fi
		echo "installing $pkg@$version into $bin" >&2
		rm -f "$bin/$name.version"
		cd "$repo"
		"$build" "$name" "$pkg" "$version"
		echo "$version" >"$bin/$name.version"
	)
}

goinstall() { # name package version
	GOBIN="$bin" GOFLAGS='' GOWORK=off go install "$2@$3"
}

gobuildmodule() { # name module version: builds ./NAME in the module's source
	local dir
	dir=$(cd "$repo" && GOFLAGS='' GOWORK=off go mod download -json "$2@$3" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n "$dir" && -d "$dir" ]] || {
		echo "go mod download $2@$3 named no source directory" >&2
		return 1
	}
	# The module cache is read-only; -mod=mod lets the build resolve what its
	# go.sum lacks without writing there, and the binary goes to a temporary
	# name first so an interrupted build never leaves a half-written one.
	(cd "$dir" && GOFLAGS=-mod=mod GOWORK=off go build -trimpath -o "$bin/.$1.tmp" "./$1")
	mv -f "$bin/.$1.tmp" "$bin/$1"
}

[[ $# -ge 1 && $1 == install ]] || usage
case ${2:-all} in
versitygw) install_one versitygw "$VERSITYGW_PKG" "$VERSITYGW_VERSION" ;;
minio) install_one minio "$MINIO_PKG" "$MINIO_VERSION" ;;
seaweedfs) install_one weed "$SEAWEEDFS_MODULE" "$SEAWEEDFS_VERSION" gobuildmodule ;;
all)
	install_one versitygw "$VERSITYGW_PKG" "$VERSITYGW_VERSION"
	install_one minio "$MINIO_PKG" "$MINIO_VERSION"
	install_one weed "$SEAWEEDFS_MODULE" "$SEAWEEDFS_VERSION" gobuildmodule
	;;
*) usage ;;
esac

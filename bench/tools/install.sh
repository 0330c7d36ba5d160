#!/usr/bin/env bash
# Installs the command-line tools the benchmarks compare s3kit with into
# <repo>/.tools/bin, at the versions pinned in bench/tools/go.mod: today
# s5cmd, for the directory sync cases (BenchmarkSync*).
#
# Usage: bash bench/tools/install.sh
#
# A tool is rebuilt only when its binary is missing or its stamp file
# (.tools/bin/NAME.version) names another version than the pin, so changing
# the pin in go.mod (then `go mod tidy` here) is enough to upgrade every
# checkout. It builds from source through the Go module proxy: half a minute
# on 2 cores with the modules cached, a minute or so without.
set -euo pipefail

tools=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd -- "$tools/../.." && pwd)
bin="$repo/.tools/bin"

S5CMD_PKG=github.com/peak/s5cmd/v2
S5CMD_VERSION=$(awk -v m="$S5CMD_PKG" '$1 == m { print $2 }' "$tools/go.mod")
if [[ -z $S5CMD_VERSION ]]; then
	echo "install.sh: $tools/go.mod does not require $S5CMD_PKG" >&2
	exit 1
fi

current() { # name module version: succeeds if the installed binary is that version
	[[ -x "$bin/$1" ]] || return 1
	[[ -f "$bin/$1.version" && "$(<"$bin/$1.version")" == "$3" ]] && return 0
	# A binary without a stamp (built by hand) is adopted if its build
	# information names the pinned version.
	if go version -m "$bin/$1" 2>/dev/null | grep -qE "^[[:space:]]+path[[:space:]]+$2\$" &&
		go version -m "$bin/$1" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+$2[[:space:]]+$3([[:space:]]|\$)"; then
		echo "$3" >"$bin/$1.version"
		return 0
	fi
	return 1
}

install_one() { # name package version [go build flags...]
	local name=$1 pkg=$2 version=$3
	shift 3
	current "$name" "$pkg" "$version" && return 0
	mkdir -p "$bin"
	(
		# Several runs may ask for the tool at once; one builds while the
		# others wait and then find it current.
		if command -v flock >/dev/null; then
			exec {lock}>"$bin/.$name.lock"
			flock "$lock"
			current "$name" "$pkg" "$version" && exit 0
		fi
		echo "installing $pkg@$version into $bin" >&2
		rm -f "$bin/$name.version"
		# -mod=readonly: the build uses exactly the versions of go.mod and
		# go.sum here, and fails rather than change them.
		GOFLAGS=-mod=readonly GOWORK=off go build -C "$tools" -trimpath "$@" -o "$bin/$name.tmp" "$pkg"
		mv -f "$bin/$name.tmp" "$bin/$name"
		echo "$version" >"$bin/$name.version"
	)
}

# s5cmd's release builds set its version string the same way.
install_one s5cmd "$S5CMD_PKG" "$S5CMD_VERSION" -ldflags "-X=$S5CMD_PKG/version.Version=$S5CMD_VERSION -X=$S5CMD_PKG/version.GitCommit=go-build"

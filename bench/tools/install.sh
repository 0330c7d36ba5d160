#!/usr/bin/env bash
# Installs the command-line tools the benchmarks compare s3kit with into
# <repo>/.tools/bin, at the versions pinned in bench/tools/go.mod (s5cmd)
# and bench/tools/rclone/go.mod (rclone), and the aws CLI from Debian's
# awscli package when no `aws` command is on PATH. The benchmarks compare
# s3kit with them; the interchange tests write with one and read with the
# other.
#
# Usage: bash bench/tools/install.sh [s5cmd] [rclone] [aws]   (none: all)
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

pin() { # module-dir module: the version go.mod in module-dir requires
	local v
	v=$(awk -v m="$2" '$1 == m { print $2 }' "$1/go.mod")
	if [[ -z $v ]]; then
		echo "install.sh: $1/go.mod does not require $2" >&2
		exit 1
	fi
	echo "$v"
}
S5CMD_PKG=github.com/peak/s5cmd/v2
S5CMD_VERSION=$(pin "$tools" "$S5CMD_PKG")
RCLONE_PKG=github.com/rclone/rclone
RCLONE_VERSION=$(pin "$tools/rclone" "$RCLONE_PKG")

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

install_one() { # module-dir name package version [go build flags...]
	local dir=$1 name=$2 pkg=$3 version=$4
	shift 4
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
		GOFLAGS=-mod=readonly GOWORK=off go build -C "$dir" -trimpath "$@" -o "$bin/$name.tmp" "$pkg"
		mv -f "$bin/$name.tmp" "$bin/$name"
		echo "$version" >"$bin/$name.version"
	)
}

install_aws() {
	command -v aws >/dev/null && return 0
	echo "installing Debian's awscli" >&2
	local sudo=
	[[ $(id -u) == 0 ]] || sudo=sudo
	# Several runs may ask at once; apt holds its own lock, so wait for it.
	$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends awscli >/dev/null
}

want=("$@")
[[ ${#want[@]} -gt 0 ]] || want=(s5cmd rclone aws)
for t in "${want[@]}"; do
	case $t in
	s5cmd) # s5cmd's release builds set its version string this way.
		install_one "$tools" s5cmd "$S5CMD_PKG" "$S5CMD_VERSION" -ldflags "-X=$S5CMD_PKG/version.Version=$S5CMD_VERSION -X=$S5CMD_PKG/version.GitCommit=go-build" ;;
	rclone) # as rclone's release builds set theirs.
		install_one "$tools/rclone" rclone "$RCLONE_PKG" "$RCLONE_VERSION" -ldflags "-s -X=$RCLONE_PKG/fs.Version=$RCLONE_VERSION" ;;
	aws) install_aws ;;
	*) echo "install.sh: unknown tool $t (s5cmd, rclone, aws)" >&2; exit 2 ;;
	esac
done

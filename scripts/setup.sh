#!/usr/bin/env bash
# scripts/setup.sh - shared by run.sh, test.sh and fuzz.sh: install the
# missing Debian packages, then autoreconf and configure in BUILD_DIR as
# needed.
#
# Usage: scripts/setup.sh BUILD_DIR [CONFIGURE_ARG]...
#
# The packages are those that building chatd and chat and "make check"
# need, plus any named, space-separated, in SETUP_EXTRA_PACKAGES: fuzz.sh
# adds clang and libFuzzer's runtime that way.  Not root, it installs
# them with sudo; without sudo it names them, says what to run as root,
# and exits 1.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: setup.sh BUILD_DIR [CONFIGURE_ARG]...}
shift

# libsqlite3-dev keeps chatd's history, libreadline-dev builds chat,
# libssl-dev gives TLS and openssl makes the tests' certificates, tmux
# runs the terminal tests, python3-pytest runs irctest (scripts/irctest.sh),
# socat is a TLS front for chat-bench's and chat's tests and the line
# user of the IRC client tests, ngircd an IRC peer for chat-bench's
# tests, libnats-dev is the NATS client of --cluster and nats-server runs
# under the cluster tests, irssi and weechat-headless are the IRC
# clients tested.
packages=(build-essential autoconf automake libtool pkg-config check
	libsqlite3-dev libreadline-dev libssl-dev openssl python3-pytest
	socat ngircd tmux libnats-dev nats-server irssi weechat-headless)
read -r -a extra <<< "${SETUP_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null 2>&1; then
			cat >&2 <<-MSG
			setup: these Debian packages are missing: ${missing[*]}
			setup: you are not root and sudo is not installed; as root, run
			    apt-get update && apt-get install ${missing[*]}
			setup: then run this again
			MSG
			exit 1
		fi
		sudo=sudo
	fi
	echo "setup: installing ${missing[*]}" >&2
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi >&2
fi
mkdir -p "$build"
cd "$build"
# Reconfigure when the arguments change, so a stale build is never reused.
want="$*"
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$want" ] ||
   [ "$top/configure" -nt Makefile ]; then
	"$top/configure" "$@" >&2
	printf '%s' "$want" > .configure-args
fi

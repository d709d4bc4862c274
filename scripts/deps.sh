#!/usr/bin/env bash
# Installs the Debian packages that building and testing sampletop need,
# only those that are missing. Safe to run again; does nothing when all are there.
set -euo pipefail

build_pkgs=(make clang llvm gcc pkg-config bpftool libbpf-dev libelf-dev libdw-dev
	    libncurses-dev zlib1g-dev liblzma-dev libiberty-dev libjansson-dev)
test_pkgs=(tmux binutils elfutils linux-perf golang-go chromium libclang-rt-14-dev
	   rustc g++ util-linux procps jq libc6-dbg lld nodejs)

want=("${build_pkgs[@]}")
[ "${1:-}" = "--test" ] && want+=("${test_pkgs[@]}")
# npm (for the speedscope check): Debian's package, unless some nodejs already brings it.
[ "${1:-}" = "--test" ] && ! command -v npm >/dev/null && want+=(nodejs npm)

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "sampletop: missing packages: ${missing[*]}; run as root (sudo make ...) to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

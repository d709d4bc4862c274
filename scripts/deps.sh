#!/usr/bin/env bash
# Installs the Debian packages that building and testing sampletop need,
# only those that are missing. Safe to run again; does nothing when all are there.
#   scripts/deps.sh          building
#   scripts/deps.sh --demo   building, and what names every frame of the demo's report
#   scripts/deps.sh --test   building and every test
# Another apt or dpkg at work (unattended-upgrades, a second terminal) is
# waited for, up to $DEPS_LOCK_WAIT seconds (600), not taken for a failure.
set -euo pipefail

build_pkgs=(make clang llvm gcc pkg-config bpftool libbpf-dev libelf-dev libdw-dev
	    libncurses-dev zlib1g-dev liblzma-dev libiberty-dev libjansson-dev libcurl4-openssl-dev)
# Debian's libc has no symbol for __libc_start_call_main, under every
# sample: without its debug symbols each stack holds an [unknown] frame.
demo_pkgs=(libc6-dbg)
test_pkgs=(tmux binutils elfutils linux-perf golang-go chromium libclang-rt-14-dev
	   rustc g++ util-linux procps jq libc6-dbg lld nodejs xz-utils
	   clickhouse-server clickhouse-client curl)

want=("${build_pkgs[@]}")
case "${1:-}" in
--demo) want+=("${demo_pkgs[@]}") ;;
--test) want+=("${test_pkgs[@]}")
	# npm (for the speedscope check): Debian's package, unless some nodejs already brings it.
	command -v npm >/dev/null || want+=(nodejs npm) ;;
esac

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
wait_s=${DEPS_LOCK_WAIT:-600}

# lock_holder FILE: the pid holding a lock on FILE, or nothing. apt and
# dpkg take fcntl locks, which /proc/locks lists by device and inode.
lock_holder() {
	local dev ino key
	read -r dev ino < <(stat -c '%d %i' "$1" 2>/dev/null) || return 0
	key=$(printf '%02x:%02x:%s' $(((dev >> 8) & 0xfff)) $(((dev & 0xff) | ((dev >> 12) & 0xfff00))) "$ino")
	awk -v key="$key" '$2 != "->" && $6 == key { print $5; exit }' /proc/locks
}
# wait_for_apt: returns once no other apt or dpkg holds the lists lock
# (apt-get update, which does not wait for it) or dpkg's locks.
wait_for_apt() {
	local waited=0 pid f
	while :; do
		pid=
		for f in /var/lib/apt/lists/lock /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock; do
			pid=$(lock_holder "$f")
			[ -n "$pid" ] && break
		done
		[ -z "$pid" ] && return 0
		if [ "$waited" -ge "$wait_s" ]; then
			echo "deps: $f is still held by process $pid after ${wait_s} s; try again once it is done" >&2
			return 1
		fi
		[ "$waited" -eq 0 ] &&
			echo "deps: waiting for another package manager (process $pid: $(cat /proc/"$pid"/comm 2>/dev/null)) to finish" >&2
		sleep 2
		waited=$((waited + 2))
	done
}
# Another apt may start between the wait and here: then update once more
# after it; install waits for dpkg's lock itself.
wait_for_apt
apt-get update -qq || { wait_for_apt && apt-get update -qq; }
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout="$wait_s" "${missing[@]}" >/dev/null

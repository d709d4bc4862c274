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
	    libncurses-dev zlib1g-dev liblzma-dev libiberty-dev libjansson-dev)
# Debian's libc has no symbol for __libc_start_call_main, under every
# sample: without its debug symbols each stack holds an [unknown] frame.
demo_pkgs=(libc6-dbg)
test_pkgs=(tmux binutils elfutils linux-perf golang-go chromium libclang-rt-14-dev
	   rustc g++ util-linux procps jq libc6-dbg lld nodejs)

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

# apt-get update takes the lists lock without waiting for it (DPkg::Lock::Timeout
# covers dpkg's lock only): while another apt holds it, try again every 5 s.
# apt's locks are fcntl locks, so only apt itself can tell us it is held.
update() {
	local waited=0 err
	while ! err=$(LC_ALL=C apt-get update -qq 2>&1); do
		case "$err" in
		*"Could not get lock"* | *"Unable to lock"*) ;;
		*) printf '%s\n' "$err" >&2; return 1 ;;
		esac
		if [ "$waited" -ge "$wait_s" ]; then
			printf '%s\n' "$err" >&2
			echo "deps: another package manager held apt's lists lock for ${wait_s} s; try again once it is done" >&2
			return 1
		fi
		[ "$waited" -eq 0 ] && echo "deps: another package manager is running; waiting for it (up to ${wait_s} s)" >&2
		sleep 5
		waited=$((waited + 5))
	done
	[ -z "$err" ] || printf '%s\n' "$err" >&2
}
update
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout="$wait_s" "${missing[@]}" >/dev/null

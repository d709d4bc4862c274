#!/usr/bin/env bash
# sampletop's own cost against perf top's, side by side: CPU (as % of one
# core) and peak RSS of the profiler itself, for one busy process (-p) and for
# the whole machine (-a) with both CPUs busy. SECONDS_PER_RUN sets the length.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=${ST:-$TOP/build/sampletop}	# another build to compare: ST=path
T=${SECONDS_PER_RUN:-10}
W=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$W"' EXIT
gcc -O2 -fno-omit-frame-pointer -fno-optimize-sibling-calls -o "$W/hot" "$TOP/tests/targets/hot.c"
for i in $(nproc | xargs seq); do "$W/hot" 0 & pids+=($!); done
target=${pids[0]}
clk=$(getconf CLK_TCK)

# measure NAME COMMAND...: runs COMMAND for $T s, prints its CPU % and peak RSS.
measure() {
	local name=$1; shift
	/usr/bin/time -f "%U %S %M" -o "$W/time" timeout -s INT "$T" "$@" >/dev/null 2>&1 </dev/null || true
	read -r u s rss < <(tail -1 "$W/time")
	awk -v n="$name" -v u="$u" -v s="$s" -v r="$rss" -v t="$T" \
		'BEGIN { printf "overhead.%s_cpu_percent: %.2f\noverhead.%s_rss_mib: %.1f\n", n, 100 * (u + s) / t, n, r / 1024 }'
}
measure sampletop_p "$ST" -q -p "$target" -o "$W/p.folded"
measure perf_top_p perf top --stdio -g -p "$target" -d 1
measure sampletop_a "$ST" -q -a -o "$W/a.folded"
measure perf_top_a perf top --stdio -g -a -d 1

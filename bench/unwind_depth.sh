#!/usr/bin/env bash
# The BPF program's own time per sample as user stacks deepen: the 60/30/10
# workload (~6 frames) and the recursion target at 45, 125 and 305 frames,
# each unwound from the CFI tables (a page lookup and a binary search in
# the page per frame). With BASE_ST=path (another build, e.g. before a
# change to the tables), both side by side, interleaved, medians of RUNS.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=${ST:-$TOP/build/sampletop}
BASE_ST=${BASE_ST:-}
RUNS=${RUNS:-5}
W=$(mktemp -d)
gcc -O2 -o "$W/bpf_stats" "$TOP/bench/bpf_stats.c"
"$W/bpf_stats" &
stats_pid=$!
trap 'kill "$stats_pid" 2>/dev/null; rm -rf "$W"' EXIT
gcc -O2 -g -o "$W/hot" "$TOP/tests/targets/hot.c"
gcc -O2 -g -o "$W/unwind" "$TOP/tests/targets/unwind.c" -ldl -lpthread

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# bpf_ns PID: the perf_event program's run time per run, from the loader's fdinfo.
bpf_ns() {
	local f t=0 c=0 rt rc
	for f in /proc/"$1"/fdinfo/*; do
		grep -q '^prog_type:' "$f" 2>/dev/null || continue
		rt=$(awk '/^run_time_ns:/ { print $2 }' "$f" 2>/dev/null || true)
		rc=$(awk '/^run_cnt:/ { print $2 }' "$f" 2>/dev/null || true)
		t=$((t + ${rt:-0})); c=$((c + ${rc:-0}))
	done
	awk -v t="$t" -v c="$c" 'BEGIN { printf "%.0f\n", c ? t / c : 0 }'
}
# one SAMPLETOP TARGET...: ns per sample over 3 s of TARGET.
one() {
	local st=$1 p s v
	shift
	"$@" >/dev/null & p=$!
	sleep 0.3
	"$st" -q -p "$p" -d 4 -o "$W/out.folded" & s=$!
	sleep 3.5
	v=$(bpf_ns "$s")
	wait "$s" || true
	kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true
	echo "$v"
}

builds=(new)
[ -n "$BASE_ST" ] && builds+=(base)
for i in $(seq "$RUNS"); do
	for b in "${builds[@]}"; do
		st=$ST; [ "$b" = base ] && st=$BASE_ST
		one "$st" "$W/hot" 10 >>"$W/${b}_6"
		for d in 40 120 300; do
			one "$st" "$W/unwind" recurse 10 "$d" >>"$W/${b}_$((d + 5))"
		done
	done
done
echo "unwind_depth.runs: $RUNS"
for b in "${builds[@]}"; do
	for d in 6 45 125 305; do
		echo "unwind_depth.bpf_ns_per_sample_${b}_${d}_frames: $(median <"$W/${b}_$d")"
	done
done
if [ -n "$BASE_ST" ]; then
	for d in 6 45 125 305; do
		awk -v a="$(median <"$W/new_$d")" -v b="$(median <"$W/base_$d")" -v d="$d" \
			'BEGIN { printf "unwind_depth.cost_new_over_base_%d_frames: %.3f\n", d, (b > 0 ? a / b : 0) }'
	done
fi

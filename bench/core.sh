#!/usr/bin/env bash
# The sampling core's cost, measured side by side in one run: a fixed
# CPU-bound workload alone, under `perf record -F 1000 -g`, and under
# sampletop -p at 1 kHz, interleaved over several rounds. Prints the median
# slowdown of each profiler against no profiler, and sampletop's own CPU
# time as a share of one core. Output lines are "key: value" and stable.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=${ST:-$TOP/build/sampletop}	# another build to compare: ST=path
RUNS=${RUNS:-5}
ROUNDS=${ROUNDS:-3000}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
gcc -O2 -fno-omit-frame-pointer -fno-optimize-sibling-calls -o "$W/work" "$TOP/tests/targets/hot.c"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
clk=$(getconf CLK_TCK)

: >"$W/none"; : >"$W/perf"; : >"$W/st"; : >"$W/stcpu"
for i in $(seq "$RUNS"); do
	"$W/work" -n "$ROUNDS" >>"$W/none"
	perf record -q -F 1000 -g -o "$W/perf.data" -- "$W/work" -n "$ROUNDS" 2>/dev/null >>"$W/perf"
	"$W/work" -n "$ROUNDS" >"$W/out" &
	wp=$!
	"$ST" -q -p "$wp" -o "$W/st.folded" &
	sp=$!
	wait "$wp"
	cat "$W/out" >>"$W/st"
	# sampletop notices the exit within one drain period; read its CPU first.
	read -r ut st_ < <(awk '{ print $14, $15 }' "/proc/$sp/stat")
	wait "$sp"
	awk -v u="$ut" -v s="$st_" -v c="$clk" -v t="$(tail -1 "$W/out")" \
		'BEGIN { printf "%.4f\n", 100 * (u + s) / c / t }' >>"$W/stcpu"
done
none=$(median <"$W/none"); perf=$(median <"$W/perf"); st=$(median <"$W/st"); cpu=$(median <"$W/stcpu")
echo "core.runs: $RUNS"
echo "core.workload_seconds: $none"
echo "core.slowdown_perf_record_g: $(awk -v a="$perf" -v b="$none" 'BEGIN { printf "%.3f", a / b }')"
echo "core.slowdown_sampletop: $(awk -v a="$st" -v b="$none" 'BEGIN { printf "%.3f", a / b }')"
echo "core.sampletop_cpu_percent_of_one_core: $cpu"
echo "core.samples_last_run: $(awk '{ t += $NF } END { print t + 0 }' "$W/st.folded")"

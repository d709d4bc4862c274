#!/usr/bin/env bash
# The cost of unwinding in BPF from CFI tables, side by side in one run: the
# 60/30/10 workload built with plain -O2 (no frame pointers) alone, under
# `perf record -F 1000 -g`, under sampletop --unwind=fp and under sampletop's
# default (CFI tables), interleaved over RUNS rounds. Prints median slowdowns
# against no profiler, the BPF program's own time per sample in each mode
# (kernel.bpf_stats_enabled is switched on for the run and restored), the
# share of samples that reach main, and the cost of libc's table.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=$TOP/build/sampletop
RUNS=${RUNS:-5}
ROUNDS=${ROUNDS:-600}
W=$(mktemp -d)
stats_was=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
trap 'sysctl -qw kernel.bpf_stats_enabled="$stats_was" 2>/dev/null || true; rm -rf "$W"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null || echo "# cannot enable BPF run-time stats"
gcc -O2 -g -o "$W/work" "$TOP/tests/targets/hot.c"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
# share FOLDED: percentage of samples whose stack holds main.
reach_main() {
	awk '{ n = $NF; t += n; if ($0 ~ /(^|;)main(;| )/) h += n }
		END { printf "%.2f", t ? 100 * h / t : 0 }' "$1"
}
# bpf_ns PID: the perf_event program's run time per run, from the loader's fdinfo.
bpf_ns() {
	local f t=0 c=0 rt rc
	for f in /proc/"$1"/fdinfo/*; do
		grep -q '^prog_type:' "$f" 2>/dev/null || continue
		rt=$(awk '/^run_time_ns:/ { print $2 }' "$f"); rc=$(awk '/^run_cnt:/ { print $2 }' "$f")
		t=$((t + ${rt:-0})); c=$((c + ${rc:-0}))
	done
	awk -v t="$t" -v c="$c" 'BEGIN { printf "%.0f\n", c ? t / c : 0 }'
}
# sampletop_run MODE: one run of the workload under sampletop --unwind=MODE.
sampletop_run() {
	local mode=$1 wp sp
	"$W/work" -n "$ROUNDS" >"$W/out" &
	wp=$!
	"$ST" -q -p "$wp" --unwind="$mode" -o "$W/$mode.folded" &
	sp=$!
	wait "$wp"
	bpf_ns "$sp" >>"$W/${mode}_ns"
	wait "$sp"
	tail -1 "$W/out" >>"$W/$mode"
	reach_main "$W/$mode.folded" >>"$W/${mode}_main"
	echo >>"$W/${mode}_main"
}

for f in none perf fp auto fp_ns auto_ns fp_main auto_main; do : >"$W/$f"; done
for i in $(seq "$RUNS"); do
	"$W/work" -n "$ROUNDS" >>"$W/none"
	perf record -q -F 1000 -g -o "$W/perf.data" -- "$W/work" -n "$ROUNDS" 2>/dev/null >>"$W/perf"
	sampletop_run fp
	sampletop_run auto
done
none=$(median <"$W/none")
fp=$(median <"$W/fp"); auto=$(median <"$W/auto"); perf=$(median <"$W/perf")
fp_ns=$(median <"$W/fp_ns"); auto_ns=$(median <"$W/auto_ns")
echo "unwind.runs: $RUNS"
echo "unwind.workload_seconds: $none"
echo "unwind.slowdown_perf_record_g: $(ratio "$perf" "$none")"
echo "unwind.slowdown_sampletop_fp: $(ratio "$fp" "$none")"
echo "unwind.slowdown_sampletop_dwarf: $(ratio "$auto" "$none")"
echo "unwind.bpf_ns_per_sample_fp: $fp_ns"
echo "unwind.bpf_ns_per_sample_dwarf: $auto_ns"
echo "unwind.bpf_cost_dwarf_over_fp: $(ratio "$auto_ns" "$fp_ns")"
echo "unwind.reach_main_percent_fp: $(grep . "$W/fp_main" | median)"
echo "unwind.reach_main_percent_dwarf: $(grep . "$W/auto_main" | median)"

# Deeper stacks: 40 recursive frames through a frameless function.
gcc -O2 -g -o "$W/deep" "$TOP/tests/targets/unwind.c" -lpthread -ldl
for mode in fp auto; do
	"$W/deep" recurse 3 &
	wp=$!
	"$ST" -q -p "$wp" --unwind="$mode" -d 2 -o "$W/deep.folded" &
	sp=$!
	sleep 1.5
	echo "unwind.bpf_ns_per_sample_${mode/auto/dwarf}_depth45: $(bpf_ns "$sp")"
	wait "$sp" "$wp"
done

# libc's table: rows, bytes and build time, as sampletop -v reports them.
"$W/work" 2 &
wp=$!
"$ST" -q -v -p "$wp" -d 0.2 -o "$W/v.folded" 2>"$W/v.err"
wait "$wp"
sed -n 's/^sampletop: unwind table: .*\/\(libc\.so\.6\): \([0-9]*\) rows, \([0-9]*\) bytes, built in \([0-9.]*\) ms.*/unwind.libc_rows: \2\nunwind.libc_bytes: \3\nunwind.libc_build_ms: \4/p' "$W/v.err"

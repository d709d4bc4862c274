#!/usr/bin/env bash
# The cost of unwinding in BPF from CFI tables, side by side in one run: the
# 60/30/10 workload built with plain -O2 (no frame pointers) alone, under
# `perf record -F 1000 -g`, under sampletop --unwind=fp and under sampletop's
# default (CFI tables), interleaved over RUNS rounds. Prints median slowdowns
# in the workload's CPU time (bench/cpurun.c; robust on a busy machine) and wall time
# against no profiler, the BPF program's own time per sample in each mode
# (run-time statistics held on by bench/bpf_stats.c for the run), the
# share of samples that reach main, and the cost of libc's table.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=$TOP/build/sampletop
RUNS=${RUNS:-5}
ROUNDS=${ROUNDS:-600}
W=$(mktemp -d)
gcc -O2 -o "$W/bpf_stats" "$TOP/bench/bpf_stats.c"
"$W/bpf_stats" &
stats_pid=$!
trap 'kill "$stats_pid" 2>/dev/null; rm -rf "$W"' EXIT
gcc -O2 -g -o "$W/work" "$TOP/tests/targets/hot.c"
gcc -O2 -o "$W/cpurun" "$TOP/bench/cpurun.c"

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
		rt=$(awk '/^run_time_ns:/ { print $2 }' "$f" 2>/dev/null || true)
		rc=$(awk '/^run_cnt:/ { print $2 }' "$f" 2>/dev/null || true)
		t=$((t + ${rt:-0})); c=$((c + ${rc:-0}))
	done
	awk -v t="$t" -v c="$c" 'BEGIN { printf "%.0f\n", c ? t / c : 0 }'
}
# last_bpf_ns WORKLOAD SAMPLETOP: bpf_ns of SAMPLETOP read until WORKLOAD ends.
last_bpf_ns() {
	local v last=0
	while kill -0 "$1" 2>/dev/null; do
		v=$(bpf_ns "$2")
		[ "$v" != 0 ] && last=$v
		sleep 0.1
	done
	echo "$last"
}
# sampletop_run MODE: one run of the workload under sampletop --unwind=MODE.
sampletop_run() {
	local mode=$1 wp sp cp
	: >"$W/cr"
	"$W/cpurun" "$W/work" -n "$ROUNDS" >"$W/cr" &
	cp=$!
	until [ -s "$W/cr" ]; do sleep 0.01; done
	wp=$(head -1 "$W/cr")
	"$ST" -q -p "$wp" --unwind="$mode" -o "$W/$mode.folded" &
	sp=$!
	last_bpf_ns "$wp" "$sp" >>"$W/${mode}_ns"
	wait "$cp" "$sp"
	sed -n 2p "$W/cr" >>"$W/${mode}_wall"
	tail -1 "$W/cr" >>"$W/$mode"
	reach_main "$W/$mode.folded" >>"$W/${mode}_main"
	echo >>"$W/${mode}_main"
}

# perf_shares PERFDATA: "main hot_a hot_b hot_c" percentages of perf's samples.
perf_shares() {
	perf script -i "$1" -F comm,ip,sym 2>/dev/null | awk 'BEGIN { RS = "" }
		{ t++; m = a = b = c = 0
		  for (i = 1; i <= NF; i++) { m = m || $i == "main"; a = a || $i == "hot_a"
			b = b || $i == "hot_b"; c = c || $i == "hot_c" }
		  M += m; A += a; B += b; C += c }
		END { printf "%.2f %.2f %.2f %.2f\n", 100 * M / t, 100 * A / t, 100 * B / t, 100 * C / t }'
}
# folded_shares FOLDED: the same from sampletop's folded output.
folded_shares() {
	awk '{ n = $NF; t += n; line = $0; sub(/ [0-9]+$/, "", line); k = split(line, fr, ";")
		m = a = b = c = 0
		for (i = 1; i <= k; i++) { m = m || fr[i] == "main"; a = a || fr[i] == "hot_a"
			b = b || fr[i] == "hot_b"; c = c || fr[i] == "hot_c" }
		M += m * n; A += a * n; B += b * n; C += c * n }
		END { printf "%.2f %.2f %.2f %.2f\n", 100 * M / t, 100 * A / t, 100 * B / t, 100 * C / t }' "$1"
}

for f in none perf fp auto fp_ns auto_ns fp_main auto_main none_wall perf_wall fp_wall auto_wall; do
	: >"$W/$f"
done
# Each run: the workload's CPU time (user + system, the cost the profiler's
# BPF program and interrupts add to it) and its wall-clock time.
for i in $(seq "$RUNS"); do
	"$W/cpurun" "$W/work" -n "$ROUNDS" >"$W/cr"
	sed -n 2p "$W/cr" >>"$W/none_wall"; tail -1 "$W/cr" >>"$W/none"
	perf record -q -F 1000 -g -o "$W/perf.data" -- "$W/cpurun" "$W/work" -n "$ROUNDS" 2>/dev/null >"$W/cr"
	sed -n 2p "$W/cr" >>"$W/perf_wall"; tail -1 "$W/cr" >>"$W/perf"
	sampletop_run fp
	sampletop_run auto
done
none=$(median <"$W/none")
fp=$(median <"$W/fp"); auto=$(median <"$W/auto"); perf=$(median <"$W/perf")
fp_ns=$(median <"$W/fp_ns"); auto_ns=$(median <"$W/auto_ns")
nw=$(median <"$W/none_wall")
echo "unwind.runs: $RUNS"
echo "unwind.workload_cpu_seconds: $none"
echo "unwind.cpu_slowdown_perf_record_g: $(ratio "$perf" "$none")"
echo "unwind.cpu_slowdown_sampletop_fp: $(ratio "$fp" "$none")"
echo "unwind.cpu_slowdown_sampletop_dwarf: $(ratio "$auto" "$none")"
echo "unwind.wall_slowdown_perf_record_g: $(ratio "$(median <"$W/perf_wall")" "$nw")"
echo "unwind.wall_slowdown_sampletop_fp: $(ratio "$(median <"$W/fp_wall")" "$nw")"
echo "unwind.wall_slowdown_sampletop_dwarf: $(ratio "$(median <"$W/auto_wall")" "$nw")"
echo "unwind.bpf_ns_per_sample_fp: $fp_ns"
echo "unwind.bpf_ns_per_sample_dwarf: $auto_ns"
echo "unwind.bpf_cost_dwarf_over_fp: $(ratio "$auto_ns" "$fp_ns")"
echo "unwind.reach_main_percent_fp: $(grep . "$W/fp_main" | median)"
echo "unwind.reach_main_percent_dwarf: $(grep . "$W/auto_main" | median)"

# Attribution against perf --call-graph dwarf (8 KiB of stack per sample,
# unwound afterwards) on the same -O2 binary: one long run each.
perf record -q -F 1000 --call-graph dwarf -o "$W/dwarf.data" -- "$W/work" -n $((ROUNDS * 3)) >/dev/null 2>&1
read -r pm pa pb pc < <(perf_shares "$W/dwarf.data")
"$W/work" -n $((ROUNDS * 3)) >/dev/null &
wp=$!
"$ST" -q -p "$wp" -o "$W/long.folded"
read -r sm sa sb sc < <(folded_shares "$W/long.folded")
echo "unwind.perf_dwarf_main_a_b_c_percent: $pm $pa $pb $pc"
echo "unwind.sampletop_main_a_b_c_percent: $sm $sa $sb $sc"
echo "unwind.sampletop_samples_long_run: $(awk '{ t += $NF } END { print t + 0 }' "$W/long.folded")"

# The BPF cost where frame pointers do give whole stacks: the same workload
# built with them, walked by the kernel (fp) and by the CFI tables.
gcc -O2 -g -fno-omit-frame-pointer -o "$W/workfp" "$TOP/tests/targets/hot.c"
for mode in fp auto; do
	"$W/workfp" -n "$ROUNDS" >/dev/null &
	wp=$!
	"$ST" -q -p "$wp" --unwind="$mode" -o "$W/fpb.folded" &
	sp=$!
	echo "unwind.bpf_ns_per_sample_${mode/auto/dwarf}_fp_build: $(last_bpf_ns "$wp" "$sp")"
	wait "$wp" "$sp"
	echo "unwind.reach_main_percent_${mode/auto/dwarf}_fp_build: $(reach_main "$W/fpb.folded")"
done

# Deeper stacks: 40 recursive frames through a frameless function.
gcc -O2 -g -o "$W/deep" "$TOP/tests/targets/unwind.c" -lpthread -ldl
for mode in fp auto; do
	"$W/deep" recurse 3 &
	wp=$!
	"$ST" -q -p "$wp" --unwind="$mode" -d 2 -o "$W/deep.folded" &
	sp=$!
	echo "unwind.bpf_ns_per_sample_${mode/auto/dwarf}_depth45: $(last_bpf_ns "$sp" "$sp")"
	wait "$sp" "$wp"
done

# libc's table: rows, bytes and build time, as sampletop -v reports them.
"$W/work" 2 &
wp=$!
"$ST" -q -v -p "$wp" -d 0.2 -o "$W/v.folded" 2>"$W/v.err"
wait "$wp"
sed -n 's/^sampletop: unwind table: .*\/\(libc\.so\.6\): \([0-9]*\) rows, \([0-9]*\) bytes, built in \([0-9.]*\) ms.*/unwind.libc_rows: \2\nunwind.libc_bytes: \3\nunwind.libc_build_ms: \4/p' "$W/v.err"

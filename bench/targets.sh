#!/usr/bin/env bash
# sampletop's own cost for the whole machine (-a) with every CPU busy: its
# CPU time (utime + stime from /proc/PID/stat) as a share of one core, in
# steady state (after a warm-up that holds the BPF load) and over the whole
# run. Twice: CPU-bound processes only, and the same plus a stream of
# short-lived processes (exec, fork, exit and an early maps read each); and
# once more busy with --unwind=fp, which leaves out the CFI unwinder's table
# building for every object on the machine (its cost, not the sampling's).
# Output lines are "key: value" and stable.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=$TOP/build/sampletop
RUNS=${RUNS:-3}
SECS=${SECS:-10}
WARM=2
W=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"' EXIT
FP="-O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls"
gcc $FP -o "$W/hot" "$TOP/tests/targets/hot.c"
gcc $FP -o "$W/burn" "$TOP/tests/targets/burn.c"
clk=$(getconf CLK_TCK)
ncpu=$(nproc)

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run NAME CHURN [ARGS...]: one -a run; appends steady and whole-run CPU %.
run() {
	local name=$1 churn=$2 sp t0 t1 t2 start lp=
	shift 2
	"$ST" -q -a --counters "$@" -o "$W/$name.txt" &
	sp=$!
	start=$(date +%s.%N)
	sleep "$WARM"
	if [ "$churn" = churn ]; then
		(while :; do "$W/burn" 20; done) &
		lp=$!
	fi
	t1=$(cpu_ticks "$sp")
	sleep "$SECS"
	t2=$(cpu_ticks "$sp")
	t0=$(date +%s.%N)
	[ -n "$lp" ] && { kill "$lp"; wait "$lp" 2>/dev/null || true; }
	kill -INT "$sp"
	wait "$sp"
	awk -v a="$t1" -v b="$t2" -v c="$clk" -v s="$SECS" 'BEGIN { printf "%.3f\n", 100 * (b - a) / c / s }' >>"$W/$name.steady"
	awk -v b="$t2" -v c="$clk" -v s="$start" -v e="$t0" 'BEGIN { printf "%.3f\n", 100 * b / c / (e - s) }' >>"$W/$name.whole"
	sed -n 's/^\([0-9,]*\) samples.*/\1/p' "$W/$name.txt" | tr -d , >>"$W/$name.samples"
	sed -n 's/^  lost_ringbuf_full  *\([0-9,]*\) .*/\1/p' "$W/$name.txt" | tr -d , >>"$W/$name.lost"
}

for _ in $(seq "$ncpu"); do "$W/hot" 0 & pids+=($!); done
for _ in $(seq "$RUNS"); do
	run busy no
	run churn churn
	run busy_fp no --unwind=fp
done
echo "targets.runs: $RUNS"
echo "targets.cpus_busy: $ncpu"
echo "targets.seconds_measured: $SECS"
for n in busy churn busy_fp; do
	echo "targets.$n.sampletop_cpu_percent_of_one_core: $(median <"$W/$n.steady")"
	echo "targets.$n.sampletop_cpu_percent_whole_run: $(median <"$W/$n.whole")"
	echo "targets.$n.samples_last_run: $(tail -1 "$W/$n.samples")"
	echo "targets.$n.lost_last_run: $(tail -1 "$W/$n.lost")"
done

#!/usr/bin/env bash
# The cost of --wall on a context-switch-heavy target, side by side in one
# run: two threads ping-ponging one byte through two pipes
# (bench/wall_pingpong.c, ~100k switches/s here), its round trips per second
# alone, under sampletop --wall (or, before that option exists, the same BPF
# program through tests/integration/wall_tool.c), under the same without the
# stack rate cap, under `perf record -e sched:sched_switch -g`, and under
# plain cpu mode (sampletop -p), interleaved over RUNS rounds (medians).
# Prints the slowdowns (in the target's CPU time per round trip, which other
# load on this shared machine hardly moves: the program runs in the
# switching thread's time; and in round trips per second, which it does),
# each profiler's own CPU, and the sched_switch
# program's own time per run and per target switch (kernel run-time
# statistics held on by bench/bpf_stats.c for two extra runs only).
# perf needs tracefs: mounted at /sys/kernel/tracing for the run if it is
# not, and unmounted after. SECONDS_PER_RUN sets the length of each run.
# Both threads are pinned to one CPU (PIN, default the last): each round
# trip is then two direct switches, and what a profiler adds per switch
# shows in full. Across two CPUs the round trip waits on waking an idle
# CPU instead, which any busy profiler shortens (a profiler made it faster).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
ST=$BUILD/sampletop
T=${SECONDS_PER_RUN:-5}
RUNS=${RUNS:-3}
WARM=1.5	# the profiler attaches (and builds its tables) meanwhile
PIN=${PIN:-$(($(nproc) - 1))}
W=$(mktemp -d)
mounted=
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	[ -n "$mounted" ] && umount /sys/kernel/tracing
	rm -rf "$W"
}
trap cleanup EXIT

make -s -C "$TOP" all >/dev/null
objs=$(make -s -C "$TOP" OUTPUT="$BUILD" lib-objs)
pkgs="libbpf libelf libdw ncursesw zlib liblzma jansson libcurl"
# shellcheck disable=SC2086
cc -g -O2 -std=gnu11 -D_GNU_SOURCE -I"$TOP/include" -I"$TOP/user" -I"$BUILD" \
	$(pkg-config --cflags $pkgs) "$TOP/tests/integration/wall_tool.c" $objs \
	$(pkg-config --libs $pkgs) -liberty -lm -lpthread -o "$W/wall_tool"
gcc -O2 -g -o "$W/pingpong" "$TOP/bench/wall_pingpong.c" -lpthread
gcc -O2 -o "$W/bpf_stats" "$TOP/bench/bpf_stats.c"
if "$ST" --help 2>&1 | grep -q -- '--wall'; then
	WALL=("$ST" -q --wall -o "$W/wall.folded" -p)
	echo "wall.capture: sampletop --wall"
else
	WALL=("$W/wall_tool" -q -p)
	echo "wall.capture: tests/integration/wall_tool.c (no sampletop --wall yet)"
fi
if ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs nodev /sys/kernel/tracing && mounted=1
fi

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
dur=$(awk -v t="$T" -v w="$WARM" 'BEGIN { print t + w + 0.5 }')

# one MODE: a ping-pong run under MODE; appends its round trips per second
# to $W/MODE and the profiler's CPU (% of one core) to $W/MODE_cpu.
one() {
	local mode=$1 pp prof=()
	: >"$W/pp"	# emptied here: the child's redirection may come after the test below
	taskset -c "$PIN" "$W/pingpong" "$T" "$WARM" >"$W/pp" &
	pp=$!
	until [ -s "$W/pp" ]; do sleep 0.01; done
	local pid
	pid=$(head -1 "$W/pp")
	case $mode in
	alone) ;;
	cpu) prof=("$ST" -q -o "$W/cpu.folded" -p "$pid" -d "$dur") ;;
	wall) prof=("${WALL[@]}" "$pid" -d "$dur") ;;
	wall_nocap) prof=("$W/wall_tool" -q --cap 1000000000 -p "$pid" -d "$dur") ;;
	perf) prof=(perf record -q -e sched:sched_switch -g -p "$pid" -o "$W/perf.data" -- sleep "$dur") ;;
	esac
	if [ ${#prof[@]} -gt 0 ]; then
		/usr/bin/time -f "%U %S" -o "$W/time" "${prof[@]}" >"$W/prof.out" 2>/dev/null &
		pids+=($!)
	fi
	wait
	awk '/^rounds/ { print $2 }' "$W/pp" >>"$W/$mode"
	awk '/^switches/ { print $2 }' "$W/pp" >>"$W/${mode}_sw"
	awk '/^cpu_ns_per_round/ { print $2 }' "$W/pp" >>"$W/${mode}_ns"
	if [ ${#prof[@]} -gt 0 ]; then
		awk -v d="$dur" '{ printf "%.2f\n", 100 * ($1 + $2) / d }' "$W/time" >>"$W/${mode}_cpu"
	fi
}

modes=${MODES:-"alone cpu wall wall_nocap perf"}
for i in $(seq "$RUNS"); do
	for m in $modes; do one "$m"; done
done
alone=$(median <"$W/alone")
echo "wall.runs: $RUNS of ${T}s, both threads on CPU $PIN"
echo "wall.rounds_per_sec_alone: $alone (runs: $(tr '\n' ' ' <"$W/alone"))"
echo "wall.switches_per_sec_alone: $(median <"$W/alone_sw")"
alone_ns=$(median <"$W/alone_ns")
echo "wall.cpu_ns_per_round_alone: $alone_ns (runs: $(tr '\n' ' ' <"$W/alone_ns"))"
for m in $modes; do
	[ "$m" = alone ] && continue
	r=$(median <"$W/$m")
	echo "wall.rounds_per_sec_$m: $r (runs: $(tr '\n' ' ' <"$W/$m"))"
	echo "wall.slowdown_$m: $(ratio "$alone" "$r")"
	n=$(median <"$W/${m}_ns")
	echo "wall.cpu_ns_per_round_$m: $n (runs: $(tr '\n' ' ' <"$W/${m}_ns"))"
	echo "wall.cpu_slowdown_$m: $(ratio "$n" "$alone_ns")"
	echo "wall.profiler_cpu_percent_$m: $(median <"$W/${m}_cpu")"
done

# The program's own time, with the kernel's run-time statistics on: per run
# (every switch on the machine runs it; most are not the target's) and per
# switch-out of the target, capped and not.
"$W/bpf_stats" &
stats=$!
pids+=("$stats")
for cap in 0 1000000000; do
	: >"$W/pp"
	taskset -c "$PIN" "$W/pingpong" "$T" 0.5 >"$W/pp" &
	pp=$!
	until [ -s "$W/pp" ]; do sleep 0.01; done
	args=(-p "$(head -1 "$W/pp")" -d "$T")
	[ "$cap" != 0 ] && args+=(--cap "$cap")
	"$W/wall_tool" -q "${args[@]}" >"$W/tool.out" 2>/dev/null &
	tp=$!
	last=
	while kill -0 "$tp" 2>/dev/null; do
		for f in /proc/"$tp"/fdinfo/*; do
			grep -q '^prog_type:' "$f" 2>/dev/null || continue
			awk '/^run_time_ns:/ { t = $2 } /^run_cnt:/ { c = $2 } END { if (c > 1000) print t, c }' "$f" 2>/dev/null
		done >"$W/rt" || true
		[ -s "$W/rt" ] && last=$(sort -k2 -g "$W/rt" | tail -1)
		sleep 0.2
	done
	wait "$pp" || true
	read -r rt rc <<<"$last"
	sw=$(awk '$2 == "offcpu_switches" { print $3 }' "$W/tool.out")
	capped=$(awk '$2 == "offcpu_capped" { print $3 }' "$W/tool.out")
	tag=$([ "$cap" = 0 ] && echo capped || echo nocap)
	echo "wall.bpf_ns_per_run_$tag: $(awk -v t="$rt" -v c="$rc" 'BEGIN { printf "%.0f", c ? t / c : 0 }')"
	echo "wall.bpf_ns_per_target_switch_$tag: $(awk -v t="$rt" -v s="$sw" 'BEGIN { printf "%.0f", s ? t / s : 0 }')"
	echo "wall.target_switches_per_sec_$tag: $(awk -v s="$sw" -v t="$T" 'BEGIN { printf "%.0f", s / t }')"
	echo "wall.capped_percent_$tag: $(awk -v c="$capped" -v s="$sw" 'BEGIN { printf "%.1f", s ? 100 * c / s : 0 }')"
done

#!/usr/bin/env bash
# A JIT's perf map growing to PERFMAP_ENTRIES (default 1,000,000) lines while
# sampletop -p profiles it. The writer (bench/perfmap_writer.c) adds
# PERFMAP_RATE (default 20,000) functions a second and runs the newest, so
# nearly every sample misses the table and makes sampletop read the map
# again: 50 s to reach a million lines (the issue's 1,000 a second would take
# 17 minutes; the cost per refresh depends on the table's size, not on the
# rate). Prints sampletop's own CPU (utime + stime, percent of one core) over
# the first and the last tenth of the growth, and their ratio (flat is ~1),
# for this build (ST=path) and the build before incremental perf maps
# (OLD_SAMPLETOP=path; default: PERFMAP_BASE, d0e4e75, built in a temp dir),
# one after the other in the same run. PERFMAP_PREFILL=K adds K lines at
# once when the growth starts (e.g. K=1000000 with PERFMAP_RATE=1000 and
# PERFMAP_ENTRIES=1060000: a million-line map growing by 1,000 a second).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=${ST:-$TOP/build/sampletop}
N=${PERFMAP_ENTRIES:-1000000}
RATE=${PERFMAP_RATE:-20000}
BASE=${PERFMAP_BASE:-d0e4e75}
PREFILL=${PERFMAP_PREFILL:-0}
WARM=6	# the writer runs one function while sampletop starts (not measured)
W=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
gcc -O2 -fno-omit-frame-pointer -o "$W/writer" "$TOP/bench/perfmap_writer.c"
if [ -z "${OLD_SAMPLETOP:-}" ]; then
	mkdir "$W/old"
	git -C "$TOP" archive "$BASE" | tar -x -C "$W/old"
	make -C "$W/old" -j2 build/sampletop >"$W/old.log" 2>&1 ||
		{ tail -20 "$W/old.log"; echo "perfmap: building $BASE failed"; exit 1; }
	OLD_SAMPLETOP=$W/old/build/sampletop
fi
D=$(( (N - PREFILL) / RATE ))
HZ=$(getconf CLK_TCK)

# utime + stime in ticks (fields 14 and 15, after the parenthesised name),
# then the time on CPU of all its threads in ns (schedstat; a tick is 0.2% of
# a 5 s window, too coarse for a build that costs under 1%).
ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ printf "%.0f ", $12 + $13 }'
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}
stamp() { date +%s.%N; }
# pct "TICKS NS" "TICKS NS" START END [2 for ns]: percent of one core between.
pct() { awk -v a="$1" -v b="$2" -v s="$3" -v e="$4" -v hz="$HZ" -v f="${5:-1}" \
	'BEGIN { split(a, x, " "); split(b, y, " "); d = y[f] - x[f]
		 printf "%.2f", 100 * (f == 1 ? d / hz : d / 1e9) / (e - s) }'; }

# run NAME SAMPLETOP: prints NAME's figures.
run() {
	local name=$1 bin=$2 wp sp t0 c0 t1 c1 t2 c2 t3 c3
	"$W/writer" "$RATE" "$N" "$WARM" "$PREFILL" &
	wp=$!
	pids+=("$wp")
	"$bin" -q -p "$wp" -d $(( WARM + D + 2 )) -o "$W/$name.folded" 2>"$W/$name.err" &
	sp=$!
	pids+=("$sp")
	sleep "$WARM"
	t0=$(stamp); c0=$(ticks "$sp")
	sleep "$(awk -v d="$D" 'BEGIN { print d / 10 }')"
	t1=$(stamp); c1=$(ticks "$sp")
	sleep "$(awk -v d="$D" 'BEGIN { print d * 8 / 10 }')"
	t2=$(stamp); c2=$(ticks "$sp")
	sleep "$(awk -v d="$D" 'BEGIN { print d / 10 }')"
	t3=$(stamp); c3=$(ticks "$sp")
	local lines
	lines=$(wc -l <"/tmp/perf-$wp.map")
	wait "$sp" || { cat "$W/$name.err"; echo "perfmap: $name sampletop failed"; }
	kill "$wp" 2>/dev/null || true
	wait "$wp" 2>/dev/null || true
	local first last first_ns last_ns
	first=$(pct "$c0" "$c1" "$t0" "$t1")
	last=$(pct "$c2" "$c3" "$t2" "$t3")
	first_ns=$(pct "$c0" "$c1" "$t0" "$t1" 2)
	last_ns=$(pct "$c2" "$c3" "$t2" "$t3" 2)
	echo "perfmap.$name.map_lines_at_end: $lines"
	echo "perfmap.$name.cpu_first_tenth_percent: $first"
	echo "perfmap.$name.cpu_last_tenth_percent: $last"
	echo "perfmap.$name.cpu_whole_growth_percent: $(pct "$c0" "$c3" "$t0" "$t3")"
	echo "perfmap.$name.last_over_first: $(awk -v a="$first" -v b="$last" \
		'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')"
	echo "perfmap.$name.schedstat_first_tenth_percent: $first_ns"
	echo "perfmap.$name.schedstat_last_tenth_percent: $last_ns"
	echo "perfmap.$name.schedstat_last_over_first: $(awk -v a="$first_ns" -v b="$last_ns" \
		'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')"
	# Samples in JIT code named from the map, of all samples.
	echo "perfmap.$name.samples: $(awk '{ s += $NF } END { print s + 0 }' "$W/$name.folded")"
	echo "perfmap.$name.samples_in_named_jit_code: $(awk '/jit_fn_[0-9]+ / { s += $NF } END { print s + 0 }' \
		"$W/$name.folded")"
}

echo "perfmap.entries: $N"
echo "perfmap.rate_per_second: $RATE"
echo "perfmap.prefilled: $PREFILL"
echo "perfmap.growth_seconds: $D"
run new "$ST"
run old "$OLD_SAMPLETOP"

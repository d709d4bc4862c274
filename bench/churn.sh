#!/usr/bin/env bash
# Memory under churn: sampletop -a runs for CHURN_SECONDS (default 600, the
# issue's ten minutes) while processes start and exit continuously (each a
# fresh exec burning ~20 ms). Prints sampletop's RSS after the first minute
# (or a tenth of the run) and at the end, and their ratio: flat is ~1; and
# its own CPU over the run (percent of one core).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=${ST:-$TOP/build/sampletop}	# another build to compare: ST=path
D=${CHURN_SECONDS:-600}
W=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$W"' EXIT
gcc -O2 -fno-omit-frame-pointer -fno-optimize-sibling-calls -o "$W/hot" "$TOP/tests/targets/hot.c"

( while :; do for i in 1 2 3 4; do "$W/hot" 0.02 & done; wait; done ) &
pids+=($!)
"$ST" -q -a -d "$D" -o "$W/churn.folded" &
sp=$!
pids+=($sp)
warm=$(( D / 10 < 60 ? D / 10 : 60 ))
sleep "$warm"
rss_warm=$(awk '/^VmRSS/ { print $2 }' "/proc/$sp/status")
sleep $(( D - warm - 2 ))
rss_end=$(awk '/^VmRSS/ { print $2 }' "/proc/$sp/status")
# utime + stime (fields 14 and 15, after the parenthesised name).
ticks=$(sed 's/.*) //' "/proc/$sp/stat" | awk '{ print $12 + $13 }')
wait "$sp"
echo "churn.seconds: $D"
echo "churn.rss_after_warmup_mib: $(awk -v r="$rss_warm" 'BEGIN { printf "%.1f", r / 1024 }')"
echo "churn.rss_at_end_mib: $(awk -v r="$rss_end" 'BEGIN { printf "%.1f", r / 1024 }')"
echo "churn.rss_growth_ratio: $(awk -v a="$rss_end" -v b="$rss_warm" 'BEGIN { printf "%.3f", a / b }')"
echo "churn.cpu_percent: $(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v d="$((D - 2))" \
	'BEGIN { printf "%.2f", 100 * t / hz / d }')"
echo "churn.processes_in_profile: $(grep -c . "$W/churn.folded" || true)"

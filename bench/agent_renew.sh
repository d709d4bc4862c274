#!/usr/bin/env bash
# The agent's memory over a long run, side by side on the same machine and
# server: one agent that never renews its profile within the run
# (SAMPLETOP_AGENT_RENEW past reach; the default renews after 360 windows)
# and one that starts a fresh profile after every AGENT_RENEW_EVERY distinct
# stacks (default 1: after every window), both -a at 49 Hz with 10 s
# windows for AGENT_RENEW_SECONDS (default 600). Prints each one's RSS every
# minute, its peak (VmHWM), its CPU seconds and the rows it sent.
# AGENT_RENEW_CHURN=1: with bench/stack_churn.c running meanwhile, a
# program whose every sample has a new stack (a machine whose stacks do
# not repeat: what the renewal is for).
# Needs clickhouse-server and curl (scripts/deps.sh --test); root (BPF).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=${ST:-$TOP/build/sampletop}
SECS=${AGENT_RENEW_SECONDS:-600}
EVERY=${AGENT_RENEW_EVERY:-1}
. "$TOP/tests/lib_clickhouse.sh"
W=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; ch_stop_all; rm -rf "$W"' EXIT
ch_available || { echo "# agent_renew: clickhouse-server or curl missing: skipped"; exit 0; }
P=$(ch_free_port)
ch_start renew "$P" $((P + 1)) || exit 1
if [ "${AGENT_RENEW_CHURN:-0}" = 1 ]; then
	${CC:-gcc} -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -o "$W/stack_churn" \
		"$TOP/bench/stack_churn.c" || exit 1
	"$W/stack_churn" "$SECS" &
	pids+=($!)
fi
SAMPLETOP_AGENT_RENEW=4000000000 "$ST" agent --spool-dir "$W/spool" --to "clickhouse://127.0.0.1:$P/renew" \
	--label host=keep -d "$SECS" -q -v 2>"$W/keep.err" &
pids+=($!)
KEEP=$!
SAMPLETOP_AGENT_RENEW=$EVERY "$ST" agent --spool-dir "$W/spool" --to "clickhouse://127.0.0.1:$P/renew" \
	--label host=renew -d "$SECS" -q -v 2>"$W/renew.err" &
pids+=($!)
RENEW=$!
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
cpu() { awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null; }
printf '# %6s  %14s  %14s\n' "t (s)" "no renewal RSS" "renewing RSS"
for ((t = 60; t < SECS; t += 60)); do
	sleep 60
	printf '# %6d  %11s kB  %11s kB\n' "$t" "$(kb "$KEEP" VmRSS)" "$(kb "$RENEW" VmRSS)"
done
sleep $((SECS - t + 60 - 3))
printf '# peak RSS (VmHWM): no renewal %s kB, renewing %s kB; CPU: %s s, %s s\n' \
	"$(kb "$KEEP" VmHWM)" "$(kb "$RENEW" VmHWM)" "$(cpu "$KEEP")" "$(cpu "$RENEW")"
wait "$KEEP" "$RENEW"
echo "# renewals: $(grep -c 'a fresh profile' "$W/renew.err"); the last: $(grep 'a fresh profile' "$W/renew.err" | tail -1 | sed 's/.*(//; s/)$//')"
echo "# at the end, no renewal: $(grep -h 'the profile holds' "$W/keep.err" | sed 's/.*holds //')"
echo "# at the end, renewing:   $(grep -h 'the profile holds' "$W/renew.err" | sed 's/.*holds //')"
echo "# rows sent: $(ch_query renew "SELECT host, count(), sum(samples) FROM renew.samples GROUP BY host ORDER BY host" | tr '\n\t' '; ')"
echo "# distinct stacks stored: $(ch_query renew "SELECT uniqExact(stack_hash) FROM renew.stacks")"

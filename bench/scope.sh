#!/usr/bin/env bash
# --scope's cost to the target, per call of the scoped function: an empty
# function called M times in a row, the thread's CPU time measured by the
# program itself (the probes' traps are the thread's CPU time), without
# probes and with the uprobe + uretprobe pair of --scope on it (three runs
# each, alternating; the best of each). A call with recursion inside pays
# the pair once per level.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
M=${SCOPE_CALLS:-50000}
W=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
gcc -O1 -fno-inline -fno-optimize-sibling-calls -o "$W/work" "$TOP/tests/targets/scope_work.c" -lpthread
${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -I"$TOP/user" -I"$TOP/include" -I"$BUILD" \
	"$TOP/tests/integration/scope_tool.c" $(make -s -C "$TOP" OUTPUT="$BUILD" lib-objs) \
	$(pkg-config --libs libbpf libelf libdw ncursesw zlib liblzma jansson libcurl) -liberty -lm -lpthread \
	-o "$W/tool"

plain() { "$W/work" bench "$M" - | awk '{ print $2 }'; }
probed() {
	rm -f "$W/go"
	"$W/work" bench "$M" "$W/go" >"$W/out" & local wp=$!
	pids+=("$wp")
	until [ "$(readlink "/proc/$wp/exe")" = "$W/work" ]; do sleep 0.01; done
	"$W/tool" tiny_request 60 -p "$wp" >"$W/tool.out" 2>"$W/tool.err" & local tp=$!
	pids+=("$tp")
	until grep -q '^attached' "$W/tool.err"; do
		kill -0 "$tp" 2>/dev/null || { cat "$W/tool.err" >&2; exit 1; }
		sleep 0.05
	done
	touch "$W/go"
	wait "$wp"
	kill -INT "$tp" 2>/dev/null; kill "$tp" 2>/dev/null; wait "$tp" 2>/dev/null || true
	awk '{ print $2 }' "$W/out"
	# A probe set on the same function right after the last one went
	# sometimes never fires here (kernel 6.18): let the last one go first.
	sleep 1
}
best_plain=1e18; best_probed=1e18
for _ in 1 2 3; do
	p=$(plain); q=$(probed)
	best_plain=$(awk -v a="$best_plain" -v b="$p" 'BEGIN { print (b < a) ? b : a }')
	best_probed=$(awk -v a="$best_probed" -v b="$q" 'BEGIN { print (b < a) ? b : a }')
done
awk -v p="$best_plain" -v q="$best_probed" 'BEGIN {
	printf "scope.ns_per_call_plain: %.1f\nscope.ns_per_call_probed: %.1f\nscope.probe_cost_ns_per_call: %.0f\n", p, q, q - p }'

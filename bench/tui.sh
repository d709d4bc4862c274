#!/usr/bin/env bash
# The live view's cost. (1) Render times on a synthetic 111,111-node tree
# (100,000 distinct stacks): as it opens (hottest path expanded) and with
# every node expanded. (2) sampletop's own CPU while it shows the whole
# machine (-a) live in a tmux terminal, side by side with the same recording
# without the view (-a -o FILE), both running over the same window with both
# CPUs busy. Output lines are "tui.key: value". SECONDS_PER_RUN sets (2).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
ST=$BUILD/sampletop
T=${SECONDS_PER_RUN:-20}
W=$(mktemp -d)
TM=(tmux -L "sampletop-bench-$$" -f /dev/null)
pids=()
trap '"${TM[@]}" kill-server 2>/dev/null; kill "${pids[@]}" 2>/dev/null; rm -rf "$W"' EXIT

# (1) Rendering, linked with the same objects as the unit tests.
make -s -C "$TOP" all unit-bins >/dev/null
objs=$(make -s -C "$TOP" OUTPUT="$BUILD" lib-objs)
pkgs="libbpf libelf libdw ncursesw zlib liblzma jansson libcurl"
# shellcheck disable=SC2086
cc -g -O2 -std=gnu11 -D_GNU_SOURCE -I"$TOP/include" -I"$TOP/user" -I"$BUILD" \
	$(pkg-config --cflags $pkgs) "$TOP/bench/tui_render.c" $objs \
	$(pkg-config --libs $pkgs) -liberty -lm -lpthread -o "$W/tui_render"
"$W/tui_render" 20

# (2) Own CPU, live view vs plain recording, over the same T seconds.
if ! command -v tmux >/dev/null; then
	echo "# tmux missing: live-view CPU not measured"
	exit 0
fi
gcc -O2 -fno-omit-frame-pointer -fno-optimize-sibling-calls -o "$W/hot" "$TOP/tests/targets/hot.c"
for _ in $(seq "$(nproc)"); do "$W/hot" 0 & pids+=($!); done
"${TM[@]}" new-session -d -s bench -x 120 -y 40 "$ST -a; sleep 60"
"$ST" -q -a -o "$W/a.folded" &
rec=$!
pids+=("$rec")
sleep 2
live=$(pgrep -f "^$ST -a\$" | head -1)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
l0=$(ticks "$live"); r0=$(ticks "$rec")
sleep "$T"
l1=$(ticks "$live"); r1=$(ticks "$rec")
"${TM[@]}" capture-pane -p -t bench >"$W/screen"
grep -q 'all processes' "$W/screen" || { echo "# the live view did not come up:"; sed 's/^/#   /' "$W/screen"; exit 1; }
clk=$(getconf CLK_TCK)
awk -v l="$((l1 - l0))" -v r="$((r1 - r0))" -v c="$clk" -v t="$T" 'BEGIN {
	printf "tui.live_a_cpu_percent: %.2f\n", 100 * l / c / t
	printf "tui.record_a_cpu_percent: %.2f\n", 100 * r / c / t
	printf "tui.live_over_record_cpu_ratio: %.2f\n", r ? l / r : 0
}'
kill -INT "$rec"
wait "$rec" 2>/dev/null || true
"${TM[@]}" send-keys -t bench q

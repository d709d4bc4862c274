#!/usr/bin/env bash
# Python frames' cost, side by side in one run: a fixed CPython workload
# (tests/targets/py_hot.py -n ROUNDS) alone, under sampletop --python=off
# (native stacks only) and under sampletop (Python frames merged), at 1 kHz,
# by the CPU time the workload itself took,
# interleaved over RUNS rounds. Prints median slowdowns against no profiler;
# compare with core.slowdown_sampletop from bench/core.sh.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=$TOP/build/sampletop
RUNS=${RUNS:-5}
ROUNDS=${ROUNDS:-800}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

py=
for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.*/bin/python3.12 /root/.pyenv/versions/3.12.*/bin/python3.12 \
	 /usr/bin/python3.11; do
	[ -x "$p" ] && { py=$p; break; }
done
if [ -z "$py" ]; then
	echo "python.skipped: no python3.12 (pyenv) or /usr/bin/python3.11"
	exit 0
fi
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
work() { "$py" "$TOP/tests/targets/py_hot.py" -n "$ROUNDS"; }

: >"$W/none"; : >"$W/off"; : >"$W/merge"
for i in $(seq "$RUNS"); do
	work >>"$W/none"
	"$ST" -q --python=off -o "$W/off.folded" -- "$py" "$TOP/tests/targets/py_hot.py" -n "$ROUNDS" >>"$W/off"
	"$ST" -q -o "$W/merge.folded" -- "$py" "$TOP/tests/targets/py_hot.py" -n "$ROUNDS" >>"$W/merge"
done
none=$(median <"$W/none"); off=$(median <"$W/off"); merge=$(median <"$W/merge")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "python.interpreter: $py"
echo "python.runs: $RUNS"
echo "python.workload_seconds: $none"
echo "python.slowdown_sampletop_python_off: $(ratio "$off" "$none")"
echo "python.slowdown_sampletop_python_merge: $(ratio "$merge" "$none")"
echo "python.samples_last_run: $(awk '{ t += $NF } END { print t + 0 }' "$W/merge.folded")"
echo "python.hot_loop_share_last_run: $(awk '{ n = $NF; t += n; if ($0 ~ /(^|;)hot_loop(;| [0-9]+$)/) h += n }
	END { printf "%.2f", t ? 100 * h / t : 0 }' "$W/merge.folded")"

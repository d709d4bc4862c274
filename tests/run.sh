#!/usr/bin/env bash
# Runs every test: unit test binaries, then the shell suites (integration,
# ui), each as its own process. Prints each suite's TAP lines and closes with
# "N passed, N failed" counted over every check. Exit 0 only if all pass.
# Usage: tests/run.sh [SUITE-GLOB...]   (e.g. tests/run.sh 'integration/*')
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
export BUILD
passed=0
failed=0
log=$(mktemp)

run_suite() {
	local name=$1; shift
	echo "=== $name"
	local start=$SECONDS
	"$@" >"$log" 2>&1
	local rc=$?
	cat "$log"
	local p f
	p=$(grep -cE '^ok [0-9]+' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc without a failed check"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name ran no check"
		f=1
	fi
	echo "--- $name: $p passed, $f failed ($((SECONDS - start)) s)"
	passed=$((passed + p))
	failed=$((failed + f))
}

patterns=("$@")
[ ${#patterns[@]} -eq 0 ] && patterns=('*')
matches() { local s=$1; for p in "${patterns[@]}"; do [[ $s == $p ]] && return 0; done; return 1; }

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	matches "unit/$(basename "$t")" && run_suite "unit/$(basename "$t")" "$t"
done
for dir in integration ui; do
	for t in "$TOP"/tests/$dir/test_*.sh; do
		[ -f "$t" ] || continue
		matches "$dir/$(basename "$t")" && run_suite "$dir/$(basename "$t")" bash "$t"
	done
done
rm -f "$log"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

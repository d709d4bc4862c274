#!/usr/bin/env bash
# Runs every test: unit test binaries, then the shell suites (integration,
# ui), each as its own process; then, when build/san exists (make check
# builds it), the unit and integration suites again against the
# ASan+UBSan build, failing on any sanitizer report. Closes with one
# "N passed, N failed" line counted over every check. Exit 0 only if all pass.
# Usage: tests/run.sh [SUITE-GLOB...]   (e.g. tests/run.sh 'integration/*')
#        NO_SAN=1 tests/run.sh ...      skips the sanitizer pass
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
SAN_BUILD=${SAN_BUILD:-$TOP/build/san}
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

# run_all PREFIX DIRS...: every unit binary of $BUILD and every shell suite in DIRS.
run_all() {
	local prefix=$1; shift
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		matches "unit/$(basename "$t")" && run_suite "${prefix}unit/$(basename "$t")" "$t"
	done
	for dir in "$@"; do
		for t in "$TOP"/tests/$dir/test_*.sh; do
			[ -f "$t" ] || continue
			# Fuzzers bring their own sanitizers; no need to run them twice.
			[ -n "$prefix" ] && [ "$(basename "$t")" = test_fuzz.sh ] && continue
			matches "$dir/$(basename "$t")" && run_suite "$prefix$dir/$(basename "$t")" bash "$t"
		done
	done
}

run_all "" lint integration ui

if [ -z "${NO_SAN:-}" ] && [ -x "$SAN_BUILD/sampletop" ]; then
	san_logs=$(mktemp -d)
	export BUILD=$SAN_BUILD
	export ASAN_OPTIONS="log_path=$san_logs/asan:exitcode=86:detect_leaks=1"
	export UBSAN_OPTIONS="log_path=$san_logs/ubsan:print_stacktrace=1:halt_on_error=1:exitcode=86"
	run_all "san/" integration
	unset ASAN_OPTIONS UBSAN_OPTIONS
	echo "=== san/reports"
	if ls "$san_logs"/* >/dev/null 2>&1; then
		for f in "$san_logs"/*; do echo "# $f:"; head -40 "$f" | sed 's/^/#   /'; done
		echo "not ok - sanitizer reports under the ASan+UBSan build"
		failed=$((failed + 1))
	else
		echo "ok - no sanitizer report under the ASan+UBSan build"
		passed=$((passed + 1))
	fi
	rm -rf "$san_logs"
fi
rm -f "$log"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

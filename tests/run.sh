#!/usr/bin/env bash
# Runs every test: unit test binaries, then the shell suites (integration,
# ui), each as its own process; then, when build/san exists (make check
# builds it), the unit and integration suites again against the
# ASan+UBSan build, failing on any sanitizer report. Closes with one
# "N passed, N failed, N skipped" line counted over every check. Exit 0 only
# if all pass.
# A suite prints TAP: "ok N - ...", "not ok N - ...", "ok N - ... # SKIP why"
# (skipped: not a pass), and its plan "1..N", the checks it runs, skipped
# ones included. The shell suites must declare one; a suite whose count
# differs from its plan (a block that silently stopped), that says
# "Bail out!" (a set-up failed) or that exits non-zero fails.
# Usage: tests/run.sh [SUITE-GLOB...]   (e.g. tests/run.sh 'integration/*')
#        NO_SAN=1 tests/run.sh ...      skips the sanitizer pass
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
SAN_BUILD=${SAN_BUILD:-$TOP/build/san}
export BUILD
passed=0
failed=0
skipped=0
log=$(mktemp)
skips=$(mktemp)

# run_suite NAME PLAN_REQUIRED COMMAND...
run_suite() {
	local name=$1 need_plan=$2; shift 2
	echo "=== $name"
	local start=$SECONDS
	"$@" >"$log" 2>&1
	local rc=$?
	cat "$log"
	local p f s plan ran
	# Skipped checks ("ok N - ... # SKIP why", and the bare "# SKIP why"
	# notes of the unit tests) are neither passed nor failed.
	s=$(grep -ciE '^ok [0-9]+[^#]*# *skip' "$log")
	p=$(($(grep -cE '^ok [0-9]+' "$log") - s))
	f=$(grep -cE '^not ok [0-9]+' "$log")
	ran=$((p + f + s))
	s=$((s + $(grep -cE '^# SKIP' "$log")))
	# Their reasons, for the list at the end.
	sed -nE 's/^ok [0-9]+[^#]*# *[sS][kK][iI][pP] *(.*)$/\1/p; s/^# SKIP *(.*)$/\1/p' "$log" |
		sed "s|^|$name: |" >>"$skips"
	plan=$(sed -nE 's/^1\.\.([0-9]+)( .*)?$/\1/p' "$log" | head -1)
	if grep -q '^Bail out!' "$log"; then
		echo "not ok - $name bailed out: $(grep -m1 '^Bail out!' "$log" | cut -c11-)"
		f=$((f + 1))
	elif [ -n "$plan" ] && [ "$plan" -ne "$ran" ]; then
		echo "not ok - $name planned $plan checks, ran $ran"
		f=$((f + 1))
	elif [ -z "$plan" ] && [ "$need_plan" = yes ]; then
		echo "not ok - $name declared no plan (1..N)"
		f=$((f + 1))
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc without a failed check"
		f=1
	fi
	if [ "$ran" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name ran no check"
		f=1
	fi
	echo "--- $name: $p passed, $f failed, $s skipped (plan ${plan:-none}) ($((SECONDS - start)) s)"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

patterns=("$@")
[ ${#patterns[@]} -eq 0 ] && patterns=('*')
matches() { local s=$1; for p in "${patterns[@]}"; do [[ $s == $p ]] && return 0; done; return 1; }

# run_all PREFIX DIRS...: every unit binary of $BUILD and every shell suite in DIRS.
run_all() {
	local prefix=$1; shift
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		matches "unit/$(basename "$t")" && run_suite "${prefix}unit/$(basename "$t")" no "$t"
	done
	for dir in "$@"; do
		for t in "$TOP"/tests/$dir/test_*.sh; do
			[ -f "$t" ] || continue
			# Fuzzers bring their own sanitizers; no need to run them twice.
			[ -n "$prefix" ] && [ "$(basename "$t")" = test_fuzz.sh ] && continue
			# Nor the ClickHouse suites that mostly wait on servers (a
			# restart, a hang, a 60 s two-agent run): their parsers and
			# the spool run under the sanitizers in unit/ and fuzz/, and
			# test_agent.sh drives the agent under them. Keeps make check
			# under 30 minutes.
			[ -n "$prefix" ] && case $(basename "$t") in
				test_agent_faults.sh | test_store_read.sh) continue ;;
			esac
			# The lint suite counts what it finds in user/: it has no plan.
			need=yes
			[ "$dir" = lint ] && need=no
			matches "$dir/$(basename "$t")" && run_suite "$prefix$dir/$(basename "$t")" "$need" bash "$t"
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
if [ -s "$skips" ]; then
	echo
	echo "Skipped ($skipped):"
	sort "$skips" | uniq -c | sed 's/^ */  /'
fi
rm -f "$skips"
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

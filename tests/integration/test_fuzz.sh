# Every fuzz target (tests/fuzz/fuzz_*.c) built with libFuzzer and run for a
# short time from its seed corpus; a crash or sanitizer report fails it.
. "$(dirname "$0")/../lib.sh"

SECS=${FUZZ_SECONDS:-5}
# One check per fuzz target.
plan "$(ls "$TOP"/tests/fuzz/fuzz_*.c | wc -l)"
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
	clang -fsanitize=fuzzer -x c - -o "$WORK/probe" 2>"$WORK/probe.err"; then
	sed 's/^/#   /' "$WORK/probe.err" | head -5
	bail "clang -fsanitize=fuzzer does not work (install libclang-rt-14-dev)"
fi
for f in "$TOP"/tests/fuzz/fuzz_*.c; do
	n=$(basename "$f" .c)
	"$TOP/tests/fuzz/run.sh" "$SECS" "$n" >"$WORK/$n.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q "^fuzz: $n ok" "$WORK/$n.out"; then
		ok "$n: ${SECS} s without a crash $(grep -o "([0-9]* runs)" "$WORK/$n.out")"
	else
		not_ok "$n crashed or failed to build"
		tail -30 "$WORK/$n.out" | sed 's/^/#   /'
	fi
done
finish

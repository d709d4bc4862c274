#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c with libFuzzer, ASan and UBSan, and runs
# each for FUZZ_SECONDS (first argument, default 60) from its seed corpus in
# tests/fuzz/corpus/NAME/. New inputs go to build/fuzz/corpus/NAME, never
# into git. Exit status 1 if any target crashes (its reproducer is kept in
# build/fuzz/). Usage: tests/fuzz/run.sh [SECONDS] [NAME...]
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${BUILD:-$TOP/build}/fuzz
SECS=${1:-${FUZZ_SECONDS:-60}}
shift 2>/dev/null
CC=${FUZZ_CC:-clang}
# The parsers under test and what they need (no BPF, no profile).
SRCS=(elf_syms debuginfo perfmap procs kallsyms rootfs dwarf_lines util hmap)
FLAGS=(-g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=address,undefined -fno-sanitize-recover=all
       -I"$TOP/user" -I"$TOP/include")
LIBS=(-ldw -lelf -lz -llzma)

mkdir -p "$OUT/obj"
for s in "${SRCS[@]}"; do
	if [ ! -f "$OUT/obj/$s.o" ] || [ "$TOP/user/$s.c" -nt "$OUT/obj/$s.o" ]; then
		"$CC" "${FLAGS[@]}" -fsanitize=fuzzer-no-link -c "$TOP/user/$s.c" -o "$OUT/obj/$s.o" || exit 1
	fi
done
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in "$TOP"/tests/fuzz/fuzz_*.c; do names+=("$(basename "$f" .c)"); done
fi
status=0
for n in "${names[@]}"; do
	"$CC" "${FLAGS[@]}" -fsanitize=fuzzer "$TOP/tests/fuzz/$n.c" "$OUT"/obj/*.o "${LIBS[@]}" \
		-o "$OUT/$n" || { echo "fuzz: $n: build failed"; status=1; continue; }
	mkdir -p "$OUT/corpus/$n"
	seeds=()
	[ -d "$TOP/tests/fuzz/corpus/$n" ] && seeds=("$TOP/tests/fuzz/corpus/$n")
	echo "fuzz: $n for $SECS s"
	if ! (cd "$OUT" && "./$n" -max_total_time="$SECS" -max_len=65536 -rss_limit_mb=2048 \
		-print_final_stats=1 "$OUT/corpus/$n" "${seeds[@]}" >"$OUT/$n.log" 2>&1); then
		echo "fuzz: $n FAILED (see $OUT/$n.log and the crash-* file in $OUT)"
		tail -30 "$OUT/$n.log"
		status=1
	else
		echo "fuzz: $n ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$OUT/$n.log" | awk '{ print $2 }') runs)"
	fi
done
exit $status

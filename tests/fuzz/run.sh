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
FLAGS=(-g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=address,undefined -fno-sanitize-recover=all
       -I"$TOP/user" -I"$TOP/include" -I"$TOP/build" $(pkg-config --cflags libbpf libelf libdw ncursesw))
LIBS=($(pkg-config --libs libbpf libelf libdw ncursesw zlib liblzma jansson libcurl) -liberty -lm -lpthread)

# Every userspace source but main.c, instrumented, so that a target can use
# any module; sampler.c needs the BPF skeletons that `make` generates.
for b in "$TOP"/bpf/*.bpf.c; do
	make -s -C "$TOP" "build/$(basename "$b" .bpf.c).skel.h" >/dev/null || exit 1
done
mkdir -p "$OUT/obj"
objs=()
jobs=0
for s in "$TOP"/user/*/*.c; do
	[ "$(basename "$s")" = main.c ] && continue
	rel=${s#"$TOP"/user/}
	o="$OUT/obj/${rel//\//_}.o"
	objs+=("$o")
	if [ -f "$o" ] && [ ! "$s" -nt "$o" ] &&
	   [ -z "$(find "$TOP/user" "$TOP/include" -name '*.h' -newer "$o" -print -quit)" ]; then
		continue
	fi
	"$CC" "${FLAGS[@]}" -fsanitize=fuzzer-no-link -c "$s" -o "$o" &
	jobs=$((jobs + 1))
	if [ "$jobs" -ge 2 ]; then wait -n || { echo "fuzz: compile failed"; exit 1; }; jobs=$((jobs - 1)); fi
done
while [ "$jobs" -gt 0 ]; do wait -n || { echo "fuzz: compile failed"; exit 1; }; jobs=$((jobs - 1)); done

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in "$TOP"/tests/fuzz/fuzz_*.c; do names+=("$(basename "$f" .c)"); done
fi
status=0
for n in "${names[@]}"; do
	"$CC" "${FLAGS[@]}" -fsanitize=fuzzer "$TOP/tests/fuzz/$n.c" "${objs[@]}" "${LIBS[@]}" \
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

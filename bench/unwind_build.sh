#!/usr/bin/env bash
# Unwind table build cost, side by side in one run: rows per second for
# libc, cc1 and libLLVM-14 built the old way (one libdw query per row,
# unwind_table_build_libdw) and from the .eh_frame parser (unwind/cfi.c), and
# through the on-disk cache (first build and store, then a load). Then the
# start-up of a real run: `sampletop -- gcc -O2 -c` of a generated file with
# an empty cache and again with a warm one: the tables' total build time
# (sampletop -v) and sampletop's own CPU time. Prints "key: value" lines.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
ST=$BUILD/sampletop
W=$(mktemp -d /tmp/sampletop-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
objs=$(make -s -C "$TOP" OUTPUT="$BUILD" lib-objs)
pkgs="libbpf libelf libdw ncursesw zlib liblzma jansson libcurl"
${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -I"$BUILD" -I"$TOP/include" -I"$TOP/user" \
	$(pkg-config --cflags $pkgs) -o "$W/unwind_build" "$TOP/bench/unwind_build.c" $objs \
	$(pkg-config --libs $pkgs) -liberty -lm -lpthread
echo "unwind_build.cpus: $(nproc)"
echo "unwind_build.loadavg: $(cut -d' ' -f1 /proc/loadavg)"
args=()
for pair in libc:/lib/x86_64-linux-gnu/libc.so.6 cc1:/usr/lib/gcc/x86_64-linux-gnu/12/cc1 \
	    libLLVM:/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1; do
	if [ -r "${pair#*:}" ]; then args+=("${pair%%:*}" "${pair#*:}"); else
		echo "unwind_build.${pair%%:*}_skipped: ${pair#*:} not found"; fi
done
"$W/unwind_build" "$W/cache" "${args[@]}"

# A real start-up: gcc compiling a generated file, cold cache then warm.
if ! command -v gcc >/dev/null; then
	echo "unwind_build.startup_skipped: no gcc"
	exit 0
fi
for i in $(seq 400); do
	echo "static int f$i(int x) { int s = 0; for (int k = 0; k < x; k++) s += k * $i; return s; }"
	echo "int g$i(int x) { return f$i(x) + x; }"
done >"$W/gen.c"
export SAMPLETOP_UNWIND_CACHE=$W/startup
for run in cold warm; do
	/usr/bin/time -f '%U %S' -o "$W/$run.time" \
		"$ST" -q -v -o "$W/$run.folded" -- gcc -O2 -c -o "$W/gen.o" "$W/gen.c" 2>"$W/$run.err"
	ms=$(sed -n 's/^sampletop: unwind table: .* built in \([0-9.]*\) ms.*/\1/p' "$W/$run.err" |
		awk '{ t += $1 } END { printf "%.1f", t }')
	echo "unwind_build.startup_${run}_tables_ms: $ms"
	echo "unwind_build.startup_${run}_sampletop_cpu_s: $(awk '{ printf "%.2f", $1 + $2 }' "$W/$run.time")"
	cc1=$(grep -E 'unwind table: .*/cc1:' "$W/$run.err" | sed -n 's/.* built in \([0-9.]*\) ms.*/\1/p')
	echo "unwind_build.startup_${run}_cc1_table_ms: ${cc1:-none}"
done
echo "unwind_build.startup_warm_cache: $(sed -n 's/^sampletop: unwind cache: [^:]*: //p' "$W/warm.err")"

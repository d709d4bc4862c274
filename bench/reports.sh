#!/usr/bin/env bash
# Report speed: every format written from, and the saved profile loaded
# back into, a synthetic profile of 1M samples over 100k distinct stacks.
# Targets: each write under 1 s, the load under 0.5 s. Wall and CPU time are
# both printed: on a shared, loaded machine the CPU time is the steadier one.
# Output lines are "key: value" and stable.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
tmp=$(mktemp -d /tmp/sampletop-bench.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
objs=$(make -s -C "$TOP" OUTPUT="$BUILD" lib-objs)
${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -I"$BUILD" -I"$TOP/include" -I"$TOP/user" \
	$(pkg-config --cflags libbpf libelf libdw ncursesw zlib liblzma jansson libcurl) \
	-o "$tmp/reports_bench" "$TOP/bench/reports_bench.c" $objs \
	$(pkg-config --libs libbpf libelf libdw ncursesw zlib liblzma jansson libcurl) -liberty -lm -lpthread
echo "reports.cpus: $(nproc)"
echo "reports.loadavg: $(cut -d' ' -f1 /proc/loadavg)"
"$tmp/reports_bench" "$tmp"
ls -l "$tmp" | awk 'NR > 1 && $NF ~ /^bench\./ { sub(/^bench\./, "", $NF); printf "reports.%s_bytes: %d\n", $NF, $5 }'

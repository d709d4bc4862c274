#!/usr/bin/env bash
# The symbolizer against binutils addr2line and elfutils eu-addr2line, side by
# side: 10,000 random addresses inside functions of libLLVM-14 (110 MB), cold
# (the file not yet parsed, load included) through `sampletop addr2line`, and
# warm lookups per second in-process. Prints stable "key: value" lines.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=$TOP/build/sampletop
N=${N:-10000}
LIB=${LIB:-}
for l in /usr/lib/x86_64-linux-gnu/libLLVM-14.so.1 /usr/lib/llvm-14/lib/libLLVM-14.so.1; do
	[ -z "$LIB" ] && [ -r "$l" ] && LIB=$l
done
if [ -z "$LIB" ]; then
	echo "symbolize.skipped: libLLVM-14.so.1 not found (apt-get install libllvm14)"
	exit 0
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# Random addresses inside defined functions (start + random offset < size).
nm -D -S --defined-only "$LIB" | awk '$3 == "T" || $3 == "t" { print $1, $2 }' |
	shuf -n "$N" --random-source=<(yes) >"$W/funcs"
RANDOM=1
while read -r s z; do
	printf '%x\n' $((0x$s + (0x$z > 1 ? (RANDOM * 32768 + RANDOM) % 0x$z : 0)))
done <"$W/funcs" >"$W/addrs"

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }

st=$(secs sh -c "'$ST' addr2line -e '$LIB' <'$W/addrs'")
a2l=$(secs sh -c "addr2line -f -e '$LIB' <'$W/addrs'")
if command -v eu-addr2line >/dev/null; then
	eu=$(secs sh -c "eu-addr2line -f -e '$LIB' <'$W/addrs'")
else
	eu=nan
fi
printf 'symbolize.addresses: %s\n' "$(wc -l <"$W/addrs")"
printf 'symbolize.sampletop_cold_seconds: %.3f\n' "$st"
printf 'symbolize.addr2line_seconds: %.3f\n' "$a2l"
printf 'symbolize.eu_addr2line_seconds: %s\n' "$eu"
printf 'symbolize.speedup_vs_addr2line: %.0f\n' "$(echo "$a2l / $st" | bc -l)"

# Same names as binutils (demangled) for every address both name.
"$ST" addr2line -e "$LIB" <"$W/addrs" >"$W/st.txt"
addr2line -f -C -e "$LIB" <"$W/addrs" | awk 'NR % 2 == 1' >"$W/a2l.txt"
printf 'symbolize.same_name_as_addr2line: %s/%s\n' \
	"$(paste -d '\n' "$W/st.txt" "$W/a2l.txt" | awk 'NR % 2 { a = $0; next } a == $0 { n++ } END { print n + 0 }')" \
	"$(wc -l <"$W/addrs")"

# In-process: cold again (fresh symbolizer) and warm lookups per second.
${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -I"$TOP/user" -I"$TOP/include" -I"$TOP/build" \
	"$TOP/bench/symbolize.c" $(ls "$TOP"/build/obj/*.o "$TOP"/build/obj/*/*.o | grep -v '/main\.o$') \
	$(pkg-config --libs libbpf libelf libdw ncursesw zlib liblzma jansson) -liberty -lm -lpthread \
	-o "$W/symbench"
"$W/symbench" "$LIB" 100 <"$W/addrs"

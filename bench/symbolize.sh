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

# run NAME CMD...: wall seconds, CPU seconds (user + sys) and peak RSS of CMD,
# stdin from the address list. CPU time is the fair figure on a loaded machine.
run() {
	local name=$1; shift
	/usr/bin/time -f "%e %U %S %M" -o "$W/time" "$@" <"$W/addrs" >/dev/null
	read -r wall usr sys rss <"$W/time"
	printf 'symbolize.%s_wall_seconds: %s\n' "$name" "$wall"
	printf 'symbolize.%s_cpu_seconds: %.3f\n' "$name" "$(echo "$usr + $sys" | bc -l)"
	printf 'symbolize.%s_max_rss_kb: %s\n' "$name" "$rss"
	eval "${name}_cpu=$(echo "$usr + $sys" | bc -l)"
}

printf 'symbolize.addresses: %s\n' "$(wc -l <"$W/addrs")"
run sampletop_cold "$ST" addr2line -e "$LIB"
run addr2line addr2line -f -e "$LIB"
if command -v eu-addr2line >/dev/null && [ -z "${NO_EU:-}" ]; then
	run eu_addr2line eu-addr2line -f -e "$LIB"
fi
# CPU time has 10 ms resolution: count at least that much for sampletop.
awk -v a="$addr2line_cpu" -v s="$sampletop_cold_cpu" \
	'BEGIN { if (s < 0.01) s = 0.01; printf "symbolize.cpu_speedup_vs_addr2line: %.0f\n", a / s }'

# Same names as binutils (demangled) for every address both name.
"$ST" addr2line -e "$LIB" <"$W/addrs" >"$W/st.txt"
addr2line -f -C -e "$LIB" <"$W/addrs" | awk 'NR % 2 == 1' >"$W/a2l.txt"
printf 'symbolize.same_name_as_addr2line: %s/%s\n' \
	"$(paste -d '\n' "$W/st.txt" "$W/a2l.txt" | awk 'NR % 2 { a = $0; next } a == $0 { n++ } END { print n + 0 }')" \
	"$(wc -l <"$W/addrs")"

# In-process: cold again (fresh symbolizer) and warm lookups per second.
${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -I"$TOP/user" -I"$TOP/include" -I"$TOP/build" \
	"$TOP/bench/symbolize.c" $(make -s -C "$TOP" OUTPUT="$TOP/build" lib-objs) \
	$(pkg-config --libs libbpf libelf libdw ncursesw zlib liblzma jansson libcurl) -liberty -lm -lpthread \
	-o "$W/symbench"
"$W/symbench" "$LIB" 100 <"$W/addrs"

# Big programs in one run: clang (libLLVM + libclang-cpp, ~2M rows) and then
# gcc's cc1 (~0.5M rows) all keep their unwind tables, so their samples are
# whole stacks; with a deliberately small --unwind-mem, tables are evicted
# (counted) and the one sampled last stays; recursion deeper than 127 frames
# reaches main.
. "$(dirname "$0")/../lib.sh"
plan 16

CC1=$(gcc -print-prog-name=cc1 2>/dev/null)
build_target unwind unwind.c -O2 -g -ldl

# A C file of ~200 KB: small functions, for a compile of a few seconds.
awk -v n="${BIGSTACKS_FUNCS:-1600}" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "int f%d(int *v, int x)\n{\n\tint s = v[x & 7] * %d;\n\n\ts ^= x >> 3;\n\tif (s > %d)\n\t\ts -= v[(s + %d) & 7];\n\treturn s + %d;\n}\n", i, i, i, i + 1, i
}' >"$WORK/big.c"
echo "# set-up: $(wc -c <"$WORK/big.c") bytes of C in big.c"

# compile_run NAME SCRIPT [OPTIONS...]: sampletop -v OPTIONS -- sh -c SCRIPT
# in $WORK; NAME.err (-v), NAME.folded (--threads), NAME.txt (the header).
compile_run() {
	local name=$1 script=$2; shift 2
	(cd "$WORK" && "$ST" -q -v "$@" -o "$WORK/$name.json" -- sh -c "$script" 2>"$WORK/$name.err")
	"$ST" report "$WORK/$name.json" -f folded --threads -o "$WORK/$name.folded" 2>/dev/null
	"$ST" report "$WORK/$name.json" -f text --counters -o "$WORK/$name.txt" 2>/dev/null
}
# whole FOLDED PROG: per process of PROG but its first (which pays for its
# tables' build: the cold start is not what this suite checks), the share
# of samples whose outermost frame is _start or a thread's start routine;
# samples with no user stack by nature ([in exec], [exiting]) left out.
# Prints "SHARE SAMPLES SHARE_ALL" (SHARE_ALL: with the first process too).
# FOLDED is --threads folded: PROG;PROG [TID];...
whole() {
	awk -v prog="$2" -F';' '
	$1 == prog {
		split($2, t, /\[|\]/); tid = t[2] + 0
		n = $NF; sub(/.* /, "", n)
		root = $3; sub(/ [0-9]+$/, "", root)
		if (root == "[in exec]" || root == "[exiting]") next
		k++; tids[k] = tid; cnt[k] = n
		ok[k] = (root == "_start" || root ~ /clone|start_thread/) ? n : 0
		if (first == "" || tid < first) first = tid
	}
	END {
		for (i = 1; i <= k; i++) {
			all += cnt[i]; allhit += ok[i]
			if (tids[i] != first) { tot += cnt[i]; hit += ok[i] }
		}
		if (tot == 0) print 0, 0, 0
		else printf "%.1f %d %.1f\n", 100 * hit / tot, tot, 100 * allhit / all
	}' "$1"
}
# not_whole FOLDED PROG: the heaviest stacks of PROG's that are not whole.
not_whole() {
	grep "^$2;" "$1" | grep -vE "^$2;[^;]+;(_start|[^;]*clone[^;]*|[^;]*start_thread[^;]*|\[in exec\]|\[exiting\]);" |
		sort -t' ' -k2 -rn | head -5 | cut -c1-200 | sed 's/^/#     /'
}
# check_whole DESCRIPTION SHARE MIN SAMPLES FOLDED PROG
check_whole() {
	if within "$2" "$3" 100 && [ "$4" -ge 200 ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   heaviest stacks that are not whole:"
		not_whole "$5" "$6"
	fi
}

if ! command -v clang >/dev/null || [ ! -x "$CC1" ]; then
	skip 12 "clang or gcc's cc1 not installed (scripts/deps.sh --test)"
else
	# One run: three clang compiles, then three gcc compiles. Before the
	# rows of every table fitted a fixed map, libLLVM and libclang-cpp
	# filled it and cc1 was walked by frame pointers (0% whole).
	compile_run big \
		'for i in 1 2 3; do clang -O2 -c big.c -o c$i.o; done; for i in 1 2 3; do gcc -O2 -c big.c -o g$i.o; done'
	read -r cs cn ca <<<"$(whole "$WORK/big.folded" clang)"
	read -r gs gn ga <<<"$(whole "$WORK/big.folded" cc1)"
	echo "# clang: $cs% of $cn samples whole; cc1: $gs% of $gn (later processes)"
	echo "# with the first process, which waits for its tables (cold start): clang $ca%, cc1 $ga%"
	# -v at the end: clang's libraries placed, or freed once no process
	# mapped them for 10 s (reclaimed); neither evicted nor refused.
	check_grep "libLLVM's table built, never evicted" \
		'unwind table: .*libLLVM-[0-9.]+\.so[.0-9]*: [0-9]{6,} rows, [0-9]+ bytes, built in [0-9.]+ ms( \(reclaimed: no longer mapped\))?$' "$WORK/big.err"
	check_grep "libclang-cpp's table built, never evicted" \
		'unwind table: .*libclang-cpp\.so[.0-9]*: [0-9]{6,} rows, [0-9]+ bytes, built in [0-9.]+ ms( \(reclaimed: no longer mapped\))?$' "$WORK/big.err"
	check_grep "cc1's table placed after them" 'unwind table: .*/cc1: [0-9]{5,} rows, [0-9]+ bytes, built in [0-9.]+ ms$' "$WORK/big.err"
	# 4 bytes a row and 8 a page, not 8 a row and 8 a bucket: libLLVM's
	# ~950k rows take under 4.5 MB.
	b=$(grep -oE 'libLLVM-[0-9.]+\.so[.0-9]*: [0-9]+ rows, [0-9]+ bytes' "$WORK/big.err" | head -1 |
		awk '{ printf "%.2f", $4 / $2 }')
	check "libLLVM's table: under 4.5 bytes per row (got ${b:-none})" within "${b:-99}" 3.9 4.5
	check_whole "clang: at least 95% of the samples are whole (got $cs% of $cn)" "$cs" 95 "$cn" \
		"$WORK/big.folded" clang
	check_whole "cc1 after clang in the same run: at least 95% whole (got $gs% of $gn)" "$gs" 95 "$gn" \
		"$WORK/big.folded" cc1
	check "header: no table refused or evicted (--counters: unwind_table_full and unwind_tables_evicted 0)" \
		sh -c "grep -qE '^  unwind_table_full +0  ' '$WORK/big.txt' && grep -qE '^  unwind_tables_evicted +0  ' '$WORK/big.txt'"

	# A budget that holds cc1 or clang's two libraries, not all three: the
	# tables sampled least recently are evicted for cc1's, counted, and
	# cc1's stays while it runs.
	compile_run small 'clang -O2 -c big.c -o c.o; for i in 1 2; do gcc -O2 -c big.c -o g$i.o; done' \
		--unwind-mem 6M
	read -r ss sn _ <<<"$(whole "$WORK/small.folded" cc1)"
	echo "# --unwind-mem 6M: cc1 $ss% of $sn samples whole (later processes)"
	check_grep "--unwind-mem 6M: evictions counted in the header" '^  unwind_tables_evicted +[1-9][0-9,]*  ' "$WORK/small.txt"
	check_grep "--unwind-mem 6M: -v names evicted tables" 'unwind table: .*\(evicted\)$' "$WORK/small.err"
	check_grep "--unwind-mem 6M: cc1's table, sampled last, is kept" 'unwind table: .*/cc1: [0-9]{5,} rows, [0-9]+ bytes, built in [0-9.]+ ms$' "$WORK/small.err"
	check_whole "--unwind-mem 6M: cc1 at least 95% whole (got $ss% of $sn)" "$ss" 95 "$sn" \
		"$WORK/small.folded" cc1
	"$ST" -q --unwind-mem 1K -d 0.1 -a -o "$WORK/o.folded" 2>"$WORK/mem.err"; rc=$?
	check "--unwind-mem 1K: usage error (exit 2, got $rc)" test "$rc" -eq 2
fi

# Deeper than the 127 frames bpf_get_stack walks: 300 recurse frames, and
# the whole stack to main.
"$TARGETS/unwind" recurse 5 300 & PID=$!; _pids+=("$PID")
sleep 0.3
"$ST" -q -p "$PID" -d 2 -o "$WORK/deep.folded" 2>"$WORK/deep.err"
kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
n=$(total_samples "$WORK/deep.folded")
d=$(share_re "$WORK/deep.folded" '^_start;.*;main;run_recurse;(recurse;){300}burn [0-9]+$')
check "300-deep recursion: samples recorded (got $n)" within "$n" 300 100000
check "300-deep recursion: at least 90% of samples are _start..main;run_recurse;recurse x300;burn (got $d%)" \
	within "$d" 90 100
check_no_grep "300-deep recursion: no [truncated stack]" 'truncated stack' "$WORK/deep.folded"

# Deeper than the 511 user frames walked: flagged, not cut silently.
"$TARGETS/unwind" recurse 4 700 & PID=$!; _pids+=("$PID")
sleep 0.3
"$ST" -q -p "$PID" -d 1 -o "$WORK/deeper.folded" 2>/dev/null
kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
t=$(share_re "$WORK/deeper.folded" '^\[truncated stack\];(recurse;){500,}burn [0-9]+$')
check "700-deep recursion: at least 90% of samples are [truncated stack] over 500+ frames (got $t%)" \
	within "$t" 90 100

finish

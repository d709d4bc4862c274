# Cold start: a big program whose unwind table does not exist yet (a fresh
# copy of cc1, ~0.5 s to build its table) must not lose its first hundreds
# of milliseconds. Its samples are taken with a copy of the stack and unwound
# in userspace once the table exists: they reach _start, and the parse phase
# (c_parse_file, cc1's first ~10%) keeps the share it has when the table was
# there from the start. perf --call-graph dwarf on the same command, if
# present, is printed beside.
. "$(dirname "$0")/../lib.sh"
plan 11

CC1=$(gcc -print-prog-name=cc1 2>/dev/null)
if [ ! -x "$CC1" ] || [ "$CC1" = cc1 ]; then
	skip 11 "no cc1 (gcc's compiler proper) here"
	finish
	exit
fi
BIN=$WORK/bin
mkdir -p "$BIN"

# fresh_cc1 NAME: a copy of cc1 at a new path with a build-id of its own, so
# that no table exists for it, in this sampletop or in any cache by build-id.
fresh_cc1() {
	cp "$CC1" "$BIN/$1" || return 1
	local id
	id=$(readelf -n "$BIN/$1" 2>/dev/null | awk '/Build ID:/ { print $3; exit }')
	[ -n "$id" ] || return 0
	# Overwrite the build-id's first 8 bytes where the note holds it.
	local off
	off=$(LC_ALL=C grep -obUaP "$(echo "$id" | cut -c1-16 | sed 's/../\\x&/g')" "$BIN/$1" | head -1 | cut -d: -f1)
	[ -n "$off" ] || return 1
	head -c 8 /dev/urandom | dd of="$BIN/$1" bs=1 seek="$off" conv=notrunc status=none
}

# A C file of N functions: structs, loops, switches, ordinary arithmetic.
gen_c() {
	awk -v n="$1" 'BEGIN {
		srand(13)
		print "struct s0 { int a; long b; double c; struct s0 *next; };"
		for (i = 0; i < n; i++) {
			printf "struct s%d { int a%d; long b; double c[%d]; struct s%d *p; };\n", i + 1, i, i % 7 + 1, i
			printf "static long f%d(struct s%d *x, long y, int z)\n{\n\tlong acc = %d, t = y;\n", i, i + 1, i
			printf "\tfor (int k = 0; k < z; k++) {\n\t\tswitch ((k + y) & 7) {\n"
			for (c = 0; c < 8; c++) {
				printf "\t\tcase %d:\n", c
				for (d = 0; d < 4; d++)
					printf "\t\t\tt = (t * %d + k) ^ (acc >> %d);\n\t\t\tacc += t * %d - (y & %d);\n",
						int(rand() * 97) + 1, d + 1, int(rand() * 89) + 1, int(rand() * 63) + 1
				printf "\t\t\tbreak;\n"
			}
			printf "\t\t}\n\t\tif (x && x->p)\n\t\t\tacc += x->a%d + (long)x->c[0];\n\t}\n", i
			if (i > 0)
				printf "\treturn acc + f%d((struct s%d *)0, acc, z - 1);\n}\n", i - 1, i
			else
				printf "\treturn acc;\n}\n"
		}
		printf "long entry(long y)\n{\n\treturn f%d((void *)0, y, 3);\n}\n", n - 1
	}'
}

setup "generated C files" sh -c "$(declare -f gen_c); gen_c 300 >'$WORK/big.c' && gen_c 40 >'$WORK/small.c'"
setup "fresh copies of cc1" sh -c "$(declare -f fresh_cc1); CC1='$CC1' BIN='$BIN'; fresh_cc1 cc1short && fresh_cc1 cc1cold && fresh_cc1 cc1perf && fresh_cc1 cc1kern && fresh_cc1 cc1scope"
# The warm one is the cold one's file (a hard link): its table is built
# during the cold run, so it runs with it in place from its first sample.
setup "a hard link to the cold copy" ln "$BIN/cc1cold" "$BIN/cc1warm"

# reach FOLDED PROC: % of PROC's samples (by process; those with no user
# stack by nature, [in exec] and [exiting], left out) whose root is _start.
reach() {
	awk -v p="$2" '{ n = $NF; split($0, fr, ";"); if (fr[1] != p) next
		if (fr[2] ~ /^\[(in exec|exiting)\]( [0-9]+)?$/) next
		t += n; if (fr[2] == "_start") h += n }
		END { if (t == 0) print 0; else printf "%.1f\n", 100 * h / t }' "$1"
}
# share_of FOLDED PROC FUNC: % of PROC's samples (same ones) holding frame FUNC.
share_of() {
	awk -v p="$2" -v f="$3" '{ n = $NF; line = $0; sub(/ [0-9]+$/, "", line)
		k = split(line, fr, ";"); if (fr[1] != p) next
		if (fr[2] ~ /^\[(in exec|exiting)\]/) next
		t += n; for (i = 2; i <= k; i++) if (fr[i] == f) { h += n; break } }
		END { if (t == 0) print 0; else printf "%.2f\n", 100 * h / t }' "$1"
}
samples_of() { awk -v p="$2" '{ split($0, fr, ";"); if (fr[1] == p) t += $NF } END { print t + 0 }' "$1"; }
# counter TEXT NAME: a counter of a text report written with --counters.
counter() { awk -v n="$2" '$1 == n { gsub(",", "", $2); v = $2 } END { print v + 0 }' "$1"; }

# 1. A short compile, all of it in the program's first ~500 ms, with cc1's
# table built meanwhile.
"$ST" -q -o "$WORK/short.json" -- "$BIN/cc1short" -quiet -O2 "$WORK/small.c" -o /dev/null \
	2>"$WORK/short.err"
"$ST" report "$WORK/short.json" --processes -o "$WORK/short.folded" 2>>"$WORK/short.err"
"$ST" report "$WORK/short.json" --counters -o "$WORK/short.txt" 2>>"$WORK/short.err"
n=$(samples_of "$WORK/short.folded" cc1short)
r=$(reach "$WORK/short.folded" cc1short)
cold=$(counter "$WORK/short.txt" cold_unwound)
echo "# short cold run: $n samples, ${r}% reach _start; cold samples unwound in userspace: ${cold:-0}," \
	"truncated: $(counter "$WORK/short.txt" cold_truncated), copies lost: $(counter "$WORK/short.txt" cold_copies_lost)"
# (Tables are read straight from .eh_frame now: cc1's takes ~15-60 ms, so
# the cold window holds tens of samples, not the hundreds of a libdw build.)
if [ "${cold:-0}" -ge 5 ]; then
	ok "a new big program's first samples are taken cold ($cold of $n) and unwound in userspace"
else
	not_ok "a new big program's first samples are taken cold (${cold:-0} of $n)"
	sed 's/^/#   /' "$WORK/short.err" | head -5
fi
if within "$r" 90 100; then
	ok "they reach _start: ${r}% of the short compile's samples"
else
	not_ok "they reach _start: ${r}% of the short compile's samples"
	grep '^cc1short;' "$WORK/short.folded" | grep -v '^cc1short;_start;' | sort -t' ' -k2 -rn | head -5 |
		cut -c1-200 | sed 's/^/#   /'
fi
check "no cold sample was dropped (--counters: cold_hold_full $(counter "$WORK/short.txt" cold_hold_full), lost_ringbuf_full $(counter "$WORK/short.txt" lost_ringbuf_full))" \
	test "$(grep -cE '^  (cold_hold_full|lost_ringbuf_full) +0  ' "$WORK/short.txt")" -eq 2

# The same with kernel stacks (-K): a cold sample's kernel frames (page
# faults, system calls) stay below its user frames, which reach _start
# (those in exec or exiting have no user stack by nature).
"$ST" -q -K -o "$WORK/kern.json" -- "$BIN/cc1kern" -quiet -O2 "$WORK/small.c" -o /dev/null \
	2>"$WORK/kern.err"
"$ST" report "$WORK/kern.json" --kernel --processes -o "$WORK/kern.folded" 2>>"$WORK/kern.err"
kt=$(grep '^cc1kern;' "$WORK/kern.folded" | grep -vE '^cc1kern;\[(in exec|exiting)\]' | grep -F '_[k]' |
	awk '{ t += $NF } END { print t + 0 }')
kr=$(grep '^cc1kern;_start;' "$WORK/kern.folded" | grep -F '_[k]' | awk '{ t += $NF } END { print t + 0 }')
echo "# with -K: $kt samples with kernel frames, $kr of them reach _start"
# (At most two that do not: a stack deeper than the copy ends truncated.)
if [ "$kt" -ge 5 ] && [ "$kr" -ge $((kt - 2)) ]; then
	ok "with -K, samples in the kernel keep their kernel frames under whole user stacks ($kr of $kt)"
else
	not_ok "with -K, samples in the kernel keep their kernel frames under whole user stacks ($kr of $kt)"
	grep '^cc1kern;' "$WORK/kern.folded" | grep -F '_[k]' | grep -v '^cc1kern;_start;' | head -5 |
		cut -c1-200 | sed 's/^/#   /'
fi

# The same cold, under --scope c_parse_file: the uretprobe's trampoline in
# place of c_parse_file's return address is mapped back in the stack copy
# too (bpf/cold.bpf.h), so userspace's walk goes on to _start through the
# real caller, not through an "[unknown] [unmapped]" frame.
"$ST" -q --scope c_parse_file -o "$WORK/scope.json" -- "$BIN/cc1scope" -quiet -O2 "$WORK/small.c" \
	-o /dev/null >/dev/null 2>"$WORK/scope.err"
"$ST" report "$WORK/scope.json" --processes -o "$WORK/scope.folded" 2>>"$WORK/scope.err"
"$ST" report "$WORK/scope.json" --counters -o "$WORK/scope.txt" 2>>"$WORK/scope.err"
cold=$(counter "$WORK/scope.txt" cold_unwound)
um=$(grep -c '\[unmapped\]' "$WORK/scope.folded")
echo "# scoped cold run: $(samples_of "$WORK/scope.folded" cc1scope) us of wall time," \
	"${cold:-0} cold, ${um} stacks through [unmapped]"
check "--scope on a cold program: its samples are taken cold (${cold:-0})" test "${cold:-0}" -ge 3
check "... and no stack goes through the uretprobe trampoline as [unmapped] ($um): c_parse_file under its caller" test "$um" -eq 0 -a \
	"$(grep -c '^cc1scope;_start;.*;c_common_parse_file();c_parse_file()' "$WORK/scope.folded")" -gt 0

# 2. The same program cold, then warm (its table in place from its first
# sample), in one sampletop run: the parse phase, which runs in the cold
# window, must keep its share.
"$ST" -q -o "$WORK/cw.json" -- sh -c "'$BIN/cc1cold' -quiet -O2 '$WORK/big.c' -o /dev/null;
	'$BIN/cc1warm' -quiet -O2 '$WORK/big.c' -o /dev/null" 2>"$WORK/cw.err"
"$ST" report "$WORK/cw.json" --processes -o "$WORK/cw.folded" 2>>"$WORK/cw.err"
"$ST" report "$WORK/cw.json" --counters -o "$WORK/cw.txt" 2>>"$WORK/cw.err"
rc=$(reach "$WORK/cw.folded" cc1cold)
rw=$(reach "$WORK/cw.folded" cc1warm)
pc=$(share_of "$WORK/cw.folded" cc1cold 'c_parse_file()')
pw=$(share_of "$WORK/cw.folded" cc1warm 'c_parse_file()')
echo "# cold: $(samples_of "$WORK/cw.folded" cc1cold) samples, ${rc}% reach _start, c_parse_file ${pc}%;" \
	"warm: $(samples_of "$WORK/cw.folded" cc1warm) samples, ${rw}% reach _start, c_parse_file ${pw}%;" \
	"cold samples unwound in userspace: $(counter "$WORK/cw.txt" cold_unwound)"
check "the cold compile reaches _start as the warm one does (${rc}% vs ${rw}%)" \
	within "$rc" "$(awk -v w="$rw" 'BEGIN { print w - 2 }')" 100
check "its parse phase keeps its share: c_parse_file ${pc}% cold, ${pw}% warm (within 3 points)" \
	within "$pc" "$(awk -v w="$pw" 'BEGIN { print w - 3 }')" "$(awk -v w="$pw" 'BEGIN { print w + 3 }')"
check "the parse phase is there at all (${pc}%)" within "$pc" 2 100
check "the counters count the samples unwound in userspace ($(counter "$WORK/cw.txt" cold_unwound))" \
	grep -qE '^  cold_unwound +[1-9]' "$WORK/cw.txt"

# 3. perf --call-graph dwarf (8 KiB of stack per sample) on the same cold
# compile, for comparison.
if ! command -v perf >/dev/null 2>&1; then
	skip 1 "perf is not installed"
elif ! perf record -q -e cpu-clock -F 1000 --call-graph dwarf -o "$WORK/perf.data" -- \
	"$BIN/cc1perf" -quiet -O2 "$WORK/big.c" -o /dev/null >/dev/null 2>"$WORK/perf.err"; then
	skip 1 "perf record failed: $(head -1 "$WORK/perf.err")"
else
	# perf script: a header line per sample, then its frames leaf first.
	perf script -i "$WORK/perf.data" -F comm,ip,sym 2>/dev/null | awk '
		function flush() { if (comm == "") return; s = comm; for (i = nf; i >= 1; i--) s = s ";" fr[i]
			print s " 1"; comm = ""; nf = 0 }
		/^[^ \t]/ { flush(); comm = $1; next }
		/^[ \t]+[0-9a-f]+ / { $1 = ""; sub(/^ /, ""); sub(/\+0x[0-9a-f]+$/, ""); fr[++nf] = $0; next }
		/^$/ { flush() }
		END { flush() }' >"$WORK/perf.folded"
	rp=$(reach "$WORK/perf.folded" cc1perf)
	pp=$(awk '{ n = $NF; split($0, fr, ";"); if (fr[1] != "cc1perf") next; t += n
		if ($0 ~ /;c_parse_file;/) h += n } END { if (t) printf "%.2f\n", 100 * h / t; else print 0 }' "$WORK/perf.folded")
	echo "# perf --call-graph dwarf, the same cold compile: $(samples_of "$WORK/perf.folded" cc1perf) samples," \
		"${rp}% reach _start, c_parse_file ${pp}% (sampletop: ${rc}% and ${pc}%)"
	check "sampletop's cold compile reaches _start at least as often as perf dwarf's (${rc}% vs ${rp}%)" \
		within "$rc" "$rp" 100
fi

finish

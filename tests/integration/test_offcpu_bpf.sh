# --wall's kernel side on its own: the sched_switch program and the sampler's
# delivery of its records, through tests/integration/wall_tool.c (the
# records as lines), on tests/targets/offcpu.c, whose threads leave the CPU
# for known reasons and times: nanosleep 50 ms, a pipe read fed every
# 100 ms, a mutex held 60 ms at a time, two spinners sharing CPU 0.
. "$(dirname "$0")/../lib.sh"
plan 20

build_target offcpu offcpu.c -O2 -g -no-pie
build_target offcpu_fp offcpu.c -O2 -g -no-pie -fno-omit-frame-pointer

# The tool links with the same objects as the unit tests (ASan ones in build/san).
pkgs="libbpf libelf libdw ncursesw zlib liblzma jansson libcurl"
case $BUILD in */san) san="-fsanitize=address,undefined -fno-omit-frame-pointer" ;; *) san= ;; esac
objs=$(make -s -C "$TOP" OUTPUT="$BUILD" lib-objs)
# shellcheck disable=SC2086
setup "wall_tool builds" ${CC:-cc} -g -O2 $san -std=gnu11 -D_GNU_SOURCE -I"$TOP/include" -I"$TOP/user" \
	-I"$BUILD" $(pkg-config --cflags $pkgs) "$TOP/tests/integration/wall_tool.c" $objs \
	$(pkg-config --libs $pkgs) -liberty -lm -lpthread -o "$WORK/wall_tool"
TOOL=$WORK/wall_tool

# The lines of the tool's output are described in wall_tool.c. Fields of an
# "off" line: 2 tid, 3 comm, 4 time, 5 state=, 6 sys=, 7 fd=, 8 kind=,
# 9 flags=, 10 user=, 11 kern=, 12 py=, 13 ips=.
AWK_LIB='
function val(f) { sub(/^[a-z]+=/, "", f); return f }
function hex(s,   i, n, c) { n = 0; s = tolower(s); sub(/^0x/, "", s)
	for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)); n = n * 16 + c - 1 }
	return n }
function capped(f) { return int(hex(val(f)) / 8192) % 2 }	# ST_SAMPLE_OFF_CAPPED
# any of the line s ips in [lo, hi)
function ip_in(f, lo, hi,   k, a, i, v) { k = split(val(f), a, ",")
	for (i = 1; i <= k; i++) { v = hex(a[i]); if (v >= lo && v < hi) return 1 } return 0 }
'
# intervals OUT COMM SYS: the length (ms) of every off-CPU interval of the
# threads named COMM that began in syscall SYS ("any": all), one a line.
intervals() {
	awk -v comm="$2" -v sys="$3" "$AWK_LIB"'
		$1 == "off" { t[$2] = $4; ok[$2] = ($3 == comm && (sys == "any" || val($6) == sys)) }
		$1 == "on" && ok[$2] && val($4) == t[$2] && t[$2] != 0 { printf "%.3f\n", ($3 - t[$2]) / 1e6; ok[$2] = 0 }' "$1"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) print -1; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# offshare OUT COMM COND [AWK-ARGS]: percentage of COMM's off lines for
# which the awk expression COND holds (lo and hi: bounds given as -v lo=...;
# -v sys=N: only those in syscall N).
offshare() {
	local out=$1 comm=$2 cond=$3; shift 3
	awk "$@" -v comm="$comm" "$AWK_LIB"'
		$1 == "off" && $3 == comm && (!stacks || !capped($9)) && (sys == "" || val($6) == sys) {
			n++; if ('"$cond"') h++ }
		END { printf "%.1f\n", n ? 100 * h / n : 0 }' "$out"
}
# stackshare: the same over the lines sent with their stacks (not capped).
stackshare() { local out=$1 comm=$2 cond=$3; shift 3; offshare "$out" "$comm" "$cond" -v stacks=1 "$@"; }
# range BIN FUNC: "-v lo=ADDR -v hi=ADDR" of FUNC's code (no PIE: as run).
range() {
	nm -S --defined-only "$1" | awk -v f="$2" "$AWK_LIB"'$4 == f { printf "-v lo=%d -v hi=%d\n", hex($1), hex($1) + hex($2) }'
}
counter() { awk -v k="$2" '$1 == "counter" && $2 == k { print $3 }' "$1"; }
offlines() { grep -c '^off ' "$1"; }

# ---- The default walk (CFI tables), kernel stacks on, 3 s.
start "$TARGETS/offcpu" 0
sleep 0.3
"$TOOL" -p "$PID" -d 3 -K >"$WORK/w.out" 2>"$WORK/w.err" || bail "wall_tool failed: $(tail -1 "$WORK/w.err")"
echo "# set-up: $(offlines "$WORK/w.out") switch-outs recorded"
BIN=$TARGETS/offcpu

# naps OUT COMM COND: of COMM's off-CPU intervals longer than 40 ms, the
# number, and the percentage for which COND holds of their switch-out line.
naps() {
	awk "$AWK_LIB"'$1 == "off" { t[$2] = $4; c[$2] = ('"$3"'); ok[$2] = ($3 == comm) }
		$1 == "on" && ok[$2] && val($4) == t[$2] && $3 - t[$2] > 40e6 { n++; if (c[$2]) h++ }
		END { printf "%d %.1f", n, n ? 100 * h / n : 0 }' comm="$2" "$1"
}
# (A thread may also be preempted between naps: a short interval.)
read -r n s < <(naps "$WORK/w.out" sleeper 'val($6) == 35 || val($6) == 230')
m=$(intervals "$WORK/w.out" sleeper any | median)
check "sleeper: ~60 naps in 3 s (got $n), all in (clock_)nanosleep (got $s%)" \
	awk -v n="$n" -v s="$s" 'BEGIN { exit !(n >= 40 && n <= 62 && s == 100) }'
check "sleeper: intervals of 50 ms (median $m ms)" within "$m" 49.5 56
read -r n s < <(naps "$WORK/w.out" sleeper 'val($5) != 0')
check "sleeper: asleep, not runnable, in its naps (off_state != 0 in $s%)" within "$s" 100 100

read -r n s < <(naps "$WORK/w.out" piper 'val($6) == 0 && val($8) == 3')
m=$(intervals "$WORK/w.out" piper 0 | median)
check "piper: its $n waits blocked in read (0) on a pipe (off_fd_kind 3) in $s%" \
	awk -v n="$n" -v s="$s" 'BEGIN { exit !(n >= 20 && s == 100) }'
check "piper: intervals of 100 ms (median $m ms)" within "$m" 95 112

n=$(intervals "$WORK/w.out" locker 202 | wc -l)
m=$(intervals "$WORK/w.out" locker 202 | median)
check "locker: waits in futex (202) ~45 times (got $n), each ~60 ms (median $m ms)" \
	awk -v n="$n" -v m="$m" 'BEGIN { exit !(n >= 30 && n <= 50 && m >= 50 && m <= 66) }'

n=$(awk '$1 == "off" && ($3 == "spin0" || $3 == "spin1")' "$WORK/w.out" | wc -l)
s0=$(offshare "$WORK/w.out" spin0 'val($5) == 0 && val($6) == -1')
s1=$(offshare "$WORK/w.out" spin1 'val($5) == 0 && val($6) == -1')
check "spinners on one CPU: preempted (got $n switch-outs), runnable and in no syscall ($s0%, $s1%)" \
	awk -v n="$n" -v a="$s0" -v b="$s1" 'BEGIN { exit !(n >= 100 && a >= 99 && b >= 99) }'
# Each spinner waits for the CPU while the other runs: about half its time.
w=$(intervals "$WORK/w.out" spin0 any | awk '{ t += $1 } END { printf "%.0f", t / 30 }')
check "spin0: ~50% of its 3 s spent waiting for a CPU (got $w%; more when others run there)" within "$w" 30 95

s=$(stackshare "$WORK/w.out" sleeper 'ip_in($13, lo, hi)' $(range "$BIN" sleeper_nap))
check "user stacks (CFI through libc): sleeper_nap in $s% of the sleeper's" within "$s" 95 100
s=$(stackshare "$WORK/w.out" piper 'ip_in($13, lo, hi)' $(range "$BIN" pipe_wait))
check "user stacks: pipe_wait in $s% of the piper's" within "$s" 95 100
s=$(stackshare "$WORK/w.out" locker 'ip_in($13, lo, hi)' -v sys=202 $(range "$BIN" lock_wait))
check "user stacks: lock_wait in $s% of the locker's futex waits" within "$s" 95 100
s=$(stackshare "$WORK/w.out" spin0 'ip_in($13, lo, hi)' $(range "$BIN" spin_forever))
check "user stacks: spin_forever in $s% of spin0's" within "$s" 95 100
s=$(stackshare "$WORK/w.out" sleeper 'val($11) > 0')
check "-K: kernel frames in $s% of the sleeper's" within "$s" 100 100

bad=$(awk '$1 == "off" { if (open[$2]) b++; open[$2] = 1; t[$2] = $4 }
	$1 == "on" { o = $4; sub(/^off=/, "", o); if (o != 0 && (!open[$2] || o != t[$2])) b++; open[$2] = 0 }
	END { print b + 0 }' "$WORK/w.out")
check "pairing: each switch-in names its thread's switch-out before it, none twice ($bad wrong)" test "$bad" -eq 0

sw=$(counter "$WORK/w.out" offcpu_switches); rec=$(counter "$WORK/w.out" offcpu_recorded)
cap=$(counter "$WORK/w.out" offcpu_capped); lost=$(counter "$WORK/w.out" offcpu_lost_ringbuf_full)
miss=$(counter "$WORK/w.out" offcpu_start_missed); n=$(offlines "$WORK/w.out")
c=$(awk "$AWK_LIB"'$1 == "off" && capped($9)' "$WORK/w.out" | wc -l)
# (The spinners switch thousands of times a second on a busy machine: some
# may pass the cap of 10k stacks a second.)
check "counters: switches $sw = recorded $rec + capped $cap ($c lines) + lost $lost; $n lines; $miss starts missed (<= 7 threads)" \
	awk -v sw="$sw" -v r="$rec" -v c="$cap" -v l="$lost" -v n="$n" -v m="$miss" -v cl="$c" \
	'BEGIN { exit !(sw > 0 && sw == r + c + l && n == r + c && c == cl && l == 0 && m <= 7) }'

# ---- The rate cap: 20 stacks a second per CPU.
"$TOOL" -p "$PID" -d 2 --cap 20 >"$WORK/c.out" 2>"$WORK/c.err" || bail "wall_tool --cap failed"
rec=$(counter "$WORK/c.out" offcpu_recorded); cap=$(counter "$WORK/c.out" offcpu_capped)
ncpu=$(nproc)
bare=$(awk "$AWK_LIB"'$1 == "off" && capped($9) && $10 == "user=0" && $11 == "kern=0" && $12 == "py=0"' "$WORK/c.out" | wc -l)
check "cap: $rec stacks (<= $((ncpu * 45))), $cap switch-outs past it, all $bare sent bare and flagged" \
	awk -v r="$rec" -v c="$cap" -v b="$bare" -v max=$((ncpu * 45)) 'BEGIN { exit !(r <= max && c > 100 && b == c) }'
m=$(intervals "$WORK/c.out" sleeper any | median)
check "cap: intervals stay whole past it (sleeper's median $m ms)" within "$m" 49.5 56
kill "$PID"

# ---- Frame pointers only (--unwind=fp): ips inside the program.
start "$TARGETS/offcpu_fp" 0
FP_PID=$PID
sleep 0.3
"$TOOL" -p "$FP_PID" -d 1.5 --fp >"$WORK/f.out" 2>/dev/null || bail "wall_tool --fp failed"
lo=$(nm "$TARGETS/offcpu_fp" | awk '$3 == "_init" { print $1 }')
hi=$(nm "$TARGETS/offcpu_fp" | awk '$3 == "_fini" { print $1 }')
# (The sleeper: its nap's libc leaf keeps sleeper_nap's frame pointer, which
# leads to its caller. Others' leaf callers are skipped, as by any FP walk.)
s=$(stackshare "$WORK/f.out" sleeper 'ip_in($13, lo, hi)' -v lo=$((16#$lo)) -v hi=$((16#$hi)))
check "frame pointers: ips inside the program in $s% of the sleeper's" within "$s" 95 100

# ---- Without --wall the scheduler's program is not even loaded.
"$TOOL" -p "$FP_PID" -d 1.5 --no-wall >"$WORK/n.out" 2>"$WORK/n.err" &
tp=$!
_pids+=("$tp")
for _ in $(seq 100); do grep -q sampling "$WORK/n.err" && break; sleep 0.1; done
# The programs the tool holds (others may run sampletop meanwhile).
names=$(for f in /proc/$tp/fdinfo/*; do awk '$1 == "prog_id:" { print $2 }' "$f" 2>/dev/null; done |
	while read -r id; do bpftool prog show id "$id" 2>/dev/null | head -1; done)
progs=$(grep -c 'name on_sample' <<<"$names")
sw=$(grep -c 'name on_switch' <<<"$names")
wait "$tp"
check "no --wall: on_sample loaded ($progs), on_switch not ($sw), no switch-out ($(offlines "$WORK/n.out"))" \
	test "$progs" -ge 1 -a "$sw" -eq 0 -a "$(offlines "$WORK/n.out")" -eq 0
kill "$PID"

# ---- Python frames at the switch-out: time.sleep in nap() in loop() in <module>.
py=
for p in /usr/bin/python3.11 python3; do
	command -v "$p" >/dev/null && "$p" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))' &&
		{ py=$p; break; }
done
if [ -n "$py" ]; then
	printf 'import time\ndef nap():\n    time.sleep(0.05)\ndef loop():\n    while True:\n        nap()\nloop()\n' >"$WORK/nap.py"
	start "$py" "$WORK/nap.py"
	sleep 0.3
	"$TOOL" -p "$PID" -d 1.5 --py >"$WORK/py.out" 2>/dev/null || bail "wall_tool --py failed"
	s=$(stackshare "$WORK/py.out" "$(sed -n 1p /proc/"$PID"/comm)" 'val($12) == 3')
	check "$py: the 3 Python frames (<module>, loop, nap) at the switch-outs in $s%" within "$s" 95 100
	kill "$PID"
else
	skip "no CPython 3.10-3.13 (/usr/bin/python3.11 or python3)"
fi

finish

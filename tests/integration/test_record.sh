# The sampling core end to end: the real BPF program on real targets.
. "$(dirname "$0")/../lib.sh"
plan 38

build_target hot_fp hot.c -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-shrink-wrap

# 60/30/10 attribution through a common leaf, frame pointers.
start "$TARGETS/hot_fp" 60
"$ST" -q -p "$PID" -d 3 -o "$WORK/hot.folded"
check "folded report written" test -s "$WORK/hot.folded"
n=$(total_samples "$WORK/hot.folded")
# At most one sample per ms of CPU; a loaded machine gives the target less.
check "up to 3000 samples at 1 kHz for 3 s of one busy thread (got $n)" within "$n" 1200 3100
a=$(share "$WORK/hot.folded" hot_a); b=$(share "$WORK/hot.folded" hot_b); c=$(share "$WORK/hot.folded" hot_c)
m=$(share "$WORK/hot.folded" main)
check "hot_a within 60±3% (got $a)" within "$a" 57 63
check "hot_b within 30±3% (got $b)" within "$b" 27 33
check "hot_c within 10±3% (got $c)" within "$c" 7 13
check "every sample reaches main (got $m%)" within "$m" 99.5 100
check_grep "the common leaf sits under hot_a" '(^|;)main;hot_a;leaf [0-9]+$' "$WORK/hot.folded"

# Text tree on stdout (not a terminal) and into a file.
"$ST" -q -p "$PID" -d 1 >"$WORK/hot.txt" 2>"$WORK/err.txt"
check_grep "text header names the target" "^sampletop: pid $PID \\(hot_fp\\)" "$WORK/hot.txt"
check_grep "text header says samples and none lost, in words" '^[0-9,]+ samples \([0-9,]+/s\) · none lost · ' "$WORK/hot.txt"
check_grep "text tree: hot_a line 'seconds  function  module'" '^[│ ]*[├└]─ [0-9]+\.[0-9]{3} hot_a  hot_fp$' "$WORK/hot.txt"
sa=$(sed -nE 's/^[│ ]*[├└]─ ([0-9.]+) hot_a  hot_fp$/\1/p' "$WORK/hot.txt")
sb=$(sed -nE 's/^[│ ]*[├└]─ ([0-9.]+) hot_b  hot_fp$/\1/p' "$WORK/hot.txt")
check "text tree: hot_a ($sa s) listed before and above hot_b ($sb s)" \
	awk -v a="$sa" -v b="$sb" 'BEGIN { exit !(a > b && b > 0) }'
check "text tree: hot_a comes first" test "$(grep -nE ' hot_a  hot_fp$' "$WORK/hot.txt" | cut -d: -f1)" -lt "$(grep -nE ' hot_b  hot_fp$' "$WORK/hot.txt" | cut -d: -f1)"
check_no_grep "no escape codes when stdout is not a terminal" $'\033' "$WORK/hot.txt"
"$ST" -q -p "$PID" -d 1 -o "$WORK/out.txt"
check_grep "-o out.txt writes the text tree" 'hot_b  hot_fp' "$WORK/out.txt"
"$ST" -q -p "$PID" -d 0.5 -F 200 -o "$WORK/f200.folded"
n=$(total_samples "$WORK/f200.folded")
check "-F 200 gives at most ~100 samples in 0.5 s (got $n)" within "$n" 40 115

# Ctrl-C: the report is still written.
"$ST" -p "$PID" -o "$WORK/int.folded" 2>"$WORK/int.err" &
sp=$!
wait_sampling "$WORK/int.err"
sleep 1
kill -INT $sp
wait $sp
rc=$?
check "SIGINT: exit status 0 (got $rc)" test "$rc" -eq 0
check_grep "SIGINT: report written with samples" 'hot_a;leaf [0-9]+$' "$WORK/int.folded"

# The target exits mid-run: stop, report, say so.
start "$TARGETS/hot_fp" 2.5
"$ST" -p "$PID" -d 30 -o "$WORK/exit.txt" 2>"$WORK/exit.err"
rc=$?
check "target exit: exit status 0 (got $rc)" test "$rc" -eq 0
check_grep "target exit: said on stderr" 'target process exited' "$WORK/exit.err"
check_grep "target exit: said in the report" '^The target process exited\.' "$WORK/exit.txt"
check_grep "target exit: samples kept" 'hot_a  hot_fp' "$WORK/exit.txt"

# Launch a command and profile it to its exit.
"$ST" -q -o "$WORK/cmd.folded" -- "$TARGETS/hot_fp" 1
rc=$?
check "-- COMMAND: exit status 0 (got $rc)" test "$rc" -eq 0
a=$(share "$WORK/cmd.folded" hot_a)
check "-- COMMAND: hot_a within 60±5% (got $a)" within "$a" 55 65
"$ST" -q -o "$WORK/false.txt" -- sh -c 'exit 3'
rc=$?
check "-- COMMAND: the command's exit status is passed on (got $rc)" test "$rc" -eq 3
check_grep "-- COMMAND: the report says the exit status" 'exited with status 3' "$WORK/false.txt"

# Kernel stacks, of a target that spends most of its time in the kernel.
start dd if=/dev/zero of=/dev/null bs=64k
"$ST" -q -K -p "$PID" -d 1 -o "$WORK/k.folded"
check_grep "-K: named kernel frames below user frames" ';[a-z_0-9.]+_\[k\]( [0-9]+$|;)' "$WORK/k.folded"
"$ST" -q -p "$PID" -d 1 -o "$WORK/nok.folded"
n=$(total_samples "$WORK/nok.folded")
check "without -K: the same target sampled (got $n)" test "$n" -gt 100
check_no_grep "without -K: no kernel frames" '_\[k\]' "$WORK/nok.folded"
kill "$PID"

# Bad input: one clear line, the right exit status.
"$ST" -p 999999999 -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "no such pid: exit 2, a bad option value (got $rc)" test "$rc" -eq 2
check_grep "no such pid: names the option and the pid" '^sampletop: -p 999999999: no such process$' "$WORK/e"
"$ST" --frobnicate >"$WORK/o" 2>"$WORK/e"; rc=$?
check "unknown option: exit 2 (got $rc)" test "$rc" -eq 2
check_grep "unknown option: usage hint on stderr" "unknown.*frobnicate|sampletop --help" "$WORK/e"
"$ST" -p 1 -F abc >"$WORK/o" 2>"$WORK/e"; rc=$?
check "bad -F value: exit 2 (got $rc)" test "$rc" -eq 2
"$ST" -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "no target: exit 2 (got $rc)" test "$rc" -eq 2
check_grep "no target: a hint names the ways to give one" \
	'^sampletop: nothing to profile: give -p PID, -t TID, -a or -- COMMAND$' "$WORK/e"
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ST" -p 1 -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
	check "not root: exit 1 (got $rc)" test "$rc" -eq 1
	check_grep "not root: says what is needed" 'needs root \(or CAP_BPF and CAP_PERFMON\)' "$WORK/e"
	check "not root: one line" test "$(wc -l <"$WORK/e")" -eq 1
else
	not_ok "setpriv (util-linux) missing: cannot test the not-root message"
fi
finish

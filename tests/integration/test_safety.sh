# Output files, signals and odd targets: sampletop runs as root, so where it
# writes and how it stops must be safe and must never lose what it collected.
. "$(dirname "$0")/../lib.sh"

build_target hot_fp hot.c -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-shrink-wrap
start "$TARGETS/hot_fp" 60

# A symlink planted at the output path is not followed.
echo keep >"$WORK/victim"
ln -s "$WORK/victim" "$WORK/link.txt"
timeout 20 "$ST" -q -p "$PID" -d 5 -o "$WORK/link.txt" 2>"$WORK/e"; rc=$?
check "symlink at -o: exit 1 (got $rc)" test "$rc" -eq 1
check_grep "symlink at -o: says so in one line" '^sampletop: cannot write .*link.txt: it is a symbolic link \(not followed\)$' "$WORK/e"
check "symlink at -o: the file it points to is untouched" test "$(cat "$WORK/victim")" = keep

# A FIFO (or any non-regular file) is left alone, without hanging.
mkfifo "$WORK/fifo"
timeout 20 "$ST" -q -p "$PID" -d 5 -o "$WORK/fifo" 2>"$WORK/e"; rc=$?
check "FIFO at -o: exit 1, no hang (got $rc)" test "$rc" -eq 1
check_grep "FIFO at -o: not a regular file" 'not a regular file \(left alone\)' "$WORK/e"
check "FIFO at -o: still a FIFO" test -p "$WORK/fifo"

# Through sudo the report belongs to the invoking user.
SUDO_UID=65534 SUDO_GID=65534 "$ST" -q -p "$PID" -d 0.3 -o "$WORK/mine.txt"
check "through sudo: the report is owned by SUDO_UID (got $(stat -c %u:%g "$WORK/mine.txt"))" \
	test "$(stat -c %u:%g "$WORK/mine.txt")" = 65534:65534

# SIGTERM and SIGHUP stop sampling and still write the report.
for sig in TERM HUP; do
	"$ST" -p "$PID" -o "$WORK/$sig.folded" 2>"$WORK/$sig.err" &
	sp=$!
	wait_sampling "$WORK/$sig.err"
	sleep 1
	kill -$sig $sp
	wait $sp; rc=$?
	check "SIG$sig: exit 0 (got $rc)" test "$rc" -eq 0
	check_grep "SIG$sig: report written" 'hot_a;leaf [0-9]+$' "$WORK/$sig.folded"
done

# A closed stdout (| head) ends quietly.
"$ST" -q -p "$PID" -d 0.5 2>"$WORK/e" | head -1 >/dev/null
rc=${PIPESTATUS[0]}
check "stdout closed early: exit 0 (got $rc)" test "$rc" -eq 0
check "stdout closed early: nothing on stderr" test ! -s "$WORK/e"

# No terminal at all: stdin from /dev/null, a new session.
setsid "$ST" -q -p "$PID" -d 0.5 </dev/null >"$WORK/notty.txt" 2>&1; rc=$?
check "no TTY: exit 0 (got $rc)" test "$rc" -eq 0
check_grep "no TTY: text report on stdout" 'hot_a  hot_fp' "$WORK/notty.txt"

# A zombie has nothing to sample.
( sleep 0.1 & exec sleep 30 ) &
parent=$!
_pids+=("$parent")
sleep 0.5
zombie=$(ps -o pid= --ppid "$parent" | tr -d ' ' | head -1)
if [ -n "$zombie" ] && [ "$(ps -o stat= -p "$zombie" | cut -c1)" = Z ]; then
	"$ST" -q -p "$zombie" -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
	check "zombie pid: exit 1 (got $rc)" test "$rc" -eq 1
	check_grep "zombie pid: says it exited" "pid $zombie has exited \\(a zombie\\)" "$WORK/e"
else
	not_ok "could not make a zombie to test with"
fi

# A kernel thread has no user stack: its kernel stack is sampled.
kt=$(ps -eo pid=,comm= | awk '$2 == "kthreadd" { print $1; exit }')
"$ST" -p "$kt" -d 0.3 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "kernel thread: exit 0 (got $rc)" test "$rc" -eq 0
check_grep "kernel thread: says so and samples its kernel stack" "pid $kt is a kernel thread: sampling its kernel stack" "$WORK/e"
finish

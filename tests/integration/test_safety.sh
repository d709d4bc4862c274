# Output files, signals and odd targets: sampletop runs as root, so where it
# writes and how it stops must be safe and must never lose what it collected.
. "$(dirname "$0")/../lib.sh"
plan 28

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

# No BPF link or program outlives sampletop, however it stops: the ids its
# fds held (from /proc/PID/fdinfo), listed by the kernel while it runs, are
# gone from the kernel's lists within 5 s after.
# bpf_ids: the ids of every BPF link and program now; fails when bpftool does.
bpf_ids() {
	local t out
	for t in link prog; do
		out=$(bpftool -j "$t" list) || return 1
		python3 -c 'import json, sys
print(" ".join(str(x["id"]) for x in json.load(sys.stdin)), end=" ")' <<<"$out" || return 1
	done
}
# in_list IDS LIST: the ids of IDS that LIST holds.
in_list() { local id; for id in $1; do case " $2 " in *" $id "*) printf ' %s' "$id" ;; esac; done; }
for sig in INT TERM KILL; do
	if ! command -v bpftool >/dev/null; then
		skip "SIG$sig: bpftool absent, the kernel's BPF links not listed"
		continue
	fi
	"$ST" -p "$PID" -o "$WORK/links.folded" 2>"$WORK/links.err" &
	sp=$!
	wait_sampling "$WORK/links.err"
	links=$(sed -n 's/^link_id:\t*//p' /proc/$sp/fdinfo/* 2>/dev/null | sort -u | tr '\n' ' ')
	progs=$(sed -n 's/^prog_id:\t*//p' /proc/$sp/fdinfo/* 2>/dev/null | sort -u | tr '\n' ' ')
	during=$(bpf_ids) || during=failed
	listed=$(in_list "$links $progs" "$during")
	kill -$sig $sp
	wait $sp
	# The kernel frees a dead process's programs and links after an RCU
	# grace period or from a work queue: give it a few seconds, no more.
	for _ in $(seq 50); do
		after=$(bpf_ids) || after=failed
		left=$(in_list "$links $progs" "$after")
		[ "$after" = failed ] || [ -z "$left" ] && break
		sleep 0.1
	done
	check "SIG$sig: its BPF links ($links) and programs ($progs), listed while it ran (${listed:- none}), are gone after (left:${left:- none}; bpftool ${during/#[0-9 ]*/ok}, ${after/#[0-9 ]*/ok})" \
		test -n "$links" -a -n "$progs" -a "$listed" = "$(in_list "$links $progs" "$links $progs")" \
		-a "$after" != failed -a -z "$left"
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
	check "zombie pid: exit 2, a bad -p (got $rc)" test "$rc" -eq 2
	check_grep "zombie pid: says it exited" "^sampletop: -p $zombie: the process has exited \\(a zombie\\)" "$WORK/e"
else
	not_ok "could not make a zombie to test with"
fi

# A kernel thread has no user stack: its kernel stack is sampled.
kt=$(ps -eo pid=,comm= | awk '$2 == "kthreadd" { print $1; exit }')
"$ST" -p "$kt" -d 0.3 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "kernel thread: exit 0 (got $rc)" test "$rc" -eq 0
check_grep "kernel thread: says so and samples its kernel stack" "pid $kt is a kernel thread: sampling its kernel stack" "$WORK/e"
# Process churn: past SAMPLETOP_COALESCE_THREADS thread records, the exited
# threads are merged by name and their frames reused, and no sample is lost.
# Two runs side by side over the same churn, one merging early, one not.
kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
SAMPLETOP_COALESCE_THREADS=40 "$ST" -a -d 7 -o "$WORK/merged.json" 2>"$WORK/merged.err" &
mp=$!
"$ST" -a -d 7 -o "$WORK/plain.json" 2>"$WORK/plain.err" &
pp=$!
wait_sampling "$WORK/merged.err" && wait_sampling "$WORK/plain.err"
end=$((SECONDS + 3))
while [ $SECONDS -lt $end ]; do
	kids=()
	for i in 1 2 3; do "$TARGETS/hot_fp" 0.03 & kids+=($!); done
	wait "${kids[@]}"
done
wait "$mp" "$pp"
"$ST" report "$WORK/merged.json" --min-percent 0 >"$WORK/merged.txt"
count_threads() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(t["process"] == "hot_fp" for t in d["threads"]), sum(bool(t.get("exited")) for t in d["threads"]))' "$1"; }
read -r plain_threads _ < <(count_threads "$WORK/plain.json")
read -r merged_threads merged_exited < <(count_threads "$WORK/merged.json")
check "churn: the plain run saw many short processes (hot_fp threads: $plain_threads)" \
	test "$plain_threads" -ge 100
check "churn: merging kept few thread records (hot_fp: $merged_threads, exited records: $merged_exited)" \
	test "$merged_threads" -le $((plain_threads / 3)) -a "$merged_exited" -ge 1
read -r total recorded < <(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(int(x.split(":")[1]) for s in d["samples"] for x in s["counts"].split()),
      d["meta"]["counters"]["recorded"])' "$WORK/merged.json")
check "churn: merging lost no sample (samples in the merged profile $total, recorded $recorded)" \
	test "$total" -eq "$recorded"
check_grep "churn: the text report shows the merged 'hot_fp [exited]'" 'hot_fp \[exited\]' "$WORK/merged.txt"
check_no_grep "churn: no freed frame reaches a report" '\[unused\]' "$WORK/merged.txt"
check_no_grep "churn: nor a saved profile" '\[unused\]' "$WORK/merged.json"
finish

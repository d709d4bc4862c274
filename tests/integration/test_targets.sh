# Choosing what to profile, for processes that come and go: -a, -p, -t, -u,
# --comm, --cgroup, -- COMMAND (and its children), --as-user, short-lived
# processes, forks without exec and reused pids. Real BPF, real processes.
. "$(dirname "$0")/../lib.sh"
plan 52

FP="-O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls"
build_target hot_fp hot.c $FP -fno-shrink-wrap
build_target burn_short burn.c $FP
build_target threads2 threads.c $FP
build_target forker forker.c $FP
# Two builds of one program that differ only in the name of the hot
# function: if one's samples were named from the other's maps, it shows.
build_target reuse_a burn.c $FP -DBURN_FN=reuse_fn_a
build_target reuse_b burn.c $FP -DBURN_FN=reuse_fn_b
# Differently named copies of one workload, to tell processes apart.
cp "$TARGETS/hot_fp" "$WORK/hot_in"
cp "$TARGETS/hot_fp" "$WORK/hot_out"
chmod 755 "$WORK"

# first_frames FOLDED: the distinct first frames (process names), one line.
first_frames() { cut -d';' -f1 "$1" | sed 's/ [0-9]*$//' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# share_in FOLDED PROC FUNC: % of PROC's samples whose stack holds FUNC.
share_in() {
	awk -v p="$2" -v f="$3" '{ n = $NF; line = $0; sub(/ [0-9]+$/, "", line);
		k = split(line, fr, ";"); if (fr[1] != p) next; total += n;
		for (i = 2; i <= k; i++) if (fr[i] == f) { hit += n; break } }
		END { if (total == 0) print 0; else printf "%.2f\n", 100 * hit / total }' "$1"
}
samples_of() { awk -v p="$2" -F';' '$1 == p { n = $NF; sub(/.* /, "", n); t += n } END { print t + 0 }' "$1"; }
# start_st OUT ARGS...: sampletop in the background, returns once it samples.
start_st() {
	local out=$1; shift
	"$ST" "$@" -o "$out" 2>"$out.err" &
	ST_PID=$!
	for _ in $(seq 100); do grep -q '^sampletop: sampling' "$out.err" && return 0; sleep 0.1; done
	return 1
}
stop_st() { kill -INT "$ST_PID"; wait "$ST_PID"; }

# --- 200 short-lived processes under -a, each ~20 ms of CPU in burn_spin.
# A name of their own: another burn_short on the machine (a test run beside
# this one) must not add to their count.
short=short$$
cp "$TARGETS/burn_short" "$WORK/$short"
cat >"$WORK/launch.sh" <<EOF
#!/bin/sh
i=0
while [ \$i -lt 200 ]; do "$WORK/$short" 20; i=\$((i + 1)); done
EOF
chmod +x "$WORK/launch.sh"
start_st "$WORK/short.folded" -a
steal0=$(awk '/^cpu / { print $9 }' /proc/stat)
TIMEFORMAT='%R %U %S'
{ time sh "$WORK/launch.sh"; } 2>"$WORK/launch.time"
steal1=$(awk '/^cpu / { print $9 }' /proc/stat)
stop_st
n=$(samples_of "$WORK/short.folded" "$short")
# One sample per ms of the CPU time they used (~4000 ms, measured), at 1 kHz.
# More when the host steals CPU time (the processes' own clock leaves the
# stolen time out, the cpu-clock event does not), but never more than one
# per ms of the run: they run one at a time. Counting a sample twice fails.
read -r lo hi why < <(awk -v t="$(cat "$WORK/launch.time")" -v st=$((steal1 - steal0)) \
	-v hz="$(getconf CLK_TCK)" 'BEGIN { split(t, a, " "); wall = a[1] * 1000; cpu = (a[2] + a[3]) * 1000
	steal = st * 1000 / hz; top = cpu + steal < wall ? cpu + steal : wall
	printf "%d %d %d_ms_CPU,_%d_ms_stolen,_%d_ms_wall\n", cpu / 2, top * 1.2 + 100, cpu, steal, wall }')
check "-a: the short processes were sampled, once per ms of CPU (got $n samples; ${why//_/ }: $lo-$hi)" \
	within "$n" "$lo" "$hi"
s=$(share_in "$WORK/short.folded" "$short" burn_spin)
after_start_up "$WORK/short.folded" >"$WORK/short_main.folded"
w=$(share_in "$WORK/short_main.folded" "$short" burn_spin)
check "-a: >= 90% of the short processes' samples after start-up are named burn_spin (got $w%; $s% of all)" \
	within "$w" 90 100
check_grep "-a: folded lines start with the process name" "^$short;.*;burn_spin [0-9]+\$" "$WORK/short.folded"

# --- A reused pid never lends its maps: reuse_a exits, reuse_b gets its pid.
start_st "$WORK/reuse.folded" -a --processes
reused=no
for try in 1 2 3 4 5; do
	"$TARGETS/reuse_a" 300 &
	pa=$!
	wait $pa
	echo $((pa - 1)) >/proc/sys/kernel/ns_last_pid
	"$TARGETS/reuse_b" 300 &
	pb=$!
	wait $pb
	if [ "$pa" = "$pb" ]; then reused=yes; break; fi
done
stop_st
if [ $reused = yes ]; then
	a=$(share_in "$WORK/reuse.folded" reuse_a reuse_fn_a)
	b=$(share_in "$WORK/reuse.folded" reuse_b reuse_fn_b)
	check "pid reuse: reuse_a (pid $pa) named from its own maps (got $a%)" within "$a" 90 100
	check "pid reuse: reuse_b (same pid) named from its own maps (got $b%)" within "$b" 90 100
	check_no_grep "pid reuse: never one's function under the other's name" \
		'^reuse_a;.*reuse_fn_b|^reuse_b;.*reuse_fn_a' "$WORK/reuse.folded"
else
	not_ok "pid reuse: the kernel gave the second process another pid 5 times (busy machine?)"
fi

# --- -- COMMAND: the whole process tree, to its exit, with its exit status.
"$ST" -q -o "$WORK/tree.folded" -- sh -c "'$TARGETS/burn_short' 300; '$TARGETS/hot_fp' 0.5; exit 7"
rc=$?
check "-- COMMAND: the command's exit status 7 is passed on (got $rc)" test "$rc" -eq 7
check_grep "-- COMMAND: a child (burn_short) is profiled, grouped by process" \
	'^burn_short;.*burn_spin [0-9]+$' "$WORK/tree.folded"
check_grep "-- COMMAND: the next child (hot_fp) too" '^hot_fp;.*;hot_a;leaf [0-9]+$' "$WORK/tree.folded"
"$ST" -q -o "$WORK/one.folded" -- "$TARGETS/hot_fp" 0.5
check_no_grep "-- COMMAND: one process, no process level" '^hot_fp;' "$WORK/one.folded"
check_grep "-- COMMAND: ... but its frames" '(^|;)main;hot_a;leaf [0-9]+$' "$WORK/one.folded"

# --- Many short processes of one program (a build's cc1): one root per
# program with their total and count, each process below it; the saved
# profile keeps the pids, so --processes splits it per pid again.
"$ST" -q -o "$WORK/prog.json" -- sh -c "for i in 1 2 3 4 5 6 7 8; do '$TARGETS/burn_short' 30; done"
"$ST" report "$WORK/prog.json" >"$WORK/prog.txt"
"$ST" report --processes "$WORK/prog.json" >"$WORK/procs.txt"
# program_sum TXT: "root-total children children-sum" of the burn_short [N processes] root.
program_sum() {
	awk '/^[0-9]/ { inside = 0 }
		/^[0-9.]+ burn_short \[8 processes\]$/ { inside = 1; root = int($1 * 1000 + 0.5) }
		inside && /^(├─|└─) [0-9.]+ burn_short \[[0-9]+\]$/ { n++; sum += int($2 * 1000 + 0.5) }
		END { printf "%d %d %d\n", root, n, sum }' "$1"
}
read -r root kids sum < <(program_sum "$WORK/prog.txt")
check "programs: 8 burn_short processes are one root 'burn_short [8 processes]' (total $root ms)" \
	test "$root" -gt 0
check "programs: ... with each of the 8 processes below it ($kids), summing to its total ($sum of $root ms)" \
	test "$kids" -eq 8 -a "$sum" -eq "$root"
check_no_grep "programs: ... and no burn_short [pid] root of its own" '^[0-9.]+ burn_short \[[0-9]+\]$' \
	"$WORK/prog.txt"
n=$(grep -cE '^[0-9.]+ burn_short \[[0-9]+\]$' "$WORK/procs.txt")
check "programs: report --processes gives the 8 burn_short [pid] roots again (got $n)" test "$n" -eq 8
check_no_grep "programs: ... and no program root" 'processes\]' "$WORK/procs.txt"

# --- exec in place: the same pid and start time, a new program. The shell's
# maps must not name hot_fp's addresses.
"$ST" -q -o "$WORK/exec.folded" -- sh -c "i=0; while [ \$i -lt 30000 ]; do i=\$((i + 1)); done; exec '$TARGETS/hot_fp' 0.5"
a=$(share "$WORK/exec.folded" hot_a)
n=$(awk '!/hot_a|hot_b|hot_c/ { t += $NF } END { print t + 0 }' "$WORK/exec.folded")
check "exec in place: hot_fp's samples named after the exec (hot_a $a%)" within "$a" 40 70
check "exec in place: the shell was sampled before it ($n samples)" test "$n" -gt 10

# --- Forks without exec (a fork-per-request server): children named from
# the parent's maps even when they are gone before they are read.
"$ST" -q -o "$WORK/fork.folded" -- "$TARGETS/forker" 50 20
s=$(share "$WORK/fork.folded" handle_request)
n=$(total_samples "$WORK/fork.folded")
check "fork without exec: $n samples, >= 90% named handle_request (got $s%)" within "$s" 90 100

# --- -p does not leak other processes' samples.
start "$WORK/hot_in" 0
pin=$PID
start "$WORK/hot_out" 0
pout=$PID
"$ST" -q -p "$pin" --processes -d 1 -o "$WORK/pid.folded"
f=$(first_frames "$WORK/pid.folded")
check "-p: only the target process (got: $f)" test "$f" = "hot_in"
"$ST" -q -p "$pin,$pout" -d 1 -o "$WORK/pids.txt"
check_grep "-p A,B: the text tree groups by process (name [pid])" "^[0-9.]+ hot_in \\[$pin\\]\$" "$WORK/pids.txt"
check_grep "-p A,B: ... both of them" "^[0-9.]+ hot_out \\[$pout\\]\$" "$WORK/pids.txt"

# --- --comm: a process name filter, in the kernel.
"$ST" -q --comm hot_out -d 1 -o "$WORK/comm.folded"
f=$(first_frames "$WORK/comm.folded")
check "--comm hot_out: only hot_out (got: $f)" test "$f" = "hot_out"
check_grep "--comm: its stacks are named" '^hot_out;.*hot_a;leaf [0-9]+$' "$WORK/comm.folded"
kill "$pin" "$pout"

# --- -u: one user's processes.
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$WORK/hot_in" 0 &
	pnobody=$!
	_pids+=($pnobody)
	sleep 0.2
	"$ST" -q -u nobody -d 1 -o "$WORK/user.folded"
	f=$(first_frames "$WORK/user.folded")
	check "-u nobody: only nobody's process (got: $f)" test "$f" = "hot_in"
	"$ST" -q -u 65534 -d 0.5 -o "$WORK/uid.folded"
	f=$(first_frames "$WORK/uid.folded")
	check "-u 65534: a numeric uid works too (got: $f)" test "$f" = "hot_in"
	kill "$pnobody"
else
	not_ok "setpriv (util-linux) missing: cannot test -u"
fi
"$ST" -u no-such-user-here -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "-u unknown: exit 2 (got $rc)" test "$rc" -eq 2
check_grep "-u unknown: says so" "^sampletop: -u no-such-user-here: no such user \\(a user name or a numeric uid\\)$" "$WORK/e"

# --- --cgroup: a cgroup made here, with one process in it.
cgroot=
for d in /sys/fs/cgroup/unified /sys/fs/cgroup /sys/fs/cgroup/cpu; do
	if [ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ] && mkdir "$d/sampletop-test-$$" 2>/dev/null; then
		cgroot=$d; break
	fi
done
if [ -n "$cgroot" ]; then
	cg=$cgroot/sampletop-test-$$
	mkdir "$cg/inner"
	"$TARGETS/hot_fp" 0 &
	pcg=$!
	_pids+=($pcg)
	echo "$pcg" >"$cg/inner/cgroup.procs"
	"$ST" -q --cgroup "$cg" -d 1.5 -o "$WORK/cg.folded"
	f=$(first_frames "$WORK/cg.folded")
	check "--cgroup: only the process in the cgroup (below it) (got: $f)" test "$f" = "hot_fp"
	check_grep "--cgroup: its stacks are named" '^hot_fp;.*hot_a;leaf [0-9]+$' "$WORK/cg.folded"
	kill "$pcg"; wait "$pcg" 2>/dev/null
	rmdir "$cg/inner" "$cg"
else
	not_ok "no writable cgroup v2 hierarchy to test --cgroup"
fi
# The v1 hierarchy of a controller (hybrid systems, older container hosts).
if [ "$(stat -f -c %T /sys/fs/cgroup/cpu 2>/dev/null)" = cgroupfs ] &&
	mkdir "/sys/fs/cgroup/cpu/sampletop-test-$$" 2>/dev/null; then
	cg=/sys/fs/cgroup/cpu/sampletop-test-$$
	"$WORK/hot_in" 0 &
	pcg=$!
	_pids+=($pcg)
	"$WORK/hot_out" 0 &
	pcg2=$!
	_pids+=($pcg2)
	echo "$pcg" >"$cg/cgroup.procs"
	"$ST" -q --cgroup "$cg" -d 1 -o "$WORK/cg1.folded"
	f=$(first_frames "$WORK/cg1.folded")
	check "--cgroup on a v1 cpu hierarchy: only its process (got: $f)" test "$f" = "hot_in"
	kill "$pcg" "$pcg2"; wait "$pcg" "$pcg2" 2>/dev/null
	rmdir "$cg"
else
	skip "--cgroup v1: no cgroup v1 cpu hierarchy here"
fi
"$ST" --cgroup /tmp -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "--cgroup /tmp: exit 1 (got $rc)" test "$rc" -eq 1
check_grep "--cgroup /tmp: says why" '^sampletop: --cgroup /tmp: not a cgroup directory$' "$WORK/e"

# --- -t: one thread of a two-thread program.
start "$TARGETS/threads2" 0
sleep 0.2
tb=
for t in /proc/$PID/task/*; do
	[ "$(cat "$t/comm")" = worker_b ] && tb=${t##*/}
done
"$ST" -q -t "$tb" -d 1 -o "$WORK/tid.folded"
a=$(share "$WORK/tid.folded" spin_a); b=$(share "$WORK/tid.folded" spin_b)
check "-t worker_b: no spin_a (got $a%)" within "$a" 0 0
check "-t worker_b: spin_b (got $b%)" within "$b" 99 100
"$ST" -q -p "$PID" -d 1 -o "$WORK/both.folded"
a=$(share "$WORK/both.folded" spin_a); b=$(share "$WORK/both.folded" spin_b)
check "-p of the same program: both threads (spin_a $a%, spin_b $b%)" within "$(awk -v a="$a" -v b="$b" 'BEGIN { print (a < b ? a : b) }')" 30 70

# --- -C: only the CPUs named. Pin the two busy threads to CPU 0.
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	for t in /proc/$PID/task/*; do taskset -p -c 0 "${t##*/}" >/dev/null; done
	"$ST" -q -a -C 1 -d 1 -o "$WORK/cpu1.folded"
	n=$(samples_of "$WORK/cpu1.folded" threads2)
	check "-C 1: no samples of threads pinned to CPU 0 (got $n)" test "$n" -eq 0
	"$ST" -q -a -C 0 -d 1 -o "$WORK/cpu0.folded"
	n=$(samples_of "$WORK/cpu0.folded" threads2)
	check "-C 0: the pinned threads are sampled (got $n)" test "$n" -gt 100
else
	skip 2 "-C: needs two CPUs and taskset"
fi
kill "$PID"

# --- Thousands of threads: -t with every one of 5000 tids (more than the
# default map size) still fills the filter.
start "$TARGETS/threads2" 10 5000
for _ in $(seq 50); do [ "$(ls /proc/$PID/task | wc -l)" -ge 5003 ] && break; sleep 0.1; done
tids=$(ls /proc/$PID/task | tr '\n' ',' | sed 's/,$//')
"$ST" -q -t "$tids" -d 1 -o "$WORK/many.folded" 2>"$WORK/many.err"; rc=$?
check "-t with $(ls /proc/$PID/task | wc -l) tids: exit 0 (got $rc)" test "$rc" -eq 0
a=$(share "$WORK/many.folded" spin_a); b=$(share "$WORK/many.folded" spin_b)
check "-t with 5003 tids: both busy threads (spin_a $a%, spin_b $b%)" within "$(awk -v a="$a" -v b="$b" 'BEGIN { print (a < b ? a : b) }')" 30 70
kill "$PID"

# --- --as-user: the launched command runs as the user who ran sudo.
SUDO_USER=nobody "$ST" -q --as-user -o "$WORK/asuser.txt" -- id -u >"$WORK/id.out"
check "--as-user: the command ran as nobody (uid $(cat "$WORK/id.out"))" test "$(cat "$WORK/id.out")" = 65534
env -u SUDO_USER "$ST" --as-user -- true >"$WORK/o" 2>"$WORK/e"; rc=$?
check "--as-user without sudo: exit 2 (got $rc)" test "$rc" -eq 2
check_grep "--as-user without sudo: says what to do" 'not run through sudo.*--as-user=USER' "$WORK/e"

"$ST" --as-user -p 1 -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "--as-user without a command: exit 2 (got $rc)" test "$rc" -eq 2
check_grep "--as-user without a command: says so" '^sampletop: --as-user runs a COMMAND: put one after --$' "$WORK/e"
"$ST" --comm 'a,,b' -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "--comm with an empty name: exit 2 (got $rc)" test "$rc" -eq 2

# --- --kernel-only and --idle.
start dd if=/dev/zero of=/dev/null bs=64k
"$ST" -q --kernel-only -p "$PID" -d 1 -o "$WORK/ko.folded"
check_grep "--kernel-only: kernel frames" '_\[k\] [0-9]+$' "$WORK/ko.folded"
bad=$(awk '{ line = $0; sub(/ [0-9]+$/, "", line); k = split(line, fr, ";");
	for (i = 1; i <= k; i++) if (fr[i] !~ /_\[k\]$/ && fr[i] !~ /^\[/) n++ } END { print n + 0 }' "$WORK/ko.folded")
check "--kernel-only: no user frame ($bad frames neither kernel nor [special])" test "$bad" -eq 0
check_grep "--kernel-only: time in user mode is labelled" '^\[in user mode\] [0-9]+$' "$WORK/ko.folded"
kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
# Which CPUs' idle time the kernel samples depends on the machine: on these
# VMs one vCPU's idle loop gets cpu-clock ticks and the other's does not. So
# a run without --idle beside it counts the idle samples it drops (its
# "idle" counter), perf (when installed) records the same second too, and
# whatever idle they saw we must see.
"$ST" -q -a -K -d 1 -o "$WORK/noidle.json" &
np=$!
if command -v perf >/dev/null; then
	perf record -q -a -e cpu-clock -F 1000 -o "$WORK/idle.perf" -- \
		"$ST" -q -a --idle -K -d 1 -o "$WORK/idle.json" 2>"$WORK/idle.perf.err"
	perf_idle=$(perf report -i "$WORK/idle.perf" --stdio --sort comm -F sample,comm 2>/dev/null |
		awk '$2 ~ /^swapper/ { n += $1 } END { print n + 0 }')
else
	"$ST" -q -a --idle -K -d 1 -o "$WORK/idle.json"
	perf_idle=absent
fi
wait "$np"
"$ST" report "$WORK/idle.json" --kernel -f folded -o "$WORK/idle.folded" -q
our_idle=$(awk '/^swapper\/[0-9]+;/ { n += $NF } END { print n + 0 }' "$WORK/idle.folded")
dropped=$(jq '.meta.counters.idle // 0' "$WORK/noidle.json")
check "--idle: no sample dropped as idle ($(jq '.meta.counters.idle // 0' "$WORK/idle.json"))" \
	test "$(jq '.meta.counters.idle // 0' "$WORK/idle.json")" -eq 0
seen=$dropped
[ "$perf_idle" != absent ] && [ "$perf_idle" -gt "$seen" ] && seen=$perf_idle
if [ "$seen" -gt 50 ]; then
	check "--idle: the idle task's samples (swapper: $our_idle; without --idle $dropped dropped, perf saw $perf_idle)" \
		test "$our_idle" -ge $((seen / 2))
else
	skip "--idle: no idle samples on this machine (without --idle $dropped dropped, perf saw $perf_idle)"
fi
check_no_grep "without --idle: no idle samples" '^swapper/' "$WORK/short.folded"
finish

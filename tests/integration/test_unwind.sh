# Unwinding without frame pointers: the BPF program follows the CFI tables
# userspace builds, on targets built with plain -O2 and through Debian's libc.
. "$(dirname "$0")/../lib.sh"
plan 45

build_target hot_o2 hot.c -O2 -g
build_target hot_fpo2 hot.c -O2 -g -fno-omit-frame-pointer
build_target unwind unwind.c -O2 -g -ldl
gcc -O2 -g -shared -fPIC -o "$TARGETS/libunwchain.so" "$TOP/tests/targets/unwind_lib.c" ||
	bail "cannot build libunwchain.so"

# The root of a main thread's stack: _start, libc's start routine (named
# __libc_start_main, or an alias when libc's MiniDebugInfo is read), then
# __libc_start_call_main (named, or [unknown] without it).
ROOT='^_start;[^;]*libc_start_main[^;]*;[^;]+'
# main_share FOLDED: percentage of the samples that reach main.
main_share() {
	awk '{ n = $NF; t += n; if ($0 ~ /;main;/) h += n } END { if (t) printf "%.1f\n", 100 * h / t; else print 0 }' "$1"
}
# check_main DESCRIPTION SHARE MIN FOLDED: SHARE >= MIN, else shows the
# heaviest stacks of FOLDED that do not reach main.
check_main() {
	if within "$2" "$3" 100; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   heaviest stacks without main:"
		grep -v ';main;' "$4" | sort -t' ' -k2 -rn | head -8 | cut -c1-160 | sed 's/^/#     /'
	fi
}
# main_share_of FOLDED FUNC: percentage of the samples holding FUNC that also hold main.
main_share_of() {
	awk -v f="$2" '{ n = $NF; line = $0; sub(/ [0-9]+$/, "", line);
		k = split(line, fr, ";"); has = 0; m = 0
		for (i = 1; i <= k; i++) { if (fr[i] == f) has = 1; if (fr[i] == "main") m = 1 }
		if (has) { total += n; if (m) hit += n } }
		END { if (total == 0) print 0; else printf "%.2f\n", 100 * hit / total }' "$1"
}
# profile NAME SECONDS ARGS...: runs sampletop on the last started target.
profile() {
	local name=$1 secs=$2; shift 2
	"$ST" -q -p "$PID" -d "$secs" "$@" -o "$WORK/$name.folded" 2>"$WORK/$name.err"
	[ -s "$WORK/$name.folded" ] || { echo "# no samples for $name:"; sed 's/^/#   /' "$WORK/$name.err"; }
}

# 60/30/10 through a common leaf, no frame pointers (plain -O2), then with
# frame pointers but frameless leaves: the truth either way.
for t in hot_o2 hot_fpo2; do
	start "$TARGETS/$t" 6
	profile "$t" 4
	wait "$PID" 2>/dev/null
	n=$(total_samples "$WORK/$t.folded")
	m=$(share "$WORK/$t.folded" main)
	a=$(share "$WORK/$t.folded" hot_a); b=$(share "$WORK/$t.folded" hot_b); c=$(share "$WORK/$t.folded" hot_c)
	check "$t: samples recorded (got $n)" within "$n" 500 4200
	check "$t: at least 99% of samples reach main (got $m%)" within "$m" 99 100
	# ±3 here: a few thousand samples on a shared machine; bench/unwind.sh
	# measures the attribution on a longer run against perf --call-graph dwarf.
	check "$t: hot_a 60±3% (got $a)" within "$a" 57 63
	check "$t: hot_b 30±3% (got $b)" within "$b" 27 33
	check "$t: hot_c 10±3% (got $c)" within "$c" 7 13
	check_grep "$t: whole stack to _start" "$ROOT;main;hot_a;leaf [0-9]+\$" "$WORK/$t.folded"
done

# The same -O2 target with --unwind=fp loses main: what the tables are for.
start "$TARGETS/hot_o2" 30
profile fp 1 --unwind=fp
m=$(share "$WORK/fp.folded" main)
check "--unwind=fp on -O2 code: main mostly lost (got $m%)" within "$m" 0 50
profile dwarf 1 --unwind=dwarf
m=$(share "$WORK/dwarf.folded" main)
check "--unwind=dwarf: at least 99% reach main (got $m%)" within "$m" 99 100
"$ST" -q -p "$PID" -d 0.3 --unwind=sideways >"$WORK/o" 2>"$WORK/e"; rc=$?
check "--unwind=sideways: usage error (exit 2, got $rc)" test "$rc" -eq 2
"$ST" -q -v -p "$PID" -d 0.3 -o "$WORK/v.folded" 2>"$WORK/v.err"
check_grep "-v: libc's table with its rows, size and build time" \
	'^sampletop: unwind table: /.*/libc\.so\.6: [0-9]{4,} rows, [0-9]+ bytes, built in [0-9.]+ ms$' "$WORK/v.err"
check_grep "-v: the vdso's table" '^sampletop: unwind table: \[vdso\]: [0-9]+ rows' "$WORK/v.err"
kill "$PID"; wait "$PID" 2>/dev/null

# A launched command: its tables are pushed right after its exec, so that
# even its first samples are unwound (a few may precede the push).
"$ST" -q -o "$WORK/cmd.folded" -- "$TARGETS/hot_o2" 2
m=$(share "$WORK/cmd.folded" main)
check "-- COMMAND: at least 98% of samples reach main (got $m%)" within "$m" 98 100
# Its start, before and during the exec, shows as [in exec], not as the
# old program's addresses in the new one: samples whose every frame is
# unnamed. (A sample before the push may still lose a caller or two: the
# kernel finds one unknown mapping per sample.) Five short runs.
for i in 1 2 3 4 5; do
	"$ST" -q -o "$WORK/cmd$i.folded" -- "$TARGETS/hot_o2" 0.3
done
cat "$WORK"/cmd[1-5].folded >"$WORK/cmds.folded"
check_no_grep "-- COMMAND: no sample made only of unnamed frames in five short runs" \
	'^(\[unknown\][^;]*;)*\[unknown\][^;]* [0-9]+$' "$WORK/cmds.folded"
check_grep "-- COMMAND: its start is [in exec]" '^\[in exec\] [0-9]+$' "$WORK/cmds.folded"

# Deep recursion: exactly 40 recurse frames between run_recurse and burn.
start "$TARGETS/unwind" recurse 4
profile recurse 2
exact="$ROOT;main;run_recurse(;recurse){40};burn [0-9]+\$"
s=$(share_re "$WORK/recurse.folded" "$exact")
m=$(share "$WORK/recurse.folded" main)
check "recursion: at least 90% of samples are main;run_recurse;recurse x40;burn (got $s%)" within "$s" 90 100
check "recursion: at least 99% reach main (got $m%)" within "$m" 99 100

# A qsort comparator: through libc's (frameless) sort code and back.
start "$TARGETS/unwind" qsort 4
profile qsort 2
check_grep "qsort: main;run_qsort;sort_many;qsort_r;<libc's msort frames>;compare_slow;burn" \
	"$ROOT;main;run_qsort;sort_many;[^;]*qsort_r(;[^;]+)+;compare_slow;burn [0-9]+\$" "$WORK/qsort.folded"
c=$(share "$WORK/qsort.folded" compare_slow)
m=$(main_share_of "$WORK/qsort.folded" compare_slow)
check "qsort: the comparator is sampled (got $c%)" within "$c" 30 100
check "qsort: at least 99% of comparator samples reach main (got $m%)" within "$m" 99 100

# Threads: each worker's stack ends at libc's thread start, two frames up.
start "$TARGETS/unwind" threads 4
profile threads 2
w=$(share "$WORK/threads.folded" worker)
unk='\[unknown\] libc\.so\.6( \(fn@0x[0-9a-f]+\)|\+0x[0-9a-f]+)'
s=$(share_re "$WORK/threads.folded" "^([^;]*clone[^;]*|$unk);([^;]*start_thread[^;]*|$unk);worker(;[^;]+)* [0-9]+\$")
check "threads: workers sampled (got $w%)" within "$w" 90 100
check "threads: at least 99% of samples are <libc clone3>;<libc start_thread>;worker;... (got $s%)" \
	within "$s" 99 100

# A signal handler: through the kernel's signal frame back to main.
start "$TARGETS/unwind" signal 4
profile signal 2
h=$(share "$WORK/signal.folded" on_alarm)
m=$(main_share_of "$WORK/signal.folded" on_alarm)
check "signal: the handler is sampled (got $h%)" within "$h" 2 100
check "signal: at least 99% of handler samples reach main (got $m%)" within "$m" 99 100
check_grep "signal: handler stack shows the interrupted wait_loop" \
	';main;run_signal;wait_loop(;[^;]+)+;on_alarm;burn [0-9]+$' "$WORK/signal.folded"

# Samples taken in the kernel: user registers from the task, not the context.
start "$TARGETS/unwind" syscall 10
profile syscall 2
m=$(share "$WORK/syscall.folded" main)
check "syscall-heavy target: at least 99% reach main (got $m%)" within "$m" 99 100
check_grep "syscall: main;run_syscall;write_many;<libc write>" \
	';main;run_syscall;write_many;[^;]*write[^;]* [0-9]+$' "$WORK/syscall.folded"
profile syscall_k 1 -K
check_grep "syscall -K: kernel frames below main;run_syscall;write_many;<libc write>" \
	';main;run_syscall;write_many;[^;]*write[^;]*(;[A-Za-z_0-9.]+_\[k\])+ [0-9]+$' "$WORK/syscall_k.folded"
kill "$PID"; wait "$PID" 2>/dev/null

# A library loaded after sampling began: its mapping is unknown to BPF at
# first, then userspace pushes it; the chain through it comes out whole.
start "$TARGETS/unwind" dlopen 5 "$TARGETS/libunwchain.so"
profile dlopen 4
check_grep "dlopen: main;run_chain;lib_outer;lib_middle;chain_callback;burn" \
	"$ROOT;main;run_chain;lib_outer;lib_middle;chain_callback;burn [0-9]+\$" "$WORK/dlopen.folded"
m=$(main_share_of "$WORK/dlopen.folded" chain_callback)
check "dlopen: at least 95% of callback samples reach main (got $m%)" within "$m" 95 100

# short_runs NAME COMMS PROGRAM SECONDS: sampletop -a --comm COMMS for 5 s
# into $WORK/NAME.folded while PROGRAM SECONDS runs over and over, two at a
# time, for 3 s of it.
short_runs() {
	local sp k end
	"$ST" -a --comm "$2" -d 5 -o "$WORK/$1.folded" 2>"$WORK/$1.err" &
	sp=$!
	wait_sampling "$WORK/$1.err"
	end=$((SECONDS + 3))
	while [ $SECONDS -lt $end ]; do
		"$3" "$4" & k=$!
		"$3" "$4"
		wait "$k"
	done
	wait "$sp"
}

# Processes too short-lived for their mappings to be pushed (a fresh exec
# living 30 ms, without frame pointers): the BPF program finds each pc's
# mapping with bpf_find_vma and the object's table by file. hot_keep (a
# hard link, the same file, also a target) runs long enough for that table
# to be built; only hot_short's samples are counted.
ln -f "$TARGETS/hot_o2" "$TARGETS/hot_keep"
ln -f "$TARGETS/hot_o2" "$TARGETS/hot_short"
start "$TARGETS/hot_keep" 12
short_runs short_all hot_short,hot_keep "$TARGETS/hot_short" 0.03
kill "$PID" 2>/dev/null
grep '^hot_short;' "$WORK/short_all.folded" >"$WORK/short.folded"
after_start_up "$WORK/short.folded" >"$WORK/short_main.folded"
n=$(total_samples "$WORK/short.folded")
m=$(main_share "$WORK/short_main.folded")
r=$(share_re "$WORK/short_main.folded" '^hot_short;_start;[^;]*libc_start_main[^;]*;[^;]+;main;')
check "short-lived processes: samples recorded (got $n)" within "$n" 300 100000
check_grep "short-lived processes: the long-lived one with the same file sampled" '^hot_keep;' \
	"$WORK/short_all.folded"
# Frame pointers alone reach main in ~20% of these samples.
check_main "short-lived processes: at least 85% of samples after start-up reach main (got $m%)" "$m" 85 \
	"$WORK/short_main.folded"
check "short-lived processes: most whole to _start (got $r%)" within "$r" 70 100
# Kernel time without a user stack is named: the exec, and the exit once
# the memory is released (each ~1% of these samples), never [no stack].
check_grep "short-lived processes: time exiting is [exiting]" '^hot_short;\[exiting\]' \
	"$WORK/short.folded"
check_no_grep "short-lived processes: no [no stack]" '\[no stack\]' "$WORK/short.folded"

# A program that only ever runs for a few ms (a fresh file): its tables are
# built from the mappings read at its first samples, though each process is
# gone before its own push, and serve the processes after it.
cp "$TARGETS/hot_o2" "$WORK/hot_new"
short_runs new hot_new "$WORK/hot_new" 0.03
after_start_up "$WORK/new.folded" >"$WORK/new_main.folded"
m=$(main_share "$WORK/new_main.folded")
check_main "a program only ever short-lived: at least 85% of samples after start-up reach main (got $m%)" "$m" 85 \
	"$WORK/new_main.folded"
check_no_grep "a program only ever short-lived: no process lost before its maps were read" \
	'exited before it was read' "$WORK/new.folded"

# Processes of 2 ms, two at a time on a busy machine: the maps snapshot
# thread (real-time) reads each before it exits. At normal priority 5-12%
# of these samples were [process exited before it was read].
short_runs tiny hot_new "$WORK/hot_new" 0.002
n=$(total_samples "$WORK/tiny.folded")
g=$(share_re "$WORK/tiny.folded" 'exited before it was read')
check "2 ms processes: samples recorded (got $n)" within "$n" 300 100000
check "2 ms processes: at most 2% of samples lost before the maps were read (got $g%)" \
	within "$g" 0 2

finish

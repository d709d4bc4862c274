# --scope FUNC, native, on the BPF side: uprobes/uretprobes give exact call
# boundaries, recursion counts once, samples outside every call are dropped
# in the kernel and those inside carry their call's id. scope_tool (next to
# this file) prints the sampler's raw call records and kept samples; the
# workload (tests/targets/scope_work.c) prints its own clock_gettime
# timings of every call (the BPF clock).
. "$(dirname "$0")/../lib.sh"
plan 31

# The workload at -O1 without inlining or sibling calls: the recursion in
# handle_request stays a real call.
build_target scope_work scope_work.c -O1 -g -fno-inline -fno-optimize-sibling-calls
TOOL=$TARGETS/scope_tool
if [ ! -x "$TOOL" ] || [ "$TOP/tests/integration/scope_tool.c" -nt "$TOOL" ] || [ "$ST" -nt "$TOOL" ]; then
	# The sanitizer pass links the ASan objects of build/san: with their flags.
	case $BUILD in */san) san="-fsanitize=address,undefined -fno-omit-frame-pointer" ;; *) san= ;; esac
	# shellcheck disable=SC2086
	${CC:-cc} -O2 -g $san -std=gnu11 -D_GNU_SOURCE -I"$TOP/user" -I"$TOP/include" -I"$BUILD" \
		"$TOP/tests/integration/scope_tool.c" $(make -s -C "$TOP" OUTPUT="$BUILD" lib-objs) \
		$(pkg-config --libs libbpf libelf libdw ncursesw zlib liblzma jansson libcurl) -liberty -lm \
		-lpthread -o "$TOOL" || bail "cannot build scope_tool"
fi

# wait_exec PID: until the process runs scope_work (the shell forked it
# first: its maps are the shell's until the exec).
wait_exec() {
	for _ in $(seq 500); do
		[ "$(readlink "/proc/$1/exe")" = "$TARGETS/scope_work" ] && return 0
		sleep 0.01
	done
	bail "the workload did not start"
}

# run_pid NAME FUNC SECONDS WORKLOAD-ARGS...: starts the workload held at a
# go file, probes FUNC in it by pid, lets it go, waits for both.
run_pid() {
	local name=$1 func=$2 secs=$3; shift 3
	rm -f "$WORK/go"
	"$TARGETS/scope_work" "$@" "$WORK/go" ${JUMP:-} >"$WORK/$name.work" &
	local wp=$!
	_pids+=("$wp")
	wait_exec "$wp"
	"$TOOL" "$func" "$secs" -p "$wp" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	local tp=$!
	_pids+=("$tp")
	for _ in $(seq 300); do
		grep -q '^attached' "$WORK/$name.err" && break
		kill -0 "$tp" 2>/dev/null || break
		sleep 0.1
	done
	touch "$WORK/go"
	wait "$wp"
	wait "$tp"
	# A probe set on the same function right after the last one went
	# sometimes never fires (kernel 6.18, seen back to back): a pause.
	sleep 1
}

# calls_vs_work OUT WORK [MIN_MS]: pairs the tool's calls (E lines) with the
# workload's (call lines), per thread in time order, calls of at least MIN_MS
# only; prints "pairs N worst_us W cut C", W the largest difference of
# begin, end or duration in microseconds.
calls_vs_work() {
	awk -v min="${3:-0}" '
	FNR == 1 { f++ }
	f == 1 && $1 == "E" && ($7 - $6) >= min * 1e6 { n[$4]++; b[$4, n[$4]] = $6; e[$4, n[$4]] = $7; cut[$4, n[$4]] = $8 }
	f == 2 && $1 == "call" && $5 >= min * 1e6 { m[$2]++; wb[$2, m[$2]] = $3; we[$2, m[$2]] = $4 }
	function abs(x) { return x < 0 ? -x : x }
	END {
		worst = 0; pairs = 0; bad = 0; cuts = 0
		for (t in m) {
			if (n[t] != m[t]) bad = 1
			for (i = 1; i <= m[t]; i++) {
				if (!((t, i) in b)) continue
				pairs++; cuts += cut[t, i]
				d1 = abs(b[t, i] - wb[t, i]); d2 = abs(e[t, i] - we[t, i])
				d3 = abs((e[t, i] - b[t, i]) - (we[t, i] - wb[t, i]))
				if (d1 > worst) worst = d1; if (d2 > worst) worst = d2; if (d3 > worst) worst = d3
			}
		}
		for (t in n) if (!(t in m)) bad = 1
		printf "pairs %d worst_us %d cut %d mismatch %d\n", pairs, worst / 1000, cuts, bad
	}' "$1" "$2"
}

# samples_check OUT: kept samples (S lines) against the calls (E lines) of
# their thread: "kept K outside O wrong_id W untagged U".
samples_check() {
	awk '
	$1 == "E" { n[$4]++; b[$4, n[$4]] = $6; e[$4, n[$4]] = $7; id[$4, n[$4]] = $2 }
	$1 == "S" { k++; st[k] = $2; tt[k] = $3; tin[k] = $4; tid_[k] = $5 }
	END {
		for (j = 1; j <= k; j++) {
			t = st[j]; hit = 0
			for (i = 1; i <= n[t]; i++)
				if (tt[j] >= b[t, i] && tt[j] <= e[t, i]) { hit = i; break }
			if (!hit) out++
			else if (tid_[j] != id[t, hit]) wrong++
			if (tin[j] != 1) untagged++
		}
		printf "kept %d outside %d wrong_id %d untagged %d\n", k, out, wrong, untagged
	}' "$1"
}
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$1"; }
counter() { awk -v k="$2" '$1 == "C" && $2 == k { print $3 }' "$1"; }

# ---- By pid: two threads, 12 calls each; every third call recurses twice.
N=12
run_pid pid handle_request 6 "$N" 2
grep -q '^attached 1 ' "$WORK/pid.err" || { sed 's/^/#   /' "$WORK/pid.err"; bail "scope_tool did not probe handle_request"; }
echo "# set-up: the tool probed handle_request"
nb=$(grep -c '^B ' "$WORK/pid.out"); ne=$(grep -c '^E ' "$WORK/pid.out")
check "pid: $((2 * N)) calls begin (got $nb)" test "$nb" -eq $((2 * N))
check "pid: $((2 * N)) calls end (got $ne)" test "$ne" -eq $((2 * N))
pairs=$(awk '$1 == "B" { b[$2]++ } $1 == "E" { e[$2]++ } END { for (i in b) if (b[i] == 1 && e[i] == 1 && i > 0) n++; print n + 0 }' "$WORK/pid.out")
check "pid: each call id has one begin and one end, never 0 (got $pairs pairs)" test "$pairs" -eq $((2 * N))
c=$(counter "$WORK/pid.out" calls)
check "pid: recursion counts once (SCOPE_CALLS $c)" test "$c" -eq $((2 * N))
r=$(calls_vs_work "$WORK/pid.out" "$WORK/pid.work")
check "pid: every call paired with the workload's, per thread ($r)" test "$(field "$r" pairs)" -eq $((2 * N)) -a "$(field "$r" mismatch)" -eq 0
check "pid: begin, end and duration within 2 ms of the workload's ($r)" test "$(field "$r" worst_us)" -le 2000
check "pid: no call cut ($r)" test "$(field "$r" cut)" -eq 0
o=$(counter "$WORK/pid.out" outside)
check "pid: samples outside every call dropped in the kernel (SCOPE_OUTSIDE $o)" test "${o:-0}" -gt 50
s=$(samples_check "$WORK/pid.out")
check "pid: samples kept inside calls ($s)" test "$(field "$s" kept)" -gt 20
check "pid: no kept sample outside a call ($s)" test "$(field "$s" outside)" -eq 0
check "pid: kept samples carry their call's id ($s)" test "$(field "$s" wrong_id)" -eq 0 -a "$(field "$s" untagged)" -eq 0
check "pid: no call record lost, no thread without room" test "$(counter "$WORK/pid.out" lost)" -eq 0 -a "$(counter "$WORK/pid.out" full)" -eq 0

# ---- longjmp out of every fifth call (i = 4, 9): the uretprobe never fires.
JUMP=jump run_pid jump handle_request 5 10 1
nb=$(grep -c '^B ' "$WORK/jump.out"); ne=$(grep -c '^E ' "$WORK/jump.out")
check "longjmp: 10 calls begin and end (got $nb, $ne)" test "$nb" -eq 10 -a "$ne" -eq 10
r=$(calls_vs_work "$WORK/jump.out" "$WORK/jump.work")
check "longjmp: the 2 calls left by longjmp are cut, the others not ($r)" test "$(field "$r" cut)" -eq 2
# A cut call ends at the first sample after the longjmp (1 kHz, busy).
check "longjmp: every call within 2 ms of the workload's ($r)" test "$(field "$r" worst_us)" -le 2000 -a "$(field "$r" pairs)" -eq 10
s=$(samples_check "$WORK/jump.out")
check "longjmp: no kept sample outside a call ($s)" test "$(field "$s" outside)" -eq 0 -a "$(field "$s" kept)" -gt 5

# ---- A launched command: the probe is on its file before it runs.
"$TOOL" handle_request 10 -- "$TARGETS/scope_work" 8 1 - >"$WORK/cmd.out" 2>"$WORK/cmd.err"
grep '^call ' "$WORK/cmd.out" >"$WORK/cmd.work"
nb=$(grep -c '^B ' "$WORK/cmd.out"); ne=$(grep -c '^E ' "$WORK/cmd.out")
check "-- COMMAND: 8 calls begin and end (got $nb, $ne)" test "$nb" -eq 8 -a "$ne" -eq 8
r=$(calls_vs_work "$WORK/cmd.out" "$WORK/cmd.work")
check "-- COMMAND: every call within 2 ms of the workload's ($r)" test "$(field "$r" worst_us)" -le 2000 -a "$(field "$r" pairs)" -eq 8
s=$(samples_check "$WORK/cmd.out")
check "-- COMMAND: no kept sample outside a call ($s)" test "$(field "$s" outside)" -eq 0 -a "$(field "$s" kept)" -gt 5
# Another process running the same file is no target: its calls are not seen.
"$TARGETS/scope_work" 30 1 - >/dev/null &
other=$!
_pids+=("$other")
"$TOOL" handle_request 10 -- "$TARGETS/scope_work" 4 1 - >"$WORK/cmd2.out" 2>/dev/null
kill "$other" 2>/dev/null
nb=$(grep -c '^B ' "$WORK/cmd2.out")
check "-- COMMAND: calls of a non-target process running the same file not counted (got $nb of 4)" test "$nb" -eq 4

# ---- A function in a shared library: libc's nanosleep (an alias there:
# found in .dynsym), which the odd calls make (30 ms each, timed by the
# workload; the go file's wait loop sleeps 2 ms at a time).
run_pid lib nanosleep 5 6 1
check_grep "libc: nanosleep found in libc" '^attached 1 /proc/[0-9]+/root/.*libc\.so' "$WORK/lib.err"
awk '$1 == "sleep" { $1 = "call"; print }' "$WORK/lib.work" >"$WORK/lib.sleeps"
r=$(calls_vs_work "$WORK/lib.out" "$WORK/lib.sleeps" 25)
check "libc: the 3 nanosleep calls of 30 ms, each within 2 ms of the workload's timing of it ($r)" \
	test "$(field "$r" pairs)" -eq 3 -a "$(field "$r" worst_us)" -le 2000 -a "$(field "$r" mismatch)" -eq 0
# The short sleeps of the wait loop are calls too.
short=$(awk '$1 == "E" && $7 - $6 < 25e6' "$WORK/lib.out" | wc -l)
check "libc: the wait loop's short sleeps are calls too (got $short)" test "$short" -gt 0

# ---- Demangled C++ names: qualified, with or without parameters.
${CXX:-g++} -O1 -g -o "$TARGETS/scope_cpp" "$TOP/tests/targets/scope_cpp.cpp" || bail "cannot build scope_cpp"
"$TARGETS/scope_cpp" 6 >"$WORK/cpp.work" &
cp=$!
_pids+=("$cp")
sleep 0.2
"$TOOL" 'app::Server::handle' 3 -p "$cp" >"$WORK/cpp.out" 2>"$WORK/cpp.err"
check_grep "C++: app::Server::handle resolves to both overloads" '^attached 2 ' "$WORK/cpp.err"
"$TOOL" 'app::Server::handle(int)' 1 -p "$cp" >/dev/null 2>"$WORK/cpp1.err"
check_grep "C++: app::Server::handle(int) to one" '^attached 1 ' "$WORK/cpp1.err"
n=$(grep -c '^E ' "$WORK/cpp.out")
check "C++: calls of the overloads seen (got $n)" test "$n" -gt 1000
# Thousands of short calls: a sample taken while a probe is being handled
# (in the kernel, or in the return trampoline) must not cut its call. Under
# a loaded machine a few in 10^5 still are (a window the return-slot check
# does not see yet; man page, --scope): at most 1 in 10^4 passes, which the
# old check (31 of 70,559 cut) fails.
cut=$(awk '$1 == "E" && $8 == 1' "$WORK/cpp.out" | wc -l)
check "C++: at most 1 in 10^4 of $n short calls cut by a sample (got $cut)" \
	test $((cut * 10000)) -le "$n"
kill "$cp" 2>/dev/null

# ---- No such function: one line naming it and where it looked, exit non-zero.
"$TARGETS/scope_work" 100 1 - >/dev/null &
PID=$!
_pids+=("$PID")
wait_exec "$PID"
"$TOOL" no_such_function_xyz 1 -p "$PID" >"$WORK/nf.out" 2>"$WORK/nf.err"; rc=$?
check "no such function: non-zero exit (got $rc)" test "$rc" -ne 0
check "no such function: one line" test "$(wc -l <"$WORK/nf.err")" -eq 1
check_grep "no such function: names it and where it looked" \
	"^sampletop: --scope no_such_function_xyz: no such function in pid $PID: .*/scope_work and [0-9]+ other objects\$" "$WORK/nf.err"
"$TOOL" no_such_function_xyz 1 -- "$TARGETS/scope_work" 1 1 - >"$WORK/nf2.out" 2>"$WORK/nf2.err"; rc=$?
check_grep "no such function in a command's file: named with the file (exit $rc)" \
	"^sampletop: --scope no_such_function_xyz: no such function in .*/scope_work\$" "$WORK/nf2.err"
kill "$PID"
finish

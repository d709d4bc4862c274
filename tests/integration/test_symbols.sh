# The symbolizer end to end: real sampletop on real fixture processes, exact names.
. "$(dirname "$0")/../lib.sh"
plan 58

SRC=$TOP/tests/targets
FP=(-O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-optimize-sibling-calls
    -fno-shrink-wrap)

# prof OUT [SAMPLETOP OPTIONS...] -- COMMAND...: runs COMMAND, profiles it
# for 1.5 s (or $PROF_D s; sampling also stops when it exits) into OUT (format
# from its extension), stops it.
prof() {
	local out=$1; shift
	local opts=()
	while [ "$1" != "--" ]; do opts+=("$1"); shift; done
	shift
	"$@" &
	local pid=$!
	_pids+=("$pid")
	sleep 0.3
	"$ST" -q "${opts[@]}" -p "$pid" -d "${PROF_D:-1.5}" -o "$out"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
# has_frame FOLDED NAME: a stack in FOLDED holds a frame named exactly NAME.
has_frame() { awk -v f="$2" '{ sub(/ [0-9]+$/, ""); k = split($0, fr, ";");
	for (i = 1; i <= k; i++) if (fr[i] == f) { found = 1; exit } } END { exit !found }' "$1"; }
check_frame() {
	if has_frame "$2" "$3"; then ok "$1"; else not_ok "$1"; echo "#   no frame named '$3' in $2:"
		sort -t' ' -k2 -nr "$2" | head -5 | cut -c1-300 | sed 's/^/#   /'; fi
}
rx_loads() { readelf -lW "$1" | awk '$1 == "LOAD" && / R E / { print $2, $3 }'; }

# --- executables: PIE, ET_EXEC, and a layout where file offset != vaddr ---
gcc "${FP[@]}" -fPIE -pie -o "$TARGETS/sym_pie" "$SRC/symbols.c"
gcc "${FP[@]}" -fno-pie -no-pie -o "$TARGETS/sym_exec" "$SRC/symbols.c"
setup "sym_pie is ET_DYN" sh -c "readelf -h '$TARGETS/sym_pie' | grep -q 'DYN '"
setup "sym_exec is ET_EXEC" sh -c "readelf -h '$TARGETS/sym_exec' | grep -q 'EXEC '"
prof "$WORK/pie.folded" -- "$TARGETS/sym_pie" hot 5
check_frame "PIE: sym_hot_work named" "$WORK/pie.folded" sym_hot_work
check_grep "PIE: main calls sym_hot_work" '(^|;)main;sym_hot_work( |;)' "$WORK/pie.folded"
prof "$WORK/exec.folded" -- "$TARGETS/sym_exec" hot 5
check_frame "ET_EXEC: sym_hot_work named" "$WORK/exec.folded" sym_hot_work
if command -v ld.lld >/dev/null; then
	clang -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fuse-ld=lld -o "$TARGETS/sym_lld" "$SRC/symbols.c"
	read -r off vaddr < <(rx_loads "$TARGETS/sym_lld")
	setup "lld layout: code segment offset $off != vaddr $vaddr" test "$((off))" -ne "$((vaddr))"
	prof "$WORK/lld.folded" -- "$TARGETS/sym_lld" hot 5
	check_frame "offset != vaddr (lld): sym_hot_work named via PT_LOAD arithmetic" \
		"$WORK/lld.folded" sym_hot_work
else
	skip "ld.lld absent: no offset != vaddr fixture"
fi

# --- symbol sizes: code past a sized symbol's end stays unnamed ---
prof "$WORK/gap.folded" -- "$TARGETS/sym_pie" gap 5
check_grep "gap: unnamed code shows as [unknown] module+0xoffset" \
	'(^|;)\[unknown\] sym_pie\+0x[0-9a-f]+( [0-9]+$|;)' "$WORK/gap.folded"
check_no_grep "gap: never the neighbour's name (sized_fn)" 'sized_fn' "$WORK/gap.folded"

# --- stripped, no debug file: one frame per function, from its .eh_frame record ---
gcc -O2 -fasynchronous-unwind-tables -o "$TARGETS/stripped_full" "$SRC/stripped.c"
strip -o "$TARGETS/stripped" "$TARGETS/stripped_full"
fn=$(printf '0x%x' "0x$(nm "$TARGETS/stripped_full" | awk '$3 == "strip_hot" { print $1 }')")
prof "$WORK/stripped.json" -- "$TARGETS/stripped" 5
"$ST" report "$WORK/stripped.json" -o "$WORK/stripped.folded"
"$ST" report "$WORK/stripped.json" --counters -o "$WORK/stripped.txt"
s=$(share "$WORK/stripped.folded" "[unknown] stripped (fn@$fn)")
check "stripped: strip_hot's samples add up in one '[unknown] stripped (fn@$fn)' frame (got $s%)" \
	within "$s" 80 100
check_no_grep "stripped: no per-address frame for code inside a function" \
	'\[unknown\] stripped\+0x' "$WORK/stripped.folded"
u=$(awk '$1 == "unnamed_functions" { gsub(",", "", $2); print $2 }' "$WORK/stripped.txt")
d=$(sed 's/ [0-9]*$//' "$WORK/stripped.folded" | tr ';' '\n' | grep '^\[unknown\]' | sort -u | wc -l)
check "stripped: --counters' unnamed_functions (${u:-none}) counts the distinct unnamed frames ($d)" \
	test "${u:-none}" = "$d"

# --- stripped: .gnu_debuglink (CRC checked), next to it and in .debug/ ---
mkdir -p "$WORK/dl/.debug" "$WORK/dl2" "$WORK/dl3"
gcc "${FP[@]}" -Wl,--build-id=none -o "$WORK/dl/app" "$SRC/symbols.c"
objcopy --only-keep-debug "$WORK/dl/app" "$WORK/dl/app.debug"
strip --strip-all "$WORK/dl/app"
objcopy --add-gnu-debuglink="$WORK/dl/app.debug" "$WORK/dl/app"
setup "stripped fixture has no .symtab" sh -c "! readelf -S '$WORK/dl/app' | grep -q '\.symtab'"
prof "$WORK/debuglink.folded" -- "$WORK/dl/app" hot 5
check_frame "debuglink next to the binary: static sym_hot_work named" "$WORK/debuglink.folded" sym_hot_work
cp "$WORK/dl/app" "$WORK/dl2/app"
mkdir -p "$WORK/dl2/.debug"
cp "$WORK/dl/app.debug" "$WORK/dl2/.debug/app.debug"
prof "$WORK/debuglink2.folded" -- "$WORK/dl2/app" hot 5
check_frame "debuglink in .debug/: sym_hot_work named" "$WORK/debuglink2.folded" sym_hot_work
# A debug file of another build (wrong CRC) must not be trusted.
cp "$WORK/dl/app" "$WORK/dl3/app"
gcc "${FP[@]}" -Wl,--build-id=none -DOTHER_BUILD=1 -O1 -o "$WORK/dl3/other" "$SRC/symbols.c"
objcopy --only-keep-debug "$WORK/dl3/other" "$WORK/dl3/app.debug"
prof "$WORK/badcrc.folded" -- "$WORK/dl3/app" hot 5
check_no_grep "debuglink with a wrong CRC is ignored: no sym_hot_work" 'sym_hot_work' "$WORK/badcrc.folded"
check_grep "debuglink with a wrong CRC: [unknown] app (fn@0x...)" '\[unknown\] app \(fn@0x' "$WORK/badcrc.folded"
# Compressed debug sections in the debug file, with --lines.
mkdir -p "$WORK/z"
gcc "${FP[@]}" -Wl,--build-id=none -o "$WORK/z/app" "$SRC/symbols.c"
objcopy --only-keep-debug --compress-debug-sections=zlib "$WORK/z/app" "$WORK/z/app.debug"
strip --strip-all "$WORK/z/app"
objcopy --add-gnu-debuglink="$WORK/z/app.debug" "$WORK/z/app"
setup "debug file has compressed sections" sh -c "readelf -SW '$WORK/z/app.debug' 2>/dev/null | grep ' .debug_info' 2>/dev/null | grep -q 'C'"
decl=$(grep -n '^__attribute__((noinline)) void sym_hot_work' "$SRC/symbols.c" | cut -d: -f1)
prof "$WORK/z.txt" --lines --show-all -- "$WORK/z/app" hot 5
check_grep "compressed debug sections: sym_hot_work  app  symbols.c:$decl" \
	"sym_hot_work  app  [^ ]*symbols\\.c:$decl\$" "$WORK/z.txt"

# --- MiniDebugInfo: local function symbols xz-compressed in .gnu_debugdata ---
if command -v xz >/dev/null; then
	mkdir -p "$WORK/mdi"
	gcc "${FP[@]}" -o "$WORK/mdi/app" "$SRC/symbols.c"
	nm -D "$WORK/mdi/app" --format=posix --defined-only | awk '{ print $1 }' | sort >"$WORK/mdi/dyn"
	nm "$WORK/mdi/app" --format=posix --defined-only | awk '$2 ~ /[Tt]/ { print $1 }' | sort >"$WORK/mdi/funcs"
	comm -13 "$WORK/mdi/dyn" "$WORK/mdi/funcs" >"$WORK/mdi/keep"
	objcopy -S --remove-section .comment --keep-symbols="$WORK/mdi/keep" "$WORK/mdi/app" "$WORK/mdi/mini"
	strip --strip-all "$WORK/mdi/app"
	xz "$WORK/mdi/mini"
	objcopy --add-section .gnu_debugdata="$WORK/mdi/mini.xz" "$WORK/mdi/app"
	setup "MiniDebugInfo fixture: no .symtab, a .gnu_debugdata" sh -c \
		"readelf -S '$WORK/mdi/app' | grep -q gnu_debugdata && ! readelf -S '$WORK/mdi/app' | grep -q '\.symtab'"
	prof "$WORK/mdi.folded" -- "$WORK/mdi/app" hot 5
	check_frame "MiniDebugInfo (xz): sym_hot_work named" "$WORK/mdi.folded" sym_hot_work
else
	skip "xz absent: no MiniDebugInfo fixture"
fi

# --- build-id: Debian's stripped libc and libc6-dbg ---
libc_dbg=$(ls /usr/lib/debug/.build-id/*/*.debug 2>/dev/null | head -1)
if [ -n "$libc_dbg" ] && dpkg -s libc6-dbg >/dev/null 2>&1; then
	check_frame "libc via /usr/lib/debug/.build-id: __libc_start_call_main named" \
		"$WORK/pie.folded" __libc_start_call_main
	check_grep "libc: __libc_start_call_main calls main" '(^|;)__libc_start_call_main;main;' "$WORK/pie.folded"
	libc=$(awk '/ r-xp .*libc\.so\.6$/ { print $6; exit }' /proc/self/maps)
	a=$(nm -D "$libc" | awk '$3 ~ /^__libc_start_main@@/ { print $1 }')
	check "libc aliases: the global name, without its @@VERSION (not __libc_start_main_impl)" \
		test "$("$ST" addr2line -e "$libc" "$a")" = "__libc_start_main"
else
	skip 3 "libc6-dbg not installed: no build-id debug file to find"
fi

# --- shared library dlopen'd after sampling started, stripped: .dynsym ---
gcc "${FP[@]}" -shared -fPIC -o "$WORK/libdl.so" "$SRC/symbols_lib.c"
strip --strip-all "$WORK/libdl.so"
setup "stripped library keeps only .dynsym" sh -c "! readelf -S '$WORK/libdl.so' | grep -q '\.symtab'"
"$TARGETS/sym_pie" dlopen 4 "$WORK/libdl.so" &
pid=$!; _pids+=("$pid")
sleep 0.1
setup "library not loaded when sampling starts" sh -c "! grep -q libdl.so /proc/$pid/maps"
"$ST" -q -p "$pid" -d 2 -o "$WORK/dlopen.folded"
check_frame "dlopen'd stripped library: dl_spin named from .dynsym" "$WORK/dlopen.folded" dl_spin

# --- vDSO ---
prof "$WORK/vdso.txt" --show-all -- "$TARGETS/sym_pie" vdso 5
check_grep "vdso: clock_gettime named in [vdso]" '(__vdso_)?clock_gettime  \[vdso\]$' "$WORK/vdso.txt"
# The vDSO in memory names only its exported functions: a pc in a local
# helper (vread_pvclock, which reads the clock when the clocksource is
# kvm-clock) is rightly [unknown] [vdso]+0xOFF. Every other pc must be
# named: each unnamed offset is checked against the image's own symbols.
read -r vlo vhi < <(awk '$6 == "[vdso]" { split($1, r, "-"); print r[1], r[2] }' /proc/$$/maps)
dd if=/proc/$$/mem of="$WORK/vdso.so" bs=4096 skip=$((0x$vlo / 4096)) \
	count=$(((0x$vhi - 0x$vlo) / 4096)) status=none
readelf -sW --dyn-syms "$WORK/vdso.so" | awk '$4 == "FUNC" { print $2, $3 }' >"$WORK/vdso.syms"
named_offs=
for off in $(grep -F '[vdso]' "$WORK/vdso.txt" | grep -F '[unknown]' | grep -oE '0x[0-9a-f]+'); do
	while read -r val size; do
		((off >= 0x$val && off < 0x$val + size)) && { named_offs+=" $off"; break; }
	done <"$WORK/vdso.syms"
done
check "vdso: no [unknown] [vdso] frame inside one of the image's $(wc -l <"$WORK/vdso.syms") function symbols (got:${named_offs:- none})" \
	sh -c "test -s '$WORK/vdso.syms' && test -z '$named_offs'"

# --- deleted and replaced while running ---
cp "$TARGETS/sym_pie" "$WORK/gone"
"$WORK/gone" hot 5 &
pid=$!; _pids+=("$pid")
sleep 0.3
rm "$WORK/gone"
"$ST" -q -p "$pid" -d 1.5 -o "$WORK/deleted.folded"
check_frame "binary deleted while running: named via map_files" "$WORK/deleted.folded" sym_hot_work
cp "$TARGETS/sym_pie" "$WORK/repl"
"$WORK/repl" hot 5 &
pid=$!; _pids+=("$pid")
sleep 0.3
cp "$TARGETS/sym_exec" "$WORK/repl.new" && mv "$WORK/repl.new" "$WORK/repl"
"$ST" -q -p "$pid" -d 1.5 -o "$WORK/replaced.folded"
check_frame "binary replaced while running: the running one is named" "$WORK/replaced.folded" sym_hot_work

# Deleted, then exits while sampled: what was read while it ran still names it.
cp "$TARGETS/sym_pie" "$WORK/brief"
"$WORK/brief" hot 3 &
pid=$!; _pids+=("$pid")
sleep 0.3
rm "$WORK/brief"
"$ST" -p "$pid" -d 5 -o "$WORK/brief.txt" 2>"$WORK/brief.err"
check_grep "deleted then exited: sampletop saw the exit" 'target process exited' "$WORK/brief.err"
check_grep "deleted then exited: sym_hot_work named" 'sym_hot_work  brief$' "$WORK/brief.txt"
check_no_grep "deleted then exited: no unnamed frame" 'unknown|exited\]' "$WORK/brief.txt"

# --- another mount namespace (a private tmpfs only the process sees) ---
# unshare -m makes / private first, which fails where / is no mount point
# (a chroot): then the two namespace fixtures cannot be built.
if unshare -m true 2>"$WORK/unshare.err"; then
	mkdir -p "$WORK/ns"
	cp "$WORK/dl/app" "$WORK/ns-app"
	unshare -m sh -c "mount -t tmpfs tmpfs '$WORK/ns' && cp '$WORK/ns-app' '$WORK/ns/app' &&
		cp '$WORK/dl/app.debug' '$WORK/ns/app.debug' && exec '$WORK/ns/app' hot 5" &
	pid=$!; _pids+=("$pid")
	sleep 0.5
	setup "namespace: binary not visible from here" test ! -e "$WORK/ns/app"
	"$ST" -q -p "$pid" -d 1.5 -o "$WORK/ns.folded"
	check_frame "mount namespace: stripped binary and its debuglink read via /proc/PID/root" \
		"$WORK/ns.folded" sym_hot_work
else
	skip "unshare -m fails here ($(head -1 "$WORK/unshare.err")): no mount namespace test"
fi

# Hostile files: a FIFO where the debug file should be must not hang us, and a
# symlink inside the container must not lead us to our own files.
mkdir -p "$WORK/fifo"
cp "$WORK/dl/app" "$WORK/fifo/app"
mkfifo "$WORK/fifo/app.debug"
"$WORK/fifo/app" hot 5 &
pid=$!; _pids+=("$pid")
sleep 0.3
timeout 20 "$ST" -q -p "$pid" -d 1 -o "$WORK/fifo.folded"; rc=$?
check "a FIFO named like the debug file: no hang (exit $rc)" test "$rc" -eq 0
check_grep "a FIFO named like the debug file: [unknown] app (fn@0x...)" '\[unknown\] app \(fn@0x' "$WORK/fifo.folded"
if unshare -m true 2>/dev/null; then
	mkdir -p "$WORK/ns2/hidden"
	cp "$WORK/dl/app.debug" "$WORK/ns2/hidden/app.debug"
	unshare -m sh -c "mount -t tmpfs tmpfs '$WORK/ns2' && cp '$WORK/dl/app' '$WORK/ns2/app' &&
		ln -s '$WORK/ns2/hidden/app.debug' '$WORK/ns2/app.debug' && exec '$WORK/ns2/app' hot 5" &
	pid=$!; _pids+=("$pid")
	sleep 0.5
	"$ST" -q -p "$pid" -d 1 -o "$WORK/escape.folded"
	check_no_grep "a symlink in the container is resolved in the container (no host file read)" \
		'sym_hot_work' "$WORK/escape.folded"
	check_grep "... so the frame stays [unknown] app (fn@0x...)" '\[unknown\] app \(fn@0x' "$WORK/escape.folded"
else
	skip 2 "unshare -m fails here ($(head -1 "$WORK/unshare.err")): no symlink-in-a-container test"
fi

# --- JIT: perf map, re-read as it grows, namespace pid and private /tmp ---
# Sampled until the target exits, so both halves are seen even on a slow start.
PROF_D=30 prof "$WORK/jit.json" -- "$TARGETS/sym_pie" jit 6
"$ST" report "$WORK/jit.json" -f folded -o "$WORK/jit.folded"
"$ST" report "$WORK/jit.json" --counters -o "$WORK/jit.txt"
check_frame "perf map: first JIT function named" "$WORK/jit.folded" jit_first_fn
check_frame "perf map re-read as it grows: second JIT function named" "$WORK/jit.folded" "jit_second_fn [grown]"
check_grep "perf map: its two malformed lines counted (--counters)" '^  jit_map_lines_skipped +2  ' "$WORK/jit.txt"
# Names are bytes from the target: escaped when shown, never raw.
PROF_D=30 prof "$WORK/jitesc.txt" --show-all -- "$TARGETS/sym_pie" jit 3 $'evil\033[31mred\x01\xff'
check_grep "hostile JIT name escaped in the text report" 'evil\\x1b\[31mred\\x01\\xff  \[jit\]$' "$WORK/jitesc.txt"
check_no_grep "no raw escape byte reaches the report" $'\033' "$WORK/jitesc.txt"
if unshare -p -f -m --mount-proc true 2>/dev/null; then
	rm -f /tmp/perf-1.map /tmp/perf-2.map
	# The namespace gets its own /tmp: run the target from outside /tmp, or
	# a checkout under /tmp would hide it from the exec.
	nsbin=$(mktemp -d /var/tmp/sampletop-ns.XXXXXX)
	cp "$TARGETS/sym_pie" "$nsbin/sym_pie"
	unshare -p -f -m --mount-proc sh -c "mount -t tmpfs tmpfs /tmp && exec '$nsbin/sym_pie' jit 4" &
	upid=$!; _pids+=("$upid")
	# unshare forks the namespace's first process: wait until it has exec'd.
	pid=
	for _ in $(seq 100); do
		pid=$(pgrep -P "$upid" -x sym_pie | head -1)
		[ -n "$pid" ] && break
		sleep 0.1
	done
	sleep 0.3
	setup "container: the namespaced target started (pid '$pid')" test -n "$pid"
	setup "container: perf map not visible in our /tmp" test ! -e /tmp/perf-1.map
	"$ST" -q -p "$pid" -d 1.5 -o "$WORK/jitns.folded"
	check_frame "container: perf-NSPID.map in the container's /tmp" "$WORK/jitns.folded" jit_first_fn
	kill "$upid" 2>/dev/null
	wait "$upid" 2>/dev/null
	rm -rf "$nsbin"
else
	skip "unshare -p unavailable: no pid namespace test"
fi
if command -v node >/dev/null; then
	cat >"$WORK/hot.js" <<-'EOF'
	function hotloop(n) { let s = 0; for (let i = 0; i < n; i++) { s += i % 7; } return s; }
	const end = Date.now() + 30000; let t = 0; while (Date.now() < end) t += hotloop(1e6);
	EOF
	# Building node's unwind table takes seconds under ASan: node outlives that.
	PROF_D=3 prof "$WORK/node.folded" -- env -C "$WORK" node --perf-basic-prof "$WORK/hot.js"
	# The name is V8's, from its perf map, and differs by version: node 18
	# writes LazyCompile:*hotloop FILE:1, node 20 JS:*hotloop FILE:1:COLUMN.
	check_grep "node --perf-basic-prof: JS function named" "(^|;)[A-Za-z]+:[*~^+]?hotloop $WORK/hot.js:1(:[0-9]+)?( [0-9]+$|;)" "$WORK/node.folded"
else
	skip "node absent: no --perf-basic-prof test"
fi
py=$(ls -d ~/.pyenv/versions/3.1[2-9]*/bin/python3.1[2-9] 2>/dev/null | head -1)
[ -z "$py" ] && py=$(command -v python3.12 || true)
# Whether the interpreter can run with -X perf (3.12+, built with the perf
# trampoline): a question for it, not for sampletop's output.
if [ -n "$py" ] && ! "$py" -X perf -c 'import sys; sys.exit(not sys.is_stack_trampoline_active())' 2>/dev/null; then
	skip "python -X perf: $py has no perf trampoline (sys.is_stack_trampoline_active())"
elif [ -n "$py" ]; then
	cat >"$WORK/hot.py" <<-'EOF'
	import time
	def hot_python_fn(n):
	    s = 0
	    for i in range(n):
	        s += i % 7
	    return s
	end = time.time() + 30
	while time.time() < end:
	    hot_python_fn(100000)
	EOF
	PROF_D=3 prof "$WORK/py.folded" -- "$py" -X perf "$WORK/hot.py"
	check_grep "python -X perf: Python function named" "(^|;)py::hot_python_fn:$WORK/hot.py( [0-9]+$|;)" "$WORK/py.folded"
else
	skip "python 3.12+ absent: no -X perf test"
fi

# --- C++ and Rust names ---
if command -v g++ >/dev/null; then
	g++ "${FP[@]}" -o "$TARGETS/sym_cpp" "$SRC/symbols_cpp.cpp" || bail "g++ cannot build symbols_cpp.cpp"
	prof "$WORK/cpp.folded" -- "$TARGETS/sym_cpp" 5
	check_frame "C++: template method in a namespace demangled" "$WORK/cpp.folded" \
		"sampletop_test::Box<long>::spin(long)"
	prof "$WORK/cppm.folded" --no-demangle -- "$TARGETS/sym_cpp" 5
	check_frame "--no-demangle keeps the mangled name" "$WORK/cppm.folded" _ZN14sampletop_test3BoxIlE4spinEl
else
	skip 2 "g++ absent: no C++ test"
fi
if command -v rustc >/dev/null; then
	rustc -O -g -C force-frame-pointers=yes -o "$TARGETS/sym_rs" "$SRC/symbols_rs.rs" 2>"$WORK/rustc.err"
	prof "$WORK/rs.folded" -- "$TARGETS/sym_rs" 5
	check_frame "Rust (legacy mangling) demangled" "$WORK/rs.folded" "symbols_rs::work::spin_here"
	rustc -O -g -C force-frame-pointers=yes -C symbol-mangling-version=v0 \
		-o "$TARGETS/sym_rs_v0" "$SRC/symbols_rs.rs" 2>"$WORK/rustc.err"
	setup "Rust v0 fixture has _R symbols" sh -c "nm '$TARGETS/sym_rs_v0' | grep -q ' _R.*spin_here'"
	prof "$WORK/rs0.folded" -- "$TARGETS/sym_rs_v0" 5
	check_frame "Rust v0 mangling demangled" "$WORK/rs0.folded" "symbols_rs::work::spin_here"
	# Every address of spin_here: which of them name an inlined callee
	# (core::cmp, core::iter) first depends on the rustc version.
	read -r a n _ < <(nm -S "$TARGETS/sym_rs" | awk '$4 ~ /spin_here/ { print $1, $2; exit }')
	for ((i = 0; i < 0x${n:-0}; i++)); do printf '%x\n' $((0x$a + i)); done >"$WORK/rs-addrs.txt"
	"$ST" addr2line --lines -e "$TARGETS/sym_rs" <"$WORK/rs-addrs.txt" >"$WORK/rs-lines.txt"
	check_grep "Rust --lines: absolute source path (comp_dir joined)" \
		"^symbols_rs::work::spin_here  $SRC/symbols_rs\.rs:[0-9]+\$" "$WORK/rs-lines.txt"
else
	skip 3 "rustc absent: no Rust test"
fi

# --- --lines: file:line of each function, inlined frames marked ---
prof "$WORK/lines.txt" --lines --show-all -- "$TARGETS/sym_pie" hot 5
check_grep "--lines: sym_hot_work  sym_pie  symbols.c:$decl" \
	"sym_hot_work  sym_pie  [^ ]*symbols\\.c:$decl\$" "$WORK/lines.txt"
inl=$(grep -n 'unsigned long sym_inline_leaf' "$SRC/symbols.c" | cut -d: -f1)
check_grep "--lines: inlined function marked (inlined) below its caller" \
	"sym_inline_leaf  sym_pie  [^ ]*symbols\\.c:$inl \\(inlined\\)\$" "$WORK/lines.txt"
check_no_grep "without --lines: no inlined frames" 'sym_inline_leaf' "$WORK/pie.folded"

# --- kernel: kallsyms, and a clear warning when its addresses are hidden ---
start dd if=/dev/zero of=/dev/null bs=64k
"$ST" -q -K -p "$PID" -d 1 -o "$WORK/k.folded"
check_grep "-K: kernel frames named from kallsyms" ';[a-z_0-9.]+_\[k\]( [0-9]+$|;)' "$WORK/k.folded"
if command -v setpriv >/dev/null; then
	setpriv --bounding-set=-syslog --inh-caps=-syslog "$ST" -q -K -p "$PID" -d 1 \
		-o "$WORK/khidden.folded" 2>"$WORK/khidden.err"
	if setpriv --bounding-set=-syslog --inh-caps=-syslog head -1 /proc/kallsyms | grep -q '^0000000000000000 '; then
		check_grep "hidden kallsyms: one clear warning" \
			'^sampletop: warning: kernel addresses are hidden \(kernel.kptr_restrict, or no CAP_SYSLOG\)' "$WORK/khidden.err"
		check_grep "hidden kallsyms: kernel frames are [unknown] [kernel]+0x..., not blank" \
			'\[unknown\] \[kernel\]\+0x[0-9a-f]+' "$WORK/khidden.folded"
	else
		skip 2 "kallsyms readable without CAP_SYSLOG here (perf_event_paranoid <= 1): cannot hide it"
	fi
else
	skip 2 "setpriv absent: no hidden-kallsyms test"
fi

# --- addr2line ---
A2L=("$ST" addr2line -e "$TARGETS/sym_pie")
hot=$(nm "$TARGETS/sym_pie" | awk '$3 == "sym_hot_work" { print $1 }')
sized=$(nm "$TARGETS/sym_pie" | awk '$3 == "sized_fn" { print $1 }')
gap=$(printf '%x' $((0x$sized + 1)))	# the unnamed code right after sized_fn's 1 byte
"${A2L[@]}" "0x$hot" "$hot" "$sized" "$gap" zz >"$WORK/a2l.txt"
printf 'sym_hot_work\nsym_hot_work\nsized_fn\n??\n??\n' >"$WORK/a2l.want"
check "addr2line: names, ?? past a symbol's end and for garbage" cmp -s "$WORK/a2l.txt" "$WORK/a2l.want"
printf '%s\n0x%s\n' "$sized" "$hot" | "${A2L[@]}" >"$WORK/a2l-stdin.txt"
check "addr2line: addresses from stdin" test "$(tr '\n' ' ' <"$WORK/a2l-stdin.txt")" = "sized_fn sym_hot_work "
"${A2L[@]}" --lines "$hot" >"$WORK/a2l-lines.txt"
check_grep "addr2line --lines: file:line" "^sym_hot_work  [^ ]*symbols\\.c:[0-9]+$" "$WORK/a2l-lines.txt"
plt=$(objdump -d "$TARGETS/sym_pie" | awk '/^[0-9a-f]+ <clock_gettime@plt>:/ { print $1 }')
check "addr2line: a PLT stub is func@plt" test "$("${A2L[@]}" "$plt")" = "clock_gettime@plt"
plt=$(objdump -d "$WORK/dl/app" 2>/dev/null | awk '/^[0-9a-f]+ <clock_gettime@plt>:/ { print $1 }')
check "addr2line: PLT names kept when symbols come from a debug file" \
	test "$("$ST" addr2line -e "$WORK/dl/app" "${plt:-0}")" = "clock_gettime@plt"
if [ -x "$TARGETS/sym_cpp" ]; then
	spin=$(nm "$TARGETS/sym_cpp" | awk '$3 == "_ZN14sampletop_test3BoxIlE4spinEl" { print $1 }')
	check "addr2line demangles" test "$("$ST" addr2line -e "$TARGETS/sym_cpp" "$spin")" = \
		"sampletop_test::Box<long>::spin(long)"
	check "addr2line --no-demangle" test "$("$ST" addr2line --no-demangle -e "$TARGETS/sym_cpp" "$spin")" = \
		"_ZN14sampletop_test3BoxIlE4spinEl"
else
	skip 2 "g++ absent: addr2line not tried on C++ names"
fi
"$ST" addr2line 0x10 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "addr2line without -e: exit 2 (got $rc)" test "$rc" -eq 2
finish

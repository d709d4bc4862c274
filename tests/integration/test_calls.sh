# --scope on a Python function, end to end: the real BPF program (wall
# mode) on a http.server.ThreadingHTTPServer whose slow path sleeps 200 ms
# then computes ~50 ms and whose fast path computes ~1 ms, driven by a
# client here, for every CPython of this machine (pyenv 3.10-3.13, Debian's
# python3.11). Scoped on the handler method, each call is a unit: counted,
# timed, and written as its own report when slower than --slower-than.
. "$(dirname "$0")/../lib.sh"
plan 52

T=$TOP/tests/targets
PER_PYTHON=7
N_SLOW=4
N_FAST=8

find_pythons $PER_PYTHON

# folded_share FILE ERE: percentage of the weight on lines with a frame matching ERE.
folded_share() {
	awk -v re="^($2)\$" '{ n = $NF; t += n; line = $0; sub(/ [0-9]+$/, "", line);
		k = split(line, fr, ";"); for (i = 1; i <= k; i++) if (fr[i] ~ re) { h += n; break } }
		END { printf "%.1f\n", t ? 100 * h / t : 0 }' "$1"
}

last=
k=0
for py in "${pythons[@]}"; do
	k=$((k + 1))
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	tag="$py ($v)"
	out=$WORK/calls-$k
	rm -f "$WORK/port"
	start "$py" "$T/py_http.py" "$WORK/port"
	for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
	port=$(cat "$WORK/port")
	# The aggregate goes to stdout (-o is a pattern): the text report.
	"$ST" -p "$PID" --scope Handler.do_GET --slower-than 150ms -d 6 \
		-o "$out/%n-%d.folded" >"$WORK/agg.txt" 2>"$WORK/err.txt" &
	stp=$!
	wait_sampling "$WORK/err.txt" || echo "# sampletop did not start: $(cat "$WORK/err.txt")"
	sleep 0.5
	python3 "$T/py_http_client.py" "$port" $N_SLOW $N_FAST "$WORK/client.txt"
	wait $stp
	kill "$PID"
	last=$out

	n=$(sed -n 's/^Calls of Handler\.do_GET: \([0-9]*\) calls.*/\1/p' "$WORK/agg.txt")
	check "$tag: calls counted = requests sent ($((N_SLOW + N_FAST)), got '$n')" \
		test "${n:-0}" -eq $((N_SLOW + N_FAST))
	[ "${n:-0}" -eq $((N_SLOW + N_FAST)) ] || { sed -n '2,3p;/^Calls of/,/^Slowest/p' "$WORK/agg.txt";
		grep -E '^call [0-9]+:' "$WORK/agg.txt"; cat "$WORK/client.txt"; } | sed 's/^/#   /'

	files=$(ls "$out" 2>/dev/null | grep -c '\.folded$')
	check "$tag: --slower-than 150ms wrote each slow call, only those ($N_SLOW, got $files)" \
		test "$files" -eq $N_SLOW
	# Durations (%d in the names, ms) against the client's timings, both sorted.
	ls "$out" | sed 's/^[0-9]*-\([0-9]*\)\.folded$/\1/' | sort -n >"$WORK/durs.txt"
	awk '$1 == "slow" { print $2 }' "$WORK/client.txt" | sort -n >"$WORK/client_slow.txt"
	check "$tag: slow calls within 10% of the client's timings ($(paste -sd' ' "$WORK/durs.txt") ms vs $(paste -sd' ' "$WORK/client_slow.txt"))" \
		awk 'NR == FNR { d[FNR] = $1; n = FNR; next } { c[FNR] = $1; m = FNR }
			END { if (n != m || n == 0) exit 1
			      for (i = 1; i <= n; i++) if (d[i] < 0.9 * c[i] || d[i] > 1.1 * c[i]) exit 1 }' \
		"$WORK/durs.txt" "$WORK/client_slow.txt"
	# The least disturbed slow call (the shortest): its own tree.
	f=$(ls "$out" | sort -t- -k2 -n | head -1)
	# 3.10's time.sleep waits in select(): "[polling]" there.
	sleep_re='\[sleeping\]'
	[ "$v" = 3.10 ] && sleep_re='\[sleeping\]|\[polling\]'
	if [ -n "$f" ]; then
		s=$(folded_share "$out/$f" "$sleep_re")
		c=$(folded_share "$out/$f" 'compute( .*)?')
	else
		s=0 c=0
	fi
	check "$tag: a slow call's tree: the sleep about 80% (got $s%)" within "$s" 70 90
	check "$tag: ... and the compute about 20% (got $c%)" within "$c" 10 30
	check_grep "$tag: the aggregate's calls section has the histogram's 200-500 ms bin" \
		"^  200-500 ms +$N_SLOW " "$WORK/agg.txt"
	check_no_grep "$tag: no time outside the handler in the aggregate (serve_forever's wait)" \
		'serve_forever' "$WORK/agg.txt"
done

# A native FUNC through the same options: the uprobes of bpf/scope.bpf.h on
# scope_work's handle_request (2 threads x 12 calls, 20 ms of CPU or a 30 ms
# sleep each), timed by the program itself.
build_target scope_work scope_work.c -O1 -g -fno-inline -fno-optimize-sibling-calls
"$ST" -q --scope handle_request --slowest 3 --slower-than 25ms -o "$WORK/nat/%n.txt" \
	-- "$TARGETS/scope_work" 12 2 - >"$WORK/nat.out" 2>"$WORK/nat.err"
grep -E '^call [0-9]+ [0-9]+ [0-9]+ [0-9]+$' "$WORK/nat.out" >"$WORK/nat.work"
n=$(sed -n 's/^Calls of handle_request: \([0-9]*\) calls.*/\1/p' "$WORK/nat.out")
check "native: calls counted = the program's ($(wc -l <"$WORK/nat.work"), got '$n')" \
	test "${n:-0}" -eq "$(wc -l <"$WORK/nat.work")"
sed -n 's/^call [0-9]*: \([0-9.]*\) ms, .*/\1/p' "$WORK/nat.out" | sort -n >"$WORK/nat.kept"
awk '{ print $5 / 1e6 }' "$WORK/nat.work" | sort -n | tail -3 >"$WORK/nat.prog"
check "native: the 3 slowest kept, each within 2 ms of the program's clock ($(paste -sd' ' "$WORK/nat.kept") vs $(paste -sd' ' "$WORK/nat.prog"))" \
	awk 'NR == FNR { d[FNR] = $1; n = FNR; next } { if (FNR > n || d[FNR] - $1 > 2 || $1 - d[FNR] > 2) bad = 1; m = FNR }
		END { exit bad || n != 3 || m != 3 }' "$WORK/nat.kept" "$WORK/nat.prog"
slow=$(awk '$5 > 25e6' "$WORK/nat.work" | wc -l)
check "native: --slower-than 25ms wrote one file per slower call ($slow, got $(ls "$WORK/nat" 2>/dev/null | wc -l))" \
	test "$(ls "$WORK/nat" 2>/dev/null | wc -l)" -eq "$slow"
f=$(ls "$WORK/nat" 2>/dev/null | head -1)
check_grep "native: a call's own report names the call and its sleep" '^call [0-9]+ of handle_request' \
	"$WORK/nat/${f:-none}"
# The uretprobe replaced each call's return address with its trampoline (the
# "[uprobes]" page); the stack walk maps it back, so a call's tree reaches
# its callers (worker, under main or the thread's start) instead of ending
# in an "[unknown] [unmapped]" root, and the recursion (every third call
# nests twice: three trampolines on one stack) shows three levels.
check "native: no '[unknown] [unmapped]' frame in the scoped tree (the uretprobe trampoline mapped back: $(grep -c '\[unmapped\]' "$WORK/nat.out") lines)" \
	test "$(grep -c '\[unmapped\]' "$WORK/nat.out")" -eq 0
check "native: the tree reaches the callers: worker under main and under the thread start" \
	awk '/ main  scope_work$/ { m = 1 } m && / worker  scope_work$/ { w1 = 1; m = 0 }
		/^[0-9.]+ clone3?  / { c = 1 } c && / worker  scope_work$/ { w2 = 1; c = 0 }
		END { exit !(w1 && w2) }' "$WORK/nat.out"
check "native: recursion: handle_request nested three deep under worker (three trampolines on one stack)" \
	awk '/^Calls of / { exit } / worker  scope_work$/ { d = 0; last = 0; next }
		/ handle_request  scope_work$/ { p = index($0, "handle_request")
			if (p > last) { last = p; if (++d >= 3) found = 1 } } END { exit !found }' "$WORK/nat.out"

# The HTML page of a scoped run: the calls table, each kept call's tree.
"$ST" -q --scope handle_request --slowest 3 -o "$WORK/nat.html" -- "$TARGETS/scope_work" 6 1 - >/dev/null
check_grep "html: the calls section with the function's summary" \
	'^<h2>Calls of handle_request</h2>$' "$WORK/nat.html"
check "html: the table links to the 3 slowest calls' trees" \
	test "$(grep -cE '^<tr><td><a href="#call-[0-9]+">[0-9]+</a></td><td>[0-9.]+ ms</td>' "$WORK/nat.html")" -eq 3
check "html: ... and each tree is there, under its call (3)" \
	test "$(grep -cE '^<h3 id="call-[0-9]+">call [0-9]+: [0-9.]+ ms' "$WORK/nat.html")" -eq 3

# Once (the last interpreter's run): what the files say, and bad usage.
if [ -n "$last" ]; then
	f=$(ls "$last" 2>/dev/null | head -1)
	check "a call's own report is a folded file of the handler alone" \
		test -n "$f" -a "$(grep -cv 'Handler.do_GET' "$last/$f" 2>/dev/null)" = 0
else
	skip "no CPython 3.10-3.13 on this machine"
fi
"$ST" -p 1 --slower-than 1s -d 1 >/dev/null 2>"$WORK/e1.txt"
check_grep "--slower-than without --scope: a usage error" 'about calls: give --scope FUNC' "$WORK/e1.txt"
"$ST" -p 1 --scope f --slower-than 1s -d 1 >/dev/null 2>"$WORK/e2.txt"
check_grep "--slower-than without a pattern in -o: a usage error" "give -o a pattern, like 'calls/%n.html'" "$WORK/e2.txt"
"$ST" -p 1 --scope f --slower-than 2parsecs -d 1 >/dev/null 2>"$WORK/e3.txt"
check_grep "--slower-than with an unknown unit: a usage error" 'slower-than 2parsecs: unknown unit' "$WORK/e3.txt"
"$ST" -p 1 --scope f -o 'x/%q.txt' -d 1 >/dev/null 2>"$WORK/e4.txt"
check_grep "-o with an unknown %: a usage error" 'an unknown % in the pattern' "$WORK/e4.txt"
"$ST" -p 1 --scope A.b --scope c -d 1 >/dev/null 2>"$WORK/e5.txt"
check_grep "native and Python --scope functions together: a usage error" 'cannot be scoped together' "$WORK/e5.txt"
rc=0; "$ST" -a --scope f -d 1 >/dev/null 2>"$WORK/e6.txt" || rc=$?
check "a native --scope without -p or a command: exit 2 ($rc)" test "$rc" -eq 2
finish

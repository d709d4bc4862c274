# Bad command lines through the real binary: each gets exit status 2, one
# line on stderr naming the option, its value and what it takes, nothing on
# stdout, and no -o file (an earlier report at the path is not truncated
# either). The full table of messages is in tests/unit/test_cli.c.
. "$(dirname "$0")/../lib.sh"
plan 33

O=$WORK/out.json
max=$(cat /proc/sys/kernel/perf_event_max_sample_rate 2>/dev/null || echo 100000)
lastcpu=$(($(getconf _NPROCESSORS_CONF) - 1))
[ -r /sys/devices/system/cpu/possible ] &&
	lastcpu=$(sed -E 's/.*[-,]//' /sys/devices/system/cpu/possible)

# bad WANT ARGS...: sampletop ARGS fails as a usage error with exactly WANT.
bad() {
	local want=$1 rc why=
	shift
	rm -f "$O"
	# timeout: a command line wrongly accepted must not sample for long.
	timeout 20 "$ST" "$@" >"$WORK/stdout" 2>"$WORK/stderr"
	rc=$?
	[ "$rc" -eq 2 ] || why="$why exit $rc;"
	[ "$(wc -l <"$WORK/stderr")" -eq 1 ] || why="$why $(wc -l <"$WORK/stderr") stderr lines;"
	[ "$(cat "$WORK/stderr")" = "$want" ] || why="$why another message;"
	[ -s "$WORK/stdout" ] && why="$why output on stdout;"
	[ -e "$O" ] && why="$why $O created;"
	if [ -z "$why" ]; then
		ok "$want"
	else
		not_ok "$want:$why"
		sed 's/^/#   got: /' "$WORK/stderr" | head -5
	fi
}

# Record: the parser's checks.
bad "sampletop: -F 0: must be 1 to $max (kernel.perf_event_max_sample_rate)" -o "$O" -a -F 0
bad "sampletop: -F 99999999: must be 1 to $max (kernel.perf_event_max_sample_rate)" \
	-o "$O" -a -F 99999999
bad "sampletop: --freq abc: not a number (samples per second, 1 to $max)" -o "$O" -a --freq abc
bad "sampletop: -F: needs a value (samples per second, 1 to $max)" -o "$O" -a -F
bad "sampletop: -p 0: not a process id (a number above 0, or a list like 12,34)" -o "$O" -p 0
bad "sampletop: -t x: not a thread id (a number above 0, or a list like 12,34)" -o "$O" -t x
bad "sampletop: -C 2-x: not a CPU list (CPU numbers and ranges, like 0,2-3)" -o "$O" -a -C 2-x
bad "sampletop: -C 0,4096: no CPU 4096 (this machine has CPUs 0 to $lastcpu)" -o "$O" -a -C 0,4096
bad "sampletop: -d 0: must be 0.001 to 31536000 seconds (a year)" -o "$O" -a -d 0
bad "sampletop: --duration 5m: not a number (seconds, like 10 or 0.5)" -o "$O" -a --duration 5m
bad "sampletop: --comm a,,b: an empty name (process names, separated by commas)" -o "$O" --comm a,,b
bad "sampletop: --unwind frames: unknown mode (auto, dwarf or fp)" -o "$O" -a --unwind frames
bad "sampletop: --python yes: unknown mode (merge, only or off)" -o "$O" -a --python yes
bad "sampletop: -f svg: unknown format (text, folded, json, html, speedscope or pprof)" \
	-o "$O" -a -f svg
bad "sampletop: --hide '': an empty pattern (a glob, like 'malloc*')" -o "$O" -a --hide ''
bad "sampletop: --min-percent 101: must be 0 to 100 (a percentage)" -o "$O" -a --min-percent 101
bad "sampletop: --frobnicate: unknown option (see sampletop --help)" -o "$O" -a --frobnicate
bad "sampletop: --tui=yes: takes no value" -o "$O" -a --tui=yes
bad "sampletop: top: unexpected argument (put a command to profile after --)" -o "$O" -a top
# Record: the checks against the system, after parsing.
bad "sampletop: -p 999999999: no such process" -o "$O" -p 999999999 -d 1
bad "sampletop: -t 999999999: no such thread" -o "$O" -t 999999999 -d 1
bad "sampletop: -u no-such-user-here: no such user (a user name or a numeric uid)" \
	-o "$O" -u no-such-user-here -d 1
bad "sampletop: --as-user no-such-user-here: no such user (a user name)" \
	-o "$O" --as-user=no-such-user-here -d 1 -- true

# report, diff and addr2line (the profile files need not exist: options come first).
bad "sampletop: -f svg: unknown format (text, folded, json, html, speedscope or pprof)" \
	report "$WORK/p.json" -o "$O" -f svg
bad "sampletop: --min-percent x: not a number (a percentage, 0 to 100)" \
	report "$WORK/p.json" -o "$O" --min-percent x
bad "sampletop: --pid: not an option of sampletop report (see sampletop report --help)" \
	report "$WORK/p.json" -o "$O" --pid 1
bad "sampletop: report wants one saved profile, a .json report, or a clickhouse:// store (see sampletop report --help)" \
	report -o "$O"
bad "sampletop: -f json: not a diff format (diff writes text or html)" \
	diff "$WORK/a.json" "$WORK/b.json" -o "$O" -f json
bad "sampletop: -o $O: diff writes text or html, not json" diff "$WORK/a.json" "$WORK/b.json" -o "$O"
bad "sampletop: -e '': an empty file name (an executable or library)" addr2line -e '' 0x1

# A value that could drive the terminal is shown escaped.
bad 'sampletop: -F \x1b]0;pwned\x07: not a number (samples per second, 1 to '"$max)" \
	-o "$O" -a -F $'\e]0;pwned\a'

# An earlier report at the -o path survives a bad option.
echo '{"earlier": "report"}' >"$WORK/keep.json"
"$ST" -o "$WORK/keep.json" -u no-such-user-here -d 1 >/dev/null 2>&1
check "a bad -u leaves the earlier -o file alone" grep -q earlier "$WORK/keep.json"
echo '{"earlier": "report"}' >"$WORK/keep.json"
"$ST" -o "$WORK/keep.json" -a -F 0 >/dev/null 2>&1
check "a bad -F leaves the earlier -o file alone" grep -q earlier "$WORK/keep.json"
finish

# The live view in a real terminal: tmux runs build/sampletop against a real
# target with known hot functions; we type keys and read the screen.
. "$(dirname "$0")/../lib.sh"
plan 137

command -v tmux >/dev/null || bail "the live view needs tmux to be tested (scripts/deps.sh --test installs it)"

build_target hot_fp hot.c -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-shrink-wrap
start "$TARGETS/hot_fp" 0
HOT=$PID

# A tmux server of our own, so other sessions on the machine are untouched.
TM=(tmux -L "sampletop-ui-$$" -f /dev/null)
ui_cleanup() { "${TM[@]}" kill-server 2>/dev/null; cleanup; }
trap ui_cleanup EXIT

SCREEN=$WORK/screen
# session W H: a fresh shell in a W x H terminal with a known prompt.
# The old session goes after the new one is up, so the server never empties.
S=
NS=0
session() {
	local old=$S
	NS=$((NS + 1))
	S=ui$NS
	"${TM[@]}" new-session -d -s "$S" -x "$1" -y "$2" "env PS1='ui-prompt\$ ' bash --norc --noprofile"
	"${TM[@]}" set-option -t "$S" status off >/dev/null
	[ -n "$old" ] && "${TM[@]}" kill-session -t "$old"
	sleep 0.3
}
keys() { "${TM[@]}" send-keys -t "$S" "$@"; }
run() { keys "$*" Enter; }
snap() { "${TM[@]}" capture-pane -p -t "$S" "$@" >"$SCREEN"; }
# wait_for ERE [SECONDS]: until the screen shows a line matching ERE.
wait_for() {
	local i
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		snap
		grep -qE -- "$1" "$SCREEN" && return 0
		sleep 0.1
	done
	return 1
}
# screen_has DESCRIPTION ERE [SECONDS]
screen_has() {
	if wait_for "$2" "${3:-5}"; then ok "$1"; else not_ok "$1"; echo "#   no line matches /$2/ on the screen:"; sed 's/^/#   |/' "$SCREEN"; fi
}
# screen_lacks DESCRIPTION ERE: until no line matches (3 s at most).
screen_lacks() {
	local i
	for ((i = 0; i < 30; i++)); do
		snap
		grep -qE -- "$2" "$SCREEN" || break
		sleep 0.1
	done
	if ! grep -qE -- "$2" "$SCREEN"; then ok "$1"; else not_ok "$1"; echo "#   unexpected /$2/ on the screen:"; sed 's/^/#   |/' "$SCREEN"; fi
}
count_lines() { snap; grep -cE -- "$1" "$SCREEN"; }
# The TIME column of the row whose function is NAME.
row_time() { snap; awk -v f="$1" 'NR > 4 && ($4 == f || $5 == f) { print $3 + 0; exit }' "$SCREEN"; }
row_total() { snap; awk -v f="$1" 'NR > 4 && ($4 == f || $5 == f) { print $1; exit }' "$SCREEN"; }
line_of() { awk -v f="$1" 'NR > 4 && ($4 == f || $5 == f) { print NR; exit }' "$SCREEN"; }
OPEN='(▾|-)'
CLOSED='(▸|\+)'
# The header's second line: the elapsed time, then what was lost in words
# (model/summary.c), parts apart by " · " (or two spaces without UTF-8).
PART_RE='^([0-9]+:[0-9]{2}|[0-9,]+ samples( \([0-9,]+/s\))?|none lost|[0-9,]+ lost|([0-9]+%|<1%) with (partial stacks|unnamed frames)|no partial stacks|all frames named|CPU [0-9.]+ s|[0-9]+ Hz|i: counters|[0-9,]+ (process events lost|child processes not followed|objects without room for unwind tables|frames past the memory cap|samples before Python frames were read|Python processes not read))$'
# header_whole: every part of that line is whole (none cut at the edge).
header_whole() {
	snap
	sed -n 2p "$SCREEN" | sed -E 's/ +$//; s/ · |  /\n/g' >"$WORK/parts"
	[ -s "$WORK/parts" ] && ! grep -vqE "$PART_RE" "$WORK/parts"
}

# --- the live tree of a busy process, 80x24 ---
session 80 24
run "stty -g >$WORK/stty.before; $ST -p $HOT; echo exit=\$?; stty -g >$WORK/stty.after"
screen_has "header names the target" "^sampletop: pid $HOT \\(hot_fp\\)"
screen_has "header says, in words, the elapsed time, samples and rate, what was lost" \
	'^[0-9]+:[0-9]{2}( · |  )[0-9,]+ samples \([0-9,]+/s\)( · |  )(none|[0-9,]+) lost( · |  )(no|[0-9]+%|<1%) (with )?partial stacks'
screen_has "header shows the view and the window mode" 'tree by total, cumulative'
screen_has "hot path auto-expanded: main > hot_a > leaf" "$OPEN hot_a  hot_fp" 5
check_grep "the leaf under hot_a is visible" "^ +[0-9.]+ +[0-9.]+ +[0-9.]+s +(($OPEN|$CLOSED) )?leaf  hot_fp" "$SCREEN"
check_grep "hot_b is shown collapsed" "$CLOSED hot_b  hot_fp" "$SCREEN"
check_grep "column titles" '^TOTAL%  SELF%      TIME  CALL TREE' "$SCREEN"
check_grep "a key bar at the bottom" '^F1Help +/Search +fFilter +zFocus +vView' "$SCREEN"
sleep 1.5
a=$(row_total hot_a)
check "hot_a's total is about 60% (got $a)" within "${a:-0}" 50 70
check "exactly one leaf row before expanding" test "$(count_lines 'leaf  hot_fp')" -eq 1

# Library frames between main and _start are collapsed; H shows them.
screen_has "libc frames collapsed pyinstrument-style" '^ +\[[0-9]+ frames? hidden\] libc\.so\.6$'
hidden=$(count_lines '  libc\.so\.6$')
keys H
screen_has "H: the status line says library frames are shown" 'Library frames shown'
screen_lacks "H: no [N frames hidden] line" 'frames? hidden\]'
check "H: more libc frames on screen ($hidden before)" test "$(count_lines '  libc\.so\.6$')" -gt "$hidden"
keys H
screen_has "H again: collapsed again" 'frames? hidden\] libc\.so\.6$'

# Search jumps to hot_b; Enter expands the selected line.
keys / h o t _ b
screen_has "search prompt echoes what is typed" '^Search: hot_b_'
keys Enter
screen_has "search reports its matches" '^Search: hot_b \(1 match\)'
keys Enter
screen_has "Enter expands the line search jumped to (hot_b)" "$OPEN hot_b  hot_fp"
check "a second leaf row appears under hot_b" test "$(count_lines 'leaf  hot_fp')" -eq 2
keys -
screen_has "- collapses it again" "$CLOSED hot_b  hot_fp"
check "back to one leaf row" test "$(count_lines 'leaf  hot_fp')" -eq 1
keys Right
screen_has "Right expands" "$OPEN hot_b  hot_fp"
keys Left
screen_has "Left collapses" "$CLOSED hot_b  hot_fp"
keys Escape
screen_lacks "Esc clears the search" '^Search: '

# Views: inverted (callers below the hot function), then flat.
keys v
screen_has "v switches to the inverted view" 'inverted by total'
screen_has "inverted: leaf is a top-level row" '^ +[0-9.]+ +[0-9.]+ +[0-9.]+s  (▾|-) leaf  hot_fp'
check_grep "inverted: its caller hot_a is below it, indented" '^ +[0-9.]+ +[0-9.]+ +[0-9.]+s    (▾|-) hot_a  hot_fp' "$SCREEN"
check_grep "inverted: caller hot_b is listed too" '^ +[0-9.]+ +[0-9.]+ +[0-9.]+s    (▸|\+) hot_b  hot_fp' "$SCREEN"
check_grep "inverted: main calls hot_a" '^ +[0-9.]+ +[0-9.]+ +[0-9.]+s      (▾|-|▸|\+| ) main  hot_fp' "$SCREEN"
keys v
screen_has "v again: the flat view, by self" 'flat by self'
check_grep "flat: leaf (all the self time) comes first" '^ +(9[0-9]|100)\.[0-9] +(9[0-9]|100)\.[0-9] +[0-9.]+s +leaf  hot_fp' \
	<(sed -n 5p "$SCREEN")
keys s
screen_has "s changes the sort key" 'flat by name'
check "flat by name: hot_a above hot_b above main" \
	test "$(line_of hot_a)" -lt "$(line_of hot_b)" -a "$(line_of hot_b)" -lt "$(line_of main)"
keys s
screen_has "s again: by total" 'flat by total'
keys v
screen_has "v a third time: back to the tree" 'tree by total'

# Filter: only stacks through hot_c; focus: hot_a as the root.
keys f h o t _ c Enter
screen_has "filter is shown in the status line" '^Filter: hot_c'
screen_has "filtered tree: hot_c at 100%" '^ +100\.0 +[0-9.]+ +[0-9.]+s +(▾|-) hot_c  hot_fp'
screen_lacks "filtered tree: no hot_a" 'hot_a  hot_fp'
keys f BSpace BSpace BSpace BSpace BSpace Enter
screen_has "clearing the filter brings hot_a back" 'hot_a  hot_fp'
keys g / h o t _ a Enter z
screen_has "z focuses: the status line names the focus" '^Focus: hot_a'
screen_has "focused: hot_a is the root at 100%" '^ +100\.0 +[0-9.]+ +[0-9.]+s  (▾|-) hot_a  hot_fp'
screen_lacks "focused: main is gone" 'main  hot_fp'
keys u
screen_has "u backs out of the focus" 'main  hot_fp'

# Pause freezes the tree while sampling goes on; space resumes.
keys Space
screen_has "space pauses (the header says so)" 'PAUSED'
t1=$(row_time main)
sleep 2.3
t2=$(row_time main)
check "paused: main's time stays at $t1 (got $t2)" test -n "$t1" -a "$t1" = "$t2"
keys Space
sleep 1.5
t3=$(row_time main)
check "resumed: main's time grows ($t2 -> $t3)" awk -v a="${t2:-0}" -v b="${t3:-0}" 'BEGIN { exit !(b > a) }'
screen_lacks "resumed: no PAUSED" 'PAUSED'
keys r
sleep 1.3
t4=$(row_time main)
check "r resets the counts (main's time $t3 -> $t4)" awk -v a="${t3:-0}" -v b="${t4:--1}" 'BEGIN { exit !(b >= 0 && b < a) }'
keys d
screen_has "d switches to a decaying window" 'tree by total, decaying'
keys d

# Grouping by process.
keys p
screen_has "p groups by process" "(▾|-) hot_fp \\[$HOT\\]"
keys p
screen_lacks "p again ungroups" "hot_fp \\[$HOT\\]"
keys K
screen_has "K without -K explains why" 'No kernel stacks recorded \(start with -K\)'
keys Escape

# Help lists every key; any key returns.
keys '?'
screen_has "? opens the help screen" '^sampletop keys'
check_grep "help lists the search key" '^ /  +search' "$SCREEN"
keys End
wait_for 'quit' 2
check_grep "help scrolls to the quit key" 'q F10 +quit' "$SCREEN"
keys x
screen_has "any key leaves the help screen" '^TOTAL%'

# i: every counter behind the header's words, with its meaning.
keys i
screen_has "i opens the counters screen" '^sampletop counters'
check_grep "it lists each counter with its value and meaning" '^  lost_ringbuf_full +[0-9,]+  samples dropped' "$SCREEN"
keys x
screen_has "any key leaves the counters screen" '^TOTAL%'

# At any width the header drops whole parts, the least important first,
# never cutting one.
for w in 130 80 60; do
	"${TM[@]}" resize-window -t "$S" -x "$w" -y 24
	sleep 1.3
	snap
	check "$w columns: the header's second line is whole parts ($(sed -n 2p "$SCREEN" | sed -E 's/ +$//'))" header_whole
	cp "$SCREEN" "$WORK/screen.$w"
done
check_grep "130 columns: room for the CPU time, the frequency and the i hint" \
	'CPU [0-9.]+ s( · |  )1000 Hz( · |  )i: counters$' <(sed -n 2p "$WORK/screen.130")
check_grep "60 columns: the samples and the lost kept, the least important left out" \
	'^[0-9]+:[0-9]{2}( · |  )[0-9,]+ samples \([0-9,]+/s\)( · |  )(none|[0-9,]+) lost(( · |  )(no|[0-9]+%|<1%) (with )?partial stacks)?$' \
	<(sed -n 2p "$WORK/screen.60" | sed -E 's/ +$//')
"${TM[@]}" resize-window -t "$S" -x 80 -y 24

# Tiny terminal: resize to 40x10 and back.
"${TM[@]}" resize-window -t "$S" -x 40 -y 10
sleep 1.3
snap
# sampletop's layout, not tmux's pane: the header on line 1, tree rows down to
# line 9, the key bar on line 10 (a layout for another height leaves blank
# lines or loses the key bar).
check "40x10: sampletop fills the 10 lines (header, tree rows down to line 9, key bar on 10)" \
	awk 'NR == 1 && !/^sampletop: / { bad = 1 } NR == 9 && !/ (hot_fp|libc\.so\.6)$/ { bad = 1 }
		NR == 10 && !/^F1Help/ { bad = 1 } END { exit bad || NR != 10 }' "$SCREEN"
screen_has "40x10: the tree is still drawn" 'hot_a +hot_fp|main +hot_fp'
check_grep "40x10: the header still names the view" 'tree/total cum$' <(head -n1 "$SCREEN")
check_grep "40x10: the key bar is on the last line" '^F1Help' <(tail -n1 "$SCREEN")
running() { pgrep -f "^$ST -p $HOT\$" >/dev/null; }
check "40x10: sampletop still runs" running
"${TM[@]}" resize-window -t "$S" -x 12 -y 3
sleep 1.3
check "12x3: sampletop still runs" running
"${TM[@]}" resize-window -t "$S" -x 80 -y 24
screen_has "back at 80x24: full header again" '[0-9,]+ samples \([0-9,]+/s\)'

# Mouse: a click selects a line, a click on the selected line opens it.
# (xterm X10 mouse reports, as the terminal sends them.)
click() {
	local cx cy
	cx=$(printf "\\x$(printf %x $((33 + $1)))")
	cy=$(printf "\\x$(printf %x $((33 + $2)))")
	keys -l $'\e[M '"$cx$cy"
	keys -l $'\e[M#'"$cx$cy"
}
wait_for "$CLOSED hot_b  hot_fp" 3
leaves=$(count_lines 'leaf  hot_fp')
y=$(($(line_of hot_b) - 1))
click 20 "$y"
sleep 0.5
"${TM[@]}" capture-pane -e -p -t "$S" | sed -n "$((y + 1))p" >"$WORK/ansi"
check_grep "a click selects hot_b (drawn in the selection colour)" $'\033\\[[0-9;]*46m.*hot_b' "$WORK/ansi"
check "the click did not open it" test "$(count_lines 'leaf  hot_fp')" -eq "$leaves"
snap
y=$(($(line_of hot_b) - 1))
click 20 "$y"
screen_has "a second click opens it" "$OPEN hot_b  hot_fp"
check "hot_b's leaf is shown" test "$(count_lines 'leaf  hot_fp')" -eq $((leaves + 1))

# q exits cleanly and gives the terminal back.
keys q
screen_has "q exits with status 0" '^exit=0$'
screen_has "the shell prompt is back" '^ui-prompt\$ ?$'
check "the terminal modes are restored (stty -g before == after)" cmp -s "$WORK/stty.before" "$WORK/stty.after"

# --- a 40x10 terminal from the start, NO_COLOR, -o written on q ---
session 40 10
run "NO_COLOR=1 $ST -p $HOT -o $WORK/live.txt; echo exit=\$?"
screen_has "40x10 from the start: header" '^sampletop: pid'
screen_has "40x10 from the start: hot_a visible" 'hot_a'
"${TM[@]}" capture-pane -e -p -t "$S" >"$WORK/ansi"
check_no_grep "NO_COLOR: no colour escapes on the screen" $'\033\\[[0-9;]*(3[0-7]|4[0-7]|38;|48;)[0-9;]*m' "$WORK/ansi"
check_grep "NO_COLOR: the selection is still visible (reverse video)" $'\033\\[[0-9;]*7m' "$WORK/ansi"
keys q
screen_has "q with -o: exit 0" '^exit=0$'
check_grep "q with -o: the report is written" 'hot_a  hot_fp' "$WORK/live.txt"

session 80 24
run "$ST -p $HOT; echo exit=\$?"
screen_has "colour by default" 'hot_a'
"${TM[@]}" capture-pane -e -p -t "$S" >"$WORK/ansi"
check_grep "heat colours on a colour terminal" $'\033\\[[0-9;]*3[1-3]m' "$WORK/ansi"
sp=$(pgrep -f "^$ST -p $HOT\$" | head -1)
kill -TERM "$sp"
screen_has "SIGTERM: the view closes, exit 0" '^exit=0$'
screen_has "SIGTERM: the shell prompt is back" '^ui-prompt\$ ?$'

# Ctrl-C closes the view like q.
run "clear; $ST -p $HOT; echo exit=\$?"
screen_has "Ctrl-C test: the view is up" "hot_a  hot_fp"
keys C-c
screen_has "Ctrl-C: exit 0" '^exit=0$'

# A launched command: the view stays up after it exits and says so.
run "clear; $ST -- $TARGETS/hot_fp 1.5; echo exit=\$?"
screen_has "-- COMMAND: its tree is shown" "hot_a  hot_fp"
screen_has "-- COMMAND: its exit is reported, the view stays" '^The command exited with status 0\.' 6
keys q
screen_has "-- COMMAND: q exits 0" '^exit=0$'

# A command that forks many processes of one program: one top row for the
# program with their total, expandable to the processes; P puts each on top.
ROW='^ +[0-9.]+ +[0-9.]+ +[0-9.]+s  '
run "clear; $ST -- sh -c 'for i in 1 2 3 4 5 6; do $TARGETS/hot_fp 0.2; done'; echo exit=\$?"
screen_has "-- COMMAND that forks: one top row 'hot_fp [6 processes]'" \
	"$ROW($OPEN|$CLOSED) hot_fp \\[6 processes\\]\$" 15
screen_has "-- COMMAND that forks: its exit is reported" '^The command exited with status 0\.' 6
keys Home +
sleep 0.5
n=$(count_lines "$ROW  ($OPEN|$CLOSED) hot_fp \\[[0-9]+\\]\$")
check "-- COMMAND that forks: expanded, its 6 processes one level below (got $n)" test "$n" -eq 6
keys P
screen_lacks "P: no program row" 'processes\]'
n=$(count_lines "$ROW($OPEN|$CLOSED) hot_fp \\[[0-9]+\\]\$")
check "P: the 6 processes are top rows (got $n)" test "$n" -eq 6
keys q
screen_has "-- COMMAND that forks: q exits 0" '^exit=0$'

# --no-color: no colours even on a colour terminal.
run "clear; $ST --no-color -p $HOT; echo exit=\$?"
screen_has "--no-color: the view is up" "hot_a  hot_fp"
"${TM[@]}" capture-pane -e -p -t "$S" >"$WORK/ansi"
check_no_grep "--no-color: no colour escapes" $'\033\\[[0-9;]*(3[0-7]|4[0-7]|38;|48;)[0-9;]*m' "$WORK/ansi"
keys q
screen_has "--no-color: q exits 0" '^exit=0$'

# Kernel frames, when recorded, can be hidden and shown again.
start dd if=/dev/zero of=/dev/null bs=64k
run "clear; $ST -K -p $PID; echo exit=\$?"
screen_has "-K: kernel frames are shown, marked [kernel]" '\[kernel\]$' 6
keys K
screen_lacks "K hides the kernel frames" '\[kernel\]$'
keys K
screen_has "K again shows them" '\[kernel\]$'
keys q
screen_has "-K: q exits 0" '^exit=0$'
kill "$PID"

# A saved profile opened in the view (report --tui): same tree, nothing sampled.
"$ST" -q -p "$HOT" -d 2 -o "$WORK/saved.json"
run "clear; $ST report $WORK/saved.json --tui -o $WORK/replay.txt; echo exit=\$?"
screen_has "report --tui: the saved profile's target" "^sampletop: pid $HOT \\(hot_fp\\)"
screen_has "report --tui: says it is a saved profile" '^Saved profile'
screen_has "report --tui: the hot path is open" "$OPEN hot_a  hot_fp"
keys d
screen_has "report --tui: d explains a saved profile does not change" '^A saved profile does not change'
keys v
screen_has "report --tui: the inverted view works too" 'inverted by total'
keys q
screen_has "report --tui: q exits 0" '^exit=0$'
check_grep "report --tui -o: the report is written on q" 'hot_a  hot_fp' "$WORK/replay.txt"

# The fixture's header is 105 columns: at 80 and 60 a cut would land inside
# "CPU 2.00 s" and "all frames named"; whole parts are left out instead.
for w in 80 60; do
	"${TM[@]}" resize-window -t "$S" -x "$w" -y 24
	run "clear; $ST report $TOP/tests/golden/fixture.json --tui; echo exit=\$?"
	wait_for '^sampletop: pid 100' 5
	snap
	check "fixture at $w columns: the header is whole parts ($(sed -n 2p "$SCREEN" | sed -E 's/ +$//'))" header_whole
	cp "$SCREEN" "$WORK/fx.$w"
	keys q
	wait_for '^exit=0$' 3
done
check_grep "fixture at 80 columns: everything up to the unnamed share" \
	'^0:02( · |  )2,000 samples( · |  )3 lost( · |  )no partial stacks( · |  )all frames named *$' <(sed -n 2p "$WORK/fx.80")
check_grep "fixture at 60 columns: up to the partial stacks" \
	'^0:02( · |  )2,000 samples( · |  )3 lost( · |  )no partial stacks *$' <(sed -n 2p "$WORK/fx.60")
"${TM[@]}" resize-window -t "$S" -x 80 -y 24

# Under process churn, exited processes are merged into one row per name
# ("hot_fp [exited]"; under the program's row, whose count then reads "N+":
# one of its processes stands for those merged).
( end=$((SECONDS + 20)); while [ $SECONDS -lt $end ]; do
	"$TARGETS/hot_fp" 0.03 & "$TARGETS/hot_fp" 0.03; wait; done ) &
_pids+=($!)
run "clear; SAMPLETOP_COALESCE_THREADS=20 $ST -a; echo exit=\$?"
MERGED='hot_fp \[(exited|[0-9]+\+ processes)\]'
screen_has "-a under churn: exited processes merged into one 'hot_fp [exited]' row" "$MERGED" 10
screen_lacks "-a under churn: no freed frame on the screen" '\[unused\]'
# Paused, the tree stays as it was though merges would change it (one
# about every 20 new processes, ~3 a second here), and they resume after.
keys Space
screen_has "-a under churn: space pauses" 'PAUSED'
sleep 1
snap
grep 'hot_fp' "$SCREEN" >"$WORK/paused1"
sleep 3
snap
grep 'hot_fp' "$SCREEN" >"$WORK/paused2"
check "-a under churn: the paused tree does not change in 3 s ($(wc -l <"$WORK/paused1") rows)" \
	cmp -s "$WORK/paused1" "$WORK/paused2"
keys Space
screen_lacks "-a under churn: space resumes" 'PAUSED'
screen_has "-a under churn: merged rows after the pause" "$MERGED" 10
keys q
screen_has "-a under churn: q exits 0" '^exit=0$'

# Names with control characters are shown escaped, never sent raw.
evil=$WORK/$'ev\e[2Jil\xff'
cp "$TARGETS/hot_fp" "$evil"
start "$evil" 0
run "clear; $ST -p $PID; echo exit=\$?"
screen_has "control characters and invalid UTF-8 in a name are shown escaped" '^sampletop: pid [0-9]+ \(ev\\x1b\[2Jil\\xff\)'
"${TM[@]}" capture-pane -e -p -t "$S" >"$WORK/ansi"
check_no_grep "the raw escape never reaches the terminal" $'\033\\[2J' "$WORK/ansi"
keys q
screen_has "and q still exits 0" '^exit=0$'
# --scope: the calls view, live, on a Python http.server (its handler's
# calls: 2 of ~250 ms, 2 of ~1 ms, then one more slow one while watching).
PY=$(command -v python3)
rm -f "$WORK/port"
start "$PY" "$TOP/tests/targets/py_http.py" "$WORK/port"
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
session 100 24
run "clear; $ST -p $PID --scope Handler.do_GET; echo exit=\$?"
screen_has "--scope: the live tree comes up" 'CALL TREE' 10
python3 "$TOP/tests/targets/py_http_client.py" "$(cat "$WORK/port")" 2 2 "$WORK/client.txt"
keys c
screen_has "c: the calls view, its function's count and percentiles" '^Handler\.do_GET: 4 calls · total .* · p50 .* · max 2[0-9]{2}\.[0-9] ms' 10
check_grep "c: the calls' column titles" 'DURATION +CALL +BEGAN +THREAD' "$SCREEN"
first=$(awk 'NR == 5 { print $1, $2 }' "$SCREEN")
check "the slowest call first ($first)" test "$(awk 'NR == 5 { print ($2 == "ms" && $1 >= 200) }' "$SCREEN")" = 1
python3 "$TOP/tests/targets/py_http_client.py" "$(cat "$WORK/port")" 1 0 "$WORK/client2.txt"
screen_has "calls that end join the list live (5 calls)" '^Handler\.do_GET: 5 calls' 10
keys Enter
screen_has "Enter opens the selected call's own tree" '^Call [0-9]+ of Handler\.do_GET: 2[0-9]{2}\.[0-9] ms, .*\(c: calls, a: whole tree\)'
screen_has "... its sleep, off the CPU, in its tree" '\[sleeping\]'
keys a
screen_lacks "a: back to the whole tree" '^Call [0-9]+ of Handler'
check_grep "... the aggregate's column titles" 'CALL TREE' "$SCREEN"
keys q
screen_has "--scope: q exits 0" '^exit=0$'
kill "$PID"
finish

# --wall profiles in every view, from saved files (no sampling, no root):
# the wall fixture (tests/golden/fixture-wall.json, written by
# test_report_golden from tests/unit/report_fixture.h) re-rendered by
# `sampletop report`, read by the real consumers (go tool pprof, headless
# Chromium, the live view in tmux), compared by `diff`; and the version 1
# fixture file still loading. The fixture: 2 s, two threads, 0.6 s on the
# CPU, 3.4 s off it ([sleeping] 1 s, [waiting on a lock] 1.6 s, [reading
# pipe] 0.5 s, [waiting for a CPU] 0.3 s).
. "$(dirname "$0")/../lib.sh"
plan 43

WALL=$TOP/tests/golden/fixture-wall.json
V1=$TOP/tests/golden/fixture-v1.json

# text
"$ST" report "$WALL" >"$WORK/w.txt" 2>"$WORK/err"
check "report of a wall profile: exit 0" test $? -eq 0 -a ! -s "$WORK/err"
check_grep "text: Duration beside CPU time" '^Recorded: .*   Duration: 2\.000 s   CPU time: 0\.600 s   Frequency: 100 Hz$' "$WORK/w.txt"
check_grep "text: the wall line says on and off the CPU" '^Wall-clock time: 4\.000 s in 2 threads: 0\.600 s on the CPU, 3\.400 s off it' "$WORK/w.txt"
check_grep "text: counts as intervals and samples, not ns as samples" '^60 samples, 5 off-CPU intervals · none lost · 2% of samples and intervals with partial stacks' "$WORK/w.txt"
check_grep "text: the off-CPU leaf in seconds, in words" '^ +│  └─ 1\.000 \[sleeping\]$' "$WORK/w.txt"
"$ST" report "$WALL" --color >"$WORK/c.txt"
check "text --color: off-CPU leaves in blue" grep -q $'1.000\033\\[0m \033\\[34m\\[sleeping\\]\033\\[0m' "$WORK/c.txt"
"$ST" report "$WALL" --kernel --threads >"$WORK/k.txt"
check_grep "text --kernel --threads: the kernel frame between user frames and the reason" '^ +└─ 0\.500 ksys_read  \[kernel\]$' "$WORK/k.txt"
check_grep "text --kernel --threads: the reason below it" '^ +└─ 0\.500 \[reading pipe\]$' "$WORK/k.txt"
"$ST" report "$WALL" --invert >"$WORK/i.txt"
check_grep "text --invert: the lock wait is the top leaf" '^1\.600 \[waiting on a lock\]$' "$WORK/i.txt"

# folded: microseconds
"$ST" report "$WALL" -f folded >"$WORK/w.folded"
check_grep "folded: weights in microseconds (1 s asleep: 1000000)" '^__libc_start_main;main;clock_nanosleep;\[sleeping\] 1000000$' "$WORK/w.folded"
check "folded: the weights add up to the 4 s of wall time" test "$(total_samples "$WORK/w.folded")" = 4000000

# json: the saved profile again, byte for byte
"$ST" report "$WALL" -f json -o "$WORK/again.json" -q
check "json: re-saving a version 2 file gives the same bytes" cmp -s "$WALL" "$WORK/again.json"

# version 1 files still load
"$ST" report "$V1" >"$WORK/v1.txt" 2>"$WORK/err"
check "report of a version 1 file: exit 0" test $? -eq 0 -a ! -s "$WORK/err"
check_grep "version 1: samples and CPU time as before" '^2,000 samples \(1,000/s\) · 3 lost' "$WORK/v1.txt"
check_no_grep "version 1: no wall line" '^Wall-clock time' "$WORK/v1.txt"

# speedscope: one evented profile per thread in time order
"$ST" report "$WALL" -o "$WORK/w.speedscope.json" -q
ss=$WORK/w.speedscope.json
jqt() { jq -e "$@" >/dev/null; }
check "speedscope: an evented profile per thread, in nanoseconds" \
	jqt '(.profiles | length) == 2 and all(.profiles[]; .type == "evented" and .unit == "nanoseconds")' "$ss"
check "speedscope: each thread's events in time order" \
	jqt 'all(.profiles[]; [.events[].at] as $a | $a == ($a | sort))' "$ss"
check "speedscope: every frame opened is closed" \
	jqt 'all(.profiles[]; ([.events[] | if .type == "O" then 1 else -1 end] | add) == 0)' "$ss"
check "speedscope: the app thread sleeps from 0.3 s to 1.3 s" \
	jqt '.shared.frames as $f | .profiles[0].events | map(select($f[.frame].name == "[sleeping]") | [.type, .at]) == [["O", 300000000], ["C", 1300000000]]' "$ss"

# The real speedscope app opens the evented profiles; its Sandwich view of the
# app thread (the first profile) gives [sleeping] 1 s of its 2 s.
if ! speedscope_run "$ss"; then
	skip 3 "$SPEEDSCOPE_WHY: the evented profiles not opened in speedscope"
else
	check "speedscope app: no error (got: $(jq -c .errors "$WORK/ss.out" 2>/dev/null || head -c 300 "$WORK/ss.out"))" \
		test "$(jq -c .errors "$WORK/ss.out" 2>/dev/null)" = "[]"
	check_grep "speedscope app: names the app thread's profile" '^app \[100\] / app \[100\]' "$WORK/ss.txt"
	p=$(grep -B2 -xF '[sleeping]' "$WORK/ss.txt" | head -1 | sed -n 's/.*(\([0-9.]*\)%)$/\1/p')
	check "speedscope app: Sandwich view gives [sleeping] 50% of the app thread (got ${p:-none})" within "${p:-0}" 49.9 50.1
fi

# pprof: wall and cpu sample types, read by go tool pprof
"$ST" report "$WALL" -o "$WORK/w.pb.gz" -q
if command -v go >/dev/null; then
	gp() { HOME=$WORK GOCACHE=$WORK/gocache timeout 120 go tool pprof "$@" 2>&1; }
	gp -top "$WORK/w.pb.gz" >"$WORK/top"
	check_grep "go tool pprof: the default sample type is wall" '^Type: wall$' "$WORK/top"
	check_grep "go tool pprof -top: the lock wait is 1.6 s, 40% of the wall time" '^ +1600ms 40\.00% 40\.00% +1600ms 40\.00%  \[waiting on a lock\]$' "$WORK/top"
	check_grep "go tool pprof -top: 4 s in all" 'of 4000ms total' "$WORK/top"
	gp -top -sample_index=wall "$WORK/w.pb.gz" >"$WORK/top.wall"
	check "go tool pprof -sample_index=wall: the same as the default" cmp -s "$WORK/top" "$WORK/top.wall"
	gp -top -sample_index=cpu "$WORK/w.pb.gz" >"$WORK/top.cpu"
	check_grep "go tool pprof -sample_index=cpu: 0.6 s of CPU" 'of 600ms total' "$WORK/top.cpu"
	check_grep "go tool pprof -sample_index=cpu: cmp_items half of it" '^ +300ms 50\.00% .* cmp_items$' "$WORK/top.cpu"
	check_no_grep "go tool pprof -sample_index=cpu: no time off the CPU" '\[(sleeping|waiting)' "$WORK/top.cpu"
	gp -raw "$WORK/w.pb.gz" >"$WORK/raw"
	check_grep "go tool pprof -raw: two values a sample, wall and cpu in ns" '^Samples:$' "$WORK/raw"
	check_grep "go tool pprof -raw: the sample types" '^wall/nanoseconds\[dflt\] cpu/nanoseconds$' "$WORK/raw"
else
	skip 9 "go (golang-go) not installed: pprof not checked in go tool pprof"
fi

# HTML in headless Chromium: seconds, the off-CPU leaf drawn apart
"$ST" report "$WALL" -o "$WORK/w.html" -q
if command -v chromium >/dev/null && command -v jq >/dev/null; then
	chromium_run "$WORK/w.html" "[sleeping]"
	check "html: the page's script ran" test "$(res ready)" = true
	check_grep "html: the tooltip gives the sleep in seconds and says it is off the CPU" '^tip_text=\[sleeping\]off the CPU: \[sleeping\]total: 1\.000 s \(25\.0%\)' "$WORK/res"
	check_grep "html: the search gives a share of the time" '^search_status=1 matching frames, 25\.0% of the time$' "$WORK/res"
	bg=$(res hot_cell_background)
	check "html: the off-CPU cell is blue (got $bg)" awk -v c="$bg" 'BEGIN { n = split(c, v, /[^0-9]+/); exit !(n >= 4 && v[4] > v[2] + 40) }'
	check_grep "html: off-CPU rows of the tree marked" '^off_cpu_rows=.*\[sleeping\]' "$WORK/res"
	check_no_grep "html: no script error" '^error=' "$WORK/res"
else
	skip 6 "chromium or jq not installed: the HTML not checked in a browser"
fi

# diff: two wall profiles in wall time; a wall and a CPU profile in CPU time
"$ST" diff "$WALL" "$WALL" >"$WORK/d.txt" 2>"$WORK/err"
check "diff of two wall profiles: exit 0" test $? -eq 0
check_grep "diff of two wall profiles: in seconds of wall-clock time" "^before: .*; 4\\.000 s wall-clock, 0\\.600 s CPU, 2\\.000 s, lost 0$" "$WORK/d.txt"
"$ST" diff "$TOP/tests/golden/fixture.json" "$WALL" >"$WORK/d2.txt" 2>"$WORK/err"
check_grep "diff of a CPU and a wall profile: says it compares CPU time only" "^Shares of each profile's CPU time \\(one is a --wall profile" "$WORK/d2.txt"

# The live view's header (report --tui) in tmux.
if command -v tmux >/dev/null; then
	TM=(tmux -L "sampletop-wall-$$" -f /dev/null)
	trap '"${TM[@]}" kill-server 2>/dev/null; cleanup' EXIT
	"${TM[@]}" new-session -d -s w -x 160 -y 30 "env PS1='\$ ' bash --norc --noprofile"
	sleep 0.3
	"${TM[@]}" send-keys -t w "$ST report $WALL --tui; echo exit=\$?" Enter
	for _ in $(seq 50); do
		"${TM[@]}" capture-pane -p -t w >"$WORK/screen"
		grep -q 'CPU 0' "$WORK/screen" && break
		sleep 0.1
	done
	check_grep "live view: Duration beside CPU time in the header" 'Duration 2\.00 s, CPU 0\.60 s' "$WORK/screen"
	check_grep "live view: no count of ns called samples" '· 60 samples, 5 off-CPU intervals ·' "$WORK/screen"
	"${TM[@]}" capture-pane -p -e -t w >"$WORK/screen.sgr"
	check "live view: the off-CPU leaf drawn dim (cyan), apart from the hot rows" \
		grep -qa $'1\\.00s  *\033\\[36m\\[sleeping\\]' "$WORK/screen.sgr"
	"${TM[@]}" send-keys -t w q
	"${TM[@]}" kill-server 2>/dev/null
else
	skip 3 "tmux not installed: the live view's header not checked"
fi
finish

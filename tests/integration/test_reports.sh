# Reports end to end: real recordings of tests/targets saved, re-rendered in
# every format, and read by the real consumers: go tool pprof, headless
# Chromium (driving the HTML page with DOM events), jq.
. "$(dirname "$0")/../lib.sh"
plan 108

build_target hot_fp hot.c -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-shrink-wrap
build_target evil_names evil_names.c -O2 -g -fno-omit-frame-pointer

start "$TARGETS/hot_fp" 0
HOT=$PID

# Every format straight from a recording, picked by -o's extension.
for ext in txt folded json html speedscope.json pb.gz; do
	"$ST" -q -p "$HOT" -d 0.5 -o "$WORK/live.$ext"
	check "record -o live.$ext writes a report" test -s "$WORK/live.$ext"
done
check "live.pb.gz is gzip" test "$(od -An -tx1 -N2 "$WORK/live.pb.gz" | tr -d ' ')" = 1f8b
check_grep "live.html is an HTML page" '^<!DOCTYPE html>' "$WORK/live.html"
check_grep "live.html: the header says what was lost in words" '^[0-9,]+ samples \([0-9,]+/s\) · (none|[0-9,]+) lost · ' "$WORK/live.html"
check_grep "live.json is a saved profile" '"format": "sampletop-profile"' "$WORK/live.json"
check_grep "live.speedscope.json has speedscope's schema" 'speedscope.app/file-format-schema.json' "$WORK/live.speedscope.json"
check_grep "live.txt is the text tree" '^[│ ]*[├└]─ [0-9.]+ hot_a  hot_fp$' "$WORK/live.txt"
check_grep "live.folded is folded stacks" ';hot_a;leaf [0-9]+$' "$WORK/live.folded"

# One saved profile, re-rendered.
"$ST" -q -p "$HOT" -d 2 -o "$WORK/hot.json"
"$ST" report "$WORK/hot.json" >"$WORK/r.txt" 2>"$WORK/err"
check "report FILE: exit 0, text on stdout" test $? -eq 0 -a -s "$WORK/r.txt"
check_grep "report: header names the target" "^sampletop: pid $HOT \\(hot_fp\\)" "$WORK/r.txt"
# The machine may be busy: assert on shares, not seconds.
# (The tree starts after the header's blank line: the header's "N samples"
# is no root.)
a=$(awk '!body { if ($0 == "") body = 1; next } /^[0-9.]+ / && !root { root = $1 } / hot_a  hot_fp$/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) { printf "%.1f", 100 * $i / root; exit } }' "$WORK/r.txt")
check "report: hot_a holds 60±5% of the root's time (got $a)" within "${a:-0}" 55 65
check_no_grep "report: no colour when stdout is not a terminal" $'\033' "$WORK/r.txt"
# What was lost, in one line of words; the counters themselves one option away.
check_grep "report: the header says what was lost in words" \
	'^[0-9,]+ samples \([0-9,]+/s\) · (none|[0-9,]+) lost · ([0-9]+%|<1%|no) (with )?partial stacks · ' <(sed -n 3p "$WORK/r.txt")
check_no_grep "report: no internal counter name (a_b) in the header" '[a-z]_[a-z]' <(sed -n 2,3p "$WORK/r.txt")
"$ST" report "$WORK/hot.json" --counters >"$WORK/c.txt"
n=$(grep -cE '^  [a-z_]+ +[0-9,]+  [A-Za-z]' "$WORK/c.txt")
# Every counter the program keeps (its name table in model/profile.c).
NR_COUNTERS=$(sed -n '/prof_counter_names\[PC_NR\] = {/,/^};/p' "$TOP/user/model/profile.c" | grep -cE '^\s*\[[A-Z_]+\] = "[a-z_]+",')
check "--counters: a line per counter, with its value and meaning (got $n of $NR_COUNTERS)" test "$n" -eq "$NR_COUNTERS" -a "$NR_COUNTERS" -gt 20
check_grep "--counters: lost samples under their heading, in words" \
	'^  lost_ringbuf_full +[0-9,]+  samples dropped: the buffer to sampletop was full$' "$WORK/c.txt"
awk '/^[A-Z]/ { g = $0 } /^  unwind_(read_errors|no_rule) / && g ~ /^Partial stacks: / { f++ }
	END { exit f != 2 }' "$WORK/c.txt"
check "--counters: stopped walks are listed under Partial stacks" test $? -eq 0
check_no_grep "without --counters: no counter listed" 'lost_ringbuf_full|unwind_' "$WORK/r.txt"
"$ST" -q -p "$HOT" -d 0.5 --counters >"$WORK/rc.txt"
check_grep "record --counters: a live run's counters under its header" '^  recorded +[1-9][0-9,]*  samples sent' "$WORK/rc.txt"
"$ST" report "$WORK/hot.json" -f json -o "$WORK/again.json" -q
check "round trip: the re-saved profile is byte-identical" cmp -s "$WORK/hot.json" "$WORK/again.json"
for f in text folded html speedscope pprof; do
	"$ST" report "$WORK/hot.json" -f "$f" -o "$WORK/a.$f" -q
	"$ST" report "$WORK/again.json" -f "$f" -o "$WORK/b.$f" -q
	check "round trip: $f from the saved and re-saved profile identical" cmp -s "$WORK/a.$f" "$WORK/b.$f"
done
"$ST" report "$WORK/hot.json" -o "$WORK/x.folded" -q
check_grep "report -o x.folded: format from the extension" '^.*main;hot_b;leaf [0-9]+$' "$WORK/x.folded"

# View options.
"$ST" report "$WORK/hot.json" --invert >"$WORK/v.txt"
check_grep "--invert: the leaf is a root" '^[0-9.]+ leaf  hot_fp$' "$WORK/v.txt"
check_grep "--invert: callers below it" '^(├|└)─ [0-9.]+ hot_a  hot_fp$' "$WORK/v.txt"
"$ST" report "$WORK/hot.json" --focus hot_b >"$WORK/v.txt"
check_grep "--focus hot_b: rooted at hot_b" '^[0-9.]+ hot_b  hot_fp$' "$WORK/v.txt"
check_no_grep "--focus hot_b: nothing else" 'hot_a|hot_c|main' "$WORK/v.txt"
"$ST" report "$WORK/hot.json" --min-percent 20 >"$WORK/v.txt"
check_no_grep "--min-percent 20: hot_c (10%) elided" 'hot_c' "$WORK/v.txt"
check_grep "--min-percent 20: hot_b (30%) kept" 'hot_b' "$WORK/v.txt"
"$ST" report "$WORK/hot.json" --threads >"$WORK/v.txt"
check_grep "--threads: a thread level" "^[0-9.]+ hot_fp \\[$HOT\\]$" "$WORK/v.txt"
"$ST" report "$WORK/hot.json" --ascii >"$WORK/v.txt"
check_grep "--ascii: ASCII branches" '^ *[|`]- [0-9.]+ hot_a  hot_fp$' "$WORK/v.txt"
check_no_grep "--ascii: no box drawing" '[│├└]' "$WORK/v.txt"
"$ST" report "$WORK/hot.json" --hide hot_fp >"$WORK/v.txt"
check_grep "--hide MODULE: its inner frames collapse into one row" '\[[0-9]+ frames hidden\]  hot_fp$' "$WORK/v.txt"
check_no_grep "--hide MODULE: hot_a hidden" 'hot_a' "$WORK/v.txt"
"$ST" report "$WORK/hot.json" --hide hot_fp --show 'hot_a' >"$WORK/v.txt"
check_grep "--show hot_a: hot_a shown again" 'hot_a  hot_fp$' "$WORK/v.txt"
"$ST" report "$WORK/hot.json" --hide hot_fp --show-all >"$WORK/v.txt"
check_no_grep "--show-all: nothing hidden" 'hidden' "$WORK/v.txt"
"$ST" report "$WORK/hot.json" --color >"$WORK/v.txt"
check_grep "--color: ANSI colour on demand" $'\033\\[' "$WORK/v.txt"

# A whole-machine profile re-renders grouped by program and process, as it
# was recorded: hot_fp [HOT] is a root, or right under the root of all
# hot_fp processes when other tests run one too; --processes: a root.
"$ST" -q -a -d 0.5 -o "$WORK/all.json"
"$ST" report "$WORK/all.json" --min-percent 0 >"$WORK/v.txt"
check "report of an -a profile: grouped by program and process" awk -v pid="$HOT" '
	/^[0-9]/ { root = $0 }
	$0 ~ "^[0-9.]+ hot_fp \\[" pid "\\]$" { found = 1 }
	$0 ~ "^(├─|└─) [0-9.]+ hot_fp \\[" pid "\\]$" && root ~ / hot_fp \[[0-9]+\+? processes\]$/ { found = 1 }
	END { exit !found }' "$WORK/v.txt"
"$ST" report "$WORK/all.json" --min-percent 0 --processes >"$WORK/v.txt"
check_grep "report of an -a profile, --processes: one root per process" "^[0-9.]+ hot_fp \\[$HOT\\]$" "$WORK/v.txt"

# --kernel: kernel frames recorded with -K are shown on request.
start dd if=/dev/zero of=/dev/null bs=64k
"$ST" -q -K -p "$PID" -d 1 -o "$WORK/k.json"
kill "$PID" 2>/dev/null
"$ST" report "$WORK/k.json" >"$WORK/v.txt"
check_no_grep "report of a -K profile: kernel frames hidden by default" '\[kernel\]$' "$WORK/v.txt"
"$ST" report "$WORK/k.json" --kernel >"$WORK/v.txt"
check_grep "report --kernel: named kernel frames" '─ [0-9.]+ [a-z_0-9.]+  \[kernel\]$' "$WORK/v.txt"
"$ST" report "$WORK/k.json" --kernel -f folded >"$WORK/v.folded"
check_grep "report --kernel -f folded: kernel frames marked _[k]" ';[a-z_0-9.]+_\[k\]( [0-9]+$|;)' "$WORK/v.folded"

# pprof in go tool pprof (Debian's golang-go).
if command -v go >/dev/null; then
	HOME=$WORK GOCACHE=$WORK/gocache GOFLAGS=-mod=mod timeout 120 go tool pprof -top "$WORK/a.pprof" >"$WORK/top" 2>&1
	check "go tool pprof -top reads the pprof output" test $? -eq 0
	check_grep "go tool pprof: leaf is the hottest function (flat)" '^ +[0-9.]+m?s +(9[0-9]\.[0-9]+|100)% +(9[0-9]\.[0-9]+|100)% .* leaf$' "$WORK/top"
	check_grep "go tool pprof: hot_a about 60% cumulative" '^ .* (5[5-9]|6[0-5])\.[0-9]+% +hot_a$' "$WORK/top"
	check_grep "go tool pprof: sample type cpu, main binary named" '^File: hot_fp$' "$WORK/top"
	HOME=$WORK GOCACHE=$WORK/gocache timeout 120 go tool pprof -raw "$WORK/a.pprof" >"$WORK/raw" 2>&1
	check_grep "go tool pprof: thread labels" "pid:\\[$HOT\\] tid:\\[$HOT\\]" "$WORK/raw"
	sed -n '/^Mappings$/,$p' "$WORK/raw" >"$WORK/raw.maps"
	check_grep "go tool pprof: the first mapping is the binary, by its path" \
		"^1: 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ $TARGETS/hot_fp " "$WORK/raw.maps"
	"$ST" report "$TOP/tests/golden/fixture.json" -o "$WORK/fx.pb.gz" -q
	HOME=$WORK GOCACHE=$WORK/gocache timeout 120 go tool pprof -top "$WORK/fx.pb.gz" >"$WORK/top" 2>&1
	check_grep "go tool pprof: the fixture's profile loads, cmp_items hottest" '^ +1100ms 55\.00% 55\.00% .* cmp_items$' "$WORK/top"
	HOME=$WORK GOCACHE=$WORK/gocache timeout 120 go tool pprof -raw "$WORK/fx.pb.gz" >"$WORK/raw" 2>&1
	check_grep "go tool pprof: hostile names kept whole" '<script>alert\("x"\)</script>' "$WORK/raw"
else
	skip 8 "go (golang-go) not installed: pprof not checked in go tool pprof"
fi

# speedscope: the schema's structure, checked with jq.
ss=$WORK/a.speedscope
jqt() { jq -e "$@" >/dev/null; }
check "speedscope: valid JSON" jqt . "$ss"
check "speedscope: sampled profiles in nanoseconds, samples and weights pair up" \
	jqt '.profiles | length > 0 and all(.type == "sampled" and .unit == "nanoseconds" and (.samples | length) == (.weights | length) and (.weights | add) == .endValue - .startValue)' "$ss"
check "speedscope: every frame index exists" \
	jqt '(.shared.frames | length) as $n | all(.profiles[].samples[][]; . >= 0 and . < $n)' "$ss"
check "speedscope: frames have names" jqt 'all(.shared.frames[]; (.name | type) == "string" and (.name | length) > 0)' "$ss"
n=$(jq '[.profiles[].weights[]] | add / 1000000' "$ss"); t=$(jq .total "$WORK/hot.json")
check "speedscope: weights add up to the samples at 1 ms each ($n vs $t)" test "$n" = "$t"
check "speedscope: hot_a is a frame" jqt 'any(.shared.frames[]; .name == "hot_a")' "$ss"

# speedscope: the real app (npm's speedscope, driven by playwright-core in
# Debian's chromium) opens the file; its Sandwich view lists the functions.
if ! speedscope_run "$ss"; then
	skip 4 "$SPEEDSCOPE_WHY: the speedscope file not opened in speedscope"
else
	check_grep "speedscope app: opens the file, names the thread's profile" "^hot_fp \\[$HOT\\] / hot_fp \\[$HOT\\]" "$WORK/ss.txt"
	check "speedscope app: no error (got: $(jq -c .errors "$WORK/ss.out" 2>/dev/null || head -c 300 "$WORK/ss.out"))" \
		test "$(jq -c .errors "$WORK/ss.out" 2>/dev/null)" = "[]"
	p=$(grep -B2 -x 'hot_a' "$WORK/ss.txt" | head -1 | sed -n 's/.*(\([0-9.]*\)%)$/\1/p')
	check "speedscope app: Sandwich view gives hot_a 60±5% of the total (got ${p:-none})" within "${p:-0}" 55 65
	check_grep "speedscope app: the leaf is listed" '^leaf$' "$WORK/ss.txt"
fi

# Hostile names in the files themselves (no browser needed): escaped in the
# page's data, printed as they are in the text.
start "$TARGETS/evil_names" 0
evil='<script>pwned=1</script><img src=x onerror=pwned=1>'
"$ST" -q -p "$PID" -d 1 -o "$WORK/evil.html"
check_grep "html: the hostile symbol is in the page, its < escaped" \
	'script(>|&gt;)pwned=1(\\u003c|&lt;)/script' "$WORK/evil.html"
check_no_grep "html: a hostile symbol never appears raw in the page" 'pwned=1</script>|<img' "$WORK/evil.html"
"$ST" -q -p "$PID" -d 0.5 >"$WORK/evil.txt"
check_grep "text: the hostile name printed as text" 'pwned=1</script><img src=x onerror=pwned=1>  evil_names' "$WORK/evil.txt"
kill "$PID"

# HTML in headless Chromium.
if command -v chromium >/dev/null; then
	chromium_run "$WORK/a.html" hot_a
	check "html: the page's script ran" test "$(res ready)" = true
	check "html: the hot function is a flame graph cell" test "$(res hot_cells)" -ge 1
	check "html: hovering shows total and self" grep -qE '^tip_text=hot_a.*total: [0-9.]+ s \((5[5-9]|6[0-5])\.[0-9]%\) +self: ' "$WORK/res"
	check "html: clicking hot_a zooms to it (full width)" test "$(res zoom_width_after)" = 100%
	check_grep "html: the zoom says where it is" '^zoom_text=reset zoom  zoomed to hot_a' "$WORK/res"
	check "html: clicking a cell selects its tree row" test "$(res selected_row)" = hot_a
	check "html: reset zoom" test "$(res unzoomed)" = 0
	check_grep "html: searching hot_a finds it, about 60% of samples" '^search_status=1 matching frames, (5[5-9]|6[0-5])\.[0-9]% of samples$' "$WORK/res"
	check "html: matches highlighted, the rest dimmed" test "$(res match_cells)" -eq 1 -a "$(res dim_cells)" -ge 3
	check_grep "html: clicking an open tree row folds it" '^tree_toggle=[1-9][0-9]*-(&gt;|>)0$' "$WORK/res"
	check "html: the counters' summary is visible in the header" test "$(res counters_summary_visible)" = true
	check "html: the counters are behind it, closed at first" \
		test "$(res counters_open_before)" = false -a "$(res counters_text_visible_before)" = false
	check "html: a click on it shows every counter" test "$(res counters_open_after)" = true -a \
		"$(res counters_text_visible_after)" = true -a "$(res counters_listed)" -eq "$NR_COUNTERS"
	check_no_grep "html: no script error" '^error=' "$WORK/res"
	check_no_grep "html: no network reference" '(src|href)="?(https?:)?//' "$WORK/a.html"

	chromium_run "$WORK/evil.html" "$evil" "$evil"
	check "html: the hostile name is shown as text" test "$(res evil_text_cells)" -ge 1
	check "html: and its markup never ran" test "$(res pwned)" = false
	check "html: nor made elements" test "$(res injected_elements)" = 0
else
	skip 18 "chromium not installed: HTML not checked in a browser"
fi

# diff: the same profile with hot_c's samples made 5 times heavier.
hc=$(jq '.frames | map(.name) | index("hot_c")' "$WORK/hot.json")
jq --argjson f "$hc" '([.stacks | to_entries[] | select(.value | split(" ") | map(tonumber) | index($f) != null) | .key]) as $hot
	| .samples |= map(.counts |= (split(" ") | map(split(":") | map(tonumber)
		| if (.[0] as $s | $hot | index($s)) != null then [.[0], .[1] * 5] else . end
		| "\(.[0]):\(.[1])") | join(" ")))
	| .total = ([.samples[].counts | split(" ")[] | split(":")[1] | tonumber] | add)' "$WORK/hot.json" >"$WORK/after.json"
"$ST" diff "$WORK/hot.json" "$WORK/after.json" >"$WORK/d.txt" 2>"$WORK/err"
check "diff: exit 0" test $? -eq 0
# b -> 5b / (1 + 4b): 10% -> 36%; wide bounds for a slow (sanitized, loaded) run.
check_grep "diff: hot_c grew (10% -> about 36%)" '^ +([5-9]|1[0-4])\.[0-9]% +(2[5-9]|3[0-9]|4[0-5])\.[0-9]% +\+[12][0-9]\.[0-9] .* hot_c  hot_fp$' "$WORK/d.txt"
awk '/^Shrank:/ { s = 1 } s && / hot_a  hot_fp$/ { f = 1 } END { exit !f }' "$WORK/d.txt"
check "diff: hot_a is under Shrank" test $? -eq 0
awk '/^Grew:/ { g = 1 } /^Shrank:/ { g = 0 } g && / hot_c  hot_fp$/ { f = 1 } END { exit !f }' "$WORK/d.txt"
check "diff: hot_c is under Grew" test $? -eq 0
"$ST" diff "$WORK/hot.json" "$WORK/after.json" -o "$WORK/d.html" -q
check_grep "diff -o d.html: a differential page" '"diff": true' "$WORK/d.html"
if command -v chromium >/dev/null; then
	chromium_run "$WORK/d.html" hot_c
	check_grep "diff html: hot_c's tooltip shows its growth" '^tip_text=hot_c.*before: ([5-9]|1[0-4])\.[0-9]% +after: (2[5-9]|3[0-9]|4[0-5])\.[0-9]% +change: \+[12][0-9]\.[0-9] points' "$WORK/res"
else
	skip "chromium not installed: the diff page not checked in a browser"
fi

# Bad input: one clear line, exit 1; usage errors exit 2.
"$ST" report "$WORK/nope.json" >"$WORK/o" 2>"$WORK/e"; rc=$?
check "missing file: exit 1 (got $rc)" test $rc -eq 1
check_grep "missing file: says so" "^sampletop: $WORK/nope.json: No such file or directory$" "$WORK/e"
head -c $(($(stat -c %s "$WORK/hot.json") / 2)) "$WORK/hot.json" >"$WORK/trunc.json"
"$ST" report "$WORK/trunc.json" >"$WORK/o" 2>"$WORK/e"; rc=$?
check "truncated profile: exit 1 (got $rc)" test $rc -eq 1
check_grep "truncated profile: one line naming the problem" '^sampletop: .*trunc.json: not a sampletop saved profile: bad JSON at line [0-9]+' "$WORK/e"
check "truncated profile: one line" test "$(wc -l <"$WORK/e")" -eq 1
sed 's/"version": [0-9]*,/"version": 7,/' "$WORK/hot.json" >"$WORK/v7.json"
"$ST" report "$WORK/v7.json" >"$WORK/o" 2>"$WORK/e"; rc=$?
check "newer format version: exit 1 (got $rc)" test $rc -eq 1
check_grep "newer format version: refused with a clear message" 'saved by a newer sampletop \(format version 7; this one reads versions 1 to [0-9]+\)' "$WORK/e"
"$ST" report "$WORK/a.pprof" >"$WORK/o" 2>"$WORK/e"; rc=$?
check "a pprof file is not a saved profile: exit 1 (got $rc)" test $rc -eq 1
check_grep "a pprof file: says what it is not" 'not a sampletop saved profile' "$WORK/e"
"$ST" report >"$WORK/o" 2>"$WORK/e"; rc=$?
check "report without a file: exit 2 (got $rc)" test $rc -eq 2
"$ST" report "$WORK/hot.json" -f bogus >"$WORK/o" 2>"$WORK/e"; rc=$?
check "report -f bogus: exit 2 (got $rc)" test $rc -eq 2
"$ST" diff "$WORK/hot.json" >"$WORK/o" 2>"$WORK/e"; rc=$?
check "diff with one profile: exit 2 (got $rc)" test $rc -eq 2
"$ST" diff "$WORK/hot.json" "$WORK/hot.json" -o "$WORK/d.folded" >"$WORK/o" 2>"$WORK/e"; rc=$?
check "diff -o x.folded: exit 2, diff writes text or html (got $rc)" test $rc -eq 2
finish

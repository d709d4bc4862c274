# --wall end to end: the real BPF program (cpu-clock and sched_switch) on a
# thread-pool server (tests/targets/wall_pool.c) that measures where each of
# its requests' time goes; the wall tree must agree with it.
. "$(dirname "$0")/../lib.sh"
plan 20

build_target wall_pool wall_pool.c -O1 -g -fno-omit-frame-pointer
command -v python3 >/dev/null || { skip 20 "python3 missing (scripts/deps.sh --test)"; finish; exit; }

start "$TARGETS/wall_pool" "$WORK/requests.txt"
sleep 1	# past the start: every thread in its loop
"$ST" -q --wall -p "$PID" -d 6 -o "$WORK/wall.json" 2>"$WORK/wall.err"
rc=$?
check "--wall -p PID -d 6 -o out.json: exit 0 (got $rc)" test "$rc" -eq 0
setup "saved profile written" test -s "$WORK/wall.json"

# The truth: the server's own measurements of the requests that ran within
# the recording (CLOCK_REALTIME begin and end against the profile's start
# and duration), as shares of the requests' wall time.
read -r t0 t1 < <(python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))["meta"]
print(m["start_wall_ns"], m["start_wall_ns"] + m["duration_ns"])' "$WORK/wall.json")
awk -v a="$t0" -v b="$t1" '$1 >= a && $2 <= b { n++; w += $3; c += $4; pc += $6; s += $7; l += $8; p += $9 }
	END { if (!n) exit 1
	      printf "%d %.2f %.2f %.2f %.2f %.2f\n", n, 100 * pc / w, 100 * (w - c - s - l - p) / w,
		     100 * s / w, 100 * l / w, 100 * p / w }' "$WORK/requests.txt" >"$WORK/truth" ||
	bail "no request of the server within the recording"
read -r nreq t_parse t_cpu t_sleep t_lock t_pipe <"$WORK/truth"
echo "# truth from $nreq requests: parse $t_parse% cpu-wait $t_cpu% sleep $t_sleep% lock $t_lock% pipe $t_pipe%"

# The profile's: within handle_request, by leaf (folded stacks; the shares do
# not depend on the unit of the weights).
"$ST" report "$WORK/wall.json" -f folded -o "$WORK/wall.folded"
awk '/(^|;)handle_request(;| )/ {
	n = $NF; line = $0; sub(/ [0-9]+$/, "", line); tot += n
	if (line ~ /\[waiting for a CPU\]$/) cpu += n
	else if (line ~ /\[sleeping\]$/) sl += n
	else if (line ~ /\[waiting on a lock\]$/) lk += n
	else if (line ~ /\[reading pipe\]$/) pp += n
	else if (line ~ /;parse_request(;|$)/) parse += n }
	END { if (!tot) exit 1
	      printf "%.2f %.2f %.2f %.2f %.2f\n", 100 * parse / tot, 100 * cpu / tot, 100 * sl / tot,
		     100 * lk / tot, 100 * pp / tot }' "$WORK/wall.folded" >"$WORK/got" ||
	bail "no handle_request in the folded stacks"
read -r g_parse g_cpu g_sleep g_lock g_pipe <"$WORK/got"
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d <= 3 && d >= -3) }'; }
check "parse_request on the CPU: $g_parse% of handle_request, truth $t_parse% (±3)" near "$g_parse" "$t_parse"
check "waiting for a CPU: $g_cpu%, truth $t_cpu% (±3)" near "$g_cpu" "$t_cpu"
check "sleeping: $g_sleep%, truth $t_sleep% (±3)" near "$g_sleep" "$t_sleep"
check "waiting on the holder's lock: $g_lock%, truth $t_lock% (±3)" near "$g_lock" "$t_lock"
check "reading the pipe: $g_pipe%, truth $t_pipe% (±3)" near "$g_pipe" "$t_pipe"

# Wall time per thread (the saved profile's counts are ns with --wall): the
# client, alive and mostly blocked the whole run, weighs the run's duration.
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
tot = {}
for s in d["samples"]:
    th = d["threads"][s["thread"]]
    key = "%s:%d" % (th["comm"], th["tid"])
    tot[key] = tot.get(key, 0) + sum(int(c.split(":")[1]) for c in s["counts"].split())
dur = d["meta"]["duration_ns"]
for k, v in sorted(tot.items()):
    print(k, v, dur, "%.3f" % (100.0 * (v - dur) / dur))' "$WORK/wall.json" >"$WORK/threads"
sed 's/^/# thread total ns, duration ns, off by %: /' "$WORK/threads"
read -r _ c_ns dur c_off < <(grep '^client:' "$WORK/threads")
check "the client thread's wall total ${c_ns:-?} ns is within 1% of the duration ${dur:-?} ns (${c_off:-?}%)" \
	awk -v d="${c_off:-100}" 'BEGIN { exit !(d <= 1 && d >= -1) }'
n=$(awk '$4 <= 1 && $4 >= -1' "$WORK/threads" | wc -l)
check "every thread alive for the run within 1% of it ($n of $(wc -l <"$WORK/threads"))" \
	test "$n" -eq "$(wc -l <"$WORK/threads")"

# The reasons in words, in the text tree.
"$ST" report "$WORK/wall.json" -f text --threads --min-percent 0 >"$WORK/wall.txt"
check_grep "text: [sleeping] under nap_ms" '─ [0-9.]+ \[sleeping\]$' "$WORK/wall.txt"
check_grep "text: [reading pipe] named" '\[reading pipe\]$' "$WORK/wall.txt"
check_grep "text: [waiting on a lock] named" '\[waiting on a lock\]$' "$WORK/wall.txt"
check_grep "text: [waiting for a CPU] named" '\[waiting for a CPU\]$' "$WORK/wall.txt"

# An idle pool: three threads that never run, hidden unless asked.
check_no_grep "idle threads hidden by default" '^[0-9.]+ idle \[|idle the whole run' "$WORK/wall.txt"
"$ST" report "$WORK/wall.json" -f text --threads --show-idle >"$WORK/idle.txt"
check "--show-idle: the three idle threads, blocked the whole run" \
	test "$(grep -cE '^[0-9.]+ idle \[[0-9]+\]$' "$WORK/idle.txt")" -eq 3
check_grep "--show-idle: their reason from /proc" '\[idle the whole run\]' "$WORK/idle.txt"

# The counters of wall mode, with --counters.
"$ST" report "$WORK/wall.json" -f text --counters >"$WORK/counters.txt"
check_grep "--counters: off-CPU switches seen" '^ +offcpu_switches +[1-9][0-9,]* ' "$WORK/counters.txt"
check_grep "--counters: missed starts and stackless intervals counted" \
	'^ +offcpu_no_stack +[0-9]+ ' "$WORK/counters.txt"

# -t: threads named alone are read from /proc at the start too.
idle_tid=$(grep -l '^idle$' /proc/"$PID"/task/*/comm | head -1 | cut -d/ -f5)
"$ST" -q --wall -t "$idle_tid" -d 1 -f folded --threads --show-idle >"$WORK/tid.folded"
check_grep "-t an idle thread: its whole run under [idle the whole run]" \
	"^idle \\[$idle_tid\\];\\[idle the whole run\\];\\[waiting on a lock\\] [0-9]+$" "$WORK/tid.folded"

# A launched command, to its exit: its threads begin during the run and
# count from then.
"$ST" -q --wall -d 20 -o "$WORK/cmd.folded" -- "$TARGETS/wall_pool" "$WORK/cmd-requests.txt" 2
rc=$?
check "--wall -- COMMAND: exit 0 (got $rc)" test "$rc" -eq 0
check_grep "--wall -- COMMAND: the request's sleep under its caller" \
	';handle_request;nap_ms;.*\[sleeping\] [0-9]+$' "$WORK/cmd.folded"
finish

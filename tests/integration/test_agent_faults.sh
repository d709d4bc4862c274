# The agent against real ClickHouse servers that fail: (a) a server
# restarted mid-run, (b) a server that hangs (SIGSTOP), (c) a refused
# password, (d) a spool that fills while the server is down, (e) windows
# left on disk by one run and sent by the next, (f) a server that refuses
# the rows themselves. Every window is counted on
# both sides: the agent's own summary, and the store's windows and samples
# tables. The scenarios run side by side (a server and an agent each,
# labelled as their own host) to keep the suite near a minute and a half.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/lib_clickhouse.sh"
plan 36

if ! ch_available; then
	skip 36 "clickhouse-server or curl is not installed (scripts/deps.sh --test)"
	finish
	exit
fi
trap 'ch_stop_all; cleanup' EXIT
build_target hot_fp hot.c -O2 -g -fno-omit-frame-pointer
start "$TARGETS/hot_fp" 0	# something to sample on an idle machine

PA=$(ch_free_port); ch_start restart "$PA" $((PA + 1)) || bail "cannot start clickhouse-server"
PB=$(ch_free_port); ch_start hang "$PB" $((PB + 1)) || bail "cannot start clickhouse-server"
PD=$(ch_free_port)	# started later: down at first
DB=prof
# q NAME SQL: one value from server NAME.
q() { ch_query "$1" "$2" | head -1; }

# agent NAME ARGS...: an agent in the background, its stderr in $WORK/NAME.err.
agent() {
	local n=$1; shift
	"$ST" agent --window 2 --timeout 3 --label "host=fault-$n" --spool-dir "$WORK/spool" "$@" \
		2>"$WORK/$n.err" &
	eval "pid_$n=$!"
	_pids+=("$!")
}
# summary NAME FIELD: from the agent's final line: made, windows (sent),
# samples (sent), dropped, dropped_samples, left, peak.
summary() {
	local i
	case $2 in
	made) i=1 ;; windows) i=2 ;; samples) i=3 ;; dropped) i=4 ;; dropped_samples) i=5 ;;
	left) i=6 ;; *) i=7 ;;
	esac
	sed -nE 's/.* ([0-9]+) windows sent \(([0-9]+) samples;.*\), ([0-9]+) dropped \([0-9]+ spool full, [0-9]+ refused by the server: ([0-9]+) samples\), ([0-9]+) not sent.*; ([0-9]+) windows made, spool peak ([0-9]+) bytes$/\6 \1 \2 \3 \4 \5 \7/p' \
		"$WORK/$1.err" | tail -1 | cut -d' ' -f"$i"
}
# store NAME HOST: "windows samples distinct-seqs max-seq spool_dropped" of HOST.
store() {
	q "$1" "SELECT count(), sum(samples), uniqExact(seq), max(seq), sum(spool_dropped)
		FROM $DB.windows WHERE host = 'fault-$2'" | tr '\t' ' '
}
field() { echo "$1" | awk -v i="$2" '{ print $i }'; }

t0=$(date +%s)
at() { local s=$((t0 + $1 - $(date +%s))); [ "$s" -gt 0 ] && sleep "$s"; }

# (a) 70 s; the server is told to stop at 20 s (it takes its time: it
# finishes the requests of open connections first) and starts 15 s after
# it is gone.
agent a --to "clickhouse://127.0.0.1:$PA/$DB" -d 70
# (b) 45 s; the server hangs from 12 s to 27 s.
agent b --to "clickhouse://127.0.0.1:$PB/$DB" -d 45
# (d) 40 s, server down until 28 s; 64 KiB of memory and 128 KiB of disk
# hold a few of the windows (tens of KiB each on a quiet machine, hundreds
# on a busy one: then only the newest, which always stays).
agent d --to "clickhouse://127.0.0.1:$PD/$DB" -d 40 --spool-mem 64K --spool-max 128K
# (e) first run: 6 s with the same server down; it leaves its windows.
agent e --to "clickhouse://127.0.0.1:$PD/$DB" -d 6 --spool-dir "$WORK/spool-e"

# (c) a refused password, meanwhile.
SAMPLETOP_CLICKHOUSE_PASSWORD=not-the-password timeout 30 "$ST" agent -d 3 \
	--to "clickhouse://sampletop@127.0.0.1:$PA/$DB" --spool-dir "$WORK/spool" >"$WORK/c.out" 2>"$WORK/c.err"
rc=$?
check "(c) a refused password stops the agent at start (exit 1, got $rc)" test "$rc" -eq 1
check_grep "(c) with the server's own message" 'sampletop: clickhouse://sampletop@127\.0\.0\.1:[0-9]+/prof: .*(Wrong password|Authentication failed|Code: 193|Code: 516)' "$WORK/c.err"
check_no_grep "(c) and never the password itself" 'not-the-password' "$WORK/c.err"
echo "$CH_TEST_PASSWORD" >"$WORK/pw"
timeout 30 "$ST" agent -d 2 -q --to "clickhouse://sampletop@127.0.0.1:$PA/$DB" --password-file "$WORK/pw" \
	--label host=fault-c --spool-dir "$WORK/spool" 2>"$WORK/c2.err"
rc=$?
check "(c) the right password from a file: the agent runs (exit $rc)" test "$rc" -eq 0

# (f) a server that refuses the rows themselves: a windows table made by
# hand with a column of another type (a Date where the agent sends a number).
ch_query restart "CREATE DATABASE bad" >/dev/null
ch_query restart "CREATE TABLE bad.windows (day Date, window_start DateTime, window_ms UInt32,
	host String, labels Array(String), seq UInt64, agent_start DateTime, samples UInt64,
	wall_ns UInt64, lost UInt64, spool_dropped Date, counters String)
	ENGINE = MergeTree() PARTITION BY day ORDER BY (host, window_start)" >/dev/null
timeout 40 "$ST" agent --window 1 -d 4 --label host=fault-f --spool-dir "$WORK/spool" \
	--to "clickhouse://127.0.0.1:$PA/bad" 2>"$WORK/f.err"
rc=$?
echo "# (f) agent: $(summary f made) windows made, $(summary f windows) sent, $(summary f dropped) dropped"
check_grep "(f) rows the server cannot parse: its message is shown" \
	"bad: Code: (6|26|27|38|41|72|117), .*[Cc]annot parse.*; the server refuses window [0-9]+'s rows: dropped \(counted\)" "$WORK/f.err"
check "(f) those windows are dropped and counted, not retried for ever (exit $rc)" \
	test "$rc" -eq 1 -a "$(summary f windows)" = 0 -a "$(summary f dropped)" = "$(summary f made)" \
	-a "$(summary f made)" -ge 3 -a -z "$(grep 'spool full (' "$WORK/f.err")"

wait "$pid_e"
check_grep "(e) the first run leaves its windows in the spool" \
	' [1-9][0-9]* not sent \(kept in the spool for the next start\)' "$WORK/e.err"
e_left=$(summary e left)

at 12; kill -STOP "${_ch_pid[hang]}"
at 20; kill "${_ch_pid[restart]}"	# asked to stop; ch_stop below waits until it is gone
# Only (d) has windows on disk now (the others hold theirs in memory).
at 26; d_files=$(find "$WORK/spool" -name '*.win' | wc -l)
d_disk=$(find "$WORK/spool" -name '*.win' -printf '%s\n' | awk '{ t += $1 } END { print t + 0 }')
at 27; kill -CONT "${_ch_pid[hang]}"
at 28; ch_start full "$PD" $((PD + 1)) || bail "cannot start clickhouse-server"
# (e) second run, with a damaged file planted in its spool.
edir=$(ls -d "$WORK"/spool-e/*/ | head -1)
printf 'garbage' >"$edir/00000000000000000000.win"
agent e2 --to "clickhouse://127.0.0.1:$PD/$DB" -d 4 --label host=fault-e --spool-dir "$WORK/spool-e"
ch_stop restart
gone=$(($(date +%s) - t0))
sleep 15
ch_start restart "$PA" $((PA + 1)) || bail "cannot restart clickhouse-server"
echo "# (a) the server was gone from ${gone} s to $(($(date +%s) - t0)) s"
wait "$pid_e2"; rc_e2=$?
wait "$pid_b"; rc_b=$?
wait "$pid_d"; rc_d=$?
wait "$pid_a"; rc_a=$?
echo "# agents done after $(($(date +%s) - t0)) s"
for n in a b d e e2; do echo "# agent $n said:"; sed 's/^/#   /' "$WORK/$n.err"; done

# (a) The restart.
s=$(store restart a)
echo "# (a) agent: $(summary a windows) windows, $(summary a samples) samples; store: $s"
check "(a) the agent ran through the restart (exit $rc_a)" test "$rc_a" -eq 0
check_grep "(a) it said the server went away and that it spools" \
	'clickhouse://127\.0\.0\.1:[0-9]+/prof: .*; [0-9]+ windows \([0-9]+ bytes\) spooled, sent in order once it answers' "$WORK/a.err"
check_grep "(a) and when it came back" 'prof: sending again' "$WORK/a.err"
check "(a) windows: $(summary a windows) sent by the agent, $(field "$s" 1) in the store (over 25)" \
	test "$(summary a windows)" = "$(field "$s" 1)" -a "$(field "$s" 1)" -gt 25
check "(a) samples: $(summary a samples) sent by the agent, $(field "$s" 2) in the store" \
	test "$(summary a samples)" = "$(field "$s" 2)" -a "$(field "$s" 2)" -gt 0
check "(a) every window 1..$(field "$s" 4) once: none lost, none twice" \
	test "$(field "$s" 1)" = "$(field "$s" 3)" -a "$(field "$s" 1)" = "$(field "$s" 4)"
check "(a) the samples rows add up to the windows' samples (no table sent twice)" \
	test "$(q restart "SELECT sum(samples) FROM $DB.samples WHERE host = 'fault-a'")" = "$(field "$s" 2)"
check "(a) none dropped, none left" test "$(summary a dropped)/$(summary a left)" = 0/0
check "(a) every stack of the samples has its names in the store" test \
	"$(q restart "SELECT count() FROM $DB.samples WHERE host = 'fault-a' AND stack_hash NOT IN (SELECT stack_hash FROM $DB.stacks)")" = 0

# (b) The hang.
s=$(store hang b)
echo "# (b) agent: $(summary b windows) windows, $(summary b samples) samples; store: $s"
check "(b) the agent ran through the hang (exit $rc_b)" test "$rc_b" -eq 0
check_grep "(b) the hung server timed out and windows were spooled" \
	'prof: .*[Tt]imed? ?out.*; [0-9]+ windows \([0-9]+ bytes\) spooled' "$WORK/b.err"
check_grep "(b) then it sent again" 'prof: sending again' "$WORK/b.err"
check "(b) windows: $(summary b windows) sent, $(field "$s" 1) in the store" \
	test "$(summary b windows)" = "$(field "$s" 1)" -a "$(field "$s" 1)" -gt 15
check "(b) samples: $(summary b samples) sent, $(field "$s" 2) in the store" \
	test "$(summary b samples)" = "$(field "$s" 2)"
check "(b) every window once (a timed-out insert is not stored twice)" \
	test "$(field "$s" 1)" = "$(field "$s" 3)" -a "$(field "$s" 1)" = "$(field "$s" 4)"
sb=$(q hang "SELECT sum(samples) FROM $DB.samples WHERE host = 'fault-b'")
check "(b) the samples rows add up to the windows' samples ($sb, $(field "$s" 2))" \
	test "$sb" = "$(field "$s" 2)"

# (d) The full spool.
s=$(store full d)
dropped=$(summary d dropped)
echo "# (d) agent: $(summary d windows) windows sent, $dropped dropped ($(summary d dropped_samples) samples), peak $(summary d peak) bytes; store: $s"
check "(d) the agent exits 1: windows were dropped (exit $rc_d)" test "$rc_d" -eq 1
check_grep "(d) a line when the spool dropped windows" \
	'prof: spool full \([0-9]+ windows, [0-9]+ bytes\): dropped [0-9]+ oldest window\(s\), [0-9]+ windows and [0-9]+ samples so far' "$WORK/d.err"
check "(d) the summary counts the dropped windows ($dropped)" test "${dropped:-0}" -gt 0
check "(d) the store's spool_dropped says the same ($(field "$s" 5))" test "$(field "$s" 5)" = "$dropped"
check "(d) delivered + dropped = every window made ($(field "$s" 1) + $dropped = $(summary d made))" \
	test $(($(field "$s" 1) + dropped)) -eq "$(summary d made)" -a "$(field "$s" 3)" = "$(field "$s" 1)"
check "(d) samples: $(summary d samples) sent, $(field "$s" 2) in the store" \
	test "$(summary d samples)" = "$(field "$s" 2)"
check "(d) on disk, while the server was down: $d_disk bytes in $d_files files (cap 128 KiB)" \
	test "$d_disk" -le $((128 * 1024))
check "(d) windows after a drop send their stacks again: none missing" test \
	"$(q full "SELECT count() FROM $DB.samples WHERE host = 'fault-d' AND stack_hash NOT IN (SELECT stack_hash FROM $DB.stacks)")" = 0

# (e) The next run sends what the last one left.
first=$(q full "SELECT min(agent_start) FROM $DB.windows WHERE host = 'fault-e'")
n_first=$(q full "SELECT count() FROM $DB.windows WHERE host = 'fault-e' AND agent_start = '$first'")
check "(e) the second run ran (exit $rc_e2)" test "$rc_e2" -eq 0
check_grep "(e) it found the last run's windows" "prof: $e_left window\(s\) \([0-9]+ bytes\) left by the last run in .*, sent first" "$WORK/e2.err"
check_grep "(e) and skipped the damaged file with a warning" \
	'spool file .*/00000000000000000000\.win skipped: truncated header' "$WORK/e2.err"
check "(e) all $e_left windows of the first run are in the store ($n_first)" test "$n_first" = "$e_left"
n_all=$(q full "SELECT count() FROM $DB.windows WHERE host = 'fault-e'")
check "(e) and the second run's own after them (summary $(summary e2 windows), store $n_all)" \
	test "$(summary e2 windows)" = "$n_all"
finish

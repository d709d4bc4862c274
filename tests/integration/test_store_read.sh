# Reading the ClickHouse store: two real agents (labelled host=a and
# host=b) profile the 60/30/10 workload and a second program into a
# two-shard cluster of real servers; report over the Distributed table must
# give the shares of a local -o profile of the same run, each host's filter
# its own tree, every output format, diff of two ranges and two hosts, the
# server's own errors, and the live view following the store.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/lib_clickhouse.sh"
plan 27

B=$BUILD/sampletop
ch_available || { for i in $(seq 27); do skip "clickhouse-server or curl missing (scripts/deps.sh --test)"; done; exit 0; }

build_target hot_fp hot.c -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-shrink-wrap
build_target threads threads.c -O2 -g -fno-omit-frame-pointer

TM=(tmux -L "sampletop-store-$$" -f /dev/null)
store_cleanup() { "${TM[@]}" kill-server 2>/dev/null; ch_stop_all; cleanup; }
trap store_cleanup EXIT

P=$(ch_free_port)
setup "two shards on ports $P and $((P + 2))" ch_cluster2 fleet "$P" $((P + 2))
U1=clickhouse://127.0.0.1:$P/st
U2=clickhouse://127.0.0.1:$((P + 2))/st
setup "agent --init-cluster" "$B" agent --init-cluster fleet --to "$U1" --to "$U2" -q

# The run: both agents sample the whole machine, at 999 Hz, for longer
# than the local recording of the workload, which starts once they run; the
# store is read over the local recording's own time range (the workload's
# shares move a little with the machine's load over time: the same seconds
# must be compared).
RUN=60
start "$TARGETS/hot_fp" 0
HOT=$PID
# Niced: the workload keeps most of a CPU, so that its samples are many.
start nice -n 10 "$TARGETS/threads" 0
T0=$(date -u +%s)
"$B" agent --spool-dir "$WORK/spool-a" --to "$U1" --label host=a --label env=test -F 999 --window 2 -d $((RUN + 10)) -q \
	>"$WORK/agent-a.out" 2>&1 &
AA=$!
"$B" agent --spool-dir "$WORK/spool-b" --to "$U2" --label host=b --label env=test -F 999 --window 2 -d $((RUN + 10)) -q \
	>"$WORK/agent-b.out" 2>&1 &
AB=$!
sleep 4
"$B" -p "$HOT" -F 999 -d $RUN -q -o "$WORK/local.json" 2>"$WORK/local.err"
"$B" report "$WORK/local.json" -f folded >"$WORK/local.folded"
wait $AA
RA=$?
wait $AB
RB=$?
setup "both agents ran (exit $RA, $RB)" test "$RA" = 0 -a "$RB" = 0
kill "$HOT" 2>/dev/null

# Rows written through the Distributed table reach the other shard in the
# background, from files queued under the Distributed table's directory:
# wait until no file is queued and the shards' counts settle.
queued() {
	find "$CH_DIR"/fleet-*/data/data/st/{samples,stacks,windows} -name '*.bin' 2>/dev/null | grep -q .
}
settled() {
	local a b last= i
	for ((i = 0; i < 120; i++)); do
		a=$(ch_query fleet-1 "SELECT count() FROM st.samples_local")
		b=$(ch_query fleet-2 "SELECT count() FROM st.samples_local")
		if ! queued && [ "$a $b" = "$last" ] && [ "$a" -gt 0 ] && [ "$b" -gt 0 ]; then
			return 0
		fi
		last="$a $b"
		sleep 0.5
	done
	return 1
}
check "rows of both hosts are stored on both shards (hashed by host)" settled

# --- report over the Distributed table: the acceptance ---
# This workload's process only: the agents see the whole machine, where
# other runs of hot_fp may come and go.
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S; }
ls_ns=$(grep -oE '"start_wall_ns": *[0-9]+' "$WORK/local.json" | grep -oE '[0-9]+$')
dur_ns=$(grep -oE '"duration_ns": *[0-9]+' "$WORK/local.json" | grep -oE '[0-9]+$')
LS=$(( (ls_ns + 500000000) / 1000000000 ))
LE=$(( (ls_ns + dur_ns + 500000000) / 1000000000 ))
echo "# local recording: $(utc $LS) to $(utc $LE)"
"$B" report "$U1" --where program=hot_fp --where pid=$HOT --since "$(utc $LS)" --until "$(utc $LE)" \
	-o "$WORK/fleet.folded" -q
for f in hot_a hot_b hot_c; do
	l=$(share "$WORK/local.folded" $f)
	s=$(share "$WORK/fleet.folded" $f)
	echo "# $f: local $l%, store (hosts a+b) $s%"
	check "$f: the store's share over both hosts ($s%) is within 1 point of the local profile's ($l%)" \
		awk -v a="$l" -v b="$s" 'BEGIN { d = a - b; exit !(d < 1 && d > -1 && b > 5) }'
done
if grep -q '^hot_fp @a;' "$WORK/fleet.folded" && grep -q '^hot_fp @b;' "$WORK/fleet.folded"; then
	ok "the merged tree holds both hosts' processes"
else
	not_ok "the merged tree holds both hosts' processes"
	cut -c1-160 "$WORK/fleet.folded" | head -8 | sed 's/^/#   /'
	ch_query fleet-1 "SELECT host, program, count(), sum(samples) FROM st.samples GROUP BY host, program ORDER BY host, program" | sed 's/^/#   /'
fi
"$B" report "$U1" --where host=a -f folded >"$WORK/a.folded"
"$B" report "$U1" --where host=b -f folded >"$WORK/b.folded"
check "--where host=a: host a's own tree, nothing of b" \
	bash -c "grep -q '^hot_fp @a;.*hot_a' '$WORK/a.folded' && ! grep -q ' @b;' '$WORK/a.folded'"
check "--where host=b: host b's own tree, nothing of a" \
	bash -c "grep -q '^hot_fp @b;.*hot_a' '$WORK/b.folded' && ! grep -q ' @a;' '$WORK/b.folded'"
"$B" report "$U2" --where program=threads --where env=test -f folded >"$WORK/thr.folded"
check "the second program: its own tree from the other shard's URL (label filter too)" \
	bash -c "grep -q 'spin_a' '$WORK/thr.folded' && grep -q 'spin_b' '$WORK/thr.folded' && ! grep -q hot_a '$WORK/thr.folded'"
"$B" report "$U1" --where "host=a' OR 1=1 OR host='b" >"$WORK/inj.txt" 2>&1
check_grep "a filter value is a string, never SQL: a quote in it matches nothing" \
	"No samples" "$WORK/inj.txt"

# --- every output format ---
for ext in txt json html folded speedscope.json pb.gz; do
	"$B" report "$U1" --where program=hot_fp -o "$WORK/out.$ext" -q || echo "# report -o out.$ext failed"
done
check_grep "text: the header names the store and the filter" \
	"^sampletop: clickhouse://127.0.0.1:$P/st --where program=hot_fp" "$WORK/out.txt"
"$B" report "$WORK/out.json" --processes -f folded >"$WORK/rt.folded"
"$B" report "$U1" --where program=hot_fp --processes -f folded >"$WORK/direct.folded"
check "json: the saved profile reloads to the same folded stacks" cmp -s "$WORK/rt.folded" "$WORK/direct.folded"
check "html: a page naming hot_a" bash -c "grep -q '<html' '$WORK/out.html' && grep -q 'hot_a' '$WORK/out.html'"
check "folded: the hot path with each host's process" grep -q '^hot_fp @a;.*main;hot_a;leaf ' "$WORK/out.folded"
check "speedscope: valid JSON naming hot_a" \
	bash -c "python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '$WORK/out.speedscope.json' && grep -q '\"hot_a\"' '$WORK/out.speedscope.json'"
if command -v go >/dev/null; then
	go tool pprof -top "$WORK/out.pb.gz" >"$WORK/pprof.top" 2>&1
	check_grep "pprof: go tool pprof -top reads it and lists hot_a" "hot_a" "$WORK/pprof.top"
else
	skip "go is not installed (go tool pprof reads the pprof output)"
fi

# --- ranges: --since/--until and diff of two ranges ---
MID=$(utc $((T0 + RUN / 2)))
"$B" report "$U1" --where program=hot_fp --since "$(utc $((T0 - 60)))" >"$WORK/all.txt"
"$B" diff --where program=hot_fp "$U1" --until "$MID" "$U1" --since "$MID" >"$WORK/diff.txt" 2>&1
total=$(grep -oE '^[0-9,]+ samples' "$WORK/all.txt" | tr -d , | grep -oE '[0-9]+')
before=$(grep -E '^before:' "$WORK/diff.txt" | grep -oE '; [0-9]+ samples' | grep -oE '[0-9]+')
after=$(grep -E '^after:' "$WORK/diff.txt" | grep -oE '; [0-9]+ samples' | grep -oE '[0-9]+')
echo "# range: $total samples = $before before $MID + $after after"
check "diff of two ranges: [.., $MID) and [$MID, ..) split the run's samples ($before + $after = $total)" \
	test -n "$total" -a -n "$before" -a -n "$after" -a "$((before + after))" = "$total" -a "${before:-0}" -gt 0 -a "${after:-0}" -gt 0
check_grep "diff of two ranges: each side named by its range" "^after: .*--since $MID" "$WORK/diff.txt"
"$B" diff "$U1" --where host=a "$U2" --where host=b --where program=hot_fp >"$WORK/diff2.txt" 2>&1
check "diff of two hosts: host=a before, host=b after" \
	bash -c "grep -q '^before: .*--where host=a' '$WORK/diff2.txt' && grep -q '^after: .*--where host=b --where program=hot_fp' '$WORK/diff2.txt'"
"$B" report "$U1" --since "$(utc $((T0 + 3600)))" >"$WORK/future.txt" 2>&1
check "a range with no windows: No samples, exit 0" \
	bash -c "grep -q 'No samples' '$WORK/future.txt' && grep -q '^Store: 0 windows' '$WORK/future.txt'"
"$B" report "$U1" --since 30s --until 1m >"$WORK/backwards.txt" 2>&1
check "--until before --since: a usage error (exit 2)" test $? = 2

# --- errors: the server's own message, one line, non-zero exit ---
"$B" report "clickhouse://127.0.0.1:$P/nope" >"$WORK/nodb.out" 2>"$WORK/nodb.err"
rc=$?
check "a missing database: the server's message on one line, exit 1" \
	bash -c "[ $rc = 1 ] && [ \$(wc -l <'$WORK/nodb.err') = 1 ] && grep -q \"Database nope doesn't exist\" '$WORK/nodb.err'"
echo wrong >"$WORK/pw"
"$B" report "clickhouse://sampletop@127.0.0.1:$P/st" --password-file "$WORK/pw" 2>"$WORK/pw.err"
rc=$?
check "a refused password: the server's message, exit 1" \
	bash -c "[ $rc = 1 ] && grep -q 'Wrong password for user sampletop' '$WORK/pw.err'"
printf '%s\n' "$CH_TEST_PASSWORD" >"$WORK/pw"
SAMPLETOP_CLICKHOUSE_PASSWORD=wrong "$B" report "clickhouse://sampletop@127.0.0.1:$P/st" \
	--password-file "$WORK/pw" --where host=a -f folded >"$WORK/pwok.folded" 2>&1
check "--password-file: the right password reads (and wins over the environment)" \
	grep -q '^hot_fp @a;' "$WORK/pwok.folded"
SAMPLETOP_CLICKHOUSE_PASSWORD=$CH_TEST_PASSWORD "$B" report "clickhouse://sampletop@127.0.0.1:$P/st" \
	--where host=b -f folded >"$WORK/pwenv.folded" 2>&1
check "SAMPLETOP_CLICKHOUSE_PASSWORD: the password from the environment" \
	grep -q '^hot_fp @b;' "$WORK/pwenv.folded"

# --- the live view follows the store ---
if command -v tmux >/dev/null; then
	"${TM[@]}" new-session -d -s live -x 160 -y 40 \
		"$B live $U1 --since 10m --where program=threads --window 1; echo live-exited-\$?; sleep 30"
	"${TM[@]}" set-option -t live status off >/dev/null
	livescreen() { "${TM[@]}" capture-pane -p -t live >"$WORK/live.screen"; }
	wait_screen() {
		local i
		for ((i = 0; i < 100; i++)); do
			livescreen
			grep -qE -- "$1" "$WORK/live.screen" && return 0
			sleep 0.1
		done
		return 1
	}
	if wait_screen 'threads @a' && wait_screen 'threads @b'; then
		ok "live: the store's tree on the screen (threads of both hosts)"
	else
		not_ok "live: the store's tree on the screen (threads of both hosts)"
		sed 's/^/#   |/' "$WORK/live.screen"
	fi
	# A new window of a new host, written by hand: the view shows it after a re-read.
	d=$(date -u +%F)
	t=$(date -u +%s)
	ch_query fleet-1 "INSERT INTO st.samples_local FORMAT JSONEachRow
{\"day\":\"$d\",\"window_start\":$t,\"window_ms\":1000,\"host\":\"c-new\",\"service\":\"\",\"program\":\"threads\",\"pid\":7,\"labels\":[],\"stack_hash\":\"4242\",\"samples\":100000,\"wall_ns\":0,\"freq_hz\":99}" >/dev/null
	if wait_screen 'threads @c-new'; then
		ok "live: a window written after it opened appears at the next re-read"
	else
		not_ok "live: a window written after it opened appears at the next re-read"
		sed 's/^/#   |/' "$WORK/live.screen"
	fi
	"${TM[@]}" send-keys -t live q
	if wait_screen 'live-exited-0'; then
		ok "live: q closes the view, exit status 0"
	else
		not_ok "live: q closes the view, exit status 0"
		sed 's/^/#   |/' "$WORK/live.screen"
	fi
else
	skip "tmux is not installed (the live view needs a terminal)"
	skip "tmux is not installed"
	skip "tmux is not installed"
fi
finish

# sampletop agent into real ClickHouse servers that this suite starts (one
# server, then a two-shard cluster): the schema made on a fresh database,
# windows of the 60/30/10 workload arriving whole, stacks once per hash,
# the service from the cgroup, a refused password, retention, and two
# agents as two hosts through the Distributed tables.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/lib_clickhouse.sh"
plan 37
trap 'ch_stop_all; cleanup' EXIT

if ! ch_available; then
	skip 37 "clickhouse-server or curl missing (scripts/deps.sh --test installs them)"
	finish
	exit
fi
build_target hot_fp hot.c -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-shrink-wrap
build_target offcpu_fp offcpu.c -O2 -g -no-pie -fno-omit-frame-pointer
build_target forker forker.c -O2 -g -fno-omit-frame-pointer

# q SERVER SQL: one value (TabSeparated), "ERR" when the query fails.
q() { ch_query "$1" "$2" 2>/dev/null || echo ERR; }

P=$(ch_free_port)
setup "one ClickHouse server on port $P" ch_start one "$P" $((P + 1))
URL=clickhouse://127.0.0.1:$P/st1

# The workload in a cgroup named like a systemd unit (the v2 hierarchy,
# where systemd keeps its units), for the service column.
start "$TARGETS/hot_fp" 40
HOT=$PID
CG=
for root in /sys/fs/cgroup/unified /sys/fs/cgroup; do
	if [ -f "$root/cgroup.procs" ] && mkdir -p "$root/sampletop-hot.service" 2>/dev/null &&
		echo "$HOT" >"$root/sampletop-hot.service/cgroup.procs" 2>/dev/null; then
		CG=$root/sampletop-hot.service
		break
	fi
done
uncgroup() {
	[ -n "$CG" ] || return 0
	echo "$HOT" >"$(dirname "$CG")/cgroup.procs" 2>/dev/null
	rmdir "$CG" 2>/dev/null
}

# A partition older than the retention (1 day), there before the agent.
q one "CREATE DATABASE st1" >/dev/null

t0=$(date +%s.%N)
"$ST" agent --spool-dir "$WORK/spool" --to "$URL" --window 5s -d 25 --retention 1 --label env=test --label zone=z1 \
	>"$WORK/agent.out" 2>"$WORK/agent.err" &
AG=$!
# Once the agent made the tables: an old row for the retention check.
for _ in $(seq 50); do
	[ "$(q one "EXISTS TABLE st1.windows")" = 1 ] && break
	sleep 0.1
done
q one "INSERT INTO st1.windows (day, window_start, host, seq) VALUES (today() - 3, now() - 259200, 'old', 1)" >/dev/null
wait "$AG"
rc=$?
t1=$(date +%s.%N)
uncgroup
check "the agent ran 25 s and exited 0 (rc $rc)" test "$rc" = 0
check_grep "it said what it samples, at 49 Hz by default" '^sampletop: agent: sampling all processes at 49 Hz' "$WORK/agent.err"
tables=$(q one "SELECT groupArray(name) FROM (SELECT name FROM system.tables WHERE database = 'st1' ORDER BY name)")
check "it created samples, stacks and windows in a fresh database (got $tables)" \
	test "$tables" = "['samples','stacks','windows']"

read -r nw s1 sN useq < <(q one "SELECT count(), min(seq), max(seq), uniqExact(seq) FROM st1.windows WHERE host != 'old'")
check "windows numbered 1..N, each once (N=$nw: $s1..$sN, $useq distinct)" \
	test "$nw" -ge 5 -a "$s1" = 1 -a "$sN" = "$nw" -a "$useq" = "$nw"
check "windows of ~5 s (--window 5s), the last one the rest" \
	test "$(q one "SELECT countIf(window_ms BETWEEN 4500 AND 5600) FROM st1.windows WHERE seq < $nw AND host != 'old'")" = $((nw - 1))
ws=$(q one "SELECT sum(samples) FROM st1.windows WHERE host != 'old'")
ss=$(q one "SELECT sum(samples) FROM st1.samples")
check "the windows' sample counts match the samples rows ($ws, $ss)" test "$ws" = "$ss" -a "$ss" -gt 0
q one "SELECT window_start, sum(samples) FROM st1.samples GROUP BY window_start ORDER BY window_start" >"$WORK/by_window.samples"
q one "SELECT window_start, samples FROM st1.windows WHERE samples > 0 AND host != 'old' ORDER BY window_start" >"$WORK/by_window.windows"
check "... window by window" cmp -s "$WORK/by_window.samples" "$WORK/by_window.windows"
read -r nst ust < <(q one "SELECT count(), uniqExact(stack_hash) FROM st1.stacks")
check "each stack stored once per hash ($nst rows, $ust hashes)" test "$nst" = "$ust" -a "$nst" -gt 0
check "every samples row's stack is in stacks" \
	test "$(q one "SELECT count() FROM st1.samples WHERE stack_hash NOT IN (SELECT stack_hash FROM st1.stacks)")" = 0
hot=$(q one "SELECT sum(samples) FROM st1.samples WHERE program = 'hot_fp'")
share_of() {
	q one "SELECT round(100 * sum(samples) / $hot, 1) FROM st1.samples WHERE program = 'hot_fp' AND stack_hash IN (SELECT stack_hash FROM st1.stacks WHERE has(names, '$1'))"
}
a=$(share_of hot_a); b=$(share_of hot_b); c=$(share_of hot_c)
check "hot_fp's frames are named in the store: hot_a $a%, hot_b $b%, hot_c $c% of $hot samples (60/30/10 ± 5)" \
	awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { exit !(a >= 55 && a <= 65 && b >= 25 && b <= 35 && c >= 5 && c <= 15) }'
check "stacks hold modules too (hot_a in the hot_fp binary)" \
	test "$(q one "SELECT count() FROM st1.stacks WHERE has(names, 'hot_a') AND has(modules, '$TARGETS/hot_fp')")" -gt 0
read -r host labels < <(q one "SELECT any(host), any(labels) FROM st1.samples")
check "rows carry the host name and the labels sorted ($host $labels)" \
	test "$host" = "$(hostname)" -a "$labels" = "['env=test','zone=z1']"
if [ -n "$CG" ]; then
	svc=$(q one "SELECT groupUniqArray(service) FROM st1.samples WHERE pid = $HOT")
	check "the service is the process's cgroup unit ($svc)" test "$svc" = "['sampletop-hot.service']"
else
	skip "no writable cgroup hierarchy to put the workload in a unit"
fi
check "the day partition older than --retention 1 was dropped" \
	test "$(q one "SELECT count() FROM st1.windows WHERE host = 'old'")" = 0
check_grep "... and the agent said so" 'dropped 1 day partitions older than 1 days' "$WORK/agent.err"

# Ingest figures (for the notes): rows per second and bytes on disk per window.
rows=$(q one "SELECT count() FROM st1.samples")
bytes=$(q one "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'st1' AND active")
echo "# ingest: $rows samples rows + $nst stacks rows in $nw windows over $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" \
	"= $(awk -v r="$rows" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", r / (b - a) }') samples rows/s;" \
	"$bytes bytes on disk = $((bytes / nw)) bytes per window (system.parts)"

# A refused password: the server's own message, and the agent stops (exit 1)
# at start instead of sampling into a queue that can never drain.
SAMPLETOP_CLICKHOUSE_PASSWORD=wrong "$ST" agent --spool-dir "$WORK/spool" --to "clickhouse://sampletop@127.0.0.1:$P/st2" -d 3 \
	>/dev/null 2>"$WORK/pw.err"
rc=$?
check "a refused password: exit 1 (rc $rc)" test "$rc" = 1
check_grep "... with the server's message (escaped, its first line)" \
	"^sampletop: clickhouse://sampletop@127.0.0.1:$P/st2: [a-z' ]+: Code: 193, .*Wrong password for user sampletop$" "$WORK/pw.err"
printf '%s\n' "$CH_TEST_PASSWORD" >"$WORK/pw"
"$ST" agent --spool-dir "$WORK/spool" --to "clickhouse://sampletop@127.0.0.1:$P/st2" --password-file "$WORK/pw" -d 3 --window 1s -q \
	2>"$WORK/pw2.err"
rc=$?
check "the right password from --password-file: windows arrive (rc $rc)" \
	test "$rc" = 0 -a "$(q one "SELECT count() FROM st2.windows")" -ge 2
"$ST" agent --spool-dir "$WORK/spool" --to "clickhouse://sampletop:$CH_TEST_PASSWORD@127.0.0.1:$P/st2" -d 1 2>"$WORK/pw3.err"
rc=$?
check "a password in the URL: refused, exit 2, not echoed (rc $rc)" \
	test "$rc" = 2 -a "$(grep -c -- "$CH_TEST_PASSWORD" "$WORK/pw3.err")" = 0
check_grep "... saying where a password goes" 'password in the URL is refused.*--password-file' "$WORK/pw3.err"

# No server at all: sampling goes on; what could not be sent is said, exit 1.
DEAD=$(ch_free_port)
"$ST" agent --spool-dir "$WORK/spool" --to "clickhouse://127.0.0.1:$DEAD/st3" -d 2 --window 1s --timeout 1 2>"$WORK/dead.err"
rc=$?
check "no server: the agent samples on and exits 1 at the end (rc $rc)" test "$rc" = 1
check_grep "... counting the windows not sent, with the transport error" \
	'0 windows sent .* [1-9][0-9]* not sent .*: .*connection refused' "$WORK/dead.err"
# --wall: the offcpu target's threads sleep, wait on a pipe, a lock and
# the CPU; rows carry their wall time. Exited threads merged after every
# window (SAMPLETOP_COALESCE_THREADS=1) while forker's children come and go,
# and a fresh profile after every window (SAMPLETOP_AGENT_RENEW=1 distinct
# stack), whose open off-CPU intervals carry over.
start "$TARGETS/offcpu_fp" 0
OFF=$PID
nth=$(ls /proc/$OFF/task | wc -l)
start "$TARGETS/forker" 400 30
FORK=$PID
PYT=
if command -v python3 >/dev/null; then
	start python3 "$TOP/tests/targets/py_hot.py" 14
	PYT=$PID
fi
SAMPLETOP_COALESCE_THREADS=1 SAMPLETOP_AGENT_RENEW=1 "$ST" agent --spool-dir "$WORK/spool" \
	--to "clickhouse://127.0.0.1:$P/st4" --wall --window 2s -d 11 -q -v 2>"$WORK/wall.err"
rc=$?
kill "$OFF" "$FORK" $PYT 2>/dev/null
read -r nrows nwall < <(q one "SELECT count(), countIf(wall_ns > 0) FROM st4.samples WHERE pid = $OFF")
check "--wall: the agent ran (rc $rc) and offcpu's rows carry wall_ns ($nwall of $nrows)" \
	test "$rc" = 0 -a "$nwall" -gt 0 -a "$nwall" = "$nrows"
sleeping=$(q one "SELECT sum(wall_ns) FROM st4.samples WHERE pid = $OFF AND stack_hash IN (SELECT stack_hash FROM st4.stacks WHERE names[length(names)] = '[sleeping]' AND has(names, 'sleeper_nap'))")
check "... with [sleeping] under sleeper_nap among its stacks (${sleeping:-0} ns)" test "${sleeping:-0}" -gt 0
# Whole windows (not the first nor the last): offcpu's wall time = the
# window's length x its $nth threads (the pieces of open intervals come
# each second, a few hundred ms late: a window may lend to the next).
ratio=$(q one "SELECT round(sum(s.wall_ns) / (SELECT sum(window_ms) FROM st4.windows WHERE seq > 1 AND seq < (SELECT max(seq) FROM st4.windows)) / 1e6, 2) FROM st4.samples AS s WHERE pid = $OFF AND window_start IN (SELECT window_start FROM st4.windows WHERE seq > 1 AND seq < (SELECT max(seq) FROM st4.windows))")
check "... the whole windows' wall time is their length x $nth threads (x $ratio)" \
	awk -v r="$ratio" -v n="$nth" 'BEGIN { exit !(r >= n * 0.85 && r <= n * 1.15) }'
read -r offs ons < <(q one "SELECT sumIf(samples, names[length(names)] IN ('[sleeping]', '[waiting on a lock]', '[reading pipe]')), sumIf(samples, has(names, 'spin_forever')) FROM st4.samples ANY LEFT JOIN (SELECT stack_hash, names FROM st4.stacks) USING stack_hash WHERE pid = $OFF")
check "... samples are the on-CPU samples: none under the off-CPU leaves ($offs), $ons under spin_forever" \
	test "$offs" = 0 -a "$ons" -gt 0
ws=$(q one "SELECT sum(samples), sum(wall_ns) FROM st4.windows")
ss=$(q one "SELECT sum(samples), sum(wall_ns) FROM st4.samples")
check "... the windows' samples and wall_ns match their rows ($ws; $ss)" test "$ws" = "$ss"
check_grep "a fresh profile after each window (-v says so)" 'a fresh profile after window 4 ' "$WORK/wall.err"
read -r nw4 wsl miss < <(q one "SELECT (SELECT count() FROM st4.windows), uniqExact(window_start), (SELECT count() FROM st4.samples WHERE stack_hash NOT IN (SELECT stack_hash FROM st4.stacks)) FROM st4.samples WHERE pid = $OFF AND stack_hash IN (SELECT stack_hash FROM st4.stacks WHERE names[length(names)] = '[sleeping]' AND has(names, 'sleeper_nap'))")
check "... every window across the renewals has sleeper_nap [sleeping] ($wsl of $nw4) and every row's stack stored ($miss missing)" \
	test "$wsl" = "$nw4" -a "$nw4" -ge 5 -a "$miss" = 0
if [ -n "$PYT" ]; then
	pyw=$(q one "SELECT uniqExact(window_start) FROM st4.samples WHERE pid = $PYT AND samples > 0 AND stack_hash IN (SELECT stack_hash FROM st4.stacks WHERE has(names, 'hot_loop') AND has(kinds, 2))")
	check "... Python frames named again after each renewal: hot_loop in $pyw of $nw4 windows" \
		test "$pyw" -ge $((nw4 - 1))
else
	skip "no python3"
fi
read -r fk f0 < <(q one "SELECT countIf(program = 'forker' AND pid != 0), countIf(pid = 0) FROM st4.samples")
check "exited threads merged between windows only: forker's children keep their pid, no pid 0 row ($fk rows, $f0 with pid 0)" \
	test "$fk" -gt 0 -a "$f0" = 0
ch_stop one

# Two shards: --init-cluster, then two agents as hosts a and b writing
# through the Distributed tables of their own shard.
C=$(ch_free_port)
setup "two shards (ports $C, $((C + 2))) of cluster two" ch_cluster2 two "$C" $((C + 2))
U1=clickhouse://127.0.0.1:$C/fleet
U2=clickhouse://127.0.0.1:$((C + 2))/fleet
"$ST" agent --spool-dir "$WORK/spool" --init-cluster two --to "$U1" --to "$U2" >"$WORK/init.out" 2>&1
rc=$?
e1=$(q two-1 "SELECT groupArray(engine) FROM (SELECT engine FROM system.tables WHERE database = 'fleet' ORDER BY name)")
e2=$(q two-2 "SELECT groupArray(engine) FROM (SELECT engine FROM system.tables WHERE database = 'fleet' ORDER BY name)")
want="['Distributed','MergeTree','Distributed','ReplacingMergeTree','Distributed','MergeTree']"
check "--init-cluster: local and Distributed tables on both shards (rc $rc; $e1)" \
	test "$rc" = 0 -a "$e1" = "$want" -a "$e2" = "$want"
"$ST" agent --spool-dir "$WORK/spool" --to "$U1" --window 3s -d 12 -q --label host=a 2>"$WORK/a.err" &
A=$!
"$ST" agent --spool-dir "$WORK/spool" --to "$U2" --window 3s -d 12 -q --label host=b 2>"$WORK/b.err" &
B=$!
wait "$A"; ra=$?
wait "$B"; rb=$?
check "two agents as hosts a and b ran and exited 0 ($ra, $rb)" test "$ra" = 0 -a "$rb" = 0
# Distributed inserts reach the other shard in the background: wait for them.
for _ in $(seq 100); do
	w=$(q two-1 "SELECT sum(samples) FROM fleet.windows")
	s=$(q two-2 "SELECT sum(samples) FROM fleet.samples")
	[ "$w" = "$s" ] && [ "$(q two-1 "SELECT uniqExact(host) FROM fleet.windows")" = 2 ] && break
	sleep 0.1
done
hosts=$(q two-2 "SELECT groupArray(h) FROM (SELECT concat(host, ':', toString(count()), ':', toString(max(seq))) AS h FROM fleet.windows GROUP BY host ORDER BY host)")
check "the Distributed windows table holds both hosts' windows 1..4 ($hosts)" \
	test "$hosts" = "['a:4:4','b:4:4']"
l1=$(q two-1 "SELECT groupUniqArray(host) FROM fleet.samples_local")
l2=$(q two-2 "SELECT groupUniqArray(host) FROM fleet.samples_local")
check "rows are sharded by host: one host per shard ($l1, $l2)" \
	test "$(echo "$l1$l2" | tr -dc ab | fold -w1 | sort | tr -d '\n')" = ab
check "sample sums agree through either shard's Distributed tables ($w, $s)" test "$w" = "$s" -a "$s" -gt 0

ch_stop_all
left=$(pgrep -f "$CH_DIR" | tr '\n' ' ')
check "every server this suite started is stopped (${left:-none left})" test -z "$left"
finish

#!/usr/bin/env bash
# The ClickHouse store at fleet scale, simulated on one machine: a real
# agent run (FLEET_SEED_SECONDS, default 60: 10 s windows of -a with the
# 60/30/10 workload) is the seed; its windows are then
#  - sent over HTTP as FLEET_HOSTS (200) agents would send one round of
#    windows (one POST each, the agent's JSONEachRow): the ingest rate;
#  - replayed inside the server as FLEET_HOSTS hosts x 1 hour of windows:
#    bytes stored per host-hour once merged (system.parts), beside the same
#    windows as pprof files (one recorded 10 s window, as sampletop writes
#    it), and the time of the query a report over the last hour of one
#    service runs (and of `sampletop report clickhouse://...` when this build
#    reads the store).
# Needs clickhouse-server and curl (scripts/deps.sh --test); root (BPF).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ST=${ST:-$TOP/build/sampletop}
HOSTS=${FLEET_HOSTS:-200}
SEED=${FLEET_SEED_SECONDS:-60}
. "$TOP/tests/lib_clickhouse.sh"
W=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; ch_stop_all; rm -rf "$W"' EXIT
ch_available || { echo "# ch_fleet: clickhouse-server or curl missing: skipped"; exit 0; }
P=$(ch_free_port)
ch_start fleet "$P" $((P + 1)) || exit 1
q() { ch_query fleet "$1"; }
# qx SQL: a statement whose answer is not wanted; its error is shown, and ends the run.
qx() {
	local out
	out=$(ch_query fleet "$1") || { echo "# ch_fleet: $out"; exit 1; }
}
now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }'; }

gcc -O2 -fno-omit-frame-pointer -fno-optimize-sibling-calls -o "$W/hot" "$TOP/tests/targets/hot.c"
"$W/hot" $((SEED + 20)) >/dev/null &
pids+=($!)
"$ST" agent --to "clickhouse://127.0.0.1:$P/seed" --spool-dir "$W/spool" --window 10s \
	-d "$SEED" -q 2>"$W/agent.err" &
pids+=($!)
ag=$!
# The same kind of window as a pprof file, recorded alongside.
"$ST" -q -a -F 49 -d 10 -o "$W/window.pb.gz"
wait "$ag" || { echo "# ch_fleet: the seed agent failed:"; cat "$W/agent.err"; exit 1; }
nseed=$(q "SELECT count() FROM seed.windows")
rows_seed=$(q "SELECT count() FROM seed.samples")

# One round of windows from every host, as the agents post them.
qx "CREATE DATABASE fleet"
for t in samples stacks windows; do
	qx "CREATE TABLE fleet.$t AS seed.$t"
done
# The seed window with the most rows (the first is short of a warm start).
first=$(q "SELECT window_start FROM seed.samples GROUP BY window_start ORDER BY count() DESC LIMIT 1")
q "SELECT * FROM seed.samples WHERE window_start = '$first' FORMAT JSONEachRow" >"$W/win.samples"
q "SELECT * FROM seed.stacks FORMAT JSONEachRow" >"$W/win.stacks"
rows_win=$(wc -l <"$W/win.samples")
for ((h = 0; h < HOSTS; h++)); do
	sed "s/\"host\":\"[^\"]*\"/\"host\":\"host-$h\"/" "$W/win.samples" >"$W/post.$h"
done
# Agents post on their own clocks: FLEET_PARALLEL (8) at a time.
t0=$(now_s)
for ((h = 0; h < HOSTS; h++)); do echo "$W/post.$h"; done |
	xargs -P "${FLEET_PARALLEL:-8}" -I{} curl -sf --data-binary @{} \
		"http://127.0.0.1:$P/?query=INSERT%20INTO%20fleet.samples%20FORMAT%20JSONEachRow" ||
	{ echo "# ch_fleet: an insert failed"; exit 1; }
post_s=$(elapsed "$t0")
parts=$(q "SELECT count() FROM system.parts WHERE database = 'fleet' AND table = 'samples' AND active")
rm -f "$W"/post.*
qx "DROP TABLE fleet.samples"
qx "CREATE TABLE fleet.samples AS seed.samples"

# An hour of every host, replayed from the seed windows inside the server:
# window times shifted to the last hour, each host its own name, each
# program its service (no systemd here: the seed's services are empty).
reps=$(( (360 + nseed - 1) / nseed ))
smin=$(q "SELECT toUInt32(min(window_start)) FROM seed.windows")
base=$(( $(date +%s) - 3600 ))
t0=$(now_s)
# One statement per replay of the seed: each stays well under the
# server's memory limit.
for ((rep = 0; rep < reps; rep++)); do
	shift_s=$(( base - smin + rep * nseed * 10 ))
	qx "INSERT INTO fleet.samples SELECT toDate(ws), ws, window_ms, concat('host-', toString(h)),
		if(service = '', concat(program, '.service'), service), program, pid, labels,
		stack_hash, samples, wall_ns, freq_hz
		FROM (SELECT *, h, toDateTime(toUInt32(window_start) + $shift_s) AS ws
		      FROM seed.samples ARRAY JOIN range($HOSTS) AS h)
		WHERE ws < toDateTime($base + 3600)"
	qx "INSERT INTO fleet.windows SELECT toDate(ws), ws, window_ms, concat('host-', toString(h)),
		labels, seq + $((rep * nseed)), agent_start, samples, wall_ns, lost, spool_dropped,
		counters
		FROM (SELECT *, h, toDateTime(toUInt32(window_start) + $shift_s) AS ws
		      FROM seed.windows ARRAY JOIN range($HOSTS) AS h)
		WHERE ws < toDateTime($base + 3600)"
done
# Each agent sends each stack once a day: HOSTS copies, one kept after merging.
qx "INSERT INTO fleet.stacks SELECT day, stack_hash, names, modules, kinds
	FROM seed.stacks ARRAY JOIN range($HOSTS) AS h SETTINGS max_block_size = 64"
replay_s=$(elapsed "$t0")
for t in samples stacks windows; do qx "OPTIMIZE TABLE fleet.$t FINAL"; done
rows=$(q "SELECT count() FROM fleet.samples")
read -r b_samples b_stacks b_windows < <(q "SELECT sumIf(bytes_on_disk, table = 'samples'),
	sumIf(bytes_on_disk, table = 'stacks'), sumIf(bytes_on_disk, table = 'windows')
	FROM system.parts WHERE database = 'fleet' AND active")
pprof=$(stat -c %s "$W/window.pb.gz")

# The report's queries: the hour of one service over every host.
svc=hot.service
t0=$(now_s)
q "SELECT stack_hash, sum(samples), sum(wall_ns) FROM fleet.samples
	WHERE window_start >= now() - 3600 AND service = '$svc' GROUP BY stack_hash
	FORMAT JSONEachRow" >"$W/q1"
q "SELECT stack_hash, any(names), any(modules), any(kinds) FROM fleet.stacks
	WHERE stack_hash IN (SELECT stack_hash FROM fleet.samples WHERE window_start >= now() - 3600
	AND service = '$svc') GROUP BY stack_hash FORMAT JSONEachRow" >"$W/q2"
query_s=$(elapsed "$t0")
hosts_in=$(q "SELECT uniqExact(host) FROM fleet.samples WHERE service = '$svc'")

echo "ch_fleet.hosts: $HOSTS"
echo "ch_fleet.seed_windows: $nseed ($rows_seed samples rows; $rows_win in the one posted)"
echo "ch_fleet.http_round_seconds: $post_s ($HOSTS POSTs of one window each, ${FLEET_PARALLEL:-8} at a time; $parts active parts after)"
echo "ch_fleet.http_rows_per_second: $(awk -v r="$rows_win" -v h="$HOSTS" -v s="$post_s" 'BEGIN { printf "%.0f", r * h / s }')"
echo "ch_fleet.http_headroom: $(awk -v s="$post_s" 'BEGIN { printf "%.1f", 10 / s }') (10 s windows / time to take one round)"
echo "ch_fleet.replay_seconds: $replay_s ($rows samples rows for $HOSTS hosts x 1 h)"
echo "ch_fleet.bytes_per_host_hour: $(( (b_samples + b_windows + b_stacks) / HOSTS ))" \
	"(samples $((b_samples / HOSTS)), windows $((b_windows / HOSTS)), stacks $((b_stacks / HOSTS)) once merged)"
echo "ch_fleet.pprof_bytes_per_host_hour: $((pprof * 360)) (one 10 s -a window as .pb.gz: $pprof bytes, x 360)"
echo "ch_fleet.query_seconds: $query_s (service $svc, $hosts_in hosts, $(wc -l <"$W/q1") stacks)"
if "$ST" report --help 2>&1 | grep -q 'clickhouse://'; then
	t0=$(now_s)
	"$ST" report "clickhouse://127.0.0.1:$P/fleet" --since 1h --where "service=$svc" -o "$W/r.txt" 2>"$W/r.err" ||
		{ echo "# ch_fleet: report failed:"; cat "$W/r.err"; }
	echo "ch_fleet.report_seconds: $(elapsed "$t0")"
fi

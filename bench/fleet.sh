#!/usr/bin/env bash
# The fleet at scale, simulated (issue 15): one process writes as 200
# labelled hosts x 1 hour of 10 s windows into a local ClickHouse server
# (started here from a config written here, stopped at the end), replaying
# a profile recorded on this machine (-a at the agent's 49 Hz for 10 s, the
# demo workload running; a saved fixture when recording is not possible).
# Prints the ingest rate, the bytes stored per host-hour after compression
# (system.parts) beside the same windows as gzip'd pprof files, and the time
# of `sampletop report URL --since 1h --where service=app.service` merging
# all 200 hosts (target: under 3 s on this 2-core machine).
# Environment: FLEET_HOSTS (200), FLEET_WINDOWS (360), FLEET_PROFILE (a saved
# profile to replay instead of recording one: the figures scale with its
# number of stacks, fleet.recorded_stacks, so compare runs on the same one).
# Lines are "key: value".
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
HOSTS=${FLEET_HOSTS:-200}
WINDOWS=${FLEET_WINDOWS:-360}
tmp=$(mktemp -d /tmp/sampletop-fleet.XXXXXX)
. "$TOP/tests/lib_clickhouse.sh"
CH_DIR=$tmp/ch
workload=
done_() {
	[ -n "$workload" ] && kill "$workload" 2>/dev/null
	ch_stop_all
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap done_ EXIT
if ! ch_available; then
	echo "fleet.skipped: clickhouse-server or curl missing"
	exit 0
fi

objs=$(make -s -C "$TOP" OUTPUT="$BUILD" lib-objs)
PKGS="libbpf libelf libdw ncursesw zlib liblzma jansson libcurl"
${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -I"$BUILD" -I"$TOP/include" -I"$TOP/user" \
	$(pkg-config --cflags $PKGS) -o "$tmp/fleet_writer" "$TOP/bench/fleet_writer.c" $objs \
	$(pkg-config --libs $PKGS) -liberty -lm -lpthread

# The recorded profile: the whole machine with the demo workload running.
if [ -n "${FLEET_PROFILE:-}" ]; then
	cp "$FLEET_PROFILE" "$tmp/rec.json"
	echo "fleet.profile: $FLEET_PROFILE"
else
	gcc -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-shrink-wrap \
		-o "$tmp/hot_fp" "$TOP/tests/targets/hot.c"
	"$tmp/hot_fp" 0 &
	workload=$!
	if "$BUILD/sampletop" -a -F 49 -d 10 -q -o "$tmp/rec.json" 2>"$tmp/rec.err"; then
		echo "fleet.profile: recorded (-a, 49 Hz, 10 s)"
	else
		cp "$TOP/tests/golden/fixture.json" "$tmp/rec.json"
		echo "fleet.profile: tests/golden/fixture.json (recording failed: $(head -1 "$tmp/rec.err"))"
	fi
	kill "$workload" 2>/dev/null
	workload=
fi

p=$(ch_free_port)
ch_start bench "$p" $((p + 1))
URL=clickhouse://127.0.0.1:$p/fleet
# The agent's own schema, as `sampletop agent --to URL` makes it.
"$BUILD/sampletop" agent --spool-dir "$tmp/spool" --to "$URL" -d 1 -q -F 1 >/dev/null 2>&1 || true
ch_query bench "TRUNCATE TABLE fleet.samples" >/dev/null
ch_query bench "TRUNCATE TABLE fleet.stacks" >/dev/null
ch_query bench "TRUNCATE TABLE fleet.windows" >/dev/null

echo "fleet.cpus: $(nproc)"
echo "fleet.loadavg: $(cut -d' ' -f1 /proc/loadavg)"
t0=$(date +%s.%N)
"$tmp/fleet_writer" "$tmp/rec.json" "$URL" "$HOSTS" "$WINDOWS"
t1=$(date +%s.%N)
echo "fleet.writer_wall_s: $(echo "$t1 - $t0" | bc)"

# Stored size once the parts are merged, as they are after a while.
for t in samples stacks windows; do
	ch_query bench "OPTIMIZE TABLE fleet.$t FINAL" >/dev/null
done
ch_query bench "SELECT table, sum(rows), sum(data_compressed_bytes), sum(data_uncompressed_bytes)
	FROM system.parts WHERE database = 'fleet' AND active GROUP BY table ORDER BY table" |
	while read -r t r c u; do
		[ -n "$t" ] || continue
		echo "fleet.stored_${t}_rows: $r"
		echo "fleet.stored_${t}_compressed_bytes: $c"
		echo "fleet.stored_${t}_uncompressed_bytes: $u"
	done
hh=$(echo "$HOSTS * $WINDOWS / 360" | bc -l)
comp=$(ch_query bench "SELECT sum(data_compressed_bytes) FROM system.parts WHERE database = 'fleet' AND active")
echo "fleet.stored_compressed_bytes_per_host_hour: $(echo "$comp / $hh" | bc)"

# The query: every host's hour of one service, merged. Wall time depends on
# what else runs on this shared machine: the CPU seconds of the server and
# of sampletop, measured beside it, do not.
srv=${_ch_pid[bench]}
srv_cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$srv/stat"; }
best=
for i in 1 2 3; do
	c0=$(srv_cpu)
	s=$(date +%s.%N)
	/usr/bin/time -f "%U %S" -o "$tmp/q.time" "$BUILD/sampletop" report "$URL" --since 1h \
		--where service=app.service -f folded >"$tmp/q.folded" 2>"$tmp/q.err" ||
		{ echo "fleet.query_failed: $(head -1 "$tmp/q.err")"; exit 1; }
	e=$(date +%s.%N)
	c1=$(srv_cpu)
	q=$(echo "$e - $s" | bc)
	echo "fleet.query_run${i}_s: $q"
	echo "fleet.query_run${i}_server_cpu_s: $(echo "$c1 - $c0" | bc)"
	echo "fleet.query_run${i}_client_cpu_s: $(awk '{ print $1 + $2 }' "$tmp/q.time")"
	if [ -z "$best" ] || [ "$(echo "$q < $best" | bc)" = 1 ]; then best=$q; fi
done
echo "fleet.query_loadavg: $(cut -d' ' -f1 /proc/loadavg)"
echo "fleet.query_best_s: $best"
echo "fleet.query_hosts_merged: $(sed 's/;.*//' "$tmp/q.folded" | sed 's/.* @//' | sort -u | wc -l)"
echo "fleet.query_folded_lines: $(wc -l <"$tmp/q.folded")"
s=$(date +%s.%N)
"$BUILD/sampletop" report "$URL" --since 1h -f text -o "$tmp/all.txt" -q
e=$(date +%s.%N)
echo "fleet.query_all_services_s: $(echo "$e - $s" | bc)"

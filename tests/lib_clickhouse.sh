# ClickHouse servers for the store tests: each one runs from a config this
# file writes under a temp dir (its own ports, data, logs and users), in the
# foreground of a background job whose pid we keep, and is stopped by it.
# Source after tests/lib.sh. Users: `default` (no password) and `sampletop`
# (password $CH_TEST_PASSWORD), both from localhost only.
#   ch_available                  0 when clickhouse-server and a client exist
#   ch_start NAME HTTP TCP [XML]  starts server NAME; XML is put inside
#                                 <remote_servers> (a cluster); waits for SELECT 1
#   ch_cluster2 NAME P1 P2        two shards (HTTP ports P1, P2; TCP ports
#                                 P1+1, P2+1) named NAME-1, NAME-2, each with
#                                 the cluster NAME over both
#   ch_stop NAME / ch_stop_all    stops NAME / every server started here
#   ch_query NAME SQL             runs SQL as `default`, prints the result
#   ch_free_port                  prints a base port P with P..P+3 unused
CH_TEST_PASSWORD=${CH_TEST_PASSWORD:-st-test-pw}
CH_DIR=${CH_DIR:-$(mktemp -d /tmp/sampletop-ch.XXXXXX)}
declare -A _ch_pid _ch_http

ch_available() {
	command -v clickhouse-server >/dev/null && command -v curl >/dev/null
}

# _ch_port_free PORT: nothing listens on 127.0.0.1:PORT.
_ch_port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }

ch_free_port() {
	local p k
	for ((p = 18100 + RANDOM % 400 * 4; ; p += 4)); do
		for ((k = 0; k < 4; k++)); do _ch_port_free $((p + k)) || continue 2; done
		echo "$p"
		return 0
	done
}

_ch_config() {
	local d=$1 http=$2 tcp=$3 cluster=${4:-}
	cat > "$d/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
	<logger><level>warning</level><log>$d/log/server.log</log>
		<errorlog>$d/log/error.log</errorlog><size>10M</size><count>1</count></logger>
	<http_port>$http</http_port>
	<tcp_port>$tcp</tcp_port>
	<listen_host>127.0.0.1</listen_host>
	<path>$d/data/</path>
	<tmp_path>$d/tmp/</tmp_path>
	<user_files_path>$d/user_files/</user_files_path>
	<format_schema_path>$d/format_schemas/</format_schema_path>
	<users_config>$d/users.xml</users_config>
	<default_profile>default</default_profile>
	<default_database>default</default_database>
	<timezone>UTC</timezone>
	<mark_cache_size>67108864</mark_cache_size>
	<uncompressed_cache_size>67108864</uncompressed_cache_size>
	<max_concurrent_queries>50</max_concurrent_queries>
	<mlock_executable>false</mlock_executable>
	<remote_servers>$cluster</remote_servers>
</yandex>
XML
	cat > "$d/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
	<profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
	<users>
		<default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
			<profile>default</profile><quota>default</quota></default>
		<sampletop><password>$CH_TEST_PASSWORD</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
			<profile>default</profile><quota>default</quota></sampletop>
	</users>
	<quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
		<result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
	</interval></default></quotas>
</yandex>
XML
}

ch_start() {
	local name=$1 http=$2 tcp=$3 cluster=${4:-} d="$CH_DIR/$1" i
	mkdir -p "$d"/{data,tmp,user_files,format_schemas,log}
	_ch_port_free "$http" && _ch_port_free "$tcp" || {
		echo "# ch_start $name: port $http or $tcp is in use" >&2
		return 1
	}
	_ch_config "$d" "$http" "$tcp" "$cluster"
	clickhouse-server --config-file="$d/config.xml" >"$d/log/stdout" 2>&1 &
	_ch_pid[$name]=$!
	_ch_http[$name]=$http
	for ((i = 0; i < 300; i++)); do
		[ "$(curl -s --max-time 2 "http://127.0.0.1:$http/?query=SELECT%201" 2>/dev/null)" = 1 ] && return 0
		kill -0 "${_ch_pid[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "# ch_start $name: the server did not answer; its log:" >&2
	tail -5 "$d/log/error.log" "$d/log/stdout" 2>/dev/null | sed 's/^/#   /' >&2
	ch_stop "$name"
	return 1
}

ch_cluster2() {
	local name=$1 p1=$2 p2=$3 xml
	xml="<$name>
		<shard><replica><host>127.0.0.1</host><port>$((p1 + 1))</port></replica></shard>
		<shard><replica><host>127.0.0.1</host><port>$((p2 + 1))</port></replica></shard>
	</$name>"
	ch_start "$name-1" "$p1" $((p1 + 1)) "$xml" && ch_start "$name-2" "$p2" $((p2 + 1)) "$xml"
}

ch_stop() {
	local pid=${_ch_pid[$1]:-} i
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "_ch_pid[$1]"
	return 0
}

ch_stop_all() {
	local n
	for n in "${!_ch_pid[@]}"; do ch_stop "$n"; done
	rm -rf "$CH_DIR"
}

# ch_query NAME SQL: the result as the server gives it (TabSeparated unless
# the SQL says FORMAT); an error prints the server's message and returns 1.
ch_query() {
	local out code
	out=$(curl -s -w '\n%{http_code}' --max-time 60 --data-binary "$2" \
		"http://127.0.0.1:${_ch_http[$1]}/" 2>&1)
	code=${out##*$'\n'}
	out=${out%$'\n'*}
	printf '%s\n' "$out"
	[ "$code" = 200 ]
}

/* store/ch_write.c, ch_http.c's URL and ch_schema.c's SQL: the rows the agent
 * sends, read back with jansson as the server would. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "store/ch_http.h"
#include "store/ch_schema.h"
#include "store/ch_write.h"
#include "tap.h"

#define DAY1 1795824000ull	/* 2026-11-28 00:00:00 UTC */
#define NS 1000000000ull

static frame_id_t fr(struct profile *p, const char *name, const char *module, uint8_t kind,
		     uint8_t flags)
{
	struct frame f = { .name = name, .module = module, .kind = kind, .flags = flags };

	return profile_frame(p, &f);
}

/* A profile: "app" pid 10 with two threads on stack A, pid 11 on stack A
 * and on stack B (whose leaf has a hostile name). */
static struct profile *fixture(uint32_t *stack_a, uint32_t *stack_b)
{
	struct profile *p = profile_new();
	frame_id_t a[] = { fr(p, "main", "/usr/bin/app", FRAME_NATIVE, 0),
			   fr(p, "work", "/usr/bin/app", FRAME_NATIVE, 0) };
	frame_id_t b[] = { a[0], fr(p, "evil\"\\\n\x01<\xff name", "/lib/x.so", FRAME_NATIVE, 0),
			   fr(p, "[sleeping]", "", FRAME_SPECIAL, FRAME_F_OFFCPU) };
	uint32_t t1 = profile_thread(p, 10, 10, "app", "app");
	uint32_t t2 = profile_thread(p, 10, 12, "worker", "app");
	uint32_t t3 = profile_thread(p, 11, 11, "app", "app");

	p->meta.freq_hz = 49;
	*stack_a = profile_stack(p, a, 2);
	*stack_b = profile_stack(p, b, 3);
	profile_add(p, *stack_a, t1, 5);
	profile_add(p, *stack_a, t2, 7);
	profile_add(p, *stack_a, t3, 1);
	profile_add(p, *stack_b, t3, 2);
	return p;
}

/* The JSON lines of part t, parsed; NULL entries for lines that fail. */
static size_t rows_of(const struct ch_batch *b, enum ch_table t, json_t **rows, size_t max)
{
	const char *s = b->data + ch_batch_offset(b, t), *end = s + b->len[t];
	size_t n = 0;

	while (s < end && n < max) {
		const char *nl = memchr(s, '\n', end - s);
		json_error_t e;

		if (!nl)
			nl = end;
		rows[n++] = json_loadb(s, nl - s, 0, &e);
		s = nl + 1;
	}
	return n;
}

static void free_rows(json_t **rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(rows[i]);
}

static json_int_t num(json_t *row, const char *key)
{
	return json_integer_value(json_object_get(row, key));
}

static const char *str(json_t *row, const char *key)
{
	const char *s = json_string_value(json_object_get(row, key));

	return s ? s : "(none)";
}

static const char *svc(uint32_t pid, void *ctx)
{
	(void)ctx;
	return pid == 10 ? "app.service" : "";
}

static const char *const labels[] = { "env=prod", "zone=\"a\"" };

static struct ch_window window(uint64_t start_ns, uint64_t seq, const uint64_t *counters)
{
	return (struct ch_window){ .start_ns = start_ns, .window_ms = 10000, .seq = seq,
				   .agent_start_s = DAY1, .host = "web-1\t", .labels = labels,
				   .nr_labels = 2, .lost = 3, .spool_dropped = 1,
				   .counters = counters, .service = svc };
}

static void test_rows(void)
{
	uint32_t sa, sb;
	struct profile *p = fixture(&sa, &sb);
	struct ch_writer *w = ch_writer_new();
	uint64_t counters[PC_NR] = { 0 };
	struct ch_window win;
	struct ch_batch b;
	json_t *rows[16], *names;
	size_t n, bad = 0;
	json_int_t total = 0;
	bool pid10 = false;

	counters[ST_CNT_RINGBUF_FULL] = 3;
	counters[PC_UNNAMED_FRAMES] = 4;
	win = window((DAY1 + 3600) * NS + 123, 7, counters);
	ch_write_window(w, p, &win, &b);
	CHECK(b.seq == 7 && b.rows[CH_T_SAMPLES] == 3 && b.rows[CH_T_STACKS] == 2 &&
		      b.rows[CH_T_WINDOWS] == 1,
	      "3 samples rows (by stack, program, pid: two threads summed), 2 stacks, 1 window "
	      "(got %llu, %llu, %llu)", (unsigned long long)b.rows[CH_T_SAMPLES],
	      (unsigned long long)b.rows[CH_T_STACKS], (unsigned long long)b.rows[CH_T_WINDOWS]);
	CHECK(ch_batch_size(&b) == strlen(b.data), "the parts add up to the data");

	n = rows_of(&b, CH_T_SAMPLES, rows, 16);
	for (size_t i = 0; i < n; i++) {
		if (!rows[i]) {
			bad++;
			continue;
		}
		total += num(rows[i], "samples");
		if (num(rows[i], "pid") == 10) {
			pid10 = true;
			CHECK(num(rows[i], "samples") == 12,
			      "pid 10's two threads on one stack: one row of 12 samples");
			CHECK_STR(str(rows[i], "service"), "app.service", "the service of the pid");
		}
	}
	CHECK(n == 3 && !bad, "every samples row is valid JSON (%zu rows, %zu bad)", n, bad);
	CHECK(pid10 && total == 15, "samples add up to the profile's 15 (got %lld)",
	      (long long)total);
	CHECK_STR(str(rows[0], "day"), "2026-11-28", "day is the window's UTC date");
	CHECK(num(rows[0], "window_start") == (json_int_t)(DAY1 + 3600),
	      "window_start: unix seconds");
	CHECK_STR(str(rows[0], "host"), "web-1\t", "host escaped and read back whole");
	CHECK(json_array_size(json_object_get(rows[0], "labels")) == 2 &&
		      !strcmp(json_string_value(json_array_get(json_object_get(rows[0], "labels"),
							       1)), "zone=\"a\""),
	      "labels as an array of key=value, quotes escaped");
	CHECK(num(rows[0], "freq_hz") == 49 && num(rows[0], "wall_ns") == 0,
	      "freq_hz set, wall_ns 0 without wall time");
	CHECK_STR(str(rows[0], "program"), "app", "program is the process name");
	free_rows(rows, n);

	n = rows_of(&b, CH_T_STACKS, rows, 16);
	CHECK(n == 2 && rows[0] && rows[1], "stacks rows are valid JSON");
	names = n == 2 && rows[1] ? json_object_get(rows[1], "names") : NULL;
	CHECK(json_array_size(names) == 3 &&
		      !strcmp(json_string_value(json_array_get(names, 1)),
			      "evil\"\\\n\x01<\xef\xbf\xbd name"),
	      "a hostile name comes back byte for byte (invalid UTF-8 as U+FFFD)");
	CHECK(strstr(b.data, "\\u0001") && !memchr(b.data, 0x01, strlen(b.data)) &&
		      !strchr(b.data, '\xff'),
	      "no raw control or invalid byte in the rows");
	CHECK(names && !strcmp(json_string_value(json_array_get(names, 0)), "main") &&
		      json_integer_value(json_array_get(json_object_get(rows[1], "kinds"), 2)) ==
			      FRAME_SPECIAL &&
		      !strcmp(json_string_value(json_array_get(json_object_get(rows[1], "modules"),
							       2)), ""),
	      "names root first, kinds and modules per frame");
	CHECK(strtoull(str(rows[0], "stack_hash"), NULL, 10) == ch_stack_hash(p, sa) ||
		      strtoull(str(rows[1], "stack_hash"), NULL, 10) == ch_stack_hash(p, sa),
	      "the stacks row is keyed by the stack's hash, a quoted UInt64");
	free_rows(rows, n);

	n = rows_of(&b, CH_T_WINDOWS, rows, 16);
	CHECK(n == 1 && rows[0] && num(rows[0], "seq") == 7 && num(rows[0], "samples") == 15 &&
		      num(rows[0], "lost") == 3 && num(rows[0], "spool_dropped") == 1 &&
		      num(rows[0], "window_ms") == 10000,
	      "window row: seq, samples summed, lost, spool_dropped, length");
	if (n == 1 && rows[0]) {
		json_error_t e;
		json_t *c = json_loads(str(rows[0], "counters"), 0, &e);

		CHECK(c && json_object_size(c) == 2 &&
			      json_integer_value(json_object_get(c, "unnamed_frames")) == 4,
		      "counters: a JSON object of the non-zero ones (%s)", str(rows[0], "counters"));
		json_decref(c);
	}
	free_rows(rows, n);
	ch_batch_release(&b);

	/* The next window, same day: the stacks went already. */
	profile_reset_counts(p);
	profile_add(p, sa, 0, 2);
	win = window((DAY1 + 3610) * NS, 8, NULL);
	ch_write_window(w, p, &win, &b);
	CHECK(b.rows[CH_T_STACKS] == 0 && b.rows[CH_T_SAMPLES] == 1,
	      "a stack already sent today is not sent again; zero counts give no row");
	n = rows_of(&b, CH_T_WINDOWS, rows, 16);
	CHECK(n == 1 && rows[0] && !strcmp(str(rows[0], "counters"), "{}"),
	      "no counters: an empty object");
	free_rows(rows, n);
	ch_batch_release(&b);

	ch_writer_forget_stacks(w);
	ch_write_window(w, p, &win, &b);
	CHECK(b.rows[CH_T_STACKS] == 1, "after forget (a dropped window) it is sent again");
	ch_batch_release(&b);

	win = window((DAY1 + 86400 + 5) * NS, 9, NULL);
	ch_write_window(w, p, &win, &b);
	CHECK(b.rows[CH_T_STACKS] == 1 && strstr(b.data, "\"day\":\"2026-11-29\""),
	      "a new day: the stack is sent again, dated that day");
	ch_batch_release(&b);

	ch_writer_free(w);
	profile_free(p);
}

static void test_hash(void)
{
	uint32_t sa, sb, other;
	struct profile *p = fixture(&sa, &sb), *q = profile_new();
	frame_id_t x = fr(q, "unrelated", "m", FRAME_NATIVE, 0);
	frame_id_t a[] = { fr(q, "main", "/usr/bin/app", FRAME_NATIVE, 0),
			   fr(q, "work", "/usr/bin/app", FRAME_NATIVE, 0) };
	frame_id_t c[] = { a[0], fr(q, "work", "/usr/bin/other", FRAME_NATIVE, 0) };
	frame_id_t d[] = { a[0], fr(q, "work", "/usr/bin/app", FRAME_KERNEL, 0) };
	frame_id_t e[] = { fr(q, "mai", "n/usr/bin/app", FRAME_NATIVE, 0), a[1] };

	(void)x;
	other = profile_stack(q, a, 2);
	CHECK(ch_stack_hash(p, sa) == ch_stack_hash(q, other),
	      "the same frames in another profile (other ids) hash the same");
	CHECK(ch_stack_hash(p, sa) != ch_stack_hash(p, sb),
	      "two stacks, two hashes");
	CHECK(ch_stack_hash(q, profile_stack(q, c, 2)) != ch_stack_hash(q, other),
	      "the module is part of the key");
	CHECK(ch_stack_hash(q, profile_stack(q, d, 2)) != ch_stack_hash(q, other),
	      "the kind is part of the key");
	CHECK(ch_stack_hash(q, profile_stack(q, e, 2)) != ch_stack_hash(q, other),
	      "name and module boundaries are part of the key");
	CHECK(ch_stack_hash(q, profile_stack(q, a, 1)) != ch_stack_hash(q, other),
	      "a prefix hashes differently");
	profile_free(p);
	profile_free(q);
}

static void test_wall(void)
{
	uint32_t sa, sb;
	struct profile *p = fixture(&sa, &sb);
	struct ch_writer *w = ch_writer_new();
	struct ch_window win = window(DAY1 * NS, 1, NULL);
	struct ch_batch b;
	json_t *rows[8];
	size_t n;
	json_int_t on = -1, off = -1;

	/* As --wall records: ns; stack B ends in an off-CPU reason. */
	p->meta.wall = true;
	profile_reset_counts(p);
	profile_add(p, sa, 0, 10 * (NS / 49));	/* 10 on-CPU samples */
	profile_add(p, sb, 2, 3 * NS);		/* 3 s asleep */
	ch_write_window(w, p, &win, &b);
	n = rows_of(&b, CH_T_SAMPLES, rows, 8);
	for (size_t i = 0; i < n; i++) {
		if (!rows[i])
			continue;
		if (num(rows[i], "pid") == 10)
			on = num(rows[i], "samples");
		else if (num(rows[i], "wall_ns") == (json_int_t)(3 * NS))
			off = num(rows[i], "samples");
	}
	CHECK(on == 10, "wall: on-CPU ns back to samples (got %lld)", (long long)on);
	CHECK(off == 0, "wall: off-CPU time is wall_ns only, no samples (got %lld)", (long long)off);
	free_rows(rows, n);
	ch_batch_release(&b);
	ch_writer_free(w);
	profile_free(p);
}

static void service(const char *text, const char *want, const char *what)
{
	char out[96];

	ch_service_from_cgroup(text, out, sizeof(out));
	CHECK_STR(out, want, "service: %s", what);
}

static void test_service(void)
{
	const char *id = "3f5e2c8a9b7d4e6f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f";
	char text[512];

	service("0::/system.slice/nginx.service\n", "nginx.service", "a systemd unit (v2)");
	service("0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n",
		"foo.service", "the deepest unit");
	service("12:pids:/\n1:name=systemd:/system.slice/cron.service\n0::/\n", "cron.service",
		"v1: from name=systemd when the v2 line says /");
	snprintf(text, sizeof(text), "0::/system.slice/docker-%s.scope\n", id);
	service(text, "3f5e2c8a9b7d", "a docker container: its short id");
	snprintf(text, sizeof(text), "0::/kubepods/burstable/pod1234/%s\n", id);
	service(text, "3f5e2c8a9b7d", "a kubernetes container");
	service("0::/user.slice/user-0.slice/session-3.scope\n", "", "a login session: none");
	service("0::/\n", "", "the root: none");
	service("garbage without colons", "", "garbage: none");
	service("", "", "empty: none");
}

static void url(const char *s, int want_ret, const char *want, const char *what)
{
	struct ch_url u;
	char err[256] = "", buf[300] = "";
	int ret = ch_url_parse(s, &u, err, sizeof(err));

	if (!ret) {
		ch_url_format(&u, buf, sizeof(buf));
		ch_url_free(&u);
	}
	CHECK(ret == want_ret && (ret ? strstr(err, want) != NULL : !strcmp(buf, want)),
	      "url %s: %s (%s%s)", s, what, ret ? "error: " : "", ret ? err : buf);
}

static void test_url(void)
{
	url("clickhouse://ch1:8124/prof", 0, "clickhouse://ch1:8124/prof", "host, port, db");
	url("clickhouse://writer@10.0.0.1:8123/prof", 0, "clickhouse://writer@10.0.0.1:8123/prof",
	    "with a user");
	url("clickhouse://ch1", 0, "clickhouse://ch1:8123/sampletop", "default port and db");
	url("clickhouse://[::1]:9/x", 0, "clickhouse://[::1]:9/x", "IPv6");
	url("clickhouse://u:secret@ch1:8123/prof", -EINVAL, "password in the URL is refused",
	    "a password is refused");
	url("http://ch1:8123/prof", -EINVAL, "not a clickhouse://", "another scheme");
	url("clickhouse://ch1:99999/prof", -EINVAL, "bad port", "port out of range");
	url("clickhouse://ch1:8123/pr`of", -EINVAL, "bad database name", "a db needing quotes");
	url("clickhouse://ch1:8123/a;DROP", -EINVAL, "bad database name", "SQL in the db");
	url("clickhouse://ch 1:8123/p", -EINVAL, "bad host", "a space in the host");
}

static void test_schema_sql(void)
{
	struct strbuf sb = STRBUF_INIT;

	ch_schema_table_sql(&sb, "prof", CH_T_SAMPLES, "", 0);
	CHECK(strstr(sb.buf, "CREATE TABLE IF NOT EXISTS prof.samples (") &&
		      strstr(sb.buf, "PARTITION BY day ORDER BY (service, program, host, "
				     "window_start, stack_hash)") && !strstr(sb.buf, "TTL"),
	      "samples: partitioned by day, ordered for service queries, no TTL asked");
	strbuf_reset(&sb);
	ch_schema_table_sql(&sb, "prof", CH_T_WINDOWS, "", 14);
	CHECK(strstr(sb.buf, "ORDER BY (host, window_start) TTL day + toIntervalDay(14)"),
	      "a TTL after the keys when asked (servers from 19.6)");
	strbuf_reset(&sb);
	ch_schema_table_sql(&sb, "prof", CH_T_STACKS, "_local", 0);
	CHECK(strstr(sb.buf, "prof.stacks_local") && strstr(sb.buf, "ReplacingMergeTree()"),
	      "stacks_local: ReplacingMergeTree (a stack re-sent collapses)");
	strbuf_reset(&sb);
	ch_schema_distributed_sql(&sb, "prof", CH_T_WINDOWS, "two");
	CHECK_STR(sb.buf, "CREATE TABLE IF NOT EXISTS prof.windows AS prof.windows_local ENGINE = "
		  "Distributed(two, prof, windows_local, cityHash64(host))",
		  "windows: Distributed over the local tables, sharded by host");
	strbuf_release(&sb);
}

static void test_server_answers(void)
{
	char err[128], table[64], id[16];
	int maj = -1, min = -1;
	static const char body18[] = "Code: 193, e.displayText() = DB::Exception: Wrong password "
				     "for user x, e.what() = DB::Exception\nmore";

	ch_error_message(body18, strlen(body18), 401, err, sizeof(err));
	CHECK_STR(err, "Code: 193, e.displayText() = DB::Exception: Wrong password for user x",
		  "18.16's error: its first line without the e.what() tail");
	ch_error_message("bad\x1b[2Jname\r\nx", 16, 500, err, sizeof(err));
	CHECK_STR(err, "bad\\x1b[2Jname", "a terminal escape in an error is escaped");
	ch_error_message("", 0, 502, err, sizeof(err));
	CHECK_STR(err, "the server answered HTTP 502", "an empty body: the status");
	CHECK(ch_parse_version("18.16.1\n", &maj, &min) == 0 && maj == 18 && min == 16,
	      "version 18.16.1");
	CHECK(ch_parse_version("24.3.2.23\n", &maj, &min) == 0 && maj == 24 && min == 3,
	      "version 24.3.2.23");
	CHECK(ch_parse_version("99999999999999999999.1", &maj, &min) == -EPROTO &&
		      ch_parse_version("x.1", &maj, &min) == -EPROTO &&
		      ch_parse_version("18", &maj, &min) == -EPROTO,
	      "no version: overflow, letters, no minor");
	CHECK(ch_parse_part_line("samples_local\t20261101", table, sizeof(table), id,
				 sizeof(id)) == 0 && !strcmp(table, "samples_local") &&
		      !strcmp(id, "20261101"),
	      "a day partition of a store table");
	CHECK(ch_parse_part_line("query_log\t20261101", table, sizeof(table), id, sizeof(id)) &&
		      ch_parse_part_line("samples\t2026110'; DROP", table, sizeof(table), id,
					 sizeof(id)) &&
		      ch_parse_part_line("samples\tall", table, sizeof(table), id, sizeof(id)),
	      "not ours or not a day: never dropped");
}

int main(void)
{
	test_rows();
	test_hash();
	test_wall();
	test_service();
	test_url();
	test_schema_sql();
	test_server_answers();
	return tap_done();
}

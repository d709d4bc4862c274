/* Reading the ClickHouse store: times and filters, the SQL they make (every
 * value an escaped literal), and canned JSONEachRow answers loaded into a
 * profile, hostile ones refused with a reason. */
#include "cmd/chsource.h"
#include "report/report.h"
#include "report_fixture.h"
#include "store/ch_read.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>

#define NOW 1795860000	/* 2026-11-28T10:00:00Z */

static char why[512];

static const char windows_row[] =
	"{\"n\":\"12\",\"hosts\":\"2\",\"lost\":\"4\",\"dropped\":\"1\",\"t0\":\"1795859000\","
	"\"t1\":\"1795859120\"}\n";
/* lost_ringbuf_full 3, recorded 100, and a counter this build does not know. */
static const char counters_rows[] =
	"{\"k\":\"6C6F73745F72696E676275665F66756C6C\",\"n\":\"3\"}\n"
	"{\"k\":\"7265636F72646564\",\"n\":\"100\"}\n"
	"{\"k\":\"6E65775F636F756E746572\",\"n\":\"9\"}\n";

/* The canned server: an answer per query, by what the SQL starts with. */
struct canned {
	const char *samples, *stacks, *windows, *total, *counters;
	const char *fail;	/* a server error for every query */
	int nr_samples, nr_stacks, nr_windows, nr_total;
	char last_stacks_sql[4096];
};

static int canned_exec(void *ctx, const char *sql, struct strbuf *out, char *err, size_t errlen)
{
	struct canned *c = ctx;
	const char *a = NULL;

	if (c->fail) {
		snprintf(err, errlen, "%s", c->fail);
		return -EIO;
	}
	if (!strncmp(sql, "SELECT hex(host)", 16)) {
		a = c->samples;
		c->nr_samples++;
	} else if (!strncmp(sql, "SELECT toString(stack_hash)", 27)) {
		a = c->stacks;
		c->nr_stacks++;
		snprintf(c->last_stacks_sql, sizeof(c->last_stacks_sql), "%s", sql);
	} else if (!strncmp(sql, "SELECT toString(count())", 24)) {
		a = c->windows;
		c->nr_windows++;
	} else if (!strncmp(sql, "SELECT toString(sum(n))", 23)) {
		a = c->total;
		c->nr_total++;
	} else if (!strncmp(sql, "SELECT hex(name)", 16)) {
		a = c->counters ? c->counters : counters_rows;
	}
	if (!a) {
		snprintf(err, errlen, "unexpected query: %.60s", sql);
		return -EINVAL;
	}
	strbuf_addstr(out, a);
	return 0;
}

static void hex(struct strbuf *sb, const char *s)
{
	for (; *s; s++)
		strbuf_addf(sb, "%02X", (unsigned char)*s);
}

/* A samples row. */
static void srow(struct strbuf *sb, const char *host, const char *prog, unsigned pid,
		 const char *hash, unsigned long long n, unsigned long long w, unsigned f)
{
	strbuf_addstr(sb, "{\"h\":\"");
	hex(sb, host);
	strbuf_addstr(sb, "\",\"g\":\"");
	hex(sb, prog);
	strbuf_addf(sb, "\",\"p\":%u,\"s\":\"%s\",\"n\":\"%llu\",\"w\":\"%llu\",\"f\":%u}\n", pid,
		    hash, n, w, f);
}

/* A stacks row: frames "name" (native, module /bin/demo) or "!name" (special). */
static void krow(struct strbuf *sb, const char *hash, const char *const *frames, size_t n)
{
	strbuf_addf(sb, "{\"s\":\"%s\",\"n\":[", hash);
	for (size_t i = 0; i < n; i++) {
		strbuf_addstr(sb, i ? ",\"" : "\"");
		hex(sb, frames[i][0] == '!' ? frames[i] + 1 : frames[i]);
		strbuf_addch(sb, '"');
	}
	strbuf_addstr(sb, "],\"m\":[");
	for (size_t i = 0; i < n; i++) {
		strbuf_addstr(sb, i ? ",\"" : "\"");
		if (frames[i][0] != '!')
			hex(sb, "/bin/demo");
		strbuf_addch(sb, '"');
	}
	strbuf_addstr(sb, "],\"k\":[");
	for (size_t i = 0; i < n; i++)
		strbuf_addf(sb, "%s%d", i ? "," : "", frames[i][0] == '!' ? FRAME_SPECIAL : FRAME_NATIVE);
	strbuf_addstr(sb, "]}\n");
}

static char *render(const struct profile *p, enum report_format f)
{
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0 };
	size_t len;

	o.view.by_process = true;
	o.view.by_program = false;
	return fx_render(p, f, &o, &len);
}

static void test_times(void)
{
	int64_t t, ago;

	CHECK(!ch_time_parse("1h", NOW, &t, &ago, why, sizeof(why)) && t == NOW - 3600 &&
		      ago == 3600, "--since 1h is an hour ago");
	CHECK(!ch_time_parse("90s", NOW, &t, &ago, why, sizeof(why)) && t == NOW - 90,
	      "--since 90s");
	CHECK(!ch_time_parse("2d", NOW, &t, &ago, why, sizeof(why)) && t == NOW - 2 * 86400,
	      "--since 2d");
	CHECK(!ch_time_parse("2026-11-28T10:00", 0, &t, &ago, why, sizeof(why)) && t == NOW &&
		      ago == -1, "--since 2026-11-28T10:00 is UTC, absolute");
	CHECK(!ch_time_parse("2026-11-28 09:59:30Z", 0, &t, &ago, why, sizeof(why)) &&
		      t == NOW - 30, "a space for T, seconds and Z");
	CHECK(!ch_time_parse("2026-11-28", 0, &t, &ago, why, sizeof(why)) && t == NOW - 36000,
	      "a date alone is its midnight");
	const char *bad[] = { "", "1", "1x", "-1h", "h", "1h2", "2026-02-31", "2026-11-28T25:00",
			      "2026-11-28T10", "99999999999w" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why[0] = 0;
		CHECK(ch_time_parse(bad[i], NOW, &t, &ago, why, sizeof(why)) == -EINVAL &&
			      strstr(why, "not a time"), "'%s' refused: %s", bad[i], why);
	}
}

static void test_where_sql(void)
{
	struct ch_query q = { 0 };
	struct strbuf sql = STRBUF_INIT, d = STRBUF_INIT;

	CHECK(ch_query_add_where(&q, "x", why, sizeof(why)) == -EINVAL && strstr(why, "no '='"),
	      "--where x refused: %s", why);
	CHECK(ch_query_add_where(&q, "=x", why, sizeof(why)) == -EINVAL && strstr(why, "empty key"),
	      "--where =x refused: %s", why);
	CHECK(ch_query_add_where(&q, "pid=1 OR 1", why, sizeof(why)) == -EINVAL &&
		      strstr(why, "number"), "--where pid=text refused: %s", why);
	CHECK(q.nr_filters == 0, "refused filters are not kept");
	CHECK(!ch_query_add_where(&q, "host=a' OR 1=1 --", why, sizeof(why)) &&
		      !ch_query_add_where(&q, "host=b\\", why, sizeof(why)) &&
		      !ch_query_add_where(&q, "env=prod", why, sizeof(why)) &&
		      !ch_query_add_where(&q, "pid=42", why, sizeof(why)) &&
		      !ch_query_add_where(&q, "service=nginx.service", why, sizeof(why)),
	      "host, label, pid and service filters taken");
	q.since_s = NOW - 3600;
	q.until_s = NOW;
	ch_read_samples_sql("db`x", &q, 100, &sql);
	CHECK(strstr(sql.buf, " FROM `db\\`x`.samples WHERE 1 AND day >= toDate('2026-11-27') AND "
			      "window_start >= toDateTime(1795856400) AND day <= toDate('2026-11-29') "
			      "AND window_start < toDateTime(1795860000) AND (host = 'a\\' OR 1=1 --' "
			      "OR host = 'b\\\\') AND (has(labels, 'env=prod')) AND (pid = 42) AND "
			      "(service = 'nginx.service') GROUP BY host, program, pid, stack_hash"),
	      "samples SQL: range, quoted values, one key's values ORed: %s", sql.buf);
	CHECK(strstr(sql.buf, "LIMIT 100 FORMAT JSONEachRow"), "samples SQL ends with its limit");
	strbuf_reset(&sql);
	ch_read_windows_sql("db", &q, &sql);
	CHECK(strstr(sql.buf, "(host = 'a\\' OR 1=1 --' OR host = 'b\\\\') AND (has(labels, "
			      "'env=prod')) FORMAT JSONEachRow") && !strstr(sql.buf, "pid =") &&
		      !strstr(sql.buf, "service ="),
	      "windows SQL: only host and label filters (the table has no others)");
	strbuf_reset(&sql);
	ch_read_counters_sql("db", &q, &sql);
	CHECK(strstr(sql.buf, "extractAll(counters, '\"([a-z_0-9]+)\":')") &&
		      strstr(sql.buf, "(has(labels, 'env=prod'))) WHERE length(ks) = length(vs)) "
				      "ARRAY JOIN ks AS name, vs AS v GROUP BY name") &&
		      !strstr(sql.buf, "pid ="),
	      "counters SQL: names and values split per row, summed by name: %s", sql.buf);
	ch_query_describe(&q, &d);
	CHECK_STR(d.buf, " --since 2026-11-28T09:00:00Z --until 2026-11-28T10:00:00Z --where "
			 "host=a' OR 1=1 -- --where host=b\\\\ --where env=prod --where pid=42 "
			 "--where service=nginx.service", "the query described for humans");
	strbuf_release(&sql);
	strbuf_release(&d);
	ch_query_free(&q);
}

/* Two hosts running demo: host a main;a;leaf x60 and main;b x30, host b
 * main;a;leaf x10; stack 99 has no names in the store. */
static void fleet(struct strbuf *s, struct strbuf *k)
{
	const char *s1[] = { "main", "a", "leaf" }, *s2[] = { "main", "b" };

	srow(s, "a", "demo", 10, "1", 60, 0, 99);
	srow(s, "a", "demo", 10, "2", 30, 0, 99);
	srow(s, "b", "demo", 10, "1", 10, 0, 99);
	srow(s, "b", "demo", 10, "99", 5, 0, 99);
	krow(k, "1", s1, 3);
	krow(k, "2", s2, 2);
	/* Not asked for: a server cannot add stacks. */
	krow(k, "7", s2, 2);
}

static void test_load(void)
{
	struct strbuf s = STRBUF_INIT, k = STRBUF_INIT;
	struct canned c = { .windows = windows_row };
	struct profile *p = profile_new();
	struct ch_reader *r = ch_reader_new(p, "db", "clickhouse://h:8123/db", canned_exec, &c);
	struct ch_query q = { .since_s = NOW - 3600 };
	struct ch_read_stats st;
	char *folded, *text;

	fleet(&s, &k);
	c.samples = s.buf;
	c.stacks = k.buf;
	CHECK(!ch_reader_load(r, &q, NOW, why, sizeof(why)), "fleet loads: %s", why);
	ch_reader_stats(r, &st);
	CHECK(p->total == 105 && st.rows == 4, "every row's samples counted (%llu)",
	      (unsigned long long)p->total);
	CHECK(st.stacks_missing == 1 && st.weight_missing == 5, "the missing stack counted");
	CHECK(c.nr_samples == 1 && c.nr_stacks == 1 && c.nr_windows == 1 && c.nr_total == 0,
	      "one query each: samples, stacks, windows");
	CHECK(strstr(c.last_stacks_sql, "stack_hash IN (1,2,99)"), "stacks asked by hash, once each");
	folded = render(p, FMT_FOLDED);
	CHECK(folded && strstr(folded, "demo @a;main;a;leaf 60\n") &&
		      strstr(folded, "demo @a;main;b 30\n") &&
		      strstr(folded, "demo @b;main;a;leaf 10\n") &&
		      strstr(folded, "demo @b;[stack not in store] 5\n") &&
		      !strstr(folded, " 2\n"),
	      "each host's process has its own tree:\n%s", folded);
	free(folded);
	CHECK(p->meta.freq_hz == 99 && !p->meta.wall && p->meta.duration_ns == 3600000000000ull &&
		      p->meta.start_wall_ns == (NOW - 3600) * 1000000000ull,
	      "meta: frequency from the rows, the range as duration");
	CHECK(p->meta.counters[ST_CNT_RINGBUF_FULL] == 3 && p->meta.counters[ST_CNT_RECORDED] == 100,
	      "counters summed from the windows, by name (an unknown name ignored)");
	CHECK_STR(p->meta.target, "clickhouse://h:8123/db --since 2026-11-28T09:00:00Z",
		  "target: URL and range");
	CHECK(p->meta.note && strstr(p->meta.note, "12 windows from 2 hosts") &&
		      strstr(p->meta.note, "4 samples lost") &&
		      strstr(p->meta.note, "1 windows dropped by the agents") &&
		      strstr(p->meta.note, "1 stacks not in store (5 samples)"),
	      "note names the windows, losses and missing stacks: %s", p->meta.note);
	text = render(p, FMT_TEXT);
	CHECK(text && strstr(text, "1 stacks not in store"), "the text report shows the note");
	CHECK(text && strstr(text, "demo @a [10]") && strstr(text, "demo @b [10]"),
	      "the process level names the host:\n%s", text);
	free(text);

	/* Live: the next window replaces the counts; known stacks are not asked again. */
	strbuf_reset(&s);
	srow(&s, "a", "demo", 10, "1", 7, 0, 99);
	c.samples = s.buf;
	CHECK(!ch_reader_load(r, &q, NOW, why, sizeof(why)) && p->total == 7,
	      "a reload replaces the counts (%llu)", (unsigned long long)p->total);
	CHECK(c.nr_stacks == 1, "a reload does not ask for stacks it named");
	ch_reader_free(r);
	profile_free(p);
	strbuf_release(&s);
	strbuf_release(&k);
}

static void test_wall_and_bytes(void)
{
	struct strbuf s = STRBUF_INIT, k = STRBUF_INIT;
	struct canned c = { .windows = windows_row };
	struct profile *p = profile_new();
	struct ch_reader *r = ch_reader_new(p, "db", "u", canned_exec, &c);
	struct ch_query q = { 0 };
	const char *s1[] = { "main", "!" "[sleeping]" }, *s2[] = { "main", "f\xff\xfeg" };
	bool off = false, raw = false;

	srow(&s, "h", "p", 1, "1", 0, 2000000000ull, 100);
	srow(&s, "h2", "p", 1, "2", 10, 0, 100);
	krow(&k, "1", s1, 2);
	krow(&k, "2", s2, 2);
	c.samples = s.buf;
	c.stacks = k.buf;
	CHECK(!ch_reader_load(r, &q, NOW, why, sizeof(why)), "wall rows load: %s", why);
	CHECK(p->meta.wall && p->total == 2000000000ull + 100000000ull,
	      "wall: ns, and a host without wall time has its samples as time (%llu)",
	      (unsigned long long)p->total);
	for (size_t i = 0; i < p->nr_frames; i++) {
		off |= !strcmp(p->frames[i].name, "[sleeping]") &&
		       (p->frames[i].flags & FRAME_F_OFFCPU);
		raw |= !strcmp(p->frames[i].name, "f\xff\xfeg");
	}
	CHECK(off, "an off-CPU reason leaf is flagged off-CPU");
	CHECK(raw, "names with bytes that are not UTF-8 arrive as they were (hex on the wire)");
	CHECK(p->meta.start_wall_ns == 1795859000ull * 1000000000ull &&
		      p->meta.duration_ns == 120000000000ull,
	      "no range given: the windows' span");
	ch_reader_free(r);
	profile_free(p);
	strbuf_release(&s);
	strbuf_release(&k);
}

/* Loads samples rows s (and stacks k) expecting a refusal containing want. */
static void refused(const char *s, const char *k, const char *want, const char *what)
{
	struct canned c = { .samples = s, .stacks = k ? k : "", .windows = windows_row };
	struct profile *p = profile_new();
	struct ch_reader *r = ch_reader_new(p, "db", "u", canned_exec, &c);
	struct ch_query q = { 0 };
	int err;

	why[0] = 0;
	err = ch_reader_load(r, &q, NOW, why, sizeof(why));
	CHECK(err < 0 && strstr(why, want) && p->total == 0, "%s refused: %s", what, why);
	ch_reader_free(r);
	profile_free(p);
}

static void test_hostile(void)
{
	const char *row = "{\"h\":\"61\",\"g\":\"62\",\"p\":1,\"s\":\"1\",\"n\":\"5\",\"w\":\"0\",\"f\":99}\n";
	char buf[512];

	refused("{\"h\":", NULL, "row 1: not JSON", "a cut row");
	refused("[1]\n", NULL, "row 1: not an object", "an array row");
	refused("{\"h\":\x1b[31m}\n", NULL, "\\x1b", "a bad row's bytes in the message, escaped");
	refused("{\"h\":\"61\",\"g\":\"62\",\"p\":1,\"s\":\"1\",\"n\":\"99999999999999999999\","
		"\"w\":\"0\",\"f\":99}", NULL, "\"n\" is not a number", "a number past 64 bits");
	refused("{\"h\":\"61\",\"g\":\"62\",\"p\":-1,\"s\":\"1\",\"n\":\"1\",\"w\":\"0\",\"f\":99}",
		NULL, "\"p\" is not an unsigned number", "a negative pid");
	refused("{\"h\":\"61\",\"g\":\"62\",\"p\":5000000000,\"s\":\"1\",\"n\":\"1\",\"w\":\"0\","
		"\"f\":99}", NULL, "\"p\" is out of range", "a pid past 32 bits");
	refused("{\"h\":\"6100\",\"g\":\"62\",\"p\":1,\"s\":\"1\",\"n\":\"1\",\"w\":\"0\",\"f\":9}",
		NULL, "not hex of a string", "a NUL byte in a host");
	refused("{\"h\":\"6\",\"g\":\"62\",\"p\":1,\"s\":\"1\",\"n\":\"1\",\"w\":\"0\",\"f\":9}",
		NULL, "is not hex", "odd hex");
	refused("{\"h\":\"61\",\"g\":\"62\",\"p\":1,\"s\":\"1\",\"n\":\"1\",\"w\":\"0\"}", NULL,
		"\"f\" is missing", "a missing field");
	refused("{\"h\":\"61\",\"h\":\"61\",\"g\":\"62\",\"p\":1,\"s\":\"1\",\"n\":\"1\",\"w\":\"0\","
		"\"f\":1}", NULL, "not JSON", "a duplicate key");
	refused(row, "{\"s\":\"1\",\"n\":[\"61\"],\"m\":[\"\"],\"k\":[3]}\n", "not one a stack holds",
		"a process frame in a stack");
	refused(row, "{\"s\":\"1\",\"n\":[\"61\"],\"m\":[],\"k\":[0]}\n", "differ in length",
		"arrays of different lengths");
	refused(row, "{\"s\":\"1\",\"n\":[\"\"],\"m\":[\"\"],\"k\":[0]}\n", "empty name",
		"an empty frame name");
	refused(row, "{\"s\":\"1\",\"n\":\"61\",\"m\":[\"\"],\"k\":[0]}\n", "not arrays",
		"names that are no array");
	snprintf(buf, sizeof(buf), "%s", "{\"s\":\"1\",\"n\":[1],\"m\":[\"\"],\"k\":[0]}\n");
	refused(row, buf, "is not a string", "a number for a name");

	/* A server error: its own message, as is. */
	struct canned c = { .fail = "Code: 81, e.displayText() = DB::Exception: Database nope "
				    "doesn't exist" };
	struct profile *p = profile_new();
	struct ch_reader *r = ch_reader_new(p, "nope", "u", canned_exec, &c);
	struct ch_query q = { 0 };

	CHECK(ch_reader_load(r, &q, NOW, why, sizeof(why)) == -EIO &&
		      !strcmp(why, c.fail), "a server error is the server's own message: %s", why);
	ch_reader_free(r);
	profile_free(p);
}

static void test_caps(void)
{
	struct strbuf s = STRBUF_INIT, k = STRBUF_INIT;
	struct canned c = { .windows = windows_row,
			    .total = "{\"n\":\"106\",\"w\":\"0\",\"r\":\"5\"}\n" };
	struct profile *p = profile_new();
	struct ch_reader *r = ch_reader_new(p, "db", "u", canned_exec, &c);
	struct ch_query q = { 0 };
	struct ch_read_stats st;
	const char **deep = xcalloc(2000, sizeof(*deep));
	char *folded;

	fleet(&s, &k);
	for (size_t i = 0; i < 2000; i++)
		deep[i] = "d";
	krow(&k, "99", deep, 2000);
	c.samples = s.buf;
	c.stacks = k.buf;
	ch_reader_set_max_rows(r, 3);
	CHECK(!ch_reader_load(r, &q, NOW, why, sizeof(why)), "capped load: %s", why);
	ch_reader_stats(r, &st);
	CHECK(st.rows == 3 && st.rows_cut == 2 && c.nr_total == 1 && p->total == 106,
	      "rows past the cap: counted, their weight kept as one stack (%llu)",
	      (unsigned long long)p->total);
	folded = render(p, FMT_FOLDED);
	CHECK(folded && strstr(folded, "[more rows];[truncated: rows past the read cap] 6\n"),
	      "the cut rows' weight shows:\n%s", folded);
	free(folded);
	CHECK(strstr(p->meta.note, "2 rows past the read cap of 3"), "the note says so: %s",
	      p->meta.note);

	ch_reader_set_max_rows(r, 100);
	c.nr_total = 0;
	CHECK(!ch_reader_load(r, &q, NOW, why, sizeof(why)), "deep stack load: %s", why);
	ch_reader_stats(r, &st);
	CHECK(st.frames_cut == 1 && st.stacks_missing == 0 && c.nr_total == 0,
	      "a stack deeper than the views hold is cut and counted");
	CHECK(strstr(p->meta.note, "1 stacks cut at"), "the note says so: %s", p->meta.note);
	free(deep);
	ch_reader_free(r);
	profile_free(p);
	strbuf_release(&s);
	strbuf_release(&k);
}

/* Splits s at spaces into argv (static storage) for chsource_take_options. */
static int take(const char *s, char ***argv, struct chsource_opts *o)
{
	static char buf[512], *v[32];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		v[argc++] = t;
	v[argc] = NULL;
	*argv = v;
	return chsource_take_options(&argc, v, o) ? -1 : argc;
}

static void test_options(void)
{
	struct chsource_opts o;
	char **v;
	int n;

	n = take("report clickhouse://h/db --since 1h --where host=a -f folded", &v, &o);
	CHECK(n == 4 && !strcmp(v[1], "clickhouse://h/db") && !strcmp(v[2], "-f") &&
		      o.nr_urls == 1 && !strcmp(o.src[0].since, "1h") && o.src[0].nr_where == 1 &&
		      !strcmp(o.src[0].where[0], "host=a"),
	      "report: the store options taken out, attached to the URL");
	n = take("diff --since=2h --where service=x clickhouse://h/db --where host=a "
		 "clickhouse://h/db --where host=b --until 10m -o d.html", &v, &o);
	CHECK(n == 5 && !strcmp(v[3], "-o") && o.nr_urls == 2 &&
		      !strcmp(o.src[CHSOURCE_MAX].since, "2h") &&
		      !strcmp(o.src[CHSOURCE_MAX].where[0], "service=x") &&
		      !strcmp(o.src[0].where[0], "host=a") && !o.src[0].until &&
		      !strcmp(o.src[1].where[0], "host=b") && !strcmp(o.src[1].until, "10m"),
	      "diff: options before the first URL are every source's, after one its own");
	n = take("live clickhouse://h/db --window 2 --password-file pw", &v, &o);
	CHECK(n == 2 && o.window_s == 2 && !strcmp(o.password_file, "pw"),
	      "live: --window and --password-file");
	n = take("report x.json --threads -- --since 1h", &v, &o);
	CHECK(n == 6 && o.nr_urls == 0 && !o.src[CHSOURCE_MAX].since, "nothing taken after --");
	CHECK(take("report x.json --since 1h", &v, &o) < 0, "a store option after a saved profile: refused");
	CHECK(take("diff clickhouse://a/b clickhouse://a/b clickhouse://a/b", &v, &o) < 0,
	      "three stores: refused");
	CHECK(take("report clickhouse://a/b --where", &v, &o) < 0, "a store option without its value: refused");
	CHECK(take("live clickhouse://a/b --window 0", &v, &o) < 0, "--window 0: refused");
	CHECK(take("report x.json --counters", &v, &o) == 3 && !chsource_check_unused(&o, "report"),
	      "a saved profile alone: no store option, nothing unused");
	CHECK(take("report --since 1h x.json", &v, &o) == 2, "--since before a saved profile: taken");
	CHECK(chsource_check_unused(&o, "report") == 2, "--since without a store: a usage error");
}

int main(void)
{
	test_options();
	test_times();
	test_where_sql();
	test_load();
	test_wall_and_bytes();
	test_hostile();
	test_caps();
	return tap_done();
}

/* Reading the ClickHouse store into a profile: the SQL of a range and its
 * filters, and the JSONEachRow answers loaded as hostile input. */
#include "store/ch_read.h"
#include "model/tree.h"
#include "base/hashtab.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Deepest stack kept: what the views' path buffer holds besides the two
 * synthetic process/thread levels (as for saved profiles). */
#define CH_READ_MAX_FRAMES (TREE_MAX_PATH - 2)
/* Longest JSON line read: a stack of CH_READ_MAX_FRAMES hex-encoded names
 * at their cap is far below it. */
#define CH_READ_MAX_LINE (64u << 20)

struct ch_row {
	uint32_t thread;
	uint64_t hash;
	uint64_t samples, wall_ns;
	uint32_t freq_hz;
};

struct ch_reader {
	struct profile *p;
	char *db, *target;
	ch_read_exec_fn exec;
	void *ctx;
	size_t max_rows;
	struct u64map named;	/* stack hash -> profile stack id, kept across loads */
	struct ch_row *rows;
	size_t nr_rows, alloc_rows;
	struct strbuf sql, out, tmp;
	struct ch_read_stats st;
	char *err;
	size_t errlen;
};

static int fail(struct ch_reader *r, const char *fmt, ...) PRINTF(2, 3);
static int fail(struct ch_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void ch_query_free(struct ch_query *q)
{
	for (size_t i = 0; i < q->nr_filters; i++) {
		free(q->filters[i].name);
		free(q->filters[i].value);
	}
	free(q->filters);
	memset(q, 0, sizeof(*q));
}

/* "2026-11-28", "2026-11-28T10:00", "2026-11-28 10:00:30Z": UTC. */
static int parse_absolute(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int n = 0, y, mo, d, h = 0, mi = 0, sec = 0;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -EINVAL;
	s += n;
	if (*s == 'T' || *s == ' ') {
		if (sscanf(s + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
			return -EINVAL;
		s += 1 + n;
		if (*s == ':') {
			if (sscanf(s + 1, "%2d%n", &sec, &n) != 1 || n != 2)
				return -EINVAL;
			s += 1 + n;
		}
	}
	if (*s == 'Z')
		s++;
	if (*s || y < 1970 || y > 2105 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 59 || h < 0 || mi < 0 || sec < 0)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises 2026-02-31 to March: refuse what it moved. */
	if (t < 0 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -EINVAL;
	*out = t;
	return 0;
}

int ch_time_parse(const char *s, int64_t now, int64_t *out, int64_t *ago, char *err,
		  size_t errlen)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 },
	};
	char *end;
	unsigned long long v;

	*ago = -1;
	if (!parse_absolute(s, out))
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end != s && *s >= '0' && *s <= '9' && !errno && end[0] && !end[1]) {
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			if (units[i].unit != end[0])
				continue;
			/* Before 1970 is no window of ours: far enough. */
			if (v > (unsigned long long)now / units[i].secs)
				break;
			*ago = (int64_t)v * units[i].secs;
			*out = now - *ago;
			return 0;
		}
	}
	snprintf(err, errlen, "not a time (a time ago like 90s, 10m, 1h, 2d, 1w, or UTC like "
			      "2026-11-28T10:00)");
	return -EINVAL;
}

static const struct { const char *name; enum ch_key key; } keys[] = {
	{ "host", CH_KEY_HOST },
	{ "service", CH_KEY_SERVICE },
	{ "program", CH_KEY_PROGRAM },
	{ "pid", CH_KEY_PID },
};

int ch_query_add_where(struct ch_query *q, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	struct ch_filter f = { .key = CH_KEY_LABEL };
	size_t alloc = q->nr_filters;

	if (!eq || eq == kv) {
		snprintf(err, errlen, "%s (KEY=VALUE: host, service, program, pid or a label)",
			 eq ? "an empty key" : "no '='");
		return -EINVAL;
	}
	f.name = xstrndup(kv, eq - kv);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(f.name, keys[i].name))
			f.key = keys[i].key;
	if (f.key == CH_KEY_PID) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(eq + 1, &end, 10);
		if (eq[1] < '0' || eq[1] > '9' || *end || errno || v > UINT32_MAX) {
			snprintf(err, errlen, "pid wants a number");
			free(f.name);
			return -EINVAL;
		}
	}
	/* A label is matched whole, as the agent stores it: "key=value". */
	f.value = xstrdup(f.key == CH_KEY_LABEL ? kv : eq + 1);
	XGROW(q->filters, alloc, q->nr_filters + 1);
	q->filters[q->nr_filters++] = f;
	return 0;
}

static void add_utc(struct strbuf *sb, int64_t t, bool date_only)
{
	time_t tt = t;
	struct tm tm;
	char buf[32] = "?";

	if (gmtime_r(&tt, &tm))
		strftime(buf, sizeof(buf), date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm);
	strbuf_addstr(sb, buf);
}

void ch_query_describe(const struct ch_query *q, struct strbuf *sb)
{
	if (q->since_s) {
		strbuf_addstr(sb, " --since ");
		add_utc(sb, q->since_s, false);
	}
	if (q->until_s) {
		strbuf_addstr(sb, " --until ");
		add_utc(sb, q->until_s, false);
	}
	for (size_t i = 0; i < q->nr_filters; i++) {
		strbuf_addstr(sb, " --where ");
		if (q->filters[i].key != CH_KEY_LABEL) {
			strbuf_add_escaped(sb, q->filters[i].name);
			strbuf_addch(sb, '=');
		}
		strbuf_add_escaped(sb, q->filters[i].value);
	}
}

static void sql_quoted(struct strbuf *sb, const char *s, char quote)
{
	strbuf_addch(sb, quote);
	for (; *s; s++) {
		if (*s == quote || *s == '\\')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, quote);
}

void ch_sql_string(struct strbuf *sb, const char *s)
{
	sql_quoted(sb, s, '\'');
}

void ch_sql_ident(struct strbuf *sb, const char *s)
{
	sql_quoted(sb, s, '`');
}

static const char *key_column(enum ch_key k)
{
	switch (k) {
	case CH_KEY_HOST: return "host";
	case CH_KEY_SERVICE: return "service";
	case CH_KEY_PROGRAM: return "program";
	case CH_KEY_PID: return "pid";
	case CH_KEY_LABEL: break;
	}
	return NULL;
}

/* Filters on the same key as filters[i] came earlier: already written. */
static bool key_seen(const struct ch_query *q, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(q->filters[j].name, q->filters[i].name))
			return true;
	return false;
}

/* " AND (one key's values, ORed)" for each key. samples: the samples table
 * (every key); else windows (host and labels only). */
static void add_where(struct strbuf *sb, const struct ch_query *q, bool samples)
{
	strbuf_addstr(sb, " WHERE 1");
	/* The day column prunes partitions; a day of slack either side keeps
	 * a window whose day the writer computed in another time zone. */
	if (q->since_s) {
		strbuf_addstr(sb, " AND day >= toDate('");
		add_utc(sb, q->since_s - 86400, true);
		strbuf_addf(sb, "') AND window_start >= toDateTime(%lld)", (long long)q->since_s);
	}
	if (q->until_s) {
		strbuf_addstr(sb, " AND day <= toDate('");
		add_utc(sb, q->until_s + 86400, true);
		strbuf_addf(sb, "') AND window_start < toDateTime(%lld)", (long long)q->until_s);
	}
	for (size_t i = 0; i < q->nr_filters; i++) {
		const struct ch_filter *f = &q->filters[i];
		bool first = true;

		if (key_seen(q, i))
			continue;
		if (!samples && f->key != CH_KEY_HOST && f->key != CH_KEY_LABEL)
			continue;
		strbuf_addstr(sb, " AND (");
		for (size_t j = i; j < q->nr_filters; j++) {
			const struct ch_filter *g = &q->filters[j];

			if (strcmp(g->name, f->name))
				continue;
			if (!first)
				strbuf_addstr(sb, " OR ");
			first = false;
			if (g->key == CH_KEY_LABEL) {
				strbuf_addstr(sb, "has(labels, ");
				ch_sql_string(sb, g->value);
				strbuf_addch(sb, ')');
			} else if (g->key == CH_KEY_PID) {
				/* Checked to be a number by ch_query_add_where. */
				strbuf_addf(sb, "pid = %lu", strtoul(g->value, NULL, 10));
			} else {
				strbuf_addf(sb, "%s = ", key_column(g->key));
				ch_sql_string(sb, g->value);
			}
		}
		strbuf_addch(sb, ')');
	}
}

static void add_table(struct strbuf *sb, const char *db, const char *table)
{
	strbuf_addstr(sb, " FROM ");
	ch_sql_ident(sb, db);
	strbuf_addf(sb, ".%s", table);
}

void ch_read_samples_sql(const char *db, const struct ch_query *q, size_t limit,
			 struct strbuf *sql)
{
	/* Strings as hex and 64-bit numbers as strings: the answer is plain
	 * ASCII JSON whatever the bytes stored, and no number is too big for
	 * a JSON parser. */
	strbuf_addstr(sql, "SELECT hex(host) AS h, hex(program) AS g, pid AS p, "
			   "toString(stack_hash) AS s, toString(sum(samples)) AS n, "
			   "toString(sum(wall_ns)) AS w, max(freq_hz) AS f");
	add_table(sql, db, "samples");
	add_where(sql, q, true);
	strbuf_addf(sql, " GROUP BY host, program, pid, stack_hash"
			 " ORDER BY sum(wall_ns) DESC, sum(samples) DESC, h, g, p, s"
			 " LIMIT %zu FORMAT JSONEachRow", limit);
}

void ch_read_total_sql(const char *db, const struct ch_query *q, struct strbuf *sql)
{
	strbuf_addstr(sql, "SELECT toString(sum(n)) AS n, toString(sum(w)) AS w, "
			   "toString(count()) AS r FROM (SELECT sum(samples) AS n, "
			   "sum(wall_ns) AS w");
	add_table(sql, db, "samples");
	add_where(sql, q, true);
	strbuf_addstr(sql, " GROUP BY host, program, pid, stack_hash) FORMAT JSONEachRow");
}

void ch_read_stacks_sql(const char *db, const uint64_t *hashes, size_t n, struct strbuf *sql)
{
	strbuf_addstr(sql, "SELECT toString(stack_hash) AS s, arrayMap(x -> hex(x), any(names)) "
			   "AS n, arrayMap(x -> hex(x), any(modules)) AS m, any(kinds) AS k");
	add_table(sql, db, "stacks");
	strbuf_addstr(sql, " WHERE stack_hash IN (");
	for (size_t i = 0; i < n; i++)
		strbuf_addf(sql, "%s%llu", i ? "," : "", (unsigned long long)hashes[i]);
	strbuf_addstr(sql, ") GROUP BY stack_hash FORMAT JSONEachRow");
}

void ch_read_windows_sql(const char *db, const struct ch_query *q, struct strbuf *sql)
{
	strbuf_addstr(sql, "SELECT toString(count()) AS n, toString(uniqExact(host)) AS hosts, "
			   "toString(sum(lost)) AS lost, toString(sum(spool_dropped)) AS dropped, "
			   "toString(min(toUInt32(window_start))) AS t0, "
			   "toString(max(toUInt32(window_start) + intDiv(window_ms, 1000))) AS t1");
	add_table(sql, db, "windows");
	add_where(sql, q, false);
	strbuf_addstr(sql, " FORMAT JSONEachRow");
}

void ch_read_counters_sql(const char *db, const struct ch_query *q, struct strbuf *sql)
{
	/* The agent writes each window's non-zero counters as a flat JSON
	 * object of the names saved profiles use ({"lost_ringbuf_full":3}).
	 * 18.16 has no JSON functions that list keys: two regular
	 * expressions split it, once per row (a visitParam per counter name
	 * would scan every row once per name), and rows where they disagree
	 * are left out rather than fail the query. */
	strbuf_addstr(sql, "SELECT hex(name) AS k, toString(sum(v)) AS n FROM (SELECT ks, vs FROM "
			   "(SELECT extractAll(counters, '\"([a-z_0-9]+)\":') AS ks, "
			   "arrayMap(x -> toUInt64OrZero(x), extractAll(counters, ':([0-9]+)')) AS vs");
	add_table(sql, db, "windows");
	add_where(sql, q, false);
	strbuf_addstr(sql, ") WHERE length(ks) = length(vs)) ARRAY JOIN ks AS name, vs AS v "
			   "GROUP BY name FORMAT JSONEachRow");
}

/* --- the answers ------------------------------------------------------ */

/* Calls fn on every non-empty line of out, with its number from 1; stops at
 * fn's error. */
static int each_line(struct ch_reader *r, const struct strbuf *out,
		     int (*fn)(struct ch_reader *r, json_t *row, size_t line, void *arg), void *arg,
		     size_t max_lines, size_t *nr_lines)
{
	const char *s = out->buf, *end = out->buf + out->len;
	size_t line = 0;
	int err = 0;

	*nr_lines = 0;
	while (s < end && !err) {
		const char *nl = memchr(s, '\n', end - s);
		size_t len = (nl ? nl : end) - s;
		json_error_t je;
		json_t *row;

		line++;
		if (len && (*nr_lines)++ < max_lines) {
			if (len > CH_READ_MAX_LINE)
				return fail(r, "row %zu: longer than %u bytes", line,
					    CH_READ_MAX_LINE);
			row = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
			if (!row) {
				/* jansson quotes the bytes it met: the server's. */
				struct strbuf why = STRBUF_INIT;

				strbuf_add_escaped(&why, je.text);
				err = fail(r, "row %zu: not JSON (%s)", line, why.buf);
				strbuf_release(&why);
				return err;
			}
			err = json_is_object(row) ? fn(r, row, line, arg)
						  : fail(r, "row %zu: not an object", line);
			json_decref(row);
		}
		s += len + 1;
	}
	return err;
}

/* An unsigned number: a JSON integer, or the decimal string ClickHouse
 * gives for 64-bit numbers. */
static int get_u64(struct ch_reader *r, json_t *row, size_t line, const char *key, uint64_t max,
		   uint64_t *out)
{
	json_t *v = json_object_get(row, key);
	unsigned long long n;
	const char *s;
	char *end;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		errno = 0;
		n = strtoull(s, &end, 10);
		if (*s < '0' || *s > '9' || *end || errno || strlen(s) != json_string_length(v))
			return fail(r, "row %zu: \"%s\" is not a number", line, key);
		*out = n;
	} else {
		return fail(r, "row %zu: \"%s\" is %s", line, key,
			    v ? "not an unsigned number" : "missing");
	}
	if (*out > max)
		return fail(r, "row %zu: \"%s\" is out of range", line, key);
	return 0;
}

/* A hex-encoded string (SQL hex()) decoded into r->tmp, cut at max bytes
 * (*cut set). A NUL byte is refused: names are C strings. */
static int get_hex(struct ch_reader *r, json_t *v, size_t line, const char *what, size_t max,
		   bool *cut)
{
	const char *h;
	size_t n;

	if (!json_is_string(v))
		return fail(r, "row %zu: %s is not a string", line, what);
	h = json_string_value(v);
	n = json_string_length(v);
	if (n % 2)
		return fail(r, "row %zu: %s is not hex", line, what);
	strbuf_reset(&r->tmp);
	*cut = false;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(h[i]), lo = hex_digit(h[i + 1]);

		if (hi < 0 || lo < 0 || (!hi && !lo))
			return fail(r, "row %zu: %s is not hex of a string", line, what);
		if (r->tmp.len >= max) {
			*cut = true;
			break;
		}
		strbuf_addch(&r->tmp, (char)(hi << 4 | lo));
	}
	/* A cut must not split a UTF-8 sequence: views print it. */
	if (*cut)
		while (r->tmp.len && ((unsigned char)r->tmp.buf[r->tmp.len - 1] & 0xc0) == 0x80)
			r->tmp.buf[--r->tmp.len] = 0;
	return 0;
}

static int load_sample_row(struct ch_reader *r, json_t *row, size_t line, void *arg)
{
	struct strbuf *proc = arg;
	uint64_t pid, hash, n, w, f;
	char *host;
	bool cut;
	int err;

	if ((err = get_u64(r, row, line, "p", UINT32_MAX, &pid)) ||
	    (err = get_u64(r, row, line, "s", UINT64_MAX, &hash)) ||
	    (err = get_u64(r, row, line, "n", UINT64_MAX, &n)) ||
	    (err = get_u64(r, row, line, "w", UINT64_MAX, &w)) ||
	    (err = get_u64(r, row, line, "f", UINT32_MAX, &f)) ||
	    (err = get_hex(r, json_object_get(row, "h"), line, "the host", CH_READ_MAX_NAME, &cut)))
		return err;
	host = xstrdup(r->tmp.buf);
	err = get_hex(r, json_object_get(row, "g"), line, "the program", CH_READ_MAX_NAME, &cut);
	if (!err) {
		const char *prog = r->tmp.len ? r->tmp.buf : "?";

		strbuf_reset(proc);
		strbuf_addstr(proc, prog);
		if (*host)
			strbuf_addf(proc, " @%s", host);
		XGROW(r->rows, r->alloc_rows, r->nr_rows + 1);
		r->rows[r->nr_rows++] = (struct ch_row){
			.thread = profile_thread(r->p, pid, pid, prog, proc->buf),
			.hash = hash, .samples = n, .wall_ns = w, .freq_hz = f,
		};
	}
	free(host);
	return err;
}

/* The reason leaves of --wall stacks (FRAME_F_OFFCPU is not stored: the
 * agent writes the words, which are fixed; see profile.h). */
static bool offcpu_reason(const char *name)
{
	static const char *const prefixes[] = {
		"[sleeping]", "[waiting on a lock]", "[reading", "[writing", "[polling]",
		"[waiting for a CPU]", "[waiting for a child]", "[accepting]", "[connecting]",
		"[blocked in ",
	};

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

struct stacks_batch {
	struct u64map want;	/* hashes asked for -> 1, 2 once named */
	frame_id_t *frames;
};

static int load_stack_row(struct ch_reader *r, json_t *row, size_t line, void *arg)
{
	struct stacks_batch *b = arg;
	json_t *names = json_object_get(row, "n"), *mods = json_object_get(row, "m");
	json_t *kinds = json_object_get(row, "k");
	uint64_t hash, kind;
	uint32_t state;
	size_t nr, keep;
	int err;

	if ((err = get_u64(r, row, line, "s", UINT64_MAX, &hash)))
		return err;
	/* Only what we asked for, once: a server cannot add stacks. */
	if (!u64map_get(&b->want, hash, &state) || state != 1)
		return 0;
	if (!json_is_array(names) || !json_is_array(mods) || !json_is_array(kinds))
		return fail(r, "row %zu: a stack's names, modules and kinds are not arrays", line);
	nr = json_array_size(names);
	if (json_array_size(mods) != nr || json_array_size(kinds) != nr)
		return fail(r, "row %zu: a stack's names, modules and kinds differ in length", line);
	keep = nr > CH_READ_MAX_FRAMES ? CH_READ_MAX_FRAMES - 1 : nr;
	for (size_t i = 0; i < keep; i++) {
		struct frame f = { 0 };
		json_t *k = json_array_get(kinds, i);
		char *module;
		bool cut;

		if (!json_is_integer(k) || json_integer_value(k) < 0)
			return fail(r, "row %zu: frame %zu has no kind", line, i);
		kind = json_integer_value(k);
		if (kind != FRAME_NATIVE && kind != FRAME_KERNEL && kind != FRAME_PYTHON &&
		    kind != FRAME_SPECIAL)
			return fail(r, "row %zu: frame %zu is of kind %llu, not one a stack holds",
				    line, i, (unsigned long long)kind);
		if ((err = get_hex(r, json_array_get(mods, i), line, "a module", CH_READ_MAX_NAME,
				   &cut)))
			return err;
		module = xstrdup(r->tmp.buf);
		err = get_hex(r, json_array_get(names, i), line, "a frame name", CH_READ_MAX_NAME,
			      &cut);
		if (!err && !r->tmp.len)
			err = fail(r, "row %zu: frame %zu has an empty name", line, i);
		if (err) {
			free(module);
			return err;
		}
		r->st.names_cut += cut;
		f.name = r->tmp.buf;
		f.module = module;
		f.kind = kind;
		if (kind == FRAME_SPECIAL && i == nr - 1 && offcpu_reason(f.name))
			f.flags |= FRAME_F_OFFCPU;
		if ((kind == FRAME_NATIVE || kind == FRAME_KERNEL) &&
		    !strncmp(f.name, "[unknown]", 9))
			f.flags |= FRAME_F_UNKNOWN;
		b->frames[i] = profile_frame(r->p, &f);
		free(module);
	}
	if (keep < nr) {
		b->frames[keep++] = profile_special_frame(r->p, FRAME_SPECIAL, "[truncated stack]");
		r->st.frames_cut++;
	}
	u64map_put(&r->named, hash, profile_stack(r->p, b->frames, keep));
	u64map_put(&b->want, hash, 2);
	return 0;
}

static int run(struct ch_reader *r)
{
	int err;

	strbuf_reset(&r->out);
	r->st.queries++;
	err = r->exec(r->ctx, r->sql.buf, &r->out, r->err, r->errlen);
	if (err && !r->err[0])
		snprintf(r->err, r->errlen, "the query failed (%s)", strerror(-err));
	return err;
}

/* Names every stack of the rows that no earlier load named. */
static int name_stacks(struct ch_reader *r)
{
	struct stacks_batch b = { .frames = xmalloc(CH_READ_MAX_FRAMES * sizeof(*b.frames)) };
	uint64_t *ask = xmalloc(CH_READ_HASHES_PER_QUERY * sizeof(*ask));
	size_t n = 0, lines;
	uint32_t v;
	int err = 0;

	for (size_t i = 0; i <= r->nr_rows && !err; i++) {
		if (i < r->nr_rows) {
			uint64_t h = r->rows[i].hash;

			if (u64map_get(&r->named, h, &v) || u64map_get(&b.want, h, &v))
				continue;
			u64map_put(&b.want, h, 1);
			ask[n++] = h;
		}
		if (!n || (n < CH_READ_HASHES_PER_QUERY && i < r->nr_rows))
			continue;
		strbuf_reset(&r->sql);
		ch_read_stacks_sql(r->db, ask, n, &r->sql);
		err = run(r);
		if (!err)
			err = each_line(r, &r->out, load_stack_row, &b, SIZE_MAX, &lines);
		n = 0;
	}
	u64map_free(&b.want);
	free(b.frames);
	free(ask);
	return err;
}

struct totals {
	uint64_t n, w, rows;
};

static int load_total_row(struct ch_reader *r, json_t *row, size_t line, void *arg)
{
	struct totals *t = arg;
	int err;

	if ((err = get_u64(r, row, line, "n", UINT64_MAX, &t->n)) ||
	    (err = get_u64(r, row, line, "w", UINT64_MAX, &t->w)) ||
	    (err = get_u64(r, row, line, "r", UINT64_MAX, &t->rows)))
		return err;
	return 0;
}

struct windows {
	uint64_t n, hosts, lost, dropped, t0, t1;
	uint64_t counters[PC_NR];
};

static int load_windows_row(struct ch_reader *r, json_t *row, size_t line, void *arg)
{
	struct windows *w = arg;
	int err;

	if ((err = get_u64(r, row, line, "n", UINT64_MAX, &w->n)) ||
	    (err = get_u64(r, row, line, "hosts", UINT64_MAX, &w->hosts)) ||
	    (err = get_u64(r, row, line, "lost", UINT64_MAX, &w->lost)) ||
	    (err = get_u64(r, row, line, "dropped", UINT64_MAX, &w->dropped)) ||
	    (err = get_u64(r, row, line, "t0", UINT32_MAX, &w->t0)) ||
	    (err = get_u64(r, row, line, "t1", UINT64_MAX, &w->t1)))
		return err;
	return 0;
}

/* {"k": hex name, "n": sum}: a counter this build knows, or ignored (a
 * newer agent's). */
static int load_counter_row(struct ch_reader *r, json_t *row, size_t line, void *arg)
{
	struct windows *w = arg;
	uint64_t n;
	bool cut;
	int err;

	if ((err = get_u64(r, row, line, "n", UINT64_MAX, &n)) ||
	    (err = get_hex(r, json_object_get(row, "k"), line, "a counter name", 64, &cut)))
		return err;
	for (int i = 0; i < PC_NR; i++) {
		if (prof_counter_names[i] && !cut && !strcmp(prof_counter_names[i], r->tmp.buf)) {
			w->counters[i] = n;
			break;
		}
	}
	return 0;
}

static uint64_t row_weight(const struct ch_row *row, bool wall)
{
	if (!wall)
		return row->samples;
	if (row->wall_ns || !row->freq_hz)
		return row->wall_ns;
	/* A host without --wall among hosts with it: its samples as time. */
	return row->samples * (1000000000ull / row->freq_hz);
}

/* Adds the rows to the profile; the rows past the cap (total - loaded) as
 * one stack of their own, so that totals stay right. */
static void add_rows(struct ch_reader *r, bool wall, const struct totals *cut)
{
	uint32_t missing = UINT32_MAX, stack;
	uint64_t loaded = 0, w;

	for (size_t i = 0; i < r->nr_rows; i++) {
		const struct ch_row *row = &r->rows[i];

		w = row_weight(row, wall);
		loaded += w;
		if (!w)
			continue;
		if (!u64map_get(&r->named, row->hash, &stack)) {
			if (missing == UINT32_MAX) {
				frame_id_t f = profile_special_frame(r->p, FRAME_SPECIAL,
								     "[stack not in store]");

				missing = profile_stack(r->p, &f, 1);
			}
			stack = missing;
			r->st.stacks_missing++;
			r->st.weight_missing += w;
		}
		profile_add(r->p, stack, row->thread, w);
	}
	if (cut) {
		uint64_t total = wall ? cut->w : cut->n;
		frame_id_t f = profile_special_frame(r->p, FRAME_SPECIAL,
						     "[truncated: rows past the read cap]");
		uint32_t t = profile_thread(r->p, 0, 0, "[more rows]", "[more rows]");

		r->st.rows_cut = cut->rows > r->nr_rows ? cut->rows - r->nr_rows : 1;
		if (total > loaded)
			profile_add(r->p, profile_stack(r->p, &f, 1), t, total - loaded);
	}
}

static void set_meta(struct ch_reader *r, const struct ch_query *q, int64_t now,
		     const struct windows *w, bool wall, uint32_t freq_lo, uint32_t freq_hi)
{
	struct profile_meta *m = &r->p->meta;
	struct strbuf sb = STRBUF_INIT;
	int64_t start = q->since_s ? q->since_s : (int64_t)w->t0;
	int64_t end = q->until_s ? q->until_s : q->since_s ? now : (int64_t)w->t1;
	bool host_only = true;

	strbuf_addstr(&sb, r->target);
	ch_query_describe(q, &sb);
	free(m->target);
	m->target = strbuf_detach(&sb);
	m->start_wall_ns = start > 0 ? (uint64_t)start * 1000000000ull : 0;
	m->duration_ns = end > start ? (uint64_t)(end - start) * 1000000000ull : 0;
	m->freq_hz = freq_hi;
	m->wall = wall;
	m->exit_status = -1;
	memcpy(m->counters, w->counters, sizeof(m->counters));
	for (size_t i = 0; i < q->nr_filters; i++)
		if (q->filters[i].key != CH_KEY_HOST && q->filters[i].key != CH_KEY_LABEL)
			host_only = false;

	strbuf_addf(&sb, "Store: %llu windows from %llu hosts", (unsigned long long)w->n,
		    (unsigned long long)w->hosts);
	if (!host_only)
		strbuf_addstr(&sb, " (their counters are of the whole hosts)");
	/* The lost column says more than the counters only when an agent
	 * counted losses the counters do not name. */
	if (w->lost > profile_lost_samples(r->p))
		strbuf_addf(&sb, "; %llu samples lost on the hosts", (unsigned long long)w->lost);
	if (w->dropped)
		strbuf_addf(&sb, "; %llu windows dropped by the agents (spool full)",
			    (unsigned long long)w->dropped);
	if (freq_lo != freq_hi)
		strbuf_addf(&sb, "; sampled at %u to %u Hz", freq_lo, freq_hi);
	if (r->st.stacks_missing)
		strbuf_addf(&sb, "; %zu stacks not in store (%llu %s)", r->st.stacks_missing,
			    (unsigned long long)r->st.weight_missing, wall ? "ns" : "samples");
	if (r->st.rows_cut)
		strbuf_addf(&sb, "; %zu rows past the read cap of %zu, shown as one stack",
			    r->st.rows_cut, r->max_rows);
	if (r->st.frames_cut)
		strbuf_addf(&sb, "; %zu stacks cut at %u frames", r->st.frames_cut,
			    CH_READ_MAX_FRAMES);
	if (r->st.names_cut)
		strbuf_addf(&sb, "; %zu frame names cut at %u bytes", r->st.names_cut,
			    CH_READ_MAX_NAME);
	free(m->note);
	m->note = strbuf_detach(&sb);
}

int ch_reader_load(struct ch_reader *r, const struct ch_query *q, int64_t now, char *err,
		   size_t errlen)
{
	struct strbuf proc = STRBUF_INIT;
	struct windows w = { 0 };
	struct totals cut = { 0 };
	uint32_t freq_lo = UINT32_MAX, freq_hi = 0;
	bool wall = false, was_cut;
	size_t lines;
	int ret;

	r->err = err;
	r->errlen = errlen;
	err[0] = 0;
	memset(&r->st, 0, sizeof(r->st));
	r->nr_rows = 0;

	strbuf_reset(&r->sql);
	ch_read_samples_sql(r->db, q, r->max_rows + 1, &r->sql);
	ret = run(r);
	if (!ret)
		ret = each_line(r, &r->out, load_sample_row, &proc, r->max_rows, &lines);
	strbuf_release(&proc);
	if (ret)
		return ret;
	r->st.rows = r->nr_rows;
	was_cut = lines > r->max_rows;
	if (was_cut) {
		strbuf_reset(&r->sql);
		ch_read_total_sql(r->db, q, &r->sql);
		if ((ret = run(r)) ||
		    (ret = each_line(r, &r->out, load_total_row, &cut, 1, &lines)))
			return ret;
	}
	if ((ret = name_stacks(r)))
		return ret;
	strbuf_reset(&r->sql);
	ch_read_windows_sql(r->db, q, &r->sql);
	if ((ret = run(r)) || (ret = each_line(r, &r->out, load_windows_row, &w, 1, &lines)))
		return ret;
	strbuf_reset(&r->sql);
	ch_read_counters_sql(r->db, q, &r->sql);
	if ((ret = run(r)) ||
	    (ret = each_line(r, &r->out, load_counter_row, &w, PC_NR * 4, &lines)))
		return ret;
	r->st.windows = w.n;
	r->st.hosts = w.hosts;
	r->st.lost = w.lost;
	r->st.spool_dropped = w.dropped;

	for (size_t i = 0; i < r->nr_rows; i++) {
		wall |= r->rows[i].wall_ns != 0;
		if (r->rows[i].freq_hz && r->rows[i].freq_hz < freq_lo)
			freq_lo = r->rows[i].freq_hz;
		if (r->rows[i].freq_hz > freq_hi)
			freq_hi = r->rows[i].freq_hz;
	}
	if (freq_lo == UINT32_MAX)
		freq_lo = freq_hi;
	/* Every query answered: only now the counts change. */
	profile_reset_counts(r->p);
	add_rows(r, wall, was_cut ? &cut : NULL);
	set_meta(r, q, now, &w, wall, freq_lo, freq_hi);
	return 0;
}

struct ch_reader *ch_reader_new(struct profile *p, const char *db, const char *target,
				ch_read_exec_fn exec, void *ctx)
{
	struct ch_reader *r = xcalloc(1, sizeof(*r));

	r->p = p;
	r->db = xstrdup(db);
	r->target = xstrdup(target);
	r->exec = exec;
	r->ctx = ctx;
	r->max_rows = CH_READ_MAX_ROWS;
	r->sql = r->out = r->tmp = (struct strbuf)STRBUF_INIT;
	return r;
}

void ch_reader_set_max_rows(struct ch_reader *r, size_t max_rows)
{
	r->max_rows = max_rows ? max_rows : 1;
}

void ch_reader_stats(const struct ch_reader *r, struct ch_read_stats *st)
{
	*st = r->st;
}

void ch_reader_free(struct ch_reader *r)
{
	if (!r)
		return;
	u64map_free(&r->named);
	free(r->rows);
	strbuf_release(&r->sql);
	strbuf_release(&r->out);
	strbuf_release(&r->tmp);
	free(r->db);
	free(r->target);
	free(r);
}

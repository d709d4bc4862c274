/* sampletop agent: the recorder on the whole machine, a window of its
 * profile every --window seconds turned into rows (ch_write) and handed
 * to the spool of each --to (store/spool.h: memory, then a directory),
 * whose sender thread inserts them over HTTP, in order, with back-off.
 * Sampling never waits for the network: a slow or dead server only fills
 * the spool, whose drops are counted and reported. */
#include "cmd/agent.h"
#include "cmd/cli.h"
#include "cmd/record.h"
#include "procs/procfs.h"
#include "store/ch_http.h"
#include "store/ch_read.h"
#include "store/ch_schema.h"
#include "store/ch_write.h"
#include "store/spool.h"
#include "base/hashtab.h"
#include "base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <limits.h>
#include <unistd.h>

/* 49 Hz: within the 19-100 Hz of continuous profilers, and prime, so that
 * sampling does not fall in step with the 10 ms, 50 ms, 100 ms periods of
 * timers and of the kernel's tick (a multiple such as 50 Hz would land on
 * the same phase of a periodic task each time and see it always or never).
 * It is half the cost of 97 Hz and still gives ~490 samples per busy CPU in
 * a 10 s window: a function at 5% of a CPU shows with ~25 samples. */
#define AGENT_DEFAULT_FREQ 49
#define AGENT_DEFAULT_WINDOW_MS 10000
#define AGENT_MIN_WINDOW_MS 1000
#define AGENT_MAX_WINDOW_MS 3600000
#define AGENT_MAX_TO 8
#define AGENT_MAX_LABELS 32
#define AGENT_LABEL_MAX 256
/* Each HTTP call may take this long before the server counts as down. */
#define AGENT_TIMEOUT_MS 10000
/* Memory for each --to's spool before windows go to disk. */
#define AGENT_SPOOL_MEM_MIN (64u << 10)
#define AGENT_SPOOL_MAX_MAX (1ull << 40)
/* On stop, how long the senders keep trying to deliver what is queued. */
#define AGENT_FLUSH_MS 10000
/* Old partitions are looked for at start and then this often (no TTL). */
#define AGENT_EXPIRE_PERIOD_NS (3600ull * 1000000000ull)
#define AGENT_DRAIN_MS 100
#define AGENT_SERVICE_MAX 96
/* The profile never forgets a stack, frame or string (a window only
 * zeroes its counts): on a busy machine it would grow for days up to its
 * caps. Past these many distinct stacks or frames, or this many windows,
 * the agent starts a fresh one (recorder_retarget). The figures bound it
 * to a few tens of MB, while a calm machine, whose stacks repeat, renews
 * hourly at the default window, at the cost of naming its frames again.
 * SAMPLETOP_AGENT_RENEW=STACKS (hidden, for tests) sets a smaller one. */
#define AGENT_RENEW_STACKS 200000
#define AGENT_RENEW_FRAMES 200000
#define AGENT_RENEW_WINDOWS 360

static volatile sig_atomic_t agent_stop;

static void on_signal(int sig)
{
	agent_stop = sig;
}

/* ---- A window in the spool: its batch as bytes ----
 * Six little-endian u64 (rows and bytes of each table), then the rows. */
#define AGENT_SPOOL_HDR (2 * CH_T_NR * 8)

static void spool_payload(const struct ch_batch *b, struct strbuf *out)
{
	unsigned char h[AGENT_SPOOL_HDR];

	for (int t = 0; t < CH_T_NR; t++)
		for (int i = 0; i < 8; i++) {
			h[t * 8 + i] = b->rows[t] >> (8 * i);
			h[(CH_T_NR + t) * 8 + i] = (uint64_t)b->len[t] >> (8 * i);
		}
	strbuf_add(out, h, sizeof(h));
	strbuf_add(out, b->data, ch_batch_size(b));
}

/* A view of a spooled window as a batch (data not owned). -EBADMSG when
 * the lengths do not add up. */
static int spool_batch(const struct spool_window *w, struct ch_batch *b)
{
	const unsigned char *p = w->data;
	uint64_t total = 0;

	memset(b, 0, sizeof(*b));
	if (w->len < AGENT_SPOOL_HDR)
		return -EBADMSG;
	for (int t = 0; t < CH_T_NR; t++) {
		uint64_t rows = 0, len = 0;

		for (int i = 0; i < 8; i++) {
			rows |= (uint64_t)p[t * 8 + i] << (8 * i);
			len |= (uint64_t)p[(CH_T_NR + t) * 8 + i] << (8 * i);
		}
		if (len > w->len - AGENT_SPOOL_HDR - total)
			return -EBADMSG;
		b->rows[t] = rows;
		b->len[t] = len;
		total += len;
	}
	if (total != w->len - AGENT_SPOOL_HDR)
		return -EBADMSG;
	b->seq = w->meta.seq;
	b->data = (char *)p + AGENT_SPOOL_HDR;
	return 0;
}

/* The number after "key": in a window row (0 when absent), and where it is. */
static uint64_t row_u64(const char *row, size_t len, const char *key, size_t *at, size_t *end)
{
	char pat[64];
	const char *k;
	uint64_t v = 0;
	size_t i;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	k = memmem(row, len, pat, strlen(pat));
	if (!k)
		return 0;
	i = k - row + strlen(pat);
	*at = i;
	for (; i < len && row[i] >= '0' && row[i] <= '9'; i++)
		v = v * 10 + (row[i] - '0');
	*end = i;
	return v;
}

/* ---- One destination (--to) and its sender thread ---- */
struct dest {
	struct ch_url url;
	char shown[300];	/* the URL for messages */
	struct ch_conn *conn;
	struct spool *spool;
	char spool_dir[PATH_MAX];
	bool schema_ok, ttl;
	unsigned retention_days;
	uint64_t next_expire_ns;
	bool quiet;
	/* the sender's own, read by the main thread after the join */
	uint64_t sent_windows, sent_rows[CH_T_NR], sent_bytes, failures;
	bool failing;
	char last_err[600];
	/* The window being sent (seq, start) and its tables already in: a
	 * retry resumes there, so no table gets a window's rows twice. */
	uint64_t part_seq, part_start;
	unsigned part_done;
	/* The last try of that table timed out: the server may have taken
	 * the rows all the same. Asked before they are sent again. */
	bool part_unsure;
	const char *host;	/* the agent's, as its rows say */
	/* the main thread's: the spool's counts last told */
	uint64_t dropped_told, full_told, corrupt_told;
};

static void say(const char *fmt, ...) PRINTF(1, 2);
static void say(const char *fmt, ...)
{
	va_list ap;

	struct strbuf sb = STRBUF_INIT;

	/* One write: the senders' threads say things too. */
	strbuf_addstr(&sb, "sampletop: agent: ");
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_addch(&sb, '\n');
	fputs(sb.buf, stderr);
	strbuf_release(&sb);
}

static int dest_schema(struct dest *d, char *err, size_t errlen)
{
	int ret = ch_schema_create(d->conn, d->url.db, NULL, d->retention_days, &d->ttl, err,
				   errlen);

	d->schema_ok = !ret;
	return ret;
}

static void dest_expire(struct dest *d)
{
	char err[600];
	unsigned dropped = 0;

	if (d->ttl || !d->retention_days || now_ns() < d->next_expire_ns)
		return;
	d->next_expire_ns = now_ns() + AGENT_EXPIRE_PERIOD_NS;
	if (ch_schema_expire(d->conn, d->url.db, d->retention_days, wall_ns() / 1000000000ull,
			     &dropped, err, sizeof(err)))
		say("%s: %s", d->shown, err);
	else if (dropped && !d->quiet)
		say("%s: dropped %u day partitions older than %u days", d->shown, dropped,
		    d->retention_days);
}

/* Inserts what is left of b, table by table; b->done moves on with each. */
static int send_batch(struct dest *d, struct ch_batch *b, char *err, size_t errlen)
{
	char sql[200];
	int ret;

	if (!d->schema_ok && (ret = dest_schema(d, err, errlen)))
		return ret;
	for (; b->done < CH_T_NR; b->done++) {
		size_t len = b->len[b->done], off = ch_batch_offset(b, b->done);

		if (!len)
			continue;
		snprintf(sql, sizeof(sql), "INSERT INTO %s.%s FORMAT JSONEachRow", d->url.db,
			 ch_table_names[b->done]);
		ret = ch_exec(d->conn, sql, b->data + off, len, NULL, err, errlen);
		if (ret)
			return ret;
		d->sent_rows[b->done] += b->rows[b->done];
		d->sent_bytes += len;
	}
	return 0;
}

/* After a timed-out insert of table t of b: are its rows in already? An
 * insert the server took but answered too late must not go in twice (a
 * plain MergeTree does not deduplicate). The window row is known by host,
 * agent start and seq, the samples rows by host and window start; stacks
 * may go twice (a ReplacingMergeTree, read with any()). Through a
 * Distributed table rows queued for a shard are not seen yet: there a
 * window can still be stored twice (at least once, as the man page says).
 * Returns 1 (in), 0 (not in: send), or a negative errno (ask again later). */
static int rows_in(struct dest *d, const struct ch_batch *b, enum ch_table t, char *err,
		   size_t errlen)
{
	size_t off = ch_batch_offset(b, CH_T_WINDOWS), at, end;
	struct strbuf sql = STRBUF_INIT, out = STRBUF_INIT;
	uint64_t start_s, seq, agent_start;
	int ret;

	if (t == CH_T_STACKS)
		return 0;
	start_s = row_u64(b->data + off, b->len[CH_T_WINDOWS], "window_start", &at, &end);
	seq = row_u64(b->data + off, b->len[CH_T_WINDOWS], "seq", &at, &end);
	agent_start = row_u64(b->data + off, b->len[CH_T_WINDOWS], "agent_start", &at, &end);
	strbuf_addf(&sql, "SELECT count() FROM %s.%s WHERE host = ", d->url.db, ch_table_names[t]);
	ch_sql_string(&sql, d->host);
	if (t == CH_T_WINDOWS)
		strbuf_addf(&sql, " AND agent_start = toDateTime(%" PRIu64 ") AND seq = %" PRIu64,
			    agent_start, seq);
	else
		strbuf_addf(&sql, " AND window_start = toDateTime(%" PRIu64 ")", start_s);
	strbuf_addstr(&sql, " FORMAT TabSeparated");
	ret = ch_exec(d->conn, sql.buf, NULL, 0, &out, err, errlen);
	if (!ret)
		ret = out.len && out.buf[0] >= '1' && out.buf[0] <= '9';
	if (ret == 0) {
		/* Not in yet, but the timed-out insert may still be running
		 * (a server that hung and came back works through what it
		 * had read): then ask again later. */
		strbuf_reset(&sql);
		strbuf_reset(&out);
		strbuf_addf(&sql, "SELECT count() FROM system.processes WHERE query LIKE "
			    "'INSERT INTO %s.%s FORMAT%%' FORMAT TabSeparated", d->url.db,
			    ch_table_names[t]);
		ret = ch_exec(d->conn, sql.buf, NULL, 0, &out, err, errlen);
		if (!ret && out.len && out.buf[0] >= '1' && out.buf[0] <= '9') {
			snprintf(err, errlen, "an insert that timed out is still running");
			ret = -EAGAIN;
		}
	}
	strbuf_release(&sql);
	strbuf_release(&out);
	return ret;
}

/* Did the server refuse the rows themselves (it never will take them, and
 * holding them would hold up every later window)? HTTP 400 on current
 * servers; 18.16 answers 500 with the code of a parse error: 6, 26, 27,
 * 38, 41, 72 (CANNOT_PARSE_*), 117 (INCORRECT_DATA). */
static bool rows_refused(long status, const char *err)
{
	static const int codes[] = { 6, 26, 27, 38, 41, 72, 117 };
	int code;

	if (status == 400)
		return true;
	if (sscanf(err, "Code: %d,", &code) != 1)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (code == codes[i])
			return true;
	return false;
}

/* The spool's sender: one window, its tables from where the last try
 * stopped, with the drops it carries in its window row. */
static int dest_send(void *ctx, const struct spool_window *w, char *err, size_t errlen)
{
	struct dest *d = ctx;
	struct ch_batch b;
	struct strbuf patched = STRBUF_INIT;
	int ret;

	if (spool_batch(w, &b)) {
		snprintf(err, errlen, "a spooled window that does not parse");
		return SPOOL_REJECTED;
	}
	if (w->meta.seq == d->part_seq && w->meta.start_ns == d->part_start)
		b.done = d->part_done;
	if (w->dropped_windows) {
		size_t off = ch_batch_offset(&b, CH_T_WINDOWS), at = 0, end = 0;

		row_u64(b.data + off, b.len[CH_T_WINDOWS], "spool_dropped", &at, &end);
		if (end) {
			strbuf_add(&patched, b.data, off + at);
			strbuf_add_u64(&patched, w->dropped_windows);
			strbuf_add(&patched, b.data + off + end, b.len[CH_T_WINDOWS] - end);
			b.len[CH_T_WINDOWS] += patched.len - ch_batch_size(&b);
			b.data = patched.buf;
		}
	}
	if (d->schema_ok)
		dest_expire(d);
	ret = 0;
	if (d->part_unsure && b.done == d->part_done && b.done < CH_T_NR &&
	    w->meta.seq == d->part_seq && w->meta.start_ns == d->part_start) {
		ret = rows_in(d, &b, b.done, err, errlen);
		if (ret == 1) {
			d->sent_rows[b.done] += b.rows[b.done];
			b.done++;
		}
		ret = ret < 0 ? ret : 0;
	}
	if (!ret)
		ret = send_batch(d, &b, err, errlen);
	strbuf_release(&patched);
	d->part_seq = w->meta.seq;
	d->part_start = w->meta.start_ns;
	d->part_done = ret ? b.done : 0;
	d->part_unsure = ret == -ETIMEDOUT || (ret && d->part_unsure);
	if (!ret) {
		d->sent_windows++;
		return 0;
	}
	d->failures++;
	/* Tables dropped meanwhile come back with the next try. */
	if (ret == -EREMOTEIO)
		d->schema_ok = false;
	if (ret == -EREMOTEIO && rows_refused(ch_last_status(d->conn), err)) {
		say("%s: %s; the server refuses window %" PRIu64 "'s rows: dropped (counted)",
		    d->shown, err, w->meta.seq);
		return SPOOL_REJECTED;
	}
	return ret;
}

/* Said once per kind of failure, not on every retry, and when it works again. */
static void dest_state(void *ctx, const char *err, unsigned retry_ms, const struct spool_stats *st)
{
	struct dest *d = ctx;

	if (!err) {
		if (!d->quiet)
			say("%s: sending again (%" PRIu64 " windows spooled)", d->shown, st->queued);
		d->failing = false;
		return;
	}
	if (!d->failing || strcmp(err, d->last_err))
		say("%s: %s; %" PRIu64 " windows (%" PRIu64 " bytes) spooled, sent in order once "
		    "it answers (next try in %.1f s)",
		    d->shown, err, st->queued, st->queued_bytes, retry_ms / 1000.0);
	d->failing = true;
	snprintf(d->last_err, sizeof(d->last_err), "%s", err);
}

/* ---- The service of each process, from its cgroup ---- */
struct svc_gen {
	struct u64map map;	/* pid -> index in names */
	char (*names)[AGENT_SERVICE_MAX];
	size_t nr, alloc;
};

/* This window's lookups, and the last window's (for processes that have
 * exited since: their service is still known). */
struct svc_cache {
	struct svc_gen cur, prev;
};

static const char *svc_put(struct svc_gen *g, uint32_t pid, const char *name)
{
	XGROW(g->names, g->alloc, g->nr + 1);
	snprintf(g->names[g->nr], AGENT_SERVICE_MAX, "%s", name);
	u64map_put(&g->map, pid, g->nr);
	return g->names[g->nr++];
}

static const char *service_of(uint32_t pid, void *ctx)
{
	struct svc_cache *c = ctx;
	char text[4096], name[AGENT_SERVICE_MAX];
	uint32_t i;

	if (u64map_get(&c->cur.map, pid, &i))
		return c->cur.names[i];
	if (proc_read_cgroup(pid, text, sizeof(text)) == 0) {
		ch_service_from_cgroup(text, name, sizeof(name));
		return svc_put(&c->cur, pid, name);
	}
	if (u64map_get(&c->prev.map, pid, &i))
		return svc_put(&c->cur, pid, c->prev.names[i]);
	return svc_put(&c->cur, pid, "");
}

static void svc_next_window(struct svc_cache *c)
{
	struct svc_gen t = c->prev;

	c->prev = c->cur;
	c->cur = t;
	u64map_clear(&c->cur.map);
	c->cur.nr = 0;
}

static void svc_free(struct svc_cache *c)
{
	u64map_free(&c->cur.map);
	u64map_free(&c->prev.map);
	free(c->cur.names);
	free(c->prev.names);
}

/* ---- Options ---- */
struct agent_opts {
	const char *to[AGENT_MAX_TO];
	size_t nr_to;
	const char *password_file;
	uint32_t freq_hz;
	uint32_t window_ms;
	const char *labels[AGENT_MAX_LABELS];	/* "key=value", in argv */
	size_t nr_labels;
	unsigned retention_days;
	const char *init_cluster;
	double duration_s;
	long timeout_ms;
	const char *spool_dir;	/* NULL: SPOOL_DIR_BASE */
	uint64_t spool_max, spool_mem;
	bool kernel;
	bool wall;
	bool quiet;
	int verbose;
};

static const char agent_usage[] =
	"Usage: sampletop agent --to clickhouse://[USER@]HOST:PORT/DB [--to URL...] [OPTIONS]\n"
	"       sampletop agent --init-cluster NAME --to URL1 --to URL2 ...\n"
	"\n"
	"Profiles every process of this machine continuously and sends a window of\n"
	"samples every --window seconds to each ClickHouse server (HTTP port; the\n"
	"database and its tables are created when missing). A server that is down,\n"
	"slow or refusing does not stop sampling: windows wait in a spool (memory,\n"
	"then disk) and are sent in order once it answers; what had to be dropped\n"
	"is counted.\n"
	"\n"
	"Options:\n"
	"      --to URL              clickhouse://[USER@]HOST[:PORT][/DB] (port 8123,\n"
	"                            database sampletop when not given); may repeat:\n"
	"                            every window goes to every --to\n"
	"      --password-file FILE  the password: the first line of FILE (else the\n"
	"                            environment variable SAMPLETOP_CLICKHOUSE_PASSWORD;\n"
	"                            never in the URL)\n"
	"      --window SECONDS      window length, 1 to 3600, with s or m (default 10s)\n"
	"  -F, --freq HZ             samples per second per CPU (default 49)\n"
	"      --label KEY=VALUE     a label on every row (may repeat); host=NAME\n"
	"                            replaces the host name\n"
	"      --retention DAYS      keep this many days (default 14; 0: forever): a TTL\n"
	"                            on servers from 19.6, else the agent drops older\n"
	"                            day partitions itself, hourly\n"
	"      --init-cluster NAME   create the store on each --to as a shard of the\n"
	"                            cluster NAME (local tables and Distributed tables\n"
	"                            over them), then exit\n"
	"      --timeout SECONDS     a server that takes longer counts as down (default 10)\n"
	"      --spool-dir DIR       where windows wait when a server is down, one\n"
	"                            directory per --to below DIR (default\n"
	"                            /var/lib/sampletop/spool)\n"
	"      --spool-max SIZE      disk for the windows of each --to, with K, M or G\n"
	"                            (default 512M; 0: memory only); past it the\n"
	"                            oldest windows are dropped and counted\n"
	"      --spool-mem SIZE      memory for them before they go to disk (default 64M)\n"
	"  -K, --kernel              record kernel stacks too\n"
	"      --wall                wall-clock time too: off-CPU intervals under their\n"
	"                            reason (\"[sleeping]\", ...); rows carry wall_ns\n"
	"  -d, --duration SECONDS    stop after this long (default: until SIGTERM/Ctrl-C)\n"
	"  -q, --quiet               only errors on stderr\n"
	"  -v, --verbose             a line per window\n"
	"  -h, --help                this help\n"
	"\n"
	"Examples:\n"
	"  sampletop agent --to clickhouse://ch1:8123/prof --label env=prod\n"
	"  SAMPLETOP_CLICKHOUSE_PASSWORD=... sampletop agent --to clickhouse://writer@ch1:8123/prof\n"
	"  sampletop agent --init-cluster prof --to clickhouse://ch1:8123/prof "
	"--to clickhouse://ch2:8123/prof\n";

enum { OPT_TO = 256, OPT_PASSWORD_FILE, OPT_WINDOW, OPT_LABEL, OPT_RETENTION,
       OPT_INIT_CLUSTER, OPT_TIMEOUT, OPT_SPOOL_DIR, OPT_SPOOL_MAX, OPT_SPOOL_MEM,
       OPT_WALL };

static const struct option agent_long_opts[] = {
	{ "to", required_argument, NULL, OPT_TO },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "freq", required_argument, NULL, 'F' },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "retention", required_argument, NULL, OPT_RETENTION },
	{ "init-cluster", required_argument, NULL, OPT_INIT_CLUSTER },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "spool-dir", required_argument, NULL, OPT_SPOOL_DIR },
	{ "spool-max", required_argument, NULL, OPT_SPOOL_MAX },
	{ "spool-mem", required_argument, NULL, OPT_SPOOL_MEM },
	{ "kernel", no_argument, NULL, 'K' },
	{ "wall", no_argument, NULL, OPT_WALL },
	{ "duration", required_argument, NULL, 'd' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* "10", "10s", "1.5m", "500ms" -> milliseconds. Returns 0 or -EINVAL. */
static int parse_seconds(const char *s, double *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !(v >= 0))
		return -EINVAL;
	if (!*end || !strcmp(end, "s"))
		*ms = v * 1000;
	else if (!strcmp(end, "ms"))
		*ms = v;
	else if (!strcmp(end, "m"))
		*ms = v * 60000;
	else
		return -EINVAL;
	return 0;
}

static int check_label(const char *l)
{
	const char *eq = strchr(l, '=');

	if (!eq || eq == l)
		return cli_option_error("--label", l, "wants KEY=VALUE, like env=prod");
	for (const char *c = l; c < eq; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
			return cli_option_error("--label", l,
						"the key holds letters, digits, '_', '-', '.'");
	if (strlen(l) >= AGENT_LABEL_MAX)
		return cli_option_error("--label", l, "longer than %d bytes", AGENT_LABEL_MAX - 1);
	return 0;
}

static int parse_agent(struct agent_opts *o, int argc, char **argv, bool *done)
{
	double v;
	char *end;
	int c;

	*done = false;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":F:Kd:qvh", agent_long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_TO:
			if (o->nr_to == AGENT_MAX_TO)
				return cli_option_error("--to", optarg, "at most %d servers",
							AGENT_MAX_TO);
			o->to[o->nr_to++] = optarg;
			break;
		case OPT_PASSWORD_FILE:
			o->password_file = optarg;
			break;
		case OPT_WINDOW:
			if (parse_seconds(optarg, &v) || v < AGENT_MIN_WINDOW_MS ||
			    v > AGENT_MAX_WINDOW_MS)
				return cli_option_error("--window", optarg,
							"wants 1 to 3600 seconds, like 10s or 1m");
			o->window_ms = (uint32_t)v;
			break;
		case 'F': {
			uint32_t max;

			cli_max_freq(NULL, &max);
			errno = 0;
			v = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(v >= 1 && v <= max) ||
			    v != (uint32_t)v)
				return cli_option_error("-F", optarg,
							"wants a whole number of Hz, 1 to %u", max);
			o->freq_hz = (uint32_t)v;
			break;
		}
		case OPT_LABEL:
			if (check_label(optarg))
				return 2;
			if (o->nr_labels == AGENT_MAX_LABELS)
				return cli_option_error("--label", optarg, "at most %d labels",
							AGENT_MAX_LABELS);
			o->labels[o->nr_labels++] = optarg;
			break;
		case OPT_RETENTION:
			errno = 0;
			v = strtod(optarg, &end);
			if (end != optarg && !strcmp(end, "d"))
				end++;
			if (end == optarg || *end || errno || !(v >= 0 && v <= 36500) ||
			    v != (unsigned)v)
				return cli_option_error("--retention", optarg,
							"wants whole days, 0 (forever) to 36500");
			o->retention_days = (unsigned)v;
			break;
		case OPT_INIT_CLUSTER:
			for (const char *p = optarg; *p; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				      (*p >= '0' && *p <= '9') || *p == '_'))
					return cli_option_error("--init-cluster", optarg,
								"a cluster name of the server's "
								"remote_servers (letters, digits, _)");
			if (!*optarg || strlen(optarg) > CH_NAME_MAX)
				return cli_option_error("--init-cluster", optarg,
							"a cluster name, 1 to %d characters",
							CH_NAME_MAX);
			o->init_cluster = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, &v) || v < 100 || v > 600000)
				return cli_option_error("--timeout", optarg,
							"wants 0.1 to 600 seconds");
			o->timeout_ms = (long)v;
			break;
		case OPT_SPOOL_DIR:
			if (optarg[0] != '/')
				return cli_option_error("--spool-dir", optarg,
							"wants an absolute directory");
			o->spool_dir = optarg;
			break;
		case OPT_SPOOL_MAX:
			if (parse_size(optarg, 0, AGENT_SPOOL_MAX_MAX, &o->spool_max))
				return cli_option_error("--spool-max", optarg,
							"wants bytes with K, M or G, up to 1T");
			if (!o->spool_max)
				o->spool_max = UINT64_MAX;	/* memory only */
			break;
		case OPT_SPOOL_MEM:
			if (parse_size(optarg, AGENT_SPOOL_MEM_MIN, AGENT_SPOOL_MAX_MAX, &o->spool_mem))
				return cli_option_error("--spool-mem", optarg,
							"wants 64K to 1T, with K, M or G");
			break;
		case 'K':
			o->kernel = true;
			break;
		case OPT_WALL:
			o->wall = true;
			break;
		case 'd':
			if (parse_seconds(optarg, &v) || v < 1 || v > 365 * 86400e3)
				return cli_option_error("-d", optarg,
							"wants 0.001 to 31536000 seconds");
			o->duration_s = v / 1000;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			fputs(agent_usage, stdout);
			*done = true;
			return 0;
		case ':':
			return cli_option_error(argv[optind - 1], NULL, "wants a value");
		default:
			return cli_option_error(argv[optind - 1], NULL,
						"unknown option of agent (see sampletop agent --help)");
		}
	}
	if (optind < argc)
		return cli_usage_error("agent takes no operands ('%s'); see sampletop agent --help",
				       argv[optind]);
	if (!o->nr_to)
		return cli_usage_error("agent wants --to clickhouse://[USER@]HOST:PORT/DB "
				       "(see sampletop agent --help)");
	return 0;
}

static int label_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t kx = strcspn(x, "="), ky = strcspn(y, "=");
	int c = memcmp(x, y, kx < ky ? kx : ky);

	return c ? c : kx < ky ? -1 : kx > ky;
}

/* ---- The agent run ---- */
struct agent {
	struct agent_opts o;
	char *password;
	struct dest *dests;
	size_t nr_dests;
	char host[256];
	const char *labels[AGENT_MAX_LABELS];	/* sorted, host= left out */
	size_t nr_labels;
	struct profile *prof;
	struct recorder *rec;
	struct ch_writer *writer;
	struct svc_cache svc;
	uint64_t seq, agent_start_s;
	uint64_t last_counters[PC_NR];
	uint64_t dropped_seen;
	uint64_t samples_total, rows_total, bytes_total;
	size_t renew_stacks;	/* distinct stacks that start a fresh profile */
	uint64_t renew_seq;	/* the window after which it was last renewed */
	uint64_t renewals;
};

/* host= sets the host name; the rest are sorted by key; a key given twice
 * is refused (which value would a query see?). Returns 0 or 2. */
static int setup_labels(struct agent *a)
{
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	snprintf(a->host, sizeof(a->host), "%s", host);
	for (size_t i = 0; i < a->o.nr_labels; i++) {
		const char *l = a->o.labels[i];

		if (!strncmp(l, "host=", 5)) {
			if (!l[5])
				return cli_option_error("--label", l, "an empty host name");
			snprintf(a->host, sizeof(a->host), "%s", l + 5);
			continue;
		}
		a->labels[a->nr_labels++] = l;
	}
	qsort(a->labels, a->nr_labels, sizeof(*a->labels), label_cmp);
	for (size_t i = 1; i < a->nr_labels; i++)
		if (!label_cmp(&a->labels[i - 1], &a->labels[i]))
			return cli_option_error("--label", a->labels[i], "this key is given twice");
	return 0;
}

/* Parses every --to and reads the password. Returns 0, 1 or 2. */
static int setup_dests(struct agent *a)
{
	char err[512];
	int ret;

	a->dests = xcalloc(a->o.nr_to, sizeof(*a->dests));
	for (size_t i = 0; i < a->o.nr_to; i++) {
		struct dest *d = &a->dests[i];

		if (ch_url_parse(a->o.to[i], &d->url, err, sizeof(err)))
			return cli_option_error("--to", NULL, "%s", err);	/* may hold a password */
		a->nr_dests++;
		ch_url_format(&d->url, d->shown, sizeof(d->shown));
		d->retention_days = a->o.retention_days;
		d->quiet = a->o.quiet;
		d->host = a->host;
	}
	ret = ch_password(a->o.password_file, &a->password, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "sampletop: --password-file: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < a->nr_dests; i++) {
		a->dests[i].conn = ch_open(&a->dests[i].url, a->password, a->o.timeout_ms);
		if (!a->dests[i].conn) {
			fprintf(stderr, "sampletop: cannot set up libcurl\n");
			return 1;
		}
	}
	return 0;
}

/* Each --to's spool, in its own directory (one per destination and host,
 * so that two agents of one machine, labelled as two hosts, keep apart);
 * windows a previous run left there go out first. Returns 0 or 1. */
static int open_spools(struct agent *a)
{
	struct strbuf key = STRBUF_INIT, warn = STRBUF_INIT;
	char err[PATH_MAX + 200] = "";

	for (size_t i = 0; i < a->nr_dests; i++) {
		struct dest *d = &a->dests[i];
		struct spool_opts so = { .mem_max = a->o.spool_mem };
		struct spool_stats st;

		if (a->o.spool_max != UINT64_MAX) {
			strbuf_reset(&key);
			strbuf_addf(&key, "%s\n%s", d->shown, a->host);
			spool_dir_for(a->o.spool_dir, key.buf, d->spool_dir, sizeof(d->spool_dir));
			so.dir = d->spool_dir;
			so.disk_max = a->o.spool_max;
		}
		strbuf_reset(&warn);
		if (spool_open(&so, &d->spool, &warn, err, sizeof(err))) {
			fprintf(stderr, "sampletop: %s: %s\n", d->shown, err);
			break;
		}
		if (warn.len)
			fprintf(stderr, "%s", warn.buf);	/* names escaped by the spool */
		spool_stats(d->spool, &st);
		d->corrupt_told = st.corrupt;
		if (st.corrupt)
			say("%s: %" PRIu64 " damaged spool file(s) skipped (kept as *.bad)", d->shown,
			    st.corrupt);
		if (st.recovered && !a->o.quiet)
			say("%s: %" PRIu64 " window(s) (%" PRIu64 " bytes) left by the last run in %s, "
			    "sent first", d->shown, st.recovered, st.queued_bytes, d->spool_dir);
	}
	strbuf_release(&key);
	strbuf_release(&warn);
	for (size_t i = 0; i < a->nr_dests; i++)
		if (!a->dests[i].spool)
			return 1;
	return 0;
}

/* --init-cluster: the local and Distributed tables on every shard. */
static int init_cluster(struct agent *a)
{
	char err[600];
	int ret = 0;

	for (size_t i = 0; i < a->nr_dests; i++) {
		struct dest *d = &a->dests[i];
		bool ttl;

		if (ch_schema_create(d->conn, d->url.db, a->o.init_cluster, a->o.retention_days,
				     &ttl, err, sizeof(err))) {
			fprintf(stderr, "sampletop: %s: %s\n", d->shown, err);
			ret = 1;
			continue;
		}
		if (!a->o.quiet)
			printf("%s: tables of cluster %s ready (%s)\n", d->shown, a->o.init_cluster,
			       ttl ? "retention by TTL" : a->o.retention_days
								? "retention by the agents"
								: "kept forever");
	}
	return ret;
}

/* At start, each server: tables created when missing. A server that
 * answers with an error (a refused password, no right to create) stops
 * the agent now, with its message: that will not heal by waiting. One
 * that does not answer is tried again by its sender. Returns 0 or 1. */
static int check_servers(struct agent *a)
{
	char err[600];

	for (size_t i = 0; i < a->nr_dests; i++) {
		struct dest *d = &a->dests[i];
		int ret = dest_schema(d, err, sizeof(err));

		if (ret == -EREMOTEIO) {
			fprintf(stderr, "sampletop: %s: %s\n", d->shown, err);
			return 1;
		}
		if (ret)
			say("%s: %s; windows are spooled and sent in order once it answers",
			    d->shown, err);
		d->failing = ret != 0;
		snprintf(d->last_err, sizeof(d->last_err), "%s", ret ? err : "");
	}
	return 0;
}

static int start_senders(struct agent *a)
{
	for (size_t i = 0; i < a->nr_dests; i++) {
		struct spool_sender snd = { dest_send, dest_state, &a->dests[i] };
		int err = spool_start(a->dests[i].spool, &snd);

		if (err) {
			fprintf(stderr, "sampletop: cannot start a sender thread: %s\n",
				strerror(-err));
			return 1;
		}
	}
	return 0;
}

static int open_recorder(struct agent *a, int argc, char **argv)
{
	struct recorder_opts ro;
	struct strbuf cmd = STRBUF_INIT;
	const char *why = NULL;
	int err;

	memset(&ro, 0, sizeof(ro));
	ro.sampler.freq_hz = a->o.freq_hz;
	ro.sampler.user = true;
	ro.sampler.kernel = a->o.kernel;
	ro.sampler.wall = a->o.wall;
	ro.sampler.unwind = ST_UNWIND_AUTO;
	ro.sym.kernel = a->o.kernel;
	ro.python.mode = PYTHON_MERGE;
	a->prof = profile_new();
	a->prof->meta.hostname = xstrdup(a->host);
	a->prof->meta.target = xstrdup("all processes");
	strbuf_addstr(&cmd, "sampletop");
	for (int i = 0; i < argc; i++)
		strbuf_addf(&cmd, " %s", argv[i]);
	a->prof->meta.command = strbuf_detach(&cmd);
	err = recorder_open(a->prof, &ro, &a->rec, &why);
	if (err) {
		fprintf(stderr, "sampletop: %s (%s)\n", why ? why : "cannot start sampling",
			strerror(-err));
		return 1;
	}
	/* --wall turned the timeline on (wallrec_new): a service running for
	 * days keeps only the weights, which the windows need. */
	a->prof->keep_events = false;
	/* Exited threads are merged (pid 0, one record per name) between
	 * windows only: a window's rows keep the pid, program and service of
	 * a thread that exited in it (flush_window merges after writing). */
	recorder_hold_merges(a->rec, true);
	return 0;
}

/* A fresh profile in place of a->prof, which has just been written out
 * (counts zero): same meta and cumulative counters, none of its stacks,
 * frames, strings or threads. */
static void renew_profile(struct agent *a)
{
	struct profile *old = a->prof, *p = profile_new();

	p->meta = old->meta;	/* its strings move over */
	old->meta.target = old->meta.command = old->meta.hostname = NULL;
	old->meta.kernel = old->meta.note = NULL;
	p->max_stacks = old->max_stacks;
	p->max_frames = old->max_frames;
	if (recorder_retarget(a->rec, p)) {
		profile_free(p);
		return;
	}
	ch_writer_new_profile(a->writer);
	a->prof = p;
	a->renew_seq = a->seq;
	a->renewals++;
	if (a->o.verbose)
		say("a fresh profile after window %llu (renewal %llu; the old one held %zu stacks, "
		    "%zu frames, %zu strings, %zu threads)", (unsigned long long)a->seq,
		    (unsigned long long)a->renewals, old->nr_stacks, old->nr_frames, old->nr_strs,
		    old->nr_threads);
	profile_free(old);
}

static bool renew_due(const struct agent *a)
{
	return a->prof->nr_stacks >= a->renew_stacks ||
	       a->prof->nr_frames >= AGENT_RENEW_FRAMES ||
	       a->seq - a->renew_seq >= AGENT_RENEW_WINDOWS;
}

/* The window just ended: its rows to every queue, the counts reset. */
static void flush_window(struct agent *a, uint64_t start_wall, uint64_t end_wall)
{
	uint64_t delta[PC_NR];
	struct ch_window win = {
		.start_ns = start_wall,
		.window_ms = (uint32_t)((end_wall - start_wall + 500000) / 1000000),
		.seq = ++a->seq,
		.agent_start_s = a->agent_start_s,
		.host = a->host,
		.labels = a->labels,
		.nr_labels = a->nr_labels,
		.counters = delta,
		.service = service_of,
		.service_ctx = &a->svc,
	};
	struct ch_batch b;
	struct strbuf payload = STRBUF_INIT;
	struct spool_meta m;
	size_t at = 0, end = 0;

	for (int i = 0; i < PC_NR; i++) {
		uint64_t cur = a->prof->meta.counters[i];

		delta[i] = cur >= a->last_counters[i] ? cur - a->last_counters[i] : cur;
		a->last_counters[i] = cur;
	}
	win.lost = delta[ST_CNT_RINGBUF_FULL];
	/* spool_dropped: set when sent, to the drops since the last window
	 * delivered (the spool counts them). */
	win.spool_dropped = 0;
	/* A window still spooled may yet be dropped, and with it the first
	 * use of a stack: while any is, every window carries all its stacks. */
	for (size_t i = 0; i < a->nr_dests; i++) {
		struct spool_stats st;

		spool_stats(a->dests[i].spool, &st);
		if (st.queued)
			ch_writer_forget_stacks(a->writer);
	}
	ch_write_window(a->writer, a->prof, &win, &b);
	profile_reset_counts(a->prof);
	if (renew_due(a))
		renew_profile(a);
	recorder_merge_exited(a->rec);
	svc_next_window(&a->svc);
	a->rows_total += b.rows[CH_T_SAMPLES];
	a->bytes_total += ch_batch_size(&b);
	if (a->o.verbose)
		say("window %llu: %llu samples rows, %llu new stacks, %zu bytes",
		    (unsigned long long)b.seq, (unsigned long long)b.rows[CH_T_SAMPLES],
		    (unsigned long long)b.rows[CH_T_STACKS], ch_batch_size(&b));
	spool_payload(&b, &payload);
	m.seq = b.seq;
	m.start_ns = start_wall;
	m.samples = row_u64(b.data + ch_batch_offset(&b, CH_T_WINDOWS), b.len[CH_T_WINDOWS],
			    "samples", &at, &end);
	a->samples_total += m.samples;
	ch_batch_release(&b);
	for (size_t i = 0; i < a->nr_dests; i++) {
		struct dest *d = &a->dests[i];
		struct spool_stats st;
		uint64_t full;

		spool_push(d->spool, &m, payload.buf, payload.len);
		spool_stats(d->spool, &st);
		/* A window dropped at once (larger than the caps) may have
		 * carried the first use of a stack: send every stack again. */
		if (st.dropped_windows != d->dropped_told || st.corrupt != d->corrupt_told)
			ch_writer_forget_stacks(a->writer);
		/* Windows the server refused were told by the sender. */
		full = st.dropped_windows - st.rejected;
		if (full != d->full_told)
			say("%s: spool full (%" PRIu64 " windows, %" PRIu64 " bytes): dropped %" PRIu64
			    " oldest window(s), %" PRIu64 " windows and %" PRIu64 " samples so far",
			    d->shown, st.queued, st.queued_bytes, full - d->full_told,
			    st.dropped_windows, st.dropped_samples);
		d->full_told = full;
		if (st.corrupt != d->corrupt_told)
			say("%s: %" PRIu64 " damaged spool file(s) skipped (kept as *.bad)", d->shown,
			    st.corrupt - d->corrupt_told);
		d->dropped_told = st.dropped_windows;
		d->corrupt_told = st.corrupt;
	}
	strbuf_release(&payload);
}

static void run_windows(struct agent *a)
{
	uint64_t window_ns = (uint64_t)a->o.window_ms * 1000000ull;
	uint64_t start_wall = wall_ns(), next = now_ns() + window_ns;
	uint64_t deadline = a->o.duration_s ? now_ns() + (uint64_t)(a->o.duration_s * 1e9) : 0;

	while (!agent_stop) {
		uint64_t now = now_ns();
		int wait_ms = (int)((next - now) / 1000000);

		if (deadline && now >= deadline)
			break;
		if (now >= next) {
			uint64_t end_wall = wall_ns();

			flush_window(a, start_wall, end_wall);
			start_wall = end_wall;
			next += window_ns;
			if (next <= now)	/* a stall longer than a window: skip ahead */
				next = now + window_ns;
			continue;
		}
		if (recorder_wait(a->rec, wait_ms < AGENT_DRAIN_MS ? wait_ms : AGENT_DRAIN_MS) < 0)
			break;
	}
	recorder_stop(a->rec);
	flush_window(a, start_wall, wall_ns());
}

/* Gives the senders AGENT_FLUSH_MS to send what is spooled, stops them,
 * leaves the rest on disk for the next start, and says what became of
 * the windows. Returns 0, or 1 when some were dropped or not sent. */
static int stop_senders(struct agent *a)
{
	uint64_t deadline = now_ns() + AGENT_FLUSH_MS * 1000000ull;
	int ret = 0;

	for (size_t i = 0; i < a->nr_dests; i++) {
		struct dest *d = &a->dests[i];
		uint64_t now = now_ns(), left;
		struct spool_stats st;

		spool_drain(d->spool, now < deadline ? (deadline - now) / 1000000 : 0);
		spool_shutdown(d->spool);
		spool_stats(d->spool, &st);
		left = spool_close(d->spool);
		d->spool = NULL;
		if (left || st.dropped_windows)
			ret = 1;
		if (!a->o.quiet || ret)
			say("%s: %" PRIu64 " windows sent (%" PRIu64 " samples; %" PRIu64 " samples rows, "
			    "%" PRIu64 " stacks rows, %" PRIu64 " bytes), %" PRIu64 " dropped (%" PRIu64
			    " spool full, %" PRIu64 " refused by the server: %" PRIu64 " samples), %"
			    PRIu64 " not sent%s%s%s; %" PRIu64
			    " windows made, spool peak %" PRIu64 " bytes",
			    d->shown, st.sent, st.sent_samples, d->sent_rows[CH_T_SAMPLES],
			    d->sent_rows[CH_T_STACKS], d->sent_bytes, st.dropped_windows,
			    st.dropped_windows - st.rejected, st.rejected, st.dropped_samples, left,
			    !left ? "" : d->spool_dir[0] ? " (kept in the spool for the next start)"
							 : " (lost: memory only)",
			    left && d->failing ? ": " : "", left && d->failing ? d->last_err : "",
			    st.pushed, st.max_bytes);
	}
	return ret;
}

static void agent_free(struct agent *a)
{
	for (size_t i = 0; i < a->nr_dests; i++) {
		struct dest *d = &a->dests[i];

		spool_close(d->spool);
		ch_close(d->conn);
		ch_url_free(&d->url);
	}
	free(a->dests);
	recorder_free(a->rec);
	profile_free(a->prof);
	ch_writer_free(a->writer);
	svc_free(&a->svc);
	if (a->password) {
		memset(a->password, 0, strlen(a->password));
		free(a->password);
	}
}

int agent_main(int argc, char **argv)
{
	struct agent a = { .o = { .freq_hz = AGENT_DEFAULT_FREQ,
				  .window_ms = AGENT_DEFAULT_WINDOW_MS,
				  .retention_days = CH_DEFAULT_RETENTION_DAYS,
				  .timeout_ms = AGENT_TIMEOUT_MS } };
	struct sigaction sa = { .sa_handler = on_signal };
	bool done;
	int ret;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = parse_agent(&a.o, argc, argv, &done);
	if (done || ret)
		goto out;
	ret = setup_labels(&a);
	if (!ret)
		ret = setup_dests(&a);
	if (ret)
		goto out;
	if (a.o.init_cluster) {
		ret = init_cluster(&a);
		goto out;
	}
	ret = check_servers(&a);
	if (!ret)
		ret = open_spools(&a);
	if (!ret)
		ret = open_recorder(&a, argc, argv);
	if (!ret)
		ret = start_senders(&a);
	if (ret)
		goto out;
	a.writer = ch_writer_new();
	a.renew_stacks = AGENT_RENEW_STACKS;
	if (getenv("SAMPLETOP_AGENT_RENEW"))
		a.renew_stacks = strtoul(getenv("SAMPLETOP_AGENT_RENEW"), NULL, 10) ?: 1;
	a.agent_start_s = wall_ns() / 1000000000ull;
	if (!a.o.quiet) {
		say("sampling all processes at %u Hz as host %s, a window every %.3g s to %zu "
		    "server(s); SIGTERM or Ctrl-C to stop", a.o.freq_hz, a.host,
		    a.o.window_ms / 1000.0, a.nr_dests);
	}
	run_windows(&a);
	if (a.o.verbose)
		say("the profile holds %zu stacks, %zu frames, %zu strings, %zu threads "
		    "(%llu renewals)", a.prof->nr_stacks, a.prof->nr_frames, a.prof->nr_strs,
		    a.prof->nr_threads, (unsigned long long)a.renewals);
	ret = stop_senders(&a);
out:
	agent_free(&a);
	return ret;
}

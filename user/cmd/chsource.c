/* The ClickHouse store as report's, diff's and live's source: its options,
 * one read into a profile, and the live view's re-read every window. */
#include "cmd/chsource.h"
#include "cmd/cli.h"
#include "store/ch_http.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A query may take this long before the read gives up: a fleet's hour
 * merges in a few seconds (bench/fleet.sh); a hung server must not hang
 * the command. */
#define CHSOURCE_TIMEOUT_MS 60000
/* The live view closes after this many failed re-reads in a row (the
 * server's message printed); fewer keep the last tree and retry. */
#define CHSOURCE_LIVE_MAX_FAILS 3

bool chsource_is_url(const char *s)
{
	return !strncmp(s, CHSOURCE_URL_PREFIX, strlen(CHSOURCE_URL_PREFIX));
}

static const char *const store_opts[] = { "--since", "--until", "--where", "--password-file",
					   "--window" };

/* Is arg a store option ("--since" or "--since=V")? Its index, or -1. */
static int store_option(const char *arg, const char **inline_value)
{
	for (size_t i = 0; i < ARRAY_SIZE(store_opts); i++) {
		size_t n = strlen(store_opts[i]);

		if (strncmp(arg, store_opts[i], n) || (arg[n] && arg[n] != '='))
			continue;
		*inline_value = arg[n] == '=' ? arg + n + 1 : NULL;
		return (int)i;
	}
	return -1;
}

static int set_option(struct chsource_opts *o, int which, const char *name, const char *value,
		      size_t slot)
{
	char *end;

	switch (which) {
	case 0: o->src[slot].since = value; return 0;
	case 1: o->src[slot].until = value; return 0;
	case 2:
		if (o->src[slot].nr_where >= ARRAY_SIZE(o->src[slot].where))
			return cli_option_error(name, value, "too many filters (at most %zu)",
						ARRAY_SIZE(o->src[slot].where));
		o->src[slot].where[o->src[slot].nr_where++] = value;
		return 0;
	case 3:
		o->password_file = value;
		return *value ? 0 : cli_option_error(name, value, "an empty file name");
	case 4:
		errno = 0;
		o->window_s = strtod(value, &end);
		if (end == value || *end || errno || !(o->window_s >= 1 && o->window_s <= 3600))
			return cli_option_error(name, value, "seconds between re-reads, 1 to 3600");
		return 0;
	}
	return 0;
}

int chsource_take_options(int *argc, char **argv, struct chsource_opts *o)
{
	int out = 1, i;
	bool after_file = false;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < *argc; i++) {
		const char *arg = argv[i], *value;
		int which, ret;
		size_t slot;

		if (!strcmp(arg, "--"))
			break;
		if (chsource_is_url(arg)) {
			if (o->nr_urls >= CHSOURCE_MAX)
				return cli_usage_error("at most %d clickhouse:// sources",
						       CHSOURCE_MAX);
			o->nr_urls++;
			after_file = false;
		} else if (arg[0] != '-' && (i == 1 || argv[i - 1][0] != '-')) {
			/* An operand (a value follows its option): a saved profile. */
			after_file = true;
		}
		which = store_option(arg, &value);
		if (which < 0) {
			argv[out++] = argv[i];
			continue;
		}
		if (!value) {
			if (i + 1 >= *argc)
				return cli_option_error(arg, NULL, "needs a value (see --help)");
			value = argv[++i];
		}
		if (after_file && which < 3)
			return cli_option_error(store_opts[which], value,
						"applies to a clickhouse:// source, not a saved "
						"profile");
		slot = o->nr_urls ? o->nr_urls - 1 : CHSOURCE_MAX;
		if ((ret = set_option(o, which, store_opts[which], value, slot)))
			return ret;
	}
	for (; i < *argc; i++)
		argv[out++] = argv[i];
	*argc = out;
	argv[out] = NULL;
	return 0;
}

int chsource_check_unused(const struct chsource_opts *o, const char *cmd)
{
	const char *s = NULL;

	if (o->nr_urls)
		return 0;
	if (o->src[CHSOURCE_MAX].since)
		s = "--since";
	else if (o->src[CHSOURCE_MAX].until)
		s = "--until";
	else if (o->src[CHSOURCE_MAX].nr_where)
		s = "--where";
	else if (o->password_file)
		s = "--password-file";
	else if (o->window_s)
		s = "--window";
	if (!s)
		return 0;
	return cli_option_error(s, NULL, "reads the store: %s needs a clickhouse://HOST:PORT/DB "
				"source", cmd);
}

/* The query of the k-th source: its own range and filters, and those given
 * before every source. Returns 0 or 2 (printed). */
static int make_query(const struct chsource_opts *o, size_t k, int64_t now, struct ch_query *q)
{
	const char *since = o->src[k].since ?: o->src[CHSOURCE_MAX].since;
	const char *until = o->src[k].until ?: o->src[CHSOURCE_MAX].until;
	char why[256];
	int64_t ago;

	memset(q, 0, sizeof(*q));
	q->since_ago_s = q->until_ago_s = -1;
	if (since && ch_time_parse(since, now, &q->since_s, &q->since_ago_s, why, sizeof(why)))
		return cli_option_error("--since", since, "%s", why);
	if (until && ch_time_parse(until, now, &q->until_s, &ago, why, sizeof(why)))
		return cli_option_error("--until", until, "%s", why);
	q->until_ago_s = until ? ago : -1;
	if (q->since_s && q->until_s && q->until_s <= q->since_s)
		return cli_option_error("--until", until, "is not after --since %s", since);
	for (size_t s = 0; s < 2; s++) {
		size_t slot = s ? k : CHSOURCE_MAX;

		for (size_t i = 0; i < o->src[slot].nr_where; i++) {
			if (ch_query_add_where(q, o->src[slot].where[i], why, sizeof(why))) {
				ch_query_free(q);
				return cli_option_error("--where", o->src[slot].where[i], "%s", why);
			}
		}
	}
	return 0;
}

/* A connection and a reader over one store. */
struct store {
	struct ch_url url;
	struct ch_conn *conn;
	struct ch_reader *reader;
	char name[512];		/* the URL for messages, without a password */
};

static int exec_sql(void *ctx, const char *sql, struct strbuf *out, char *err, size_t errlen)
{
	return ch_exec(ctx, sql, NULL, 0, out, err, errlen);
}

/* Returns 0, or an exit code after printing why. */
static int store_open(struct store *s, const struct chsource_opts *o, const char *url,
		      struct profile *p)
{
	char why[512], *password = NULL;

	if (ch_url_parse(url, &s->url, why, sizeof(why)))
		return cli_option_error(url, NULL, "%s", why);
	ch_url_format(&s->url, s->name, sizeof(s->name));
	if (ch_password(o->password_file, &password, why, sizeof(why))) {
		fprintf(stderr, "sampletop: %s\n", why);
		return 1;
	}
	s->conn = ch_open(&s->url, password, CHSOURCE_TIMEOUT_MS);
	free(password);
	if (!s->conn) {
		fprintf(stderr, "sampletop: %s: cannot set up libcurl\n", s->name);
		return 1;
	}
	s->reader = ch_reader_new(p, s->url.db, s->name, exec_sql, s->conn);
	return 0;
}

static void store_close(struct store *s)
{
	ch_reader_free(s->reader);
	ch_close(s->conn);
	ch_url_free(&s->url);
}

/* Prints one line for a failed read (the server's message, or why a row was
 * refused). Returns 1. */
static int read_failed(const struct store *s, const char *why)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "sampletop: %s: ", s->name);
	/* ch_http escapes the server's message; a row's reason is ours. */
	strbuf_addstr(&sb, why);
	fprintf(stderr, "%s\n", sb.buf);
	strbuf_release(&sb);
	return 1;
}

int chsource_load(const struct chsource_opts *o, size_t k, const char *url, struct profile **out)
{
	struct store s = { 0 };
	struct ch_query q;
	struct profile *p;
	char why[1024];
	int64_t now = time(NULL);
	uint64_t t0;
	int ret;

	*out = NULL;
	if ((ret = make_query(o, k, now, &q)))
		return ret;
	p = profile_new();
	ret = store_open(&s, o, url, p);
	t0 = now_ns();
	if (!ret && ch_reader_load(s.reader, &q, now, why, sizeof(why)))
		ret = read_failed(&s, why);
	if (!ret && o->verbose) {
		struct ch_read_stats st;

		ch_reader_stats(s.reader, &st);
		fprintf(stderr, "sampletop: %s: %zu rows of %zu windows from %zu hosts, %zu stacks "
				"named, in %zu queries and %.2f s\n", s.name, st.rows, st.windows,
			st.hosts, p->nr_stacks, st.queries, (now_ns() - t0) / 1e9);
	}
	store_close(&s);
	ch_query_free(&q);
	if (ret) {
		profile_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

struct chsource_live {
	struct store s;
	struct ch_query q;
	struct profile *p;
	uint64_t period_ns, next_ns;
	int fails;
	char why[1024];
	bool failed;
};

/* Moves a relative range with the clock: "--since 5m" is always the last
 * five minutes. */
static void live_range(struct chsource_live *l, int64_t now)
{
	if (l->q.since_ago_s >= 0)
		l->q.since_s = now - l->q.since_ago_s;
	if (l->q.until_ago_s >= 0)
		l->q.until_s = now - l->q.until_ago_s;
}

static int live_read(struct chsource_live *l)
{
	int64_t now = time(NULL);

	live_range(l, now);
	return ch_reader_load(l->s.reader, &l->q, now, l->why, sizeof(l->why));
}

/* Every POLL: once a window, the store again. A failed read keeps the last
 * tree; CHSOURCE_LIVE_MAX_FAILS in a row close the view. */
static long live_poll(void *ctx)
{
	struct chsource_live *l = ctx;
	struct ch_read_stats st;
	uint64_t now = now_ns();
	int err;

	if (now < l->next_ns)
		return 0;
	l->next_ns = now + l->period_ns;
	err = live_read(l);
	if (err) {
		if (++l->fails >= CHSOURCE_LIVE_MAX_FAILS) {
			l->failed = true;
			return err;
		}
		return 0;
	}
	l->fails = 0;
	ch_reader_stats(l->s.reader, &st);
	/* At least 1: the tree is rebuilt even when the window is empty. */
	return (long)st.rows + 1;
}

/* r: read again now. */
static void live_reset(void *ctx)
{
	struct chsource_live *l = ctx;

	l->next_ns = 0;
}

/* The store's range already slides: nothing decays. */
static void live_decay(void *ctx, unsigned int num, unsigned int den)
{
}

/* Re-reads only zero and add counts: no frame is ever freed. */
static void live_hold(void *ctx, bool hold)
{
}

static bool live_exited(void *ctx)
{
	return false;
}

int chsource_live_open(const struct chsource_opts *o, const char *url, struct chsource_live **out,
		       struct profile **prof, struct tui_source *src)
{
	struct chsource_live *l = xcalloc(1, sizeof(*l));
	int ret;

	*out = NULL;
	if ((ret = make_query(o, 0, time(NULL), &l->q))) {
		free(l);
		return ret;
	}
	if (!o->src[0].since && !o->src[CHSOURCE_MAX].since)
		l->q.since_ago_s = CHSOURCE_LIVE_SINCE_S;
	l->p = profile_new();
	l->period_ns = (uint64_t)((o->window_s ? o->window_s : CHSOURCE_WINDOW_S) * 1e9);
	ret = store_open(&l->s, o, url, l->p);
	if (!ret && live_read(l))
		ret = read_failed(&l->s, l->why);
	if (ret) {
		chsource_live_free(l);
		return ret;
	}
	l->next_ns = now_ns() + l->period_ns;
	*src = (struct tui_source){
		.ctx = l,
		.poll = live_poll,
		.reset = live_reset,
		.decay = live_decay,
		.hold = live_hold,
		.targets_exited = live_exited,
	};
	*prof = l->p;
	*out = l;
	return 0;
}

const char *chsource_live_error(const struct chsource_live *l)
{
	return l && l->failed ? l->why : NULL;
}

void chsource_live_free(struct chsource_live *l)
{
	if (!l)
		return;
	store_close(&l->s);
	ch_query_free(&l->q);
	profile_free(l->p);
	free(l);
}

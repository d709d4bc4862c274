/*
 * Reading the ClickHouse store (the schema: man/sampletop.8, STORE) back
 * into a struct profile, so that every view, report and diff works on the
 * fleet as on one saved profile. A query names a time range and label
 * filters; the reader builds the SQL (every value an escaped string literal,
 * never raw text), runs it through an exec function (ch_exec in production,
 * canned rows in the tests), and loads the JSONEachRow answers as hostile
 * input: every row is type- and range-checked, rows, stacks and frames are
 * capped, and whatever a cap or a missing stack leaves out is counted and
 * named in the profile's note.
 *
 * Threads are keyed by (host, program, pid): one thread per process, whose
 * process name is "program @host", so the process level reads
 * "nginx @web-1 [1234]" and the program level "nginx @web-1".
 */
#ifndef CH_READ_H
#define CH_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "model/profile.h"

/* Rows of one samples query (one per host, program, pid and stack) we load:
 * far above a fleet's hour (200 hosts x a few thousand stacks), small enough
 * that a hostile server cannot make us allocate without bound. Past it the
 * lightest rows are left out and their weight shown as one stack. */
#define CH_READ_MAX_ROWS (4u << 20)
/* Stack hashes named per stacks query: keeps the SQL under the server's
 * max_query_size (256 KiB by default) at 21 bytes a hash. */
#define CH_READ_HASHES_PER_QUERY 8000
/* Longest frame name accepted (bytes): symbolizers cut C++ names well
 * below it; a longer one is cut and counted. */
#define CH_READ_MAX_NAME 8192

/* Filters of --where KEY=VALUE: host, service, program and pid are columns;
 * any other key is a user label ("env=prod" in the labels array). */
enum ch_key { CH_KEY_HOST, CH_KEY_SERVICE, CH_KEY_PROGRAM, CH_KEY_PID, CH_KEY_LABEL };

struct ch_filter {
	enum ch_key key;
	char *name;		/* the key as typed, owned */
	char *value;		/* owned; for a label the whole "key=value" */
};

/* What to read: a range of window starts and filters. Several filters on
 * one key match any of their values; filters on different keys must all
 * match. */
struct ch_query {
	int64_t since_s;	/* unix seconds, first window start kept; 0: from the first */
	int64_t until_s;	/* unix seconds, window starts before it; 0: to the last */
	/* Given relative ("1h": that long before now): the seconds, so that
	 * the live view moves the range; -1 when absolute or not given. */
	int64_t since_ago_s, until_ago_s;
	struct ch_filter *filters;	/* owned */
	size_t nr_filters;
};

/* Frees what the query owns and zeroes it. */
void ch_query_free(struct ch_query *q);

/*
 * A time of --since/--until: relative ("90s", "10m", "1h", "2d", "1w":
 * that long before now) or absolute UTC ("2026-11-28", "2026-11-28T10:00",
 * "2026-11-28T10:00:30", optionally ending in Z; a space may stand for T).
 * Returns 0 and *out (unix seconds; *ago the relative seconds or -1), or
 * -EINVAL with a one-line reason in err.
 */
int ch_time_parse(const char *s, int64_t now, int64_t *out, int64_t *ago, char *err,
		  size_t errlen);

/* Adds --where KEY=VALUE to q. Returns 0, or -EINVAL with a reason (no "=",
 * an empty key, a pid that is not a number). */
int ch_query_add_where(struct ch_query *q, const char *kv, char *err, size_t errlen);

/* The query for humans, after the URL: " --since 2026-11-28T10:00:00Z
 * --where host=web-1" (values escaped for display). */
void ch_query_describe(const struct ch_query *q, struct strbuf *sb);

/* A string literal for SQL: 'text' with ' and \ escaped (every byte else
 * as is; ClickHouse reads the rest raw). */
void ch_sql_string(struct strbuf *sb, const char *s);
/* An identifier for SQL: `db` with ` and \ escaped. */
void ch_sql_ident(struct strbuf *sb, const char *s);

/* The SQL of each step (for the tests and -v). samples: the rows grouped by
 * host, program, pid and stack, heaviest first, at most limit. */
void ch_read_samples_sql(const char *db, const struct ch_query *q, size_t limit,
			 struct strbuf *sql);
/* The names of n stack hashes. */
void ch_read_stacks_sql(const char *db, const uint64_t *hashes, size_t n, struct strbuf *sql);
/* The totals of the windows in range (count, hosts, span, lost, spool drops). */
void ch_read_windows_sql(const char *db, const struct ch_query *q, struct strbuf *sql);
/* The windows' counters summed by name. */
void ch_read_counters_sql(const char *db, const struct ch_query *q, struct strbuf *sql);
/* The total weight of the samples rows, asked only when the rows were cut. */
void ch_read_total_sql(const char *db, const struct ch_query *q, struct strbuf *sql);

/*
 * Runs sql and puts the answer in out. Returns 0, or a negative errno with
 * err set to one line (the server's own message).
 */
typedef int (*ch_read_exec_fn)(void *ctx, const char *sql, struct strbuf *out, char *err,
			       size_t errlen);

struct ch_reader;

/*
 * A reader that loads into p (not owned; it must outlive the reader) from
 * database db (copied) through exec/ctx. It remembers the stacks it named,
 * so that a live view re-reading every window asks only for new ones.
 * target: what the profile's meta.target says (the URL; copied).
 */
struct ch_reader *ch_reader_new(struct profile *p, const char *db, const char *target,
				ch_read_exec_fn exec, void *ctx);
void ch_reader_free(struct ch_reader *r);
/* Lowers the row cap (tests). */
void ch_reader_set_max_rows(struct ch_reader *r, size_t max_rows);

/*
 * Replaces the profile's counts with what q selects (now: unix seconds, for
 * the meta of an open range): reads the rows, names new stacks, reads the
 * windows' counters, then zeroes every count, adds the rows and sets meta
 * (target with the filters, start, duration, frequency, wall, counters,
 * note). Frames and stacks interned before stay. Returns 0, or a negative
 * errno with a one-line reason in err (the server's message, or what was
 * wrong with a row); on error the counts and meta are as before (a live
 * view keeps its last tree).
 */
int ch_reader_load(struct ch_reader *r, const struct ch_query *q, int64_t now, char *err,
		   size_t errlen);

/* What the last load read, for the caller's messages and the tests. */
struct ch_read_stats {
	size_t rows;		/* samples rows loaded */
	size_t rows_cut;	/* left out past the row cap (their weight: one stack) */
	size_t stacks_missing;	/* stacks without names in the store */
	uint64_t weight_missing;	/* their weight (samples or ns) */
	size_t frames_cut;	/* stacks cut to the view's depth */
	size_t names_cut;	/* frame names cut at CH_READ_MAX_NAME */
	size_t windows;		/* windows in range */
	size_t hosts;		/* distinct hosts among them */
	uint64_t lost;		/* the windows' lost column, summed */
	uint64_t spool_dropped;	/* windows the agents dropped from their spool */
	size_t queries;		/* SQL statements run */
};
void ch_reader_stats(const struct ch_reader *r, struct ch_read_stats *st);

#endif

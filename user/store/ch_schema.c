/* CREATE statements and retention for the ClickHouse store. The columns
 * are the contract with the reader (ch_read.c): change them together. */
#include "store/ch_schema.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Columns and keys of each table, as the man page lists them. */
static const struct {
	const char *columns, *engine, *order, *shard_key;
} tables[CH_T_NR] = {
	[CH_T_STACKS] = {
		"day Date, stack_hash UInt64, names Array(String), modules Array(String), "
		"kinds Array(UInt8)",
		"ReplacingMergeTree()", "stack_hash", "stack_hash" },
	[CH_T_SAMPLES] = {
		"day Date, window_start DateTime, window_ms UInt32, host String, service String, "
		"program String, pid UInt32, labels Array(String), stack_hash UInt64, "
		"samples UInt64, wall_ns UInt64, freq_hz UInt32",
		"MergeTree()", "(service, program, host, window_start, stack_hash)",
		"cityHash64(host)" },
	[CH_T_WINDOWS] = {
		"day Date, window_start DateTime, window_ms UInt32, host String, "
		"labels Array(String), seq UInt64, agent_start DateTime, samples UInt64, "
		"wall_ns UInt64, lost UInt64, spool_dropped UInt64, counters String",
		"MergeTree()", "(host, window_start)", "cityHash64(host)" },
};

static void set_err(char *err, size_t errlen, const char *what, const char *why)
{
	snprintf(err, errlen, "%s: %s", what, why);
}

void ch_schema_table_sql(struct strbuf *sb, const char *db, enum ch_table t, const char *suffix,
			 unsigned ttl_days)
{
	strbuf_addf(sb, "CREATE TABLE IF NOT EXISTS %s.%s%s (%s) ENGINE = %s PARTITION BY day "
		    "ORDER BY %s", db, ch_table_names[t], suffix, tables[t].columns,
		    tables[t].engine, tables[t].order);
	if (ttl_days)
		strbuf_addf(sb, " TTL day + toIntervalDay(%u)", ttl_days);
}

void ch_schema_distributed_sql(struct strbuf *sb, const char *db, enum ch_table t,
			       const char *cluster)
{
	strbuf_addf(sb, "CREATE TABLE IF NOT EXISTS %s.%s AS %s.%s_local ENGINE = "
		    "Distributed(%s, %s, %s_local, %s)", db, ch_table_names[t], db,
		    ch_table_names[t], cluster, db, ch_table_names[t], tables[t].shard_key);
}

int ch_parse_version(const char *text, int *major, int *minor)
{
	const char *p = text;
	long v[2];

	for (int i = 0; i < 2; i++) {
		char *end;

		if (*p < '0' || *p > '9')
			return -EPROTO;
		errno = 0;
		v[i] = strtol(p, &end, 10);
		if (errno || v[i] > 100000)
			return -EPROTO;
		p = end;
		if (i == 0 && *p++ != '.')
			return -EPROTO;
	}
	*major = (int)v[0];
	*minor = (int)v[1];
	return 0;
}

int ch_parse_part_line(const char *line, char *table, size_t tlen, char *id, size_t idlen)
{
	static const char *const ours[] = { "samples", "stacks", "windows", "samples_local",
					    "stacks_local", "windows_local" };
	const char *tab = strchr(line, '\t');
	size_t n, k;

	if (!tab)
		return -EPROTO;
	n = tab - line;
	for (k = 0; k < ARRAY_SIZE(ours); k++)
		if (strlen(ours[k]) == n && !memcmp(ours[k], line, n))
			break;
	/* A day partition's id is YYYYMMDD: nothing else is dropped. */
	if (k == ARRAY_SIZE(ours) || strlen(tab + 1) != 8 || strspn(tab + 1, "0123456789") != 8 ||
	    n >= tlen || idlen < 9)
		return -EPROTO;
	memcpy(table, line, n);
	table[n] = '\0';
	memcpy(id, tab + 1, 9);
	return 0;
}

int ch_server_version(struct ch_conn *c, int *major, int *minor, char *err, size_t errlen)
{
	struct strbuf out = STRBUF_INIT;
	char buf[512];
	int ret = ch_exec(c, "SELECT version()", NULL, 0, &out, buf, sizeof(buf));

	if (ret) {
		set_err(err, errlen, "asking the server's version", buf);
		goto out;
	}
	if (ch_parse_version(out.buf, major, minor)) {
		struct strbuf shown = STRBUF_INIT;

		out.buf[strcspn(out.buf, "\n")] = '\0';
		strbuf_add_escaped(&shown, out.buf);
		snprintf(err, errlen, "the server's version '%.64s' is not a version", shown.buf);
		strbuf_release(&shown);
		ret = -EPROTO;
	}
out:
	strbuf_release(&out);
	return ret;
}

/* Runs one statement; err = "what: the server's message". */
static int run(struct ch_conn *c, const char *sql, struct strbuf *out, const char *what,
	       char *err, size_t errlen)
{
	char buf[512];
	int ret = ch_exec(c, sql, NULL, 0, out, buf, sizeof(buf));

	if (ret)
		set_err(err, errlen, what, buf);
	return ret;
}

/* Is DB.name a MergeTree table (not a Distributed one, not missing)? */
/* Does DB.name exist? */
static int table_exists(struct ch_conn *c, const char *db, const char *name, bool *yes,
			char *err, size_t errlen)
{
	struct strbuf sql = STRBUF_INIT, out = STRBUF_INIT;
	int ret;

	strbuf_addf(&sql, "EXISTS TABLE %s.%s", db, name);
	ret = run(c, sql.buf, &out, "looking for the tables", err, errlen);
	*yes = !ret && out.buf[0] == '1';
	strbuf_release(&sql);
	strbuf_release(&out);
	return ret;
}

/* Do the store's MergeTree tables here have a TTL? (samples_local on a
 * shard, else samples.) */
static int has_ttl(struct ch_conn *c, const char *db, bool *yes, char *err, size_t errlen)
{
	struct strbuf sql = STRBUF_INIT, out = STRBUF_INIT;
	bool local;
	int ret = table_exists(c, db, "samples_local", &local, err, errlen);

	if (!ret) {
		strbuf_addf(&sql, "SHOW CREATE TABLE %s.%s", db, local ? "samples_local" : "samples");
		ret = run(c, sql.buf, &out, "reading the table's definition", err, errlen);
	}
	*yes = !ret && strstr(out.buf, " TTL ") != NULL;
	strbuf_release(&sql);
	strbuf_release(&out);
	return ret;
}

/* Are all the tables there? Then nothing is created: an agent may run as a
 * user with no right to create (INSERT only, on current servers). */
static int all_there(struct ch_conn *c, const char *db, const char *cluster, bool *yes,
		     char *err, size_t errlen)
{
	char name[64];
	int ret = 0;

	*yes = true;
	for (int t = 0; !ret && *yes && t < CH_T_NR; t++) {
		snprintf(name, sizeof(name), "%s%s", ch_table_names[t], cluster ? "_local" : "");
		ret = table_exists(c, db, name, yes, err, errlen);
		if (!ret && *yes && cluster)
			ret = table_exists(c, db, ch_table_names[t], yes, err, errlen);
	}
	return ret;
}

int ch_schema_create(struct ch_conn *c, const char *db, const char *cluster,
		     unsigned retention_days, bool *ttl, char *err, size_t errlen)
{
	struct strbuf sql = STRBUF_INIT;
	const char *suffix = cluster ? "_local" : "";
	int major, minor, ret;
	unsigned ttl_days;
	bool there;

	*ttl = false;
	ret = ch_server_version(c, &major, &minor, err, errlen);
	if (ret)
		return ret;
	ttl_days = major > CH_TTL_MAJOR || (major == CH_TTL_MAJOR && minor >= CH_TTL_MINOR)
			   ? retention_days
			   : 0;
	ret = all_there(c, db, cluster, &there, err, errlen);
	if (!ret && !there) {
		strbuf_addf(&sql, "CREATE DATABASE IF NOT EXISTS %s", db);
		ret = run(c, sql.buf, NULL, "creating the database", err, errlen);
	}
	for (int t = 0; !ret && !there && t < CH_T_NR; t++) {
		strbuf_reset(&sql);
		ch_schema_table_sql(&sql, db, t, suffix, ttl_days);
		ret = run(c, sql.buf, NULL, "creating a table", err, errlen);
		if (ret || !cluster)
			continue;
		strbuf_reset(&sql);
		ch_schema_distributed_sql(&sql, db, t, cluster);
		ret = run(c, sql.buf, NULL, "creating a Distributed table", err, errlen);
	}
	strbuf_release(&sql);
	/* Tables made earlier keep the retention they were made with (see
	 * the man page): MODIFY TTL would rewrite every part at each start. */
	if (!ret && ttl_days)
		ret = has_ttl(c, db, ttl, err, errlen);
	return ret;
}

int ch_schema_expire(struct ch_conn *c, const char *db, unsigned retention_days, uint64_t now_s,
		     unsigned *dropped, char *err, size_t errlen)
{
	struct strbuf sql = STRBUF_INIT, out = STRBUF_INIT;
	time_t cut = (time_t)(now_s - (uint64_t)retention_days * 86400);
	struct tm tm;
	char day[16];
	int ret;

	*dropped = 0;
	if (!retention_days)
		return 0;
	gmtime_r(&cut, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	/* Day partitions have ids YYYYMMDD: older ones sort before the cut. */
	strbuf_addf(&sql, "SELECT DISTINCT table, partition_id FROM system.parts WHERE active AND "
		    "database = '%s' AND table IN ('samples', 'stacks', 'windows', "
		    "'samples_local', 'stacks_local', 'windows_local') AND partition_id < '%s' "
		    "FORMAT TabSeparated", db, day);
	ret = run(c, sql.buf, &out, "listing old partitions", err, errlen);
	for (char *line = out.buf, *nl; !ret && *line; line = nl + 1) {
		char table[64], id[16];

		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		/* Only our tables' day partitions: anything else is skipped. */
		if (ch_parse_part_line(line, table, sizeof(table), id, sizeof(id)))
			continue;
		strbuf_reset(&sql);
		strbuf_addf(&sql, "ALTER TABLE %s.%s DROP PARTITION ID '%s'", db, table, id);
		ret = run(c, sql.buf, NULL, "dropping an old partition", err, errlen);
		if (!ret)
			(*dropped)++;
	}
	strbuf_release(&sql);
	strbuf_release(&out);
	return ret;
}

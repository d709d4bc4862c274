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

void ch_schema_table_sql(struct strbuf *sb, const char *db, enum ch_table t, const char *suffix)
{
	strbuf_addf(sb, "CREATE TABLE IF NOT EXISTS %s.%s%s (%s) ENGINE = %s PARTITION BY day "
		    "ORDER BY %s", db, ch_table_names[t], suffix, tables[t].columns,
		    tables[t].engine, tables[t].order);
}

void ch_schema_distributed_sql(struct strbuf *sb, const char *db, enum ch_table t,
			       const char *cluster)
{
	strbuf_addf(sb, "CREATE TABLE IF NOT EXISTS %s.%s AS %s.%s_local ENGINE = "
		    "Distributed(%s, %s, %s_local, %s)", db, ch_table_names[t], db,
		    ch_table_names[t], cluster, db, ch_table_names[t], tables[t].shard_key);
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
	if (sscanf(out.buf, "%d.%d", major, minor) != 2) {
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
static int is_merge_tree(struct ch_conn *c, const char *db, const char *name, bool *yes,
			 char *err, size_t errlen)
{
	struct strbuf sql = STRBUF_INIT, out = STRBUF_INIT;
	int ret;

	strbuf_addf(&sql, "SELECT engine FROM system.tables WHERE database = '%s' AND name = '%s'",
		    db, name);
	ret = run(c, sql.buf, &out, "reading system.tables", err, errlen);
	*yes = !ret && strstr(out.buf, "MergeTree") != NULL;
	strbuf_release(&sql);
	strbuf_release(&out);
	return ret;
}

static int set_ttl(struct ch_conn *c, const char *db, const char *suffix, unsigned days,
		   char *err, size_t errlen)
{
	struct strbuf sql = STRBUF_INIT, name = STRBUF_INIT;
	int ret = 0;

	for (int t = 0; !ret && t < CH_T_NR; t++) {
		bool mt;

		strbuf_reset(&name);
		strbuf_addf(&name, "%s%s", ch_table_names[t], suffix);
		ret = is_merge_tree(c, db, name.buf, &mt, err, errlen);
		if (ret || !mt)
			continue;
		strbuf_reset(&sql);
		strbuf_addf(&sql, "ALTER TABLE %s.%s MODIFY TTL day + toIntervalDay(%u)", db,
			    name.buf, days);
		ret = run(c, sql.buf, NULL, "setting the retention (TTL)", err, errlen);
	}
	strbuf_release(&sql);
	strbuf_release(&name);
	return ret;
}

int ch_schema_create(struct ch_conn *c, const char *db, const char *cluster,
		     unsigned retention_days, bool *ttl, char *err, size_t errlen)
{
	struct strbuf sql = STRBUF_INIT;
	const char *suffix = cluster ? "_local" : "";
	int major, minor, ret;

	*ttl = false;
	strbuf_addf(&sql, "CREATE DATABASE IF NOT EXISTS %s", db);
	ret = run(c, sql.buf, NULL, "creating the database", err, errlen);
	for (int t = 0; !ret && t < CH_T_NR; t++) {
		strbuf_reset(&sql);
		ch_schema_table_sql(&sql, db, t, suffix);
		ret = run(c, sql.buf, NULL, "creating a table", err, errlen);
		if (ret || !cluster)
			continue;
		strbuf_reset(&sql);
		ch_schema_distributed_sql(&sql, db, t, cluster);
		ret = run(c, sql.buf, NULL, "creating a Distributed table", err, errlen);
	}
	strbuf_release(&sql);
	if (ret || !retention_days)
		return ret;
	ret = ch_server_version(c, &major, &minor, err, errlen);
	if (ret)
		return ret;
	if (major < CH_TTL_MAJOR || (major == CH_TTL_MAJOR && minor < CH_TTL_MINOR))
		return 0;
	ret = set_ttl(c, db, suffix, retention_days, err, errlen);
	*ttl = !ret;
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
		/* Only names we asked for come back; anything else is skipped. */
		if (sscanf(line, "%63[a-z_]\t%15[0-9]", table, id) != 2)
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

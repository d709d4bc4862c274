/* The ClickHouse store's tables (samples, stacks, windows; the man page
 * gives the columns): created when missing on one server, or as local
 * tables plus Distributed tables on each shard of a cluster, and kept to a
 * retention (TTL where the server has it, else dropped partitions).
 * Only SQL that 18.16 and current servers both accept. */
#ifndef CH_SCHEMA_H
#define CH_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"
#include "store/ch_http.h"
#include "store/ch_write.h"

/* Days kept when --retention is not given: two weeks of windows cover
 * "what changed since last week's deploy" and stay small (the man page
 * has the figures). 0 keeps everything. */
#define CH_DEFAULT_RETENTION_DAYS 14
/* TTL on MergeTree tables exists from this server version on. */
#define CH_TTL_MAJOR 19
#define CH_TTL_MINOR 6

/* The CREATE TABLE statement of table t into sb: a MergeTree table named
 * DB.<name><suffix> (suffix "" or "_local"), with a TTL of ttl_days (0:
 * none; only for servers that have TTL). */
void ch_schema_table_sql(struct strbuf *sb, const char *db, enum ch_table t, const char *suffix,
			 unsigned ttl_days);
/* The Distributed table DB.<name> over DB.<name>_local of cluster. */
void ch_schema_distributed_sql(struct strbuf *sb, const char *db, enum ch_table t,
			       const char *cluster);

/* The server's version, "18.16.1" -> 18, 16. Returns 0 or as ch_exec
 * (-EPROTO: an answer that is no version). */
int ch_server_version(struct ch_conn *c, int *major, int *minor, char *err, size_t errlen);

/* "18.16.1..." -> 18, 16 (the answer to SELECT version(), hostile).
 * Returns 0 or -EPROTO. */
int ch_parse_version(const char *text, int *major, int *minor);
/* A line "TABLE<tab>PARTITION_ID" of system.parts (hostile): 0 when TABLE
 * is one of the store's tables and the id a day's (8 digits), copied out;
 * else -EPROTO. */
int ch_parse_part_line(const char *line, char *table, size_t tlen, char *id, size_t idlen);

/* Creates the database and the tables when any is missing (when all are
 * there, nothing: an INSERT-only user is enough). cluster NULL: one
 * server, MergeTree tables DB.samples... ; else the MergeTree tables
 * DB.samples_local... and Distributed tables DB.samples... over cluster
 * (run it on every shard: no ON CLUSTER without ZooKeeper). On a server
 * with TTL, new MergeTree tables get a TTL of retention_days (0: none);
 * tables made before keep theirs. *ttl says whether the store's tables on
 * this server have a TTL (else the agent drops old partitions itself).
 * Returns 0 or as ch_exec, err set ("what: the server's message"). */
int ch_schema_create(struct ch_conn *c, const char *db, const char *cluster,
		     unsigned retention_days, bool *ttl, char *err, size_t errlen);

/* Without TTL: drops the day partitions older than retention_days before
 * now_s (unix seconds) from every MergeTree table of the store on this
 * server (DB.samples or DB.samples_local, ...). *dropped counts them.
 * Returns 0 or as ch_exec. */
int ch_schema_expire(struct ch_conn *c, const char *db, unsigned retention_days, uint64_t now_s,
		     unsigned *dropped, char *err, size_t errlen);

#endif

/* ClickHouse over its HTTP interface (libcurl): the store URL, the password,
 * and one connection that runs SQL and sends JSONEachRow rows. Shared by the
 * agent (writer) and report/diff/live (reader); the schema is in ch_schema.h. */
#ifndef CH_HTTP_H
#define CH_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* The HTTP port ClickHouse listens on by default, when the URL names none. */
#define CH_DEFAULT_PORT 8123
/* The database when the URL names none. */
#define CH_DEFAULT_DB "sampletop"
/* Names go into SQL unquoted: the URL's database and user are limited to
 * what needs no quoting ([A-Za-z0-9_], the user also '.' and '-'). */
#define CH_NAME_MAX 64
/* A response larger than this is refused (-EFBIG): a server, or something
 * posing as one, must not make us allocate without bound. */
#define CH_MAX_RESPONSE (512u << 20)
/* How long connecting may take, at most (less when the whole call's timeout
 * is shorter): a dead host is noticed before a slow query would be. */
#define CH_CONNECT_TIMEOUT_MS 5000
/* The environment variable a password may come from. */
#define CH_PASSWORD_ENV "SAMPLETOP_CLICKHOUSE_PASSWORD"

/* clickhouse://[USER@]HOST[:PORT][/DB]. Strings owned by the struct;
 * user is NULL when the URL names none (the server's `default`). */
struct ch_url {
	char *user, *host, *db;
	uint16_t port;
};

/* Parses s into *u (zeroed first). A password in the URL (USER:PASS@) is
 * refused: it would show in ps and in shell history. Returns 0, or -EINVAL
 * with err = one line saying what is wrong (nothing to free then). */
int ch_url_parse(const char *s, struct ch_url *u, char *err, size_t errlen);
void ch_url_free(struct ch_url *u);
/* The URL back as text, without a password (for messages): into buf. */
void ch_url_format(const struct ch_url *u, char *buf, size_t len);

/* The password: the first line of file (if non-NULL; trailing newline
 * removed), else env SAMPLETOP_CLICKHOUSE_PASSWORD, else none (*out = NULL).
 * *out is the caller's to free. Returns 0 or -errno with err set. */
int ch_password(const char *file, char **out, char *err, size_t errlen);

/* One keep-alive connection to the server of u (copied: u may be freed
 * after). timeout_ms bounds each ch_exec as a whole (0: no bound beyond the
 * connect timeout). Returns NULL only when libcurl cannot be set up.
 * A connection is used by one thread at a time. Statements name their
 * tables DB.table: the connection sets no database (u->db need not exist). */
struct ch_conn *ch_open(const struct ch_url *u, const char *password, long timeout_ms);

/* POSTs sql (with data appended as the body after the query when non-NULL, for
 * INSERT ... FORMAT JSONEachRow); the response body goes to out (may be NULL).
 * 0 on success; negative on failure with err = the server's own message (its first
 * line, escaped) or the transport error ("connection refused", "timed out").
 * Errors: -ECONNREFUSED (nothing listens), -ETIMEDOUT (connect or the whole
 * call took too long), -EHOSTUNREACH (name or route), -EREMOTEIO (the server
 * answered with an error: auth, SQL, ...), -EFBIG (response over
 * CH_MAX_RESPONSE), -EIO (any other transport failure). */
int ch_exec(struct ch_conn *c, const char *sql, const char *data, size_t len,
	    struct strbuf *out, char *err, size_t errlen);
/* The message of a server's error answer (body of len bytes, hostile):
 * its first line, escaped, without 18.16's ", e.what() = ..." tail; "the
 * server answered HTTP <status>" when it has none. Into err. */
void ch_error_message(const char *body, size_t len, long status, char *err, size_t errlen);
/* The HTTP status of the last ch_exec (0 when no answer came). */
long ch_last_status(const struct ch_conn *c);
void ch_close(struct ch_conn *c);

#endif

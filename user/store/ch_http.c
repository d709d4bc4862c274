/* ClickHouse's HTTP interface through libcurl: the query goes in the URL
 * (?query=...), rows in the POST body, which is how the server accepts
 * INSERT ... FORMAT JSONEachRow on 18.16 and on current versions alike. */
#include "store/ch_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ch_conn {
	CURL *curl;
	char *base;	  /* http://HOST:PORT/?query= */
	long timeout_ms;
	long status;
	struct curl_slist *headers;
	struct strbuf body;	/* response of the running call */
	int too_big;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int name_char(char c, int user)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || (user && (c == '.' || c == '-'));
}

static int host_char(char c)
{
	return name_char(c, 1) || c == ':';	/* ':' only inside [IPv6] */
}

/* Shows the start of a bad URL escaped, for the error line. */
static void bad_part(char *buf, size_t len, const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	char *part = xstrndup(s, n);

	strbuf_add_escaped(&sb, part);
	snprintf(buf, len, "%s", sb.buf);
	strbuf_release(&sb);
	free(part);
}

int ch_url_parse(const char *s, struct ch_url *u, char *err, size_t errlen)
{
	static const char scheme[] = "clickhouse://";
	const char *p, *at, *host, *host_end, *slash;
	char shown[128];
	unsigned long port = CH_DEFAULT_PORT;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, scheme, strlen(scheme))) {
		bad_part(shown, sizeof(shown), s, strnlen(s, 60));
		set_err(err, errlen, "'%s' is not a clickhouse://[USER@]HOST:PORT/DB URL", shown);
		return -EINVAL;
	}
	p = s + strlen(scheme);
	slash = strchr(p, '/');
	at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (at) {
		if (memchr(p, ':', at - p)) {
			set_err(err, errlen, "a password in the URL is refused (it shows in ps and in "
					     "shell history): use --password-file FILE or the "
					     "environment variable " CH_PASSWORD_ENV);
			return -EINVAL;
		}
		for (const char *q = p; q < at; q++)
			if (!name_char(*q, 1)) {
				bad_part(shown, sizeof(shown), p, at - p);
				set_err(err, errlen, "bad user name '%s' in the URL", shown);
				return -EINVAL;
			}
		if (at == p || at - p > CH_NAME_MAX) {
			set_err(err, errlen, "the user name in the URL is empty or too long");
			return -EINVAL;
		}
		u->user = xstrndup(p, at - p);
		p = at + 1;
	}
	host = p;
	if (*p == '[') {
		host_end = strchr(p, ']');
		if (!host_end)
			goto bad_host;
		for (const char *q = p + 1; q < host_end; q++)
			if (!host_char(*q))
				goto bad_host;
		p = host_end + 1;
		host_end++;
	} else {
		while (*p && name_char(*p, 1))
			p++;
		host_end = p;
	}
	if (host_end == host || host_end - host > 255)
		goto bad_host;
	if (*p == ':') {
		char *end;

		errno = 0;
		port = strtoul(p + 1, &end, 10);
		if (errno || end == p + 1 || port == 0 || port > 65535 || (*end && *end != '/')) {
			bad_part(shown, sizeof(shown), p + 1, strcspn(p + 1, "/"));
			set_err(err, errlen, "bad port '%s' in the URL (1-65535, the HTTP port)", shown);
			goto fail;
		}
		p = end;
	}
	if (*p && *p != '/')
		goto bad_host;
	u->host = xstrndup(host, host_end - host);
	u->port = port;
	if (*p == '/')
		p++;
	if (!*p) {
		u->db = xstrdup(CH_DEFAULT_DB);
		return 0;
	}
	for (const char *q = p; *q; q++)
		if (!name_char(*q, 0) || q - p >= CH_NAME_MAX) {
			bad_part(shown, sizeof(shown), p, strnlen(p, 60));
			set_err(err, errlen, "bad database name '%s' in the URL (letters, digits, _)",
				shown);
			goto fail;
		}
	u->db = xstrdup(p);
	return 0;

bad_host:
	bad_part(shown, sizeof(shown), host, strnlen(host, 60));
	set_err(err, errlen, "bad host in the URL at '%s'", shown);
fail:
	ch_url_free(u);
	return -EINVAL;
}

void ch_url_free(struct ch_url *u)
{
	free(u->user);
	free(u->host);
	free(u->db);
	memset(u, 0, sizeof(*u));
}

void ch_url_format(const struct ch_url *u, char *buf, size_t len)
{
	snprintf(buf, len, "clickhouse://%s%s%s:%u/%s", u->user ? u->user : "",
		 u->user ? "@" : "", u->host, u->port, u->db);
}

int ch_password(const char *file, char **out, char *err, size_t errlen)
{
	const char *env;

	*out = NULL;
	if (file) {
		FILE *f = fopen(file, "re");
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		int e;

		if (!f) {
			e = errno;
			set_err(err, errlen, "cannot read the password file: %s", strerror(e));
			return -e;
		}
		n = getline(&line, &cap, f);
		fclose(f);
		if (n < 0) {
			free(line);
			set_err(err, errlen, "the password file is empty");
			return -EINVAL;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		*out = line;
		return 0;
	}
	env = getenv(CH_PASSWORD_ENV);
	if (env && *env)
		*out = xstrdup(env);
	return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

/* curl_global_init is not thread-safe: once, whoever opens first. */
static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct ch_conn *c = arg;
	size_t n = size * nmemb;

	if (c->body.len + n > CH_MAX_RESPONSE) {
		c->too_big = 1;
		return 0;	/* makes curl stop with CURLE_WRITE_ERROR */
	}
	strbuf_add(&c->body, ptr, n);
	return n;
}

struct ch_conn *ch_open(const struct ch_url *u, const char *password, long timeout_ms)
{
	struct ch_conn *c;
	struct strbuf base = STRBUF_INIT;
	long connect_ms = CH_CONNECT_TIMEOUT_MS;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->body = (struct strbuf)STRBUF_INIT;
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return NULL;
	}
	/* No database= parameter: statements name DB.table, and the database
	 * need not exist yet (CREATE DATABASE runs over this connection). */
	strbuf_addf(&base, "http://%s:%u/?query=", u->host, u->port);
	c->base = strbuf_detach(&base);
	c->timeout_ms = timeout_ms;
	if (timeout_ms > 0 && timeout_ms < connect_ms)
		connect_ms = timeout_ms;
	/* No signals: the agent calls this from its sender thread. */
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 0L);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "sampletop");
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	/* No "Expect: 100-continue" on big bodies: a round trip (or curl's
	 * 1 s wait) per insert for nothing. */
	c->headers = curl_slist_append(NULL, "Expect:");
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
	if (u->user || password) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c->curl, CURLOPT_USERNAME, u->user ? u->user : "default");
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD, password ? password : "");
	}
	return c;
}

void ch_error_message(const char *body, size_t len, long status, char *err, size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;
	char *line, *tail;

	while (n < len && body[n] && body[n] != '\r' && body[n] != '\n')
		n++;
	line = xstrndup(body, n);
	/* 18.16 ends its messages with ", e.what() = DB::Exception": nothing new. */
	tail = strstr(line, ", e.what() = ");
	if (tail)
		*tail = '\0';
	if (!*line)
		strbuf_addf(&sb, "the server answered HTTP %ld", status);
	else
		strbuf_add_escaped(&sb, line);
	set_err(err, errlen, "%s", sb.buf);
	strbuf_release(&sb);
	free(line);
}

static int transport_error(struct ch_conn *c, CURLcode rc, char *err, size_t errlen)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		set_err(err, errlen, "connection refused");
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		set_err(err, errlen, "timed out after %ld ms", c->timeout_ms);
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		set_err(err, errlen, "cannot resolve the host name");
		return -EHOSTUNREACH;
	case CURLE_WRITE_ERROR:
		if (c->too_big) {
			set_err(err, errlen, "the response is larger than %u MiB",
				CH_MAX_RESPONSE >> 20);
			return -EFBIG;
		}
		break;
	default:
		break;
	}
	set_err(err, errlen, "%s", curl_easy_strerror(rc));
	return -EIO;
}

int ch_exec(struct ch_conn *c, const char *sql, const char *data, size_t len,
	    struct strbuf *out, char *err, size_t errlen)
{
	struct strbuf url = STRBUF_INIT;
	CURLcode rc;
	int ret = 0;

	strbuf_reset(&c->body);
	c->too_big = 0;
	c->status = 0;
	strbuf_addstr(&url, c->base);
	if (data) {
		/* The query in the URL, the rows as the body: the server reads
		 * them as one statement. */
		char *q = curl_easy_escape(c->curl, sql, 0);

		if (!q) {
			set_err(err, errlen, "out of memory escaping the query");
			strbuf_release(&url);
			return -ENOMEM;
		}
		strbuf_addstr(&url, q);
		curl_free(q);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		/* Only the query: it is the body (no URL length limit). */
		url.len -= strlen("?query=");
		url.buf[url.len] = '\0';
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, sql);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(sql));
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url.buf);
	rc = curl_easy_perform(c->curl);
	strbuf_release(&url);
	if (rc != CURLE_OK)
		return transport_error(c, rc, err, errlen);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
	if (c->status != 200) {
		ch_error_message(c->body.buf, c->body.len, c->status, err, errlen);
		ret = -EREMOTEIO;
	} else if (out) {
		strbuf_add(out, c->body.buf, c->body.len);
	}
	if (c->body.alloc > (1u << 20)) {
		strbuf_release(&c->body);	/* keep no big buffer between calls */
		c->body = (struct strbuf)STRBUF_INIT;
	}
	return ret;
}

long ch_last_status(const struct ch_conn *c)
{
	return c->status;
}

void ch_close(struct ch_conn *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	strbuf_release(&c->body);
	free(c->base);
	free(c);
}

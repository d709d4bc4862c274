/* Allocation, strbuf and escaping helpers shared by every module. */
#include "base/util.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char strbuf_empty[1];

static void (*fatal_hook)(void);

void util_set_fatal_hook(void (*fn)(void))
{
	fatal_hook = fn;
}

static void oom(size_t n)
{
	if (fatal_hook)
		fatal_hook();
	fprintf(stderr, "sampletop: out of memory (allocating %zu bytes)\n", n);
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void xgrow(void **p, size_t *alloc, size_t want, size_t elem)
{
	size_t n;

	if (want <= *alloc)
		return;
	n = *alloc ? *alloc : 16;
	while (n < want)
		n *= 2;
	if (n > SIZE_MAX / elem)
		oom(SIZE_MAX);
	*p = xrealloc(*p, n * elem);
	*alloc = n;
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want = sb->len + extra + 1;

	if (want <= sb->alloc)
		return;
	if (sb->alloc == 0)
		sb->buf = NULL;
	xgrow((void **)&sb->buf, &sb->alloc, want, 1);
	if (sb->len == 0)
		sb->buf[0] = 0;
}

void strbuf_add(struct strbuf *sb, const void *data, size_t n)
{
	strbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = 0;
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, char c)
{
	strbuf_grow(sb, 1);
	sb->buf[sb->len++] = c;
	sb->buf[sb->len] = 0;
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->alloc ? sb->alloc - sb->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if (sb->alloc == 0 || (size_t)n >= sb->alloc - sb->len) {
		strbuf_grow(sb, n);
		vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
	}
	sb->len += n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->alloc)
		sb->buf[0] = 0;
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	sb->buf = strbuf_empty;
	sb->len = sb->alloc = 0;
}

char *strbuf_detach(struct strbuf *sb)
{
	char *r = sb->alloc ? sb->buf : xstrdup("");

	sb->buf = strbuf_empty;
	sb->len = sb->alloc = 0;
	return r;
}

int utf8_seq_len(const unsigned char *s)
{
	int n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and out-of-range code points. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	/* C1 controls (U+0080..U+009F) act on terminals too. */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	return n;
}

void strbuf_add_escaped(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = utf8_seq_len(p);

		if (n == 1 && *p >= 0x20 && *p != 0x7f && *p != '\\') {
			strbuf_addch(sb, *p);
		} else if (n == 1 && *p == '\\') {
			strbuf_addstr(sb, "\\\\");
		} else if (n > 1) {
			strbuf_add(sb, p, n);
			p += n;
			continue;
		} else {
			strbuf_addf(sb, "\\x%02x", *p);
		}
		p++;
	}
}

void strbuf_add_html(struct strbuf *sb, const char *s)
{
	struct strbuf tmp = STRBUF_INIT;

	strbuf_add_escaped(&tmp, s);
	for (const char *p = tmp.buf; *p; p++) {
		switch (*p) {
		case '&': strbuf_addstr(sb, "&amp;"); break;
		case '<': strbuf_addstr(sb, "&lt;"); break;
		case '>': strbuf_addstr(sb, "&gt;"); break;
		case '"': strbuf_addstr(sb, "&quot;"); break;
		case '\'': strbuf_addstr(sb, "&#39;"); break;
		default: strbuf_addch(sb, *p);
		}
	}
	strbuf_release(&tmp);
}

void strbuf_add_json(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = utf8_seq_len(p);

		if (n > 1) {
			strbuf_add(sb, p, n);
			p += n;
			continue;
		}
		if (n == 0) {
			strbuf_addstr(sb, "\\ufffd");
		} else if (*p == '"' || *p == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, *p);
		} else if (*p < 0x20 || *p == 0x7f) {
			strbuf_addf(sb, "\\u%04x", *p);
		} else if (*p == '<') {
			/* Keeps "</script>" inert when JSON is embedded in HTML. */
			strbuf_addstr(sb, "\\u003c");
		} else {
			strbuf_addch(sb, *p);
		}
		p++;
	}
}

void strbuf_add_json_str(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	strbuf_add_json(sb, s);
	strbuf_addch(sb, '"');
}

void strbuf_add_u64(struct strbuf *sb, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	strbuf_grow(sb, n);
	while (n)
		sb->buf[sb->len++] = tmp[--n];
	sb->buf[sb->len] = 0;
}

int strbuf_flush(struct strbuf *sb, FILE *out, size_t limit)
{
	int err = 0;

	if (sb->len <= limit && limit)
		return 0;
	errno = 0;
	/* The write's own errno (ENOSPC...) when stdio kept it. */
	if (sb->len && fwrite(sb->buf, 1, sb->len, out) != sb->len)
		err = errno ? -errno : -EIO;
	strbuf_reset(sb);
	return err;
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *module_basename(const char *module)
{
	const char *s;

	if (!module)
		return "";
	s = strrchr(module, '/');
	return s ? s + 1 : module;
}

int glob_match(const char *pattern, const char *s)
{
	return fnmatch(pattern, s, 0) == 0;
}

int env_no_color(void)
{
	const char *v = getenv("NO_COLOR");

	return v && v[0];
}

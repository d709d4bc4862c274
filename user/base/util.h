/* Small helpers every module uses: allocation that cannot return NULL, a
 * growable string buffer (after git's strbuf), hashing, and safe display of
 * names that came from files the profiled process controls. */
#ifndef UTIL_H
#define UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Allocation: on failure print one line and exit(1). A profiler that runs out
 * of memory cannot name frames either; dying loudly beats corrupting data. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grow *p (of *alloc elements of size elem) so it holds at least want. */
void xgrow(void **p, size_t *alloc, size_t want, size_t elem);
/* Called before a fatal error is printed (the live view restores the
 * terminal there); NULL for none. */
void util_set_fatal_hook(void (*fn)(void));
#define XGROW(arr, alloc, want) xgrow((void **)&(arr), &(alloc), (want), sizeof(*(arr)))

/*
 * strbuf: buf is never NULL and always NUL-terminated; len excludes the NUL.
 * The buffer owns its memory until strbuf_detach(), which hands it to the caller.
 */
struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};
extern char strbuf_empty[];
#define STRBUF_INIT { strbuf_empty, 0, 0 }

void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t n);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb);

/* FNV-1a, 64 bits: fast, good enough for interning tables. */
static inline uint64_t hash_bytes(const void *data, size_t n, uint64_t h)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
#define HASH_SEED 0xcbf29ce484222325ull

static inline uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/*
 * Display escaping. Names are stored as raw bytes; they are escaped only when
 * shown. Control bytes become \xNN, backslash becomes \\, invalid UTF-8 bytes
 * become \xNN; valid multi-byte UTF-8 passes through. The result never holds
 * a byte that a terminal would interpret.
 */
void strbuf_add_escaped(struct strbuf *sb, const char *s);
/* Same, for HTML text and attribute values: also &, <, >, ", ' as entities. */
void strbuf_add_html(struct strbuf *sb, const char *s);
/* Same, for a JSON string body (without the quotes). Invalid UTF-8 bytes
 * become U+FFFD so the output is always valid JSON. */
void strbuf_add_json(struct strbuf *sb, const char *s);
/* Same, quotes included: a whole JSON string value. */
void strbuf_add_json_str(struct strbuf *sb, const char *s);
/* Appends v in decimal (much faster than strbuf_addf on the writers' hot paths). */
void strbuf_add_u64(struct strbuf *sb, uint64_t v);
/* Writes sb to out once it holds more than limit bytes (0: whatever it
 * holds), then empties it: writers build their output in sb and call this
 * every so often to bound memory. Returns 0 or -errno (-EIO when the
 * stream did not say why). */
int strbuf_flush(struct strbuf *sb, FILE *out, size_t limit);
/* Length in bytes of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
int utf8_seq_len(const unsigned char *s);

/* Monotonic and wall clock, and the calling thread's CPU time, in nanoseconds. */
uint64_t now_ns(void);
uint64_t wall_ns(void);
uint64_t thread_cpu_ns(void);

/* The value of a hexadecimal digit (either case), or -1. */
int hex_digit(char c);

/* Basename of a module path, for display ("libc.so.6" for "/usr/lib/.../libc.so.6"). */
const char *module_basename(const char *module);

/* Glob match (fnmatch without flags), kept here so every view uses one rule. */
int glob_match(const char *pattern, const char *s);

/* Does the environment ask for no colour? NO_COLOR set to a non-empty value
 * (https://no-color.org: "when present and not an empty string"); an empty
 * NO_COLOR= leaves colour on. --color and --no-color override it. */
int env_no_color(void);

#endif

/* A tiny TAP-like harness for unit tests: one line per check, a summary last.
 * The runner (tests/run.sh) counts "ok"/"not ok" lines. */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		tap_n++;                                                        \
		if (cond) {                                                     \
			printf("ok %d - ", tap_n);                              \
		} else {                                                        \
			tap_failed++;                                           \
			printf("not ok %d - %s:%d: ", tap_n, __FILE__, __LINE__); \
		}                                                               \
		printf(__VA_ARGS__);                                            \
		printf("\n");                                                   \
	} while (0)

#define CHECK_STR(got, want, ...)                                                 \
	do {                                                                      \
		const char *g_ = (got), *w_ = (want);                             \
		CHECK(g_ && w_ && !strcmp(g_, w_), __VA_ARGS__);                  \
		if (!(g_ && w_ && !strcmp(g_, w_)))                               \
			printf("#   got:  '%s'\n#   want: '%s'\n", g_ ? g_ : "(null)", w_); \
	} while (0)

static inline int tap_done(void)
{
	printf("# %d checks, %d failed\n", tap_n, tap_failed);
	return tap_failed ? 1 : 0;
}

#endif

/*
 * The ClickHouse store as a source of profiles for report, diff and live:
 * its options, the profile of a range and filters, and the live view's
 * source that re-reads the store every window.
 *
 * The store options (--since, --until, --where, --password-file, --window)
 * are taken out of argv before the view options are parsed, each attached
 * to the clickhouse:// operand it follows, or to every operand when it comes
 * before the first one. So one diff reads two ranges or two label values:
 *   sampletop diff URL --since 2h --until 1h URL --since 1h
 *   sampletop diff --since 1h URL --where host=a URL --where host=b
 */
#ifndef CMD_CHSOURCE_H
#define CMD_CHSOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "model/profile.h"
#include "store/ch_read.h"
#include "tui/screen.h"

#define CHSOURCE_MAX 2		/* sources of one command: diff's two */
#define CHSOURCE_URL_PREFIX "clickhouse://"
/* The live view re-reads the store this often by default: the agent's
 * default window, so every refresh shows one more window. */
#define CHSOURCE_WINDOW_S 10
/* The live view's range when no --since is given: the last five minutes. */
#define CHSOURCE_LIVE_SINCE_S 300

/* The store options of one command line. Strings point into argv. */
struct chsource_opts {
	/* [0..CHSOURCE_MAX-1]: the n-th clickhouse:// operand's own options;
	 * [CHSOURCE_MAX]: those before the first operand (every source's). */
	struct {
		const char *since, *until;
		const char *where[64];
		size_t nr_where;
	} src[CHSOURCE_MAX + 1];
	size_t nr_urls;			/* clickhouse:// operands seen */
	const char *password_file;
	double window_s;		/* --window; 0: not given */
	bool verbose;			/* -v (set by the caller): what each read did */
};

/* Does s name the store? */
bool chsource_is_url(const char *s);

/*
 * Takes the store options out of argv[1..*argc-1] (argv[0] is the command)
 * into o, closing the gaps; stops at "--". Returns 0, or 2 after printing a
 * usage error (a missing value, a store option after a saved profile, more
 * than CHSOURCE_MAX stores, too many --where).
 */
int chsource_take_options(int *argc, char **argv, struct chsource_opts *o);

/* Did the command line give store options that no operand can use (no
 * clickhouse:// operand)? Prints the usage error and returns 2, else 0. */
int chsource_check_unused(const struct chsource_opts *o, const char *cmd);

/*
 * Reads the k-th clickhouse:// operand url (k from 0, in command-line order)
 * with its range and filters into a new profile. Prints one line on error
 * (the server's own message) and returns 1; 2 for a bad option value.
 */
int chsource_load(const struct chsource_opts *o, size_t k, const char *url, struct profile **out);

/* The live view over the store: `sampletop live URL`. */
struct chsource_live;

/* Opens url (the first store operand's options), reads it once into a new
 * profile (*prof, owned by the live source) and fills src. Returns 0, or an
 * exit code after printing why. */
int chsource_live_open(const struct chsource_opts *o, const char *url, struct chsource_live **out,
		       struct profile **prof, struct tui_source *src);
/* The error that ended the view, if any (one line), else NULL. */
const char *chsource_live_error(const struct chsource_live *l);
void chsource_live_free(struct chsource_live *l);

#endif

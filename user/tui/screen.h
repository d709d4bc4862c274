/*
 * The live terminal view: samples keep flowing into the profile while an
 * ncurses screen shows its call tree, refreshed about once a second. Runs in
 * place of the record loop; the caller writes the report afterwards.
 */
#ifndef TUI_SCREEN_H
#define TUI_SCREEN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cmd/cli.h"
#include "model/profile.h"
#include "cmd/record.h"

struct tui_args {
	struct profile *prof;
	struct recorder *rec;		/* NULL: browse a saved profile, nothing sampled */
	const struct options *opts;
	pid_t child;			/* the launched command, or -1 */
	volatile sig_atomic_t *stop;	/* set by the caller's SIGINT/SIGTERM/SIGHUP handler */

	/* Out: */
	bool exited;			/* every target exited (the note is in prof->meta) */
	int child_status;		/* the launched command's exit status, or -1 */
	const char *why;		/* on error: what failed */
};

/* Runs until q, a signal, -d's deadline or an error. The terminal is restored
 * before it returns, on every path. Returns 0 or a negative errno with
 * args->why set. */
int tui_run(struct tui_args *args);

/* For bench/tui.sh: shows p in a cols x lines terminal that writes to
 * /dev/null (as it opens: the hottest path expanded; with expand_all, every
 * node), nodes under min_percent summed up, and times n refreshes in CPU ms
 * (not wall time: the machine may be shared) per refresh: [0] the rebuild
 * (tree and rows), [1] the rows alone (what expanding or collapsing costs),
 * [2] drawing the frame. *rows gets the number of rows. Returns 0 or -errno. */
int tui_bench(const struct profile *p, int cols, int lines, bool expand_all, double min_percent,
	      int n, double ms[3], size_t *rows);

#endif

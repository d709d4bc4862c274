/*
 * The terminal view: an ncurses screen showing a profile's call tree,
 * refreshed about once a second. Live, samples keep flowing into the profile
 * through a source its caller provides; the view only reads the profile and
 * asks the source for every change (new samples, reset, the decaying window,
 * pause). Without a source it browses a saved profile. Runs in place of the
 * record loop; the caller writes the report afterwards.
 */
#ifndef TUI_SCREEN_H
#define TUI_SCREEN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "model/profile.h"
#include "tui/viewmodel.h"

/* What the view needs of the command line; the caller fills it. */
struct tui_opts {
	struct vm_config view;	/* how the view opens; its pointers are the caller's */
	double duration_s;	/* -d: the view closes after this long; 0: never */
	int color;		/* 1 on, 0 off, -1: unless NO_COLOR */
	bool ascii;		/* no box-drawing characters or arrows */
};

/* Where a live view's samples come from, and everything that changes the
 * profile or the sampling. Implemented by the caller over its recorder; every
 * callback is set and gets ctx. The view calls them from its own thread only. */
struct tui_source {
	void *ctx;
	/* Drains the samples waiting into the profile without blocking.
	 * Returns how many, or a negative errno (the view closes). */
	long (*poll)(void *ctx);
	/* Zeroes every count (the r key). */
	void (*reset)(void *ctx);
	/* Scales every count by num/den (the decaying window, once a refresh). */
	void (*decay)(void *ctx, unsigned int num, unsigned int den);
	/* While held (the view is paused), the profile keeps every frame the
	 * frozen tree names (exited threads are not merged); released, it may
	 * merge again. */
	void (*hold)(void *ctx, bool hold);
	/* Once a second: have all the targets exited? Once true, it stays true
	 * and prof->meta.note says how they ended (the view shows it). */
	bool (*targets_exited)(void *ctx);
};

struct tui_args {
	const struct profile *prof;	/* the caller's; only read */
	const struct tui_source *src;	/* NULL: browse a saved profile, nothing sampled */
	const struct tui_opts *opts;
	volatile sig_atomic_t *stop;	/* set by the caller's SIGINT/SIGTERM/SIGHUP handler */

	/* Out: */
	const char *why;		/* on error: what failed */
};

/* Runs until q, a signal, -d's deadline or an error. The terminal is restored
 * before it returns, on every path. Returns 0 or a negative errno with
 * args->why set (-ENOTTY: the terminal cannot be driven). */
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

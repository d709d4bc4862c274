/*
 * The live view's calls view (--scope): the calls kept whole (the slowest
 * of each scoped function), listed by duration and refreshed as calls end;
 * Enter opens one call's own tree in place of the aggregate tree, which
 * stays one key away. Without a terminal, so tests drive it directly
 * (tests/unit/test_calls.c); screen.c draws it.
 *
 * Owns its list (copies: calls may be evicted by the time it is drawn) and
 * the open call's profile; reads the profile it was given.
 */
#ifndef TUI_CALLSVIEW_H
#define TUI_CALLSVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/calls.h"
#include "model/profile.h"
#include "base/util.h"

enum cv_mode {
	CV_AGGREGATE,	/* the profile's own tree (calls view closed) */
	CV_LIST,	/* the calls, slowest first */
	CV_CALL,	/* one call's tree */
};

struct cv_entry {
	uint32_t fn;
	uint64_t number;	/* the call's: finds it again among the kept ones */
	uint64_t duration_ns;
	uint64_t begin_ns;
	uint32_t pid, tid;
	char *thread;		/* "comm [tid]", escaped, owned */
};

struct callsview {
	const struct profile *prof;
	enum cv_mode mode;
	struct cv_entry *list;
	size_t nr, alloc;
	uint64_t generation;	/* the calls' when the list was made */
	size_t sel, top, height;
	struct profile *call;	/* CV_CALL: the open call's profile, owned */
	uint64_t call_number;
	char title[160];	/* CV_CALL: what the status line says of the call */
};

/* NULL when p has no calls (no --scope): the view then has no calls keys. */
struct callsview *cv_new(const struct profile *p);
void cv_free(struct callsview *cv);

/* Makes the list again if calls ended since (live). Returns true if it did. */
bool cv_refresh(struct callsview *cv);
void cv_set_height(struct callsview *cv, size_t height);
bool cv_move(struct callsview *cv, long delta);
/* CV_LIST: opens the selected call (mode CV_CALL, cv->call its profile).
 * Returns false if the list is empty or the call was evicted meanwhile. */
bool cv_open(struct callsview *cv);
/* To the list (closing an open call) or to the aggregate. */
void cv_show_list(struct callsview *cv);
void cv_show_aggregate(struct callsview *cv);


#endif

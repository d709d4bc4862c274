/*
 * A recording in progress, as the record loop and the live view see it: the
 * recorder that fills the profile, and the targets whose exit ends the run.
 * The live view gets it as its tui_source, so that what changes the profile
 * or the sampling (draining, reset, the decaying window, pause) happens here
 * and the view only reads.
 */
#ifndef CMD_LIVE_H
#define CMD_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmd/record.h"
#include "model/profile.h"
#include "tui/screen.h"

struct live {
	struct profile *prof;		/* not owned */
	struct recorder *rec;		/* not owned */
	pid_t child;			/* the launched command, or -1 */
	const uint32_t *pids;		/* -p targets (not owned) */
	const uint64_t *pid_starts;	/* their start times: a reused pid is not them */
	size_t nr_pids;

	/* Set once the targets exited (live_targets_exited): */
	bool exited;
	int child_status;		/* the command's exit status, or -1 */
};

/* Have all the targets exited: the launched command (reaped here), or every
 * -p process (by pid and start time, so a reused pid does not count)? Other
 * targets (-a, -t, filters) never end. The first time it is true, it sets
 * exited, child_status and the profile's note and exit status; true from then
 * on. */
bool live_targets_exited(struct live *l);

/* The live view's source of samples over l (valid while l is). */
void live_source(struct live *l, struct tui_source *src);

#endif

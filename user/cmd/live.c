/* A recording in progress: when its targets exit, and the live view's source
 * (the recorder and the profile changes the view asks for). */
#include "cmd/live.h"
#include "procs/procfs.h"
#include "base/util.h"

#include <stdlib.h>
#include <sys/wait.h>

static bool command_exited(struct live *l)
{
	int status;

	if (waitpid(l->child, &status, WNOHANG) != l->child)
		return false;
	l->child_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return true;
}

static bool pids_exited(const struct live *l)
{
	for (size_t i = 0; i < l->nr_pids; i++)
		if (proc_alive(l->pids[i], l->pid_starts[i]))
			return false;
	return true;
}

bool live_targets_exited(struct live *l)
{
	struct strbuf sb = STRBUF_INIT;

	if (l->exited)
		return true;
	if (l->child > 0) {
		if (!command_exited(l))
			return false;
		strbuf_addf(&sb, "The command exited with status %d.", l->child_status);
	} else if (l->nr_pids) {
		if (!pids_exited(l))
			return false;
		strbuf_addstr(&sb, l->nr_pids > 1 ? "The target processes exited."
						  : "The target process exited.");
	} else {
		return false;
	}
	l->exited = true;
	free(l->prof->meta.note);
	l->prof->meta.note = strbuf_detach(&sb);
	l->prof->meta.exit_status = l->child_status;
	return true;
}

static long src_poll(void *ctx)
{
	struct live *l = ctx;

	return recorder_poll(l->rec);
}

static void src_reset(void *ctx)
{
	struct live *l = ctx;

	profile_reset_counts(l->prof);
}

static void src_decay(void *ctx, unsigned int num, unsigned int den)
{
	struct live *l = ctx;

	profile_scale_counts(l->prof, num, den);
}

static void src_hold(void *ctx, bool hold)
{
	struct live *l = ctx;

	recorder_hold_merges(l->rec, hold);
}

static bool src_targets_exited(void *ctx)
{
	return live_targets_exited(ctx);
}

void live_source(struct live *l, struct tui_source *src)
{
	*src = (struct tui_source){
		.ctx = l,
		.poll = src_poll,
		.reset = src_reset,
		.decay = src_decay,
		.hold = src_hold,
		.targets_exited = src_targets_exited,
	};
}

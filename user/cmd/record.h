/*
 * Recording: the sampler's raw samples, named by the symbolizer against the
 * process maps, added to a profile. Used by the record command and the live
 * view alike: open, poll on your own clock, free.
 */
#ifndef RECORD_H
#define RECORD_H

#include "model/profile.h"
#include "python/python.h"
#include "cmd/callrec.h"
#include "capture/sampler.h"
#include "symbols/symbolizer.h"
#include "base/util.h"

struct recorder_opts {
	struct sampler_opts sampler;
	struct symbolizer_opts sym;
	struct python_opts python;
	/* --scope: the functions (as given), the slowest calls kept of each,
	 * and what to call as each call ends (NULL: nothing) */
	const char *const *scope;
	size_t nr_scope;
	uint32_t slowest;
	callrec_ended_fn call_ended;
	void *call_ended_ctx;
	/* --scope (sampler.scope): each call record, with call_ctx */
	sampler_call_fn call_fn;
	void *call_ctx;
};

struct recorder;

/* Returns 0 or a negative errno with *why set to a one-line explanation. */
int recorder_open(struct profile *prof, const struct recorder_opts *o, struct recorder **out,
		  const char **why);
void recorder_free(struct recorder *r);

/* Drains waiting samples into the profile and refreshes its counters and
 * duration. Returns the number of samples drained, or a negative errno. */
long recorder_poll(struct recorder *r);
/* Like recorder_poll, after waiting up to timeout_ms for a record sent with
 * a wake-up. */
long recorder_wait(struct recorder *r, int timeout_ms);
int recorder_add_pid(struct recorder *r, uint32_t pid);
/* Stops sampling and drains what is left: the profile then holds every
 * sample the counters say was recorded. Returns as recorder_poll. */
long recorder_stop(struct recorder *r);
/* Before a command is launched: builds the unwind tables it will likely
 * need (those of the libraries we map ourselves). */
void recorder_command_prepare(struct recorder *r);
/* Once it was let go: waits for its exec and pushes its unwind tables so
 * that its first samples are unwound (no-op with --unwind=fp). */
void recorder_command_started(struct recorder *r, uint32_t pid);
/* While held (the live view is paused), exited threads are not merged, so
 * that a frozen tree keeps naming live frames; merged once released. */
void recorder_hold_merges(struct recorder *r, bool hold);
/* Merges exited threads now when there are enough of them, held or not
 * (the agent holds merges and calls this right after writing a window, so
 * that a window's rows keep the pid of a thread that exited in it). */
void recorder_merge_exited(struct recorder *r);
/* Records into prof from now on, a fresh profile whose meta the caller
 * set: every frame and stack id cached (symbolizer, Python, --wall's open
 * intervals, copied over) is made again in it. The old profile must still
 * be alive during the call; the caller frees it after. A long run renews
 * its profile this way to keep its memory flat. -EOPNOTSUPP with --scope. */
int recorder_retarget(struct recorder *r, struct profile *prof);
struct symbolizer *recorder_symbolizer(struct recorder *r);
/* --scope (opened with sampler.scope): probes native function func as
 * scoped function number probe: in process pid, or with pid 0 in the
 * program that command cmd (argv[0]) runs, before it is launched (then in
 * every process running that file, the target filter applying). Returns 0,
 * or a negative errno (-ENOENT: no such function) with one line for the
 * user appended to msg (names escaped; without "sampletop: "). */
int recorder_scope_native(struct recorder *r, const char *func, uint32_t probe, uint32_t pid,
			  const char *cmd, struct strbuf *msg);
/* The unwind tables fed to BPF, or NULL with --unwind=fp. */
struct unwind_bpf *recorder_unwind_bpf(struct recorder *r);

#endif

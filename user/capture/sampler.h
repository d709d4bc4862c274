/*
 * The BPF side seen from userspace: load the program, attach one cpu-clock
 * perf event per online CPU, drain raw samples from the ring buffer, read the
 * drop counters, detach. It knows nothing of symbols or screens.
 */
#ifndef SAMPLER_H
#define SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/cgroup.h"
#include "sampletop.h"

struct sampler;

struct sampler_opts {
	uint32_t freq_hz;
	bool user;		/* capture user stacks */
	bool kernel;		/* capture kernel stacks */
	bool idle;		/* keep pid 0 */
	const uint32_t *pids;	/* tgids to keep; all when nr_pids == 0 */
	size_t nr_pids;
	bool filter_pids;	/* filter by tgid even if nr_pids is 0 (added later) */
	const uint32_t *tids;
	size_t nr_tids;
	const bool *cpus;	/* cpus[i]: sample CPU i; NULL for all */
	size_t nr_cpus;
	bool follow_forks;	/* children of target tgids become targets */
	bool filter_uid;	/* only tasks whose effective uid is uid */
	uint32_t uid;
	const char *const *comms;	/* only processes with these names (15 chars kept) */
	size_t nr_comms;
	bool filter_cgroup;	/* only tasks in this cgroup or below it */
	struct cgroup_target cgroup;
	uint8_t unwind;		/* enum st_unwind_mode (0: frame pointers) */
	uint64_t unwind_mem;	/* bytes for the unwind rows and pages maps; 0: the default */
	bool scope;		/* --scope: keep only samples inside calls of the functions
				 * sampler_attach_scope() probes */
	bool wall;		/* --wall: off-CPU intervals from sched_switch too */
	uint32_t wall_stacks_per_sec;	/* the cap on off-CPU stacks per CPU; 0: the default */
	/* Called once loaded, before the perf events are attached (fill maps
	 * that the first samples need). Returns 0 or a negative errno. */
	int (*before_attach)(struct sampler *s, void *ctx);
	void *before_attach_ctx;
};

/* Opens, loads and attaches. Returns 0 or a negative errno; *why gets a
 * static one-line explanation for the user on failure. */
int sampler_open(const struct sampler_opts *o, struct sampler **out, const char **why);
void sampler_free(struct sampler *s);

/* Stops sampling: every cpu-clock event is disabled and the sched_switch
 * program detached, so no sample is taken after it returns (lifecycle
 * events still arrive). What the ring buffer holds is left for a last
 * drain, and the counters then match it. Threads off the CPU then have a
 * switch-out without its switch-in: their intervals end at the stop. */
void sampler_stop(struct sampler *s);

/* Adds a tgid to the filter (a launched command, a forked child). */
int sampler_add_pid(struct sampler *s, uint32_t pid);

typedef void (*sampler_fn)(const struct st_sample *s, size_t size, void *ctx);
typedef void (*sampler_event_fn)(const struct st_event *e, void *ctx);
/* Hands every sample waiting in the ring buffer to fn. Returns how many. */
long sampler_drain(struct sampler *s, sampler_fn fn, void *ctx);
/* Process lifecycle events met while draining go to fn (with the drain's
 * ctx), in order with the samples; without one they are skipped. */
void sampler_set_event_fn(struct sampler *s, sampler_event_fn fn);
/* --wall: a target thread runs again (struct st_oncpu) goes to fn, with
 * the drain's ctx, in order with the samples (its ST_SAMPLE_OFFCPU sample,
 * when off_ns is not 0, came before it); without one they are skipped. */
typedef void (*sampler_oncpu_fn)(const struct st_oncpu *o, void *ctx);
void sampler_set_oncpu_fn(struct sampler *s, sampler_oncpu_fn fn);
/* A cold sample (ST_SAMPLE_COLD, struct st_ucold): the sample (size bytes,
 * its user frames those walked before the stop) and c->stack_len bytes of
 * stack from c->sp, all valid during the call only. Met while draining, in
 * the order of their own ring buffer, with the drain's ctx. Without a
 * cold_fn, the sample goes to the drain's fn as it is. */
typedef void (*sampler_cold_fn)(const struct st_ucold *c, const struct st_sample *s, size_t size,
				const uint8_t *stack, void *ctx);
void sampler_set_cold_fn(struct sampler *s, sampler_cold_fn fn);
/* --scope (opened with o->scope): probes the function whose entry is at
 * file offset offset of the object at path, as scoped function number
 * probe (< ST_SCOPE_MAX_PROBES; st_call.probe), in process pid only, or in
 * every process that runs the file when pid is -1 (a command not started
 * yet; the target filter still applies). Returns 0 or a negative errno
 * with *why set. */
int sampler_attach_scope(struct sampler *s, const char *path, uint64_t offset, uint32_t probe,
			 int pid, const char **why);
/* Outermost calls beginning and ending (struct st_call), in order with the
 * samples, to fn with the drain's ctx. Calls still open when sampling
 * stops end then, flagged ST_CALL_CUT, in the last drain. */
typedef void (*sampler_call_fn)(const struct st_call *c, void *ctx);
void sampler_set_call_fn(struct sampler *s, sampler_call_fn fn);
/* The ring buffer of exec'd targets (struct st_exec), for snapshot.h. */
int sampler_execs_fd(const struct sampler *s);
/* Waits up to timeout_ms for a record sent with a wake-up (BPF_RB_FORCE_WAKEUP),
 * then drains like sampler_drain. */
long sampler_poll(struct sampler *s, int timeout_ms, sampler_fn fn, void *ctx);
/* Sums the per-CPU drop counters into out[ST_CNT_NR]. */
void sampler_counters(struct sampler *s, uint64_t out[ST_CNT_NR]);
/* The descriptors of the BPF maps that other stages fill (the unwinder's
 * tables, the Python processes), as bpf/ declares them. The sampler owns
 * them: they are valid from before_attach until sampler_free(); do not
 * close them. */
struct sampler_map_fds {
	int unwind_rows;	/* BPF_F_MMAPABLE array of unwind_max_rows struct st_ucrow */
	uint32_t unwind_max_rows;
	int unwind_pages;	/* BPF_F_MMAPABLE array of unwind_max_pages struct st_upage */
	uint32_t unwind_max_pages;
	int unwind_rules;	/* array of ST_UNWIND_MAX_RULES struct st_urule */
	int unwind_used;	/* BPF_F_MMAPABLE array of ST_UNWIND_MAX_TABLES __u64 */
	int unwind_vmas;	/* tgid -> struct st_uvmas */
	int unwind_procs;	/* tgid -> struct st_uproc */
	int unwind_objs;	/* struct st_uobj_key -> struct st_uobj */
	int py_procs;		/* pid -> struct st_py_info */
};
void sampler_map_fds(const struct sampler *s, struct sampler_map_fds *out);
/* Number of perf events attached (online CPUs sampled). */
int sampler_nr_cpus(const struct sampler *s);

#endif

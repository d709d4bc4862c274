/*
 * --wall in the recorder: each thread's time cut into pieces that tile it
 * (capture/offcpu.h), on-CPU slices shared by their samples, off-CPU
 * intervals under a reason leaf, each weighing its length in ns; each one
 * also goes to the profile's timeline. Threads of the named processes that
 * are off the CPU when sampling begins are read from /proc, so that one
 * blocked for the whole run still counts (see PROFILE_IDLE_NAME).
 */
#ifndef WALLREC_H
#define WALLREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/profile.h"
#include "procs/procs.h"
#include "sampletop.h"

struct wallrec;

/* start_ns: when sampling began, on the BPF clock (CLOCK_MONOTONIC),
 * read next to prof->meta.start_wall_ns: event times are counted from it.
 * Sets prof->meta.wall and keep_events. The profile and procs outlive it. */
struct wallrec *wallrec_new(struct profile *prof, struct procs *procs, uint64_t start_ns);
void wallrec_free(struct wallrec *w);
/* Adds to prof from now on; the stacks of open intervals are copied from
 * the old profile (still alive: the caller frees it after). */
void wallrec_retarget(struct wallrec *w, struct profile *prof);

/* --scope (cmd/callrec.h) has its say on each piece of the timeline
 * before it is added: [start_ns, end_ns) on the BPF clock, its stack, and
 * the native call BPF tagged it with (0: none), on_cpu for a sample's
 * share of an on-CPU slice. False drops it. */
typedef bool (*wallrec_keep_fn)(void *ctx, uint32_t pid, uint32_t tid, uint32_t thread,
				uint32_t stack, uint64_t start_ns, uint64_t end_ns, uint64_t weight,
				uint64_t call_id, bool on_cpu);
void wallrec_set_keep_fn(struct wallrec *w, wallrec_keep_fn fn, void *ctx);

/* Reads the threads of pids from /proc (before the first drain). */
void wallrec_start_threads(struct wallrec *w, const uint32_t *pids, size_t nr);
/* The same for threads named alone (-t). */
void wallrec_start_tids(struct wallrec *w, const uint32_t *tids, size_t nr);

/* An on-CPU sample, its stack interned: it shares the length of its
 * on-CPU slice with the others of that slice (capture/offcpu.h). */
void wallrec_on_cpu(struct wallrec *w, const struct st_sample *s, uint32_t stack);
/* A switch-out record (ST_SAMPLE_OFFCPU): frames root first, n of them,
 * with room for one more (the reason leaf, appended here). */
void wallrec_switch_out(struct wallrec *w, const struct st_sample *s, frame_id_t *frames,
			uint32_t n);
/* A switch-in record. */
void wallrec_switch_in(struct wallrec *w, const struct st_oncpu *e);
/* A process exited: its threads' pieces end. */
void wallrec_exit(struct wallrec *w, uint32_t tgid);
/* The end of the run (BPF clock): intervals still open close there; no
 * record after it counts past it. */
void wallrec_stop(struct wallrec *w, uint64_t stop_ns);
/* At each drain (now_ns: BPF clock): sweeps exited threads, and sets its
 * counters in prof->meta.counters. */
void wallrec_update(struct wallrec *w, uint64_t now_ns);

#endif

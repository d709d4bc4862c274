/*
 * Calls of scoped functions (--scope FUNC): every call is a unit of its own.
 * Per function: how many calls, their total, their durations (percentiles,
 * a histogram), and the slowest N calls kept whole, each with its own
 * samples (stack, weight), so each has its own tree, on and off the CPU.
 *
 * A call is (id, pid, tid, begin, end, samples). The recorder drives it:
 * calls_begin() when a call starts, calls_add() for each sample (or off-CPU
 * interval) inside it, calls_end() when it returns. Native calls get their
 * ids and bounds from BPF (uprobes); Python calls are cut out of each
 * thread's timeline by calls_py_event() (a call lasts while the function's
 * frame stays on the thread's stack).
 *
 * Calls name their thread by (pid, tid) and a copy of its names, never by a
 * thread index of the profile: profile_coalesce_exited() renumbers those.
 * Their samples name stacks of the profile (stack ids never change).
 *
 * Ownership: struct calls owns every function, call and sample array; the
 * profile that holds it (profile.calls) frees it in profile_free().
 */
#ifndef CALLS_H
#define CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hashtab.h"
#include "model/profile.h"

/* The slowest calls kept whole by default (--slowest). A kept call costs its
 * distinct stacks (tens for a request of a few hundred ms); twenty fill a
 * screen of the calls view and read well in a report, and the rest of the
 * distribution is in the percentiles and the histogram. */
#define CALLS_KEEP_DEFAULT 20
/* Most --slowest accepts: the calls view and reports list them all. */
#define CALLS_KEEP_MAX 10000
/* Durations kept per function for exact percentiles (8 bytes each: 32 MiB).
 * Past it, count, total, max and the histogram stay exact and percentiles
 * are of the first CALLS_MAX_DURATIONS calls (durations_dropped says so). */
#define CALLS_MAX_DURATIONS (4u << 20)
/* Distinct stacks one call keeps; the weight of stacks past it is counted
 * (stacks_dropped, dropped_weight) and shown as one "[call stacks past the
 * cap]" frame in the call's tree. */
#define CALLS_MAX_CALL_STACKS 65536
/* Ids of Python calls (made here) start far above those BPF hands out
 * (counted from 1), and stay below 2^63 for JSON readers. */
#define CALLS_PY_FIRST_ID (1ull << 62)
/* Display histogram: bins with upper bounds 1, 2, 5, 10, 20, 50 ... us up to
 * 5000 s, then one open bin. */
#define CALLS_HIST_BINS 31

/* One sample (or off-CPU interval) of a call, aggregated by stack. */
struct call_rec {
	uint32_t stack;		/* a stack id of the profile */
	uint64_t weight;	/* as the profile's counts: ns with meta.wall, else samples */
};

struct call {
	uint64_t id;		/* unique per run, never 0 */
	uint64_t number;	/* 1, 2, ... in the order calls ended (--slower-than's %n) */
	uint32_t fn;		/* index in calls.fns */
	uint32_t pid, tid;
	char *comm;		/* thread name, owned copy */
	char *process;		/* process name, owned copy */
	uint64_t begin_ns, end_ns;	/* ns since the profile's meta.start_wall_ns */
	uint64_t weight;	/* sum of recs' weights */
	struct call_rec *recs;
	size_t nr_recs, alloc_recs;
	struct u64map rec_index;	/* stack -> index in recs, while open */
	uint64_t stacks_dropped, dropped_weight;
};

static inline uint64_t call_duration(const struct call *c)
{
	return c->end_ns > c->begin_ns ? c->end_ns - c->begin_ns : 0;
}

struct calls_fn {
	char *name;		/* as given to --scope, owned */
	bool python;		/* a Python qualified name (cut by calls_py_event) */
	uint64_t count;		/* calls ended */
	uint64_t total_ns;	/* sum of their durations */
	uint64_t max_ns;
	uint64_t *durs;		/* the first CALLS_MAX_DURATIONS durations */
	size_t nr_durs, alloc_durs;
	bool sorted;		/* durs is sorted (percentiles sort it on demand) */
	uint64_t durations_dropped;
	uint64_t hist[CALLS_HIST_BINS];
	/* The slowest calls, slowest first, at most calls.keep. */
	struct call **slowest;
	size_t nr_slowest;
};

struct calls {
	uint32_t keep;		/* slowest calls kept whole per function */
	struct calls_fn *fns;
	size_t nr_fns, alloc_fns;
	struct call **open;	/* calls begun and not ended yet */
	size_t nr_open, alloc_open;
	/* Their index in open, + 1 (0: ended), by id and by (tid, fn): a
	 * server has thousands of threads in calls at once. Ended calls stay
	 * as 0 until there are many, then the maps are made anew. */
	struct u64map open_by_id, open_by_thread;
	size_t nr_stale;
	struct call *last;	/* the last call ended when no list kept it */
	uint64_t nr_ended;
	uint64_t next_py_id;	/* the next Python call's id (from CALLS_PY_FIRST_ID) */
	uint64_t lost_begin;	/* samples or ends of calls never begun (a lost record) */
	uint64_t generation;	/* bumped whenever a call ends: views rebuild */
};

struct calls *calls_new(uint32_t keep);
void calls_free(struct calls *c);

/* Adds a scoped function; returns its index. name is copied. */
uint32_t calls_add_fn(struct calls *c, const char *name, bool python);

/* A call of function fn begins on a thread at t_ns. An id already open is
 * ended first (its end was lost). Returns the open call (valid until it ends). */
struct call *calls_begin(struct calls *c, uint32_t fn, uint64_t id, uint32_t pid, uint32_t tid,
			 const char *comm, const char *process, uint64_t t_ns);
/* Adds weight of stack to open call id. Returns false (and counts it in
 * lost_begin) when no such call is open. */
bool calls_add(struct calls *c, uint64_t id, uint32_t stack, uint64_t weight);
/* Ends open call id at t_ns. Returns the finished call, valid until the next
 * calls_end() or calls_free() (it may not be among the slowest), or NULL
 * when no such call is open (counted in lost_begin). */
const struct call *calls_end(struct calls *c, uint64_t id, uint64_t t_ns);
/* The open call with this id, or NULL. */
struct call *calls_find_open(const struct calls *c, uint64_t id);

/*
 * Python calls, cut from one thread's timeline: feed every event of the
 * thread (an on-CPU sample: start = its time less one period, end = its
 * time; an off-CPU interval: its bounds), in time order, with in_fn = the
 * stack holds the function's frame. Consecutive events with it form one
 * call (begin = the first's start, end = the last's end); an event without
 * it ends the call. So back-to-back calls with no event between them merge
 * into one. Returns a call that this event ended (as calls_end), or NULL.
 */
const struct call *calls_py_event(struct calls *c, uint32_t fn, uint32_t pid, uint32_t tid,
				  const char *comm, const char *process, bool in_fn,
				  uint64_t start_ns, uint64_t end_ns, uint32_t stack, uint64_t weight);
/* The open Python call of fn on thread (pid, tid), or NULL. */
struct call *calls_find_py_open(const struct calls *c, uint32_t fn, uint32_t pid, uint32_t tid);
/* Ends every open call at its last event (Python) or at t_ns (native,
 * still inside at the end of recording), e.g. when recording stops. Calls
 * fn_ended(call, ctx) for each, if given. */
void calls_end_all(struct calls *c, uint64_t t_ns,
		   void (*fn_ended)(const struct call *call, void *ctx), void *ctx);

/* The q-quantile (0 < q <= 1) of fn's durations, nearest rank; 0 if none. */
uint64_t calls_percentile(struct calls_fn *f, double q);
/* The upper bound (exclusive) of display histogram bin i, in ns;
 * UINT64_MAX for the last, open bin. */
uint64_t calls_hist_upper_ns(uint32_t i);
/* The bin of a duration. */
uint32_t calls_hist_bin(uint64_t ns);

/*
 * A profile of one call alone: its samples on its thread, frames and
 * stacks copied from p, meta copied (duration = the call's, note names the
 * call), so every view and report format shows the call's own tree.
 * The caller frees it with profile_free().
 */
struct profile *calls_call_profile(const struct profile *p, const struct call *call);

/* For a loader (a saved profile): a finished call from its parts, its
 * samples added with calls_call_add, then handed to calls_keep_loaded,
 * which places it among fn's slowest (taking it) without counting it again
 * (the loader sets the function's count, durations and histogram). Returns
 * false (the call freed) when fn is no function or its list is full. */
struct call *calls_call_new(uint32_t fn, uint64_t id, uint32_t pid, uint32_t tid,
			    const char *comm, const char *process, uint64_t begin_ns,
			    uint64_t end_ns);
void calls_call_add(struct call *call, uint32_t stack, uint64_t weight);
bool calls_keep_loaded(struct calls *c, uint32_t fn, struct call *call);

/* Scoped-function matching for Python frames: does the name of frame f
 * name qualified name fn? A frame names its qualified name (3.11+) or only
 * its function name (3.10, no co_qualname): then the last dotted part of fn
 * must match. */
bool calls_py_name_matches(const char *frame_name, const char *fn);

#endif

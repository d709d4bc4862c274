/*
 * The recorder's side of --scope: feeds model/calls from what is drained.
 * Native calls begin and end with the BPF program's call records and own
 * the samples it tagged with their id; Python calls are cut out of each
 * thread's timeline here (a call lasts while the function's frame is on
 * the thread's stack), and the samples outside every Python call are
 * dropped from the profile, as BPF drops them for native calls.
 *
 * Times passed in are the BPF clock (CLOCK_MONOTONIC ns); calls store them
 * as ns since the recording's start.
 */
#ifndef CALLREC_H
#define CALLREC_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/offcpu.h"
#include "model/calls.h"
#include "model/profile.h"
#include "sampletop.h"

/* Is FUNC a Python qualified name? "py:NAME" always (the prefix is taken
 * off by callrec_fn_name), and a name with a dot ("Handler.do_GET": no C
 * symbol has one); anything else is a native symbol. */
bool callrec_fn_is_python(const char *func);
/* FUNC without its "py:" prefix. */
const char *callrec_fn_name(const char *func);

/* Called for each call as it ends (for --slower-than). */
typedef void (*callrec_ended_fn)(const struct profile *p, const struct call *call, void *ctx);

struct callrec;

/* Makes p->calls with funcs (in --scope order: a native call record's
 * probe index counts the native ones in that order) keeping the slowest
 * keep calls of each; start_ns: the recording's start (BPF clock). */
struct callrec *callrec_new(struct profile *p, const char *const *funcs, size_t nr, uint32_t keep,
			    uint64_t start_ns, callrec_ended_fn ended, void *ctx);
void callrec_free(struct callrec *cr);
bool callrec_has_python(const struct callrec *cr);

/* A native call record (ST_EV_CALL_BEGIN/END); size: as it arrived. */
void callrec_call_record(struct callrec *cr, const struct st_call *c, size_t size);

/*
 * An event of a thread's timeline: an on-CPU sample ([start, end) = the
 * period before it) or an off-CPU interval, its stack already in the
 * profile; call_id: the native call BPF tagged it with, or 0. Returns
 * whether it counts in the profile: false for an event outside every call
 * of a Python function when only Python functions are scoped (counted in
 * callrec_outside). An event whose stack holds no code frame at all (its
 * stack not recorded: only synthetic frames) neither begins nor ends a
 * Python call: it goes to the thread's open call, or is outside.
 */
bool callrec_event(struct callrec *cr, uint32_t pid, uint32_t tid, const char *comm,
		   const char *process, uint32_t stack, uint64_t start_ns, uint64_t end_ns,
		   uint64_t weight, uint64_t call_id);
/* Ends the open Python calls of threads that exited (alive says which
 * live), at their last event: a thread that exits just after its call
 * (a thread per request) sends no event without the frame to end it.
 * Only calls whose last event is older than CALLREC_SWEEP_AGE_NS at now_ns
 * (BPF clock): --wall hands a thread's last on-CPU slice over once the
 * thread is quiet for OFFCPU_STALE_NS. */
void callrec_sweep(struct callrec *cr, bool (*alive)(uint32_t pid, uint32_t tid),
		   uint64_t now_ns);
#define CALLREC_SWEEP_AGE_NS (OFFCPU_STALE_NS + 1000000000ull)
/* Events dropped by callrec_event. */
uint64_t callrec_outside(const struct callrec *cr);
/* Recording stopped at stop_ns: every open call ends (ended called). */
void callrec_stop(struct callrec *cr, uint64_t stop_ns);

#endif

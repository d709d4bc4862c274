/*
 * The saved profile's format, defined once: its name and version, the key of
 * every field, and the names of frame kinds, frame flags and counters. The
 * writer (write.c) and the reader (read.c) take every name from here, so the
 * two cannot drift apart. man/sampletop.8 (SAVED PROFILES) documents it.
 *
 * A file is one JSON object:
 *   {"format": STORE_FORMAT, "version": STORE_VERSION, "meta": {...},
 *    "total": N, "frames": [...], "threads": [...], "stacks": [...],
 *    "timeline": [...], "samples": [...]}
 * Private to store/: other folders load and write through store.h.
 */
#ifndef STORE_FORMAT_H
#define STORE_FORMAT_H

#include "model/profile.h"
#include "base/util.h"

#define STORE_FORMAT "sampletop-profile"
/* Bump when a reader of the previous version would misread a new file.
 * 2: meta "wall" (counts are nanoseconds), the "offcpu" frame flag, the
 * "timeline" (and "calls", written by model/calls' hunk). Version 1 files
 * load as they are: no wall, no timeline. */
#define STORE_VERSION 2

/* The top-level object. */
#define STORE_K_FORMAT "format"
#define STORE_K_VERSION "version"
#define STORE_K_META "meta"
#define STORE_K_TOTAL "total"		/* sum of every sample count */
#define STORE_K_FRAMES "frames"
#define STORE_K_THREADS "threads"
#define STORE_K_STACKS "stacks"		/* "frame frame ...", root first */
#define STORE_K_SAMPLES "samples"
/* --wall: {"thread": T, "events": "t_ns:weight:stack:call ..."} entries, a
 * thread's events in time order (t_ns since start_wall_ns, call 0: none) */
#define STORE_K_TIMELINE "timeline"
#define STORE_K_EVENTS "events"

/* "meta": the recording's settings and counters. */
#define STORE_K_TARGET "target"
#define STORE_K_COMMAND "command"
#define STORE_K_HOSTNAME "hostname"
#define STORE_K_KERNEL "kernel"
#define STORE_K_START_WALL_NS "start_wall_ns"
#define STORE_K_DURATION_NS "duration_ns"
#define STORE_K_FREQ_HZ "freq_hz"
#define STORE_K_NCPUS "ncpus"
#define STORE_K_KERNEL_STACKS "kernel_stacks"
#define STORE_K_WALL "wall"		/* true: counts are ns of wall time; absent: false */
#define STORE_K_EXIT_STATUS "exit_status"
#define STORE_K_NOTE "note"
#define STORE_K_COUNTERS "counters"	/* {name: count}, only those not 0 */

/* A frame. */
#define STORE_K_NAME "name"
#define STORE_K_MODULE "module"
#define STORE_K_ADDR "addr"		/* "0x1a2b" */
#define STORE_K_KIND "kind"		/* store_kind_name() */
#define STORE_K_FILE "file"		/* absent: unknown */
#define STORE_K_LINE "line"		/* absent: 0 */
#define STORE_K_FLAGS "flags"		/* [store_flags[].name...], absent: none */

/* A string that is not UTF-8 (JSON cannot carry it): {"bytes": "hex"}. */
#define STORE_K_BYTES "bytes"

/* A thread. */
#define STORE_K_PID "pid"
#define STORE_K_TID "tid"
#define STORE_K_COMM "comm"
#define STORE_K_PROCESS "process"
#define STORE_K_EXITED "exited"		/* true: exited threads merged; absent: false */

/* A "samples" entry: {"thread": T, "counts": "stack:count stack:count ..."}. */
#define STORE_K_THREAD "thread"
#define STORE_K_COUNTS "counts"

/* "calls" (--scope; absent without it): {"keep": N, "lost_begin": N,
 * "functions": [{"name", "python", "count", "total_ns", "max_ns",
 * "durations": "ns ns ...", "durations_dropped", "histogram": "n n ..."
 * (CALLS_HIST_BINS bins), "slowest": [{"number", "id", "pid", "tid",
 * "comm", "process", "begin_ns", "end_ns", "counts": "stack:weight ...",
 * "dropped_weight"}]}]} */
#define STORE_K_CALLS "calls"
#define STORE_K_KEEP "keep"
#define STORE_K_LOST_BEGIN "lost_begin"
#define STORE_K_FUNCTIONS "functions"
#define STORE_K_PYTHON "python"
#define STORE_K_COUNT "count"
#define STORE_K_TOTAL_NS "total_ns"
#define STORE_K_MAX_NS "max_ns"
#define STORE_K_DURATIONS "durations"
#define STORE_K_DURATIONS_DROPPED "durations_dropped"
#define STORE_K_HISTOGRAM "histogram"
#define STORE_K_SLOWEST "slowest"
#define STORE_K_NUMBER "number"
#define STORE_K_ID "id"
#define STORE_K_BEGIN_NS "begin_ns"
#define STORE_K_END_NS "end_ns"
#define STORE_K_DROPPED_WEIGHT "dropped_weight"

/* A frame kind's name ("special" for one this version does not know). */
const char *store_kind_name(enum frame_kind kind);
/* The kind named s, or -1. */
int store_kind_by_name(const char *s);
/* The kinds' names, ", "-separated, for error messages. */
void store_kind_list(struct strbuf *sb);

/* The frame flags a file carries, in the order they are written. */
struct store_flag {
	unsigned flag;			/* FRAME_F_* */
	const char *name;
};
extern const struct store_flag store_flags[];
extern const size_t store_nr_flags;

/*
 * Counters are saved under the model's counter names (prof_counter_names):
 * renaming one there renames it in every file written after, and older files'
 * counts of it are then ignored on load (a name the reader does not know).
 */
const char *store_counter_key(enum prof_counter c);
/* The counter saved as key, or -1 (a counter of another version). */
int store_counter_by_key(const char *key);

#endif

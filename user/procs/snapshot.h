/*
 * Early snapshots of the maps of processes that have just exec'd, taken by a
 * thread of their own. The drain thread can be busy for seconds (a large
 * object's symbols or unwind table), far longer than a short-lived process
 * lives. The BPF program names a freshly exec'd target in a small ring
 * buffer at each of its first ST_FRESH_WAKES samples; this thread reads
 * /proc/PID/maps at once (the process is running: its maps are there, with
 * the libraries ld.so has mapped so far) and keeps the latest text by (pid,
 * start time) for procs, which asks when /proc no longer has it.
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stdint.h>

/* Snapshots kept (the oldest go first): a few seconds of a busy build. */
#define SNAPSHOTS_MAX 1024

struct snapshots;

/* Starts the thread on the execs ring buffer (a BPF ring of struct st_exec).
 * Returns 0 or a negative errno. */
int snapshots_start(int ring_fd, struct snapshots **out);
/* Stops the thread and frees everything. NULL is fine. */
void snapshots_stop(struct snapshots *s);

/* Removes and returns the latest maps text of (pid, start_ns), or NULL;
 * *read_ns (if not NULL) gets when its read began (CLOCK_MONOTONIC, as the
 * BPF program's times). The caller frees it. Thread-safe. */
char *snapshots_take(struct snapshots *s, uint32_t pid, uint64_t start_ns, uint64_t *read_ns);

/* Reads /proc/PID/maps of (pid, start_ns) now, for tests; as the thread. */
char *snapshot_read(uint32_t pid, uint64_t start_ns, uint64_t ns_per_tick);

#endif

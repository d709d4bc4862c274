/*
 * Processes and their memory maps. A process is known by (pid, start time),
 * since pids are reused: each instance of a pid has its own entry. Its
 * executable mappings are read from /proc/PID/maps on first sight, at once
 * when it execs (the lifecycle events), and again when an address falls
 * outside every known mapping (dlopen), at most once per drain. A forked
 * child that has not exec'd shares its parent's mappings. An exited
 * process keeps its mappings, for samples still in flight, until
 * PROCS_MAX_EXITED later exits push it out.
 */
#ifndef PROCS_H
#define PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hashtab.h"
#include "procs/procfs.h"

/* Exited processes whose mappings are kept: samples drained after the exit
 * event are rare (the last thread's own, taken during its exit), so a few
 * drain periods' worth of exits is plenty. */
#define PROCS_MAX_EXITED 1024
/* An address outside every mapping re-reads the maps at most this often
 * (garbage addresses from a broken frame chain would otherwise re-read a
 * big process's maps on every drain), except right after an exec. */
#define PROCS_RELOAD_NS 250000000ull

/*
 * The stages above keep their own state per process instance (the
 * symbolizer's address cache and perf map, the unwind feeder's last build):
 * procs knows nothing of it. A stage registers once (procs_attach_register)
 * and hangs its data on p->attached[its index] (NULL until it does); procs
 * calls the stage's free function on that data when it drops the instance (pushed
 * out of the exited ones, or procs_free), so memory stays bounded however
 * many processes come and go. Data about what the maps name compares
 * p->maps_gen, which changes whenever the maps are replaced (exec, re-read,
 * snapshot).
 */
#define PROCS_MAX_ATTACH 4

struct proc {
	uint32_t pid;
	uint64_t start_time;	/* field 22 of /proc/PID/stat, clock ticks since boot */
	uint64_t start_ns;	/* the same, in ns as the BPF program reports it; 0 if unknown */
	uint32_t ppid;		/* forked and not yet read: the parent whose maps it shares */
	uint64_t parent_start_ns;
	bool loaded;		/* maps read (or given up on) */
	bool exited;		/* its exit was seen: /proc/PID is no longer its own */
	bool early;		/* maps read at exec, maybe before ld.so mapped the libraries */
	uint64_t read_ns;	/* when the maps were last read */
	uint64_t exec_ns;	/* when its exec was seen (the BPF clock); 0: none seen */
	uint64_t reload_due_ns;	/* a miss waits for a re-read at this time; 0: none */
	struct proc *older;	/* the previous instance of the same pid */
	char comm[16];		/* process name (main thread) */
	struct proc_map *maps;	/* executable mappings only, sorted by start */
	uint32_t nr_maps;
	bool gone;		/* /proc/PID disappeared */
	uint64_t reload_gen;	/* drain generation of the last maps reload */
	uint32_t maps_gen;	/* changes whenever maps are replaced */
	void *attached[PROCS_MAX_ATTACH];	/* the stages above's, see procs_attach_register */
};

struct procs;

struct procs *procs_new(void);
/* Frees every instance, and what the stages attached to them. */
void procs_free(struct procs *ps);

/* An index of struct proc's attached[] for one stage's data; free_fn(data)
 * is called for each instance's non-NULL data when procs drops it. Returns
 * the index, or -ENOSPC when PROCS_MAX_ATTACH stages have one. */
int procs_attach_register(struct procs *ps, void (*free_fn)(void *data));

/* The process with this pid, read from /proc on first sight. When /proc
 * shows a different start time than the cached one (pid reuse), the old
 * entry is replaced. Returns NULL only on allocation failure; a vanished
 * process is returned with gone set and no maps. */
struct proc *procs_get(struct procs *ps, uint32_t pid);

/* The instance of pid that started at start_ns (boot-based ns, as the BPF
 * program reports it); start_ns 0 means the newest one, as procs_get. An
 * instance not seen before is read from /proc if /proc/PID is still that
 * process, else it comes back gone, without maps: another process's maps
 * never name its addresses. NULL only on allocation failure. */
struct proc *procs_lookup(struct procs *ps, uint32_t pid, uint64_t start_ns);

/* Lifecycle events, in order with the samples. exec: the process replaced
 * its image (read the new maps now, before it can exit). fork: a new
 * process that shares its parent's maps until it execs. exit: its last
 * thread exited; keep its maps for a while, never re-read /proc for it.
 * exec_ns is the exec's time (CLOCK_MONOTONIC): maps read since are kept. */
void procs_exec(struct procs *ps, uint32_t pid, uint64_t start_ns, const char *comm,
		uint64_t exec_ns);
void procs_fork(struct procs *ps, uint32_t pid, uint64_t start_ns, uint32_t ppid,
		uint64_t parent_start_ns, const char *comm);
void procs_exit(struct procs *ps, uint32_t pid, uint64_t start_ns);

struct snapshots;
/* Where to look for the maps of a process that /proc no longer has (the
 * snapshot thread, see snapshot.h). Not owned. */
void procs_set_snapshots(struct procs *ps, struct snapshots *snaps);

/* Instances held (live and exited), for tests and -v. */
size_t procs_count(const struct procs *ps);
/* Pids with a slot (an instance, or none since the last sweep), for tests. */
size_t procs_nr_slots(const struct procs *ps);

/* The mapping holding addr, or NULL. May re-read the maps if addr is not
 * found: once per drain generation (procs_next_gen) and PROCS_RELOAD_NS. */
struct proc_map *proc_find_map(struct procs *ps, struct proc *p, uint64_t addr);

/* Starts a new drain generation (allows one maps reload per process); now
 * and then drops the slots of pids with no instance left. Call it between
 * drains, when no struct proc pointer is held. */
void procs_next_gen(struct procs *ps);

#endif

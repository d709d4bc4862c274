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
#include <sys/stat.h>

#include "base/hashtab.h"
#include "symbols/perfmap.h"

enum map_flags {
	MAP_F_EXEC = 1 << 0,
	MAP_F_DELETED = 1 << 1,	/* path ended in " (deleted)" */
	MAP_F_ANON = 1 << 2,	/* no backing file */
	MAP_F_SPECIAL = 1 << 3,	/* [vdso], [vsyscall], [heap], ... */
};

struct proc_map {
	uint64_t start, end;	/* [start, end) */
	uint64_t pgoff;		/* file offset of start */
	uint64_t dev;		/* makedev(major, minor) */
	uint64_t ino;
	uint32_t flags;		/* enum map_flags */
	char *path;		/* as in /proc/PID/maps, " (deleted)" removed; "" if anon */
	uint32_t obj;		/* symbolizer's object id + 1 once looked up, else 0: keeps
			 * the parsed file reachable after the process exits */
};

/* Parses one line of /proc/PID/maps (without or with its trailing newline).
 * Returns 0 and fills *m (m->path allocated, caller frees) or -EINVAL. */
int maps_parse_line(const char *line, struct proc_map *m);

/* Exited processes whose mappings are kept: samples drained after the exit
 * event are rare (the last thread's own, taken during its exit), so a few
 * drain periods' worth of exits is plenty. */
#define PROCS_MAX_EXITED 1024
/* An address outside every mapping re-reads the maps at most this often
 * (garbage addresses from a broken frame chain would otherwise re-read a
 * big process's maps on every drain), except right after an exec. */
#define PROCS_RELOAD_NS 250000000ull

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
	uint64_t reload_due_ns;	/* a miss waits for a re-read at this time; 0: none */
	struct proc *older;	/* the previous instance of the same pid */
	char comm[16];		/* process name (main thread) */
	struct proc_map *maps;	/* executable mappings only, sorted by start */
	uint32_t nr_maps;
	bool gone;		/* /proc/PID disappeared */
	uint64_t reload_gen;	/* drain generation of the last maps reload */
	struct u64map ip_frames;	/* symbolizer cache: ip -> profile frame id */
	struct perfmap *perfmap;	/* JIT symbols (/tmp/perf-NSPID.map), or NULL */
	bool perfmap_tried;
	uint64_t unwind_read_ns;	/* read_ns when its objects' unwind tables were built */
};

struct procs;

struct procs *procs_new(void);
void procs_free(struct procs *ps);

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

/* Reads start time (clock ticks since boot) of pid; 0 if gone. */
uint64_t proc_start_time(uint32_t pid);
/* Reads /proc/PID/stat into buf; returns the text after the comm field's
 * closing ')' (field 3 onwards), or NULL if the process is gone. */
const char *proc_read_stat(uint32_t pid, char *buf, size_t size);

/* The process's pid in its own pid namespace (last NSpid), or pid. */
uint32_t proc_ns_pid(uint32_t pid);

#endif

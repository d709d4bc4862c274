/*
 * Processes and their memory maps. A process is known by (pid, start time),
 * since pids are reused; its executable mappings are read from
 * /proc/PID/maps on first sight and re-read when an address falls outside
 * every known mapping (dlopen), at most once per drain.
 */
#ifndef PROCS_H
#define PROCS_H

#include <stdbool.h>
#include <stdint.h>

#include "hmap.h"
#include "perfmap.h"

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

struct proc {
	uint32_t pid;
	uint64_t start_time;	/* field 22 of /proc/PID/stat, clock ticks since boot */
	char comm[16];		/* process name (main thread) */
	struct proc_map *maps;	/* executable mappings only, sorted by start */
	uint32_t nr_maps;
	bool gone;		/* /proc/PID disappeared */
	uint64_t reload_gen;	/* drain generation of the last maps reload */
	struct u64map ip_frames;	/* symbolizer cache: ip -> profile frame id */
	struct perfmap *perfmap;	/* JIT symbols (/tmp/perf-NSPID.map), or NULL */
	bool perfmap_tried;
};

struct procs;

struct procs *procs_new(void);
void procs_free(struct procs *ps);

/* The process with this pid, read from /proc on first sight. When /proc
 * shows a different start time than the cached one (pid reuse), the old
 * entry is replaced. Returns NULL only on allocation failure; a vanished
 * process is returned with gone set and no maps. */
struct proc *procs_get(struct procs *ps, uint32_t pid);

/* The mapping holding addr, or NULL. May re-read the maps once per drain
 * generation (procs_next_gen) if addr is not found. */
struct proc_map *proc_find_map(struct procs *ps, struct proc *p, uint64_t addr);

/* Starts a new drain generation (allows one maps reload per process). */
void procs_next_gen(struct procs *ps);

/* Reads start time (clock ticks since boot) of pid; 0 if gone. */
uint64_t proc_start_time(uint32_t pid);

/* The process's pid in its own pid namespace (last NSpid), or pid. */
uint32_t proc_ns_pid(uint32_t pid);


#endif

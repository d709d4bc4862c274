/*
 * The one reader of /proc files: a process's stat, comm, NSpid, maps and the
 * paths of its mapped files. Every stage reads /proc through here, so that
 * each file has one bounded read and one parser. A pid is reused once its
 * process is gone, so what must be about one process instance checks its
 * start time (proc_alive, proc_start_time).
 */
#ifndef PROCFS_H
#define PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Largest /proc/PID/maps text read: ~100k mappings, above the default
 * vm.max_map_count (65530); a longer one is cut at a whole line. */
#define PROC_MAPS_MAX_BYTES (16u << 20)

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
int proc_maps_parse_line(const char *line, struct proc_map *m);

/* Reads /proc/PID/maps (pid 0: our own, /proc/self/maps) whole, in one
 * bounded read (PROC_MAPS_MAX_BYTES, cut at a whole line). Returns 0 and
 * *text (NUL-terminated, caller frees; *len its length if len is not NULL),
 * or a negative errno (-ENOENT: no such process). */
int proc_maps_text(uint32_t pid, char **text, size_t *len);

/* The same from a maps file open as fd (read from its start: a kept fd
 * reads the maps as they are now). */
int proc_maps_text_fd(int fd, char **text, size_t *len);

/* Calls fn for each line of a maps text that parses, in order; m->path is
 * freed after the call unless fn takes it (sets it to NULL). Stops at the
 * first non-zero return of fn and returns it; 0 once all lines were seen. */
int proc_maps_each(const char *text, int (*fn)(void *ctx, struct proc_map *m), void *ctx);

/* Our own vDSO: its address and size (0 and 0 if there is none). The same
 * image is mapped into every 64-bit process. */
void proc_self_vdso(uint64_t *base, uint64_t *size);

/* Reads /proc/PID/stat into buf; returns the text after the comm field's
 * closing ')' (field 3 onwards), or NULL if the process is gone. */
const char *proc_read_stat(uint32_t pid, char *buf, size_t size);
/* Start time of pid (field 22 of /proc/PID/stat: clock ticks since boot);
 * 0 if gone. */
uint64_t proc_start_time(uint32_t pid);
/* Is pid still the process that started at start_time (clock ticks, as
 * proc_start_time)? False once it is gone, and when the pid names another
 * process since (pid reuse). A zombie is still there. start_time 0 (never
 * read) is never alive. */
bool proc_alive(uint32_t pid, uint64_t start_time);
/* /proc/PID as a handle on one process instance: the directory fd stays
 * that process's (its files fail once the process is reaped, even when the
 * pid is reused), so what is read through it (openat(fd, "maps")) needs no
 * second start-time check. Returns the fd if pid is the process that started
 * at start_time (clock ticks, as proc_start_time), -ESRCH if it is another
 * or none, or a negative errno. The caller closes it. */
int proc_open(uint32_t pid, uint64_t start_time);
/* The name of pid (/proc/PID/comm, at most 15 bytes) into buf; "" if gone. */
void proc_read_comm(uint32_t pid, char *buf, size_t size);
/* The path of pid's executable (/proc/PID/exe; pid 0: ours) into buf.
 * Returns its length, or a negative errno (gone, a kernel thread). */
int proc_read_exe(uint32_t pid, char *buf, size_t size);
/* Does pid name a process at all, whichever instance? Only for tables that
 * are keyed by pid alone (a BPF map by tgid); about one process instance,
 * ask proc_alive. */
bool proc_pid_exists(uint32_t pid);
/* /proc/PID/cgroup (its cgroup path in each hierarchy) into buf, in one
 * read (a longer text is cut). Returns 0 or a negative errno (gone). */
int proc_read_cgroup(uint32_t pid, char *buf, size_t size);
/* The process's pid in its own pid namespace (last NSpid), or pid. */
uint32_t proc_ns_pid(uint32_t pid);

#endif

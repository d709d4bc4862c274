/*
 * Feeding the BPF unwinder: each process's executable mappings (start, end,
 * bias, table) go into the unwind_procs map; the table of every object is
 * built once (unwind_table), cached by file identity (symbols/objfile.h) and
 * shared by every file with the same build-id, and placed into the mmapped
 * rows and pages maps by an extent allocator (unwind_alloc.h). Processes are
 * pushed when first seen and again when a sample says the BPF side met an
 * unknown mapping (exec, mmap, dlopen), rate-limited per process.
 *
 * The maps have a fixed size (the --unwind-mem budget). When a table does
 * not fit, the tables sampled least recently (the BPF program stamps each
 * table's slot in unwind_used as it walks it) are evicted until it does;
 * an evicted table stays built here and is placed again once sampled
 * again. Tables that no live pushed process maps and that were not sampled
 * for a while are reclaimed. A table bigger than the whole budget is not
 * placed (its frames are then walked by frame pointers). Every eviction and
 * refusal is counted (struct unwind_bpf_stats).
 */
#ifndef UNWIND_BPF_H
#define UNWIND_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct unwind_bpf;
struct sampler_map_fds;	/* capture/sampler.h */

struct unwind_bpf *unwind_bpf_new(void);
/* Connects to the BPF maps the unwinder reads (bpf/ustack.bpf.h): the
 * unwind_* descriptors of m, which stay the sampler's. Must precede the
 * calls below. Returns 0 or a negative errno. */
int unwind_bpf_bind(struct unwind_bpf *u, const struct sampler_map_fds *m);
/* For the tests: places tables in plain memory of max_rows rows and
 * max_pages pages instead of BPF maps (no process entries are written). */
void unwind_bpf_bind_memory(struct unwind_bpf *u, uint32_t max_rows, uint32_t max_pages);
void unwind_bpf_free(struct unwind_bpf *u);

/* Reads pid's mappings now and pushes them with their tables. Returns 0,
 * or a negative errno (-ESRCH when the process is gone). */
int unwind_bpf_push(struct unwind_bpf *u, uint32_t pid);
struct proc;

/* Builds (and places) the tables of the objects in p's known mappings,
 * without pushing p: a process that lives a few ms is gone before its push,
 * but the BPF program finds its objects by file (bpf_find_vma) from then on,
 * in the next processes of the same program. Works after p exited. */
void unwind_bpf_build_known(struct unwind_bpf *u, const struct proc *p);
/* Builds the tables of the objects pid maps, without pushing anything: a
 * command about to be launched will most likely map the same libc, ld.so and
 * vdso as we do. Returns 0 or a negative errno. */
int unwind_bpf_prebuild(struct unwind_bpf *u, uint32_t pid);
/* Waits (at most ~0.2 s) for pid, a child of ours, to leave our executable
 * (exec) and for its mappings to settle (the dynamic loader has mapped its
 * libraries), then pushes it: its first samples then find their tables. */
int unwind_bpf_push_after_exec(struct unwind_bpf *u, uint32_t pid);
/* pid exited: its entry leaves the BPF map and its tables lose a user. */
void unwind_bpf_exited(struct unwind_bpf *u, uint32_t pid);
/* Builds (or shares) and places the table of the file at path as if a
 * process mapped it. Returns the object's index (unwind_bpf_object), or a
 * negative errno. For the tests and benches. */
int unwind_bpf_add_path(struct unwind_bpf *u, const char *path);
/* For the tests: marks object i's table as sampled at ns (now_ns() clock),
 * as the BPF program does when it walks it. */
void unwind_bpf_touch(struct unwind_bpf *u, size_t i, uint64_t ns);
/* Asks for pid to be pushed again at the next flush. Cheap; call per sample. */
void unwind_bpf_request(struct unwind_bpf *u, uint32_t pid);
/* Pushes the requested processes whose mappings changed since their last
 * push (each at most once per back-off period) and, now and then, removes
 * the entries of processes that exited. */
void unwind_bpf_flush(struct unwind_bpf *u);
/* The same as if the clock said now (now_ns()'s clock): for the tests. */
void unwind_bpf_flush_at(struct unwind_bpf *u, uint64_t now);

struct proc_map;
struct unwind_table;
/* The table of the object that m maps in pid (built and placed now if it
 * was not, as a push would) and m's bias (address - ELF vaddr), for the
 * userspace walk of cold samples (unwind_user.h). *t lives as long as u.
 * Returns 0, -ENODATA when the object has no table (no CFI, anonymous
 * code), or -ENOENT when its file cannot be opened.
 * Memory: every object keeps its rows in userspace once placed (8 bytes a
 * row plus 8 per 256 bytes of code), as much again as it takes in the BPF
 * maps: ~4.6 MB for cc1 (478k rows, 25 MB of code), ~0.3 MB for libc; at
 * most the rows map's 16 MiB plus the buckets' 8 MiB. */
int unwind_bpf_table_at(struct unwind_bpf *u, uint32_t pid, const struct proc_map *m,
			const struct unwind_table **t, uint64_t *bias);

struct unwind_obj_info {
	const char *path;	/* as first mapped */
	int err;		/* 0, or why there is no table (negative errno) */
	bool table_full;	/* built, but bigger than the whole budget */
	bool placed;		/* in the BPF maps now */
	bool evicted;		/* built, evicted for room (placed again once sampled) */
	bool reclaimed;		/* no longer mapped nor sampled: freed (built again if needed) */
	bool shared;		/* the table of an earlier file with the same build-id */
	uint32_t table;		/* its table's id: files sharing a table have the same */
	uint32_t rows;		/* wide rows built from the CFI */
	size_t bytes;		/* in the BPF maps (4 per row, 8 per 4 KiB page) */
	double build_ms;
};

/* Objects (files) seen so far, for -v and the benches. */
size_t unwind_bpf_nr_objects(const struct unwind_bpf *u);
void unwind_bpf_object(const struct unwind_bpf *u, size_t i, struct unwind_obj_info *info);

struct unwind_bpf_stats {
	uint64_t table_full;	/* tables bigger than the whole budget: never placed */
	uint64_t evicted;	/* evictions of tables sampled least recently, for room */
	uint64_t reclaimed;	/* tables freed: no live process maps them */
	uint64_t shared;	/* files that found their table by build-id */
	uint64_t rows_used, rows_max;	/* rows placed / room */
	uint64_t pages_used, pages_max;
};
void unwind_bpf_stats(const struct unwind_bpf *u, struct unwind_bpf_stats *st);

#endif

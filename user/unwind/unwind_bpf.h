/*
 * Feeding the BPF unwinder: each process's executable mappings (start, end,
 * bias, rows) go into the unwind_procs map; the rows of every object are
 * built once (unwind_table), cached by file identity (symbols/objfile.h)
 * so processes share them, and written once into the mmapped
 * unwind_rows map. Processes are pushed when first seen and again when a
 * sample says the BPF side met an unknown mapping (exec, mmap, dlopen),
 * rate-limited per process.
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
/* Asks for pid to be pushed again at the next flush. Cheap; call per sample. */
void unwind_bpf_request(struct unwind_bpf *u, uint32_t pid);
/* Pushes the requested processes whose mappings changed since their last
 * push (each at most once per back-off period) and, now and then, removes
 * the entries of processes that exited. */
void unwind_bpf_flush(struct unwind_bpf *u);

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
	bool table_full;	/* built, but did not fit the rows map */
	uint32_t rows;
	size_t bytes;		/* in the BPF rows map */
	double build_ms;
};

/* Objects seen so far, for -v and the benches. */
size_t unwind_bpf_nr_objects(const struct unwind_bpf *u);
void unwind_bpf_object(const struct unwind_bpf *u, size_t i, struct unwind_obj_info *info);
/* Objects whose table did not fit the rows map. */
uint64_t unwind_bpf_table_full(const struct unwind_bpf *u);

#endif

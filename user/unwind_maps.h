/*
 * Feeding the BPF unwinder: each process's executable mappings (start, end,
 * bias, rows) go into the unwind_procs map; the rows of every object are
 * built once (unwind_table), cached by file identity (device, inode, size,
 * mtime) so processes share them, and written once into the mmapped
 * unwind_rows map. Processes are pushed when first seen and again when a
 * sample says the BPF side met an unknown mapping (exec, mmap, dlopen),
 * rate-limited per process.
 */
#ifndef UNWIND_MAPS_H
#define UNWIND_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct unwind_maps;

struct unwind_maps *unwind_maps_new(void);
/* Connects to the BPF maps: rows_fd, the BPF_F_MMAPABLE array of max_rows
 * struct st_urow; procs_fd, the tgid -> struct st_uproc hash. Must precede
 * the calls below. Returns 0 or a negative errno. */
int unwind_maps_bind(struct unwind_maps *u, int rows_fd, uint32_t max_rows, int procs_fd);
void unwind_maps_free(struct unwind_maps *u);

/* Reads pid's mappings now and pushes them with their tables. Returns 0,
 * or a negative errno (-ESRCH when the process is gone). */
int unwind_maps_push(struct unwind_maps *u, uint32_t pid);
/* Asks for pid to be pushed again at the next flush. Cheap; call per sample. */
void unwind_maps_request(struct unwind_maps *u, uint32_t pid);
/* Pushes the requested processes whose mappings changed since their last
 * push (each at most once per back-off period) and, now and then, removes
 * the entries of processes that exited. */
void unwind_maps_flush(struct unwind_maps *u);

struct unwind_obj_info {
	const char *path;	/* as first mapped */
	int err;		/* 0, or why there is no table (negative errno) */
	bool table_full;	/* built, but did not fit the rows map */
	uint32_t rows;
	size_t bytes;		/* in the BPF rows map */
	double build_ms;
};

/* Objects seen so far, for -v and the benches. */
size_t unwind_maps_nr_objects(const struct unwind_maps *u);
void unwind_maps_object(const struct unwind_maps *u, size_t i, struct unwind_obj_info *info);
/* Objects whose table did not fit the rows map. */
uint64_t unwind_maps_table_full(const struct unwind_maps *u);

#endif

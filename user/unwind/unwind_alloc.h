/*
 * Extents of a fixed-size array: the rows and the pages of the BPF unwind
 * maps, whose size is fixed when the program loads. Best fit over a list of
 * free extents sorted by start; a freed extent merges with the free ones
 * beside it, so freeing everything gives back one extent. It keeps only the
 * books: the caller copies the data and decides what to free when an
 * allocation fails (unwind_bpf.c evicts the tables sampled least recently).
 */
#ifndef UNWIND_ALLOC_H
#define UNWIND_ALLOC_H

#include <stddef.h>
#include <stdint.h>

struct unwind_extent {
	uint32_t start, len;
};

struct unwind_alloc {
	struct unwind_extent *free;	/* sorted by start, none adjacent, none empty */
	size_t nr_free, alloc_free;
	uint32_t size;		/* units in the array */
	uint32_t used;		/* units allocated */
};

/* An allocator over [0, size), all free. */
void unwind_alloc_init(struct unwind_alloc *a, uint32_t size);
void unwind_alloc_release(struct unwind_alloc *a);

/* Allocates len units (len > 0). Returns 0 and *start; -E2BIG when len
 * exceeds the whole array (no freeing helps), -ENOSPC when no free extent
 * is long enough (freeing may help: the free total can be enough but split). */
int unwind_alloc_get(struct unwind_alloc *a, uint32_t len, uint32_t *start);
/* Frees [start, start + len), which unwind_alloc_get gave. */
void unwind_alloc_put(struct unwind_alloc *a, uint32_t start, uint32_t len);
/* The longest free extent. */
uint32_t unwind_alloc_largest(const struct unwind_alloc *a);

#endif

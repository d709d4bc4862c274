/* Best-fit extents with a coalescing free list, over the BPF unwind maps. */
#include "unwind/unwind_alloc.h"
#include "base/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void unwind_alloc_init(struct unwind_alloc *a, uint32_t size)
{
	*a = (struct unwind_alloc){ .size = size };
	if (!size)
		return;
	XGROW(a->free, a->alloc_free, 1);
	a->free[0] = (struct unwind_extent){ 0, size };
	a->nr_free = 1;
}

void unwind_alloc_release(struct unwind_alloc *a)
{
	free(a->free);
	*a = (struct unwind_alloc){ 0 };
}

int unwind_alloc_get(struct unwind_alloc *a, uint32_t len, uint32_t *start)
{
	size_t best = a->nr_free;
	struct unwind_extent *e;

	if (!len || len > a->size)
		return -E2BIG;
	/* Best fit: the shortest extent that holds len keeps long ones whole
	 * for the big tables (libLLVM's is ~4 MB). */
	for (size_t i = 0; i < a->nr_free; i++)
		if (a->free[i].len >= len && (best == a->nr_free || a->free[i].len < a->free[best].len))
			best = i;
	if (best == a->nr_free)
		return -ENOSPC;
	e = &a->free[best];
	*start = e->start;
	e->start += len;
	e->len -= len;
	if (!e->len) {
		memmove(e, e + 1, (a->nr_free - best - 1) * sizeof(*e));
		a->nr_free--;
	}
	a->used += len;
	return 0;
}

void unwind_alloc_put(struct unwind_alloc *a, uint32_t start, uint32_t len)
{
	size_t i = 0;
	bool left, right;

	if (!len)
		return;
	while (i < a->nr_free && a->free[i].start < start)
		i++;
	left = i > 0 && a->free[i - 1].start + a->free[i - 1].len == start;
	right = i < a->nr_free && start + len == a->free[i].start;
	a->used -= len;
	if (left && right) {
		a->free[i - 1].len += len + a->free[i].len;
		memmove(&a->free[i], &a->free[i + 1], (a->nr_free - i - 1) * sizeof(*a->free));
		a->nr_free--;
	} else if (left) {
		a->free[i - 1].len += len;
	} else if (right) {
		a->free[i].start = start;
		a->free[i].len += len;
	} else {
		XGROW(a->free, a->alloc_free, a->nr_free + 1);
		memmove(&a->free[i + 1], &a->free[i], (a->nr_free - i) * sizeof(*a->free));
		a->free[i] = (struct unwind_extent){ start, len };
		a->nr_free++;
	}
}

uint32_t unwind_alloc_largest(const struct unwind_alloc *a)
{
	uint32_t m = 0;

	for (size_t i = 0; i < a->nr_free; i++)
		if (a->free[i].len > m)
			m = a->free[i].len;
	return m;
}

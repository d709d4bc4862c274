/* For the unwind tests: the wide row (struct st_urow, the builder's output
 * before the encoding) in force at vaddr, by binary search over t->rows, or
 * NULL before the first. */
#ifndef TEST_UNWIND_ROWS_H
#define TEST_UNWIND_ROWS_H

#include "unwind/unwind_table.h"

static inline const struct st_urow *wide_find(const struct unwind_table *t, uint64_t vaddr)
{
	uint32_t lo = 0, hi = t->nr_rows;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}

#endif

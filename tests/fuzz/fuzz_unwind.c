/* libFuzzer target: the unwind-table builder on ELF images as the profiled
 * process could hand them to us (.eh_frame and .debug_frame are read through
 * libdw, then reduced to rows; every row is looked up again). */
#include "unwind/unwind_table.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unwind_table *t;
	struct st_urow row;
	uint64_t bias;

	if (unwind_table_build_mem(data, size, &t))
		return 0;
	for (uint32_t i = 0; i < t->nr_rows; i++)
		unwind_table_find(t, (uint64_t)t->base + i, &row);
	unwind_table_find(t, 0, &row);
	unwind_table_find(t, UINT64_MAX, &row);
	unwind_table_bias(t, 0x400000, 0, &bias);
	unwind_table_bias(t, 0x7f0000001000, 0x1000, &bias);
	unwind_table_free(t);
	return 0;
}

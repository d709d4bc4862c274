/* libFuzzer target: the .eh_frame/.debug_frame parser (unwind/cfi.c) on
 * section bytes as a profiled process's file could hold them. The first
 * byte picks the layout: bit 0 .debug_frame, bit 1 a 32-bit object, bit 2
 * a data-relative base. Checks the table's invariants after every parse. */
#include "unwind/cfi.h"
#include "sampletop.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfi_sec sec = { .addr = 0x401000 };
	struct cfi_table t;

	if (size < 1)
		return 0;
	sec.debug_frame = data[0] & 1;
	sec.is64 = !(data[0] & 2);
	sec.datarel = data[0] & 4 ? 0x400000 : 0;
	sec.data = data + 1;
	sec.size = size - 1;
	cfi_parse(&sec, &t);
	for (uint32_t i = 0; i < t.nr_fdes; i++) {
		const struct cfi_fde *f = &t.fdes[i];

		if (f->end < f->start || (i && f->start <= t.fdes[i - 1].start) ||
		    (i && t.fdes[i - 1].end > f->start) || f->first > t.nr_rows ||
		    f->nr > t.nr_rows - f->first)
			__builtin_trap();
		for (uint32_t r = f->first; r < f->first + f->nr; r++)
			if (t.rows[r].pc < f->start || t.rows[r].cfa_kind > ST_CFA_SIGNAL ||
			    (r > f->first && t.rows[r].pc <= t.rows[r - 1].pc))
				__builtin_trap();
		if (f->nr && t.rows[f->first].pc != f->start)
			__builtin_trap();
		if (f->end > f->start && cfi_find(&t, f->start) != f)
			__builtin_trap();
	}
	cfi_find(&t, 0);
	cfi_find(&t, UINT64_MAX);
	cfi_table_free(&t);
	return 0;
}

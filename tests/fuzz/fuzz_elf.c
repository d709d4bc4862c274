/* libFuzzer target: ELF images (symbols, segments, notes, debug links,
 * MiniDebugInfo, .eh_frame function ranges) as the profiled process could
 * hand them to us. */
#include "symbols/debuginfo.h"
#include "symbols/elf_syms.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_obj *o, *mini;
	uint64_t vaddr;

	if (elf_obj_from_mem(data, size, "fuzz", &o))
		return 0;
	for (uint32_t i = 0; i < o->nr_segs; i++)
		elf_obj_offset_to_vaddr(o, o->segs[i].offset + o->segs[i].filesz / 2, &vaddr);
	for (uint32_t i = 0; i < o->nr_syms; i++) {
		const struct elf_sym *s = elf_obj_lookup(o, o->syms[i].addr);

		if (s)
			(void)elf_sym_name(o, s)[0];
	}
	for (uint32_t i = 0; i < o->nr_fdes; i++) {
		const struct eh_frame_fde *f = &o->fdes[i];

		if (f->start >= f->end || (i && f->start < o->fdes[i - 1].end) ||
		    elf_obj_fde(o, f->start) != f || elf_obj_fde(o, f->end - 1) != f)
			__builtin_trap();	/* sorted, disjoint, each found */
	}
	if (!debuginfo_minidebug(o, &mini)) {
		elf_obj_merge_syms(o, mini);
		elf_obj_free(mini);
	}
	elf_obj_free(o);
	return 0;
}

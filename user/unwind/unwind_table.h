/*
 * Unwind tables: an object's call frame information (.eh_frame, and
 * .debug_frame where .eh_frame has no entry) read through libdw's CFI API and
 * reduced to the rows the BPF unwinder follows (struct st_urow): per address
 * range, how to find the CFA (rsp+off, rbp+off, PLT, stop, signal frame) and
 * where the caller's rbp was saved. Identical neighbours are merged; addresses
 * without CFI get ST_CFA_NONE rows. Built once per object, then immutable.
 * The file belongs to the profiled process: libdw and libelf bound every read.
 */
#ifndef UNWIND_TABLE_H
#define UNWIND_TABLE_H

#include <elfutils/libdw.h>
#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "sampletop.h"
#include "symbols/elf_syms.h"

struct unwind_table {
	struct st_urow *rows;	/* sorted by pc, no two neighbours alike */
	uint32_t nr_rows;
	uint32_t nr_unsupported;	/* CFI rows with a rule we cannot follow (ST_CFA_NONE) */
	struct st_ubucket *buckets;	/* rows of each 256-byte bucket from base */
	uint32_t nr_buckets;
	uint32_t base;		/* pc of bucket 0 (the first row's) */
	struct elf_seg *loads;	/* the executable PT_LOAD segments */
	uint32_t nr_loads;
	uint64_t build_ns;	/* time taken to build */
};

/* Builds the table of an ELF object. Returns 0 and *out (which may hold no
 * rows when the object has no CFI), or a negative errno: -ENOEXEC for a file
 * that is not a usable x86-64 ELF, -ERANGE for addresses beyond 4 GiB. */
int unwind_table_build(Elf *elf, struct unwind_table **out);
/* The same table made the old way, one libdw query per row (~1 us each):
 * for the tests and the bench, which compare the two. */
int unwind_table_build_libdw(Elf *elf, struct unwind_table **out);
/* Same from an open file (not closed), a file path (ours), or an image in
 * memory (the vdso). From a file, the rows come from the on-disk cache
 * (unwind_cache.h) when it holds them, and go into it when it did not. */
int unwind_table_build_fd(int fd, struct unwind_table **out);
int unwind_table_build_path(const char *path, struct unwind_table **out);
int unwind_table_build_mem(const void *image, size_t size, struct unwind_table **out);
void unwind_table_free(struct unwind_table *t);
/* Frees the rows and buckets, keeping their counts, base and segments (once
 * they are copied into the BPF maps). */
void unwind_table_drop_rows(struct unwind_table *t);

/* The row covering ELF virtual address vaddr, or NULL (before the first row). */
const struct st_urow *unwind_table_find(const struct unwind_table *t, uint64_t vaddr);

/* The bias (address - ELF vaddr) of an executable mapping at start whose file
 * offset is pgoff (elf_segs_offset_to_vaddr over the executable segments).
 * Returns 0, or -ENOENT when no executable segment holds it. */
int unwind_table_bias(const struct unwind_table *t, uint64_t start, uint64_t pgoff,
		      uint64_t *bias);

/* Bytes the table takes in the BPF maps (rows and buckets). */
static inline size_t unwind_table_bytes(const struct unwind_table *t)
{
	return (size_t)t->nr_rows * sizeof(struct st_urow) +
	       (size_t)t->nr_buckets * sizeof(struct st_ubucket);
}

/* The rule libdw gives for one address, reduced to a row (pc = vaddr).
 * Returns 0, or -ENOENT when no CFI covers vaddr. Exposed for the tests,
 * which compare it with the tables. */
int unwind_rule_at(Dwarf_CFI *cfi, uint64_t vaddr, struct st_urow *row, uint64_t *end);

#endif

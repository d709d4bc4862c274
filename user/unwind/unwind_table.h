/*
 * Unwind tables: an object's call frame information (.eh_frame, and
 * .debug_frame where .eh_frame has no entry) read through libdw's CFI API and
 * reduced to the rows the BPF unwinder follows (struct st_urow): per address
 * range, how to find the CFA (rsp+off, rbp+off, PLT, stop, signal frame) and
 * where the caller's rbp was saved. Identical neighbours are merged; addresses
 * without CFI get ST_CFA_NONE rows. Built once per object, then immutable.
 * The wide rows are then encoded as the BPF program reads them (4 bytes a
 * row, by 4 KiB page, rules in a table of their own: see struct st_ucrow).
 * The file belongs to the profiled process: libdw and libelf bound every read.
 */
#ifndef UNWIND_TABLE_H
#define UNWIND_TABLE_H

#include <elfutils/libdw.h>
#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sampletop.h"
#include "symbols/elf_syms.h"

struct unwind_table {
	struct st_urow *rows;	/* sorted by pc, no two neighbours alike; NULL once
				 * dropped (unwind_table_drop_rows) */
	uint32_t nr_rows;
	uint32_t nr_unsupported;	/* CFI rows with a rule we cannot follow (ST_CFA_NONE) */
	/* The encoding (kept while the table lives): */
	struct st_urule *rules;	/* the distinct rules of this table */
	uint32_t nr_rules;
	struct st_ucrow *crows;	/* by page; rule: index in rules */
	uint32_t nr_crows;
	struct st_upage *pages;	/* page p covers [base + p * ST_UNWIND_PAGE_SIZE, +1 page);
				 * first: index in crows */
	uint32_t nr_pages;
	uint32_t base;		/* ELF vaddr of page 0: the first row's pc, page-aligned */
	struct elf_seg *loads;	/* the executable PT_LOAD segments */
	uint32_t nr_loads;
	uint64_t build_ns;	/* time taken to build */
};

/* Builds the table of an ELF object. Returns 0 and *out (which may hold no
 * rows when the object has no CFI), or a negative errno: -ENOEXEC for a file
 * that is not a usable x86-64 ELF, -ERANGE for addresses beyond 4 GiB. */
int unwind_table_build(Elf *elf, struct unwind_table **out);
/* Same, through the on-disk cache (unwind_cache.h) when it is on: loaded
 * from it when it holds elf's build-id, else built and stored. */
int unwind_table_build_cached(Elf *elf, struct unwind_table **out);
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
/* Frees the wide rows (nr_rows stays), keeping the encoding, which is all
 * that the BPF maps and unwind_table_find need. */
void unwind_table_drop_rows(struct unwind_table *t);

/* Encodes t->rows (sorted, as the builder leaves them) into rules, crows and
 * pages, replacing any encoding t had. Called by unwind_table_build; for
 * the tests. Returns 0, or -E2BIG past ST_UNWIND_MAX_RULES rules. */
int unwind_table_encode(struct unwind_table *t);

/* The rule in force at ELF virtual address vaddr, searched in the encoding
 * as the BPF program does: *row gets it, its pc the address it starts at
 * (a page's start for a row the encoding repeats there). Returns false
 * outside the table (before its first row or past its last page). */
bool unwind_table_find(const struct unwind_table *t, uint64_t vaddr, struct st_urow *row);

/* The bias (address - ELF vaddr) of an executable mapping at start whose file
 * offset is pgoff (elf_segs_offset_to_vaddr over the executable segments).
 * Returns 0, or -ENOENT when no executable segment holds it. */
int unwind_table_bias(const struct unwind_table *t, uint64_t start, uint64_t pgoff,
		      uint64_t *bias);

/* Bytes the table takes in the BPF maps (rows and pages; rules are shared). */
static inline size_t unwind_table_bytes(const struct unwind_table *t)
{
	return (size_t)t->nr_crows * sizeof(struct st_ucrow) +
	       (size_t)t->nr_pages * sizeof(struct st_upage);
}

/* The rule libdw gives for one address, reduced to a row (pc = vaddr).
 * Returns 0, or -ENOENT when no CFI covers vaddr. Exposed for the tests,
 * which compare it with the tables. */
int unwind_rule_at(Dwarf_CFI *cfi, uint64_t vaddr, struct st_urow *row, uint64_t *end);

#endif

/*
 * Call frame information read straight from .eh_frame (or .debug_frame):
 * every CIE and FDE parsed, every FDE's CFA program run once, and each row
 * of the program reduced on the spot to the rule the BPF unwinder follows
 * (struct st_urow), with the same reduction as unwind_rule_at() applies to
 * libdw's answer, and libdw's semantics where they matter (the ABI's initial
 * register rules, a program error voiding the rows it reaches).
 *
 * The bytes belong to the profiled process: every read is bounds-checked
 * against the section, the work per FDE is bounded by its length, the
 * remember_state stack by CFI_MAX_STATES; a record that cannot be read
 * gives no rows (its addresses have no CFI), never a crash or a loop.
 */
#ifndef UNWIND_CFI_H
#define UNWIND_CFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Depth of DW_CFA_remember_state: compilers nest one or two. */
#define CFI_MAX_STATES 16
/* Most FDEs and rows read from one section (libclang-cpp, among the
 * largest objects, has ~1M rows): past them a hostile file only loses its
 * rows, it cannot make us allocate without bound. */
#define CFI_MAX_FDES (8u << 20)
#define CFI_MAX_ROWS (32u << 20)

/* One section of call frame information as found in the file. */
struct cfi_sec {
	const uint8_t *data;
	size_t size;
	uint64_t addr;		/* its ELF virtual address: the base of pc-relative pointers */
	uint64_t datarel;	/* base of data-relative pointers (.eh_frame_hdr), 0: none */
	bool is64;		/* ELFCLASS64: absolute pointers are 8 bytes, else 4 */
	bool debug_frame;	/* .debug_frame layout: CIE id ~0, CIE pointers from the start */
};

/* A rule from pc (an ELF virtual address) to the next row's pc. */
struct cfi_row {
	uint64_t pc;
	uint16_t cfa_off;
	uint8_t cfa_kind;	/* enum st_cfa_kind */
	int8_t rbp_off;
};

/* The rows of one FDE: [start, end), rows[first] is at start, neighbours
 * differ. end is clipped to the next FDE's start. */
struct cfi_fde {
	uint64_t start, end;
	uint32_t first, nr;
};

struct cfi_table {
	struct cfi_fde *fdes;	/* sorted by start, disjoint; NULL when none */
	uint32_t nr_fdes;
	struct cfi_row *rows;
	uint32_t nr_rows;
	uint32_t nr_unsupported;	/* program rows with a rule we cannot follow */
	uint32_t nr_bad;	/* records or programs that could not be read */
};

/* Parses sec into t (zeroed first; the caller frees it with
 * cfi_table_free()). Returns 0: records that cannot be read are counted in
 * nr_bad and give no rows, the rest stands. */
int cfi_parse(const struct cfi_sec *sec, struct cfi_table *t);
void cfi_table_free(struct cfi_table *t);

/* The FDE of t covering vaddr, or NULL. */
const struct cfi_fde *cfi_find(const struct cfi_table *t, uint64_t vaddr);

#endif

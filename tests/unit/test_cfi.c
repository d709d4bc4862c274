/* The .eh_frame parser (unwind/cfi.c) against libdw, the oracle: the table
 * unwind_table_build() makes from it must give, at EVERY address of the
 * executable sections of several real objects, the row unwind_rule_at()
 * makes from libdw's answer there (libdw's row covers [pc, end): the table
 * must state the same rule there and change nowhere inside it). Then the
 * table must equal the one the old libdw walk builds, row for row. Then
 * hand-made records: edge cases a hostile file may hold. */
#include "tap.h"
#include "unwind_rows.h"
#include "unwind/cfi.h"
#include "unwind/unwind_cache.h"
#include "unwind/unwind_table.h"

#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLAN 49

static char dir[] = "/tmp/test_cfi.XXXXXX";

static void skip_checks(int n, const char *why)
{
	while (n--)
		printf("ok %d - not run # SKIP %s\n", ++tap_n, why);
}

static const char *kind_name(int k)
{
	static const char *names[] = { "none", "rsp", "rbp", "plt", "stop", "signal" };

	return k >= 0 && k < 6 ? names[k] : "?";
}

static bool same_rule(const struct st_urow *a, const struct st_urow *b)
{
	return a->cfa_kind == b->cfa_kind && a->cfa_off == b->cfa_off && a->rbp_off == b->rbp_off;
}

/* Every address of every executable section of path: the table's row
 * against libdw's (.eh_frame first, then .debug_frame, as the old walk). */
static void compare_every_address(const char *path, const struct unwind_table *t,
				  const char *what)
{
	int fd = open(path, O_RDONLY);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Dwarf *dw = elf ? dwarf_begin_elf(elf, DWARF_C_READ, NULL) : NULL;
	Dwarf_CFI *eh = elf ? dwarf_getcfi_elf(elf) : NULL, *df = dw ? dwarf_getcfi(dw) : NULL;
	uint64_t checked = 0, rows = 0, bad = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while (elf && (scn = elf_nextscn(elf, scn))) {
		uint64_t lo, hi;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || !sh.sh_size)
			continue;
		lo = sh.sh_addr;
		hi = sh.sh_addr + sh.sh_size;
		for (uint64_t pc = lo; pc < hi;) {
			static const struct st_urow none = { .cfa_kind = ST_CFA_NONE };
			const struct st_urow *got = wide_find(t, pc), *next;
			struct st_urow want;
			uint64_t end = pc + 1;

			if (unwind_rule_at(eh, pc, &want, &end) && unwind_rule_at(df, pc, &want, &end))
				want = none;
			if (end > hi)
				end = hi;
			if (!got)
				got = &none;
			next = got != &none && got + 1 < t->rows + t->nr_rows ? got + 1 : NULL;
			rows++;
			checked += end - pc;
			if (!same_rule(got, &want) || (next && next->pc < end)) {
				if (bad++ < 5)
					printf("#   %s %#llx..%#llx: table %s+%u rbp %d (next row at %#llx), "
					       "libdw %s+%u rbp %d\n", what, (unsigned long long)pc,
					       (unsigned long long)end, kind_name(got->cfa_kind),
					       got->cfa_off, got->rbp_off,
					       next ? (unsigned long long)next->pc : 0ull,
					       kind_name(want.cfa_kind), want.cfa_off, want.rbp_off);
			}
			pc = end;
		}
	}
	CHECK(checked > 100 && bad == 0,
	      "%s: every one of %llu addresses (%llu libdw rows and gap bytes) agrees with libdw "
	      "(%llu differ)", what, (unsigned long long)checked, (unsigned long long)rows,
	      (unsigned long long)bad);
	if (eh)
		dwarf_cfi_end(eh);
	if (dw)
		dwarf_end(dw);
	elf_end(elf);
	close(fd);
}

/* The libdw walk's table of the same object: equal, row for row. Its count
 * of unsupported rules may be higher: it counts every libdw row, where the
 * parser counts rows once identical neighbours in an FDE are merged (a
 * change to a register the unwinder does not track makes a libdw row). */
static void compare_with_walk(const char *path, const struct unwind_table *t, const char *what)
{
	int fd = open(path, O_RDONLY);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	struct unwind_table *old = NULL;
	uint32_t first = UINT32_MAX;

	if (elf && !unwind_table_build_libdw(elf, &old)) {
		for (uint32_t i = 0; i < t->nr_rows && i < old->nr_rows && first == UINT32_MAX; i++)
			if (t->rows[i].pc != old->rows[i].pc || !same_rule(&t->rows[i], &old->rows[i]))
				first = i;
		printf("# %s: %u rows in %.1f ms (libdw walk: %u rows in %.1f ms, %.0fx)\n", what,
		       t->nr_rows, t->build_ns / 1e6, old->nr_rows, old->build_ns / 1e6,
		       t->build_ns ? (double)old->build_ns / t->build_ns : 0);
	}
	CHECK(old && old->nr_rows == t->nr_rows && first == UINT32_MAX && old->base == t->base &&
	      t->nr_unsupported <= old->nr_unsupported &&
	      (t->nr_unsupported == 0) == (old->nr_unsupported == 0) &&
	      old->nr_pages == t->nr_pages && old->nr_crows == t->nr_crows &&
	      old->nr_rules == t->nr_rules &&
	      !memcmp(old->pages, t->pages, t->nr_pages * sizeof(*t->pages)) &&
	      !memcmp(old->crows, t->crows, t->nr_crows * sizeof(*t->crows)) &&
	      !memcmp(old->rules, t->rules, t->nr_rules * sizeof(*t->rules)),
	      "%s: the same %u rows, encoding and %u unsupported as the libdw walk (first "
	      "difference: row %d; %u unsupported)", what, old ? old->nr_rows : 0,
	      old ? old->nr_unsupported : 0, first == UINT32_MAX ? -1 : (int)first, t->nr_unsupported);
	unwind_table_free(old);
	elf_end(elf);
	close(fd);
}

static void test_object(const char *path, const char *what, bool walk)
{
	struct unwind_table *t = NULL;
	int err;

	if (access(path, R_OK)) {
		char why[256];

		snprintf(why, sizeof(why), "%s not found", path);
		skip_checks(walk ? 3 : 2, why);
		return;
	}
	err = unwind_table_build_path(path, &t);
	CHECK(!err && t && t->nr_rows > 10, "%s: table built, %u rows in %.1f ms",
	      what, t ? t->nr_rows : 0, t ? t->build_ns / 1e6 : 0);
	if (err)
		return;
	compare_every_address(path, t, what);
	if (walk)
		compare_with_walk(path, t, what);
	unwind_table_free(t);
}

static int build_fixture(const char *name, const char *flags, char *path, size_t size)
{
	static const char src[] =
		"#include <alloca.h>\n#include <stdio.h>\n"
		"#ifdef __cplusplus\n#include <stdexcept>\n#define THROW throw std::runtime_error(\"x\")\n"
		"#define TRY try\n#define CATCH catch (...)\n#else\n#define THROW return\n"
		"#define TRY if (1)\n#define CATCH else\n#endif\n"
		"volatile unsigned long sink;\n"
		"__attribute__((noinline)) void leaf(unsigned long n)\n"
		"{ for (unsigned long i = 0; i < n; i++) sink += i; }\n"
		"__attribute__((noinline)) void with_alloca(int n)\n"
		"{ char *p = (char *)alloca(n); p[0] = 1; leaf(p[0]); sink += p[n - 1]; }\n"
		"__attribute__((noinline)) void thrower(int n) { if (n > 5) THROW; leaf(n); }\n"
		"int main(int argc, char **argv)\n"
		"{ TRY { thrower(argc); with_alloca(argc + 16); } CATCH { return 1; }\n"
		"  puts(argv[0]); return 0; }\n";
	char file[256], cmd[1024];
	FILE *f;

	snprintf(file, sizeof(file), "%s/fixture.cc", dir);
	f = fopen(file, "w");
	if (!f)
		return -1;
	fputs(src, f);
	fclose(f);
	snprintf(path, size, "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd), "g++ %s -o %s %s", flags, path, file);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_fixture(const char *name, const char *flags)
{
	char path[512], what[160];

	snprintf(what, sizeof(what), "fixture (%s)", flags);
	if (build_fixture(name, flags, path, sizeof(path))) {
		printf("Bail out! g++ cannot build the fixture (%s)\n", flags);
		exit(1);
	}
	test_object(path, what, true);
}

/* ---- hand-made records ---- */

/* A buffer of bytes to assemble records in. */
struct asm_buf {
	uint8_t b[512];
	size_t n;
};

static void put(struct asm_buf *a, const void *p, size_t n)
{
	if (n)
		memcpy(a->b + a->n, p, n);
	a->n += n;
}

static void put8(struct asm_buf *a, uint8_t v)
{
	put(a, &v, 1);
}

static void put32(struct asm_buf *a, uint32_t v)
{
	put(a, &v, 4);
}

/* A CIE with augmentation "zR" (pc-relative sdata4 FDE pointers), code
 * alignment 1, data alignment -8, return address rip, and the usual
 * initial rules: CFA = rsp + 8, rip at CFA - 8. extra: more initial
 * instructions. Returns its offset. */
static size_t put_cie(struct asm_buf *a, const char *aug, const uint8_t *extra, size_t n_extra)
{
	size_t at = a->n, len_at;
	static const uint8_t init[] = { DW_CFA_def_cfa, 7, 8, DW_CFA_offset + 16, 1 };

	len_at = a->n;
	put32(a, 0);		/* length, patched */
	put32(a, 0);		/* CIE id */
	put8(a, 1);		/* version */
	put(a, aug, strlen(aug) + 1);
	put8(a, 1);		/* code alignment */
	put8(a, 0x78);		/* data alignment -8 */
	put8(a, 16);		/* return address register */
	if (aug[0] == 'z') {
		put8(a, strchr(aug, 'R') ? 1 : 0);
		if (strchr(aug, 'R'))
			put8(a, DW_EH_PE_pcrel | DW_EH_PE_sdata4);
	}
	put(a, init, sizeof(init));
	put(a, extra, n_extra);
	while ((a->n - len_at) % 8 != 4)	/* padding */
		put8(a, DW_CFA_nop);
	{
		uint32_t len = a->n - len_at - 4;

		memcpy(a->b + len_at, &len, 4);
	}
	return at;
}

/* An FDE of the CIE at cie for [pc, pc + range), section at address addr. */
static void put_fde(struct asm_buf *a, size_t cie, uint64_t addr, uint32_t pc, uint32_t range,
		    const uint8_t *prog, size_t n)
{
	size_t len_at = a->n;
	uint32_t len;

	put32(a, 0);
	put32(a, a->n - cie);	/* CIE pointer: back to the CIE */
	put32(a, (uint32_t)(pc - (addr + a->n)));	/* pc-relative */
	put32(a, range);
	put8(a, 0);		/* augmentation data length */
	put(a, prog, n);
	len = a->n - len_at - 4;
	memcpy(a->b + len_at, &len, 4);
}

#define SEC_ADDR 0x1000
#define FN 0x2000

static const struct cfi_row *row_at(const struct cfi_table *t, uint64_t pc)
{
	const struct cfi_fde *f = cfi_find(t, pc);
	const struct cfi_row *r;

	if (!f)
		return NULL;
	r = &t->rows[f->first];
	for (uint32_t i = 1; i < f->nr && t->rows[f->first + i].pc <= pc; i++)
		r = &t->rows[f->first + i];
	return r;
}

static void parse_one(const uint8_t *prog, size_t n, const char *aug, struct cfi_table *t)
{
	struct asm_buf a = { .n = 0 };
	struct cfi_sec sec = { .addr = SEC_ADDR, .is64 = true };
	size_t cie = put_cie(&a, aug, NULL, 0);

	put_fde(&a, cie, SEC_ADDR, FN, 0x40, prog, n);
	put32(&a, 0);		/* terminator */
	sec.data = a.b;
	sec.size = a.n;
	cfi_parse(&sec, t);
}

static void test_records(void)
{
	struct cfi_table t;
	const struct cfi_row *r;

	{	/* push rbp; mov rsp, rbp; ...; leave; ret */
		static const uint8_t p[] = { DW_CFA_advance_loc + 1, DW_CFA_def_cfa_offset, 16,
					     DW_CFA_offset + 6, 2, DW_CFA_advance_loc + 3,
					     DW_CFA_def_cfa_register, 6, DW_CFA_advance_loc + 10,
					     DW_CFA_def_cfa, 7, 8 };

		parse_one(p, sizeof(p), "zR", &t);
		r = row_at(&t, FN);
		CHECK(t.nr_fdes == 1 && r && r->cfa_kind == ST_CFA_RSP && r->cfa_off == 8,
		      "frame-pointer prologue: rsp+8 at entry");
		r = row_at(&t, FN + 1);
		CHECK(r && r->cfa_kind == ST_CFA_RSP && r->cfa_off == 16 && r->rbp_off == -2,
		      "after push rbp: rsp+16, rbp at CFA-16");
		r = row_at(&t, FN + 4);
		CHECK(r && r->cfa_kind == ST_CFA_RBP && r->cfa_off == 16 && r->rbp_off == -2,
		      "after mov rsp, rbp: rbp+16");
		r = row_at(&t, FN + 14);
		CHECK(r && r->cfa_kind == ST_CFA_RSP && r->cfa_off == 8 && r->rbp_off == -2 &&
		      !cfi_find(&t, FN + 0x40) && t.nr_bad == 0,
		      "after leave: rsp+8 to the FDE's end, nothing past it");
		cfi_table_free(&t);
	}
	{	/* remember/restore state around an epilogue */
		static const uint8_t p[] = { DW_CFA_advance_loc + 1, DW_CFA_def_cfa_offset, 32,
					     DW_CFA_remember_state, DW_CFA_advance_loc + 2,
					     DW_CFA_def_cfa_offset, 8, DW_CFA_advance_loc + 1,
					     DW_CFA_restore_state };

		parse_one(p, sizeof(p), "zR", &t);
		r = row_at(&t, FN + 3);
		CHECK(r && r->cfa_kind == ST_CFA_RSP && r->cfa_off == 8, "remembered state changed");
		r = row_at(&t, FN + 4);
		CHECK(r && r->cfa_kind == ST_CFA_RSP && r->cfa_off == 32, "restore_state brings it back");
		cfi_table_free(&t);
	}
	{	/* restore_state without remember: libdw fails from there on */
		static const uint8_t p[] = { DW_CFA_advance_loc + 4, DW_CFA_restore_state,
					     DW_CFA_advance_loc + 4, DW_CFA_def_cfa_offset, 16 };

		parse_one(p, sizeof(p), "zR", &t);
		CHECK(row_at(&t, FN) && !row_at(&t, FN + 4) && t.nr_bad == 1,
		      "a bad instruction voids the rows it reaches, not those before");
		cfi_table_free(&t);
	}
	{	/* undefined rip: the outermost frame */
		static const uint8_t p[] = { DW_CFA_undefined, 16 };

		parse_one(p, sizeof(p), "zR", &t);
		r = row_at(&t, FN);
		CHECK(r && r->cfa_kind == ST_CFA_STOP, "undefined return address: stop");
		cfi_table_free(&t);
	}
	{	/* signal frame */
		parse_one(NULL, 0, "zRS", &t);
		r = row_at(&t, FN);
		CHECK(r && r->cfa_kind == ST_CFA_SIGNAL, "'S' augmentation: signal frame");
		cfi_table_free(&t);
	}
	{	/* the .plt expression, and another expression */
		static const uint8_t plt[] = { DW_CFA_def_cfa_expression, 11, DW_OP_breg7, 8,
					       DW_OP_breg16, 0, DW_OP_lit15, DW_OP_and,
					       DW_OP_lit11, DW_OP_ge, DW_OP_lit3, DW_OP_shl,
					       DW_OP_plus };
		static const uint8_t other[] = { DW_CFA_def_cfa_expression, 3, DW_OP_breg7, 8,
						 DW_OP_deref };

		parse_one(plt, sizeof(plt), "zR", &t);
		r = row_at(&t, FN);
		CHECK(r && r->cfa_kind == ST_CFA_PLT && r->cfa_off == 11, "PLT expression: plt 11");
		cfi_table_free(&t);
		parse_one(other, sizeof(other), "zR", &t);
		r = row_at(&t, FN);
		CHECK(r && r->cfa_kind == ST_CFA_NONE && t.nr_unsupported == 1,
		      "another CFA expression: unsupported, counted");
		cfi_table_free(&t);
	}
	{	/* rules the unwinder cannot follow */
		static const uint8_t far[] = { DW_CFA_offset + 6, 0xc8, 0x01 };	/* rbp at CFA-1600 */
		static const uint8_t reg[] = { DW_CFA_register, 6, 3 };
		static const uint8_t big[] = { DW_CFA_def_cfa_offset, 0x80, 0x80, 0x04 };
		static const uint8_t neg[] = { DW_CFA_def_cfa_sf, 7, 2 };	/* rsp - 16 */

		parse_one(far, sizeof(far), "zR", &t);
		r = row_at(&t, FN);
		CHECK(r && r->cfa_kind == ST_CFA_NONE, "rbp saved beyond 128 slots: none");
		cfi_table_free(&t);
		parse_one(reg, sizeof(reg), "zR", &t);
		r = row_at(&t, FN);
		CHECK(r && r->cfa_kind == ST_CFA_NONE, "rbp in another register: none");
		cfi_table_free(&t);
		parse_one(big, sizeof(big), "zR", &t);
		r = row_at(&t, FN);
		CHECK(r && r->cfa_kind == ST_CFA_NONE, "CFA offset beyond 16 bits: none");
		cfi_table_free(&t);
		parse_one(neg, sizeof(neg), "zR", &t);
		r = row_at(&t, FN);
		CHECK(r && r->cfa_kind == ST_CFA_NONE, "negative CFA offset: none");
		cfi_table_free(&t);
	}
	{	/* remember_state nested past the bound: an error, no overflow */
		uint8_t p[CFI_MAX_STATES + 3];

		memset(p, DW_CFA_remember_state, sizeof(p));
		p[0] = DW_CFA_advance_loc + 2;
		parse_one(p, sizeof(p), "zR", &t);
		CHECK(row_at(&t, FN) && !row_at(&t, FN + 2) && t.nr_bad == 1,
		      "remember_state deeper than %d: an error after the first row", CFI_MAX_STATES);
		cfi_table_free(&t);
	}
	{	/* truncated operand, unknown opcode */
		static const uint8_t trunc[] = { DW_CFA_def_cfa_offset, 0x80 };
		static const uint8_t unknown[] = { 0x3c };

		parse_one(trunc, sizeof(trunc), "zR", &t);
		CHECK(!row_at(&t, FN) && t.nr_bad == 1, "truncated operand: no rows, counted");
		cfi_table_free(&t);
		parse_one(unknown, sizeof(unknown), "zR", &t);
		CHECK(!row_at(&t, FN) && t.nr_bad == 1, "unknown opcode: no rows, counted");
		cfi_table_free(&t);
	}
	{	/* record lengths that lie */
		struct asm_buf a = { .n = 0 };
		struct cfi_sec sec = { .addr = SEC_ADDR, .is64 = true };
		size_t cie = put_cie(&a, "zR", NULL, 0);
		uint32_t huge = 0xfffffff0;

		put_fde(&a, cie, SEC_ADDR, FN, 0x40, NULL, 0);
		memcpy(a.b + cie, &huge, 4);	/* the CIE's length runs off the end */
		sec.data = a.b;
		sec.size = a.n;
		cfi_parse(&sec, &t);
		CHECK(t.nr_fdes == 0, "a record longer than the section ends the walk");
		cfi_table_free(&t);
	}
	{	/* an FDE whose CIE pointer points before the section, or at itself */
		struct asm_buf a = { .n = 0 };
		struct cfi_sec sec = { .addr = SEC_ADDR, .is64 = true };
		size_t cie = put_cie(&a, "zR", NULL, 0), fde = a.n;
		uint32_t bad = 0x7fffffff;

		put_fde(&a, cie, SEC_ADDR, FN, 0x40, NULL, 0);
		memcpy(a.b + fde + 4, &bad, 4);
		sec.data = a.b;
		sec.size = a.n;
		cfi_parse(&sec, &t);
		CHECK(t.nr_fdes == 0 && t.nr_bad == 1, "a CIE pointer out of the section: skipped");
		cfi_table_free(&t);
	}
	{	/* a CIE initial program with an advance: libdw's error, its FDEs unused */
		static const uint8_t adv[] = { DW_CFA_advance_loc + 1 };
		struct asm_buf a = { .n = 0 };
		struct cfi_sec sec = { .addr = SEC_ADDR, .is64 = true };
		size_t cie = put_cie(&a, "zR", adv, sizeof(adv));

		put_fde(&a, cie, SEC_ADDR, FN, 0x40, NULL, 0);
		sec.data = a.b;
		sec.size = a.n;
		cfi_parse(&sec, &t);
		CHECK(t.nr_fdes == 0 && t.nr_bad == 2, "advance in a CIE: CIE and FDE rejected");
		cfi_table_free(&t);
	}
	{	/* overlapping FDEs: the later start wins from there on */
		static const uint8_t p2[] = { DW_CFA_def_cfa_offset, 24 };
		struct asm_buf a = { .n = 0 };
		struct cfi_sec sec = { .addr = SEC_ADDR, .is64 = true };
		size_t cie = put_cie(&a, "zR", NULL, 0);

		put_fde(&a, cie, SEC_ADDR, FN + 0x10, 0x40, p2, sizeof(p2));
		put_fde(&a, cie, SEC_ADDR, FN, 0x40, NULL, 0);
		sec.data = a.b;
		sec.size = a.n;
		cfi_parse(&sec, &t);
		r = row_at(&t, FN + 0x8);
		CHECK(t.nr_fdes == 2 && r && r->cfa_off == 8 && (r = row_at(&t, FN + 0x18)) &&
		      r->cfa_off == 24 && t.fdes[0].end == FN + 0x10,
		      "overlapping FDEs: sorted, the first clipped at the second");
		cfi_table_free(&t);
	}
}

/* An object without section headers (as some packers and sstrip leave
 * them): .eh_frame found through PT_GNU_EH_FRAME, the executable segment
 * walked instead of the sections. Every row of the full table inside its
 * segment must be stated the same by this one at its first and last byte. */
static void test_no_section_headers(const char *path)
{
	struct unwind_table *full = NULL, *bare = NULL;
	uint64_t checked = 0, bad = 0;
	Elf64_Ehdr *eh;
	char *img = NULL;
	long size = 0;
	FILE *f = fopen(path, "rb");

	if (f && !fseek(f, 0, SEEK_END) && (size = ftell(f)) > (long)sizeof(*eh) && !fseek(f, 0, SEEK_SET)) {
		img = malloc(size);
		if (fread(img, 1, size, f) != (size_t)size)
			size = 0;
	}
	if (f)
		fclose(f);
	if (!img || !size || unwind_table_build_path(path, &full)) {
		skip_checks(2, "cannot read the object");
		free(img);
		return;
	}
	eh = (Elf64_Ehdr *)img;
	eh->e_shoff = 0;
	eh->e_shnum = 0;
	eh->e_shstrndx = 0;
	CHECK(!unwind_table_build_mem(img, size, &bare) && bare->nr_rows > full->nr_rows / 2,
	      "%s without section headers: table built through PT_GNU_EH_FRAME, %u rows", path,
	      bare ? bare->nr_rows : 0);
	for (uint32_t i = 0; bare && i + 1 < full->nr_rows; i++) {
		const struct st_urow *r = &full->rows[i], *a, *b;

		if (r->cfa_kind == ST_CFA_NONE)	/* section gaps differ from segment gaps */
			continue;
		a = wide_find(bare, r->pc);
		b = wide_find(bare, full->rows[i + 1].pc - 1);
		checked++;
		if (!a || !b || !same_rule(a, r) || !same_rule(b, r))
			bad++;
	}
	CHECK(checked > 1000 && bad == 0,
	      "%s without section headers: %llu rows the same (%llu differ)", path,
	      (unsigned long long)checked, (unsigned long long)bad);
	unwind_table_free(full);
	unwind_table_free(bare);
	free(img);
}

int main(void)
{
	char cmd[300];

	elf_version(EV_CURRENT);
	unwind_cache_configure(NULL, 0);	/* tables as built, not the machine's cache */
	printf("1..%d\n", PLAN);
	if (!mkdtemp(dir)) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	test_records();
	test_fixture("plain", "-O2 -g");
	test_fixture("fp", "-O2 -fno-omit-frame-pointer");
	/* .debug_frame only: the same parser, CIE id ~0, absolute pointers */
	test_fixture("debugframe", "-O1 -g -fno-asynchronous-unwind-tables -fno-unwind-tables "
				   "-fno-exceptions -x c");
	/* the same, its .debug_frame compressed (SHF_COMPRESSED) */
	test_fixture("debugframe_gz", "-O1 -g -gz=zlib -fno-asynchronous-unwind-tables "
				      "-fno-unwind-tables -fno-exceptions -x c");
	test_object("/lib/x86_64-linux-gnu/libc.so.6", "libc.so.6", true);
	test_object("/lib64/ld-linux-x86-64.so.2", "ld-linux-x86-64.so.2", true);
	test_object("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "libstdc++.so.6", true);
	test_no_section_headers("/lib/x86_64-linux-gnu/libc.so.6");
	test_object("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "cc1", false);
	test_object("/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1", "libLLVM-14", false);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# cannot remove %s\n", dir);
	return tap_done();
}

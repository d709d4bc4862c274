/* The unwind table builder against libdw itself: on binaries this test
 * builds (known shapes) and on Debian's libc, every address's row must say
 * what libdw's CFI says, with neighbours merged and gaps marked. libdw's
 * answer is read here from its own calls (dwarf_frame_cfa,
 * dwarf_frame_register), not through unwind_rule_at(), which is under test. */
#include "symbols/elf_syms.h"
#include "tap.h"
#include "unwind_rows.h"
#include "unwind/unwind_table.h"
#include "unwind/unwind_cache.h"

#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define PLAN 54			/* checks main() runs, skipped ones included */
#define REG_RBP 6		/* DWARF register numbers, x86-64 */
#define REG_RSP 7
#define REG_RIP 16

/* n checks that cannot run here, as TAP skips. */
static void skip_checks(int n, const char *why)
{
	while (n--)
		printf("ok %d - not run # SKIP %s\n", ++tap_n, why);
}

static const char fixture_src[] =
	"#include <alloca.h>\n"
	"#include <stdio.h>\n"
	"volatile unsigned long sink;\n"
	"__attribute__((noinline)) void frameless(unsigned long n)\n"
	"{ for (unsigned long i = 0; i < n; i++) sink += i; }\n"
	"__attribute__((noinline, optimize(\"no-omit-frame-pointer\"))) void with_fp(int n)\n"
	"{ frameless(n); sink++; }\n"
	"__attribute__((noinline)) void with_alloca(int n)\n"
	"{ char *p = alloca(n); p[0] = 1; frameless(p[0]); sink += p[n - 1]; }\n"
	"__attribute__((noinline)) void big_frame(int n)\n"
	"{ volatile char buf[4000]; buf[n] = 1; frameless(buf[n]); sink += buf[0]; }\n"
	"int main(int argc, char **argv)\n"
	"{ with_fp(argc); with_alloca(argc + 16); big_frame(argc); puts(argv[0]); return 0; }\n";

static char dir[] = "/tmp/test_unwind_table.XXXXXX";

static int build_fixture(const char *name, const char *flags, char *path, size_t size)
{
	char src[256], cmd[1024];
	FILE *f;

	snprintf(src, sizeof(src), "%s/fixture.c", dir);
	f = fopen(src, "w");
	if (!f)
		return -1;
	fputs(fixture_src, f);
	fclose(f);
	snprintf(path, size, "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd), "gcc %s -o %s %s", flags, path, src);
	return system(cmd) == 0 ? 0 : -1;
}

static uint64_t sym_addr(const struct elf_obj *o, const char *name)
{
	for (uint32_t i = 0; i < o->nr_syms; i++)
		if (!strcmp(elf_sym_name(o, &o->syms[i]), name))
			return o->syms[i].addr;
	return 0;
}

static bool same(const struct st_urow *a, const struct st_urow *b)
{
	return a->cfa_kind == b->cfa_kind && a->cfa_off == b->cfa_off && a->rbp_off == b->rbp_off;
}

/* libdw says reg is saved at CFA + off: DW_OP_call_frame_cfa, then
 * DW_OP_plus_uconst off (a negative off wrapped) unless off is 0. */
static bool saved_at(Dwarf_Frame *f, int reg, int64_t off)
{
	Dwarf_Op mem[3], *ops;
	size_t n;

	if (dwarf_frame_register(f, reg, mem, &ops, &n) || n < 1 ||
	    ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (n == 1)
		return off == 0;
	return n == 2 && ops[1].atom == DW_OP_plus_uconst && (int64_t)ops[1].number == off;
}

/* libdw says reg keeps its value (same value) or is lost (undefined, when
 * undefined_only): nothing to restore either way. */
static bool not_saved(Dwarf_Frame *f, int reg, bool undefined_only)
{
	Dwarf_Op mem[3], *ops;
	size_t n;

	return !dwarf_frame_register(f, reg, mem, &ops, &n) && n == 0 &&
	       (!undefined_only || ops == mem);
}

/* libdw's CFA expression is one DW_OP_bregx (or DW_OP_bregN): reg + off. */
static bool cfa_reg(Dwarf_Frame *f, int *reg, int64_t *off)
{
	Dwarf_Op *ops;
	size_t n;

	if (dwarf_frame_cfa(f, &ops, &n) || n != 1)
		return false;
	if (ops[0].atom == DW_OP_bregx) {
		*reg = ops[0].number;
		*off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		*reg = ops[0].atom - DW_OP_breg0;
		*off = (int64_t)ops[0].number;
	} else {
		return false;
	}
	return true;
}

/* libdw's CFA expression is the linker's for .plt entries,
 * rsp + 8 + (((rip & 15) >= k) << 3): returns k, or -1. */
static int cfa_plt(Dwarf_Frame *f)
{
	static const struct { uint8_t atom; uint64_t number; } plt[9] = {
		{ DW_OP_breg7, 8 }, { DW_OP_breg16, 0 }, { DW_OP_lit15, 0 }, { DW_OP_and, 0 },
		{ 0, 0 } /* DW_OP_lit<k> */, { DW_OP_ge, 0 }, { DW_OP_lit3, 0 }, { DW_OP_shl, 0 },
		{ DW_OP_plus, 0 } };
	Dwarf_Op *ops;
	size_t n;

	if (dwarf_frame_cfa(f, &ops, &n) || n != 9)
		return -1;
	for (int i = 0; i < 9; i++)
		if (i != 4 && (ops[i].atom != plt[i].atom || ops[i].number != plt[i].number))
			return -1;
	return ops[4].atom >= DW_OP_lit0 && ops[4].atom <= DW_OP_lit31 ? ops[4].atom - DW_OP_lit0 : -1;
}

static bool row_says_libdw(Dwarf_Frame *f, const struct st_urow *row);

/* Whether a row other than ST_CFA_NONE could state libdw's rule at f (one
 * the BPF unwinder follows): if so, a NONE row there loses a frame. */
static bool followable(Dwarf_Frame *f)
{
	struct st_urow r = { .cfa_kind = ST_CFA_SIGNAL };
	Dwarf_Op mem[3], *ops;
	int64_t off = 0;
	size_t n;
	int reg, k;

	if (row_says_libdw(f, &r))
		return true;
	r.cfa_kind = ST_CFA_STOP;
	if (row_says_libdw(f, &r))
		return true;
	if ((k = cfa_plt(f)) >= 0) {
		r.cfa_kind = ST_CFA_PLT;
		r.cfa_off = k;
	} else if (cfa_reg(f, &reg, &off) && (reg == REG_RSP || reg == REG_RBP) && off >= 0 &&
		   off <= UINT16_MAX) {
		r.cfa_kind = reg == REG_RSP ? ST_CFA_RSP : ST_CFA_RBP;
		r.cfa_off = off;
	} else {
		return false;
	}
	/* Where the caller's rbp is: kept, or a multiple of 8 below the CFA. */
	if (dwarf_frame_register(f, REG_RBP, mem, &ops, &n))
		return false;
	off = n == 2 && ops[1].atom == DW_OP_plus_uconst ? (int64_t)ops[1].number : 0;
	if (off < 0 && off % 8 == 0 && off >= -128 * 8)
		r.rbp_off = off / 8;
	return row_says_libdw(f, &r);
}

/* Whether row states the rule libdw gives in f. */
static bool row_says_libdw(Dwarf_Frame *f, const struct st_urow *row)
{
	Dwarf_Addr start, end;
	bool signal = false;
	int ra = dwarf_frame_info(f, &start, &end, &signal), reg = -1;
	int64_t off = -1;

	if (ra < 0)
		return row->cfa_kind == ST_CFA_NONE;
	switch (row->cfa_kind) {
	case ST_CFA_NONE:
		return !followable(f);
	case ST_CFA_SIGNAL:
		return signal;
	case ST_CFA_STOP:
		return !signal && not_saved(f, ra, true);
	case ST_CFA_RSP:
	case ST_CFA_RBP:
	case ST_CFA_PLT:
		if (signal || ra != REG_RIP || !saved_at(f, REG_RIP, -8))
			return false;
		if (row->cfa_kind == ST_CFA_PLT ? cfa_plt(f) != row->cfa_off
						: !cfa_reg(f, &reg, &off) || off != row->cfa_off ||
						  reg != (row->cfa_kind == ST_CFA_RSP ? REG_RSP : REG_RBP))
			return false;
		return row->rbp_off ? saved_at(f, REG_RBP, 8 * row->rbp_off)
				    : not_saved(f, REG_RBP, false);
	}
	return false;
}

/* Every step-th address of [lo, hi): the table's row against libdw's rule
 * there (no CFI at all: a NONE row). */
static void compare_with_libdw(const char *path, const struct unwind_table *t, uint64_t lo,
			       uint64_t hi, uint64_t step, const char *what)
{
	int fd = open(path, O_RDONLY);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Dwarf_CFI *cfi = elf ? dwarf_getcfi_elf(elf) : NULL;
	uint64_t checked = 0, bad = 0, first_bad = 0;

	for (uint64_t pc = lo; cfi && pc < hi; pc += step) {
		static const struct st_urow none = { .cfa_kind = ST_CFA_NONE };
		struct st_urow row;
		const struct st_urow *got = unwind_table_find(t, pc, &row) ? &row : &none;
		Dwarf_Frame *f = NULL;
		bool agree;

		if (dwarf_cfi_addrframe(cfi, pc, &f) || !f)
			agree = got->cfa_kind == ST_CFA_NONE;
		else
			agree = row_says_libdw(f, got);
		free(f);
		checked++;
		if (!agree && !bad++)
			first_bad = pc;
	}
	CHECK(cfi && checked > 100 && bad == 0,
	      "%s: %llu addresses agree with libdw (%llu differ, first at %#llx)", what,
	      (unsigned long long)checked, (unsigned long long)bad, (unsigned long long)first_bad);
	if (cfi)
		dwarf_cfi_end(cfi);
	elf_end(elf);
	close(fd);
}

/* .text bounds, from the section headers. */
static int text_range(const char *path, uint64_t *lo, uint64_t *hi)
{
	int fd = open(path, O_RDONLY);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	int err = -ENOENT;

	if (elf && !elf_getshdrstrndx(elf, &shstrndx)) {
		while ((scn = elf_nextscn(elf, scn))) {
			const char *name;

			if (!gelf_getshdr(scn, &sh))
				continue;
			name = elf_strptr(elf, shstrndx, sh.sh_name);
			if (name && !strcmp(name, ".text")) {
				*lo = sh.sh_addr;
				*hi = sh.sh_addr + sh.sh_size;
				err = 0;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return err;
}

static void check_shape(const struct unwind_table *t, const char *what)
{
	bool sorted = true, merged = true, pages_ok = t->nr_pages > 0, agree = true;
	uint64_t first_bad = 0, end;

	for (uint32_t i = 1; i < t->nr_rows; i++) {
		if (t->rows[i].pc <= t->rows[i - 1].pc)
			sorted = false;
		if (same(&t->rows[i], &t->rows[i - 1]))
			merged = false;
	}
	CHECK(t->nr_rows > 0 && sorted, "%s: %u rows, sorted by pc", what, t->nr_rows);
	CHECK(merged, "%s: no two neighbouring rows alike", what);
	CHECK(unwind_table_bytes(t) == t->nr_crows * 4 + t->nr_pages * 8 &&
		      unwind_table_bytes(t) < (size_t)t->nr_rows * 5,
	      "%s: %zu bytes in the BPF maps, %.2f per row (4 per row, 8 per 4 KiB page)", what,
	      unwind_table_bytes(t), (double)unwind_table_bytes(t) / t->nr_rows);
	/* Pages: contiguous runs of rows, each starting at offset 0, offsets
	 * rising, rules within the table's. */
	for (uint32_t p = 0; pages_ok && p < t->nr_pages; p++) {
		const struct st_upage *pg = &t->pages[p];

		pages_ok = pg->nr >= 1 && pg->first + pg->nr <= t->nr_crows &&
			   (p == 0 ? pg->first == 0 : pg->first == t->pages[p - 1].first + t->pages[p - 1].nr) &&
			   t->crows[pg->first].off == 0;
		for (uint32_t i = pg->first; pages_ok && i < pg->first + pg->nr; i++)
			pages_ok = t->crows[i].rule < t->nr_rules && t->crows[i].off < ST_UNWIND_PAGE_SIZE &&
				   (i == pg->first || t->crows[i].off > t->crows[i - 1].off);
	}
	CHECK(pages_ok && t->base == (t->rows[0].pc & ~(ST_UNWIND_PAGE_SIZE - 1)),
	      "%s: %u pages of rows, each from offset 0, offsets rising (%u rules)", what,
	      t->nr_pages, t->nr_rules);
	/* The encoding says what the wide rows say, at every address. */
	end = t->rows[t->nr_rows - 1].pc + 64;
	for (uint64_t pc = t->base; agree && pc < end; pc++) {
		const struct st_urow *w = wide_find(t, pc);
		struct st_urow c;
		bool found = unwind_table_find(t, pc, &c);

		if (!w)
			agree = !found || c.cfa_kind == ST_CFA_NONE;
		else if (pc >= (uint64_t)t->base + ((uint64_t)t->nr_pages << ST_UNWIND_PAGE_SHIFT))
			agree = !found && w->cfa_kind == ST_CFA_NONE;
		else
			agree = found && same(w, &c) && c.pc <= pc && c.pc >= w->pc;
		if (!agree)
			first_bad = pc;
	}
	CHECK(agree, "%s: the encoded search agrees with the wide rows at every address (first bad %#llx)",
	      what, (unsigned long long)first_bad);
}

static void test_fixture(const char *name, const char *flags)
{
	char path[512], what[128];
	struct unwind_table *t = NULL;
	struct elf_obj *o = NULL;
	struct st_urow row;
	const struct st_urow *r;
	uint64_t lo = 0, hi = 0, a;
	int err;

	bool with_fp = strstr(flags, "-fno-omit-frame-pointer") != NULL;

	snprintf(what, sizeof(what), "fixture %s", flags);
	if (build_fixture(name, flags, path, sizeof(path))) {
		printf("Bail out! gcc cannot build the fixture (%s)\n", flags);
		exit(1);
	}
	err = unwind_table_build_path(path, &t);
	CHECK(err == 0 && t, "%s: table built (%d)", what, err);
	if (err || elf_obj_open(path, &o)) {
		unwind_table_free(t);
		return;
	}
	check_shape(t, what);
	text_range(path, &lo, &hi);	/* none: nothing compared, the check fails */
	compare_with_libdw(path, t, lo, hi, 1, what);

	a = sym_addr(o, "frameless");
	r = unwind_table_find(t, a, &row) ? &row : NULL;
	CHECK(a && r && r->cfa_kind == ST_CFA_RSP && r->cfa_off == 8 && r->rbp_off == 0,
	      "%s: frameless entry is CFA=rsp+8, rbp unchanged", what);

	a = sym_addr(o, "with_fp");
	r = NULL;
	for (uint64_t pc = a; a && pc < a + 16; pc++) {
		r = unwind_table_find(t, pc, &row) ? &row : NULL;
		if (r && r->cfa_kind == ST_CFA_RBP)
			break;
	}
	CHECK(r && r->cfa_kind == ST_CFA_RBP && r->cfa_off == 16 && r->rbp_off == -2,
	      "%s: with_fp after its prologue is CFA=rbp+16, rbp saved at CFA-16", what);

	a = sym_addr(o, "big_frame");
	r = NULL;
	for (uint64_t pc = a; a && pc < a + 32; pc++) {
		r = unwind_table_find(t, pc, &row) ? &row : NULL;
		if (r && ((r->cfa_kind == ST_CFA_RSP && r->cfa_off > 4000) ||
			  (with_fp && r->cfa_kind == ST_CFA_RBP)))
			break;
	}
	CHECK(r && (with_fp ? r->cfa_kind == ST_CFA_RBP && r->cfa_off == 16
			    : r->cfa_kind == ST_CFA_RSP && r->cfa_off > 4000),
	      "%s: big_frame's 4000-byte frame is CFA=%s+%u", what,
	      r && r->cfa_kind == ST_CFA_RBP ? "rbp" : "rsp", r ? r->cfa_off : 0);

	a = sym_addr(o, "_start");
	r = unwind_table_find(t, a + 4, &row) ? &row : NULL;
	CHECK(a && r && r->cfa_kind == ST_CFA_STOP, "%s: _start is the outermost frame", what);

	{
		bool plt = false;

		for (uint32_t i = 0; i < t->nr_rows; i++)
			plt |= t->rows[i].cfa_kind == ST_CFA_PLT && t->rows[i].cfa_off >= 10 &&
			       t->rows[i].cfa_off <= 11;
		CHECK(plt, "%s: the .plt has its PLT rule", what);
	}
	CHECK(t->nr_loads >= 1, "%s: executable segment read", what);
	if (t->nr_loads) {
		uint64_t bias = 0;
		const struct elf_seg *l = &t->loads[0];

		err = unwind_table_bias(t, 0x7f0000000000 + (l->offset & ~0xfffull),
					l->offset & ~0xfffull, &bias);
		CHECK(!err && bias == 0x7f0000000000 + l->offset - l->vaddr,
		      "%s: bias of the text mapping", what);
	}
	elf_obj_free(o);
	unwind_table_free(t);
}

static void test_libc(void)
{
	struct unwind_table *t = NULL;
	uint64_t lo, hi;
	uint32_t sig = 0;
	int err;

	if (access(LIBC, R_OK)) {
		skip_checks(9, LIBC " not found");
		return;
	}
	err = unwind_table_build_path(LIBC, &t);
	CHECK(!err && t && t->nr_rows > 10000, "libc: table built, %u rows", t ? t->nr_rows : 0);
	if (err)
		return;
	/* For the report: the cost of libc's table (not asserted, the CPU is shared). */
	printf("# libc: %u rows, %zu bytes, built in %.1f ms, %u rules not followed\n",
	       t->nr_rows, unwind_table_bytes(t), t->build_ns / 1e6, t->nr_unsupported);
	check_shape(t, "libc");
	lo = hi = 0;
	text_range(LIBC, &lo, &hi);
	compare_with_libdw(LIBC, t, lo, hi, 7, "libc");
	for (uint32_t i = 0; i < t->nr_rows; i++)
		sig += t->rows[i].cfa_kind == ST_CFA_SIGNAL;
	CHECK(sig >= 1, "libc: the signal trampoline (__restore_rt) is a signal frame");
	CHECK(t->nr_unsupported < t->nr_rows / 100, "libc: fewer than 1%% of rules unsupported (%u)",
	      t->nr_unsupported);
	unwind_table_free(t);
}

static void test_hostile(void)
{
	static const char junk[] = "\177ELF this is not an object at all, only its magic";
	struct unwind_table *t = NULL;
	char path[512], buf[8192];
	int fd, err;
	ssize_t n;

	CHECK(unwind_table_build_mem(junk, sizeof(junk), &t) == -ENOEXEC, "garbage: -ENOEXEC");
	CHECK(unwind_table_build_path("/nonexistent/x", &t) == -ENOENT, "missing file: -ENOENT");
	snprintf(path, sizeof(path), "%s/plain", dir);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		/* A truncated object: no crash; an error or a table without rows. */
		err = unwind_table_build_mem(buf, n, &t);
		CHECK(err < 0 || (t && t->nr_rows < 64), "truncated object: %d", err);
		if (!err)
			unwind_table_free(t);
	}
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
	test_fixture("plain", "-O2 -g");
	test_fixture("fp", "-O2 -fno-omit-frame-pointer");
	test_fixture("nopie", "-O1 -no-pie -fno-asynchronous-unwind-tables -funwind-tables");
	test_libc();
	test_hostile();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# cannot remove %s\n", dir);
	return tap_done();
}

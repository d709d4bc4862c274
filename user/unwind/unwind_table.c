/* An object's CFI (parsed by cfi.c; libdw for the oracle) reduced to the
 * compact rows the BPF unwinder follows. */
#include "unwind/unwind_table.h"
#include "unwind/cfi.h"
#include "unwind/unwind_cache.h"
#include "base/hashtab.h"
#include "base/rootfs.h"
#include "base/util.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* DWARF register numbers on x86-64. */
#define DW_REG_RBP 6
#define DW_REG_RSP 7
#define DW_REG_RIP 16

/* Addresses where a function may start: every FDE start (from the
 * .eh_frame_hdr search table) and every function symbol. After a gap the
 * walk resumes at the next one, so that padding is crossed in one step. */
struct starts {
	uint64_t *v;
	size_t nr, alloc;
};

static void starts_add(struct starts *s, uint64_t a)
{
	XGROW(s->v, s->alloc, s->nr + 1);
	s->v[s->nr++] = a;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The first start strictly above pc, or UINT64_MAX. */
static uint64_t starts_next(const struct starts *s, uint64_t pc)
{
	size_t lo = 0, hi = s->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid] <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nr ? s->v[lo] : UINT64_MAX;
}

static int32_t read_s32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The .eh_frame_hdr search table in the encoding every GNU and LLVM linker
 * writes (table: datarel sdata4 pairs). Other encodings are skipped: the
 * function symbols still give the walk its restarting points. */
static void starts_from_eh_frame_hdr(Elf_Scn *scn, const GElf_Shdr *sh, struct starts *s)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	const uint8_t *p;
	size_t size, ptr_size, off;
	uint32_t count;

	if (!d || !d->d_buf)
		return;
	p = d->d_buf;
	size = d->d_size;
	if (size < 4 || p[0] != 1 || p[2] != 0x03 /* udata4 */ || p[3] != 0x3b /* datarel sdata4 */)
		return;
	switch (p[1] & 0x0f) {	/* eh_frame_ptr encoding: only its size matters */
	case 0x03: case 0x0b: ptr_size = 4; break;
	case 0x04: case 0x0c: case 0x00: ptr_size = 8; break;
	default: return;
	}
	off = 4 + ptr_size;
	if (size < off + 4)
		return;
	memcpy(&count, p + off, sizeof(count));
	off += 4;
	if (count > (size - off) / 8)
		count = (size - off) / 8;
	for (uint32_t i = 0; i < count; i++, off += 8)
		starts_add(s, sh->sh_addr + (int64_t)read_s32(p + off));
}

static void starts_from_symbols(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, struct starts *s)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n;
	GElf_Sym sym;

	if (!d || !sh->sh_entsize)
		return;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getsym(d, i, &sym))
			break;
		if (GELF_ST_TYPE(sym.st_info) == STT_FUNC && sym.st_value && sym.st_shndx != SHN_UNDEF)
			starts_add(s, sym.st_value);
	}
}

/* The offset N of a register rule "saved at CFA + N". */
static bool cfa_offset(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
	if (nops < 1 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (nops == 1) {
		*off = 0;
		return true;
	}
	if (nops == 2 && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return true;
	}
	return false;
}

/* A CFA rule "register + offset": libdw gives it as DW_OP_bregx (reg, off),
 * a hand-written expression may use DW_OP_bregN off. */
static bool cfa_register(const Dwarf_Op *ops, size_t nops, int *reg, int64_t *off)
{
	if (nops != 1)
		return false;
	if (ops[0].atom == DW_OP_bregx) {
		if (ops[0].number > 127)
			return false;
		*reg = ops[0].number;
		*off = (int64_t)ops[0].number2;
		return true;
	}
	if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		*reg = ops[0].atom - DW_OP_breg0;
		*off = (int64_t)ops[0].number;
		return true;
	}
	return false;
}

/* The CFA expression the linker writes for .plt entries:
 * rsp + 8 + ((rip & 15) >= K) << 3. Returns K, or -1. */
static int plt_threshold(const Dwarf_Op *ops, size_t nops)
{
	static const uint8_t want[9] = { DW_OP_breg7, DW_OP_breg16, DW_OP_lit15, DW_OP_and, 0,
					 DW_OP_ge, DW_OP_lit3, DW_OP_shl, DW_OP_plus };

	if (nops != 9 || ops[0].number != 8 || ops[1].number != 0)
		return -1;
	for (int i = 0; i < 9; i++)
		if (i != 4 && ops[i].atom != want[i])
			return -1;
	if (ops[4].atom < DW_OP_lit0 || ops[4].atom > DW_OP_lit31)
		return -1;
	return ops[4].atom - DW_OP_lit0;
}

/* Fills row from frame; leaves ST_CFA_NONE for rules we cannot follow. */
static void row_from_frame(Dwarf_Frame *f, struct st_urow *row, uint64_t *end)
{
	Dwarf_Op mem[3], *ops;
	Dwarf_Addr start, stop;
	size_t nops;
	int64_t off;
	bool signal = false;
	int ra, k, reg;

	row->cfa_kind = ST_CFA_NONE;
	row->cfa_off = 0;
	row->rbp_off = 0;
	ra = dwarf_frame_info(f, &start, &stop, &signal);
	*end = stop;
	if (ra < 0)
		return;
	if (signal) {
		row->cfa_kind = ST_CFA_SIGNAL;
		return;
	}
	if (dwarf_frame_register(f, ra, mem, &ops, &nops))
		return;
	if (nops == 0 && ops == mem) {	/* return address undefined: outermost */
		row->cfa_kind = ST_CFA_STOP;
		return;
	}
	if (ra != DW_REG_RIP || !cfa_offset(ops, nops, &off) || off != -8)
		return;
	if (dwarf_frame_cfa(f, &ops, &nops) || nops == 0)
		return;
	if (cfa_register(ops, nops, &reg, &off) && (reg == DW_REG_RSP || reg == DW_REG_RBP)) {
		if (off < 0 || off > UINT16_MAX)
			return;
		row->cfa_off = off;
		row->cfa_kind = reg == DW_REG_RSP ? ST_CFA_RSP : ST_CFA_RBP;
	} else if ((k = plt_threshold(ops, nops)) >= 0) {
		row->cfa_off = k;
		row->cfa_kind = ST_CFA_PLT;
	} else {
		return;
	}
	if (dwarf_frame_register(f, DW_REG_RBP, mem, &ops, &nops)) {
		row->cfa_kind = ST_CFA_NONE;
		return;
	}
	if (nops == 0)		/* same value or undefined: leave rbp as it is */
		return;
	if (!cfa_offset(ops, nops, &off) || off % 8 || off / 8 < -128 || off >= 0) {
		row->cfa_kind = ST_CFA_NONE;
		return;
	}
	row->rbp_off = off / 8;
}

int unwind_rule_at(Dwarf_CFI *cfi, uint64_t vaddr, struct st_urow *row, uint64_t *end)
{
	Dwarf_Frame *f = NULL;

	if (!cfi || dwarf_cfi_addrframe(cfi, vaddr, &f) || !f)
		return -ENOENT;
	row->pc = vaddr;
	row_from_frame(f, row, end);
	free(f);
	if (*end <= vaddr)
		*end = vaddr + 1;
	return 0;
}

struct builder {
	struct unwind_table *t;
	size_t alloc;
};

static bool same_rule(const struct st_urow *a, const struct st_urow *b)
{
	return a->cfa_kind == b->cfa_kind && a->cfa_off == b->cfa_off && a->rbp_off == b->rbp_off;
}

static void emit(struct builder *b, const struct st_urow *r)
{
	struct unwind_table *t = b->t;

	if (t->nr_rows) {
		struct st_urow *last = &t->rows[t->nr_rows - 1];

		if (same_rule(last, r))
			return;
		if (last->pc >= r->pc) {	/* overlapping sections: the later one wins */
			*last = *r;
			return;
		}
	}
	XGROW(t->rows, b->alloc, t->nr_rows + 1);
	t->rows[t->nr_rows++] = *r;
}

/* Walks [lo, hi) of an executable section row by row. */
static void walk_section(struct builder *b, Dwarf_CFI *eh, Dwarf_CFI *df, const struct starts *s,
			 uint64_t lo, uint64_t hi)
{
	uint64_t pc = lo, end, next;
	struct st_urow r;

	while (pc < hi) {
		if (!unwind_rule_at(eh, pc, &r, &end) || !unwind_rule_at(df, pc, &r, &end)) {
			if (r.cfa_kind == ST_CFA_NONE)
				b->t->nr_unsupported++;
			emit(b, &r);
			pc = end;
			continue;
		}
		r = (struct st_urow){ .pc = pc, .cfa_kind = ST_CFA_NONE };
		emit(b, &r);
		next = starts_next(s, pc);
		pc = next < hi ? next : hi;
	}
	r = (struct st_urow){ .pc = hi, .cfa_kind = ST_CFA_NONE };
	emit(b, &r);
}

static uint32_t rule_key(const struct st_urow *r)
{
	return (uint32_t)r->cfa_off | (uint32_t)r->cfa_kind << 16 | (uint32_t)(uint8_t)r->rbp_off << 24;
}

/* The index of r's rule in t->rules, added when new. */
static int rule_index(struct unwind_table *t, struct u64map *seen, size_t *alloc,
		      const struct st_urow *r)
{
	uint32_t idx;

	if (u64map_get(seen, rule_key(r), &idx))
		return idx;
	if (t->nr_rules >= ST_UNWIND_MAX_RULES)
		return -E2BIG;
	XGROW(t->rules, *alloc, t->nr_rules + 1);
	t->rules[t->nr_rules] = (struct st_urule){ .cfa_off = r->cfa_off, .cfa_kind = r->cfa_kind,
						   .rbp_off = r->rbp_off };
	u64map_put(seen, rule_key(r), t->nr_rules);
	return t->nr_rules++;
}

static void encoding_free(struct unwind_table *t)
{
	free(t->rules);
	free(t->crows);
	free(t->pages);
	t->rules = NULL;
	t->crows = NULL;
	t->pages = NULL;
	t->nr_rules = t->nr_crows = t->nr_pages = 0;
}

/* Page p covers [base + p * 4 KiB, + 4 KiB): its first row is the one in
 * force at the page's start (at offset 0, whatever pc it started at), then
 * every row that starts inside the page. */
int unwind_table_encode(struct unwind_table *t)
{
	struct u64map seen = { 0 };
	size_t alloc_rules = 0;
	uint32_t r = 0;
	int err = 0;

	encoding_free(t);
	t->base = 0;
	if (!t->nr_rows)
		return 0;
	t->base = t->rows[0].pc & ~(ST_UNWIND_PAGE_SIZE - 1);
	t->nr_pages = ((t->rows[t->nr_rows - 1].pc - t->base) >> ST_UNWIND_PAGE_SHIFT) + 1;
	t->pages = xcalloc(t->nr_pages, sizeof(*t->pages));
	t->crows = xcalloc((size_t)t->nr_rows + t->nr_pages + 1, sizeof(*t->crows));
	for (uint32_t p = 0; p < t->nr_pages && !err; p++) {
		uint64_t start = t->base + ((uint64_t)p << ST_UNWIND_PAGE_SHIFT);
		int rule;

		while (r + 1 < t->nr_rows && t->rows[r + 1].pc <= start)
			r++;
		t->pages[p].first = t->nr_crows;
		if (t->rows[r].pc > start) {	/* page 0, before the first row: no CFI */
			static const struct st_urow none = { .cfa_kind = ST_CFA_NONE };

			rule = rule_index(t, &seen, &alloc_rules, &none);
			if (rule < 0) {
				err = rule;
				break;
			}
			t->crows[t->nr_crows++] = (struct st_ucrow){ .off = 0, .rule = rule };
		}
		for (uint32_t i = r; i < t->nr_rows && t->rows[i].pc < start + ST_UNWIND_PAGE_SIZE;
		     i++) {
			rule = rule_index(t, &seen, &alloc_rules, &t->rows[i]);
			if (rule < 0) {
				err = rule;
				break;
			}
			t->crows[t->nr_crows++] = (struct st_ucrow){
				.off = t->rows[i].pc > start ? t->rows[i].pc - start : 0, .rule = rule };
		}
		t->pages[p].nr = t->nr_crows - t->pages[p].first;
	}
	u64map_free(&seen);
	if (err)
		encoding_free(t);
	return err;
}

struct range {
	uint64_t lo, hi;
};

static int cmp_range(const void *a, const void *b)
{
	return cmp_u64(&((const struct range *)a)->lo, &((const struct range *)b)->lo);
}

/* What an object's table is made from: its executable address ranges (the
 * executable sections, or segments when it has no section headers) and
 * where its CFI is. */
struct layout {
	struct range *ranges;
	size_t nr_ranges, alloc_ranges;
	Elf_Scn *eh_frame, *debug_frame;
	uint64_t eh_frame_addr, eh_frame_hdr_addr, debug_frame_addr;
	bool is64;
};

static int add_range(struct layout *l, uint64_t lo, uint64_t size)
{
	if (lo + size > UINT32_MAX || lo + size < lo)
		return -ERANGE;
	XGROW(l->ranges, l->alloc_ranges, l->nr_ranges + 1);
	l->ranges[l->nr_ranges++] = (struct range){ lo, lo + size };
	return 0;
}

/* Overlapping sections (never in a linked object; a hostile one could hold
 * millions) become one range: each address is then walked once. */
static void merge_ranges(struct layout *l)
{
	size_t k = 0;

	for (size_t i = 0; i < l->nr_ranges; i++) {
		if (k && l->ranges[i].lo < l->ranges[k - 1].hi) {
			if (l->ranges[i].hi > l->ranges[k - 1].hi)
				l->ranges[k - 1].hi = l->ranges[i].hi;
			continue;
		}
		l->ranges[k++] = l->ranges[i];
	}
	l->nr_ranges = k;
}

/* Checks the object and reads its layout into t (segments) and l; with s,
 * also the addresses where functions start (the libdw walk's). */
static int read_layout(Elf *elf, struct unwind_table *t, struct layout *l, struct starts *s)
{
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	GElf_Shdr sh;
	size_t shstrndx;
	int err;

	if (!gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64 ||
	    elf_getshdrstrndx(elf, &shstrndx))
		return -ENOEXEC;
	l->is64 = eh.e_ident[EI_CLASS] == ELFCLASS64;
	err = elf_read_segs(elf, PF_X, &t->loads, &t->nr_loads);
	if (err)
		return err;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (s && (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
			starts_from_symbols(elf, scn, &sh, s);
		else if (name && !strcmp(name, ".eh_frame_hdr")) {
			l->eh_frame_hdr_addr = sh.sh_addr;
			if (s)
				starts_from_eh_frame_hdr(scn, &sh, s);
		} else if (name && !strcmp(name, ".eh_frame") && sh.sh_type != SHT_NOBITS) {
			l->eh_frame = scn;
			l->eh_frame_addr = sh.sh_addr;
		} else if (name && !strcmp(name, ".debug_frame") && sh.sh_type != SHT_NOBITS) {
			l->debug_frame = scn;
			l->debug_frame_addr = sh.sh_addr;
		}
		if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR) && sh.sh_size) {
			err = add_range(l, sh.sh_addr, sh.sh_size);
			if (err)
				return err;
		}
	}
	if (!elf_nextscn(elf, NULL))	/* no section headers: the executable segments */
		for (uint32_t i = 0; i < t->nr_loads; i++) {
			err = add_range(l, t->loads[i].vaddr, t->loads[i].memsz);
			if (err)
				return err;
		}
	if (s && s->nr)
		qsort(s->v, s->nr, sizeof(*s->v), cmp_u64);
	if (l->nr_ranges)
		qsort(l->ranges, l->nr_ranges, sizeof(*l->ranges), cmp_range);
	merge_ranges(l);
	return 0;
}

/* The .eh_frame of an object without section headers, through
 * PT_GNU_EH_FRAME: the .eh_frame_hdr's pointer to it (pc- or data-relative
 * sdata4, as every linker writes it), and the rest of its segment as its
 * size (the parser stops at the terminator). */
static bool eh_frame_from_phdr(Elf *elf, struct cfi_sec *sec)
{
	GElf_Phdr ph, hdr = { 0 };
	size_t phnum, avail;
	Elf_Data *d;
	const uint8_t *p;
	int64_t rel;
	uint64_t at;
	bool found = false;

	if (elf_getphdrnum(elf, &phnum))
		return false;
	for (size_t i = 0; i < phnum; i++)
		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_GNU_EH_FRAME) {
			hdr = ph;
			found = true;
		}
	if (!found || hdr.p_filesz < 8)
		return false;
	d = elf_getdata_rawchunk(elf, hdr.p_offset, 8, ELF_T_BYTE);
	if (!d || !d->d_buf)
		return false;
	p = d->d_buf;
	if (p[0] != 1)
		return false;
	switch (p[1]) {
	case DW_EH_PE_pcrel | DW_EH_PE_sdata4:
		rel = (int32_t)(p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24);
		at = hdr.p_vaddr + 4 + rel;
		break;
	case DW_EH_PE_datarel | DW_EH_PE_sdata4:
		rel = (int32_t)(p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24);
		at = hdr.p_vaddr + rel;
		break;
	default:
		return false;
	}
	for (size_t i = 0; i < phnum; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || at < ph.p_vaddr ||
		    at - ph.p_vaddr >= ph.p_filesz)
			continue;
		avail = ph.p_filesz - (at - ph.p_vaddr);
		d = elf_getdata_rawchunk(elf, ph.p_offset + (at - ph.p_vaddr), avail, ELF_T_BYTE);
		if (!d || !d->d_buf)
			return false;
		sec->data = d->d_buf;
		sec->size = d->d_size;
		sec->addr = at;
		sec->datarel = hdr.p_vaddr;
		return true;
	}
	return false;
}

/* A section's bytes as cfi_parse() reads them (decompressed if need be). */
static bool cfi_section(Elf_Scn *scn, uint64_t addr, struct cfi_sec *sec)
{
	GElf_Shdr sh;
	Elf_Data *d;

	if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return false;
	d = elf_rawdata(scn, NULL);
	if (!d || !d->d_buf)
		return false;
	sec->data = d->d_buf;
	sec->size = d->d_size;
	sec->addr = addr;
	return true;
}

static void emit_row(struct builder *b, uint64_t pc, const struct cfi_row *r)
{
	struct st_urow u = { .pc = pc, .cfa_off = r->cfa_off, .cfa_kind = r->cfa_kind,
			     .rbp_off = r->rbp_off };

	if (r->cfa_kind == ST_CFA_NONE)
		b->t->nr_unsupported++;
	emit(b, &u);
}

static void fill(struct builder *b, const struct cfi_table *t, const struct cfi_table *next,
		 uint64_t lo, uint64_t hi);

/* [lo, hi) has no FDE in the first CFI: the second's rows, or none. */
static void fill_gap(struct builder *b, const struct cfi_table *next, uint64_t lo, uint64_t hi)
{
	struct st_urow none = { .pc = lo, .cfa_kind = ST_CFA_NONE };

	if (lo >= hi)
		return;
	if (next)
		fill(b, next, NULL, lo, hi);
	else
		emit(b, &none);
}

/* The rows of FDE f over [lo, hi), which it covers. */
static void fill_fde(struct builder *b, const struct cfi_table *t, const struct cfi_fde *f,
		     uint64_t lo, uint64_t hi)
{
	const struct cfi_row *r = &t->rows[f->first], *end = r + f->nr;
	uint32_t l = 0, h = f->nr;

	while (l < h) {		/* the last row at or below lo: lo is mid-FDE at a range's start */
		uint32_t mid = l + (h - l) / 2;

		if (r[mid].pc <= lo)
			l = mid + 1;
		else
			h = mid;
	}
	r += l ? l - 1 : 0;
	emit_row(b, lo, r);
	for (r++; r < end && r->pc < hi; r++)
		emit_row(b, r->pc, r);
}

/* Rows for [lo, hi) from the FDEs of t, gaps filled from next. */
static void fill(struct builder *b, const struct cfi_table *t, const struct cfi_table *next,
		 uint64_t lo, uint64_t hi)
{
	uint32_t i = 0, n = t->nr_fdes;
	uint64_t pc = lo;

	/* The first FDE ending above lo. */
	for (uint32_t l = 0, h = n; l < h;) {
		uint32_t mid = l + (h - l) / 2;

		if (t->fdes[mid].end <= lo)
			l = i = mid + 1;
		else
			h = mid;
	}
	for (; i < n && pc < hi; i++) {
		const struct cfi_fde *f = &t->fdes[i];
		uint64_t to;

		if (f->start >= hi)
			break;
		if (f->start > pc) {
			fill_gap(b, next, pc, f->start);
			pc = f->start;
		}
		to = f->end < hi ? f->end : hi;
		if (to > pc) {
			fill_fde(b, t, f, pc, to);
			pc = to;
		}
	}
	fill_gap(b, next, pc, hi);
}

/* The digest of what an object's rows are made from, for the cache. */
static void cache_key(const struct layout *l, const struct cfi_sec *eh, const struct cfi_sec *df,
		      struct unwind_cache_key *k)
{
	uint64_t where[4] = { eh->addr, l->eh_frame_hdr_addr, df->size, l->nr_ranges };
	uLong c = crc32(0, Z_NULL, 0);

	for (size_t off = 0; off < eh->size; off += 1u << 30)
		c = crc32(c, eh->data + off, (uInt)(eh->size - off < (1u << 30) ? eh->size - off : 1u << 30));
	for (size_t off = 0; off < df->size; off += 1u << 30)
		c = crc32(c, df->data + off, (uInt)(df->size - off < (1u << 30) ? df->size - off : 1u << 30));
	c = crc32(c, (const Bytef *)where, sizeof(where));
	if (l->nr_ranges)
		c = crc32(c, (const Bytef *)l->ranges, (uInt)(l->nr_ranges * sizeof(*l->ranges)));
	k->src_crc = (uint32_t)c;
	k->src_size = eh->size + df->size;
}

/* Builds elf's table; with cached, from the cache when it holds it, and
 * into it when it did not. */
static int build(Elf *elf, bool cached, struct unwind_table **out)
{
	struct unwind_table *t = xcalloc(1, sizeof(*t));
	struct builder b = { .t = t };
	struct layout l = { 0 };
	struct cfi_table eh = { 0 }, df = { 0 };
	struct cfi_sec eh_sec, df_sec;
	struct unwind_cache_key key = { .build_id_len = 0 };
	uint64_t t0 = now_ns();
	bool have_eh = false, have_df = false, store = false;
	int err;

	err = read_layout(elf, t, &l, NULL);
	if (err)
		goto out_free;
	eh_sec = (struct cfi_sec){ .datarel = l.eh_frame_hdr_addr, .is64 = l.is64 };
	df_sec = (struct cfi_sec){ .is64 = l.is64, .debug_frame = true };
	if (l.eh_frame ? cfi_section(l.eh_frame, l.eh_frame_addr, &eh_sec)
		       : eh_frame_from_phdr(elf, &eh_sec))
		have_eh = true;
	if (l.debug_frame && cfi_section(l.debug_frame, l.debug_frame_addr, &df_sec))
		have_df = true;
	if (cached && unwind_cache_dir() && !elf_read_build_id(elf, key.build_id, &key.build_id_len)) {
		cache_key(&l, &eh_sec, &df_sec, &key);
		if (!unwind_cache_load(&key, t))
			goto done;
		store = true;
	}
	have_eh = have_eh && !cfi_parse(&eh_sec, &eh);
	have_df = have_df && !cfi_parse(&df_sec, &df) && df.nr_fdes;
	if (have_eh || have_df) {
		const struct cfi_table *first = have_eh ? &eh : &df;
		const struct cfi_table *second = have_eh && have_df ? &df : NULL;

		/* At most every CFI row, one gap before each FDE, a range's end. */
		XGROW(t->rows, b.alloc, (size_t)eh.nr_rows + df.nr_rows + eh.nr_fdes + df.nr_fdes +
						2 * l.nr_ranges + 1);
		for (size_t i = 0; i < l.nr_ranges; i++) {
			struct st_urow end = { .pc = l.ranges[i].hi, .cfa_kind = ST_CFA_NONE };

			fill(&b, first, second, l.ranges[i].lo, l.ranges[i].hi);
			emit(&b, &end);
		}
	}
done:
	err = unwind_table_encode(t);
	if (err)
		goto out_free;
	t->build_ns = now_ns() - t0;
	if (store)
		unwind_cache_store(&key, t);
	*out = t;
	err = 0;
	goto out;

out_free:
	unwind_table_free(t);
out:
	cfi_table_free(&eh);
	cfi_table_free(&df);
	free(l.ranges);
	return err;
}

int unwind_table_build(Elf *elf, struct unwind_table **out)
{
	return build(elf, false, out);
}

int unwind_table_build_cached(Elf *elf, struct unwind_table **out)
{
	return build(elf, true, out);
}

int unwind_table_build_libdw(Elf *elf, struct unwind_table **out)
{
	struct unwind_table *t = xcalloc(1, sizeof(*t));
	struct builder b = { .t = t };
	struct starts s = { 0 };
	struct layout l = { 0 };
	uint64_t t0 = now_ns();
	Dwarf_CFI *eh = NULL, *df = NULL;
	Dwarf *dw = NULL;
	int err;

	err = read_layout(elf, t, &l, &s);
	if (err)
		goto out_free;
	eh = dwarf_getcfi_elf(elf);
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (dw)
		df = dwarf_getcfi(dw);
	if (eh || df)
		for (size_t i = 0; i < l.nr_ranges; i++)
			walk_section(&b, eh, df, &s, l.ranges[i].lo, l.ranges[i].hi);
	err = unwind_table_encode(t);
	if (err)
		goto out_free;
	t->build_ns = now_ns() - t0;
	*out = t;
	err = 0;
	goto out;

out_free:
	unwind_table_free(t);
out:
	if (eh)
		dwarf_cfi_end(eh);
	if (dw)
		dwarf_end(dw);
	free(s.v);
	free(l.ranges);
	return err;
}

int unwind_table_build_fd(int fd, struct unwind_table **out)
{
	Elf *elf;
	int err;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		err = -ENOEXEC;
	else
		err = build(elf, true, out);
	elf_end(elf);
	return err;
}

int unwind_table_build_path(const char *path, struct unwind_table **out)
{
	int fd = rootfs_open_direct(path), err;

	if (fd < 0)
		return fd;
	err = unwind_table_build_fd(fd, out);
	close(fd);
	return err;
}

int unwind_table_build_mem(const void *image, size_t size, struct unwind_table **out)
{
	char *copy = xmalloc(size);
	Elf *elf;
	int err;

	elf_version(EV_CURRENT);
	memcpy(copy, image, size);
	elf = elf_memory(copy, size);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		err = -ENOEXEC;
	else
		err = unwind_table_build(elf, out);
	elf_end(elf);
	free(copy);
	return err;
}

void unwind_table_free(struct unwind_table *t)
{
	if (!t)
		return;
	free(t->rows);
	encoding_free(t);
	free(t->loads);
	free(t);
}

void unwind_table_drop_rows(struct unwind_table *t)
{
	if (!t)
		return;
	free(t->rows);
	t->rows = NULL;
}

/* The same search as the BPF program's: the page, then the page's rows. */
bool unwind_table_find(const struct unwind_table *t, uint64_t vaddr, struct st_urow *row)
{
	const struct st_upage *pg;
	const struct st_ucrow *c;
	uint64_t p;
	uint32_t lo, hi, off;

	if (!t->nr_pages || vaddr < t->base)
		return false;
	p = (vaddr - t->base) >> ST_UNWIND_PAGE_SHIFT;
	if (p >= t->nr_pages)
		return false;
	pg = &t->pages[p];
	off = (vaddr - t->base) & (ST_UNWIND_PAGE_SIZE - 1);
	lo = pg->first;
	hi = pg->first + pg->nr;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (t->crows[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == pg->first)	/* never: a page's first row is at offset 0 */
		return false;
	c = &t->crows[lo - 1];
	*row = (struct st_urow){ .pc = t->base + (p << ST_UNWIND_PAGE_SHIFT) + c->off,
				 .cfa_off = t->rules[c->rule].cfa_off,
				 .cfa_kind = t->rules[c->rule].cfa_kind,
				 .rbp_off = t->rules[c->rule].rbp_off };
	return true;
}

int unwind_table_bias(const struct unwind_table *t, uint64_t start, uint64_t pgoff,
		      uint64_t *bias)
{
	uint64_t vaddr;

	if (elf_segs_offset_to_vaddr(t->loads, t->nr_loads, pgoff, &vaddr))
		return -ENOENT;
	*bias = start - vaddr;
	return 0;
}

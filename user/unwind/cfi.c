/* .eh_frame / .debug_frame records parsed and their CFA programs run into
 * rows, without libdw: one pass over the section instead of one libdw query
 * per row. */
#include "unwind/cfi.h"
#include "base/util.h"
#include "sampletop.h"

#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* DWARF register numbers on x86-64. */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RIP 16
/* A register rule's offset is kept by libdw in a 61-bit signed field. */
#define RULE_VALUE_BITS 61
#define PE_FORMAT 0x0f
#define PE_APPLICATION 0x70
/* Longest augmentation string read: "zPLRS" and a few more letters. */
#define MAX_AUG 16

/* Reads within [p, end) only. */
struct cur {
	const uint8_t *p, *end;
};

static bool rd_u8(struct cur *c, uint8_t *v)
{
	if (c->p >= c->end)
		return false;
	*v = *c->p++;
	return true;
}

/* Little-endian, as every x86-64 object is. */
static bool rd_un(struct cur *c, unsigned n, uint64_t *v)
{
	if ((size_t)(c->end - c->p) < n)
		return false;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return true;
}

/* A LEB128 number: its bits (those past 64 dropped) and the shift past
 * its last byte, whose sign bit is *sign. */
static bool rd_leb(struct cur *c, uint64_t *v, unsigned *shift, bool *sign)
{
	uint8_t b;

	*v = 0;
	*shift = 0;
	do {
		if (c->p >= c->end)
			return false;
		b = *c->p++;
		if (*shift < 64)
			*v |= (uint64_t)(b & 0x7f) << *shift;
		*shift += 7;
	} while (b & 0x80);
	*sign = b & 0x40;
	return true;
}

static bool rd_uleb(struct cur *c, uint64_t *v)
{
	unsigned shift;
	bool sign;

	return rd_leb(c, v, &shift, &sign);
}

static bool rd_sleb(struct cur *c, int64_t *v)
{
	unsigned shift;
	uint64_t u;
	bool sign;

	if (!rd_leb(c, &u, &shift, &sign))
		return false;
	if (shift < 64 && sign)
		u |= ~0ull << shift;
	*v = (int64_t)u;
	return true;
}

/* A pointer in encoding enc (DW_EH_PE_*). With apply false, only its size
 * is read past (an indirect personality pointer is never followed). */
static bool rd_ptr(const struct cfi_sec *s, struct cur *c, uint8_t enc, bool apply, uint64_t *v)
{
	uint64_t at = s->addr + (uint64_t)(c->p - s->data);
	int64_t sv;
	bool ok;

	if (enc == DW_EH_PE_omit)
		return false;
	switch (enc & PE_FORMAT) {
	case DW_EH_PE_absptr:
		ok = rd_un(c, s->is64 ? 8 : 4, v);
		break;
	case DW_EH_PE_uleb128:
		ok = rd_uleb(c, v);
		break;
	case DW_EH_PE_sleb128:
		ok = rd_sleb(c, &sv);
		*v = (uint64_t)sv;
		break;
	case DW_EH_PE_udata2:
		ok = rd_un(c, 2, v);
		break;
	case DW_EH_PE_sdata2:
		ok = rd_un(c, 2, v);
		*v = (uint64_t)(int64_t)(int16_t)*v;
		break;
	case DW_EH_PE_udata4:
		ok = rd_un(c, 4, v);
		break;
	case DW_EH_PE_sdata4:
		ok = rd_un(c, 4, v);
		*v = (uint64_t)(int64_t)(int32_t)*v;
		break;
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		ok = rd_un(c, 8, v);
		break;
	default:
		return false;
	}
	if (!ok || !apply)
		return ok;
	if (enc & DW_EH_PE_indirect)	/* a pointer to the address: not followed */
		return false;
	switch (enc & PE_APPLICATION) {
	case DW_EH_PE_absptr:
		break;
	case DW_EH_PE_pcrel:
		*v += at;
		break;
	case DW_EH_PE_datarel:
		if (!s->datarel)
			return false;
		*v += s->datarel;
		break;
	default:
		return false;
	}
	if (!s->is64)
		*v &= UINT32_MAX;
	return true;
}

/* A register's rule as far as a row needs it: saved at CFA + val, or a
 * rule the BPF side cannot follow (register, val_offset, most expressions). */
enum rule_kind {
	RULE_UNDEFINED,
	RULE_SAME,
	RULE_OFFSET,
	RULE_OTHER,
};

struct rule {
	uint8_t kind;
	int64_t val;
};

enum cfa_kind {
	CFA_UNDEFINED,
	CFA_REG,		/* register + offset */
	CFA_EXPR,		/* an expression: plt >= 0 for the linker's .plt one */
};

/* The state of a CFA program: only what a row is made of. */
struct state {
	uint8_t cfa;
	int8_t plt;
	uint64_t cfa_reg, cfa_off;
	struct rule rip, rbp, ra;	/* ra: the CIE's return address register, when another */
};

struct cie {
	size_t off;		/* of its record in the section */
	uint64_t caf;		/* code alignment factor */
	int64_t daf;		/* data alignment factor */
	uint64_t ra;		/* return address register */
	uint8_t fde_enc;
	bool aug_z;		/* FDEs have augmentation data, with its length */
	bool signal;
	bool ok;		/* parsed and its initial instructions ran */
	struct state init;	/* after the ABI's rules and the initial instructions */
};

struct fde_rec {
	size_t off, end;	/* record body (after the length), its end */
	size_t cie_off;
};

struct parser {
	const struct cfi_sec *s;
	struct cfi_table *t;
	struct cie *cies;	/* by offset */
	size_t nr_cies, alloc_cies;
	size_t alloc_rows, alloc_fdes;
};

/* libdw's x86-64 ABI rules before any CFI (elfutils' x86_64_abi_cfi):
 * callee-saved registers keep their value, rsp is the CFA, others are lost. */
static struct rule abi_rule(uint64_t reg)
{
	if (reg == 0 || reg == REG_RBP || (reg >= 12 && reg <= REG_RIP))
		return (struct rule){ RULE_SAME, 0 };
	if (reg == REG_RSP)
		return (struct rule){ RULE_OTHER, 0 };	/* val_offset 0 */
	return (struct rule){ RULE_UNDEFINED, 0 };
}

static struct rule *rule_of(struct state *st, const struct cie *cie, uint64_t reg)
{
	if (reg == REG_RIP)
		return &st->rip;
	if (reg == REG_RBP)
		return &st->rbp;
	if (reg == cie->ra)
		return &st->ra;
	return NULL;
}

static const struct rule *ra_rule(const struct state *st, const struct cie *cie)
{
	return cie->ra == REG_RIP ? &st->rip : cie->ra == REG_RBP ? &st->rbp : &st->ra;
}

static void set_rule(struct state *st, const struct cie *cie, uint64_t reg, uint8_t kind,
		     int64_t val)
{
	struct rule *r = rule_of(st, cie, reg);

	if (r)
		*r = (struct rule){ kind, val };
}

/* Offsets as libdw stores them (a 61-bit field). */
static int64_t rule_value(uint64_t v)
{
	return (int64_t)(v << (64 - RULE_VALUE_BITS)) >> (64 - RULE_VALUE_BITS);
}

/* A register's DW_CFA_expression as libdw hands it on: the CFA pushed,
 * then the block. Empty, or DW_OP_plus_uconst N alone, is "saved at CFA + N";
 * anything else is a rule we cannot follow. */
static struct rule expr_rule(const uint8_t *p, uint64_t len)
{
	struct cur c = { p, p + len };
	uint64_t n;
	uint8_t op;

	if (len == 0)
		return (struct rule){ RULE_OFFSET, 0 };
	if (rd_u8(&c, &op) && op == DW_OP_plus_uconst && rd_uleb(&c, &n) && c.p == c.end)
		return (struct rule){ RULE_OFFSET, (int64_t)n };
	return (struct rule){ RULE_OTHER, 0 };
}

/* The CFA expression the linker writes for .plt entries:
 * rsp + 8 + ((rip & 15) >= K) << 3. Returns K, or -1. */
static int plt_threshold(const uint8_t *p, uint64_t len)
{
	struct cur c = { p, p + len };
	int64_t a, b;
	uint8_t op[9];
	int k;

	if (!rd_u8(&c, &op[0]) || op[0] != DW_OP_breg7 || !rd_sleb(&c, &a) || a != 8 ||
	    !rd_u8(&c, &op[1]) || op[1] != DW_OP_breg16 || !rd_sleb(&c, &b) || b != 0)
		return -1;
	for (int i = 2; i < 9; i++)
		if (!rd_u8(&c, &op[i]))
			return -1;
	if (c.p != c.end || op[2] != DW_OP_lit15 || op[3] != DW_OP_and || op[4] < DW_OP_lit0 ||
	    op[4] > DW_OP_lit31 || op[5] != DW_OP_ge || op[6] != DW_OP_lit3 || op[7] != DW_OP_shl ||
	    op[8] != DW_OP_plus)
		return -1;
	k = op[4] - DW_OP_lit0;
	return k;
}

/* The row a state gives, reduced as unwind_rule_at() reduces libdw's. */
static void reduce(const struct cie *cie, const struct state *st, struct cfi_row *row)
{
	const struct rule *ra = ra_rule(st, cie);

	row->cfa_kind = ST_CFA_NONE;
	row->cfa_off = 0;
	row->rbp_off = 0;
	if ((int)cie->ra < 0 || cie->ra > INT32_MAX)
		return;
	if (cie->signal) {
		row->cfa_kind = ST_CFA_SIGNAL;
		return;
	}
	if (ra->kind == RULE_UNDEFINED) {	/* return address undefined: outermost */
		row->cfa_kind = ST_CFA_STOP;
		return;
	}
	if (cie->ra != REG_RIP || ra->kind != RULE_OFFSET || ra->val != -8)
		return;
	if (st->cfa == CFA_REG && (st->cfa_reg == REG_RSP || st->cfa_reg == REG_RBP)) {
		if ((int64_t)st->cfa_off < 0 || (int64_t)st->cfa_off > UINT16_MAX)
			return;
		row->cfa_off = st->cfa_off;
		row->cfa_kind = st->cfa_reg == REG_RSP ? ST_CFA_RSP : ST_CFA_RBP;
	} else if (st->cfa == CFA_EXPR && st->plt >= 0) {
		row->cfa_off = st->plt;
		row->cfa_kind = ST_CFA_PLT;
	} else {
		return;
	}
	switch (st->rbp.kind) {
	case RULE_UNDEFINED:
	case RULE_SAME:		/* leave rbp as it is */
		return;
	case RULE_OFFSET:
		if (st->rbp.val % 8 == 0 && st->rbp.val / 8 >= -128 && st->rbp.val < 0) {
			row->rbp_off = st->rbp.val / 8;
			return;
		}
		break;
	}
	row->cfa_kind = ST_CFA_NONE;
}

/* Adds the row of st at pc; false when the table is full. */
static bool add_row(struct parser *ps, const struct cie *cie, const struct state *st,
		    uint64_t pc, uint32_t first)
{
	struct cfi_table *t = ps->t;
	struct cfi_row r;

	reduce(cie, st, &r);
	r.pc = pc;
	if (t->nr_rows > first) {
		const struct cfi_row *l = &t->rows[t->nr_rows - 1];

		if (l->cfa_kind == r.cfa_kind && l->cfa_off == r.cfa_off && l->rbp_off == r.rbp_off) {
			t->nr_unsupported += r.cfa_kind == ST_CFA_NONE;
			return true;
		}
	}
	if (t->nr_rows >= CFI_MAX_ROWS)
		return false;
	t->nr_unsupported += r.cfa_kind == ST_CFA_NONE;
	XGROW(t->rows, ps->alloc_rows, t->nr_rows + 1);
	t->rows[t->nr_rows++] = r;
	return true;
}

/* Where a program is run: a CIE's initial instructions (no rows, no
 * restore) or an FDE's body over [start, end). */
struct run {
	struct parser *ps;
	const struct cie *cie;
	bool initial;
	uint64_t start, end;
	uint64_t hi;		/* rows are made up to here */
	uint32_t first;		/* the FDE's first row */
};

/* A location move: the rows libdw would give for [hi, loc) are the state's. */
static bool advance(struct run *r, const struct state *st, uint64_t loc)
{
	if (r->initial)		/* libdw: no rows in a CIE */
		return false;
	if (loc > r->hi) {
		if (!add_row(r->ps, r->cie, st, r->hi, r->first))
			return false;
		r->hi = loc;
	}
	return true;
}

/* Runs the program [c.p, c.end) from *st. Returns false at an instruction
 * that cannot be read or obeyed (libdw's error: no rule from r->hi on). */
static bool run_program(struct run *r, struct state *st, struct cur c)
{
	const struct cie *cie = r->cie;
	struct state stack[CFI_MAX_STATES];
	unsigned depth = 0;
	uint64_t loc = r->start, reg, off, len;
	int64_t soff;
	uint8_t op;

	while (c.p < c.end && r->hi < r->end) {
		uint8_t op8;

		op = *c.p++;
		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
			loc += (uint64_t)(op & 0x3f) * cie->caf;
			if (!advance(r, st, loc))
				return false;
			continue;
		case DW_CFA_offset:
			if (!rd_uleb(&c, &off))
				return false;
			set_rule(st, cie, op & 0x3f, RULE_OFFSET, rule_value(off * (uint64_t)cie->daf));
			continue;
		case DW_CFA_restore:
			reg = op & 0x3f;
			goto restore;
		}
		switch (op) {
		case DW_CFA_nop:
			break;
		case DW_CFA_set_loc:
			if (!rd_ptr(r->ps->s, &c, cie->fde_enc, true, &loc) || !advance(r, st, loc))
				return false;
			break;
		case DW_CFA_advance_loc1:
			if (!rd_u8(&c, &op8))
				return false;
			loc += op8 * cie->caf;
			if (!advance(r, st, loc))
				return false;
			break;
		case DW_CFA_advance_loc2:
		case DW_CFA_advance_loc4:
		case DW_CFA_MIPS_advance_loc8:
			if (!rd_un(&c, op == DW_CFA_advance_loc2 ? 2 : op == DW_CFA_advance_loc4 ? 4 : 8,
				   &off))
				return false;
			loc += off * cie->caf;
			if (!advance(r, st, loc))
				return false;
			break;
		case DW_CFA_offset_extended:
			if (!rd_uleb(&c, &reg) || !rd_uleb(&c, &off))
				return false;
			set_rule(st, cie, reg, RULE_OFFSET, rule_value(off * (uint64_t)cie->daf));
			break;
		case DW_CFA_offset_extended_sf:
			if (!rd_uleb(&c, &reg) || !rd_sleb(&c, &soff))
				return false;
			set_rule(st, cie, reg, RULE_OFFSET,
				 rule_value((uint64_t)soff * (uint64_t)cie->daf));
			break;
		case DW_CFA_GNU_negative_offset_extended:
			if (!rd_uleb(&c, &reg) || !rd_uleb(&c, &off))
				return false;
			set_rule(st, cie, reg, RULE_OFFSET,
				 rule_value((0 - off) * (uint64_t)cie->daf));
			break;
		case DW_CFA_restore_extended:
			if (!rd_uleb(&c, &reg))
				return false;
restore:
			if (r->initial)	/* libdw: no initial state to restore yet */
				return false;
			{
				struct rule *dst = rule_of(st, cie, reg);
				const struct rule *src = rule_of((struct state *)&cie->init, cie, reg);

				if (dst)
					*dst = *src;
			}
			break;
		case DW_CFA_undefined:
		case DW_CFA_same_value:
			if (!rd_uleb(&c, &reg))
				return false;
			set_rule(st, cie, reg, op == DW_CFA_undefined ? RULE_UNDEFINED : RULE_SAME, 0);
			break;
		case DW_CFA_register:
			if (!rd_uleb(&c, &reg) || !rd_uleb(&c, &off))
				return false;
			set_rule(st, cie, reg, RULE_OTHER, 0);
			break;
		case DW_CFA_val_offset:
			if (!rd_uleb(&c, &reg) || !rd_uleb(&c, &off))
				return false;
			set_rule(st, cie, reg, RULE_OTHER, 0);
			break;
		case DW_CFA_val_offset_sf:
			if (!rd_uleb(&c, &reg) || !rd_sleb(&c, &soff))
				return false;
			set_rule(st, cie, reg, RULE_OTHER, 0);
			break;
		case DW_CFA_expression:
		case DW_CFA_val_expression:
			if (!rd_uleb(&c, &reg) || !rd_uleb(&c, &len) || len > (uint64_t)(c.end - c.p))
				return false;
			if (op == DW_CFA_expression) {
				struct rule *dst = rule_of(st, cie, reg);

				if (dst)
					*dst = expr_rule(c.p, len);
			} else {
				set_rule(st, cie, reg, RULE_OTHER, 0);
			}
			c.p += len;
			break;
		case DW_CFA_remember_state:
			if (depth == CFI_MAX_STATES)
				return false;
			stack[depth++] = *st;
			break;
		case DW_CFA_restore_state:
			if (!depth)
				return false;
			*st = stack[--depth];
			break;
		case DW_CFA_def_cfa:
			if (!rd_uleb(&c, &reg) || !rd_uleb(&c, &off))
				return false;
			st->cfa = CFA_REG;
			st->cfa_reg = reg;
			st->cfa_off = off;
			break;
		case DW_CFA_def_cfa_sf:
			if (!rd_uleb(&c, &reg) || !rd_sleb(&c, &soff))
				return false;
			st->cfa = CFA_REG;
			st->cfa_reg = reg;
			st->cfa_off = (uint64_t)soff * (uint64_t)cie->daf;
			break;
		case DW_CFA_def_cfa_register:
			if (!rd_uleb(&c, &reg) || st->cfa != CFA_REG)
				return false;
			st->cfa_reg = reg;
			break;
		case DW_CFA_def_cfa_offset:
			if (!rd_uleb(&c, &off) || st->cfa != CFA_REG)
				return false;
			st->cfa_off = off;
			break;
		case DW_CFA_def_cfa_offset_sf:
			if (!rd_sleb(&c, &soff) || st->cfa != CFA_REG)
				return false;
			st->cfa_off = (uint64_t)soff * (uint64_t)cie->daf;
			break;
		case DW_CFA_def_cfa_expression:
			if (!rd_uleb(&c, &len) || len > (uint64_t)(c.end - c.p))
				return false;
			st->cfa = CFA_EXPR;
			st->plt = plt_threshold(c.p, len);
			c.p += len;
			break;
		case DW_CFA_GNU_args_size:
			if (!rd_uleb(&c, &off))
				return false;
			break;
		default:	/* DW_CFA_GNU_window_save and unknown: not for x86-64 */
			return false;
		}
	}
	return true;
}

static int cmp_cie(const void *key, const void *elem)
{
	size_t off = *(const size_t *)key, o = ((const struct cie *)elem)->off;

	return off < o ? -1 : off > o;
}

/* A record's body: c covers it (after the length), *next is the offset of
 * the following record. False at the end or at a record that cannot be. */
static bool rd_record(const struct cfi_sec *s, size_t off, struct cur *c, size_t *next,
		      bool *is64)
{
	uint64_t len;

	c->p = s->data + off;
	c->end = s->data + s->size;
	if (!rd_un(c, 4, &len) || len == 0)	/* 0: the terminator */
		return false;
	*is64 = len == UINT32_MAX;
	if (*is64 && !rd_un(c, 8, &len))
		return false;
	if (len < 4 || len > (uint64_t)(c->end - c->p))
		return false;
	c->end = c->p + len;
	*next = (size_t)(c->end - s->data);
	return true;
}

/* Parses the CIE whose body c covers, leaving c at its initial
 * instructions. False when it cannot be used. */
static bool parse_cie(struct parser *ps, struct cur *c, struct cie *cie)
{
	const struct cfi_sec *s = ps->s;
	const uint8_t *nul;
	const char *aug;
	uint8_t version, b;
	uint64_t v;

	if (!rd_u8(c, &version) || (version != 1 && version != 3 && version != 4))
		return false;
	nul = memchr(c->p, 0, (size_t)(c->end - c->p));
	if (!nul || nul - c->p > MAX_AUG)
		return false;
	aug = (const char *)c->p;
	c->p = nul + 1;
	if (version == 4) {	/* address size, segment selector size */
		if (!rd_u8(c, &b) || b != (s->is64 ? 8 : 4) || !rd_u8(c, &b) || b != 0)
			return false;
	}
	if (aug[0] == 'e' && aug[1] == 'h') {	/* old GCC: a pointer to EH data */
		if (!rd_un(c, s->is64 ? 8 : 4, &v))
			return false;
		aug += 2;
	}
	if (!rd_uleb(c, &cie->caf) || !rd_sleb(c, &cie->daf))
		return false;
	if (version == 1) {
		if (!rd_u8(c, &b))
			return false;
		cie->ra = b;
	} else if (!rd_uleb(c, &cie->ra)) {
		return false;
	}
	cie->fde_enc = DW_EH_PE_absptr;
	if (aug[0] == 'z') {
		struct cur a;

		if (!rd_uleb(c, &v) || v > (uint64_t)(c->end - c->p))
			return false;
		a = (struct cur){ c->p, c->p + v };
		c->p += v;
		cie->aug_z = true;
		for (aug++; *aug; aug++) {
			if (*aug == 'R') {
				if (!rd_u8(&a, &cie->fde_enc))
					return false;
			} else if (*aug == 'L') {
				if (!rd_u8(&a, &b))
					return false;
			} else if (*aug == 'P') {
				if (!rd_u8(&a, &b) || !rd_ptr(s, &a, b, false, &v))
					return false;
			} else if (*aug == 'S') {
				cie->signal = true;
			} else {
				break;	/* unknown: its data is skipped by the length */
			}
		}
	} else if (aug[0]) {
		return false;	/* data we do not know the size of */
	}
	return true;
}

static void read_cie(struct parser *ps, size_t off, struct cur c)
{
	struct run r = { .ps = ps, .initial = true, .end = UINT64_MAX };
	struct cie *cie;

	XGROW(ps->cies, ps->alloc_cies, ps->nr_cies + 1);
	cie = &ps->cies[ps->nr_cies++];
	*cie = (struct cie){ .off = off };
	if (!parse_cie(ps, &c, cie)) {
		ps->t->nr_bad++;
		return;
	}
	cie->init = (struct state){ .cfa = CFA_UNDEFINED, .plt = -1 };
	cie->init.rip = abi_rule(REG_RIP);
	cie->init.rbp = abi_rule(REG_RBP);
	cie->init.ra = abi_rule(cie->ra);
	r.cie = cie;
	cie->ok = run_program(&r, &cie->init, c);
	if (!cie->ok)
		ps->t->nr_bad++;
}

/* Runs the FDE whose body (after its CIE pointer) c covers. */
static void read_fde(struct parser *ps, struct cur c, size_t cie_off)
{
	const struct cfi_sec *s = ps->s;
	struct cfi_table *t = ps->t;
	const struct cie *cie;
	struct state st;
	struct run r;
	uint64_t start, range, len;
	bool ok;

	cie = ps->nr_cies ? bsearch(&cie_off, ps->cies, ps->nr_cies, sizeof(*ps->cies), cmp_cie)
			  : NULL;
	if (!cie || !cie->ok || !rd_ptr(s, &c, cie->fde_enc, true, &start) ||
	    !rd_ptr(s, &c, cie->fde_enc & PE_FORMAT, true, &range) || start + range < start) {
		t->nr_bad++;
		return;
	}
	if (cie->aug_z) {
		if (!rd_uleb(&c, &len) || len > (uint64_t)(c.end - c.p)) {
			t->nr_bad++;
			return;
		}
		c.p += len;
	}
	if (t->nr_fdes >= CFI_MAX_FDES)
		return;
	r = (struct run){ .ps = ps, .cie = cie, .start = start, .end = start + range,
			  .hi = start, .first = t->nr_rows };
	st = cie->init;
	ok = run_program(&r, &st, c);
	if (ok && r.hi < r.end)	/* the last row runs to the FDE's end */
		ok = add_row(ps, cie, &st, r.hi, r.first);
	if (!ok)		/* libdw fails from the instruction on: no CFI there */
		t->nr_bad++;
	XGROW(t->fdes, ps->alloc_fdes, t->nr_fdes + 1);
	t->fdes[t->nr_fdes++] = (struct cfi_fde){ .start = start,
						  .end = ok ? r.end : r.hi < r.end ? r.hi : r.end,
						  .first = r.first, .nr = t->nr_rows - r.first };
}

static int cmp_fde(const void *a, const void *b)
{
	const struct cfi_fde *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end > y->end ? -1 : x->end < y->end;
}

/* Sorted by start, one FDE per start (the longest), each clipped where the
 * next starts: the FDE libdw finds for an address is the last one starting
 * at or below it (the .eh_frame_hdr search), which may not cover it. */
static void sort_fdes(struct cfi_table *t)
{
	uint32_t k = 0;

	if (t->nr_fdes)
		qsort(t->fdes, t->nr_fdes, sizeof(*t->fdes), cmp_fde);
	for (uint32_t i = 0; i < t->nr_fdes; i++)
		if (!k || t->fdes[k - 1].start != t->fdes[i].start)
			t->fdes[k++] = t->fdes[i];
	t->nr_fdes = k;
	for (uint32_t i = 0; i + 1 < k; i++)
		if (t->fdes[i].end > t->fdes[i + 1].start)
			t->fdes[i].end = t->fdes[i + 1].start;
}

int cfi_parse(const struct cfi_sec *s, struct cfi_table *t)
{
	struct parser ps = { .s = s, .t = t };
	struct fde_rec *recs = NULL;
	size_t nr_recs = 0, alloc_recs = 0, off = 0, next;
	bool is64;

	memset(t, 0, sizeof(*t));
	/* Linkers' .eh_frame holds about one row per 5 bytes: one allocation
	 * instead of a dozen copies of a growing array. */
	XGROW(t->rows, ps.alloc_rows, s->size / 4 < CFI_MAX_ROWS / 8 ? s->size / 4 + 1 : CFI_MAX_ROWS / 8);
	/* CIEs first: in .debug_frame an FDE may point forward. Records are
	 * met in offset order, so the CIEs come out sorted. */
	while (off < s->size) {
		struct cur c;
		size_t id_pos;
		uint64_t id;

		if (!rd_record(s, off, &c, &next, &is64))
			break;
		id_pos = (size_t)(c.p - s->data);
		if (!rd_un(&c, is64 ? 8 : 4, &id))
			break;
		if (s->debug_frame ? id == (is64 ? UINT64_MAX : UINT32_MAX) : id == 0) {
			read_cie(&ps, off, c);
		} else if (s->debug_frame || id <= id_pos) {
			XGROW(recs, alloc_recs, nr_recs + 1);
			recs[nr_recs++] = (struct fde_rec){
				.off = (size_t)(c.p - s->data), .end = (size_t)(c.end - s->data),
				.cie_off = s->debug_frame ? (size_t)id : id_pos - (size_t)id };
		} else {
			t->nr_bad++;
		}
		off = next;
	}
	for (size_t i = 0; i < nr_recs; i++)
		read_fde(&ps, (struct cur){ s->data + recs[i].off, s->data + recs[i].end },
			 recs[i].cie_off);
	sort_fdes(t);
	free(recs);
	free(ps.cies);
	return 0;
}

void cfi_table_free(struct cfi_table *t)
{
	free(t->fdes);
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

const struct cfi_fde *cfi_find(const struct cfi_table *t, uint64_t vaddr)
{
	uint32_t lo = 0, hi = t->nr_fdes;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (t->fdes[mid].start <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && vaddr < t->fdes[lo - 1].end ? &t->fdes[lo - 1] : NULL;
}

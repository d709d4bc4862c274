/* The BPF unwinder's walk over a copy of the stack (see unwind_user.h). */
#include "unwind/unwind_user.h"
#include "unwind/unwind_table.h"

#include <errno.h>
#include <string.h>

/* The signal frame the kernel builds, as bpf/ustack.bpf.h reads it: a
 * struct ucontext at rsp; rbp, rsp and rip are the 11th, 16th and 17th
 * words of its uc_mcontext, at 40. */
#define UC_MCONTEXT 40
#define UC_RBP (UC_MCONTEXT + 10 * 8)
#define UC_RSP (UC_MCONTEXT + 15 * 8)
#define UC_RIP (UC_MCONTEXT + 16 * 8)

struct walk {
	const struct unwind_user_stack *stack;
	struct unwind_user_walk *out;
	uint64_t ip, sp, bp;
	bool exact;
};

/* Reads 8 bytes at addr from the copy. Outside it: the walk stops, as a
 * truncation unless the copy says nothing above it is readable. */
static bool read_u64(struct walk *w, uint64_t addr, uint64_t *v)
{
	const struct unwind_user_stack *s = w->stack;
	uint64_t off = addr - s->base;

	if (addr >= s->base && off <= s->len && s->len - off >= sizeof(*v)) {
		memcpy(v, s->data + off, sizeof(*v));
		if (addr + sizeof(*v) > w->out->cfa_top)
			w->out->cfa_top = addr + sizeof(*v);
		return true;
	}
	w->out->end = s->end && addr >= s->base ? UNWIND_USER_DONE : UNWIND_USER_TRUNCATED;
	return false;
}

/* One step by frame pointer: the caller's rbp at rbp, return address
 * above. Returns false when the chain ends. */
static bool fp_step(struct walk *w)
{
	uint64_t bp = w->bp, ra, next_bp;

	if (!bp || (bp & 7) || bp < w->sp)
		return false;
	if (!read_u64(w, bp, &next_bp) || !read_u64(w, bp + 8, &ra))
		return false;
	w->out->fp_steps++;
	w->sp = bp + 16;
	w->bp = next_bp;
	w->ip = ra;
	w->exact = false;
	return true;
}

/* One step by the row covering the current frame. */
static bool row_step(struct walk *w, const struct st_urow *r, bool fp_fallback)
{
	uint64_t cfa, ra, bp;

	switch (r->cfa_kind) {
	case ST_CFA_RSP:
		cfa = w->sp + r->cfa_off;
		break;
	case ST_CFA_RBP:
		cfa = w->bp + r->cfa_off;
		break;
	case ST_CFA_PLT:
		cfa = w->sp + 8 + (((w->ip & 15) >= r->cfa_off) ? 8 : 0);
		break;
	case ST_CFA_SIGNAL: {
		uint64_t sp = w->sp;

		if (!read_u64(w, sp + UC_RIP, &w->ip) || !read_u64(w, sp + UC_RBP, &w->bp) ||
		    !read_u64(w, sp + UC_RSP, &w->sp))
			return false;
		w->exact = true;
		return true;
	}
	case ST_CFA_STOP:
		return false;
	default:
		/* A gap in the CFI: hand-written code, or a rule we cannot follow. */
		return fp_fallback && fp_step(w);
	}
	if (cfa <= w->sp || !read_u64(w, cfa - 8, &ra))
		return false;
	if (r->rbp_off) {
		if (!read_u64(w, cfa + 8 * (int64_t)r->rbp_off, &bp))
			return false;
		w->bp = bp;
	}
	w->sp = cfa;
	w->ip = ra;
	w->exact = false;
	return true;
}

void unwind_user_walk(const struct unwind_user_regs *r, const struct unwind_user_stack *stack,
		      unwind_user_find_fn find, void *ctx, bool fp_fallback, __u64 *ips,
		      uint32_t max, struct unwind_user_walk *out)
{
	struct walk w = { stack, out, r->ip, r->sp, r->bp, r->exact };

	*out = (struct unwind_user_walk){ .end = UNWIND_USER_DONE };
	for (;;) {
		const struct unwind_table *t;
		const struct st_urow *row;
		struct st_urow found;
		uint64_t pc, bias;
		int err;

		if (out->nr >= max) {
			out->end = UNWIND_USER_MAX;
			return;
		}
		if (w.ip < 4096)
			return;
		ips[out->nr++] = w.ip;
		pc = w.exact ? w.ip : w.ip - 1;
		err = find(ctx, pc, &t, &bias);
		if (err == -EAGAIN) {
			out->end = UNWIND_USER_PENDING;
			return;
		}
		row = err || pc - bias > 0xffffffffull || !unwind_table_find(t, pc - bias, &found)
			      ? NULL : &found;
		if (row ? !row_step(&w, row, fp_fallback) : !(fp_fallback && fp_step(&w)))
			return;
	}
}

/* libFuzzer target: the userspace walk of cold samples (unwind_user) on
 * stack copies as a profiled process could fill them, over rows as hostile:
 * input = [nr rows][rows, 8 bytes each][ip, sp, bp offsets, flags][stack].
 * The walk must stay inside the copy and the frame limit, whatever it holds. */
#include "unwind/unwind_table.h"
#include "unwind/unwind_user.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BIAS 0x400000ull	/* the object's rows cover [BIAS, BIAS + 64 KiB) */
#define NOTAB 0x900000ull	/* code without a table */
#define LATER 0xa00000ull	/* a table not built yet */
#define BASE 0x7ffd00000000ull	/* the copy's address */
#define MAX_ROWS 32

struct fuzz_obj {
	struct unwind_table t;
	struct st_urow rows[MAX_ROWS];
};

static int cmp_row(const void *a, const void *b)
{
	const struct st_urow *x = a, *y = b;

	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static int find(void *ctx, uint64_t pc, const struct unwind_table **t, uint64_t *bias)
{
	struct fuzz_obj *o = ctx;

	if (pc >= NOTAB && pc < NOTAB + 0x10000)
		return -ENODATA;
	if (pc >= LATER && pc < LATER + 0x10000)
		return -EAGAIN;
	if (pc < BIAS || pc >= BIAS + 0x10000 || !o->t.nr_rows)
		return -ENOENT;
	*t = &o->t;
	*bias = BIAS;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_obj o;
	struct unwind_user_regs r;
	struct unwind_user_stack s;
	struct unwind_user_walk w;
	__u64 ips[ST_MAX_FRAMES];
	uint64_t v[4];
	uint32_t nr;

	if (size < 1)
		return 0;
	nr = data[0] % (MAX_ROWS + 1);
	if (size < 1 + nr * sizeof(struct st_urow) + sizeof(v))
		return 0;
	memcpy(o.rows, data + 1, nr * sizeof(struct st_urow));
	for (uint32_t i = 0; i < nr; i++)
		o.rows[i].pc &= 0xffff;
	qsort(o.rows, nr, sizeof(o.rows[0]), cmp_row);
	memcpy(v, data + 1 + nr * sizeof(struct st_urow), sizeof(v));
	/* Encoded as the builder does (pages of rows, as the BPF program reads them). */
	free(o.t.rules);
	free(o.t.crows);
	free(o.t.pages);
	o.t = (struct unwind_table){ .rows = o.rows, .nr_rows = nr };
	if (unwind_table_encode(&o.t))
		return 0;
	s.data = data + 1 + nr * sizeof(struct st_urow) + sizeof(v);
	s.len = size - (1 + nr * sizeof(struct st_urow) + sizeof(v));
	s.base = BASE;
	s.end = v[3] & 1;
	/* Registers near the copy and the code, or anywhere. */
	r.ip = (v[3] & 2) ? v[0] : BIAS + (v[0] & 0xffff);
	r.sp = (v[3] & 4) ? v[1] : BASE + (v[1] & 0xffff);
	r.bp = (v[3] & 8) ? v[2] : BASE + (v[2] & 0xffff);
	r.exact = v[3] & 16;
	unwind_user_walk(&r, &s, find, &o, v[3] & 32, ips, ST_MAX_FRAMES, &w);
	if (w.nr > ST_MAX_FRAMES || (w.cfa_top && (w.cfa_top < s.base || w.cfa_top > s.base + s.len)))
		abort();
	return 0;
}

/* Capturing the user stack of the interrupted task. Included once, by
 * sampletop.bpf.c.
 *
 * With unwind_mode ST_UNWIND_FP: the kernel's frame-pointer walk
 * (bpf_get_stack). Otherwise the stack is unwound here from the CFI tables
 * userspace builds per object (user/unwind_table.c) and pushes per process
 * (user/unwind_maps.c): per frame, find the mapping, binary-search its row,
 * compute the CFA, read the return address at CFA - 8, restore rbp, step.
 * A process without tables yet is walked by frame pointer, flagged, and
 * userspace pushes its tables on its next drain. */
#ifndef USTACK_BPF_H
#define USTACK_BPF_H

const volatile __u8 unwind_mode = ST_UNWIND_FP;

/* Every object's rows; userspace writes them through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, ST_UNWIND_MAX_ROWS);
	__type(key, __u32);
	__type(value, struct st_urow);
} unwind_rows SEC(".maps");

/* tgid -> its executable mappings. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ST_UNWIND_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct st_uproc);
} unwind_procs SEC(".maps");

/* Offsets in the signal frame the kernel builds (struct rt_sigframe minus
 * its popped return address, i.e. a struct ucontext at rsp): uc_mcontext
 * starts at 40; rbp, rsp and rip are its 11th, 16th and 17th words. */
#define UC_MCONTEXT 40
#define UC_RBP (UC_MCONTEXT + 10 * 8)
#define UC_RSP (UC_MCONTEXT + 15 * 8)
#define UC_RIP (UC_MCONTEXT + 16 * 8)

struct ust_state {
	__u64 ip, sp, bp;
	struct st_sample *s;
	struct st_uproc *proc;
	__u32 n;		/* frames written to s->ips */
	__u8 exact;		/* ip is an exact pc (leaf, signal), not a return address */
	__u8 more;		/* the walk would have gone on past ST_MAX_FRAMES */
};

/* Binary searches run as bpf_loop callbacks: verified once each, instead
 * of once per path through an unrolled loop. */
struct map_search {
	const struct st_uproc *p;
	__u64 pc;
	__u32 lo, hi;
	__u32 found;		/* index + 1, or 0 */
};

static long map_search_step(__u32 i, void *arg)
{
	struct map_search *ms = arg;
	const struct st_uproc *p = ms->p;
	__u32 mid = ms->lo + (ms->hi - ms->lo) / 2;
	const struct st_umap *m;

	if (!p || ms->lo >= ms->hi || mid >= ST_UNWIND_MAX_MAPS)
		return 1;
	m = &p->maps[mid];
	if (ms->pc < m->start) {
		ms->hi = mid;
	} else if (ms->pc >= m->end) {
		ms->lo = mid + 1;
	} else {
		ms->found = mid + 1;
		return 1;
	}
	return 0;
}

static __always_inline const struct st_umap *unwind_find_map(const struct st_uproc *p, __u64 pc)
{
	struct map_search ms = { .p = p, .pc = pc, .hi = p->nr };
	__u32 idx;

	if (ms.hi > ST_UNWIND_MAX_MAPS)
		ms.hi = ST_UNWIND_MAX_MAPS;
	bpf_loop(ST_UNWIND_MAP_STEPS, map_search_step, &ms, 0);
	if (!ms.found)
		return NULL;
	idx = ms.found - 1;
	barrier_var(idx);	/* keep the check next to the access it guards */
	if (idx >= ST_UNWIND_MAX_MAPS)
		return NULL;
	return &p->maps[idx];
}

struct row_search {
	__u32 lo, hi, off;
};

static long row_search_step(__u32 i, void *arg)
{
	struct row_search *rs = arg;
	__u32 mid = rs->lo + (rs->hi - rs->lo) / 2;
	const struct st_urow *r;

	if (rs->lo >= rs->hi)
		return 1;
	r = bpf_map_lookup_elem(&unwind_rows, &mid);
	if (!r)
		return 1;
	if (r->pc <= rs->off)
		rs->lo = mid + 1;
	else
		rs->hi = mid;
	return 0;
}

/* The last row at or below off among [first, first + nr). */
static __always_inline const struct st_urow *unwind_find_row(__u32 first, __u32 nr, __u32 off)
{
	struct row_search rs = { .lo = first, .hi = first + nr, .off = off };
	__u32 idx;

	bpf_loop(ST_UNWIND_ROW_STEPS, row_search_step, &rs, 0);
	if (rs.lo <= first)
		return NULL;
	idx = rs.lo - 1;
	return bpf_map_lookup_elem(&unwind_rows, &idx);
}

static __always_inline int read_user_u64(__u64 *out, __u64 addr)
{
	return bpf_probe_read_user(out, sizeof(*out), (const void *)addr);
}

/* One step by frame pointer: the caller's rbp at rbp, return address above. */
static __always_inline int unwind_fp_step(struct ust_state *st)
{
	__u64 bp = st->bp, ra, next_bp;

	if (!bp || (bp & 7) || bp < st->sp)
		return 1;
	if (read_user_u64(&next_bp, bp) || read_user_u64(&ra, bp + 8)) {
		count(ST_CNT_UNWIND_READ_ERR);
		return 1;
	}
	count(ST_CNT_UNWIND_FP_FRAMES);
	st->sp = bp + 16;
	st->bp = next_bp;
	st->ip = ra;
	st->exact = 0;
	return 0;
}

/* bpf_loop body: records st->ip, then steps to the caller. 1 stops. */
static long unwind_step(__u32 i, void *arg)
{
	struct ust_state *st = arg;
	struct st_sample *s = st->s;
	const struct st_umap *m;
	const struct st_urow *r;
	__u64 pc, cfa, ra, off;
	__u32 n = st->n;

	if (n >= ST_MAX_FRAMES) {
		st->more = 1;
		return 1;
	}
	if (!s || !st->proc || st->ip < 4096)
		return 1;
	s->ips[n] = st->ip;
	st->n = n + 1;

	pc = st->exact ? st->ip : st->ip - 1;
	m = unwind_find_map(st->proc, pc);
	if (!m) {
		count(ST_CNT_UNWIND_NO_MAP);
		s->flags |= ST_SAMPLE_UNWIND_MISS;
		return unwind_mode == ST_UNWIND_AUTO ? unwind_fp_step(st) : 1;
	}
	off = pc - m->bias;
	if (!m->row_nr || off > 0xffffffffULL)
		return unwind_mode == ST_UNWIND_AUTO ? unwind_fp_step(st) : 1;
	r = unwind_find_row(m->row_first, m->row_nr, off);
	if (!r)
		return unwind_mode == ST_UNWIND_AUTO ? unwind_fp_step(st) : 1;

	switch (r->cfa_kind) {
	case ST_CFA_RSP:
		cfa = st->sp + r->cfa_off;
		break;
	case ST_CFA_RBP:
		cfa = st->bp + r->cfa_off;
		break;
	case ST_CFA_PLT:
		cfa = st->sp + 8 + (((st->ip & 15) >= r->cfa_off) ? 8 : 0);
		break;
	case ST_CFA_SIGNAL:
		if (read_user_u64(&st->ip, st->sp + UC_RIP) ||
		    read_user_u64(&st->bp, st->sp + UC_RBP) ||
		    read_user_u64(&st->sp, st->sp + UC_RSP)) {
			count(ST_CNT_UNWIND_READ_ERR);
			return 1;
		}
		st->exact = 1;
		return 0;
	case ST_CFA_STOP:
		return 1;
	default:
		/* A gap in the CFI: hand-written code, or a rule we cannot follow. */
		if (unwind_mode == ST_UNWIND_AUTO)
			return unwind_fp_step(st);
		count(ST_CNT_UNWIND_NO_RULE);
		return 1;
	}
	if (cfa <= st->sp || read_user_u64(&ra, cfa - 8)) {
		if (cfa > st->sp)
			count(ST_CNT_UNWIND_READ_ERR);
		return 1;
	}
	if (r->rbp_off && read_user_u64(&st->bp, cfa + 8 * (__s64)r->rbp_off)) {
		count(ST_CNT_UNWIND_READ_ERR);
		return 1;
	}
	st->sp = cfa;
	st->ip = ra;
	st->exact = 0;
	return 0;
}

/* The user registers at the interruption: from the perf context when user
 * code was interrupted, else those saved at kernel entry. */
static __always_inline int user_regs(struct bpf_perf_event_data *ctx, struct ust_state *st)
{
	struct task_struct *task;
	struct pt_regs *regs;

	if ((ctx->regs.csx & 3) != 0) {
		st->ip = ctx->regs.ip;
		st->sp = ctx->regs.sp;
		st->bp = ctx->regs.bp;
		return 0;
	}
	task = bpf_get_current_task_btf();
	if (!task || !task->mm)		/* kernel thread: no user stack */
		return -1;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return -1;
	st->ip = BPF_CORE_READ(regs, ip);
	st->sp = BPF_CORE_READ(regs, sp);
	st->bp = BPF_CORE_READ(regs, bp);
	return 0;
}

static __always_inline long capture_user_stack_fp(struct bpf_perf_event_data *ctx,
						  struct st_sample *s)
{
	long n = bpf_get_stack(ctx, s->ips, ST_MAX_FRAMES * sizeof(__u64), BPF_F_USER_STACK);

	if (n < 0)
		return n;
	n /= sizeof(__u64);
	if (n >= ST_MAX_FRAMES)
		s->flags |= ST_SAMPLE_USER_TRUNCATED;
	return n;
}

/* Fills s->ips[0 .. ST_MAX_FRAMES) leaf first; returns the number of frames
 * (0 .. ST_MAX_FRAMES) or a negative error. Sets ST_SAMPLE_USER_TRUNCATED. */
static __always_inline long capture_user_stack(struct bpf_perf_event_data *ctx,
					       struct st_sample *s)
{
	struct ust_state st = { .s = s, .exact = 1 };
	__u32 tgid = s->tgid;

	if (unwind_mode == ST_UNWIND_FP)
		return capture_user_stack_fp(ctx, s);
	st.proc = bpf_map_lookup_elem(&unwind_procs, &tgid);
	if (!st.proc) {
		count(ST_CNT_UNWIND_NO_PROC);
		s->flags |= ST_SAMPLE_UNWIND_MISS;
		return capture_user_stack_fp(ctx, s);
	}
	if (user_regs(ctx, &st))
		return 0;
	bpf_loop(ST_MAX_FRAMES + 1, unwind_step, &st, 0);
	if (st.more)
		s->flags |= ST_SAMPLE_USER_TRUNCATED;
	return st.n;
}

#endif

/* Capturing the user stack of the interrupted task. Included once, by
 * sampletop.bpf.c.
 *
 * With unwind_mode ST_UNWIND_FP: the kernel's frame-pointer walk
 * (bpf_get_stack). Otherwise the stack is unwound here from the CFI tables
 * userspace builds per object (user/unwind/unwind_table.c) and pushes per process
 * (user/unwind/unwind_bpf.c): per frame, find the mapping, its 4 KiB page,
 * binary-search the page's rows, read the row's rule, compute the CFA, read the return address at CFA - 8, restore rbp, step.
 * A process not pushed yet has its mappings found with bpf_find_vma and
 * its objects' tables by (device, inode); it is flagged, and userspace
 * pushes its tables on its next drain. */
#ifndef USTACK_BPF_H
#define USTACK_BPF_H

const volatile __u8 unwind_mode = ST_UNWIND_FP;

/* Every table's rows, two per element; userspace writes them through mmap
 * and sizes this map and the next from its memory budget before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct st_ucrow2);
} unwind_rows SEC(".maps");

/* Every table's pages (see struct st_upage). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct st_upage);
} unwind_pages SEC(".maps");

/* The distinct rules of every table (a row names one). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ST_UNWIND_MAX_RULES);
	__type(key, __u32);
	__type(value, struct st_urule);
} unwind_rules SEC(".maps");

/* Per table slot, when it was last walked (bpf_ktime ns): userspace evicts
 * the tables sampled least recently when the budget is full. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, ST_UNWIND_MAX_TABLES);
	__type(key, __u32);
	__type(value, __u64);
} unwind_used SEC(".maps");

/* tgid -> its executable mappings. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ST_UNWIND_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct st_uproc);
} unwind_procs SEC(".maps");

/* (device, inode) -> its object's table: how a process with no entry in
 * unwind_procs yet is unwound, its mappings found with bpf_find_vma. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ST_UNWIND_MAX_OBJS);
	__type(key, struct st_uobj_key);
	__type(value, struct st_uobj);
} unwind_objs SEC(".maps");

/* tgid -> mappings found with bpf_find_vma (see struct st_uvmas). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ST_UNWIND_MAX_VMA_PROCS);
	__type(key, __u32);
	__type(value, struct st_uvmas);
} unwind_vmas SEC(".maps");

/* Offsets in the signal frame the kernel builds (struct rt_sigframe minus
 * its popped return address, i.e. a struct ucontext at rsp): uc_mcontext
 * starts at 40; rbp, rsp and rip are its 11th, 16th and 17th words. */
#define UC_MCONTEXT 40
#define UC_RBP (UC_MCONTEXT + 10 * 8)
#define UC_RSP (UC_MCONTEXT + 15 * 8)
#define UC_RIP (UC_MCONTEXT + 16 * 8)

_Static_assert((ST_MAX_USER_FRAMES & (ST_MAX_USER_FRAMES + 1)) == 0,
	       "ST_MAX_USER_FRAMES + 1 is a power of two");

/* The walk's registers live in a per-CPU map, not on the stack: the
 * verifier then sees unknown scalars at every step instead of ever new
 * ranges, and verifies the step callback once. */
struct ust_state {
	__u64 ip, sp, bp;
	__u32 n;		/* frames written to s->ips */
	__u32 map_hint;		/* index + 1 of the last mapping found */
	__u8 exact;		/* ip is an exact pc (leaf, signal), not a return address */
	__u8 more;		/* the walk would have gone on past ST_MAX_USER_FRAMES */
	__u8 vma_asked;		/* bpf_find_vma used (once per sample) */
	__u8 new_object;	/* met a mapped file without a table yet */
	__u8 vma_busy;		/* a pc missed the found mappings, and bpf_find_vma could not
				 * tell (used already in this sample, or its lock taken) */
	__u8 cold;		/* enum cold_state (cold.bpf.h) */
	__u64 tramp;		/* the uretprobe trampoline, when one may be on the stack */
	__u64 ri;		/* the next pending struct return_instance to match */
	__u64 scope_slot, scope_ret;	/* without ri: --scope's outermost call's */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ust_state);
} unwind_state SEC(".maps");

/* Pending uretprobes (--scope's, or another tool's) replaced the return
 * addresses of their calls on the stack with the trampoline at the start
 * of the process's uprobe page (the "[uprobes]" mapping), which has no
 * table: the walk would end there, losing every caller. The kernel keeps
 * each original in the thread's uprobe task, innermost first, with the
 * user rsp at the hijack (the return address's slot); as perf's callchain
 * code does, a trampoline met is mapped back to it. The kernel nests them
 * at most 64 deep (MAX_URETPROBE_DEPTH). Not mapped: a sample taken while
 * the trampoline itself runs (its few instructions; the leaf is then in
 * "[uprobes]" and the walk ends there). With frame pointers only
 * (bpf_get_stack) the kernel does the same mapping itself. */
#define URET_MAX_DEPTH 64

/* scope.bpf.h: where tid's outermost --scope call has its return address,
 * and the original one; false outside every call. For a kernel whose
 * uprobe task cannot be read. */
static __always_inline bool scope_ret_slot(__u32 tid, __u64 *slot, __u64 *ret);

/* Sets st->tramp (and st->ri, the innermost pending instance) when the
 * current thread has uretprobes pending: else no trampoline can be on its
 * stack, and the walk pays two loads. */
static __always_inline void uret_begin(struct ust_state *st, __u32 tid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct return_instance *ri = NULL;

	if (!task || !bpf_core_field_exists(task->mm->uprobes_state.xol_area))
		return;
	if (bpf_core_field_exists(task->utask->return_instances) &&
	    bpf_core_field_exists(ri->stack) && bpf_core_field_exists(ri->orig_ret_vaddr) &&
	    bpf_core_field_exists(ri->next)) {
		/* Direct loads (no helper call): every sample pays them. */
		if (!task->utask)
			return;
		ri = task->utask->return_instances;
		if (!ri)
			return;
		st->ri = (__u64)ri;
	} else if (!scope_ret_slot(tid, &st->scope_slot, &st->scope_ret)) {
		return;
	}
	st->tramp = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
}

struct uret_search {
	__u64 ri, slot, orig;
	__u8 found;
};

/* bpf_loop body: the first pending instance whose slot is u->slot; those
 * before it are stale (left by longjmp, freed by the kernel later). */
static long uret_search_step(__u32 i, void *arg)
{
	struct uret_search *u = arg;
	struct return_instance *ri = (struct return_instance *)u->ri;

	if (!ri)
		return 1;
	u->ri = (__u64)BPF_CORE_READ(ri, next);
	if (BPF_CORE_READ(ri, stack) != u->slot)
		return 0;
	u->orig = BPF_CORE_READ(ri, orig_ret_vaddr);
	u->found = 1;
	return 1;
}

/* *ra was read at slot: the trampoline becomes the original return
 * address. No instance at that slot: the next one in order (the stack and
 * the list are both innermost first), as the kernel's callchain does. */
static __always_inline void uret_fix(struct ust_state *st, __u64 slot, __u64 *ra)
{
	struct uret_search u = { .ri = st->ri, .slot = slot };
	struct return_instance *ri = (struct return_instance *)st->ri;

	if (!st->tramp || *ra != st->tramp)
		return;
	if (!ri) {
		if (slot == st->scope_slot)
			*ra = st->scope_ret;
		return;
	}
	bpf_loop(URET_MAX_DEPTH, uret_search_step, &u, 0);
	if (u.found) {
		*ra = u.orig;
		st->ri = u.ri;
		return;
	}
	*ra = BPF_CORE_READ(ri, orig_ret_vaddr);
	st->ri = (__u64)BPF_CORE_READ(ri, next);
}

#include "cold.bpf.h"

struct ust_ctx {
	struct st_sample *s;
	struct st_uproc *proc;
	struct st_uvmas *vmas;	/* NULL when the process has its maps pushed */
	struct ust_state *st;
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
	/* Masked, not compared: the verifier then needs no precise lo and hi,
	 * and states of different iterations prune against each other. */
	__u32 mid = (ms->lo + (ms->hi - ms->lo) / 2) & (ST_UNWIND_MAX_MAPS - 1);
	const struct st_umap *m;

	if (!p || ms->lo >= ms->hi)
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

/* The mapping holding pc; *hint (index + 1, or 0) is tried first, since
 * neighbouring frames are mostly in the same object, and updated. */
static __always_inline const struct st_umap *unwind_find_map(const struct st_uproc *p, __u64 pc,
							     __u32 *hint)
{
	struct map_search ms = { .p = p, .pc = pc, .hi = p->nr };
	__u32 idx = (*hint - 1) & (ST_UNWIND_MAX_MAPS - 1);

	if (*hint && pc >= p->maps[idx].start && pc < p->maps[idx].end)
		return &p->maps[idx];
	if (ms.hi > ST_UNWIND_MAX_MAPS)
		ms.hi = ST_UNWIND_MAX_MAPS;
	bpf_loop(ST_UNWIND_MAP_STEPS, map_search_step, &ms, 0);
	if (!ms.found)
		return NULL;
	idx = (ms.found - 1) & (ST_UNWIND_MAX_MAPS - 1);
	*hint = ms.found;
	return &p->maps[idx];
}

struct row_search {
	__u32 lo, hi, off;
};

static long row_search_step(__u32 i, void *arg)
{
	struct row_search *rs = arg;
	__u32 mid = rs->lo + (rs->hi - rs->lo) / 2, k = mid / 2;
	const struct st_ucrow2 *e;

	if (rs->lo >= rs->hi)
		return 1;
	e = bpf_map_lookup_elem(&unwind_rows, &k);
	if (!e)
		return 1;
	if (e->r[mid & 1].off <= rs->off)
		rs->lo = mid + 1;
	else
		rs->hi = mid;
	return 0;
}

/* The rule of mapping m at ELF vaddr off: off's page gives the few rows
 * to search (its first at offset 0), the row found names the rule. */
static __always_inline const struct st_urule *unwind_find_row(const struct st_umap *m, __u64 off)
{
	struct row_search rs = {};
	const struct st_upage *pg;
	const struct st_ucrow2 *e;
	__u32 k, rule;

	if (off < m->base || off - m->base >= ((__u64)m->page_nr << ST_UNWIND_PAGE_SHIFT))
		return NULL;
	k = m->page_first + ((off - m->base) >> ST_UNWIND_PAGE_SHIFT);
	pg = bpf_map_lookup_elem(&unwind_pages, &k);
	if (!pg || !pg->nr)
		return NULL;
	rs.off = (off - m->base) & (ST_UNWIND_PAGE_SIZE - 1);
	rs.lo = pg->first + 1;	/* the first row is at offset 0: never past it */
	rs.hi = pg->first + pg->nr;
	bpf_loop(ST_UNWIND_PAGE_STEPS, row_search_step, &rs, 0);
	k = rs.lo - 1;
	e = bpf_map_lookup_elem(&unwind_rows, &(__u32){ k / 2 });
	if (!e)
		return NULL;
	rule = e->r[k & 1].rule;
	return bpf_map_lookup_elem(&unwind_rules, &rule);
}

/* Stamps m's table as sampled now (once per grain): the eviction order. */
static __always_inline void unwind_mark_used(const struct st_umap *m, __u64 now)
{
	__u32 k = m->slot - 1;
	__u64 *used;

	if (!m->slot)
		return;
	used = bpf_map_lookup_elem(&unwind_used, &k);
	if (used && now - *used >= ST_UNWIND_USED_GRAIN_NS)
		*used = now;
}

struct vma_info {
	__u64 start, end, pgoff;
	struct st_uobj_key key;
	__u32 found;
};

static long vma_info_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_info *v = data;
	struct file *f = vma->vm_file;

	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->pgoff = vma->vm_pgoff;
	if (!f)
		return 0;
	v->key.ino = BPF_CORE_READ(f, f_inode, i_ino);
	v->key.size = BPF_CORE_READ(f, f_inode, i_size);
	v->key.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	v->found = 1;
	return 0;
}

/* tgid's found mappings, made empty the first time. Only asked for when
 * pushed mappings are missing or miss: not on the common path. */
static __noinline struct st_uvmas *get_vmas(__u32 tgid)
{
	static const struct st_uvmas empty;
	struct st_uvmas *v = bpf_map_lookup_elem(&unwind_vmas, &tgid);

	if (v)
		return v;
	bpf_map_update_elem(&unwind_vmas, &tgid, &empty, BPF_NOEXIST);
	return bpf_map_lookup_elem(&unwind_vmas, &tgid);
}

/* For a process whose pushed maps (if any) miss pc: the mapping of pc as
 * the kernel has it, with its object's table if userspace built one (row_nr
 * 0 otherwise). Found mappings are kept in vmas, by address; the kernel is
 * asked at most once per sample. */
static __always_inline const struct st_umap *unwind_vma_map(struct ust_state *st,
							   struct st_uvmas *vmas, __u64 pc)
{
	struct vma_info v = {};
	const struct st_uobj *o;
	struct st_umap *m;
	__u32 slot = ST_UNWIND_VMA_SLOTS, hit = ST_UNWIND_VMA_SLOTS, now_ms;
	__u64 off;

	if (!vmas)
		return NULL;
#pragma unroll
	for (int i = 0; i < ST_UNWIND_VMA_SLOTS; i++) {
		m = &vmas->maps[i];
		if (pc >= m->start && pc < m->end) {
			hit = i;
			break;
		}
		if (!m->end && slot == ST_UNWIND_VMA_SLOTS)
			slot = i;
	}
	if (hit < ST_UNWIND_VMA_SLOTS) {
		m = &vmas->maps[hit & (ST_UNWIND_VMA_SLOTS - 1)];
		/* A file that had no table: once in a while, and when the
		 * kernel can still be asked, see whether it has one now (in
		 * place, if so). Outside the unrolled loop: verified once. */
		if (!m->recheck_ms)
			return m;
		st->new_object = 1;
		if (st->vma_asked ||
		    (__s32)((__u32)(bpf_ktime_get_ns() / 1000000) - m->recheck_ms) < 0)
			return m;
		slot = hit;
	}
	if (st->vma_asked) {
		st->vma_busy = 1;
		return NULL;
	}
	st->vma_asked = 1;
	/* An error (its mmap lock is taken: a sample in brk or mmap) leaves pc
	 * unknown, as a second ask would; no file there is an answer. */
	if (bpf_find_vma(bpf_get_current_task_btf(), pc, vma_info_cb, &v, 0)) {
		st->vma_busy = 1;
		return NULL;
	}
	if (!v.found)
		return NULL;
	/* The first empty slot; when all are taken, one chosen by address. */
	if (slot == ST_UNWIND_VMA_SLOTS)
		slot = v.start >> 12;
	m = &vmas->maps[slot & (ST_UNWIND_VMA_SLOTS - 1)];
	*m = (struct st_umap){ .start = v.start, .end = v.end };
	o = bpf_map_lookup_elem(&unwind_objs, &v.key);
	if (!o) {
		now_ms = bpf_ktime_get_ns() / 1000000 + ST_UNWIND_RECHECK_MS;
		m->recheck_ms = now_ms ?: 1;
		st->new_object = 1;
		return m;
	}
	off = v.pgoff << 12;	/* the file offset at v.start */
#pragma unroll
	for (int i = 0; i < ST_UNWIND_OBJ_LOADS; i++) {
		if (i >= o->nr_loads)
			break;
		/* Segments are page-congruent: the one whose page range holds off. */
		if (off + 4096 > o->loads[i].offset && off < o->loads[i].offset + o->loads[i].filesz) {
			m->bias = v.start - off - o->loads[i].delta;
			m->page_first = o->page_first;
			m->page_nr = o->page_nr;
			m->base = o->base;
			m->slot = o->slot;
			m->row_nr = o->row_nr;	/* last: a reader on another CPU sees 0 or all */
			break;
		}
	}
	return m;
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
	uret_fix(st, bp + 8, &ra);
	st->sp = bp + 16;
	st->bp = next_bp;
	st->ip = ra;
	st->exact = 0;
	return 0;
}

/* bpf_loop body: records st->ip, then steps to the caller. 1 stops. */
static long unwind_step(__u32 i, void *arg)
{
	struct ust_ctx *c = arg;
	struct ust_state *st = c->st;
	struct st_sample *s = c->s;
	const struct st_umap *m;
	const struct st_urule *r;
	__u64 pc, cfa, ra, off;
	__u32 n;

	if (!st)
		return 1;
	n = st->n;
	if (n >= ST_MAX_USER_FRAMES) {
		st->more = 1;
		return 1;
	}
	if (!s || !st || st->ip < 4096)
		return 1;
	/* Masked, not only compared: the verifier then needs no precise n, and
	 * the states of successive frames prune against each other. */
	s->ips[n & ST_MAX_USER_FRAMES] = st->ip;
	st->n = n + 1;

	pc = st->exact ? st->ip : st->ip - 1;
	m = c->proc ? unwind_find_map(c->proc, pc, &st->map_hint) : NULL;
	if (!m) {
		/* Pushed maps that miss pc (a dlopen, an exec whose push raced
		 * it) are stale: ask for new ones, and ask the kernel now. */
		if (c->proc) {
			count(ST_CNT_UNWIND_NO_MAP);
			s->flags |= ST_SAMPLE_UNWIND_MISS;
			if (!c->vmas)
				c->vmas = get_vmas(s->tgid);
		}
		m = unwind_vma_map(st, c->vmas, pc);
	}
	if (!m) {
		/* Not known, since the kernel could not be asked again: maybe a
		 * file without a table, so no guess (and no count yet). */
		if (st->vma_busy && cold_stop(st))
			return 1;
		if (!c->proc)
			count(ST_CNT_UNWIND_NO_MAP);
		return unwind_mode == ST_UNWIND_AUTO ? unwind_fp_step(st) : 1;
	}
	unwind_mark_used(m, s->time_ns);
	off = pc - m->bias;
	/* A file whose table is not built yet (recheck_ms): stop, and let
	 * userspace finish the walk once it is. Pushed mappings without rows
	 * have none to come (no CFI, JIT code, rows map full). */
	if (!m->row_nr && m->recheck_ms && cold_stop(st))
		return 1;
	if (!m->row_nr || off > 0xffffffffULL)
		return unwind_mode == ST_UNWIND_AUTO ? unwind_fp_step(st) : 1;
	r = unwind_find_row(m, off);
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
	uret_fix(st, cfa - 8, &ra);
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

/* ctx: any program's context (the current task's user stack is walked). */
static __always_inline long capture_user_stack_fp(void *ctx, struct st_sample *s)
{
	long n = bpf_get_stack(ctx, s->ips, ST_MAX_FRAMES * sizeof(__u64), BPF_F_USER_STACK);

	if (n < 0)
		return n;
	n /= sizeof(__u64);
	if (n >= ST_MAX_FRAMES)
		s->flags |= ST_SAMPLE_USER_TRUNCATED;
	return n;
}

/* Finds s's process and resets this CPU's walk state (cold: enum
 * cold_state, whether a file without a table may stop the walk). The
 * caller sets the registers. Returns the state, or NULL. */
static __always_inline struct ust_state *unwind_begin(struct ust_ctx *c, struct st_sample *s,
						      __u8 cold)
{
	__u32 tgid = s->tgid, zero = 0;

	c->s = s;
	/* Not pushed yet: its mappings come from bpf_find_vma, frame by frame,
	 * and userspace is asked for its tables. */
	c->proc = bpf_map_lookup_elem(&unwind_procs, &tgid);
	if (!c->proc) {
		count(ST_CNT_UNWIND_NO_PROC);
		s->flags |= ST_SAMPLE_UNWIND_MISS;
		c->vmas = get_vmas(tgid);
	}
	c->st = bpf_map_lookup_elem(&unwind_state, &zero);
	if (c->st) {
		*c->st = (struct ust_state){ .exact = 1, .cold = cold };
		uret_begin(c->st, s->tid);
	}
	return c->st;
}

/* Walks from the registers in c->st into c->s; returns the frame count. */
static __always_inline long unwind_walk(struct ust_ctx *c)
{
	struct st_sample *s = c->s;
	struct ust_state *st = c->st;

	if (!st)
		return 0;
	bpf_loop(ST_MAX_USER_FRAMES + 1, unwind_step, c, 0);
	if (st->cold == COLD_STOPPED) {
		if (!cold_copy(s, st)) {
			s->flags |= ST_SAMPLE_COLD;
		} else {
			/* No room for the copy: on as without one, counted. */
			count(ST_CNT_COLD_LOST);
			st->cold = COLD_OFF;
			bpf_loop(ST_MAX_USER_FRAMES + 1, unwind_step, c, 0);
		}
	}
	if (st->more)
		s->flags |= ST_SAMPLE_USER_TRUNCATED;
	if (st->new_object)
		s->flags |= ST_SAMPLE_NEW_OBJECT;
	/* n <= ST_MAX_USER_FRAMES; masked so that the verifier knows it too (it
	 * comes from a map). */
	return st->n & ST_MAX_USER_FRAMES;
}

/* Fills s->ips[0 .. ST_MAX_USER_FRAMES) leaf first (ST_MAX_FRAMES with
 * frame pointers only); returns the number of frames or a negative error.
 * Sets ST_SAMPLE_USER_TRUNCATED. */
static __always_inline long capture_user_stack(struct bpf_perf_event_data *ctx,
					       struct st_sample *s)
{
	struct ust_ctx c = {};
	struct ust_state *st;

	if (unwind_mode == ST_UNWIND_FP)
		return capture_user_stack_fp(ctx, s);
	st = unwind_begin(&c, s, COLD_CAN_STOP);
	if (!st || user_regs(ctx, st))
		return 0;
	return unwind_walk(&c);
}

/* The same, from the user registers the current task saved as it entered
 * the kernel (regs: bpf_task_pt_regs of it), for a program that does not
 * run on a perf event (the scheduler's). No cold stop: where an object has
 * no table yet the walk goes on by frame pointers (or stops), since the
 * record must go now, in order with the records that follow it. */
static __always_inline long capture_task_user_stack(void *ctx, struct st_sample *s,
						    struct pt_regs *regs)
{
	struct ust_ctx c = {};
	struct ust_state *st;

	if (unwind_mode == ST_UNWIND_FP)
		return capture_user_stack_fp(ctx, s);
	st = unwind_begin(&c, s, COLD_OFF);
	if (!st)
		return 0;
	st->ip = BPF_CORE_READ(regs, ip);
	st->sp = BPF_CORE_READ(regs, sp);
	st->bp = BPF_CORE_READ(regs, bp);
	return unwind_walk(&c);
}

#endif

/* Cold start: a user stack walk that meets a mapped file without a table
 * yet stops there, and the sample leaves with what userspace needs to finish
 * the walk once the table exists (include/sampletop.h, struct st_ucold): the
 * stopped frame's registers and a copy of the stack above them. Included
 * once, by ustack.bpf.h, after struct ust_state. */
#ifndef COLD_BPF_H
#define COLD_BPF_H

/* Cold records; sized by userspace before load (ST_COLD_BYTES_PER_CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} cold_samples SEC(".maps");

/* The stack copy of the sample being taken, one slot per CPU (indexed by
 * CPU: too big for a per-CPU array). A page of slack past the copy's end
 * lets the verifier see that no page read overruns it. */
struct cold_buf {
	struct st_ucold hdr;
	__u8 stack[ST_COLD_STACK_MAX + 4096];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);	/* set to the number of CPUs by userspace */
	__type(key, __u32);
	__type(value, struct cold_buf);
} cold_stack SEC(".maps");

_Static_assert((ST_COLD_STACK_MAX & (ST_COLD_STACK_MAX - 1)) == 0, "copy offsets are masked");

enum cold_state {
	COLD_CAN_STOP,		/* a file without a table stops the walk */
	COLD_STOPPED,		/* it did: st holds the registers of that frame */
	COLD_OFF,		/* no room for the copy: walk on as without one */
};

/* Called by the walk at a pc whose object has no table yet, after the
 * frame was recorded: un-records it (userspace records it again, from the
 * copy, as the first frame of its own walk) and stops. Returns 1 to stop. */
static __always_inline int cold_stop(struct ust_state *st)
{
	if (st->cold != COLD_CAN_STOP)
		return 0;
	st->cold = COLD_STOPPED;
	st->n--;
	return 1;
}

struct cold_copy_ctx {
	struct cold_buf *b;
	__u64 sp;
	__u32 off, limit;
	__u8 end;		/* a page read failed: the stack ends there */
};

/* bpf_loop body: copies the stack page by page (bpf_probe_read_user is all
 * or nothing: one read of the whole range fails when its last page is not
 * mapped), up to limit or the first page that cannot be read. */
static long cold_copy_page(__u32 i, void *arg)
{
	struct cold_copy_ctx *c = arg;
	__u64 addr = c->sp + c->off, len = 4096 - (addr & 4095);
	__u32 off = c->off;

	if (off >= c->limit || !c->b)
		return 1;
	if (len > c->limit - off)
		len = c->limit - off;
	off &= ST_COLD_STACK_MAX - 1;
	/* Masked behind a barrier: clang would otherwise hand the helper the
	 * unclamped 32-bit limit - off, which the verifier cannot bound. */
	barrier_var(len);
	len &= 8191;
	if (len > 4096)
		return 1;
	if (bpf_probe_read_user(&c->b->stack[off], len, (const void *)addr)) {
		c->end = 1;
		return 1;
	}
	c->off += len;
	return 0;
}

struct cold_uret_ctx {
	struct cold_buf *b;
	__u64 ri, tramp, base;
	__u32 len;
};

/* Writes orig over the copy's word at addr if it holds the trampoline. */
static __always_inline void cold_uret_put(struct cold_uret_ctx *c, __u64 addr, __u64 orig)
{
	__u64 *word;
	__u32 off;

	if (!c->b || addr < c->base || addr - c->base + 8 > c->len)
		return;
	off = (addr - c->base) & (ST_COLD_STACK_MAX - 1);
	word = (__u64 *)&c->b->stack[off];
	if (*word == c->tramp)
		*word = orig;
}

/* bpf_loop body: one pending uretprobe instance (see uret_fix). */
static long cold_uret_step(__u32 i, void *arg)
{
	struct cold_uret_ctx *c = arg;
	struct return_instance *ri = (struct return_instance *)c->ri;

	if (!ri)
		return 1;
	cold_uret_put(c, BPF_CORE_READ(ri, stack), BPF_CORE_READ(ri, orig_ret_vaddr));
	c->ri = (__u64)BPF_CORE_READ(ri, next);
	return 0;
}

/* The copy as the stack would be without pending uretprobes: every slot
 * still holding the trampoline gets its original return address back, so
 * that userspace's walk of it (user/unwind/unwind_user.c) goes on past
 * them as the walk here does. */
static __always_inline void cold_uret_fix(struct ust_state *st, struct cold_buf *b, __u64 base,
					  __u32 len)
{
	struct cold_uret_ctx c = { .b = b, .ri = st->ri, .tramp = st->tramp, .base = base,
				   .len = len };

	if (!st->tramp)
		return;
	if (!st->ri) {
		if (st->scope_slot)
			cold_uret_put(&c, st->scope_slot, st->scope_ret);
		return;
	}
	bpf_loop(URET_MAX_DEPTH, cold_uret_step, &c, 0);
}

/* Copies the stack above the stopped frame's rsp (and the few bytes below
 * it on its page, see struct st_ucold) into this CPU's slot.
 * Returns 0, or -1 when the cold ring buffer has no room for the record (the
 * walk then goes on without it). */
static __always_inline int cold_copy(struct st_sample *s, struct ust_state *st)
{
	__u64 below = (st->sp & 4095) < ST_COLD_BELOW_SP ? (st->sp & 4095) : ST_COLD_BELOW_SP;
	struct cold_copy_ctx c = { .sp = st->sp - below, .limit = ST_COLD_STACK_MAX };
	__u32 cpu = bpf_get_smp_processor_id();
	struct task_struct *task;
	__u64 room, top;

	c.b = bpf_map_lookup_elem(&cold_stack, &cpu);
	if (!c.b)
		return -1;
	/* Room for the largest record: checked before the copy, which it would
	 * waste. Other CPUs may take it meanwhile: cold_output says so. */
	room = bpf_ringbuf_query(&cold_samples, BPF_RB_RING_SIZE) -
	       bpf_ringbuf_query(&cold_samples, BPF_RB_AVAIL_DATA);
	if (room < sizeof(struct st_ucold) + sizeof(*s) + ST_COLD_STACK_MAX + 16)
		return -1;
	/* A main thread's stack ends at its start: above are its arguments
	 * and environment, which no frame needs. */
	task = bpf_get_current_task_btf();
	top = task && s->tid == s->tgid ? BPF_CORE_READ(task, mm, start_stack) : 0;
	if (top > c.sp && top - c.sp + 64 < c.limit) {
		c.limit = top - c.sp + 64;
		c.end = 1;
	}
	bpf_loop(ST_COLD_STACK_MAX / 4096 + 1, cold_copy_page, &c, 0);
	cold_uret_fix(st, c.b, c.sp, c.off);
	c.b->hdr = (struct st_ucold){ .ip = st->ip, .sp = st->sp, .bp = st->bp, .base = c.sp,
				      .stack_len = c.off, .exact = st->exact, .stack_end = c.end };
	return 0;
}

/* Sends a cold sample (size bytes of s) with its copy. Returns 0, or -1
 * when the record found no room (the caller sends the sample as a plain
 * one). */
static __always_inline int cold_output(const struct st_sample *s, __u32 size, __u64 wakeup)
{
	__u32 cpu = bpf_get_smp_processor_id(), len;
	struct bpf_dynptr ptr;
	struct cold_buf *b;

	b = bpf_map_lookup_elem(&cold_stack, &cpu);
	if (!b)
		return -1;
	len = b->hdr.stack_len;
	if (len > ST_COLD_STACK_MAX || size > sizeof(*s))
		return -1;
	b->hdr.sample_size = size;
	if (bpf_ringbuf_reserve_dynptr(&cold_samples, sizeof(b->hdr) + size + len, 0, &ptr)) {
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return -1;
	}
	bpf_dynptr_write(&ptr, 0, &b->hdr, sizeof(b->hdr), 0);
	bpf_dynptr_write(&ptr, sizeof(b->hdr), (void *)s, size, 0);
	bpf_dynptr_write(&ptr, sizeof(b->hdr) + size, b->stack, len, 0);
	bpf_ringbuf_submit_dynptr(&ptr, wakeup);
	return 0;
}

#endif

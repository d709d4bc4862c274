/* --scope FUNC: only time inside calls of FUNC counts. uprobes/uretprobes on
 * FUNC keep a per-thread call depth (recursion counts once) and the id of the
 * thread's current outermost call; samples and off-CPU intervals outside every
 * call are dropped here, in the kernel. Included once, by sampletop.bpf.c,
 * after lifecycle.bpf.h.
 *
 * One depth per thread across every scoped function: a call of one scoped
 * function made inside a call of another is part of the outer call.
 *
 * A return the uretprobe never sees (longjmp, a C++ exception, the thread's
 * exit) must not leave the thread "inside" for ever. The user stack pointer
 * at the outermost entry says where the call's frame is: once the thread's
 * stack pointer is above it (within ST_SCOPE_STACK_SPAN), the call is over.
 * That is checked at the next entry, at every return and at every sample;
 * the call is then closed with ST_CALL_CUT. A thread that exits inside a
 * call closes it too (scope_on_exit), and userspace closes those still open
 * when sampling stops (sampler.c). */
#ifndef SCOPE_BPF_H
#define SCOPE_BPF_H

/* Set by userspace before load: a --scope function is probed. */
const volatile __u8 want_scope = 0;

/* tid -> the call it is in; no entry: outside every call. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ST_SCOPE_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct st_scope_thread);
} scope_threads SEC(".maps");

/* The last call id handed out (ids are unique per run, never 0). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} scope_ids SEC(".maps");

static __always_inline void scope_emit(const struct st_scope_thread *t, __u32 tid, __u32 kind,
				       __u32 flags, __u64 now)
{
	struct st_call *c = bpf_ringbuf_reserve(&samples, sizeof(*c), 0);

	if (!c) {
		count(ST_CNT_SCOPE_LOST);
		return;
	}
	c->tgid = t->tgid;
	c->tid = tid;
	c->time_ns = now;
	c->cpu = bpf_get_smp_processor_id();
	c->flags = ST_REC_EVENT | flags;
	c->kind = kind;
	c->probe = t->probe;
	c->call_id = t->call_id;
	c->begin_ns = t->begin_ns;
	c->start_ns = t->start_ns;
	bpf_ringbuf_submit(c, BPF_RB_NO_WAKEUP);
}

/* Has the thread's stack unwound past the call's entry (sp above it)? */
static __always_inline bool scope_left(const struct st_scope_thread *t, __u64 sp)
{
	return sp > t->entry_sp && sp - t->entry_sp < ST_SCOPE_STACK_SPAN;
}

/* Is the thread still inside the call, seen from a sample? Its stack
 * pointer cannot say (a function the caller calls after a longjmp has its
 * frame where the call's was), but the call's return address can: the
 * uretprobe replaced it with the trampoline at the start of the process's
 * uprobe page (the "uprobe xol area"), and a return, or a frame made since
 * in that slot, replaced that. Still the original address: the uretprobe
 * is being set up, in the kernel. Running in that page, or at the return
 * address (the kernel restored it before it runs the uretprobe, which
 * this sample may have interrupted: uprobe programs do not keep others
 * out): returning now. When the trampoline is not known, the call goes on. */
static __always_inline bool scope_sample_left(const struct st_scope_thread *t,
					      struct task_struct *task, struct pt_regs *regs)
{
	__u64 tramp = 0, slot, ip = BPF_CORE_READ(regs, ip);

	if (bpf_core_field_exists(task->mm->uprobes_state.xol_area))
		tramp = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
	if ((tramp && ip - tramp < 4096) || ip == t->ret_addr)
		return false;
	if (scope_left(t, BPF_CORE_READ(regs, sp)))
		return true;
	if (!tramp || bpf_probe_read_user(&slot, sizeof(slot), (void *)t->entry_sp))
		return false;
	return slot != tramp && slot != t->ret_addr;
}

/* Closes the thread's call without its return: ST_CALL_CUT. */
static __always_inline void scope_cut(struct st_scope_thread *t, __u32 tid, __u64 now)
{
	scope_emit(t, tid, ST_EV_CALL_END, ST_CALL_CUT, now);
	bpf_map_delete_elem(&scope_threads, &tid);
}

SEC("uprobe")
int scope_enter(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now, sp = PT_REGS_SP(ctx), *last;
	__u32 tgid = id >> 32, tid = (__u32)id, zero = 0;
	struct st_scope_thread *t, v = {};

	if (!is_target(tgid, tid))
		return 0;
	now = bpf_ktime_get_ns();
	t = bpf_map_lookup_elem(&scope_threads, &tid);
	if (t) {
		/* At or above the outermost entry's sp: not inside that call
		 * any more (its return was skipped), this is a new one. */
		if (sp < t->entry_sp || sp - t->entry_sp >= ST_SCOPE_STACK_SPAN) {
			t->depth++;
			return 0;
		}
		scope_cut(t, tid, now);
	}
	last = bpf_map_lookup_elem(&scope_ids, &zero);
	if (!last)
		return 0;
	v.call_id = __sync_fetch_and_add(last, 1) + 1;
	v.begin_ns = now;
	v.entry_sp = sp;
	bpf_probe_read_user(&v.ret_addr, sizeof(v.ret_addr), (void *)sp);
	v.start_ns = process_start_ns((struct task_struct *)bpf_get_current_task());
	v.depth = 1;
	v.probe = bpf_get_attach_cookie(ctx);
	v.tgid = tgid;
	if (bpf_map_update_elem(&scope_threads, &tid, &v, BPF_NOEXIST)) {
		count(ST_CNT_SCOPE_FULL);
		return 0;
	}
	count(ST_CNT_SCOPE_CALLS);
	scope_emit(&v, tid, ST_EV_CALL_BEGIN, 0, now);
	return 0;
}

SEC("uretprobe")
int scope_return(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct st_scope_thread *t = bpf_map_lookup_elem(&scope_threads, &tid);

	/* None: a call entered before the probes were attached, or by a
	 * thread that found the map full. */
	if (!t)
		return 0;
	if (t->depth > 1)
		t->depth--;
	else
		t->depth = 0;
	/* The outermost return is at entry_sp + 8; an inner one below it.
	 * Above it with depth left: inner returns were skipped (longjmp
	 * within the call), and this is the outermost's all the same. */
	if (t->depth && !scope_left(t, PT_REGS_SP(ctx)))
		return 0;
	scope_emit(t, tid, ST_EV_CALL_END, 0, bpf_ktime_get_ns());
	bpf_map_delete_elem(&scope_threads, &tid);
	return 0;
}

/* A thread that exits inside a call: the call ends there. (Every thread
 * exit; attached with the probes only.) */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(scope_on_exit, struct task_struct *task, bool group_dead)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct st_scope_thread *t = bpf_map_lookup_elem(&scope_threads, &tid);

	if (t)
		scope_cut(t, tid, bpf_ktime_get_ns());
	return 0;
}

/* See ustack.bpf.h: the stack walk's fallback where the kernel's list of
 * pending uretprobes cannot be read (only the outermost call's return
 * address is mapped back then). */
static __always_inline bool scope_ret_slot(__u32 tid, __u64 *slot, __u64 *ret)
{
	struct st_scope_thread *t;

	if (!want_scope)
		return false;
	t = bpf_map_lookup_elem(&scope_threads, &tid);
	if (!t)
		return false;
	*slot = t->entry_sp;
	*ret = t->ret_addr;
	return true;
}

/* Tags s with the call its thread is in (ST_SAMPLE_IN_CALL, call_id);
 * false when scoping is on and the thread is outside every call: drop it.
 * Used by the cpu-clock program and the off-CPU (sched_switch) program,
 * both in the context of the sampled thread. */
static __always_inline bool scope_keep(struct st_sample *s)
{
	struct st_scope_thread *t;
	struct task_struct *task;
	struct pt_regs *regs;
	__u32 tid = s->tid;

	s->call_id = 0;
	if (!want_scope)
		return true;
	t = bpf_map_lookup_elem(&scope_threads, &tid);
	if (t) {
		task = bpf_get_current_task_btf();
		regs = task ? (struct pt_regs *)bpf_task_pt_regs(task) : NULL;
		if (regs && scope_sample_left(t, task, regs)) {
			scope_cut(t, tid, s->time_ns);
			t = NULL;
		}
	}
	if (!t) {
		count(ST_CNT_SCOPE_OUTSIDE);
		return false;
	}
	s->flags |= ST_SAMPLE_IN_CALL;
	s->call_id = t->call_id;
	return true;
}

#endif

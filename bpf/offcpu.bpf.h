/* --wall: off-CPU intervals from the scheduler. A raw tracepoint on
 * sched_switch (attached by name: tracefs is not needed, and fentry does not
 * load on these kernels) sees a target thread leave the CPU, and sends an
 * ST_SAMPLE_OFFCPU sample with its stack and why it left; when the thread
 * runs again it sends a struct st_oncpu with the time it had left. Loaded
 * only with --wall (userspace turns its autoload on): without it the
 * scheduler never runs a line of ours. Included once, by sampletop.bpf.c,
 * after on_sample (it reuses its helpers).
 *
 * Record semantics, for userspace's pairing:
 *  - switch-out: an st_sample with ST_SAMPLE_OFFCPU | ST_SAMPLE_IN_KERNEL,
 *    time_ns = when it left, its user (and Python, and with want_kernel
 *    kernel) stack, off_state/off_syscall/off_fd/off_fd_kind. Past the rate
 *    cap it is sent all the same, with no stack (user_nr = kern_nr = py_nr
 *    = 0) and ST_SAMPLE_OFF_CAPPED.
 *  - switch-in: an st_oncpu, time_ns = when it runs again, off_ns = the
 *    time_ns of its switch-out sample, which arrived before it in the same
 *    ring; off_ns = 0 when there is none (it left before we attached, its
 *    switch-out record was lost, or the LRU map forgot it), counted.
 *    A switch-in that fired no sched_switch (see offcpu_untraced_in) is
 *    sent at the thread's next switch-out, just before its sample, with
 *    time_ns from the scheduler's accounting: records of a thread always
 *    alternate off, on, off, on.
 *  - a thread's last switch-out (it exits) sends nothing; a switch-out that
 *    scope_keep() drops sends nothing, and neither does its switch-in. */
#ifndef OFFCPU_BPF_H
#define OFFCPU_BPF_H

/* Set by userspace before load, with --wall. */
const volatile __u8 want_wall = 0;
/* The rate cap: one stack per offcpu_stack_cost_ns of credit per CPU
 * (set from the cap in stacks per second), credit banked for at most
 * OFFCPU_BURST_NS. See OFFCPU_STACKS_PER_SEC in user/capture/sampler.c. */
const volatile __u64 offcpu_stack_cost_ns = 50000;
#define OFFCPU_BURST_NS (100 * 1000000ull)

/* tid -> when it left the CPU (the time_ns of its switch-out sample), or
 * OFFCPU_NONE, or OFFCPU_DROPPED. A thread's entry is made at its first
 * switch-out and written in place after that (a lookup, not an update and a
 * delete per switch: both take the map's locks), and removed at its last
 * switch (it exits). LRU, sized by userspace: a thread forgotten when the
 * map is full has its next interval counted as a missed start. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4 * ST_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u64);
} offcpu_start SEC(".maps");

struct offcpu_bucket {
	__u64 last_ns;
	__u64 credit_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct offcpu_bucket);
} offcpu_buckets SEC(".maps");

/* Kernels before 5.14 call task_struct's state field `state`. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

#define OFFCPU_NONE 0	/* no switch-out on record: it runs, or its record was lost */
#define OFFCPU_DROPPED 1	/* the scope dropped its switch-out: its switch-in is not sent */

#define OFFCPU_TASK_DEAD 0x80	/* include/linux/sched.h: the last switch of an exiting thread */

#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFCHR 0020000
#define S_IFIFO 0010000

/* A stack walk is allowed when this CPU has credit for one. */
static __always_inline bool offcpu_take_stack(__u64 now)
{
	struct offcpu_bucket *b = bpf_map_lookup_elem(&offcpu_buckets, &(__u32){ 0 });
	__u64 credit;

	if (!b)
		return true;
	credit = b->credit_ns + (now - b->last_ns);
	if (credit > OFFCPU_BURST_NS)
		credit = OFFCPU_BURST_NS;
	b->last_ns = now;
	if (credit < offcpu_stack_cost_ns) {
		b->credit_ns = credit;
		return false;
	}
	b->credit_ns = credit - offcpu_stack_cost_ns;
	return true;
}

/* t: the current task, as bpf_get_current_task_btf() gives it (direct loads,
 * which cost less than the helper calls of BPF_CORE_READ). */
static __always_inline __u32 offcpu_task_state(struct task_struct *t)
{
	struct task_struct___pre514 *old = (void *)t;

	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return BPF_CORE_READ(old, state);
}

/* Syscalls (x86-64 numbers) whose first argument is the fd they block on. */
static __always_inline bool offcpu_fd_syscall(long nr)
{
	switch (nr) {
	case 0:		/* read */
	case 1:		/* write */
	case 17:	/* pread64 */
	case 18:	/* pwrite64 */
	case 19:	/* readv */
	case 20:	/* writev */
	case 40:	/* sendfile (out_fd) */
	case 42:	/* connect */
	case 43:	/* accept */
	case 44:	/* sendto */
	case 45:	/* recvfrom */
	case 46:	/* sendmsg */
	case 47:	/* recvmsg */
	case 72:	/* fcntl (F_SETLKW) */
	case 73:	/* flock */
	case 74:	/* fsync */
	case 75:	/* fdatasync */
	case 275:	/* splice (fd_in) */
	case 276:	/* tee */
	case 288:	/* accept4 */
	case 295:	/* preadv */
	case 296:	/* pwritev */
	case 299:	/* recvmmsg */
	case 307:	/* sendmmsg */
	case 327:	/* preadv2 */
	case 328:	/* pwritev2 */
		return true;
	}
	return false;
}

/* What fd is in task's (the current task's) table, from its inode's mode: a
 * few reads, each of which may fail (a table being resized, a closing fd):
 * ST_FD_NONE then. */
static __always_inline __u32 offcpu_fd_kind(struct task_struct *task, int fd)
{
	struct files_struct *files = task->files;
	struct fdtable *fdt = files ? files->fdt : NULL;
	struct file **fds, *f = NULL;
	__u32 mode;

	if (!fdt || fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return ST_FD_NONE;
	fds = fdt->fd;
	if (!fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return ST_FD_NONE;
	mode = BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT;
	switch (mode) {
	case 0:
		return ST_FD_NONE;	/* the read failed */
	case S_IFSOCK:
		return ST_FD_SOCKET;
	case S_IFIFO:
		return ST_FD_PIPE;
	case S_IFREG:
		return ST_FD_FILE;
	case S_IFCHR:
		return ST_FD_TTY;
	}
	return ST_FD_OTHER;
}

/* Why prev (current, a BTF pointer) is leaving: its state (0 when it stays
 * runnable: preempted, or woken before it could sleep), the syscall it is in
 * and that syscall's fd. */
static __always_inline void offcpu_reasons(struct st_sample *s, struct task_struct *prev,
					   __u32 state, bool preempt, struct pt_regs *regs)
{
	long nr = -1;

	/* A preempted task stays on the run queue whatever its state says (it
	 * may have been on its way to sleep). */
	s->off_state = preempt ? 0 : state;
	s->off_syscall = -1;
	s->off_fd = -1;
	s->off_fd_kind = ST_FD_NONE;
	if (!regs)
		return;
	/* The registers saved when it entered the kernel: orig_ax is the
	 * syscall number, or -1 when it came in on an interrupt or a fault. */
	nr = regs->orig_ax;
	if (nr < 0 || nr > 0x7fffffff)
		return;
	s->off_syscall = nr;
	if (!offcpu_fd_syscall(nr))
		return;
	s->off_fd = (int)regs->di;
	s->off_fd_kind = offcpu_fd_kind(prev, s->off_fd);
}

/* prev (the current task, from bpf_get_current_task_btf) leaves the CPU:
 * its switch-out sample. Returns true when it was sent; *keep says whether
 * the scope kept it. */
static __always_inline bool offcpu_switch_out(void *ctx, struct task_struct *prev, __u32 tgid,
					      __u32 tid, __u32 state, bool preempt, __u64 now,
					      bool *keep)
{
	__u32 zero = 0, user_nr = 0, kern_nr = 0, py_nr = 0;
	struct pt_regs *regs = NULL;
	struct task_struct *leader;
	struct st_sample *s;
	bool stacks, stale;
	long n, size;

	*keep = true;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return false;
	if (prev->mm)		/* a kernel thread has no user registers to read */
		regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	leader = prev->group_leader;
	s->tgid = tgid;
	s->tid = tid;
	s->time_ns = now;
	s->cpu = bpf_get_smp_processor_id();
	s->flags = ST_SAMPLE_OFFCPU | ST_SAMPLE_IN_KERNEL;
	s->start_ns = leader ? leader->start_boottime : 0;	/* as process_start_ns() */
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	offcpu_reasons(s, prev, state, preempt, regs);
	if (!scope_keep(s)) {
		*keep = false;
		return false;
	}

	/* Past the cap the interval is still sent, whole, with its reasons:
	 * only the stack is missing. */
	stacks = offcpu_take_stack(now);
	if (!stacks)
		s->flags |= ST_SAMPLE_OFF_CAPPED;
	stale = !stacks || !want_user || user_stack_stale(s);
	if (!stale && regs) {
		n = capture_task_user_stack(ctx, s, regs);
		if (n < 0) {
			count(ST_CNT_USER_STACK_ERR);
			s->flags |= ST_SAMPLE_USER_FAILED;
		} else {
			user_nr = n;
		}
	}
	if (user_nr > ST_MAX_USER_FRAMES)
		user_nr = ST_MAX_USER_FRAMES;

	/* In a raw tracepoint, the current task's: prev's. */
	if (stacks && want_kernel)
		kern_nr = capture_kernel_stack(ctx, s, user_nr);
	if (kern_nr > ST_MAX_FRAMES)
		kern_nr = ST_MAX_FRAMES;

	if (!stale && regs)
		py_nr = capture_python_stack(s, tgid, tid, user_nr + kern_nr);
	if (py_nr > ST_PY_MAX_FRAMES)
		py_nr = ST_PY_MAX_FRAMES;
	if (stacks && user_nr + kern_nr + py_nr == 0 &&
	    !(s->flags & (ST_SAMPLE_IN_EXEC | ST_SAMPLE_EXITING)))
		count(ST_CNT_EMPTY_STACK);
	s->user_nr = user_nr;
	s->kern_nr = kern_nr;
	s->py_nr = py_nr;

	size = ST_SAMPLE_HDR_SIZE + (user_nr + kern_nr + py_nr * ST_PY_FRAME_WORDS) * sizeof(__u64);
	if (size > sizeof(*s))
		size = sizeof(*s);
	ask_snapshot(tgid, s->start_ns);
	if (bpf_ringbuf_output(&samples, s, size, sample_wakeup(s))) {
		count(ST_CNT_OFF_LOST);
		return false;
	}
	count(stacks ? ST_CNT_OFF_RECORDED : ST_CNT_OFF_CAPPED);
	return true;
}

static __always_inline void offcpu_send_oncpu(struct task_struct *t, __u32 tid, __u64 now,
					      __u64 off_ns)
{
	struct st_oncpu *o = bpf_ringbuf_reserve(&samples, sizeof(*o), 0);

	if (!o) {
		count(ST_CNT_OFF_LOST);
		return;
	}
	o->tgid = BPF_CORE_READ(t, tgid);
	o->tid = tid;
	o->time_ns = now;
	o->cpu = bpf_get_smp_processor_id();
	o->flags = ST_REC_EVENT;
	o->kind = ST_EV_ONCPU;
	o->pad = 0;
	o->off_ns = off_ns;
	o->start_ns = process_start_ns(t);
	/* No wake-up, as for samples: by default the ring wakes its reader at
	 * the first record after a drain, which at every switch costs an
	 * interrupt and a wake-up of userspace (measured: half the throughput
	 * of a ping-pong). */
	bpf_ringbuf_submit(o, BPF_RB_NO_WAKEUP);
}

/* next (a target) runs again: its st_oncpu, with when it had left. */
static __always_inline void offcpu_switch_in(struct task_struct *next, __u64 now)
{
	__u32 tid = BPF_CORE_READ(next, pid);
	__u64 *start = bpf_map_lookup_elem(&offcpu_start, &tid), off_ns = OFFCPU_NONE;

	if (start) {
		off_ns = *start;
		*start = OFFCPU_NONE;
	}
	if (off_ns == OFFCPU_DROPPED)
		return;
	if (off_ns == OFFCPU_NONE)
		count(ST_CNT_OFF_START_MISSED);
	offcpu_send_oncpu(next, tid, now, off_ns);
}

/* prev leaves the CPU with a switch-out still pending: the kernel ran it
 * again without a sched_switch event. Seen here when the task switched
 * from is one of the host's, outside our pid namespace: perf record -e
 * sched:sched_switch misses those switches too. The switch-in it missed is
 * when the scheduler last counted prev arriving (sched_info.last_arrival),
 * by the run queue's clock (reached through prev's cfs_rq: the runqueues
 * per-CPU symbol is not in this kernel's kallsyms), carried over to our
 * clock. Without them, the CPU time of prev's current slice stands in (the
 * time it ran, less interrupts and steal). Off-CPU time is never
 * overstated: at worst the interval ends where it began. */
static __always_inline void offcpu_untraced_in(struct task_struct *prev, __u32 tid, __u64 now,
					       __u64 off_ns)
{
	__u64 arrival = prev->sched_info.last_arrival, clock = 0, ran, in_ns = off_ns;

	if (bpf_core_field_exists(prev->se.cfs_rq) && prev->se.cfs_rq && prev->se.cfs_rq->rq)
		clock = prev->se.cfs_rq->rq->clock;
	if (arrival && clock > arrival)
		ran = clock - arrival;
	else
		ran = prev->se.sum_exec_runtime - prev->se.prev_sum_exec_runtime;
	if (ran < now - off_ns)
		in_ns = now - ran;
	offcpu_send_oncpu(prev, tid, in_ns, off_ns);
}

/* TP_PROTO(bool preempt, struct task_struct *prev, struct task_struct *next,
 * unsigned int prev_state): prev_state is read from the task instead, so
 * that kernels before 5.18 (no such argument) work too. */
SEC("raw_tp/sched_switch")
int on_switch(struct bpf_raw_tracepoint_args *ctx)
{
	bool preempt = ctx->args[0];
	struct task_struct *cur = bpf_get_current_task_btf();
	struct task_struct *next = (void *)ctx->args[2];
	unsigned long cur_addr = (unsigned long)cur;
	__u32 tgid, tid, state;
	__u64 now, start, *slot;
	bool keep;

	if (!want_wall)
		return 0;
	now = bpf_ktime_get_ns();
	/* prev is current here: read through the BTF pointer (plain loads).
	 * Compared through an opaque copy, or clang may read cur's fields
	 * through prev, which the verifier does not know as a task. */
	barrier_var(cur_addr);
	if (!cur || cur_addr != ctx->args[1])
		goto next;
	tid = cur->pid;
	tgid = cur->tgid;
	/* The idle task is never a target. */
	if (tid != 0 && is_target_task(cur, tgid, tid)) {
		slot = bpf_map_lookup_elem(&offcpu_start, &tid);
		if (slot && *slot > OFFCPU_DROPPED)
			offcpu_untraced_in(cur, tid, now, *slot);
		state = offcpu_task_state(cur);
		if (state & OFFCPU_TASK_DEAD) {
			/* A dying thread's last switch has no return. */
			if (slot)
				bpf_map_delete_elem(&offcpu_start, &tid);
			goto next;
		}
		count(ST_CNT_OFF_SWITCHES);
		if (offcpu_switch_out(ctx, cur, tgid, tid, state, preempt, now, &keep))
			start = now;
		else
			start = keep ? OFFCPU_NONE : OFFCPU_DROPPED;	/* lost, or dropped */
		if (slot)
			*slot = start;
		else if (start != OFFCPU_NONE)
			bpf_map_update_elem(&offcpu_start, &tid, &start, BPF_ANY);
	}
next:
	tid = BPF_CORE_READ(next, pid);
	tgid = BPF_CORE_READ(next, tgid);
	if (tid != 0 && is_target_task(next, tgid, tid))
		offcpu_switch_in(next, now);
	return 0;
}

#endif

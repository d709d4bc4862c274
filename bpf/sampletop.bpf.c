// SPDX-License-Identifier: GPL-2.0
/* Runs on every cpu-clock tick of every CPU: drops idle and non-target tasks,
 * captures the user (and on request kernel) stack of the interrupted task and
 * sends it as one raw record through a ring buffer. Userspace aggregates. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sampletop.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by userspace between open and load. */
const volatile __u8 want_user = 1;
const volatile __u8 want_kernel = 0;
const volatile __u8 want_idle = 0;

/* One sample's worth of scratch per CPU: too big for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct st_sample);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ST_CNT_NR);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Sized by userspace before load: ST_RINGBUF_BYTES_PER_CPU * ncpus. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} samples SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		(*c)++;
}

#include "filter.bpf.h"
#include "ustack.bpf.h"
#include "lifecycle.bpf.h"
#include "python.bpf.h"
#include "scope.bpf.h"

/* Read as 8 bytes (csx): newer kernels made cs a u16/u64 union and the
 * verifier refuses narrow loads of the perf context. */
static __always_inline int in_kernel_mode(struct bpf_perf_event_data *ctx)
{
	return (ctx->regs.csx & 3) == 0;
}

_Static_assert(ST_MAX_USER_FRAMES == 511, "the kernel stack offset is masked with ST_MAX_USER_FRAMES");

#define PF_EXITING 0x00000004	/* include/linux/sched.h */

/* A sample in the kernel with no user stack worth walking: in execve (once
 * the new program is mapped, the saved user registers are still the old
 * one's until it starts), or exiting with its memory released. Flags it. */
static __always_inline bool user_stack_stale(struct st_sample *s)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (!(s->flags & ST_SAMPLE_IN_KERNEL) || !task)
		return false;
	if (BPF_CORE_READ_BITFIELD_PROBED(task, in_execve)) {
		s->flags |= ST_SAMPLE_IN_EXEC;
		return true;
	}
	if ((task->flags & PF_EXITING) && !task->mm) {
		s->flags |= ST_SAMPLE_EXITING;
		return true;
	}
	return false;
}

/* When this CPU last woke userspace for a file without a table. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} new_object_wake SEC(".maps");

static __always_inline __u64 sample_wakeup(const struct st_sample *s)
{
	__u32 zero = 0;
	__u64 *last, now;

	if (!(s->flags & ST_SAMPLE_NEW_OBJECT))
		return BPF_RB_NO_WAKEUP;
	last = bpf_map_lookup_elem(&new_object_wake, &zero);
	now = s->time_ns;
	if (!last || now - *last < ST_NEW_OBJECT_WAKE_NS)
		return BPF_RB_NO_WAKEUP;
	*last = now;
	return BPF_RB_FORCE_WAKEUP;
}

/* Writes the current task's kernel stack after s's user_nr user frames
 * (ctx: the program's context); returns its frame count. */
static __always_inline __u32 capture_kernel_stack(void *ctx, struct st_sample *s, __u32 user_nr)
{
	/* user_nr's range comes through the unwinder's bpf_loop callback,
	 * which the verifier cannot follow, and clang may rewrite a clamp
	 * it thinks is redundant: a mask behind a barrier survives both.
	 * With ST_MAX_USER_FRAMES == 511 the mask is the identity here. */
	__u32 kidx = user_nr, kern_nr;
	long n;

	barrier_var(kidx);
	kidx &= ST_MAX_USER_FRAMES;
	n = bpf_get_stack(ctx, &s->ips[kidx], ST_MAX_FRAMES * sizeof(__u64), 0);
	if (n < 0) {
		count(ST_CNT_KERN_STACK_ERR);
		return 0;
	}
	kern_nr = n / sizeof(__u64);
	if (kern_nr >= ST_MAX_FRAMES)
		s->flags |= ST_SAMPLE_KERN_TRUNCATED;
	return kern_nr;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	__u32 zero = 0, user_nr = 0, kern_nr = 0, py_nr = 0;
	struct st_sample *s;
	long n, size;
	bool stale;

	count(ST_CNT_SEEN);
	if (tid == 0 && !want_idle) {
		count(ST_CNT_IDLE);
		return 0;
	}
	if (!is_target(tgid, tid)) {
		count(ST_CNT_FILTERED);
		return 0;
	}

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	s->tgid = tgid;
	s->tid = tid;
	s->time_ns = bpf_ktime_get_ns();
	s->cpu = bpf_get_smp_processor_id();
	s->flags = in_kernel_mode(ctx) ? ST_SAMPLE_IN_KERNEL : 0;
	s->start_ns = process_start_ns((struct task_struct *)bpf_get_current_task());
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	s->off_state = 0;
	s->off_syscall = -1;
	s->off_fd = -1;
	s->off_fd_kind = ST_FD_NONE;
	if (!scope_keep(s))
		return 0;

	stale = want_user && tgid != 0 && user_stack_stale(s);
	if (want_user && tgid != 0 && !stale) {
		n = capture_user_stack(ctx, s);
		if (n < 0) {
			count(ST_CNT_USER_STACK_ERR);
			s->flags |= ST_SAMPLE_USER_FAILED;
		} else {
			user_nr = n;
		}
	}
	if (user_nr > ST_MAX_USER_FRAMES)
		user_nr = ST_MAX_USER_FRAMES;

	if (want_kernel && (s->flags & ST_SAMPLE_IN_KERNEL))
		kern_nr = capture_kernel_stack(ctx, s, user_nr);
	if (kern_nr > ST_MAX_FRAMES)
		kern_nr = ST_MAX_FRAMES;

	if (want_user && tgid != 0 && !stale)
		py_nr = capture_python_stack(s, tgid, tid, user_nr + kern_nr);
	if (py_nr > ST_PY_MAX_FRAMES)
		py_nr = ST_PY_MAX_FRAMES;

	/* A cold sample stopped at its first frame has its stack to come. */
	if (user_nr + kern_nr + py_nr == 0 && !stale && !(s->flags & ST_SAMPLE_COLD))
		count(ST_CNT_EMPTY_STACK);
	s->user_nr = user_nr;
	s->kern_nr = kern_nr;
	s->py_nr = py_nr;

	size = ST_SAMPLE_HDR_SIZE + (user_nr + kern_nr + py_nr * ST_PY_FRAME_WORDS) * sizeof(__u64);
	if (size > sizeof(*s))
		size = sizeof(*s);
	ask_snapshot(tgid, s->start_ns);
	if (s->flags & ST_SAMPLE_COLD) {
		if (!cold_output(s, size, sample_wakeup(s))) {
			count(ST_CNT_COLD_COPIES);
			count(ST_CNT_RECORDED);
			return 0;
		}
		/* Another CPU took the room: the stack stops where the walk
		 * stopped, and says so. */
		count(ST_CNT_COLD_LOST);
		s->flags = (s->flags & ~ST_SAMPLE_COLD) | ST_SAMPLE_USER_TRUNCATED;
		if (user_nr + kern_nr + py_nr == 0)
			count(ST_CNT_EMPTY_STACK);
	}
	/* No wakeup: userspace drains on its own clock, which keeps the cost per
	 * sample to a copy instead of an interrupt and a context switch. But
	 * a file without a table wakes it (now and then) to build one. */
	if (bpf_ringbuf_output(&samples, s, size, sample_wakeup(s))) {
		count(ST_CNT_RINGBUF_FULL);
		return 0;
	}
	count(ST_CNT_RECORDED);
	return 0;
}

/* --wall: the scheduler's program (uses the helpers above). */
#include "offcpu.bpf.h"

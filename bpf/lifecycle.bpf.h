/* Processes that come and go: exec, fork and exit of target processes are
 * sent to userspace as events in the samples' ring buffer, in order with the
 * samples; a launched command's children join the target filter when they
 * fork and leave it when they exit. Included once, by sampletop.bpf.c,
 * after filter.bpf.h. */
#ifndef LIFECYCLE_BPF_H
#define LIFECYCLE_BPF_H

/* -- COMMAND: a target's forked children are targets too. */
const volatile __u8 follow_forks = 0;

/* tgid -> samples left that ask for a maps snapshot (ST_FRESH_WAKES after
 * an exec). LRU: a process that exits unsampled must not hold a slot. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ST_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u8);
} fresh SEC(".maps");

/* Freshly exec'd targets, as they are sampled, for userspace's maps
 * snapshot thread, which has nothing else to do and reads their maps at
 * once. Sized by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} execs SEC(".maps");

/* The process's start time as /proc/PID/stat derives field 22 from it. */
static __always_inline __u64 process_start_ns(struct task_struct *task)
{
	return BPF_CORE_READ(task, group_leader, start_boottime);
}

/* The first samples of a process that has just exec'd ask the snapshot
 * thread to read its maps at once: it is running, so they are there, with
 * the libraries that ld.so has mapped so far. A process that is never
 * sampled costs no read. */
static __always_inline void ask_snapshot(__u32 tgid, __u64 start_ns)
{
	__u8 *left = bpf_map_lookup_elem(&fresh, &tgid);
	struct st_exec x = { .tgid = tgid, .start_ns = start_ns };

	if (!left)
		return;
	if (*left <= 1)
		bpf_map_delete_elem(&fresh, &tgid);
	else
		(*left)--;
	if (bpf_ringbuf_output(&execs, &x, sizeof(x), BPF_RB_FORCE_WAKEUP))
		count(ST_CNT_EVENT_LOST);
}

static __always_inline void send_event(struct task_struct *task, __u32 kind, __u32 ppid,
				       __u64 parent_start_ns, __u64 wakeup)
{
	struct st_event *e = bpf_ringbuf_reserve(&samples, sizeof(*e), 0);

	if (!e) {
		count(ST_CNT_EVENT_LOST);
		return;
	}
	e->tgid = BPF_CORE_READ(task, tgid);
	e->tid = BPF_CORE_READ(task, pid);
	e->time_ns = bpf_ktime_get_ns();
	e->cpu = bpf_get_smp_processor_id();
	e->flags = ST_REC_EVENT;
	e->kind = kind;
	e->ppid = ppid;
	e->start_ns = process_start_ns(task);
	e->parent_start_ns = parent_start_ns;
	BPF_CORE_READ_INTO(&e->comm, task, group_leader, comm);
	bpf_ringbuf_submit(e, wakeup);
}

/* Runs after the new image is mapped and comm is set, in the exec'ing task. */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u8 wakes = ST_FRESH_WAKES;

	if (!is_target(tgid, (__u32)id))
		return 0;
	bpf_map_update_elem(&fresh, &tgid, &wakes, BPF_ANY);
	/* Its mappings are those of the old program: until userspace pushes
	 * the new ones, bpf_find_vma finds them (see ustack.bpf.h). */
	bpf_map_delete_elem(&unwind_procs, &tgid);
	bpf_map_delete_elem(&unwind_vmas, &tgid);
	send_event(task, ST_EV_EXEC, 0, 0, BPF_RB_NO_WAKEUP);
	return 0;
}

/* Runs in the parent, before the child is first scheduled: the event is in
 * the ring before any sample of the child. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (BPF_CORE_READ(child, pid) != ctgid)
		return 0;	/* a new thread, not a new process */
	if (follow_forks && bpf_map_lookup_elem(&targets, &ptgid) &&
	    bpf_map_update_elem(&targets, &ctgid, &one, BPF_ANY))
		count(ST_CNT_TARGETS_FULL);
	if (!is_target(ptgid, BPF_CORE_READ(parent, pid)))
		return 0;
	send_event(child, ST_EV_FORK, ptgid, process_start_ns(parent), BPF_RB_NO_WAKEUP);
	return 0;
}

/* Runs in each exiting thread; group_dead on the last one of its process. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task, bool group_dead)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	int target = is_target(tgid, tid);

	/* A thread's id, too, may be reused by one that is no target. */
	if (filter_tid)
		bpf_map_delete_elem(&tid_targets, &tid);
	if (!group_dead)
		return 0;
	if (target)
		send_event(task, ST_EV_EXIT, 0, 0, BPF_RB_NO_WAKEUP);
	bpf_map_delete_elem(&fresh, &tgid);
	/* The pid may be reused by a process that is no target. */
	if (filter_tgid)
		bpf_map_delete_elem(&targets, &tgid);
	return 0;
}

#endif

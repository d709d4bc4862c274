/* --wall: why a thread left the CPU, and its off-CPU intervals paired up. */
#include "capture/offcpu.h"
#include "base/hashtab.h"
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- Reasons ---- */

/* x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl): the BPF
 * program reads them from the task's registers, whatever the host's
 * headers say. */
enum {
	NR_read = 0, NR_write = 1, NR_open = 2, NR_close = 3, NR_poll = 7, NR_ioctl = 16,
	NR_pread64 = 17, NR_pwrite64 = 18, NR_readv = 19, NR_writev = 20, NR_select = 23,
	NR_sched_yield = 24, NR_msync = 26, NR_pause = 34, NR_nanosleep = 35, NR_sendfile = 40,
	NR_connect = 42, NR_accept = 43, NR_sendto = 44, NR_recvfrom = 45, NR_sendmsg = 46,
	NR_recvmsg = 47, NR_clone = 56, NR_fork = 57, NR_vfork = 58, NR_execve = 59,
	NR_exit = 60, NR_wait4 = 61, NR_semop = 65, NR_msgsnd = 69, NR_msgrcv = 70,
	NR_fcntl = 72, NR_flock = 73, NR_fsync = 74, NR_fdatasync = 75, NR_truncate = 76,
	NR_ftruncate = 77, NR_getdents = 78, NR_rename = 82, NR_mkdir = 83, NR_rmdir = 84,
	NR_unlink = 87, NR_rt_sigtimedwait = 128, NR_rt_sigsuspend = 130, NR_sync = 162,
	NR_mount = 165, NR_futex = 202, NR_io_getevents = 208, NR_getdents64 = 217,
	NR_semtimedop = 220, NR_clock_nanosleep = 230, NR_exit_group = 231,
	NR_epoll_wait = 232, NR_mq_timedsend = 242, NR_mq_timedreceive = 243, NR_waitid = 247,
	NR_openat = 257, NR_unlinkat = 263, NR_pselect6 = 270, NR_ppoll = 271, NR_splice = 275,
	NR_tee = 276, NR_sync_file_range = 277, NR_epoll_pwait = 281, NR_accept4 = 288,
	NR_preadv = 295, NR_pwritev = 296, NR_recvmmsg = 299, NR_syncfs = 306,
	NR_sendmmsg = 307, NR_getrandom = 318, NR_copy_file_range = 326, NR_preadv2 = 327,
	NR_pwritev2 = 328, NR_io_uring_enter = 426, NR_clone3 = 435, NR_epoll_pwait2 = 441,
	NR_futex_waitv = 449,
};

enum reason_kind {
	R_OTHER,	/* "[blocked in NAME]" */
	R_SLEEP,
	R_LOCK,
	R_READ,
	R_RECV,		/* a read that only sockets do */
	R_WRITE,
	R_SEND,
	R_POLL,
	R_CHILD,
	R_ACCEPT,
	R_CONNECT,
};

struct syscall_info {
	const char *name;
	uint8_t kind;		/* enum reason_kind */
};

#define SC(nr, kind) [NR_##nr] = { #nr, kind }
/* The syscalls a thread commonly blocks in; others are "syscall N". */
static const struct syscall_info syscalls[] = {
	SC(read, R_READ), SC(write, R_WRITE), SC(open, R_OTHER), SC(close, R_OTHER),
	SC(poll, R_POLL), SC(ioctl, R_OTHER), SC(pread64, R_READ), SC(pwrite64, R_WRITE),
	SC(readv, R_READ), SC(writev, R_WRITE), SC(select, R_POLL), SC(sched_yield, R_OTHER),
	SC(msync, R_OTHER), SC(pause, R_OTHER), SC(nanosleep, R_SLEEP), SC(sendfile, R_OTHER),
	SC(connect, R_CONNECT), SC(accept, R_ACCEPT), SC(sendto, R_SEND), SC(recvfrom, R_RECV),
	SC(sendmsg, R_SEND), SC(recvmsg, R_RECV), SC(clone, R_OTHER), SC(fork, R_OTHER),
	SC(vfork, R_OTHER), SC(execve, R_OTHER), SC(exit, R_OTHER), SC(wait4, R_CHILD),
	SC(semop, R_OTHER), SC(msgsnd, R_OTHER), SC(msgrcv, R_OTHER), SC(fcntl, R_OTHER),
	SC(flock, R_OTHER), SC(fsync, R_OTHER), SC(fdatasync, R_OTHER), SC(truncate, R_OTHER),
	SC(ftruncate, R_OTHER), SC(getdents, R_OTHER), SC(rename, R_OTHER), SC(mkdir, R_OTHER),
	SC(rmdir, R_OTHER), SC(unlink, R_OTHER), SC(rt_sigtimedwait, R_OTHER),
	SC(rt_sigsuspend, R_OTHER), SC(sync, R_OTHER), SC(mount, R_OTHER), SC(futex, R_LOCK),
	SC(io_getevents, R_OTHER), SC(getdents64, R_OTHER), SC(semtimedop, R_OTHER),
	SC(clock_nanosleep, R_SLEEP), SC(exit_group, R_OTHER), SC(epoll_wait, R_POLL),
	SC(mq_timedsend, R_OTHER), SC(mq_timedreceive, R_OTHER), SC(waitid, R_CHILD),
	SC(openat, R_OTHER), SC(unlinkat, R_OTHER), SC(pselect6, R_POLL), SC(ppoll, R_POLL),
	SC(splice, R_OTHER), SC(tee, R_OTHER), SC(sync_file_range, R_OTHER),
	SC(epoll_pwait, R_POLL), SC(accept4, R_ACCEPT), SC(preadv, R_READ),
	SC(pwritev, R_WRITE), SC(recvmmsg, R_RECV), SC(syncfs, R_OTHER), SC(sendmmsg, R_SEND),
	SC(getrandom, R_OTHER), SC(copy_file_range, R_OTHER), SC(preadv2, R_READ),
	SC(pwritev2, R_WRITE), SC(io_uring_enter, R_OTHER), SC(clone3, R_OTHER),
	SC(epoll_pwait2, R_POLL), SC(futex_waitv, R_LOCK),
};
#undef SC

static const struct syscall_info *syscall_info(int32_t nr)
{
	if (nr < 0 || (size_t)nr >= ARRAY_SIZE(syscalls) || !syscalls[nr].name)
		return NULL;
	return &syscalls[nr];
}

const char *offcpu_syscall_name(int32_t nr)
{
	const struct syscall_info *s = syscall_info(nr);

	return s ? s->name : NULL;
}

bool offcpu_syscall_has_fd(int32_t nr)
{
	const struct syscall_info *s = syscall_info(nr);

	return s && (s->kind == R_READ || s->kind == R_RECV || s->kind == R_WRITE ||
		     s->kind == R_SEND);
}

uint32_t offcpu_fd_kind(uint32_t type)
{
	switch (type & S_IFMT) {
	case 0:
		return ST_FD_NONE;
	case S_IFREG:
		return ST_FD_FILE;
	case S_IFSOCK:
		return ST_FD_SOCKET;
	case S_IFIFO:
		return ST_FD_PIPE;
	case S_IFCHR:
		return ST_FD_TTY;
	default:
		return ST_FD_OTHER;
	}
}

/* " socket", " pipe"... for "[reading socket]"; "" when the kind says nothing. */
static const char *fd_word(uint32_t fd_kind, bool socket_only)
{
	switch (fd_kind) {
	case ST_FD_FILE:
		return " file";
	case ST_FD_SOCKET:
		return " socket";
	case ST_FD_PIPE:
		return " pipe";
	case ST_FD_TTY:
		return " tty";
	default:
		/* recv* and send* take only sockets. */
		return socket_only ? " socket" : "";
	}
}

/* The name of each kind with a fixed one; reads and writes add the fd's. */
static const char *const kind_names[] = {
	[R_SLEEP] = "[sleeping]",
	[R_LOCK] = "[waiting on a lock]",
	[R_POLL] = "[polling]",
	[R_CHILD] = "[waiting for a child]",
	[R_ACCEPT] = "[accepting]",
	[R_CONNECT] = "[connecting]",
};

void offcpu_reason_name(char *buf, uint32_t state, int32_t syscall, uint32_t fd_kind)
{
	const struct syscall_info *s = syscall_info(syscall);

	/* Preempted (or woken before it slept): runnable, in a run queue. */
	if (state == 0)
		snprintf(buf, OFFCPU_REASON_LEN, "[waiting for a CPU]");
	else if (syscall < 0)
		snprintf(buf, OFFCPU_REASON_LEN, "[blocked in the kernel]");
	else if (!s)
		snprintf(buf, OFFCPU_REASON_LEN, "[blocked in syscall %d]", syscall);
	else if (s->kind == R_READ || s->kind == R_RECV)
		snprintf(buf, OFFCPU_REASON_LEN, "[reading%s]", fd_word(fd_kind, s->kind == R_RECV));
	else if (s->kind == R_WRITE || s->kind == R_SEND)
		snprintf(buf, OFFCPU_REASON_LEN, "[writing%s]", fd_word(fd_kind, s->kind == R_SEND));
	else if (s->kind < ARRAY_SIZE(kind_names) && kind_names[s->kind])
		snprintf(buf, OFFCPU_REASON_LEN, "%s", kind_names[s->kind]);
	else
		snprintf(buf, OFFCPU_REASON_LEN, "[blocked in %s]", s->name);
}

frame_id_t offcpu_reason_frame(struct profile *p, const char *name)
{
	struct frame f = { .name = name, .module = "", .kind = FRAME_SPECIAL,
			   .flags = FRAME_F_OFFCPU };

	return profile_frame(p, &f);
}

/* ---- Each thread's timeline, in pieces ---- */

enum slot_state {
	SLOT_FREE,
	SLOT_RUNNING,		/* on a CPU since `since` (switch-in, or the run's start) */
	SLOT_OFF,		/* switched out at `since` under `stack`: waits for its switch-in */
	SLOT_START_BLOCKED,	/* off the CPU, blocked, when sampling began */
	SLOT_START_RUNNABLE,	/* ... runnable (or on a CPU, as /proc cannot tell) */
};

/* A sample of the running slice, waiting for the slice to end. */
struct pending {
	uint64_t t_ns;
	uint64_t call_id;
	uint32_t stack;
};

struct slot {
	struct offcpu_thread th;
	uint64_t since;		/* RUNNING: the slice's start; OFF: handed out up to
				 * here; START: the run's start */
	uint64_t last_ns;	/* RUNNING: its last record */
	uint64_t out_ns;	/* OFF: its switch-out's time (since, until a checkpoint) */
	uint64_t call_id;	/* OFF: the switch-out's */
	uint32_t stack;		/* OFF: the switch-out's; START: OFFCPU_SINCE_START's */
	uint32_t idle_stack;	/* START_BLOCKED: if it never runs */
	uint32_t next_free;
	uint8_t state;		/* enum slot_state */
	uint32_t nr_pending;
	struct pending *pending;	/* OFFCPU_SLICE_SAMPLES, made at first need, kept */
};

struct offcpu {
	uint64_t run_start_ns, stop_ns;	/* stop_ns 0 while running */
	uint64_t sample_ns;
	offcpu_fn fn;
	void *ctx;
	struct slot *slots;
	size_t nr_slots, alloc_slots;
	uint32_t free_head;	/* UINT32_MAX: none */
	size_t nr_used;
	struct idx_table index;	/* hash(tid) -> slot */
	struct offcpu_stats stats;
};

struct offcpu *offcpu_new(uint64_t run_start_ns, uint64_t sample_ns, offcpu_fn fn, void *ctx)
{
	struct offcpu *o = xcalloc(1, sizeof(*o));

	o->run_start_ns = run_start_ns;
	o->sample_ns = sample_ns;
	o->fn = fn;
	o->ctx = ctx;
	o->free_head = UINT32_MAX;
	return o;
}

void offcpu_free(struct offcpu *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nr_slots; i++)
		free(o->slots[i].pending);
	free(o->slots);
	idx_free(&o->index);
	free(o);
}

static int slot_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct offcpu *o = ctx;

	return o->slots[id].th.tid == *(const uint32_t *)key;
}

static struct slot *slot_find(struct offcpu *o, uint32_t tid)
{
	uint32_t id = o->nr_used ? idx_find(&o->index, hash_u64(tid), slot_eq, &tid, o) : IDX_NONE;

	return id == IDX_NONE ? NULL : &o->slots[id];
}

/* A new slot for th (which has none), or NULL (counted) when
 * OFFCPU_MAX_THREADS are in use. */
static struct slot *slot_new(struct offcpu *o, const struct offcpu_thread *th,
			     enum slot_state state, uint64_t since)
{
	struct pending *keep;
	uint32_t id;

	if (o->nr_used >= OFFCPU_MAX_THREADS) {
		o->stats.no_slot++;
		return NULL;
	}
	if (o->free_head != UINT32_MAX) {
		id = o->free_head;
		o->free_head = o->slots[id].next_free;
	} else {
		XGROW(o->slots, o->alloc_slots, o->nr_slots + 1);
		id = (uint32_t)o->nr_slots++;
		o->slots[id].pending = NULL;
	}
	keep = o->slots[id].pending;
	o->slots[id] = (struct slot){ .th = *th, .state = state, .since = since, .last_ns = since,
				      .next_free = UINT32_MAX, .pending = keep };
	idx_insert(&o->index, hash_u64(th->tid), id);
	o->nr_used++;
	return &o->slots[id];
}

static void slot_release(struct offcpu *o, struct slot *s)
{
	uint32_t id = (uint32_t)(s - o->slots);

	idx_remove(&o->index, hash_u64(s->th.tid), id);
	s->state = SLOT_FREE;
	s->nr_pending = 0;
	s->next_free = o->free_head;
	o->free_head = id;
	o->nr_used--;
}

/* Hands out [begin, end) within the run; nothing if that is empty. */
static void emit(struct offcpu *o, const struct offcpu_thread *th, uint64_t begin, uint64_t end,
		 uint32_t stack, uint64_t call_id, bool on_cpu, bool idle)
{
	struct offcpu_piece pc = { .th = *th, .stack = stack, .call_id = call_id,
				   .on_cpu = on_cpu, .idle = idle };

	if (begin < o->run_start_ns)
		begin = o->run_start_ns;
	if (o->stop_ns && end > o->stop_ns)
		end = o->stop_ns;
	if (end <= begin)
		return;
	pc.begin_ns = begin;
	pc.end_ns = end;
	o->fn(&pc, o->ctx);
}

/* The running slice's samples share [since, end) evenly, in their order:
 * the pieces tile it. The slice goes on from end. */
static void flush_slice(struct offcpu *o, struct slot *s, uint64_t end)
{
	uint64_t len;
	uint32_t k = s->nr_pending;

	if (end < s->since)	/* a record from before a checkpoint */
		end = s->since;
	len = end - s->since;
	for (uint32_t i = 0; i < k; i++)
		emit(o, &s->th, s->since + len * i / k, s->since + len * (i + 1) / k,
		     s->pending[i].stack, s->pending[i].call_id, true, false);
	s->nr_pending = 0;
	s->since = end;
}

/* The running slice ends at end: its samples share it, or without any, it
 * goes to on_stack (where it left the CPU from, in call call_id;
 * UINT32_MAX: unknown). */
static void close_running(struct offcpu *o, struct slot *s, uint64_t end, uint32_t on_stack,
			  uint64_t call_id)
{
	if (s->nr_pending)
		flush_slice(o, s, end);
	else if (on_stack != UINT32_MAX)
		emit(o, &s->th, s->since, end, on_stack, call_id, true, false);
}

static bool thread_alive(const struct offcpu_thread *th)
{
	return syscall(SYS_tgkill, (pid_t)th->tgid, (pid_t)th->tid, 0) == 0;
}

/* How far a running slice's samples reach without a switch record to end
 * it: a period past the last one. A thread still on the CPU is sampled
 * again by then; one gone quietly is not, and its last samples must not
 * stand for the time until a checkpoint or a late switch-in. */
static uint64_t sampled_until(const struct offcpu *o, const struct slot *s, uint64_t end)
{
	uint64_t reach = s->last_ns + o->sample_ns;

	return reach < end ? reach : end;
}

/* A running thread that stopped sending records: gone (its last switch
 * sends nothing), its slice ends a sampling period after its last sample;
 * or still on a CPU that is not sampled (-C), until end. */
static void close_quiet(struct offcpu *o, struct slot *s, uint64_t end)
{
	close_running(o, s, thread_alive(&s->th) ? end : sampled_until(o, s, end), UINT32_MAX, 0);
}

int offcpu_start_thread(struct offcpu *o, const struct offcpu_thread *th, uint32_t stack,
			uint32_t idle_stack, bool runnable)
{
	struct slot *s;

	if (slot_find(o, th->tid))
		return 0;
	s = slot_new(o, th, runnable ? SLOT_START_RUNNABLE : SLOT_START_BLOCKED, o->run_start_ns);
	if (!s)
		return -ENOSPC;
	s->stack = stack;
	s->idle_stack = idle_stack;
	return 0;
}

/* An OFF thread seen running at t (its switch-in came late, or not at
 * all): its interval ends there; its samples so far open the slice. */
static void off_to_running(struct offcpu *o, struct slot *s, uint64_t t)
{
	if (t < s->since)
		t = s->since;
	emit(o, &s->th, s->since, t, s->stack, s->call_id, false, false);
	s->state = SLOT_RUNNING;
	s->since = t;
}

/* When an OFF thread was first seen running (its first pending sample). */
static uint64_t first_seen(const struct slot *s, uint64_t t)
{
	return s->nr_pending && s->pending[0].t_ns < t ? s->pending[0].t_ns : t;
}

void offcpu_sample(struct offcpu *o, const struct offcpu_thread *th, uint64_t t_ns,
		   uint32_t stack, uint64_t call_id)
{
	struct slot *s = slot_find(o, th->tid);

	if (!s) {
		/* On a CPU since before the run (a switch-in comes first
		 * otherwise). */
		s = slot_new(o, th, SLOT_RUNNING, o->run_start_ns);
		if (!s) {
			emit(o, th, t_ns, t_ns + o->sample_ns, stack, call_id, true, false);
			return;
		}
	} else if (s->state == SLOT_START_BLOCKED || s->state == SLOT_START_RUNNABLE) {
		s->state = SLOT_RUNNING;
	}
	/* OFF: running without its switch-in on record yet. The BPF side
	 * sends a switch-in that fired no event late, just before the next
	 * switch-out: the samples wait for it. */
	if (!s->th.comm[0])	/* made by a switch-in, which names no thread */
		memcpy(s->th.comm, th->comm, sizeof(s->th.comm));
	if (!s->pending)
		s->pending = xmalloc(OFFCPU_SLICE_SAMPLES * sizeof(*s->pending));
	if (s->nr_pending == OFFCPU_SLICE_SAMPLES) {
		if (s->state == SLOT_OFF)
			off_to_running(o, s, first_seen(s, t_ns));
		flush_slice(o, s, t_ns > s->since ? t_ns : s->since);
	}
	s->pending[s->nr_pending++] = (struct pending){ t_ns, call_id, stack };
	s->last_ns = t_ns;
}

void offcpu_switch_out(struct offcpu *o, const struct offcpu_thread *th, uint64_t t_ns,
		       uint32_t stack, uint32_t on_stack, uint64_t call_id)
{
	struct slot *s = slot_find(o, th->tid);

	if (!s) {
		/* New to us: on a CPU since before the run, and not sampled
		 * since. Without a slot (past the cap) it may not be new: its
		 * switch-in will show the interval without its stack. */
		s = slot_new(o, th, SLOT_OFF, t_ns);
		if (!s)
			return;
		emit(o, th, o->run_start_ns, t_ns, on_stack, call_id, true, false);
	} else {
		if (s->state == SLOT_OFF && s->nr_pending)
			/* Its switch-in was lost: running from its first sample. */
			off_to_running(o, s, first_seen(s, t_ns));
		switch (s->state) {
		case SLOT_RUNNING:
			close_running(o, s, t_ns, on_stack, call_id);
			break;
		case SLOT_START_RUNNABLE:
			/* It was on a CPU at the start. */
			emit(o, th, o->run_start_ns, t_ns, on_stack, call_id, true, false);
			break;
		case SLOT_START_BLOCKED:
			/* Its switch-in was lost: when it ran is unknown. */
			break;
		case SLOT_OFF:
			/* The earlier switch-out's switch-in was lost: off
			 * until this one at most. */
			emit(o, &s->th, s->since, t_ns, s->stack, s->call_id, false, false);
			break;
		}
		memcpy(s->th.comm, th->comm, sizeof(s->th.comm));
	}
	s->state = SLOT_OFF;
	/* Past what a checkpoint handed out already (a record stamped before
	 * it, drained after it), else where it left. */
	if (s->since < t_ns)
		s->since = t_ns;
	s->out_ns = t_ns;
	s->last_ns = t_ns;
	s->stack = stack;
	s->call_id = call_id;
	s->nr_pending = 0;
}

void offcpu_switch_in(struct offcpu *o, const struct offcpu_thread *th, uint64_t t_ns,
		      uint64_t off_ns, uint32_t not_recorded)
{
	struct slot *s = slot_find(o, th->tid);
	const struct offcpu_thread *who = s ? &s->th : th;
	bool unmatched = off_ns != 0, late = false;
	uint64_t floor = s ? s->since : 0;	/* handed out up to here */

	if (s && s->state == SLOT_OFF) {
		if (off_ns == s->out_ns || !off_ns) {
			/* Its own switch-out (off_ns 0: the BPF side forgot
			 * it, LRU; ours is the best there is). A late one
			 * (untraced) may come after samples of the slice. */
			off_to_running(o, s, first_seen(s, t_ns));
			unmatched = false;
			late = true;	/* the slice began there, its samples kept */
		} else if (off_ns > s->out_ns) {
			/* It ran and left again unrecorded: off until then. */
			if (s->nr_pending) {
				off_to_running(o, s, first_seen(s, off_ns));
				close_running(o, s, off_ns, UINT32_MAX, 0);
			} else {
				emit(o, who, s->since, off_ns, s->stack, s->call_id, false, false);
			}
		}
	} else if (s && s->state == SLOT_RUNNING) {
		/* Its switch-out was lost: the slice ended when it left, or
		 * if that is unknown too, by its last sample's period; the
		 * rest is off the CPU, its stack not recorded. */
		uint64_t end = off_ns > s->since ? off_ns : sampled_until(o, s, t_ns);

		close_running(o, s, end, UINT32_MAX, 0);
		if (end < t_ns) {
			off_ns = end;
			unmatched = true;
		}
	} else if (s && !off_ns) {
		/* START_*: off the CPU since before sampling. */
		emit(o, who, o->run_start_ns, t_ns, s->stack, 0, false, false);
		o->stats.since_start++;
	}
	/* off_ns 0 with no slot: the start was missed (counted by the BPF
	 * program) by a thread that began during the run: nothing before. */
	if (unmatched) {
		emit(o, who, off_ns > floor ? off_ns : floor, t_ns, not_recorded, 0, false, false);
		o->stats.no_stack++;
	}
	if (!s)
		s = slot_new(o, th, SLOT_RUNNING, t_ns);
	if (!s)
		return;
	if (!late) {
		s->nr_pending = 0;
		if (s->since < t_ns)	/* (else: past a checkpoint) */
			s->since = t_ns;
	}
	s->state = SLOT_RUNNING;
	s->last_ns = t_ns > s->last_ns ? t_ns : s->last_ns;
}

/* The end of a slot: what is open ends at end (if still there). */
static void slot_end(struct offcpu *o, struct slot *s, uint64_t end)
{
	if (s->state == SLOT_OFF && s->nr_pending)
		off_to_running(o, s, first_seen(s, end));
	switch (s->state) {
	case SLOT_RUNNING:
		close_quiet(o, s, end);
		break;
	case SLOT_OFF:
		emit(o, &s->th, s->since, end, s->stack, s->call_id, false, false);
		break;
	case SLOT_START_BLOCKED:
		/* Never ran: an idle worker. */
		emit(o, &s->th, o->run_start_ns, end, s->idle_stack, 0, false, true);
		break;
	default:
		/* START_RUNNABLE with no record at all: on a CPU that is not
		 * sampled, or starved the whole run; nothing to say. */
		break;
	}
	slot_release(o, s);
}

void offcpu_exit(struct offcpu *o, uint32_t tgid)
{
	for (size_t i = 0; i < o->nr_slots; i++) {
		struct slot *s = &o->slots[i];

		/* Its threads were woken to exit: only running ones are left,
		 * and those are gone. */
		if (s->state == SLOT_FREE || s->th.tgid != tgid)
			continue;
		if (s->state == SLOT_OFF && s->nr_pending)
			off_to_running(o, s, first_seen(s, s->last_ns));
		if (s->state == SLOT_RUNNING)
			close_quiet(o, s, s->last_ns + o->sample_ns);
		slot_release(o, s);
	}
}

void offcpu_sweep(struct offcpu *o, uint64_t now_ns)
{
	for (size_t i = 0; i < o->nr_slots; i++) {
		struct slot *s = &o->slots[i];
		bool running = s->state == SLOT_RUNNING || (s->state == SLOT_OFF && s->nr_pending);

		if (!running || s->last_ns + OFFCPU_STALE_NS > now_ns || thread_alive(&s->th))
			continue;
		slot_end(o, s, now_ns);
	}
}

void offcpu_checkpoint(struct offcpu *o, uint64_t t_ns)
{
	for (size_t i = 0; i < o->nr_slots; i++) {
		struct slot *s = &o->slots[i];

		if (t_ns <= s->since)
			continue;
		if (s->state == SLOT_OFF && !s->nr_pending) {
			emit(o, &s->th, s->since, t_ns, s->stack, s->call_id, false, false);
			s->since = t_ns;
		} else if (s->state == SLOT_RUNNING && s->nr_pending) {
			/* Not past its samples' reach: its thread may be gone. */
			flush_slice(o, s, sampled_until(o, s, t_ns));
		}
	}
}

void offcpu_stop(struct offcpu *o, uint64_t stop_ns)
{
	o->stop_ns = stop_ns;
	for (size_t i = 0; i < o->nr_slots; i++)
		if (o->slots[i].state != SLOT_FREE)
			slot_end(o, &o->slots[i], stop_ns);
}

void offcpu_stats(const struct offcpu *o, struct offcpu_stats *out)
{
	*out = o->stats;
}

size_t offcpu_threads(const struct offcpu *o)
{
	return o->nr_used;
}

void offcpu_remap_stacks(struct offcpu *o, uint32_t (*fn)(void *ctx, uint32_t stack), void *ctx)
{
	for (size_t i = 0; i < o->nr_slots; i++) {
		struct slot *s = &o->slots[i];

		if (s->state == SLOT_FREE)
			continue;
		if (s->state != SLOT_RUNNING && s->stack != UINT32_MAX)
			s->stack = fn(ctx, s->stack);
		if (s->state == SLOT_START_BLOCKED && s->idle_stack != UINT32_MAX)
			s->idle_stack = fn(ctx, s->idle_stack);
		for (uint32_t k = 0; s->state == SLOT_RUNNING && k < s->nr_pending; k++)
			s->pending[k].stack = fn(ctx, s->pending[k].stack);
	}
}

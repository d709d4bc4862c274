/* --wall: why a thread left the CPU, and its off-CPU intervals paired up. */
#include "capture/offcpu.h"
#include "base/hashtab.h"
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

void offcpu_reason_name(char *buf, uint32_t state, int32_t syscall, uint32_t fd_kind)
{
	const struct syscall_info *s = syscall_info(syscall);

	/* Preempted (or woken before it slept): runnable, in a run queue. */
	if (state == 0) {
		snprintf(buf, OFFCPU_REASON_LEN, "[waiting for a CPU]");
		return;
	}
	if (syscall < 0) {
		snprintf(buf, OFFCPU_REASON_LEN, "[blocked in the kernel]");
		return;
	}
	if (!s) {
		snprintf(buf, OFFCPU_REASON_LEN, "[blocked in syscall %d]", syscall);
		return;
	}
	switch (s->kind) {
	case R_SLEEP:
		snprintf(buf, OFFCPU_REASON_LEN, "[sleeping]");
		break;
	case R_LOCK:
		snprintf(buf, OFFCPU_REASON_LEN, "[waiting on a lock]");
		break;
	case R_READ:
	case R_RECV:
		snprintf(buf, OFFCPU_REASON_LEN, "[reading%s]", fd_word(fd_kind, s->kind == R_RECV));
		break;
	case R_WRITE:
	case R_SEND:
		snprintf(buf, OFFCPU_REASON_LEN, "[writing%s]", fd_word(fd_kind, s->kind == R_SEND));
		break;
	case R_POLL:
		snprintf(buf, OFFCPU_REASON_LEN, "[polling]");
		break;
	case R_CHILD:
		snprintf(buf, OFFCPU_REASON_LEN, "[waiting for a child]");
		break;
	case R_ACCEPT:
		snprintf(buf, OFFCPU_REASON_LEN, "[accepting]");
		break;
	case R_CONNECT:
		snprintf(buf, OFFCPU_REASON_LEN, "[connecting]");
		break;
	default:
		snprintf(buf, OFFCPU_REASON_LEN, "[blocked in %s]", s->name);
		break;
	}
}

frame_id_t offcpu_reason_frame(struct profile *p, const char *name)
{
	struct frame f = { .name = name, .module = "", .kind = FRAME_SPECIAL,
			   .flags = FRAME_F_OFFCPU };

	return profile_frame(p, &f);
}

/* ---- Open intervals, one per thread ---- */

enum slot_state {
	SLOT_FREE,
	SLOT_HELD,		/* switched out (iv.off_ns, iv.stack): waits for its switch-in */
	SLOT_ENDED,		/* switched in (iv.on_ns) without its switch-out: waits for
				 * a late one (a cold sample finished afterwards) */
	SLOT_START_BLOCKED,	/* off the CPU, blocked, when sampling began */
	SLOT_START_RUNNABLE,	/* ... runnable: waiting for a CPU */
};

struct slot {
	struct offcpu_interval iv;
	uint32_t idle_stack;	/* START_BLOCKED: the stack if it never runs */
	uint32_t next_free;
	uint8_t state;		/* enum slot_state */
};

struct offcpu {
	uint64_t run_start_ns;
	struct slot *slots;
	size_t nr_slots, alloc_slots;
	uint32_t free_head;	/* UINT32_MAX: none */
	size_t nr_used;
	struct idx_table index;	/* hash(tid) -> slot */
	struct offcpu_stats stats;
};

struct offcpu *offcpu_new(uint64_t run_start_ns)
{
	struct offcpu *o = xcalloc(1, sizeof(*o));

	o->run_start_ns = run_start_ns;
	o->free_head = UINT32_MAX;
	return o;
}

void offcpu_free(struct offcpu *o)
{
	if (!o)
		return;
	free(o->slots);
	idx_free(&o->index);
	free(o);
}

static uint64_t tid_hash(uint32_t tid)
{
	return hash_u64(tid);
}

static int slot_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct offcpu *o = ctx;

	return o->slots[id].iv.tid == *(const uint32_t *)key;
}

static struct slot *slot_find(struct offcpu *o, uint32_t tid)
{
	uint32_t id = o->nr_used ? idx_find(&o->index, tid_hash(tid), slot_eq, &tid, o) : IDX_NONE;

	return id == IDX_NONE ? NULL : &o->slots[id];
}

/* A new slot for iv's thread (which has none), or NULL when
 * OFFCPU_MAX_HELD are in use. */
static struct slot *slot_new(struct offcpu *o, const struct offcpu_interval *iv,
			     enum slot_state state)
{
	uint32_t id;

	if (o->nr_used >= OFFCPU_MAX_HELD)
		return NULL;
	if (o->free_head != UINT32_MAX) {
		id = o->free_head;
		o->free_head = o->slots[id].next_free;
	} else {
		XGROW(o->slots, o->alloc_slots, o->nr_slots + 1);
		id = (uint32_t)o->nr_slots++;
	}
	o->slots[id] = (struct slot){ .iv = *iv, .state = state, .next_free = UINT32_MAX };
	idx_insert(&o->index, tid_hash(iv->tid), id);
	o->nr_used++;
	return &o->slots[id];
}

static void slot_release(struct offcpu *o, struct slot *s)
{
	uint32_t id = (uint32_t)(s - o->slots);

	idx_remove(&o->index, tid_hash(s->iv.tid), id);
	s->state = SLOT_FREE;
	s->next_free = o->free_head;
	o->free_head = id;
	o->nr_used--;
}

/* Hands a closed interval to fn; an empty or backwards one (a switch-in
 * just before sampling began) weighs nothing and is not handed out. */
static void emit(const struct offcpu_interval *iv, offcpu_fn fn, void *ctx)
{
	if (iv->on_ns > iv->off_ns)
		fn(iv, ctx);
}

/* An interval whose switch-out never came: its length, without its stack. */
static void emit_unrecorded(struct offcpu *o, const struct offcpu_interval *iv,
			    uint32_t not_recorded, offcpu_fn fn, void *ctx)
{
	struct offcpu_interval c = *iv;

	c.stack = not_recorded;
	c.call_id = 0;
	o->stats.unmatched++;
	emit(&c, fn, ctx);
}

int offcpu_start_thread(struct offcpu *o, const struct offcpu_interval *iv, uint32_t idle_stack,
			bool runnable)
{
	struct slot *s;

	if (slot_find(o, iv->tid))
		return 0;
	s = slot_new(o, iv, runnable ? SLOT_START_RUNNABLE : SLOT_START_BLOCKED);
	if (!s)
		return -ENOSPC;
	s->idle_stack = idle_stack;
	return 0;
}

void offcpu_switch_out(struct offcpu *o, const struct offcpu_interval *iv, offcpu_fn fn,
		       void *ctx)
{
	struct slot *s = slot_find(o, iv->tid);

	if (s && s->state == SLOT_ENDED && s->iv.off_ns == iv->off_ns) {
		/* The late switch-out of an interval already ended. */
		struct offcpu_interval c = *iv;

		c.on_ns = s->iv.on_ns;
		slot_release(o, s);
		emit(&c, fn, ctx);
		return;
	}
	if (s && s->state == SLOT_ENDED) {
		emit_unrecorded(o, &s->iv, s->iv.stack, fn, ctx);
	}
	if (s && s->state == SLOT_HELD && s->iv.off_ns > iv->off_ns)
		return;	/* a late one (cold), older than what is held: its end is gone */
	/* HELD: the earlier switch-out's switch-in was lost (counted by the
	 * BPF program), its length unknown: replaced. START: it ran. */
	if (s) {
		s->iv = *iv;
		s->state = SLOT_HELD;
		return;
	}
	if (!slot_new(o, iv, SLOT_HELD))
		o->stats.not_held++;
}

void offcpu_switch_in(struct offcpu *o, uint32_t tgid, uint32_t tid, uint64_t on_ns,
		      uint64_t off_ns, uint32_t not_recorded, offcpu_fn fn, void *ctx)
{
	struct slot *s = slot_find(o, tid);
	struct offcpu_interval c = { .tgid = tgid, .tid = tid, .off_ns = off_ns, .on_ns = on_ns,
				     .stack = not_recorded };

	if (s && s->state == SLOT_HELD && off_ns && s->iv.off_ns == off_ns) {
		c = s->iv;
		c.on_ns = on_ns;
		slot_release(o, s);
		emit(&c, fn, ctx);
		return;
	}
	if (s && (s->state == SLOT_START_BLOCKED || s->state == SLOT_START_RUNNABLE) && !off_ns) {
		/* Off the CPU since before sampling: from the run's start. */
		c = s->iv;
		c.off_ns = o->run_start_ns;
		c.on_ns = on_ns;
		slot_release(o, s);
		o->stats.since_start++;
		emit(&c, fn, ctx);
		return;
	}
	if (s && s->state == SLOT_ENDED)
		emit_unrecorded(o, &s->iv, not_recorded, fn, ctx);
	if (s)
		slot_release(o, s);	/* or a HELD one whose switch-in was lost */
	/* off_ns 0: the start was missed (counted by the BPF program), and the
	 * thread was not found off the CPU at the start: it began during the
	 * run, and has no start to count from. */
	if (!off_ns)
		return;
	/* The switch-out is missing: lost, not held, or a cold sample that
	 * comes later. Wait for it, until the thread's next record. */
	if (!slot_new(o, &c, SLOT_ENDED))
		emit_unrecorded(o, &c, not_recorded, fn, ctx);
}

void offcpu_ran(struct offcpu *o, uint32_t tid)
{
	struct slot *s = slot_find(o, tid);

	if (s && (s->state == SLOT_START_BLOCKED || s->state == SLOT_START_RUNNABLE))
		slot_release(o, s);
}

void offcpu_stop(struct offcpu *o, uint64_t stop_ns, uint32_t not_recorded, offcpu_fn fn,
		 void *ctx)
{
	for (size_t i = 0; i < o->nr_slots; i++) {
		struct slot *s = &o->slots[i];
		struct offcpu_interval c = s->iv;

		switch (s->state) {
		case SLOT_HELD:
			c.on_ns = stop_ns;
			emit(&c, fn, ctx);
			break;
		case SLOT_ENDED:
			emit_unrecorded(o, &c, not_recorded, fn, ctx);
			break;
		case SLOT_START_BLOCKED:
			/* Never ran: an idle worker. */
			c.off_ns = o->run_start_ns;
			c.on_ns = stop_ns;
			c.stack = s->idle_stack;
			c.idle = true;
			emit(&c, fn, ctx);
			break;
		default:
			/* FREE; or START_RUNNABLE with no record at all: it was
			 * on a CPU all along (a sample would have said so) */
			continue;
		}
		slot_release(o, s);
	}
}

void offcpu_stats(const struct offcpu *o, struct offcpu_stats *out)
{
	*out = o->stats;
}

size_t offcpu_held(const struct offcpu *o)
{
	return o->nr_used;
}

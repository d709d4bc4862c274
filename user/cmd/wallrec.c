/* --wall in the recorder: weights in ns, off-CPU intervals, the timeline. */
#include "cmd/wallrec.h"
#include "capture/offcpu.h"
#include "procs/procfs.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Open pieces are handed out this often, this long after the fact (records
 * stamped before then have been drained by then), for a live view. */
#define WALLREC_CHECKPOINT_NS 1000000000ull
#define WALLREC_CHECKPOINT_LAG_NS 200000000ull

/* Threads read per named process at the start; a process with more has
 * the rest counted from their first record only. */
#define WALLREC_MAX_TASKS 65536

struct wallrec {
	struct profile *prof;
	struct procs *procs;
	struct offcpu *off;
	uint64_t start_ns;	/* BPF clock at meta.start_wall_ns */
	uint64_t checkpoint_ns;	/* the last offcpu_checkpoint */
	frame_id_t not_recorded;	/* OFFCPU_NOT_RECORDED leaf */
	uint32_t not_recorded_stack;
	uint32_t no_stack;	/* "[no stack]": a capped switch-out's on-CPU slice */
	frame_id_t since_start, idle;	/* OFFCPU_SINCE_START, PROFILE_IDLE_NAME */
	frame_id_t capped;	/* above the reason of a switch-out past the rate cap */
	wallrec_keep_fn keep;	/* --scope, or NULL */
	void *keep_ctx;
};

void wallrec_set_keep_fn(struct wallrec *w, wallrec_keep_fn fn, void *ctx)
{
	w->keep = fn;
	w->keep_ctx = ctx;
}

static void add_piece(const struct offcpu_piece *pc, void *ctx);

/* Its own frames and stacks, in prof. */
static void special_frames(struct wallrec *w, struct profile *prof)
{
	frame_id_t f;

	w->prof = prof;
	w->not_recorded = offcpu_reason_frame(prof, OFFCPU_NOT_RECORDED);
	w->not_recorded_stack = profile_stack(prof, &w->not_recorded, 1);
	f = profile_special_frame(prof, FRAME_SPECIAL, "[no stack]");
	w->no_stack = profile_stack(prof, &f, 1);
	w->since_start = profile_special_frame(prof, FRAME_SPECIAL, OFFCPU_SINCE_START);
	w->idle = profile_special_frame(prof, FRAME_SPECIAL, PROFILE_IDLE_NAME);
	w->capped = profile_special_frame(prof, FRAME_SPECIAL, "[stack past the rate cap]");
}

struct wallrec *wallrec_new(struct profile *prof, struct procs *procs, uint64_t start_ns)
{
	struct wallrec *w = xcalloc(1, sizeof(*w));
	uint64_t period = prof->meta.freq_hz ? 1000000000ull / prof->meta.freq_hz : 1000000;

	w->procs = procs;
	w->start_ns = start_ns;
	w->checkpoint_ns = start_ns;
	w->off = offcpu_new(start_ns, period, add_piece, w);
	special_frames(w, prof);
	prof->meta.wall = true;
	prof->keep_events = true;
	return w;
}

struct remap {
	struct profile *from, *to;
};

static uint32_t remap_stack(void *ctx, uint32_t stack)
{
	struct remap *m = ctx;

	return profile_copy_stack(m->to, m->from, stack);
}

void wallrec_retarget(struct wallrec *w, struct profile *prof)
{
	struct remap m = { w->prof, prof };

	offcpu_remap_stacks(w->off, remap_stack, &m);
	special_frames(w, prof);
	prof->meta.wall = true;
}

void wallrec_free(struct wallrec *w)
{
	if (!w)
		return;
	offcpu_free(w->off);
	free(w);
}

static void who(struct offcpu_thread *th, uint32_t tgid, uint32_t tid, uint64_t start_ns,
		const char *comm)
{
	*th = (struct offcpu_thread){ .tgid = tgid, .tid = tid, .start_ns = start_ns };
	if (comm)
		memcpy(th->comm, comm, ST_COMM_LEN);
}

void wallrec_on_cpu(struct wallrec *w, const struct st_sample *s, uint32_t stack)
{
	struct offcpu_thread th;

	/* The run is [start, stop]: a sample taken while the program was
	 * being attached, before start_ns, is outside it (as the part of an
	 * interval before it). */
	if (s->time_ns < w->start_ns)
		return;
	who(&th, s->tgid, s->tid, s->start_ns, s->comm);
	offcpu_sample(w->off, &th, s->time_ns, stack,
		      (s->flags & ST_SAMPLE_IN_CALL) ? s->call_id : 0);
}

/* A piece of a thread's timeline into the profile: weight, and its event. */
static void add_piece(const struct offcpu_piece *pc, void *ctx)
{
	struct wallrec *w = ctx;
	char comm[ST_COMM_LEN + 1];
	struct proc *p;
	uint32_t thread;

	memcpy(comm, pc->th.comm, ST_COMM_LEN);
	comm[ST_COMM_LEN] = 0;
	p = procs_lookup(w->procs, pc->th.tgid, pc->th.start_ns);
	if (!comm[0]) {
		/* Only a switch-in named it (no name in it): its name now
		 * (/proc/TID works for any thread). */
		proc_read_comm(pc->th.tid, comm, sizeof(comm));
		if (!comm[0])
			snprintf(comm, sizeof(comm), "%s", p->comm[0] ? p->comm : "?");
	}
	thread = profile_thread(w->prof, pc->th.tgid, pc->th.tid, comm,
				p->comm[0] ? p->comm : comm);
	if (w->keep && !w->keep(w->keep_ctx, pc->th.tgid, pc->th.tid, thread, pc->stack,
				pc->begin_ns, pc->end_ns, pc->end_ns - pc->begin_ns, pc->call_id,
				pc->on_cpu))
		return;
	profile_add(w->prof, pc->stack, thread, pc->end_ns - pc->begin_ns);
	profile_add_event(w->prof, thread, pc->stack, pc->begin_ns - w->start_ns,
			  pc->end_ns - pc->begin_ns, pc->call_id);
}

void wallrec_switch_out(struct wallrec *w, const struct st_sample *s, frame_id_t *frames,
			uint32_t n)
{
	char reason[OFFCPU_REASON_LEN];
	struct offcpu_thread th;
	uint32_t on_stack;

	/* Sent without a stack (ST_CNT_OFF_CAPPED): say so above the reason. */
	if (!n && (s->flags & ST_SAMPLE_OFF_CAPPED))
		frames[n++] = w->capped;
	on_stack = n ? profile_stack(w->prof, frames, n) : w->no_stack;
	offcpu_reason_name(reason, s->off_state, s->off_syscall, s->off_fd_kind);
	frames[n++] = offcpu_reason_frame(w->prof, reason);
	who(&th, s->tgid, s->tid, s->start_ns, s->comm);
	offcpu_switch_out(w->off, &th, s->time_ns, profile_stack(w->prof, frames, n), on_stack,
			  (s->flags & ST_SAMPLE_IN_CALL) ? s->call_id : 0);
}

void wallrec_switch_in(struct wallrec *w, const struct st_oncpu *e)
{
	struct offcpu_thread th;

	who(&th, e->tgid, e->tid, e->start_ns, NULL);
	offcpu_switch_in(w->off, &th, e->time_ns, e->off_ns, w->not_recorded_stack);
}

void wallrec_exit(struct wallrec *w, uint32_t tgid)
{
	offcpu_exit(w->off, tgid);
}

/* One thread found off the CPU at the start: why, from /proc. */
static void start_thread(struct wallrec *w, struct proc *p, uint32_t tid)
{
	struct proc_task_wait tw;
	char reason[OFFCPU_REASON_LEN];
	uint32_t kind = ST_FD_NONE, stack, idle;
	struct offcpu_thread th;
	frame_id_t fr[2];
	bool runnable;

	if (proc_task_wait(p->pid, tid, &tw))
		return;
	if (tw.state == 'Z' || tw.state == 'X')
		return;
	runnable = tw.state == 'R';
	if (offcpu_syscall_has_fd(tw.syscall) && tw.arg0 <= INT32_MAX)
		kind = offcpu_fd_kind(proc_fd_type(p->pid, (int32_t)tw.arg0));
	offcpu_reason_name(reason, runnable ? 0 : 1, tw.syscall, kind);
	fr[1] = offcpu_reason_frame(w->prof, reason);
	fr[0] = w->since_start;
	stack = profile_stack(w->prof, fr, 2);
	fr[0] = w->idle;
	idle = profile_stack(w->prof, fr, 2);
	who(&th, p->pid, tid, p->start_ns, NULL);
	memcpy(th.comm, tw.comm, ST_COMM_LEN < sizeof(tw.comm) ? ST_COMM_LEN : sizeof(tw.comm));
	/* No room (OFFCPU_MAX_THREADS): its first switch-in will not count
	 * from the start, as for a thread that began during the run. */
	offcpu_start_thread(w->off, &th, stack, idle, runnable);
}

void wallrec_start_threads(struct wallrec *w, const uint32_t *pids, size_t nr)
{
	uint32_t *tids = xmalloc(WALLREC_MAX_TASKS * sizeof(*tids));

	for (size_t i = 0; i < nr; i++) {
		struct proc *p = procs_get(w->procs, pids[i]);
		int n;

		if (!p || p->gone)
			continue;
		n = proc_read_tasks(pids[i], tids, WALLREC_MAX_TASKS);
		for (int k = 0; k < n && k < (int)WALLREC_MAX_TASKS; k++)
			start_thread(w, p, tids[k]);
	}
	free(tids);
}

void wallrec_start_tids(struct wallrec *w, const uint32_t *tids, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		uint32_t tgid = proc_tgid_of(tids[i]);
		struct proc *p = tgid ? procs_get(w->procs, tgid) : NULL;

		if (p && !p->gone)
			start_thread(w, p, tids[i]);
	}
}

void wallrec_stop(struct wallrec *w, uint64_t stop_ns)
{
	offcpu_stop(w->off, stop_ns);
	wallrec_update(w, stop_ns);
}

void wallrec_update(struct wallrec *w, uint64_t now_ns)
{
	struct offcpu_stats st;

	offcpu_sweep(w->off, now_ns);
	if (now_ns > w->start_ns + WALLREC_CHECKPOINT_LAG_NS &&
	    now_ns - WALLREC_CHECKPOINT_LAG_NS >= w->checkpoint_ns + WALLREC_CHECKPOINT_NS) {
		w->checkpoint_ns = now_ns - WALLREC_CHECKPOINT_LAG_NS;
		offcpu_checkpoint(w->off, w->checkpoint_ns);
	}
	offcpu_stats(w->off, &st);
	w->prof->meta.counters[PC_OFF_NO_STACK] = st.no_stack;
}

/* --wall in the recorder: weights in ns, off-CPU intervals, the timeline. */
#include "cmd/wallrec.h"
#include "capture/offcpu.h"
#include "procs/procfs.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Threads read per named process at the start; a process with more has
 * the rest counted from their first record only. */
#define WALLREC_MAX_TASKS 65536

struct wallrec {
	struct profile *prof;
	struct procs *procs;
	struct offcpu *off;
	uint64_t start_ns;	/* BPF clock at meta.start_wall_ns */
	uint64_t stop_ns;	/* 0 while running */
	uint64_t sample_ns;	/* an on-CPU sample's weight: 1e9 / freq_hz */
	frame_id_t not_recorded;	/* OFFCPU_NOT_RECORDED leaf */
	uint32_t not_recorded_stack;
	frame_id_t since_start, idle;	/* OFFCPU_SINCE_START, PROFILE_IDLE_NAME */
	wallrec_keep_fn keep;	/* --scope, or NULL */
	void *keep_ctx;
};

void wallrec_set_keep_fn(struct wallrec *w, wallrec_keep_fn fn, void *ctx)
{
	w->keep = fn;
	w->keep_ctx = ctx;
}

struct wallrec *wallrec_new(struct profile *prof, struct procs *procs, uint64_t start_ns)
{
	struct wallrec *w = xcalloc(1, sizeof(*w));

	w->prof = prof;
	w->procs = procs;
	w->start_ns = start_ns;
	w->off = offcpu_new(start_ns);
	w->sample_ns = prof->meta.freq_hz ? 1000000000ull / prof->meta.freq_hz : 0;
	w->not_recorded = offcpu_reason_frame(prof, OFFCPU_NOT_RECORDED);
	w->not_recorded_stack = profile_stack(prof, &w->not_recorded, 1);
	w->since_start = profile_special_frame(prof, FRAME_SPECIAL, OFFCPU_SINCE_START);
	w->idle = profile_special_frame(prof, FRAME_SPECIAL, PROFILE_IDLE_NAME);
	prof->meta.wall = true;
	prof->keep_events = true;
	return w;
}

void wallrec_free(struct wallrec *w)
{
	if (!w)
		return;
	offcpu_free(w->off);
	free(w);
}

/* Event times count from the start; a record from just before it (the
 * program attaches first) counts from 0. */
static uint64_t since_start(const struct wallrec *w, uint64_t t)
{
	return t > w->start_ns ? t - w->start_ns : 0;
}

void wallrec_on_cpu(struct wallrec *w, const struct st_sample *s, uint32_t thread,
		    uint32_t stack)
{
	uint64_t call = (s->flags & ST_SAMPLE_IN_CALL) ? s->call_id : 0;

	offcpu_ran(w->off, s->tid);
	if (w->keep && !w->keep(w->keep_ctx, s->tgid, s->tid, thread, stack,
				s->time_ns - w->sample_ns, s->time_ns, w->sample_ns, call))
		return;
	profile_add(w->prof, stack, thread, w->sample_ns);
	profile_add_event(w->prof, thread, stack, since_start(w, s->time_ns), w->sample_ns, call);
}

/* A closed interval into the profile: weight, and its event. */
static void add_interval(const struct offcpu_interval *iv, void *ctx)
{
	struct wallrec *w = ctx;
	uint64_t on = iv->on_ns, off = iv->off_ns;
	char comm[ST_COMM_LEN + 1];
	struct proc *p;
	uint32_t thread;

	/* Nothing counts past the end of the run (records drained after it). */
	if (w->stop_ns && on > w->stop_ns)
		on = w->stop_ns;
	if (off < w->start_ns)
		off = w->start_ns;
	if (on <= off)
		return;
	memcpy(comm, iv->comm, ST_COMM_LEN);
	comm[ST_COMM_LEN] = 0;
	p = procs_lookup(w->procs, iv->tgid, iv->start_ns);
	if (!comm[0]) {
		/* Only a switch-in came (no name in it): the thread's name now
		 * (/proc/TID works for any thread). */
		proc_read_comm(iv->tid, comm, sizeof(comm));
		if (!comm[0])
			snprintf(comm, sizeof(comm), "%s", p->comm[0] ? p->comm : "?");
	}
	thread = profile_thread(w->prof, iv->tgid, iv->tid, comm, p->comm[0] ? p->comm : comm);
	if (w->keep && !w->keep(w->keep_ctx, iv->tgid, iv->tid, thread, iv->stack, off, on, on - off,
				iv->call_id))
		return;
	profile_add(w->prof, iv->stack, thread, on - off);
	profile_add_event(w->prof, thread, iv->stack, off - w->start_ns, on - off, iv->call_id);
}

void wallrec_switch_out(struct wallrec *w, const struct st_sample *s, frame_id_t *frames,
			uint32_t n)
{
	struct offcpu_interval iv = { .tgid = s->tgid, .tid = s->tid, .start_ns = s->start_ns,
				      .off_ns = s->time_ns };
	char reason[OFFCPU_REASON_LEN];

	offcpu_reason_name(reason, s->off_state, s->off_syscall, s->off_fd_kind);
	frames[n++] = offcpu_reason_frame(w->prof, reason);
	iv.stack = profile_stack(w->prof, frames, n);
	iv.call_id = (s->flags & ST_SAMPLE_IN_CALL) ? s->call_id : 0;
	memcpy(iv.comm, s->comm, ST_COMM_LEN);
	offcpu_switch_out(w->off, &iv, add_interval, w);
}

void wallrec_switch_in(struct wallrec *w, const struct st_oncpu *e)
{
	offcpu_switch_in(w->off, e->tgid, e->tid, e->time_ns, e->off_ns, w->not_recorded_stack,
			 add_interval, w);
}

/* One thread found off the CPU at the start: why, from /proc. */
static void start_thread(struct wallrec *w, struct proc *p, uint32_t tid)
{
	struct offcpu_interval iv = { .tgid = p->pid, .tid = tid, .start_ns = p->start_ns };
	struct proc_task_wait tw;
	char reason[OFFCPU_REASON_LEN];
	uint32_t kind = ST_FD_NONE, stack, idle;
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
	iv.stack = stack;
	memcpy(iv.comm, tw.comm, sizeof(iv.comm) < sizeof(tw.comm) ? sizeof(iv.comm)
								    : sizeof(tw.comm));
	/* No room (OFFCPU_MAX_HELD): its first switch-in will not count
	 * from the start, as for a thread that began during the run. */
	offcpu_start_thread(w->off, &iv, idle, runnable);
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

void wallrec_stop(struct wallrec *w, uint64_t stop_ns)
{
	w->stop_ns = stop_ns;
	offcpu_stop(w->off, stop_ns, w->not_recorded_stack, add_interval, w);
	wallrec_update_counters(w);
}

void wallrec_update_counters(struct wallrec *w)
{
	struct offcpu_stats st;

	offcpu_stats(w->off, &st);
	/* A switch-out not held shows as unmatched at its switch-in. */
	w->prof->meta.counters[PC_OFF_NO_STACK] = st.unmatched;
}

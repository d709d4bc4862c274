/* Raw samples -> named stacks in the profile. */
#include "cmd/record.h"
#include "cmd/wallrec.h"
#include "procs/procfs.h"
#include "procs/procs.h"
#include "procs/snapshot.h"
#include "unwind/unwind_bpf.h"
#include "unwind/unwind_hold.h"
#include "unwind/unwind_table.h"
#include "unwind/unwind_user.h"
#include "symbols/funcaddr.h"
#include "base/util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The table of a mapping, as last asked: a cold sample's frames mostly lie in
 * a few objects, and asking unwind_bpf opens the mapping's file. Emptied at
 * each pass over the held samples (a table may exist since). */
#define COLD_CACHE_SLOTS 64
struct cold_cache_slot {
	uint32_t pid, maps_gen;
	uint64_t start_ns, map_start;
	const struct unwind_table *t;
	uint64_t bias;
	int err;
	bool used;
};

struct recorder {
	struct profile *prof;
	struct sampler *sampler;
	struct procs *procs;
	int unwind_attach;	/* index in struct proc's attached[]: the read_ns
				 * its objects' unwind tables were built at */
	struct snapshots *snaps;	/* early maps of exec'd processes */
	struct symbolizer *sym;
	struct python *py;
	struct unwind_bpf *unw;	/* NULL with --unwind=fp */
	struct unwind_hold *hold;	/* cold samples waiting for their tables (with unw) */
	struct st_sample *cold_out;	/* a cold sample once finished */
	bool cold_fp;		/* finish cold walks by frame pointer where no table (auto) */
	struct cold_cache_slot *cold_cache;	/* COLD_CACHE_SLOTS of them */
	const uint32_t *push;	/* pids whose tables are pushed before attaching */
	size_t nr_push;
	uint64_t start_ns;
	uint64_t unwind_flush_ns;	/* last unwind_bpf_flush */
	bool unwind_flush_now;	/* a sample met a file without a table */
	bool kernel_only;
	frame_id_t no_stack, truncated, gone, user_mode, in_exec, exiting;
	uint32_t cmd_pid;	/* -- COMMAND's process, until it exec'd; 0 after */
	size_t coalesce_at;	/* thread records that trigger profile_coalesce_exited */
	size_t coalesce_base;	/* its first value */
	bool hold_merges;	/* the live view is paused: no merge */
	struct callrec *calls;	/* --scope, or NULL */
	sampler_call_fn call_fn;	/* --scope: recorder_opts.call_fn */
	void *call_ctx;
	struct wallrec *wall;	/* --wall, else NULL */
};

/* Past this many thread records (and twice as many as the last merge
 * left), exited threads are merged by name: a day of process churn under
 * -a costs no more memory than its first minutes. */
#define COALESCE_THREADS 4096

static void on_event(const struct st_event *e, void *ctx);
static void on_call(const struct st_call *c, void *ctx);
static bool wall_keep(void *ctx, uint32_t pid, uint32_t tid, uint32_t thread, uint32_t stack,
		      uint64_t start_ns, uint64_t end_ns, uint64_t weight, uint64_t call_id,
		      bool on_cpu);
static void on_oncpu(const struct st_oncpu *e, void *ctx);
static void on_cold(const struct st_ucold *c, const struct st_sample *s, size_t size,
		    const uint8_t *stack, void *ctx);

/* Connects the unwind tables to the loaded program and pushes the named
 * targets before the first sample can be taken; tells it the Python
 * processes found so far. */
static int bind_unwind_fds(struct sampler *s, void *ctx)
{
	struct recorder *r = ctx;
	struct sampler_map_fds fds;
	int err;

	sampler_map_fds(s, &fds);
	python_set_info_map(r->py, fds.py_procs);
	if (!r->unw)
		return 0;
	err = unwind_bpf_bind(r->unw, &fds);
	for (size_t i = 0; !err && i < r->nr_push; i++)
		unwind_bpf_push(r->unw, r->push[i]);
	return err;
}

/* The recorder's own frames, in r->prof. */
static void special_frames(struct recorder *r)
{
	struct profile *prof = r->prof;

	r->no_stack = profile_special_frame(prof, FRAME_SPECIAL, "[no stack]");
	/* --kernel-only: time spent in user mode, whose stack was not asked for. */
	r->user_mode = profile_special_frame(prof, FRAME_SPECIAL, "[in user mode]");
	r->truncated = profile_special_frame(prof, FRAME_SPECIAL, "[truncated stack]");
	/* In the kernel with no user stack to walk: execve, or exit. */
	r->in_exec = profile_special_frame(prof, FRAME_SPECIAL, "[in exec]");
	r->exiting = profile_special_frame(prof, FRAME_SPECIAL, "[exiting]");
	r->gone = profile_special_frame(prof, FRAME_SPECIAL, "[process exited before it was read]");
}

int recorder_open(struct profile *prof, const struct recorder_opts *o, struct recorder **out,
		  const char **why)
{
	struct recorder *r = xcalloc(1, sizeof(*r));
	struct sampler_opts sopts;
	int err;

	r->prof = prof;
	r->procs = procs_new();
	r->unwind_attach = procs_attach_register(r->procs, free);	/* the first: never fails */
	/* Python processes already running are found before sampling starts, so
	 * that their first samples have Python frames too. */
	r->py = python_new(prof, &o->python, -1);
	if (o->python.mode != PYTHON_OFF && !o->sampler.nr_pids && !o->sampler.nr_tids &&
	    !o->sampler.filter_pids)
		python_watch_all(r->py, r->procs);
	for (size_t i = 0; i < o->sampler.nr_pids; i++)
		python_watch(r->py, r->procs, procs_get(r->procs, o->sampler.pids[i]));
	if (o->sampler.unwind != ST_UNWIND_FP) {
		r->unw = unwind_bpf_new();
		r->hold = unwind_hold_new(UNWIND_HOLD_MAX_BYTES, UNWIND_HOLD_TIMEOUT_NS);
		r->cold_out = xmalloc(sizeof(*r->cold_out));
		r->cold_cache = xcalloc(COLD_CACHE_SLOTS, sizeof(*r->cold_cache));
		r->cold_fp = o->sampler.unwind == ST_UNWIND_AUTO;
		r->push = o->sampler.pids;
		r->nr_push = o->sampler.nr_pids;
	}
	sopts = o->sampler;
	sopts.before_attach = bind_unwind_fds;
	sopts.before_attach_ctx = r;
	err = sampler_open(&sopts, &r->sampler, why);
	if (err) {
		unwind_hold_free(r->hold);
		free(r->cold_out);
		free(r->cold_cache);
		unwind_bpf_free(r->unw);
		python_free(r->py);
		procs_free(r->procs);
		free(r);
		return err;
	}
	sampler_set_event_fn(r->sampler, on_event);
	sampler_set_cold_fn(r->sampler, on_cold);
	r->call_fn = o->call_fn;
	r->call_ctx = o->call_ctx;
	sampler_set_call_fn(r->sampler, on_call);
	if (o->sampler.wall)
		sampler_set_oncpu_fn(r->sampler, on_oncpu);
	err = snapshots_start(sampler_execs_fd(r->sampler), &r->snaps);
	if (err) {
		*why = "cannot start the maps snapshot thread";
		recorder_free(r);
		return err;
	}
	procs_set_snapshots(r->procs, r->snaps);
	r->sym = symbolizer_new(prof, &o->sym);
	special_frames(r);
	r->kernel_only = !o->sampler.user;
	r->coalesce_base = COALESCE_THREADS;
	if (getenv("SAMPLETOP_COALESCE_THREADS"))
		r->coalesce_base = strtoul(getenv("SAMPLETOP_COALESCE_THREADS"), NULL, 10) ?: 1;
	r->coalesce_at = r->coalesce_base;
	r->start_ns = now_ns();
	prof->meta.start_wall_ns = wall_ns();
	prof->meta.freq_hz = o->sampler.freq_hz;
	prof->meta.kernel_stacks = o->sampler.kernel;
	prof->meta.ncpus = sampler_nr_cpus(r->sampler);
	if (o->nr_scope)
		r->calls = callrec_new(prof, o->scope, o->nr_scope, o->slowest, r->start_ns,
				       o->call_ended, o->call_ended_ctx);
	if (o->sampler.wall) {
		/* start_ns is the BPF clock (CLOCK_MONOTONIC) read next to
		 * start_wall_ns: event times count from both. */
		r->wall = wallrec_new(prof, r->procs, r->start_ns);
		if (r->calls)
			wallrec_set_keep_fn(r->wall, wall_keep, r);
		wallrec_start_threads(r->wall, o->sampler.pids, o->sampler.nr_pids);
		wallrec_start_tids(r->wall, o->sampler.tids, o->sampler.nr_tids);
	}
	*out = r;
	return 0;
}

void recorder_free(struct recorder *r)
{
	if (!r)
		return;
	snapshots_stop(r->snaps);
	sampler_free(r->sampler);
	wallrec_free(r->wall);
	unwind_hold_free(r->hold);
	free(r->cold_out);
	free(r->cold_cache);
	unwind_bpf_free(r->unw);
	symbolizer_free(r->sym);
	python_free(r->py);
	procs_free(r->procs);
	callrec_free(r->calls);
	free(r);
}

/* Not pushed yet: make sure p's objects have tables, once per read of its
 * maps (the push itself may come too late for it). */
static void build_known_once(struct recorder *r, struct proc *p)
{
	uint64_t *built_at = p->attached[r->unwind_attach];

	if (!p->nr_maps || !p->read_ns)
		return;
	if (!built_at) {
		built_at = xcalloc(1, sizeof(*built_at));
		p->attached[r->unwind_attach] = built_at;
	}
	if (*built_at == p->read_ns)
		return;
	*built_at = p->read_ns;
	unwind_bpf_build_known(r->unw, p);
}

/* --wall with --scope: each piece of the timeline goes by the calls first. */
static bool wall_keep(void *ctx, uint32_t pid, uint32_t tid, uint32_t thread, uint32_t stack,
		      uint64_t start_ns, uint64_t end_ns, uint64_t weight, uint64_t call_id,
		      bool on_cpu)
{
	struct recorder *r = ctx;
	const struct thread *th = &r->prof->threads[thread];

	(void)on_cpu;

	return callrec_event(r->calls, pid, tid, th->comm, th->process, stack, start_ns, end_ns,
			     weight, call_id);
}

/* Adds one sample of the timeline: --scope's calls have their say first
 * (a sample outside every Python call is dropped). */
static void add_sample(struct recorder *r, const struct st_sample *s, uint32_t thread,
		       const frame_id_t *frames, uint32_t n, uint64_t weight)
{
	uint32_t stack = profile_stack(r->prof, frames, n);
	const struct thread *th = &r->prof->threads[thread];
	uint64_t period = r->prof->meta.freq_hz ? 1000000000ull / r->prof->meta.freq_hz : 0;

	if (r->calls &&
	    !callrec_event(r->calls, s->tgid, s->tid, th->comm, th->process, stack,
			   s->time_ns - period, s->time_ns, weight,
			   s->flags & ST_SAMPLE_IN_CALL ? s->call_id : 0))
		return;
	profile_add(r->prof, stack, thread, weight);
}

static void on_sample(const struct st_sample *s, size_t size, void *ctx)
{
	struct recorder *r = ctx;
	struct profile *prof = r->prof;
	frame_id_t frames[ST_MAX_USER_FRAMES * SYMBOLIZER_MAX_DEPTH + ST_MAX_FRAMES +
			  ST_PY_MAX_FRAMES + 2];
	uint16_t frame_ip[ST_MAX_USER_FRAMES * SYMBOLIZER_MAX_DEPTH];	/* user frame -> its ips[] */
	uint32_t n = 0, unr = s->user_nr, knr = s->kern_nr, emit_user, thread, ustart;
	struct proc *p;

	/* Never trust counts beyond what arrived. */
	if (unr > ST_MAX_USER_FRAMES || knr > ST_MAX_FRAMES ||
	    ST_SAMPLE_HDR_SIZE + (unr + knr) * sizeof(__u64) > size)
		return;
	if ((s->flags & ST_SAMPLE_UNWIND_MISS) && r->unw)
		unwind_bpf_request(r->unw, s->tgid);
	if (s->flags & ST_SAMPLE_NEW_OBJECT)
		r->unwind_flush_now = true;
	p = procs_lookup(r->procs, s->tgid, s->start_ns);
	if ((s->flags & ST_SAMPLE_UNWIND_MISS) && r->unw)
		build_known_once(r, p);
	thread = profile_thread(prof, s->tgid, s->tid, s->comm, p->comm[0] ? p->comm : s->comm);

	if (s->flags & (ST_SAMPLE_USER_TRUNCATED | ST_SAMPLE_KERN_TRUNCATED)) {
		frames[n++] = r->truncated;
		prof->meta.counters[PC_TRUNCATED_STACKS]++;
	}
	emit_user = unr;
	if ((s->flags & ST_SAMPLE_IN_EXEC) || (r->cmd_pid && s->tgid == r->cmd_pid)) {
		/* A launched command before its exec runs our own code. */
		frames[n++] = r->in_exec;
		emit_user = 0;
	} else if (s->flags & ST_SAMPLE_EXITING) {
		frames[n++] = r->exiting;
	} else if (unr && p->gone && !p->nr_maps) {
		frames[n++] = r->gone;
		prof->meta.counters[PC_PROC_GONE]++;
		emit_user = 0;
	}
	/* ips are leaf first; the profile wants root first. Every user frame but
	 * the interrupted one holds a return address. */
	ustart = n;
	for (uint32_t i = emit_user; i > 0; i--) {
		uint32_t k = symbolizer_user_frames(r->sym, r->procs, p, s->ips[i - 1], i - 1 != 0,
						    &frames[n], SYMBOLIZER_MAX_DEPTH);

		for (uint32_t j = 0; j < k; j++)
			frame_ip[n - ustart + j] = i - 1;
		n += k;
	}
	n = python_merge(r->py, r->procs, p, s, size, frames, frame_ip, ustart, n,
			 ARRAY_SIZE(frames) - knr - 1);
	for (uint32_t i = knr; i > 0; i--)
		frames[n++] = symbolizer_kernel(r->sym, s->ips[unr + i - 1]);
	if (n == 0 && !(s->flags & ST_SAMPLE_OFFCPU))
		frames[n++] = r->kernel_only && !(s->flags & ST_SAMPLE_IN_KERNEL) ? r->user_mode
										 : r->no_stack;
	for (uint32_t i = 0; i < n; i++)
		if (profile_get_frame(prof, frames[i])->flags & FRAME_F_UNKNOWN)
			prof->meta.counters[PC_UNNAMED_FRAMES]++;
	if (s->flags & ST_SAMPLE_OFFCPU) {
		if (r->wall)	/* held until the thread runs again; room for its reason */
			wallrec_switch_out(r->wall, s, frames, n);
		return;
	}
	if (r->wall)
		wallrec_on_cpu(r->wall, s, profile_stack(prof, frames, n));
	else
		add_sample(r, s, thread, frames, n, 1);
}

/* --wall: a thread runs again, which ends its off-CPU interval. */
static void on_oncpu(const struct st_oncpu *e, void *ctx)
{
	struct recorder *r = ctx;

	if (r->wall)
		wallrec_switch_in(r->wall, e);
}

/* ---- Cold samples: finished in userspace once their tables exist ---- */

struct cold_find {
	struct recorder *r;
	struct proc *p;
	uint64_t time_ns;	/* the sample's */
	bool expired;		/* no more waiting: what is missing now stays missing */
	bool missed;		/* it was, and something was */
};

/* The table for a pc of a cold sample's process (unwind_user_find_fn).
 * A pc outside its known mappings waits for them to be read again while
 * they are older than the sample (ld.so had not mapped everything when they
 * were read); outside maps read since, it is no code (as the BPF walk's
 * unknown mapping). */
static int cold_find_table(void *ctx, uint64_t pc, const struct unwind_table **t, uint64_t *bias)
{
	struct cold_find *f = ctx;
	struct proc_map *m = proc_find_map(f->r->procs, f->p, pc);
	bool may_come = !f->p->gone && !f->p->exited && f->p->read_ns < f->time_ns;
	struct cold_cache_slot *c;

	if (!m && may_come && !f->expired)
		return -EAGAIN;
	if (!m) {
		f->missed |= may_come;
		return -ENOENT;
	}
	c = &f->r->cold_cache[hash_u64(m->start ^ f->p->start_ns ^ f->p->pid) % COLD_CACHE_SLOTS];
	if (!c->used || c->pid != f->p->pid || c->start_ns != f->p->start_ns ||
	    c->maps_gen != f->p->maps_gen || c->map_start != m->start) {
		*c = (struct cold_cache_slot){ f->p->pid, f->p->maps_gen, f->p->start_ns, m->start };
		c->err = unwind_bpf_table_at(f->r->unw, f->p->pid, m, &c->t, &c->bias);
		c->used = true;
	}
	*t = c->t;
	*bias = c->bias;
	return c->err;
}

/* Walks a held cold sample on from where the BPF program stopped, over its
 * stack copy, and adds it as any sample. Returns false to keep holding it. */
static bool finish_cold(void *ctx, const struct unwind_held *h, bool expired)
{
	struct recorder *r = ctx;
	const struct st_sample *s = h->sample;
	const struct st_ucold *c = h->cold;
	struct st_sample *out = r->cold_out;
	struct cold_find f = { r, NULL, s->time_ns, expired, false };
	struct unwind_user_regs regs = { c->ip, c->sp, c->bp, c->exact };
	struct unwind_user_stack stack = { h->stack, c->base, c->stack_len, c->stack_end };
	uint32_t unr = s->user_nr, knr = s->kern_nr, pynr = s->py_nr, rest, nu;
	struct unwind_user_walk w;

	/* Never trust counts beyond what arrived (then dropped, as on_sample does). */
	rest = knr + pynr * ST_PY_FRAME_WORDS;
	if (unr > ST_MAX_USER_FRAMES || knr > ST_MAX_FRAMES || pynr > ST_PY_MAX_FRAMES ||
	    ST_SAMPLE_HDR_SIZE + (unr + rest) * sizeof(__u64) > c->sample_size)
		return true;
	f.p = procs_lookup(r->procs, s->tgid, s->start_ns);
	if (f.p->exec_ns > s->time_ns) {
		/* Taken in the kernel during its exec, before the new program
		 * ran: the registers and stack are the old program's, which no
		 * map read now describes. As on_sample shows such samples. */
		memcpy(out, s, ST_SAMPLE_HDR_SIZE + (unr + rest) * sizeof(__u64));
		out->flags = (out->flags & ~ST_SAMPLE_COLD) | ST_SAMPLE_IN_EXEC;
		on_sample(out, ST_SAMPLE_HDR_SIZE + (unr + rest) * sizeof(__u64), r);
		return true;
	}
	memcpy(out, s, ST_SAMPLE_HDR_SIZE);
	memcpy(out->ips, s->ips, unr * sizeof(__u64));
	unwind_user_walk(&regs, &stack, cold_find_table, &f, r->cold_fp, &out->ips[unr],
			 ST_MAX_USER_FRAMES - unr, &w);
	if (w.end == UNWIND_USER_PENDING)
		return false;
	nu = unr + w.nr;
	memcpy(&out->ips[nu], &s->ips[unr], rest * sizeof(__u64));
	out->user_nr = nu;
	out->flags &= ~ST_SAMPLE_COLD;
	if (w.end == UNWIND_USER_MAX || w.end == UNWIND_USER_TRUNCATED)
		out->flags |= ST_SAMPLE_USER_TRUNCATED;
	r->prof->meta.counters[PC_COLD_UNWOUND]++;
	if (w.end == UNWIND_USER_TRUNCATED)
		r->prof->meta.counters[PC_COLD_TRUNCATED]++;
	if (f.missed)
		r->prof->meta.counters[PC_COLD_LATE]++;
	on_sample(out, ST_SAMPLE_HDR_SIZE + (nu + rest) * sizeof(__u64), r);
	return true;
}

/* A cold sample: what on_sample would ask for at once (its tables, its
 * process's maps while it still runs), then held until its tables exist.
 * One that does not fit the queue is finished now. */
static void on_cold(const struct st_ucold *c, const struct st_sample *s, size_t size,
		    const uint8_t *stack, void *ctx)
{
	struct recorder *r = ctx;
	struct unwind_held h = { c, s, stack, 0 };
	struct proc *p;

	if (!r->unw) {
		on_sample(s, size, r);
		return;
	}
	unwind_bpf_request(r->unw, s->tgid);
	if (s->flags & ST_SAMPLE_NEW_OBJECT)
		r->unwind_flush_now = true;
	p = procs_lookup(r->procs, s->tgid, s->start_ns);
	build_known_once(r, p);
	if (unwind_hold_push(r->hold, c, s, stack, now_ns())) {
		r->prof->meta.counters[PC_COLD_HOLD_FULL]++;
		finish_cold(r, &h, true);
	}
}

/* Offers the held cold samples their tables; flush: the last chance. */
static void run_held(struct recorder *r, bool flush)
{
	if (!r->hold || !unwind_hold_count(r->hold))
		return;
	memset(r->cold_cache, 0, COLD_CACHE_SLOTS * sizeof(*r->cold_cache));
	unwind_hold_run(r->hold, now_ns(), flush, finish_cold, r);
}

/* Exec, fork and exit, in order with the samples. */
static void on_event(const struct st_event *e, void *ctx)
{
	struct recorder *r = ctx;
	char comm[ST_COMM_LEN + 1];

	memcpy(comm, e->comm, ST_COMM_LEN);
	comm[ST_COMM_LEN] = 0;
	switch (e->kind) {
	case ST_EV_EXEC:
		if (e->tgid == r->cmd_pid)
			r->cmd_pid = 0;
		procs_exec(r->procs, e->tgid, e->start_ns, comm, e->time_ns);
		if (r->unw)	/* a new program: new unwind tables */
			unwind_bpf_request(r->unw, e->tgid);
		break;
	case ST_EV_FORK:
		procs_fork(r->procs, e->tgid, e->start_ns, e->ppid, e->parent_start_ns, comm);
		break;
	case ST_EV_EXIT:
		procs_exit(r->procs, e->tgid, e->start_ns);
		if (r->wall)
			wallrec_exit(r->wall, e->tgid);
		if (r->unw)	/* its tables lose a user */
			unwind_bpf_exited(r->unw, e->tgid);
		break;
	}
}

/* --scope: a call of a scoped function began or ended (struct st_call,
 * sizes checked by the sampler), in order with the samples tagged with its
 * id; the last drain after recorder_stop() ends those still open
 * (ST_CALL_CUT). The one place call records leave the recorder. */
static void on_call(const struct st_call *c, void *ctx)
{
	struct recorder *r = ctx;

	if (r->calls)
		callrec_call_record(r->calls, c, sizeof(*c));
	if (r->call_fn)
		r->call_fn(c, r->call_ctx);
}

int recorder_scope_native(struct recorder *r, const char *func, uint32_t probe, uint32_t pid,
			  const char *cmd, struct strbuf *msg)
{
	struct funcaddr *fa = xmalloc(sizeof(*fa));
	char path[PATH_MAX];
	const char *why = NULL;
	int err;

	if (pid) {
		err = funcaddr_find_pid(pid, func, fa);
	} else if (funcaddr_command_path(cmd, path, sizeof(path))) {
		strbuf_addstr(msg, "--scope: cannot find the program ");
		strbuf_add_escaped(msg, cmd);
		free(fa);
		return -ENOENT;
	} else {
		err = funcaddr_find_file(path, func, fa);
	}
	if (err) {
		funcaddr_explain(func, err, fa, msg);
		free(fa);
		return err;
	}
	for (uint32_t i = 0; !err && i < fa->nr; i++)
		err = sampler_attach_scope(r->sampler, fa->loc[i].path, fa->loc[i].offset, probe,
					   pid ? (int)pid : -1, &why);
	if (err) {
		strbuf_addstr(msg, "--scope ");
		strbuf_add_escaped(msg, func);
		strbuf_addf(msg, ": %s (%s)", why, strerror(-err));
	}
	free(fa);
	return err;
}

/* Pushing unwind tables can take a while (a new object's table is built):
 * at most once per this period, or at once when a sample met a mapped file
 * without a table (the BPF program wakes us for those, rate-limited): a
 * program's first processes are unwound with its tables within ms. */
#define UNWIND_FLUSH_NS 100000000ull

/* Signal 0 only asks whether the thread (process) exists. */
static enum thread_state thread_state(uint32_t pid, uint32_t tid, void *ctx)
{
	(void)ctx;
	if (syscall(SYS_tgkill, (pid_t)pid, (pid_t)tid, 0) == 0 || errno == EPERM)
		return THREAD_ALIVE;
	if (proc_pid_exists(pid))
		return THREAD_PROCESS_ALIVE;
	return THREAD_GONE;
}

static bool thread_alive(uint32_t pid, uint32_t tid)
{
	return thread_state(pid, tid, NULL) == THREAD_ALIVE;
}

void recorder_merge_exited(struct recorder *r)
{
	if (r->prof->nr_threads >= r->coalesce_at) {
		profile_coalesce_exited(r->prof, thread_state, NULL);
		if (r->coalesce_at < 2 * r->prof->nr_threads)
			r->coalesce_at = 2 * r->prof->nr_threads;
	}
}

static void update_meta(struct recorder *r)
{
	uint64_t c[ST_CNT_NR], now = now_ns();
	struct unwind_bpf_stats us;

	if (r->unw && (r->unwind_flush_now || now - r->unwind_flush_ns >= UNWIND_FLUSH_NS)) {
		r->unwind_flush_ns = now;
		r->unwind_flush_now = false;
		unwind_bpf_flush(r->unw);
		unwind_bpf_stats(r->unw, &us);
		r->prof->meta.counters[PC_UNWIND_TABLE_FULL] = us.table_full;
		r->prof->meta.counters[PC_UNWIND_EVICTED] = us.evicted;
	}
	python_sweep(r->py);
	if (!r->hold_merges)
		recorder_merge_exited(r);
	sampler_counters(r->sampler, c);
	memcpy(r->prof->meta.counters, c, sizeof(c));
	r->prof->meta.duration_ns = now - r->start_ns;
	if (r->wall)
		wallrec_update(r->wall, now);
	if (r->calls) {	/* Python calls are cut here: their outside, too */
		r->prof->meta.counters[ST_CNT_SCOPE_OUTSIDE] += callrec_outside(r->calls);
		/* Not while cold samples wait: one of an exited thread's
		 * would open its call again. */
		if (!r->hold || !unwind_hold_count(r->hold))
			callrec_sweep(r->calls, thread_alive, now);
	}
}

long recorder_poll(struct recorder *r)
{
	long n;

	procs_next_gen(r->procs);
	n = sampler_drain(r->sampler, on_sample, r);
	update_meta(r);
	run_held(r, false);
	return n;
}

long recorder_wait(struct recorder *r, int timeout_ms)
{
	long n;

	procs_next_gen(r->procs);
	n = sampler_poll(r->sampler, timeout_ms, on_sample, r);
	update_meta(r);
	run_held(r, false);
	return n;
}

long recorder_stop(struct recorder *r)
{
	uint64_t stop_ns;
	long n;

	sampler_stop(r->sampler);
	stop_ns = now_ns();
	n = recorder_poll(r);
	/* Held cold samples go in now, with the tables there are. */
	run_held(r, true);
	if (r->wall) {
		/* Threads still off the CPU count up to the stop, and the run
		 * lasted until then: a thread alive throughout weighs it all. */
		wallrec_stop(r->wall, stop_ns);
		r->prof->meta.duration_ns = stop_ns - r->start_ns;
	}
	/* Last: the intervals closed just above belong to calls too. */
	if (r->calls)
		callrec_stop(r->calls, stop_ns);
	return n;
}

int recorder_add_pid(struct recorder *r, uint32_t pid)
{
	return sampler_add_pid(r->sampler, pid);
}

void recorder_command_prepare(struct recorder *r)
{
	if (r->unw)
		unwind_bpf_prebuild(r->unw, getpid());
}

void recorder_command_started(struct recorder *r, uint32_t pid)
{
	r->cmd_pid = pid;	/* set before the first drain: no sample is read yet */
	if (r->unw)
		unwind_bpf_push_after_exec(r->unw, pid);
}

int recorder_retarget(struct recorder *r, struct profile *prof)
{
	if (r->calls)	/* its calls hold stack and thread ids of the old one */
		return -EOPNOTSUPP;
	if (r->wall)	/* first: it copies its open intervals' stacks from r->prof */
		wallrec_retarget(r->wall, prof);
	r->prof = prof;
	symbolizer_retarget(r->sym, prof);
	python_retarget(r->py, prof);
	special_frames(r);
	r->coalesce_at = r->coalesce_base;
	return 0;
}

void recorder_hold_merges(struct recorder *r, bool hold)
{
	r->hold_merges = hold;
}

struct symbolizer *recorder_symbolizer(struct recorder *r)
{
	return r->sym;
}

struct unwind_bpf *recorder_unwind_bpf(struct recorder *r)
{
	return r->unw;
}

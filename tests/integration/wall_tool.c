/* The --wall capture without the rest of sampletop, for its tests and its
 * benchmark: loads the sampler with the sched_switch program on one
 * process, drains for a while and prints every switch-out and switch-in
 * record of it as one line, then the counters.
 *
 *   wall_tool -p PID [-d SECONDS] [-K] [--fp] [--py] [--no-wall] [--cap STACKS_PER_SEC] [-q]
 *
 *   off TID COMM TIME_NS state=S sys=N fd=N kind=K flags=0xF user=N kern=N py=N ips=A,B,... cpu=N
 *   on TID TIME_NS off=OFF_NS cpu=N
 *   counter NAME VALUE
 *
 * (ips: the user frames, leaf first, in hex; --py: PID is a CPython, whose
 * frames are walked too: py counts them.) -q prints only the counters,
 * and how many records of each kind arrived. Links with the sampler and the
 * unwinder (make lib-objs). */
#include "capture/sampler.h"
#include "model/profile.h"
#include "procs/procs.h"
#include "python/python.h"
#include "unwind/unwind_bpf.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tool {
	struct unwind_bpf *unw;
	struct python *py;	/* --py */
	uint32_t pid;
	bool quiet;
	uint64_t offs, ons, capped;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int bind_unwind(struct sampler *s, void *ctx)
{
	struct tool *t = ctx;
	struct sampler_map_fds fds;
	int err;

	sampler_map_fds(s, &fds);
	if (t->py)
		python_set_info_map(t->py, fds.py_procs);
	if (!t->unw)
		return 0;
	err = unwind_bpf_bind(t->unw, &fds);
	return err ? err : unwind_bpf_push(t->unw, t->pid);
}

static void on_sample(const struct st_sample *s, size_t size, void *ctx)
{
	struct tool *t = ctx;
	char comm[ST_COMM_LEN + 1];

	if ((s->flags & ST_SAMPLE_UNWIND_MISS) && t->unw)
		unwind_bpf_request(t->unw, s->tgid);
	if (!(s->flags & ST_SAMPLE_OFFCPU))
		return;
	t->offs++;
	t->capped += !!(s->flags & ST_SAMPLE_OFF_CAPPED);
	if (t->quiet)
		return;
	/* Never past what arrived. */
	if (s->user_nr > ST_MAX_USER_FRAMES || s->kern_nr > ST_MAX_FRAMES ||
	    ST_SAMPLE_HDR_SIZE + (s->user_nr + s->kern_nr) * sizeof(__u64) > size) {
		printf("bad-size %u %zu\n", s->tid, size);
		return;
	}
	memcpy(comm, s->comm, ST_COMM_LEN);
	comm[ST_COMM_LEN] = 0;
	for (char *c = comm; *c; c++)
		if (*c <= ' ' || *c > '~')
			*c = '?';
	printf("off %u %s %llu state=%u sys=%d fd=%d kind=%u flags=0x%x user=%u kern=%u py=%u ips=",
	       s->tid, comm[0] ? comm : "?", (unsigned long long)s->time_ns, s->off_state,
	       s->off_syscall, s->off_fd, s->off_fd_kind, s->flags, s->user_nr, s->kern_nr,
	       s->py_nr);
	for (unsigned i = 0; i < s->user_nr; i++)
		printf("%s%llx", i ? "," : "", (unsigned long long)s->ips[i]);
	printf(" cpu=%u\n", s->cpu);
}

static void on_oncpu(const struct st_oncpu *o, void *ctx)
{
	struct tool *t = ctx;

	t->ons++;
	if (!t->quiet)
		printf("on %u %llu off=%llu cpu=%u\n", o->tid, (unsigned long long)o->time_ns,
		       (unsigned long long)o->off_ns, o->cpu);
}

static void usage(void)
{
	fprintf(stderr, "usage: wall_tool -p PID [-d SECONDS] [-K] [--fp] [--py] [--no-wall] "
			"[--cap STACKS_PER_SEC] [-q]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sampler_opts o = { .freq_hz = 1000, .user = true, .wall = true,
				  .unwind = ST_UNWIND_AUTO };
	struct python_opts pyo = { .mode = PYTHON_MERGE };
	struct profile *prof = NULL;
	struct procs *procs = NULL;
	struct tool t = { 0 };
	bool py = false;
	uint64_t c[ST_CNT_NR], end;
	struct sampler *s;
	double secs = 2;
	const char *why;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-p") && i + 1 < argc)
			t.pid = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-d") && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (!strcmp(argv[i], "-K"))
			o.kernel = true;
		else if (!strcmp(argv[i], "--fp"))
			o.unwind = ST_UNWIND_FP;
		else if (!strcmp(argv[i], "--py"))
			py = true;
		else if (!strcmp(argv[i], "--no-wall"))
			o.wall = false;
		else if (!strcmp(argv[i], "--cap") && i + 1 < argc)
			o.wall_stacks_per_sec = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-q"))
			t.quiet = true;
		else
			usage();
	}
	if (!t.pid || secs <= 0)
		usage();
	o.pids = &t.pid;
	o.nr_pids = 1;
	if (o.unwind != ST_UNWIND_FP)
		t.unw = unwind_bpf_new();
	if (py) {
		prof = profile_new();
		procs = procs_new();
		t.py = python_new(prof, &pyo, -1);
		python_watch(t.py, procs, procs_get(procs, t.pid));
	}
	o.before_attach = bind_unwind;
	o.before_attach_ctx = &t;
	err = sampler_open(&o, &s, &why);
	if (err) {
		fprintf(stderr, "wall_tool: %s (%s)\n", why ? why : "cannot start", strerror(-err));
		unwind_bpf_free(t.unw);
		python_free(t.py);
		procs_free(procs);
		profile_free(prof);
		return 1;
	}
	sampler_set_oncpu_fn(s, on_oncpu);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "wall_tool: sampling\n");
	end = now_mono_ns() + (uint64_t)(secs * 1e9);
	while (!stop && now_mono_ns() < end) {
		if (sampler_poll(s, 100, on_sample, &t) < 0 && errno != EINTR)
			break;
		if (t.unw)
			unwind_bpf_flush(t.unw);
	}
	sampler_stop(s);
	sampler_drain(s, on_sample, &t);
	sampler_counters(s, c);
	for (int i = 0; i < ST_CNT_NR; i++)
		printf("counter %s %" PRIu64 "\n", prof_counter_names[i], c[i]);
	printf("records off=%" PRIu64 " on=%" PRIu64 " capped=%" PRIu64 "\n", t.offs, t.ons,
	       t.capped);
	sampler_free(s);
	unwind_bpf_free(t.unw);
	python_free(t.py);
	procs_free(procs);
	profile_free(prof);
	return 0;
}

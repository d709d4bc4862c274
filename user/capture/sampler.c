/* Loading the BPF program, attaching it to cpu-clock events, draining samples. */
#include "capture/sampler.h"
#include "sampletop.skel.h"
#include "base/util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

_Static_assert(sizeof(struct st_sample) ==
		       80 + (ST_MAX_USER_FRAMES + ST_MAX_FRAMES + ST_PY_FRAME_WORDS * ST_PY_MAX_FRAMES) * 8,
	       "st_sample layout");
_Static_assert(sizeof(struct st_event) == 64, "st_event layout");
_Static_assert(offsetof(struct st_event, flags) == offsetof(struct st_sample, flags),
	       "st_event shares the sample's flags");
_Static_assert(sizeof(struct st_call) == 56 &&
		       offsetof(struct st_call, kind) == offsetof(struct st_event, kind),
	       "st_call layout: its kind where an event's is");
_Static_assert(sizeof(struct st_oncpu) == 48 &&
		       offsetof(struct st_oncpu, flags) == offsetof(struct st_sample, flags) &&
		       offsetof(struct st_oncpu, kind) == offsetof(struct st_event, kind),
	       "st_oncpu layout: flags and kind where a sample and an event have them");
_Static_assert(sizeof(struct st_ucrow2) == 8 && sizeof(struct st_upage) == 8 &&
		       sizeof(struct st_ucrow) == 4,
	       "unwind rows (two per element) and pages are mmapped with the 8-byte stride of array maps");
_Static_assert(sizeof(struct st_ucold) == 40 && sizeof(struct st_ucold) % 8 == 0,
	       "a cold record's sample and stack follow its header 8-byte aligned");

struct sampler {
	struct sampletop_bpf *skel;
	struct bpf_link **links;
	struct bpf_link *tp_links[3];	/* exec, fork, exit */
	struct bpf_link *switch_link;	/* --wall: sched_switch */
	int *pfds;
	int nr_links, ncpus;
	struct ring_buffer *rb;
	int epfd;		/* edge-triggered on the ring: wakes on wake-up records only */
	sampler_fn fn;
	sampler_event_fn event_fn;
	sampler_oncpu_fn oncpu_fn;
	sampler_cold_fn cold_fn;
	sampler_call_fn call_fn;
	void *ctx;
	long drained;
	/* --scope: a uprobe and a uretprobe per function entry probed */
	struct bpf_link **scope_links;
	int nr_scope_links;
	struct bpf_link *scope_exit_link;	/* closes the call of an exiting thread */
	uint64_t stop_ns;	/* sampler_stop's time (CLOCK_MONOTONIC); 0: running */
	bool calls_closed;	/* the calls open at the stop were ended */
};

static int perf_open_cpu_clock(uint32_t freq, int cpu)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_freq = freq,
		.freq = 1,
	};

	return syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("SAMPLETOP_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int on_rb(void *ctx, void *data, size_t size)
{
	struct sampler *s = ctx;
	const struct st_sample *smp = data;

	if (size >= sizeof(struct st_call) && (smp->flags & ST_REC_EVENT) &&
	    (((const struct st_call *)data)->kind == ST_EV_CALL_BEGIN ||
	     ((const struct st_call *)data)->kind == ST_EV_CALL_END)) {
		if (s->call_fn)
			s->call_fn(data, s->ctx);
	} else if (size >= sizeof(struct st_oncpu) && (smp->flags & ST_REC_EVENT) &&
	    ((const struct st_event *)data)->kind == ST_EV_ONCPU) {
		if (s->oncpu_fn)
			s->oncpu_fn(data, s->ctx);
	} else if (size >= sizeof(struct st_event) && (smp->flags & ST_REC_EVENT)) {
		if (s->event_fn)
			s->event_fn(data, s->ctx);
	} else if (size >= ST_SAMPLE_HDR_SIZE) {
		s->fn(data, size, s->ctx);
		s->drained++;
	}
	return 0;
}

/* A cold record: header, sample, stack copy; sizes checked against what
 * arrived. Without a cold_fn the sample goes on with the frames it has. */
static int on_cold_rb(void *ctx, void *data, size_t size)
{
	struct sampler *s = ctx;
	const struct st_ucold *c = data;
	const struct st_sample *smp = (const void *)(c + 1);

	if (size < sizeof(*c) + ST_SAMPLE_HDR_SIZE || c->sample_size < ST_SAMPLE_HDR_SIZE ||
	    c->sample_size > size - sizeof(*c) || c->stack_len > size - sizeof(*c) - c->sample_size)
		return 0;
	if (s->cold_fn)
		s->cold_fn(c, smp, c->sample_size, (const uint8_t *)smp + c->sample_size, s->ctx);
	else
		s->fn(smp, c->sample_size, s->ctx);
	s->drained++;
	return 0;
}

/* Room for every id named, with slack for the children of a launched
 * command: ST_MAX_TARGETS, or more on a machine with many CPUs (more
 * processes run at once). */
static uint32_t max_entries_for(size_t n, int ncpus)
{
	size_t want = 2 * n;

	if (want < ST_MAX_TARGETS)
		want = ST_MAX_TARGETS;
	if (want < (size_t)ncpus * ST_TARGETS_PER_CPU)
		want = (size_t)ncpus * ST_TARGETS_PER_CPU;
	return want;
}

static int add_comms(int map_fd, const char *const *names, size_t n)
{
	__u8 one = 1;

	if (n > ST_MAX_COMMS)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		char key[ST_COMM_LEN] = { 0 };

		/* The kernel keeps 15 characters of a name, zero-padded. */
		strncpy(key, names[i], sizeof(key) - 1);
		if (bpf_map_update_elem(map_fd, key, &one, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int add_targets(int map_fd, const uint32_t *ids, size_t n)
{
	__u8 one = 1;

	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(map_fd, &ids[i], &one, BPF_ANY))
			return -errno;
	return 0;
}

/* The smallest power-of-two multiple of min_bytes (a power of two multiple
 * of the page size, as ring buffers must be) that holds want_bytes. */
static uint32_t ring_bytes(size_t min_bytes, size_t want_bytes)
{
	size_t n = min_bytes;

	while (n < want_bytes)
		n <<= 1;
	return n;
}

/* --wall. The cap on off-CPU stacks, per CPU: past it a switch-out is still
 * sent, with its time and reasons but no stack (ST_CNT_OFF_CAPPED), so that
 * wall time stays whole. Measured with bench/wall.sh on this loaded 2-CPU
 * VM: a bare switch costs the program ~1-2 us, one with a 5-frame user stack
 * ~1.4 us more (deeper stacks and Python frames more: each frame is a
 * table search). 10k stacks/s keeps the walks to a few percent of a CPU
 * however fast threads switch, while threads that switch less than that
 * (a server's request threads, a pool's workers) keep every stack. */
#define OFFCPU_STACKS_PER_SEC 10000u
/* Ring bytes per CPU with --wall: 100 ms (a drain period) of the capped
 * stacks (~1 KiB each: 1 MiB) plus, past the cap, the bare switch-out and
 * switch-in records of 50k switches/s (88 + 56 bytes: 720 KiB), with the
 * cpu-clock samples' own 1 MiB on top. Never more than WALL_RINGBUF_MAX
 * in all (a 64-CPU machine would want 256 MiB of locked kernel memory): past
 * it, a record that finds no room is counted (ST_CNT_OFF_LOST). */
#define WALL_RINGBUF_BYTES_PER_CPU (4u << 20)
#define WALL_RINGBUF_MAX (64u << 20)
/* Threads with a switch-out on record (LRU: the least recent is forgotten
 * first, its interval then counted as a missed start): 32k threads, ~2 MiB
 * of kernel memory, allocated with --wall only. */
#define OFFCPU_THREADS (8 * ST_MAX_TARGETS)

/* The options reach the BPF program as read-only data, set before load. */
static void set_options(struct sampletop_bpf *skel, const struct sampler_opts *o)
{
	skel->rodata->filter_tgid = o->nr_pids > 0 || o->filter_pids;
	skel->rodata->filter_tid = o->nr_tids > 0;
	skel->rodata->want_user = o->user;
	skel->rodata->want_kernel = o->kernel;
	skel->rodata->want_idle = o->idle;
	skel->rodata->follow_forks = o->follow_forks;
	skel->rodata->filter_uid = o->filter_uid;
	skel->rodata->target_uid = o->uid;
	skel->rodata->filter_comm = o->nr_comms > 0;
	skel->rodata->filter_cgroup = o->filter_cgroup;
	skel->rodata->cgroup_ssid = o->cgroup.ssid;
	skel->rodata->cgroup_level = o->cgroup.level;
	skel->rodata->cgroup_id = o->cgroup.id;
	skel->rodata->unwind_mode = o->unwind;
	skel->rodata->want_scope = o->scope;
	/* Without --scope the probe programs are not even loaded. */
	bpf_program__set_autoload(skel->progs.scope_enter, o->scope);
	bpf_program__set_autoload(skel->progs.scope_return, o->scope);
	bpf_program__set_autoload(skel->progs.scope_on_exit, o->scope);
	skel->rodata->want_wall = o->wall;
	skel->rodata->offcpu_stack_cost_ns =
		1000000000ull / (o->wall_stacks_per_sec ? o->wall_stacks_per_sec : OFFCPU_STACKS_PER_SEC);
	/* Without --wall the scheduler's program is not even loaded. */
	bpf_program__set_autoload(skel->progs.on_switch, o->wall);
}

/* Map sizes are fixed before load. */
static void size_maps(struct sampletop_bpf *skel, const struct sampler_opts *o, int ncpus)
{
	size_t ring = (size_t)ncpus * ST_RINGBUF_BYTES_PER_CPU;

	/* Room for every pid and tid named, with the default as a floor. */
	bpf_map__set_max_entries(skel->maps.targets, max_entries_for(o->nr_pids, ncpus));
	bpf_map__set_max_entries(skel->maps.tid_targets, max_entries_for(o->nr_tids, ncpus));
	if (o->unwind == ST_UNWIND_FP) {	/* no tables: keep the rows map small */
		bpf_map__set_max_entries(skel->maps.unwind_rows, 1);
		bpf_map__set_max_entries(skel->maps.unwind_pages, 1);
		bpf_map__set_max_entries(skel->maps.unwind_rules, 1);
		bpf_map__set_max_entries(skel->maps.unwind_used, 1);
		bpf_map__set_max_entries(skel->maps.unwind_procs, 1);
	} else {
		/* The budget: 1/ST_UNWIND_PAGES_SHARE for pages, the rest rows
		 * (two 4-byte rows per 8-byte element). */
		uint64_t mem = o->unwind_mem ? o->unwind_mem : ST_UNWIND_MEM_DEFAULT;
		uint64_t pages = mem / ST_UNWIND_PAGES_SHARE / sizeof(struct st_upage);

		bpf_map__set_max_entries(skel->maps.unwind_pages, pages ? pages : 1);
		bpf_map__set_max_entries(skel->maps.unwind_rows,
					 (mem - pages * sizeof(struct st_upage)) / sizeof(struct st_ucrow2));
	}
	if (!o->scope)
		bpf_map__set_max_entries(skel->maps.scope_threads, 1);
	if (o->wall && ring < WALL_RINGBUF_MAX) {
		ring = (size_t)ncpus * WALL_RINGBUF_BYTES_PER_CPU;
		if (ring > WALL_RINGBUF_MAX)
			ring = WALL_RINGBUF_MAX;
	}
	bpf_map__set_max_entries(skel->maps.samples, ring_bytes(ST_RINGBUF_BYTES_PER_CPU, ring));
	bpf_map__set_max_entries(skel->maps.offcpu_start, o->wall ? OFFCPU_THREADS : 1);
	bpf_map__set_max_entries(skel->maps.execs,
				 ring_bytes(64u << 10, (size_t)ncpus * ST_EXECS_BYTES_PER_CPU));
	/* Stack copies: one slot per CPU, and a ring for ~500 ms of them on
	 * every CPU, capped (a copy that finds no room is counted). */
	if (o->unwind != ST_UNWIND_FP) {
		size_t want = (size_t)ncpus * ST_COLD_BYTES_PER_CPU;

		bpf_map__set_max_entries(skel->maps.cold_stack, ncpus);
		bpf_map__set_max_entries(skel->maps.cold_samples,
					 ring_bytes(ST_COLD_BYTES_PER_CPU,
						    want < ST_COLD_RING_MAX ? want : ST_COLD_RING_MAX));
	} else {
		bpf_map__set_max_entries(skel->maps.cold_samples, 64u << 10);
	}
}

static int open_skeleton(struct sampler *s, const struct sampler_opts *o, const char **why)
{
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0) {
		*why = "cannot count the CPUs";
		return -EINVAL;
	}
	s->skel = sampletop_bpf__open();
	if (!s->skel) {
		*why = "cannot open the BPF program";
		return -errno;
	}
	set_options(s->skel, o);
	size_maps(s->skel, o, s->ncpus);
	return 0;
}

/* Loads the program and fills its target filter. */
static int load(struct sampler *s, const struct sampler_opts *o, const char **why)
{
	int err = sampletop_bpf__load(s->skel);

	if (err) {
		*why = geteuid() != 0
			       ? "loading BPF needs root (or CAP_BPF and CAP_PERFMON): run with sudo"
			       : "the kernel refused the BPF program (run with SAMPLETOP_DEBUG=1 for the verifier log)";
		return err;
	}
	err = add_targets(bpf_map__fd(s->skel->maps.targets), o->pids, o->nr_pids);
	if (!err)
		err = add_targets(bpf_map__fd(s->skel->maps.tid_targets), o->tids, o->nr_tids);
	if (!err)
		err = add_comms(bpf_map__fd(s->skel->maps.comm_targets), o->comms, o->nr_comms);
	if (err)
		*why = "cannot fill the target filter map";
	return err;
}

/* --wall: sched_switch, by name (no tracefs needed). */
static int attach_switch(struct sampler *s, const char **why)
{
	s->switch_link = bpf_program__attach_raw_tracepoint(s->skel->progs.on_switch, "sched_switch");
	if (!s->switch_link) {
		*why = "cannot attach to the sched_switch raw tracepoint (needed by --wall)";
		return -errno;
	}
	return 0;
}

static int attach_lifecycle(struct sampler *s, const char **why)
{
	struct bpf_program *progs[] = { s->skel->progs.on_exec, s->skel->progs.on_fork,
					s->skel->progs.on_exit };

	for (size_t i = 0; i < ARRAY_SIZE(progs); i++) {
		s->tp_links[i] = bpf_program__attach(progs[i]);
		if (!s->tp_links[i]) {
			*why = "cannot attach to the sched_process_exec/fork/exit tracepoints";
			return -errno;
		}
	}
	return 0;
}

/* Attaches the sampling program to a cpu-clock event on cpu. Returns 0,
 * -ENODEV for an offline CPU (skipped, without *why), or a negative errno. */
static int attach_cpu(struct sampler *s, uint32_t freq_hz, int cpu, const char **why)
{
	int fd = perf_open_cpu_clock(freq_hz, cpu);
	int err;

	if (fd < 0) {
		err = -errno;
		if (err != -ENODEV)
			*why = err == -EACCES || err == -EPERM
				       ? "opening perf events needs root (or CAP_PERFMON): run with sudo"
				       : "cannot open a cpu-clock perf event";
		return err;
	}
	s->links[s->nr_links] = bpf_program__attach_perf_event(s->skel->progs.on_sample, fd);
	if (!s->links[s->nr_links]) {
		err = -errno;
		close(fd);
		*why = "cannot attach the BPF program to a perf event";
		return err;
	}
	s->pfds[s->nr_links++] = fd;
	return 0;
}

/* One perf event per CPU asked for that is online. */
static int attach_cpus(struct sampler *s, const struct sampler_opts *o, const char **why)
{
	s->links = xcalloc(s->ncpus, sizeof(*s->links));
	s->pfds = xcalloc(s->ncpus, sizeof(*s->pfds));
	for (int cpu = 0; cpu < s->ncpus; cpu++) {
		int err;

		if (o->cpus && ((size_t)cpu >= o->nr_cpus || !o->cpus[cpu]))
			continue;
		err = attach_cpu(s, o->freq_hz, cpu, why);
		if (err && err != -ENODEV)
			return err;
	}
	if (s->nr_links == 0) {
		*why = "no online CPU to sample";
		return -ENODEV;
	}
	return 0;
}

static int open_rings(struct sampler *s, const char **why)
{
	int fd = bpf_map__fd(s->skel->maps.samples);

	int cold_fd = bpf_map__fd(s->skel->maps.cold_samples);

	s->rb = ring_buffer__new(fd, on_rb, s, NULL);
	if (!s->rb || ring_buffer__add(s->rb, cold_fd, on_cold_rb, s)) {
		*why = "cannot map the BPF ring buffer";
		return -errno;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd,
		      &(struct epoll_event){ .events = EPOLLIN | EPOLLET }) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, cold_fd,
		      &(struct epoll_event){ .events = EPOLLIN | EPOLLET }) < 0) {
		*why = "cannot wait on the BPF ring buffer";
		return -errno;
	}
	return 0;
}

int sampler_open(const struct sampler_opts *o, struct sampler **out, const char **why)
{
	struct sampler *s = xcalloc(1, sizeof(*s));
	int err;

	*why = NULL;
	s->epfd = -1;
	libbpf_set_print(libbpf_quiet);
	err = open_skeleton(s, o, why);
	if (err)
		goto out_free;
	err = load(s, o, why);
	if (err)
		goto out_free;
	err = attach_lifecycle(s, why);
	if (err)
		goto out_free;
	if (o->before_attach) {
		err = o->before_attach(s, o->before_attach_ctx);
		if (err) {
			*why = "cannot fill the BPF unwind maps";
			goto out_free;
		}
	}
	err = attach_cpus(s, o, why);
	if (!err && o->wall)
		err = attach_switch(s, why);
	if (err)
		goto out_free;
	err = open_rings(s, why);
	if (err)
		goto out_free;
	*out = s;
	return 0;

out_free:
	sampler_free(s);
	return err < 0 ? err : -EINVAL;
}

void sampler_free(struct sampler *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	if (s->epfd >= 0)
		close(s->epfd);
	for (size_t i = 0; i < ARRAY_SIZE(s->tp_links); i++)
		bpf_link__destroy(s->tp_links[i]);
	for (int i = 0; i < s->nr_scope_links; i++)
		bpf_link__destroy(s->scope_links[i]);
	free(s->scope_links);
	bpf_link__destroy(s->scope_exit_link);
	bpf_link__destroy(s->switch_link);
	for (int i = 0; i < s->nr_links; i++) {
		bpf_link__destroy(s->links[i]);
		close(s->pfds[i]);
	}
	free(s->links);
	free(s->pfds);
	sampletop_bpf__destroy(s->skel);
	free(s);
}

void sampler_stop(struct sampler *s)
{
	/* The disable reaches each CPU and waits for it: a sample being
	 * written there completes first. */
	for (int i = 0; i < s->nr_links; i++)
		ioctl(s->pfds[i], PERF_EVENT_IOC_DISABLE, 0);
	/* No call begins or ends after this either: those still open are
	 * ended at the last drain. */
	for (int i = 0; i < s->nr_scope_links; i++)
		bpf_link__destroy(s->scope_links[i]);
	s->nr_scope_links = 0;
	bpf_link__destroy(s->scope_exit_link);
	s->scope_exit_link = NULL;
	s->stop_ns = now_ns();
	/* A switch already being recorded on another CPU may still send its
	 * record: the last drain takes it. */
	bpf_link__destroy(s->switch_link);
	s->switch_link = NULL;
}

int sampler_attach_scope(struct sampler *s, const char *path, uint64_t offset, uint32_t probe,
			 int pid, const char **why)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = probe);
	struct bpf_link *enter, *ret;
	int err;

	if (!s->skel->rodata->want_scope || probe >= ST_SCOPE_MAX_PROBES) {
		*why = "no --scope probe slot for this function";
		return -EINVAL;
	}
	if (!s->scope_exit_link) {
		s->scope_exit_link = bpf_program__attach(s->skel->progs.scope_on_exit);
		if (!s->scope_exit_link) {
			*why = "cannot attach to the sched_process_exit tracepoint";
			return -errno;
		}
	}
	enter = bpf_program__attach_uprobe_opts(s->skel->progs.scope_enter, pid, path, offset, &uo);
	if (!enter) {
		err = -errno;
		*why = "cannot attach a uprobe to the function";
		return err;
	}
	uo.retprobe = true;
	ret = bpf_program__attach_uprobe_opts(s->skel->progs.scope_return, pid, path, offset, &uo);
	if (!ret) {
		err = -errno;
		bpf_link__destroy(enter);
		*why = "cannot attach a uretprobe to the function";
		return err;
	}
	s->scope_links = xrealloc(s->scope_links, (s->nr_scope_links + 2) * sizeof(*s->scope_links));
	s->scope_links[s->nr_scope_links++] = enter;
	s->scope_links[s->nr_scope_links++] = ret;
	return 0;
}

void sampler_set_call_fn(struct sampler *s, sampler_call_fn fn)
{
	s->call_fn = fn;
}

/* Once stopped and drained: the calls still open end at the stop, cut (the
 * thread is still inside, or left it without a return the probe saw). */
static void close_open_calls(struct sampler *s)
{
	int fd = bpf_map__fd(s->skel->maps.scope_threads);
	struct st_scope_thread t;
	__u32 tid, next;
	bool first = true;

	if (!s->stop_ns || s->calls_closed || !s->skel->rodata->want_scope)
		return;
	s->calls_closed = true;
	while (!bpf_map_get_next_key(fd, first ? NULL : &tid, &next)) {
		struct st_call c = { 0 };

		first = false;
		tid = next;
		if (bpf_map_lookup_elem(fd, &tid, &t))
			continue;
		c.tgid = t.tgid;
		c.tid = tid;
		c.time_ns = s->stop_ns;
		c.flags = ST_REC_EVENT | ST_CALL_CUT;
		c.kind = ST_EV_CALL_END;
		c.probe = t.probe;
		c.call_id = t.call_id;
		c.begin_ns = t.begin_ns;
		c.start_ns = t.start_ns;
		if (s->call_fn)
			s->call_fn(&c, s->ctx);
	}
}

int sampler_add_pid(struct sampler *s, uint32_t pid)
{
	return add_targets(bpf_map__fd(s->skel->maps.targets), &pid, 1);
}

long sampler_drain(struct sampler *s, sampler_fn fn, void *ctx)
{
	int err;

	s->fn = fn;
	s->ctx = ctx;
	s->drained = 0;
	err = ring_buffer__consume(s->rb);
	close_open_calls(s);
	return err < 0 ? err : s->drained;
}

int sampler_execs_fd(const struct sampler *s)
{
	return bpf_map__fd(s->skel->maps.execs);
}

void sampler_set_event_fn(struct sampler *s, sampler_event_fn fn)
{
	s->event_fn = fn;
}

void sampler_set_oncpu_fn(struct sampler *s, sampler_oncpu_fn fn)
{
	s->oncpu_fn = fn;
}

void sampler_set_cold_fn(struct sampler *s, sampler_cold_fn fn)
{
	s->cold_fn = fn;
}

long sampler_poll(struct sampler *s, int timeout_ms, sampler_fn fn, void *ctx)
{
	struct epoll_event ev;
	int err;

	s->fn = fn;
	s->ctx = ctx;
	s->drained = 0;
	/* Level-triggered (libbpf's ring_buffer__poll), the ring would be
	 * ready whenever a sample is waiting, and the loop would spin at the
	 * sample rate; edge-triggered, only records sent with a wake-up end
	 * the wait. */
	if (epoll_wait(s->epfd, &ev, 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	err = ring_buffer__consume(s->rb);
	close_open_calls(s);
	return err < 0 ? err : s->drained;
}

void sampler_counters(struct sampler *s, uint64_t out[ST_CNT_NR])
{
	int fd = bpf_map__fd(s->skel->maps.counters);
	__u64 *vals = xcalloc(s->ncpus, sizeof(__u64));

	for (__u32 k = 0; k < ST_CNT_NR; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < s->ncpus; c++)
			out[k] += vals[c];
	}
	free(vals);
}

void sampler_map_fds(const struct sampler *s, struct sampler_map_fds *out)
{
	out->unwind_rows = bpf_map__fd(s->skel->maps.unwind_rows);
	out->unwind_max_rows = 2 * bpf_map__max_entries(s->skel->maps.unwind_rows);
	out->unwind_pages = bpf_map__fd(s->skel->maps.unwind_pages);
	out->unwind_max_pages = bpf_map__max_entries(s->skel->maps.unwind_pages);
	out->unwind_rules = bpf_map__fd(s->skel->maps.unwind_rules);
	out->unwind_used = bpf_map__fd(s->skel->maps.unwind_used);
	out->unwind_vmas = bpf_map__fd(s->skel->maps.unwind_vmas);
	out->unwind_procs = bpf_map__fd(s->skel->maps.unwind_procs);
	out->unwind_objs = bpf_map__fd(s->skel->maps.unwind_objs);
	out->py_procs = bpf_map__fd(s->skel->maps.py_procs);
}

int sampler_nr_cpus(const struct sampler *s)
{
	return s->nr_links;
}

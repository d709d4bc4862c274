/* Loading the BPF program, attaching it to cpu-clock events, draining samples. */
#include "sampler.h"
#include "sampletop.skel.h"
#include "util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

_Static_assert(sizeof(struct st_sample) ==
		       48 + (2 * ST_MAX_FRAMES + ST_PY_FRAME_WORDS * ST_PY_MAX_FRAMES) * 8,
	       "st_sample layout");

struct sampler {
	struct sampletop_bpf *skel;
	struct bpf_link **links;
	int *pfds;
	int nr_links, ncpus;
	struct ring_buffer *rb;
	sampler_fn fn;
	void *ctx;
	long drained;
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

	if (size >= ST_SAMPLE_HDR_SIZE) {
		s->fn(data, size, s->ctx);
		s->drained++;
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

int sampler_open(const struct sampler_opts *o, struct sampler **out, const char **why)
{
	struct sampler *s = xcalloc(1, sizeof(*s));
	int err, ncpus;
	size_t rb_size;

	*why = NULL;
	libbpf_set_print(libbpf_quiet);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		*why = "cannot count the CPUs";
		err = -EINVAL;
		goto out_free;
	}
	s->ncpus = ncpus;
	s->skel = sampletop_bpf__open();
	if (!s->skel) {
		err = -errno;
		*why = "cannot open the BPF program";
		goto out_free;
	}
	s->skel->rodata->filter_tgid = o->nr_pids > 0 || o->filter_pids;
	s->skel->rodata->filter_tid = o->nr_tids > 0;
	s->skel->rodata->want_user = o->user;
	s->skel->rodata->want_kernel = o->kernel;
	s->skel->rodata->want_idle = o->idle;
	s->skel->rodata->unwind_mode = o->unwind;
	if (o->unwind == ST_UNWIND_FP) {	/* no tables: keep the rows map small */
		bpf_map__set_max_entries(s->skel->maps.unwind_rows, 1);
		bpf_map__set_max_entries(s->skel->maps.unwind_procs, 1);
	}
	/* Ring buffer size must be a power of two multiple of the page size. */
	rb_size = ST_RINGBUF_BYTES_PER_CPU;
	while (rb_size < (size_t)ncpus * ST_RINGBUF_BYTES_PER_CPU)
		rb_size <<= 1;
	bpf_map__set_max_entries(s->skel->maps.samples, rb_size);

	err = sampletop_bpf__load(s->skel);
	if (err) {
		*why = geteuid() != 0
			       ? "loading BPF needs root (or CAP_BPF and CAP_PERFMON): run with sudo"
			       : "the kernel refused the BPF program (run with SAMPLETOP_DEBUG=1 for the verifier log)";
		goto out_free;
	}
	err = add_targets(bpf_map__fd(s->skel->maps.targets), o->pids, o->nr_pids);
	if (!err)
		err = add_targets(bpf_map__fd(s->skel->maps.tid_targets), o->tids, o->nr_tids);
	if (err) {
		*why = "cannot fill the target filter map";
		goto out_free;
	}
	if (o->before_attach) {
		err = o->before_attach(s, o->before_attach_ctx);
		if (err) {
			*why = "cannot fill the BPF unwind maps";
			goto out_free;
		}
	}

	s->links = xcalloc(ncpus, sizeof(*s->links));
	s->pfds = xcalloc(ncpus, sizeof(*s->pfds));
	for (int cpu = 0; cpu < ncpus; cpu++) {
		int fd;

		if (o->cpus && ((size_t)cpu >= o->nr_cpus || !o->cpus[cpu]))
			continue;
		fd = perf_open_cpu_clock(o->freq_hz, cpu);
		if (fd < 0) {
			if (errno == ENODEV)	/* offline CPU */
				continue;
			err = -errno;
			*why = err == -EACCES || err == -EPERM
				       ? "opening perf events needs root (or CAP_PERFMON): run with sudo"
				       : "cannot open a cpu-clock perf event";
			goto out_free;
		}
		s->links[s->nr_links] = bpf_program__attach_perf_event(s->skel->progs.on_sample, fd);
		if (!s->links[s->nr_links]) {
			err = -errno;
			close(fd);
			*why = "cannot attach the BPF program to a perf event";
			goto out_free;
		}
		s->pfds[s->nr_links++] = fd;
	}
	if (s->nr_links == 0) {
		err = -ENODEV;
		*why = "no online CPU to sample";
		goto out_free;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.samples), on_rb, s, NULL);
	if (!s->rb) {
		err = -errno;
		*why = "cannot map the BPF ring buffer";
		goto out_free;
	}
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
	for (int i = 0; i < s->nr_links; i++) {
		bpf_link__destroy(s->links[i]);
		close(s->pfds[i]);
	}
	free(s->links);
	free(s->pfds);
	sampletop_bpf__destroy(s->skel);
	free(s);
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

void sampler_unwind_maps(const struct sampler *s, int *rows_fd, uint32_t *max_rows,
			 int *procs_fd)
{
	*rows_fd = bpf_map__fd(s->skel->maps.unwind_rows);
	*max_rows = bpf_map__max_entries(s->skel->maps.unwind_rows);
	*procs_fd = bpf_map__fd(s->skel->maps.unwind_procs);
}

int sampler_nr_cpus(const struct sampler *s)
{
	return s->nr_links;
}

int sampler_python_map_fd(const struct sampler *s)
{
	return bpf_map__fd(s->skel->maps.py_procs);
}

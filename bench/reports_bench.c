/* Report speed on a large synthetic profile: 1,000,000 samples over 100,000
 * distinct stacks (8 threads, 5,000 functions in 20 modules, depth 8-40):
 * writes every format to a file, loads the saved profile back, prints the
 * times. Built and run by bench/reports.sh. */
#include "report/report.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NR_STACKS 100000
#define NR_SAMPLES 1000000
#define NR_FUNCS 5000
#define NR_MODULES 20
#define NR_THREADS 8

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct profile *synth(void)
{
	struct profile *p = profile_new();
	frame_id_t funcs[NR_FUNCS], path[64];
	uint32_t threads[NR_THREADS], *stacks = malloc(NR_STACKS * sizeof(*stacks));
	char name[64], module[64];

	p->meta.freq_hz = 1000;
	p->meta.duration_ns = 125000000000ull;
	p->meta.target = strdup("synthetic");
	for (int i = 0; i < NR_FUNCS; i++) {
		struct frame f = { .name = name, .module = module, .addr = 0x1000 + 64 * i,
				   .kind = FRAME_NATIVE };

		snprintf(name, sizeof(name), "function_%d_with_a_longish_name", i);
		snprintf(module, sizeof(module), "/usr/lib/x86_64-linux-gnu/libmod%d.so.1",
			 i % NR_MODULES);
		funcs[i] = profile_frame(p, &f);
	}
	for (int t = 0; t < NR_THREADS; t++)
		threads[t] = profile_thread(p, 1000, 1000 + t, "worker", "synth");
	/* Stacks share prefixes like real ones: level k is picked by the
	 * stack number shifted right, so upper levels are common. */
	for (uint32_t i = 0; p->nr_stacks < NR_STACKS; i++) {
		uint32_t d = 8 + next() % 33;

		for (uint32_t k = 0; k < d; k++) {
			uint64_t prefix = k < 17 ? i >> (17 - k) : i;

			path[k] = funcs[(prefix * 2654435761u + k * 40503u + (k >= 17 ? next() : 0)) %
					NR_FUNCS];
		}
		stacks[p->nr_stacks] = profile_stack(p, path, d);
	}
	for (uint32_t s = 0; s < NR_SAMPLES; s++) {
		/* Skewed: a few stacks are hot, most are rare. */
		uint64_t r = next() % NR_STACKS;

		r = r * (next() % NR_STACKS) / NR_STACKS;
		profile_add(p, stacks[r], threads[next() % NR_THREADS], 1);
	}
	free(stacks);
	return p;
}

static double secs(uint64_t a, uint64_t b)
{
	return (b - a) / 1e9;
}

/* CPU time of this process: less disturbed than wall time by other work
 * on a shared machine. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	struct profile *p, *q;
	char path[4096], why[256];
	uint64_t t0 = now_ns(), t1, c0, c1;
	double worst = 0;
	int err = 0;

	p = synth();
	t1 = now_ns();
	printf("reports.samples: %llu\nreports.stacks: %zu\nreports.sample_records: %zu\n"
	       "reports.frames: %zu\nreports.build_seconds: %.3f\n",
	       (unsigned long long)p->total, p->nr_stacks, p->nr_samples, p->nr_frames,
	       secs(t0, t1));
	for (int f = 0; f < FMT_NR; f++) {
		FILE *out;

		snprintf(path, sizeof(path), "%s/bench.%s", dir, report_format_name(f));
		out = fopen(path, "w");
		if (!out)
			return 1;
		c0 = cpu_ns();
		t0 = now_ns();
		err |= report_write(p, f, &o, out);
		err |= fclose(out);
		t1 = now_ns();
		c1 = cpu_ns();
		printf("reports.write_%s_seconds: %.3f\nreports.write_%s_cpu_seconds: %.3f\n",
		       report_format_name(f), secs(t0, t1), report_format_name(f), secs(c0, c1));
		if (secs(t0, t1) > worst)
			worst = secs(t0, t1);
	}
	snprintf(path, sizeof(path), "%s/bench.json", dir);
	c0 = cpu_ns();
	t0 = now_ns();
	err |= store_load_file(path, &q, why, sizeof(why));
	t1 = now_ns();
	c1 = cpu_ns();
	if (err) {
		fprintf(stderr, "bench failed: %s\n", why);
		return 1;
	}
	printf("reports.load_json_seconds: %.3f\nreports.load_json_cpu_seconds: %.3f\n",
	       secs(t0, t1), secs(c0, c1));
	printf("reports.slowest_write_seconds: %.3f\nreports.loaded_samples: %llu\n", worst,
	       (unsigned long long)q->total);
	profile_free(q);
	profile_free(p);
	return 0;
}

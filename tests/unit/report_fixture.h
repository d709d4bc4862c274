/* A small profile with everything the report formats must handle: two
 * threads, library frames (collapsed by default), a kernel frame, file:line,
 * and hostile names (<script>, control bytes, invalid UTF-8, ';'). Shared by
 * the report unit tests; header-only (static inline: a test may use only
 * some) so each test binary stays one file. */
#ifndef REPORT_FIXTURE_H
#define REPORT_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "model/profile.h"
#include "base/util.h"

#define FX_LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"
#define FX_APP "/opt/app/bin/app"
#define FX_SCRIPT "<script>alert(\"x\")</script>"

static inline frame_id_t fx_frame(struct profile *p, const char *name, const char *module,
				  uint64_t addr, const char *file, uint32_t line)
{
	struct frame f = { .name = name, .module = module, .addr = addr, .file = file,
			   .line = line, .kind = FRAME_NATIVE };

	if (!strcmp(module, "[kernel]"))
		f.kind = FRAME_KERNEL;
	return profile_frame(p, &f);
}

/* The recording's settings: 2 s of pid 100 on testhost. */
static inline void fx_meta(struct profile *p, const char *command, uint32_t freq_hz)
{
	p->meta.target = xstrdup("pid 100 (app)");
	p->meta.command = xstrdup(command);
	p->meta.hostname = xstrdup("testhost");
	p->meta.kernel = xstrdup("6.18.0-test");
	p->meta.start_wall_ns = 1795000000ull * 1000000000ull;
	p->meta.duration_ns = 2000000000ull;
	p->meta.freq_hz = freq_hz;
	p->meta.ncpus = 2;
	p->meta.kernel_stacks = true;
	p->meta.exit_status = -1;
}

static inline struct profile *fx_profile(void)
{
	struct profile *p = profile_new();
	uint32_t t1 = profile_thread(p, 100, 100, "app", "app");
	uint32_t t2 = profile_thread(p, 100, 101, "worker", "app");
	frame_id_t start = fx_frame(p, "__libc_start_main", FX_LIBC, 0x27200, NULL, 0);
	frame_id_t main_ = fx_frame(p, "main", FX_APP, 0x1100, "/src/app/main.c", 42);
	frame_id_t work = fx_frame(p, "work", FX_APP, 0x1200, "/src/app/work.c", 7);
	frame_id_t qsort_ = fx_frame(p, "qsort", FX_LIBC, 0x40000, NULL, 0);
	frame_id_t msort = fx_frame(p, "msort_with_tmp", FX_LIBC, 0x40100, NULL, 0);
	frame_id_t cmp = fx_frame(p, "cmp_items", FX_APP, 0x1300, "/src/app/work.c", 20);
	frame_id_t evil = fx_frame(p, FX_SCRIPT, FX_APP, 0x1400, NULL, 0);
	frame_id_t ctrl = fx_frame(p, "bad\033[31mname;x\x01", FX_APP, 0x1500, NULL, 0);
	frame_id_t bytes = fx_frame(p, "caf\xc3\xa9_\xff\xfe", FX_APP, 0x1600, NULL, 0);
	frame_id_t wr = fx_frame(p, "write", FX_LIBC, 0x50000, NULL, 0);
	frame_id_t ksys = fx_frame(p, "ksys_write", "[kernel]", 0xffffffff81400000ull, NULL, 0);
	frame_id_t loop = fx_frame(p, "worker_loop", FX_APP, 0x1700, "/src/app/worker.c", 3);
	frame_id_t s1[] = { start, main_, work, qsort_, msort, msort, cmp };
	frame_id_t s2[] = { start, main_, work, qsort_, msort };
	frame_id_t s3[] = { start, main_, work };
	frame_id_t s4[] = { start, main_, evil };
	frame_id_t s5[] = { start, main_, ctrl, bytes };
	frame_id_t s6[] = { start, main_, wr, ksys };
	frame_id_t s7[] = { loop, work, qsort_, msort, cmp };
	frame_id_t s8[] = { loop };

	fx_meta(p, "sampletop -p 100 -d 2 -o fixture.json", 1000);
	p->meta.counters[ST_CNT_SEEN] = 4200;
	p->meta.counters[ST_CNT_RECORDED] = 2000;
	p->meta.counters[ST_CNT_RINGBUF_FULL] = 3;
	p->meta.counters[PC_UNNAMED_FRAMES] = 0;
	profile_add_sample(p, t1, s1, ARRAY_SIZE(s1), 600);
	profile_add_sample(p, t1, s2, ARRAY_SIZE(s2), 150);
	profile_add_sample(p, t1, s3, ARRAY_SIZE(s3), 250);
	profile_add_sample(p, t1, s4, ARRAY_SIZE(s4), 100);
	profile_add_sample(p, t1, s5, ARRAY_SIZE(s5), 50);
	profile_add_sample(p, t1, s6, ARRAY_SIZE(s6), 250);
	profile_add_sample(p, t2, s7, ARRAY_SIZE(s7), 500);
	profile_add_sample(p, t2, s8, ARRAY_SIZE(s8), 100);
	return p;
}

/* --wall: a special leaf that says why the thread was off the CPU. */
static inline frame_id_t fx_offcpu(struct profile *p, const char *why)
{
	struct frame f = { .name = why, .module = "", .kind = FRAME_SPECIAL,
			   .flags = FRAME_F_OFFCPU };

	return profile_frame(p, &f);
}

/* weight ns of stack on thread from t_ns (since the start), in both the
 * counts and the timeline, as the recorder adds them. */
static inline void fx_event(struct profile *p, uint32_t thread, const frame_id_t *fr, uint32_t nr,
			    uint64_t t_ns, uint64_t weight)
{
	uint32_t stack = profile_stack(p, fr, nr);

	profile_add(p, stack, thread, weight);
	profile_add_event(p, thread, stack, t_ns, weight, 0);
}

#define FX_MS 1000000ull

/*
 * A wall-clock profile (--wall at 100 Hz: an on-CPU sample weighs 10 ms) of
 * 2 s with two threads whose timelines add up to 2 s each:
 *   app [100]:    0-300 ms main>work>cmp_items on CPU (30 samples),
 *                 300-1300 main>nanosleep>[sleeping],
 *                 1300-1500 main>work on CPU (20 samples),
 *                 1500-2000 main>read>ksys_read(kernel)>[reading pipe]
 *   worker [101]: 0-1600 worker_loop>pthread_mutex_lock>[waiting on a lock],
 *                 1600-1700 worker_loop>work on CPU (10 samples),
 *                 1700-2000 worker_loop>work>[waiting for a CPU]
 * CPU time 0.6 s of 4 s. The events are added out of time order, threads
 * interleaved, as a recorder that drains per CPU would.
 */
static inline struct profile *fx_wall_profile(void)
{
	struct profile *p = profile_new();
	uint32_t t1, t2;
	frame_id_t start, main_, work, cmp, ns, rd, kread, mlock, loop;
	frame_id_t sleeping, pipe, lock, cpu;

	p->keep_events = true;
	t1 = profile_thread(p, 100, 100, "app", "app");
	t2 = profile_thread(p, 100, 101, "worker", "app");
	start = fx_frame(p, "__libc_start_main", FX_LIBC, 0x27200, NULL, 0);
	main_ = fx_frame(p, "main", FX_APP, 0x1100, "/src/app/main.c", 42);
	work = fx_frame(p, "work", FX_APP, 0x1200, "/src/app/work.c", 7);
	cmp = fx_frame(p, "cmp_items", FX_APP, 0x1300, "/src/app/work.c", 20);
	ns = fx_frame(p, "clock_nanosleep", FX_LIBC, 0x60000, NULL, 0);
	rd = fx_frame(p, "read", FX_LIBC, 0x61000, NULL, 0);
	kread = fx_frame(p, "ksys_read", "[kernel]", 0xffffffff81401000ull, NULL, 0);
	mlock = fx_frame(p, "pthread_mutex_lock", FX_LIBC, 0x62000, NULL, 0);
	loop = fx_frame(p, "worker_loop", FX_APP, 0x1700, "/src/app/worker.c", 3);
	sleeping = fx_offcpu(p, "[sleeping]");
	pipe = fx_offcpu(p, "[reading pipe]");
	lock = fx_offcpu(p, "[waiting on a lock]");
	cpu = fx_offcpu(p, "[waiting for a CPU]");

	frame_id_t a1[] = { start, main_, work, cmp }, a2[] = { start, main_, ns, sleeping };
	frame_id_t a3[] = { start, main_, work }, a4[] = { start, main_, rd, kread, pipe };
	frame_id_t w1[] = { loop, mlock, lock }, w2[] = { loop, work }, w3[] = { loop, work, cpu };

	fx_meta(p, "sampletop --wall -F 100 -p 100 -d 2 -o wall.json", 100);
	p->meta.wall = true;
	p->meta.counters[ST_CNT_SEEN] = 400;
	p->meta.counters[ST_CNT_RECORDED] = 60;
	p->meta.counters[ST_CNT_OFF_SWITCHES] = 5;
	p->meta.counters[ST_CNT_OFF_RECORDED] = 4;
	p->meta.counters[ST_CNT_OFF_START_MISSED] = 1;
	fx_event(p, t2, w3, ARRAY_SIZE(w3), 1700 * FX_MS, 300 * FX_MS);
	for (int i = 0; i < 10; i++)
		fx_event(p, t2, w2, ARRAY_SIZE(w2), (1600 + 10 * i) * FX_MS, 10 * FX_MS);
	for (int i = 0; i < 30; i++)
		fx_event(p, t1, a1, ARRAY_SIZE(a1), 10 * i * FX_MS, 10 * FX_MS);
	fx_event(p, t1, a4, ARRAY_SIZE(a4), 1500 * FX_MS, 500 * FX_MS);
	fx_event(p, t2, w1, ARRAY_SIZE(w1), 0, 1600 * FX_MS);
	fx_event(p, t1, a2, ARRAY_SIZE(a2), 300 * FX_MS, 1000 * FX_MS);
	for (int i = 19; i >= 0; i--)
		fx_event(p, t1, a3, ARRAY_SIZE(a3), (1300 + 10 * i) * FX_MS, 10 * FX_MS);
	return p;
}

/* Renders p in fmt with o into a new string (caller frees); NULL on error. */
static inline char *fx_render(const struct profile *p, enum report_format fmt,
			      const struct report_opts *o, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int err = report_write(p, fmt, o, f);

	fclose(f);
	if (err) {
		free(buf);
		return NULL;
	}
	if (len)
		*len = n;
	return buf;
}

#endif

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

	p->meta.target = xstrdup("pid 100 (app)");
	p->meta.command = xstrdup("sampletop -p 100 -d 2 -o fixture.json");
	p->meta.hostname = xstrdup("testhost");
	p->meta.kernel = xstrdup("6.18.0-test");
	p->meta.start_wall_ns = 1795000000ull * 1000000000ull;
	p->meta.duration_ns = 2000000000ull;
	p->meta.freq_hz = 1000;
	p->meta.ncpus = 2;
	p->meta.kernel_stacks = true;
	p->meta.exit_status = -1;
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

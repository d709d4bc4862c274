/* Golden-file tests of the text, folded and JSON reports (and speedscope of
 * a --wall profile) on fixture profiles. UPDATE_GOLDEN=1 rewrites tests/golden/ (review the diff!). */
#include "report/report.h"
#include "report_fixture.h"
#include "tap.h"

#include <limits.h>
#include <unistd.h>

static char golden_dir[PATH_MAX + 64];

/* tests/golden, found from the binary (build/tests/x or build/san/tests/x). */
static void find_golden_dir(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *ups[] = { "/../..", "/../../.." };

	if (n > 0) {
		exe[n] = 0;
		*strrchr(exe, '/') = 0;
		for (size_t i = 0; i < ARRAY_SIZE(ups); i++) {
			snprintf(golden_dir, sizeof(golden_dir), "%s%s/tests/golden", exe, ups[i]);
			if (access(golden_dir, F_OK) == 0)
				return;
		}
	}
	snprintf(golden_dir, sizeof(golden_dir), "tests/golden");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb);
}

static void golden(const struct profile *p, enum report_format fmt, const struct report_opts *o,
		   const char *name)
{
	char path[PATH_MAX + 160], *got = fx_render(p, fmt, o, NULL), *want;

	snprintf(path, sizeof(path), "%s/%s", golden_dir, name);
	if (getenv("UPDATE_GOLDEN") && got) {
		FILE *f = fopen(path, "w");

		fputs(got, f);
		fclose(f);
	}
	want = slurp(path);
	CHECK(got && want && !strcmp(got, want), "%s matches %s", report_format_name(fmt), name);
	if (got && want && strcmp(got, want)) {
		/* Show the first differing line. */
		const char *g = got, *w = want;

		while (*g && *g == *w)
			g++, w++;
		while (g > got && g[-1] != '\n')
			g--, w--;
		printf("#   got:  %.*s\n#   want: %.*s\n", (int)strcspn(g, "\n"), g,
		       (int)strcspn(w, "\n"), w);
	}
	free(got);
	free(want);
}

int main(void)
{
	struct profile *p = fx_profile();
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	const char *hide[] = { "main", "work" }, *show[] = { "msort*" };

	setenv("TZ", "UTC", 1);
	find_golden_dir();

	golden(p, FMT_TEXT, &o, "fixture.txt");
	golden(p, FMT_FOLDED, &o, "fixture.folded");
	golden(p, FMT_JSON, &o, "fixture.json");

	o.show_all = true;
	o.lines = true;
	o.ascii = true;
	o.view.kernel = true;
	golden(p, FMT_TEXT, &o, "fixture-all-lines-ascii-kernel.txt");
	golden(p, FMT_FOLDED, &o, "fixture-lines-kernel.folded");

	o = (struct report_opts){ .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	o.view.by_thread = true;
	o.view.invert = true;
	golden(p, FMT_TEXT, &o, "fixture-threads-invert.txt");

	o = (struct report_opts){ .view = VIEW_OPTS_INIT, .min_percent = 10 };
	o.view.focus = "work";
	golden(p, FMT_TEXT, &o, "fixture-focus-min10.txt");

	o = (struct report_opts){ .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	o.hide = hide;
	o.nr_hide = 2;
	golden(p, FMT_TEXT, &o, "fixture-hide-main-work.txt");
	o.hide = NULL;
	o.nr_hide = 0;
	o.show = show;
	o.nr_show = 1;
	golden(p, FMT_TEXT, &o, "fixture-show-msort.txt");
	golden(p, FMT_FOLDED, &o, "fixture-show-msort.folded");
	profile_free(p);

	/* A damaged profile: the header says what was lost in words, and
	 * --counters lists every counter with its meaning. */
	p = fx_profile();
	struct frame unk = { .name = "[unknown] app+0x1800", .module = FX_APP, .addr = 0x1800,
			     .kind = FRAME_NATIVE, .flags = FRAME_F_UNKNOWN };
	frame_id_t s9[] = { profile_stack_frames(p, 0)[1], profile_frame(p, &unk) };

	profile_add_sample(p, 0, s9, 2, 200);
	p->meta.counters[ST_CNT_RECORDED] = 2200;
	p->meta.counters[ST_CNT_UNWIND_READ_ERR] = 150;
	p->meta.counters[ST_CNT_UNWIND_FP_FRAMES] = 700;
	p->meta.counters[PC_TRUNCATED_STACKS] = 30;
	p->meta.counters[ST_CNT_TARGETS_FULL] = 2;
	p->meta.counters[PC_UNNAMED_FRAMES] = 200;
	p->meta.counters[PC_UNNAMED_FUNCS] = 1;
	o = (struct report_opts){ .view = VIEW_OPTS_INIT, .min_percent = 0.5, .counters = true };
	golden(p, FMT_TEXT, &o, "fixture-counters.txt");
	profile_free(p);

	/* --wall: the header's Duration beside CPU time, seconds on and off
	 * the CPU, folded in microseconds, speedscope's timelines, and the
	 * saved profile (version 2: wall, offcpu flags, the timeline). */
	p = fx_wall_profile();
	o = (struct report_opts){ .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	golden(p, FMT_TEXT, &o, "fixture-wall.txt");
	golden(p, FMT_FOLDED, &o, "fixture-wall.folded");
	golden(p, FMT_SPEEDSCOPE, &o, "fixture-wall.speedscope.json");
	golden(p, FMT_JSON, &o, "fixture-wall.json");
	o.view.by_thread = true;
	o.view.kernel = true;
	golden(p, FMT_TEXT, &o, "fixture-wall-threads-kernel.txt");
	/* A pool worker idle the whole run: left out of the tree and of the
	 * wall line by default, which says so; --show-idle shows it in both. */
	frame_id_t idle[] = { profile_special_frame(p, FRAME_SPECIAL, PROFILE_IDLE_NAME),
			      fx_offcpu(p, "[waiting on a lock]") };

	fx_event(p, profile_thread(p, 100, 102, "pool", "app"), idle, ARRAY_SIZE(idle), 0,
		 2000 * FX_MS);
	o = (struct report_opts){ .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	golden(p, FMT_TEXT, &o, "fixture-wall-idle.txt");
	o.view.show_idle = true;
	golden(p, FMT_TEXT, &o, "fixture-wall-idle-shown.txt");
	profile_free(p);
	return tap_done();
}

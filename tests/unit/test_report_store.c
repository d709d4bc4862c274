/* Saved profiles: save -> load -> every format gives the same bytes; broken,
 * truncated and hostile files are refused with a clear reason. */
#include "report/report.h"
#include "report_fixture.h"
#include "store/store.h"
#include "tap.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

static char why[256];

static int load(const char *s, struct profile **p)
{
	why[0] = 0;
	return store_load_buf(s, strlen(s), p, why, sizeof(why));
}

/* Replaces the first "from" in the fixture's JSON with "to" and loads it;
 * passes when loading fails with a reason that contains want. */
static void refused(const char *json, const char *from, const char *to, const char *want)
{
	const char *at = strstr(json, from);
	struct strbuf sb = STRBUF_INIT;
	struct profile *p = NULL;
	int err;

	if (!at) {
		CHECK(0, "fixture JSON holds '%s'", from);
		return;
	}
	strbuf_add(&sb, json, at - json);
	strbuf_addstr(&sb, to);
	strbuf_addstr(&sb, at + strlen(from));
	err = load(sb.buf, &p);
	CHECK(err < 0 && !p && strstr(why, want), "'%s' -> '%s' refused: %s", from, to, why);
	profile_free(p);
	strbuf_release(&sb);
}

/* How many of json's truncations load, or are refused without a reason. */
static size_t truncations_not_refused(const char *json)
{
	struct profile *q = NULL;
	size_t bad = 0, len = strlen(json);

	for (size_t n = 0; n + 1 < len; n++) {
		why[0] = 0;
		if (store_load_buf(json, n, &q, why, sizeof(why)) == 0 || q || !why[0])
			bad++;
		profile_free(q);
		q = NULL;
	}
	return bad;
}

static void round_trip(const struct profile *a, const struct profile *b, const struct report_opts *o,
		       const char *what)
{
	for (int f = 0; f < FMT_NR; f++) {
		size_t na = 0, nb = 0;
		char *x = fx_render(a, f, o, &na), *y = fx_render(b, f, o, &nb);

		CHECK(x && y && na == nb && !memcmp(x, y, na), "round trip, %s: %s identical (%zu bytes)",
		      what, report_format_name(f), na);
		free(x);
		free(y);
	}
}

/* A version 1 file as the first writer wrote it (before the format's names
 * moved to store/format.h), with what the fixture lacks: frame flags, a
 * Python frame, an exited thread, a null string and an unknown counter. */
static const char old_file[] =
	"{\n  \"format\": \"sampletop-profile\",\n  \"version\": 1,\n  \"meta\": {\n"
	"    \"target\": \"pid 5 (old)\",\n    \"command\": null,\n    \"hostname\": \"h\",\n"
	"    \"kernel\": \"6.1.0\",\n    \"start_wall_ns\": 1,\n    \"duration_ns\": 2,\n"
	"    \"freq_hz\": 99,\n    \"ncpus\": 1,\n    \"kernel_stacks\": false,\n"
	"    \"exit_status\": 3,\n    \"note\": \"target exited\",\n    \"counters\": {\n"
	"      \"ticks\": 10,\n      \"unnamed_frames\": 1,\n      \"from_the_future\": 7\n"
	"    }\n  },\n  \"total\": 3,\n  \"frames\": [\n"
	"    {\"name\": \"f\", \"module\": \"/bin/old\", \"addr\": \"0x10\", \"kind\": \"native\", "
	"\"file\": \"/src/f.c\", \"line\": 3, \"flags\": [\"inlined\"]},\n"
	"    {\"name\": \"[unknown] old+0x20\", \"module\": \"/bin/old\", \"addr\": \"0x20\", "
	"\"kind\": \"native\", \"flags\": [\"unknown\", \"inlined\", \"jit\"]},\n"
	"    {\"name\": \"run\", \"module\": \"/lib/app.py\", \"addr\": \"0x0\", \"kind\": \"python\"}\n"
	"  ],\n  \"threads\": [\n"
	"    {\"pid\": 5, \"tid\": 5, \"comm\": \"old\", \"process\": \"old\"},\n"
	"    {\"pid\": 0, \"tid\": 0, \"comm\": \"gone\", \"process\": \"old\", \"exited\": true}\n"
	"  ],\n  \"stacks\": [\n    \"0 1\",\n    \"2\"\n  ],\n  \"samples\": [\n"
	"    {\"thread\": 0, \"counts\": \"0:2\"},\n    {\"thread\": 1, \"counts\": \"1:1\"}\n  ]\n}\n";

static const struct frame *frame_named(const struct profile *p, const char *name)
{
	for (size_t i = 0; i < p->nr_frames; i++)
		if (!strcmp(p->frames[i].name, name))
			return &p->frames[i];
	return NULL;
}

static void test_old_file(void)
{
	struct report_opts o = { .view = VIEW_OPTS_INIT };
	struct profile *p = NULL, *q = NULL;
	const struct frame *f, *u, *py;
	char *again = NULL;
	int err = load(old_file, &p);

	CHECK(err == 0 && p, "a version 1 file of the first writer loads (%s)", why);
	if (err)
		return;
	f = frame_named(p, "f");
	u = frame_named(p, "[unknown] old+0x20");
	py = frame_named(p, "run");
	CHECK(f && f->flags == FRAME_F_INLINED && f->line == 3 && !strcmp(f->file, "/src/f.c"),
	      "its inlined frame keeps its flag and file:line");
	CHECK(u && u->flags == (FRAME_F_UNKNOWN | FRAME_F_INLINED | FRAME_F_JIT),
	      "flags unknown, inlined and jit are read");
	CHECK(py && py->kind == FRAME_PYTHON, "kind python is read");
	CHECK(p->nr_threads == 2 && (p->threads[1].flags & THREAD_F_EXITED), "the exited thread is read");
	CHECK(p->meta.counters[ST_CNT_SEEN] == 10 && p->meta.counters[PC_UNNAMED_FRAMES] == 1 &&
		      !p->meta.command && p->meta.exit_status == 3,
	      "meta and known counters are read, an unknown counter ignored");
	again = fx_render(p, FMT_JSON, &o, NULL);
	CHECK(again && strstr(again, "\"flags\": [\"unknown\", \"inlined\", \"jit\"]") &&
		      strstr(again, "\"kind\": \"python\"") && strstr(again, "\"exited\": true") &&
		      strstr(again, "\"unnamed_frames\": 1") && !strstr(again, "from_the_future"),
	      "saved again, it is written with the same names");
	CHECK(again && load(again, &q) == 0 && q && q->total == 3, "and loads again (%s)", why);
	free(again);
	profile_free(q);
	profile_free(p);
}

/* tests/golden/NAME, found from the binary (build/tests/x or build/san/tests/x). */
static void golden_path(const char *name, char *path, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *ups[] = { "/../..", "/../../.." };

	snprintf(path, size, "tests/golden/%s", name);
	if (n <= 0)
		return;
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	for (size_t i = 0; i < ARRAY_SIZE(ups); i++) {
		snprintf(path, size, "%s%s/tests/golden/%s", exe, ups[i], name);
		if (access(path, F_OK) == 0)
			return;
	}
}

/* The fixture as the version 1 writer saved it (kept as it was when the
 * format grew to version 2): it loads, re-renders as the fixture does, and
 * is saved again as version 2 without a timeline. */
static void test_v1_fixture_file(void)
{
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	struct profile *p = NULL, *fx = fx_profile();
	char path[PATH_MAX + 64], *a = NULL, *b = NULL, *again = NULL;
	int err;

	golden_path("fixture-v1.json", path, sizeof(path));
	err = store_load_file(path, &p, why, sizeof(why));
	CHECK(err == 0 && p, "tests/golden/fixture-v1.json (format version 1) loads (%s)", why);
	if (!p) {
		profile_free(fx);
		return;
	}
	CHECK(!p->meta.wall && !p->keep_events && !p->nr_events,
	      "version 1: counts are samples, no timeline");
	a = fx_render(p, FMT_TEXT, &o, NULL);
	b = fx_render(fx, FMT_TEXT, &o, NULL);
	CHECK(a && b && !strcmp(a, b), "it renders the same text as the fixture it was saved from");
	again = fx_render(p, FMT_JSON, &o, NULL);
	CHECK(again && strstr(again, "\"version\": 2,") && strstr(again, "\"wall\": false,") &&
		      !strstr(again, "\"timeline\""),
	      "saved again: version 2, \"wall\": false, no timeline");
	free(a);
	free(b);
	free(again);
	profile_free(p);
	profile_free(fx);
}

/* Are each thread's events in time order, and do they add up to its samples? */
static bool timeline_in_order(const struct profile *p)
{
	uint64_t *last = xcalloc(p->nr_threads + 1, sizeof(*last));
	uint64_t *sum = xcalloc(p->nr_threads + 1, sizeof(*sum));
	bool ok = true;

	for (size_t i = 0; i < p->nr_events; i++) {
		const struct prof_event *e = &p->events[i];

		ok &= e->t_ns >= last[e->thread];
		last[e->thread] = e->t_ns;
		sum[e->thread] += e->weight;
	}
	for (size_t i = 0; i < p->nr_samples; i++)
		sum[p->samples[i].thread] -= p->samples[i].count;
	for (size_t t = 0; t < p->nr_threads; t++)
		ok &= sum[t] == 0;
	free(last);
	free(sum);
	return ok;
}

/* Version 2: a --wall profile saves and loads with its meta, its off-CPU
 * frames and its timeline; every format renders the same from the copy;
 * damaged timelines are refused. */
static void test_wall(void)
{
	struct profile *p = fx_wall_profile(), *q = NULL;
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	char *json = fx_render(p, FMT_JSON, &o, NULL), *json2 = NULL;
	const struct frame *f;
	size_t len = strlen(json), bad = 0;
	int err = load(json, &q);

	CHECK(err == 0 && q, "wall: the saved --wall profile loads back (%s)", why);
	if (!q)
		goto out;
	CHECK(q->meta.wall && q->total == 4000000000ull && q->keep_events &&
		      q->nr_events == p->nr_events,
	      "wall: meta.wall, the total in ns, and all %zu events survive", p->nr_events);
	f = frame_named(q, "[waiting on a lock]");
	CHECK(f && f->kind == FRAME_SPECIAL && f->flags == FRAME_F_OFFCPU,
	      "wall: the off-CPU leaf keeps its flag");
	CHECK(strstr(json, "\"flags\": [\"offcpu\"]") && strstr(json, "\"wall\": true,"),
	      "wall: written as \"wall\": true and the flag \"offcpu\"");
	CHECK(timeline_in_order(q), "wall: each thread's events in time order, adding up to its samples");
	json2 = fx_render(q, FMT_JSON, &o, NULL);
	CHECK(json2 && !strcmp(json, json2), "wall: saving the loaded profile gives the same file");
	round_trip(p, q, &o, "--wall");
	o.view.by_thread = true;
	o.view.kernel = true;
	round_trip(p, q, &o, "--wall --threads --kernel");
	o = (struct report_opts){ .view = VIEW_OPTS_INIT, .min_percent = 0, .lines = true };
	o.view.by_process = true;
	o.view.invert = true;
	o.view.focus = "work";
	round_trip(p, q, &o, "--wall --processes --invert --focus work --lines --min-percent 0");
	o = (struct report_opts){ .view = VIEW_OPTS_INIT, .min_percent = 20, .show_all = true,
				  .ascii = true };
	o.view.filter = "main";
	round_trip(p, q, &o, "--wall, filter main (the live view's), --show-all --ascii --min-percent 20");
	profile_free(q);
	q = NULL;

	bad = truncations_not_refused(json);
	CHECK(bad == 0, "wall: all %zu truncations refused with a reason (%zu not)", len - 1, bad);
	refused(json, "\"wall\": true", "\"wall\": 1", "meta: \"wall\" is not true or false");
	refused(json, "\"flags\": [\"offcpu\"]", "\"flags\": [\"offcpux\"]", "unknown flag");
	refused(json, "{\"thread\": 1, \"events\": \"0:1600000000:4:0",
		"{\"thread\": 2, \"events\": \"0:1600000000:4:0", "timeline entry 1: \"thread\" is out of range (2)");
	refused(json, "\"0:1600000000:4:0", "\"0:1600000000:7:0",
		"timeline entry 1 names stack 7, which does not exist");
	refused(json, "\"0:1600000000:4:0", "\"0:1600000000:4",
		"timeline entry 1: \"events\" is not \"t_ns:weight:stack:call ...\"");
	refused(json, "\"0:1600000000:4:0", "\"0:1600000000:4:0:1", "\"events\" is not");
	refused(json, "\"0:1600000000:4:0", "\"0:-1:4:0", "\"events\" is not");
	refused(json, "\"0:1600000000:4:0", "\"9223372036854775807:1:4:0", "an event ends past 2^63 ns");
	refused(json, "\"0:1600000000:4:0", "\"0:99999999999999999999:4:0", "\"events\" is not");
	refused(json, "\"0:1600000000:4:0 ", "\"0:1600000000:4:0  ", "\"events\" is not");
	refused(json, "\"timeline\": [", "\"timeline\": 5, \"timelinx\": [",
		"\"timeline\" is missing or not an array");
	refused(json, "{\"thread\": 1, \"events\": \"", "\"x\", {\"thread\": 1, \"events\": \"",
		"timeline entry 1 is not an object");
	refused(json, "\"events\": \"0:1600000000:4:0", "\"events\": 5, \"eventz\": \"0:1600000000:4:0",
		"timeline entry 1: \"events\" is not a string");
out:
	free(json);
	free(json2);
	profile_free(p);
}

int main(void)
{
	struct profile *p = fx_profile(), *q = NULL;
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	char *json = fx_render(p, FMT_JSON, &o, NULL), *json2;
	size_t len = strlen(json), bad = 0, crashed = 0;
	int err;

	setenv("TZ", "UTC", 1);
	err = load(json, &q);
	CHECK(err == 0 && q, "the JSON report loads back (%s)", why);
	if (!q)
		return tap_done();
	CHECK(q->nr_frames == p->nr_frames && q->nr_stacks == p->nr_stacks &&
		      q->nr_threads == p->nr_threads && q->nr_samples == p->nr_samples &&
		      q->total == p->total,
	      "same frames, stacks, threads, samples and total");
	CHECK(!strcmp(q->frames[11].name, "caf\xc3\xa9_\xff\xfe"), "bytes that are not UTF-8 survive");
	CHECK(!strcmp(q->frames[10].name, "bad\033[31mname;x\x01"), "control bytes survive");
	CHECK(q->frames[13].addr == 0xffffffff81400000ull && q->frames[13].kind == FRAME_KERNEL,
	      "64-bit kernel addresses and kinds survive");
	CHECK(q->meta.counters[ST_CNT_RINGBUF_FULL] == 3 && q->meta.freq_hz == 1000 &&
		      q->meta.kernel_stacks && !strcmp(q->meta.hostname, "testhost") &&
		      !strcmp(q->meta.kernel, "6.18.0-test") && !q->meta.note,
	      "meta and counters survive");
	json2 = fx_render(q, FMT_JSON, &o, NULL);
	CHECK(json2 && !strcmp(json, json2), "saving the loaded profile gives the same file");
	free(json2);

	round_trip(p, q, &o, "defaults");
	o.view.by_thread = true;
	o.view.invert = true;
	o.view.kernel = true;
	o.lines = true;
	o.show_all = true;
	round_trip(p, q, &o, "--threads --invert --kernel --lines --show-all");
	o = (struct report_opts){ .view = VIEW_OPTS_INIT, .min_percent = 0 };
	o.view.by_process = true;
	o.view.focus = "work";
	round_trip(p, q, &o, "--processes --focus work --min-percent 0");
	profile_free(q);
	q = NULL;

	/* Every truncation is refused, with a reason. */
	bad = truncations_not_refused(json);
	CHECK(bad == 0, "all %zu truncations refused with a reason (%zu not)", len - 1, bad);
	/* Random byte damage: loads or is refused, never crashes or half-loads. */
	srand(1);
	for (int i = 0; i < 3000; i++) {
		char *m = xstrdup(json);

		for (int k = 0; k < 1 + i % 4; k++)
			m[rand() % len] = " {}[]\",:0123456789-ex\\"[rand() % 22];
		why[0] = 0;
		err = store_load_buf(m, len, &q, why, sizeof(why));
		if ((err == 0) != (q != NULL) || (err && !why[0]))
			crashed++;
		profile_free(q);
		q = NULL;
		free(m);
	}
	CHECK(crashed == 0, "3000 damaged files: each loads or is refused with a reason");

	refused(json, "\"version\": 2", "\"version\": 3", "newer sampletop (format version 3");
	refused(json, "\"version\": 2", "\"version\": 0", "unknown saved profile format version 0");
	refused(json, "\"format\": \"sampletop-profile\"", "\"format\": \"x\"",
		"not a sampletop saved profile");
	refused(json, "{\n", "[", "bad JSON");
	refused(json, "\"3 4 5 6 7 7 8\"", "\"3 4 5 6 7 7 99\"", "stack 0: frame 6 is not a frame index");
	refused(json, "\"3 4 5 6 7 7 8\"", "\"3 4 5 6 7 7 -1\"", "stack 0 is not a string of frame numbers");
	refused(json, "\"counts\": \"0:600", "\"counts\": \"8:600", "samples entry 0 names stack 8, which does not exist");
	refused(json, "{\"thread\": 1,", "{\"thread\": 2,", "samples entry 1: \"thread\" is out of range (2)");
	refused(json, "\"counts\": \"0:600", "\"counts\": \"0:9223372036854775807", "samples entry 0: the counts overflow");
	refused(json, "\"total\": 2000", "\"total\": 2001", "not the sum of the sample counts");
	refused(json, "\"freq_hz\": 1000", "\"freq_hz\": 0", "\"freq_hz\" is out of range");
	refused(json, "\"freq_hz\": 1000", "\"freq_hz\": \"1000\"", "\"freq_hz\" is of the wrong type");
	refused(json, "\"kind\": \"kernel\"", "\"kind\": \"alien\"", "frame 13: \"kind\" is not one of");
	refused(json, "\"addr\": \"0x1100\"", "\"addr\": 4352", "frame 4: \"addr\" is not a hex string");
	refused(json, "\"name\": \"main\"", "\"name\": \"ma\\u0000in\"", "\\u0000 is not allowed");
	refused(json, "\"name\": \"main\"", "\"name\": \"\"", "frame 4 has an empty name");
	refused(json, "636166c3a95ffffe", "636166c3a95ffff", "bad byte string");
	refused(json, "636166c3a95ffffe", "636166c3a95fff00", "bad byte string");
	refused(json, "\"pid\": 100", "\"pid\": 4294967296", "thread 0: \"pid\" is out of range");
	refused(json, "\"samples\": [", "\"samplez\": [", "\"samples\" is missing");
	refused(json, "\"0:600 ", "\"0:600  ", "samples entry 0: \"counts\" is not \"stack:count stack:count ...\"");
	refused(json, "\"0:600 ", "\"0::600 ", "\"counts\" is not");
	refused(json, "7:100\"", "7:100 \"", "samples entry 1: \"counts\" is not");
	refused(json, "\"0:600 ", "\"0 ", "\"counts\" is not");
	refused(json, "\"counts\": \"0:600 1:150 2:250 3:100 4:50 5:250\"", "\"counts\": [0, 600]", "samples entry 0: \"counts\" is not a string");
	refused(json, "\"0:600 ", "\"0:99999999999999999999 ", "\"counts\" is not");
	refused(json, "{\"thread\": 0,", "{\"thread\": -1,", "\"thread\" is out of range");
	refused(json, "\"3 4 5 6 7 7 8\"", "\"3 4 5 6 7 7 4294967296\"", "stack 0 is not a string");
	refused(json, "\"frames\": [", "\"frames\": {\"a\": 1}, \"framez\": [", "\"frames\" is missing or not an array");
	{
		/* A stack deeper than any the recorder makes. */
		struct strbuf sb = STRBUF_INIT;
		const char *at = strstr(json, "\"3 4 5 6 7 7 8\"");

		strbuf_add(&sb, json, at - json);
		strbuf_addch(&sb, '"');
		for (int i = 0; i < 1000; i++)
			strbuf_addstr(&sb, i ? " 3" : "3");
		strbuf_addch(&sb, '"');
		strbuf_addstr(&sb, at + strlen("\"3 4 5 6 7 7 8\""));
		err = load(sb.buf, &q);
		CHECK(err < 0 && strstr(why, "deeper than"), "a 1000-frame stack is refused: %s", why);
		strbuf_release(&sb);
	}
	err = store_load_file("/nonexistent/profile.json", &q, why, sizeof(why));
	CHECK(err == -ENOENT && strstr(why, "No such file"), "a missing file: %s", why);
	err = store_load_file("/proc/self", &q, why, sizeof(why));
	CHECK(err < 0 && !q, "a directory is refused: %s", why);

	test_old_file();
	test_v1_fixture_file();
	test_wall();
	free(json);
	profile_free(p);
	return tap_done();
}

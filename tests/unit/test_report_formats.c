/* The machine-read formats on the fixture: HTML escaping of hostile names,
 * speedscope's structure, pprof's gzip framing, and the diff text (golden). */
#include "report/report.h"
#include "report_fixture.h"
#include "tap.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <unistd.h>
#include <zlib.h>

static char *slurp_golden(const char *name)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *ups[] = { "/../..", "/../../.." };
	struct strbuf sb = STRBUF_INIT;
	FILE *f = NULL;

	if (n > 0) {
		exe[n] = 0;
		*strrchr(exe, '/') = 0;
		for (size_t i = 0; i < ARRAY_SIZE(ups) && !f; i++) {
			snprintf(path, sizeof(path), "%s%s/tests/golden/%s", exe, ups[i], name);
			f = fopen(path, getenv("UPDATE_GOLDEN") ? "r+" : "r");
		}
	}
	if (!f)
		return NULL;
	for (int c; (c = fgetc(f)) != EOF;)
		strbuf_addch(&sb, c);
	fclose(f);
	return strbuf_detach(&sb);
}

/* speedscope of a --wall profile: per thread, an evented profile whose
 * events go forward in time, open and close in balance, and open the
 * fixture's leaves in the order they happened. */
static const char *ss_frame_name(json_t *frames, json_t *event)
{
	json_t *f = json_array_get(frames, json_integer_value(json_object_get(event, "frame")));

	return json_string_value(json_object_get(f, "name"));
}

static bool ss_is(json_t *event, const char *type)
{
	return event && !strcmp(json_string_value(json_object_get(event, "type")), type);
}

static void test_wall_speedscope(const struct profile *p, const struct report_opts *o)
{
	char *ss = fx_render(p, FMT_SPEEDSCOPE, o, NULL);
	json_error_t jerr;
	json_t *j = ss ? json_loads(ss, 0, &jerr) : NULL, *profs, *frames, *prof, *e, *events;
	size_t nr_ordered = 0, nr_balanced = 0, i, k;
	struct strbuf leaves = STRBUF_INIT;

	profs = json_object_get(j, "profiles");
	frames = json_object_get(json_object_get(j, "shared"), "frames");
	CHECK(json_array_size(profs) == 2, "wall speedscope: a profile per thread");
	json_array_foreach(profs, i, prof) {
		long long last = -1, depth = 0, min_depth = 0;
		bool ordered = ss_is(prof, "evented") &&
			       !strcmp(json_string_value(json_object_get(prof, "unit")), "nanoseconds");

		events = json_object_get(prof, "events");
		json_array_foreach(events, k, e) {
			long long at = json_integer_value(json_object_get(e, "at"));

			ordered &= at >= last;
			last = at;
			depth += ss_is(e, "O") ? 1 : -1;
			min_depth = depth < min_depth ? depth : min_depth;
		}
		nr_ordered += ordered && json_array_size(events) > 0;
		nr_balanced += depth == 0 && min_depth == 0;
	}
	CHECK(nr_ordered == 2, "wall speedscope: every thread's events are evented, in ns, in time order");
	CHECK(nr_balanced == 2, "wall speedscope: every frame opened is closed, none closed unopened");
	/* The leaves: an O that the next event closes. */
	events = json_object_get(json_array_get(profs, 0), "events");
	json_array_foreach(events, k, e)
		if (ss_is(e, "O") && !ss_is(json_array_get(events, k + 1), "O"))
			strbuf_addf(&leaves, "%s|", ss_frame_name(frames, e));
	CHECK(!strcmp(leaves.buf, "cmp_items|[sleeping]|work|[reading pipe]|"),
	      "wall speedscope: the app thread's leaves in time order: %s", leaves.buf);
	strbuf_release(&leaves);
	json_decref(j);
	free(ss);
}

static void test_wall(void)
{
	struct profile *w = fx_wall_profile(), *cpu = fx_profile(), *w2 = fx_wall_profile();
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	char *html = fx_render(w, FMT_HTML, &o, NULL), *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	CHECK(html && strstr(html, "Duration: 2.000 s   CPU time: 0.600 s") &&
		      strstr(html, "Wall-clock time: 4.000 s in 2 threads"),
	      "wall html: Duration and CPU time side by side in the header");
	CHECK(html && strstr(html, "\"freq\": 1000000000, \"wall\": true"),
	      "wall html: counts are shown as seconds of ns");
	CHECK(html && strstr(html, "\n[\"[sleeping]\",\"\",\"\",4]"),
	      "wall html: an off-CPU leaf is a frame of its own kind (drawn apart)");
	CHECK(html && !strstr(html, " samples (") && strstr(html, "60 samples, 5 off-CPU intervals"),
	      "wall html: no count of ns called samples");
	free(html);
	test_wall_speedscope(w, &o);
	{
		/* Without a timeline (not kept): sampled profiles, weights in ns. */
		struct profile *nt = fx_wall_profile();
		char *ss;
		json_t *j, *prof;
		json_error_t jerr;

		nt->nr_events = 0;
		nt->keep_events = false;
		ss = fx_render(nt, FMT_SPEEDSCOPE, &o, NULL);
		j = ss ? json_loads(ss, 0, &jerr) : NULL;
		prof = json_array_get(json_object_get(j, "profiles"), 0);
		CHECK(prof && ss_is(prof, "sampled") &&
			      json_integer_value(json_object_get(prof, "endValue")) == 2000000000ll,
		      "wall speedscope without a timeline: sampled, the thread's 2 s in ns");
		json_decref(j);
		free(ss);
		profile_free(nt);
	}

	/* diff: wall against wall in wall time; wall against CPU in CPU time. */
	for (size_t i = 0; i < w2->nr_samples; i++)
		if (w2->samples[i].thread == 1) {
			w2->total += w2->samples[i].count;
			w2->samples[i].count *= 2;
		}
	f = open_memstream(&buf, &len);
	err = report_diff(w, w2, "a.json", "b.json", FMT_TEXT, &o, f);
	fclose(f);
	CHECK(!err && strstr(buf, "Shares of each profile's wall-clock time") &&
		      strstr(buf, "; 4.000 s wall-clock, 0.600 s CPU, 2.000 s, lost 0") &&
		      strstr(buf, "; 6.000 s wall-clock, 0.700 s CPU, 2.000 s, lost 0"),
	      "wall diff: two wall profiles compared in wall-clock seconds");
	CHECK(!err && strstr(buf, "[waiting on a lock]") && !strstr(buf, " samples,"),
	      "wall diff: off-CPU time compared too, no samples counted");
	{
		/* An idle pool worker after: hidden as in the tree, so the
		 * shares stay what they were. */
		frame_id_t idle[] = { profile_special_frame(w2, FRAME_SPECIAL, PROFILE_IDLE_NAME),
				      fx_offcpu(w2, "[waiting on a lock]") };
		char *rows = strstr(buf, "\n  total:"), *buf2 = NULL;
		size_t len2;

		fx_event(w2, profile_thread(w2, 100, 102, "pool", "app"), idle, ARRAY_SIZE(idle),
			 0, 6000 * FX_MS);
		f = open_memstream(&buf2, &len2);
		err = report_diff(w, w2, "a.json", "b.json", FMT_TEXT, &o, f);
		fclose(f);
		CHECK(!err && rows && strstr(buf2, "\n  total:") &&
			      !strcmp(rows, strstr(buf2, "\n  total:")),
		      "wall diff: an idle thread hidden changes no share");
		if (err || !rows || !strstr(buf2, "\n  total:") || strcmp(rows, strstr(buf2, "\n  total:")))
			printf("# before:\n%s# after:\n%s", buf, buf2);
		free(buf2);
	}
	free(buf);
	f = open_memstream(&buf, &len);
	err = report_diff(cpu, w, "cpu.json", "wall.json", FMT_TEXT, &o, f);
	fclose(f);
	CHECK(!err && strstr(buf, "Shares of each profile's CPU time (one is a --wall profile") &&
		      !strstr(buf, "[sleeping]") && !strstr(buf, "[waiting"),
	      "wall diff: a wall profile against a CPU one compares CPU time only");
	/* cmp_items: 1100 of 2000 samples before, 300 of 600 ms on CPU after. */
	CHECK(!err && strstr(buf, "  55.0%   50.0%   -5.0"), "wall diff: shares of CPU time (cmp_items 55%% -> 50%%)");
	if (err || !strstr(buf, "  55.0%   50.0%   -5.0"))
		printf("# got:\n%s", buf);
	free(buf);
	profile_free(w);
	profile_free(w2);
	profile_free(cpu);
}

int main(void)
{
	struct profile *p = fx_profile(), *q = fx_profile();
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	char *html = fx_render(p, FMT_HTML, &o, NULL), *ss = fx_render(p, FMT_SPEEDSCOPE, &o, NULL);
	size_t pb_len = 0;
	char *pb = fx_render(p, FMT_PPROF, &o, &pb_len);
	json_error_t jerr;
	json_t *j;

	setenv("TZ", "UTC", 1);
	CHECK(html && strstr(html, "<pre>Recorded: ") &&
		      strstr(html, "\n2,000 samples (1,000/s) \u00b7 3 lost \u00b7 no partial stacks"),
	      "html: the header says what was lost in words");
	CHECK(html && strstr(html, "</pre><details id=\"counters\"><summary>") &&
		      strstr(html, "\n  lost_ringbuf_full                     3  samples dropped"),
	      "html: every counter one click away, in a details element");
	CHECK(html && strstr(html, "</pre></details></header>\n<div id=\"bar\">"),
	      "html: the details close inside the header, before the search bar");
	CHECK(html && !strstr(html, FX_SCRIPT) && !strstr(html, "alert(\"x\")</script>"),
	      "html: the <script> symbol never appears raw");
	CHECK(html && strstr(html, "\\u003cscript>alert(\\\"x\\\")\\u003c/script>"),
	      "html: it is there as escaped JSON");
	/* Shown as the text report shows them: \x1b, as text (a JSON-escaped backslash). */
	CHECK(html && !strstr(html, "\033") && strstr(html, "bad\\\\x1b[31mname;x\\\\x01"),
	      "html: control bytes escaped as \\xNN");
	CHECK(html && !strstr(html, "http://") && !strstr(html, "https://"), "html: no network reference");

	j = ss ? json_loads(ss, 0, &jerr) : NULL;
	CHECK(j != NULL, "speedscope: valid JSON");
	CHECK(j && json_array_size(json_object_get(j, "profiles")) == 2 &&
		      !strcmp(json_string_value(json_object_get(json_array_get(json_object_get(j, "profiles"), 0), "name")),
			      "app [100] / app [100]"),
	      "speedscope: one profile per thread, hottest first");
	CHECK(j && json_integer_value(json_object_get(json_array_get(json_object_get(j, "profiles"), 0), "endValue")) ==
			   1400000000ll,
	      "speedscope: the main thread's 1400 samples weigh 1.4 s in nanoseconds");
	json_decref(j);

	CHECK(pb && pb_len > 18 && (unsigned char)pb[0] == 0x1f && (unsigned char)pb[1] == 0x8b,
	      "pprof: gzip framing");
	if (pb && pb_len > 18) {
		unsigned char raw[1 << 16];
		z_stream zs = { .next_in = (unsigned char *)pb, .avail_in = pb_len, .next_out = raw,
				.avail_out = sizeof(raw) };

		inflateInit2(&zs, 15 + 16);
		CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END && zs.total_out > 100,
		      "pprof: inflates (%lu bytes)", zs.total_out);
		/* Field 1 (sample_type), length-delimited: tag 0x0a. */
		CHECK(raw[0] == 0x0a, "pprof: starts with a sample_type message");
		CHECK(memmem(raw, zs.total_out, "cmp_items", 9) && memmem(raw, zs.total_out, "nanoseconds", 11),
		      "pprof: function names and units in the string table");
		inflateEnd(&zs);
	}

	/* diff: q is p with worker_loop's thread twice as busy. */
	for (size_t i = 0; i < q->nr_samples; i++)
		if (q->samples[i].thread == 1) {
			q->total += q->samples[i].count;
			q->samples[i].count *= 2;
		}
	{
		char *buf = NULL, *want = slurp_golden("fixture-diff.txt");
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		int err = report_diff(p, q, "before.json", "after.json", FMT_TEXT, &o, f);

		fclose(f);
		if (getenv("UPDATE_GOLDEN") && !err) {
			char exe[PATH_MAX];
			ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

			exe[n > 0 ? n : 0] = 0;
			if (strrchr(exe, '/'))
				*strrchr(exe, '/') = 0;
			strcat(exe, "/../../tests/golden/fixture-diff.txt");
			f = fopen(exe, "w");
			if (f) {
				fputs(buf, f);
				fclose(f);
			}
			free(want);
			want = slurp_golden("fixture-diff.txt");
		}
		CHECK(!err && want && !strcmp(buf, want), "diff text matches fixture-diff.txt");
		if (want && strcmp(buf, want))
			printf("# got:\n%s", buf);
		free(buf);
		free(want);
		f = open_memstream(&buf, &len);
		err = report_diff(p, q, "before.json", "after.json", FMT_HTML, &o, f);
		fclose(f);
		CHECK(!err && strstr(buf, "\"diff\": true") && strstr(buf, "\"baseTotal\": 2000"),
		      "diff html: a differential page against the before total");
		CHECK(!err && !strstr(buf, "id=\"counters\""),
		      "diff html: no counters of the merged profile (they would mean nothing)");
		free(buf);
		f = open_memstream(&buf, &len);
		CHECK(report_diff(p, q, "a", "b", FMT_FOLDED, &o, f) == -ENOTSUP,
		      "diff: only text and html");
		fclose(f);
		free(buf);
	}
	free(html);
	free(ss);
	free(pb);
	profile_free(p);
	profile_free(q);
	test_wall();
	return tap_done();
}

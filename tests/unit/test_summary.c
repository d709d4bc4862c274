/* model/summary.c: the header's line of words, and the counters behind it. */
#include "model/summary.h"
#include "report/report.h"
#include "report_fixture.h"
#include "tap.h"

static char *joined(const struct profile *p, uint64_t rate, size_t width)
{
	struct summary s = { .nr = 0 };
	struct strbuf sb = STRBUF_INIT;

	summary_of_profile(&s, p, rate, NULL);
	summary_join(&s, " · ", width, &sb);
	return strbuf_detach(&sb);
}

static frame_id_t unknown_frame(struct profile *p, uint64_t addr)
{
	struct frame f = { .name = "[unknown] app+0x1800", .module = FX_APP, .addr = addr,
			   .kind = FRAME_NATIVE, .flags = FRAME_F_UNKNOWN };

	return profile_frame(p, &f);
}

static void test_words(void)
{
	struct profile *p = fx_profile();
	struct summary_memo memo = { 0 };
	struct summary s = { .nr = 0 };
	frame_id_t unk = unknown_frame(p, 0x1800), main_ = profile_stack_frames(p, 0)[1];
	frame_id_t s9[] = { main_, unk };
	char *l;

	l = joined(p, 1000, 0);
	CHECK_STR(l, "2,000 samples (1,000/s) · 3 lost · no partial stacks · all frames named",
		  "a clean profile: samples, lost, and nothing partial or unnamed");
	free(l);

	p->meta.counters[ST_CNT_RINGBUF_FULL] = 0;
	p->meta.counters[ST_CNT_RECORDED] = 1000;
	p->meta.counters[ST_CNT_UNWIND_READ_ERR] = 50;
	p->meta.counters[PC_TRUNCATED_STACKS] = 40;
	/* Frames stepped by frame pointer lose nothing by themselves. */
	p->meta.counters[ST_CNT_UNWIND_FP_FRAMES] = 900;
	l = joined(p, 0, 0);
	CHECK_STR(l, "2,000 samples · none lost · 9% with partial stacks · all frames named",
		  "stopped walks and truncated stacks: a share of the samples taken");
	free(l);

	/* Unnamed frames: the share of samples whose stack holds one, counted
	 * from the stacks (the memo looks only at stacks new since). */
	summary_of_profile(&s, p, 0, &memo);
	CHECK(summary_unnamed_samples(p, &memo) == 0 && memo.nr_stacks == p->nr_stacks,
	      "the memo has looked at every stack");
	profile_add_sample(p, 0, s9, 2, 500);
	profile_add_sample(p, 1, s9, 2, 100);
	CHECK(summary_unnamed_samples(p, &memo) == 600, "a new stack with an [unknown] frame: "
	      "its samples on every thread counted (got %llu)",
	      (unsigned long long)summary_unnamed_samples(p, &memo));
	CHECK(summary_unnamed_samples(p, NULL) == 600, "the same without a memo");
	l = joined(p, 0, 0);
	CHECK(strstr(l, " · 23% with unnamed frames") != NULL, "600 of 2,600: 23%% (got '%s')", l);
	free(l);

	/* Shares: some but under 1% is <1%, not all is never 100%. */
	p->meta.counters[ST_CNT_UNWIND_READ_ERR] = 1;
	p->meta.counters[PC_TRUNCATED_STACKS] = 0;
	p->meta.counters[ST_CNT_RECORDED] = 1000000;
	l = joined(p, 0, 0);
	CHECK(strstr(l, "<1% with partial stacks") != NULL, "1 in a million: <1%% (got '%s')", l);
	free(l);
	p->meta.counters[ST_CNT_UNWIND_READ_ERR] = 999999;
	l = joined(p, 0, 0);
	CHECK(strstr(l, "99% with partial stacks") != NULL, "all but one: 99%% (got '%s')", l);
	free(l);

	/* Other losses: a part each, in words, when not zero. */
	p->meta.counters[ST_CNT_TARGETS_FULL] = 2;
	p->meta.counters[ST_CNT_RINGBUF_FULL] = 1234567;
	l = joined(p, 0, 0);
	CHECK(strstr(l, " · 1,234,567 lost · ") && strstr(l, " · 2 child processes not followed"),
	      "other losses in words, big numbers grouped (got '%s')", l);
	CHECK(!strchr(l, '_'), "no internal counter name in the line (got '%s')", l);
	free(l);

	summary_memo_release(&memo);
	profile_free(p);

	/* --wall: the shares say what they are of. Partial stacks: of the
	 * samples and off-CPU intervals counted beside them (100 intervals past
	 * the cap, without a stack, were a "100%" of the 60 samples); unnamed
	 * frames: of the time. */
	p = fx_wall_profile();
	p->meta.counters[ST_CNT_OFF_CAPPED] = 100;
	p->meta.counters[ST_CNT_OFF_START_MISSED] = 16;
	l = joined(p, 0, 0);
	CHECK_STR(l, "60 samples, 120 off-CPU intervals · none lost · "
		  "64% of samples and intervals with partial stacks · all frames named",
		  "wall: intervals with a stack, past the cap and without a start; partial stacks "
		  "of both");
	free(l);
	{
		frame_id_t w_unk[] = { unknown_frame(p, 0x1800) };

		profile_add_sample(p, 0, w_unk, 1, 1000 * FX_MS);
	}
	l = joined(p, 0, 0);
	CHECK(strstr(l, " · 20% of the time with unnamed frames") != NULL,
	      "wall: unnamed frames, a share of the time (1 s of 5; got '%s')", l);
	free(l);
	profile_free(p);

	p = profile_new();
	l = joined(p, 0, 0);
	CHECK_STR(l, "0 samples · none lost", "an empty profile: no shares of nothing");
	free(l);
	profile_free(p);
}

static void test_join(void)
{
	struct summary s = { .nr = 0 };
	struct strbuf sb = STRBUF_INIT;
	size_t cols;

	summary_add(&s, SP_ELAPSED, "0:12");
	summary_add(&s, SP_SAMPLES, "11,163 samples");
	summary_add(&s, SP_LOST, "none lost");
	summary_add(&s, SP_PARTIAL, "%s", "9% with partial stacks");
	summary_add(&s, SP_UNNAMED, "%s", "62% with unnamed frames");
	summary_add(&s, SP_CPU, "CPU 11.16 s");
	summary_add(&s, SP_HINT, "i: counters");
	cols = summary_join(&s, " · ", 0, &sb);
	CHECK(cols == 112 && sb.len == 112 + 6, "no width: everything (%zu columns)", cols);
	strbuf_reset(&sb);
	cols = summary_join(&s, " · ", 60, &sb);
	CHECK_STR(sb.buf, "0:12 · 11,163 samples · none lost · 9% with partial stacks",
		  "60 columns: the least important parts left out, whole");
	CHECK(cols == 58, "and it says how wide the line is (%zu)", cols);
	for (size_t w = 1; w <= 120; w++) {
		size_t n;

		strbuf_reset(&sb);
		n = summary_join(&s, " · ", w, &sb);
		if (n > w && sb.len) {
			CHECK(0, "%zu columns: '%s' is wider", w, sb.buf);
			break;
		}
		/* Every part shown is whole: the line is parts and separators. */
		for (const char *p = sb.buf; *p;) {
			size_t k;

			for (k = 0; k < s.nr; k++)
				if (!strncmp(p, s.parts[k].text, strlen(s.parts[k].text)))
					break;
			if (k == s.nr) {
				CHECK(0, "%zu columns: '%s' cuts a part", w, sb.buf);
				w = 1000;
				break;
			}
			p += strlen(s.parts[k].text);
			if (!strncmp(p, " · ", strlen(" · ")))
				p += strlen(" · ");
		}
	}
	CHECK(1, "at every width from 1 to 120: never wider, never a part cut");
	strbuf_reset(&sb);
	summary_join(&s, " · ", 8, &sb);
	CHECK_STR(sb.buf, "", "8 columns: not even the samples fit, so nothing (never a cut word)");
	strbuf_release(&sb);
}

static void test_details(void)
{
	struct profile *p = fx_profile();
	struct strbuf sb = STRBUF_INIT;
	size_t lines = 0;
	bool all = true;
	char want[128];

	summary_details(p, &sb);
	for (const char *l = sb.buf; *l; l++)
		lines += *l == '\n';
	CHECK(lines == SUMMARY_DETAILS_LINES, "a heading per group and a line per counter (%zu)",
	      lines);
	for (int i = 0; i < PC_NR; i++) {
		if (!summary_meaning(i)[0]) {
			CHECK(0, "counter %s has no meaning: add one to user/model/summary.c",
			      prof_counter_names[i]);
			all = false;
		}
		snprintf(want, sizeof(want), "\n  %-27s", prof_counter_names[i]);
		if (!strstr(sb.buf, want)) {
			CHECK(0, "counter %s is listed", prof_counter_names[i]);
			all = false;
		}
	}
	CHECK(all, "every counter is listed, with what it means");
	CHECK(strstr(sb.buf, "\n  lost_ringbuf_full                     3  samples dropped") != NULL,
	      "a counter's line: name, value, meaning");
	CHECK(strstr(sb.buf, "\nLost: samples that never reached the profile\n  lost_ringbuf_full") &&
		      strstr(sb.buf, "\nPartial stacks: ") && strstr(sb.buf, "\nUnnamed frames: "),
	      "under headings named as the summary's words");
	CHECK(summary_group_of(ST_CNT_UNWIND_READ_ERR) == SG_PARTIAL &&
		      summary_group_of(ST_CNT_UNWIND_FP_FRAMES) == SG_HOW &&
		      summary_group_of(ST_CNT_RINGBUF_FULL) == SG_LOST,
	      "stopped walks are partial stacks; frame-pointer steps lose nothing");
	strbuf_release(&sb);
	profile_free(p);
}

int main(void)
{
	test_words();
	test_join();
	test_details();
	return tap_done();
}

/* The counters in words: the summary line of every header and the meaning of
 * each counter behind it. */
#include "model/summary.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct counter_info {
	uint8_t group;		/* enum summary_group */
	const char *meaning;
	const char *part;	/* SG_OTHER: the summary's words, "%s" the count */
};

static const struct counter_info infos[PC_NR] = {
	[ST_CNT_SEEN] = { SG_SAMPLED, "times the sampling timer fired, on any CPU" },
	[ST_CNT_IDLE] = { SG_SAMPLED, "ticks on an idle CPU (not kept)" },
	[ST_CNT_FILTERED] = { SG_SAMPLED, "ticks in processes not profiled (not kept)" },
	[ST_CNT_RECORDED] = { SG_SAMPLED, "samples sent to sampletop" },
	[ST_CNT_EMPTY_STACK] = { SG_SAMPLED, "samples without any frame: [no stack] (or [in user "
					     "mode] with --kernel-only)" },
	[ST_CNT_RINGBUF_FULL] = { SG_LOST, "samples dropped: the buffer to sampletop was full" },
	[ST_CNT_USER_STACK_ERR] = { SG_PARTIAL, "user stacks unreadable: kept without user frames" },
	[ST_CNT_KERN_STACK_ERR] = { SG_PARTIAL,
				    "kernel stacks unreadable: kept without kernel frames" },
	[ST_CNT_UNWIND_NO_RULE] = { SG_PARTIAL, "stack walks stopped at code without unwind "
						"information" },
	[ST_CNT_UNWIND_READ_ERR] = { SG_PARTIAL, "stack walks stopped at unreadable stack memory" },
	[ST_CNT_PY_READ_ERR] = { SG_PARTIAL, "Python frame walks stopped part way (the frames so "
					     "far kept)" },
	[PC_PROC_GONE] = { SG_PARTIAL, "samples of a process that exited before it was read: "
				       "no user frames" },
	[PC_TRUNCATED_STACKS] = { SG_PARTIAL, "stacks deeper than the depth limit, cut: "
					      "[truncated stack]" },
	[PC_STACK_TABLE_FULL] = { SG_PARTIAL, "samples past the cap on distinct stacks: one "
					      "[truncated: ...] stack" },
	[PC_COLD_TRUNCATED] = { SG_PARTIAL, "cold samples whose stack went on past its copy: "
					    "[truncated stack]" },
	[ST_CNT_COLD_LOST] = { SG_PARTIAL, "cold samples without room for their stack copy: "
					   "walked by frame pointer" },
	[PC_COLD_HOLD_FULL] = { SG_PARTIAL, "cold samples that found the holding queue full: "
					    "finished at once" },
	[PC_COLD_LATE] = { SG_PARTIAL, "cold samples finished before a table they needed existed: "
				       "stepped by frame pointer there" },
	[ST_CNT_OFF_LOST] = { SG_LOST, "off-CPU switch records dropped: the buffer to sampletop "
				       "was full" },
	[ST_CNT_OFF_START_MISSED] = { SG_PARTIAL, "off-CPU intervals whose start was not on "
						  "record (before sampling began, or lost)" },
	[ST_CNT_OFF_CAPPED] = { SG_PARTIAL, "off-CPU intervals past the rate cap: kept without "
					    "their stack" },
	[ST_CNT_SCOPE_LOST] = { SG_LOST, "call begin or end records dropped: the buffer to "
					 "sampletop was full" },
	[ST_CNT_SCOPE_FULL] = { SG_PARTIAL, "threads with no room to track their calls: their "
					    "calls not scoped" },
	[PC_OFF_NO_STACK] = { SG_PARTIAL, "off-CPU intervals whose stack was lost or not held: "
					  "their length under [off-CPU, stack not recorded]" },
	[PC_EVENTS_DROPPED] = { SG_PARTIAL, "timeline events past the memory cap: weighed in the "
					    "tree, missing from time-ordered views" },
	[ST_CNT_OFF_SWITCHES] = { SG_HOW, "times a profiled thread left a CPU (--wall)" },
	[ST_CNT_OFF_RECORDED] = { SG_HOW, "off-CPU intervals sent with their stack (--wall)" },
	[ST_CNT_SCOPE_CALLS] = { SG_HOW, "outermost calls of the --scope function" },
	[ST_CNT_SCOPE_OUTSIDE] = { SG_HOW, "samples and off-CPU intervals outside every --scope "
					   "call (not kept)" },
	[PC_UNNAMED_FRAMES] = { SG_UNNAMED, "frames shown as [unknown], counted once per sample" },
	[PC_UNNAMED_FUNCS] = { SG_UNNAMED, "distinct [unknown] frames: functions or addresses "
					   "without a name" },
	[PC_PY_CODE_REUSED] = { SG_UNNAMED, "Python frames whose code was freed before it was "
					    "named: [unknown python code]" },
	[PC_JIT_MAP_SKIPPED] = { SG_UNNAMED, "lines of JIT perf maps (/tmp/perf-PID.map) skipped: "
					     "malformed, too long or past the caps; their code "
					     "stays [unknown]" },
	[ST_CNT_UNWIND_NO_PROC] = { SG_HOW, "walks of a process whose mappings were not loaded "
					    "yet (asked of the kernel)" },
	[ST_CNT_UNWIND_NO_MAP] = { SG_HOW, "return addresses outside every loaded mapping" },
	[ST_CNT_UNWIND_FP_FRAMES] = { SG_HOW, "frames stepped by frame pointer, for want of an "
					      "unwind table" },
	[ST_CNT_COLD_COPIES] = { SG_HOW, "samples taken before their object had an unwind table, "
					 "sent with a copy of the stack (cold)" },
	[PC_COLD_UNWOUND] = { SG_HOW, "cold samples whose walk sampletop finished from the copy" },
	[ST_CNT_PY_NO_THREAD] = { SG_HOW, "samples of a Python process's thread without a "
					  "thread state" },
	[ST_CNT_PY_NO_FRAME] = { SG_HOW, "Python threads running no Python code (C, start, "
					 "exit)" },
	[ST_CNT_EVENT_LOST] = { SG_OTHER, "exec, fork or exit events dropped: the buffer was full",
				"%s process events lost" },
	[ST_CNT_TARGETS_FULL] = { SG_OTHER, "child processes not profiled: the target map was full",
				  "%s child processes not followed" },
	[PC_UNWIND_TABLE_FULL] = { SG_OTHER, "programs or libraries whose unwind table is bigger "
					     "than the whole --unwind-mem budget: walked by frame "
					     "pointer",
				   "%s objects without room for unwind tables" },
	[PC_UNWIND_EVICTED] = { SG_OTHER, "unwind tables evicted for room, least recently sampled "
					  "first (walked by frame pointer until placed again)",
				"%s unwind tables evicted" },
	[PC_FRAME_TABLE_FULL] = { SG_OTHER, "frames past the cap on distinct frames: one "
					    "[truncated: ...] frame",
				  "%s frames past the memory cap" },
	[PC_PY_BEFORE_FOUND] = { SG_OTHER, "samples of a Python process before it was found: no "
					   "Python frames",
				 "%s samples before Python frames were read" },
	[PC_PY_MAP_FULL] = { SG_OTHER, "Python processes without room in the BPF map: no Python "
				       "frames",
			     "%s Python processes not read" },
};

static const char *const group_titles[SG_NR] = {
	[SG_SAMPLED] = "Sampled",
	[SG_LOST] = "Lost: samples that never reached the profile",
	[SG_PARTIAL] = "Partial stacks: samples kept with part of their stack",
	[SG_UNNAMED] = "Unnamed frames: shown as [unknown] module+0x...",
	[SG_HOW] = "How stacks were walked (nothing lost by itself)",
	[SG_OTHER] = "Other losses",
};

const char *summary_meaning(int c)
{
	return c >= 0 && c < PC_NR && infos[c].meaning ? infos[c].meaning : "";
}

enum summary_group summary_group_of(int c)
{
	return c >= 0 && c < PC_NR ? infos[c].group : SG_OTHER;
}

void summary_memo_release(struct summary_memo *m)
{
	free(m->unnamed);
	*m = (struct summary_memo){ 0 };
}

void summary_add(struct summary *s, int prio, const char *fmt, ...)
{
	va_list ap;

	if (s->nr == SUMMARY_MAX_PARTS)
		return;
	va_start(ap, fmt);
	vsnprintf(s->parts[s->nr].text, SUMMARY_PART_LEN, fmt, ap);
	va_end(ap);
	s->parts[s->nr++].prio = prio;
}

/* v with a comma every three digits: people read 11,163 at a glance. */
static const char *count_str(char buf[32], uint64_t v)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v), k = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = digits[i];
	}
	buf[k] = 0;
	return buf;
}

/* "9%", "<1%" (some, but under one percent) or "99%" (not all: never
 * rounded up to 100%). */
static void share_str(char buf[16], uint64_t part, uint64_t whole)
{
	double pct = whole ? 100.0 * part / whole : 0;

	if (part >= whole)
		snprintf(buf, 16, "100%%");
	else if (pct < 1)
		snprintf(buf, 16, "<1%%");
	else if (pct > 99)
		snprintf(buf, 16, "99%%");
	else
		snprintf(buf, 16, "%.0f%%", pct);
}

uint64_t summary_unnamed_samples(const struct profile *p, struct summary_memo *memo)
{
	struct summary_memo tmp = { 0 };
	struct summary_memo *m = memo ? memo : &tmp;
	uint64_t n = 0;

	if (m->nr_stacks < p->nr_stacks) {
		m->unnamed = xrealloc(m->unnamed, p->nr_stacks);
		for (size_t s = m->nr_stacks; s < p->nr_stacks; s++) {
			const frame_id_t *f = profile_stack_frames(p, (uint32_t)s);
			uint8_t u = 0;

			for (uint32_t i = 0; i < p->stacks[s].nr && !u; i++)
				u = profile_get_frame(p, f[i])->flags & FRAME_F_UNKNOWN;
			m->unnamed[s] = !!u;
		}
		m->nr_stacks = p->nr_stacks;
	}
	for (size_t i = 0; i < p->nr_samples; i++)
		if (p->samples[i].stack < m->nr_stacks && m->unnamed[p->samples[i].stack])
			n += p->samples[i].count;
	summary_memo_release(&tmp);
	return n;
}

/* The counters count every sample taken, the profile's totals what it still
 * holds (a live view may have reset or decayed them): shares of counters are
 * out of the samples the sampler took. */
static uint64_t samples_taken(const struct profile *p)
{
	const uint64_t *c = p->meta.counters;
	uint64_t n = c[ST_CNT_RECORDED] + c[ST_CNT_RINGBUF_FULL];

	return n ? n : p->total;
}

/* --wall: the off-CPU intervals on record, with a stack, past the cap
 * without one, or without their start (a switch-in alone says how long). */
static uint64_t wall_intervals(const struct profile *p)
{
	const uint64_t *c = p->meta.counters;

	return c[ST_CNT_OFF_RECORDED] + c[ST_CNT_OFF_CAPPED] + c[ST_CNT_OFF_START_MISSED];
}

void summary_of_profile(struct summary *s, const struct profile *p, uint64_t rate,
			struct summary_memo *memo)
{
	const uint64_t *c = p->meta.counters;
	uint64_t partial = 0, unnamed;
	char num[32], num2[32], pct[16];

	/* --wall: counts are nanoseconds; say what was recorded instead, and
	 * what each share is of (partial stacks: of these two; unnamed
	 * frames: of the time). */
	if (p->meta.wall)
		summary_add(s, SP_SAMPLES, "%s samples, %s off-CPU intervals",
			    count_str(num, c[ST_CNT_RECORDED]), count_str(num2, wall_intervals(p)));
	else if (rate)
		summary_add(s, SP_SAMPLES, "%s samples (%s/s)", count_str(num, p->total),
			    count_str(num2, rate));
	else
		summary_add(s, SP_SAMPLES, "%s samples", count_str(num, p->total));
	if (c[ST_CNT_RINGBUF_FULL])
		summary_add(s, SP_LOST, "%s lost", count_str(num, c[ST_CNT_RINGBUF_FULL]));
	else
		summary_add(s, SP_LOST, "none lost");
	for (int i = 0; i < PC_NR; i++)
		if (infos[i].group == SG_PARTIAL)
			partial += c[i];
	if (partial) {
		share_str(pct, partial, samples_taken(p) + (p->meta.wall ? wall_intervals(p) : 0));
		summary_add(s, SP_PARTIAL, "%s%s with partial stacks", pct,
			    p->meta.wall ? " of samples and intervals" : "");
	} else if (p->total) {
		summary_add(s, SP_PARTIAL, "no partial stacks");
	}
	if (p->total) {
		unnamed = summary_unnamed_samples(p, memo);
		if (unnamed) {
			share_str(pct, unnamed, p->total);
			summary_add(s, SP_UNNAMED, "%s%s with unnamed frames", pct,
				    p->meta.wall ? " of the time" : "");
		} else {
			summary_add(s, SP_UNNAMED, "all frames named");
		}
	}
	for (int i = 0; i < PC_NR; i++)
		if (infos[i].part && c[i])
			summary_add(s, SP_OTHER, infos[i].part, count_str(num, c[i]));
}

/* Columns of a UTF-8 string whose characters are one column each (the parts
 * are plain words; the separator may be a middle dot). */
static size_t columns(const char *str)
{
	size_t n = 0;

	for (; *str; str++)
		n += ((unsigned char)*str & 0xc0) != 0x80;
	return n;
}

size_t summary_join(const struct summary *s, const char *sep, size_t width, struct strbuf *sb)
{
	bool keep[SUMMARY_MAX_PARTS];
	size_t cols = 0, kept = 0, sep_cols = columns(sep);

	for (size_t i = 0; i < s->nr; i++) {
		keep[i] = true;
		cols += columns(s->parts[i].text) + (kept++ ? sep_cols : 0);
	}
	while (width && cols > width && kept) {
		size_t drop = SIZE_MAX;

		for (size_t i = 0; i < s->nr; i++)
			if (keep[i] && (drop == SIZE_MAX || s->parts[i].prio <= s->parts[drop].prio))
				drop = i;
		keep[drop] = false;
		cols -= columns(s->parts[drop].text) + (--kept ? sep_cols : 0);
	}
	kept = 0;
	for (size_t i = 0; i < s->nr; i++) {
		if (!keep[i])
			continue;
		if (kept++)
			strbuf_addstr(sb, sep);
		strbuf_addstr(sb, s->parts[i].text);
	}
	return cols;
}

void summary_details(const struct profile *p, struct strbuf *sb)
{
	char num[32];

	for (int g = 0; g < SG_NR; g++) {
		strbuf_addf(sb, "%s\n", group_titles[g]);
		for (int i = 0; i < PC_NR; i++)
			if (infos[i].group == g)
				strbuf_addf(sb, "  %-27s %11s  %s\n", prof_counter_names[i],
					    count_str(num, p->meta.counters[i]), summary_meaning(i));
	}
}

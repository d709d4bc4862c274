/* The calls of --scope functions in the text and HTML reports: per
 * function its count, total, percentiles and histogram, then the slowest
 * calls, each with its own tree. */
#include "model/calls.h"
#include "report/report.h"
#include "base/util.h"

#include <string.h>

/* Widest histogram bar, in characters. */
#define HIST_BAR 40

void report_duration(uint64_t ns, struct strbuf *sb)
{
	if (ns < 1000000)
		strbuf_addf(sb, "%.0f us", (double)ns / 1e3);
	else if (ns < 1000000000)
		strbuf_addf(sb, "%.1f ms", (double)ns / 1e6);
	else
		strbuf_addf(sb, "%.3f s", (double)ns / 1e9);
}

/* 1000 ns -> "1 us", 2e8 -> "200 ms", 5e9 -> "5 s". */
static void add_bound(uint64_t ns, bool unit, struct strbuf *sb)
{
	static const struct {
		uint64_t ns;
		const char *unit;
	} units[] = { { 1000000000, "s" }, { 1000000, "ms" }, { 1000, "us" } };

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (ns >= units[i].ns || i + 1 == ARRAY_SIZE(units)) {
			strbuf_add_u64(sb, ns / units[i].ns);
			if (unit) {
				strbuf_addch(sb, ' ');
				strbuf_addstr(sb, units[i].unit);
			}
			return;
		}
	}
}

void report_hist_label(uint32_t bin, struct strbuf *sb)
{
	uint64_t hi = calls_hist_upper_ns(bin), lo = bin ? calls_hist_upper_ns(bin - 1) : 0;

	if (!bin) {
		strbuf_addstr(sb, "<");
		add_bound(hi, true, sb);
	} else if (hi == UINT64_MAX) {
		strbuf_addstr(sb, ">=");
		add_bound(lo, true, sb);
	} else {
		/* "200-500 ms", "500 ms-1 s": the unit once when both share it. */
		bool same = (lo < 1000000) == (hi < 1000000) && (lo < 1000000000) == (hi < 1000000000);

		add_bound(lo, !same, sb);
		strbuf_addch(sb, '-');
		add_bound(hi, true, sb);
	}
}

static void add_thread(const struct call *call, struct strbuf *sb)
{
	strbuf_add_escaped(sb, call->comm[0] ? call->comm : "?");
	strbuf_addf(sb, " [%u]", call->tid);
}

void report_calls_summary(struct calls_fn *f, const char *sep, struct strbuf *sb)
{
	strbuf_addf(sb, "%llu call%s", (unsigned long long)f->count, f->count == 1 ? "" : "s");
	strbuf_addf(sb, "%stotal ", sep);
	report_duration(f->total_ns, sb);
	if (!f->count)
		return;
	strbuf_addf(sb, "%sp50 ", sep);
	report_duration(calls_percentile(f, 0.5), sb);
	strbuf_addf(sb, "%sp90 ", sep);
	report_duration(calls_percentile(f, 0.9), sb);
	strbuf_addf(sb, "%sp99 ", sep);
	report_duration(calls_percentile(f, 0.99), sb);
	strbuf_addf(sb, "%smax ", sep);
	report_duration(f->max_ns, sb);
}

/* The bins from the first to the last that holds a call. */
static bool hist_range(const struct calls_fn *f, uint32_t *first, uint32_t *last)
{
	uint64_t most = 0;

	*first = CALLS_HIST_BINS;
	*last = 0;
	for (uint32_t i = 0; i < CALLS_HIST_BINS; i++) {
		if (!f->hist[i])
			continue;
		if (*first == CALLS_HIST_BINS)
			*first = i;
		*last = i;
		if (f->hist[i] > most)
			most = f->hist[i];
	}
	return most;
}

static uint64_t hist_most(const struct calls_fn *f)
{
	uint64_t most = 0;

	for (uint32_t i = 0; i < CALLS_HIST_BINS; i++)
		if (f->hist[i] > most)
			most = f->hist[i];
	return most;
}

static void text_hist(const struct calls_fn *f, const struct report_opts *o, struct strbuf *sb)
{
	struct strbuf label = STRBUF_INIT;
	uint64_t most = hist_most(f);
	uint32_t first, last;

	if (!hist_range(f, &first, &last))
		return;
	for (uint32_t i = first; i <= last; i++) {
		uint64_t bar = (f->hist[i] * HIST_BAR + most - 1) / most;

		strbuf_reset(&label);
		report_hist_label(i, &label);
		strbuf_addf(sb, "  %-14s %8llu  ", label.buf, (unsigned long long)f->hist[i]);
		for (uint64_t k = 0; k < bar; k++)
			strbuf_addstr(sb, o->ascii ? "#" : "\u2588");
		strbuf_addch(sb, '\n');
	}
	strbuf_release(&label);
}

/* "call 12: 252.4 ms, python3 [1234] of pid 1233, began at +3.201 s" */
static void add_call_line(const struct call *call, struct strbuf *sb)
{
	strbuf_addf(sb, "call %llu: ", (unsigned long long)call->number);
	report_duration(call_duration(call), sb);
	strbuf_addstr(sb, ", thread ");
	add_thread(call, sb);
	strbuf_addf(sb, " of pid %u, began at +%.3f s", call->pid, (double)call->begin_ns / 1e9);
}

void report_text_calls(const struct profile *p, const struct report_opts *o, struct strbuf *sb)
{
	struct calls *c = p->calls;

	if (!c)
		return;
	for (size_t i = 0; i < c->nr_fns; i++) {
		struct calls_fn *f = &c->fns[i];

		strbuf_addstr(sb, "\nCalls of ");
		strbuf_add_escaped(sb, f->name);
		strbuf_addstr(sb, ": ");
		report_calls_summary(f, o->ascii ? ", " : " \u00b7 ", sb);
		strbuf_addch(sb, '\n');
		if (f->durations_dropped)
			strbuf_addf(sb, "(percentiles of the first %zu calls: %llu more were "
					"counted without their duration kept)\n",
				    f->nr_durs, (unsigned long long)f->durations_dropped);
		text_hist(f, o, sb);
		if (!f->nr_slowest)
			continue;
		strbuf_addf(sb, "\nSlowest %zu call%s of ", f->nr_slowest,
			    f->nr_slowest == 1 ? "" : "s");
		strbuf_add_escaped(sb, f->name);
		strbuf_addstr(sb, ":\n");
		for (size_t k = 0; k < f->nr_slowest; k++) {
			const struct call *call = f->slowest[k];
			struct profile *q = calls_call_profile(p, call);

			strbuf_addch(sb, '\n');
			add_call_line(call, sb);
			strbuf_addch(sb, '\n');
			report_text_tree(q, o, sb);
			profile_free(q);
		}
	}
	if (c->lost_begin)
		strbuf_addf(sb, "\n%llu samples or call ends had no call on record (its begin was "
				"lost)\n", (unsigned long long)c->lost_begin);
}

static void html_tree(const struct profile *p, const struct report_opts *o, struct strbuf *sb)
{
	struct report_opts to = *o;
	struct strbuf tree = STRBUF_INIT;

	to.color = false;
	report_text_tree(p, &to, &tree);
	strbuf_addstr(sb, "<pre class=\"calltree\">");
	report_html_lines(sb, tree.buf);
	strbuf_addstr(sb, "</pre>\n");
	strbuf_release(&tree);
}

void report_html_calls(const struct profile *p, const struct report_opts *o, struct strbuf *sb)
{
	struct calls *c = p->calls;
	struct strbuf s = STRBUF_INIT;

	if (!c)
		return;
	strbuf_addstr(sb, "<section id=\"calls\">\n");
	for (size_t i = 0; i < c->nr_fns; i++) {
		struct calls_fn *f = &c->fns[i];
		uint64_t most = hist_most(f);
		uint32_t first, last;

		strbuf_addstr(sb, "<h2>Calls of ");
		strbuf_add_html(sb, f->name);
		strbuf_addstr(sb, "</h2>\n<p class=\"callsum\">");
		strbuf_reset(&s);
		report_calls_summary(f, " \u00b7 ", &s);
		strbuf_add_html(sb, s.buf);
		strbuf_addstr(sb, "</p>\n");
		if (hist_range(f, &first, &last)) {
			strbuf_addstr(sb, "<table class=\"callhist\">\n");
			for (uint32_t b = first; b <= last; b++) {
				strbuf_reset(&s);
				report_hist_label(b, &s);
				strbuf_addstr(sb, "<tr><td>");
				strbuf_add_html(sb, s.buf);
				strbuf_addf(sb, "</td><td>%llu</td><td><div class=\"bar\" "
						"style=\"width:%.0fpx\"></div></td></tr>\n",
					    (unsigned long long)f->hist[b],
					    (double)f->hist[b] * 4 * HIST_BAR / (double)most);
			}
			strbuf_addstr(sb, "</table>\n");
		}
		if (!f->nr_slowest)
			continue;
		strbuf_addstr(sb, "<table class=\"calls\">\n<tr><th>call</th><th>duration</th>"
				  "<th>thread</th><th>pid</th><th>began</th></tr>\n");
		for (size_t k = 0; k < f->nr_slowest; k++) {
			const struct call *call = f->slowest[k];

			strbuf_addf(sb, "<tr><td><a href=\"#call-%llu\">%llu</a></td><td>",
				    (unsigned long long)call->number,
				    (unsigned long long)call->number);
			strbuf_reset(&s);
			report_duration(call_duration(call), &s);
			strbuf_add_html(sb, s.buf);
			strbuf_addstr(sb, "</td><td>");
			strbuf_reset(&s);
			add_thread(call, &s);
			strbuf_add_html(sb, s.buf);
			strbuf_addf(sb, "</td><td>%u</td><td>+%.3f s</td></tr>\n", call->pid,
				    (double)call->begin_ns / 1e9);
		}
		strbuf_addstr(sb, "</table>\n");
		for (size_t k = 0; k < f->nr_slowest; k++) {
			const struct call *call = f->slowest[k];
			struct profile *q = calls_call_profile(p, call);

			strbuf_addf(sb, "<h3 id=\"call-%llu\">", (unsigned long long)call->number);
			strbuf_reset(&s);
			add_call_line(call, &s);
			strbuf_add_html(sb, s.buf);
			strbuf_addstr(sb, "</h3>\n");
			html_tree(q, o, sb);
			profile_free(q);
		}
	}
	strbuf_addstr(sb, "</section>\n");
	strbuf_release(&s);
}

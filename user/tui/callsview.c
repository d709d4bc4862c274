/* The calls view's state: the kept calls by duration, and the open call. */
#include "tui/callsview.h"
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

struct callsview *cv_new(const struct profile *p)
{
	struct callsview *cv;

	if (!p->calls)
		return NULL;
	cv = xcalloc(1, sizeof(*cv));
	cv->prof = p;
	cv->height = 1;
	cv->generation = UINT64_MAX;	/* made at the first refresh */
	cv_refresh(cv);
	return cv;
}

static void clear_list(struct callsview *cv)
{
	for (size_t i = 0; i < cv->nr; i++)
		free(cv->list[i].thread);
	cv->nr = 0;
}

static void close_call(struct callsview *cv)
{
	profile_free(cv->call);
	cv->call = NULL;
	cv->title[0] = 0;
}

void cv_free(struct callsview *cv)
{
	if (!cv)
		return;
	clear_list(cv);
	free(cv->list);
	close_call(cv);
	free(cv);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct cv_entry *x = a, *y = b;

	if (x->duration_ns != y->duration_ns)
		return x->duration_ns < y->duration_ns ? 1 : -1;
	return x->number < y->number ? -1 : x->number > y->number;
}

bool cv_refresh(struct callsview *cv)
{
	const struct calls *c = cv->prof->calls;
	uint64_t sel_number = cv->nr ? cv->list[cv->sel].number : 0;
	struct strbuf sb = STRBUF_INIT;

	if (c->generation == cv->generation)
		return false;
	cv->generation = c->generation;
	clear_list(cv);
	for (size_t f = 0; f < c->nr_fns; f++) {
		for (size_t i = 0; i < c->fns[f].nr_slowest; i++) {
			const struct call *call = c->fns[f].slowest[i];
			struct cv_entry *e;

			XGROW(cv->list, cv->alloc, cv->nr + 1);
			e = &cv->list[cv->nr++];
			strbuf_reset(&sb);
			strbuf_add_escaped(&sb, call->comm[0] ? call->comm : "?");
			strbuf_addf(&sb, " [%u]", call->tid);
			*e = (struct cv_entry){ (uint32_t)f, call->number, call_duration(call),
						call->begin_ns, call->pid, call->tid,
						xstrdup(sb.buf) };
		}
	}
	strbuf_release(&sb);
	qsort(cv->list, cv->nr, sizeof(*cv->list), cmp_entry);
	/* On the first row it stays there, on the slowest call (as top's
	 * first row); moved down, it follows its call while the list reorders. */
	if (cv->sel) {
		cv->sel = 0;
		for (size_t i = 0; i < cv->nr; i++)
			if (cv->list[i].number == sel_number)
				cv->sel = i;
	}
	cv_move(cv, 0);
	return true;
}

void cv_set_height(struct callsview *cv, size_t height)
{
	cv->height = height ? height : 1;
	cv_move(cv, 0);
}

bool cv_move(struct callsview *cv, long delta)
{
	size_t old = cv->sel, old_top = cv->top;
	long sel = (long)cv->sel + delta;

	if (sel >= (long)cv->nr)
		sel = (long)cv->nr - 1;
	if (sel < 0)
		sel = 0;
	cv->sel = (size_t)sel;
	if (cv->sel < cv->top)
		cv->top = cv->sel;
	if (cv->sel >= cv->top + cv->height)
		cv->top = cv->sel - cv->height + 1;
	return cv->sel != old || cv->top != old_top;
}

/* The kept call with this number, or NULL (evicted since the list was made). */
static const struct call *find_call(const struct callsview *cv, uint32_t fn, uint64_t number)
{
	const struct calls *c = cv->prof->calls;

	for (size_t i = 0; fn < c->nr_fns && i < c->fns[fn].nr_slowest; i++)
		if (c->fns[fn].slowest[i]->number == number)
			return c->fns[fn].slowest[i];
	return NULL;
}

bool cv_open(struct callsview *cv)
{
	const struct cv_entry *e;
	const struct call *call;
	struct strbuf sb = STRBUF_INIT;

	if (cv->mode != CV_LIST || !cv->nr)
		return false;
	e = &cv->list[cv->sel];
	call = find_call(cv, e->fn, e->number);
	if (!call)
		return false;
	close_call(cv);
	cv->call = calls_call_profile(cv->prof, call);
	cv->call_number = call->number;
	strbuf_addf(&sb, "Call %llu of ", (unsigned long long)call->number);
	strbuf_add_escaped(&sb, cv->prof->calls->fns[e->fn].name);
	strbuf_addstr(&sb, ": ");
	report_duration(e->duration_ns, &sb);
	strbuf_addf(&sb, ", %s", e->thread);
	snprintf(cv->title, sizeof(cv->title), "%s", sb.buf);
	strbuf_release(&sb);
	cv->mode = CV_CALL;
	return true;
}

void cv_show_list(struct callsview *cv)
{
	close_call(cv);
	cv->mode = CV_LIST;
	cv_refresh(cv);
}

void cv_show_aggregate(struct callsview *cv)
{
	close_call(cv);
	cv->mode = CV_AGGREGATE;
}

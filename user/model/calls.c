/* Calls of scoped functions: their durations, and the slowest kept whole. */
#include "model/calls.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

struct calls *calls_new(uint32_t keep)
{
	struct calls *c = xcalloc(1, sizeof(*c));

	c->keep = keep;
	c->next_py_id = CALLS_PY_FIRST_ID;
	return c;
}

static void call_free(struct call *call)
{
	if (!call)
		return;
	free(call->comm);
	free(call->process);
	free(call->recs);
	u64map_free(&call->rec_index);
	free(call);
}

void calls_free(struct calls *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr_fns; i++) {
		struct calls_fn *f = &c->fns[i];

		for (size_t k = 0; k < f->nr_slowest; k++)
			call_free(f->slowest[k]);
		free(f->slowest);
		free(f->durs);
		free(f->name);
	}
	free(c->fns);
	for (size_t i = 0; i < c->nr_open; i++)
		call_free(c->open[i]);
	free(c->open);
	u64map_free(&c->open_by_id);
	u64map_free(&c->open_by_thread);
	call_free(c->last);
	free(c);
}

uint32_t calls_add_fn(struct calls *c, const char *name, bool python)
{
	struct calls_fn *f;

	XGROW(c->fns, c->alloc_fns, c->nr_fns + 1);
	f = &c->fns[c->nr_fns];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	f->python = python;
	f->slowest = xcalloc(c->keep ? c->keep : 1, sizeof(*f->slowest));
	return c->nr_fns++;
}

static uint64_t thread_key(uint32_t tid, uint32_t fn)
{
	return (uint64_t)tid << 32 | fn;
}

static size_t open_index(const struct calls *c, uint64_t id)
{
	uint32_t v;

	return u64map_get(&c->open_by_id, id, &v) && v ? v - 1 : SIZE_MAX;
}

static void index_open(struct calls *c, size_t i)
{
	const struct call *call = c->open[i];

	u64map_put(&c->open_by_id, call->id, (uint32_t)i + 1);
	u64map_put(&c->open_by_thread, thread_key(call->tid, call->fn), (uint32_t)i + 1);
}

/* Takes open call i out (the last one moves to its slot). */
static void unlink_open(struct calls *c, size_t i)
{
	const struct call *call = c->open[i];

	uint32_t v;

	u64map_put(&c->open_by_id, call->id, 0);
	/* Unless a later call of the thread took the key (a native call
	 * whose end was lost stays open beside the next one). */
	if (u64map_get(&c->open_by_thread, thread_key(call->tid, call->fn), &v) && v == i + 1)
		u64map_put(&c->open_by_thread, thread_key(call->tid, call->fn), 0);
	c->open[i] = c->open[--c->nr_open];
	if (i < c->nr_open)
		index_open(c, i);
	if (++c->nr_stale > 64 + 2 * c->nr_open) {
		u64map_clear(&c->open_by_id);
		u64map_clear(&c->open_by_thread);
		for (size_t k = 0; k < c->nr_open; k++)
			index_open(c, k);
		c->nr_stale = 0;
	}
}

struct call *calls_find_open(const struct calls *c, uint64_t id)
{
	size_t i = open_index(c, id);

	return i == SIZE_MAX ? NULL : c->open[i];
}

struct call *calls_call_new(uint32_t fn, uint64_t id, uint32_t pid, uint32_t tid,
			    const char *comm, const char *process, uint64_t begin_ns,
			    uint64_t end_ns)
{
	struct call *call = xcalloc(1, sizeof(*call));

	call->id = id;
	call->fn = fn;
	call->pid = pid;
	call->tid = tid;
	call->comm = xstrdup(comm ? comm : "");
	call->process = xstrdup(process ? process : call->comm);
	call->begin_ns = begin_ns;
	call->end_ns = end_ns;
	return call;
}

struct call *calls_begin(struct calls *c, uint32_t fn, uint64_t id, uint32_t pid, uint32_t tid,
			 const char *comm, const char *process, uint64_t t_ns)
{
	struct call *call;

	if (fn >= c->nr_fns)
		return NULL;
	if (open_index(c, id) != SIZE_MAX)
		calls_end(c, id, t_ns);
	call = calls_call_new(fn, id, pid, tid, comm, process, t_ns, t_ns);
	XGROW(c->open, c->alloc_open, c->nr_open + 1);
	c->open[c->nr_open++] = call;
	index_open(c, c->nr_open - 1);
	return call;
}

void calls_call_add(struct call *call, uint32_t stack, uint64_t weight)
{
	uint32_t i;

	call->weight += weight;
	if (u64map_get(&call->rec_index, stack, &i)) {
		call->recs[i].weight += weight;
		return;
	}
	if (call->nr_recs >= CALLS_MAX_CALL_STACKS) {
		call->stacks_dropped++;
		call->dropped_weight += weight;
		return;
	}
	XGROW(call->recs, call->alloc_recs, call->nr_recs + 1);
	call->recs[call->nr_recs] = (struct call_rec){ stack, weight };
	u64map_put(&call->rec_index, stack, (uint32_t)call->nr_recs++);
}

bool calls_add(struct calls *c, uint64_t id, uint32_t stack, uint64_t weight)
{
	struct call *call = calls_find_open(c, id);

	if (!call) {
		c->lost_begin++;
		return false;
	}
	calls_call_add(call, stack, weight);
	return true;
}

uint32_t calls_hist_bin(uint64_t ns)
{
	uint32_t i;

	for (i = 0; i + 1 < CALLS_HIST_BINS; i++)
		if (ns < calls_hist_upper_ns(i))
			break;
	return i;
}

uint64_t calls_hist_upper_ns(uint32_t i)
{
	static const uint64_t step[3] = { 1, 2, 5 };
	uint64_t v = 1000;	/* 1 us */

	if (i + 1 >= CALLS_HIST_BINS)
		return UINT64_MAX;
	for (uint32_t d = 0; d < i / 3; d++)
		v *= 10;
	return v * step[i % 3];
}

/* Places a finished call among the slowest (slowest first; a tie keeps the
 * earlier call). Returns the call that falls out (maybe call itself). */
static struct call *keep_slowest(struct calls *c, struct calls_fn *f, struct call *call)
{
	uint64_t d = call_duration(call);
	struct call *out = NULL;
	size_t pos;

	if (!c->keep)
		return call;
	if (f->nr_slowest == c->keep) {
		if (call_duration(f->slowest[f->nr_slowest - 1]) >= d)
			return call;
		out = f->slowest[--f->nr_slowest];
	}
	for (pos = f->nr_slowest; pos > 0 && call_duration(f->slowest[pos - 1]) < d; pos--)
		f->slowest[pos] = f->slowest[pos - 1];
	f->slowest[pos] = call;
	f->nr_slowest++;
	return out;
}

bool calls_keep_loaded(struct calls *c, uint32_t fn, struct call *call)
{
	struct call *out;

	if (fn >= c->nr_fns || c->fns[fn].nr_slowest >= c->keep) {
		call_free(call);
		return false;
	}
	u64map_free(&call->rec_index);
	call->fn = fn;
	out = keep_slowest(c, &c->fns[fn], call);
	call_free(out);
	return !out;
}

const struct call *calls_end(struct calls *c, uint64_t id, uint64_t t_ns)
{
	size_t i = open_index(c, id);
	struct calls_fn *f;
	struct call *call, *out;
	uint64_t d;

	if (i == SIZE_MAX) {
		c->lost_begin++;
		return NULL;
	}
	call = c->open[i];
	unlink_open(c, i);
	if (t_ns > call->end_ns)
		call->end_ns = t_ns;
	u64map_free(&call->rec_index);
	call->number = ++c->nr_ended;
	f = &c->fns[call->fn];
	d = call_duration(call);
	f->count++;
	f->total_ns += d;
	if (d > f->max_ns)
		f->max_ns = d;
	f->hist[calls_hist_bin(d)]++;
	if (f->nr_durs < CALLS_MAX_DURATIONS) {
		XGROW(f->durs, f->alloc_durs, f->nr_durs + 1);
		f->durs[f->nr_durs++] = d;
		f->sorted = false;
	} else {
		f->durations_dropped++;
	}
	c->generation++;
	out = keep_slowest(c, f, call);
	/* The caller may still read the call that ended: one that no list
	 * kept lives until the next end. */
	call_free(c->last);
	c->last = out;
	return call;
}

struct call *calls_find_py_open(const struct calls *c, uint32_t fn, uint32_t pid, uint32_t tid)
{
	uint32_t v;

	if (!u64map_get(&c->open_by_thread, thread_key(tid, fn), &v) || !v)
		return NULL;
	return c->open[v - 1]->pid == pid ? c->open[v - 1] : NULL;
}

const struct call *calls_py_event(struct calls *c, uint32_t fn, uint32_t pid, uint32_t tid,
				  const char *comm, const char *process, bool in_fn,
				  uint64_t start_ns, uint64_t end_ns, uint32_t stack, uint64_t weight)
{
	struct call *call = calls_find_py_open(c, fn, pid, tid);

	if (!in_fn)
		return call ? calls_end(c, call->id, call->end_ns) : NULL;
	if (!call) {
		call = calls_begin(c, fn, c->next_py_id++, pid, tid, comm, process, start_ns);
		if (!call)
			return NULL;
	}
	if (end_ns > call->end_ns)
		call->end_ns = end_ns;
	calls_call_add(call, stack, weight);
	return NULL;
}

void calls_end_all(struct calls *c, uint64_t t_ns,
		   void (*fn_ended)(const struct call *call, void *ctx), void *ctx)
{
	while (c->nr_open) {
		struct call *call = c->open[c->nr_open - 1];
		uint64_t end = c->fns[call->fn].python ? call->end_ns : t_ns;
		const struct call *done = calls_end(c, call->id, end);

		if (done && fn_ended)
			fn_ended(done, ctx);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t calls_percentile(struct calls_fn *f, double q)
{
	size_t rank;

	if (!f->nr_durs)
		return 0;
	if (!f->sorted) {
		qsort(f->durs, f->nr_durs, sizeof(*f->durs), cmp_u64);
		f->sorted = true;
	}
	/* Nearest rank: the smallest duration with at least q of them at or below. */
	rank = (size_t)(q * (double)f->nr_durs + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > f->nr_durs)
		rank = f->nr_durs;
	return f->durs[rank - 1];
}

bool calls_py_name_matches(const char *frame_name, const char *fn)
{
	const char *dot;

	if (!strcmp(frame_name, fn))
		return true;
	/* 3.10 names a frame by co_name only: no dot in it. */
	dot = strrchr(fn, '.');
	return dot && !strchr(frame_name, '.') && !strchr(frame_name, '<') &&
	       !strcmp(frame_name, dot + 1);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct profile *calls_call_profile(const struct profile *p, const struct call *call)
{
	struct profile *q = profile_new();
	struct strbuf sb = STRBUF_INIT;
	frame_id_t *fr = NULL;
	size_t alloc = 0;
	uint32_t th;

	q->meta = p->meta;
	q->meta.target = dup_or_null(p->meta.target);
	q->meta.command = dup_or_null(p->meta.command);
	q->meta.hostname = dup_or_null(p->meta.hostname);
	q->meta.kernel = dup_or_null(p->meta.kernel);
	q->meta.start_wall_ns = p->meta.start_wall_ns + call->begin_ns;
	q->meta.duration_ns = call_duration(call);
	strbuf_addf(&sb, "call %llu of %s (thread %u of pid %u)", (unsigned long long)call->number,
		    p->calls && call->fn < p->calls->nr_fns ? p->calls->fns[call->fn].name : "?",
		    call->tid, call->pid);
	q->meta.note = strbuf_detach(&sb);
	th = profile_thread(q, call->pid, call->tid, call->comm, call->process);
	for (size_t i = 0; i < call->nr_recs; i++) {
		uint32_t s = call->recs[i].stack, n;
		const frame_id_t *src;

		if (s >= p->nr_stacks)
			continue;
		src = profile_stack_frames(p, s);
		n = p->stacks[s].nr;
		XGROW(fr, alloc, n + 1);
		for (uint32_t k = 0; k < n; k++)
			fr[k] = profile_frame(q, profile_get_frame(p, src[k]));
		profile_add_sample(q, th, fr, n, call->recs[i].weight);
	}
	if (call->dropped_weight) {
		XGROW(fr, alloc, 1);
		fr[0] = profile_special_frame(q, FRAME_SPECIAL, "[call stacks past the cap]");
		profile_add_sample(q, th, fr, 1, call->dropped_weight);
	}
	free(fr);
	return q;
}

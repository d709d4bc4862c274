/*
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * shared frames and one "sampled" profile per thread, hottest first, with
 * weights in nanoseconds. speedscope splits threads and inverts by itself,
 * so --threads and --invert do not apply here. As the tree views do, the
 * threads of a program that ran as several processes are one profile
 * ("cc [60 processes]"), unless --processes. With --wall and a timeline,
 * each thread is an "evented" profile in time order instead (add_evented).
 */
#include "report/report.h"
#include "store/store.h"

#include <stdlib.h>

#define SPEEDSCOPE_FLUSH_BYTES (1 << 20)

struct speedscope {
	const struct profile *p;
	struct report_opts flat;	/* the options without the views speedscope makes */
	struct collapse_rules rules;
	struct strbuf sb;		/* the output, flushed as it grows */
	struct strbuf frames;		/* the shared frames, written last */
	uint32_t *shared;		/* frame id -> index in frames (UINT32_MAX: not yet) */
	uint32_t nr_shared;
	/* Each stack's "[i,j,...]" rendered once (stacks recur on many threads):
	 * NUL-terminated in cache, at cache_off (SIZE_MAX: not yet); empty: a
	 * stack the view leaves out. */
	struct strbuf cache;
	size_t *cache_off;
	uint64_t period;		/* ns per sample */
	frame_id_t path[TREE_MAX_PATH];
	FILE *out;
	int err;
};

struct thread_total {
	uint32_t thread;
	uint64_t total;
};

static int cmp_thread_total(const void *a, const void *b)
{
	const struct thread_total *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->thread < y->thread ? -1 : x->thread > y->thread;
}

/* The threads, hottest first (a new array, caller frees). */
static struct thread_total *threads_by_total(const struct profile *p)
{
	struct thread_total *tt = xcalloc(p->nr_threads + 1, sizeof(*tt));

	for (size_t t = 0; t < p->nr_threads; t++)
		tt[t].thread = t;
	for (size_t i = 0; i < p->nr_samples; i++)
		tt[p->samples[i].thread].total += p->samples[i].count;
	qsort(tt, p->nr_threads, sizeof(*tt), cmp_thread_total);
	return tt;
}

static void add_frame(struct strbuf *sb, const struct frame *f)
{
	strbuf_addstr(sb, "{\"name\":");
	strbuf_add_json_str(sb, f->name);
	if (f->file || f->module[0]) {
		strbuf_addstr(sb, ",\"file\":");
		strbuf_add_json_str(sb, f->file ? f->file : f->module);
	}
	if (f->file && f->line)
		strbuf_addf(sb, ",\"line\":%u", f->line);
	strbuf_addch(sb, '}');
}

static uint32_t shared_frame(struct speedscope *c, frame_id_t id)
{
	if (c->shared[id] == UINT32_MAX) {
		if (c->nr_shared)
			strbuf_addch(&c->frames, ',');
		add_frame(&c->frames, profile_get_frame(c->p, id));
		c->shared[id] = c->nr_shared++;
	}
	return c->shared[id];
}

/* Sample s's stack as "[i,j,...]" of shared frames; "" when the view leaves it out. */
static const char *stack_text(struct speedscope *c, const struct sample_rec *s)
{
	uint32_t n;

	if (c->cache_off[s->stack] != SIZE_MAX)
		return c->cache.buf + c->cache_off[s->stack];
	c->cache_off[s->stack] = c->cache.len;
	n = report_sample_path(c->p, &c->flat, &c->rules, s, c->path, ARRAY_SIZE(c->path));
	for (uint32_t j = 0; j < n; j++) {
		strbuf_addch(&c->cache, j ? ',' : '[');
		strbuf_add_u64(&c->cache, shared_frame(c, c->path[j]));
	}
	if (n)
		strbuf_addch(&c->cache, ']');
	strbuf_add(&c->cache, "", 1);
	return c->cache.buf + c->cache_off[s->stack];
}

/* The records of one thread: order[begin, end). */
struct range {
	size_t begin, end;
};

/* One "sampled" profile named name from the records of nr threads' ranges. */
static void add_profile(struct speedscope *c, const char *name, const uint32_t *order,
			const struct range *ranges, size_t nr)
{
	struct strbuf weights = STRBUF_INIT;
	uint64_t sum = 0;

	strbuf_addstr(&c->sb, "\"type\":\"sampled\",\"name\":");
	strbuf_add_json_str(&c->sb, name);
	strbuf_addstr(&c->sb, ",\"unit\":\"nanoseconds\",\"startValue\":0,\"samples\":[");
	for (size_t r = 0; r < nr; r++) {
		for (size_t k = ranges[r].begin; k < ranges[r].end; k++) {
			const struct sample_rec *s = &c->p->samples[order[k]];
			const char *stack;

			if (!s->count || !*(stack = stack_text(c, s)))
				continue;
			if (weights.len) {
				strbuf_addch(&c->sb, ',');
				strbuf_addch(&weights, ',');
			}
			strbuf_addstr(&c->sb, stack);
			strbuf_add_u64(&weights, s->count * c->period);
			sum += s->count * c->period;
			c->err = c->err ?: strbuf_flush(&c->sb, c->out, SPEEDSCOPE_FLUSH_BYTES);
		}
	}
	strbuf_addstr(&c->sb, "],\"weights\":[");
	strbuf_add(&c->sb, weights.buf, weights.len);
	strbuf_addf(&c->sb, "],\"endValue\":%llu}", (unsigned long long)sum);
	strbuf_release(&weights);
}

/* Appends an evented profile's "O" or "C" of frame id at time at. */
static void add_oc(struct speedscope *c, char type, frame_id_t id, uint64_t at, bool *first)
{
	strbuf_addf(&c->sb, "%s{\"type\":\"%c\",\"frame\":%u,\"at\":%llu}", *first ? "" : ",",
		    type, shared_frame(c, id), (unsigned long long)at);
	*first = false;
}

/*
 * --wall: one "evented" profile of a thread from its timeline, events
 * order[begin, end) in time order: speedscope's time-order view then shows
 * when the thread ran what and waited on what. A frame opens when an event
 * whose path holds it starts and closes when one without it starts, or at
 * a gap (time not on record) or the end. An event that starts before the
 * one before it ended cuts that one short (the recorder makes none).
 */
static void add_evented(struct speedscope *c, const char *name, const uint32_t *order,
			size_t begin, size_t end)
{
	const struct profile *p = c->p;
	frame_id_t open[TREE_MAX_PATH];
	uint32_t nr_open = 0;
	uint64_t at = 0, last_end = 0;
	bool first = true;

	strbuf_addstr(&c->sb, "\"type\":\"evented\",\"name\":");
	strbuf_add_json_str(&c->sb, name);
	strbuf_addstr(&c->sb, ",\"unit\":\"nanoseconds\",\"startValue\":0,\"events\":[");
	for (size_t k = begin; k < end; k++) {
		const struct prof_event *e = &p->events[order[k]];
		struct sample_rec s = { .stack = e->stack, .thread = e->thread,
					.count = e->weight };
		uint32_t n = report_sample_path(p, &c->flat, &c->rules, &s, c->path,
						ARRAY_SIZE(c->path));
		uint64_t start = e->t_ns > at ? e->t_ns : at, common = 0;

		if (start > last_end)
			while (nr_open)
				add_oc(c, 'C', open[--nr_open], last_end, &first);
		while (common < n && common < nr_open && open[common] == c->path[common])
			common++;
		while (nr_open > common)
			add_oc(c, 'C', open[--nr_open], start, &first);
		for (; nr_open < n; nr_open++) {
			open[nr_open] = c->path[nr_open];
			add_oc(c, 'O', open[nr_open], start, &first);
		}
		at = start;
		if (e->t_ns + e->weight > last_end)
			last_end = e->t_ns + e->weight;
		if (last_end < start)
			last_end = start;
		c->err = c->err ?: strbuf_flush(&c->sb, c->out, SPEEDSCOPE_FLUSH_BYTES);
	}
	while (nr_open)
		add_oc(c, 'C', open[--nr_open], last_end, &first);
	if (last_end < p->meta.duration_ns)
		last_end = p->meta.duration_ns;
	strbuf_addf(&c->sb, "],\"endValue\":%llu}", (unsigned long long)last_end);
}

/* The threads of the program of thread tt[first] (which has samples), from
 * tt[first] on, as ranges. Returns how many. */
static size_t program_ranges(const struct profile *p, const struct thread_total *tt, size_t first,
			     const struct range *of, struct range *out)
{
	frame_id_t prog = p->threads[tt[first].thread].prog_frame;
	size_t nr = 0;

	for (size_t ti = first; ti < p->nr_threads; ti++)
		if (tt[ti].total && p->threads[tt[ti].thread].prog_frame == prog)
			out[nr++] = of[tt[ti].thread];
	return nr;
}

/* A profile per thread with samples, hottest first, each from its records
 * in the saved profile's order (grouped by thread, so each is one range);
 * or per program where the view groups its processes, at its hottest
 * thread's place. */
static void add_profiles(struct speedscope *c, const struct view_opts *view)
{
	const struct profile *p = c->p;
	struct thread_total *tt = threads_by_total(p);
	uint32_t *order = store_samples_by_thread(p);
	struct range *of = xcalloc(p->nr_threads + 1, sizeof(*of));
	struct range *group = xcalloc(p->nr_threads + 1, sizeof(*group));
	struct u64map programs = { 0 }, done = { 0 };
	struct strbuf name = STRBUF_INIT;
	/* --wall with a timeline: a profile per thread, in time order. */
	bool timeline = p->meta.wall && p->nr_events;
	uint32_t *ev = timeline ? store_events_in_order(p) : NULL;
	struct range *ev_of = xcalloc(p->nr_threads + 1, sizeof(*ev_of));
	uint32_t v;

	if (view->by_process && view->by_program && !timeline)
		tree_count_programs(p, view, &programs);
	for (size_t i = 0; i < (timeline ? p->nr_events : 0); i++) {
		uint32_t t = p->events[ev[i]].thread;

		if (!i || p->events[ev[i - 1]].thread != t)
			ev_of[t].begin = i;
		ev_of[t].end = i + 1;
	}
	for (size_t i = 0; i < p->nr_samples; i++) {
		uint32_t t = p->samples[order[i]].thread;

		if (!i || p->samples[order[i - 1]].thread != t)
			of[t].begin = i;
		of[t].end = i + 1;
	}
	for (size_t ti = 0, nr = 0; ti < p->nr_threads; ti++) {
		const struct thread *th = &p->threads[tt[ti].thread];
		size_t n = 1;

		if (!tt[ti].total || u64map_get(&done, th->prog_frame, &v))
			continue;
		strbuf_reset(&name);
		if (u64map_get(&programs, th->prog_frame, &v)) {
			u64map_put(&done, th->prog_frame, 1);
			n = program_ranges(p, tt, ti, of, group);
			tree_program_label(p, &programs, th->prog_frame, &name);
		} else {
			group[0] = of[tt[ti].thread];
			strbuf_addf(&name, "%s [%u] / %s [%u]", th->process, th->pid, th->comm,
				    th->tid);
		}
		strbuf_addstr(&c->sb, nr++ ? ",\n{" : "\n{");
		if (ev_of[tt[ti].thread].end)
			add_evented(c, name.buf, ev, ev_of[tt[ti].thread].begin,
				    ev_of[tt[ti].thread].end);
		else
			add_profile(c, name.buf, order, group, n);
	}
	free(ev);
	free(ev_of);
	strbuf_release(&name);
	u64map_free(&programs);
	u64map_free(&done);
	free(group);
	free(of);
	free(order);
	free(tt);
}

int report_speedscope(const struct profile *p, const struct report_opts *o, FILE *out)
{
	struct speedscope c = { .p = p, .flat = *o, .sb = STRBUF_INIT, .frames = STRBUF_INIT,
				.cache = STRBUF_INIT, .out = out };

	c.flat.view.by_process = c.flat.view.by_thread = c.flat.view.invert = false;
	/* ns per count: --wall counts are ns already */
	c.period = p->meta.wall ? 1 : p->meta.freq_hz ? 1000000000ull / p->meta.freq_hz : 1;
	c.shared = xmalloc((p->nr_frames + 1) * sizeof(*c.shared));
	c.cache_off = xmalloc((p->nr_stacks + 1) * sizeof(*c.cache_off));
	for (size_t i = 0; i <= p->nr_frames; i++)
		c.shared[i] = UINT32_MAX;
	for (size_t i = 0; i <= p->nr_stacks; i++)
		c.cache_off[i] = SIZE_MAX;
	report_collapse_rules(p, o, true, &c.rules);

	strbuf_addstr(&c.sb, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
			     "\"exporter\":\"sampletop\",\"name\":");
	strbuf_add_json_str(&c.sb, p->meta.target ? p->meta.target : "sampletop");
	strbuf_addstr(&c.sb, ",\"activeProfileIndex\":0,\"profiles\":[");
	add_profiles(&c, &o->view);
	strbuf_addstr(&c.sb, "],\n\"shared\":{\"frames\":[");
	strbuf_add(&c.sb, c.frames.buf, c.frames.len);
	strbuf_addstr(&c.sb, "]}}\n");
	c.err = c.err ?: strbuf_flush(&c.sb, out, 0);

	collapse_rules_release(&c.rules);
	strbuf_release(&c.sb);
	strbuf_release(&c.frames);
	strbuf_release(&c.cache);
	free(c.cache_off);
	free(c.shared);
	return c.err;
}

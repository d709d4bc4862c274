/*
 * Writing the saved profile (the JSON report): every frame, thread, stack and
 * sample count with the recording's settings, counters and host, in id order
 * so that loading it (read.c) rebuilds the same profile. View options do not
 * apply: it always holds everything. Every name comes from format.h.
 */
#include "store/store.h"
#include "store/format.h"
#include "model/calls.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Flush the buffer to the stream every so often to bound memory. */
#define WRITE_FLUSH_BYTES (1 << 20)
/* "stack:count" pairs per "counts" string: long strings load fast, and
 * breaking them keeps the file workable in an editor. */
#define WRITE_COUNTS_PER_LINE 64

/* Separators: fields of the top-level object, of "meta", of its "counters",
 * and the entries of the four tables (one a line). */
#define NEXT_TOP ",\n  "
#define NEXT_META ",\n    "
#define NEXT_ENTRY ",\n    "
#define FIRST_ENTRY "\n    "

struct writer {
	const struct profile *p;
	struct strbuf sb;
	FILE *out;
	int err;
	uint32_t *fmap;		/* frame id -> index in the file */
};

static void flush(struct writer *w, size_t limit)
{
	w->err = w->err ?: strbuf_flush(&w->sb, w->out, limit);
}

/* sep, then "key": */
static void add_key(struct strbuf *sb, const char *sep, const char *key)
{
	strbuf_addstr(sb, sep);
	strbuf_add_json_str(sb, key);
	strbuf_addstr(sb, ": ");
}

/* A string JSON can carry is written as one; other bytes as {"bytes": hex}. */
static void add_str(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (!s) {
		strbuf_addstr(sb, "null");
		return;
	}
	if (store_utf8_valid(s)) {
		strbuf_add_json_str(sb, s);
		return;
	}
	add_key(sb, "{", STORE_K_BYTES);
	strbuf_addch(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		strbuf_addch(sb, hex[*p >> 4]);
		strbuf_addch(sb, hex[*p & 15]);
	}
	strbuf_addstr(sb, "\"}");
}

static void add_str_field(struct strbuf *sb, const char *sep, const char *key, const char *s)
{
	add_key(sb, sep, key);
	add_str(sb, s);
}

static void add_u64_field(struct strbuf *sb, const char *sep, const char *key, uint64_t v)
{
	add_key(sb, sep, key);
	strbuf_add_u64(sb, v);
}

/* Only the counters that counted: absent means 0, so adding a counter
 * changes no file that does not use it. */
static void add_counters(struct strbuf *sb, const struct profile_meta *m)
{
	add_key(sb, NEXT_META, STORE_K_COUNTERS);
	strbuf_addch(sb, '{');
	for (int i = 0, n = 0; i < PC_NR; i++)
		if (m->counters[i])
			add_u64_field(sb, n++ ? ",\n      " : "\n      ", store_counter_key(i),
				      m->counters[i]);
	strbuf_addstr(sb, "\n    }");
}

static void add_meta(struct strbuf *sb, const struct profile_meta *m)
{
	add_key(sb, NEXT_TOP, STORE_K_META);
	add_str_field(sb, "{\n    ", STORE_K_TARGET, m->target);
	add_str_field(sb, NEXT_META, STORE_K_COMMAND, m->command);
	add_str_field(sb, NEXT_META, STORE_K_HOSTNAME, m->hostname);
	add_str_field(sb, NEXT_META, STORE_K_KERNEL, m->kernel);
	add_u64_field(sb, NEXT_META, STORE_K_START_WALL_NS, m->start_wall_ns);
	add_u64_field(sb, NEXT_META, STORE_K_DURATION_NS, m->duration_ns);
	add_u64_field(sb, NEXT_META, STORE_K_FREQ_HZ, m->freq_hz);
	add_u64_field(sb, NEXT_META, STORE_K_NCPUS, m->ncpus);
	add_key(sb, NEXT_META, STORE_K_KERNEL_STACKS);
	strbuf_addstr(sb, m->kernel_stacks ? "true" : "false");
	add_key(sb, NEXT_META, STORE_K_WALL);
	strbuf_addstr(sb, m->wall ? "true" : "false");
	add_key(sb, NEXT_META, STORE_K_EXIT_STATUS);
	strbuf_addf(sb, "%d", m->exit_status);
	add_str_field(sb, NEXT_META, STORE_K_NOTE, m->note);
	add_counters(sb, m);
	strbuf_addstr(sb, "\n  }");
}

static void add_flags(struct strbuf *sb, unsigned flags)
{
	const char *sep = "";

	add_key(sb, ", ", STORE_K_FLAGS);
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < store_nr_flags; i++) {
		if (!(flags & store_flags[i].flag))
			continue;
		strbuf_addstr(sb, sep);
		strbuf_add_json_str(sb, store_flags[i].name);
		sep = ", ";
	}
	strbuf_addch(sb, ']');
}

static void add_frame(struct strbuf *sb, const struct frame *f)
{
	add_str_field(sb, "{", STORE_K_NAME, f->name);
	add_str_field(sb, ", ", STORE_K_MODULE, f->module);
	add_key(sb, ", ", STORE_K_ADDR);
	strbuf_addf(sb, "\"0x%" PRIx64 "\"", f->addr);
	add_key(sb, ", ", STORE_K_KIND);
	strbuf_add_json_str(sb, store_kind_name(f->kind));
	if (f->file)
		add_str_field(sb, ", ", STORE_K_FILE, f->file);
	if (f->line)
		add_u64_field(sb, ", ", STORE_K_LINE, f->line);
	if (f->flags)
		add_flags(sb, f->flags);
	strbuf_addch(sb, '}');
}

/* Numbered anew without the slots freed by merging exited threads and the
 * program frames (views make them from the threads). */
static void write_frames(struct writer *w)
{
	const struct profile *p = w->p;

	add_key(&w->sb, NEXT_TOP, STORE_K_FRAMES);
	strbuf_addch(&w->sb, '[');
	for (size_t i = 0, n = 0; i < p->nr_frames; i++) {
		if (profile_frame_is_view_only(p, i))
			continue;
		w->fmap[i] = n;
		strbuf_addstr(&w->sb, n++ ? NEXT_ENTRY : FIRST_ENTRY);
		add_frame(&w->sb, &p->frames[i]);
		flush(w, WRITE_FLUSH_BYTES);
	}
	strbuf_addstr(&w->sb, "\n  ]");
}

static void write_threads(struct writer *w)
{
	const struct profile *p = w->p;
	struct strbuf *sb = &w->sb;

	add_key(sb, NEXT_TOP, STORE_K_THREADS);
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < p->nr_threads; i++) {
		const struct thread *t = &p->threads[i];

		add_u64_field(sb, i ? NEXT_ENTRY "{" : FIRST_ENTRY "{", STORE_K_PID, t->pid);
		add_u64_field(sb, ", ", STORE_K_TID, t->tid);
		add_str_field(sb, ", ", STORE_K_COMM, t->comm);
		add_str_field(sb, ", ", STORE_K_PROCESS, t->process);
		/* Every exited thread of this name, merged (profile_coalesce_exited). */
		if (t->flags & THREAD_F_EXITED) {
			add_key(sb, ", ", STORE_K_EXITED);
			strbuf_addstr(sb, "true");
		}
		strbuf_addch(sb, '}');
	}
	strbuf_addstr(sb, "\n  ]");
}

/* Stacks and samples are strings of numbers: as readable as arrays, and far
 * faster to load (one JSON value each, not one per number). */
static void write_stacks(struct writer *w)
{
	const struct profile *p = w->p;
	struct strbuf *sb = &w->sb;

	add_key(sb, NEXT_TOP, STORE_K_STACKS);
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < p->nr_stacks; i++) {
		const frame_id_t *fr = profile_stack_frames(p, i);

		strbuf_addstr(sb, i ? NEXT_ENTRY "\"" : FIRST_ENTRY "\"");
		for (uint32_t k = 0; k < p->stacks[i].nr; k++) {
			if (k)
				strbuf_addch(sb, ' ');
			strbuf_add_u64(sb, w->fmap[fr[k]]);
		}
		strbuf_addch(sb, '"');
		flush(w, WRITE_FLUSH_BYTES);
	}
	strbuf_addstr(sb, "\n  ]");
}

/* Record i of a per-thread table (samples, timeline), one entry per thread
 * and every so many records: {"thread": T, key: "rec rec ..."}. Before the
 * record: opens an entry or adds a space. */
static void record_begin(struct strbuf *sb, size_t i, size_t in_line, uint32_t thread,
			 const char *key)
{
	if (in_line) {
		strbuf_addch(sb, ' ');
		return;
	}
	add_u64_field(sb, i ? NEXT_ENTRY "{" : FIRST_ENTRY "{", STORE_K_THREAD, thread);
	add_key(sb, ", ", key);
	strbuf_addch(sb, '"');
}

/* After it: closes the entry when full or at the thread's last record
 * (last); returns the records now in the open entry. */
static size_t record_end(struct writer *w, size_t in_line, bool last)
{
	if (++in_line == WRITE_COUNTS_PER_LINE || last) {
		strbuf_addstr(&w->sb, "\"}");
		in_line = 0;
	}
	flush(w, WRITE_FLUSH_BYTES);
	return in_line;
}

/* {"thread": T, "events": "t_ns:weight:stack:call ..."}, each thread's in
 * time order (store_events_in_order), so a loaded copy writes the same. */
static void write_timeline(struct writer *w)
{
	const struct profile *p = w->p;
	struct strbuf *sb = &w->sb;
	uint32_t *order = store_events_in_order(p);

	add_key(sb, NEXT_TOP, STORE_K_TIMELINE);
	strbuf_addch(sb, '[');
	for (size_t i = 0, in_line = 0; i < p->nr_events; i++) {
		const struct prof_event *e = &p->events[order[i]];

		record_begin(sb, i, in_line, e->thread, STORE_K_EVENTS);
		strbuf_addf(sb, "%" PRIu64 ":%" PRIu64 ":%" PRIu32 ":%" PRIu64, e->t_ns, e->weight,
			    e->stack, e->call);
		in_line = record_end(w, in_line, i + 1 == p->nr_events ||
					 p->events[order[i + 1]].thread != e->thread);
	}
	strbuf_addstr(sb, "\n  ]");
	free(order);
}

/* {"thread": T, "counts": "s:c s:c"} */
static void write_samples(struct writer *w)
{
	const struct profile *p = w->p;
	struct strbuf *sb = &w->sb;
	uint32_t *order = store_samples_by_thread(p);

	add_key(sb, NEXT_TOP, STORE_K_SAMPLES);
	strbuf_addch(sb, '[');
	for (size_t i = 0, in_line = 0; i < p->nr_samples; i++) {
		const struct sample_rec *s = &p->samples[order[i]];

		record_begin(sb, i, in_line, s->thread, STORE_K_COUNTS);
		strbuf_add_u64(sb, s->stack);
		strbuf_addch(sb, ':');
		strbuf_add_u64(sb, s->count);
		in_line = record_end(w, in_line, i + 1 == p->nr_samples ||
					 p->samples[order[i + 1]].thread != s->thread);
	}
	strbuf_addstr(sb, "\n  ]");
	free(order);
}

/* A string of numbers, like "stacks": "1 2 3". */
static void add_numbers(struct writer *w, const char *sep, const char *key, const uint64_t *v,
			size_t n)
{
	add_key(&w->sb, sep, key);
	strbuf_addch(&w->sb, '"');
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_addch(&w->sb, ' ');
		strbuf_add_u64(&w->sb, v[i]);
		flush(w, WRITE_FLUSH_BYTES);
	}
	strbuf_addch(&w->sb, '"');
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted: their order means nothing, and a profile saved before and after
 * its percentiles were read (which sorts them) gives the same bytes. */
static void add_durations(struct writer *w, const struct calls_fn *f)
{
	uint64_t *d = f->durs;

	if (!f->sorted && f->nr_durs) {
		d = xmalloc(f->nr_durs * sizeof(*d));
		memcpy(d, f->durs, f->nr_durs * sizeof(*d));
		qsort(d, f->nr_durs, sizeof(*d), cmp_u64);
	}
	add_numbers(w, ",\n      ", STORE_K_DURATIONS, d, f->nr_durs);
	if (d != f->durs)
		free(d);
}

static void write_call(struct writer *w, const struct call *c, bool first)
{
	struct strbuf *sb = &w->sb;

	add_u64_field(sb, first ? "\n        {" : ",\n        {", STORE_K_NUMBER, c->number);
	add_u64_field(sb, ", ", STORE_K_ID, c->id);
	add_u64_field(sb, ", ", STORE_K_PID, c->pid);
	add_u64_field(sb, ", ", STORE_K_TID, c->tid);
	add_str_field(sb, ", ", STORE_K_COMM, c->comm);
	add_str_field(sb, ", ", STORE_K_PROCESS, c->process);
	add_u64_field(sb, ", ", STORE_K_BEGIN_NS, c->begin_ns);
	add_u64_field(sb, ", ", STORE_K_END_NS, c->end_ns);
	add_u64_field(sb, ", ", STORE_K_DROPPED_WEIGHT, c->dropped_weight);
	add_key(sb, ", ", STORE_K_COUNTS);
	strbuf_addch(sb, '"');
	for (size_t i = 0; i < c->nr_recs; i++) {
		if (i)
			strbuf_addch(sb, ' ');
		strbuf_add_u64(sb, c->recs[i].stack);	/* stacks are written in id order */
		strbuf_addch(sb, ':');
		strbuf_add_u64(sb, c->recs[i].weight);
		flush(w, WRITE_FLUSH_BYTES);
	}
	strbuf_addstr(sb, "\"}");
}

/* --scope: per function its durations and its slowest calls (format.h). */
static void write_calls(struct writer *w)
{
	const struct calls *c = w->p->calls;
	struct strbuf *sb = &w->sb;

	if (!c)
		return;
	add_key(sb, NEXT_TOP, STORE_K_CALLS);
	add_u64_field(sb, "{", STORE_K_KEEP, c->keep);
	add_u64_field(sb, ", ", STORE_K_LOST_BEGIN, c->lost_begin);
	add_key(sb, ", ", STORE_K_FUNCTIONS);
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < c->nr_fns; i++) {
		const struct calls_fn *f = &c->fns[i];

		add_str_field(sb, i ? NEXT_ENTRY "{" : FIRST_ENTRY "{", STORE_K_NAME, f->name);
		add_key(sb, ", ", STORE_K_PYTHON);
		strbuf_addstr(sb, f->python ? "true" : "false");
		add_u64_field(sb, ", ", STORE_K_COUNT, f->count);
		add_u64_field(sb, ", ", STORE_K_TOTAL_NS, f->total_ns);
		add_u64_field(sb, ", ", STORE_K_MAX_NS, f->max_ns);
		add_u64_field(sb, ", ", STORE_K_DURATIONS_DROPPED, f->durations_dropped);
		add_numbers(w, ", ", STORE_K_HISTOGRAM, f->hist, CALLS_HIST_BINS);
		add_durations(w, f);
		add_key(sb, ",\n      ", STORE_K_SLOWEST);
		strbuf_addch(sb, '[');
		for (size_t k = 0; k < f->nr_slowest; k++)
			write_call(w, f->slowest[k], k == 0);
		strbuf_addstr(sb, "]}");
		flush(w, WRITE_FLUSH_BYTES);
	}
	strbuf_addstr(sb, "\n  ]}");
}

int store_write(const struct profile *p, FILE *out)
{
	struct writer w = { .p = p, .sb = STRBUF_INIT, .out = out };

	w.fmap = xmalloc((p->nr_frames + 1) * sizeof(*w.fmap));
	add_key(&w.sb, "{\n  ", STORE_K_FORMAT);
	strbuf_add_json_str(&w.sb, STORE_FORMAT);
	add_u64_field(&w.sb, NEXT_TOP, STORE_K_VERSION, STORE_VERSION);
	add_meta(&w.sb, &p->meta);
	add_u64_field(&w.sb, NEXT_TOP, STORE_K_TOTAL, p->total);
	write_frames(&w);
	write_threads(&w);
	write_stacks(&w);
	/* Only a profile that keeps a timeline has one (version 1 files had none). */
	if (p->keep_events)
		write_timeline(&w);
	write_samples(&w);
	write_calls(&w);
	strbuf_addstr(&w.sb, "\n}\n");
	flush(&w, 0);
	strbuf_release(&w.sb);
	free(w.fmap);
	return w.err;
}

uint32_t *store_samples_by_thread(const struct profile *p)
{
	uint32_t *order = xmalloc((p->nr_samples + 1) * sizeof(*order));
	uint32_t *rank = xmalloc((p->nr_threads + 1) * sizeof(*rank));
	size_t *start = xcalloc(p->nr_threads + 2, sizeof(*start));
	uint32_t nr_ranked = 0;

	for (size_t t = 0; t < p->nr_threads; t++)
		rank[t] = UINT32_MAX;
	for (size_t i = 0; i < p->nr_samples; i++) {
		uint32_t t = p->samples[i].thread;

		if (rank[t] == UINT32_MAX)
			rank[t] = nr_ranked++;
		start[rank[t] + 1]++;
	}
	for (uint32_t r = 0; r < nr_ranked; r++)
		start[r + 1] += start[r];
	for (size_t i = 0; i < p->nr_samples; i++)
		order[start[rank[p->samples[i].thread]]++] = i;
	free(rank);
	free(start);
	return order;
}

static int cmp_event(const void *a, const void *b, void *ctx)
{
	const struct profile *p = ctx;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct prof_event *x = &p->events[i], *y = &p->events[j];

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	return i < j ? -1 : i > j;
}

uint32_t *store_events_in_order(const struct profile *p)
{
	uint32_t *order = xmalloc((p->nr_events + 1) * sizeof(*order));

	for (size_t i = 0; i < p->nr_events; i++)
		order[i] = i;
	if (p->nr_events)
		qsort_r(order, p->nr_events, sizeof(*order), cmp_event, (void *)p);
	return order;
}

/*
 * Comparing two saved profiles ("before" A and "after" B). Both are merged
 * into one call tree whose frames are matched by name, module file name
 * and kind (not by id, address or line, which change when code is rebuilt); each node holds B's count (total/self)
 * and A's (base). Shares of each profile's own total are compared, so
 * profiles of different lengths compare fairly. Two --wall profiles compare
 * shares of wall-clock time; a --wall profile with a CPU one compares CPU
 * time only (the off-CPU samples are left out of the wall one). Text: the
 * functions whose share grew or shrank; HTML: a differential flame graph.
 */
#include "report/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct merged {
	struct profile *c;	/* frames of A and B, interned together */
	struct tree t;		/* counts of B */
	uint64_t *base;		/* per node: A's total */
	size_t alloc_base;
	uint64_t *base_self;
	size_t alloc_base_self;
	struct u64map index;	/* (parent << 32 | frame) -> node */
};

static frame_id_t *map_frames(struct profile *c, const struct profile *src)
{
	frame_id_t *map = xmalloc((src->nr_frames + 1) * sizeof(*map));

	/* A function keeps its name and library across rebuilds, not its
	 * address, line or build path: match on what survives. */
	for (size_t i = 0; i < src->nr_frames; i++) {
		const struct frame *f = &src->frames[i];
		struct frame g = { .name = f->name, .module = module_basename(f->module),
				   .kind = f->kind, .flags = f->flags & FRAME_F_INLINED };

		map[i] = profile_frame(c, &g);
	}
	return map;
}

static uint32_t child(struct merged *m, uint32_t parent, frame_id_t f)
{
	struct tree *t = &m->t;
	uint64_t key = (uint64_t)parent << 32 | f;
	uint32_t id;

	if (u64map_get(&m->index, key, &id))
		return id;
	XGROW(t->nodes, t->alloc, t->nr + 1);
	XGROW(m->base, m->alloc_base, t->nr + 1);
	XGROW(m->base_self, m->alloc_base_self, t->nr + 1);
	id = t->nr++;
	t->nodes[id] = (struct tree_node){ f, parent, NODE_NONE, t->nodes[parent].first_child,
					   t->nodes[parent].depth + 1, 0, 0, 0 };
	m->base[id] = m->base_self[id] = 0;
	t->nodes[parent].first_child = id;
	t->nodes[parent].nr_children++;
	u64map_put(&m->index, key, id);
	return id;
}

/* cpu_only: leave out the off-CPU time of a --wall profile compared with a
 * CPU profile, so that both sides are shares of CPU time. */
static void add_profile(struct merged *m, const struct profile *src, const struct view_opts *o,
			bool is_base, bool cpu_only)
{
	frame_id_t *map = map_frames(m->c, src), path[TREE_MAX_PATH];
	uint32_t top = (o->by_process ? 1 : 0) + (o->by_thread ? 1 : 0);

	if (o->focus)
		top = 0;
	for (size_t i = 0; i < src->nr_samples; i++) {
		const struct sample_rec *s = &src->samples[i];
		bool kept = view_keeps_sample(src, o, s);
		uint32_t n = kept ? tree_sample_path(src, o, s, path, ARRAY_SIZE(path)) : 0;
		uint32_t node = 0;

		/* The tree's rules: a sample left out there is not counted here. */
		if (!kept || (!n && (o->filter || o->focus)) ||
		    (cpu_only && profile_stack_offcpu(src, s->stack)))
			continue;
		if (o->invert)
			for (uint32_t a = top, b = n; a + 1 < b; a++, b--) {
				frame_id_t tmp = path[a];

				path[a] = path[b - 1];
				path[b - 1] = tmp;
			}
		(is_base ? m->base : &m->t.nodes[0].total)[0] += s->count;
		for (uint32_t k = 0; k < n; k++) {
			node = child(m, node, map[path[k]]);
			if (is_base)
				m->base[node] += s->count;
			else
				m->t.nodes[node].total += s->count;
		}
		if (is_base)
			m->base_self[node] += s->count;
		else
			m->t.nodes[node].self += s->count;
	}
	free(map);
}

/* Hottest first, by the larger of the two shares, so that what vanished
 * sorts where it used to be. */
static int cmp_share(const void *a, const void *b, void *ctx)
{
	const struct merged *m = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	double ta = m->t.nodes[0].total ? 1.0 / m->t.nodes[0].total : 0;
	double ba = m->base[0] ? 1.0 / m->base[0] : 0;
	double sx = fmax(m->t.nodes[x].total * ta, m->base[x] * ba);
	double sy = fmax(m->t.nodes[y].total * ta, m->base[y] * ba);

	if (sx != sy)
		return sx < sy ? 1 : -1;
	return x < y ? -1 : x > y;
}

static void merge(struct merged *m, const struct profile *a, const struct profile *b,
		  const struct view_opts *o)
{
	memset(m, 0, sizeof(*m));
	m->c = profile_new();
	m->c->meta.freq_hz = b->meta.freq_hz;
	m->c->meta.wall = b->meta.wall;
	m->t.prof = m->c;
	XGROW(m->t.nodes, m->t.alloc, 1);
	XGROW(m->base, m->alloc_base, 1);
	XGROW(m->base_self, m->alloc_base_self, 1);
	m->t.nodes[0] = (struct tree_node){ FRAME_NONE, NODE_NONE, NODE_NONE, NODE_NONE, 0, 0, 0, 0 };
	m->base[0] = m->base_self[0] = 0;
	m->t.nr = 1;
	add_profile(m, a, o, true, a->meta.wall != b->meta.wall);
	add_profile(m, b, o, false, a->meta.wall != b->meta.wall);
	m->t.total = m->t.nodes[0].total;
	tree_sort_children(&m->t, cmp_share, m);
}

static void merged_release(struct merged *m)
{
	free(m->t.nodes);
	free(m->base);
	free(m->base_self);
	u64map_free(&m->index);
	profile_free(m->c);
}

/* Per function (name and module): share of samples in which it appears
 * (total) and in which it is the leaf (self), before and after. */
struct fn_row {
	const char *name, *module;
	uint64_t total[2], self[2];
	double t[2], s[2];	/* shares in percent */
	double d_total, d_self;
};

struct fn_key {
	const char *name, *module;
};

static int fn_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct fn_row *rows = *(const struct fn_row *const *)ctx;
	const struct fn_key *k = key;

	return rows[id].name == k->name && rows[id].module == k->module;
}

struct fn_table {
	struct fn_row *rows;
	size_t nr, alloc;
	struct idx_table index;
};

static struct fn_row *fn_get(struct fn_table *ft, const struct frame *f)
{
	struct fn_key k = { f->name, f->module };
	uint64_t h = hash_bytes(&k, sizeof(k), HASH_SEED);
	uint32_t id = idx_find(&ft->index, h, fn_eq, &k, &ft->rows);

	if (id == IDX_NONE) {
		XGROW(ft->rows, ft->alloc, ft->nr + 1);
		id = ft->nr++;
		ft->rows[id] = (struct fn_row){ .name = f->name, .module = f->module };
		idx_insert(&ft->index, h, id);
	}
	return &ft->rows[id];
}

/* Walks the merged tree: each root-to-node path is a set of samples. */
static void fn_walk(struct fn_table *ft, const struct merged *m, uint32_t n, uint32_t *stack,
		    uint32_t depth)
{
	const struct tree *t = &m->t;
	uint64_t self[2] = { m->base_self[n], t->nodes[n].self };

	if (n) {
		struct fn_row *r = fn_get(ft, tree_frame(t, n));

		r->self[0] += self[0];
		r->self[1] += self[1];
		/* Count a recursive function once per sample: only at its
		 * outermost node on this path. */
		bool outer = true;

		for (uint32_t i = 0; i < depth; i++)
			if (stack[i] == (uint32_t)(r - ft->rows))
				outer = false;
		if (outer) {
			r->total[0] += m->base[n];
			r->total[1] += t->nodes[n].total;
		}
		stack[depth++] = r - ft->rows;
	}
	for (uint32_t c = tree_first(t, n); c != NODE_NONE; c = tree_next(t, c))
		fn_walk(ft, m, c, stack, depth);
}

static int cmp_change(const void *a, const void *b)
{
	const struct fn_row *x = a, *y = b;

	if (x->d_total != y->d_total)
		return x->d_total < y->d_total ? 1 : -1;
	if (x->d_self != y->d_self)
		return x->d_self < y->d_self ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void add_summary(struct strbuf *sb, const char *label, const char *file,
			const struct profile *p)
{
	strbuf_addf(sb, "%s ", label);
	strbuf_add_escaped(sb, file);
	strbuf_addstr(sb, ": ");
	strbuf_add_escaped(sb, p->meta.target ? p->meta.target : "?");
	if (p->meta.wall)
		strbuf_addf(sb, "; %.3f s wall-clock, %.3f s CPU, %.3f s, lost %llu\n",
			    profile_seconds(p, p->total), profile_seconds(p, profile_cpu_weight(p)),
			    p->meta.duration_ns / 1e9, (unsigned long long)profile_lost_samples(p));
	else
		strbuf_addf(sb, "; %llu samples, %.3f s CPU, %.3f s, lost %llu\n",
			    (unsigned long long)p->total, profile_seconds(p, p->total),
			    p->meta.duration_ns / 1e9, (unsigned long long)profile_lost_samples(p));
}

/* What the shares are of: samples, wall-clock time (two --wall profiles),
 * or CPU time (one of each: the --wall one without its off-CPU time). */
static const char *share_of(const struct profile *a, const struct profile *b)
{
	if (a->meta.wall != b->meta.wall)
		return "CPU time (one is a --wall profile: its time off the CPU is left out)";
	return a->meta.wall ? "wall-clock time" : "samples";
}

static void add_row(struct strbuf *sb, const struct fn_row *r)
{
	strbuf_addf(sb, "%6.1f%% %6.1f%% %+6.1f   %6.1f%% %6.1f%% %+6.1f   ", r->t[0], r->t[1],
		    r->d_total, r->s[0], r->s[1], r->d_self);
	strbuf_add_escaped(sb, r->name);
	if (r->module[0]) {
		strbuf_addstr(sb, "  ");
		strbuf_add_escaped(sb, module_basename(r->module));
	}
	strbuf_addch(sb, '\n');
}

/* Rows whose total or self share changed by at least min points, grown
 * ones from the top of the sorted table, shrunk ones from the bottom. */
static void add_rows(struct strbuf *sb, const struct fn_row *rows, size_t nr, bool grew, double min)
{
	size_t shown = 0;

	strbuf_addstr(sb, grew ? "\nGrew:\n" : "\nShrank:\n");
	for (size_t k = 0; k < nr; k++) {
		const struct fn_row *r = &rows[grew ? k : nr - 1 - k];
		bool up = r->d_total > 0 || (r->d_total == 0 && r->d_self > 0);

		if (up != grew || fmax(fabs(r->d_total), fabs(r->d_self)) < min)
			continue;
		add_row(sb, r);
		shown++;
	}
	if (!shown)
		strbuf_addstr(sb, "  (nothing changed by more than the threshold)\n");
}

static int diff_text(const struct merged *m, const struct profile *a, const struct profile *b,
		     const char *name_a, const char *name_b, const struct report_opts *o, FILE *out)
{
	struct fn_table ft = { 0 };
	struct strbuf sb = STRBUF_INIT;
	uint32_t stack[TREE_MAX_PATH + 1];
	uint64_t tot[2] = { m->base[0], m->t.nodes[0].total };
	double min = o->min_percent;
	int err;

	fn_walk(&ft, m, 0, stack, 0);
	for (size_t i = 0; i < ft.nr; i++) {
		struct fn_row *r = &ft.rows[i];

		for (int k = 0; k < 2; k++) {
			r->t[k] = tot[k] ? 100.0 * r->total[k] / tot[k] : 0;
			r->s[k] = tot[k] ? 100.0 * r->self[k] / tot[k] : 0;
		}
		r->d_total = r->t[1] - r->t[0];
		r->d_self = r->s[1] - r->s[0];
	}
	qsort(ft.rows, ft.nr, sizeof(*ft.rows), cmp_change);

	strbuf_addstr(&sb, "sampletop diff\n");
	add_summary(&sb, "before:", name_a, a);
	add_summary(&sb, "after: ", name_b, b);
	strbuf_addf(&sb, "Shares of each profile's %s, in percent; changes in points; "
			 "rows that moved by %.1f points or more.\n",
		    share_of(a, b), min);
	strbuf_addstr(&sb, "\n  total: before   after  change    self: before   after  change   "
			   "function  module\n");
	add_rows(&sb, ft.rows, ft.nr, true, min);
	add_rows(&sb, ft.rows, ft.nr, false, min);
	err = strbuf_flush(&sb, out, 0);
	strbuf_release(&sb);
	free(ft.rows);
	idx_free(&ft.index);
	return err;
}

int report_diff(const struct profile *a, const struct profile *b, const char *name_a,
		const char *name_b, enum report_format fmt, const struct report_opts *o, FILE *out)
{
	struct merged m;
	int err;

	if (fmt != FMT_TEXT && fmt != FMT_HTML)
		return -ENOTSUP;
	merge(&m, a, b, &o->view);
	if (fmt == FMT_TEXT) {
		err = diff_text(&m, a, b, name_a, name_b, o, out);
	} else {
		struct strbuf title = STRBUF_INIT, header = STRBUF_INIT;

		strbuf_addf(&title, "sampletop diff: %s -> %s", name_a, name_b);
		add_summary(&header, "before:", name_a, a);
		add_summary(&header, "after: ", name_b, b);
		strbuf_addf(&header, "Shares of each profile's %s. Red: a larger share after; "
				     "blue: smaller. Widths are the after profile's.",
			    share_of(a, b));
		err = report_html_tree(m.c, &m.t, m.base, m.base[0], title.buf, header.buf, o, out);
		strbuf_release(&title);
		strbuf_release(&header);
	}
	merged_release(&m);
	return err;
}

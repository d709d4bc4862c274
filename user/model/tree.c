/* Building call trees from a profile's aggregated stacks. */
#include "model/tree.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

bool frame_matches(const struct frame *f, const char *glob)
{
	return glob_match(glob, f->name) ||
	       (f->module[0] && (glob_match(glob, module_basename(f->module)) ||
				 glob_match(glob, f->module))) ||
	       (f->file && glob_match(glob, f->file));
}

struct child_key {
	uint32_t parent;
	frame_id_t frame;
};

static int child_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct tree *t = ctx;
	const struct child_key *k = key;

	return t->nodes[id].parent == k->parent && t->nodes[id].frame == k->frame;
}

static uint32_t child_of(struct tree *t, struct idx_table *index, uint32_t parent, frame_id_t frame)
{
	struct child_key k = { parent, frame };
	uint64_t h = hash_u64(((uint64_t)parent << 32) ^ frame);
	uint32_t id = idx_find(index, h, child_eq, &k, t);
	struct tree_node *n;

	if (id != IDX_NONE)
		return id;
	XGROW(t->nodes, t->alloc, t->nr + 1);
	id = t->nr++;
	n = &t->nodes[id];
	*n = (struct tree_node){ frame, parent, NODE_NONE, t->nodes[parent].first_child,
				 t->nodes[parent].depth + 1, 0, 0, 0 };
	t->nodes[parent].first_child = id;
	t->nodes[parent].nr_children++;
	idx_insert(index, h, id);
	return id;
}

static int cmp_total_desc(const void *a, const void *b, void *ctx)
{
	const struct tree_node *na = &((struct tree *)ctx)->nodes[*(const uint32_t *)a];
	const struct tree_node *nb = &((struct tree *)ctx)->nodes[*(const uint32_t *)b];

	if (na->total != nb->total)
		return na->total < nb->total ? 1 : -1;
	/* Stable, deterministic order for equal totals: by frame id. */
	return na->frame < nb->frame ? -1 : na->frame > nb->frame;
}

void tree_sort_children(struct tree *t, tree_node_cmp_fn cmp, void *ctx)
{
	uint32_t *buf = NULL;
	size_t alloc = 0;

	for (size_t n = 0; n < t->nr; n++) {
		uint32_t k = 0, c;

		if (t->nodes[n].nr_children < 2)
			continue;
		XGROW(buf, alloc, t->nodes[n].nr_children);
		for (c = t->nodes[n].first_child; c != NODE_NONE; c = t->nodes[c].next_sibling)
			buf[k++] = c;
		qsort_r(buf, k, sizeof(*buf), cmp, ctx);
		t->nodes[n].first_child = buf[0];
		for (uint32_t i = 0; i + 1 < k; i++)
			t->nodes[buf[i]].next_sibling = buf[i + 1];
		t->nodes[buf[k - 1]].next_sibling = NODE_NONE;
	}
	free(buf);
}

/* Copies the frames of one sample that the view keeps, root first, into path. */
uint32_t tree_sample_path(const struct profile *p, const struct view_opts *o,
			  const struct sample_rec *s, frame_id_t *path, uint32_t cap)
{
	const struct stack *st = &p->stacks[s->stack];
	const frame_id_t *fr = profile_stack_frames(p, s->stack);
	const struct thread *th = &p->threads[s->thread];
	uint32_t n = 0, start = 0;

	if (!o->show_idle && profile_stack_idle(p, s->stack))
		return 0;
	if (o->by_process && n < cap)
		path[n++] = o->by_program ? th->prog_frame : th->proc_frame;
	if (o->by_thread && n < cap)
		path[n++] = th->thread_frame;
	start = n;
	for (uint32_t i = 0; i < st->nr && n < cap; i++) {
		const struct frame *f = profile_get_frame(p, fr[i]);

		if (f->kind == FRAME_KERNEL ? !o->kernel : !o->user && f->kind != FRAME_SPECIAL)
			continue;
		path[n++] = fr[i];
	}
	if (o->filter) {
		uint32_t i;

		for (i = start; i < n; i++)
			if (frame_matches(profile_get_frame(p, path[i]), o->filter))
				break;
		if (i == n)
			return 0;
	}
	if (o->focus) {
		uint32_t i;

		for (i = start; i < n; i++)
			if (frame_matches(profile_get_frame(p, path[i]), o->focus))
				break;
		if (i == n)
			return 0;
		memmove(path, path + i, (n - i) * sizeof(*path));
		n -= i;
	}
	return n;
}

/* The node that a sample's own frames hang from: the root, or its process
 * and thread levels. */
static uint32_t sample_base(struct tree *t, struct idx_table *index, const struct view_opts *o,
			    const struct thread *th)
{
	uint32_t node = 0;

	/* --focus re-roots below the synthetic levels. */
	if (o->focus)
		return 0;
	if (o->by_process) {
		uint32_t v;

		if (o->by_program && u64map_get(&t->programs, th->prog_frame, &v))
			node = child_of(t, index, node, th->prog_frame);
		node = child_of(t, index, node, th->proc_frame);
	}
	if (o->by_thread)
		node = child_of(t, index, node, th->thread_frame);
	return node;
}

/* Filtered out? Decided by the stack alone, once per stack (kept caches it),
 * and asked before any process/thread level is made for the sample. */
static bool sample_kept(const struct profile *p, const struct view_opts *o,
			const struct sample_rec *s, struct u64map *kept, frame_id_t *path)
{
	uint32_t ok;

	if (!o->filter && !o->focus)
		return true;
	if (!u64map_get(kept, s->stack, &ok)) {
		ok = tree_sample_path(p, o, s, path, TREE_MAX_PATH) != 0;
		u64map_put(kept, s->stack, ok);
	}
	return ok;
}

/* The node for sample s's own frames below base (whose top levels are the
 * synthetic process/thread ones), made as needed; NODE_NONE if left out. */
static uint32_t sample_leaf(struct tree *t, struct idx_table *index, const struct view_opts *o,
			    const struct sample_rec *s, uint32_t base, frame_id_t *path)
{
	uint32_t n = tree_sample_path(t->prof, o, s, path, TREE_MAX_PATH), node = base;
	uint32_t top = o->focus ? 0 : (o->by_process ? 1 : 0) + (o->by_thread ? 1 : 0);

	if (n == 0 && (o->filter || o->focus))
		return NODE_NONE;
	if (!o->invert) {
		for (uint32_t k = top; k < n; k++)
			node = child_of(t, index, node, path[k]);
	} else {
		/* Synthetic process/thread levels stay on top when inverted. */
		for (uint32_t k = n; k > top; k--)
			node = child_of(t, index, node, path[k - 1]);
	}
	return node;
}

/* Totals bottom-up in one pass: a child's id is always above its parent's,
 * so every child is summed before its parent. */
static void sum_totals(struct tree *t)
{
	for (size_t n = t->nr - 1; n > 0; n--) {
		t->nodes[n].total += t->nodes[n].self;
		t->nodes[t->nodes[n].parent].total += t->nodes[n].total;
	}
	t->nodes[0].total += t->nodes[0].self;
	t->total = t->nodes[0].total;
}

/* Is sample s in the view at all? */
static bool sample_wanted(const struct profile *p, const struct view_opts *o,
			  const struct sample_rec *s, struct u64map *kept, frame_id_t *path)
{
	return view_keeps_sample(p, o, s) && sample_kept(p, o, s, kept, path);
}

/* Fills programs with those whose samples in the view come from two or
 * more processes (process frames); see tree_count_programs. */
static void count_programs(const struct profile *p, const struct view_opts *o,
			   struct u64map *programs, struct u64map *kept, frame_id_t *path)
{
	struct u64map seen = { 0 }, procs = { 0 };
	uint32_t v;

	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct thread *th = &p->threads[p->samples[i].thread];
		uint64_t key = (uint64_t)th->prog_frame << 32 | th->proc_frame;

		if (u64map_get(&seen, key, &v) || !sample_wanted(p, o, &p->samples[i], kept, path))
			continue;
		u64map_put(&seen, key, 1);
		if (!u64map_get(&procs, th->prog_frame, &v))
			v = 0;
		v += 2;
		if ((th->flags & THREAD_F_EXITED) && !th->pid)
			v |= 1;
		u64map_put(&procs, th->prog_frame, v);
	}
	for (size_t i = 0; i < procs.cap; i++)
		if (procs.used[i] && procs.vals[i] >> 1 >= 2)
			u64map_put(programs, procs.keys[i], procs.vals[i]);
	u64map_free(&seen);
	u64map_free(&procs);
}

void tree_count_programs(const struct profile *p, const struct view_opts *o,
			 struct u64map *programs)
{
	struct u64map kept = { 0 };
	frame_id_t *path = xmalloc(TREE_MAX_PATH * sizeof(*path));

	count_programs(p, o, programs, &kept, path);
	u64map_free(&kept);
	free(path);
}

void tree_program_label(const struct profile *p, const struct u64map *programs, frame_id_t f,
			struct strbuf *sb)
{
	const struct frame *fr = profile_get_frame(p, f);
	uint32_t v;

	strbuf_addstr(sb, fr->name);
	if (fr->kind == FRAME_PROGRAM && u64map_get(programs, f, &v))
		strbuf_addf(sb, " [%u%s processes]", v >> 1, v & 1 ? "+" : "");
}

void tree_frame_label(const struct tree *t, frame_id_t f, struct strbuf *sb)
{
	tree_program_label(t->prof, &t->programs, f, sb);
}

struct tree *tree_build(const struct profile *p, const struct view_opts *o)
{
	struct tree *t = xcalloc(1, sizeof(*t));
	struct idx_table index = { 0 };
	/* (base node, stack) -> leaf node: below its base, a sample's path
	 * depends only on its stack, and stacks recur on many threads. */
	struct u64map leaves = { 0 }, kept = { 0 };
	frame_id_t path[TREE_MAX_PATH];

	t->prof = p;
	XGROW(t->nodes, t->alloc, 1);
	t->nodes[0] = (struct tree_node){ FRAME_NONE, NODE_NONE, NODE_NONE, NODE_NONE, 0, 0, 0, 0 };
	t->nr = 1;
	if (o->by_process && o->by_program && !o->focus)
		count_programs(p, o, &t->programs, &kept, path);
	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct sample_rec *s = &p->samples[i];
		uint32_t base, node;
		uint64_t key;

		if (!sample_wanted(p, o, s, &kept, path))
			continue;
		base = sample_base(t, &index, o, &p->threads[s->thread]);
		key = (uint64_t)base << 32 | s->stack;
		if (!u64map_get(&leaves, key, &node)) {
			node = sample_leaf(t, &index, o, s, base, path);
			u64map_put(&leaves, key, node);
		}
		if (node != NODE_NONE)
			t->nodes[node].self += s->count;
	}
	sum_totals(t);
	idx_free(&index);
	u64map_free(&leaves);
	u64map_free(&kept);
	tree_sort_children(t, cmp_total_desc, t);
	return t;
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	free(t->nodes);
	u64map_free(&t->programs);
	free(t);
}

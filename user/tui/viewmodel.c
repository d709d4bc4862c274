/* The live view's navigation state: trees and function lists built from the
 * profile, the rows they show, expansion, selection, search, filter, focus. */
#include "tui/viewmodel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const vm_view_names[VM_NR_VIEWS] = { "tree", "inverted", "flat" };
const char *const vm_sort_names[VM_NR_SORTS] = { "total", "self", "name" };

/* Depth of the scratch buffers: one per tree level, plus the root. */
#define VM_MAX_DEPTH (TREE_MAX_PATH + 2)
#define KEY_HIDDEN_SALT 0x5bd1e9955bd1e995ull
#define KEY_FLAT_SALT 0xf1a7f1a7f1a7f1a7ull
#define KEY_MORE_SALT 0x6d6f72656d6f7265ull

struct viewmodel *vm_new(const struct profile *p, const struct vm_config *c)
{
	struct viewmodel *vm = xcalloc(1, sizeof(*vm));

	vm->prof = p;
	vm->view = c->view;
	vm->sort[VM_FLAT] = VM_SORT_SELF;
	vm->by_process = c->by_process;
	vm->by_thread = c->by_thread;
	vm->by_program = c->by_program;
	vm->auto_group = c->auto_group;
	vm->kernel = c->kernel;
	vm->user = c->user;
	vm->show_idle = c->show_idle;
	vm->rules = c->rules;
	vm->min_percent = c->min_percent;
	vm->rules.memo = NULL;
	vm->rules.nr_memo = 0;
	vm->text = (struct strbuf)STRBUF_INIT;
	vm->scratch = xcalloc(VM_MAX_DEPTH, sizeof(*vm->scratch));
	for (size_t i = 0; i < VM_MAX_DEPTH; i++)
		vm->scratch[i].modules = (struct strbuf)STRBUF_INIT;
	vm->auto_expand = true;
	vm->height = 1;
	if (c->focus && c->focus[0]) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_add_escaped(&sb, c->focus);
		vm->focus[0].glob = xstrdup(c->focus);
		vm->focus[0].label = strbuf_detach(&sb);
		vm->nr_focus = 1;
	}
	return vm;
}

void vm_free(struct viewmodel *vm)
{
	if (!vm)
		return;
	tree_free(vm->tree);
	free(vm->phash);
	free(vm->funcs);
	free(vm->rows);
	strbuf_release(&vm->text);
	for (size_t i = 0; i < VM_MAX_DEPTH; i++)
		collapse_children_release(&vm->scratch[i]);
	free(vm->scratch);
	for (size_t i = 0; i < vm->nr_focus; i++) {
		free(vm->focus[i].glob);
		free(vm->focus[i].label);
	}
	u64map_free(&vm->expanded);
	collapse_rules_release(&vm->rules);
	free(vm);
}

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static bool name_matches(const char *pattern, const char *name)
{
	if (has_glob_chars(pattern))
		return glob_match(pattern, name);
	return strcasestr(name, pattern) != NULL;
}

static bool frame_search_match(const struct viewmodel *vm, const struct frame *f)
{
	return vm->search[0] && f && name_matches(vm->search, f->name);
}

static bool is_expanded(const struct viewmodel *vm, uint64_t key)
{
	uint32_t v;

	return u64map_get(&vm->expanded, key, &v) && v;
}

static void set_expanded(struct viewmodel *vm, uint64_t key, bool on)
{
	u64map_put(&vm->expanded, key, on);
}

static void fill_view_opts(const struct viewmodel *vm, struct view_opts *o)
{
	*o = (struct view_opts)VIEW_OPTS_INIT;
	o->by_process = vm->by_process && vm->view != VM_FLAT;
	o->by_thread = vm->by_thread && vm->view != VM_FLAT;
	o->by_program = vm->by_program;
	o->invert = vm->view == VM_INVERTED;
	o->kernel = vm->kernel;
	o->user = vm->user;
	o->show_idle = vm->show_idle;
	o->filter = vm->filter[0] ? vm->filter_glob : NULL;
	for (size_t i = 0; i < vm->nr_focus; i++) {
		if (vm->focus[i].glob)
			o->focus = vm->focus[i].glob;
		if (vm->focus[i].pid)
			o->only_pid = vm->focus[i].pid;
		if (vm->focus[i].program)
			o->only_program = vm->focus[i].program;
	}
}

/* Each node's key hashes the frames on its path, so it survives rebuilds in
 * which node ids change. Parents are created before their children. */
static void compute_phash(struct viewmodel *vm)
{
	const struct tree *t = vm->tree;

	vm->phash = xrealloc(vm->phash, t->nr * sizeof(*vm->phash));
	vm->phash[0] = hash_u64(HASH_SEED + vm->view);
	for (size_t n = 1; n < t->nr; n++)
		vm->phash[n] = hash_u64(vm->phash[t->nodes[n].parent] ^
					hash_u64((uint64_t)t->nodes[n].frame + 1));
}

static int cmp_func(const void *a, const void *b, void *ctx)
{
	const struct viewmodel *vm = ctx;
	const struct vm_func *x = a, *y = b;
	enum vm_sort s = vm->sort[VM_FLAT];

	if (s == VM_SORT_NAME) {
		int c = strcmp(profile_get_frame(vm->prof, x->frame)->name,
			       profile_get_frame(vm->prof, y->frame)->name);
		if (c)
			return c;
	}
	if (s == VM_SORT_SELF && x->self != y->self)
		return x->self < y->self ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	return x->frame < y->frame ? -1 : x->frame > y->frame;
}

/* The flat view: per function, samples with it as the leaf (self) and
 * samples with it anywhere on the stack, counted once (total). */
static void build_funcs(struct viewmodel *vm)
{
	const struct profile *p = vm->prof;
	size_t nf = p->nr_frames;
	uint64_t *self = xcalloc(nf, sizeof(*self)), *total = xcalloc(nf, sizeof(*total));
	uint32_t *stamp = xcalloc(nf, sizeof(*stamp));
	frame_id_t path[TREE_MAX_PATH];
	struct view_opts o;

	fill_view_opts(vm, &o);
	vm->total = 0;
	vm->nr_funcs = 0;
	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct sample_rec *s = &p->samples[i];
		uint32_t n;

		if (!s->count || !view_keeps_thread(&o, &p->threads[s->thread]))
			continue;
		n = tree_sample_path(p, &o, s, path, ARRAY_SIZE(path));
		if (!n)
			continue;
		vm->total += s->count;
		self[path[n - 1]] += s->count;
		for (uint32_t k = 0; k < n; k++) {
			if (stamp[path[k]] == i + 1)
				continue;
			stamp[path[k]] = i + 1;
			total[path[k]] += s->count;
		}
	}
	for (size_t f = 0; f < nf; f++) {
		if (!total[f])
			continue;
		XGROW(vm->funcs, vm->alloc_funcs, vm->nr_funcs + 1);
		vm->funcs[vm->nr_funcs++] = (struct vm_func){ (frame_id_t)f, self[f], total[f] };
	}
	qsort_r(vm->funcs, vm->nr_funcs, sizeof(*vm->funcs), cmp_func, vm);
	free(self);
	free(total);
	free(stamp);
}

static void expand_hot_path(struct viewmodel *vm)
{
	struct collapse_children *c = &vm->scratch[0];
	const struct tree *t = vm->tree;
	uint32_t n = 0;

	for (;;) {
		collapse_children(t, n, &vm->rules, c);
		if (!c->nr)
			break;
		n = c->nodes[0];
		if (!t->nodes[n].nr_children)
			break;
		set_expanded(vm, vm->phash[n], true);
	}
}

void vm_rebuild(struct viewmodel *vm)
{
	/* The library verdicts are kept across rebuilds: frames never change. */
	collapse_rules_memo(&vm->rules, vm->prof);
	tree_free(vm->tree);
	vm->tree = NULL;
	if (vm->auto_group && !vm->by_process && profile_many_pids(vm->prof)) {
		vm->by_process = true;
		vm->auto_group = false;
		vm->auto_expand = true;
	}
	if (vm->view == VM_FLAT) {
		build_funcs(vm);
	} else {
		struct view_opts o;

		fill_view_opts(vm, &o);
		vm->tree = tree_build(vm->prof, &o);
		vm->total = vm->tree->total;
		vm->min_count = (uint64_t)ceil(vm->total * vm->min_percent / 100.0);
		if (vm->min_count == 0 || vm->show_small)
			vm->min_count = 1;
		compute_phash(vm);
		if (vm->auto_expand && vm->total) {
			expand_hot_path(vm);
			vm->auto_expand = false;
		}
	}
	vm_update_rows(vm);
}

static struct vm_row *push_row(struct viewmodel *vm, enum vm_row_kind kind, unsigned depth,
			       uint32_t node, uint64_t key)
{
	struct vm_row *r;

	XGROW(vm->rows, vm->alloc_rows, vm->nr_rows + 1);
	r = &vm->rows[vm->nr_rows++];
	*r = (struct vm_row){ .kind = kind, .depth = depth > UINT16_MAX ? UINT16_MAX : depth,
			      .node = node, .key = key };
	return r;
}

static int cmp_shown(const void *a, const void *b, void *ctx)
{
	const struct viewmodel *vm = ctx;
	const struct tree *t = vm->tree;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (vm->sort[vm->view] == VM_SORT_NAME) {
		int c = strcmp(tree_frame(t, x)->name, tree_frame(t, y)->name);
		if (c)
			return c;
	} else if (t->nodes[x].self != t->nodes[y].self) {
		return t->nodes[x].self < t->nodes[y].self ? 1 : -1;
	}
	if (t->nodes[x].total != t->nodes[y].total)
		return t->nodes[x].total < t->nodes[y].total ? 1 : -1;
	return x < y ? -1 : x > y;
}

/* The children of n as shown (library frames collapsed), in sort order. */
static struct collapse_children *shown_children(struct viewmodel *vm, uint32_t n, unsigned depth)
{
	struct collapse_children *c = &vm->scratch[depth];
	const struct tree *t = vm->tree;

	if (collapse_node_is_library(t, n, &vm->rules)) {
		collapse_children(t, n, &vm->rules, c);
	} else {
		/* The fast path: only children of library frames can be hidden. */
		c->nr = 0;
		c->nr_hidden = 0;
		c->hidden_self = 0;
		XGROW(c->nodes, c->alloc, t->nodes[n].nr_children);
		for (uint32_t k = tree_first(t, n); k != NODE_NONE; k = tree_next(t, k))
			c->nodes[c->nr++] = k;
	}
	if (vm->sort[vm->view] != VM_SORT_TOTAL && c->nr > 1)
		qsort_r(c->nodes, c->nr, sizeof(*c->nodes), cmp_shown, vm);
	return c;
}

static bool is_grouping(const struct frame *f)
{
	return f->kind == FRAME_PROCESS || f->kind == FRAME_THREAD || f->kind == FRAME_PROGRAM;
}

/* Inverted, a function's own time is the total of its top-level node (the
 * first level below any program/process/thread grouping); callers below
 * have none. */
static uint64_t inverted_self(const struct tree *t, uint32_t n)
{
	const struct frame *pf = tree_frame(t, t->nodes[n].parent);

	if (!pf || is_grouping(pf)) {
		if (!is_grouping(tree_frame(t, n)))
			return t->nodes[n].total;
	}
	return 0;
}

static void add_tree_rows(struct viewmodel *vm, uint32_t n, unsigned depth)
{
	const struct tree *t = vm->tree;
	struct collapse_children *c;
	uint64_t small_total = 0;
	uint32_t small = 0;

	if (depth + 1 >= VM_MAX_DEPTH)
		return;
	c = shown_children(vm, n, depth);
	if (c->nr_hidden) {
		struct vm_row *r = push_row(vm, VM_ROW_HIDDEN, depth, n, vm->phash[n] ^ KEY_HIDDEN_SALT);

		r->self = c->hidden_self;
		r->nr_hidden = c->nr_hidden;
		r->modules = vm->text.len;
		strbuf_add(&vm->text, c->modules.buf, c->modules.len + 1);
	}
	for (size_t i = 0; i < c->nr; i++) {
		uint32_t k = c->nodes[i];
		const struct tree_node *tn = &t->nodes[k];
		struct vm_row *r;
		bool open;

		/* Rows are memory-bound: fetch the next sibling while this one's
		 * subtree is walked. */
		if (i + 1 < c->nr) {
			__builtin_prefetch(&t->nodes[c->nodes[i + 1]]);
			__builtin_prefetch(&vm->phash[c->nodes[i + 1]]);
		}
		if (tn->total < vm->min_count) {
			small++;
			small_total += tn->total;
			continue;
		}
		r = push_row(vm, VM_ROW_NODE, depth, k, vm->phash[k]);
		open = tn->nr_children && is_expanded(vm, vm->phash[k]);

		r->total = tn->total;
		r->self = vm->view == VM_INVERTED ? inverted_self(t, k) : tn->self;
		if (tn->nr_children)
			r->flags |= VM_ROW_F_EXPANDABLE;
		if (open)
			r->flags |= VM_ROW_F_EXPANDED;
		if (frame_search_match(vm, tree_frame(t, k)))
			r->flags |= VM_ROW_F_MATCH;
		if (open)
			add_tree_rows(vm, k, depth + 1);
	}
	if (small) {
		struct vm_row *r = push_row(vm, VM_ROW_MORE, depth, n, vm->phash[n] ^ KEY_MORE_SALT);

		r->nr_hidden = small;
		r->total = small_total;
	}
}

static void add_func_rows(struct viewmodel *vm)
{
	for (size_t i = 0; i < vm->nr_funcs; i++) {
		const struct vm_func *f = &vm->funcs[i];
		struct vm_row *r = push_row(vm, VM_ROW_FUNC, 0, f->frame, f->frame ^ KEY_FLAT_SALT);

		r->total = f->total;
		r->self = f->self;
		if (frame_search_match(vm, profile_get_frame(vm->prof, f->frame)))
			r->flags |= VM_ROW_F_MATCH;
	}
}

static void keep_visible(struct viewmodel *vm)
{
	if (vm->sel < vm->top)
		vm->top = vm->sel;
	if (vm->sel >= vm->top + vm->height)
		vm->top = vm->sel - vm->height + 1;
	if (vm->nr_rows <= vm->height)
		vm->top = 0;
	else if (vm->top > vm->nr_rows - vm->height)
		vm->top = vm->nr_rows - vm->height;
}

static bool find_key(const struct viewmodel *vm, uint64_t key, size_t *row)
{
	for (size_t i = 0; i < vm->nr_rows; i++) {
		if (vm->rows[i].key == key) {
			*row = i;
			return true;
		}
	}
	return false;
}

void vm_update_rows(struct viewmodel *vm)
{
	size_t row;

	vm->nr_rows = 0;
	strbuf_reset(&vm->text);
	if (vm->view == VM_FLAT)
		add_func_rows(vm);
	else if (vm->tree)
		add_tree_rows(vm, 0, 0);
	if (find_key(vm, vm->sel_key, &row))
		vm->sel = row;
	else if (vm->sel >= vm->nr_rows)
		vm->sel = vm->nr_rows ? vm->nr_rows - 1 : 0;
	vm->sel_key = vm->nr_rows ? vm->rows[vm->sel].key : 0;
	keep_visible(vm);
}

void vm_set_height(struct viewmodel *vm, size_t height)
{
	vm->height = height ? height : 1;
	keep_visible(vm);
}

bool vm_select(struct viewmodel *vm, size_t row)
{
	if (row >= vm->nr_rows || row == vm->sel)
		return false;
	vm->sel = row;
	vm->sel_key = vm->rows[row].key;
	keep_visible(vm);
	return true;
}

bool vm_move(struct viewmodel *vm, long delta)
{
	long to = (long)vm->sel + delta;

	if (!vm->nr_rows)
		return false;
	if (to < 0)
		to = 0;
	if (to >= (long)vm->nr_rows)
		to = vm->nr_rows - 1;
	return vm_select(vm, to);
}

bool vm_home(struct viewmodel *vm)
{
	return vm_select(vm, 0);
}

bool vm_end(struct viewmodel *vm)
{
	return vm->nr_rows && vm_select(vm, vm->nr_rows - 1);
}

static const struct vm_row *sel_node_row(const struct viewmodel *vm)
{
	const struct vm_row *r = vm_selected(vm);

	return r && r->kind == VM_ROW_NODE ? r : NULL;
}

bool vm_expand(struct viewmodel *vm)
{
	const struct vm_row *r = sel_node_row(vm);

	if (!r || !(r->flags & VM_ROW_F_EXPANDABLE) || (r->flags & VM_ROW_F_EXPANDED))
		return false;
	set_expanded(vm, r->key, true);
	vm_update_rows(vm);
	return true;
}

bool vm_collapse(struct viewmodel *vm)
{
	const struct vm_row *r = sel_node_row(vm);

	if (!r || !(r->flags & VM_ROW_F_EXPANDED))
		return false;
	set_expanded(vm, r->key, false);
	vm_update_rows(vm);
	return true;
}

bool vm_toggle(struct viewmodel *vm)
{
	const struct vm_row *r = sel_node_row(vm);

	if (r && (r->flags & VM_ROW_F_EXPANDED))
		return vm_collapse(vm);
	return vm_expand(vm);
}

bool vm_expand_all(struct viewmodel *vm)
{
	const struct vm_row *r = sel_node_row(vm);
	const struct tree *t = vm->tree;
	uint32_t *stack = NULL;
	size_t nr = 0, alloc = 0;

	if (!r || !(r->flags & VM_ROW_F_EXPANDABLE))
		return false;
	XGROW(stack, alloc, 1);
	stack[nr++] = r->node;
	while (nr) {
		uint32_t n = stack[--nr];

		if (!t->nodes[n].nr_children)
			continue;
		set_expanded(vm, vm->phash[n], true);
		for (uint32_t c = tree_first(t, n); c != NODE_NONE; c = tree_next(t, c)) {
			XGROW(stack, alloc, nr + 1);
			stack[nr++] = c;
		}
	}
	free(stack);
	vm_update_rows(vm);
	return true;
}

bool vm_right(struct viewmodel *vm)
{
	const struct vm_row *r = sel_node_row(vm);

	if (!r || !(r->flags & VM_ROW_F_EXPANDABLE))
		return false;
	if (!(r->flags & VM_ROW_F_EXPANDED))
		return vm_expand(vm);
	if (vm->sel + 1 < vm->nr_rows && vm->rows[vm->sel + 1].depth > r->depth)
		return vm_move(vm, 1);
	return false;
}

bool vm_left(struct viewmodel *vm)
{
	const struct vm_row *r = vm_selected(vm);

	if (!r)
		return false;
	if (r->kind == VM_ROW_NODE && (r->flags & VM_ROW_F_EXPANDED))
		return vm_collapse(vm);
	for (size_t i = vm->sel; i-- > 0;)
		if (vm->rows[i].depth < r->depth)
			return vm_select(vm, i);
	return false;
}

void vm_set_view(struct viewmodel *vm, enum vm_view view)
{
	if (view == vm->view)
		return;
	vm->view = view;
	vm->auto_expand = true;
	vm->sel = vm->top = 0;
	vm->sel_key = 0;
	vm_rebuild(vm);
}

void vm_set_sort(struct viewmodel *vm, enum vm_sort sort)
{
	vm->sort[vm->view] = sort;
	if (vm->view == VM_FLAT)
		qsort_r(vm->funcs, vm->nr_funcs, sizeof(*vm->funcs), cmp_func, vm);
	vm_update_rows(vm);
}

void vm_set_programs(struct viewmodel *vm, bool on)
{
	vm->by_program = on;
	vm->auto_expand = true;
	vm_rebuild(vm);
}

void vm_set_grouping(struct viewmodel *vm, bool by_process, bool by_thread)
{
	vm->by_process = by_process;
	vm->by_thread = by_thread;
	vm->auto_group = false;	/* the user's choice stands */
	vm->auto_expand = true;
	vm_rebuild(vm);
}

bool vm_set_kernel(struct viewmodel *vm, bool on)
{
	if (on && !vm->prof->meta.kernel_stacks) {
		snprintf(vm->msg, sizeof(vm->msg), "No kernel stacks recorded (start with -K)");
		return false;
	}
	if (!on && !vm->user) {
		snprintf(vm->msg, sizeof(vm->msg), "Only kernel stacks were recorded");
		return false;
	}
	vm->kernel = on;
	vm_rebuild(vm);
	return true;
}

void vm_set_show_hidden(struct viewmodel *vm, bool on)
{
	vm->rules.show_all = on;
	vm_update_rows(vm);
}

void vm_set_show_small(struct viewmodel *vm, bool on)
{
	vm->show_small = on;
	vm_rebuild(vm);
}

void vm_set_show_idle(struct viewmodel *vm, bool on)
{
	vm->show_idle = on;
	vm_rebuild(vm);
}

void vm_set_filter(struct viewmodel *vm, const char *text)
{
	snprintf(vm->filter, sizeof(vm->filter), "%s", text);
	if (has_glob_chars(vm->filter))
		snprintf(vm->filter_glob, sizeof(vm->filter_glob), "%s", vm->filter);
	else
		snprintf(vm->filter_glob, sizeof(vm->filter_glob), "*%s*", vm->filter);
	vm->auto_expand = true;
	vm_rebuild(vm);
}

/* A glob that matches exactly this name. */
static char *glob_quote(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++) {
		if (strchr("*?[]\\", *s))
			strbuf_addch(&sb, '\\');
		strbuf_addch(&sb, *s);
	}
	return strbuf_detach(&sb);
}

static uint32_t process_pid(const struct profile *p, frame_id_t f)
{
	for (size_t i = 0; i < p->nr_threads; i++)
		if (p->threads[i].proc_frame == f)
			return p->threads[i].pid;
	return 0;
}

bool vm_focus_selected(struct viewmodel *vm)
{
	const struct vm_row *r = vm_selected(vm);
	const struct frame *f = r ? vm_row_frame(vm, r) : NULL;
	struct vm_focus *fo;
	struct strbuf sb = STRBUF_INIT;

	if (!f) {
		snprintf(vm->msg, sizeof(vm->msg), "Select a function to focus on");
		return false;
	}
	if (vm->nr_focus == VM_MAX_FOCUS) {
		snprintf(vm->msg, sizeof(vm->msg), "Focused %d levels deep already", VM_MAX_FOCUS);
		return false;
	}
	if (f->kind == FRAME_THREAD) {
		snprintf(vm->msg, sizeof(vm->msg), "Cannot focus on a thread; focus on its process");
		return false;
	}
	fo = &vm->focus[vm->nr_focus];
	*fo = (struct vm_focus){ .sel_key = r->key };
	if (f->kind == FRAME_PROCESS) {
		frame_id_t id = r->kind == VM_ROW_FUNC ? r->node : vm->tree->nodes[r->node].frame;

		fo->pid = process_pid(vm->prof, id);
		if (!fo->pid) {
			snprintf(vm->msg, sizeof(vm->msg),
				 "Cannot focus on exited processes");
			return false;
		}
	} else if (f->kind == FRAME_PROGRAM) {
		/* The frame's name is the threads' interned process name. */
		fo->program = f->name;
	} else {
		fo->glob = glob_quote(f->name);
	}
	strbuf_add_escaped(&sb, f->name);
	fo->label = strbuf_detach(&sb);
	vm->nr_focus++;
	if (vm->view == VM_FLAT)
		vm->view = VM_TREE;
	vm->auto_expand = true;
	vm->sel = vm->top = 0;
	vm->sel_key = 0;
	vm_rebuild(vm);
	return true;
}

bool vm_unfocus(struct viewmodel *vm)
{
	struct vm_focus *fo;

	if (!vm->nr_focus)
		return false;
	fo = &vm->focus[--vm->nr_focus];
	vm->sel_key = fo->sel_key;
	free(fo->glob);
	free(fo->label);
	*fo = (struct vm_focus){ 0 };
	vm_rebuild(vm);
	return true;
}

/* Every shown node (collapsed or not) below n in row order, for search. */
static void walk_all(struct viewmodel *vm, uint32_t n, unsigned depth, uint32_t **out, size_t *nr,
		     size_t *alloc)
{
	struct collapse_children *c;

	if (depth + 1 >= VM_MAX_DEPTH)
		return;
	c = shown_children(vm, n, depth);
	for (size_t i = 0; i < c->nr; i++) {
		uint32_t k = c->nodes[i];

		if (vm->tree->nodes[k].total < vm->min_count)
			continue;
		XGROW(*out, *alloc, *nr + 1);
		(*out)[(*nr)++] = k;
		/* c is this depth's buffer: deeper calls use the next one. */
		walk_all(vm, k, depth + 1, out, nr, alloc);
	}
}

static bool search_flat(struct viewmodel *vm, int dir, bool inclusive)
{
	size_t n = vm->nr_rows;

	vm->nr_matches = 0;
	for (size_t i = 0; i < n; i++)
		vm->nr_matches += !!(vm->rows[i].flags & VM_ROW_F_MATCH);
	for (size_t step = inclusive ? 0 : 1; step <= n && vm->nr_matches; step++) {
		size_t i = (vm->sel + n + (dir > 0 ? step : n - step % n)) % n;

		if (vm->rows[i].flags & VM_ROW_F_MATCH) {
			vm_select(vm, i);
			return true;
		}
	}
	return false;
}

static bool search_tree(struct viewmodel *vm, int dir, bool inclusive)
{
	const struct tree *t = vm->tree;
	const struct vm_row *r = vm_selected(vm);
	uint32_t *order = NULL, cur_node = r ? r->node : 0, found = NODE_NONE;
	size_t nr = 0, alloc = 0, cur = 0, row;

	walk_all(vm, 0, 0, &order, &nr, &alloc);
	vm->nr_matches = 0;
	for (size_t i = 0; i < nr; i++) {
		vm->nr_matches += frame_search_match(vm, tree_frame(t, order[i]));
		if (order[i] == cur_node)
			cur = i;
	}
	if (r && r->kind == VM_ROW_HIDDEN)
		inclusive = false;
	for (size_t step = inclusive ? 0 : 1; step <= nr && vm->nr_matches; step++) {
		size_t i = dir > 0 ? (cur + step) % nr : (cur + nr - step % nr) % nr;

		if (frame_search_match(vm, tree_frame(t, order[i]))) {
			found = order[i];
			break;
		}
	}
	free(order);
	if (found == NODE_NONE)
		return false;
	for (uint32_t p = t->nodes[found].parent; p != NODE_NONE && p != 0; p = t->nodes[p].parent)
		set_expanded(vm, vm->phash[p], true);
	vm_update_rows(vm);
	if (find_key(vm, vm->phash[found], &row))
		vm_select(vm, row);
	return true;
}

static bool search(struct viewmodel *vm, int dir, bool inclusive)
{
	bool hit;

	vm->msg[0] = 0;
	if (!vm->search[0])
		return false;
	if (vm->view == VM_FLAT)
		hit = search_flat(vm, dir, inclusive);
	else
		hit = vm->tree && search_tree(vm, dir, inclusive);
	if (!hit) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_add_escaped(&sb, vm->search);
		snprintf(vm->msg, sizeof(vm->msg), "Not found: %s%s", sb.buf,
			 vm->min_count > 1 ? " (m shows the small nodes)" : "");
		strbuf_release(&sb);
	}
	return hit;
}

bool vm_set_search(struct viewmodel *vm, const char *text)
{
	snprintf(vm->search, sizeof(vm->search), "%s", text);
	vm->nr_matches = 0;
	vm_update_rows(vm);
	return search(vm, 1, true);
}

bool vm_search_next(struct viewmodel *vm, int dir)
{
	if (!vm->search[0]) {
		snprintf(vm->msg, sizeof(vm->msg), "No search: press / first");
		return false;
	}
	return search(vm, dir, false);
}

const struct frame *vm_row_frame(const struct viewmodel *vm, const struct vm_row *r)
{
	if (r->kind == VM_ROW_FUNC)
		return profile_get_frame(vm->prof, r->node);
	if (r->kind == VM_ROW_NODE && vm->tree)
		return tree_frame(vm->tree, r->node);
	return NULL;
}

void vm_row_label(const struct viewmodel *vm, const struct vm_row *r, struct strbuf *sb)
{
	const struct frame *f = vm_row_frame(vm, r);

	if (r->kind == VM_ROW_MORE) {
		strbuf_addf(sb, "[%u more under %g%%]", r->nr_hidden, vm->min_percent);
		return;
	}
	if (r->kind == VM_ROW_HIDDEN) {
		strbuf_addf(sb, "[%u frame%s hidden] ", r->nr_hidden, r->nr_hidden == 1 ? "" : "s");
		strbuf_add_escaped(sb, vm->text.buf + r->modules);
		return;
	}
	if (r->kind == VM_ROW_NODE && f && f->kind == FRAME_PROGRAM) {
		struct strbuf label = STRBUF_INIT;

		tree_frame_label(vm->tree, vm->tree->nodes[r->node].frame, &label);
		strbuf_add_escaped(sb, label.buf);
		strbuf_release(&label);
		return;
	}
	strbuf_add_escaped(sb, f ? f->name : "?");
}

void vm_row_module(const struct viewmodel *vm, const struct vm_row *r, struct strbuf *sb)
{
	const struct frame *f = vm_row_frame(vm, r);

	if (!f)
		return;
	if (f->kind == FRAME_KERNEL)
		strbuf_addstr(sb, "[kernel]");
	else if (f->module[0])
		strbuf_add_escaped(sb, module_basename(f->module));
}

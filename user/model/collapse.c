/* Library frame collapsing: which frames are hidden and what shows instead. */
#include "model/collapse.h"

#include <stdlib.h>
#include <string.h>

static const char *const default_hide[] = {
	"libc.so*", "libc-*.so", "ld-linux*", "ld-*.so*", "libpthread*", "libstdc++*",
	"libgcc_s*", "libm.so*", "libdl.so*", "librt.so*", "[vdso]",
	"*/lib/python3*/*", "*/site-packages/*", "*/dist-packages/*",
};

/* The verdict of the globs alone, whatever show_all says. */
static bool matches_rules(const struct frame *f, const struct collapse_rules *r)
{
	const char *const *hide = r->nr_hide ? r->hide : default_hide;
	size_t nr_hide = r->nr_hide ? r->nr_hide : ARRAY_SIZE(default_hide);
	bool hit = false;

	if (f->kind != FRAME_NATIVE && f->kind != FRAME_PYTHON && f->kind != FRAME_KERNEL)
		return false;
	for (size_t i = 0; i < nr_hide && !hit; i++)
		hit = frame_matches(f, hide[i]);
	for (size_t i = 0; i < r->nr_show && hit; i++)
		if (frame_matches(f, r->show[i]))
			hit = false;
	return hit;
}

bool collapse_frame_is_library(const struct frame *f, const struct collapse_rules *r)
{
	return !r->show_all && matches_rules(f, r);
}

void collapse_rules_memo(struct collapse_rules *r, const struct profile *p)
{
	size_t want = p->nr_frames;

	if (want <= r->nr_memo)
		return;
	r->memo = xrealloc(r->memo, want);
	memset(r->memo + r->nr_memo, 0, want - r->nr_memo);
	r->nr_memo = want;
}

void collapse_rules_release(struct collapse_rules *r)
{
	free(r->memo);
	r->memo = NULL;
	r->nr_memo = 0;
}

bool collapse_is_library(const struct profile *p, frame_id_t id, const struct collapse_rules *r)
{
	if (id == FRAME_NONE || r->show_all)
		return false;
	if (id >= r->nr_memo)
		return matches_rules(profile_get_frame(p, id), r);
	if (!r->memo[id])
		r->memo[id] = 1 + matches_rules(profile_get_frame(p, id), r);
	return r->memo[id] == 2;
}

bool collapse_hidden(const struct profile *p, frame_id_t caller, frame_id_t id,
		     const struct collapse_rules *r)
{
	return collapse_is_library(p, id, r) && collapse_is_library(p, caller, r);
}

bool collapse_node_is_library(const struct tree *t, uint32_t n, const struct collapse_rules *r)
{
	return collapse_is_library(t->prof, t->nodes[n].frame, r);
}

bool collapse_node_hidden(const struct tree *t, uint32_t n, const struct collapse_rules *r)
{
	uint32_t parent = t->nodes[n].parent;

	return parent != NODE_NONE &&
	       collapse_hidden(t->prof, t->nodes[parent].frame, t->nodes[n].frame, r);
}

uint32_t collapse_path(const struct profile *p, const struct collapse_rules *r, frame_id_t *path,
		       uint32_t n)
{
	frame_id_t caller = FRAME_NONE;
	uint32_t k = 0;

	if (r->show_all)
		return n;
	/* Each write lands at or before the frame just read, so path[i] is
	 * still the caller of path[i + 1] when that one is read. */
	for (uint32_t i = 0; i < n; i++) {
		frame_id_t id = path[i];

		if (!collapse_hidden(p, caller, id, r))
			path[k++] = id;
		caller = id;
	}
	return k;
}

static void add_module(struct collapse_children *c, const struct frame *f)
{
	const char *base = f->kind == FRAME_KERNEL ? "[kernel]" : module_basename(f->module);
	size_t len = strlen(base);

	if (!len)
		return;
	/* Few distinct modules per group: a linear scan is fine. */
	for (const char *p = c->modules.buf; (p = strstr(p, base)); p += len)
		if ((p == c->modules.buf || p[-1] == ' ') && (p[len] == ',' || p[len] == 0))
			return;
	if (c->modules.len)
		strbuf_addstr(&c->modules, ", ");
	strbuf_addstr(&c->modules, base);
}

static void collect(const struct tree *t, uint32_t n, const struct collapse_rules *r,
		    struct collapse_children *c)
{
	for (uint32_t k = tree_first(t, n); k != NODE_NONE; k = tree_next(t, k)) {
		if (collapse_node_hidden(t, k, r)) {
			c->nr_hidden++;
			c->hidden_self += t->nodes[k].self;
			add_module(c, tree_frame(t, k));
			collect(t, k, r, c);
			continue;
		}
		XGROW(c->nodes, c->alloc, c->nr + 1);
		c->nodes[c->nr++] = k;
	}
}

static int cmp_total(const void *a, const void *b, void *ctx)
{
	const struct tree *t = ctx;
	uint64_t x = t->nodes[*(const uint32_t *)a].total, y = t->nodes[*(const uint32_t *)b].total;

	if (x != y)
		return x < y ? 1 : -1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

void collapse_children(const struct tree *t, uint32_t n, const struct collapse_rules *r,
		       struct collapse_children *c)
{
	c->nr = 0;
	c->nr_hidden = 0;
	c->hidden_self = 0;
	strbuf_reset(&c->modules);
	collect(t, n, r, c);
	if (c->nr_hidden && c->nr > 1)
		qsort_r(c->nodes, c->nr, sizeof(*c->nodes), cmp_total, (void *)t);
}

void collapse_children_release(struct collapse_children *c)
{
	free(c->nodes);
	strbuf_release(&c->modules);
	memset(c, 0, sizeof(*c));
	c->modules = (struct strbuf)STRBUF_INIT;
}

/* Library frame collapsing: which frames are hidden and what shows instead. */
#include "model/collapse.h"

#include <stdlib.h>
#include <string.h>

static const char *const default_hide[] = {
	"libc.so*", "libc-*.so", "ld-linux*", "ld-*.so*", "libpthread*", "libstdc++*",
	"libgcc_s*", "libm.so*", "libdl.so*", "librt.so*", "[vdso]",
	"*/lib/python3*/*", "*/site-packages/*", "*/dist-packages/*",
};

static bool matches(const struct frame *f, const char *glob)
{
	return glob_match(glob, f->name) ||
	       (f->module[0] && (glob_match(glob, module_basename(f->module)) ||
				 glob_match(glob, f->module))) ||
	       (f->file && glob_match(glob, f->file));
}

bool collapse_frame_is_library(const struct frame *f, const struct collapse_rules *r)
{
	const char *const *hide = r->nr_hide ? r->hide : default_hide;
	size_t nr_hide = r->nr_hide ? r->nr_hide : ARRAY_SIZE(default_hide);
	bool hit = false;

	if (r->show_all || (f->kind != FRAME_NATIVE && f->kind != FRAME_PYTHON &&
			    f->kind != FRAME_KERNEL))
		return false;
	for (size_t i = 0; i < nr_hide && !hit; i++)
		hit = matches(f, hide[i]);
	for (size_t i = 0; i < r->nr_show && hit; i++)
		if (matches(f, r->show[i]))
			hit = false;
	return hit;
}

static bool node_is_library(const struct tree *t, uint32_t n, const struct collapse_rules *r)
{
	frame_id_t id = t->nodes[n].frame;

	if (id == FRAME_NONE || r->show_all)
		return false;
	if (id >= r->nr_memo)
		return collapse_frame_is_library(profile_get_frame(t->prof, id), r);
	if (!r->memo[id])
		r->memo[id] = 1 + collapse_frame_is_library(profile_get_frame(t->prof, id), r);
	return r->memo[id] == 2;
}

bool collapse_node_hidden(const struct tree *t, uint32_t n, const struct collapse_rules *r)
{
	uint32_t parent = t->nodes[n].parent;

	if (parent == NODE_NONE)
		return false;
	return node_is_library(t, n, r) && node_is_library(t, parent, r);
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

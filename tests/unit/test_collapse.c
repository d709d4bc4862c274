/* Unit tests of pyinstrument-style library frame collapsing. */
#include "model/collapse.h"
#include "tap.h"

static frame_id_t fr(struct profile *p, const char *name, const char *module)
{
	struct frame f = { .name = name, .module = module, .kind = FRAME_NATIVE };

	return profile_frame(p, &f);
}

static uint32_t find(const struct tree *t, uint32_t n, const char *name)
{
	for (uint32_t c = tree_first(t, n); c != NODE_NONE; c = tree_next(t, c))
		if (!strcmp(tree_frame(t, c)->name, name))
			return c;
	return NODE_NONE;
}

int main(void)
{
	struct profile *p = profile_new();
	uint32_t th = profile_thread(p, 1, 1, "app", "app");
	const char *libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	/* main -> qsort -> msort -> msort_with_tmp -> cmp (app) ; main -> qsort -> memcpy */
	frame_id_t s1[] = { fr(p, "main", "/app"), fr(p, "qsort", libc), fr(p, "msort", libc),
			    fr(p, "msort_with_tmp", libc), fr(p, "cmp", "/app") };
	frame_id_t s2[] = { fr(p, "main", "/app"), fr(p, "qsort", libc), fr(p, "msort", libc),
			    fr(p, "memcpy", libc) };
	struct view_opts vo = VIEW_OPTS_INIT;
	struct collapse_rules r = { 0 };
	struct collapse_children c = { .modules = STRBUF_INIT };
	struct tree *t;
	uint32_t m, q;

	profile_add_sample(p, th, s1, 5, 7);
	profile_add_sample(p, th, s2, 4, 3);
	t = tree_build(p, &vo);
	m = find(t, 0, "main");
	q = find(t, m, "qsort");

	CHECK(collapse_frame_is_library(tree_frame(t, q), &r), "libc frames are library frames by default");
	CHECK(!collapse_node_hidden(t, q, &r), "the entry into libc (qsort) stays visible");
	CHECK(collapse_node_hidden(t, find(t, q, "msort"), &r), "msort below qsort is hidden");

	collapse_children(t, q, &r, &c);
	CHECK(c.nr == 1 && !strcmp(tree_frame(t, c.nodes[0])->name, "cmp"),
	      "qsort's shown child is the app's comparator");
	CHECK(c.nr_hidden == 3, "three libc frames hidden (msort, msort_with_tmp, memcpy): %u", c.nr_hidden);
	CHECK(c.hidden_self == 3, "memcpy's self time is the hidden self time");
	CHECK_STR(c.modules.buf, "libc.so.6", "group names the library once");

	r.show_all = true;
	collapse_children(t, q, &r, &c);
	CHECK(c.nr == 1 && !strcmp(tree_frame(t, c.nodes[0])->name, "msort") && c.nr_hidden == 0,
	      "--show-all hides nothing");

	r = (struct collapse_rules){ 0 };
	const char *show[] = { "memcpy" };
	r.show = show;
	r.nr_show = 1;
	collapse_children(t, q, &r, &c);
	CHECK(c.nr == 2 && c.nr_hidden == 2, "--show memcpy keeps memcpy visible");

	const char *hide[] = { "app" };
	r = (struct collapse_rules){ .hide = hide, .nr_hide = 1 };
	CHECK(!collapse_frame_is_library(tree_frame(t, q), &r) &&
		      collapse_frame_is_library(tree_frame(t, m), &r),
	      "--hide replaces the default list and matches module basenames");

	collapse_children_release(&c);
	tree_free(t);
	profile_free(p);
	return tap_done();
}

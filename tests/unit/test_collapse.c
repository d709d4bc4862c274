/* Unit tests of pyinstrument-style library frame collapsing, and that every
 * view hides the same frames. */
#include "model/collapse.h"
#include "report/report.h"
#include "tui/viewmodel.h"
#include "report_fixture.h"
#include "tap.h"

#include <stdlib.h>

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

/* Is name a frame of the text tree ("... name  module" lines)? */
static bool in_text(const char *text, const char *name)
{
	char pat[64];

	snprintf(pat, sizeof(pat), " %s  ", name);
	return strstr(text, pat) != NULL;
}

/* Is name a frame of some folded line ("a;b;c COUNT")? */
static bool in_folded(const char *folded, const char *name)
{
	size_t n = strlen(name);

	for (const char *s = folded; (s = strstr(s, name)); s += n)
		if ((s == folded || s[-1] == ';' || s[-1] == '\n') && (s[n] == ';' || s[n] == ' '))
			return true;
	return false;
}

/* Is name a row of the live view, every node expanded? */
static bool in_view(const struct viewmodel *vm, const char *name)
{
	for (size_t i = 0; i < vm->nr_rows; i++) {
		const struct frame *f = vm_row_frame(vm, &vm->rows[i]);

		if (f && !strcmp(f->name, name))
			return true;
	}
	return false;
}

/*
 * One profile, one --hide: the text tree, the folded stacks and the live view
 * hide exactly the same frames. A library frame under an application frame
 * stays (qsort, strcmp), one under a library frame goes (msort, memcpy,
 * __strcmp_avx2), an application frame under a library frame stays (cmp).
 */
static void test_same_verdict_everywhere(void)
{
	struct profile *p = profile_new();
	uint32_t th = profile_thread(p, 1, 1, "app", "app");
	const char *libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	frame_id_t s1[] = { fr(p, "main", "/app"), fr(p, "qsort", libc),
			    fr(p, "msort", libc), fr(p, "cmp", "/app"),
			    fr(p, "strcmp", libc), fr(p, "__strcmp_avx2", libc) };
	frame_id_t s2[] = { fr(p, "main", "/app"), fr(p, "qsort", libc), fr(p, "msort", libc),
			    fr(p, "memcpy", libc) };
	const char *hide[] = { "libc.so*" };
	struct report_opts o = { .view = VIEW_OPTS_INIT, .hide = hide, .nr_hide = 1 };
	struct vm_config c = { .user = true, .rules = { .hide = hide, .nr_hide = 1 } };
	const struct { const char *name; bool shown; } want[] = {
		{ "main", true }, { "qsort", true }, { "msort", false }, { "cmp", true },
		{ "strcmp", true }, { "__strcmp_avx2", false }, { "memcpy", false },
	};
	struct viewmodel *vm;
	char *text, *folded;

	p->meta.freq_hz = 1000;
	profile_add_sample(p, th, s1, ARRAY_SIZE(s1), 7);
	profile_add_sample(p, th, s2, ARRAY_SIZE(s2), 3);
	text = fx_render(p, FMT_TEXT, &o, NULL);
	folded = fx_render(p, FMT_FOLDED, &o, NULL);
	vm = vm_new(p, &c);
	vm_rebuild(vm);
	vm_home(vm);
	vm_expand_all(vm);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		bool t = text && in_text(text, want[i].name);
		bool f = folded && in_folded(folded, want[i].name);
		bool v = in_view(vm, want[i].name);

		CHECK(t == want[i].shown && f == want[i].shown && v == want[i].shown,
		      "%s is %s in the text tree (%d), folded stacks (%d) and live view (%d)",
		      want[i].name, want[i].shown ? "shown" : "hidden", t, f, v);
	}
	CHECK(folded && strstr(folded, "main;qsort 3\n"),
	      "folded: the hidden memcpy's samples count for qsort, as in the tree's [self]");

	/* What speedscope and pprof use, and the memo the live view keeps. */
	struct collapse_rules r = { .hide = hide, .nr_hide = 1 };
	frame_id_t path[ARRAY_SIZE(s1)];
	uint32_t n;

	memcpy(path, s1, sizeof(s1));
	collapse_rules_memo(&r, p);
	n = collapse_path(p, &r, path, ARRAY_SIZE(path));
	CHECK(n == 4 && path[0] == s1[0] && path[1] == s1[1] && path[2] == s1[3] && path[3] == s1[4],
	      "collapse_path keeps main, qsort, cmp, strcmp (%u)", n);
	r.show_all = true;
	CHECK(!collapse_is_library(p, s1[1], &r), "show_all: no library frame");
	r.show_all = false;
	CHECK(collapse_is_library(p, s1[1], &r) && r.memo[s1[1]] == 2,
	      "the memo keeps the globs' verdict across a show_all toggle");
	collapse_rules_release(&r);
	vm_free(vm);
	free(text);
	free(folded);
	profile_free(p);
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
	test_same_verdict_everywhere();
	return tap_done();
}

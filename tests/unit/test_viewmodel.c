/* Unit tests of the live view's view model: rows, expansion that survives
 * rebuilds, navigation, search, filter, focus, views, escaping. No terminal. */
#include "tap.h"
#include "tui/viewmodel.h"

#include <stdlib.h>

static struct profile *p;
static uint32_t th, th2;

static frame_id_t fr(const char *name, const char *module)
{
	struct frame f = { .name = name, .module = module, .kind = FRAME_NATIVE };

	return profile_frame(p, &f);
}

static void add(uint32_t thread, const char *const *names, uint64_t count)
{
	frame_id_t ids[16];
	uint32_t n = 0;

	for (; names[n]; n++)
		ids[n] = fr(names[n], strncmp(names[n], "lib:", 4) ? "/usr/bin/app"
								 : "/usr/lib/x86_64-linux-gnu/libc.so.6");
	profile_add_sample(p, thread, ids, n, count);
}

#define STACK(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* The rows as one string: "name(depth)[+-] ..." with + expandable, - expanded. */
static char *rows_str(const struct viewmodel *vm)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < vm->nr_rows; i++) {
		const struct vm_row *r = &vm->rows[i];

		if (i)
			strbuf_addch(&sb, ' ');
		if (i == vm->sel)
			strbuf_addch(&sb, '>');
		vm_row_label(vm, r, &sb);
		strbuf_addf(&sb, "(%u)", r->depth);
		if (r->flags & VM_ROW_F_EXPANDED)
			strbuf_addch(&sb, '-');
		else if (r->flags & VM_ROW_F_EXPANDABLE)
			strbuf_addch(&sb, '+');
	}
	return strbuf_detach(&sb);
}

#define CHECK_ROWS(vm, want, ...)                     \
	do {                                          \
		char *s_ = rows_str(vm);              \
		CHECK_STR(s_, want, __VA_ARGS__);     \
		free(s_);                             \
	} while (0)

static size_t row_of(const struct viewmodel *vm, const char *name)
{
	for (size_t i = 0; i < vm->nr_rows; i++) {
		const struct frame *f = vm_row_frame(vm, &vm->rows[i]);

		if (f && !strcmp(f->name, name))
			return i;
	}
	return SIZE_MAX;
}

static const char *sel_name(const struct viewmodel *vm)
{
	const struct vm_row *r = vm_selected(vm);
	const struct frame *f = r ? vm_row_frame(vm, r) : NULL;

	return f ? f->name : "(none)";
}

static void test_tree(void)
{
	struct vm_config c = { .user = true };
	struct viewmodel *vm = vm_new(p, &c);

	vm_rebuild(vm);
	CHECK(vm->total == 20, "the tree counts every sample (%llu)", (unsigned long long)vm->total);
	CHECK_ROWS(vm, ">main(0)- hot_a(1)- leaf(2) hot_b(1)+ hot_c(1)+ lib:qsort(1)+",
		   "hottest path auto-expanded on start, the rest collapsed, hot first");
	CHECK(vm->rows[1].total == 9 && vm->rows[1].self == 0 && vm->rows[2].self == 9,
	      "rows carry total and self counts");

	vm_move(vm, 3);
	CHECK_STR(sel_name(vm), "hot_b", "Down x3 selects hot_b");
	CHECK(vm_expand(vm), "expanding hot_b changes the rows");
	CHECK_ROWS(vm, "main(0)- hot_a(1)- leaf(2) >hot_b(1)- leaf(2) hot_c(1)+ lib:qsort(1)+",
		   "hot_b's leaf is shown below it");
	CHECK(!vm_expand(vm), "expanding an expanded node changes nothing");

	/* hot_b becomes the hottest: node ids and order change, state must not. */
	add(th, STACK("main", "hot_b", "leaf"), 10);
	vm_rebuild(vm);
	CHECK_ROWS(vm, "main(0)- >hot_b(1)- leaf(2) hot_a(1)- leaf(2) hot_c(1)+ lib:qsort(1)+",
		   "after a rebuild that reorders nodes, expansion and selection follow hot_b");

	CHECK(vm_collapse(vm), "collapse hot_b");
	CHECK_ROWS(vm, "main(0)- >hot_b(1)+ hot_a(1)- leaf(2) hot_c(1)+ lib:qsort(1)+",
		   "collapsing hides hot_b's children");
	CHECK(vm_toggle(vm) && vm->rows[2].depth == 2, "Enter (toggle) opens it again");
	CHECK(vm_right(vm) && !strcmp(sel_name(vm), "leaf"), "Right on an open node goes to its child");
	CHECK(vm_left(vm) && !strcmp(sel_name(vm), "hot_b"), "Left on a leaf goes to its parent");
	CHECK(vm_left(vm) && vm->rows[vm->sel].flags == VM_ROW_F_EXPANDABLE,
	      "Left on an open node collapses it");

	vm_home(vm);
	CHECK(vm_expand_all(vm), "* expands everything below main");
	CHECK_ROWS(vm,
		   ">main(0)- hot_b(1)- leaf(2) hot_a(1)- leaf(2) hot_c(1)- leaf(2) lib:qsort(1)- "
		   "[3 frames hidden] libc.so.6(2) cmp(2)",
		   "every node open; libc frames below qsort collapsed pyinstrument-style");
	CHECK(vm->rows[8].kind == VM_ROW_HIDDEN && vm->rows[8].self == 1,
	      "the hidden group carries the self time of the hidden frames");

	vm_set_show_hidden(vm, true);
	CHECK(row_of(vm, "lib:msort") != SIZE_MAX && row_of(vm, "lib:memcpy") != SIZE_MAX,
	      "H shows the hidden library frames");
	vm_set_show_hidden(vm, false);

	vm_set_height(vm, 3);
	vm_end(vm);
	CHECK(vm->sel == vm->nr_rows - 1 && vm->top == vm->nr_rows - 3,
	      "End selects the last row and scrolls it into view (top %zu of %zu)", vm->top, vm->nr_rows);
	vm_move(vm, -100);
	CHECK(vm->sel == 0 && vm->top == 0, "moves are clamped; the top follows the selection");

	/* Sort by self: hot_c's subtree has no self, nor do the others; by name. */
	vm_set_sort(vm, VM_SORT_NAME);
	CHECK_STR(vm_row_frame(vm, &vm->rows[1])->name, "hot_a", "sort by name puts hot_a first");
	vm_set_sort(vm, VM_SORT_TOTAL);
	CHECK_STR(vm_row_frame(vm, &vm->rows[1])->name, "hot_b", "sort by total puts hot_b first again");
	CHECK(!vm_set_kernel(vm, true) && strstr(vm->msg, "-K"), "kernel toggle explains -K");
	vm_free(vm);
}

static void test_search(void)
{
	struct vm_config c = { .user = true };
	struct viewmodel *vm = vm_new(p, &c);

	vm_rebuild(vm);
	vm_home(vm);
	CHECK(vm_set_search(vm, "HOT_C") && !strcmp(sel_name(vm), "hot_c"),
	      "search is case-insensitive and jumps to hot_c");
	CHECK(vm->nr_matches == 1, "one match for hot_c");
	CHECK(vm->rows[row_of(vm, "hot_c")].flags & VM_ROW_F_MATCH, "the match is highlighted");

	vm_home(vm);
	vm_collapse(vm);
	CHECK(vm->nr_rows == 1, "main collapsed: one row");
	CHECK(vm_set_search(vm, "leaf") && !strcmp(sel_name(vm), "leaf"),
	      "search finds a leaf inside a collapsed subtree");
	CHECK(vm->nr_matches == 3, "leaf matches under hot_b, hot_a, hot_c (%zu)", vm->nr_matches);
	CHECK(vm->rows[vm->sel].depth == 2 &&
		      !strcmp(vm_row_frame(vm, &vm->rows[vm->sel - 1])->name, "hot_b"),
	      "its ancestors were expanded: it is hot_b's leaf (the first in order)");
	vm_search_next(vm, 1);
	CHECK(!strcmp(vm_row_frame(vm, &vm->rows[vm->sel - 1])->name, "hot_a"), "n: the next leaf, under hot_a");
	vm_search_next(vm, 1);
	vm_search_next(vm, 1);
	CHECK(!strcmp(vm_row_frame(vm, &vm->rows[vm->sel - 1])->name, "hot_b"), "n wraps around");
	vm_search_next(vm, -1);
	CHECK(!strcmp(vm_row_frame(vm, &vm->rows[vm->sel - 1])->name, "hot_c"), "N goes back (wrapping)");
	CHECK(!vm_set_search(vm, "nosuch") && !strncmp(vm->msg, "Not found", 9),
	      "a search without match says so");
	CHECK(vm_set_search(vm, "hot_?") && vm->nr_matches == 3, "a glob search matches hot_a/b/c");
	vm_set_search(vm, "");
	CHECK(!(vm->rows[vm->sel].flags & VM_ROW_F_MATCH), "clearing the search removes highlights");
	vm_free(vm);
}

static void test_filter_focus(void)
{
	struct vm_config c = { .user = true };
	struct viewmodel *vm = vm_new(p, &c);

	vm_rebuild(vm);
	vm_set_filter(vm, "hot_c");
	CHECK(vm->total == 3, "filter keeps only stacks through hot_c (%llu)", (unsigned long long)vm->total);
	CHECK_ROWS(vm, ">main(0)- hot_c(1)- leaf(2)", "the filtered tree is main > hot_c > leaf");
	vm_set_filter(vm, "");
	CHECK(vm->total == 30, "an empty filter shows everything again");

	vm_select(vm, row_of(vm, "hot_a"));
	CHECK(vm_focus_selected(vm), "z focuses on hot_a");
	CHECK(vm->total == 9, "the focused tree holds hot_a's samples");
	CHECK_ROWS(vm, ">hot_a(0)- leaf(1)", "hot_a is the new root");
	CHECK(vm->nr_focus == 1 && !strcmp(vm->focus[0].label, "hot_a"), "the header can name the focus");
	CHECK(vm_unfocus(vm) && vm->total == 30 && !strcmp(sel_name(vm), "hot_a"),
	      "backing out restores the whole tree and the selection");
	CHECK(!vm_unfocus(vm), "nothing left to back out of");
	vm_free(vm);
}

static void test_views(void)
{
	struct vm_config c = { .user = true, .view = VM_INVERTED };
	struct viewmodel *vm = vm_new(p, &c);

	vm_rebuild(vm);
	CHECK_ROWS(vm, ">leaf(0)- hot_b(1)- main(2) hot_a(1)+ hot_c(1)+ cmp(0)+ lib:memcpy(0)+",
		   "inverted: leaf on top, its callers below, the hottest caller chain open");
	CHECK(vm->rows[0].self == 28 && vm->rows[1].self == 0,
	      "inverted: a top row's self is the function's own time; callers have none");

	vm_set_view(vm, VM_FLAT);
	CHECK(vm->nr_rows == 10, "flat: one row per function (%zu)", vm->nr_rows);
	CHECK(!strcmp(sel_name(vm), "leaf") && vm->rows[0].self == 28 && vm->rows[0].total == 28,
	      "flat view sorted by self: leaf first");
	vm_set_sort(vm, VM_SORT_TOTAL);
	CHECK_STR(vm_row_frame(vm, &vm->rows[0])->name, "main", "flat by total: main (on every stack) first");
	CHECK(vm->rows[0].total == 30 && vm->rows[0].self == 0, "main: total 30, self 0");
	CHECK(vm_set_search(vm, "hot_b") && !strcmp(sel_name(vm), "hot_b"), "search works in the flat view");
	CHECK(vm_focus_selected(vm) && vm->view == VM_TREE && vm->total == 16,
	      "focusing a function in the flat view opens its tree");
	vm_free(vm);
}

static void test_processes_and_escaping(void)
{
	struct vm_config c = { .user = true, .by_process = true };
	struct viewmodel *vm;
	struct strbuf sb = STRBUF_INIT;
	size_t r;

	add(th2, STACK("evil\033[2J\x07name\xff"), 5);
	vm = vm_new(p, &c);
	vm_rebuild(vm);
	CHECK_STR(vm_row_frame(vm, &vm->rows[0])->name, "app [42]", "grouped by process: the hottest process first");
	r = row_of(vm, "other [43]");
	CHECK(r != SIZE_MAX && vm->rows[r].depth == 0, "the other process is a top-level row");
	vm_select(vm, r);
	vm_expand(vm);
	vm_row_label(vm, &vm->rows[r + 1], &sb);
	CHECK_STR(sb.buf, "evil\\x1b[2J\\x07name\\xff", "control bytes and invalid UTF-8 are escaped");
	vm_select(vm, r);
	CHECK(vm_focus_selected(vm) && vm->total == 5, "focusing a process keeps only its samples");
	vm_unfocus(vm);
	vm_set_grouping(vm, false, false);
	CHECK_STR(vm_row_frame(vm, &vm->rows[0])->name, "main", "grouping off: main on top");
	strbuf_release(&sb);
	vm_free(vm);
}

/* A second app process: one "app [2 processes]" row above both. */
static void test_programs(void)
{
	struct vm_config c = { .user = true, .by_process = true, .by_program = true };
	struct viewmodel *vm;
	struct strbuf sb = STRBUF_INIT;
	size_t r;

	add(profile_thread(p, 44, 44, "app", "app"), STACK("main", "hot_c"), 4);
	vm = vm_new(p, &c);
	vm_rebuild(vm);
	vm_row_label(vm, &vm->rows[0], &sb);
	CHECK(!strcmp(sb.buf, "app [2 processes]") && vm->rows[0].depth == 0 && vm->rows[0].total == 34,
	      "by program: 'app [2 processes]' on top with both processes' 34 samples (%s, %llu)",
	      sb.buf, (unsigned long long)vm->rows[0].total);
	r = row_of(vm, "app [44]");
	CHECK(r != SIZE_MAX && vm->rows[r].depth == 1 && row_of(vm, "app [42]") == 1,
	      "... expanded, its processes one level down");
	r = row_of(vm, "other [43]");
	CHECK(r != SIZE_MAX && vm->rows[r].depth == 0, "a program of one process keeps its own top row");
	vm_select(vm, 0);
	CHECK(vm_focus_selected(vm) && vm->total == 34 && row_of(vm, "other [43]") == SIZE_MAX,
	      "focusing a program keeps only its processes (%llu)", (unsigned long long)vm->total);
	vm_unfocus(vm);
	vm_set_programs(vm, false);
	r = row_of(vm, "app [44]");
	CHECK(r != SIZE_MAX && vm->rows[r].depth == 0 && row_of(vm, "app") == SIZE_MAX,
	      "P: each process on top again, no program row");
	vm_free(vm);

	/* A launched command that forked: grouped once it has a second process. */
	c = (struct vm_config){ .user = true, .by_program = true, .auto_group = true };
	vm = vm_new(p, &c);
	vm_rebuild(vm);
	strbuf_reset(&sb);
	vm_row_label(vm, &vm->rows[0], &sb);
	CHECK_STR(sb.buf, "app [2 processes]", "a launched command's processes: grouped by program");
	vm_set_grouping(vm, false, false);
	vm_rebuild(vm);
	CHECK(row_of(vm, "main") == 0, "... until p turns the grouping off, which stays off");
	strbuf_release(&sb);
	vm_free(vm);
}

static void test_min_percent(void)
{
	struct vm_config c = { .user = true, .min_percent = 10 };
	struct viewmodel *vm = vm_new(p, &c);

	vm_rebuild(vm);
	CHECK_ROWS(vm, ">main(0)- hot_b(1)- leaf(2) hot_a(1)+ hot_c(1)+ [1 more under 10%](1)",
		   "nodes under --min-percent are summed up in one row");
	CHECK(vm->rows[5].kind == VM_ROW_MORE && vm->rows[5].total == 2,
	      "the [more] row carries their samples");
	CHECK(!vm_set_search(vm, "cmp") && strstr(vm->msg, "m shows"),
	      "search skips small nodes and says how to show them");
	vm_set_show_small(vm, true);
	CHECK(row_of(vm, "lib:qsort") == 5, "m shows the small nodes");
	vm_free(vm);
}

int main(void)
{
	p = profile_new();
	p->meta.freq_hz = 1000;
	th = profile_thread(p, 42, 42, "app", "app");
	th2 = profile_thread(p, 43, 43, "other", "other");
	add(th, STACK("main", "hot_a", "leaf"), 9);
	add(th, STACK("main", "hot_b", "leaf"), 6);
	add(th, STACK("main", "hot_c", "leaf"), 3);
	add(th, STACK("main", "lib:qsort", "lib:msort", "lib:msort_with_tmp", "cmp"), 1);
	add(th, STACK("main", "lib:qsort", "lib:msort", "lib:memcpy"), 1);
	add(th, STACK("main", "hot_a"), 0);

	/* 20 samples: main 20, hot_a 9, hot_b 6, hot_c 3, qsort 2. */
	test_tree();	/* adds 10 to hot_b: 30 samples */
	test_search();
	test_filter_focus();
	test_views();
	test_min_percent();
	test_processes_and_escaping();
	test_programs();
	profile_free(p);
	return tap_done();
}

/* Unit tests of the profile model, call trees, and the text/folded reports. */
#include "base/hashtab.h"
#include "cmd/cli.h"
#include "model/profile.h"
#include "store/store.h"
#include "report/report.h"
#include "report_fixture.h"
#include "tap.h"
#include "model/tree.h"
#include "base/util.h"

#include <stdlib.h>

static frame_id_t fn(struct profile *p, const char *name)
{
	struct frame f = { .name = name, .module = "/usr/bin/demo", .kind = FRAME_NATIVE };

	return profile_frame(p, &f);
}

/* main -> a -> leaf x6, main -> b -> leaf x3, main -> c x1 (self in c) */
static struct profile *fixture(void)
{
	struct profile *p = profile_new();
	uint32_t th = profile_thread(p, 42, 42, "demo", "demo");
	uint32_t th2 = profile_thread(p, 42, 43, "worker", "demo");
	frame_id_t s1[] = { fn(p, "main"), fn(p, "a"), fn(p, "leaf") };
	frame_id_t s2[] = { fn(p, "main"), fn(p, "b"), fn(p, "leaf") };
	frame_id_t s3[] = { fn(p, "main"), fn(p, "c") };

	p->meta.freq_hz = 1000;
	p->meta.target = xstrdup("pid 42 (demo)");
	profile_add_sample(p, th, s1, 3, 6);
	profile_add_sample(p, th, s2, 3, 2);
	profile_add_sample(p, th2, s2, 3, 1);
	profile_add_sample(p, th, s3, 2, 1);
	return p;
}

static uint32_t child_named(const struct tree *t, uint32_t n, const char *name)
{
	for (uint32_t c = tree_first(t, n); c != NODE_NONE; c = tree_next(t, c))
		if (!strcmp(tree_frame(t, c)->name, name))
			return c;
	return NODE_NONE;
}

static void test_interning(void)
{
	struct profile *p = profile_new();
	struct frame f = { .name = "x", .module = "m" };

	CHECK(profile_frame(p, &f) == profile_frame(p, &f), "same frame interned once");
	CHECK(profile_intern(p, "abc") == profile_intern(p, "abc"), "strings interned");
	f.name = "";
	CHECK_STR(profile_get_frame(p, profile_frame(p, &f))->name, "[unknown]",
		  "an empty name becomes [unknown], never blank");
	profile_free(p);
}

static void test_tree(void)
{
	struct profile *p = fixture();
	struct view_opts vo = VIEW_OPTS_INIT;
	struct tree *t = tree_build(p, &vo);
	uint32_t main_n = child_named(t, 0, "main"), a, b, c;

	CHECK(t->total == 10, "tree total is the sample count (%llu)", (unsigned long long)t->total);
	CHECK(main_n != NODE_NONE && t->nodes[main_n].total == 10, "main holds every sample");
	a = child_named(t, main_n, "a");
	b = child_named(t, main_n, "b");
	c = child_named(t, main_n, "c");
	CHECK(a != NODE_NONE && t->nodes[a].total == 6, "a total 6");
	CHECK(b != NODE_NONE && t->nodes[b].total == 3, "b total 3, both threads merged");
	CHECK(c != NODE_NONE && t->nodes[c].self == 1 && t->nodes[c].total == 1, "c self 1");
	CHECK(tree_first(t, main_n) == a && tree_next(t, a) == b, "children sorted hot first");
	tree_free(t);

	vo.by_thread = true;
	t = tree_build(p, &vo);
	CHECK(child_named(t, 0, "demo [42]") != NODE_NONE && child_named(t, 0, "worker [43]") != NODE_NONE,
	      "by_thread puts one node per thread at the top");
	tree_free(t);

	vo = (struct view_opts)VIEW_OPTS_INIT;
	vo.invert = true;
	t = tree_build(p, &vo);
	{
		uint32_t leaf = child_named(t, 0, "leaf");

		CHECK(leaf != NODE_NONE && t->nodes[leaf].total == 9, "inverted: leaf at the top with 9");
		CHECK(leaf != NODE_NONE && child_named(t, leaf, "a") != NODE_NONE,
		      "inverted: callers below the leaf");
	}
	tree_free(t);

	vo = (struct view_opts)VIEW_OPTS_INIT;
	vo.focus = "b";
	t = tree_build(p, &vo);
	CHECK(t->total == 3 && child_named(t, 0, "b") != NODE_NONE, "focus re-roots at b");
	tree_free(t);

	vo = (struct view_opts)VIEW_OPTS_INIT;
	vo.filter = "a";
	t = tree_build(p, &vo);
	CHECK(t->total == 6 && child_named(t, 0, "main") != NODE_NONE, "filter keeps only stacks through a");
	tree_free(t);
	profile_free(p);
}

/* One matcher for every option that names frames: name, module basename and
 * path, source file; and --focus and --filter go through it. */
static void test_frame_matches(void)
{
	struct profile *p = profile_new();
	struct frame lex = { .name = "next_token", .module = "/opt/vendor/libparse.so.2",
			     .file = "/src/parse/lexer.c", .line = 9, .kind = FRAME_NATIVE };
	struct frame plain = { .name = "main", .module = "/usr/bin/demo", .kind = FRAME_NATIVE };
	uint32_t th = profile_thread(p, 7, 7, "demo", "demo");
	frame_id_t s1[] = { profile_frame(p, &plain), profile_frame(p, &lex) };
	frame_id_t s2[] = { profile_frame(p, &plain) };
	struct view_opts vo = VIEW_OPTS_INIT;
	struct tree *t;

	CHECK(frame_matches(&lex, "next_*"), "a glob matches the function name");
	CHECK(frame_matches(&lex, "libparse.so*"), "a glob matches the module's basename");
	CHECK(frame_matches(&lex, "/opt/vendor/*"), "a glob matches the module's full path");
	CHECK(frame_matches(&lex, "*/parse/lexer.c"), "a glob matches the source file");
	CHECK(!frame_matches(&lex, "token") && !frame_matches(&plain, "*/parse/*"),
	      "no match on a part of a name without *, nor on fields the frame lacks");

	profile_add_sample(p, th, s1, 2, 3);
	profile_add_sample(p, th, s2, 1, 5);
	vo.focus = "*/parse/*";
	t = tree_build(p, &vo);
	CHECK(t->total == 3 && child_named(t, 0, "next_token") != NODE_NONE,
	      "--focus by source file re-roots at the frame from that file");
	tree_free(t);
	vo = (struct view_opts)VIEW_OPTS_INIT;
	vo.filter = "/opt/vendor/*";
	t = tree_build(p, &vo);
	CHECK(t->total == 3, "the filter by module path keeps only the stacks through it (%llu)",
	      (unsigned long long)t->total);
	tree_free(t);
	profile_free(p);
}

/* main -> x 17, main -> y 73, main -> z 10: shares 17%, 73%, 10%. */
static struct profile *heat_fixture(void)
{
	struct profile *p = profile_new();
	uint32_t th = profile_thread(p, 9, 9, "heat", "heat");
	frame_id_t sx[] = { fn(p, "main"), fn(p, "x") }, sy[] = { fn(p, "main"), fn(p, "y") };
	frame_id_t sz[] = { fn(p, "main"), fn(p, "z") };

	p->meta.freq_hz = 1000;
	profile_add_sample(p, th, sx, 2, 17);
	profile_add_sample(p, th, sy, 2, 73);
	profile_add_sample(p, th, sz, 2, 10);
	return p;
}

/* What a user sees on a terminal: colour unless NO_COLOR is set to something
 * (no-color.org: an empty NO_COLOR= leaves it on), --color always; rows
 * coloured on the live view's heat scale (green from 15%). */
static void test_color(void)
{
	struct profile *p = heat_fixture();
	struct options opts;
	struct report_opts o;
	char *s;

	options_init(&opts);
	setenv("NO_COLOR", "", 1);
	options_report(&opts, &o, true);
	s = fx_render(p, FMT_TEXT, &o, NULL);
	CHECK(o.color && s && strstr(s, "\033["), "NO_COLOR= (empty): the text report is coloured");
	CHECK(s && strstr(s, "\033[32m0.017") && strstr(s, "\033[31m0.073") &&
		      strstr(s, "\033[36m0.010"),
	      "heat: 17%% green (mild from 15%%), 73%% red, 10%% cyan");
	free(s);
	setenv("NO_COLOR", "1", 1);
	options_report(&opts, &o, true);
	s = fx_render(p, FMT_TEXT, &o, NULL);
	CHECK(!o.color && s && !strstr(s, "\033"), "NO_COLOR=1: no colour");
	free(s);
	opts.color = 1;
	options_report(&opts, &o, false);
	CHECK(o.color, "--color wins over NO_COLOR=1 and a non-terminal");
	unsetenv("NO_COLOR");
	opts.color = -1;
	options_report(&opts, &o, false);
	CHECK(!o.color, "no colour off a terminal by default");
	options_free(&opts);
	profile_free(p);
}

static void test_reports(void)
{
	struct profile *p = fixture();
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0 };
	char *s;

	s = fx_render(p, FMT_FOLDED, &o, NULL);
	CHECK_STR(s, "main;a;leaf 6\nmain;b;leaf 3\nmain;c 1\n", "folded output, threads merged");
	free(s);

	s = fx_render(p, FMT_TEXT, &o, NULL);
	CHECK(strstr(s, "0.010 main  demo\n") != NULL, "text: root line 'total  function  module'");
	CHECK(strstr(s, "├─ 0.006 a  demo\n") != NULL, "text: box drawing and hot path first");
	CHECK(strstr(s, "│  └─ 0.006 leaf  demo\n") != NULL, "text: nested child");
	CHECK(strstr(s, "\n10 samples · none lost") != NULL, "text: header counts samples");
	free(s);

	o.ascii = true;
	s = fx_render(p, FMT_TEXT, &o, NULL);
	CHECK(strstr(s, "|- 0.006 a  demo\n") != NULL && !strstr(s, "├"), "text: --ascii");
	free(s);

	o.ascii = false;
	o.min_percent = 15;
	s = fx_render(p, FMT_TEXT, &o, NULL);
	CHECK(strstr(s, " c  demo") == NULL && strstr(s, " b  demo") != NULL,
	      "text: nodes under --min-percent are elided");
	free(s);
	profile_free(p);
}

static void test_escaping(void)
{
	struct profile *p = profile_new();
	uint32_t th = profile_thread(p, 1, 1, "x", "x");
	frame_id_t fr[] = { fn(p, "evil\033[2J;name\x01\xff") };
	struct report_opts o = { .view = VIEW_OPTS_INIT };
	char *s;

	p->meta.freq_hz = 1000;
	profile_add_sample(p, th, fr, 1, 1);
	s = fx_render(p, FMT_TEXT, &o, NULL);
	CHECK(!strchr(s, '\033') && strstr(s, "evil\\x1b[2J;name\\x01\\xff"),
	      "text: control bytes and invalid UTF-8 escaped");
	free(s);
	s = fx_render(p, FMT_FOLDED, &o, NULL);
	CHECK_STR(s, "evil\\x1b[2J\\x3bname\\x01\\xff 1\n", "folded: escaped, ';' cannot split a frame");
	free(s);
	profile_free(p);
}

static void test_escape_helpers(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_escaped(&sb, "caf\xc3\xa9 \xe2\x94\x80 ok\\");
	CHECK_STR(sb.buf, "caf\xc3\xa9 \xe2\x94\x80 ok\\\\", "valid UTF-8 passes, backslash doubled");
	strbuf_reset(&sb);
	strbuf_add_escaped(&sb, "\xc2\x9b" "31m \xc0\xaf \xed\xa0\x80");
	CHECK_STR(sb.buf, "\\xc2\\x9b31m \\xc0\\xaf \\xed\\xa0\\x80",
		  "C1 controls, overlong forms and surrogates escaped");
	strbuf_reset(&sb);
	strbuf_add_html(&sb, "<script>alert('x')&</script>");
	CHECK_STR(sb.buf, "&lt;script&gt;alert(&#39;x&#39;)&amp;&lt;/script&gt;", "HTML escaping");
	strbuf_reset(&sb);
	strbuf_add_json(&sb, "a\"b\\\n</\xff");
	CHECK_STR(sb.buf, "a\\\"b\\\\\\u000a\\u003c/\\ufffd", "JSON escaping");
	strbuf_release(&sb);
}

static void test_caps(void)
{
	struct profile *p = profile_new();
	uint32_t th = profile_thread(p, 1, 1, "x", "x");
	struct view_opts vo = VIEW_OPTS_INIT;
	struct tree *t;
	char name[32];

	p->max_stacks = 3;
	for (int i = 0; i < 10; i++) {
		frame_id_t f;

		snprintf(name, sizeof(name), "f%d", i);
		f = fn(p, name);
		profile_add_sample(p, th, &f, 1, 1);
	}
	CHECK(p->nr_stacks == 4, "stack cap 3: three stacks plus one overflow stack (%zu)", p->nr_stacks);
	CHECK(p->meta.counters[PC_STACK_TABLE_FULL] == 7, "seven samples counted as stack_table_full");
	CHECK(p->total == 10, "every sample still counted in the total");
	t = tree_build(p, &vo);
	CHECK(t->nr == 5 && !strcmp(tree_frame(t, tree_first(t, 0))->name,
				     "[truncated: too many distinct stacks]"),
	      "the overflow shows as one '[truncated: too many distinct stacks]' node, hottest");
	tree_free(t);

	p->max_frames = p->nr_frames;
	CHECK(fn(p, "new1") == fn(p, "new2") &&
		      !strcmp(profile_get_frame(p, fn(p, "new3"))->name, "[truncated: too many distinct frames]"),
	      "frame cap: new frames share one truncation frame");
	CHECK(p->meta.counters[PC_FRAME_TABLE_FULL] == 3, "frames past the cap counted (3 new names)");
	profile_free(p);
}

/* Linear probing with backward-shift removal: ids crowded into a few home
 * slots, half removed in a scrambled order, the rest still found. */
static int id_eq(uint32_t id, const void *key, const void *ctx)
{
	(void)ctx;
	return id == *(const uint32_t *)key;
}

static void test_idx_remove(void)
{
	struct idx_table t = { 0 };
	enum { N = 5000 };
	size_t found = 0, gone = 0;

	for (uint32_t i = 0; i < N; i++)
		idx_insert(&t, i % 61 * 7919u, i);
	for (uint32_t k = 0; k < N; k++) {
		uint32_t i = k * 761 % N;	/* a permutation of 0..N-1: 761 is prime */

		if (i % 2)
			idx_remove(&t, i % 61 * 7919u, i);
	}
	idx_remove(&t, 12345, N + 7);	/* not there: nothing happens */
	for (uint32_t i = 0; i < N; i++) {
		uint32_t id = idx_find(&t, i % 61 * 7919u, id_eq, &i, NULL);

		if (i % 2)
			gone += id == IDX_NONE;
		else
			found += id == i;
	}
	CHECK(found == N / 2 && gone == N / 2 && t.nr == N / 2,
	      "idx_remove: %zu of %d kept ids found, %zu of %d removed ids gone, %zu left", found,
	      N / 2, gone, N / 2, t.nr);
	idx_free(&t);
}

/* pid 42 runs on (thread 42 alive, thread 43 exited); pid 0 is the idle
 * task; pids from 1000 are short jobs that all exited. */
static enum thread_state fake_state(uint32_t pid, uint32_t tid, void *ctx)
{
	(void)ctx;
	if (pid == 42)
		return tid == 42 ? THREAD_ALIVE : THREAD_PROCESS_ALIVE;
	return pid >= 1000 ? THREAD_GONE : THREAD_ALIVE;
}

static void add_jobs(struct profile *p, uint32_t first, uint32_t n, frame_id_t work)
{
	for (uint32_t pid = first; pid < first + n; pid++)
		profile_add_sample(p, profile_thread(p, pid, pid, "job", "job"), &work, 1, 2);
}

static void test_coalesce(void)
{
	struct profile *p = profile_new(), *back = NULL;
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0 };
	frame_id_t work = fn(p, "work"), idle = fn(p, "do_idle");
	uint32_t live = profile_thread(p, 42, 42, "demo", "demo");
	size_t merged, frames, strs, jobs_ok = 1, flat = 1;
	char err[256], *s;
	int rc;

	p->meta.freq_hz = 1000;
	profile_add_sample(p, live, &work, 1, 5);
	profile_add_sample(p, profile_thread(p, 42, 43, "worker", "demo"), &work, 1, 3);
	profile_add_sample(p, profile_thread(p, 0, 0, "swapper/0", "swapper/0"), &idle, 1, 7);
	add_jobs(p, 1000, 500, work);
	merged = profile_coalesce_exited(p, fake_state, NULL);
	CHECK(merged == 501 - 2 && p->nr_threads == 4,
	      "503 thread records become 4: demo 42, demo's exited threads, the exited jobs, idle "
	      "(%zu merged, %zu left)", merged, p->nr_threads);
	CHECK(p->total == 5 + 3 + 7 + 1000 && p->generation == 1,
	      "no sample lost in the merge (total %llu)", (unsigned long long)p->total);
	CHECK(p->nr_free_frames == 2 * 500 + 1 && p->nr_free_strs == 500 + 1,
	      "the exited threads' frames (%zu) and names (%zu) are freed for reuse",
	      p->nr_free_frames, p->nr_free_strs);
	CHECK(profile_special_frame(p, FRAME_PROCESS, "demo [42]") == p->threads[0].proc_frame,
	      "the live process keeps its frame, still found by name");

	o.view.by_process = o.view.by_thread = true;
	s = fx_render(p, FMT_FOLDED, &o, NULL);
	CHECK(s && strstr(s, "job;job [exited];work 1000\n") && strstr(s, "demo;demo [42];work 5\n") &&
		      strstr(s, "demo;worker [exited];work 3\n") &&
		      strstr(s, "swapper/0;swapper/0 [0];do_idle 7\n"),
	      "folded: jobs merged under 'job [exited]', demo's exited worker under demo");
	free(s);
	s = fx_render(p, FMT_TEXT, &o, NULL);
	CHECK(s && strstr(s, "job [exited]") && strstr(s, "worker [exited]") && strstr(s, "demo [42]") &&
		      !strstr(s, "[1000]") && !strstr(s, "[unused]"),
	      "text: 'job [exited]' and 'worker [exited]'; no exited pid, no freed frame");
	free(s);

	/* Churn: rounds of jobs that come and go; the tables stop growing. */
	frames = p->nr_frames;
	strs = p->nr_strs;
	for (uint32_t round = 0; round < 20; round++) {
		add_jobs(p, 2000 + round * 500, 500, work);
		profile_coalesce_exited(p, fake_state, NULL);
		jobs_ok &= p->nr_threads == 4;
		flat &= p->nr_frames == frames && p->nr_strs == strs;
	}
	CHECK(jobs_ok && flat && p->total == 1015 + 20 * 1000,
	      "20 rounds of 500 jobs: 4 thread records, %zu frames and %zu strings as after the "
	      "first merge (%zu, %zu), total %llu", p->nr_frames, p->nr_strs, frames, strs,
	      (unsigned long long)p->total);

	/* A saved profile keeps the merged records for what they are. */
	s = fx_render(p, FMT_JSON, &o, NULL);
	CHECK(s && strstr(s, "\"comm\": \"job\", \"process\": \"job\", \"exited\": true"),
	      "json: the merged record says \"exited\": true");
	CHECK(s && p->nr_free_frames && !strstr(s, "[unused]"),
	      "json: the %zu freed frame slots are left out", p->nr_free_frames);
	rc = s ? store_load_buf(s, strlen(s), &back, err, sizeof(err)) : -1;
	free(s);
	CHECK(rc == 0 && back->total == p->total, "json: loads back (%s)", rc ? err : "ok");
	s = rc ? NULL : fx_render(back, FMT_FOLDED, &o, NULL);
	CHECK(s && strstr(s, "job;job [exited];work 21000\n"), "json: loaded, still 'job [exited]'");
	free(s);
	profile_free(back);
	profile_free(p);
}

/* A merge frees thread frames by renaming them "[unused]": a real frame of
 * that name (a JIT's perf map can say anything) is no freed slot, and the
 * saved profile keeps it and its samples. */
static void test_coalesce_keeps_named_unused(void)
{
	struct profile *p = profile_new(), *back = NULL;
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0 };
	struct frame jit = { .name = "[unused]", .module = "/tmp/perf-7.map", .kind = FRAME_NATIVE,
			     .flags = FRAME_F_JIT };
	frame_id_t f = profile_frame(p, &jit);
	char err[256], *s;
	int rc;

	p->meta.freq_hz = 1000;
	profile_add_sample(p, profile_thread(p, 42, 42, "demo", "demo"), &f, 1, 5);
	add_jobs(p, 1000, 3, fn(p, "work"));
	profile_coalesce_exited(p, fake_state, NULL);
	CHECK(!profile_frame_is_free(p, f), "a JIT frame named [unused] is no freed slot");
	s = fx_render(p, FMT_JSON, &o, NULL);
	rc = s ? store_load_buf(s, strlen(s), &back, err, sizeof(err)) : -1;
	free(s);
	s = rc ? NULL : fx_render(back, FMT_FOLDED, &o, NULL);
	CHECK(s && strstr(s, "[unused] 5\n") && back->total == 5 + 6,
	      "json: the frame and its 5 samples are saved and load back (%s)", rc ? err : "ok");
	free(s);
	profile_free(back);
	profile_free(p);
}

/* A build in miniature: cc ran as 3 processes (5, 3 and 2 samples), make as
 * one (4). */
static struct profile *build_fixture(void)
{
	struct profile *p = profile_new();
	frame_id_t cc[] = { fn(p, "main"), fn(p, "parse") }, mk[] = { fn(p, "main"), fn(p, "run") };
	static const uint32_t pids[] = { 100, 101, 102 }, counts[] = { 5, 3, 2 };

	p->meta.freq_hz = 1000;
	for (int i = 0; i < 3; i++)
		profile_add_sample(p, profile_thread(p, pids[i], pids[i], "cc", "cc"), cc, 2, counts[i]);
	profile_add_sample(p, profile_thread(p, 50, 50, "make", "make"), mk, 2, 4);
	return p;
}

static char *label_of(const struct tree *t, uint32_t n)
{
	struct strbuf sb = STRBUF_INIT;

	if (n == NODE_NONE)
		return xstrdup("(none)");
	tree_frame_label(t, t->nodes[n].frame, &sb);
	return strbuf_detach(&sb);
}

static void test_programs(void)
{
	struct profile *p = build_fixture(), *back = NULL;
	struct view_opts vo = VIEW_OPTS_INIT;
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0 };
	struct tree *t;
	uint32_t cc, n;
	char *s, err[256];
	int rc;

	vo.by_process = vo.by_program = true;
	t = tree_build(p, &vo);
	cc = tree_first(t, 0);
	s = label_of(t, cc);
	CHECK_STR(s, "cc [3 processes]", "by program: the hottest top node is cc's, with its processes counted");
	free(s);
	CHECK(tree_frame(t, cc)->kind == FRAME_PROGRAM && t->nodes[cc].total == 10 &&
		      t->nodes[0].nr_children == 2,
	      "... holding the total of its processes (%llu of 10), beside one other top node (%u)",
	      (unsigned long long)t->nodes[cc].total, t->nodes[0].nr_children);
	n = child_named(t, cc, "cc [100]");
	CHECK(t->nodes[cc].nr_children == 3 && n != NODE_NONE && t->nodes[n].total == 5 &&
		      child_named(t, n, "main") != NODE_NONE,
	      "... expandable to its 3 processes, each to its stacks (cc [100]: 5)");
	n = child_named(t, 0, "make [50]");
	s = label_of(t, n);
	CHECK(n != NODE_NONE && t->nodes[n].total == 4 && child_named(t, n, "main") != NODE_NONE,
	      "a program of one process keeps its 'name [pid]' node at the top (%s)", s);
	free(s);
	tree_free(t);

	vo.invert = vo.by_thread = true;
	t = tree_build(p, &vo);
	cc = child_named(t, 0, "cc");
	n = cc == NODE_NONE ? NODE_NONE : child_named(t, cc, "cc [101]");
	n = n == NODE_NONE ? NODE_NONE : child_named(t, n, "cc [101]");
	CHECK(n != NODE_NONE && t->nodes[n].total == 3 && child_named(t, n, "parse") != NODE_NONE,
	      "inverted, by thread: program, process and thread stay on top, the leaf below");
	tree_free(t);

	vo = (struct view_opts)VIEW_OPTS_INIT;
	vo.by_process = true;
	t = tree_build(p, &vo);
	CHECK(t->nodes[0].nr_children == 4 && child_named(t, 0, "cc [102]") != NODE_NONE &&
		      child_named(t, 0, "cc") == NODE_NONE,
	      "--processes: one top node per process, no program node (%u)", t->nodes[0].nr_children);
	tree_free(t);

	vo.by_program = true;
	vo.only_pid = 101;
	t = tree_build(p, &vo);
	CHECK(t->total == 3 && t->nodes[0].nr_children == 1 && child_named(t, 0, "cc [101]") != NODE_NONE,
	      "one process of a program in view: its own node, no program level");
	tree_free(t);

	vo.only_pid = 0;
	vo.only_program = profile_intern(p, "cc");
	t = tree_build(p, &vo);
	s = label_of(t, tree_first(t, 0));
	CHECK(t->total == 10 && t->nodes[0].nr_children == 1 && !strcmp(s, "cc [3 processes]"),
	      "only_program: the program's samples alone (%llu, %s)", (unsigned long long)t->total, s);
	free(s);
	tree_free(t);

	o.view.by_process = o.view.by_program = true;
	s = fx_render(p, FMT_TEXT, &o, NULL);
	CHECK(s && strstr(s, "\n0.010 cc [3 processes]\n├─ 0.005 cc [100]\n") &&
		      strstr(s, "\n0.004 make [50]\n"),
	      "text: '0.010 cc [3 processes]', its processes below; 'make [50]' on its own");
	free(s);
	s = fx_render(p, FMT_FOLDED, &o, NULL);
	CHECK(s && !strcmp(s, "cc;main;parse 10\nmake;main;run 4\n"),
	      "folded: the program name is the root frame, its processes add up");
	free(s);
	s = fx_render(p, FMT_HTML, &o, NULL);
	CHECK(s && strstr(s, "[\"cc [3 processes]\",\"\",\"\",3]"), "html: the program's frame is labelled");
	free(s);
	s = fx_render(p, FMT_SPEEDSCOPE, &o, NULL);
	CHECK(s && strstr(s, "\"name\":\"cc [3 processes]\"") && !strstr(s, "cc [100]") &&
		      strstr(s, "\"name\":\"make [50] / make [50]\"") &&
		      strstr(s, "\"endValue\":10000000}"),
	      "speedscope: one profile for the program's processes (10 ms), one per thread else");
	free(s);
	s = fx_render(p, FMT_JSON, &o, NULL);
	CHECK(s && strstr(s, "\"pid\": 102") && !strstr(s, "{\"name\": \"cc\","),
	      "json: the pids are saved, the program frames are not");
	rc = s ? store_load_buf(s, strlen(s), &back, err, sizeof(err)) : -1;
	free(s);
	s = rc ? NULL : fx_render(back, FMT_TEXT, &o, NULL);
	CHECK(s && strstr(s, "\n0.010 cc [3 processes]\n├─ 0.005 cc [100]\n"),
	      "json: loaded back, grouped by program again (%s)", rc ? err : "ok");
	free(s);
	o.view.by_program = false;
	s = fx_render(p, FMT_TEXT, &o, NULL);
	CHECK(s && !strstr(s, "processes]") && strstr(s, "\n0.005 cc [100]\n"),
	      "text, --processes: each process at the top");
	free(s);
	s = fx_render(p, FMT_SPEEDSCOPE, &o, NULL);
	CHECK(s && !strstr(s, "processes]") && strstr(s, "\"name\":\"cc [101] / cc [101]\""),
	      "speedscope, --processes: one profile per thread");
	free(s);
	profile_free(back);
	profile_free(p);

	/* Exited processes merged into one record stand for one or more. */
	p = profile_new();
	add_jobs(p, 1000, 3, fn(p, "work"));
	add_jobs(p, 42, 1, fn(p, "work"));
	profile_coalesce_exited(p, fake_state, NULL);
	vo = (struct view_opts)VIEW_OPTS_INIT;
	vo.by_process = vo.by_program = true;
	t = tree_build(p, &vo);
	s = label_of(t, tree_first(t, 0));
	CHECK_STR(s, "job [2+ processes]", "merged exited processes: counted as one or more");
	free(s);
	tree_free(t);
	profile_free(p);
}

/* --wall: CPU time is what is not under an off-CPU reason leaf. */
static void test_cpu_weight(void)
{
	struct profile *p = profile_new();
	uint32_t th = profile_thread(p, 42, 42, "demo", "demo");
	struct frame reason = { .name = "[sleeping]", .module = "", .kind = FRAME_SPECIAL,
				.flags = FRAME_F_OFFCPU };
	frame_id_t sleeping = profile_frame(p, &reason);
	frame_id_t on[] = { fn(p, "main"), fn(p, "work") };
	frame_id_t off[] = { fn(p, "main"), fn(p, "nap"), sleeping };
	frame_id_t named[] = { fn(p, "main"), profile_special_frame(p, FRAME_SPECIAL, "[no stack]") };

	p->meta.wall = true;
	profile_add_sample(p, th, on, 2, 3000000);
	profile_add_sample(p, th, off, 3, 250000000);
	profile_add_sample(p, th, named, 2, 1000000);
	CHECK(profile_cpu_weight(p) == 4000000, "cpu weight leaves out off-CPU leaves (%llu)",
	      (unsigned long long)profile_cpu_weight(p));
	CHECK(p->total == 254000000, "total is wall time");
	profile_free(p);
}

int main(void)
{
	test_cpu_weight();
	test_idx_remove();
	test_coalesce();
	test_coalesce_keeps_named_unused();
	test_caps();
	test_interning();
	test_tree();
	test_programs();
	test_frame_matches();
	test_reports();
	test_color();
	test_escaping();
	test_escape_helpers();
	return tap_done();
}

/* Unit tests of model/calls: percentiles, the histogram, slowest-N eviction,
 * splitting a Python thread's timeline into calls, a call's own profile,
 * and calls across profile_coalesce_exited(). */
#include "model/calls.h"
#include "model/tree.h"
#include "store/store.h"
#include "report/report.h"
#include "tui/callsview.h"
#include "cmd/cli.h"
#include "cmd/output.h"
#include "cmd/callrec.h"
#include "base/util.h"

#include "tap.h"

#include <errno.h>
#include <stdlib.h>

#define MS 1000000ull

static void end_call(struct calls *c, uint32_t fn, uint64_t id, uint64_t begin, uint64_t dur)
{
	calls_begin(c, fn, id, 10, 11, "worker", "server", begin);
	calls_end(c, id, begin + dur);
}

static void test_percentiles(void)
{
	struct calls *c = calls_new(5);
	uint32_t fn = calls_add_fn(c, "handle", false);
	struct calls_fn *f = &c->fns[fn];

	CHECK(calls_percentile(f, 0.5) == 0, "no calls: percentile 0");
	/* 1..100 ms, in a shuffled order. */
	for (uint64_t i = 0; i < 100; i++)
		end_call(c, fn, i + 1, 1000 * MS, ((i * 37) % 100 + 1) * MS);
	CHECK(f->count == 100, "100 calls counted (%llu)", (unsigned long long)f->count);
	CHECK(f->total_ns == 5050 * MS, "total is the sum of durations");
	CHECK(calls_percentile(f, 0.5) == 50 * MS, "p50 of 1..100 ms is 50 ms (%llu)",
	      (unsigned long long)calls_percentile(f, 0.5));
	CHECK(calls_percentile(f, 0.9) == 90 * MS, "p90 is 90 ms");
	CHECK(calls_percentile(f, 0.99) == 99 * MS, "p99 is 99 ms");
	CHECK(calls_percentile(f, 1.0) == 100 * MS && f->max_ns == 100 * MS, "p100 = max = 100 ms");
	{
		struct calls *c3 = calls_new(1);
		uint32_t f3 = calls_add_fn(c3, "g", false);

		for (uint64_t i = 1; i <= 3; i++)
			end_call(c3, f3, i, 0, i * MS);
		CHECK(calls_percentile(&c3->fns[f3], 0.5) == 2 * MS,
		      "p50 of 1, 2, 3 ms is 2 ms (nearest rank rounds up)");
		calls_free(c3);
	}
	/* A new call after sorting re-sorts. */
	end_call(c, fn, 1000, 0, 0);
	CHECK(calls_percentile(f, 0.001) == 0, "a later shorter call is seen by the percentiles");
	calls_free(c);
}

static void test_histogram(void)
{
	struct calls *c = calls_new(1);
	uint32_t fn = calls_add_fn(c, "f", false);
	uint64_t sum = 0;

	CHECK(calls_hist_upper_ns(0) == 1000, "first bin: below 1 us");
	CHECK(calls_hist_upper_ns(1) == 2000 && calls_hist_upper_ns(2) == 5000,
	      "1-2-5 steps: 2 us, 5 us");
	CHECK(calls_hist_upper_ns(3) == 10000, "then 10 us");
	CHECK(calls_hist_upper_ns(CALLS_HIST_BINS - 1) == UINT64_MAX, "last bin is open");
	CHECK(calls_hist_bin(999) == 0 && calls_hist_bin(1000) == 1, "bins: upper bound exclusive");
	CHECK(calls_hist_bin(200 * MS) == calls_hist_bin(499 * MS) &&
	      calls_hist_bin(200 * MS) != calls_hist_bin(500 * MS), "200-500 ms is one bin");
	CHECK(calls_hist_bin(UINT64_MAX - 1) == CALLS_HIST_BINS - 1, "huge: the open bin");
	end_call(c, fn, 1, 0, 250 * MS);
	end_call(c, fn, 2, 0, 300 * MS);
	end_call(c, fn, 3, 0, 1 * MS);
	CHECK(c->fns[fn].hist[calls_hist_bin(250 * MS)] == 2, "two calls in 200-500 ms");
	CHECK(c->fns[fn].hist[calls_hist_bin(1 * MS)] == 1, "one in 1-2 ms");
	for (uint32_t i = 0; i < CALLS_HIST_BINS; i++)
		sum += c->fns[fn].hist[i];
	CHECK(sum == 3, "the histogram counts every call");
	calls_free(c);
}

static void test_slowest(void)
{
	struct calls *c = calls_new(3);
	uint32_t fn = calls_add_fn(c, "f", false);
	struct calls_fn *f = &c->fns[fn];
	const uint64_t durs[] = { 5, 9, 1, 7, 3, 9, 8 };
	const struct call *ended;

	for (size_t i = 0; i < ARRAY_SIZE(durs); i++) {
		struct call *open = calls_begin(c, fn, 100 + i, 1, 2, "t", "p", 0);

		CHECK(open && calls_find_open(c, 100 + i) == open, "call %zu is open", i);
		calls_add(c, 100 + i, (uint32_t)i, durs[i]);
		ended = calls_end(c, 100 + i, durs[i] * MS);
		CHECK(ended && call_duration(ended) == durs[i] * MS && ended->number == i + 1,
		      "the ended call is handed back with its duration and number %zu", i + 1);
		CHECK(ended && ended->nr_recs == 1 && ended->recs[0].weight == durs[i],
		      "... and its own sample");
	}
	CHECK(f->nr_slowest == 3, "3 kept of 7");
	CHECK(call_duration(f->slowest[0]) == 9 * MS && f->slowest[0]->id == 101,
	      "slowest first; a tie keeps the earlier call");
	CHECK(call_duration(f->slowest[1]) == 9 * MS && f->slowest[1]->id == 105,
	      "the later 9 ms call second");
	CHECK(call_duration(f->slowest[2]) == 8 * MS, "then 8 ms (7 and 5 evicted)");
	CHECK(f->slowest[2]->recs[0].stack == 6, "a kept call keeps its samples");
	CHECK(f->count == 7 && f->max_ns == 9 * MS, "every call counted");
	/* Another 9 ms call when the slowest are all as slow: the first stay. */
	calls_begin(c, fn, 200, 1, 2, "t", "p", 0);
	calls_end(c, 200, 9 * MS);
	calls_begin(c, fn, 201, 1, 2, "t", "p", 0);
	calls_end(c, 201, 9 * MS);
	CHECK(f->slowest[2]->id == 200 && f->slowest[0]->id == 101 && f->slowest[1]->id == 105,
	      "a call as slow as the kept ones does not evict them");
	CHECK(!calls_end(c, 999, 0) && c->lost_begin == 1, "ending an unknown call is counted");
	CHECK(!calls_add(c, 999, 0, 1) && c->lost_begin == 2, "a sample of no call is counted");
	calls_free(c);
}

/* Samples of one open call aggregate by stack. */
static void test_recs(void)
{
	struct calls *c = calls_new(2);
	uint32_t fn = calls_add_fn(c, "f", false);
	const struct call *ended;

	calls_begin(c, fn, 7, 1, 1, "t", "p", 0);
	calls_add(c, 7, 3, 10);
	calls_add(c, 7, 4, 5);
	calls_add(c, 7, 3, 1);
	ended = calls_end(c, 7, 100);
	CHECK(ended->nr_recs == 2 && ended->recs[0].weight == 11 && ended->weight == 16,
	      "samples aggregate by stack; weight is their sum");
	/* Beginning an id still open ends it first (its end was lost). */
	calls_begin(c, fn, 8, 1, 1, "t", "p", 200);
	calls_begin(c, fn, 8, 1, 1, "t", "p", 300);
	CHECK(c->fns[fn].count == 2 && c->nr_open == 1, "a reused open id ends the old call");
	calls_end_all(c, 500, NULL, NULL);
	CHECK(c->nr_open == 0 && c->fns[fn].count == 3 && c->fns[fn].max_ns == 200,
	      "end_all ends a native call at the stop time");
	calls_free(c);
}

/* Thousands of threads in calls at once, ending in another order than
 * they began: every lookup finds its own call through the index rebuilds. */
static void test_many_open(void)
{
	struct calls *c = calls_new(2);
	uint32_t fn = calls_add_fn(c, "f", false), py = calls_add_fn(c, "A.f", true);
	bool ok = true;

	for (uint32_t i = 0; i < 3000; i++) {
		calls_begin(c, fn, 1000 + i, 7, 100 + i, "t", "p", 0);
		calls_py_event(c, py, 7, 100 + i, "t", "p", true, 0, 10, 0, 10);
	}
	for (uint32_t i = 0; i < 3000; i++) {
		uint32_t k = (i * 7) % 3000;	/* a shuffled order */

		ok &= calls_find_open(c, 1000 + k) && calls_find_open(c, 1000 + k)->tid == 100 + k;
		ok &= calls_find_py_open(c, py, 7, 100 + k) != NULL;
		ok &= calls_add(c, 1000 + k, 1, 1);
		ok &= calls_end(c, 1000 + k, k) != NULL;
		ok &= calls_py_event(c, py, 7, 100 + k, "t", "p", false, 0, 0, 0, 0) != NULL;
		ok &= !calls_find_open(c, 1000 + k) && !calls_find_py_open(c, py, 7, 100 + k);
	}
	CHECK(ok && c->nr_open == 0 && c->fns[fn].count == 3000 && c->fns[py].count == 3000,
	      "3000 open calls of each kind, found and ended in a shuffled order");
	CHECK(c->fns[fn].max_ns == 2999 && c->lost_begin == 0, "each with its own end");
	calls_free(c);
}

struct ev {
	bool in;
	uint64_t start, end;
	uint32_t stack;
};

static int nr_ended;
static uint64_t ended_dur[8], ended_begin[8], ended_weight[8];

static void feed(struct calls *c, uint32_t fn, uint32_t tid, const struct ev *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct call *k = calls_py_event(c, fn, 5, tid, "w", "py", e[i].in,
						      e[i].start, e[i].end, e[i].stack,
						      e[i].end - e[i].start);
		if (k && nr_ended < 8) {
			ended_dur[nr_ended] = call_duration(k);
			ended_begin[nr_ended] = k->begin_ns;
			ended_weight[nr_ended] = k->weight;
			nr_ended++;
		}
	}
}

static void count_ended(const struct call *k, void *ctx)
{
	(void)ctx;
	if (nr_ended < 8) {
		ended_dur[nr_ended] = call_duration(k);
		ended_begin[nr_ended] = k->begin_ns;
		ended_weight[nr_ended] = k->weight;
		nr_ended++;
	}
}

static void test_py_split(void)
{
	struct calls *c = calls_new(4);
	uint32_t fn = calls_add_fn(c, "Handler.do_GET", true);
	/* Thread 1: idle, then a call of a 1 ms sample, a 200 ms sleep and a
	 * sample; idle; then two calls back to back (merge: nothing between). */
	const struct ev t1[] = {
		{ false, 0, 1 * MS, 1 },
		{ true, 10 * MS, 11 * MS, 2 },
		{ true, 11 * MS, 211 * MS, 3 },
		{ true, 211 * MS, 212 * MS, 2 },
		{ false, 212 * MS, 300 * MS, 1 },
		{ true, 400 * MS, 401 * MS, 2 },
		{ true, 401 * MS, 402 * MS, 2 },
	};
	/* Thread 2, interleaved: one call open when recording stops. */
	const struct ev t2[] = {
		{ true, 50 * MS, 51 * MS, 4 },
		{ true, 60 * MS, 61 * MS, 4 },
	};

	nr_ended = 0;
	feed(c, fn, 1, t1, 3);
	feed(c, fn, 2, t2, 1);
	CHECK(c->nr_open == 2, "two threads, two open calls");
	feed(c, fn, 1, t1 + 3, 2);
	CHECK(nr_ended == 1, "an event without the frame ends the call");
	CHECK(ended_begin[0] == 10 * MS && ended_dur[0] == 202 * MS,
	      "begin = first event's start, end = last event's end (202 ms: %llu)",
	      (unsigned long long)ended_dur[0]);
	CHECK(ended_weight[0] == 202 * MS, "the call's samples are its events (on and off CPU)");
	feed(c, fn, 2, t2 + 1, 1);
	feed(c, fn, 1, t1 + 5, 2);
	CHECK(nr_ended == 1, "the other thread's call and the new one stay open");
	calls_end_all(c, 999 * MS, count_ended, NULL);
	CHECK(nr_ended == 3, "end_all ends both");
	CHECK(c->fns[fn].count == 3, "three calls: back-to-back ones merge into one");
	CHECK(c->fns[fn].max_ns == 202 * MS, "max 202 ms");
	CHECK((ended_dur[1] == 11 * MS && ended_dur[2] == 2 * MS) ||
	      (ended_dur[1] == 2 * MS && ended_dur[2] == 11 * MS),
	      "a Python call ends at its last event, not at the stop time");
	CHECK(c->fns[fn].slowest[0]->nr_recs == 2, "the slow call's tree has its two stacks");
	calls_free(c);
}

static void test_names(void)
{
	CHECK(calls_py_name_matches("Handler.do_GET", "Handler.do_GET"), "3.11+: qualname");
	CHECK(calls_py_name_matches("do_GET", "Handler.do_GET"), "3.10: the function name");
	CHECK(!calls_py_name_matches("Other.do_GET", "Handler.do_GET"), "another class's method");
	CHECK(!calls_py_name_matches("do_GET", "do_POST"), "another function");
	CHECK(calls_py_name_matches("handle", "handle"), "a top-level function");
	CHECK(!calls_py_name_matches("<module>", "x.<module>"), "3.10: no <...> pseudo names");
}

static enum thread_state all_gone(uint32_t pid, uint32_t tid, void *ctx)
{
	(void)pid, (void)tid, (void)ctx;
	return THREAD_GONE;
}

/* A call's own profile holds its samples only, and survives the merge of
 * exited threads (calls keep pid/tid and stack ids, not thread indexes). */
static void test_call_profile(void)
{
	struct profile *p = profile_new();
	frame_id_t a = profile_special_frame(p, FRAME_SPECIAL, "main");
	frame_id_t b = profile_special_frame(p, FRAME_SPECIAL, "handle");
	frame_id_t z = profile_special_frame(p, FRAME_SPECIAL, "[sleeping]");
	frame_id_t s1[] = { a, b }, s2[] = { a, b, z }, s0[] = { a };
	uint32_t t1 = profile_thread(p, 10, 11, "worker", "srv");
	uint32_t t2 = profile_thread(p, 10, 12, "other", "srv");
	uint32_t st1 = profile_stack(p, s1, 2), st2 = profile_stack(p, s2, 3);
	uint32_t fn;
	const struct call *k;
	struct profile *q;
	struct tree *t;
	struct view_opts vo = VIEW_OPTS_INIT;

	p->calls = calls_new(3);
	fn = calls_add_fn(p->calls, "handle", false);
	profile_add_sample(p, t2, s0, 1, 1000);
	calls_begin(p->calls, fn, 42, 10, 11, "worker", "srv", 5 * MS);
	profile_add(p, st1, t1, 20 * MS);
	calls_add(p->calls, 42, st1, 20 * MS);
	profile_add(p, st2, t1, 80 * MS);
	calls_add(p->calls, 42, st2, 80 * MS);
	profile_coalesce_exited(p, all_gone, NULL);
	k = calls_end(p->calls, 42, 105 * MS);
	CHECK(k && k->pid == 10 && k->tid == 11 && !strcmp(k->comm, "worker"),
	      "the call keeps its thread across the merge");
	q = calls_call_profile(p, k);
	CHECK(q->total == 100 * MS && q->nr_threads == 1 && q->threads[0].tid == 11,
	      "the call's profile: its 100 ms on its thread only");
	CHECK(q->meta.duration_ns == 100 * MS, "its duration is the call's");
	CHECK(q->meta.note && strstr(q->meta.note, "call 1 of handle"), "its note names the call");
	t = tree_build(q, &vo);
	CHECK(t->nr == 4, "its tree: main > handle > [sleeping] (%zu nodes)", t->nr);
	{
		uint32_t n = tree_first(t, tree_first(t, 0));

		CHECK(n != NODE_NONE && t->nodes[n].total == 100 * MS &&
		      t->nodes[tree_first(t, n)].total == 80 * MS,
		      "handle 100%%, of which [sleeping] 80%%");
	}
	tree_free(t);
	profile_free(q);
	profile_free(p);	/* frees p->calls */
}

/* A profile with one scoped function, three calls, two kept. */
static struct profile *calls_fixture(void)
{
	struct profile *p = profile_new();
	frame_id_t a = profile_special_frame(p, FRAME_SPECIAL, "handle");
	frame_id_t z = profile_special_frame(p, FRAME_SPECIAL, "[sleeping]");
	frame_id_t s1[] = { a }, s2[] = { a, z };
	uint32_t t = profile_thread(p, 10, 11, "worker", "srv");
	uint32_t st1 = profile_stack(p, s1, 1), st2 = profile_stack(p, s2, 2);
	const uint64_t durs[] = { 250, 1, 240 };
	uint32_t fn;

	p->meta.freq_hz = 1000;
	p->calls = calls_new(2);
	fn = calls_add_fn(p->calls, "Handler.do_GET", true);
	for (uint64_t i = 0; i < 3; i++) {
		calls_begin(p->calls, fn, i + 1, 10, 11, "worker", "srv", i * 1000 * MS);
		profile_add(p, st1, t, durs[i] * MS / 5);
		calls_add(p->calls, i + 1, st1, durs[i] * MS / 5);
		profile_add(p, st2, t, durs[i] * MS * 4 / 5);
		calls_add(p->calls, i + 1, st2, durs[i] * MS * 4 / 5);
		calls_end(p->calls, i + 1, i * 1000 * MS + durs[i] * MS);
	}
	return p;
}

static char *saved(const struct profile *p, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	store_write(p, f);
	fclose(f);
	return buf;
}

static char *text_of(const struct profile *p)
{
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	report_text(p, &o, f);
	fclose(f);
	return buf;
}

/* Loading damaged calls: one line of why, no profile. */
static void check_refused(const char *good, const char *from, const char *to, const char *why)
{
	const char *at = strstr(good, from);
	struct strbuf sb = STRBUF_INIT;
	struct profile *q = NULL;
	char err[256] = "";
	int ret;

	if (!at) {
		CHECK(0, "fixture holds '%s'", from);
		return;
	}
	strbuf_add(&sb, good, at - good);
	strbuf_addstr(&sb, to);
	strbuf_addstr(&sb, at + strlen(from));
	ret = store_load_buf(sb.buf, sb.len, &q, err, sizeof(err));
	CHECK(ret == -EINVAL && !q && strstr(err, why), "refused: %s (%s)", why, err);
	profile_free(q);
	strbuf_release(&sb);
}

static void test_store(void)
{
	struct profile *p = calls_fixture(), *q = NULL;
	char err[256] = "", *buf, *buf2, *t1, *t2;
	size_t len, len2;
	int ret;

	buf = saved(p, &len);
	ret = store_load_buf(buf, len, &q, err, sizeof(err));
	CHECK(ret == 0 && q && q->calls, "a saved profile with calls loads (%s)", err);
	if (!q) {
		free(buf);
		profile_free(p);
		return;
	}
	CHECK(q->calls->nr_fns == 1 && q->calls->fns[0].count == 3 && q->calls->fns[0].python,
	      "its function, count and kind");
	CHECK(q->calls->fns[0].nr_slowest == 2 && call_duration(q->calls->fns[0].slowest[0]) ==
	      250 * MS, "its two slowest calls, slowest first");
	CHECK(calls_percentile(&q->calls->fns[0], 0.5) == 240 * MS, "its durations (p50 240 ms)");
	buf2 = saved(q, &len2);
	CHECK(len == len2 && !memcmp(buf, buf2, len), "saved again: the same bytes");
	t1 = text_of(p);
	t2 = text_of(q);
	CHECK(!strcmp(t1, t2), "its text report, calls section included, is the same");
	CHECK(strstr(t1, "Calls of Handler.do_GET: 3 calls") != NULL, "the text report's calls line");
	CHECK(strstr(t1, "call 1: 250.0 ms, thread worker [11] of pid 10") != NULL,
	      "the slowest call's line");
	CHECK(strstr(t1, "  200-500 ms            2  ") != NULL, "the histogram's 200-500 ms row");
	free(t1);
	free(t2);
	free(buf2);
	check_refused(buf, "\"keep\": 2", "\"keep\": 1", "at most \"keep\" calls");
	check_refused(buf, "\"count\": 3", "\"count\": 4", "histogram");
	check_refused(buf, "\"max_ns\": 250000000", "\"max_ns\": 240000000", "durations");
	check_refused(buf, "\"dropped_weight\": 0, \"counts\": \"0:",
		      "\"dropped_weight\": 0, \"counts\": \"99:", "of its stacks");
	check_refused(buf, "\"begin_ns\": 0,", "\"begin_ns\": 300000000,", "out of range");
	check_refused(buf, "\"functions\": [", "\"functions\": 7, \"x\": [", "functions");
	check_refused(buf, "\"name\": \"Handler.do_GET\"", "\"name\": \"\"", "is empty");
	free(buf);
	profile_free(q);
	profile_free(p);
}

/* The calls view's list: every kept call, slowest first; Enter opens one. */
/* tests/golden/NAME against what was made (UPDATE_GOLDEN=1 rewrites it).
 * The path is the source's (tests run from the top of the tree). */
static void check_golden(const char *got, const char *name)
{
	struct strbuf path = STRBUF_INIT, want = STRBUF_INIT;
	const char *src = __FILE__;
	char buf[4096];
	FILE *f;
	size_t n;

	strbuf_add(&path, src, strrchr(src, '/') - src);
	strbuf_addf(&path, "/../golden/%s", name);
	if (getenv("UPDATE_GOLDEN") && (f = fopen(path.buf, "w"))) {
		fputs(got, f);
		fclose(f);
	}
	if ((f = fopen(path.buf, "r"))) {
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			strbuf_add(&want, buf, n);
		fclose(f);
	}
	CHECK(!strcmp(got, want.buf), "matches tests/golden/%s", name);
	strbuf_release(&path);
	strbuf_release(&want);
}

/* The calls' parts of the text, HTML and saved reports, fixed. */
static void test_golden(void)
{
	struct profile *p = calls_fixture();
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0.5 };
	struct strbuf html = STRBUF_INIT;
	char *text = text_of(p), *json;
	size_t len;

	p->meta.wall = true;	/* weights in ns: the trees in seconds */
	/* A name with markup and a control byte, as --scope may be given. */
	free(p->calls->fns[0].name);
	p->calls->fns[0].name = xstrdup("Handler.<b>do_GET\x1b");
	free(text);
	text = text_of(p);
	json = saved(p, &len);
	/* The calls section alone: the header and tree are the text report's. */
	check_golden(strstr(text, "\nCalls of") ? strstr(text, "\nCalls of") + 1 : text, "calls.txt");
	/* The "calls" part alone: the rest is the store's (its version grows). */
	check_golden(strstr(json, "  \"calls\"") ? strstr(json, "  \"calls\"") : json, "calls.json");
	report_html_calls(p, &o, &html);
	check_golden(html.buf, "calls-section.html");
	CHECK(!strstr(text, "\x1b") && strstr(text, "<b>do_GET\\x1b"),
	      "the text report escapes the function's name");
	CHECK(!strstr(html.buf, "<b>") && strstr(html.buf, "&lt;b&gt;do_GET"),
	      "the HTML page escapes it as markup");
	strbuf_release(&html);
	free(text);
	free(json);
	profile_free(p);
}

static void test_callsview(void)
{
	struct profile *p = calls_fixture();
	struct callsview *cv = cv_new(p);
	struct profile *none = profile_new();

	CHECK(!cv_new(none), "no calls: no calls view");
	profile_free(none);
	CHECK(cv && cv->nr == 2 && cv->list[0].duration_ns == 250 * MS &&
	      cv->list[1].duration_ns == 240 * MS, "the kept calls, slowest first");
	CHECK(!strcmp(cv->list[0].thread, "worker [11]"), "each with its thread");
	cv->mode = CV_LIST;
	cv_set_height(cv, 1);
	CHECK(cv_move(cv, 1) && cv->sel == 1 && cv->top == 1, "moving scrolls a short list");
	CHECK(cv_open(cv) && cv->mode == CV_CALL && cv->call && cv->call->total == 240 * MS,
	      "Enter: the call's own profile");
	CHECK(strstr(cv->title, "Call 3 of Handler.do_GET: 240.0 ms") != NULL, "titled (%s)",
	      cv->title);
	cv_show_list(cv);
	CHECK(cv->mode == CV_LIST && !cv->call, "back to the list");
	/* A call ends: the list follows, the selection stays on its call. */
	calls_begin(p->calls, 0, 9, 10, 11, "worker", "srv", 5000 * MS);
	calls_end(p->calls, 9, 5300 * MS);
	CHECK(cv_refresh(cv) && cv->nr == 2 && cv->list[0].duration_ns == 300 * MS,
	      "a slower call that ended comes first");
	CHECK(cv->sel == 0, "the selection on the first row stays there, on the slowest");
	{
		struct profile *p2 = profile_new();
		struct callsview *cv2;

		p2->calls = calls_new(3);
		calls_add_fn(p2->calls, "f", false);
		end_call(p2->calls, 0, 1, 0, 100 * MS);
		end_call(p2->calls, 0, 2, 0, 200 * MS);
		cv2 = cv_new(p2);
		cv_set_height(cv2, 5);
		cv_move(cv2, 1);
		end_call(p2->calls, 0, 3, 0, 300 * MS);
		CHECK(cv_refresh(cv2) && cv2->sel == 2 && cv2->list[2].duration_ns == 100 * MS,
		      "moved down, the selection follows its call");
		cv_free(cv2);
		profile_free(p2);
	}
	CHECK(!cv_refresh(cv), "nothing new: no remake");
	cv_show_aggregate(cv);
	CHECK(cv->mode == CV_AGGREGATE, "a: the aggregate");
	cv_free(cv);
	profile_free(p);
}

static int parse(struct options *o, const char *const *args, int n)
{
	char *argv[16];
	bool done;
	int ret;

	for (int i = 0; i < n; i++)
		argv[i] = (char *)args[i];
	argv[n] = NULL;
	options_init(o);
	ret = cli_parse_record(o, n, argv, &done);
	return done ? ret : 0;
}

/* The recorder's side: Python frames decide; a stack without any (not
 * recorded) goes to the open call, or is dropped outside. */
static void test_callrec(void)
{
	struct profile *p = profile_new();
	struct frame py = { .name = "Handler.do_GET", .module = "srv.py", .kind = FRAME_PYTHON };
	struct frame other = { .name = "serve_forever", .module = "socketserver.py",
			       .kind = FRAME_PYTHON };
	frame_id_t h = profile_frame(p, &py), o = profile_frame(p, &other);
	struct frame nr = { .name = "[off-CPU, stack not recorded]", .module = "",
			    .kind = FRAME_SPECIAL, .flags = FRAME_F_OFFCPU };
	frame_id_t n = profile_frame(p, &nr), ex = profile_special_frame(p, FRAME_SPECIAL, "[exiting]");
	struct frame clone = { .name = "clone3", .module = "libc.so.6", .kind = FRAME_NATIVE };
	frame_id_t cl = profile_frame(p, &clone);
	uint32_t in = profile_stack(p, (frame_id_t[]){ o, h }, 2);
	uint32_t out = profile_stack(p, &o, 1), none = profile_stack(p, &n, 1);
	uint32_t native = profile_stack(p, &cl, 1), exiting = profile_stack(p, &ex, 1);
	const char *funcs[] = { "Handler.do_GET" };
	struct callrec *cr = callrec_new(p, funcs, 1, 4, 1000, NULL, NULL);
	struct calls_fn *f = &p->calls->fns[0];

	CHECK(f->python && !strcmp(f->name, "Handler.do_GET"), "a dotted name is a Python function");
	CHECK(!callrec_event(cr, 1, 2, "t", "p", none, 1000, 2000, 1000, 0),
	      "no Python frame and no call open: outside, dropped");
	CHECK(!callrec_event(cr, 1, 2, "t", "p", out, 2000, 3000, 1000, 0),
	      "Python frames without the function: outside, dropped");
	CHECK(callrec_event(cr, 1, 2, "t", "p", in, 3000, 4000, 1000, 0), "the function: kept");
	CHECK(callrec_event(cr, 1, 2, "t", "p", none, 4000, 9000, 5000, 0),
	      "a stack not recorded inside a call: kept, in the call");
	CHECK(p->calls->nr_open == 1, "... which goes on");
	callrec_event(cr, 1, 2, "t", "p", native, 9000, 9500, 500, 0);
	CHECK(f->count == 1 && f->max_ns == 6000, "native frames alone (not in Python): it ends");
	callrec_event(cr, 1, 2, "t", "p", in, 10000, 11000, 1000, 0);
	callrec_event(cr, 1, 2, "t", "p", none, 11000, 13000, 2000, 0);
	callrec_event(cr, 1, 2, "t", "p", out, 13000, 14000, 1000, 0);
	CHECK(f->count == 2 && f->max_ns == 6000 && f->slowest[1]->weight == 3000,
	      "ended by a stack without the function: 3 us, its 2 events");
	callrec_event(cr, 1, 2, "t", "p", in, 20000, 21000, 1000, 0);
	callrec_event(cr, 1, 2, "t", "p", exiting, 21000, 500000, 479000, 0);
	CHECK(f->count == 3 && p->calls->nr_open == 0, "[exiting] ends a call (the thread left it)");
	CHECK(callrec_outside(cr) == 5, "five events outside, counted");
	/* A call blocked from its thread's last record (a switch-out) until
	 * the stop lasts until the stop, as its tree does. (The pieces of a
	 * thread gone quietly end a period after its last sample: offcpu.c.) */
	p->meta.freq_hz = 1000;
	callrec_free(cr);
	cr = callrec_new(p, funcs, 1, 4, 0, NULL, NULL);
	f = &p->calls->fns[1];
	callrec_event(cr, 1, 2, "t", "p", in, 29 * MS, 30 * MS, MS, 0);
	callrec_event(cr, 1, 2, "t", "p", in, 30 * MS, 900 * MS, 870 * MS, 0);
	callrec_stop(cr, 900 * MS);
	CHECK(f->count == 1 && f->max_ns == 871 * MS && f->slowest[0]->weight == 871 * MS,
	      "a call blocked at the stop: its duration is its weight (871 ms, got %llu ns)",
	      (unsigned long long)f->max_ns);
	callrec_free(cr);
	profile_free(p);
}

static void test_cli(void)
{
	struct options o;
	const char *ok[] = { "sampletop", "-p", "1", "--scope", "Handler.do_GET", "--slowest", "5",
			     "--slower-than", "150ms", "-o", "calls/%n-%d.html" };
	const char *bad_unit[] = { "sampletop", "-p", "1", "--scope", "f", "--slower-than", "3h" };
	const char *no_scope[] = { "sampletop", "-p", "1", "-o", "x/%n.txt" };
	struct call call = { .number = 7, .tid = 12, .pid = 11, .begin_ns = 0, .end_ns = 212600000 };
	struct strbuf sb = STRBUF_INIT;

	CHECK(parse(&o, ok, ARRAY_SIZE(ok)) == 0 && o.nr_scope == 1 && o.slowest == 5 &&
	      o.slower_than_ns == 150 * MS && o.wall, "--scope (implies --wall), --slowest, --slower-than");
	CHECK(cli_is_call_pattern(o.output) && !cli_is_call_pattern("a%%n.txt") &&
	      !cli_is_call_pattern("plain.txt"), "call patterns told from plain paths");
	output_call_path("calls/%n-%t-%p-%dms%%.html", &call, &sb);
	CHECK_STR(sb.buf, "calls/7-12-11-213ms%.html", "a pattern filled in");
	strbuf_release(&sb);
	options_free(&o);
	CHECK(parse(&o, bad_unit, ARRAY_SIZE(bad_unit)) == 2, "--slower-than 3h: unknown unit");
	options_free(&o);
	CHECK(parse(&o, no_scope, ARRAY_SIZE(no_scope)) == 2, "a pattern without --scope");
	options_free(&o);
	CHECK(callrec_fn_is_python("A.b") && callrec_fn_is_python("py:main") &&
	      !callrec_fn_is_python("handle_request") && !callrec_fn_is_python("ns::f"),
	      "Python names: a dot or py:; else native");
	CHECK_STR(callrec_fn_name("py:main"), "main", "py: taken off");
}

int main(void)
{
	test_percentiles();
	test_histogram();
	test_slowest();
	test_recs();
	test_py_split();
	test_many_open();
	test_names();
	test_call_profile();
	test_store();
	test_golden();
	test_callsview();
	test_cli();
	test_callrec();
	return tap_done();
}

/* The unwind maps' allocator (unwind_alloc.c): best fit, coalescing, every
 * extent given out disjoint; then the placement policy of unwind_bpf.c in
 * plain memory: files with the same build-id share a table, a full budget
 * evicts the table sampled least recently, a table bigger than the budget
 * is refused and counted. */
#include "tap.h"
#include "base/util.h"
#include "unwind/unwind_alloc.h"
#include "unwind/unwind_bpf.h"
#include "unwind/unwind_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLAN 25

static char dir[] = "/tmp/test_unwind_alloc.XXXXXX";

static void test_basic(void)
{
	struct unwind_alloc a;
	uint32_t s1 = 99, s2 = 99, s3 = 99, s4 = 99;

	unwind_alloc_init(&a, 100);
	CHECK(!unwind_alloc_get(&a, 30, &s1) && !unwind_alloc_get(&a, 30, &s2) && s1 == 0 && s2 == 30,
	      "two extents one after the other (%u, %u)", s1, s2);
	CHECK(unwind_alloc_get(&a, 50, &s3) == -ENOSPC, "no room left for 50 of 100: -ENOSPC");
	CHECK(unwind_alloc_get(&a, 101, &s3) == -E2BIG && unwind_alloc_get(&a, 0, &s3) == -E2BIG,
	      "more than the whole array, or nothing: -E2BIG");
	unwind_alloc_put(&a, s1, 30);
	CHECK(a.nr_free == 2 && a.used == 30 && unwind_alloc_largest(&a) == 40,
	      "freed [0,30) stays apart from [60,100): %zu free extents", a.nr_free);
	unwind_alloc_put(&a, s2, 30);
	CHECK(a.nr_free == 1 && a.free[0].start == 0 && a.free[0].len == 100 && a.used == 0,
	      "freeing the middle coalesces both sides into one extent");
	/* Best fit: holes of 10 and 20, a request of 10 takes the small one. */
	unwind_alloc_get(&a, 10, &s1);	/* [0,10) */
	unwind_alloc_get(&a, 20, &s2);	/* [10,30) */
	unwind_alloc_get(&a, 5, &s3);	/* [30,35) */
	unwind_alloc_get(&a, 10, &s4);	/* [35,45) */
	unwind_alloc_put(&a, s2, 20);
	unwind_alloc_put(&a, s4, 10);	/* merges with [45,100) */
	unwind_alloc_get(&a, 20, &s4);
	CHECK(s4 == 10, "best fit: 20 units go to the 20-unit hole, not the long tail (got %u)", s4);
	unwind_alloc_release(&a);
}

/* Random gets and puts: no two live extents overlap, and freeing them all
 * leaves one extent. */
static void test_random(void)
{
	enum { N = 64, SIZE = 4096 };
	struct unwind_alloc a;
	uint32_t start[N], len[N];
	bool live[N] = { false }, ok = true;
	unsigned seed = 1;

	unwind_alloc_init(&a, SIZE);
	for (int round = 0; round < 20000 && ok; round++) {
		int i = rand_r(&seed) % N;

		if (live[i]) {
			unwind_alloc_put(&a, start[i], len[i]);
			live[i] = false;
			continue;
		}
		len[i] = 1 + rand_r(&seed) % 200;
		if (unwind_alloc_get(&a, len[i], &start[i]))
			continue;
		live[i] = true;
		ok = start[i] + len[i] <= SIZE;
		for (int k = 0; k < N && ok; k++)
			if (k != i && live[k])
				ok = start[i] + len[i] <= start[k] || start[k] + len[k] <= start[i];
	}
	CHECK(ok, "20000 random gets and puts: live extents never overlap");
	for (int i = 0; i < N; i++)
		if (live[i])
			unwind_alloc_put(&a, start[i], len[i]);
	CHECK(a.nr_free == 1 && a.free[0].len == SIZE && a.used == 0,
	      "all freed: one extent of the whole array (%zu extents)", a.nr_free);
	unwind_alloc_release(&a);
}

/* Builds dir/NAME from a small C file; seed changes its code and build-id. */
static int build_bin(const char *name, int seed, char *path, size_t size)
{
	char cmd[1024];

	snprintf(path, size, "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd),
		 "printf '%%s\\n' 'volatile int v;' 'int f(int x) { return x * %d + v; }'"
		 " 'int main(int c, char **a) { (void)a; return f(c); }' |"
		 " gcc -O2 -Wl,--build-id -x c -o %s -", seed, path);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_policy(void)
{
	char a_path[512], a2_path[512], b_path[512], c_path[512], cmd[1200];
	struct unwind_table *t = NULL;
	struct unwind_obj_info ia, ia2, ib, ic;
	struct unwind_bpf_stats st;
	struct unwind_bpf *u;
	uint32_t rows, pages;
	int a, a2, b, c;

	if (build_bin("a", 3, a_path, sizeof(a_path)) || build_bin("b", 5, b_path, sizeof(b_path)) ||
	    build_bin("c", 7, c_path, sizeof(c_path))) {
		printf("Bail out! gcc cannot build the fixtures\n");
		exit(1);
	}
	snprintf(a2_path, sizeof(a2_path), "%s/a_copy", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s", a_path, a2_path);
	if (system(cmd) || unwind_table_build_path(a_path, &t)) {
		printf("Bail out! cannot copy or read the fixture\n");
		exit(1);
	}
	rows = t->nr_crows;
	pages = t->nr_pages;
	unwind_table_free(t);

	/* Room for two such tables and a half. */
	u = unwind_bpf_new();
	unwind_bpf_bind_memory(u, rows * 5 / 2 + 1, pages * 3);
	a = unwind_bpf_add_path(u, a_path);
	a2 = unwind_bpf_add_path(u, a2_path);
	b = unwind_bpf_add_path(u, b_path);
	CHECK(a >= 0 && a2 >= 0 && b >= 0, "three files placed (%d %d %d)", a, a2, b);
	if (a < 0 || a2 < 0 || b < 0)
		goto out;
	unwind_bpf_object(u, a, &ia);
	unwind_bpf_object(u, a2, &ia2);
	unwind_bpf_object(u, b, &ib);
	unwind_bpf_stats(u, &st);
	CHECK(a2 != a && ia2.shared && ia2.table == ia.table && !ia.shared,
	      "a copy of a file (same build-id, another inode) shares its table");
	CHECK(ib.table != ia.table && !ib.shared, "another build-id gets a table of its own");
	CHECK(st.shared == 1 && st.rows_used == 2 * rows,
	      "one file shared, the rows of two tables placed (%llu of %u)",
	      (unsigned long long)st.rows_used, rows);

	/* a sampled after b was placed: c evicts b, the least recently sampled. */
	unwind_bpf_touch(u, a, now_ns() + 1000000000ull);
	c = unwind_bpf_add_path(u, c_path);
	unwind_bpf_object(u, a, &ia);
	unwind_bpf_object(u, a2, &ia2);
	unwind_bpf_object(u, b, &ib);
	unwind_bpf_object(u, c >= 0 ? c : 0, &ic);
	unwind_bpf_stats(u, &st);
	CHECK(c >= 0 && ic.placed, "the newest table is placed, not refused");
	CHECK(ib.evicted && !ib.placed, "the table sampled least recently is evicted");
	CHECK(ia.placed && ia2.placed, "the table sampled most recently stays (and so for its copy)");
	CHECK(st.evicted == 1 && st.table_full == 0, "one eviction counted (%llu), nothing refused",
	      (unsigned long long)st.evicted);
	CHECK(st.rows_used == 2 * rows, "rows of two tables placed after the eviction");

	/* b sampled again since its eviction: placed again (at most once a
	 * second), evicting the least recently sampled, c. */
	unwind_bpf_touch(u, b, now_ns() + 3000000000ull);
	unwind_bpf_flush_at(u, now_ns() + 4000000000ull);
	unwind_bpf_object(u, b, &ib);
	unwind_bpf_object(u, c, &ic);
	unwind_bpf_object(u, a, &ia);
	CHECK(ib.placed && !ib.evicted && ic.evicted && ia.placed,
	      "an evicted table sampled again is placed again, evicting the least recent");

	/* Mapped by no pushed process: freed after 10 s without a sample. */
	unwind_bpf_flush_at(u, now_ns() + 9000000000ull);
	unwind_bpf_object(u, b, &ib);
	CHECK(ib.placed && !ib.reclaimed, "sampled 6 s ago: kept");
	unwind_bpf_flush_at(u, now_ns() + 30000000000ull);
	unwind_bpf_object(u, a, &ia);
	unwind_bpf_object(u, b, &ib);
	unwind_bpf_object(u, c, &ic);
	unwind_bpf_stats(u, &st);
	CHECK(ia.reclaimed && ib.reclaimed && ic.reclaimed && !ia.placed && st.reclaimed == 3 &&
		      st.rows_used == 0,
	      "unmapped and unsampled for 10 s: every table freed (%llu), no rows left",
	      (unsigned long long)st.reclaimed);
	a = unwind_bpf_add_path(u, a_path);
	unwind_bpf_object(u, a >= 0 ? a : 0, &ia);
	CHECK(a >= 0 && ia.placed && !ia.reclaimed, "a freed file mapped again: built and placed again");

	unwind_bpf_free(u);

	/* A budget smaller than one table: refused, counted, nothing evicted. */
	u = unwind_bpf_new();
	unwind_bpf_bind_memory(u, rows - 1, pages * 3);
	a = unwind_bpf_add_path(u, a_path);
	unwind_bpf_object(u, a >= 0 ? a : 0, &ia);
	unwind_bpf_stats(u, &st);
	CHECK(a >= 0 && ia.table_full && !ia.placed && st.table_full == 1 && st.evicted == 0,
	      "a table bigger than the whole budget: not placed, counted once as table_full");

	/* Tables built before the maps exist are placed when they are bound. */
	unwind_bpf_free(u);
	u = unwind_bpf_new();
	a = unwind_bpf_add_path(u, a_path);
	unwind_bpf_object(u, a >= 0 ? a : 0, &ia);
	CHECK(a >= 0 && !ia.placed && ia.rows > 0, "built before binding: not placed yet");
	unwind_bpf_bind_memory(u, rows * 2, pages * 2);
	unwind_bpf_object(u, a >= 0 ? a : 0, &ia);
	CHECK(ia.placed, "placed once bound");
out:
	unwind_bpf_free(u);
}

static void test_missing_file(void)
{
	struct unwind_bpf *u = unwind_bpf_new();

	unwind_bpf_bind_memory(u, 1024, 16);
	CHECK(unwind_bpf_add_path(u, "/nonexistent/lib.so") == -ENOENT, "a missing file: -ENOENT");
	unwind_bpf_free(u);
}

int main(void)
{
	char cmd[300];

	printf("1..%d\n", PLAN);
	if (!mkdtemp(dir)) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	test_basic();
	test_random();
	test_policy();
	test_missing_file();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# cannot remove %s\n", dir);
	return tap_done();
}

/* The on-disk cache of unwind tables (unwind/unwind_cache.c): a table
 * loaded from it equals the one built; a planted file (another owner, a
 * mode others can write, a symlink), a truncated or corrupted one, or an
 * untrusted directory is refused, and the table is built instead (and the
 * file replaced); the directory stays under its bound. */
#include "tap.h"
#include "unwind/unwind_cache.h"
#include "unwind/unwind_table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAN 22
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define LDSO "/lib64/ld-linux-x86-64.so.2"
#define LIBSTDCXX "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"
#define NOBODY 65534

static char dir[] = "/tmp/test_unwind_cache.XXXXXX";
static char cache[300];

/* Field by field: struct elf_seg has padding that malloc leaves as it finds it. */
static bool same_loads(const struct unwind_table *a, const struct unwind_table *b)
{
	for (uint32_t i = 0; i < a->nr_loads; i++)
		if (a->loads[i].offset != b->loads[i].offset || a->loads[i].vaddr != b->loads[i].vaddr ||
		    a->loads[i].filesz != b->loads[i].filesz || a->loads[i].memsz != b->loads[i].memsz ||
		    a->loads[i].flags != b->loads[i].flags)
			return false;
	return true;
}

static bool same_table(const struct unwind_table *a, const struct unwind_table *b)
{
	return a && b && a->nr_rows == b->nr_rows && a->nr_unsupported == b->nr_unsupported &&
	       a->base == b->base && a->nr_pages == b->nr_pages && a->nr_crows == b->nr_crows &&
	       a->nr_rules == b->nr_rules && a->nr_loads == b->nr_loads &&
	       !memcmp(a->rows, b->rows, a->nr_rows * sizeof(*a->rows)) &&
	       !memcmp(a->pages, b->pages, a->nr_pages * sizeof(*a->pages)) &&
	       !memcmp(a->crows, b->crows, a->nr_crows * sizeof(*a->crows)) &&
	       !memcmp(a->rules, b->rules, a->nr_rules * sizeof(*a->rules)) &&
	       same_loads(a, b);
}

/* The file libc's rows are stored in: the only one named by a build-id. */
static void cached_file(const char *obj, char *path, size_t size)
{
	char cmd[600];
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "readelf -n %s | sed -n 's/.*Build ID: \\([0-9a-f]*\\).*/\\1/p' | head -1", obj);
	p = popen(cmd, "r");
	path[0] = 0;
	if (p) {
		char id[200] = "";

		if (fgets(id, sizeof(id), p))
			id[strcspn(id, "\n")] = 0;
		pclose(p);
		snprintf(path, size, "%s/%s", cache, id);
	}
}

static struct unwind_cache_stats stats_now(void)
{
	struct unwind_cache_stats s;

	unwind_cache_get_stats(&s);
	return s;
}

/* Builds LIBC through the cache; returns whether the cache served it
 * (a hit) and whether it was refused (rejected), and checks the table. */
static void through_cache(const struct unwind_table *want, const char *what, bool want_hit,
			  bool want_rejected)
{
	struct unwind_cache_stats before = stats_now(), after;
	struct unwind_table *t = NULL;
	int err = unwind_table_build_path(LIBC, &t);

	after = stats_now();
	CHECK(!err && same_table(t, want) && (after.hits > before.hits) == want_hit &&
	      (after.rejected > before.rejected) == want_rejected,
	      "%s: %s%s, the table equals the one built (%u rows)", what,
	      want_hit ? "loaded from the cache" : "built", want_rejected ? ", the file refused" : "",
	      t ? t->nr_rows : 0);
	unwind_table_free(t);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "cp %s %s", from, to);
	if (system(cmd))
		printf("# cp failed\n");
}

static void test_cache(void)
{
	struct unwind_table *built = NULL;
	char file[400], saved[400];
	struct stat st;
	int fd;

	unwind_cache_configure(NULL, 0);
	if (unwind_table_build_path(LIBC, &built)) {
		printf("Bail out! cannot build libc's table\n");
		exit(1);
	}
	snprintf(cache, sizeof(cache), "%s/cache/unwind", dir);
	unwind_cache_configure(cache, 0);
	cached_file(LIBC, file, sizeof(file));
	snprintf(saved, sizeof(saved), "%s/saved", dir);

	through_cache(built, "first run", false, false);
	CHECK(!lstat(file, &st) && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600 &&
	      st.st_uid == geteuid() && !stat(cache, &st) && (st.st_mode & 0777) == 0700,
	      "stored as a 0600 file named by the build-id, in a 0700 directory it created");
	through_cache(built, "second run", true, false);
	copy_file(file, saved);

	/* A corrupted byte in the rows, then a truncated file. */
	fd = open(file, O_WRONLY);
	if (fd >= 0) {
		if (pwrite(fd, "\x5a", 1, 112 + 8 * 100 + 4) != 1)	/* a cfa_off */
			printf("# pwrite failed\n");
		close(fd);
	}
	through_cache(built, "corrupted file", false, true);
	through_cache(built, "rewritten after the corrupted one", true, false);
	if (truncate(file, 112 + 8 * 1000))
		printf("# truncate failed\n");
	through_cache(built, "truncated file", false, true);
	if (truncate(file, 50))
		printf("# truncate failed\n");
	through_cache(built, "file shorter than its header", false, true);

	/* Planted files: another owner, writable by others, a symlink. */
	copy_file(saved, file);
	if (chown(file, NOBODY, NOBODY))
		printf("# chown failed\n");
	through_cache(built, "file owned by another user", false, true);
	copy_file(saved, file);
	chown(file, 0, 0);
	chmod(file, 0666);
	through_cache(built, "file writable by others", false, true);
	unlink(file);
	if (symlink(saved, file))
		printf("# symlink failed\n");
	through_cache(built, "symlink to a valid file", false, true);
	CHECK(!lstat(file, &st) && S_ISREG(st.st_mode), "the symlink was replaced by a file");
	through_cache(built, "after the planted files", true, false);

	/* A header that claims more rows than the file holds, or another
	 * object's digest: refused before any allocation. */
	{
		uint32_t huge = 0x7fffffff;

		fd = open(file, O_WRONLY);
		if (fd >= 0) {
			if (pwrite(fd, &huge, 4, 100) != 4)
				printf("# pwrite failed\n");
			close(fd);
		}
		through_cache(built, "row count beyond the file", false, true);
	}

	/* Untrusted directories: writable by others, another owner, a symlink. */
	chmod(cache, 0777);
	through_cache(built, "directory writable by others", false, true);
	chmod(cache, 0700);
	if (chown(cache, NOBODY, NOBODY))
		printf("# chown failed\n");
	through_cache(built, "directory owned by another user", false, true);
	chown(cache, 0, 0);
	{
		char real[400], cmd[1600];

		snprintf(real, sizeof(real), "%s/real", dir);
		snprintf(cmd, sizeof(cmd), "mv %s %s && ln -s %s %s", cache, real, real, cache);
		if (system(cmd))
			printf("# mv failed\n");
		through_cache(built, "directory reached through a symlink", false, true);
		snprintf(cmd, sizeof(cmd), "rm %s && mv %s %s", cache, real, cache);
		if (system(cmd))
			printf("# mv failed\n");
	}
	{
		char parent[400];

		snprintf(parent, sizeof(parent), "%s/cache", dir);
		chmod(parent, 0777);
		through_cache(built, "directory in a directory others can write", false, true);
		chmod(parent, 0700);
	}
	through_cache(built, "trusted directory again", true, false);

	/* Off: neither read nor written. */
	unwind_cache_configure(NULL, 0);
	unlink(file);
	through_cache(built, "cache off", false, false);
	CHECK(access(file, F_OK) && errno == ENOENT, "cache off: nothing written");
	unwind_table_free(built);
}

/* The bound: with room for about two of the three tables, the least
 * recently used goes. */
static void test_bound(void)
{
	const char *objs[3] = { LDSO, LIBC, LIBSTDCXX };
	char files[3][400];
	struct unwind_table *t;
	struct stat st;
	uint64_t total = 0, bound;

	snprintf(cache, sizeof(cache), "%s/bounded", dir);
	unwind_cache_configure(cache, 0);
	for (int i = 0; i < 3; i++) {
		if (!unwind_table_build_path(objs[i], &t)) {
			total += 112 + (uint64_t)t->nr_rows * sizeof(*t->rows);
			unwind_table_free(t);
		}
		cached_file(objs[i], files[i], sizeof(files[i]));
		usleep(20000);	/* distinct mtimes */
	}
	CHECK(!access(files[0], F_OK) && !access(files[1], F_OK) && !access(files[2], F_OK),
	      "three tables stored (%llu bytes)", (unsigned long long)total);
	/* ld.so used again: libc is now the least recently used. */
	if (!unwind_table_build_path(LDSO, &t))
		unwind_table_free(t);
	bound = total - 1;
	unwind_cache_configure(cache, bound);
	unlink(files[2]);	/* stored again: the bound is enforced on a store */
	if (!unwind_table_build_path(LIBSTDCXX, &t))
		unwind_table_free(t);
	total = 0;
	for (int i = 0; i < 3; i++)
		if (!stat(files[i], &st))
			total += st.st_size;
	CHECK(!access(files[0], F_OK) && access(files[1], F_OK) && !access(files[2], F_OK) &&
	      total <= bound && stats_now().evicted >= 1,
	      "over the bound, the least recently used (libc) evicted, %llu bytes left",
	      (unsigned long long)total);
}

int main(void)
{
	char cmd[300];

	elf_version(EV_CURRENT);
	printf("1..%d\n", PLAN);
	if (geteuid() != 0) {
		for (int i = 0; i < PLAN; i++)
			printf("ok %d - not run # SKIP needs root (file owners)\n", ++tap_n);
		return 0;
	}
	if (!mkdtemp(dir) || access(LIBC, R_OK) || access(LDSO, R_OK) || access(LIBSTDCXX, R_OK)) {
		printf("Bail out! no temporary directory, or libc/ld.so/libstdc++ missing\n");
		return 1;
	}
	test_cache();
	test_bound();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# cannot remove %s\n", dir);
	return tap_done();
}

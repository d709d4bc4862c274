/* Unit tests of /proc/PID/maps parsing and kallsyms parsing. */
#include "kallsyms.h"
#include "procs.h"
#include "tap.h"

#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void test_maps_lines(void)
{
	struct proc_map m;

	CHECK(maps_parse_line("55d0c8a00000-55d0c8a21000 r-xp 00002000 fd:01 1234567    /usr/bin/demo\n",
			      &m) == 0 &&
		      m.start == 0x55d0c8a00000 && m.end == 0x55d0c8a21000 && m.pgoff == 0x2000 &&
		      m.dev == makedev(0xfd, 1) && m.ino == 1234567 && (m.flags & MAP_F_EXEC) &&
		      !strcmp(m.path, "/usr/bin/demo"),
	      "a file-backed executable mapping");
	free(m.path);
	CHECK(maps_parse_line("7f0000000000-7f0000001000 r-xp 00000000 08:02 99 /tmp/a b (deleted)", &m) == 0 &&
		      (m.flags & MAP_F_DELETED) && !strcmp(m.path, "/tmp/a b"),
	      "deleted file, path with a space");
	free(m.path);
	CHECK(maps_parse_line("7ffd1000-7ffd3000 r-xp 00000000 00:00 0                  [vdso]", &m) == 0 &&
		      (m.flags & MAP_F_SPECIAL) && !strcmp(m.path, "[vdso]"),
	      "[vdso]");
	free(m.path);
	CHECK(maps_parse_line("7f00-7f10 rw-p 00000000 00:00 0", &m) == 0 && (m.flags & MAP_F_ANON) &&
		      !(m.flags & MAP_F_EXEC),
	      "anonymous, not executable");
	free(m.path);
	CHECK(maps_parse_line("", &m) < 0, "empty line rejected");
	CHECK(maps_parse_line("7f10-7f00 r-xp 0 00:00 0", &m) < 0, "end before start rejected");
	CHECK(maps_parse_line("12345678901234567-1 r-xp 0 00:00 0", &m) < 0, "overlong hex rejected");
	CHECK(maps_parse_line("1000-2000 r-x", &m) < 0, "truncated line rejected");
}

static void test_self(void)
{
	struct procs *ps = procs_new();
	struct proc *p = procs_get(ps, getpid());
	const struct proc_map *m = proc_find_map(ps, p, (uint64_t)(uintptr_t)&test_self);

	CHECK(p && !p->gone && p->start_time > 0, "own process read, start time %llu",
	      (unsigned long long)p->start_time);
	CHECK(m && strstr(m->path, "test_procs"), "own code maps to the test binary");
	CHECK(proc_find_map(ps, p, 8) == NULL, "address 8 is in no mapping");
	{
		/* Field 22 of /proc/self/stat, not its neighbour 23 (vsize), which
		 * changes with every mmap and made live processes look replaced. */
		unsigned long long want = 0;
		char buf[1024], *q;
		FILE *f = fopen("/proc/self/stat", "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = 0;
		q = strrchr(buf, ')');
		for (int field = 2; q && field < 22; field++)
			q = strchr(q + 1, ' ');
		if (q)
			want = strtoull(q + 1, NULL, 10);
		CHECK(want && p->start_time == want, "start time is field 22 (%llu, want %llu)",
		      (unsigned long long)p->start_time, want);
	}
	procs_free(ps);
}

static void test_kallsyms(void)
{
	const char *text = "ffffffff81000000 T _stext\n"
			   "ffffffff81000100 t do_thing\n"
			   "ffffffff81000200 D some_data\n"
			   "ffffffffc0001000 t mod_fn\t[mymod]\n";
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct ksyms *k = ksyms_load_file(f);
	const struct ksym *s;

	fclose(f);
	s = ksyms_lookup(k, 0xffffffff81000150);
	CHECK(s && !strcmp(s->name, "do_thing"), "kernel address inside do_thing");
	s = ksyms_lookup(k, 0xffffffffc0001010);
	CHECK(s && !strcmp(s->name, "mod_fn [mymod]"), "module symbol carries its module");
	CHECK(k->nr == 3, "data symbols skipped");
	ksyms_free(k);

	text = "0000000000000000 T _stext\n0000000000000000 t other\n";
	f = fmemopen((void *)text, strlen(text), "r");
	k = ksyms_load_file(f);
	fclose(f);
	CHECK(k->hidden, "all-zero addresses are reported as hidden (kptr_restrict)");
	ksyms_free(k);
}

int main(void)
{
	test_maps_lines();
	test_self();
	test_kallsyms();
	return tap_done();
}

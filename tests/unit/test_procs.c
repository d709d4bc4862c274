/* Unit tests of /proc/PID/maps parsing and kallsyms parsing. */
#include "symbols/kallsyms.h"
#include "procs/procs.h"
#include "procs/snapshot.h"
#include "tap.h"
#include "base/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/auxv.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

/* A pid beyond any pid_max: never a live process. */
#define FAKE_PID 99999990u

static void test_maps_lines(void)
{
	struct proc_map m;

	CHECK(proc_maps_parse_line("55d0c8a00000-55d0c8a21000 r-xp 00002000 fd:01 1234567    /usr/bin/demo\n",
			      &m) == 0 &&
		      m.start == 0x55d0c8a00000 && m.end == 0x55d0c8a21000 && m.pgoff == 0x2000 &&
		      m.dev == makedev(0xfd, 1) && m.ino == 1234567 && (m.flags & MAP_F_EXEC) &&
		      !strcmp(m.path, "/usr/bin/demo"),
	      "a file-backed executable mapping");
	free(m.path);
	CHECK(proc_maps_parse_line("7f0000000000-7f0000001000 r-xp 00000000 08:02 99 /tmp/a b (deleted)", &m) == 0 &&
		      (m.flags & MAP_F_DELETED) && !strcmp(m.path, "/tmp/a b"),
	      "deleted file, path with a space");
	free(m.path);
	CHECK(proc_maps_parse_line("7ffd1000-7ffd3000 r-xp 00000000 00:00 0                  [vdso]", &m) == 0 &&
		      (m.flags & MAP_F_SPECIAL) && !strcmp(m.path, "[vdso]"),
	      "[vdso]");
	free(m.path);
	CHECK(proc_maps_parse_line("7f00-7f10 rw-p 00000000 00:00 0", &m) == 0 && (m.flags & MAP_F_ANON) &&
		      !(m.flags & MAP_F_EXEC),
	      "anonymous, not executable");
	free(m.path);
	CHECK(proc_maps_parse_line("", &m) < 0, "empty line rejected");
	CHECK(proc_maps_parse_line("7f10-7f00 r-xp 0 00:00 0", &m) < 0, "end before start rejected");
	CHECK(proc_maps_parse_line("12345678901234567-1 r-xp 0 00:00 0", &m) < 0, "overlong hex rejected");
	CHECK(proc_maps_parse_line("1000-2000 r-x", &m) < 0, "truncated line rejected");
	CHECK(proc_maps_parse_line("1000-2000 r\nxp 0 00:00 0 /x", &m) < 0,
	      "a line cut short does not run into the next one");
}

static int collect(void *ctx, struct proc_map *m)
{
	struct strbuf *sb = ctx;

	strbuf_addf(sb, "%s%s", sb->len ? "," : "", m->path);
	return !strcmp(m->path, "/stop");
}

static void test_maps_text(void)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t base, size;
	char *text = NULL;
	size_t len = 0;

	proc_maps_each("1000-2000 r-xp 0 08:01 5 /a\n"
		       "garbage\n"
		       "\n"
		       "2000-3000 r\n"
		       "xp 0 00:00 0 /crossed\n"
		       "3000-4000 rw-p 0 00:00 0\n"
		       "4000-5000 r-xp 0 08:01 6 /b (deleted)",
		       collect, &sb);
	CHECK_STR(sb.buf, "/a,,/b", "each line that parses, in order; bad ones skipped");
	strbuf_reset(&sb);
	CHECK(proc_maps_each("1-2 r-xp 0 0:0 1 /stop\n2-3 r-xp 0 0:0 1 /after", collect, &sb) == 1 &&
		      !strcmp(sb.buf, "/stop"),
	      "a non-zero return stops the walk and is returned");
	strbuf_release(&sb);
	CHECK(proc_maps_text(0, &text, &len) == 0 && len == strlen(text) && strstr(text, "test_procs"),
	      "our own maps text, whole (%zu bytes)", len);
	free(text);
	CHECK(proc_maps_text(FAKE_PID, &text, &len) == -ENOENT, "no maps for a pid with no process");
	proc_self_vdso(&base, &size);
	CHECK(base == getauxval(AT_SYSINFO_EHDR) && (!base || size >= 4096),
	      "our vDSO from our maps (%#llx, %llu bytes)", (unsigned long long)base,
	      (unsigned long long)size);
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

static void test_start_time(void)
{
	double uptime = 0;
	FILE *f = fopen("/proc/uptime", "r");
	uint64_t ticks = proc_start_time(getpid());
	long hz = sysconf(_SC_CLK_TCK);

	if (f) {
		if (fscanf(f, "%lf", &uptime) != 1)
			uptime = 0;
		fclose(f);
	}
	/* Field 22 of /proc/PID/stat: this test started in the last minute. */
	CHECK(ticks <= uptime * hz + 1 && ticks + 60 * hz >= uptime * hz,
	      "start time is field 22 (got %llu ticks, uptime %.0f ticks)", (unsigned long long)ticks,
	      uptime * hz);
	CHECK(proc_start_time(0) == 0, "no start time for pid 0");
}

/* The one liveness check sees pid reuse: a pid that now names a process
 * with another start time is not the one asked about. */
static void test_alive(void)
{
	uint64_t me = proc_start_time(getpid()), child_start;
	char comm[32];
	pid_t child = fork();

	if (child == 0) {
		pause();
		_exit(0);
	}
	child_start = proc_start_time(child);
	CHECK(proc_alive(getpid(), me), "a live process with its own start time is alive");
	CHECK(!proc_alive(getpid(), me - 1) && !proc_alive(getpid(), me + 100),
	      "the same pid with another start time (reused) is not alive");
	CHECK(!proc_alive(getpid(), 0), "start time 0 (never read) is not alive");
	CHECK(!proc_alive(FAKE_PID, me), "a pid with no process is not alive");
	CHECK(proc_alive(child, child_start), "a running child is alive");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK(!proc_alive(child, child_start), "a reaped child is not alive");
	proc_read_comm(getpid(), comm, sizeof(comm));
	CHECK(!strcmp(comm, "test_procs"), "own name read from /proc (%s)", comm);
	proc_read_comm(FAKE_PID, comm, sizeof(comm));
	CHECK(comm[0] == 0, "no name for a pid with no process");
	CHECK(proc_pid_exists(getpid()) && !proc_pid_exists(FAKE_PID),
	      "a pid-keyed table sees whether the pid names any process");
	{
		char exe[4096], self[4096];
		int n = proc_read_exe(0, self, sizeof(self));

		CHECK(n > 0 && strstr(self, "test_procs"), "our own executable (%s)", self);
		CHECK(proc_read_exe(getpid(), exe, sizeof(exe)) == n && !strcmp(exe, self),
		      "our executable by pid is the same");
		CHECK(proc_read_exe(FAKE_PID, exe, sizeof(exe)) == -ENOENT,
		      "no executable for a pid with no process");
	}
}

static void test_instances(void)
{
	struct procs *ps = procs_new();
	uint64_t ns_per_tick = 1000000000ull / sysconf(_SC_CLK_TCK);
	uint64_t start = proc_start_time(getpid()) * ns_per_tick + 1234;
	uint64_t code = (uint64_t)(uintptr_t)&test_instances;
	struct proc *me, *other, *child;
	size_t before;

	me = procs_lookup(ps, getpid(), start);
	CHECK(me && !me->gone && proc_find_map(ps, me, code), "(pid, start) of a live process is read");
	CHECK(procs_lookup(ps, getpid(), start) == me, "the same (pid, start) is the same instance");
	other = procs_lookup(ps, getpid(), start + 5000000000ull);
	CHECK(other != me && other->gone && other->nr_maps == 0 && !proc_find_map(ps, other, code),
	      "another start time on the same pid (reuse) gets no maps from /proc");

	procs_fork(ps, FAKE_PID, 42, getpid(), start, "child");
	child = procs_lookup(ps, FAKE_PID, 42);
	CHECK(child && proc_find_map(ps, child, code) && !strcmp(child->comm, "child"),
	      "a forked child that exited unread shares its parent's maps");

	procs_exec(ps, getpid(), start, "renamed", now_ns());
	CHECK(!strcmp(me->comm, "renamed") && proc_find_map(ps, me, code),
	      "exec: maps re-read, name from the event");

	procs_exit(ps, getpid(), start);
	CHECK(me->exited && proc_find_map(ps, me, code), "an exited process keeps its maps");
	before = procs_count(ps);
	for (uint32_t i = 0; i < PROCS_MAX_EXITED; i++) {
		procs_fork(ps, FAKE_PID + 1, 100 + i, getpid(), start, "short");
		procs_exit(ps, FAKE_PID + 1, 100 + i);
	}
	CHECK(procs_count(ps) == before + PROCS_MAX_EXITED - 1,
	      "exited processes are bounded: the oldest is freed (%zu -> %zu)", before,
	      procs_count(ps));
	procs_free(ps);
}

static int attached_freed;

static void count_free(void *data)
{
	attached_freed++;
	free(data);
}

/* The stages above hang their state on an instance; procs frees it with
 * the instance, so churn keeps it bounded, and tells them when the maps
 * they named addresses from were replaced. */
static void test_attach(void)
{
	struct procs *ps = procs_new();
	uint64_t ns_per_tick = 1000000000ull / sysconf(_SC_CLK_TCK);
	uint64_t start = proc_start_time(getpid()) * ns_per_tick + 1234;
	int a = procs_attach_register(ps, count_free), b = procs_attach_register(ps, free);
	struct proc *me = procs_lookup(ps, getpid(), start), *p;
	uint32_t gen = me->maps_gen;
	int more = 0;

	CHECK(a >= 0 && b >= 0 && a != b, "two stages get two indexes (%d, %d)", a, b);
	while (procs_attach_register(ps, free) >= 0)
		more++;
	CHECK(more == PROCS_MAX_ATTACH - 2, "then %d more, and no more than PROCS_MAX_ATTACH",
	      more);
	procs_exec(ps, getpid(), start, "again", now_ns());
	CHECK(me->maps_gen != gen && me->nr_maps, "exec: the maps generation changes (%u -> %u)",
	      gen, me->maps_gen);
	attached_freed = 0;
	for (uint32_t i = 0; i < 2 * PROCS_MAX_EXITED; i++) {
		procs_fork(ps, FAKE_PID + 2, 100 + i, getpid(), start, "short");
		p = procs_lookup(ps, FAKE_PID + 2, 100 + i);
		p->attached[a] = xcalloc(1, 64);
		p->attached[b] = xcalloc(1, 64);
		procs_exit(ps, FAKE_PID + 2, 100 + i);
	}
	CHECK(attached_freed == PROCS_MAX_EXITED,
	      "instances pushed out free what was attached to them (%d of %d)", attached_freed,
	      PROCS_MAX_EXITED);
	procs_free(ps);
	CHECK(attached_freed == 2 * PROCS_MAX_EXITED, "procs_free frees the rest (%d)",
	      attached_freed);
}

/* A child that pauses until killed; its start time in the BPF program's ns. */
static pid_t spawn_paused(uint64_t *start_ns)
{
	uint64_t ns_per_tick = 1000000000ull / sysconf(_SC_CLK_TCK);
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	*start_ns = proc_start_time(pid) * ns_per_tick + 99;
	return pid;
}

static void kill_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* An exec event that arrives after the process's maps were read (a sample
 * taken in the kernel during the exec, once the new name was set, comes
 * before the event): maps read since the exec are the new program's and
 * are kept, even once the process is gone; older ones are dropped. */
static void test_exec_after_read(void)
{
	struct procs *ps = procs_new();
	uint64_t code = (uint64_t)(uintptr_t)&test_exec_after_read, start, read_ns;
	struct proc *p;
	pid_t pid;

	pid = spawn_paused(&start);
	p = procs_lookup(ps, (uint32_t)pid, start);
	read_ns = p->read_ns;
	kill_child(pid);
	CHECK(p->nr_maps && read_ns, "a live child's maps are read (%u maps)", p->nr_maps);
	procs_exec(ps, (uint32_t)pid, start, "late", read_ns - 1);
	CHECK(p->nr_maps && proc_find_map(ps, p, code) && !strcmp(p->comm, "late"),
	      "exec event after the read, process gone: the maps read are kept");

	pid = spawn_paused(&start);
	p = procs_lookup(ps, (uint32_t)pid, start);
	kill_child(pid);
	procs_exec(ps, (uint32_t)pid, start, "later", now_ns());
	CHECK(p->nr_maps == 0 && p->gone && !proc_find_map(ps, p, code),
	      "exec after the read: the old program's maps are dropped (got %u)", p->nr_maps);
	procs_free(ps);
}

/* Ten thousand short processes, each its own pid: the slots of pids with no
 * instance left are swept, and what is left is still found. */
static void test_sweep(void)
{
	struct procs *ps = procs_new();
	uint64_t ns_per_tick = 1000000000ull / sysconf(_SC_CLK_TCK);
	uint64_t start = proc_start_time(getpid()) * ns_per_tick + 1234;
	struct proc *me = procs_lookup(ps, getpid(), start), *last;
	size_t most = 0;

	for (uint32_t i = 0; i < 10000; i++) {
		procs_fork(ps, FAKE_PID - 20000 + i, 7, getpid(), start, "short");
		procs_exit(ps, FAKE_PID - 20000 + i, 7);
		procs_next_gen(ps);
		if (procs_nr_slots(ps) > most)
			most = procs_nr_slots(ps);
	}
	CHECK(most <= 4096, "10000 pids come and go: at most %zu slots held (4096 allowed)", most);
	last = procs_lookup(ps, FAKE_PID - 20000 + 9999, 7);
	CHECK(procs_lookup(ps, getpid(), start) == me && last->exited && !strcmp(last->comm, "short"),
	      "after sweeps, the live process and the latest exited one are the same instances");
	procs_free(ps);
}

/* A library loaded after the maps were read: the miss comes too soon for a
 * re-read, which happens at the next lookup once PROCS_RELOAD_NS passed. */
static void test_dlopen_reload(void)
{
	const char *libs[][2] = { { "libcap.so.2", "cap_init" }, { "libattr.so.1", "attr_get" } };
	struct procs *ps = procs_new();
	struct proc *p = procs_get(ps, getpid());
	void *h = NULL, *sym = NULL;

	procs_next_gen(ps);
	for (size_t i = 0; i < 2 && !sym; i++) {
		h = dlopen(libs[i][0], RTLD_NOW);
		sym = h ? dlsym(h, libs[i][1]) : NULL;
	}
	if (!sym) {
		printf("# SKIP no library to dlopen (libcap, libattr)\n");
		procs_free(ps);
		return;
	}
	CHECK(!proc_find_map(ps, p, (uint64_t)(uintptr_t)sym) && p->reload_due_ns,
	      "a miss right after a read waits for its re-read");
	usleep(PROCS_RELOAD_NS / 1000 + 20000);
	procs_next_gen(ps);
	p = procs_get(ps, getpid());
	CHECK(proc_find_map(ps, p, (uint64_t)(uintptr_t)sym) != NULL,
	      "... which the next lookup does when it is due: the library is found");
	dlclose(h);
	procs_free(ps);
}

static void test_snapshot_read(void)
{
	uint64_t ns_per_tick = 1000000000ull / sysconf(_SC_CLK_TCK);
	uint64_t start = proc_start_time(getpid()) * ns_per_tick;
	char *text = snapshot_read(getpid(), start, ns_per_tick);

	CHECK(text && strstr(text, "test_procs"), "snapshot of a live (pid, start): its maps text");
	free(text);
	text = snapshot_read(getpid(), start + 10 * 1000000000ull, ns_per_tick);
	CHECK(!text, "snapshot of a (pid, start) that /proc no longer shows: nothing");
	free(text);
}

/* /proc/PID as a handle on one process: opened only for its own start
 * time, and what is read through it stays that process's. A maps file kept
 * open reads the maps as they are now. */
static void test_proc_open(void)
{
	uint64_t me = proc_start_time(getpid()), child_start;
	char *before = NULL, *after = NULL;
	int dir, fd, child_dir;
	void *extra;
	pid_t child;

	dir = proc_open(getpid(), me);
	CHECK(dir >= 0, "proc_open: our own pid and start time (%d)", dir);
	CHECK(proc_open(getpid(), me + 100) == -ESRCH && proc_open(getpid(), 0) == -ESRCH &&
		      proc_open(FAKE_PID, me) < 0,
	      "proc_open: another start time (a reused pid), 0 or no process: refused");
	fd = dir >= 0 ? openat(dir, "maps", O_RDONLY | O_CLOEXEC) : -1;
	proc_maps_text_fd(fd, &before, NULL);
	extra = mmap(NULL, 3 * 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	proc_maps_text_fd(fd, &after, NULL);
	CHECK(before && after && extra != MAP_FAILED && strlen(after) > strlen(before),
	      "a kept maps fd reads the maps as they are now (%zu, then %zu bytes)",
	      before ? strlen(before) : 0, after ? strlen(after) : 0);
	munmap(extra, 3 * 4096);
	free(before);
	free(after);
	if (fd >= 0)
		close(fd);
	if (dir >= 0)
		close(dir);

	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	child_start = proc_start_time(child);
	child_dir = proc_open(child, child_start);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	fd = child_dir >= 0 ? openat(child_dir, "maps", O_RDONLY | O_CLOEXEC) : 0;
	CHECK(child_dir >= 0 && fd < 0,
	      "proc_open: once the process is reaped, nothing opens through its handle");
	if (fd >= 0)
		close(fd);
	if (child_dir >= 0)
		close(child_dir);
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
	test_maps_text();
	test_self();
	test_start_time();
	test_alive();
	test_instances();
	test_sweep();
	test_attach();
	test_snapshot_read();
	test_proc_open();
	test_exec_after_read();
	test_dlopen_reload();
	test_kallsyms();
	return tap_done();
}

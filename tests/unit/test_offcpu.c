/* Unit tests of capture/offcpu.c: reason names and off-CPU interval pairing
 * (--wall), and of the idle-thread rule of call trees. */
#include "capture/offcpu.h"
#include "model/tree.h"
#include "base/util.h"
#include "tap.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *reason(uint32_t state, int32_t nr, uint32_t kind)
{
	static char buf[OFFCPU_REASON_LEN];

	offcpu_reason_name(buf, state, nr, kind);
	return buf;
}

static void test_reasons(void)
{
	CHECK_STR(reason(0, 202, ST_FD_NONE), "[waiting for a CPU]", "preempted in a futex");
	CHECK_STR(reason(0, -1, ST_FD_NONE), "[waiting for a CPU]", "preempted in user mode");
	CHECK_STR(reason(1, 35, ST_FD_NONE), "[sleeping]", "nanosleep");
	CHECK_STR(reason(1, 230, ST_FD_NONE), "[sleeping]", "clock_nanosleep");
	CHECK_STR(reason(1, 202, ST_FD_NONE), "[waiting on a lock]", "futex");
	CHECK_STR(reason(2, 0, ST_FD_PIPE), "[reading pipe]", "read of a pipe");
	CHECK_STR(reason(1, 0, ST_FD_SOCKET), "[reading socket]", "read of a socket");
	CHECK_STR(reason(2, 17, ST_FD_FILE), "[reading file]", "pread64 of a file");
	CHECK_STR(reason(1, 0, ST_FD_TTY), "[reading tty]", "read of a terminal");
	CHECK_STR(reason(1, 0, ST_FD_NONE), "[reading]", "read of an fd of unknown kind");
	CHECK_STR(reason(1, 0, ST_FD_OTHER), "[reading]", "read of an eventfd");
	CHECK_STR(reason(1, 45, ST_FD_NONE), "[reading socket]", "recvfrom: only sockets");
	CHECK_STR(reason(1, 1, ST_FD_PIPE), "[writing pipe]", "write to a pipe");
	CHECK_STR(reason(1, 46, ST_FD_NONE), "[writing socket]", "sendmsg");
	CHECK_STR(reason(1, 232, ST_FD_NONE), "[polling]", "epoll_wait");
	CHECK_STR(reason(1, 7, ST_FD_NONE), "[polling]", "poll");
	CHECK_STR(reason(1, 270, ST_FD_NONE), "[polling]", "pselect6");
	CHECK_STR(reason(1, 61, ST_FD_NONE), "[waiting for a child]", "wait4");
	CHECK_STR(reason(1, 288, ST_FD_NONE), "[accepting]", "accept4");
	CHECK_STR(reason(1, 42, ST_FD_NONE), "[connecting]", "connect");
	CHECK_STR(reason(2, 74, ST_FD_NONE), "[blocked in fsync]", "another syscall by name");
	CHECK_STR(reason(1, 9999, ST_FD_NONE), "[blocked in syscall 9999]",
		  "a syscall without a name: its number");
	CHECK_STR(reason(2, -1, ST_FD_NONE), "[blocked in the kernel]", "outside any syscall");
	CHECK(offcpu_syscall_has_fd(0) && offcpu_syscall_has_fd(47) && !offcpu_syscall_has_fd(202),
	      "read and recvmsg take an fd worth a look, futex not");
	CHECK(offcpu_fd_kind(S_IFIFO) == ST_FD_PIPE && offcpu_fd_kind(S_IFSOCK) == ST_FD_SOCKET &&
		      offcpu_fd_kind(S_IFREG) == ST_FD_FILE && offcpu_fd_kind(S_IFDIR) == ST_FD_OTHER &&
		      offcpu_fd_kind(0) == ST_FD_NONE,
	      "fd kinds from file types");
}

/* The pieces handed out, in order. */
struct got {
	struct offcpu_piece pc[64];
	int n;
};

static void collect(const struct offcpu_piece *pc, void *ctx)
{
	struct got *g = ctx;

	if (g->n < 64)
		g->pc[g->n] = *pc;
	g->n++;
}

/* A thread of ours: tid 0 is this one (tgkill finds it alive), others
 * are made up (gone). */
static struct offcpu_thread me(uint32_t tid)
{
	struct offcpu_thread th = { .tgid = (uint32_t)getpid(), .tid = tid ? tid : (uint32_t)gettid(),
				    .comm = "worker" };

	return th;
}

/* A thread that does not exist: gone. */
static struct offcpu_thread gone(uint32_t tid)
{
	struct offcpu_thread th = { .tgid = 0x3ffffff0, .tid = tid, .comm = "gone" };

	return th;
}

static uint64_t sum(const struct got *g, int from, int to)
{
	uint64_t t = 0;

	for (int i = from; i < to && i < 64; i++)
		t += g->pc[i].end_ns - g->pc[i].begin_ns;
	return t;
}

/* Do the pieces from..to tile [begin, end) in order? */
static bool tiles(const struct got *g, int from, int to, uint64_t begin, uint64_t end)
{
	for (int i = from; i < to; i++) {
		if (g->pc[i].begin_ns != begin)
			return false;
		begin = g->pc[i].end_ns;
	}
	return begin == end;
}

#define NOT_REC 99
#define START 1000
#define PERIOD 100

static void test_pairing(void)
{
	struct got g = { 0 };
	struct offcpu *o = offcpu_new(START, PERIOD, collect, &g);
	struct offcpu_thread a = me(11);
	struct offcpu_stats st;

	/* Runs from the start (sampled at 1300, 1400), leaves at 2000. */
	offcpu_sample(o, &a, 1300, 1, 0);
	offcpu_sample(o, &a, 1400, 2, 0);
	CHECK(g.n == 0, "a slice's samples wait for its end");
	offcpu_switch_out(o, &a, 2000, 5, 6, 0);
	CHECK(g.n == 2 && g.pc[0].on_cpu && g.pc[0].stack == 1 && g.pc[1].stack == 2 &&
		      tiles(&g, 0, 2, START, 2000),
	      "its samples share the slice [start, switch-out) evenly");
	offcpu_switch_in(o, &a, 2250, 2000, NOT_REC);
	CHECK(g.n == 3 && !g.pc[2].on_cpu && g.pc[2].stack == 5 && tiles(&g, 2, 3, 2000, 2250),
	      "its switch-in closes the off-CPU interval under the switch-out's stack");
	/* A burst too short for a sample: where it left the CPU from. */
	offcpu_switch_out(o, &a, 2300, 7, 8, 77);
	CHECK(g.n == 4 && g.pc[3].on_cpu && g.pc[3].stack == 8 && tiles(&g, 3, 4, 2250, 2300) &&
		      g.pc[3].call_id == 77,
	      "an unsampled slice goes to the switch-out's stack without its reason, in its call");
	offcpu_switch_in(o, &a, 2400, 2300, NOT_REC);
	g.n = 0;
	offcpu_stop(o, 3000);
	CHECK(g.n == 0, "at the stop, a slice without samples has nothing to name it");
	offcpu_free(o);

	/* The switch-out lost (ring buffer full): length right, no stack. */
	memset(&g, 0, sizeof(g));
	o = offcpu_new(START, PERIOD, collect, &g);
	a = me(13);
	offcpu_switch_in(o, &a, 1500, 0, NOT_REC);
	CHECK(g.n == 0, "missed start of a thread unknown at the start: nothing before");
	offcpu_sample(o, &a, 1600, 1, 0);
	offcpu_switch_in(o, &a, 3500, 3100, NOT_REC);
	CHECK(g.n == 2 && tiles(&g, 0, 2, 1500, 3500) && g.pc[1].stack == NOT_REC &&
		      g.pc[0].stack == 1,
	      "a switch-in without its switch-out: the slice ends at off_ns, the rest unrecorded");
	/* Blocked at the end: counts up to the stop. */
	offcpu_switch_out(o, &a, 4000, 9, 10, 0);
	offcpu_stop(o, 9000);
	CHECK(g.pc[g.n - 1].stack == 9 && tiles(&g, g.n - 1, g.n, 4000, 9000),
	      "a thread blocked at the end counts up to the stop");
	offcpu_stats(o, &st);
	CHECK(st.no_stack == 1, "one interval without its stack, counted");
	CHECK(offcpu_threads(o) == 0, "nothing held after the stop");
	offcpu_free(o);
}

/* A switch-in that fired no sched_switch comes late, just before the next
 * switch-out, after samples of its slice. */
static void test_late_switch_in(void)
{
	struct got g = { 0 };
	struct offcpu *o = offcpu_new(START, PERIOD, collect, &g);
	struct offcpu_thread a = me(51);

	offcpu_switch_out(o, &a, 2000, 5, 6, 0);
	g.n = 0;	/* its time before, on a CPU since the start */
	offcpu_sample(o, &a, 2100, 1, 0);
	offcpu_sample(o, &a, 2200, 2, 0);
	CHECK(g.n == 0, "samples of a thread not switched in yet wait");
	offcpu_switch_in(o, &a, 2050, 2000, NOT_REC);
	offcpu_switch_out(o, &a, 2300, 7, 8, 0);
	CHECK(g.n == 3 && g.pc[0].stack == 5 && !g.pc[0].on_cpu && g.pc[1].stack == 1 &&
		      g.pc[2].stack == 2 && g.pc[2].on_cpu && tiles(&g, 0, 3, 2000, 2300) &&
		      g.pc[0].end_ns == 2050,
	      "the late switch-in ends the interval, the samples share the slice after it");
	g.n = 0;
	offcpu_sample(o, &a, 2400, 1, 0);
	offcpu_switch_in(o, &a, 2450, 2300, NOT_REC);
	offcpu_switch_out(o, &a, 2500, 7, 8, 0);
	CHECK(g.n == 2 && g.pc[0].end_ns == 2400 && tiles(&g, 0, 2, 2300, 2500),
	      "a switch-in estimated after the first sample: the interval ends at the sample");
	g.n = 0;
	offcpu_sample(o, &a, 2600, 1, 0);
	offcpu_switch_out(o, &a, 2700, 7, 8, 0);
	CHECK(g.n == 2 && g.pc[0].end_ns == 2600 && g.pc[1].on_cpu && tiles(&g, 0, 2, 2500, 2700),
	      "a switch-in lost: the interval ends at the first sample");
	offcpu_free(o);
}

/* Checkpoints hand out what is open, for a live view; the pieces still tile. */
static void test_checkpoint(void)
{
	struct got g = { 0 };
	struct offcpu *o = offcpu_new(START, PERIOD, collect, &g);
	struct offcpu_thread a = me(61);

	offcpu_switch_in(o, &a, 1500, 0, NOT_REC);
	offcpu_switch_out(o, &a, 2000, 5, 6, 0);
	g.n = 0;
	offcpu_checkpoint(o, 2500);
	CHECK(g.n == 1 && g.pc[0].stack == 5 && tiles(&g, 0, 1, 2000, 2500),
	      "a thread blocked for long shows its interval so far");
	offcpu_switch_in(o, &a, 3000, 2000, NOT_REC);
	offcpu_sample(o, &a, 3100, 1, 0);
	offcpu_sample(o, &a, 3200, 2, 0);
	offcpu_checkpoint(o, 3300);
	CHECK(g.n == 4 && g.pc[1].stack == 5 && g.pc[3].stack == 2 && tiles(&g, 0, 4, 2000, 3300),
	      "the rest follows, and a running slice's samples so far share it up to then");
	offcpu_sample(o, &a, 3400, 3, 0);
	offcpu_switch_out(o, &a, 3500, 7, 8, 0);
	offcpu_checkpoint(o, 3700);
	/* Drained after the checkpoint, stamped before it. */
	offcpu_switch_in(o, &a, 3600, 3500, NOT_REC);
	offcpu_switch_out(o, &a, 3800, 9, 10, 0);
	offcpu_stop(o, 3900);
	CHECK(g.n <= 64 && tiles(&g, 0, g.n, 2000, 3900),
	      "records from before a checkpoint are clamped to it: no overlap, no gap (%d pieces)",
	      g.n);
	offcpu_free(o);
}

/* A thread's pieces tile the run: its total is the duration. */
static void test_tiling(void)
{
	struct got g = { 0 };
	struct offcpu *o = offcpu_new(START, PERIOD, collect, &g);
	struct offcpu_thread a = me(31);
	uint64_t t = START + 7;

	for (int i = 0; i < 100; i++) {
		offcpu_sample(o, &a, t + 30, 1, 0);
		if (i % 3 == 0)
			offcpu_sample(o, &a, t + 60, 2, 0);
		offcpu_switch_out(o, &a, t + 90, 3, 4, 0);
		offcpu_switch_in(o, &a, t + 90 + 17 * (i % 5), t + 90, NOT_REC);
		t += 90 + 17 * (i % 5);
	}
	for (int i = 0; i < 3 * OFFCPU_SLICE_SAMPLES; i++)
		offcpu_sample(o, &a, t + 50 * i + 10, 5, 0);
	offcpu_stop(o, t + 50 * 3 * OFFCPU_SLICE_SAMPLES);
	CHECK(g.n > 64 && sum(&g, 0, 64) > 0, "many pieces (%d)", g.n);
	offcpu_free(o);
	{
		/* Count them all again without the cap of struct got. */
		struct got h = { 0 };
		uint64_t total = 0, last = START;
		bool ordered = true;

		o = offcpu_new(START, PERIOD, collect, &h);
		t = START + 7;
		for (int i = 0; i < 10; i++) {
			offcpu_sample(o, &a, t + 30, 1, 0);
			offcpu_switch_out(o, &a, t + 90, 3, 4, 0);
			offcpu_switch_in(o, &a, t + 100, t + 90, NOT_REC);
			t += 100;
		}
		for (int i = 0; i < OFFCPU_SLICE_SAMPLES + 5; i++)
			offcpu_sample(o, &a, t + 50 * i + 10, 5, 0);
		offcpu_stop(o, t + 50 * (OFFCPU_SLICE_SAMPLES + 5));
		for (int i = 0; i < h.n && i < 64; i++) {
			total += h.pc[i].end_ns - h.pc[i].begin_ns;
			ordered &= h.pc[i].begin_ns == last;
			last = h.pc[i].end_ns;
		}
		CHECK(h.n <= 64 && ordered && total == t + 50 * (OFFCPU_SLICE_SAMPLES + 5) - START,
		      "pieces tile the run from start to stop, a long slice shared out as it goes "
		      "(%d pieces, total %llu)", h.n, (unsigned long long)total);
		offcpu_free(o);
	}
}

static void test_start_threads(void)
{
	struct got g = { 0 };
	struct offcpu *o = offcpu_new(START, PERIOD, collect, &g);
	struct offcpu_thread t21 = me(21), t22 = me(22), t23 = me(0), t24 = me(24);

	/* 21: blocked at the start, wakes at 1800. 22: never runs. 23: was on a
	 * CPU (a sample says so). 24: runnable at the start, runs at 1100. */
	offcpu_start_thread(o, &t21, 30, 31, false);
	offcpu_start_thread(o, &t22, 32, 33, false);
	offcpu_start_thread(o, &t23, 34, 35, true);
	offcpu_start_thread(o, &t24, 36, 37, true);
	offcpu_switch_in(o, &t21, 1800, 0, NOT_REC);
	CHECK(g.n == 1 && tiles(&g, 0, 1, START, 1800) && g.pc[0].stack == 30,
	      "blocked at the start: counted from the run's start under its start stack");
	offcpu_sample(o, &t23, 1500, 40, 0);
	offcpu_switch_in(o, &t24, 1100, 0, NOT_REC);
	CHECK(g.n == 2 && tiles(&g, 1, 2, START, 1100) && g.pc[1].stack == 36,
	      "runnable at the start: from the start too");
	offcpu_stop(o, 9000);
	CHECK(g.n == 4, "two more pieces at the stop (%d)", g.n - 2);
	for (int i = 2; i < g.n && i < 64; i++) {
		if (g.pc[i].th.tid == 22)
			CHECK(g.pc[i].idle && g.pc[i].stack == 33 && tiles(&g, i, i + 1, START, 9000),
			      "never ran: the whole run under the idle stack");
		if (g.pc[i].th.tid == t23.tid)
			CHECK(g.pc[i].on_cpu && g.pc[i].stack == 40 && tiles(&g, i, i + 1, START, 9000),
			      "on a CPU from the start to the stop (alive): its sample has it all");
	}
	offcpu_free(o);
}

/* A thread that exits while running sends no switch-out. */
static void test_gone(void)
{
	struct got g = { 0 };
	struct offcpu *o = offcpu_new(START, PERIOD, collect, &g);
	struct offcpu_thread d = gone(41);

	offcpu_switch_in(o, &d, 2000, 1900, NOT_REC);
	offcpu_sample(o, &d, 2050, 1, 0);
	offcpu_sweep(o, 2050 + OFFCPU_STALE_NS / 2);
	CHECK(offcpu_threads(o) == 1, "not swept while it may still run");
	offcpu_sweep(o, 2050 + OFFCPU_STALE_NS + 1);
	CHECK(offcpu_threads(o) == 0 && g.n == 2 && tiles(&g, 1, 2, 2000, 2050 + PERIOD),
	      "swept once quiet and gone: its slice ends a period after its last sample");
	g.n = 0;
	offcpu_switch_in(o, &d, 3000, 2900, NOT_REC);
	offcpu_sample(o, &d, 3010, 1, 0);
	offcpu_exit(o, d.tgid);
	CHECK(offcpu_threads(o) == 0 && g.n == 2 && tiles(&g, 1, 2, 3000, 3010 + PERIOD),
	      "its process exited: the same at once");
	/* A checkpoint long after its last sample: the slice handed out
	 * reaches a period past it, not the checkpoint. */
	g.n = 0;
	offcpu_switch_in(o, &d, 4000, 3900, NOT_REC);
	offcpu_sample(o, &d, 4050, 1, 0);
	offcpu_sample(o, &d, 4150, 2, 0);
	offcpu_checkpoint(o, 90000);
	offcpu_checkpoint(o, 95000);
	offcpu_sweep(o, 4150 + OFFCPU_STALE_NS + 1);
	CHECK(offcpu_threads(o) == 0 && g.n == 3 && tiles(&g, 1, 3, 4000, 4150 + PERIOD),
	      "gone quietly, then a checkpoint: its slice still ends a period after its last "
	      "sample (%d pieces, on-CPU %llu ns)", g.n, (unsigned long long)sum(&g, 1, g.n));
	/* Its switch-out lost, a switch-in long after the last sample: the
	 * time between is off the CPU, stack not recorded (counted). */
	g.n = 0;
	offcpu_switch_in(o, &d, 5000, 4900, NOT_REC);
	offcpu_sample(o, &d, 5050, 1, 0);
	offcpu_switch_in(o, &d, 8000, 0, NOT_REC);
	CHECK(g.n == 3 && g.pc[1].on_cpu && tiles(&g, 1, 2, 5000, 5050 + PERIOD) &&
		      g.pc[2].stack == NOT_REC && !g.pc[2].on_cpu && tiles(&g, 2, 3, 5050 + PERIOD, 8000),
	      "a switch-out lost: the slice ends a period after its last sample, the rest is off");
	offcpu_exit(o, d.tgid);
	offcpu_free(o);
}

static void test_cap(void)
{
	struct got g = { 0 };
	struct offcpu *o = offcpu_new(START, PERIOD, collect, &g);
	struct offcpu_stats st;
	struct offcpu_thread th;

	for (uint32_t t = 1; t <= OFFCPU_MAX_THREADS + 1; t++) {
		th = me(t);
		offcpu_switch_in(o, &th, 1500, 0, NOT_REC);
	}
	offcpu_stats(o, &st);
	CHECK(offcpu_threads(o) == OFFCPU_MAX_THREADS && st.no_slot == 1,
	      "past the cap a thread has no slot, counted");
	g.n = 0;
	offcpu_sample(o, &th, 1600, 3, 0);
	CHECK(g.n == 1 && tiles(&g, 0, 1, 1600, 1600 + PERIOD),
	      "its samples weigh one period each");
	offcpu_switch_out(o, &th, 1700, 5, 6, 0);
	offcpu_switch_in(o, &th, 2300, 1700, NOT_REC);
	CHECK(g.n == 2 && g.pc[1].stack == NOT_REC && tiles(&g, 1, 2, 1700, 2300),
	      "its intervals keep their length, without their stack");
	offcpu_free(o);
}

/* Threads idle the whole run are left out of trees unless show_idle. */
static void test_idle_view(void)
{
	struct profile *p = profile_new();
	uint32_t th = profile_thread(p, 7, 7, "main", "srv");
	uint32_t th2 = profile_thread(p, 7, 8, "pool", "srv");
	struct frame f = { .name = "work", .module = "/srv", .kind = FRAME_NATIVE };
	frame_id_t busy[] = { profile_frame(p, &f) };
	frame_id_t idle[] = { profile_special_frame(p, FRAME_SPECIAL, PROFILE_IDLE_NAME),
			      offcpu_reason_frame(p, "[waiting on a lock]") };
	struct view_opts vo = VIEW_OPTS_INIT;
	struct tree *t;
	uint32_t nth;

	p->meta.wall = true;
	profile_add_sample(p, th, busy, 1, 3000);
	profile_add_sample(p, th2, idle, 2, 9000);
	t = tree_build(p, &vo);
	CHECK(t->total == 3000, "idle threads hidden by default (total %llu)",
	      (unsigned long long)t->total);
	tree_free(t);
	vo.show_idle = true;
	t = tree_build(p, &vo);
	CHECK(t->total == 12000, "and shown with show_idle");
	tree_free(t);
	CHECK(profile_idle_weight(p, &nth) == 9000 && nth == 1, "idle weight and threads");
	CHECK(profile_cpu_weight(p) == 3000, "idle time is no CPU time");
	profile_free(p);
}

int main(void)
{
	test_reasons();
	test_pairing();
	test_tiling();
	test_late_switch_in();
	test_checkpoint();
	test_start_threads();
	test_gone();
	test_cap();
	test_idle_view();
	return tap_done();
}

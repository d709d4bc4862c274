/* Unit tests of capture/offcpu.c: reason names and off-CPU interval pairing
 * (--wall), and of the idle-thread rule of call trees. */
#include "capture/offcpu.h"
#include "model/tree.h"
#include "base/util.h"
#include "tap.h"

#include <stdlib.h>
#include <sys/stat.h>

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

/* The intervals handed out, in order. */
struct got {
	struct offcpu_interval iv[8];
	int n;
};

static void collect(const struct offcpu_interval *iv, void *ctx)
{
	struct got *g = ctx;

	if (g->n < 8)
		g->iv[g->n] = *iv;
	g->n++;
}

static struct offcpu_interval out_rec(uint32_t tid, uint64_t off_ns, uint32_t stack)
{
	return (struct offcpu_interval){ .tgid = 7, .tid = tid, .off_ns = off_ns, .stack = stack,
					 .comm = "worker" };
}

#define NOT_REC 99
#define START 1000

static void test_pairing(void)
{
	struct offcpu *o = offcpu_new(START);
	struct got g = { 0 };
	struct offcpu_interval iv = out_rec(11, 2000, 5);
	struct offcpu_stats st;

	offcpu_switch_out(o, &iv, collect, &g);
	CHECK(g.n == 0 && offcpu_held(o) == 1, "a switch-out is held");
	offcpu_switch_in(o, 7, 11, 2250, 2000, NOT_REC, collect, &g);
	CHECK(g.n == 1 && g.iv[0].off_ns == 2000 && g.iv[0].on_ns == 2250 && g.iv[0].stack == 5 &&
		      !g.iv[0].idle,
	      "its switch-in closes it: [off, on) under its stack");
	CHECK(offcpu_held(o) == 0, "and frees its slot");

	/* A switch-in with a start that was missed and no thread known at the
	 * start: it began during the run. */
	g.n = 0;
	offcpu_switch_in(o, 7, 12, 3000, 0, NOT_REC, collect, &g);
	CHECK(g.n == 0 && offcpu_held(o) == 0, "missed start of an unknown thread: nothing");

	/* The switch-out lost (ring buffer full): length right, no stack. */
	offcpu_switch_in(o, 7, 13, 3500, 3100, NOT_REC, collect, &g);
	CHECK(g.n == 0 && offcpu_held(o) == 1, "a switch-in without its switch-out waits");
	iv = out_rec(13, 3100, 6);
	offcpu_switch_out(o, &iv, collect, &g);
	CHECK(g.n == 1 && g.iv[0].stack == 6 && g.iv[0].on_ns - g.iv[0].off_ns == 400,
	      "a late switch-out (cold) still gives the interval its stack");
	g.n = 0;
	offcpu_switch_in(o, 7, 13, 4500, 4100, NOT_REC, collect, &g);
	iv = out_rec(13, 4600, 6);
	offcpu_switch_out(o, &iv, collect, &g);
	CHECK(g.n == 1 && g.iv[0].stack == NOT_REC && g.iv[0].on_ns - g.iv[0].off_ns == 400,
	      "one that never comes: its length under the not-recorded leaf");
	/* A switch-out whose switch-in was lost is replaced by the next one. */
	g.n = 0;
	iv = out_rec(13, 5000, 8);
	offcpu_switch_out(o, &iv, collect, &g);
	offcpu_switch_in(o, 7, 13, 5100, 5000, NOT_REC, collect, &g);
	CHECK(g.n == 1 && g.iv[0].off_ns == 5000 && g.iv[0].stack == 8,
	      "the newest switch-out is the one held");
	/* Open at the end: closed at the stop. */
	g.n = 0;
	iv = out_rec(14, 6000, 9);
	offcpu_switch_out(o, &iv, collect, &g);
	offcpu_stop(o, 9000, NOT_REC, collect, &g);
	CHECK(g.n == 1 && g.iv[0].off_ns == 6000 && g.iv[0].on_ns == 9000 && g.iv[0].stack == 9,
	      "a thread blocked at the end counts up to the stop");
	offcpu_stats(o, &st);
	CHECK(st.unmatched == 1 && st.not_held == 0, "one interval without its stack, counted");
	CHECK(offcpu_held(o) == 0, "nothing held after the stop");
	offcpu_free(o);
}

static void test_start_threads(void)
{
	struct offcpu *o = offcpu_new(START);
	struct got g = { 0 };
	struct offcpu_interval iv = out_rec(21, 0, 30);

	/* 21: blocked at the start, wakes at 1800. 22: never runs. 23: was on a
	 * CPU (a sample says so). 24: runnable at the start, runs at 1100. */
	offcpu_start_thread(o, &iv, 31, false);
	iv = out_rec(22, 0, 32);
	offcpu_start_thread(o, &iv, 33, false);
	iv = out_rec(23, 0, 34);
	offcpu_start_thread(o, &iv, 35, true);
	iv = out_rec(24, 0, 36);
	offcpu_start_thread(o, &iv, 37, true);
	offcpu_switch_in(o, 7, 21, 1800, 0, NOT_REC, collect, &g);
	CHECK(g.n == 1 && g.iv[0].off_ns == START && g.iv[0].on_ns == 1800 && g.iv[0].stack == 30,
	      "blocked at the start: counted from the run's start under its start stack");
	offcpu_ran(o, 23);
	offcpu_switch_in(o, 7, 24, 1100, 0, NOT_REC, collect, &g);
	CHECK(g.n == 2 && g.iv[1].off_ns == START && g.iv[1].stack == 36,
	      "runnable at the start: from the start too");
	offcpu_stop(o, 9000, NOT_REC, collect, &g);
	CHECK(g.n == 3 && g.iv[2].tid == 22 && g.iv[2].idle && g.iv[2].stack == 33 &&
		      g.iv[2].off_ns == START && g.iv[2].on_ns == 9000,
	      "never ran: the whole run under the idle stack");
	offcpu_free(o);
}

static void test_cap(void)
{
	struct offcpu *o = offcpu_new(START);
	struct got g = { 0 };
	struct offcpu_stats st;

	for (uint32_t t = 1; t <= OFFCPU_MAX_HELD + 1; t++) {
		struct offcpu_interval iv = out_rec(t, 2000, 5);

		offcpu_switch_out(o, &iv, collect, &g);
	}
	offcpu_stats(o, &st);
	CHECK(offcpu_held(o) == OFFCPU_MAX_HELD && st.not_held == 1,
	      "past the cap a switch-out is not held, and counted");
	offcpu_switch_in(o, 7, OFFCPU_MAX_HELD + 1, 2600, 2000, NOT_REC, collect, &g);
	CHECK(g.n == 1 && g.iv[0].stack == NOT_REC && g.iv[0].on_ns - g.iv[0].off_ns == 600,
	      "its interval keeps its length, without its stack");
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
	test_start_threads();
	test_cap();
	test_idle_view();
	return tap_done();
}

/* The userspace walk of cold samples (unwind_user) and the queue that holds
 * them (unwind_hold). The walk runs on a synthetic stack over a table whose
 * rows are known (each rule, truncation, frame pointers, a pending table,
 * hostile chains), then on a real one: this process's own stack, copied as
 * the BPF program copies it, walked with the tables of this binary and of
 * libc, against glibc's backtrace() (libgcc's unwinder) as the oracle. */
#include "procs/procfs.h"
#include "tap.h"
#include "unwind/unwind_hold.h"
#include "unwind/unwind_table.h"
#include "unwind/unwind_user.h"

#include <errno.h>
#include <execinfo.h>
#include <stdlib.h>
#include <string.h>

/* ---- A synthetic object: functions whose rows we choose ---- */

#define BIAS 0x400000ull	/* where the object is mapped */
#define NOTAB 0x900000ull	/* [NOTAB, +0x1000): code without a table */
#define LATER 0xa00000ull	/* [LATER, +0x1000): a table not built yet */

enum { FN_A = 0x1000, FN_B = 0x1100, FN_C = 0x1200, FN_PLT = 0x1300, FN_SIG = 0x1400,
       FN_START = 0x1500, FN_GAP = 0x1600, FN_END = 0x1700 };

static struct st_urow rows[] = {
	{ FN_A, 16, ST_CFA_RSP, -2 },	/* after push %rbp */
	{ FN_B, 16, ST_CFA_RBP, -2 },	/* a frame-pointer function */
	{ FN_C, 8, ST_CFA_RSP, 0 },	/* frameless */
	{ FN_PLT, 11, ST_CFA_PLT, 0 },
	{ FN_SIG, 0, ST_CFA_SIGNAL, 0 },
	{ FN_START, 0, ST_CFA_STOP, 0 },
	{ FN_GAP, 0, ST_CFA_NONE, 0 },
	{ FN_END, 8, ST_CFA_RSP, 0 },
};

static struct unwind_table table;
/* Encoded as the table builder does: pages of rows, as the BPF program reads them. */
static void make_table(void)
{
	table = (struct unwind_table){ .rows = rows, .nr_rows = sizeof(rows) / sizeof(rows[0]) };
	if (unwind_table_encode(&table)) {
		printf("Bail out! cannot encode the test rows\n");
		exit(1);
	}
}

static bool later_ready;	/* the LATER table exists now */

static int synth_find(void *ctx, uint64_t pc, const struct unwind_table **t, uint64_t *bias)
{
	if (pc >= NOTAB && pc < NOTAB + 0x1000)
		return -ENODATA;
	if (pc >= LATER && pc < LATER + 0x1000 && !later_ready)
		return -EAGAIN;
	if (pc >= LATER && pc < LATER + 0x1000) {
		*t = &table;
		*bias = LATER - FN_A;	/* the same object, mapped at LATER */
		return 0;
	}
	if (pc < BIAS + FN_A || pc >= BIAS + FN_END + 0x100)
		return -ENOENT;
	*t = &table;
	*bias = BIAS;
	return 0;
}

/* The stack: words at addresses from STACK_BASE. */
#define STACK_BASE 0x7ffd0000ull
#define WORDS 64
static uint64_t words[WORDS];

static uint64_t at(int i)
{
	return STACK_BASE + 8 * (uint64_t)i;
}

/* A leaf in A called by B (frame pointer) called by C (frameless) called
 * from _start: A's frame at 0..1, B's at 2..5 (rbp chain at 4), C's at 6,
 * then _start's. */
static void make_stack(void)
{
	memset(words, 0, sizeof(words));
	words[0] = at(4);		/* A pushed B's rbp */
	words[1] = BIAS + FN_B + 0x80;	/* return into B */
	words[4] = 0;			/* B's saved rbp (C's: none) */
	words[5] = BIAS + FN_C + 0x40;	/* return into C */
	words[6] = BIAS + FN_START + 0x20;	/* return into _start */
}

static struct unwind_user_stack whole(void)
{
	return (struct unwind_user_stack){ (const uint8_t *)words, STACK_BASE, sizeof(words), true };
}

static void walk(const struct unwind_user_regs *r, const struct unwind_user_stack *s, bool fp,
		 __u64 *ips, uint32_t max, struct unwind_user_walk *w)
{
	unwind_user_walk(r, s, synth_find, NULL, fp, ips, max, w);
}

static void test_rules(void)
{
	struct unwind_user_regs r = { BIAS + FN_A + 0x10, at(0), 0x1234, true };
	struct unwind_user_stack s = whole();
	struct unwind_user_walk w;
	__u64 ips[16];

	make_stack();
	walk(&r, &s, true, ips, 16, &w);
	CHECK(w.nr == 4 && w.end == UNWIND_USER_DONE, "rsp, rbp and frameless rows reach _start (%u frames, end %d)",
	      w.nr, w.end);
	CHECK(ips[0] == BIAS + FN_A + 0x10 && ips[1] == BIAS + FN_B + 0x80 &&
		      ips[2] == BIAS + FN_C + 0x40 && ips[3] == BIAS + FN_START + 0x20,
	      "the frames are the leaf, then each return address");
	CHECK(w.fp_steps == 0, "no frame pointer step where rows exist");

	/* Cut the copy below C's return address: a truncation, not an end. */
	s.len = 6 * 8;
	s.end = false;
	walk(&r, &s, true, ips, 16, &w);
	CHECK(w.nr == 3 && w.end == UNWIND_USER_TRUNCATED,
	      "a frame past the copy ends the walk as truncated (%u, %d)", w.nr, w.end);
	s.end = true;
	walk(&r, &s, true, ips, 16, &w);
	CHECK(w.nr == 3 && w.end == UNWIND_USER_DONE,
	      "... or as done when nothing above the copy is readable");

	s = whole();
	walk(&r, &s, true, ips, 2, &w);
	CHECK(w.nr == 2 && w.end == UNWIND_USER_MAX, "the frame limit holds (%u, %d)", w.nr, w.end);
}

static void test_plt_signal(void)
{
	struct unwind_user_stack s = whole();
	struct unwind_user_walk w;
	__u64 ips[16];

	make_stack();
	/* A PLT stub past its push (ip & 15 >= 11): CFA = rsp + 16. */
	words[10] = 0xdead;
	words[11] = BIAS + FN_C + 0x10;
	words[12] = BIAS + FN_START + 0x30;
	struct unwind_user_regs plt = { BIAS + FN_PLT + 0x0c, at(10), 0, true };

	walk(&plt, &s, true, ips, 16, &w);
	CHECK(w.nr == 3 && ips[1] == BIAS + FN_C + 0x10 && ips[2] == BIAS + FN_START + 0x30,
	      "a PLT stub after its push takes its return address at rsp + 8");
	plt.ip = BIAS + FN_PLT + 0x02;	/* before the push */
	words[10] = BIAS + FN_C + 0x10;
	words[11] = BIAS + FN_START + 0x30;
	walk(&plt, &s, true, ips, 16, &w);
	CHECK(w.nr == 3 && ips[1] == BIAS + FN_C + 0x10, "... and before it, at rsp");

	/* A signal frame: the ucontext at rsp names the interrupted frame. */
	memset(words, 0, sizeof(words));
	words[(40 + 16 * 8) / 8] = BIAS + FN_C + 0x20;	/* rip: exact */
	words[(40 + 15 * 8) / 8] = at(30);		/* rsp */
	words[(40 + 10 * 8) / 8] = 0x77;			/* rbp */
	words[30] = BIAS + FN_START + 0x40;
	struct unwind_user_regs sig = { BIAS + FN_SIG + 4, at(0), 0, false };

	walk(&sig, &s, true, ips, 16, &w);
	CHECK(w.nr == 3 && ips[1] == BIAS + FN_C + 0x20 && ips[2] == BIAS + FN_START + 0x40,
	      "a signal frame resumes at the interrupted pc and rsp (%u frames)", w.nr);
}

static void test_fp_pending(void)
{
	struct unwind_user_stack s = whole();
	struct unwind_user_walk w;
	__u64 ips[16];

	/* A leaf without a table, its rbp chain at 2..3, then C. */
	make_stack();
	words[2] = 0;
	words[3] = BIAS + FN_C + 0x40;
	words[4] = BIAS + FN_START + 0x20;
	struct unwind_user_regs r = { NOTAB + 0x10, at(0), at(2), true };

	walk(&r, &s, true, ips, 16, &w);
	CHECK(w.nr == 3 && w.fp_steps == 1 && ips[1] == BIAS + FN_C + 0x40 && ips[2] == BIAS + FN_START + 0x20,
	      "code without a table is stepped by frame pointer (auto), then rows again");
	walk(&r, &s, false, ips, 16, &w);
	CHECK(w.nr == 1 && w.end == UNWIND_USER_DONE, "... and ends the walk without the fallback (dwarf)");

	/* A gap in the CFI (ST_CFA_NONE) is one too. */
	r.ip = BIAS + FN_GAP + 8;
	walk(&r, &s, true, ips, 16, &w);
	CHECK(w.nr == 3 && w.fp_steps == 1, "a CFI gap is stepped by frame pointer");

	/* A table not built yet: pending, until it is. */
	make_stack();
	r = (struct unwind_user_regs){ LATER + 0x10, at(0), 0, true };	/* A's rows at LATER */
	later_ready = false;
	walk(&r, &s, true, ips, 16, &w);
	CHECK(w.end == UNWIND_USER_PENDING, "a table not there yet leaves the walk pending");
	later_ready = true;
	walk(&r, &s, true, ips, 16, &w);
	CHECK(w.end == UNWIND_USER_DONE && w.nr == 4, "... and once it is, the walk goes through (%u)", w.nr);
}

static void test_hostile(void)
{
	struct unwind_user_stack s = whole();
	struct unwind_user_walk w;
	__u64 ips[200];

	/* A frame-pointer chain that points at itself, then one that goes down. */
	memset(words, 0, sizeof(words));
	words[0] = at(0);
	words[1] = NOTAB + 0x20;
	struct unwind_user_regs r = { NOTAB + 0x10, at(0), at(0), true };

	walk(&r, &s, true, ips, 200, &w);
	CHECK(w.nr <= 3, "a frame-pointer cycle ends (%u frames)", w.nr);
	words[0] = at(0) - 64;
	walk(&r, &s, true, ips, 200, &w);
	CHECK(w.nr <= 3, "a chain that goes down the stack ends (%u frames)", w.nr);

	/* Return addresses that are all the same frameless function: each step
	 * climbs 8 bytes, so the copy ends it. */
	for (int i = 0; i < WORDS; i++)
		words[i] = BIAS + FN_C + 0x10;
	r = (struct unwind_user_regs){ BIAS + FN_C + 0x10, at(0), 0, true };
	s.end = false;
	walk(&r, &s, true, ips, 200, &w);
	CHECK(w.nr == WORDS + 1 && w.end == UNWIND_USER_TRUNCATED,
	      "a stack of return addresses ends with the copy (%u, %d)", w.nr, w.end);
	/* An rsp outside the copy, and an empty copy. */
	r.sp = 0x1000;
	walk(&r, &s, true, ips, 200, &w);
	CHECK(w.nr == 1 && w.end == UNWIND_USER_TRUNCATED, "an rsp below the copy reads nothing");
	s.len = 0;
	r.sp = STACK_BASE;
	walk(&r, &s, true, ips, 200, &w);
	CHECK(w.nr == 1, "an empty copy gives the first frame only");
}

/* ---- This process's own stack, against backtrace() ---- */

extern void *__libc_stack_end;

struct real_obj {
	uint64_t start, end, pgoff;
	struct unwind_table *t;
};
static struct real_obj objs[64];
static int nr_objs;

static int add_obj(void *ctx, struct proc_map *m)
{
	if (!(m->flags & MAP_F_EXEC) || (m->flags & (MAP_F_ANON | MAP_F_SPECIAL)) ||
	    nr_objs == (int)(sizeof(objs) / sizeof(objs[0])))
		return 0;
	objs[nr_objs] = (struct real_obj){ m->start, m->end, m->pgoff, NULL };
	if (unwind_table_build_path(m->path, &objs[nr_objs].t) == 0)
		nr_objs++;
	return 0;
}

static int real_find(void *ctx, uint64_t pc, const struct unwind_table **t, uint64_t *bias)
{
	for (int i = 0; i < nr_objs; i++) {
		if (pc < objs[i].start || pc >= objs[i].end)
			continue;
		if (!objs[i].t->nr_rows ||
		    unwind_table_bias(objs[i].t, objs[i].start, objs[i].pgoff, bias))
			return -ENODATA;
		*t = objs[i].t;
		return 0;
	}
	return -ENOENT;
}

static uint8_t copy[256 << 10];
static void *bt[64];
static int nr_bt;
static struct unwind_user_regs real_regs;
static uint32_t copy_len;

/* Copies stack memory as the BPF program does: raw, not through ASan's
 * memcpy, which would take the redzones of live frames for overflows. */
static __attribute__((no_sanitize_address, noinline)) void copy_raw(uint8_t *dst,
								     const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((volatile uint8_t *)dst)[i] = src[i];
}

/* Takes the registers here, the backtrace, and a copy of the stack from
 * rsp to its start, as the BPF program would of a stopped frame. */
static __attribute__((noinline)) void capture(void)
{
	uint64_t ip, sp, bp;

	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
			 : "=r"(ip), "=r"(sp), "=r"(bp));
	real_regs = (struct unwind_user_regs){ ip, sp, bp, true };
	copy_len = (uintptr_t)__libc_stack_end + 64 - sp;
	if (copy_len > sizeof(copy))
		copy_len = sizeof(copy);
	copy_raw(copy, (const uint8_t *)(uintptr_t)sp, copy_len);
	nr_bt = backtrace(bt, 64);
}

static __attribute__((noinline)) int level(int n)
{
	volatile char pad[100 + 16 * n];

	pad[0] = (char)n;
	if (n == 0)
		capture();
	else
		level(n - 1);
	return pad[0];
}

static void test_real_stack(void)
{
	char *maps = NULL;
	struct unwind_user_stack s;
	struct unwind_user_walk w;
	__u64 ips[128];
	int same = 0;

	if (proc_maps_text(0, &maps, NULL)) {
		CHECK(0, "read /proc/self/maps");
		return;
	}
	proc_maps_each(maps, add_obj, NULL);
	free(maps);
	level(12);
	s = (struct unwind_user_stack){ copy, real_regs.sp, copy_len, true };
	unwind_user_walk(&real_regs, &s, real_find, NULL, false, ips, 128, &w);
	/* backtrace() starts in capture (and, under ASan, in its interceptor
	 * before that): from the entry that is capture's return address into
	 * level(0), its frames must be the walk's from its second on. */
	int k = 0;

	while (k < nr_bt && w.nr > 1 && (uintptr_t)bt[k] != ips[1])
		k++;
	for (int i = 1; k + i - 1 < nr_bt && i < (int)w.nr; i++) {
		same += ips[i] == (uintptr_t)bt[k + i - 1];
		if (ips[i] != (uintptr_t)bt[k + i - 1])
			printf("#   frame %d: walked %#llx, backtrace %p\n", i,
			       (unsigned long long)ips[i], bt[k + i - 1]);
	}
	CHECK(nr_bt - k > 14 && same == nr_bt - k && (int)w.nr == nr_bt - k + 1,
	      "this process's stack, walked from a copy, gives backtrace()'s frames "
	      "(%d of %d agree, %u frames, end %d)", same, nr_bt - k, w.nr, w.end);
	CHECK(w.end == UNWIND_USER_DONE && w.fp_steps == 0,
	      "... through libc to an outermost frame, by rows alone");
	for (int i = 0; i < nr_objs; i++)
		unwind_table_free(objs[i].t);
}

/* ---- The holding queue ---- */

struct rec_buf {
	struct st_ucold c;
	struct st_sample s;
	uint8_t stack[64];
};

static void make_rec(struct rec_buf *b, uint32_t tid, uint8_t fill)
{
	memset(b, 0, sizeof(*b));
	b->c.sample_size = ST_SAMPLE_HDR_SIZE + 8;
	b->c.stack_len = sizeof(b->stack);
	b->s.tgid = 1;
	b->s.tid = tid;
	b->s.user_nr = 1;
	b->s.ips[0] = fill;
	memset(b->stack, fill, sizeof(b->stack));
}

struct offer_log {
	uint32_t tids[16];
	bool expired[16];
	int n;
	uint32_t keep_tid;	/* records of this thread are kept */
	bool intact;
};

static bool offer(void *ctx, const struct unwind_held *h, bool expired)
{
	struct offer_log *l = ctx;
	uint8_t fill = (uint8_t)h->sample->ips[0];

	if (l->n < 16) {
		l->tids[l->n] = h->sample->tid;
		l->expired[l->n] = expired;
	}
	l->n++;
	for (uint32_t i = 0; i < h->cold->stack_len; i++)
		l->intact &= h->stack[i] == fill;
	return h->sample->tid != l->keep_tid;
}

static void test_hold(void)
{
	size_t one = sizeof(struct st_ucold) + ST_SAMPLE_HDR_SIZE + 8 + 64 + 64;
	struct unwind_hold *h = unwind_hold_new(3 * one, 1000);
	struct offer_log l = { .keep_tid = 7, .intact = true };
	struct rec_buf b;
	int err;

	make_rec(&b, 7, 1);
	CHECK(!unwind_hold_push(h, &b.c, &b.s, b.stack, 100), "a cold record is held");
	make_rec(&b, 8, 2);
	unwind_hold_push(h, &b.c, &b.s, b.stack, 110);
	make_rec(&b, 7, 3);
	unwind_hold_push(h, &b.c, &b.s, b.stack, 120);
	make_rec(&b, 9, 4);
	err = unwind_hold_push(h, &b.c, &b.s, b.stack, 130);
	CHECK(err == -ENOSPC && unwind_hold_count(h) == 3,
	      "past its byte cap the queue refuses (%d), holding what it held", err);

	unwind_hold_run(h, 200, false, offer, &l);
	CHECK(l.n == 2 && l.tids[0] == 7 && l.tids[1] == 8 && unwind_hold_count(h) == 2,
	      "a thread's record kept back holds its later ones back (offered %d)", l.n);
	CHECK(l.intact, "held records are copies, intact");

	l.n = 0;
	l.keep_tid = 0;
	unwind_hold_run(h, 300, false, offer, &l);
	CHECK(l.n == 2 && l.tids[0] == 7 && l.tids[1] == 7 && !l.expired[0] &&
		      unwind_hold_count(h) == 0 && unwind_hold_bytes(h) == 0,
	      "once let go, the thread's records leave in their order");

	make_rec(&b, 5, 5);
	unwind_hold_push(h, &b.c, &b.s, b.stack, 1000);
	l = (struct offer_log){ .keep_tid = 5, .intact = true };
	unwind_hold_run(h, 1500, false, offer, &l);
	CHECK(l.n == 1 && !l.expired[0] && unwind_hold_count(h) == 1, "before its timeout a record may stay");
	l.n = 0;
	unwind_hold_run(h, 2000, false, offer, &l);
	CHECK(l.n == 1 && l.expired[0] && unwind_hold_count(h) == 0,
	      "at its timeout it is offered as expired and leaves, kept or not");
	make_rec(&b, 5, 6);
	unwind_hold_push(h, &b.c, &b.s, b.stack, 3000);
	l.n = 0;
	unwind_hold_run(h, 3000, true, offer, &l);
	CHECK(l.n == 1 && l.expired[0] && unwind_hold_count(h) == 0, "a flush lets every record go");
	unwind_hold_free(h);
}

int main(void)
{
	make_table();
	test_rules();
	test_plt_signal();
	test_fp_pending();
	test_hostile();
	test_real_stack();
	test_hold();
	return tap_done();
}

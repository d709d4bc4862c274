/*
 * --wall: off-CPU intervals from the scheduler records, without BPF. Names
 * why a thread left the CPU (a reason leaf frame in words a user knows), and
 * pairs each thread's switch-out (its stack, symbolized by the caller) with
 * its switch-in, so that the interval weighs its length in nanoseconds.
 *
 * Times are the BPF program's clock (bpf_ktime_get_ns: CLOCK_MONOTONIC).
 * An offcpu table holds at most one open interval per thread: memory is
 * bounded by OFFCPU_MAX_HELD, past which a switch-out is not held (counted)
 * and its interval shows without its stack, under "[off-CPU, stack not
 * recorded]", with its length still right.
 */
#ifndef OFFCPU_H
#define OFFCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/profile.h"

/* Longest reason name: "[blocked in " + a syscall name + "]". */
#define OFFCPU_REASON_LEN 64

/* Threads with an open interval at once (~64 bytes each: 4 MiB). Beyond any
 * thread pool; a machine-wide run with more blocked target threads than
 * this loses their stacks, not their time. */
#define OFFCPU_MAX_HELD (1u << 16)

/* The leaf that stands for an interval whose switch-out record is missing
 * (lost in a full ring buffer, or not held): its length is known. */
#define OFFCPU_NOT_RECORDED "[off-CPU, stack not recorded]"
/* The frame above the reason of a thread that was off the CPU when
 * sampling began: its stack at the switch-out is unknown, the reason is
 * read from /proc when sampling starts. */
#define OFFCPU_SINCE_START "[off-CPU since before sampling]"
/* ... and of one that did not run at all during the run (an idle worker):
 * views hide these unless asked (view_opts.show_idle). */
#define OFFCPU_IDLE PROFILE_IDLE_NAME

/*
 * Why the thread left the CPU, into buf (OFFCPU_REASON_LEN bytes): state is
 * the task's state at switch-out (0: preempted, still runnable), syscall
 * the x86-64 syscall number it was in (-1: none), fd_kind an enum
 * st_fd_kind of the syscall's fd. Always one of the names fixed for every
 * view: "[sleeping]", "[waiting on a lock]", "[reading pipe]", "[polling]",
 * "[waiting for a CPU]", "[blocked in fsync]", "[blocked in syscall 999]",
 * "[blocked in the kernel]", ...
 */
void offcpu_reason_name(char *buf, uint32_t state, int32_t syscall, uint32_t fd_kind);
/* The name of an x86-64 syscall, or NULL for one not in the table. */
const char *offcpu_syscall_name(int32_t nr);
/* Does the syscall's first argument name an fd whose kind says more? */
bool offcpu_syscall_has_fd(int32_t nr);
/* enum st_fd_kind of an inode's file type bits (S_IFMT of st_mode). */
uint32_t offcpu_fd_kind(uint32_t type);
/* The reason leaf frame (FRAME_SPECIAL | FRAME_F_OFFCPU) named name. */
frame_id_t offcpu_reason_frame(struct profile *p, const char *name);

/* A closed interval, handed to the caller to add to the profile. */
struct offcpu_interval {
	uint32_t tgid, tid;
	uint64_t start_ns;	/* the process's start (boot-based ns), as in st_sample */
	uint64_t off_ns, on_ns;	/* [off_ns, on_ns): the BPF clock */
	uint32_t stack;		/* profile stack id, root first, the reason leaf last */
	uint64_t call_id;	/* --scope: the call it was in, or 0 */
	char comm[ST_COMM_LEN];	/* the thread's name (not NUL-terminated if full) */
	bool idle;		/* the thread did not run during the whole run */
};

struct offcpu_stats {
	uint64_t not_held;	/* switch-outs not held: OFFCPU_MAX_HELD threads were waiting */
	uint64_t unmatched;	/* intervals closed under OFFCPU_NOT_RECORDED */
	uint64_t since_start;	/* intervals of threads off the CPU when sampling began */
};

struct offcpu;

/* run_start_ns: when sampling began (BPF clock). */
struct offcpu *offcpu_new(uint64_t run_start_ns);
void offcpu_free(struct offcpu *o);

typedef void (*offcpu_fn)(const struct offcpu_interval *iv, void *ctx);

/*
 * A thread that was off the CPU when sampling began (read from /proc before
 * the first record is drained): stack is its reason (OFFCPU_SINCE_START ->
 * reason); runnable: it was waiting for a CPU rather than blocked (it was
 * not on one: a thread on a CPU makes no interval). Its first record decides:
 * a switch-in without a switch-out closes [run start, switch-in); a sample
 * or a switch-out says it ran; none at all by offcpu_stop: it waited the
 * whole run (idle_stack then stands for it). Returns 0, or -ENOSPC.
 */
int offcpu_start_thread(struct offcpu *o, const struct offcpu_interval *iv, uint32_t idle_stack,
			bool runnable);

/* A switch-out record (ST_SAMPLE_OFFCPU), its stack interned by the
 * caller. May close an interval waiting for it (fn). */
void offcpu_switch_out(struct offcpu *o, const struct offcpu_interval *iv, offcpu_fn fn,
		       void *ctx);
/* A switch-in (struct st_oncpu): closes the thread's interval (fn).
 * not_recorded: the stack for an interval whose switch-out is missing. */
void offcpu_switch_in(struct offcpu *o, uint32_t tgid, uint32_t tid, uint64_t on_ns,
		      uint64_t off_ns, uint32_t not_recorded, offcpu_fn fn, void *ctx);
/* An on-CPU sample of tid: it runs (it was not blocked since the start). */
void offcpu_ran(struct offcpu *o, uint32_t tid);
/* At the end of the run (stop_ns, BPF clock): every interval still open
 * closes there (a thread blocked at the end counts its time up to it). */
void offcpu_stop(struct offcpu *o, uint64_t stop_ns, uint32_t not_recorded, offcpu_fn fn,
		 void *ctx);
void offcpu_stats(const struct offcpu *o, struct offcpu_stats *out);
/* Threads with an open interval now. */
size_t offcpu_held(const struct offcpu *o);

#endif

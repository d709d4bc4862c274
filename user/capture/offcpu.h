/*
 * --wall: a thread's timeline from the scheduler records, without BPF.
 * Names why a thread left the CPU (a reason leaf frame in words a user
 * knows), and cuts each thread's time into pieces that tile it:
 *  - an off-CPU interval, from its switch-out (its stack, symbolized by the
 *    caller) to its switch-in, weighs its length;
 *  - an on-CPU slice, from a switch-in to the next switch-out, weighs its
 *    length too, shared evenly by the cpu-clock samples taken in it (the
 *    stacks say where the slice went); a slice too short to be sampled goes
 *    to the stack it left the CPU from.
 * So a thread's pieces add up to the time it was watched, whatever the
 * sampling rate: a short burst of a thread that wakes often is not lost
 * between two ticks (at 1 kHz, the ticks miss most bursts of 50 us).
 *
 * Times are the BPF program's clock (bpf_ktime_get_ns: CLOCK_MONOTONIC).
 * One slot per thread watched, OFFCPU_MAX_THREADS at most: past it a
 * thread's samples weigh one sampling period each and its intervals show
 * without their stack (counted).
 */
#ifndef OFFCPU_H
#define OFFCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/profile.h"

/* Longest reason name: "[blocked in " + a syscall name + "]". */
#define OFFCPU_REASON_LEN 64

/* Threads followed at once (~100 bytes each, plus their pending samples):
 * beyond any thread pool. Slots of exited threads are swept. */
#define OFFCPU_MAX_THREADS (1u << 16)
/* Samples of one on-CPU slice held until it ends; a longer slice (a thread
 * that runs on and on) is shared out at each this many. */
#define OFFCPU_SLICE_SAMPLES 32
/* A thread on the CPU that is neither sampled nor switched for this long
 * has exited (its last switch sends nothing): its slot is swept. */
#define OFFCPU_STALE_NS (2 * 1000000000ull)

/* The leaf that stands for an interval whose switch-out record is missing
 * (lost in a full ring buffer, or no slot): its length is known. */
#define OFFCPU_NOT_RECORDED "[off-CPU, stack not recorded]"
/* The frame above the reason of a thread that was off the CPU when
 * sampling began: its stack at the switch-out is unknown, the reason is
 * read from /proc when sampling starts. */
#define OFFCPU_SINCE_START "[off-CPU since before sampling]"

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

/* Who: a thread as the records name it. */
struct offcpu_thread {
	uint32_t tgid, tid;
	uint64_t start_ns;	/* the process's start (boot-based ns), as in st_sample */
	char comm[ST_COMM_LEN];	/* the thread's name (not NUL-terminated if full); may
				 * be empty when only a switch-in named it */
};

/* A piece of a thread's timeline, handed to the caller to add. */
struct offcpu_piece {
	struct offcpu_thread th;
	uint64_t begin_ns, end_ns;	/* [begin, end): the BPF clock; end > begin */
	uint32_t stack;		/* profile stack id, root first; off-CPU: the reason leaf last */
	uint64_t call_id;	/* --scope: the call it was in, or 0 */
	bool on_cpu;		/* a sample's share of an on-CPU slice */
	bool idle;		/* off the CPU for the whole run */
};

struct offcpu_stats {
	uint64_t no_stack;	/* off-CPU intervals without their switch-out: NOT_RECORDED */
	uint64_t no_slot;	/* records of threads past OFFCPU_MAX_THREADS */
	uint64_t since_start;	/* intervals of threads off the CPU when sampling began */
};

struct offcpu;
typedef void (*offcpu_fn)(const struct offcpu_piece *pc, void *ctx);

/* run_start_ns: when sampling began (BPF clock); sample_ns: the sampling
 * period, the most a slice's last sample stands for once its thread is
 * gone; fn gets every piece, with ctx. */
struct offcpu *offcpu_new(uint64_t run_start_ns, uint64_t sample_ns, offcpu_fn fn, void *ctx);
void offcpu_free(struct offcpu *o);

/*
 * A thread that was off the CPU when sampling began (read from /proc before
 * the first record is drained): stack is [OFFCPU_SINCE_START, reason],
 * idle_stack [PROFILE_IDLE_NAME, reason]; runnable: waiting for a CPU,
 * rather than blocked, or on one. Its first record decides: a switch-in
 * without a switch-out closes [run start, switch-in) under stack; a sample
 * or a switch-out says it was on a CPU; none by offcpu_stop: it waited the
 * whole run, under idle_stack (blocked ones only). Returns 0 or -ENOSPC.
 */
int offcpu_start_thread(struct offcpu *o, const struct offcpu_thread *th, uint32_t stack,
			uint32_t idle_stack, bool runnable);
/* A cpu-clock sample of th at t_ns, its stack interned. */
void offcpu_sample(struct offcpu *o, const struct offcpu_thread *th, uint64_t t_ns,
		   uint32_t stack, uint64_t call_id);
/* A switch-out record (ST_SAMPLE_OFFCPU) at t_ns: stack with its reason
 * leaf, on_stack the same without it (where an unsampled slice went). */
void offcpu_switch_out(struct offcpu *o, const struct offcpu_thread *th, uint64_t t_ns,
		       uint32_t stack, uint32_t on_stack, uint64_t call_id);
/* A switch-in (struct st_oncpu) at t_ns, off_ns its switch-out's time or 0.
 * not_recorded: the stack of an interval whose switch-out is missing. */
void offcpu_switch_in(struct offcpu *o, const struct offcpu_thread *th, uint64_t t_ns,
		      uint64_t off_ns, uint32_t not_recorded);
/* The process exited: its threads' slots go, their slices end. */
void offcpu_exit(struct offcpu *o, uint32_t tgid);
/* Now and then (now_ns: BPF clock): sweeps threads gone quietly. */
void offcpu_sweep(struct offcpu *o, uint64_t now_ns);
/* Hands out what is open up to t_ns (an interval, a slice's samples so
 * far, up to a period past the last: its thread may have exited, which
 * sends no switch-out), so that a live view sees a thread blocked for long
 * before it wakes;
 * the rest follows as pieces of their own. Threads off the CPU since before
 * sampling wait for their first record (or the stop): whether they idle the
 * whole run is not known before. Records stamped before t_ns that come
 * later (the ring buffer is drained after the fact) are clamped to it. */
void offcpu_checkpoint(struct offcpu *o, uint64_t t_ns);
/* At the end of the run (stop_ns, BPF clock): every piece still open ends
 * there (a thread blocked at the end counts its time up to it). */
void offcpu_stop(struct offcpu *o, uint64_t stop_ns);
void offcpu_stats(const struct offcpu *o, struct offcpu_stats *out);
/* Every profile stack id it holds (open intervals, samples of running
 * slices) becomes fn(ctx, id): the profile was replaced by another. */
void offcpu_remap_stacks(struct offcpu *o, uint32_t (*fn)(void *ctx, uint32_t stack), void *ctx);
/* Threads followed now. */
size_t offcpu_threads(const struct offcpu *o);

#endif

/* Shared between the BPF program and userspace: the raw sample record that
 * crosses the ring buffer, the drop counters, and the limits that size both.
 * Fixed-width fields only; userspace _Static_asserts the sizes it relies on. */
#ifndef SAMPLETOP_H
#define SAMPLETOP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* bpf_get_stack() walks at most sysctl kernel.perf_event_max_stack (127 by
 * default) frames; deeper stacks are truncated and flagged, not dropped. */
#define ST_MAX_FRAMES 127
#define ST_COMM_LEN 16

/* Python frames per sample: deeper Python stacks keep their leaf-most frames
 * and are flagged ST_SAMPLE_PY_TRUNCATED. Each takes two words (st_python.h). */
#define ST_PY_MAX_FRAMES 128
#define ST_PY_FRAME_WORDS 2

/* Ring buffer bytes per CPU. A sample with two full stacks is ~2 KiB; typical
 * ones are ~300 B. At 1 kHz and a 100 ms drain period one CPU fills ~200 KiB,
 * so 1 MiB per CPU leaves a five-fold margin for a slow drain. */
#define ST_RINGBUF_BYTES_PER_CPU (1u << 20)

/* Most pids/tids/cgroups a target filter can name. */
#define ST_MAX_TARGETS 4096

enum st_sample_flags {
	ST_SAMPLE_USER_TRUNCATED = 1 << 0,	/* user stack hit ST_MAX_FRAMES */
	ST_SAMPLE_KERN_TRUNCATED = 1 << 1,
	ST_SAMPLE_IN_KERNEL = 1 << 2,		/* interrupted in kernel mode */
	ST_SAMPLE_USER_FAILED = 1 << 3,		/* user stack could not be read */
	ST_SAMPLE_PY = 1 << 4,			/* a Python process: its frames were walked */
	ST_SAMPLE_PY_TRUNCATED = 1 << 5,	/* Python stack hit ST_PY_MAX_FRAMES */
};

/* Why a sample was not (fully) recorded. One per-CPU counter each; every one
 * of these is shown to the user. Keep st_counter_names[] in sampler.c in step. */
enum st_counter {
	ST_CNT_SEEN,		/* every time the program ran */
	ST_CNT_IDLE,		/* pid 0: idle task, dropped first */
	ST_CNT_FILTERED,	/* not a target */
	ST_CNT_RECORDED,	/* written to the ring buffer */
	ST_CNT_RINGBUF_FULL,	/* lost: ring buffer full */
	ST_CNT_USER_STACK_ERR,	/* user stack read failed (kept, without user frames) */
	ST_CNT_KERN_STACK_ERR,	/* kernel stack read failed (kept, without kernel frames) */
	ST_CNT_EMPTY_STACK,	/* no frame at all: kept as an [no stack] sample */
	ST_CNT_PY_NO_THREAD,	/* Python process, but no thread state for this thread */
	ST_CNT_PY_READ_ERR,	/* Python frame walk failed part way (frames so far kept) */
	ST_CNT_PY_NO_FRAME,	/* Python thread state with no current frame (in C, or between calls) */
	ST_CNT_NR,
};

struct st_sample {
	__u32 tgid;
	__u32 tid;
	__u64 time_ns;		/* bpf_ktime_get_ns() */
	__u32 cpu;
	__u32 flags;		/* enum st_sample_flags */
	__u16 user_nr;		/* ips[0 .. user_nr) are user frames, leaf first */
	__u16 kern_nr;		/* ips[user_nr .. user_nr + kern_nr) are kernel frames */
	__u16 py_nr;		/* Python frames after the kernel frames (st_python.h) */
	__u16 pad;
	char comm[ST_COMM_LEN];	/* thread name */
	/* [user][kernel][py_nr Python frames of ST_PY_FRAME_WORDS each] */
	__u64 ips[2 * ST_MAX_FRAMES + ST_PY_FRAME_WORDS * ST_PY_MAX_FRAMES];
};

#define ST_SAMPLE_HDR_SIZE (sizeof(struct st_sample) - sizeof(((struct st_sample *)0)->ips))

#endif

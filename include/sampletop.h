/* Shared between the BPF program and userspace: the raw sample record that
 * crosses the ring buffer, the drop counters, and the limits that size both.
 * Fixed-width fields only; userspace _Static_asserts the sizes it relies on. */
#ifndef SAMPLETOP_H
#define SAMPLETOP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* bpf_get_stack() walks at most sysctl kernel.perf_event_max_stack (127 by
 * default) frames; deeper stacks are truncated and flagged, not dropped.
 * That bounds kernel stacks, and user stacks with --unwind=fp. */
#define ST_MAX_FRAMES 127
/* User frames the CFI unwinder walks (a bpf_loop, one step per frame): deep
 * recursion (a parser, a browser's layout) goes far past 127. A power of
 * two minus one, to mask indexes with. */
#define ST_MAX_USER_FRAMES 511
#define ST_COMM_LEN 16

/* Python frames per sample: deeper Python stacks keep their leaf-most frames
 * and are flagged ST_SAMPLE_PY_TRUNCATED. Each takes two words (st_python.h). */
#define ST_PY_MAX_FRAMES 128
#define ST_PY_FRAME_WORDS 2

/* Ring buffer bytes per CPU. Records are as long as their stacks: typical
 * ones are ~300 B, one with 127 user and 127 kernel frames ~2 KiB, the
 * longest possible (511 user, 127 kernel, 128 Python frames) ~7 KiB. At
 * 1 kHz and a 100 ms drain period one CPU fills ~200 KiB with 2 KiB
 * samples, so 1 MiB per CPU leaves a five-fold margin for a slow drain
 * (and still holds 100 ms of the longest ones). */
#define ST_RINGBUF_BYTES_PER_CPU (1u << 20)

/* Most pids/tids a target filter can name, and most live processes a
 * launched command's tree can grow to: forked children join the filter and
 * leave it when they exit. A fork that finds the map full is counted. */
#define ST_MAX_TARGETS 4096
/* ... and at least this many per CPU (userspace sizes the maps at load). */
#define ST_TARGETS_PER_CPU 64
/* Most --comm names. */
#define ST_MAX_COMMS 64
/* Samples of a freshly exec'd process that ask userspace's snapshot thread
 * to read its maps at once (again: ld.so maps libraries after the exec),
 * while the process still runs. */
#define ST_FRESH_WAKES 3

enum st_sample_flags {
	ST_SAMPLE_USER_TRUNCATED = 1 << 0,	/* user stack hit ST_MAX_USER_FRAMES
						 * (ST_MAX_FRAMES with --unwind=fp) */
	ST_SAMPLE_KERN_TRUNCATED = 1 << 1,
	ST_SAMPLE_IN_KERNEL = 1 << 2,		/* interrupted in kernel mode */
	ST_SAMPLE_USER_FAILED = 1 << 3,		/* user stack could not be read */
	ST_SAMPLE_UNWIND_MISS = 1 << 4,		/* the unwinder met an unknown process or
						 * mapping: userspace should push its tables */
	ST_SAMPLE_PY = 1 << 5,			/* a Python process: its frames were walked */
	ST_SAMPLE_PY_TRUNCATED = 1 << 6,	/* Python stack hit ST_PY_MAX_FRAMES */
	ST_SAMPLE_NEW_OBJECT = 1 << 7,		/* a mapped file without a table yet: the
						 * sample wakes userspace (rate-limited) */
	ST_SAMPLE_IN_EXEC = 1 << 8,		/* in the kernel, in execve: the user
						 * registers may be the old program's */
	ST_SAMPLE_EXITING = 1 << 9,		/* in the kernel, exiting, its memory gone */
	ST_SAMPLE_COLD = 1 << 10,		/* the walk stopped at an object without a
						 * table yet: the rest is unwound in userspace
						 * from a copy of the stack (struct st_ucold) */
	ST_SAMPLE_OFFCPU = 1 << 11,		/* --wall: taken at sched_switch as the thread
						 * left the CPU (time_ns: when); its off_*
						 * fields say why. The interval ends with the
						 * thread's struct st_oncpu record. */
	ST_SAMPLE_IN_CALL = 1 << 12,		/* --scope: the thread was inside a call of
						 * the scoped function: call_id names it */
	ST_SAMPLE_OFF_CAPPED = 1 << 13,		/* ST_SAMPLE_OFFCPU past the rate cap: sent
						 * without a stack (ST_CNT_OFF_CAPPED) */
	ST_REC_EVENT = 1u << 31,		/* the record is a struct st_event (or
						 * st_oncpu, st_call: see its kind) */
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
	ST_CNT_EMPTY_STACK,	/* no frame at all: kept as an [no stack] sample (not
				 * counting those [in exec] or [exiting]) */
	ST_CNT_EVENT_LOST,	/* exec/fork/exit event lost: ring buffer full */
	ST_CNT_TARGETS_FULL,	/* a forked child not followed: targets map full */
	ST_CNT_UNWIND_NO_PROC,	/* no mappings pushed yet for the process: found with bpf_find_vma */
	ST_CNT_UNWIND_NO_MAP,	/* a pc outside every known mapping (dlopen, exec, garbage) */
	ST_CNT_UNWIND_FP_FRAMES,	/* frames stepped by frame pointer (no table for the object) */
	ST_CNT_UNWIND_NO_RULE,	/* stopped at a pc without a CFI rule we can follow */
	ST_CNT_UNWIND_READ_ERR,	/* stopped: stack memory unreadable */
	ST_CNT_PY_NO_THREAD,	/* Python process, but no thread state for this thread */
	ST_CNT_PY_READ_ERR,	/* Python frame walk failed part way (frames so far kept) */
	ST_CNT_PY_NO_FRAME,	/* Python thread state with no current frame (in C, or between calls) */
	ST_CNT_COLD_COPIES,	/* samples sent with a stack copy, to unwind once a table exists */
	ST_CNT_COLD_LOST,	/* stack copies with no room in their ring buffer: walked by
				 * frame pointers (or cut short) as without the copy */
	/* --wall (bpf/offcpu.bpf.h) */
	ST_CNT_OFF_SWITCHES,	/* target threads leaving a CPU, seen */
	ST_CNT_OFF_RECORDED,	/* switch-out records sent (their stack with them) */
	ST_CNT_OFF_LOST,	/* switch-out or switch-in records lost: ring buffer full */
	ST_CNT_OFF_START_MISSED,	/* a thread ran again without its switch-out on record
				 * (it left before sampling began, or the record was lost) */
	ST_CNT_OFF_CAPPED,	/* switch-outs past the rate cap: sent without a stack */
	/* --scope (bpf/scope.bpf.h) */
	ST_CNT_SCOPE_CALLS,	/* outermost calls of the scoped function entered */
	ST_CNT_SCOPE_OUTSIDE,	/* samples and off-CPU intervals outside every call: dropped */
	ST_CNT_SCOPE_LOST,	/* call begin/end records lost: ring buffer full */
	ST_CNT_SCOPE_FULL,	/* threads without room in the call-depth map: not scoped */
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
	__u64 start_ns;		/* the process's start (boot-based ns): with tgid,
				 * tells a reused pid apart */
	__u64 call_id;		/* ST_SAMPLE_IN_CALL: the call (unique per run, never 0) */
	__u32 off_state;	/* ST_SAMPLE_OFFCPU: the task's __state at switch-out
				 * (0: preempted, runnable: "waiting for a CPU") */
	__s32 off_syscall;	/* ... the syscall it is in (x86-64 number), or -1 */
	__s32 off_fd;		/* ... the fd argument of that syscall, or -1 */
	__u32 off_fd_kind;	/* ... enum st_fd_kind of that fd */
	/* [user][kernel][py_nr Python frames of ST_PY_FRAME_WORDS each] */
	__u64 ips[ST_MAX_USER_FRAMES + ST_MAX_FRAMES + ST_PY_FRAME_WORDS * ST_PY_MAX_FRAMES];
};

#define ST_SAMPLE_HDR_SIZE (sizeof(struct st_sample) - sizeof(((struct st_sample *)0)->ips))

enum st_event_kind {
	ST_EV_EXEC = 1,		/* tgid exec'd: its mappings changed */
	ST_EV_FORK,		/* tgid is a new process, forked by ppid */
	ST_EV_EXIT,		/* the last thread of tgid exited */
	ST_EV_ONCPU,		/* --wall: a thread ran again (struct st_oncpu) */
	ST_EV_CALL_BEGIN,	/* --scope: an outermost call began (struct st_call) */
	ST_EV_CALL_END,		/* --scope: ... and returned */
};

/* What a blocking syscall's fd is (ST_SAMPLE_OFFCPU), from its inode mode. */
enum st_fd_kind {
	ST_FD_NONE,		/* no fd argument, or not read */
	ST_FD_FILE,		/* regular file */
	ST_FD_SOCKET,
	ST_FD_PIPE,		/* pipe or FIFO */
	ST_FD_TTY,		/* character device (terminals and the like) */
	ST_FD_OTHER,		/* directory, block device, anon inode (eventfd...) */
};

/* A process lifecycle event. It travels in the same ring buffer as the
 * samples, so that it arrives in order with them; its first five fields are
 * a sample's, and flags always holds ST_REC_EVENT, which no sample has. */
struct st_event {
	__u32 tgid;
	__u32 tid;
	__u64 time_ns;
	__u32 cpu;
	__u32 flags;		/* ST_REC_EVENT */
	__u32 kind;		/* enum st_event_kind */
	__u32 ppid;		/* ST_EV_FORK: the parent's tgid */
	__u64 start_ns;		/* the process's start (boot-based ns) */
	__u64 parent_start_ns;	/* ST_EV_FORK: the parent's */
	char comm[ST_COMM_LEN];	/* the process's name (after exec, for ST_EV_EXEC) */
};

/* --wall: a target thread runs again after an off-CPU interval. Its first
 * five fields are a sample's; flags holds ST_REC_EVENT, kind ST_EV_ONCPU.
 * time_ns is when it ran again, off_ns when it had left (the time_ns of
 * its ST_SAMPLE_OFFCPU record, 0 if that was missed). */
struct st_oncpu {
	__u32 tgid;
	__u32 tid;
	__u64 time_ns;
	__u32 cpu;
	__u32 flags;		/* ST_REC_EVENT */
	__u32 kind;		/* ST_EV_ONCPU */
	__u32 pad;
	__u64 off_ns;
	__u64 start_ns;		/* the process's start (boot-based ns) */
};

/* --scope: an outermost call of the scoped function began or returned (a
 * per-thread depth in BPF: recursion counts once). time_ns is the entry
 * (ST_EV_CALL_BEGIN) or the return (ST_EV_CALL_END); begin_ns the entry. */
struct st_call {
	__u32 tgid;
	__u32 tid;
	__u64 time_ns;
	__u32 cpu;
	__u32 flags;		/* ST_REC_EVENT */
	__u32 kind;		/* ST_EV_CALL_BEGIN or ST_EV_CALL_END */
	__u32 probe;		/* which --scope function (index in the order given) */
	__u64 call_id;		/* unique per run, never 0 */
	__u64 begin_ns;
	__u64 start_ns;		/* the process's start (boot-based ns) */
};
/* In st_call.flags of an ST_EV_CALL_END: the return was never seen (a
 * longjmp or exception unwound past the call, the thread exited inside it,
 * or sampling stopped first): time_ns is when that was noticed, an upper
 * bound of the call's end. */
#define ST_CALL_CUT (1u << 0)

/* --scope: a thread inside a call (value of the scope_threads map, by tid;
 * no entry: outside every call). Userspace reads what is left at the stop. */
struct st_scope_thread {
	__u64 call_id;		/* the outermost call the thread is in */
	__u64 begin_ns;
	__u64 entry_sp;		/* user rsp at its entry (pointing at the return address) */
	__u64 ret_addr;		/* the return address there, before the uretprobe's */
	__u64 start_ns;		/* the process's start */
	__u32 depth;		/* calls of scoped functions on the stack, >= 1 */
	__u32 probe;		/* which function the outermost call is of */
	__u32 tgid;
	__u32 pad;
};

/* --scope: threads inside a call at once (the call-depth map); a thread
 * that finds it full is not scoped, counted (ST_CNT_SCOPE_FULL). */
#define ST_SCOPE_MAX_THREADS 16384
/* Scoped functions (probe indexes) at most. */
#define ST_SCOPE_MAX_PROBES 64
/* A thread whose user stack pointer is above its call's entry one by less
 * than this has left the call without its return being seen (longjmp, an
 * exception): the call is cut. Farther away it is taken for another stack
 * (a signal stack, a coroutine's), and the call stays open. */
#define ST_SCOPE_STACK_SPAN (8ull << 20)

/* A freshly exec'd process just sampled, for the maps snapshot thread
 * (ring buffer "execs"). */
struct st_exec {
	__u32 tgid;
	__u32 pad;
	__u64 start_ns;
};
/* Bytes of the execs ring buffer per CPU (16 bytes a record; the snapshot
 * thread drains it at once). */
#define ST_EXECS_BYTES_PER_CPU (16u << 10)

/* ---- User stack unwinding from .eh_frame (bpf/ustack.bpf.h, user/unwind_*.c) ---- */

/* How the BPF program walks user stacks (rodata unwind_mode). */
enum st_unwind_mode {
	ST_UNWIND_FP,		/* the kernel's frame-pointer walk only */
	ST_UNWIND_AUTO,		/* CFI tables; frame pointers where an object has none */
	ST_UNWIND_DWARF,	/* CFI tables only: stop where an object has none */
};

/* How a frame's CFA (the caller's rsp before its call) is found. */
enum st_cfa_kind {
	ST_CFA_NONE,		/* no CFI here (a gap) or a rule we cannot follow */
	ST_CFA_RSP,		/* rsp + off */
	ST_CFA_RBP,		/* rbp + off */
	ST_CFA_PLT,		/* PLT stub: rsp + 8, plus 8 when (rip & 15) >= off */
	ST_CFA_STOP,		/* outermost frame: return address undefined */
	ST_CFA_SIGNAL,		/* signal trampoline: registers in the ucontext at rsp */
};

/* One row of an object's unwind table: the rule for [pc, next row's pc).
 * pc is an ELF virtual address; the return address is always at CFA - 8. */
struct st_urow {
	__u32 pc;
	__u16 cfa_off;
	__u8 cfa_kind;		/* enum st_cfa_kind */
	__s8 rbp_off;		/* caller's rbp saved at CFA + 8 * rbp_off; 0: rbp unchanged */
};

/* The part of a row that repeats: across an object's ~1M rows there are a
 * few hundred distinct rules, shared by every object through one table
 * (unwind_rules). Field names as in struct st_urow. */
struct st_urule {
	__u16 cfa_off;
	__u8 cfa_kind;		/* enum st_cfa_kind */
	__s8 rbp_off;
};
/* Rules in unwind_rules: a row names its rule with 16 bits. */
#define ST_UNWIND_MAX_RULES (1u << 16)

/* Rows as the BPF program reads them: 4 bytes, an offset into the row's
 * page and the index of its rule. An object's address range is cut into
 * pages of 4 KiB (~80 rows each in libLLVM), each with its own sorted rows,
 * the first of which starts at offset 0 (a copy of the rule in force there
 * is added when none starts there): finding a pc is one page lookup and a
 * binary search over that page's rows. */
#define ST_UNWIND_PAGE_SHIFT 12
#define ST_UNWIND_PAGE_SIZE (1u << ST_UNWIND_PAGE_SHIFT)
/* Binary search steps within one page (at most one row per byte). */
#define ST_UNWIND_PAGE_STEPS (ST_UNWIND_PAGE_SHIFT + 1)
struct st_ucrow {
	__u16 off;		/* from the page's start */
	__u16 rule;		/* index in unwind_rules */
};
/* Array map elements are 8-byte aligned (also when mmapped): two rows per
 * element, row i in element i / 2. Userspace sees one flat array of rows. */
struct st_ucrow2 {
	struct st_ucrow r[2];
};
/* A page: its rows are [first, first + nr) of the rows map; nr >= 1. */
struct st_upage {
	__u32 first;
	__u32 nr;
};

/* The rows and pages maps are sized from one memory budget (--unwind-mem),
 * 1/16 of it for pages. The default is 32 MiB of kernel memory, allocated
 * when the program loads: ~7.8M rows and 256k pages (1 GiB of code).
 * Measured: libLLVM-14 3.9 MB, libclang-cpp 4.1 MB, cc1 2.0 MB, chromium
 * 0.9 MB (236 MB of code, sparse CFI: half of it pages), libjvm 0.8 MB;
 * all five take about a third of the rows and of the pages. Past the
 * budget, the tables sampled least recently are evicted
 * (user/unwind/unwind_bpf.c). */
#define ST_UNWIND_MEM_DEFAULT (32ull << 20)
#define ST_UNWIND_MEM_MIN (64ull << 10)
#define ST_UNWIND_MEM_MAX (4ull << 30)
#define ST_UNWIND_PAGES_SHARE 16
/* Tables at once, each with a slot in unwind_used: when it was last
 * sampled (bpf_ktime_get_ns), stamped at most once per grain so that CPUs
 * walking the same table do not write the same cache line at every frame. */
#define ST_UNWIND_MAX_TABLES 16384
#define ST_UNWIND_USED_GRAIN_NS (64 * 1000000ull)

/* Executable mappings per process (python with many extensions has ~100). */
#define ST_UNWIND_MAX_MAPS 256	/* a power of two: the BPF side masks indexes with it */
#define ST_UNWIND_MAP_STEPS 9
/* Processes with unwind tables at once; entries of exited ones are removed. */
#define ST_UNWIND_MAX_PROCS 4096

/* An executable mapping of a process: ELF vaddr = address - bias. */
struct st_umap {
	__u64 start, end;	/* [start, end) */
	__u64 bias;
	__u32 row_nr;		/* 0: no table (frame pointers, or stop in dwarf mode) */
	__u32 page_first;	/* first page in the pages map */
	__u32 page_nr;
	__u32 base;		/* ELF vaddr of page 0 (page-aligned) */
	__u32 slot;		/* the table's slot in unwind_used, plus 1; 0: none */
	__u32 recheck_ms;	/* found by the BPF program, file without a table yet:
				 * look again from this time on (bpf_ktime ms); 0: never */
};
/* How long a process not pushed yet waits before it looks again for the
 * table of a file that had none (userspace builds it meanwhile). */
#define ST_UNWIND_RECHECK_MS 5
/* A sample that meets such a file wakes userspace at most this often per
 * CPU, so that the table is built within a few ms, not at the next drain. */
#define ST_NEW_OBJECT_WAKE_NS (10 * 1000000ull)

/* Objects by file, for processes not pushed yet (a fresh exec, a forked
 * child, one that lives a few ms): the BPF program finds the mapping of a
 * pc with bpf_find_vma and the object's table by (device, inode). Key and
 * value of unwind_objs. */
struct st_uobj_key {
	__u64 ino;
	__u64 size;		/* so that a reused inode number is not taken for the old file */
	__u32 dev;		/* the kernel's encoding: major << 20 | minor */
	__u32 pad;
};

#define ST_UNWIND_OBJ_LOADS 2
struct st_uobj {
	__u32 row_nr, page_first, page_nr, base, slot;	/* as in st_umap */
	__u32 nr_loads;
	struct {
		__u64 offset, filesz;	/* an executable PT_LOAD: file range */
		__s64 delta;		/* its ELF vaddr - file offset */
	} loads[ST_UNWIND_OBJ_LOADS];
};
#define ST_UNWIND_MAX_OBJS 16384
/* Mappings found with bpf_find_vma, per process not pushed yet: the kernel
 * answers one lookup per sample (its mmap lock is released after the
 * handler), so each sample adds one and later ones reuse them. Slots are
 * chosen by address; a power of two. */
#define ST_UNWIND_VMA_SLOTS 8
struct st_uvmas {
	struct st_umap maps[ST_UNWIND_VMA_SLOTS];	/* end == 0: empty */
};
#define ST_UNWIND_MAX_VMA_PROCS 4096

/* A process's executable mappings sorted by start (value of unwind_procs). */
struct st_uproc {
	__u32 nr;
	__u32 pad;
	struct st_umap maps[ST_UNWIND_MAX_MAPS];
};

/* ---- Cold start: objects without a table yet (bpf/cold.bpf.h, user/unwind/unwind_user.c) ---- */

/* A walk that meets a mapped file whose table userspace has not built yet
 * (a new big program's first milliseconds, while its table is built) stops there instead of guessing by
 * frame pointers, and the sample goes to the "cold" ring buffer with the
 * registers of that frame and a copy of the stack above them. Userspace
 * holds it until the table exists and finishes the walk with the same rows.
 *
 * Most bytes of stack copied. The copy runs from the stopped frame's rsp up
 * to the end of the stack (a main thread's: its start, mm->start_stack), so
 * it costs what the stack holds, not this. Measured here with perf dwarf at
 * 64 KiB (bytes from rsp to the stack's end, env included): cc1 in its first
 * 500 ms p50 9-14 KiB, p99 18-22 KiB, max 32 KiB; clang -c p50 33 KiB, p99
 * 45 KiB, max 64 KiB over a whole run. perf's default (8 KiB) would cut most
 * of them. A deeper stack ends in [truncated stack], counted. */
#define ST_COLD_STACK_MAX (64u << 10)
#define ST_COLD_BELOW_SP 128
/* The cold ring buffer, per CPU: cc1's cold records measured 5-9 KiB (copy
 * p50 5.3 KiB, max 9 KiB, plus the sample), clang's up to ~45 KiB. Tables
 * are read straight from .eh_frame (cc1's in ~15-60 ms), so a program's cold
 * window is tens of ms, and userspace drains the ring as records arrive into
 * its holding queue: 2 MiB holds 200+ cc1 records or ~45 clang ones per CPU.
 * (8 MiB, sized for a 0.5 s libdw build, cost 25 MB of RSS for nothing.)
 * Never more than ST_COLD_RING_MAX in all. A copy that finds no room is
 * counted (ST_CNT_COLD_LOST) and the sample walked as without it. */
#define ST_COLD_BYTES_PER_CPU (2u << 20)
#define ST_COLD_RING_MAX (64u << 20)

/* A cold record: this header, then the sample (sample_size bytes: its user
 * frames are those walked before the stop), then stack_len bytes of the user
 * stack from base up. */
struct st_ucold {
	__u64 ip, sp, bp;	/* registers of the frame where the walk stopped; ip is
				 * the next frame to record (not in the sample's ips) */
	__u64 base;		/* the copy's start: sp less up to ST_COLD_BELOW_SP bytes of
				 * its page (a leaf's red zone; a rule may read a register
				 * that an epilogue popped just now) */
	__u32 stack_len;
	__u16 sample_size;
	__u8 exact;		/* ip is an exact pc (leaf, signal frame), not a return address */
	__u8 stack_end;		/* the copy reaches the end of the stack: above it nothing
				 * is readable (else a frame beyond it is a truncation) */
};

#endif

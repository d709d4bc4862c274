/*
 * The profile model: the hub of sampletop. The sampler and symbolizer produce
 * it; every view (TUI, text, folded, json, html, ...) only reads it.
 *
 * A profile holds interned strings, interned frames, interned stacks (frame id
 * arrays, root first), threads, and aggregated sample records (stack, thread)
 * -> count. A call tree is derived from it on demand with view options
 * (grouping, inversion, focus, kernel frames); trees are cheap to rebuild.
 *
 * Ownership: the profile owns every string, frame, stack and thread it hands
 * out. Ids are dense indexes from 0. How long each stays valid:
 * - Frame and stack ids: until profile_free(); ids found in a stack never
 *   change. But profile_coalesce_exited() frees the synthetic frames of the
 *   threads it merges (FRAME_PROCESS, FRAME_THREAD: "[unused]" slots, see
 *   profile_frame_is_free) and later threads' frames reuse those ids: a
 *   process or thread frame id held across a merge may name another thread.
 * - Thread ids and sample records: until the next profile_coalesce_exited(),
 *   which renumbers them and bumps p->generation.
 * - Interned strings (profile_intern, the strings of frames and threads):
 *   until profile_free(), except the names of the frames a merge frees
 *   ("comm [tid]", "process [pid]") that no remaining frame or thread uses.
 *   Copy such a string to keep it across a merge.
 * - Pointers into the tables (profile_get_frame, profile_stack_frames,
 *   &p->threads[i], &p->samples[i]): until the next call that adds to that
 *   table (profile_frame, profile_thread, profile_stack, profile_add...)
 *   moves it, and for threads and samples until the next merge.
 * So whatever keeps ids across calls either holds only frame ids of stacks
 * and of FRAME_SPECIAL frames (the recorder, the symbolizer, python), or
 * rebuilds when p->generation changes and blocks merges while it must not
 * (the live view: recorder_hold_merges while paused).
 */
#ifndef PROFILE_H
#define PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hashtab.h"
#include "sampletop.h"

typedef uint32_t frame_id_t;
#define FRAME_NONE UINT32_MAX

enum frame_kind {
	FRAME_NATIVE,	/* user-space machine code */
	FRAME_KERNEL,	/* kernel code (shown only with kernel frames on) */
	FRAME_PYTHON,	/* an interpreter-level frame (e.g. Python function) */
	FRAME_PROCESS,	/* synthetic: "name [pid]" root when grouping by process */
	FRAME_THREAD,	/* synthetic: "name [tid]" when grouping by thread */
	FRAME_SPECIAL,	/* synthetic: "[no stack]", "[truncated]", ... */
	/* synthetic: "name", the program level above its processes (view
	 * by_program); never in a stack nor in a saved profile (re-made from
	 * the threads' process names on load) */
	FRAME_PROGRAM,
};

enum frame_flags {
	FRAME_F_UNKNOWN = 1 << 0,	/* no symbol: name is "[unknown] module+0xoff" */
	FRAME_F_INLINED = 1 << 1,	/* inlined into its parent frame */
	FRAME_F_JIT = 1 << 2,		/* named from a perf map (JIT) */
	/* --wall: a FRAME_SPECIAL leaf that says why the thread was off the
	 * CPU ("[sleeping]", "[waiting on a lock]", ...): the samples below
	 * it are off-CPU time, every other sample is CPU time */
	FRAME_F_OFFCPU = 1 << 3,
};

struct frame {
	const char *name;	/* never NULL, never empty; raw bytes, escape to display */
	const char *module;	/* object path, "[kernel]", "[vdso]"...; "" for synthetic */
	uint64_t addr;		/* function start relative to the module (ELF vaddr); for an
			 * [unknown] frame the address itself, or the function's start
			 * when its unwind record gives it; 0 for synthetic */
	const char *file;	/* source file, or NULL */
	uint32_t line;		/* 0 when unknown */
	uint8_t kind;		/* enum frame_kind */
	uint8_t flags;		/* enum frame_flags */
};

enum thread_flags {
	/* Stands for every thread of this (process, comm) that exited: pid is
	 * the live process's, or 0 once the process exited too; tid is 0. */
	THREAD_F_EXITED = 1 << 0,
};

struct thread {
	uint32_t pid;
	uint32_t tid;
	uint32_t flags;		/* enum thread_flags */
	const char *comm;	/* thread name */
	const char *process;	/* process name (the main thread's comm, or exe basename) */
	frame_id_t proc_frame;	/* synthetic FRAME_PROCESS frame "process [pid]" */
	frame_id_t thread_frame;	/* synthetic FRAME_THREAD frame "comm [tid]" */
	frame_id_t prog_frame;	/* synthetic FRAME_PROGRAM frame "process", shared by
				 * every thread of that process name; never freed */
};

struct stack {
	uint32_t off;		/* index into profile.stack_frames */
	uint32_t nr;
};

struct sample_rec {
	uint32_t stack;
	uint32_t thread;
	uint64_t count;
};

/* Counters shown in every header and report. The first ST_CNT_NR mirror the
 * BPF program's; the rest are counted in userspace. */
enum prof_counter {
	PC_UNNAMED_FRAMES = ST_CNT_NR,	/* frames (per sample) shown as [unknown] */
	PC_UNNAMED_FUNCS,	/* distinct [unknown] frames in stacks: functions (or addresses)
				 * without a name */
	PC_PROC_GONE,		/* samples of processes that exited before we read them */
	PC_TRUNCATED_STACKS,	/* stacks deeper than the BPF side walks */
	PC_STACK_TABLE_FULL,	/* samples whose stack was new once the stack cap was hit */
	PC_FRAME_TABLE_FULL,	/* frames that were new once the frame cap was hit */
	PC_UNWIND_TABLE_FULL,	/* unwind tables bigger than the whole budget (--unwind-mem) */
	PC_UNWIND_EVICTED,	/* unwind tables evicted for room (least recently sampled) */
	PC_PY_BEFORE_FOUND,	/* Python process samples taken before it was found */
	PC_PY_MAP_FULL,		/* Python processes the BPF map had no room for */
	PC_PY_CODE_REUSED,	/* Python frames whose code object was freed before it was named */
	PC_JIT_MAP_SKIPPED,	/* perf map lines skipped: malformed, too long, past the caps */
	PC_COLD_UNWOUND,	/* cold samples whose walk userspace finished from their copy */
	PC_COLD_TRUNCATED,	/* ... whose stack went on past the copy ([truncated stack]) */
	PC_COLD_LATE,		/* ... finished without some table: held past the timeout, or
				 * not held (queue full), stepped by frame pointer there */
	PC_COLD_HOLD_FULL,	/* cold samples that found the holding queue full */
	PC_EVENTS_DROPPED,	/* timeline events past PROFILE_MAX_EVENTS (weights still counted) */
	PC_OFF_NO_STACK,	/* --wall: off-CPU intervals whose switch-out was lost or not held:
				 * their length under "[off-CPU, stack not recorded]" */
	PC_NR,
};
extern const char *const prof_counter_names[PC_NR];

struct profile_meta {
	char *target;		/* what was profiled, for humans: "pid 42 (demo)" */
	char *command;		/* sampletop's own command line */
	char *hostname;
	char *kernel;		/* uname -r */
	uint64_t start_wall_ns;	/* CLOCK_REALTIME when sampling started */
	uint64_t duration_ns;
	uint32_t freq_hz;
	uint32_t ncpus;
	bool kernel_stacks;	/* kernel stacks were recorded */
	/* --wall: every sample_rec.count (and total) is nanoseconds of wall
	 * time: an off-CPU interval weighs its length, an on-CPU sample its
	 * share of the on-CPU slice it was taken in (about 1e9 / freq_hz; the
	 * scheduler records give the slices, so a thread's samples and
	 * intervals add up to the time it was watched: capture/offcpu.h).
	 * Otherwise counts are samples. profile_seconds() knows both. */
	bool wall;
	int exit_status;	/* of a launched command or -1 */
	char *note;		/* e.g. "target exited" */
	uint64_t counters[PC_NR];
};

/* Memory bounds. A stack costs ~4 bytes a frame plus ~40 bytes of tables, a
 * frame ~80 bytes plus its strings: the defaults keep a profile under ~1 GiB
 * even with deep stacks. Past a cap, new stacks (frames) are counted and
 * recorded as one "[truncated: ...]" stack (frame), so totals stay right. */
#define PROFILE_MAX_STACKS (4u << 20)
#define PROFILE_MAX_FRAMES (2u << 20)
/* Timeline events kept (32 bytes each): past it they are counted
 * (PC_EVENTS_DROPPED); their weight still goes to the samples. */
#define PROFILE_MAX_EVENTS (2u << 20)

/* One piece of a thread's timeline (--wall): an on-CPU sample or an
 * off-CPU interval, in the order they happened (views sort by time). */
struct prof_event {
	uint64_t t_ns;		/* start, ns since profile meta.start_wall_ns */
	uint64_t weight;	/* its length in ns (as added to the sample) */
	uint32_t stack;
	uint32_t thread;	/* thread id (renumbered by profile_coalesce_exited) */
	uint64_t call;		/* --scope call id, 0 for none */
};

struct calls;

struct profile {
	struct profile_meta meta;
	uint32_t max_stacks, max_frames;	/* caps; tests may lower them */
	frame_id_t overflow_frame;	/* FRAME_NONE until first needed */
	uint32_t overflow_stack;	/* UINT32_MAX until first needed */

	/* Interned strings: each separately allocated, so pointers are stable. */
	char **strs;
	size_t nr_strs, alloc_strs;
	struct idx_table str_index;

	struct frame *frames;
	size_t nr_frames, alloc_frames;
	struct idx_table frame_index;

	frame_id_t *stack_frames;
	size_t nr_stack_frames, alloc_stack_frames;
	struct stack *stacks;
	size_t nr_stacks, alloc_stacks;
	struct idx_table stack_index;

	struct thread *threads;
	size_t nr_threads, alloc_threads;
	struct idx_table thread_index;

	struct sample_rec *samples;
	size_t nr_samples, alloc_samples;
	struct idx_table sample_index;

	uint64_t total;		/* sum of every sample_rec.count */

	/* The timeline (--wall): kept only while keep_events is set. */
	bool keep_events;
	struct prof_event *events;
	size_t nr_events, alloc_events;

	/* --scope: the calls of the scoped functions (model/calls.h), or
	 * NULL; owned (profile_free frees it). */
	struct calls *calls;

	struct u64map unnamed_used;	/* [unknown] frames in a stack: counted once */

	/* Slots freed by profile_coalesce_exited(), reused by new threads'
	 * synthetic frames and by new strings. */
	frame_id_t *free_frames;
	size_t nr_free_frames, alloc_free_frames;
	uint32_t *free_strs;
	size_t nr_free_strs, alloc_free_strs;
	const char *unused_name;	/* "[unused]": a freed frame's name; NULL before */
	/* Bumped by profile_coalesce_exited(): thread ids changed and freed
	 * synthetic frame ids may name other threads; trees must be rebuilt. */
	uint32_t generation;
};

struct profile *profile_new(void);
void profile_free(struct profile *p);

/* Interns bytes; returns a pointer owned by the profile. NULL stays NULL. */
const char *profile_intern(struct profile *p, const char *s);

/* Interns a frame by (kind, module, addr, name, file, line, flags). Strings
 * in *f need not be interned; the stored copy's are. */
frame_id_t profile_frame(struct profile *p, const struct frame *f);
/* A synthetic frame (kind FRAME_SPECIAL etc.) with just a name. */
frame_id_t profile_special_frame(struct profile *p, enum frame_kind kind, const char *name);

uint32_t profile_thread(struct profile *p, uint32_t pid, uint32_t tid, const char *comm,
			const char *process);
/* The same with thread flags: THREAD_F_EXITED for an exited-threads record
 * (as loaded from a saved profile). */
uint32_t profile_thread_flags(struct profile *p, uint32_t pid, uint32_t tid, const char *comm,
			      const char *process, uint32_t flags);

/* What became of a thread, for profile_coalesce_exited(). */
enum thread_state {
	THREAD_GONE,		/* the thread and its process exited */
	THREAD_PROCESS_ALIVE,	/* the thread exited; its process runs on */
	THREAD_ALIVE,
};
typedef enum thread_state (*profile_thread_state_fn)(uint32_t pid, uint32_t tid, void *ctx);

/*
 * Keeps a long system-wide run's memory flat under process churn: merges the
 * samples of every exited thread into one record per (process name, comm) --
 * "comm [exited]" under the live process, or under "process [exited]" once
 * the process is gone too -- and frees the exited threads' synthetic frames
 * and names for reuse. Totals are unchanged. Returns how many thread records
 * went away. Frame ids of stacks never change; thread ids do (generation++).
 * Never call it while a tree built from p is still in use.
 */
size_t profile_coalesce_exited(struct profile *p, profile_thread_state_fn state, void *ctx);

uint32_t profile_stack(struct profile *p, const frame_id_t *frames_root_first, uint32_t nr);
/* Stack id `stack` of src, interned in dst (its frames copied by value). */
uint32_t profile_copy_stack(struct profile *dst, const struct profile *src, uint32_t stack);
/* Adds count samples of stack on thread. */
void profile_add(struct profile *p, uint32_t stack, uint32_t thread, uint64_t count);
/* Convenience: intern the stack, then add. */
void profile_add_sample(struct profile *p, uint32_t thread, const frame_id_t *frames_root_first,
			uint32_t nr, uint64_t count);
/* With keep_events: appends one timeline event (the caller adds its weight
 * to the samples with profile_add as well). Past PROFILE_MAX_EVENTS it is
 * counted in PC_EVENTS_DROPPED instead. */
void profile_add_event(struct profile *p, uint32_t thread, uint32_t stack, uint64_t t_ns,
		       uint64_t weight, uint64_t call);
/* Zeroes every count (the TUI's reset); frames and stacks stay interned. */
void profile_reset_counts(struct profile *p);
/* Multiplies every count by num/den, rounding down (the TUI's decaying window). */
void profile_scale_counts(struct profile *p, uint64_t num, uint64_t den);

static inline const struct frame *profile_get_frame(const struct profile *p, frame_id_t id)
{
	return &p->frames[id];
}

/* A slot freed by profile_coalesce_exited() and not yet reused: in no stack
 * and no thread; writers of every frame leave it out. Only the merge makes
 * special frames named "[unused]"; a sampled frame may have that name too (a
 * JIT's perf map says anything), and is no freed slot. */
static inline bool profile_frame_is_free(const struct profile *p, frame_id_t id)
{
	return p->unused_name && p->frames[id].name == p->unused_name &&
	       p->frames[id].kind == FRAME_SPECIAL;
}

/* A frame that only views make (FRAME_PROGRAM): free slots and these are
 * left out by the writers of every frame (the saved profile). */
static inline bool profile_frame_is_view_only(const struct profile *p, frame_id_t id)
{
	return p->frames[id].kind == FRAME_PROGRAM || profile_frame_is_free(p, id);
}

static inline const frame_id_t *profile_stack_frames(const struct profile *p, uint32_t stack)
{
	return &p->stack_frames[p->stacks[stack].off];
}

/* --wall: the name of the root frame (FRAME_SPECIAL) of the samples of a
 * thread that did not run at all during the run (an idle pool worker): one
 * interval from start to end, its reason read from /proc. Views leave them
 * out unless view_opts.show_idle. */
#define PROFILE_IDLE_NAME "[idle the whole run]"
/* Is the stack such a thread's? */
bool profile_stack_idle(const struct profile *p, uint32_t stack);
/* The weight of those samples, and how many threads they are on (NULL: not
 * asked), for headers that say what is hidden. */
uint64_t profile_idle_weight(const struct profile *p, uint32_t *threads);

/* Does the profile hold threads of more than one process? (A launched
 * command that forked, a saved profile of several: views group by process.) */
bool profile_many_pids(const struct profile *p);

/* Seconds that a count represents: samples at the profile's frequency, or
 * nanoseconds with meta.wall. */
double profile_seconds(const struct profile *p, uint64_t count);
/* CPU time: the weight of the samples whose leaf frame lacks FRAME_F_OFFCPU
 * (with meta.wall, ns; else samples, all of them on-CPU). For headers that
 * give "Duration X s, CPU time Y s" (profile_seconds() turns it to seconds). */
uint64_t profile_cpu_weight(const struct profile *p);
/* Is the stack's leaf an off-CPU reason (FRAME_F_OFFCPU)? */
bool profile_stack_offcpu(const struct profile *p, uint32_t stack);
/* Total samples lost or damaged, for the "lost" figure in headers. */
uint64_t profile_lost_samples(const struct profile *p);

#endif

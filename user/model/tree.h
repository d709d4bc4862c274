/*
 * Call trees derived from a profile with view options. Node 0 is a synthetic
 * root holding the total. Children are linked first_child/next_sibling and,
 * after tree_build, sorted by total descending (hot paths first).
 *
 * Views (TUI, text, html...) build a tree, then read it; they never change
 * the profile. A tree must not outlive the profile it was built from.
 */
#ifndef TREE_H
#define TREE_H

#include "model/profile.h"

struct strbuf;

#define NODE_NONE UINT32_MAX

struct tree_node {
	frame_id_t frame;	/* FRAME_NONE for the root */
	uint32_t parent;
	uint32_t first_child;
	uint32_t next_sibling;
	uint32_t depth;		/* root 0 */
	uint32_t nr_children;
	uint64_t total;		/* samples in this subtree */
	uint64_t self;		/* samples whose leaf is this node */
};

struct view_opts {
	bool by_process;	/* a "name [pid]" level at the top */
	/* With by_process: the processes of a program (threads' process name)
	 * that ran as several go under one "name" node (FRAME_PROGRAM), so a
	 * build's 60 cc1 are one node with their total; a program of one
	 * process keeps its "name [pid]" node at the top. */
	bool by_program;
	bool by_thread;		/* a "comm [tid]" level (below the process level if any) */
	bool invert;		/* bottom-up: leaves at the top, callers below */
	bool kernel;		/* keep kernel frames (they sit below the user frames) */
	bool user;		/* keep user frames (false: --kernel-only) */
	const char *focus;	/* glob (frame_matches): re-root at the outermost matching frame */
	const char *filter;	/* glob (frame_matches): keep only stacks through a matching frame */
	uint32_t only_pid;	/* 0, or keep only this pid's samples */
	/* NULL, or keep only the samples of this program: a process name as
	 * interned in the profile (compared by pointer) */
	const char *only_program;
	/* --wall: keep the threads that did not run at all during the run
	 * (profile_stack_idle); left out by default: a pool of idle workers
	 * would bury the threads that worked under its waiting */
	bool show_idle;
};
#define VIEW_OPTS_INIT { .user = true }

struct tree {
	const struct profile *prof;
	struct tree_node *nodes;
	size_t nr, alloc;
	uint64_t total;		/* == nodes[0].total */
	/* by_program: program frame -> its processes in the view << 1, | 1 when
	 * one of them stands for many that exited (profile_coalesce_exited);
	 * only the programs split into processes, so only those have a node. */
	struct u64map programs;
};

/* Builds the tree; never fails (allocation failure exits). */
struct tree *tree_build(const struct profile *p, const struct view_opts *o);
void tree_free(struct tree *t);

/* Orders every node's children by cmp(a, b, ctx) on node indexes (qsort_r
 * style); tree_build orders them by total, hottest first. */
typedef int (*tree_node_cmp_fn)(const void *a, const void *b, void *ctx);
void tree_sort_children(struct tree *t, tree_node_cmp_fn cmp, void *ctx);

/* The frames of one sample as the view keeps them, root first, with the
 * synthetic process/thread levels; not inverted. Shared by the tree builder
 * and the stack-per-line formats. With by_program the process level is the
 * program's frame: one sample cannot tell whether its program ran as
 * several processes. Returns how many (0: filtered out). */
uint32_t tree_sample_path(const struct profile *p, const struct view_opts *o,
			  const struct sample_rec *s, frame_id_t *path, uint32_t cap);
/* Room a path buffer needs: two synthetic levels and both stacks at their deepest. */
#define TREE_MAX_PATH (ST_MAX_USER_FRAMES + ST_MAX_FRAMES + ST_PY_MAX_FRAMES + 8)

/* Does the view keep samples of thread th (only_pid, only_program)? */
static inline bool view_keeps_thread(const struct view_opts *o, const struct thread *th)
{
	return (!o->only_pid || th->pid == o->only_pid) &&
	       (!o->only_program || th->process == o->only_program);
}

/* Does the view keep sample s before its frames are looked at: its thread,
 * and --wall's threads idle the whole run only with show_idle? For every
 * view that sums samples itself (the tree, diff). */
static inline bool view_keeps_sample(const struct profile *p, const struct view_opts *o,
				     const struct sample_rec *s)
{
	return s->count && view_keeps_thread(o, &p->threads[s->thread]) &&
	       (o->show_idle || !profile_stack_idle(p, s->stack));
}

/*
 * The name a view shows for frame f of tree t, raw (escape it to display):
 * the frame's name, and for a program split into processes its count,
 * "cc1 [60 processes]" ("[61+ processes]" when exited ones were merged into
 * one record, which stands for one or more). Appends to sb.
 */
void tree_frame_label(const struct tree *t, frame_id_t f, struct strbuf *sb);

/* For writers that group threads without a tree (speedscope's profiles):
 * the programs the tree of view o would split into processes, into
 * programs (as tree.programs; the caller frees it), and their labels. */
void tree_count_programs(const struct profile *p, const struct view_opts *o,
			 struct u64map *programs);
void tree_program_label(const struct profile *p, const struct u64map *programs, frame_id_t f,
			struct strbuf *sb);

/*
 * Does a glob (fnmatch, no flags) match the frame? The one frame matcher of
 * every option that names frames (--focus, the live view's filter and focus,
 * --hide, --show): it tries the function name, the module's basename
 * ("libc.so.6") and full path, and the source file's path, so a function
 * name, a library's file name or a folder of modules or sources all work.
 */
bool frame_matches(const struct frame *f, const char *glob);

/*
 * Heat: the one scale on which every view colours a row by its share of the
 * total (0..1), so the text report and the live view agree: hot from 60%,
 * warm from 30%, mild from 15% (red, yellow, green), cool below.
 */
#define TREE_HEAT_HOT_SHARE 0.6
#define TREE_HEAT_WARM_SHARE 0.3
#define TREE_HEAT_MILD_SHARE 0.15

enum tree_heat { TREE_HEAT_COOL, TREE_HEAT_MILD, TREE_HEAT_WARM, TREE_HEAT_HOT };

static inline enum tree_heat tree_heat(double share)
{
	return share >= TREE_HEAT_HOT_SHARE    ? TREE_HEAT_HOT :
	       share >= TREE_HEAT_WARM_SHARE ? TREE_HEAT_WARM :
	       share >= TREE_HEAT_MILD_SHARE ? TREE_HEAT_MILD : TREE_HEAT_COOL;
}

/* Children of n in order; for (c = tree_first(t, n); c != NODE_NONE; c = tree_next(t, c)) */
static inline uint32_t tree_first(const struct tree *t, uint32_t n)
{
	return t->nodes[n].first_child;
}

static inline uint32_t tree_next(const struct tree *t, uint32_t n)
{
	return t->nodes[n].next_sibling;
}

/* The frame of node n, or NULL for the root. */
static inline const struct frame *tree_frame(const struct tree *t, uint32_t n)
{
	frame_id_t f = t->nodes[n].frame;

	return f == FRAME_NONE ? NULL : profile_get_frame(t->prof, f);
}

#endif

/*
 * The live view's navigation state, without a terminal: which view is shown
 * (top-down tree, inverted tree, flat function list), which nodes are
 * expanded, the selection and scroll position, search, filter and focus.
 * The screen (tui/screen.c) draws vm->rows; key actions (tui/keys.c) call the
 * functions below. Unit-tested in tests/unit/test_viewmodel.c.
 *
 * Tree node ids change at every rebuild, so everything that must survive a
 * rebuild (the expanded set, the selection) is keyed by a hash of the path of
 * frame ids from the root (vm->phash[node]), or by frame id in the flat view.
 *
 * The view model reads the profile and never changes it. It owns its tree,
 * rows and strings; vm_free() releases them.
 */
#ifndef TUI_VIEWMODEL_H
#define TUI_VIEWMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/collapse.h"
#include "base/hashtab.h"
#include "model/profile.h"
#include "model/tree.h"
#include "base/util.h"

enum vm_view { VM_TREE, VM_INVERTED, VM_FLAT, VM_NR_VIEWS };
enum vm_sort { VM_SORT_TOTAL, VM_SORT_SELF, VM_SORT_NAME, VM_NR_SORTS };
extern const char *const vm_view_names[VM_NR_VIEWS];
extern const char *const vm_sort_names[VM_NR_SORTS];

enum vm_row_kind {
	VM_ROW_NODE,	/* a tree node: node is its id */
	VM_ROW_HIDDEN,	/* "[N frames hidden] modules": node is the parent's id */
	VM_ROW_MORE,	/* "[N more under 0.5%]": small children left out; node is the parent */
	VM_ROW_FUNC,	/* a flat-view function: node is its frame id */
};

enum vm_row_flags {
	VM_ROW_F_EXPANDABLE = 1 << 0,
	VM_ROW_F_EXPANDED = 1 << 1,
	VM_ROW_F_MATCH = 1 << 2,	/* the name matches the search */
};

struct vm_row {
	uint8_t kind;		/* enum vm_row_kind */
	uint8_t flags;		/* enum vm_row_flags */
	uint16_t depth;		/* indentation level, 0 for the top */
	uint32_t node;
	uint64_t key;		/* path hash (tree) or frame key (flat): stable across rebuilds */
	uint64_t total, self;
	uint32_t nr_hidden;	/* VM_ROW_HIDDEN: frames in the group; VM_ROW_MORE: nodes */
	uint32_t modules;	/* VM_ROW_HIDDEN: offset of their modules in vm->text */
};

struct vm_func {
	frame_id_t frame;
	uint64_t self, total;
};

/* How the view starts; usually from the command line. */
struct vm_config {
	enum vm_view view;
	bool by_process, by_thread;
	bool by_program;	/* a program's processes under one node (view_opts) */
	/* Turn by_process on once the profile holds a second process (a
	 * launched command that forked), as its report will be grouped. */
	bool auto_group;
	bool kernel;		/* show kernel frames (when recorded) */
	bool user;		/* show user frames (false with --kernel-only) */
	bool show_idle;		/* --wall: threads idle the whole run (view_opts) */
	const char *focus;	/* initial focus glob, or NULL */
	double min_percent;	/* tree nodes under this share are summed up in one row */
	struct collapse_rules rules;
};

#define VM_MAX_FOCUS 16
#define VM_MAX_INPUT 128	/* longest search or filter text */

struct vm_focus {
	char *glob;		/* re-root at frames matching this, or NULL */
	uint32_t pid;		/* or keep only this process, or 0 */
	const char *program;	/* or only this program (the profile's interned name), or NULL */
	char *label;		/* what the header shows (escaped) */
	uint64_t sel_key;	/* the selection before, restored on the way out */
};

struct viewmodel {
	const struct profile *prof;
	enum vm_view view;
	enum vm_sort sort[VM_NR_VIEWS];	/* per view: the flat view starts by self */
	bool by_process, by_thread, kernel, user;
	bool by_program, auto_group;
	struct collapse_rules rules;	/* rules.show_all is the "show library frames" toggle */
	double min_percent;	/* 0 shows every node */
	bool show_small;	/* the toggle that shows nodes under min_percent too */
	bool show_idle;		/* --wall: show threads idle the whole run (view_opts) */
	uint64_t min_count;	/* min_percent of the total, in samples (>= 1) */
	struct vm_focus focus[VM_MAX_FOCUS];
	size_t nr_focus;
	char filter[VM_MAX_INPUT];	/* as typed; "" for none */
	char filter_glob[VM_MAX_INPUT + 2];
	char search[VM_MAX_INPUT];	/* as typed; "" for none */

	/* Built by vm_rebuild(): */
	struct tree *tree;	/* tree views */
	uint64_t *phash;	/* per tree node: hash of its frame path */
	struct vm_func *funcs;	/* flat view */
	size_t nr_funcs, alloc_funcs;
	uint64_t total;		/* samples in the view (100%) */

	/* Built by vm_update_rows(): */
	struct vm_row *rows;
	size_t nr_rows, alloc_rows;
	struct strbuf text;	/* strings rows point into */
	size_t nr_matches;	/* nodes matching the search in the whole view */
	struct collapse_children *scratch;	/* one per tree depth, for walks */

	struct u64map expanded;	/* path hash -> 1 expanded, 0 collapsed */
	bool auto_expand;	/* expand the hottest path at the next rebuild */
	size_t sel;		/* selected row */
	uint64_t sel_key;	/* its key, to find it again after a rebuild */
	size_t top;		/* first row on screen */
	size_t height;		/* rows the screen shows (>= 1) */
	char msg[160];		/* one-line message for the status line, "" for none */
};

struct viewmodel *vm_new(const struct profile *p, const struct vm_config *c);
void vm_free(struct viewmodel *vm);

/* Rebuilds the tree (or function list) from the profile with the current
 * options, then the rows. The one costly call: once per refresh at most. */
void vm_rebuild(struct viewmodel *vm);
/* Rebuilds only the rows (after expanding, collapsing or sorting). */
void vm_update_rows(struct viewmodel *vm);

/* Rows the screen can show; keeps the selection visible. */
void vm_set_height(struct viewmodel *vm, size_t height);

/* Navigation. Each returns true if something visible changed. */
bool vm_move(struct viewmodel *vm, long delta);	/* clamped to the rows */
bool vm_select(struct viewmodel *vm, size_t row);
bool vm_home(struct viewmodel *vm);
bool vm_end(struct viewmodel *vm);
bool vm_expand(struct viewmodel *vm);		/* selected node */
bool vm_collapse(struct viewmodel *vm);
bool vm_toggle(struct viewmodel *vm);
bool vm_expand_all(struct viewmodel *vm);	/* selected node and all below */
bool vm_right(struct viewmodel *vm);		/* expand, or go to the first child */
bool vm_left(struct viewmodel *vm);		/* collapse, or go to the parent */

/* Options. Those that change what is counted rebuild the tree. */
void vm_set_view(struct viewmodel *vm, enum vm_view view);
void vm_set_sort(struct viewmodel *vm, enum vm_sort sort);
void vm_set_grouping(struct viewmodel *vm, bool by_process, bool by_thread);
/* One node per program above its processes (on), or one per process (off). */
void vm_set_programs(struct viewmodel *vm, bool on);
/* Returns false (with vm->msg set) when no kernel stacks were recorded. */
bool vm_set_kernel(struct viewmodel *vm, bool on);
void vm_set_show_hidden(struct viewmodel *vm, bool on);
/* Show the nodes under min_percent (on) or sum them up in one row (off). */
void vm_set_show_small(struct viewmodel *vm, bool on);
/* --wall: show the threads idle the whole run (on), or leave them out. */
void vm_set_show_idle(struct viewmodel *vm, bool on);
/* Keeps only stacks through a frame matching text (a glob, or a substring
 * when it holds no * ? [). "" removes the filter. */
void vm_set_filter(struct viewmodel *vm, const char *text);
/* Zooms into the selected node (or function) as the new root; for a process
 * (program) node, keeps only that process (program). Returns false with vm->msg set if it cannot. */
bool vm_focus_selected(struct viewmodel *vm);
/* Back out of the innermost focus. Returns false if there is none. */
bool vm_unfocus(struct viewmodel *vm);

/* Search: highlights every matching name (substring, case-insensitive; or a
 * glob) and jumps to the next match from the selection (dir 1) or the
 * previous one (dir -1), expanding its ancestors. Returns false with vm->msg
 * set when nothing matches. vm_set_search(vm, "") clears it. */
bool vm_set_search(struct viewmodel *vm, const char *text);
bool vm_search_next(struct viewmodel *vm, int dir);

/* The escaped display name of a row ("[3 frames hidden] libc.so.6" for a
 * group). Appends to sb. */
void vm_row_label(const struct viewmodel *vm, const struct vm_row *r, struct strbuf *sb);
/* The escaped module basename of a row ("" if none), appended to sb. */
void vm_row_module(const struct viewmodel *vm, const struct vm_row *r, struct strbuf *sb);
/* The frame of a row, or NULL for a hidden group. */
const struct frame *vm_row_frame(const struct viewmodel *vm, const struct vm_row *r);

static inline const struct vm_row *vm_selected(const struct viewmodel *vm)
{
	return vm->nr_rows ? &vm->rows[vm->sel] : NULL;
}

#endif

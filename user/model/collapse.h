/*
 * pyinstrument-style collapsing of library frames, shared by every view.
 *
 * A frame is a "library" frame when it matches a --hide glob (or, with no
 * --hide, the default list: libc, the dynamic loader, libstdc++, libgcc, the
 * vdso, Python's standard library and site-packages) and no --show glob.
 * Globs are matched by frame_matches() (tree.h): the function name, the
 * module's basename and full path, and the source file. The first library
 * frame below an application frame stays visible (it says which library call
 * was made: fwrite, qsort); the library frames below it are hidden, and the
 * frames they lead to are shown as its children, after one
 * "[N frames hidden] libc.so.6, ..." row.
 */
#ifndef COLLAPSE_H
#define COLLAPSE_H

#include <stdbool.h>
#include <stddef.h>

#include "model/tree.h"
#include "base/util.h"

struct collapse_rules {
	const char *const *hide;	/* NULL/0: the default list */
	size_t nr_hide;
	const char *const *show;
	size_t nr_show;
	bool show_all;		/* collapse nothing */
	/* The verdict per frame id (0 not known yet, 1 no, 2 yes), filled as
	 * frames are asked about; owned by the rules: collapse_rules_memo()
	 * sizes it, collapse_rules_release() frees it. Without it every question
	 * matches the globs again. show_all is not part of it, so it can be
	 * toggled (the live view's "show library frames") without a reset. */
	uint8_t *memo;
	size_t nr_memo;
};

/* Sizes r's verdict memo for p's frames; call again after p gained frames
 * (the verdicts kept stay true: a frame never changes). */
void collapse_rules_memo(struct collapse_rules *r, const struct profile *p);
/* Frees the memo (the globs are the caller's). */
void collapse_rules_release(struct collapse_rules *r);

/* Is f a library frame under these rules? Synthetic frames never are. */
bool collapse_frame_is_library(const struct frame *f, const struct collapse_rules *r);
/* Same for frame id of p (FRAME_NONE: no), through the memo. */
bool collapse_is_library(const struct profile *p, frame_id_t id, const struct collapse_rules *r);

/*
 * The one rule every view applies: frame id, called from frame caller
 * (FRAME_NONE at the root), is hidden when both are library frames. The text
 * and HTML trees and the live view apply it through collapse_children(); the
 * folded writer through collapse_hidden(), speedscope and pprof through
 * collapse_path().
 */
bool collapse_hidden(const struct profile *p, frame_id_t caller, frame_id_t id,
		     const struct collapse_rules *r);

/* Is tree node n a library frame? Hidden (its parent node's frame is the caller)? */
bool collapse_node_is_library(const struct tree *t, uint32_t n, const struct collapse_rules *r);
bool collapse_node_hidden(const struct tree *t, uint32_t n, const struct collapse_rules *r);

/* Drops the hidden frames from path (n frames of p, root first), in place.
 * Returns how many are left. */
uint32_t collapse_path(const struct profile *p, const struct collapse_rules *r, frame_id_t *path,
		       uint32_t n);

struct collapse_children {
	uint32_t *nodes;	/* the children to show, hottest first */
	size_t nr, alloc;
	uint32_t nr_hidden;	/* library frames skipped to reach them */
	uint64_t hidden_self;	/* samples whose leaf was a skipped frame */
	struct strbuf modules;	/* ", "-separated basenames of the skipped frames' modules */
};

/* Fills c with the children of visible node n as shown: every hidden child is
 * replaced by its own shown children, recursively. c is reset first; free it
 * with collapse_children_release(). */
void collapse_children(const struct tree *t, uint32_t n, const struct collapse_rules *r,
		       struct collapse_children *c);
void collapse_children_release(struct collapse_children *c);

#endif

/*
 * pyinstrument-style collapsing of library frames, shared by every view.
 *
 * A frame is a "library" frame when it matches a --hide glob (or, with no
 * --hide, the default list: libc, the dynamic loader, libstdc++, libgcc, the
 * vdso, Python's standard library and site-packages) and no --show glob.
 * Globs are matched against the function name, the module's basename and full
 * path, and the source file. The first library frame below an application
 * frame stays visible (it says which library call was made: fwrite, qsort);
 * the library frames below it are hidden, and the frames they lead to are
 * shown as its children, after one "[N frames hidden] libc.so.6, ..." row.
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
	/* Optional memo of the hide/show verdict per frame id (0 not known yet,
	 * 1 no, 2 yes; nr_memo entries, owned by the caller). Views that walk big
	 * trees often (the TUI) set it to skip the glob matching. */
	uint8_t *memo;
	size_t nr_memo;
};

/* Is f a library frame under these rules? Synthetic frames never are. */
bool collapse_frame_is_library(const struct frame *f, const struct collapse_rules *r);

/* Is tree node n hidden: a library frame whose parent is a library frame too? */
bool collapse_node_hidden(const struct tree *t, uint32_t n, const struct collapse_rules *r);

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

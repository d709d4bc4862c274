/*
 * Where Python frames go in a native stack. Pure: frame ids in, frame ids
 * out, so the rules are tested without a process.
 *
 * The Python frames (leaf first) fall into groups, one per C call of the
 * interpreter's evaluation loop: a group ends at a frame marked entry (the
 * first frame that call ran). The native stack's evaluation frames, matched
 * from the leaf, are each replaced by their group. Native frames of the
 * interpreter itself rootward of the leafmost matched evaluation frame are
 * call plumbing and go, as are those between it and the C extension it
 * calls; every other native frame stays (C extensions, and the interpreter's
 * C code a Python function is running when it calls no extension). Groups the native stack has no
 * evaluation frame for (a short native unwind) go just rootward of the
 * outermost match; with no match at all the Python frames go on top of the
 * native ones.
 */
#ifndef PYMERGE_H
#define PYMERGE_H

#include <stdbool.h>
#include <stdint.h>

#include "model/profile.h"

struct pymerge_native {
	frame_id_t frame;
	bool eval;		/* an evaluation-loop frame (_PyEval_EvalFrameDefault) */
	bool interp;		/* code of the interpreter binary (libpython, python) */
};

struct pymerge_py {
	frame_id_t frame;
	bool entry;		/* the first frame its evaluation-loop call ran */
};

enum pymerge_mode { PYMERGE_MERGE, PYMERGE_ONLY };

/* Native frames a merge takes: every address of a full user stack with the
 * calls inlined at it (DWARF_MAX_INLINE, 8, each). */
#define PYMERGE_MAX_NATIVE (ST_MAX_USER_FRAMES * 8)

/* native: root first, at most PYMERGE_MAX_NATIVE (more: the leaf end is used);
 * py: leaf first, at most ST_PY_MAX_FRAMES (more: the leaf end is used). Writes the merged stack root first
 * into out (at most cap frames; the leaf end is kept and *cut set when it
 * does not fit). Returns the number of frames written. */
uint32_t pymerge(const struct pymerge_native *native, uint32_t nn, const struct pymerge_py *py,
		 uint32_t np, enum pymerge_mode mode, frame_id_t *out, uint32_t cap, bool *cut);

#endif

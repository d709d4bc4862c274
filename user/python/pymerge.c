/* Merging Python frames into native stacks. */
#include "python/pymerge.h"

#include <string.h>

/* Appends py[lo .. hi] root first (py is leaf first). */
static uint32_t emit_group(frame_id_t *out, uint32_t n, const struct pymerge_py *py, uint32_t lo,
			   uint32_t hi)
{
	for (uint32_t i = hi + 1; i > lo; i--)
		out[n++] = py[i - 1].frame;
	return n;
}

uint32_t pymerge(const struct pymerge_native *native, uint32_t nn, const struct pymerge_py *py,
		 uint32_t np, enum pymerge_mode mode, frame_id_t *out, uint32_t cap, bool *cut)
{
	uint32_t gend[ST_PY_MAX_FRAMES];	/* group g: py[gend[g - 1] + 1 .. gend[g]] */
	uint32_t evalidx[PYMERGE_MAX_NATIVE];	/* root-first indexes of eval frames, leaf first */
	frame_id_t tmp[PYMERGE_MAX_NATIVE + ST_PY_MAX_FRAMES];
	uint32_t ngroups = 0, neval = 0, matched, n = 0;

	*cut = false;
	if (nn > PYMERGE_MAX_NATIVE) {	/* keep the leaf ends */
		native += nn - PYMERGE_MAX_NATIVE;
		nn = PYMERGE_MAX_NATIVE;
	}
	if (np > ST_PY_MAX_FRAMES)
		np = ST_PY_MAX_FRAMES;
	for (uint32_t i = 0; i < np; i++)
		if (py[i].entry || i == np - 1)
			gend[ngroups++] = i;
	for (uint32_t k = nn; k > 0; k--)
		if (native[k - 1].eval)
			evalidx[neval++] = k - 1;
	matched = neval < ngroups ? neval : ngroups;

	if (np == 0) {
		for (uint32_t k = 0; k < nn; k++)
			tmp[n++] = native[k].frame;
	} else if (mode == PYMERGE_ONLY) {
		n = emit_group(tmp, 0, py, 0, np - 1);
	} else if (matched == 0) {
		n = emit_group(tmp, 0, py, 0, np - 1);
		for (uint32_t k = 0; k < nn; k++)
			tmp[n++] = native[k].frame;
	} else {
		uint32_t j = matched;	/* evalidx[j - 1]: the next matched eval frame, root first */
		uint32_t leafmost = evalidx[0], plumb_end = leafmost + 1;

		/* Interpreter frames between the leafmost eval frame and the C
		 * extension it calls are plumbing too (not when no extension
		 * follows: then they are the work, like long_add). */
		while (plumb_end < nn && native[plumb_end].interp)
			plumb_end++;
		if (plumb_end == nn)
			plumb_end = leafmost + 1;

		for (uint32_t k = 0; k < nn; k++) {
			if (j > 0 && k == evalidx[j - 1]) {
				j--;
				if (j == matched - 1 && matched < ngroups)
					n = emit_group(tmp, n, py, gend[matched - 1] + 1, gend[ngroups - 1]);
				n = emit_group(tmp, n, py, j ? gend[j - 1] + 1 : 0, gend[j]);
				continue;
			}
			if (native[k].interp && k < plumb_end)
				continue;
			tmp[n++] = native[k].frame;
		}
	}
	if (n > cap) {
		memmove(tmp, tmp + (n - cap), cap * sizeof(*tmp));
		n = cap;
		*cut = true;
	}
	memcpy(out, tmp, n * sizeof(*tmp));
	return n;
}

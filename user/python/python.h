/*
 * Python frames: finds CPython 3.10-3.13 interpreters in the sampled
 * processes (libpython or the python executable, by its _PyRuntime symbol),
 * tells the BPF side where their thread states and frames are, names the
 * code objects it walks (by reading the target's memory, cached per code
 * object) and merges those frames into the native stacks.
 */
#ifndef PYTHON_H
#define PYTHON_H

#include <stdbool.h>
#include <stdint.h>

#include "procs/procs.h"
#include "model/profile.h"
#include "sampletop.h"

enum python_mode {
	PYTHON_MERGE,	/* Python frames in place of the interpreter's eval frames */
	PYTHON_ONLY,	/* Python frames only (native frames where there are none) */
	PYTHON_OFF,	/* native frames only; Python processes are not walked */
};

struct python_opts {
	enum python_mode mode;
	bool lines;	/* frames carry the executing line, not the def line */
};

/* Parses "merge", "only" or "off". Returns 0 or -EINVAL. */
int python_mode_parse(const char *s, enum python_mode *out);

struct python;

/* info_map_fd: the BPF py_procs map (pid -> struct st_py_info), or -1 until
 * python_set_info_map() gives it (processes found before are told then). */
struct python *python_new(struct profile *prof, const struct python_opts *o, int info_map_fd);
/* Makes frames in prof from now on (the caller frees the old profile
 * after): the cached code objects' frames are made again in it. */
void python_retarget(struct python *py, struct profile *prof);
void python_set_info_map(struct python *py, int info_map_fd);
void python_free(struct python *py);
/* Now and then forgets processes that exited; call it between drains. */
void python_sweep(struct python *py);

/* Looks at process p now (before its first sample: -p targets). */
void python_watch(struct python *py, struct procs *ps, struct proc *p);

/* Looks at every running process whose executable or maps name a Python (-a). */
void python_watch_all(struct python *py, struct procs *ps);

/*
 * Merges one sample's Python frames into its native user frames.
 * frames[ustart .. n) are the native user frames, root first (an address's
 * inlined frames after its function); frame_ip[k] is the index in s->ips
 * (leaf first) of frames[ustart + k]'s address. s/size is the raw record as
 * it arrived. Rewrites frames[ustart ..) and returns the new n (<= cap).
 * Detects the interpreter on first sight of p (and when its maps change).
 */
uint32_t python_merge(struct python *py, struct procs *ps, struct proc *p,
		      const struct st_sample *s, size_t size, frame_id_t *frames,
		      const uint16_t *frame_ip, uint32_t ustart, uint32_t n, uint32_t cap);

/* Python processes found so far (for -v and tests). */
uint32_t python_nr_found(const struct python *py);

#endif

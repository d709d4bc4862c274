/*
 * CPython's own structures, version by version: the field offsets sampletop
 * needs (a table for 3.10 to 3.12, CPython's _Py_DebugOffsets for 3.13),
 * and reading a code object (name, file, first line, line table) out of a
 * process's memory through a read callback. The memory belongs to the
 * profiled process: every length and pointer read from it is checked.
 * No I/O of its own, so tests and the fuzzer drive it from buffers.
 */
#ifndef PYCODE_H
#define PYCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "st_python.h"

/* Longest name or path kept from a code object (longer ones are cut). */
#define PYCODE_MAX_STR 1024
/* Longest str length believed at all: longer ones are damage, not names. */
#define PYCODE_MAX_STR_LEN (1 << 20)
/* Longest line table read (bigger ones leave lines at the first line). */
#define PYCODE_MAX_LINETABLE (256 * 1024)

struct pycode_offsets {
	uint8_t major, minor;
	uint8_t layout;		/* enum st_py_layout */
	/* the walk (mirrored into struct st_py_info) */
	uint16_t runtime_interp_head;	/* _PyRuntime -> interpreters.head */
	uint16_t interp_next, interp_threads, tstate_next, tstate_thread_id, tstate_frame, cframe_frame;
	uint16_t frame_previous, frame_code, frame_instr, frame_entry;
	/* code objects and the objects they point to */
	uint16_t code_filename, code_name, code_qualname;	/* qualname: ST_PY_NO_OFF < 3.11 */
	uint16_t code_firstlineno, code_linetable, code_adaptive;	/* adaptive: 3.11+ */
	uint16_t ob_type;
	uint16_t bytes_size, bytes_sval;
	uint16_t unicode_length, unicode_state, unicode_ascii_size, unicode_compact_size;
};

/* The offsets of a version from sampletop's table (3.10, 3.11, 3.12; 3.13 as
 * a fallback when the debug offsets cannot be read). Returns 0 or -ENOTSUP. */
int pycode_offsets_for_version(unsigned major, unsigned minor, struct pycode_offsets *out);

/* Bytes of _Py_DebugOffsets that pycode_offsets_from_debug reads (3.13 layout). */
#define PYCODE_DEBUG_OFFSETS_SIZE 568
/* Parses the _Py_DebugOffsets at the start of 3.13's _PyRuntime (from the
 * binary's .data or the process). Checks the cookie, the version (3.13.x
 * only: later versions change the struct) and that every offset is small
 * enough for the walk. Returns 0, -EINVAL (not debug offsets) or -ENOTSUP. */
int pycode_offsets_from_debug(const void *buf, size_t len, struct pycode_offsets *out);

/* "3.11" from a file name: python3.11, libpython3.11.so.1.0, python3.11d...
 * Returns 0 and sets major/minor, or -ENOENT. */
int pycode_version_from_name(const char *path, unsigned *major, unsigned *minor);

/* Fills the BPF side's view of the offsets. interp_head is an address. */
void pycode_offsets_to_bpf(const struct pycode_offsets *o, uint64_t interp_head,
			   struct st_py_info *out);

/* Reads len bytes at addr of the target. Returns 0 or a negative errno. */
typedef int (*pycode_mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

struct pycode {
	char *name;		/* qualname on 3.11+, else name; never NULL after success */
	char *file;		/* co_filename */
	int32_t firstlineno;
	uint64_t name_ptr;	/* co_name's address: the tag the BPF side records */
	uint8_t *linetable;	/* raw co_linetable, or NULL */
	size_t linetable_len;
};

/* Reads the code object at addr. code_type: address of PyCode_Type to check
 * ob_type against, or 0 to skip the check. Returns 0 (free with
 * pycode_release), -EFAULT (unreadable), -EINVAL (not a code object or
 * damaged). */
int pycode_read(const struct pycode_offsets *o, pycode_mem_read_fn rd, void *ctx, uint64_t addr,
		uint64_t code_type, struct pycode *out);
void pycode_release(struct pycode *c);

/* Reads a str object as UTF-8 (at most PYCODE_MAX_STR bytes, cut on a
 * character boundary). Returns a malloc'ed string or NULL. */
char *pycode_read_str(const struct pycode_offsets *o, pycode_mem_read_fn rd, void *ctx,
		      uint64_t addr);

/* Does the tag of a sampled frame (st_python.h) name this code object? */
static inline bool pycode_tag_matches(const struct pycode *c, uint32_t tag)
{
	return (uint32_t)c->name_ptr == tag;
}

/* The source line of the instruction at byte offset off into the code (3.10:
 * f_lasti * 2; 3.11+: into co_code_adaptive), from the line table. Returns
 * the line, or firstlineno when the table has no answer. */
int32_t pycode_line(const struct pycode_offsets *o, const struct pycode *c, uint64_t off);

#endif

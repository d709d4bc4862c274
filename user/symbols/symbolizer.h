/*
 * Naming frames: address in a process -> profile frames. Ties the process
 * maps (procs) to the parsed objects (symcache: symbols, debug files, DWARF
 * for file:line and inlined calls), to perf maps for JIT code, to the vDSO
 * and to the kernel's symbols, with a per-process address cache. Every
 * address gets a frame, never a neighbour's name: unnamed code that an
 * .eh_frame record places in a function reads "[unknown] module (fn@0xstart)",
 * one frame per function; other unnamed code "[unknown] module+0xoff".
 */
#ifndef SYMBOLIZER_H
#define SYMBOLIZER_H

#include <stdbool.h>
#include <stdint.h>

#include "procs/procs.h"
#include "model/profile.h"
#include "symbols/symcache.h"

/* Most frames one address can expand to: the function and its inlined calls. */
#define SYMBOLIZER_MAX_DEPTH SYMCACHE_MAX_DEPTH

struct symbolizer_opts {
	bool kernel;		/* load kallsyms */
	bool no_demangle;	/* keep C++/Rust names mangled */
	bool lines;		/* file:line and inlined frames from DWARF */
	uint64_t mem_budget;	/* bytes of parsed tables kept; 0: SYMCACHE_MEM_BUDGET */
};

struct symbolizer;

struct symbolizer *symbolizer_new(struct profile *prof, const struct symbolizer_opts *o);
void symbolizer_free(struct symbolizer *s);
/* Names frames into prof from now on (the caller frees the old profile
 * after): every cached frame id is forgotten, the symbols stay loaded. */
void symbolizer_retarget(struct symbolizer *s, struct profile *prof);

/* The frames of a user-space address of process p, outermost first (with
 * lines, the function then the calls inlined into it). is_return: ip is a
 * return address (every frame but the interrupted one), so ip - 1 is looked
 * up. Fills out (room for max, at least 1) and returns how many (>= 1). */
uint32_t symbolizer_user_frames(struct symbolizer *s, struct procs *ps, struct proc *p,
				uint64_t ip, bool is_return, frame_id_t *out, uint32_t max);
/* The outermost frame of the same (the real function). */
frame_id_t symbolizer_user(struct symbolizer *s, struct procs *ps, struct proc *p, uint64_t ip,
			   bool is_return);
frame_id_t symbolizer_kernel(struct symbolizer *s, uint64_t ip);

/* Names an ELF virtual address of the file at path (addr2line): same as for
 * a process, with lines per opts. Returns how many frames (0 when the file
 * cannot be read). With lines, file and line are those of the address (and
 * of each call site), not of the function's definition. */
uint32_t symbolizer_file(struct symbolizer *s, const char *path, uint64_t vaddr,
			 struct frame *out, uint32_t max);

/* True when kallsyms could be read but every address was hidden. */
bool symbolizer_kernel_hidden(const struct symbolizer *s);
/* Objects parsed so far and their total symbol count (for -v and benches). */
void symbolizer_stats(const struct symbolizer *s, uint32_t *objects, uint64_t *symbols);
/* Objects parsed in all (reparses after eviction included) and bytes held now. */
void symbolizer_mem(const struct symbolizer *s, uint64_t *parses, uint64_t *bytes);

#endif

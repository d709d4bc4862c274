/*
 * Naming frames: address in a process -> profile frame. Ties the process
 * maps (procs) to parsed ELF objects, cached across processes by file
 * identity (device, inode, size, mtime), and to the kernel's symbols.
 * Every address gets a frame: unnamed ones read "[unknown] module+0xoff".
 */
#ifndef SYMBOLIZER_H
#define SYMBOLIZER_H

#include <stdbool.h>
#include <stdint.h>

#include "procs.h"
#include "profile.h"

struct symbolizer_opts {
	bool kernel;		/* load kallsyms */
};

struct symbolizer;

struct symbolizer *symbolizer_new(struct profile *prof, const struct symbolizer_opts *o);
void symbolizer_free(struct symbolizer *s);

/* A user-space frame of process p. is_return: ip is a return address (every
 * frame but the interrupted one), so ip - 1 is looked up. */
frame_id_t symbolizer_user(struct symbolizer *s, struct procs *ps, struct proc *p, uint64_t ip,
			   bool is_return);
frame_id_t symbolizer_kernel(struct symbolizer *s, uint64_t ip);

/* True when kallsyms could be read but every address was hidden. */
bool symbolizer_kernel_hidden(const struct symbolizer *s);
/* Objects parsed so far and their total symbol count (for -v and benches). */
void symbolizer_stats(const struct symbolizer *s, uint32_t *objects, uint64_t *symbols);

#endif

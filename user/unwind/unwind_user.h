/*
 * The BPF unwinder's walk (bpf/ustack.bpf.h), done in userspace on a copy of
 * the stack: how a cold sample (ST_SAMPLE_COLD, struct st_ucold) is finished
 * once the tables of its objects exist. Same rows (struct st_urow), same
 * rules: CFA from rsp, rbp, a PLT stub or a signal frame, return address at
 * CFA - 8, caller's rbp where the row says, stop at an outermost frame; a pc
 * without a table is stepped by frame pointer (unless told not to), as
 * ST_UNWIND_AUTO does. Memory is read only from the copy, every read
 * bounds-checked: the copy comes from the profiled process and may hold
 * anything. Each walk takes at most the number of frames asked for.
 * Return addresses that a pending uretprobe replaced with its trampoline
 * (--scope's, or another tool's) were put back in the copy by BPF
 * (bpf/cold.bpf.h): the copy reads as if there were no uretprobes.
 */
#ifndef UNWIND_USER_H
#define UNWIND_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sampletop.h"

struct unwind_table;

/* Where a walk starts: the frame at ip (recorded first), its rsp and rbp. */
struct unwind_user_regs {
	uint64_t ip, sp, bp;
	bool exact;		/* ip is an exact pc (leaf, signal frame), not a return address */
};

/* A copy of len bytes of user stack from address base. */
struct unwind_user_stack {
	const uint8_t *data;
	uint64_t base;
	uint32_t len;
	bool end;		/* nothing readable above the copy: a read past it ends the
				 * walk as the BPF program's failed read would, not as a
				 * truncation */
};

/* The table for pc: returns 0 with *t (rows kept) and *bias (address -
 * ELF vaddr); -ENODATA for a mapping without a table (none to come: no CFI,
 * anonymous code), -ENOENT for a pc outside every mapping (both stepped by
 * frame pointer), or -EAGAIN when the table is not there yet (the walk
 * stops: try again later). */
typedef int (*unwind_user_find_fn)(void *ctx, uint64_t pc, const struct unwind_table **t,
				   uint64_t *bias);

enum unwind_user_end {
	UNWIND_USER_DONE,	/* an outermost frame, or a rule or frame chain that ends */
	UNWIND_USER_MAX,	/* max frames recorded, and more to come */
	UNWIND_USER_TRUNCATED,	/* the next frame lies past the copy */
	UNWIND_USER_PENDING,	/* a pc whose table is not there yet (find: -EAGAIN) */
};

struct unwind_user_walk {
	uint32_t nr;		/* frames written to ips, leaf first */
	enum unwind_user_end end;
	uint32_t fp_steps;	/* frames stepped by frame pointer */
	uint64_t cfa_top;	/* highest stack address read, for the measures */
};

/* Walks from r over stack, writing at most max frames (r->ip first) to
 * ips. fp_fallback: step by frame pointer where a pc has no table (as
 * ST_UNWIND_AUTO), else stop there (ST_UNWIND_DWARF). */
void unwind_user_walk(const struct unwind_user_regs *r, const struct unwind_user_stack *stack,
		      unwind_user_find_fn find, void *ctx, bool fp_fallback, __u64 *ips,
		      uint32_t max, struct unwind_user_walk *out);

#endif

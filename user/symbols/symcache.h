/*
 * Parsed objects, shared by every process that maps them: each file is
 * parsed once, lazily, keyed by its identity (objfile.h),
 * together with its separate debug information (debuginfo) and, with lines,
 * its DWARF; the least recently used are dropped beyond a memory budget and
 * parsed again when needed. Turns (object, ELF virtual address) into frames.
 */
#ifndef SYMCACHE_H
#define SYMCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "symbols/dwarf_lines.h"
#include "symbols/elf_syms.h"
#include "procs/procs.h"
#include "model/profile.h"

/* Most frames one address can expand to: the function and its inlined calls. */
#define SYMCACHE_MAX_DEPTH DWARF_MAX_INLINE

/* Parsed objects are kept under this many bytes of tables by default. */
#define SYMCACHE_MEM_BUDGET (512ull << 20)

struct symcache_opts {
	bool no_demangle;	/* keep C++/Rust names mangled */
	bool lines;		/* file:line and inlined frames from DWARF */
	uint64_t mem_budget;	/* bytes of parsed tables kept; 0: SYMCACHE_MEM_BUDGET */
};

struct symcache;
struct sym_obj;

struct symcache *symcache_new(const struct symcache_opts *o);
void symcache_free(struct symcache *c);

/* The object behind file mapping m of process p, opened inside p's root (or
 * through /proc/PID/map_files when deleted or replaced), and remembered in m
 * so that it stays reachable after p exits. NULL if unreadable. */
struct sym_obj *symcache_map_object(struct symcache *c, const struct proc *p, struct proc_map *m);
/* The object of a file of ours (addr2line). NULL if unreadable. */
struct sym_obj *symcache_file(struct symcache *c, const char *path);
/* The kernel's vDSO (ours: the same for every 64-bit process), if a mapping
 * of this size can be it. NULL otherwise. */
struct sym_obj *symcache_vdso(struct symcache *c, uint64_t size);

/* The parsed object (its symbols with those of its debug file), valid
 * until the next call that may load or evict objects. */
const struct elf_obj *symcache_elf(const struct sym_obj *o);

/* File offset -> ELF virtual address. Returns 0 or -ENOENT. */
int symcache_offset_to_vaddr(const struct sym_obj *o, uint64_t off, uint64_t *vaddr);

/* Frames for vaddr in o, outermost first (with lines, the function then the
 * calls inlined in it), module unset. decl: file:line where each function is
 * defined (one tree node per function), else the line of the address and of
 * each call. Strings live until the next call. Returns 0 when nothing names
 * vaddr. */
uint32_t symcache_frames(struct symcache *c, struct sym_obj *o, uint64_t vaddr, bool decl,
			 struct frame *out, uint32_t max);

/* For an address symcache_frames() cannot name: the start of the function
 * holding it, from the object's unwind records (.eh_frame), so that every
 * address of one unnamed function can make one frame. Returns 0, or -ENOENT
 * when no record holds vaddr. */
int symcache_function_start(const struct sym_obj *o, uint64_t vaddr, uint64_t *start);

/* Objects loaded and their symbol count; parses in all (reparses after
 * eviction included) and bytes held now. */
void symcache_stats(const struct symcache *c, uint32_t *objects, uint64_t *symbols);
void symcache_mem(const struct symcache *c, uint64_t *parses, uint64_t *bytes);

#endif

/*
 * Source locations and inlined frames from DWARF (libdw), opened lazily and
 * only when file:line is asked for, so that plain naming stays fast.
 * Compressed debug sections are decompressed by libdw.
 */
#ifndef DWARF_LINES_H
#define DWARF_LINES_H

#include <stdbool.h>
#include <stdint.h>

/* Deepest chain of inlined calls reported at one address. */
#define DWARF_MAX_INLINE 8

struct dwarf_lines;

/* One function at an address: the real one, or a call inlined into it. The
 * strings point into the DWARF data and live as long as the dwarf_lines. */
struct src_frame {
	const char *name;	/* linkage (mangled) name if known, else the plain name; may be NULL */
	const char *file;	/* file of the address (innermost) or of the call (outer frames) */
	uint32_t line;
	const char *decl_file;	/* where the function is defined */
	uint32_t decl_line;
	bool inlined;		/* inlined into the frame before it */
};

/* Opens the DWARF of the ELF file open as fd, which it takes over (closed
 * on failure too). Returns 0 or -ENODATA (no DWARF). */
int dwarf_lines_open_fd(int fd, struct dwarf_lines **out);
void dwarf_lines_free(struct dwarf_lines *d);

/* The functions at vaddr (an ELF virtual address), outermost first: the
 * real function, then each inlined callee. Returns how many (0 when no
 * DWARF covers vaddr), at most max. */
int dwarf_lines_lookup(struct dwarf_lines *d, uint64_t vaddr, struct src_frame *out, int max);

#endif

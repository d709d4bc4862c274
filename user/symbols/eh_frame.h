/*
 * Function ranges from an object's .eh_frame: one [start, end) per FDE (the
 * unwind record the compiler writes for every function, kept by strip), so
 * that code no symbol names can still be told apart by function. The bytes
 * belong to the profiled process: every read is bounds-checked, and a record
 * that cannot be read ends the walk (the ranges read before it are kept).
 */
#ifndef EH_FRAME_H
#define EH_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most ranges kept per object: a large C++ program has a few hundred
 * thousand functions; past this a hostile file only costs memory. */
#define EH_FRAME_MAX_FDES (4u << 20)

struct eh_frame_fde {
	uint64_t start, end;	/* ELF virtual addresses, end exclusive */
};

/* The .eh_frame section as found in the file. */
struct eh_frame_sec {
	const uint8_t *data;
	size_t size;
	uint64_t addr;		/* its ELF virtual address: the base of pc-relative pointers */
	bool is64;		/* ELFCLASS64: absolute pointers are 8 bytes, else 4 */
	bool big_endian;
};

/* Reads the range of every FDE in the encodings linkers write (absolute or
 * pc-relative pointers; others are skipped). Returns how many, with *out
 * (malloc'ed, NULL when none, the caller frees) sorted by start, without
 * empty ranges, each clipped to end where the next starts. */
uint32_t eh_frame_read(const struct eh_frame_sec *sec, struct eh_frame_fde **out);

/* The range holding vaddr in a table eh_frame_read() made, or NULL. */
const struct eh_frame_fde *eh_frame_lookup(const struct eh_frame_fde *fdes, uint32_t nr,
					   uint64_t vaddr);

#endif

/*
 * ELF objects parsed for naming: loadable segments (to turn a file offset
 * into an ELF virtual address) and function symbols (.symtab, with .dynsym
 * as fallback) in a table sorted by address, with the .eh_frame's function
 * ranges for code no symbol names. Parsed once, then immutable.
 * Every read is bounds-checked: the files belong to the profiled process.
 */
#ifndef ELF_SYMS_H
#define ELF_SYMS_H

#include <libelf.h>
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#include "symbols/eh_frame.h"

/* Longest build-id we keep (SHA-1 is 20 bytes; some linkers use up to 32). */
#define ELF_BUILD_ID_MAX 64
/* The page a mapping starts on (x86-64): its file offset (pgoff) is a
 * multiple of it, and may lie below its segment's p_offset. bpf/ustack.bpf.h
 * assumes the same. */
#define ELF_PAGE_SIZE 4096ull

struct elf_sym {
	uint64_t addr;
	uint64_t size;		/* 0: extends to the next symbol */
	uint32_t name;		/* offset into elf_obj.names */
	uint8_t rank;		/* among aliases: 0 global, 1 weak, 2 local, 3 an untyped
				 * label (lowest kept) */
};

struct elf_seg {
	uint64_t offset, vaddr, filesz, memsz;
	uint32_t flags;		/* PF_R, PF_W, PF_X */
};

struct elf_obj {
	char *path;		/* as opened */
	uint16_t type;		/* ET_EXEC, ET_DYN, ... */
	struct elf_seg *segs;	/* PT_LOAD segments */
	uint32_t nr_segs;
	struct elf_sym *syms;	/* sorted by addr, sizes clipped to the next symbol */
	uint32_t nr_syms;
	char *names;		/* NUL-separated names */
	size_t names_len;
	/* Function ranges from .eh_frame (eh_frame.h), where no one symbol
	 * covers the whole range: they name code that symbols do not. */
	struct eh_frame_fde *fdes;
	uint32_t nr_fdes;
	bool has_symtab;	/* symbols came from .symtab (else .dynsym or none) */
	bool has_dwarf;		/* has a .debug_info section */
	uint8_t build_id[ELF_BUILD_ID_MAX];	/* NT_GNU_BUILD_ID, if build_id_len */
	uint8_t build_id_len;
	char *debuglink;	/* .gnu_debuglink file name, or NULL */
	uint32_t debuglink_crc;
	void *debugdata;	/* .gnu_debugdata (xz MiniDebugInfo), copied, or NULL */
	size_t debugdata_len;
};

/* The NT_GNU_BUILD_ID of elf, from its note sections, into id: its length,
 * or 0 when it has none. */
uint8_t elf_build_id(Elf *elf, uint8_t id[ELF_BUILD_ID_MAX]);

/* Parses path (a regular file). Returns 0 and *out, or a negative errno
 * (-ENOENT, -EINVAL not a regular file, -ENOEXEC not ELF or corrupt). */
int elf_obj_open(const char *path, struct elf_obj **out);
/* Same from an open file (not closed); name is kept as its path. */
int elf_obj_open_fd(int fd, const char *name, struct elf_obj **out);
/* Same, from a memory buffer (fuzzing, MiniDebugInfo). Copies what it keeps. */
int elf_obj_from_mem(const void *data, size_t size, const char *name, struct elf_obj **out);
void elf_obj_free(struct elf_obj *o);

/* Replaces o's symbols with those of src (a separate debug file with a full
 * .symtab): the segments of o stay, src's symbols are copied. */
void elf_obj_take_syms(struct elf_obj *o, const struct elf_obj *src);
/* Adds src's symbols to o's (MiniDebugInfo complements .dynsym). */
void elf_obj_merge_syms(struct elf_obj *o, const struct elf_obj *src);

/* The NT_GNU_BUILD_ID of elf (from its SHT_NOTE sections) into id. Returns
 * 0 and *len, or -ENOENT when it has none. */
int elf_read_build_id(Elf *elf, uint8_t id[ELF_BUILD_ID_MAX], uint8_t *len);
/* The PT_LOAD segments of elf whose p_flags have every bit of flags (0: all
 * of them), in header order. Returns 0 and *segs (the caller frees it; NULL
 * when none), or -ENOEXEC. */
int elf_read_segs(Elf *elf, uint32_t flags, struct elf_seg **segs, uint32_t *nr);

/* File offset -> ELF virtual address, the one rule for every module:
 * off - p_offset + p_vaddr of the segment whose file range [p_offset,
 * p_offset + p_filesz) holds off; failing that, of the segment whose first
 * page holds it (the pgoff of a mapping, page-aligned below an unaligned
 * p_offset: give only the segments such a mapping can map, e.g. PF_X for an
 * executable one). Returns 0, or -ENOENT (between segments, past the end). */
int elf_segs_offset_to_vaddr(const struct elf_seg *segs, uint32_t nr, uint64_t off,
			     uint64_t *vaddr);
/* The same over o's segments. */
int elf_obj_offset_to_vaddr(const struct elf_obj *o, uint64_t off, uint64_t *vaddr);

/* The function containing vaddr, or NULL. Symbol sizes are respected: an
 * address past a symbol's end is not that symbol. */
const struct elf_sym *elf_obj_lookup(const struct elf_obj *o, uint64_t vaddr);

/* For an address no symbol holds: the .eh_frame range (one function) holding
 * vaddr, or NULL. */
static inline const struct eh_frame_fde *elf_obj_fde(const struct elf_obj *o, uint64_t vaddr)
{
	return eh_frame_lookup(o->fdes, o->nr_fdes, vaddr);
}

static inline const char *elf_sym_name(const struct elf_obj *o, const struct elf_sym *s)
{
	return o->names + s->name;
}

#endif

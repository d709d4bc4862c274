/*
 * Separate debug information of a stripped object: the file named by its
 * build-id under /usr/lib/debug/.build-id, the file named by .gnu_debuglink
 * (its CRC checked) next to it, in its .debug/ or under /usr/lib/debug, and
 * the xz-compressed MiniDebugInfo embedded in .gnu_debugdata.
 */
#ifndef DEBUGINFO_H
#define DEBUGINFO_H

#include <stddef.h>
#include <stdint.h>

#include "symbols/elf_syms.h"

/* Largest MiniDebugInfo we decompress: real ones are a few hundred KiB. */
#define DEBUGINFO_MAX_MINIDEBUG (64u << 20)

/* Finds and parses the separate debug file of o, whose path is obj_path as
 * seen from the process (e.g. "/usr/bin/ls"); root is the process's root
 * ("" or "/proc/PID/root", see rootfs_open). Looks in the process's root
 * first, then in ours. Returns 0 with *out, the file's path in path_out and
 * the root it is under in *root_out (root or ""), or -ENOENT. A candidate
 * whose build-id or CRC does not match is ignored. */
int debuginfo_find(const struct elf_obj *o, const char *root, const char *obj_path,
		   struct elf_obj **out, char *path_out, size_t path_size, const char **root_out);

/* Decompresses o's .gnu_debugdata and parses it. Returns 0 with *out,
 * -ENOENT if o has none, -ENOEXEC if it is corrupt. */
int debuginfo_minidebug(const struct elf_obj *o, struct elf_obj **out);

/* CRC-32 of a whole file as .gnu_debuglink computes it. Returns 0 or -errno. */
int debuginfo_file_crc(const char *path, uint32_t *crc);
/* Same, of an open file from its start. */
int debuginfo_fd_crc(int fd, uint32_t *crc);

#endif

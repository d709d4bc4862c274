/*
 * Built unwind rows kept on disk, one file per object named by its build-id
 * (/var/cache/sampletop/unwind/<hex build-id>), so that the next run starts
 * warm: loading cc1's rows costs a read and a CRC instead of a parse.
 *
 * The directory is trusted only when it is a real directory (no symlink),
 * owned by us (root) and writable by nobody else, in a directory where no
 * one else can replace it (ours, or root's and sticky); it is created 0700. A
 * file is used only when it is a regular file (O_NOFOLLOW) owned by us,
 * writable by nobody else, and its header (magic, version, build-id, the
 * digest of what the rows were made from, counts bounded by the file's
 * size) and its CRC over everything match; its rows must be sorted and
 * their kinds known. Anything else is a miss: the table is built and the
 * file replaced (written to a temporary file, then renamed). The directory
 * is kept under a size bound by removing the least recently used files
 * (a hit refreshes a file's mtime).
 *
 * Configuration is process-wide, set once at start-up (before tables are
 * built): the default directory, $SAMPLETOP_UNWIND_CACHE (a directory, or
 * "off"), or unwind_cache_configure() (--no-unwind-cache).
 */
#ifndef UNWIND_CACHE_H
#define UNWIND_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "symbols/elf_syms.h"

#define UNWIND_CACHE_DIR "/var/cache/sampletop/unwind"
#define UNWIND_CACHE_ENV "SAMPLETOP_UNWIND_CACHE"
/* The directory's bound: ~30 cc1-sized objects (3.8 MB each), or every
 * library of a desktop. */
#define UNWIND_CACHE_MAX_BYTES (256ull << 20)
/* Most rows a file may claim (a hostile count is refused before any
 * allocation; the file's size must match it too). */
#define UNWIND_CACHE_MAX_ROWS (64u << 20)

struct unwind_table;

/* What a table was made from: the object's build-id and a digest of the
 * bytes and addresses its rows depend on (its CFI sections and executable
 * ranges), so that another file claiming the same build-id does not get
 * them. */
struct unwind_cache_key {
	uint8_t build_id[ELF_BUILD_ID_MAX];
	uint8_t build_id_len;
	uint32_t src_crc;
	uint64_t src_size;
};

/* dir: the cache directory (copied), NULL: no cache; max_bytes: its bound
 * (0: UNWIND_CACHE_MAX_BYTES). Replaces the default and the environment's
 * choice. Not thread-safe: call before any table is built. */
void unwind_cache_configure(const char *dir, uint64_t max_bytes);
/* The directory in use, or NULL when the cache is off. */
const char *unwind_cache_dir(void);

/* Loads the rows stored for key into t (rows, nr_rows, nr_unsupported;
 * the caller adds the rest). Returns 0, -ENOENT (off or not stored),
 * -EPERM (a directory or file we do not trust) or -EBADMSG (a file that
 * does not hold what it should). */
int unwind_cache_load(const struct unwind_cache_key *key, struct unwind_table *t);
/* Stores t's rows for key, then trims the directory to its bound.
 * Returns 0 or a negative errno (nothing is left half-written). */
int unwind_cache_store(const struct unwind_cache_key *key, const struct unwind_table *t);

struct unwind_cache_stats {
	uint64_t hits, misses, rejected, stored, evicted;
};

/* Counts since start-up (rejected: untrusted or corrupt files). */
void unwind_cache_get_stats(struct unwind_cache_stats *s);

#endif

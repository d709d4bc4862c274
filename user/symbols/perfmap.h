/*
 * JIT symbols from perf map files (/tmp/perf-PID.map: "START SIZE NAME" per
 * line, hex), written by Node --perf-basic-prof, Python 3.12 -X perf, Java
 * agents. The file grows while the process runs: new lines are read when a
 * lookup misses. Lines are untrusted: bounded, validated, names kept as bytes.
 *
 * A long-lived JIT grows its map to millions of lines, so reading is
 * incremental: a refresh parses only the bytes appended since the last one,
 * sorts just those and merges them in (sorted runs of decreasing size, each
 * more than twice the next: an append costs O(log n) amortized, never a
 * re-sort of what was read). A map that was truncated or rewritten in place,
 * or replaced by another file under the same path, is read again whole.
 */
#ifndef PERFMAP_H
#define PERFMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line we accept; longer ones are skipped. */
#define PERFMAP_MAX_LINE 4096
/* Most entries kept per process (a JIT can emit millions of tiny stubs). */
#define PERFMAP_MAX_ENTRIES (4u << 20)
/* Sorted runs: sizes more than halve from one to the next, so 64 is never reached. */
#define PERFMAP_MAX_RUNS 64
/* Bytes before the read offset remembered to notice a file rewritten in place. */
#define PERFMAP_TAIL 64
/* How often a refresh that finds nothing new re-opens the path to see
 * whether another file replaced the one we hold (an open under
 * /proc/PID/root costs several syscalls; a miss can come every sample). */
#define PERFMAP_RECHECK_NS 1000000000ull

struct perfmap_sym {
	uint64_t start, size;
	uint32_t name;		/* offset into names */
	uint32_t seq;		/* line number: later lines win over overlapping earlier ones */
};

struct perfmap {
	char *root;		/* opened under this root ("" or /proc/PID/root) */
	char *path;
	int fd;			/* kept open once found: still readable after the
			 * process exits and /proc/PID/root is gone */
	uint64_t dev, ino;	/* fd's file */
	uint64_t read_off;	/* bytes of the file consumed (whole lines) */
	char tail[PERFMAP_TAIL];	/* the tail_len bytes consumed last (before read_off) */
	size_t tail_len;
	bool in_long_line;	/* skipping a line longer than the read buffer */
	uint64_t checked_ns;	/* when the path was last re-opened */
	uint64_t recheck_ns;	/* PERFMAP_RECHECK_NS; 0 re-opens on every empty refresh */
	/* Entries [0, nr): runs[i] is the end of run i, each run sorted by
	 * (start, seq). The fuzzer and tests may read syms[0..nr) in any order. */
	struct perfmap_sym *syms;
	size_t nr, alloc;
	size_t runs[PERFMAP_MAX_RUNS];
	size_t nr_runs;
	struct perfmap_sym *scratch;	/* for merges */
	size_t scratch_alloc;
	char *names;
	size_t names_len, names_alloc;
	uint32_t seq;
	size_t bad_lines;	/* malformed or too long lines skipped */
	size_t dropped;		/* valid lines past PERFMAP_MAX_ENTRIES or 4 GiB of names */
	size_t rereads;		/* times the file was found rewritten or replaced */
};

/* A perf map read from path under root (see rootfs_open); it may not exist yet. */
struct perfmap *perfmap_new(const char *root, const char *path);
void perfmap_free(struct perfmap *pm);

/* Parses complete lines of data, adds them; returns bytes consumed (up to the
 * last newline). Used by perfmap_refresh and the fuzzer. Calls in pieces give
 * the same lookups as one call on the whole. */
size_t perfmap_parse(struct perfmap *pm, const char *data, size_t len);

/* Reads whatever the file gained since the last read (everything again if it
 * was truncated, rewritten or replaced; bad_lines, dropped and the entries
 * then describe the new contents only). Returns the number of entries read,
 * or a negative errno. */
int perfmap_refresh(struct perfmap *pm);

/* The entry containing addr, or NULL. */
const struct perfmap_sym *perfmap_lookup(const struct perfmap *pm, uint64_t addr);

static inline const char *perfmap_name(const struct perfmap *pm, const struct perfmap_sym *s)
{
	return pm->names + s->name;
}

#endif

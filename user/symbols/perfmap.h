/*
 * JIT symbols from perf map files (/tmp/perf-PID.map: "START SIZE NAME" per
 * line, hex), written by Node --perf-basic-prof, Python 3.12 -X perf, Java
 * agents. The file grows while the process runs: new lines are read when a
 * lookup misses. Lines are untrusted: bounded, validated, names kept as bytes.
 */
#ifndef PERFMAP_H
#define PERFMAP_H

#include <stddef.h>
#include <stdint.h>

/* Longest line we accept; longer ones are skipped. */
#define PERFMAP_MAX_LINE 4096
/* Most entries kept per process (a JIT can emit millions of tiny stubs). */
#define PERFMAP_MAX_ENTRIES (4u << 20)

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
	uint64_t read_off;	/* bytes of the file consumed (whole lines) */
	struct perfmap_sym *syms;	/* sorted by start once finished */
	size_t nr, alloc;
	char *names;
	size_t names_len, names_alloc;
	uint32_t seq;
	size_t bad_lines;
};

/* A perf map read from path under root (see rootfs_open); it may not exist yet. */
struct perfmap *perfmap_new(const char *root, const char *path);
void perfmap_free(struct perfmap *pm);

/* Parses complete lines of data, adds them; returns bytes consumed (up to the
 * last newline). Used by perfmap_refresh and the fuzzer. */
size_t perfmap_parse(struct perfmap *pm, const char *data, size_t len);

/* Reads whatever the file gained since the last read. Returns the number of
 * new entries, or a negative errno. */
int perfmap_refresh(struct perfmap *pm);

/* The entry containing addr, or NULL. */
const struct perfmap_sym *perfmap_lookup(const struct perfmap *pm, uint64_t addr);

static inline const char *perfmap_name(const struct perfmap *pm, const struct perfmap_sym *s)
{
	return pm->names + s->name;
}

#endif

/* Unwind table build speed: the tables of the objects named on the command
 * line (NAME PATH pairs), built the old way (one libdw query per row) and
 * from the .eh_frame parser, side by side, best of ROUNDS in CPU time; then
 * through the on-disk cache in argv[1] (a fresh directory): the first build
 * (parse and store) and the second (load). Prints "key: value" lines. Built
 * and run by bench/unwind_build.sh. */
#include "unwind/unwind_cache.h"
#include "unwind/unwind_table.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Best CPU time of rounds builds of path, open and parse included. */
static uint64_t best_of(const char *path, bool libdw, int rounds, uint32_t *rows)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < rounds; i++) {
		int fd = open(path, O_RDONLY);
		Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
		struct unwind_table *t = NULL;
		uint64_t t0 = cpu_ns(), dt;
		int err;

		if (!elf) {
			if (fd >= 0)
				close(fd);
			return 0;
		}
		err = libdw ? unwind_table_build_libdw(elf, &t) : unwind_table_build(elf, &t);
		dt = cpu_ns() - t0;
		if (!err) {
			*rows = t->nr_rows;
			if (dt < best)
				best = dt;
		}
		unwind_table_free(t);
		elf_end(elf);
		close(fd);
	}
	return best == UINT64_MAX ? 0 : best;
}

/* CPU time of one unwind_table_build_path() (the cache's way). */
static uint64_t through_cache(const char *path)
{
	struct unwind_table *t = NULL;
	uint64_t t0 = cpu_ns(), dt;

	if (unwind_table_build_path(path, &t))
		return 0;
	dt = cpu_ns() - t0;
	unwind_table_free(t);
	return dt;
}

int main(int argc, char **argv)
{
	int rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 3;

	elf_version(EV_CURRENT);
	unwind_cache_configure(NULL, 0);
	for (int i = 3; i < argc; i += 2) {
		const char *name = argv[i - 1], *path = argv[i];
		uint32_t rows = 0;
		uint64_t old = best_of(path, true, rounds, &rows);
		uint64_t new = best_of(path, false, rounds, &rows);

		if (!old || !new) {
			printf("unwind_build.%s_skipped: cannot build %s\n", name, path);
			continue;
		}
		printf("unwind_build.%s_rows: %u\n", name, rows);
		printf("unwind_build.%s_ms_libdw: %.1f\n", name, old / 1e6);
		printf("unwind_build.%s_ms_eh_frame: %.1f\n", name, new / 1e6);
		printf("unwind_build.%s_rows_per_s_libdw: %.0f\n", name, rows / (old / 1e9));
		printf("unwind_build.%s_rows_per_s_eh_frame: %.0f\n", name, rows / (new / 1e9));
		printf("unwind_build.%s_speedup: %.1f\n", name, (double)old / new);
	}
	unwind_cache_configure(argv[1], 0);
	for (int i = 3; i < argc; i += 2) {
		uint64_t cold = through_cache(argv[i]), warm = through_cache(argv[i]);

		if (!cold || !warm)
			continue;
		printf("unwind_build.%s_ms_cache_cold: %.1f\n", argv[i - 1], cold / 1e6);
		printf("unwind_build.%s_ms_cache_warm: %.1f\n", argv[i - 1], warm / 1e6);
	}
	return 0;
}

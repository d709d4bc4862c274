/* Symbolizer throughput: cold (parse included) and warm lookups of the
 * addresses on stdin in one file, in CPU time. Prints "key: value" lines. Built and run
 * by bench/symbolize.sh against the userspace objects. */
#include "model/profile.h"
#include "symbols/symbolizer.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CPU time of this process: fair on a machine shared with other work. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct symbolizer_opts so = { 0 };
	struct frame f[SYMBOLIZER_MAX_DEPTH];
	uint64_t *addrs = NULL, t0, t1, named = 0;
	size_t n = 0, alloc = 0;
	unsigned long long a;
	int rounds = argc > 2 ? atoi(argv[2]) : 100;
	struct profile *prof;
	struct symbolizer *s;

	if (argc < 2)
		return 2;
	while (scanf("%llx", &a) == 1) {
		XGROW(addrs, alloc, n + 1);
		addrs[n++] = a;
	}
	prof = profile_new();
	s = symbolizer_new(prof, &so);
	t0 = cpu_ns();
	for (size_t i = 0; i < n; i++)
		named += symbolizer_file(s, argv[1], addrs[i], f, SYMBOLIZER_MAX_DEPTH) > 0;
	t1 = cpu_ns();
	printf("symbolize.inprocess_cold_cpu_seconds: %.4f\n", (t1 - t0) / 1e9);
	printf("symbolize.named: %llu/%zu\n", (unsigned long long)named, n);
	t0 = cpu_ns();
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < n; i++)
			symbolizer_file(s, argv[1], addrs[i], f, SYMBOLIZER_MAX_DEPTH);
	t1 = cpu_ns();
	printf("symbolize.warm_lookups_per_cpu_second: %.0f\n", (double)rounds * n / ((t1 - t0) / 1e9));
	symbolizer_free(s);
	profile_free(prof);
	free(addrs);
	return 0;
}

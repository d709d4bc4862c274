/* A shared library for the symbolizer tests: dlopen'd by symbols.c after
 * sampling started, stripped so that only .dynsym names dl_spin. */
#include <time.h>

volatile unsigned long dl_sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void dl_spin(double secs)
{
	double end = now() + secs;

	while (now() < end)
		for (int i = 0; i < 100000; i++)
			dl_sink = dl_sink * 3 + i;
}

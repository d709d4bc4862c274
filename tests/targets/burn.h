/* The CPU burner shared by the short-lived targets (burn.c, forker.c).
 * BURN_DEFINE(name) defines `void name(double ms)`, which burns ms
 * milliseconds of the process's CPU time in its own frame. */
#ifndef BURN_H
#define BURN_H

#include <time.h>

static volatile unsigned long burn_sink;

static double burn_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The clock is read rarely, so that nearly every sample is in the named
 * function rather than in clock_gettime (whose caller a frame-pointer walk
 * cannot see). */
#define BURN_DEFINE(name)                                       \
	__attribute__((noinline)) void name(double ms)          \
	{                                                       \
		double end = burn_cpu_ms() + ms;                \
                                                                \
		while (burn_cpu_ms() < end)                     \
			for (int i = 0; i < 1000000; i++)       \
				burn_sink += i;                 \
		burn_sink++;                                    \
	}

#endif

/* A short-lived process: burns argv[1] milliseconds of CPU (default 20) in
 * burn_spin, then exits. Launched by the hundred to test that processes
 * that come and go are named. -DBURN_FN=name renames the function (same
 * length, same layout: the pid-reuse test tells two builds apart by it). */
#include <stdlib.h>
#include <time.h>

#ifndef BURN_FN
#define BURN_FN burn_spin
#endif

volatile unsigned long sink;

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) void BURN_FN(double ms)
{
	double end = cpu_ms() + ms;

	/* The clock is read rarely, so that nearly every sample is in here
	 * rather than in clock_gettime (whose caller a frame-pointer walk
	 * cannot see). */
	while (cpu_ms() < end)
		for (int i = 0; i < 1000000; i++)
			sink += i;
	sink++;
}

int main(int argc, char **argv)
{
	BURN_FN(argc > 1 ? atof(argv[1]) : 20);
	return 0;
}

/* A workload with a known profile: hot_a, hot_b and hot_c burn 60%, 30% and
 * 10% of the CPU time through a common leaf. Runs for argv[1] seconds
 * (default 5; 0 = forever), or with "-n ROUNDS" for a fixed amount of work,
 * printing its elapsed seconds (the benchmarks' target). The leaf calls out at its end and the callers do
 * work after their call, so no frame is elided by tail calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UNIT 200000UL

volatile unsigned long sink;

__attribute__((noinline)) void tick(void)
{
	sink++;
}

__attribute__((noinline)) void leaf(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i * i;
	tick();
	sink++;
}

__attribute__((noinline)) void hot_a(void)
{
	leaf(6 * UNIT);
	sink++;
}

__attribute__((noinline)) void hot_b(void)
{
	leaf(3 * UNIT);
	sink++;
}

__attribute__((noinline)) void hot_c(void)
{
	leaf(1 * UNIT);
	sink++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5, end = now() + secs;

	if (argc > 2 && !strcmp(argv[1], "-n")) {
		double start = now();

		for (long i = atol(argv[2]); i > 0; i--) {
			hot_a();
			hot_b();
			hot_c();
		}
		printf("%.6f\n", now() - start);
		return 0;
	}

	while (secs == 0 || now() < end) {
		hot_a();
		hot_b();
		hot_c();
	}
	return 0;
}

/* A fixed amount of CPU-bound work (the 60/30/10 call tree of
 * tests/targets/hot.c, run for a fixed number of rounds rather than a fixed
 * time) that prints its own elapsed seconds: the benchmarks' target. */
#include <stdio.h>
#include <stdlib.h>
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

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 1000;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < rounds; i++) {
		hot_a();
		hot_b();
		hot_c();
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}

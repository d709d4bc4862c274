/*
 * Fixture for naming code that has no symbol: the tests build it with
 * unwind tables (-fasynchronous-unwind-tables), strip it, and expect the
 * samples of strip_hot, spread over its two loops, in one frame named by
 * where its .eh_frame record starts; strip_no_cfi has no such record.
 * Usage: stripped SECONDS
 */
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Two loops of about the same cost: samples land on many addresses of one
 * function. */
__attribute__((noinline)) void strip_hot(unsigned long n)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < n; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	sink = x;
	for (unsigned long i = 0; i < n; i++)
		x = (x ^ (x >> 7)) + i;
	sink = x;
}

/* Hand-written code without an unwind record (no .cfi directives): once
 * stripped, nothing says where it starts. Never called. */
__asm__(".text\n"
	".globl strip_no_cfi\n"
	".type strip_no_cfi, @function\n"
	"strip_no_cfi:\n"
	"	nop\n	nop\n	nop\n	ret\n"
	".size strip_no_cfi, . - strip_no_cfi\n");

int main(int argc, char **argv)
{
	double end = now() + (argc > 1 ? atof(argv[1]) : 1);

	while (now() < end)
		strip_hot(100000);
	return 0;
}

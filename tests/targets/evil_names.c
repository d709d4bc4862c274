/* A workload whose hot function has a hostile name: markup that would run
 * script if a report put names into HTML unescaped. Runs for argv[1]
 * seconds (default 5; 0 = forever). */
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

/* The quotes make the assembler take the name as is. */
__attribute__((noinline)) void evil(unsigned long n)
	__asm__("\"<script>pwned=1</script><img src=x onerror=pwned=1>\"");

__attribute__((noinline)) void evil(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i;
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

	while (secs == 0 || now() < end)
		evil(1000000);
	return 0;
}

/* A busy program whose every sample has a new stack: it recurses 24 deep,
 * each level through one of 8 functions chosen at random, so a profile of
 * it meets ~8^24 distinct stacks (bench/agent_renew.sh: a profile that
 * never forgets grows with it). Runs for argv[1] seconds. */
#include <stdlib.h>
#include <time.h>

#define DEPTH 24

volatile unsigned long sink;
static unsigned int seed = 1;

static void step(int depth);

#define LEVEL(n)                                        \
	__attribute__((noinline)) static void level##n(int depth) \
	{                                               \
		step(depth + 1);                        \
		__asm__ volatile("" ::: "memory");      \
	}
LEVEL(0) LEVEL(1) LEVEL(2) LEVEL(3) LEVEL(4) LEVEL(5) LEVEL(6) LEVEL(7)

static void (*const levels[8])(int) = { level0, level1, level2, level3,
					level4, level5, level6, level7 };

static void step(int depth)
{
	if (depth == DEPTH) {
		for (int i = 0; i < 200000; i++)
			sink += i;
		return;
	}
	levels[rand_r(&seed) & 7](depth);
}

int main(int argc, char **argv)
{
	time_t end = time(NULL) + (argc > 1 ? atol(argv[1]) : 60);

	while (time(NULL) < end)
		step(0);
	return 0;
}

/* A context-switch-heavy target for bench/wall.sh: two threads pass one
 * byte back and forth through two pipes, so that each round trip is two
 * blocking reads (two or more switches). Runs for argv[1] seconds (0: until
 * killed; then it prints nothing), prints its pid on stdout at once and,
 * at the end, "rounds PER_SECOND", "switches PER_SECOND" (its threads'
 * context switches, voluntary or not) and "cpu_ns_per_round N" (its
 * threads' CPU time, user and system, per round trip: what a profiler adds
 * to the switches shows there even on a busy machine, where the round trips
 * per second mostly say how much CPU others left). argv[2] seconds of
 * warm-up first (default 0), not counted. */
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int ping[2], pong[2];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long switches(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *echo(void *arg)
{
	char c;

	while (read(ping[0], &c, 1) == 1)
		if (write(pong[1], &c, 1) != 1)
			break;
	return arg;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5, warm = argc > 2 ? atof(argv[2]) : 0;
	unsigned long rounds = 0;
	long sw0 = 0;
	double cpu0 = 0;
	double t0, t;
	pthread_t th;
	char c = 'x';

	if (pipe(ping) || pipe(pong) || pthread_create(&th, NULL, echo, NULL))
		return 1;
	printf("%d\n", (int)getpid());
	fflush(stdout);
	t0 = now_s();
	for (;;) {
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			return 1;
		/* The clock is read every 1024 rounds: cheap beside the switches. */
		if (++rounds % 1024)
			continue;
		t = now_s();
		if (warm > 0 && t - t0 >= warm) {
			warm = 0;
			rounds = 0;
			sw0 = switches();
			cpu0 = cpu_s();
			t0 = t;
		} else if (secs > 0 && warm <= 0 && t - t0 >= secs) {
			printf("rounds %.0f\nswitches %.0f\ncpu_ns_per_round %.0f\n",
			       rounds / (t - t0), (switches() - sw0) / (t - t0),
			       1e9 * (cpu_s() - cpu0) / rounds);
			return 0;
		}
	}
}

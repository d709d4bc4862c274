/* Two threads that run different functions: "worker_a" spins in spin_a,
 * "worker_b" in spin_b; the main thread sleeps. Runs for argv[1] seconds
 * (default 5; 0 = until killed). argv[2] more threads (default 0) just sleep: a process with
 * thousands of threads. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

volatile unsigned long sink_a, sink_b;

__attribute__((noinline)) void spin_a(void)
{
	for (;;)
		for (unsigned long i = 0; i < 1000000; i++)
			sink_a += i;
}

__attribute__((noinline)) void spin_b(void)
{
	for (;;)
		for (unsigned long i = 0; i < 1000000; i++)
			sink_b += i * 3;
}

static void *run_a(void *arg)
{
	pthread_setname_np(pthread_self(), "worker_a");
	spin_a();
	return arg;
}

static void *run_b(void *arg)
{
	pthread_setname_np(pthread_self(), "worker_b");
	spin_b();
	return arg;
}

static void *run_idle(void *arg)
{
	for (;;)
		pause();
	return arg;
}

int main(int argc, char **argv)
{
	int extra = argc > 2 ? atoi(argv[2]) : 0;
	pthread_attr_t small;
	pthread_t a, b, t;

	pthread_attr_init(&small);
	pthread_attr_setstacksize(&small, 64 * 1024);
	for (int i = 0; i < extra; i++)
		if (pthread_create(&t, &small, run_idle, NULL))
			return 1;
	pthread_create(&a, NULL, run_a, NULL);
	pthread_create(&b, NULL, run_b, NULL);
	if (argc > 1 && atoi(argv[1]) == 0)
		for (;;)
			pause();
	sleep(argc > 1 ? atoi(argv[1]) : 5);
	return 0;
}

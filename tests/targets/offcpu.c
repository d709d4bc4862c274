/* Threads that leave the CPU for known reasons and times, for the --wall
 * tests: "sleeper" naps 50 ms at a time (nanosleep), "piper" blocks on a
 * pipe that the main thread feeds one byte every 100 ms, "locker" waits on
 * a mutex that "holder" keeps for 60 ms at a time (futex), and "spin0",
 * "spin1" share CPU 0 (pinned), so that each waits for the CPU about half
 * the time. Runs for argv[1] seconds (default 10; 0: until killed). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int pipefd[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
volatile unsigned long sink;

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

__attribute__((noinline)) void sleeper_nap(void)
{
	nap_ms(50);
	__asm__ volatile("" ::: "memory");
}

static void *sleeper(void *arg)
{
	pthread_setname_np(pthread_self(), "sleeper");
	for (;;)
		sleeper_nap();
	return arg;
}

__attribute__((noinline)) void pipe_wait(void)
{
	char c;

	if (read(pipefd[0], &c, 1) != 1)
		_exit(1);
	__asm__ volatile("" ::: "memory");
}

static void *piper(void *arg)
{
	pthread_setname_np(pthread_self(), "piper");
	for (;;)
		pipe_wait();
	return arg;
}

__attribute__((noinline)) void lock_wait(void)
{
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
	__asm__ volatile("" ::: "memory");
}

static void *locker(void *arg)
{
	pthread_setname_np(pthread_self(), "locker");
	for (;;) {
		lock_wait();
		nap_ms(1);	/* lets holder take it again: the next wait is a whole hold */
	}
	return arg;
}

static void *holder(void *arg)
{
	pthread_setname_np(pthread_self(), "holder");
	for (;;) {
		pthread_mutex_lock(&lock);
		nap_ms(60);
		pthread_mutex_unlock(&lock);
		nap_ms(5);
	}
	return arg;
}

__attribute__((noinline)) void spin_forever(void)
{
	for (;;)
		sink++;
}

static void *spinner(void *arg)
{
	cpu_set_t one;

	pthread_setname_np(pthread_self(), arg ? "spin1" : "spin0");
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	spin_forever();
	return arg;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10;
	void *(*fns[])(void *) = { sleeper, piper, locker, holder, spinner, spinner };
	struct timespec t0, t;
	pthread_t th;

	if (pipe(pipefd))
		return 1;
	/* holder first, so that locker finds the mutex taken. */
	pthread_create(&th, NULL, holder, NULL);
	nap_ms(5);
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (fns[i] != holder)
			pthread_create(&th, NULL, fns[i], i == 5 ? (void *)1 : NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		nap_ms(100);
		if (write(pipefd[1], "x", 1) != 1)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (secs > 0 && t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			return 0;
	}
}

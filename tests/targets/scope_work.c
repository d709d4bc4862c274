/* --scope's workload: handle_request called a known number of times, each
 * call timed by the program itself (CLOCK_MONOTONIC, the BPF clock).
 * Even calls burn 20 ms of CPU, odd ones sleep 30 ms; every third call
 * recurses twice (one outermost call all the same); between calls 10 ms
 * of CPU outside every call. With "jump", every fifth call leaves by
 * longjmp (its uretprobe never fires).
 *
 * Usage: scope_work CALLS THREADS GO_FILE|- [jump]
 *        scope_work bench M GO_FILE|-   (CPU ns per call of an empty function)
 * Waits for GO_FILE to exist ("-": starts at once), then prints one line
 * per call: "call TID BEGIN_NS END_NS DURATION_NS", the same for each
 * nanosleep ("sleep ..."), and "done" last. */
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int calls, jump;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread jmp_buf escape;
static volatile unsigned long sink;

static unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void burn_ms(unsigned ms)
{
	unsigned long long end = mono_ns() + ms * 1000000ull;

	while (mono_ns() < end)
		for (int i = 0; i < 1000; i++)
			sink += i;
}

__attribute__((noinline)) void handle_request(int i, int depth)
{
	struct timespec ts = { 0, 30 * 1000000 };

	if (depth < 2 && i % 3 == 0) {
		handle_request(i, depth + 1);	/* recursion: still one call */
		burn_ms(1);
		return;
	}
	if (i % 2 == 0) {
		burn_ms(20);
	} else {
		unsigned long long t0 = mono_ns(), t1;

		nanosleep(&ts, NULL);
		t1 = mono_ns();
		pthread_mutex_lock(&out_lock);
		printf("sleep %ld %llu %llu %llu\n", (long)syscall(SYS_gettid), t0, t1, t1 - t0);
		pthread_mutex_unlock(&out_lock);
	}
	if (jump && i % 5 == 4)
		longjmp(escape, 1);
	__asm__ volatile("" ::: "memory");	/* no tail call */
}

/* The probes' cost: an empty call, timed M times in a row. */
__attribute__((noinline)) void tiny_request(int i)
{
	sink += i;
	__asm__ volatile("" ::: "memory");
}

/* CPU time, not wall time: on a busy machine the wait for a CPU is not
 * the probes' (their traps run on the thread's CPU time). */
static unsigned long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void bench(int m)
{
	unsigned long long t0 = cpu_ns();

	for (int i = 0; i < m; i++)
		tiny_request(i);
	printf("ns_per_call %.1f\n", (double)(cpu_ns() - t0) / m);
}

static void *worker(void *arg)
{
	long tid = syscall(SYS_gettid);

	(void)arg;
	for (int i = 0; i < calls; i++) {
		volatile unsigned long long t0, t1;

		burn_ms(10);	/* outside every call */
		t0 = mono_ns();
		if (!setjmp(escape))
			handle_request(i, 0);
		t1 = mono_ns();
		pthread_mutex_lock(&out_lock);
		printf("call %ld %llu %llu %llu\n", tid, t0, t1, t1 - t0);
		pthread_mutex_unlock(&out_lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads;
	pthread_t th[16];

	if (argc < 4)
		return 2;
	if (!strcmp(argv[1], "bench")) {	/* scope_work bench M GO_FILE|- */
		while (strcmp(argv[3], "-") && access(argv[3], F_OK))
			usleep(2000);
		bench(atoi(argv[2]));
		return 0;
	}
	calls = atoi(argv[1]);
	threads = atoi(argv[2]);
	jump = argc > 4 && !strcmp(argv[4], "jump");
	if (threads < 1 || threads > 16)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[3], "-"))
		while (access(argv[3], F_OK))
			usleep(2000);
	for (int t = 1; t < threads; t++)
		pthread_create(&th[t], NULL, worker, NULL);
	worker(NULL);
	for (int t = 1; t < threads; t++)
		pthread_join(th[t], NULL);
	burn_ms(20);	/* outside, after the last call */
	printf("done\n");
	return 0;
}

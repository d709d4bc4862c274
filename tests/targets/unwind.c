/* Stacks whose shape is known, for the unwinder's tests. Built without
 * frame pointers. Usage: unwind MODE [SECONDS] [LIB]
 *   recurse  main;run_recurse;recurse x RECURSE_DEPTH (or LIB, a number);burn
 *   qsort    main;run_qsort;sort_many;<libc qsort frames>;compare_slow;burn
 *   threads  two threads: <libc thread start frames>;worker;burn
 *   signal   main;run_signal;wait_loop;<libc signal trampoline>;on_alarm;burn
 *   syscall  main;run_syscall;write_many;write (samples mostly in the kernel)
 *   dlopen   after 1 s, dlopen(LIB): main;run_chain;lib_outer;lib_middle;chain_callback;burn */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define RECURSE_DEPTH 40

static int recurse_depth = RECURSE_DEPTH;

volatile unsigned long sink;
static volatile int stop;
static double end_time;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int over(void)
{
	return stop || now() >= end_time;
}

__attribute__((noinline)) void burn(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i * i;
	sink++;
}

__attribute__((noinline)) int recurse(int depth)
{
	volatile char pad[24];
	int r;

	pad[0] = depth;
	if (depth == 0) {
		burn(200000);
		return pad[0];
	}
	r = recurse(depth - 1);
	sink += r;
	return r + pad[0];
}

__attribute__((noinline)) void run_recurse(void)
{
	while (!over())
		recurse(recurse_depth - 1);
	sink++;
}

__attribute__((noinline)) int compare_slow(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	burn(300);
	return (x > y) - (x < y);
}

__attribute__((noinline)) void sort_many(void)
{
	int v[512];

	for (int i = 0; i < 512; i++)
		v[i] = rand();
	qsort(v, 512, sizeof(v[0]), compare_slow);
	sink += v[0];
}

__attribute__((noinline)) void run_qsort(void)
{
	while (!over())
		sort_many();
	sink++;
}

__attribute__((noinline)) void *worker(void *arg)
{
	while (!over())
		burn(100000);
	sink++;
	return arg;
}

__attribute__((noinline)) void run_threads(void)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	sink++;
}

__attribute__((noinline)) void on_alarm(int sig)
{
	burn(2000000);
	sink += sig;
}

__attribute__((noinline)) void wait_loop(void)
{
	while (!over())
		burn(1000);
	sink++;
}

__attribute__((noinline)) void run_signal(void)
{
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };

	signal(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &it, NULL);
	wait_loop();
	sink++;
}

__attribute__((noinline)) void write_many(int fd)
{
	static char buf[65536];

	for (int i = 0; i < 64; i++)
		sink += write(fd, buf, sizeof(buf));
}

__attribute__((noinline)) void run_syscall(void)
{
	int fd = open("/dev/null", O_WRONLY);

	while (!over())
		write_many(fd);
	close(fd);
}

__attribute__((noinline)) void chain_callback(void)
{
	burn(100000);
	sink++;
}

__attribute__((noinline)) void run_chain(const char *lib)
{
	void (*outer)(void (*)(void));
	double t0 = now();
	void *h;

	while (now() < t0 + 1)	/* sampled before the library exists */
		burn(1000);
	h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "unwind: %s\n", dlerror());
		exit(1);
	}
	outer = (void (*)(void (*)(void)))dlsym(h, "lib_outer");
	if (!outer)
		exit(1);
	while (!over())
		outer(chain_callback);
	sink++;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "recurse";
	double secs = argc > 2 ? atof(argv[2]) : 5;

	end_time = now() + (secs > 0 ? secs : 1e9);
	if (!strcmp(mode, "recurse")) {
		if (argc > 3 && atoi(argv[3]) > 0)
			recurse_depth = atoi(argv[3]);
		run_recurse();
	}
	else if (!strcmp(mode, "qsort"))
		run_qsort();
	else if (!strcmp(mode, "threads"))
		run_threads();
	else if (!strcmp(mode, "syscall"))
		run_syscall();
	else if (!strcmp(mode, "signal"))
		run_signal();
	else if (!strcmp(mode, "dlopen") && argc > 3)
		run_chain(argv[3]);
	else
		return 2;
	return 0;
}

/* A JIT for bench/perfmap.sh: "compiles" RATE new functions a second (a
 * counted loop copied into anonymous executable memory), appends each to
 * /tmp/perf-PID.map as jit_fn_N and runs the newest, so that nearly every
 * sample lands in code the profiler has not named yet. Before that it runs
 * jit_fn_0 alone for WARMUP seconds (the profiler starts meanwhile); after
 * TOTAL functions it keeps running the last one until killed. PREFILL
 * (default 0) functions are added at once when the growth starts.
 * Usage: perfmap_writer RATE TOTAL WARMUP_SECONDS [PREFILL] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Bytes per function; the code below fits. */
#define SLOT 16
/* Loop turns per call: a few microseconds, so the newest function changes
 * many times between two samples at 1000 Hz. */
#define TURNS 4000

#if defined(__x86_64__)
/* mov %rdi,%rax; 1: dec %rax; jnz 1b; ret */
static const unsigned char code[] = { 0x48, 0x89, 0xf8, 0x48, 0xff, 0xc8, 0x75, 0xfb, 0xc3 };
#elif defined(__aarch64__)
/* 1: subs x0, x0, #1; b.ne 1b; ret */
static const unsigned int code[] = { 0xf1000400, 0x54ffffe1, 0xd65f03c0 };
#else
static const unsigned char code[1];
#define NO_JIT 1
#endif

static char map_path[64];

static void on_term(int sig)
{
	unlink(map_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static char lines[1 << 16];
	unsigned long rate, total, prefill = 0, n = 0;
	double warmup, t0;
	unsigned char *heap;
	FILE *map;
	size_t len = 0;

#ifdef NO_JIT
	fprintf(stderr, "perfmap_writer: no machine code for this architecture\n");
	return 77;
#endif
	if (argc != 4 && argc != 5)
		return 2;
	rate = strtoul(argv[1], NULL, 0);
	total = strtoul(argv[2], NULL, 0);
	warmup = atof(argv[3]);
	if (argc == 5)
		prefill = strtoul(argv[4], NULL, 0);
	if (!rate || !total)
		return 2;
	heap = mmap(NULL, (total + 1) * SLOT, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (heap == MAP_FAILED) {
		perror("perfmap_writer: mmap");
		return 1;
	}
	snprintf(map_path, sizeof(map_path), "/tmp/perf-%d.map", (int)getpid());
	map = fopen(map_path, "w");
	if (!map) {
		perror(map_path);
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	t0 = now() + warmup;
	for (;;) {
		double late = now() - t0;
		unsigned long due = late < 0 ? 1 : 1 + prefill + (unsigned long)(late * rate);
		void (*fn)(unsigned long);

		if (due > total + 1)
			due = total + 1;
		/* Catch up with the schedule, whole lines per write. */
		while (n < due) {
			memcpy(heap + n * SLOT, code, sizeof(code));
			__builtin___clear_cache((char *)heap + n * SLOT, (char *)heap + (n + 1) * SLOT);
			len += snprintf(lines + len, sizeof(lines) - len, "%lx %x jit_fn_%lu\n",
					(unsigned long)(heap + n * SLOT), SLOT, n);
			n++;
			if (len > sizeof(lines) - 64) {
				fwrite(lines, 1, len, map);
				len = 0;
			}
		}
		if (len) {
			fwrite(lines, 1, len, map);
			fflush(map);
			len = 0;
		}
		fn = (void (*)(unsigned long))(heap + (n - 1) * SLOT);
		fn(TURNS);
	}
}

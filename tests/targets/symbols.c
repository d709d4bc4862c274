/*
 * Fixture for the symbolizer tests: burns CPU in functions whose names the
 * tests assert. Usage: symbols MODE SECONDS [ARG]
 *   hot      spin in sym_hot_work (and the inlined sym_inline_leaf)
 *   gap      spin in code past the end of a sized symbol (must stay unnamed)
 *   dlopen   after 0.5 s, dlopen ARG (a library) and spin in its dl_spin
 *   vdso     call clock_gettime in a loop (time spent in the [vdso])
 *   jit      copy a spin loop into anonymous memory, name it in
 *            /tmp/perf-PID.map (PID as seen in our namespace), spin there;
 *            halfway, a second copy is added to the file and run; ARG
 *            names the first one (default jit_first_fn)
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

volatile unsigned long sink;

static inline __attribute__((always_inline)) unsigned long sym_inline_leaf(unsigned long x)
{
	for (int i = 0; i < 1000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	return x;
}

/* Keeps sym_hot_work a non-leaf, so that it sets up a frame pointer. */
__attribute__((noinline)) void sym_store(unsigned long x)
{
	sink = x;
}

__attribute__((noinline)) void sym_hot_work(void)
{
	unsigned long x = sink;

	for (int i = 0; i < 200; i++)
		x = sym_inline_leaf(x) ^ (x >> 7);
	sym_store(x);
}

/* A function of size 1 followed by code that belongs to no symbol at all
 * (its label is local, .L, so not in the symbol table): addresses in it are
 * past sized_fn's end. gap_code() returns its address. */
void (*gap_code(void))(unsigned long);
__asm__(".text\n"
	".globl sized_fn\n"
	".type sized_fn, @function\n"
	"sized_fn:\n"
	"	ret\n"
	".size sized_fn, 1\n"
	".Lgap:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"1:	dec %rdi\n"
	"	jnz 1b\n"
	"	pop %rbp\n"
	"	ret\n"
	".globl gap_code\n"
	".type gap_code, @function\n"
	"gap_code:\n"
	"	lea .Lgap(%rip), %rax\n"
	"	ret\n"
	".size gap_code, . - gap_code\n");

/* push rbp; mov rbp, rsp; movabs rcx, 0x100000; 1: dec rcx; jnz 1b; pop rbp; ret */
static const unsigned char jit_code[] = { 0x55, 0x48, 0x89, 0xe5, 0x48, 0xb9, 0, 0, 0x10, 0, 0,
					  0, 0, 0, 0x48, 0xff, 0xc9, 0x75, 0xfb, 0x5d, 0xc3 };

static void *jit_emit(FILE *map, const char *name)
{
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memcpy(p, jit_code, sizeof(jit_code));
	fprintf(map, "%lx %zx %s\n", (unsigned long)(uintptr_t)p, sizeof(jit_code), name);
	fflush(map);
	return p;
}

static void run_jit(double secs, const char *first_name)
{
	char path[64];
	FILE *map;
	void (*fn)(void);
	double end = now() + secs, half = now() + secs / 2;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	map = fopen(path, "w");
	if (!map) {
		perror(path);
		exit(1);
	}
	fn = (void (*)(void))jit_emit(map, first_name);
	while (now() < half)
		fn();
	/* Two lines no perf map reader can take: skipped, and counted. */
	fputs("not a perf map line\n", map);
	fputs("zz 10 bad_hex\n", map);
	fn = (void (*)(void))jit_emit(map, "jit_second_fn [grown]");
	while (now() < end)
		fn();
	fclose(map);
	unlink(path);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "hot";
	double secs = argc > 2 ? atof(argv[2]) : 5, end = now() + secs;

	if (!strcmp(mode, "hot")) {
		while (now() < end)
			sym_hot_work();
	} else if (!strcmp(mode, "gap")) {
		void (*gap)(unsigned long) = gap_code();

		while (now() < end)
			gap(1000000);
	} else if (!strcmp(mode, "dlopen")) {
		void *h;
		void (*spin)(double);

		while (now() < end - secs + 0.5)
			usleep(10000);
		h = dlopen(argc > 3 ? argv[3] : "", RTLD_NOW);
		if (!h || !(spin = (void (*)(double))dlsym(h, "dl_spin"))) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			return 1;
		}
		spin(end - now());
	} else if (!strcmp(mode, "vdso")) {
		struct timespec ts;

		while (now() < end)
			for (int i = 0; i < 1000; i++)
				clock_gettime(CLOCK_MONOTONIC, &ts);
	} else if (!strcmp(mode, "jit")) {
		run_jit(secs, argc > 3 ? argv[3] : "jit_first_fn");
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}

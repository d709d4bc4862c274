/* A thread-pool server for the --wall acceptance test (tests/integration/
 * test_wall.sh). A "client" thread feeds requests through a queue to
 * NWORKERS "worker" threads; handle_request spends known amounts:
 *   parse_request  PARSE_MS of this thread's CPU time (spinning on its CPU
 *                  clock, so that preemption shows as waiting for a CPU:
 *                  more workers than the 2 CPUs are runnable at once),
 *   nanosleep      SLEEP_MS,
 *   a mutex        that the "holder" thread keeps HOLD_MS at a time,
 *   a pipe read    its "writer" thread writes PIPE_MS after being asked.
 * Each request measures its own parts and writes one line to argv[1]:
 *   begin_ns end_ns wall cpu parse_wall parse_cpu sleep lock pipe tid
 * (begin_ns and end_ns CLOCK_REALTIME, the rest ns of CLOCK_MONOTONIC or of
 * the thread's CPU clock). IDLE threads wait on a condition that is never
 * signalled (an idle pool), and the main thread joins: both never run.
 * Runs until killed (or argv[2] seconds). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NWORKERS 4
#define NIDLE 3
#define QUEUE_LEN 8
#define PARSE_MS 12
#define SLEEP_MS 6
#define HOLD_MS 5
#define GAP_MS 1
#define PIPE_MS 4

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qnonempty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t qnonfull = PTHREAD_COND_INITIALIZER;
static int queue[QUEUE_LEN], qhead, qlen;

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;	/* the holder's */
static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *out;
volatile uint64_t sink;

struct worker {
	int ask[2];		/* worker -> writer: "write in PIPE_MS" */
	int reply[2];		/* writer -> worker */
};
static struct worker workers[NWORKERS];

static uint64_t clock_of(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

/* PARSE_MS of this thread's CPU time. */
__attribute__((noinline)) void parse_request(int req)
{
	uint64_t end = clock_of(CLOCK_THREAD_CPUTIME_ID) + PARSE_MS * 1000000ull;

	while (clock_of(CLOCK_THREAD_CPUTIME_ID) < end)
		for (int i = 0; i < 1000; i++)
			sink += (uint64_t)i * (uint64_t)req;
}

struct times {
	uint64_t parse_wall, parse_cpu, sleep, lock, pipe;
};

__attribute__((noinline)) void handle_request(struct worker *w, int req, struct times *t)
{
	uint64_t a, c;
	char b = 'x';

	a = clock_of(CLOCK_MONOTONIC);
	c = clock_of(CLOCK_THREAD_CPUTIME_ID);
	parse_request(req);
	t->parse_cpu = clock_of(CLOCK_THREAD_CPUTIME_ID) - c;
	t->parse_wall = clock_of(CLOCK_MONOTONIC) - a;

	a = clock_of(CLOCK_MONOTONIC);
	nap_ms(SLEEP_MS);
	t->sleep = clock_of(CLOCK_MONOTONIC) - a;

	a = clock_of(CLOCK_MONOTONIC);
	pthread_mutex_lock(&shared);
	t->lock = clock_of(CLOCK_MONOTONIC) - a;
	pthread_mutex_unlock(&shared);

	if (write(w->ask[1], &b, 1) != 1)
		abort();
	a = clock_of(CLOCK_MONOTONIC);
	if (read(w->reply[0], &b, 1) != 1)
		abort();
	t->pipe = clock_of(CLOCK_MONOTONIC) - a;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_setname_np(pthread_self(), "worker");
	for (;;) {
		struct times t;
		uint64_t b, e, a, c;
		int req;

		pthread_mutex_lock(&qlock);
		while (!qlen)
			pthread_cond_wait(&qnonempty, &qlock);
		req = queue[qhead];
		qhead = (qhead + 1) % QUEUE_LEN;
		qlen--;
		pthread_cond_signal(&qnonfull);
		pthread_mutex_unlock(&qlock);

		b = clock_of(CLOCK_REALTIME);
		a = clock_of(CLOCK_MONOTONIC);
		c = clock_of(CLOCK_THREAD_CPUTIME_ID);
		handle_request(w, req, &t);
		c = clock_of(CLOCK_THREAD_CPUTIME_ID) - c;
		a = clock_of(CLOCK_MONOTONIC) - a;
		e = clock_of(CLOCK_REALTIME);
		pthread_mutex_lock(&out_lock);
		fprintf(out, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %d\n",
			(unsigned long long)b, (unsigned long long)e, (unsigned long long)a,
			(unsigned long long)c, (unsigned long long)t.parse_wall,
			(unsigned long long)t.parse_cpu, (unsigned long long)t.sleep,
			(unsigned long long)t.lock, (unsigned long long)t.pipe, gettid());
		fflush(out);
		pthread_mutex_unlock(&out_lock);
	}
	return NULL;
}

/* Answers each ask PIPE_MS later. */
static void *writer_main(void *arg)
{
	struct worker *w = arg;
	char b;

	pthread_setname_np(pthread_self(), "writer");
	while (read(w->ask[0], &b, 1) == 1) {
		nap_ms(PIPE_MS);
		if (write(w->reply[1], &b, 1) != 1)
			abort();
	}
	return NULL;
}

static void *holder_main(void *arg)
{
	pthread_setname_np(pthread_self(), "holder");
	for (;;) {
		pthread_mutex_lock(&shared);
		nap_ms(HOLD_MS);
		pthread_mutex_unlock(&shared);
		nap_ms(GAP_MS);
	}
	return arg;
}

/* Keeps the queue full: the workers never wait for work. */
static void *client_main(void *arg)
{
	pthread_setname_np(pthread_self(), "client");
	for (int req = 1;; req++) {
		pthread_mutex_lock(&qlock);
		while (qlen == QUEUE_LEN)
			pthread_cond_wait(&qnonfull, &qlock);
		queue[(qhead + qlen) % QUEUE_LEN] = req;
		qlen++;
		pthread_cond_signal(&qnonempty);
		pthread_mutex_unlock(&qlock);
	}
	return arg;
}

static void *idle_main(void *arg)
{
	pthread_setname_np(pthread_self(), "idle");
	pthread_mutex_lock(&idle_lock);
	for (;;)
		pthread_cond_wait(&never, &idle_lock);
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 2 || !(out = fopen(argv[1], "w"))) {
		fprintf(stderr, "usage: wall_pool OUTFILE [SECONDS]\n");
		return 2;
	}
	for (int i = 0; i < NIDLE; i++)
		pthread_create(&t, NULL, idle_main, NULL);
	for (int i = 0; i < NWORKERS; i++) {
		if (pipe(workers[i].ask) || pipe(workers[i].reply))
			return 1;
		pthread_create(&t, NULL, writer_main, &workers[i]);
		pthread_create(&t, NULL, worker_main, &workers[i]);
	}
	pthread_create(&t, NULL, holder_main, NULL);
	pthread_create(&t, NULL, client_main, NULL);
	if (argc > 2) {
		nap_ms(atol(argv[2]) * 1000);
		return 0;
	}
	pthread_join(t, NULL);
	return 0;
}

/* The maps snapshot thread: reads the maps of exec'd processes at once. */
#include "procs/snapshot.h"
#include "procs/procfs.h"
#include "sampletop.h"
#include "base/util.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Longest wait of the thread: how soon it notices snapshots_stop. */
#define SNAPSHOT_POLL_MS 50
/* The thread runs real-time (SCHED_FIFO, lowest priority), so that a woken
 * read preempts the busy processes it is about: one that lives 2 ms is read
 * before it exits (at normal priority 5-8% of their samples were lost on a
 * busy machine). Its reads are short; should they take more than this share
 * of a CPU over a window (an exec storm), the next window runs at normal
 * priority. */
#define SNAPSHOT_RT_WINDOW_NS (100 * 1000000ull)
#define SNAPSHOT_RT_BUDGET_NS (25 * 1000000ull)
/* A process is read at each of its first ST_FRESH_WAKES samples: its maps
 * file stays open in between (one open and start-time check per process,
 * not per read), for at most this many processes at a time. */
#define SNAPSHOT_MAX_FDS 64

struct snap {
	uint32_t pid;
	uint64_t start_ns;
	char *text;		/* NULL once taken (or not read) */
	uint64_t read_ns;	/* when the read of text began */
	int maps_fd;		/* its /proc/PID/maps, kept for its next reads, or -1 */
	uint8_t reads;		/* reads so far */
};

struct snapshots {
	pthread_t thread;
	atomic_bool stop;
	struct ring_buffer *rb;
	pthread_mutex_t lock;	/* guards ring[] */
	struct snap ring[SNAPSHOTS_MAX];	/* FIFO: the oldest at first */
	size_t first, nr;
	size_t nr_fds;		/* maps_fd kept open */
	uint64_t ns_per_tick;
};

/* Opens the maps of (pid, start_ns) if /proc/PID is that process: through
 * its /proc/PID directory, so the file is that process's whatever happens
 * to the pid after the check. Returns the fd or a negative errno. */
static int open_maps(uint32_t pid, uint64_t start_ns, uint64_t ns_per_tick)
{
	int dir = proc_open(pid, start_ns / ns_per_tick), fd;

	if (dir < 0)
		return dir;
	fd = openat(dir, "maps", O_RDONLY | O_CLOEXEC);
	fd = fd < 0 ? -errno : fd;
	close(dir);
	return fd;
}

/* The maps text of a process's open maps file, or NULL once it has none
 * (exited: its memory is gone). */
static char *read_maps_fd(int fd)
{
	char *text = NULL;
	size_t len = 0;

	if (proc_maps_text_fd(fd, &text, &len))
		return NULL;
	if (!len) {
		free(text);
		return NULL;
	}
	return text;
}

char *snapshot_read(uint32_t pid, uint64_t start_ns, uint64_t ns_per_tick)
{
	int fd = open_maps(pid, start_ns, ns_per_tick);
	char *text;

	if (fd < 0)
		return NULL;
	text = read_maps_fd(fd);
	close(fd);
	return text;
}

static struct snap *find(struct snapshots *s, uint32_t pid, uint64_t start_ns)
{
	for (size_t i = 0; i < s->nr; i++) {
		struct snap *e = &s->ring[(s->first + i) % SNAPSHOTS_MAX];

		if (e->pid == pid && e->start_ns == start_ns)
			return e;
	}
	return NULL;
}

/* Drops e's kept maps file. Under the lock. */
static void drop_fd(struct snapshots *s, struct snap *e)
{
	if (e->maps_fd < 0)
		return;
	close(e->maps_fd);
	e->maps_fd = -1;
	s->nr_fds--;
}

/* Reads the process now and keeps the text (the entry may have been
 * pushed out meanwhile: then the text is dropped). Its maps file, opened at
 * its first read, is kept for its next ones. */
static void refresh(struct snapshots *s, uint32_t pid, uint64_t start_ns)
{
	uint64_t read_ns = now_ns();
	struct snap *e;
	char *text = NULL;
	bool got;
	int fd = -1;

	pthread_mutex_lock(&s->lock);
	e = find(s, pid, start_ns);
	if (e && e->maps_fd >= 0) {
		fd = e->maps_fd;	/* ours while we read */
		e->maps_fd = -1;
		s->nr_fds--;
	}
	pthread_mutex_unlock(&s->lock);
	if (fd >= 0 && !(text = read_maps_fd(fd))) {
		/* The memory it was opened on is gone: the process exec'd (or
		 * exited). Open it again: the new image's maps, or nothing. */
		close(fd);
		fd = -1;
	}
	if (fd < 0 && (fd = open_maps(pid, start_ns, s->ns_per_tick)) >= 0)
		text = read_maps_fd(fd);
	got = text != NULL;

	pthread_mutex_lock(&s->lock);
	e = find(s, pid, start_ns);
	if (e && text) {
		free(e->text);
		e->text = text;
		e->read_ns = read_ns;
		text = NULL;
	}
	/* Kept while more reads may come and it still reads something. */
	if (e && got && ++e->reads < ST_FRESH_WAKES && s->nr_fds < SNAPSHOT_MAX_FDS) {
		e->maps_fd = fd;
		s->nr_fds++;
		fd = -1;
	}
	pthread_mutex_unlock(&s->lock);
	if (fd >= 0)
		close(fd);
	free(text);
}

static int on_exec(void *ctx, void *data, size_t size)
{
	struct snapshots *s = ctx;
	const struct st_exec *x = data;
	struct snap *e;

	if (size < sizeof(*x))
		return 0;
	pthread_mutex_lock(&s->lock);
	e = find(s, x->tgid, x->start_ns);
	if (!e) {
		if (s->nr == SNAPSHOTS_MAX) {
			drop_fd(s, &s->ring[s->first]);
			free(s->ring[s->first].text);
			s->first = (s->first + 1) % SNAPSHOTS_MAX;
			s->nr--;
		}
		e = &s->ring[(s->first + s->nr++) % SNAPSHOTS_MAX];
		*e = (struct snap){ .pid = x->tgid, .start_ns = x->start_ns, .maps_fd = -1 };
	}
	pthread_mutex_unlock(&s->lock);
	refresh(s, x->tgid, x->start_ns);
	return 0;
}

/* SCHED_FIFO at the lowest priority, or back to normal; true if done. */
static bool set_realtime(bool on)
{
	struct sched_param sp = { .sched_priority = on ? 1 : 0 };

	return pthread_setschedparam(pthread_self(), on ? SCHED_FIFO : SCHED_OTHER, &sp) == 0;
}

static void *run(void *arg)
{
	struct snapshots *s = arg;
	uint64_t window_end = 0, cpu_start = 0;
	bool rt = false;

	while (!atomic_load(&s->stop)) {
		uint64_t now = now_ns();

		/* Each window: real-time while the last one stayed in budget. */
		if (now >= window_end) {
			bool want = thread_cpu_ns() - cpu_start < SNAPSHOT_RT_BUDGET_NS;

			if (want != rt)
				rt = set_realtime(want) ? want : rt;
			window_end = now + SNAPSHOT_RT_WINDOW_NS;
			cpu_start = thread_cpu_ns();
		}
		if (ring_buffer__poll(s->rb, SNAPSHOT_POLL_MS) < 0 && errno != EINTR)
			break;
	}
	return NULL;
}

int snapshots_start(int ring_fd, struct snapshots **out)
{
	struct snapshots *s = xcalloc(1, sizeof(*s));
	long hz = sysconf(_SC_CLK_TCK);
	int err;

	s->ns_per_tick = 1000000000ull / (hz > 0 ? hz : 100);
	pthread_mutex_init(&s->lock, NULL);
	s->rb = ring_buffer__new(ring_fd, on_exec, s, NULL);
	if (!s->rb) {
		err = -errno;
		goto out_free;
	}
	err = -pthread_create(&s->thread, NULL, run, s);
	if (err)
		goto out_free;
	*out = s;
	return 0;
out_free:
	ring_buffer__free(s->rb);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return err;
}

void snapshots_stop(struct snapshots *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	ring_buffer__free(s->rb);
	for (size_t i = 0; i < s->nr; i++) {
		drop_fd(s, &s->ring[(s->first + i) % SNAPSHOTS_MAX]);
		free(s->ring[(s->first + i) % SNAPSHOTS_MAX].text);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

char *snapshots_take(struct snapshots *s, uint32_t pid, uint64_t start_ns, uint64_t *read_ns)
{
	struct snap *e;
	char *text = NULL;

	if (!s)
		return NULL;
	pthread_mutex_lock(&s->lock);
	e = find(s, pid, start_ns);
	if (e) {
		text = e->text;
		e->text = NULL;
		if (read_ns)
			*read_ns = e->read_ns;
	}
	pthread_mutex_unlock(&s->lock);
	return text;
}

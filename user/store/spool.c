/* The agent's spool: an ordered, bounded queue of windows in memory and then
 * in files, and the thread that sends them with back-off (see spool.h). */
#include "store/spool.h"
#include "base/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * A spool file: a fixed header, then the payload. Little-endian u64s:
 * magic, seq, start_ns, samples, payload length, payload hash, header hash
 * (of the 48 bytes before it). Both hashes are FNV-1a: they catch a torn or
 * edited file, not an attacker (the directory is ours and 0700).
 */
#define SPOOL_MAGIC "STSPOOL\x01"
#define SPOOL_HDR 56
#define SPOOL_SUFFIX ".win"
/* 20 digits: every u64 id; names sort as numbers. */
#define SPOOL_ID_DIGITS 20
#define SPOOL_LOCK "lock"
/* Drops not yet carried by a delivered window, kept across restarts. */
#define SPOOL_DROPPED "dropped"

struct spool_entry {
	struct spool_entry *next;
	struct spool_meta meta;
	uint64_t id;		/* orders the files across runs */
	void *data;		/* the payload in memory; NULL when on disk */
	size_t len;		/* payload bytes */
	uint64_t file_bytes;	/* on disk: the file's size; else 0 */
	bool out;		/* taken by the sender */
	bool spilling;		/* being written to disk by the sender, unlocked */
};

struct spool {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a push, a done, a drain, the shutdown */
	struct spool_entry *head, *tail;
	char *dir;
	int dirfd, lockfd;		/* -1 without a directory */
	uint64_t mem_max, disk_max;
	unsigned backoff_min, backoff_max;
	uint64_t next_id;
	uint64_t pend_windows, pend_samples;	/* drops not yet carried */
	struct spool_stats st;
	bool shutdown, taken;
	/* With the sender running, files are written by its thread only (the
	 * window thread never waits on the disk): spills, and the drop count
	 * (dropped_dirty says it changed). */
	bool async, dropped_dirty;
	unsigned drains;		/* spool_drain() calls: each cuts a back-off short */
	void *taken_buf;		/* the file read back for the taken window */
	struct spool_sender snd;
	pthread_t thread;
	bool thread_started;
};

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int spool_file_parse(const void *buf, size_t size, struct spool_meta *m, const void **data,
		     size_t *len, const char **why)
{
	const unsigned char *p = buf;
	uint64_t n;

	if (size < SPOOL_HDR) {
		*why = "truncated header";
		return -EBADMSG;
	}
	if (memcmp(p, SPOOL_MAGIC, 8)) {
		*why = "not a spool file (bad magic)";
		return -EBADMSG;
	}
	if (get_u64(p + 48) != hash_bytes(p, 48, HASH_SEED)) {
		*why = "header checksum mismatch";
		return -EBADMSG;
	}
	n = get_u64(p + 32);
	if (n != size - SPOOL_HDR) {
		*why = n > size - SPOOL_HDR ? "truncated payload" : "trailing bytes";
		return -EBADMSG;
	}
	if (get_u64(p + 40) != hash_bytes(p + SPOOL_HDR, n, HASH_SEED)) {
		*why = "payload checksum mismatch";
		return -EBADMSG;
	}
	m->seq = get_u64(p + 8);
	m->start_ns = get_u64(p + 16);
	m->samples = get_u64(p + 24);
	*data = p + SPOOL_HDR;
	*len = n;
	return 0;
}

static void file_name(uint64_t id, char *buf, size_t n)
{
	snprintf(buf, n, "%0*" PRIu64 SPOOL_SUFFIX, SPOOL_ID_DIGITS, id);
}

/* The id of a spool file's name, or -1 for any other name. */
static int64_t parse_name(const char *name)
{
	uint64_t id = 0;

	for (int i = 0; i < SPOOL_ID_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		if (id > (UINT64_MAX - 9) / 10)
			return -1;
		id = id * 10 + (name[i] - '0');
	}
	if (strcmp(name + SPOOL_ID_DIGITS, SPOOL_SUFFIX) || id > INT64_MAX)
		return -1;
	return id;
}

/* Writes name in the directory all or nothing. Returns 0 or -errno. */
static int write_at(struct spool *s, const char *name, const void *a, size_t alen, const void *b,
		    size_t blen)
{
	struct strbuf path = STRBUF_INIT;
	struct outfile of;
	int err;

	strbuf_addf(&path, "%s/%s", s->dir, name);
	err = outfile_open(&of, path.buf, 0);
	strbuf_release(&path);
	if (err)
		return err;
	fchmod(of.fd, 0600);
	if (alen)
		fwrite(a, 1, alen, of.f);
	if (blen)
		fwrite(b, 1, blen, of.f);
	return outfile_commit(&of);
}

static int write_entry(struct spool *s, struct spool_entry *e)
{
	unsigned char h[SPOOL_HDR];
	char name[64];
	int err;

	memcpy(h, SPOOL_MAGIC, 8);
	put_u64(h + 8, e->meta.seq);
	put_u64(h + 16, e->meta.start_ns);
	put_u64(h + 24, e->meta.samples);
	put_u64(h + 32, e->len);
	put_u64(h + 40, hash_bytes(e->data, e->len, HASH_SEED));
	put_u64(h + 48, hash_bytes(h, 48, HASH_SEED));
	file_name(e->id, name, sizeof(name));
	err = write_at(s, name, h, sizeof(h), e->data, e->len);
	if (!err)
		e->file_bytes = SPOOL_HDR + e->len;
	return err;
}

/*
 * Reads a spool file whole, refusing anything but a regular file of ours
 * that fits the disk cap. Returns 0 with *buf (malloc'ed) and *size, or a
 * negative errno with why.
 */
static int read_at(struct spool *s, const char *name, void **buf, size_t *size, const char **why)
{
	struct stat st;
	char *p = NULL;
	size_t done = 0;
	int fd, err = 0;

	fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*why = errno == ELOOP ? "a symbolic link" : strerror(errno);
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		*why = strerror(errno);
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		err = -EINVAL;
		goto out_close;
	}
	if (st.st_uid != geteuid()) {
		*why = "owned by another user";
		err = -EPERM;
		goto out_close;
	}
	if ((uint64_t)st.st_size > s->disk_max + SPOOL_HDR) {
		*why = "larger than the spool's cap";
		err = -EFBIG;
		goto out_close;
	}
	p = xmalloc(st.st_size ? st.st_size : 1);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, p + done, st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*why = n < 0 ? strerror(errno) : "shrank while read";
			err = n < 0 ? -errno : -EIO;
			free(p);
			goto out_close;
		}
		done += n;
	}
	*buf = p;
	*size = done;
out_close:
	close(fd);
	return err;
}

/* A file that failed a check: renamed aside (never sent, never counted in
 * the cap again), or removed when even that fails. */
static void set_aside(struct spool *s, const char *name, const char *why, struct strbuf *warn)
{
	char bad[96];

	snprintf(bad, sizeof(bad), "%s.bad", name);
	if (renameat(s->dirfd, name, s->dirfd, bad) < 0)
		unlinkat(s->dirfd, name, 0);
	s->st.corrupt++;
	if (warn) {
		strbuf_addf(warn, "spool file %s/", s->dir);
		strbuf_add_escaped(warn, name);
		strbuf_addf(warn, " skipped: %s (kept as %s.bad)\n", why, name);
	}
}

/* Reads and checks window file id: 0 with *buf (malloc'ed, the caller
 * frees it), *m and the payload in it, or a negative errno with why. */
static int read_window(struct spool *s, uint64_t id, void **buf, struct spool_meta *m,
		       const void **data, size_t *len, const char **why)
{
	char name[64];
	size_t size;
	int r;

	*buf = NULL;
	file_name(id, name, sizeof(name));
	r = read_at(s, name, buf, &size, why);
	if (!r)
		r = spool_file_parse(*buf, size, m, data, len, why);
	if (r) {
		free(*buf);
		*buf = NULL;
	}
	return r;
}

static void write_dropped(struct spool *s, uint64_t windows, uint64_t samples)
{
	char buf[64];
	int n;

	if (!windows) {
		unlinkat(s->dirfd, SPOOL_DROPPED, 0);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%" PRIu64 " %" PRIu64 "\n", windows, samples);
	write_at(s, SPOOL_DROPPED, buf, n, NULL, 0);
}

/* The drop count changed (lock held): written now, or by the sender. */
static void save_dropped(struct spool *s)
{
	if (s->dirfd < 0)
		return;
	if (s->async)
		s->dropped_dirty = true;
	else
		write_dropped(s, s->pend_windows, s->pend_samples);
}

/* The sender's part of save_dropped (lock not held). */
static void flush_dropped(struct spool *s)
{
	uint64_t w, smp;

	pthread_mutex_lock(&s->lock);
	if (!s->dropped_dirty) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	s->dropped_dirty = false;
	w = s->pend_windows;
	smp = s->pend_samples;
	pthread_mutex_unlock(&s->lock);
	write_dropped(s, w, smp);
}

static void load_dropped(struct spool *s, struct strbuf *warn)
{
	void *buf = NULL;
	size_t size;
	const char *why;
	char text[64];
	unsigned long long w, smp;
	char extra;

	if (faccessat(s->dirfd, SPOOL_DROPPED, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (read_at(s, SPOOL_DROPPED, &buf, &size, &why) == 0) {
		if (size < sizeof(text)) {
			memcpy(text, buf, size);
			text[size] = 0;
			if (sscanf(text, "%llu %llu%c", &w, &smp, &extra) == 3 && extra == '\n') {
				s->pend_windows = w;
				s->pend_samples = smp;
				s->st.dropped_undelivered = w;
				free(buf);
				return;
			}
		}
		why = "not two numbers";
	}
	free(buf);
	set_aside(s, SPOOL_DROPPED, why, warn);
}

static void link_tail(struct spool *s, struct spool_entry *e)
{
	e->next = NULL;
	if (s->tail)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	s->st.queued++;
	s->st.queued_bytes += e->len;
}

static void unlink_entry(struct spool *s, struct spool_entry *e)
{
	struct spool_entry **pp = &s->head, *prev = NULL;

	while (*pp != e) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	*pp = e->next;
	if (s->tail == e)
		s->tail = prev;
	s->st.queued--;
	s->st.queued_bytes -= e->len;
	if (e->data) {
		s->st.mem_windows--;
		s->st.mem_bytes -= e->len;
	} else {
		s->st.disk_windows--;
		s->st.disk_bytes -= e->file_bytes;
	}
}

/* Removes an entry and its file. */
static void free_entry(struct spool *s, struct spool_entry *e)
{
	char name[64];

	unlink_entry(s, e);
	if (!e->data && s->dirfd >= 0) {
		file_name(e->id, name, sizeof(name));
		unlinkat(s->dirfd, name, 0);
	}
	free(e->data);
	free(e);
}

static void drop_entry(struct spool *s, struct spool_entry *e)
{
	s->st.dropped_windows++;
	s->st.dropped_samples += e->meta.samples;
	s->pend_windows++;
	s->pend_samples += e->meta.samples;
	s->st.dropped_undelivered = s->pend_windows;
	free_entry(s, e);
	save_dropped(s);
}

/* The oldest entry in memory (on_disk false) or on disk, neither taken nor
 * the newest: the window just made always stays in memory until the next
 * one comes (the sender may take it meanwhile), also when it alone is over
 * the caps. */
static struct spool_entry *oldest(struct spool *s, bool on_disk)
{
	for (struct spool_entry *e = s->head; e && e != s->tail; e = e->next)
		if (!e->out && !e->spilling && !e->data == on_disk)
			return e;
	return NULL;
}

/* e, written to its file, leaves memory. */
static void on_disk_now(struct spool *s, struct spool_entry *e)
{
	s->st.mem_windows--;
	s->st.mem_bytes -= e->len;
	s->st.disk_windows++;
	s->st.disk_bytes += e->file_bytes;
	s->st.spilled++;
	free(e->data);
	e->data = NULL;
}

/* Moves windows from memory to disk, and drops the oldest, until both caps
 * hold. With the sender running and a directory, memory is left to it
 * (spill()): then only files are dropped here, which needs no write. */
static void enforce_caps(struct spool *s)
{
	struct spool_entry *e;

	while (s->st.mem_bytes > s->mem_max && !(s->async && s->dirfd >= 0) &&
	       (e = oldest(s, false))) {
		if (s->dirfd < 0 || e->len + SPOOL_HDR > s->disk_max) {
			drop_entry(s, e);
			continue;
		}
		if (write_entry(s, e) < 0) {
			s->st.disk_errors++;
			drop_entry(s, e);
			continue;
		}
		on_disk_now(s, e);
	}
	while (s->st.disk_bytes > s->disk_max && (e = oldest(s, true)))
		drop_entry(s, e);
}

/* The sender's part of enforce_caps: windows over the memory cap go to
 * disk, each file written without the lock (a spilling entry is neither
 * taken nor dropped meanwhile, and only this thread frees its data). */
static void spill(struct spool *s)
{
	struct spool_entry *e;

	pthread_mutex_lock(&s->lock);
	while (s->dirfd >= 0 && s->st.mem_bytes > s->mem_max && (e = oldest(s, false))) {
		int err = -EFBIG;

		if (e->len + SPOOL_HDR <= s->disk_max) {
			e->spilling = true;
			pthread_mutex_unlock(&s->lock);
			err = write_entry(s, e);
			pthread_mutex_lock(&s->lock);
			e->spilling = false;
		}
		if (err) {
			s->st.disk_errors += err != -EFBIG;
			drop_entry(s, e);
			continue;
		}
		on_disk_now(s, e);
		enforce_caps(s);
	}
	pthread_mutex_unlock(&s->lock);
	flush_dropped(s);
}

static bool spill_due(struct spool *s)
{
	return s->async && s->dirfd >= 0 && s->st.mem_bytes > s->mem_max;
}

void spool_push(struct spool *s, const struct spool_meta *m, const void *data, size_t len)
{
	struct spool_entry *e = xcalloc(1, sizeof(*e));

	e->meta = *m;
	e->len = len;
	e->data = xmalloc(len ? len : 1);
	memcpy(e->data, data, len);
	pthread_mutex_lock(&s->lock);
	e->id = s->next_id++;
	link_tail(s, e);
	s->st.mem_windows++;
	s->st.mem_bytes += len;
	s->st.pushed++;
	enforce_caps(s);
	if (s->st.queued_bytes > s->st.max_bytes)
		s->st.max_bytes = s->st.queued_bytes;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Removes temporary files a crash left (outfile's hidden names). */
static void remove_stale(struct spool *s, const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.' && n > 4 && !strcmp(name + n - 4, ".tmp"))
		unlinkat(s->dirfd, name, 0);
}

/* Loads the windows a previous run left, oldest first. */
static int recover(struct spool *s, struct strbuf *warn)
{
	uint64_t *ids = NULL;
	size_t nr = 0, alloc = 0;
	struct dirent *d;
	int fd = dup(s->dirfd);
	DIR *dir;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	while ((d = readdir(dir))) {
		int64_t id = parse_name(d->d_name);

		if (id < 0) {
			remove_stale(s, d->d_name);
			continue;
		}
		XGROW(ids, alloc, nr + 1);
		ids[nr++] = id;
	}
	closedir(dir);
	/* New files after every old one, good or not. */
	if (nr) {
		qsort(ids, nr, sizeof(*ids), cmp_u64);
		s->next_id = ids[nr - 1] + 1;
	}
	for (size_t i = 0; i < nr; i++) {
		struct spool_meta m;
		struct spool_entry *e;
		const void *data;
		const char *why;
		void *buf;
		size_t len;

		if (read_window(s, ids[i], &buf, &m, &data, &len, &why) < 0) {
			char name[64];

			file_name(ids[i], name, sizeof(name));
			set_aside(s, name, why, warn);
			continue;
		}
		free(buf);
		e = xcalloc(1, sizeof(*e));
		e->meta = m;
		e->id = ids[i];
		e->len = len;
		e->file_bytes = SPOOL_HDR + len;
		link_tail(s, e);
		s->st.disk_windows++;
		s->st.disk_bytes += e->file_bytes;
		s->st.recovered++;
	}
	free(ids);
	load_dropped(s, warn);
	enforce_caps(s);
	s->st.max_bytes = s->st.queued_bytes;
	return 0;
}

/* mkdir -p, 0700 for what it creates. */
static int make_dirs(const char *path)
{
	char *p = xstrdup(path);
	int err = 0;

	for (char *c = p + 1;; c++) {
		if (*c && *c != '/')
			continue;
		char save = *c;

		*c = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			err = -errno;
			break;
		}
		*c = save;
		if (!save)
			break;
	}
	free(p);
	return err;
}

static int open_dir(struct spool *s, const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int e = make_dirs(dir);

	if (e) {
		snprintf(err, errlen, "cannot create spool directory %s: %s", dir, strerror(-e));
		return e;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dirfd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open spool directory %s: %s", dir, strerror(errno));
		return e;
	}
	if (fstat(s->dirfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		snprintf(err, errlen,
			 "spool directory %s must belong to uid %u and be writable by no one else",
			 dir, (unsigned)geteuid());
		return -EPERM;
	}
	s->lockfd = openat(s->dirfd, SPOOL_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s->lockfd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot create %s/%s: %s", dir, SPOOL_LOCK, strerror(errno));
		return e;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		e = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "spool directory %s is in use by another agent (--spool-dir)",
			 dir);
		return e;
	}
	return 0;
}

static void spool_free(struct spool *s)
{
	while (s->head) {
		struct spool_entry *e = s->head;

		s->head = e->next;
		free(e->data);
		free(e);
	}
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->taken_buf);
	free(s->dir);
	free(s);
}

int spool_open(const struct spool_opts *o, struct spool **out, struct strbuf *warn,
	       char *err, size_t errlen)
{
	struct spool *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int e;

	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->dirfd = s->lockfd = -1;
	s->mem_max = o->mem_max ? o->mem_max : SPOOL_MEM_MAX_DEFAULT;
	s->disk_max = o->disk_max ? o->disk_max : SPOOL_DISK_MAX_DEFAULT;
	s->backoff_min = o->backoff_min_ms ? o->backoff_min_ms : SPOOL_BACKOFF_MIN_MS;
	s->backoff_max = o->backoff_max_ms ? o->backoff_max_ms : SPOOL_BACKOFF_MAX_MS;
	s->next_id = 1;
	if (o->dir) {
		s->dir = xstrdup(o->dir);
		e = open_dir(s, o->dir, err, errlen);
		if (!e)
			e = recover(s, warn);
		if (e) {
			if (!err[0])
				snprintf(err, errlen, "cannot read spool directory %s: %s", o->dir,
					 strerror(-e));
			spool_free(s);
			return e;
		}
	}
	*out = s;
	return 0;
}

/* Deadline for pthread_cond_timedwait on the monotonic clock. */
static struct timespec deadline(unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

int spool_take(struct spool *s, struct spool_window *w, unsigned timeout_ms)
{
	struct timespec until = deadline(timeout_ms);
	struct spool_entry *e;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (s->shutdown) {
			ret = -ESHUTDOWN;
			break;
		}
		if (s->taken) {
			ret = -EBUSY;
			break;
		}
		e = s->head;
		if (!e) {
			if (!timeout_ms || pthread_cond_timedwait(&s->cond, &s->lock, &until))
				break;
			continue;
		}
		memset(w, 0, sizeof(*w));
		w->meta = e->meta;
		w->dropped_windows = s->pend_windows;
		w->dropped_samples = s->pend_samples;
		if (e->data) {
			w->data = e->data;
			w->len = e->len;
		} else {
			struct spool_meta m;
			const void *data;
			const char *why;
			void *buf;
			size_t len;
			int r;

			/* Read without the lock: the entry is taken, so neither
			 * dropped nor moved meanwhile. */
			e->out = true;
			s->taken = true;
			pthread_mutex_unlock(&s->lock);
			r = read_window(s, e->id, &buf, &m, &data, &len, &why);
			pthread_mutex_lock(&s->lock);
			e->out = false;
			s->taken = false;
			if (r < 0) {
				char name[64];

				file_name(e->id, name, sizeof(name));
				set_aside(s, name, why, NULL);
				unlink_entry(s, e);
				free(e);
				continue;
			}
			s->taken_buf = buf;
			w->data = data;
			w->len = len;
			w->from_disk = true;
		}
		e->out = true;
		s->taken = true;
		ret = 1;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void spool_done(struct spool *s, struct spool_window *w, bool delivered)
{
	pthread_mutex_lock(&s->lock);
	struct spool_entry *e = s->head;

	while (e && !e->out)
		e = e->next;
	if (e) {
		e->out = false;
		if (delivered) {
			s->st.sent++;
			s->st.sent_samples += e->meta.samples;
			s->pend_windows -= w->dropped_windows;
			s->pend_samples -= w->dropped_samples;
			s->st.dropped_undelivered = s->pend_windows;
			if (w->dropped_windows)
				save_dropped(s);
			free_entry(s, e);
		}
	}
	s->taken = false;
	free(s->taken_buf);
	s->taken_buf = NULL;
	w->data = NULL;
	/* A window taken while over the caps was spared: enforce them now. */
	enforce_caps(s);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* A window the server refused: delivered as far as the queue goes, but
 * counted as dropped (its drop count still waits for the next one). */
static void reject(struct spool *s, struct spool_window *w)
{
	struct spool_window keep = *w;

	keep.dropped_windows = keep.dropped_samples = 0;
	spool_done(s, &keep, true);
	pthread_mutex_lock(&s->lock);
	s->st.sent--;
	s->st.sent_samples -= w->meta.samples;
	s->st.rejected++;
	s->st.dropped_windows++;
	s->st.dropped_samples += w->meta.samples;
	s->pend_windows++;
	s->pend_samples += w->meta.samples;
	s->st.dropped_undelivered = s->pend_windows;
	save_dropped(s);
	pthread_mutex_unlock(&s->lock);
}

void spool_stats(struct spool *s, struct spool_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}

/* Waits ms unless the spool shuts down or a drain starts (then one retry
 * comes at once; the next failure backs off again). */
static void backoff_wait(struct spool *s, unsigned ms)
{
	struct timespec until = deadline(ms);
	unsigned drains;

	pthread_mutex_lock(&s->lock);
	drains = s->drains;
	s->st.retry_ms = ms;
	while (!s->shutdown && s->drains == drains) {
		if (spill_due(s)) {
			pthread_mutex_unlock(&s->lock);
			spill(s);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		if (pthread_cond_timedwait(&s->cond, &s->lock, &until))
			break;
	}
	pthread_mutex_unlock(&s->lock);
}

static void *sender_main(void *arg)
{
	struct spool *s = arg;
	unsigned backoff = 0, seed = (unsigned)now_ns();
	bool failing = false;

	for (;;) {
		struct spool_window w;
		struct spool_stats st;
		char err[512] = "";
		int r;

		spill(s);
		r = spool_take(s, &w, 1000);

		if (r == -ESHUTDOWN)
			break;
		if (r <= 0)
			continue;
		r = s->snd.send(s->snd.ctx, &w, err, sizeof(err));
		if (r == SPOOL_REJECTED) {
			reject(s, &w);
		} else {
			spool_done(s, &w, r == 0);
		}
		if (r >= 0) {
			pthread_mutex_lock(&s->lock);
			s->st.retry_ms = 0;
			pthread_mutex_unlock(&s->lock);
			if (failing && s->snd.state) {
				spool_stats(s, &st);
				s->snd.state(s->snd.ctx, NULL, 0, &st);
			}
			failing = false;
			backoff = 0;
			continue;
		}
		/* Full back-off doubling, then jitter over its upper half. */
		backoff = backoff ? backoff * 2 : s->backoff_min;
		if (backoff > s->backoff_max)
			backoff = s->backoff_max;
		unsigned wait = backoff / 2 + rand_r(&seed) % (backoff / 2 + 1);

		pthread_mutex_lock(&s->lock);
		s->st.failures++;
		s->st.retry_ms = wait;
		st = s->st;
		pthread_mutex_unlock(&s->lock);
		failing = true;
		if (s->snd.state)
			s->snd.state(s->snd.ctx, err[0] ? err : "send failed", wait, &st);
		backoff_wait(s, wait);
	}
	return NULL;
}

int spool_start(struct spool *s, const struct spool_sender *snd)
{
	int err;

	if (s->thread_started)
		return -EBUSY;
	s->snd = *snd;
	pthread_mutex_lock(&s->lock);
	s->async = true;
	pthread_mutex_unlock(&s->lock);
	err = pthread_create(&s->thread, NULL, sender_main, s);
	if (err) {
		s->async = false;
		return -err;
	}
	s->thread_started = true;
	return 0;
}

bool spool_drain(struct spool *s, unsigned timeout_ms)
{
	struct timespec until = deadline(timeout_ms);
	bool empty;

	pthread_mutex_lock(&s->lock);
	s->drains++;
	pthread_cond_broadcast(&s->cond);
	while (s->head && !s->shutdown &&
	       !pthread_cond_timedwait(&s->cond, &s->lock, &until))
		;
	empty = !s->head;
	pthread_mutex_unlock(&s->lock);
	return empty;
}

void spool_shutdown(struct spool *s)
{
	pthread_mutex_lock(&s->lock);
	s->shutdown = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->thread_started) {
		pthread_join(s->thread, NULL);
		s->thread_started = false;
	}
	pthread_mutex_lock(&s->lock);
	s->async = false;
	enforce_caps(s);
	pthread_mutex_unlock(&s->lock);
}

uint64_t spool_close(struct spool *s)
{
	uint64_t left;

	if (!s)
		return 0;
	spool_shutdown(s);
	/* Whatever is still in memory goes to disk for the next run. */
	for (struct spool_entry *e = s->head; e && s->dirfd >= 0; e = e->next) {
		if (!e->data)
			continue;
		if (write_entry(s, e) < 0)
			s->st.disk_errors++;
	}
	save_dropped(s);
	left = s->st.queued;
	spool_free(s);
	return left;
}

void spool_dir_for(const char *base, const char *key, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%016" PRIx64, base ? base : SPOOL_DIR_BASE,
		 hash_bytes(key, strlen(key), HASH_SEED));
}

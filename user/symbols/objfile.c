/* File identity and opening a mapping's file inside its process's root. */
#include "symbols/objfile.h"
#include "base/rootfs.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Files opened lately, kept open by identity and shared by every stage that
 * opens mappings (the symbolizer, the unwinder, python): the next process
 * that maps one (a build's next cc1 and its libc) costs one stat of its
 * mapping and an open of our own fd, not a walk of the path inside the
 * process's root with four checks, once per stage. A file rewritten in place
 * has a new identity, so it is opened anew. Entries idle this long are
 * closed at the next call, so that a file no process maps is not kept.
 */
#define OPEN_CACHE_SIZE 32
#define OPEN_CACHE_IDLE_NS (2 * 1000000000ull)
/* And the mappings named lately, so that the stages asking about the same
 * mapping of a new process one after the other (the unwinder at its first
 * sample, then the symbolizer) stat it once: a mapping is one file while it
 * is mapped, and within this time a reused pid mapping the same inode at the
 * same place is not a worry. */
#define RECENT_MAPS 16
#define RECENT_MAP_NS (100 * 1000000ull)

struct open_entry {
	struct objfile_id id;
	int fd;			/* 0: empty (the fds kept are never 0: stdin stays open) */
	uint64_t used_ns;
};

struct recent_map {
	uint32_t pid;
	uint64_t start, end, pgoff, dev, ino;	/* as the maps named it */
	struct objfile_id id;
	bool ours;		/* found in our root (the process had exited) */
	uint64_t ns;		/* 0: empty */
};

static struct {
	pthread_mutex_t lock;
	struct open_entry e[OPEN_CACHE_SIZE];
	struct recent_map recent[RECENT_MAPS];
	unsigned next_recent;
	uint64_t opened, reused;
} open_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

void objfile_id_from_stat(const struct stat *st, struct objfile_id *id)
{
	*id = (struct objfile_id){
		.dev = st->st_dev,
		.ino = st->st_ino,
		.size = st->st_size,
		.mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + st->st_mtim.tv_nsec,
	};
}

int objfile_id_of_fd(int fd, struct objfile_id *id)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	objfile_id_from_stat(&st, id);
	return 0;
}

uint64_t objfile_id_hash(const struct objfile_id *id)
{
	return hash_bytes(id, sizeof(*id), HASH_SEED);
}

static void entry_close(struct open_entry *e)
{
	if (e->fd > 0)
		close(e->fd);
	e->fd = 0;
}

/* A new fd of the kept file with identity id, or -ENOENT. Under the lock. */
static int cache_reopen(const struct objfile_id *id, uint64_t now)
{
	int fd = -ENOENT;

	for (int i = 0; i < OPEN_CACHE_SIZE; i++) {
		struct open_entry *e = &open_cache.e[i];

		if (e->fd > 0 && now - e->used_ns > OPEN_CACHE_IDLE_NS)
			entry_close(e);
		if (fd != -ENOENT || e->fd <= 0 || !objfile_id_eq(&e->id, id))
			continue;
		/* A copy: it shares the file offset, every reader uses pread or mmap. */
		fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0);
		fd = fd < 0 ? -errno : fd;
		e->used_ns = now;
	}
	return fd;
}

/* Keeps a copy of fd (a regular file of identity id), in place of the
 * least recently used entry. Under the lock. */
static void cache_keep(int fd, const struct objfile_id *id, uint64_t now)
{
	struct open_entry *victim = &open_cache.e[0];
	int copy;

	for (int i = 0; i < OPEN_CACHE_SIZE; i++) {
		struct open_entry *e = &open_cache.e[i];

		if (e->fd > 0 && objfile_id_eq(&e->id, id))
			return;
		if (e->fd <= 0 || (victim->fd > 0 && e->used_ns < victim->used_ns))
			victim = e;
	}
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 1);
	if (copy < 0)
		return;
	entry_close(victim);
	*victim = (struct open_entry){ .id = *id, .fd = copy, .used_ns = now };
}

static bool same_map(const struct recent_map *r, uint32_t pid, const struct proc_map *m)
{
	return r->pid == pid && r->start == m->start && r->end == m->end && r->pgoff == m->pgoff &&
	       r->dev == m->dev && r->ino == m->ino;
}

/* The identity of mapping m of pid if it was named lately. Under the lock. */
static const struct recent_map *recent_find(uint32_t pid, const struct proc_map *m, uint64_t now)
{
	for (int i = 0; i < RECENT_MAPS; i++) {
		const struct recent_map *r = &open_cache.recent[i];

		if (r->ns && now - r->ns <= RECENT_MAP_NS && same_map(r, pid, m))
			return r;
	}
	return NULL;
}

static void recent_add(uint32_t pid, const struct proc_map *m, const struct objfile_id *id,
		       bool ours, uint64_t now)
{
	open_cache.recent[open_cache.next_recent++ % RECENT_MAPS] = (struct recent_map){
		.pid = pid, .start = m->start, .end = m->end, .pgoff = m->pgoff, .dev = m->dev,
		.ino = m->ino, .id = *id, .ours = ours, .ns = now,
	};
}

/* The identity of the file mapping m names, without opening it: one stat of
 * the kernel's link to the mapped file (if it is the inode the maps named:
 * not another process's file after pid reuse), or once the process has
 * exited, of the same path in our root if device and inode agree, as below.
 * Returns 0, with *ours set in the second case, or -ENOENT. */
static int map_identity(const struct proc_map *m, const struct objfile_where *w,
			struct objfile_id *id, bool *ours)
{
	struct stat st;

	*ours = false;
	if (!stat(w->files, &st)) {
		if (st.st_ino != m->ino)
			return -ENOENT;
	} else if (!(m->flags & MAP_F_DELETED) && m->path[0] == '/' && !stat(m->path, &st) &&
		   st.st_dev == m->dev && st.st_ino == m->ino) {
		*ours = true;
	} else {
		return -ENOENT;
	}
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	objfile_id_from_stat(&st, id);
	return 0;
}

/* The mapping's file if it is kept. Then w is the kernel's link to it (the
 * mapped file, while the process lives) under the process's root, or its
 * path in our root once the process has exited. Returns the fd or -ENOENT. */
static int open_kept(uint32_t pid, const struct proc_map *m, struct objfile_where *w,
		     struct objfile_id *id)
{
	const struct recent_map *r;
	uint64_t now = now_ns();
	bool ours, known;
	int fd;

	pthread_mutex_lock(&open_cache.lock);
	r = recent_find(pid, m, now);
	known = r != NULL;
	if (r) {
		*id = r->id;
		ours = r->ours;
	}
	pthread_mutex_unlock(&open_cache.lock);
	if (!known && map_identity(m, w, id, &ours))
		return -ENOENT;
	pthread_mutex_lock(&open_cache.lock);
	fd = cache_reopen(id, now);
	if (fd >= 0) {
		open_cache.reused++;
		if (!known)
			recent_add(pid, m, id, ours, now);
	}
	pthread_mutex_unlock(&open_cache.lock);
	if (fd >= 0 && ours) {
		w->root[0] = 0;
		w->path = m->path;
		w->direct = false;
	} else if (fd >= 0) {
		w->path = w->files;
		w->direct = true;
	}
	return fd;
}

void objfile_forget_open(void)
{
	pthread_mutex_lock(&open_cache.lock);
	for (int i = 0; i < OPEN_CACHE_SIZE; i++)
		entry_close(&open_cache.e[i]);
	memset(open_cache.recent, 0, sizeof(open_cache.recent));
	pthread_mutex_unlock(&open_cache.lock);
}

void objfile_open_counts(uint64_t *opened, uint64_t *reused)
{
	pthread_mutex_lock(&open_cache.lock);
	*opened = open_cache.opened;
	*reused = open_cache.reused;
	pthread_mutex_unlock(&open_cache.lock);
}

int objfile_open_map(uint32_t pid, const struct proc_map *m, struct objfile_where *w,
		     struct objfile_id *id)
{
	struct stat st;
	int fd = -ENOENT, err;

	snprintf(w->root, sizeof(w->root), "/proc/%u/root", pid);
	snprintf(w->files, sizeof(w->files), "/proc/%u/map_files/%" PRIx64 "-%" PRIx64, pid,
		 m->start, m->end);
	fd = open_kept(pid, m, w, id);
	if (fd >= 0)
		return fd;
	w->path = m->path;
	w->direct = false;
	if (!(m->flags & MAP_F_DELETED))
		fd = rootfs_open(w->root, m->path);
	/* Deleted, or the path now names another file (replaced, another
	 * mount): the kernel's own link to the mapped file is the truth. */
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_ino != m->ino) {
		if (fd >= 0)
			close(fd);
		fd = rootfs_open_direct(w->files);
		w->path = w->files;
		w->direct = true;
	}
	/* The process has exited (its root and links are gone): the same path
	 * in our root is its file if device and inode agree. */
	if (fd < 0 && !(m->flags & MAP_F_DELETED) && m->path[0] == '/') {
		fd = rootfs_open_direct(m->path);
		if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_dev != m->dev || st.st_ino != m->ino)) {
			close(fd);
			fd = -ENOENT;
		}
		w->root[0] = 0;
		w->path = m->path;
		w->direct = false;
	}
	if (fd < 0)
		return fd;
	err = objfile_id_of_fd(fd, id);
	if (err) {
		close(fd);
		return err;
	}
	pthread_mutex_lock(&open_cache.lock);
	open_cache.opened++;
	cache_keep(fd, id, now_ns());
	pthread_mutex_unlock(&open_cache.lock);
	return fd;
}

/* Unwind rows cached on disk by build-id, in a directory only root may write. */
#include "unwind/unwind_cache.h"
#include "base/util.h"
#include "sampletop.h"
#include "unwind/unwind_table.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CACHE_MAGIC "STUNWND"
/* Bump it whenever the rows made from the same bytes change (cfi.c's
 * reduction, struct st_urow's meaning): old files are then refused. */
#define CACHE_VERSION 1
/* A temporary file older than this was left by a run that died: removed. */
#define CACHE_STALE_TMP_S 3600
#define TMP_PREFIX ".tmp."

/* The file: this header, then nr_rows struct st_urow. */
struct disk_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint32_t row_size;
	uint32_t build_id_len;
	uint8_t build_id[ELF_BUILD_ID_MAX];
	uint64_t src_size;
	uint32_t src_crc;
	uint32_t nr_rows;
	uint32_t nr_unsupported;
	uint32_t crc;		/* over this header (with crc 0) and the rows */
};

_Static_assert(sizeof(struct disk_header) == 112, "the header's layout is the file format");
_Static_assert(sizeof(struct st_urow) == 8, "rows are stored as they are");

static struct {
	pthread_once_t once;
	bool configured;	/* by unwind_cache_configure(): the environment is not read */
	char *dir;		/* NULL: off */
	uint64_t max_bytes;
} cfg = { .once = PTHREAD_ONCE_INIT };

static struct unwind_cache_stats stats;

static void count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static void from_environment(void)
{
	const char *env = getenv(UNWIND_CACHE_ENV);

	if (cfg.configured)
		return;
	if (env && (!*env || !strcmp(env, "off")))
		cfg.dir = NULL;
	else
		cfg.dir = xstrdup(env ? env : UNWIND_CACHE_DIR);
	cfg.max_bytes = UNWIND_CACHE_MAX_BYTES;
}

void unwind_cache_configure(const char *dir, uint64_t max_bytes)
{
	pthread_once(&cfg.once, from_environment);
	free(cfg.dir);
	cfg.dir = dir ? xstrdup(dir) : NULL;
	cfg.max_bytes = max_bytes ? max_bytes : UNWIND_CACHE_MAX_BYTES;
	cfg.configured = true;
}

const char *unwind_cache_dir(void)
{
	pthread_once(&cfg.once, from_environment);
	return cfg.dir;
}

void unwind_cache_get_stats(struct unwind_cache_stats *s)
{
	s->hits = __atomic_load_n(&stats.hits, __ATOMIC_RELAXED);
	s->misses = __atomic_load_n(&stats.misses, __ATOMIC_RELAXED);
	s->rejected = __atomic_load_n(&stats.rejected, __ATOMIC_RELAXED);
	s->stored = __atomic_load_n(&stats.stored, __ATOMIC_RELAXED);
	s->evicted = __atomic_load_n(&stats.evicted, __ATOMIC_RELAXED);
}

/* Ours and writable by no one else. */
static bool trusted(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Creates the missing directories of path, 0700 (the last ones: the
 * parents of the default exist). */
static void make_dirs(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		mkdir(p, 0700);
		*s = '/';
	}
	mkdir(p, 0700);
	free(p);
}

/* Whether the directory holding dir is one where no one else may rename or
 * replace dir (ours and writable by no one else, or sticky and root's, as
 * /tmp): 0, -EPERM, or why it cannot be seen. */
static int parent_trusted(const char *dir)
{
	char *p = xstrdup(dir), *slash = strrchr(p, '/');
	struct stat st;
	int err = 0;

	if (slash == p)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		strcpy(p, ".");
	if (stat(p, &st))
		err = -errno;
	else if (!S_ISDIR(st.st_mode) ||
		 !(trusted(&st) || ((st.st_mode & S_ISVTX) && st.st_uid == 0)))
		err = -EPERM;
	free(p);
	return err;
}

/* The cache directory, opened without following a symlink at its end and
 * checked once open (what was checked is what is used: every file is
 * reached relative to this descriptor). */
static int open_dir(bool create)
{
	struct stat st;
	int fd;

	if (!cfg.dir)
		return -ENOENT;
	if (create)
		make_dirs(cfg.dir);
	fd = parent_trusted(cfg.dir);
	if (fd < 0)
		return fd;
	fd = open(cfg.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? -EPERM : -errno;
	if (fstat(fd, &st) || !S_ISDIR(st.st_mode) || !trusted(&st)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

static void file_name(const struct unwind_cache_key *k, char *name, size_t size)
{
	size_t n = 0;

	for (uint8_t i = 0; i < k->build_id_len && n + 3 <= size; i++)
		n += snprintf(name + n, size - n, "%02x", k->build_id[i]);
	name[n] = 0;
}

/* n bytes read at off (write: written at the file's position), whole. */
static bool io_all(int fd, void *buf, size_t n, off_t off, bool write_it)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = write_it ? write(fd, (char *)buf + done, n - done)
				     : pread(fd, (char *)buf + done, n - done, off + done);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return false;
		}
		done += r;
	}
	return true;
}

static uint32_t content_crc(const struct disk_header *h, const struct st_urow *rows)
{
	struct disk_header z = *h;
	uLong c = crc32(0, Z_NULL, 0);
	size_t bytes = (size_t)h->nr_rows * sizeof(*rows);

	z.crc = 0;
	c = crc32(c, (const Bytef *)&z, sizeof(z));
	for (size_t off = 0; off < bytes; off += 1u << 30) {	/* crc32() takes a uInt */
		size_t n = bytes - off < (1u << 30) ? bytes - off : 1u << 30;

		c = crc32(c, (const Bytef *)rows + off, (uInt)n);
	}
	return (uint32_t)c;
}

static void fill_header(struct disk_header *h, const struct unwind_cache_key *k)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, CACHE_MAGIC, sizeof(h->magic));
	h->version = CACHE_VERSION;
	h->header_size = sizeof(*h);
	h->row_size = sizeof(struct st_urow);
	h->build_id_len = k->build_id_len;
	memcpy(h->build_id, k->build_id, k->build_id_len);
	h->src_size = k->src_size;
	h->src_crc = k->src_crc;
}

/* Whether the header read is the one expected for key (counts bounded by
 * the file's size). */
static bool header_ok(const struct disk_header *h, const struct disk_header *want, off_t size)
{
	return !memcmp(h->magic, want->magic, sizeof(h->magic)) && h->version == want->version &&
	       h->header_size == want->header_size && h->row_size == want->row_size &&
	       h->build_id_len == want->build_id_len &&
	       !memcmp(h->build_id, want->build_id, sizeof(h->build_id)) &&
	       h->src_size == want->src_size && h->src_crc == want->src_crc &&
	       h->nr_rows <= UNWIND_CACHE_MAX_ROWS && h->nr_unsupported <= h->nr_rows &&
	       (uint64_t)size == sizeof(*h) + (uint64_t)h->nr_rows * sizeof(struct st_urow);
}

/* Rows as the builder makes them: strictly sorted, known kinds. */
static bool rows_ok(const struct st_urow *rows, uint32_t nr)
{
	for (uint32_t i = 0; i < nr; i++)
		if (rows[i].cfa_kind > ST_CFA_SIGNAL || (i && rows[i].pc <= rows[i - 1].pc))
			return false;
	return true;
}

static int reject(int err)
{
	count(&stats.rejected);
	return err;
}

int unwind_cache_load(const struct unwind_cache_key *key, struct unwind_table *t)
{
	struct disk_header h, want;
	struct st_urow *rows = NULL;
	char name[2 * ELF_BUILD_ID_MAX + 1];
	struct stat st;
	int dfd, fd, err;

	pthread_once(&cfg.once, from_environment);
	if (!cfg.dir || !key->build_id_len)
		return -ENOENT;
	dfd = open_dir(false);
	if (dfd < 0) {
		if (dfd == -EPERM)
			return reject(dfd);
		count(&stats.misses);
		return dfd;
	}
	file_name(key, name, sizeof(name));
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd < 0) {
		err = -errno;
		if (err == -ELOOP)	/* a symlink planted there */
			return reject(-EPERM);
		count(&stats.misses);
		return err;
	}
	fill_header(&want, key);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !trusted(&st)) {
		err = reject(-EPERM);
		goto out;
	}
	if (st.st_size < (off_t)sizeof(h) || !io_all(fd, &h, sizeof(h), 0, false) ||
	    !header_ok(&h, &want, st.st_size)) {
		err = reject(-EBADMSG);
		goto out;
	}
	rows = xmalloc((size_t)h.nr_rows * sizeof(*rows) + 1);
	if (!io_all(fd, rows, (size_t)h.nr_rows * sizeof(*rows), sizeof(h), false) ||
	    content_crc(&h, rows) != h.crc || !rows_ok(rows, h.nr_rows)) {
		free(rows);
		err = reject(-EBADMSG);
		goto out;
	}
	futimens(fd, NULL);	/* recently used: evicted last */
	t->rows = rows;
	t->nr_rows = h.nr_rows;
	t->nr_unsupported = h.nr_unsupported;
	count(&stats.hits);
	err = 0;
out:
	close(fd);
	return err;
}

struct entry {
	char *name;
	int64_t mtime_ns;
	uint64_t size;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->mtime_ns < y->mtime_ns ? -1 : x->mtime_ns > y->mtime_ns;
}

/* Removes the least recently used files until the directory fits its
 * bound, and temporary files left by runs that died. */
static void trim(int dfd)
{
	struct entry *v = NULL;
	size_t nr = 0, alloc = 0;
	uint64_t total = 0;
	int64_t now = (int64_t)wall_ns();
	struct dirent *de;
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		int64_t mt;

		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX))) {
			if (now - mt > (int64_t)CACHE_STALE_TMP_S * 1000000000)
				unlinkat(dfd, de->d_name, 0);
			continue;
		}
		XGROW(v, alloc, nr + 1);
		v[nr++] = (struct entry){ xstrdup(de->d_name), mt, (uint64_t)st.st_size };
		total += st.st_size;
	}
	closedir(d);
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_entry);
	for (size_t i = 0; i < nr && total > cfg.max_bytes; i++)
		if (!unlinkat(dfd, v[i].name, 0)) {
			total -= v[i].size;
			count(&stats.evicted);
		}
	for (size_t i = 0; i < nr; i++)
		free(v[i].name);
	free(v);
}

int unwind_cache_store(const struct unwind_cache_key *key, const struct unwind_table *t)
{
	static uint32_t seq;
	char name[2 * ELF_BUILD_ID_MAX + 1], tmp[64];
	struct disk_header h;
	int dfd, fd, err = 0;

	pthread_once(&cfg.once, from_environment);
	if (!cfg.dir || !key->build_id_len || t->nr_rows > UNWIND_CACHE_MAX_ROWS)
		return -ENOENT;
	dfd = open_dir(true);
	if (dfd < 0)
		return dfd;
	file_name(key, name, sizeof(name));
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%d.%u", (int)getpid(),
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	fill_header(&h, key);
	h.nr_rows = t->nr_rows;
	h.nr_unsupported = t->nr_unsupported;
	h.crc = content_crc(&h, t->rows);
	if (!io_all(fd, &h, sizeof(h), 0, true) ||
	    !io_all(fd, t->rows, (size_t)t->nr_rows * sizeof(*t->rows), 0, true))
		err = -EIO;
	if (close(fd) && !err)
		err = -EIO;
	if (!err && renameat(dfd, tmp, dfd, name))
		err = -errno;
	if (err) {
		unlinkat(dfd, tmp, 0);
		goto out;
	}
	count(&stats.stored);
	trim(dfd);
out:
	close(dfd);
	return err;
}

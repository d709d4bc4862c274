/* Writing a file all or nothing: a temporary file beside the target, renamed
 * over it once complete and synced (see outfile.h). */
#include "base/outfile.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes of the target's name kept in the temporary file's: the rest of the
 * name (a dot, a prefix, 16 hex digits, ".tmp") must fit in NAME_MAX. */
#define OUTFILE_NAME_KEEP 200
/* O_EXCL retries: a name of 64 random bits collides only when planted. */
#define OUTFILE_TRIES 16

/* The stream's writes: every byte or the real error, kept in of->err
 * (stdio itself only knows that a write failed). */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
	struct outfile *of = cookie;
	size_t done = 0;

	while (done < size) {
		ssize_t n = write(of->fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!of->err)
				of->err = n < 0 ? -errno : -ENOSPC;
			return 0;
		}
		done += n;
	}
	return done;
}

static uint64_t random_u64(void)
{
	uint64_t v;

	/* Without entropy yet (early boot), the clock: O_EXCL keeps it safe. */
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = hash_u64(now_ns() ^ ((uint64_t)getpid() << 32));
	return v;
}

/* The directory part of path ("." without one) and where its name starts. */
static char *split_path(const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*name = path;
		return xstrdup(".");
	}
	*name = slash + 1;
	return slash == path ? xstrdup("/") : xstrndup(path, slash - path);
}

/* What is at the target: 0 with *st when a regular file, -ENOENT when
 * nothing, else why it is left alone. */
static int check_target(int dirfd, const char *name, struct stat *st)
{
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISLNK(st->st_mode))
		return -ELOOP;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	return S_ISREG(st->st_mode) ? 0 : -EINVAL;
}

/* Creates the temporary file; of->tmp and of->fd set. Returns 0 or -errno. */
static int create_tmp(struct outfile *of)
{
	struct strbuf sb = STRBUF_INIT;

	for (int i = 0; i < OUTFILE_TRIES; i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, ".%.*s.%016llx.tmp", OUTFILE_NAME_KEEP, of->name,
			    (unsigned long long)random_u64());
		of->fd = openat(of->dirfd, sb.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				0644);
		if (of->fd >= 0) {
			of->tmp = strbuf_detach(&sb);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	strbuf_release(&sb);
	return -errno;
}

int outfile_open(struct outfile *of, const char *path, unsigned flags)
{
	static const cookie_io_functions_t io = { .write = cookie_write };
	const char *name;
	char *dir = split_path(path, &name);
	struct stat st = { 0 };
	int err;

	*of = (struct outfile){ .fd = -1, .dirfd = -1, .flags = flags };
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) {
		free(dir);
		return -EISDIR;
	}
	of->name = xstrdup(name);
	of->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (of->dirfd < 0) {
		err = -errno;
		goto fail;
	}
	err = check_target(of->dirfd, of->name, &st);
	if (err && err != -ENOENT)
		goto fail;
	if (!err && (flags & OUTFILE_NOREPLACE)) {
		err = -EEXIST;
		goto fail;
	}
	err = create_tmp(of);
	if (err)
		goto fail;
	/* A rewrite keeps the old file's mode (umask aside) and, as root, its
	 * owner: replacing it must not change who can read it. */
	if (S_ISREG(st.st_mode)) {
		if (fchmod(of->fd, st.st_mode & 0777) < 0 ||
		    (geteuid() == 0 && fchown(of->fd, st.st_uid, st.st_gid) < 0)) {
			err = -errno;
			goto fail;
		}
	}
	of->f = fopencookie(of, "w", io);
	if (!of->f) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	outfile_abort(of);
	return err;
}

static void outfile_release(struct outfile *of)
{
	if (of->f)
		fclose(of->f);
	if (of->fd >= 0)
		close(of->fd);
	if (of->dirfd >= 0)
		close(of->dirfd);
	free(of->name);
	free(of->tmp);
	*of = (struct outfile){ .fd = -1, .dirfd = -1 };
}

void outfile_abort(struct outfile *of)
{
	if (of->tmp)
		unlinkat(of->dirfd, of->tmp, 0);
	outfile_release(of);
}

/* Puts the complete temporary file in place. Returns 0 or -errno. */
static int outfile_rename(struct outfile *of)
{
	if (!(of->flags & OUTFILE_NOREPLACE))
		return renameat(of->dirfd, of->tmp, of->dirfd, of->name) < 0 ? -errno : 0;
	if (renameat2(of->dirfd, of->tmp, of->dirfd, of->name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* A filesystem without RENAME_NOREPLACE: a hard link never replaces
	 * either; the temporary name then goes. */
	if (linkat(of->dirfd, of->tmp, of->dirfd, of->name, 0) < 0)
		return -errno;
	unlinkat(of->dirfd, of->tmp, 0);
	return 0;
}

int outfile_commit(struct outfile *of)
{
	int err = 0;

	if (!of->f)
		return of->err ?: -EBADF;
	if (fflush(of->f) || ferror(of->f))
		err = -EIO;
	fclose(of->f);
	of->f = NULL;
	if (!err && fsync(of->fd) < 0)
		err = -errno;
	if (close(of->fd) < 0 && !err)
		err = -errno;
	of->fd = -1;
	/* The stream's first error is the cause; a later -EIO only its echo. */
	err = of->err ?: err;
	if (!err)
		err = outfile_rename(of);
	if (err) {
		outfile_abort(of);
		return err;
	}
	free(of->tmp);
	of->tmp = NULL;
	/* The rename itself lasts only once the directory is synced; some
	 * filesystems cannot (EINVAL), and the file is in place either way. */
	fsync(of->dirfd);
	outfile_release(of);
	return 0;
}

/* Opening files inside a process's root with openat2(RESOLVE_IN_ROOT). */
#include "base/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)

/* Keeps fd only if it is a regular file; clears O_NONBLOCK for reading. */
static int regular_only(int fd)
{
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int rootfs_open_direct(const char *path)
{
	int fd = open(path, OPEN_FLAGS);

	return regular_only(fd < 0 ? -errno : fd);
}

int rootfs_open(const char *root, const char *path)
{
	struct open_how how = { .flags = OPEN_FLAGS,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int dir, fd;

	if (!root[0])
		return rootfs_open_direct(path);
	dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, dir, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) {
		/* Kernels before 5.6: plain resolution under root. */
		char buf[4200];

		close(dir);
		if (snprintf(buf, sizeof(buf), "%s%s", root, path) >= (int)sizeof(buf))
			return -ENAMETOOLONG;
		return rootfs_open_direct(buf);
	}
	fd = fd < 0 ? -errno : fd;
	close(dir);
	return regular_only(fd);
}

/* File identity and opening a mapping's file inside its process's root. */
#include "symbols/objfile.h"
#include "base/rootfs.h"
#include "base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

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

int objfile_open_map(uint32_t pid, const struct proc_map *m, struct objfile_where *w,
		     struct objfile_id *id)
{
	struct stat st;
	int fd = -ENOENT, err;

	snprintf(w->root, sizeof(w->root), "/proc/%u/root", pid);
	snprintf(w->files, sizeof(w->files), "/proc/%u/map_files/%" PRIx64 "-%" PRIx64, pid,
		 m->start, m->end);
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
	return fd;
}

/*
 * The object files processes map: one notion of a file's identity, by which
 * every cache of parsed objects (symbols, unwind tables, Python interpreters)
 * is keyed, and one safe way to open the file behind a mapping.
 */
#ifndef OBJFILE_H
#define OBJFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "procs/procs.h"

/* A file as the kernel knows it: the same path can name another file later
 * (replaced, another mount namespace), and a file rewritten in place keeps
 * its inode but not its size and mtime. All zero for an image in memory. */
struct objfile_id {
	uint64_t dev, ino, size, mtime_ns;
};

void objfile_id_from_stat(const struct stat *st, struct objfile_id *id);
/* Of an open file. Returns 0 or a negative errno. */
int objfile_id_of_fd(int fd, struct objfile_id *id);
uint64_t objfile_id_hash(const struct objfile_id *id);

static inline bool objfile_id_eq(const struct objfile_id *a, const struct objfile_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

/* Where the file of a mapping was opened, to open it again (rootfs_open(root,
 * path), or rootfs_open_direct(path) when direct). */
struct objfile_where {
	char root[64];		/* "/proc/PID/root", or "" (ours: the process exited) */
	char files[128];	/* /proc/PID/map_files/START-END */
	const char *path;	/* m->path, or files when direct */
	bool direct;
};

/* Opens the file of mapping m (a file mapping) of process pid as a regular file
 * (base/rootfs.h): by its path inside its root; through its map_files link when
 * it was deleted or the path now names another inode; once it has exited, by
 * the same path in our root if device and inode agree. Fills *w (w->path may
 * point into m) and *id. Returns the fd, or a negative errno. */
int objfile_open_map(uint32_t pid, const struct proc_map *m, struct objfile_where *w,
		     struct objfile_id *id);
/* objfile_open_map keeps the files it opened lately (a few, for a few
 * seconds) to open them again by identity: a file that the next process
 * maps too is found by one stat of its map_files link (w->direct: opened
 * through it), and given as a copy of the kept fd: it shares the file offset,
 * so read it with pread or mmap (libelf does). This closes them (tests;
 * sampletop's end). */
void objfile_forget_open(void);
/* Files opened by their path, and opened again from those kept. */
void objfile_open_counts(uint64_t *opened, uint64_t *reused);

#endif

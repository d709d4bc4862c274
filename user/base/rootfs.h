/*
 * Opening files the profiled process names, safely: paths are resolved
 * inside that process's root (its container or chroot), so that a symlink
 * in there cannot point us at our own files, and only regular files are
 * opened (a FIFO or a device named like a debug file must not block or
 * feed us forever).
 */
#ifndef ROOTFS_H
#define ROOTFS_H

/* Opens path (absolute, as the process sees it) read-only under root, a
 * directory such as "/proc/PID/root", or "" for our own root. Returns an fd
 * of a regular file, or a negative errno (-EINVAL if not a regular file). */
int rootfs_open(const char *root, const char *path);

/* Opens a path of ours as is (e.g. /proc/PID/map_files/...), regular files only. */
int rootfs_open_direct(const char *path);

#endif

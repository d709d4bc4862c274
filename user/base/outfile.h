/*
 * Writing a file all or nothing: the output goes to a new temporary file
 * beside the target (same directory, so the rename cannot cross
 * filesystems), which is renamed over the target only once complete,
 * flushed and synced. A failure at any step leaves the old file, or none,
 * never a truncated one, and no temporary file.
 *
 * Durability: every commit fsyncs the file before the rename and the
 * directory after (best effort: a filesystem that cannot sync a directory
 * is not an error), so that a crash just after "wrote FILE" finds the
 * whole file, not an empty one.
 */
#ifndef OUTFILE_H
#define OUTFILE_H

#include <stdio.h>

/* Never replace an existing target: commit fails with -EEXIST instead. */
#define OUTFILE_NOREPLACE 1

/*
 * An output in progress. Fields are read-only for callers except f, which
 * they write to. err holds the first error the stream met, with the real
 * cause (-ENOSPC, -EDQUOT...): writers that build on stdio only learn that
 * a write failed, this says why.
 */
struct outfile {
	FILE *f;		/* the stream to write; NULL once committed or aborted */
	int fd;			/* the temporary file, for fchown and the like */
	int dirfd;		/* the target's directory */
	char *name;		/* the target's name in dirfd */
	char *tmp;		/* the temporary file's name in dirfd */
	unsigned flags;
	int err;		/* first write error, negative errno, 0 if none */
};

/*
 * Starts writing path. The target, when it exists, must be a regular file
 * (a symbolic link is not followed nor replaced: -ELOOP; anything else:
 * -EISDIR for a directory, -EINVAL otherwise); its permission bits and, as
 * root, its owner carry over to the new file. The temporary file is created
 * with O_EXCL under an unpredictable hidden name, so nothing planted in the
 * directory is followed or overwritten. Returns 0 with of ready to write,
 * or a negative errno with nothing left behind.
 */
int outfile_open(struct outfile *of, const char *path, unsigned flags);

/*
 * Completes the file: flush, fsync, close, rename over the target, fsync
 * the directory. Returns 0, or the negative errno of the first failure
 * (the stream's own first, when it met one) after aborting. Either way of
 * is released.
 */
int outfile_commit(struct outfile *of);

/* Drops the file: closes and removes the temporary file; the target is
 * untouched. Safe on a released outfile. */
void outfile_abort(struct outfile *of);

#endif

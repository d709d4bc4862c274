/*
 * The agent's spool: windows waiting to be sent to one destination, kept in
 * order, bounded, and sent by a thread of their own so that a slow, down or
 * refusing server never stalls sampling.
 *
 * A window is an opaque payload (the rows the agent built) with a little
 * metadata. Windows stay in memory up to mem_max bytes of payload; past it
 * the oldest in-memory windows move to files in the spool directory, up to
 * disk_max bytes; past that the oldest windows are dropped, and counted (the
 * count travels with the next window sent, see struct spool_window). With
 * no directory the spool is memory only and drops past mem_max. The newest
 * window stays in memory until the next one comes, even alone over the caps
 * (memory may exceed mem_max by that one window).
 *
 * The directory holds one file per window, named by a sequence number that
 * survives restarts, so that the windows a previous run left are sent first,
 * in order. It is created 0700 and must belong to us and be writable by no
 * one else; its files are written all or nothing (base/outfile), opened
 * with O_NOFOLLOW and checked (owner, type, size, magic, checksums): a
 * file that fails is renamed aside (NAME.bad), counted and never sent.
 * A lock file keeps a second agent out of the same directory.
 *
 * Threads: every function may be called from any thread; a mutex guards the
 * queue. Once the sender runs (spool_start), only its thread writes files:
 * spool_push() never waits on the network nor on the disk, and memory may
 * exceed mem_max until the sender, between sends, moves windows to disk.
 * Before that (and in tests) pushes write the files themselves.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* Memory for windows before they go to disk: 64 MiB holds hours of an agent's
 * windows at the default rate (tens of KiB each). */
#define SPOOL_MEM_MAX_DEFAULT (64ull << 20)
/* Disk for windows: 512 MiB, a day or more of a busy host's windows, small
 * beside /var. */
#define SPOOL_DISK_MAX_DEFAULT (512ull << 20)
/* Where spool directories live: one per destination below it. */
#define SPOOL_DIR_BASE "/var/lib/sampletop/spool"
/* Back-off between failed sends: doubles from the first to the last, with
 * jitter so that a fleet whose server comes back does not retry in step. */
#define SPOOL_BACKOFF_MIN_MS 1000
#define SPOOL_BACKOFF_MAX_MS 60000

/* What the agent knows about a window. */
struct spool_meta {
	uint64_t seq;		/* the agent's window number (since the agent started) */
	uint64_t start_ns;	/* window start, wall clock, ns since the epoch */
	uint64_t samples;	/* samples in the window (what a drop loses) */
};

/* A window handed to the sender. data/len are valid until spool_done(). */
struct spool_window {
	struct spool_meta meta;
	const void *data;
	size_t len;
	/* Windows (and their samples) dropped since the last window delivered:
	 * the sender writes them into this window's row (spool_dropped). */
	uint64_t dropped_windows;
	uint64_t dropped_samples;
	bool from_disk;		/* read back from the spool directory */
};

struct spool_stats {
	uint64_t queued;		/* windows waiting, memory and disk */
	uint64_t queued_bytes;
	uint64_t mem_windows, mem_bytes;
	uint64_t disk_windows, disk_bytes;
	uint64_t pushed;		/* windows given to the spool */
	uint64_t sent, sent_samples;	/* delivered */
	uint64_t dropped_windows;	/* dropped, spool full (all time) */
	uint64_t dropped_samples;
	uint64_t dropped_undelivered;	/* drops whose count no delivered window carried yet */
	uint64_t spilled;		/* windows moved from memory to disk */
	uint64_t recovered;		/* windows found on disk at open */
	uint64_t corrupt;		/* spool files refused (renamed aside) */
	uint64_t disk_errors;		/* windows that could not be written to disk */
	uint64_t failures;		/* failed sends */
	uint64_t rejected;		/* windows the server refused, dropped */
	uint64_t retry_ms;		/* the current back-off, 0 when the last send worked */
	uint64_t max_bytes;		/* the most the spool held at once (caps applied) */
};

struct spool_opts {
	const char *dir;	/* the spool directory; NULL: memory only */
	uint64_t mem_max;	/* 0: SPOOL_MEM_MAX_DEFAULT */
	uint64_t disk_max;	/* 0: SPOOL_DISK_MAX_DEFAULT */
	/* Test hooks: back-off bounds (0: the defaults). */
	unsigned backoff_min_ms, backoff_max_ms;
};

struct spool;

/*
 * Opens the spool: creates dir (and missing parents, 0700) and takes its
 * lock, then loads the windows a previous run left there, in order. Files
 * that fail a check are renamed aside and counted; one line per file on
 * why goes to warn (may be NULL). Returns 0 with *out, or a negative errno
 * with err set to one line (-EBUSY: another agent holds the directory;
 * -EPERM: the directory is not ours or others may write to it).
 */
int spool_open(const struct spool_opts *o, struct spool **out, struct strbuf *warn,
	       char *err, size_t errlen);

/*
 * Queues a window; the spool copies data. Drops the oldest windows when over
 * the caps (spool_stats says how many). Never fails: a window that cannot be
 * kept is dropped and counted.
 */
void spool_push(struct spool *s, const struct spool_meta *m, const void *data, size_t len);

/*
 * The oldest window, for sending: waits up to timeout_ms (0: no wait) for
 * one. Returns 1 with *w filled, 0 when none came, or -ESHUTDOWN after
 * spool_shutdown(). Only one window is out at a time (a second take before
 * spool_done returns -EBUSY); the window stays queued, and is neither dropped
 * nor moved, until spool_done().
 */
int spool_take(struct spool *s, struct spool_window *w, unsigned timeout_ms);

/* Ends a take: delivered removes the window (and its file) and settles the
 * drop count it carried; otherwise it stays first in line. */
void spool_done(struct spool *s, struct spool_window *w, bool delivered);

/*
 * The sender. send() delivers one window: 0; a negative errno with err set
 * to one line (retried after the back-off); or SPOOL_REJECTED when the
 * server refused this window itself (its data, not the connection or the
 * credentials): retrying cannot help and would hold up every later window,
 * so it is dropped and counted (stats.rejected). state() (may be NULL) is told when sending starts
 * failing, each retry's wait, and when it works again: err NULL then.
 * Both are called from the sender thread.
 */
#define SPOOL_REJECTED 1
struct spool_sender {
	int (*send)(void *ctx, const struct spool_window *w, char *err, size_t errlen);
	void (*state)(void *ctx, const char *err, unsigned retry_ms, const struct spool_stats *st);
	void *ctx;
};

/* Starts the sender thread: windows go out oldest first, one at a time; a
 * failed send is retried after the back-off. Returns 0 or -errno. */
int spool_start(struct spool *s, const struct spool_sender *snd);

/*
 * Waits up to timeout_ms for the queue to empty (the sender keeps going,
 * without waiting out a back-off). Returns true when it did.
 */
bool spool_drain(struct spool *s, unsigned timeout_ms);

/* Stops the sender (a send in progress finishes or times out first) and
 * makes spool_take return -ESHUTDOWN. */
void spool_shutdown(struct spool *s);

/* Counters, at one instant. */
void spool_stats(struct spool *s, struct spool_stats *st);

/*
 * Closes the spool: stops the sender, writes the windows still in memory
 * to the directory (when there is one) so that the next run sends them,
 * and frees everything. Returns the number of windows left queued (on disk,
 * or lost with no directory: the caller reports them).
 */
uint64_t spool_close(struct spool *s);

/* The directory of a destination: BASE/<hash of key> (base NULL:
 * SPOOL_DIR_BASE), key naming the destination and the agent's stream. */
void spool_dir_for(const char *base, const char *key, char *buf, size_t n);

/*
 * Parses one spool file's bytes: 0 with *m, *data (pointing into buf) and
 * *len, or -EBADMSG with why set (truncated, bad magic, bad checksum...).
 * Also for the fuzz target and the unit tests.
 */
int spool_file_parse(const void *buf, size_t size, struct spool_meta *m, const void **data,
		     size_t *len, const char **why);

#endif

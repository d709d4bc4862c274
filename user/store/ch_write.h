/* One window of a profile -> the rows of the ClickHouse store (JSONEachRow,
 * the tables of ch_schema.h): samples, stacks not sent yet today, and the
 * window's own row. The agent resets the profile's counts after each
 * window, so the profile's counts are the window's. */
#ifndef CH_WRITE_H
#define CH_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "model/profile.h"

/* The tables of a batch, in the order they are sent: stacks before the
 * samples that name them, the window row last (a window row in the store
 * says its samples arrived). */
enum ch_table { CH_T_STACKS, CH_T_SAMPLES, CH_T_WINDOWS, CH_T_NR };
extern const char *const ch_table_names[CH_T_NR];

/* One window's rows, ready to send: what the spool keeps and the sender
 * sends. data holds the three tables' JSONEachRow lines one after the
 * other (len[t] bytes each, in enum ch_table order; a part may be empty).
 * done counts the parts already inserted (a retry resumes there, so a
 * window is never inserted twice). Owned by whoever holds the batch. */
struct ch_batch {
	uint64_t seq;
	uint64_t rows[CH_T_NR];
	size_t len[CH_T_NR];
	char *data;
	unsigned done;
};

/* Frees data; the struct itself is the caller's. */
void ch_batch_release(struct ch_batch *b);
/* A deep copy (one per destination). */
void ch_batch_copy(struct ch_batch *dst, const struct ch_batch *src);
/* Where part t starts in data. */
size_t ch_batch_offset(const struct ch_batch *b, enum ch_table t);
/* Total bytes of rows. */
size_t ch_batch_size(const struct ch_batch *b);

/* The service a pid belongs to ("nginx.service", a container id) or ""
 * (the returned string is read before the next call). */
typedef const char *(*ch_service_fn)(uint32_t pid, void *ctx);

struct ch_window {
	uint64_t start_ns;	/* CLOCK_REALTIME at the window's start */
	uint32_t window_ms;	/* its length */
	uint64_t seq;		/* 1, 2, ... since the agent started */
	uint64_t agent_start_s;	/* unix seconds the agent started */
	const char *host;
	const char *const *labels;	/* "key=value", sorted by key, host= left out */
	size_t nr_labels;
	uint64_t lost;		/* samples lost in this window */
	uint64_t spool_dropped;	/* windows dropped (spool full) before this one */
	const uint64_t *counters;	/* PC_NR counters of this window, or NULL */
	ch_service_fn service;	/* NULL: every service '' */
	void *service_ctx;
};

/* Remembers which stacks were sent today (each distinct stack once per
 * writer per UTC day) and each profile stack's hash. One writer per
 * profile: it caches by the profile's stack ids. */
struct ch_writer;
struct ch_writer *ch_writer_new(void);
void ch_writer_free(struct ch_writer *w);
/* Forget what was sent: every stack goes again with its next use (after
 * the spool dropped a window, whose stacks rows may never have arrived). */
void ch_writer_forget_stacks(struct ch_writer *w);
/* The next windows come from another profile (the agent renewed its own):
 * the hashes cached by stack id go; what was sent today, kept by hash,
 * stays valid. */
void ch_writer_new_profile(struct ch_writer *w);

/* The rows of the window p holds (every sample_rec count, by (stack,
 * program, pid)) into *out (filled: the caller releases it). With
 * p->meta.wall the counts are ns: wall_ns carries them and samples counts
 * the on-CPU ones (1e9/freq each). Never fails. */
void ch_write_window(struct ch_writer *w, const struct profile *p, const struct ch_window *win,
		     struct ch_batch *out);

/* The stable 64-bit key of a stack: its frames' kinds, names and modules,
 * root first. The same frames give the same hash on every host and run. */
uint64_t ch_stack_hash(const struct profile *p, uint32_t stack);

/* The service in a /proc/PID/cgroup text: a container's id (the 64-hex
 * component of docker/containerd/podman/kubepods paths, shortened to 12),
 * else the deepest systemd unit ("nginx.service"); the cgroup v2 line
 * first, then name=systemd, then the others. "" when none. Writes into
 * out (always NUL-terminated). */
void ch_service_from_cgroup(const char *text, char *out, size_t len);

#endif

/*
 * Cold samples (ST_SAMPLE_COLD) held until the tables of their objects
 * exist: a bounded FIFO of whole cold records (header, sample, stack copy),
 * in arrival order. A record leaves when the caller is done with it, or once
 * it is older than the timeout; a thread's records leave in their order (one
 * held back holds back the later ones of its thread), so that a thread's
 * samples reach the profile in time order.
 */
#ifndef UNWIND_HOLD_H
#define UNWIND_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sampletop.h"

/* Bytes held at most: ~4,000 of cc1's cold samples (5-9 KiB each), a few
 * seconds of two CPUs' cold samples; a record that does not fit is counted
 * by the caller and finished at once. */
#define UNWIND_HOLD_MAX_BYTES (32u << 20)
/* How long a sample waits for its tables: a few times the ~0.5 s that
 * cc1's table takes to build today. */
#define UNWIND_HOLD_TIMEOUT_NS (3000 * 1000000ull)

struct unwind_held {
	const struct st_ucold *cold;
	const struct st_sample *sample;	/* cold->sample_size bytes */
	const uint8_t *stack;		/* cold->stack_len bytes */
	uint64_t arrived_ns;
};

struct unwind_hold;

struct unwind_hold *unwind_hold_new(size_t max_bytes, uint64_t timeout_ns);
void unwind_hold_free(struct unwind_hold *h);

/* Copies a cold record in. Returns 0, or -ENOSPC when it does not fit
 * (nothing held). */
int unwind_hold_push(struct unwind_hold *h, const struct st_ucold *c, const struct st_sample *s,
		     const uint8_t *stack, uint64_t now_ns);

/* fn's answer for a held record: done (it leaves) or keep it. expired: it
 * waited past the timeout, or flush was asked; it leaves whatever fn says. */
typedef bool (*unwind_hold_fn)(void *ctx, const struct unwind_held *rec, bool expired);

/* Offers the held records to fn, oldest first (in each thread's order:
 * after one is kept, the later ones of its thread are not offered). flush:
 * all are expired. Returns how many left. */
size_t unwind_hold_run(struct unwind_hold *h, uint64_t now_ns, bool flush, unwind_hold_fn fn,
		       void *ctx);

size_t unwind_hold_count(const struct unwind_hold *h);
size_t unwind_hold_bytes(const struct unwind_hold *h);

#endif

/* Cold samples held until their tables exist (see unwind_hold.h). */
#include "unwind/unwind_hold.h"
#include "base/hashtab.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct held_rec {
	struct unwind_held pub;
	size_t bytes;
	/* the record follows: header, sample, stack */
};

struct unwind_hold {
	struct held_rec **recs;	/* oldest first */
	size_t nr, alloc;
	size_t bytes, max_bytes;
	uint64_t timeout_ns;
	struct u64map kept_tids;	/* threads with a record kept in this run */
};

struct unwind_hold *unwind_hold_new(size_t max_bytes, uint64_t timeout_ns)
{
	struct unwind_hold *h = xcalloc(1, sizeof(*h));

	h->max_bytes = max_bytes;
	h->timeout_ns = timeout_ns;
	return h;
}

void unwind_hold_free(struct unwind_hold *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nr; i++)
		free(h->recs[i]);
	free(h->recs);
	u64map_free(&h->kept_tids);
	free(h);
}

int unwind_hold_push(struct unwind_hold *h, const struct st_ucold *c, const struct st_sample *s,
		     const uint8_t *stack, uint64_t now_ns)
{
	size_t bytes = sizeof(struct held_rec) + sizeof(*c) + c->sample_size + c->stack_len;
	struct held_rec *r;
	uint8_t *p;

	if (bytes > h->max_bytes - h->bytes || h->bytes > h->max_bytes)
		return -ENOSPC;
	r = xmalloc(bytes);
	p = (uint8_t *)(r + 1);
	memcpy(p, c, sizeof(*c));
	memcpy(p + sizeof(*c), s, c->sample_size);
	memcpy(p + sizeof(*c) + c->sample_size, stack, c->stack_len);
	r->bytes = bytes;
	r->pub = (struct unwind_held){
		.cold = (const struct st_ucold *)p,
		.sample = (const struct st_sample *)(p + sizeof(*c)),
		.stack = p + sizeof(*c) + c->sample_size,
		.arrived_ns = now_ns,
	};
	XGROW(h->recs, h->alloc, h->nr + 1);
	h->recs[h->nr++] = r;
	h->bytes += bytes;
	return 0;
}

size_t unwind_hold_run(struct unwind_hold *h, uint64_t now_ns, bool flush, unwind_hold_fn fn,
		       void *ctx)
{
	size_t kept = 0, done = 0;
	uint32_t one;

	u64map_clear(&h->kept_tids);
	for (size_t i = 0; i < h->nr; i++) {
		struct held_rec *r = h->recs[i];
		bool expired = flush || now_ns - r->pub.arrived_ns >= h->timeout_ns;
		uint64_t tid = r->pub.sample->tid;

		/* An older record of this thread stays: so does this one, unless
		 * it must go now (it then goes after the older one did not). */
		if ((expired || !u64map_get(&h->kept_tids, tid, &one)) &&
		    (fn(ctx, &r->pub, expired) || expired)) {
			h->bytes -= r->bytes;
			free(r);
			done++;
			continue;
		}
		u64map_put(&h->kept_tids, tid, 1);
		h->recs[kept++] = r;
	}
	h->nr = kept;
	return done;
}

size_t unwind_hold_count(const struct unwind_hold *h)
{
	return h->nr;
}

size_t unwind_hold_bytes(const struct unwind_hold *h)
{
	return h->bytes;
}

/*
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * shared frames and one "sampled" profile per thread, hottest first, with
 * weights in nanoseconds. speedscope splits threads and inverts by itself,
 * so --threads, --processes and --invert do not apply here.
 */
#include "report/emit.h"

#include <stdlib.h>

#define SPEEDSCOPE_FLUSH_BYTES (1 << 20)

struct thread_total {
	uint32_t thread;
	uint64_t total;
};

static int cmp_thread_total(const void *a, const void *b)
{
	const struct thread_total *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->thread < y->thread ? -1 : x->thread > y->thread;
}

static void add_frame(struct strbuf *sb, const struct frame *f)
{
	strbuf_addstr(sb, "{\"name\":");
	strbuf_add_json_str(sb, f->name);
	if (f->file || f->module[0]) {
		strbuf_addstr(sb, ",\"file\":");
		strbuf_add_json_str(sb, f->file ? f->file : f->module);
	}
	if (f->file && f->line)
		strbuf_addf(sb, ",\"line\":%u", f->line);
	strbuf_addch(sb, '}');
}

int report_speedscope(const struct profile *p, const struct report_opts *o, FILE *out)
{
	struct report_opts flat = *o;
	struct thread_total *tt = xcalloc(p->nr_threads + 1, sizeof(*tt));
	uint32_t *shared = xmalloc((p->nr_frames + 1) * sizeof(*shared));
	uint32_t nr_shared = 0, *by_thread_start, *order;
	struct strbuf sb = STRBUF_INIT, frames = STRBUF_INIT;
	uint64_t period = p->meta.freq_hz ? 1000000000ull / p->meta.freq_hz : 1;
	frame_id_t path[TREE_MAX_PATH];
	/* Each stack's "[i,j,...]" rendered once: stacks recur on many threads. */
	struct strbuf cache = STRBUF_INIT;
	size_t *cache_off = xmalloc((p->nr_stacks + 1) * sizeof(*cache_off));
	bool first_profile = true;
	int err = 0;

	flat.view.by_process = flat.view.by_thread = flat.view.invert = false;
	for (size_t i = 0; i <= p->nr_stacks; i++)
		cache_off[i] = SIZE_MAX;
	for (size_t i = 0; i <= p->nr_frames; i++)
		shared[i] = UINT32_MAX;
	for (size_t t = 0; t < p->nr_threads; t++)
		tt[t].thread = t;
	for (size_t i = 0; i < p->nr_samples; i++)
		tt[p->samples[i].thread].total += p->samples[i].count;
	qsort(tt, p->nr_threads, sizeof(*tt), cmp_thread_total);
	/* Sample records grouped by thread, in record order within one. */
	by_thread_start = xcalloc(p->nr_threads + 1, sizeof(*by_thread_start));
	order = xcalloc(p->nr_samples + 1, sizeof(*order));
	for (size_t i = 0; i < p->nr_samples; i++)
		by_thread_start[p->samples[i].thread + 1]++;
	for (size_t t = 0; t < p->nr_threads; t++)
		by_thread_start[t + 1] += by_thread_start[t];
	{
		uint32_t *fill = xcalloc(p->nr_threads + 1, sizeof(*fill));

		for (size_t i = 0; i < p->nr_samples; i++) {
			uint32_t t = p->samples[i].thread;

			order[by_thread_start[t] + fill[t]++] = i;
		}
		free(fill);
	}

	strbuf_addstr(&sb, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
			   "\"exporter\":\"sampletop\",\"name\":");
	strbuf_add_json_str(&sb, p->meta.target ? p->meta.target : "sampletop");
	strbuf_addstr(&sb, ",\"activeProfileIndex\":0,\"profiles\":[");
	for (size_t ti = 0; ti < p->nr_threads; ti++) {
		const struct thread *th = &p->threads[tt[ti].thread];
		struct strbuf weights = STRBUF_INIT;
		uint64_t end = 0;
		bool first = true;

		if (!tt[ti].total)
			continue;
		strbuf_addstr(&sb, first_profile ? "\n{" : ",\n{");
		first_profile = false;
		strbuf_addstr(&sb, "\"type\":\"sampled\",\"name\":");
		{
			struct strbuf name = STRBUF_INIT;

			strbuf_addf(&name, "%s [%u] / %s [%u]", th->process, th->pid, th->comm, th->tid);
			strbuf_add_json_str(&sb, name.buf);
			strbuf_release(&name);
		}
		strbuf_addstr(&sb, ",\"unit\":\"nanoseconds\",\"startValue\":0,\"samples\":[");
		for (uint32_t k = by_thread_start[tt[ti].thread]; k < by_thread_start[tt[ti].thread + 1];
		     k++) {
			const struct sample_rec *s = &p->samples[order[k]];
			uint32_t n;

			if (!s->count)
				continue;
			if (cache_off[s->stack] == SIZE_MAX) {
				cache_off[s->stack] = cache.len;
				n = emit_sample_path(p, &flat, s, path, ARRAY_SIZE(path));
				if (n)
					strbuf_addch(&cache, '[');
				for (uint32_t j = 0; j < n; j++) {
					if (shared[path[j]] == UINT32_MAX) {
						if (nr_shared)
							strbuf_addch(&frames, ',');
						add_frame(&frames, profile_get_frame(p, path[j]));
						shared[path[j]] = nr_shared++;
					}
					if (j)
						strbuf_addch(&cache, ',');
					strbuf_add_u64(&cache, shared[path[j]]);
				}
				if (n)
					strbuf_addch(&cache, ']');
				/* NUL-separated, so that an empty entry marks "left out". */
				strbuf_add(&cache, "", 1);
			}
			if (!cache.buf[cache_off[s->stack]])
				continue;
			if (!first) {
				strbuf_addch(&sb, ',');
				strbuf_addch(&weights, ',');
			}
			first = false;
			strbuf_addstr(&sb, cache.buf + cache_off[s->stack]);
			strbuf_add_u64(&weights, s->count * period);
			end += s->count * period;
			err = err ?: strbuf_flush(&sb, out, SPEEDSCOPE_FLUSH_BYTES);
		}
		strbuf_addstr(&sb, "],\"weights\":[");
		strbuf_add(&sb, weights.buf, weights.len);
		strbuf_addf(&sb, "],\"endValue\":%llu}", (unsigned long long)end);
		strbuf_release(&weights);
	}
	strbuf_addstr(&sb, "],\n\"shared\":{\"frames\":[");
	strbuf_add(&sb, frames.buf, frames.len);
	strbuf_addstr(&sb, "]}}\n");
	err = err ?: strbuf_flush(&sb, out, 0);
	strbuf_release(&sb);
	strbuf_release(&frames);
	strbuf_release(&cache);
	free(cache_off);
	free(tt);
	free(shared);
	free(by_thread_start);
	free(order);
	return err;
}

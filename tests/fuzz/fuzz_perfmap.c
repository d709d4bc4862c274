/* libFuzzer target: perf map files (/tmp/perf-PID.map) written by the target.
 * The first byte sets a chunk size: the rest is fed in chunks of it, as a
 * growing file is read (each chunk's lines a sorted run merged into the
 * others), and every lookup must equal that of one parse of the whole. */
#include "symbols/perfmap.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void same_at(const struct perfmap *pm, const struct perfmap *whole, uint64_t addr)
{
	const struct perfmap_sym *x = perfmap_lookup(pm, addr), *y = perfmap_lookup(whole, addr);

	if (!x != !y)
		abort();
	if (x && (x->start != y->start || x->size != y->size || x->seq != y->seq ||
		  strcmp(perfmap_name(pm, x), perfmap_name(whole, y))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perfmap *pm, *whole;
	const char *text = (const char *)data + 1;
	size_t chunk, len, off = 0, end = 0;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] * 3 + 1;
	len = size - 1;
	pm = perfmap_new("", "fuzz");
	whole = perfmap_new("", "fuzz");
	perfmap_parse(whole, text, len);
	while (end < len) {
		end = end + chunk < len ? end + chunk : len;
		off += perfmap_parse(pm, text + off, end - off);
	}
	if (pm->nr != whole->nr || pm->bad_lines != whole->bad_lines || pm->dropped != whole->dropped)
		abort();
	for (size_t i = 0; i < whole->nr; i++) {
		const struct perfmap_sym *s = &whole->syms[i];

		same_at(pm, whole, s->start);
		same_at(pm, whole, s->start + s->size - 1);
		same_at(pm, whole, s->start + s->size);
		same_at(pm, whole, s->start - 1);
	}
	same_at(pm, whole, 0);
	same_at(pm, whole, UINT64_MAX);
	perfmap_free(pm);
	perfmap_free(whole);
	return 0;
}

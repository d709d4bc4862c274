/* libFuzzer target: perf map files (/tmp/perf-PID.map) written by the target. */
#include "symbols/perfmap.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perfmap *pm = perfmap_new("", "fuzz");
	size_t half = size / 2;

	/* In two pieces, as a growing file is read. */
	half = perfmap_parse(pm, (const char *)data, half);
	perfmap_parse(pm, (const char *)data + half, size - half);
	for (size_t i = 0; i < pm->nr; i++) {
		const struct perfmap_sym *s = perfmap_lookup(pm, pm->syms[i].start);

		if (s)
			(void)perfmap_name(pm, s)[0];
	}
	perfmap_lookup(pm, 0);
	perfmap_lookup(pm, UINT64_MAX);
	perfmap_free(pm);
	return 0;
}

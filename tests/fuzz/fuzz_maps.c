/* libFuzzer target: /proc/PID/maps text (paths are chosen by the process),
 * one line and a whole text as procfs reads it. */
#include "procs/procfs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int count(void *ctx, struct proc_map *m)
{
	(*(size_t *)ctx)++;
	if (m->end < m->start || strchr(m->path, '\n'))
		abort();	/* one line's mapping, never a piece of the next */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct proc_map m;
	size_t n = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (!proc_maps_parse_line(text, &m))
		free(m.path);
	proc_maps_each(text, count, &n);
	free(text);
	return 0;
}

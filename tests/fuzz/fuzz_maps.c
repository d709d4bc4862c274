/* libFuzzer target: /proc/PID/maps lines (paths are chosen by the process). */
#include "procs/procs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	struct proc_map m;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = 0;
	if (!proc_maps_parse_line(line, &m))
		free(m.path);
	free(line);
	return 0;
}

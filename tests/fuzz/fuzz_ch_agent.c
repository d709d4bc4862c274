/*
 * libFuzzer target: what the agent reads from a ClickHouse server (or
 * something posing as one): an error answer's body, the version string,
 * and system.parts lines naming partitions to drop. None may crash, and a
 * message shown must hold no byte a terminal interprets; only a store
 * table and an 8-digit day ever come out of a parts line.
 * Seeds: tests/fuzz/corpus/fuzz_ch_agent.
 */
#include "store/ch_http.h"
#include "store/ch_schema.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char err[256], table[64], id[16];
	char *text = malloc(size + 1);
	int maj, min;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ch_error_message((const char *)data, size, 500, err, sizeof(err));
	for (const unsigned char *p = (const unsigned char *)err; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
	ch_parse_version(text, &maj, &min);
	for (char *line = text, *nl; line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (ch_parse_part_line(line, table, sizeof(table), id, sizeof(id)) == 0 &&
		    (strlen(id) != 8 || strspn(id, "0123456789") != 8 ||
		     strspn(table, "abcdefghijklmnopqrstuvwxyz_") != strlen(table)))
			abort();
	}
	free(text);
	return 0;
}

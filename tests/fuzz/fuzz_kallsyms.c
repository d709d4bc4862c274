/* libFuzzer target: kallsyms-format text. */
#include "symbols/kallsyms.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = size ? fmemopen((void *)data, size, "r") : NULL;
	struct ksyms *k;

	if (!f)
		return 0;
	k = ksyms_load_file(f);
	fclose(f);
	for (size_t i = 0; k && i < k->nr; i++)
		ksyms_lookup(k, k->syms[i].addr + 1);
	ksyms_free(k);
	return 0;
}

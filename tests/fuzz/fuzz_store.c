/*
 * libFuzzer target: the saved-profile loader on hostile bytes. Whatever the
 * input, store_load_buf either refuses it with a reason or returns a profile
 * that every report writer can render (with a view that exercises collapsing,
 * inversion and per-thread levels) without a crash or sanitizer report.
 * Seeds: tests/golden/fixture.json.
 */
#include "report/report.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0 };
	const char *hide[] = { "*a*" };
	struct profile *p = NULL;
	char why[256] = "";
	int err = store_load_buf((const char *)data, size, &p, why, sizeof(why));

	if (err) {
		/* Refused: always with a reason, never with a half profile. */
		if (p || !why[0])
			abort();
		return 0;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int f = 0; f < FMT_NR; f++) {
			char *buf = NULL;
			size_t len = 0;
			FILE *out = open_memstream(&buf, &len);

			if (!out)
				abort();
			report_write(p, f, &o, out);
			fclose(out);
			free(buf);
		}
		o.view.invert = o.view.by_thread = o.view.by_process = o.view.kernel = true;
		o.lines = true;
		o.hide = hide;
		o.nr_hide = 1;
	}
	profile_free(p);
	return 0;
}

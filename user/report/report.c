/* The table of report formats and the dispatch to their writers. */
#include "report/report.h"
#include "store/store.h"
#include "base/util.h"

#include <errno.h>
#include <string.h>

struct format_desc {
	const char *name;
	const char *ext;	/* matched at the end of the output path */
	int (*write)(const struct profile *p, const struct report_opts *o, FILE *out);
};

/* The saved profile: everything, so no view option applies. */
static int report_saved(const struct profile *p, const struct report_opts *o, FILE *out)
{
	(void)o;
	return store_write(p, out);
}

/* Longer extensions first: ".speedscope.json" must win over ".json". */
static const struct format_desc formats[FMT_NR] = {
	[FMT_TEXT] = { "text", ".txt", report_text },
	[FMT_FOLDED] = { "folded", ".folded", report_folded },
	[FMT_JSON] = { "json", ".json", report_saved },
	[FMT_HTML] = { "html", ".html", report_html },
	[FMT_SPEEDSCOPE] = { "speedscope", ".speedscope.json", report_speedscope },
	[FMT_PPROF] = { "pprof", ".pb.gz", report_pprof },
};

int report_format_by_name(const char *name)
{
	for (int i = 0; i < FMT_NR; i++)
		if (!strcmp(formats[i].name, name))
			return i;
	return -1;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int report_format_by_path(const char *path)
{
	int best = -1;
	size_t best_len = 0;

	for (int i = 0; i < FMT_NR; i++) {
		size_t len = strlen(formats[i].ext);

		if (ends_with(path, formats[i].ext) && len > best_len) {
			best = i;
			best_len = len;
		}
	}
	return best;
}

const char *report_format_name(enum report_format fmt)
{
	return fmt < FMT_NR ? formats[fmt].name : "?";
}

int report_write(const struct profile *p, enum report_format fmt, const struct report_opts *o,
		 FILE *out)
{
	if (fmt >= FMT_NR || !formats[fmt].write)
		return -ENOTSUP;
	return formats[fmt].write(p, o, out);
}

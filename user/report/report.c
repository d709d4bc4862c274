/* The table of report formats, the dispatch to their writers, and what the
 * writers share: the collapse rules and sample paths their options imply. */
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

void report_collapse_rules(const struct profile *p, const struct report_opts *o, bool per_stack,
			   struct collapse_rules *r)
{
	*r = (struct collapse_rules){
		.hide = o->hide,
		.nr_hide = o->nr_hide,
		.show = o->show,
		.nr_show = o->nr_show,
		.show_all = o->show_all || (per_stack && !o->nr_hide && !o->nr_show),
	};
	collapse_rules_memo(r, p);
}

uint32_t report_sample_path(const struct profile *p, const struct report_opts *o,
			    const struct collapse_rules *r, const struct sample_rec *s,
			    frame_id_t *path, uint32_t cap)
{
	return collapse_path(p, r, path, tree_sample_path(p, &o->view, s, path, cap));
}

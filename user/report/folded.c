/* Folded stacks: "frame;frame;...;leaf COUNT" per distinct stack, root first
 * (flamegraph.pl's input); always top-down, whatever --invert says. Names are escaped; ';' inside a name would split
 * the frame, so it is written as \x3b. */
#include "report/report.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct line {
	char *text;
	uint64_t count;
};

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

static void add_frame(struct strbuf *sb, const struct frame *f, bool lines)
{
	struct strbuf esc = STRBUF_INIT;

	strbuf_add_escaped(&esc, f->name);
	for (const char *c = esc.buf; *c; c++) {
		if (*c == ';')
			strbuf_addstr(sb, "\\x3b");
		else
			strbuf_addch(sb, *c);
	}
	if (f->kind == FRAME_KERNEL)
		strbuf_addstr(sb, "_[k]");
	if (lines && f->file && f->line)
		strbuf_addf(sb, " %s:%u", module_basename(f->file), f->line);
	strbuf_release(&esc);
}

int report_folded(const struct profile *p, const struct report_opts *o, FILE *out)
{
	struct line *lines = xcalloc(p->nr_samples ? p->nr_samples : 1, sizeof(*lines));
	frame_id_t path[TREE_MAX_PATH];
	size_t nr = 0;
	int err = 0;

	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct sample_rec *s = &p->samples[i];
		struct strbuf sb = STRBUF_INIT;
		uint32_t n;

		if (!s->count)
			continue;
		n = tree_sample_path(p, &o->view, s, path, ARRAY_SIZE(path));
		if (!n)
			continue;
		for (uint32_t k = 0; k < n; k++) {
			if (k)
				strbuf_addch(&sb, ';');
			add_frame(&sb, profile_get_frame(p, path[k]), o->lines);
		}
		lines[nr].text = strbuf_detach(&sb);
		lines[nr++].count = s->count;
	}
	if (nr)
		qsort(lines, nr, sizeof(*lines), cmp_line);
	for (size_t i = 0; i < nr;) {
		uint64_t count = 0;
		size_t j = i;

		for (; j < nr && !strcmp(lines[j].text, lines[i].text); j++)
			count += lines[j].count;
		if (fprintf(out, "%s %llu\n", lines[i].text, (unsigned long long)count) < 0)
			err = -EIO;
		i = j;
	}
	for (size_t i = 0; i < nr; i++)
		free(lines[i].text);
	free(lines);
	return err;
}

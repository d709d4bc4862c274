/* Folded stacks: "frame;frame;...;leaf COUNT" per distinct stack, root first
 * (flamegraph.pl's input), sorted; always top-down, whatever --invert says.
 * Names are escaped; ';' inside a name would split the frame, so it is
 * written as \x3b. With --hide/--show, the library frames that the tree
 * views hide are left out. Built from the call tree, so each distinct path
 * is rendered once however many threads ran it. Grouped by process, the
 * first frame is the bare process name, as bcc's profile -f writes it, so
 * that every run of a program (a build's many cc1) adds up: the program
 * level of the tree views, with or without --processes. With --wall the
 * counts are microseconds of wall time (off-CPU leaves are "[sleeping]"...). */
#include "report/report.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FOLDED_FLUSH_BYTES (1 << 20)

struct line {
	size_t off;		/* of the NUL-terminated text in folded.lines */
	uint64_t count;
};

struct folded {
	const struct profile *p;
	struct tree *t;
	const struct report_opts *o;
	struct collapse_rules rules;
	char **text;		/* per frame, rendered once */
	struct strbuf prefix, lines;
	struct line *v;
	size_t nr, alloc;
};

static const char *frame_text(struct folded *c, frame_id_t id)
{
	const struct frame *f = profile_get_frame(c->p, id);
	struct strbuf esc = STRBUF_INIT, sb = STRBUF_INIT;

	if (c->text[id])
		return c->text[id];
	strbuf_add_escaped(&esc, f->name);
	if (f->kind == FRAME_PROCESS) {
		/* "name [pid]" -> "name" */
		char *bracket = strrchr(esc.buf, '[');

		if (bracket && bracket > esc.buf && bracket[-1] == ' ') {
			esc.len = bracket - 1 - esc.buf;
			esc.buf[esc.len] = 0;
		}
	}
	for (const char *s = esc.buf; *s; s++) {
		if (*s == ';')
			strbuf_addstr(&sb, "\\x3b");
		else
			strbuf_addch(&sb, *s);
	}
	if (f->kind == FRAME_KERNEL)
		strbuf_addstr(&sb, "_[k]");
	if (c->o->lines && f->file && f->line) {
		strbuf_addch(&sb, ' ');
		strbuf_add_escaped(&sb, module_basename(f->file));
		strbuf_addf(&sb, ":%u", f->line);
	}
	strbuf_release(&esc);
	return c->text[id] = strbuf_detach(&sb);
}

static void walk(struct folded *c, uint32_t n)
{
	const struct tree *t = c->t;
	size_t plen = c->prefix.len;

	for (uint32_t k = tree_first(t, n); k != NODE_NONE; k = tree_next(t, k)) {
		frame_id_t f = t->nodes[k].frame;

		if (!collapse_hidden(c->p, t->nodes[n].frame, f, &c->rules)) {
			if (c->prefix.len)
				strbuf_addch(&c->prefix, ';');
			strbuf_addstr(&c->prefix, frame_text(c, f));
		}
		if (t->nodes[k].self) {
			XGROW(c->v, c->alloc, c->nr + 1);
			c->v[c->nr].off = c->lines.len;
			c->v[c->nr++].count = t->nodes[k].self;
			strbuf_add(&c->lines, c->prefix.buf, c->prefix.len + 1);
		}
		walk(c, k);
		c->prefix.len = plen;
		c->prefix.buf[plen] = 0;
	}
}

/* --wall: counts are ns; flame graph tools want integers, and microseconds
 * keep a long run's sums small. Rounded to the nearest, and a stack with
 * any time keeps at least 1 so that none vanishes. */
static uint64_t wall_us(uint64_t ns)
{
	uint64_t us = (ns + 500) / 1000;

	return us || !ns ? us : 1;
}

static int cmp_line(const void *a, const void *b, void *ctx)
{
	const char *base = ctx;

	return strcmp(base + ((const struct line *)a)->off, base + ((const struct line *)b)->off);
}

/* Sorted, so that paths that print the same (hidden frames make them) are
 * neighbours: each is written once with their counts added up. */
static int write_lines(struct folded *c, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	int err = 0;

	if (c->nr)
		qsort_r(c->v, c->nr, sizeof(*c->v), cmp_line, c->lines.buf);
	for (size_t i = 0; i < c->nr;) {
		const char *text = c->lines.buf + c->v[i].off;
		uint64_t count = 0;
		size_t j = i;

		for (; j < c->nr && !strcmp(c->lines.buf + c->v[j].off, text); j++)
			count += c->v[j].count;
		strbuf_addstr(&sb, text);
		strbuf_addch(&sb, ' ');
		strbuf_add_u64(&sb, c->p->meta.wall ? wall_us(count) : count);
		strbuf_addch(&sb, '\n');
		err = err ?: strbuf_flush(&sb, out, FOLDED_FLUSH_BYTES);
		i = j;
	}
	err = err ?: strbuf_flush(&sb, out, 0);
	strbuf_release(&sb);
	return err;
}

int report_folded(const struct profile *p, const struct report_opts *o, FILE *out)
{
	struct view_opts v = o->view;
	struct folded c = { .p = p, .o = o, .prefix = STRBUF_INIT, .lines = STRBUF_INIT };
	int err;

	v.invert = false;
	v.by_program = false;	/* the process level, written as its program */
	c.t = tree_build(p, &v);
	report_collapse_rules(p, o, true, &c.rules);
	c.text = xcalloc(p->nr_frames + 1, sizeof(*c.text));
	walk(&c, 0);
	err = write_lines(&c, out);
	for (size_t i = 0; i < p->nr_frames; i++)
		free(c.text[i]);
	free(c.text);
	collapse_rules_release(&c.rules);
	free(c.v);
	strbuf_release(&c.prefix);
	strbuf_release(&c.lines);
	tree_free(c.t);
	return err;
}

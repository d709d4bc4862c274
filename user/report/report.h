/*
 * Reports: one file per output format, all reading a profile through the same
 * options. report_write() picks the writer from the format table.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "model/collapse.h"
#include "model/profile.h"
#include "model/tree.h"
#include "base/util.h"

enum report_format {
	FMT_TEXT,
	FMT_FOLDED,
	FMT_JSON,
	FMT_HTML,
	FMT_SPEEDSCOPE,
	FMT_PPROF,
	FMT_NR,
};

struct report_opts {
	struct view_opts view;
	bool lines;		/* show file:line */
	bool ascii;		/* no box drawing */
	bool color;		/* ANSI colour (text on a terminal) */
	bool show_all;		/* no library collapsing */
	const char **hide;	/* globs of frames/modules to collapse */
	size_t nr_hide;
	const char **show;	/* globs that are never collapsed */
	size_t nr_show;
	double min_percent;	/* nodes under this share of the total are elided */
	bool counters;		/* text: every counter and its meaning under the header */
};

/* Writes p as fmt to out. Returns 0 or a negative errno. */
int report_write(const struct profile *p, enum report_format fmt, const struct report_opts *o,
		 FILE *out);

/* "text", "json", ... -> format; -1 if unknown. */
int report_format_by_name(const char *name);
/* Inferred from a file name's extension (".speedscope.json" before ".json"); -1 if none. */
int report_format_by_path(const char *path);
const char *report_format_name(enum report_format fmt);

/* The header every human-readable report starts with: the target, the time,
 * duration, CPU time and frequency, and what was lost in one line of words
 * (model/summary.h; o->ascii: ", " between its parts instead of " · ";
 * --wall: o->view.show_idle says whether idle threads count, as in the tree). */
void report_text_header(const struct profile *p, const struct report_opts *o, struct strbuf *sb);

/*
 * For the writers: the library-collapsing rules o implies, with a verdict
 * memo for p's frames (free with collapse_rules_release). per_stack: for the
 * stack-per-sample formats (folded, speedscope, pprof), which collapse only
 * when --hide or --show asks (flame graph tools draw whole stacks); the tree
 * formats (text, html) always do.
 */
void report_collapse_rules(const struct profile *p, const struct report_opts *o, bool per_stack,
			   struct collapse_rules *r);
/* The frames of sample s that a stack-per-sample format writes, root first:
 * the view's path without the frames r hides. Returns how many; 0: left out. */
uint32_t report_sample_path(const struct profile *p, const struct report_opts *o,
			    const struct collapse_rules *r, const struct sample_rec *s,
			    frame_id_t *path, uint32_t cap);

/* The writers. Each returns 0 or a negative errno. */
int report_text(const struct profile *p, const struct report_opts *o, FILE *out);
int report_folded(const struct profile *p, const struct report_opts *o, FILE *out);
int report_html(const struct profile *p, const struct report_opts *o, FILE *out);
/* The HTML page for a tree t of p. With base (a count per node of t, out of
 * base_total), a differential flame graph: red grew, blue shrank. title and
 * header are plain text (escaped here). */
int report_html_tree(const struct profile *p, const struct tree *t, const uint64_t *base,
		     uint64_t base_total, const char *title, const char *header,
		     const struct report_opts *o, FILE *out);
/* Compares two profiles (before a, after b; names for the header): text (the
 * functions whose share grew or shrank) or html (a differential flame graph);
 * -ENOTSUP for other formats. */
int report_diff(const struct profile *a, const struct profile *b, const char *name_a,
		const char *name_b, enum report_format fmt, const struct report_opts *o, FILE *out);
/* The call tree of p as the text report draws it (no header), into sb. */
void report_text_tree(const struct profile *p, const struct report_opts *o, struct strbuf *sb);

/* --scope (report/calls.c): the calls section of the text report, of the
 * HTML page (a table, and each kept call's tree), nothing without calls. */
void report_text_calls(const struct profile *p, const struct report_opts *o, struct strbuf *sb);
void report_html_calls(const struct profile *p, const struct report_opts *o, struct strbuf *sb);
/* "40 calls, total 5.1 s, p50 1.2 ms, p90 ..., p99 ..., max ..." (sep
 * between the parts; plain ASCII but sep). */
struct calls_fn;
void report_calls_summary(struct calls_fn *f, const char *sep, struct strbuf *sb);
/* Lines of plain text into HTML: each escaped (strbuf_add_html), the
 * newlines kept. */
void report_html_lines(struct strbuf *sb, const char *text);
/* A duration for people: "850 us", "252.4 ms", "1.203 s". */
void report_duration(uint64_t ns, struct strbuf *sb);
/* The range of histogram bin i: "<1 us", "200-500 ms", ">=5000 s". */
void report_hist_label(uint32_t bin, struct strbuf *sb);

int report_speedscope(const struct profile *p, const struct report_opts *o, FILE *out);
int report_pprof(const struct profile *p, const struct report_opts *o, FILE *out);

#endif

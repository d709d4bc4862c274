/*
 * The HTML report: one self-contained page (no network) with an icicle
 * flame graph, search, zoom, tooltips and a collapsible tree. The tree is
 * built with the view options and library collapsing, then embedded as JSON
 * (names escaped by strbuf_add_json, so "</script>" cannot occur); the
 * page's script (html_page.c) inserts names as text only.
 */
#include "report/report.h"
#include "report/html_page.h"
#include "model/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Nodes under this share of the total (in percent) are left out of the page
 * unless --min-percent asks for less: enough to zoom far into a profile
 * while keeping the page small. */
#define HTML_MIN_PERCENT 0.01
#define HTML_FLUSH_BYTES (1 << 20)

struct html_ctx {
	const struct tree *t;
	const uint64_t *base;
	struct collapse_rules rules;
	uint64_t min_count;
	uint32_t *frame_idx;	/* frame id -> index in the page's frame table */
	frame_id_t *frames;	/* page frame table -> frame id */
	size_t nr_frames, alloc_frames;
	struct strbuf nodes;
	uint32_t nr_nodes;
	FILE *out;
	int err;
	const struct report_opts *o;	/* NULL for a diff */
};

static uint32_t page_frame(struct html_ctx *c, frame_id_t f)
{
	if (c->frame_idx[f] == UINT32_MAX) {
		XGROW(c->frames, c->alloc_frames, c->nr_frames + 1);
		c->frames[c->nr_frames] = f;
		c->frame_idx[f] = c->nr_frames++;
	}
	return c->frame_idx[f];
}

/* Writes node n (shown as row id parent's child) and, in pre-order, the
 * children shown below it. */
static void add_node(struct html_ctx *c, uint32_t n, uint32_t parent)
{
	const struct tree *t = c->t;
	struct collapse_children cc = { .modules = STRBUF_INIT };
	uint32_t id = c->nr_nodes++;
	struct strbuf *sb = &c->nodes;

	collapse_children(t, n, &c->rules, &cc);
	strbuf_addstr(sb, id ? ",\n[" : "\n[");
	if (n)
		strbuf_add_u64(sb, page_frame(c, t->nodes[n].frame));
	else
		strbuf_addstr(sb, "-1");
	strbuf_addch(sb, ',');
	if (id)
		strbuf_add_u64(sb, parent);
	else
		strbuf_addstr(sb, "-1");
	strbuf_addch(sb, ',');
	strbuf_add_u64(sb, t->nodes[n].total);
	strbuf_addch(sb, ',');
	strbuf_add_u64(sb, t->nodes[n].self + cc.hidden_self);
	strbuf_addch(sb, ',');
	strbuf_add_u64(sb, cc.nr_hidden);
	strbuf_addch(sb, ',');
	strbuf_add_json_str(sb, cc.modules.buf);
	if (c->base) {
		strbuf_addch(sb, ',');
		strbuf_add_u64(sb, c->base[n]);
	}
	strbuf_addch(sb, ']');
	c->err = c->err ?: strbuf_flush(sb, c->out, HTML_FLUSH_BYTES);
	/* A node shown in a diff may have no samples on one side: keep it if
	 * either side reaches the threshold. */
	for (size_t i = 0; i < cc.nr; i++) {
		uint32_t k = cc.nodes[i];

		if (t->nodes[k].total >= c->min_count || (c->base && c->base[k] >= c->min_count))
			add_node(c, k, id);
	}
	collapse_children_release(&cc);
}

static void add_frames(struct html_ctx *c, const struct profile *p, struct strbuf *sb)
{
	struct strbuf esc = STRBUF_INIT, label = STRBUF_INIT;

	strbuf_addstr(sb, ",\n\"frames\": [");
	for (size_t i = 0; i < c->nr_frames; i++) {
		const struct frame *f = profile_get_frame(p, c->frames[i]);
		/* 4: --wall, why a thread was off the CPU */
		int kind = (f->flags & FRAME_F_OFFCPU) ? 4 : f->kind >= FRAME_PROCESS ? 3 :
			   f->kind == FRAME_KERNEL ? 2 :
			   collapse_is_library(p, c->frames[i], &c->rules) ? 1 : 0;

		/* Shown as the text report shows them: control bytes as \xNN. */
		strbuf_reset(&label);
		tree_frame_label(c->t, c->frames[i], &label);
		strbuf_reset(&esc);
		strbuf_add_escaped(&esc, label.buf);
		strbuf_addstr(sb, i ? ",\n[" : "\n[");
		strbuf_add_json_str(sb, esc.buf);
		strbuf_reset(&esc);
		strbuf_add_escaped(&esc, f->kind == FRAME_KERNEL ? "[kernel]" : module_basename(f->module));
		strbuf_addch(sb, ',');
		strbuf_add_json_str(sb, esc.buf);
		strbuf_reset(&esc);
		if (f->file) {
			strbuf_add_escaped(&esc, f->file);
			if (f->line)
				strbuf_addf(&esc, ":%u", f->line);
		}
		strbuf_addch(sb, ',');
		strbuf_add_json_str(sb, esc.buf);
		strbuf_addf(sb, ",%d]", kind);
	}
	strbuf_addstr(sb, "]");
	strbuf_release(&esc);
	strbuf_release(&label);
}

/* Plain text, escaped line by line: the escaping would show a newline as \x0a. */
static void add_html_lines(struct strbuf *sb, const char *text)
{
	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");
		char *line = xstrndup(l, n);

		strbuf_add_html(sb, line);
		free(line);
		l += n;
		if (*l) {
			strbuf_addch(sb, '\n');
			l++;
		}
	}
}

/* The page up to the nodes: head, header (plain text, escaped here) with the
 * counters behind a click (details: plain text, or NULL), the search bar and
 * the containers the script fills. */
static void add_page_head(struct strbuf *sb, const char *title, const char *header,
			  const char *details)
{
	strbuf_addstr(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			  "<meta name=\"viewport\" content=\"width=device-width\">\n<title>");
	strbuf_add_html(sb, title);
	strbuf_addstr(sb, "</title>\n<style>\n");
	strbuf_addstr(sb, html_page_css);
	strbuf_addstr(sb, "</style>\n</head>\n<body>\n<header><h1>");
	strbuf_add_html(sb, title);
	strbuf_addstr(sb, "</h1><pre>");
	add_html_lines(sb, header);
	strbuf_addstr(sb, "</pre>");
	if (details) {
		strbuf_addstr(sb, "<details id=\"counters\"><summary>" SUMMARY_DETAILS_TITLE
				  "</summary><pre>");
		add_html_lines(sb, details);
		strbuf_addstr(sb, "</pre></details>");
	}
	strbuf_addstr(sb, "</header>\n<div id=\"bar\"><input id=\"search\" type=\"search\" "
			  "placeholder=\"Search functions\" autocomplete=\"off\">"
			  "<span id=\"status\"></span><span id=\"crumbs\"></span></div>\n"
			  "<div id=\"flame\"></div>\n<div id=\"tip\"></div>\n"
			  "<div id=\"tree\"></div>\n"
			  "<script type=\"application/json\" id=\"data\">{\"nodes\": [");
}

/* After the nodes: the frame table they name, the totals, the script. */
static void add_page_tail(struct html_ctx *c, const struct profile *p, uint64_t base_total,
			  struct strbuf *sb)
{
	strbuf_addstr(sb, "]");
	add_frames(c, p, sb);
	/* freq: counts a second (--wall: counts are ns) */
	strbuf_addf(sb, ",\n\"total\": %llu, \"freq\": %u, \"wall\": %s, \"diff\": %s, "
			"\"baseTotal\": %llu}</script>\n<script>\n",
		    (unsigned long long)c->t->total,
		    p->meta.wall ? 1000000000u : p->meta.freq_hz ? p->meta.freq_hz : 1,
		    p->meta.wall ? "true" : "false", c->base ? "true" : "false",
		    (unsigned long long)base_total);
	strbuf_addstr(sb, html_page_js);
	strbuf_addstr(sb, "</script>\n");
	if (c->o)	/* --scope: the calls table and the slowest calls' trees */
		report_html_calls(p, c->o, sb);
	strbuf_addstr(sb, "</body>\n</html>\n");
}

int report_html_tree(const struct profile *p, const struct tree *t, const uint64_t *base,
		     uint64_t base_total, const char *title, const char *header,
		     const struct report_opts *o, FILE *out)
{
	struct html_ctx c = { .t = t, .base = base, .nodes = STRBUF_INIT, .out = out,
			      .o = base ? NULL : o };
	struct strbuf sb = STRBUF_INIT, details = STRBUF_INIT;
	double min_pct = o->min_percent < HTML_MIN_PERCENT ? o->min_percent : HTML_MIN_PERCENT;
	int err;

	report_collapse_rules(p, o, false, &c.rules);
	c.min_count = (uint64_t)ceil(t->total * min_pct / 100.0);
	if (!c.min_count)
		c.min_count = 1;
	c.frame_idx = xmalloc((p->nr_frames + 1) * sizeof(*c.frame_idx));
	for (size_t i = 0; i <= p->nr_frames; i++)
		c.frame_idx[i] = UINT32_MAX;

	/* A diff's profile is two merged: its counters say nothing. */
	if (!base)
		summary_details(p, &details);
	add_page_head(&sb, title, header, base ? NULL : details.buf);
	strbuf_release(&details);
	err = strbuf_flush(&sb, out, 0);
	/* Nodes stream out; the frame table they name follows them. */
	add_node(&c, 0, 0);
	err = err ?: c.err ?: strbuf_flush(&c.nodes, out, 0);
	add_page_tail(&c, p, base_total, &sb);
	err = err ?: strbuf_flush(&sb, out, 0);

	strbuf_release(&sb);
	strbuf_release(&c.nodes);
	free(c.frame_idx);
	collapse_rules_release(&c.rules);
	free(c.frames);
	return err;
}

int report_html(const struct profile *p, const struct report_opts *o, FILE *out)
{
	struct strbuf title = STRBUF_INIT, header = STRBUF_INIT;
	struct tree *t = tree_build(p, &o->view);
	size_t nl;
	int err;

	report_text_header(p, o, &header);
	/* The header's first line is the title. */
	nl = strcspn(header.buf, "\n");
	strbuf_add(&title, header.buf, nl);
	err = report_html_tree(p, t, NULL, 0, title.buf, header.buf + nl + (header.buf[nl] ? 1 : 0),
			       o, out);
	strbuf_release(&title);
	strbuf_release(&header);
	tree_free(t);
	return err;
}

void report_html_lines(struct strbuf *sb, const char *text)
{
	add_html_lines(sb, text);
}

/* The text report: a pyinstrument-like header and an indented call tree,
 * "total-seconds  function  module", hot paths first, [self] rows. */
#include "report/report.h"
#include "model/summary.h"
#include "base/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#define C_RESET "\033[0m"
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_GREEN "\033[32m"
#define C_CYAN "\033[36m"
#define C_BLUE "\033[34m"

struct text_ctx {
	const struct profile *p;
	const struct report_opts *o;
	struct tree *t;
	struct strbuf out;
	struct strbuf prefix;
	struct strbuf label;	/* scratch: a node's name */
	uint64_t min_count;
	struct collapse_rules rules;
};

static const char *heat(const struct text_ctx *c, uint64_t count)
{
	static const char *const colors[] = {
		[TREE_HEAT_COOL] = C_CYAN, [TREE_HEAT_MILD] = C_GREEN,
		[TREE_HEAT_WARM] = C_YELLOW, [TREE_HEAT_HOT] = C_RED,
	};

	if (!c->o->color)
		return "";
	return colors[tree_heat(c->t->total ? (double)count / c->t->total : 0)];
}

static void add_colored(struct text_ctx *c, const char *color, const char *s)
{
	if (c->o->color && color[0])
		strbuf_addstr(&c->out, color);
	strbuf_add_escaped(&c->out, s);
	if (c->o->color && color[0])
		strbuf_addstr(&c->out, C_RESET);
}

static void add_line(struct text_ctx *c, uint64_t count, const char *name, const struct frame *f)
{
	strbuf_addstr(&c->out, heat(c, count));
	strbuf_addf(&c->out, "%.3f", profile_seconds(c->p, count));
	if (c->o->color)
		strbuf_addstr(&c->out, C_RESET);
	strbuf_addch(&c->out, ' ');
	/* --wall: why a thread was off the CPU, apart from the code it ran. */
	if (f && (f->flags & FRAME_F_OFFCPU))
		add_colored(c, C_BLUE, name);
	else
		add_colored(c, f && f->kind <= FRAME_PYTHON ? "" : C_BOLD, name);
	if (f && f->kind == FRAME_KERNEL) {
		add_colored(c, C_DIM, "  [kernel]");
	} else if (f && f->module[0]) {
		strbuf_addstr(&c->out, "  ");
		add_colored(c, C_DIM, module_basename(f->module));
	}
	if (f && c->o->lines && f->file && f->line) {
		struct strbuf loc = STRBUF_INIT;

		strbuf_addf(&loc, "%s:%u", f->file, f->line);
		strbuf_addstr(&c->out, "  ");
		add_colored(c, C_DIM, loc.buf);
		strbuf_release(&loc);
	}
	if (f && (f->flags & FRAME_F_INLINED))
		add_colored(c, C_DIM, " (inlined)");
	strbuf_addch(&c->out, '\n');
}

static void add_node_line(struct text_ctx *c, uint32_t n)
{
	strbuf_reset(&c->label);
	tree_frame_label(c->t, c->t->nodes[n].frame, &c->label);
	add_line(c, c->t->nodes[n].total, c->label.buf, tree_frame(c->t, n));
}

static void add_self(struct text_ctx *c, const char *branch, uint64_t self)
{
	strbuf_add(&c->out, c->prefix.buf, c->prefix.len);
	strbuf_addstr(&c->out, branch);
	strbuf_addstr(&c->out, heat(c, self));
	strbuf_addf(&c->out, "%.3f", profile_seconds(c->p, self));
	if (c->o->color)
		strbuf_addstr(&c->out, C_RESET);
	strbuf_addstr(&c->out, " [self]\n");
}

/* Prints the rows under visible node n: a "[N frames hidden] modules" row
 * when library frames were collapsed, the children as shown (sorted by
 * total, so the ones above --min-percent are a prefix), then [self]. */
static void walk(struct text_ctx *c, uint32_t n)
{
	const struct tree *t = c->t;
	const char *tee = c->o->ascii ? "|- " : "├─ ", *elbow = c->o->ascii ? "`- " : "└─ ";
	const char *bar = c->o->ascii ? "|  " : "│  ";
	struct collapse_children cc = { .modules = STRBUF_INIT };
	size_t shown = 0, plen = c->prefix.len;
	uint64_t self;
	bool show_hidden, show_self;

	collapse_children(t, n, &c->rules, &cc);
	while (shown < cc.nr && t->nodes[cc.nodes[shown]].total >= c->min_count)
		shown++;
	/* Time in hidden frames with nothing visible below counts as the node's own. */
	self = t->nodes[n].self + cc.hidden_self;
	show_hidden = cc.nr_hidden && (shown || self >= c->min_count);
	/* A [self] row only where there is something else to compare it with. */
	show_self = (shown || show_hidden) && self >= c->min_count;

	if (show_hidden) {
		strbuf_add(&c->out, c->prefix.buf, c->prefix.len);
		strbuf_addstr(&c->out, shown || show_self ? tee : elbow);
		strbuf_addf(&c->out, "[%u frame%s hidden]  ", cc.nr_hidden, cc.nr_hidden == 1 ? "" : "s");
		add_colored(c, C_DIM, cc.modules.buf);
		strbuf_addch(&c->out, '\n');
	}
	for (size_t i = 0; i < shown; i++) {
		uint32_t k = cc.nodes[i];
		bool last = i + 1 == shown && !show_self;

		strbuf_add(&c->out, c->prefix.buf, c->prefix.len);
		strbuf_addstr(&c->out, last ? elbow : tee);
		add_node_line(c, k);
		strbuf_addstr(&c->prefix, last ? "   " : bar);
		walk(c, k);
		c->prefix.len = plen;
		c->prefix.buf[plen] = 0;
	}
	if (show_self)
		add_self(c, elbow, self);
	collapse_children_release(&cc);
}

/* The roots are printed flush left, like pyinstrument's. */
static void walk_roots(struct text_ctx *c)
{
	const struct tree *t = c->t;

	for (uint32_t k = tree_first(t, 0); k != NODE_NONE; k = tree_next(t, k)) {
		if (t->nodes[k].total < c->min_count)
			continue;
		add_node_line(c, k);
		walk(c, k);
	}
}

/* --wall: what the tree adds up, on and off the CPU, over how many threads
 * (their wall times add up past the duration). Threads idle the whole run
 * count as the tree shows them: hidden unless show_idle, said either way. */
static void add_wall_line(const struct profile *p, bool show_idle, struct strbuf *sb)
{
	uint64_t cpu = profile_cpu_weight(p);
	uint32_t nr_idle;
	uint64_t idle = profile_idle_weight(p, &nr_idle);
	uint64_t total = show_idle ? p->total : p->total - idle;
	size_t threads = 0;
	uint8_t *seen = xcalloc(p->nr_threads + 1, 1);

	for (size_t i = 0; i < p->nr_samples; i++)
		if (p->samples[i].count && !seen[p->samples[i].thread] &&
		    (show_idle || !profile_stack_idle(p, p->samples[i].stack))) {
			seen[p->samples[i].thread] = 1;
			threads++;
		}
	free(seen);
	strbuf_addf(sb, "Wall-clock time: %.3f s in %zu thread%s", profile_seconds(p, total), threads,
		    threads == 1 ? "" : "s");
	if (nr_idle && show_idle)
		strbuf_addf(sb, " (%u idle the whole run)", nr_idle);
	else if (nr_idle)
		strbuf_addf(sb, " (%u idle thread%s hidden: --show-idle)", nr_idle,
			    nr_idle == 1 ? "" : "s");
	strbuf_addf(sb, ": %.3f s on the CPU, %.3f s off it (why: the [bracketed] leaves)\n",
		    profile_seconds(p, cpu), profile_seconds(p, total - cpu));
}

void report_text_header(const struct profile *p, const struct report_opts *o, struct strbuf *sb)
{
	const struct profile_meta *m = &p->meta;
	time_t when = m->start_wall_ns / 1000000000ull;
	double secs = m->duration_ns / 1e9;
	struct summary sum = { .nr = 0 };
	char date[64] = "?";
	struct tm tm;

	if (when && localtime_r(&when, &tm))
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	strbuf_addstr(sb, "sampletop: ");
	strbuf_add_escaped(sb, m->target ? m->target : "?");
	strbuf_addch(sb, '\n');
	strbuf_addf(sb, "Recorded: %s   Duration: %.3f s   CPU time: %.3f s   Frequency: %u Hz\n",
		    date, secs, profile_seconds(p, profile_cpu_weight(p)), m->freq_hz);
	if (m->wall)
		add_wall_line(p, o->view.show_idle, sb);
	/* A rate of samples only where counts are samples. */
	summary_of_profile(&sum, p, secs > 0 && !m->wall ? (uint64_t)(p->total / secs + 0.5) : 0,
			   NULL);
	summary_join(&sum, o->ascii ? ", " : " \u00b7 ", 0, sb);
	strbuf_addch(sb, '\n');
	if (m->note) {
		strbuf_add_escaped(sb, m->note);
		strbuf_addch(sb, '\n');
	}
}

int report_text(const struct profile *p, const struct report_opts *o, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	int err = 0;

	report_text_header(p, o, &sb);
	if (o->counters) {
		strbuf_addstr(&sb, "\n" SUMMARY_DETAILS_TITLE ":\n");
		summary_details(p, &sb);
	}
	strbuf_addch(&sb, '\n');
	report_text_tree(p, o, &sb);
	report_text_calls(p, o, &sb);
	if (fwrite(sb.buf, 1, sb.len, out) != sb.len)
		err = -EIO;
	strbuf_release(&sb);
	return err;
}

void report_text_tree(const struct profile *p, const struct report_opts *o, struct strbuf *sb)
{
	struct text_ctx c = { .p = p, .o = o, .out = STRBUF_INIT, .prefix = STRBUF_INIT,
			      .label = STRBUF_INIT };

	report_collapse_rules(p, o, false, &c.rules);
	c.t = tree_build(p, &o->view);
	c.min_count = (uint64_t)ceil(c.t->total * o->min_percent / 100.0) ?: 1;
	if (!c.t->total)
		strbuf_addstr(&c.out, "No samples.\n");
	walk_roots(&c);
	strbuf_add(sb, c.out.buf, c.out.len);
	strbuf_release(&c.out);
	strbuf_release(&c.prefix);
	strbuf_release(&c.label);
	tree_free(c.t);
	collapse_rules_release(&c.rules);
}

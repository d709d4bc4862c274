/* The live view's screen: the ncurses loop that drains the caller's source,
 * rebuilds the view about once a second and draws the header, the rows of
 * the view model, a status line and a key bar. Drawing never changes the
 * model; what a key asks of the profile goes to the source. */
#define NCURSES_WIDECHAR 1
#include "tui/screen.h"
#include "tui/state.h"
#include "model/summary.h"
#include "report/report.h"
#include "base/util.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

/* The drain period matches the record loop's; the screen refreshes about
 * once a second, and at once after a key. */
#define POLL_NS (100 * 1000000ull)
#define REFRESH_NS (1000 * 1000000ull)
/* The decaying window keeps 3/4 of the counts at each refresh: a sample
 * weighs half after ~2.4 s, so the view follows phases of a few seconds. */
#define DECAY_NUM 3
#define DECAY_DEN 4
/* Tree rebuilds take at most 1/REBUILD_SHARE of a core (1%, half of the
 * whole program's 2% budget for -a): a profile so big that a rebuild costs
 * more than 10 ms of CPU is rebuilt less often, at most every REBUILD_MAX_NS.
 * The header still updates every second. */
#define REBUILD_SHARE 100
#define REBUILD_MAX_NS (10 * 1000000000ull)
/* Standard input readable this many times in a row without a key: it is at
 * its end (closed or /dev/null), and no one can ever press q. */
#define MAX_IDLE_WAKEUPS 20
/* Rows above the list (header, status, column titles) and below (key bar). */
#define HEAD_LINES 4
#define FOOT_LINES 1

enum pair {
	PAIR_HOT = 1,	/* >= 60% */
	PAIR_WARM,	/* >= 30% */
	PAIR_MILD,	/* >= 15% */
	PAIR_DIM,	/* modules, hidden groups */
	PAIR_SEL,	/* the selected line */
	PAIR_BAR,	/* key bar labels, column titles */
	PAIR_MATCH,	/* search matches */
	PAIR_ALERT,	/* PAUSED, exited */
};

struct screen {
	bool color;
	bool utf8;		/* box-drawing and arrows allowed */
	struct tui t;
	bool exited;		/* the source said every target exited */
	bool dirty;		/* redraw before sleeping */
	int idle_wakeups;	/* standard input readable with no key, in a row */
	uint64_t pending;	/* samples drained since the last rebuild */
	struct summary_memo memo;	/* for the header's share of unnamed frames */
	/* The loop's clocks (now_ns()); deadline 0: none. */
	uint64_t next_poll, next_refresh, next_rebuild, last_refresh, deadline;
};

static bool screen_active;

static void screen_restore(void)
{
	if (screen_active) {
		screen_active = false;
		endwin();
	}
}

static attr_t pair_attr(const struct screen *s, enum pair p, attr_t mono)
{
	return s->color ? COLOR_PAIR(p) : mono;
}

static void init_colors(struct screen *s)
{
	if (!s->color || !has_colors()) {
		s->color = false;
		return;
	}
	start_color();
	use_default_colors();
	init_pair(PAIR_HOT, COLOR_RED, -1);
	init_pair(PAIR_WARM, COLOR_YELLOW, -1);
	init_pair(PAIR_MILD, COLOR_GREEN, -1);
	init_pair(PAIR_DIM, COLOR_CYAN, -1);
	init_pair(PAIR_SEL, COLOR_BLACK, COLOR_CYAN);
	init_pair(PAIR_BAR, COLOR_BLACK, COLOR_CYAN);
	init_pair(PAIR_MATCH, COLOR_BLACK, COLOR_YELLOW);
	init_pair(PAIR_ALERT, COLOR_WHITE, COLOR_RED);
}

/* Draws s at (y, x) clipped to end column xend; non-printable characters
 * (already escaped upstream; this is a second line of defence) become '?'.
 * Returns the column after the text. */
static int put(int y, int x, int xend, const char *str, attr_t a)
{
	mbstate_t st = { 0 };
	wchar_t buf[256];
	size_t n = 0, len = strlen(str);
	const char *p = str;

	if (x >= xend)
		return x;
	attrset(a);
	move(y, x);
	while (len && x < xend) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, p, len, &st);
		int w;

		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&st, 0, sizeof(st));
			wc = L'?';
			k = 1;
		}
		w = wcwidth(wc);
		if (w < 0) {
			wc = L'?';
			w = 1;
		}
		if (x + w > xend)
			break;
		buf[n++] = wc;
		x += w;
		p += k;
		len -= k;
		if (n == ARRAY_SIZE(buf)) {
			addnwstr(buf, n);
			n = 0;
		}
	}
	if (n)
		addnwstr(buf, n);
	return x;
}

static int putf(int y, int x, int xend, attr_t a, const char *fmt, ...) PRINTF(5, 6);
static int putf(int y, int x, int xend, attr_t a, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	x = put(y, x, xend, sb.buf, a);
	strbuf_release(&sb);
	return x;
}

/* Fills line y from x up to column end with blanks in attribute a. */
static void fill_to(int y, int x, int end, attr_t a)
{
	attrset(a);
	for (; x < end; x++)
		mvaddch(y, x, ' ');
}

static void fill(int y, int x, attr_t a)
{
	fill_to(y, x, COLS, a);
}

static attr_t heat(const struct screen *s, double share)
{
	switch (tree_heat(share)) {
	case TREE_HEAT_HOT:
		return pair_attr(s, PAIR_HOT, A_BOLD);
	case TREE_HEAT_WARM:
		return pair_attr(s, PAIR_WARM, A_BOLD);
	case TREE_HEAT_MILD:
		return pair_attr(s, PAIR_MILD, A_NORMAL);
	default:
		return A_NORMAL;
	}
}

static void format_elapsed(char *buf, size_t size, uint64_t ns)
{
	uint64_t s = ns / 1000000000ull;

	if (s >= 3600)
		snprintf(buf, size, "%lu:%02lu:%02lu", (unsigned long)(s / 3600),
			 (unsigned long)(s / 60 % 60), (unsigned long)(s % 60));
	else
		snprintf(buf, size, "%lu:%02lu", (unsigned long)(s / 60), (unsigned long)(s % 60));
}

/* Shortens sb (escaped text) to width columns, at the last space that
 * leaves room for an ellipsis: a cut word would read as another word. A
 * text without such a space is cut where it must, ellipsis too. */
static void cut_at_word(struct strbuf *sb, int width, bool utf8)
{
	const char *ell = utf8 ? "\u2026" : "~";
	mbstate_t st = { 0 };
	size_t i = 0, space = 0, fit = 0;
	int cols = 0;

	if (width <= 1)
		return;
	while (i < sb->len) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, sb->buf + i, sb->len - i, &st);
		int w;

		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&st, 0, sizeof(st));
			wc = L'?';
			k = 1;
		}
		w = wcwidth(wc) < 0 ? 1 : wcwidth(wc);
		if (cols + w > width)
			break;
		if (cols + w <= width - 1)
			fit = i + k;	/* room for the ellipsis after it */
		if (wc == L' ' && cols <= width - 1)
			space = i;
		cols += w;
		i += k;
	}
	if (i >= sb->len)
		return;
	sb->len = space ? space : fit;
	sb->buf[sb->len] = 0;
	strbuf_addstr(sb, ell);
}

static void draw_header(struct screen *s)
{
	const struct profile *p = s->t.prof;
	const struct viewmodel *vm = s->t.vm;
	struct summary sum = { .nr = 0 };
	struct strbuf sb = STRBUF_INIT;
	char elapsed[32];
	int x, w;

	/* State on the right, always (shorter when narrow): what the view shows
	 * and whether it moves. The target takes what is left. */
	if (COLS >= 60)
		strbuf_addf(&sb, " %s by %s, %s", vm_view_names[vm->view],
			    vm_sort_names[vm->sort[vm->view]], s->t.decay ? "decaying" : "cumulative");
	else
		strbuf_addf(&sb, " %s/%s %s", vm_view_names[vm->view],
			    vm_sort_names[vm->sort[vm->view]], s->t.decay ? "dec" : "cum");
	w = (int)sb.len + (s->t.paused ? 8 : 0);
	if (w > COLS)
		w = COLS;
	put(0, COLS - w, COLS, sb.buf, A_NORMAL);
	if (s->t.paused)
		put(0, COLS - 8, COLS, " PAUSED ", pair_attr(s, PAIR_ALERT, A_REVERSE));
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "sampletop: ");
	strbuf_add_escaped(&sb, p->meta.target ? p->meta.target : "?");
	cut_at_word(&sb, COLS - w - 1, s->utf8);
	x = put(0, 0, COLS - w - 1, sb.buf, A_BOLD);
	fill_to(0, x, COLS - w, A_NORMAL);
	/* What was lost, in words; a narrow terminal drops whole parts, the
	 * least important first, never cuts one. Key i shows every counter. */
	format_elapsed(elapsed, sizeof(elapsed), p->meta.duration_ns);
	summary_add(&sum, SP_ELAPSED, "%s", elapsed);
	summary_of_profile(&sum, p, s->t.rate, &s->memo);
	/* --wall: Duration beside CPU time, as pyinstrument's header has them. */
	if (p->meta.wall)
		summary_add(&sum, SP_CPU, "Duration %.2f s, CPU %.2f s", p->meta.duration_ns / 1e9,
			    profile_seconds(p, profile_cpu_weight(p)));
	else
		summary_add(&sum, SP_CPU, "CPU %.2f s", profile_seconds(p, p->total));
	summary_add(&sum, SP_FREQ, "%u Hz", p->meta.freq_hz);
	summary_add(&sum, SP_HINT, "i: counters");
	strbuf_reset(&sb);
	summary_join(&sum, s->utf8 ? " \u00b7 " : "  ", COLS > 0 ? (size_t)COLS : 1, &sb);
	x = put(1, 0, COLS, sb.buf, A_NORMAL);
	fill(1, x, A_NORMAL);
	strbuf_release(&sb);
}

/* Line 2: the prompt, a message, or what narrows the view. */
static void draw_status(struct screen *s)
{
	const struct viewmodel *vm = s->t.vm;
	struct strbuf sb = STRBUF_INIT;
	attr_t a = A_NORMAL;
	int x;

	if (s->t.prompt) {
		strbuf_addstr(&sb, s->t.prompt == PROMPT_SEARCH ? "Search: " : "Filter: ");
		strbuf_add_escaped(&sb, s->t.input);
		strbuf_addch(&sb, '_');
		a = A_BOLD;
	} else if (vm->msg[0]) {
		strbuf_addstr(&sb, vm->msg);
		a = A_BOLD;
	} else if (s->t.cv && s->t.cv->mode == CV_CALL) {
		strbuf_addstr(&sb, s->t.cv->title);	/* escaped when made */
		strbuf_addstr(&sb, "  (c: calls, a: whole tree)");
		a = A_BOLD;
	} else {
		if (!s->t.src)
			strbuf_addstr(&sb, "Saved profile");
		if (s->exited && s->t.prof->meta.note)
			strbuf_add_escaped(&sb, s->t.prof->meta.note);
		for (size_t i = 0; i < vm->nr_focus; i++)
			strbuf_addf(&sb, "%sFocus: %s", sb.len ? "  " : "", vm->focus[i].label);
		if (vm->filter[0]) {
			strbuf_addstr(&sb, sb.len ? "  Filter: " : "Filter: ");
			strbuf_add_escaped(&sb, vm->filter);
		}
		if (vm->search[0]) {
			strbuf_addstr(&sb, sb.len ? "  Search: " : "Search: ");
			strbuf_add_escaped(&sb, vm->search);
			strbuf_addf(&sb, " (%zu match%s)", vm->nr_matches, vm->nr_matches == 1 ? "" : "es");
		}
		if ((vm->by_process || vm->by_thread) && vm->view != VM_FLAT)
			strbuf_addf(&sb, "%sGrouped by %s", sb.len ? "  " : "",
				    vm->by_process && vm->by_thread ? "process, thread"
				    : vm->by_process ? "process" : "thread");
		if (vm->kernel && s->t.prof->meta.kernel_stacks)
			strbuf_addstr(&sb, sb.len ? "  Kernel frames" : "Kernel frames");
		if (vm->rules.show_all)
			strbuf_addstr(&sb, sb.len ? "  Library frames shown" : "Library frames shown");
		if (s->t.rebuild_every > REFRESH_NS)
			strbuf_addf(&sb, "%sTree rebuilt every %.0f s (big profile)", sb.len ? "  " : "",
				    s->t.rebuild_every / 1e9);
		if (vm->show_small && vm->min_percent > 0)
			strbuf_addstr(&sb, sb.len ? "  Small nodes shown" : "Small nodes shown");
	}
	x = put(2, 0, COLS, sb.buf, a);
	fill(2, x, A_NORMAL);
	strbuf_release(&sb);
}

/* Which number columns fit: 1 total%, 2 +self%, 3 +time. */
static int nr_columns(void)
{
	return COLS >= 70 ? 3 : COLS >= 45 ? 2 : 1;
}

static void draw_titles(struct screen *s)
{
	static const char *const titles[] = { "TOTAL%", " SELF%", "     TIME" };
	attr_t a = pair_attr(s, PAIR_BAR, A_REVERSE);
	int x = 0, n = nr_columns();

	for (int i = 0; i < n; i++)
		x = putf(3, x, COLS, a, "%s ", titles[i]);
	x = put(3, x, COLS, s->t.vm->view == VM_FLAT ? " FUNCTION" : " CALL TREE", a);
	fill(3, x, a);
}

static void draw_row(struct screen *s, int y, const struct vm_row *r, bool selected)
{
	const struct viewmodel *vm = s->t.vm;
	double total = vm->total ? (double)vm->total : 1;
	attr_t sel = pair_attr(s, PAIR_SEL, A_REVERSE), base = selected ? sel : A_NORMAL;
	struct strbuf sb = STRBUF_INIT;
	int x = 0, ncol = nr_columns(), indent, room;
	const char *mark;
	attr_t name_attr;

	if (r->kind == VM_ROW_HIDDEN) {
		x = putf(y, x, COLS, base, "%*s", 7 + (ncol >= 2 ? 7 : 0) + (ncol >= 3 ? 10 : 0), "");
	} else if (r->kind == VM_ROW_MORE) {
		x = putf(y, x, COLS, base, "%6.1f ", 100.0 * r->total / total);
		if (ncol >= 2)
			x = putf(y, x, COLS, base, "%7s", "");
		if (ncol >= 3)
			x = putf(y, x, COLS, base, "%8.2fs ", profile_seconds(s->t.prof, r->total));
	} else {
		x = putf(y, x, COLS, selected ? base : base | heat(s, r->total / total), "%6.1f ",
			 100.0 * r->total / total);
		if (ncol >= 2)
			x = putf(y, x, COLS, selected ? base : base | heat(s, r->self / total),
				 "%6.1f ", 100.0 * r->self / total);
		if (ncol >= 3)
			x = putf(y, x, COLS, base, "%8.2fs ", profile_seconds(s->t.prof, r->total));
	}
	/* Indent two columns a level, but leave room for the name. */
	room = COLS - x - 2;
	indent = 2 * r->depth;
	if (indent > room - 12)
		indent = room > 12 ? room - 12 : 0;
	x = putf(y, x, COLS, base, " %*s", indent, "");
	if (r->flags & VM_ROW_F_EXPANDABLE)
		mark = (r->flags & VM_ROW_F_EXPANDED) ? (s->utf8 ? "▾ " : "- ")
						     : (s->utf8 ? "▸ " : "+ ");
	else
		mark = "  ";
	x = put(y, x, COLS, mark, base);
	vm_row_label(vm, r, &sb);
	if (r->kind == VM_ROW_HIDDEN || r->kind == VM_ROW_MORE)
		name_attr = base | pair_attr(s, PAIR_DIM, A_DIM);
	else if (r->flags & VM_ROW_F_MATCH)
		name_attr = pair_attr(s, PAIR_MATCH, A_BOLD | A_UNDERLINE) | (selected ? A_REVERSE : 0);
	else if (selected)
		name_attr = base | A_BOLD;
	else if (vm_row_frame(vm, r) && (vm_row_frame(vm, r)->flags & FRAME_F_OFFCPU))
		name_attr = pair_attr(s, PAIR_DIM, A_DIM);	/* --wall: why it waited */
	else
		name_attr = heat(s, r->total / total);
	x = put(y, x, COLS, sb.buf, name_attr);
	strbuf_reset(&sb);
	vm_row_module(vm, r, &sb);
	if (sb.len) {
		x = put(y, x, COLS, "  ", base);
		x = put(y, x, COLS, sb.buf, selected ? base : pair_attr(s, PAIR_DIM, A_DIM));
	}
	fill(y, x, base);
	strbuf_release(&sb);
}

static void draw_list(struct screen *s, int height)
{
	struct viewmodel *vm = s->t.vm;

	for (int i = 0; i < height; i++) {
		size_t r = vm->top + i;
		int y = HEAD_LINES + i;

		if (r < vm->nr_rows) {
			draw_row(s, y, &vm->rows[r], r == vm->sel);
		} else {
			move(y, 0);
			attrset(A_NORMAL);
			clrtoeol();
		}
	}
	if (!vm->nr_rows && height > 0)
		put(HEAD_LINES, 1, COLS, vm->total ? "Nothing to show" : "Waiting for samples...",
		    A_DIM);
}

static void draw_keybar(struct screen *s)
{
	static const char *const bar[][2] = {
		{ "F1", "Help" }, { "/", "Search" }, { "f", "Filter" }, { "z", "Focus" },
		{ "v", "View" }, { "Spc", "Pause" }, { "r", "Reset" }, { "q", "Quit" },
	};
	int y = LINES - 1, x = 0;

	if (y < HEAD_LINES)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(bar) && x < COLS; i++) {
		x = put(y, x, COLS, bar[i][0], A_BOLD);
		x = putf(y, x, COLS, pair_attr(s, PAIR_BAR, A_REVERSE), "%-6s", bar[i][1]);
		x = put(y, x, COLS, " ", A_NORMAL);
	}
	fill(y, x, A_NORMAL);
}

static int list_height(void)
{
	int h = LINES - HEAD_LINES - FOOT_LINES;

	return h > 0 ? h : 0;
}

static void draw_help(struct screen *s)
{
	int y = 0, h = LINES - 2;

	erase();
	put(y++, 0, COLS, "sampletop keys (arrows scroll, any other key returns)", A_BOLD);
	for (size_t i = s->t.help_top; i < tui_nr_keys && y <= h; i++, y++) {
		int x = putf(y, 0, COLS, A_BOLD, " %-8s", tui_keys[i].keys);

		put(y, x, COLS, tui_keys[i].help, A_NORMAL);
	}
	if (LINES > 2)
		put(LINES - 1, 0, COLS, "Mouse: click selects, click again expands; wheel scrolls",
		    A_DIM);
}

/* Draws ASCII text from line y on, before line yend, broken at spaces to fit
 * the width; later lines start at column ind (or 4 when that leaves too
 * little room). Returns the line after the last one drawn. */
static int put_wrapped(int y, int yend, const char *text, int ind, attr_t a)
{
	int x = 0;

	if (COLS - ind < 20)
		ind = COLS > 8 ? 4 : 0;
	while (*text && y < yend) {
		int room = COLS - x, n = (int)strlen(text), cut = n;
		char *part;

		if (n > room) {
			/* The last space that fits; a word longer than the line is cut. */
			for (cut = room; cut > 0 && text[cut] != ' '; cut--)
				;
			if (cut <= 0)
				cut = room > 0 ? room : 1;
		}
		part = xstrndup(text, cut);
		put(y++, x, COLS, part, a);
		free(part);
		text += cut;
		while (*text == ' ')
			text++;
		x = ind;
	}
	return y;
}

/* The counters screen (key i): the summary line in full, then every counter
 * with its meaning, live. */
static void draw_info(struct screen *s)
{
	struct summary sum = { .nr = 0 };
	struct strbuf sb = STRBUF_INIT;
	const char *l;
	size_t skip = s->t.help_top;
	int y = 0;

	erase();
	put(y++, 0, COLS, "sampletop counters (arrows scroll, any other key returns)", A_BOLD);
	summary_of_profile(&sum, s->t.prof, 0, &s->memo);
	summary_join(&sum, s->utf8 ? " \u00b7 " : ", ", COLS > 0 ? (size_t)COLS : 1, &sb);
	put(y++, 0, COLS, sb.buf, A_NORMAL);
	strbuf_reset(&sb);
	summary_details(s->t.prof, &sb);
	for (l = sb.buf; *l && y < LINES - 1;) {
		size_t n = strcspn(l, "\n");

		if (skip) {
			skip--;
		} else {
			char *line = xstrndup(l, n);

			/* Meanings wrap under their own column: "  name  value  ". */
			y = put_wrapped(y, LINES - 1, line, SUMMARY_DETAILS_INDENT,
					*line == ' ' ? A_NORMAL : A_BOLD);
			free(line);
		}
		l += n + (l[n] ? 1 : 0);
	}
	if (LINES > 2)
		put(LINES - 1, 0, COLS, "What each counter means: man sampletop, TEXT REPORT", A_DIM);
	strbuf_release(&sb);
}

/* The calls view (--scope): the function's summary, then its kept calls,
 * slowest first. */
static void draw_calls(struct screen *s)
{
	struct callsview *cv = s->t.cv;
	attr_t bar = pair_attr(s, PAIR_BAR, A_REVERSE);
	struct strbuf sb = STRBUF_INIT;
	int x, h = list_height();

	cv_set_height(cv, h ? h : 1);
	draw_header(s);
	if (cv->nr) {
		const struct calls *c = s->t.prof->calls;
		uint32_t fn = cv->list[cv->sel].fn;

		strbuf_add_escaped(&sb, c->fns[fn].name);
		strbuf_addstr(&sb, ": ");
		report_calls_summary(&c->fns[fn], s->utf8 ? " \u00b7 " : ", ", &sb);
	} else {
		strbuf_addstr(&sb, "No call has ended yet");
	}
	x = put(2, 0, COLS, sb.buf, A_BOLD);
	fill(2, x, A_NORMAL);
	x = putf(3, 0, COLS, bar, "%10s  %-6s %10s  %s", "DURATION", "CALL", "BEGAN", "THREAD");
	fill(3, x, bar);
	for (int i = 0; i < h; i++) {
		size_t r = cv->top + i;
		attr_t a = r == cv->sel ? pair_attr(s, PAIR_SEL, A_REVERSE) : A_NORMAL;
		const struct cv_entry *e = r < cv->nr ? &cv->list[r] : NULL;

		strbuf_reset(&sb);
		if (e) {
			struct strbuf d = STRBUF_INIT;

			report_duration(e->duration_ns, &d);
			strbuf_addf(&sb, "%10s  %-6llu %+9.3fs  %s", d.buf,
				    (unsigned long long)e->number, (double)e->begin_ns / 1e9, e->thread);
			strbuf_release(&d);
		}
		x = put(HEAD_LINES + i, 0, COLS, sb.buf, a);
		fill(HEAD_LINES + i, x, a);
	}
	strbuf_release(&sb);
	x = 0;
	{
		static const char *const keys[][2] = {
			{ "Enter", "Call" }, { "a", "Tree" }, { "q", "Quit" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(keys) && x < COLS && LINES > HEAD_LINES; i++) {
			x = put(LINES - 1, x, COLS, keys[i][0], A_BOLD);
			x = putf(LINES - 1, x, COLS, bar, "%-6s", keys[i][1]);
			x = put(LINES - 1, x, COLS, " ", A_NORMAL);
		}
		fill(LINES - 1, x, A_NORMAL);
	}
}

static void draw(struct screen *s)
{
	if (s->t.help) {
		draw_help(s);
	} else if (s->t.info) {
		draw_info(s);
	} else if (s->t.cv && s->t.cv->mode == CV_LIST) {
		draw_calls(s);
	} else {
		vm_set_height(s->t.vm, list_height() ? list_height() : 1);
		draw_header(s);
		draw_status(s);
		draw_titles(s);
		draw_list(s, list_height());
		draw_keybar(s);
	}
	attrset(A_NORMAL);
	refresh();
}

static int on_mouse(struct screen *s)
{
	struct viewmodel *vm = s->t.vm;
	MEVENT ev;
	size_t row;

	if (getmouse(&ev) != OK)
		return ACT_NONE;
	if (ev.bstate & BUTTON4_PRESSED)
		return vm_move(vm, -3) ? ACT_REDRAW : ACT_NONE;
	if (ev.bstate & BUTTON5_PRESSED)
		return vm_move(vm, 3) ? ACT_REDRAW : ACT_NONE;
	if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED)))
		return ACT_NONE;
	if (ev.y < HEAD_LINES || ev.y >= HEAD_LINES + list_height())
		return ACT_NONE;
	row = vm->top + (ev.y - HEAD_LINES);
	if (row >= vm->nr_rows)
		return ACT_NONE;
	/* A click on the selected line (or a double click) opens or closes it. */
	if (row == vm->sel || (ev.bstate & BUTTON1_DOUBLE_CLICKED)) {
		vm_select(vm, row);
		return tui_key_dispatch(&s->t, '\n') | ACT_REDRAW;
	}
	vm_select(vm, row);
	return ACT_REDRAW;
}

static int on_key(struct screen *s, int ch)
{
	if (ch == KEY_RESIZE)
		return ACT_REDRAW;
	if (s->t.help || s->t.info)
		return tui_key_help(&s->t, ch, LINES > 3 ? LINES - 3 : 1);
	if (s->t.prompt)
		return tui_key_prompt(&s->t, ch);
	if (s->t.cv && s->t.cv->mode == CV_LIST)
		return tui_key_calls(&s->t, ch, list_height() ? list_height() : 1);
	if (ch == KEY_MOUSE)
		return on_mouse(s);
	return tui_key_dispatch(&s->t, ch);
}

static int screen_start(struct screen *s, const struct tui_opts *o)
{
	const char *cs;

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	s->utf8 = !o->ascii && cs && !strcmp(cs, "UTF-8");
	if (!newterm(NULL, stdout, stdin))
		return -ENOTTY;
	screen_active = true;
	util_set_fatal_hook(screen_restore);
	atexit(screen_restore);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED |
			  BUTTON5_PRESSED,
		  NULL);
	mouseinterval(200);
	s->color = o->color == 1 || (o->color < 0 && !env_no_color());
	init_colors(s);
	return 0;
}

/* Setup: the view model as the options open it, the terminal, the clocks. */
static int screen_open(struct screen *s, struct tui_args *a)
{
	uint64_t now;
	int err;

	s->t.prof = a->prof;
	s->t.src = a->src;
	s->t.vm = vm_new(a->prof, &a->opts->view);
	s->t.vm_config = &a->opts->view;
	s->t.cv = cv_new(a->prof);
	err = screen_start(s, a->opts);
	if (err) {
		a->why = "cannot open the terminal for the live view (try --no-tui)";
		vm_free(s->t.vm);
		cv_free(s->t.cv);
		return err;
	}
	vm_rebuild(s->t.vm);
	now = now_ns();
	s->last_refresh = now;
	s->next_poll = now + POLL_NS;
	s->next_refresh = s->next_rebuild = now + REFRESH_NS;
	s->t.rebuild_every = REFRESH_NS;
	if (a->opts->duration_s)
		s->deadline = now + (uint64_t)(a->opts->duration_s * 1e9);
	s->dirty = true;
	return 0;
}

static void screen_close(struct screen *s)
{
	screen_restore();
	util_set_fatal_hook(NULL);
	tui_calls_close(&s->t);
	vm_free(s->t.vm);
	cv_free(s->t.cv);
	summary_memo_release(&s->memo);
}

int tui_apply(struct tui *t, int acts)
{
	const struct tui_source *src = t->src;

	if (!src)
		return acts;
	/* Paused, the frozen tree must not lose its frames to a merge. */
	if (acts & ACT_PAUSE)
		src->hold(src->ctx, t->paused);
	if (acts & ACT_RESET) {
		src->reset(src->ctx);
		t->drained = 0;
		t->rate = 0;
		vm_rebuild(t->vm);
	}
	return acts;
}

/* Input: sleeps until a key, a signal (SIGWINCH too) or the next drain, then
 * takes every key waiting (and a resize) before one redraw. Returns false
 * when no key can come any more: the terminal went away, or standard input
 * is at its end. */
static bool read_keys(struct screen *s)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	uint64_t now = now_ns();
	int ch, keys = 0;

	if (poll(&pfd, 1, s->next_poll > now ? (int)((s->next_poll - now) / 1000000) + 1 : 0) > 0 &&
	    (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
		return false;
	while ((ch = getch()) != ERR && !s->t.quit) {
		keys++;
		if (tui_apply(&s->t, on_key(s, ch)) & ACT_REDRAW)
			s->dirty = true;
	}
	/* Readable again and again with nothing to read: end of input. */
	s->idle_wakeups = (pfd.revents & POLLIN) && !keys ? s->idle_wakeups + 1 : 0;
	return s->idle_wakeups < MAX_IDLE_WAKEUPS;
}

/* Every POLL_NS: what the source sampled. A saved profile (no source) only
 * needs its header to tick. Returns 0 or the source's negative errno. */
static int drain(struct screen *s, uint64_t now)
{
	const struct tui_source *src = s->t.src;
	long n = src ? src->poll(src->ctx) : 0;

	if (n < 0)
		return (int)n;
	s->t.drained += n;
	s->next_poll = now + POLL_NS;
	/* Exited threads were merged: the tree names freed frames. */
	if (s->t.prof->generation != s->t.generation) {
		s->t.generation = s->t.prof->generation;
		vm_rebuild(s->t.vm);
		s->dirty = true;
	}
	return 0;
}

/* Rebuilds the tree, keeping rebuilds within REBUILD_SHARE of a core: a huge
 * profile is rebuilt less often than once a second. */
static void rebuild(struct screen *s, uint64_t now)
{
	uint64_t cost = thread_cpu_ns();

	vm_rebuild(s->t.vm);
	/* CPU time, not wall time: a busy machine must not slow the view. */
	cost = thread_cpu_ns() - cost;
	s->pending = 0;
	s->t.rebuild_every = cost * REBUILD_SHARE < REFRESH_NS ? REFRESH_NS
			     : cost * REBUILD_SHARE > REBUILD_MAX_NS ? REBUILD_MAX_NS
			     : cost * REBUILD_SHARE;
	s->next_rebuild = now + s->t.rebuild_every - REFRESH_NS / 2;
}

/* One refresh, about once a second: did the targets exit (the view stays up
 * with their data), the rate, the tree, the decaying window. */
static void refresh_view(struct screen *s, uint64_t now)
{
	const struct tui_source *src = s->t.src;

	if (src && !s->exited)
		s->exited = src->targets_exited(src->ctx);
	s->t.rate = s->t.drained * 1000000000ull / (now - s->last_refresh ? now - s->last_refresh : 1);
	s->last_refresh = now;
	s->next_refresh = now + REFRESH_NS;
	s->pending += s->t.drained;
	s->t.drained = 0;
	/* No new sample and no decay: the tree would come out the same. */
	if (!s->t.paused && (s->pending || s->t.decay) && now >= s->next_rebuild)
		rebuild(s, now);
	if (s->t.decay && src)
		src->decay(src->ctx, DECAY_NUM, DECAY_DEN);
	if (s->t.cv && !s->t.paused)	/* calls that ended join the list */
		cv_refresh(s->t.cv);
	s->dirty = true;
}

int tui_run(struct tui_args *a)
{
	struct screen s = { 0 };
	int err = screen_open(&s, a);

	if (err)
		return err;
	while (!s.t.quit && !*a->stop) {
		uint64_t now;

		if (s.dirty) {
			draw(&s);
			s.dirty = false;
		}
		if (!read_keys(&s))
			break;	/* nothing to show any more, or no one to press q */
		now = now_ns();
		if (now < s.next_poll)
			continue;
		err = drain(&s, now);
		if (err) {
			a->why = "reading samples failed";
			break;
		}
		if (s.deadline && now >= s.deadline)
			break;
		if (now >= s.next_refresh)
			refresh_view(&s, now);
	}
	screen_close(&s);
	return err;
}

int tui_bench(const struct profile *p, int cols, int lines, bool expand_all, double min_percent,
	      int n, double ms[3], size_t *rows)
{
	struct screen s = { .color = true, .utf8 = true };
	struct vm_config vc = { .user = true, .min_percent = min_percent };
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *sc = NULL;
	int err = 0;

	if (!out || !in || !(sc = newterm("xterm-256color", out, in))) {
		err = -ENOTTY;
		goto out_close;
	}
	resizeterm(lines, cols);
	init_colors(&s);
	s.t.prof = p;
	s.t.vm = vm_new(p, &vc);
	vm_rebuild(s.t.vm);
	for (size_t i = 0; expand_all && i < s.t.vm->nr_rows; i++) {
		if (s.t.vm->rows[i].depth == 0) {
			vm_select(s.t.vm, i);
			vm_expand_all(s.t.vm);
		}
	}
	vm_select(s.t.vm, s.t.vm->nr_rows / 2);
	ms[0] = ms[1] = ms[2] = 0;
	for (int i = 0; i < n; i++) {
		uint64_t t0 = thread_cpu_ns(), t1, t2;

		vm_rebuild(s.t.vm);
		t1 = thread_cpu_ns();
		vm_update_rows(s.t.vm);
		t2 = thread_cpu_ns();
		/* Every line changes each frame, as when all counts move. */
		clearok(curscr, TRUE);
		draw(&s);
		ms[0] += (t1 - t0) / 1e6;
		ms[1] += (t2 - t1) / 1e6;
		ms[2] += (thread_cpu_ns() - t2) / 1e6;
	}
	for (int k = 0; k < 3; k++)
		ms[k] /= n > 0 ? n : 1;
	*rows = s.t.vm->nr_rows;
	vm_free(s.t.vm);
	summary_memo_release(&s.memo);
	endwin();
	delscreen(sc);
out_close:
	if (out)
		fclose(out);
	if (in)
		fclose(in);
	return err;
}

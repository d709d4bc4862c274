/* The live view's keys: one table maps key codes to small actions, and the
 * help screen lists the same table. Actions never draw and never change the
 * profile; they return flags (redraw, reset, ...) that the screen's loop
 * carries out. */
#define NCURSES_WIDECHAR 1
#include "tui/state.h"
#include "model/summary.h"

#include <curses.h>
#include <string.h>

#define CTRL(c) ((c) & 0x1f)

static int act_up(struct tui *t)
{
	return vm_move(t->vm, -1) ? ACT_REDRAW : ACT_NONE;
}

static int act_down(struct tui *t)
{
	return vm_move(t->vm, 1) ? ACT_REDRAW : ACT_NONE;
}

static int act_page_up(struct tui *t)
{
	return vm_move(t->vm, -(long)t->vm->height) ? ACT_REDRAW : ACT_NONE;
}

static int act_page_down(struct tui *t)
{
	return vm_move(t->vm, t->vm->height) ? ACT_REDRAW : ACT_NONE;
}

static int act_home(struct tui *t)
{
	return vm_home(t->vm) ? ACT_REDRAW : ACT_NONE;
}

static int act_end(struct tui *t)
{
	return vm_end(t->vm) ? ACT_REDRAW : ACT_NONE;
}

static int act_right(struct tui *t)
{
	return vm_right(t->vm) ? ACT_REDRAW : ACT_NONE;
}

static int act_left(struct tui *t)
{
	return vm_left(t->vm) ? ACT_REDRAW : ACT_NONE;
}

static int act_expand(struct tui *t)
{
	return vm_expand(t->vm) ? ACT_REDRAW : ACT_NONE;
}

static int act_collapse(struct tui *t)
{
	return vm_collapse(t->vm) ? ACT_REDRAW : ACT_NONE;
}

static int act_expand_all(struct tui *t)
{
	return vm_expand_all(t->vm) ? ACT_REDRAW : ACT_NONE;
}

static int act_enter(struct tui *t)
{
	const struct vm_row *r = vm_selected(t->vm);

	if (!r)
		return ACT_NONE;
	if (r->kind == VM_ROW_FUNC) {
		vm_focus_selected(t->vm);
		return ACT_REDRAW;
	}
	if (r->kind == VM_ROW_HIDDEN) {
		vm_set_show_hidden(t->vm, true);
		return ACT_REDRAW;
	}
	if (r->kind == VM_ROW_MORE) {
		vm_set_show_small(t->vm, true);
		return ACT_REDRAW;
	}
	return vm_toggle(t->vm) ? ACT_REDRAW : ACT_NONE;
}

static int open_prompt(struct tui *t, enum tui_prompt p, const char *init)
{
	t->prompt = p;
	snprintf(t->input, sizeof(t->input), "%s", init);
	t->input_len = strlen(t->input);
	t->vm->msg[0] = 0;
	return ACT_REDRAW;
}

static int act_search(struct tui *t)
{
	return open_prompt(t, PROMPT_SEARCH, "");
}

static int act_filter(struct tui *t)
{
	return open_prompt(t, PROMPT_FILTER, t->vm->filter);
}

static int act_next(struct tui *t)
{
	vm_search_next(t->vm, 1);
	return ACT_REDRAW;
}

static int act_prev(struct tui *t)
{
	vm_search_next(t->vm, -1);
	return ACT_REDRAW;
}

static int act_focus(struct tui *t)
{
	vm_focus_selected(t->vm);
	return ACT_REDRAW;
}

static int act_unfocus(struct tui *t)
{
	if (!vm_unfocus(t->vm))
		snprintf(t->vm->msg, sizeof(t->vm->msg), "Not focused");
	return ACT_REDRAW;
}

static int act_view(struct tui *t)
{
	vm_set_view(t->vm, (t->vm->view + 1) % VM_NR_VIEWS);
	return ACT_REDRAW;
}

static int act_sort(struct tui *t)
{
	vm_set_sort(t->vm, (t->vm->sort[t->vm->view] + 1) % VM_NR_SORTS);
	return ACT_REDRAW;
}

static int act_by_process(struct tui *t)
{
	vm_set_grouping(t->vm, !t->vm->by_process, t->vm->by_thread);
	return ACT_REDRAW;
}

static int act_programs(struct tui *t)
{
	vm_set_programs(t->vm, !t->vm->by_program);
	return ACT_REDRAW;
}

static int act_by_thread(struct tui *t)
{
	vm_set_grouping(t->vm, t->vm->by_process, !t->vm->by_thread);
	return ACT_REDRAW;
}

static int act_kernel(struct tui *t)
{
	vm_set_kernel(t->vm, !t->vm->kernel);
	return ACT_REDRAW;
}

static int act_hidden(struct tui *t)
{
	vm_set_show_hidden(t->vm, !t->vm->rules.show_all);
	return ACT_REDRAW;
}

static int act_small(struct tui *t)
{
	vm_set_show_small(t->vm, !t->vm->show_small);
	return ACT_REDRAW;
}

static int act_idle(struct tui *t)
{
	vm_set_show_idle(t->vm, !t->vm->show_idle);
	return ACT_REDRAW;
}

/* Pause, reset and decay act on live counts; a saved profile has none. */
static int saved_profile(struct tui *t)
{
	snprintf(t->vm->msg, sizeof(t->vm->msg), "A saved profile does not change");
	return ACT_REDRAW;
}

static int act_pause(struct tui *t)
{
	if (!t->src)
		return saved_profile(t);
	t->paused = !t->paused;
	if (!t->paused)
		vm_rebuild(t->vm);
	return ACT_REDRAW | ACT_PAUSE;
}

static int act_reset(struct tui *t)
{
	if (!t->src)
		return saved_profile(t);
	return ACT_REDRAW | ACT_RESET;
}

static int act_decay(struct tui *t)
{
	if (!t->src)
		return saved_profile(t);
	t->decay = !t->decay;
	return ACT_REDRAW;
}

static int act_help(struct tui *t)
{
	t->help = true;
	t->help_top = 0;
	return ACT_REDRAW;
}

static int act_info(struct tui *t)
{
	t->info = true;
	t->help_top = 0;
	return ACT_REDRAW;
}

static int act_escape(struct tui *t)
{
	t->vm->msg[0] = 0;
	if (t->vm->search[0]) {
		t->vm->search[0] = 0;
		vm_update_rows(t->vm);
	}
	return ACT_REDRAW;
}

static int act_redraw(struct tui *t)
{
	clearok(curscr, TRUE);
	return ACT_REDRAW;
}

/* A call's tree goes; the aggregate's comes back, rebuilt (calls and
 * merges went on meanwhile). */
void tui_calls_close(struct tui *t)
{
	if (!t->agg_vm)
		return;
	vm_free(t->vm);
	t->vm = t->agg_vm;
	t->agg_vm = NULL;
	vm_rebuild(t->vm);
}

/* c: the calls list; from it, back to the whole tree. */
static int act_calls(struct tui *t)
{
	if (!t->cv) {
		snprintf(t->vm->msg, sizeof(t->vm->msg),
			 "No calls: record with --scope FUNC to see each call");
		return ACT_REDRAW;
	}
	tui_calls_close(t);
	if (t->cv->mode == CV_LIST)
		cv_show_aggregate(t->cv);
	else
		cv_show_list(t->cv);
	return ACT_REDRAW;
}

/* a: the whole tree, from the calls list or a call's tree. */
static int act_aggregate(struct tui *t)
{
	if (!t->cv || t->cv->mode == CV_AGGREGATE)
		return ACT_NONE;
	tui_calls_close(t);
	cv_show_aggregate(t->cv);
	return ACT_REDRAW;
}

int tui_key_calls(struct tui *t, int ch, int page)
{
	struct callsview *cv = t->cv;

	switch (ch) {
	case KEY_UP:
	case 'k': return cv_move(cv, -1) ? ACT_REDRAW : ACT_NONE;
	case KEY_DOWN:
	case 'j': return cv_move(cv, 1) ? ACT_REDRAW : ACT_NONE;
	case KEY_PPAGE: return cv_move(cv, -page) ? ACT_REDRAW : ACT_NONE;
	case KEY_NPAGE: return cv_move(cv, page) ? ACT_REDRAW : ACT_NONE;
	case KEY_HOME:
	case 'g': return cv_move(cv, -(long)cv->nr) ? ACT_REDRAW : ACT_NONE;
	case KEY_END:
	case 'G': return cv_move(cv, (long)cv->nr) ? ACT_REDRAW : ACT_NONE;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (!cv_open(cv))
			return ACT_NONE;
		t->agg_vm = t->vm;
		t->vm = vm_new(cv->call, t->vm_config);
		vm_rebuild(t->vm);
		return ACT_REDRAW;
	case 'c': return act_calls(t);
	case 'a': return act_aggregate(t);
	}
	/* Quit, help, counters, pause, redraw: as in the tree; the rest are
	 * the tree's, which is not on screen. */
	if ((ch > 0 && ch < 256 && strchr("q?hi ", ch)) || ch == KEY_F(1) || ch == KEY_F(10) ||
	    ch == 27 || ch == CTRL('l'))
		return tui_key_dispatch(t, ch);
	return ACT_NONE;
}

static int act_quit(struct tui *t)
{
	t->quit = true;
	return ACT_QUIT;
}

const struct tui_key tui_keys[] = {
	{ { KEY_UP, 'k' }, "Up k", "select the line above", act_up },
	{ { KEY_DOWN, 'j' }, "Down j", "select the line below", act_down },
	{ { KEY_PPAGE, CTRL('b') }, "PgUp", "one page up", act_page_up },
	{ { KEY_NPAGE, CTRL('f') }, "PgDn", "one page down", act_page_down },
	{ { KEY_HOME, 'g' }, "Home g", "first line", act_home },
	{ { KEY_END, 'G' }, "End G", "last line", act_end },
	{ { KEY_RIGHT, 'l' }, "Right l", "expand, or go to the first child", act_right },
	{ { KEY_LEFT }, "Left", "collapse, or go to the parent", act_left },
	{ { '\n', '\r', KEY_ENTER }, "Enter", "expand/collapse (flat view: focus)", act_enter },
	{ { '+', '=' }, "+", "expand", act_expand },
	{ { '-' }, "-", "collapse", act_collapse },
	{ { '*' }, "*", "expand everything below", act_expand_all },
	{ { 'H' }, "H", "show/hide library frames ([N frames hidden])", act_hidden },
	{ { 'm' }, "m", "show/hide nodes under --min-percent ([N more])", act_small },
	{ { 'I' }, "I", "--wall: show/hide threads idle the whole run", act_idle },
	{ { '/' }, "/", "search (highlight and jump)", act_search },
	{ { 'n' }, "n", "next match", act_next },
	{ { 'N' }, "N", "previous match", act_prev },
	{ { 'f' }, "f", "filter: keep stacks through matching frames", act_filter },
	{ { 'z' }, "z", "focus: the selected node becomes the root", act_focus },
	{ { KEY_BACKSPACE, 127, 'u', 8 }, "Bksp u", "back out of the focus", act_unfocus },
	{ { 'v', '\t' }, "v Tab", "switch view: tree, inverted (callers), flat", act_view },
	{ { 's' }, "s", "sort by total, self or name", act_sort },
	{ { 'p' }, "p", "group by process on/off", act_by_process },
	{ { 'P' }, "P", "processes of a program: under one node or each on top", act_programs },
	{ { 't' }, "t", "group by thread on/off", act_by_thread },
	{ { 'K' }, "K", "kernel frames on/off (when recorded with -K)", act_kernel },
	{ { ' ' }, "Space", "pause the view (sampling goes on)", act_pause },
	{ { 'r' }, "r", "reset the counts", act_reset },
	{ { 'd' }, "d", "cumulative or decaying window", act_decay },
	{ { 27 }, "Esc", "clear the search and messages", act_escape },
	{ { CTRL('l') }, "Ctrl-L", "redraw the screen", act_redraw },
	{ { '?', 'h', KEY_F(1) }, "? h F1", "this help", act_help },
	{ { 'i' }, "i", "every counter (lost, partial stacks...) and what it means", act_info },
	{ { 'c' }, "c", "--scope: the calls by duration (Enter: a call's tree); again: back", act_calls },
	{ { 'a' }, "a", "--scope: back to the whole tree from the calls", act_aggregate },
	{ { 'q', KEY_F(10) }, "q F10", "quit (writes the report if -o was given)", act_quit },
};
const size_t tui_nr_keys = sizeof(tui_keys) / sizeof(tui_keys[0]);

int tui_key_dispatch(struct tui *t, int ch)
{
	/* A message lasts until the next key. */
	t->vm->msg[0] = 0;
	for (size_t i = 0; i < tui_nr_keys; i++)
		for (size_t k = 0; k < 4 && tui_keys[i].codes[k]; k++)
			if (tui_keys[i].codes[k] == ch)
				return tui_keys[i].run(t);
	return ACT_NONE;
}

static void commit_prompt(struct tui *t)
{
	if (t->prompt == PROMPT_FILTER)
		vm_set_filter(t->vm, t->input);
	else if (!t->input_len)
		vm_set_search(t->vm, "");
}

int tui_key_prompt(struct tui *t, int ch)
{
	switch (ch) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		commit_prompt(t);
		t->prompt = PROMPT_NONE;
		return ACT_REDRAW;
	case 27:
		if (t->prompt == PROMPT_SEARCH)
			vm_set_search(t->vm, "");
		t->prompt = PROMPT_NONE;
		t->vm->msg[0] = 0;
		return ACT_REDRAW;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (!t->input_len)
			return ACT_NONE;
		t->input[--t->input_len] = 0;
		break;
	default:
		/* Text bytes only (UTF-8 included); they are escaped when shown. */
		if (ch < 0x20 || ch > 0xff || ch == 0x7f || t->input_len + 1 >= sizeof(t->input))
			return ACT_NONE;
		t->input[t->input_len++] = (char)ch;
		t->input[t->input_len] = 0;
	}
	/* Search as you type; a filter rebuilds the tree, so it waits for Enter. */
	if (t->prompt == PROMPT_SEARCH)
		vm_set_search(t->vm, t->input);
	return ACT_REDRAW;
}

int tui_key_help(struct tui *t, int ch, int page)
{
	size_t nr = t->info ? SUMMARY_DETAILS_LINES : tui_nr_keys;

	switch (ch) {
	case KEY_UP:
	case 'k':
		if (t->help_top)
			t->help_top--;
		return ACT_REDRAW;
	case KEY_DOWN:
	case 'j':
		if (t->help_top + 1 < nr)
			t->help_top++;
		return ACT_REDRAW;
	case KEY_NPAGE:
	case ' ':
		t->help_top += page;
		if (t->help_top >= nr)
			t->help_top = nr - 1;
		return ACT_REDRAW;
	case KEY_PPAGE:
		t->help_top = t->help_top > (size_t)page ? t->help_top - page : 0;
		return ACT_REDRAW;
	case KEY_HOME:
		t->help_top = 0;
		return ACT_REDRAW;
	case KEY_END:
		t->help_top = nr > (size_t)page ? nr - page : 0;
		return ACT_REDRAW;
	case KEY_RESIZE:
	case KEY_MOUSE:
		return ACT_REDRAW;
	}
	t->help = false;
	t->info = false;
	return ACT_REDRAW;
}

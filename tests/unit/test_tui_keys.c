/* Unit tests of the live view's key table and actions, without a terminal:
 * the table the help screen lists is the one keys dispatch through. */
#define NCURSES_WIDECHAR 1
#include "tap.h"
#include "tui/state.h"
#include "model/summary.h"

#include <curses.h>

static frame_id_t fr(struct profile *p, const char *name)
{
	struct frame f = { .name = name, .module = "/usr/bin/app", .kind = FRAME_NATIVE };

	return profile_frame(p, &f);
}

/* A source that records what the view asked of it. */
struct fake_live {
	struct profile *prof;
	int resets;
	bool held;
};

static long fake_poll(void *ctx)
{
	return 0;
}

static void fake_reset(void *ctx)
{
	struct fake_live *l = ctx;

	l->resets++;
	profile_reset_counts(l->prof);
}

static void fake_decay(void *ctx, unsigned int num, unsigned int den)
{
}

static void fake_hold(void *ctx, bool hold)
{
	struct fake_live *l = ctx;

	l->held = hold;
}

static bool fake_exited(void *ctx)
{
	return false;
}

static void type(struct tui *t, const char *s)
{
	for (; *s; s++)
		tui_key_prompt(t, (unsigned char)*s);
}

int main(void)
{
	struct profile *p = profile_new();
	uint32_t th = profile_thread(p, 7, 7, "app", "app");
	frame_id_t a[] = { fr(p, "main"), fr(p, "hot_a") }, b[] = { fr(p, "main"), fr(p, "hot_b") };
	struct vm_config c = { .user = true };
	struct fake_live live = { .prof = p };
	const struct tui_source src = { &live, fake_poll, fake_reset, fake_decay, fake_hold, fake_exited };
	struct tui t = { .prof = p, .src = &src };
	int acts;
	bool unique = true, described = true;

	for (size_t i = 0; i < tui_nr_keys; i++) {
		described &= tui_keys[i].keys && tui_keys[i].keys[0] && tui_keys[i].help &&
			     tui_keys[i].help[0] && tui_keys[i].run;
		for (size_t k = 0; k < 4 && tui_keys[i].codes[k]; k++)
			for (size_t j = i; j < tui_nr_keys; j++)
				for (size_t l = j == i ? k + 1 : 0; l < 4 && tui_keys[j].codes[l]; l++)
					unique &= tui_keys[i].codes[k] != tui_keys[j].codes[l];
	}
	CHECK(unique, "no key code is bound twice");
	CHECK(described, "every binding has a name and a help line for the help screen");

	profile_add_sample(p, th, a, 2, 6);
	profile_add_sample(p, th, b, 2, 3);
	t.vm = vm_new(p, &c);
	vm_rebuild(t.vm);

	CHECK((tui_key_dispatch(&t, 'v') & ACT_REDRAW) && t.vm->view == VM_INVERTED, "v: inverted view");
	tui_key_dispatch(&t, '\t');
	CHECK(t.vm->view == VM_FLAT, "Tab: flat view");
	tui_key_dispatch(&t, 'v');
	CHECK(t.vm->view == VM_TREE, "v again: back to the tree");
	CHECK(tui_key_dispatch(&t, 'x') == ACT_NONE, "an unbound key does nothing");

	tui_key_dispatch(&t, '/');
	CHECK(t.prompt == PROMPT_SEARCH, "/ opens the search prompt");
	type(&t, "hot_b");
	CHECK(!strcmp(t.vm->search, "hot_b") && !strcmp(tree_frame(t.vm->tree, vm_selected(t.vm)->node)->name, "hot_b"),
	      "typing searches as you type and selects hot_b");
	tui_key_prompt(&t, KEY_BACKSPACE);
	CHECK(!strcmp(t.input, "hot_"), "Backspace edits the prompt");
	tui_key_prompt(&t, '\033');
	CHECK(t.prompt == PROMPT_NONE && !t.vm->search[0], "Esc closes the prompt and clears the search");

	tui_key_dispatch(&t, 'f');
	type(&t, "hot_a");
	CHECK(t.vm->total == 9, "a filter waits for Enter");
	tui_key_prompt(&t, '\r');
	CHECK(t.vm->total == 6 && !strcmp(t.vm->filter, "hot_a"), "Enter applies the filter");

	CHECK(tui_apply(&t, tui_key_dispatch(&t, ' ')) & ACT_PAUSE && t.paused && live.held,
	      "space pauses, and the source holds the profile's frames");
	tui_apply(&t, tui_key_dispatch(&t, ' '));
	CHECK(!t.paused && !live.held, "space resumes, and the source releases them");
	tui_key_dispatch(&t, 'd');
	CHECK(t.decay, "d: decaying window");
	acts = tui_key_dispatch(&t, 'r');
	CHECK((acts & ACT_RESET) && p->total == 9 && !live.resets,
	      "r asks for a reset and leaves the profile alone (a view only reads)");
	tui_apply(&t, acts);
	CHECK(live.resets == 1 && p->total == 0 && t.vm->total == 0,
	      "the loop has the source reset the counts; the view follows");
	profile_add_sample(p, th, a, 2, 6);
	t.src = NULL;
	acts = tui_apply(&t, tui_key_dispatch(&t, 'r'));
	CHECK(!(acts & ACT_RESET) && live.resets == 1 && p->total == 6 && strstr(t.vm->msg, "saved profile"),
	      "a saved profile is never reset (r says why)");
	acts = tui_apply(&t, tui_key_dispatch(&t, ' '));
	CHECK(!(acts & ACT_PAUSE) && !t.paused && strstr(t.vm->msg, "saved profile"),
	      "nor paused (space says why)");
	t.src = &src;
	tui_key_dispatch(&t, KEY_F(1));
	CHECK(t.help, "F1 opens the help");
	tui_key_help(&t, 'x', 10);
	CHECK(!t.help, "any other key closes it");
	tui_key_dispatch(&t, 'i');
	CHECK(t.info && !t.help && t.help_top == 0, "i opens the counters screen");
	tui_key_help(&t, KEY_END, 10);
	CHECK(t.info && t.help_top == SUMMARY_DETAILS_LINES - 10,
	      "End scrolls to its last page (%zu of %d lines)", t.help_top, SUMMARY_DETAILS_LINES);
	tui_key_help(&t, 'x', 10);
	CHECK(!t.info && !t.help, "any other key closes it");
	/* --wall: a thread idle the whole run, hidden until I. */
	{
		frame_id_t idle[] = { profile_special_frame(p, FRAME_SPECIAL, PROFILE_IDLE_NAME),
				      fr(p, "[waiting on a lock]") };
		uint32_t pool = profile_thread(p, 7, 8, "pool", "app");

		vm_set_filter(t.vm, "");
		profile_add_sample(p, pool, idle, 2, 5);
		vm_rebuild(t.vm);
		CHECK(t.vm->total == p->total - 5, "a thread idle the whole run is hidden (%llu)",
		      (unsigned long long)t.vm->total);
		CHECK((tui_key_dispatch(&t, 'I') & ACT_REDRAW) && t.vm->show_idle &&
			      t.vm->total == p->total,
		      "I shows it");
		tui_key_dispatch(&t, 'I');
		CHECK(!t.vm->show_idle && t.vm->total == p->total - 5, "I again hides it");
	}
	CHECK((tui_key_dispatch(&t, 'q') & ACT_QUIT) && t.quit, "q quits");

	vm_free(t.vm);
	profile_free(p);
	return tap_done();
}

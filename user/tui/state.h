/*
 * What the screen (screen.c) and its key actions (keys.c) share: the view
 * model, the screen's own modes (help, prompt, pause, decay) and the source
 * that changes the profile. Private to user/tui/: tui/screen.h is the view's
 * interface.
 */
#ifndef TUI_STATE_H
#define TUI_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "model/profile.h"
#include "tui/screen.h"
#include "tui/viewmodel.h"
#include "tui/callsview.h"

enum tui_prompt { PROMPT_NONE, PROMPT_SEARCH, PROMPT_FILTER };

struct tui {
	struct viewmodel *vm;
	const struct profile *prof;	/* read only: changes go through src */
	const struct tui_source *src;	/* NULL: a saved profile, counts never change */
	bool paused;		/* the view is frozen; sampling goes on */
	bool decay;		/* counts fade (a moving window) instead of accumulating */
	bool help;		/* the help screen is up */
	bool info;		/* the counters screen is up (key i) */
	size_t help_top;	/* its scroll position (or the counters screen's) */
	bool quit;
	enum tui_prompt prompt;
	char input[VM_MAX_INPUT];
	size_t input_len;
	uint64_t rate;		/* samples drained in the last refresh period, per second */
	uint64_t drained;	/* since the last refresh */
	uint64_t rebuild_every;	/* ns between tree rebuilds: 1 s, more for huge profiles */
	uint32_t generation;	/* the profile's when the tree was built */
	/* --scope: the calls view (NULL without calls); while a call's tree
	 * is shown, vm is that tree's and agg_vm the aggregate's, kept aside */
	struct callsview *cv;
	struct viewmodel *agg_vm;
	const struct vm_config *vm_config;	/* how a call's tree opens */
};

/* Flags that key actions return: what to redraw, and what to ask of the
 * source (an action never changes the profile itself; tui_apply does, through
 * the source). */
enum tui_act {
	ACT_NONE = 0,
	ACT_REDRAW = 1 << 0,	/* the screen changed */
	ACT_QUIT = 1 << 1,
	ACT_RESET = 1 << 2,	/* zero the counts */
	ACT_PAUSE = 1 << 3,	/* t->paused changed: hold or release the profile */
};

struct tui_key {
	int codes[4];		/* key codes (0 ends the list early) */
	const char *keys;	/* how the help screen names them */
	const char *help;	/* what they do */
	int (*run)(struct tui *t);	/* returns enum tui_act flags */
};

extern const struct tui_key tui_keys[];
extern const size_t tui_nr_keys;

/* Runs the action bound to ch (normal mode, not help or prompt). */
int tui_key_dispatch(struct tui *t, int ch);
/* Keys while a prompt is open / while the help or counters screen is up. */
int tui_key_prompt(struct tui *t, int ch);
int tui_key_help(struct tui *t, int ch, int page);

/* The calls view's keys (the list is up), and leaving a call's tree for
 * the aggregate's (also at the end: the aggregate vm is the one freed). */
int tui_key_calls(struct tui *t, int ch, int page);
void tui_calls_close(struct tui *t);

/* Carries out what acts (enum tui_act flags) ask of the source; returns acts.
 * Defined by the screen (screen.c), whose loop calls it after each key. */
int tui_apply(struct tui *t, int acts);

#endif

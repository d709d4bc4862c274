/*
 * What the live view's screen and key actions share: the view model plus the
 * screen's own modes (help, prompt, pause, decay). Private to user/tui/.
 */
#ifndef TUI_STATE_H
#define TUI_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/cli.h"
#include "model/profile.h"
#include "tui/viewmodel.h"

enum tui_prompt { PROMPT_NONE, PROMPT_SEARCH, PROMPT_FILTER };

struct tui {
	struct viewmodel *vm;
	struct profile *prof;
	const struct options *opts;
	bool saved;		/* a saved profile: nothing is sampled, counts never change */
	bool paused;		/* the view is frozen; sampling goes on */
	bool decay;		/* counts fade (a moving window) instead of accumulating */
	bool help;		/* the help screen is up */
	size_t help_top;	/* its scroll position */
	bool quit;
	enum tui_prompt prompt;
	char input[VM_MAX_INPUT];
	size_t input_len;
	uint64_t rate;		/* samples drained in the last refresh period, per second */
	uint64_t drained;	/* since the last refresh */
	uint64_t rebuild_every;	/* ns between tree rebuilds: 1 s, more for huge profiles */
	uint32_t generation;	/* the profile's when the tree was built */
};

/* Redraw flags that key actions return. */
enum tui_act {
	ACT_NONE = 0,
	ACT_REDRAW = 1 << 0,	/* the screen changed */
	ACT_QUIT = 1 << 1,
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
/* Keys while a prompt is open / while the help screen is up. */
int tui_key_prompt(struct tui *t, int ch);
int tui_key_help(struct tui *t, int ch, int page);

#endif

/*
 * Command-line options of every subcommand, in one struct with its defaults
 * in options_init(). Parsing prints usage errors itself, one line on stderr
 * that names the option as typed, its value and what it takes, and returns
 * 2, the exit code for bad usage.
 *
 * Ownership: the struct owns pids, tids and comms (each name and the array),
 * freed by options_free(), also after a failed parse. Every other pointer
 * points into argv (an option's value, or argv itself past "--" or the
 * options): it is never freed and lives as long as argv, so a struct options
 * must not outlive the argv it was parsed from. Copy a struct options only to
 * read it: options_free() on two copies frees twice.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "report/report.h"

enum unwind_mode { UNWIND_AUTO, UNWIND_DWARF, UNWIND_FP };
enum tui_mode { TUI_AUTO, TUI_ON, TUI_OFF };

#define MAX_GLOBS 64

struct options {
	/* what to profile */
	uint32_t *pids;		/* -p, owned (malloc'ed) */
	size_t nr_pids;
	uint32_t *tids;		/* -t, owned */
	size_t nr_tids;
	bool all;		/* -a */
	char **command;		/* after "--", NULL-terminated: in argv; NULL if none */
	const char *cpus;	/* -C list, in argv (parse it with parse_id_list) */
	const char *user;	/* -u: only this user's processes; in argv */
	char **comms;		/* --comm: only processes with these names; owned, */
	size_t nr_comms;	/* the array and each name (split from "a,b") */
	const char *cgroup;	/* --cgroup: only processes in this cgroup; in argv */
	bool as_user;		/* --as-user: run COMMAND as child_user */
	const char *child_user;	/* in argv; NULL: $SUDO_USER */

	/* sampling */
	uint32_t freq_hz;
	double duration_s;	/* 0: until Ctrl-C or the target exits */
	bool kernel;		/* -K */
	bool kernel_only;
	bool idle;
	enum unwind_mode unwind;
	bool no_unwind_cache;	/* --no-unwind-cache */
	uint64_t unwind_mem;	/* --unwind-mem bytes; 0: the default */
	int python;		/* enum python_mode */

	/* output */
	const char *output;	/* -o, in argv; NULL: stdout */
	int format;		/* enum report_format, or -1: from -o's extension, else text */
	enum tui_mode tui;
	int color;		/* -1 auto, 0 off, 1 on */
	bool quiet;
	int verbose;

	/* view options (shared by the text report, the TUI and every report) */
	const char *hide[MAX_GLOBS];	/* --hide patterns, in argv */
	size_t nr_hide;
	const char *show[MAX_GLOBS];	/* --show patterns, in argv */
	size_t nr_show;
	bool show_all;
	bool threads;
	bool processes;		/* forced on for -a and several pids */
	bool per_pid;		/* --processes itself: one node per process, no program level */
	bool lines;
	bool ascii;
	bool counters;		/* --counters: every counter under the text header */
	bool invert;
	double min_percent;
	const char *focus;	/* --focus, in argv */
	bool no_demangle;

	/* subcommand arguments (report FILE, diff A B, addr2line -e FILE ...) */
	char **args;		/* the operands: argv past the options */
	int nr_args;
	const char *exe;	/* addr2line -e, in argv */
};

/* Sets the defaults; nothing is owned yet. */
void options_init(struct options *o);
/* Frees what the struct owns (pids, tids, comms); leaves argv alone. */
void options_free(struct options *o);

/* Parses the record command line (argv[0] is the program). Returns 0, or an
 * exit code (2 usage error, 0 after --help/--version) with *done set. */
int cli_parse_record(struct options *o, int argc, char **argv, bool *done);
/* For "report" and other subcommands that take view options and files; cmd
 * adds its own options ("report": --tui, "diff": -f text or html only,
 * "addr2line": -e) and names the command in the messages. */
int cli_parse_view(struct options *o, const char *cmd, int argc, char **argv, bool *done);

/* Fills report options from the parsed view options; color_ok says whether
 * the output is a terminal (colour only there, unless forced). */
void options_report(const struct options *o, struct report_opts *r, bool color_ok);

/* Where the kernel keeps its limit on samples per second (perf_event_open
 * refuses more), and the value used when it cannot be read: the kernel's
 * default (DEFAULT_MAX_SAMPLE_RATE in kernel/events/core.c). */
#define CLI_MAX_FREQ_PATH "/proc/sys/kernel/perf_event_max_sample_rate"
#define CLI_MAX_FREQ_FALLBACK 100000

/* The most -F accepts, read from path (NULL: CLI_MAX_FREQ_PATH) into *hz.
 * Returns 0, or a negative errno with *hz = CLI_MAX_FREQ_FALLBACK when the
 * file is unreadable or holds no positive number. */
int cli_max_freq(const char *path, uint32_t *hz);

/* A usage error about one option, on one line of stderr:
 * "sampletop: OPTION VALUE: why", OPTION and VALUE escaped (VALUE NULL: none
 * shown; quoted when empty or blank-holding). Returns 2, the exit code. */
int cli_option_error(const char *option, const char *value, const char *fmt, ...) PRINTF(3, 4);
/* A usage error about the command line as a whole: "sampletop: why". Returns 2. */
int cli_usage_error(const char *fmt, ...) PRINTF(1, 2);

/* Parses "1,2,5-7" and appends the numbers to *out (malloc'ed; *nr counts
 * them; the caller frees *out). Returns 0, or -EINVAL with *out freed and
 * NULL and *nr 0, the numbers given in dropped too. */
int parse_id_list(const char *s, uint32_t **out, size_t *nr);

/* A size in bytes, with an optional K, M or G (powers of 1024), in [lo, hi]:
 * 0 with *out, or -EINVAL. */
int parse_size(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

#endif

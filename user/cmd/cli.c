/* Option parsing for the record command and the subcommands. */
#include "cmd/cli.h"
#include "python/python.h"
#include "base/util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERSION "0.1.0"

static const char usage_text[] =
	"Usage: sampletop [OPTIONS] [-p PID[,PID...] | -t TID[,...] | -a | -- COMMAND [ARGS...]]\n"
	"                 [-u USER] [--comm NAME] [--cgroup PATH]\n"
	"       sampletop report FILE [--format F] [-o OUT] [VIEW OPTIONS]\n"
	"       sampletop diff BEFORE AFTER [-o OUT.html] [VIEW OPTIONS]\n"
	"       sampletop addr2line -e FILE [--lines] [--no-demangle] [ADDR...]\n"
	"\n"
	"A sampling profiler: samples the stacks of running code with eBPF at a\n"
	"fixed rate and shows where the time goes as a call tree.\n"
	"\n"
	"Target:\n"
	"  -p, --pid PID[,PID...]    profile these processes (all their threads)\n"
	"  -t, --tid TID[,TID...]    profile only these threads\n"
	"  -a, --all                 profile every process on every CPU\n"
	"  -C, --cpu LIST            sample only these CPUs (e.g. 0,2-3)\n"
	"  -u, --user USER           only processes of USER (name or uid; effective uid)\n"
	"      --comm NAME[,NAME...] only processes with this name (15 characters kept)\n"
	"      --cgroup PATH         only processes in this cgroup or below it\n"
	"                            (e.g. /sys/fs/cgroup/system.slice/nginx.service)\n"
	"  -- COMMAND [ARGS...]      launch COMMAND and profile it and its children\n"
	"                            until it exits\n"
	"      --as-user[=USER]      run COMMAND as USER (default: $SUDO_USER, the\n"
	"                            user who ran sudo)\n"
	"\n"
	"Sampling:\n"
	"  -F, --freq HZ             samples per second per CPU (default 1000)\n"
	"  -d, --duration SECONDS    stop after this long (default: until Ctrl-C or exit)\n"
	"  -K, --kernel              record kernel stacks too, below the user frames\n"
	"      --kernel-only         record kernel stacks only\n"
	"      --idle                keep samples of the idle task (pid 0)\n"
	"      --unwind MODE         how user stacks are walked: auto (from each object's\n"
	"                            .eh_frame; frame pointers where there is none),\n"
	"                            dwarf (.eh_frame only) or fp (frame pointers only)\n"
	"                            (default auto)\n"
	"      --python MODE         Python frames of CPython 3.10-3.13: merge (in place\n"
	"                            of the interpreter's frames), only, off (default merge)\n"
	"\n"
	"Output:\n"
	"  -o, --output FILE         write the report to FILE\n"
	"  -f, --format FORMAT       text (.txt), json (.json: the saved profile that\n"
	"                            'sampletop report' reloads), html (.html), folded\n"
	"                            (.folded), speedscope (.speedscope.json), pprof\n"
	"                            (.pb.gz); default: from FILE's extension, else text\n"
	"      --tui / --no-tui      force the live terminal view on or off (default: on\n"
	"                            when stdin and stdout are terminals and no -d)\n"
	"      --color / --no-color  colour (default: on a terminal, unless NO_COLOR)\n"
	"  -q, --quiet               no progress messages on stderr\n"
	"  -v, --verbose             also say on stderr what each object's unwind table\n"
	"                            cost (rows, bytes, build time)\n"
	"\n"
	"View (shared by every report and the live view):\n"
	"      --threads             split the tree per thread\n"
	"      --processes           split the tree per process; without it, -a and\n"
	"                            several processes give one node per program\n"
	"                            (\"cc1 [60 processes]\") with its processes below\n"
	"      --invert              bottom-up tree: hot functions first, callers below\n"
	"      --focus GLOB          re-root the tree at functions matching GLOB\n"
	"      --hide GLOB           collapse frames or modules matching GLOB\n"
	"      --show GLOB           never collapse frames matching GLOB\n"
	"      --show-all            collapse nothing\n"
	"      --kernel              show kernel frames (when recorded with -K)\n"
	"      --lines               show file:line of each function, and inlined calls\n"
	"      --min-percent P       elide nodes under P% of the total (default 0.5)\n"
	"      --ascii               no box-drawing characters\n"
	"      --no-demangle         keep C++/Rust names mangled\n"
	"\n"
	"  -h, --help                this help\n"
	"  -V, --version             version\n"
	"\n"
	"Examples:\n"
	"  sudo sampletop -p 1234                 # live tree of one process\n"
	"  sudo sampletop -p 1234 -d 5            # text tree on stdout after 5 s\n"
	"  sudo sampletop -a -d 10 -o out.folded  # whole machine, folded stacks\n"
	"  sudo sampletop -- ./server --port 80   # launch and profile\n"
	"  sudo sampletop --as-user -- make -j2   # profile a build, run as yourself\n"
	"  sudo sampletop --cgroup /sys/fs/cgroup/system.slice/nginx.service -d 10\n"
	"  sudo sampletop -p 1234 -d 10 -o p.json # save the profile, then:\n"
	"  sampletop report p.json -o p.html      # re-render it (any format, any view)\n"
	"  sampletop diff old.json new.json       # what grew, what shrank\n"
	"\n"
	"Exit status: 0 success, 1 error, 2 bad usage; with -- COMMAND, the\n"
	"command's own non-zero exit status.\n";

enum {
	OPT_KERNEL_ONLY = 256,
	OPT_IDLE,
	OPT_UNWIND,
	OPT_TUI,
	OPT_NO_TUI,
	OPT_COLOR,
	OPT_NO_COLOR,
	OPT_THREADS,
	OPT_PROCESSES,
	OPT_INVERT,
	OPT_FOCUS,
	OPT_HIDE,
	OPT_SHOW,
	OPT_SHOW_ALL,
	OPT_LINES,
	OPT_MIN_PERCENT,
	OPT_ASCII,
	OPT_NO_DEMANGLE,
	OPT_COMM,
	OPT_CGROUP,
	OPT_AS_USER,
	OPT_PYTHON,
};

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "tid", required_argument, NULL, 't' },
	{ "all", no_argument, NULL, 'a' },
	{ "cpu", required_argument, NULL, 'C' },
	{ "user", required_argument, NULL, 'u' },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "as-user", optional_argument, NULL, OPT_AS_USER },
	{ "freq", required_argument, NULL, 'F' },
	{ "duration", required_argument, NULL, 'd' },
	{ "kernel", no_argument, NULL, 'K' },
	{ "kernel-only", no_argument, NULL, OPT_KERNEL_ONLY },
	{ "idle", no_argument, NULL, OPT_IDLE },
	{ "unwind", required_argument, NULL, OPT_UNWIND },
	{ "python", required_argument, NULL, OPT_PYTHON },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, 'f' },
	{ "tui", no_argument, NULL, OPT_TUI },
	{ "no-tui", no_argument, NULL, OPT_NO_TUI },
	{ "color", no_argument, NULL, OPT_COLOR },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "threads", no_argument, NULL, OPT_THREADS },
	{ "processes", no_argument, NULL, OPT_PROCESSES },
	{ "invert", no_argument, NULL, OPT_INVERT },
	{ "focus", required_argument, NULL, OPT_FOCUS },
	{ "hide", required_argument, NULL, OPT_HIDE },
	{ "show", required_argument, NULL, OPT_SHOW },
	{ "show-all", no_argument, NULL, OPT_SHOW_ALL },
	{ "lines", no_argument, NULL, OPT_LINES },
	{ "min-percent", required_argument, NULL, OPT_MIN_PERCENT },
	{ "ascii", no_argument, NULL, OPT_ASCII },
	{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

void options_init(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->freq_hz = 1000;
	o->format = -1;
	o->color = -1;
	o->min_percent = 0.5;
	o->unwind = UNWIND_AUTO;
	o->tui = TUI_AUTO;
}

void options_free(struct options *o)
{
	free(o->pids);
	free(o->tids);
	for (size_t i = 0; i < o->nr_comms; i++)
		free(o->comms[i]);
	free(o->comms);
}

/* Adds the names of "a,b" to o->comms. Returns 0 or -EINVAL (an empty name). */
static int add_comms(struct options *o, const char *arg)
{
	size_t alloc = o->nr_comms;

	do {
		size_t len = strcspn(arg, ",");

		if (!len)
			return -EINVAL;
		XGROW(o->comms, alloc, o->nr_comms + 1);
		o->comms[o->nr_comms++] = xstrndup(arg, len);
		arg += len + (arg[len] == ',');
	} while (*arg);
	return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "sampletop: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'sampletop --help' for more information.\n");
	return 2;
}

static int append_ids(const char *s, uint32_t **out, size_t *nr)
{
	size_t alloc = *nr;
	const char *p = s;

	while (*p) {
		unsigned long a, b;
		char *end;

		errno = 0;
		a = strtoul(p, &end, 10);
		if (end == p || errno || a > UINT32_MAX || *p == '-' || *p == '+')
			return -EINVAL;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || errno || b > UINT32_MAX || b < a || b - a > 65536)
				return -EINVAL;
		}
		for (unsigned long v = a; v <= b; v++) {
			XGROW(*out, alloc, *nr + 1);
			(*out)[(*nr)++] = v;
		}
		if (*end == ',')
			end++;
		else if (*end)
			return -EINVAL;
		p = end;
	}
	return *nr ? 0 : -EINVAL;
}

int parse_id_list(const char *s, uint32_t **out, size_t *nr)
{
	int err = append_ids(s, out, nr);

	if (err) {	/* a bad list is no list: nothing is left to free */
		free(*out);
		*out = NULL;
		*nr = 0;
	}
	return err;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !(v >= lo && v <= hi))
		return -EINVAL;
	*out = v;
	return 0;
}

/* Handles the options shared by record and the subcommands. Returns 1 if c
 * was one of them, 0 if not, or an exit code + 10 on error. */
static int view_option(struct options *o, int c, const char *arg)
{
	switch (c) {
	case 'o': o->output = arg; return 1;
	case 'f':
		o->format = report_format_by_name(arg);
		if (o->format < 0)
			return 10 + usage_error("unknown format '%s' (text, folded, json, html, speedscope, pprof)", arg);
		return 1;
	case OPT_COLOR: o->color = 1; return 1;
	case OPT_NO_COLOR: o->color = 0; return 1;
	case OPT_THREADS: o->threads = true; return 1;
	case OPT_PROCESSES: o->processes = o->per_pid = true; return 1;
	case OPT_INVERT: o->invert = true; return 1;
	case OPT_FOCUS: o->focus = arg; return 1;
	case OPT_HIDE:
		if (o->nr_hide == MAX_GLOBS)
			return 10 + usage_error("too many --hide patterns (at most 64): '%s'", arg);
		o->hide[o->nr_hide++] = arg;
		return 1;
	case OPT_SHOW:
		if (o->nr_show == MAX_GLOBS)
			return 10 + usage_error("too many --show patterns (at most 64): '%s'", arg);
		o->show[o->nr_show++] = arg;
		return 1;
	case OPT_SHOW_ALL: o->show_all = true; return 1;
	case OPT_LINES: o->lines = true; return 1;
	case OPT_ASCII: o->ascii = true; return 1;
	case OPT_NO_DEMANGLE: o->no_demangle = true; return 1;
	case OPT_KERNEL_ONLY: o->kernel_only = true; o->kernel = true; return 1;
	case 'K': o->kernel = true; return 1;
	case OPT_MIN_PERCENT:
		if (parse_double(arg, 0, 100, &o->min_percent))
			return 10 + usage_error("--min-percent wants a number from 0 to 100, not '%s'", arg);
		return 1;
	case 'q': o->quiet = true; return 1;
	case 'v': o->verbose++; return 1;
	}
	return 0;
}

int cli_parse_record(struct options *o, int argc, char **argv, bool *done)
{
	int c, r;

	*done = false;
	optind = 1;
	opterr = 0;
	/* "+" stops at the first non-option: "sampletop -- cmd -x" keeps -x for cmd. */
	while ((c = getopt_long(argc, argv, "+p:t:aC:u:F:d:Ko:f:qvhV", long_opts, NULL)) != -1) {
		double d;

		r = view_option(o, c, optarg);
		if (r >= 10) {
			*done = true;
			return r - 10;
		}
		if (r)
			continue;
		switch (c) {
		case 'p':
			if (parse_id_list(optarg, &o->pids, &o->nr_pids))
				goto bad_value;
			break;
		case 't':
			if (parse_id_list(optarg, &o->tids, &o->nr_tids))
				goto bad_value;
			break;
		case 'a': o->all = true; break;
		case 'C': o->cpus = optarg; break;
		case 'u': o->user = optarg; break;
		case OPT_COMM:
			if (add_comms(o, optarg))
				goto bad_value;
			break;
		case OPT_CGROUP: o->cgroup = optarg; break;
		case OPT_AS_USER:
			o->as_user = true;
			o->child_user = optarg;
			break;
		case 'F':
			if (parse_double(optarg, 1, 100000, &d))
				goto bad_value;
			o->freq_hz = (uint32_t)d;
			break;
		case 'd':
			if (parse_double(optarg, 0.001, 365 * 86400.0, &o->duration_s))
				goto bad_value;
			break;
		case OPT_IDLE: o->idle = true; break;
		case OPT_UNWIND:
			if (!strcmp(optarg, "auto"))
				o->unwind = UNWIND_AUTO;
			else if (!strcmp(optarg, "dwarf"))
				o->unwind = UNWIND_DWARF;
			else if (!strcmp(optarg, "fp"))
				o->unwind = UNWIND_FP;
			else
				goto bad_value;
			break;
		case OPT_PYTHON: {
			enum python_mode m;

			if (python_mode_parse(optarg, &m))
				goto bad_value;
			o->python = m;
			break;
		}
		case OPT_TUI: o->tui = TUI_ON; break;
		case OPT_NO_TUI: o->tui = TUI_OFF; break;
		case 'h':
			fputs(usage_text, stdout);
			*done = true;
			return 0;
		case 'V':
			printf("sampletop %s\n", VERSION);
			*done = true;
			return 0;
		case '?':
		default:
			*done = true;
			if (optopt && optopt < 256)
				return usage_error(strchr("ptCuFdof", optopt) ? "option -%s needs a value"
									   : "unknown option -%s",
						   (char[]){ (char)optopt, 0 });
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
		continue;
bad_value:
		*done = true;
		return usage_error("bad value '%s'", optarg);
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--")) {
			*done = true;
			return usage_error("unexpected argument '%s' (put a command after --)", argv[optind]);
		}
		o->command = &argv[optind];
	}
	if (!o->all && !o->nr_pids && !o->nr_tids && !o->command && !o->user && !o->nr_comms &&
	    !o->cgroup) {
		*done = true;
		return usage_error("%s", "nothing to profile: give -p PID, -t TID, -a or -- COMMAND");
	}
	if (o->as_user && !o->command) {
		*done = true;
		return usage_error("%s", "--as-user runs a COMMAND: put one after --");
	}
	if ((o->all ? 1 : 0) + (o->nr_pids || o->nr_tids ? 1 : 0) + (o->command ? 1 : 0) > 1) {
		*done = true;
		return usage_error("%s", "choose one target: -p/-t, -a or -- COMMAND");
	}
	return 0;
}

static const char report_usage[] =
	"Usage: sampletop report FILE [--format F] [-o OUT] [VIEW OPTIONS]\n"
	"       sampletop diff BEFORE AFTER [--format text|html] [-o OUT] [VIEW OPTIONS]\n"
	"\n"
	"report re-renders a saved profile (a .json report: -o FILE.json) in any\n"
	"format with any view options; the text tree goes to stdout without -o.\n"
	"With --tui it opens the saved profile in the live view to browse it.\n"
	"diff compares two saved profiles: the functions whose share of the samples\n"
	"grew or shrank (text), or a differential flame graph (html: red grew,\n"
	"blue shrank).\n"
	"\n"
	"  -o, --output FILE         write to FILE (format from its extension)\n"
	"  -f, --format FORMAT       text, folded, json, html, speedscope, pprof\n"
	"      --threads, --processes, --invert, --focus GLOB, --hide GLOB,\n"
	"      --show GLOB, --show-all, --kernel, --kernel-only, --lines,\n"
	"      --min-percent P, --ascii, --color/--no-color: as for recording\n"
	"                            (see sampletop --help)\n"
	"\n"
	"Exit status: 0 success, 1 error (e.g. a damaged profile), 2 bad usage.\n";

int cli_parse_view(struct options *o, const char *cmd, int argc, char **argv, bool *done)
{
	int c, r;

	*done = false;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:f:e:qvhK", long_opts, NULL)) != -1) {
		r = view_option(o, c, optarg);
		if (r >= 10) {
			*done = true;
			return r - 10;
		}
		if (r)
			continue;
		if (c == 'e') {
			o->exe = optarg;
			continue;
		}
		if (c == OPT_TUI) {
			o->tui = TUI_ON;
			continue;
		}
		if (c == 'h') {
			fputs(report_usage, stdout);
			*done = true;
			return 0;
		}
		*done = true;
		return usage_error("unknown option '%s'", argv[optind - 1]);
	}
	(void)cmd;
	o->args = &argv[optind];
	o->nr_args = argc - optind;
	return 0;
}

void options_report(const struct options *o, struct report_opts *r, bool color_ok)
{
	memset(r, 0, sizeof(*r));
	r->view.user = !o->kernel_only;
	r->view.kernel = o->kernel;
	r->view.by_thread = o->threads;
	r->view.by_process = o->processes;
	r->view.by_program = !o->per_pid;
	r->view.invert = o->invert;
	r->view.focus = o->focus;
	r->lines = o->lines;
	r->ascii = o->ascii;
	r->show_all = o->show_all;
	r->hide = (const char **)o->hide;
	r->nr_hide = o->nr_hide;
	r->show = (const char **)o->show;
	r->nr_show = o->nr_show;
	r->min_percent = o->min_percent;
	if (o->color >= 0)
		r->color = o->color;
	else
		r->color = color_ok && !env_no_color();
}

/* Option parsing for the record command and the subcommands. */
#include "cmd/cli.h"
#include "cmd/callrec.h"
#include "python/python.h"
#include "base/util.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERSION "0.1.0"

static const char usage_text[] =
	"Usage: sampletop [OPTIONS] [-p PID[,PID...] | -t TID[,...] | -a | -- COMMAND [ARGS...]]\n"
	"                 [-u USER] [--comm NAME] [--cgroup PATH]\n"
	"       sampletop report FILE [--format F] [-o OUT] [VIEW OPTIONS]\n"
	"       sampletop diff BEFORE AFTER [-o OUT.html] [VIEW OPTIONS]\n"
	"       sampletop live clickhouse://HOST:PORT/DB [--since TIME] [--where KEY=VALUE]\n"
	"       sampletop addr2line -e FILE [--lines] [--no-demangle] [ADDR...]\n"
	"       sampletop agent --to clickhouse://[USER@]HOST:PORT/DB [OPTIONS]\n"
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
	"  -F, --freq HZ             samples per second per CPU, 1 to the kernel's limit\n"
	"                            (kernel.perf_event_max_sample_rate; default 1000)\n"
	"  -d, --duration SECONDS    stop after this long (default: until Ctrl-C or exit)\n"
	"  -K, --kernel              record kernel stacks too, below the user frames\n"
	"      --kernel-only         record kernel stacks only\n"
	"      --idle                keep samples of the idle task (pid 0)\n"
	"      --wall                wall-clock time: also the time threads spend off\n"
	"                            the CPU (sleeping, on a lock, reading, waiting for\n"
	"                            a CPU...), weighed in seconds\n"
	"      --unwind MODE         how user stacks are walked: auto (from each object's\n"
	"                            .eh_frame; frame pointers where there is none),\n"
	"                            dwarf (.eh_frame only) or fp (frame pointers only)\n"
	"                            (default auto)\n"
	"      --no-unwind-cache     build every unwind table, neither reading nor writing\n"
	"                            /var/cache/sampletop/unwind\n"
	"      --unwind-mem SIZE     kernel memory for the unwind tables, in bytes or\n"
	"                            with K, M or G (default 32M); past it the tables\n"
	"                            sampled least recently are evicted\n"
	"      --python MODE         Python frames of CPython 3.10-3.13: merge (in place\n"
	"                            of the interpreter's frames), only, off (default merge)\n"
	"\n"
	"Calls (each call of a function a unit of its own; implies --wall):\n"
	"      --scope FUNC          count only time inside calls of FUNC, and show\n"
	"                            each call: a native symbol (C, C++, Rust), or a\n"
	"                            Python qualified name (with a dot, or py:NAME)\n"
	"      --slowest N           keep the N slowest calls whole (default 20)\n"
	"      --slower-than TIME    write each call slower than TIME (150ms, 0.2s)\n"
	"                            as its own report, to -o's pattern (%n call\n"
	"                            number, %t thread, %p process, %d duration ms)\n"
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
	"      --counters            text: every counter and its meaning under the header\n"
	"      --show-idle           --wall: show threads that did not run at all during\n"
	"                            the run (hidden by default)\n"
	"      --no-demangle         keep C++/Rust names mangled\n"
	"\n"
	"  -h, --help                this help\n"
	"  -V, --version             version\n"
	"\n"
	"Examples:\n"
	"  sudo sampletop -p 1234                 # live tree of one process\n"
	"  sudo sampletop -p 1234 -d 5            # text tree on stdout after 5 s\n"
	"  sudo sampletop --wall -p 1234 -d 5     # wall-clock time: on and off the CPU\n"
	"  sudo sampletop -a -d 10 -o out.folded  # whole machine, folded stacks\n"
	"  sudo sampletop -- ./server --port 80   # launch and profile\n"
	"  sudo sampletop --as-user -- make -j2   # profile a build, run as yourself\n"
	"  sudo sampletop --cgroup /sys/fs/cgroup/system.slice/nginx.service -d 10\n"
	"  sudo sampletop -p 1234 -d 10 -o p.json # save the profile, then:\n"
	"  sampletop report p.json -o p.html      # re-render it (any format, any view)\n"
	"  sampletop diff old.json new.json       # what grew, what shrank\n"
	"  sampletop report clickhouse://ch1:8123/prof --since 1h --where service=nginx.service\n"
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
	OPT_COUNTERS,
	OPT_NO_UNWIND_CACHE,
	OPT_UNWIND_MEM,
	OPT_SCOPE,
	OPT_SLOWEST,
	OPT_SLOWER_THAN,
	OPT_WALL,
	OPT_SHOW_IDLE,
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
	{ "unwind-mem", required_argument, NULL, OPT_UNWIND_MEM },
	{ "python", required_argument, NULL, OPT_PYTHON },
	{ "no-unwind-cache", no_argument, NULL, OPT_NO_UNWIND_CACHE },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "slowest", required_argument, NULL, OPT_SLOWEST },
	{ "slower-than", required_argument, NULL, OPT_SLOWER_THAN },
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
	{ "counters", no_argument, NULL, OPT_COUNTERS },
	{ "wall", no_argument, NULL, OPT_WALL },
	{ "show-idle", no_argument, NULL, OPT_SHOW_IDLE },
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
	o->slowest = CALLS_KEEP_DEFAULT;
}

void options_free(struct options *o)
{
	free(o->pids);
	free(o->tids);
	for (size_t i = 0; i < o->nr_comms; i++)
		free(o->comms[i]);
	free(o->comms);
}

/* The option being handled: as the user spelled it ("-F" or "--freq"), for
 * the messages, and its value (NULL: none given). */
struct opt_arg {
	int c;
	char name[40];
	const char *value;
};

/* A handler's answer for an option that is not one of its own. */
#define NOT_MINE (-1)

/* A value as typed, escaped (a command line may hold any byte), in quotes
 * when it is empty or holds a blank so that it reads as one word. */
static void add_value(struct strbuf *sb, const char *v)
{
	bool quote = !*v || strpbrk(v, " \t");

	if (quote)
		strbuf_addch(sb, '\'');
	strbuf_add_escaped(sb, v);
	if (quote)
		strbuf_addch(sb, '\'');
}

static int print_error(struct strbuf *sb, const char *fmt, va_list ap)
{
	strbuf_vaddf(sb, fmt, ap);
	fprintf(stderr, "%s\n", sb->buf);
	strbuf_release(sb);
	return 2;
}

int cli_usage_error(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	int ret;

	strbuf_addstr(&sb, "sampletop: ");
	va_start(ap, fmt);
	ret = print_error(&sb, fmt, ap);
	va_end(ap);
	return ret;
}

int cli_option_error(const char *option, const char *value, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	int ret;

	strbuf_addstr(&sb, "sampletop: ");
	strbuf_add_escaped(&sb, option);
	if (value) {
		strbuf_addch(&sb, ' ');
		add_value(&sb, value);
	}
	strbuf_addstr(&sb, ": ");
	va_start(ap, fmt);
	ret = print_error(&sb, fmt, ap);
	va_end(ap);
	return ret;
}

int cli_max_freq(const char *path, uint32_t *hz)
{
	char buf[32];
	unsigned long v;
	char *end;
	FILE *f = fopen(path ? path : CLI_MAX_FREQ_PATH, "r");
	int err = 0;

	*hz = CLI_MAX_FREQ_FALLBACK;
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f))
		err = -EIO;
	fclose(f);
	if (err)
		return err;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (end == buf || (*end && *end != '\n') || errno || v < 1 || v > UINT32_MAX)
		return -EINVAL;
	*hz = v;
	return 0;
}

/* "text, folded, json, html, speedscope or pprof", from the format table. */
static void add_format_list(struct strbuf *sb)
{
	for (int i = 0; i < FMT_NR; i++)
		strbuf_addf(sb, "%s%s", i == 0 ? "" : i == FMT_NR - 1 ? " or " : ", ",
			    report_format_name(i));
}

/* What an option takes, in words, for the messages about its value. */
static void add_wants(struct strbuf *sb, int c)
{
	uint32_t max;

	switch (c) {
	case 'p':
	case 't': strbuf_addstr(sb, "a number above 0, or a list like 12,34"); break;
	case 'C': strbuf_addstr(sb, "CPU numbers and ranges, like 0,2-3"); break;
	case 'u': strbuf_addstr(sb, "a user name or a numeric uid"); break;
	case OPT_AS_USER: strbuf_addstr(sb, "a user name"); break;
	case OPT_COMM: strbuf_addstr(sb, "process names, separated by commas"); break;
	case OPT_CGROUP:
		strbuf_addstr(sb, "a cgroup directory, like /sys/fs/cgroup/system.slice");
		break;
	case 'F':
		cli_max_freq(NULL, &max);
		strbuf_addf(sb, "samples per second, 1 to %u", max);
		break;
	case 'd': strbuf_addstr(sb, "seconds, like 10 or 0.5"); break;
	case OPT_UNWIND: strbuf_addstr(sb, "auto, dwarf or fp"); break;
	case OPT_PYTHON: strbuf_addstr(sb, "merge, only or off"); break;
	case 'o': strbuf_addstr(sb, "the path to write to"); break;
	case 'f': add_format_list(sb); break;
	case 'e': strbuf_addstr(sb, "an executable or library"); break;
	case OPT_FOCUS:
	case OPT_HIDE:
	case OPT_SHOW: strbuf_addstr(sb, "a glob, like 'malloc*'"); break;
	case OPT_MIN_PERCENT: strbuf_addstr(sb, "a percentage, 0 to 100"); break;
	case OPT_SCOPE: strbuf_addstr(sb, "a function: a symbol, or Class.method in Python"); break;
	case OPT_SLOWEST: strbuf_addf(sb, "a number of calls, 0 to %u", CALLS_KEEP_MAX); break;
	case OPT_SLOWER_THAN: strbuf_addstr(sb, "a time, like 150ms, 0.2s or 500us"); break;
	default: strbuf_addstr(sb, "see --help"); break;
	}
}

/* "sampletop: OPTION VALUE: problem (what OPTION takes)". Returns 2. */
static int bad_value(const struct opt_arg *a, const char *problem)
{
	struct strbuf wants = STRBUF_INIT;
	int ret;

	add_wants(&wants, a->c);
	ret = cli_option_error(a->name, a->value, "%s (%s)", problem, wants.buf);
	strbuf_release(&wants);
	return ret;
}

/* Parses a whole string as a number. Returns 0 or -EINVAL. */
static int parse_number(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return end == s || *end || errno == ERANGE ? -EINVAL : 0;
}

/* Adds the names of "a,b" to o->comms; an empty name is refused. */
static int add_comms(struct options *o, const struct opt_arg *a)
{
	const char *arg = a->value;
	size_t alloc = o->nr_comms;

	do {
		size_t len = strcspn(arg, ",");

		if (!len)
			return bad_value(a, "an empty name");
		XGROW(o->comms, alloc, o->nr_comms + 1);
		o->comms[o->nr_comms++] = xstrndup(arg, len);
		arg += len + (arg[len] == ',');
	} while (*arg);
	return 0;
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

/* -p and -t: a list of ids, none of them 0 (the idle task is no target). */
static int add_ids(const struct opt_arg *a, uint32_t **ids, size_t *nr, const char *problem)
{
	size_t first = *nr;

	if (parse_id_list(a->value, ids, nr))
		return bad_value(a, problem);
	for (size_t i = first; i < *nr; i++)
		if (!(*ids)[i])
			return bad_value(a, problem);
	return 0;
}

int parse_size(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	unsigned shift = 0;
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno)
		return -EINVAL;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	v *= (double)(1ull << shift);
	if (*end || !(v >= (double)lo && v <= (double)hi))
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

/* -C: a list of CPUs this machine has. main parses it again into its table. */
static int check_cpus(struct options *o, const struct opt_arg *a)
{
	int nr_cpus = libbpf_num_possible_cpus();
	uint32_t *cpus = NULL;
	size_t n = 0;
	int ret = 0;

	if (parse_id_list(a->value, &cpus, &n))
		return bad_value(a, "not a CPU list");
	for (size_t i = 0; i < n && nr_cpus > 0; i++) {
		if (cpus[i] >= (uint32_t)nr_cpus) {
			ret = cli_option_error(a->name, a->value,
					       "no CPU %u (this machine has CPUs 0 to %d)", cpus[i],
					       nr_cpus - 1);
			break;
		}
	}
	free(cpus);
	o->cpus = a->value;
	return ret;
}

/* -F: whole samples per second, up to the kernel's limit, which perf_event_open
 * enforces (and above which it throttles) anyway: better said now. */
static int parse_freq(struct options *o, const struct opt_arg *a)
{
	uint32_t max;
	bool read = cli_max_freq(NULL, &max) == 0;
	double v;

	if (parse_number(a->value, &v))
		return bad_value(a, "not a number");
	if (!(v >= 1 && v <= max))
		return cli_option_error(a->name, a->value, "must be 1 to %u (%s)", max,
					read ? "kernel.perf_event_max_sample_rate"
					     : "the kernel's default limit");
	if (v != (uint32_t)v)
		return bad_value(a, "not a whole number");
	o->freq_hz = v;
	return 0;
}

/* -d: from a millisecond (the timer's grain) to a year. */
static int parse_duration(struct options *o, const struct opt_arg *a)
{
	double v;

	if (parse_number(a->value, &v))
		return bad_value(a, "not a number");
	if (!(v >= 0.001 && v <= 365 * 86400.0))
		return cli_option_error(a->name, a->value,
					"must be 0.001 to 31536000 seconds (a year)");
	o->duration_s = v;
	return 0;
}

/* --slower-than: a number with a unit (ns, us, ms, s; none: seconds),
 * from a microsecond to an hour. */
static int parse_slower_than(struct options *o, const struct opt_arg *a)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 }, { "ns", 1 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(a->value, &end);
	if (end == a->value || errno || !*a->value || strchr(" \t", *a->value))
		return bad_value(a, "not a time");
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		v *= units[i].ns;
		if (!(v >= 1e3 && v <= 3600e9))
			return cli_option_error(a->name, a->value, "must be 1us to 1 hour");
		o->slower_than_ns = (uint64_t)v;
		return 0;
	}
	return bad_value(a, "unknown unit (ns, us, ms or s)");
}

/* --scope: a native symbol or a Python qualified name, one kind per run
 * (the kernel keeps only native calls' samples; Python calls are cut in
 * userspace from every sample). */
static int add_scope(struct options *o, const struct opt_arg *a)
{
	const char *name = callrec_fn_name(a->value);

	if (!*name || strpbrk(name, " \t\n"))
		return bad_value(a, "not a function name");
	if (o->nr_scope == MAX_SCOPE)
		return cli_option_error(a->name, a->value, "too many functions (at most %d)",
					MAX_SCOPE);
	if (o->nr_scope && callrec_fn_is_python(o->scope[0]) != callrec_fn_is_python(a->value))
		return cli_option_error(a->name, a->value,
					"native and Python functions cannot be scoped together");
	o->scope[o->nr_scope++] = a->value;
	o->wall = true;	/* a call's time is wall time: its waits count */
	return 0;
}

static int parse_slowest(struct options *o, const struct opt_arg *a)
{
	double v;

	if (parse_number(a->value, &v))
		return bad_value(a, "not a number");
	if (!(v >= 0 && v <= CALLS_KEEP_MAX) || v != (uint32_t)v)
		return cli_option_error(a->name, a->value, "must be a whole number, 0 to %u",
					CALLS_KEEP_MAX);
	o->slowest = v;
	return 0;
}

bool cli_is_call_pattern(const char *path)
{
	for (const char *p = path ? strchr(path, '%') : NULL; p; p = strchr(p + 2, '%')) {
		if (p[1] && strchr("ntpd", p[1]))
			return true;
		if (!p[1])
			break;
	}
	return false;
}

/* -o as a per-call pattern: known directives only, and only with --scope. */
static int check_call_pattern(const struct options *o)
{
	const char *p;

	if ((o->slowest != CALLS_KEEP_DEFAULT || o->slower_than_ns) && !o->nr_scope)
		return cli_usage_error("--slowest and --slower-than are about calls: give --scope FUNC");
	for (p = o->output ? strchr(o->output, '%') : NULL; p; p = strchr(p + 2, '%'))
		if (!p[1] || !strchr("ntpd%", p[1]))
			return cli_option_error("-o", o->output, "%s in the pattern (%%n call "
						"number, %%t thread, %%p process, %%d duration "
						"in ms, %%%% a %%)", p[1] ? "an unknown %" : "a lone %");
	if (cli_is_call_pattern(o->output) && !o->nr_scope)
		return cli_option_error("-o", o->output, "a pattern names calls: give --scope FUNC");
	if (o->slower_than_ns && !cli_is_call_pattern(o->output))
		return cli_usage_error("--slower-than writes each call to its own file: give -o "
				       "a pattern, like 'calls/%%n.html'");
	if (o->nr_scope && !callrec_fn_is_python(o->scope[0]) && !o->nr_pids && !o->command)
		return cli_usage_error("--scope with a native function probes it in -p PID or "
				       "-- COMMAND: give one");
	return 0;
}

static int parse_unwind(struct options *o, const struct opt_arg *a)
{
	if (!strcmp(a->value, "auto"))
		o->unwind = UNWIND_AUTO;
	else if (!strcmp(a->value, "dwarf"))
		o->unwind = UNWIND_DWARF;
	else if (!strcmp(a->value, "fp"))
		o->unwind = UNWIND_FP;
	else
		return bad_value(a, "unknown mode");
	return 0;
}

static int parse_python(struct options *o, const struct opt_arg *a)
{
	enum python_mode m;

	if (python_mode_parse(a->value, &m))
		return bad_value(a, "unknown mode");
	o->python = m;
	return 0;
}

/* --hide and --show: up to MAX_GLOBS patterns each; an empty one matches nothing. */
static int add_glob(const struct opt_arg *a, const char **globs, size_t *nr)
{
	if (!*a->value)
		return bad_value(a, "an empty pattern");
	if (*nr == MAX_GLOBS)
		return cli_option_error(a->name, a->value, "too many patterns (at most %d %s)",
					MAX_GLOBS, a->name);
	globs[(*nr)++] = a->value;
	return 0;
}

/* An option that names something (a file, a user, a cgroup) must not be empty. */
static int check_name(const struct opt_arg *a, const char *problem)
{
	return *a->value ? 0 : bad_value(a, problem);
}

/* The options shared by record and the subcommands. Returns 0, 2 (a usage
 * error, printed) or NOT_MINE. */
static int view_option(struct options *o, const struct opt_arg *a)
{
	double v;

	switch (a->c) {
	case 'o': o->output = a->value; return check_name(a, "an empty file name");
	case 'f':
		o->format = report_format_by_name(a->value);
		return o->format < 0 ? bad_value(a, "unknown format") : 0;
	case OPT_COLOR: o->color = 1; return 0;
	case OPT_NO_COLOR: o->color = 0; return 0;
	case OPT_THREADS: o->threads = true; return 0;
	case OPT_PROCESSES: o->processes = o->per_pid = true; return 0;
	case OPT_INVERT: o->invert = true; return 0;
	case OPT_COUNTERS: o->counters = true; return 0;
	case OPT_SHOW_IDLE: o->show_idle = true; return 0;
	case OPT_FOCUS:
		o->focus = a->value;
		return *a->value ? 0 : bad_value(a, "an empty pattern");
	case OPT_HIDE: return add_glob(a, o->hide, &o->nr_hide);
	case OPT_SHOW: return add_glob(a, o->show, &o->nr_show);
	case OPT_SHOW_ALL: o->show_all = true; return 0;
	case OPT_LINES: o->lines = true; return 0;
	case OPT_ASCII: o->ascii = true; return 0;
	case OPT_NO_DEMANGLE: o->no_demangle = true; return 0;
	case OPT_KERNEL_ONLY: o->kernel_only = true; o->kernel = true; return 0;
	case 'K': o->kernel = true; return 0;
	case OPT_MIN_PERCENT:
		if (parse_number(a->value, &v))
			return bad_value(a, "not a number");
		if (!(v >= 0 && v <= 100))
			return cli_option_error(a->name, a->value,
						"must be 0 to 100 (a percentage)");
		o->min_percent = v;
		return 0;
	case 'q': o->quiet = true; return 0;
	case 'v': o->verbose++; return 0;
	}
	return NOT_MINE;
}

/* The options of the record command alone. */
static int record_option(struct options *o, const struct opt_arg *a)
{
	switch (a->c) {
	case 'p': return add_ids(a, &o->pids, &o->nr_pids, "not a process id");
	case 't': return add_ids(a, &o->tids, &o->nr_tids, "not a thread id");
	case 'a': o->all = true; return 0;
	case 'C': return check_cpus(o, a);
	case 'u': o->user = a->value; return check_name(a, "not a user");
	case OPT_COMM: return add_comms(o, a);
	case OPT_CGROUP: o->cgroup = a->value; return check_name(a, "not a cgroup");
	case OPT_AS_USER:
		o->as_user = true;
		o->child_user = a->value;
		return a->value ? check_name(a, "not a user") : 0;
	case 'F': return parse_freq(o, a);
	case 'd': return parse_duration(o, a);
	case OPT_IDLE: o->idle = true; return 0;
	case OPT_WALL: o->wall = true; return 0;
	case OPT_NO_UNWIND_CACHE: o->no_unwind_cache = true; return 0;
	case OPT_UNWIND_MEM:
		if (parse_size(a->value, ST_UNWIND_MEM_MIN, ST_UNWIND_MEM_MAX, &o->unwind_mem))
			return cli_option_error(a->name, a->value,
						"must be a size from 64K to 4G (bytes, or with K, M or G)");
		return 0;
	case OPT_UNWIND: return parse_unwind(o, a);
	case OPT_PYTHON: return parse_python(o, a);
	case OPT_SCOPE: return add_scope(o, a);
	case OPT_SLOWEST: return parse_slowest(o, a);
	case OPT_SLOWER_THAN: return parse_slower_than(o, a);
	case OPT_TUI: o->tui = TUI_ON; return 0;
	case OPT_NO_TUI: o->tui = TUI_OFF; return 0;
	}
	return NOT_MINE;
}

/* report --tui browses the saved profile. */
static int report_option(struct options *o, const struct opt_arg *a)
{
	if (a->c != OPT_TUI)
		return NOT_MINE;
	o->tui = TUI_ON;
	return 0;
}

/* diff writes text or html only: say so before loading two profiles. */
static int diff_option(struct options *o, const struct opt_arg *a)
{
	if (a->c != 'f')
		return NOT_MINE;
	o->format = report_format_by_name(a->value);
	if (o->format != FMT_TEXT && o->format != FMT_HTML)
		return cli_option_error(a->name, a->value, "%s (diff writes text or html)",
					o->format < 0 ? "unknown format" : "not a diff format");
	return 0;
}

static int addr2line_option(struct options *o, const struct opt_arg *a)
{
	if (a->c != 'e')
		return NOT_MINE;
	o->exe = a->value;
	return check_name(a, "an empty file name");
}

/* The short options of every command: one another command takes is "not an
 * option of" this one, not unknown. */
#define ALL_SHORTS "ptaCuFdKofqvhVe"

/* One command's options. */
struct parser {
	const char *cmd;	/* as typed: "sampletop", "sampletop report", ... */
	const char *shorts;	/* getopt's: ":" first, to tell a missing value */
	const char *help;
	int (*option)(struct options *o, const struct opt_arg *a);
};

/* The long option whose val is c, or NULL. */
static const struct option *long_option(int c)
{
	for (const struct option *lo = long_opts; lo->name; lo++)
		if (lo->val == c)
			return lo;
	return NULL;
}

/* The option's name as typed: long (in full, even if abbreviated) or short. */
static void opt_name(char *buf, size_t size, int c, const char *token)
{
	const struct option *lo = long_option(c);

	if (lo && (c >= 256 || !strncmp(token, "--", 2)))
		snprintf(buf, size, "--%s", lo->name);
	else
		snprintf(buf, size, "-%c", c);
}

/* An unknown or ambiguous long option, or a value given to one that takes none. */
static int bad_long_option(const struct parser *p, const char *token)
{
	size_t len = strcspn(token + 2, "=");
	struct strbuf sb = STRBUF_INIT;
	int ret, n = 0;
	char *name;

	if (optopt)	/* a known option: only a value can be wrong */
		return cli_option_error(token, NULL, "takes no value");
	name = xstrndup(token, len + 2);
	for (const struct option *lo = long_opts; lo->name; lo++)
		if (!strncmp(lo->name, token + 2, len))
			strbuf_addf(&sb, "%s--%s", n++ ? ", " : "", lo->name);
	if (n > 1)
		ret = cli_option_error(name, NULL, "ambiguous option (%s)", sb.buf);
	else
		ret = cli_option_error(name, NULL, "unknown option (see %s --help)", p->cmd);
	strbuf_release(&sb);
	free(name);
	return ret;
}

/* getopt's '?' (unknown) or ':' (missing value); token is the argument that
 * held the option. Returns 2. */
static int bad_option(const struct parser *p, int c, const char *token)
{
	char name[40];
	struct strbuf wants = STRBUF_INIT;
	int ret;

	if (c == '?' && !strncmp(token, "--", 2))
		return bad_long_option(p, token);
	if (c == '?') {
		snprintf(name, sizeof(name), "-%c", optopt);
		if (optopt && strchr(ALL_SHORTS, optopt))
			return cli_option_error(name, NULL, "not an option of %s (see %s --help)",
						p->cmd, p->cmd);
		return cli_option_error(name, NULL, "unknown option (see %s --help)", p->cmd);
	}
	opt_name(name, sizeof(name), optopt, token);
	add_wants(&wants, optopt);
	ret = cli_option_error(name, NULL, "needs a value (%s)", wants.buf);
	strbuf_release(&wants);
	return ret;
}

/* Runs getopt over argv: every option goes to the command's handler, then to
 * the shared view options. Returns 0 with *done false when the command goes
 * on, or an exit code with *done true. */
static int parse_options(struct options *o, const struct parser *p, int argc, char **argv,
			 bool *done)
{
	*done = false;
	/* 0, not 1: glibc starts afresh only then (the "+" of the last parse
	 * and a half-read "-xy" are forgotten): tests parse many times. */
	optind = 0;
	opterr = 0;
	for (;;) {
		int first = optind ? optind : 1, idx = -1, c, ret;
		struct opt_arg a;

		c = getopt_long(argc, argv, p->shorts, long_opts, &idx);
		if (c == -1)
			return 0;
		*done = true;
		if (c == '?' || c == ':')
			return bad_option(p, c, argv[first]);
		if (c == 'h' || c == 'V') {
			if (c == 'h')
				fputs(p->help, stdout);
			else
				printf("sampletop %s\n", VERSION);
			return 0;
		}
		a.c = c;
		a.value = optarg;
		opt_name(a.name, sizeof(a.name), c, idx >= 0 ? "--" : "-");
		ret = p->option(o, &a);
		if (ret == NOT_MINE)
			ret = view_option(o, &a);
		if (ret == NOT_MINE)
			return cli_option_error(a.name, NULL, "not an option of %s (see %s --help)",
						p->cmd, p->cmd);
		if (ret)
			return ret;
		*done = false;
	}
}

/* After the options: a command after "--", and one target. Returns 0 or 2. */
static int check_targets(struct options *o, int argc, char **argv)
{
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--"))
			return cli_option_error(argv[optind], NULL, "unexpected argument "
						"(put a command to profile after --)");
		o->command = &argv[optind];
	}
	if (!o->all && !o->nr_pids && !o->nr_tids && !o->command && !o->user && !o->nr_comms &&
	    !o->cgroup)
		return cli_usage_error("nothing to profile: give -p PID, -t TID, -a or -- COMMAND");
	if (o->as_user && !o->command)
		return cli_usage_error("--as-user runs a COMMAND: put one after --");
	if ((o->all ? 1 : 0) + (o->nr_pids || o->nr_tids ? 1 : 0) + (o->command ? 1 : 0) > 1)
		return cli_usage_error("choose one target: -p/-t, -a or -- COMMAND");
	return 0;
}

int cli_parse_record(struct options *o, int argc, char **argv, bool *done)
{
	/* "+" stops at the first non-option: "sampletop -- cmd -x" keeps -x for cmd. */
	static const struct parser record = {
		"sampletop", "+:p:t:aC:u:F:d:Ko:f:qvhV", usage_text, record_option,
	};
	int ret = parse_options(o, &record, argc, argv, done);

	if (*done)
		return ret;
	ret = check_targets(o, argc, argv);
	if (!ret)
		ret = check_call_pattern(o);
	*done = ret != 0;
	return ret;
}

static const char report_usage[] =
	"Usage: sampletop report FILE [--format F] [-o OUT] [VIEW OPTIONS]\n"
	"       sampletop diff BEFORE AFTER [--format text|html] [-o OUT] [VIEW OPTIONS]\n"
	"       sampletop report clickhouse://[USER@]HOST:PORT/DB [STORE OPTIONS] ...\n"
	"       sampletop diff URL [STORE OPTIONS] URL [STORE OPTIONS] ...\n"
	"       sampletop live URL [--window SECONDS] [STORE OPTIONS] [VIEW OPTIONS]\n"
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
	"      --min-percent P, --ascii, --counters, --show-idle, --color/--no-color:\n"
	"                            as for recording (see sampletop --help)\n"
	"\n"
	"A clickhouse:// URL in place of a file reads the store the agents fill:\n"
	"  --since TIME, --until TIME  window starts in [since, until): a time ago\n"
	"                            (90s, 10m, 1h, 2d, 1w) or UTC (2026-11-28T10:00)\n"
	"  --where KEY=VALUE         host, service, program, pid or a label (env=prod);\n"
	"                            one key's values are ORed, different keys ANDed\n"
	"  --password-file FILE      else $SAMPLETOP_CLICKHOUSE_PASSWORD\n"
	"  --window SECONDS          live: re-read every so often (default 10; range\n"
	"                            default: --since 5m)\n"
	"Store options after a URL are that source's, before the first URL every\n"
	"source's: diff URL --since 2h --until 1h URL --since 1h (two ranges),\n"
	"diff --since 1h URL --where host=a URL --where host=b (two hosts).\n"
	"\n"
	"Exit status: 0 success, 1 error (e.g. a damaged profile, a server's\n"
	"error), 2 bad usage.\n";

int cli_parse_view(struct options *o, const char *cmd, int argc, char **argv, bool *done)
{
	static const struct parser parsers[] = {
		{ "sampletop report", ":o:f:qvhVK", report_usage, report_option },
		{ "sampletop diff", ":o:f:qvhVK", report_usage, diff_option },
		{ "sampletop live", ":o:f:qvhVK", report_usage, report_option },
		{ "sampletop addr2line", ":o:f:e:qvhVK", report_usage, addr2line_option },
	};
	const struct parser *p = &parsers[0];
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(parsers); i++)
		if (!strcmp(parsers[i].cmd + strlen("sampletop "), cmd))
			p = &parsers[i];
	ret = parse_options(o, p, argc, argv, done);
	if (*done)
		return ret;
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
	r->view.show_idle = o->show_idle;
	r->lines = o->lines;
	r->ascii = o->ascii;
	r->counters = o->counters;
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

/* Unit tests of option parsing: id lists, who owns which field, and the one
 * line a bad command line gets on stderr, for every option that takes a value. */
#include "cmd/cli.h"
#include "tap.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static void test_id_list(void)
{
	uint32_t *ids = NULL;
	size_t n = 0;

	CHECK(parse_id_list("1,3-5", &ids, &n) == 0 && n == 4 && ids[0] == 1 && ids[1] == 3 &&
		      ids[3] == 5,
	      "\"1,3-5\" is 1 3 4 5");
	CHECK(parse_id_list("9", &ids, &n) == 0 && n == 5 && ids[0] == 1 && ids[4] == 9,
	      "a second list is appended");
	free(ids);
	ids = NULL;
	n = 0;
	/* The numbers before the bad one were allocated: a failed parse must
	 * not leave them to a caller that only frees on success (-C). */
	CHECK(parse_id_list("0,x", &ids, &n) == -EINVAL && !ids && n == 0,
	      "a bad list leaves nothing allocated");
	CHECK(parse_id_list("", &ids, &n) == -EINVAL && !ids && n == 0, "an empty list is refused");
}

static void test_ownership(void)
{
	char *argv[] = { "sampletop", "-a", "--comm", "ab,cd", "-o", "out.txt",
			 "--hide", "g*", "-C", "0-1", NULL };
	int argc = sizeof(argv) / sizeof(argv[0]) - 1;
	struct options o;
	bool done;

	options_init(&o);
	CHECK(cli_parse_record(&o, argc, argv, &done) == 0 && !done, "a record command line parses");
	CHECK(o.nr_comms == 2 && !strcmp(o.comms[0], "ab") && !strcmp(o.comms[1], "cd") &&
		      o.comms[0] != argv[3],
	      "--comm names are copies (owned: split out of one argument)");
	CHECK(o.output == argv[5] && o.hide[0] == argv[7] && o.cpus == argv[9],
	      "-o, --hide and -C point into argv");
	options_free(&o);
}

/* What a parse printed on stderr, and how it ended. */
struct outcome {
	int ret;
	bool done;
	char err[1024];
};

/* Parses args (NULL-terminated) as the record command line (cmd NULL) or a
 * subcommand's, with fd 2 sent to a file to see what a user would see. */
static void parse(const char *cmd, char **args, struct options *o, struct outcome *out)
{
	char *argv[200] = { cmd ? (char *)cmd : "sampletop" };
	int argc = 1, saved;
	FILE *f = tmpfile();
	size_t n;

	while (args[argc - 1])
		argv[argc] = args[argc - 1], argc++;
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(f), 2);
	options_init(o);
	if (cmd)
		out->ret = cli_parse_view(o, cmd, argc, argv, &out->done);
	else
		out->ret = cli_parse_record(o, argc, argv, &out->done);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(out->err, 1, sizeof(out->err) - 1, f);
	out->err[n] = '\0';
	fclose(f);
}

/* want with {max} (-F's limit) and {cpu} (the last CPU) filled in. */
static void expand(const char *want, char *buf, size_t size)
{
	uint32_t max;
	char num[16];
	struct strbuf sb = STRBUF_INIT;

	cli_max_freq(NULL, &max);
	for (const char *p = want; *p; p++) {
		if (!strncmp(p, "{max}", 5)) {
			snprintf(num, sizeof(num), "%u", max);
			strbuf_addstr(&sb, num);
			p += 4;
		} else if (!strncmp(p, "{cpu}", 5)) {
			snprintf(num, sizeof(num), "%d", libbpf_num_possible_cpus() - 1);
			strbuf_addstr(&sb, num);
			p += 4;
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	snprintf(buf, size, "%s\n", sb.buf);
	strbuf_release(&sb);
}

#define ARGS(...) ((char *[]){ __VA_ARGS__, NULL })

/* Every option that takes a value, with a bad one, and the exact line. */
static const struct bad_case {
	const char *cmd;	/* NULL: record */
	char **args;
	const char *want;
} bad_cases[] = {
	{ NULL, ARGS("-a", "-F", "0"),
	  "sampletop: -F 0: must be 1 to {max} (kernel.perf_event_max_sample_rate)" },
	{ NULL, ARGS("-a", "-F", "99999999"),
	  "sampletop: -F 99999999: must be 1 to {max} (kernel.perf_event_max_sample_rate)" },
	{ NULL, ARGS("-a", "--freq=99999999"),
	  "sampletop: --freq 99999999: must be 1 to {max} (kernel.perf_event_max_sample_rate)" },
	{ NULL, ARGS("-a", "-F", "abc"),
	  "sampletop: -F abc: not a number (samples per second, 1 to {max})" },
	{ NULL, ARGS("-a", "-F", "1.5"),
	  "sampletop: -F 1.5: not a whole number (samples per second, 1 to {max})" },
	{ NULL, ARGS("-a", "-F"), "sampletop: -F: needs a value (samples per second, 1 to {max})" },
	{ NULL, ARGS("-a", "-F", "\033[31m"),
	  "sampletop: -F \\x1b[31m: not a number (samples per second, 1 to {max})" },
	{ NULL, ARGS("-p", "0"),
	  "sampletop: -p 0: not a process id (a number above 0, or a list like 12,34)" },
	{ NULL, ARGS("-p", "abc"),
	  "sampletop: -p abc: not a process id (a number above 0, or a list like 12,34)" },
	{ NULL, ARGS("--pid", "12,x"),
	  "sampletop: --pid 12,x: not a process id (a number above 0, or a list like 12,34)" },
	{ NULL, ARGS("-p", "1,2", "-p", "3,x"),
	  "sampletop: -p 3,x: not a process id (a number above 0, or a list like 12,34)" },
	{ NULL, ARGS("-t", "0"),
	  "sampletop: -t 0: not a thread id (a number above 0, or a list like 12,34)" },
	{ NULL, ARGS("-a", "-C", "x"),
	  "sampletop: -C x: not a CPU list (CPU numbers and ranges, like 0,2-3)" },
	{ NULL, ARGS("-a", "--cpu", "0,4096"),
	  "sampletop: --cpu 0,4096: no CPU 4096 (this machine has CPUs 0 to {cpu})" },
	{ NULL, ARGS("-u", ""),
	  "sampletop: -u '': not a user (a user name or a numeric uid)" },
	{ NULL, ARGS("--comm", "a,,b"),
	  "sampletop: --comm a,,b: an empty name (process names, separated by commas)" },
	{ NULL, ARGS("--cgroup", ""),
	  "sampletop: --cgroup '': not a cgroup "
	  "(a cgroup directory, like /sys/fs/cgroup/system.slice)" },
	{ NULL, ARGS("--as-user=", "--", "true"),
	  "sampletop: --as-user '': not a user (a user name)" },
	{ NULL, ARGS("-a", "-d", "abc"),
	  "sampletop: -d abc: not a number (seconds, like 10 or 0.5)" },
	{ NULL, ARGS("-a", "-d", "10s"),
	  "sampletop: -d 10s: not a number (seconds, like 10 or 0.5)" },
	{ NULL, ARGS("-a", "-d", "0"),
	  "sampletop: -d 0: must be 0.001 to 31536000 seconds (a year)" },
	{ NULL, ARGS("-a", "--duration", "1e9"),
	  "sampletop: --duration 1e9: must be 0.001 to 31536000 seconds (a year)" },
	{ NULL, ARGS("-a", "--unwind", "frames"),
	  "sampletop: --unwind frames: unknown mode (auto, dwarf or fp)" },
	{ NULL, ARGS("-a", "--python", "yes"),
	  "sampletop: --python yes: unknown mode (merge, only or off)" },
	{ NULL, ARGS("-a", "-o", ""),
	  "sampletop: -o '': an empty file name (the path to write to)" },
	{ NULL, ARGS("-a", "-f", "svg"),
	  "sampletop: -f svg: unknown format (text, folded, json, html, speedscope or pprof)" },
	{ NULL, ARGS("-a", "--format", "JSON"),
	  "sampletop: --format JSON: unknown format (text, folded, json, html, speedscope or pprof)" },
	{ NULL, ARGS("-a", "--focus", ""),
	  "sampletop: --focus '': an empty pattern (a glob, like 'malloc*')" },
	{ NULL, ARGS("-a", "--hide", ""),
	  "sampletop: --hide '': an empty pattern (a glob, like 'malloc*')" },
	{ NULL, ARGS("-a", "--show", ""),
	  "sampletop: --show '': an empty pattern (a glob, like 'malloc*')" },
	{ NULL, ARGS("-a", "--unwind-mem", "5x"),
	  "sampletop: --unwind-mem 5x: must be a size from 64K to 4G (bytes, or with K, M or G)" },
	{ NULL, ARGS("-a", "--unwind-mem", "1K"),
	  "sampletop: --unwind-mem 1K: must be a size from 64K to 4G (bytes, or with K, M or G)" },
	{ NULL, ARGS("-a", "--min-percent", "abc"),
	  "sampletop: --min-percent abc: not a number (a percentage, 0 to 100)" },
	{ NULL, ARGS("-a", "--min-percent", "101"),
	  "sampletop: --min-percent 101: must be 0 to 100 (a percentage)" },
	{ NULL, ARGS("-a", "--min-percent", "-1"),
	  "sampletop: --min-percent -1: must be 0 to 100 (a percentage)" },
	{ NULL, ARGS("-a", "--min-percent", "two percent"),
	  "sampletop: --min-percent 'two percent': not a number (a percentage, 0 to 100)" },
	/* Options themselves: unknown, ambiguous, missing or extra values. */
	{ NULL, ARGS("--frobnicate"), "sampletop: --frobnicate: unknown option (see sampletop --help)" },
	{ NULL, ARGS("-a", "-x"), "sampletop: -x: unknown option (see sampletop --help)" },
	{ NULL, ARGS("-qxa"), "sampletop: -x: unknown option (see sampletop --help)" },
	{ NULL, ARGS("-a", "-e", "x"),
	  "sampletop: -e: not an option of sampletop (see sampletop --help)" },
	{ NULL, ARGS("-a", "--sh", "x"), "sampletop: --sh: ambiguous option (--show, --show-all, --show-idle)" },
	{ NULL, ARGS("-a", "--tui=yes"), "sampletop: --tui=yes: takes no value" },
	{ NULL, ARGS("-a", "--dur"), "sampletop: --duration: needs a value (seconds, like 10 or 0.5)" },
	{ NULL, ARGS("-a", "-p"),
	  "sampletop: -p: needs a value (a number above 0, or a list like 12,34)" },
	{ NULL, ARGS("-a", "--format"),
	  "sampletop: --format: needs a value (text, folded, json, html, speedscope or pprof)" },
	{ NULL, ARGS("-a", "--hide"), "sampletop: --hide: needs a value (a glob, like 'malloc*')" },
	/* The command line as a whole. */
	{ NULL, ARGS("-a", "top"),
	  "sampletop: top: unexpected argument (put a command to profile after --)" },
	{ NULL, ARGS("-d", "1"),
	  "sampletop: nothing to profile: give -p PID, -t TID, -a or -- COMMAND" },
	{ NULL, ARGS("-a", "--as-user"), "sampletop: --as-user runs a COMMAND: put one after --" },
	{ NULL, ARGS("-a", "-p", "1"), "sampletop: choose one target: -p/-t, -a or -- COMMAND" },
	/* The subcommands. */
	{ "report", ARGS("-f", "svg", "p.json"),
	  "sampletop: -f svg: unknown format (text, folded, json, html, speedscope or pprof)" },
	{ "report", ARGS("p.json", "--min-percent", "200"),
	  "sampletop: --min-percent 200: must be 0 to 100 (a percentage)" },
	{ "report", ARGS("p.json", "--hide", ""),
	  "sampletop: --hide '': an empty pattern (a glob, like 'malloc*')" },
	{ "report", ARGS("p.json", "-o"), "sampletop: -o: needs a value (the path to write to)" },
	{ "report", ARGS("--pid", "1", "p.json"),
	  "sampletop: --pid: not an option of sampletop report (see sampletop report --help)" },
	{ "report", ARGS("-F", "99", "p.json"),
	  "sampletop: -F: not an option of sampletop report (see sampletop report --help)" },
	{ "report", ARGS("--frobnicate", "p.json"),
	  "sampletop: --frobnicate: unknown option (see sampletop report --help)" },
	{ "diff", ARGS("-f", "json", "a.json", "b.json"),
	  "sampletop: -f json: not a diff format (diff writes text or html)" },
	{ "diff", ARGS("--format=svg", "a.json", "b.json"),
	  "sampletop: --format svg: unknown format (diff writes text or html)" },
	{ "addr2line", ARGS("-e", ""),
	  "sampletop: -e '': an empty file name (an executable or library)" },
	{ "addr2line", ARGS("-e"), "sampletop: -e: needs a value (an executable or library)" },
	{ "addr2line", ARGS("--freq", "9", "-e", "x"),
	  "sampletop: --freq: not an option of sampletop addr2line "
	  "(see sampletop addr2line --help)" },
};

static void test_bad_values(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct outcome out;
		struct options o;
		char want[512];

		parse(c->cmd, c->args, &o, &out);
		expand(c->want, want, sizeof(want));
		CHECK(out.ret == 2 && out.done, "%s %s: exit 2 (got %d)", c->cmd ? c->cmd : "",
		      c->args[0], out.ret);
		CHECK_STR(out.err, want, "%s", c->want);
		options_free(&o);
	}
}

static void test_too_many_globs(void)
{
	char *args[MAX_GLOBS * 2 + 4] = { "-a" };
	struct outcome out;
	struct options o;
	int n = 1;

	for (int i = 0; i <= MAX_GLOBS; i++) {
		args[n++] = "--hide";
		args[n++] = i == MAX_GLOBS ? "last*" : "g*";
	}
	args[n] = NULL;
	parse(NULL, args, &o, &out);
	CHECK(out.ret == 2, "65 --hide: exit 2");
	CHECK_STR(out.err, "sampletop: --hide last*: too many patterns (at most 64 --hide)\n",
		  "the 65th --hide is refused, named");
	options_free(&o);
}

/* The same options with good values still parse, to the right fields. */
static void test_good_values(void)
{
	uint32_t max;
	char top[16];
	struct outcome out;
	struct options o;

	cli_max_freq(NULL, &max);
	snprintf(top, sizeof(top), "%u", max);
	parse(NULL,
	      ARGS("-F", top, "-d", "0.5", "-C", "0", "--unwind", "fp", "--python",
		   "off", "--min-percent", "0", "--format", "json", "--hide", "a*", "--focus", "b",
		   "--as-user=nobody", "--", "true"),
	      &o, &out);
	CHECK(out.ret == 0 && !out.done && !out.err[0] && o.freq_hz == max &&
		      o.duration_s == 0.5 && o.unwind == UNWIND_FP && o.min_percent == 0 &&
		      o.format == FMT_JSON && o.nr_hide == 1 && !strcmp(o.child_user, "nobody") &&
		      o.command && !strcmp(o.command[0], "true"),
	      "good values parse, silently (err: '%s')", out.err);
	options_free(&o);
	parse(NULL, ARGS("-p", "1,2", "-t", "3"), &o, &out);
	CHECK(out.ret == 0 && o.nr_pids == 2 && o.pids[1] == 2 && o.nr_tids == 1,
	      "-p and -t lists parse (err: '%s')", out.err);
	options_free(&o);
	parse(NULL, ARGS("-a", "--fr", "99", "--tu"), &o, &out);
	CHECK(out.ret == 0 && o.freq_hz == 99 && o.tui == TUI_ON,
	      "unambiguous abbreviations still work (err: '%s')", out.err);
	options_free(&o);
	parse("report", ARGS("p.json", "--tui", "-o", "x.html"), &o, &out);
	CHECK(out.ret == 0 && o.nr_args == 1 && o.tui == TUI_ON && !strcmp(o.output, "x.html"),
	      "report takes its file before its options (err: '%s')", out.err);
	options_free(&o);
}

static void test_max_freq(void)
{
	char path[] = "/tmp/sampletop-maxfreq.XXXXXX";
	int fd = mkstemp(path);
	uint32_t hz = 0;

	CHECK(cli_max_freq("/nonexistent/perf_event_max_sample_rate", &hz) == -ENOENT &&
		      hz == CLI_MAX_FREQ_FALLBACK,
	      "an unreadable limit falls back to %d", CLI_MAX_FREQ_FALLBACK);
	CHECK(write(fd, "25000\n", 6) == 6 && cli_max_freq(path, &hz) == 0 && hz == 25000,
	      "a lowered limit is read (got %u)", hz);
	CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, "0\n", 2, 0) == 2 &&
		      cli_max_freq(path, &hz) == -EINVAL && hz == CLI_MAX_FREQ_FALLBACK,
	      "a limit of 0 is no limit: the fallback");
	close(fd);
	unlink(path);
}

int main(void)
{
	test_id_list();
	test_ownership();
	test_bad_values();
	test_too_many_globs();
	test_good_values();
	test_max_freq();
	return tap_done();
}

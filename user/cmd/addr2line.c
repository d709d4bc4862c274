/* addr2line: one output line per address, "??" when unknown. */
#include "cmd/addr2line.h"
#include "cmd/cli.h"
#include "model/profile.h"
#include "symbols/symbolizer.h"
#include "base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
	"Usage: sampletop addr2line -e FILE [--lines] [--no-demangle] [ADDR...]\n"
	"Prints the function at each address (hex, with or without 0x: ELF virtual\n"
	"addresses of FILE), one line each, ?? when unknown; with --lines also\n"
	"file:line. Reads addresses from stdin when none are given.\n";

static int parse_addr(const char *s, uint64_t *out)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 16);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	return errno || *end ? -EINVAL : 0;
}

static void print_one(struct symbolizer *s, const char *exe, const char *arg, bool lines,
		      struct strbuf *out)
{
	struct frame f[SYMBOLIZER_MAX_DEPTH];
	uint64_t addr;
	uint32_t n = 0;

	if (!parse_addr(arg, &addr))
		n = symbolizer_file(s, exe, addr, f, SYMBOLIZER_MAX_DEPTH);
	if (!n) {
		strbuf_addstr(out, lines ? "??  ??:0\n" : "??\n");
		return;
	}
	/* The innermost function (inlined or not), as addr2line -f does. */
	strbuf_add_escaped(out, f[n - 1].name);
	if (lines) {
		strbuf_addstr(out, "  ");
		if (f[n - 1].file)
			strbuf_add_escaped(out, f[n - 1].file);
		else
			strbuf_addstr(out, "??");
		strbuf_addf(out, ":%u", f[n - 1].line);
		if (n > 1) {
			strbuf_addstr(out, " (inlined into ");
			strbuf_add_escaped(out, f[0].name);
			strbuf_addch(out, ')');
		}
	}
	strbuf_addch(out, '\n');
}

int addr2line_main(int argc, char **argv)
{
	struct symbolizer_opts so = { 0 };
	struct strbuf out = STRBUF_INIT;
	struct symbolizer *s = NULL;
	struct profile *prof = NULL;
	struct options o;
	bool done;
	int ret;

	options_init(&o);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			options_free(&o);
			return 0;
		}
	}
	ret = cli_parse_view(&o, "addr2line", argc, argv, &done);
	if (done)
		goto out;
	if (!o.exe) {
		fprintf(stderr, "sampletop: addr2line needs -e FILE (see sampletop addr2line --help)\n");
		ret = 2;
		goto out;
	}
	if (access(o.exe, R_OK) < 0) {
		cli_option_error("-e", o.exe, "cannot read it (%s)", strerror(errno));
		ret = 1;
		goto out;
	}
	so.no_demangle = o.no_demangle;
	so.lines = o.lines;
	prof = profile_new();
	s = symbolizer_new(prof, &so);
	if (o.nr_args) {
		for (int i = 0; i < o.nr_args; i++)
			print_one(s, o.exe, o.args[i], o.lines, &out);
		fwrite(out.buf, 1, out.len, stdout);
	} else {
		char *line = NULL;
		size_t cap = 0;

		while (getline(&line, &cap, stdin) > 0) {
			print_one(s, o.exe, line, o.lines, &out);
			if (out.len >= 1 << 16) {
				fwrite(out.buf, 1, out.len, stdout);
				strbuf_reset(&out);
			}
		}
		free(line);
		fwrite(out.buf, 1, out.len, stdout);
	}
	ret = ferror(stdout) ? 1 : 0;
out:
	strbuf_release(&out);
	symbolizer_free(s);
	profile_free(prof);
	options_free(&o);
	return ret;
}

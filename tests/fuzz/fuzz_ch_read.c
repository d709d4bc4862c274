/*
 * libFuzzer target: the store reader (user/store/ch_read.c) on hostile
 * server answers. The input is the answers of one load, split at NUL bytes:
 * [config byte] samples rows \0 stacks rows \0 windows row \0 total row
 * \0 counters rows.
 * Whatever they hold, ch_reader_load either refuses with a reason, leaving
 * the counts as they were, or gives a profile that every report writer can
 * render. Seeds: tests/fuzz/corpus/fuzz_ch_read/.
 */
#include "report/report.h"
#include "store/ch_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct answers {
	const char *part[5];
	size_t len[5];
};

static int fuzz_exec(void *ctx, const char *sql, struct strbuf *out, char *err, size_t errlen)
{
	struct answers *a = ctx;
	int k = !strncmp(sql, "SELECT hex(host)", 16)		  ? 0
		: !strncmp(sql, "SELECT toString(stack_hash)", 27) ? 1
		: !strncmp(sql, "SELECT toString(count())", 24)	  ? 2
		: !strncmp(sql, "SELECT hex(name)", 16)		  ? 4
								  : 3;

	strbuf_add(out, a->part[k], a->len[k]);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct report_opts o = { .view = VIEW_OPTS_INIT, .min_percent = 0 };
	struct answers a = { { "", "", "", "", "" }, { 0 } };
	struct ch_query q = { .since_s = 1795856400 };
	struct profile *p;
	struct ch_reader *r;
	char why[512] = "";
	const char *s, *end;
	int err;

	if (!size)
		return 0;
	s = (const char *)data + 1;
	end = (const char *)data + size;
	for (int k = 0; k < 5 && s <= end; k++) {
		const char *nul = memchr(s, 0, end - s);

		a.part[k] = s;
		a.len[k] = (nul ? nul : end) - s;
		s += a.len[k] + 1;
	}
	p = profile_new();
	r = ch_reader_new(p, "db", "clickhouse://fuzz:8123/db", fuzz_exec, &a);
	/* The config byte: a low row cap now and then, for the cut rows' path. */
	if (data[0] & 1)
		ch_reader_set_max_rows(r, 1 + (data[0] >> 1) % 8);
	err = ch_reader_load(r, &q, 1795860000, why, sizeof(why));
	if (err && (!why[0] || p->total))
		abort();	/* refused: with a reason, the counts untouched */
	o.view.by_process = true;
	for (int f = 0; !err && f < FMT_NR; f++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);

		if (!out)
			abort();
		report_write(p, f, &o, out);
		fclose(out);
		free(buf);
	}
	ch_reader_free(r);
	profile_free(p);
	return 0;
}

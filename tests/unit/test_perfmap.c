/* Unit tests of incremental perf map reading (symbols/perfmap): appends,
 * lines completed later, rewrites, replaced files, re-emitted entries; after
 * every step the lookups must equal those of one parse of the whole file. */
#include "symbols/perfmap.h"
#include "base/util.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The file under test and what we wrote to it (its contents, byte for byte). */
struct mapfile {
	char path[64];
	int fd;
	struct strbuf text;
};

static void mapfile_open(struct mapfile *mf)
{
	snprintf(mf->path, sizeof(mf->path), "/tmp/st-perfmap-XXXXXX");
	mf->fd = mkstemp(mf->path);
	mf->text = (struct strbuf)STRBUF_INIT;
	if (mf->fd < 0) {
		perror("mkstemp");
		exit(1);
	}
}

static void mapfile_close(struct mapfile *mf)
{
	close(mf->fd);
	unlink(mf->path);
	strbuf_release(&mf->text);
}

static void mapfile_append(struct mapfile *mf, const char *s, size_t len)
{
	if (pwrite(mf->fd, s, len, (off_t)mf->text.len) != (ssize_t)len) {
		perror("pwrite");
		exit(1);
	}
	strbuf_add(&mf->text, s, len);
}

static void mapfile_puts(struct mapfile *mf, const char *s)
{
	mapfile_append(mf, s, strlen(s));
}

/* Truncates the file and writes s: the same inode, rewritten. */
static void mapfile_rewrite(struct mapfile *mf, const char *s)
{
	if (ftruncate(mf->fd, 0)) {
		perror("ftruncate");
		exit(1);
	}
	strbuf_reset(&mf->text);
	mapfile_puts(mf, s);
}

/* A new file with contents s renamed over the path: another inode. */
static void mapfile_replace(struct mapfile *mf, const char *s)
{
	char tmp[80];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.new", mf->path);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || rename(tmp, mf->path)) {
		perror(tmp);
		exit(1);
	}
	close(mf->fd);
	mf->fd = fd;
	strbuf_reset(&mf->text);
	mapfile_puts(mf, s);
}

static bool same_sym(const struct perfmap *a, const struct perfmap_sym *x, const struct perfmap *b,
		     const struct perfmap_sym *y)
{
	if (!x || !y)
		return x == y;
	return x->start == y->start && x->size == y->size && x->seq == y->seq &&
	       !strcmp(perfmap_name(a, x), perfmap_name(b, y));
}

static bool same_at(const struct perfmap *pm, const struct perfmap *want, uint64_t addr)
{
	const struct perfmap_sym *x = perfmap_lookup(pm, addr), *y = perfmap_lookup(want, addr);

	if (same_sym(pm, x, want, y))
		return true;
	printf("#   at 0x%" PRIx64 ": got %s, want %s\n", addr, x ? perfmap_name(pm, x) : "(none)",
	       y ? perfmap_name(want, y) : "(none)");
	return false;
}

/* Whether pm answers every probe as one parse of the whole text does: at
 * each entry's first, middle, last and next byte, and the bytes around. */
static bool same_as_whole(const struct perfmap *pm, const struct strbuf *text, uint64_t lo, uint64_t hi)
{
	struct perfmap *want = perfmap_new("", "oracle");
	bool ok;

	perfmap_parse(want, text->buf, text->len);
	ok = pm->nr == want->nr && pm->bad_lines == want->bad_lines;
	if (!ok)
		printf("#   %zu entries, %zu bad lines; whole parse: %zu, %zu\n", pm->nr, pm->bad_lines,
		       want->nr, want->bad_lines);
	for (size_t i = 0; ok && i < want->nr; i++) {
		const struct perfmap_sym *s = &want->syms[i];

		ok = same_at(pm, want, s->start) && same_at(pm, want, s->start + s->size / 2) &&
		     same_at(pm, want, s->start + s->size - 1) && same_at(pm, want, s->start + s->size) &&
		     same_at(pm, want, s->start - 1);
	}
	for (uint64_t a = lo; ok && a < hi; a += 7)
		ok = same_at(pm, want, a);
	perfmap_free(want);
	return ok;
}

static const char *name_at(const struct perfmap *pm, uint64_t addr)
{
	const struct perfmap_sym *s = perfmap_lookup(pm, addr);

	return s ? perfmap_name(pm, s) : "(none)";
}

static void test_appends(void)
{
	struct mapfile mf;
	struct perfmap *pm;

	mapfile_open(&mf);
	pm = perfmap_new("", mf.path);
	mapfile_puts(&mf, "1000 100 first\n2000 100 second\n");
	CHECK(perfmap_refresh(pm) == 2, "two lines read");
	mapfile_puts(&mf, "3000 100 third\n0800 100 below\n");
	CHECK(perfmap_refresh(pm) == 2, "the two appended lines read, no more");
	CHECK(pm->read_off == mf.text.len, "consumed to the end (%" PRIu64 " of %zu)", pm->read_off,
	      mf.text.len);
	CHECK_STR(name_at(pm, 0x3050), "third", "an appended entry above the others");
	CHECK_STR(name_at(pm, 0x850), "below", "an appended entry below the others");
	CHECK_STR(name_at(pm, 0x1050), "first", "the first read still found");
	CHECK(perfmap_refresh(pm) == 0, "nothing new: 0");
	CHECK(pm->rereads == 0, "appends are not re-reads");
	CHECK(same_as_whole(pm, &mf.text, 0x700, 0x3200), "lookups as one parse of the whole file");
	perfmap_free(pm);
	mapfile_close(&mf);
}

static void test_partial_lines(void)
{
	struct mapfile mf;
	struct perfmap *pm;

	mapfile_open(&mf);
	pm = perfmap_new("", mf.path);
	mapfile_puts(&mf, "a000 10 one\nb0");
	CHECK(perfmap_refresh(pm) == 1, "a line cut inside its address is not read");
	CHECK_STR(name_at(pm, 0xb0), "(none)", "... no entry at the cut address");
	mapfile_puts(&mf, "00 10 tw");
	CHECK(perfmap_refresh(pm) == 0, "still no newline: not read");
	CHECK_STR(name_at(pm, 0xb001), "(none)", "... so no half name");
	mapfile_puts(&mf, "o\nc000 10 three\n");
	CHECK(perfmap_refresh(pm) == 2, "completed: the line and the next one read");
	CHECK_STR(name_at(pm, 0xb001), "two", "its address and name whole");
	CHECK(same_as_whole(pm, &mf.text, 0x9ff0, 0xc020), "lookups as one parse of the whole file");
	perfmap_free(pm);
	mapfile_close(&mf);
}

static void test_long_line(void)
{
	struct mapfile mf;
	struct perfmap *pm;
	/* Exactly one read buffer after the first line: the next read starts at the cut. */
	size_t len = 1 << 16;
	char *junk = xmalloc(len);

	memset(junk, 'x', len);
	memcpy(junk, "d000 10 ", 8);
	mapfile_open(&mf);
	pm = perfmap_new("", mf.path);
	mapfile_puts(&mf, "a000 10 one\n");
	mapfile_append(&mf, junk, len);
	CHECK(perfmap_refresh(pm) == 1, "a line longer than the read buffer, unfinished: skipped");
	/* What follows the cut must not be read as a line of its own. */
	mapfile_puts(&mf, "e000 10 tail of the long line\nf000 10 after\n");
	CHECK(perfmap_refresh(pm) == 1, "its end skipped, the next line read");
	CHECK_STR(name_at(pm, 0xe001), "(none)", "nothing from inside the long line");
	CHECK_STR(name_at(pm, 0xf001), "after", "the line after it named");
	CHECK(pm->bad_lines == 1, "one bad line counted (got %zu)", pm->bad_lines);
	CHECK(same_as_whole(pm, &mf.text, 0x9ff0, 0xf020), "lookups as one parse of the whole file");
	free(junk);
	perfmap_free(pm);
	mapfile_close(&mf);
}

static void test_rewrite(void)
{
	struct mapfile mf;
	struct perfmap *pm;

	mapfile_open(&mf);
	pm = perfmap_new("", mf.path);
	mapfile_puts(&mf, "1000 100 old_one\n2000 100 old_two\n3000 100 old_three\n");
	CHECK(perfmap_refresh(pm) == 3, "three lines read");
	mapfile_rewrite(&mf, "1000 100 new_one\n");
	CHECK(perfmap_refresh(pm) == 1, "truncated and shorter: read again whole");
	CHECK(pm->rereads == 1, "one re-read counted");
	CHECK_STR(name_at(pm, 0x1001), "new_one", "the new name");
	CHECK_STR(name_at(pm, 0x2001), "(none)", "the old entries gone");
	CHECK(same_as_whole(pm, &mf.text, 0xff0, 0x3200), "lookups as one parse of the whole file");
	/* Rewritten to more than was read: the size alone does not tell. */
	mapfile_rewrite(&mf, "1000 100 third_one\n2000 100 third_two\n5000 10 more\n");
	CHECK(perfmap_refresh(pm) == 3, "rewritten longer: read again whole");
	CHECK(pm->rereads == 2, "a second re-read counted");
	CHECK_STR(name_at(pm, 0x1001), "third_one", "the rewritten name, not the one read before");
	CHECK(same_as_whole(pm, &mf.text, 0xff0, 0x5020), "lookups as one parse of the whole file");
	mapfile_puts(&mf, "6000 10 appended\n");
	CHECK(perfmap_refresh(pm) == 1 && pm->rereads == 2, "then appends are read as appends");
	perfmap_free(pm);
	mapfile_close(&mf);
}

static void test_replaced(void)
{
	struct mapfile mf;
	struct perfmap *pm;

	mapfile_open(&mf);
	pm = perfmap_new("", mf.path);
	mapfile_puts(&mf, "1000 100 old_one\n2000 100 old_two\n");
	CHECK(perfmap_refresh(pm) == 2, "two lines read");
	mapfile_replace(&mf, "1000 100 new_one\n2000 100 new_two\n");
	pm->recheck_ns = UINT64_MAX;	/* no timing in the test: "not yet" */
	CHECK(perfmap_refresh(pm) == 0, "replaced by a file of the same size: not looked for again "
					 "before recheck_ns");
	pm->recheck_ns = 0;
	CHECK(perfmap_refresh(pm) == 2, "past it: the new file read whole");
	CHECK(pm->rereads == 1, "one re-read counted");
	CHECK_STR(name_at(pm, 0x2001), "new_two", "names from the new file");
	CHECK(same_as_whole(pm, &mf.text, 0xff0, 0x2200), "lookups as one parse of the whole file");
	mapfile_puts(&mf, "3000 10 grown\n");
	CHECK(perfmap_refresh(pm) == 1, "the new file's growth read");
	/* The process exits: its path goes, the file we hold is still read. */
	unlink(mf.path);
	mapfile_puts(&mf, "4000 10 last\n");
	CHECK(perfmap_refresh(pm) == 1 && pm->rereads == 1, "path gone: the file held still read");
	CHECK_STR(name_at(pm, 0x4001), "last", "... its last line named");
	perfmap_free(pm);
	close(mf.fd);
	strbuf_release(&mf.text);
}

static void test_reemitted(void)
{
	struct mapfile mf;
	struct perfmap *pm;

	mapfile_open(&mf);
	pm = perfmap_new("", mf.path);
	mapfile_puts(&mf, "1000 100 lazy\n2000 100 other\n");
	CHECK(perfmap_refresh(pm) == 2, "two lines read");
	/* The JIT recompiles the function at the same address, then reuses
	 * part of the first one's memory for a stub. */
	mapfile_puts(&mf, "1000 100 optimized\n1040 10 stub\n");
	CHECK(perfmap_refresh(pm) == 2, "re-emitted and overlapping lines read");
	CHECK_STR(name_at(pm, 0x1001), "optimized", "re-emitted at the same address: the later wins");
	CHECK_STR(name_at(pm, 0x1045), "stub", "inside a later overlapping entry: it wins");
	CHECK_STR(name_at(pm, 0x1050), "optimized", "past it: the enclosing later entry");
	mapfile_puts(&mf, "1000 20 lazy_again\n");
	CHECK(perfmap_refresh(pm) == 1, "a third emission read");
	CHECK_STR(name_at(pm, 0x1010), "lazy_again", "the latest line wins again");
	CHECK_STR(name_at(pm, 0x1030), "optimized", "past its end the one before it");
	CHECK(same_as_whole(pm, &mf.text, 0xff0, 0x2200), "lookups as one parse of the whole file");
	perfmap_free(pm);
	mapfile_close(&mf);
}

/* xorshift64*: the same sequence on every run. */
static uint64_t rnd(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

/* Random lines appended in random pieces (cut anywhere, also inside a line),
 * with bad lines, re-emitted and overlapping entries, now and then a rewrite
 * or a replaced file; after every refresh the lookups must equal one parse
 * of the whole file. */
static void test_random(void)
{
	uint64_t state = 0x5eed5eedull;
	struct strbuf pending = STRBUF_INIT;
	struct mapfile mf;
	struct perfmap *pm;
	size_t steps = 400, failed_at = 0, max_runs = 0;

	mapfile_open(&mf);
	pm = perfmap_new("", mf.path);
	pm->recheck_ns = 0;
	for (size_t step = 1; step <= steps && !failed_at; step++) {
		uint64_t what = rnd(&state) % 100;
		size_t cut;

		if (what < 3) {
			strbuf_reset(&pending);
			mapfile_rewrite(&mf, "1000 10 rewritten\n");
		} else if (what < 5) {
			strbuf_reset(&pending);
			mapfile_replace(&mf, "1000 10 replaced\n");
		}
		for (uint64_t n = rnd(&state) % 40; n > 0; n--) {
			uint64_t start = 0x1000 + rnd(&state) % 0x4000, size = 1 + rnd(&state) % 0x200;

			switch (rnd(&state) % 20) {
			case 0:
				strbuf_addf(&pending, "zz %" PRIx64 " bad\n", size);
				break;
			case 1:
				strbuf_addf(&pending, "%" PRIx64 " 0 empty\n", start);
				break;
			case 2:
				strbuf_addf(&pending, "0x%" PRIx64 " 0x%" PRIx64 " fn_%zu crlf\r\n", start,
					    size, step);
				break;
			default:
				/* Few distinct starts: many re-emitted at the same address. */
				if (rnd(&state) % 4 == 0)
					start &= ~0xfffull;
				strbuf_addf(&pending, "%" PRIx64 " %" PRIx64 " fn_%zu_%" PRIu64 "\n", start,
					    size, step, n);
			}
		}
		cut = pending.len ? rnd(&state) % (pending.len + 1) : 0;
		mapfile_append(&mf, pending.buf, cut);
		if (cut) {
			memmove(pending.buf, pending.buf + cut, pending.len - cut + 1);
			pending.len -= cut;
		}
		if (perfmap_refresh(pm) < 0 || !same_as_whole(pm, &mf.text, 0xff0, 0x5300))
			failed_at = step;
		if (pm->nr_runs > max_runs)
			max_runs = pm->nr_runs;
	}
	CHECK(!failed_at, "%zu random appends, rewrites and replacements: lookups as one parse of "
			  "the whole file after each (first difference at step %zu)",
	      steps, failed_at);
	CHECK(pm->rereads > 0, "the sequence had re-reads (%zu)", pm->rereads);
	CHECK(max_runs <= 22, "sorted runs stay few (%zu, %zu entries)", max_runs, pm->nr);
	strbuf_release(&pending);
	perfmap_free(pm);
	mapfile_close(&mf);
}

/* Many small appends: the runs more than halve in size, so there are at
 * most log2(n) + 1 of them, and the table is sorted once merged. */
static void test_many_appends(void)
{
	struct perfmap *pm = perfmap_new("", "none");
	char line[64];
	size_t worst = 0, bound_ok = 1, sorted = 1;

	for (unsigned i = 0; i < 20000; i++) {
		/* Addresses out of order, as a JIT reusing freed code memory writes them. */
		int n = snprintf(line, sizeof(line), "%x 10 f%u\n", 0x100000 + (i * 7919u) % 20000 * 16, i);

		perfmap_parse(pm, line, (size_t)n);
		if (pm->nr_runs > worst)
			worst = pm->nr_runs;
		if ((1ull << (pm->nr_runs - 1)) > pm->nr)
			bound_ok = 0;
	}
	CHECK(bound_ok, "after every append, runs <= log2(entries) + 1 (most: %zu)", worst);
	for (size_t r = 0; r < pm->nr_runs; r++) {
		for (size_t i = (r ? pm->runs[r - 1] : 0) + 1; i < pm->runs[r]; i++)
			sorted &= pm->syms[i - 1].start < pm->syms[i].start;
	}
	CHECK(sorted, "each run sorted");
	CHECK_STR(name_at(pm, 0x100000 + 7919 % 20000 * 16 + 3), "f1", "a lookup finds the entry");
	perfmap_free(pm);
}

int main(void)
{
	test_appends();
	test_partial_lines();
	test_long_line();
	test_rewrite();
	test_replaced();
	test_reemitted();
	test_random();
	test_many_appends();
	return tap_done();
}

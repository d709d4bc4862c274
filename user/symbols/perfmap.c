/* Perf map files: JIT code addresses -> names, read incrementally. */
#include "symbols/perfmap.h"
#include "base/rootfs.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes read per pread; a line longer than this is skipped to its end. */
#define PERFMAP_READ_BUF (1 << 16)

struct perfmap *perfmap_new(const char *root, const char *path)
{
	struct perfmap *pm = xcalloc(1, sizeof(*pm));

	pm->root = xstrdup(root);
	pm->path = xstrdup(path);
	pm->fd = -1;
	pm->recheck_ns = PERFMAP_RECHECK_NS;
	return pm;
}

void perfmap_free(struct perfmap *pm)
{
	if (!pm)
		return;
	if (pm->fd >= 0)
		close(pm->fd);
	free(pm->root);
	free(pm->path);
	free(pm->syms);
	free(pm->scratch);
	free(pm->names);
	free(pm);
}

/* Hex number with optional 0x; advances *i. */
static int parse_hex(const char *s, size_t len, size_t *i, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0, d;

	if (*i + 1 < len && s[*i] == '0' && (s[*i + 1] == 'x' || s[*i + 1] == 'X'))
		*i += 2;
	while (*i < len && (d = hex_digit(s[*i])) >= 0) {
		if (++n > 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
		(*i)++;
	}
	if (!n)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Adds one line's entry: 0, -EINVAL for a bad line, -ENOSPC past a bound. */
static int parse_line(struct perfmap *pm, const char *s, size_t len)
{
	uint64_t start, size;
	size_t i = 0;

	if (len > PERFMAP_MAX_LINE)
		return -EINVAL;
	if (parse_hex(s, len, &i, &start) || i >= len || s[i++] != ' ' ||
	    parse_hex(s, len, &i, &size) || i >= len || s[i++] != ' ')
		return -EINVAL;
	if (size == 0 || start + size < start || i >= len || memchr(s + i, 0, len - i))
		return -EINVAL;
	/* Names are found by a 32-bit offset. */
	if (pm->nr >= PERFMAP_MAX_ENTRIES || pm->names_len + (len - i) + 1 > UINT32_MAX)
		return -ENOSPC;
	XGROW(pm->syms, pm->alloc, pm->nr + 1);
	XGROW(pm->names, pm->names_alloc, pm->names_len + (len - i) + 1);
	memcpy(pm->names + pm->names_len, s + i, len - i);
	pm->names[pm->names_len + (len - i)] = 0;
	pm->syms[pm->nr++] = (struct perfmap_sym){ start, size, (uint32_t)pm->names_len, pm->seq++ };
	pm->names_len += len - i + 1;
	return 0;
}

/* Order of the table: by start, then by line. seq is unique, so the order is
 * total and any way of building the runs gives the same merged sequence. */
static bool sym_before(const struct perfmap_sym *x, const struct perfmap_sym *y)
{
	return x->start != y->start ? x->start < y->start : x->seq < y->seq;
}

static int cmp_sym(const void *a, const void *b)
{
	return sym_before(a, b) ? -1 : sym_before(b, a);
}

static size_t run_begin(const struct perfmap *pm, size_t r)
{
	return r ? pm->runs[r - 1] : 0;
}

/* Merges the last run into the one before it, from the back: only the last
 * run is copied out, and left entries below its first stay where they are
 * (a JIT that fills its code heap upwards appends for the cost of the append). */
static void merge_last_runs(struct perfmap *pm)
{
	size_t r = pm->nr_runs - 1, a = run_begin(pm, r - 1), b = pm->runs[r - 1], c = pm->runs[r];
	size_t i = b, j = c - b, w = c;
	struct perfmap_sym *s = pm->syms;

	if (!sym_before(&s[b - 1], &s[b])) {
		XGROW(pm->scratch, pm->scratch_alloc, j);
		memcpy(pm->scratch, s + b, j * sizeof(*s));
		while (j > 0) {
			if (i > a && sym_before(&pm->scratch[j - 1], &s[i - 1]))
				s[--w] = s[--i];
			else
				s[--w] = pm->scratch[--j];
		}
	}
	pm->runs[r - 1] = c;
	pm->nr_runs--;
}

/* Sorts entries [begin, nr) into a run of their own, then merges while a run
 * is not more than twice the one after it: run sizes more than halve, so
 * there are at most log2(n) + 1 of them and an entry is moved O(log n) times. */
static void add_run(struct perfmap *pm, size_t begin)
{
	qsort(pm->syms + begin, pm->nr - begin, sizeof(*pm->syms), cmp_sym);
	if (pm->nr_runs == PERFMAP_MAX_RUNS)
		merge_last_runs(pm);	/* unreachable by the size rule; keeps the array safe */
	pm->runs[pm->nr_runs++] = pm->nr;
	while (pm->nr_runs >= 2) {
		size_t r = pm->nr_runs - 1;
		size_t last = pm->runs[r] - run_begin(pm, r);
		size_t prev = pm->runs[r - 1] - run_begin(pm, r - 1);

		if (prev > 2 * last)
			break;
		merge_last_runs(pm);
	}
}

size_t perfmap_parse(struct perfmap *pm, const char *data, size_t len)
{
	size_t off = 0, before = pm->nr;

	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t l;
		int err;

		if (!nl)
			break;
		l = nl - (data + off);
		if (l && data[off + l - 1] == '\r')
			l--;
		err = parse_line(pm, data + off, l);
		if (err == -ENOSPC)
			pm->dropped++;
		else if (err && l)
			pm->bad_lines++;
		off = nl - data + 1;
	}
	if (pm->nr != before)
		add_run(pm, before);
	return off;
}

/* Forgets what was read: the file is read again from its start. */
static void perfmap_reset(struct perfmap *pm)
{
	pm->nr = pm->nr_runs = 0;
	pm->names_len = 0;
	pm->seq = 0;
	pm->read_off = 0;
	pm->tail_len = 0;
	pm->in_long_line = false;
	pm->bad_lines = pm->dropped = 0;
	pm->rereads++;
}

/* Makes fd the file we read (closing the one before); takes fd. */
static int perfmap_take_fd(struct perfmap *pm, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (pm->fd >= 0)
		close(pm->fd);
	pm->fd = fd;
	pm->dev = st.st_dev;
	pm->ino = st.st_ino;
	pm->checked_ns = now_ns();
	return 0;
}

/* Whether the path now names another file than ours (a new process under the
 * same pid, a JIT that writes a new map and renames it over): then that one
 * becomes ours. Checked at most every recheck_ns. A path that no longer opens
 * is not a replacement: the process exited, we keep reading what we hold. */
static bool perfmap_replaced(struct perfmap *pm)
{
	struct stat st;
	int fd;

	if (now_ns() - pm->checked_ns < pm->recheck_ns)
		return false;
	pm->checked_ns = now_ns();
	fd = rootfs_open(pm->root, pm->path);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || ((uint64_t)st.st_dev == pm->dev && (uint64_t)st.st_ino == pm->ino)) {
		close(fd);
		return false;
	}
	return perfmap_take_fd(pm, fd) == 0;
}

/* Whether the bytes before read_off are still those we consumed: a file
 * rewritten in place to at least its old size differs there. */
static bool perfmap_tail_matches(struct perfmap *pm)
{
	char buf[PERFMAP_TAIL];
	ssize_t n;

	if (!pm->tail_len)
		return true;
	n = pread(pm->fd, buf, pm->tail_len, (off_t)(pm->read_off - pm->tail_len));
	return n == (ssize_t)pm->tail_len && !memcmp(buf, pm->tail, pm->tail_len);
}

/* Marks the first used bytes of buf (at read_off) consumed. */
static void perfmap_advance(struct perfmap *pm, const char *buf, size_t used)
{
	if (used >= PERFMAP_TAIL) {
		memcpy(pm->tail, buf + used - PERFMAP_TAIL, PERFMAP_TAIL);
		pm->tail_len = PERFMAP_TAIL;
	} else if (used) {
		size_t keep = pm->tail_len < PERFMAP_TAIL - used ? pm->tail_len : PERFMAP_TAIL - used;

		memmove(pm->tail, pm->tail + pm->tail_len - keep, keep);
		memcpy(pm->tail + keep, buf, used);
		pm->tail_len = keep + used;
	}
	pm->read_off += used;
}

/* Parses the complete lines at the start of buf; returns the bytes consumed. */
static size_t perfmap_consume(struct perfmap *pm, const char *buf, size_t have, bool full)
{
	size_t used = 0;

	if (pm->in_long_line) {
		const char *nl = memchr(buf, '\n', have);

		used = nl ? (size_t)(nl - buf) + 1 : have;
		pm->in_long_line = !nl;
	}
	used += perfmap_parse(pm, buf + used, have - used);
	if (!used && full) {
		/* One line longer than the buffer: skip it to its end. */
		pm->bad_lines++;
		pm->in_long_line = true;
		used = have;
	}
	perfmap_advance(pm, buf, used);
	return used;
}

int perfmap_refresh(struct perfmap *pm)
{
	size_t before, have = 0;
	struct stat st;
	char *buf;
	ssize_t n;

	if (pm->fd < 0) {
		int fd = rootfs_open(pm->root, pm->path), err;

		if (fd < 0)
			return fd;
		err = perfmap_take_fd(pm, fd);
		if (err)
			return err;
	}
	if (perfmap_replaced(pm))
		perfmap_reset(pm);
	if (fstat(pm->fd, &st) < 0)
		return -errno;
	/* Nothing new: the common answer to a miss, one fstat. */
	if ((uint64_t)st.st_size == pm->read_off)
		return 0;
	if ((uint64_t)st.st_size < pm->read_off || !perfmap_tail_matches(pm))
		perfmap_reset(pm);
	before = pm->nr;
	buf = xmalloc(PERFMAP_READ_BUF);
	for (;;) {
		size_t used;

		n = pread(pm->fd, buf + have, PERFMAP_READ_BUF - have, (off_t)(pm->read_off + have));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += n;
		used = perfmap_consume(pm, buf, have, have == PERFMAP_READ_BUF);
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	free(buf);
	return (int)(pm->nr - before);
}

/* How far back from the last start <= addr we look for an enclosing entry:
 * entries overlap only where a JIT reused memory. */
#define PERFMAP_BACKSCAN 16

/* The runs are walked back together, largest (start, seq) first: the same
 * PERFMAP_BACKSCAN entries one sorted table would give, whatever the runs. */
const struct perfmap_sym *perfmap_lookup(const struct perfmap *pm, uint64_t addr)
{
	const struct perfmap_sym *best = NULL;
	size_t pos[PERFMAP_MAX_RUNS];

	for (size_t r = 0; r < pm->nr_runs; r++) {
		size_t lo = run_begin(pm, r), hi = pm->runs[r];

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (pm->syms[mid].start <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		pos[r] = lo;
	}
	for (size_t k = 0; k < PERFMAP_BACKSCAN; k++) {
		const struct perfmap_sym *s = NULL;
		size_t from = 0;

		for (size_t r = 0; r < pm->nr_runs; r++) {
			if (pos[r] > run_begin(pm, r) && (!s || sym_before(s, &pm->syms[pos[r] - 1]))) {
				s = &pm->syms[pos[r] - 1];
				from = r;
			}
		}
		if (!s)
			break;
		pos[from]--;
		if (addr - s->start < s->size && (!best || s->seq > best->seq))
			best = s;
	}
	return best;
}

/* Perf map files: JIT code addresses -> names. */
#include "symbols/perfmap.h"
#include "base/rootfs.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct perfmap *perfmap_new(const char *root, const char *path)
{
	struct perfmap *pm = xcalloc(1, sizeof(*pm));

	pm->root = xstrdup(root);
	pm->path = xstrdup(path);
	pm->fd = -1;
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

static int parse_line(struct perfmap *pm, const char *s, size_t len)
{
	uint64_t start, size;
	size_t i = 0;

	if (len > PERFMAP_MAX_LINE || pm->nr >= PERFMAP_MAX_ENTRIES)
		return -EINVAL;
	if (parse_hex(s, len, &i, &start) || i >= len || s[i++] != ' ' ||
	    parse_hex(s, len, &i, &size) || i >= len || s[i++] != ' ')
		return -EINVAL;
	if (size == 0 || start + size < start || i >= len || memchr(s + i, 0, len - i))
		return -EINVAL;
	XGROW(pm->syms, pm->alloc, pm->nr + 1);
	XGROW(pm->names, pm->names_alloc, pm->names_len + (len - i) + 1);
	memcpy(pm->names + pm->names_len, s + i, len - i);
	pm->names[pm->names_len + (len - i)] = 0;
	pm->syms[pm->nr++] = (struct perfmap_sym){ start, size, (uint32_t)pm->names_len, pm->seq++ };
	pm->names_len += len - i + 1;
	return 0;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct perfmap_sym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

size_t perfmap_parse(struct perfmap *pm, const char *data, size_t len)
{
	size_t off = 0, before = pm->nr;

	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t l;

		if (!nl)
			break;
		l = nl - (data + off);
		if (l && data[off + l - 1] == '\r')
			l--;
		if (parse_line(pm, data + off, l) && l)
			pm->bad_lines++;
		off = nl - data + 1;
	}
	if (pm->nr != before)
		qsort(pm->syms, pm->nr, sizeof(*pm->syms), cmp_sym);
	return off;
}

int perfmap_refresh(struct perfmap *pm)
{
	size_t before = pm->nr, have = 0, cap = 1 << 16;
	uint64_t off = pm->read_off;
	char *buf;
	ssize_t n;

	if (pm->fd < 0) {
		int fd = rootfs_open(pm->root, pm->path);

		if (fd < 0)
			return fd;
		pm->fd = fd;
	}
	buf = xmalloc(cap);
	for (;;) {
		n = pread(pm->fd, buf + have, cap - have, (off_t)(off + have));
		if (n <= 0)
			break;
		have += n;
		if (have == cap) {
			size_t used = perfmap_parse(pm, buf, have);

			if (used == 0) {
				/* One line longer than the buffer: skip to its end. */
				pm->bad_lines++;
				used = have;
			}
			memmove(buf, buf + used, have - used);
			have -= used;
			off += used;
			pm->read_off = off;
		}
	}
	pm->read_off = off + perfmap_parse(pm, buf, have);
	free(buf);
	return (int)(pm->nr - before);
}

/* How far back from the last start <= addr we look for an enclosing entry:
 * entries overlap only where a JIT reused memory. */
#define PERFMAP_BACKSCAN 16

const struct perfmap_sym *perfmap_lookup(const struct perfmap *pm, uint64_t addr)
{
	const struct perfmap_sym *best = NULL;
	size_t lo = 0, hi = pm->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pm->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i > 0 && k < PERFMAP_BACKSCAN; i--, k++) {
		const struct perfmap_sym *s = &pm->syms[i - 1];

		if (addr - s->start < s->size && (!best || s->seq > best->seq))
			best = s;
	}
	return best;
}

/* Parsing /proc/kallsyms into a sorted table of kernel text symbols. */
#include "symbols/kallsyms.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct ksyms *ksyms_load_file(FILE *f)
{
	struct ksyms *k = xcalloc(1, sizeof(*k));
	size_t alloc = 0, offs_alloc = 0, names_alloc = 0, zero = 0, total = 0;
	size_t *offs = NULL;
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, f) > 0) {
		unsigned long long addr;
		char type, name[256], mod[128] = "";
		int n = sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, mod);
		struct strbuf sb = STRBUF_INIT;

		if (n < 3)
			continue;
		total++;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (addr == 0) {
			zero++;
			continue;
		}
		strbuf_addstr(&sb, name);
		if (mod[0])
			strbuf_addf(&sb, " [%s]", mod);
		XGROW(k->syms, alloc, k->nr + 1);
		XGROW(offs, offs_alloc, k->nr + 1);
		XGROW(k->names, names_alloc, k->names_len + sb.len + 1);
		memcpy(k->names + k->names_len, sb.buf, sb.len + 1);
		k->syms[k->nr].addr = addr;
		offs[k->nr++] = k->names_len;
		k->names_len += sb.len + 1;
		strbuf_release(&sb);
	}
	free(line);
	for (size_t i = 0; i < k->nr; i++)
		k->syms[i].name = k->names + offs[i];
	free(offs);
	k->hidden = total > 0 && k->nr == 0 && zero > 0;
	if (k->nr)
		qsort(k->syms, k->nr, sizeof(*k->syms), cmp_ksym);
	return k;
}

struct ksyms *ksyms_load(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	struct ksyms *k;

	if (!f)
		return NULL;
	k = ksyms_load_file(f);
	fclose(f);
	return k;
}

void ksyms_free(struct ksyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->names);
	free(k);
}

const struct ksym *ksyms_lookup(const struct ksyms *k, uint64_t addr)
{
	size_t lo = 0, hi = k->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &k->syms[lo - 1] : NULL;
}

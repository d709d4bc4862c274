/* Open-addressing hash tables with linear probing; load factor kept under 1/2. */
#include "base/hashtab.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

static void idx_rehash(struct idx_table *t, size_t cap)
{
	struct idx_table n = { xmalloc(cap * sizeof(uint32_t)), xmalloc(cap * sizeof(uint64_t)), cap,
			       0 };

	memset(n.ids, 0xff, cap * sizeof(uint32_t));
	for (size_t i = 0; i < t->cap; i++)
		if (t->ids[i] != IDX_NONE)
			idx_insert(&n, t->hashes[i], t->ids[i]);
	free(t->ids);
	free(t->hashes);
	*t = n;
}

uint32_t idx_find(const struct idx_table *t, uint64_t hash, idx_eq_fn eq, const void *key,
		  const void *ctx)
{
	if (!t->cap)
		return IDX_NONE;
	for (size_t i = hash & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (t->ids[i] == IDX_NONE)
			return IDX_NONE;
		if (t->hashes[i] == hash && eq(t->ids[i], key, ctx))
			return t->ids[i];
	}
}

void idx_insert(struct idx_table *t, uint64_t hash, uint32_t id)
{
	size_t i;

	if ((t->nr + 1) * 2 > t->cap)
		idx_rehash(t, t->cap ? t->cap * 2 : 64);
	for (i = hash & (t->cap - 1); t->ids[i] != IDX_NONE; i = (i + 1) & (t->cap - 1))
		;
	t->ids[i] = id;
	t->hashes[i] = hash;
	t->nr++;
}

/* Linear probing without tombstones: after emptying a slot, every entry of
 * the run behind it whose home slot is not between the hole and itself
 * moves back into the hole, so that no probe stops short of it. */
void idx_remove(struct idx_table *t, uint64_t hash, uint32_t id)
{
	size_t mask = t->cap - 1, i, j, home;

	if (!t->cap)
		return;
	for (i = hash & mask; t->ids[i] != id; i = (i + 1) & mask)
		if (t->ids[i] == IDX_NONE)
			return;
	t->nr--;
	for (j = i;;) {
		t->ids[i] = IDX_NONE;
		do {
			j = (j + 1) & mask;
			if (t->ids[j] == IDX_NONE)
				return;
			home = t->hashes[j] & mask;
		} while (i <= j ? i < home && home <= j : i < home || home <= j);
		t->ids[i] = t->ids[j];
		t->hashes[i] = t->hashes[j];
		i = j;
	}
}

void idx_clear(struct idx_table *t)
{
	if (t->cap)
		memset(t->ids, 0xff, t->cap * sizeof(uint32_t));
	t->nr = 0;
}

void idx_free(struct idx_table *t)
{
	free(t->ids);
	free(t->hashes);
	memset(t, 0, sizeof(*t));
}

static void u64map_rehash(struct u64map *m, size_t cap)
{
	struct u64map n = { xmalloc(cap * sizeof(uint64_t)), xmalloc(cap * sizeof(uint32_t)),
			    xcalloc(cap, 1), cap, 0 };

	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i])
			u64map_put(&n, m->keys[i], m->vals[i]);
	u64map_free(m);
	*m = n;
}

int u64map_get(const struct u64map *m, uint64_t key, uint32_t *val)
{
	if (!m->cap)
		return 0;
	for (size_t i = hash_u64(key) & (m->cap - 1); m->used[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			*val = m->vals[i];
			return 1;
		}
	}
	return 0;
}

void u64map_put(struct u64map *m, uint64_t key, uint32_t val)
{
	size_t i;

	if ((m->nr + 1) * 2 > m->cap)
		u64map_rehash(m, m->cap ? m->cap * 2 : 64);
	for (i = hash_u64(key) & (m->cap - 1); m->used[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return;
		}
	}
	m->used[i] = 1;
	m->keys[i] = key;
	m->vals[i] = val;
	m->nr++;
}

void u64map_clear(struct u64map *m)
{
	if (m->cap)
		memset(m->used, 0, m->cap);
	m->nr = 0;
}

void u64map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

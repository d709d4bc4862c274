/* Two small open-addressing hash tables used for interning.
 *
 * idx_table maps a caller-computed 64-bit hash to 32-bit ids of objects the
 * caller stores elsewhere; equality is decided by a callback. It never owns
 * the objects. u64map maps a 64-bit key to a 32-bit value. Neither shrinks. */
#ifndef HASHTAB_H
#define HASHTAB_H

#include <stddef.h>
#include <stdint.h>

#define IDX_NONE UINT32_MAX

struct idx_table {
	uint32_t *ids;		/* IDX_NONE marks an empty slot */
	uint64_t *hashes;
	size_t cap;		/* power of two, or 0 */
	size_t nr;
};

typedef int (*idx_eq_fn)(uint32_t id, const void *key, const void *ctx);

uint32_t idx_find(const struct idx_table *t, uint64_t hash, idx_eq_fn eq, const void *key,
		  const void *ctx);
void idx_insert(struct idx_table *t, uint64_t hash, uint32_t id);
/* Removes id, inserted with hash; nothing if it is not there. */
void idx_remove(struct idx_table *t, uint64_t hash, uint32_t id);
void idx_clear(struct idx_table *t);
void idx_free(struct idx_table *t);

struct u64map {
	uint64_t *keys;
	uint32_t *vals;
	uint8_t *used;
	size_t cap, nr;
};

/* Returns 1 and sets *val when found, 0 otherwise. */
int u64map_get(const struct u64map *m, uint64_t key, uint32_t *val);
void u64map_put(struct u64map *m, uint64_t key, uint32_t val);
void u64map_clear(struct u64map *m);
void u64map_free(struct u64map *m);

#endif

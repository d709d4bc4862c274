/* Per-process mapping tables and per-object unwind tables, placed in the BPF maps. */
#include "unwind/unwind_bpf.h"
#include "base/hashtab.h"
#include "capture/sampler.h"
#include "procs/procfs.h"
#include "procs/procs.h"
#include "sampletop.h"
#include "symbols/elf_syms.h"
#include "symbols/objfile.h"
#include "unwind/unwind_alloc.h"
#include "unwind/unwind_table.h"
#include "base/util.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <limits.h>
#include <unistd.h>

/* A process whose maps did not change since its last push is not pushed
 * again; its next attempt waits twice as long, up to the maximum. */
#define PUSH_BACKOFF_MIN_NS (100 * 1000000ull)
#define PUSH_BACKOFF_MAX_NS (2000 * 1000000ull)
/* A launched command: how long to wait for its exec and for its dynamic
 * loader to map its libraries (maps unchanged for a few steps). */
#define EXEC_WAIT_STEP_US 500
#define EXEC_WAIT_STEPS 400
#define EXEC_SETTLED_STEPS 3
/* How often exited processes and unused tables are looked for. */
#define REAP_PERIOD_NS (2000 * 1000000ull)
/* A table no pushed process maps is freed once it was not sampled for this
 * long: processes too short-lived to be pushed (a build's cc1, a CGI) keep
 * the tables of their program alive by being sampled. */
#define RECLAIM_IDLE_NS (10 * 1000000000ull)
/* An evicted table sampled again is placed again (evicting the least
 * recently sampled), at most this often: two hot tables bigger together
 * than the budget take turns instead of trading places at every flush. */
#define REPLACE_BACKOFF_NS (1000 * 1000000ull)
#define TAB_NONE UINT32_MAX

/* A table, shared by every file with the same build-id. Its index is its
 * slot in unwind_used. */
struct utab {
	struct unwind_table *table;	/* NULL: the slot is free */
	uint8_t build_id[ELF_BUILD_ID_MAX];
	uint8_t build_id_len;
	bool placed;		/* rows at row_first, pages at page_first */
	bool evicted;		/* was placed, evicted for room */
	bool too_big;		/* bigger than the whole budget (counted once) */
	uint32_t row_first, page_first;
	uint32_t nr_procs;	/* pushed processes that map it */
	uint64_t placed_ns, evicted_ns, retry_ns;
};

/* A file, by identity. */
struct uobj {
	struct objfile_id id;	/* all 0 for the vdso */
	char *path;
	int err;		/* why there is no table: negative errno, or 0 */
	uint32_t tab;		/* TAB_NONE: none (err), or not built (!built) */
	bool built;		/* false again once its table was reclaimed */
	bool shared;		/* found its table by build-id */
	bool reclaimed;
	bool published;		/* in unwind_objs */
	uint32_t nr_rows;	/* of its table when built */
	size_t bytes;		/* its table's, in the BPF maps */
	uint64_t build_ns;
};

struct uproc_state {
	uint32_t pid;
	bool requested, live;
	uint64_t maps_hash;	/* of /proc/PID/maps at the last push */
	uint64_t next_ns;	/* no push before this */
	uint64_t backoff_ns;
	uint32_t *tabs;		/* tables its last push maps (each once) */
	uint32_t nr_tabs;
	size_t alloc_tabs;
};

struct unwind_bpf {
	int procs_fd;
	int objs_fd;		/* by (device, inode), for processes not pushed yet */
	int vmas_fd;		/* mappings the BPF program found itself */
	int rules_fd;
	bool in_memory;		/* unwind_bpf_bind_memory: plain memory, no maps */
	struct st_ucrow *rows;	/* mmapped unwind_rows (two per element) */
	size_t rows_size;
	struct st_upage *pages;	/* mmapped unwind_pages */
	size_t pages_size;
	uint64_t *used;		/* mmapped unwind_used: when each slot was last sampled */
	size_t used_size;
	struct unwind_alloc row_alloc, page_alloc;
	struct st_urule *rules;	/* what unwind_rules holds */
	uint32_t nr_rules;
	size_t alloc_rules;
	struct u64map rule_index;	/* rule -> index in rules */
	uint32_t *remap;	/* scratch: a table's rule -> index in rules */
	size_t alloc_remap;
	struct utab *tabs;
	uint32_t nr_tabs;	/* slots in use or freed: [0, nr_tabs) */
	size_t alloc_tabs;
	struct idx_table build_id_index;	/* build-id -> slot (stale entries are skipped) */
	struct uobj *objs;
	size_t nr_objs, alloc_objs;
	struct idx_table obj_index;
	struct uproc_state *procs;
	size_t nr_procs, alloc_procs;
	struct u64map proc_index;	/* pid -> index in procs */
	uint32_t nr_requested;
	struct unwind_bpf_stats stats;
	uint64_t next_reap_ns;
	struct st_uproc *scratch;	/* the entry a push builds */
	struct st_uproc *entry;	/* an entry republish rewrites (during a push, too) */
};

static bool place(struct unwind_bpf *u, uint32_t slot);
static void publish(struct unwind_bpf *u, struct uobj *o);

struct unwind_bpf *unwind_bpf_new(void)
{
	struct unwind_bpf *u = xcalloc(1, sizeof(*u));

	u->procs_fd = -1;
	u->objs_fd = -1;
	u->vmas_fd = -1;
	u->rules_fd = -1;
	u->scratch = xcalloc(1, sizeof(*u->scratch));
	u->entry = xcalloc(1, sizeof(*u->entry));
	return u;
}

static void *map_mmap(int fd, size_t bytes, size_t *size)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	*size = (bytes + page - 1) / page * page;
	p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void unmap_all(struct unwind_bpf *u)
{
	if (u->in_memory) {
		free(u->rows);
		free(u->pages);
		free(u->used);
	} else {
		if (u->rows)
			munmap(u->rows, u->rows_size);
		if (u->pages)
			munmap(u->pages, u->pages_size);
		if (u->used)
			munmap(u->used, u->used_size);
	}
	u->rows = NULL;
	u->pages = NULL;
	u->used = NULL;
}

/* Places what was built before the maps existed. */
static void place_all(struct unwind_bpf *u)
{
	unwind_alloc_init(&u->row_alloc, u->row_alloc.size);
	unwind_alloc_init(&u->page_alloc, u->page_alloc.size);
	for (uint32_t i = 0; i < u->nr_tabs; i++)
		if (u->tabs[i].table)
			place(u, i);
	for (size_t i = 0; i < u->nr_objs; i++)
		if (u->objs[i].built)
			publish(u, &u->objs[i]);
}

int unwind_bpf_bind(struct unwind_bpf *u, const struct sampler_map_fds *m)
{
	int err;

	u->rows = map_mmap(m->unwind_rows, (size_t)m->unwind_max_rows * sizeof(struct st_ucrow),
			   &u->rows_size);
	u->pages = map_mmap(m->unwind_pages, (size_t)m->unwind_max_pages * sizeof(struct st_upage),
			    &u->pages_size);
	u->used = map_mmap(m->unwind_used, ST_UNWIND_MAX_TABLES * sizeof(uint64_t), &u->used_size);
	if (!u->rows || !u->pages || !u->used) {
		err = -errno;
		unmap_all(u);
		return err;
	}
	u->row_alloc.size = m->unwind_max_rows;
	u->page_alloc.size = m->unwind_max_pages;
	u->procs_fd = m->unwind_procs;
	u->objs_fd = m->unwind_objs;
	u->vmas_fd = m->unwind_vmas;
	u->rules_fd = m->unwind_rules;
	place_all(u);
	return 0;
}

void unwind_bpf_bind_memory(struct unwind_bpf *u, uint32_t max_rows, uint32_t max_pages)
{
	u->in_memory = true;
	u->rows = xcalloc(max_rows ? max_rows : 1, sizeof(*u->rows));
	u->pages = xcalloc(max_pages ? max_pages : 1, sizeof(*u->pages));
	u->used = xcalloc(ST_UNWIND_MAX_TABLES, sizeof(*u->used));
	u->row_alloc.size = max_rows;
	u->page_alloc.size = max_pages;
	place_all(u);
}

void unwind_bpf_free(struct unwind_bpf *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nr_objs; i++)
		free(u->objs[i].path);
	for (uint32_t i = 0; i < u->nr_tabs; i++)
		unwind_table_free(u->tabs[i].table);
	for (size_t i = 0; i < u->nr_procs; i++)
		free(u->procs[i].tabs);
	free(u->objs);
	free(u->tabs);
	free(u->rules);
	free(u->remap);
	u64map_free(&u->rule_index);
	idx_free(&u->obj_index);
	idx_free(&u->build_id_index);
	free(u->procs);
	u64map_free(&u->proc_index);
	free(u->scratch);
	free(u->entry);
	unwind_alloc_release(&u->row_alloc);
	unwind_alloc_release(&u->page_alloc);
	unmap_all(u);
	free(u);
}

static int obj_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct unwind_bpf *u = ctx;

	return objfile_id_eq(&u->objs[id].id, key);
}

struct build_id_key {
	const uint8_t *id;
	uint8_t len;
};

static int build_id_eq(uint32_t slot, const void *key, const void *ctx)
{
	const struct unwind_bpf *u = ctx;
	const struct build_id_key *k = key;
	const struct utab *t = &u->tabs[slot];

	return t->table && t->build_id_len == k->len && !memcmp(t->build_id, k->id, k->len);
}

/* The vdso is the same image in every process: ours. */
static int build_vdso(struct unwind_table **out)
{
	uint64_t base, size;

	proc_self_vdso(&base, &size);
	if (!size)
		return -ENOENT;
	return unwind_table_build_mem((const void *)(uintptr_t)base, size, out);
}

/* When slot was last sampled (or placed, if later): the eviction order. */
static uint64_t last_used(const struct unwind_bpf *u, uint32_t slot)
{
	uint64_t s = u->used ? u->used[slot] : 0;

	return s > u->tabs[slot].placed_ns ? s : u->tabs[slot].placed_ns;
}

/* Fills the table fields of a mapping (or of an object) from slot's table. */
static void table_fields(const struct unwind_bpf *u, uint32_t slot, struct st_umap *um)
{
	const struct utab *t = &u->tabs[slot];

	um->slot = slot + 1;
	um->row_nr = 0;
	um->page_first = um->page_nr = um->base = 0;
	if (!t->placed)
		return;
	um->page_first = t->page_first;
	um->page_nr = t->table->nr_pages;
	um->base = t->table->base;
	um->row_nr = t->table->nr_crows;
}

/* Makes an object findable by file, for processes not pushed yet (the BPF
 * program reads the device in the kernel's encoding): its table, placed or
 * not (its slot then still records that it is sampled), or none so that the
 * BPF program stops asking for it. The newest file of a (device, inode,
 * size) wins. */
static void publish(struct unwind_bpf *u, struct uobj *o)
{
	const struct unwind_table *t = o->tab != TAB_NONE ? u->tabs[o->tab].table : NULL;
	struct st_uobj_key key = { .ino = o->id.ino, .size = o->id.size,
				   .dev = (uint32_t)(major(o->id.dev) << 20 | minor(o->id.dev)) };
	struct st_uobj v = { 0 };

	if (u->objs_fd < 0 || !o->id.ino)	/* the vdso has no file */
		return;
	if (t) {
		struct st_umap um = { 0 };

		table_fields(u, o->tab, &um);
		v = (struct st_uobj){ .row_nr = um.row_nr, .page_first = um.page_first,
				      .page_nr = um.page_nr, .base = um.base, .slot = um.slot };
	}
	for (uint32_t i = 0; t && i < t->nr_loads && v.nr_loads < ST_UNWIND_OBJ_LOADS; i++) {
		v.loads[v.nr_loads].offset = t->loads[i].offset;
		v.loads[v.nr_loads].filesz = t->loads[i].filesz;
		v.loads[v.nr_loads].delta = (int64_t)(t->loads[i].vaddr - t->loads[i].offset);
		v.nr_loads++;
	}
	bpf_map_update_elem(u->objs_fd, &key, &v, BPF_ANY);
	o->published = true;
}

static void unpublish(struct unwind_bpf *u, struct uobj *o)
{
	struct st_uobj_key key = { .ino = o->id.ino, .size = o->id.size,
				   .dev = (uint32_t)(major(o->id.dev) << 20 | minor(o->id.dev)) };

	if (u->objs_fd >= 0 && o->published)
		bpf_map_delete_elem(u->objs_fd, &key);
	o->published = false;
}

/* The mappings the BPF program found itself copy a table's place: once it
 * moves, they are dropped (found again at the next sample). */
static void forget_vmas(struct unwind_bpf *u)
{
	uint32_t key, next;

	if (u->vmas_fd < 0)
		return;
	while (!bpf_map_get_next_key(u->vmas_fd, NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(u->vmas_fd, &key))
			break;
	}
}

/* After slot's place changed: the files that have it, and the pushed
 * processes that map it, now say so. */
static void republish(struct unwind_bpf *u, uint32_t slot)
{
	for (size_t i = 0; i < u->nr_objs; i++)
		if (u->objs[i].tab == slot)
			publish(u, &u->objs[i]);
	for (size_t i = 0; u->procs_fd >= 0 && i < u->nr_procs; i++) {
		struct uproc_state *ps = &u->procs[i];
		bool maps = false, changed = false;

		for (uint32_t k = 0; k < ps->nr_tabs && !maps; k++)
			maps = ps->tabs[k] == slot;
		if (!maps || !ps->live || bpf_map_lookup_elem(u->procs_fd, &ps->pid, u->entry))
			continue;
		for (uint32_t k = 0; k < u->entry->nr && k < ST_UNWIND_MAX_MAPS; k++) {
			if (u->entry->maps[k].slot != slot + 1)
				continue;
			table_fields(u, slot, &u->entry->maps[k]);
			changed = true;
		}
		if (changed)
			bpf_map_update_elem(u->procs_fd, &ps->pid, u->entry, BPF_EXIST);
	}
	forget_vmas(u);
}

static void unplace(struct unwind_bpf *u, uint32_t slot)
{
	struct utab *t = &u->tabs[slot];

	if (!t->placed)
		return;
	t->placed = false;
	unwind_alloc_put(&u->row_alloc, t->row_first, t->table->nr_crows);
	unwind_alloc_put(&u->page_alloc, t->page_first, t->table->nr_pages);
	republish(u, slot);
}

static void evict(struct unwind_bpf *u, uint32_t slot)
{
	struct utab *t = &u->tabs[slot];

	unplace(u, slot);
	t->evicted = true;
	t->evicted_ns = now_ns();
	t->retry_ns = t->evicted_ns + REPLACE_BACKOFF_NS;
	u->stats.evicted++;
}

/* Evicts the placed table sampled least recently, but not keep. Returns
 * false when there is none. */
static bool evict_lru(struct unwind_bpf *u, uint32_t keep)
{
	uint32_t victim = TAB_NONE;
	uint64_t oldest = UINT64_MAX;

	for (uint32_t i = 0; i < u->nr_tabs; i++) {
		if (i == keep || !u->tabs[i].placed || last_used(u, i) >= oldest)
			continue;
		oldest = last_used(u, i);
		victim = i;
	}
	if (victim == TAB_NONE)
		return false;
	evict(u, victim);
	return true;
}

/* The index in unwind_rules of each of t's rules, added when new. Returns
 * false when the rules map is full. */
static bool map_rules(struct unwind_bpf *u, const struct unwind_table *t)
{
	XGROW(u->remap, u->alloc_remap, t->nr_rules);
	for (uint32_t i = 0; i < t->nr_rules; i++) {
		const struct st_urule *r = &t->rules[i];
		uint64_t key = (uint64_t)r->cfa_off | (uint64_t)r->cfa_kind << 16 |
			       (uint64_t)(uint8_t)r->rbp_off << 24;
		uint32_t idx;

		if (!u64map_get(&u->rule_index, key, &idx)) {
			if (u->nr_rules >= ST_UNWIND_MAX_RULES)
				return false;
			idx = u->nr_rules++;
			XGROW(u->rules, u->alloc_rules, u->nr_rules);
			u->rules[idx] = *r;
			if (u->rules_fd >= 0)
				bpf_map_update_elem(u->rules_fd, &idx, r, BPF_ANY);
			u64map_put(&u->rule_index, key, idx);
		}
		u->remap[i] = idx;
	}
	return true;
}

/* Room for rows and pages, evicting the tables sampled least recently
 * while there is none. Returns 0, or -E2BIG when even an empty map has no
 * room. */
static int make_room(struct unwind_bpf *u, uint32_t slot, uint32_t nr_rows, uint32_t nr_pages)
{
	struct utab *w = &u->tabs[slot];
	int err;

	if (nr_rows > u->row_alloc.size || nr_pages > u->page_alloc.size)
		return -E2BIG;	/* evicting everything would not help */
	for (;;) {
		err = unwind_alloc_get(&u->row_alloc, nr_rows, &w->row_first);
		if (!err) {
			err = unwind_alloc_get(&u->page_alloc, nr_pages, &w->page_first);
			if (!err)
				return 0;
			unwind_alloc_put(&u->row_alloc, w->row_first, nr_rows);
		}
		if (err == -E2BIG || !evict_lru(u, slot))
			return -E2BIG;
	}
}

/* Writes slot's rows and pages into the BPF maps, evicting as needed, and
 * tells the files and processes that have it. Returns whether it is placed. */
static bool place(struct unwind_bpf *u, uint32_t slot)
{
	struct utab *t = &u->tabs[slot];
	const struct unwind_table *tb = t->table;
	bool was_evicted = t->evicted;

	if (!u->rows || t->placed || !tb || !tb->nr_pages)
		return t->placed;
	if (!map_rules(u, tb) || make_room(u, slot, tb->nr_crows, tb->nr_pages)) {
		if (!t->too_big)
			u->stats.table_full++;
		t->too_big = true;
		return false;
	}
	for (uint32_t i = 0; i < tb->nr_crows; i++)
		u->rows[t->row_first + i] = (struct st_ucrow){ .off = tb->crows[i].off,
								.rule = u->remap[tb->crows[i].rule] };
	for (uint32_t i = 0; i < tb->nr_pages; i++)
		u->pages[t->page_first + i] = (struct st_upage){
			.first = t->row_first + tb->pages[i].first, .nr = tb->pages[i].nr };
	t->placed = true;
	t->evicted = false;
	t->placed_ns = now_ns();
	if (was_evicted)
		republish(u, slot);
	return true;
}

/* A free slot for a new table. */
static uint32_t new_slot(struct unwind_bpf *u)
{
	for (uint32_t i = 0; i < u->nr_tabs; i++)
		if (!u->tabs[i].table)
			return i;
	if (u->nr_tabs >= ST_UNWIND_MAX_TABLES)
		return TAB_NONE;
	XGROW(u->tabs, u->alloc_tabs, u->nr_tabs + 1);
	return u->nr_tabs++;
}

/* Gives o its table: that of an earlier file with the same build-id, or a
 * new one built from elf (NULL: the vdso, built from our own). */
static void build(struct unwind_bpf *u, struct uobj *o, Elf *elf)
{
	uint8_t id[ELF_BUILD_ID_MAX];
	struct build_id_key key = { id, 0 };
	struct unwind_table *t = NULL;
	uint64_t h = 0;
	uint32_t slot;

	o->built = true;
	o->tab = TAB_NONE;
	o->reclaimed = false;
	if (elf) {
		key.len = elf_build_id(elf, id);
		h = hash_bytes(id, key.len, HASH_SEED);
		slot = key.len ? idx_find(&u->build_id_index, h, build_id_eq, &key, u) : IDX_NONE;
		if (slot != IDX_NONE) {
			o->tab = slot;
			o->shared = true;
			o->nr_rows = u->tabs[slot].table->nr_rows;
			o->bytes = unwind_table_bytes(u->tabs[slot].table);
			u->stats.shared++;
			return;
		}
		o->err = unwind_table_build_cached(elf, &t);
	} else {
		o->err = build_vdso(&t);
	}
	if (o->err)
		return;
	o->nr_rows = t->nr_rows;
	o->bytes = unwind_table_bytes(t);
	o->build_ns = t->build_ns;
	unwind_table_drop_rows(t);	/* the encoding is all that is needed */
	if (!t->nr_pages) {	/* no CFI at all: no table */
		unwind_table_free(t);
		return;
	}
	slot = new_slot(u);
	if (slot == TAB_NONE) {
		unwind_table_free(t);
		o->err = -ENOSPC;
		u->stats.table_full++;
		return;
	}
	u->tabs[slot] = (struct utab){ .table = t, .build_id_len = key.len };
	memcpy(u->tabs[slot].build_id, id, key.len);
	if (key.len)
		idx_insert(&u->build_id_index, h, slot);
	if (u->used)
		u->used[slot] = 0;
	o->tab = slot;
	place(u, slot);
}

static void build_fd(struct unwind_bpf *u, struct uobj *o, int fd)
{
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		o->built = true;
		o->tab = TAB_NONE;
		o->err = -ENOEXEC;
	} else {
		build(u, o, elf);
	}
	elf_end(elf);
}

/* The object of file id (opened as fd; -1 for the vdso), built if new. */
static struct uobj *object_of(struct unwind_bpf *u, const struct objfile_id *fid, const char *path,
			      int fd)
{
	uint64_t h = objfile_id_hash(fid);
	uint32_t id = idx_find(&u->obj_index, h, obj_eq, fid, u);
	struct uobj *o;

	if (id == IDX_NONE) {
		XGROW(u->objs, u->alloc_objs, u->nr_objs + 1);
		id = u->nr_objs++;
		u->objs[id] = (struct uobj){ .id = *fid, .path = xstrdup(path), .tab = TAB_NONE };
		idx_insert(&u->obj_index, h, id);
	}
	o = &u->objs[id];
	if (!o->built) {
		if (fd >= 0)
			build_fd(u, o, fd);
		else
			build(u, o, NULL);
	}
	/* Placed when first met; an evicted one waits until it is sampled
	 * again (sweep_tables), one too big stays out. */
	if (o->tab != TAB_NONE && !u->tabs[o->tab].placed && !u->tabs[o->tab].evicted &&
	    !u->tabs[o->tab].too_big)
		place(u, o->tab);
	if (!o->published)
		publish(u, o);
	return o;
}

static struct uobj *object_for(struct unwind_bpf *u, uint32_t pid, const struct proc_map *m)
{
	struct objfile_id fid = { 0 };
	struct objfile_where w;
	struct uobj *o;
	int fd = -1;

	if (m->flags & MAP_F_SPECIAL) {
		if (strcmp(m->path, "[vdso]"))
			return NULL;
	} else {
		fd = objfile_open_map(pid, m, &w, &fid);
		if (fd < 0)
			return NULL;
	}
	o = object_of(u, &fid, m->path, fd);
	if (fd >= 0)
		close(fd);
	return o;
}

int unwind_bpf_add_path(struct unwind_bpf *u, const char *path)
{
	struct objfile_id fid;
	struct uobj *o;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = objfile_id_of_fd(fd, &fid);
	if (err) {
		close(fd);
		return err;
	}
	o = object_of(u, &fid, path, fd);
	close(fd);
	return o->err ? o->err : (int)(o - u->objs);
}

void unwind_bpf_touch(struct unwind_bpf *u, size_t i, uint64_t ns)
{
	if (i < u->nr_objs && u->objs[i].tab != TAB_NONE && u->used)
		u->used[u->objs[i].tab] = ns;
}

static void proc_add_tab(struct uproc_state *ps, uint32_t slot)
{
	for (uint32_t k = 0; k < ps->nr_tabs; k++)
		if (ps->tabs[k] == slot)
			return;
	XGROW(ps->tabs, ps->alloc_tabs, ps->nr_tabs + 1);
	ps->tabs[ps->nr_tabs++] = slot;
}

/* ps's tables lose a user (its push is replaced, or it exited). */
static void proc_drop_tabs(struct unwind_bpf *u, struct uproc_state *ps)
{
	for (uint32_t k = 0; k < ps->nr_tabs; k++)
		if (u->tabs[ps->tabs[k]].nr_procs)
			u->tabs[ps->tabs[k]].nr_procs--;
	ps->nr_tabs = 0;
}

static void fill_map(struct unwind_bpf *u, struct uproc_state *ps, const struct proc_map *m,
		     struct st_umap *um)
{
	struct uobj *o;
	uint64_t bias;

	*um = (struct st_umap){ .start = m->start, .end = m->end };
	if (m->flags & MAP_F_ANON)
		return;
	o = object_for(u, ps->pid, m);
	if (!o || o->tab == TAB_NONE ||
	    unwind_table_bias(u->tabs[o->tab].table, m->start, m->pgoff, &bias))
		return;
	um->bias = bias;
	table_fields(u, o->tab, um);
	proc_add_tab(ps, o->tab);
}

static struct uproc_state *proc_state(struct unwind_bpf *u, uint32_t pid)
{
	uint32_t idx;

	if (!u64map_get(&u->proc_index, pid, &idx)) {
		XGROW(u->procs, u->alloc_procs, u->nr_procs + 1);
		idx = u->nr_procs++;
		u->procs[idx] = (struct uproc_state){ .pid = pid, .backoff_ns = PUSH_BACKOFF_MIN_NS };
		u64map_put(&u->proc_index, pid, idx);
	}
	return &u->procs[idx];
}

struct push_ctx {
	struct unwind_bpf *u;
	uint32_t pid;
	struct uproc_state *ps;
};

static int prebuild_one(void *ctx, struct proc_map *m)
{
	struct push_ctx *c = ctx;

	if ((m->flags & MAP_F_EXEC) && !(m->flags & MAP_F_ANON))
		object_for(c->u, c->pid, m);
	return 0;
}

static int push_one(void *ctx, struct proc_map *m)
{
	struct push_ctx *c = ctx;
	struct st_uproc *up = c->u->scratch;

	if ((m->flags & MAP_F_EXEC) && up->nr < ST_UNWIND_MAX_MAPS)
		fill_map(c->u, c->ps, m, &up->maps[up->nr++]);
	return 0;
}

void unwind_bpf_build_known(struct unwind_bpf *u, const struct proc *p)
{
	for (uint32_t i = 0; i < p->nr_maps; i++)
		if (!(p->maps[i].flags & MAP_F_ANON))
			object_for(u, p->pid, &p->maps[i]);
}

int unwind_bpf_prebuild(struct unwind_bpf *u, uint32_t pid)
{
	struct push_ctx c = { u, pid, NULL };
	char *buf = NULL;
	size_t size = 0;
	int err = proc_maps_text(pid, &buf, &size);

	if (err)
		return err;
	proc_maps_each(buf, prebuild_one, &c);
	free(buf);
	return 0;
}

/* Pushes pid's mappings unless they are unchanged since the last push. */
static int push(struct unwind_bpf *u, struct uproc_state *ps, bool force)
{
	struct push_ctx c = { u, ps->pid, ps };
	char *buf = NULL;
	size_t size = 0;
	uint64_t h;
	int err;

	if (u->procs_fd < 0)
		return -EBADF;
	err = proc_maps_text(ps->pid, &buf, &size);
	if (err)
		return err;
	h = hash_bytes(buf, size, HASH_SEED);
	if (!force && ps->live && h == ps->maps_hash) {
		free(buf);
		return -EALREADY;
	}
	proc_drop_tabs(u, ps);
	u->scratch->nr = 0;
	proc_maps_each(buf, push_one, &c);
	free(buf);
	for (uint32_t k = 0; k < ps->nr_tabs; k++)
		u->tabs[ps->tabs[k]].nr_procs++;
	/* A table placed for one mapping may have been evicted for the next
	 * (a process that maps more than the budget): state where each is now. */
	for (uint32_t k = 0; k < u->scratch->nr; k++)
		if (u->scratch->maps[k].slot)
			table_fields(u, u->scratch->maps[k].slot - 1, &u->scratch->maps[k]);
	if (bpf_map_update_elem(u->procs_fd, &ps->pid, u->scratch, BPF_ANY))
		return -errno;
	ps->live = true;
	ps->maps_hash = h;
	return 0;
}

int unwind_bpf_push(struct unwind_bpf *u, uint32_t pid)
{
	struct uproc_state *ps = proc_state(u, pid);
	int err = push(u, ps, true);

	ps->next_ns = now_ns() + ps->backoff_ns;
	return err == -ENOENT ? -ESRCH : err;
}

static bool same_exe(uint32_t pid, const char *self)
{
	char exe[PATH_MAX];

	return proc_read_exe(pid, exe, sizeof(exe)) >= 0 && !strcmp(exe, self);
}

int unwind_bpf_push_after_exec(struct unwind_bpf *u, uint32_t pid)
{
	char self[PATH_MAX], *buf;
	uint64_t h, last_h = 0;
	int n = proc_read_exe(0, self, sizeof(self));
	size_t size;
	int stable = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < EXEC_WAIT_STEPS && same_exe(pid, self); i++)
		usleep(EXEC_WAIT_STEP_US);
	/* Then push at every change of its maps (the loader mapping libraries)
	 * until they stay the same for a few steps. */
	for (int i = 0; i < EXEC_WAIT_STEPS && stable < EXEC_SETTLED_STEPS; i++) {
		buf = NULL;
		size = 0;
		if (proc_maps_text(pid, &buf, &size))
			return -ESRCH;
		h = hash_bytes(buf, size, HASH_SEED);
		free(buf);
		if (h != last_h && unwind_bpf_push(u, pid) == -ESRCH)
			return -ESRCH;
		stable = h == last_h ? stable + 1 : 0;
		last_h = h;
		usleep(EXEC_WAIT_STEP_US);
	}
	return 0;
}

void unwind_bpf_request(struct unwind_bpf *u, uint32_t pid)
{
	struct uproc_state *ps = proc_state(u, pid);

	if (!ps->requested) {
		ps->requested = true;
		u->nr_requested++;
	}
}

/* Processes that exited leave the BPF map, and this table too unless a
 * request for them is pending: a day of process churn costs no memory. */
static void reap(struct unwind_bpf *u)
{
	size_t n = 0;

	u64map_clear(&u->proc_index);
	for (size_t i = 0; i < u->nr_procs; i++) {
		struct uproc_state ps = u->procs[i];
		bool gone = !proc_pid_exists(ps.pid);

		if (gone && ps.live) {
			bpf_map_delete_elem(u->procs_fd, &ps.pid);
			ps.live = false;
			ps.maps_hash = 0;
		}
		if (gone)
			proc_drop_tabs(u, &ps);
		if (gone && !ps.requested) {
			free(ps.tabs);
			continue;
		}
		u64map_put(&u->proc_index, ps.pid, (uint32_t)n);
		u->procs[n++] = ps;
	}
	u->nr_procs = n;
}

void unwind_bpf_exited(struct unwind_bpf *u, uint32_t pid)
{
	uint32_t idx;
	struct uproc_state *ps;

	if (!u64map_get(&u->proc_index, pid, &idx))
		return;
	ps = &u->procs[idx];
	if (ps->live && u->procs_fd >= 0)
		bpf_map_delete_elem(u->procs_fd, &ps->pid);
	ps->live = false;
	ps->maps_hash = 0;
	proc_drop_tabs(u, ps);	/* the entry itself goes at the next reap */
}

/* Frees a table that no pushed process maps and that was not sampled for
 * RECLAIM_IDLE_NS: its files are built again if a process maps them again. */
static void reclaim(struct unwind_bpf *u, uint32_t slot)
{
	struct utab *t = &u->tabs[slot];

	unplace(u, slot);
	for (size_t i = 0; i < u->nr_objs; i++) {
		struct uobj *o = &u->objs[i];

		if (o->tab != slot)
			continue;
		unpublish(u, o);
		o->tab = TAB_NONE;
		o->built = false;
		o->shared = false;
		o->reclaimed = true;
	}
	unwind_table_free(t->table);
	*t = (struct utab){ 0 };
	if (u->used)
		u->used[slot] = 0;
	u->stats.reclaimed++;
}

/* Reclaims the tables nobody uses; places again the evicted ones that
 * were sampled since (a process still running them). */
static void sweep_tables(struct unwind_bpf *u, uint64_t now, bool reclaiming)
{
	for (uint32_t i = 0; i < u->nr_tabs; i++) {
		struct utab *t = &u->tabs[i];

		if (!t->table)
			continue;
		if (reclaiming && !t->nr_procs && now - last_used(u, i) > RECLAIM_IDLE_NS &&
		    (!t->evicted || now - t->evicted_ns > RECLAIM_IDLE_NS)) {
			reclaim(u, i);
			continue;
		}
		if (t->evicted && u->used && u->used[i] > t->evicted_ns && now >= t->retry_ns) {
			t->retry_ns = now + REPLACE_BACKOFF_NS;
			place(u, i);
		}
	}
}

void unwind_bpf_flush(struct unwind_bpf *u)
{
	unwind_bpf_flush_at(u, now_ns());
}

void unwind_bpf_flush_at(struct unwind_bpf *u, uint64_t now)
{
	bool reaping = now >= u->next_reap_ns;

	for (size_t i = 0; u->nr_requested && i < u->nr_procs; i++) {
		struct uproc_state *ps = &u->procs[i];
		int err;

		if (!ps->requested || now < ps->next_ns)
			continue;
		ps->requested = false;
		u->nr_requested--;
		err = push(u, ps, false);
		/* Unchanged maps: the miss was a stray address; wait longer. */
		if (err == -EALREADY)
			ps->backoff_ns = ps->backoff_ns * 2 > PUSH_BACKOFF_MAX_NS ? PUSH_BACKOFF_MAX_NS
										: ps->backoff_ns * 2;
		else
			ps->backoff_ns = PUSH_BACKOFF_MIN_NS;
		ps->next_ns = now + ps->backoff_ns;
	}
	if (reaping) {
		reap(u);
		u->next_reap_ns = now + REAP_PERIOD_NS;
	}
	sweep_tables(u, now, reaping);
}

int unwind_bpf_table_at(struct unwind_bpf *u, uint32_t pid, const struct proc_map *m,
			const struct unwind_table **t, uint64_t *bias)
{
	const struct uobj *o = (m->flags & MAP_F_ANON) ? NULL : object_for(u, pid, m);
	const struct unwind_table *tab;

	if (!o)
		return (m->flags & MAP_F_ANON) ? -ENODATA : -ENOENT;
	/* The encoding stays in userspace while the table lives (evicted from
	 * the BPF maps or not): unwind_table_find searches it. */
	tab = o->tab != TAB_NONE ? u->tabs[o->tab].table : NULL;
	if (!tab || !tab->nr_pages || unwind_table_bias(tab, m->start, m->pgoff, bias))
		return -ENODATA;
	*t = tab;
	return 0;
}

size_t unwind_bpf_nr_objects(const struct unwind_bpf *u)
{
	return u->nr_objs;
}

void unwind_bpf_object(const struct unwind_bpf *u, size_t i, struct unwind_obj_info *info)
{
	const struct uobj *o = &u->objs[i];
	const struct utab *t = o->tab != TAB_NONE ? &u->tabs[o->tab] : NULL;

	*info = (struct unwind_obj_info){ .path = o->path, .err = o->err, .rows = o->nr_rows,
					  .build_ms = o->build_ns / 1e6, .shared = o->shared,
					  .bytes = o->bytes,
					  .reclaimed = o->reclaimed, .table = TAB_NONE };
	if (t) {
		info->table_full = t->too_big;
		info->placed = t->placed;
		info->evicted = t->evicted;
		info->table = o->tab;
	}
}

void unwind_bpf_stats(const struct unwind_bpf *u, struct unwind_bpf_stats *st)
{
	*st = u->stats;
	st->rows_used = u->row_alloc.used;
	st->rows_max = u->row_alloc.size;
	st->pages_used = u->page_alloc.used;
	st->pages_max = u->page_alloc.size;
}

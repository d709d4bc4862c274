/* Per-process mapping tables and per-object unwind rows, pushed to BPF maps. */
#include "unwind/unwind_bpf.h"
#include "base/hashtab.h"
#include "capture/sampler.h"
#include "procs/procfs.h"
#include "procs/procs.h"
#include "sampletop.h"
#include "symbols/objfile.h"
#include "unwind/unwind_table.h"
#include "base/util.h"

#include <bpf/bpf.h>
#include <errno.h>
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
/* How often exited processes are looked for. */
#define REAP_PERIOD_NS (2000 * 1000000ull)

struct uobj {
	struct objfile_id id;	/* all 0 for the vdso */
	char *path;
	struct unwind_table *table;	/* NULL: err says why */
	int err;
	bool placed;		/* rows written at row_first, buckets at bucket_first */
	bool full;
	bool published;		/* known to the BPF program as having no table */
	uint32_t row_first, bucket_first;
};

struct uproc_state {
	uint32_t pid;
	bool requested, live;
	uint64_t maps_hash;	/* of /proc/PID/maps at the last push */
	uint64_t next_ns;	/* no push before this */
	uint64_t backoff_ns;
};

struct unwind_bpf {
	int procs_fd;
	int objs_fd;		/* by (device, inode), for processes not pushed yet */
	struct st_urow *rows;	/* mmapped unwind_rows */
	uint32_t max_rows, next_row;
	size_t rows_size;
	struct st_ubucket *buckets;	/* mmapped unwind_buckets */
	uint32_t max_buckets, next_bucket;
	size_t buckets_size;
	struct uobj *objs;
	size_t nr_objs, alloc_objs;
	struct idx_table obj_index;
	struct uproc_state *procs;
	size_t nr_procs, alloc_procs;
	struct u64map proc_index;	/* pid -> index in procs */
	uint32_t nr_requested;
	uint64_t table_full;
	uint64_t next_reap_ns;
	struct st_uproc *scratch;
};

static void place(struct unwind_bpf *u, struct uobj *o);

struct unwind_bpf *unwind_bpf_new(void)
{
	struct unwind_bpf *u = xcalloc(1, sizeof(*u));

	u->procs_fd = -1;
	u->objs_fd = -1;
	u->scratch = xcalloc(1, sizeof(*u->scratch));
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

int unwind_bpf_bind(struct unwind_bpf *u, const struct sampler_map_fds *m)
{
	u->rows = map_mmap(m->unwind_rows, (size_t)m->unwind_max_rows * sizeof(struct st_urow),
			   &u->rows_size);
	if (!u->rows)
		return -errno;
	u->buckets = map_mmap(m->unwind_buckets, (size_t)m->unwind_max_buckets * sizeof(*u->buckets),
			      &u->buckets_size);
	if (!u->buckets) {
		int err = -errno;

		munmap(u->rows, u->rows_size);
		u->rows = NULL;
		return err;
	}
	u->max_rows = m->unwind_max_rows;
	u->max_buckets = m->unwind_max_buckets;
	u->procs_fd = m->unwind_procs;
	u->objs_fd = m->unwind_objs;
	for (size_t i = 0; i < u->nr_objs; i++)
		place(u, &u->objs[i]);
	return 0;
}

void unwind_bpf_free(struct unwind_bpf *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nr_objs; i++) {
		unwind_table_free(u->objs[i].table);
		free(u->objs[i].path);
	}
	free(u->objs);
	idx_free(&u->obj_index);
	free(u->procs);
	u64map_free(&u->proc_index);
	free(u->scratch);
	if (u->rows)
		munmap(u->rows, u->rows_size);
	if (u->buckets)
		munmap(u->buckets, u->buckets_size);
	free(u);
}

static int obj_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct unwind_bpf *u = ctx;

	return objfile_id_eq(&u->objs[id].id, key);
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

/* Makes an object findable by file, for processes not pushed yet (the BPF
 * program reads the device in the kernel's encoding): its rows once placed,
 * or none when it has no table or the maps are full (frame pointers then),
 * so that the BPF program stops asking for it. The newest file of a
 * (device, inode, size) wins. */
static void publish(struct unwind_bpf *u, const struct uobj *o)
{
	const struct unwind_table *t = o->placed ? o->table : NULL;
	struct st_uobj_key key = { .ino = o->id.ino, .size = o->id.size,
				   .dev = (uint32_t)(major(o->id.dev) << 20 | minor(o->id.dev)) };
	struct st_uobj v = { 0 };

	if (u->objs_fd < 0 || !o->id.ino)	/* the vdso has no file */
		return;
	if (t)
		v = (struct st_uobj){ .row_first = o->row_first, .row_nr = t->nr_rows,
				      .bucket_first = o->bucket_first,
				      .bucket_nr = t->nr_buckets, .base = t->base };
	for (uint32_t i = 0; t && i < t->nr_loads && v.nr_loads < ST_UNWIND_OBJ_LOADS; i++) {
		v.loads[v.nr_loads].offset = t->loads[i].offset;
		v.loads[v.nr_loads].filesz = t->loads[i].filesz;
		v.loads[v.nr_loads].delta = (int64_t)(t->loads[i].vaddr - t->loads[i].offset);
		v.nr_loads++;
	}
	bpf_map_update_elem(u->objs_fd, &key, &v, BPF_ANY);
}

/* Writes an object's rows and buckets into the BPF maps once and publishes
 * it; counts it when either is full. One without a table is published as
 * such. */
static void place(struct unwind_bpf *u, struct uobj *o)
{
	const struct unwind_table *t = o->table;

	if (!u->rows || o->placed || o->full || o->published)
		return;
	if (!t || !t->nr_rows) {
		o->published = true;
		publish(u, o);
		return;
	}
	if (t->nr_rows > u->max_rows - u->next_row ||
	    t->nr_buckets > u->max_buckets - u->next_bucket) {
		o->full = true;
		u->table_full++;
		publish(u, o);
	} else {
		memcpy(&u->rows[u->next_row], t->rows, (size_t)t->nr_rows * sizeof(*u->rows));
		memcpy(&u->buckets[u->next_bucket], t->buckets,
		       (size_t)t->nr_buckets * sizeof(*u->buckets));
		o->row_first = u->next_row;
		o->bucket_first = u->next_bucket;
		u->next_row += t->nr_rows;
		u->next_bucket += t->nr_buckets;
		o->placed = true;
		publish(u, o);
	}
	/* The rows stay here too (see unwind_bpf_table_at): cold samples are
	 * finished in userspace with them. */
}

static struct uobj *object_for(struct unwind_bpf *u, uint32_t pid, const struct proc_map *m)
{
	struct uobj key = { 0 };
	struct objfile_where w;
	uint64_t h;
	uint32_t id;
	int fd = -1;

	if (m->flags & MAP_F_SPECIAL) {
		if (strcmp(m->path, "[vdso]"))
			return NULL;
	} else {
		fd = objfile_open_map(pid, m, &w, &key.id);
		if (fd < 0)
			return NULL;
	}
	h = objfile_id_hash(&key.id);
	id = idx_find(&u->obj_index, h, obj_eq, &key.id, u);
	if (id == IDX_NONE) {
		key.path = xstrdup(m->path);
		if (m->flags & MAP_F_SPECIAL)
			key.err = build_vdso(&key.table);
		else
			key.err = unwind_table_build_fd(fd, &key.table);
		if (key.err)
			key.table = NULL;
		XGROW(u->objs, u->alloc_objs, u->nr_objs + 1);
		id = u->nr_objs++;
		u->objs[id] = key;
		idx_insert(&u->obj_index, h, id);
	}
	if (fd >= 0)
		close(fd);
	place(u, &u->objs[id]);
	return &u->objs[id];
}

static void fill_map(struct unwind_bpf *u, uint32_t pid, const struct proc_map *m,
		     struct st_umap *um)
{
	struct uobj *o;
	uint64_t bias;

	*um = (struct st_umap){ .start = m->start, .end = m->end };
	if (m->flags & MAP_F_ANON)
		return;
	o = object_for(u, pid, m);
	if (!o || !o->placed || unwind_table_bias(o->table, m->start, m->pgoff, &bias))
		return;
	um->bias = bias;
	um->row_first = o->row_first;
	um->row_nr = o->table->nr_rows;
	um->bucket_first = o->bucket_first;
	um->bucket_nr = o->table->nr_buckets;
	um->base = o->table->base;
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
		fill_map(c->u, c->pid, m, &up->maps[up->nr++]);
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
	struct push_ctx c = { u, pid };
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
	struct push_ctx c = { u, ps->pid };
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
	u->scratch->nr = 0;
	proc_maps_each(buf, push_one, &c);
	free(buf);
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
		if (gone && !ps.requested)
			continue;
		u64map_put(&u->proc_index, ps.pid, (uint32_t)n);
		u->procs[n++] = ps;
	}
	u->nr_procs = n;
}

void unwind_bpf_flush(struct unwind_bpf *u)
{
	uint64_t now = now_ns();

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
	if (now >= u->next_reap_ns) {
		reap(u);
		u->next_reap_ns = now + REAP_PERIOD_NS;
	}
}

int unwind_bpf_table_at(struct unwind_bpf *u, uint32_t pid, const struct proc_map *m,
			const struct unwind_table **t, uint64_t *bias)
{
	const struct uobj *o = (m->flags & MAP_F_ANON) ? NULL : object_for(u, pid, m);

	if (!o)
		return (m->flags & MAP_F_ANON) ? -ENODATA : -ENOENT;
	if (!o->table || !o->table->nr_rows || !o->table->rows ||
	    unwind_table_bias(o->table, m->start, m->pgoff, bias))
		return -ENODATA;
	*t = o->table;
	return 0;
}

size_t unwind_bpf_nr_objects(const struct unwind_bpf *u)
{
	return u->nr_objs;
}

void unwind_bpf_object(const struct unwind_bpf *u, size_t i, struct unwind_obj_info *info)
{
	const struct uobj *o = &u->objs[i];

	*info = (struct unwind_obj_info){ .path = o->path, .err = o->err, .table_full = o->full };
	if (o->table) {
		info->rows = o->table->nr_rows;
		info->bytes = unwind_table_bytes(o->table);
		info->build_ms = o->table->build_ns / 1e6;
	}
}

uint64_t unwind_bpf_table_full(const struct unwind_bpf *u)
{
	return u->table_full;
}

/* Processes keyed by (pid, start time) and their executable mappings. */
#include "procs/procs.h"
#include "procs/snapshot.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every pid ever seen had a slot; those whose instances are all gone are
 * dropped (procs_next_gen), so that a long run of short processes costs no
 * memory: at this many slots, then at twice as many as the last sweep kept. */
#define PROCS_SWEEP_SLOTS 4096

struct procs {
	struct proc **heads;	/* per pid slot: the newest instance, chained by older */
	size_t nr_heads, alloc_heads;
	struct u64map by_pid;	/* pid -> slot in heads */
	struct proc *exited[PROCS_MAX_EXITED];	/* FIFO of exited instances */
	size_t exited_first, nr_exited;
	size_t nr_procs;
	size_t sweep_at;	/* slots at which empty ones are dropped */
	uint64_t gen;
	uint64_t ns_per_tick;
	struct snapshots *snaps;	/* not owned; NULL: none */
	void (*attach_free[PROCS_MAX_ATTACH])(void *data);	/* per registered stage */
	int nr_attach;
};

/* Every replacement of the maps starts here: it changes maps_gen. */
static void free_maps(struct proc *p)
{
	for (uint32_t i = 0; i < p->nr_maps; i++)
		free(p->maps[i].path);
	free(p->maps);
	p->maps = NULL;
	p->nr_maps = 0;
	p->maps_gen++;
}

struct exec_maps {
	struct proc_map *maps;
	uint32_t nr;
	size_t alloc;
};

static int keep_exec(void *ctx, struct proc_map *m)
{
	struct exec_maps *x = ctx;

	if (!(m->flags & MAP_F_EXEC))
		return 0;
	XGROW(x->maps, x->alloc, x->nr + 1);
	x->maps[x->nr++] = *m;
	m->path = NULL;	/* kept */
	return 0;
}

/* Replaces p's maps with the executable mappings listed in text. */
static void parse_maps(struct proc *p, const char *text)
{
	struct exec_maps x = { 0 };

	proc_maps_each(text, keep_exec, &x);
	free_maps(p);
	/* The kernel lists mappings in address order already. */
	p->maps = x.maps;
	p->nr_maps = x.nr;
}

static int read_maps(struct proc *p)
{
	char *text;
	int err;

	p->read_ns = now_ns();	/* before the read: what it finds is at least this new */
	err = proc_maps_text(p->pid, &text, NULL);
	if (err)
		return err;
	parse_maps(p, text);
	free(text);
	return 0;
}

/* The snapshot thread's latest maps of p, when /proc no longer has them.
 * Kept only if they list at least as many mappings as p has: an earlier
 * snapshot never replaces a later read. Returns true if p's maps changed. */
static bool load_snapshot(struct procs *ps, struct proc *p)
{
	struct proc tmp = { 0 };
	uint64_t read_ns = 0;
	char *text;

	if (!p->start_ns)
		return false;
	text = snapshots_take(ps->snaps, p->pid, p->start_ns, &read_ns);
	if (!text)
		return false;
	parse_maps(&tmp, text);
	free(text);
	if (!tmp.nr_maps || tmp.nr_maps < p->nr_maps) {
		free_maps(&tmp);
		return false;
	}
	free_maps(p);
	p->maps = tmp.maps;
	p->nr_maps = tmp.nr_maps;
	p->read_ns = read_ns;
	return true;
}

static void proc_free(struct procs *ps, struct proc *p)
{
	for (int i = 0; i < ps->nr_attach; i++)
		if (p->attached[i])
			ps->attach_free[i](p->attached[i]);
	free_maps(p);
	free(p);
}

int procs_attach_register(struct procs *ps, void (*free_fn)(void *data))
{
	if (ps->nr_attach == PROCS_MAX_ATTACH)
		return -ENOSPC;
	ps->attach_free[ps->nr_attach] = free_fn;
	return ps->nr_attach++;
}

struct procs *procs_new(void)
{
	struct procs *ps = xcalloc(1, sizeof(struct procs));
	long hz = sysconf(_SC_CLK_TCK);

	ps->ns_per_tick = 1000000000ull / (hz > 0 ? hz : 100);
	ps->sweep_at = PROCS_SWEEP_SLOTS;
	return ps;
}

void procs_free(struct procs *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->nr_heads; i++) {
		struct proc *p = ps->heads[i], *older;

		for (; p; p = older) {
			older = p->older;
			proc_free(ps, p);
		}
	}
	free(ps->heads);
	u64map_free(&ps->by_pid);
	free(ps);
}

size_t procs_count(const struct procs *ps)
{
	return ps->nr_procs;
}

size_t procs_nr_slots(const struct procs *ps)
{
	return ps->nr_heads;
}

static void sweep(struct procs *ps)
{
	size_t n = 0;

	u64map_clear(&ps->by_pid);
	for (size_t i = 0; i < ps->nr_heads; i++) {
		if (!ps->heads[i])
			continue;
		u64map_put(&ps->by_pid, ps->heads[i]->pid, (uint32_t)n);
		ps->heads[n++] = ps->heads[i];
	}
	ps->nr_heads = n;
	ps->sweep_at = 2 * n > PROCS_SWEEP_SLOTS ? 2 * n : PROCS_SWEEP_SLOTS;
}

void procs_next_gen(struct procs *ps)
{
	ps->gen++;
	if (ps->nr_heads >= ps->sweep_at)
		sweep(ps);
}

/* Reads comm and maps if /proc/PID is still this instance, else marks it gone. */
static void load_from_proc(struct procs *ps, struct proc *p)
{
	uint64_t ticks = proc_start_time(p->pid);
	char comm[sizeof(p->comm)];

	p->loaded = true;
	p->reload_gen = ps->gen;
	if (!p->start_time && !p->start_ns)
		p->start_time = ticks;
	if (!ticks || ticks != p->start_time || p->exited) {
		p->gone = true;
		load_snapshot(ps, p);
		return;
	}
	proc_read_comm(p->pid, comm, sizeof(comm));
	if (comm[0])	/* else keep the fork event's */
		memcpy(p->comm, comm, sizeof(comm));
	if (read_maps(p) < 0) {
		p->gone = true;
		load_snapshot(ps, p);
	}
}

void procs_set_snapshots(struct procs *ps, struct snapshots *snaps)
{
	ps->snaps = snaps;
}

static bool reload(struct procs *ps, struct proc *p);

static struct proc **slot_of(struct procs *ps, uint32_t pid, bool create)
{
	uint32_t idx;

	if (u64map_get(&ps->by_pid, pid, &idx))
		return &ps->heads[idx];
	if (!create)
		return NULL;
	XGROW(ps->heads, ps->alloc_heads, ps->nr_heads + 1);
	ps->heads[ps->nr_heads] = NULL;
	u64map_put(&ps->by_pid, pid, ps->nr_heads);
	return &ps->heads[ps->nr_heads++];
}

/* The instance of (pid, start_ns) if known; adopts one read from /proc
 * alone (start_ns 0) when its start time in ticks agrees. */
static struct proc *find_instance(struct procs *ps, uint32_t pid, uint64_t start_ns)
{
	struct proc **slot = slot_of(ps, pid, false);

	if (!slot || !*slot)
		return NULL;
	if (!start_ns)
		return *slot;
	for (struct proc *p = *slot; p; p = p->older) {
		if (p->start_ns == start_ns)
			return p;
		if (!p->start_ns && p->start_time == start_ns / ps->ns_per_tick) {
			p->start_ns = start_ns;
			return p;
		}
	}
	return NULL;
}

/* A new, not yet loaded instance, now the newest of its pid. */
static struct proc *new_instance(struct procs *ps, uint32_t pid, uint64_t start_ns)
{
	struct proc **slot = slot_of(ps, pid, true);
	struct proc *p = xcalloc(1, sizeof(*p));

	p->pid = pid;
	p->start_ns = start_ns;
	p->start_time = start_ns / ps->ns_per_tick;
	p->reload_gen = ps->gen;
	p->older = *slot;
	*slot = p;
	ps->nr_procs++;
	return p;
}

static void copy_maps(struct proc *dst, const struct proc *src)
{
	free_maps(dst);
	if (!src->nr_maps)
		return;
	dst->maps = xcalloc(src->nr_maps, sizeof(*dst->maps));
	for (uint32_t i = 0; i < src->nr_maps; i++) {
		dst->maps[i] = src->maps[i];
		dst->maps[i].path = xstrdup(src->maps[i].path);
	}
	dst->nr_maps = src->nr_maps;
}

/* Forks nest at most this deep before a child is read from /proc instead. */
#define FORK_DEPTH 16

static void load(struct procs *ps, struct proc *p, int depth)
{
	struct proc *parent;

	if (p->ppid && depth < FORK_DEPTH) {
		/* Not exec'd since the fork: the parent's mappings are its own,
		 * even when /proc already shows a later exec. */
		parent = find_instance(ps, p->ppid, p->parent_start_ns);
		if (!parent)
			parent = new_instance(ps, p->ppid, p->parent_start_ns);
		if (!parent->loaded)
			load(ps, parent, depth + 1);
		if (parent->nr_maps) {
			copy_maps(p, parent);
			p->loaded = true;
			p->reload_gen = ps->gen;
			/* Later misses (a dlopen after the fork) re-read /proc. */
			p->gone = p->exited;
			return;
		}
	}
	load_from_proc(ps, p);
}

struct proc *procs_lookup(struct procs *ps, uint32_t pid, uint64_t start_ns)
{
	struct proc *p = find_instance(ps, pid, start_ns);

	if (!p)
		p = new_instance(ps, pid, start_ns);
	if (!p->loaded)
		load(ps, p, 0);
	else if (p->reload_due_ns && !p->gone && !p->exited && now_ns() >= p->reload_due_ns)
		reload(ps, p);
	else if (p->gone && !p->nr_maps)
		load_snapshot(ps, p);	/* it may have come since */
	return p;
}

struct proc *procs_get(struct procs *ps, uint32_t pid)
{
	return procs_lookup(ps, pid, 0);
}

static void set_comm(struct proc *p, const char *comm)
{
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)sizeof(p->comm) - 1, comm);
}

void procs_exec(struct procs *ps, uint32_t pid, uint64_t start_ns, const char *comm,
		uint64_t exec_ns)
{
	struct proc *p = find_instance(ps, pid, start_ns);

	if (!p)
		p = new_instance(ps, pid, start_ns);
	p->ppid = 0;
	p->early = true;
	p->exec_ns = exec_ns;
	/* Maps read after the exec are the new program's already: a sample
	 * taken in the kernel during the exec, after the new name was set, can
	 * come before this event and have them read (or the snapshot taken)
	 * when the process is gone. */
	if (p->loaded && p->nr_maps && p->read_ns >= exec_ns) {
		set_comm(p, comm);
		return;
	}
	p->gone = false;
	free_maps(p);
	/* The snapshot thread has usually read it already (at its first
	 * sample): no second read. */
	if (load_snapshot(ps, p)) {
		p->loaded = true;
		p->reload_gen = ps->gen;
	} else {
		load_from_proc(ps, p);
	}
	set_comm(p, comm);
}

void procs_fork(struct procs *ps, uint32_t pid, uint64_t start_ns, uint32_t ppid,
		uint64_t parent_start_ns, const char *comm)
{
	struct proc *p = find_instance(ps, pid, start_ns);

	if (!p)
		p = new_instance(ps, pid, start_ns);
	p->ppid = ppid;
	p->parent_start_ns = parent_start_ns;
	set_comm(p, comm);
}

static void unlink_instance(struct procs *ps, struct proc *victim)
{
	struct proc **pp = slot_of(ps, victim->pid, false);

	for (; pp && *pp; pp = &(*pp)->older) {
		if (*pp == victim) {
			*pp = victim->older;
			break;
		}
	}
	/* Children that still point at it by (ppid, start) fall back to /proc. */
	proc_free(ps, victim);
	ps->nr_procs--;
}

void procs_exit(struct procs *ps, uint32_t pid, uint64_t start_ns)
{
	struct proc *p = find_instance(ps, pid, start_ns);

	if (!p || p->exited) {
		/* Never sampled: its snapshot, if any, is of no more use. */
		free(snapshots_take(ps->snaps, pid, start_ns, NULL));
		return;
	}
	p->exited = true;
	/* The snapshot thread's last read may hold libraries we have not seen;
	 * a few samples can still follow the exit event. */
	load_snapshot(ps, p);
	if (ps->nr_exited == PROCS_MAX_EXITED) {
		unlink_instance(ps, ps->exited[ps->exited_first]);
		ps->exited_first = (ps->exited_first + 1) % PROCS_MAX_EXITED;
		ps->nr_exited--;
	}
	ps->exited[(ps->exited_first + ps->nr_exited++) % PROCS_MAX_EXITED] = p;
}

static struct proc_map *find(const struct proc *p, uint64_t addr)
{
	uint32_t lo = 0, hi = p->nr_maps;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (addr < p->maps[mid].start)
			hi = mid;
		else if (addr >= p->maps[mid].end)
			lo = mid + 1;
		else
			return &p->maps[mid];
	}
	return NULL;
}

/* Could addr be in a user mapping at all (x86-64, 4-level or 5-level)? */
static bool user_addr(uint64_t addr)
{
	return addr >= 0x1000 && addr < (1ull << 56);
}

/* Re-reads p's maps from /proc, or marks it gone (and falls back to the
 * snapshot thread's text). Returns true if the maps changed. */
static bool reload(struct procs *ps, struct proc *p)
{
	p->early = false;
	p->reload_due_ns = 0;
	p->reload_gen = ps->gen;
	/* Gone, or the pid now names another process: its mappings would
	 * mislabel this one's addresses, so keep what we had (or what the
	 * snapshot thread read) and stop reading /proc for it. */
	if (proc_start_time(p->pid) != p->start_time || read_maps(p) < 0) {
		p->gone = true;
		return load_snapshot(ps, p);
	}
	p->ppid = 0;
	return true;
}

struct proc_map *proc_find_map(struct procs *ps, struct proc *p, uint64_t addr)
{
	struct proc_map *m = find(p, addr);

	if (m || !user_addr(addr))
		return m;
	if (p->gone || p->exited) {
		/* /proc has nothing more for it; the snapshot thread may. */
		return load_snapshot(ps, p) ? find(p, addr) : NULL;
	}
	if (p->reload_gen == ps->gen)
		return NULL;
	if (!p->early && now_ns() - p->read_ns < PROCS_RELOAD_NS) {
		/* Too soon: procs_lookup re-reads when it is time, and drops the
		 * frames named meanwhile (the symbolizer caches them per pc). */
		if (!p->reload_due_ns)
			p->reload_due_ns = p->read_ns + PROCS_RELOAD_NS;
		return NULL;
	}
	return reload(ps, p) ? find(p, addr) : NULL;
}

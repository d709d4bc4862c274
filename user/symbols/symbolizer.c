/* Address in a process -> profile frames: user (through the object cache,
 * perf maps and the vDSO) and kernel (kallsyms), cached per process. */
#include "symbols/symbolizer.h"
#include "symbols/objfile.h"
#include "symbols/kallsyms.h"
#include "symbols/perfmap.h"
#include "symbols/symcache.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CHAIN_BIT (1u << 31)

struct symbolizer {
	struct profile *prof;
	struct symbolizer_opts opts;
	struct symcache *cache;
	struct ksyms *ksyms;
	struct u64map kframes;	/* kernel ip -> frame */
	/* Frame chains of addresses with inlined calls: [n, id0, id1, ...]. */
	frame_id_t *chains;
	size_t nr_chains, alloc_chains;
	struct idx_table chain_index;	/* each chain once: every process of a
					 * program asks for the same ones */
	uint32_t nr_loose;	/* [unmapped] and [exited] frames made, by address */
	struct procs *procs;	/* the one it serves, whose instances carry a sym_proc */
	int attach;		/* our index in their attached[] */
	uint32_t gen;		/* bumped by symbolizer_retarget */
};

/* What the symbolizer keeps per process instance (procs frees it with the
 * instance: sym_proc_free). */
struct sym_proc {
	struct u64map ip_frames;	/* ip -> profile frame id, or chain | CHAIN_BIT */
	uint32_t maps_gen;		/* of the maps ip_frames was filled from */
	uint32_t gen;			/* the symbolizer's gen when filled */
	struct perfmap *perfmap;	/* JIT symbols (/tmp/perf-NSPID.map), or NULL */
	bool perfmap_tried;
	size_t perfmap_skipped;		/* its skipped lines already counted */
};

static void sym_proc_free(void *data)
{
	struct sym_proc *sp = data;

	u64map_free(&sp->ip_frames);
	perfmap_free(sp->perfmap);
	free(sp);
}

/* p's sym_proc, made on first use. A symbolizer serves one procs for its
 * life; the first one it is given. */
static struct sym_proc *sym_proc_of(struct symbolizer *s, struct procs *ps, struct proc *p)
{
	struct sym_proc *sp;

	if (s->procs != ps) {
		s->procs = ps;
		s->attach = procs_attach_register(ps, sym_proc_free);
		if (s->attach < 0)
			abort();	/* a bug: PROCS_MAX_ATTACH counts the stages that attach */
	}
	sp = p->attached[s->attach];
	if (!sp) {
		sp = xcalloc(1, sizeof(*sp));
		sp->maps_gen = p->maps_gen;
		sp->gen = s->gen;
		p->attached[s->attach] = sp;
	}
	/* Other maps (exec, dlopen): what an address names may have changed;
	 * another profile: its frame ids are another's. */
	if (sp->maps_gen != p->maps_gen || sp->gen != s->gen) {
		u64map_clear(&sp->ip_frames);
		sp->maps_gen = p->maps_gen;
		sp->gen = s->gen;
	}
	return sp;
}

/* Addresses outside any mapping differ in every process (ASLR): past this
 * many distinct ones, they share one frame per kind, without the address,
 * so that process churn cannot grow the frame table without end. */
#define SYMBOLIZER_MAX_LOOSE 4096

struct symbolizer *symbolizer_new(struct profile *prof, const struct symbolizer_opts *o)
{
	struct symbolizer *s = xcalloc(1, sizeof(*s));
	struct symcache_opts co = { .no_demangle = o->no_demangle, .lines = o->lines,
				    .mem_budget = o->mem_budget };

	s->prof = prof;
	s->opts = *o;
	s->cache = symcache_new(&co);
	if (o->kernel)
		s->ksyms = ksyms_load();
	return s;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	symcache_free(s->cache);
	objfile_forget_open();
	ksyms_free(s->ksyms);
	u64map_free(&s->kframes);
	free(s->chains);
	idx_free(&s->chain_index);
	free(s);
}

void symbolizer_retarget(struct symbolizer *s, struct profile *prof)
{
	s->prof = prof;
	u64map_clear(&s->kframes);
	s->nr_chains = 0;
	idx_clear(&s->chain_index);
	s->nr_loose = 0;
	s->gen++;	/* each process's ip_frames, emptied at its next use */
}

/* "[unknown] module+0xoff", or for a function (is_fn) "[unknown] module (fn@0xoff)". */
static frame_id_t unknown_frame(struct symbolizer *s, const char *module, uint64_t off, bool is_fn)
{
	struct strbuf sb = STRBUF_INIT;
	struct frame f = { .module = module, .addr = off, .kind = FRAME_NATIVE,
			   .flags = FRAME_F_UNKNOWN };
	frame_id_t id;

	strbuf_addf(&sb, is_fn ? "[unknown] %s (fn@0x%" PRIx64 ")" : "[unknown] %s+0x%" PRIx64,
		    module[0] ? module_basename(module) : "?", off);
	f.name = sb.buf;
	id = profile_frame(s->prof, &f);
	strbuf_release(&sb);
	return id;
}

/* Code no symbol names but an unwind record places in a function: one frame
 * for every address of that function, "[unknown] libc.so.6 (fn@0x271a0)"
 * (the function's start, an ELF virtual address), so that its samples add
 * up as a named function's do. Else one frame per address. */
static frame_id_t unnamed_frame(struct symbolizer *s, const struct sym_obj *o,
				const char *module, uint64_t vaddr)
{
	uint64_t start;

	if (!symcache_function_start(o, vaddr, &start))
		return unknown_frame(s, module, start, true);
	return unknown_frame(s, module, vaddr, false);
}

/* An address in no mapping: "[unknown] [unmapped]+0x7f..." while there are
 * few, then "[unknown] [unmapped]". */
static frame_id_t loose_frame(struct symbolizer *s, const char *what, uint64_t pc)
{
	struct strbuf sb = STRBUF_INIT;
	struct frame f = { .module = what, .kind = FRAME_NATIVE, .flags = FRAME_F_UNKNOWN };
	frame_id_t id;

	if (s->nr_loose < SYMBOLIZER_MAX_LOOSE) {
		size_t before = s->prof->nr_frames;

		id = unknown_frame(s, what, pc, false);
		s->nr_loose += s->prof->nr_frames != before;
		return id;
	}
	strbuf_addf(&sb, "[unknown] %s", what);
	f.name = sb.buf;
	id = profile_frame(s->prof, &f);
	strbuf_release(&sb);
	return id;
}

/* Re-reads sp's perf map (what was appended since); the lines it skipped
 * are counted in the profile, so that unnamed JIT code says why. Returns
 * perfmap_refresh's value. */
static int refresh_perfmap(struct symbolizer *s, struct sym_proc *sp)
{
	int n = perfmap_refresh(sp->perfmap);
	size_t skipped = sp->perfmap->bad_lines + sp->perfmap->dropped;

	if (skipped > sp->perfmap_skipped) {
		s->prof->meta.counters[PC_JIT_MAP_SKIPPED] += skipped - sp->perfmap_skipped;
		sp->perfmap_skipped = skipped;
	}
	return n;
}

/* JIT code: the process's perf map, re-read when an address is missing. */
static bool jit_frame(struct symbolizer *s, struct sym_proc *sp, struct proc *p, uint64_t pc,
		      frame_id_t *out)
{
	const struct perfmap_sym *js;
	struct frame f = { .module = "[jit]", .kind = FRAME_NATIVE, .flags = FRAME_F_JIT };

	if (!sp->perfmap_tried && !p->gone) {
		char path[128];

		sp->perfmap_tried = true;
		char root[64];

		snprintf(root, sizeof(root), "/proc/%u/root", p->pid);
		snprintf(path, sizeof(path), "/tmp/perf-%u.map", proc_ns_pid(p->pid));
		sp->perfmap = perfmap_new(root, path);
		if (sp->perfmap)
			refresh_perfmap(s, sp);
	}
	if (!sp->perfmap)
		return false;
	js = perfmap_lookup(sp->perfmap, pc);
	if (!js && refresh_perfmap(s, sp) > 0)
		js = perfmap_lookup(sp->perfmap, pc);
	if (!js)
		return false;
	f.name = perfmap_name(sp->perfmap, js);
	if (!f.name[0])
		return false;
	f.addr = js->start;
	*out = profile_frame(s->prof, &f);
	return true;
}

static uint32_t intern_frames(struct symbolizer *s, struct frame *fr, uint32_t n,
			      const char *module, frame_id_t *out)
{
	for (uint32_t i = 0; i < n; i++) {
		fr[i].module = module;
		out[i] = profile_frame(s->prof, &fr[i]);
	}
	return n;
}

static uint32_t resolve_user(struct symbolizer *s, struct procs *ps, struct proc *p,
			     struct sym_proc *sp, uint64_t pc, frame_id_t *out, uint32_t max)
{
	struct proc_map *m = proc_find_map(ps, p, pc);
	struct frame fr[SYMBOLIZER_MAX_DEPTH];
	struct sym_obj *o;
	uint64_t off, vaddr;
	uint32_t n;

	if (max > SYMBOLIZER_MAX_DEPTH)
		max = SYMBOLIZER_MAX_DEPTH;
	if (!m || (m->flags & MAP_F_ANON)) {
		if (jit_frame(s, sp, p, pc, out))
			return 1;
		if (!m)
			return (out[0] = loose_frame(s, p->gone ? "[exited]" : "[unmapped]", pc)), 1;
		return (out[0] = unknown_frame(s, "[anon]", pc - m->start, false)), 1;
	}
	off = pc - m->start + m->pgoff;
	if (m->flags & MAP_F_SPECIAL) {
		off = pc - m->start;
		o = !strcmp(m->path, "[vdso]") ? symcache_vdso(s->cache, m->end - m->start) : NULL;
	} else {
		o = symcache_map_object(s->cache, p, m);
	}
	if (!o || symcache_offset_to_vaddr(o, off, &vaddr) < 0)
		return (out[0] = unknown_frame(s, m->path, off, false)), 1;
	n = symcache_frames(s->cache, o, vaddr, true, fr, max);
	if (!n)
		return (out[0] = unnamed_frame(s, o, m->path, vaddr)), 1;
	return intern_frames(s, fr, n, m->path, out);
}

struct chain_key {
	const frame_id_t *frames;
	uint32_t n;
};

static int chain_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct symbolizer *s = ctx;
	const struct chain_key *k = key;

	return s->chains[id] == k->n && !memcmp(&s->chains[id + 1], k->frames, k->n * sizeof(frame_id_t));
}

/* The offset of chain frames[0..n) in s->chains, added if new; IDX_NONE
 * once the offsets would collide with CHAIN_BIT. */
static uint32_t intern_chain(struct symbolizer *s, const frame_id_t *frames, uint32_t n)
{
	struct chain_key k = { frames, n };
	uint64_t h = hash_bytes(frames, n * sizeof(*frames), HASH_SEED ^ n);
	uint32_t id = idx_find(&s->chain_index, h, chain_eq, &k, s);

	if (id != IDX_NONE || s->nr_chains + n + 1 >= CHAIN_BIT)
		return id;
	XGROW(s->chains, s->alloc_chains, s->nr_chains + n + 1);
	id = (uint32_t)s->nr_chains;
	s->chains[id] = n;
	memcpy(&s->chains[id + 1], frames, n * sizeof(*frames));
	s->nr_chains += n + 1;
	idx_insert(&s->chain_index, h, id);
	return id;
}

uint32_t symbolizer_user_frames(struct symbolizer *s, struct procs *ps, struct proc *p,
				uint64_t ip, bool is_return, frame_id_t *out, uint32_t max)
{
	uint64_t pc = is_return && ip ? ip - 1 : ip;
	struct sym_proc *sp = sym_proc_of(s, ps, p);
	uint32_t id, n;

	if (u64map_get(&sp->ip_frames, pc, &id)) {
		if (!(id & CHAIN_BIT)) {
			out[0] = id;
			return 1;
		}
		id &= ~CHAIN_BIT;
		n = s->chains[id] < max ? s->chains[id] : max;
		memcpy(out, &s->chains[id + 1], n * sizeof(*out));
		return n;
	}
	n = resolve_user(s, ps, p, sp, pc, out, max ? max : 1);
	sp = sym_proc_of(s, ps, p);	/* the lookup may have re-read the maps */
	if (n == 1) {
		u64map_put(&sp->ip_frames, pc, out[0]);
	} else if ((id = intern_chain(s, out, n)) != IDX_NONE) {
		u64map_put(&sp->ip_frames, pc, id | CHAIN_BIT);
	}
	return n;
}

frame_id_t symbolizer_user(struct symbolizer *s, struct procs *ps, struct proc *p, uint64_t ip,
			   bool is_return)
{
	frame_id_t f[SYMBOLIZER_MAX_DEPTH];

	symbolizer_user_frames(s, ps, p, ip, is_return, f, SYMBOLIZER_MAX_DEPTH);
	return f[0];
}

uint32_t symbolizer_file(struct symbolizer *s, const char *path, uint64_t vaddr,
			 struct frame *out, uint32_t max)
{
	struct sym_obj *o = symcache_file(s->cache, path);

	if (!o)
		return 0;
	if (max > SYMBOLIZER_MAX_DEPTH)
		max = SYMBOLIZER_MAX_DEPTH;
	return symcache_frames(s->cache, o, vaddr, false, out, max);
}

frame_id_t symbolizer_kernel(struct symbolizer *s, uint64_t ip)
{
	const struct ksym *k;
	struct frame f = { .module = "[kernel]", .kind = FRAME_KERNEL };
	uint32_t id;

	if (u64map_get(&s->kframes, ip, &id))
		return id;
	k = s->ksyms ? ksyms_lookup(s->ksyms, ip) : NULL;
	if (k) {
		f.name = k->name;
		f.addr = k->addr;
		id = profile_frame(s->prof, &f);
	} else {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "[unknown] [kernel]+0x%" PRIx64, ip);
		f.name = sb.buf;
		f.addr = ip;
		f.flags = FRAME_F_UNKNOWN;
		id = profile_frame(s->prof, &f);
		strbuf_release(&sb);
	}
	u64map_put(&s->kframes, ip, id);
	return id;
}

bool symbolizer_kernel_hidden(const struct symbolizer *s)
{
	return s->ksyms && s->ksyms->hidden;
}

void symbolizer_stats(const struct symbolizer *s, uint32_t *objects, uint64_t *symbols)
{
	symcache_stats(s->cache, objects, symbols);
}

void symbolizer_mem(const struct symbolizer *s, uint64_t *parses, uint64_t *bytes)
{
	symcache_mem(s->cache, parses, bytes);
}

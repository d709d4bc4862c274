/* Address -> frame for user and kernel addresses, with a per-object cache. */
#include "symbolizer.h"
#include "elf_syms.h"
#include "kallsyms.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct obj_entry {
	uint64_t dev, ino, size, mtime;
	struct elf_obj *obj;	/* NULL: could not be parsed (remembered) */
};

struct symbolizer {
	struct profile *prof;
	struct symbolizer_opts opts;
	struct obj_entry *objs;
	size_t nr_objs, alloc_objs;
	struct idx_table obj_index;
	struct ksyms *ksyms;
	struct u64map kframes;	/* kernel ip -> frame */
};

struct symbolizer *symbolizer_new(struct profile *prof, const struct symbolizer_opts *o)
{
	struct symbolizer *s = xcalloc(1, sizeof(*s));

	s->prof = prof;
	s->opts = *o;
	if (o->kernel)
		s->ksyms = ksyms_load();
	return s;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr_objs; i++)
		elf_obj_free(s->objs[i].obj);
	free(s->objs);
	idx_free(&s->obj_index);
	ksyms_free(s->ksyms);
	u64map_free(&s->kframes);
	free(s);
}

static int obj_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct symbolizer *s = ctx;
	const struct obj_entry *a = &s->objs[id], *b = key;

	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime == b->mtime;
}

/* The parsed object behind a mapping, keyed by file identity so that every
 * process sharing a library shares one parse. NULL if unreadable. */
static struct elf_obj *object_for(struct symbolizer *s, const struct proc *p,
				  const struct proc_map *m)
{
	struct obj_entry key = { 0 };
	char path[4200];
	struct stat st;
	uint64_t h;
	uint32_t id;

	if (proc_map_stat(p, m, path, sizeof(path), &st) < 0)
		return NULL;
	key.dev = st.st_dev;
	key.ino = st.st_ino;
	key.size = st.st_size;
	key.mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + st.st_mtim.tv_nsec;
	h = hash_bytes(&key, sizeof(key) - sizeof(key.obj), HASH_SEED);
	id = idx_find(&s->obj_index, h, obj_eq, &key, s);
	if (id != IDX_NONE)
		return s->objs[id].obj;
	if (elf_obj_open(path, &key.obj) < 0)
		key.obj = NULL;
	XGROW(s->objs, s->alloc_objs, s->nr_objs + 1);
	s->objs[s->nr_objs] = key;
	idx_insert(&s->obj_index, h, s->nr_objs);
	return s->objs[s->nr_objs++].obj;
}

static frame_id_t unknown_frame(struct symbolizer *s, const char *module, uint64_t off)
{
	struct strbuf sb = STRBUF_INIT;
	struct frame f = { .module = module, .addr = off, .kind = FRAME_NATIVE,
			   .flags = FRAME_F_UNKNOWN };
	frame_id_t id;

	strbuf_addf(&sb, "[unknown] %s+0x%" PRIx64, module[0] ? module_basename(module) : "?",
		    off);
	f.name = sb.buf;
	id = profile_frame(s->prof, &f);
	strbuf_release(&sb);
	return id;
}

static frame_id_t resolve_user(struct symbolizer *s, struct procs *ps, struct proc *p,
			       uint64_t pc)
{
	const struct proc_map *m = proc_find_map(ps, p, pc);
	const struct elf_sym *sym;
	struct elf_obj *obj;
	uint64_t off, vaddr;
	struct frame f = { .kind = FRAME_NATIVE };

	if (!m) {
		return unknown_frame(s, p->gone ? "[exited]" : "[unmapped]", pc);
	}
	off = pc - m->start + m->pgoff;
	if (m->flags & (MAP_F_ANON | MAP_F_SPECIAL))
		return unknown_frame(s, m->path[0] ? m->path : "[anon]", pc - m->start);
	obj = object_for(s, p, m);
	if (!obj || elf_obj_offset_to_vaddr(obj, off, &vaddr) < 0)
		return unknown_frame(s, m->path, off);
	sym = elf_obj_lookup(obj, vaddr);
	if (!sym)
		return unknown_frame(s, m->path, vaddr);
	f.name = elf_sym_name(obj, sym);
	f.module = m->path;
	f.addr = sym->addr;
	return profile_frame(s->prof, &f);
}

frame_id_t symbolizer_user(struct symbolizer *s, struct procs *ps, struct proc *p, uint64_t ip,
			   bool is_return)
{
	uint64_t pc = is_return && ip ? ip - 1 : ip;
	uint32_t id;

	if (u64map_get(&p->ip_frames, pc, &id))
		return id;
	id = resolve_user(s, ps, p, pc);
	u64map_put(&p->ip_frames, pc, id);
	return id;
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
	*objects = 0;
	*symbols = 0;
	for (size_t i = 0; i < s->nr_objs; i++) {
		if (!s->objs[i].obj)
			continue;
		(*objects)++;
		*symbols += s->objs[i].obj->nr_syms;
	}
}

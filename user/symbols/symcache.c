/* Parsed objects cached by file identity; (object, vaddr) -> frames. */
#include "symbols/symcache.h"
#include "symbols/debuginfo.h"
#include "symbols/demangle.h"
#include "symbols/elf_syms.h"
#include "symbols/objfile.h"
#include "base/rootfs.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One parsed file, shared by every process that maps it. */
struct sym_obj {
	struct objfile_id id;	/* the cache key */
	char *path;		/* how to open it again (after eviction): under root, or */
	bool direct;		/* ... as is (/proc/PID/map_files/..., addr2line's file) */
	char *root;		/* "/proc/PID/root" of the process it was found in, or "" */
	char *ns_path;		/* its path inside that process's mount namespace */
	char *dwarf_root;	/* where its DWARF is (itself or its debug file): */
	char *dwarf_path;	/* dwarf_path under dwarf_root (or direct), or NULL */
	bool dwarf_direct;
	struct elf_obj *elf;	/* NULL: unreadable, or evicted (then loaded == false) */
	const char **disp;	/* per symbol: demangled name, lazily (NULL: not yet) */
	struct dwarf_lines *dwarf;
	bool loaded, dwarf_tried;
	uint64_t bytes;		/* memory held, for the budget */
	uint64_t last_use;
};

struct symcache {
	struct symcache_opts opts;
	struct sym_obj **objs;
	size_t nr_objs, alloc_objs;
	struct idx_table obj_index;
	uint64_t bytes, clock, parses;
	struct sym_obj *vdso;
	/* symcache_file's last file, so repeated lookups skip the open. */
	char *file_path;
	long file_id;
	/* Strings made for the frames of the current lookup. */
	char *scratch[SYMCACHE_MAX_DEPTH + 1];
	int nr_scratch;
};

struct symcache *symcache_new(const struct symcache_opts *o)
{
	struct symcache *s = xcalloc(1, sizeof(*s));

	s->opts = *o;
	if (!s->opts.mem_budget)
		s->opts.mem_budget = SYMCACHE_MEM_BUDGET;
	return s;
}

static void obj_unload(struct symcache *s, struct sym_obj *o)
{
	if (o->disp && o->elf) {
		for (uint32_t i = 0; i < o->elf->nr_syms; i++) {
			const char *d = o->disp[i];

			if (d && (d < o->elf->names || d >= o->elf->names + o->elf->names_len))
				free((char *)d);
		}
	}
	free(o->disp);
	o->disp = NULL;
	elf_obj_free(o->elf);
	o->elf = NULL;
	dwarf_lines_free(o->dwarf);
	o->dwarf = NULL;
	o->dwarf_tried = false;
	o->loaded = false;
	s->bytes -= o->bytes;
	o->bytes = 0;
}

static void obj_free(struct symcache *s, struct sym_obj *o)
{
	if (!o)
		return;
	obj_unload(s, o);
	free(o->path);
	free(o->root);
	free(o->ns_path);
	free(o->dwarf_root);
	free(o->dwarf_path);
	free(o);
}

static void clear_scratch(struct symcache *s)
{
	for (int i = 0; i < s->nr_scratch; i++)
		free(s->scratch[i]);
	s->nr_scratch = 0;
}

void symcache_free(struct symcache *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr_objs; i++)
		obj_free(s, s->objs[i]);
	free(s->objs);
	obj_free(s, s->vdso);
	idx_free(&s->obj_index);
	free(s->file_path);
	clear_scratch(s);
	free(s);
}

static int obj_open(const struct sym_obj *o)
{
	return o->direct ? rootfs_open_direct(o->path) : rootfs_open(o->root, o->path);
}

static void set_dwarf(struct sym_obj *o, const char *root, const char *path, bool direct)
{
	o->dwarf_root = xstrdup(root);
	o->dwarf_path = xstrdup(path);
	o->dwarf_direct = direct;
}

/* Parses the object (fd, or opened again when -1) with its separate debug
 * information. Takes over fd. */
static void obj_load(struct symcache *s, struct sym_obj *o, int fd)
{
	struct elf_obj *dbg = NULL;
	const char *droot;
	char dpath[4200];

	o->loaded = true;
	s->parses++;
	if (fd < 0)
		fd = obj_open(o);
	if (fd < 0 || elf_obj_open_fd(fd, o->ns_path, &o->elf) < 0) {
		if (fd >= 0)
			close(fd);
		o->elf = NULL;
		return;
	}
	close(fd);
	if (!o->elf->has_symtab || (s->opts.lines && !o->elf->has_dwarf)) {
		if (!debuginfo_find(o->elf, o->root, o->ns_path, &dbg, dpath, sizeof(dpath), &droot)) {
			if (dbg->has_symtab && !o->elf->has_symtab)
				elf_obj_take_syms(o->elf, dbg);
			if (dbg->has_dwarf && !o->dwarf_path)
				set_dwarf(o, droot, dpath, false);
			elf_obj_free(dbg);
			dbg = NULL;
		}
	}
	/* MiniDebugInfo holds the local functions that .dynsym lacks. */
	if (!o->elf->has_symtab && o->elf->debugdata && !debuginfo_minidebug(o->elf, &dbg)) {
		elf_obj_merge_syms(o->elf, dbg);
		elf_obj_free(dbg);
	}
	if (o->elf->has_dwarf && !o->dwarf_path)
		set_dwarf(o, o->root, o->path, o->direct);
	o->bytes = sizeof(*o) + o->elf->nr_syms * (sizeof(struct elf_sym) + sizeof(char *)) +
		   o->elf->names_len + o->elf->nr_fdes * sizeof(struct eh_frame_fde);
	s->bytes += o->bytes;
}

/* Drops the least recently used parsed objects while over the budget. */
static void enforce_budget(struct symcache *s, const struct sym_obj *keep)
{
	while (s->bytes > s->opts.mem_budget) {
		struct sym_obj *lru = NULL;

		for (size_t i = 0; i < s->nr_objs; i++) {
			struct sym_obj *o = s->objs[i];

			if (o != keep && o->elf && (!lru || o->last_use < lru->last_use))
				lru = o;
		}
		if (!lru)
			return;
		obj_unload(s, lru);
	}
}

static struct sym_obj *obj_use(struct symcache *s, struct sym_obj *o, int fd)
{
	o->last_use = ++s->clock;
	if (!o->loaded) {
		obj_load(s, o, fd);
		enforce_budget(s, o);
	} else if (fd >= 0) {
		close(fd);
	}
	return o->elf ? o : NULL;
}

static int obj_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct symcache *s = ctx;

	return objfile_id_eq(&s->objs[id]->id, key);
}

/* The cached object for the file of identity fid; a new one remembers how to
 * open it again (path under root, or direct) and where it lives for the
 * process (ns_path under root, for debug files). Returns its id. */
static long obj_find_or_add(struct symcache *s, const struct objfile_id *fid, const char *root,
			    const char *path, bool direct, const char *ns_path)
{
	uint64_t h = objfile_id_hash(fid);
	struct sym_obj *o;
	uint32_t id;

	id = idx_find(&s->obj_index, h, obj_eq, fid, s);
	if (id != IDX_NONE)
		return id;
	o = xcalloc(1, sizeof(*o));
	o->id = *fid;
	o->path = xstrdup(path);
	o->direct = direct;
	o->root = xstrdup(root);
	o->ns_path = xstrdup(ns_path);
	XGROW(s->objs, s->alloc_objs, s->nr_objs + 1);
	s->objs[s->nr_objs] = o;
	idx_insert(&s->obj_index, h, s->nr_objs);
	return s->nr_objs++;
}

static const char *display_name(struct symcache *s, struct sym_obj *o, const struct elf_sym *sym)
{
	const char *raw = elf_sym_name(o->elf, sym);
	size_t i = sym - o->elf->syms;
	char *d;

	if (s->opts.no_demangle || !demangle_is_mangled(raw))
		return raw;
	if (!o->disp) {
		o->disp = xcalloc(o->elf->nr_syms ? o->elf->nr_syms : 1, sizeof(*o->disp));
	}
	if (!o->disp[i]) {
		d = demangle(raw);
		o->disp[i] = d ? d : raw;
	}
	return o->disp[i];
}

/* A name from DWARF, demangled into scratch space when needed. */
static const char *dwarf_name(struct symcache *s, const char *name)
{
	char *d;

	if (!name || s->opts.no_demangle || s->nr_scratch >= (int)ARRAY_SIZE(s->scratch))
		return name;
	d = demangle(name);
	if (!d)
		return name;
	s->scratch[s->nr_scratch++] = d;
	return d;
}

/* The symbol names the real function; DWARF its file:line and inlined calls. */
uint32_t symcache_frames(struct symcache *s, struct sym_obj *o, uint64_t vaddr, bool decl,
			 struct frame *out, uint32_t max)
{
	const struct elf_sym *sym = elf_obj_lookup(o->elf, vaddr);
	struct src_frame src[SYMCACHE_MAX_DEPTH];
	int k = 0;

	clear_scratch(s);

	if (s->opts.lines && !o->dwarf_tried) {
		o->dwarf_tried = true;
		if (o->dwarf_path &&
		    dwarf_lines_open_fd(o->dwarf_direct ? rootfs_open_direct(o->dwarf_path) :
							  rootfs_open(o->dwarf_root, o->dwarf_path),
					&o->dwarf) < 0)
			o->dwarf = NULL;
	}
	if (s->opts.lines && o->dwarf)
		k = dwarf_lines_lookup(o->dwarf, vaddr, src,
				       max < SYMCACHE_MAX_DEPTH ? max : SYMCACHE_MAX_DEPTH);
	for (int i = 0; i < k; i++) {
		struct frame *f = &out[i];

		memset(f, 0, sizeof(*f));
		f->kind = FRAME_NATIVE;
		f->addr = sym ? sym->addr : vaddr;
		/* The symbol names the real function; DWARF names inlined ones. */
		f->name = i == 0 && sym ? display_name(s, o, sym) : dwarf_name(s, src[i].name);
		f->file = decl ? src[i].decl_file : src[i].file;
		f->line = decl ? src[i].decl_line : src[i].line;
		if (decl && !f->file) {
			f->file = src[i].file;
			f->line = src[i].line;
		}
		if (i > 0)
			f->flags |= FRAME_F_INLINED;
		if (!f->name)
			return i;	/* the chain stops at a nameless function */
	}
	if (k > 0)
		return k;
	if (!sym)
		return 0;
	memset(out, 0, sizeof(*out));
	out->kind = FRAME_NATIVE;
	out->name = display_name(s, o, sym);
	out->addr = sym->addr;
	return 1;
}

struct sym_obj *symcache_map_object(struct symcache *s, const struct proc *p,
				    struct proc_map *m)
{
	struct objfile_where w;
	struct objfile_id fid;
	long id;
	int fd;

	if (m->obj)
		return obj_use(s, s->objs[m->obj - 1], -1);
	fd = objfile_open_map(p->pid, m, &w, &fid);
	if (fd < 0)
		return NULL;
	id = obj_find_or_add(s, &fid, w.root, w.path, w.direct, m->path);
	m->obj = (uint32_t)id + 1;
	return obj_use(s, s->objs[id], fd);
}

/* This process's vDSO image is the kernel's for every 64-bit process. */
struct sym_obj *symcache_vdso(struct symcache *s, uint64_t want_size)
{
	uint64_t base, size;

	if (s->vdso)
		return s->vdso->elf && s->vdso->id.size == want_size ? s->vdso : NULL;
	s->vdso = xcalloc(1, sizeof(*s->vdso));
	s->vdso->loaded = true;
	proc_self_vdso(&base, &size);
	s->vdso->id.size = size;
	if (size && elf_obj_from_mem((const void *)(uintptr_t)base, size, "[vdso]", &s->vdso->elf))
		s->vdso->elf = NULL;
	return s->vdso->elf && size == want_size ? s->vdso : NULL;
}

struct sym_obj *symcache_file(struct symcache *s, const char *path)
{
	long id;

	if (s->file_path && !strcmp(s->file_path, path)) {
		id = s->file_id;
		return id < 0 ? NULL : obj_use(s, s->objs[id], -1);
	} else {
		int fd = rootfs_open_direct(path);
		struct objfile_id fid;

		id = fd < 0 || objfile_id_of_fd(fd, &fid) ? -1 :
		     obj_find_or_add(s, &fid, "", path, true, path);
		free(s->file_path);
		s->file_path = xstrdup(path);
		s->file_id = id;
		if (id < 0) {
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		return obj_use(s, s->objs[id], fd);
	}
}

const struct elf_obj *symcache_elf(const struct sym_obj *o)
{
	return o->elf;
}

int symcache_offset_to_vaddr(const struct sym_obj *o, uint64_t off, uint64_t *vaddr)
{
	return elf_obj_offset_to_vaddr(o->elf, off, vaddr);
}

int symcache_function_start(const struct sym_obj *o, uint64_t vaddr, uint64_t *start)
{
	const struct eh_frame_fde *f = elf_obj_fde(o->elf, vaddr);

	if (!f)
		return -ENOENT;
	*start = f->start;
	return 0;
}

void symcache_stats(const struct symcache *s, uint32_t *objects, uint64_t *symbols)
{
	*objects = 0;
	*symbols = 0;
	for (size_t i = 0; i < s->nr_objs; i++) {
		if (!s->objs[i]->elf)
			continue;
		(*objects)++;
		*symbols += s->objs[i]->elf->nr_syms;
	}
}

void symcache_mem(const struct symcache *s, uint64_t *parses, uint64_t *bytes)
{
	*parses = s->parses;
	*bytes = s->bytes;
}

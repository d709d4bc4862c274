/* A function's entry by name (--scope FUNC): object file and file offset. */
#include "symbols/funcaddr.h"
#include "symbols/demangle.h"
#include "symbols/symcache.h"
#include "procs/procs.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ELF virtual address -> file offset, in the executable segment holding it
 * (a uprobe goes on code). Returns 0 or -ENOENT. */
static int vaddr_to_offset(const struct elf_obj *o, uint64_t vaddr, uint64_t *off)
{
	for (uint32_t i = 0; i < o->nr_segs; i++) {
		const struct elf_seg *g = &o->segs[i];

		if ((g->flags & 1 /* PF_X */) && vaddr >= g->vaddr && vaddr - g->vaddr < g->filesz) {
			*off = vaddr - g->vaddr + g->offset;
			return 0;
		}
	}
	return -ENOENT;
}

/* The last identifier of func ("handle" of "ns::Server::handle"): a mangled
 * name that lacks it cannot match, and is not demangled. */
static void last_component(const char *func, char *out, size_t size)
{
	const char *p = func, *colons, *paren = strchrnul(func, '(');

	while ((colons = strstr(p, "::")) && colons < paren)
		p = colons + 2;
	snprintf(out, size, "%.*s", (int)(paren - p), p);
}

static bool name_matches(const char *sym, const char *func, const char *last)
{
	size_t len = strlen(func);
	bool hit;
	char *d;

	if (!strcmp(sym, func))
		return true;
	if (!demangle_is_mangled(sym) || !strstr(sym, last))
		return false;
	d = demangle(sym);
	if (!d)
		return false;
	/* Whole, or without its parameters (every overload). */
	hit = !strncmp(d, func, len) && (d[len] == 0 || d[len] == '(');
	free(d);
	return hit;
}

/* Adds the entry at vaddr of o (path: the object for the kernel), once.
 * Returns 1 if it is new, else 0. */
static uint32_t add_loc(const struct elf_obj *o, const char *path, uint64_t vaddr,
			struct funcaddr *out)
{
	struct funcaddr_loc *l;
	uint64_t off;

	if (vaddr_to_offset(o, vaddr, &off))
		return 0;
	for (uint32_t i = 0; i < out->nr; i++)
		if (out->loc[i].vaddr == vaddr && !strcmp(out->loc[i].path, path))
			return 0;
	if (out->nr == FUNCADDR_MAX) {
		out->more++;
		return 1;
	}
	l = &out->loc[out->nr++];
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->offset = off;
	l->vaddr = vaddr;
	return 1;
}

/* The object's own .symtab and .dynsym, every alias: the parsed table
 * keeps one name per address (libc's __nanosleep, not nanosleep). */
static uint32_t find_aliases(const struct elf_obj *o, const char *path, const char *func,
			     const char *last, struct funcaddr *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint32_t found = 0;
	Elf_Scn *scn = NULL;
	Elf *elf;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (elf && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < data->d_size / sh.sh_entsize; i++) {
			char name[1024];
			const char *n;
			GElf_Sym sym;
			int type;

			if (!gelf_getsym(data, i, &sym))
				break;
			type = GELF_ST_TYPE(sym.st_info);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
			    !sym.st_value || !(n = elf_strptr(elf, sh.sh_link, sym.st_name)))
				continue;
			/* "name@@VERSION" in .symtab: the name. */
			snprintf(name, sizeof(name), "%.*s", (int)(strchrnul(n + !!*n, '@') - n), n);
			if (name_matches(name, func, last))
				found += add_loc(o, path, sym.st_value, out);
		}
	}
	elf_end(elf);
	close(fd);
	return found;
}

/* Collects o's functions named func into out (path: the object for the
 * kernel). Returns the number found. */
static uint32_t find_in(const struct elf_obj *o, const char *path, const char *func,
			struct funcaddr *out)
{
	uint32_t found = 0;
	char last[256];

	last_component(func, last, sizeof(last));
	for (uint32_t i = 0; i < o->nr_syms; i++) {
		const struct elf_sym *s = &o->syms[i];

		/* Labels are no function entries. */
		if (s->rank <= 2 && name_matches(elf_sym_name(o, s), func, last))
			found += add_loc(o, path, s->addr, out);
	}
	return found ? found : find_aliases(o, path, func, last, out);
}

static struct symcache *new_cache(void)
{
	struct symcache_opts so = { .no_demangle = true };

	return symcache_new(&so);
}

int funcaddr_find_file(const char *path, const char *func, struct funcaddr *out)
{
	struct symcache *c;
	struct sym_obj *o;
	int err = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->where, sizeof(out->where), "%s", path);
	if (access(path, R_OK) < 0)
		return -errno;
	c = new_cache();
	o = symcache_file(c, path);
	if (!o)
		err = -ENOEXEC;
	else if (!find_in(symcache_elf(o), path, func, out))
		err = -ENOENT;
	symcache_free(c);
	return err;
}

/* Where the kernel opens mapping m of pid from our mount namespace. */
static void map_path(uint32_t pid, const struct proc_map *m, char *out, size_t size)
{
	if (m->flags & MAP_F_DELETED)
		snprintf(out, size, "/proc/%u/map_files/%" PRIx64 "-%" PRIx64, pid, m->start,
			 m->end);
	else
		snprintf(out, size, "/proc/%u/root%s", pid, m->path);
}

static bool is_object(const struct proc_map *m)
{
	return (m->flags & MAP_F_EXEC) && !(m->flags & (MAP_F_ANON | MAP_F_SPECIAL)) && m->path[0];
}

/* Looks in mapping m (a file not seen yet). Returns the matches. */
static uint32_t find_in_map(struct symcache *c, struct proc *p, struct proc_map *m,
			    const char *func, struct funcaddr *out)
{
	char path[PATH_MAX];
	struct sym_obj *o = symcache_map_object(c, p, m);

	if (!o)
		return 0;
	map_path(p->pid, m, path, sizeof(path));
	return find_in(symcache_elf(o), path, func, out);
}

/* Has an earlier mapping the same file (a file maps several segments)? */
static bool seen_before(const struct proc *p, uint32_t i)
{
	for (uint32_t j = 0; j < i; j++)
		if (is_object(&p->maps[j]) && p->maps[j].dev == p->maps[i].dev &&
		    p->maps[j].ino == p->maps[i].ino)
			return true;
	return false;
}

int funcaddr_find_pid(uint32_t pid, const char *func, struct funcaddr *out)
{
	struct procs *ps = procs_new();
	struct symcache *c = new_cache();
	struct proc *p = procs_get(ps, pid);
	uint32_t objects = 0, exe = UINT32_MAX;
	char exe_link[64];
	struct stat st;
	int err = -ENOENT;

	memset(out, 0, sizeof(*out));
	snprintf(out->where, sizeof(out->where), "pid %u", pid);
	if (!p || p->gone || !p->nr_maps) {
		err = -ESRCH;
		goto out_free;
	}
	/* Its executable first. */
	snprintf(exe_link, sizeof(exe_link), "/proc/%u/exe", pid);
	if (!stat(exe_link, &st))
		for (uint32_t i = 0; i < p->nr_maps && exe == UINT32_MAX; i++)
			if (is_object(&p->maps[i]) && p->maps[i].ino == st.st_ino &&
			    p->maps[i].dev == st.st_dev)
				exe = i;
	if (exe != UINT32_MAX) {
		objects++;
		if (find_in_map(c, p, &p->maps[exe], func, out))
			err = 0;
	}
	for (uint32_t i = 0; err && i < p->nr_maps; i++) {
		struct proc_map *m = &p->maps[i];

		if (!is_object(m) || seen_before(p, i) ||
		    (exe != UINT32_MAX && m->dev == p->maps[exe].dev && m->ino == p->maps[exe].ino))
			continue;
		objects++;
		if (find_in_map(c, p, m, func, out))
			err = 0;
	}
	if (err)
		snprintf(out->where, sizeof(out->where), "pid %u: %s and %u other objects", pid,
			 exe != UINT32_MAX ? p->maps[exe].path : "its executable (unreadable)",
			 objects ? objects - (exe != UINT32_MAX) : 0);
	else
		snprintf(out->where, sizeof(out->where), "%s", out->loc[0].path);
out_free:
	symcache_free(c);
	procs_free(ps);
	return err;
}

static bool is_exec_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

int funcaddr_command_path(const char *cmd, char *out, size_t size)
{
	const char *path = getenv("PATH"), *p, *colon;

	if (strchr(cmd, '/')) {
		snprintf(out, size, "%s", cmd);
		return is_exec_file(out) ? 0 : -ENOENT;
	}
	if (!path)
		path = "/usr/local/bin:/bin:/usr/bin";
	for (p = path;; p = colon + 1) {
		size_t len;

		colon = strchrnul(p, ':');
		len = colon - p;
		/* An empty entry is the current directory, as execvp has it. */
		if ((size_t)snprintf(out, size, "%.*s%s%s", (int)len, p, len ? "/" : "", cmd) < size &&
		    is_exec_file(out))
			return 0;
		if (!*colon)
			break;
	}
	return -ENOENT;
}

void funcaddr_explain(const char *func, int err, const struct funcaddr *fa, struct strbuf *msg)
{
	strbuf_addstr(msg, "--scope ");
	strbuf_add_escaped(msg, func);
	strbuf_addstr(msg, err == -ENOENT ? ": no such function in " : ": cannot read ");
	strbuf_add_escaped(msg, fa->where);
	if (err != -ENOENT)
		strbuf_addf(msg, " (%s)", strerror(-err));
}

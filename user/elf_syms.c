/* Reading loadable segments and function symbols out of ELF files with libelf. */
#include "elf_syms.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct builder {
	struct elf_obj *o;
	size_t alloc_syms, alloc_names;
};

static uint32_t add_name(struct builder *b, const char *name)
{
	size_t n = strlen(name) + 1;
	uint32_t off = b->o->names_len;

	XGROW(b->o->names, b->alloc_names, b->o->names_len + n);
	memcpy(b->o->names + off, name, n);
	b->o->names_len += n;
	return off;
}

/* Reads function symbols of one SYMTAB/DYNSYM section; returns how many. */
static size_t read_symtab(struct builder *b, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n, added = 0;

	if (!data || sh->sh_entsize == 0)
		return 0;
	n = data->d_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		int type;

		if (!gelf_getsym(data, i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !name[0])
			continue;
		XGROW(b->o->syms, b->alloc_syms, b->o->nr_syms + 1);
		b->o->syms[b->o->nr_syms++] =
			(struct elf_sym){ sym.st_value, sym.st_size, add_name(b, name) };
		added++;
	}
	return added;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct elf_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Among aliases keep the largest first; ties by name offset (stable). */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

/* Sorts, drops aliases at the same address, and clips sizes so that no
 * symbol claims bytes of the next one (and size 0 means "up to the next"). */
static void finish_syms(struct elf_obj *o)
{
	uint32_t k = 0;

	if (o->nr_syms)
		qsort(o->syms, o->nr_syms, sizeof(*o->syms), cmp_sym);
	for (uint32_t i = 0; i < o->nr_syms; i++) {
		if (k && o->syms[k - 1].addr == o->syms[i].addr)
			continue;
		o->syms[k++] = o->syms[i];
	}
	o->nr_syms = k;
	for (uint32_t i = 0; i + 1 < k; i++) {
		uint64_t gap = o->syms[i + 1].addr - o->syms[i].addr;

		if (o->syms[i].size == 0 || o->syms[i].size > gap)
			o->syms[i].size = gap;
	}
}

static int parse(Elf *elf, const char *name, struct elf_obj **out)
{
	struct builder b = { 0 };
	GElf_Ehdr eh;
	size_t phnum, nsym = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int have_symtab = 0;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return -ENOEXEC;
	b.o = xcalloc(1, sizeof(*b.o));
	b.o->path = xstrdup(name);
	b.o->type = eh.e_type;
	add_name(&b, "");

	if (elf_getphdrnum(elf, &phnum) == 0) {
		b.o->segs = xcalloc(phnum ? phnum : 1, sizeof(*b.o->segs));
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
				continue;
			b.o->segs[b.o->nr_segs++] =
				(struct elf_seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz };
		}
	}

	while ((scn = elf_nextscn(elf, scn))) {
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			have_symtab = 1;
			nsym += read_symtab(&b, elf, scn, &sh);
		}
	}
	/* .dynsym only when .symtab is absent: a stripped binary. */
	scn = NULL;
	while (!have_symtab && (scn = elf_nextscn(elf, scn))) {
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_DYNSYM)
			nsym += read_symtab(&b, elf, scn, &sh);
	}
	finish_syms(b.o);
	*out = b.o;
	return 0;
}

int elf_obj_open(const char *path, struct elf_obj **out)
{
	Elf *elf;
	int fd, err;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		close(fd);
		return -ENOEXEC;
	}
	err = parse(elf, path, out);
	elf_end(elf);
	close(fd);
	return err;
}

int elf_obj_from_mem(const void *data, size_t size, const char *name, struct elf_obj **out)
{
	char *copy;
	Elf *elf;
	int err;

	elf_version(EV_CURRENT);
	/* libelf may write to the image it parses (ELF_C_READ_MMAP_PRIVATE semantics). */
	copy = xmalloc(size ? size : 1);
	memcpy(copy, data, size);
	elf = elf_memory(copy, size);
	if (!elf) {
		free(copy);
		return -ENOEXEC;
	}
	err = parse(elf, name, out);
	elf_end(elf);
	free(copy);
	return err;
}

void elf_obj_free(struct elf_obj *o)
{
	if (!o)
		return;
	free(o->path);
	free(o->segs);
	free(o->syms);
	free(o->names);
	free(o);
}

int elf_obj_offset_to_vaddr(const struct elf_obj *o, uint64_t off, uint64_t *vaddr)
{
	for (uint32_t i = 0; i < o->nr_segs; i++) {
		const struct elf_seg *s = &o->segs[i];

		if (off >= s->offset && off - s->offset < s->filesz) {
			*vaddr = off - s->offset + s->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

const struct elf_sym *elf_obj_lookup(const struct elf_obj *o, uint64_t vaddr)
{
	uint32_t lo = 0, hi = o->nr_syms;

	/* Last symbol with addr <= vaddr. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (o->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (vaddr - o->syms[lo - 1].addr < o->syms[lo - 1].size)
		return &o->syms[lo - 1];
	return NULL;
}

/* Reading loadable segments and function symbols out of ELF files with libelf. */
#include "symbols/elf_syms.h"
#include "base/rootfs.h"
#include "base/util.h"

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

static uint32_t add_name_n(struct builder *b, const char *name, size_t len)
{
	uint32_t off = b->o->names_len;

	XGROW(b->o->names, b->alloc_names, b->o->names_len + len + 1);
	memcpy(b->o->names + off, name, len);
	b->o->names[off + len] = 0;
	b->o->names_len += len + 1;
	return off;
}

static uint32_t add_name(struct builder *b, const char *name)
{
	return add_name_n(b, name, strlen(name));
}

#define RANK_LABEL 3

static uint8_t bind_rank(int bind)
{
	return bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
}

/* An untyped symbol in code: a label of hand-written assembly (ld.so's
 * _start, say), with no size. */
static bool code_label(Elf *elf, const GElf_Sym *sym)
{
	Elf_Scn *scn;
	GElf_Shdr sh;

	if (GELF_ST_TYPE(sym->st_info) != STT_NOTYPE || sym->st_shndx >= SHN_LORESERVE)
		return false;
	scn = elf_getscn(elf, sym->st_shndx);
	return scn && gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_EXECINSTR);
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
		const char *name, *at;
		bool label = false;
		int type;

		if (!gelf_getsym(data, i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC && !(label = code_label(elf, &sym)))
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !name[0])
			continue;
		/* .symtab spells versioned symbols "name@@VERSION": show the name. */
		at = strchr(name + 1, '@');
		XGROW(b->o->syms, b->alloc_syms, b->o->nr_syms + 1);
		b->o->syms[b->o->nr_syms++] = (struct elf_sym){
			sym.st_value, sym.st_size,
			add_name_n(b, name, at ? (size_t)(at - name) : strlen(name)),
			label ? RANK_LABEL : bind_rank(GELF_ST_BIND(sym.st_info)) };
		added++;
	}
	return added;
}

static int cmp_sym(const void *a, const void *b, void *names)
{
	const struct elf_sym *x = a, *y = b;
	size_t lx, ly;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Among aliases the first is kept: the largest, then global before
	 * weak before local (__libc_start_main, not __libc_start_main_impl),
	 * then the shortest name; ties by name offset (stable). */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	lx = strlen((const char *)names + x->name);
	ly = strlen((const char *)names + y->name);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

/* Function ranges that one symbol covers whole are never asked for (the
 * symbol names every address in them): with a full .symtab, most go. */
static void drop_named_fdes(struct elf_obj *o)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < o->nr_fdes; i++) {
		const struct eh_frame_fde *f = &o->fdes[i];
		const struct elf_sym *s = elf_obj_lookup(o, f->start);

		if (!s || f->end - s->addr > s->size)
			o->fdes[k++] = *f;
	}
	if (k < o->nr_fdes) {	/* give the memory back: objects stay cached */
		o->fdes = k ? xrealloc(o->fdes, k * sizeof(*o->fdes)) : (free(o->fdes), NULL);
		o->nr_fdes = k;
	}
}

/* Sorts, drops aliases at the same address and labels inside a sized
 * function (they name code between functions only), and clips sizes so
 * that no symbol claims bytes of the next one (and size 0 means "up to the
 * next"). */
static void finish_syms(struct elf_obj *o)
{
	uint64_t covered = 0;	/* end of the last sized symbol kept */
	uint32_t k = 0;

	if (o->nr_syms)
		qsort_r(o->syms, o->nr_syms, sizeof(*o->syms), cmp_sym, o->names);
	for (uint32_t i = 0; i < o->nr_syms; i++) {
		const struct elf_sym *s = &o->syms[i];

		if (k && o->syms[k - 1].addr == s->addr)
			continue;
		if (s->rank == RANK_LABEL && s->addr < covered)
			continue;
		if (s->size && s->addr + s->size > covered)
			covered = s->addr + s->size;
		o->syms[k++] = *s;
	}
	o->nr_syms = k;
	for (uint32_t i = 0; i + 1 < k; i++) {
		uint64_t gap = o->syms[i + 1].addr - o->syms[i].addr;

		if (o->syms[i].size == 0 || o->syms[i].size > gap)
			o->syms[i].size = gap;
	}
	drop_named_fdes(o);
}

/* Build-id from an SHT_NOTE section, if it holds NT_GNU_BUILD_ID: its
 * length, or 0. */
static uint8_t note_build_id(Elf_Scn *scn, uint8_t id[ELF_BUILD_ID_MAX])
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (!data)
		return 0;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 || nh.n_descsz == 0 ||
		    nh.n_descsz > ELF_BUILD_ID_MAX ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4))
			continue;
		memcpy(id, (const char *)data->d_buf + desc_off, nh.n_descsz);
		return nh.n_descsz;
	}
	return 0;
}

uint8_t elf_build_id(Elf *elf, uint8_t id[ELF_BUILD_ID_MAX])
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	uint8_t len;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE && (len = note_build_id(scn, id)))
			return len;
	return 0;
}

int elf_read_build_id(Elf *elf, uint8_t id[ELF_BUILD_ID_MAX], uint8_t *len)
{
	*len = elf_build_id(elf, id);
	return *len ? 0 : -ENOENT;
}

/* .gnu_debuglink: a NUL-terminated file name, padding to 4 bytes, a CRC-32. */
static void read_debuglink(struct elf_obj *o, Elf_Scn *scn, bool big_endian)
{
	Elf_Data *data = elf_rawdata(scn, NULL);
	const unsigned char *b;
	size_t len, crc_off;

	if (!data || !data->d_buf || data->d_size < 6)
		return;
	b = data->d_buf;
	len = strnlen((const char *)b, data->d_size);
	crc_off = (len + 4) & ~(size_t)3;
	if (len == 0 || len == data->d_size || crc_off + 4 > data->d_size)
		return;
	o->debuglink = xstrndup((const char *)b, len);
	if (big_endian)
		o->debuglink_crc = (uint32_t)b[crc_off] << 24 | b[crc_off + 1] << 16 |
				   b[crc_off + 2] << 8 | b[crc_off + 3];
	else
		o->debuglink_crc = (uint32_t)b[crc_off + 3] << 24 | b[crc_off + 2] << 16 |
				   b[crc_off + 1] << 8 | b[crc_off];
}

static void read_eh_frame(struct elf_obj *o, Elf_Scn *scn, const GElf_Shdr *sh,
			  const GElf_Ehdr *eh)
{
	Elf_Data *d = elf_rawdata(scn, NULL);
	struct eh_frame_sec sec = { .addr = sh->sh_addr,
				    .is64 = eh->e_ident[EI_CLASS] == ELFCLASS64,
				    .big_endian = eh->e_ident[EI_DATA] == ELFDATA2MSB };

	if (!d || !d->d_buf)
		return;
	sec.data = d->d_buf;
	sec.size = d->d_size;
	o->nr_fdes = eh_frame_read(&sec, &o->fdes);
}

/* Notes, debug links, function ranges and embedded debug data, found by
 * section name. */
static void read_sections(struct elf_obj *o, Elf *elf, const GElf_Ehdr *eh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_NOTE && !o->build_id_len) {
			o->build_id_len = note_build_id(scn, o->build_id);
			continue;
		}
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || sh.sh_type == SHT_NOBITS)
			continue;
		if (!strcmp(name, ".gnu_debuglink") && !o->debuglink) {
			read_debuglink(o, scn, eh->e_ident[EI_DATA] == ELFDATA2MSB);
		} else if (!strcmp(name, ".eh_frame") && !o->fdes) {
			read_eh_frame(o, scn, &sh, eh);
		} else if (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")) {
			o->has_dwarf = true;
		} else if (!strcmp(name, ".gnu_debugdata") && !o->debugdata) {
			Elf_Data *d = elf_rawdata(scn, NULL);

			if (d && d->d_buf && d->d_size) {
				o->debugdata = xmalloc(d->d_size);
				memcpy(o->debugdata, d->d_buf, d->d_size);
				o->debugdata_len = d->d_size;
			}
		}
	}
}

/* x86-64 PLT entries are 16 bytes; .plt starts with one resolver entry. */
#define PLT_ENTRY_SIZE 16

static Elf_Scn *section_by_name(Elf *elf, size_t shstrndx, const char *want, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (gelf_getshdr(scn, sh) && (name = elf_strptr(elf, shstrndx, sh->sh_name)) &&
		    !strcmp(name, want))
			return scn;
	}
	return NULL;
}

/* Names PLT stubs "func@plt" from .rela.plt, as binutils and perf do, so a
 * sample in a stub names the function it jumps to instead of [unknown].
 * Entry i of .plt.sec (or i + 1 of .plt) belongs to relocation i. */
static void read_plt(struct builder *b, Elf *elf, const GElf_Ehdr *eh)
{
	GElf_Shdr rela_sh, plt_sh, dyn_sh;
	Elf_Scn *rela, *plt, *dyn;
	Elf_Data *rd, *dd;
	uint64_t first;
	size_t shstrndx, n;

	if (eh->e_machine != EM_X86_64 || elf_getshdrstrndx(elf, &shstrndx) < 0)
		return;
	rela = section_by_name(elf, shstrndx, ".rela.plt", &rela_sh);
	if (!rela || rela_sh.sh_type != SHT_RELA || rela_sh.sh_entsize == 0)
		return;
	plt = section_by_name(elf, shstrndx, ".plt.sec", &plt_sh);
	first = 0;
	if (!plt || plt_sh.sh_type == SHT_NOBITS) {
		plt = section_by_name(elf, shstrndx, ".plt", &plt_sh);
		first = 1;
	}
	dyn = elf_getscn(elf, rela_sh.sh_link);
	if (!plt || plt_sh.sh_type == SHT_NOBITS || !dyn || !gelf_getshdr(dyn, &dyn_sh) ||
	    dyn_sh.sh_type != SHT_DYNSYM)
		return;
	rd = elf_getdata(rela, NULL);
	dd = elf_getdata(dyn, NULL);
	if (!rd || !dd)
		return;
	n = rd->d_size / rela_sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		struct strbuf sb = STRBUF_INIT;
		uint64_t addr = plt_sh.sh_addr + (first + i) * PLT_ENTRY_SIZE;
		GElf_Rela r;
		GElf_Sym sym;
		const char *name;

		if ((first + i + 1) * PLT_ENTRY_SIZE > plt_sh.sh_size)
			break;
		if (!gelf_getrela(rd, i, &r) || GELF_R_SYM(r.r_info) == 0 ||
		    !gelf_getsym(dd, GELF_R_SYM(r.r_info), &sym) ||
		    !(name = elf_strptr(elf, dyn_sh.sh_link, sym.st_name)) || !name[0])
			continue;
		strbuf_addf(&sb, "%s@plt", name);
		XGROW(b->o->syms, b->alloc_syms, b->o->nr_syms + 1);
		b->o->syms[b->o->nr_syms++] =
			(struct elf_sym){ addr, PLT_ENTRY_SIZE, add_name(b, sb.buf), 0 };
		strbuf_release(&sb);
	}
}

static int parse(Elf *elf, const char *name, struct elf_obj **out)
{
	struct builder b = { 0 };
	GElf_Ehdr eh;
	size_t nsym = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int have_symtab = 0;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return -ENOEXEC;
	b.o = xcalloc(1, sizeof(*b.o));
	b.o->path = xstrdup(name);
	b.o->type = eh.e_type;
	add_name(&b, "");

	elf_read_segs(elf, 0, &b.o->segs, &b.o->nr_segs);

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
	b.o->has_symtab = have_symtab && nsym > 0;
	read_sections(b.o, elf, &eh);
	read_plt(&b, elf, &eh);
	finish_syms(b.o);
	*out = b.o;
	return 0;
}

int elf_obj_open_fd(int fd, const char *name, struct elf_obj **out)
{
	Elf *elf;
	int err;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -ENOEXEC;
	err = parse(elf, name, out);
	elf_end(elf);
	return err;
}

int elf_obj_open(const char *path, struct elf_obj **out)
{
	int fd = rootfs_open_direct(path), err;

	if (fd < 0)
		return fd;
	err = elf_obj_open_fd(fd, path, out);
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
	free(o->fdes);
	free(o->debuglink);
	free(o->debugdata);
	free(o);
}

static void append_syms(struct elf_obj *o, const struct elf_obj *src)
{
	struct builder b = { o, o->nr_syms, o->names_len };

	for (uint32_t i = 0; i < src->nr_syms; i++) {
		struct elf_sym sym = src->syms[i];

		sym.name = add_name(&b, elf_sym_name(src, &src->syms[i]));
		XGROW(o->syms, b.alloc_syms, o->nr_syms + 1);
		o->syms[o->nr_syms++] = sym;
	}
	finish_syms(o);
}

void elf_obj_take_syms(struct elf_obj *o, const struct elf_obj *src)
{
	struct elf_obj old = *o;
	struct builder b = { o, 0, 0 };

	o->syms = NULL;
	o->nr_syms = 0;
	o->names = NULL;
	o->names_len = 0;
	add_name(&b, "");
	append_syms(o, src);
	/* A debug file has no PLT (its .rela.plt is NOBITS): keep ours. */
	for (uint32_t i = 0; i < old.nr_syms; i++) {
		const char *name = elf_sym_name(&old, &old.syms[i]);
		size_t len = strlen(name);
		struct elf_sym sym = old.syms[i];

		if (len < 4 || strcmp(name + len - 4, "@plt"))
			continue;
		b.alloc_syms = o->nr_syms;
		b.alloc_names = o->names_len;
		sym.name = add_name(&b, name);
		XGROW(o->syms, b.alloc_syms, o->nr_syms + 1);
		o->syms[o->nr_syms++] = sym;
	}
	finish_syms(o);
	free(old.syms);
	free(old.names);
	o->has_symtab = src->has_symtab;
}

void elf_obj_merge_syms(struct elf_obj *o, const struct elf_obj *src)
{
	append_syms(o, src);
}

int elf_read_segs(Elf *elf, uint32_t flags, struct elf_seg **segs, uint32_t *nr)
{
	size_t phnum, alloc = 0;

	*segs = NULL;
	*nr = 0;
	if (elf_getphdrnum(elf, &phnum))
		return -ENOEXEC;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || (ph.p_flags & flags) != flags)
			continue;
		XGROW(*segs, alloc, *nr + 1);
		(*segs)[(*nr)++] = (struct elf_seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz,
						     ph.p_flags };
	}
	return 0;
}

int elf_segs_offset_to_vaddr(const struct elf_seg *segs, uint32_t nr, uint64_t off,
			     uint64_t *vaddr)
{
	const struct elf_seg *below = NULL;

	for (uint32_t i = 0; i < nr; i++) {
		const struct elf_seg *s = &segs[i];

		if (off >= s->offset && off - s->offset < s->filesz) {
			*vaddr = off - s->offset + s->vaddr;
			return 0;
		}
		/* Segments are page-congruent (p_vaddr = p_offset modulo the
		 * page), so the rule holds below p_offset within its page. */
		if (!below && s->filesz && off < s->offset &&
		    off >= (s->offset & ~(ELF_PAGE_SIZE - 1)))
			below = s;
	}
	if (!below)
		return -ENOENT;
	*vaddr = below->vaddr - (below->offset - off);
	return 0;
}

int elf_obj_offset_to_vaddr(const struct elf_obj *o, uint64_t off, uint64_t *vaddr)
{
	return elf_segs_offset_to_vaddr(o->segs, o->nr_segs, off, vaddr);
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

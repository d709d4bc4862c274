/* file:line and inline chains through libdw's address -> DIE scopes. */
#include "symbols/dwarf_lines.h"
#include "base/hashtab.h"
#include "base/util.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct dwarf_lines {
	int fd;
	Dwarf *dbg;
	/* Relative file names joined with their CU's directory, made once:
	 * original string pointer -> index in joined. */
	struct u64map joined_index;
	char **joined;
	size_t nr_joined, alloc_joined;
};

int dwarf_lines_open_fd(int fd, struct dwarf_lines **out)
{
	struct dwarf_lines *d;

	if (fd < 0)
		return fd;
	d = xcalloc(1, sizeof(*d));
	d->fd = fd;
	d->dbg = dwarf_begin(fd, DWARF_C_READ);
	if (!d->dbg) {
		close(fd);
		free(d);
		return -ENODATA;
	}
	*out = d;
	return 0;
}

void dwarf_lines_free(struct dwarf_lines *d)
{
	if (!d)
		return;
	dwarf_end(d->dbg);
	close(d->fd);
	for (size_t i = 0; i < d->nr_joined; i++)
		free(d->joined[i]);
	free(d->joined);
	u64map_free(&d->joined_index);
	free(d);
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *s;

	if ((dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	     dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a)) &&
	    (s = dwarf_formstring(&a)) && s[0])
		return s;
	if (dwarf_attr_integrate(die, DW_AT_name, &a) && (s = dwarf_formstring(&a)) && s[0])
		return s;
	return NULL;
}

static void call_site(Dwarf_Die *die, Dwarf_Files *files, size_t nfiles, const char **file,
		      uint32_t *line)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	*file = NULL;
	*line = 0;
	if (dwarf_attr(die, DW_AT_call_line, &a) && !dwarf_formudata(&a, &w))
		*line = (uint32_t)w;
	if (files && dwarf_attr(die, DW_AT_call_file, &a) && !dwarf_formudata(&a, &w) &&
	    w < nfiles)
		*file = dwarf_filesrc(files, w, NULL, NULL);
}

/* file as an absolute path: relative names are under the CU's comp_dir. */
static const char *abs_path(struct dwarf_lines *d, Dwarf_Die *cudie, const char *file)
{
	struct strbuf sb = STRBUF_INIT;
	Dwarf_Attribute a;
	const char *dir;
	uint32_t idx;

	if (!file || file[0] == '/')
		return file;
	if (u64map_get(&d->joined_index, (uint64_t)(uintptr_t)file, &idx))
		return d->joined[idx];
	if (!dwarf_attr(cudie, DW_AT_comp_dir, &a) || !(dir = dwarf_formstring(&a)) || !dir[0])
		return file;
	strbuf_addf(&sb, "%s/%s", dir, file);
	XGROW(d->joined, d->alloc_joined, d->nr_joined + 1);
	d->joined[d->nr_joined] = strbuf_detach(&sb);
	u64map_put(&d->joined_index, (uint64_t)(uintptr_t)file, d->nr_joined);
	return d->joined[d->nr_joined++];
}

/* Depth of DIE nesting we follow (namespaces, blocks, inlined calls). */
#define DWARF_MAX_NESTING 64

/*
 * The concrete functions containing vaddr under parent, outermost first:
 * descends through namespaces and lexical blocks into the subprogram, then
 * into the calls inlined in it. (dwarf_getscopes follows the abstract
 * origin of an inlined call instead, losing its concrete callers.)
 */
static void find_chain(Dwarf_Die *parent, uint64_t vaddr, Dwarf_Die *chain, int *n, int depth)
{
	Dwarf_Die child;

	if (depth > DWARF_MAX_NESTING || dwarf_child(parent, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);

		switch (tag) {
		case DW_TAG_namespace:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
			if (*n == 0)	/* functions defined inside (rare in concrete trees) */
				find_chain(&child, vaddr, chain, n, depth + 1);
			if (*n)
				return;
			break;
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
		case DW_TAG_lexical_block:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
			if (dwarf_haspc(&child, vaddr) != 1)
				break;
			if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
				if (*n >= DWARF_MAX_INLINE)
					return;
				chain[(*n)++] = child;
			}
			find_chain(&child, vaddr, chain, n, depth + 1);
			return;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

int dwarf_lines_lookup(struct dwarf_lines *d, uint64_t vaddr, struct src_frame *out, int max)
{
	Dwarf_Die cudie, chain[DWARF_MAX_INLINE];
	Dwarf_Files *files = NULL;
	Dwarf_Line *l;
	size_t nfiles = 0;
	int n = 0, k;
	const char *file = NULL;
	uint32_t line = 0;

	if (max <= 0 || !dwarf_addrdie(d->dbg, vaddr, &cudie))
		return 0;
	l = dwarf_getsrc_die(&cudie, vaddr);
	if (l) {
		int ln = 0;

		file = dwarf_linesrc(l, NULL, NULL);
		if (!dwarf_lineno(l, &ln) && ln > 0)
			line = (uint32_t)ln;
	}
	if (dwarf_getsrcfiles(&cudie, &files, &nfiles))
		files = NULL;
	find_chain(&cudie, vaddr, chain, &n, 0);
	if (n == 0) {
		if (!file)
			return 0;
		/* Line info without a function DIE (e.g. assembly). */
		out[0] = (struct src_frame){ .file = abs_path(d, &cudie, file), .line = line };
		return 1;
	}
	/* A frame's location is the call of the frame inside it; the innermost's
	 * is the address itself. A truncated chain keeps its outer frames. */
	k = n < max ? n : max;
	for (int i = n - 1; i >= 0; i--) {
		const char *f = file;
		uint32_t ln = line;
		int dl = 0;

		if (i + 1 < n)
			call_site(&chain[i + 1], files, nfiles, &f, &ln);
		file = f;
		line = ln;
		if (i >= k)
			continue;
		out[i].name = die_name(&chain[i]);
		out[i].file = abs_path(d, &cudie, f);
		out[i].line = ln;
		out[i].decl_file = abs_path(d, &cudie, dwarf_decl_file(&chain[i]));
		out[i].decl_line = !dwarf_decl_line(&chain[i], &dl) && dl > 0 ? (uint32_t)dl : 0;
		out[i].inlined = dwarf_tag(&chain[i]) == DW_TAG_inlined_subroutine;
	}
	return k;
}

/* file:line and inline chains through libdw's address -> DIE scopes. */
#include "dwarf_lines.h"
#include "util.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct dwarf_lines {
	int fd;
	Dwarf *dbg;
};

int dwarf_lines_open(const char *path, struct dwarf_lines **out)
{
	struct dwarf_lines *d;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
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

int dwarf_lines_lookup(struct dwarf_lines *d, uint64_t vaddr, struct src_frame *out, int max)
{
	struct src_frame inner[DWARF_MAX_INLINE];
	Dwarf_Die cudie, *scopes = NULL;
	Dwarf_Files *files = NULL;
	Dwarf_Line *l;
	size_t nfiles = 0;
	int nscopes, n = 0;
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
	nscopes = dwarf_getscopes(&cudie, vaddr, &scopes);
	/* scopes[0] is the innermost. Each frame's location is where the
	 * next-inner frame was called (or the address itself, innermost). */
	for (int i = 0; i < nscopes && n < DWARF_MAX_INLINE; i++) {
		int tag = dwarf_tag(&scopes[i]);
		struct src_frame *f;
		int dl = 0;

		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		f = &inner[n++];
		f->name = die_name(&scopes[i]);
		f->file = file;
		f->line = line;
		f->decl_file = dwarf_decl_file(&scopes[i]);
		f->decl_line = !dwarf_decl_line(&scopes[i], &dl) && dl > 0 ? (uint32_t)dl : 0;
		f->inlined = tag == DW_TAG_inlined_subroutine;
		if (tag == DW_TAG_subprogram)
			break;
		call_site(&scopes[i], files, nfiles, &file, &line);
	}
	free(scopes);
	if (n == 0 && file) {
		/* Line info without a function DIE (e.g. assembly). */
		inner[n++] = (struct src_frame){ .file = file, .line = line };
	}
	/* Outermost first; a truncated chain keeps its outer frames. */
	for (int i = 0; i < n && i < max; i++)
		out[i] = inner[n - 1 - i];
	return n < max ? n : max;
}

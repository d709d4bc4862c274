/* Unit tests of the symbolizer's parts: symbol tables (sizes, aliases), ELF
 * parsing of this very test binary, perf maps, demangling, kallsyms, the
 * debuglink CRC, start times, and addr -> frame on our own process. */
#include "symbols/debuginfo.h"
#include "symbols/demangle.h"
#include "symbols/eh_frame.h"
#include "symbols/elf_syms.h"
#include "symbols/kallsyms.h"
#include "symbols/objfile.h"
#include "symbols/perfmap.h"
#include "procs/procfs.h"
#include "procs/procs.h"
#include "symbols/symbolizer.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

static const unsigned probe_line = __LINE__ + 1;
__attribute__((noinline)) int test_symbols_probe(int x)
{
	return x * 3 + 1;
}

/* Hand-written code: an untyped label between functions (like ld.so's
 * _start), then a sized function with a label inside it. */
__asm__(".text\n"
	".globl test_asm_label\n"
	"test_asm_label:\n"
	"\tnop\n\tnop\n\tnop\n\tnop\n\tret\n"
	".globl test_asm_func\n"
	".type test_asm_func, @function\n"
	"test_asm_func:\n"
	"\tnop\n\tnop\n"
	".globl test_asm_inner\n"
	"test_asm_inner:\n"
	"\tnop\n\tret\n"
	".size test_asm_func, . - test_asm_func\n");
extern char test_asm_label[], test_asm_func[], test_asm_inner[];

static void test_lookup_sizes(void)
{
	struct elf_sym syms[] = { { 0x1000, 0x10, 1 }, { 0x1040, 0, 3 }, { 0x1080, 0x100, 5 } };
	char names[] = "\0a\0b\0c";
	struct elf_obj o = { .syms = syms, .nr_syms = 3, .names = names, .names_len = sizeof(names) };

	/* Sizes as finish_syms leaves them: size 0 extends to the next symbol. */
	syms[1].size = 0x40;
	CHECK(elf_obj_lookup(&o, 0x1000) == &syms[0], "start of a symbol");
	CHECK(elf_obj_lookup(&o, 0x100f) == &syms[0], "last byte of a symbol");
	CHECK(elf_obj_lookup(&o, 0x1010) == NULL, "one past a sized symbol's end is no symbol");
	CHECK(elf_obj_lookup(&o, 0x103f) == NULL, "in the gap before the next symbol");
	CHECK(elf_obj_lookup(&o, 0x1050) == &syms[1], "size-0 symbol extends to the next");
	CHECK(elf_obj_lookup(&o, 0xfff) == NULL, "below the first symbol");
	CHECK(elf_obj_lookup(&o, 0x1180) == NULL, "past the last symbol");
}

/* File offset -> vaddr over the layout lld (and ld without -z separate-code)
 * gives: segments share pages, so p_offset is not page-aligned and a
 * mapping's pgoff lies below it. */
static void test_offset_to_vaddr(void)
{
	const struct elf_seg segs[] = {
		{ .offset = 0, .vaddr = 0, .filesz = 0x5f0, .flags = PF_R },
		{ .offset = 0x5f0, .vaddr = 0x15f0, .filesz = 0x2000, .flags = PF_R | PF_X },
		{ .offset = 0x3e10, .vaddr = 0x5e10, .filesz = 0x200, .flags = PF_R | PF_W },
	};
	const struct elf_seg *text = &segs[1];
	uint64_t v;

#define VADDR(segs, nr, off, want)                                                       \
	(v = ~0ull, elf_segs_offset_to_vaddr(segs, nr, off, &v) == 0 && v == (want))
#define NONE(segs, nr, off) (elf_segs_offset_to_vaddr(segs, nr, off, &v) == -ENOENT)
	CHECK(VADDR(segs, 3, 0x100, 0x100), "offset inside the first segment");
	CHECK(VADDR(segs, 3, 0x5f0, 0x15f0), "first byte of a segment: its p_vaddr");
	CHECK(VADDR(segs, 3, 0x25ef, 0x35ef), "last byte of a segment's file range");
	CHECK(NONE(segs, 3, 0x25f0), "between segments (one past the end of one): none");
	CHECK(NONE(segs, 3, 0x2fff), "between segments (below the next one's page): none");
	CHECK(VADDR(segs, 3, 0x3000, 0x5000),
	      "in the alignment gap before a segment (its mapping's pgoff): that segment's rule");
	CHECK(VADDR(segs, 3, 0x3e10, 0x5e10), "the segment after the gap starts at its p_vaddr");
	CHECK(NONE(segs, 3, 0x4010), "past the end of the last segment: none");
	CHECK(NONE(segs, 3, ~0ull), "an offset near 2^64 does not wrap into a segment");
	CHECK(VADDR(segs, 3, 0, 0), "a file range holds the offset: it wins over a gap");
	CHECK(VADDR(text, 1, 0, 0x1000),
	      "the executable mapping's pgoff 0, below p_offset 0x5f0: vaddr 0x1000");
	CHECK(VADDR(text, 1, 0x1000, 0x2000), "inside the executable segment");
	CHECK(NONE(segs, 0, 0), "no segments: none");
#undef VADDR
#undef NONE
}

/* The vaddr of our own code at p, given probe, test_symbols_probe's symbol. */
static uint64_t vaddr_by_probe(const struct elf_sym *probe, const void *p)
{
	return (uint64_t)(uintptr_t)p - (uint64_t)(uintptr_t)&test_symbols_probe + probe->addr;
}

static void label_checks(const struct elf_obj *o, const struct elf_sym *probe)
{
	const struct elf_sym *s;
	const char *n;

	s = elf_obj_lookup(o, vaddr_by_probe(probe, test_asm_label) + 3);
	n = s ? elf_sym_name(o, s) : "(none)";
	CHECK(!strcmp(n, "test_asm_label"), "an untyped label in code names the code after it (got %s)", n);
	s = elf_obj_lookup(o, vaddr_by_probe(probe, test_asm_inner));
	n = s ? elf_sym_name(o, s) : "(none)";
	CHECK(!strcmp(n, "test_asm_func"), "a label inside a sized function does not split it (got %s)", n);
}

static void test_self_elf(void)
{
	struct elf_obj *o = NULL;
	const struct elf_sym *s;
	uint64_t vaddr;

	CHECK(elf_obj_open("/proc/self/exe", &o) == 0 && o, "parse our own binary");
	if (!o)
		return;
	CHECK(o->has_symtab && o->nr_segs > 0, ".symtab and PT_LOAD segments read");
	CHECK(o->build_id_len == 20, "GNU build-id read (%u bytes)", o->build_id_len);
	s = NULL;
	for (uint32_t i = 0; i < o->nr_syms; i++)
		if (!strcmp(elf_sym_name(o, &o->syms[i]), "test_symbols_probe"))
			s = &o->syms[i];
	CHECK(s && s->size > 0, "test_symbols_probe has a sized symbol");
	if (s) {
		CHECK(elf_obj_lookup(o, s->addr + s->size - 1) == s, "last byte names it");
		CHECK(elf_obj_lookup(o, s->addr + s->size) != s, "one past its end does not");
	}
	CHECK(elf_obj_offset_to_vaddr(o, o->segs[0].offset, &vaddr) == 0 && vaddr == o->segs[0].vaddr,
	      "file offset of a segment maps to its vaddr");
	{
		struct elf_seg *text = NULL;
		uint32_t nr = 0, x = 0;
		Elf *e;
		int fd = open("/proc/self/exe", O_RDONLY);

		e = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
		CHECK(e && !elf_read_segs(e, PF_X, &text, &nr) && nr >= 1,
		      "our binary's executable segments read (%u)", nr);
		for (uint32_t i = 0; i < nr; i++)
			x += (text[i].flags & PF_X) != 0;
		CHECK(nr && x == nr && nr < o->nr_segs, "only the executable ones (%u of %u)", nr,
		      o->nr_segs);
		free(text);
		if (e)
			elf_end(e);
		if (fd >= 0)
			close(fd);
	}
	if (s)
		label_checks(o, s);
	elf_obj_free(o);
	CHECK(elf_obj_from_mem("not an elf", 10, "x", &o) < 0, "garbage is not ELF");
	CHECK(elf_obj_open("/nonexistent/x", &o) == -ENOENT, "missing file: -ENOENT");
}

static void test_symbolize_self(void)
{
	struct symbolizer_opts so = { .lines = true };
	struct profile *prof = profile_new();
	struct symbolizer *s = symbolizer_new(prof, &so);
	struct procs *ps = procs_new();
	struct proc *p = procs_get(ps, getpid());
	frame_id_t f[SYMBOLIZER_MAX_DEPTH];
	uint64_t ip = (uint64_t)(uintptr_t)&test_symbols_probe;
	uint32_t n;
	const struct frame *fr;

	n = symbolizer_user_frames(s, ps, p, ip + 1, false, f, SYMBOLIZER_MAX_DEPTH);
	fr = profile_get_frame(prof, f[0]);
	CHECK(n == 1, "one frame for a plain function (got %u)", n);
	CHECK_STR(fr->name, "test_symbols_probe", "our own function, named in our process");
	CHECK(fr->file && strstr(fr->file, "test_symbols.c") && fr->line == probe_line,
	      "with lines: defined at test_symbols.c:%u (got %s:%u)", probe_line,
	      fr->file ? fr->file : "-", fr->line);
	n = symbolizer_user_frames(s, ps, p, ip + 1, false, f, SYMBOLIZER_MAX_DEPTH);
	CHECK(n == 1 && profile_get_frame(prof, f[0]) == fr, "second lookup from the cache");
	n = symbolizer_user_frames(s, ps, p, 8, false, f, SYMBOLIZER_MAX_DEPTH);
	CHECK(n == 1 && (profile_get_frame(prof, f[0])->flags & FRAME_F_UNKNOWN) &&
		      !strncmp(profile_get_frame(prof, f[0])->name, "[unknown] ", 10),
	      "an unmapped address is [unknown], never blank");
	/* Process churn brings ever new unmapped addresses: bounded. */
	{
		size_t before = prof->nr_frames;

		for (uint64_t a = 16; a < 16 + 6000 * 16; a += 16)
			symbolizer_user_frames(s, ps, p, a, false, f, SYMBOLIZER_MAX_DEPTH);
		CHECK(prof->nr_frames - before <= 4096 + 1 &&
			      !strcmp(profile_get_frame(prof, f[0])->name, "[unknown] [unmapped]"),
		      "6000 unmapped addresses: %zu new frames (4096 allowed), then '%s'",
		      prof->nr_frames - before, profile_get_frame(prof, f[0])->name);
	}
	procs_free(ps);
	symbolizer_free(s);
	profile_free(prof);
}

/* The ELF virtual address of a function of this binary. */
static uint64_t self_vaddr(const char *name)
{
	struct elf_obj *o;
	uint64_t v = 0;

	if (elf_obj_open("/proc/self/exe", &o))
		return 0;
	for (uint32_t i = 0; i < o->nr_syms; i++)
		if (!strcmp(elf_sym_name(o, &o->syms[i]), name))
			v = o->syms[i].addr;
	elf_obj_free(o);
	return v;
}

/* The file of one of our own mappings, and the same mapping whose path the
 * process (here: we) has since replaced with a FIFO: the FIFO is neither
 * opened nor waited on, the kernel's link to the mapped file is. */
static void test_objfile_open_map(void)
{
	char dir[] = "/tmp/st-objfile-XXXXXX", fifo[64];
	struct procs *ps = procs_new();
	struct proc *p = procs_get(ps, getpid());
	uint64_t ip = (uint64_t)(uintptr_t)&test_symbols_probe;
	struct proc_map *m = proc_find_map(ps, p, ip), fake;
	struct objfile_where w;
	struct objfile_id id, want = { 0 };
	struct stat st;
	bool ready;
	int fd;

	if (!m || stat(m->path, &st)) {
		CHECK(0, "our own text mapping found (%s)", m ? m->path : "none");
		procs_free(ps);
		return;
	}
	objfile_id_from_stat(&st, &want);
	objfile_forget_open();	/* earlier tests opened it */
	fd = objfile_open_map(p->pid, m, &w, &id);
	CHECK(fd >= 0 && objfile_id_eq(&id, &want) && !w.direct && !strcmp(w.path, m->path),
	      "a mapping's file: opened by its path in the process's root, its identity read");
	if (fd >= 0)
		close(fd);
	objfile_forget_open();

	ready = mkdtemp(dir) != NULL;
	if (ready) {
		snprintf(fifo, sizeof(fifo), "%s/libpython3.11.so", dir);
		ready = mkfifo(fifo, 0600) == 0;
	}
	if (!ready) {
		CHECK(0, "set-up: a FIFO in a temporary directory");
		procs_free(ps);
		return;
	}
	fake = *m;
	fake.path = fifo;
	alarm(10);	/* opening the FIFO for reading would wait for a writer forever */
	fd = objfile_open_map(p->pid, &fake, &w, &id);
	alarm(0);
	if (geteuid() == 0)
		CHECK(fd >= 0 && w.direct && objfile_id_eq(&id, &want),
		      "path replaced by a FIFO: the mapped file through map_files, not the FIFO");
	else
		printf("# SKIP map_files needs root\n");
	if (fd >= 0)
		close(fd);
	fake.start = fake.end = 0x1000;	/* nothing mapped there: no map_files link */
	fd = objfile_open_map(p->pid, &fake, &w, &id);
	CHECK(fd < 0, "a FIFO and no link to the mapped file: refused (%d)", fd);
	if (fd >= 0)
		close(fd);
	unlink(fifo);
	rmdir(dir);
	procs_free(ps);
}

/* A file that the next process maps too is opened again from the one kept
 * (one stat of the mapping), with a file offset of its own; rewritten in
 * place (same inode), it is a new file and opened anew. */
static void test_objfile_kept(void)
{
	char path[] = "/tmp/st-kept-XXXXXX", buf[4];
	int tmp = mkstemp(path), fd, fd2;
	uint64_t opened, reused, opened0, reused0;
	struct objfile_where w;
	struct objfile_id id, id2;
	struct proc_map m = { .path = path };
	struct stat st;
	void *at = MAP_FAILED;

	if (tmp >= 0 && write(tmp, "abcdefgh", 8) == 8 && !fstat(tmp, &st))
		at = mmap(NULL, 8, PROT_READ, MAP_PRIVATE, tmp, 0);
	if (at == MAP_FAILED || geteuid() != 0) {
		printf("# SKIP kept files: %s\n", geteuid() ? "map_files needs root" : "set-up");
		goto out;
	}
	m.start = (uint64_t)(uintptr_t)at;
	m.end = m.start + 4096;
	m.dev = st.st_dev;
	m.ino = st.st_ino;
	objfile_forget_open();
	objfile_open_counts(&opened0, &reused0);
	fd = objfile_open_map(getpid(), &m, &w, &id);
	fd2 = objfile_open_map(getpid(), &m, &w, &id2);
	objfile_open_counts(&opened, &reused);
	CHECK(fd >= 0 && fd2 >= 0 && opened == opened0 + 1 && reused == reused0 + 1 &&
		      objfile_id_eq(&id, &id2) && w.direct,
	      "the same file again: opened once by its path, then again from the kept one "
	      "(opened %llu, reused %llu)", (unsigned long long)(opened - opened0),
	      (unsigned long long)(reused - reused0));
	CHECK(fd >= 0 && fd2 >= 0 && pread(fd, buf, 4, 0) == 4 && pread(fd2, buf, 1, 2) == 1 &&
		      buf[0] == 'c',
	      "... a copy of the file, read with pread");
	if (fd >= 0)
		close(fd);
	if (fd2 >= 0)
		close(fd2);
	/* A process that has exited (no /proc/PID): the same path in our root. */
	fd = objfile_open_map(99999990u, &m, &w, &id2);
	objfile_open_counts(&opened, &reused);
	CHECK(fd >= 0 && reused == reused0 + 2 && objfile_id_eq(&id, &id2) && !w.root[0] &&
		      !w.direct && !strcmp(w.path, path),
	      "an exited process's mapping: the kept file, found by its path in our root");
	if (fd >= 0)
		close(fd);
	m.ino++;
	fd = objfile_open_map(99999990u, &m, &w, &id2);
	CHECK(fd < 0, "... not when that path names another inode now (%d)", fd);
	if (fd >= 0)
		close(fd);
	m.ino--;
	/* Past the 100 ms in which a mapping named lately is taken as the same file. */
	usleep(150 * 1000);
	if (pwrite(tmp, "ijklmnopq", 9, 8) == 9) {
		fd = objfile_open_map(getpid(), &m, &w, &id2);
		objfile_open_counts(&opened, &reused);
		CHECK(fd >= 0 && id2.size == 17 && !objfile_id_eq(&id, &id2) &&
			      opened == opened0 + 2,
		      "rewritten in place (same inode, size 8 -> %llu): a new file, opened anew",
		      (unsigned long long)id2.size);
		if (fd >= 0)
			close(fd);
	}
	objfile_forget_open();
out:
	if (at != MAP_FAILED)
		munmap(at, 8);
	if (tmp >= 0) {
		close(tmp);
		unlink(path);
	}
}

/* Our vDSO image is found, and an address in it is named after its symbol. */
static void test_vdso(void)
{
	struct symbolizer_opts so = { 0 };
	struct profile *prof = profile_new();
	struct symbolizer *s = symbolizer_new(prof, &so);
	struct procs *ps = procs_new();
	const struct elf_sym *sym = NULL;
	struct elf_obj *o = NULL;
	const void *image = NULL;
	uint64_t base = 0, size = 0;
	uint64_t v0, ip;
	frame_id_t f;

	proc_self_vdso(&base, &size);
	image = (const void *)(uintptr_t)base;
	CHECK(size && size % 4096 == 0 &&
		      !memcmp(image, ELFMAG, SELFMAG),
	      "our vDSO image found (%" PRIu64 " bytes)", size);
	if (size && !elf_obj_from_mem(image, size, "[vdso]", &o) &&
	    !elf_obj_offset_to_vaddr(o, 0, &v0)) {
		for (uint32_t i = 0; i < o->nr_syms && !sym; i++)
			if (o->syms[i].size > 1)
				sym = &o->syms[i];
	}
	CHECK(sym != NULL, "the vDSO has a function symbol");
	if (sym) {
		ip = (uint64_t)(uintptr_t)image + sym->addr - v0 + 1;
		f = symbolizer_user(s, ps, procs_get(ps, getpid()), ip, false);
		CHECK_STR(profile_get_frame(prof, f)->name, elf_sym_name(o, sym),
			  "an address in the vDSO is named after its symbol");
	}
	elf_obj_free(o);
	procs_free(ps);
	symbolizer_free(s);
	profile_free(prof);
}

/* One parse per file, shared by processes; a budget evicts and reparses. */
static void test_cache(void)
{
	struct symbolizer_opts so = { 0 };
	struct profile *prof = profile_new();
	struct symbolizer *s = symbolizer_new(prof, &so);
	struct procs *ps = procs_new();
	uint64_t ip = (uint64_t)(uintptr_t)&test_symbols_probe, parses, bytes, parses1, vaddr;
	struct frame fr[SYMBOLIZER_MAX_DEPTH];
	frame_id_t f;
	pid_t child = fork();

	if (child == 0) {
		pause();
		_exit(0);
	}
	f = symbolizer_user(s, ps, procs_get(ps, getpid()), ip, false);
	symbolizer_mem(s, &parses1, &bytes);
	f = symbolizer_user(s, ps, procs_get(ps, child), ip, false);
	symbolizer_mem(s, &parses, &bytes);
	CHECK_STR(profile_get_frame(prof, f)->name, "test_symbols_probe", "named in a forked child");
	CHECK(parses == parses1, "the child's copy of the same file is not parsed again (%llu, %llu)",
	      (unsigned long long)parses1, (unsigned long long)parses);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	procs_free(ps);
	symbolizer_free(s);

	so.mem_budget = 1;	/* every new object evicts the others */
	s = symbolizer_new(prof, &so);
	vaddr = self_vaddr("test_symbols_probe");
	CHECK(symbolizer_file(s, "/proc/self/exe", vaddr, fr, 1) == 1, "named under a tiny budget");
	symbolizer_file(s, "/bin/sh", 0, fr, 1);	/* another object: evicts ours */
	CHECK(symbolizer_file(s, "/proc/self/exe", vaddr, fr, 1) == 1 &&
		      !strcmp(fr[0].name, "test_symbols_probe"),
	      "evicted object parsed again when needed");
	symbolizer_mem(s, &parses, &bytes);
	CHECK(parses == 3, "three parses: evicted and reparsed (got %llu)", (unsigned long long)parses);
	symbolizer_free(s);
	profile_free(prof);
}

static size_t put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);	/* x86-64: little-endian, as the section */
	return off + 4;
}

/* An .eh_frame at 0x1000: one CIE ("zR", pc-relative sdata4 pointers), two
 * FDEs (out of address order), one pointing before the section. */
static size_t make_eh_frame(uint8_t *b)
{
	static const uint8_t cie_body[] = { 1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b, 0, 0, 0, 0, 0, 0, 0 };
	size_t off = 0;

	off = put32(b, off, 4 + sizeof(cie_body));
	off = put32(b, off, 0);			/* CIE id */
	memcpy(b + off, cie_body, sizeof(cie_body));
	off += sizeof(cie_body);
	off = put32(b, off, 16);		/* FDE [0x2000, 0x2040) */
	off = put32(b, off, off);		/* back to the CIE at 0 */
	off = put32(b, off, 0x2000 - (0x1000 + off));
	off = put32(b, off, 0x40);
	off = put32(b, off, 0);			/* no augmentation data, padding */
	off = put32(b, off, 16);		/* FDE [0x1800, 0x1900) */
	off = put32(b, off, off);
	off = put32(b, off, 0x1800 - (0x1000 + off));
	off = put32(b, off, 0x100);
	off = put32(b, off, 0);
	off = put32(b, off, 16);		/* its CIE would be before the section */
	off = put32(b, off, off + 64);
	off = put32(b, off, 0);
	off = put32(b, off, 0x10);
	off = put32(b, off, 0);
	return put32(b, off, 0);		/* the terminator */
}

static bool fdes_sane(const struct eh_frame_fde *f, uint32_t nr)
{
	for (uint32_t i = 0; i < nr; i++)
		if (f[i].start >= f[i].end || (i && f[i].start < f[i - 1].end) ||
		    eh_frame_lookup(f, nr, f[i].start) != &f[i] ||
		    eh_frame_lookup(f, nr, f[i].end - 1) != &f[i])
			return false;
	return true;
}

static void test_eh_frame(void)
{
	uint8_t b[256], bad[256];
	size_t size = make_eh_frame(b);
	struct eh_frame_sec sec = { b, size, 0x1000, true, false };
	struct eh_frame_fde *f;
	uint32_t nr = eh_frame_read(&sec, &f);
	bool sane = true;

	CHECK(nr == 2 && f[0].start == 0x1800 && f[0].end == 0x1900 && f[1].start == 0x2000 &&
		      f[1].end == 0x2040,
	      ".eh_frame: two FDE ranges, pc-relative, sorted; one with a bad CIE pointer skipped "
	      "(got %u)", nr);
	CHECK(nr == 2 && eh_frame_lookup(f, nr, 0x203f) == &f[1] && !eh_frame_lookup(f, nr, 0x2040) &&
		      !eh_frame_lookup(f, nr, 0x17ff) && !eh_frame_lookup(f, nr, 0x1a00),
	      ".eh_frame: lookups inside a range only");
	free(f);
	sec.size = size - 30;	/* cuts the second FDE */
	nr = eh_frame_read(&sec, &f);
	CHECK(nr == 1 && f[0].start == 0x2000, ".eh_frame: a cut record ends the walk, what came "
	      "before is kept (got %u)", nr);
	free(f);
	/* Hostile bytes: every prefix, every byte set to 0xff or 0x80. */
	for (size_t i = 0; i <= size; i++) {
		for (int v = 0; v < 3; v++) {
			memcpy(bad, b, size);
			if (v && i < size)
				bad[i] = v == 1 ? 0xff : 0x80;
			sec = (struct eh_frame_sec){ bad, v ? size : i, 0x1000, true, false };
			nr = eh_frame_read(&sec, &f);
			sane = sane && fdes_sane(f, nr);
			free(f);
		}
	}
	CHECK(sane, ".eh_frame: damaged bytes give sorted, disjoint, findable ranges");
}

/* tests/targets/NAME from where this binary is (build/tests/ or
 * build/san/tests/), else from the current directory. */
static void target_source(const char *name, char *out, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	for (int ups = 2; n > 0 && ups <= 3; ups++) {
		char *slash;

		exe[n] = 0;
		for (int i = 0; i <= ups && (slash = strrchr(exe, '/')); i++)
			*slash = 0;
		snprintf(out, size, "%s/tests/targets/%s", exe, name);
		if (access(out, R_OK) == 0)
			return;
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	}
	snprintf(out, size, "tests/targets/%s", name);
}

/* Where the file offset of vaddr is mapped in a running process (m: its
 * executable mapping). */
static uint64_t runtime_addr(const struct elf_obj *o, const struct proc_map *m, uint64_t vaddr)
{
	for (uint32_t i = 0; i < o->nr_segs; i++) {
		const struct elf_seg *g = &o->segs[i];

		if (vaddr >= g->vaddr && vaddr - g->vaddr < g->filesz)
			return m->start + (vaddr - g->vaddr + g->offset) - m->pgoff;
	}
	return 0;
}

/* The executable mapping of path in pid, once the exec has mapped it. */
static struct proc_map *exec_mapping(struct procs *ps, pid_t pid, const char *path)
{
	char maps[64], line[PATH_MAX + 128];

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(maps, "r");
		bool mapped = false;

		while (f && !mapped && fgets(line, sizeof(line), f))
			mapped = strstr(line, " r-xp ") && strstr(line, path);
		if (f)
			fclose(f);
		if (mapped) {
			struct proc *p = procs_get(ps, pid);

			for (uint32_t k = 0; k < p->nr_maps; k++)
				if (!strcmp(p->maps[k].path, path))
					return &p->maps[k];
			return NULL;
		}
		usleep(10000);
	}
	return NULL;
}

/* A stripped program: two addresses of one function make one frame, named
 * by where the function's .eh_frame record starts; an address in no record
 * stays per address. */
static void test_stripped_function(void)
{
	char dir[] = "/tmp/st-stripped-XXXXXX", src[PATH_MAX + 64], full[64], bin[64];
	char cmd[2 * PATH_MAX], want[128];
	struct symbolizer_opts so = { 0 };
	struct profile *prof = profile_new();
	struct symbolizer *s = symbolizer_new(prof, &so);
	struct procs *ps = procs_new();
	struct elf_obj *o = NULL;
	const struct elf_sym *hot = NULL, *no_cfi = NULL;
	const struct frame *f1, *f2, *f3;
	struct proc_map *m;
	uint64_t a1, a2;
	frame_id_t id1, id2, id3;
	pid_t pid;

	target_source("stripped.c", src, sizeof(src));
	if (!mkdtemp(dir))
		goto out;
	snprintf(full, sizeof(full), "%s/full", dir);
	snprintf(bin, sizeof(bin), "%s/stripped", dir);
	snprintf(cmd, sizeof(cmd), "gcc -O2 -fasynchronous-unwind-tables -o %s %s && strip -o %s %s",
		 full, src, bin, full);
	if (system(cmd) || elf_obj_open(full, &o)) {
		CHECK(0, "fixture: gcc and strip build %s", src);
		goto out;
	}
	for (uint32_t i = 0; i < o->nr_syms; i++) {
		if (!strcmp(elf_sym_name(o, &o->syms[i]), "strip_hot"))
			hot = &o->syms[i];
		else if (!strcmp(elf_sym_name(o, &o->syms[i]), "strip_no_cfi"))
			no_cfi = &o->syms[i];
	}
	pid = fork();
	if (pid == 0) {
		execl(bin, bin, "10", (char *)NULL);
		_exit(127);
	}
	m = exec_mapping(ps, pid, bin);
	if (!hot || hot->size < 8 || !no_cfi || !m) {
		CHECK(0, "fixture: strip_hot and strip_no_cfi in %s, %s running", full, bin);
		goto out_kill;
	}
	a1 = runtime_addr(o, m, hot->addr + 2);
	a2 = runtime_addr(o, m, hot->addr + hot->size - 2);
	id1 = symbolizer_user(s, ps, procs_get(ps, pid), a1, false);
	id2 = symbolizer_user(s, ps, procs_get(ps, pid), a2, false);
	f1 = profile_get_frame(prof, id1);
	f2 = profile_get_frame(prof, id2);
	snprintf(want, sizeof(want), "[unknown] stripped (fn@0x%" PRIx64 ")", hot->addr);
	CHECK_STR(f1->name, want, "stripped: an address in strip_hot names the function's start");
	CHECK(id1 == id2, "stripped: two addresses of strip_hot, 0x%" PRIx64 " bytes apart, are "
	      "one frame (got '%s' and '%s')", a2 - a1, f1->name, f2->name);
	CHECK(f1->addr == hot->addr && (f1->flags & FRAME_F_UNKNOWN),
	      "stripped: the frame's addr is the function's start (0x%" PRIx64 ", want 0x%" PRIx64
	      "), flagged unknown", f1->addr, hot->addr);
	id3 = symbolizer_user(s, ps, procs_get(ps, pid), runtime_addr(o, m, no_cfi->addr + 2),
			      false);
	f3 = profile_get_frame(prof, id3);
	snprintf(want, sizeof(want), "[unknown] stripped+0x%" PRIx64, no_cfi->addr + 2);
	CHECK_STR(f3->name, want, "stripped: an address in no unwind record stays per address");
	/* The header's unnamed_functions: distinct unnamed frames in stacks. */
	{
		frame_id_t st1[] = { id3, id1 }, st2[] = { id3, id2 }, st3[] = { id1 };
		uint32_t t = profile_thread(prof, pid, pid, "stripped", "stripped");
		uint64_t *n = &prof->meta.counters[PC_UNNAMED_FUNCS];

		CHECK(*n == 0, "unnamed_functions: frames in no stack yet are not counted (got %llu)",
		      (unsigned long long)*n);
		profile_add_sample(prof, t, st1, 2, 1);
		profile_add_sample(prof, t, st2, 2, 1);
		profile_add_sample(prof, t, st3, 1, 1);
		CHECK(*n == 2, "unnamed_functions: strip_hot (twice) and the per-address frame "
		      "make 2 (got %llu)", (unsigned long long)*n);
	}
out_kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
out:
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	elf_obj_free(o);
	procs_free(ps);
	symbolizer_free(s);
	profile_free(prof);
}

static void test_perfmap(void)
{
	struct perfmap *pm = perfmap_new("", "/nonexistent");
	const char data[] = "1000 10 first\n"
			    "0x2000 0x20 JS:*hot /a b.js:3\n"
			    "zz 10 bad\n"
			    "3000 0 zero size\n"
			    "1008 4 reused\n"
			    "4000 10 partial";
	const struct perfmap_sym *s;
	size_t used = perfmap_parse(pm, data, sizeof(data) - 1);

	CHECK(used == sizeof(data) - 1 - strlen("4000 10 partial"), "stops before a partial line");
	CHECK(pm->nr == 3 && pm->bad_lines == 2, "3 entries, 2 bad lines (got %zu, %zu)", pm->nr,
	      pm->bad_lines);
	s = perfmap_lookup(pm, 0x2010);
	CHECK_STR(s ? perfmap_name(pm, s) : NULL, "JS:*hot /a b.js:3", "0x prefix, name with spaces");
	s = perfmap_lookup(pm, 0x1009);
	CHECK_STR(s ? perfmap_name(pm, s) : NULL, "reused", "a later overlapping entry wins");
	s = perfmap_lookup(pm, 0x100c);
	CHECK_STR(s ? perfmap_name(pm, s) : NULL, "first", "the earlier entry around it still names the rest");
	CHECK(perfmap_lookup(pm, 0x1010) == NULL, "past the end: nothing");
	CHECK(perfmap_refresh(pm) == -ENOENT, "missing file: -ENOENT");
	perfmap_free(pm);
}

static void test_perfmap_grows(void)
{
	char path[] = "/tmp/st-perfmap-XXXXXX";
	int fd = mkstemp(path);
	struct perfmap *pm;

	CHECK(fd >= 0, "temp perf map");
	if (fd < 0)
		return;
	pm = perfmap_new("", path);
	CHECK(write(fd, "a000 10 one\nb000 10 tw", 22) == 22, "write");
	CHECK(perfmap_refresh(pm) == 1, "one complete line read");
	CHECK(write(fd, "o\n", 2) == 2, "write the rest");
	CHECK(perfmap_refresh(pm) == 1 && perfmap_lookup(pm, 0xb001), "the grown line read");
	CHECK_STR(perfmap_name(pm, perfmap_lookup(pm, 0xb001)), "two", "its name whole");
	/* The writer exits and its file goes (as /proc/PID/root does): what it
	 * wrote last is still read through the file we keep open. */
	unlink(path);
	CHECK(write(fd, "c000 10 three\n", 14) == 14, "write after unlink");
	close(fd);
	CHECK(perfmap_refresh(pm) == 1 && perfmap_lookup(pm, 0xc001), "read after the file is gone");
	perfmap_free(pm);
}

static void check_demangle(const char *in, const char *want)
{
	char *d = demangle(in);

	CHECK_STR(d, want, "demangle %s", in);
	free(d);
}

static void test_demangle(void)
{
	check_demangle("_ZN14sampletop_test3BoxIlE4spinEl", "sampletop_test::Box<long>::spin(long)");
	check_demangle("_ZN10symbols_rs4work9spin_here17h0123456789abcdefE", "symbols_rs::work::spin_here");
	check_demangle("_RNvNtCs1234_10symbols_rs4work9spin_here", "symbols_rs::work::spin_here");
	CHECK(demangle("main") == NULL, "a C name is left alone");
	CHECK(demangle("_Zgarbage") == NULL, "an invalid mangled name is left alone");
}

static void test_kallsyms(void)
{
	const char good[] = "ffffffff81000000 T _stext\n"
			    "ffffffff81000100 t helper\n"
			    "ffffffff81000200 D some_data\n"
			    "ffffffffc0000000 t mod_fn\t[e1000]\n";
	const char hidden[] = "0000000000000000 T _stext\n0000000000000000 t helper\n";
	FILE *f = fmemopen((void *)good, sizeof(good) - 1, "r");
	struct ksyms *k = ksyms_load_file(f);
	const struct ksym *s;

	fclose(f);
	CHECK(k->nr == 3 && !k->hidden, "text symbols only (got %zu)", k->nr);
	s = ksyms_lookup(k, 0xffffffff81000150);
	CHECK_STR(s ? s->name : NULL, "helper", "address inside a function");
	s = ksyms_lookup(k, 0xffffffffc0000010);
	CHECK_STR(s ? s->name : NULL, "mod_fn [e1000]", "module symbol names its module");
	ksyms_free(k);
	f = fmemopen((void *)hidden, sizeof(hidden) - 1, "r");
	k = ksyms_load_file(f);
	fclose(f);
	CHECK(k->hidden && k->nr == 0, "all-zero addresses: hidden (kptr_restrict)");
	ksyms_free(k);
}

static void test_crc(void)
{
	char path[] = "/tmp/st-crc-XXXXXX";
	int fd = mkstemp(path);
	uint32_t crc = 0;
	const char data[] = "debuglink payload";

	CHECK(fd >= 0 && write(fd, data, sizeof(data)) == (ssize_t)sizeof(data), "temp file");
	CHECK(debuginfo_file_crc(path, &crc) == 0 &&
		      crc == (uint32_t)crc32(0, (const Bytef *)data, sizeof(data)),
	      "file CRC is the CRC-32 of its bytes");
	CHECK(debuginfo_file_crc("/nonexistent", &crc) == -ENOENT, "missing file: -ENOENT");
	close(fd);
	unlink(path);
}

static void test_start_time(void)
{
	char buf[4096], *s;
	unsigned long long want = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	int field = 2;

	if (f)
		fclose(f);
	buf[n] = 0;
	s = strrchr(buf, ')');
	for (s = s ? strtok(s + 1, " ") : NULL; s; s = strtok(NULL, " "))
		if (++field == 22) {
			want = strtoull(s, NULL, 10);
			break;
		}
	CHECK(want && proc_start_time(getpid()) == want, "start time is field 22 (got %llu, want %llu)",
	      (unsigned long long)proc_start_time(getpid()), want);
	CHECK(proc_ns_pid(getpid()) == (uint32_t)getpid(), "ns pid of a process in our namespace");
}

int main(void)
{
	test_lookup_sizes();
	test_offset_to_vaddr();
	test_self_elf();
	test_symbolize_self();
	test_objfile_open_map();
	test_objfile_kept();
	test_vdso();
	test_cache();
	test_eh_frame();
	test_stripped_function();
	test_perfmap();
	test_perfmap_grows();
	test_demangle();
	test_kallsyms();
	test_crc();
	test_start_time();
	return tap_done();
}

/* Python frames: interpreter detection, code object names, merging. */
#include "python/python.h"
#include "procs/procfs.h"
#include "python/pycode.h"
#include "python/pymerge.h"
#include "symbols/elf_syms.h"
#include "symbols/objfile.h"
#include "base/util.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* What one interpreter binary (libpython or a python executable) holds;
 * parsed once per file identity. */
struct py_binary {
	struct objfile_id id;
	bool ok;			/* a supported CPython */
	struct pycode_offsets off;
	uint64_t runtime, code_type;	/* ELF vaddrs of _PyRuntime, PyCode_Type */
	uint64_t eval, eval_size;	/* _PyEval_EvalFrameDefault */
	struct elf_seg *text;		/* executable segments, for the bias of a mapping */
	uint32_t nr_text;
};

struct py_code {
	frame_id_t def_frame;		/* FRAME_NONE: unreadable, or not the sampled object */
	uint32_t tag;			/* the sampled tag this entry answers */
	struct pycode code;		/* name/file/linetable kept for --lines */
};

enum py_state { PY_NOT, PY_YES };

/* Processes looked at before the first sweep of exited ones. */
#define PY_SWEEP_PROCS 4096

struct py_proc {
	uint32_t pid;
	uint64_t start_time;
	enum py_state state;
	uint64_t checked_gen;		/* p->reload_gen at the last look */
	bool checked;
	bool seen_gone;			/* gone at the last sweep */
	struct py_binary *bin;
	uint64_t bin_dev, bin_ino;	/* its mapping's, as /proc/PID/maps names it */
	uint64_t bias;			/* load address - ELF vaddr of the interpreter */
	/* Executable ranges of the interpreter's code: the binary with the runtime
	 * (libpython or python) and a python launcher linked to libpython. */
	uint64_t interp_lo[2], interp_hi[2];
	struct u64map code_index;	/* code object address -> index into codes */
	struct py_code *codes;
	size_t nr_codes, alloc_codes;
};

struct python {
	struct profile *prof;
	struct python_opts opts;
	int map_fd;
	struct py_binary **bins;
	size_t nr_bins, alloc_bins;
	struct py_proc **procs;
	size_t nr_procs, alloc_procs;
	struct u64map proc_index;	/* pid -> index into procs */
	size_t sweep_at;		/* procs at which exited ones are dropped */
	frame_id_t unknown;		/* "[unknown python code]" */
	frame_id_t truncated;		/* the recorder's "[truncated stack]" */
	uint32_t found;
};

int python_mode_parse(const char *s, enum python_mode *out)
{
	if (!strcmp(s, "merge"))
		*out = PYTHON_MERGE;
	else if (!strcmp(s, "only"))
		*out = PYTHON_ONLY;
	else if (!strcmp(s, "off"))
		*out = PYTHON_OFF;
	else
		return -EINVAL;
	return 0;
}

struct python *python_new(struct profile *prof, const struct python_opts *o, int info_map_fd)
{
	struct python *py = xcalloc(1, sizeof(*py));
	struct frame f = { .name = "[unknown python code]", .module = "", .kind = FRAME_PYTHON,
			   .flags = FRAME_F_UNKNOWN };

	py->prof = prof;
	py->opts = *o;
	py->map_fd = info_map_fd;
	py->unknown = profile_frame(prof, &f);
	py->truncated = profile_special_frame(prof, FRAME_SPECIAL, "[truncated stack]");
	py->sweep_at = PY_SWEEP_PROCS;
	elf_version(EV_CURRENT);
	return py;
}

void python_retarget(struct python *py, struct profile *prof)
{
	struct frame f = { .name = "[unknown python code]", .module = "", .kind = FRAME_PYTHON,
			   .flags = FRAME_F_UNKNOWN };

	py->prof = prof;
	py->unknown = profile_frame(prof, &f);
	py->truncated = profile_special_frame(prof, FRAME_SPECIAL, "[truncated stack]");
	/* The code objects read stay: their frames are made again from them. */
	for (size_t i = 0; i < py->nr_procs; i++) {
		struct py_proc *pp = py->procs[i];

		for (size_t k = 0; pp && k < pp->nr_codes; k++) {
			struct py_code *c = &pp->codes[k];

			if (c->def_frame == FRAME_NONE)
				continue;
			f = (struct frame){ .kind = FRAME_PYTHON, .name = c->code.name,
					    .module = c->code.file, .file = c->code.file,
					    .line = c->code.firstlineno };
			c->def_frame = profile_frame(prof, &f);
		}
	}
}

static void py_proc_free(struct py_proc *pp)
{
	if (!pp)
		return;
	for (size_t i = 0; i < pp->nr_codes; i++)
		pycode_release(&pp->codes[i].code);
	free(pp->codes);
	u64map_free(&pp->code_index);
	free(pp);
}

void python_free(struct python *py)
{
	if (!py)
		return;
	for (size_t i = 0; i < py->nr_bins; i++) {
		free(py->bins[i]->text);
		free(py->bins[i]);
	}
	free(py->bins);
	for (size_t i = 0; i < py->nr_procs; i++)
		py_proc_free(py->procs[i]);
	free(py->procs);
	u64map_free(&py->proc_index);
	free(py);
}

uint32_t python_nr_found(const struct python *py)
{
	return py->found;
}

/* --- the interpreter binary ---------------------------------------------- */

struct elf_syms_wanted {
	const char *name;
	uint64_t value, size;
	bool found;
};

static void elf_find_syms(Elf *e, struct elf_syms_wanted *w, size_t nr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	/* .dynsym first: the stripped Debian python3.11 has only that. */
	for (int pass = 0; pass < 2; pass++) {
		Elf64_Word want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;

		scn = NULL;
		while ((scn = elf_nextscn(e, scn))) {
			Elf_Data *d;
			size_t count;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != want || !sh.sh_entsize)
				continue;
			d = elf_getdata(scn, NULL);
			if (!d)
				continue;
			count = d->d_size / sh.sh_entsize;
			for (size_t i = 0; i < count; i++) {
				GElf_Sym sym;
				const char *name;

				if (!gelf_getsym(d, i, &sym) || sym.st_shndx == SHN_UNDEF)
					continue;
				name = elf_strptr(e, sh.sh_link, sym.st_name);
				if (!name)
					continue;
				for (size_t k = 0; k < nr; k++) {
					if (!w[k].found && !strcmp(name, w[k].name)) {
						w[k].value = sym.st_value;
						w[k].size = sym.st_size;
						w[k].found = true;
					}
				}
			}
		}
	}
}

/* Reads len bytes at ELF vaddr from the file (initialised data only). */
static int elf_read_vaddr(Elf *e, int fd, uint64_t vaddr, void *buf, size_t len)
{
	size_t nr;

	if (elf_getphdrnum(e, &nr))
		return -ENOEXEC;
	for (size_t i = 0; i < nr; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr < ph.p_vaddr || vaddr - ph.p_vaddr >= ph.p_filesz ||
		    len > ph.p_filesz - (vaddr - ph.p_vaddr))
			continue;
		if (pread(fd, buf, len, ph.p_offset + (vaddr - ph.p_vaddr)) != (ssize_t)len)
			return -EIO;
		return 0;
	}
	return -ENOENT;
}

/* Parses an interpreter binary: which version, which offsets. */
static void bin_parse(struct py_binary *b, Elf *e, int fd, const char *path)
{
	struct elf_syms_wanted w[] = {
		{ "_PyRuntime" }, { "PyCode_Type" }, { "Py_Version" }, { "_PyEval_EvalFrameDefault" },
	};
	unsigned major, minor;
	uint32_t hexver;

	elf_find_syms(e, w, ARRAY_SIZE(w));
	if (!w[0].found)
		return;
	if (w[2].found && !elf_read_vaddr(e, fd, w[2].value, &hexver, sizeof(hexver))) {
		major = hexver >> 24;
		minor = (hexver >> 16) & 0xff;
	} else if (pycode_version_from_name(path, &major, &minor)) {
		return;
	}
	if (major == 3 && minor >= 13) {
		unsigned char dbg[PYCODE_DEBUG_OFFSETS_SIZE];

		if (elf_read_vaddr(e, fd, w[0].value, dbg, sizeof(dbg)) ||
		    pycode_offsets_from_debug(dbg, sizeof(dbg), &b->off))
			return;
	} else if (pycode_offsets_for_version(major, minor, &b->off)) {
		return;
	}
	b->runtime = w[0].value;
	b->code_type = w[1].found ? w[1].value : 0;
	b->eval = w[3].found ? w[3].value : 0;
	b->eval_size = w[3].found ? w[3].size : 0;
	b->ok = !elf_read_segs(e, PF_X, &b->text, &b->nr_text);
}

/* Could this mapping be a CPython interpreter? By name, so that the
 * executables and libraries of other processes are never opened. */
static bool maybe_python(const char *path)
{
	const char *base = strrchr(path, '/');
	unsigned major, minor;

	base = base ? base + 1 : path;
	if (!strncmp(base, "libpython", 9))
		return true;
	return !pycode_version_from_name(base, &major, &minor) || !strcmp(base, "python3") ||
	       !strcmp(base, "python");
}

static int is_libpython(void *ctx, struct proc_map *m)
{
	return strstr(m->path, "/libpython") != NULL;
}

/* Does /proc/PID/maps name a libpython (an embedded interpreter)? */
static bool has_libpython(unsigned long pid)
{
	char *text = NULL;
	bool found = !proc_maps_text((uint32_t)pid, &text, NULL) &&
		     proc_maps_each(text, is_libpython, NULL);

	free(text);
	return found;
}

/* The binary mapped by m, parsed on first sight of its file; NULL when the
 * file cannot be opened (then tried again at the next look). */
static struct py_binary *bin_get(struct python *py, const struct proc *p, const struct proc_map *m)
{
	struct objfile_where w;
	struct objfile_id id;
	struct py_binary *b;
	Elf *e;
	int fd = objfile_open_map(p->pid, m, &w, &id);

	if (fd < 0)
		return NULL;
	for (size_t i = 0; i < py->nr_bins; i++) {
		if (objfile_id_eq(&py->bins[i]->id, &id)) {
			close(fd);
			return py->bins[i];
		}
	}
	b = xcalloc(1, sizeof(*b));
	b->id = id;
	XGROW(py->bins, py->alloc_bins, py->nr_bins + 1);
	py->bins[py->nr_bins++] = b;

	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && elf_kind(e) == ELF_K_ELF && gelf_getclass(e) == ELFCLASS64)
		bin_parse(b, e, fd, m->path);
	if (e)
		elf_end(e);
	close(fd);
	return b;
}

/* Load bias of b mapped by m (executable): its address minus its ELF vaddr. */
static int map_bias(const struct py_binary *b, const struct proc_map *m, uint64_t *bias)
{
	uint64_t vaddr;

	if (elf_segs_offset_to_vaddr(b->text, b->nr_text, m->pgoff, &vaddr))
		return -ENOENT;
	*bias = m->start - vaddr;
	return 0;
}

/* --- processes ------------------------------------------------------------- */

/* Hands the process's offsets and runtime address to the BPF side. */
static void proc_tell_bpf(struct python *py, struct py_proc *pp)
{
	const struct py_binary *b = pp->bin;
	struct st_py_info info;

	if (py->opts.mode == PYTHON_OFF || py->map_fd < 0)
		return;
	pycode_offsets_to_bpf(&b->off, pp->bias + b->runtime + b->off.runtime_interp_head, &info);
	if (bpf_map_update_elem(py->map_fd, &pp->pid, &info, BPF_ANY))
		py->prof->meta.counters[PC_PY_MAP_FULL]++;
}

/* [lo, hi): every executable mapping of m's file (a split text). */
static void map_range(const struct proc *p, const struct proc_map *m, uint64_t *lo, uint64_t *hi)
{
	*lo = m->start;
	*hi = m->end;
	for (uint32_t k = 0; k < p->nr_maps; k++) {
		if (p->maps[k].dev == m->dev && p->maps[k].ino == m->ino) {
			if (p->maps[k].start < *lo)
				*lo = p->maps[k].start;
			if (p->maps[k].end > *hi)
				*hi = p->maps[k].end;
		}
	}
}

static bool is_interp(const struct py_proc *pp, uint64_t ip)
{
	return (ip >= pp->interp_lo[0] && ip < pp->interp_hi[0]) ||
	       (ip >= pp->interp_lo[1] && ip < pp->interp_hi[1]);
}

static void proc_detect(struct python *py, struct py_proc *pp, struct proc *p)
{
	pp->checked = true;
	pp->checked_gen = p->reload_gen;
	for (uint32_t i = 0; i < p->nr_maps; i++) {
		const struct proc_map *m = &p->maps[i];
		struct py_binary *b;

		if (!(m->flags & MAP_F_EXEC) || !m->path[0] || !maybe_python(m->path))
			continue;
		b = bin_get(py, p, m);
		if (!b || !b->ok || map_bias(b, m, &pp->bias))
			continue;
		pp->bin = b;
		pp->bin_dev = m->dev;
		pp->bin_ino = m->ino;
		map_range(p, m, &pp->interp_lo[0], &pp->interp_hi[0]);
		for (uint32_t k = 0; k < p->nr_maps; k++) {
			const struct proc_map *l = &p->maps[k];

			if ((l->flags & MAP_F_EXEC) && l->path[0] && maybe_python(l->path) &&
			    (l->dev != m->dev || l->ino != m->ino)) {
				map_range(p, l, &pp->interp_lo[1], &pp->interp_hi[1]);
				break;
			}
		}
		pp->state = PY_YES;
		py->found++;
		proc_tell_bpf(py, pp);
		return;
	}
}

/* A process found gone at two sweeps in a row has had its last samples
 * drained long ago: its state, and its entry in the BPF map, go. */
void python_sweep(struct python *py)
{
	size_t n = 0;

	if (py->nr_procs < py->sweep_at)
		return;
	u64map_clear(&py->proc_index);
	for (size_t i = 0; i < py->nr_procs; i++) {
		struct py_proc *pp = py->procs[i];
		uint64_t t = proc_start_time(pp->pid);

		if (!t || t != pp->start_time) {
			if (pp->seen_gone) {
				if (pp->state == PY_YES && py->map_fd >= 0)
					bpf_map_delete_elem(py->map_fd, &pp->pid);
				py_proc_free(pp);
				continue;
			}
			pp->seen_gone = true;
		}
		u64map_put(&py->proc_index, pp->pid, (uint32_t)n);
		py->procs[n++] = pp;
	}
	py->nr_procs = n;
	py->sweep_at = 2 * n > PY_SWEEP_PROCS ? 2 * n : PY_SWEEP_PROCS;
}

void python_set_info_map(struct python *py, int info_map_fd)
{
	py->map_fd = info_map_fd;
	for (size_t i = 0; i < py->nr_procs; i++)
		if (py->procs[i]->state == PY_YES)
			proc_tell_bpf(py, py->procs[i]);
}

static struct py_proc *proc_get(struct python *py, struct proc *p)
{
	struct py_proc *pp = NULL;
	uint32_t idx;

	if (u64map_get(&py->proc_index, p->pid, &idx)) {
		pp = py->procs[idx];
		if (pp->start_time != p->start_time) {	/* pid reused */
			if (pp->state == PY_YES && py->map_fd >= 0)
				bpf_map_delete_elem(py->map_fd, &pp->pid);
			py_proc_free(pp);
			pp = py->procs[idx] = xcalloc(1, sizeof(*pp));
			pp->pid = p->pid;
			pp->start_time = p->start_time;
		}
	} else {
		pp = xcalloc(1, sizeof(*pp));
		pp->pid = p->pid;
		pp->start_time = p->start_time;
		XGROW(py->procs, py->alloc_procs, py->nr_procs + 1);
		u64map_put(&py->proc_index, p->pid, py->nr_procs);
		py->procs[py->nr_procs++] = pp;
	}
	/* Python, but its maps were re-read without the interpreter: it exec'd
	 * another program. Forget it (and tell the BPF side) before looking again. */
	if (pp->state == PY_YES && pp->checked_gen != p->reload_gen && !p->gone) {
		bool still = false;

		pp->checked_gen = p->reload_gen;
		for (uint32_t i = 0; i < p->nr_maps && !still; i++)
			still = p->maps[i].dev == pp->bin_dev && p->maps[i].ino == pp->bin_ino;
		if (!still) {
			if (py->map_fd >= 0)
				bpf_map_delete_elem(py->map_fd, &pp->pid);
			pp->state = PY_NOT;
			pp->checked = false;
		}
	}
	/* Not (yet) Python: look again whenever its maps were re-read (an exec,
	 * libpython mapped after the first sample). */
	if (pp->state == PY_NOT && (!pp->checked || pp->checked_gen != p->reload_gen) && !p->gone)
		proc_detect(py, pp, p);
	return pp;
}

void python_watch(struct python *py, struct procs *ps, struct proc *p)
{
	(void)ps;
	proc_get(py, p);
}

/* Only processes whose executable could be an interpreter are read. */
void python_watch_all(struct python *py, struct procs *ps)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char exe[4096];
		unsigned long pid;
		char *end;
		struct proc *p;

		pid = strtoul(de->d_name, &end, 10);
		if (*end || !pid || pid > UINT32_MAX)
			continue;
		if (proc_read_exe(pid, exe, sizeof(exe)) <= 0)
			continue;
		if (!maybe_python(exe) && !has_libpython(pid))
			continue;
		p = procs_get(ps, pid);
		if (p)
			proc_get(py, p);
	}
	closedir(d);
}

/* --- code objects ---------------------------------------------------------- */

static int mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct py_proc *pp = ctx;
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	if (!len)
		return 0;
	if (addr + len < addr)
		return -EFAULT;
	return process_vm_readv(pp->pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* Reads the code object now at addr into c, for samples tagged tag. */
static void code_resolve(struct python *py, struct py_proc *pp, struct py_code *c, uint64_t addr,
			 uint32_t tag)
{
	struct frame f = { .kind = FRAME_PYTHON };
	uint64_t code_type = pp->bin->code_type ? pp->bias + pp->bin->code_type : 0;

	pycode_release(&c->code);
	c->def_frame = FRAME_NONE;
	c->tag = tag;
	if (pycode_read(&pp->bin->off, mem_read, pp, addr, code_type, &c->code))
		return;
	/* Freed and replaced since it was sampled: naming it would lie. */
	if (tag && !pycode_tag_matches(&c->code, tag)) {
		py->prof->meta.counters[PC_PY_CODE_REUSED]++;
		return;
	}
	f.name = c->code.name;
	f.module = c->code.file;
	f.file = c->code.file;
	f.line = c->code.firstlineno;
	c->def_frame = profile_frame(py->prof, &f);
	if (!py->opts.lines) {
		free(c->code.linetable);
		c->code.linetable = NULL;
		c->code.linetable_len = 0;
	}
}

/* The cached code object at addr, re-read when a sample's tag says the
 * address now holds another one. Tag 0: the BPF side could not read it. */
static struct py_code *code_get(struct python *py, struct py_proc *pp, uint64_t addr, uint32_t tag)
{
	struct py_code *c;
	uint32_t idx;

	if (u64map_get(&pp->code_index, addr, &idx)) {
		c = &pp->codes[idx];
		if (!tag || c->tag == tag)
			return c;
		code_resolve(py, pp, c, addr, tag);
		return c;
	}
	XGROW(pp->codes, pp->alloc_codes, pp->nr_codes + 1);
	idx = pp->nr_codes++;
	c = &pp->codes[idx];
	memset(c, 0, sizeof(*c));
	code_resolve(py, pp, c, addr, tag);
	u64map_put(&pp->code_index, addr, idx);
	return c;
}

static frame_id_t py_frame(struct python *py, struct py_proc *pp, uint64_t code, uint64_t w1,
			   bool leaf)
{
	const struct pycode_offsets *o = &pp->bin->off;
	struct py_code *c = code_get(py, pp, code, w1 >> 32);
	struct frame f = { .kind = FRAME_PYTHON };
	uint32_t instr = (uint32_t)w1;
	uint64_t off;

	if (c->def_frame == FRAME_NONE)
		return py->unknown;
	if (!py->opts.lines || instr == ST_PY_NO_INSTR)
		return c->def_frame;
	if (o->layout == ST_PY_LAYOUT_FRAMEOBJ) {
		off = (uint64_t)instr * 2;
	} else {
		if (instr < o->code_adaptive)
			return c->def_frame;
		off = instr - o->code_adaptive;
		/* 3.13 callers point past their call. */
		if (!leaf && o->minor >= 13 && off >= 2)
			off -= 2;
	}
	f.name = c->code.name;
	f.module = c->code.file;
	f.file = c->code.file;
	f.line = pycode_line(o, &c->code, off);
	return profile_frame(py->prof, &f);
}

/* --- merging --------------------------------------------------------------- */

static bool is_eval_frame(const struct python *py, const struct py_proc *pp, uint64_t ip,
			  frame_id_t id, bool is_return)
{
	const struct frame *f = profile_get_frame(py->prof, id);
	uint64_t pc = is_return && ip ? ip - 1 : ip;
	const struct py_binary *b = pp->bin;

	if (b->eval && pc >= pp->bias + b->eval && pc < pp->bias + b->eval + b->eval_size)
		return true;
	/* The compiler's split-off cold part of the loop, named by the symbolizer. */
	return !strncmp(f->name, "_PyEval_EvalFrameDefault", 24);
}

uint32_t python_merge(struct python *py, struct procs *ps, struct proc *p,
		      const struct st_sample *s, size_t size, frame_id_t *frames,
		      const uint16_t *frame_ip, uint32_t ustart, uint32_t n, uint32_t cap)
{
	struct pymerge_py pyf[ST_PY_MAX_FRAMES];
	struct pymerge_native nat[PYMERGE_MAX_NATIVE];
	uint32_t base = s->user_nr + s->kern_nr, pynr = s->py_nr, native = n - ustart;
	struct py_proc *pp;
	bool cut;

	(void)ps;
	pp = proc_get(py, p);
	if (pp->state != PY_YES || py->opts.mode == PYTHON_OFF)
		return n;
	if (!(s->flags & ST_SAMPLE_PY)) {
		py->prof->meta.counters[PC_PY_BEFORE_FOUND]++;
		return n;
	}
	if (pynr == 0 || pynr > ST_PY_MAX_FRAMES || native > PYMERGE_MAX_NATIVE || ustart >= cap ||
	    ST_SAMPLE_HDR_SIZE + (base + (size_t)pynr * ST_PY_FRAME_WORDS) * sizeof(__u64) > size)
		return n;
	/* A Python stack deeper than the BPF side walks: marked at the root,
	 * like a deep native one (unless it already is). */
	if ((s->flags & ST_SAMPLE_PY_TRUNCATED) && !(ustart && frames[ustart - 1] == py->truncated)) {
		py->prof->meta.counters[PC_TRUNCATED_STACKS]++;
		memmove(frames + ustart + 1, frames + ustart, native * sizeof(*frames));
		frames[ustart++] = py->truncated;
		n++;
	}

	for (uint32_t i = 0; i < pynr; i++) {
		uint64_t w0 = s->ips[base + i * ST_PY_FRAME_WORDS];
		uint64_t w1 = s->ips[base + i * ST_PY_FRAME_WORDS + 1];

		pyf[i].frame = py_frame(py, pp, w0 & ST_PY_ADDR_MASK, w1, i == 0);
		pyf[i].entry = (w0 & ST_PY_F_ENTRY) != 0;
	}
	/* frames[ustart + k] is native frame k root first; s->ips[frame_ip[k]]
	 * its address (all but the leaf's are return addresses). Only the
	 * function of an address can be the eval loop, not what was inlined in it. */
	for (uint32_t k = 0; k < native; k++) {
		uint32_t leaf_idx = frame_ip[k] < s->user_nr ? frame_ip[k] : 0;
		uint64_t ip = s->ips[leaf_idx];
		bool outermost = k == 0 || frame_ip[k - 1] != frame_ip[k];

		nat[k].frame = frames[ustart + k];
		nat[k].eval = outermost && is_eval_frame(py, pp, ip, nat[k].frame, leaf_idx != 0);
		nat[k].interp = is_interp(pp, ip);
	}
	n = ustart + pymerge(nat, native, pyf, pynr,
			     py->opts.mode == PYTHON_ONLY ? PYMERGE_ONLY : PYMERGE_MERGE,
			     frames + ustart, cap - ustart, &cut);
	if (cut)
		py->prof->meta.counters[PC_TRUNCATED_STACKS]++;
	return n;
}

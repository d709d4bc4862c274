/*
 * pprof: a gzip'd protobuf per pprof's profile.proto, for go tool pprof,
 * Pyroscope, Parca. Two sample values (samples/count, cpu/nanoseconds; with
 * --wall wall/nanoseconds, the default, and cpu/nanoseconds), one
 * sample per (stack, thread) with pid/tid/thread labels, one function and
 * one location per frame, one mapping per module. Module-relative addresses
 * are placed at a synthetic base per mapping so that ranges never overlap
 * (address - memory_start + file_offset gives the module offset back).
 * Frames are already named, so every mapping says has_functions.
 */
#include "report/report.h"
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* profile.proto field numbers. */
enum { PROF_SAMPLE_TYPE = 1, PROF_SAMPLE, PROF_MAPPING, PROF_LOCATION, PROF_FUNCTION,
       PROF_STRING_TABLE, PROF_TIME_NANOS = 9, PROF_DURATION_NANOS, PROF_PERIOD_TYPE, PROF_PERIOD,
       PROF_COMMENT, PROF_DEFAULT_SAMPLE_TYPE };
enum { VT_TYPE = 1, VT_UNIT };
enum { SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE, SAMPLE_LABEL };
enum { LABEL_KEY = 1, LABEL_STR, LABEL_NUM };
enum { MAP_ID = 1, MAP_START, MAP_LIMIT, MAP_OFFSET, MAP_FILENAME, MAP_BUILD_ID, MAP_HAS_FUNCTIONS,
       MAP_HAS_FILENAMES, MAP_HAS_LINE_NUMBERS, MAP_HAS_INLINE_FRAMES };
enum { LOC_ID = 1, LOC_MAPPING_ID, LOC_ADDRESS, LOC_LINE };
enum { LINE_FUNCTION_ID = 1, LINE_LINE };
enum { FUNC_ID = 1, FUNC_NAME, FUNC_SYSTEM_NAME, FUNC_FILENAME };
enum { WT_VARINT = 0, WT_LEN = 2 };

/* Where the synthetic address ranges of user modules start, and their alignment. */
#define PPROF_BASE 0x10000000ull
#define PPROF_ALIGN (1ull << 20)

static void pb_varint(struct strbuf *sb, uint64_t v)
{
	strbuf_grow(sb, 10);
	while (v >= 0x80) {
		sb->buf[sb->len++] = (char)(v | 0x80);
		v >>= 7;
	}
	sb->buf[sb->len++] = (char)v;
	sb->buf[sb->len] = 0;
}

static void pb_uint(struct strbuf *sb, int field, uint64_t v)
{
	if (!v)
		return;
	pb_varint(sb, (uint64_t)field << 3 | WT_VARINT);
	pb_varint(sb, v);
}

static void pb_bytes(struct strbuf *sb, int field, const void *data, size_t len)
{
	pb_varint(sb, (uint64_t)field << 3 | WT_LEN);
	pb_varint(sb, len);
	strbuf_add(sb, data, len);
}

/* Appends sub as a length-delimited field and empties it. */
static void pb_msg(struct strbuf *sb, int field, struct strbuf *sub)
{
	pb_bytes(sb, field, sub->buf, sub->len);
	strbuf_reset(sub);
}

struct pprof {
	const struct profile *p;
	struct strbuf out, msg, sub;
	struct u64map str_ids;	/* interned string pointer -> string table index */
	struct strbuf strtab;	/* the string_table fields, in order */
	uint64_t nr_strs;
	uint32_t *frame_mapping; /* frame id -> mapping id (0: none) */
	uint64_t *frame_addr;	/* frame id -> synthetic address */
	bool *frame_used;
	/* frame id -> location and function id - 1: numbered as the saved
	 * profile numbers frames, so a profile and its reload write the same */
	uint32_t *frame_num;
};

/* String table index of s (NULL and "" are 0). Profile strings are interned,
 * so the pointer identifies them; other strings are literals. */
static uint64_t str_id(struct pprof *x, const char *s)
{
	uint32_t id;

	if (!s || !s[0])
		return 0;
	if (u64map_get(&x->str_ids, (uintptr_t)s, &id))
		return id;
	id = x->nr_strs++;
	u64map_put(&x->str_ids, (uintptr_t)s, id);
	pb_bytes(&x->strtab, PROF_STRING_TABLE, s, strlen(s));
	return id;
}

static void value_type(struct pprof *x, int field, const char *type, const char *unit)
{
	pb_uint(&x->sub, VT_TYPE, str_id(x, type));
	pb_uint(&x->sub, VT_UNIT, str_id(x, unit));
	pb_msg(&x->out, field, &x->sub);
}

static void label(struct pprof *x, const char *key, const char *str, uint64_t num)
{
	pb_uint(&x->sub, LABEL_KEY, str_id(x, key));
	pb_uint(&x->sub, LABEL_STR, str_id(x, str));
	pb_uint(&x->sub, LABEL_NUM, num);
	pb_msg(&x->msg, SAMPLE_LABEL, &x->sub);
}

/* An encoded piece cached by id: where it starts in a buffer and how long. */
struct piece {
	size_t off;
	uint32_t len;
	bool done;
};

/* Each stack's packed location ids and each thread's labels, encoded once:
 * both recur across many samples. */
struct sample_pieces {
	struct strbuf locs, labels, packed;
	struct piece *loc;	/* per stack, in locs; empty: a stack the view leaves out */
	struct piece *lab;	/* per thread, in labels */
	struct collapse_rules rules;
	frame_id_t path[TREE_MAX_PATH];
};

static const struct piece *stack_piece(struct pprof *x, struct sample_pieces *sp,
				       const struct report_opts *o, const struct sample_rec *s)
{
	struct piece *l = &sp->loc[s->stack];
	uint32_t n;

	if (l->done)
		return l;
	n = report_sample_path(x->p, o, &sp->rules, s, sp->path, ARRAY_SIZE(sp->path));
	/* Leaf first, as profile.proto wants. */
	for (uint32_t k = n; k > 0; k--) {
		pb_varint(&sp->packed, x->frame_num[sp->path[k - 1]] + 1);
		x->frame_used[sp->path[k - 1]] = true;
	}
	l->off = sp->locs.len;
	if (n)
		pb_msg(&sp->locs, SAMPLE_LOCATION_ID, &sp->packed);
	l->len = sp->locs.len - l->off;
	l->done = true;
	return l;
}

static const struct piece *thread_piece(struct pprof *x, struct sample_pieces *sp, uint32_t thread)
{
	const struct thread *t = &x->p->threads[thread];
	struct piece *b = &sp->lab[thread];

	if (b->done)
		return b;
	b->off = sp->labels.len;
	label(x, "pid", NULL, t->pid);
	label(x, "tid", NULL, t->tid);
	label(x, "thread", t->comm, 0);
	label(x, "process", t->process, 0);
	strbuf_add(&sp->labels, x->msg.buf, x->msg.len);
	strbuf_reset(&x->msg);
	b->len = sp->labels.len - b->off;
	b->done = true;
	return b;
}

static void add_samples(struct pprof *x, const struct report_opts *o)
{
	const struct profile *p = x->p;
	uint64_t period = p->meta.freq_hz ? 1000000000ull / p->meta.freq_hz : 0;
	struct sample_pieces sp = { .locs = STRBUF_INIT, .labels = STRBUF_INIT,
				    .packed = STRBUF_INIT };
	/* In the saved profile's order, so that a loaded copy writes the same bytes. */
	uint32_t *order = store_samples_by_thread(p);

	sp.loc = xcalloc(p->nr_stacks + 1, sizeof(*sp.loc));
	sp.lab = xcalloc(p->nr_threads + 1, sizeof(*sp.lab));
	report_collapse_rules(p, o, true, &sp.rules);
	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct sample_rec *s = &p->samples[order[i]];
		const struct piece *l, *b;

		if (!s->count || !(l = stack_piece(x, &sp, o, s))->len)
			continue;
		b = thread_piece(x, &sp, s->thread);
		strbuf_add(&x->msg, sp.locs.buf + l->off, l->len);
		if (p->meta.wall) {
			/* wall/ns, and cpu/ns: its on-CPU part */
			pb_varint(&sp.packed, s->count);
			pb_varint(&sp.packed, profile_stack_offcpu(p, s->stack) ? 0 : s->count);
		} else {
			pb_varint(&sp.packed, s->count);
			pb_varint(&sp.packed, s->count * period);
		}
		pb_msg(&x->msg, SAMPLE_VALUE, &sp.packed);
		strbuf_add(&x->msg, sp.labels.buf + b->off, b->len);
		pb_msg(&x->out, PROF_SAMPLE, &x->msg);
	}
	collapse_rules_release(&sp.rules);
	strbuf_release(&sp.packed);
	strbuf_release(&sp.labels);
	strbuf_release(&sp.locs);
	free(order);
	free(sp.loc);
	free(sp.lab);
}

/* One mapping per module of a used frame; fills frame_mapping/frame_addr. */
static void add_mappings(struct pprof *x)
{
	const struct profile *p = x->p;
	struct u64map ids = { 0 };
	uint64_t base = PPROF_BASE;
	uint32_t nr = 0;
	struct {
		const char *module;
		uint64_t lo, hi;
		bool kernel, files, lines;
	} *maps = NULL;
	size_t alloc = 0;

	for (size_t i = 0; i < p->nr_frames; i++) {
		const struct frame *f = &p->frames[i];
		uint32_t m;

		if (!x->frame_used[i] || !f->module[0] || f->kind > FRAME_PYTHON)
			continue;
		if (!u64map_get(&ids, (uintptr_t)f->module, &m)) {
			XGROW(maps, alloc, nr + 1);
			m = nr++;
			maps[m].module = f->module;
			maps[m].lo = UINT64_MAX;
			maps[m].hi = 0;
			maps[m].kernel = f->kind == FRAME_KERNEL;
			maps[m].files = maps[m].lines = false;
			u64map_put(&ids, (uintptr_t)f->module, m);
		}
		maps[m].lo = f->addr < maps[m].lo ? f->addr : maps[m].lo;
		maps[m].hi = f->addr > maps[m].hi ? f->addr : maps[m].hi;
		maps[m].files |= f->file != NULL;
		maps[m].lines |= f->line != 0;
		x->frame_mapping[i] = m + 1;
	}
	/* pprof takes the first mapping for the main binary: put the first
	 * module that is not a library (the executable, usually) there. */
	for (uint32_t m = 0; m < nr; m++) {
		struct frame probe = { .name = "", .module = maps[m].module, .kind = FRAME_NATIVE };
		struct collapse_rules dflt = { 0 };

		if (maps[m].kernel || collapse_frame_is_library(&probe, &dflt))
			continue;
		if (m) {
			typeof(*maps) tmp = maps[0];

			maps[0] = maps[m];
			maps[m] = tmp;
			for (size_t i = 0; i < p->nr_frames; i++)
				if (x->frame_mapping[i] == 1 || x->frame_mapping[i] == m + 1)
					x->frame_mapping[i] = x->frame_mapping[i] == 1 ? m + 1 : 1;
		}
		break;
	}
	for (uint32_t m = 0; m < nr; m++) {
		uint64_t start, limit;

		if (maps[m].kernel) {
			/* Kernel addresses are absolute already. */
			start = maps[m].lo;
			limit = maps[m].hi + 1;
			maps[m].lo = 0;
		} else {
			start = base;
			limit = base + (maps[m].hi | (PPROF_ALIGN - 1)) + 1;
			base = limit;
			maps[m].lo = start;
		}
		pb_uint(&x->msg, MAP_ID, m + 1);
		pb_uint(&x->msg, MAP_START, start);
		pb_uint(&x->msg, MAP_LIMIT, limit);
		pb_uint(&x->msg, MAP_FILENAME, str_id(x, maps[m].module));
		pb_uint(&x->msg, MAP_HAS_FUNCTIONS, 1);
		pb_uint(&x->msg, MAP_HAS_FILENAMES, maps[m].files);
		pb_uint(&x->msg, MAP_HAS_LINE_NUMBERS, maps[m].lines);
		pb_msg(&x->out, PROF_MAPPING, &x->msg);
	}
	for (size_t i = 0; i < p->nr_frames; i++)
		if (x->frame_mapping[i])
			x->frame_addr[i] = maps[x->frame_mapping[i] - 1].lo + p->frames[i].addr;
	free(maps);
	u64map_free(&ids);
}

static void add_locations(struct pprof *x)
{
	const struct profile *p = x->p;

	for (size_t i = 0; i < p->nr_frames; i++) {
		const struct frame *f = &p->frames[i];

		if (!x->frame_used[i])
			continue;
		pb_uint(&x->msg, FUNC_ID, x->frame_num[i] + 1);
		pb_uint(&x->msg, FUNC_NAME, str_id(x, f->name));
		pb_uint(&x->msg, FUNC_SYSTEM_NAME, str_id(x, f->name));
		pb_uint(&x->msg, FUNC_FILENAME, str_id(x, f->file ? f->file : f->module));
		pb_msg(&x->out, PROF_FUNCTION, &x->msg);

		pb_uint(&x->msg, LOC_ID, x->frame_num[i] + 1);
		pb_uint(&x->msg, LOC_MAPPING_ID, x->frame_mapping[i]);
		pb_uint(&x->msg, LOC_ADDRESS, x->frame_addr[i]);
		pb_uint(&x->sub, LINE_FUNCTION_ID, x->frame_num[i] + 1);
		pb_uint(&x->sub, LINE_LINE, f->line);
		pb_msg(&x->msg, LOC_LINE, &x->sub);
		pb_msg(&x->out, PROF_LOCATION, &x->msg);
	}
}

static void add_comments(struct pprof *x)
{
	const struct profile_meta *m = &x->p->meta;
	struct strbuf sb = STRBUF_INIT;
	const char *c[3] = { m->target, m->hostname, m->kernel };

	/* Comments are not profile strings: give each its own interned copy. */
	for (size_t i = 0; i < ARRAY_SIZE(c); i++)
		if (c[i])
			pb_uint(&x->out, PROF_COMMENT, str_id(x, c[i]));
	strbuf_addf(&sb, "sampletop: %u Hz%s, lost %llu", m->freq_hz, m->wall ? ", wall clock" : "",
		    (unsigned long long)profile_lost_samples(x->p));
	for (int i = ST_CNT_RINGBUF_FULL; i < PC_NR; i++)
		if (m->counters[i])
			strbuf_addf(&sb, ", %s %llu", prof_counter_names[i],
				    (unsigned long long)m->counters[i]);
	/* Not interned: add to the table directly. */
	pb_bytes(&x->strtab, PROF_STRING_TABLE, sb.buf, sb.len);
	pb_uint(&x->out, PROF_COMMENT, x->nr_strs++);
	strbuf_release(&sb);
}

static int write_gzip(const struct strbuf *data, FILE *out)
{
	unsigned char buf[1 << 16];
	z_stream zs = { 0 };
	int ret, err = 0;

	/* 15 + 16: a gzip wrapper; level 1: several times faster, a little larger. */
	if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	zs.next_in = (unsigned char *)data->buf;
	zs.avail_in = data->len;
	do {
		zs.next_out = buf;
		zs.avail_out = sizeof(buf);
		ret = deflate(&zs, Z_FINISH);
		if (ret == Z_STREAM_ERROR) {
			err = -EIO;
			break;
		}
		if (fwrite(buf, 1, sizeof(buf) - zs.avail_out, out) != sizeof(buf) - zs.avail_out)
			err = -EIO;
	} while (ret != Z_STREAM_END && !err);
	deflateEnd(&zs);
	return err;
}

int report_pprof(const struct profile *p, const struct report_opts *o, FILE *out)
{
	struct pprof x = { .p = p, .out = STRBUF_INIT, .msg = STRBUF_INIT, .sub = STRBUF_INIT,
			   .strtab = STRBUF_INIT };
	struct report_opts top = *o;
	struct strbuf all = STRBUF_INIT;
	int err;

	/* pprof inverts by itself and splits by the pid/tid labels: keep the
	 * stacks top-down, without process/thread levels. */
	top.view.invert = top.view.by_process = top.view.by_thread = false;
	x.frame_mapping = xcalloc(p->nr_frames + 1, sizeof(*x.frame_mapping));
	x.frame_addr = xcalloc(p->nr_frames + 1, sizeof(*x.frame_addr));
	x.frame_used = xcalloc(p->nr_frames + 1, sizeof(*x.frame_used));
	x.frame_num = xcalloc(p->nr_frames + 1, sizeof(*x.frame_num));
	for (size_t i = 0, n = 0; i < p->nr_frames; i++)
		x.frame_num[i] = profile_frame_is_view_only(p, i) ? 0 : n++;
	pb_bytes(&x.strtab, PROF_STRING_TABLE, "", 0);
	x.nr_strs = 1;

	/* --wall: wall time (the default) and the CPU time within it. */
	value_type(&x, PROF_SAMPLE_TYPE, p->meta.wall ? "wall" : "samples",
		   p->meta.wall ? "nanoseconds" : "count");
	value_type(&x, PROF_SAMPLE_TYPE, "cpu", "nanoseconds");
	add_samples(&x, &top);
	add_mappings(&x);
	add_locations(&x);
	pb_uint(&x.out, PROF_TIME_NANOS, p->meta.start_wall_ns);
	pb_uint(&x.out, PROF_DURATION_NANOS, p->meta.duration_ns);
	value_type(&x, PROF_PERIOD_TYPE, "cpu", "nanoseconds");
	pb_uint(&x.out, PROF_PERIOD, p->meta.freq_hz ? 1000000000ull / p->meta.freq_hz : 0);
	add_comments(&x);
	pb_uint(&x.out, PROF_DEFAULT_SAMPLE_TYPE, str_id(&x, p->meta.wall ? "wall" : "cpu"));

	/* The string table goes last: only now is it complete. */
	strbuf_add(&all, x.out.buf, x.out.len);
	strbuf_add(&all, x.strtab.buf, x.strtab.len);
	err = write_gzip(&all, out);

	strbuf_release(&all);
	strbuf_release(&x.out);
	strbuf_release(&x.msg);
	strbuf_release(&x.sub);
	strbuf_release(&x.strtab);
	u64map_free(&x.str_ids);
	free(x.frame_mapping);
	free(x.frame_addr);
	free(x.frame_used);
	free(x.frame_num);
	return err;
}

/* Window -> JSONEachRow rows. Every string goes through the JSON escaper
 * (strbuf_add_json: control bytes as \u00XX, invalid UTF-8 as U+FFFD), so a
 * name a profiled process chose cannot break a row or the statement. */
#include "store/ch_write.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hashtab.h"

const char *const ch_table_names[CH_T_NR] = { "stacks", "samples", "windows" };

#define NS_PER_S 1000000000ull
#define S_PER_DAY 86400ull

struct ch_writer {
	uint64_t *hash_of;	/* profile stack id -> its hash; 0: not computed */
	size_t alloc_hash;
	struct u64map sent;	/* hashes whose stacks row went out on sent_day */
	uint64_t sent_day;	/* days since the epoch (UTC) */
};

/* One samples row: a stack in one process of one program. */
struct agg {
	uint32_t stack, pid;
	const char *program;	/* interned in the profile: compared by pointer */
	uint64_t count;		/* samples, or ns with meta.wall */
	uint64_t on_ns;		/* meta.wall: the on-CPU part of count */
};

struct agg_set {
	struct agg *v;
	size_t nr, alloc;
	struct idx_table index;
};

void ch_batch_release(struct ch_batch *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

size_t ch_batch_size(const struct ch_batch *b)
{
	return b->len[CH_T_STACKS] + b->len[CH_T_SAMPLES] + b->len[CH_T_WINDOWS];
}

size_t ch_batch_offset(const struct ch_batch *b, enum ch_table t)
{
	size_t off = 0;

	for (int i = 0; i < (int)t; i++)
		off += b->len[i];
	return off;
}

void ch_batch_copy(struct ch_batch *dst, const struct ch_batch *src)
{
	size_t n = ch_batch_size(src);

	*dst = *src;
	dst->data = xmalloc(n + 1);
	memcpy(dst->data, src->data, n);
	dst->data[n] = '\0';
}

struct ch_writer *ch_writer_new(void)
{
	return xcalloc(1, sizeof(struct ch_writer));
}

void ch_writer_free(struct ch_writer *w)
{
	if (!w)
		return;
	free(w->hash_of);
	u64map_free(&w->sent);
	free(w);
}

void ch_writer_new_profile(struct ch_writer *w)
{
	free(w->hash_of);
	w->hash_of = NULL;
	w->alloc_hash = 0;
}

void ch_writer_forget_stacks(struct ch_writer *w)
{
	u64map_clear(&w->sent);
}

uint64_t ch_stack_hash(const struct profile *p, uint32_t stack)
{
	const frame_id_t *fr = profile_stack_frames(p, stack);
	uint32_t nr = p->stacks[stack].nr;
	uint64_t h = HASH_SEED;

	for (uint32_t i = 0; i < nr; i++) {
		const struct frame *f = profile_get_frame(p, fr[i]);

		/* The NULs keep ("ab","c") apart from ("a","bc"). */
		h = hash_bytes(&f->kind, 1, h);
		h = hash_bytes(f->name, strlen(f->name) + 1, h);
		h = hash_bytes(f->module, strlen(f->module) + 1, h);
	}
	return hash_u64(h ^ nr);
}

static uint64_t writer_hash(struct ch_writer *w, const struct profile *p, uint32_t stack)
{
	if (stack >= w->alloc_hash) {
		size_t old = w->alloc_hash;

		XGROW(w->hash_of, w->alloc_hash, stack + 1);
		memset(w->hash_of + old, 0, (w->alloc_hash - old) * sizeof(*w->hash_of));
	}
	if (!w->hash_of[stack])
		w->hash_of[stack] = ch_stack_hash(p, stack);
	return w->hash_of[stack];
}

static int agg_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct agg *a = &((const struct agg_set *)ctx)->v[id], *k = key;

	return a->stack == k->stack && a->pid == k->pid && a->program == k->program;
}

static void agg_add(struct agg_set *s, const struct agg *k)
{
	uint64_t h = hash_u64(((uint64_t)k->stack << 32 | k->pid) ^ (uintptr_t)k->program);
	uint32_t id = idx_find(&s->index, h, agg_eq, k, s);

	if (id == IDX_NONE) {
		XGROW(s->v, s->alloc, s->nr + 1);
		id = s->nr++;
		s->v[id] = *k;
		s->v[id].count = s->v[id].on_ns = 0;
		idx_insert(&s->index, h, id);
	}
	s->v[id].count += k->count;
	s->v[id].on_ns += k->on_ns;
}

static bool stack_offcpu(const struct profile *p, uint32_t stack)
{
	const struct stack *st = &p->stacks[stack];

	return st->nr &&
	       (profile_get_frame(p, profile_stack_frames(p, stack)[st->nr - 1])->flags &
		FRAME_F_OFFCPU);
}

static void collect(const struct profile *p, struct agg_set *s)
{
	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct sample_rec *r = &p->samples[i];
		const struct thread *t;
		struct agg k;

		if (!r->count)
			continue;
		t = &p->threads[r->thread];
		k = (struct agg){ .stack = r->stack, .pid = t->pid, .count = r->count,
				  .program = t->process ? t->process : t->comm };
		if (p->meta.wall && !stack_offcpu(p, r->stack))
			k.on_ns = r->count;
		agg_add(s, &k);
	}
}

static void add_day(struct strbuf *sb, uint64_t start_s)
{
	time_t t = (time_t)start_s;
	struct tm tm;
	char buf[16];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
	strbuf_addf(sb, "\"day\":\"%s\"", buf);
}

static void add_u64(struct strbuf *sb, const char *key, uint64_t v)
{
	strbuf_addf(sb, ",\"%s\":", key);
	strbuf_add_u64(sb, v);
}

/* A hash, quoted: UInt64 past 2^53 (or 2^63) is lost or refused by many
 * JSON readers; ClickHouse reads a quoted UInt64 as it writes one. */
static void add_hash(struct strbuf *sb, uint64_t v)
{
	strbuf_addstr(sb, ",\"stack_hash\":\"");
	strbuf_add_u64(sb, v);
	strbuf_addch(sb, '"');
}

static void add_str(struct strbuf *sb, const char *key, const char *v)
{
	strbuf_addf(sb, ",\"%s\":", key);
	strbuf_add_json_str(sb, v ? v : "");
}

static void add_labels(struct strbuf *sb, const struct ch_window *win)
{
	strbuf_addstr(sb, ",\"labels\":[");
	for (size_t i = 0; i < win->nr_labels; i++) {
		if (i)
			strbuf_addch(sb, ',');
		strbuf_add_json_str(sb, win->labels[i]);
	}
	strbuf_addch(sb, ']');
}

static void stack_row(struct strbuf *sb, const struct profile *p, uint32_t stack, uint64_t hash,
		      uint64_t start_s)
{
	const frame_id_t *fr = profile_stack_frames(p, stack);
	uint32_t nr = p->stacks[stack].nr;

	strbuf_addch(sb, '{');
	add_day(sb, start_s);
	add_hash(sb, hash);
	strbuf_addstr(sb, ",\"names\":[");
	for (uint32_t i = 0; i < nr; i++) {
		if (i)
			strbuf_addch(sb, ',');
		strbuf_add_json_str(sb, profile_get_frame(p, fr[i])->name);
	}
	strbuf_addstr(sb, "],\"modules\":[");
	for (uint32_t i = 0; i < nr; i++) {
		if (i)
			strbuf_addch(sb, ',');
		strbuf_add_json_str(sb, profile_get_frame(p, fr[i])->module);
	}
	strbuf_addstr(sb, "],\"kinds\":[");
	for (uint32_t i = 0; i < nr; i++) {
		if (i)
			strbuf_addch(sb, ',');
		strbuf_add_u64(sb, profile_get_frame(p, fr[i])->kind);
	}
	strbuf_addstr(sb, "]}\n");
}

/* On-CPU samples in ns of wall time: each weighs 1e9 / freq. */
static uint64_t wall_samples(uint64_t on_ns, uint32_t freq_hz)
{
	return freq_hz ? (on_ns * freq_hz + NS_PER_S / 2) / NS_PER_S : 0;
}

static void counters_json(struct strbuf *sb, const uint64_t *c)
{
	struct strbuf obj = STRBUF_INIT;
	bool any = false;

	strbuf_addch(&obj, '{');
	for (int i = 0; c && i < PC_NR; i++) {
		if (!c[i])
			continue;
		strbuf_addf(&obj, "%s\"%s\":", any ? "," : "", prof_counter_names[i]);
		strbuf_add_u64(&obj, c[i]);
		any = true;
	}
	strbuf_addch(&obj, '}');
	add_str(sb, "counters", obj.buf);
	strbuf_release(&obj);
}

void ch_write_window(struct ch_writer *w, const struct profile *p, const struct ch_window *win,
		     struct ch_batch *out)
{
	struct strbuf part[CH_T_NR] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
	struct agg_set set = { 0 };
	uint64_t start_s = win->start_ns / NS_PER_S, day = start_s / S_PER_DAY;
	uint64_t sum_samples = 0, sum_wall = 0;
	const char *service;

	memset(out, 0, sizeof(*out));
	out->seq = win->seq;
	if (day != w->sent_day) {
		u64map_clear(&w->sent);
		w->sent_day = day;
	}
	collect(p, &set);
	for (size_t i = 0; i < set.nr; i++) {
		const struct agg *a = &set.v[i];
		uint64_t hash = writer_hash(w, p, a->stack), samples, wall;
		uint32_t dummy;

		if (!u64map_get(&w->sent, hash, &dummy)) {
			u64map_put(&w->sent, hash, 1);
			stack_row(&part[CH_T_STACKS], p, a->stack, hash, start_s);
			out->rows[CH_T_STACKS]++;
		}
		samples = p->meta.wall ? wall_samples(a->on_ns, p->meta.freq_hz) : a->count;
		wall = p->meta.wall ? a->count : 0;
		service = win->service ? win->service(a->pid, win->service_ctx) : "";
		strbuf_addch(&part[CH_T_SAMPLES], '{');
		add_day(&part[CH_T_SAMPLES], start_s);
		add_u64(&part[CH_T_SAMPLES], "window_start", start_s);
		add_u64(&part[CH_T_SAMPLES], "window_ms", win->window_ms);
		add_str(&part[CH_T_SAMPLES], "host", win->host);
		add_str(&part[CH_T_SAMPLES], "service", service);
		add_str(&part[CH_T_SAMPLES], "program", a->program);
		add_u64(&part[CH_T_SAMPLES], "pid", a->pid);
		add_labels(&part[CH_T_SAMPLES], win);
		add_hash(&part[CH_T_SAMPLES], hash);
		add_u64(&part[CH_T_SAMPLES], "samples", samples);
		add_u64(&part[CH_T_SAMPLES], "wall_ns", wall);
		add_u64(&part[CH_T_SAMPLES], "freq_hz", p->meta.freq_hz);
		strbuf_addstr(&part[CH_T_SAMPLES], "}\n");
		out->rows[CH_T_SAMPLES]++;
		sum_samples += samples;
		sum_wall += wall;
	}
	strbuf_addch(&part[CH_T_WINDOWS], '{');
	add_day(&part[CH_T_WINDOWS], start_s);
	add_u64(&part[CH_T_WINDOWS], "window_start", start_s);
	add_u64(&part[CH_T_WINDOWS], "window_ms", win->window_ms);
	add_str(&part[CH_T_WINDOWS], "host", win->host);
	add_labels(&part[CH_T_WINDOWS], win);
	add_u64(&part[CH_T_WINDOWS], "seq", win->seq);
	add_u64(&part[CH_T_WINDOWS], "agent_start", win->agent_start_s);
	add_u64(&part[CH_T_WINDOWS], "samples", sum_samples);
	add_u64(&part[CH_T_WINDOWS], "wall_ns", sum_wall);
	add_u64(&part[CH_T_WINDOWS], "lost", win->lost);
	add_u64(&part[CH_T_WINDOWS], "spool_dropped", win->spool_dropped);
	counters_json(&part[CH_T_WINDOWS], win->counters);
	strbuf_addstr(&part[CH_T_WINDOWS], "}\n");
	out->rows[CH_T_WINDOWS] = 1;

	for (int t = 0; t < CH_T_NR; t++) {
		out->len[t] = part[t].len;
		if (t)
			strbuf_add(&part[0], part[t].buf, part[t].len);
	}
	out->data = strbuf_detach(&part[0]);
	strbuf_release(&part[1]);
	strbuf_release(&part[2]);
	free(set.v);
	idx_free(&set.index);
}

/* ---- service from a cgroup path ---- */

static bool is_hex(char c)
{
	return (c >= '0' && c <= 'f' && (c <= '9' || c >= 'a'));
}

/* A 64-hex run in [s, s + n): a container id (docker-ID.scope, ID,
 * cri-containerd-ID.scope, libpod-ID.scope, crio-ID.scope). */
static const char *container_id(const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		run = is_hex(s[i]) ? run + 1 : 0;
		if (run == 64 && (i + 1 == n || !is_hex(s[i + 1])))
			return s + i + 1 - 64;
	}
	return NULL;
}

/* One cgroup path: 1 and out set when it names a container or a unit. */
static int service_of_path(const char *path, size_t n, char *out, size_t len)
{
	const char *unit = NULL, *end = path + n;
	size_t unit_len = 0;

	for (const char *c = path; c < end;) {
		const char *slash = memchr(c, '/', end - c);
		size_t cl = (slash ? slash : end) - c;
		const char *id = container_id(c, cl);
		static const char suffix[] = ".service";

		if (id) {
			snprintf(out, len, "%.12s", id);
			return 1;
		}
		if (cl > strlen(suffix) && !memcmp(c + cl - strlen(suffix), suffix, strlen(suffix))) {
			unit = c;
			unit_len = cl;
		}
		c += cl + (slash != NULL);
	}
	if (!unit)
		return 0;
	snprintf(out, len, "%.*s", (int)unit_len, unit);
	return 1;
}

void ch_service_from_cgroup(const char *text, char *out, size_t len)
{
	if (!len)
		return;
	out[0] = '\0';
	/* pass 0: the v2 line ("0::/path"), 1: name=systemd, 2: the rest */
	for (int pass = 0; pass < 3; pass++) {
		for (const char *l = text; l && *l;) {
			const char *nl = strchr(l, '\n'), *e = nl ? nl : l + strlen(l);
			const char *c1 = memchr(l, ':', e - l), *c2;
			int kind;

			c2 = c1 ? memchr(c1 + 1, ':', e - c1 - 1) : NULL;
			if (c2) {
				kind = c2 == c1 + 1 && c1 - l == 1 && *l == '0' ? 0
				       : (size_t)(c2 - c1 - 1) == strlen("name=systemd") &&
						 !memcmp(c1 + 1, "name=systemd", c2 - c1 - 1)
					       ? 1
					       : 2;
				if (kind == pass && service_of_path(c2 + 1, e - c2 - 1, out, len))
					return;
			}
			l = nl ? nl + 1 : NULL;
		}
	}
}

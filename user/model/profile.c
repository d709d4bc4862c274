/* The profile model: interning of strings, frames, stacks, threads, samples. */
#include "model/profile.h"
#include "model/calls.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

const char *const prof_counter_names[PC_NR] = {
	[ST_CNT_SEEN] = "ticks",
	[ST_CNT_IDLE] = "idle",
	[ST_CNT_FILTERED] = "filtered",
	[ST_CNT_RECORDED] = "recorded",
	[ST_CNT_RINGBUF_FULL] = "lost_ringbuf_full",
	[ST_CNT_USER_STACK_ERR] = "user_stack_errors",
	[ST_CNT_KERN_STACK_ERR] = "kernel_stack_errors",
	[ST_CNT_EMPTY_STACK] = "empty_stacks",
	[ST_CNT_EVENT_LOST] = "lost_process_events",
	[ST_CNT_TARGETS_FULL] = "children_not_followed",
	[ST_CNT_UNWIND_NO_PROC] = "unwind_process_unknown",
	[ST_CNT_UNWIND_NO_MAP] = "unwind_mapping_unknown",
	[ST_CNT_UNWIND_FP_FRAMES] = "unwind_fp_frames",
	[ST_CNT_UNWIND_NO_RULE] = "unwind_no_rule",
	[ST_CNT_UNWIND_READ_ERR] = "unwind_read_errors",
	[ST_CNT_PY_NO_THREAD] = "python_no_thread_state",
	[ST_CNT_PY_READ_ERR] = "python_walk_errors",
	[ST_CNT_PY_NO_FRAME] = "python_no_frame",
	[ST_CNT_COLD_COPIES] = "cold_stack_copies",
	[ST_CNT_COLD_LOST] = "cold_copies_lost",
	[ST_CNT_OFF_SWITCHES] = "offcpu_switches",
	[ST_CNT_OFF_RECORDED] = "offcpu_recorded",
	[ST_CNT_OFF_LOST] = "offcpu_lost_ringbuf_full",
	[ST_CNT_OFF_START_MISSED] = "offcpu_start_missed",
	[ST_CNT_OFF_CAPPED] = "offcpu_capped",
	[ST_CNT_SCOPE_CALLS] = "scope_calls",
	[ST_CNT_SCOPE_OUTSIDE] = "scope_outside",
	[ST_CNT_SCOPE_LOST] = "scope_events_lost",
	[ST_CNT_SCOPE_FULL] = "scope_threads_full",
	[PC_UNNAMED_FRAMES] = "unnamed_frames",
	[PC_UNNAMED_FUNCS] = "unnamed_functions",
	[PC_PROC_GONE] = "process_gone",
	[PC_TRUNCATED_STACKS] = "truncated_stacks",
	[PC_STACK_TABLE_FULL] = "stack_table_full",
	[PC_FRAME_TABLE_FULL] = "frame_table_full",
	[PC_UNWIND_TABLE_FULL] = "unwind_table_full",
	[PC_UNWIND_EVICTED] = "unwind_tables_evicted",
	[PC_PY_BEFORE_FOUND] = "python_samples_before_found",
	[PC_PY_MAP_FULL] = "python_map_full",
	[PC_PY_CODE_REUSED] = "python_code_gone",
	[PC_JIT_MAP_SKIPPED] = "jit_map_lines_skipped",
	[PC_COLD_UNWOUND] = "cold_unwound",
	[PC_COLD_TRUNCATED] = "cold_truncated",
	[PC_COLD_LATE] = "cold_without_table",
	[PC_COLD_HOLD_FULL] = "cold_hold_full",
	[PC_EVENTS_DROPPED] = "timeline_events_dropped",
	[PC_OFF_NO_STACK] = "offcpu_no_stack",
};

struct profile *profile_new(void)
{
	struct profile *p = xcalloc(1, sizeof(*p));

	p->meta.exit_status = -1;
	p->max_stacks = PROFILE_MAX_STACKS;
	p->max_frames = PROFILE_MAX_FRAMES;
	p->overflow_frame = FRAME_NONE;
	p->overflow_stack = UINT32_MAX;
	return p;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nr_strs; i++)
		free(p->strs[i]);
	free(p->strs);
	free(p->frames);
	free(p->stack_frames);
	free(p->stacks);
	free(p->threads);
	free(p->samples);
	free(p->events);
	calls_free(p->calls);
	free(p->free_frames);
	free(p->free_strs);
	idx_free(&p->str_index);
	idx_free(&p->frame_index);
	idx_free(&p->stack_index);
	idx_free(&p->thread_index);
	idx_free(&p->sample_index);
	u64map_free(&p->unnamed_used);
	free(p->meta.target);
	free(p->meta.command);
	free(p->meta.hostname);
	free(p->meta.kernel);
	free(p->meta.note);
	free(p);
}

static int str_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct profile *p = ctx;

	return strcmp(p->strs[id], key) == 0;
}

const char *profile_intern(struct profile *p, const char *s)
{
	uint64_t h;
	uint32_t id;

	if (!s)
		return NULL;
	h = hash_bytes(s, strlen(s), HASH_SEED);
	id = idx_find(&p->str_index, h, str_eq, s, p);
	if (id != IDX_NONE)
		return p->strs[id];
	if (p->nr_free_strs) {
		id = p->free_strs[--p->nr_free_strs];
	} else {
		XGROW(p->strs, p->alloc_strs, p->nr_strs + 1);
		id = (uint32_t)p->nr_strs++;
	}
	p->strs[id] = xstrdup(s);
	idx_insert(&p->str_index, h, id);
	return p->strs[id];
}

/* Frames hold interned strings, so pointer equality is string equality. */
static int frame_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct profile *p = ctx;
	const struct frame *a = &p->frames[id], *b = key;

	return a->kind == b->kind && a->addr == b->addr && a->name == b->name &&
	       a->module == b->module && a->file == b->file && a->line == b->line &&
	       a->flags == b->flags;
}

static uint64_t frame_hash(const struct frame *f)
{
	uint64_t h = HASH_SEED;

	h = hash_bytes(&f->kind, 1, h);
	h = hash_bytes(&f->flags, 1, h);
	h = hash_bytes(&f->addr, sizeof(f->addr), h);
	h = hash_bytes(&f->line, sizeof(f->line), h);
	h = hash_bytes(&f->name, sizeof(f->name), h);
	h = hash_bytes(&f->module, sizeof(f->module), h);
	h = hash_bytes(&f->file, sizeof(f->file), h);
	return h;
}

frame_id_t profile_frame(struct profile *p, const struct frame *in)
{
	struct frame f = *in;
	uint64_t h;
	uint32_t id;

	f.name = profile_intern(p, f.name && f.name[0] ? f.name : "[unknown]");
	f.module = profile_intern(p, f.module ? f.module : "");
	f.file = profile_intern(p, f.file);
	h = frame_hash(&f);
	id = idx_find(&p->frame_index, h, frame_eq, &f, p);
	if (id != IDX_NONE)
		return id;
	/* Only threads' frames take freed slots: they are never part of a
	 * stack, and a view's per-frame memo (library or not) stays true. */
	if (p->nr_free_frames && (f.kind == FRAME_PROCESS || f.kind == FRAME_THREAD)) {
		id = p->free_frames[--p->nr_free_frames];
		p->frames[id] = f;
		idx_insert(&p->frame_index, h, id);
		return id;
	}
	if (p->nr_frames >= p->max_frames) {
		p->meta.counters[PC_FRAME_TABLE_FULL]++;
		if (p->overflow_frame != FRAME_NONE)
			return p->overflow_frame;
		/* The one frame allowed past the cap, once. */
		f = (struct frame){ .name = profile_intern(p, "[truncated: too many distinct frames]"),
				    .module = profile_intern(p, ""), .kind = FRAME_SPECIAL };
		h = frame_hash(&f);
		p->overflow_frame = p->nr_frames;
	}
	XGROW(p->frames, p->alloc_frames, p->nr_frames + 1);
	p->frames[p->nr_frames] = f;
	idx_insert(&p->frame_index, h, p->nr_frames);
	return p->nr_frames++;
}

frame_id_t profile_special_frame(struct profile *p, enum frame_kind kind, const char *name)
{
	struct frame f = { .name = name, .module = "", .kind = kind };

	return profile_frame(p, &f);
}

struct thread_key {
	uint32_t pid, tid, flags, zero;	/* no padding: the key is hashed as bytes */
	const char *comm, *process;	/* interned */
};

static int thread_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct profile *p = ctx;
	const struct thread *t = &p->threads[id];
	const struct thread_key *k = key;

	return t->pid == k->pid && t->tid == k->tid && t->flags == k->flags &&
	       t->comm == k->comm && t->process == k->process;
}

uint32_t profile_thread_flags(struct profile *p, uint32_t pid, uint32_t tid, const char *comm,
			      const char *process, uint32_t flags)
{
	struct thread_key k = { pid, tid, flags, 0, profile_intern(p, comm ? comm : ""),
				profile_intern(p, process ? process : comm ? comm : "") };
	struct strbuf sb = STRBUF_INIT;
	struct thread *t;
	uint64_t h;
	uint32_t id;

	h = hash_bytes(&k, sizeof(k), HASH_SEED);
	id = idx_find(&p->thread_index, h, thread_eq, &k, p);
	if (id != IDX_NONE)
		return id;
	XGROW(p->threads, p->alloc_threads, p->nr_threads + 1);
	t = &p->threads[p->nr_threads];
	t->pid = pid;
	t->tid = tid;
	t->flags = flags;
	t->comm = k.comm;
	t->process = k.process;
	if ((flags & THREAD_F_EXITED) && !pid)
		strbuf_addf(&sb, "%s [exited]", k.process);
	else
		strbuf_addf(&sb, "%s [%u]", k.process, pid);
	/* profile_special_frame may grow p->frames but never p->threads. */
	t->proc_frame = profile_special_frame(p, FRAME_PROCESS, sb.buf);
	strbuf_reset(&sb);
	if (flags & THREAD_F_EXITED)
		strbuf_addf(&sb, "%s [exited]", k.comm);
	else
		strbuf_addf(&sb, "%s [%u]", k.comm, tid);
	t->thread_frame = profile_special_frame(p, FRAME_THREAD, sb.buf);
	t->prog_frame = profile_special_frame(p, FRAME_PROGRAM, k.process);
	strbuf_release(&sb);
	idx_insert(&p->thread_index, h, p->nr_threads);
	return p->nr_threads++;
}

uint32_t profile_thread(struct profile *p, uint32_t pid, uint32_t tid, const char *comm,
			const char *process)
{
	return profile_thread_flags(p, pid, tid, comm, process, 0);
}

/* Where thread t goes: itself, or its (process, comm)'s exited record. */
static uint32_t coalesce_one(struct profile *p, const struct thread *t,
			     profile_thread_state_fn state, void *ctx)
{
	uint32_t pid = t->pid, tid = t->tid, flags = t->flags;

	if (!pid)	/* the idle task, or processes already gone */
		;
	else if (flags & THREAD_F_EXITED) {
		if (state(pid, pid, ctx) == THREAD_GONE)
			pid = 0;
	} else {
		switch (state(pid, tid, ctx)) {
		case THREAD_GONE:
			pid = 0;
			/* fall through */
		case THREAD_PROCESS_ALIVE:
			tid = 0;
			flags |= THREAD_F_EXITED;
			break;
		case THREAD_ALIVE:
			break;
		}
	}
	return profile_thread_flags(p, pid, tid, t->comm, t->process, flags);
}

/* Frees the synthetic frame f, which no thread uses any more; its name
 * becomes a candidate for freeing too. */
static void free_thread_frame(struct profile *p, frame_id_t f, const struct frame *unused,
			      struct u64map *names)
{
	struct frame *fr = &p->frames[f];

	idx_remove(&p->frame_index, frame_hash(fr), f);
	u64map_put(names, (uintptr_t)fr->name, 1);
	/* Not in the index: found by no lookup, named in no stack. */
	*fr = *unused;
	XGROW(p->free_frames, p->alloc_free_frames, p->nr_free_frames + 1);
	p->free_frames[p->nr_free_frames++] = f;
}

static void unmark_name(struct u64map *names, const char *s)
{
	uint32_t v;

	if (s && u64map_get(names, (uintptr_t)s, &v) && v)
		u64map_put(names, (uintptr_t)s, 0);
}

size_t profile_coalesce_exited(struct profile *p, profile_thread_state_fn state, void *ctx)
{
	struct thread *old = p->threads;
	struct sample_rec *samples = p->samples;
	size_t nr_old = p->nr_threads, nr_samples = p->nr_samples;
	uint32_t *map = xmalloc((nr_old + 1) * sizeof(*map));
	const struct frame unused = { .name = p->unused_name = profile_intern(p, "[unused]"),
				      .module = profile_intern(p, ""), .kind = FRAME_SPECIAL };
	struct u64map names = { 0 };
	uint8_t *used;

	p->threads = NULL;
	p->nr_threads = p->alloc_threads = 0;
	idx_clear(&p->thread_index);
	for (size_t i = 0; i < nr_old; i++)
		map[i] = coalesce_one(p, &old[i], state, ctx);

	/* The synthetic frames no thread uses any more, and their names. */
	used = xcalloc(p->nr_frames + 1, 1);
	for (size_t i = 0; i < p->nr_threads; i++)
		used[p->threads[i].proc_frame] = used[p->threads[i].thread_frame] = 1;
	for (size_t i = 0; i < nr_old; i++) {
		frame_id_t f[2] = { old[i].proc_frame, old[i].thread_frame };

		for (int k = 0; k < 2; k++) {
			if (used[f[k]])
				continue;
			used[f[k]] = 1;
			if (p->frames[f[k]].kind == FRAME_PROCESS || p->frames[f[k]].kind == FRAME_THREAD)
				free_thread_frame(p, f[k], &unused, &names);
		}
	}
	free(used);
	for (size_t i = 0; names.nr && i < p->nr_frames; i++) {
		unmark_name(&names, p->frames[i].name);
		unmark_name(&names, p->frames[i].module);
		unmark_name(&names, p->frames[i].file);
	}
	for (size_t i = 0; names.nr && i < p->nr_threads; i++) {
		unmark_name(&names, p->threads[i].comm);
		unmark_name(&names, p->threads[i].process);
	}
	for (size_t i = 0; i < names.cap; i++) {
		const char *s = (const char *)(uintptr_t)names.keys[i];
		uint64_t h;
		uint32_t id;

		if (!names.used[i] || !names.vals[i])
			continue;
		h = hash_bytes(s, strlen(s), HASH_SEED);
		id = idx_find(&p->str_index, h, str_eq, s, p);
		idx_remove(&p->str_index, h, id);
		free(p->strs[id]);
		p->strs[id] = NULL;
		XGROW(p->free_strs, p->alloc_free_strs, p->nr_free_strs + 1);
		p->free_strs[p->nr_free_strs++] = id;
	}
	u64map_free(&names);

	/* Samples again, onto the new thread ids; empty records go. */
	p->samples = NULL;
	p->nr_samples = p->alloc_samples = 0;
	idx_clear(&p->sample_index);
	p->total = 0;
	for (size_t i = 0; i < nr_samples; i++)
		if (samples[i].count)
			profile_add(p, samples[i].stack, map[samples[i].thread], samples[i].count);
	for (size_t i = 0; i < p->nr_events; i++)
		p->events[i].thread = map[p->events[i].thread];
	free(samples);
	free(old);
	free(map);
	p->generation++;
	return nr_old - p->nr_threads;
}

struct stack_key {
	const frame_id_t *frames;
	uint32_t nr;
};

static int stack_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct profile *p = ctx;
	const struct stack_key *k = key;
	const struct stack *s = &p->stacks[id];

	return s->nr == k->nr &&
	       !memcmp(&p->stack_frames[s->off], k->frames, k->nr * sizeof(frame_id_t));
}

static uint64_t stack_hash(const frame_id_t *frames, uint32_t nr)
{
	return hash_bytes(frames, nr * sizeof(frame_id_t), HASH_SEED ^ nr);
}

static uint32_t stack_append(struct profile *p, const frame_id_t *frames, uint32_t nr)
{
	/* Unnamed frames count when first in a stack, not when made: some
	 * are made ahead of use. */
	for (uint32_t i = 0; i < nr; i++) {
		uint32_t seen;

		if ((p->frames[frames[i]].flags & FRAME_F_UNKNOWN) &&
		    !u64map_get(&p->unnamed_used, frames[i], &seen)) {
			u64map_put(&p->unnamed_used, frames[i], 1);
			p->meta.counters[PC_UNNAMED_FUNCS]++;
		}
	}
	XGROW(p->stack_frames, p->alloc_stack_frames, p->nr_stack_frames + nr);
	memcpy(&p->stack_frames[p->nr_stack_frames], frames, nr * sizeof(frame_id_t));
	XGROW(p->stacks, p->alloc_stacks, p->nr_stacks + 1);
	p->stacks[p->nr_stacks] = (struct stack){ (uint32_t)p->nr_stack_frames, nr };
	p->nr_stack_frames += nr;
	idx_insert(&p->stack_index, stack_hash(frames, nr), p->nr_stacks);
	return p->nr_stacks++;
}

uint32_t profile_stack(struct profile *p, const frame_id_t *frames, uint32_t nr)
{
	struct stack_key k = { frames, nr };
	uint32_t id = idx_find(&p->stack_index, stack_hash(frames, nr), stack_eq, &k, p);
	frame_id_t f;

	if (id != IDX_NONE)
		return id;
	if (p->nr_stacks < p->max_stacks)
		return stack_append(p, frames, nr);
	/* Past the cap: one extra stack, made once, takes every new one. */
	p->meta.counters[PC_STACK_TABLE_FULL]++;
	if (p->overflow_stack == UINT32_MAX) {
		f = profile_special_frame(p, FRAME_SPECIAL, "[truncated: too many distinct stacks]");
		p->overflow_stack = stack_append(p, &f, 1);
	}
	return p->overflow_stack;
}

uint32_t profile_copy_stack(struct profile *dst, const struct profile *src, uint32_t stack)
{
	const frame_id_t *fr = profile_stack_frames(src, stack);
	uint32_t nr = src->stacks[stack].nr;
	frame_id_t *ids = xmalloc((nr ? nr : 1) * sizeof(*ids));
	uint32_t id;

	for (uint32_t i = 0; i < nr; i++)
		ids[i] = profile_frame(dst, profile_get_frame(src, fr[i]));
	id = profile_stack(dst, ids, nr);
	free(ids);
	return id;
}

static int sample_eq(uint32_t id, const void *key, const void *ctx)
{
	const struct profile *p = ctx;
	const struct sample_rec *a = &p->samples[id], *b = key;

	return a->stack == b->stack && a->thread == b->thread;
}

void profile_add(struct profile *p, uint32_t stack, uint32_t thread, uint64_t count)
{
	struct sample_rec k = { stack, thread, 0 };
	uint64_t h = hash_u64(((uint64_t)stack << 32) | thread);
	uint32_t id = idx_find(&p->sample_index, h, sample_eq, &k, p);

	if (id == IDX_NONE) {
		XGROW(p->samples, p->alloc_samples, p->nr_samples + 1);
		id = p->nr_samples++;
		p->samples[id] = k;
		idx_insert(&p->sample_index, h, id);
	}
	p->samples[id].count += count;
	p->total += count;
}

void profile_add_sample(struct profile *p, uint32_t thread, const frame_id_t *frames, uint32_t nr,
			uint64_t count)
{
	profile_add(p, profile_stack(p, frames, nr), thread, count);
}

void profile_add_event(struct profile *p, uint32_t thread, uint32_t stack, uint64_t t_ns,
		       uint64_t weight, uint64_t call)
{
	if (!p->keep_events)
		return;
	if (p->nr_events >= PROFILE_MAX_EVENTS) {
		p->meta.counters[PC_EVENTS_DROPPED]++;
		return;
	}
	XGROW(p->events, p->alloc_events, p->nr_events + 1);
	p->events[p->nr_events++] = (struct prof_event){ .t_ns = t_ns, .weight = weight,
							 .stack = stack, .thread = thread,
							 .call = call };
}

void profile_reset_counts(struct profile *p)
{
	for (size_t i = 0; i < p->nr_samples; i++)
		p->samples[i].count = 0;
	p->total = 0;
}

void profile_scale_counts(struct profile *p, uint64_t num, uint64_t den)
{
	p->total = 0;
	for (size_t i = 0; i < p->nr_samples; i++) {
		p->samples[i].count = p->samples[i].count * num / den;
		p->total += p->samples[i].count;
	}
}

bool profile_many_pids(const struct profile *p)
{
	for (size_t i = 1; i < p->nr_threads; i++)
		if (p->threads[i].pid != p->threads[0].pid)
			return true;
	return false;
}

double profile_seconds(const struct profile *p, uint64_t count)
{
	if (p->meta.wall)
		return (double)count / 1e9;
	return p->meta.freq_hz ? (double)count / p->meta.freq_hz : 0;
}

bool profile_stack_offcpu(const struct profile *p, uint32_t stack)
{
	uint32_t nr = p->stacks[stack].nr;

	return nr && (p->frames[profile_stack_frames(p, stack)[nr - 1]].flags & FRAME_F_OFFCPU);
}

uint64_t profile_cpu_weight(const struct profile *p)
{
	uint64_t cpu = 0;

	if (!p->meta.wall)
		return p->total;
	for (size_t i = 0; i < p->nr_samples; i++)
		if (!profile_stack_offcpu(p, p->samples[i].stack))
			cpu += p->samples[i].count;
	return cpu;
}

bool profile_stack_idle(const struct profile *p, uint32_t stack)
{
	const struct stack *st = &p->stacks[stack];
	const struct frame *f;

	if (!st->nr)
		return false;
	f = &p->frames[p->stack_frames[st->off]];
	return f->kind == FRAME_SPECIAL && !strcmp(f->name, PROFILE_IDLE_NAME);
}

uint64_t profile_idle_weight(const struct profile *p, uint32_t *threads)
{
	struct u64map seen = { 0 };
	uint64_t w = 0;
	uint32_t v, n = 0;

	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct sample_rec *r = &p->samples[i];

		if (!r->count || !profile_stack_idle(p, r->stack))
			continue;
		w += r->count;
		if (!u64map_get(&seen, r->thread, &v)) {
			u64map_put(&seen, r->thread, 1);
			n++;
		}
	}
	u64map_free(&seen);
	if (threads)
		*threads = n;
	return w;
}

uint64_t profile_lost_samples(const struct profile *p)
{
	return p->meta.counters[ST_CNT_RINGBUF_FULL];
}

/* Walking the Python stack of a sampled CPython thread. Included once, by
 * sampletop.bpf.c. Userspace fills py_procs for each Python process it finds;
 * here we find the thread's PyThreadState (the interpreter's thread list,
 * matched on thread_id == the task's fsbase, cached per tid), then follow
 * its frame chain and record each frame's code object and instruction. */
#ifndef PYTHON_BPF_H
#define PYTHON_BPF_H

#include <bpf/bpf_core_read.h>
#include "st_python.h"

#define PY_IPS_WORDS (sizeof(((struct st_sample *)0)->ips) / sizeof(__u64))

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ST_PY_MAX_PROCS);
	__type(key, __u32);			/* tgid */
	__type(value, struct st_py_info);
} py_procs SEC(".maps");

/* tid -> its PyThreadState, checked on every use (thread_id must still match). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} py_tstates SEC(".maps");

struct py_thread_ctx {
	const struct st_py_info *info;
	__u64 fsbase;
	__u64 interp;		/* the interpreter whose threads are walked */
	__u64 tstate;		/* in: its first thread; out: the match */
	int err, found;
};

/* One thread state per step; at the end of an interpreter's list, on to
 * the next interpreter's (subinterpreters). */
static long py_thread_step(__u64 i, void *data)
{
	struct py_thread_ctx *c = data;
	__u64 tid_val = 0, next = 0;

	if (!c->tstate) {
		if (!c->interp ||
		    bpf_probe_read_user(&c->interp, sizeof(c->interp),
					(void *)(c->interp + c->info->interp_next)) ||
		    !c->interp ||
		    bpf_probe_read_user(&c->tstate, sizeof(c->tstate),
					(void *)(c->interp + c->info->interp_threads))) {
			c->tstate = 0;
			return 1;
		}
		return 0;
	}
	if (bpf_probe_read_user(&tid_val, sizeof(tid_val),
				(void *)(c->tstate + c->info->tstate_thread_id))) {
		c->err = 1;
		c->tstate = 0;
		return 1;
	}
	if (tid_val == c->fsbase) {
		c->found = 1;
		return 1;
	}
	if (bpf_probe_read_user(&next, sizeof(next), (void *)(c->tstate + c->info->tstate_next)))
		c->err = 1;
	c->tstate = next;
	return 0;
}

/* The PyThreadState of the current thread, or 0. */
static __always_inline __u64 py_find_tstate(const struct st_py_info *info, __u32 tid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct py_thread_ctx c = { .info = info };
	__u64 *cached, interp = 0, tid_val = 0;
	int n;

	c.fsbase = BPF_CORE_READ(task, thread.fsbase);
	cached = bpf_map_lookup_elem(&py_tstates, &tid);
	if (cached && *cached &&
	    !bpf_probe_read_user(&tid_val, sizeof(tid_val), (void *)(*cached + info->tstate_thread_id)) &&
	    tid_val == c.fsbase)
		return *cached;

	if (bpf_probe_read_user(&interp, sizeof(interp), (void *)info->interp_head) || !interp)
		return 0;
	if (bpf_probe_read_user(&c.tstate, sizeof(c.tstate), (void *)(interp + info->interp_threads)))
		return 0;
	c.interp = interp;
	n = bpf_loop(ST_PY_MAX_THREADS, py_thread_step, &c, 0);
	if (n < 0 || c.err || !c.found)
		c.tstate = 0;
	if (c.tstate)
		bpf_map_update_elem(&py_tstates, &tid, &c.tstate, BPF_ANY);
	return c.tstate;
}

/* One frame's bytes, read at once (per CPU: map values allow the
 * variable-offset reads the userspace-given offsets need). */
struct py_frame_buf {
	__u64 w[16];		/* a power of two, for the index mask */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct py_frame_buf);
} py_scratch SEC(".maps");

struct py_walk_ctx {
	const struct st_py_info *info;
	struct st_sample *s;
	struct py_frame_buf *buf;
	__u64 frame;
	__u32 base;		/* index in s->ips of the first Python word */
	__u32 nr;		/* frames recorded */
	int err;
};

/* The 8-byte field at off (8-aligned in every layout we know), or 0. */
static __always_inline __u64 py_word(const struct py_frame_buf *b, __u32 off)
{
	if (off >= ST_PY_FRAME_READ)
		return 0;
	return b->w[(off / 8) & 15];
}

static __always_inline __u8 py_byte(const struct py_frame_buf *b, __u32 off)
{
	return py_word(b, off) >> ((off & 7) * 8);
}

/* s->ips[idx] = v, bounds-checked in a way the verifier can follow. */
static __always_inline void py_put(struct st_sample *s, __u64 idx, __u64 v)
{
	asm volatile("" : "+r"(idx));
	if (idx < PY_IPS_WORDS)
		s->ips[idx] = v;
}

static __always_inline void py_mark_entry(struct st_sample *s, __u64 idx)
{
	asm volatile("" : "+r"(idx));
	if (idx < PY_IPS_WORDS)
		s->ips[idx] |= ST_PY_F_ENTRY;
}

static long py_walk_step(__u64 i, void *data)
{
	struct py_walk_ctx *c = data;
	const struct st_py_info *info = c->info;
	struct py_frame_buf *b = c->buf;
	__u64 code, instr, flags = 0, idx, name = 0;

	if (!c->frame)
		return 1;
	if (bpf_probe_read_user(b, ST_PY_FRAME_READ, (void *)c->frame)) {
		c->err = 1;
		return 1;
	}
	code = py_word(b, info->frame_code);
	instr = py_word(b, info->frame_instr);
	c->frame = py_word(b, info->frame_previous);

	if (info->layout == ST_PY_LAYOUT_FRAMEOBJ) {
		instr &= 0xffffffff;	/* int f_lasti */
		flags = ST_PY_F_ENTRY;
	} else {
		instr = instr >= code && instr - code < ST_PY_NO_INSTR ? instr - code : ST_PY_NO_INSTR;
	}
	if (info->layout != ST_PY_LAYOUT_FRAMEOBJ && info->frame_entry != ST_PY_NO_OFF) {
		__u8 v = py_byte(b, info->frame_entry);

		if (info->layout == ST_PY_LAYOUT_ENTRY_FLAG) {
			if (v)
				flags = ST_PY_F_ENTRY;
		} else if (v == ST_PY_OWNED_BY_CSTACK) {
			/* A shim frame: the frame before it (leafward) was entered
			 * from C. Mark that one; record nothing for the shim. */
			if (c->nr > 0)
				py_mark_entry(c->s, c->base + (c->nr - 1) * ST_PY_FRAME_WORDS);
			return 0;
		}
	}
	if (c->nr >= ST_PY_MAX_FRAMES) {
		c->s->flags |= ST_SAMPLE_PY_TRUNCATED;
		return 1;
	}
	idx = c->base + c->nr * ST_PY_FRAME_WORDS;
	if (idx + 1 >= PY_IPS_WORDS)
		return 1;
	/* The tag: which code object lived at this address when sampled. */
	if (code && bpf_probe_read_user(&name, sizeof(name), (void *)(code + info->code_name)))
		name = 0;
	py_put(c->s, idx, (code & ST_PY_ADDR_MASK) | flags);
	py_put(c->s, idx + 1, (instr & 0xffffffff) | name << 32);
	c->nr++;
	return 0;
}

/* Appends the Python frames of the current thread at s->ips[base ...).
 * Returns how many (0 for a non-Python process or thread). */
static __always_inline __u32 capture_python_stack(struct st_sample *s, __u32 tgid, __u32 tid,
						  __u32 base)
{
	const struct st_py_info *info = bpf_map_lookup_elem(&py_procs, &tgid);
	struct py_walk_ctx c = { .info = info, .s = s, .base = base };
	__u64 tstate, frame = 0;
	__u32 zero = 0;

	if (!info)
		return 0;
	s->flags |= ST_SAMPLE_PY;
	tstate = py_find_tstate(info, tid);
	if (!tstate) {
		count(ST_CNT_PY_NO_THREAD);
		return 0;
	}
	if (bpf_probe_read_user(&frame, sizeof(frame), (void *)(tstate + info->tstate_frame)))
		goto fail;
	if (info->cframe_frame != ST_PY_NO_OFF && frame &&
	    bpf_probe_read_user(&frame, sizeof(frame), (void *)(frame + info->cframe_frame)))
		goto fail;
	if (!frame) {
		count(ST_CNT_PY_NO_FRAME);	/* a Python thread between Python calls */
		return 0;
	}

	c.buf = bpf_map_lookup_elem(&py_scratch, &zero);
	if (!c.buf)
		return 0;
	c.info = info;
	c.frame = frame;
	bpf_loop(ST_PY_MAX_FRAMES + ST_PY_MAX_FRAMES / 2, py_walk_step, &c, 0);
	if (c.err)
		count(ST_CNT_PY_READ_ERR);
	else if (c.frame)
		s->flags |= ST_SAMPLE_PY_TRUNCATED;	/* the loop ran out first */
	return c.nr;
fail:
	count(ST_CNT_PY_READ_ERR);
	return 0;
}

#endif

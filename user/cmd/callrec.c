/* --scope in the recorder: call records and Python timelines -> model/calls. */
#include "cmd/callrec.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

/* Python functions one run scopes (a bit each in the per-stack memo). */
#define CALLREC_MAX_PY 32

struct callrec {
	struct profile *prof;
	struct calls *calls;
	uint32_t native[CALLREC_MAX_PY * 8];	/* probe index -> function index */
	uint32_t nr_native;
	uint32_t py[CALLREC_MAX_PY];	/* Python function indexes */
	uint32_t nr_py;
	struct u64map py_memo;	/* stack -> 1 + mask of the Python functions it holds */
	uint64_t start_ns;
	uint64_t outside;
	callrec_ended_fn ended;
	void *ctx;
};

bool callrec_fn_is_python(const char *func)
{
	return !strncmp(func, "py:", 3) || strchr(func, '.');
}

const char *callrec_fn_name(const char *func)
{
	return strncmp(func, "py:", 3) ? func : func + 3;
}

struct callrec *callrec_new(struct profile *p, const char *const *funcs, size_t nr, uint32_t keep,
			    uint64_t start_ns, callrec_ended_fn ended, void *ctx)
{
	struct callrec *cr = xcalloc(1, sizeof(*cr));

	cr->prof = p;
	if (!p->calls)
		p->calls = calls_new(keep);
	cr->calls = p->calls;
	cr->start_ns = start_ns;
	cr->ended = ended;
	cr->ctx = ctx;
	for (size_t i = 0; i < nr; i++) {
		bool py = callrec_fn_is_python(funcs[i]);
		uint32_t fn = calls_add_fn(cr->calls, callrec_fn_name(funcs[i]), py);

		if (py && cr->nr_py < CALLREC_MAX_PY)
			cr->py[cr->nr_py++] = fn;
		else if (!py && cr->nr_native < ARRAY_SIZE(cr->native))
			cr->native[cr->nr_native++] = fn;
	}
	return cr;
}

void callrec_free(struct callrec *cr)
{
	if (!cr)
		return;
	u64map_free(&cr->py_memo);
	free(cr);
}

bool callrec_has_python(const struct callrec *cr)
{
	return cr->nr_py;
}

static uint64_t since_start(const struct callrec *cr, uint64_t t)
{
	return t > cr->start_ns ? t - cr->start_ns : 0;
}

static void ended(struct callrec *cr, const struct call *call)
{
	if (call && cr->ended)
		cr->ended(cr->prof, call, cr->ctx);
}

void callrec_call_record(struct callrec *cr, const struct st_call *c, size_t size)
{
	char comm[ST_COMM_LEN + 1] = "";

	if (size < sizeof(*c) || c->probe >= cr->nr_native || !c->call_id)
		return;
	if (c->kind == ST_EV_CALL_BEGIN) {
		/* The thread's name comes with its samples: the record has none. */
		for (size_t i = 0; i < cr->prof->nr_threads; i++)
			if (cr->prof->threads[i].tid == c->tid && cr->prof->threads[i].pid == c->tgid) {
				snprintf(comm, sizeof(comm), "%s", cr->prof->threads[i].comm);
				break;
			}
		calls_begin(cr->calls, cr->native[c->probe], c->call_id, c->tgid, c->tid, comm,
			    NULL, since_start(cr, c->begin_ns));
	} else if (c->kind == ST_EV_CALL_END) {
		if (!calls_find_open(cr->calls, c->call_id))
			/* Its begin was lost: the call still counts, without samples. */
			calls_begin(cr->calls, cr->native[c->probe], c->call_id, c->tgid, c->tid,
				    "", NULL, since_start(cr, c->begin_ns));
		ended(cr, calls_end(cr->calls, c->call_id, since_start(cr, c->time_ns)));
	}
}

/* Which Python functions does the stack hold a frame of (a bit each)?
 * PY_NONE: its stack was not recorded (an off-CPU interval whose switch-out
 * was lost or past the rate cap, a slice without a stack: synthetic frames
 * only, ending in an off-CPU reason or "[no stack]"): it says nothing of
 * where the thread was. Native frames without Python ones, or "[exiting]",
 * say it was not in Python, as much as other Python frames do. */
#define PY_NONE UINT32_MAX
static uint32_t py_mask(struct callrec *cr, uint32_t stack)
{
	const struct profile *p = cr->prof;
	const frame_id_t *fr;
	uint32_t v, mask = 0;

	if (u64map_get(&cr->py_memo, stack, &v))
		return v - 1;
	fr = profile_stack_frames(p, stack);
	uint32_t nr = p->stacks[stack].nr;
	const struct frame *leaf = nr ? profile_get_frame(p, fr[nr - 1]) : NULL;
	bool code = !leaf || !((leaf->flags & FRAME_F_OFFCPU) || !strcmp(leaf->name, "[no stack]"));

	for (uint32_t i = 0; i < nr; i++) {
		const struct frame *f = profile_get_frame(p, fr[i]);

		code |= f->kind != FRAME_SPECIAL;
		if (f->kind != FRAME_PYTHON)
			continue;
		for (uint32_t k = 0; k < cr->nr_py; k++)
			if (calls_py_name_matches(f->name, cr->calls->fns[cr->py[k]].name))
				mask |= 1u << k;
	}
	if (!code)
		mask = PY_NONE;
	/* 1 + a 32-bit mask may not fit the map's value: such stacks are
	 * looked at again each time, which is only slower. */
	if (mask < UINT32_MAX - 1)
		u64map_put(&cr->py_memo, stack, mask + 1);
	return mask;
}

bool callrec_event(struct callrec *cr, uint32_t pid, uint32_t tid, const char *comm,
		   const char *process, uint32_t stack, uint64_t start_ns, uint64_t end_ns,
		   uint64_t weight, uint64_t call_id)
{
	uint32_t mask;

	/* The pieces keep within their thread's records (capture/offcpu.c:
	 * a slice without a switch-out ends a period after its last sample),
	 * so a Python call's bounds are theirs. */
	if (call_id)
		calls_add(cr->calls, call_id, stack, weight);
	if (!cr->nr_py)
		return true;
	mask = stack < cr->prof->nr_stacks ? py_mask(cr, stack) : PY_NONE;
	if (mask == PY_NONE) {
		/* No code frame at all: its stack was not recorded (a lost
		 * or capped switch-out). It says nothing of the frame: it
		 * belongs to the call the thread is in, if any. */
		mask = 0;
		for (uint32_t k = 0; k < cr->nr_py; k++)
			if (calls_find_py_open(cr->calls, cr->py[k], pid, tid))
				mask |= 1u << k;
		if (!mask && !call_id) {
			cr->outside++;
			return false;
		}
	}
	for (uint32_t k = 0; k < cr->nr_py; k++)
		ended(cr, calls_py_event(cr->calls, cr->py[k], pid, tid, comm, process,
					 mask & (1u << k), since_start(cr, start_ns),
					 since_start(cr, end_ns), stack, weight));
	if (!mask && !call_id) {
		cr->outside++;
		return false;
	}
	return true;
}

void callrec_sweep(struct callrec *cr, bool (*alive)(uint32_t pid, uint32_t tid),
		   uint64_t now_ns)
{
	uint64_t now = since_start(cr, now_ns);
	struct calls *c = cr->calls;

	for (size_t i = 0; i < c->nr_open;) {
		struct call *call = c->open[i];

		if (!c->fns[call->fn].python || call->end_ns + CALLREC_SWEEP_AGE_NS > now ||
		    alive(call->pid, call->tid)) {
			i++;
			continue;
		}
		/* calls_end moves the last open call here: look at i again. */
		ended(cr, calls_end(c, call->id, call->end_ns));
	}
}

uint64_t callrec_outside(const struct callrec *cr)
{
	return cr->outside;
}

static void ended_cb(const struct call *call, void *ctx)
{
	ended(ctx, call);
}

void callrec_stop(struct callrec *cr, uint64_t stop_ns)
{
	calls_end_all(cr->calls, since_start(cr, stop_ns), ended_cb, cr);
}

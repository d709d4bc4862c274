/* Loading saved profiles (the JSON report) as hostile input: every field is
 * type- and range-checked, every id bounds-checked, before it is used. Every
 * name comes from format.h. */
#include "store/store.h"
#include "store/format.h"
#include "model/calls.h"
#include "model/tree.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest stack we accept: what the view's path buffer holds besides the two
 * synthetic process/thread levels. */
#define STORE_MAX_STACK (TREE_MAX_PATH - 2)

struct loader {
	struct profile *p;
	char *err;
	size_t errlen;
	frame_id_t *frame_map;	/* file frame index -> profile id */
	size_t nr_frames;
	uint32_t *thread_map;
	size_t nr_threads;
	uint32_t *stack_map;
	size_t nr_stacks;
	char *tmp;		/* decoded {"bytes": hex} strings, freed per use */
};

static int fail(struct loader *l, const char *fmt, ...) PRINTF(2, 3);
static int fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->err, l->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int store_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 1 : utf8_seq_len(p);

		if (!n)
			return 0;
		p += n;
	}
	return 1;
}

/*
 * A string field: a JSON string without NUL, or {"bytes": "hex"} for bytes
 * that are not UTF-8. *out points into v or l->tmp; valid until the next call.
 * Missing or null gives NULL when nullable, else an error.
 */
static int get_str(struct loader *l, json_t *obj, const char *key, const char *what,
		   bool nullable, const char **out)
{
	json_t *v = json_object_get(obj, key), *hex;
	const char *h;
	size_t n;

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (nullable)
			return 0;
		return fail(l, "%s: \"%s\" is missing", what, key);
	}
	if (json_is_string(v)) {
		if (strlen(json_string_value(v)) != json_string_length(v))
			return fail(l, "%s: \"%s\" holds a NUL character", what, key);
		*out = json_string_value(v);
		return 0;
	}
	hex = json_is_object(v) ? json_object_get(v, STORE_K_BYTES) : NULL;
	if (!json_is_string(hex))
		return fail(l, "%s: \"%s\" is not a string", what, key);
	h = json_string_value(hex);
	n = json_string_length(hex);
	if (n % 2 || strlen(h) != n)
		return fail(l, "%s: \"%s\" has a bad byte string", what, key);
	free(l->tmp);
	l->tmp = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit(h[2 * i]), lo = hex_digit(h[2 * i + 1]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return fail(l, "%s: \"%s\" has a bad byte string", what, key);
		l->tmp[i] = (char)(hi << 4 | lo);
	}
	l->tmp[n / 2] = 0;
	*out = l->tmp;
	return 0;
}

/* An integer in [lo, hi]; missing gives def when def_ok. */
static int get_int(struct loader *l, json_t *obj, const char *key, const char *what,
		   json_int_t lo, json_int_t hi, bool def_ok, json_int_t def, json_int_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v && def_ok) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v))
		return fail(l, "%s: \"%s\" is %s, not an integer", what, key,
			    v ? "of the wrong type" : "missing");
	*out = json_integer_value(v);
	if (*out < lo || *out > hi)
		return fail(l, "%s: \"%s\" is out of range (%lld)", what, key, (long long)*out);
	return 0;
}

/* "counters": absent ones are 0. */
static int load_counters(struct loader *l, json_t *c)
{
	const char *key;
	json_int_t x;
	json_t *v;
	int err;

	if (c && !json_is_object(c))
		return fail(l, "meta: \"%s\" is not an object", STORE_K_COUNTERS);
	json_object_foreach(c, key, v) {
		int i = store_counter_by_key(key);

		/* A counter this version does not know is not ours to show;
		 * unnamed functions are counted again as the stacks load. */
		if (i < 0 || i == PC_UNNAMED_FUNCS)
			continue;
		if ((err = get_int(l, c, key, "meta.counters", 0, INT64_MAX, false, 0, &x)))
			return err;
		l->p->meta.counters[i] = x;
	}
	return 0;
}

static int load_meta(struct loader *l, json_t *m)
{
	struct profile_meta *pm = &l->p->meta;
	char **strs[] = { &pm->target, &pm->command, &pm->hostname, &pm->kernel, &pm->note };
	const char *keys[] = { STORE_K_TARGET, STORE_K_COMMAND, STORE_K_HOSTNAME, STORE_K_KERNEL,
			       STORE_K_NOTE };
	const char *s;
	json_int_t x;
	json_t *v;
	int err;

	if (!json_is_object(m))
		return fail(l, "\"%s\" is missing or not an object", STORE_K_META);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		err = get_str(l, m, keys[i], "meta", true, &s);
		if (err)
			return err;
		*strs[i] = s ? xstrdup(s) : NULL;
	}
	if ((err = get_int(l, m, STORE_K_START_WALL_NS, "meta", 0, INT64_MAX, true, 0, &x)))
		return err;
	pm->start_wall_ns = x;
	if ((err = get_int(l, m, STORE_K_DURATION_NS, "meta", 0, INT64_MAX, true, 0, &x)))
		return err;
	pm->duration_ns = x;
	if ((err = get_int(l, m, STORE_K_FREQ_HZ, "meta", 1, 1000000, false, 0, &x)))
		return err;
	pm->freq_hz = x;
	if ((err = get_int(l, m, STORE_K_NCPUS, "meta", 0, 1 << 20, true, 0, &x)))
		return err;
	pm->ncpus = x;
	if ((err = get_int(l, m, STORE_K_EXIT_STATUS, "meta", -1, 1 << 16, true, -1, &x)))
		return err;
	pm->exit_status = x;
	v = json_object_get(m, STORE_K_KERNEL_STACKS);
	if (v && !json_is_boolean(v))
		return fail(l, "meta: \"%s\" is not true or false", STORE_K_KERNEL_STACKS);
	pm->kernel_stacks = json_is_true(v);
	/* Version 2; absent (version 1): counts are samples. */
	v = json_object_get(m, STORE_K_WALL);
	if (v && !json_is_boolean(v))
		return fail(l, "meta: \"%s\" is not true or false", STORE_K_WALL);
	pm->wall = json_is_true(v);
	return load_counters(l, json_object_get(m, STORE_K_COUNTERS));
}

/* "addr": a hex string like "0x1a2b". */
static int get_addr(struct loader *l, json_t *o, const char *what, uint64_t *out)
{
	json_t *v = json_object_get(o, STORE_K_ADDR);
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 16);
	if (strncmp(s, "0x", 2) || !s[2] || *end || errno)
		return fail(l, "%s: \"%s\" is not a hex string like \"0x1a2b\"", what, STORE_K_ADDR);
	return 0;
}

static int get_kind(struct loader *l, json_t *o, const char *what, uint8_t *out)
{
	json_t *v = json_object_get(o, STORE_K_KIND);
	int kind = json_is_string(v) ? store_kind_by_name(json_string_value(v)) : -1;
	struct strbuf names = STRBUF_INIT;
	int err;

	if (kind >= 0) {
		*out = kind;
		return 0;
	}
	store_kind_list(&names);
	err = fail(l, "%s: \"%s\" is not one of %s", what, STORE_K_KIND, names.buf);
	strbuf_release(&names);
	return err;
}

/* "flags": an array of store_flags names; absent: none. */
static int get_flags(struct loader *l, json_t *o, const char *what, uint8_t *out)
{
	json_t *flags = json_object_get(o, STORE_K_FLAGS), *v;
	size_t k, i;

	if (flags && !json_is_array(flags))
		return fail(l, "%s: \"%s\" is not an array", what, STORE_K_FLAGS);
	json_array_foreach(flags, k, v) {
		const char *fl = json_is_string(v) ? json_string_value(v) : "";

		for (i = 0; i < store_nr_flags && strcmp(fl, store_flags[i].name); i++)
			;
		if (i == store_nr_flags)
			return fail(l, "%s: unknown flag", what);
		*out |= store_flags[i].flag;
	}
	return 0;
}

static int load_frame(struct loader *l, json_t *o, size_t i)
{
	struct frame f = { 0 };
	char what[48], *name = NULL, *module = NULL;
	const char *s;
	json_int_t x;
	int err;

	snprintf(what, sizeof(what), "frame %zu", i);
	if (!json_is_object(o))
		return fail(l, "%s is not an object", what);
	if ((err = get_str(l, o, STORE_K_NAME, what, false, &s)))
		return err;
	if (!s[0])
		return fail(l, "%s has an empty name", what);
	name = xstrdup(s);
	if ((err = get_str(l, o, STORE_K_MODULE, what, false, &s)))
		goto out;
	module = xstrdup(s);
	/* Last string read: s stays valid until profile_frame copies it. */
	if ((err = get_str(l, o, STORE_K_FILE, what, true, &s)))
		goto out;
	f.name = name;
	f.module = module;
	f.file = s;
	if ((err = get_int(l, o, STORE_K_LINE, what, 0, UINT32_MAX, true, 0, &x)) ||
	    (err = get_addr(l, o, what, &f.addr)) || (err = get_kind(l, o, what, &f.kind)) ||
	    (err = get_flags(l, o, what, &f.flags)))
		goto out;
	f.line = x;
	l->frame_map[i] = profile_frame(l->p, &f);
out:
	free(name);
	free(module);
	return err;
}

static int load_thread(struct loader *l, json_t *o, size_t i)
{
	char what[48], *comm;
	const char *s;
	json_int_t pid, tid;
	json_t *ex;
	int err;

	snprintf(what, sizeof(what), "thread %zu", i);
	if (!json_is_object(o))
		return fail(l, "%s is not an object", what);
	if ((err = get_int(l, o, STORE_K_PID, what, 0, UINT32_MAX, false, 0, &pid)) ||
	    (err = get_int(l, o, STORE_K_TID, what, 0, UINT32_MAX, false, 0, &tid)) ||
	    (err = get_str(l, o, STORE_K_COMM, what, false, &s)))
		return err;
	ex = json_object_get(o, STORE_K_EXITED);
	if (ex && !json_is_boolean(ex))
		return fail(l, "%s: \"%s\" is not true or false", what, STORE_K_EXITED);
	comm = xstrdup(s);
	err = get_str(l, o, STORE_K_PROCESS, what, false, &s);
	if (!err)
		l->thread_map[i] = profile_thread_flags(l->p, pid, tid, comm, s,
							json_is_true(ex) ? THREAD_F_EXITED : 0);
	free(comm);
	return err;
}

/*
 * A string of decimal numbers separated by single spaces, each at most max.
 * Returns how many (cap + 1: more than cap), or -1 if malformed.
 */
static int parse_numbers(json_t *v, uint64_t *out, int cap, uint64_t max)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	const char *end = s ? s + json_string_length(v) : NULL;
	int n = 0;

	if (!s)
		return -1;
	if (s == end)
		return 0;
	for (;;) {
		uint64_t x = 0;
		const char *start = s;

		for (; s < end && *s >= '0' && *s <= '9'; s++) {
			if (x > (max - (*s - '0')) / 10)
				return -1;
			x = x * 10 + (*s - '0');
		}
		if (s == start)
			return -1;
		if (n == cap)
			return cap + 1;
		out[n++] = x;
		if (s == end)
			return n;
		if (*s != ' ' || ++s == end)
			return -1;
	}
}

static int load_stack(struct loader *l, json_t *v, size_t i)
{
	uint64_t ids[STORE_MAX_STACK];
	frame_id_t fr[STORE_MAX_STACK];
	int n = parse_numbers(v, ids, STORE_MAX_STACK, UINT32_MAX);

	if (n < 0)
		return fail(l, "stack %zu is not a string of frame numbers (\"0 1 2\")", i);
	if (n > STORE_MAX_STACK)
		return fail(l, "stack %zu is deeper than %d frames", i, STORE_MAX_STACK);
	for (int k = 0; k < n; k++) {
		if (ids[k] >= l->nr_frames)
			return fail(l, "stack %zu: frame %d is not a frame index", i, k);
		fr[k] = l->frame_map[ids[k]];
	}
	l->stack_map[i] = profile_stack(l->p, fr, n);
	return 0;
}

/* Parses one decimal number at *s (before end) up to max; -1 if none. */
static int parse_number(const char **s, const char *end, uint64_t max, uint64_t *out)
{
	const char *start = *s;
	uint64_t x = 0;

	for (; *s < end && **s >= '0' && **s <= '9'; (*s)++) {
		if (x > (max - (**s - '0')) / 10)
			return -1;
		x = x * 10 + (**s - '0');
	}
	*out = x;
	return *s == start ? -1 : 0;
}

/* A per-thread entry {"thread": T, key: "..."} of the samples or the
 * timeline: its thread (checked) and its string [*s, *end). */
static int thread_entry(struct loader *l, json_t *o, const char *what, const char *key,
			json_int_t *thread, const char **s, const char **end)
{
	json_t *c = json_is_object(o) ? json_object_get(o, key) : NULL;
	int err;

	if (!json_is_object(o))
		return fail(l, "%s is not an object", what);
	if ((err = get_int(l, o, STORE_K_THREAD, what, 0, (json_int_t)l->nr_threads - 1, false, 0,
			   thread)))
		return err;
	if (!json_is_string(c))
		return fail(l, "%s: \"%s\" is not a string", what, key);
	*s = json_string_value(c);
	*end = *s + json_string_length(c);
	return 0;
}

/* {"thread": T, "events": "t_ns:weight:stack:call ..."}: bounds as for the
 * samples; an event must end before 2^63 ns so that views can add t_ns and
 * weight without overflow. */
static int load_events(struct loader *l, json_t *o, size_t i)
{
	const char *s, *end;
	json_int_t thread;
	char what[48];
	int err;

	snprintf(what, sizeof(what), "timeline entry %zu", i);
	if ((err = thread_entry(l, o, what, STORE_K_EVENTS, &thread, &s, &end)))
		return err;
	while (s < end) {
		uint64_t t, weight, stack, call;

		if (parse_number(&s, end, INT64_MAX, &t) || s == end || *s++ != ':' ||
		    parse_number(&s, end, INT64_MAX, &weight) || s == end || *s++ != ':' ||
		    parse_number(&s, end, UINT32_MAX, &stack) || s == end || *s++ != ':' ||
		    parse_number(&s, end, INT64_MAX, &call) ||
		    (s < end && (*s++ != ' ' || s == end)))
			return fail(l, "%s: \"%s\" is not \"t_ns:weight:stack:call ...\"", what,
				    STORE_K_EVENTS);
		if (stack >= l->nr_stacks)
			return fail(l, "%s names stack %llu, which does not exist", what,
				    (unsigned long long)stack);
		if (weight > INT64_MAX - t)
			return fail(l, "%s: an event ends past 2^63 ns", what);
		profile_add_event(l->p, l->thread_map[thread], l->stack_map[stack], t, weight,
				  call);
	}
	return 0;
}

/* {"thread": T, "counts": "stack:count stack:count ..."} */
static int load_sample(struct loader *l, json_t *o, size_t i)
{
	const char *s, *end;
	json_int_t thread;
	char what[48];
	int err;

	snprintf(what, sizeof(what), "samples entry %zu", i);
	if ((err = thread_entry(l, o, what, STORE_K_COUNTS, &thread, &s, &end)))
		return err;
	while (s < end) {
		uint64_t stack, count;

		if (parse_number(&s, end, UINT32_MAX, &stack) || s == end || *s++ != ':' ||
		    parse_number(&s, end, INT64_MAX, &count) || (s < end && (*s++ != ' ' || s == end)))
			return fail(l, "%s: \"%s\" is not \"stack:count stack:count ...\"", what,
				    STORE_K_COUNTS);
		if (stack >= l->nr_stacks)
			return fail(l, "%s names stack %llu, which does not exist", what,
				    (unsigned long long)stack);
		/* Totals stay below 2^63: JSON readers (and ours) hold signed 64-bit integers. */
		if (count > INT64_MAX - l->p->total)
			return fail(l, "%s: the counts overflow", what);
		profile_add(l->p, l->stack_map[stack], l->thread_map[thread], count);
	}
	return 0;
}

/* Functions a saved profile's "calls" may hold: far more than --scope takes. */
#define STORE_MAX_CALL_FNS 256

/* A boolean field; absent: false. */
static int get_bool(struct loader *l, json_t *o, const char *key, const char *what, bool *out)
{
	json_t *v = json_object_get(o, key);

	if (v && !json_is_boolean(v))
		return fail(l, "%s: \"%s\" is not true or false", what, key);
	*out = json_is_true(v);
	return 0;
}

/* A kept call: {"number", "id", "pid", "tid", "comm", "process", "begin_ns",
 * "end_ns", "dropped_weight", "counts": "stack:weight ..."}. */
static int load_call(struct loader *l, json_t *o, uint32_t fn, const char *fwhat, size_t i)
{
	json_int_t num, id, pid, tid, begin, end, dropped;
	const char *comm, *process;
	char what[160], *comm_copy;
	const char *s, *e;
	struct call *call;
	json_t *c;
	int err;

	snprintf(what, sizeof(what), "%s: slowest call %zu", fwhat, i);
	if (!json_is_object(o))
		return fail(l, "%s is not an object", what);
	if ((err = get_int(l, o, STORE_K_NUMBER, what, 1, INT64_MAX, false, 0, &num)) ||
	    (err = get_int(l, o, STORE_K_ID, what, 0, INT64_MAX, false, 0, &id)) ||
	    (err = get_int(l, o, STORE_K_PID, what, 0, UINT32_MAX, false, 0, &pid)) ||
	    (err = get_int(l, o, STORE_K_TID, what, 0, UINT32_MAX, false, 0, &tid)) ||
	    (err = get_int(l, o, STORE_K_BEGIN_NS, what, 0, INT64_MAX, false, 0, &begin)) ||
	    (err = get_int(l, o, STORE_K_END_NS, what, begin, INT64_MAX, false, 0, &end)) ||
	    (err = get_int(l, o, STORE_K_DROPPED_WEIGHT, what, 0, INT64_MAX, true, 0, &dropped)) ||
	    (err = get_str(l, o, STORE_K_COMM, what, false, &comm)))
		return err;
	comm_copy = xstrdup(comm);	/* get_str's result lasts until its next call */
	err = get_str(l, o, STORE_K_PROCESS, what, false, &process);
	if (err) {
		free(comm_copy);
		return err;
	}
	call = calls_call_new(fn, id, pid, tid, comm_copy, process, begin, end);
	free(comm_copy);
	call->number = num;
	call->dropped_weight = dropped;
	call->weight = dropped;
	c = json_object_get(o, STORE_K_COUNTS);
	if (!json_is_string(c)) {
		calls_keep_loaded(l->p->calls, UINT32_MAX, call);	/* frees it */
		return fail(l, "%s: \"%s\" is not a string", what, STORE_K_COUNTS);
	}
	s = json_string_value(c);
	e = s + json_string_length(c);
	while (s < e) {
		uint64_t stack, weight;

		if (parse_number(&s, e, UINT32_MAX, &stack) || s == e || *s++ != ':' ||
		    parse_number(&s, e, INT64_MAX, &weight) || (s < e && (*s++ != ' ' || s == e)) ||
		    stack >= l->nr_stacks || weight > INT64_MAX - call->weight ||
		    call->nr_recs >= CALLS_MAX_CALL_STACKS) {
			calls_keep_loaded(l->p->calls, UINT32_MAX, call);
			return fail(l, "%s: \"%s\" is not \"stack:weight ...\" of its stacks", what,
				    STORE_K_COUNTS);
		}
		calls_call_add(call, l->stack_map[stack], weight);
	}
	if (!calls_keep_loaded(l->p->calls, fn, call))
		return fail(l, "%s: more slowest calls than \"%s\"", what, STORE_K_KEEP);
	return 0;
}

/* Reads a string of numbers (each at most max) into a new array of at most
 * cap; returns how many, or -1 (malformed, or more than cap). */
static int get_numbers(json_t *v, uint64_t max, size_t cap, uint64_t **out)
{
	size_t room;
	int n;

	*out = NULL;
	if (!json_is_string(v))
		return -1;
	/* Every number but the last takes two characters or more. */
	room = json_string_length(v) / 2 + 1;
	if (room > cap)
		room = cap;
	*out = xmalloc((room + 1) * sizeof(**out));
	n = parse_numbers(v, *out, (int)room, max);
	if (n < 0 || (size_t)n > room) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return n;
}

static int load_call_fn(struct loader *l, json_t *o, size_t i)
{
	json_int_t count, total, max, dropped;
	uint64_t *hist = NULL, *durs = NULL, sum = 0;
	struct calls_fn *f;
	const char *name;
	char what[64];
	json_t *slow, *v;
	bool python = false;
	uint32_t fn;
	size_t k;
	int n, err;

	snprintf(what, sizeof(what), "calls: function %zu", i);
	if (!json_is_object(o))
		return fail(l, "%s is not an object", what);
	if ((err = get_str(l, o, STORE_K_NAME, what, false, &name)))
		return err;
	if (!*name)
		return fail(l, "%s: \"%s\" is empty", what, STORE_K_NAME);
	fn = calls_add_fn(l->p->calls, name, false);
	f = &l->p->calls->fns[fn];
	if ((err = get_bool(l, o, STORE_K_PYTHON, what, &python)) ||
	    (err = get_int(l, o, STORE_K_COUNT, what, 0, INT64_MAX, false, 0, &count)) ||
	    (err = get_int(l, o, STORE_K_TOTAL_NS, what, 0, INT64_MAX, false, 0, &total)) ||
	    (err = get_int(l, o, STORE_K_MAX_NS, what, 0, INT64_MAX, false, 0, &max)) ||
	    (err = get_int(l, o, STORE_K_DURATIONS_DROPPED, what, 0, count, true, 0, &dropped)))
		return err;
	f->python = python;
	f->count = count;
	f->total_ns = total;
	f->max_ns = max;
	f->durations_dropped = dropped;
	n = get_numbers(json_object_get(o, STORE_K_HISTOGRAM), INT64_MAX, CALLS_HIST_BINS, &hist);
	for (int b = 0; b < n; b++)
		sum += f->hist[b] = hist[b];
	free(hist);
	if (n != CALLS_HIST_BINS || sum != (uint64_t)count)
		return fail(l, "%s: \"%s\" is not %d counts adding up to \"%s\"", what,
			    STORE_K_HISTOGRAM, CALLS_HIST_BINS, STORE_K_COUNT);
	n = get_numbers(json_object_get(o, STORE_K_DURATIONS), max, CALLS_MAX_DURATIONS, &durs);
	if (n < 0 || (uint64_t)n + dropped != (uint64_t)count) {
		free(durs);
		return fail(l, "%s: \"%s\" is not \"%s\" less \"%s\" durations of at most "
			       "\"%s\"", what, STORE_K_DURATIONS, STORE_K_COUNT,
			    STORE_K_DURATIONS_DROPPED, STORE_K_MAX_NS);
	}
	f->durs = durs;
	f->nr_durs = f->alloc_durs = n;
	slow = json_object_get(o, STORE_K_SLOWEST);
	if (!json_is_array(slow) || json_array_size(slow) > l->p->calls->keep ||
	    json_array_size(slow) > (size_t)count)
		return fail(l, "%s: \"%s\" is not an array of at most \"%s\" calls", what,
			    STORE_K_SLOWEST, STORE_K_KEEP);
	json_array_foreach(slow, k, v) {
		if ((err = load_call(l, v, fn, what, k)))
			return err;
		if (call_duration(f->slowest[f->nr_slowest - 1]) > (uint64_t)max)
			return fail(l, "%s: slowest call %zu is longer than \"%s\"", what, k,
				    STORE_K_MAX_NS);
	}
	return 0;
}

/* "calls" (--scope), after the stacks it names; absent: none. */
static int load_calls(struct loader *l, json_t *root)
{
	json_t *c = json_object_get(root, STORE_K_CALLS), *fns, *v;
	json_int_t keep, lost;
	size_t i;
	int err;

	if (!c)
		return 0;
	if (!json_is_object(c))
		return fail(l, "\"%s\" is not an object", STORE_K_CALLS);
	if ((err = get_int(l, c, STORE_K_KEEP, "calls", 0, CALLS_KEEP_MAX, false, 0, &keep)) ||
	    (err = get_int(l, c, STORE_K_LOST_BEGIN, "calls", 0, INT64_MAX, true, 0, &lost)))
		return err;
	fns = json_object_get(c, STORE_K_FUNCTIONS);
	if (!json_is_array(fns) || json_array_size(fns) > STORE_MAX_CALL_FNS)
		return fail(l, "calls: \"%s\" is not an array of at most %d", STORE_K_FUNCTIONS,
			    STORE_MAX_CALL_FNS);
	l->p->calls = calls_new(keep);
	l->p->calls->lost_begin = lost;
	json_array_foreach(fns, i, v) {
		if ((err = load_call_fn(l, v, i)))
			return err;
	}
	return 0;
}

/* Each top-level table: check it is an array, size the id map, load each. */
static int load_array(struct loader *l, json_t *root, const char *key, size_t *nr, void **map,
		      size_t elem, int (*one)(struct loader *, json_t *, size_t))
{
	json_t *a = json_object_get(root, key), *v;
	size_t i;
	int err;

	if (!json_is_array(a))
		return fail(l, "\"%s\" is missing or not an array", key);
	if (json_array_size(a) >= UINT32_MAX)
		return fail(l, "\"%s\" has too many entries", key);
	*nr = json_array_size(a);
	if (map)
		*map = xcalloc(*nr, elem);
	json_array_foreach(a, i, v) {
		if ((err = one(l, v, i)))
			return err;
	}
	return 0;
}

/* "format" and "version": ours, and a version this reader knows. */
static int check_format(struct loader *l, json_t *root)
{
	json_t *v = json_object_get(root, STORE_K_FORMAT);
	json_int_t version;

	if (!json_is_string(v) || strcmp(json_string_value(v), STORE_FORMAT))
		return fail(l, "not a sampletop saved profile (no \"%s\": \"%s\")", STORE_K_FORMAT,
			    STORE_FORMAT);
	v = json_object_get(root, STORE_K_VERSION);
	if (!json_is_integer(v))
		return fail(l, "saved profile without a format version");
	version = json_integer_value(v);
	if (version > STORE_VERSION)
		return fail(l, "saved by a newer sampletop (format version %lld; this one reads "
			       "versions 1 to %d): upgrade sampletop",
			    (long long)version, STORE_VERSION);
	if (version < 1)
		return fail(l, "unknown saved profile format version %lld", (long long)version);
	return 0;
}

static int load_root(struct loader *l, json_t *root)
{
	json_int_t total;
	size_t nr_samples, nr_events;
	int err;

	if (!json_is_object(root))
		return fail(l, "not a sampletop saved profile (no JSON object)");
	if ((err = check_format(l, root)) ||
	    (err = load_meta(l, json_object_get(root, STORE_K_META))) ||
	    (err = load_array(l, root, STORE_K_FRAMES, &l->nr_frames, (void **)&l->frame_map,
			      sizeof(*l->frame_map), load_frame)) ||
	    (err = load_array(l, root, STORE_K_THREADS, &l->nr_threads, (void **)&l->thread_map,
			      sizeof(*l->thread_map), load_thread)) ||
	    (err = load_array(l, root, STORE_K_STACKS, &l->nr_stacks, (void **)&l->stack_map,
			      sizeof(*l->stack_map), load_stack)) ||
	    (err = load_array(l, root, STORE_K_SAMPLES, &nr_samples, NULL, 0, load_sample)) ||
	    (err = load_calls(l, root)) ||
	    (err = get_int(l, root, STORE_K_TOTAL, "profile", 0, INT64_MAX, false, 0, &total)))
		return err;
	if ((uint64_t)total != l->p->total)
		return fail(l, "\"%s\" (%lld) is not the sum of the sample counts (%llu)",
			    STORE_K_TOTAL, (long long)total, (unsigned long long)l->p->total);
	/* Version 2, optional: a profile without one keeps no timeline. */
	if (!json_object_get(root, STORE_K_TIMELINE))
		return 0;
	l->p->keep_events = true;
	return load_array(l, root, STORE_K_TIMELINE, &nr_events, NULL, 0, load_events);
}

int store_load_buf(const char *buf, size_t len, struct profile **out, char *err, size_t errlen)
{
	struct loader l = { .err = err, .errlen = errlen };
	json_error_t jerr;
	json_t *root;
	int ret;

	*out = NULL;
	if (len > STORE_MAX_BYTES) {
		snprintf(err, errlen, "larger than %llu bytes", (unsigned long long)STORE_MAX_BYTES);
		return -EFBIG;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "not a sampletop saved profile: bad JSON at line %d: %s",
			 jerr.line, jerr.text);
		return -EINVAL;
	}
	l.p = profile_new();
	ret = load_root(&l, root);
	json_decref(root);
	free(l.frame_map);
	free(l.thread_map);
	free(l.stack_map);
	free(l.tmp);
	if (ret) {
		profile_free(l.p);
		return ret;
	}
	*out = l.p;
	return 0;
}

int store_load_file(const char *path, struct profile **out, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "not a regular file");
		goto out;
	}
	if ((unsigned long long)st.st_size > STORE_MAX_BYTES) {
		snprintf(err, errlen, "larger than %llu bytes", (unsigned long long)STORE_MAX_BYTES);
		ret = -EFBIG;
		goto out;
	}
	buf = xmalloc(st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto out;
		}
		len += n;
	}
	ret = store_load_buf(buf, len, out, err, errlen);
	goto out_free;
out:
	if (ret && ret != -EINVAL && ret != -EFBIG)
		snprintf(err, errlen, "%s", strerror(-ret));
out_free:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

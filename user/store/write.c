/*
 * The JSON report, which is also the saved profile: every frame, thread,
 * stack and sample count with the recording's settings, counters and host,
 * in id order so that loading it (store/read.c) rebuilds the same profile. View
 * options do not apply: it always holds everything.
 */
#include "report/emit.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdlib.h>

/* Flush the buffer to the stream every so often to bound memory. */
#define JSON_FLUSH_BYTES (1 << 20)
/* "stack:count" pairs per "counts" string: long strings load fast, and
 * breaking them keeps the file workable in an editor. */
#define JSON_COUNTS_PER_LINE 64

static const char *const kind_names[] = {
	[FRAME_NATIVE] = "native", [FRAME_KERNEL] = "kernel", [FRAME_PYTHON] = "python",
	[FRAME_PROCESS] = "process", [FRAME_THREAD] = "thread", [FRAME_SPECIAL] = "special",
};

/* A string JSON can carry is written as one; other bytes as {"bytes": hex}. */
static void add_str(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (!s) {
		strbuf_addstr(sb, "null");
		return;
	}
	if (store_utf8_valid(s)) {
		strbuf_add_json_str(sb, s);
		return;
	}
	strbuf_addstr(sb, "{\"bytes\": \"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		strbuf_addch(sb, hex[*p >> 4]);
		strbuf_addch(sb, hex[*p & 15]);
	}
	strbuf_addstr(sb, "\"}");
}

static void add_meta(struct strbuf *sb, const struct profile *p)
{
	const struct profile_meta *m = &p->meta;

	strbuf_addstr(sb, "  \"meta\": {\n    \"target\": ");
	add_str(sb, m->target);
	strbuf_addstr(sb, ",\n    \"command\": ");
	add_str(sb, m->command);
	strbuf_addstr(sb, ",\n    \"hostname\": ");
	add_str(sb, m->hostname);
	strbuf_addstr(sb, ",\n    \"kernel\": ");
	add_str(sb, m->kernel);
	strbuf_addf(sb, ",\n    \"start_wall_ns\": %" PRIu64 ",\n    \"duration_ns\": %" PRIu64
		    ",\n    \"freq_hz\": %u,\n    \"ncpus\": %u,\n    \"kernel_stacks\": %s"
		    ",\n    \"exit_status\": %d,\n    \"note\": ",
		    m->start_wall_ns, m->duration_ns, m->freq_hz, m->ncpus,
		    m->kernel_stacks ? "true" : "false", m->exit_status);
	add_str(sb, m->note);
	/* Only the counters that counted: absent means 0, so adding a counter
	 * changes no file that does not use it. */
	strbuf_addstr(sb, ",\n    \"counters\": {");
	for (int i = 0, n = 0; i < PC_NR; i++)
		if (m->counters[i])
			strbuf_addf(sb, "%s\n      \"%s\": %" PRIu64, n++ ? "," : "",
				    prof_counter_names[i], m->counters[i]);
	strbuf_addstr(sb, "\n    }\n  },\n");
}

static void add_frame(struct strbuf *sb, const struct frame *f)
{
	strbuf_addstr(sb, "{\"name\": ");
	add_str(sb, f->name);
	strbuf_addstr(sb, ", \"module\": ");
	add_str(sb, f->module);
	strbuf_addf(sb, ", \"addr\": \"0x%" PRIx64 "\", \"kind\": \"%s\"", f->addr,
		    f->kind < ARRAY_SIZE(kind_names) ? kind_names[f->kind] : "special");
	if (f->file) {
		strbuf_addstr(sb, ", \"file\": ");
		add_str(sb, f->file);
	}
	if (f->line)
		strbuf_addf(sb, ", \"line\": %u", f->line);
	if (f->flags) {
		const char *sep = "";

		strbuf_addstr(sb, ", \"flags\": [");
		if (f->flags & FRAME_F_UNKNOWN) {
			strbuf_addstr(sb, "\"unknown\"");
			sep = ", ";
		}
		if (f->flags & FRAME_F_INLINED) {
			strbuf_addf(sb, "%s\"inlined\"", sep);
			sep = ", ";
		}
		if (f->flags & FRAME_F_JIT)
			strbuf_addf(sb, "%s\"jit\"", sep);
		strbuf_addch(sb, ']');
	}
	strbuf_addch(sb, '}');
}

int report_json(const struct profile *p, const struct report_opts *o, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	uint32_t *order, *fmap;
	int err = 0;

	strbuf_addf(&sb, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n", STORE_FORMAT,
		    STORE_VERSION);
	add_meta(&sb, p);
	strbuf_addf(&sb, "  \"total\": %" PRIu64 ",\n  \"frames\": [", p->total);
	/* Numbered anew without the slots freed by merging exited threads. */
	fmap = xmalloc((p->nr_frames + 1) * sizeof(*fmap));
	for (size_t i = 0, n = 0; i < p->nr_frames; i++) {
		if (profile_frame_is_free(p, i))
			continue;
		fmap[i] = n;
		strbuf_addstr(&sb, n++ ? ",\n    " : "\n    ");
		add_frame(&sb, &p->frames[i]);
		err = err ?: strbuf_flush(&sb, out, JSON_FLUSH_BYTES);
	}
	strbuf_addstr(&sb, "\n  ],\n  \"threads\": [");
	for (size_t i = 0; i < p->nr_threads; i++) {
		const struct thread *t = &p->threads[i];

		strbuf_addf(&sb, "%s{\"pid\": %u, \"tid\": %u, \"comm\": ", i ? ",\n    " : "\n    ",
			    t->pid, t->tid);
		add_str(&sb, t->comm);
		strbuf_addstr(&sb, ", \"process\": ");
		add_str(&sb, t->process);
		/* Every exited thread of this name, merged (profile_coalesce_exited). */
		if (t->flags & THREAD_F_EXITED)
			strbuf_addstr(&sb, ", \"exited\": true");
		strbuf_addch(&sb, '}');
	}
	/* Stacks and samples are strings of numbers: as readable as arrays,
	 * and far faster to load (one JSON value each, not one per number). */
	strbuf_addstr(&sb, "\n  ],\n  \"stacks\": [");
	for (size_t i = 0; i < p->nr_stacks; i++) {
		const frame_id_t *fr = profile_stack_frames(p, i);

		strbuf_addstr(&sb, i ? ",\n    \"" : "\n    \"");
		for (uint32_t k = 0; k < p->stacks[i].nr; k++) {
			if (k)
				strbuf_addch(&sb, ' ');
			strbuf_add_u64(&sb, fmap[fr[k]]);
		}
		strbuf_addch(&sb, '"');
		err = err ?: strbuf_flush(&sb, out, JSON_FLUSH_BYTES);
	}
	strbuf_addstr(&sb, "\n  ],\n  \"samples\": [");
	order = emit_samples_by_thread(p);
	for (size_t i = 0, in_line = 0; i < p->nr_samples; i++) {
		const struct sample_rec *s = &p->samples[order[i]];

		if (!in_line) {
			strbuf_addf(&sb, "%s{\"thread\": %u, \"counts\": \"", i ? ",\n    " : "\n    ",
				    s->thread);
		} else {
			strbuf_addch(&sb, ' ');
		}
		strbuf_add_u64(&sb, s->stack);
		strbuf_addch(&sb, ':');
		strbuf_add_u64(&sb, s->count);
		/* A new entry per thread, and every so many records. */
		if (++in_line == JSON_COUNTS_PER_LINE || i + 1 == p->nr_samples ||
		    p->samples[order[i + 1]].thread != s->thread) {
			strbuf_addstr(&sb, "\"}");
			in_line = 0;
		}
		err = err ?: strbuf_flush(&sb, out, JSON_FLUSH_BYTES);
	}
	free(order);
	free(fmap);
	strbuf_addstr(&sb, "\n  ]\n}\n");
	err = err ?: strbuf_flush(&sb, out, 0);
	strbuf_release(&sb);
	(void)o;
	return err;
}

/*
 * Helpers shared by the report writers: the collapse rules a report's
 * options imply, and the frames of one sample as the stack-per-sample
 * formats keep them.
 */
#ifndef REPORT_EMIT_H
#define REPORT_EMIT_H

#include "model/collapse.h"
#include "report/report.h"

/* The library-collapsing rules of o; with p, with a verdict memo for p's
 * frames (free it with emit_collapse_rules_release). */
void emit_collapse_rules(const struct profile *p, const struct report_opts *o,
			 struct collapse_rules *r);
void emit_collapse_rules_release(struct collapse_rules *r);

/*
 * The frames of sample s that a stack-per-sample format (folded, speedscope,
 * pprof) writes, root first: the view's path, then, when --hide or --show
 * was given, without the library frames that the tree views hide (a library
 * frame whose caller is a library frame). Returns how many; 0: left out.
 */
uint32_t emit_sample_path(const struct profile *p, const struct report_opts *o,
			  const struct sample_rec *s, frame_id_t *path, uint32_t cap);

#endif

/* Helpers shared by the report writers. */
#include "report/emit.h"

#include <stdlib.h>
#include <string.h>

void emit_collapse_rules(const struct profile *p, const struct report_opts *o,
			 struct collapse_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->hide = o->hide;
	r->nr_hide = o->nr_hide;
	r->show = o->show;
	r->nr_show = o->nr_show;
	r->show_all = o->show_all;
	if (p) {
		r->nr_memo = p->nr_frames;
		r->memo = xcalloc(p->nr_frames + 1, 1);
	}
}

void emit_collapse_rules_release(struct collapse_rules *r)
{
	free(r->memo);
	r->memo = NULL;
	r->nr_memo = 0;
}

uint32_t emit_sample_path(const struct profile *p, const struct report_opts *o,
			  const struct sample_rec *s, frame_id_t *path, uint32_t cap)
{
	struct collapse_rules r;
	uint32_t n = tree_sample_path(p, &o->view, s, path, cap), k = 0;
	bool prev_lib = false;

	if (!n || o->show_all || (!o->nr_hide && !o->nr_show))
		return n;
	emit_collapse_rules(NULL, o, &r);
	for (uint32_t i = 0; i < n; i++) {
		bool lib = collapse_frame_is_library(profile_get_frame(p, path[i]), &r);

		if (!(lib && prev_lib))
			path[k++] = path[i];
		prev_lib = lib;
	}
	return k;
}

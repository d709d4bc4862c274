/* The names of the saved profile's format (see format.h). */
#include "store/format.h"
#include "base/util.h"

#include <string.h>

static const char *const kind_names[] = {
	[FRAME_NATIVE] = "native", [FRAME_KERNEL] = "kernel", [FRAME_PYTHON] = "python",
	[FRAME_PROCESS] = "process", [FRAME_THREAD] = "thread", [FRAME_SPECIAL] = "special",
};

const struct store_flag store_flags[] = {
	{ FRAME_F_UNKNOWN, "unknown" },
	{ FRAME_F_INLINED, "inlined" },
	{ FRAME_F_JIT, "jit" },
	{ FRAME_F_OFFCPU, "offcpu" },
};
const size_t store_nr_flags = ARRAY_SIZE(store_flags);

const char *store_kind_name(enum frame_kind kind)
{
	return (size_t)kind < ARRAY_SIZE(kind_names) ? kind_names[kind] : kind_names[FRAME_SPECIAL];
}

int store_kind_by_name(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++)
		if (!strcmp(s, kind_names[i]))
			return i;
	return -1;
}

void store_kind_list(struct strbuf *sb)
{
	for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		strbuf_addstr(sb, kind_names[i]);
	}
}

const char *store_counter_key(enum prof_counter c)
{
	return prof_counter_names[c];
}

int store_counter_by_key(const char *key)
{
	for (int i = 0; i < PC_NR; i++)
		if (!strcmp(key, prof_counter_names[i]))
			return i;
	return -1;
}

/* Which tasks are targets. Included once, by sampletop.bpf.c. */
#ifndef FILTER_BPF_H
#define FILTER_BPF_H

const volatile __u8 filter_tgid = 0;	/* only tgids in the targets map */
const volatile __u8 filter_tid = 0;	/* only tids in the tid_targets map */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ST_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ST_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u8);
} tid_targets SEC(".maps");

/* Non-zero when the current task should be sampled. */
static __always_inline int is_target(__u32 tgid, __u32 tid)
{
	if (filter_tgid && !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	if (filter_tid && !bpf_map_lookup_elem(&tid_targets, &tid))
		return 0;
	return 1;
}

#endif

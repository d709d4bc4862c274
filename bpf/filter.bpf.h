/* Which tasks are targets: every filter given must match (-p/-t, --cgroup,
 * -u, --comm); none given means every task. Included once, by
 * sampletop.bpf.c, after the counters. */
#ifndef FILTER_BPF_H
#define FILTER_BPF_H

#include <bpf/bpf_core_read.h>

const volatile __u8 filter_tgid = 0;	/* only tgids in the targets map */
const volatile __u8 filter_tid = 0;	/* only tids in the tid_targets map */
const volatile __u8 filter_uid = 0;	/* only tasks whose effective uid is target_uid */
const volatile __u32 target_uid = 0;
const volatile __u8 filter_comm = 0;	/* only processes named in comm_targets */
/* --cgroup: the task's cgroup, or one of its ancestors, at cgroup_level has
 * the kernfs id cgroup_id. cgroup_ssid < 0: the cgroup v2 hierarchy; else
 * the v1 hierarchy of that controller (its index in /proc/cgroups). */
const volatile __u8 filter_cgroup = 0;
const volatile __s32 cgroup_ssid = -1;
const volatile __u32 cgroup_level = 0;
const volatile __u64 cgroup_id = 0;

/* Sized by userspace before load (at least ST_MAX_TARGETS). */
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

struct comm_key {
	char name[ST_COMM_LEN];	/* zero-padded, as the kernel keeps task->comm */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ST_MAX_COMMS);
	__type(key, struct comm_key);
	__type(value, __u8);
} comm_targets SEC(".maps");

static __always_inline int uid_matches(struct task_struct *task)
{
	return BPF_CORE_READ(task, cred, euid.val) == target_uid;
}

/* The process name: the thread group leader's comm. */
static __always_inline int comm_matches(struct task_struct *task)
{
	struct comm_key key = {};

	BPF_CORE_READ_INTO(&key.name, task, group_leader, comm);
	return bpf_map_lookup_elem(&comm_targets, &key) != NULL;
}

static __always_inline int cgroup_matches(struct task_struct *task)
{
	struct cgroup *cgrp, *anc;
	int ssid = cgroup_ssid;

	if (ssid < 0) {
		cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	} else {
		struct cgroup_subsys_state *css;

		if (ssid >= (int)(sizeof(((struct css_set *)0)->subsys) / sizeof(void *)))
			return 0;
		css = BPF_CORE_READ(task, cgroups, subsys[ssid]);
		cgrp = BPF_CORE_READ(css, cgroup);
	}
	if (!cgrp || BPF_CORE_READ(cgrp, level) < (int)cgroup_level)
		return 0;
	anc = BPF_CORE_READ(cgrp, ancestors[cgroup_level]);
	return anc && BPF_CORE_READ(anc, kn, id) == cgroup_id;
}

/* Non-zero when task (tgid, tid) should be sampled; task is read only when
 * a filter needs it. */
static __always_inline int is_target_task(struct task_struct *task, __u32 tgid, __u32 tid)
{
	if (filter_tgid && !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	if (filter_tid && !bpf_map_lookup_elem(&tid_targets, &tid))
		return 0;
	if (!filter_uid && !filter_comm && !filter_cgroup)
		return 1;
	if (filter_uid && !uid_matches(task))
		return 0;
	if (filter_comm && !comm_matches(task))
		return 0;
	if (filter_cgroup && !cgroup_matches(task))
		return 0;
	return 1;
}

/* Non-zero when the current task should be sampled. */
static __always_inline int is_target(__u32 tgid, __u32 tid)
{
	return is_target_task((struct task_struct *)bpf_get_current_task(), tgid, tid);
}

#endif

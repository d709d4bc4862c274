/* --scope FUNC: only time inside calls of FUNC counts. uprobes/uretprobes on
 * FUNC keep a per-thread call depth (recursion counts once) and the id of the
 * thread's current outermost call; samples and off-CPU intervals outside every
 * call are dropped here, in the kernel. (Being built: for now every sample is
 * kept and none is tagged.) */
#ifndef SCOPE_BPF_H
#define SCOPE_BPF_H

/* Set by userspace before load: a --scope function is probed. */
const volatile __u8 want_scope = 0;

/* Tags s with the call its thread is in (ST_SAMPLE_IN_CALL, call_id);
 * false when scoping is on and the thread is outside every call: drop it.
 * Used by the cpu-clock program and the off-CPU (sched_switch) program. */
static __always_inline bool scope_keep(struct st_sample *s)
{
	s->call_id = 0;
	return true;
}

#endif

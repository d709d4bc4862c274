/* Capturing the user stack of the interrupted task. Included once, by
 * sampletop.bpf.c. Today: the kernel's frame-pointer walk (bpf_get_stack). */
#ifndef USTACK_BPF_H
#define USTACK_BPF_H

/* Fills s->ips[0 .. ST_MAX_FRAMES) leaf first; returns the number of frames
 * (0 .. ST_MAX_FRAMES) or a negative error. Sets ST_SAMPLE_USER_TRUNCATED. */
static __always_inline long capture_user_stack(struct bpf_perf_event_data *ctx,
					       struct st_sample *s)
{
	long n = bpf_get_stack(ctx, s->ips, ST_MAX_FRAMES * sizeof(__u64), BPF_F_USER_STACK);

	if (n < 0)
		return n;
	n /= sizeof(__u64);
	if (n >= ST_MAX_FRAMES)
		s->flags |= ST_SAMPLE_USER_TRUNCATED;
	return n;
}

#endif

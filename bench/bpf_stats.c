/* Keeps the kernel's BPF run-time statistics on (BPF_ENABLE_STATS) while it
 * runs, without touching the kernel.bpf_stats_enabled sysctl that others may
 * set: the statistics stay on until the last holder's fd is closed. */
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.enable_stats.type = BPF_STATS_RUN_TIME;
	fd = syscall(__NR_bpf, BPF_ENABLE_STATS, &attr, sizeof(attr));
	if (fd < 0)
		return 1;
	pause();
	return 0;
}

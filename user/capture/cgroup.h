/*
 * --cgroup PATH: from a cgroup directory to what the BPF filter compares:
 * the hierarchy (v2, or the v1 hierarchy of one controller), the cgroup's
 * depth in it and its kernfs id (the directory's inode number).
 */
#ifndef CGROUP_H
#define CGROUP_H

#include <stdint.h>

struct cgroup_target {
	int32_t ssid;		/* -1: cgroup v2; else a v1 controller's row in /proc/cgroups */
	uint32_t level;		/* 0 for a hierarchy's root */
	uint64_t id;
};

/* Resolves a cgroup directory. Returns 0, or -ENOENT (no such path),
 * -ENOTDIR (not a cgroup directory), -EOPNOTSUPP (a v1 hierarchy without a
 * controller, such as name=systemd), or another negative errno. */
int cgroup_resolve(const char *path, struct cgroup_target *out);

/* One line of /proc/self/mountinfo, as far as cgroups need it. */
struct cgroup_mount {
	char *root;		/* the mount's root inside its hierarchy */
	char *mountpoint;
	char *fstype;
	char *options;		/* super options: "rw,cpu,cpuacct" */
};

/* Parses a mountinfo line (octal escapes such as \040 decoded). Returns 0
 * and fills *m (free with cgroup_mount_release) or -EINVAL. */
int cgroup_mount_parse_line(const char *line, struct cgroup_mount *m);
void cgroup_mount_release(struct cgroup_mount *m);

/* Number of path components in a clean absolute path: "/" 0, "/a/b" 2. */
uint32_t cgroup_path_depth(const char *path);

#endif

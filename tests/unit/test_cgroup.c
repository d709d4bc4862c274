/* Unit tests of --cgroup resolution: mountinfo lines, depths, real paths. */
#include "capture/cgroup.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>

static void test_mountinfo(void)
{
	struct cgroup_mount m;

	CHECK(cgroup_mount_parse_line("36 25 0:31 / /sys/fs/cgroup/cpu rw,relatime shared:15 - "
				      "cgroup cgroup rw,cpu,cpuacct\n", &m) == 0 &&
		      !strcmp(m.root, "/") && !strcmp(m.mountpoint, "/sys/fs/cgroup/cpu") &&
		      !strcmp(m.fstype, "cgroup") && !strcmp(m.options, "rw,cpu,cpuacct"),
	      "a v1 controller mount");
	cgroup_mount_release(&m);
	CHECK(cgroup_mount_parse_line("40 30 0:35 /docker/abc /mnt/my\\040cg rw - cgroup2 cgroup2 rw",
				      &m) == 0 &&
		      !strcmp(m.root, "/docker/abc") && !strcmp(m.mountpoint, "/mnt/my cg") &&
		      !strcmp(m.fstype, "cgroup2"),
	      "no optional fields, an escaped space, a non-root mount root");
	cgroup_mount_release(&m);
	CHECK(cgroup_mount_parse_line("36 25 0:31 / /x rw shared:15", &m) == -EINVAL,
	      "a line without the '-' separator is rejected");
	CHECK(cgroup_mount_parse_line("", &m) == -EINVAL, "an empty line is rejected");
	CHECK(cgroup_path_depth("/") == 0 && cgroup_path_depth("/a") == 1 &&
		      cgroup_path_depth("/a/b/c") == 3 && cgroup_path_depth("/a/b/") == 2,
	      "path depths");
}

static void test_resolve(void)
{
	const char *roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	struct cgroup_target t;
	struct statfs sfs;
	struct stat st;
	const char *v2 = NULL;

	for (size_t i = 0; i < 2; i++)
		if (statfs(roots[i], &sfs) == 0 && sfs.f_type == 0x63677270)
			v2 = roots[i];
	CHECK(cgroup_resolve("/tmp", &t) == -ENOTDIR, "/tmp is no cgroup");
	CHECK(cgroup_resolve("/nonexistent/cg", &t) == -ENOENT, "a missing path");
	if (!v2) {
		printf("# SKIP no cgroup v2 hierarchy mounted\n");
		return;
	}
	stat(v2, &st);
	CHECK(cgroup_resolve(v2, &t) == 0 && t.ssid == -1 && t.level == 0 && t.id == st.st_ino,
	      "the v2 root: level 0, id = inode %llu", (unsigned long long)st.st_ino);
}

int main(void)
{
	test_mountinfo();
	test_resolve();
	return tap_done();
}

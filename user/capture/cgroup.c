/* Resolving a --cgroup directory for the BPF target filter. */
#include "capture/cgroup.h"
#include "base/util.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#define CGROUP_SUPER_MAGIC_V1 0x27e0eb
#define CGROUP2_SUPER_MAGIC_V2 0x63677270

/* Copies one space-separated field, decoding the kernel's \ooo escapes. */
static const char *take_field(const char *s, char **out)
{
	struct strbuf sb = STRBUF_INIT;

	while (*s == ' ')
		s++;
	if (!*s || *s == '\n')
		return NULL;
	while (*s && *s != ' ' && *s != '\n') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			strbuf_addch(&sb, (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0')));
			s += 4;
		} else {
			strbuf_addch(&sb, *s++);
		}
	}
	*out = strbuf_detach(&sb);
	return s;
}

/* "36 25 0:31 / /sys/fs/cgroup/cpu rw,relatime shared:15 - cgroup cgroup rw,cpu" */
int cgroup_mount_parse_line(const char *line, struct cgroup_mount *m)
{
	char *field = NULL;
	const char *s = line;
	int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < 3; i++) {	/* id, parent id, major:minor */
		s = take_field(s, &field);
		free(field);
		field = NULL;
		if (!s)
			goto bad;
	}
	if (!(s = take_field(s, &m->root)) || !(s = take_field(s, &m->mountpoint)))
		goto bad;
	/* Mount options, then optional fields up to a lone "-". */
	for (;;) {
		s = take_field(s, &field);
		if (!s)
			goto bad;
		if (!strcmp(field, "-"))
			break;
		free(field);
		field = NULL;
	}
	free(field);
	field = NULL;
	if (!(s = take_field(s, &m->fstype)) || !(s = take_field(s, &field)))
		goto bad;
	free(field);
	if (!take_field(s, &m->options))
		goto bad;
	return 0;
bad:
	free(field);
	cgroup_mount_release(m);
	return -EINVAL;
}

void cgroup_mount_release(struct cgroup_mount *m)
{
	free(m->root);
	free(m->mountpoint);
	free(m->fstype);
	free(m->options);
	memset(m, 0, sizeof(*m));
}

uint32_t cgroup_path_depth(const char *path)
{
	uint32_t n = 0;

	for (const char *p = path; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			n++;
	return n;
}

/* Is mnt a prefix of path on a component boundary? */
static bool under(const char *path, const char *mnt)
{
	size_t n = strlen(mnt);

	if (!strcmp(mnt, "/"))
		return true;
	return !strncmp(path, mnt, n) && (path[n] == '/' || path[n] == 0);
}

/* The row of the first controller in options ("rw,cpu,cpuacct") in
 * /proc/cgroups, which lists controllers in the kernel's ssid order. */
static int v1_ssid(const char *options)
{
	char line[256], name[64];
	int row = 0, found = -EOPNOTSUPP;
	FILE *f = fopen("/proc/cgroups", "re");

	if (!f)
		return -errno;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		const char *o = options;
		size_t len;

		if (line[0] == '#' || sscanf(line, "%63s", name) != 1)
			continue;
		len = strlen(name);
		while (*o) {
			size_t flen = strcspn(o, ",");

			if (flen == len && !strncmp(o, name, len)) {
				found = row;
				break;
			}
			o += flen + (o[flen] == ',');
		}
		row++;
	}
	fclose(f);
	return found;
}

int cgroup_resolve(const char *path, struct cgroup_target *out)
{
	struct cgroup_mount best = { 0 }, m;
	char real[PATH_MAX], *line = NULL;
	size_t cap = 0, best_len = 0;
	struct statfs sfs;
	struct stat st;
	FILE *f;
	int err = 0;

	if (!realpath(path, real) || stat(real, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || statfs(real, &sfs) < 0 ||
	    (sfs.f_type != CGROUP_SUPER_MAGIC_V1 && sfs.f_type != CGROUP2_SUPER_MAGIC_V2))
		return -ENOTDIR;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (cgroup_mount_parse_line(line, &m))
			continue;
		if ((!strcmp(m.fstype, "cgroup") || !strcmp(m.fstype, "cgroup2")) &&
		    under(real, m.mountpoint) && strlen(m.mountpoint) >= best_len) {
			best_len = strlen(m.mountpoint);
			cgroup_mount_release(&best);
			best = m;
		} else {
			cgroup_mount_release(&m);
		}
	}
	free(line);
	fclose(f);
	if (!best.fstype)
		return -ENOTDIR;
	out->id = st.st_ino;
	out->level = cgroup_path_depth(best.root) + cgroup_path_depth(real + best_len) +
		     (best_len == 1 && real[1]);
	if (!strcmp(best.fstype, "cgroup2")) {
		out->ssid = -1;
	} else {
		err = v1_ssid(best.options);
		out->ssid = err;
	}
	cgroup_mount_release(&best);
	return err < 0 ? err : 0;
}

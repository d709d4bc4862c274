/* The one reader of /proc: stat, comm, NSpid, maps and mapped files' paths. */
#include "procs/procfs.h"
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int parse_hex(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	int n = 0, d;

	while ((d = hex_digit(*p)) >= 0) {
		if (n == 16)
			return -EINVAL;
		v = (v << 4) | (uint64_t)d;
		p++;
		n++;
	}
	if (!n)
		return -EINVAL;
	*s = p;
	*out = v;
	return 0;
}

static int expect(const char **s, char c)
{
	if (**s != c)
		return -EINVAL;
	(*s)++;
	return 0;
}

/* "start-end perms offset major:minor inode   path" */
int proc_maps_parse_line(const char *line, struct proc_map *m)
{
	const char *s = line;
	uint64_t major, minor, ino = 0;
	char perms[4];
	size_t len;
	const char *deleted = " (deleted)";

	memset(m, 0, sizeof(*m));
	if (parse_hex(&s, &m->start) || expect(&s, '-') || parse_hex(&s, &m->end) ||
	    expect(&s, ' '))
		return -EINVAL;
	if (m->end < m->start)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		if (!*s || *s == '\n')	/* one line of a whole text: never the next */
			return -EINVAL;
		perms[i] = *s++;
	}
	if (expect(&s, ' ') || parse_hex(&s, &m->pgoff) || expect(&s, ' ') || parse_hex(&s, &major) ||
	    expect(&s, ':') || parse_hex(&s, &minor))
		return -EINVAL;
	if (major > 0xfff || minor > 0xfffff)
		return -EINVAL;
	if (expect(&s, ' '))
		return -EINVAL;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	while (isdigit((unsigned char)*s)) {
		if (ino > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		ino = ino * 10 + (*s++ - '0');
	}
	while (*s == ' ')
		s++;
	m->dev = makedev(major, minor);
	m->ino = ino;
	if (perms[2] == 'x')
		m->flags |= MAP_F_EXEC;
	len = strcspn(s, "\n");
	if (len >= strlen(deleted) && !memcmp(s + len - strlen(deleted), deleted, strlen(deleted))) {
		m->flags |= MAP_F_DELETED;
		len -= strlen(deleted);
	}
	if (len == 0)
		m->flags |= MAP_F_ANON;
	else if (s[0] == '[')
		m->flags |= MAP_F_SPECIAL;
	m->path = xstrndup(s, len);
	return 0;
}

int proc_maps_text_fd(int fd, char **text, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	ssize_t n = 0;

	/* From the start: a kept fd reads the maps as they are now. */
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	/* The kernel hands out a page or so per read: loop until the end. */
	while (sb.len < PROC_MAPS_MAX_BYTES && (n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	if (sb.len < PROC_MAPS_MAX_BYTES && n < 0) {
		n = -errno;
		strbuf_release(&sb);
		return (int)n;
	}
	if (sb.len > PROC_MAPS_MAX_BYTES) {
		/* Too long: whole lines only, never half a path. */
		char *nl = memrchr(sb.buf, '\n', PROC_MAPS_MAX_BYTES);

		sb.len = nl ? (size_t)(nl - sb.buf) + 1 : 0;
		sb.buf[sb.len] = 0;
	}
	if (len)
		*len = sb.len;
	*text = strbuf_detach(&sb);
	return 0;
}

int proc_maps_text(uint32_t pid, char **text, size_t *len)
{
	char path[64];
	int fd, err;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = proc_maps_text_fd(fd, text, len);
	close(fd);
	return err;
}

int proc_maps_each(const char *text, int (*fn)(void *ctx, struct proc_map *m), void *ctx)
{
	const char *line = text, *nl;
	struct proc_map m;
	int ret = 0;

	while (line && *line && !ret) {
		nl = strchr(line, '\n');
		if (!proc_maps_parse_line(line, &m)) {
			ret = fn(ctx, &m);
			free(m.path);
		}
		line = nl ? nl + 1 : NULL;
	}
	return ret;
}

struct vdso_find {
	uint64_t base, size;
};

static int vdso_match(void *ctx, struct proc_map *m)
{
	struct vdso_find *v = ctx;

	if (m->start != v->base || strcmp(m->path, "[vdso]"))
		return 0;
	v->size = m->end - m->start;
	return 1;
}

void proc_self_vdso(uint64_t *base, uint64_t *size)
{
	struct vdso_find v = { .base = getauxval(AT_SYSINFO_EHDR) };
	char *text = NULL;

	if (v.base && !proc_maps_text(0, &text, NULL))
		proc_maps_each(text, vdso_match, &v);
	free(text);
	*base = v.size ? v.base : 0;
	*size = v.size;
}

/* A small /proc file (at path, under dir or absolute) whole into buf,
 * NUL-terminated: one open and one read, no stdio (a FILE costs an fstat, a
 * buffer and a copy, on every read of every new process). Returns the bytes
 * read or a negative errno. */
static ssize_t read_small(int dir, const char *path, char *buf, size_t size)
{
	int fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/* The fields after comm of a stat text, or NULL. */
static const char *stat_fields(const char *buf)
{
	/* comm may hold spaces and parentheses: fields resume after the last ')'. */
	const char *s = strrchr(buf, ')');

	return s ? s + 1 : NULL;
}

const char *proc_read_stat(uint32_t pid, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	if (read_small(AT_FDCWD, path, buf, size) <= 0)
		return NULL;
	return stat_fields(buf);
}

/* Field 22 of a stat text's fields (as stat_fields), or 0. */
static uint64_t stat_start_time(const char *s)
{
	unsigned long long st = 0;

	if (!s)
		return 0;
	/* After ") " come fields 3..; start time is field 22, i.e. the 20th here. */
	for (int field = 3; field < 22 && s; field++)
		s = strchr(s + 1, ' ');
	if (!s || sscanf(s, " %llu", &st) != 1)
		return 0;
	return st;
}

int proc_open(uint32_t pid, uint64_t start_time)
{
	char path[64], buf[1024];
	int dir;

	snprintf(path, sizeof(path), "/proc/%u", pid);
	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	if (read_small(dir, "stat", buf, sizeof(buf)) <= 0 || !start_time ||
	    stat_start_time(stat_fields(buf)) != start_time) {
		close(dir);
		return -ESRCH;
	}
	return dir;
}

uint64_t proc_start_time(uint32_t pid)
{
	char buf[1024];

	return stat_start_time(proc_read_stat(pid, buf, sizeof(buf)));
}

bool proc_alive(uint32_t pid, uint64_t start_time)
{
	/* /proc/PID/stat is there as long as the process is (a zombie too);
	 * a reused pid shows its new process's start time. */
	return start_time && proc_start_time(pid) == start_time;
}

bool proc_pid_exists(uint32_t pid)
{
	/* Signal 0 only asks; EPERM still means it is there. */
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

int proc_read_exe(uint32_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/exe");
	n = readlink(path, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

void proc_read_comm(uint32_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	buf[0] = 0;
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(buf, (int)size, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

int proc_read_cgroup(uint32_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	n = read_small(AT_FDCWD, path, buf, size);
	return n < 0 ? (int)n : n == 0 ? -ESRCH : 0;
}

uint32_t proc_ns_pid(uint32_t pid)
{
	char path[64], line[256];
	uint32_t ns = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f)) {
		char *s, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		/* Innermost namespace last. */
		for (s = line + 6; *s;) {
			unsigned long v = strtoul(s, &end, 10);

			if (end == s)
				break;
			if (v && v <= UINT32_MAX)
				ns = (uint32_t)v;
			s = end;
		}
		break;
	}
	fclose(f);
	return ns;
}

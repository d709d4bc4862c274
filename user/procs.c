/* Processes keyed by (pid, start time) and their executable mappings. */
#include "procs.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

struct procs {
	struct proc **procs;	/* owned */
	size_t nr, alloc;
	struct u64map by_pid;	/* pid -> index in procs */
	uint64_t gen;
};

static int parse_hex(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	int n = 0;

	while (isxdigit((unsigned char)*p)) {
		int d = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);

		if (n == 16)
			return -EINVAL;
		v = (v << 4) | d;
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
int maps_parse_line(const char *line, struct proc_map *m)
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
		if (!*s)
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

uint64_t proc_start_time(uint32_t pid)
{
	char path[64], buf[1024], *s;
	unsigned long long st = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* comm may hold spaces and parentheses: fields resume after the last ')'. */
	s = strrchr(buf, ')');
	if (!s)
		return 0;
	/* After ") " come fields 3..; start time is field 22, i.e. the 20th here. */
	s++;
	for (int field = 3; field < 22 && s; field++)
		s = strchr(s + 1, ' ');
	if (!s || sscanf(s, " %llu", &st) != 1)
		return 0;
	return st;
}

static void read_comm(struct proc *p)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", p->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(p->comm, sizeof(p->comm), f))
		p->comm[strcspn(p->comm, "\n")] = 0;
	fclose(f);
}

static void free_maps(struct proc *p)
{
	for (uint32_t i = 0; i < p->nr_maps; i++)
		free(p->maps[i].path);
	free(p->maps);
	p->maps = NULL;
	p->nr_maps = 0;
}

static int read_maps(struct proc *p)
{
	char path[64];
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	struct proc_map m;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", p->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	free_maps(p);
	while (getline(&line, &cap, f) > 0) {
		if (maps_parse_line(line, &m))
			continue;
		if (!(m.flags & MAP_F_EXEC)) {
			free(m.path);
			continue;
		}
		XGROW(p->maps, alloc, p->nr_maps + 1);
		p->maps[p->nr_maps++] = m;
	}
	free(line);
	fclose(f);
	/* The kernel lists mappings in address order already. */
	return 0;
}

static void proc_free(struct proc *p)
{
	free_maps(p);
	u64map_free(&p->ip_frames);
	free(p);
}

struct procs *procs_new(void)
{
	return xcalloc(1, sizeof(struct procs));
}

void procs_free(struct procs *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->nr; i++)
		proc_free(ps->procs[i]);
	free(ps->procs);
	u64map_free(&ps->by_pid);
	free(ps);
}

void procs_next_gen(struct procs *ps)
{
	ps->gen++;
}

static struct proc *proc_load(uint32_t pid, uint64_t start_time, uint64_t gen)
{
	struct proc *p = xcalloc(1, sizeof(*p));

	p->pid = pid;
	p->start_time = start_time;
	p->reload_gen = gen;
	read_comm(p);
	if (!start_time || read_maps(p) < 0)
		p->gone = true;
	return p;
}

struct proc *procs_get(struct procs *ps, uint32_t pid)
{
	uint32_t idx;

	if (u64map_get(&ps->by_pid, pid, &idx)) {
		struct proc *p = ps->procs[idx];

		/* A cached, live process is trusted until a lookup misses; pid reuse
		 * is detected then (proc_find_map re-reads and compares start time). */
		return p;
	}
	XGROW(ps->procs, ps->alloc, ps->nr + 1);
	ps->procs[ps->nr] = proc_load(pid, proc_start_time(pid), ps->gen);
	u64map_put(&ps->by_pid, pid, ps->nr);
	return ps->procs[ps->nr++];
}

static const struct proc_map *find(const struct proc *p, uint64_t addr)
{
	uint32_t lo = 0, hi = p->nr_maps;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (addr < p->maps[mid].start)
			hi = mid;
		else if (addr >= p->maps[mid].end)
			lo = mid + 1;
		else
			return &p->maps[mid];
	}
	return NULL;
}

const struct proc_map *proc_find_map(struct procs *ps, struct proc *p, uint64_t addr)
{
	const struct proc_map *m = find(p, addr);
	uint64_t st;

	if (m || p->gone || p->reload_gen == ps->gen)
		return m;
	p->reload_gen = ps->gen;
	st = proc_start_time(p->pid);
	if (st != p->start_time) {
		/* Gone, or the pid now names another process: its mappings would
		 * mislabel this one's addresses, so keep what we had and stop. */
		p->gone = true;
		return NULL;
	}
	if (read_maps(p) < 0) {
		p->gone = true;
		return NULL;
	}
	u64map_clear(&p->ip_frames);
	return find(p, addr);
}

void proc_map_open_path(const struct proc *p, const struct proc_map *m, char *buf, size_t size)
{
	if (m->flags & MAP_F_DELETED)
		snprintf(buf, size, "/proc/%u/map_files/%" PRIx64 "-%" PRIx64, p->pid, m->start,
			 m->end);
	else
		snprintf(buf, size, "/proc/%u/root%s", p->pid, m->path);
}

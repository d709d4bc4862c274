/* test_scope_bpf.sh's window on --scope's BPF side: opens the sampler with
 * scoping on, probes FUNC (funcaddr, as the recorder does), and prints every
 * call record and every kept sample, raw, then the scope counters.
 *
 * Usage: scope_tool FUNC SECONDS -p PID
 *        scope_tool FUNC SECONDS -- COMMAND ARGS...   (launched; waits for it)
 * Lines: "B ID TGID TID PROBE BEGIN_NS", "E ID TGID TID PROBE BEGIN_NS END_NS CUT",
 * "S TID TIME_NS IN_CALL CALL_ID", "C NAME VALUE"; "attached" on stderr once
 * probing. Exit 3 with funcaddr's line when FUNC is not found. */
#include "capture/sampler.h"
#include "symbols/funcaddr.h"
#include "base/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_call(const struct st_call *c, void *ctx)
{
	(void)ctx;
	if (c->kind == ST_EV_CALL_BEGIN)
		printf("B %llu %u %u %u %llu\n", (unsigned long long)c->call_id, c->tgid, c->tid,
		       c->probe, (unsigned long long)c->begin_ns);
	else
		printf("E %llu %u %u %u %llu %llu %d\n", (unsigned long long)c->call_id, c->tgid,
		       c->tid, c->probe, (unsigned long long)c->begin_ns,
		       (unsigned long long)c->time_ns, !!(c->flags & ST_CALL_CUT));
}

static void on_sample(const struct st_sample *s, size_t size, void *ctx)
{
	(void)size;
	(void)ctx;
	printf("S %u %llu %d %llu\n", s->tid, (unsigned long long)s->time_ns,
	       !!(s->flags & ST_SAMPLE_IN_CALL), (unsigned long long)s->call_id);
}

int main(int argc, char **argv)
{
	const char *func, *why = NULL;
	struct sampler_opts o = { .freq_hz = 1000, .filter_pids = true, .scope = true };
	struct funcaddr fa;
	struct sampler *s;
	uint64_t c[ST_CNT_NR];
	uint32_t pid = 0;
	double secs;
	int go[2], err, status = 0;
	char path[PATH_MAX];
	pid_t child = 0;

	if (argc < 5)
		return 2;
	func = argv[1];
	secs = atof(argv[2]);
	if (!strcmp(argv[3], "-p")) {
		pid = atoi(argv[4]);
		o.pids = &pid;
		o.nr_pids = 1;
		err = funcaddr_find_pid(pid, func, &fa);
	} else {
		err = funcaddr_command_path(argv[4], path, sizeof(path));
		if (!err)
			err = funcaddr_find_file(path, func, &fa);
	}
	if (err) {
		struct strbuf sb = STRBUF_INIT;

		funcaddr_explain(func, err, &fa, &sb);
		fprintf(stderr, "sampletop: %s\n", sb.buf);
		strbuf_release(&sb);
		return 3;
	}
	err = sampler_open(&o, &s, &why);
	if (err) {
		fprintf(stderr, "scope_tool: %s (%s)\n", why, strerror(-err));
		return 1;
	}
	sampler_set_call_fn(s, on_call);
	for (uint32_t i = 0; i < fa.nr; i++) {
		err = sampler_attach_scope(s, fa.loc[i].path, fa.loc[i].offset, 0, pid ? (int)pid : -1,
					   &why);
		if (err) {
			fprintf(stderr, "scope_tool: %s (%s)\n", why, strerror(-err));
			return 1;
		}
	}
	if (!pid) {	/* launched: held until the probes are on */
		if (pipe(go) || (child = fork()) < 0)
			return 1;
		if (!child) {
			char b;

			close(go[1]);
			if (read(go[0], &b, 1) != 1)
				_exit(127);
			execvp(argv[4], argv + 4);
			_exit(127);
		}
		close(go[0]);
		sampler_add_pid(s, child);
		if (write(go[1], "g", 1) != 1)
			return 1;
		close(go[1]);
	}
	fprintf(stderr, "attached %u %s+%#llx\n", fa.nr, fa.loc[0].path,
		(unsigned long long)fa.loc[0].offset);
	for (uint64_t end = now_ns() + secs * 1e9; now_ns() < end;) {
		struct timespec ts = { 0, 50 * 1000000 };

		nanosleep(&ts, NULL);
		sampler_drain(s, on_sample, NULL);
		if (child && waitpid(child, &status, WNOHANG) == child)
			child = 0, secs = 0, end = 0;
	}
	sampler_stop(s);
	sampler_drain(s, on_sample, NULL);
	sampler_counters(s, c);
	printf("C calls %llu\nC outside %llu\nC lost %llu\nC full %llu\nC recorded %llu\n",
	       (unsigned long long)c[ST_CNT_SCOPE_CALLS], (unsigned long long)c[ST_CNT_SCOPE_OUTSIDE],
	       (unsigned long long)c[ST_CNT_SCOPE_LOST], (unsigned long long)c[ST_CNT_SCOPE_FULL],
	       (unsigned long long)c[ST_CNT_RECORDED]);
	sampler_free(s);
	if (child) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	return 0;
}

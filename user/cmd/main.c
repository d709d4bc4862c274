/* sampletop's entry point: subcommand dispatch and the record command.
 * Exit codes: 0 success, 1 runtime error, 2 usage error; a launched
 * command's non-zero exit status is passed on. */
#include "cmd/addr2line.h"
#include "cmd/agent.h"
#include "capture/cgroup.h"
#include "cmd/chsource.h"
#include "cmd/cli.h"
#include "cmd/live.h"
#include "cmd/output.h"
#include "procs/procs.h"
#include "cmd/record.h"
#include "unwind/unwind_bpf.h"
#include "unwind/unwind_cache.h"
#include "report/report.h"
#include "store/store.h"
#include "tui/screen.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How often the ring buffer is drained. Short enough that a process's maps
 * are usually read while it still runs; long enough to cost nothing. */
#define DRAIN_PERIOD_MS 100

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int err_msg(const char *what, int err)
{
	fprintf(stderr, "sampletop: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

/* State letter and flags of a process from /proc/PID/stat; 0 if unreadable. */
static char proc_state(uint32_t pid, unsigned long *flags)
{
	char buf[1024], state = 0;
	const char *s = proc_read_stat(pid, buf, sizeof(buf));

	if (!s || sscanf(s, " %c %*d %*d %*d %*d %*d %lu", &state, flags) != 2)
		return 0;
	return state;
}

/* A pid must name a live process; a zombie has nothing left to sample and a
 * kernel thread has no user stack (its kernel stack is sampled instead). */
static int check_pid(struct options *o, uint32_t pid, uint64_t start_time)
{
	unsigned long flags = 0;
	char state, arg[16];

	snprintf(arg, sizeof(arg), "%u", pid);
	if (!proc_alive(pid, start_time))
		return cli_option_error("-p", arg, "no such process");
	state = proc_state(pid, &flags);
	if (state == 'Z' || state == 'X')
		return cli_option_error("-p", arg,
					"the process has exited (a zombie): nothing to sample");
	if (flags & 0x00200000 /* PF_KTHREAD */ && !o->kernel) {
		if (!o->quiet)
			fprintf(stderr, "sampletop: pid %u is a kernel thread: sampling its kernel stack (-K)\n",
				pid);
		o->kernel = true;
	}
	return 0;
}

static void describe_filters(const struct options *o, struct strbuf *sb)
{
	if (o->user)
		strbuf_addf(sb, " of user %s", o->user);
	for (size_t i = 0; i < o->nr_comms; i++)
		strbuf_addf(sb, "%s%s", i ? " or " : " named ", o->comms[i]);
	if (o->cgroup)
		strbuf_addf(sb, " in cgroup %s", o->cgroup);
}

static char *describe_target(const struct options *o, pid_t child)
{
	struct strbuf sb = STRBUF_INIT;
	char comm[32];

	if (o->all) {
		strbuf_addstr(&sb, "all processes");
	} else if (o->command) {
		strbuf_addf(&sb, "command (pid %d):", (int)child);
		for (char **a = o->command; *a; a++)
			strbuf_addf(&sb, " %s", *a);
	} else if (o->nr_pids) {
		for (size_t i = 0; i < o->nr_pids; i++) {
			proc_read_comm(o->pids[i], comm, sizeof(comm));
			strbuf_addf(&sb, "%spid %u (%s)", i ? ", " : "", o->pids[i], comm);
		}
	} else if (o->nr_tids) {
		for (size_t i = 0; i < o->nr_tids; i++)
			strbuf_addf(&sb, "%stid %u", i ? ", " : "", o->tids[i]);
	} else {
		strbuf_addstr(&sb, "processes");
	}
	describe_filters(o, &sb);
	return strbuf_detach(&sb);
}

static void fill_host_meta(struct profile *p, int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	struct utsname u;
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	p->meta.hostname = xstrdup(host);
	p->meta.kernel = xstrdup(uname(&u) == 0 ? u.release : "?");
	for (int i = 0; i < argc; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", argv[i]);
	p->meta.command = strbuf_detach(&sb);
}

/* What the terminal view needs of the options: how it opens, -d, colour. */
static void tui_opts_from(const struct options *o, struct tui_opts *t)
{
	struct vm_config *c = &t->view;

	memset(t, 0, sizeof(*t));
	c->view = o->invert ? VM_INVERTED : VM_TREE;
	c->by_process = o->processes;
	c->by_program = !o->per_pid;
	c->auto_group = o->command && !o->processes;
	c->by_thread = o->threads;
	c->kernel = o->kernel;
	c->user = !o->kernel_only;
	c->show_idle = o->show_idle;
	c->focus = o->focus;
	c->min_percent = o->min_percent;
	c->rules.hide = o->hide;
	c->rules.nr_hide = o->nr_hide;
	c->rules.show = o->show;
	c->rules.nr_show = o->nr_show;
	c->rules.show_all = o->show_all;
	t->duration_s = o->duration_s;
	t->color = o->color;
	t->ascii = o->ascii;
}

/* Drains for one period; a record sent with a wake-up ends the wait early
 * (a sample that met a file without an unwind table, now and then: the
 * maps of exec'd processes are read by the snapshot thread, see
 * snapshot.h, so that this loop may be slow). */
static long drain_period(struct recorder *rec)
{
	uint64_t end = now_ns() + DRAIN_PERIOD_MS * 1000000ull, now;
	long n;

	while ((now = now_ns()) < end && !stop_signal) {
		n = recorder_wait(rec, (int)((end - now + 999999) / 1000000));
		if (n < 0)
			return n;
	}
	return 0;
}

/* Whom a launched command runs as (--as-user). */
struct child_user {
	uid_t uid;
	gid_t gid;
	char *name, *home;
};

/* name NULL: the user who ran sudo. Returns 0 or -ENOENT/-ESRCH. */
static int child_user_resolve(const char *name, struct child_user *cu)
{
	struct passwd *pw;

	if (!name)
		name = getenv("SUDO_USER");
	if (!name || !*name)
		return -ESRCH;
	pw = getpwnam(name);
	if (!pw)
		return -ENOENT;
	cu->uid = pw->pw_uid;
	cu->gid = pw->pw_gid;
	cu->name = xstrdup(pw->pw_name);
	cu->home = xstrdup(pw->pw_dir);
	return 0;
}

/* In the child, before exec. Returns 0 or -errno. */
static int become(const struct child_user *cu)
{
	if (initgroups(cu->name, cu->gid) < 0 || setgid(cu->gid) < 0 || setuid(cu->uid) < 0)
		return -errno;
	setenv("USER", cu->name, 1);
	setenv("LOGNAME", cu->name, 1);
	setenv("HOME", cu->home, 1);
	return 0;
}

/* -u: a user name or a numeric uid. */
static int resolve_uid(const char *s, uint32_t *uid)
{
	struct passwd *pw = getpwnam(s);
	char *end;
	unsigned long v;

	if (pw) {
		*uid = pw->pw_uid;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > UINT32_MAX)
		return -ENOENT;
	*uid = v;
	return 0;
}

/* Forks the command stopped at a pipe; it execs once told to (after the
 * sampler knows its pid), so no early sample is missed. */
static pid_t spawn(char **argv, const struct child_user *cu, int *go_fd)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;

		close(fds[1]);
		signal(SIGPIPE, SIG_DFL);
		if (read(fds[0], &c, 1) != 1)
			_exit(127);
		if (cu && become(cu) < 0) {
			fprintf(stderr, "sampletop: cannot run the command as %s: %s\n", cu->name,
				strerror(errno));
			_exit(127);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "sampletop: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	*go_fd = fds[1];
	return pid;
}

/* -v: the unwind table of every object met, and what it costs. */
static void print_unwind_tables(const struct unwind_bpf *u)
{
	struct unwind_obj_info info;
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; u && i < unwind_bpf_nr_objects(u); i++) {
		unwind_bpf_object(u, i, &info);
		strbuf_addstr(&sb, "sampletop: unwind table: ");
		strbuf_add_escaped(&sb, info.path);
		if (info.err)
			strbuf_addf(&sb, ": none (%s)", strerror(-info.err));
		else
			strbuf_addf(&sb, ": %u rows, %zu bytes, built in %.1f ms%s", info.rows,
				    info.bytes, info.build_ms,
				    info.table_full  ? " (bigger than --unwind-mem)"
				    : info.evicted   ? " (evicted)"
				    : info.reclaimed ? " (reclaimed: no longer mapped)"
				    : info.shared    ? " (shared by build-id)"
						     : "");
		fprintf(stderr, "%s\n", sb.buf);
		strbuf_reset(&sb);
	}
	if (u && unwind_cache_dir()) {
		struct unwind_cache_stats cs;

		unwind_cache_get_stats(&cs);
		strbuf_addstr(&sb, "sampletop: unwind cache: ");
		strbuf_add_escaped(&sb, unwind_cache_dir());
		strbuf_addf(&sb, ": %llu loaded, %llu built and stored, %llu files refused, "
			    "%llu evicted", (unsigned long long)cs.hits, (unsigned long long)cs.stored,
			    (unsigned long long)cs.rejected, (unsigned long long)cs.evicted);
		fprintf(stderr, "%s\n", sb.buf);
	}
	strbuf_release(&sb);
}

/* One record run, from the parsed options to the exit code. */
struct record {
	struct options o;
	struct recorder_opts ro;
	struct child_user cu;		/* --as-user */
	uint64_t *pid_starts;		/* of o.pids: a reused pid is not the target */
	bool *cpus;			/* -C, indexed by CPU */
	struct profile *prof;
	struct recorder *rec;
	struct live live;		/* the targets, and how they ended */
	bool tui;			/* the live view runs, not the record loop */
};

/* -p: every pid names a process we can sample; their start times. -t: every
 * tid is there (else nothing would be sampled until Ctrl-C). Returns 0 or 2. */
static int check_pids(struct record *r)
{
	char arg[16];

	r->pid_starts = xcalloc(r->o.nr_pids + 1, sizeof(*r->pid_starts));
	for (size_t i = 0; i < r->o.nr_pids; i++) {
		r->pid_starts[i] = proc_start_time(r->o.pids[i]);
		if (check_pid(&r->o, r->o.pids[i], r->pid_starts[i]))
			return 2;
	}
	for (size_t i = 0; i < r->o.nr_tids; i++) {
		snprintf(arg, sizeof(arg), "%u", r->o.tids[i]);
		if (!proc_pid_exists(r->o.tids[i]))
			return cli_option_error("-t", arg, "no such thread");
	}
	return 0;
}

/* -C: the CPUs to sample, as a table indexed by CPU. Returns 0 or 2. */
static int parse_cpus(struct record *r)
{
	uint32_t *list = NULL;
	size_t n = 0, nr_cpus = 0;

	if (!r->o.cpus)
		return 0;
	if (parse_id_list(r->o.cpus, &list, &n)) {
		fprintf(stderr, "sampletop: bad CPU list '%s' (e.g. 0,2-3)\n", r->o.cpus);
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		nr_cpus = list[i] + 1 > nr_cpus ? list[i] + 1 : nr_cpus;
	r->cpus = xcalloc(nr_cpus, sizeof(*r->cpus));
	for (size_t i = 0; i < n; i++)
		r->cpus[list[i]] = true;
	free(list);
	r->ro.sampler.cpus = r->cpus;
	r->ro.sampler.nr_cpus = nr_cpus;
	return 0;
}

/* --as-user: whom the command runs as; -u: whose processes are sampled.
 * Returns 0 or 2. */
static int resolve_users(struct record *r)
{
	const struct options *o = &r->o;

	if (o->as_user) {
		int err = child_user_resolve(o->child_user, &r->cu);

		if (err == -ESRCH)
			return cli_option_error("--as-user", NULL, "not run through sudo "
						"($SUDO_USER unset): name the user, --as-user=USER");
		if (err)
			return cli_option_error("--as-user", o->child_user ?: getenv("SUDO_USER"),
						"no such user (a user name)");
	}
	if (o->user && resolve_uid(o->user, &r->ro.sampler.uid))
		return cli_option_error("-u", o->user,
					"no such user (a user name or a numeric uid)");
	r->ro.sampler.filter_uid = o->user != NULL;
	return 0;
}

/* --cgroup and --comm: which processes are sampled. Returns 0 or 1. */
static int resolve_filters(struct record *r)
{
	const struct options *o = &r->o;

	if (o->cgroup) {
		int err = cgroup_resolve(o->cgroup, &r->ro.sampler.cgroup);

		if (err) {
			fprintf(stderr, "sampletop: --cgroup %s: %s\n", o->cgroup,
				err == -ENOTDIR ? "not a cgroup directory"
				: err == -EOPNOTSUPP ? "a cgroup v1 hierarchy without a controller "
						       "(use a controller's or the cgroup v2 hierarchy)"
				: strerror(-err));
			return 1;
		}
		r->ro.sampler.filter_cgroup = true;
	}
	for (size_t i = 0; i < o->nr_comms; i++)
		if (strlen(o->comms[i]) > 15 && !o->quiet)
			fprintf(stderr, "sampletop: warning: the kernel keeps 15 characters of a "
					"process name; matching '%.15s'\n", o->comms[i]);
	r->ro.sampler.comms = (const char *const *)o->comms;
	r->ro.sampler.nr_comms = o->nr_comms;
	return 0;
}

/* --slower-than: each slower call goes to -o's pattern as it ends. */
static void call_ended(const struct profile *p, const struct call *call, void *ctx)
{
	const struct options *o = ctx;

	if (call_duration(call) > o->slower_than_ns)
		output_call(p, call, o);
}

/* The rest of the recorder's options, straight from the command line. */
static void fill_recorder_opts(struct record *r)
{
	struct recorder_opts *ro = &r->ro;
	struct options *o = &r->o;

	/* Several processes: group by process at the root. A launched command's
	 * tree is grouped once it has more than one process (finish_recording). */
	if (o->all || o->nr_pids > 1 || o->user || o->nr_comms || o->cgroup)
		o->processes = true;
	ro->sampler.freq_hz = o->freq_hz;
	ro->sampler.user = !o->kernel_only;
	ro->sampler.kernel = o->kernel;
	ro->sampler.idle = o->idle;
	ro->sampler.wall = o->wall;
	ro->sampler.pids = o->pids;
	ro->sampler.nr_pids = o->nr_pids;
	ro->sampler.tids = o->tids;
	ro->sampler.nr_tids = o->nr_tids;
	ro->sampler.filter_pids = o->command != NULL;
	ro->sampler.follow_forks = o->command != NULL;
	ro->sym.kernel = o->kernel;
	ro->sym.no_demangle = o->no_demangle;
	ro->sym.lines = o->lines;
	ro->sampler.unwind = o->unwind == UNWIND_FP      ? ST_UNWIND_FP
			     : o->unwind == UNWIND_DWARF ? ST_UNWIND_DWARF
							 : ST_UNWIND_AUTO;
	if (o->no_unwind_cache)
		unwind_cache_configure(NULL, 0);
	ro->sampler.unwind_mem = o->unwind_mem;
	ro->python.mode = o->python;
	ro->python.lines = o->lines;
	ro->sampler.scope = o->nr_scope && !callrec_fn_is_python(o->scope[0]);
	ro->scope = o->scope;
	ro->nr_scope = o->nr_scope;
	ro->slowest = o->slowest;
	if (o->slower_than_ns) {
		ro->call_ended = call_ended;
		ro->call_ended_ctx = o;
	}
}

/* --scope with native functions: a uprobe pair on each, in each -p process
 * or in the program -- COMMAND runs (probe numbers in --scope order).
 * Returns 0 or 1 after one line. */
static int attach_scopes(struct record *r)
{
	const struct options *o = &r->o;
	struct strbuf msg = STRBUF_INIT;
	int err = 0;

	if (!r->ro.sampler.scope)
		return 0;
	for (uint32_t i = 0; i < o->nr_scope && !err; i++) {
		const char *fn = callrec_fn_name(o->scope[i]);

		for (size_t k = 0; k < o->nr_pids && !err; k++)
			err = recorder_scope_native(r->rec, fn, i, o->pids[k], NULL, &msg);
		if (!o->nr_pids)
			err = recorder_scope_native(r->rec, fn, i, 0, o->command[0], &msg);
	}
	if (err)
		fprintf(stderr, "sampletop: %s\n", msg.buf);
	strbuf_release(&msg);
	return err ? 1 : 0;
}

/* The profile and the recorder that fills it: sampling starts here.
 * Returns 0 or 1. */
static int open_recording(struct record *r, int argc, char **argv)
{
	const char *why = NULL;
	int err;

	r->prof = profile_new();
	fill_host_meta(r->prof, argc, argv);
	err = recorder_open(r->prof, &r->ro, &r->rec, &why);
	if (err) {
		fprintf(stderr, "sampletop: %s (%s)\n", why ? why : "cannot start sampling",
			strerror(-err));
		return 1;
	}
	if (r->o.kernel && symbolizer_kernel_hidden(recorder_symbolizer(r->rec)))
		fprintf(stderr, "sampletop: warning: kernel addresses are hidden "
				"(kernel.kptr_restrict, or no CAP_SYSLOG); kernel frames will "
				"show as [unknown]\n");
	if (attach_scopes(r))
		return 1;
	r->live.prof = r->prof;
	r->live.rec = r->rec;
	r->live.pids = r->o.pids;
	r->live.pid_starts = r->pid_starts;
	r->live.nr_pids = r->o.nr_pids;
	return 0;
}

/* -- COMMAND: started stopped, let go once the sampler follows its pid, so
 * that no early sample is missed. Returns 0 or 1. */
static int launch_command(struct record *r)
{
	int go_fd = -1;

	if (!r->o.command)
		return 0;
	recorder_command_prepare(r->rec);
	r->live.child = spawn(r->o.command, r->o.as_user ? &r->cu : NULL, &go_fd);
	if (r->live.child < 0)
		return err_msg("cannot start the command", errno);
	recorder_add_pid(r->rec, r->live.child);
	if (write(go_fd, "g", 1) != 1) {
		int ret = err_msg("cannot start the command", errno);

		close(go_fd);
		return ret;
	}
	close(go_fd);
	recorder_command_started(r->rec, r->live.child);
	return 0;
}

/* Names the target in the profile; picks the live view (asked for, or on a
 * terminal with no -d) or says what is sampled. */
static void announce(struct record *r)
{
	const struct options *o = &r->o;

	r->prof->meta.target = describe_target(o, r->live.child);
	r->tui = o->tui == TUI_ON ||
		 (o->tui == TUI_AUTO && !o->duration_s && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO));
	if (o->quiet || r->tui)
		return;
	fprintf(stderr, "sampletop: sampling %s at %u Hz", r->prof->meta.target, o->freq_hz);
	if (o->duration_s)
		fprintf(stderr, " for %.3g s", o->duration_s);
	fprintf(stderr, "; Ctrl-C to stop\n");
}

/* Until a signal, -d's deadline or the targets' exit. */
static void record_loop(struct record *r)
{
	uint64_t deadline = r->o.duration_s ? now_ns() + (uint64_t)(r->o.duration_s * 1e9) : 0;

	while (!stop_signal) {
		if (drain_period(r->rec) < 0)
			break;
		if (deadline && now_ns() >= deadline)
			break;
		if (live_targets_exited(&r->live))
			break;
	}
}

/* The live view, until q, a signal or -d. Returns 0 or 1. On a terminal
 * curses cannot drive, records and reports as with --no-tui (r->tui false). */
static int run_live_view(struct record *r)
{
	struct tui_source src;
	struct tui_opts to;
	struct tui_args ta = { r->prof, &src, &to, &stop_signal };
	int err;

	live_source(&r->live, &src);
	tui_opts_from(&r->o, &to);
	err = tui_run(&ta);
	if (err == -ENOTTY && r->o.tui == TUI_AUTO) {
		r->tui = false;
		record_loop(r);
		return 0;
	}
	if (err) {
		fprintf(stderr, "sampletop: %s (%s)\n", ta.why, strerror(-err));
		return 1;
	}
	return 0;
}

/* The last samples, how the run ended, then the report. Returns the exit
 * code: the report's, else the command's non-zero status. */
static int finish_recording(struct record *r)
{
	struct options *o = &r->o;
	int ret = 0;

	recorder_stop(r->rec);
	if (r->live.exited && !o->quiet)
		fprintf(stderr, "sampletop: %s\n", r->prof->meta.note);
	else if (stop_signal && !o->quiet && !r->tui)
		fprintf(stderr, "sampletop: stopped by signal %d\n", (int)stop_signal);
	if (o->verbose)
		print_unwind_tables(recorder_unwind_bpf(r->rec));
	/* Detach before writing: the report can take a while on large profiles. */
	recorder_free(r->rec);
	r->rec = NULL;
	if (o->command && profile_many_pids(r->prof))
		o->processes = true;
	/* -o as a per-call pattern: the kept calls go there (unless each
	 * slower one already did), the aggregate where it goes without -o. */
	if (cli_is_call_pattern(o->output)) {
		if (!o->slower_than_ns)
			ret = output_kept_calls(r->prof, o);
		o->output = NULL;
	}
	/* The live view writes a report only when -o names one. */
	if (!r->tui || o->output)
		ret |= output_report(r->prof, o, NULL);
	if (!ret && r->live.child_status > 0)
		ret = r->live.child_status;
	return ret;
}

static void record_free(struct record *r)
{
	/* Stopped early (q, a signal, an error): the command goes too. */
	if (r->live.child > 0 && !r->live.exited) {
		kill(r->live.child, SIGTERM);
		waitpid(r->live.child, NULL, 0);
	}
	recorder_free(r->rec);
	profile_free(r->prof);
	free(r->cpus);
	free(r->pid_starts);
	free(r->cu.name);
	free(r->cu.home);
	options_free(&r->o);
}

static int cmd_record(int argc, char **argv)
{
	struct record r = { .live = { .child = -1, .child_status = -1 } };
	bool done;
	int ret;

	/* First of all: a Ctrl-C during a slow start must still end in a report. */
	install_signals();
	options_init(&r.o);
	ret = cli_parse_record(&r.o, argc, argv, &done);
	if (done)
		goto out;
	ret = check_pids(&r);
	if (!ret)
		ret = parse_cpus(&r);
	if (!ret)
		ret = resolve_users(&r);
	if (!ret)
		ret = resolve_filters(&r);
	/* Last: a bad option must not leave an empty -o file behind. */
	if (!ret && !cli_is_call_pattern(r.o.output))
		ret = output_check(r.o.output);
	if (ret)
		goto out;
	fill_recorder_opts(&r);
	ret = open_recording(&r, argc, argv);
	if (!ret)
		ret = launch_command(&r);
	if (ret)
		goto out;
	announce(&r);
	if (r.tui)
		ret = run_live_view(&r);
	else
		record_loop(&r);
	if (!ret)
		ret = finish_recording(&r);
out:
	record_free(&r);
	return ret;
}

/* Loads a saved profile, printing one line on failure. */
static struct profile *load_profile(const char *path)
{
	struct profile *p;
	char why[256] = "";
	int err = store_load_file(path, &p, why, sizeof(why));

	if (err) {
		fprintf(stderr, "sampletop: %s: %s\n", path, why[0] ? why : strerror(-err));
		return NULL;
	}
	return p;
}

/* report --tui: the live view on a saved profile; with -o, the report after q. */
static int view_saved(struct profile *prof, const struct options *o)
{
	struct tui_opts to;
	struct tui_args ta = { prof, NULL, &to, &stop_signal };
	int err;

	install_signals();
	tui_opts_from(o, &to);
	err = tui_run(&ta);
	if (err) {
		fprintf(stderr, "sampletop: %s (%s)\n", ta.why, strerror(-err));
		return 1;
	}
	return o->output ? output_report(prof, o, o->args[0]) : 0;
}

/* A saved profile, or the k-th clickhouse:// source (k counts them).
 * Returns the profile, or NULL with *ret the exit code (printed). */
static struct profile *load_source(const struct chsource_opts *so, size_t *k, const char *path,
				   int *ret)
{
	struct profile *p = NULL;

	if (chsource_is_url(path)) {
		*ret = chsource_load(so, (*k)++, path, &p);
		return p;
	}
	p = load_profile(path);
	*ret = p ? 0 : 1;
	return p;
}

/* sampletop report FILE|URL [--format F] [-o OUT] [STORE OPTIONS] [VIEW OPTIONS] */
static int cmd_report(int argc, char **argv)
{
	struct chsource_opts so;
	struct options o;
	struct profile *prof = NULL;
	size_t k = 0;
	bool done;
	int ret;

	options_init(&o);
	ret = chsource_take_options(&argc, argv, &so);
	if (ret)
		goto out;
	ret = cli_parse_view(&o, "report", argc, argv, &done);
	if (done)
		goto out;
	so.verbose = o.verbose;
	if (o.nr_args != 1) {
		ret = cli_usage_error("report wants one saved profile, a .json report, or a "
				      "clickhouse:// store (see sampletop report --help)");
		goto out;
	}
	if ((ret = chsource_check_unused(&so, "report")))
		goto out;
	signal(SIGPIPE, SIG_IGN);
	prof = load_source(&so, &k, o.args[0], &ret);
	/* As when recording: several processes are grouped by process; the
	 * store's always, so that each row says its host (one pid may run on
	 * every host). */
	if (prof && (profile_many_pids(prof) || chsource_is_url(o.args[0])))
		o.processes = true;
	if (prof && o.tui == TUI_ON)
		ret = view_saved(prof, &o);
	else if (prof && cli_is_call_pattern(o.output))	/* the kept calls, each to a file */
		ret = output_kept_calls(prof, &o);
	else if (prof)
		ret = output_report(prof, &o, o.args[0]);
out:
	profile_free(prof);
	options_free(&o);
	return ret;
}

/* sampletop diff BEFORE AFTER [--format text|html] [-o OUT] [VIEW OPTIONS] */
static int cmd_diff(int argc, char **argv)
{
	struct chsource_opts so;
	size_t k = 0;
	struct options o;
	struct profile *a = NULL, *b = NULL;
	struct report_opts ro;
	struct outfile of;
	FILE *out = NULL;
	bool done;
	int ret, fmt, err = 0;

	options_init(&o);
	ret = chsource_take_options(&argc, argv, &so);
	if (ret)
		goto out;
	ret = cli_parse_view(&o, "diff", argc, argv, &done);
	if (done)
		goto out;
	so.verbose = o.verbose;
	ret = 2;
	if (o.nr_args != 2) {
		cli_usage_error("diff wants two saved profiles, BEFORE.json AFTER.json, or "
				"clickhouse:// sources (see sampletop diff --help)");
		goto out;
	}
	if (chsource_check_unused(&so, "diff"))
		goto out;
	fmt = o.format >= 0 ? o.format : o.output ? report_format_by_path(o.output) : FMT_TEXT;
	if (fmt != FMT_TEXT && fmt != FMT_HTML) {
		cli_option_error("-o", o.output, "diff writes text or html, not %s",
				 fmt < 0 ? "that file type" : report_format_name(fmt));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!(a = load_source(&so, &k, o.args[0], &ret)) ||
	    !(b = load_source(&so, &k, o.args[1], &ret)))
		goto out;
	/* Not for the store: its process names hold the host, so two hosts'
	 * processes would never match (--processes still asks for them). */
	if ((profile_many_pids(a) || profile_many_pids(b)) && !so.nr_urls)
		o.processes = true;
	out = output_open(&of, o.output, &err);
	if (out) {
		options_report(&o, &ro, out == stdout && isatty(STDOUT_FILENO) && fmt == FMT_TEXT);
		err = output_close(&of, out,
				   report_diff(a, b, o.args[0], o.args[1], fmt, &ro, out));
	}
	ret = 0;
	if (err == -EPIPE && out == stdout)
		goto out;
	if (err) {
		ret = out == stdout ? err_msg("writing the comparison", err)
				    : output_failed(o.output, err);
		output_say_kept(o.args[0], o.args[1]);
	} else if (o.output && !o.quiet) {
		fprintf(stderr, "sampletop: wrote %s (%s)\n", o.output, report_format_name(fmt));
	}
out:
	profile_free(a);
	profile_free(b);
	options_free(&o);
	return ret;
}

/* sampletop live URL [--window S] [STORE OPTIONS] [VIEW OPTIONS]: the live
 * view over the store, re-read every window; with -o, the report after q. */
static int cmd_live(int argc, char **argv)
{
	struct chsource_opts so;
	struct chsource_live *l = NULL;
	struct profile *prof = NULL;
	struct tui_source src;
	struct tui_opts to;
	struct options o;
	bool done;
	int ret, err;

	options_init(&o);
	ret = chsource_take_options(&argc, argv, &so);
	if (ret)
		goto out;
	ret = cli_parse_view(&o, "live", argc, argv, &done);
	if (done)
		goto out;
	if (o.nr_args != 1 || !chsource_is_url(o.args[0])) {
		ret = cli_usage_error("live wants one clickhouse://HOST:PORT/DB store "
				      "(see sampletop live --help)");
		goto out;
	}
	install_signals();
	ret = chsource_live_open(&so, o.args[0], &l, &prof, &src);
	if (ret)
		goto out;
	/* A fleet: grouped by program and process, as -a is. */
	o.processes = true;
	tui_opts_from(&o, &to);
	struct tui_args ta = { prof, &src, &to, &stop_signal };
	err = tui_run(&ta);
	if (chsource_live_error(l)) {
		fprintf(stderr, "sampletop: %s: %s\n", o.args[0], chsource_live_error(l));
		ret = 1;
	} else if (err) {
		fprintf(stderr, "sampletop: %s (%s)\n", ta.why, strerror(-err));
		ret = 1;
	} else if (o.output) {
		ret = output_report(prof, &o, NULL);
	}
out:
	chsource_live_free(l);
	options_free(&o);
	return ret;
}

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct subcommand subcommands[] = {
	{ "record", cmd_record },
	{ "addr2line", addr2line_main },
	{ "report", cmd_report },
	{ "diff", cmd_diff },
	{ "live", cmd_live },
	{ "agent", agent_main },
};

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
			if (!strcmp(argv[1], subcommands[i].name))
				return subcommands[i].run(argc - 1, argv + 1);
	}
	return cmd_record(argc, argv);
}

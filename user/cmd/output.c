/* Writing reports: to -o all or nothing (base/outfile.h), and when that
 * fails, the recording saved in a fallback place so that it is not lost. */
#include "cmd/output.h"
#include "report/report.h"
#include "store/store.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Names tried in a fallback directory before the next one (a new name per
 * second and pid, so more than one is rare). */
#define FALLBACK_TRIES 100

/* Why an output path cannot be written, in words. */
static const char *output_why(int err)
{
	return err == -ELOOP ? "it is a symbolic link (not followed)"
	       : err == -EINVAL ? "not a regular file (left alone)"
				: strerror(-err);
}

int output_failed(const char *path, int err)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_escaped(&sb, path);
	fprintf(stderr, "sampletop: cannot write %s: %s\n", sb.buf, output_why(err));
	strbuf_release(&sb);
	return 1;
}

void output_say_kept(const char *a, const char *b)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, b ? "sampletop: nothing is lost: the profiles are still in "
			     : "sampletop: nothing is lost: the profile is still in ");
	strbuf_add_escaped(&sb, a);
	if (b) {
		strbuf_addstr(&sb, " and ");
		strbuf_add_escaped(&sb, b);
	}
	fprintf(stderr, "%s\n", sb.buf);
	strbuf_release(&sb);
}

/* Run through sudo, a new file belongs to the invoking user. */
static void give_to_sudo_user(int fd, const char *path)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");
	struct stat st;

	if (geteuid() == 0 && uid && gid && fstat(fd, &st) == 0 && st.st_uid == 0 &&
	    fchown(fd, (uid_t)strtoul(uid, NULL, 10), (gid_t)strtoul(gid, NULL, 10)) < 0)
		fprintf(stderr, "sampletop: warning: cannot give %s to uid %s: %s\n", path, uid,
			strerror(errno));
}

/* Opens the report destination: stdout for NULL or "-", else a file written
 * all or nothing (base/outfile.h): we run as root and the path may be in a
 * directory others can write, so nothing planted there is followed or
 * overwritten, and a failed write leaves the old file. Returns the stream,
 * or NULL with *err. */
FILE *output_open(struct outfile *of, const char *path, int *err)
{
	if (!path || !strcmp(path, "-"))
		return stdout;
	*err = outfile_open(of, path, 0);
	if (*err)
		return NULL;
	give_to_sudo_user(of->fd, path);
	return of->f;
}

/* Ends what output_open began, err being the writer's result: stdout is
 * flushed; a file is put in place when err is 0, else dropped. Returns 0 or
 * the real cause of the failure (ENOSPC, not the writer's EIO). */
int output_close(struct outfile *of, FILE *out, int err)
{
	if (out == stdout)
		return fflush(out) && !err ? -errno : err;
	if (!err)
		return outfile_commit(of);
	err = of->err ?: err;
	outfile_abort(of);
	return err;
}

/* Appends s as one shell word for the user to paste: quoted when it must
 * be, and escaped for the terminal (see strbuf_add_escaped). */
static void add_shell_word(struct strbuf *sb, const char *s)
{
	struct strbuf esc = STRBUF_INIT;

	strbuf_add_escaped(&esc, s);
	if (*s && strspn(esc.buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				  "0123456789_./,+:=@%-") == esc.len) {
		strbuf_addstr(sb, esc.buf);
	} else {
		strbuf_addch(sb, '\'');
		for (const char *p = esc.buf; *p; p++)
			if (*p == '\'')
				strbuf_addstr(sb, "'\\''");
			else
				strbuf_addch(sb, *p);
		strbuf_addch(sb, '\'');
	}
	strbuf_release(&esc);
}

/* Where a profile goes when its output cannot be written: $TMPDIR (else
 * /tmp), then the directory sampletop runs in; NULL after the last. */
static char *fallback_dir(int i)
{
	const char *tmp = getenv("TMPDIR");
	char *cwd;

	if (i == 0)
		return xstrdup(tmp && *tmp ? tmp : "/tmp");
	if (i > 1)
		return NULL;
	cwd = getcwd(NULL, 0);
	return cwd ? cwd : xstrdup(".");
}

/* Saves prof in dir under a new name (never over a file). Returns 0 with
 * *path set (caller frees), or -errno. */
static int save_in(const struct profile *prof, const char *dir, char **path)
{
	struct strbuf sb = STRBUF_INIT;
	struct outfile of;
	char stamp[32] = "";
	time_t now = time(NULL);
	struct tm tm;
	int err = -EEXIST;

	if (localtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (int n = 0; n < FALLBACK_TRIES && err == -EEXIST; n++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s%ssampletop-%d-%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			    (int)getpid(), stamp);
		if (n)
			strbuf_addf(&sb, "-%d", n);
		strbuf_addstr(&sb, ".json");
		err = outfile_open(&of, sb.buf, OUTFILE_NOREPLACE);
		if (err)
			continue;
		give_to_sudo_user(of.fd, sb.buf);
		err = output_close(&of, of.f, store_write(prof, of.f));
	}
	if (err)
		strbuf_release(&sb);
	else
		*path = strbuf_detach(&sb);
	return err;
}

/* The report for target (NULL: stdout) could not be written, and the
 * profile exists nowhere else: saves it in a fallback place and says, in
 * one line, where and how to get the report from it, or that it could not. */
static void save_fallback(const struct profile *prof, const struct options *o, const char *target)
{
	struct strbuf sb = STRBUF_INIT;
	char *dir, *path = NULL;
	int err;

	strbuf_addstr(&sb, "sampletop: cannot save the profile anywhere:");
	for (int i = 0; (dir = fallback_dir(i)); i++) {
		err = save_in(prof, dir, &path);
		if (!err) {
			strbuf_reset(&sb);
			strbuf_addstr(&sb, "sampletop: profile saved to ");
			add_shell_word(&sb, path);
			strbuf_addstr(&sb, "; re-render it with: sampletop report ");
			add_shell_word(&sb, path);
			if (o->format >= 0)
				strbuf_addf(&sb, " -f %s", report_format_name(o->format));
			if (target) {
				strbuf_addstr(&sb, " -o ");
				add_shell_word(&sb, target);
			}
			free(dir);
			break;
		}
		strbuf_addstr(&sb, i ? "; " : " ");
		strbuf_add_escaped(&sb, dir);
		strbuf_addf(&sb, ": %s", strerror(-err));
		free(dir);
	}
	fprintf(stderr, "%s%s\n", sb.buf, path ? "" : " (it is lost)");
	free(path);
	strbuf_release(&sb);
}

/* Writes the report -o asks for (stdout without). When it cannot be
 * written, says why in one line; a recording (source NULL) is then saved
 * in a fallback place, while a saved profile being re-rendered (source, its
 * path) is still where it was. Returns the exit code. */
int output_report(const struct profile *prof, const struct options *o, const char *source)
{
	struct report_opts ro;
	struct outfile of;
	FILE *out;
	int fmt = o->format, err = 0;

	if (fmt < 0 && o->output)
		fmt = report_format_by_path(o->output);
	if (fmt < 0)
		fmt = FMT_TEXT;
	out = output_open(&of, o->output, &err);
	if (out) {
		options_report(o, &ro, out == stdout && isatty(STDOUT_FILENO) && fmt == FMT_TEXT);
		err = output_close(&of, out, report_write(prof, fmt, &ro, out));
	}
	if (err == -EPIPE && out == stdout)
		return 0;
	if (!err) {
		if (o->output && !o->quiet)
			fprintf(stderr, "sampletop: wrote %s (%s)\n", o->output,
				report_format_name(fmt));
		return 0;
	}
	if (err == -ENOTSUP)
		fprintf(stderr, "sampletop: the %s format is not available in this build\n",
			report_format_name(fmt));
	else if (out == stdout)
		fprintf(stderr, "sampletop: writing the report: %s\n", strerror(-err));
	else
		output_failed(o->output, err);
	if (source)
		output_say_kept(source, NULL);
	else
		save_fallback(prof, o, out == stdout ? NULL : o->output);
	return 1;
}

void output_call_path(const char *pattern, const struct call *call, struct strbuf *sb)
{
	for (const char *p = pattern; *p; p++) {
		if (*p != '%' || !p[1]) {
			strbuf_addch(sb, *p);
			continue;
		}
		switch (*++p) {
		case 'n': strbuf_add_u64(sb, call->number); break;
		case 't': strbuf_add_u64(sb, call->tid); break;
		case 'p': strbuf_add_u64(sb, call->pid); break;
		case 'd': strbuf_add_u64(sb, (call_duration(call) + 500000) / 1000000); break;
		default: strbuf_addch(sb, *p); break;	/* %%, and what the CLI refused */
		}
	}
}

/* mkdir -p of the directories in path (not its last part); new ones go to
 * the sudo user as files do. Returns 0 or -errno. */
static int make_dirs(const char *path)
{
	char *dir = xstrdup(path);
	int err = 0;

	for (char *s = strchr(dir + 1, '/'); s && !err; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(dir, 0755) == 0) {
			int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (fd >= 0) {
				give_to_sudo_user(fd, dir);
				close(fd);
			}
		} else if (errno != EEXIST) {
			err = -errno;
		}
		*s = '/';
	}
	free(dir);
	return err;
}

int output_call(const struct profile *prof, const struct call *call, const struct options *o)
{
	struct strbuf path = STRBUF_INIT;
	int fmt = o->format >= 0 ? o->format : report_format_by_path(o->output), err;
	struct report_opts ro;
	struct outfile of;
	struct profile *q;
	FILE *out;

	if (fmt < 0)
		fmt = FMT_TEXT;
	output_call_path(o->output, call, &path);
	err = make_dirs(path.buf);
	out = err ? NULL : output_open(&of, path.buf, &err);
	if (out) {
		q = calls_call_profile(prof, call);
		options_report(o, &ro, false);
		err = output_close(&of, out, report_write(q, fmt, &ro, out));
		profile_free(q);
	}
	if (err) {
		/* The call stays in the aggregate (its percentiles, and its
		 * tree if it is among the slowest): said, not fatal. */
		output_failed(path.buf, err);
	} else if (!o->quiet) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, "sampletop: wrote ");
		strbuf_add_escaped(&sb, path.buf);
		strbuf_addf(&sb, " (call %llu, %.1f ms)", (unsigned long long)call->number,
			    (double)call_duration(call) / 1e6);
		fprintf(stderr, "%s\n", sb.buf);
		strbuf_release(&sb);
	}
	strbuf_release(&path);
	return err ? 1 : 0;
}

int output_kept_calls(const struct profile *prof, const struct options *o)
{
	int ret = 0;

	if (!prof->calls) {
		fprintf(stderr, "sampletop: -o names calls (%%n...), but the profile has none: "
				"record with --scope FUNC\n");
		return 1;
	}
	for (size_t f = 0; f < prof->calls->nr_fns; f++)
		for (size_t i = 0; i < prof->calls->fns[f].nr_slowest; i++)
			ret |= output_call(prof, prof->calls->fns[f].slowest[i], o);
	return ret;
}

/* Find out now, not after a long run, that the report cannot be written:
 * a temporary file beside it, dropped at once (the old report stays until
 * the new one is complete). Returns 0 or 1. */
int output_check(const char *path)
{
	struct outfile of;
	int err;

	if (!path || !strcmp(path, "-"))
		return 0;
	err = outfile_open(&of, path, 0);
	if (err)
		return output_failed(path, err);
	outfile_abort(&of);
	return 0;
}

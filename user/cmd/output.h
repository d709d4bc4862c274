/*
 * Writing reports. To a file they are written all or nothing
 * (base/outfile.h), given to the invoking user under sudo; to stdout as they
 * come. When a recording's report cannot be written, the profile is saved
 * as a saved profile in a fallback place ($TMPDIR or /tmp, then the current
 * directory) so that it is not lost. Every failure is one line on stderr
 * naming the real error (ENOSPC, not EIO).
 */
#ifndef CMD_OUTPUT_H
#define CMD_OUTPUT_H

#include <stdio.h>

#include "base/outfile.h"
#include "cmd/cli.h"
#include "model/calls.h"
#include "model/profile.h"

/*
 * Writes prof's report as o asks (-o, else stdout; -f, else -o's
 * extension). When it cannot be written, says why; then a recording
 * (source NULL) is saved in a fallback place and stderr says where, while a
 * saved profile being re-rendered (source: its path) is said to be intact.
 * Returns the exit code: 0, or 1 after the failure's lines.
 */
int output_report(const struct profile *prof, const struct options *o, const char *source);

/*
 * One call as its own report (--scope with an -o pattern): the path is the
 * pattern with %n (the call's number, in the order calls ended), %t (its
 * thread id), %p (its process id), %d (its duration in whole ms) and %%
 * filled in; the directories in it are made; the format is -f's, else the
 * pattern's extension's. Says what it wrote unless quiet, or why not.
 * Returns 0, or 1 after one line.
 */
int output_call(const struct profile *prof, const struct call *call, const struct options *o);
/* The pattern's path for a call, into sb. */
void output_call_path(const char *pattern, const struct call *call, struct strbuf *sb);
/* Writes every call kept whole (the slowest of each function) to o's pattern.
 * Returns 0 or 1. */
int output_kept_calls(const struct profile *prof, const struct options *o);

/* Before a recording: can path be written? Tried with a temporary file
 * beside it, removed at once, so the old file is untouched. Returns 0, or 1
 * after one line. NULL and "-" (stdout) always can. */
int output_check(const char *path);

/* For writers of their own (diff): the stream for path (stdout for NULL or
 * "-"), or NULL with *err; of holds the file until output_close. */
FILE *output_open(struct outfile *of, const char *path, int *err);
/* Ends what output_open began, err being the writer's result: stdout is
 * flushed; a file is put in place when err is 0, else dropped. Returns 0 or
 * the real cause of the failure. */
int output_close(struct outfile *of, FILE *out, int err);
/* One line: path cannot be written, and why. Returns 1. */
int output_failed(const char *path, int err);
/* One line after a failed re-render: the saved profiles read (b may be
 * NULL) are unchanged. */
void output_say_kept(const char *a, const char *b);

#endif

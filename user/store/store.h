/*
 * Saved profiles. The JSON report is the saved profile: one file that people
 * can read and sampletop can load back, losslessly, to re-render it with
 * other options or compare it with another one. store_write writes it,
 * store_load parses it as hostile input (every field is checked); both take
 * the format's names from store/format.h, and man/sampletop.8 (SAVED
 * PROFILES) documents it.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/profile.h"
/* Largest saved profile we read: far above any real one, small enough that
 * a hostile file cannot make us allocate without bound. */
#define STORE_MAX_BYTES (4ull << 30)

/*
 * Writes p to out as a saved profile: everything it holds, whatever a view
 * would show (so it takes no view options). Returns 0 or the write's
 * negative errno (-EIO when the stream did not say why).
 */
int store_write(const struct profile *p, FILE *out);

/*
 * The sample records in the order the saved profile keeps them: grouped by
 * thread (threads in order of first appearance), record order within a
 * thread. Writers whose output depends on record order use it, so that a
 * profile and its saved-and-loaded copy give the same bytes. Returns a new
 * array of p->nr_samples indexes (caller frees).
 */
uint32_t *store_samples_by_thread(const struct profile *p);

/*
 * The timeline events (p->events) as the saved profile keeps them: by
 * thread id, each thread's in time order (ties: in the order added). Views
 * that show a thread's timeline (speedscope) use it too. Returns a new array
 * of p->nr_events indexes (caller frees).
 */
uint32_t *store_events_in_order(const struct profile *p);

/*
 * Loads a saved profile from buf (len bytes) into a new profile. Returns 0
 * and *out, or a negative errno (-EINVAL for a malformed or unsupported
 * file, -EFBIG for one too large) with a one-line reason in err.
 */
int store_load_buf(const char *buf, size_t len, struct profile **out, char *err, size_t errlen);
/* Same, from a file. Read errors set err to strerror's text. */
int store_load_file(const char *path, struct profile **out, char *err, size_t errlen);

/* Is s valid UTF-8 (what a JSON string can carry as is)? */
int store_utf8_valid(const char *s);

#endif

/*
 * Saved profiles. The JSON report (store/write.c) is the saved profile: one
 * file that people can read and sampletop can load back, losslessly, to
 * re-render it with other options or compare it with another one.
 * store_load parses such a file as hostile input: every field is checked.
 * The format is documented in man/sampletop.8 (SAVED PROFILES).
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>

#include "model/profile.h"

#define STORE_FORMAT "sampletop-profile"
/* Bump when a reader of the previous version would misread a new file. */
#define STORE_VERSION 1
/* Largest saved profile we read: far above any real one, small enough that
 * a hostile file cannot make us allocate without bound. */
#define STORE_MAX_BYTES (4ull << 30)

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

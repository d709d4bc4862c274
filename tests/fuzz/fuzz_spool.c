/*
 * libFuzzer target: the agent's spool files on hostile bytes. A spool
 * directory holds what a previous run (or a crash, a full disk, an editor)
 * left: the reader must refuse a bad file with a reason and never crash.
 * Each input is parsed directly, then planted as a window file and as the
 * drop-count file in a spool directory that spool_open() recovers and the
 * sender's take reads back. Seeds: tests/fuzz/corpus/fuzz_spool.
 */
#include "store/spool.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/fuzz_spool.XXXXXX";
static int made;

static void plant(const char *name, const unsigned char *data, size_t size)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

/* At exit: the directory and what the spool left in it. */
static void remove_dir(void)
{
	static const char *const names[] = { "00000000000000000001.win",
					      "00000000000000000001.win.bad", "dropped",
					      "dropped.bad", "lock" };
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct spool_opts o = { .dir = dir, .mem_max = 1 << 20, .disk_max = 1 << 20 };
	struct spool_meta m;
	struct spool_window w;
	struct spool *s = NULL;
	struct strbuf warn = STRBUF_INIT;
	const void *payload;
	const char *why = NULL;
	char err[256] = "";
	size_t len;
	int r;

	if (!made++) {
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
	}
	r = spool_file_parse(data, size, &m, &payload, &len, &why);
	if (r == 0 && (len > size || (const unsigned char *)payload + len != data + size))
		abort();
	if (r < 0 && !why)
		abort();
	plant("00000000000000000001.win", data, size);
	plant("dropped", data, size < 64 ? size : 64);
	if (spool_open(&o, &s, &warn, err, sizeof(err)))
		abort();
	while ((r = spool_take(s, &w, 0)) == 1) {
		if (w.len && !w.data)
			abort();
		spool_done(s, &w, true);
	}
	spool_close(s);
	strbuf_release(&warn);
	return 0;
}

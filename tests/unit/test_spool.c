/* Unit tests of store/spool: order, the memory and disk caps, drop-oldest
 * counting, recovery from disk after a restart, corrupt files, the sender's
 * retries. */
#include "store/spool.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char top[] = "/tmp/test_spool.XXXXXX";
static int nr_dirs;

/* A fresh directory path below top (not created: the spool does that). */
static char *new_dir(void)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/d%d/spool", top, ++nr_dirs);
	return buf;
}

static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name), k = strlen(suffix);

		n += l > k && !strcmp(e->d_name + l - k, suffix);
	}
	if (d)
		closedir(d);
	return n;
}

/* Window seq: its payload is "window SEQ" padded to len bytes, samples seq*10. */
static void push(struct spool *s, uint64_t seq, size_t len)
{
	struct spool_meta m = { .seq = seq, .start_ns = seq * 1000000000ull, .samples = seq * 10 };
	char *buf = xcalloc(1, len + 1);

	snprintf(buf, len + 1, "window %" PRIu64, seq);
	spool_push(s, &m, buf, len);
	free(buf);
}

/* Takes and delivers every window; returns their seqs joined ("1,2,3"). */
static const char *take_all(struct spool *s, bool *payload_ok)
{
	static char out[1024];
	struct spool_window w;

	out[0] = 0;
	*payload_ok = true;
	while (spool_take(s, &w, 0) == 1) {
		char want[64];

		snprintf(want, sizeof(want), "window %" PRIu64, w.meta.seq);
		if (w.len < strlen(want) || memcmp(w.data, want, strlen(want)) ||
		    w.meta.samples != w.meta.seq * 10)
			*payload_ok = false;
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%" PRIu64,
			 out[0] ? "," : "", w.meta.seq);
		spool_done(s, &w, true);
	}
	return out;
}

static struct spool *open_spool(const char *dir, uint64_t mem, uint64_t disk, struct strbuf *warn)
{
	struct spool_opts o = { .dir = dir, .mem_max = mem, .disk_max = disk,
				.backoff_min_ms = 10, .backoff_max_ms = 40 };
	struct spool *s = NULL;
	char err[256] = "";
	int r = spool_open(&o, &s, warn, err, sizeof(err));

	if (r)
		printf("# spool_open %s: %d %s\n", dir ? dir : "(memory)", r, err);
	return s;
}

static void test_memory_order(void)
{
	struct spool *s = open_spool(NULL, 0, 0, NULL);
	struct spool_window w, w2;
	struct spool_stats st;
	bool ok;

	for (int i = 1; i <= 5; i++)
		push(s, i, 100);
	CHECK(spool_take(s, &w, 0) == 1 && w.meta.seq == 1, "the oldest window comes first");
	CHECK(spool_take(s, &w2, 0) == -EBUSY, "one window out at a time");
	spool_done(s, &w, false);
	CHECK(spool_take(s, &w, 0) == 1 && w.meta.seq == 1,
	      "a window not delivered stays first in line");
	spool_done(s, &w, false);
	CHECK_STR(take_all(s, &ok), "1,2,3,4,5", "memory: windows go out in order");
	CHECK(ok, "memory: each window's payload and metadata come back");
	spool_stats(s, &st);
	CHECK(st.sent == 5 && st.sent_samples == 150 && st.queued == 0 && st.dropped_windows == 0,
	      "stats: 5 sent, 150 samples, none queued or dropped (%" PRIu64 " %" PRIu64 ")",
	      st.sent, st.sent_samples);
	CHECK(spool_take(s, &w, 50) == 0, "an empty spool: nothing after the timeout");
	CHECK(spool_close(s) == 0, "close: nothing left");
}

static void test_memory_cap(void)
{
	struct spool *s = open_spool(NULL, 1000, 0, NULL);
	struct spool_window w;
	struct spool_stats st;
	bool ok;

	for (int i = 1; i <= 10; i++)
		push(s, i, 300);
	spool_stats(s, &st);
	CHECK(st.queued == 3 && st.mem_bytes == 900,
	      "memory only: 1000 bytes hold 3 windows of 300 (%" PRIu64 ")", st.queued);
	CHECK(st.dropped_windows == 7 && st.dropped_samples == 10 * (1 + 2 + 3 + 4 + 5 + 6 + 7),
	      "the 7 oldest dropped and counted with their samples (%" PRIu64 ", %" PRIu64 ")",
	      st.dropped_windows, st.dropped_samples);
	CHECK(spool_take(s, &w, 0) == 1 && w.meta.seq == 8 && w.dropped_windows == 7 &&
		      w.dropped_samples == 280,
	      "the next window sent carries the drop count (seq %" PRIu64 ", %" PRIu64 " dropped)",
	      w.meta.seq, w.dropped_windows);
	spool_done(s, &w, false);
	CHECK(spool_take(s, &w, 0) == 1 && w.dropped_windows == 7,
	      "a failed send keeps the count for the retry");
	spool_done(s, &w, true);
	CHECK(spool_take(s, &w, 0) == 1 && w.meta.seq == 9 && w.dropped_windows == 0,
	      "once delivered, the count is not carried twice");
	spool_done(s, &w, true);
	CHECK_STR(take_all(s, &ok), "10", "the newest window is kept");
	CHECK(spool_close(s) == 0, "memory only: close leaves none");
}

static void test_newest_kept(void)
{
	struct spool *s = open_spool(NULL, 100, 0, NULL);
	struct spool_window w;
	struct spool_stats st;

	push(s, 1, 500);
	spool_stats(s, &st);
	CHECK(st.queued == 1 && st.dropped_windows == 0,
	      "the newest window stays, even alone over the cap");
	push(s, 2, 500);
	spool_stats(s, &st);
	CHECK(st.queued == 1 && st.dropped_windows == 1 && spool_take(s, &w, 0) == 1 &&
		      w.meta.seq == 2 && w.dropped_windows == 1,
	      "until the next one comes: then it is the oldest, and dropped");
	spool_done(s, &w, true);
	spool_close(s);
}

static void test_disk_cap(void)
{
	const char *dir = new_dir();
	struct spool *s = open_spool(dir, 1000, 2000, NULL);
	struct spool_stats st;
	struct stat sb;
	bool ok;

	if (!s) {
		CHECK(0, "spool_open with a directory");
		return;
	}
	CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0700,
	      "the directory is created 0700 (%o)", sb.st_mode & 0777);
	for (int i = 1; i <= 20; i++)
		push(s, i, 300);
	spool_stats(s, &st);
	/* 3 windows in memory (900 bytes), 5 files of 356 bytes (1780) on disk. */
	CHECK(st.mem_windows == 3 && st.disk_windows == 5 && st.disk_bytes == 5 * 356,
	      "memory then disk: 3 in memory, 5 on disk (%" PRIu64 ", %" PRIu64 ", %" PRIu64 " B)",
	      st.mem_windows, st.disk_windows, st.disk_bytes);
	CHECK(count_files(dir, ".win") == 5, "5 window files in the directory (%d)",
	      count_files(dir, ".win"));
	CHECK(st.dropped_windows == 12 && st.spilled == 17,
	      "past both caps the 12 oldest are dropped (%" PRIu64 "), 17 went to disk",
	      st.dropped_windows);
	CHECK_STR(take_all(s, &ok), "13,14,15,16,17,18,19,20",
		  "disk then memory: still in order, the newest kept");
	CHECK(ok, "windows read back from disk have their payload");
	CHECK(count_files(dir, ".win") == 0, "delivered windows' files are removed");
	CHECK(spool_close(s) == 0, "disk: close leaves none");
}

static void test_restart(void)
{
	const char *dir = new_dir();
	struct spool *s = open_spool(dir, 1000, 0, NULL), *s2;
	struct spool_window w;
	struct spool_stats st;
	struct strbuf warn = STRBUF_INIT;
	bool ok;

	for (int i = 1; i <= 6; i++)
		push(s, i, 300);
	/* 3 of the 6 already on disk, 3 in memory: close writes those. */
	CHECK(spool_close(s) == 6, "close: 6 windows left for the next run");
	CHECK(count_files(dir, ".win") == 6, "all 6 are files now (%d)", count_files(dir, ".win"));
	s = open_spool(dir, 1000, 0, &warn);
	spool_stats(s, &st);
	CHECK(st.recovered == 6 && st.queued == 6 && st.corrupt == 0 && !warn.len,
	      "restart: the 6 windows found again, no warning (%" PRIu64 ")", st.recovered);
	s2 = open_spool(dir, 1000, 0, NULL);
	CHECK(!s2, "a second agent cannot use the same directory");
	spool_close(s2);
	CHECK(spool_take(s, &w, 0) == 1 && w.from_disk && w.meta.seq == 1,
	      "the first window of the previous run goes out first");
	spool_done(s, &w, true);
	push(s, 7, 300);
	CHECK_STR(take_all(s, &ok), "2,3,4,5,6,7", "then the rest, then the new run's windows");
	CHECK(ok, "recovered payloads intact");
	spool_close(s);
	strbuf_release(&warn);
}

static void test_dropped_persists(void)
{
	const char *dir = new_dir();
	struct spool *s = open_spool(dir, 300, 356 * 2, NULL);
	struct spool_window w;

	/* 1 and 2 dropped (disk holds 2 files: 3, 4); close writes 5 from
	 * memory, so the next run finds 3 files and drops the oldest, 3. */
	for (int i = 1; i <= 5; i++)
		push(s, i, 300);
	spool_close(s);
	s = open_spool(dir, 300, 356 * 2, NULL);
	CHECK(spool_take(s, &w, 0) == 1 && w.meta.seq == 4 && w.dropped_windows == 3 &&
		      w.dropped_samples == 60,
	      "drops not yet reported survive a restart (%" PRIu64 " windows, %" PRIu64 " samples)",
	      w.dropped_windows, w.dropped_samples);
	spool_done(s, &w, true);
	spool_close(s);
	s = open_spool(dir, 300, 356 * 2, NULL);
	CHECK(spool_take(s, &w, 0) == 1 && w.dropped_windows == 0,
	      "and once delivered they are not reported again");
	spool_done(s, &w, true);
	spool_close(s);
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		printf("# cannot write %s\n", path);
	close(fd);
}

static size_t read_file(const char *dir, const char *name, char *buf, size_t n)
{
	char path[512];
	int fd;
	ssize_t r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	r = fd < 0 ? -1 : read(fd, buf, n);
	close(fd);
	return r < 0 ? 0 : r;
}

static void test_corrupt(void)
{
	const char *dir = new_dir();
	struct spool *s = open_spool(dir, 100, 0, NULL);
	struct strbuf warn = STRBUF_INIT;
	struct spool_stats st;
	char buf[4096], path[512], target[512];
	size_t n;
	bool ok;

	for (int i = 1; i <= 7; i++)
		push(s, i, 300);
	spool_close(s);
	n = read_file(dir, "00000000000000000002.win", buf, sizeof(buf));
	write_file(dir, "00000000000000000002.win", buf, n - 10);	/* truncated */
	memset(buf + 2048, 'x', 100);
	write_file(dir, "00000000000000000003.win", buf + 2048, 100);	/* garbage */
	buf[100] ^= 1;							/* payload bit flip */
	write_file(dir, "00000000000000000004.win", buf, n);
	snprintf(path, sizeof(path), "%s/00000000000000000005.win", dir);
	CHECK(chown(path, 65534, 65534) == 0, "set-up: window 5 owned by nobody");
	snprintf(path, sizeof(path), "%s/00000000000000000006.win", dir);
	snprintf(target, sizeof(target), "%s/00000000000000000001.win", dir);
	unlink(path);
	CHECK(symlink(target, path) == 0, "set-up: window 6 a symbolic link");
	write_file(dir, "00000000000000000099.win", "", 0);		/* empty */
	write_file(dir, "notes.txt", "not ours", 8);			/* ignored */
	s = open_spool(dir, 100, 0, &warn);
	if (!s) {
		CHECK(0, "open a spool with corrupt files");
		return;
	}
	spool_stats(s, &st);
	CHECK(st.corrupt == 6 && st.recovered == 2,
	      "6 corrupt files skipped and counted, 2 good ones recovered (%" PRIu64 ", %" PRIu64 ")",
	      st.corrupt, st.recovered);
	printf("%s", warn.len ? "# warnings:\n" : "");
	for (char *l = warn.buf; *l;) {
		char *e = strchr(l, '\n');

		printf("#   %.*s\n", (int)(e ? e - l : (long)strlen(l)), l);
		l = e ? e + 1 : l + strlen(l);
	}
	CHECK(strstr(warn.buf, "truncated payload") && strstr(warn.buf, "bad magic") &&
		      strstr(warn.buf, "payload checksum") && strstr(warn.buf, "another user") &&
		      strstr(warn.buf, "symbolic link") && strstr(warn.buf, "truncated header"),
	      "one warning per file says why");
	CHECK(count_files(dir, ".bad") == 6, "corrupt files kept aside as NAME.bad (%d)",
	      count_files(dir, ".bad"));
	CHECK_STR(take_all(s, &ok), "1,7", "the good windows still go out, in order");
	/* A file that goes bad after the open is skipped when its turn comes. */
	push(s, 8, 300);
	push(s, 9, 300);
	push(s, 10, 300);
	spool_close(s);
	s = open_spool(dir, 100, 0, NULL);
	write_file(dir, "00000000000000000101.win", "torn", 4);
	CHECK_STR(take_all(s, &ok), "8,10", "a file torn after the open is skipped at its turn");
	spool_stats(s, &st);
	CHECK(st.corrupt == 1 && st.queued == 0, "and counted (%" PRIu64 ")", st.corrupt);
	spool_close(s);
	strbuf_release(&warn);
}

static void test_unsafe_dir(void)
{
	char dir[256];
	struct spool *s;

	snprintf(dir, sizeof(dir), "%s/open", top);
	mkdir(dir, 0777);
	chmod(dir, 0777);
	s = open_spool(dir, 0, 0, NULL);
	CHECK(!s, "a directory others may write to is refused");
	spool_close(s);
	snprintf(dir, sizeof(dir), "%s/link", top);
	symlink("/tmp", dir);
	s = open_spool(dir, 0, 0, NULL);
	CHECK(!s, "a symbolic link as the directory is refused");
	spool_close(s);
}

static void test_file_parse(void)
{
	const char *dir = new_dir();
	struct spool *s = open_spool(dir, 1, 0, NULL);
	struct spool_meta m;
	const void *data;
	const char *why = NULL;
	char buf[4096];
	size_t n, len;

	push(s, 42, 50);
	spool_close(s);
	n = read_file(dir, "00000000000000000001.win", buf, sizeof(buf));
	CHECK(spool_file_parse(buf, n, &m, &data, &len, &why) == 0 && m.seq == 42 &&
		      m.samples == 420 && len == 50 && !memcmp(data, "window 42", 9),
	      "a spool file parses back to its window");
	buf[8] ^= 0x80;
	CHECK(spool_file_parse(buf, n, &m, &data, &len, &why) == -EBADMSG && why &&
		      strstr(why, "header checksum"),
	      "a changed header is refused (%s)", why ? why : "");
	CHECK(spool_file_parse(buf, 3, &m, &data, &len, &why) == -EBADMSG,
	      "three bytes are refused");
}

/* The sender: a fake server that fails the first attempts, then takes
 * everything; the order it saw and the state changes it reported. */
struct fake {
	int fail_first;
	int attempts;
	uint64_t reject_seq;
	char seen[512];
	int fails_told, recovered_told;
	uint64_t dropped_seen;
};

static int fake_send(void *ctx, const struct spool_window *w, char *err, size_t errlen)
{
	struct fake *f = ctx;

	if (f->attempts++ < f->fail_first) {
		snprintf(err, errlen, "connection refused");
		return -ECONNREFUSED;
	}
	if (w->meta.seq == f->reject_seq) {
		snprintf(err, errlen, "Code: 27, Cannot parse input");
		return SPOOL_REJECTED;
	}
	f->dropped_seen += w->dropped_windows;
	snprintf(f->seen + strlen(f->seen), sizeof(f->seen) - strlen(f->seen), "%s%" PRIu64,
		 f->seen[0] ? "," : "", w->meta.seq);
	return 0;
}

static void fake_state(void *ctx, const char *err, unsigned retry_ms, const struct spool_stats *st)
{
	struct fake *f = ctx;

	if (err)
		f->fails_told++;
	else
		f->recovered_told++;
}

static void test_sender(void)
{
	struct fake f = { .fail_first = 3, .reject_seq = 4 };
	struct spool_sender snd = { fake_send, fake_state, &f };
	struct spool *s = open_spool(NULL, 0, 0, NULL);
	struct spool_stats st;
	uint64_t t0;

	for (int i = 1; i <= 5; i++)
		push(s, i, 64);
	t0 = now_ns();
	spool_start(s, &snd);
	CHECK(spool_drain(s, 5000), "the sender empties the spool once the server answers");
	spool_shutdown(s);
	spool_stats(s, &st);
	CHECK_STR(f.seen, "1,2,3,5", "sent in order, window 1 retried until it went through");
	CHECK(st.failures == 3 && f.fails_told == 3 && f.recovered_told == 1,
	      "3 failures told, then one recovery (%" PRIu64 ", %d, %d)", st.failures,
	      f.fails_told, f.recovered_told);
	/* Back-off 10, 20, 40 ms, each jittered over its upper half: >= 35 ms. */
	CHECK(now_ns() - t0 >= 35000000ull, "the retries back off (%.0f ms)",
	      (now_ns() - t0) / 1e6);
	CHECK(st.rejected == 1 && st.dropped_windows == 1 && f.dropped_seen == 1,
	      "a window the server refuses is dropped, counted, and told with the next");
	spool_close(s);
}

/* With the sender running, files are its thread's job: pushes only queue
 * in memory, and the sender spills (here while it backs off from a server
 * that always fails). The caps and the order hold as before. */
static void test_async_spill(void)
{
	struct fake f = { .fail_first = 1 << 30 };
	struct spool_sender snd = { fake_send, NULL, &f };
	const char *dir = new_dir();
	struct spool *s = open_spool(dir, 1000, 2000, NULL);
	struct spool_stats st;
	char want[256] = "";
	bool ok;

	spool_start(s, &snd);
	for (int i = 1; i <= 20; i++) {
		push(s, i, 300);
		usleep(2000);
	}
	for (int i = 0; i < 200; i++) {
		spool_stats(s, &st);
		if (st.mem_bytes <= 1000 + 300 && st.spilled)
			break;
		usleep(10000);
	}
	CHECK(st.spilled > 0 && st.mem_bytes <= 1300 && st.disk_bytes <= 2000,
	      "the sender spills: memory %" PRIu64 " B (cap 1000, and one taken), disk %" PRIu64
	      " B (cap 2000), %" PRIu64 " spilled", st.mem_bytes, st.disk_bytes, st.spilled);
	CHECK(st.queued + st.dropped_windows == 20 && st.dropped_windows > 0,
	      "every window queued or dropped and counted (%" PRIu64 " + %" PRIu64 ")", st.queued,
	      st.dropped_windows);
	spool_shutdown(s);
	spool_stats(s, &st);	/* final: the sender may have dropped one more */
	for (uint64_t i = st.dropped_windows + 1; i <= 20; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%" PRIu64,
			 want[0] ? "," : "", i);
	CHECK(count_files(dir, ".win") > 0, "windows on disk (%d files)", count_files(dir, ".win"));
	spool_close(s);
	/* (A larger disk cap: close wrote the windows in memory to disk too.) */
	s = open_spool(dir, 1000, 0, NULL);
	CHECK_STR(take_all(s, &ok), want, "after a restart, the newest windows in order, the oldest dropped");
	CHECK(ok, "their payloads intact");
	spool_close(s);
}

int main(void)
{
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	test_memory_order();
	test_memory_cap();
	test_newest_kept();
	test_disk_cap();
	test_restart();
	test_dropped_persists();
	test_corrupt();
	test_unsafe_dir();
	test_file_parse();
	test_sender();
	test_async_spill();
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	if (system(cmd))
		printf("# could not remove %s\n", top);
	return tap_done();
}

/* Unit tests of base/outfile: all or nothing, the real error, nothing
 * planted at the target followed or overwritten. */
#include "base/outfile.h"
#include "base/util.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test_outfile.XXXXXX";

static char *at(const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

/* Entries in dir, "." and ".." aside. */
static int nr_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static void put(const char *name, const char *text)
{
	FILE *f = fopen(at(name), "w");

	fputs(text, f);
	fclose(f);
}

static const char *get(const char *name)
{
	static char buf[256];
	FILE *f = fopen(at(name), "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return f ? buf : "(none)";
}

static void test_commit_and_abort(void)
{
	struct outfile of, of2;
	struct stat st;

	CHECK(outfile_open(&of, at("new.txt"), 0) == 0, "a new file opens");
	fputs("new\n", of.f);
	CHECK(nr_entries() == 1 && access(at("new.txt"), F_OK) < 0,
	      "while written, only a temporary file exists, not the target");
	CHECK(outfile_commit(&of) == 0, "commit succeeds");
	CHECK_STR(get("new.txt"), "new\n", "the file is complete at the target");
	CHECK(nr_entries() == 1, "no temporary file left");

	put("old.txt", "old\n");
	chmod(at("old.txt"), 0600);
	CHECK(outfile_open(&of, at("old.txt"), 0) == 0, "an existing file opens");
	fputs("replaced\n", of.f);
	fflush(of.f);
	CHECK_STR(get("old.txt"), "old\n", "the old file is intact while the new one is written");
	CHECK(outfile_commit(&of) == 0, "commit succeeds");
	CHECK_STR(get("old.txt"), "replaced\n", "the new file replaces it");
	CHECK(stat(at("old.txt"), &st) == 0 && (st.st_mode & 0777) == 0600,
	      "the old file's mode carries over (got %o)", st.st_mode & 0777);

	CHECK(outfile_open(&of, at("old.txt"), 0) == 0, "opened again");
	fputs("dropped\n", of.f);
	outfile_abort(&of);
	CHECK_STR(get("old.txt"), "replaced\n", "abort leaves the old file");
	CHECK(nr_entries() == 2, "abort removes the temporary file");
	outfile_abort(&of);
	CHECK(1, "abort twice is harmless");

	CHECK(outfile_open(&of, at("old.txt"), 0) == 0 && outfile_open(&of2, at("old.txt"), 0) == 0 &&
		      strcmp(of.tmp, of2.tmp) && strncmp(of.tmp, ".old.txt.", 9) == 0,
	      "temporary names are hidden, beside the target, and differ (%s, %s)", of.tmp,
	      of2.tmp);
	outfile_abort(&of);
	outfile_abort(&of2);
}

/* A write that fails part way (here over RLIMIT_FSIZE: EFBIG, as ENOSPC on
 * a full disk) is reported with its own errno and leaves the old file. */
static void test_write_error(void)
{
	struct rlimit old, small = { 8192, 8192 };
	struct outfile of;
	char block[4096];
	int err;

	memset(block, 'x', sizeof(block));
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	small.rlim_max = old.rlim_max;
	CHECK(outfile_open(&of, at("old.txt"), 0) == 0, "opened");
	setrlimit(RLIMIT_FSIZE, &small);
	for (int i = 0; i < 16; i++)
		fwrite(block, 1, sizeof(block), of.f);
	err = outfile_commit(&of);
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK(err == -EFBIG, "commit fails with the write's own error, not EIO (got %s)",
	      strerror(-err));
	CHECK_STR(get("old.txt"), "replaced\n", "the old file is untouched");
	CHECK(nr_entries() == 2, "the partial temporary file is removed");
}

static void test_refused(void)
{
	char *victim = xstrdup(at("victim"));
	struct outfile of;

	put("victim", "keep\n");
	CHECK(symlink(victim, at("link")) == 0, "a symbolic link planted");
	free(victim);
	CHECK(outfile_open(&of, at("link"), 0) == -ELOOP, "a symbolic link at the target: -ELOOP");
	mkfifo(at("fifo"), 0600);
	CHECK(outfile_open(&of, at("fifo"), 0) == -EINVAL, "a FIFO at the target: -EINVAL");
	CHECK(outfile_open(&of, dir, 0) == -EISDIR, "a directory: -EISDIR");
	CHECK(outfile_open(&of, at(""), 0) == -EISDIR, "a path ending in '/': -EISDIR");
	CHECK(outfile_open(&of, at("nodir/x.txt"), 0) == -ENOENT, "a missing directory: -ENOENT");
	CHECK_STR(get("victim"), "keep\n", "the symlink's target is untouched");
	CHECK(nr_entries() == 5, "no temporary file left by a refusal");
	unlink(at("link"));
	unlink(at("fifo"));
	unlink(at("victim"));
}

static void test_noreplace(void)
{
	struct outfile of;
	int err;

	CHECK(outfile_open(&of, at("old.txt"), OUTFILE_NOREPLACE) == -EEXIST,
	      "NOREPLACE on an existing file: -EEXIST");
	CHECK(outfile_open(&of, at("fresh.json"), OUTFILE_NOREPLACE) == 0, "NOREPLACE on a new name");
	fputs("mine\n", of.f);
	put("fresh.json", "planted\n");
	err = outfile_commit(&of);
	CHECK(err == -EEXIST, "a file that appears meanwhile is not replaced (got %d)", err);
	CHECK_STR(get("fresh.json"), "planted\n", "it is untouched");
	CHECK(nr_entries() == 3, "and the temporary file is gone");
}

static void test_names(void)
{
	char name[256], cwd[4096];
	struct outfile of;

	memset(name, 'n', 250);
	strcpy(name + 250, ".txt");
	CHECK(outfile_open(&of, at(name), 0) == 0 && outfile_commit(&of) == 0,
	      "a name of 254 bytes (its temporary name is shortened)");
	CHECK(getcwd(cwd, sizeof(cwd)) && chdir(dir) == 0, "into the directory");
	CHECK(outfile_open(&of, "rel.txt", 0) == 0 && fputs("rel\n", of.f) >= 0 &&
		      outfile_commit(&of) == 0,
	      "a path without a directory part is in the current directory");
	CHECK(chdir(cwd) == 0, "back");
	CHECK_STR(get("rel.txt"), "rel\n", "written there");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_commit_and_abort();
	test_write_error();
	test_refused();
	test_noreplace();
	test_names();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}

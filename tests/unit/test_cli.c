/* Unit tests of option parsing: id lists, and who owns which field. */
#include "cmd/cli.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>

static void test_id_list(void)
{
	uint32_t *ids = NULL;
	size_t n = 0;

	CHECK(parse_id_list("1,3-5", &ids, &n) == 0 && n == 4 && ids[0] == 1 && ids[1] == 3 &&
		      ids[3] == 5,
	      "\"1,3-5\" is 1 3 4 5");
	CHECK(parse_id_list("9", &ids, &n) == 0 && n == 5 && ids[0] == 1 && ids[4] == 9,
	      "a second list is appended");
	free(ids);
	ids = NULL;
	n = 0;
	/* The numbers before the bad one were allocated: a failed parse must
	 * not leave them to a caller that only frees on success (-C). */
	CHECK(parse_id_list("0,x", &ids, &n) == -EINVAL && !ids && n == 0,
	      "a bad list leaves nothing allocated");
	CHECK(parse_id_list("", &ids, &n) == -EINVAL && !ids && n == 0, "an empty list is refused");
}

static void test_ownership(void)
{
	char *argv[] = { "sampletop", "-a", "--comm", "ab,cd", "-o", "out.txt",
			 "--hide", "g*", "-C", "0-1", NULL };
	int argc = sizeof(argv) / sizeof(argv[0]) - 1;
	struct options o;
	bool done;

	options_init(&o);
	CHECK(cli_parse_record(&o, argc, argv, &done) == 0 && !done, "a record command line parses");
	CHECK(o.nr_comms == 2 && !strcmp(o.comms[0], "ab") && !strcmp(o.comms[1], "cd") &&
		      o.comms[0] != argv[3],
	      "--comm names are copies (owned: split out of one argument)");
	CHECK(o.output == argv[5] && o.hide[0] == argv[7] && o.cpus == argv[9],
	      "-o, --hide and -C point into argv");
	options_free(&o);

	char *bad[] = { "sampletop", "-p", "1,2", "-p", "3,x", NULL };

	options_init(&o);
	CHECK(cli_parse_record(&o, 5, bad, &done) == 2 && done, "a bad -p is a usage error");
	options_free(&o);
}

int main(void)
{
	test_id_list();
	test_ownership();
	return tap_done();
}

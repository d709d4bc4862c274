/* A short-lived process: burns argv[1] milliseconds of CPU (default 20) in
 * burn_spin, then exits. Launched by the hundred to test that processes
 * that come and go are named. -DBURN_FN=name renames the function (same
 * length, same layout: the pid-reuse test tells two builds apart by it). */
#include <stdlib.h>

#include "burn.h"

#ifndef BURN_FN
#define BURN_FN burn_spin
#endif

BURN_DEFINE(BURN_FN)

int main(int argc, char **argv)
{
	BURN_FN(argc > 1 ? atof(argv[1]) : 20);
	return 0;
}

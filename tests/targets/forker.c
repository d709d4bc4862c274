/* A fork-per-request server in miniature: forks argv[1] children (default
 * 50) one after another; each, without exec, burns argv[2] ms of CPU
 * (default 20) in handle_request and exits. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "burn.h"

BURN_DEFINE(handle_request)

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 50;
	double ms = argc > 2 ? atof(argv[2]) : 20;

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			handle_request(ms);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	return 0;
}

/* Runs a command and reports its CPU time, which a busy shared machine
 * disturbs far less than its wall-clock time. Prints the child's pid on the
 * first line (so that a profiler can attach with -p), then its user + system
 * seconds on the last. Usage: cpurun COMMAND [ARGS...] */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 2)
		return 2;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	printf("%d\n", (int)pid);
	fflush(stdout);
	if (wait4(pid, &status, 0, &ru) != pid)
		return 1;
	printf("%.4f\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
				 ru.ru_stime.tv_usec / 1e6);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

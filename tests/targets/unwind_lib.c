/* A shared library for the unwinder's dlopen test: a call chain through
 * two frameless functions back into the caller's callback. */
volatile unsigned long lib_sink;

__attribute__((noinline)) void lib_middle(void (*cb)(void))
{
	for (int i = 0; i < 4; i++)
		cb();
	lib_sink++;
}

__attribute__((noinline)) void lib_outer(void (*cb)(void))
{
	lib_sink++;
	lib_middle(cb);
	lib_sink++;
}

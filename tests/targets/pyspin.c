/* A native function for py_native.py to call through ctypes: the C side of a
 * Python program, to check that native frames stay under the Python ones. */
#include <stdint.h>

uint64_t spin_native(uint64_t n)
{
	volatile uint64_t x = 0;

	for (uint64_t i = 0; i < n; i++)
		x += i ^ (x >> 3);
	return x;
}

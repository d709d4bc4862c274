/* libFuzzer target: DWARF of a target's object read for --lines (libdw
 * parses it; our walk over its DIEs and line tables must stay bounded). */
#include "symbols/dwarf_lines.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src_frame f[DWARF_MAX_INLINE];
	struct dwarf_lines *d;
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size || dwarf_lines_open_fd(fd, &d) < 0) {
		close(fd);
		return 0;
	}
	/* Low addresses (shared objects) and a static executable's text. */
	for (uint64_t a = 0; a < 0x4000; a += 0x101)
		dwarf_lines_lookup(d, a, f, DWARF_MAX_INLINE);
	for (uint64_t a = 0x401000; a < 0x401100; a += 3)
		dwarf_lines_lookup(d, a, f, DWARF_MAX_INLINE);
	dwarf_lines_free(d);
	return 0;
}

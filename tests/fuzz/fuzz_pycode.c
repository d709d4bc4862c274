/* libFuzzer target: the code object reader and line tables of user/python/pycode.c
 * on hostile memory, and the 3.13 debug offsets parser.
 *   input[0]     which offset table (3.10 .. 3.13)
 *   input[1..8]  code object address inside the image, little endian
 *   input[9..16] an instruction offset for the line table lookup
 *   input[17..]  the target's memory image, mapped at BASE
 * Build: clang -g -O1 -fsanitize=fuzzer,address -Iinclude -Iuser \
 *          tests/fuzz/fuzz_pycode.c build/obj/pycode.o build/obj/util.o */
#include "python/pycode.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BASE 0x400000ull

struct image {
	const uint8_t *data;
	size_t size;
};

static int image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct image *im = ctx;

	if (addr < BASE || addr - BASE > im->size || len > im->size - (addr - BASE))
		return -EFAULT;
	memcpy(buf, im->data + (addr - BASE), len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pycode_offsets o;
	struct image im;
	struct pycode c;
	uint64_t addr, off;

	if (size < 17)
		return 0;
	if (pycode_offsets_for_version(3, 10 + data[0] % 4, &o))
		return 0;
	memcpy(&addr, data + 1, 8);
	memcpy(&off, data + 9, 8);
	im.data = data + 17;
	im.size = size - 17;
	/* Mostly aim inside the image, sometimes anywhere. */
	if (!(data[0] & 0x80) && im.size)
		addr = BASE + addr % im.size;
	if (!pycode_read(&o, image_read, &im, addr, 0, &c)) {
		(void)pycode_line(&o, &c, off);
		(void)pycode_line(&o, &c, off % 4096);
		pycode_release(&c);
	}
	free(pycode_read_str(&o, image_read, &im, addr));
	if (!pycode_offsets_from_debug(im.data, im.size, &o) &&
	    im.size > PYCODE_DEBUG_OFFSETS_SIZE) {
		if (!pycode_read(&o, image_read, &im, BASE + PYCODE_DEBUG_OFFSETS_SIZE, 0, &c))
			pycode_release(&c);
	}
	return 0;
}

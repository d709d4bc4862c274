/* Locating and reading separate debug information (build-id, debuglink, MiniDebugInfo). */
#include "symbols/debuginfo.h"
#include "base/rootfs.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define DEBUG_DIR "/usr/lib/debug"

int debuginfo_fd_crc(int fd, uint32_t *crc)
{
	unsigned char buf[1 << 16];
	uLong c = crc32(0, Z_NULL, 0);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		c = crc32(c, buf, (uInt)n);
		off += n;
	}
	if (n < 0)
		return -EIO;
	*crc = (uint32_t)c;
	return 0;
}

int debuginfo_file_crc(const char *path, uint32_t *crc)
{
	int fd = rootfs_open_direct(path), err;

	if (fd < 0)
		return fd;
	err = debuginfo_fd_crc(fd, crc);
	close(fd);
	return err;
}

static bool same_build_id(const struct elf_obj *a, const struct elf_obj *b)
{
	return a->build_id_len && a->build_id_len == b->build_id_len &&
	       !memcmp(a->build_id, b->build_id, a->build_id_len);
}

/* Parses root/path if it is a usable debug file for o: one with symbols or
 * DWARF, and the same build-id as o; without build-ids, the CRC that o's
 * .gnu_debuglink records (check_crc). */
static int try_candidate(const struct elf_obj *o, const char *root, const char *path,
			 bool check_crc, struct elf_obj **out)
{
	struct elf_obj *d;
	uint32_t crc;
	int fd = rootfs_open(root, path);

	if (fd < 0)
		return -ENOENT;
	if (elf_obj_open_fd(fd, path, &d) < 0) {
		close(fd);
		return -ENOENT;
	}
	if (!d->nr_syms && !d->has_dwarf)
		goto reject;
	if (o->build_id_len && d->build_id_len) {
		if (!same_build_id(o, d))
			goto reject;
	} else if (!check_crc || debuginfo_fd_crc(fd, &crc) < 0 || crc != o->debuglink_crc) {
		goto reject;
	}
	close(fd);
	*out = d;
	return 0;
reject:
	close(fd);
	elf_obj_free(d);
	return -ENOENT;
}

int debuginfo_find(const struct elf_obj *o, const char *root, const char *obj_path,
		   struct elf_obj **out, char *path_out, size_t path_size, const char **root_out)
{
	const char *roots[2] = { root, "" };
	int nr_roots = root[0] ? 2 : 1;
	char hex[2 * ELF_BUILD_ID_MAX + 1];
	char dir[4096];
	const char *slash;

	for (int i = 0; i < o->build_id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", o->build_id[i]);
	for (int r = 0; o->build_id_len >= 2 && r < nr_roots; r++) {
		snprintf(path_out, path_size, DEBUG_DIR "/.build-id/%.2s/%s.debug", hex, hex + 2);
		if (!try_candidate(o, roots[r], path_out, false, out)) {
			*root_out = roots[r];
			return 0;
		}
	}
	if (!o->debuglink || strchr(o->debuglink, '/'))
		return -ENOENT;
	slash = strrchr(obj_path, '/');
	if (!slash || (size_t)(slash - obj_path) >= sizeof(dir))
		return -ENOENT;
	memcpy(dir, obj_path, slash - obj_path);
	dir[slash - obj_path] = 0;
	for (int r = 0; r < nr_roots; r++) {
		static const char *const fmts[] = { "%s/%s", "%s/.debug/%s", DEBUG_DIR "%s/%s" };

		for (size_t f = 0; f < ARRAY_SIZE(fmts); f++) {
			int n = snprintf(path_out, path_size, fmts[f], dir, o->debuglink);

			if (n < 0 || (size_t)n >= path_size)
				continue;
			if (!try_candidate(o, roots[r], path_out, true, out)) {
				*root_out = roots[r];
				return 0;
			}
		}
	}
	return -ENOENT;
}

int debuginfo_minidebug(const struct elf_obj *o, struct elf_obj **out)
{
	lzma_stream st = LZMA_STREAM_INIT;
	size_t alloc = o->debugdata_len * 4 + 4096;
	uint8_t *buf;
	lzma_ret ret;
	int err;

	if (!o->debugdata)
		return -ENOENT;
	if (lzma_stream_decoder(&st, UINT64_MAX, 0) != LZMA_OK)
		return -ENOMEM;
	buf = xmalloc(alloc);
	st.next_in = o->debugdata;
	st.avail_in = o->debugdata_len;
	st.next_out = buf;
	st.avail_out = alloc;
	for (;;) {
		ret = lzma_code(&st, LZMA_FINISH);
		if (ret == LZMA_STREAM_END)
			break;
		if (ret != LZMA_OK && ret != LZMA_BUF_ERROR)
			break;
		if (st.avail_out == 0) {
			size_t used = st.total_out;

			if (alloc >= DEBUGINFO_MAX_MINIDEBUG)
				break;
			alloc *= 2;
			buf = xrealloc(buf, alloc);
			st.next_out = buf + used;
			st.avail_out = alloc - used;
		} else if (ret == LZMA_BUF_ERROR) {
			break;	/* truncated input */
		}
	}
	if (ret != LZMA_STREAM_END) {
		lzma_end(&st);
		free(buf);
		return -ENOEXEC;
	}
	err = elf_obj_from_mem(buf, st.total_out, "[.gnu_debugdata]", out);
	lzma_end(&st);
	free(buf);
	return err;
}

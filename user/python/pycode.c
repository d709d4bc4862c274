/* CPython structure offsets per version, and reading code objects. */
#include "python/pycode.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Measured with offsetof() against each version's own internal headers
 * (Include/internal/pycore_*.h, x86-64). Stable within a minor version. */
static const struct pycode_offsets offset_table[] = {
	{
		.major = 3, .minor = 10, .layout = ST_PY_LAYOUT_FRAMEOBJ,
		.runtime_interp_head = 32, .interp_next = 0, .interp_threads = 8, .tstate_next = 8,
		.tstate_thread_id = 176, .tstate_frame = 24, .cframe_frame = ST_PY_NO_OFF,
		.frame_previous = 24, .frame_code = 32, .frame_instr = 96,
		.frame_entry = ST_PY_NO_OFF,
		.code_filename = 104, .code_name = 112, .code_qualname = ST_PY_NO_OFF,
		.code_firstlineno = 40, .code_linetable = 120, .code_adaptive = ST_PY_NO_OFF,
		.ob_type = 8, .bytes_size = 16, .bytes_sval = 32,
		.unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 48,
		.unicode_compact_size = 72,
	},
	{
		.major = 3, .minor = 11, .layout = ST_PY_LAYOUT_ENTRY_FLAG,
		.runtime_interp_head = 40, .interp_next = 0, .interp_threads = 16, .tstate_next = 8,
		.tstate_thread_id = 152, .tstate_frame = 56, .cframe_frame = 8,
		.frame_previous = 48, .frame_code = 32, .frame_instr = 56, .frame_entry = 68,
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 72, .code_linetable = 136, .code_adaptive = 184,
		.ob_type = 8, .bytes_size = 16, .bytes_sval = 32,
		.unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 48,
		.unicode_compact_size = 72,
	},
	{
		.major = 3, .minor = 12, .layout = ST_PY_LAYOUT_CSTACK_OWNER,
		.runtime_interp_head = 40, .interp_next = 0, .interp_threads = 72, .tstate_next = 8,
		.tstate_thread_id = 136, .tstate_frame = 56, .cframe_frame = 0,
		.frame_previous = 8, .frame_code = 0, .frame_instr = 56, .frame_entry = 70,
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 68, .code_linetable = 136, .code_adaptive = 192,
		.ob_type = 8, .bytes_size = 16, .bytes_sval = 32,
		.unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 40,
		.unicode_compact_size = 56,
	},
	{
		.major = 3, .minor = 13, .layout = ST_PY_LAYOUT_CSTACK_OWNER,
		.runtime_interp_head = 632, .interp_next = 7264,
		.interp_threads = 7344, .tstate_next = 8,
		.tstate_thread_id = 152, .tstate_frame = 72, .cframe_frame = ST_PY_NO_OFF,
		.frame_previous = 8, .frame_code = 0, .frame_instr = 56, .frame_entry = 70,
		.code_filename = 112, .code_name = 120, .code_qualname = 128,
		.code_firstlineno = 68, .code_linetable = 136, .code_adaptive = 200,
		.ob_type = 8, .bytes_size = 16, .bytes_sval = 32,
		.unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 40,
		.unicode_compact_size = 56,
	},
};

int pycode_offsets_for_version(unsigned major, unsigned minor, struct pycode_offsets *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(offset_table); i++) {
		if (offset_table[i].major == major && offset_table[i].minor == minor) {
			*out = offset_table[i];
			return 0;
		}
	}
	return -ENOTSUP;
}

/* Where 3.13's _Py_DebugOffsets keeps what we need (its own offsetof()). */
enum {
	DBG_VERSION = 8,
	DBG_FREE_THREADED = 16,
	DBG_RUNTIME_INTERP_HEAD = 40,
	DBG_INTERP_NEXT = 64,
	DBG_INTERP_THREADS_HEAD = 72,
	DBG_TSTATE_NEXT = 168,
	DBG_TSTATE_CURRENT_FRAME = 184,
	DBG_TSTATE_THREAD_ID = 192,
	DBG_FRAME_PREVIOUS = 232,
	DBG_FRAME_EXECUTABLE = 240,
	DBG_FRAME_INSTR_PTR = 248,
	DBG_FRAME_OWNER = 264,
	DBG_CODE_FILENAME = 280,
	DBG_CODE_NAME = 288,
	DBG_CODE_QUALNAME = 296,
	DBG_CODE_LINETABLE = 304,
	DBG_CODE_FIRSTLINENO = 312,
	DBG_CODE_ADAPTIVE = 344,
	DBG_OB_TYPE = 360,
	DBG_BYTES_SIZE = 520,
	DBG_BYTES_SVAL = 528,
	DBG_UNICODE_STATE = 544,
	DBG_UNICODE_LENGTH = 552,
	DBG_UNICODE_ASCII_SIZE = 560,
};

static uint64_t get64(const unsigned char *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

/* An offset from the debug table fits in our 16-bit fields (and, for the
 * frame fields the BPF side reads from one block, in that block). */
static int dbg_off(const unsigned char *b, size_t at, uint64_t limit, uint16_t *out)
{
	uint64_t v = get64(b, at);

	if (v >= limit)
		return -EINVAL;
	*out = v;
	return 0;
}

int pycode_offsets_from_debug(const void *buf, size_t len, struct pycode_offsets *out)
{
	const unsigned char *b = buf;
	struct pycode_offsets o;
	uint64_t version;
	uint16_t ascii;
	int err = 0;

	if (len < PYCODE_DEBUG_OFFSETS_SIZE || memcmp(b, "xdebugpy", 8))
		return -EINVAL;
	version = get64(b, DBG_VERSION);
	if ((version >> 24) != 3 || ((version >> 16) & 0xff) != 13)
		return -ENOTSUP;
	if (get64(b, DBG_FREE_THREADED))
		return -ENOTSUP;	/* the free-threaded build's objects differ */
	memset(&o, 0, sizeof(o));
	o.major = 3;
	o.minor = 13;
	o.layout = ST_PY_LAYOUT_CSTACK_OWNER;
	o.cframe_frame = ST_PY_NO_OFF;
	err |= dbg_off(b, DBG_RUNTIME_INTERP_HEAD, 0xffff, &o.runtime_interp_head);
	err |= dbg_off(b, DBG_INTERP_NEXT, 0xffff, &o.interp_next);
	err |= dbg_off(b, DBG_INTERP_THREADS_HEAD, 0xffff, &o.interp_threads);
	err |= dbg_off(b, DBG_TSTATE_NEXT, 0xffff, &o.tstate_next);
	err |= dbg_off(b, DBG_TSTATE_CURRENT_FRAME, 0xffff, &o.tstate_frame);
	err |= dbg_off(b, DBG_TSTATE_THREAD_ID, 0xffff, &o.tstate_thread_id);
	err |= dbg_off(b, DBG_FRAME_PREVIOUS, ST_PY_FRAME_READ - 7, &o.frame_previous);
	err |= dbg_off(b, DBG_FRAME_EXECUTABLE, ST_PY_FRAME_READ - 7, &o.frame_code);
	err |= dbg_off(b, DBG_FRAME_INSTR_PTR, ST_PY_FRAME_READ - 7, &o.frame_instr);
	err |= dbg_off(b, DBG_FRAME_OWNER, ST_PY_FRAME_READ, &o.frame_entry);
	err |= dbg_off(b, DBG_CODE_FILENAME, 0xffff, &o.code_filename);
	err |= dbg_off(b, DBG_CODE_NAME, 0xffff, &o.code_name);
	err |= dbg_off(b, DBG_CODE_QUALNAME, 0xffff, &o.code_qualname);
	err |= dbg_off(b, DBG_CODE_LINETABLE, 0xffff, &o.code_linetable);
	err |= dbg_off(b, DBG_CODE_FIRSTLINENO, 0xffff, &o.code_firstlineno);
	err |= dbg_off(b, DBG_CODE_ADAPTIVE, 0xffff, &o.code_adaptive);
	err |= dbg_off(b, DBG_OB_TYPE, 0xffff, &o.ob_type);
	err |= dbg_off(b, DBG_BYTES_SIZE, 0xffff, &o.bytes_size);
	err |= dbg_off(b, DBG_BYTES_SVAL, 0xffff, &o.bytes_sval);
	err |= dbg_off(b, DBG_UNICODE_STATE, 0xffff, &o.unicode_state);
	err |= dbg_off(b, DBG_UNICODE_LENGTH, 0xffff, &o.unicode_length);
	err |= dbg_off(b, DBG_UNICODE_ASCII_SIZE, 0x1000, &ascii);
	if (err)
		return -EINVAL;
	/* The frame fields the BPF side reads must be 8-aligned words. */
	if (o.frame_previous % 8 || o.frame_code % 8 || o.frame_instr % 8)
		return -EINVAL;
	o.unicode_ascii_size = ascii;
	/* PyCompactUnicodeObject adds utf8_length and utf8 (3.12+). */
	o.unicode_compact_size = ascii + 16;
	*out = o;
	return 0;
}

int pycode_version_from_name(const char *path, unsigned *major, unsigned *minor)
{
	const char *base = strrchr(path, '/');
	const char *p;

	base = base ? base + 1 : path;
	if (!strncmp(base, "libpython", 9))
		p = base + 9;
	else if (!strncmp(base, "python", 6))
		p = base + 6;
	else
		return -ENOENT;
	if (p[0] < '2' || p[0] > '9' || p[1] != '.' || p[2] < '0' || p[2] > '9')
		return -ENOENT;
	*major = p[0] - '0';
	*minor = p[2] - '0';
	if (p[3] >= '0' && p[3] <= '9') {
		*minor = *minor * 10 + (p[3] - '0');
		p++;
	}
	/* python3.11, python3.11d, libpython3.11.so..., not python3.115x */
	if (p[3] && p[3] != '.' && p[3] != 'd' && p[3] != 't' && p[3] != 'm')
		return -ENOENT;
	return 0;
}

void pycode_offsets_to_bpf(const struct pycode_offsets *o, uint64_t interp_head,
			   struct st_py_info *out)
{
	memset(out, 0, sizeof(*out));
	out->interp_head = interp_head;
	out->layout = o->layout;
	out->version = o->major << 8 | o->minor;
	out->interp_next = o->interp_next;
	out->interp_threads = o->interp_threads;
	out->tstate_next = o->tstate_next;
	out->tstate_thread_id = o->tstate_thread_id;
	out->tstate_frame = o->tstate_frame;
	out->cframe_frame = o->cframe_frame;
	out->frame_previous = o->frame_previous;
	out->frame_code = o->frame_code;
	out->frame_instr = o->frame_instr;
	out->frame_entry = o->frame_entry;
	out->code_name = o->code_name;
}

static int read_ptr(pycode_mem_read_fn rd, void *ctx, uint64_t addr, uint64_t *out)
{
	return rd(ctx, addr, out, sizeof(*out));
}

/* Appends code point cp as UTF-8; returns bytes written (0 if no room or
 * not a scalar value). */
static size_t put_utf8(char *dst, size_t room, uint32_t cp)
{
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;	/* lone surrogates (surrogateescape'd file names) */
	if (cp < 0x80 && room >= 1) {
		dst[0] = cp;
		return 1;
	}
	if (cp < 0x800 && room >= 2) {
		dst[0] = 0xc0 | cp >> 6;
		dst[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000 && room >= 3) {
		dst[0] = 0xe0 | cp >> 12;
		dst[1] = 0x80 | ((cp >> 6) & 0x3f);
		dst[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	if (cp < 0x110000 && room >= 4) {
		dst[0] = 0xf0 | cp >> 18;
		dst[1] = 0x80 | ((cp >> 12) & 0x3f);
		dst[2] = 0x80 | ((cp >> 6) & 0x3f);
		dst[3] = 0x80 | (cp & 0x3f);
		return 4;
	}
	return 0;
}

char *pycode_read_str(const struct pycode_offsets *o, pycode_mem_read_fn rd, void *ctx,
		      uint64_t addr)
{
	unsigned char hdr[128];
	uint32_t state, kind;
	int64_t length;
	size_t hdr_size = o->unicode_compact_size, nchars, data_off;
	unsigned char *raw = NULL;
	char *out = NULL;
	size_t n = 0;

	if (!addr || hdr_size > sizeof(hdr) || o->unicode_ascii_size > hdr_size ||
	    o->unicode_state + 4 > o->unicode_ascii_size ||
	    o->unicode_length + 8 > o->unicode_ascii_size)
		return NULL;
	if (rd(ctx, addr, hdr, o->unicode_ascii_size))
		return NULL;
	memcpy(&state, hdr + o->unicode_state, sizeof(state));
	memcpy(&length, hdr + o->unicode_length, sizeof(length));
	kind = (state >> 2) & 7;
	if (!((state >> 5) & 1))	/* not compact: never for code object names */
		return NULL;
	/* Longer than any real name or path: not a str we can trust. */
	if (length < 0 || length > PYCODE_MAX_STR_LEN || (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	if ((state >> 6) & 1) {		/* ascii */
		if (kind != 1)
			return NULL;
		data_off = o->unicode_ascii_size;
	} else {
		data_off = o->unicode_compact_size;
	}
	nchars = (uint64_t)length > PYCODE_MAX_STR ? PYCODE_MAX_STR : (size_t)length;
	raw = xmalloc(nchars * kind + 1);
	if (nchars && rd(ctx, addr + data_off, raw, nchars * kind)) {
		free(raw);
		return NULL;
	}
	out = xmalloc(PYCODE_MAX_STR + 1);
	for (size_t i = 0; i < nchars; i++) {
		uint32_t cp;
		size_t w;

		if (kind == 1) {
			cp = raw[i];
		} else if (kind == 2) {
			uint16_t v;

			memcpy(&v, raw + 2 * i, 2);
			cp = v;
		} else {
			memcpy(&cp, raw + 4 * i, 4);
		}
		w = cp ? put_utf8(out + n, PYCODE_MAX_STR - n, cp) : 0;
		if (!w)
			break;
		n += w;
	}
	out[n] = 0;
	free(raw);
	return out;
}

static uint8_t *read_bytes(const struct pycode_offsets *o, pycode_mem_read_fn rd, void *ctx,
			  uint64_t addr, size_t *len)
{
	int64_t size;
	uint8_t *buf;

	if (!addr || rd(ctx, addr + o->bytes_size, &size, sizeof(size)))
		return NULL;
	if (size <= 0 || size > PYCODE_MAX_LINETABLE)
		return NULL;
	buf = xmalloc(size);
	if (rd(ctx, addr + o->bytes_sval, buf, size)) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

int pycode_read(const struct pycode_offsets *o, pycode_mem_read_fn rd, void *ctx, uint64_t addr,
		uint64_t code_type, struct pycode *out)
{
	uint64_t type, name_addr, file_addr, table_addr;
	uint16_t name_off = o->code_qualname != ST_PY_NO_OFF ? o->code_qualname : o->code_name;
	int32_t first;

	memset(out, 0, sizeof(*out));
	if (!addr)
		return -EINVAL;
	if (read_ptr(rd, ctx, addr + o->ob_type, &type))
		return -EFAULT;
	if (code_type && type != code_type)
		return -EINVAL;
	if (read_ptr(rd, ctx, addr + o->code_name, &out->name_ptr) ||
	    read_ptr(rd, ctx, addr + name_off, &name_addr) ||
	    read_ptr(rd, ctx, addr + o->code_filename, &file_addr) ||
	    read_ptr(rd, ctx, addr + o->code_linetable, &table_addr) ||
	    rd(ctx, addr + o->code_firstlineno, &first, sizeof(first)))
		return -EFAULT;
	out->name = pycode_read_str(o, rd, ctx, name_addr);
	out->file = pycode_read_str(o, rd, ctx, file_addr);
	if (!out->name || !out->file || !out->name[0] || first < 0) {
		pycode_release(out);
		return -EINVAL;
	}
	out->firstlineno = first;
	out->linetable = read_bytes(o, rd, ctx, table_addr, &out->linetable_len);
	return 0;
}

void pycode_release(struct pycode *c)
{
	free(c->name);
	free(c->file);
	free(c->linetable);
	memset(c, 0, sizeof(*c));
}

/* line + delta, wrapping rather than overflowing on a hostile table. */
static int32_t add_line(int32_t line, int32_t delta)
{
	return (int32_t)((uint32_t)line + (uint32_t)delta);
}

/* 3.10: (byte delta, signed line delta) pairs; -128 means "no line". */
static int32_t line_310(const struct pycode *c, uint64_t off)
{
	int32_t line = c->firstlineno, cur = line;
	uint64_t start = 0, end = 0;

	for (size_t i = 0; i + 1 < c->linetable_len; i += 2) {
		int8_t ldelta = (int8_t)c->linetable[i + 1];

		start = end;
		end += c->linetable[i];
		if (ldelta == -128) {
			cur = -1;
		} else {
			line = add_line(line, ldelta);
			cur = line;
		}
		if (off >= start && off < end)
			return cur >= 0 ? cur : c->firstlineno;
	}
	return c->firstlineno;
}

/* 3.11+ location table varints: 6 bits a byte, 0x40 means more follow. */
static int read_varint(const uint8_t *t, size_t len, size_t *i, uint32_t *out)
{
	uint32_t v = 0;
	unsigned shift = 0;

	while (*i < len && shift < 32) {
		uint8_t b = t[(*i)++];

		v |= (uint32_t)(b & 0x3f) << shift;
		shift += 6;
		if (!(b & 0x40)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

static int read_svarint(const uint8_t *t, size_t len, size_t *i, int32_t *out)
{
	uint32_t v;

	if (read_varint(t, len, i, &v))
		return -1;
	*out = v & 1 ? -(int32_t)(v >> 1) : (int32_t)(v >> 1);
	return 0;
}

/* 3.11+: entries of 1..8 code units each; the first byte has the top bit
 * set, a 4-bit form code and the length - 1. */
static int32_t line_311(const struct pycode *c, uint64_t off)
{
	const uint8_t *t = c->linetable;
	size_t len = c->linetable_len, i = 0;
	uint64_t unit = off / 2, addr = 0;
	int32_t line = c->firstlineno;

	while (i < len) {
		uint8_t first = t[i++];
		unsigned code = (first >> 3) & 15, n = (first & 7) + 1;
		int32_t delta = 0, cur;
		uint32_t skip;

		if (!(first & 0x80))
			break;	/* out of step with the entries: give up */
		if (code == 15) {
			cur = -1;
		} else if (code == 14) {
			if (read_svarint(t, len, &i, &delta) || read_varint(t, len, &i, &skip) ||
			    read_varint(t, len, &i, &skip) || read_varint(t, len, &i, &skip))
				break;
			line = add_line(line, delta);
			cur = line;
		} else if (code == 13) {
			if (read_svarint(t, len, &i, &delta))
				break;
			line = add_line(line, delta);
			cur = line;
		} else if (code >= 10) {
			line = add_line(line, code - 10);
			cur = line;
			i += 2;
		} else {
			cur = line;
			i += 1;
		}
		if (unit >= addr && unit < addr + n)
			return cur >= 0 ? cur : c->firstlineno;
		addr += n;
	}
	return c->firstlineno;
}

int32_t pycode_line(const struct pycode_offsets *o, const struct pycode *c, uint64_t off)
{
	if (!c->linetable)
		return c->firstlineno;
	if (o->major == 3 && o->minor == 10)
		return line_310(c, off);
	return line_311(c, off);
}

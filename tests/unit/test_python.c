/* Unit tests of user/python/pycode.c (version detection, offset tables, the debug
 * offsets of 3.13, code objects read from a fake memory, line tables) and of
 * how Python frames meet the library collapsing rules. */
#include "model/collapse.h"
#include "python/pycode.h"
#include "python/pymerge.h"
#include "python/python.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A fake target memory: [BASE, BASE + sizeof(mem)). */
#define BASE 0x10000
static unsigned char mem[8192];

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < BASE || addr - BASE > sizeof(mem) || len > sizeof(mem) - (addr - BASE))
		return -EFAULT;
	memcpy(buf, mem + (addr - BASE), len);
	return 0;
}

static void put64(uint64_t addr, uint64_t v)
{
	memcpy(mem + (addr - BASE), &v, 8);
}

static void put32(uint64_t addr, uint32_t v)
{
	memcpy(mem + (addr - BASE), &v, 4);
}

/* A compact str object at addr: kind 1 ascii, or kind 2 / kind 4. */
static void put_str(const struct pycode_offsets *o, uint64_t addr, const uint32_t *cps, size_t n,
		    int kind)
{
	uint32_t state = (uint32_t)kind << 2 | 1u << 5 | (kind == 1 ? 1u << 6 : 0);
	uint64_t data = addr + (kind == 1 ? o->unicode_ascii_size : o->unicode_compact_size);

	put64(addr + o->unicode_length, n);
	put32(addr + o->unicode_state, state);
	for (size_t i = 0; i < n; i++) {
		if (kind == 1)
			mem[data - BASE + i] = cps[i];
		else if (kind == 2)
			memcpy(mem + data - BASE + 2 * i, &(uint16_t){ cps[i] }, 2);
		else
			memcpy(mem + data - BASE + 4 * i, &cps[i], 4);
	}
}

static void put_ascii(const struct pycode_offsets *o, uint64_t addr, const char *s)
{
	uint32_t cps[256];
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		cps[i] = (unsigned char)s[i];
	put_str(o, addr, cps, n, 1);
}

static void put_bytes(const struct pycode_offsets *o, uint64_t addr, const void *b, size_t n)
{
	put64(addr + o->bytes_size, n);
	memcpy(mem + addr + o->bytes_sval - BASE, b, n);
}

/* Lays out a code object at BASE with its strings and line table. */
static void fake_code(const struct pycode_offsets *o, const char *name, const uint32_t *file,
		      size_t file_n, int file_kind, const void *table, size_t table_n)
{
	uint64_t code = BASE, name_at = BASE + 0x400, file_at = BASE + 0x800, tab_at = BASE + 0xc00;

	memset(mem, 0, sizeof(mem));
	put64(code + o->ob_type, 0xabc000);
	put64(code + (o->code_qualname != ST_PY_NO_OFF ? o->code_qualname : o->code_name), name_at);
	put64(code + o->code_filename, file_at);
	put64(code + o->code_linetable, tab_at);
	put32(code + o->code_firstlineno, 10);
	put_ascii(o, name_at, name);
	put_str(o, file_at, file, file_n, file_kind);
	put_bytes(o, tab_at, table, table_n);
}

static void test_versions(void)
{
	unsigned ma = 0, mi = 0;

	CHECK(!pycode_version_from_name("/usr/bin/python3.11", &ma, &mi) && ma == 3 && mi == 11,
	      "python3.11 -> 3.11");
	CHECK(!pycode_version_from_name("/x/lib/libpython3.12.so.1.0", &ma, &mi) && ma == 3 &&
	      mi == 12,
	      "libpython3.12.so.1.0 -> 3.12");
	CHECK(!pycode_version_from_name("python3.10d", &ma, &mi) && mi == 10,
	      "python3.10d -> 3.10");
	CHECK(!pycode_version_from_name("libpython3.13t.so", &ma, &mi) && mi == 13,
	      "libpython3.13t.so");
	CHECK(pycode_version_from_name("/usr/bin/python3", &ma, &mi) == -ENOENT,
	      "python3: no minor");
	CHECK(pycode_version_from_name("/usr/bin/pythonista", &ma, &mi) == -ENOENT,
	      "pythonista: no");
	CHECK(pycode_version_from_name("python3.115x", &ma, &mi) == -ENOENT, "python3.115x: no");
	CHECK(pycode_version_from_name("/bin/bash", &ma, &mi) == -ENOENT, "bash: no");
}

static void test_tables(void)
{
	struct pycode_offsets o;

	CHECK(!pycode_offsets_for_version(3, 10, &o) && o.layout == ST_PY_LAYOUT_FRAMEOBJ &&
		      o.frame_instr == 96 && o.code_qualname == ST_PY_NO_OFF,
	      "3.10: PyFrameObject layout, f_lasti at 96, no qualname");
	CHECK(!pycode_offsets_for_version(3, 11, &o) && o.layout == ST_PY_LAYOUT_ENTRY_FLAG &&
		      o.cframe_frame == 8 && o.frame_entry == 68,
	      "3.11: cframe->current_frame at 8, is_entry at 68");
	CHECK(!pycode_offsets_for_version(3, 12, &o) && o.layout == ST_PY_LAYOUT_CSTACK_OWNER &&
		      o.frame_entry == 70 && o.unicode_ascii_size == 40,
	      "3.12: owner at 70, 40-byte PyASCIIObject");
	CHECK(pycode_offsets_for_version(3, 9, &o) == -ENOTSUP, "3.9 unsupported");
	CHECK(pycode_offsets_for_version(3, 14, &o) == -ENOTSUP, "3.14 unsupported");
	for (unsigned mi = 10; mi <= 13; mi++) {
		CHECK(!pycode_offsets_for_version(3, mi, &o) &&
			      o.frame_previous + 8 <= ST_PY_FRAME_READ &&
			      o.frame_code + 8 <= ST_PY_FRAME_READ &&
			      o.frame_instr + 8 <= ST_PY_FRAME_READ && o.frame_previous % 8 == 0 &&
			      o.frame_code % 8 == 0 && o.frame_instr % 8 == 0,
		      "3.%u: frame fields are 8-aligned words in the BPF read block", mi);
	}
}

/* 3.13.0's _Py_DebugOffsets as CPython lays it out (the fields we read). */
static void fake_debug(unsigned char *b, uint64_t version)
{
	static const struct { size_t at; uint64_t v; } f[] = {
		{ 40, 632 }, { 64, 7264 }, { 72, 7344 }, { 168, 8 }, { 184, 72 }, { 192, 152 },
		{ 232, 8 }, { 240, 0 }, { 248, 56 }, { 264, 70 },
		{ 280, 112 }, { 288, 120 }, { 296, 128 }, { 304, 136 }, { 312, 68 }, { 344, 200 },
		{ 360, 8 }, { 520, 16 }, { 528, 32 }, { 544, 32 }, { 552, 16 }, { 560, 40 },
	};

	memset(b, 0, PYCODE_DEBUG_OFFSETS_SIZE);
	memcpy(b, "xdebugpy", 8);
	memcpy(b + 8, &version, 8);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		memcpy(b + f[i].at, &f[i].v, 8);
}

static void test_debug_offsets(void)
{
	unsigned char b[PYCODE_DEBUG_OFFSETS_SIZE];
	struct pycode_offsets o, table;
	uint64_t big = 1ull << 40, one = 1;

	fake_debug(b, 0x030d00f0);
	CHECK(!pycode_offsets_from_debug(b, sizeof(b), &o), "3.13.0 debug offsets parse");
	pycode_offsets_for_version(3, 13, &table);
	CHECK(!memcmp(&o, &table, sizeof(o)),
	      "3.13 debug offsets equal sampletop's own 3.13 table");
	CHECK(o.unicode_compact_size == 56, "compact str header = ascii header + 16");
	CHECK(pycode_offsets_from_debug(b, sizeof(b) - 1, &o) == -EINVAL, "short buffer refused");
	fake_debug(b, 0x030e00a0);
	CHECK(pycode_offsets_from_debug(b, sizeof(b), &o) == -ENOTSUP, "3.14 layout refused");
	fake_debug(b, 0x030d00f0);
	b[0] = 'y';
	CHECK(pycode_offsets_from_debug(b, sizeof(b), &o) == -EINVAL, "bad cookie refused");
	fake_debug(b, 0x030d00f0);
	memcpy(b + 16, &one, 8);
	CHECK(pycode_offsets_from_debug(b, sizeof(b), &o) == -ENOTSUP,
	      "free-threaded build refused");
	fake_debug(b, 0x030d00f0);
	memcpy(b + 232, &big, 8);
	CHECK(pycode_offsets_from_debug(b, sizeof(b), &o) == -EINVAL,
	      "frame offset beyond the BPF read block refused");
	fake_debug(b, 0x030d00f0);
	memcpy(b + 248, &(uint64_t){ 60 }, 8);
	CHECK(pycode_offsets_from_debug(b, sizeof(b), &o) == -EINVAL,
	      "unaligned frame offset refused");
}

static void test_code_objects(void)
{
	struct pycode_offsets o;
	struct pycode c;
	/* 3.11+ location table, firstlineno 10:
	 *  units 0-1: code 13 (no columns), +1 -> 11
	 *  units 2-4: code 11 (one line, +1) -> 12, 2 column bytes
	 *  unit  5:   code 0 (short form, same line) -> 12, 1 byte
	 *  units 6-9: code 14 (long form), -2 -> 10, end line, columns
	 *  unit  10:  code 15, no location -> firstlineno */
	static const uint8_t t311[] = { 0x80 | 13 << 3 | 1, 0x02,
					0x80 | 11 << 3 | 2, 0x01, 0x05,
					0x80 | 0 << 3 | 0, 0x11,
					0x80 | 14 << 3 | 3, 0x05, 0x00, 0x01, 0x07,
					0x80 | 15 << 3 | 0 };
	/* 3.10 (byte delta, line delta): 0-5 +1 -> 11, 6-9 +2 -> 13, 10-11 no
	 * line, 12-19 -3 -> 10 */
	static const uint8_t t310[] = { 6, 1, 4, 2, 2, 0x80, 8, (uint8_t)-3 };
	const uint32_t file_ascii[] = { '/', 'a', '.', 'p', 'y' };
	const uint32_t file_u16[] = { '/', 0xe9, 0x4e2d, '.', 'p', 'y' };	/* /é中.py */
	const uint32_t file_u32[] = { '/', 0x1f600, 0xdc80 };			/* emoji, lone surrogate */

	pycode_offsets_for_version(3, 12, &o);
	fake_code(&o, "App.handle", file_ascii, 5, 1, t311, sizeof(t311));
	CHECK(!pycode_read(&o, fake_read, NULL, BASE, 0xabc000, &c), "3.12 code object read");
	CHECK_STR(c.name, "App.handle", "qualname");
	CHECK_STR(c.file, "/a.py", "file");
	CHECK(c.firstlineno == 10, "first line 10");
	CHECK(pycode_line(&o, &c, 0) == 11 && pycode_line(&o, &c, 2) == 11, "units 0-1: line 11");
	CHECK(pycode_line(&o, &c, 4) == 12 && pycode_line(&o, &c, 8) == 12, "units 2-4: line 12");
	CHECK(pycode_line(&o, &c, 10) == 12, "unit 5 (short form): line 12");
	CHECK(pycode_line(&o, &c, 12) == 10 && pycode_line(&o, &c, 18) == 10, "units 6-9: line 10");
	CHECK(pycode_line(&o, &c, 20) == 10, "no location: the first line");
	CHECK(pycode_line(&o, &c, 1000) == 10, "past the table: the first line");
	pycode_release(&c);

	CHECK(pycode_read(&o, fake_read, NULL, BASE, 0xdef000, &c) == -EINVAL,
	      "wrong ob_type: not a code object");
	CHECK(pycode_read(&o, fake_read, NULL, 0x5, 0, &c) == -EFAULT, "unreadable address");

	fake_code(&o, "f", file_u16, 6, 2, t311, sizeof(t311));
	CHECK(!pycode_read(&o, fake_read, NULL, BASE, 0, &c), "2-byte-kind file name");
	CHECK_STR(c.file, "/\xc3\xa9\xe4\xb8\xad.py", "UCS-2 file name as UTF-8");
	pycode_release(&c);
	fake_code(&o, "f", file_u32, 3, 4, t311, sizeof(t311));
	CHECK(!pycode_read(&o, fake_read, NULL, BASE, 0, &c), "4-byte-kind file name");
	CHECK_STR(c.file, "/\xf0\x9f\x98\x80\xef\xbf\xbd", "UCS-4 as UTF-8, lone surrogate as U+FFFD");
	pycode_release(&c);

	/* Hostile lengths and kinds. */
	fake_code(&o, "f", file_ascii, 5, 1, t311, sizeof(t311));
	put64(BASE + 0x800 + o.unicode_length, (uint64_t)1 << 62);
	CHECK(pycode_read(&o, fake_read, NULL, BASE, 0, &c) == -EINVAL,
	      "file name longer than memory: refused");
	fake_code(&o, "f", file_ascii, 5, 1, t311, sizeof(t311));
	put32(BASE + 0x800 + o.unicode_state, 3 << 2 | 1 << 5);
	CHECK(pycode_read(&o, fake_read, NULL, BASE, 0, &c) == -EINVAL, "kind 3: refused");
	fake_code(&o, "f", file_ascii, 5, 1, t311, sizeof(t311));
	put64(BASE + 0x800 + o.unicode_length, (uint64_t)-5);
	CHECK(pycode_read(&o, fake_read, NULL, BASE, 0, &c) == -EINVAL, "negative length: refused");
	fake_code(&o, "f", file_ascii, 5, 1, t311, sizeof(t311));
	put64(BASE + 0xc00 + o.bytes_size, (uint64_t)1 << 40);
	CHECK(!pycode_read(&o, fake_read, NULL, BASE, 0, &c) && !c.linetable &&
		      pycode_line(&o, &c, 4) == 10,
	      "absurd line table size: no table, lines fall back to the first line");
	pycode_release(&c);

	pycode_offsets_for_version(3, 10, &o);
	fake_code(&o, "handle", file_ascii, 5, 1, t310, sizeof(t310));
	CHECK(!pycode_read(&o, fake_read, NULL, BASE, 0, &c), "3.10 code object read");
	CHECK_STR(c.name, "handle", "3.10: co_name (no qualname)");
	CHECK(c.name_ptr == BASE + 0x400 && pycode_tag_matches(&c, (uint32_t)(BASE + 0x400)) &&
		      !pycode_tag_matches(&c, 0x1234),
	      "the tag is the low half of co_name's address");
	CHECK(pycode_line(&o, &c, 0) == 11 && pycode_line(&o, &c, 5) == 11,
	      "3.10: bytes 0-5 line 11");
	CHECK(pycode_line(&o, &c, 6) == 13 && pycode_line(&o, &c, 9) == 13,
	      "3.10: bytes 6-9 line 13");
	CHECK(pycode_line(&o, &c, 10) == 10, "3.10: no line -> first line");
	CHECK(pycode_line(&o, &c, 12) == 10 && pycode_line(&o, &c, 19) == 10,
	      "3.10: bytes 12-19 line 10");
	/* A hostile first line at the top of the range: the deltas wrap, they
	 * do not overflow (UBSan's pass fails on an overflow; found by
	 * fuzz_pycode). */
	c.firstlineno = INT32_MAX;
	CHECK(pycode_line(&o, &c, 0) == INT32_MAX,
	      "3.10: a line past INT32_MAX is no line: the first line (got %d)", pycode_line(&o, &c, 0));
	pycode_release(&c);
}

static void test_collapse(void)
{
	struct frame lib = { .name = "Thread.run", .module = "/usr/lib/python3.11/threading.py",
			     .file = "/usr/lib/python3.11/threading.py", .line = 975,
			     .kind = FRAME_PYTHON };
	struct frame sp = { .name = "dumps", .module = "/v/lib/python3.12/site-packages/orjson/x.py",
			    .file = "/v/lib/python3.12/site-packages/orjson/x.py", .kind = FRAME_PYTHON };
	struct frame app = { .name = "hot_loop", .module = "/srv/app/main.py",
			     .file = "/srv/app/main.py", .line = 13, .kind = FRAME_PYTHON };
	struct collapse_rules def = { 0 };
	const char *show[] = { "*/threading.py" }, *hide[] = { "*/app/*" };
	struct collapse_rules with_show = { .show = show, .nr_show = 1 };
	struct collapse_rules with_hide = { .hide = hide, .nr_hide = 1 };

	CHECK(collapse_frame_is_library(&lib, &def), "stdlib Python frame is a library frame");
	CHECK(collapse_frame_is_library(&sp, &def),
	      "site-packages Python frame is a library frame");
	CHECK(!collapse_frame_is_library(&app, &def), "application Python frame is not");
	CHECK(!collapse_frame_is_library(&lib, &with_show), "--show on the .py path keeps it");
	CHECK(collapse_frame_is_library(&app, &with_hide), "--hide on the .py path hides it");
}

/* Frame ids stand for names in the merge tests. */
enum { START = 1, MAIN, RUNMAIN, EVAL, CALL, ENCODER, ADD, GARBAGE,
       MODULE = 20, PMAIN, HANDLE, DUMPS, KEYFN };

static bool same(const frame_id_t *got, uint32_t n, const frame_id_t *want, uint32_t wn)
{
	if (n != wn) {
		printf("#   got %u frames, want %u\n", n, wn);
		return false;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (got[i] != want[i]) {
			printf("#   frame %u: got %u, want %u\n", i, got[i], want[i]);
			return false;
		}
	}
	return true;
}

static void test_merge(void)
{
	/* <module> -> main -> handle -> dumps run by one eval call; dumps calls
	 * the C encoder, which calls keyfn back through a second eval call. */
	const struct pymerge_native full[] = {
		{ START, false, true }, { MAIN, false, true }, { RUNMAIN, false, true },
		{ EVAL, true, true }, { CALL, false, true }, { ENCODER, false, false },
		{ EVAL, true, true }, { ADD, false, true },
	};
	const struct pymerge_py py[] = {
		{ KEYFN, true }, { DUMPS, false }, { HANDLE, false }, { PMAIN, false }, { MODULE, true },
	};
	const struct pymerge_native short_unwind[] = {
		{ GARBAGE, false, false }, { EVAL, true, true }, { ADD, false, true },
	};
	const struct pymerge_native no_eval[] = { { GARBAGE, false, false }, { ADD, false, true } };
	/* 3.10: one eval call per Python frame. */
	const struct pymerge_native n310[] = {
		{ MAIN, false, true }, { EVAL, true, true }, { EVAL, true, true },
		{ CALL, false, true }, { EVAL, true, true }, { ADD, false, true },
	};
	const struct pymerge_py p310[] = { { KEYFN, true }, { HANDLE, true }, { MODULE, true } };
	frame_id_t out[64];
	uint32_t n;
	bool cut;

	n = pymerge(full, 8, py, 5, PYMERGE_MERGE, out, 64, &cut);
	CHECK(same(out, n, (frame_id_t[]){ MODULE, PMAIN, HANDLE, DUMPS, ENCODER, KEYFN, ADD }, 7) &&
		      !cut,
	      "merge: each eval frame becomes its Python frames, interpreter plumbing goes, "
	      "the C extension and the leaf C code stay");
	n = pymerge(short_unwind, 3, py, 5, PYMERGE_MERGE, out, 64, &cut);
	CHECK(same(out, n, (frame_id_t[]){ GARBAGE, MODULE, PMAIN, HANDLE, DUMPS, KEYFN, ADD }, 7),
	      "merge, short native unwind: unmatched outer groups just rootward of the match");
	n = pymerge(no_eval, 2, py, 5, PYMERGE_MERGE, out, 64, &cut);
	CHECK(same(out, n, (frame_id_t[]){ MODULE, PMAIN, HANDLE, DUMPS, KEYFN, GARBAGE, ADD }, 7),
	      "merge, no eval frame found: Python frames on top of the native ones");
	n = pymerge(full, 8, py, 5, PYMERGE_ONLY, out, 64, &cut);
	CHECK(same(out, n, (frame_id_t[]){ MODULE, PMAIN, HANDLE, DUMPS, KEYFN }, 5),
	      "only: the Python frames alone");
	n = pymerge(n310, 6, p310, 3, PYMERGE_MERGE, out, 64, &cut);
	CHECK(same(out, n, (frame_id_t[]){ MODULE, HANDLE, KEYFN, ADD }, 4),
	      "3.10 (a C eval call per frame): one Python frame per eval frame");
	n = pymerge(full, 8, py, 0, PYMERGE_MERGE, out, 64, &cut);
	CHECK(same(out, n, (frame_id_t[]){ START, MAIN, RUNMAIN, EVAL, CALL, ENCODER, EVAL, ADD }, 8),
	      "no Python frames: the native stack unchanged");
	{
		const struct pymerge_native ext[] = {
			{ START, false, true }, { EVAL, true, true }, { CALL, false, true },
			{ ENCODER, false, false }, { ADD, false, true },
		};
		const struct pymerge_py p2[] = { { DUMPS, false }, { MODULE, true } };

		n = pymerge(ext, 5, p2, 2, PYMERGE_MERGE, out, 64, &cut);
		CHECK(same(out, n, (frame_id_t[]){ MODULE, DUMPS, ENCODER, ADD }, 4),
		      "merge: interpreter frames between Python and the extension it calls go");
	}
	n = pymerge(full, 8, py, 5, PYMERGE_MERGE, out, 3, &cut);
	CHECK(same(out, n, (frame_id_t[]){ ENCODER, KEYFN, ADD }, 3) && cut,
	      "too deep: the leaf end kept, flagged");
}

static void test_modes(void)
{
	enum python_mode m = PYTHON_OFF;

	CHECK(!python_mode_parse("merge", &m) && m == PYTHON_MERGE, "merge");
	CHECK(!python_mode_parse("only", &m) && m == PYTHON_ONLY, "only");
	CHECK(!python_mode_parse("off", &m) && m == PYTHON_OFF, "off");
	CHECK(python_mode_parse("Merge", &m) == -EINVAL, "Merge: refused");
}

int main(void)
{
	test_versions();
	test_tables();
	test_debug_offsets();
	test_code_objects();
	test_collapse();
	test_merge();
	test_modes();
	return tap_done();
}

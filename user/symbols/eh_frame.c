/* FDE ranges out of .eh_frame bytes (the LSB's layout: CIE and FDE records,
 * pointers in the encoding the CIE's augmentation names). */
#include "symbols/eh_frame.h"
#include "base/util.h"

#include <dwarf.h>
#include <stdlib.h>

/* Longest CIE augmentation string we read ("zPLR" and a few more letters);
 * a longer one is not one we know how to skip. */
#define CIE_MAX_AUG 8
#define DW_EH_PE_FORMAT 0x0f
#define DW_EH_PE_APPLICATION 0x70

/* Reads one record: pos never passes end, the end of the record. */
struct cursor {
	const struct eh_frame_sec *sec;
	size_t pos, end;
};

static bool rd(struct cursor *c, unsigned n, uint64_t *v)
{
	const uint8_t *p = c->sec->data + c->pos;

	if (c->end - c->pos < n)
		return false;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)p[c->sec->big_endian ? n - 1 - i : i] << (8 * i);
	c->pos += n;
	return true;
}

static bool rd_leb(struct cursor *c, bool is_signed, uint64_t *v)
{
	unsigned shift = 0;
	uint8_t b;

	*v = 0;
	do {
		if (c->pos >= c->end || shift >= 64)
			return false;
		b = c->sec->data[c->pos++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (is_signed && shift < 64 && (b & 0x40))
		*v |= ~0ull << shift;
	return true;
}

/* A pointer in encoding enc. Only what linkers write for FDEs is applied:
 * absolute and pc-relative (base: the pointer's own address). */
static bool rd_ptr(struct cursor *c, uint8_t enc, uint64_t *v)
{
	uint64_t at = c->sec->addr + c->pos;
	bool ok;

	switch (enc & DW_EH_PE_FORMAT) {
	case DW_EH_PE_absptr:
		ok = rd(c, c->sec->is64 ? 8 : 4, v);
		break;
	case DW_EH_PE_uleb128:
	case DW_EH_PE_sleb128:
		ok = rd_leb(c, (enc & DW_EH_PE_FORMAT) == DW_EH_PE_sleb128, v);
		break;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		ok = rd(c, 2, v);
		if (ok && (enc & DW_EH_PE_FORMAT) == DW_EH_PE_sdata2)
			*v = (uint64_t)(int64_t)(int16_t)*v;
		break;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		ok = rd(c, 4, v);
		if (ok && (enc & DW_EH_PE_FORMAT) == DW_EH_PE_sdata4)
			*v = (uint64_t)(int64_t)(int32_t)*v;
		break;
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		ok = rd(c, 8, v);
		break;
	default:
		return false;
	}
	if (!ok || (enc & DW_EH_PE_indirect))
		return false;
	switch (enc & DW_EH_PE_APPLICATION) {
	case 0:
		break;
	case DW_EH_PE_pcrel:
		*v += at;
		break;
	default:
		return false;
	}
	if (!c->sec->is64)
		*v &= UINT32_MAX;
	return true;
}

/* The length of the record at c->pos; the cursor then covers its body. */
static bool rd_record(struct cursor *c)
{
	uint64_t len;

	if (!rd(c, 4, &len) || len == 0)	/* 0: the terminator */
		return false;
	if (len == UINT32_MAX && !rd(c, 8, &len))	/* 64-bit DWARF */
		return false;
	if (len < 4 || len > c->end - c->pos)
		return false;
	c->end = c->pos + len;
	return true;
}

/* The pointer encoding of the FDEs of the CIE at off (absolute when it
 * names none). False when off holds no CIE we can read. */
static bool read_cie(const struct eh_frame_sec *sec, size_t off, uint8_t *enc)
{
	struct cursor c = { sec, off, sec->size };
	char aug[CIE_MAX_AUG + 1];
	const char *a = aug;
	uint64_t v, version;
	size_t n = 0;
	bool have_r = false;

	if (!rd_record(&c) || !rd(&c, 4, &v) || v != 0 || !rd(&c, 1, &version) ||
	    (version != 1 && version != 3 && version != 4))
		return false;
	do {
		if (!rd(&c, 1, &v) || (v && n == CIE_MAX_AUG))
			return false;
		aug[n++] = (char)v;
	} while (v);
	if (a[0] == 'e' && a[1] == 'h') {	/* old GCC: a pointer to EH data */
		if (!rd(&c, sec->is64 ? 8 : 4, &v))
			return false;
		a += 2;
	}
	/* version 4: address and segment selector sizes */
	if (version == 4 && (!rd(&c, 1, &v) || !rd(&c, 1, &v)))
		return false;
	/* code and data alignment factors, the return address register */
	if (!rd_leb(&c, false, &v) || !rd_leb(&c, true, &v) ||
	    !(version == 1 ? rd(&c, 1, &v) : rd_leb(&c, false, &v)))
		return false;
	*enc = DW_EH_PE_absptr;
	if (!a[0])
		return true;
	if (a[0] != 'z' || !rd_leb(&c, false, &v))	/* without 'z', no length to skip by */
		return false;
	for (a++; *a; a++) {
		switch (*a) {
		case 'R':
			if (!rd(&c, 1, &v))
				return false;
			*enc = (uint8_t)v;
			have_r = true;
			break;
		case 'L':
			if (!rd(&c, 1, &v))
				return false;
			break;
		case 'P':
			if (!rd(&c, 1, &v) || !rd_ptr(&c, v & DW_EH_PE_FORMAT, &v))
				return false;
			break;
		case 'S':
		case 'B':
		case 'G':
			break;
		default:	/* data we cannot skip: fine if 'R' came before */
			return have_r;
		}
	}
	return true;
}

static int cmp_fde(const void *a, const void *b)
{
	const struct eh_frame_fde *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end > y->end ? -1 : x->end < y->end;
}

/* Sorts, keeps the longest of ranges with one start, and clips each range
 * where the next starts, so that lookups have one answer. */
static uint32_t finish(struct eh_frame_fde *v, uint32_t nr)
{
	uint32_t k = 0;

	if (nr)
		qsort(v, nr, sizeof(*v), cmp_fde);
	for (uint32_t i = 0; i < nr; i++)
		if (!k || v[k - 1].start != v[i].start)
			v[k++] = v[i];
	for (uint32_t i = 0; i + 1 < k; i++)
		if (v[i].end > v[i + 1].start)
			v[i].end = v[i + 1].start;
	return k;
}

uint32_t eh_frame_read(const struct eh_frame_sec *sec, struct eh_frame_fde **out)
{
	struct eh_frame_fde *v = NULL;
	size_t alloc = 0, off = 0, cie_off = SIZE_MAX;
	uint32_t nr = 0;
	uint8_t enc = 0;
	bool cie_ok = false;

	while (nr < EH_FRAME_MAX_FDES) {
		struct cursor c = { sec, off, sec->size };
		uint64_t id, start, range;
		size_t id_pos;

		if (!rd_record(&c))
			break;
		off = c.end;
		id_pos = c.pos;
		if (!rd(&c, 4, &id) || id == 0)	/* 0: a CIE */
			continue;
		if (id > id_pos)	/* a CIE before the section */
			continue;
		if (id_pos - id != cie_off) {	/* FDEs of one CIE come together */
			cie_off = id_pos - id;
			cie_ok = read_cie(sec, cie_off, &enc);
		}
		if (!cie_ok || !rd_ptr(&c, enc, &start) ||
		    !rd_ptr(&c, enc & DW_EH_PE_FORMAT, &range) || range == 0 ||
		    start + range < start)
			continue;
		XGROW(v, alloc, nr + 1);
		v[nr++] = (struct eh_frame_fde){ start, start + range };
	}
	nr = finish(v, nr);
	if (!nr) {
		free(v);
		v = NULL;
	}
	*out = v;
	return nr;
}

const struct eh_frame_fde *eh_frame_lookup(const struct eh_frame_fde *fdes, uint32_t nr,
					   uint64_t vaddr)
{
	uint32_t lo = 0, hi = nr;

	/* Last range with start <= vaddr. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (fdes[mid].start <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && vaddr < fdes[lo - 1].end ? &fdes[lo - 1] : NULL;
}

/*
 * pclntab.c - reading Go's pclntab (see pclntab.h).
 *
 * Layouts, from the Go runtime (runtime/symtab.go) and debug/gosym:
 *
 *   pcHeader: magic u32, 2 zero bytes, quantum u8, ptrsize u8, then words
 *   of ptrsize: nfunc, nfiles, [textStart: 1.18+], funcnameOffset, cuOffset,
 *   filetabOffset, pctabOffset, pclnOffset (offsets from the header).
 *
 *   functab at pclnOffset: nfunc+1 pairs (entry, funcoff); 1.18+ two u32
 *   with entry relative to textStart, before that two words with an
 *   absolute entry. funcoff is from pclnOffset.
 *
 *   _func: entry (u32 1.18+, a word before), nameoff, args, deferreturn,
 *   pcsp, pcfile, pcln, npcdata, cuOffset (u32 each), [startLine i32:
 *   1.20+], funcID u8, flag u8, pad u8, nfuncdata u8, then npcdata u32
 *   table offsets, then nfuncdata funcdata (u32 offsets from go:func.*
 *   1.18+; words, aligned, absolute before).
 *
 *   pc-value tables (offsets into pctab): pairs of (zig-zag value delta,
 *   pc delta / quantum), uvarints, from value -1 at the entry; a zero value
 *   delta after the first pair ends the table.
 *
 * Every read is bounds-checked: the input may be a damaged trace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pclntab.h"

static int in(const struct gs_pcln *p, uint64_t off, uint64_t n)
{
	return off <= p->len && n <= p->len - off;
}

static uint32_t u32(const struct gs_pcln *p, uint64_t off)
{
	if (!in(p, off, 4))
		return 0;
	const uint8_t *d = p->data + off;

	return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

static uint64_t word(const struct gs_pcln *p, uint64_t off)
{
	if (p->ptrsize == 4)
		return u32(p, off);
	return (uint64_t)u32(p, off) | (uint64_t)u32(p, off + 4) << 32;
}

int gs_pcln_init(struct gs_pcln *p, const uint8_t *data, size_t len, char *err,
		 size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->data = data;
	p->len = len;
	if (len < 16) {
		snprintf(err, errlen, "pclntab too short (%zu bytes)", len);
		return -1;
	}
	switch (u32(p, 0)) {
	case 0xfffffffa: p->version = GS_PCLN_116; break;
	case 0xfffffff0: p->version = GS_PCLN_118; break;
	case 0xfffffff1: p->version = GS_PCLN_120; break;
	case 0xfffffffb:
		snprintf(err, errlen, "pclntab of Go 1.2-1.15: not supported (Go 1.16 to 1.26 are)");
		return -1;
	default:
		snprintf(err, errlen, "not a Go pclntab (magic 0x%08x)", u32(p, 0));
		return -1;
	}
	p->quantum = data[6];
	p->ptrsize = data[7];
	if (data[4] || data[5] || (p->ptrsize != 4 && p->ptrsize != 8) ||
	    (p->quantum != 1 && p->quantum != 2 && p->quantum != 4)) {
		snprintf(err, errlen, "pclntab header is invalid");
		return -1;
	}
	uint64_t w = 8, ps = (uint64_t)p->ptrsize;
	uint64_t nfunc = word(p, w), nfiles = word(p, w + ps);

	w += 2 * ps;
	if (p->version >= GS_PCLN_118) {
		p->text_start = word(p, w);
		w += ps;
	}
	p->funcname_off = word(p, w);
	p->cu_off = word(p, w + ps);
	p->filetab_off = word(p, w + 2 * ps);
	p->pctab_off = word(p, w + 3 * ps);
	p->pcln_off = word(p, w + 4 * ps);
	uint64_t ftsize = p->version >= GS_PCLN_118 ? 8 : 2 * ps;

	if (!in(p, w, 5 * ps) || nfunc == 0 || nfunc > (1u << 24) || nfiles > (1u << 24) ||
	    !in(p, p->funcname_off, 0) || !in(p, p->cu_off, 0) || !in(p, p->filetab_off, 0) ||
	    !in(p, p->pctab_off, 0) || !in(p, p->pcln_off, (nfunc + 1) * ftsize)) {
		snprintf(err, errlen, "pclntab header points outside the table");
		return -1;
	}
	p->nfunc = (uint32_t)nfunc;
	p->nfiles = (uint32_t)nfiles;
	p->inl_entry_size = p->version >= GS_PCLN_120 ? 16 : 20;
	return 0;
}

/* Entry of functab slot i (0..nfunc) and its funcoff. */
static uint64_t ft_entry(const struct gs_pcln *p, uint32_t i)
{
	if (p->version >= GS_PCLN_118)
		return p->text_start + u32(p, p->pcln_off + 8ull * i);
	return word(p, p->pcln_off + 2ull * (uint64_t)p->ptrsize * i);
}

static uint64_t ft_funcoff(const struct gs_pcln *p, uint32_t i)
{
	if (p->version >= GS_PCLN_118)
		return u32(p, p->pcln_off + 8ull * i + 4);
	return word(p, p->pcln_off + 2ull * (uint64_t)p->ptrsize * i + (uint64_t)p->ptrsize);
}

const char *gs_pcln_name(const struct gs_pcln *p, int64_t nameoff)
{
	if (nameoff < 0 || !in(p, p->funcname_off + (uint64_t)nameoff, 1))
		return "";
	const char *s = (const char *)p->data + p->funcname_off + nameoff;

	/* must end inside the table */
	return memchr(s, 0, p->len - (p->funcname_off + (uint64_t)nameoff)) ? s : "";
}

uint64_t gs_pcln_end(const struct gs_pcln *p)
{
	return ft_entry(p, p->nfunc);
}

int gs_pcln_func(const struct gs_pcln *p, uint32_t i, struct gs_func *f)
{
	if (i >= p->nfunc)
		return -1;
	uint64_t off = p->pcln_off + ft_funcoff(p, i);
	uint64_t first = p->version >= GS_PCLN_118 ? 4 : (uint64_t)p->ptrsize;
	uint64_t hdr = first + 8 * 4 + (p->version >= GS_PCLN_120 ? 4 : 0) + 4;

	if (!in(p, off, hdr))
		return -1;
	memset(f, 0, sizeof(*f));
	f->index = i;
	f->entry = ft_entry(p, i);
	f->end = ft_entry(p, i + 1);
	f->raw = p->data + off;
	f->name = gs_pcln_name(p, (int32_t)u32(p, off + first));
	f->pcsp = u32(p, off + first + 12);
	f->pcfile = u32(p, off + first + 16);
	f->pcln = u32(p, off + first + 20);
	f->npcdata = u32(p, off + first + 24);
	f->cu_offset = u32(p, off + first + 28);
	if (p->version >= GS_PCLN_120)
		f->start_line = (int32_t)u32(p, off + first + 32);
	f->nfuncdata = f->raw[hdr - 1];
	if (f->npcdata > 1024 || !in(p, off + hdr, 4ull * f->npcdata))
		return -1;
	return 0;
}

int gs_pcln_index(struct gs_pcln *p)
{
	uint64_t *e = malloc(((size_t)p->nfunc + 1) * sizeof(*e));

	if (!e)
		return -1;
	for (uint32_t i = 0; i <= p->nfunc; i++)
		e[i] = ft_entry(p, i);
	free(p->entries);
	p->entries = e;
	return 0;
}

struct gs_pcln_cache {
	uint64_t mask;
	struct cache_ent {
		uint64_t pc;		/* pc + 1: 0 marks an empty slot */
		const char *func, *file;
		int32_t line;
		int found;
	} *e;
};

int gs_pcln_cache_enable(struct gs_pcln *p, int bits)
{
	struct gs_pcln_cache *c = calloc(1, sizeof(*c));

	if (!c || !(c->e = calloc((size_t)1 << bits, sizeof(*c->e)))) {
		free(c);
		return -1;
	}
	c->mask = ((uint64_t)1 << bits) - 1;
	p->cache = c;
	return 0;
}

void gs_pcln_release(struct gs_pcln *p)
{
	free(p->entries);
	if (p->cache)
		free(p->cache->e);
	free(p->cache);
	free(p->inl);
	p->entries = NULL;
	p->cache = NULL;
	p->inl = NULL;
	p->ninl = 0;
}

int gs_pcln_find(const struct gs_pcln *p, uint64_t pc, struct gs_func *f)
{
	const uint64_t *e = p->entries;

	/* as debug/gosym: [entry of the first, entry of slot nfunc) */
	if (e ? pc < e[0] || pc >= e[p->nfunc] : pc < ft_entry(p, 0) || pc >= ft_entry(p, p->nfunc))
		return -1;
	uint32_t lo = 0, hi = p->nfunc;	/* first slot with entry > pc */

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if ((e ? e[mid] : ft_entry(p, mid)) > pc)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo == 0 ? -1 : gs_pcln_func(p, lo - 1, f);
}

static int uvarint32(const struct gs_pcln *p, uint64_t *off, uint32_t *v)
{
	uint32_t x = 0;

	for (int shift = 0; shift < 35; shift += 7) {
		if (*off >= p->len)
			return -1;
		uint8_t b = p->data[(*off)++];

		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* The tables are short; a bound on steps keeps a damaged one from looping long. */
#define MAX_STEPS (1u << 20)

int32_t gs_pcln_value(const struct gs_pcln *p, const struct gs_func *f,
		      uint32_t table_off, uint64_t target)
{
	uint64_t off = p->pctab_off + table_off, pc = f->entry;
	int32_t val = -1;

	for (uint32_t n = 0; n < MAX_STEPS; n++) {
		uint32_t uv, pcd;

		if (uvarint32(p, &off, &uv) < 0)
			return -1;
		if (uv == 0 && pc != f->entry)
			return -1;	/* end of table: pc not covered */
		int32_t vd = uv & 1 ? (int32_t)~(uv >> 1) : (int32_t)(uv >> 1);

		if (uvarint32(p, &off, &pcd) < 0)
			return -1;
		pc += (uint64_t)pcd * (uint64_t)p->quantum;
		val = (int32_t)((uint32_t)val + (uint32_t)vd);	/* wraps, as Go's int32 does */
		if (target < pc)
			return val;
	}
	return -1;
}

uint32_t gs_pcln_pcdata(const struct gs_pcln *p, const struct gs_func *f, uint32_t i)
{
	if (i >= f->npcdata)
		return 0;
	uint64_t first = p->version >= GS_PCLN_118 ? 4 : (uint64_t)p->ptrsize;
	uint64_t hdr = first + 8 * 4 + (p->version >= GS_PCLN_120 ? 4 : 0) + 4;

	return u32(p, (uint64_t)(f->raw - p->data) + hdr + 4ull * i);
}

int gs_pcln_funcdata(const struct gs_pcln *p, const struct gs_func *f, uint32_t i,
		     uint64_t *val)
{
	if (i >= f->nfuncdata)
		return -1;
	uint64_t first = p->version >= GS_PCLN_118 ? 4 : (uint64_t)p->ptrsize;
	uint64_t hdr = first + 8 * 4 + (p->version >= GS_PCLN_120 ? 4 : 0) + 4;
	uint64_t off = (uint64_t)(f->raw - p->data) + hdr + 4ull * f->npcdata;

	if (p->version >= GS_PCLN_118) {
		if (!in(p, off + 4ull * i, 4))
			return -1;
		*val = u32(p, off + 4ull * i);
		return *val == 0xffffffffu ? -1 : 0;
	}
	if (p->ptrsize == 8 && (off & 4))
		off += 4;	/* words are aligned */
	if (!in(p, off + (uint64_t)p->ptrsize * i, (uint64_t)p->ptrsize))
		return -1;
	*val = word(p, off + (uint64_t)p->ptrsize * i);
	return *val ? 0 : -1;
}

const char *gs_pcln_file(const struct gs_pcln *p, const struct gs_func *f, int32_t fileno)
{
	if (fileno < 0)
		return "";
	uint32_t fnoff = u32(p, p->cu_off + 4ull * ((uint64_t)f->cu_offset + (uint64_t)fileno));

	if (fnoff == 0xffffffffu || !in(p, p->cu_off + 4ull * ((uint64_t)f->cu_offset + (uint64_t)fileno), 4) ||
	    !in(p, p->filetab_off + fnoff, 1))
		return "";
	const char *s = (const char *)p->data + p->filetab_off + fnoff;

	return memchr(s, 0, p->len - (p->filetab_off + fnoff)) ? s : "";
}

int gs_pcln_addr2line(const struct gs_pcln *p, uint64_t pc, struct gs_frame *out)
{
	struct gs_func f;
	struct cache_ent *ce = NULL;

	if (p->cache) {
		/* Fibonacci hashing spreads nearby pcs over the table */
		ce = &p->cache->e[(pc * 0x9e3779b97f4a7c15ull >> 32) & p->cache->mask];
		if (ce->pc == pc + 1) {
			*out = (struct gs_frame){ ce->func, ce->file, ce->line };
			return ce->found ? 0 : -1;
		}
	}
	int found = gs_pcln_find(p, pc, &f) == 0;

	if (found) {
		out->func = f.name;
		out->file = gs_pcln_file(p, &f, gs_pcln_value(p, &f, f.pcfile, pc));
		out->line = gs_pcln_value(p, &f, f.pcln, pc);
	}
	if (ce)
		*ce = (struct cache_ent){ pc + 1, found ? out->func : "", found ? out->file : "",
					  found ? out->line : 0, found };
	return found ? 0 : -1;
}

int32_t gs_pcln_spdelta(const struct gs_pcln *p, uint64_t pc)
{
	struct gs_func f;

	if (gs_pcln_find(p, pc, &f) < 0)
		return -1;
	return gs_pcln_value(p, &f, f.pcsp, pc);
}

/* ---- inline trees ---- */

static const struct gs_inltree *inl_for(const struct gs_pcln *p, uint32_t func)
{
	uint32_t lo = 0, hi = p->ninl;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->inl[mid].func < func)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->ninl && p->inl[lo].func == func ? &p->inl[lo] : NULL;
}

static int32_t rd_i32(const uint8_t *d)
{
	return (int32_t)((uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
			 (uint32_t)d[3] << 24);
}

/*
 * At a pc whose PCDATA_InlTreeIndex is ix >= 0, the innermost frame is the
 * inlined function tree[ix] at the position the pc-line tables give. Its
 * call site, one frame out:
 *  - before Go 1.20, tree[ix] holds it (file index, line) and parent ix;
 *  - from Go 1.20, tree[ix].parentPc is a pc in the outer code whose own
 *    position and inline index describe the call site.
 * The outermost frame is f itself.
 */
int gs_pcln_frames(const struct gs_pcln *p, uint64_t pc, struct gs_frame *out, int max)
{
	struct gs_func f;
	int n = 0;

	if (max <= 0 || gs_pcln_find(p, pc, &f) < 0)
		return 0;
	const struct gs_inltree *t = inl_for(p, f.index);
	uint32_t inlpc = gs_pcln_pcdata(p, &f, GS_PCDATA_INLTREE);
	int32_t ix = t && inlpc ? gs_pcln_value(p, &f, inlpc, pc) : -1;
	const char *file = gs_pcln_file(p, &f, gs_pcln_value(p, &f, f.pcfile, pc));
	int32_t line = gs_pcln_value(p, &f, f.pcln, pc);
	int guard = 0;

	while (ix >= 0 && n < max - 1 && guard++ < 256) {
		uint64_t at = (uint64_t)ix * (uint64_t)p->inl_entry_size;

		if (at + (uint64_t)p->inl_entry_size > t->len)
			break;
		const uint8_t *e = t->data + at;

		if (p->version >= GS_PCLN_120) {
			/* funcID u8, pad[3], nameOff i32, parentPc i32, startLine i32 */
			out[n++] = (struct gs_frame){ gs_pcln_name(p, rd_i32(e + 4)), file, line };
			uint64_t ppc = f.entry + (uint64_t)(uint32_t)rd_i32(e + 8);

			file = gs_pcln_file(p, &f, gs_pcln_value(p, &f, f.pcfile, ppc));
			line = gs_pcln_value(p, &f, f.pcln, ppc);
			ix = gs_pcln_value(p, &f, inlpc, ppc);
		} else {
			/* parent i16, funcID u8, pad, file i32, line i32, func_ i32, parentPc i32 */
			out[n++] = (struct gs_frame){ gs_pcln_name(p, rd_i32(e + 12)), file, line };
			file = gs_pcln_file(p, &f, rd_i32(e + 4));
			line = rd_i32(e + 8);
			ix = (int16_t)(e[0] | e[1] << 8);
		}
	}
	out[n++] = (struct gs_frame){ f.name, file, line };
	return n;
}

int gs_inltab_parse(struct gs_pcln *p, const uint8_t *data, size_t len)
{
	size_t off = 0;
	uint64_t count = 0;
	int shift = 0;

	/* uv count */
	for (;;) {
		if (off >= len || shift > 63)
			return -1;
		uint8_t b = data[off++];

		count |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	if (count > len)
		return -1;
	struct gs_inltree *t = calloc(count ? count : 1, sizeof(*t));

	if (!t)
		return -1;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t v[2] = { 0, 0 };

		for (int k = 0; k < 2; k++) {
			shift = 0;
			for (;;) {
				if (off >= len || shift > 63)
					goto bad;
				uint8_t b = data[off++];

				v[k] |= (uint64_t)(b & 0x7f) << shift;
				shift += 7;
				if (!(b & 0x80))
					break;
			}
		}
		if (v[0] > UINT32_MAX || v[1] > len - off || (i && v[0] <= t[i - 1].func))
			goto bad;
		t[i] = (struct gs_inltree){ (uint32_t)v[0], (uint32_t)v[1], data + off };
		off += v[1];
	}
	free(p->inl);
	p->inl = t;
	p->ninl = (uint32_t)count;
	return 0;
bad:
	free(t);
	return -1;
}

/*
 * pclntab.h - Go's pc-line table (runtime.pclntab), which every Go binary
 * keeps even when stripped: function ranges and names, file:line of any pc,
 * frame sizes (pcsp) and the inline tree. Go 1.16 to 1.26 (magics
 * 0xfffffffa, 0xfffffff0, 0xfffffff1; from 1.26 the header's textStart is
 * 0 and the loader sets text_start from elsewhere: gobin.c).
 *
 * The table is parsed in place from its raw bytes, which can come from a
 * binary or from a trace (the same bytes are embedded there), so symbolizing
 * a trace needs no binary. Inline trees live outside pclntab (in go:func.*),
 * so they come separately, per function, in the gs_inltab format below.
 */
#ifndef GS_PCLNTAB_H
#define GS_PCLNTAB_H

#include <stddef.h>
#include <stdint.h>

enum gs_pcln_version { GS_PCLN_116 = 116, GS_PCLN_118 = 118, GS_PCLN_120 = 120 };

/*
 * Inline trees by function: a sorted array of (function index, raw
 * inlinedCall entries). Serialized form (trace blob "go.inltree", FORMAT.md):
 * uv count, then count x (uv func_index, blob entries).
 */
struct gs_inltree {
	uint32_t func;
	uint32_t len;			/* bytes */
	const uint8_t *data;
};

struct gs_pcln {
	const uint8_t *data;
	size_t len;
	int version;			/* enum gs_pcln_version */
	int ptrsize, quantum;
	uint64_t text_start;		/* link-time address that entry offsets are from */
	uint32_t nfunc, nfiles;
	/* offsets into data, each checked against len */
	uint64_t funcname_off, cu_off, filetab_off, pctab_off, pcln_off;
	struct gs_inltree *inl;		/* sorted by func; may be NULL */
	uint32_t ninl;
	int inl_entry_size;		/* 20 before Go 1.20, 16 after */
	uint64_t *entries;		/* gs_pcln_index: nfunc+1 entries, for fast search */
	struct gs_pcln_cache *cache;	/* gs_pcln_cache_enable: addr2line results by pc */
};

/* A function, as found for a pc. */
struct gs_func {
	uint32_t index;			/* in the function table */
	uint64_t entry, end;		/* end: the next function's entry */
	const uint8_t *raw;		/* the _func record */
	const char *name;		/* "" when unreadable */
	uint32_t pcsp, pcfile, pcln, npcdata, cu_offset, nfuncdata;
	int32_t start_line;		/* Go 1.20+, else 0 */
};

struct gs_frame {
	const char *func;		/* function name */
	const char *file;		/* "" if unknown */
	int32_t line;			/* -1 if unknown */
};

/* Speed-ups, both optional: an array of function entries for the search,
 * and a direct-mapped cache of 2^bits addr2line results (profiles look up
 * the same pcs again and again). gs_pcln_release frees them and p->inl. */
int gs_pcln_index(struct gs_pcln *p);
int gs_pcln_cache_enable(struct gs_pcln *p, int bits);
void gs_pcln_release(struct gs_pcln *p);

/* Parse the header. 0, or -1 with a reason. data must outlive p. */
int gs_pcln_init(struct gs_pcln *p, const uint8_t *data, size_t len,
		 char *err, size_t errlen);
/* Function i of the table (0..nfunc-1). 0 or -1. */
int gs_pcln_func(const struct gs_pcln *p, uint32_t i, struct gs_func *f);
/* The end of the last function: functab's closing entry. */
uint64_t gs_pcln_end(const struct gs_pcln *p);
/* The function whose range holds pc (a link-time address). 0 or -1. */
int gs_pcln_find(const struct gs_pcln *p, uint64_t pc, struct gs_func *f);
/* The value of the pc-value table at table_off for pc: -1 if none. */
int32_t gs_pcln_value(const struct gs_pcln *p, const struct gs_func *f,
		      uint32_t table_off, uint64_t pc);
/* Offset of pcdata table i (0 if none) and funcdata word i (raw value). */
uint32_t gs_pcln_pcdata(const struct gs_pcln *p, const struct gs_func *f, uint32_t i);
int gs_pcln_funcdata(const struct gs_pcln *p, const struct gs_func *f, uint32_t i,
		     uint64_t *val);
/* File name of file number fileno (from the pcfile table) of f. */
const char *gs_pcln_file(const struct gs_pcln *p, const struct gs_func *f, int32_t fileno);
/* A name by its offset in the function name table. */
const char *gs_pcln_name(const struct gs_pcln *p, int64_t nameoff);

/*
 * Symbolize pc as `go tool addr2line` does: the containing function's name,
 * and the file:line the pc-line tables give (the innermost inlined position).
 * 0 when pc is in a function, -1 if not.
 */
int gs_pcln_addr2line(const struct gs_pcln *p, uint64_t pc, struct gs_frame *out);
/*
 * The frames at pc, innermost first, inlined ones included, as `go tool
 * pprof` shows them. Returns the number written (at most max), 0 if pc is
 * in no function.
 */
int gs_pcln_frames(const struct gs_pcln *p, uint64_t pc, struct gs_frame *out, int max);
/* Frame size at pc (the pcsp table): the return address is at sp + this. */
int32_t gs_pcln_spdelta(const struct gs_pcln *p, uint64_t pc);

/* Inline trees from their serialized form (see above); the array is malloc'd
 * and points into data. 0 or -1. */
int gs_inltab_parse(struct gs_pcln *p, const uint8_t *data, size_t len);

#define GS_PCDATA_INLTREE	2	/* PCDATA_InlTreeIndex */
#define GS_FUNCDATA_INLTREE	3	/* FUNCDATA_InlTree */

#endif

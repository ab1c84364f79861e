/*
 * gobin.h - a Go binary's symbol tables, loaded from its ELF file: the raw
 * pclntab and the inline tree of every function, ready for gs_pcln lookups
 * and for embedding in a trace unchanged.
 */
#ifndef GS_GOBIN_H
#define GS_GOBIN_H

#include "pclntab.h"

struct gs_gobin {
	uint8_t *pclntab;		/* copy of .gopclntab / .data.rel.ro.gopclntab */
	size_t pclntab_len;
	uint64_t pclntab_va;
	uint8_t *inltab;		/* serialized inline trees (pclntab.h) */
	size_t inltab_len;
	uint64_t gofunc;		/* go:func.* (1.18+), 0 if not found */
	const char *gofunc_source;	/* "symtab", "moduledata" or "none" */
	const char *text_source;	/* where pcln.text_start came from: "pclntab header",
					 * "symtab", "moduledata" (Go 1.26+) or "none" */
	uint32_t ninlined;		/* functions with an inline tree */
	struct gs_pcln pcln;
};

/* Load from an open ELF file. 0, or -1 with a reason (not ELF, not Go, no
 * pclntab, an unsupported or damaged pclntab). Inline trees are best effort:
 * without go:func.* they are absent and err says so while 0 is returned. */
int gs_gobin_load(int fd, struct gs_gobin *g, char *err, size_t errlen);
void gs_gobin_free(struct gs_gobin *g);

/*
 * Set up g->pcln over raw tables (from a trace). text: where the function
 * entries are from (the go.text table), 0 when the trace has none; a Go
 * 1.26+ pclntab without it cannot be placed. 0 or -1.
 */
int gs_gobin_from_tables(struct gs_gobin *g, const uint8_t *pclntab, size_t len,
			 const uint8_t *inltab, size_t inllen, uint64_t text, char *err,
			 size_t errlen);
/*
 * Where a uprobe goes in a Go function whose first n bytes of code are c:
 * the offset of the conditional jump of its stack-check prologue (amd64,
 * Go 1.17+), which the kernel emulates, or 0 (the entry) without one.
 */
uint64_t gs_go_probe_offset(const uint8_t *c, size_t n);
/*
 * Where a probe sees each call once: past that jump, where the stack check
 * has passed. A call whose stack must grow first takes the jump, grows it
 * (morestack) and enters the function again, so a probe on the jump sees
 * such a call twice (gcMarkTermination's 1 KiB frame did, in Go 1.25: two
 * hits for most GC cycles). 0 (the entry) without a stack check.
 */
uint64_t gs_go_probe_offset_once(const uint8_t *c, size_t n);

/*
 * The direct calls to target (a link-time address) in the code c of n bytes
 * at link-time address lo, decoded as instructions: the addresses of its
 * "CALL rel32" instructions in sites, up to max of them. Returns how many
 * there are (possibly more than max), or -1 when the code also jumps to
 * target ("JMP rel32", a tail call, which a probe on the calls would not
 * see) or cannot be decoded.
 */
int gs_go_calls_in(const uint8_t *c, size_t n, uint64_t lo, uint64_t target, uint64_t *sites,
		   int max);

/*
 * gs_go_calls_in over the first 64 KiB of f's code, read from fd at the
 * file offsets that at() gives for link-time addresses (0, or -1 when not
 * in the file); -1 also when it cannot be read.
 */
int gs_go_func_calls(const struct gs_func *f, int fd,
		     int (*at)(const void *ctx, uint64_t va, uint64_t *off), const void *ctx,
		     uint64_t target);

/*
 * The functions named names[0..n), in one pass over p: f[k] and have[k] = 1
 * for each found; returns how many were. When several share a name (an
 * assembly function and the ABI wrapper made for a Go caller, which pclntab
 * names alike), the one that the others call, their code read from fd as
 * above.
 */
int gs_go_funcs_named(const struct gs_pcln *p, const char *const *names, int n, int fd,
		      int (*at)(const void *ctx, uint64_t va, uint64_t *off), const void *ctx,
		      struct gs_func *f, int *have);

/*
 * gs_go_calls_in over the code of every function of p whose name starts
 * with prefix ("" for all), read from fd as above. Returns the
 * number of sites, or -1 as gs_go_calls_in does for any function, or when
 * the code cannot be read.
 */
int gs_go_call_sites(const struct gs_pcln *p, int fd, const char *prefix,
		     int (*at)(const void *ctx, uint64_t va, uint64_t *off), const void *ctx,
		     uint64_t target, uint64_t *sites, int max);
#endif

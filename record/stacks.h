/*
 * stacks.h - distinct stacks, each written once as a STACK record; CPU and
 * fault samples name them by id (FORMAT.md §6.15). Shared by every stream
 * of a recording so ids are unique in the trace.
 */
#ifndef GS_STACKS_H
#define GS_STACKS_H

#include <stdint.h>

#include "format/trace.h"

struct stackent {
	uint64_t hash;
	uint32_t id, n;
	uint64_t *pc;
};

struct stacks {
	struct gs_writer *w;
	struct stackent *tab;		/* open addressing */
	uint32_t size, count, next_id;
	/* the target's executable mappings, from its last maps scan */
	struct { uint64_t lo, hi; } text[256];
	int ntext;
};

/* Remember the executable mappings of s (a parse of /proc/PID/maps). */
struct gs_smaps;
void stacks_set_text(struct stacks *st, const struct gs_smaps *s);
/*
 * A sample's sp_word is useful only as a return address, which points into
 * code: anything else (the usual stack data under a leaf that has a frame)
 * becomes 0, so it costs nothing in the trace.
 */
uint64_t stacks_code_or_zero(const struct stacks *st, uint64_t word);

/* The id of this stack, writing it the first time. -1 (errno) on error. */
int64_t stacks_id(struct stacks *s, const uint64_t *pc, uint32_t n);
void stacks_free(struct stacks *s);

#endif

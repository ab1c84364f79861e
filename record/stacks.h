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
};

/* The id of this stack, writing it the first time. -1 (errno) on error. */
int64_t stacks_id(struct stacks *s, const uint64_t *pc, uint32_t n);
void stacks_free(struct stacks *s);

#endif

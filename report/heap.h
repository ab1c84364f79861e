/*
 * heap.h - the runtime's heap profile as a trace holds it (heap.c): which
 * snapshot answers a moment, and what each allocation stack held in it.
 */
#ifndef GS_HEAP_H
#define GS_HEAP_H

#include <sqlite3.h>
#include <stdint.h>

/* One bucket in one snapshot: an allocation stack and object size. */
struct gs_heap_site {
	int64_t bucket, stack_id;
	uint64_t size;			/* bytes per object */
	uint64_t allocs, frees;		/* sampled, since the program began */
	int64_t inuse_objects;		/* unsampled as pprof does */
	int64_t inuse_bytes;
};

struct gs_heap_snap {
	int64_t seq, cycle, t_ns;
	uint64_t rate;
	int quiet;			/* gs_heap_state: do not warn of lost buckets */
};

/*
 * The snapshot for a moment: cycle >= 0 picks the last snapshot of that GC
 * cycle; else at is "end" (the last), "peak" (the most in-use bytes) or
 * seconds from the recording's start (the last read at or before). Only
 * snapshots whose counts are all known count (FORMAT.md §6.29). 0, or 1
 * with msg saying why there is none.
 */
int gs_heap_pick(sqlite3 *db, const char *at, int64_t cycle, struct gs_heap_snap *out,
		 char *msg, size_t msglen);
/*
 * Every bucket's counts in snapshot seq, unsampled at rate the way
 * runtime/pprof does (1 / (1 - exp(-size / rate))). *out is malloc'd.
 * Buckets in use whose HEAP_BUCKET was lost to damage are left out, and
 * said on stderr (unless snap->quiet). 0, or -1 on errors.
 */
int gs_heap_state(sqlite3 *db, const struct gs_heap_snap *snap, struct gs_heap_site **out,
		  size_t *n);
/* pprof's scaleHeapSample: count objects of size bytes sampled at rate. */
void gs_heap_unsample(uint64_t count, uint64_t size, uint64_t rate, int64_t *objects,
		      int64_t *bytes);

#endif

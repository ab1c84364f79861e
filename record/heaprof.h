/*
 * heaprof.h - the runtime's own heap profile, read from outside (heaprof.c).
 *
 * While runtime.MemProfileRate > 0 the Go runtime samples allocations into
 * buckets (one per allocation stack and object size) on the list at
 * runtime.mbuckets, and after each GC cycle's mark termination publishes
 * every bucket's counts as of the mark termination before (runtime/mprof.go).
 * That is what `go tool pprof` shows as inuse_space. gsrec reads it with
 * process_vm_readv after each publication, within a CPU budget, and writes
 * HEAP_BUCKET and HEAP_PROFILE records (FORMAT.md §6.28, §6.29).
 */
#ifndef GS_HEAPROF_H
#define GS_HEAPROF_H

#include <stdint.h>

struct gorec;
struct heaprof;

/*
 * Set up for g's executable (its layout found, bias not needed yet).
 * Returns NULL, with why said, when the profile cannot be read: its
 * variables were not found, or the release's bucket layout is unknown.
 */
struct heaprof *heaprof_new(struct gorec *g, char *why, size_t whylen);
/*
 * Read a newly published profile if there is one and the budget allows
 * (final: the recording ends, read what is pending whatever the budget).
 * 0, or -1 with errno when the writer failed.
 */
int heaprof_tick(struct heaprof *h, uint64_t now, int final);
/* For the summary line: snapshots written, published ones skipped. */
void heaprof_counts(const struct heaprof *h, uint64_t *snaps, uint64_t *skipped,
		    uint64_t *buckets, uint64_t *cpu_ns);
void heaprof_free(struct heaprof *h);

#endif

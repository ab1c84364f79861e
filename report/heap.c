/*
 * heap.c - the runtime's heap profile as a trace holds it: see heap.h.
 *
 * heap_count holds, for each snapshot, the buckets whose counts changed
 * since the one before, and every bucket in a full snapshot (FORMAT.md
 * §6.29). A bucket's counts in snapshot S are its latest row at or before
 * S and not before the last full snapshot at or before S.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"

void gs_heap_unsample(uint64_t count, uint64_t size, uint64_t rate, int64_t *objects,
		      int64_t *bytes)
{
	if (!count || !size) {
		*objects = *bytes = 0;
		return;
	}
	if (rate <= 1) {	/* every allocation sampled */
		*objects = (int64_t)count;
		*bytes = (int64_t)(count * size);
		return;
	}
	double scale = 1 / (1 - exp(-(double)size / (double)rate));

	*objects = (int64_t)((double)count * scale);
	*bytes = (int64_t)((double)(count * size) * scale);
}

static int one_row(sqlite3 *db, const char *sql, int64_t a, struct gs_heap_snap *out)
{
	sqlite3_stmt *s;
	int found = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL))
		return -1;
	sqlite3_bind_int64(s, 1, a);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		out->seq = sqlite3_column_int64(s, 0);
		out->cycle = sqlite3_column_int64(s, 1);
		out->t_ns = sqlite3_column_int64(s, 2);
		out->rate = (uint64_t)sqlite3_column_int64(s, 3);
		found = 1;
	}
	sqlite3_finalize(s);
	return found;
}

/* In-use bytes of every known snapshot, in one pass: the peak's seq. */
static int peak_seq(sqlite3 *db, int64_t *seq)
{
	sqlite3_stmt *s;
	struct { uint64_t size; int64_t bytes; } *b = NULL;
	size_t nb = 0;
	int64_t total = 0, best = -1, cur = -1, known = 0;
	uint64_t rate = 0;
	int ret = -1;

	if (sqlite3_prepare_v2(db, "SELECT c.seq, c.bucket_id, b.size, c.allocs, c.frees, s.rate, "
			       "s.known FROM heap_count c JOIN heap_bucket b ON b.id = c.bucket_id "
			       "JOIN heap_snapshot s ON s.seq = c.seq ORDER BY c.seq", -1, &s, NULL))
		return -1;
	*seq = -1;
	for (;;) {
		int rc = sqlite3_step(s);
		int64_t q = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -2;

		if (q != cur && cur >= 0 && known && (best < 0 || total > best)) {
			best = total;
			*seq = cur;
		}
		if (rc != SQLITE_ROW)
			break;
		cur = q;
		int64_t id = sqlite3_column_int64(s, 1);

		if (id <= 0 || id > (1 << 26))
			continue;
		if ((size_t)id >= nb) {
			size_t nn = (size_t)id * 2;
			void *p = realloc(b, nn * sizeof(*b));

			if (!p)
				goto out;
			b = p;
			memset(b + nb, 0, (nn - nb) * sizeof(*b));
			nb = nn;
		}
		uint64_t size = (uint64_t)sqlite3_column_int64(s, 2);
		uint64_t a = (uint64_t)sqlite3_column_int64(s, 3), f = (uint64_t)sqlite3_column_int64(s, 4);
		int64_t obj, bytes;

		rate = (uint64_t)sqlite3_column_int64(s, 5);
		known = sqlite3_column_int64(s, 6);
		gs_heap_unsample(a >= f ? a - f : 0, size, rate, &obj, &bytes);
		total += bytes - b[id].bytes;
		b[id].bytes = bytes;
	}
	ret = 0;
out:
	free(b);
	sqlite3_finalize(s);
	return ret;
}

int gs_heap_pick(sqlite3 *db, const char *at, int64_t cycle, struct gs_heap_snap *out,
		 char *msg, size_t msglen)
{
	static const char cols[] = "SELECT seq, cycle, t_ns, rate FROM heap_snapshot WHERE known ";
	char sql[256];
	int found;

	if (one_row(db, "SELECT count(*), 0, 0, 0 FROM heap_snapshot", 0, out) <= 0 ||
	    out->seq == 0) {
		snprintf(msg, msglen, "this trace holds no heap profile: the target is not a Go "
			 "program, its runtime.MemProfileRate was 0 (see gsreport info and the "
			 "recording's messages), it ran no GC cycle, or gsrec ran with "
			 "--no-heap-profile or predates it");
		return 1;
	}
	if (cycle >= 0) {
		snprintf(sql, sizeof(sql), "%sAND cycle = ?1 ORDER BY seq DESC LIMIT 1", cols);
		found = one_row(db, sql, cycle, out);
		if (found == 0)
			snprintf(msg, msglen, "no heap profile snapshot of GC cycle %lld in this trace "
				 "(gsreport gc lists the cycles; a profile is published one cycle "
				 "after its own, and gsrec reads fewer when its budget is short)",
				 (long long)cycle);
	} else if (!at || !strcmp(at, "end")) {
		snprintf(sql, sizeof(sql), "%sORDER BY seq DESC LIMIT 1", cols);
		found = one_row(db, sql, 0, out);
	} else if (!strcmp(at, "peak")) {
		int64_t seq;

		if (peak_seq(db, &seq) < 0)
			return -1;
		snprintf(sql, sizeof(sql), "%sAND seq = ?1", cols);
		found = seq < 0 ? 0 : one_row(db, sql, seq, out);
	} else {
		snprintf(sql, sizeof(sql), "%sAND t_ns <= (SELECT min(mono_ns) FROM clock) + ?1 "
			 "ORDER BY seq DESC LIMIT 1", cols);
		found = one_row(db, sql, (int64_t)(atof(at) * 1e9), out);
		if (found == 0)
			snprintf(msg, msglen, "no heap profile snapshot at or before %s s (the "
				 "first is read after the target's first GC cycle)", at);
	}
	if (found < 0)
		return -1;
	if (!found && cycle < 0 && (!at || !strcmp(at, "end") || !strcmp(at, "peak")))
		snprintf(msg, msglen, "every heap profile snapshot in this trace depends on one "
			 "lost to damage");
	return found ? 0 : 1;
}

int gs_heap_state(sqlite3 *db, const struct gs_heap_snap *snap, struct gs_heap_site **out,
		  size_t *n)
{
	sqlite3_stmt *s;
	struct gs_heap_site *v = NULL;
	size_t nv = 0, cap = 0, lost = 0;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT c.bucket_id, b.stack_id, b.size, c.allocs, c.frees FROM heap_count c "
			       "LEFT JOIN heap_bucket b ON b.id = c.bucket_id WHERE c.seq BETWEEN "
			       "(SELECT max(seq) FROM heap_snapshot WHERE full AND seq <= ?1) AND ?1 "
			       "AND NOT EXISTS (SELECT 1 FROM heap_count d WHERE d.bucket_id = "
			       "c.bucket_id AND d.seq > c.seq AND d.seq <= ?1) ORDER BY c.bucket_id",
			       -1, &s, NULL))
		return -1;
	sqlite3_bind_int64(s, 1, snap->seq);
	while (sqlite3_step(s) == SQLITE_ROW) {
		/* a bucket whose HEAP_BUCKET was lost to damage: its size and
		 * stack are unknown, so are its bytes */
		if (sqlite3_column_type(s, 2) == SQLITE_NULL) {
			uint64_t a = (uint64_t)sqlite3_column_int64(s, 3), f = (uint64_t)sqlite3_column_int64(s, 4);

			lost += a > f;
			continue;
		}
		if (nv == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct gs_heap_site *p = realloc(v, nc * sizeof(*p));

			if (!p) {
				free(v);
				sqlite3_finalize(s);
				return -1;
			}
			v = p;
			cap = nc;
		}
		struct gs_heap_site *e = &v[nv++];

		e->bucket = sqlite3_column_int64(s, 0);
		e->stack_id = sqlite3_column_int64(s, 1);
		e->size = (uint64_t)sqlite3_column_int64(s, 2);
		e->allocs = (uint64_t)sqlite3_column_int64(s, 3);
		e->frees = (uint64_t)sqlite3_column_int64(s, 4);
		gs_heap_unsample(e->allocs >= e->frees ? e->allocs - e->frees : 0, e->size,
				 snap->rate, &e->inuse_objects, &e->inuse_bytes);
	}
	sqlite3_finalize(s);
	if (lost && !snap->quiet)
		fprintf(stderr, "gsreport: %zu allocation stacks in use as of GC cycle %lld were lost to "
			"damage in the trace: their bytes are unknown and left out\n", lost,
			(long long)snap->cycle);
	*out = v;
	*n = nv;
	return 0;
}

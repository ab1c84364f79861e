/*
 * goroutines.h - what gsreport's goroutine and GC reports share
 * (goroutines.c): the runtime's clock (NumGC and LastGC at any moment), the
 * live goroutine count at any moment, and which goroutines the runtime
 * counts as its own.
 */
#ifndef GS_GOROUTINES_H
#define GS_GOROUTINES_H

#include <sqlite3.h>
#include <stdint.h>

#include "symbols.h"

/* Wall time (CLOCK_REALTIME ns) of monotonic timestamps, from CLOCK records. */
struct gs_wall {
	struct { int64_t mono, real; } *a;
	size_t n, i;
};
int gs_wall_load(sqlite3 *db, struct gs_wall *w);
int64_t gs_wall_at(struct gs_wall *w, int64_t mono);	/* ascending queries are O(1) */
void gs_wall_free(struct gs_wall *w);

/* Goroutine entry functions, classified as runtime.NumGoroutine does. */
struct gs_gosym {
	struct gs_objects objs;
	struct gs_object *main;
	int64_t bias;
	int ok;
	struct { uint64_t pc; int sys; } *cache;	/* direct-mapped */
};
void gs_gosym_open(sqlite3 *db, struct gs_gosym *s);
/* The runtime's own goroutine (GC workers, sweeper...), not in NumGoroutine. */
int gs_gosym_is_system(struct gs_gosym *s, uint64_t startpc);
/* The function at a runtime pc, "?" when unknown; len gets its length. */
const char *gs_gosym_func(struct gs_gosym *s, uint64_t pc, int *len);
void gs_gosym_close(struct gs_gosym *s);

/*
 * Live goroutines over time, as NumGoroutine counts them (the runtime's
 * own excluded): creations and exits from a baseline the first census
 * gives. Query with ascending t; -1 without a census, where events were
 * missed since the last (lost, or the probes paused or resumed), and while
 * the probes are paused but at the first query after each census; stack
 * bytes are the latest census's (-1 before it).
 */
struct gs_gcount {
	sqlite3_stmt *cs, *ev, *lost;
	int cs_more, ev_more, lost_more;
	int stale;			/* events were missed since the last census */
	int paused;			/* the probes are paused (gsrec --go-rate) */
	int fresh;			/* a census re-anchored since the last query */
	int64_t count, stack_bytes;
	int have;
	int events;			/* the creation and exit probes were on */
	int64_t census_count, census_t;	/* the last census before the query (-1: none) */
	struct gs_gosym *sym;
};
int gs_gcount_open(sqlite3 *db, struct gs_gcount *c, struct gs_gosym *sym);
/*
 * Live goroutines at t (ascending): *count, or -1 where the events do not
 * say it exactly. With age_ns, an unknown count is the last census's instead,
 * and *age_ns how long before t it was taken (0 for an exact count; -1 with
 * no census yet).
 */
void gs_gcount_at(struct gs_gcount *c, int64_t t, int64_t *count, int64_t *stack_bytes,
		  int64_t *age_ns);
void gs_gcount_close(struct gs_gcount *c);

/* The share of [a, b], within the recording, that the creation, exit and
 * stack-copy probes were paused (gsrec --go-rate): 0 to 1, or -1 when they
 * were never paused in it. */
double gs_go_paused(sqlite3 *db, int64_t a, int64_t b);

/*
 * Per GC cycle: NumGC and LastGC from memstats, or, without them, the mark
 * termination events numbered from the recording's start (as `gsreport gc`
 * numbers them). Query with ascending wall time.
 */
struct gs_gcclock {
	sqlite3_stmt *st;
	int more, mono;			/* mono: the rows' times are monotonic */
	struct gs_wall w;
	int64_t numgc, last_gc;		/* as of the last query; -1 before any */
	int64_t heap_marked;		/* that cycle's marked heap, -1 unknown */
};
int gs_gcclock_open(sqlite3 *db, struct gs_gcclock *c);
void gs_gcclock_at(struct gs_gcclock *c, int64_t wall, int64_t *numgc, int64_t *last_gc);
void gs_gcclock_close(struct gs_gcclock *c);

/*
 * RSS and Pss at a moment: statm's RSS (every tick), and the latest smaps
 * Pss moved by the RSS change since that read (smaps reads are paced).
 * Query with ascending t; -1 before the first.
 */
struct gs_memat {
	sqlite3_stmt *st, *rd;
	int st_more, rd_more;
	int64_t rss, pss, rss_at_pss;
	int have_rss, have_pss;
};
int gs_memat_open(sqlite3 *db, struct gs_memat *m);
void gs_memat_at(struct gs_memat *m, int64_t t, int64_t *rss, int64_t *pss);
void gs_memat_close(struct gs_memat *m);

/*
 * The floor of each GC cycle (with a statm tick in it): the heap the
 * runtime marked live in it (or, where not read, the least heap_live
 * sampled) and the least Pss. Whether a floor rises over the recording is
 * the sign of a leak.
 */
struct gs_floor {
	int64_t cycle, wall, heap, pss;	/* -1: unknown */
};
struct gs_floors {
	struct gs_floor *f;
	size_t n;
};
int gs_floors_load(sqlite3 *db, struct gs_floors *fl);
void gs_floors_free(struct gs_floors *fl);

/* the floors are judged as the means of this many batches of consecutive cycles */
#define GS_TREND_BATCHES 10

struct gs_trend {
	size_t n;			/* cycles with this floor */
	int judged;			/* enough cycles (6) to say */
	int dir;			/* 1 rising, 0 flat, -1 falling */
	double first, last;		/* the fitted line at the first and last thirds (bytes) */
	double per_min;			/* its slope, bytes a minute */
	double change;			/* what it moves over the cycles judged (bytes) */
	double t_stat;			/* slope over its standard error (autocorrelation-widened) */
	double min_change;		/* the change a trend needs: max(1 MiB, 5% of the median) */
	int64_t first_wall, last_wall;	/* the thirds' median LastGC (unix ns) */
};
/* of: 0 the heap floor, 1 the Pss floor */
void gs_trend_of(const struct gs_floors *fl, int of, struct gs_trend *t);
const char *gs_trend_word(const struct gs_trend *t);
/* "WHAT floor: rising, 4.0 MiB -> 9.1 MiB over 300 cycles (+1.20 MiB/min)" */
void gs_trend_say(char *buf, size_t n, const char *what, const struct gs_trend *t);

#endif

/*
 * goroutines.c - the runtime's clock, live goroutine counts, and
 * `gsreport gc`: one row per GC cycle.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goroutines.h"
#include "gsreport.h"

static int64_t col(sqlite3_stmt *s, int i) { return sqlite3_column_int64(s, i); }

/* ---- wall clock ---- */

int gs_wall_load(sqlite3 *db, struct gs_wall *w)
{
	sqlite3_stmt *s;

	memset(w, 0, sizeof(*w));
	if (sqlite3_prepare_v2(db, "SELECT mono_ns, real_ns FROM clock ORDER BY mono_ns", -1, &s, NULL))
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		void *a = realloc(w->a, (w->n + 1) * sizeof(*w->a));

		if (!a) {
			sqlite3_finalize(s);
			return -1;
		}
		w->a = a;
		w->a[w->n].mono = col(s, 0);
		w->a[w->n].real = col(s, 1);
		w->n++;
	}
	sqlite3_finalize(s);
	return 0;
}

int64_t gs_wall_at(struct gs_wall *w, int64_t mono)
{
	if (!w->n)
		return 0;
	if (w->i >= w->n || w->a[w->i].mono > mono)
		w->i = 0;
	while (w->i + 1 < w->n && w->a[w->i + 1].mono <= mono)
		w->i++;
	return w->a[w->i].real + (mono - w->a[w->i].mono);
}

void gs_wall_free(struct gs_wall *w)
{
	free(w->a);
	memset(w, 0, sizeof(*w));
}

/* ---- entry functions ---- */

#define SYMCACHE 4096

void gs_gosym_open(sqlite3 *db, struct gs_gosym *s)
{
	char err[200];

	memset(s, 0, sizeof(*s));
	if (gs_objects_load(db, &s->objs, err, sizeof(err)) < 0)
		return;
	s->main = gs_objects_find(&s->objs, NULL);
	if (!s->main || !s->main->has_go)
		return;
	if (gs_object_bias(db, s->main, &s->bias) < 0)
		s->bias = 0;
	s->cache = calloc(SYMCACHE, sizeof(*s->cache));
	s->ok = s->cache != NULL;
}

const char *gs_gosym_func(struct gs_gosym *s, uint64_t pc, int *len)
{
	struct gs_symframe f;

	if (s->ok && gs_object_symbolize(s->main, pc - (uint64_t)s->bias, 0, &f, 1) == 1) {
		*len = f.func_len;
		return f.func;
	}
	*len = 1;
	return "?";
}

int gs_gosym_is_system(struct gs_gosym *s, uint64_t startpc)
{
	if (!s->ok)
		return 0;
	size_t j = (size_t)((startpc >> 2) * 0x9e3779b97f4a7c15ull >> 52) & (SYMCACHE - 1);

	if (s->cache[j].pc == startpc && startpc)
		return s->cache[j].sys;
	int len;
	const char *f = gs_gosym_func(s, startpc, &len);
	/* as runtime.isSystemGoroutine: runtime.* but runtime.main (the
	 * finalizer goroutine counts as the runtime's while it waits) */
	int sys = len > 8 && !strncmp(f, "runtime.", 8) &&
		  !(len == 12 && !strncmp(f, "runtime.main", 12));

	s->cache[j].pc = startpc;
	s->cache[j].sys = sys;
	return sys;
}

void gs_gosym_close(struct gs_gosym *s)
{
	gs_objects_free(&s->objs);
	free(s->cache);
	memset(s, 0, sizeof(*s));
}

/* ---- live goroutines ---- */

/* The user goroutines of census id. */
static int64_t census_users(struct gs_gcount *c, int64_t id)
{
	sqlite3 *db = sqlite3_db_handle(c->cs);
	sqlite3_stmt *s;
	int64_t n = 0;

	if (sqlite3_prepare_v2(db, "SELECT startpc, count FROM census_site WHERE census_id=?", -1,
			       &s, NULL))
		return 0;
	sqlite3_bind_int64(s, 1, id);
	while (sqlite3_step(s) == SQLITE_ROW)
		if (!gs_gosym_is_system(c->sym, (uint64_t)col(s, 0)))
			n += col(s, 1);
	sqlite3_finalize(s);
	return n;
}

/*
 * The count follows the creation and exit events, from a baseline: the
 * first census's count minus the events before it. A census is taken
 * while goroutines come and go, so anchoring to every census would add
 * that race's error each time; later censuses re-anchor the count only
 * after events were lost or the probes paused or resumed (gsrec
 * --go-rate), and from such a moment to that census the count is unknown.
 */
int gs_gcount_open(sqlite3 *db, struct gs_gcount *c, struct gs_gosym *sym)
{
	sqlite3_stmt *s = NULL;

	memset(c, 0, sizeof(*c));
	c->sym = sym;
	c->census_count = c->census_t = -1;
	/* without the probes (no eBPF, a runtime they cannot be put on) only
	 * the censuses count: there are no events to follow */
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM message WHERE text LIKE 'goroutine and GC probes:%'",
			       -1, &s, NULL) == SQLITE_OK) {
		c->events = sqlite3_step(s) == SQLITE_ROW;
		sqlite3_finalize(s);
		s = NULL;
	}
	if (sqlite3_prepare_v2(db, "SELECT id, t_ns, stack_bytes FROM census ORDER BY id", -1,
			       &c->cs, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT t_ns, startpc, 1 FROM go_create UNION ALL "
			       "SELECT t_ns, startpc, -1 FROM go_exit ORDER BY 1", -1, &c->ev, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT t_ns, 0 FROM lost WHERE stream = 'goroutines' UNION ALL "
			       "SELECT t_ns, 1 FROM go_pause UNION ALL SELECT end_ns, -1 FROM go_pause "
			       "ORDER BY 1", -1, &c->lost, NULL))
		return -1;
	c->cs_more = sqlite3_step(c->cs) == SQLITE_ROW;
	c->ev_more = sqlite3_step(c->ev) == SQLITE_ROW;
	c->lost_more = sqlite3_step(c->lost) == SQLITE_ROW;
	if (!c->cs_more)
		return 0;
	/* the baseline: what the first census counts, less the events before it */
	int64_t first = census_users(c, col(c->cs, 0)), before = 0;

	if (sqlite3_prepare_v2(db, "SELECT startpc, 1 FROM go_create WHERE t_ns <= ?1 UNION ALL "
			       "SELECT startpc, -1 FROM go_exit WHERE t_ns <= ?1", -1, &s, NULL) == 0) {
		sqlite3_bind_int64(s, 1, col(c->cs, 1));
		while (sqlite3_step(s) == SQLITE_ROW)
			if (!gs_gosym_is_system(c->sym, (uint64_t)col(s, 0)))
				before += col(s, 1);
		sqlite3_finalize(s);
	}
	c->count = first - before;
	c->stack_bytes = -1;
	c->have = 1;
	return 0;
}

void gs_gcount_at(struct gs_gcount *c, int64_t t, int64_t *count, int64_t *stack_bytes,
		  int64_t *age_ns)
{
	for (;;) {
		int64_t tc = c->cs_more ? col(c->cs, 1) : INT64_MAX;
		int64_t te = c->ev_more ? col(c->ev, 0) : INT64_MAX;
		int64_t tl = c->lost_more ? col(c->lost, 0) : INT64_MAX;

		if (tc > t && te > t && tl > t)
			break;
		if (tl <= tc && tl <= te) {
			/* events were lost, or the probes paused or resumed: the
			 * count is unknown until a census says it; while they are
			 * paused, only each census says it */
			c->stale = 1;
			c->paused += (int)col(c->lost, 1);
			c->lost_more = sqlite3_step(c->lost) == SQLITE_ROW;
		} else if (tc <= te) {
			c->stack_bytes = col(c->cs, 2);
			c->census_count = census_users(c, col(c->cs, 0));
			c->census_t = tc;
			if (c->stale || c->paused > 0) {
				c->count = c->census_count;
				c->stale = 0;
				c->fresh = 1;
			}
			c->cs_more = sqlite3_step(c->cs) == SQLITE_ROW;
		} else {
			if (!gs_gosym_is_system(c->sym, (uint64_t)col(c->ev, 1)))
				c->count += col(c->ev, 2);
			c->ev_more = sqlite3_step(c->ev) == SQLITE_ROW;
		}
	}
	/* while paused, a census's count holds only for the query just after it */
	*count = c->have && c->events && !c->stale && (c->paused <= 0 || c->fresh) ? c->count : -1;
	c->fresh = 0;
	*stack_bytes = c->stack_bytes;
	if (!age_ns)
		return;
	*age_ns = *count >= 0 ? 0 : -1;
	if (*count < 0 && c->census_t >= 0) {
		/* not known exactly here: the last census's, with its age */
		*count = c->census_count;
		*age_ns = t - c->census_t;
	}
}

void gs_gcount_close(struct gs_gcount *c)
{
	sqlite3_finalize(c->cs);
	sqlite3_finalize(c->ev);
	sqlite3_finalize(c->lost);
	memset(c, 0, sizeof(*c));
}

double gs_go_paused(sqlite3 *db, int64_t a, int64_t b)
{
	sqlite3_stmt *s;
	double share = -1;

	if (sqlite3_prepare_v2(db, "WITH w(a, b) AS (SELECT max(?1, min(t_ns)), min(?2, max(t_ns)) "
			       "FROM statm) SELECT (SELECT sum(min(p.end_ns, w.b) - max(p.t_ns, w.a)) "
			       "FROM go_pause p WHERE p.end_ns > w.a AND p.t_ns < w.b), w.b - w.a FROM w",
			       -1, &s, NULL))
		return -1;
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		double off = (double)sqlite3_column_int64(s, 0), span = (double)sqlite3_column_int64(s, 1);

		share = span > 0 ? off / span : 1;
	}
	sqlite3_finalize(s);
	return share;
}

/* ---- the GC clock ---- */

int gs_gcclock_open(sqlite3 *db, struct gs_gcclock *c)
{
	memset(c, 0, sizeof(*c));
	c->numgc = c->last_gc = c->heap_marked = -1;
	/*
	 * heap_marked is as of the read: of the last cycle read at that moment.
	 * Without memstats the mark termination events are the cycles,
	 * numbered from the recording's start as `gsreport gc` numbers them,
	 * and their time stands for LastGC.
	 */
	const char *sql = "SELECT numgc, last_gc_unix_ns, CASE WHEN t_ns = lead(t_ns) OVER "
			  "(ORDER BY numgc) OR heap_marked IS NULL THEN -1 ELSE heap_marked END "
			  "FROM gc_cycle ORDER BY numgc";
	sqlite3_stmt *s;
	int exact = 0;

	if (sqlite3_prepare_v2(db, "SELECT EXISTS (SELECT 1 FROM gc_cycle)", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		exact = sqlite3_column_int64(s, 0) > 0;
	sqlite3_finalize(s);
	if (!exact)
		sql = "SELECT row_number() OVER (ORDER BY rowid), t_ns, -1 FROM gc_event WHERE "
		      "kind = 'mark_termination' ORDER BY rowid";
	c->mono = !exact;
	if ((c->mono && gs_wall_load(db, &c->w) < 0) || sqlite3_prepare_v2(db, sql, -1, &c->st, NULL))
		return -1;
	c->more = sqlite3_step(c->st) == SQLITE_ROW;
	return 0;
}

void gs_gcclock_at(struct gs_gcclock *c, int64_t wall, int64_t *numgc, int64_t *last_gc)
{
	for (; c->more; c->more = sqlite3_step(c->st) == SQLITE_ROW) {
		int64_t t = c->mono ? gs_wall_at(&c->w, col(c->st, 1)) : col(c->st, 1);

		if (t > wall)
			break;
		c->numgc = col(c->st, 0);
		c->last_gc = t;
		c->heap_marked = col(c->st, 2);
	}
	*numgc = c->numgc;
	*last_gc = c->last_gc;
}

void gs_gcclock_close(struct gs_gcclock *c)
{
	sqlite3_finalize(c->st);
	gs_wall_free(&c->w);
	memset(c, 0, sizeof(*c));
}

/* ---- gsreport gc ---- */

static void num(FILE *out, int json, const char *name, int64_t v, int first)
{
	if (json)
		fprintf(out, "%s\"%s\":", first ? "" : ",", name);
	else if (!first)
		fputc(',', out);
	if (v < 0)
		fputs(json ? "null" : "", out);
	else
		fprintf(out, "%" PRId64, v);
}

/*
 * One row per cycle. Exact cycles come from GC_CYCLE records (memstats);
 * their start is the last GC start event before the cycle's mark
 * termination event. Without memstats the mark termination events are the
 * cycles, numbered from 1 at the start of the recording, and their time
 * stands for LastGC (exact = 0).
 */
int gs_gc(sqlite3 *db, FILE *out, int json, char *msg, size_t msglen)
{
	sqlite3_stmt *cy = NULL, *ev = NULL;
	struct gs_wall w;
	struct gs_gosym sym;
	struct gs_gcount gc;
	struct gs_memat mem;
	int ret = -1, nrows = 0, exact;
	int64_t ncycles = 0;

	gs_wall_load(db, &w);
	gs_gosym_open(db, &sym);
	if (gs_gcount_open(db, &gc, &sym) < 0 || gs_memat_open(db, &mem) < 0)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM gc_cycle", -1, &cy, NULL) ||
	    sqlite3_step(cy) != SQLITE_ROW)
		goto out;
	ncycles = col(cy, 0);
	sqlite3_finalize(cy);
	cy = NULL;
	exact = ncycles > 0;
	if (exact ? sqlite3_prepare_v2(db, "SELECT numgc, last_gc_unix_ns, pause_ns, heap_live, "
				       "heap_marked, t_ns FROM gc_cycle ORDER BY numgc", -1, &cy, NULL)
		  : sqlite3_prepare_v2(db, "SELECT rowid, NULL, NULL, NULL, NULL, t_ns FROM gc_event "
				       "WHERE kind = 'mark_termination' ORDER BY rowid", -1, &cy, NULL))
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT t_ns, kind FROM gc_event ORDER BY rowid", -1, &ev, NULL))
		goto out;

	if (json)
		fputs("[\n", out);
	else
		fputs("cycle,start_wall_ns,last_gc_unix_ns,pause_ns,rss_before_bytes,rss_after_bytes,"
		      "pss_before_bytes,pss_after_bytes,heap_live_bytes,heap_marked_bytes,goroutines,"
		      "exact\n", out);
	int ev_more = sqlite3_step(ev) == SQLITE_ROW;
	int64_t start_t = -1, n = 0;

	while (sqlite3_step(cy) == SQLITE_ROW) {
		int64_t cycle = exact ? col(cy, 0) : ++n;
		int64_t end_wall, end_t = -1, pause = -1;

		if (exact) {
			end_wall = col(cy, 1);
			pause = col(cy, 2);
		} else {
			end_t = col(cy, 5);
			end_wall = gs_wall_at(&w, end_t);
		}
		/* the events up to this cycle's end: its start, its mark termination */
		int64_t mt = -1;

		while (ev_more) {
			int64_t t = col(ev, 0);
			const char *k = (const char *)sqlite3_column_text(ev, 1);

			if (gs_wall_at(&w, t) > end_wall)
				break;
			if (!strcmp(k, "start"))
				start_t = t;
			else
				mt = t;
			ev_more = sqlite3_step(ev) == SQLITE_ROW;
		}
		if (end_t < 0)
			end_t = mt >= 0 ? mt : end_wall - (w.n ? w.a[0].real - w.a[0].mono : 0);
		int64_t start_wall = start_t >= 0 && start_t <= end_t ? gs_wall_at(&w, start_t) : -1;
		int64_t rb = -1, ra, pb = -1, pa, gor, sb;

		if (start_t >= 0 && start_t <= end_t)
			gs_memat_at(&mem, start_t - 1, &rb, &pb);
		/* the end as the monotonic clock has it */
		int64_t end_mono = end_wall - (gs_wall_at(&w, end_t) - end_t);

		gs_memat_at(&mem, end_mono + 20000000, &ra, &pa);	/* the next statm tick or two */
		gs_gcount_at(&gc, end_mono, &gor, &sb, NULL);
		if (json)
			fprintf(out, "%s{", nrows ? ",\n" : "");
		num(out, json, "cycle", cycle, 1);
		num(out, json, "start_wall_ns", start_wall, 0);
		num(out, json, "last_gc_unix_ns", end_wall, 0);
		num(out, json, "pause_ns", pause, 0);
		num(out, json, "rss_before_bytes", rb, 0);
		num(out, json, "rss_after_bytes", ra, 0);
		num(out, json, "pss_before_bytes", pb, 0);
		num(out, json, "pss_after_bytes", pa, 0);
		num(out, json, "heap_live_bytes",
		    sqlite3_column_type(cy, 3) == SQLITE_NULL ? -1 : col(cy, 3), 0);
		num(out, json, "heap_marked_bytes",
		    sqlite3_column_type(cy, 4) == SQLITE_NULL ? -1 : col(cy, 4), 0);
		num(out, json, "goroutines", gor, 0);
		num(out, json, "exact", exact, 0);
		fputs(json ? "}" : "\n", out);
		nrows++;
		start_t = -1;
	}
	if (json)
		fputs(nrows ? "\n]\n" : "]\n", out);
	if (!nrows)
		snprintf(msg, msglen, "the trace has no GC cycles (not a Go program, no cycle "
			 "during the recording, or neither memstats nor the GC probes were "
			 "available: see `gsreport summary`)");
	else if (!exact)
		snprintf(msg, msglen, "runtime.memstats could not be read: cycles are numbered "
			 "from the recording's start and last_gc_unix_ns is the mark termination "
			 "probe's time (exact = 0: an estimate, a few microseconds before the "
			 "runtime's LastGC; within 50 us in gsmapper's tests)");
	ret = ferror(out) ? -1 : 0;
out:
	sqlite3_finalize(cy);
	sqlite3_finalize(ev);
	gs_memat_close(&mem);
	gs_gcount_close(&gc);
	gs_gosym_close(&sym);
	gs_wall_free(&w);
	return ret;
}

/* ---- RSS and Pss at a moment ---- */

int gs_memat_open(sqlite3 *db, struct gs_memat *m)
{
	memset(m, 0, sizeof(*m));
	if (sqlite3_prepare_v2(db, "SELECT t_ns, rss_bytes FROM statm ORDER BY t_ns", -1, &m->st, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT t_ns, pss_kb FROM smaps_read WHERE pss_kb IS NOT NULL "
			       "ORDER BY id", -1, &m->rd, NULL))
		return -1;
	m->st_more = sqlite3_step(m->st) == SQLITE_ROW;
	m->rd_more = sqlite3_step(m->rd) == SQLITE_ROW;
	return 0;
}

void gs_memat_at(struct gs_memat *m, int64_t t, int64_t *rss, int64_t *pss)
{
	for (;;) {
		int64_t ts = m->st_more ? col(m->st, 0) : INT64_MAX;
		int64_t tr = m->rd_more ? col(m->rd, 0) : INT64_MAX;

		if (ts > t && tr > t)
			break;
		if (ts <= tr) {
			m->rss = col(m->st, 1);
			m->have_rss = 1;
			m->st_more = sqlite3_step(m->st) == SQLITE_ROW;
		} else {
			m->pss = col(m->rd, 1) * 1024;
			m->rss_at_pss = m->rss;
			m->have_pss = m->have_rss;
			m->rd_more = sqlite3_step(m->rd) == SQLITE_ROW;
		}
	}
	*rss = m->have_rss ? m->rss : -1;
	*pss = m->have_pss ? m->pss + (m->rss - m->rss_at_pss) : -1;
}

void gs_memat_close(struct gs_memat *m)
{
	sqlite3_finalize(m->st);
	sqlite3_finalize(m->rd);
	memset(m, 0, sizeof(*m));
}

/* ---- floors of the GC cycles, and their trend ---- */

int gs_floors_load(sqlite3 *db, struct gs_floors *fl)
{
	struct gs_wall w;
	struct gs_gcclock gc = { 0 };
	struct gs_memat mem = { 0 };
	sqlite3_stmt *st = NULL, *hp = NULL;
	int ret = -1, hp_more;
	size_t cap = 0;
	struct gs_floor cur = { -1, -1, -1, -1 };
	int64_t heap_min = -1;

	memset(fl, 0, sizeof(*fl));
	if (gs_wall_load(db, &w) < 0)
		return -1;
	if (gs_gcclock_open(db, &gc) < 0 || gs_memat_open(db, &mem) < 0 ||
	    sqlite3_prepare_v2(db, "SELECT t_ns FROM statm ORDER BY t_ns", -1, &st, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT t_ns, heap_live FROM go_heap WHERE heap_live IS NOT NULL "
			       "ORDER BY rowid", -1, &hp, NULL))
		goto out;
	hp_more = sqlite3_step(hp) == SQLITE_ROW;
	for (int more = sqlite3_step(st) == SQLITE_ROW;; more = sqlite3_step(st) == SQLITE_ROW) {
		int64_t t = more ? col(st, 0) : INT64_MAX, numgc = -1, last_gc, rss, pss;

		if (more)
			gs_gcclock_at(&gc, gs_wall_at(&w, t), &numgc, &last_gc);
		if (cur.cycle >= 0 && numgc != cur.cycle) {	/* that cycle ended */
			if (cur.heap < 0)
				cur.heap = heap_min;
			if (fl->n == cap) {
				struct gs_floor *a = realloc(fl->f, (cap = cap ? cap * 2 : 256) * sizeof(*a));

				if (!a)
					goto out;
				fl->f = a;
			}
			fl->f[fl->n++] = cur;
			cur.cycle = -1;
		}
		if (!more)
			break;
		if (numgc < 0)
			continue;
		gs_memat_at(&mem, t, &rss, &pss);
		if (cur.cycle < 0) {
			cur = (struct gs_floor){ numgc, last_gc, gc.heap_marked, pss };
			heap_min = -1;
		} else if (pss >= 0 && (cur.pss < 0 || pss < cur.pss)) {
			cur.pss = pss;
		}
		while (hp_more && col(hp, 0) <= t) {
			int64_t h = col(hp, 1);

			if (gs_wall_at(&w, col(hp, 0)) >= last_gc && (heap_min < 0 || h < heap_min))
				heap_min = h;
			hp_more = sqlite3_step(hp) == SQLITE_ROW;
		}
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(hp);
	gs_memat_close(&mem);
	gs_gcclock_close(&gc);
	gs_wall_free(&w);
	if (ret < 0)
		gs_floors_free(fl);
	return ret;
}

void gs_floors_free(struct gs_floors *fl)
{
	free(fl->f);
	memset(fl, 0, sizeof(*fl));
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Least squares of y on x over the points keep[] marks: slope, intercept. */
static void fit(const double *x, const double *y, const char *keep, size_t n, double *slope,
		double *icept)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;

	for (size_t i = 0; i < n; i++)
		if (keep[i]) {
			sx += x[i];
			sy += y[i];
			m++;
		}
	double mx = sx / m, my = sy / m;

	for (size_t i = 0; i < n; i++)
		if (keep[i]) {
			sxx += (x[i] - mx) * (x[i] - mx);
			sxy += (x[i] - mx) * (y[i] - my);
		}
	*slope = sxx > 0 ? sxy / sxx : 0;
	*icept = my - *slope * mx;
}

/*
 * Whether a floor rises, falls or stays flat is a decision that noise must
 * not flip. A least-squares line through the floors over time is refitted
 * once without the cycles whose residual lies past four robust standard
 * deviations (1.4826 MAD: a few odd cycles), and a trend must pass two
 * tests at once:
 *  - significant: the slope is more than 3 standard errors from zero.
 *    Successive floors are far from independent: a runtime that keeps
 *    nothing still moves between levels (how much it allocates while it
 *    marks, which it counts as marked, follows the rhythm of its work)
 *    that last dozens of cycles, so the per-cycle residuals understate the
 *    error many times over. The line is fitted instead to the means of
 *    GS_TREND_BATCHES batches of consecutive cycles, its error taken from
 *    their residuals and widened for their lag-1 autocorrelation r (the
 *    effective count is n (1-r)/(1+r));
 *  - large enough to matter: the line moves by more than max(1 MiB, 5% of
 *    the median floor) over the cycles judged.
 * A wobble of a runtime that keeps nothing fails the second; a slow steady
 * drift the first only when it is lost in the spread.
 */
void gs_trend_of(const struct gs_floors *fl, int of, struct gs_trend *t)
{
	size_t cap = fl->n + 1, n = 0, m = 0;
	double *v = malloc(cap * sizeof(*v)), *tm = malloc(cap * sizeof(*tm));
	double *res = malloc(cap * sizeof(*res));
	char *keep = malloc(cap);

	memset(t, 0, sizeof(*t));
	if (!v || !tm || !res || !keep)
		goto out;
	for (size_t i = 0; i < fl->n; i++) {
		int64_t x = of ? fl->f[i].pss : fl->f[i].heap;

		if (x >= 0) {
			v[n] = (double)x;
			tm[n] = (double)(fl->f[i].wall - fl->f[0].wall) / 60e9;	/* minutes */
			keep[n++] = 1;
		}
	}
	t->n = n;
	if (n < 6)
		goto out;
	double slope, icept, mad;

	fit(tm, v, keep, n, &slope, &icept);
	for (size_t i = 0; i < n; i++) {
		double e = v[i] - (icept + slope * tm[i]);

		res[i] = e < 0 ? -e : e;
	}
	mad = median(res, n);	/* sorts res: recomputed below */
	for (size_t i = 0; i < n; i++) {
		double e = v[i] - (icept + slope * tm[i]);

		keep[i] = mad == 0 || (e < 0 ? -e : e) <= 4 * 1.4826 * mad;
		m += keep[i];
	}
	if (m < 6) {
		memset(keep, 1, n);
		m = n;
	}
	/*
	 * The kept cycles in GS_TREND_BATCHES batches of consecutive cycles
	 * (as many as there are cycles, up to that), each batch its mean time
	 * and mean floor: the line is fitted to those, and its error comes
	 * from their residuals.
	 */
	size_t nb = m < GS_TREND_BATCHES ? m : GS_TREND_BATCHES, seen = 0;
	double bx[GS_TREND_BATCHES] = { 0 }, by[GS_TREND_BATCHES] = { 0 };
	double bn[GS_TREND_BATCHES] = { 0 };
	char bkeep[GS_TREND_BATCHES];

	for (size_t i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		size_t b = seen++ * nb / m;

		bx[b] += tm[i];
		by[b] += v[i];
		bn[b]++;
	}
	for (size_t b = 0; b < nb; b++) {
		bx[b] /= bn[b];
		by[b] /= bn[b];
		bkeep[b] = 1;
	}
	fit(bx, by, bkeep, nb, &slope, &icept);

	/* the batch residuals' spread and lag-1 autocorrelation */
	double sse = 0, sxx = 0, mx = 0, c0 = 0, c1 = 0;

	for (size_t b = 0; b < nb; b++)
		mx += bx[b] / (double)nb;
	for (size_t b = 0; b < nb; b++) {
		double e = by[b] - (icept + slope * bx[b]);

		sse += e * e;
		sxx += (bx[b] - mx) * (bx[b] - mx);
		c0 += e * e;
		if (b > 0)
			c1 += e * (by[b - 1] - (icept + slope * bx[b - 1]));
	}
	double r = c0 > 0 ? c1 / c0 : 0;

	if (r < 0)
		r = 0;
	if (r > 0.99)
		r = 0.99;
	double se = sxx > 0 ? sqrt(sse / (double)(nb - 2) / sxx) * sqrt((1 + r) / (1 - r)) : 0;

	/* the median floor, and the first and last thirds' median times */
	for (size_t i = 0; i < n; i++)
		res[i] = v[i];
	double med = median(res, n), span = tm[n - 1] - tm[0];
	size_t k = n / 3;
	double ta = tm[k / 2], tb = tm[n - k + k / 2];

	t->judged = 1;
	t->first = icept + slope * ta;
	t->last = icept + slope * tb;
	t->first_wall = fl->f[0].wall + (int64_t)(ta * 60e9);
	t->last_wall = fl->f[0].wall + (int64_t)(tb * 60e9);
	t->per_min = slope;
	t->t_stat = se > 0 ? slope / se : slope != 0 ? (slope > 0 ? 1e9 : -1e9) : 0;
	t->min_change = med * 0.05 > 1048576 ? med * 0.05 : 1048576;
	t->change = slope * span;
	if ((t->t_stat > 3 || t->t_stat < -3) &&
	    (t->change > t->min_change || t->change < -t->min_change))
		t->dir = slope > 0 ? 1 : -1;
out:
	free(v);
	free(tm);
	free(res);
	free(keep);
}

const char *gs_trend_word(const struct gs_trend *t)
{
	return !t->judged ? "not judged" : t->dir > 0 ? "rising" : t->dir < 0 ? "falling" : "flat";
}

void gs_trend_say(char *buf, size_t n, const char *what, const struct gs_trend *t)
{
	if (!t->judged)
		snprintf(buf, n, "%s floor: not judged (%zu cycles with a figure; 6 are needed)", what,
			 t->n);
	else
		snprintf(buf, n, "%s floor: %s, %.1f MiB -> %.1f MiB over %zu cycles (%+.2f MiB/min, "
			 "%+.1f MiB in all, t %.1f; a trend needs |t| > 3 and a change over %.1f MiB)",
			 what, gs_trend_word(t), t->first / 1048576, t->last / 1048576, t->n,
			 t->per_min / 1048576, t->change / 1048576, t->t_stat, t->min_change / 1048576);
}

/*
 * timeline.c - `gsreport timeline`: one row per statm sample, with the
 * latest smaps figures carried forward and the latest cgroup figures.
 * pss_fresh is 1 on a row that brings a new per-mapping read, 2 on one that
 * brings only a rollup (new totals; the classes are carried forward), 0 when
 * everything Pss is carried forward (pss_age_ms says how old it is). Three ordered cursors are merged in
 * one pass, so memory does not grow with the recording's length.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/smaps.h"
#include "goroutines.h"
#include "gsreport.h"

static int64_t col(sqlite3_stmt *s, int i) { return sqlite3_column_int64(s, i); }

/* The goroutine and GC columns of a row (empty or null where unknown). */
static void go_columns(char *buf, size_t n, int json, int64_t numgc, int64_t since_ns,
		       int64_t gor, int64_t gor_age_ns, int64_t gsb, int64_t live, int64_t inuse)
{
	static const char *const names[] = { "gc_cycle", "since_last_gc_ms", "goroutines",
					     "goroutines_age_ms", "goroutine_stack_bytes",
					     "heap_live_bytes", "heap_inuse_bytes" };
	int64_t v[7] = { numgc, since_ns, gor, gor >= 0 ? gor_age_ns : -1, gsb, live, inuse };
	size_t k = 0;

	buf[0] = 0;
	for (int i = 0; i < 7 && k < n; i++) {
		char num[32] = "";

		if (v[i] >= 0 && (i == 1 || i == 3))
			snprintf(num, sizeof(num), "%.1f", (double)v[i] / 1e6);
		else if (v[i] >= 0)
			snprintf(num, sizeof(num), "%" PRId64, v[i]);
		if (json)
			k += (size_t)snprintf(buf + k, n - k, ",\"%s\":%s", names[i], num[0] ? num : "null");
		else
			k += (size_t)snprintf(buf + k, n - k, ",%s", num);
	}
}

int gs_timeline(sqlite3 *db, FILE *out, int json)
{
	sqlite3_stmt *st = NULL, *rd = NULL, *cg = NULL, *hp = NULL;
	struct gs_gosym sym;
	struct gs_gcount gcount;
	struct gs_gcclock gcc;
	int have_go = 0;
	struct gs_wall wc;
	int ret = -1, rd_more, cg_more, nrows = 0;
	int64_t t0 = 0;

	/* Clock anchors (a few): wall time of any monotonic timestamp. */
	if (gs_wall_load(db, &wc) < 0)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT t_ns, rss_bytes, shared_bytes FROM statm ORDER BY t_ns", -1, &st, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT r.id, r.t_ns, r.kind, r.pss_kb, r.swap_kb, c.class, c.pss_kb "
			       "FROM smaps_read r LEFT JOIN smaps_class c ON c.read_id = r.id "
			       "ORDER BY r.id", -1, &rd, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT t_ns, usage_bytes, limit_bytes FROM cgroup ORDER BY rowid", -1, &cg, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT t_ns, heap_live, heap_inuse FROM go_heap ORDER BY rowid", -1, &hp, NULL))
		goto out;
	gs_gosym_open(db, &sym);
	if (gs_gcount_open(db, &gcount, &sym) < 0 || gs_gcclock_open(db, &gcc) < 0) {
		gs_gcount_close(&gcount);
		gs_gosym_close(&sym);
		goto out;
	}
	have_go = 1;
	t0 = wc.n ? wc.a[0].mono : 0;

	if (json)
		fputs("[\n", out);
	else {
		fputs("t_s,wall_ns,rss_bytes,pss_bytes,anon_bytes,swap_bytes,cgroup_usage_bytes,"
		      "cgroup_limit_bytes,pss_fresh,pss_age_ms", out);
		for (int k = 0; k < GS_NCLASSES; k++)
			fprintf(out, ",pss_%s", gs_class_name(k));
		fputs(",gc_cycle,since_last_gc_ms,goroutines,goroutines_age_ms,goroutine_stack_bytes,"
		      "heap_live_bytes,heap_inuse_bytes\n", out);
	}

	int have_pss = 0, have_cls = 0, have_cg = 0, cg_has_limit = 0;
	int64_t pss_kb = 0, swap_kb = 0, pss_t = 0, cls_kb[GS_NCLASSES] = { 0 };
	int64_t cg_usage = 0, cg_limit = 0;

	rd_more = sqlite3_step(rd) == SQLITE_ROW;
	cg_more = sqlite3_step(cg) == SQLITE_ROW;
	int hp_more = sqlite3_step(hp) == SQLITE_ROW;
	int64_t heap_live = -1, heap_inuse = -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t t = col(st, 0), rss = col(st, 1), shared = col(st, 2);
		int fresh = 0;

		if (!wc.n && !nrows)
			t0 = t;
		/* Apply every read at or before t; one read spans several joined rows. */
		while (rd_more && col(rd, 1) <= t) {
			int64_t id = col(rd, 0);
			int full = strcmp((const char *)sqlite3_column_text(rd, 2), "rollup") != 0;

			if (sqlite3_column_type(rd, 3) != SQLITE_NULL) {
				pss_kb = col(rd, 3);
				swap_kb = col(rd, 4);
				pss_t = col(rd, 1);
				have_pss = 1;
				fresh = full ? 1 : 2;
			}
			if (full) {
				memset(cls_kb, 0, sizeof(cls_kb));
				have_cls = 1;
			}
			while (rd_more && col(rd, 0) == id) {
				const unsigned char *c = sqlite3_column_text(rd, 5);

				for (int k = 0; c && k < GS_NCLASSES; k++)
					if (!strcmp((const char *)c, gs_class_name(k)))
						cls_kb[k] = col(rd, 6);
				rd_more = sqlite3_step(rd) == SQLITE_ROW;
			}
		}
		while (cg_more && col(cg, 0) <= t) {
			cg_usage = col(cg, 1);
			cg_has_limit = sqlite3_column_type(cg, 2) != SQLITE_NULL;
			cg_limit = col(cg, 2);
			have_cg = 1;
			cg_more = sqlite3_step(cg) == SQLITE_ROW;
		}
		while (hp_more && col(hp, 0) <= t) {
			heap_live = sqlite3_column_type(hp, 1) == SQLITE_NULL ? -1 : col(hp, 1);
			heap_inuse = sqlite3_column_type(hp, 2) == SQLITE_NULL ? -1 : col(hp, 2);
			hp_more = sqlite3_step(hp) == SQLITE_ROW;
		}
		int64_t wall = gs_wall_at(&wc, t);
		int64_t numgc, last_gc, gor, gor_age, gsb;
		char go[200];

		gs_gcclock_at(&gcc, wall, &numgc, &last_gc);
		gs_gcount_at(&gcount, t, &gor, &gsb, &gor_age);
		go_columns(go, sizeof(go), json, numgc, numgc >= 0 ? wall - last_gc : -1, gor, gor_age,
			   gsb, heap_live, heap_inuse);
		char pss[24] = "", swap[24] = "", age[24] = "", cu[24] = "", cl[24] = "";

		if (have_pss) {
			snprintf(pss, sizeof(pss), "%" PRId64, pss_kb * 1024);
			snprintf(swap, sizeof(swap), "%" PRId64, swap_kb * 1024);
			snprintf(age, sizeof(age), "%.1f", (double)(t - pss_t) / 1e6);
		}
		if (have_cg) {
			snprintf(cu, sizeof(cu), "%" PRId64, cg_usage);
			if (cg_has_limit)
				snprintf(cl, sizeof(cl), "%" PRId64, cg_limit);
		}
		if (json) {
			fprintf(out, "%s{\"t_s\":%.6f,\"wall_ns\":%" PRId64 ",\"rss_bytes\":%" PRId64
				",\"pss_bytes\":%s,\"anon_bytes\":%" PRId64 ",\"swap_bytes\":%s"
				",\"cgroup_usage_bytes\":%s,\"cgroup_limit_bytes\":%s"
				",\"pss_fresh\":%d,\"pss_age_ms\":%s",
				nrows ? ",\n" : "", (double)(t - t0) / 1e9, wall, rss,
				pss[0] ? pss : "null", rss - shared, swap[0] ? swap : "null",
				cu[0] ? cu : "null", cl[0] ? cl : "null", fresh, age[0] ? age : "null");
			for (int k = 0; k < GS_NCLASSES; k++) {
				if (have_cls)
					fprintf(out, ",\"pss_%s\":%" PRId64, gs_class_name(k), cls_kb[k] * 1024);
				else
					fprintf(out, ",\"pss_%s\":null", gs_class_name(k));
			}
			fprintf(out, "%s}", go);
		} else {
			fprintf(out, "%.6f,%" PRId64 ",%" PRId64 ",%s,%" PRId64 ",%s,%s,%s,%d,%s",
				(double)(t - t0) / 1e9, wall, rss, pss, rss - shared, swap, cu, cl,
				fresh, age);
			for (int k = 0; k < GS_NCLASSES; k++) {
				if (have_cls)
					fprintf(out, ",%" PRId64, cls_kb[k] * 1024);
				else
					fputc(',', out);
			}
			fprintf(out, "%s\n", go);
		}
		nrows++;
	}
	if (json)
		fputs(nrows ? "\n]\n" : "]\n", out);
	ret = ferror(out) ? -1 : 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(rd);
	sqlite3_finalize(cg);
	sqlite3_finalize(hp);
	if (have_go) {
		gs_gcount_close(&gcount);
		gs_gcclock_close(&gcc);
		gs_gosym_close(&sym);
	}
	gs_wall_free(&wc);
	return ret;
}

/* A trend as JSON, or as a sentence. */
static void trend_json(FILE *out, const char *name, const struct gs_trend *t)
{
	fprintf(out, ",\n\"%s\":{\"cycles\":%zu,\"verdict\":\"%s\"", name, t->n, gs_trend_word(t));
	if (t->judged)
		fprintf(out, ",\"first_bytes\":%.0f,\"last_bytes\":%.0f,\"bytes_per_min\":%.0f,"
			"\"first_wall_ns\":%" PRId64 ",\"last_wall_ns\":%" PRId64 ",\"change_bytes\":%.0f,"
			"\"t\":%.2f,\"min_change_bytes\":%.0f", t->first, t->last, t->per_min,
			t->first_wall, t->last_wall, t->change, t->t_stat, t->min_change);
	fputc('}', out);
}

/*
 * --align gc: each statm row with its cycle and the time since that
 * cycle's LastGC, so cycles can be laid over one another; then the floors
 * of the cycles and whether they rise.
 */
int gs_timeline_gc(sqlite3 *db, FILE *out, int json, char *msg, size_t msglen)
{
	sqlite3_stmt *st = NULL, *hp = NULL;
	struct gs_wall wc;
	struct gs_gcclock gcc = { 0 };
	struct gs_memat mem = { 0 };
	struct gs_gosym sym;
	struct gs_gcount gcount;
	struct gs_floors fl = { 0 };
	int ret = -1, nrows = 0, opened = 0;

	if (gs_wall_load(db, &wc) < 0)
		return -1;
	gs_gosym_open(db, &sym);
	if (gs_gcclock_open(db, &gcc) < 0 || gs_memat_open(db, &mem) < 0 ||
	    gs_gcount_open(db, &gcount, &sym) < 0 ||
	    sqlite3_prepare_v2(db, "SELECT t_ns FROM statm ORDER BY t_ns", -1, &st, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT t_ns, heap_live FROM go_heap ORDER BY rowid", -1, &hp, NULL))
		goto out;
	opened = 1;
	int64_t t0 = wc.n ? wc.a[0].mono : 0, heap = -1;
	int hp_more = sqlite3_step(hp) == SQLITE_ROW;

	fputs(json ? "{\"rows\":[\n" : "cycle,since_last_gc_ms,t_s,wall_ns,rss_bytes,pss_bytes,"
	      "heap_live_bytes,goroutines\n", out);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t t = col(st, 0), wall = gs_wall_at(&wc, t), numgc, last_gc, rss, pss, gor, gsb;

		gs_gcclock_at(&gcc, wall, &numgc, &last_gc);
		gs_memat_at(&mem, t, &rss, &pss);
		gs_gcount_at(&gcount, t, &gor, &gsb, NULL);	/* exact counts only */
		while (hp_more && col(hp, 0) <= t) {
			heap = sqlite3_column_type(hp, 1) == SQLITE_NULL ? -1 : col(hp, 1);
			hp_more = sqlite3_step(hp) == SQLITE_ROW;
		}
		if (numgc < 0)
			continue;	/* before the first cycle gsrec read */
		char v[3][24];
		int64_t x[3] = { pss, heap, gor };

		for (int i = 0; i < 3; i++)
			snprintf(v[i], sizeof(v[i]), x[i] < 0 ? (json ? "null" : "") : "%" PRId64, x[i]);
		if (json)
			fprintf(out, "%s{\"cycle\":%" PRId64 ",\"since_last_gc_ms\":%.1f,\"t_s\":%.6f,"
				"\"wall_ns\":%" PRId64 ",\"rss_bytes\":%" PRId64 ",\"pss_bytes\":%s,"
				"\"heap_live_bytes\":%s,\"goroutines\":%s}", nrows ? ",\n" : "", numgc,
				(double)(wall - last_gc) / 1e6, (double)(t - t0) / 1e9, wall, rss, v[0],
				v[1], v[2]);
		else
			fprintf(out, "%" PRId64 ",%.1f,%.6f,%" PRId64 ",%" PRId64 ",%s,%s,%s\n", numgc,
				(double)(wall - last_gc) / 1e6, (double)(t - t0) / 1e9, wall, rss, v[0],
				v[1], v[2]);
		nrows++;
	}
	if (gs_floors_load(db, &fl) < 0)
		goto out;
	struct gs_trend th, tp;

	gs_trend_of(&fl, 0, &th);
	gs_trend_of(&fl, 1, &tp);
	if (json) {
		fputs(nrows ? "\n],\n\"floors\":[" : "],\n\"floors\":[", out);
		for (size_t i = 0; i < fl.n; i++)
			fprintf(out, "%s{\"cycle\":%" PRId64 ",\"last_gc_unix_ns\":%" PRId64
				",\"heap_floor_bytes\":%" PRId64 ",\"pss_floor_bytes\":%" PRId64 "}",
				i ? ",\n" : "\n", fl.f[i].cycle, fl.f[i].wall, fl.f[i].heap, fl.f[i].pss);
		fputs(fl.n ? "\n]" : "]", out);
		trend_json(out, "heap_floor", &th);
		trend_json(out, "pss_floor", &tp);
		fputs("}\n", out);
	}
	if (!nrows) {
		snprintf(msg, msglen, "the trace has no GC cycle to align to (not a Go program, or "
			 "neither memstats nor the GC probes were available: see `gsreport summary`)");
	} else {
		char a[200], b[200];

		gs_trend_say(a, sizeof(a), "heap", &th);
		gs_trend_say(b, sizeof(b), "Pss", &tp);
		snprintf(msg, msglen, "%s; %s", a, b);
	}
	ret = ferror(out) ? -1 : 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(hp);
	if (opened)
		gs_gcount_close(&gcount);
	gs_memat_close(&mem);
	gs_gcclock_close(&gcc);
	gs_gosym_close(&sym);
	gs_floors_free(&fl);
	gs_wall_free(&wc);
	return ret;
}

/*
 * heapreport.c - `gsreport heap`: the Go heap in use by allocation site
 * over the GC cycles, from the runtime's own heap profile (heap.h), sites
 * whose in-use bytes keep rising flagged as likely leaks, and the largest
 * allocation stacks in full.
 *
 * A site is the function that allocated (the innermost frame once the
 * runtime's allocation frames are left out, as pprof's -top lists them).
 * Snapshots are replayed in order (heap_count holds only what changed);
 * up to NPOINTS of them, spread over the recording, are kept per site for
 * the judgement and NCOLS of those are shown.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goroutines.h"
#include "gsreport.h"
#include "heap.h"

#define NPOINTS	64
#define NCOLS	8

struct snapinfo {
	int64_t seq, cycle, t_ns;
	uint64_t rate;
};

struct site {
	char *name;
	int64_t bytes[NPOINTS];		/* at each kept point */
	int64_t at_bytes, at_objects;	/* at the chosen snapshot */
	int leak;
	struct gs_trend trend;
	size_t first;			/* the first point where it held anything */
};

struct hstate {
	struct snapinfo *s;		/* known snapshots, the last of each cycle */
	size_t ns;
	size_t point[NPOINTS];		/* indexes into s */
	size_t np;
	struct site *site;
	size_t nsite, capsite;
	int64_t *bucket_site;		/* bucket id -> site, -1 unknown */
	uint64_t *bucket_size;
	int64_t *bucket_stack;
	size_t nbucket;
};

static void human(char *b, size_t n, double v)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	double a = v < 0 ? -v : v;

	while (a >= 1024 && i < 4) {
		a /= 1024;
		v /= 1024;
		i++;
	}
	snprintf(b, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static int load_snaps(sqlite3 *db, struct hstate *h)
{
	sqlite3_stmt *s;

	/* the last snapshot of each cycle: a cycle published early by
	 * runtime.GC() can be read twice */
	if (sqlite3_prepare_v2(db, "SELECT seq, cycle, t_ns, rate FROM heap_snapshot s WHERE known "
			       "AND seq = (SELECT max(seq) FROM heap_snapshot WHERE known AND cycle = "
			       "s.cycle) ORDER BY seq", -1, &s, NULL))
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct snapinfo *p = realloc(h->s, (h->ns + 1) * sizeof(*p));

		if (!p) {
			sqlite3_finalize(s);
			return -1;
		}
		h->s = p;
		p[h->ns].seq = sqlite3_column_int64(s, 0);
		p[h->ns].cycle = sqlite3_column_int64(s, 1);
		p[h->ns].t_ns = sqlite3_column_int64(s, 2);
		p[h->ns].rate = (uint64_t)sqlite3_column_int64(s, 3);
		h->ns++;
	}
	sqlite3_finalize(s);
	return 0;
}

static int64_t site_of(struct hstate *h, const char *name)
{
	for (size_t i = 0; i < h->nsite; i++)
		if (!strcmp(h->site[i].name, name))
			return (int64_t)i;
	if (h->nsite == h->capsite) {
		size_t nc = h->capsite ? h->capsite * 2 : 64;
		struct site *p = realloc(h->site, nc * sizeof(*p));

		if (!p)
			return -1;
		h->site = p;
		h->capsite = nc;
	}
	struct site *s = &h->site[h->nsite];

	memset(s, 0, sizeof(*s));
	if (!(s->name = strdup(name)))
		return -1;
	s->first = SIZE_MAX;
	return (int64_t)h->nsite++;
}

/* Buckets: their size, stack and site (the leaf of their stack). */
static int load_buckets(sqlite3 *db, struct hstate *h, struct gs_stacks *st)
{
	sqlite3_stmt *s;
	int64_t maxid = 0;

	if (sqlite3_prepare_v2(db, "SELECT max(id) FROM heap_bucket", -1, &s, NULL))
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		maxid = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	h->nbucket = (size_t)maxid + 1;
	h->bucket_site = malloc(h->nbucket * sizeof(*h->bucket_site));
	h->bucket_size = calloc(h->nbucket, sizeof(*h->bucket_size));
	h->bucket_stack = malloc(h->nbucket * sizeof(*h->bucket_stack));
	if (!h->bucket_site || !h->bucket_size || !h->bucket_stack)
		return -1;
	for (size_t i = 0; i < h->nbucket; i++)
		h->bucket_site[i] = h->bucket_stack[i] = -1;
	if (sqlite3_prepare_v2(db, "SELECT id, stack_id, size FROM heap_bucket", -1, &s, NULL))
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);

		if (id <= 0 || id > maxid)
			continue;
		h->bucket_stack[id] = sqlite3_column_int64(s, 1);
		h->bucket_size[id] = (uint64_t)sqlite3_column_int64(s, 2);
		const char *text = gs_stacks_text(st, h->bucket_stack[id], 0);
		const char *leaf = strrchr(text, ';');

		if ((h->bucket_site[id] = site_of(h, leaf ? leaf + 1 : text)) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
	}
	sqlite3_finalize(s);
	return 0;
}

/*
 * Replay the counts in snapshot order; at each kept point, each site's
 * unsampled in-use bytes.
 */
static int replay(sqlite3 *db, struct hstate *h)
{
	sqlite3_stmt *s;
	uint64_t *allocs = calloc(h->nbucket, sizeof(*allocs)), *frees = calloc(h->nbucket, 8);
	size_t k = 0;
	int ret = -1;

	if (!allocs || !frees ||
	    sqlite3_prepare_v2(db, "SELECT s.seq, s.full, c.bucket_id, c.allocs, c.frees FROM "
			       "heap_snapshot s LEFT JOIN heap_count c ON c.seq = s.seq ORDER BY s.seq",
			       -1, &s, NULL))
		goto out;
	int64_t cur = -1;

	for (;;) {
		int rc = sqlite3_step(s);
		int64_t q = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : INT64_MAX;

		/* a snapshot ended: is it a kept point? */
		while (cur >= 0 && q != cur && k < h->np && h->s[h->point[k]].seq == cur) {
			uint64_t rate = h->s[h->point[k]].rate;

			for (size_t b = 1; b < h->nbucket; b++) {
				int64_t obj, bytes, si = h->bucket_site[b];

				if (si < 0 || allocs[b] <= frees[b])
					continue;
				gs_heap_unsample(allocs[b] - frees[b], h->bucket_size[b], rate, &obj,
						 &bytes);
				h->site[si].bytes[k] += bytes;
				if (h->site[si].first == SIZE_MAX)
					h->site[si].first = k;
			}
			k++;
		}
		if (rc != SQLITE_ROW)
			break;
		if (q != cur && sqlite3_column_int(s, 1)) {	/* full: counts start over */
			memset(allocs, 0, h->nbucket * 8);
			memset(frees, 0, h->nbucket * 8);
		}
		cur = q;
		if (sqlite3_column_type(s, 2) == SQLITE_NULL)
			continue;
		int64_t b = sqlite3_column_int64(s, 2);

		if (b > 0 && (size_t)b < h->nbucket) {
			allocs[b] = (uint64_t)sqlite3_column_int64(s, 3);
			frees[b] = (uint64_t)sqlite3_column_int64(s, 4);
		}
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	free(allocs);
	free(frees);
	return ret;
}

/*
 * A likely leak: from the first point where the site held anything, at
 * least 8 points, a rising trend (the goroutine floors' test: a slope
 * significant against the spread, and a change that matters) and the least
 * in-use bytes of each quarter of those points above the quarter's before.
 */
static void judge(struct hstate *h, struct site *st)
{
	size_t from = st->first, n = from == SIZE_MAX ? 0 : h->np - from;
	struct gs_floor f[NPOINTS];
	struct gs_floors fl = { f, n };

	if (n < 8)
		return;
	for (size_t i = 0; i < n; i++)
		f[i] = (struct gs_floor){ h->s[h->point[from + i]].cycle,
					  h->s[h->point[from + i]].t_ns, st->bytes[from + i], -1 };
	gs_trend_of(&fl, 0, &st->trend);
	if (st->trend.dir != 1)
		return;
	int64_t prev = -1;

	for (int q = 0; q < 4; q++) {
		int64_t least = INT64_MAX;

		for (size_t i = n * (size_t)q / 4; i < n * (size_t)(q + 1) / 4; i++)
			if (st->bytes[from + i] < least)
				least = st->bytes[from + i];
		if (least <= prev)
			return;
		prev = least;
	}
	st->leak = 1;
}

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	return (x->at_bytes < y->at_bytes) - (x->at_bytes > y->at_bytes);
}

static void hstate_free(struct hstate *h)
{
	for (size_t i = 0; i < h->nsite; i++)
		free(h->site[i].name);
	free(h->site);
	free(h->s);
	free(h->bucket_site);
	free(h->bucket_size);
	free(h->bucket_stack);
}

/* Load, replay and judge; 1 with msg when there is no heap profile. */
static int analyse(sqlite3 *db, struct hstate *h, struct gs_stacks **st, char *msg, size_t msglen)
{
	struct gs_heap_snap any = { 0 };
	int r = gs_heap_pick(db, "end", -1, &any, msg, msglen);

	memset(h, 0, sizeof(*h));
	if (r)
		return r;
	if (!(*st = gs_stacks_open_heap(db))) {
		snprintf(msg, msglen, "the trace's stacks cannot be read");
		return 1;
	}
	if (load_snaps(db, h) < 0 || load_buckets(db, h, *st) < 0)
		return -1;
	h->np = h->ns < NPOINTS ? h->ns : NPOINTS;
	for (size_t i = 0; i < h->np; i++)
		h->point[i] = h->np > 1 ? i * (h->ns - 1) / (h->np - 1) : h->ns - 1;
	if (replay(db, h) < 0)
		return -1;
	for (size_t i = 0; i < h->nsite; i++)
		judge(h, &h->site[i]);
	return 0;
}

int gs_heap_leaks(sqlite3 *db, FILE *out, int max)
{
	struct hstate h;
	struct gs_stacks *st = NULL;
	char msg[256];
	int n = 0, r = analyse(db, &h, &st, msg, sizeof(msg));

	if (r == 0)
		for (size_t i = 0; i < h.nsite; i++) {
			struct site *s = &h.site[i];
			char a[32], b[32], rate[32];

			if (!s->leak)
				continue;
			if (n++ >= max)
				continue;
			human(a, sizeof(a), s->trend.first);
			human(b, sizeof(b), s->trend.last);
			human(rate, sizeof(rate), s->trend.per_min);
			fprintf(out, "    %s: in-use heap rising, %s -> %s (%s/min)\n", s->name, a, b, rate);
		}
	gs_stacks_close(st);
	hstate_free(&h);
	return r < 0 ? -1 : n;
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

int gs_heap_report(sqlite3 *db, FILE *out, const struct gs_heap_opts *o, char *msg,
		   size_t msglen)
{
	struct hstate h;
	struct gs_stacks *st = NULL;
	struct gs_heap_snap at = { 0 };
	struct gs_heap_site *v = NULL;
	size_t nv = 0;
	int ret = analyse(db, &h, &st, msg, msglen);

	if (ret)
		goto out;
	if ((ret = gs_heap_pick(db, o->at, o->cycle, &at, msg, msglen)) != 0)
		goto out;
	ret = -1;
	if (gs_heap_state(db, &at, &v, &nv) < 0)
		goto out;
	int64_t total = 0, objects = 0, t0 = 0;
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, "SELECT min(mono_ns) FROM clock", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			t0 = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	for (size_t i = 0; i < nv; i++) {
		int64_t si = v[i].bucket > 0 && (size_t)v[i].bucket < h.nbucket ?
			     h.bucket_site[v[i].bucket] : -1;

		total += v[i].inuse_bytes;
		objects += v[i].inuse_objects;
		if (si >= 0) {
			h.site[si].at_bytes += v[i].inuse_bytes;
			h.site[si].at_objects += v[i].inuse_objects;
		}
	}
	size_t nsite = h.nsite, nleak = 0, live = 0;

	for (size_t i = 0; i < nsite; i++) {
		nleak += h.site[i].leak;
		live += h.site[i].at_bytes > 0;
	}
	qsort(h.site, nsite, sizeof(*h.site), cmp_site);
	double at_s = (double)(at.t_ns - t0) / 1e9;
	char tb[32], rb[32];

	human(tb, sizeof(tb), (double)total);
	human(rb, sizeof(rb), (double)at.rate);
	/* the columns: NCOLS of the kept points */
	size_t col[NCOLS], ncol = h.np < NCOLS ? h.np : NCOLS;

	for (size_t c = 0; c < ncol; c++)
		col[c] = ncol > 1 ? c * (h.np - 1) / (ncol - 1) : h.np - 1;
	if (o->json) {
		fprintf(out, "{\"at_s\": %.3f, \"cycle\": %lld, \"inuse_bytes\": %lld, "
			"\"inuse_objects\": %lld, \"rate\": %llu, \"snapshots\": %zu, \"columns\": [",
			at_s, (long long)at.cycle, (long long)total, (long long)objects,
			(unsigned long long)at.rate, h.ns);
		for (size_t c = 0; c < ncol; c++)
			fprintf(out, "%s{\"cycle\": %lld, \"t_s\": %.3f}", c ? ", " : "",
				(long long)h.s[h.point[col[c]]].cycle,
				(double)(h.s[h.point[col[c]]].t_ns - t0) / 1e9);
		fprintf(out, "], \"sites\": [");
		int first = 1;

		for (size_t i = 0, shown = 0; i < nsite; i++) {
			struct site *si = &h.site[i];

			if (o->sites && shown >= (size_t)o->sites && !si->leak)
				continue;
			shown++;
			fprintf(out, "%s\n  {\"function\": ", first ? "" : ",");
			first = 0;
			json_str(out, si->name);
			fprintf(out, ", \"inuse_bytes\": %lld, \"inuse_objects\": %lld, \"leak\": %s, "
				"\"per_min_bytes\": %.0f, \"bytes\": [", (long long)si->at_bytes,
				(long long)si->at_objects, si->leak ? "true" : "false",
				si->trend.judged ? si->trend.per_min : 0.0);
			for (size_t c = 0; c < ncol; c++)
				fprintf(out, "%s%lld", c ? ", " : "", (long long)si->bytes[col[c]]);
			fprintf(out, "]}");
		}
		fprintf(out, "]}\n");
		ret = ferror(out) ? -1 : 0;
		goto out;
	}
	fprintf(out, "Go heap in use at %.1f s (as of GC cycle %lld): %s in %lld objects, %zu "
		"allocation sites (sampled 1 in %s, scaled up as pprof does)\n\n", at_s,
		(long long)at.cycle, tb, (long long)objects, live, rb);
	if (!nleak && h.ns < 9) {
		fprintf(out, "Likely leaks: too few snapshots to judge (%zu; a site needs 8 from the "
			"first that holds anything)\n\n", h.ns);
	} else if (!nleak) {
		fprintf(out, "Likely leaks: none (no site's in-use bytes kept rising over %zu "
			"snapshots, %.1f s)\n\n", h.ns,
			h.ns ? (double)(h.s[h.ns - 1].t_ns - h.s[0].t_ns) / 1e9 : 0.0);
	} else {
		fprintf(out, "Likely leaks (in-use bytes rising snapshot over snapshot):\n");
		for (size_t i = 0; i < nsite; i++) {
			struct site *si = &h.site[i];
			char a[32], b[32], r[32];

			if (!si->leak)
				continue;
			human(a, sizeof(a), si->trend.first);
			human(b, sizeof(b), si->trend.last);
			human(r, sizeof(r), si->trend.per_min);
			fprintf(out, "  LEAK %s: %s -> %s over %zu snapshots (%s/min)\n", si->name, a, b,
				si->trend.n, r);
		}
		fputc('\n', out);
	}
	fprintf(out, "In-use bytes by allocation site, at the snapshots of GC cycles");
	for (size_t c = 0; c < ncol; c++)
		fprintf(out, " %lld", (long long)h.s[h.point[col[c]]].cycle);
	fprintf(out, " (");
	for (size_t c = 0; c < ncol; c++)
		fprintf(out, "%s%.1f", c ? " " : "", (double)(h.s[h.point[col[c]]].t_ns - t0) / 1e9);
	fprintf(out, " s):\n");
	for (size_t i = 0, shown = 0; i < nsite; i++) {
		struct site *si = &h.site[i];
		char b[32];

		if (o->sites && shown >= (size_t)o->sites && !si->leak)
			continue;
		if (!si->at_bytes && !si->leak) {
			int any = 0;

			for (size_t c = 0; c < ncol; c++)
				any |= si->bytes[col[c]] != 0;
			if (!any)
				continue;
		}
		shown++;
		fprintf(out, "  %s%s\n    ", si->leak ? "LEAK " : "", si->name);
		for (size_t c = 0; c < ncol; c++) {
			human(b, sizeof(b), (double)si->bytes[col[c]]);
			fprintf(out, "%s%s", c ? " | " : "", b);
		}
		human(b, sizeof(b), (double)si->at_bytes);
		fprintf(out, "; at %.1f s: %s in %lld objects\n", at_s, b, (long long)si->at_objects);
	}
	/* the largest stacks, in full */
	fprintf(out, "\nLargest allocation stacks at %.1f s:\n", at_s);
	for (int k = 0; k < o->top; k++) {
		size_t best = SIZE_MAX;

		for (size_t i = 0; i < nv; i++)
			if (v[i].inuse_bytes > 0 && (best == SIZE_MAX || v[i].inuse_bytes > v[best].inuse_bytes))
				best = i;
		if (best == SIZE_MAX)
			break;
		char b[32], sz[32];

		human(b, sizeof(b), (double)v[best].inuse_bytes);
		human(sz, sizeof(sz), (double)v[best].size);
		fprintf(out, "  #%d %s in %lld objects of %s\n", k + 1, b,
			(long long)v[best].inuse_objects, sz);
		const char *text = gs_stacks_text(st, v[best].stack_id, 0);
		const char *end = text + strlen(text);

		while (end > text) {	/* innermost first */
			const char *p = end;

			while (p > text && p[-1] != ';')
				p--;
			fprintf(out, "      %.*s\n", (int)(end - p), p);
			end = p > text ? p - 1 : p;
		}
		v[best].inuse_bytes = 0;
	}
	ret = ferror(out) ? -1 : 0;
out:
	free(v);
	gs_stacks_close(st);
	hstate_free(&h);
	return ret;
}

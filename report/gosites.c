/*
 * gosites.c - `gsreport goroutines`: live goroutines by creation site over
 * the recording, the sites whose count keeps rising (likely leaks), and the
 * goroutines with the largest stacks, with their stacks.
 *
 * Everything comes from the censuses (walks of runtime.allgs), so it works
 * without eBPF and counts the goroutines that predate the recording. Sites
 * are streamed census by census: memory grows with the number of sites, not
 * with the recording's length.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "goroutines.h"
#include "gsreport.h"

#define NPTS 8			/* censuses shown as the count over time */

struct census {
	int64_t id, t, cpu, allglen, stack_bytes, status[10];
};

struct site {
	uint64_t gopc, startpc;
	int sys, leak;
	int64_t pts[NPTS];		/* count at the shown censuses */
	int64_t qmin[4];		/* least count in each quarter of the censuses */
	int64_t qat[4];			/* the census where each was first seen */
	int64_t max, at, at_bytes;	/* at: at the chosen census */
	int64_t last;			/* index of the last census listing it, -1 */
};

struct sites {
	struct site *s;
	size_t n, cap;
	size_t *slot;			/* open addressing: index + 1, 0 empty */
	size_t nslot;
};

static int64_t col(sqlite3_stmt *s, int i) { return sqlite3_column_int64(s, i); }

static size_t site_hash(uint64_t gopc, uint64_t startpc)
{
	return (size_t)((gopc * 0x9e3779b97f4a7c15ull) ^ (startpc * 0xc2b2ae3d27d4eb4full));
}

static struct site *site_get(struct sites *ss, uint64_t gopc, uint64_t startpc)
{
	if (ss->n * 2 >= ss->nslot) {
		size_t ns = ss->nslot ? ss->nslot * 2 : 256, *sl = calloc(ns, sizeof(*sl));

		if (!sl)
			return NULL;
		for (size_t i = 0; i < ss->n; i++) {
			size_t j = site_hash(ss->s[i].gopc, ss->s[i].startpc) & (ns - 1);

			while (sl[j])
				j = (j + 1) & (ns - 1);
			sl[j] = i + 1;
		}
		free(ss->slot);
		ss->slot = sl;
		ss->nslot = ns;
	}
	size_t j = site_hash(gopc, startpc) & (ss->nslot - 1);

	for (; ss->slot[j]; j = (j + 1) & (ss->nslot - 1)) {
		struct site *s = &ss->s[ss->slot[j] - 1];

		if (s->gopc == gopc && s->startpc == startpc)
			return s;
	}
	if (ss->n == ss->cap) {
		size_t nc = ss->cap ? ss->cap * 2 : 64;
		struct site *a = realloc(ss->s, nc * sizeof(*a));

		if (!a)
			return NULL;
		ss->s = a;
		ss->cap = nc;
	}
	struct site *s = &ss->s[ss->n];

	memset(s, 0, sizeof(*s));
	s->gopc = gopc;
	s->startpc = startpc;
	s->last = -1;
	for (int q = 0; q < 4; q++)
		s->qmin[q] = INT64_MAX;
	ss->slot[j] = ++ss->n;
	return s;
}

/* The quarter census index i (of k) falls in. */
static int quarter(int64_t i, int64_t k) { return (int)(i * 4 / k); }

/* The site had no goroutine in censuses a..b. */
static void site_gap(struct site *s, int64_t a, int64_t b, int64_t k)
{
	if (a > b)
		return;
	for (int q = quarter(a, k); q <= quarter(b, k); q++)
		if (s->qmin[q] > 0) {
			s->qmin[q] = 0;
			s->qat[q] = q == quarter(a, k) ? a : (q * k + 3) / 4;
		}
}

/*
 * Likely a leak: the site's floor (its least live count in a quarter of the
 * recording) rose in at least two of the three steps from quarter to
 * quarter and fell in none. Goroutines that come and go with the load keep
 * their floor; leaked ones raise it. The runtime's own goroutines are left
 * out.
 */
static int is_leak(const struct site *s)
{
	int rises = 0;

	if (s->sys)
		return 0;
	for (int q = 0; q < 3; q++) {
		if (s->qmin[q + 1] < s->qmin[q])
			return 0;
		rises += s->qmin[q + 1] > s->qmin[q];
	}
	return rises >= 2;
}

static const char *status_name(int64_t st)
{
	static const char *const names[] = { "idle", "runnable", "running", "syscall", "waiting",
					     "moribund", "dead", "enqueue", "copystack", "preempted" };

	return st >= 0 && st < 10 ? names[st] : "unknown";
}

/* "func file:line" of a creation site's go statement (gopc, a return address). */
static void site_where(struct gs_gosym *sym, uint64_t gopc, char *buf, size_t n)
{
	struct gs_symframe f;

	if (sym->ok && gopc &&
	    gs_object_symbolize(sym->main, gopc - 1 - (uint64_t)sym->bias, 0, &f, 1) == 1) {
		const char *slash = strrchr(f.file, '/');

		snprintf(buf, n, "%.*s (%s:%d)", f.func_len, f.func, slash ? slash + 1 : f.file,
			 f.line);
	} else {
		snprintf(buf, n, gopc ? "0x%" PRIx64 : "(none: a runtime goroutine)", gopc);
	}
}

static void start_name(struct gs_gosym *sym, uint64_t startpc, char *buf, size_t n)
{
	int len;
	const char *f = gs_gosym_func(sym, startpc, &len);

	if (len == 1 && f[0] == '?')
		snprintf(buf, n, "0x%" PRIx64, startpc);
	else
		snprintf(buf, n, "%.*s", len, f);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void human(char *buf, size_t n, int64_t b)
{
	if (b >= 1 << 20)
		snprintf(buf, n, "%.1f MiB", (double)b / (1 << 20));
	else if (b >= 1 << 10)
		snprintf(buf, n, "%.1f KiB", (double)b / (1 << 10));
	else
		snprintf(buf, n, "%" PRId64 " B", b);
}

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	if (x->leak != y->leak)
		return y->leak - x->leak;
	if (x->at != y->at)
		return x->at < y->at ? 1 : -1;
	if (x->max != y->max)
		return x->max < y->max ? 1 : -1;
	return (x->gopc > y->gopc) - (x->gopc < y->gopc);
}

/* The census for --at: the last at or before that moment, or the peak. */
static int64_t pick(const struct census *cs, int64_t k, const char *at, int64_t t0)
{
	if (!at || !strcmp(at, "end"))
		return k - 1;
	if (!strcmp(at, "peak")) {
		int64_t best = 0, bn = -1;

		for (int64_t i = 0; i < k; i++) {
			int64_t n = cs[i].allglen - cs[i].status[6];

			if (n > bn) {
				bn = n;
				best = i;
			}
		}
		return best;
	}
	int64_t t = t0 + (int64_t)(atof(at) * 1e9), best = 0;

	for (int64_t i = 0; i < k; i++)
		if (cs[i].t <= t)
			best = i;
	return best;
}

/* Whether a stack (root first) reaches the goroutine's first frame. */
static int complete(const char *folded)
{
	return !strncmp(folded, "runtime.goexit", 14) || !strncmp(folded, "runtime.mstart", 14);
}

/* One goroutine's stack, innermost first, runs of one function collapsed. */
static void print_stack(FILE *out, const char *folded, int json, const char *indent)
{
	const char *fr[256];
	int len[256], n = 0;

	for (const char *p = folded; *p && n < 256;) {
		const char *e = strchr(p, ';');

		fr[n] = p;
		len[n++] = e ? (int)(e - p) : (int)strlen(p);
		if (!e)
			break;
		p = e + 1;
	}
	int first = 1;

	for (int i = n - 1; i >= 0;) {
		int j = i;

		while (j > 0 && len[j - 1] == len[i] && !memcmp(fr[j - 1], fr[i], (size_t)len[i]))
			j--;
		int reps = i - j + 1;
		char name[600];

		if (reps > 1)
			snprintf(name, sizeof(name), "%.*s (x%d)", len[i], fr[i], reps);
		else
			snprintf(name, sizeof(name), "%.*s", len[i], fr[i]);
		if (json) {
			fputs(first ? "" : ",", out);
			json_str(out, name);
		} else {
			fprintf(out, "%s%s\n", indent, name);
		}
		first = 0;
		i = j - 1;
	}
}

/* The censuses and their sites, with each site's leak judgment. */
struct gsr {
	struct census *cs;
	int64_t k, atc, t0;
	struct sites ss;
	struct gs_gosym sym;
	int npts, nleaks;
	int64_t pt[NPTS], users;
};

static void gsr_free(struct gsr *r)
{
	gs_gosym_close(&r->sym);
	free(r->ss.s);
	free(r->ss.slot);
	free(r->cs);
	memset(r, 0, sizeof(*r));
}

/* 0, 1 without a census, -1 on errors. */
static int gsr_load(sqlite3 *db, const char *at, struct gsr *r)
{
	sqlite3_stmt *s = NULL;
	int64_t k = 0;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	gs_gosym_open(db, &r->sym);
	if (sqlite3_prepare_v2(db, "SELECT min(mono_ns) FROM clock", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		r->t0 = col(s, 0);
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "SELECT id, t_ns, cpu_ns, allglen, stack_bytes, idle, runnable, "
			       "running, syscall, waiting, dead, copystack, preempted FROM census "
			       "ORDER BY id", -1, &s, NULL))
		goto out;
	for (size_t cap = 0; sqlite3_step(s) == SQLITE_ROW; k++) {
		if ((size_t)k == cap) {
			cap = cap ? cap * 2 : 256;
			struct census *a = realloc(r->cs, cap * sizeof(*a));

			if (!a)
				goto out;
			r->cs = a;
		}
		struct census *c = &r->cs[k];
		static const int st[8] = { 0, 1, 2, 3, 4, 6, 8, 9 };

		memset(c, 0, sizeof(*c));
		c->id = col(s, 0);
		c->t = col(s, 1);
		c->cpu = col(s, 2);
		c->allglen = col(s, 3);
		c->stack_bytes = col(s, 4);
		for (int i = 0; i < 8; i++)
			c->status[st[i]] = col(s, 5 + i);
	}
	sqlite3_finalize(s);
	s = NULL;
	r->k = k;
	if (!k) {
		ret = 1;
		goto out;
	}
	struct census *cs = r->cs;
	int64_t atc = r->atc = pick(cs, k, at, r->t0);
	int npts = r->npts = k < NPTS ? (int)k : NPTS;

	for (int p = 0; p < npts; p++)
		r->pt[p] = npts > 1 ? (int64_t)p * (k - 1) / (npts - 1) : 0;

	/* stream the sites census by census */
	if (sqlite3_prepare_v2(db, "SELECT census_id, gopc, startpc, count, stack_bytes FROM "
			       "census_site ORDER BY census_id", -1, &s, NULL))
		goto out;
	int64_t ci = 0;

	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t id = col(s, 0), n = col(s, 3);

		while (ci < k && cs[ci].id < id)
			ci++;
		if (ci == k || cs[ci].id != id)
			continue;
		struct site *st = site_get(&r->ss, (uint64_t)col(s, 1), (uint64_t)col(s, 2));

		if (!st)
			goto out;
		if (k >= 4)
			site_gap(st, st->last + 1, ci - 1, k);
		st->last = ci;
		if (k >= 4 && n < st->qmin[quarter(ci, k)]) {
			st->qmin[quarter(ci, k)] = n;
			st->qat[quarter(ci, k)] = ci;
		}
		if (n > st->max)
			st->max = n;
		for (int p = 0; p < npts; p++)
			if (r->pt[p] == ci)
				st->pts[p] = n;
		if (ci == atc) {
			st->at = n;
			st->at_bytes = col(s, 4);
		}
	}
	for (size_t i = 0; i < r->ss.n; i++) {
		struct site *st = &r->ss.s[i];

		if (k >= 4)
			site_gap(st, st->last + 1, k - 1, k);
		st->sys = gs_gosym_is_system(&r->sym, st->startpc);
		st->leak = k >= 4 && is_leak(st);
		r->nleaks += st->leak;
		if (!st->sys)
			r->users += st->at;
	}
	qsort(r->ss.s, r->ss.n, sizeof(*r->ss.s), cmp_site);
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* A site's goroutines per minute, from the first quarter's floor to the last's. */
static double site_rate(const struct gsr *r, const struct site *st)
{
	double dt = r->k >= 4 ? (double)(r->cs[st->qat[3]].t - r->cs[st->qat[0]].t) / 1e9 : 0;

	return dt > 0 ? (double)(st->qmin[3] - st->qmin[0]) / dt * 60 : 0;
}

int gs_goroutine_leaks(sqlite3 *db, FILE *out, int max)
{
	struct gsr r;
	char where[512], start[512];
	int n = 0;

	if (gsr_load(db, "end", &r) < 0) {
		gsr_free(&r);
		return -1;
	}
	for (size_t i = 0; i < r.ss.n && r.ss.s[i].leak && n < max; i++, n++) {
		site_where(&r.sym, r.ss.s[i].gopc, where, sizeof(where));
		start_name(&r.sym, r.ss.s[i].startpc, start, sizeof(start));
		fprintf(out, "  likely leak: %s -> %s, %" PRId64 " live at the end, +%.1f a minute\n",
			where, start, r.ss.s[i].at, site_rate(&r, &r.ss.s[i]));
	}
	if (r.nleaks > n)
		fprintf(out, "  ... %d more likely leaks\n", r.nleaks - n);
	n = r.nleaks;
	gsr_free(&r);
	return n;
}

int gs_goroutines(sqlite3 *db, FILE *out, const struct gs_goroutines_opts *o, char *msg,
		  size_t msglen)
{
	sqlite3_stmt *s = NULL;
	struct gs_stacks *stk = NULL;
	struct gsr r;
	int ret = gsr_load(db, o->at, &r);

	if (ret) {
		if (ret > 0)
			snprintf(msg, msglen, "this trace has no goroutine census (not a Go program, a "
				 "Go release gsrec cannot read, or an older gsrec: see `gsreport "
				 "summary`)");
		goto out;
	}
	ret = -1;
	struct census *cs = r.cs;
	int64_t k = r.k, atc = r.atc, t0 = r.t0, users = r.users, *pt = r.pt;
	int npts = r.npts, nleaks = r.nleaks;
	struct sites ss = r.ss;
	struct gs_gosym *sym = &r.sym;

	const struct census *c = &cs[atc];
	int64_t live = c->allglen - c->status[6];
	double span_s = (double)(cs[k - 1].t - cs[0].t) / 1e9;
	char where[512], start[512], hb[32];

	if (o->json) {
		fprintf(out, "{\"at_s\":%.3f,\"census\":{\"t_s\":%.3f,\"goroutines\":%" PRId64
			",\"user_goroutines\":%" PRId64 ",\"stack_bytes\":%" PRId64 ",\"by_status\":{",
			(double)(c->t - t0) / 1e9, (double)(c->t - t0) / 1e9, live, users,
			c->stack_bytes);
		int first = 1;

		for (int st = 0; st < 10; st++)
			if (st != 5 && st != 7 && st != 6) {
				fprintf(out, "%s\"%s\":%" PRId64, first ? "" : ",", status_name(st),
					c->status[st]);
				first = 0;
			}
		fprintf(out, "}},\"censuses\":%" PRId64 ",\"leak_judged\":%s,\"times_s\":[", k,
			k >= 4 ? "true" : "false");
		for (int p = 0; p < npts; p++)
			fprintf(out, "%s%.3f", p ? "," : "", (double)(cs[pt[p]].t - t0) / 1e9);
		fputs("],\n\"sites\":[", out);
	} else {
		human(hb, sizeof(hb), c->stack_bytes);
		fprintf(out, "Goroutines at %.1f s (census %" PRId64 " of %" PRId64 "): %" PRId64
			" live, %" PRId64 " of them the program's (runtime.NumGoroutine), "
			"stacks %s\n  by status:", (double)(c->t - t0) / 1e9, atc + 1, k, live, users,
			hb);
		for (int st = 0; st < 10; st++)
			if (c->status[st] && st != 6)
				fprintf(out, " %s %" PRId64, status_name(st), c->status[st]);
		fputs("\n\n", out);
		if (k < 4)
			fprintf(out, "Leaks: not judged, %" PRId64 " census%s over %.1f s (4 or more "
				"are needed: record longer, or census more often with --census-ms)\n\n",
				k, k == 1 ? "" : "es", span_s);
		else if (nleaks)
			fprintf(out, "Likely leaks: %d site%s whose least live count rose from quarter "
				"to quarter of the recording (LEAK below)\n\n", nleaks,
				nleaks == 1 ? "" : "s");
		else
			fprintf(out, "Likely leaks: none (no site's least live count kept rising over "
				"%" PRId64 " censuses, %.1f s)\n\n", k, span_s);
		fprintf(out, "Live goroutines by creation site, at the censuses at");
		for (int p = 0; p < npts; p++)
			fprintf(out, " %.1f", (double)(cs[pt[p]].t - t0) / 1e9);
		fputs(" s:\n", out);
	}
	size_t shown = 0;

	for (size_t i = 0; i < ss.n; i++) {
		struct site *st = &ss.s[i];

		if (!st->max)
			continue;
		if (!o->json && o->sites > 0 && shown >= (size_t)o->sites && !st->leak) {
			size_t rest = 0;

			for (size_t j = i; j < ss.n; j++)
				rest += ss.s[j].max > 0;
			fprintf(out, "  ... %zu more site%s (--sites 0 lists all)\n", rest,
				rest == 1 ? "" : "s");
			break;
		}
		site_where(sym, st->gopc, where, sizeof(where));
		start_name(sym, st->startpc, start, sizeof(start));
		double rate = site_rate(&r, st);

		if (o->json) {
			fprintf(out, "%s\n{\"created_by\":", shown ? "," : "");
			json_str(out, where);
			fputs(",\"start\":", out);
			json_str(out, start);
			fprintf(out, ",\"gopc\":%" PRIu64 ",\"startpc\":%" PRIu64 ",\"runtime\":%s,"
				"\"live\":%" PRId64 ",\"stack_bytes\":%" PRId64 ",\"max\":%" PRId64
				",\"counts\":[", st->gopc, st->startpc, st->sys ? "true" : "false",
				st->at, st->at_bytes, st->max);
			for (int p = 0; p < npts; p++)
				fprintf(out, "%s%" PRId64, p ? "," : "", st->pts[p]);
			fputs("],\"floors\":", out);
			if (k >= 4)
				fprintf(out, "[%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "]",
					st->qmin[0], st->qmin[1], st->qmin[2], st->qmin[3]);
			else
				fputs("null", out);
			fprintf(out, ",\"leak\":%s,\"per_minute\":%.1f}", st->leak ? "true" : "false",
				st->leak ? rate : 0.0);
		} else {
			fprintf(out, "  %s%s -> %s%s\n    live", st->leak ? "LEAK " : "", where, start,
				st->sys ? " [runtime]" : "");
			for (int p = 0; p < npts; p++)
				fprintf(out, " %" PRId64, st->pts[p]);
			human(hb, sizeof(hb), st->at_bytes);
			fprintf(out, "; at %.1f s: %" PRId64 ", stacks %s", (double)(c->t - t0) / 1e9,
				st->at, hb);
			if (st->leak)
				fprintf(out, "; floor %" PRId64 " -> %" PRId64 " -> %" PRId64 " -> %" PRId64
					" (+%.1f/min)", st->qmin[0], st->qmin[1], st->qmin[2],
					st->qmin[3], rate);
			fputc('\n', out);
		}
		shown++;
	}

	/* the largest stacks at that census */
	if (sqlite3_prepare_v2(db, "SELECT rank, goid, status, stack_size, gopc, startpc, stack_id, "
			       "sp_word FROM census_g WHERE census_id = ? ORDER BY rank", -1, &s, NULL))
		goto out;
	sqlite3_bind_int64(s, 1, c->id);
	stk = gs_stacks_open(db, 1);
	if (o->json)
		fputs("],\n\"top\":[", out);
	else
		fprintf(out, "\nLargest goroutine stacks at %.1f s:\n", (double)(c->t - t0) / 1e9);
	int ntop = 0;

	while (sqlite3_step(s) == SQLITE_ROW && (o->top <= 0 || ntop < o->top)) {
		int64_t st = col(s, 2) & ~0x1000;	/* without _Gscan */

		site_where(sym, (uint64_t)col(s, 4), where, sizeof(where));
		start_name(sym, (uint64_t)col(s, 5), start, sizeof(start));
		const char *frames = sqlite3_column_type(s, 6) == SQLITE_NULL || !stk ? NULL
			: gs_stacks_text(stk, col(s, 6), (uint64_t)col(s, 7));

		if (o->json) {
			fprintf(out, "%s\n{\"rank\":%d,\"goid\":%" PRId64 ",\"status\":\"%s\","
				"\"stack_bytes\":%" PRId64 ",\"created_by\":", ntop ? "," : "",
				(int)col(s, 0), col(s, 1), status_name(st), col(s, 3));
			json_str(out, where);
			fputs(",\"start\":", out);
			json_str(out, start);
			fputs(",\"stack\":", out);
			if (frames) {
				fputc('[', out);
				print_stack(out, frames, 1, "");
				fprintf(out, "],\"stack_complete\":%s", complete(frames) ? "true" : "false");
			} else {
				fputs("null", out);
			}
			fputc('}', out);
		} else {
			human(hb, sizeof(hb), col(s, 3));
			fprintf(out, "  #%d goroutine %" PRId64 " [%s], stack %s (%" PRId64 " bytes), "
				"%s\n", (int)col(s, 0), col(s, 1), status_name(st), hb, col(s, 3), start);
			if (frames) {
				print_stack(out, frames, 0, "      ");
				if (!complete(frames))
					fputs("      ...deeper frames not recorded...\n", out);
			}
			else
				fputs("      (running at the census: not unwound)\n", out);
			fprintf(out, "      created by %s\n", where);
		}
		ntop++;
	}
	if (o->json)
		fputs(ntop ? "\n]}\n" : "]}\n", out);
	else if (!ntop)
		fputs("  (none recorded: gsrec --census-top 0)\n", out);
	ret = ferror(out) ? -1 : 0;
	sqlite3_finalize(s);
	gs_stacks_close(stk);
out:
	gsr_free(&r);
	return ret;
}

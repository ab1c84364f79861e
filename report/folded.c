/*
 * folded.c - `gsreport folded`: stacks in flamegraph.pl's folded format,
 * "root;...;leaf COUNT", symbolized from the trace alone.
 *
 * A sampled pc is a runtime address: the object that holds it is found
 * through the objects' executable segments and load biases (from the
 * trace's mappings); every frame but the innermost is a return address, so
 * pc-1 is symbolized, as pprof does. Inlined frames are expanded. Lines
 * that fold to the same text are added up.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsreport.h"
#include "symbols.h"

struct range {
	uint64_t lo, hi;		/* runtime addresses */
	int64_t bias;
	struct gs_object *o;
};

struct ranges {
	struct range *r;
	size_t n;
};

static int load_ranges(sqlite3 *db, struct gs_objects *objs, struct ranges *rs)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, "SELECT json_extract(j.value, '$.vaddr'), "
			       "json_extract(j.value, '$.memsz') FROM object o, json_each(o.segments) j "
			       "WHERE o.id = ? AND (json_extract(j.value, '$.flags') & 1)", -1, &s, NULL))
		return -1;
	for (uint32_t i = 0; i < objs->n; i++) {
		int64_t bias;

		if (gs_object_bias(db, &objs->o[i], &bias) < 0)
			continue;
		sqlite3_bind_int64(s, 1, objs->o[i].id);
		while (sqlite3_step(s) == SQLITE_ROW) {
			struct range *r = realloc(rs->r, (rs->n + 1) * sizeof(*r));

			if (!r)
				break;
			rs->r = r;
			uint64_t lo = (uint64_t)sqlite3_column_int64(s, 0) + (uint64_t)bias;

			rs->r[rs->n++] = (struct range){ lo, lo + (uint64_t)sqlite3_column_int64(s, 1),
							 bias, &objs->o[i] };
		}
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return 0;
}

struct buf {
	char *p;
	size_t len, cap;
};

/* Append a frame name: ';' separates frames and a space ends the stack in
 * folded text, so names cannot hold them. sep adds a ';' before it. */
static void put(struct buf *b, const char *s, size_t n, int sep)
{
	if (b->len + n + 2 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p)
			return;
		b->p = p;
		b->cap = cap;
	}
	if (sep)
		b->p[b->len++] = ';';
	for (size_t i = 0; i < n; i++)
		b->p[b->len++] = s[i] == ';' ? ':' : s[i] == ' ' ? '_' : s[i];
	b->p[b->len] = 0;
}

/* Aggregation of folded lines: an open-addressing table of strings. */
struct agg {
	struct { char *s; uint64_t n; } *e;
	size_t size, count;
};

static uint64_t hstr(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

static int agg_add(struct agg *a, const char *s, uint64_t n)
{
	if (a->count * 2 >= a->size) {
		size_t size = a->size ? a->size * 2 : 1024;
		__typeof__(a->e) e = calloc(size, sizeof(*e));

		if (!e)
			return -1;
		for (size_t i = 0; i < a->size; i++) {
			if (!a->e[i].s)
				continue;
			size_t j = hstr(a->e[i].s) & (size - 1);

			while (e[j].s)
				j = (j + 1) & (size - 1);
			e[j] = a->e[i];
		}
		free(a->e);
		a->e = e;
		a->size = size;
	}
	size_t j = hstr(s) & (a->size - 1);

	for (; a->e[j].s; j = (j + 1) & (a->size - 1))
		if (!strcmp(a->e[j].s, s)) {
			a->e[j].n += n;
			return 0;
		}
	if (!(a->e[j].s = strdup(s)))
		return -1;
	a->e[j].n = n;
	a->count++;
	return 0;
}

static int cmp_entry(const void *x, const void *y)
{
	const char *a = *(const char *const *)x, *b = *(const char *const *)y;

	return strcmp(a, b);
}

int gs_folded(sqlite3 *db, FILE *out, const struct gs_folded_opts *o, char *msg, size_t msglen)
{
	struct gs_objects objs = { 0 };
	struct ranges rs = { 0 };
	struct agg agg = { 0 };
	struct buf line = { 0 };
	sqlite3_stmt *s = NULL;
	char err[160];
	int ret = -1;

	if (strcmp(o->weight, "cpu")) {
		snprintf(msg, msglen, "--weight %s is not available yet: this gsreport knows cpu",
			 o->weight);
		return 1;
	}
	if (sqlite3_prepare_v2(db, o->by_goroutine
			       ? "SELECT s.pcs, s.depth, count(*), c.goid FROM cpu_sample c JOIN stack s "
				 "ON s.id = c.stack_id GROUP BY s.id, c.goid"
			       : "SELECT s.pcs, s.depth, count(*), NULL FROM cpu_sample c JOIN stack s "
				 "ON s.id = c.stack_id GROUP BY s.id", -1, &s, NULL)) {
		snprintf(msg, msglen, "this trace has no CPU samples (recorded without eBPF, or by "
			 "an older gsrec)");
		return 1;
	}
	if (gs_objects_load(db, &objs, err, sizeof(err)) < 0 || load_ranges(db, &objs, &rs) < 0)
		goto out;
	/* executable mappings by name, for pcs in no object */
	struct { uint64_t lo, hi; char name[48]; } maps[32];
	size_t nm = 0;
	sqlite3_stmt *ms;

	if (sqlite3_prepare_v2(db, "SELECT DISTINCT start, end, path FROM mapping WHERE perms "
			       "LIKE '__x_' AND path != '' LIMIT 32", -1, &ms, NULL) == SQLITE_OK) {
		while (sqlite3_step(ms) == SQLITE_ROW && nm < 32) {
			const char *p = (const char *)sqlite3_column_text(ms, 2), *slash = strrchr(p, '/');

			maps[nm].lo = (uint64_t)sqlite3_column_int64(ms, 0);
			maps[nm].hi = (uint64_t)sqlite3_column_int64(ms, 1);
			snprintf(maps[nm].name, sizeof(maps[nm].name), p[0] == '[' ? "%s" : "[%s]",
				 slash ? slash + 1 : p);
			nm++;
		}
		sqlite3_finalize(ms);
	}
	uint64_t total = 0;

	while (sqlite3_step(s) == SQLITE_ROW) {
		const uint8_t *pcs = sqlite3_column_blob(s, 0);
		int depth = sqlite3_column_int(s, 1);
		uint64_t n = (uint64_t)sqlite3_column_int64(s, 2);
		const char *frames[256];
		int flen[256], nf = 0;

		if (sqlite3_column_bytes(s, 0) < depth * 8)
			continue;
		for (int i = 0; i < depth && nf < 255; i++) {
			uint64_t pc = 0;

			for (int b = 0; b < 8; b++)
				pc |= (uint64_t)pcs[i * 8 + b] << (8 * b);
			if (i > 0 && pc)
				pc--;	/* a return address: the call is before it */
			struct gs_symframe fr[16];
			int k = 0;

			for (size_t r = 0; r < rs.n; r++)
				if (pc >= rs.r[r].lo && pc < rs.r[r].hi) {
					k = gs_object_symbolize(rs.r[r].o, pc - (uint64_t)rs.r[r].bias, 1,
								fr, 16);
					break;
				}
			if (!k) {
				/* no object (e.g. [vdso], which has no file): name the mapping */
				frames[nf] = "[unknown]";
				flen[nf] = 9;
				for (size_t r = 0; r < nm; r++)
					if (pc >= maps[r].lo && pc < maps[r].hi) {
						frames[nf] = maps[r].name;
						flen[nf] = (int)strlen(maps[r].name);
						break;
					}
				nf++;
			}
			for (int j = 0; j < k && nf < 255; j++) {
				frames[nf] = fr[j].func;
				flen[nf++] = fr[j].func_len;
			}
		}
		line.len = 0;
		if (o->by_goroutine) {
			char g[40];

			if (sqlite3_column_type(s, 3) == SQLITE_NULL)
				snprintf(g, sizeof(g), "goroutine ?");
			else
				snprintf(g, sizeof(g), "goroutine %lld", sqlite3_column_int64(s, 3));
			put(&line, g, strlen(g), 0);
			line.p[strlen("goroutine")] = ' ';	/* flamegraph.pl splits on the last space only */
		}
		for (int i = nf - 1; i >= 0; i--)	/* root first */
			put(&line, frames[i], (size_t)flen[i], line.len > 0);
		if (!line.len)
			put(&line, "[no stack]", 10, 0);
		if (agg_add(&agg, line.p, n) < 0)
			goto out;
		total += n;
	}
	if (!total) {
		snprintf(msg, msglen, "this trace has no CPU samples (was the target running? try a "
			 "higher -F)");
		ret = 1;
		goto out;
	}
	/* sorted output, like flamegraph.pl's stackcollapse tools */
	char **keys = malloc(agg.count * sizeof(*keys));
	size_t nk = 0;

	for (size_t i = 0; keys && i < agg.size; i++)
		if (agg.e[i].s)
			keys[nk++] = agg.e[i].s;
	qsort(keys, nk, sizeof(*keys), cmp_entry);
	for (size_t i = 0; i < nk; i++) {
		size_t j = hstr(keys[i]) & (agg.size - 1);

		while (strcmp(agg.e[j].s, keys[i]))
			j = (j + 1) & (agg.size - 1);
		fprintf(out, "%s %" PRIu64 "\n", keys[i], agg.e[j].n);
	}
	free(keys);
	ret = ferror(out) ? -1 : 0;
out:
	sqlite3_finalize(s);
	for (size_t i = 0; i < agg.size; i++)
		free(agg.e[i].s);
	free(agg.e);
	free(line.p);
	free(rs.r);
	gs_objects_free(&objs);
	return ret;
}

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

#include "goroutines.h"
#include "gsreport.h"
#include "heap.h"
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

/* Append folded frames as they are ("a;b;c"), after a ';' if b has any. */
static int put_frames(struct buf *b, const char *frames)
{
	size_t fl = strlen(frames);

	if (b->len + fl + 2 > b->cap) {
		char *p = realloc(b->p, b->len + fl + 2);

		if (!p)
			return -1;
		b->p = p;
		b->cap = b->len + fl + 2;
	}
	if (b->len)
		b->p[b->len++] = ';';
	memcpy(b->p + b->len, frames, fl + 1);
	b->len += fl;
	return 0;
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

static void agg_free(struct agg *a)
{
	for (size_t i = 0; i < a->size; i++)
		free(a->e[i].s);
	free(a->e);
	memset(a, 0, sizeof(*a));
}

/* ---- symbolized stacks, cached by id ---- */

struct symctx {
	sqlite3 *db;
	struct gs_objects objs;
	struct ranges rs;
	struct { uint64_t lo, hi; char name[48]; } maps[32];
	size_t nm;
	sqlite3_stmt *get;		/* pcs of a stack */
	struct agg cache;		/* "id" -> folded frames, root first */
	struct agg plain;		/* "id" -> 1: its leaf needs no fix, sp_word is moot */
	struct buf line;
	int leaf_returns;		/* the leaf is a return address too (goroutine stacks) */
	/*
	 * The heap profile's stacks: each pc is one logical frame, inlined
	 * ones included, as runtime.Callers gives them, so it is symbolized
	 * at pc-1 to its innermost function alone; and, as runtime/pprof
	 * writes a heap profile, the runtime's frames under the first of the
	 * program's are left out (mallocgc, makeslice, ...).
	 */
	int logical;
};

static int sym_open(struct symctx *c, sqlite3 *db)
{
	char err[160];
	sqlite3_stmt *ms;

	memset(c, 0, sizeof(*c));
	c->db = db;
	if (gs_objects_load(db, &c->objs, err, sizeof(err)) < 0 || load_ranges(db, &c->objs, &c->rs) < 0 ||
	    sqlite3_prepare_v2(db, "SELECT pcs, depth FROM stack WHERE id = ?", -1, &c->get, NULL))
		return -1;
	/* executable mappings by name, for pcs in no object ([vdso]) */
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT start, end, path FROM mapping WHERE perms "
			       "LIKE '__x_' AND path != '' LIMIT 32", -1, &ms, NULL) == SQLITE_OK) {
		while (sqlite3_step(ms) == SQLITE_ROW && c->nm < 32) {
			const char *p = (const char *)sqlite3_column_text(ms, 2), *slash = strrchr(p, '/');

			c->maps[c->nm].lo = (uint64_t)sqlite3_column_int64(ms, 0);
			c->maps[c->nm].hi = (uint64_t)sqlite3_column_int64(ms, 1);
			snprintf(c->maps[c->nm].name, sizeof(c->maps[0].name), p[0] == '[' ? "%s" : "[%s]",
				 slash ? slash + 1 : p);
			c->nm++;
		}
		sqlite3_finalize(ms);
	}
	return 0;
}

static void sym_close(struct symctx *c)
{
	sqlite3_finalize(c->get);
	for (size_t i = 0; i < c->cache.size; i++)
		free(c->cache.e[i].s);
	free(c->cache.e);
	agg_free(&c->plain);
	free(c->line.p);
	free(c->rs.r);
	gs_objects_free(&c->objs);
}

/* The range (object) holding runtime address pc, or NULL. */
static const struct range *range_of(const struct symctx *c, uint64_t pc)
{
	for (size_t r = 0; r < c->rs.n; r++)
		if (pc >= c->rs.r[r].lo && pc < c->rs.r[r].hi)
			return &c->rs.r[r];
	return NULL;
}

/*
 * Frameless leaves. When the innermost pc is where its function has pushed
 * nothing (pcsp 0: a frameless leaf, or a prologue not yet run), BP still
 * points at the caller's frame and the frame-pointer walk skipped the
 * caller; its return address is the word at SP. Return it when it should
 * be inserted after the leaf, 0 when the walk is right as it is.
 */
static uint64_t missing_caller(const struct symctx *c, const uint64_t *pcs, int depth,
			       uint64_t sp_word)
{
	const struct range *leaf, *ret;
	struct gs_func f1, f2;

	if (!sp_word || depth < 1 || !(leaf = range_of(c, pcs[0])) || !leaf->o->has_go ||
	    gs_pcln_spdelta(&leaf->o->go.pcln, pcs[0] - (uint64_t)leaf->bias) != 0 ||
	    !(ret = range_of(c, sp_word - 1)))
		return 0;
	/* already there (the walk found it after all)? */
	if (depth >= 2 && ret->o->has_go && range_of(c, pcs[1] - 1) == ret &&
	    gs_pcln_find(&ret->o->go.pcln, sp_word - 1 - (uint64_t)ret->bias, &f1) == 0 &&
	    gs_pcln_find(&ret->o->go.pcln, pcs[1] - 1 - (uint64_t)ret->bias, &f2) == 0 &&
	    f1.entry == f2.entry)
		return 0;
	return sp_word;
}

/* The frames of stack id, root first, joined by ';'. Valid until the next call. */
static const char *sym_stack(struct symctx *c, int64_t id, uint64_t sp_word)
{
	char key[48];
	uint64_t pcs[256];
	int depth = 0;

	/* Most stacks' leaves have a frame: then sp_word changes nothing, and
	 * the stack's text is cached under its id alone. */
	if (c->logical)
		sp_word = 0;
	snprintf(key, sizeof(key), "%s#%lld", c->logical ? "L" : "", (long long)id);
	if (c->plain.size) {
		size_t j = hstr(key) & (c->plain.size - 1);

		for (; c->plain.e[j].s; j = (j + 1) & (c->plain.size - 1))
			if (!strcmp(c->plain.e[j].s, key)) {
				sp_word = 0;
				break;
			}
	}
	if (!sp_word && c->cache.size)
		for (size_t j = hstr(key) & (c->cache.size - 1); c->cache.e[j].s;
		     j = (j + 1) & (c->cache.size - 1))
			if (!strcmp(c->cache.e[j].s, key))
				return c->cache.e[j].s + strlen(key) + 1;

	sqlite3_bind_int64(c->get, 1, id);
	if (sqlite3_step(c->get) != SQLITE_ROW) {
		/* its STACK record was in a chunk lost to damage (FORMAT.md §3.1):
		 * unknown, said as such, never another stack */
		sqlite3_reset(c->get);
		return "[stack lost in a damaged chunk]";
	}
	{
		const uint8_t *raw = sqlite3_column_blob(c->get, 0);
		int d = sqlite3_column_int(c->get, 1);

		if (raw && d >= 0 && sqlite3_column_bytes(c->get, 0) >= d * 8)
			for (int i = 0; i < d && depth < 255; i++) {
				uint64_t pc = 0;

				for (int b = 0; b < 8; b++)
					pc |= (uint64_t)raw[i * 8 + b] << (8 * b);
				pcs[depth++] = pc;
			}
	}
	sqlite3_reset(c->get);
	uint64_t extra = c->logical ? 0 : missing_caller(c, pcs, depth, sp_word);
	const struct range *lr = depth ? range_of(c, pcs[0]) : NULL;

	/* a leaf that has pushed something: no sp_word will ever matter */
	if (!lr || !lr->o->has_go ||
	    gs_pcln_spdelta(&lr->o->go.pcln, pcs[0] - (uint64_t)lr->bias) != 0)
		agg_add(&c->plain, key, 1);

	if (extra) {	/* insert the caller after the leaf */
		memmove(pcs + 2, pcs + 1, (size_t)(depth - 1) * sizeof(*pcs));
		pcs[1] = extra;
		depth++;
		snprintf(key, sizeof(key), "#%lld:%llx", (long long)id, (unsigned long long)extra);
	} else {
		snprintf(key, sizeof(key), "%s#%lld", c->logical ? "L" : "", (long long)id);
	}
	size_t j = c->cache.size ? hstr(key) & (c->cache.size - 1) : 0;

	for (; c->cache.size && c->cache.e[j].s; j = (j + 1) & (c->cache.size - 1))
		if (!strcmp(c->cache.e[j].s, key))
			return c->cache.e[j].s + strlen(key) + 1;
	const char *frames[256];
	int flen[256], nf = 0;

	{
		for (int i = 0; i < depth && nf < 255; i++) {
			uint64_t pc = pcs[i];

			if ((i > 0 || c->leaf_returns || c->logical) && pc)
				pc--;	/* a return address: the call is before it */
			struct gs_symframe fr[16];
			int k = 0;

			for (size_t r = 0; r < c->rs.n; r++)
				if (pc >= c->rs.r[r].lo && pc < c->rs.r[r].hi) {
					k = gs_object_symbolize(c->rs.r[r].o, pc - (uint64_t)c->rs.r[r].bias,
								1, fr, 16);
					break;
				}
			if (c->logical && k > 1)
				k = 1;	/* its innermost frame; the others have pcs of their own */
			if (!k) {
				frames[nf] = "[unknown]";
				flen[nf] = 9;
				for (size_t r = 0; r < c->nm; r++)
					if (pc >= c->maps[r].lo && pc < c->maps[r].hi) {
						frames[nf] = c->maps[r].name;
						flen[nf] = (int)strlen(c->maps[r].name);
						break;
					}
				nf++;
			}
			int bottom = 0;

			for (int m = 0; m < k && nf < 255; m++) {
				frames[nf] = fr[m].func;
				flen[nf++] = fr[m].func_len;
				/* a goroutine's or thread's first frame: what a walk finds
				 * past it is not a caller */
				bottom |= (fr[m].func_len == 14 && !memcmp(fr[m].func, "runtime.goexit", 14)) ||
					  (fr[m].func_len == 14 && !memcmp(fr[m].func, "runtime.mstart", 14));
			}
			if (bottom)
				break;
		}
	}
	if (c->logical) {	/* the runtime's frames under the program's first */
		int skip = 0;

		while (skip < nf && flen[skip] > 8 && !memcmp(frames[skip], "runtime.", 8))
			skip++;
		if (skip < nf) {
			memmove(frames, frames + skip, (size_t)(nf - skip) * sizeof(*frames));
			memmove(flen, flen + skip, (size_t)(nf - skip) * sizeof(*flen));
			nf -= skip;
		}
	}
	c->line.len = 0;
	put(&c->line, key, strlen(key), 0);
	put(&c->line, "", 0, 0);
	c->line.p[c->line.len++] = 0;	/* key, NUL, then the frames */
	size_t start = c->line.len;

	for (int i = nf - 1; i >= 0; i--)	/* root first */
		put(&c->line, frames[i], (size_t)flen[i], c->line.len > start);
	if (c->line.len == start)
		put(&c->line, "[no-stack]", 10, 0);
	/* cache it: the entry's string holds "key\0frames" */
	if (agg_add(&c->cache, key, 0) == 0) {
		j = hstr(key) & (c->cache.size - 1);
		while (strcmp(c->cache.e[j].s, key))
			j = (j + 1) & (c->cache.size - 1);
		char *both = malloc(c->line.len + 1);

		if (both) {
			memcpy(both, c->line.p, c->line.len + 1);
			free(c->cache.e[j].s);
			c->cache.e[j].s = both;
			return both + strlen(key) + 1;
		}
	}
	return c->line.p + start;
}

/* Whether sp_word can change stack id's frames (its leaf pushed nothing). */
static int needs_sp_word(struct symctx *c, int64_t id)
{
	char key[32];

	sym_stack(c, id, 0);	/* decides, and caches the plain text */
	snprintf(key, sizeof(key), "#%lld", (long long)id);
	if (c->plain.size)
		for (size_t j = hstr(key) & (c->plain.size - 1); c->plain.e[j].s;
		     j = (j + 1) & (c->plain.size - 1))
			if (!strcmp(c->plain.e[j].s, key))
				return 0;
	return 1;
}

static int print_sorted(struct agg *agg, FILE *out)
{
	char **keys = malloc((agg->count + 1) * sizeof(*keys));
	size_t nk = 0;

	if (!keys)
		return -1;
	for (size_t i = 0; i < agg->size; i++)
		if (agg->e[i].s)
			keys[nk++] = agg->e[i].s;
	qsort(keys, nk, sizeof(*keys), cmp_entry);
	for (size_t i = 0; i < nk; i++) {
		size_t j = hstr(keys[i]) & (agg->size - 1);

		while (strcmp(agg->e[j].s, keys[i]))
			j = (j + 1) & (agg->size - 1);
		if (agg->e[j].n)
			fprintf(out, "%s %" PRIu64 "\n", keys[i], agg->e[j].n);
	}
	free(keys);
	return ferror(out) ? -1 : 0;
}


/* print_sorted, in kB (rounded) when unit_kb. */
static int print_lines(struct agg *agg, FILE *out, int unit_kb)
{
	if (unit_kb)
		for (size_t i = 0; i < agg->size; i++)
			agg->e[i].n = (agg->e[i].n + 512) / 1024;
	return print_sorted(agg, out);
}

/* ---- weights from samples: cpu, faults, fault-bytes ---- */

/*
 * Samples are grouped by stack first (an index scan); only stacks whose
 * leaf pushed nothing are broken down by sp_word, which there names the
 * caller the frame-pointer walk skipped.
 */
/*
 * --by-goroutine's first frame. goid 0 is no goroutine: the thread was on
 * g0 with none to run (the scheduler between goroutines); a goid that could
 * not be read is "goroutine ?".
 */
static void goroutine_label(char *g, size_t n, int unknown, int64_t id)
{
	if (unknown || id < 0)
		snprintf(g, n, "goroutine ?");
	else if (id == 0)
		snprintf(g, n, "[scheduler]");
	else
		snprintf(g, n, "goroutine %lld", (long long)id);
}

static int add_line(struct agg *agg, struct buf *line, const char *gprefix, const char *frames,
		    uint64_t n)
{
	size_t pl = gprefix ? strlen(gprefix) : 0, fl = strlen(frames);

	if (line->cap < pl + fl + 2) {
		char *p = realloc(line->p, pl + fl + 2);

		if (!p)
			return -1;
		line->p = p;
		line->cap = pl + fl + 2;
	}
	line->len = 0;
	if (pl) {
		memcpy(line->p, gprefix, pl);
		line->p[pl] = ';';
		line->len = pl + 1;
	}
	memcpy(line->p + line->len, frames, fl + 1);
	line->len += fl;
	return agg_add(agg, line->p, n);
}

static int count_weight(struct symctx *c, FILE *out, const struct gs_folded_opts *o,
			char *msg, size_t msglen)
{
	int faults = strcmp(o->weight, "cpu") != 0, bytes = !strcmp(o->weight, "fault-bytes");
	const char *table = faults ? "fault" : "cpu_sample";
	char sql[256];
	sqlite3_stmt *s, *sub = NULL;
	struct agg agg = { 0 };
	struct buf line = { 0 };
	uint64_t total = 0, unit = bytes ? 4096u : 1u;
	int ret = -1;

	snprintf(sql, sizeof(sql), "SELECT stack_id, count(*), %s FROM %s GROUP BY stack_id%s",
		 o->by_goroutine ? "goid" : "NULL", table, o->by_goroutine ? ", goid" : "");
	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL)) {
		snprintf(msg, msglen, "this trace has no %s (recorded without eBPF, or by an older "
			 "gsrec)", faults ? "page faults" : "CPU samples");
		return 1;
	}
	snprintf(sql, sizeof(sql), "SELECT sp_word, count(*) FROM %s WHERE stack_id = ?1 AND "
		 "(?2 IS NULL OR goid IS ?2) GROUP BY sp_word", table);
	if (sqlite3_prepare_v2(c->db, sql, -1, &sub, NULL))
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		char g[40] = "", *gp = NULL;

		if (o->by_goroutine) {
			goroutine_label(g, sizeof(g), sqlite3_column_type(s, 2) == SQLITE_NULL,
					sqlite3_column_int64(s, 2));
			gp = g;
		}
		if (!needs_sp_word(c, id)) {
			uint64_t n = (uint64_t)sqlite3_column_int64(s, 1) * unit;

			if (add_line(&agg, &line, gp, sym_stack(c, id, 0), n) < 0)
				goto out;
			total += n;
			continue;
		}
		sqlite3_bind_int64(sub, 1, id);
		if (o->by_goroutine && sqlite3_column_type(s, 2) != SQLITE_NULL)
			sqlite3_bind_int64(sub, 2, sqlite3_column_int64(s, 2));
		else
			sqlite3_bind_null(sub, 2);
		while (sqlite3_step(sub) == SQLITE_ROW) {
			uint64_t n = (uint64_t)sqlite3_column_int64(sub, 1) * unit;

			if (add_line(&agg, &line, gp,
				     sym_stack(c, id, (uint64_t)sqlite3_column_int64(sub, 0)), n) < 0)
				goto out;
			total += n;
		}
		sqlite3_reset(sub);
	}
	if (!total) {
		snprintf(msg, msglen, "this trace has no %s (was the target running? try a higher -F)",
			 faults ? "page faults" : "CPU samples");
		ret = 1;
		goto out;
	}
	ret = print_sorted(&agg, out);
out:
	sqlite3_finalize(s);
	sqlite3_finalize(sub);
	agg_free(&agg);
	free(line.p);
	return ret;
}

/* ---- pss: resident pages by the stack that made them resident ---- */

struct pagemap {			/* page number -> stack id, open addressing */
	uint64_t *page;			/* page + 1; 0 empty, UINT64_MAX deleted */
	int64_t *stack;
	int64_t *goid;			/* the faulting goroutine, -1 unknown */
	size_t size, used;
};

static size_t pm_slot(const struct pagemap *m, uint64_t page)
{
	return (size_t)((page * 0x9e3779b97f4a7c15ull) >> 20) & (m->size - 1);
}

static int pm_grow(struct pagemap *m)
{
	size_t size = m->size ? m->size * 2 : 1u << 16;
	uint64_t *pg = calloc(size, sizeof(*pg));
	int64_t *st = malloc(size * sizeof(*st)), *gd = malloc(size * sizeof(*gd));
	struct pagemap n = { pg, st, gd, size, 0 };

	if (!pg || !st || !gd) {
		free(pg);
		free(st);
		free(gd);
		return -1;
	}
	for (size_t i = 0; i < m->size; i++) {
		if (!m->page[i] || m->page[i] == UINT64_MAX)
			continue;
		size_t j = pm_slot(&n, m->page[i] - 1);

		while (n.page[j])
			j = (j + 1) & (size - 1);
		n.page[j] = m->page[i];
		n.stack[j] = m->stack[i];
		n.goid[j] = m->goid[i];
		n.used++;
	}
	free(m->page);
	free(m->stack);
	free(m->goid);
	*m = n;
	return 0;
}

/* The first fault on a page since its last release owns it. */
static int pm_fault(struct pagemap *m, uint64_t page, int64_t stack, int64_t goid)
{
	if ((m->used + 1) * 2 > m->size && pm_grow(m) < 0)
		return -1;
	size_t j = pm_slot(m, page), tomb = SIZE_MAX;

	for (; m->page[j]; j = (j + 1) & (m->size - 1)) {
		if (m->page[j] == page + 1)
			return 0;
		if (m->page[j] == UINT64_MAX && tomb == SIZE_MAX)
			tomb = j;
	}
	if (tomb != SIZE_MAX)
		j = tomb;
	else
		m->used++;
	m->page[j] = page + 1;
	m->stack[j] = stack;
	m->goid[j] = goid;
	return 0;
}

static void pm_release(struct pagemap *m, uint64_t lo, uint64_t hi)
{
	if (!m->size || hi <= lo)
		return;
	if (hi - lo > m->size) {	/* a huge range: scan the table instead */
		for (size_t i = 0; i < m->size; i++)
			if (m->page[i] && m->page[i] != UINT64_MAX && m->page[i] - 1 >= lo &&
			    m->page[i] - 1 < hi)
				m->page[i] = UINT64_MAX;
		return;
	}
	for (uint64_t p = lo; p < hi; p++)
		for (size_t j = pm_slot(m, p); m->page[j]; j = (j + 1) & (m->size - 1))
			if (m->page[j] == p + 1) {
				m->page[j] = UINT64_MAX;
				break;
			}
}

struct live {				/* a mapping live at the chosen read */
	uint64_t start, end, pss_bytes, rss_pages;
	char label[96], cls[24];
	struct agg per_stack;		/* stack id -> attributed pages */
	uint64_t attributed;
};

static int cmp_live(const void *a, const void *b)
{
	const struct live *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The per-mapping read for a moment: first, end, peak, or the last at or before t0+S. */
static int pick_read(sqlite3 *db, const char *at, int64_t *read_id, int64_t *t)
{
	char sql[256];
	sqlite3_stmt *s;

	*read_id = -1;
	if (!strcmp(at, "first"))
		snprintf(sql, sizeof(sql), "SELECT id, t_ns FROM smaps_read WHERE kind != 'rollup' "
			 "ORDER BY id LIMIT 1");
	else if (!strcmp(at, "end"))
		snprintf(sql, sizeof(sql), "SELECT id, t_ns FROM smaps_read WHERE kind != 'rollup' "
			 "ORDER BY id DESC LIMIT 1");
	else if (!strcmp(at, "peak"))
		snprintf(sql, sizeof(sql), "SELECT id, t_ns FROM smaps_read WHERE kind != 'rollup' "
			 "ORDER BY pss_kb DESC, id LIMIT 1");
	else
		snprintf(sql, sizeof(sql), "SELECT id, t_ns FROM smaps_read WHERE kind != 'rollup' AND "
			 "t_ns <= (SELECT min(mono_ns) FROM clock) + %.0f ORDER BY id DESC LIMIT 1",
			 atof(at) * 1e9);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		*read_id = sqlite3_column_int64(s, 0);
		*t = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return *read_id < 0 ? -1 : 0;
}

static int holder_lines(struct symctx *c, const struct gs_folded_opts *o, int64_t t,
			uint64_t pss, struct agg *agg, int *used);

/* Seconds from the recording's start to t_ns t. */
static double pick_secs(sqlite3 *db, int64_t t)
{
	sqlite3_stmt *s;
	double v = 0;

	if (sqlite3_prepare_v2(db, "SELECT (? - min(mono_ns)) / 1e9 FROM clock", -1, &s, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(s, 1, t);
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_double(s, 0);
		sqlite3_finalize(s);
	}
	return v;
}

/* Whether the weight gives the heap class by holder (pss, pss-growth). */
static int by_holder(const struct gs_folded_opts *o)
{
	return !strcmp(o->weight, "pss") || !strcmp(o->weight, "pss-growth");
}

/*
 * Pss at a read, by class, mapping and the stack that made it resident,
 * into agg; with by_holder(o), the heap class by the allocation stacks
 * that hold it (holder_lines) when the trace has a heap profile by then.
 */
static int pss_agg(struct symctx *c, const struct gs_folded_opts *o, int64_t read_id, int64_t t,
		   struct agg *out, char *msg, size_t msglen)
{
	sqlite3 *db = c->db;
	sqlite3_stmt *s = NULL, *f = NULL, *r = NULL;
	struct pagemap pm = { 0 };
	struct live *lv = NULL;
	size_t nlv = 0;
	struct agg agg = { 0 };
	int ret = -1;
	char sql[512];

	/* replay faults and releases up to that moment, in time order */
	if (sqlite3_prepare_v2(db, "SELECT t_ns, addr, stack_id, coalesce(goid, -1) FROM fault "
			       "WHERE t_ns <= ? ORDER BY rowid",
			       -1, &f, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT t_ns, kind, addr, len, arg FROM release WHERE t_ns <= ? "
			       "ORDER BY rowid", -1, &r, NULL)) {
		snprintf(msg, msglen, "this trace has no page faults (recorded without eBPF, or by an "
			 "older gsrec): --weight pss needs them");
		ret = 1;
		goto out;
	}
	sqlite3_bind_int64(f, 1, t);
	sqlite3_bind_int64(r, 1, t);
	int fm = sqlite3_step(f) == SQLITE_ROW, rm = sqlite3_step(r) == SQLITE_ROW;
	uint64_t brk_top = 0;

	while (fm || rm) {
		if (fm && (!rm || sqlite3_column_int64(f, 0) <= sqlite3_column_int64(r, 0))) {
			if (pm_fault(&pm, (uint64_t)sqlite3_column_int64(f, 1) >> 12,
				     sqlite3_column_int64(f, 2), sqlite3_column_int64(f, 3)) < 0)
				goto out;
			fm = sqlite3_step(f) == SQLITE_ROW;
		} else {
			const char *kind = (const char *)sqlite3_column_text(r, 1);
			uint64_t addr = (uint64_t)sqlite3_column_int64(r, 2);
			uint64_t len = (uint64_t)sqlite3_column_int64(r, 3);
			uint64_t arg = (uint64_t)sqlite3_column_int64(r, 4);

			if (!strcmp(kind, "brk")) {
				if (arg && brk_top && arg < brk_top)
					pm_release(&pm, (arg + 4095) >> 12, (brk_top + 4095) >> 12);
				if (arg)
					brk_top = arg;
			} else {
				/* munmap, madvise (a freeing advice), mremap's old range */
				pm_release(&pm, addr >> 12, (addr + len + 4095) >> 12);
			}
			rm = sqlite3_step(r) == SQLITE_ROW;
		}
	}
	/* the mappings live at that read, with their Pss and Rss */
	snprintf(sql, sizeof(sql),
		 "SELECT m.start, m.end, m.path, m.class, v.pss_kb, v.rss_kb FROM mapping m "
		 "JOIN mapping_value v ON v.mapping_id = m.id WHERE m.first_read <= %lld AND "
		 "(m.last_read IS NULL OR m.last_read >= %lld) AND v.read_id = (SELECT max(read_id) "
		 "FROM mapping_value WHERE mapping_id = m.id AND read_id <= %lld)",
		 (long long)read_id, (long long)read_id, (long long)read_id);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL))
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct live *n = realloc(lv, (nlv + 1) * sizeof(*lv));

		if (!n)
			goto out;
		lv = n;
		struct live *l = &lv[nlv++];
		const char *path = (const char *)sqlite3_column_text(s, 2);
		const char *slash = strrchr(path, '/');

		memset(l, 0, sizeof(*l));
		l->start = (uint64_t)sqlite3_column_int64(s, 0);
		l->end = (uint64_t)sqlite3_column_int64(s, 1);
		l->pss_bytes = (uint64_t)sqlite3_column_int64(s, 4) * 1024;
		l->rss_pages = (uint64_t)sqlite3_column_int64(s, 5) / 4;
		snprintf(l->cls, sizeof(l->cls), "%s", sqlite3_column_text(s, 3));
		if (path[0] == '[')
			snprintf(l->label, sizeof(l->label), "%s", path);
		else if (path[0])
			snprintf(l->label, sizeof(l->label), "[%s]", slash ? slash + 1 : path);
		else
			snprintf(l->label, sizeof(l->label), "[anon %#" PRIx64 "]", l->start);
	}
	qsort(lv, nlv, sizeof(*lv), cmp_live);
	/* attributed pages per mapping and stack */
	for (size_t i = 0; i < pm.size; i++) {
		if (!pm.page[i] || pm.page[i] == UINT64_MAX)
			continue;
		uint64_t a = (pm.page[i] - 1) << 12;
		size_t lo = 0, hi = nlv;

		while (lo < hi) {	/* last mapping with start <= a */
			size_t mid = (lo + hi) / 2;

			if (lv[mid].start <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo || a >= lv[lo - 1].end)
			continue;	/* a page outside every live mapping: it went away */
		char key[48];

		/* "stack" or, with --by-goroutine, "stack:goid" */
		if (o->by_goroutine)
			snprintf(key, sizeof(key), "%lld:%lld", (long long)pm.stack[i],
				 (long long)pm.goid[i]);
		else
			snprintf(key, sizeof(key), "%lld", (long long)pm.stack[i]);
		if (agg_add(&lv[lo - 1].per_stack, key, 1) < 0)
			goto out;
		lv[lo - 1].attributed++;
	}
	/* each mapping's Pss over its pages: attributed ones to their stacks,
	 * the rest [unattributed]; integer bytes that add up exactly */
	struct buf line = { 0 };
	int holder = 0;
	uint64_t heap_pss = 0;

	if (by_holder(o)) {
		for (size_t i = 0; i < nlv; i++)
			if (!strcmp(lv[i].cls, "heap"))
				heap_pss += lv[i].pss_bytes;
		if (holder_lines(c, o, t, heap_pss, &agg, &holder) < 0)
			goto out;
	}
	for (size_t i = 0; i < nlv; i++) {
		struct live *l = &lv[i];
		uint64_t pages = l->rss_pages > l->attributed ? l->rss_pages : l->attributed;
		uint64_t given = 0;

		if (!l->pss_bytes || (holder && !strcmp(l->cls, "heap")))
			continue;
		for (size_t k = 0; pages && k < l->per_stack.size; k++) {
			if (!l->per_stack.e[k].s)
				continue;
			uint64_t w = (uint64_t)((double)l->pss_bytes * (double)l->per_stack.e[k].n /
						(double)pages);

			line.len = 0;
			if (!o->no_class)
				put(&line, l->cls, strlen(l->cls), 0);
			if (!o->no_mapping)
				put(&line, l->label, strlen(l->label), line.len > 0);
			const char *colon = strchr(l->per_stack.e[k].s, ':');

			if (colon) {	/* --by-goroutine */
				char g[40];
				long long id = atoll(colon + 1);

				goroutine_label(g, sizeof(g), 0, id);
				put(&line, g, strlen(g), line.len > 0);
				if (id != 0)	/* put() made the space a '_' */
					line.p[line.len - strlen(g) + strlen("goroutine")] = ' ';
			}
			if (put_frames(&line, sym_stack(c, atoll(l->per_stack.e[k].s), 0)) < 0 ||
			    agg_add(&agg, line.p, w) < 0)
				goto out;
			given += w;
		}
		line.len = 0;
		if (!o->no_class)
			put(&line, l->cls, strlen(l->cls), 0);
		if (!o->no_mapping)
			put(&line, l->label, strlen(l->label), line.len > 0);
		put(&line, "[unattributed]", 14, line.len > 0);
		if (agg_add(&agg, line.p, l->pss_bytes - given) < 0)
			goto out;
	}
	free(line.p);
	if (by_holder(o) && !holder && heap_pss)
		fprintf(stderr, "gsreport: no heap profile snapshot by %.3f s: the heap class is given "
			"by first fault there, as pss-faults gives it\n", pick_secs(db, t));
	*out = agg;
	memset(&agg, 0, sizeof(agg));
	ret = 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(f);
	sqlite3_finalize(r);
	for (size_t i = 0; i < nlv; i++)
		agg_free(&lv[i].per_stack);
	free(lv);
	free(pm.page);
	free(pm.stack);
	free(pm.goid);
	agg_free(&agg);
	return ret;
}

static int pss_weight(struct symctx *c, FILE *out, const struct gs_folded_opts *o,
		      char *msg, size_t msglen)
{
	struct agg agg = { 0 };
	int64_t read_id, t;
	int ret;

	if (pick_read(c->db, o->at, &read_id, &t) < 0) {
		snprintf(msg, msglen, "no per-mapping smaps read %s in this trace",
			 !strcmp(o->at, "end") || !strcmp(o->at, "peak") ? "at all"
									: "at or before that time");
		return 1;
	}
	ret = pss_agg(c, o, read_id, t, &agg, msg, msglen);
	if (ret == 0) {
		ret = print_lines(&agg, out, o->unit_kb);
	}
	agg_free(&agg);
	return ret;
}

/*
 * Growth over [--from, --to]: the Pss lines at the read ending the window
 * less those at the read before it starts, so memory given back in the
 * window counts against the code that had made it resident. flamegraph.pl
 * takes no negative weights: lines that shrank are left out, and their
 * total is said on stderr.
 */
/*
 * b - a, line by line: what is left of b is what grew. Returns what shrank
 * (lines of a that b has less of, or lacks); with nsay, each such line is
 * said on stderr and counted there.
 */
static uint64_t agg_minus(struct agg *b, struct agg *a, uint64_t *nsay)
{
	uint64_t shrank = 0;

	for (size_t i = 0; i < b->size; i++) {
		if (!b->e[i].s)
			continue;
		uint64_t before = 0;

		if (a->size)
			for (size_t j = hstr(b->e[i].s) & (a->size - 1); a->e[j].s;
			     j = (j + 1) & (a->size - 1))
				if (!strcmp(a->e[j].s, b->e[i].s)) {
					before = a->e[j].n;
					a->e[j].n = 0;	/* matched */
					break;
				}
		if (b->e[i].n >= before) {
			b->e[i].n -= before;
			continue;
		}
		if (nsay) {
			fprintf(stderr, "gsreport: shrank by %llu bytes: %s\n",
				(unsigned long long)(before - b->e[i].n), b->e[i].s);
			(*nsay)++;
		}
		shrank += before - b->e[i].n;
		b->e[i].n = 0;
	}
	for (size_t j = 0; j < a->size; j++)	/* lines gone entirely */
		if (a->e[j].s && a->e[j].n) {
			if (nsay) {
				fprintf(stderr, "gsreport: shrank by %llu bytes: %s\n",
					(unsigned long long)a->e[j].n, a->e[j].s);
				(*nsay)++;
			}
			shrank += a->e[j].n;
		}
	return shrank;
}

static int pss_growth(struct symctx *c, FILE *out, const struct gs_folded_opts *o,
		      char *msg, size_t msglen)
{
	struct agg a = { 0 }, b = { 0 };
	int64_t ra, ta, rb, tb;
	uint64_t shrank = 0;
	int ret = 1;

	/*
	 * The window runs from the last per-mapping read at or before --from
	 * (by default, and when there is none, the first read: memory resident
	 * before recording began is not growth) to the last at or before --to
	 * (by default the last read).
	 */
	if (pick_read(c->db, "first", &ra, &ta) < 0) {
		snprintf(msg, msglen, "no per-mapping smaps read in this trace: no Pss to compare");
		return 1;
	}
	if (o->from) {
		int64_t r, t;

		if (pick_read(c->db, o->from, &r, &t) == 0 && r > ra) {
			ra = r;
			ta = t;
		}
	}
	if (pick_read(c->db, o->to ? o->to : "end", &rb, &tb) < 0 || rb <= ra) {
		snprintf(msg, msglen, "the window from %s to %s s holds only one per-mapping smaps "
			 "read: there is no growth to show (widen it, or leave out --from and --to "
			 "for the whole recording)", o->from ? o->from : "the first read",
			 o->to ? o->to : "end");
		return 1;
	}
	if ((ra >= 0 && (ret = pss_agg(c, o, ra, ta, &a, msg, msglen)) != 0) ||
	    (ret = pss_agg(c, o, rb, tb, &b, msg, msglen)) != 0)
		goto out;
	shrank = agg_minus(&b, &a, NULL);
	ret = print_lines(&b, out, o->unit_kb);
	if (shrank)
		fprintf(stderr, "gsreport: %llu bytes of Pss were given back or shrank in the window "
			"(lines that shrank are not shown)\n", (unsigned long long)shrank);
out:
	agg_free(&a);
	agg_free(&b);
	return ret;
}

/* ---- goroutine weights: goroutines, goroutine-creations, stack-growth ---- */

/* A moment (end, peak: the census with most goroutines, or seconds) as t_ns. */
static int64_t moment(sqlite3 *db, const char *at, int64_t dflt)
{
	sqlite3_stmt *s;
	int64_t t = dflt;
	char sql[256];

	if (!at || !strcmp(at, "end"))
		return dflt;
	if (!strcmp(at, "peak"))
		snprintf(sql, sizeof(sql), "SELECT c.t_ns FROM census c ORDER BY (SELECT sum(count) "
			 "FROM census_site WHERE census_id = c.id) DESC, c.id LIMIT 1");
	else
		snprintf(sql, sizeof(sql), "SELECT min(mono_ns) + %.0f FROM clock", atof(at) * 1e9);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		t = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return t;
}

/* Rows of (stack_id, sp_word, weight) from sql with ?1, ?2 its bounds (?2 may be unused). */
static int stack_rows(struct symctx *c, struct agg *agg, const char *sql, int64_t a, int64_t b,
		      uint64_t *total)
{
	sqlite3_stmt *s;
	struct buf line = { 0 };
	int ret = -1;

	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL))
		return 1;
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	while (sqlite3_step(s) == SQLITE_ROW) {
		uint64_t n = (uint64_t)sqlite3_column_int64(s, 2);

		if (!n)
			continue;
		if (add_line(agg, &line, NULL, sym_stack(c, sqlite3_column_int64(s, 0),
							 (uint64_t)sqlite3_column_int64(s, 1)), n) < 0)
			goto out;
		*total += n;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	free(line.p);
	return ret;
}

/* Say on stderr how much of [a, b] the goroutine probes were paused. */
static void paused_note(sqlite3 *db, int64_t a, int64_t b, const char *what)
{
	double off = gs_go_paused(db, a, b);

	if (off >= 0)
		fprintf(stderr, "gsreport: the goroutine probes were paused for %.0f%% of the "
			"window (gsrec --go-rate), so %s a sample\n", 100.0 * off, what);
}

static int goroutine_weight(struct symctx *c, FILE *out, const struct gs_folded_opts *o,
			    char *msg, size_t msglen)
{
	struct agg agg = { 0 };
	uint64_t total = 0;
	int64_t first = 0, last = INT64_MAX;
	int ret = -1;
	sqlite3_stmt *s;

	/* creation stacks start at the go statement's return address; copied
	 * stacks at the pc saved in g.sched, after a call */
	c->leaf_returns = 1;
	if (sqlite3_prepare_v2(c->db, "SELECT min(mono_ns), (SELECT max(t_ns) FROM statm) FROM clock",
			       -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		first = sqlite3_column_int64(s, 0);
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			last = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (!strcmp(o->weight, "goroutines")) {
		int64_t t = moment(c->db, o->at, last);
		/* a creation followed by a pause of the probes (gsrec --go-rate)
		 * may have exited unseen: the census counts those instead */
		int paused = gs_go_paused(c->db, INT64_MIN, INT64_MAX) >= 0;
		int r = stack_rows(c, &agg, "SELECT stack_id, 0, count(*) FROM go_create g WHERE "
				   "t_ns <= ?1 AND (exit_t_ns IS NULL OR exit_t_ns > ?1) AND NOT EXISTS "
				   "(SELECT 1 FROM go_pause p WHERE p.end_ns > g.t_ns AND p.t_ns < ?1) "
				   "GROUP BY stack_id", t, 0, &total);
		struct gs_gosym sym;
		sqlite3_stmt *q;

		if (r)
			goto out;
		/*
		 * Goroutines that were there before recording began, or whose
		 * creation fell in a pause, have no creation event: the census
		 * nearest before t counts them by creation site, less those the
		 * events account for.
		 */
		gs_gosym_open(c->db, &sym);
		if (sqlite3_prepare_v2(c->db, "SELECT s.gopc, s.startpc, s.count - (SELECT count(*) "
				       "FROM go_create g WHERE g.gopc = s.gopc AND g.startpc = s.startpc "
				       "AND g.t_ns <= c.t_ns AND (g.exit_t_ns IS NULL OR g.exit_t_ns > c.t_ns) "
				       "AND NOT EXISTS (SELECT 1 FROM go_pause p WHERE p.end_ns > g.t_ns "
				       "AND p.t_ns < c.t_ns)) "
				       "FROM census_site s JOIN census c ON c.id = s.census_id WHERE c.id = "
				       "(SELECT coalesce((SELECT max(id) FROM census WHERE t_ns <= ?1), "
				       "(SELECT min(id) FROM census)))", -1, &q, NULL) == SQLITE_OK) {
			struct buf line = { 0 };

			sqlite3_bind_int64(q, 1, t);
			while (sqlite3_step(q) == SQLITE_ROW) {
				int64_t n = sqlite3_column_int64(q, 2);
				int l1, l2;
				const char *f1 = gs_gosym_func(&sym, (uint64_t)sqlite3_column_int64(q, 0), &l1);
				const char *f2 = gs_gosym_func(&sym, (uint64_t)sqlite3_column_int64(q, 1), &l2);
				char fr[512];

				if (n <= 0)
					continue;
				snprintf(fr, sizeof(fr), "%s;%.*s;[go] %.*s",
					 paused ? "[creation not recorded]" : "[before recording]",
					 l1, f1, l2, f2);
				if (add_line(&agg, &line, NULL, fr, (uint64_t)n) < 0)
					break;
				total += (uint64_t)n;
			}
			free(line.p);
			sqlite3_finalize(q);
		}
		gs_gosym_close(&sym);
	} else {
		int64_t a = o->from ? moment(c->db, o->from, first) : first;
		int64_t b = o->to ? moment(c->db, o->to, INT64_MAX) : INT64_MAX;
		int growth = !strcmp(o->weight, "stack-growth");
		int r = stack_rows(c, &agg, growth
			? "SELECT stack_id, sp_word, sum(new_size - old_size) FROM go_stack WHERE "
			  "new_size > old_size AND t_ns BETWEEN ?1 AND ?2 GROUP BY stack_id, sp_word"
			: "SELECT stack_id, 0, count(*) FROM go_create WHERE t_ns BETWEEN ?1 AND ?2 "
			  "GROUP BY stack_id", a, b, &total);

		if (r)
			goto out;
		paused_note(c->db, a, b, growth ? "the stack growth shown is" : "the creations shown are");
	}
	if (!total) {
		snprintf(msg, msglen, "this trace has no %s in that window (recorded without eBPF "
			 "or the goroutine probes, or by an older gsrec: see `gsreport summary`)",
			 !strcmp(o->weight, "stack-growth") ? "stack growth" : "goroutines");
		ret = 1;
		goto out;
	}
	ret = print_lines(&agg, out, o->unit_kb && !strcmp(o->weight, "stack-growth"));
out:
	agg_free(&agg);
	return ret;
}

/* ---- the runtime's heap profile: heap, heap-growth ---- */

/*
 * The heap class's Pss (pss bytes at t) by holder: the goroutine stacks in
 * it as the last census counted them, and the rest to the allocation stacks
 * of the last heap profile snapshot read at or before t, each given its
 * share of the in-use bytes; integer bytes that add up to pss exactly (the
 * rounding goes to the largest). *used: 0 when there is no such snapshot.
 */
static int holder_lines(struct symctx *c, const struct gs_folded_opts *o, int64_t t,
			uint64_t pss, struct agg *agg, int *used)
{
	struct gs_heap_snap snap = { 0 };
	struct gs_heap_site *v;
	sqlite3_stmt *s;
	size_t n;
	struct buf line = { 0 };
	uint64_t total = 0, given = 0;
	int ret = -1;

	*used = 0;
	if (sqlite3_prepare_v2(c->db, "SELECT seq, cycle, t_ns, rate FROM heap_snapshot WHERE "
			       "known AND t_ns <= ? ORDER BY seq DESC LIMIT 1", -1, &s, NULL))
		return 0;	/* no heap_snapshot table: an older database */
	sqlite3_bind_int64(s, 1, t);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return 0;
	}
	snap.seq = sqlite3_column_int64(s, 0);
	snap.cycle = sqlite3_column_int64(s, 1);
	snap.t_ns = sqlite3_column_int64(s, 2);
	snap.rate = (uint64_t)sqlite3_column_int64(s, 3);
	sqlite3_finalize(s);
	if (gs_heap_state(c->db, &snap, &v, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		total += v[i].inuse_bytes > 0 ? (uint64_t)v[i].inuse_bytes : 0;
	if (!total) {
		free(v);
		return 0;
	}
	size_t big = 0;
	char *bigline = NULL;

	/* goroutine stacks live in the heap's arenas but not in its profile:
	 * the last census's stack bytes are theirs */
	if (sqlite3_prepare_v2(c->db, "SELECT stack_bytes FROM census WHERE t_ns <= ? ORDER BY t_ns "
			       "DESC LIMIT 1", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, t);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) > 0) {
			uint64_t sb = (uint64_t)sqlite3_column_int64(s, 0);

			if (sb > pss)
				sb = pss;
			line.len = 0;
			if (!o->no_class)
				put(&line, "heap", 4, 0);
			put(&line, "[goroutine-stacks]", 18, line.len > 0);
			if (agg_add(agg, line.p, sb) < 0) {
				sqlite3_finalize(s);
				free(v);
				free(line.p);
				return -1;
			}
			pss -= sb;
		}
		sqlite3_finalize(s);
	}

	c->logical = 1;
	for (size_t i = 0; i < n; i++) {
		if (v[i].inuse_bytes <= 0)
			continue;
		uint64_t w = (uint64_t)((double)pss * (double)v[i].inuse_bytes / (double)total);

		line.len = 0;
		if (!o->no_class)
			put(&line, "heap", 4, 0);
		if (!o->no_mapping)
			put(&line, "[heap-profile]", 14, line.len > 0);
		if (put_frames(&line, sym_stack(c, v[i].stack_id, 0)) < 0 || agg_add(agg, line.p, w) < 0)
			goto out;
		given += w;
		if ((uint64_t)v[i].inuse_bytes > big) {
			big = (size_t)v[i].inuse_bytes;
			free(bigline);
			bigline = strdup(line.p);
		}
	}
	if (bigline && given < pss && agg_add(agg, bigline, pss - given) < 0)
		goto out;
	*used = 1;
	ret = 0;
out:
	c->logical = 0;
	free(bigline);
	free(line.p);
	free(v);
	return ret;
}

/* In-use bytes by symbolized allocation stack in one snapshot. */
static int heap_agg(struct symctx *c, const struct gs_heap_snap *snap, struct agg *a,
		    uint64_t *total)
{
	struct gs_heap_site *v;
	size_t n;
	int ret = 0;

	if (gs_heap_state(c->db, snap, &v, &n) < 0)
		return -1;
	c->logical = 1;
	*total = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (v[i].inuse_bytes <= 0)
			continue;
		ret = agg_add(a, sym_stack(c, v[i].stack_id, 0), (uint64_t)v[i].inuse_bytes);
		*total += (uint64_t)v[i].inuse_bytes;
	}
	c->logical = 0;
	free(v);
	return ret;
}

static int heap_weight(struct symctx *c, FILE *out, const struct gs_folded_opts *o,
		       char *msg, size_t msglen)
{
	struct gs_heap_snap snap = { 0 };
	struct agg a = { 0 };
	uint64_t total;
	int ret = gs_heap_pick(c->db, o->at, o->cycle, &snap, msg, msglen);

	if (ret)
		return ret;
	if (heap_agg(c, &snap, &a, &total) < 0) {
		agg_free(&a);
		return -1;
	}
	ret = print_lines(&a, out, o->unit_kb);
	fprintf(stderr, "gsreport: the Go heap in use as of GC cycle %lld's mark termination: "
		"%llu bytes (sampled 1 in %llu bytes, scaled up as pprof does)\n",
		(long long)snap.cycle, (unsigned long long)total, (unsigned long long)snap.rate);
	agg_free(&a);
	return ret;
}

static int heap_growth(struct symctx *c, FILE *out, const struct gs_folded_opts *o,
		       char *msg, size_t msglen)
{
	struct gs_heap_snap sa = { 0 }, sb = { 0 };
	struct agg a = { 0 }, b = { 0 };
	uint64_t ta, tb, shrank = 0, nshrank = 0;
	int ret;

	/* from the first snapshot (or the last at or before --from) to the
	 * last (or the last at or before --to) */
	if ((ret = gs_heap_pick(c->db, o->from ? o->from : "0", -1, &sa, msg, msglen)) == 1 &&
	    !o->from) {
		sqlite3_stmt *s;

		ret = 1;
		if (sqlite3_prepare_v2(c->db, "SELECT seq, cycle, t_ns, rate FROM heap_snapshot "
				       "WHERE known ORDER BY seq LIMIT 1", -1, &s, NULL) == SQLITE_OK) {
			if (sqlite3_step(s) == SQLITE_ROW) {
				sa.seq = sqlite3_column_int64(s, 0);
				sa.cycle = sqlite3_column_int64(s, 1);
				sa.t_ns = sqlite3_column_int64(s, 2);
				sa.rate = (uint64_t)sqlite3_column_int64(s, 3);
				ret = 0;
			}
			sqlite3_finalize(s);
		}
	}
	if (ret || (ret = gs_heap_pick(c->db, o->to ? o->to : "end", -1, &sb, msg, msglen)))
		return ret;
	if (sb.seq <= sa.seq) {
		snprintf(msg, msglen, "the window from %s to %s s holds one heap profile snapshot "
			 "(GC cycle %lld): there is no growth to show", o->from ? o->from : "the start",
			 o->to ? o->to : "end", (long long)sa.cycle);
		return 1;
	}
	if (heap_agg(c, &sa, &a, &ta) < 0 || heap_agg(c, &sb, &b, &tb) < 0) {
		ret = -1;
		goto out;
	}
	/* lines that shrank are said on stderr, one by one */
	shrank = agg_minus(&b, &a, &nshrank);
	ret = print_lines(&b, out, o->unit_kb);
	fprintf(stderr, "gsreport: the Go heap in use went from %llu bytes (GC cycle %lld) to %llu "
		"bytes (GC cycle %lld); %llu stacks shrank, by %llu bytes in all (above)\n",
		(unsigned long long)ta, (long long)sa.cycle, (unsigned long long)tb,
		(long long)sb.cycle, (unsigned long long)nshrank, (unsigned long long)shrank);
out:
	agg_free(&a);
	agg_free(&b);
	return ret;
}

int gs_folded(sqlite3 *db, FILE *out, const struct gs_folded_opts *o, char *msg, size_t msglen)
{
	struct symctx c;
	int ret;

	if (strcmp(o->weight, "cpu") && strcmp(o->weight, "faults") &&
	    strcmp(o->weight, "fault-bytes") && strcmp(o->weight, "pss") &&
	    strcmp(o->weight, "pss-growth") && strcmp(o->weight, "goroutines") &&
	    strcmp(o->weight, "goroutine-creations") && strcmp(o->weight, "stack-growth") &&
	    strcmp(o->weight, "heap") && strcmp(o->weight, "heap-growth") &&
	    strcmp(o->weight, "pss-faults") && strcmp(o->weight, "pss-faults-growth")) {
		snprintf(msg, msglen, "--weight %s is not available: use pss, pss-growth, pss-faults, "
			 "pss-faults-growth, heap, heap-growth, cpu, faults, fault-bytes, goroutines, "
			 "goroutine-creations or stack-growth", o->weight);
		return 1;
	}
	if (sym_open(&c, db) < 0) {
		snprintf(msg, msglen, "this trace has no stacks (recorded without eBPF, or by an "
			 "older gsrec)");
		sym_close(&c);
		return 1;
	}
	if (!strcmp(o->weight, "goroutines") || !strcmp(o->weight, "goroutine-creations") ||
	    !strcmp(o->weight, "stack-growth"))
		ret = goroutine_weight(&c, out, o, msg, msglen);
	else if (!strcmp(o->weight, "heap"))
		ret = heap_weight(&c, out, o, msg, msglen);
	else if (!strcmp(o->weight, "heap-growth"))
		ret = heap_growth(&c, out, o, msg, msglen);
	else
		ret = !strcmp(o->weight, "pss") || !strcmp(o->weight, "pss-faults")
			      ? pss_weight(&c, out, o, msg, msglen)
		      : !strcmp(o->weight, "pss-growth") || !strcmp(o->weight, "pss-faults-growth")
			      ? pss_growth(&c, out, o, msg, msglen)
			      : count_weight(&c, out, o, msg, msglen);
	sym_close(&c);
	return ret;
}

/* ---- symbolized stacks for other reports ---- */

struct gs_stacks {
	struct symctx c;
};

struct gs_stacks *gs_stacks_open(sqlite3 *db, int leaf_returns)
{
	struct gs_stacks *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (sym_open(&s->c, db) < 0) {
		sym_close(&s->c);
		free(s);
		return NULL;
	}
	s->c.leaf_returns = leaf_returns;
	return s;
}

const char *gs_stacks_text(struct gs_stacks *s, int64_t id, uint64_t sp_word)
{
	return sym_stack(&s->c, id, sp_word);
}

struct gs_stacks *gs_stacks_open_heap(sqlite3 *db)
{
	struct gs_stacks *s = gs_stacks_open(db, 0);

	if (s)
		s->c.logical = 1;
	return s;
}

void gs_stacks_close(struct gs_stacks *s)
{
	if (!s)
		return;
	sym_close(&s->c);
	free(s);
}

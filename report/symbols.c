/*
 * symbols.c - symbolization from what a trace holds, never from the
 * binaries: the objects and their tables imported into the database
 * (object, object_table). Go objects resolve through their embedded
 * pclntab and inline trees; other objects, and the C code of cgo binaries,
 * through their embedded ELF function symbols.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"

/* Concatenate a table's chunks (they are keyed by offset). */
static int load_table(sqlite3 *db, uint32_t id, const char *kind, uint8_t **data, size_t *len)
{
	sqlite3_stmt *s;
	uint8_t *buf = NULL;
	size_t n = 0;
	int ok = 1;

	*data = NULL;
	*len = 0;
	if (sqlite3_prepare_v2(db, "SELECT total, offset, data FROM object_table WHERE "
			       "object_id=? AND kind=? ORDER BY offset", -1, &s, NULL))
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		uint64_t total = (uint64_t)sqlite3_column_int64(s, 0);
		uint64_t off = (uint64_t)sqlite3_column_int64(s, 1);
		size_t k = (size_t)sqlite3_column_bytes(s, 2);

		if (!buf) {
			if (total > (1ull << 32) || !(buf = malloc(total ? total : 1))) {
				ok = 0;
				break;
			}
			n = (size_t)total;
		}
		if (off != *len || k > n - off) {	/* a missing or overlapping chunk */
			ok = 0;
			break;
		}
		memcpy(buf + off, sqlite3_column_blob(s, 2), k);
		*len += k;
	}
	sqlite3_finalize(s);
	if (!ok || (buf && *len != n)) {
		free(buf);
		*len = 0;
		return buf || !ok ? -1 : 0;
	}
	*data = buf;
	return 0;
}

static int parse_syms(struct gs_object *o)
{
	const uint8_t *p = o->symtab, *end = o->symtab + o->symtab_len;
	uint64_t v[3];
	uint64_t n;

#define UV(x)                                                                   \
	do {                                                                    \
		uint64_t r_ = 0;                                                \
		int s_ = 0;                                                     \
		for (;;) {                                                      \
			if (p >= end || s_ > 63)                                \
				return -1;                                      \
			r_ |= (uint64_t)(*p & 0x7f) << s_;                      \
			s_ += 7;                                                \
			if (!(*p++ & 0x80))                                     \
				break;                                          \
		}                                                               \
		(x) = r_;                                                       \
	} while (0)
	UV(n);
	if (n > o->symtab_len)
		return -1;
	o->sym = calloc(n ? n : 1, sizeof(*o->sym));
	if (!o->sym)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		UV(v[0]);
		UV(v[1]);
		UV(v[2]);
		if (v[2] > (uint64_t)(end - p))
			return -1;
		o->sym[i] = (struct gs_sym){ v[0], v[1], (const char *)p, (uint32_t)v[2] };
		p += v[2];
	}
#undef UV
	o->nsym = (uint32_t)n;
	return 0;
}

/* The go.text table (FORMAT.md §6.13 kind 4), when the trace has one. */
static int go_text(sqlite3 *db, struct gs_object *o)
{
	uint8_t *t;
	size_t n;
	uint64_t v[2];
	size_t at = 0;

	if (load_table(db, o->id, "go.text", &t, &n) < 0)
		return -1;
	if (!t)
		return 0;
	for (int k = 0; k < 2; k++) {	/* uv text, uv strlen */
		int shift = 0;

		v[k] = 0;
		do {
			if (at >= n || shift > 63) {
				free(t);
				return -1;
			}
			v[k] |= (uint64_t)(t[at] & 0x7f) << shift;
			shift += 7;
		} while (t[at++] & 0x80);
	}
	if (v[1] > n - at || !v[0]) {
		free(t);
		return -1;
	}
	o->text = v[0];
	snprintf(o->text_source, sizeof(o->text_source), "%.*s", (int)v[1], (const char *)t + at);
	free(t);
	return 0;
}

int gs_objects_load(sqlite3 *db, struct gs_objects *out, char *err, size_t errlen)
{
	sqlite3_stmt *s;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(db, "SELECT id, flags, path, build_id, go_version FROM object "
			       "ORDER BY id", -1, &s, NULL)) {
		snprintf(err, errlen, "this database has no object tables (imported by an older "
			 "gsreport?)");
		return -1;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct gs_object *o = realloc(out->o, (out->n + 1) * sizeof(*o));

		if (!o)
			break;
		out->o = o;
		o = &out->o[out->n++];
		memset(o, 0, sizeof(*o));
		o->id = (uint32_t)sqlite3_column_int64(s, 0);
		o->flags = (uint32_t)sqlite3_column_int64(s, 1);
		o->path = strdup((const char *)sqlite3_column_text(s, 2));
		o->build_id = strdup((const char *)sqlite3_column_text(s, 3));
		o->go_version = strdup((const char *)sqlite3_column_text(s, 4));
		if (load_table(db, o->id, "go.pclntab", &o->pclntab, &o->pclntab_len) < 0 ||
		    load_table(db, o->id, "go.inltree", &o->inltab, &o->inltab_len) < 0 ||
		    load_table(db, o->id, "elf.symbols", &o->symtab, &o->symtab_len) < 0) {
			snprintf(o->err, sizeof(o->err), "its tables are incomplete in this trace");
			continue;
		}
		if (go_text(db, o) < 0) {
			snprintf(o->err, sizeof(o->err), "its go.text table is damaged");
			continue;
		}
		if (o->pclntab &&
		    gs_gobin_from_tables(&o->go, o->pclntab, o->pclntab_len, o->inltab,
					 o->inltab_len, o->text, o->err, sizeof(o->err)) == 0) {
			o->has_go = 1;
			gs_pcln_cache_enable(&o->go.pcln, 16);
		}
		if (o->symtab && parse_syms(o) < 0)
			snprintf(o->err, sizeof(o->err), "its symbol table is damaged");
	}
	sqlite3_finalize(s);
	return 0;
}

void gs_objects_free(struct gs_objects *objs)
{
	for (uint32_t i = 0; i < objs->n; i++) {
		struct gs_object *o = &objs->o[i];

		free(o->path);
		free(o->build_id);
		free(o->go_version);
		free(o->pclntab);
		free(o->inltab);
		free(o->symtab);
		free(o->sym);
		gs_pcln_release(&o->go.pcln);
	}
	free(objs->o);
	memset(objs, 0, sizeof(*objs));
}

int gs_object_bias(sqlite3 *db, const struct gs_object *o, int64_t *bias)
{
	sqlite3_stmt *s, *q;
	int ret = -1;

	/* the object's dev and inode; its segments as a JSON array */
	if (sqlite3_prepare_v2(db, "SELECT dev, inode, segments FROM object WHERE id=?", -1, &q, NULL))
		return -1;
	sqlite3_bind_int64(q, 1, o->id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return -1;
	}
	uint64_t dev = (uint64_t)sqlite3_column_int64(q, 0);
	char devs[24];

	/* mapping.dev is "maj:min" in hex, as smaps prints it (glibc's makedev layout) */
	snprintf(devs, sizeof(devs), "%02x:%02x",
		 (unsigned)(((dev >> 32) & 0xfffff000u) | ((dev >> 8) & 0xfffu)),
		 (unsigned)(((dev >> 12) & 0xffffff00u) | (dev & 0xffu)));
	if (sqlite3_prepare_v2(db, "SELECT m.start, m.offset, "
			       "json_extract(j.value, '$.offset'), json_extract(j.value, '$.vaddr') "
			       "FROM mapping m, json_each(?) j WHERE m.inode = ? AND m.dev = ? "
			       "AND m.offset >= json_extract(j.value, '$.offset') AND m.offset < "
			       "json_extract(j.value, '$.offset') + json_extract(j.value, '$.filesz') "
			       "ORDER BY m.id LIMIT 1", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, (const char *)sqlite3_column_text(q, 2), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 2, sqlite3_column_int64(q, 1));
		sqlite3_bind_text(s, 3, devs, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW) {
			int64_t start = sqlite3_column_int64(s, 0), off = sqlite3_column_int64(s, 1);
			int64_t poff = sqlite3_column_int64(s, 2), pvaddr = sqlite3_column_int64(s, 3);

			*bias = start - off - (pvaddr - poff);
			ret = 0;
		}
		sqlite3_finalize(s);
	}
	sqlite3_finalize(q);
	return ret;
}

struct gs_object *gs_objects_find(struct gs_objects *objs, const char *key)
{
	for (uint32_t i = 0; i < objs->n; i++) {
		struct gs_object *o = &objs->o[i];

		if (!key ? (o->flags & GS_OBJ_MAIN) != 0
			 : !strcmp(o->path, key) || (o->build_id[0] && !strcmp(o->build_id, key)))
			return o;
	}
	/* a path given by its last component ("libc.so.6") */
	for (uint32_t i = 0; key && i < objs->n; i++) {
		const char *slash = strrchr(objs->o[i].path, '/');

		if (slash && !strcmp(slash + 1, key))
			return &objs->o[i];
	}
	return NULL;
}

static const struct gs_sym *find_sym(const struct gs_object *o, uint64_t addr)
{
	uint32_t lo = 0, hi = o->nsym;

	while (lo < hi) {	/* first symbol with value > addr */
		uint32_t mid = lo + (hi - lo) / 2;

		if (o->sym[mid].value > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (!lo)
		return NULL;
	const struct gs_sym *s = &o->sym[lo - 1];

	return !s->size || addr < s->value + s->size ? s : NULL;
}

int gs_object_symbolize(struct gs_object *o, uint64_t addr, int inlines,
			struct gs_symframe *out, int max)
{
	struct gs_frame fr[32];
	int n = 0;

	if (max <= 0)
		return 0;
	if (o->has_go) {
		if (inlines) {
			int k = gs_pcln_frames(&o->go.pcln, addr, fr, max < 32 ? max : 32);

			for (int i = 0; i < k; i++)
				out[n++] = (struct gs_symframe){ fr[i].func, (int)strlen(fr[i].func),
								  fr[i].file, fr[i].line };
			if (n)
				return n;
		} else if (gs_pcln_addr2line(&o->go.pcln, addr, fr) == 0) {
			out[0] = (struct gs_symframe){ fr[0].func, (int)strlen(fr[0].func), fr[0].file,
						       fr[0].line };
			return 1;
		}
	}
	const struct gs_sym *s = find_sym(o, addr);

	if (!s)
		return 0;
	out[0] = (struct gs_symframe){ s->name, (int)s->name_len, "?", 0 };
	return 1;
}

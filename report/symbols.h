/*
 * symbols.h - symbolizing addresses from the tables a trace embeds.
 */
#ifndef GS_SYMBOLS_H
#define GS_SYMBOLS_H

#include <sqlite3.h>
#include <stdint.h>

#include "common/gobin.h"
#include "format/trace.h"

struct gs_sym {
	uint64_t value, size;
	const char *name;		/* not NUL-terminated: name_len bytes */
	uint32_t name_len;
};

struct gs_object {
	uint32_t id, flags;
	char *path, *build_id, *go_version;
	uint8_t *pclntab, *inltab, *symtab;
	size_t pclntab_len, inltab_len, symtab_len;
	struct gs_gobin go;
	int has_go;
	uint64_t text;			/* go.text: what pclntab entries are from, 0 absent */
	char text_source[32];		/* where gsrec found it */
	struct gs_sym *sym;
	uint32_t nsym;
	char err[160];			/* why a table is unusable */
};

struct gs_objects {
	struct gs_object *o;
	uint32_t n;
};

struct gs_symframe {
	const char *func;
	int func_len;
	const char *file;		/* "?" when unknown */
	int line;
};

int gs_objects_load(sqlite3 *db, struct gs_objects *out, char *err, size_t errlen);
void gs_objects_free(struct gs_objects *objs);
/*
 * The object's load bias in the recorded process, from the trace's mappings:
 * runtime address = address in the file + bias. 0 and *bias set, or -1
 * when no mapping of it was recorded. Non-PIE executables have bias 0.
 */
int gs_object_bias(sqlite3 *db, const struct gs_object *o, int64_t *bias);

/* By path, last path component, or build-id; NULL key: the main executable. */
struct gs_object *gs_objects_find(struct gs_objects *objs, const char *key);
/* Frames at addr (an unrelocated address of the object), innermost first;
 * without inlines one frame, as `go tool addr2line` gives. 0 if unknown. */
int gs_object_symbolize(struct gs_object *o, uint64_t addr, int inlines,
			struct gs_symframe *out, int max);
#endif

/*
 * smaps.h - parsing /proc/PID/smaps and smaps_rollup text, and classifying
 * mappings into Go memory classes.
 */
#ifndef GS_SMAPS_H
#define GS_SMAPS_H

#include <stddef.h>
#include <stdint.h>

#include "format/trace.h"

/*
 * A parsed read. Parsing works in place: path and vmflags point into the
 * text buffer (which the parser NUL-terminates), so the text must live as
 * long as the mappings do.
 */
struct gs_smaps {
	struct gs_mapping *m;
	uint32_t n, cap;
};

/* Parse smaps (or smaps_rollup: one pseudo-mapping "[rollup]") text of len
 * bytes at text[0..len], which must have one spare byte at text[len].
 * Returns 0, or -1 with a reason in err when the text is not smaps. */
int gs_smaps_parse(char *text, size_t len, struct gs_smaps *out, char *err,
		   size_t errlen);
void gs_smaps_free(struct gs_smaps *s);

/* Go memory classes (README "Memory classes"). Numbers are stable. */
enum gs_class {
	GS_CL_HEAP, GS_CL_RUNTIME, GS_CL_BINARY, GS_CL_LIBS,
	GS_CL_THREAD_STACKS, GS_CL_C_HEAP, GS_CL_FILE, GS_CL_ANON_OTHER,
	GS_NCLASSES
};
const char *gs_class_name(int cls);

struct gs_classify_ctx {
	uint64_t exe_dev_major, exe_dev_minor, exe_inode;
	const char *exe_path;		/* as /proc/PID/exe reads, may end " (deleted)" */
	int is_go;
};

/*
 * Classify n mappings sorted by start address (as smaps lists them) into
 * cls[0..n-1]. Neighbours matter: a binary's .bss is the anonymous mapping
 * right after its data segment, a pthread stack sits above its guard page.
 */
void gs_classify(const struct gs_mapping *const *m, uint32_t n,
		 const struct gs_classify_ctx *ctx, uint8_t *cls);

#endif

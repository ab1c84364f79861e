/*
 * objects.h - the executables and shared objects a target maps, written to
 * the trace once each with their symbol tables (objects.c).
 */
#ifndef GS_OBJECTS_H
#define GS_OBJECTS_H

#include <sys/types.h>

#include "common/smaps.h"
#include "format/trace.h"

struct objkey {
	uint64_t dev, inode;
};

struct objects {
	pid_t pid;
	struct gs_writer *w;
	struct objkey *key;		/* objects already written */
	uint32_t n, cap, next_id;
	uint32_t written, unreadable;
	uint64_t table_bytes;		/* raw bytes of tables written */
	char layout_note[256];		/* what of the main executable's layout is missing */
	int64_t main_goid, main_g_m, main_m_curg;	/* its g.goid, g.m, m.curg, or -1 */
	int64_t main_go_id;		/* its object id if a Go program with a GO_LAYOUT, or -1 */
};

void objects_init(struct objects *o, pid_t pid, struct gs_writer *w);
/* Write every executable file mapping of s not written yet. exe_path is
 * the target's executable as /proc/PID/exe names it. 0, or -1 (errno) when
 * the writer failed. */
int objects_scan(struct objects *o, const struct gs_smaps *s, const char *exe_path);
void objects_free(struct objects *o);

#endif

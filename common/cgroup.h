/*
 * cgroup.h - the memory figures of a process's cgroup: v2 (memory.current,
 * memory.max, memory.events, memory.swap.current) or, when the memory
 * controller is on a v1 hierarchy, v1 (usage, limit, failcnt, oom_control).
 */
#ifndef GS_CGROUP_H
#define GS_CGROUP_H

#include <limits.h>
#include <sys/types.h>

#include "format/trace.h"

#define GS_CG_MAX_COUNTERS 16

struct gs_cgroup {
	int version;			/* 0: none found */
	char path[PATH_MAX];		/* within the hierarchy, e.g. /system.slice/x */
	char dir[PATH_MAX];		/* where its files are */
	int fd_usage, fd_limit, fd_swap, fd_events, fd_failcnt, fd_oom, fd_memsw;
	char names[GS_CG_MAX_COUNTERS][32];
	struct gs_counter counters[GS_CG_MAX_COUNTERS];
};

/*
 * Find pid's memory cgroup from cgroup_file (/proc/PID/cgroup) and the
 * mounts in mountinfo (/proc/self/mountinfo); both are parameters so tests
 * can use fixtures. 0 when found, -1 otherwise (version stays 0).
 */
int gs_cgroup_open(struct gs_cgroup *cg, const char *cgroup_file,
		   const char *mountinfo);
/* Read the current figures into out (counters point into cg). 0 or -1. */
int gs_cgroup_read(struct gs_cgroup *cg, struct gs_rec_cgroup *out);
void gs_cgroup_close(struct gs_cgroup *cg);

#endif

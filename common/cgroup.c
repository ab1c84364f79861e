/*
 * cgroup.c - locating and reading a process's memory cgroup.
 *
 * The files stay open and are re-read with pread, so a sample costs a few
 * syscalls and no path walks. A cgroup's directory is the hierarchy's mount
 * point plus the process's cgroup path less the mount's root (they differ
 * inside containers with a cgroup namespace).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"

/* v1 reports "no limit" as PAGE_COUNTER_MAX pages, ~2^63: anything this big. */
#define V1_NO_LIMIT (1ull << 62)

static int open_at(const char *dir, const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/*
 * mountinfo: "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - cgroup2 cg rw"
 * Fields 4 and 5 are the mount's root and mount point; after " - " come the
 * fs type and super options (v1 lists its controllers there).
 */
static int find_mount(const char *mountinfo, int v2, char *root, char *point)
{
	FILE *f = fopen(mountinfo, "re");
	char line[4096];
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char r[PATH_MAX], p[PATH_MAX], type[64], src[256], opts[1024];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", r, p) != 2 ||
		    sscanf(dash + 3, "%63s %255s %1023s", type, src, opts) != 3)
			continue;
		if (v2 ? !strcmp(type, "cgroup2")
		       : !strcmp(type, "cgroup") && strstr(opts, "memory") &&
			 (strstr(opts, ",memory") || !strncmp(opts, "memory", 6))) {
			strcpy(root, r);
			strcpy(point, p);
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

static int try_version(struct gs_cgroup *cg, const char *cgroup_file,
		       const char *mountinfo, int v2)
{
	FILE *f = fopen(cgroup_file, "re");
	char line[PATH_MAX + 128], path[PATH_MAX] = "", root[PATH_MAX], point[PATH_MAX];
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;

		if (!b)
			continue;
		line[strcspn(line, "\n")] = 0;
		*a = *b = 0;
		if (v2 ? !strcmp(line, "0") && a + 1 == b
		       : !strcmp(a + 1, "memory") || strstr(a + 1, ",memory") ||
			 !strncmp(a + 1, "memory,", 7)) {
			snprintf(path, sizeof(path), "%s", b + 1);
			found = 1;
		}
	}
	fclose(f);
	if (!found || find_mount(mountinfo, v2, root, point) < 0)
		return -1;

	const char *rel = path;
	size_t rl = strlen(root);

	if (strcmp(root, "/") && !strncmp(path, root, rl))
		rel = path + rl;
	snprintf(cg->path, sizeof(cg->path), "%s", path);
	snprintf(cg->dir, sizeof(cg->dir), "%s%s", point, rel);
	if (v2) {
		cg->fd_usage = open_at(cg->dir, "memory.current");
		if (cg->fd_usage < 0)
			return -1;	/* v2 without the memory controller here */
		cg->fd_limit = open_at(cg->dir, "memory.max");
		cg->fd_swap = open_at(cg->dir, "memory.swap.current");
		cg->fd_events = open_at(cg->dir, "memory.events");
	} else {
		cg->fd_usage = open_at(cg->dir, "memory.usage_in_bytes");
		if (cg->fd_usage < 0)
			return -1;
		cg->fd_limit = open_at(cg->dir, "memory.limit_in_bytes");
		cg->fd_memsw = open_at(cg->dir, "memory.memsw.usage_in_bytes");
		cg->fd_failcnt = open_at(cg->dir, "memory.failcnt");
		cg->fd_oom = open_at(cg->dir, "memory.oom_control");
	}
	cg->version = v2 ? 2 : 1;
	return 0;
}

static void reset(struct gs_cgroup *cg)
{
	memset(cg, 0, sizeof(*cg));
	cg->fd_usage = cg->fd_limit = cg->fd_swap = cg->fd_events = -1;
	cg->fd_failcnt = cg->fd_oom = cg->fd_memsw = -1;
}

int gs_cgroup_open(struct gs_cgroup *cg, const char *cgroup_file,
		   const char *mountinfo)
{
	/* v2 when its hierarchy has the memory controller, else v1's. */
	reset(cg);
	if (try_version(cg, cgroup_file, mountinfo, 1) == 0)
		return 0;
	gs_cgroup_close(cg);
	reset(cg);
	if (try_version(cg, cgroup_file, mountinfo, 0) == 0)
		return 0;
	gs_cgroup_close(cg);
	return -1;
}

void gs_cgroup_close(struct gs_cgroup *cg)
{
	int *fds[] = { &cg->fd_usage, &cg->fd_limit, &cg->fd_swap, &cg->fd_events,
		       &cg->fd_failcnt, &cg->fd_oom, &cg->fd_memsw };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	cg->version = 0;
}

static int read_small(int fd, char *buf, size_t n)
{
	if (fd < 0)
		return -1;
	ssize_t k = pread(fd, buf, n - 1, 0);

	if (k < 0)
		return -1;
	buf[k] = 0;
	return 0;
}

static int read_u64(int fd, uint64_t *v)
{
	char buf[64];

	if (read_small(fd, buf, sizeof(buf)) < 0)
		return -1;
	if (!strncmp(buf, "max", 3)) {
		*v = GS_CGROUP_NO_LIMIT;
		return 0;
	}
	return sscanf(buf, "%" SCNu64, v) == 1 ? 0 : -1;
}

/* "key value\n" lines into counters, names prefixed (e.g. "oom_kill"). */
static void read_keyed(struct gs_cgroup *cg, int fd, uint32_t *n)
{
	char buf[1024], *save = NULL;

	if (read_small(fd, buf, sizeof(buf)) < 0)
		return;
	for (char *line = strtok_r(buf, "\n", &save); line && *n < GS_CG_MAX_COUNTERS;
	     line = strtok_r(NULL, "\n", &save)) {
		char key[32];
		uint64_t v;

		if (sscanf(line, "%31s %" SCNu64, key, &v) != 2)
			continue;
		snprintf(cg->names[*n], sizeof(cg->names[0]), "%s", key);
		cg->counters[*n] = (struct gs_counter){ cg->names[*n], v };
		(*n)++;
	}
}

int gs_cgroup_read(struct gs_cgroup *cg, struct gs_rec_cgroup *out)
{
	uint32_t n = 0;
	uint64_t v;

	memset(out, 0, sizeof(*out));
	if (!cg->version || read_u64(cg->fd_usage, &out->usage) < 0)
		return -1;
	out->version = (uint32_t)cg->version;
	out->path = cg->path;
	out->limit = GS_CGROUP_NO_LIMIT;
	out->swap = GS_CGROUP_UNKNOWN;
	if (read_u64(cg->fd_limit, &v) == 0)
		out->limit = cg->version == 1 && v >= V1_NO_LIMIT ? GS_CGROUP_NO_LIMIT : v;
	if (cg->version == 2) {
		if (read_u64(cg->fd_swap, &v) == 0)
			out->swap = v;
		read_keyed(cg, cg->fd_events, &n);
	} else {
		if (read_u64(cg->fd_memsw, &v) == 0 && v >= out->usage)
			out->swap = v - out->usage;
		if (read_u64(cg->fd_failcnt, &v) == 0) {
			snprintf(cg->names[n], sizeof(cg->names[0]), "failcnt");
			cg->counters[n] = (struct gs_counter){ cg->names[n], v };
			n++;
		}
		read_keyed(cg, cg->fd_oom, &n);
	}
	out->ncounters = n;
	out->counters = cg->counters;
	return 0;
}

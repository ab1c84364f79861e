/*
 * test_cgroup.c - finding and reading a memory cgroup, v2 and v1, from
 * fixture trees (this machine's own hierarchy is tested end to end).
 */
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/cgroup.h"
#include "ut.h"

/* mountinfo needs absolute mount points: write one for the fixture trees. */
static const char *mountinfo(const char *v2dir)
{
	static char path[64];
	char cwd[PATH_MAX];
	FILE *in = fopen(FIXTURE("cgroup/mountinfo.in"), "r"), *out;
	char line[512];

	snprintf(path, sizeof(path), "/tmp/gs-ut-mountinfo-%d", (int)getpid());
	out = fopen(path, "w");
	if (!getcwd(cwd, sizeof(cwd)) || !in || !out)
		return "/nonexistent";
	while (fgets(line, sizeof(line), in)) {
		char *v2 = strstr(line, "/sys/fs/cgroup/V2"), *v1 = strstr(line, "/sys/fs/cgroup/V1");

		if (v2)
			fprintf(out, "%.*s%s/tests/fixtures/cgroup/%s%s", (int)(v2 - line), line,
				cwd, v2dir, v2 + strlen("/sys/fs/cgroup/V2"));
		else if (v1)
			fprintf(out, "%.*s%s/tests/fixtures/cgroup/v1%s", (int)(v1 - line), line,
				cwd, v1 + strlen("/sys/fs/cgroup/V1"));
		else
			fputs(line, out);
	}
	fclose(in);
	fclose(out);
	return path;
}

static uint64_t counter(const struct gs_rec_cgroup *r, const char *name)
{
	for (uint32_t i = 0; i < r->ncounters; i++)
		if (!strcmp(r->counters[i].name, name))
			return r->counters[i].value;
	return 999999;
}

TEST(cgroup_v2)
{
	struct gs_cgroup cg;
	struct gs_rec_cgroup r;
	const char *mi = mountinfo("v2");

	CHECK(gs_cgroup_open(&cg, FIXTURE("cgroup/proc-v2"), mi) == 0, "open");
	CHECK(cg.version == 2, "version %d", cg.version);
	CHECK(gs_cgroup_read(&cg, &r) == 0, "read");
	CHECK_STR(r.path, "/system.slice/app.service");
	CHECK_EQ_U(r.usage, 123456789);
	CHECK(r.limit == GS_CGROUP_NO_LIMIT, "limit %llu", (unsigned long long)r.limit);
	CHECK_EQ_U(r.swap, 4096);
	CHECK_EQ_U(counter(&r, "oom_kill"), 1);
	CHECK_EQ_U(counter(&r, "max"), 3);
	CHECK_EQ_U(r.ncounters, 6);
	gs_cgroup_close(&cg);
	unlink(mi);
}

TEST(cgroup_v1_and_hybrid)
{
	struct gs_cgroup cg;
	struct gs_rec_cgroup r;
	const char *mi = mountinfo("v2");

	CHECK(gs_cgroup_open(&cg, FIXTURE("cgroup/proc-v1"), mi) == 0, "open");
	CHECK(cg.version == 1, "version %d", cg.version);
	CHECK(gs_cgroup_read(&cg, &r) == 0, "read");
	CHECK_STR(r.path, "/docker/abc");
	CHECK_EQ_U(r.usage, 52428800);
	CHECK_EQ_U(r.limit, 104857600);
	CHECK_EQ_U(r.swap, 62914560 - 52428800);
	CHECK_EQ_U(counter(&r, "failcnt"), 7);
	CHECK_EQ_U(counter(&r, "oom_kill"), 4);
	gs_cgroup_close(&cg);
	unlink(mi);

	/* Hybrid: a v2 hierarchy without the memory controller falls back to v1. */
	mi = mountinfo("v2nomem");
	CHECK(gs_cgroup_open(&cg, FIXTURE("cgroup/proc-hybrid"), mi) == 0, "open hybrid");
	CHECK(cg.version == 1, "hybrid version %d", cg.version);
	gs_cgroup_close(&cg);
	CHECK(gs_cgroup_open(&cg, "/nonexistent", mi) < 0 && cg.version == 0, "no file");
	unlink(mi);
}

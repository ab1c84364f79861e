/*
 * test_smaps.c - the smaps parser on fixture text (VmFlags, THP, swap,
 * hugetlb, paths with spaces and " (deleted)") and on this process's own
 * smaps against the kernel's smaps_rollup, and the memory classifier.
 */
#include <stdlib.h>

#include "common/proc.h"
#include "common/smaps.h"
#include "ut.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	*len = f ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

static const char *const expect_class[] = {
	"binary", "binary", "binary", "c_heap", "heap", "heap", "runtime",
	"thread_stacks", "c_heap", "c_heap", "file", "file", "file", "libs", "libs",
	"libs", "libs", "runtime", "runtime", "thread_stacks", "libs",
};
#define NODD (sizeof(expect_class) / sizeof(expect_class[0]))

TEST(smaps_parse_fixture)
{
	size_t len;
	char *text = slurp(FIXTURE("smaps/odd.txt"), &len);
	struct gs_smaps s = { 0 };
	char err[128];

	CHECK(gs_smaps_parse(text, len, &s, err, sizeof(err)) == 0, "%s", err);
	CHECK_EQ_U(s.n, NODD);
	if (s.n != NODD)
		goto out;
	CHECK_STR(s.m[0].path, "/usr/bin/my server");
	CHECK_EQ_U(s.m[0].perms, GS_PERM_R | GS_PERM_X);
	CHECK_EQ_U(s.m[0].start, 0x400000);
	CHECK_EQ_U(s.m[0].end, 0x464000);
	CHECK_EQ_U(s.m[0].dev_major, 0xfe);
	CHECK_EQ_U(s.m[0].inode, 10952856);
	CHECK_STR(s.m[0].vmflags, "rd ex mr mw me");
	CHECK_STR(s.m[2].path, "");
	CHECK_EQ_U(s.m[4].v[GS_SM_ANON_HUGE], 61440);
	CHECK_EQ_U(s.m[4].v[GS_SM_SWAP], 1024);
	CHECK_EQ_U(s.m[4].v[GS_SM_SWAP_PSS], 1024);
	CHECK_EQ_U(s.m[4].thp_eligible, 1);
	CHECK_STR(s.m[4].vmflags, "rd wr mr mw me ac sd hg");
	CHECK_STR(s.m[10].path, "/anon_hugepage (deleted)");
	CHECK_EQ_U(s.m[10].kernel_page_kb, 2048);
	CHECK_EQ_U(s.m[10].v[GS_SM_SHARED_HUGETLB], 2048);
	CHECK_EQ_U(s.m[10].perms, GS_PERM_R | GS_PERM_W | GS_PERM_SHARED);
	CHECK_STR(s.m[11].path, "/memfd:ring buf (deleted)");
	CHECK_EQ_U(s.m[11].v[GS_SM_PSS_SHMEM], 256);
	CHECK_STR(s.m[12].path, "/opt/my app/data file.bin");
	CHECK_STR(s.m[13].path, "/usr/lib/x86_64-linux-gnu/libfoo.so.1 (deleted)");
	CHECK_STR(s.m[17].path, "[anon:go runtime]");
	CHECK_EQ_U(s.m[20].v[GS_SM_PSS], 0);

	uint64_t rss = 0, pss = 0;

	for (uint32_t i = 0; i < s.n; i++) {
		rss += s.m[i].v[GS_SM_RSS];
		pss += s.m[i].v[GS_SM_PSS];
	}
	/* sums of the Rss: and Pss: columns, by awk over the fixture */
	CHECK_EQ_U(rss, 67076);
	CHECK_EQ_U(pss, 66594);

	struct gs_classify_ctx ctx = { .exe_dev_major = 0xfe, .exe_inode = 10952856,
				       .exe_path = "/usr/bin/my server", .is_go = 1 };
	const struct gs_mapping *ptr[NODD];
	uint8_t cls[NODD];

	for (size_t i = 0; i < NODD; i++)
		ptr[i] = &s.m[i];
	gs_classify(ptr, NODD, &ctx, cls);
	for (size_t i = 0; i < NODD; i++)
		CHECK(!strcmp(gs_class_name(cls[i]), expect_class[i]),
		      "mapping %zu (%s) classed %s, expected %s", i, s.m[i].path,
		      gs_class_name(cls[i]), expect_class[i]);

	/* Not a Go program: no heap or runtime classes at all. */
	ctx.is_go = 0;
	gs_classify(ptr, NODD, &ctx, cls);
	CHECK(!strcmp(gs_class_name(cls[4]), "anon_other"), "non-Go arena: %s",
	      gs_class_name(cls[4]));
	CHECK(!strcmp(gs_class_name(cls[18]), "anon_other"), "non-Go anon: %s",
	      gs_class_name(cls[18]));
out:
	gs_smaps_free(&s);
	free(text);
}

TEST(smaps_parse_rollup_and_garbage)
{
	size_t len;
	char *text = slurp(FIXTURE("smaps/rollup.txt"), &len);
	struct gs_smaps s = { 0 };
	char err[128];

	CHECK(gs_smaps_parse(text, len, &s, err, sizeof(err)) == 0, "%s", err);
	CHECK(s.n == 1 && !strcmp(s.m[0].path, "[rollup]"), "rollup pseudo-mapping");
	CHECK_EQ_U(s.m[0].v[GS_SM_PSS], 1161);
	CHECK_EQ_U(s.m[0].v[GS_SM_PSS_DIRTY], 156);
	free(text);

	char bad1[] = "Rss: 4 kB\n";
	char bad2[] = "00400000-00464000 r-xp 00000000 fe:00 1 /x\nthis is not smaps\n";
	char bad3[] = "00400000-00300000 r-xp 00000000 fe:00 1 /x\n";

	CHECK(gs_smaps_parse(bad1, sizeof(bad1) - 1, &s, err, sizeof(err)) < 0, "field first");
	CHECK(gs_smaps_parse(bad2, sizeof(bad2) - 1, &s, err, sizeof(err)) < 0 &&
	      strstr(err, "line 2"), "garbage: %s", err);
	CHECK(gs_smaps_parse(bad3, sizeof(bad3) - 1, &s, err, sizeof(err)) < 0, "end < start");
	gs_smaps_free(&s);
}

/* Oracle: the kernel's own rollup of this process equals the per-mapping sums. */
TEST(smaps_parse_self_matches_rollup)
{
	struct gs_file sm = { 0 }, ru = { 0 };
	struct gs_smaps a = { 0 }, b = { 0 };
	char err[128];

	CHECK(gs_file_read_path(&sm, "/proc/self/smaps") == 0, "read smaps");
	CHECK(gs_file_read_path(&ru, "/proc/self/smaps_rollup") == 0, "read rollup");
	CHECK(gs_smaps_parse(sm.buf, sm.len, &a, err, sizeof(err)) == 0, "%s", err);
	CHECK(gs_smaps_parse(ru.buf, ru.len, &b, err, sizeof(err)) == 0, "%s", err);
	CHECK(a.n > 5 && b.n == 1, "mappings %u", a.n);
	uint32_t everywhere = (1u << GS_SM_NFIELDS) - 1;

	for (uint32_t i = 0; i < a.n; i++)
		everywhere &= a.m[i].present;
	CHECK(everywhere & 1u << GS_SM_PSS && everywhere & 1u << GS_SM_RSS, "Rss, Pss present");
	/* The kernel prints Pss_Anon, Pss_File, Pss_Shmem only in the rollup. */
	CHECK(!(a.m[0].present & 1u << GS_SM_PSS_ANON), "Pss_Anon per mapping?");
	CHECK(b.m[0].present & 1u << GS_SM_PSS_ANON, "Pss_Anon in rollup");
	for (int f = 0; f < GS_SM_NFIELDS && b.n == 1; f++) {
		uint64_t sum = 0;

		if (!(everywhere & 1u << f))
			continue;

		for (uint32_t i = 0; i < a.n; i++)
			sum += a.m[i].v[f];
		/* Our own heap may move a page or two between the two reads. */
		uint64_t want = b.m[0].v[f], diff = sum > want ? sum - want : want - sum;

		CHECK(diff <= 64, "%s: per-mapping sum %llu, rollup %llu",
		      gs_smaps_field_name(f), (unsigned long long)sum,
		      (unsigned long long)want);
	}
	gs_smaps_free(&a);
	gs_smaps_free(&b);
	gs_file_free(&sm);
	gs_file_free(&ru);
}

TEST(proc_stat_and_statm)
{
	/* comm may hold spaces and parentheses: only the last ')' ends it */
	const char *stat = "4242 (my (odd) comm) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
			   "5 6 0 0 20 0 3 0 987654 1234567 300 18446744073709551615";
	char comm[32], state;
	uint64_t ticks;
	struct gs_statm sm;

	CHECK(gs_parse_stat(stat, comm, sizeof(comm), &ticks, &state) == 0, "parse");
	CHECK_STR(comm, "my (odd) comm");
	CHECK_EQ_U(ticks, 987654);
	CHECK(state == 'S', "state %c", state);
	CHECK(gs_parse_statm("1000 200 30 4 0 50 0\n", &sm) == 0, "statm");
	CHECK(sm.size == 1000 && sm.resident == 200 && sm.shared == 30 && sm.text == 4 &&
	      sm.data == 50, "statm fields");
	CHECK(gs_parse_statm("garbage", &sm) < 0, "statm garbage");
}

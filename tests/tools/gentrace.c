/*
 * gentrace - write a synthetic trace of N records for import benchmarks:
 * statm samples 10 ms apart, an smaps delta after every STATM_PER_READ of
 * them changing UPDATES of 64 mappings (one mapping is replaced every 50
 * reads, a keyframe every 100), a cgroup sample each second.
 *
 *   gentrace OUT.trace N [STATM_PER_READ [UPDATES]]
 *   gentrace OUT.trace N cpu      N CPU samples over 2000 distinct stacks
 *                                 (depth 24), for folding benchmarks
 *   gentrace OUT.trace N heap     N heap profile snapshots of 200 buckets (a
 *                                 full one every 32, a few changed in the
 *                                 others), for the fuzzer's seeds
 *
 * The defaults, 35 and 3, are the mix of a real recording (make demo: 1111
 * statm samples, 32 smaps reads, 88 mapping updates); 10 and 5 is a
 * smaps-heavy mix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/trace.h"

#define NMAP 64

/* TARGET (a Go program when go, with module mod) and CLOCK at t. */
static void header(struct gs_writer *w, uint64_t t, int go, const char *mod)
{
	static const char *const argvx[] = { "gentrace" };
	struct gs_record r;

	memset(&r, 0, sizeof(r));
	r.type = GS_REC_TARGET;
	r.u.target = (struct gs_rec_target){ .pid = 42, .flags = go ? GS_TARGET_GO : 0,
		.page_size = 4096, .clk_tck = 100, .exe_path = "/usr/bin/synthetic",
		.go_version = go ? "go1.19.8" : "", .go_build_id = "", .go_module = mod,
		.comm = "synthetic", .host = "bench", .kernel = "6.1", .machine = "x86_64",
		.argv = argvx };
	gs_writer_add(w, &r);
	r.type = GS_REC_CLOCK;
	r.u.clock = (struct gs_rec_clock){ t, 1700000000000000000ull, t };
	gs_writer_add(w, &r);
}

static int cpu_trace(const char *path, uint64_t n)
{
	struct gs_writer *w = gs_writer_open(path, -1, NULL);
	struct gs_record r;
	uint64_t pcs[24], t = 1000000000ull, seed = 1;
	if (!w) {
		perror(path);
		return 1;
	}
	memset(&r, 0, sizeof(r));
	header(w, t, 0, "");
	for (uint32_t id = 0; id < 2000; id++) {
		for (int d = 0; d < 24; d++)
			pcs[d] = 0x401000 + (uint64_t)((id * 7919u + (uint32_t)d * 104729u) % 0x80000);
		r.type = GS_REC_STACK;
		r.u.stack = (struct gs_rec_stack){ id, 24, pcs };
		gs_writer_add(w, &r);
	}
	for (uint64_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		t += 1000000;
		r.type = GS_REC_CPU_SAMPLE;
		r.u.cpu = (struct gs_rec_cpu_sample){ t, 4242, (uint32_t)((seed >> 33) % 2000),
						      (int64_t)(seed >> 60), seed >> 20 };
		gs_writer_add(w, &r);
	}
	if (gs_writer_close(w) < 0) {
		perror(path);
		return 1;
	}
	printf("%llu\n", (unsigned long long)n);
	return 0;
}

static int heap_trace(const char *path, uint64_t n)
{
	struct gs_writer *w = gs_writer_open(path, -1, NULL);
	struct gs_record r;
	struct gs_heap_count c[200];
	uint64_t allocs[200] = { 0 }, frees[200] = { 0 }, pcs[6], t = 1000000000ull, seed = 7;
	if (!w) {
		perror(path);
		return 1;
	}
	memset(&r, 0, sizeof(r));
	header(w, t, 1, "");
	for (uint32_t id = 1; id <= 200; id++) {
		for (int d = 0; d < 6; d++)
			pcs[d] = 0x401000 + (uint64_t)((id * 7919u + (uint32_t)d * 104729u) % 0x80000);
		r.type = GS_REC_STACK;
		r.u.stack = (struct gs_rec_stack){ id, 6, pcs };
		gs_writer_add(w, &r);
		r.type = GS_REC_HEAP_BUCKET;
		r.u.heap_bucket = (struct gs_rec_heap_bucket){ id, id, 16u << (id % 12),
							       0xc000000000ull + id * 4096 };
		gs_writer_add(w, &r);
	}
	for (uint32_t k = 0; k < n; k++) {
		uint32_t m = 0;

		t += 100000000;
		for (uint32_t i = 0; i < 200; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			int changed = (seed >> 60) < 2;

			if (changed) {
				allocs[i] += (seed >> 40) & 15;
				frees[i] += ((seed >> 44) & 15) % (allocs[i] - frees[i] + 1);
			}
			if (changed || k % 32 == 0)
				c[m++] = (struct gs_heap_count){ i + 1, allocs[i], frees[i] };
		}
		r.type = GS_REC_HEAP_PROFILE;
		r.u.heap_profile = (struct gs_rec_heap_profile){ t, k + 1, k + 3,
			k % 32 == 0 ? GS_HEAP_FULL : 0, 524288, k % 5 == 4, 100000, m, c };
		gs_writer_add(w, &r);
	}
	if (gs_writer_close(w) < 0) {
		perror(path);
		return 1;
	}
	printf("%llu\n", (unsigned long long)n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: gentrace OUT.trace RECORDS [STATM_PER_READ [UPDATES]]\n");
		return 2;
	}
	if (argc == 4 && !strcmp(argv[3], "cpu"))
		return cpu_trace(argv[1], strtoull(argv[2], NULL, 10));
	if (argc == 4 && !strcmp(argv[3], "heap"))
		return heap_trace(argv[1], strtoull(argv[2], NULL, 10));
	uint64_t per_read = argc > 3 ? strtoull(argv[3], NULL, 10) : 35;
	int nupd = argc > 4 ? atoi(argv[4]) : 3;

	if (per_read < 1 || nupd < 1 || nupd > 5) {
		fprintf(stderr, "gentrace: STATM_PER_READ >= 1, UPDATES 1..5\n");
		return 2;
	}
	uint64_t n = strtoull(argv[2], NULL, 10), written = 0, t = 1000000000ull, statms = 0;
	struct gs_writer *w = gs_writer_open(argv[1], -1, NULL);
	struct gs_record r;
	struct gs_mapping maps[NMAP];
	char paths[NMAP][32];
	uint32_t ids[NMAP], next_id = 0, reads = 0;
	if (!w) {
		perror(argv[1]);
		return 1;
	}
	memset(&r, 0, sizeof(r));
	header(w, t, 1, "example.com/synthetic");
	written = 2;
	for (int i = 0; i < NMAP; i++) {
		memset(&maps[i], 0, sizeof(maps[i]));
		maps[i].start = 0xc000000000ull + (uint64_t)i * 0x4000000;
		maps[i].end = maps[i].start + 0x4000000;
		maps[i].perms = GS_PERM_R | GS_PERM_W;
		maps[i].kernel_page_kb = maps[i].mmu_page_kb = 4;
		snprintf(paths[i], sizeof(paths[i]), i % 4 ? "" : "/usr/lib/lib%d.so", i);
		maps[i].path = paths[i];
		maps[i].vmflags = "rd wr mr mw me ac sd";
		maps[i].present = (1u << GS_SM_NFIELDS) - 1 - (1u << GS_SM_PSS_ANON) -
				  (1u << GS_SM_PSS_FILE) - (1u << GS_SM_PSS_SHMEM);
		for (int f = 0; f < GS_SM_NFIELDS; f++)
			maps[i].v[f] = (uint64_t)(i * 100 + f);
	}
	while (written < n) {
		t += 10000000;
		r.type = GS_REC_STATM;
		r.u.statm = (struct gs_rec_statm){ t, 300000 + written % 1000, 200000 + written % 777,
						   1000, 500, 250000 };
		gs_writer_add(w, &r);
		written++;
		if (++statms % per_read == 0 && written < n) {
			struct gs_smaps_update upd[5];
			uint32_t rm = 0;
			struct gs_mapping add;

			memset(&r, 0, sizeof(r));
			reads++;
			if (reads % 100 == 1) {
				r.type = GS_REC_SMAPS_KEY;
				r.u.smaps = (struct gs_rec_smaps){ .t_ns = t, .nadded = NMAP, .added = maps };
				for (uint32_t i = 0; i < NMAP; i++)
					ids[i] = i;
				next_id = NMAP;
			} else {
				r.type = GS_REC_SMAPS_DELTA;
				for (int k = 0; k < nupd; k++) {
					int i = (int)((reads * 7 + (uint32_t)k * 13) % NMAP);

					upd[k].id = ids[i];
					upd[k].mask = 1u << GS_SM_RSS | 1u << GS_SM_PSS;
					maps[i].v[GS_SM_RSS] += 4;
					maps[i].v[GS_SM_PSS] += 4;
					upd[k].v[GS_SM_RSS] = maps[i].v[GS_SM_RSS];
					upd[k].v[GS_SM_PSS] = maps[i].v[GS_SM_PSS];
				}
				r.u.smaps = (struct gs_rec_smaps){ .t_ns = t, .nupdated = (uint32_t)nupd,
								   .updated = upd };
				if (reads % 50 == 0) {
					/* mapping 63 is replaced by a longer one */
					rm = ids[NMAP - 1];
					maps[NMAP - 1].end += 4096;
					add = maps[NMAP - 1];
					ids[NMAP - 1] = next_id++;
					r.u.smaps.nremoved = 1;
					r.u.smaps.removed = &rm;
					r.u.smaps.nadded = 1;
					r.u.smaps.added = &add;
					for (int k = 0; k < nupd; k++)
						if (upd[k].id == rm)
							upd[k].id = ids[NMAP - 1];
				}
			}
			gs_writer_add(w, &r);
			written++;
		}
		if (statms % 100 == 0 && written < n) {
			static const struct gs_counter c[] = { { "oom", 0 }, { "oom_kill", 0 } };

			r.type = GS_REC_CGROUP;
			r.u.cgroup = (struct gs_rec_cgroup){ .t_ns = t, .version = 2, .path = "/bench",
				.usage = 1ull << 30, .limit = GS_CGROUP_NO_LIMIT, .swap = 0,
				.ncounters = 2, .counters = c };
			gs_writer_add(w, &r);
			written++;
		}
	}
	if (gs_writer_close(w) < 0) {
		perror(argv[1]);
		return 1;
	}
	printf("%llu\n", (unsigned long long)written);
	return 0;
}

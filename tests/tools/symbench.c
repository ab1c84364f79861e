/*
 * symbench - benchmarks of the Go symbol tables on a binary: time and peak
 * memory to load them (pclntab, inline trees), and lookups per second of
 * random pcs: the function only, addr2line (function and file:line), and
 * all frames with inlining.
 *
 *   symbench BINARY [LOOKUPS]
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/gobin.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct gs_gobin g;
	struct rusage ru0, ru1;
	char err[256];
	long n = argc > 2 ? atol(argv[2]) : 2000000;
	int fd;

	if (argc < 2 || (fd = open(argv[1], O_RDONLY)) < 0) {
		fprintf(stderr, "usage: symbench BINARY [LOOKUPS]\n");
		return 2;
	}
	getrusage(RUSAGE_SELF, &ru0);
	double t0 = now();

	if (gs_gobin_load(fd, &g, err, sizeof(err)) < 0) {
		fprintf(stderr, "symbench: %s\n", err);
		return 1;
	}
	double t1 = now();

	getrusage(RUSAGE_SELF, &ru1);
	struct gs_func first, last, f;
	struct gs_frame fr[16];
	uint64_t *pcs = malloc((size_t)n * sizeof(*pcs)), sum = 0;

	gs_pcln_func(&g.pcln, 0, &first);
	gs_pcln_func(&g.pcln, g.pcln.nfunc - 1, &last);
	srand(1);
	for (long i = 0; i < n; i++)
		pcs[i] = first.entry + (((uint64_t)rand() << 31) | (uint64_t)rand()) % (last.end - first.entry);
	double a = now();

	for (long i = 0; i < n; i++)
		sum += gs_pcln_find(&g.pcln, pcs[i], &f) == 0 ? f.entry : 0;
	double b = now();

	for (long i = 0; i < n; i++)
		sum += gs_pcln_addr2line(&g.pcln, pcs[i], fr) == 0 ? (uint64_t)fr[0].line : 0;
	double c = now();

	for (long i = 0; i < n; i++)
		sum += (uint64_t)gs_pcln_frames(&g.pcln, pcs[i], fr, 16);
	double d = now();

	/* A profile's access pattern: 20000 distinct pcs, each looked up many times. */
	gs_pcln_cache_enable(&g.pcln, 16);
	for (long i = 0; i < n; i++)
		pcs[i] = pcs[(uint64_t)rand() % 20000];
	double e0 = now();

	for (long i = 0; i < n; i++)
		sum += gs_pcln_addr2line(&g.pcln, pcs[i], fr) == 0 ? (uint64_t)fr[0].line : 0;
	double e1 = now();

	printf("binary %s: %u functions, pclntab %zu bytes, inline trees %zu bytes (%u functions)\n",
	       argv[1], g.pcln.nfunc, g.pclntab_len, g.inltab_len, g.ninlined);
	printf("load: %.1f ms, %ld KiB more peak RSS\n", (t1 - t0) * 1e3,
	       ru1.ru_maxrss - ru0.ru_maxrss);
	printf("lookups/s: function %.2fM, addr2line %.2fM, frames with inlining %.2fM (%" PRIu64 ")\n",
	       (double)n / (b - a) / 1e6, (double)n / (c - b) / 1e6, (double)n / (d - c) / 1e6,
	       sum & 1);
	printf("lookups/s, profile-like (20000 distinct pcs, cached): addr2line %.2fM\n",
	       (double)n / (e1 - e0) / 1e6);
	return 0;
}

/*
 * pcln-addr2line - the pclntab reader on a binary, for tests: reads
 * addresses on stdin and prints what `go tool addr2line` prints (function,
 * then file:line), so the two can be diffed.
 *
 *   pcln-addr2line BINARY < addrs          addr2line
 *   pcln-addr2line --entries BINARY        every function entry, one a line
 *   pcln-addr2line --random N SEED BINARY  N random pcs in the function range
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/gobin.h"

int main(int argc, char **argv)
{
	struct gs_gobin g;
	char err[256], line[128];
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: pcln-addr2line [--entries | --random N SEED] BINARY\n");
		return 2;
	}
	fd = open(argv[argc - 1], O_RDONLY);
	if (fd < 0 || gs_gobin_load(fd, &g, err, sizeof(err)) < 0) {
		fprintf(stderr, "pcln-addr2line: %s: %s\n", argv[argc - 1], fd < 0 ? "cannot open" : err);
		return 1;
	}
	if (err[0])
		fprintf(stderr, "pcln-addr2line: note: %s\n", err);
	if (!strcmp(argv[1], "--entries")) {
		for (uint32_t i = 0; i < g.pcln.nfunc; i++) {
			struct gs_func f;

			if (gs_pcln_func(&g.pcln, i, &f) == 0)
				printf("0x%" PRIx64 "\n", f.entry);
		}
		return 0;
	}
	if (!strcmp(argv[1], "--random") && argc == 5) {
		struct gs_func first, last;
		unsigned long n = strtoul(argv[2], NULL, 10);

		srand((unsigned)strtoul(argv[3], NULL, 10));
		gs_pcln_func(&g.pcln, 0, &first);
		gs_pcln_func(&g.pcln, g.pcln.nfunc - 1, &last);
		for (unsigned long i = 0; i < n; i++) {
			uint64_t r = ((uint64_t)rand() << 31 | (uint64_t)rand());

			printf("0x%" PRIx64 "\n", first.entry + r % (last.end - first.entry));
		}
		return 0;
	}
	while (fgets(line, sizeof(line), stdin)) {
		uint64_t pc = strtoull(line, NULL, 16);
		struct gs_frame fr;

		if (gs_pcln_addr2line(&g.pcln, pc, &fr) < 0)
			printf("?\n?:0\n");
		else
			printf("%s\n%s:%d\n", fr.func, fr.file, fr.line);
	}
	gs_gobin_free(&g);
	return 0;
}

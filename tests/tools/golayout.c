/*
 * golayout - prints the runtime layout gsmapper finds for a Go binary
 * ("name value source" lines), for tests; with a pid, also reads NumGC and
 * LastGC from that running process's runtime.memstats (process_vm_readv),
 * to compare with what the program's own runtime.ReadMemStats says.
 *
 *   golayout [--no-dwarf] [--no-symtab] [--no-mstats] BINARY [PID]
 *
 * With PID, memstats is read through addr.memstats.last_gc_unix, which is
 * found even without mstats offsets (--no-mstats shows it).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/goelf.h"
#include "common/golayout.h"

static int peek(pid_t pid, uint64_t addr, void *buf, size_t n)
{
	struct iovec local = { buf, n }, remote = { (void *)(uintptr_t)addr, n };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -1;
}

int main(int argc, char **argv)
{
	int flags = 0, a = 1;

	for (; a < argc && !strncmp(argv[a], "--", 2); a++)
		flags |= !strcmp(argv[a], "--no-dwarf") ? GS_LAYOUT_NO_DWARF
			 : !strcmp(argv[a], "--no-symtab") ? GS_LAYOUT_NO_SYMTAB
			 : !strcmp(argv[a], "--no-mstats") ? GS_LAYOUT_NO_TABLE_MSTATS : 0;
	struct gs_gobin gb;
	struct gs_exe_info info;
	struct gs_layout l;
	char err[256];
	int fd;

	if (a >= argc) {
		fprintf(stderr, "usage: golayout [--no-dwarf] BINARY [PID]\n");
		return 2;
	}
	fd = open(argv[a], O_RDONLY);
	if (fd < 0 || gs_exe_info_read(fd, &info) < 0 || gs_gobin_load(fd, &gb, err, sizeof(err)) < 0) {
		fprintf(stderr, "golayout: %s: not a readable Go binary\n", argv[a]);
		return 1;
	}
	gs_layout_find(fd, &gb, info.go_version, flags, &l);
	for (int i = 0; i < GS_LAY_N; i++)
		printf("%s %" PRId64 " %s\n", gs_lay_name(i), l.v[i], gs_lay_source_name(l.src[i]));
	if (l.note[0])
		fprintf(stderr, "golayout: %s\n", l.note);
	if (a + 1 < argc) {
		pid_t pid = atoi(argv[a + 1]);
		uint64_t gc = (uint64_t)l.v[GS_ADDR_MS_GC], last = 0, n1 = 0, n2 = 0;
		uint32_t numgc = 0;

		/* numgc before and after, as GO-RUNTIME.md advises: retry on change */
		for (int tries = 0; tries < 10; tries++) {
			if (l.v[GS_ADDR_MS_GC] < 0 || peek(pid, gc + GS_MS_GC_NUMGC, &n1, 4) < 0 ||
			    peek(pid, gc, &last, 8) < 0 || peek(pid, gc + GS_MS_GC_NUMGC, &n2, 4) < 0) {
				fprintf(stderr, "golayout: cannot read pid %d's memory\n", (int)pid);
				return 1;
			}
			if ((uint32_t)n1 == (uint32_t)n2)
				break;
		}
		numgc = (uint32_t)n2;
		printf("live numgc %u last_gc_unix %" PRIu64 "\n", numgc, last);
	}
	return 0;
}

/*
 * probe-offsets - where gsrec would put a uprobe in each function of a Go
 * binary (gs_go_probe_offset), for the tests to check against a
 * disassembler: prints "ENTRY PROBE NAME" (hex link-time addresses) for
 * every EVERY-th function, and always for the runtime functions gsrec
 * probes. With --calls, where gsrec probes the calls of the function NAME
 * (gs_go_call_sites): "ENTRY" of NAME, then each call's
 * address, one a line; exit status 1 when gsrec would probe NAME's entry
 * instead.
 *
 *   probe-offsets GO-BINARY [EVERY]
 *   probe-offsets --calls NAME GO-BINARY
 */
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/gobin.h"

static const char *const probed[] = {
	"runtime.isSystemGoroutine", "runtime.copystack", "runtime.gcStart",
	"runtime.gcMarkTermination", "runtime.madvise", "runtime.munmap", "runtime.newproc1",
};

/* The file offset of link-time address va in an executable section. */
static int code_offset(Elf *e, uint64_t va, uint64_t *off)
{
	Elf_Scn *s = NULL;
	GElf_Shdr sh;

	while ((s = elf_nextscn(e, s)))
		if (gelf_getshdr(s, &sh) && sh.sh_type == SHT_PROGBITS &&
		    (sh.sh_flags & SHF_EXECINSTR) && va >= sh.sh_addr && va < sh.sh_addr + sh.sh_size) {
			*off = va - sh.sh_addr + sh.sh_offset;
			return 0;
		}
	return -1;
}

static int at_code(const void *e, uint64_t va, uint64_t *off)
{
	return code_offset((Elf *)e, va, off);
}

/* The --calls mode: 0, 1 when there are no call sites to probe, 2 on an error. */
static int call_sites(const char *callee, const char *path)
{
	struct gs_gobin g;
	struct gs_func f;
	char err[256];
	uint64_t entry = 0, site[64];
	int fd = open(path, O_RDONLY), n, have;
	Elf *e;

	if (fd < 0 || gs_gobin_load(fd, &g, err, sizeof(err)) < 0) {
		fprintf(stderr, "probe-offsets: cannot load %s\n", path);
		return 2;
	}
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e && gs_go_funcs_named(&g.pcln, &callee, 1, fd, at_code, e, &f, &have) == 1)
		entry = f.entry;
	if (!e || !entry) {
		fprintf(stderr, "probe-offsets: %s not found\n", callee);
		return 2;
	}
	n = gs_go_call_sites(&g.pcln, fd, "", at_code, e, entry, site, 64);
	printf("%" PRIx64 "\n", entry);
	for (int i = 0; i < n && i < 64; i++)
		printf("%" PRIx64 "\n", site[i]);
	elf_end(e);
	gs_gobin_free(&g);
	close(fd);
	return n > 0 && n <= 64 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct gs_gobin g;
	char err[256];
	long every = argc > 2 ? atol(argv[2]) : 1;
	int fd;
	Elf *e;

	if (argc == 4 && !strcmp(argv[1], "--calls"))
		return call_sites(argv[2], argv[3]);
	fd = argc > 1 ? open(argv[1], O_RDONLY) : -1;
	if (fd < 0 || every < 1 || gs_gobin_load(fd, &g, err, sizeof(err)) < 0) {
		fprintf(stderr, "usage: probe-offsets GO-BINARY [EVERY]\n");
		return 2;
	}
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e) {
		fprintf(stderr, "probe-offsets: %s\n", elf_errmsg(-1));
		return 2;
	}
	for (uint32_t i = 0; i < g.pcln.nfunc; i++) {
		struct gs_func f;
		const char *name;
		uint8_t code[16];
		uint64_t off;
		int want = i % every == 0;

		if (gs_pcln_func(&g.pcln, i, &f) < 0 || f.end - f.entry < sizeof(code))
			continue;
		name = f.name;
		for (size_t k = 0; k < sizeof(probed) / sizeof(probed[0]); k++)
			want |= strcmp(name, probed[k]) == 0;
		if (!want || code_offset(e, f.entry, &off) < 0 ||
		    pread(fd, code, sizeof(code), (off_t)off) != (ssize_t)sizeof(code))
			continue;
		printf("%" PRIx64 " %" PRIx64 " %s\n", f.entry,
		       f.entry + gs_go_probe_offset(code, sizeof(code)), *name ? name : "?");
	}
	elf_end(e);
	gs_gobin_free(&g);
	return 0;
}

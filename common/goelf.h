/*
 * goelf.h - what an executable says about itself: ELF build-id, and for Go
 * programs the Go build id, Go version and main module from .go.buildinfo
 * (present in stripped binaries too; where a release build dropped it, the
 * version comes from runtime.buildVersion).
 */
#ifndef GS_GOELF_H
#define GS_GOELF_H

#include <stddef.h>
#include <stdint.h>
#include <libelf.h>

struct gs_exe_info {
	int is_elf, is_go;
	uint8_t build_id[64];		/* NT_GNU_BUILD_ID */
	uint32_t build_id_len;
	char go_build_id[256];		/* the "Go" note, NT_GO_BUILDID */
	char go_version[64];		/* "go1.19.8" */
	const char *go_version_source;	/* "buildinfo", or without it runtime.buildVersion
					 * found by "symtab" or "code" (golayout.h) */
	char go_module[512];		/* main module path */
	char err[160];			/* why something is missing */
};

/* Read from an open file (e.g. /proc/PID/exe). 0 when it is ELF, -1 if not
 * (err says why); Go facts are best effort and err notes what failed. */
int gs_exe_info_read(int fd, struct gs_exe_info *out);

/* Parse a .go.buildinfo blob whose strings are inline (Go 1.18+), or, for
 * the older layout, through read_va (reads len bytes at a virtual address).
 * 0 on success. Exposed for tests and the fuzzer. */
typedef int (*gs_read_va_fn)(void *ctx, uint64_t va, void *buf, size_t len);
int gs_parse_buildinfo(const uint8_t *d, size_t n, gs_read_va_fn read_va,
		       void *ctx, struct gs_exe_info *out);
/* Values of the named symbols from .symtab: values[i] for names[i], left
 * as is when absent. Returns how many were found. */
int gs_elf_symbols(Elf *e, const char *const *names, int n, uint64_t *values);

#endif

/*
 * pcsp-check - checks pclntab's frame sizes (pcsp) against the binary's
 * DWARF call frame information, read by libdw: at every sampled pc, the
 * canonical frame address must be SP + pcsp + 8 (the return address sits
 * on top of the frame). Prints the counts; exits 1 on any disagreement.
 *
 *   pcsp-check BINARY [SAMPLES]
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/gobin.h"

int main(int argc, char **argv)
{
	struct gs_gobin g;
	char err[256];
	long n = argc > 2 ? atol(argv[2]) : 20000, agree = 0, differ = 0, nocfi = 0;
	int fd = argc > 1 ? open(argv[1], O_RDONLY) : -1;
	Dwarf *dw;
	Dwarf_CFI *cfi;
	struct gs_func first, last;

	if (fd < 0 || gs_gobin_load(fd, &g, err, sizeof(err)) < 0) {
		fprintf(stderr, "usage: pcsp-check GO-BINARY-WITH-DWARF [SAMPLES]\n");
		return 2;
	}
	dw = dwarf_begin(fd, DWARF_C_READ);
	cfi = dw ? dwarf_getcfi(dw) : NULL;
	if (!cfi) {
		fprintf(stderr, "pcsp-check: no DWARF call frame information\n");
		return 2;
	}
	gs_pcln_func(&g.pcln, 0, &first);
	gs_pcln_func(&g.pcln, g.pcln.nfunc - 1, &last);
	srand(3);
	for (long i = 0; i < n; i++) {
		uint64_t pc = first.entry + (((uint64_t)rand() << 31) | (uint64_t)rand()) %
					    (last.end - first.entry);
		Dwarf_Frame *fr;
		Dwarf_Op *ops;
		size_t nops;
		int32_t sp = gs_pcln_spdelta(&g.pcln, pc);

		if (sp < 0 || dwarf_cfi_addrframe(cfi, pc, &fr) != 0) {
			nocfi++;
			continue;
		}
		/* CFA = rsp (DWARF register 7) + offset */
		if (dwarf_frame_cfa(fr, &ops, &nops) == 0 && nops == 1 &&
		    ops[0].atom == DW_OP_bregx && ops[0].number == 7) {
			if ((int64_t)ops[0].number2 == (int64_t)sp + 8) {
				agree++;
			} else {
				if (differ++ < 5)
					printf("pc 0x%" PRIx64 ": pcsp %d, CFA offset %" PRId64 "\n", pc, sp,
					       (int64_t)ops[0].number2);
			}
		} else {
			nocfi++;
		}
		free(fr);
	}
	printf("%ld pcs: %ld agree, %ld differ, %ld without a frame rule on one side\n", n, agree,
	       differ, nocfi);
	return differ ? 1 : 0;
}

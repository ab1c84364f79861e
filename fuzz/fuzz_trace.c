/*
 * fuzz_trace.c - libFuzzer target for every parser of outside input.
 *
 * The input's start picks the parser, so real files seed it as they are:
 * the trace magic -> the trace reader plus smaps state replay (what
 * gsreport does with a trace); "\xff Go buildinf:" -> the buildinfo parser;
 * a pclntab magic -> the pclntab reader (its second half is taken as
 * serialized inline trees); anything else -> the smaps text parser and
 * classifier.
 *
 *   make fuzz                     run until stopped
 *   make fuzz FUZZ_SECONDS=600    bounded
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/goelf.h"
#include "common/pclntab.h"
#include "common/smaps.h"
#include "format/trace.h"

static void fuzz_reader(const uint8_t *d, size_t n)
{
	enum gs_open_error err;
	char msg[256];
	struct gs_reader *r = gs_reader_open_mem(d, n, &err, msg, sizeof(msg));
	struct gs_smaps_state st;
	struct gs_record rec;

	if (!r)
		return;
	gs_smaps_state_init(&st);
	while (gs_reader_next(r, &rec) == 1) {
		if (rec.type == GS_REC_SMAPS_KEY || rec.type == GS_REC_SMAPS_DELTA) {
			if (gs_smaps_state_apply(&st, &rec) < 0)
				break;
			/* touch what a reporter would read */
			const struct gs_mapping *ptr[64];
			uint8_t cls[64];
			uint32_t k = 0;

			for (uint32_t i = 0; i < st.n && k < 64; i++)
				if (st.alive[i])
					ptr[k++] = &st.m[i];
			struct gs_classify_ctx cc = { .exe_path = "/x", .is_go = 1 };

			gs_classify(ptr, k, &cc, cls);
		}
		if (rec.type == GS_REC_TARGET)
			for (uint32_t i = 0; i < rec.u.target.argc; i++)
				(void)strlen(rec.u.target.argv[i]);
	}
	gs_smaps_state_free(&st);
	gs_reader_close(r);
}

static int no_va(void *ctx, uint64_t va, void *buf, size_t len)
{
	(void)ctx; (void)va; (void)buf; (void)len;
	return -1;
}

static void fuzz_pclntab(const uint8_t *d, size_t n)
{
	struct gs_pcln p;
	char err[128];
	struct gs_frame fr[8];
	struct gs_func f, last;

	if (gs_pcln_init(&p, d, n, err, sizeof(err)) < 0)
		return;
	gs_inltab_parse(&p, d + n / 2, n - n / 2);
	if (p.nfunc < 4096)
		gs_pcln_index(&p);
	gs_pcln_cache_enable(&p, 4);
	if (gs_pcln_func(&p, 0, &f) == 0 && gs_pcln_func(&p, p.nfunc - 1, &last) == 0) {
		uint64_t span = last.end > f.entry ? last.end - f.entry : 1;

		for (uint64_t k = 0; k < 64; k++) {
			uint64_t pc = f.entry + (k * 2654435761u) % (span + 16);

			gs_pcln_addr2line(&p, pc, fr);
			gs_pcln_addr2line(&p, pc, fr);	/* from the cache */
			gs_pcln_frames(&p, pc, fr, 8);
			gs_pcln_spdelta(&p, pc);
		}
	}
	gs_pcln_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n >= 8 && d[1] == 0xff && d[2] == 0xff && d[3] == 0xff &&
	    (d[0] == 0xf0 || d[0] == 0xf1 || d[0] == 0xfa)) {
		fuzz_pclntab(d, n);
		return 0;
	}
	if (n >= GS_FILE_MAGIC_LEN && !memcmp(d, GS_FILE_MAGIC, GS_FILE_MAGIC_LEN)) {
		fuzz_reader(d, n);
	} else if (n >= 14 && !memcmp(d, "\xff Go buildinf:", 14)) {
		struct gs_exe_info info;

		memset(&info, 0, sizeof(info));
		gs_parse_buildinfo(d, n, no_va, NULL, &info);
	} else {
		char *text = malloc(n + 1);
		struct gs_smaps s = { 0 };
		char err[128];

		memcpy(text, d, n);
		if (gs_smaps_parse(text, n, &s, err, sizeof(err)) == 0 && s.n) {
			const struct gs_mapping **ptr = malloc(s.n * sizeof(*ptr));
			uint8_t *cls = malloc(s.n);
			struct gs_classify_ctx cc = { .exe_path = "/usr/bin/x", .is_go = 1 };

			for (uint32_t i = 0; i < s.n; i++)
				ptr[i] = &s.m[i];
			gs_classify(ptr, s.n, &cc, cls);
			free(ptr);
			free(cls);
		}
		gs_smaps_free(&s);
		free(text);
	}
	return 0;
}

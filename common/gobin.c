/*
 * gobin.c - loading a Go binary's pclntab and inline trees (see gobin.h).
 *
 * Inline trees are funcdata, so they live in go:func.* (Go 1.18+: funcdata
 * are u32 offsets from it) or at absolute addresses (1.16, 1.17). go:func.*
 * is a symbol in .symtab; a stripped binary has no .symtab, so there we find
 * runtime.firstmoduledata instead: the only data word that points at the
 * pclntab and is followed by its funcnametab slice. Its gofunc field is word
 * 38 (Go 1.18, 1.19) or word 40 (1.20+, after covctrs/ecovctrs). Even PIE
 * files hold link-time values there (checked on Go 1.19 PIE builds).
 */
#include <capstone/capstone.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/trace.h"
#include "gobin.h"
#include "goelf.h"

struct sec {
	uint64_t addr, size;
	const uint8_t *data;
};

struct elfmap {
	struct sec *s;
	size_t n;
};

static const uint8_t *va_ptr(const struct elfmap *m, uint64_t va, uint64_t len)
{
	for (size_t i = 0; i < m->n; i++)
		if (va >= m->s[i].addr && va - m->s[i].addr <= m->s[i].size &&
		    len <= m->s[i].size - (va - m->s[i].addr))
			return m->s[i].data + (va - m->s[i].addr);
	return NULL;
}

static uint64_t rdw(const uint8_t *p, int ps)
{
	uint64_t v = 0;

	for (int i = 0; i < ps; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Largest value of a pc-value table (the inline tree's highest index). */
static int32_t table_max(const struct gs_pcln *p, const struct gs_func *f, uint32_t off)
{
	int32_t best = -1;

	/* sample the table at each step's start: values change only there */
	uint64_t o = p->pctab_off + off, pc = f->entry;
	int32_t val = -1;

	for (int n = 0; n < (1 << 20); n++) {
		uint32_t uv = 0, pcd = 0;
		int shift = 0;

		do {
			if (o >= p->len || shift > 28)
				return best;
			uv |= (uint32_t)(p->data[o] & 0x7f) << shift;
			shift += 7;
		} while (p->data[o++] & 0x80);
		if (uv == 0 && pc != f->entry)
			return best;
		val = (int32_t)((uint32_t)val + (uv & 1 ? ~(uv >> 1) : uv >> 1));	/* wraps, as in Go */
		shift = 0;
		do {
			if (o >= p->len || shift > 28)
				return best;
			pcd |= (uint32_t)(p->data[o] & 0x7f) << shift;
			shift += 7;
		} while (p->data[o++] & 0x80);
		pc += (uint64_t)pcd * (uint64_t)p->quantum;
		if (val > best)
			best = val;
	}
	return best;
}

/*
 * runtime.firstmoduledata in the file: the only data word that points at the
 * pclntab and is followed by its funcnametab slice's pointer. Its words
 * (Go 1.18 to 1.26): 0 pcHeader, 1-18 six slices, 19 findfunctab, 20 minpc,
 * 21 maxpc, 22 text, 23 etext, ..., gofunc at 38 (1.18, 1.19) or 40 (1.20+,
 * after covctrs/ecovctrs). NULL when not found.
 */
static const uint8_t *find_moduledata(Elf *e, const struct elfmap *m, const struct gs_gobin *g,
				      int nwords)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int ps = g->pcln.ptrsize;
	uint64_t want1 = g->pclntab_va + g->pcln.funcname_off;

	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_WRITE) || !(sh.sh_flags & SHF_ALLOC))
			continue;
		const uint8_t *d = va_ptr(m, sh.sh_addr, sh.sh_size);

		for (uint64_t off = 0; d && off + (uint64_t)ps * (uint64_t)nwords <= sh.sh_size;
		     off += (uint64_t)ps)
			if (rdw(d + off, ps) == g->pclntab_va && rdw(d + off + ps, ps) == want1)
				return d + off;
	}
	return NULL;
}

static uint64_t find_gofunc(Elf *e, const struct elfmap *m, const struct gs_gobin *g,
			    const char **source)
{
	/* .symtab: go:func.* (1.20+) or go.func.* (1.18, 1.19) */
	static const char *const gofunc_names[] = { "go:func.*", "go.func.*" };
	uint64_t v[2] = { 0, 0 };
	int ps = g->pcln.ptrsize;
	int gofunc_word = g->pcln.version >= GS_PCLN_120 ? 40 : 38;
	const uint8_t *md;

	if (gs_elf_symbols(e, gofunc_names, 2, v)) {
		*source = "symtab";
		return v[0] ? v[0] : v[1];
	}
	if ((md = find_moduledata(e, m, g, gofunc_word + 1))) {
		*source = "moduledata";
		return rdw(md + (uint64_t)ps * gofunc_word, ps);
	}
	*source = "none";
	return 0;
}

/*
 * The address the function entries are offsets from (runtime.text). Up to
 * Go 1.25 the pclntab's header holds it; from 1.26 that word is 0 and only
 * moduledata.text (or the runtime.text symbol) says it. .text's start is no
 * substitute: with external linking (cgo) C code comes first. A moduledata
 * value is taken only when its minpc and maxpc are the first and the last
 * entry at that text: the table's own invariant.
 */
static int find_text(Elf *e, const struct elfmap *m, struct gs_gobin *g)
{
	static const char *const text_name[] = { "runtime.text" };
	struct gs_pcln *p = &g->pcln;
	uint64_t v = 0;
	int ps = p->ptrsize;
	const uint8_t *md;

	if (p->version < GS_PCLN_118 || p->text_start) {
		g->text_source = "pclntab header";
		return 0;
	}
	if (gs_elf_symbols(e, text_name, 1, &v) && v) {
		g->text_source = "symtab";
		p->text_start = v;
		return 0;
	}
	if ((md = find_moduledata(e, m, g, 24))) {
		uint64_t text = rdw(md + 22ull * ps, ps);
		uint64_t minpc = rdw(md + 20ull * ps, ps), maxpc = rdw(md + 21ull * ps, ps);
		struct gs_func f0;

		p->text_start = text;
		if (text && gs_pcln_func(p, 0, &f0) == 0 && f0.entry == minpc &&
		    gs_pcln_end(p) == maxpc) {
			g->text_source = "moduledata";
			return 0;
		}
		p->text_start = 0;
	}
	g->text_source = "none";
	return -1;
}

static int build_inltab(struct gs_gobin *g, const struct elfmap *m)
{
	struct gs_pcln *p = &g->pcln;
	struct gs_buf head = { 0 }, body = { 0 };
	uint32_t count = 0;

	for (uint32_t i = 0; i < p->nfunc; i++) {
		struct gs_func f;
		uint64_t fd;

		if (gs_pcln_func(p, i, &f) < 0 || gs_pcln_funcdata(p, &f, GS_FUNCDATA_INLTREE, &fd) < 0)
			continue;
		uint32_t tab = gs_pcln_pcdata(p, &f, GS_PCDATA_INLTREE);
		int32_t max = tab ? table_max(p, &f, tab) : -1;

		if (max < 0)
			continue;
		uint64_t va = p->version >= GS_PCLN_118 ? g->gofunc + fd : fd;
		uint64_t n = (uint64_t)(max + 1) * (uint64_t)p->inl_entry_size;
		const uint8_t *src = (p->version < GS_PCLN_118 || g->gofunc) ? va_ptr(m, va, n) : NULL;

		if (!src)
			continue;
		gs_buf_uv(&body, i);
		gs_buf_uv(&body, n);
		gs_buf_bytes(&body, src, n);
		count++;
	}
	gs_buf_uv(&head, count);	/* serialized as FORMAT.md §6.13 kind 2 */
	gs_buf_bytes(&head, body.p, body.len);
	gs_buf_release(&body);
	if (head.oom) {
		gs_buf_release(&head);
		return -1;
	}
	g->inltab = head.p;
	g->inltab_len = head.len;
	g->ninlined = count;
	return gs_inltab_parse(p, g->inltab, g->inltab_len);
}

int gs_gobin_load(int fd, struct gs_gobin *g, char *err, size_t errlen)
{
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	struct elfmap m = { 0 };
	int ret = -1;

	memset(g, 0, sizeof(*g));
	g->gofunc_source = "none";
	g->text_source = "none";
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		snprintf(err, errlen, "not an ELF file");
		goto out;
	}
	if (elf_getshdrstrndx(e, &shstrndx) < 0) {
		snprintf(err, errlen, "no section headers");
		goto out;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e, shstrndx, sh.sh_name)))
			continue;
		if (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_ALLOC) && sh.sh_addr) {
			Elf_Data *d = elf_getdata(scn, NULL);
			struct sec *s = realloc(m.s, (m.n + 1) * sizeof(*s));

			if (s)
				m.s = s;
			if (!d || !d->d_buf || d->d_size < sh.sh_size || !s)
				continue;
			m.s[m.n++] = (struct sec){ sh.sh_addr, sh.sh_size, d->d_buf };
		}
		if ((!strcmp(name, ".gopclntab") || !strcmp(name, ".data.rel.ro.gopclntab")) &&
		    !g->pclntab) {
			Elf_Data *d = elf_getdata(scn, NULL);

			if (!d || !d->d_buf || !d->d_size) {
				snprintf(err, errlen, "%s is empty or unreadable", name);
				goto out;
			}
			g->pclntab = malloc(d->d_size);
			if (!g->pclntab) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			memcpy(g->pclntab, d->d_buf, d->d_size);
			g->pclntab_len = d->d_size;
			g->pclntab_va = sh.sh_addr;
		}
	}
	if (!g->pclntab) {
		snprintf(err, errlen, "no .gopclntab section: not a Go program, or its section "
			 "headers were removed");
		goto out;
	}
	if (gs_pcln_init(&g->pcln, g->pclntab, g->pclntab_len, err, errlen) < 0)
		goto out;
	if (find_text(e, &m, g) < 0) {
		snprintf(err, errlen, "its functions cannot be placed: this pclntab (Go 1.26 or "
			 "later) does not hold the text address, and neither runtime.text nor "
			 "a consistent runtime.firstmoduledata was found");
		goto out;
	}
	ret = 0;
	gs_pcln_index(&g->pcln);
	if (g->pcln.version >= GS_PCLN_118)
		g->gofunc = find_gofunc(e, &m, g, &g->gofunc_source);
	if (build_inltab(g, &m) < 0)
		snprintf(err, errlen, "inline trees unreadable");
	else if (g->pcln.version >= GS_PCLN_118 && !g->gofunc)
		snprintf(err, errlen, "go:func.* not found: inlined frames unavailable");
	else
		err[0] = 0;
out:
	free(m.s);
	if (e)
		elf_end(e);
	if (ret < 0) {
		free(g->pclntab);
		g->pclntab = NULL;
	}
	return ret;
}

int gs_gobin_from_tables(struct gs_gobin *g, const uint8_t *pclntab, size_t len,
			 const uint8_t *inltab, size_t inllen, uint64_t text, char *err,
			 size_t errlen)
{
	memset(g, 0, sizeof(*g));
	g->gofunc_source = "trace";
	g->text_source = "trace";
	if (gs_pcln_init(&g->pcln, pclntab, len, err, errlen) < 0)
		return -1;
	if (g->pcln.version >= GS_PCLN_118 && !g->pcln.text_start && !text) {
		snprintf(err, errlen, "its functions cannot be placed: a Go 1.26+ pclntab with no "
			 "go.text table (recorded by a gsrec before format 1.2)");
		return -1;
	}
	if (text && g->pcln.version >= GS_PCLN_118)
		g->pcln.text_start = text;
	if (inltab && gs_inltab_parse(&g->pcln, inltab, inllen) < 0) {
		snprintf(err, errlen, "the inline trees are damaged");
		return -1;
	}
	g->ninlined = g->pcln.ninl;
	gs_pcln_index(&g->pcln);	/* a speed-up: without it lookups still work */
	return 0;
}

void gs_gobin_free(struct gs_gobin *g)
{
	free(g->pclntab);
	free(g->inltab);
	gs_pcln_release(&g->pcln);
	memset(g, 0, sizeof(*g));
}

/*
 * Where in a function its uprobe goes: on the conditional jump of its
 * stack-check prologue when it has one (Go 1.17+ amd64: "CMPQ SP,
 * 16(R14); JLS", or "LEAQ -N(SP), R12; CMPQ R12, 16(R14); JLS" for larger
 * frames), else at the entry. The kernel emulates a jump where it has to
 * single-step most instructions out of line, and the single step is most of
 * a uprobe's cost (BENCHMARKS.md). There the arguments are still in their
 * registers and SP still points at the return address: the prologue has
 * only compared. A jump that is taken (the stack must grow) re-enters the
 * function, as a probe at the entry would also see.
 */
uint64_t gs_go_probe_offset(const uint8_t *c, size_t n)
{
	size_t i = 0;

	if (n >= 8 && c[0] == 0x4c && c[1] == 0x8d && c[2] == 0xa4 && c[3] == 0x24)
		i = 8;		/* lea disp32(%rsp),%r12 */
	else if (n >= 5 && c[0] == 0x4c && c[1] == 0x8d && c[2] == 0x64 && c[3] == 0x24)
		i = 5;		/* lea disp8(%rsp),%r12 */
	if (i + 6 > n || c[i] != (i ? 0x4d : 0x49) || c[i + 1] != 0x3b || c[i + 2] != 0x66 ||
	    c[i + 3] != 0x10)
		return 0;	/* not cmp 0x10(%r14),%rsp (or %r12) */
	i += 4;
	if (c[i] == 0x76 || (c[i] == 0x0f && c[i + 1] == 0x86))
		return i;	/* jbe rel8 or rel32 */
	return 0;
}

uint64_t gs_go_probe_offset_once(const uint8_t *c, size_t n)
{
	uint64_t j = gs_go_probe_offset(c, n);

	if (!j)
		return 0;
	return j + (c[j] == 0x76 ? 2 : 6);
}

/*
 * A call site is probed on the CALL itself, which the kernel emulates (it
 * pushes the return address and jumps) where an assembly callee's first
 * instruction would have to be single-stepped. A uprobe off an instruction
 * boundary would corrupt the target's code, and five bytes inside other
 * instructions can spell "CALL target" (near target the displacement's high
 * bytes are zeros, as in many an immediate), so a function holding that
 * byte pattern is decoded from its entry with capstone, and only whole
 * instructions count. Go functions hold no data between their
 * instructions; the padding after them is INT3s.
 */
static int rel32_to(const uint8_t *c, uint64_t at, uint64_t target)
{
	int32_t rel;

	memcpy(&rel, c + 1, 4);
	return (c[0] == 0xe8 || c[0] == 0xe9) && at + 5 + (uint64_t)(int64_t)rel == target;
}

int gs_go_calls_in(const uint8_t *c, size_t n, uint64_t lo, uint64_t target, uint64_t *sites,
		   int max)
{
	const uint8_t *code = c;
	uint64_t at = lo;
	size_t left = n, i;
	cs_insn *insn;
	csh h;
	int found = 0;

	for (i = 0; i + 5 <= n && !rel32_to(c + i, lo + i, target); i++)
		;
	if (i + 5 > n)
		return 0;	/* no such bytes: nothing to decode */
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -1;
	insn = cs_malloc(h);
	while (insn && left) {
		uint64_t pc = at;

		if (!cs_disasm_iter(h, &code, &left, &at, insn)) {
			found = -1;	/* not decodable: where the calls are is not known */
			break;
		}
		if (insn->size != 5 || !rel32_to(insn->bytes, pc, target))
			continue;
		if (insn->bytes[0] == 0xe9) {
			found = -1;	/* a tail jump */
			break;
		}
		if (found < max)
			sites[found] = pc;
		found++;
	}
	if (!insn)
		found = -1;
	cs_free(insn, 1);
	cs_close(&h);
	return found;
}

int gs_go_func_calls(const struct gs_func *f, int fd,
		     int (*at)(const void *ctx, uint64_t va, uint64_t *off), const void *ctx,
		     uint64_t target)
{
	size_t n = f->end - f->entry > 65536 ? 65536 : (size_t)(f->end - f->entry);
	uint8_t *code = malloc(n);
	uint64_t off, site;
	int r = -1;

	if (code && at(ctx, f->entry, &off) == 0 && pread(fd, code, n, (off_t)off) == (ssize_t)n)
		r = gs_go_calls_in(code, n, f->entry, target, &site, 1);
	free(code);
	return r;
}

int gs_go_funcs_named(const struct gs_pcln *p, const char *const *names, int n, int fd,
		      int (*at)(const void *ctx, uint64_t va, uint64_t *off), const void *ctx,
		      struct gs_func *f, int *have)
{
	int found = 0;

	memset(have, 0, (size_t)n * sizeof(*have));
	for (uint32_t i = 0; i < p->nfunc; i++) {
		struct gs_func g;

		if (gs_pcln_func(p, i, &g) < 0)
			continue;
		for (int k = 0; k < n; k++) {
			if (strcmp(g.name, names[k]))
				continue;
			if (!have[k] || gs_go_func_calls(&f[k], fd, at, ctx, g.entry) != 0)
				f[k] = g;
			found += !have[k];
			have[k] = 1;
		}
	}
	return found;
}

int gs_go_call_sites(const struct gs_pcln *p, int fd, const char *prefix,
		     int (*at)(const void *ctx, uint64_t va, uint64_t *off), const void *ctx,
		     uint64_t target, uint64_t *sites, int max)
{
	size_t plen = strlen(prefix);
	struct stat st;
	uint8_t *file;
	int found = 0;

	if (fstat(fd, &st) < 0 || st.st_size <= 0)
		return -1;
	file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (file == MAP_FAILED)
		return -1;
	for (uint32_t i = 0; i < p->nfunc && found >= 0; i++) {
		struct gs_func f;
		uint64_t off;
		int k;

		if (gs_pcln_func(p, i, &f) < 0 || strncmp(f.name, prefix, plen) || f.end <= f.entry)
			continue;
		if (at(ctx, f.entry, &off) < 0 || off > (uint64_t)st.st_size ||
		    f.end - f.entry > (uint64_t)st.st_size - off) {
			found = -1;
			break;
		}
		k = gs_go_calls_in(file + off, (size_t)(f.end - f.entry), f.entry, target,
				   sites + (found < max ? found : max), found < max ? max - found : 0);
		found = k < 0 ? -1 : found + k;
	}
	munmap(file, (size_t)st.st_size);
	return found;
}

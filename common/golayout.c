/*
 * golayout.c - the runtime layout of a Go binary (see golayout.h).
 *
 * Offsets. DWARF (libdw): the member offsets of the structure types
 * runtime.g, runtime.gobuf, runtime.stack, runtime.m, runtime.mstats and
 * runtime.gcControllerState. Without DWARF, a table by Go release: for
 * 1.19 to 1.27 every offset (GS_SRC_TABLE), read from the DWARF of builds by
 * each release and checked again on every run of the version matrix
 * (tests/e2e/layout.sh); for 1.17 and 1.18, which no toolchain here builds,
 * only the g and m prefix, read from the Go sources (GS_SRC_TABLE_SOURCES).
 * Other releases get no table: their offsets stay unknown.
 *
 * Addresses. .symtab when present. A stripped binary keeps pclntab, so its
 * functions are known and their code can be read; the compiler folds field
 * offsets into RIP-relative displacements, so:
 *  - memstats: in runtime.gcMarkTermination, the base B for which B plus
 *    each mstats offset from the layout (last_gc_unix, pause_total_ns,
 *    pause_ns, pause_end, numgc, last_gc_nanotime) is a RIP-relative target;
 *  - &memstats.last_gc_unix: in the same function, the target T with T+8,
 *    T+16, T+2064 and T+4112 also targets (the run that starts there has
 *    the same layout in every release, see golayout.h), so it is found even
 *    when mstats' offsets are not;
 *  - gcController: likewise with heapLive and heapInUse, confirmed by heapLive
 *    in two other functions (gc_controller());
 *  - allgs: in runtime.forEachG, the target T loaded along with T+8 (the
 *    slice's pointer and length; allglen, a copy of the length, is taken
 *    from .symtab only: the slice's own length serves without it);
 *  - mheap_: in runtime.mallocinit, the RIP-relative LEA target passed to
 *    the call of runtime.(*mheap).init.
 * Every 4-byte window of a function is tried as a displacement ending an
 * instruction; requiring all offsets of a pattern to land makes a chance
 * match vanishingly unlikely, and the tests compare every address found
 * this way with .symtab of the same program.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goelf.h"
#include "golayout.h"

static const char *const names[GS_LAY_N] = {
	[GS_G_STACK_LO] = "g.stack.lo", [GS_G_STACK_HI] = "g.stack.hi",
	[GS_G_STACKGUARD0] = "g.stackguard0", [GS_G_M] = "g.m",
	[GS_G_SCHED_SP] = "g.sched.sp", [GS_G_SCHED_PC] = "g.sched.pc",
	[GS_G_SCHED_BP] = "g.sched.bp", [GS_G_SYSCALLSP] = "g.syscallsp",
	[GS_G_SYSCALLPC] = "g.syscallpc", [GS_G_ATOMICSTATUS] = "g.atomicstatus",
	[GS_G_GOID] = "g.goid", [GS_G_GOPC] = "g.gopc", [GS_G_STARTPC] = "g.startpc",
	[GS_M_G0] = "m.g0", [GS_M_CURG] = "m.curg",
	[GS_MS_LAST_GC_UNIX] = "mstats.last_gc_unix",
	[GS_MS_PAUSE_TOTAL_NS] = "mstats.pause_total_ns",
	[GS_MS_PAUSE_NS] = "mstats.pause_ns", [GS_MS_PAUSE_END] = "mstats.pause_end",
	[GS_MS_NUMGC] = "mstats.numgc", [GS_MS_LAST_GC_NANOTIME] = "mstats.last_gc_nanotime",
	[GS_GC_HEAP_LIVE] = "gcController.heapLive",
	[GS_GC_HEAP_MARKED] = "gcController.heapMarked",
	[GS_GC_HEAP_INUSE] = "gcController.heapInUse",
	[GS_GC_HEAP_RELEASED] = "gcController.heapReleased",
	[GS_ADDR_MEMSTATS] = "addr.memstats", [GS_ADDR_MHEAP] = "addr.mheap_",
	[GS_ADDR_ALLGS] = "addr.allgs", [GS_ADDR_ALLGLEN] = "addr.allglen",
	[GS_ADDR_GCCONTROLLER] = "addr.gcController",
	[GS_ADDR_MS_GC] = "addr.memstats.last_gc_unix",
	[GS_ADDR_MBUCKETS] = "addr.mbuckets", [GS_ADDR_MEMPROFILERATE] = "addr.MemProfileRate",
	[GS_ADDR_MPROFCYCLE] = "addr.mProfCycle",
};

const char *gs_lay_name(int field)
{
	return field >= 0 && field < GS_LAY_N ? names[field] : NULL;
}

int gs_lay_index(const char *name)
{
	for (int i = 0; i < GS_LAY_N; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

const char *gs_lay_source_name(int src)
{
	switch (src) {
	case GS_SRC_DWARF: return "DWARF";
	case GS_SRC_TABLE: return "version table (checked against DWARF)";
	case GS_SRC_TABLE_SOURCES: return "version table (from the Go sources, unchecked)";
	case GS_SRC_SYMTAB: return ".symtab";
	case GS_SRC_CODE: return "code patterns (pclntab)";
	}
	return "not found";
}

static void set(struct gs_layout *l, int f, int64_t v, int src)
{
	l->v[f] = v;
	l->src[f] = (uint8_t)src;
}

static void clear(struct gs_layout *l)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < GS_LAY_N; i++)
		l->v[i] = -1;
}

/* ---- the version table ---- */

/* "go1.19.8" -> 19; 0 when not go1.N */
static int minor_version(const char *v)
{
	int major, minor;

	if (!v || sscanf(v, "go%d.%d", &major, &minor) != 2 || major != 1)
		return 0;
	return minor;
}

/*
 * Offsets by release, in enum gs_lay order up to GS_GC_HEAP_RELEASED, each
 * row read from the DWARF of a build by that release (debug/dwarf, through
 * tests/tools/godwarf) and checked again on every run of the version matrix
 * (tests/e2e/layout.sh compares the table with the DWARF of every release's
 * workloads). Structures do not change within a release's patch versions.
 */
#define NOFF (GS_GC_HEAP_RELEASED + 1)
static const struct {
	int minor;
	int16_t v[NOFF];
} checked[] = {
	/*        g: stack.lo .hi guard0 m sched.sp .pc .bp syscallsp pc status goid gopc
	 *        startpc; m: g0 curg; mstats: last_gc_unix pause_total_ns pause_ns pause_end
	 *        numgc last_gc_nanotime; gcController: heapLive heapMarked heapInUse
	 *        heapReleased */
	{ 19, { 0, 8, 16, 48, 56, 64, 104, 112, 120, 144, 152, 296, 312, 0, 192,
		3592, 3600, 3608, 5656, 7704, 7720, 136, 184, 304, 312 } },
	{ 20, { 0, 8, 16, 48, 56, 64, 104, 112, 120, 144, 152, 296, 312, 0, 192,
		3592, 3600, 3608, 5656, 7704, 7720, 80, 128, 248, 256 } },
	{ 21, { 0, 8, 16, 48, 56, 64, 104, 112, 120, 144, 152, 280, 296, 0, 192,
		3592, 3600, 3608, 5656, 7704, 7720, 104, 152, 272, 280 } },
	{ 22, { 0, 8, 16, 48, 56, 64, 104, 112, 120, 144, 152, 280, 296, 0, 192,
		3592, 3600, 3608, 5656, 7704, 7720, 104, 152, 272, 280 } },
	{ 23, { 0, 8, 16, 48, 56, 64, 104, 112, 120, 152, 160, 288, 304, 0, 192,
		3592, 3600, 3608, 5656, 7704, 7720, 104, 152, 272, 280 } },
	{ 24, { 0, 8, 16, 48, 56, 64, 104, 112, 120, 152, 160, 288, 304, 0, 192,
		3592, 3600, 3608, 5656, 7704, 7720, 104, 152, 272, 280 } },
	{ 25, { 0, 8, 16, 48, 56, 64, 96, 104, 112, 144, 152, 280, 296, 0, 184,
		3568, 3576, 3584, 5632, 7680, 7696, 104, 152, 272, 280 } },
	{ 26, { 0, 8, 16, 48, 56, 64, 96, 104, 112, 144, 152, 288, 304, 0, 184,
		3568, 3576, 3584, 5632, 7680, 7696, 104, 152, 272, 280 } },
	{ 27, { 0, 8, 16, 48, 56, 64, 96, 104, 112, 144, 152, 288, 304, 0, 184,
		3568, 3576, 3584, 5632, 7680, 7696, 104, 152, 272, 280 } },
};

void gs_layout_table(const char *go_version, struct gs_layout *l)
{
	int minor = minor_version(go_version);

	clear(l);
	for (size_t r = 0; r < sizeof(checked) / sizeof(checked[0]); r++)
		if (checked[r].minor == minor) {
			for (int i = 0; i < NOFF; i++)
				set(l, i, checked[r].v[i], GS_SRC_TABLE);
			return;
		}
	if (minor != 17 && minor != 18)
		return;
	/* 1.17 and 1.18, from the sources (no toolchain of theirs here): the g
	 * and m prefix 1.19 has; the rest moved, so it stays unknown */
	static const int prefix[] = { GS_G_STACK_LO, GS_G_STACK_HI, GS_G_STACKGUARD0, GS_G_M,
				      GS_G_SCHED_SP, GS_G_SCHED_PC, GS_G_SCHED_BP, GS_G_SYSCALLSP,
				      GS_G_SYSCALLPC, GS_G_ATOMICSTATUS, GS_G_GOID, GS_M_G0,
				      GS_M_CURG };

	for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
		set(l, prefix[i], checked[0].v[prefix[i]], GS_SRC_TABLE_SOURCES);
}

/* ---- DWARF ---- */

struct dtypes {
	Dwarf_Die die[6];
	int have[6];
};

static const char *const dtype_names[6] = {
	"runtime.g", "runtime.gobuf", "runtime.stack", "runtime.m", "runtime.mstats",
	"runtime.gcControllerState",
};

static int64_t member(Dwarf_Die *st, const char *name)
{
	Dwarf_Die m;

	if (dwarf_child(st, &m) != 0)
		return -1;
	do {
		const char *n = dwarf_diename(&m);
		Dwarf_Attribute a;
		Dwarf_Word off;

		if (dwarf_tag(&m) == DW_TAG_member && n && !strcmp(n, name) &&
		    dwarf_attr(&m, DW_AT_data_member_location, &a) && dwarf_formudata(&a, &off) == 0)
			return (int64_t)off;
	} while (dwarf_siblingof(&m, &m) == 0);
	return -1;
}

static int64_t nested(struct dtypes *t, int outer, const char *field, int inner, const char *sub)
{
	int64_t a, b;

	if (!t->have[outer] || !t->have[inner] || (a = member(&t->die[outer], field)) < 0 ||
	    (b = member(&t->die[inner], sub)) < 0)
		return -1;
	return a + b;
}

static int from_dwarf(int fd, struct gs_layout *l)
{
	Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
	struct dtypes t = { 0 };
	Dwarf_Off off = 0, next;
	size_t hs;

	if (!dw)
		return -1;
	while (dwarf_nextcu(dw, off, &next, &hs, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, ch;

		if (dwarf_offdie(dw, off + hs, &cu) && dwarf_child(&cu, &ch) == 0) {
			do {
				const char *n = dwarf_diename(&ch);

				if (!n || dwarf_tag(&ch) != DW_TAG_structure_type)
					continue;
				for (int i = 0; i < 6; i++)
					if (!t.have[i] && !strcmp(n, dtype_names[i])) {
						t.die[i] = ch;
						t.have[i] = 1;
					}
			} while (dwarf_siblingof(&ch, &ch) == 0);
		}
		off = next;
	}
	struct { int f; int outer; const char *name; int inner; const char *sub; } want[] = {
		{ GS_G_STACK_LO, 0, "stack", 2, "lo" }, { GS_G_STACK_HI, 0, "stack", 2, "hi" },
		{ GS_G_SCHED_SP, 0, "sched", 1, "sp" }, { GS_G_SCHED_PC, 0, "sched", 1, "pc" },
		{ GS_G_SCHED_BP, 0, "sched", 1, "bp" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int64_t v = nested(&t, want[i].outer, want[i].name, want[i].inner, want[i].sub);

		if (v >= 0)
			set(l, want[i].f, v, GS_SRC_DWARF);
	}
	struct { int f; int type; const char *name; } flat[] = {
		{ GS_G_STACKGUARD0, 0, "stackguard0" }, { GS_G_M, 0, "m" },
		{ GS_G_SYSCALLSP, 0, "syscallsp" }, { GS_G_SYSCALLPC, 0, "syscallpc" },
		{ GS_G_ATOMICSTATUS, 0, "atomicstatus" }, { GS_G_GOID, 0, "goid" },
		{ GS_G_GOPC, 0, "gopc" }, { GS_G_STARTPC, 0, "startpc" },
		{ GS_M_G0, 3, "g0" }, { GS_M_CURG, 3, "curg" },
		{ GS_MS_LAST_GC_UNIX, 4, "last_gc_unix" }, { GS_MS_PAUSE_TOTAL_NS, 4, "pause_total_ns" },
		{ GS_MS_PAUSE_NS, 4, "pause_ns" }, { GS_MS_PAUSE_END, 4, "pause_end" },
		{ GS_MS_NUMGC, 4, "numgc" }, { GS_MS_LAST_GC_NANOTIME, 4, "last_gc_nanotime" },
		{ GS_GC_HEAP_LIVE, 5, "heapLive" }, { GS_GC_HEAP_MARKED, 5, "heapMarked" },
		{ GS_GC_HEAP_INUSE, 5, "heapInUse" }, { GS_GC_HEAP_RELEASED, 5, "heapReleased" },
	};
	for (size_t i = 0; i < sizeof(flat) / sizeof(flat[0]); i++) {
		int64_t v = t.have[flat[i].type] ? member(&t.die[flat[i].type], flat[i].name) : -1;

		if (v >= 0)
			set(l, flat[i].f, v, GS_SRC_DWARF);
	}
	dwarf_end(dw);
	return t.have[0] ? 0 : -1;
}

/* ---- addresses ---- */

static const struct { int f; const char *sym; } addr_syms[] = {
	{ GS_ADDR_MEMSTATS, "runtime.memstats" }, { GS_ADDR_MHEAP, "runtime.mheap_" },
	{ GS_ADDR_ALLGS, "runtime.allgs" }, { GS_ADDR_ALLGLEN, "runtime.allglen" },
	{ GS_ADDR_GCCONTROLLER, "runtime.gcController" }, { GS_ADDR_MBUCKETS, "runtime.mbuckets" },
	{ GS_ADDR_MEMPROFILERATE, "runtime.MemProfileRate" },
	{ GS_ADDR_MPROFCYCLE, "runtime.mProfCycle" }, { GS_ADDR_MPROFCYCLE, "runtime.mProf" },
};
#define NADDR (sizeof(addr_syms) / sizeof(addr_syms[0]))

static int from_symtab(Elf *e, struct gs_layout *l)
{
	const char *syms[NADDR];
	uint64_t v[NADDR];
	int found;

	for (size_t k = 0; k < NADDR; k++) {
		syms[k] = addr_syms[k].sym;
		v[k] = UINT64_MAX;
	}
	found = gs_elf_symbols(e, syms, (int)NADDR, v);
	for (size_t k = 0; k < NADDR; k++)
		if (v[k] != UINT64_MAX)
			set(l, addr_syms[k].f, (int64_t)v[k], GS_SRC_SYMTAB);
	return found;
}

/* A function's code, from the ELF sections, by name (found through pclntab). */
struct code {
	const uint8_t *p;
	uint64_t addr, len;
};

static int func_code(Elf *e, const struct gs_pcln *pcln, const char *name, struct code *c)
{
	for (uint32_t i = 0; i < pcln->nfunc; i++) {
		struct gs_func f;

		if (gs_pcln_func(pcln, i, &f) < 0 || strcmp(f.name, name))
			continue;
		Elf_Scn *scn = NULL;
		GElf_Shdr sh;

		while ((scn = elf_nextscn(e, scn))) {
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
			    !(sh.sh_flags & SHF_EXECINSTR) || f.entry < sh.sh_addr ||
			    f.end > sh.sh_addr + sh.sh_size)
				continue;
			Elf_Data *d = elf_getdata(scn, NULL);

			if (!d || !d->d_buf || d->d_size < sh.sh_size)
				return -1;
			*c = (struct code){ (const uint8_t *)d->d_buf + (f.entry - sh.sh_addr), f.entry,
					    f.end - f.entry };
			return 0;
		}
		return -1;
	}
	return -1;
}

/* Target of a 4-byte displacement at offset i ending an instruction. */
static uint64_t rip_target(const struct code *c, uint64_t i)
{
	int32_t d = (int32_t)((uint32_t)c->p[i] | (uint32_t)c->p[i + 1] << 8 |
			      (uint32_t)c->p[i + 2] << 16 | (uint32_t)c->p[i + 3] << 24);

	return c->addr + i + 4 + (uint64_t)(int64_t)d;
}

static int has_target(const struct code *c, uint64_t t)
{
	for (uint64_t i = 0; i + 4 <= c->len; i++)
		if (rip_target(c, i) == t)
			return 1;
	return 0;
}

/* Writable PT_LOAD ranges: runtime variables live there, never in text. */
struct wranges {
	uint64_t lo[8], hi[8];
	int n;
};

static int in_data(const struct wranges *w, uint64_t a)
{
	for (int i = 0; i < w->n; i++)
		if (a >= w->lo[i] && a < w->hi[i])
			return 1;
	return 0;
}

/* The base B, in writable data, with B + off[k] a target for every k. */
/*
 * The first base B at or after from (as the code's displacements come) for
 * which B + off[k] is a RIP-relative target for every k; -1 when none.
 * *next is where to go on looking for another.
 */
static int64_t base_from(const struct code *c, const struct wranges *w, const int64_t *off,
			 int n, uint64_t from, uint64_t *next)
{
	for (int k = 0; k < n; k++)
		if (off[k] < 0)
			return -1;
	for (uint64_t i = from; i + 4 <= c->len; i++) {
		uint64_t b = rip_target(c, i) - (uint64_t)off[0];
		int k = 1;

		if (!in_data(w, b))
			continue;

		while (k < n && has_target(c, b + (uint64_t)off[k]))
			k++;
		if (k == n) {
			*next = i + 1;
			return (int64_t)b;
		}
	}
	return -1;
}

static int64_t base_with_offsets(const struct code *c, const struct wranges *w,
				 const int64_t *off, int n)
{
	uint64_t next;

	return base_from(c, w, off, n, 0, &next);
}

/*
 * gcController: gcMarkTermination touches only heapLive and heapInUse of
 * it, a pattern two other variables' fields can also make (seen in Go 1.20
 * and 1.21 builds), so a base found there must also be where heapLive is in
 * the code of gcResetMarkState and deductSweepCredit, which use it in every
 * release from 1.19 to 1.27.
 */
static int64_t gc_controller(Elf *e, const struct gs_pcln *p, const struct code *mt,
			     const struct wranges *w, const struct gs_layout *l)
{
	static const char *const confirm[] = { "runtime.gcResetMarkState",
					       "runtime.deductSweepCredit" };
	int64_t off[] = { l->v[GS_GC_HEAP_LIVE], l->v[GS_GC_HEAP_INUSE] };
	struct code c[2];
	uint64_t from = 0;
	int64_t b;

	for (int k = 0; k < 2; k++)
		if (func_code(e, p, confirm[k], &c[k]) < 0)
			return -1;
	while ((b = base_from(mt, w, off, 2, from, &from)) >= 0)
		if (has_target(&c[0], (uint64_t)(b + off[0])) &&
		    has_target(&c[1], (uint64_t)(b + off[0])))
			return b;
	return -1;
}

static const uint8_t *va_bytes(Elf *e, uint64_t va, uint64_t n);

/*
 * The writable-data targets that functions a and b both refer to, and that,
 * when want is not -1, hold want as a little-endian word in the file: up
 * to max of them in out. Returns how many there are (possibly more than
 * max), -1 when a function is missing.
 */
static int common_targets(Elf *e, const struct gs_pcln *p, const char *a, const char *b,
			  const struct wranges *w, int64_t want, int64_t *out, int max)
{
	struct code ca, cb;
	int n = 0;

	if (func_code(e, p, a, &ca) < 0 || func_code(e, p, b, &cb) < 0)
		return -1;
	for (uint64_t i = 0; i + 4 <= ca.len; i++) {
		uint64_t t = rip_target(&ca, i);
		const uint8_t *v;
		int seen = 0;

		if (!in_data(w, t) || !has_target(&cb, t))
			continue;
		for (int k = 0; k < n && k < max; k++)
			seen |= out[k] == (int64_t)t;
		if (seen)
			continue;
		if (want != -1) {
			uint64_t x = 0;

			if (!(v = va_bytes(e, t, 8)))
				continue;
			for (int k = 7; k >= 0; k--)
				x = x << 8 | v[k];
			if (x != (uint64_t)want)
				continue;
		}
		if (n < max)
			out[n] = (int64_t)t;
		n++;
	}
	return n;
}

/* The one such target; -1 when there is none, or more than one. */
static int64_t common_target(Elf *e, const struct gs_pcln *p, const char *a, const char *b,
			     const struct wranges *w, int64_t want)
{
	int64_t t[2];

	return common_targets(e, p, a, b, w, want, t, 2) == 1 ? t[0] : -1;
}

static void from_code(Elf *e, const struct gs_gobin *gb, struct gs_layout *l)
{
	const struct gs_pcln *p = &gb->pcln;
	struct code c;
	struct wranges w = { .n = 0 };
	size_t nph = 0;

	elf_getphdrnum(e, &nph);
	for (size_t i = 0; i < nph && w.n < 8; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_W)) {
			w.lo[w.n] = ph.p_vaddr;
			w.hi[w.n++] = ph.p_vaddr + ph.p_memsz;
		}
	}

	if (l->v[GS_ADDR_MEMSTATS] < 0 && func_code(e, p, "runtime.gcMarkTermination", &c) == 0) {
		int64_t off[] = { l->v[GS_MS_LAST_GC_UNIX], l->v[GS_MS_PAUSE_TOTAL_NS],
				  l->v[GS_MS_PAUSE_NS], l->v[GS_MS_PAUSE_END], l->v[GS_MS_NUMGC],
				  l->v[GS_MS_LAST_GC_NANOTIME] };
		int64_t b = base_with_offsets(&c, &w, off, 6);

		if (b >= 0)
			set(l, GS_ADDR_MEMSTATS, b, GS_SRC_CODE);
		int64_t run[] = { 0, GS_MS_GC_PAUSE_TOTAL, GS_MS_GC_PAUSE_NS, GS_MS_GC_PAUSE_END,
				  GS_MS_GC_NUMGC };

		b = base_with_offsets(&c, &w, run, 5);
		if (b >= 0)
			set(l, GS_ADDR_MS_GC, b, GS_SRC_CODE);
		b = l->v[GS_ADDR_GCCONTROLLER] < 0 ? gc_controller(e, p, &c, &w, l) : -1;
		if (b >= 0)
			set(l, GS_ADDR_GCCONTROLLER, b, GS_SRC_CODE);
	}
	if (l->v[GS_ADDR_ALLGS] < 0 && func_code(e, p, "runtime.forEachG", &c) == 0) {
		int64_t off[] = { 0, 8 };
		int64_t b = base_with_offsets(&c, &w, off, 2);

		if (b >= 0)
			set(l, GS_ADDR_ALLGS, b, GS_SRC_CODE);
	}
	/*
	 * The heap profile's variables, by the functions that use them in every
	 * release from 1.17 to 1.27: mbuckets, the list stkbucket adds to and
	 * mProf_FlushLocked walks; MemProfileRate, which allocmcache and
	 * profilealloc read, and which starts as 512 KiB in the file (a program
	 * can change it only once running), or, up to Go 1.19, is set so by
	 * runtime.init.
	 */
	if (l->v[GS_ADDR_MBUCKETS] < 0) {
		int64_t a = common_target(e, p, "runtime.stkbucket", "runtime.mProf_FlushLocked", &w, -1);

		if (a >= 0)
			set(l, GS_ADDR_MBUCKETS, a, GS_SRC_CODE);
	}
	if (l->v[GS_ADDR_MEMPROFILERATE] < 0) {
		int64_t a = common_target(e, p, "runtime.allocmcache", "runtime.profilealloc", &w,
					  512 * 1024);

		/* up to Go 1.19 runtime.init sets it (to 512 KiB, or 0) */
		if (a < 0 && (a = common_target(e, p, "runtime.allocmcache", "runtime.profilealloc",
						&w, -1)) >= 0 &&
		    (func_code(e, p, "runtime.init", &c) < 0 || !has_target(&c, (uint64_t)a)))
			a = -1;
		if (a >= 0)
			set(l, GS_ADDR_MEMPROFILERATE, a, GS_SRC_CODE);
	}
	/*
	 * The profile's cycle, which mark termination advances (mProf_NextCycle,
	 * inlined from Go 1.19) and mProf_Flush marks flushed: from Go 1.19
	 * the one variable both use. Before, the cycle is mProf, and what
	 * mProf_NextCycle and mProf_Flush share is proflock and mProf.flushed
	 * (+4), which follows the cycle that NextCycle also reads. (The two
	 * store and compare a byte with an immediate after the displacement,
	 * so their target reads one byte further: mProf + 3.)
	 */
	if (l->v[GS_ADDR_MPROFCYCLE] < 0) {
		int64_t t[4], a = common_target(e, p, "runtime.gcMarkTermination", "runtime.mProf_Flush",
						&w, -1);
		int n;

		if (a < 0 && func_code(e, p, "runtime.mProf_NextCycle", &c) == 0 &&
		    (n = common_targets(e, p, "runtime.mProf_NextCycle", "runtime.mProf_Flush", &w, -1,
					t, 4)) >= 1 && n <= 4)
			for (int i = 0; i < n; i++)
				for (int d = 3; d <= 4; d++)
					if (has_target(&c, (uint64_t)t[i] - (uint64_t)d))
						a = a == -1 ? t[i] - d : -2;
		if (a >= 0)
			set(l, GS_ADDR_MPROFCYCLE, a, GS_SRC_CODE);
	}
	if (l->v[GS_ADDR_MHEAP] < 0 && func_code(e, p, "runtime.mallocinit", &c) == 0) {
		struct gs_func init;
		uint64_t init_entry = 0;

		for (uint32_t i = 0; i < p->nfunc; i++)
			if (gs_pcln_func(p, i, &init) == 0 && !strcmp(init.name, "runtime.(*mheap).init")) {
				init_entry = init.entry;
				break;
			}
		/* LEA r64, [rip+d32] (REX.W 8D /r, mod 00 r/m 101), then CALL rel32 to init */
		for (uint64_t i = 0; init_entry && i + 12 <= c.len; i++) {
			if ((c.p[i] & 0xfb) != 0x48 || c.p[i + 1] != 0x8d || (c.p[i + 2] & 0xc7) != 0x05 ||
			    c.p[i + 7] != 0xe8)
				continue;
			if (rip_target(&c, i + 8) == init_entry && in_data(&w, rip_target(&c, i + 3))) {
				set(l, GS_ADDR_MHEAP, (int64_t)rip_target(&c, i + 3), GS_SRC_CODE);
				break;
			}
		}
	}
}

void gs_layout_find(int fd, const struct gs_gobin *gb, const char *go_version,
		    int flags, struct gs_layout *l)
{
	struct gs_layout table;
	Elf *e;
	size_t k = 0;

	gs_layout_table(go_version, &table);
	clear(l);
	if ((flags & GS_LAYOUT_NO_DWARF) || from_dwarf(fd, l) < 0)
		*l = table;
	else
		for (int i = 0; i < GS_LAY_N; i++)	/* DWARF, completed by the table */
			if (l->v[i] < 0 && table.v[i] >= 0)
				set(l, i, table.v[i], table.src[i]);
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e) {
		if (!(flags & GS_LAYOUT_NO_SYMTAB))
			from_symtab(e, l);
		if (flags & GS_LAYOUT_NO_TABLE_MSTATS)	/* as for a release the table lacks */
			for (int i = GS_MS_LAST_GC_UNIX; i <= GS_MS_LAST_GC_NANOTIME; i++)
				set(l, i, -1, GS_SRC_NONE);
		if (gb)
			from_code(e, gb, l);
		elf_end(e);
	}
	/* With memstats' address and offset known, the run's address follows. */
	if (l->v[GS_ADDR_MS_GC] < 0 && l->v[GS_ADDR_MEMSTATS] >= 0 && l->v[GS_MS_LAST_GC_UNIX] >= 0)
		set(l, GS_ADDR_MS_GC, l->v[GS_ADDR_MEMSTATS] + l->v[GS_MS_LAST_GC_UNIX],
		    l->src[GS_ADDR_MEMSTATS]);
	l->note[0] = 0;
	for (int i = 0; i < GS_LAY_N; i++)
		if (l->v[i] < 0 && !(i == GS_ADDR_ALLGLEN && l->v[GS_ADDR_ALLGS] >= 0))
			k += (size_t)snprintf(l->note + k, k < sizeof(l->note) ? sizeof(l->note) - k : 0,
					      "%s%s", k ? ", " : "not found: ", names[i]);
	if (k >= sizeof(l->note))
		snprintf(l->note + sizeof(l->note) - 5, 5, "...");
}

/* ---- the version string ---- */

/* n bytes at link-time address va in an allocated section of the file. */
static const uint8_t *va_bytes(Elf *e, uint64_t va, uint64_t n)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC) ||
		    va < sh.sh_addr || va - sh.sh_addr > sh.sh_size || n > sh.sh_size - (va - sh.sh_addr))
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);

		if (!d || !d->d_buf || d->d_size < sh.sh_size)
			return NULL;
		return (const uint8_t *)d->d_buf + (va - sh.sh_addr);
	}
	return NULL;
}

/* "go1.N" then digits, dots and letters (rc1, beta2), then the end or a space
 * (" X:exp"), optionally after "devel ": what runtime.Version() prints. */
static int is_go_version(const uint8_t *s, uint64_t n)
{
	uint64_t i = 0;

	if (n >= 6 && !memcmp(s, "devel ", 6))
		i = 6;
	if (n - i < 5 || memcmp(s + i, "go1.", 4) || s[i + 4] < '0' || s[i + 4] > '9')
		return 0;
	for (i += 5; i < n && s[i] != ' '; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || s[i] == '.' ||
		      s[i] == '-'))
			return 0;
	for (; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* The string whose header (pointer, length) is at va, if it is a version. */
static int version_at(Elf *e, uint64_t va, char *out, size_t outlen)
{
	const uint8_t *h = va_bytes(e, va, 16), *s;
	uint64_t p, n;

	if (!h)
		return -1;
	memcpy(&p, h, 8);
	memcpy(&n, h + 8, 8);
	if (n < 5 || n >= outlen || n > 128 || !(s = va_bytes(e, p, n)) || !is_go_version(s, n))
		return -1;
	memcpy(out, s, n);
	out[n] = 0;
	return 0;
}

int gs_go_version_find(int fd, const struct gs_gobin *gb, char *out, size_t outlen,
		       const char **source)
{
	static const char *const sym[] = { "runtime.buildVersion" };
	uint64_t v = 0;
	struct code c;
	int ret = -1;
	Elf *e;

	elf_version(EV_CURRENT);
	if (gb->pcln.ptrsize != 8 || !(e = elf_begin(fd, ELF_C_READ_MMAP, NULL)))
		return -1;
	if (gs_elf_symbols(e, sym, 1, &v) && version_at(e, v, out, outlen) == 0) {
		*source = "symtab";
		ret = 0;
	} else if (func_code(e, &gb->pcln, "runtime.schedinit", &c) == 0) {
		for (uint64_t i = 0; i + 4 <= c.len && ret < 0; i++)
			if (version_at(e, rip_target(&c, i), out, outlen) == 0) {
				*source = "code";
				ret = 0;
			}
	}
	elf_end(e);
	return ret;
}

/*
 * golayout.h - where the Go runtime keeps what gsmapper reads from outside:
 * field offsets in runtime.g, runtime.m, runtime.mstats and
 * runtime.gcControllerState, and the addresses of runtime.memstats,
 * runtime.mheap_, runtime.allgs, runtime.allglen and runtime.gcController.
 *
 * Each value has a source. Offsets come from DWARF when the binary has it,
 * else from a table by Go version; addresses from .symtab, else from code
 * patterns in functions found through pclntab. A value that cannot be found
 * stays unknown (-1): never a guess.
 */
#ifndef GS_GOLAYOUT_H
#define GS_GOLAYOUT_H

#include <stdint.h>

#include "gobin.h"

enum gs_lay {
	/* runtime.g */
	GS_G_STACK_LO, GS_G_STACK_HI, GS_G_STACKGUARD0, GS_G_M, GS_G_SCHED_SP,
	GS_G_SCHED_PC, GS_G_SCHED_BP, GS_G_SYSCALLSP, GS_G_SYSCALLPC,
	GS_G_ATOMICSTATUS, GS_G_GOID, GS_G_GOPC, GS_G_STARTPC,
	/* runtime.m */
	GS_M_G0, GS_M_CURG,
	/* runtime.mstats */
	GS_MS_LAST_GC_UNIX, GS_MS_PAUSE_TOTAL_NS, GS_MS_PAUSE_NS, GS_MS_PAUSE_END,
	GS_MS_NUMGC, GS_MS_LAST_GC_NANOTIME,
	/* runtime.gcControllerState */
	GS_GC_HEAP_LIVE, GS_GC_HEAP_MARKED, GS_GC_HEAP_INUSE, GS_GC_HEAP_RELEASED,
	/* addresses (link-time) */
	GS_ADDR_MEMSTATS, GS_ADDR_MHEAP, GS_ADDR_ALLGS, GS_ADDR_ALLGLEN,
	GS_ADDR_GCCONTROLLER,
	/*
	 * &memstats.last_gc_unix itself. In every release from 1.16 to 1.23 it
	 * starts a run that never changed: last_gc_unix, pause_total_ns (+8),
	 * pause_ns[256] (+16), pause_end[256] (+2064), numgc (+4112, uint32).
	 * So NumGC, LastGC and pauses can be read even when mstats' own offsets
	 * are unknown (a stripped binary of a release the table lacks).
	 */
	GS_ADDR_MS_GC,
	/*
	 * The heap profile's: runtime.mbuckets, the head of the list of
	 * memory-profile buckets, and runtime.MemProfileRate (an int).
	 */
	GS_ADDR_MBUCKETS, GS_ADDR_MEMPROFILERATE,
	/*
	 * The heap profile's cycle: runtime.mProfCycle from Go 1.19 (a uint32,
	 * the cycle << 1 | the flushed flag), runtime.mProf before it (a
	 * struct { cycle uint32; flushed bool }).
	 */
	GS_ADDR_MPROFCYCLE,
	GS_LAY_N
};

enum gs_lay_source {
	GS_SRC_NONE = 0,	/* not found */
	GS_SRC_DWARF = 1,	/* the binary's DWARF */
	GS_SRC_TABLE = 2,	/* version table, checked against DWARF of a build here */
	GS_SRC_TABLE_SOURCES = 3, /* version table, read from the Go sources, unchecked */
	GS_SRC_SYMTAB = 4,	/* the binary's .symtab */
	GS_SRC_CODE = 5,	/* code patterns in functions found through pclntab */
};

struct gs_layout {
	int64_t v[GS_LAY_N];		/* -1: unknown */
	uint8_t src[GS_LAY_N];
	char note[256];			/* what could not be found, and why */
};

#define GS_MS_GC_PAUSE_TOTAL	8	/* offsets from GS_ADDR_MS_GC */
#define GS_MS_GC_PAUSE_NS	16
#define GS_MS_GC_PAUSE_END	2064
#define GS_MS_GC_NUMGC		4112

const char *gs_lay_name(int field);	/* "g.goid", "addr.memstats", ... */
int gs_lay_index(const char *name);
const char *gs_lay_source_name(int src);

/*
 * Find the layout for the Go binary open at fd (gb loaded from it, version
 * "go1.19.8"). The flags make it ignore DWARF or .symtab, for tests that
 * compare the paths. Always fills out; note says what is missing.
 */
#define GS_LAYOUT_NO_DWARF	1
#define GS_LAYOUT_NO_SYMTAB	2
#define GS_LAYOUT_NO_TABLE_MSTATS 4	/* forget mstats offsets (tests) */
void gs_layout_find(int fd, const struct gs_gobin *gb, const char *go_version,
		    int flags, struct gs_layout *out);
/*
 * The Go releases whose runtime gsmapper knows: probe points and their
 * arguments, the version table. A newer release is read as far as its
 * formats allow (symbols, the version), and its runtime streams stay off.
 */
#define GS_GO_MINOR_FIRST	17
#define GS_GO_MINOR_NEWEST	27

/* The version table alone (or -1s for an unknown version). */
void gs_layout_table(const char *go_version, struct gs_layout *out);

/*
 * The Go version of a binary that has no .go.buildinfo (some release
 * builds drop it): the string in runtime.buildVersion, e.g. "go1.25.4".
 * .symtab names the variable; in a stripped binary runtime.schedinit
 * refers to it (it checks that the string is set), so it is the one
 * RIP-relative target there whose two words in the file are the address
 * and length of a "go1.N..." string. 0 with out and *source ("symtab" or
 * "code") set, or -1.
 */
int gs_go_version_find(int fd, const struct gs_gobin *gb, char *out, size_t outlen,
		       const char **source);

#endif

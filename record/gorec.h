/*
 * gorec.h - goroutines and GC of a Go target (gorec.c): the eBPF streams
 * of goroutine creation, exit and stack copies and of GC phases
 * (bpf/goroutines.bpf.c), and what gsrec reads itself from the target's
 * memory with process_vm_readv: runtime.memstats after every GC cycle, the
 * heap figures, and a periodic census of runtime.allgs.
 */
#ifndef GS_GOREC_H
#define GS_GOREC_H

#include <stdint.h>
#include <sys/types.h>

#include "common/gobin.h"
#include "common/golayout.h"
#include "format/trace.h"
#include "gocheck.h"
#include "stacks.h"

struct gorec_opts {
	unsigned ringbuf_kb;
	int wait_exec;			/* the target has not exec'd yet */
	unsigned census_ms;		/* 0: no census */
	unsigned census_top;		/* goroutines with the largest stacks to unwind */
	unsigned heap_ms;		/* GO_HEAP sampling interval */
	double census_budget;		/* the census's CPU share of one core, at most */
	unsigned go_rate;		/* creation, exit and stack-copy events a second; 0: all */
	int heap_profile;		/* read the runtime's heap profile (heaprof.h) */
	uint64_t heap_rate;		/* gsrec --heap-rate: write runtime.MemProfileRate; 0: never */
};

struct goroutines_bpf;
struct ring_buffer;
struct bpf_link;
struct gs_smaps;
struct census_scratch;
struct budget;
struct heaprof;

/* The runtime functions the uprobes go on, and those they must tell apart. */
enum gorec_fn {
	GOREC_ISSYS,		/* runtime.isSystemGoroutine: creations and exits */
	GOREC_NEWPROC1,		/* its caller for creations */
	GOREC_EXIT,		/* its caller for exits: gdestroy (1.22+) or goexit0 */
	GOREC_COPYSTACK,
	GOREC_GCSTART,		/* gcBgMarkStartWorkers */
	GOREC_MARKTERM,		/* gcMarkTermination */
	GOREC_NFN
};

struct gorec {
	pid_t pid;
	struct gs_writer *w;
	struct stacks *stacks;
	struct gorec_opts o;
	/* the executable */
	int have_bin, go_minor;		/* go1.N */
	struct gs_gobin gb;
	struct gs_layout lay;
	int is_dyn;			/* ET_DYN: runtime addresses are link-time + bias */
	uint64_t min_vaddr;
	struct { uint64_t offset, vaddr, filesz; } seg[16];
	int nseg;
	char exe[4096];
	uint64_t exe_dev, exe_ino;
	/* link-time entry and end; file offset and link-time address of the probe */
	struct { uint64_t entry, end, off, at; const char *name; } fn[GOREC_NFN];
	int probes_ok;
	char probes_why[256];		/* why the uprobes cannot be used */
	int bias_known;
	uint64_t bias;
	/* eBPF */
	struct goroutines_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[5];	/* 4 perf-event uprobes, the exec hook */
	int multi;			/* the uprobes are uprobe_multi links: */
	int mlink[4];			/* their fds, -1 when off */
	uint64_t lost_reported;
	/* the event budget (gorec.c: "The event budget") */
	struct budget *bud;
	int probes_off;			/* errno: the probes could not be put back */
	uint64_t pauses, paused_ns, refused;
	/* memstats */
	int gc_ok, heap_ok;		/* their addresses are known */
	uint32_t numgc;			/* last NumGC read */
	uint64_t start_real_ns;		/* when recording began, CLOCK_REALTIME */
	int numgc_read;
	uint64_t next_heap;
	/* census */
	int census_ok;
	uint64_t next_census;
	struct census_scratch *cs;
	/* counts, for the summary */
	uint64_t creates, exits, copies, gc_events, cycles, censuses, census_cpu_ns;
	uint64_t rec_start;		/* when the probes went on */
	uint64_t last_census_cpu_ns;
	/* the runtime's heap profile (heaprof.h); hp_why: why not */
	struct heaprof *hp;
	char hp_why[256];
	int stop_armed;			/* the probes will stop a launched target for --heap-rate */
	/* what the target's own figures said of the layout and probes */
	struct gocheck chk;
	int err;
	int warned_read;
};

/*
 * Load what the streams need from the Go executable at path (in launch
 * mode, before it runs). Says on why (0 returned either way, have_bin set
 * when usable) what cannot be recorded.
 */
void gorec_init(struct gorec *g, pid_t pid, const char *path, const struct gorec_opts *o,
		struct stacks *stacks, struct gs_writer *w, char *why, size_t whylen);
/*
 * As the recording ends: GO_CHECK for the executable (object id), what the
 * checks of its layout and probes found (gocheck.h).
 */
int gorec_write_check(struct gorec *g, uint32_t object);
/* Attach the uprobes. 0, or -1 with a reason in err. */
int gorec_attach(struct gorec *g, char *err, size_t errlen);
/*
 * Where uprobes on the named Go functions go in the executable (file
 * offsets: a function's prologue jump, as for the goroutine probes, else
 * its entry), in one pass over pclntab: off[k] and have[k] = 1 for each
 * found. Returns how many were; none when the runtime's register ABI is
 * not known (before go1.17, after GS_GO_MINOR_NEWEST).
 */
int gorec_func_offsets(const struct gorec *g, const char *const *names, int n, uint64_t *off,
		       int *have);
/*
 * Where the program's functions call the Go function
 * callee directly: the file offsets of those CALL instructions, for uprobes
 * that the kernel emulates where callee's entry would be single-stepped.
 * Returns how many (1 to max), or -1 when callee has none, more than max,
 * or is also reached by a jump (then probe its entry).
 */
int gorec_call_sites(const struct gorec *g, const char *callee, uint64_t *off, int max);
/* The target's mappings: gives the load bias. */
void gorec_set_maps(struct gorec *g, const struct gs_smaps *s);
int gorec_fd(struct gorec *g);
int gorec_poll(struct gorec *g);
int gorec_lost(struct gorec *g, uint64_t now);
/*
 * Read memstats (every call: a cycle's end is caught within one tick) and,
 * when due, the heap figures and the census. 0, or -1 with errno when the
 * writer failed.
 */
int gorec_tick(struct gorec *g, uint64_t now);
/* The same as the recording ends: what is pending is read whatever the budget. */
int gorec_tick_final(struct gorec *g, uint64_t now);
/* The probes no longer stop a launched target for --heap-rate. */
void gorec_disarm_stop(struct gorec *g);
/* Say something about the target's runtime: on stderr, and in the trace. */
int gorec_say(struct gorec *g, unsigned level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The recording ends at now: close an open pause (probes_off: the probes
 * could not be put back after it). 0, or -1 with errno. */
int gorec_stop(struct gorec *g, uint64_t now);
void gorec_close(struct gorec *g);

#endif

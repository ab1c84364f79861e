/*
 * gorec.c - goroutines and GC of a Go target: see gorec.h.
 *
 * The uprobes (bpf/goroutines.bpf.c) give the events: creations, exits,
 * stack copies, GC starts and mark terminations. What the runtime itself
 * keeps is read from the target's memory with process_vm_readv, which
 * needs no eBPF: NumGC is polled on every gsrec tick, and when it moves the
 * cycles' LastGC and pauses are taken from memstats' pause_end and pause_ns
 * rings (256 deep), so every cycle gets its exact figures even when several
 * end between two ticks. The census walks runtime.allgs.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/goelf.h"
#include "common/proc.h"
#include "common/smaps.h"
#include "ebpf.h"
#include "gorec.h"
#include "heaprof.h"
#include "cpu.h"		/* GS_MAX_FRAMES */
#include "goroutines.h"
#include "goroutines.skel.h"

#define G_IDLE		0
#define G_RUNNING	2
#define G_SYSCALL	3
#define G_WAITING	4
#define G_DEAD		6
#define G_COPYSTACK	8
#define G_SCAN		0x1000
#define STACK_PREEMPT	0xfffffffffffffadeull	/* stackguard0: a preemption request */

/* ---- reading the target ---- */

static int peek(struct gorec *g, uint64_t addr, void *buf, size_t n)
{
	struct iovec l = { buf, n }, r = { (void *)addr, n };

	return process_vm_readv(g->pid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -1;
}

/* The runtime address of a link-time one. */
static uint64_t rt(const struct gorec *g, int64_t link)
{
	return (uint64_t)link + g->bias;
}

static int64_t lay(const struct gorec *g, int i)
{
	return g->lay.v[i];
}

/* ---- the executable ---- */

static const char *const fn_names[GOREC_NFN][2] = {
	[GOREC_ISSYS] = { "runtime.isSystemGoroutine", NULL },
	[GOREC_NEWPROC1] = { "runtime.newproc1", NULL },
	[GOREC_EXIT] = { "runtime.gdestroy", "runtime.goexit0" },
	[GOREC_COPYSTACK] = { "runtime.copystack", NULL },
	[GOREC_GCSTART] = { "runtime.gcBgMarkStartWorkers", NULL },
	[GOREC_MARKTERM] = { "runtime.gcMarkTermination", NULL },
};

/* Whether a runtime address lies in the executable's text. */
static int in_text(const struct gorec *g, uint64_t pc)
{
	return g->bias_known && gocheck_in_text(&g->chk, pc - g->bias);
}

static int pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int file_offset(const struct gorec *g, uint64_t va, uint64_t *off)
{
	for (int i = 0; i < g->nseg; i++)
		if (va >= g->seg[i].vaddr && va < g->seg[i].vaddr + g->seg[i].filesz) {
			*off = va - g->seg[i].vaddr + g->seg[i].offset;
			return 0;
		}
	return -1;
}

static int at_file(const void *g, uint64_t va, uint64_t *off)
{
	return file_offset(g, va, off);
}

/* Does the code of [lo, hi) hold a direct call to target? */
static int calls(const struct gorec *g, int fd, uint64_t lo, uint64_t hi, uint64_t target)
{
	struct gs_func f = { .entry = lo, .end = hi };

	return gs_go_func_calls(&f, fd, at_file, g, target) > 0;
}

/*
 * Where a function's uprobe goes (gs_go_probe_offset, or with once
 * gs_go_probe_offset_once): *d bytes past its entry, at file offset *off.
 * 0, or -1 when entry is outside the file's segments.
 */
static int probe_point(const struct gorec *g, int fd, uint64_t entry, uint64_t end, int once,
		       uint64_t *off, uint64_t *d)
{
	uint8_t code[24];

	*d = 0;
	if (file_offset(g, entry, off) < 0)
		return -1;
	if (end - entry >= sizeof(code) &&
	    pread(fd, code, sizeof(code), (off_t)*off) == (ssize_t)sizeof(code))
		*d = once ? gs_go_probe_offset_once(code, sizeof(code))
			  : gs_go_probe_offset(code, sizeof(code));
	*off += *d;
	return 0;
}

static void find_functions(struct gorec *g, int fd)
{
	const struct gs_pcln *p = &g->gb.pcln;
	int have[GOREC_NFN][2] = { { 0 } };
	char *why = g->probes_why;
	size_t wl = sizeof(g->probes_why);

	for (uint32_t i = 0; i < p->nfunc; i++) {
		struct gs_func f;

		if (gs_pcln_func(p, i, &f) < 0 || strncmp(f.name, "runtime.", 8))
			continue;
		for (int k = 0; k < GOREC_NFN; k++)
			for (int j = 0; j < 2; j++)
				if (fn_names[k][j] && !have[k][j] && !strcmp(f.name, fn_names[k][j])) {
					/* the first choice wins over the second */
					if (j == 0 || !have[k][0]) {
						g->fn[k].entry = f.entry;
						g->fn[k].end = f.end;
						g->fn[k].name = fn_names[k][j];
					}
					have[k][j] = 1;
				}
	}
	if (g->go_minor < GS_GO_MINOR_FIRST || g->go_minor > GS_GO_MINOR_NEWEST) {
		snprintf(why, wl, "go1.%d is not supported (gsrec knows the runtimes of go1.%d to "
			 "go1.%d)", g->go_minor, GS_GO_MINOR_FIRST, GS_GO_MINOR_NEWEST);
		return;
	}
	for (int k = 0; k < GOREC_NFN; k++) {
		if (!have[k][0] && !(fn_names[k][1] && have[k][1])) {
			snprintf(why, wl, "%s not found in pclntab", fn_names[k][0]);
			return;
		}
		uint64_t d;

		/* the GC probes run on a goroutine's stack, which may have to
		 * grow first; the others run on g0 */
		int once = k == GOREC_GCSTART || k == GOREC_MARKTERM;

		if (probe_point(g, fd, g->fn[k].entry, g->fn[k].end, once, &g->fn[k].off, &d) < 0) {
			snprintf(why, wl, "%s is outside the file's segments", fn_names[k][0]);
			return;
		}
		g->fn[k].at = g->fn[k].entry + d;
	}
	/* The creation and exit probe rests on these calls: check they exist. */
	if (!calls(g, fd, g->fn[GOREC_NEWPROC1].entry, g->fn[GOREC_NEWPROC1].end,
		   g->fn[GOREC_ISSYS].entry) ||
	    !calls(g, fd, g->fn[GOREC_EXIT].entry, g->fn[GOREC_EXIT].end, g->fn[GOREC_ISSYS].entry)) {
		snprintf(why, wl, "this runtime's newproc1 or goroutine exit does not call "
			 "isSystemGoroutine");
		return;
	}
	static const int need[] = { GS_G_GOID, GS_G_M, GS_M_CURG, GS_G_STACK_LO, GS_G_STACK_HI,
				    GS_G_SCHED_SP, GS_G_SCHED_PC, GS_G_SCHED_BP, GS_G_GOPC,
				    GS_G_STARTPC };

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (lay(g, need[i]) < 0) {
			snprintf(why, wl, "runtime layout: %s unknown", gs_lay_name(need[i]));
			return;
		}
	g->probes_ok = 1;
}

int gorec_func_offsets(const struct gorec *g, const char *const *names, int n, uint64_t *off,
		       int *have)
{
	struct gs_func *f = calloc((size_t)n, sizeof(*f));
	int fd, found = 0;

	memset(have, 0, (size_t)n * sizeof(*have));
	if (!f || !g->have_bin || g->go_minor < GS_GO_MINOR_FIRST ||
	    g->go_minor > GS_GO_MINOR_NEWEST ||
	    (fd = open(g->exe, O_RDONLY | O_CLOEXEC)) < 0) {
		free(f);
		return 0;
	}
	gs_go_funcs_named(&g->gb.pcln, names, n, fd, at_file, g, f, have);
	for (int k = 0; k < n; k++) {
		uint64_t d;

		if (have[k] && probe_point(g, fd, f[k].entry, f[k].end, 0, &off[k], &d) < 0)
			have[k] = 0;
		found += have[k];
	}
	close(fd);
	free(f);
	return found;
}

/*
 * GSMAPPER_WITHHOLD=FIELD,... (layout names as `gsreport info` prints them,
 * e.g. addr.memstats.last_gc_unix) makes gsrec act as if those were not found: the
 * tests use it to measure what a binary whose layout is incomplete gets.
 * "uprobe_multi" among them makes gsrec use perf-event uprobes, as on a
 * kernel without uprobe_multi links; "madvise_calls" makes it probe
 * runtime.madvise's entry, as when its calls are not known.
 */
static int withheld(const char *name)
{
	const char *w = getenv("GSMAPPER_WITHHOLD");
	size_t n = strlen(name);

	for (const char *p = w; p && (p = strstr(p, name)); p += n)
		if ((p == w || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return 1;
	return 0;
}

/*
 * GSMAPPER_SHIFT=FIELD:BYTES,... moves those offsets or addresses by BYTES
 * (which may be negative): the tests use it to show that a wrong layout is
 * caught by the checks (gocheck.h) rather than recorded as the truth.
 */
static void withhold(struct gs_layout *l)
{
	const char *sh = getenv("GSMAPPER_SHIFT");

	for (int i = 0; i < GS_LAY_N; i++) {
		const char *name = gs_lay_name(i), *p;
		size_t n = strlen(name);

		if (withheld(name))
			l->v[i] = -1;
		for (p = sh; p && (p = strstr(p, name)); p += n)
			if ((p == sh || p[-1] == ',') && p[n] == ':' && l->v[i] >= 0)
				l->v[i] += strtoll(p + n + 1, NULL, 0);
	}
}

int gorec_call_sites(const struct gorec *g, const char *callee, uint64_t *off, int max)
{
	const struct gs_pcln *p = &g->gb.pcln;
	struct gs_func f;
	int fd, have, n = -1;

	if (!g->have_bin || g->go_minor < GS_GO_MINOR_FIRST ||
	    g->go_minor > GS_GO_MINOR_NEWEST || withheld("madvise_calls") ||
	    (fd = open(g->exe, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (gs_go_funcs_named(p, &callee, 1, fd, at_file, g, &f, &have) == 1)
		n = gs_go_call_sites(p, fd, "", at_file, g, f.entry, off, max);
	close(fd);
	if (n < 1 || n > max)
		return -1;
	for (int i = 0; i < n; i++)
		if (file_offset(g, off[i], &off[i]) < 0)
			return -1;
	return n;
}

void gorec_init(struct gorec *g, pid_t pid, const char *path, const struct gorec_opts *o,
		struct stacks *stacks, struct gs_writer *w, char *why, size_t whylen)
{
	struct gs_exe_info info;
	char err[256];
	int fd;

	memset(g, 0, sizeof(*g));
	g->pid = pid;
	g->w = w;
	g->stacks = stacks;
	g->o = *o;
	snprintf(g->exe, sizeof(g->exe), "%s", path);
	g->start_real_ns = gs_now_ns(CLOCK_REALTIME);
	why[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return;
	}
	struct stat st;

	if (fstat(fd, &st) == 0) {
		g->exe_dev = st.st_dev;
		g->exe_ino = st.st_ino;
	}
	if (gs_exe_info_read(fd, &info) < 0 || !info.is_go) {
		snprintf(why, whylen, "not a Go program");
		goto out;
	}
	if (sscanf(info.go_version, "go1.%d", &g->go_minor) != 1) {
		snprintf(why, whylen, "unknown Go version \"%s\"", info.go_version);
		goto out;
	}
	if (gs_gobin_load(fd, &g->gb, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "%s", err);
		goto out;
	}
	gs_pcln_index(&g->gb.pcln);
	gs_layout_find(fd, &g->gb, info.go_version, 0, &g->lay);
	withhold(&g->lay);

	Elf *e;
	GElf_Ehdr eh;

	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && gelf_getehdr(e, &eh)) {
		size_t nph = 0;

		g->is_dyn = eh.e_type == ET_DYN;
		g->min_vaddr = UINT64_MAX;
		elf_getphdrnum(e, &nph);
		for (size_t i = 0; i < nph && g->nseg < 16; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			g->seg[g->nseg].offset = ph.p_offset;
			g->seg[g->nseg].vaddr = ph.p_vaddr;
			g->seg[g->nseg].filesz = ph.p_filesz;
			g->nseg++;
			if (ph.p_vaddr < g->min_vaddr)
				g->min_vaddr = ph.p_vaddr;
		}
	}
	if (e)
		elf_end(e);
	g->have_bin = 1;
	if (!g->is_dyn)
		g->bias_known = 1;
	find_functions(g, fd);
	g->chk.text_lo = g->gb.pcln.text_start;
	g->chk.text_hi = gs_pcln_end(&g->gb.pcln);
	g->gc_ok = lay(g, GS_ADDR_MS_GC) >= 0;
	g->heap_ok = lay(g, GS_ADDR_GCCONTROLLER) >= 0 && lay(g, GS_GC_HEAP_LIVE) >= 0;
	g->census_ok = lay(g, GS_ADDR_ALLGS) >= 0 &&
		       lay(g, GS_G_ATOMICSTATUS) >= 0 && lay(g, GS_G_GOID) >= 0 &&
		       lay(g, GS_G_GOPC) >= 0 && lay(g, GS_G_STARTPC) >= 0 &&
		       lay(g, GS_G_SCHED_SP) >= 0 && lay(g, GS_G_SCHED_PC) >= 0 &&
		       lay(g, GS_G_SYSCALLSP) >= 0 && lay(g, GS_G_SYSCALLPC) >= 0 && o->census_ms;
	if (o->heap_profile)
		g->hp = heaprof_new(g, g->hp_why, sizeof(g->hp_why));
	if (!g->gc_ok)
		snprintf(why, whylen, "runtime.memstats not found: GC cycles' LastGC will be "
			 "estimated from probe times");
	else if (!g->census_ok && o->census_ms)
		snprintf(why, whylen, "runtime.allgs or goroutine fields not found: no census");
out:
	close(fd);
}

void gorec_set_maps(struct gorec *g, const struct gs_smaps *s)
{
	if (!g->have_bin || g->bias_known)
		return;
	/* PIE: the mapping of the executable at file offset 0 */
	for (uint32_t i = 0; i < s->n; i++) {
		const struct gs_mapping *m = &s->m[i];
		if (m->offset == 0 && m->inode == g->exe_ino &&
		    makedev(m->dev_major, m->dev_minor) == g->exe_dev) {
			g->bias = m->start - (g->min_vaddr & ~(uint64_t)0xfff);
			g->bias_known = 1;
			return;
		}
	}
}

/* ---- eBPF ---- */

/* The probes the event budget takes off, as links[] and progs order them. */
#define BUDGETED 2

static struct bpf_program *prog_of(struct gorec *g, int i)
{
	struct bpf_program *p[4] = { g->skel->progs.on_issys, g->skel->progs.on_copystack,
				     g->skel->progs.on_gc_start, g->skel->progs.on_gc_mark_term };

	return p[i];
}

static const int probe_fn[4] = { GOREC_ISSYS, GOREC_COPYSTACK, GOREC_GCSTART, GOREC_MARKTERM };

/*
 * The uprobes go on as uprobe_multi links where the kernel has them (6.6
 * and later), else as perf-event uprobes. The difference is in taking them
 * off. A perf-event uprobe leaves its consumer registered while its
 * breakpoints are removed, and the removal waits for an RCU grace period
 * (10-250 ms under load here) holding the uprobe's lock; every thread of
 * the target that hits the breakpoint meanwhile is told to remove it and
 * sleeps on that lock. A uprobe_multi link's consumer is gone before the
 * removal starts, and threads that hit the breakpoint meanwhile go on. The
 * budget takes probes off and puts them back every period, so this spares
 * the target a stall of up to a grace period each time.
 *
 * libbpf 1.1 has no uprobe_multi API: the link is made with the bpf system
 * call, its attribute laid out as in the kernel's union bpf_attr.
 */
#define GS_BPF_TRACE_UPROBE_MULTI 48	/* enum bpf_attach_type */

struct gs_uprobe_multi_attr {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t cnt, multi_flags, pid, pad;
};

static int probe_on(struct gorec *g, int i)
{
	if (!g->multi) {
		g->links[i] = bpf_program__attach_uprobe(prog_of(g, i), false, g->pid, g->exe,
							 (size_t)g->fn[probe_fn[i]].off);
		return g->links[i] ? 0 : -1;
	}
	uint64_t off = g->fn[probe_fn[i]].off;
	struct gs_uprobe_multi_attr a = {
		.prog_fd = (uint32_t)bpf_program__fd(prog_of(g, i)),
		.attach_type = GS_BPF_TRACE_UPROBE_MULTI,
		.path = (uint64_t)(uintptr_t)g->exe, .offsets = (uint64_t)(uintptr_t)&off,
		.cnt = 1, .pid = (uint32_t)g->pid,
	};
	int fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));

	if (fd < 0)
		return -1;
	g->mlink[i] = fd;
	return 0;
}

static void probe_off(struct gorec *g, int i)
{
	if (!g->multi) {
		bpf_link__destroy(g->links[i]);
		g->links[i] = NULL;
	} else if (g->mlink[i] >= 0) {
		close(g->mlink[i]);
		g->mlink[i] = -1;
	}
}

/*
 * The event budget. A uprobe hit costs the target a trap (2-3 µs here,
 * BENCHMARKS.md) whether or not the program records anything, so past the
 * budget the probes must come off, and taking a uprobe off or putting it
 * back is itself slow: the kernel waits for RCU grace periods (10-250 ms
 * under load), meanwhile the probe still traps, and a perf-event uprobe
 * stalls the target's threads that hit it (see probe_on). A worker thread
 * does both so that gsrec goes on recording, and the probes change state
 * at most twice in a period (BUDGET_PERIOD_NS).
 *
 * Each period starts with the probes on and go_rate's share of the period
 * (go_allow). The first hit past it starts a pause: the worker takes the
 * probes off, and they come back once the period, stretched to cover the
 * hits refused meanwhile at go_rate, is over. So the probes take at most
 * go_rate hits a second on average, refused ones included, however fast
 * the target makes goroutines, and a target that makes fewer is recorded
 * whole. GO_PAUSE records say when events were not recorded.
 */
#define BUDGET_PERIOD_NS 10000000000u

enum bud_state { B_ON, B_PAUSING, B_OFF, B_RESUMING, B_DONE /* the recording ended */ };
enum bud_cmd { CMD_NONE, CMD_DETACH, CMD_ATTACH, CMD_QUIT };

struct budget {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum bud_cmd cmd;		/* for the worker; CMD_NONE once done */
	int attach_err;			/* the worker's result for CMD_ATTACH */
	enum bud_state st;
	uint64_t win_start;		/* the period's probes went on */
	uint64_t pause_from, pause_end;	/* first refused hit; the probes going back */
	uint64_t resume_at;
};

static void *budget_worker(void *arg)
{
	struct gorec *g = arg;
	struct budget *b = g->bud;

	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (b->cmd == CMD_NONE)
			pthread_cond_wait(&b->cv, &b->mu);
		enum bud_cmd cmd = b->cmd;

		if (cmd == CMD_QUIT)
			break;
		pthread_mutex_unlock(&b->mu);
		int err = 0;

		for (int i = 0; i < BUDGETED; i++) {
			if (cmd == CMD_DETACH)
				probe_off(g, i);
			else if (!err && probe_on(g, i) < 0)
				err = errno ? errno : EIO;
		}
		if (err)
			for (int i = 0; i < BUDGETED; i++)
				probe_off(g, i);
		pthread_mutex_lock(&b->mu);
		b->attach_err = err;
		b->cmd = CMD_NONE;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

static void budget_post(struct budget *b, enum bud_cmd cmd)
{
	pthread_mutex_lock(&b->mu);
	b->cmd = cmd;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

/* Has the worker done its command? wait: until it has. */
static int budget_done(struct budget *b, int wait)
{
	pthread_mutex_lock(&b->mu);
	while (wait && b->cmd != CMD_NONE)
		pthread_cond_wait(&b->cv, &b->mu);
	int done = b->cmd == CMD_NONE;

	pthread_mutex_unlock(&b->mu);
	return done;
}

static uint64_t budget_used(struct gorec *g)
{
	return __atomic_load_n(&g->skel->bss->go_used, __ATOMIC_RELAXED);
}

/* A pause is over (end: its end, when the probes started going back). */
static int end_pause(struct gorec *g, uint64_t end)
{
	struct budget *b = g->bud;
	struct gs_record r = { .type = GS_REC_GO_PAUSE };
	uint64_t used = budget_used(g), allow = g->skel->bss->go_allow;

	r.u.go_pause = (struct gs_rec_go_pause){ b->pause_from,
		end > b->pause_from ? end : b->pause_from, used > allow ? used - allow : 0 };
	g->pauses++;
	g->paused_ns += r.u.go_pause.end_ns - r.u.go_pause.t_ns;
	g->refused += r.u.go_pause.refused;
	return gs_writer_add(g->w, &r);
}

/* The budget ran out at t (the first refused hit): take the probes off. */
static void budget_exhausted(struct gorec *g, uint64_t t)
{
	struct budget *b = g->bud;

	/* t before this period: the last one's, raced with its end */
	if (!b || b->st != B_ON || t < b->win_start)
		return;
	b->st = B_PAUSING;
	b->pause_from = t;
	budget_post(b, CMD_DETACH);
}

/* Move the budget on: called on every gsrec tick. */
static int budget_tick(struct gorec *g, uint64_t now)
{
	struct budget *b = g->bud;
	uint64_t used;

	switch (b->st) {
	case B_ON:
		if (now < b->win_start + BUDGET_PERIOD_NS)
			return 0;
		/* a pause the period asked for that gsrec has not seen yet */
		if (ebpf_drain(g->rb, g->err) < 0)
			return -1;
		if (b->st == B_ON) {
			__atomic_store_n(&g->skel->bss->go_used, 0, __ATOMIC_RELAXED);
			b->win_start = now;
		}
		return 0;
	case B_PAUSING:
		if (!budget_done(b, 0))
			return 0;
		/* the probes are off: every hit of the period is counted */
		used = budget_used(g);
		b->resume_at = b->win_start + (uint64_t)((double)used * 1e9 / g->o.go_rate);
		if (b->resume_at < b->win_start + BUDGET_PERIOD_NS)
			b->resume_at = b->win_start + BUDGET_PERIOD_NS;
		b->st = B_OFF;
		return 0;
	case B_OFF:
		if (now < b->resume_at)
			return 0;
		/* the pause ends as the probes start going back: nothing after is missed */
		if (end_pause(g, now) < 0)
			return -1;
		__atomic_store_n(&g->skel->bss->go_used, 0, __ATOMIC_RELAXED);
		b->pause_end = now;
		b->st = B_RESUMING;
		budget_post(b, CMD_ATTACH);
		return 0;
	case B_RESUMING:
		if (!budget_done(b, 0))
			return 0;
		if (b->attach_err) {
			/* a pause from here to the end of the recording (gorec_stop) */
			g->probes_off = b->attach_err;
			b->pause_from = b->pause_end;
			b->st = B_OFF;
			b->resume_at = UINT64_MAX;
			return 0;
		}
		b->win_start = now;
		b->st = B_ON;
		return 0;
	case B_DONE:
		return 0;
	}
	return 0;
}

static int budget_start(struct gorec *g)
{
	struct budget *b = calloc(1, sizeof(*b));

	if (!b)
		return -1;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	g->bud = b;
	if ((errno = pthread_create(&b->th, NULL, budget_worker, g))) {
		pthread_mutex_destroy(&b->mu);
		pthread_cond_destroy(&b->cv);
		free(b);
		g->bud = NULL;
		return -1;
	}
	b->win_start = gs_now_ns(CLOCK_MONOTONIC);
	return 0;
}

static void budget_free(struct gorec *g)
{
	struct budget *b = g->bud;

	if (!b)
		return;
	budget_done(b, 1);
	budget_post(b, CMD_QUIT);
	pthread_join(b->th, NULL);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
	g->bud = NULL;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct gorec *g = ctx;
	const struct gs_go_event *e = data;
	struct gs_record r;
	int64_t id = 0;

	if (len < GS_GO_EVENT_SHORT || g->err)
		return 0;
	if (e->kind == GS_EV_GO_PAUSE) {
		budget_exhausted(g, e->t_ns);
		return 0;
	}
	memset(&r, 0, sizeof(r));
	if (e->kind == GS_EV_GO_CREATE || e->kind == GS_EV_GO_STACK) {
		uint32_t n = ebpf_frames(len, GS_GO_EVENT_SHORT, e->nframes), skip = 0;

		/* A creation's stack starts at the go statement, whose return
		 * address the runtime keeps as g.gopc: frames inside
		 * runtime.newproc come before it in some releases (Go 1.26). */
		int found = 0;

		if (e->kind == GS_EV_GO_CREATE)
			for (uint32_t i = 0; i < n; i++)
				if (e->frames[i] == e->gopc) {
					skip = i;
					found = 1;
					break;
				}
		/* the check: the go statement is on the creating stack (once
		 * the text's place is known: a PIE's, from its mapping) */
		if (e->kind == GS_EV_GO_CREATE && n > 0 && g->bias_known)
			gocheck_probe(&g->chk, GOREC_NEWPROC1, found && in_text(g, e->startpc),
				      "gopc %#llx %s the creating stack, startpc %#llx",
				      (unsigned long long)e->gopc, found ? "on" : "not on",
				      (unsigned long long)e->startpc);
		id = stacks_id(g->stacks, (const uint64_t *)e->frames + skip, n - skip);
		if (id < 0) {
			g->err = errno ? errno : EIO;
			return -1;
		}
	}
	switch (e->kind) {
	case GS_EV_GO_CREATE:
		r.type = GS_REC_GO_CREATE;
		r.u.go_create = (struct gs_rec_go_create){ e->t_ns, e->tid, (uint32_t)id, e->g,
							   e->goid, e->gopc, e->startpc };
		g->creates++;
		g->chk.hits[GOREC_NEWPROC1]++;
		break;
	case GS_EV_GO_EXIT:
		if (g->bias_known)
			gocheck_probe(&g->chk, GOREC_EXIT, e->goid > 0 && in_text(g, e->gopc) &&
				      in_text(g, e->startpc), "goid %lld, gopc %#llx, startpc %#llx",
				      (long long)e->goid, (unsigned long long)e->gopc,
				      (unsigned long long)e->startpc);
		r.type = GS_REC_GO_EXIT;
		r.u.go_exit = (struct gs_rec_go_exit){ e->t_ns, e->tid, e->g, e->goid, e->gopc,
						       e->startpc };
		g->exits++;
		g->chk.hits[GOREC_EXIT]++;
		break;
	case GS_EV_GO_STACK:
		/* a stack doubles (or more, for a large frame) or halves */
		gocheck_probe(&g->chk, GOREC_COPYSTACK, e->old_size >= 2048 && e->new_size >= 2048 &&
			      pow2(e->old_size) && pow2(e->new_size) && e->old_size != e->new_size,
			      "a copy from %llu to %llu bytes", (unsigned long long)e->old_size,
			      (unsigned long long)e->new_size);
		r.type = GS_REC_GO_STACK;
		r.u.go_stack = (struct gs_rec_go_stack){ e->t_ns, e->tid, (uint32_t)id, e->g, e->goid,
			e->old_size, e->new_size, stacks_code_or_zero(g->stacks, e->sp_word) };
		g->copies++;
		g->chk.hits[GOREC_COPYSTACK]++;
		break;
	case GS_EV_GC_START:
	case GS_EV_GC_MARK_TERM:
		r.type = GS_REC_GC_EVENT;
		r.u.gc_event = (struct gs_rec_gc_event){ e->t_ns, e->tid,
			e->kind == GS_EV_GC_START ? GS_GC_START : GS_GC_MARK_TERM };
		g->gc_events++;
		g->chk.hits[e->kind == GS_EV_GC_START ? GOREC_GCSTART : GOREC_MARKTERM]++;
		break;
	default:
		return 0;
	}
	if (gs_writer_add(g->w, &r) < 0) {
		g->err = errno;
		return -1;
	}
	return 0;
}

/* Open and load the programs; multi: for uprobe_multi links. */
static int load(struct gorec *g, int multi)
{
	g->skel = goroutines_bpf__open();
	if (!g->skel)
		return -1;
	struct goroutines_bpf__rodata *ro = g->skel->rodata;

	ro->target_tgid = (__u32)g->pid;
	ro->wait_exec = (__u32)!!g->o.wait_exec;
	ro->wakeup_bytes = (__u64)g->o.ringbuf_kb * 1024 / 4;
	ro->off_goid = lay(g, GS_G_GOID);
	ro->off_g_m = lay(g, GS_G_M);
	ro->off_m_curg = lay(g, GS_M_CURG);
	ro->off_stack_lo = lay(g, GS_G_STACK_LO);
	ro->off_stack_hi = lay(g, GS_G_STACK_HI);
	ro->off_sched_sp = lay(g, GS_G_SCHED_SP);
	ro->off_sched_pc = lay(g, GS_G_SCHED_PC);
	ro->off_sched_bp = lay(g, GS_G_SCHED_BP);
	ro->off_gopc = lay(g, GS_G_GOPC);
	ro->off_startpc = lay(g, GS_G_STARTPC);
	ro->issys_at = g->fn[GOREC_ISSYS].at;
	ro->newproc1_lo = g->fn[GOREC_NEWPROC1].entry;
	ro->newproc1_hi = g->fn[GOREC_NEWPROC1].end;
	ro->exit_lo = g->fn[GOREC_EXIT].entry;
	ro->exit_hi = g->fn[GOREC_EXIT].end;
	bpf_map__set_max_entries(g->skel->maps.events, g->o.ringbuf_kb * 1024);
	g->multi = multi;
	for (int i = 0; i < 4; i++) {
		g->mlink[i] = -1;
		if (multi)
			bpf_program__set_expected_attach_type(prog_of(g, i),
							      (enum bpf_attach_type)GS_BPF_TRACE_UPROBE_MULTI);
	}
	if (goroutines_bpf__load(g->skel))
		return -1;
	if (g->o.heap_rate && g->o.wait_exec && g->hp) {
		g->skel->bss->stop_at_go = 2;
		g->stop_armed = 1;
	}
	/* the period's share of the budget, at least one event */
	if (g->o.go_rate)
		g->skel->bss->go_allow = (uint64_t)g->o.go_rate * BUDGET_PERIOD_NS / 1000000000u
					 ?: 1;
	return 0;
}

/* Put the four uprobes on; the index of the one that failed, or -1. */
static int probes_on(struct gorec *g)
{
	for (int i = 0; i < 4; i++)
		if (probe_on(g, i) < 0) {
			int e = errno;

			for (int j = 0; j < i; j++)
				probe_off(g, j);
			errno = e;
			return i;
		}
	return -1;
}

int gorec_attach(struct gorec *g, char *err, size_t errlen)
{
	if (!g->have_bin || !g->probes_ok) {
		snprintf(err, errlen, "%s", g->probes_why[0] ? g->probes_why : "not a Go program");
		return -1;
	}
	/* The period starts before the probes go on: a target making goroutines
	 * fast can take a small share before they are all on, and a pause
	 * asked for before the period began would be taken for a late one. */
	if (g->o.go_rate && budget_start(g) < 0) {
		snprintf(err, errlen, "cannot start the event budget's thread: %s", strerror(errno));
		goto fail;
	}
	/* uprobe_multi links first; a kernel without them refuses the programs
	 * or the links, and gets perf-event uprobes */
	for (int multi = !withheld("uprobe_multi");; multi = 0) {
		int loaded = load(g, multi) == 0, bad = loaded ? probes_on(g) : 0;

		if (loaded && bad < 0)
			break;
		if (!multi) {
			if (!loaded)
				snprintf(err, errlen, "cannot load the goroutine program: %s",
					 strerror(errno));
			else
				snprintf(err, errlen, "cannot attach a uprobe to %s in %s: %s",
					 fn_names[probe_fn[bad]][0], g->exe, strerror(errno));
			goto fail;
		}
		goroutines_bpf__destroy(g->skel);
		g->skel = NULL;
	}
	g->rec_start = gs_now_ns(CLOCK_MONOTONIC);
	g->links[4] = bpf_program__attach(g->skel->progs.on_exec);
	if (!g->links[4]) {
		snprintf(err, errlen, "cannot attach to sched_process_exec: %s", strerror(errno));
		goto fail;
	}
	g->rb = ring_buffer__new(bpf_map__fd(g->skel->maps.events), on_event, g, NULL);
	if (!g->rb) {
		snprintf(err, errlen, "cannot set up the goroutine ring buffer: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	budget_free(g);
	ring_buffer__free(g->rb);
	g->rb = NULL;
	for (int i = 0; g->skel && i < 4; i++)
		probe_off(g, i);
	bpf_link__destroy(g->links[4]);
	g->links[4] = NULL;
	goroutines_bpf__destroy(g->skel);
	g->skel = NULL;
	return -1;
}

int gorec_fd(struct gorec *g)
{
	return g->rb ? ring_buffer__epoll_fd(g->rb) : -1;
}

int gorec_poll(struct gorec *g)
{
	return ebpf_drain(g->rb, g->err);
}

int gorec_lost(struct gorec *g, uint64_t now)
{
	return g->skel ? ebpf_report_lost(bpf_map__fd(g->skel->maps.stats), GS_GO_DROPPED,
					  GS_STREAM_GO, &g->lost_reported, g->w, now) : 0;
}

/* ---- memstats ---- */

struct msblock {
	uint64_t last_gc_unix, pause_total;
	uint64_t pause_ns[256], pause_end[256];
	uint32_t numgc;
};

/* gcController's heap figures, GS_UNKNOWN where unknown. */
static void read_heap(struct gorec *g, uint64_t *live, uint64_t *marked, uint64_t *inuse,
		      uint64_t *released)
{
	static const int f[4] = { GS_GC_HEAP_LIVE, GS_GC_HEAP_MARKED, GS_GC_HEAP_INUSE,
				  GS_GC_HEAP_RELEASED };
	uint64_t *out[4] = { live, marked, inuse, released };

	for (int tries = 0; tries < 2; tries++) {
		for (int i = 0; i < 4; i++) {
			*out[i] = GS_UNKNOWN;
			if (g->heap_ok && lay(g, f[i]) >= 0 &&
			    peek(g, rt(g, lay(g, GS_ADDR_GCCONTROLLER) + lay(g, f[i])), out[i], 8) < 0)
				*out[i] = GS_UNKNOWN;
		}
		/* The checks. The four are read one after another while the
		 * runtime moves them: a disagreement is read again once. */
		int ok = 1, have = *live != GS_UNKNOWN && *marked != GS_UNKNOWN;

		/* (heapInUse is gcController's from Go 1.19 only) */
		if (have)
			ok = *marked <= *live && (*inuse == GS_UNKNOWN || *marked <= *inuse);
		if (!ok && tries == 0)
			continue;
		if (have) {
			static const int fs[] = { GS_ADDR_GCCONTROLLER, GS_GC_HEAP_LIVE,
						  GS_GC_HEAP_MARKED, GS_GC_HEAP_INUSE };

			for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
				if (lay(g, fs[i]) >= 0)
					gocheck_field(&g->chk, fs[i], ok, "heapLive %llu, heapMarked "
						      "%llu, heapInUse %lld", (unsigned long long)*live,
						      (unsigned long long)*marked,
						      *inuse == GS_UNKNOWN ? -1ll : (long long)*inuse);
		}
		if (*released != GS_UNKNOWN)
			gocheck_field(&g->chk, GS_GC_HEAP_RELEASED,
				      *released % 4096 == 0 && *released < (1ull << 48),
				      "heapReleased %llu", (unsigned long long)*released);
		break;
	}
}

/*
 * The checks of a memstats read (gocheck.h): PauseTotalNs rose by the new
 * cycles' PauseNs, their PauseEnds are in order and in the recording; and
 * NumGC against the GC probes. A mark-termination probe hit comes before
 * the runtime counts its cycle, in the same stop-the-world pause, so once
 * the ring buffer is drained after NumGC was read, the hits counted are
 * NumGC's cycles, plus one when a cycle is ending: the difference between
 * hits and NumGC moves by at most one between the first and last reads.
 */
static void check_cycles(struct gorec *g, const struct msblock *b, uint32_t numgc)
{
	struct gocheck *c = &g->chk;

	if (g->numgc_read && numgc - g->numgc < 256) {
		uint64_t sum = 0, now_real = gs_now_ns(CLOCK_REALTIME);
		uint32_t bad = 0;

		for (uint32_t n = g->numgc + 1; n <= numgc; n++) {
			uint64_t end = b->pause_end[(n - 1) % 256], prev = b->pause_end[(n - 2) % 256];

			sum += b->pause_ns[(n - 1) % 256];
			if (!bad && (end < prev || end < g->start_real_ns || end > now_real + 1000000000))
				bad = n;
		}
		int torn = 0;
		uint32_t again;

		/* a cycle that ended while the block was read: inconclusive */
		if ((bad || b->pause_total - c->pause_total_prev != sum) &&
		    peek(g, rt(g, lay(g, GS_ADDR_MS_GC)) + GS_MS_GC_NUMGC, &again, 4) == 0 &&
		    again != numgc)
			torn = 1;
		if (!torn) {
			gocheck_field(c, GS_ADDR_MS_GC, b->pause_total - c->pause_total_prev == sum,
				      "PauseTotalNs rose by %llu where cycles %u to %u paused %llu ns",
				      (unsigned long long)(b->pause_total - c->pause_total_prev),
				      g->numgc + 1, numgc, (unsigned long long)sum);
			gocheck_field(c, GS_ADDR_MS_GC, !bad, "cycle %u's PauseEnd %llu is out of "
				      "order or outside the recording", bad,
				      bad ? (unsigned long long)b->pause_end[(bad - 1) % 256] : 0ull);
		}
	}
	c->pause_total_prev = b->pause_total;
	if (g->rb && !g->lost_reported) {
		gorec_poll(g);
		if (!c->numgc_seen) {
			c->numgc_first = numgc;
			c->markterm_first = c->hits[GOREC_MARKTERM];
			c->gcstart_first = c->hits[GOREC_GCSTART];
			c->numgc_seen = 1;
		}
		c->numgc_last = numgc;
		c->markterm_last = c->hits[GOREC_MARKTERM];
		c->gcstart_last = c->hits[GOREC_GCSTART];
	}
}

static int read_cycles(struct gorec *g, uint64_t now)
{
	uint64_t base = rt(g, lay(g, GS_ADDR_MS_GC));
	uint32_t numgc;
	struct msblock b;

	if (peek(g, base + GS_MS_GC_NUMGC, &numgc, 4) < 0)
		return 0;	/* gone, or not yet mapped: the next tick will tell */
	if (g->numgc_read && numgc == g->numgc)
		return 0;
	/* A consistent copy: numgc the same before and after the block. */
	for (int tries = 0;; tries++) {
		uint32_t again;

		if (peek(g, base, &b, offsetof(struct msblock, numgc)) < 0 ||
		    peek(g, base + GS_MS_GC_NUMGC, &again, 4) < 0)
			return 0;
		if (again == numgc)
			break;
		numgc = again;
		if (tries == 3)
			return 0;	/* GC after GC: next tick */
	}
	uint64_t live, marked, inuse, released;

	check_cycles(g, &b, numgc);
	read_heap(g, &live, &marked, &inuse, &released);
	/*
	 * The cycles since the last read. At the first read: those that ended
	 * since gsrec started (a launched target's first cycles end before
	 * the first tick), and at least the latest, which says where the
	 * runtime's clock stood when recording began.
	 */
	uint32_t from = g->numgc_read ? g->numgc + 1 : numgc;

	if (numgc - from >= 256)
		from = numgc - 255;
	if (!g->numgc_read)
		while (from > 1 && numgc - (from - 1) < 256 &&
		       b.pause_end[(from - 2) % 256] >= g->start_real_ns)
			from--;
	for (uint32_t n = from; n <= numgc && n > 0; n++) {
		struct gs_record r = { .type = GS_REC_GC_CYCLE };
		uint64_t total = b.pause_total;
		int last = n == numgc;

		for (uint32_t k = n + 1; k <= numgc; k++)	/* PauseTotalNs as of cycle n */
			total -= b.pause_ns[(k - 1) % 256];
		r.u.gc_cycle = (struct gs_rec_gc_cycle){ now, n, GS_GC_EXACT,
			b.pause_end[(n - 1) % 256], b.pause_ns[(n - 1) % 256], total,
			last ? live : GS_UNKNOWN, last ? marked : GS_UNKNOWN,
			last ? inuse : GS_UNKNOWN, last ? released : GS_UNKNOWN };
		if (gs_writer_add(g->w, &r) < 0)
			return -1;
		g->cycles++;
	}
	g->numgc = numgc;
	g->numgc_read = 1;
	return 0;
}

static int sample_heap(struct gorec *g, uint64_t now)
{
	struct gs_record r = { .type = GS_REC_GO_HEAP };
	uint64_t live, marked, inuse, released;
	uint32_t numgc = g->numgc;

	if (g->gc_ok)
		peek(g, rt(g, lay(g, GS_ADDR_MS_GC)) + GS_MS_GC_NUMGC, &numgc, 4);
	read_heap(g, &live, &marked, &inuse, &released);
	if (live == GS_UNKNOWN && inuse == GS_UNKNOWN)
		return 0;
	r.u.go_heap = (struct gs_rec_go_heap){ now, numgc, live, inuse, released };
	return gs_writer_add(g->w, &r);
}

/* ---- census ---- */

struct site {
	uint64_t gopc, startpc, bytes;
	uint32_t count;
};

struct census_scratch {
	uint64_t *ptrs;
	int64_t *goids;			/* the live goroutines' goids, for the check */
	size_t nptrs;
	uint8_t *gbuf;
	struct iovec *liov, *riov;
	struct site *sites;		/* open addressing, power-of-two size */
	size_t nsites, sitecap;
	struct gs_census_site *out;
	uint8_t chunk[8192];		/* stack memory being unwound */
	uint64_t chunk_at;
	int chunk_ok;
};

#define CENSUS_BATCH 512

static uint64_t u64at(const uint8_t *p, int64_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

static struct site *site_slot(struct census_scratch *c, uint64_t gopc, uint64_t startpc)
{
	if (c->nsites * 2 >= c->sitecap) {
		size_t cap = c->sitecap ? c->sitecap * 2 : 256;
		struct site *t = calloc(cap, sizeof(*t));

		if (!t)
			return NULL;
		for (size_t i = 0; i < c->sitecap; i++) {
			struct site *s = &c->sites[i];

			if (!s->count)
				continue;
			size_t j = (size_t)((s->gopc * 0x9e3779b97f4a7c15ull) ^ s->startpc) & (cap - 1);

			while (t[j].count)
				j = (j + 1) & (cap - 1);
			t[j] = *s;
		}
		free(c->sites);
		c->sites = t;
		c->sitecap = cap;
	}
	size_t j = (size_t)((gopc * 0x9e3779b97f4a7c15ull) ^ startpc) & (c->sitecap - 1);

	while (c->sites[j].count && (c->sites[j].gopc != gopc || c->sites[j].startpc != startpc))
		j = (j + 1) & (c->sitecap - 1);
	if (!c->sites[j].count) {
		c->sites[j] = (struct site){ gopc, startpc, 0, 0 };
		c->nsites++;
	}
	return &c->sites[j];
}

static int stack_word(struct gorec *g, uint64_t addr, uint64_t *v)
{
	struct census_scratch *c = g->cs;
	uint64_t at = addr & ~(uint64_t)(sizeof(c->chunk) - 1);

	if (!c->chunk_ok || c->chunk_at != at) {
		c->chunk_ok = peek(g, at, c->chunk, sizeof(c->chunk)) == 0;
		c->chunk_at = at;
		if (!c->chunk_ok)
			return -1;
	}
	memcpy(v, c->chunk + (addr - at), 8);
	return 0;
}

/* Unwind a stopped goroutine from pc/sp with pclntab's frame sizes. */
static uint32_t unwind(struct gorec *g, uint64_t pc, uint64_t sp, uint64_t hi, uint64_t *out)
{
	uint32_t n = 0;

	while (n < GS_MAX_FRAMES && pc && sp < hi) {
		struct gs_func f;
		uint64_t link = pc - g->bias;
		int32_t d;

		out[n++] = pc;
		if (gs_pcln_find(&g->gb.pcln, link, &f) < 0 || !strcmp(f.name, "runtime.goexit") ||
		    !strcmp(f.name, "runtime.mstart"))
			break;
		d = gs_pcln_value(&g->gb.pcln, &f, f.pcsp, link);
		if (d < 0 || sp + (uint64_t)d + 8 > hi || stack_word(g, sp + (uint64_t)d, &pc) < 0)
			break;
		sp += (uint64_t)d + 8;
	}
	return n;
}

static int site_cmp(const void *a, const void *b)
{
	const struct gs_census_site *x = a, *y = b;

	return x->count != y->count ? (x->count < y->count ? 1 : -1)
				    : (x->gopc > y->gopc) - (x->gopc < y->gopc);
}

/* Where a stopped goroutine stopped: its sp inside its stack, its pc in the text. */
static void check_sp_pc(struct gorec *g, const uint8_t *p, long long goid, uint64_t lo,
			uint64_t hi, int fsp, int fpc)
{
	uint64_t sp = u64at(p, lay(g, fsp)), pc = u64at(p, lay(g, fpc));

	GOCHECK_FIELD(&g->chk, fsp, sp >= lo && sp < hi, "goroutine %lld: %s %#llx outside "
		      "[%#llx, %#llx)", goid, gs_lay_name(fsp), (unsigned long long)sp,
		      (unsigned long long)lo, (unsigned long long)hi);
	GOCHECK_FIELD(&g->chk, fpc, in_text(g, pc), "goroutine %lld: %s %#llx", goid,
		      gs_lay_name(fpc), (unsigned long long)pc);
}

/*
 * The checks of one live goroutine of a census (gocheck.h), at gp and read
 * into p with status st.
 */
static void check_g(struct gorec *g, uint64_t gp, const uint8_t *p, uint32_t st)
{
	struct gocheck *c = &g->chk;
	uint64_t lo = u64at(p, lay(g, GS_G_STACK_LO)), hi = u64at(p, lay(g, GS_G_STACK_HI));
	uint64_t gopc = u64at(p, lay(g, GS_G_GOPC)), startpc = u64at(p, lay(g, GS_G_STARTPC));
	long long goid = (long long)u64at(p, lay(g, GS_G_GOID));
	int ok;

	if (st == G_IDLE || st == G_COPYSTACK)
		return;		/* being made, or its stack moving */
	ok = lo && hi > lo && pow2(hi - lo) && hi - lo >= 2048;
	GOCHECK_FIELD(c, GS_G_STACK_LO, ok, "goroutine %lld: stack [%#llx, %#llx)", goid,
		      (unsigned long long)lo, (unsigned long long)hi);
	GOCHECK_FIELD(c, GS_G_STACK_HI, ok, "goroutine %lld: stack [%#llx, %#llx)", goid,
		      (unsigned long long)lo, (unsigned long long)hi);
	GOCHECK_FIELD(c, GS_G_GOID, goid > 0, "goid %lld", goid);
	GOCHECK_FIELD(c, GS_G_GOPC, in_text(g, gopc), "goroutine %lld: gopc %#llx", goid,
		      (unsigned long long)gopc);
	GOCHECK_FIELD(c, GS_G_STARTPC, in_text(g, startpc), "goroutine %lld: startpc %#llx", goid,
		      (unsigned long long)startpc);
	if (st == G_WAITING) {
		check_sp_pc(g, p, goid, lo, hi, GS_G_SCHED_SP, GS_G_SCHED_PC);
		if (lay(g, GS_G_SCHED_BP) >= 0) {
			uint64_t bp = u64at(p, lay(g, GS_G_SCHED_BP));

			GOCHECK_FIELD(c, GS_G_SCHED_BP, !bp || (bp >= lo && bp < hi),
				      "goroutine %lld: bp %#llx", goid, (unsigned long long)bp);
		}
		if (lay(g, GS_G_STACKGUARD0) >= 0) {
			uint64_t sg = u64at(p, lay(g, GS_G_STACKGUARD0));

			GOCHECK_FIELD(c, GS_G_STACKGUARD0, sg == STACK_PREEMPT ||
				      (sg > lo && sg <= lo + 4096), "goroutine %lld: stackguard0 "
				      "%#llx, stack.lo %#llx", goid, (unsigned long long)sg,
				      (unsigned long long)lo);
		}
	}
	if (st == G_SYSCALL)
		check_sp_pc(g, p, goid, lo, hi, GS_G_SYSCALLSP, GS_G_SYSCALLPC);
	if (st == G_RUNNING && lay(g, GS_G_M) >= 0 && lay(g, GS_M_CURG) >= 0) {
		uint64_t m = u64at(p, lay(g, GS_G_M)), curg = 0, m2 = 0;
		uint32_t st2 = 0;

		if (m && peek(g, m + (uint64_t)lay(g, GS_M_CURG), &curg, 8) == 0 && curg == gp)
			ok = 1;
		else if (peek(g, gp + (uint64_t)lay(g, GS_G_ATOMICSTATUS), &st2, 4) == 0 &&
			 (st2 & ~(uint32_t)G_SCAN) == G_RUNNING &&
			 peek(g, gp + (uint64_t)lay(g, GS_G_M), &m2, 8) == 0 && m2 == m)
			ok = 0;		/* still running on that m: it disagrees */
		else
			return;		/* it stopped running meanwhile */
		GOCHECK_FIELD(c, GS_G_M, ok, "goroutine %lld runs on m %#llx, whose curg is %#llx",
			      goid, (unsigned long long)m, (unsigned long long)curg);
		GOCHECK_FIELD(c, GS_M_CURG, ok, "goroutine %lld runs on m %#llx, whose curg is "
			      "%#llx", goid, (unsigned long long)m, (unsigned long long)curg);
	}
}

/*
 * The heap profile's variables, checked at each census: MemProfileRate a
 * plausible rate, and mbuckets a list of memory-profile buckets (runtime
 * bucket: next, allnext, typ, hash, size, nstk, in every release since
 * 1.17; typ 1 is memProfile).
 */
static void check_heapprof(struct gorec *g)
{
	uint64_t v, b, hdr[6];

	if (lay(g, GS_ADDR_MEMPROFILERATE) >= 0 &&
	    peek(g, rt(g, lay(g, GS_ADDR_MEMPROFILERATE)), &v, 8) == 0)
		GOCHECK_FIELD(&g->chk, GS_ADDR_MEMPROFILERATE, v <= (1ull << 31), "%lld",
			      (long long)v);
	if (lay(g, GS_ADDR_MBUCKETS) < 0 || peek(g, rt(g, lay(g, GS_ADDR_MBUCKETS)), &b, 8) < 0)
		return;
	for (int i = 0; i < 16 && b; i++, b = hdr[1]) {
		int ok = peek(g, b, hdr, sizeof(hdr)) == 0 && hdr[2] == 1 && hdr[5] >= 1 &&
			 hdr[5] <= 1024;

		GOCHECK_FIELD(&g->chk, GS_ADDR_MBUCKETS, ok, "bucket %d at %#llx: type %lld, %lld "
			      "frames", i, (unsigned long long)b, ok ? 1ll : (long long)hdr[2],
			      ok ? (long long)hdr[5] : -1ll);
		if (!ok)
			break;
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int census(struct gorec *g, uint64_t now)
{
	struct census_scratch *c = g->cs;
	uint64_t c0 = gs_now_ns(CLOCK_THREAD_CPUTIME_ID), w0 = gs_now_ns(CLOCK_MONOTONIC);
	uint64_t hdr[3], allglen;
	struct gs_rec_census rc = { .t_ns = now };
	enum { NTOPMAX = 64 };
	struct gs_census_g top[NTOPMAX];
	struct { uint64_t pc, sp, hi; } stop[NTOPMAX];	/* where each stopped, its stack.hi */
	uint32_t ntop = 0, want = g->o.census_top < NTOPMAX ? g->o.census_top : NTOPMAX;
	static const int fields[] = { GS_G_STACK_LO, GS_G_STACK_HI, GS_G_SCHED_SP, GS_G_SCHED_PC,
				      GS_G_SYSCALLSP, GS_G_SYSCALLPC, GS_G_ATOMICSTATUS, GS_G_GOID,
				      GS_G_GOPC, GS_G_STARTPC, GS_G_M, GS_G_STACKGUARD0,
				      GS_G_SCHED_BP };
	/* goids are checked for repeats in the first censuses */
	int dups = g->chk.censuses < 3;
	size_t ngoid = 0;
	int64_t span = 0;

	if (!c) {
		c = g->cs = calloc(1, sizeof(*c));
		if (!c)
			return 0;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (lay(g, fields[i]) + 8 > span)
			span = lay(g, fields[i]) + 8;
	/* allglen trails allgs' own length while a g is added; stripped
	 * binaries may not name it, and then the slice's length does */
	if (peek(g, rt(g, lay(g, GS_ADDR_ALLGS)), hdr, sizeof(hdr)) < 0)
		return 0;
	allglen = hdr[1];
	if (lay(g, GS_ADDR_ALLGLEN) >= 0) {
		if (peek(g, rt(g, lay(g, GS_ADDR_ALLGLEN)), &allglen, 8) < 0)
			return 0;
		/* read again once, in case a goroutine was being added */
		if (allglen != hdr[1] &&
		    (peek(g, rt(g, lay(g, GS_ADDR_ALLGS)), hdr, sizeof(hdr)) < 0 ||
		     peek(g, rt(g, lay(g, GS_ADDR_ALLGLEN)), &allglen, 8) < 0))
			return 0;
		gocheck_field(&g->chk, GS_ADDR_ALLGLEN, allglen == hdr[1], "allglen %llu where "
			      "allgs holds %llu", (unsigned long long)allglen,
			      (unsigned long long)hdr[1]);
	}
	size_t n = allglen < hdr[1] ? (size_t)allglen : (size_t)hdr[1];

	if (n > (1u << 24))
		return 0;	/* not a plausible allgs: read mid-update */
	if (n > c->nptrs) {
		free(c->goids);
		free(c->ptrs);
		free(c->gbuf);
		free(c->liov);
		free(c->riov);
		c->ptrs = malloc(n * 8);
		c->gbuf = malloc(CENSUS_BATCH * (size_t)span);
		c->liov = malloc(CENSUS_BATCH * sizeof(struct iovec));
		c->riov = malloc(CENSUS_BATCH * sizeof(struct iovec));
		c->goids = malloc(n * sizeof(*c->goids));
		c->nptrs = c->ptrs && c->gbuf && c->liov && c->riov && c->goids ? n : 0;
		if (!c->nptrs)
			return 0;
	}
	if (n && peek(g, hdr[0], c->ptrs, n * 8) < 0)
		return 0;
	if (c->sites)
		memset(c->sites, 0, c->sitecap * sizeof(*c->sites));
	c->nsites = 0;
	rc.allglen = (uint32_t)n;
	for (size_t at = 0; at < n; at += CENSUS_BATCH) {
		size_t k = n - at < CENSUS_BATCH ? n - at : CENSUS_BATCH;

		for (size_t i = 0; i < k; i++) {
			c->liov[i] = (struct iovec){ c->gbuf + i * (size_t)span, (size_t)span };
			c->riov[i] = (struct iovec){ (void *)c->ptrs[at + i], (size_t)span };
		}
		ssize_t got = process_vm_readv(g->pid, c->liov, k, c->riov, k, 0);

		if (got < 0)
			return 0;
		size_t whole = (size_t)got / (size_t)span;	/* a bad pointer ends the read */

		gocheck_field(&g->chk, GS_ADDR_ALLGS, whole >= k, "goroutine %zu of %zu at %#llx "
			      "unreadable", at + whole, n,
			      whole < k ? (unsigned long long)c->ptrs[at + whole] : 0ull);
		for (size_t i = 0; i < whole && i < k; i++) {
			const uint8_t *p = c->gbuf + i * (size_t)span;
			uint32_t st;

			memcpy(&st, p + lay(g, GS_G_ATOMICSTATUS), 4);
			st &= ~(uint32_t)G_SCAN;
			GOCHECK_FIELD(&g->chk, GS_G_ATOMICSTATUS, st < GS_G_NSTATUS, "status %u", st);
			if (st >= GS_G_NSTATUS)
				continue;
			rc.status[st]++;
			if (st == G_DEAD)
				continue;
			check_g(g, c->ptrs[at + i], p, st);
			if (dups && st != G_IDLE)
				c->goids[ngoid++] = (int64_t)u64at(p, lay(g, GS_G_GOID));
			uint64_t size = u64at(p, lay(g, GS_G_STACK_HI)) - u64at(p, lay(g, GS_G_STACK_LO));
			struct site *s = site_slot(c, u64at(p, lay(g, GS_G_GOPC)),
						   u64at(p, lay(g, GS_G_STARTPC)));

			rc.stack_bytes += size;
			if (s) {
				s->count++;
				s->bytes += size;
			}
			/* keep the largest `want`, largest first */
			if (want && (ntop < want || size > top[ntop - 1].stack_size)) {
				uint32_t j = ntop < want ? ntop++ : ntop - 1;

				while (j > 0 && top[j - 1].stack_size < size) {
					top[j] = top[j - 1];
					stop[j] = stop[j - 1];
					j--;
				}
				int sys = st == G_SYSCALL;

				top[j] = (struct gs_census_g){ c->ptrs[at + i],
					(int64_t)u64at(p, lay(g, GS_G_GOID)), st, GS_NO_STACK, size,
					u64at(p, lay(g, GS_G_GOPC)), u64at(p, lay(g, GS_G_STARTPC)), 0 };
				stop[j].pc = u64at(p, lay(g, sys ? GS_G_SYSCALLPC : GS_G_SCHED_PC));
				stop[j].sp = u64at(p, lay(g, sys ? GS_G_SYSCALLSP : GS_G_SCHED_SP));
				stop[j].hi = u64at(p, lay(g, GS_G_STACK_HI));
			}
		}
	}
	if (dups) {
		qsort(c->goids, ngoid, sizeof(*c->goids), cmp_i64);
		for (size_t i = 1; i < ngoid; i++)
			if (c->goids[i] == c->goids[i - 1])
				gocheck_field(&g->chk, GS_G_GOID, 0, "goid %lld twice in a census",
					      (long long)c->goids[i]);
	}
	g->chk.censuses++;
	check_heapprof(g);
	for (uint32_t i = 0; i < ntop; i++) {
		uint64_t pcs[GS_MAX_FRAMES];
		uint32_t k = 0;

		c->chunk_ok = 0;
		if (top[i].status != G_RUNNING && stop[i].pc)
			k = unwind(g, stop[i].pc, stop[i].sp, stop[i].hi, pcs);
		if (k) {
			int64_t id = stacks_id(g->stacks, pcs, k);

			if (id < 0)
				return -1;
			top[i].stack = (uint32_t)id;
		}
	}
	/* the sites, most goroutines first */
	free(c->out);
	c->out = c->nsites ? malloc(c->nsites * sizeof(*c->out)) : NULL;
	if (c->nsites && !c->out)
		return 0;
	size_t m = 0;

	for (size_t i = 0; i < c->sitecap; i++)
		if (c->sites[i].count)
			c->out[m++] = (struct gs_census_site){ c->sites[i].gopc, c->sites[i].startpc,
							       c->sites[i].count, c->sites[i].bytes };
	qsort(c->out, m, sizeof(*c->out), site_cmp);
	rc.nsites = (uint32_t)m;
	rc.sites = c->out;
	rc.ntop = ntop;
	rc.top = top;
	rc.wall_ns = gs_now_ns(CLOCK_MONOTONIC) - w0;
	rc.cpu_ns = gs_now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	g->last_census_cpu_ns = rc.cpu_ns;
	g->census_cpu_ns += rc.cpu_ns;
	g->censuses++;

	struct gs_record r = { .type = GS_REC_CENSUS };

	r.u.census = rc;
	return gs_writer_add(g->w, &r);
}

static int tick(struct gorec *g, uint64_t now, int final)
{
	if (g->bud && budget_tick(g, now) < 0)
		return -1;
	if (!g->have_bin || !g->bias_known)
		return 0;
	if (g->gc_ok && read_cycles(g, now) < 0)
		return -1;
	if (g->hp && heaprof_tick(g->hp, now, final) < 0)
		return -1;
	if ((g->heap_ok || g->gc_ok) && now >= g->next_heap) {
		g->next_heap = now + (uint64_t)g->o.heap_ms * 1000000u;
		if (g->heap_ok && sample_heap(g, now) < 0)
			return -1;
	}
	if (g->census_ok && now >= g->next_census) {
		if (census(g, now) < 0)
			return -1;
		/* at most census_budget of a core: a census of 100k goroutines
		 * stretches its own interval */
		uint64_t every = (uint64_t)g->o.census_ms * 1000000u;
		uint64_t floor = (uint64_t)((double)g->last_census_cpu_ns / g->o.census_budget);

		g->next_census = now + (floor > every ? floor : every);
	}
	return 0;
}

int gorec_tick(struct gorec *g, uint64_t now)
{
	return tick(g, now, 0);
}

void gorec_disarm_stop(struct gorec *g)
{
	if (g->skel && g->skel->bss)
		g->skel->bss->stop_at_go = 0;
}

int gorec_tick_final(struct gorec *g, uint64_t now)
{
	return tick(g, now, 1);
}

int gorec_say(struct gorec *g, unsigned level, const char *fmt, ...)
{
	struct gs_record r = { .type = GS_REC_MESSAGE };
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gsrec: %s%s\n", level == GS_WARNING ? "warning: " : "", text);
	r.u.message = (struct gs_rec_message){ gs_now_ns(CLOCK_MONOTONIC), level, text };
	return gs_writer_add(g->w, &r);
}

int gorec_stop(struct gorec *g, uint64_t now)
{
	struct budget *b = g->bud;

	if (!b)
		return 0;
	/* what the worker is doing, done; then where the budget stands */
	budget_done(b, 1);
	if (budget_tick(g, now) < 0)
		return -1;
	if ((b->st == B_PAUSING || b->st == B_OFF) && end_pause(g, now) < 0)
		return -1;
	b->st = B_DONE;
	return 0;
}

void gorec_close(struct gorec *g)
{
	budget_free(g);
	heaprof_free(g->hp);
	ring_buffer__free(g->rb);
	for (int i = 0; g->skel && i < 4; i++)
		probe_off(g, i);
	bpf_link__destroy(g->links[4]);
	goroutines_bpf__destroy(g->skel);
	if (g->have_bin)
		gs_gobin_free(&g->gb);
	if (g->cs) {
		free(g->cs->goids);
		free(g->cs->ptrs);
		free(g->cs->gbuf);
		free(g->cs->liov);
		free(g->cs->riov);
		free(g->cs->sites);
		free(g->cs->out);
		free(g->cs);
	}
	memset(g, 0, sizeof(*g));
}

/* ---- what the checks found (GO_CHECK) ---- */

/*
 * A verdict from counts: every check agreed, or so nearly (one in a
 * thousand) that the odd ones are reads that raced the runtime, which
 * moves these fields while gsrec reads them; else contradicted.
 */
static uint32_t verdict(uint64_t checked, uint64_t bad)
{
	return !checked ? GS_CHECK_NONE : bad * 1000 <= checked ? GS_CHECK_VERIFIED
							      : GS_CHECK_CONTRADICTED;
}

static void say_counts(char *buf, size_t n, const char *what, uint64_t checked, uint64_t bad,
		       const char *eg)
{
	if (!bad)
		snprintf(buf, n, "%s: %llu checks, all agreed", what, (unsigned long long)checked);
	else
		snprintf(buf, n, "%s: %llu of %llu checks disagreed%s (e.g. %s)", what,
			 (unsigned long long)bad, (unsigned long long)checked,
			 bad * 1000 <= checked ? ", reads that raced the runtime" : "", eg);
}

int gorec_write_check(struct gorec *g, uint32_t object)
{
	static const char *const unused = "not read by the recording";
	struct gocheck *c = &g->chk;
	struct gs_check_entry e[GS_LAY_N + GOREC_NFN];
	char how[GS_LAY_N + GOREC_NFN][512];
	uint32_t n = 0;

	if (!g->have_bin)
		return 0;
	for (int f = 0; f < GS_LAY_N; f++, n++) {
		const char *what = gocheck_what(f);

		e[n] = (struct gs_check_entry){ gs_lay_name(f), verdict(c->checked[f], c->bad[f]),
						how[n] };
		if (lay(g, f) < 0)
			snprintf(how[n], sizeof(how[n]), "%s", withheld(gs_lay_name(f))
				 ? "withheld (GSMAPPER_WITHHOLD)" : "not found");
		else if (!what)
			snprintf(how[n], sizeof(how[n]), "%s", unused);
		else if (!c->checked[f])
			snprintf(how[n], sizeof(how[n]), "%s: nothing to check it against during "
				 "the recording", what);
		else
			say_counts(how[n], sizeof(how[n]), what, c->checked[f], c->bad[f], c->eg[f]);
	}
	/* NumGC against the GC probes: one check each for the probes and the block */
	if (g->skel && g->probes_ok) {
		for (int k = 0; k < GOREC_NFN; k++) {
			static const char *const checked[GOREC_NFN] = {
				[GOREC_NEWPROC1] = "the go statement (gopc) on the creating stack, "
						   "startpc in the text",
				[GOREC_EXIT] = "goid above 0, gopc and startpc in the text",
				[GOREC_COPYSTACK] = "old and new sizes powers of two of at least 2 KiB, "
						    "and different",
			};
			uint64_t d = g->fn[k].at - g->fn[k].entry, pc = c->pchecked[k], pb = c->pbad[k];
			uint32_t v = verdict(pc, pb);
			char tail[320] = "";
			int once = k == GOREC_GCSTART || k == GOREC_MARKTERM;

			if (k == GOREC_ISSYS)
				continue;	/* not probed: the probes tell its callers apart */
			if (once) {
				int64_t dn = (int64_t)c->numgc_last - c->numgc_first;
				int64_t dh = k == GOREC_MARKTERM ? (int64_t)(c->markterm_last - c->markterm_first)
								 : (int64_t)(c->gcstart_last - c->gcstart_first);

				if (!c->numgc_seen || g->lost_reported || dn == 0) {
					v = GS_CHECK_NONE;
					snprintf(tail, sizeof(tail), "; against NumGC: not checked (%s)",
						 !c->numgc_seen ? "memstats not read"
						 : g->lost_reported ? "events were lost"
						 : "no cycle ended between the first and last reads");
				} else {
					v = dh - dn >= -1 && dh - dn <= 1 ? GS_CHECK_VERIFIED
									 : GS_CHECK_CONTRADICTED;
					snprintf(tail, sizeof(tail), "; between the first and last memstats "
						 "reads NumGC rose by %lld and the probe fired %lld times "
						 "(they may differ by one cycle ending at a read)",
						 (long long)dn, (long long)dh);
					if (k == GOREC_MARKTERM)
						gocheck_field(c, GS_ADDR_MS_GC, v == GS_CHECK_VERIFIED,
							      "NumGC rose by %lld, the mark-termination "
							      "probe fired %lld times", (long long)dn,
							      (long long)dh);
				}
			} else if (pc) {
				char t[300];

				say_counts(t, sizeof(t), checked[k], pc, pb, c->peg[k]);
				snprintf(tail, sizeof(tail), "; %s", t);
			} else if (c->hits[k]) {
				snprintf(tail, sizeof(tail), "; none of them could be checked");
			}
			snprintf(how[n], sizeof(how[n]), "at +%#llx, %s; found by name in pclntab; "
				 "%llu hits%s", (unsigned long long)d,
				 !d ? "its entry (no stack check)"
				 : once ? "past the stack check (once a call, even one that grows its stack)"
					: "the stack check's jump (the kernel emulates it)",
				 (unsigned long long)c->hits[k], tail);
			static char names[GOREC_NFN][80];

			snprintf(names[k], sizeof(names[k]), "probe.%s", g->fn[k].name);
			e[n] = (struct gs_check_entry){ names[k], v, how[n] };
			n++;
		}
		/* the memstats block's verdict now holds the NumGC check too */
		if (lay(g, GS_ADDR_MS_GC) >= 0 && c->checked[GS_ADDR_MS_GC]) {
			e[GS_ADDR_MS_GC].verdict = verdict(c->checked[GS_ADDR_MS_GC],
							   c->bad[GS_ADDR_MS_GC]);
			say_counts(how[GS_ADDR_MS_GC], sizeof(how[GS_ADDR_MS_GC]),
				   gocheck_what(GS_ADDR_MS_GC), c->checked[GS_ADDR_MS_GC],
				   c->bad[GS_ADDR_MS_GC], c->eg[GS_ADDR_MS_GC]);
		}
	}

	struct gs_record r = { .type = GS_REC_GO_CHECK };

	r.u.go_check = (struct gs_rec_go_check){ object, n, e };
	return gs_writer_add(g->w, &r);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * goroutines.bpf.c - goroutine creation and exit, goroutine stack copies,
 * and the start and mark termination of GC cycles, from uprobes at the
 * entry of Go runtime functions (never uretprobes: they crash Go programs).
 *
 * gsrec resolves the functions through pclntab, so stripped binaries work,
 * and hands over the runtime.g offsets of this binary. All probed functions
 * take their arguments in registers (Go 1.17+ ABIInternal). A probe sits
 * on the jump of the function's stack-check prologue where it has one
 * (record/gorec.c): registers and SP are as at the entry there.
 *
 * - runtime.isSystemGoroutine(gp, fixed): newproc1 calls it once per new
 *   goroutine after setting gp.gopc and gp.startpc, and goexit0 (gdestroy
 *   from Go 1.22) once per exiting goroutine. The return address tells the
 *   two apart; other callers (tracebacks, profiles) are ignored. Unlike a
 *   probe on newproc1 itself, this one sees the new g, so a creation can be
 *   paired with its exit.
 * - runtime.copystack(gp, newsize): gp's stack is about to be copied.
 * - runtime.gcBgMarkStartWorkers: once per cycle, past gcStart's trigger test.
 * - runtime.gcMarkTermination: once per completed cycle.
 *
 * Stacks of other goroutines are walked by frame pointer from their saved
 * context (g.sched), at most GS_GO_FRAMES frames and within [stack.lo,
 * stack.hi).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "goroutines.h"
#include "goid.h"
#include "target.h"

/* runtime.g offsets (beyond goid.h's) and caller ranges, set by gsrec */
const volatile __s64 off_stack_lo = 0;
const volatile __s64 off_stack_hi = 8;
const volatile __s64 off_sched_sp = -1;
const volatile __s64 off_sched_pc = -1;
const volatile __s64 off_sched_bp = -1;
const volatile __s64 off_gopc = -1;
const volatile __s64 off_startpc = -1;
/* link-time addresses: the probe's own address gives the load bias */
const volatile __u64 issys_at = 0;		/* where its probe is */
const volatile __u64 newproc1_lo = 0, newproc1_hi = 0;
const volatile __u64 exit_lo = 0, exit_hi = 0;		/* goexit0 or gdestroy */

/*
 * The event budget (gsrec --go-rate, record/gorec.c): go_allow is a
 * period's share, and gsrec clears go_used as each period starts. Hits of
 * the creation, exit and stack-copy probes past go_allow are refused, and
 * the first refused one wakes gsrec, which takes those probes off until the
 * period ends: a refused hit still costs the target its trap. go_allow 0:
 * no budget.
 */
__u64 go_allow = 0;
__u64 go_used = 0;
/*
 * gsrec --heap-rate on a launched command: stop it at its second goroutine
 * creation (stop_at_go counts down to it), and gsrec writes the rate and
 * sends SIGCONT. The first is the main goroutine's, made by rt0_go; the
 * second is the first that runtime.main makes, in the runtime's own init
 * (forcegchelper), after runtime.MemProfileRate has its start value (from
 * schedinit, or up to Go 1.19 from the runtime's variable initializers)
 * and before any package's init or the program's main.
 */
__u32 stop_at_go = 0;

static __always_inline __u64 rd(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

static __always_inline void init_event(struct gs_go_event *e, __u16 kind)
{
	e->t_ns = bpf_ktime_get_ns();
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->kind = kind;
	e->pad = 0;
	e->g = 0;
	e->goid = -1;
	e->gopc = e->startpc = e->old_size = e->new_size = e->sp_word = 0;
	e->nframes = 0;
	e->pad2 = 0;
}

static __always_inline struct gs_go_event *reserve(__u16 kind, int with_frames)
{
	struct gs_go_event *e;

	count(GS_GO_HITS);
	if (with_frames)
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	else
		e = bpf_ringbuf_reserve(&events, GS_GO_EVENT_SHORT, 0);
	if (!e) {
		count(GS_GO_DROPPED);
		return 0;
	}
	init_event(e, kind);
	return e;
}

/*
 * Creation and stack-copy events are built in a per-CPU scratch copy and
 * written at their length (target.h): a creation's stack is 5-6 frames,
 * not the 64 an event has room for. A uprobe's program can be preempted,
 * and another thread of this CPU may then hit a probe: it finds the copy
 * taken and reserves a whole event in the ring buffer instead.
 */
struct scratch {
	__u64 busy;
	struct gs_go_event e;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline struct gs_go_event *take(__u16 kind, struct scratch **sp)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);

	*sp = 0;
	if (s && __sync_fetch_and_add(&s->busy, 1) == 0) {
		count(GS_GO_HITS);
		init_event(&s->e, kind);
		*sp = s;
		return &s->e;
	}
	if (s)
		__sync_fetch_and_add(&s->busy, -1);
	return reserve(kind, 1);
}

/* Write an event from take(), and give the scratch copy back. */
static __always_inline void put(struct gs_go_event *e, struct scratch *s)
{
	if (!s) {
		submit(e);
		return;
	}
	output(e, GS_GO_EVENT_SHORT, e->nframes, GS_GO_FRAMES, GS_GO_DROPPED);
	__sync_fetch_and_add(&s->busy, -1);
}

/* Past the budget? The first hit past it tells gsrec when the pause began. */
static __always_inline int over_budget(void)
{
	struct gs_go_event *e;
	__u64 n;

	if (!go_allow)
		return 0;
	n = __sync_fetch_and_add(&go_used, 1);
	if (n < go_allow)
		return 0;
	if (n == go_allow) {
		e = reserve(GS_EV_GO_PAUSE, 0);
		if (e)
			bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	}
	return 1;
}

/* Return addresses from the frame at bp up, while frames stay in [lo, hi). */
static __always_inline __u32 walk(struct gs_go_event *e, __u32 n, __u64 bp, __u64 lo, __u64 hi)
{
	for (int i = 0; i < GS_GO_FRAMES; i++) {
		__u64 fr[2];

		if (n >= GS_GO_FRAMES || bp < lo || bp + 16 > hi || (bp & 7))
			break;
		if (bpf_probe_read_user(fr, sizeof(fr), (void *)bp) || !fr[1])
			break;
		e->frames[n & (GS_GO_FRAMES - 1)] = fr[1];
		n++;
		if (fr[0] <= bp)	/* callers' frames are higher up */
			break;
		bp = fr[0];
	}
	return n;
}

/* The g this thread runs (g0 on the system stack), or 0. */
static __always_inline __u64 current_g(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 fsbase = BPF_CORE_READ(task, thread.fsbase);

	return fsbase ? rd(fsbase - 8) : 0;
}

/* Whether the probed call came from newproc1: a creation. */
static __always_inline int ret_in_newproc1(__u64 sp, struct pt_regs *ctx)
{
	__u64 ret = rd(sp) - (bpf_get_func_ip(ctx) - issys_at);

	return ret >= newproc1_lo && ret < newproc1_hi;
}

SEC("uprobe")
int on_issys(struct pt_regs *ctx)
{
	__u64 gp = ctx->ax, sp = ctx->sp, ret;
	struct gs_go_event *e;
	struct scratch *s;

	asm volatile("" : "+r"(gp));
	asm volatile("" : "+r"(sp));
	if (!is_target())
		return 0;
	if (stop_at_go && ret_in_newproc1(sp, ctx) && --stop_at_go == 0)
		bpf_send_signal(19);	/* SIGSTOP */
	if (over_budget())
		return 0;
	/* the caller, as a link-time address (PIE: minus the load bias) */
	ret = rd(sp) - (bpf_get_func_ip(ctx) - issys_at);
	if (ret >= newproc1_lo && ret < newproc1_hi) {
		__u64 g0, m, parent = 0;

		e = take(GS_EV_GO_CREATE, &s);
		if (!e)
			return 0;
		e->g = gp;
		e->gopc = rd(gp + off_gopc);
		e->startpc = rd(gp + off_startpc);
		/* newproc1 runs on g0 for the goroutine whose go statement ran:
		 * m.curg, stopped in systemstack with its context in g.sched */
		g0 = current_g();
		m = g0 && off_g_m >= 0 ? rd(g0 + off_g_m) : 0;
		parent = m && off_m_curg >= 0 ? rd(m + off_m_curg) : 0;
		if (parent) {
			e->goid = (__s64)rd(parent + off_goid);
			e->nframes = walk(e, 0, rd(parent + off_sched_bp), rd(parent + off_stack_lo),
					  rd(parent + off_stack_hi));
		}
		put(e, s);
		return 0;
	} else if (ret >= exit_lo && ret < exit_hi) {
		e = reserve(GS_EV_GO_EXIT, 0);
		if (!e)
			return 0;
		e->g = gp;
		e->goid = (__s64)rd(gp + off_goid);
		e->gopc = rd(gp + off_gopc);
		e->startpc = rd(gp + off_startpc);
	} else {
		count(GS_GO_OTHER_CALLER);
		return 0;
	}
	submit(e);
	return 0;
}

SEC("uprobe")
int on_copystack(struct pt_regs *ctx)
{
	__u64 gp = ctx->ax, newsize = ctx->bx, lo, hi, pc;
	struct gs_go_event *e;
	struct scratch *s;

	asm volatile("" : "+r"(gp));
	asm volatile("" : "+r"(newsize));
	if (!is_target() || over_budget())
		return 0;
	e = take(GS_EV_GO_STACK, &s);
	if (!e)
		return 0;
	lo = rd(gp + off_stack_lo);
	hi = rd(gp + off_stack_hi);
	e->g = gp;
	e->goid = (__s64)rd(gp + off_goid);
	e->old_size = hi - lo;
	e->new_size = newsize;
	/* copystack runs on g0: gp stopped where g.sched says (in a function's
	 * prologue when it grows, BP then still its caller's) */
	pc = rd(gp + off_sched_pc);
	e->sp_word = rd(rd(gp + off_sched_sp));
	if (pc) {
		e->frames[0] = pc;
		e->nframes = walk(e, 1, rd(gp + off_sched_bp), lo, hi);
	}
	put(e, s);
	return 0;
}

SEC("uprobe")
int on_gc_start(struct pt_regs *ctx)
{
	struct gs_go_event *e;

	if (!is_target())
		return 0;
	e = reserve(GS_EV_GC_START, 0);
	if (e)
		submit(e);
	return 0;
}

SEC("uprobe")
int on_gc_mark_term(struct pt_regs *ctx)
{
	struct gs_go_event *e;

	if (!is_target())
		return 0;
	e = reserve(GS_EV_GC_MARK_TERM, 0);
	if (e)
		submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * faults.bpf.c - which code made the target's memory resident, and when it
 * gave memory back.
 *
 * on_fault runs on the page-fault perf software events (minor and major,
 * every fault by default: sample period 1) and records the faulting address
 * with the user stack and goroutine. on_sys_enter runs on the raw
 * sys_enter tracepoint (no tracefs needed) and records the calls that drop
 * pages: munmap, madvise with an advice that frees or pages out (DONTNEED,
 * FREE, REMOVE, PAGEOUT, DONTNEED_LOCKED), mremap (the old range leaves) and
 * brk; on_munmap and the like do the same from those calls' own
 * tracepoints, which cost other system calls less (gsrec uses them where
 * tracefs is mounted), and on_go_munmap and the like from uprobes on the
 * target's functions that make the calls, which cost nothing outside the
 * target. Everything is filtered to the target's threads first.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "faults.h"
#include "goid.h"
#include "target.h"

static __always_inline void init_event(struct gs_mem_event *e, __u16 kind)
{
	e->t_ns = bpf_ktime_get_ns();
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->kind = kind;
	e->major = 0;
	e->goid = -1;
	e->addr = e->len = e->arg = 0;
	e->nframes = 0;
	e->pad = 0;
	e->sp_word = 0;
}

/* a release: an event without frames, straight in the ring buffer */
static __always_inline struct gs_mem_event *reserve(__u16 kind)
{
	struct gs_mem_event *e = bpf_ringbuf_reserve(&events, GS_MEM_EVENT_SHORT, 0);

	if (!e) {
		count(GS_MEM_DROPPED);
		return 0;
	}
	init_event(e, kind);
	return e;
}

/* where a fault is built before it is copied out at its length (target.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gs_mem_event);
} scratch SEC(".maps");

static __always_inline int fault(struct bpf_perf_event_data *ctx, __u16 major)
{
	struct gs_mem_event *e;
	__u32 zero = 0;

	if (!is_target())
		return 0;
	count(GS_MEM_FAULTS);
	/* a perf event's program does not nest on its CPU: the copy is ours */
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	init_event(e, GS_EV_FAULT);
	e->major = major;
	e->addr = ctx->addr;
	fill_user_stack(ctx, e);
	output(e, GS_MEM_EVENT_SHORT, e->nframes, GS_MAX_FRAMES, GS_MEM_DROPPED);
	return 0;
}

SEC("perf_event")
int on_fault_min(struct bpf_perf_event_data *ctx)
{
	return fault(ctx, 0);
}

SEC("perf_event")
int on_fault_maj(struct bpf_perf_event_data *ctx)
{
	return fault(ctx, 1);
}

/* x86_64 syscall numbers and the madvise advices that drop pages */
#define NR_BRK 12
#define NR_MUNMAP 11
#define NR_MREMAP 25
#define NR_MADVISE 28

static __always_inline int release(long id, __u64 a0, __u64 a1, __u64 a2)
{
	struct gs_mem_event *e;
	__u16 kind;

	if (!is_target())
		return 0;
	if (id == NR_MADVISE && a2 != 4 /* DONTNEED */ && a2 != 8 /* FREE */ &&
	    a2 != 9 /* REMOVE */ && a2 != 21 /* PAGEOUT */ && a2 != 24 /* DONTNEED_LOCKED */)
		return 0;
	kind = id == NR_MUNMAP ? GS_EV_MUNMAP : id == NR_MADVISE ? GS_EV_MADVISE
		: id == NR_MREMAP ? GS_EV_MREMAP : GS_EV_BRK;
	count(GS_MEM_RELEASES);
	e = reserve(kind);
	if (!e)
		return 0;
	e->goid = read_goid();
	/* A field a call does not have stays 0 (FORMAT.md §6.18), whatever the
	 * register holds: the raw sys_enter hook reads three for every call. */
	if (kind == GS_EV_BRK) {
		e->arg = a0;
	} else {
		e->addr = a0;
		e->len = a1;
		e->arg = kind == GS_EV_MUNMAP ? 0 : a2;
	}
	submit(e);
	return 0;
}

/*
 * The four system calls' own tracepoints: the program runs for those calls
 * only. Every system call of every task still takes the kernel's slower
 * traced entry while a syscall tracepoint is on, but that is about half of
 * what running a program on each costs (BENCHMARKS.md). Attaching them
 * needs tracefs; without it gsrec falls back to on_sys_enter.
 */
SEC("tracepoint/syscalls/sys_enter_munmap")
int on_munmap(struct trace_event_raw_sys_enter *ctx)
{
	return release(NR_MUNMAP, ctx->args[0], ctx->args[1], 0);
}

SEC("tracepoint/syscalls/sys_enter_madvise")
int on_madvise(struct trace_event_raw_sys_enter *ctx)
{
	return release(NR_MADVISE, ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_mremap")
int on_mremap(struct trace_event_raw_sys_enter *ctx)
{
	return release(NR_MREMAP, ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_brk")
int on_brk(struct trace_event_raw_sys_enter *ctx)
{
	return release(NR_BRK, ctx->args[0], 0, 0);
}

/*
 * The same calls at the target's own functions that make them, so that no
 * other system call of the machine pays for the stream (gsrec's default for
 * Go targets, record/faults.c). Go functions (Go 1.17+ amd64 register ABI:
 * AX, BX, CX, DI, ...): runtime.munmap, syscall.munmap and
 * golang.org/x/sys/unix.munmap (addr, len); syscall.Madvise and
 * unix.Madvise (b []byte, advice: AX, BX, CX = cap, DI); unix.mremap
 * (oldaddr, oldlen, newlen, ...). runtime.madvise is assembly with its
 * arguments on the stack above the return address; it is probed at its
 * callers' CALL instructions where they are known (record/faults.c). The C
 * library's munmap, madvise, mremap and brk take theirs in DI, SI, DX.
 */
SEC("uprobe")
int on_go_munmap(struct pt_regs *ctx)
{
	return release(NR_MUNMAP, ctx->ax, ctx->bx, 0);
}

SEC("uprobe")
int on_go_madvise(struct pt_regs *ctx)
{
	return release(NR_MADVISE, ctx->ax, ctx->bx, ctx->di);
}

SEC("uprobe")
int on_go_mremap(struct pt_regs *ctx)
{
	return release(NR_MREMAP, ctx->ax, ctx->bx, ctx->cx);
}

/* runtime.madvise's arguments (addr, n, flags int32) on the stack at sp */
static __always_inline int rt_madvise(__u64 sp)
{
	__u64 a[3];

	if (!is_target() || bpf_probe_read_user(a, sizeof(a), (void *)sp))
		return 0;
	return release(NR_MADVISE, a[0], a[1], (__u64)(__s64)(__s32)a[2]);
}

SEC("uprobe")
int on_rt_madvise(struct pt_regs *ctx)
{
	return rt_madvise(ctx->sp + 8);		/* above the return address */
}

/* On a CALL of runtime.madvise: its return address is not pushed yet. */
SEC("uprobe")
int on_rt_madvise_call(struct pt_regs *ctx)
{
	return rt_madvise(ctx->sp);
}

SEC("uprobe")
int on_c_munmap(struct pt_regs *ctx)
{
	return release(NR_MUNMAP, ctx->di, ctx->si, 0);
}

SEC("uprobe")
int on_c_madvise(struct pt_regs *ctx)
{
	return release(NR_MADVISE, ctx->di, ctx->si, ctx->dx);
}

SEC("uprobe")
int on_c_mremap(struct pt_regs *ctx)
{
	return release(NR_MREMAP, ctx->di, ctx->si, ctx->dx);
}

SEC("uprobe")
int on_c_brk(struct pt_regs *ctx)
{
	return release(NR_BRK, ctx->di, 0, 0);
}

/* Every system call: where tracefs is not mounted. */
SEC("raw_tp/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long id = (long)ctx->args[1];
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];

	if (id != NR_MUNMAP && id != NR_MADVISE && id != NR_MREMAP && id != NR_BRK)
		return 0;
	return release(id, PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs),
		       PT_REGS_PARM3_CORE_SYSCALL(regs));
}

char LICENSE[] SEC("license") = "GPL";

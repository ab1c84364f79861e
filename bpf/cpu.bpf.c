// SPDX-License-Identifier: GPL-2.0
/*
 * cpu.bpf.c - on-CPU stack samples of one process.
 *
 * Runs on a perf software event (cpu-clock at -F Hz on every CPU). For the
 * target's threads it records the user stack (frame pointers: Go keeps them
 * on amd64) and the goroutine: g comes from the TLS slot at fsbase-8 (R14
 * holds g only inside Go ABIInternal code), and on the system stack (goid 0)
 * the user goroutine is m.curg. Offsets come from gsrec, which found them
 * for this binary (common/golayout.c). Bounded work: no loops but the
 * helper's own stack walk.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "cpu.h"
#include "goid.h"

const volatile __u32 target_tgid = 0;
/* Wake gsrec only when this much is waiting: it drains the buffer on its
 * own 100 Hz tick, and a wakeup per event would cost more than the event. */
const volatile __u64 wakeup_bytes = 1 << 20;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);	/* resized by gsrec (--ringbuf-kb) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GS_CPU_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);

	if (v)
		(*v)++;
}

/*
 * Launched targets: gsrec attaches before the command execs (so nothing it
 * does is missed) and the programs stay silent until the exec, so nothing
 * of the forked gsrec that precedes it is recorded.
 */
const volatile __u32 wait_exec = 0;
__u32 exec_seen = 0;

SEC("raw_tp/sched_process_exec")
int on_exec(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid)
		exec_seen = 1;
	return 0;
}

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gs_cpu_event *e;
	long n;

	if ((__u32)(id >> 32) != target_tgid || (wait_exec && !exec_seen))
		return 0;
	count(GS_CPU_SAMPLES);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(GS_CPU_DROPPED);
		return 0;
	}
	e->t_ns = bpf_ktime_get_ns();
	e->tid = (__u32)id;
	e->goid = read_goid();
	e->sp_word = sp_word(ctx->regs.sp);
	n = bpf_get_stack(ctx, e->frames, sizeof(e->frames), BPF_F_USER_STACK);
	e->nframes = n > 0 ? (__u32)((__u64)n / 8) : 0;
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes
				 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

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
#include "target.h"

/* where a sample is built before it is copied out at its length (target.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gs_cpu_event);
} scratch SEC(".maps");

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	struct gs_cpu_event *e;

	if (!is_target())
		return 0;
	count(GS_CPU_SAMPLES);
	/* a perf event's program does not nest on its CPU: the copy is ours */
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	e->t_ns = bpf_ktime_get_ns();
	e->tid = (__u32)id;
	fill_user_stack(ctx, e);
	output(e, GS_CPU_EVENT_SHORT, e->nframes, GS_MAX_FRAMES, GS_CPU_DROPPED);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

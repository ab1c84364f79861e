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

#include "cpu.h"

const volatile __u32 target_tgid = 0;
const volatile __s64 off_goid = -1;	/* g.goid */
const volatile __s64 off_g_m = -1;	/* g.m */
const volatile __s64 off_m_curg = -1;	/* m.curg */

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

static __always_inline __s64 read_goid(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 fsbase = BPF_CORE_READ(task, thread.fsbase), g = 0, m = 0;
	__s64 goid = -1;

	if (off_goid < 0 || !fsbase || bpf_probe_read_user(&g, sizeof(g), (void *)(fsbase - 8)) || !g)
		return -1;
	if (bpf_probe_read_user(&goid, sizeof(goid), (void *)(g + off_goid)))
		return -1;
	if (goid == 0 && off_g_m >= 0 && off_m_curg >= 0) {
		/* g0 (system stack): the goroutine it works for is m.curg */
		if (bpf_probe_read_user(&m, sizeof(m), (void *)(g + off_g_m)) || !m ||
		    bpf_probe_read_user(&g, sizeof(g), (void *)(m + off_m_curg)) || !g ||
		    bpf_probe_read_user(&goid, sizeof(goid), (void *)(g + off_goid)))
			return 0;
	}
	return goid;
}

SEC("perf_event")
int on_cpu_sample(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gs_cpu_event *e;
	long n;

	if ((__u32)(id >> 32) != target_tgid)
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
	n = bpf_get_stack(ctx, e->frames, sizeof(e->frames), BPF_F_USER_STACK);
	e->nframes = n > 0 ? (__u32)((__u64)n / 8) : 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

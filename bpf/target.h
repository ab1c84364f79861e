/*
 * target.h - what every gsmapper BPF program shares (included by the
 * .bpf.c files after vmlinux.h and the libbpf headers): the target filter,
 * the ring buffer and its wakeup policy, the per-CPU counters, and the exec
 * hook that keeps a launched target silent until it has exec'd.
 */
#ifndef GS_BPF_TARGET_H
#define GS_BPF_TARGET_H

const volatile __u32 target_tgid = 0;
/* Wake gsrec only when this much is waiting: it drains the buffer on its
 * own 100 Hz tick, and a wakeup per event would cost more than the event. */
const volatile __u64 wakeup_bytes = 1 << 20;
/*
 * Launched targets: gsrec attaches before the command execs (so nothing it
 * does is missed) and the programs stay silent until the exec, so nothing
 * of the forked gsrec that precedes it is recorded.
 */
const volatile __u32 wait_exec = 0;
__u32 exec_seen = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);	/* resized by gsrec (--ringbuf-kb) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);		/* indexes from cpu.h / faults.h */
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);

	if (v)
		(*v)++;
}

/* Is the current task one of the target's threads, past its exec? */
static __always_inline int is_target(void)
{
	return (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid &&
	       (!wait_exec || exec_seen);
}

/* The flag for a write: a wakeup once wakeup_bytes are waiting, else none. */
static __always_inline __u64 wakeup(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									    : BPF_RB_NO_WAKEUP;
}

static __always_inline void submit(void *e)
{
	bpf_ringbuf_submit(e, wakeup());
}

/*
 * Events with stacks are written only as long as their stack: built in a
 * per-CPU scratch copy, then copied into the ring buffer with their length
 * (a Go fault's stack is 6-7 frames, not the 127 an event has room for).
 */
static __always_inline void output(void *e, __u64 header, __u64 nframes, __u64 max_frames,
				   __u32 dropped)
{
	if (nframes > max_frames)	/* a bound the verifier can see */
		nframes = max_frames;
	if (bpf_ringbuf_output(&events, e, header + nframes * 8, wakeup()))
		count(dropped);
}

SEC("raw_tp/sched_process_exec")
int on_exec(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid)
		exec_seen = 1;
	return 0;
}

#endif

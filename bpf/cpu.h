/*
 * cpu.h - what the CPU sampler (cpu.bpf.c) hands to gsrec (record/cpu.c)
 * through its ring buffer. Fixed-width fields only: both sides include it.
 */
#ifndef GS_BPF_CPU_H
#define GS_BPF_CPU_H

#define GS_MAX_FRAMES 127

struct gs_cpu_event {
	__u64 t_ns;		/* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	__u32 tid;
	__u32 nframes;
	__s64 goid;		/* -1 when it could not be read */
	__u64 sp_word;		/* the word at the user SP: a frameless leaf's return address */
	__u64 frames[GS_MAX_FRAMES];	/* user stack, innermost first */
};

/* an event's size without frames: each is written as header + nframes x 8 */
#define GS_CPU_EVENT_SHORT ((unsigned long)&((struct gs_cpu_event *)0)->frames)

/* Counters in the "stats" array map */
enum { GS_CPU_SAMPLES = 0, GS_CPU_DROPPED = 1, GS_CPU_NSTATS = 2 };

#endif

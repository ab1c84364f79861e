/*
 * faults.h - what the fault and release programs (faults.bpf.c) hand to
 * gsrec (record/faults.c). Fixed-width fields only.
 */
#ifndef GS_BPF_FAULTS_H
#define GS_BPF_FAULTS_H

#include "cpu.h"	/* GS_MAX_FRAMES */

enum gs_mem_kind {
	GS_EV_FAULT = 1,	/* a page became resident: addr, stack */
	GS_EV_MUNMAP = 2,	/* addr, len */
	GS_EV_MADVISE = 3,	/* addr, len, arg = advice */
	GS_EV_MREMAP = 4,	/* addr, len = old range; arg = new length */
	GS_EV_BRK = 5,		/* arg = requested break */
};

struct gs_mem_event {
	__u64 t_ns;
	__u32 tid;
	__u16 kind;
	__u16 major;		/* faults: a major fault */
	__s64 goid;
	__u64 addr, len, arg;
	__u32 nframes;		/* faults only */
	__u32 pad;
	__u64 sp_word;		/* faults: the word at the user SP (see cpu.h) */
	__u64 frames[GS_MAX_FRAMES];
};

/* without frames: releases, and each fault's header before its nframes x 8 */
#define GS_MEM_EVENT_SHORT ((unsigned long)&((struct gs_mem_event *)0)->frames)

enum { GS_MEM_FAULTS = 0, GS_MEM_RELEASES = 1, GS_MEM_DROPPED = 2, GS_MEM_NSTATS = 3 };

#endif

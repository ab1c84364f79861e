/*
 * goroutines.h - what the goroutine and GC programs (goroutines.bpf.c) hand
 * to gsrec (record/gorec.c). Fixed-width fields only.
 */
#ifndef GS_BPF_GOROUTINES_H
#define GS_BPF_GOROUTINES_H

#define GS_GO_FRAMES 64		/* a power of two: frame-pointer walks stop there */

enum gs_go_kind {
	GS_EV_GO_CREATE = 1,	/* g, gopc, startpc, goid = parent's id, creating stack */
	GS_EV_GO_EXIT = 2,	/* g, goid, gopc, startpc */
	GS_EV_GO_STACK = 3,	/* g, goid, old_size, new_size, sp_word, own stack */
	GS_EV_GC_START = 4,
	GS_EV_GC_MARK_TERM = 5,
	GS_EV_GO_PAUSE = 6,	/* the event budget ran out: no fields but t_ns */
};

struct gs_go_event {
	__u64 t_ns;
	__u32 tid;
	__u16 kind;
	__u16 pad;
	__u64 g;
	__s64 goid;
	__u64 gopc, startpc;
	__u64 old_size, new_size;
	__u64 sp_word;
	__u32 nframes;
	__u32 pad2;
	__u64 frames[GS_GO_FRAMES];	/* only in CREATE and STACK events */
};

/* The bytes of an event without frames (EXIT and the GC events). */
#define GS_GO_EVENT_SHORT ((unsigned long)&((struct gs_go_event *)0)->frames)

enum { GS_GO_HITS = 0, GS_GO_DROPPED = 1, GS_GO_OTHER_CALLER = 2, GS_GO_NSTATS = 3 };

#endif

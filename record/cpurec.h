/*
 * cpurec.h - the eBPF on-CPU sampler (cpu.c).
 */
#ifndef GS_CPUREC_H
#define GS_CPUREC_H

#include <stdint.h>
#include <sys/types.h>

#include "format/trace.h"
#include "stacks.h"

struct cpurec_opts {
	unsigned freq;			/* samples per second per CPU */
	unsigned ringbuf_kb;		/* power of two, >= 4 */
	int64_t off_goid, off_g_m, off_m_curg;	/* -1: unknown */
	int wait_exec;			/* the target has not exec'd yet */
};

struct cpu_bpf;
struct ring_buffer;
struct bpf_link;

struct cpurec {
	struct cpu_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link **links, *exec;
	int *pfd, ncpu;
	struct gs_writer *w;
	struct stacks *stacks;
	uint64_t samples, lost_reported;
	int err;
};

/* 0, or -1 with a sentence in err (no permission, no BPF, ...). */
int cpurec_open(struct cpurec *c, pid_t tgid, const struct cpurec_opts *o,
		struct stacks *stacks, struct gs_writer *w, char *err, size_t errlen);
int cpurec_fd(struct cpurec *c);	/* poll it for POLLIN */
int cpurec_poll(struct cpurec *c);	/* write what arrived; -1 on a writer error */
int cpurec_lost(struct cpurec *c, uint64_t now);	/* write new drops as LOST */
void cpurec_close(struct cpurec *c);

#endif

/*
 * cpurec.h - the eBPF on-CPU sampler (cpu.c).
 */
#ifndef GS_CPUREC_H
#define GS_CPUREC_H

#include <stdint.h>
#include <sys/types.h>

#include "format/trace.h"

struct cpurec_opts {
	unsigned freq;			/* samples per second per CPU */
	unsigned ringbuf_kb;		/* power of two, >= 4 */
	int64_t off_goid, off_g_m, off_m_curg;	/* -1: unknown */
};

struct stackent {
	uint64_t hash;
	uint32_t id, n;
	uint64_t *pc;
};

struct cpu_bpf;
struct ring_buffer;
struct bpf_link;

struct cpurec {
	struct cpu_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link **links;
	int *pfd, ncpu;
	struct gs_writer *w;
	struct stackent *tab;		/* distinct stacks written so far */
	uint32_t size, count, next_id;
	uint64_t samples, lost_reported;
	int err;
};

/* 0, or -1 with a sentence in err (no permission, no BPF, ...). */
int cpurec_open(struct cpurec *c, pid_t tgid, const struct cpurec_opts *o,
		struct gs_writer *w, char *err, size_t errlen);
int cpurec_fd(struct cpurec *c);	/* poll it for POLLIN */
int cpurec_poll(struct cpurec *c);	/* write what arrived; -1 on a writer error */
int cpurec_lost(struct cpurec *c, uint64_t now);	/* write new drops as LOST */
void cpurec_close(struct cpurec *c);

#endif

/*
 * faultrec.h - the eBPF fault and release recorder (faults.c).
 */
#ifndef GS_FAULTREC_H
#define GS_FAULTREC_H

#include <stdint.h>
#include <sys/types.h>

#include "format/trace.h"
#include "stacks.h"

struct faultrec_opts {
	unsigned period;		/* record every Nth fault (1: all) */
	unsigned ringbuf_kb;
	int64_t off_goid, off_g_m, off_m_curg;
	int wait_exec;			/* the target has not exec'd yet */
};

struct faults_bpf;
struct ring_buffer;
struct bpf_link;

struct faultrec {
	struct faults_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link **links, *sys_enter[4], *exec;
	int *pfd, npfd;
	struct gs_writer *w;
	struct stacks *stacks;
	uint64_t faults, releases, lost_reported;
	int err;
};

int faultrec_open(struct faultrec *f, pid_t tgid, const struct faultrec_opts *o,
		  struct stacks *stacks, struct gs_writer *w, char *err, size_t errlen);
int faultrec_fd(struct faultrec *f);
int faultrec_poll(struct faultrec *f);
int faultrec_lost(struct faultrec *f, uint64_t now);
void faultrec_close(struct faultrec *f);

#endif

/*
 * faultrec.h - the eBPF fault and release recorder (faults.c).
 */
#ifndef GS_FAULTREC_H
#define GS_FAULTREC_H

#include <stdint.h>
#include <sys/types.h>

#include "common/smaps.h"
#include "format/trace.h"
#include "stacks.h"

struct faultrec_opts {
	unsigned period;		/* record every Nth fault (1: all) */
	unsigned ringbuf_kb;
	int64_t off_goid, off_g_m, off_m_curg;
	int wait_exec;			/* the target has not exec'd yet */
	/*
	 * Releases from uprobes on the Go executable's functions that make
	 * the calls (and on the C library's: the one mapped at open, which for
	 * a launched target is gsrec's own, and any other once it is mapped:
	 * faultrec_maps),
	 * when exe is set and find_fns finds the Go runtime's own (as
	 * gorec_func_offsets: the file offsets where uprobes on the named Go
	 * functions go); else from the system calls' tracepoints.
	 */
	const char *exe;
	int (*find_fns)(const void *ctx, const char *const *names, int n, uint64_t *off, int *have);
	/* the runtime's direct calls to a function, as gorec_call_sites */
	int (*find_calls)(const void *ctx, const char *callee, uint64_t *off, int max);
	const void *find_ctx;
};

struct faults_bpf;
struct ring_buffer;
struct bpf_link;

struct faultrec {
	struct faults_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link **links, *sys_enter[4], *exec;
	struct bpf_link *rel[64];	/* uprobes on the functions that release */
	int nrel, probes;		/* probes: releases from those uprobes */
	int madvise_calls;		/* runtime.madvise probed at its calls (0: at its entry) */
	pid_t pid;
	uint64_t libc_ino[4];		/* C libraries probed (inode numbers) */
	int nlibc;
	char libc_err[200];		/* why faultrec_open could not probe it */
	int *pfd, npfd;
	struct gs_writer *w;
	struct stacks *stacks;
	uint64_t faults, releases, lost_reported;
	int err;
};

int faultrec_open(struct faultrec *f, pid_t tgid, const struct faultrec_opts *o,
		  struct stacks *stacks, struct gs_writer *w, char *err, size_t errlen);
/*
 * The target's mappings: puts the release uprobes on a C library the
 * first time it shows. 1 when it did, 0 when there was nothing to do, -1
 * when it could not (a reason in err).
 */
int faultrec_maps(struct faultrec *f, const struct gs_smaps *s, char *err, size_t errlen);
int faultrec_fd(struct faultrec *f);
int faultrec_poll(struct faultrec *f);
int faultrec_lost(struct faultrec *f, uint64_t now);
void faultrec_close(struct faultrec *f);

#endif

/*
 * goid.h - the current goroutine's id, for BPF programs (included by the
 * .bpf.c files, after vmlinux.h and the libbpf helpers).
 *
 * g is in the TLS slot at fsbase-8 (R14 holds it only inside Go
 * ABIInternal code, not in assembly, cgo or signal handlers). On the
 * system stack g is g0 (goid 0) and the goroutine it works for is m.curg.
 * The offsets are this binary's (common/golayout.c), set by gsrec.
 */
#ifndef GS_BPF_GOID_H
#define GS_BPF_GOID_H

/*
 * The word at the user stack pointer. A frameless Go leaf function (or any
 * function before its prologue saves BP) leaves BP pointing at its caller's
 * frame, so a frame-pointer walk skips its caller; there the caller's
 * return address is this word. gsreport decides, with the pcsp table, when
 * to use it. The user SP is the one saved at kernel entry (task_pt_regs),
 * not the event's own registers: a sample or fault taken while the thread
 * is in the kernel (an interrupt's exit, a reschedule, a copy to user
 * memory) carries kernel registers, whose SP is no user address, while
 * its user stack (bpf_get_stack) is still the interrupted user code's.
 */
static __always_inline __u64 user_sp_word(void)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	__u64 w = 0;

	if (bpf_probe_read_user(&w, sizeof(w), (void *)regs->sp))
		return 0;
	return w;
}

const volatile __s64 off_goid = -1;	/* g.goid */
const volatile __s64 off_g_m = -1;	/* g.m */
const volatile __s64 off_m_curg = -1;	/* m.curg */

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
		/* g0 (system stack): the goroutine it works for is m.curg; none
		 * (0 stays) when the scheduler runs between goroutines. What cannot
		 * be read is unknown (-1), never goroutine 0. */
		if (bpf_probe_read_user(&m, sizeof(m), (void *)(g + off_g_m)) || !m ||
		    bpf_probe_read_user(&g, sizeof(g), (void *)(m + off_m_curg)))
			return -1;
		if (g && bpf_probe_read_user(&goid, sizeof(goid), (void *)(g + off_goid)))
			return -1;
	}
	return goid;
}

/*
 * What every stack-carrying event records about the interrupted user code:
 * the goroutine, the word at SP and the frame-pointer stack. A macro, so
 * e may be any event with goid, sp_word, frames[] and nframes.
 */
#define fill_user_stack(ctx, e)							\
	do {									\
		long __n;							\
		(e)->goid = read_goid();					\
		(e)->sp_word = user_sp_word();				\
		__n = bpf_get_stack((ctx), (e)->frames, sizeof((e)->frames),	\
				    BPF_F_USER_STACK);				\
		if (__n < 0)							\
			__n = 0;						\
		if (__n > (long)sizeof((e)->frames))				\
			__n = sizeof((e)->frames);				\
		(e)->nframes = (__u32)((__u64)__n / 8);				\
	} while (0)

#endif

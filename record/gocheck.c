/*
 * gocheck.c - counting what the target's own figures said of the runtime
 * layout and of what the probes read (gocheck.h), and saying it in words.
 */
#include <stdarg.h>
#include <stdio.h>

#include "gocheck.h"

static void count(uint64_t *checked, uint64_t *bad, char *eg, size_t egn, int ok,
		  const char *fmt, va_list ap)
{
	++*checked;
	if (!ok && !(*bad)++)
		vsnprintf(eg, egn, fmt, ap);
}

void gocheck_field(struct gocheck *c, int field, int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	count(&c->checked[field], &c->bad[field], c->eg[field], sizeof(c->eg[field]), ok, fmt, ap);
	va_end(ap);
}

void gocheck_probe(struct gocheck *c, int probe, int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	count(&c->pchecked[probe], &c->pbad[probe], c->peg[probe], sizeof(c->peg[probe]), ok, fmt,
	      ap);
	va_end(ap);
}

/* What each layout field is checked against, in words; NULL: nothing. */
const char *gocheck_what(int field)
{
	switch (field) {
	case GS_G_STACK_LO:
	case GS_G_STACK_HI:
		return "every live goroutine's stack.lo below its stack.hi, a power of two "
		       "of at least 2 KiB apart";
	case GS_G_STACKGUARD0:
		return "waiting goroutines' stackguard0 within 4 KiB above stack.lo, or the "
		       "preemption request";
	case GS_G_M:
	case GS_M_CURG:
		return "each running goroutine's g.m is an m whose curg is that goroutine";
	case GS_G_SCHED_SP:
		return "waiting goroutines' sched.sp inside their stack";
	case GS_G_SCHED_PC:
		return "waiting goroutines' sched.pc in the text";
	case GS_G_SCHED_BP:
		return "waiting goroutines' sched.bp 0 or inside their stack";
	case GS_G_SYSCALLSP:
		return "goroutines in a system call: syscallsp inside their stack";
	case GS_G_SYSCALLPC:
		return "goroutines in a system call: syscallpc in the text";
	case GS_G_ATOMICSTATUS:
		return "every goroutine's status a known one (0 to 9, scan bit aside)";
	case GS_G_GOID:
		return "live goroutines' goids above 0 and unique within a census";
	case GS_G_GOPC:
		return "live goroutines' gopc in the text";
	case GS_G_STARTPC:
		return "live goroutines' startpc in the text";
	case GS_ADDR_ALLGS:
		return "every goroutine it points to readable";
	case GS_ADDR_ALLGLEN:
		return "equal to allgs' own length";
	case GS_ADDR_MS_GC:
		return "NumGC rose once for each mark-termination probe hit, PauseTotalNs by "
		       "each new cycle's PauseNs, and each new PauseEnd lies in the recording, "
		       "after the one before";
	case GS_ADDR_GCCONTROLLER:
	case GS_GC_HEAP_LIVE:
	case GS_GC_HEAP_MARKED:
	case GS_GC_HEAP_INUSE:
		return "heapMarked no more than heapLive and (from Go 1.19) heapInUse";
	case GS_GC_HEAP_RELEASED:
		return "heapReleased whole pages, below 2^48";
	case GS_ADDR_MBUCKETS:
		return "every bucket on its list a memory-profile bucket of 1 to 1024 frames, "
		       "with no more frees than allocations and (before Go 1.27) bytes the "
		       "counts times its size";
	case GS_ADDR_MPROFCYCLE:
		return "the heap profile's cycle equal to NumGC at each snapshot";
	case GS_ADDR_MEMPROFILERATE:
		return "a sampling rate from 0 to 2^31 bytes";
	}
	return NULL;
}

/*
 * gocheck.h - what the target's own figures say of the runtime layout and
 * the goroutine and GC probes gsrec used (gocheck.c).
 *
 * A layout found in DWARF, .symtab, a version table or code patterns is
 * only as good as its source: the recording checks each value against
 * invariants the runtime keeps, every time it reads with it (a goroutine's
 * sched.sp lies inside its stack, a running goroutine's m has it as
 * m.curg, PauseTotalNs grows by each new cycle's pause, NumGC rises once
 * for each mark-termination probe hit, a stack copy doubles or halves the
 * stack...). As the recording ends, GO_CHECK (FORMAT.md §6.27) says for
 * each field and probe what was checked, how often, and whether anything
 * disagreed.
 */
#ifndef GS_GOCHECK_H
#define GS_GOCHECK_H

#include <stdint.h>

#include "common/golayout.h"

/* The probes, as gorec.h's enum gorec_fn counts them. */
#define GOCHECK_NPROBE 6

struct gocheck {
	uint64_t text_lo, text_hi;		/* the text's runtime addresses */
	uint64_t checked[GS_LAY_N], bad[GS_LAY_N];
	char eg[GS_LAY_N][96];			/* the first disagreement */
	uint64_t censuses;
	/* NumGC against the mark-termination probe, between the first and
	 * last memstats reads */
	int numgc_seen;
	uint32_t numgc_first, numgc_last;
	uint64_t markterm_first, markterm_last, gcstart_first, gcstart_last;
	uint64_t pause_total_prev;
	/* the probes: hits, and the checks on what they read */
	uint64_t hits[GOCHECK_NPROBE], pchecked[GOCHECK_NPROBE], pbad[GOCHECK_NPROBE];
	char peg[GOCHECK_NPROBE][96];
};

static inline int gocheck_in_text(const struct gocheck *c, uint64_t pc)
{
	return pc >= c->text_lo && pc < c->text_hi;
}

/* One check of a layout field: ok or not, and what was seen if not. */
void gocheck_field(struct gocheck *c, int field, int ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * The same where it runs for every goroutine of a census: an agreement is
 * only counted, and the arguments that describe a disagreement are not
 * evaluated unless there is one.
 */
#define GOCHECK_FIELD(c, field, ok, ...)					\
	do {								\
		if (ok)							\
			(c)->checked[field]++;				\
		else							\
			gocheck_field((c), (field), 0, __VA_ARGS__);	\
	} while (0)
/* What a layout field is checked against, in words; NULL: nothing. */
const char *gocheck_what(int field);
/* One check of what a probe read. */
void gocheck_probe(struct gocheck *c, int probe, int ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif

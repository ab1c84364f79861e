/*
 * affinity.h - keeps gsrec off the CPUs a confined target runs on.
 */
#ifndef GSMAPPER_RECORD_AFFINITY_H
#define GSMAPPER_RECORD_AFFINITY_H

#include <sched.h>
#include <stddef.h>
#include <sys/types.h>

struct affinity {
	pid_t pid;
	cpu_set_t own;		/* the CPUs gsrec was allowed when it started */
	cpu_set_t cur;		/* the CPUs its threads are allowed now */
};

void affinity_init(struct affinity *a, pid_t pid);
/*
 * Moves gsrec's threads to the CPUs of its own set that the target's set
 * leaves out, when there are any, and back to its own set when there are
 * none. Returns 1 when the set changed, with a line saying so in msg;
 * 0 when it did not.
 */
int affinity_check(struct affinity *a, char *msg, size_t n);

#endif

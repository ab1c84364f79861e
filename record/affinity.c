/*
 * affinity.c - keeps gsrec off the CPUs a confined target runs on.
 *
 * A target confined to some CPUs (taskset, a cpuset, a container's CPU
 * set) pays for every moment gsrec spends on them. Where gsrec may also run
 * on CPUs the target may not, it moves all its threads there, and back to
 * its own set should the target's widen again: checked as recording
 * starts and once a second after. gsrec never goes beyond the set it was
 * started with, so `taskset -c 1 gsrec ...` keeps it on CPU 1 whatever the
 * target's set.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity.h"

void affinity_init(struct affinity *a, pid_t pid)
{
	memset(a, 0, sizeof(*a));
	a->pid = pid;
	if (sched_getaffinity(0, sizeof(a->own), &a->own) < 0)
		CPU_ZERO(&a->own);
	a->cur = a->own;
}

/* "0-3,6" */
static void cpu_list(const cpu_set_t *s, char *buf, size_t n)
{
	size_t k = 0;

	buf[0] = 0;
	for (int c = 0; c < CPU_SETSIZE && k < n; c++) {
		if (!CPU_ISSET(c, s))
			continue;
		int e = c;

		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, s))
			e++;
		k += (size_t)snprintf(buf + k, n - k, e > c ? "%s%d-%d" : "%s%d", k ? "," : "", c, e);
		c = e;
	}
}

/* Every thread of gsrec: threads started later take the main thread's set. */
static void set_all(const cpu_set_t *s)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	if (!d) {
		sched_setaffinity(0, sizeof(*s), s);
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			sched_setaffinity((pid_t)atoi(de->d_name), sizeof(*s), s);
	closedir(d);
}

int affinity_check(struct affinity *a, char *msg, size_t n)
{
	cpu_set_t target, want;

	if (!CPU_COUNT(&a->own) || sched_getaffinity(a->pid, sizeof(target), &target) < 0)
		return 0;
	/* own minus target's; if that leaves nothing, own */
	CPU_ZERO(&want);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &a->own) && !CPU_ISSET(c, &target))
			CPU_SET(c, &want);
	if (!CPU_COUNT(&want))
		want = a->own;
	if (CPU_EQUAL(&want, &a->cur))
		return 0;
	set_all(&want);
	a->cur = want;

	char t[256], w[256];

	cpu_list(&target, t, sizeof(t));
	cpu_list(&want, w, sizeof(w));
	const char *ts = CPU_COUNT(&target) == 1 ? "" : "s", *ws = CPU_COUNT(&want) == 1 ? "" : "s";

	if (CPU_EQUAL(&want, &a->own))
		snprintf(msg, n, "the target may run on CPU%s %s: gsrec runs on CPU%s %s, its own set",
			 ts, t, ws, w);
	else
		snprintf(msg, n, "the target is confined to CPU%s %s: gsrec keeps off %s, on CPU%s %s",
			 ts, t, CPU_COUNT(&target) == 1 ? "it" : "them", ws, w);
	return 1;
}

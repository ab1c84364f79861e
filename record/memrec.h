/*
 * memrec.h - the /proc memory recorder: statm totals every tick, cgroup
 * figures, and smaps reads (keyframes and deltas) paced by a CPU budget.
 */
#ifndef GS_MEMREC_H
#define GS_MEMREC_H

#include <stdint.h>
#include <sys/types.h>

#include "common/cgroup.h"
#include "common/proc.h"
#include "common/smaps.h"
#include "format/trace.h"

struct memrec_opts {
	double cpu_budget;		/* fraction of one core, e.g. 0.02 */
	uint32_t smaps_min_ms;		/* never read smaps more often */
	uint32_t keyframe_every;	/* a full keyframe every N smaps reads */
	uint32_t interval_ms;		/* the tick interval */
	uint32_t smaps_max_ms;		/* a per-mapping read at least this often while RSS moves */
	int launched;			/* gsrec's own child: may have exited already */
};

struct smaps_snap {
	struct gs_file text;
	struct gs_smaps parsed;
	uint32_t *ids;			/* trace id of each mapping */
	uint32_t idcap;
};

struct memrec {
	pid_t pid;
	struct memrec_opts o;
	struct gs_writer *w;
	int statm_fd;
	char smaps_path[64], rollup_path[64];
	struct gs_cgroup cg;
	struct gs_file statm_text;

	/* smaps pacing */
	double credit_ns;		/* CPU we may still spend */
	uint64_t last_cpu_ns, last_tick_ns, last_smaps_ns;
	double est_full_ns, est_rollup_ns;
	int use_rollup;			/* rollup is much cheaper for this target */
	uint32_t reads_since_full;
	uint64_t rollup_measured;	/* smaps_reads when a rollup was last timed */

	/* delta state */
	struct smaps_snap snap[2];
	int cur;			/* index of the latest snapshot */
	int have_prev;
	uint32_t next_id, since_key;
	struct gs_smaps_update *upd;
	uint32_t *rm;
	struct gs_mapping *add;
	uint32_t cap_upd, cap_rm, cap_add;

	/* cgroup change detection */
	uint64_t cg_last_usage, cg_last_limit, cg_last_sum, cg_last_ns, cg_last_read_ns;

	/* called with the target's mappings (from /proc/PID/maps) every 500 ms:
	 * gsrec writes the objects it has not written yet */
	int (*on_maps)(void *ctx, const struct gs_smaps *s);
	void *on_maps_ctx;
	char maps_path[64];
	struct gs_file maps_text;
	struct gs_smaps maps;
	uint64_t last_maps_ns;
	uint64_t objects_cpu_ns;	/* spent in on_maps: not charged to the budget */
	/* eBPF events and the Go runtime's figures (memrec_events_cpu) */
	double events_due_ns;		/* spent on them since the last tick */
	double events_allow_ns;		/* what they may still take of the budget */

	/* counts for END and the status line */
	uint64_t statm_samples, smaps_reads, rollup_reads, cgroup_samples, lost;
	uint64_t last_rss_pages, last_pss_kb;
	uint64_t full_pss_kb;		/* Pss at the last per-mapping read */
	uint64_t full_rss_pages;	/* statm's resident at the last per-mapping read */
	uint64_t full_ns;		/* when that read was */
	uint64_t last_statm_ns;		/* the last statm sample */
	uint64_t page_size;
	uint64_t forced_reads;		/* taken past the budget: the target moved, reads were due */
};

/* 0; or -1 with errno (ESRCH: gone; EACCES: no permission) and a message. */
int memrec_open(struct memrec *m, pid_t pid, struct gs_writer *w,
		const struct memrec_opts *o, char *err, size_t errlen);
/*
 * One tick at monotonic time now. Returns 0, 1 when the target has no
 * memory any more (exited: a zombie reads as all zeros), or -1 when the
 * writer failed (errno).
 */
/*
 * Recording begins now: what setting up cost (loading tables, the eBPF
 * programs, the first reads) is not the budget's, which starts from here.
 */
void memrec_budget_start(struct memrec *m, uint64_t now);
int memrec_tick(struct memrec *m, uint64_t now);
/* One smaps read now, whatever the pacing says (the first one and the last). */
int memrec_smaps_now(struct memrec *m, uint64_t now, int full);
/* Read /proc/PID/maps and hand it to on_maps now. 0, -1 writer error. */
int memrec_maps_now(struct memrec *m, uint64_t now);
/* gsrec spent ns on eBPF events or the Go runtime's figures (see memrec_tick) */
void memrec_events_cpu(struct memrec *m, uint64_t ns);
void memrec_close(struct memrec *m);

#endif

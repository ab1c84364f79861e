/*
 * replay.h - the one loop that reads a trace and hands each record to a
 * tool's callbacks (perf's struct perf_tool). smaps keyframes and deltas are
 * applied here, so a tool sees every live mapping after each read, sorted by
 * address and classified.
 */
#ifndef GS_REPLAY_H
#define GS_REPLAY_H

#include "common/smaps.h"
#include "format/trace.h"

struct gs_smaps_view {
	const struct gs_rec_smaps *rec;	/* the record (keyframe or delta) */
	int keyframe;
	uint32_t n;			/* live mappings */
	const struct gs_mapping *const *m;	/* sorted by start */
	const uint32_t *id;		/* their ids in the trace */
	const uint8_t *cls;		/* enum gs_class */
	const struct gs_mapping *by_id;	/* every mapping by trace id (live or not) */
	uint32_t first_new_id;		/* ids >= this were added by this read */
	int same_set;			/* no mapping came or went: order and classes as before */
};

/* Every callback may be NULL; a non-zero return stops the replay with it. */
struct gs_tool {
	int (*target)(void *ctx, const struct gs_rec_target *t);
	int (*clock)(void *ctx, const struct gs_rec_clock *c);
	int (*smaps)(void *ctx, const struct gs_smaps_view *v);
	int (*rollup)(void *ctx, const struct gs_rec_rollup *r);
	int (*statm)(void *ctx, const struct gs_rec_statm *s);
	int (*cgroup)(void *ctx, const struct gs_rec_cgroup *c);
	int (*lost)(void *ctx, const struct gs_rec_lost *l);
	int (*message)(void *ctx, const struct gs_rec_message *m);
	int (*exit)(void *ctx, const struct gs_rec_exit *e);
	int (*end)(void *ctx, const struct gs_rec_end *e);
	int (*object)(void *ctx, const struct gs_rec_object *o);
	int (*table)(void *ctx, const struct gs_rec_object_table *t);
	int (*layout)(void *ctx, const struct gs_rec_go_layout *l);
	int (*go_check)(void *ctx, const struct gs_rec_go_check *k);
	int (*stack)(void *ctx, const struct gs_rec_stack *s);
	int (*cpu)(void *ctx, const struct gs_rec_cpu_sample *c);
	int (*fault)(void *ctx, const struct gs_rec_fault *f);
	int (*release)(void *ctx, const struct gs_rec_release *r);
	int (*go_create)(void *ctx, const struct gs_rec_go_create *c);
	int (*go_exit)(void *ctx, const struct gs_rec_go_exit *e);
	int (*go_stack)(void *ctx, const struct gs_rec_go_stack *s);
	int (*gc_event)(void *ctx, const struct gs_rec_gc_event *e);
	int (*gc_cycle)(void *ctx, const struct gs_rec_gc_cycle *c);
	int (*census)(void *ctx, const struct gs_rec_census *c);
	int (*go_heap)(void *ctx, const struct gs_rec_go_heap *h);
	int (*go_pause)(void *ctx, const struct gs_rec_go_pause *p);
	int (*heap_bucket)(void *ctx, const struct gs_rec_heap_bucket *b);
	int (*heap_profile)(void *ctx, const struct gs_rec_heap_profile *h);
	/* called every 2^16 records with the bytes read so far */
	void (*progress)(void *ctx, uint64_t bytes, uint64_t total);
	/*
	 * A per-mapping smaps read at t_ns that cannot be rebuilt: its delta
	 * follows records lost to damage (or does not fit the mappings it
	 * changes). The mappings stay unknown until the next keyframe.
	 */
	int (*smaps_lost)(void *ctx, uint64_t t_ns);
};

/*
 * Replay r through tool. Returns 0 when the readable part was replayed (see
 * gs_reader_health for what damage skipped), else the first non-zero return
 * of a tool's callback, which stops the replay (the tool keeps its reason),
 * or -1 when memory ran out. State that depends on records lost to damage is never rebuilt from what remains: an smaps delta
 * applies only to the read it was made against (FORMAT.md §6.4), and reads
 * that cannot be rebuilt are given to tool->smaps_lost.
 */
int gs_replay(struct gs_reader *r, const struct gs_tool *tool, void *ctx);

#endif

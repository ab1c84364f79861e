/*
 * replay.c - see replay.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "replay.h"

struct sorter {
	const struct gs_mapping **m;
	uint32_t *id;
	uint8_t *cls;
	uint32_t cap, n;
	int valid;
};

static int cmp_start(const void *a, const void *b)
{
	const struct gs_mapping *x = *(const struct gs_mapping *const *)a;
	const struct gs_mapping *y = *(const struct gs_mapping *const *)b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int view(struct gs_smaps_state *st, struct sorter *s,
		const struct gs_classify_ctx *cc, const struct gs_record *rec,
		uint32_t first_new, const struct gs_tool *tool, void *ctx)
{
	struct gs_smaps_view v = { &rec->u.smaps, rec->type == GS_REC_SMAPS_KEY, 0, NULL, NULL,
				   NULL, st->m, first_new, 0 };
	uint32_t n = 0;

	/* Only updates: the sorted order and the classes stay as they were
	 * (st->m does not move without additions). */
	if (!v.keyframe && !rec->u.smaps.nadded && !rec->u.smaps.nremoved && s->valid) {
		v.n = s->n;
		v.m = s->m;
		v.id = s->id;
		v.cls = s->cls;
		v.same_set = 1;
		return tool->smaps ? tool->smaps(ctx, &v) : 0;
	}
	if (st->live > s->cap) {
		uint32_t cap = st->live * 2;

		free(s->m);
		free(s->id);
		free(s->cls);
		s->m = malloc(cap * sizeof(*s->m));
		s->id = malloc(cap * sizeof(*s->id));
		s->cls = malloc(cap);
		s->cap = cap;
		if (!s->m || !s->id || !s->cls) {
			s->cap = 0;
			return -1;
		}
	}
	for (uint32_t i = 0; i < st->n; i++)
		if (st->alive[i])
			s->m[n++] = &st->m[i];
	qsort(s->m, n, sizeof(*s->m), cmp_start);
	for (uint32_t i = 0; i < n; i++)
		s->id[i] = (uint32_t)(s->m[i] - st->m);
	gs_classify(s->m, n, cc, s->cls);
	s->n = n;
	s->valid = 1;
	v.n = n;
	v.m = s->m;
	v.id = s->id;
	v.cls = s->cls;
	return tool->smaps ? tool->smaps(ctx, &v) : 0;
}

int gs_replay(struct gs_reader *r, const struct gs_tool *tool, void *ctx)
{
	struct gs_smaps_state st;
	struct sorter s = { 0 };
	struct gs_classify_ctx cc = { 0 };
	char exe[4096] = "";
	struct gs_record rec;
	uint64_t n = 0, last_read = 0;	/* the last read applied, plus 1 */
	uint32_t gaps = 0;
	int chain = 0;			/* the mappings are known: a keyframe, then each delta */
	int ret = 0;

	gs_smaps_state_init(&st);
	while (!ret && gs_reader_next(r, &rec) == 1) {
		if (gs_reader_gaps(r) != gaps) {
			/* Records may be missing before this one: a delta applies only
			 * if its read number proves nothing of the chain was lost. */
			gaps = gs_reader_gaps(r);
			if (chain)
				chain = -1;
		}
		if (tool->progress && (++n & 0xffff) == 0)
			tool->progress(ctx, gs_reader_health(r)->good_bytes,
				       gs_reader_health(r)->file_bytes);
		switch (rec.type) {
		case GS_REC_TARGET:
			snprintf(exe, sizeof(exe), "%s", rec.u.target.exe_path);
			cc.exe_path = exe;
			cc.exe_dev_major = major(rec.u.target.exe_dev);
			cc.exe_dev_minor = minor(rec.u.target.exe_dev);
			cc.exe_inode = rec.u.target.exe_inode;
			cc.is_go = !!(rec.u.target.flags & GS_TARGET_GO);
			if (tool->target)
				ret = tool->target(ctx, &rec.u.target);
			break;
		case GS_REC_CLOCK:
			if (tool->clock)
				ret = tool->clock(ctx, &rec.u.clock);
			break;
		case GS_REC_SMAPS_KEY:
		case GS_REC_SMAPS_DELTA: {
			uint32_t first_new = rec.type == GS_REC_SMAPS_KEY ? 0 : st.n;
			uint64_t seq = rec.u.smaps.read_plus_1;
			int fits = rec.type == GS_REC_SMAPS_KEY ||
				   (chain && (seq && last_read ? seq == last_read + 1 : chain == 1));

			if (!fits || gs_smaps_state_apply(&st, &rec) < 0) {
				chain = 0;	/* unknown until the next keyframe */
				s.valid = 0;
				if (tool->smaps_lost)
					ret = tool->smaps_lost(ctx, rec.u.smaps.t_ns);
				break;
			}
			chain = 1;
			last_read = seq;
			ret = view(&st, &s, &cc, &rec, first_new, tool, ctx);
			break;
		}
		case GS_REC_SMAPS_ROLLUP:
			if (tool->rollup)
				ret = tool->rollup(ctx, &rec.u.rollup);
			break;
		case GS_REC_STATM:
			if (tool->statm)
				ret = tool->statm(ctx, &rec.u.statm);
			break;
		case GS_REC_CGROUP:
			if (tool->cgroup)
				ret = tool->cgroup(ctx, &rec.u.cgroup);
			break;
		case GS_REC_LOST:
			if (tool->lost)
				ret = tool->lost(ctx, &rec.u.lost);
			break;
		case GS_REC_MESSAGE:
			if (tool->message)
				ret = tool->message(ctx, &rec.u.message);
			break;
		case GS_REC_EXIT:
			if (tool->exit)
				ret = tool->exit(ctx, &rec.u.exit);
			break;
		case GS_REC_END:
			if (tool->end)
				ret = tool->end(ctx, &rec.u.end);
			break;
		case GS_REC_OBJECT:
			if (tool->object)
				ret = tool->object(ctx, &rec.u.object);
			break;
		case GS_REC_OBJECT_TABLE:
			if (tool->table)
				ret = tool->table(ctx, &rec.u.table);
			break;
		case GS_REC_GO_LAYOUT:
			if (tool->layout)
				ret = tool->layout(ctx, &rec.u.layout);
			break;
		case GS_REC_STACK:
			if (tool->stack)
				ret = tool->stack(ctx, &rec.u.stack);
			break;
		case GS_REC_CPU_SAMPLE:
			if (tool->cpu)
				ret = tool->cpu(ctx, &rec.u.cpu);
			break;
		case GS_REC_FAULT:
			if (tool->fault)
				ret = tool->fault(ctx, &rec.u.fault);
			break;
		case GS_REC_RELEASE:
			if (tool->release)
				ret = tool->release(ctx, &rec.u.release);
			break;
		case GS_REC_GO_CREATE:
			if (tool->go_create)
				ret = tool->go_create(ctx, &rec.u.go_create);
			break;
		case GS_REC_GO_EXIT:
			if (tool->go_exit)
				ret = tool->go_exit(ctx, &rec.u.go_exit);
			break;
		case GS_REC_GO_STACK:
			if (tool->go_stack)
				ret = tool->go_stack(ctx, &rec.u.go_stack);
			break;
		case GS_REC_GC_EVENT:
			if (tool->gc_event)
				ret = tool->gc_event(ctx, &rec.u.gc_event);
			break;
		case GS_REC_GC_CYCLE:
			if (tool->gc_cycle)
				ret = tool->gc_cycle(ctx, &rec.u.gc_cycle);
			break;
		case GS_REC_CENSUS:
			if (tool->census)
				ret = tool->census(ctx, &rec.u.census);
			break;
		case GS_REC_GO_HEAP:
			if (tool->go_heap)
				ret = tool->go_heap(ctx, &rec.u.go_heap);
			break;
		case GS_REC_GO_PAUSE:
			if (tool->go_pause)
				ret = tool->go_pause(ctx, &rec.u.go_pause);
			break;
		case GS_REC_GO_CHECK:
			if (tool->go_check)
				ret = tool->go_check(ctx, &rec.u.go_check);
			break;
		case GS_REC_HEAP_BUCKET:
			if (tool->heap_bucket)
				ret = tool->heap_bucket(ctx, &rec.u.heap_bucket);
			break;
		case GS_REC_HEAP_PROFILE:
			if (tool->heap_profile)
				ret = tool->heap_profile(ctx, &rec.u.heap_profile);
			break;
		default:
			break;	/* a newer record type: skipped, counted by the reader */
		}
	}
	gs_smaps_state_free(&st);
	free(s.m);
	free(s.id);
	free(s.cls);
	return ret;
}

/*
 * records.c - record bodies: encoding and decoding of every record type
 * (FORMAT.md §6), plus the small buffer, arena and CRC helpers they use.
 *
 * Decoding treats input as hostile: every count is checked against the bytes
 * that remain before anything is allocated, and a body may be longer than
 * what this version knows (a later minor version appends fields), never
 * shorter.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec.h"

static const char *const rtype_names[GS_REC_MAX_KNOWN + 1] = {
	[GS_REC_TARGET] = "target",
	[GS_REC_CLOCK] = "clock",
	[GS_REC_SMAPS_KEY] = "smaps_key",
	[GS_REC_SMAPS_DELTA] = "smaps_delta",
	[GS_REC_SMAPS_ROLLUP] = "smaps_rollup",
	[GS_REC_STATM] = "statm",
	[GS_REC_CGROUP] = "cgroup",
	[GS_REC_LOST] = "lost",
	[GS_REC_MESSAGE] = "message",
	[GS_REC_EXIT] = "exit",
	[GS_REC_END] = "end",
	[GS_REC_OBJECT] = "object",
	[GS_REC_OBJECT_TABLE] = "object_table",
	[GS_REC_GO_LAYOUT] = "go_layout",
	[GS_REC_STACK] = "stack",
	[GS_REC_CPU_SAMPLE] = "cpu_sample",
	[GS_REC_FAULT] = "fault",
	[GS_REC_RELEASE] = "release",
	[GS_REC_GO_CREATE] = "go_create",
	[GS_REC_GO_EXIT] = "go_exit",
	[GS_REC_GO_STACK] = "go_stack",
	[GS_REC_GC_EVENT] = "gc_event",
	[GS_REC_GC_CYCLE] = "gc_cycle",
	[GS_REC_CENSUS] = "census",
	[GS_REC_GO_HEAP] = "go_heap",
	[GS_REC_GO_PAUSE] = "go_pause",
	[GS_REC_GO_CHECK] = "go_check",
	[GS_REC_HEAP_BUCKET] = "heap_bucket", [GS_REC_HEAP_PROFILE] = "heap_profile",
};

const char *gs_rtype_name(unsigned type)
{
	return type <= GS_REC_MAX_KNOWN ? rtype_names[type] : NULL;
}

static const char *const field_names[GS_SM_NFIELDS] = {
	"Rss", "Pss", "Pss_Anon", "Pss_File", "Pss_Shmem", "Shared_Clean",
	"Shared_Dirty", "Private_Clean", "Private_Dirty", "Referenced",
	"Anonymous", "LazyFree", "AnonHugePages", "ShmemPmdMapped",
	"FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss",
	"Locked", "Pss_Dirty", "KSM",
};

const char *gs_smaps_field_name(int field)
{
	return field >= 0 && field < GS_SM_NFIELDS ? field_names[field] : NULL;
}

int gs_smaps_field_index(const char *name, size_t len)
{
	for (int i = 0; i < GS_SM_NFIELDS; i++)
		if (strlen(field_names[i]) == len && !memcmp(field_names[i], name, len))
			return i;
	return -1;
}

const char *gs_stream_name(unsigned stream)
{
	switch (stream) {
	case GS_STREAM_STATM: return "statm";
	case GS_STREAM_SMAPS: return "smaps";
	case GS_STREAM_CGROUP: return "cgroup";
	case GS_STREAM_CPU: return "cpu";
	case GS_STREAM_MEM: return "faults";
	case GS_STREAM_GO: return "goroutines";
	}
	return NULL;
}

int gs_mapping_same_identity(const struct gs_mapping *a,
			     const struct gs_mapping *b)
{
	return a->start == b->start && a->end == b->end &&
	       a->offset == b->offset && a->inode == b->inode &&
	       a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
	       a->perms == b->perms && a->kernel_page_kb == b->kernel_page_kb &&
	       a->mmu_page_kb == b->mmu_page_kb &&
	       a->thp_eligible == b->thp_eligible && a->present == b->present &&
	       !strcmp(a->path, b->path) && !strcmp(a->vmflags, b->vmflags);
}

uint32_t gs_crc32(uint32_t crc, const void *p, size_t n)
{
	return (uint32_t)crc32(crc, p, (uInt)n);
}

/* ---- buffer ---- */

int gs_buf_reserve(struct gs_buf *b, size_t more)
{
	if (b->oom)
		return -1;
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;

	while (cap < b->len + more)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);

	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void gs_buf_free(struct gs_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void gs_buf_uv(struct gs_buf *b, uint64_t v) { gs_put_uv(b, v); }
void gs_buf_bytes(struct gs_buf *b, const void *p, size_t n) { gs_put_bytes(b, p, n); }
void gs_buf_release(struct gs_buf *b) { gs_buf_free(b); }

/* ---- arena: a list of blocks, reset between records ---- */

struct gs_block {
	struct gs_block *next;
	size_t used, size;
	max_align_t data[];
};

struct gs_arena {
	struct gs_block *head;
};

struct gs_arena *gs_arena_new(void)
{
	return calloc(1, sizeof(struct gs_arena));
}

void *gs_arena_alloc(struct gs_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct gs_block *b = a->head;

	if (!b || b->size - b->used < n) {
		size_t size = n > 65536 ? n : 65536;

		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->used = 0;
		b->size = size;
		b->next = a->head;
		a->head = b;
	}
	void *p = (char *)b->data + b->used;

	b->used += n;
	return p;
}

char *gs_arena_strndup(struct gs_arena *a, const void *p, size_t n)
{
	char *s = gs_arena_alloc(a, n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

/* Keep one block (the newest, usually the largest) to avoid churn. */
void gs_arena_reset(struct gs_arena *a)
{
	if (!a->head)
		return;
	struct gs_block *b = a->head->next;

	while (b) {
		struct gs_block *next = b->next;

		free(b);
		b = next;
	}
	a->head->next = NULL;
	a->head->used = 0;
}

void gs_arena_free(struct gs_arena *a)
{
	if (!a)
		return;
	gs_arena_reset(a);
	free(a->head);
	free(a);
}

/* ---- encoding ---- */

static void put_values(struct gs_buf *b, uint64_t mask, const uint64_t *v)
{
	gs_put_uv(b, mask);
	for (int i = 0; i < GS_SM_NFIELDS; i++)
		if (mask & (1ull << i))
			gs_put_uv(b, v[i]);
}

static void put_mapping(struct gs_buf *b, const struct gs_mapping *m)
{
	gs_put_uv(b, m->start);
	gs_put_uv(b, m->end - m->start);
	gs_put_uv(b, m->offset);
	gs_put_uv(b, m->dev_major);
	gs_put_uv(b, m->dev_minor);
	gs_put_uv(b, m->inode);
	gs_put_uv(b, m->perms);
	gs_put_uv(b, m->kernel_page_kb);
	gs_put_uv(b, m->mmu_page_kb);
	gs_put_uv(b, (uint64_t)(m->thp_eligible + 1));
	gs_put_str(b, m->path);
	gs_put_str(b, m->vmflags);
	put_values(b, m->present, m->v);
}

/* An "optional" u64 stores UINT64_MAX as 0 and anything else as v+1. */
static void put_id(struct gs_buf *b, int64_t id)
{
	gs_put_uv(b, id < 0 ? 0 : (uint64_t)id + 1);
}

static void put_opt(struct gs_buf *b, uint64_t v)
{
	gs_put_uv(b, v == UINT64_MAX ? 0 : v + 1);
}

int gs_encode_body(struct gs_buf *b, const struct gs_record *rec)
{
	const struct gs_rec_smaps *s = &rec->u.smaps;

	switch (rec->type) {
	case GS_REC_TARGET: {
		const struct gs_rec_target *t = &rec->u.target;

		gs_put_uv(b, t->pid);
		gs_put_uv(b, t->flags);
		gs_put_uv(b, t->page_size);
		gs_put_uv(b, t->clk_tck);
		gs_put_uv(b, t->start_ticks);
		gs_put_uv(b, t->exe_dev);
		gs_put_uv(b, t->exe_inode);
		gs_put_str(b, t->exe_path);
		gs_put_blob(b, t->build_id, t->build_id_len);
		gs_put_str(b, t->go_build_id);
		gs_put_str(b, t->go_version);
		gs_put_str(b, t->go_module);
		gs_put_str(b, t->comm);
		gs_put_str(b, t->host);
		gs_put_str(b, t->kernel);
		gs_put_str(b, t->machine);
		gs_put_uv(b, t->argc);
		for (uint32_t i = 0; i < t->argc; i++)
			gs_put_str(b, t->argv[i]);
		break;
	}
	case GS_REC_CLOCK:
		gs_put_uv(b, rec->u.clock.mono_ns);
		gs_put_uv(b, rec->u.clock.real_ns);
		gs_put_uv(b, rec->u.clock.boot_ns);
		break;
	case GS_REC_SMAPS_KEY:
		gs_put_uv(b, s->t_ns);
		gs_put_uv(b, s->wall_ns);
		gs_put_uv(b, s->cpu_ns);
		gs_put_uv(b, s->nadded);
		for (uint32_t i = 0; i < s->nadded; i++)
			put_mapping(b, &s->added[i]);
		if (s->read_plus_1)	/* appended in 1.1 */
			gs_put_uv(b, s->read_plus_1 - 1);
		break;
	case GS_REC_SMAPS_DELTA:
		gs_put_uv(b, s->t_ns);
		gs_put_uv(b, s->wall_ns);
		gs_put_uv(b, s->cpu_ns);
		gs_put_uv(b, s->nremoved);
		for (uint32_t i = 0; i < s->nremoved; i++)
			gs_put_uv(b, s->removed[i]);
		gs_put_uv(b, s->nadded);
		for (uint32_t i = 0; i < s->nadded; i++)
			put_mapping(b, &s->added[i]);
		gs_put_uv(b, s->nupdated);
		for (uint32_t i = 0; i < s->nupdated; i++) {
			gs_put_uv(b, s->updated[i].id);
			put_values(b, s->updated[i].mask, s->updated[i].v);
		}
		if (s->read_plus_1)	/* appended in 1.1 */
			gs_put_uv(b, s->read_plus_1 - 1);
		break;
	case GS_REC_SMAPS_ROLLUP:
		gs_put_uv(b, rec->u.rollup.t_ns);
		gs_put_uv(b, rec->u.rollup.wall_ns);
		gs_put_uv(b, rec->u.rollup.cpu_ns);
		put_values(b, rec->u.rollup.mask, rec->u.rollup.v);
		break;
	case GS_REC_STATM: {
		const struct gs_rec_statm *m = &rec->u.statm;

		gs_put_uv(b, m->t_ns);
		gs_put_uv(b, m->size);
		gs_put_uv(b, m->resident);
		gs_put_uv(b, m->shared);
		gs_put_uv(b, m->text);
		gs_put_uv(b, m->data);
		break;
	}
	case GS_REC_CGROUP: {
		const struct gs_rec_cgroup *c = &rec->u.cgroup;

		gs_put_uv(b, c->t_ns);
		gs_put_uv(b, c->version);
		gs_put_str(b, c->path);
		gs_put_uv(b, c->usage);
		put_opt(b, c->limit);
		put_opt(b, c->swap);
		gs_put_uv(b, c->ncounters);
		for (uint32_t i = 0; i < c->ncounters; i++) {
			gs_put_str(b, c->counters[i].name);
			gs_put_uv(b, c->counters[i].value);
		}
		break;
	}
	case GS_REC_LOST:
		gs_put_uv(b, rec->u.lost.t_ns);
		gs_put_uv(b, rec->u.lost.stream);
		gs_put_uv(b, rec->u.lost.count);
		break;
	case GS_REC_MESSAGE:
		gs_put_uv(b, rec->u.message.t_ns);
		gs_put_uv(b, rec->u.message.level);
		gs_put_str(b, rec->u.message.text);
		break;
	case GS_REC_EXIT:
		gs_put_uv(b, rec->u.exit.t_ns);
		gs_put_uv(b, rec->u.exit.kind);
		gs_put_uv(b, rec->u.exit.status);
		gs_put_uv(b, rec->u.exit.core_dumped);
		break;
	case GS_REC_END: {
		const struct gs_rec_end *e = &rec->u.end;

		gs_put_uv(b, e->t_ns);
		gs_put_uv(b, e->reason);
		gs_put_uv(b, e->statm_samples);
		gs_put_uv(b, e->smaps_reads);
		gs_put_uv(b, e->rollup_reads);
		gs_put_uv(b, e->cgroup_samples);
		gs_put_uv(b, e->lost);
		gs_put_uv(b, e->cpu_user_ns);
		gs_put_uv(b, e->cpu_sys_ns);
		gs_put_uv(b, e->max_rss_kb);
		gs_put_uv(b, e->records);
		gs_put_uv(b, e->raw_bytes);
		gs_put_uv(b, e->objects_cpu_ns);
		break;
	}
	case GS_REC_OBJECT: {
		const struct gs_rec_object *o = &rec->u.object;

		gs_put_uv(b, o->id);
		gs_put_uv(b, o->flags);
		gs_put_str(b, o->path);
		gs_put_uv(b, o->dev);
		gs_put_uv(b, o->inode);
		gs_put_blob(b, o->build_id, o->build_id_len);
		gs_put_str(b, o->go_build_id);
		gs_put_str(b, o->go_version);
		gs_put_uv(b, o->nseg);
		for (uint32_t i = 0; i < o->nseg; i++) {
			gs_put_uv(b, o->seg[i].offset);
			gs_put_uv(b, o->seg[i].vaddr);
			gs_put_uv(b, o->seg[i].filesz);
			gs_put_uv(b, o->seg[i].memsz);
			gs_put_uv(b, o->seg[i].flags);
		}
		break;
	}
	case GS_REC_OBJECT_TABLE: {
		const struct gs_rec_object_table *t = &rec->u.table;

		gs_put_uv(b, t->object);
		gs_put_uv(b, t->kind);
		gs_put_uv(b, t->total);
		gs_put_uv(b, t->offset);
		gs_put_blob(b, t->data, t->len);
		break;
	}
	case GS_REC_STACK: {
		const struct gs_rec_stack *st = &rec->u.stack;
		uint64_t prev = 0;

		gs_put_uv(b, st->id);
		gs_put_uv(b, st->n);
		/* zig-zag deltas: frames of one stack are near each other */
		for (uint32_t i = 0; i < st->n; i++) {
			int64_t d = (int64_t)(st->pc[i] - prev);

			gs_put_uv(b, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
			prev = st->pc[i];
		}
		break;
	}
	case GS_REC_FAULT:
		gs_put_uv(b, rec->u.fault.t_ns);
		gs_put_uv(b, rec->u.fault.tid);
		gs_put_uv(b, rec->u.fault.goid < 0 ? 0 : (uint64_t)rec->u.fault.goid + 1);
		gs_put_uv(b, rec->u.fault.stack);
		gs_put_uv(b, rec->u.fault.addr);
		gs_put_uv(b, rec->u.fault.major);
		gs_put_uv(b, rec->u.fault.sp_word);
		break;
	case GS_REC_RELEASE:
		gs_put_uv(b, rec->u.release.t_ns);
		gs_put_uv(b, rec->u.release.tid);
		gs_put_uv(b, rec->u.release.kind);
		gs_put_uv(b, rec->u.release.addr);
		gs_put_uv(b, rec->u.release.len);
		gs_put_uv(b, rec->u.release.arg);
		break;
	case GS_REC_GO_CREATE: {
		const struct gs_rec_go_create *g = &rec->u.go_create;

		gs_put_uv(b, g->t_ns);
		gs_put_uv(b, g->tid);
		gs_put_uv(b, g->g);
		put_id(b, g->parent);
		gs_put_uv(b, g->gopc);
		gs_put_uv(b, g->startpc);
		gs_put_uv(b, g->stack);
		break;
	}
	case GS_REC_GO_EXIT: {
		const struct gs_rec_go_exit *g = &rec->u.go_exit;

		gs_put_uv(b, g->t_ns);
		gs_put_uv(b, g->tid);
		gs_put_uv(b, g->g);
		put_id(b, g->goid);
		gs_put_uv(b, g->gopc);
		gs_put_uv(b, g->startpc);
		break;
	}
	case GS_REC_GO_STACK: {
		const struct gs_rec_go_stack *g = &rec->u.go_stack;

		gs_put_uv(b, g->t_ns);
		gs_put_uv(b, g->tid);
		gs_put_uv(b, g->g);
		put_id(b, g->goid);
		gs_put_uv(b, g->old_size);
		gs_put_uv(b, g->new_size);
		gs_put_uv(b, g->stack);
		gs_put_uv(b, g->sp_word);
		break;
	}
	case GS_REC_GO_HEAP:
		gs_put_uv(b, rec->u.go_heap.t_ns);
		gs_put_uv(b, rec->u.go_heap.numgc);
		put_opt(b, rec->u.go_heap.heap_live);
		put_opt(b, rec->u.go_heap.heap_inuse);
		put_opt(b, rec->u.go_heap.heap_released);
		break;
	case GS_REC_GO_PAUSE:
		gs_put_uv(b, rec->u.go_pause.t_ns);
		gs_put_uv(b, rec->u.go_pause.end_ns);
		gs_put_uv(b, rec->u.go_pause.refused);
		break;
	case GS_REC_GC_EVENT:
		gs_put_uv(b, rec->u.gc_event.t_ns);
		gs_put_uv(b, rec->u.gc_event.tid);
		gs_put_uv(b, rec->u.gc_event.kind);
		break;
	case GS_REC_GC_CYCLE: {
		const struct gs_rec_gc_cycle *g = &rec->u.gc_cycle;

		gs_put_uv(b, g->t_ns);
		gs_put_uv(b, g->numgc);
		gs_put_uv(b, g->flags);
		gs_put_uv(b, g->last_gc_unix_ns);
		gs_put_uv(b, g->pause_ns);
		gs_put_uv(b, g->pause_total_ns);
		put_opt(b, g->heap_live);
		put_opt(b, g->heap_marked);
		put_opt(b, g->heap_inuse);
		put_opt(b, g->heap_released);
		break;
	}
	case GS_REC_CENSUS: {
		const struct gs_rec_census *c = &rec->u.census;

		gs_put_uv(b, c->t_ns);
		gs_put_uv(b, c->wall_ns);
		gs_put_uv(b, c->cpu_ns);
		gs_put_uv(b, c->allglen);
		gs_put_uv(b, GS_G_NSTATUS);
		for (int i = 0; i < GS_G_NSTATUS; i++)
			gs_put_uv(b, c->status[i]);
		gs_put_uv(b, c->stack_bytes);
		gs_put_uv(b, c->nsites);
		for (uint32_t i = 0; i < c->nsites; i++) {
			gs_put_uv(b, c->sites[i].gopc);
			gs_put_uv(b, c->sites[i].startpc);
			gs_put_uv(b, c->sites[i].count);
			gs_put_uv(b, c->sites[i].stack_bytes);
		}
		gs_put_uv(b, c->ntop);
		for (uint32_t i = 0; i < c->ntop; i++) {
			const struct gs_census_g *t = &c->top[i];

			gs_put_uv(b, t->g);
			put_id(b, t->goid);
			gs_put_uv(b, t->status);
			gs_put_uv(b, t->stack == GS_NO_STACK ? 0 : (uint64_t)t->stack + 1);
			gs_put_uv(b, t->stack_size);
			gs_put_uv(b, t->gopc);
			gs_put_uv(b, t->startpc);
			gs_put_uv(b, t->sp_word);
		}
		break;
	}
	case GS_REC_CPU_SAMPLE:
		gs_put_uv(b, rec->u.cpu.t_ns);
		gs_put_uv(b, rec->u.cpu.tid);
		gs_put_uv(b, rec->u.cpu.goid < 0 ? 0 : (uint64_t)rec->u.cpu.goid + 1);
		gs_put_uv(b, rec->u.cpu.stack);
		gs_put_uv(b, rec->u.cpu.sp_word);
		break;
	case GS_REC_GO_LAYOUT: {
		const struct gs_rec_go_layout *l = &rec->u.layout;

		gs_put_uv(b, l->object);
		gs_put_uv(b, l->n);
		for (uint32_t i = 0; i < l->n; i++) {
			gs_put_str(b, l->e[i].name);
			gs_put_uv(b, l->e[i].value < 0 ? 0 : (uint64_t)l->e[i].value + 1);
			gs_put_uv(b, l->e[i].source);
		}
		break;
	}
	case GS_REC_GO_CHECK: {
		const struct gs_rec_go_check *k = &rec->u.go_check;

		gs_put_uv(b, k->object);
		gs_put_uv(b, k->n);
		for (uint32_t i = 0; i < k->n; i++) {
			gs_put_str(b, k->e[i].name);
			gs_put_uv(b, k->e[i].verdict);
			gs_put_str(b, k->e[i].how ? k->e[i].how : "");
		}
		break;
	}
	case GS_REC_HEAP_BUCKET:
		gs_put_uv(b, rec->u.heap_bucket.id);
		gs_put_uv(b, rec->u.heap_bucket.stack);
		gs_put_uv(b, rec->u.heap_bucket.size);
		gs_put_uv(b, rec->u.heap_bucket.addr);
		break;
	case GS_REC_HEAP_PROFILE: {
		const struct gs_rec_heap_profile *h = &rec->u.heap_profile;
		uint32_t prev = 0;

		gs_put_uv(b, h->t_ns);
		gs_put_uv(b, h->seq);
		gs_put_uv(b, h->cycle);
		gs_put_uv(b, h->flags);
		gs_put_uv(b, h->rate);
		gs_put_uv(b, h->skipped);
		gs_put_uv(b, h->cpu_ns);
		gs_put_uv(b, h->n);
		for (uint32_t i = 0; i < h->n; i++) {
			if (h->c[i].bucket <= prev)
				return -1;	/* ascending, from 1 */
			gs_put_uv(b, h->c[i].bucket - prev);
			gs_put_uv(b, h->c[i].allocs);
			gs_put_uv(b, h->c[i].frees);
			prev = h->c[i].bucket;
		}
		break;
	}
	default:
		return -1;
	}
	return b->oom ? -1 : 0;
}

/* ---- decoding ---- */

static const char *get_str(struct gs_cur *c, struct gs_arena *a)
{
	uint32_t n;
	const uint8_t *p = gs_get_blob(c, &n);

	if (c->bad)
		return "";
	char *s = gs_arena_strndup(a, p, n);

	if (!s) {
		c->bad = 1;
		return "";
	}
	return s;
}

/* A goroutine id, -1 for unknown: stored + 1. */
static int64_t get_id(struct gs_cur *c)
{
	uint64_t v = gs_get_uv(c);

	if (v > (uint64_t)INT64_MAX)
		c->bad = 1;
	return v && v <= (uint64_t)INT64_MAX ? (int64_t)(v - 1) : -1;
}

/* A uv field appended by a later minor version: value + 1, or 0 if absent. */
static uint64_t get_tail_uv(struct gs_cur *c)
{
	if (c->bad || c->p >= c->end)
		return 0;
	return gs_get_uv(c) + 1;
}

static uint64_t get_opt(struct gs_cur *c)
{
	uint64_t v = gs_get_uv(c);

	return v == 0 ? UINT64_MAX : v - 1;
}

/* Values for known bits land in v; a later version's extra bits are skipped. */
static uint32_t get_values(struct gs_cur *c, uint64_t *v)
{
	uint64_t mask = gs_get_uv(c);

	for (int i = 0; i < 64 && !c->bad; i++) {
		if (!(mask & (1ull << i)))
			continue;
		uint64_t x = gs_get_uv(c);

		if (i < GS_SM_NFIELDS)
			v[i] = x;
	}
	return (uint32_t)(mask & ((1ull << GS_SM_NFIELDS) - 1));
}

static void get_mapping(struct gs_cur *c, struct gs_mapping *m,
			struct gs_arena *a)
{
	memset(m, 0, sizeof(*m));
	m->start = gs_get_uv(c);
	uint64_t len = gs_get_uv(c);

	if (len > UINT64_MAX - m->start)
		c->bad = 1;
	m->end = m->start + len;
	m->offset = gs_get_uv(c);
	m->dev_major = gs_get_u32(c);
	m->dev_minor = gs_get_u32(c);
	m->inode = gs_get_uv(c);
	m->perms = gs_get_u32(c);
	m->kernel_page_kb = gs_get_u32(c);
	m->mmu_page_kb = gs_get_u32(c);
	uint32_t thp = gs_get_u32(c);

	if (thp > 2)
		c->bad = 1;
	m->thp_eligible = (int32_t)thp - 1;
	m->path = get_str(c, a);
	m->vmflags = get_str(c, a);
	m->present = get_values(c, m->v);
}

/*
 * An array of n elements of elem bytes, where each element takes at least
 * min_wire bytes of input: refuse counts the input cannot hold, so a corrupt
 * count cannot make us allocate gigabytes.
 */
static void *get_array(struct gs_cur *c, struct gs_arena *a, uint64_t n,
		       size_t elem, size_t min_wire)
{
	if (c->bad || n > (uint64_t)(c->end - c->p) / min_wire) {
		c->bad = 1;
		return NULL;
	}
	if (n == 0)
		return NULL;
	void *p = gs_arena_alloc(a, n * elem);

	if (!p)
		c->bad = 1;
	return p;
}

/* Smallest mapping: 10 one-byte varints, 2 empty strings, a zero mask. */
#define MAPPING_MIN_WIRE	13

static void get_mappings(struct gs_cur *c, struct gs_arena *a,
			 struct gs_rec_smaps *s)
{
	uint64_t n = gs_get_uv(c);
	struct gs_mapping *m = get_array(c, a, n, sizeof(*m), MAPPING_MIN_WIRE);

	for (uint64_t i = 0; i < n && !c->bad; i++)
		get_mapping(c, &m[i], a);
	s->nadded = (uint32_t)n;
	s->added = m;
}

int gs_decode_body(unsigned type, const uint8_t *p, size_t len,
		   struct gs_record *rec, struct gs_arena *a)
{
	struct gs_cur c = { p, p + len, 0 };
	struct gs_rec_smaps *s = &rec->u.smaps;

	memset(rec, 0, sizeof(*rec));
	rec->type = type;
	rec->raw = p;
	rec->raw_len = (uint32_t)len;
	switch (type) {
	case GS_REC_TARGET: {
		struct gs_rec_target *t = &rec->u.target;

		t->pid = gs_get_u32(&c);
		t->flags = gs_get_u32(&c);
		t->page_size = gs_get_u32(&c);
		t->clk_tck = gs_get_u32(&c);
		t->start_ticks = gs_get_uv(&c);
		t->exe_dev = gs_get_uv(&c);
		t->exe_inode = gs_get_uv(&c);
		t->exe_path = get_str(&c, a);
		t->build_id = gs_get_blob(&c, &t->build_id_len);
		t->go_build_id = get_str(&c, a);
		t->go_version = get_str(&c, a);
		t->go_module = get_str(&c, a);
		t->comm = get_str(&c, a);
		t->host = get_str(&c, a);
		t->kernel = get_str(&c, a);
		t->machine = get_str(&c, a);
		uint64_t argc = gs_get_uv(&c);
		const char **argv = get_array(&c, a, argc, sizeof(char *), 1);

		for (uint64_t i = 0; i < argc && !c.bad; i++)
			argv[i] = get_str(&c, a);
		t->argc = (uint32_t)argc;
		t->argv = argv;
		break;
	}
	case GS_REC_CLOCK:
		rec->u.clock.mono_ns = gs_get_uv(&c);
		rec->u.clock.real_ns = gs_get_uv(&c);
		rec->u.clock.boot_ns = gs_get_uv(&c);
		break;
	case GS_REC_SMAPS_KEY:
		s->t_ns = gs_get_uv(&c);
		s->wall_ns = gs_get_uv(&c);
		s->cpu_ns = gs_get_uv(&c);
		get_mappings(&c, a, s);
		s->read_plus_1 = get_tail_uv(&c);
		break;
	case GS_REC_SMAPS_DELTA: {
		s->t_ns = gs_get_uv(&c);
		s->wall_ns = gs_get_uv(&c);
		s->cpu_ns = gs_get_uv(&c);
		uint64_t n = gs_get_uv(&c);
		uint32_t *ids = get_array(&c, a, n, sizeof(uint32_t), 1);

		for (uint64_t i = 0; i < n && !c.bad; i++)
			ids[i] = gs_get_u32(&c);
		s->nremoved = (uint32_t)n;
		s->removed = ids;
		get_mappings(&c, a, s);
		n = gs_get_uv(&c);
		struct gs_smaps_update *u = get_array(&c, a, n, sizeof(*u), 2);

		for (uint64_t i = 0; i < n && !c.bad; i++) {
			u[i].id = gs_get_u32(&c);
			u[i].mask = get_values(&c, u[i].v);
		}
		s->nupdated = (uint32_t)n;
		s->updated = u;
		s->read_plus_1 = get_tail_uv(&c);
		break;
	}
	case GS_REC_SMAPS_ROLLUP:
		rec->u.rollup.t_ns = gs_get_uv(&c);
		rec->u.rollup.wall_ns = gs_get_uv(&c);
		rec->u.rollup.cpu_ns = gs_get_uv(&c);
		rec->u.rollup.mask = get_values(&c, rec->u.rollup.v);
		break;
	case GS_REC_STATM: {
		struct gs_rec_statm *m = &rec->u.statm;

		m->t_ns = gs_get_uv(&c);
		m->size = gs_get_uv(&c);
		m->resident = gs_get_uv(&c);
		m->shared = gs_get_uv(&c);
		m->text = gs_get_uv(&c);
		m->data = gs_get_uv(&c);
		break;
	}
	case GS_REC_CGROUP: {
		struct gs_rec_cgroup *cg = &rec->u.cgroup;

		cg->t_ns = gs_get_uv(&c);
		cg->version = gs_get_u32(&c);
		cg->path = get_str(&c, a);
		cg->usage = gs_get_uv(&c);
		cg->limit = get_opt(&c);
		cg->swap = get_opt(&c);
		uint64_t n = gs_get_uv(&c);
		struct gs_counter *k = get_array(&c, a, n, sizeof(*k), 2);

		for (uint64_t i = 0; i < n && !c.bad; i++) {
			k[i].name = get_str(&c, a);
			k[i].value = gs_get_uv(&c);
		}
		cg->ncounters = (uint32_t)n;
		cg->counters = k;
		break;
	}
	case GS_REC_LOST:
		rec->u.lost.t_ns = gs_get_uv(&c);
		rec->u.lost.stream = gs_get_u32(&c);
		rec->u.lost.count = gs_get_uv(&c);
		break;
	case GS_REC_MESSAGE:
		rec->u.message.t_ns = gs_get_uv(&c);
		rec->u.message.level = gs_get_u32(&c);
		rec->u.message.text = get_str(&c, a);
		break;
	case GS_REC_EXIT:
		rec->u.exit.t_ns = gs_get_uv(&c);
		rec->u.exit.kind = gs_get_u32(&c);
		rec->u.exit.status = gs_get_u32(&c);
		rec->u.exit.core_dumped = gs_get_u32(&c);
		break;
	case GS_REC_END: {
		struct gs_rec_end *e = &rec->u.end;

		e->t_ns = gs_get_uv(&c);
		e->reason = gs_get_u32(&c);
		e->statm_samples = gs_get_uv(&c);
		e->smaps_reads = gs_get_uv(&c);
		e->rollup_reads = gs_get_uv(&c);
		e->cgroup_samples = gs_get_uv(&c);
		e->lost = gs_get_uv(&c);
		e->cpu_user_ns = gs_get_uv(&c);
		e->cpu_sys_ns = gs_get_uv(&c);
		e->max_rss_kb = gs_get_uv(&c);
		e->records = gs_get_uv(&c);
		e->raw_bytes = gs_get_uv(&c);
		/* appended in 1.0 development: absent from the earliest traces */
		e->objects_cpu_ns = c.p < c.end ? gs_get_uv(&c) : 0;
		break;
	}
	case GS_REC_OBJECT: {
		struct gs_rec_object *o = &rec->u.object;

		o->id = gs_get_u32(&c);
		o->flags = gs_get_u32(&c);
		o->path = get_str(&c, a);
		o->dev = gs_get_uv(&c);
		o->inode = gs_get_uv(&c);
		o->build_id = gs_get_blob(&c, &o->build_id_len);
		o->go_build_id = get_str(&c, a);
		o->go_version = get_str(&c, a);
		uint64_t n = gs_get_uv(&c);
		struct gs_segment *sg = get_array(&c, a, n, sizeof(*sg), 5);

		for (uint64_t i = 0; i < n && !c.bad; i++) {
			sg[i].offset = gs_get_uv(&c);
			sg[i].vaddr = gs_get_uv(&c);
			sg[i].filesz = gs_get_uv(&c);
			sg[i].memsz = gs_get_uv(&c);
			sg[i].flags = gs_get_u32(&c);
		}
		o->nseg = (uint32_t)n;
		o->seg = sg;
		break;
	}
	case GS_REC_OBJECT_TABLE: {
		struct gs_rec_object_table *t = &rec->u.table;

		t->object = gs_get_u32(&c);
		t->kind = gs_get_u32(&c);
		t->total = gs_get_uv(&c);
		t->offset = gs_get_uv(&c);
		t->data = gs_get_blob(&c, &t->len);
		if (!c.bad && (t->offset > t->total || t->len > t->total - t->offset))
			c.bad = 1;
		break;
	}
	case GS_REC_STACK: {
		struct gs_rec_stack *st = &rec->u.stack;
		uint64_t n, prev = 0;

		st->id = gs_get_u32(&c);
		n = gs_get_uv(&c);
		uint64_t *pc = get_array(&c, a, n, sizeof(*pc), 1);

		for (uint64_t i = 0; i < n && !c.bad; i++) {
			uint64_t z = gs_get_uv(&c);

			prev += (z >> 1) ^ (uint64_t)-(int64_t)(z & 1);
			pc[i] = prev;
		}
		st->n = (uint32_t)n;
		st->pc = pc;
		break;
	}
	case GS_REC_FAULT: {
		uint64_t g;

		rec->u.fault.t_ns = gs_get_uv(&c);
		rec->u.fault.tid = gs_get_u32(&c);
		g = gs_get_uv(&c);
		rec->u.fault.goid = g && g <= (uint64_t)INT64_MAX ? (int64_t)(g - 1) : -1;
		rec->u.fault.stack = gs_get_u32(&c);
		rec->u.fault.addr = gs_get_uv(&c);
		rec->u.fault.major = gs_get_u32(&c);
		rec->u.fault.sp_word = c.p < c.end ? gs_get_uv(&c) : 0;
		break;
	}
	case GS_REC_RELEASE:
		rec->u.release.t_ns = gs_get_uv(&c);
		rec->u.release.tid = gs_get_u32(&c);
		rec->u.release.kind = gs_get_u32(&c);
		rec->u.release.addr = gs_get_uv(&c);
		rec->u.release.len = gs_get_uv(&c);
		rec->u.release.arg = gs_get_uv(&c);
		break;
	case GS_REC_GO_CREATE: {
		struct gs_rec_go_create *g = &rec->u.go_create;

		g->t_ns = gs_get_uv(&c);
		g->tid = gs_get_u32(&c);
		g->g = gs_get_uv(&c);
		g->parent = get_id(&c);
		g->gopc = gs_get_uv(&c);
		g->startpc = gs_get_uv(&c);
		g->stack = gs_get_u32(&c);
		break;
	}
	case GS_REC_GO_EXIT: {
		struct gs_rec_go_exit *g = &rec->u.go_exit;

		g->t_ns = gs_get_uv(&c);
		g->tid = gs_get_u32(&c);
		g->g = gs_get_uv(&c);
		g->goid = get_id(&c);
		g->gopc = gs_get_uv(&c);
		g->startpc = gs_get_uv(&c);
		break;
	}
	case GS_REC_GO_STACK: {
		struct gs_rec_go_stack *g = &rec->u.go_stack;

		g->t_ns = gs_get_uv(&c);
		g->tid = gs_get_u32(&c);
		g->g = gs_get_uv(&c);
		g->goid = get_id(&c);
		g->old_size = gs_get_uv(&c);
		g->new_size = gs_get_uv(&c);
		g->stack = gs_get_u32(&c);
		g->sp_word = gs_get_uv(&c);
		break;
	}
	case GS_REC_GO_HEAP:
		rec->u.go_heap.t_ns = gs_get_uv(&c);
		rec->u.go_heap.numgc = gs_get_u32(&c);
		rec->u.go_heap.heap_live = get_opt(&c);
		rec->u.go_heap.heap_inuse = get_opt(&c);
		rec->u.go_heap.heap_released = get_opt(&c);
		break;
	case GS_REC_GO_PAUSE:
		rec->u.go_pause.t_ns = gs_get_uv(&c);
		rec->u.go_pause.end_ns = gs_get_uv(&c);
		rec->u.go_pause.refused = gs_get_uv(&c);
		break;
	case GS_REC_GC_EVENT:
		rec->u.gc_event.t_ns = gs_get_uv(&c);
		rec->u.gc_event.tid = gs_get_u32(&c);
		rec->u.gc_event.kind = gs_get_u32(&c);
		break;
	case GS_REC_GC_CYCLE: {
		struct gs_rec_gc_cycle *g = &rec->u.gc_cycle;

		g->t_ns = gs_get_uv(&c);
		g->numgc = gs_get_u32(&c);
		g->flags = gs_get_u32(&c);
		g->last_gc_unix_ns = gs_get_uv(&c);
		g->pause_ns = gs_get_uv(&c);
		g->pause_total_ns = gs_get_uv(&c);
		g->heap_live = get_opt(&c);
		g->heap_marked = get_opt(&c);
		g->heap_inuse = get_opt(&c);
		g->heap_released = get_opt(&c);
		break;
	}
	case GS_REC_CENSUS: {
		struct gs_rec_census *cs = &rec->u.census;
		uint64_t n;

		cs->t_ns = gs_get_uv(&c);
		cs->wall_ns = gs_get_uv(&c);
		cs->cpu_ns = gs_get_uv(&c);
		cs->allglen = gs_get_u32(&c);
		n = gs_get_uv(&c);
		for (uint64_t i = 0; i < n && !c.bad; i++) {
			uint32_t v = gs_get_u32(&c);

			if (i < GS_G_NSTATUS)	/* a later version may count more */
				cs->status[i] = v;
		}
		cs->stack_bytes = gs_get_uv(&c);
		n = gs_get_uv(&c);
		struct gs_census_site *st = get_array(&c, a, n, sizeof(*st), 4);

		for (uint64_t i = 0; i < n && !c.bad; i++) {
			st[i].gopc = gs_get_uv(&c);
			st[i].startpc = gs_get_uv(&c);
			st[i].count = gs_get_u32(&c);
			st[i].stack_bytes = gs_get_uv(&c);
		}
		cs->nsites = (uint32_t)n;
		cs->sites = st;
		n = gs_get_uv(&c);
		struct gs_census_g *t = get_array(&c, a, n, sizeof(*t), 8);

		for (uint64_t i = 0; i < n && !c.bad; i++) {
			uint64_t sid;

			t[i].g = gs_get_uv(&c);
			t[i].goid = get_id(&c);
			t[i].status = gs_get_u32(&c);
			sid = gs_get_uv(&c);
			if (sid > UINT32_MAX)
				c.bad = 1;
			t[i].stack = sid ? (uint32_t)(sid - 1) : GS_NO_STACK;
			t[i].stack_size = gs_get_uv(&c);
			t[i].gopc = gs_get_uv(&c);
			t[i].startpc = gs_get_uv(&c);
			t[i].sp_word = gs_get_uv(&c);
		}
		cs->ntop = (uint32_t)n;
		cs->top = t;
		break;
	}
	case GS_REC_CPU_SAMPLE: {
		uint64_t g;

		rec->u.cpu.t_ns = gs_get_uv(&c);
		rec->u.cpu.tid = gs_get_u32(&c);
		g = gs_get_uv(&c);
		rec->u.cpu.goid = g && g <= (uint64_t)INT64_MAX ? (int64_t)(g - 1) : -1;
		rec->u.cpu.stack = gs_get_u32(&c);
		rec->u.cpu.sp_word = c.p < c.end ? gs_get_uv(&c) : 0;
		break;
	}
	case GS_REC_GO_LAYOUT: {
		struct gs_rec_go_layout *l = &rec->u.layout;
		uint64_t n;

		l->object = gs_get_u32(&c);
		n = gs_get_uv(&c);
		struct gs_layout_entry *e = get_array(&c, a, n, sizeof(*e), 3);

		for (uint64_t i = 0; i < n && !c.bad; i++) {
			uint64_t v;

			e[i].name = get_str(&c, a);
			v = gs_get_uv(&c);
			if (v > (uint64_t)INT64_MAX)
				c.bad = 1;
			e[i].value = v ? (int64_t)(v - 1) : -1;
			e[i].source = gs_get_u32(&c);
		}
		l->n = (uint32_t)n;
		l->e = e;
		break;
	}
	case GS_REC_GO_CHECK: {
		struct gs_rec_go_check *k = &rec->u.go_check;
		uint64_t n;

		k->object = gs_get_u32(&c);
		n = gs_get_uv(&c);
		struct gs_check_entry *e = get_array(&c, a, n, sizeof(*e), 3);

		for (uint64_t i = 0; i < n && !c.bad; i++) {
			e[i].name = get_str(&c, a);
			e[i].verdict = gs_get_u32(&c);
			e[i].how = get_str(&c, a);
		}
		k->n = (uint32_t)n;
		k->e = e;
		break;
	}
	case GS_REC_HEAP_BUCKET:
		rec->u.heap_bucket.id = gs_get_u32(&c);
		rec->u.heap_bucket.stack = gs_get_u32(&c);
		rec->u.heap_bucket.size = gs_get_uv(&c);
		rec->u.heap_bucket.addr = gs_get_uv(&c);
		break;
	case GS_REC_HEAP_PROFILE: {
		struct gs_rec_heap_profile *h = &rec->u.heap_profile;
		uint64_t n, id = 0;

		h->t_ns = gs_get_uv(&c);
		h->seq = gs_get_u32(&c);
		h->cycle = gs_get_u32(&c);
		h->flags = gs_get_u32(&c);
		h->rate = gs_get_uv(&c);
		h->skipped = gs_get_u32(&c);
		h->cpu_ns = gs_get_uv(&c);
		n = gs_get_uv(&c);
		struct gs_heap_count *e = get_array(&c, a, n, sizeof(*e), 3);

		for (uint64_t i = 0; i < n && !c.bad; i++) {
			uint64_t d = gs_get_uv(&c);

			id += d;
			if (!d || id > UINT32_MAX)
				c.bad = 1;
			e[i].bucket = (uint32_t)id;
			e[i].allocs = gs_get_uv(&c);
			e[i].frees = gs_get_uv(&c);
		}
		h->n = (uint32_t)n;
		h->c = e;
		break;
	}
	default:
		return 0;	/* unknown: the caller sees raw/raw_len */
	}
	return c.bad ? -1 : 0;
}

/*
 * test_format.c - the trace format: every record type round-trips through the
 * writer and reader with every field intact (a type without a case here
 * fails test record_types_all_have_cases), and the reader stops cleanly at
 * torn or damaged frames.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "format/trace.h"
#include "ut.h"

static char *tmp_path(void)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/gs-ut-%d.trace", (int)getpid());
	return path;
}

static struct gs_mapping mk_mapping(uint64_t start, const char *path, uint64_t seed)
{
	struct gs_mapping m = {
		.start = start, .end = start + 0x21000, .offset = 0x1000 * seed,
		.inode = 1234567890123ull + seed, .dev_major = 259, .dev_minor = 1,
		.perms = GS_PERM_R | GS_PERM_W | (seed & 1 ? GS_PERM_SHARED : 0),
		.kernel_page_kb = 4, .mmu_page_kb = 4,
		.thp_eligible = (int32_t)(seed % 3) - 1,
		.path = path, .vmflags = "rd wr mr mw me ac sd",
	};
	m.present = ((1u << GS_SM_NFIELDS) - 1) & ~(seed << 2);
	for (int i = 0; i < GS_SM_NFIELDS; i++)
		if (m.present & 1u << i)
			m.v[i] = seed * 1000 + (uint64_t)i * 4 + (i == 1 ? UINT32_MAX * 7ull : 0);
	return m;
}

static int mapping_eq(const struct gs_mapping *a, const struct gs_mapping *b)
{
	return gs_mapping_same_identity(a, b) && !memcmp(a->v, b->v, sizeof(a->v));
}

/* ---- one case per record type: build it, and compare a decoded copy ---- */

static const char *const argv_ex[] = { "/usr/bin/caddy", "run", "--config", "a b.json", "" };
static const uint8_t bid[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0xff };
static struct gs_mapping maps[3];
static const uint32_t removed[] = { 0, 7, 4000000000u };
static struct gs_smaps_update upd[2];
static const struct gs_segment segs[] = { { 0, 0x400000, 0x812b0, 0x812b0, 5 },
					   { 0xbf000, 0x4bf000, 0x6e730, 0x9a000, 6 } };
static const struct gs_layout_entry lay[] = { { "g.goid", 152, 1 }, { "addr.allglen", -1, 0 },
					       { "addr.memstats", 0x7fffffffffffll, 5 } };
static const struct gs_heap_count hcounts[] = {
	{ 1, 5, 0 }, { 2, 1ull << 40, (1ull << 40) - 1 }, { 1000000, 3, 3 } };
static const struct gs_check_entry chk[] = {
	{ "g.goid", GS_CHECK_VERIFIED, "unique and above 0 in 60 goroutines at 3 censuses" },
	{ "probe.runtime.newproc1", GS_CHECK_NONE, "" },
	{ "addr.allglen", GS_CHECK_CONTRADICTED, "1 of 3 censuses: 7 where allgs holds 8" } };
static const uint64_t stackpcs[] = { 0x48c8fa, 0x48c800, 0x7fffffffe000, 0x401000, 0 };
static const struct gs_census_site sites[] = { { 0x48a1f3, 0x48b000, 99990, 1ull << 32 },
						{ 0, 0x401000, 1, 2048 } };
static const struct gs_census_g top[] = {
	{ 0xc000007ba0, 1ll << 40, 4, 77, 1u << 30, 0x48a1f3, 0x48b000, 0 },
	{ 0xc000008000, -1, 2, GS_NO_STACK, 8192, 0, 0x401000, 0x48c8fa } };
static const uint8_t chunk[] = { 0xf0, 0xff, 0xff, 0xff, 0, 0, 1, 8, 0x42 };
static const struct gs_counter counters[] = { { "oom", 3 }, { "oom_kill", UINT64_MAX - 1 }, { "max", 0 } };

static void build(unsigned type, struct gs_record *r)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	maps[0] = mk_mapping(0xc000000000ull, "", 1);
	maps[1] = mk_mapping(0x7f0000000000ull, "/usr/lib/x86_64-linux-gnu/libc.so.6 (deleted)", 2);
	maps[2] = mk_mapping(0x400000, "/opt/odd dir/ünï code", 3);
	memset(upd, 0, sizeof(upd));
	upd[0].id = 1;
	upd[0].mask = 1u << GS_SM_PSS | 1u << GS_SM_SWAP;
	upd[0].v[GS_SM_PSS] = 99;
	upd[0].v[GS_SM_SWAP] = UINT64_MAX;
	upd[1].id = 12345;
	upd[1].mask = (1u << GS_SM_NFIELDS) - 1;
	for (int i = 0; i < GS_SM_NFIELDS; i++)
		upd[1].v[i] = (uint64_t)i << 40;

	switch (type) {
	case GS_REC_TARGET:
		r->u.target = (struct gs_rec_target){
			.pid = 4194304, .flags = GS_TARGET_GO | GS_TARGET_CMDLINE,
			.page_size = 4096, .clk_tck = 100, .start_ticks = 123456789012ull,
			.exe_dev = 0x10301, .exe_inode = 42, .exe_path = "/usr/bin/caddy",
			.build_id = bid, .build_id_len = sizeof(bid),
			.go_build_id = "abc/def", .go_version = "go1.19.8",
			.go_module = "github.com/caddyserver/caddy/v2", .comm = "caddy",
			.host = "vm", .kernel = "6.18.44", .machine = "x86_64",
			.argc = 5, .argv = argv_ex,
		};
		break;
	case GS_REC_CLOCK:
		r->u.clock = (struct gs_rec_clock){ 1, UINT64_MAX, 1ull << 63 };
		break;
	case GS_REC_SMAPS_KEY:
		r->u.smaps = (struct gs_rec_smaps){
			.t_ns = 5000000000ull, .wall_ns = 55000000, .cpu_ns = 54000000,
			.read_plus_1 = 1, .nadded = 3, .added = maps,
		};
		break;
	case GS_REC_SMAPS_DELTA:
		r->u.smaps = (struct gs_rec_smaps){
			.t_ns = 6000000000ull, .wall_ns = 1, .cpu_ns = 0,
			.read_plus_1 = 1ull << 40, .nremoved = 3, .removed = removed, .nadded = 2, .added = maps + 1,
			.nupdated = 2, .updated = upd,
		};
		break;
	case GS_REC_SMAPS_ROLLUP:
		r->u.rollup.t_ns = 7;
		r->u.rollup.wall_ns = 8;
		r->u.rollup.cpu_ns = 9;
		r->u.rollup.mask = 1u << GS_SM_RSS | 1u << GS_SM_LOCKED;
		r->u.rollup.v[GS_SM_RSS] = 4ull << 30;
		r->u.rollup.v[GS_SM_LOCKED] = 0;
		break;
	case GS_REC_STATM:
		r->u.statm = (struct gs_rec_statm){ 10, 1ull << 40, 262144, 1000, 2000, 3000 };
		break;
	case GS_REC_CGROUP:
		r->u.cgroup = (struct gs_rec_cgroup){
			.t_ns = 11, .version = 2, .path = "/system.slice/caddy.service",
			.usage = 1ull << 33, .limit = GS_CGROUP_NO_LIMIT, .swap = 0,
			.ncounters = 3, .counters = counters,
		};
		break;
	case GS_REC_LOST:
		r->u.lost = (struct gs_rec_lost){ 12, GS_STREAM_STATM, 1ull << 50 };
		break;
	case GS_REC_MESSAGE:
		r->u.message = (struct gs_rec_message){ 13, GS_WARNING,
			"not a Go program: recording /proc data only" };
		break;
	case GS_REC_EXIT:
		r->u.exit = (struct gs_rec_exit){ 14, GS_EXIT_SIGNAL, 9, 1 };
		break;
	case GS_REC_END:
		r->u.end = (struct gs_rec_end){ 15, GS_END_SIGNAL, 1, 2, 3, 4, 5, 6, 7, 8,
						UINT64_MAX, 10, 11 };
		break;
	case GS_REC_OBJECT:
		r->u.object = (struct gs_rec_object){ .id = 3, .flags = GS_OBJ_MAIN | GS_OBJ_GO,
			.path = "/usr/bin/caddy (deleted)", .dev = 0xfe00, .inode = 1ull << 40,
			.build_id = bid, .build_id_len = sizeof(bid), .go_build_id = "x/y",
			.go_version = "go1.19.8", .nseg = 2, .seg = segs };
		break;
	case GS_REC_OBJECT_TABLE:
		r->u.table = (struct gs_rec_object_table){ 3, GS_TAB_GO_PCLNTAB, 1ull << 33,
			(1ull << 33) - sizeof(chunk), chunk, sizeof(chunk) };
		break;
	case GS_REC_GO_LAYOUT:
		r->u.layout = (struct gs_rec_go_layout){ 3, 3, lay };
		break;
	case GS_REC_GO_CHECK:
		r->u.go_check = (struct gs_rec_go_check){ 4, 3, chk };
		break;
	case GS_REC_HEAP_BUCKET:
		r->u.heap_bucket = (struct gs_rec_heap_bucket){ 7, 77, 1ull << 33, 0xc000123456 };
		break;
	case GS_REC_HEAP_PROFILE:
		r->u.heap_profile = (struct gs_rec_heap_profile){ 123456789, 9, 1u << 31, GS_HEAP_FULL,
			524288, 3, 45678, 3, hcounts };
		break;
	case GS_REC_STACK:
		r->u.stack = (struct gs_rec_stack){ 77, 5, stackpcs };
		break;
	case GS_REC_CPU_SAMPLE:
		r->u.cpu = (struct gs_rec_cpu_sample){ 123456789, 4242, 77, 1ll << 40, 0x48c8fa };
		break;
	case GS_REC_FAULT:
		r->u.fault = (struct gs_rec_fault){ 5, 0xc000123000, 7, 9, 1, -1, 0x7fff12345678 };
		break;
	case GS_REC_RELEASE:
		r->u.release = (struct gs_rec_release){ 6, 8, GS_REL_MADVISE, 0xc000400000, 1 << 21, 4 };
		break;
	case GS_REC_GO_CREATE:
		r->u.go_create = (struct gs_rec_go_create){ 16, 9, 77, 0xc000007ba0, -1, 0x48a1f3,
							    0x48b000 };
		break;
	case GS_REC_GO_EXIT:
		r->u.go_exit = (struct gs_rec_go_exit){ 17, 9, 0xc000007ba0, 1ll << 40, 0x48a1f3,
							0x48b000 };
		break;
	case GS_REC_GO_STACK:
		r->u.go_stack = (struct gs_rec_go_stack){ 18, 10, 77, 0xc000007ba0, 0, 8192,
							  1u << 20, 0x48c8fa };
		break;
	case GS_REC_GC_EVENT:
		r->u.gc_event = (struct gs_rec_gc_event){ 19, 11, GS_GC_MARK_TERM };
		break;
	case GS_REC_GO_HEAP:
		r->u.go_heap = (struct gs_rec_go_heap){ 24, 3, 1ull << 40, GS_UNKNOWN, 0 };
		break;
	case GS_REC_GO_PAUSE:
		r->u.go_pause = (struct gs_rec_go_pause){ 25, 1ull << 45, 123457 };
		break;
	case GS_REC_GC_CYCLE:
		r->u.gc_cycle = (struct gs_rec_gc_cycle){ 20, UINT32_MAX, GS_GC_EXACT,
			1795000000123456789ull, 81234, 1ull << 35, 0, GS_UNKNOWN, 1ull << 32, 7 };
		break;
	case GS_REC_CENSUS:
		r->u.census = (struct gs_rec_census){ .t_ns = 21, .wall_ns = 22, .cpu_ns = 23,
			.allglen = 100003, .status = { 0, 5, 2, 1, 99990, 0, 5, 0, 0, 0 },
			.stack_bytes = 1ull << 33, .nsites = 2, .ntop = 2, .sites = sites,
			.top = top };
		break;
	}
}

static int same(const struct gs_record *a, const struct gs_record *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case GS_REC_TARGET: {
		const struct gs_rec_target *x = &a->u.target, *y = &b->u.target;

		if (x->pid != y->pid || x->flags != y->flags || x->page_size != y->page_size ||
		    x->clk_tck != y->clk_tck || x->start_ticks != y->start_ticks ||
		    x->exe_dev != y->exe_dev || x->exe_inode != y->exe_inode ||
		    strcmp(x->exe_path, y->exe_path) || x->build_id_len != y->build_id_len ||
		    memcmp(x->build_id, y->build_id, x->build_id_len) ||
		    strcmp(x->go_build_id, y->go_build_id) ||
		    strcmp(x->go_version, y->go_version) || strcmp(x->go_module, y->go_module) ||
		    strcmp(x->comm, y->comm) || strcmp(x->host, y->host) ||
		    strcmp(x->kernel, y->kernel) || strcmp(x->machine, y->machine) ||
		    x->argc != y->argc)
			return 0;
		for (uint32_t i = 0; i < x->argc; i++)
			if (strcmp(x->argv[i], y->argv[i]))
				return 0;
		return 1;
	}
	case GS_REC_CLOCK:
		return !memcmp(&a->u.clock, &b->u.clock, sizeof(a->u.clock));
	case GS_REC_SMAPS_KEY:
	case GS_REC_SMAPS_DELTA: {
		const struct gs_rec_smaps *x = &a->u.smaps, *y = &b->u.smaps;

		if (x->t_ns != y->t_ns || x->wall_ns != y->wall_ns || x->cpu_ns != y->cpu_ns ||
		    x->read_plus_1 != y->read_plus_1 ||
		    x->nremoved != y->nremoved || x->nadded != y->nadded ||
		    x->nupdated != y->nupdated)
			return 0;
		for (uint32_t i = 0; i < x->nremoved; i++)
			if (x->removed[i] != y->removed[i])
				return 0;
		for (uint32_t i = 0; i < x->nadded; i++)
			if (!mapping_eq(&x->added[i], &y->added[i]))
				return 0;
		for (uint32_t i = 0; i < x->nupdated; i++) {
			if (x->updated[i].id != y->updated[i].id ||
			    x->updated[i].mask != y->updated[i].mask)
				return 0;
			for (int f = 0; f < GS_SM_NFIELDS; f++)
				if ((x->updated[i].mask & 1u << f) &&
				    x->updated[i].v[f] != y->updated[i].v[f])
					return 0;
		}
		return 1;
	}
	case GS_REC_SMAPS_ROLLUP:
		if (a->u.rollup.mask != b->u.rollup.mask || a->u.rollup.t_ns != b->u.rollup.t_ns ||
		    a->u.rollup.wall_ns != b->u.rollup.wall_ns ||
		    a->u.rollup.cpu_ns != b->u.rollup.cpu_ns)
			return 0;
		for (int f = 0; f < GS_SM_NFIELDS; f++)
			if ((a->u.rollup.mask & 1u << f) && a->u.rollup.v[f] != b->u.rollup.v[f])
				return 0;
		return 1;
	case GS_REC_STATM:
		return !memcmp(&a->u.statm, &b->u.statm, sizeof(a->u.statm));
	case GS_REC_CGROUP: {
		const struct gs_rec_cgroup *x = &a->u.cgroup, *y = &b->u.cgroup;

		if (x->t_ns != y->t_ns || x->version != y->version || strcmp(x->path, y->path) ||
		    x->usage != y->usage || x->limit != y->limit || x->swap != y->swap ||
		    x->ncounters != y->ncounters)
			return 0;
		for (uint32_t i = 0; i < x->ncounters; i++)
			if (strcmp(x->counters[i].name, y->counters[i].name) ||
			    x->counters[i].value != y->counters[i].value)
				return 0;
		return 1;
	}
	case GS_REC_LOST:
		return !memcmp(&a->u.lost, &b->u.lost, sizeof(a->u.lost));
	case GS_REC_MESSAGE:
		return a->u.message.t_ns == b->u.message.t_ns &&
		       a->u.message.level == b->u.message.level &&
		       !strcmp(a->u.message.text, b->u.message.text);
	case GS_REC_EXIT:
		return !memcmp(&a->u.exit, &b->u.exit, sizeof(a->u.exit));
	case GS_REC_END:
		return !memcmp(&a->u.end, &b->u.end, sizeof(a->u.end));
	case GS_REC_OBJECT: {
		const struct gs_rec_object *x = &a->u.object, *y = &b->u.object;

		if (x->id != y->id || x->flags != y->flags || strcmp(x->path, y->path) ||
		    x->dev != y->dev || x->inode != y->inode || x->build_id_len != y->build_id_len ||
		    memcmp(x->build_id, y->build_id, x->build_id_len) ||
		    strcmp(x->go_build_id, y->go_build_id) || strcmp(x->go_version, y->go_version) ||
		    x->nseg != y->nseg)
			return 0;
		for (uint32_t i = 0; i < x->nseg; i++)	/* field by field: the struct has padding */
			if (x->seg[i].offset != y->seg[i].offset || x->seg[i].vaddr != y->seg[i].vaddr ||
			    x->seg[i].filesz != y->seg[i].filesz || x->seg[i].memsz != y->seg[i].memsz ||
			    x->seg[i].flags != y->seg[i].flags)
				return 0;
		return 1;
	}
	case GS_REC_OBJECT_TABLE: {
		const struct gs_rec_object_table *x = &a->u.table, *y = &b->u.table;

		return x->object == y->object && x->kind == y->kind && x->total == y->total &&
		       x->offset == y->offset && x->len == y->len && !memcmp(x->data, y->data, x->len);
	}
	case GS_REC_STACK:
		return a->u.stack.id == b->u.stack.id && a->u.stack.n == b->u.stack.n &&
		       !memcmp(a->u.stack.pc, b->u.stack.pc, a->u.stack.n * sizeof(uint64_t));
	case GS_REC_FAULT:
		return a->u.fault.t_ns == b->u.fault.t_ns && a->u.fault.addr == b->u.fault.addr &&
		       a->u.fault.tid == b->u.fault.tid && a->u.fault.stack == b->u.fault.stack &&
		       a->u.fault.major == b->u.fault.major && a->u.fault.goid == b->u.fault.goid &&
		       a->u.fault.sp_word == b->u.fault.sp_word;
	case GS_REC_RELEASE:
		return !memcmp(&a->u.release, &b->u.release, sizeof(a->u.release));
	case GS_REC_GO_CREATE: {
		const struct gs_rec_go_create *x = &a->u.go_create, *y = &b->u.go_create;

		return x->t_ns == y->t_ns && x->tid == y->tid && x->stack == y->stack &&
		       x->g == y->g && x->parent == y->parent && x->gopc == y->gopc &&
		       x->startpc == y->startpc;
	}
	case GS_REC_GO_EXIT: {
		const struct gs_rec_go_exit *x = &a->u.go_exit, *y = &b->u.go_exit;

		return x->t_ns == y->t_ns && x->tid == y->tid && x->g == y->g &&
		       x->goid == y->goid && x->gopc == y->gopc && x->startpc == y->startpc;
	}
	case GS_REC_GO_STACK: {
		const struct gs_rec_go_stack *x = &a->u.go_stack, *y = &b->u.go_stack;

		return x->t_ns == y->t_ns && x->tid == y->tid && x->stack == y->stack &&
		       x->g == y->g && x->goid == y->goid && x->old_size == y->old_size &&
		       x->new_size == y->new_size && x->sp_word == y->sp_word;
	}
	case GS_REC_GO_HEAP:
		return a->u.go_heap.t_ns == b->u.go_heap.t_ns &&
		       a->u.go_heap.numgc == b->u.go_heap.numgc &&
		       a->u.go_heap.heap_live == b->u.go_heap.heap_live &&
		       a->u.go_heap.heap_inuse == b->u.go_heap.heap_inuse &&
		       a->u.go_heap.heap_released == b->u.go_heap.heap_released;
	case GS_REC_GO_PAUSE:
		return !memcmp(&a->u.go_pause, &b->u.go_pause, sizeof(a->u.go_pause));
	case GS_REC_GC_EVENT:
		return !memcmp(&a->u.gc_event, &b->u.gc_event, sizeof(a->u.gc_event));
	case GS_REC_GC_CYCLE:
		return !memcmp(&a->u.gc_cycle, &b->u.gc_cycle, sizeof(a->u.gc_cycle));
	case GS_REC_CENSUS: {
		const struct gs_rec_census *x = &a->u.census, *y = &b->u.census;

		if (x->t_ns != y->t_ns || x->wall_ns != y->wall_ns || x->cpu_ns != y->cpu_ns ||
		    x->allglen != y->allglen || memcmp(x->status, y->status, sizeof(x->status)) ||
		    x->stack_bytes != y->stack_bytes || x->nsites != y->nsites || x->ntop != y->ntop)
			return 0;
		for (uint32_t i = 0; i < x->nsites; i++)
			if (x->sites[i].gopc != y->sites[i].gopc ||
			    x->sites[i].startpc != y->sites[i].startpc ||
			    x->sites[i].count != y->sites[i].count ||
			    x->sites[i].stack_bytes != y->sites[i].stack_bytes)
				return 0;
		for (uint32_t i = 0; i < x->ntop; i++) {
			const struct gs_census_g *p = &x->top[i], *q = &y->top[i];

			if (p->g != q->g || p->goid != q->goid || p->status != q->status ||
			    p->stack != q->stack || p->stack_size != q->stack_size ||
			    p->gopc != q->gopc || p->startpc != q->startpc || p->sp_word != q->sp_word)
				return 0;
		}
		return 1;
	}
	case GS_REC_CPU_SAMPLE:
		return a->u.cpu.t_ns == b->u.cpu.t_ns && a->u.cpu.tid == b->u.cpu.tid &&
		       a->u.cpu.stack == b->u.cpu.stack && a->u.cpu.goid == b->u.cpu.goid &&
		       a->u.cpu.sp_word == b->u.cpu.sp_word;
	case GS_REC_GO_LAYOUT: {
		const struct gs_rec_go_layout *x = &a->u.layout, *y = &b->u.layout;

		if (x->object != y->object || x->n != y->n)
			return 0;
		for (uint32_t i = 0; i < x->n; i++)
			if (strcmp(x->e[i].name, y->e[i].name) || x->e[i].value != y->e[i].value ||
			    x->e[i].source != y->e[i].source)
				return 0;
		return 1;
	}
	case GS_REC_HEAP_BUCKET:
		return !memcmp(&a->u.heap_bucket, &b->u.heap_bucket, sizeof(a->u.heap_bucket));
	case GS_REC_HEAP_PROFILE: {
		const struct gs_rec_heap_profile *x = &a->u.heap_profile, *y = &b->u.heap_profile;

		if (x->t_ns != y->t_ns || x->seq != y->seq || x->cycle != y->cycle ||
		    x->flags != y->flags || x->rate != y->rate || x->skipped != y->skipped ||
		    x->cpu_ns != y->cpu_ns || x->n != y->n)
			return 0;
		for (uint32_t i = 0; i < x->n; i++)
			if (x->c[i].bucket != y->c[i].bucket || x->c[i].allocs != y->c[i].allocs ||
			    x->c[i].frees != y->c[i].frees)
				return 0;
		return 1;
	}
	case GS_REC_GO_CHECK: {
		const struct gs_rec_go_check *x = &a->u.go_check, *y = &b->u.go_check;

		if (x->object != y->object || x->n != y->n)
			return 0;
		for (uint32_t i = 0; i < x->n; i++)
			if (strcmp(x->e[i].name, y->e[i].name) || x->e[i].verdict != y->e[i].verdict ||
			    strcmp(x->e[i].how, y->e[i].how))
				return 0;
		return 1;
	}
	}
	return 0;
}

/* The types this file has a case for. Adding a type to trace.h without a
 * case here makes record_types_all_have_cases fail. */
static const unsigned covered[] = {
	GS_REC_TARGET, GS_REC_CLOCK, GS_REC_SMAPS_KEY, GS_REC_SMAPS_DELTA,
	GS_REC_SMAPS_ROLLUP, GS_REC_STATM, GS_REC_CGROUP, GS_REC_LOST,
	GS_REC_MESSAGE, GS_REC_EXIT, GS_REC_END, GS_REC_OBJECT, GS_REC_OBJECT_TABLE,
	GS_REC_GO_LAYOUT, GS_REC_STACK, GS_REC_CPU_SAMPLE, GS_REC_FAULT, GS_REC_RELEASE,
	GS_REC_GO_CREATE, GS_REC_GO_EXIT, GS_REC_GO_STACK, GS_REC_GC_EVENT, GS_REC_GC_CYCLE,
	GS_REC_CENSUS, GS_REC_GO_HEAP, GS_REC_GO_PAUSE, GS_REC_GO_CHECK, GS_REC_HEAP_BUCKET,
	GS_REC_HEAP_PROFILE,
};
#define NCOVERED (sizeof(covered) / sizeof(covered[0]))

TEST(record_types_all_have_cases)
{
	for (unsigned t = 1; t <= 255; t++) {
		if (!gs_rtype_name(t))
			continue;
		int found = 0;

		for (size_t i = 0; i < NCOVERED; i++)
			found |= covered[i] == t;
		CHECK(found, "record type %u (%s) has no round-trip case", t, gs_rtype_name(t));
	}
	CHECK(gs_rtype_name(GS_REC_MAX_KNOWN + 1) == NULL, "MAX_KNOWN is stale");
}

TEST(record_roundtrip_every_type)
{
	struct gs_writer_opts o = { .chunk_bytes = 300 };	/* several frames */
	struct gs_writer *w = gs_writer_open(tmp_path(), -1, &o);
	struct gs_record r, back;
	enum gs_open_error err;
	char msg[256];

	CHECK(w != NULL, "writer open");
	if (!w)
		return;
	for (int rep = 0; rep < 3; rep++)
		for (size_t i = 0; i < NCOVERED; i++) {
			build(covered[i], &r);
			CHECK(gs_writer_add(w, &r) == 0, "add type %u", covered[i]);
		}
	CHECK(gs_writer_close(w) == 0, "close");

	struct gs_reader *rd = gs_reader_open(tmp_path(), &err, msg, sizeof(msg));

	CHECK(rd != NULL, "open: %s", msg);
	if (!rd)
		return;
	for (int rep = 0; rep < 3; rep++)
		for (size_t i = 0; i < NCOVERED; i++) {
			CHECK(gs_reader_next(rd, &back) == 1, "record %zu missing", i);
			build(covered[i], &r);
			CHECK(same(&r, &back), "type %s differs after the round trip",
			      gs_rtype_name(covered[i]));
		}
	CHECK(gs_reader_next(rd, &back) == 0, "extra record");
	const struct gs_health *h = gs_reader_health(rd);

	CHECK(!h->damaged, "damaged: %s", h->why);
	CHECK(h->frames > 3, "expected several frames, got %llu", (unsigned long long)h->frames);
	CHECK_EQ_U(h->records, 3 * NCOVERED);
	CHECK_EQ_U(h->good_bytes, h->file_bytes);
	gs_reader_close(rd);
	unlink(tmp_path());
}

/* ---- hand-made frames, to test what the writer never produces ---- */

static size_t put_frame(uint8_t *out, uint32_t seq, const uint8_t *raw, size_t n,
			uint32_t nrec)
{
	size_t z = ZSTD_compress(out + 24, ZSTD_compressBound(n), raw, n, 1);
	uint8_t *h = out;
	uint32_t v[5] = { GS_FRAME_MAGIC, seq, (uint32_t)n, (uint32_t)z, nrec };

	for (int i = 0; i < 5; i++)
		for (int b = 0; b < 4; b++)
			h[i * 4 + b] = (uint8_t)(v[i] >> (8 * b));
	uint32_t crc = (uint32_t)crc32(crc32(0, h, 20), out + 24, (uInt)z);

	for (int b = 0; b < 4; b++)
		h[20 + b] = (uint8_t)(crc >> (8 * b));
	return 24 + z;
}

static size_t put_header(uint8_t *out, uint16_t major)
{
	memset(out, 0, 32);
	memcpy(out, GS_FILE_MAGIC, 8);
	out[8] = (uint8_t)major;
	uint32_t crc = (uint32_t)crc32(0, out, 28);

	for (int b = 0; b < 4; b++)
		out[28 + b] = (uint8_t)(crc >> (8 * b));
	return 32;
}

TEST(reader_skips_unknown_types_and_appended_fields)
{
	static uint8_t file[4096];
	uint8_t raw[64];
	size_t n = put_header(file, 1), r = 0;

	/* type 200 (unknown, 3 bytes), then a LOST record with two extra bytes */
	uint8_t unk[] = { 200, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3 };
	uint8_t lost[] = { 8, 0, 0, 0, 5, 0, 0, 0, 42, 1, 7, 0x99, 0x01 };

	memcpy(raw + r, unk, sizeof(unk)); r += sizeof(unk);
	memcpy(raw + r, lost, sizeof(lost)); r += sizeof(lost);
	n += put_frame(file + n, 0, raw, r, 2);

	enum gs_open_error err;
	char msg[200];
	struct gs_reader *rd = gs_reader_open_mem(file, n, &err, msg, sizeof(msg));
	struct gs_record rec;

	CHECK(rd != NULL, "%s", msg);
	if (!rd)
		return;
	CHECK(gs_reader_next(rd, &rec) == 1 && rec.type == 200 && rec.raw_len == 3, "unknown");
	CHECK(gs_reader_next(rd, &rec) == 1 && rec.type == GS_REC_LOST &&
	      rec.u.lost.t_ns == 42 && rec.u.lost.stream == 1 && rec.u.lost.count == 7,
	      "LOST with appended bytes");
	CHECK(gs_reader_next(rd, &rec) == 0, "end");
	CHECK_EQ_U(gs_reader_health(rd)->unknown_records, 1);
	CHECK(!gs_reader_health(rd)->damaged, "%s", gs_reader_health(rd)->why);
	gs_reader_close(rd);
}

TEST(reader_refuses_bad_headers)
{
	uint8_t file[64] = { 0 };
	enum gs_open_error err;
	char msg[200];

	CHECK(!gs_reader_open_mem(file, 0, &err, msg, sizeof(msg)) && err == GS_E_EMPTY, "empty");
	memcpy(file, "PERFILE2xxxxxxxxxxxxxxxxxxxxxxxxxxx", 32);
	CHECK(!gs_reader_open_mem(file, 32, &err, msg, sizeof(msg)) && err == GS_E_NOT_TRACE,
	      "magic");
	put_header(file, 2);
	CHECK(!gs_reader_open_mem(file, 32, &err, msg, sizeof(msg)) && err == GS_E_VERSION &&
	      strstr(msg, "2.0") && strstr(msg, "version 1"), "newer: %s", msg);
	put_header(file, 1);
	file[17] ^= 1;
	CHECK(!gs_reader_open_mem(file, 32, &err, msg, sizeof(msg)) && err == GS_E_HEADER,
	      "crc");
	put_header(file, 1);
	CHECK(!gs_reader_open_mem(file, 20, &err, msg, sizeof(msg)) && err == GS_E_HEADER,
	      "short");
}

/* Write n frames of one STATM record each; returns the file and frame ends. */
static uint8_t *three_frames(size_t *len, size_t ends[3])
{
	struct gs_writer_opts o = { .chunk_bytes = 1 };
	struct gs_writer *w = gs_writer_open(tmp_path(), -1, &o);
	struct gs_record r = { .type = GS_REC_STATM };

	for (int i = 0; i < 3; i++) {
		r.u.statm.t_ns = (uint64_t)i + 1;
		gs_writer_add(w, &r);
		ends[i] = (size_t)gs_writer_file_bytes(w);
	}
	gs_writer_close(w);
	FILE *f = fopen(tmp_path(), "rb");
	uint8_t *buf = malloc(ends[2]);

	*len = fread(buf, 1, ends[2], f);
	fclose(f);
	unlink(tmp_path());
	return buf;
}

static int count_records(const uint8_t *buf, size_t len, struct gs_health *h)
{
	enum gs_open_error err;
	char msg[200];
	struct gs_reader *rd = gs_reader_open_mem(buf, len, &err, msg, sizeof(msg));
	struct gs_record rec;
	int n = 0;

	if (!rd)
		return -1;
	while (gs_reader_next(rd, &rec) == 1)
		n++;
	*h = *gs_reader_health(rd);
	gs_reader_close(rd);
	return n;
}

TEST(reader_stops_at_torn_tail)
{
	size_t len, ends[3];
	uint8_t *buf = three_frames(&len, ends);
	struct gs_health h;

	CHECK(len == ends[2], "short file");
	CHECK(count_records(buf, len, &h) == 3 && !h.damaged, "intact");
	/* Every cut inside the last frame keeps the first two. */
	for (size_t cut = ends[1] + 1; cut < ends[2]; cut++) {
		int n = count_records(buf, cut, &h);

		CHECK(n == 2 && h.damaged && h.good_bytes == ends[1],
		      "cut at %zu: %d records, damaged %d", cut, n, h.damaged);
	}
	CHECK(count_records(buf, ends[1], &h) == 2 && !h.damaged, "cut at a frame end");
	free(buf);
}

TEST(reader_skips_only_the_damaged_frame)
{
	size_t len, ends[3];
	uint8_t *buf = three_frames(&len, ends);
	size_t starts[3] = { GS_FILE_HEADER_LEN, ends[0], ends[1] };
	struct gs_health h;

	/* Any single flipped bit in a frame loses that frame, never more: the
	 * reader resynchronises on the next one (FORMAT.md §3.1). In the last
	 * frame, a length flipped larger is a cut tail: nothing follows to
	 * tell them apart. */
	for (int f = 0; f < 3; f++)
		for (size_t at = starts[f]; at < ends[f]; at++) {
			for (int bit = 0; bit < 8; bit++) {
				buf[at] ^= (uint8_t)(1 << bit);
				int n = count_records(buf, len, &h);
				int tail = f == 2 && h.cut_short && !h.gaps;

				CHECK(n == 2 && h.damaged && (tail || (h.gaps == 1 &&
				      h.skipped_bytes == ends[f] - starts[f] &&
				      h.frames_lost == (f < 2 ? 1u : 0u) &&
				      h.damage[0].offset == starts[f])),
				      "flip in frame %d at %zu.%d: %d records, %u gaps, %llu bytes and "
				      "%llu frames skipped", f, at, bit, n, h.gaps,
				      (unsigned long long)h.skipped_bytes,
				      (unsigned long long)h.frames_lost);
				buf[at] ^= (uint8_t)(1 << bit);
			}
		}
	/* A zeroed stretch over the first two frames: the third is still read. */
	uint8_t *z = malloc(len);

	memcpy(z, buf, len);
	memset(z + starts[0] + 5, 0, ends[1] - starts[0] - 10);
	CHECK(count_records(z, len, &h) == 1 && h.gaps == 1 && h.frames_lost == 2 &&
	      h.skipped_bytes == ends[1] - starts[0], "zeroed: %u gaps, %llu frames lost, %llu "
	      "bytes at %llu (%s)", h.gaps, (unsigned long long)h.frames_lost,
	      (unsigned long long)h.skipped_bytes, (unsigned long long)h.damage[0].offset,
	      h.damage[0].why);
	/* Two damaged frames apart: two gaps, the frame between them read. */
	memcpy(z, buf, len);
	z[starts[0] + 30] ^= 1;
	z[starts[2] + 30] ^= 1;
	CHECK(count_records(z, len, &h) == 1 && h.gaps == 2 && h.ndamage == 2 &&
	      h.damage[1].offset == starts[2], "two flips: %u gaps", h.gaps);
	/* A flipped bit in frame 1 and the file cut inside frame 3. */
	memcpy(z, buf, len);
	z[starts[0] + 30] ^= 1;
	CHECK(count_records(z, ends[2] - 7, &h) == 1 && h.gaps == 1 && h.cut_short,
	      "flip and cut: gaps %u cut %d", h.gaps, h.cut_short);
	free(z);
	free(buf);
}

TEST(smaps_state_applies_deltas)
{
	struct gs_smaps_state s;
	struct gs_record key, delta;

	gs_smaps_state_init(&s);
	build(GS_REC_SMAPS_DELTA, &delta);
	CHECK(gs_smaps_state_apply(&s, &delta) < 0, "delta before keyframe accepted");

	build(GS_REC_SMAPS_KEY, &key);
	CHECK(gs_smaps_state_apply(&s, &key) == 0 && s.live == 3, "keyframe");

	struct gs_smaps_update u = { .id = 1, .mask = 1u << GS_SM_PSS };
	uint32_t rm = 0;

	u.v[GS_SM_PSS] = 777;
	delta.u.smaps = (struct gs_rec_smaps){ .nremoved = 1, .removed = &rm, .nadded = 1,
					       .added = &maps[0], .nupdated = 1, .updated = &u };
	CHECK(gs_smaps_state_apply(&s, &delta) == 0, "delta");
	CHECK(s.live == 3 && s.n == 4 && !s.alive[0] && s.alive[3], "ids");
	CHECK_EQ_U(s.m[1].v[GS_SM_PSS], 777);
	CHECK_EQ_U(s.m[1].v[GS_SM_RSS], maps[1].v[GS_SM_RSS]);
	CHECK(gs_smaps_state_apply(&s, &delta) < 0, "removing a dead id accepted");
	gs_smaps_state_free(&s);
}

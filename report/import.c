/*
 * import.c - the SQLite importer: a replay tool that streams a trace into
 * the schema in report/SCHEMA.md. Rows go through prepared statements inside
 * one transaction; indexes are built after the load. Memory stays bounded by
 * the live mappings of one read, whatever the trace's size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/golayout.h"
#include "gsreport.h"
#include "replay.h"

static const char schema[] =
"CREATE TABLE meta(key TEXT PRIMARY KEY, value);\n"
"CREATE TABLE target(pid INTEGER, launched INTEGER, is_go INTEGER, exe_path TEXT,\n"
"  exe_dev INTEGER, exe_inode INTEGER, build_id TEXT, go_build_id TEXT,\n"
"  go_version TEXT, go_module TEXT, comm TEXT, host TEXT, kernel TEXT, machine TEXT,\n"
"  page_size INTEGER, clk_tck INTEGER, start_ticks INTEGER, cmdline TEXT);\n"
"CREATE TABLE clock(mono_ns INTEGER, real_ns INTEGER, boot_ns INTEGER);\n"
"CREATE TABLE statm(t_ns INTEGER PRIMARY KEY, size_bytes INTEGER, rss_bytes INTEGER,\n"
"  shared_bytes INTEGER, text_bytes INTEGER, data_bytes INTEGER);\n"
"CREATE TABLE smaps_read(id INTEGER PRIMARY KEY, t_ns INTEGER, kind TEXT,\n"
"  wall_ns INTEGER, cpu_ns INTEGER, mappings INTEGER, size_kb INTEGER,\n"
"  rss_kb INTEGER, pss_kb INTEGER, pss_anon_kb INTEGER, pss_file_kb INTEGER,\n"
"  pss_shmem_kb INTEGER, anonymous_kb INTEGER, anon_huge_kb INTEGER,\n"
"  private_dirty_kb INTEGER, swap_kb INTEGER, swap_pss_kb INTEGER, locked_kb INTEGER);\n"
"CREATE TABLE smaps_class(read_id INTEGER, class TEXT, mappings INTEGER,\n"
"  size_kb INTEGER, rss_kb INTEGER, pss_kb INTEGER, anonymous_kb INTEGER,\n"
"  anon_huge_kb INTEGER, private_dirty_kb INTEGER, swap_kb INTEGER,\n"
"  PRIMARY KEY(read_id, class)) WITHOUT ROWID;\n"
"CREATE TABLE mapping(id INTEGER PRIMARY KEY, start INTEGER, end INTEGER,\n"
"  perms TEXT, offset INTEGER, dev TEXT, inode INTEGER, path TEXT, vmflags TEXT,\n"
"  kernel_page_kb INTEGER, mmu_page_kb INTEGER, thp_eligible INTEGER, class TEXT,\n"
"  first_read INTEGER, last_read INTEGER);\n"
"CREATE TABLE mapping_value(read_id INTEGER, mapping_id INTEGER, %s);\n"
"CREATE TABLE cgroup(t_ns INTEGER, version INTEGER, path TEXT, usage_bytes INTEGER,\n"
"  limit_bytes INTEGER, swap_bytes INTEGER, counters TEXT);\n"
"CREATE TABLE lost(t_ns INTEGER, stream TEXT, count INTEGER);\n"
"CREATE TABLE message(t_ns INTEGER, level TEXT, text TEXT);\n"
"CREATE TABLE exit(t_ns INTEGER, kind TEXT, status INTEGER, core_dumped INTEGER);\n"
"CREATE TABLE object(id INTEGER PRIMARY KEY, flags INTEGER, is_main INTEGER,\n"
"  is_go INTEGER, is_dyn INTEGER, path TEXT, dev INTEGER, inode INTEGER, build_id TEXT,\n"
"  go_build_id TEXT, go_version TEXT, segments TEXT);\n"
"CREATE TABLE object_table(object_id INTEGER, kind TEXT, total INTEGER, offset INTEGER,\n"
"  data BLOB, PRIMARY KEY(object_id, kind, offset)) WITHOUT ROWID;\n"
"CREATE TABLE stack(id INTEGER PRIMARY KEY, depth INTEGER, pcs BLOB);\n"
"CREATE TABLE cpu_sample(t_ns INTEGER, tid INTEGER, goid INTEGER, stack_id INTEGER,\n"
"  sp_word INTEGER);\n"
"CREATE TABLE fault(t_ns INTEGER, tid INTEGER, goid INTEGER, addr INTEGER, major INTEGER,\n"
"  stack_id INTEGER, sp_word INTEGER);\n"
"CREATE TABLE release(t_ns INTEGER, tid INTEGER, kind TEXT, addr INTEGER, len INTEGER,\n"
"  arg INTEGER);\n"
"CREATE TABLE go_layout(object_id INTEGER, field TEXT, value INTEGER, source TEXT);\n"
"CREATE TABLE go_check(object_id INTEGER, name TEXT, verdict TEXT, how TEXT);\n"
"CREATE TABLE go_create(t_ns INTEGER, tid INTEGER, g INTEGER, parent_goid INTEGER,\n"
"  gopc INTEGER, startpc INTEGER, stack_id INTEGER, goid INTEGER, exit_t_ns INTEGER);\n"
"CREATE TABLE go_exit(t_ns INTEGER, tid INTEGER, g INTEGER, goid INTEGER, gopc INTEGER,\n"
"  startpc INTEGER, created INTEGER);\n"
"CREATE TABLE go_stack(t_ns INTEGER, tid INTEGER, g INTEGER, goid INTEGER,\n"
"  old_size INTEGER, new_size INTEGER, stack_id INTEGER, sp_word INTEGER);\n"
"CREATE TABLE gc_event(t_ns INTEGER, tid INTEGER, kind TEXT);\n"
"CREATE TABLE gc_cycle(numgc INTEGER PRIMARY KEY, t_ns INTEGER, exact INTEGER,\n"
"  last_gc_unix_ns INTEGER, pause_ns INTEGER, pause_total_ns INTEGER, heap_live INTEGER,\n"
"  heap_marked INTEGER, heap_inuse INTEGER, heap_released INTEGER);\n"
"CREATE TABLE go_heap(t_ns INTEGER, numgc INTEGER, heap_live INTEGER, heap_inuse INTEGER,\n"
"  heap_released INTEGER);\n"
"CREATE TABLE go_pause(t_ns INTEGER, end_ns INTEGER, refused INTEGER);\n"
"CREATE TABLE census(id INTEGER PRIMARY KEY, t_ns INTEGER, wall_ns INTEGER, cpu_ns INTEGER,\n"
"  allglen INTEGER, stack_bytes INTEGER, idle INTEGER, runnable INTEGER, running INTEGER,\n"
"  syscall INTEGER, waiting INTEGER, dead INTEGER, copystack INTEGER, preempted INTEGER);\n"
"CREATE TABLE census_site(census_id INTEGER, gopc INTEGER, startpc INTEGER, count INTEGER,\n"
"  stack_bytes INTEGER);\n"
"CREATE TABLE census_g(census_id INTEGER, rank INTEGER, g INTEGER, goid INTEGER,\n"
"  status INTEGER, stack_size INTEGER, gopc INTEGER, startpc INTEGER, stack_id INTEGER,\n"
"  sp_word INTEGER);\n"
"CREATE TABLE heap_bucket(id INTEGER PRIMARY KEY, stack_id INTEGER, size INTEGER,\n"
"  addr INTEGER);\n"
"CREATE TABLE heap_snapshot(seq INTEGER PRIMARY KEY, t_ns INTEGER, cycle INTEGER,\n"
"  full INTEGER, known INTEGER, rate INTEGER, skipped INTEGER, cpu_ns INTEGER,\n"
"  changed INTEGER);\n"
"CREATE TABLE heap_count(seq INTEGER, bucket_id INTEGER, allocs INTEGER, frees INTEGER);\n"
"CREATE TABLE damage(offset INTEGER, bytes INTEGER, frames_lost INTEGER, why TEXT);\n"
"CREATE TABLE recording(t_ns INTEGER, reason TEXT, statm_samples INTEGER,\n"
"  smaps_reads INTEGER, rollup_reads INTEGER, cgroup_samples INTEGER, lost INTEGER,\n"
"  cpu_user_ns INTEGER, cpu_sys_ns INTEGER, max_rss_kb INTEGER, records INTEGER,\n"
"  raw_bytes INTEGER, objects_cpu_ns INTEGER);\n";

/*
 * Rows go in in trace order, which is time order for every table, so rowid
 * order is time order: statm's t_ns is its rowid, smaps_class is keyed by
 * (read_id, class), and readers order the other tables by rowid. Only
 * lookups by another key get an index.
 */
static const char indexes[] =

"CREATE INDEX mapping_value_map ON mapping_value(mapping_id, read_id);\n"
"CREATE INDEX cpu_sample_stack ON cpu_sample(stack_id);\n"
"CREATE INDEX fault_stack ON fault(stack_id);\n"
"CREATE INDEX census_site_census ON census_site(census_id);\n"
"CREATE INDEX heap_count_bucket ON heap_count(bucket_id, seq);\n";

/* Column name of an smaps field in mapping_value: "pss_anon_kb". */
static void field_column(int f, char *buf, size_t n)
{
	const char *name = gs_smaps_field_name(f);
	size_t k = 0;

	for (; *name && k + 4 < n; name++)
		buf[k++] = (char)(*name >= 'A' && *name <= 'Z' ? *name + 32 : *name);
	snprintf(buf + k, n - k, "_kb");
}

/* statm rows, the bulk of a trace, go in multi-row INSERTs, which spread
 * SQLite's per-statement cost (BENCHMARKS.md: import went from 0.38M to
 * 0.57M records/s with 64, and a little further with 256). */
#define STATM_BATCH 256

enum {
	S_STATM_BATCH, S_TARGET, S_CLOCK, S_STATM, S_READ, S_CLASS, S_MAPPING, S_MAPPING_END,
	S_VALUE, S_CGROUP, S_LOST, S_MESSAGE, S_EXIT, S_END, S_OBJECT, S_TABLE, S_LAYOUT, S_CHECK, S_STACK, S_CPU, S_FAULT, S_RELEASE,
	S_GO_CREATE, S_GO_EXIT, S_GO_EXITED, S_GO_STACK, S_GC_EVENT, S_GC_CYCLE, S_GO_HEAP, S_GO_PAUSE, S_CENSUS,
	S_CENSUS_SITE, S_CENSUS_G, S_HEAP_BUCKET, S_HEAP_SNAP, S_HEAP_COUNT, S_NSTMT
};

/*
 * What the importer knows of each trace id: its database id, identity hash
 * and last values. Between keyframes a trace id is a stable identity and a
 * delta says exactly what changed; only at a keyframe (ids restart) are
 * mappings matched to the ones before by identity.
 */
struct idinfo {
	int64_t dbid;
	uint64_t start, hash;
	uint64_t v[GS_SM_NFIELDS];
	uint32_t present;
	int alive;
};

struct importer {
	sqlite3 *db;
	sqlite3_stmt *st[S_NSTMT];
	uint64_t page_size;
	int64_t read_id, next_mapping;
	struct idinfo *ids;
	uint32_t nids, cap;
	struct gs_rec_statm statm[STATM_BATCH];
	int nstatm;
	int64_t statm_dups;	/* samples with a t_ns already seen (a corrupt trace) */
	struct idinfo *old;		/* scratch for keyframes */
	uint32_t oldcap;
	int progress;
	/* open goroutine creations by g address: the next exit of that g is theirs */
	struct gent { uint64_t g; int64_t row; } *gmap;
	size_t gmap_n, gmap_cap;
	int64_t census_id;
	int64_t smaps_lost;	/* per-mapping reads that could not be rebuilt */
	uint32_t heap_seq;	/* the last heap profile snapshot */
	int heap_known;		/* its counts are all known */
	char err[256];
};

static uint64_t identity_hash(const struct gs_mapping *m)
{
	uint64_t h = 1469598103934665603ull;
	uint64_t nums[] = { m->start, m->end, m->offset, m->inode, m->dev_major, m->dev_minor,
			    m->perms, m->kernel_page_kb, m->mmu_page_kb,
			    (uint64_t)(int64_t)m->thp_eligible, m->present };

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		for (int b = 0; b < 8; b++)
			h = (h ^ ((nums[i] >> (8 * b)) & 0xff)) * 1099511628211ull;
	for (const char *s = m->path; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (const char *s = m->vmflags; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static int step(struct importer *im, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		snprintf(im->err, sizeof(im->err), "%s", sqlite3_errmsg(im->db));
		return -1;
	}
	return 0;
}

#define BI(s, i, v) sqlite3_bind_int64((s), (i), (sqlite3_int64)(v))
#define BT(s, i, v) sqlite3_bind_text((s), (i), (v), -1, SQLITE_TRANSIENT)

static int on_target(void *ctx, const struct gs_rec_target *t)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_TARGET];
	char bid[2 * 64 + 1] = "", *cmd = NULL;
	size_t len = 0;

	for (uint32_t i = 0; i < t->build_id_len && i < 64; i++)
		sprintf(bid + 2 * i, "%02x", t->build_id[i]);
	for (uint32_t i = 0; i < t->argc; i++)
		len += strlen(t->argv[i]) + 1;
	if (t->argc && (cmd = calloc(1, len + 1))) {
		for (uint32_t i = 0; i < t->argc; i++) {
			strcat(cmd, t->argv[i]);
			if (i + 1 < t->argc)
				strcat(cmd, " ");
		}
	}
	im->page_size = t->page_size ? t->page_size : 4096;
	BI(s, 1, t->pid);
	BI(s, 2, !!(t->flags & GS_TARGET_LAUNCHED));
	BI(s, 3, !!(t->flags & GS_TARGET_GO));
	BT(s, 4, t->exe_path);
	BI(s, 5, t->exe_dev);
	BI(s, 6, t->exe_inode);
	BT(s, 7, bid);
	BT(s, 8, t->go_build_id);
	BT(s, 9, t->go_version);
	BT(s, 10, t->go_module);
	BT(s, 11, t->comm);
	BT(s, 12, t->host);
	BT(s, 13, t->kernel);
	BT(s, 14, t->machine);
	BI(s, 15, t->page_size);
	BI(s, 16, t->clk_tck);
	BI(s, 17, t->start_ticks);
	if (cmd)
		BT(s, 18, cmd);
	else
		sqlite3_bind_null(s, 18);
	free(cmd);
	return step(im, s);
}

static int on_clock(void *ctx, const struct gs_rec_clock *c)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_CLOCK];

	BI(s, 1, c->mono_ns);
	BI(s, 2, c->real_ns);
	BI(s, 3, c->boot_ns);
	return step(im, s);
}

static void bind_statm(struct importer *im, sqlite3_stmt *s, int at,
		       const struct gs_rec_statm *m)
{
	uint64_t p = im->page_size;

	BI(s, at + 1, m->t_ns);
	BI(s, at + 2, m->size * p);
	BI(s, at + 3, m->resident * p);
	BI(s, at + 4, m->shared * p);
	BI(s, at + 5, m->text * p);
	BI(s, at + 6, m->data * p);
}

/* Write the statm rows held back, as one batch or one by one. */
static int flush_statm(struct importer *im)
{
	if (im->nstatm == STATM_BATCH) {
		for (int i = 0; i < STATM_BATCH; i++)
			bind_statm(im, im->st[S_STATM_BATCH], 6 * i, &im->statm[i]);
		im->nstatm = 0;
		if (step(im, im->st[S_STATM_BATCH]) < 0)
			return -1;
		im->statm_dups += STATM_BATCH - sqlite3_changes(im->db);
		return 0;
	}
	for (int i = 0; i < im->nstatm; i++) {
		bind_statm(im, im->st[S_STATM], 0, &im->statm[i]);
		if (step(im, im->st[S_STATM]) < 0)
			return -1;
		im->statm_dups += 1 - sqlite3_changes(im->db);
	}
	im->nstatm = 0;
	return 0;
}

static int on_statm(void *ctx, const struct gs_rec_statm *m)
{
	struct importer *im = ctx;

	im->statm[im->nstatm++] = *m;
	return im->nstatm == STATM_BATCH ? flush_statm(im) : 0;
}

/* smaps_read totals: the fields as columns 7.. in this order. */
static const int read_fields[] = {
	GS_SM_RSS, GS_SM_PSS, GS_SM_PSS_ANON, GS_SM_PSS_FILE, GS_SM_PSS_SHMEM,
	GS_SM_ANONYMOUS, GS_SM_ANON_HUGE, GS_SM_PRIVATE_DIRTY, GS_SM_SWAP,
	GS_SM_SWAP_PSS, GS_SM_LOCKED,
};
#define NREAD_FIELDS (sizeof(read_fields) / sizeof(read_fields[0]))

static int insert_read(struct importer *im, uint64_t t, const char *kind, uint64_t wall,
		       uint64_t cpu, int64_t mappings, uint64_t size_kb,
		       const uint64_t *tot, uint32_t present)
{
	sqlite3_stmt *s = im->st[S_READ];

	im->read_id++;
	BI(s, 1, im->read_id);
	BI(s, 2, t);
	BT(s, 3, kind);
	BI(s, 4, wall);
	BI(s, 5, cpu);
	if (mappings >= 0) {
		BI(s, 6, mappings);
		BI(s, 7, size_kb);
	} else {
		sqlite3_bind_null(s, 6);
		sqlite3_bind_null(s, 7);
	}
	for (size_t i = 0; i < NREAD_FIELDS; i++) {
		if (present & 1u << read_fields[i])
			BI(s, 8 + (int)i, tot[read_fields[i]]);
		else
			sqlite3_bind_null(s, 8 + (int)i);
	}
	return step(im, s);
}

static int on_rollup(void *ctx, const struct gs_rec_rollup *r)
{
	struct importer *im = ctx;

	return insert_read(im, r->t_ns, "rollup", r->wall_ns, r->cpu_ns, -1, 0, r->v, r->mask);
}

static const char *perm_str(uint32_t p, char *buf)
{
	buf[0] = p & GS_PERM_R ? 'r' : '-';
	buf[1] = p & GS_PERM_W ? 'w' : '-';
	buf[2] = p & GS_PERM_X ? 'x' : '-';
	buf[3] = p & GS_PERM_SHARED ? 's' : 'p';
	buf[4] = 0;
	return buf;
}

static int insert_value(struct importer *im, int64_t dbid, const struct gs_mapping *m)
{
	sqlite3_stmt *s = im->st[S_VALUE];

	BI(s, 1, im->read_id);
	BI(s, 2, dbid);
	for (int f = 0; f < GS_SM_NFIELDS; f++) {
		if (m->present & 1u << f)
			BI(s, 3 + f, m->v[f]);
		else
			sqlite3_bind_null(s, 3 + f);
	}
	return step(im, s);
}

static int insert_mapping(struct importer *im, const struct gs_mapping *m, int cls,
			  int64_t *dbid)
{
	sqlite3_stmt *s = im->st[S_MAPPING];
	char perms[5], dev[24];

	*dbid = ++im->next_mapping;
	snprintf(dev, sizeof(dev), "%02x:%02x", m->dev_major, m->dev_minor);
	BI(s, 1, *dbid);
	BI(s, 2, m->start);
	BI(s, 3, m->end);
	BT(s, 4, perm_str(m->perms, perms));
	BI(s, 5, m->offset);
	BT(s, 6, dev);
	BI(s, 7, m->inode);
	BT(s, 8, m->path);
	BT(s, 9, m->vmflags);
	BI(s, 10, m->kernel_page_kb);
	BI(s, 11, m->mmu_page_kb);
	if (m->thp_eligible >= 0)
		BI(s, 12, m->thp_eligible);
	else
		sqlite3_bind_null(s, 12);
	BT(s, 13, gs_class_name(cls));
	BI(s, 14, im->read_id);
	return step(im, s) < 0 ? -1 : insert_value(im, *dbid, m);
}

static int end_mapping(struct importer *im, int64_t dbid)
{
	sqlite3_stmt *s = im->st[S_MAPPING_END];

	BI(s, 1, im->read_id - 1);
	BI(s, 2, dbid);
	return step(im, s);
}

static int cmp_old(const void *a, const void *b)
{
	const struct idinfo *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int grow_ids(struct importer *im, uint32_t n)
{
	if (n <= im->cap)
		return 0;
	uint32_t cap = n * 2;
	struct idinfo *p = realloc(im->ids, cap * sizeof(*p));

	if (!p)
		return -1;
	memset(p + im->cap, 0, (cap - im->cap) * sizeof(*p));
	im->ids = p;
	im->cap = cap;
	return 0;
}

static void remember(struct idinfo *d, const struct gs_mapping *m, int64_t dbid)
{
	d->dbid = dbid;
	d->start = m->start;
	d->hash = identity_hash(m);
	memcpy(d->v, m->v, sizeof(d->v));
	d->present = m->present;
	d->alive = 1;
}

/* A keyframe: match its mappings to the live ones before it by identity. */
static int keyframe(struct importer *im, const struct gs_smaps_view *v)
{
	uint32_t nold = 0;

	if (im->nids > im->oldcap) {
		struct idinfo *p = realloc(im->old, im->nids * sizeof(*p));

		if (!p)
			return -1;
		im->old = p;
		im->oldcap = im->nids;
	}
	for (uint32_t i = 0; i < im->nids; i++)
		if (im->ids[i].alive)
			im->old[nold++] = im->ids[i];
	qsort(im->old, nold, sizeof(*im->old), cmp_old);
	if (grow_ids(im, v->rec->nadded) < 0)
		return -1;
	memset(im->ids, 0, im->cap * sizeof(*im->ids));
	im->nids = v->rec->nadded;

	uint32_t i = 0;

	for (uint32_t j = 0; j < v->n; j++) {	/* both sorted by start */
		const struct gs_mapping *m = v->m[j];
		struct idinfo *d = &im->ids[v->id[j]];
		uint64_t h = identity_hash(m);
		int64_t dbid;

		while (i < nold && im->old[i].start < m->start)
			i++;
		if (i < nold && im->old[i].start == m->start && im->old[i].hash == h) {
			dbid = im->old[i].dbid;
			im->old[i].alive = 2;	/* carried over */
			if (memcmp(m->v, im->old[i].v, sizeof(m->v)) && insert_value(im, dbid, m) < 0)
				return -1;
		} else if (insert_mapping(im, m, v->cls[j], &dbid) < 0) {
			return -1;
		}
		remember(d, m, dbid);
	}
	for (uint32_t k = 0; k < nold; k++)
		if (im->old[k].alive != 2 && end_mapping(im, im->old[k].dbid) < 0)
			return -1;
	return 0;
}

static int on_smaps(void *ctx, const struct gs_smaps_view *v)
{
	struct importer *im = ctx;
	uint64_t tot[GS_SM_NFIELDS] = { 0 }, size_kb = 0;
	uint64_t cls[GS_NCLASSES][8] = { { 0 } };
	uint32_t present = (1u << GS_SM_NFIELDS) - 1;

	for (uint32_t i = 0; i < v->n; i++) {
		const struct gs_mapping *m = v->m[i];
		uint64_t kb = (m->end - m->start) / 1024;
		uint64_t *c = cls[v->cls[i]];

		present &= m->present;
		for (int f = 0; f < GS_SM_NFIELDS; f++)
			tot[f] += m->v[f];
		size_kb += kb;
		c[0]++;
		c[1] += kb;
		c[2] += m->v[GS_SM_RSS];
		c[3] += m->v[GS_SM_PSS];
		c[4] += m->v[GS_SM_ANONYMOUS];
		c[5] += m->v[GS_SM_ANON_HUGE];
		c[6] += m->v[GS_SM_PRIVATE_DIRTY];
		c[7] += m->v[GS_SM_SWAP];
	}
	if (!v->n)
		present = 0;
	if (insert_read(im, v->rec->t_ns, v->keyframe ? "key" : "delta", v->rec->wall_ns,
			v->rec->cpu_ns, v->n, size_kb, tot, present) < 0)
		return -1;
	for (int k = 0; k < GS_NCLASSES; k++) {
		sqlite3_stmt *s = im->st[S_CLASS];

		if (!cls[k][0])
			continue;
		BI(s, 1, im->read_id);
		BT(s, 2, gs_class_name(k));
		for (int j = 0; j < 8; j++)
			BI(s, 3 + j, cls[k][j]);
		if (step(im, s) < 0)
			return -1;
	}
	if (v->keyframe) {
		if (keyframe(im, v) < 0)
			goto oom;
		return 0;
	}
	/* A delta: removals, additions, updates, exactly as recorded. */
	const struct gs_rec_smaps *r = v->rec;

	for (uint32_t i = 0; i < r->nremoved; i++) {
		struct idinfo *d = &im->ids[r->removed[i]];	/* replay checked the id */

		d->alive = 0;
		if (end_mapping(im, d->dbid) < 0)
			return -1;
	}
	if (r->nadded) {
		if (grow_ids(im, v->first_new_id + r->nadded) < 0)
			goto oom;
		im->nids = v->first_new_id + r->nadded;
		for (uint32_t j = 0; j < v->n; j++) {
			if (v->id[j] < v->first_new_id)
				continue;
			int64_t dbid;

			if (insert_mapping(im, v->m[j], v->cls[j], &dbid) < 0)
				return -1;
			remember(&im->ids[v->id[j]], v->m[j], dbid);
		}
	}
	for (uint32_t i = 0; i < r->nupdated; i++) {
		uint32_t id = r->updated[i].id;
		const struct gs_mapping *m = &v->by_id[id];

		memcpy(im->ids[id].v, m->v, sizeof(m->v));
		if (insert_value(im, im->ids[id].dbid, m) < 0)
			return -1;
	}
	return 0;
oom:
	snprintf(im->err, sizeof(im->err), "out of memory");
	return -1;
}

static int on_cgroup(void *ctx, const struct gs_rec_cgroup *c)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_CGROUP];
	char json[1024];
	size_t k = 0;

	k += (size_t)snprintf(json + k, sizeof(json) - k, "{");
	for (uint32_t i = 0; i < c->ncounters && k < sizeof(json) - 80; i++) {
		char name[40];
		size_t n = 0;

		/* counter names come from the kernel; keep JSON well-formed anyway */
		for (const char *p = c->counters[i].name; *p && n < sizeof(name) - 1; p++)
			if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
				name[n++] = *p;
		name[n] = 0;
		k += (size_t)snprintf(json + k, sizeof(json) - k, "%s\"%s\":%" PRIu64,
				      i ? "," : "", name, c->counters[i].value);
	}
	snprintf(json + k, sizeof(json) - k, "}");
	BI(s, 1, c->t_ns);
	BI(s, 2, c->version);
	BT(s, 3, c->path);
	BI(s, 4, c->usage);
	if (c->limit == GS_CGROUP_NO_LIMIT)
		sqlite3_bind_null(s, 5);
	else
		BI(s, 5, c->limit);
	if (c->swap == GS_CGROUP_UNKNOWN)
		sqlite3_bind_null(s, 6);
	else
		BI(s, 6, c->swap);
	BT(s, 7, json);
	return step(im, s);
}

static int on_lost(void *ctx, const struct gs_rec_lost *l)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_LOST];
	char other[24];
	const char *name = gs_stream_name(l->stream);

	if (!name) {
		snprintf(other, sizeof(other), "stream%u", l->stream);
		name = other;
	}
	BI(s, 1, l->t_ns);
	BT(s, 2, name);
	BI(s, 3, l->count);
	return step(im, s);
}

static int on_message(void *ctx, const struct gs_rec_message *m)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_MESSAGE];
	static const char *const lv[] = { "info", "warning", "error" };

	BI(s, 1, m->t_ns);
	BT(s, 2, m->level < 3 ? lv[m->level] : "info");
	BT(s, 3, m->text);
	return step(im, s);
}

static int on_exit_rec(void *ctx, const struct gs_rec_exit *e)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_EXIT];

	BI(s, 1, e->t_ns);
	BT(s, 2, e->kind == GS_EXIT_CODE ? "exited" : e->kind == GS_EXIT_SIGNAL ? "signal" : "unknown");
	BI(s, 3, e->status);
	BI(s, 4, e->core_dumped);
	return step(im, s);
}

static int on_end(void *ctx, const struct gs_rec_end *e)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_END];
	static const char *const why[] = { "?", "target exited", "signal", "duration", "error" };

	BI(s, 1, e->t_ns);
	BT(s, 2, e->reason < 5 ? why[e->reason] : "?");
	BI(s, 3, e->statm_samples);
	BI(s, 4, e->smaps_reads);
	BI(s, 5, e->rollup_reads);
	BI(s, 6, e->cgroup_samples);
	BI(s, 7, e->lost);
	BI(s, 8, e->cpu_user_ns);
	BI(s, 9, e->cpu_sys_ns);
	BI(s, 10, e->max_rss_kb);
	BI(s, 11, e->records);
	BI(s, 12, e->raw_bytes);
	BI(s, 13, e->objects_cpu_ns);
	return step(im, s);
}

static int on_object(void *ctx, const struct gs_rec_object *o)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_OBJECT];
	char bid[2 * 64 + 1] = "", segs[16 * 96] = "[";
	size_t k = 1;

	for (uint32_t i = 0; i < o->build_id_len && i < 64; i++)
		sprintf(bid + 2 * i, "%02x", o->build_id[i]);
	for (uint32_t i = 0; i < o->nseg && i < 16; i++)
		k += (size_t)snprintf(segs + k, sizeof(segs) - k,
				      "%s{\"offset\":%" PRIu64 ",\"vaddr\":%" PRIu64 ",\"filesz\":%" PRIu64
				      ",\"memsz\":%" PRIu64 ",\"flags\":%u}", i ? "," : "",
				      o->seg[i].offset, o->seg[i].vaddr, o->seg[i].filesz,
				      o->seg[i].memsz, o->seg[i].flags);
	snprintf(segs + k, sizeof(segs) - k, "]");
	BI(s, 1, o->id);
	BI(s, 2, o->flags);
	BI(s, 3, !!(o->flags & GS_OBJ_MAIN));
	BI(s, 4, !!(o->flags & GS_OBJ_GO));
	BI(s, 5, !!(o->flags & GS_OBJ_DYN));
	BT(s, 6, o->path);
	BI(s, 7, o->dev);
	BI(s, 8, o->inode);
	BT(s, 9, bid);
	BT(s, 10, o->go_build_id);
	BT(s, 11, o->go_version);
	BT(s, 12, segs);
	return step(im, s);
}

const char *gs_table_kind_name(unsigned kind)
{
	switch (kind) {
	case GS_TAB_GO_PCLNTAB: return "go.pclntab";
	case GS_TAB_GO_INLTREE: return "go.inltree";
	case GS_TAB_ELF_SYMBOLS: return "elf.symbols";
	case GS_TAB_GO_TEXT: return "go.text";
	}
	return NULL;
}

static int on_table(void *ctx, const struct gs_rec_object_table *t)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_TABLE];
	const char *kind = gs_table_kind_name(t->kind);

	if (!kind)
		return 0;	/* a table kind from a newer gsrec */
	BI(s, 1, t->object);
	BT(s, 2, kind);
	BI(s, 3, t->total);
	BI(s, 4, t->offset);
	sqlite3_bind_blob(s, 5, t->data, (int)t->len, SQLITE_STATIC);
	return step(im, s);
}

static int on_check(void *ctx, const struct gs_rec_go_check *k)
{
	static const char *const verdict[] = { "not checked", "verified", "contradicted" };
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_CHECK];

	for (uint32_t i = 0; i < k->n; i++) {
		BI(s, 1, k->object);
		BT(s, 2, k->e[i].name);
		BT(s, 3, k->e[i].verdict < 3 ? verdict[k->e[i].verdict] : "not checked");
		BT(s, 4, k->e[i].how);
		if (step(im, s) < 0)
			return -1;
	}
	return 0;
}

static int on_heap_bucket(void *ctx, const struct gs_rec_heap_bucket *b)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_HEAP_BUCKET];

	BI(s, 1, b->id);
	BI(s, 2, b->stack);
	BI(s, 3, b->size);
	BI(s, 4, b->addr);
	return step(im, s);
}

/*
 * A snapshot's counts are those it holds and, for buckets it leaves out, the
 * latest before it back to a full one (FORMAT.md §6.29): known says that
 * chain is whole, no snapshot in it lost to damage.
 */
static int on_heap_profile(void *ctx, const struct gs_rec_heap_profile *h)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_HEAP_SNAP];
	int full = !!(h->flags & GS_HEAP_FULL);
	int known = full || (im->heap_known && h->seq == im->heap_seq + 1);

	im->heap_known = known;
	im->heap_seq = h->seq;
	BI(s, 1, h->seq);
	BI(s, 2, h->t_ns);
	BI(s, 3, h->cycle);
	BI(s, 4, full);
	BI(s, 5, known);
	BI(s, 6, h->rate);
	BI(s, 7, h->skipped);
	BI(s, 8, h->cpu_ns);
	BI(s, 9, h->n);
	if (step(im, s) < 0)
		return -1;
	s = im->st[S_HEAP_COUNT];
	for (uint32_t i = 0; i < h->n; i++) {
		BI(s, 1, h->seq);
		BI(s, 2, h->c[i].bucket);
		BI(s, 3, h->c[i].allocs);
		BI(s, 4, h->c[i].frees);
		if (step(im, s) < 0)
			return -1;
	}
	return 0;
}

static int on_layout(void *ctx, const struct gs_rec_go_layout *l)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_LAYOUT];

	for (uint32_t i = 0; i < l->n; i++) {
		BI(s, 1, l->object);
		BT(s, 2, l->e[i].name);
		if (l->e[i].value >= 0)
			BI(s, 3, l->e[i].value);
		else
			sqlite3_bind_null(s, 3);
		BT(s, 4, gs_lay_source_name((int)l->e[i].source));
		if (step(im, s) < 0)
			return -1;
	}
	return 0;
}

static int on_stack(void *ctx, const struct gs_rec_stack *st)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_STACK];
	uint8_t *blob = malloc(st->n * 8 + 1);

	if (!blob)
		return -1;
	for (uint32_t i = 0; i < st->n; i++)	/* little-endian u64 each */
		for (int b = 0; b < 8; b++)
			blob[i * 8 + b] = (uint8_t)(st->pc[i] >> (8 * b));
	BI(s, 1, st->id);
	BI(s, 2, st->n);
	sqlite3_bind_blob(s, 3, blob, (int)(st->n * 8), SQLITE_TRANSIENT);
	free(blob);
	return step(im, s);
}

static int on_cpu(void *ctx, const struct gs_rec_cpu_sample *c)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_CPU];

	BI(s, 1, c->t_ns);
	BI(s, 2, c->tid);
	if (c->goid >= 0)
		BI(s, 3, c->goid);
	else
		sqlite3_bind_null(s, 3);
	BI(s, 4, c->stack);
	BI(s, 5, c->sp_word);
	return step(im, s);
}

static int on_fault(void *ctx, const struct gs_rec_fault *f)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_FAULT];

	BI(s, 1, f->t_ns);
	BI(s, 2, f->tid);
	if (f->goid >= 0)
		BI(s, 3, f->goid);
	else
		sqlite3_bind_null(s, 3);
	BI(s, 4, f->addr);
	BI(s, 5, f->major);
	BI(s, 6, f->stack);
	BI(s, 7, f->sp_word);
	return step(im, s);
}

static int on_smaps_lost(void *ctx, uint64_t t_ns)
{
	struct importer *im = ctx;

	(void)t_ns;
	im->smaps_lost++;
	return 0;
}

/* The stretches the reader skipped (FORMAT.md §3.1), as the health says. */
static int put_damage(sqlite3 *db, const struct gs_health *h)
{
	sqlite3_stmt *s;
	int ret = 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO damage VALUES(?,?,?,?)", -1, &s, NULL))
		return -1;
	for (uint32_t i = 0; i < h->ndamage && !ret; i++) {
		sqlite3_bind_int64(s, 1, (sqlite3_int64)h->damage[i].offset);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)h->damage[i].bytes);
		sqlite3_bind_int64(s, 3, h->damage[i].frames);
		sqlite3_bind_text(s, 4, h->damage[i].why, -1, SQLITE_STATIC);
		ret = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return ret;
}

static int on_release(void *ctx, const struct gs_rec_release *r)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_RELEASE];
	static const char *const kinds[] = { "?", "munmap", "madvise", "mremap", "brk" };

	BI(s, 1, r->t_ns);
	BI(s, 2, r->tid);
	BT(s, 3, r->kind <= GS_REL_BRK ? kinds[r->kind] : "?");
	/* Fields a call does not have are 0 (FORMAT.md §6.18); traces before
	 * format 1.1 could hold a stale register in munmap's arg. */
	BI(s, 4, r->kind == GS_REL_BRK ? 0 : r->addr);
	BI(s, 5, r->kind == GS_REL_BRK ? 0 : r->len);
	BI(s, 6, r->kind == GS_REL_MUNMAP ? 0 : r->arg);
	return step(im, s);
}

/* ---- goroutines and GC ---- */

static size_t gslot(struct importer *im, uint64_t g)
{
	size_t j = (size_t)((g >> 3) * 0x9e3779b97f4a7c15ull) & (im->gmap_cap - 1);

	while (im->gmap[j].g && im->gmap[j].g != g)
		j = (j + 1) & (im->gmap_cap - 1);
	return j;
}

/* g's open creation row, or 0; take removes it (linear probing: reinsert the rest). */
static int64_t gmap_take(struct importer *im, uint64_t g)
{
	if (!im->gmap_cap || !g)
		return 0;
	size_t j = gslot(im, g);
	int64_t row = im->gmap[j].row;

	if (!im->gmap[j].g)
		return 0;
	im->gmap[j].g = 0;
	im->gmap_n--;
	for (size_t k = (j + 1) & (im->gmap_cap - 1); im->gmap[k].g; k = (k + 1) & (im->gmap_cap - 1)) {
		uint64_t gg = im->gmap[k].g;
		int64_t rr = im->gmap[k].row;

		im->gmap[k].g = 0;
		size_t d = gslot(im, gg);

		im->gmap[d].g = gg;
		im->gmap[d].row = rr;
	}
	return row;
}

static int gmap_put(struct importer *im, uint64_t g, int64_t row)
{
	if (!g)
		return 0;
	if ((im->gmap_n + 1) * 2 > im->gmap_cap) {
		size_t cap = im->gmap_cap ? im->gmap_cap * 2 : 1024, oldcap = im->gmap_cap;
		struct gent *old = im->gmap;

		im->gmap = calloc(cap, sizeof(*im->gmap));
		if (!im->gmap) {
			im->gmap = old;
			snprintf(im->err, sizeof(im->err), "out of memory");
			return -1;
		}
		im->gmap_cap = cap;
		for (size_t i = 0; i < oldcap; i++) {
			if (old[i].g)
				im->gmap[gslot(im, old[i].g)] = old[i];
		}
		free(old);
	}
	size_t j = gslot(im, g);

	if (!im->gmap[j].g)
		im->gmap_n++;
	im->gmap[j].g = g;	/* a creation with no exit seen for the g before: lost */
	im->gmap[j].row = row;
	return 0;
}

static void bind_goid(sqlite3_stmt *s, int i, int64_t goid)
{
	if (goid >= 0)
		BI(s, i, goid);
	else
		sqlite3_bind_null(s, i);
}

static int on_go_create(void *ctx, const struct gs_rec_go_create *c)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_GO_CREATE];

	BI(s, 1, c->t_ns);
	BI(s, 2, c->tid);
	BI(s, 3, c->g);
	bind_goid(s, 4, c->parent);
	BI(s, 5, c->gopc);
	BI(s, 6, c->startpc);
	BI(s, 7, c->stack);
	if (step(im, s) < 0)
		return -1;
	return gmap_put(im, c->g, sqlite3_last_insert_rowid(im->db));
}

static int on_go_exit(void *ctx, const struct gs_rec_go_exit *e)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_GO_EXIT];
	int64_t row = gmap_take(im, e->g);

	BI(s, 1, e->t_ns);
	BI(s, 2, e->tid);
	BI(s, 3, e->g);
	bind_goid(s, 4, e->goid);
	BI(s, 5, e->gopc);
	BI(s, 6, e->startpc);
	BI(s, 7, row != 0);
	if (step(im, s) < 0)
		return -1;
	if (!row)
		return 0;
	s = im->st[S_GO_EXITED];
	bind_goid(s, 1, e->goid);
	BI(s, 2, e->t_ns);
	BI(s, 3, row);
	return step(im, s);
}

static int on_go_stack(void *ctx, const struct gs_rec_go_stack *g)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_GO_STACK];

	BI(s, 1, g->t_ns);
	BI(s, 2, g->tid);
	BI(s, 3, g->g);
	bind_goid(s, 4, g->goid);
	BI(s, 5, g->old_size);
	BI(s, 6, g->new_size);
	BI(s, 7, g->stack);
	BI(s, 8, g->sp_word);
	return step(im, s);
}

static int on_gc_event(void *ctx, const struct gs_rec_gc_event *e)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_GC_EVENT];

	BI(s, 1, e->t_ns);
	BI(s, 2, e->tid);
	BT(s, 3, e->kind == GS_GC_START ? "start" : e->kind == GS_GC_MARK_TERM ? "mark_termination"
									     : "?");
	return step(im, s);
}

static void bind_opt(sqlite3_stmt *s, int i, uint64_t v)
{
	if (v == GS_UNKNOWN)
		sqlite3_bind_null(s, i);
	else
		BI(s, i, v);
}

static int on_gc_cycle(void *ctx, const struct gs_rec_gc_cycle *c)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_GC_CYCLE];

	BI(s, 1, c->numgc);
	BI(s, 2, c->t_ns);
	BI(s, 3, c->flags & GS_GC_EXACT ? 1 : 0);
	BI(s, 4, c->last_gc_unix_ns);
	BI(s, 5, c->pause_ns);
	BI(s, 6, c->pause_total_ns);
	bind_opt(s, 7, c->heap_live);
	bind_opt(s, 8, c->heap_marked);
	bind_opt(s, 9, c->heap_inuse);
	bind_opt(s, 10, c->heap_released);
	return step(im, s);
}

static int on_go_heap(void *ctx, const struct gs_rec_go_heap *h)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_GO_HEAP];

	BI(s, 1, h->t_ns);
	BI(s, 2, h->numgc);
	bind_opt(s, 3, h->heap_live);
	bind_opt(s, 4, h->heap_inuse);
	bind_opt(s, 5, h->heap_released);
	return step(im, s);
}

static int on_go_pause(void *ctx, const struct gs_rec_go_pause *p)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_GO_PAUSE];

	BI(s, 1, p->t_ns);
	BI(s, 2, p->end_ns);
	BI(s, 3, p->refused);
	return step(im, s);
}

static int on_census(void *ctx, const struct gs_rec_census *c)
{
	struct importer *im = ctx;
	sqlite3_stmt *s = im->st[S_CENSUS];
	int64_t id = ++im->census_id;

	BI(s, 1, id);
	BI(s, 2, c->t_ns);
	BI(s, 3, c->wall_ns);
	BI(s, 4, c->cpu_ns);
	BI(s, 5, c->allglen);
	BI(s, 6, c->stack_bytes);
	for (int i = 0; i < GS_G_NSTATUS; i++)
		if (i != 5 && i != 7)	/* the runtime's unused statuses */
			BI(s, 7 + i - (i > 5) - (i > 7), c->status[i]);
	if (step(im, s) < 0)
		return -1;
	s = im->st[S_CENSUS_SITE];
	for (uint32_t i = 0; i < c->nsites; i++) {
		BI(s, 1, id);
		BI(s, 2, c->sites[i].gopc);
		BI(s, 3, c->sites[i].startpc);
		BI(s, 4, c->sites[i].count);
		BI(s, 5, c->sites[i].stack_bytes);
		if (step(im, s) < 0)
			return -1;
	}
	s = im->st[S_CENSUS_G];
	for (uint32_t i = 0; i < c->ntop; i++) {
		const struct gs_census_g *t = &c->top[i];

		BI(s, 1, id);
		BI(s, 2, i + 1);
		BI(s, 3, t->g);
		bind_goid(s, 4, t->goid);
		BI(s, 5, t->status);
		BI(s, 6, t->stack_size);
		BI(s, 7, t->gopc);
		BI(s, 8, t->startpc);
		if (t->stack == GS_NO_STACK)
			sqlite3_bind_null(s, 9);
		else
			BI(s, 9, t->stack);
		BI(s, 10, t->sp_word);
		if (step(im, s) < 0)
			return -1;
	}
	return 0;
}

static void on_progress(void *ctx, uint64_t bytes, uint64_t total)
{
	struct importer *im = ctx;

	if (im->progress && total)
		fprintf(stderr, "\rgsreport: importing %3.0f%%", 100.0 * (double)bytes / (double)total);
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *e = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK) {
		snprintf(err, errlen, "%s", e ? e : sqlite3_errmsg(db));
		sqlite3_free(e);
		return -1;
	}
	return 0;
}

static int meta(sqlite3 *db, const char *key, sqlite3_int64 iv, const char *sv)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta VALUES(?,?)", -1, &s, NULL))
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sv)
		sqlite3_bind_text(s, 2, sv, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(s, 2, iv);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int gs_import(sqlite3 *db, struct gs_reader *r, const char *trace_path,
	      const struct stat *st, int progress, char *err, size_t errlen)
{
	static const char *const sql[S_NSTMT] = {
		[S_TARGET] = "INSERT INTO target VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		[S_CLOCK] = "INSERT INTO clock VALUES(?,?,?)",
		[S_STATM] = "INSERT OR IGNORE INTO statm VALUES(?,?,?,?,?,?)",
		[S_READ] = "INSERT INTO smaps_read VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		[S_CLASS] = "INSERT INTO smaps_class VALUES(?,?,?,?,?,?,?,?,?,?)",
		[S_MAPPING] = "INSERT INTO mapping VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,NULL)",
		[S_MAPPING_END] = "UPDATE mapping SET last_read=? WHERE id=?",
		[S_CGROUP] = "INSERT INTO cgroup VALUES(?,?,?,?,?,?,?)",
		[S_LOST] = "INSERT INTO lost VALUES(?,?,?)",
		[S_MESSAGE] = "INSERT INTO message VALUES(?,?,?)",
		[S_EXIT] = "INSERT INTO exit VALUES(?,?,?,?)",
		[S_END] = "INSERT INTO recording VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
		[S_OBJECT] = "INSERT OR REPLACE INTO object VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
		[S_TABLE] = "INSERT OR REPLACE INTO object_table VALUES(?,?,?,?,?)",
		[S_LAYOUT] = "INSERT INTO go_layout VALUES(?,?,?,?)",
		[S_CHECK] = "INSERT INTO go_check VALUES(?,?,?,?)",
		[S_STACK] = "INSERT OR REPLACE INTO stack VALUES(?,?,?)",
		[S_CPU] = "INSERT INTO cpu_sample VALUES(?,?,?,?,?)",
		[S_FAULT] = "INSERT INTO fault VALUES(?,?,?,?,?,?,?)",
		[S_RELEASE] = "INSERT INTO release VALUES(?,?,?,?,?,?)",
		[S_GO_CREATE] = "INSERT INTO go_create VALUES(?,?,?,?,?,?,?,NULL,NULL)",
		[S_GO_EXIT] = "INSERT INTO go_exit VALUES(?,?,?,?,?,?,?)",
		[S_GO_EXITED] = "UPDATE go_create SET goid=?, exit_t_ns=? WHERE rowid=?",
		[S_GO_STACK] = "INSERT INTO go_stack VALUES(?,?,?,?,?,?,?,?)",
		[S_GC_EVENT] = "INSERT INTO gc_event VALUES(?,?,?)",
		[S_GC_CYCLE] = "INSERT OR REPLACE INTO gc_cycle VALUES(?,?,?,?,?,?,?,?,?,?)",
		[S_GO_HEAP] = "INSERT INTO go_heap VALUES(?,?,?,?,?)",
		[S_GO_PAUSE] = "INSERT INTO go_pause VALUES(?,?,?)",
		[S_CENSUS] = "INSERT INTO census VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		[S_CENSUS_SITE] = "INSERT INTO census_site VALUES(?,?,?,?,?)",
		[S_CENSUS_G] = "INSERT INTO census_g VALUES(?,?,?,?,?,?,?,?,?,?)",
		[S_HEAP_BUCKET] = "INSERT OR REPLACE INTO heap_bucket VALUES(?,?,?,?)",
		[S_HEAP_SNAP] = "INSERT OR REPLACE INTO heap_snapshot VALUES(?,?,?,?,?,?,?,?,?)",
		[S_HEAP_COUNT] = "INSERT INTO heap_count VALUES(?,?,?,?)",
	};
	struct importer im = { .db = db, .page_size = 4096, .progress = progress };
	struct gs_tool tool = {
		.target = on_target, .clock = on_clock, .smaps = on_smaps,
		.rollup = on_rollup, .statm = on_statm, .cgroup = on_cgroup,
		.lost = on_lost, .message = on_message, .exit = on_exit_rec, .end = on_end,
		.object = on_object, .table = on_table, .layout = on_layout, .go_check = on_check,
		.stack = on_stack, .cpu = on_cpu, .fault = on_fault, .release = on_release,
		.go_create = on_go_create, .go_exit = on_go_exit, .go_stack = on_go_stack,
		.gc_event = on_gc_event, .gc_cycle = on_gc_cycle, .go_heap = on_go_heap,
		.go_pause = on_go_pause,
		.census = on_census, .heap_bucket = on_heap_bucket, .heap_profile = on_heap_profile,
		.progress = on_progress, .smaps_lost = on_smaps_lost,
	};
	char cols[2048] = "", value_sql[1024], ddl[sizeof(schema) + 2048];
	char statm_sql[64 + STATM_BATCH * 16];
	size_t k = 0;
	int ret = -1;

	/* mapping_value has a column per smaps field, named after the kernel's */
	for (int f = 0; f < GS_SM_NFIELDS; f++) {
		char c[48];

		field_column(f, c, sizeof(c));
		k += (size_t)snprintf(cols + k, sizeof(cols) - k, "%s%s INTEGER", f ? ", " : "", c);
	}
	snprintf(ddl, sizeof(ddl), schema, cols);
	k = (size_t)snprintf(value_sql, sizeof(value_sql), "INSERT INTO mapping_value VALUES(?,?");
	for (int f = 0; f < GS_SM_NFIELDS; f++)
		k += (size_t)snprintf(value_sql + k, sizeof(value_sql) - k, ",?");
	snprintf(value_sql + k, sizeof(value_sql) - k, ")");
	k = (size_t)snprintf(statm_sql, sizeof(statm_sql), "INSERT OR IGNORE INTO statm VALUES");
	for (int i = 0; i < STATM_BATCH; i++)
		k += (size_t)snprintf(statm_sql + k, sizeof(statm_sql) - k, "%s(?,?,?,?,?,?)",
				      i ? "," : "");

	if (exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
		 "PRAGMA locking_mode=EXCLUSIVE; BEGIN", err, errlen) < 0 ||
	    exec(db, ddl, err, errlen) < 0)
		return -1;
	for (int i = 0; i < S_NSTMT; i++) {
		const char *q = i == S_VALUE ? value_sql : i == S_STATM_BATCH ? statm_sql : sql[i];

		if (sqlite3_prepare_v3(db, q, -1, SQLITE_PREPARE_PERSISTENT, &im.st[i], NULL)) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
			goto out;
		}
	}
	if (gs_replay(r, &tool, &im) != 0 || flush_statm(&im) < 0) {
		snprintf(err, errlen, "%s", im.err[0] ? im.err : "out of memory replaying the trace");
		goto out;
	}
	if (progress)
		fprintf(stderr, "\r\033[K");

	const struct gs_health *h = gs_reader_health(r);
	char ver[16];

	snprintf(ver, sizeof(ver), "%u.%u", h->version_major, h->version_minor);
	if (meta(db, "schema_version", GS_SCHEMA_VERSION, NULL) ||
	    meta(db, "trace_path", 0, trace_path) ||
	    meta(db, "trace_size", st ? (sqlite3_int64)st->st_size : 0, NULL) ||
	    meta(db, "trace_mtime_ns", st ? (sqlite3_int64)st->st_mtim.tv_sec * 1000000000 +
						    st->st_mtim.tv_nsec : 0, NULL) ||
	    meta(db, "trace_inode", st ? (sqlite3_int64)st->st_ino : 0, NULL) ||
	    meta(db, "format_version", 0, ver) ||
	    meta(db, "created_real_ns", (sqlite3_int64)h->created_real_ns, NULL) ||
	    meta(db, "file_bytes", (sqlite3_int64)h->file_bytes, NULL) ||
	    meta(db, "good_bytes", (sqlite3_int64)h->good_bytes, NULL) ||
	    meta(db, "frames", (sqlite3_int64)h->frames, NULL) ||
	    meta(db, "records", (sqlite3_int64)h->records, NULL) ||
	    meta(db, "unknown_records", (sqlite3_int64)h->unknown_records, NULL) ||
	    meta(db, "damaged", h->damaged, NULL) ||
	    meta(db, "statm_duplicates", im.statm_dups, NULL) ||
	    meta(db, "table_raw_bytes", (sqlite3_int64)h->table_raw_bytes, NULL) ||
	    meta(db, "table_frame_bytes", (sqlite3_int64)h->table_frame_bytes, NULL) ||
	    meta(db, "damage", 0, h->damaged ? h->why : "") ||
	    meta(db, "gaps", h->gaps, NULL) ||
	    meta(db, "skipped_bytes", (sqlite3_int64)h->skipped_bytes, NULL) ||
	    meta(db, "frames_lost", (sqlite3_int64)h->frames_lost, NULL) ||
	    meta(db, "bad_records", (sqlite3_int64)h->bad_records, NULL) ||
	    meta(db, "cut_short", h->cut_short, NULL) ||
	    meta(db, "smaps_reads_lost", im.smaps_lost, NULL) || put_damage(db, h)) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		goto out;
	}
	if (exec(db, indexes, err, errlen) < 0 || exec(db, "COMMIT", err, errlen) < 0)
		goto out;
	ret = 0;
out:
	for (int i = 0; i < S_NSTMT; i++)
		sqlite3_finalize(im.st[i]);
	free(im.ids);
	free(im.old);
	free(im.gmap);
	if (ret < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

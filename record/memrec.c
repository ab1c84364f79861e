/*
 * memrec.c - records a process's memory from /proc.
 *
 * statm is cheap (microseconds) and read every tick. smaps is not: the
 * kernel walks every page table of the target under its mmap lock, ~9 ms per
 * GB resident here. So smaps reads are paced by a CPU budget: a token bucket
 * fills at budget x elapsed time, everything gsrec spends (statm, cgroup,
 * compression, smaps, and up to a share the eBPF events and Go runtime
 * figures: memrec_tick) is taken out of it, and a read happens only when the
 * bucket holds what the last read of that kind cost plus one full read in
 * reserve for the final read gsrec makes when it stops. A big target is thus
 * read less often, never at a higher cost. smaps_rollup costs the same page
 * walk, so it is used only when two things are measured: full reads cannot
 * run every smaps_min_ms within the budget, and a rollup costs under a third
 * of a full read (a target with thousands of mappings, where formatting
 * dominates). Then four of five reads are rollups (totals only) and every
 * fifth is per-mapping, or the next one when a rollup finds Pss moved by
 * more than 1/32 since the last per-mapping read (its classes are stale;
 * a launched target that exits gets no final read). The rollup's cost is measured again every 64 full
 * reads, since a target's shape changes. The budget counts from when
 * recording begins (memrec_budget_start): setting up is a one-time cost.
 * One exception to the budget keeps Pss by mapping from going stale while
 * the target's memory moves: read_due().
 *
 * Each per-mapping read is diffed against the previous one and written as a
 * delta (FORMAT.md §6.4); every keyframe_every reads, or when ids have
 * churned, a keyframe restarts the ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memrec.h"

static uint64_t cpu_ns(clockid_t c)
{
	return gs_now_ns(c);
}

int memrec_open(struct memrec *m, pid_t pid, struct gs_writer *w,
		const struct memrec_opts *o, char *err, size_t errlen)
{
	char path[64], cgpath[64];

	memset(m, 0, sizeof(*m));
	m->pid = pid;
	m->w = w;
	m->o = *o;
	m->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	if (!m->o.keyframe_every)
		m->o.keyframe_every = 100;
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	snprintf(m->smaps_path, sizeof(m->smaps_path), "/proc/%d/smaps", (int)pid);
	snprintf(m->rollup_path, sizeof(m->rollup_path), "/proc/%d/smaps_rollup", (int)pid);
	snprintf(m->maps_path, sizeof(m->maps_path), "/proc/%d/maps", (int)pid);
	m->statm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (m->statm_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	/* A kernel thread or a zombie has no address space: nothing to record.
	 * (A launched command that has exited already is recorded: its exit.) */
	struct gs_statm st;

	if (!o->launched && gs_file_pread(&m->statm_text, m->statm_fd) == 0 &&
	    gs_parse_statm(m->statm_text.buf, &st) == 0 && st.size == 0) {
		struct gs_file stat = { 0 };
		char comm[64] = "?", state = 0;
		uint64_t ticks;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if (gs_file_read_path(&stat, path) == 0)
			gs_parse_stat(stat.buf, comm, sizeof(comm), &ticks, &state);
		gs_file_free(&stat);
		snprintf(err, errlen, state == 'Z'
			 ? "process %d (%s) is a zombie: it has exited and holds no memory "
			   "(its parent has not reaped it)"
			 : "process %d (%s) has no user memory (a kernel thread): give the pid "
			   "of a user process", (int)pid, comm);
		close(m->statm_fd);
		m->statm_fd = -1;
		errno = ENODATA;
		return -1;
	}
	/* smaps needs ptrace read access, statm does not: check it now. */
	int fd = open(m->smaps_path, O_RDONLY | O_CLOEXEC);
	char c;

	if (fd < 0 || read(fd, &c, 1) < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot read %s: %s", m->smaps_path, strerror(e));
		if (fd >= 0)
			close(fd);
		close(m->statm_fd);
		errno = e == ENOENT ? ESRCH : e;
		return -1;
	}
	close(fd);
	snprintf(cgpath, sizeof(cgpath), "/proc/%d/cgroup", (int)pid);
	gs_cgroup_open(&m->cg, cgpath, "/proc/self/mountinfo");
	m->last_tick_ns = gs_now_ns(CLOCK_MONOTONIC);
	m->last_cpu_ns = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
	return 0;
}

void memrec_close(struct memrec *m)
{
	if (m->statm_fd >= 0)
		close(m->statm_fd);
	gs_cgroup_close(&m->cg);
	gs_file_free(&m->statm_text);
	gs_file_free(&m->maps_text);
	gs_smaps_free(&m->maps);
	for (int i = 0; i < 2; i++) {
		gs_file_free(&m->snap[i].text);
		gs_smaps_free(&m->snap[i].parsed);
		free(m->snap[i].ids);
	}
	free(m->upd);
	free(m->rm);
	free(m->add);
	memset(m, 0, sizeof(*m));
	m->statm_fd = -1;
}

#define GROW(p, cap, n)                                                      \
	({                                                                   \
		int ok_ = 1;                                                 \
		if ((n) > (cap)) {                                           \
			uint32_t c_ = (n) * 2;                               \
			void *q_ = realloc((p), c_ * sizeof(*(p)));          \
			if (q_) { (p) = q_; (cap) = c_; } else ok_ = 0;      \
		}                                                            \
		ok_;                                                         \
	})

static int diff_and_write(struct memrec *m, uint64_t t, uint64_t wall, uint64_t cpu)
{
	struct smaps_snap *cur = &m->snap[m->cur], *prev = &m->snap[!m->cur];
	const struct gs_mapping *c = cur->parsed.m, *p = prev->parsed.m;
	uint32_t nc = cur->parsed.n, np = m->have_prev ? prev->parsed.n : 0;
	uint32_t nrm = 0, nadd = 0, nupd = 0;
	int key = !m->have_prev || m->since_key + 1 >= m->o.keyframe_every ||
		  m->next_id > 4 * (nc + 64);
	struct gs_record rec = { .type = key ? GS_REC_SMAPS_KEY : GS_REC_SMAPS_DELTA };

	if (!GROW(cur->ids, cur->idcap, nc + 1) || !GROW(m->add, m->cap_add, nc + 1) ||
	    !GROW(m->upd, m->cap_upd, nc + 1) || !GROW(m->rm, m->cap_rm, np + 1)) {
		errno = ENOMEM;
		return -1;
	}
	if (key) {
		m->next_id = nc;
		m->since_key = 0;
		for (uint32_t j = 0; j < nc; j++)
			cur->ids[j] = j;
		rec.u.smaps.nadded = nc;
		rec.u.smaps.added = c;
	} else {
		uint32_t i = 0, j = 0;

		m->since_key++;
		while (i < np || j < nc) {
			if (j >= nc || (i < np && p[i].start < c[j].start)) {
				m->rm[nrm++] = prev->ids[i++];
			} else if (i >= np || c[j].start < p[i].start) {
				m->add[nadd++] = c[j];
				cur->ids[j++] = m->next_id++;
			} else if (gs_mapping_same_identity(&p[i], &c[j])) {
				struct gs_smaps_update *u = &m->upd[nupd];

				u->mask = 0;
				for (int f = 0; f < GS_SM_NFIELDS; f++)
					if (p[i].v[f] != c[j].v[f]) {
						u->mask |= 1u << f;
						u->v[f] = c[j].v[f];
					}
				if (u->mask) {
					u->id = prev->ids[i];
					nupd++;
				}
				cur->ids[j++] = prev->ids[i++];
			} else {
				m->rm[nrm++] = prev->ids[i++];
				m->add[nadd++] = c[j];
				cur->ids[j++] = m->next_id++;
			}
		}
		rec.u.smaps.nremoved = nrm;
		rec.u.smaps.removed = m->rm;
		rec.u.smaps.nadded = nadd;
		rec.u.smaps.added = m->add;
		rec.u.smaps.nupdated = nupd;
		rec.u.smaps.updated = m->upd;
	}
	rec.u.smaps.t_ns = t;
	rec.u.smaps.read_plus_1 = m->smaps_reads + 1;	/* this read's number, 0-based */
	rec.u.smaps.wall_ns = wall;
	rec.u.smaps.cpu_ns = cpu;
	m->have_prev = 1;
	return gs_writer_add(m->w, &rec);
}

/*
 * smaps is read a page or so per read(2), each under its own reference to
 * the target's address space. If the target exits between two of them, the
 * later ones find no address space and the text just ends: a well-formed
 * list that lacks the rest of the mappings. The address space cannot come
 * back, so one still there after the read (statm shows it) was there all
 * through it, and the list is whole.
 */
static int mm_alive(struct memrec *m)
{
	struct gs_statm st;

	return gs_file_pread(&m->statm_text, m->statm_fd) == 0 &&
	       gs_parse_statm(m->statm_text.buf, &st) == 0 && st.size != 0;
}

/* Returns 0 read, 1 the target is gone, -1 writer error. */
static int read_smaps(struct memrec *m, uint64_t now, int full)
{
	uint64_t c0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
	int next = m->have_prev ? !m->cur : m->cur;
	struct smaps_snap *s = &m->snap[next];
	char err[128];

	if (gs_file_read_path(&s->text, full ? m->smaps_path : m->rollup_path) < 0 ||
	    s->text.len == 0 || (full && !mm_alive(m))) {
		/* gone, or a zombie (empty smaps), or exited during the read */
		return 1;
	}
	if (gs_smaps_parse(s->text.buf, s->text.len, &s->parsed, err, sizeof(err)) < 0) {
		struct gs_record r = { .type = GS_REC_LOST };

		r.u.lost = (struct gs_rec_lost){ now, GS_STREAM_SMAPS, 1 };
		m->lost++;
		return gs_writer_add(m->w, &r) < 0 ? -1 : 0;
	}
	uint64_t wall = gs_now_ns(CLOCK_MONOTONIC) - now;
	int ret;

	if (full) {
		m->cur = next;
		ret = diff_and_write(m, now, wall, cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
		uint64_t pss = 0;

		for (uint32_t i = 0; i < s->parsed.n; i++)
			pss += s->parsed.m[i].v[GS_SM_PSS];
		m->last_pss_kb = m->full_pss_kb = pss;
		m->full_rss_pages = m->last_rss_pages;
		m->full_ns = now;
		m->smaps_reads++;
		m->reads_since_full = 0;
	} else {
		struct gs_record r = { .type = GS_REC_SMAPS_ROLLUP };

		if (s->parsed.n != 1)
			return 0;
		r.u.rollup.t_ns = now;
		r.u.rollup.wall_ns = wall;
		r.u.rollup.cpu_ns = cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		r.u.rollup.mask = s->parsed.m[0].present;
		memcpy(r.u.rollup.v, s->parsed.m[0].v, sizeof(r.u.rollup.v));
		m->last_pss_kb = s->parsed.m[0].v[GS_SM_PSS];
		m->rollup_reads++;
		m->reads_since_full++;
		uint64_t moved = m->last_pss_kb > m->full_pss_kb ? m->last_pss_kb - m->full_pss_kb
								 : m->full_pss_kb - m->last_pss_kb;
		if (moved > m->full_pss_kb / 32)
			m->reads_since_full = 4;	/* the classes are stale: full next */
		ret = gs_writer_add(m->w, &r);
	}
	double cost = (double)(cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
	double *est = full ? &m->est_full_ns : &m->est_rollup_ns;

	*est = *est ? 0.7 * *est + 0.3 * cost : cost;
	m->last_smaps_ns = now;
	return ret < 0 ? -1 : 0;
}

static void choose_rollup(struct memrec *m)
{
	double affordable_ns = m->o.cpu_budget * m->o.smaps_min_ms * 1e6;

	m->use_rollup = m->est_full_ns > affordable_ns && m->est_rollup_ns * 3 < m->est_full_ns;
}

int memrec_smaps_now(struct memrec *m, uint64_t now, int full)
{
	int r = read_smaps(m, now, full);

	if (r != 0 || !full)
		return r;
	/* Once full reads are too dear for the budget, measure a rollup (again
	 * every 64 full reads): it replaces them only if much cheaper. */
	if (!m->use_rollup && m->est_full_ns > m->o.cpu_budget * m->o.smaps_min_ms * 1e6 &&
	    (!m->rollup_measured || m->smaps_reads - m->rollup_measured >= 64)) {
		m->rollup_measured = m->smaps_reads;
		r = read_smaps(m, gs_now_ns(CLOCK_MONOTONIC), 0);
	}
	choose_rollup(m);
	return r;
}

static int sample_cgroup(struct memrec *m, uint64_t now)
{
	struct gs_record r = { .type = GS_REC_CGROUP };
	uint64_t sum = 0;

	if (!m->cg.version || gs_cgroup_read(&m->cg, &r.u.cgroup) < 0)
		return 0;
	for (uint32_t i = 0; i < r.u.cgroup.ncounters; i++)
		sum += r.u.cgroup.counters[i].value;
	/* Write on change, and once a second so a timeline has fresh rows. */
	if (m->cgroup_samples && r.u.cgroup.usage == m->cg_last_usage &&
	    r.u.cgroup.limit == m->cg_last_limit && sum == m->cg_last_sum &&
	    now - m->cg_last_ns < 1000000000ull)
		return 0;
	r.u.cgroup.t_ns = now;
	m->cg_last_usage = r.u.cgroup.usage;
	m->cg_last_limit = r.u.cgroup.limit;
	m->cg_last_sum = sum;
	m->cg_last_ns = now;
	m->cgroup_samples++;
	return gs_writer_add(m->w, &r);
}

void memrec_events_cpu(struct memrec *m, uint64_t ns)
{
	m->events_due_ns += (double)ns;
}

/*
 * Objects come and go with mappings (the dynamic loader, dlopen), so maps -
 * cheap: no page-table walk - is read on its own clock. Writing an object's
 * tables is a one-time cost, measured and refunded to the smaps budget, so
 * that a big binary's tables do not starve the Pss reads that follow.
 */
int memrec_maps_now(struct memrec *m, uint64_t now)
{
	uint64_t c0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
	char err[128];
	int ret = 0;

	m->last_maps_ns = now;
	if (!m->on_maps || gs_file_read_path(&m->maps_text, m->maps_path) < 0 ||
	    gs_smaps_parse(m->maps_text.buf, m->maps_text.len, &m->maps, err, sizeof(err)) < 0)
		return 0;
	ret = m->on_maps(m->on_maps_ctx, &m->maps);
	uint64_t spent = cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0;

	m->objects_cpu_ns += spent;
	m->credit_ns += (double)spent;
	return ret;
}

void memrec_budget_start(struct memrec *m, uint64_t now)
{
	m->last_cpu_ns = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
	m->last_tick_ns = now;
	if (m->credit_ns < 0)
		m->credit_ns = 0;
	m->events_due_ns = 0;
}

/*
 * Per-mapping Pss must not go stale for long while the target's memory
 * moves: past smaps_max_ms since the last per-mapping read, with RSS moved by
 * more than 1/32 (and 1 MiB) since it, a read is due whatever the budget
 * holds. Its cost is charged all the same, so later reads wait for the
 * budget to recover; a target whose memory stands still is never read
 * past the budget.
 */
static int read_due(const struct memrec *m, uint64_t now)
{
	uint64_t a = m->last_rss_pages, b = m->full_rss_pages, moved = a > b ? a - b : b - a;

	return m->o.smaps_max_ms && m->smaps_reads &&
	       now - m->full_ns >= (uint64_t)m->o.smaps_max_ms * 1000000u &&
	       moved > b / 32 && moved * m->page_size > (1u << 20);
}

int memrec_tick(struct memrec *m, uint64_t now)
{
	struct gs_record r = { .type = GS_REC_STATM };
	struct gs_statm st;

	if (gs_file_pread(&m->statm_text, m->statm_fd) < 0 ||
	    gs_parse_statm(m->statm_text.buf, &st) < 0 || st.size == 0)
		return 1;	/* gone, or a zombie: no mm any more */
	r.u.statm = (struct gs_rec_statm){ now, st.size, st.resident, st.shared, st.text,
					   st.data };
	if (gs_writer_add(m->w, &r) < 0)
		return -1;
	m->statm_samples++;
	m->last_rss_pages = st.resident;
	m->last_statm_ns = now;
	/* Libraries arrive just after exec (the dynamic loader), so look often at
	 * first: every 50 ms for 2 s, then every 500 ms. */
	uint64_t maps_every = m->statm_samples * (uint64_t)m->o.interval_ms < 2000 ? 50000000u
										  : 500000000u;

	if (now - m->last_maps_ns >= maps_every && memrec_maps_now(m, now) < 0)
		return -1;
	/* cgroup figures move slowly and cost several reads: every 100 ms */
	if (now - m->cg_last_read_ns >= 100000000u) {
		m->cg_last_read_ns = now;
		if (sample_cgroup(m, now) < 0)
			return -1;
	}

	/* Pacing: credit grows with time at the budget, shrinks with all our CPU. */
	uint64_t cpu = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
	double dt = (double)(now - m->last_tick_ns);
	double earned = dt * m->o.cpu_budget;

	m->credit_ns += earned - (double)(cpu - m->last_cpu_ns);
	/* The eBPF events and the Go runtime's figures are charged too, but
	 * only up to half of what the budget earns over 10 s (the goroutine
	 * probes' budget period: their events come in a burst at its start):
	 * whatever the target's activity costs them, the statm ticks and smaps
	 * reads keep the other half. The excess is given back. */
	m->events_allow_ns += 0.5 * earned;
	if (m->events_allow_ns > 0.5 * m->o.cpu_budget * 10e9)
		m->events_allow_ns = 0.5 * m->o.cpu_budget * 10e9;
	if (m->events_due_ns > m->events_allow_ns) {
		m->credit_ns += m->events_due_ns - m->events_allow_ns;
		m->events_due_ns = m->events_allow_ns;
	}
	m->events_allow_ns -= m->events_due_ns;
	m->events_due_ns = 0;
	m->last_tick_ns = now;
	m->last_cpu_ns = cpu;

	int full = !m->use_rollup || m->reads_since_full >= 4;
	double est = full ? m->est_full_ns : m->est_rollup_ns;
	/* A cap keeps an idle spell from buying a burst of reads. */
	double cap = est + m->est_full_ns + m->o.cpu_budget * 1e9;

	if (m->credit_ns > cap)
		m->credit_ns = cap;
	if (now - m->last_smaps_ns < (uint64_t)m->o.smaps_min_ms * 1000000u)
		return 0;
	if (read_due(m, now)) {
		m->forced_reads++;
		return memrec_smaps_now(m, now, 1);
	}
	/* Keep one full read in reserve: gsrec always makes a last one at the end. */
	if (m->credit_ns >= est + m->est_full_ns)
		return full ? memrec_smaps_now(m, now, 1) : read_smaps(m, now, 0);
	return 0;
}

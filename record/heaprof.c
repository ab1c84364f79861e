/*
 * heaprof.c - the runtime's heap profile, read from outside: see heaprof.h.
 *
 * The runtime's structures (runtime/mprof.go, the same from Go 1.17 to 1.27
 * but for what a cycle holds):
 *
 *   bucket    { next, allnext *bucket; typ, hash, size, nstk uintptr }
 *             then stk [nstk]uintptr, then, for typ 1 (memProfile),
 *   memRecord { active memRecordCycle; future [3]memRecordCycle }
 *   memRecordCycle { allocs, frees, alloc_bytes, free_bytes uintptr }
 *             (Go 1.27 keeps only allocs and frees: a bucket's objects are
 *             all of its size, so the bytes are the counts times it)
 *
 * Buckets come from persistentalloc, never move and are never freed;
 * mbuckets heads the list through allnext, newest first, so a walk from
 * the head to the newest bucket already known finds every new one.
 *
 * Allocations count toward cycle C+2 and sweep frees toward C+1 (C the
 * profile cycle, mProfCycle); mark termination advances C, and mProf_Flush
 * adds future[C % 3] into active. So after mark termination N has been
 * flushed, active holds the heap as of mark termination N-1: objects
 * allocated before it and not freed by the sweep that followed. The one
 * exception is runtime.GC(), which, once it has swept, publishes its own
 * cycle early (mProf_PostSweep: future[(C+1) % 3] into active). gsrec tells
 * the two apart by future[(C+1) % 3]: allocations made during cycle N land
 * there until it is published, and a GC cycle is started by allocation, so
 * an empty slot in every bucket means it has been published.
 *
 * When: the profile cycle is read on every tick; a snapshot is taken once
 * per published cycle, once its flush is done (every bucket's future[C % 3]
 * empty: the flush empties it and nothing fills it again before the next
 * mark termination; from Go 1.19 the flushed flag goes up before the flush
 * runs), and only if the cycle agrees with NumGC and did not move during
 * the read. Its cost is kept within HEAPROF_BUDGET of a core: each read,
 * taken or given up, delays the next by its cost over the budget (finding
 * new buckets aside: each bucket costs that once), and the published
 * cycles passed over are counted in the next HEAP_PROFILE.
 *
 * How: the counts of all buckets are read in a few process_vm_readv calls
 * over address ranges that cover many buckets each (they lie packed in
 * persistentalloc chunks), and only buckets whose counts changed are
 * written, with every bucket written again every HEAPROF_FULL_EVERY
 * snapshots so a damaged chunk costs at most that many.
 */
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "common/proc.h"
#include "gorec.h"
#include "heaprof.h"

#define HEAPROF_BUDGET		0.01	/* of one core */
#define HEAPROF_FULL_EVERY	32
#define BUCKET_HDR		48	/* next, allnext, typ, hash, size, nstk */
#define MAX_NSTK		1024	/* runtime maxProfStackDepth */
#define MEM_PROFILE		1	/* bucketType memProfile */
#define RANGE_GAP		2048	/* join reads of records this close */
#define RANGE_MAX		(1u << 20)
#define NFUTURE			3
#define CYCLE_WRAP		(NFUTURE * (2u << 24))	/* runtime mProfCycleWrap */
#define CONFIRM_NS		500000000ull
#define CONFIRM_READS		2
#define RATE_NONE		0	/* not asked */
#define RATE_WANTED		1
#define RATE_SET		2	/* written; kept an eye on for RATE_WATCH_NS */
#define RATE_DONE		3
#define RATE_WAIT_NS		5000000000ull	/* for the launched target's stop */
#define RATE_WATCH_NS		2000000000ull

struct hbucket {
	uint64_t addr, rec;		/* the bucket, its memRecord */
	uint64_t size;
	uint64_t allocs, frees;		/* as last written */
	uint32_t id;
};

struct hrange {
	uint64_t lo, len;
	size_t off;			/* into buf */
};

struct heaprof {
	struct gorec *g;
	uint64_t mbuckets, rate_at, cycle_at;
	int old_cycle;			/* before Go 1.19: struct { cycle uint32; flushed bool } */
	int words;			/* words in a memRecordCycle: 4, or 2 from Go 1.27 */
	size_t rec_len;			/* memRecord: 4 cycles */
	/* the buckets, in the order found (id - 1), and by rec for reading */
	struct hbucket *b;
	uint32_t n, cap;
	uint32_t *order;
	int unsorted;			/* order needs sorting again */
	uint64_t *cur;			/* allocs, frees as just read, by id - 1 */
	uint64_t head;			/* the newest bucket found */
	int broken;			/* the list did not look like buckets: stop */
	/* reads */
	struct hrange *r;
	size_t nr, rcap;
	uint8_t *buf;
	size_t buflen;
	int ranges_stale;
	struct gs_heap_count *out;
	size_t outcap;
	/* cycles */
	uint32_t done_cycle;		/* the profile cycle last snapshotted */
	int have_done;
	uint64_t next_ok;		/* the budget's: no snapshot before */
	uint32_t seq, skipped_carry;
	uint32_t last_described;	/* the cycle of the last snapshot written */
	int warned_off;
	int mismatch;			/* ticks on end the cycle was not NumGC */
	int confirm;			/* read the cycle again until confirm_until */
	uint64_t confirm_until;
	uint64_t find_ns;		/* of the last read, finding new buckets */
	/* gsrec --heap-rate */
	int rate_state;			/* RATE_* */
	uint64_t rate_first_ns;		/* the first tick that could write it */
	/* counts */
	uint64_t snaps, skipped_total, cpu_ns;
};

static int peek(const struct heaprof *h, uint64_t addr, void *buf, size_t n)
{
	struct iovec l = { buf, n }, r = { (void *)addr, n };

	return process_vm_readv(h->g->pid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -1;
}

struct heaprof *heaprof_new(struct gorec *g, char *why, size_t whylen)
{
	struct heaprof *h;
	int64_t mb = g->lay.v[GS_ADDR_MBUCKETS], rate = g->lay.v[GS_ADDR_MEMPROFILERATE],
		cyc = g->lay.v[GS_ADDR_MPROFCYCLE];

	why[0] = 0;
	if (mb < 0 || rate < 0 || cyc < 0) {
		snprintf(why, whylen, "heap profile not recorded: %s not found in the executable",
			 mb < 0 ? "runtime.mbuckets" : rate < 0 ? "runtime.MemProfileRate" :
			 "runtime.mProfCycle");
		return NULL;
	}
	if (g->go_minor < 17 || g->go_minor > GS_GO_MINOR_NEWEST) {
		snprintf(why, whylen, "heap profile not recorded: the buckets of Go 1.%d are not "
			 "known (this gsrec knows Go 1.17 to 1.%d)", g->go_minor, GS_GO_MINOR_NEWEST);
		return NULL;
	}
	if (!(h = calloc(1, sizeof(*h)))) {
		snprintf(why, whylen, "heap profile not recorded: out of memory");
		return NULL;
	}
	h->g = g;
	h->mbuckets = (uint64_t)mb;
	h->rate_at = (uint64_t)rate;
	h->cycle_at = (uint64_t)cyc;
	h->old_cycle = g->go_minor < 19;
	h->words = g->go_minor >= 27 ? 2 : 4;
	h->rec_len = (size_t)(1 + NFUTURE) * (size_t)h->words * 8;
	h->rate_state = g->o.heap_rate ? RATE_WANTED : RATE_NONE;
	return h;
}

void heaprof_free(struct heaprof *h)
{
	if (!h)
		return;
	free(h->b);
	free(h->order);
	free(h->cur);
	free(h->r);
	free(h->buf);
	free(h->out);
	free(h);
}

void heaprof_counts(const struct heaprof *h, uint64_t *snaps, uint64_t *skipped,
		    uint64_t *buckets, uint64_t *cpu_ns)
{
	*snaps = h ? h->snaps : 0;
	*skipped = h ? h->skipped_total : 0;
	*buckets = h ? h->n : 0;
	*cpu_ns = h ? h->cpu_ns : 0;
}

/* The profile cycle and its flushed flag; -1 when unreadable. */
static int read_cycle(const struct heaprof *h, uint32_t *cycle, int *flushed)
{
	uint8_t v[8];

	if (peek(h, h->g->bias + h->cycle_at, v, h->old_cycle ? 5 : 4) < 0)
		return -1;
	uint32_t w = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 |
		     (uint32_t)v[3] << 24;

	if (h->old_cycle) {
		*cycle = w;
		*flushed = v[4] != 0;
	} else {
		*cycle = w >> 1;
		*flushed = w & 1;
	}
	return 0;
}

static int read_numgc(const struct heaprof *h, uint32_t *n)
{
	int64_t a = h->g->lay.v[GS_ADDR_MS_GC];

	return a < 0 ? -1 : peek(h, h->g->bias + (uint64_t)a + GS_MS_GC_NUMGC, n, 4);
}

static int cmp_rec(const void *x, const void *y, void *ctx)
{
	const struct heaprof *h = ctx;
	uint64_t a = h->b[*(const uint32_t *)x].rec, b = h->b[*(const uint32_t *)y].rec;

	return a < b ? -1 : a > b;
}

/*
 * Read each bucket at addrs[0..n) with its first STK_READ frames into
 * buf (BUCKET_HDR + 8 * STK_READ bytes each), 512 to a system call. A
 * bucket near the end of what is mapped fails as a batch (the call stops
 * at the first fault), so then each is read alone, as far as it can be.
 */
#define STK_READ	32
#define BUCKET_READ	(BUCKET_HDR + 8 * STK_READ)

static void read_buckets(const struct heaprof *h, const uint64_t *addrs, size_t n, uint8_t *buf,
			 uint8_t *ok)
{
	struct iovec l[512], r[512];

	for (size_t i = 0; i < n; i += 512) {
		size_t k = n - i < 512 ? n - i : 512;

		for (size_t j = 0; j < k; j++) {
			l[j] = (struct iovec){ buf + (i + j) * BUCKET_READ, BUCKET_READ };
			r[j] = (struct iovec){ (void *)addrs[i + j], BUCKET_READ };
		}
		if (process_vm_readv(h->g->pid, l, k, r, k, 0) == (ssize_t)(k * BUCKET_READ)) {
			memset(ok + i, 1, k);
			continue;
		}
		for (size_t j = 0; j < k; j++)
			ok[i + j] = peek(h, addrs[i + j], buf + (i + j) * BUCKET_READ, BUCKET_READ) == 0 ||
				    peek(h, addrs[i + j], buf + (i + j) * BUCKET_READ, BUCKET_HDR) == 0;
	}
}

/*
 * New buckets: walk from the head to the newest one already known, then
 * read them in batches. Each is checked to be a memory-profile bucket; a
 * list that is not one stops the stream (the layout was wrong) and is
 * reported in GO_CHECK.
 */
static int find_new(struct heaprof *h)
{
	uint64_t head, b, next[2];
	uint64_t *found = NULL, *stk = NULL;
	uint8_t *buf = NULL, *ok = NULL;
	size_t nf = 0, fcap = 0;
	int ret = -1;

	if (peek(h, h->g->bias + h->mbuckets, &head, 8) < 0)
		return 0;
	for (b = head; b && b != h->head; b = next[1]) {
		if (nf == fcap) {
			size_t nc = fcap ? fcap * 2 : 256;
			uint64_t *p = realloc(found, nc * sizeof(*p));

			if (!p)
				goto out;
			found = p;
			fcap = nc;
		}
		if (nf > (1u << 24) || peek(h, b, next, sizeof(next)) < 0) {
			gocheck_field(&h->g->chk, GS_ADDR_MBUCKETS, 0, "bucket list unreadable at %#llx",
				      (unsigned long long)b);
			h->broken = 1;
			ret = 0;
			goto out;
		}
		found[nf++] = b;
	}
	if (!nf) {
		ret = 0;
		goto out;
	}
	if (h->n + nf > h->cap) {
		size_t nc = h->cap ? h->cap : 1024;

		while (nc < h->n + nf)
			nc *= 2;
		struct hbucket *nb = realloc(h->b, nc * sizeof(*nb));

		if (nb)
			h->b = nb;
		uint32_t *no = nb ? realloc(h->order, nc * sizeof(*no)) : NULL;

		if (no)
			h->order = no;
		uint64_t *na = no ? realloc(h->cur, nc * 2 * sizeof(*na)) : NULL;

		if (!na)
			goto out;
		h->cur = na;
		h->cap = (uint32_t)nc;
	}
	if (!(buf = malloc(nf * BUCKET_READ)) || !(ok = malloc(nf)))
		goto out;
	read_buckets(h, found, nf, buf, ok);
	/* oldest first, so ids rise with age */
	for (size_t k = nf; k-- > 0;) {
		uint64_t hdr[BUCKET_HDR / 8];
		const uint8_t *p = buf + k * BUCKET_READ;

		b = found[k];
		memcpy(hdr, p, sizeof(hdr));
		int good = ok[k] && hdr[2] == MEM_PROFILE && hdr[5] >= 1 && hdr[5] <= MAX_NSTK &&
			   hdr[4] > 0;

		GOCHECK_FIELD(&h->g->chk, GS_ADDR_MBUCKETS, good, "bucket at %#llx: type %lld, %lld "
			      "frames, size %lld", (unsigned long long)b, (long long)hdr[2],
			      (long long)hdr[5], (long long)hdr[4]);
		if (!good) {
			h->broken = 1;
			break;
		}
		uint32_t nstk = (uint32_t)hdr[5];
		uint64_t *pcs = stk;

		if (!(pcs = realloc(stk, (nstk > STK_READ ? nstk : STK_READ) * 8)))
			goto out;
		stk = pcs;
		if (nstk <= STK_READ)
			memcpy(pcs, p + BUCKET_HDR, nstk * 8);
		else if (peek(h, b + BUCKET_HDR, pcs, nstk * 8) < 0) {
			h->broken = 1;
			break;
		}
		int64_t sid = stacks_id(h->g->stacks, pcs, nstk);

		if (sid < 0)
			goto out;
		struct hbucket *nb = &h->b[h->n];

		*nb = (struct hbucket){ b, b + BUCKET_HDR + 8ull * nstk, hdr[4], 0, 0, h->n + 1 };
		/* by address: a few new ones go in their place, many are sorted
		 * with the rest */
		if (nf > 64 || h->unsorted || !h->n || nb->rec >= h->b[h->order[h->n - 1]].rec) {
			if (h->n && nb->rec < h->b[h->order[h->n - 1]].rec)
				h->unsorted = 1;
			h->order[h->n] = h->n;
		} else {
			uint32_t lo = 0, hi = h->n;

			while (lo < hi) {
				uint32_t mid = (lo + hi) / 2;

				if (h->b[h->order[mid]].rec < nb->rec)
					lo = mid + 1;
				else
					hi = mid;
			}
			memmove(h->order + lo + 1, h->order + lo, (h->n - lo) * sizeof(*h->order));
			h->order[lo] = h->n;
		}
		h->n++;
		struct gs_record r = { .type = GS_REC_HEAP_BUCKET };

		r.u.heap_bucket = (struct gs_rec_heap_bucket){ nb->id, (uint32_t)sid, nb->size, b };
		if (gs_writer_add(h->g->w, &r) < 0)
			goto out;
		h->head = b;
		h->ranges_stale = 1;
	}
	ret = 0;
out:
	free(found);
	free(stk);
	free(buf);
	free(ok);
	return ret;
}

/* The address ranges that cover every bucket's memRecord, by address. */
static int plan_ranges(struct heaprof *h)
{
	if (h->unsorted)
		qsort_r(h->order, h->n, sizeof(*h->order), cmp_rec, h);
	h->unsorted = 0;
	h->nr = 0;
	size_t off = 0;

	for (uint32_t i = 0; i < h->n; i++) {
		const struct hbucket *b = &h->b[h->order[i]];
		struct hrange *last = h->nr ? &h->r[h->nr - 1] : NULL;

		if (last && b->rec >= last->lo && b->rec - (last->lo + last->len) <= RANGE_GAP &&
		    b->rec + h->rec_len - last->lo <= RANGE_MAX) {
			uint64_t end = b->rec + h->rec_len;

			if (end > last->lo + last->len) {
				off += end - (last->lo + last->len);
				last->len = end - last->lo;
			}
			continue;
		}
		if (h->nr == h->rcap) {
			size_t nc = h->rcap ? h->rcap * 2 : 64;
			struct hrange *p = realloc(h->r, nc * sizeof(*p));

			if (!p)
				return -1;
			h->r = p;
			h->rcap = nc;
		}
		h->r[h->nr++] = (struct hrange){ b->rec, h->rec_len, off };
		off += h->rec_len;
	}
	/* grown by half again: buckets come a few at a time */
	if (off > h->buflen) {
		size_t nl = off + off / 2;
		uint8_t *p = realloc(h->buf, nl);

		if (!p)
			return -1;
		h->buf = p;
		h->buflen = nl;
	}
	if (h->n > h->outcap) {
		size_t nc = h->n + h->n / 2;
		struct gs_heap_count *o = realloc(h->out, nc * sizeof(*o));

		if (!o)
			return -1;
		h->out = o;
		h->outcap = nc;
	}
	h->ranges_stale = 0;
	return 0;
}

/* Read every range into buf: 0, or -1 if any could not be read whole. */
static int read_ranges(struct heaprof *h)
{
	struct iovec l[512], r[512];
	size_t i = 0;

	while (i < h->nr) {
		size_t k = 0, want = 0;

		for (; i < h->nr && k < 512; i++, k++) {
			l[k] = (struct iovec){ h->buf + h->r[i].off, h->r[i].len };
			r[k] = (struct iovec){ (void *)h->r[i].lo, h->r[i].len };
			want += h->r[i].len;
		}
		if (process_vm_readv(h->g->pid, l, k, r, k, 0) != (ssize_t)want)
			return -1;
	}
	return 0;
}

static void say_off(struct heaprof *h)
{
	if (h->warned_off)
		return;
	h->warned_off = 1;
	gorec_say(h->g, GS_WARNING, "heap profile: runtime.MemProfileRate is 0, so the runtime "
		  "keeps no heap profile (the program links neither runtime/pprof nor "
		  "net/http/pprof, or turned it off); gsrec --heap-rate BYTES turns it on");
}

/* The target's state letter from /proc/PID/stat, 0 if unreadable. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], comm[64], st = 0;
	uint64_t start;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);

	fclose(f);
	buf[n] = 0;
	return gs_parse_stat(buf, comm, sizeof(comm), &start, &st) == 0 ? st : 0;
}

static int poke(const struct heaprof *h, uint64_t addr, const void *buf, size_t n)
{
	struct iovec l = { (void *)buf, n }, r = { (void *)addr, n };

	return process_vm_writev(h->g->pid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -1;
}

/*
 * gsrec --heap-rate: the one write gsrec makes to a target's memory, asked
 * for by that option alone. A launched target is written while the probes
 * hold it stopped at its second goroutine creation (bpf/goroutines.bpf.c:
 * after the runtime has set the rate it starts with, before any package's
 * init); an attached one at once. Should the stop not come within
 * RATE_WAIT_NS, the probes are told not to stop it any more and the rate is
 * written as it runs; then, for RATE_WATCH_NS, a rate set back by the
 * runtime's start is written again.
 */
static int rate_tick(struct heaprof *h, uint64_t now)
{
	struct gorec *g = h->g;
	uint64_t want = g->o.heap_rate, addr = g->bias + h->rate_at;
	int64_t was = -1;
	int stopped = 0;

	if (!h->rate_first_ns)
		h->rate_first_ns = now;
	if (h->rate_state == RATE_SET) {
		if (now - h->rate_first_ns > RATE_WATCH_NS) {
			h->rate_state = RATE_DONE;
			return 0;
		}
		if (peek(h, addr, &was, 8) == 0 && (uint64_t)was != want && poke(h, addr, &want, 8) == 0)
			gorec_say(g, GS_INFO, "heap profile: runtime.MemProfileRate was set back to %lld "
				  "(the runtime's start); written %llu again", (long long)was,
				  (unsigned long long)want);
		return 0;
	}
	if (g->stop_armed) {
		stopped = proc_state(g->pid) == 'T';
		if (!stopped && now - h->rate_first_ns < RATE_WAIT_NS)
			return 0;	/* not there yet */
		if (!stopped) {
			/* no stop now, and none later that nobody would end */
			gorec_disarm_stop(g);
			stopped = proc_state(g->pid) == 'T';
		}
	}
	if (peek(h, addr, &was, 8) < 0 || poke(h, addr, &want, 8) < 0) {
		int e = errno;

		h->rate_state = RATE_DONE;
		if (stopped)
			kill(g->pid, SIGCONT);
		return gorec_say(g, GS_WARNING, "heap profile: --heap-rate: could not write "
				 "runtime.MemProfileRate at %#llx: %s", (unsigned long long)addr,
				 strerror(e));
	}
	if (stopped)
		kill(g->pid, SIGCONT);
	/* watched only when written as it ran from its start, never when it
	 * was held stopped or attached to (it may set the rate itself) */
	h->rate_state = g->stop_armed && !stopped ? RATE_SET : RATE_DONE;
	h->rate_first_ns = now;
	if (g->stop_armed && !stopped)
		return gorec_say(g, GS_WARNING, "heap profile: --heap-rate: the target was not seen "
				 "stopped at its start, so runtime.MemProfileRate was set to %llu "
				 "(from %lld) only after it had run for a while: earlier allocations "
				 "are not in the profile", (unsigned long long)want, (long long)was);
	return gorec_say(g, GS_INFO, "heap profile: --heap-rate set runtime.MemProfileRate in pid "
			 "%d from %lld to %llu (gsrec's one write to the target's memory); the "
			 "runtime samples allocations made from %s on", (int)g->pid, (long long)was,
			 (unsigned long long)want, stopped ? "its start" : "now");
}

/*
 * What a read cost, counted in full, and what it delays the next by: its
 * cost less that of finding new buckets, which each bucket costs once (a
 * program's first 50,000 take 80 ms, which would otherwise hold the next
 * snapshot back 8 s).
 */
static uint64_t charge(struct heaprof *h, uint64_t now, uint64_t c0)
{
	uint64_t cost = gs_now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;

	h->cpu_ns += cost;
	h->next_ok = now + (uint64_t)((double)(cost - h->find_ns) / HEAPROF_BUDGET);
	return cost;
}

/* A read given up: charged as a snapshot is. */
static int spent(struct heaprof *h, uint64_t now, uint64_t c0)
{
	charge(h, now, c0);
	return 0;
}

int heaprof_tick(struct heaprof *h, uint64_t now, int final)
{
	uint32_t cycle, cycle2, numgc, numgc2;
	int flushed, flushed2;
	int64_t rate = 0;

	if (!h)
		return 0;
	if ((h->rate_state == RATE_WANTED || h->rate_state == RATE_SET) && rate_tick(h, now) < 0)
		return -1;
	if (h->broken)
		return 0;
	if (read_cycle(h, &cycle, &flushed) < 0 || !flushed)
		return 0;
	/* a cycle read once, then again at most CONFIRM_READS times (below) */
	if (h->have_done && cycle == h->done_cycle && (!h->confirm || now > h->confirm_until))
		return 0;
	if (h->have_done && cycle == h->done_cycle)
		h->confirm--;
	if (!final && now < h->next_ok)
		return 0;

	uint64_t c0 = gs_now_ns(CLOCK_THREAD_CPUTIME_ID);

	if (read_numgc(h, &numgc) < 0 || peek(h, h->g->bias + h->rate_at, &rate, 8) < 0)
		return 0;
	/*
	 * The profile's cycle moves with NumGC, both at mark termination: apart,
	 * they are in the middle of one (the next tick), or, three ticks on end,
	 * the runtime advances the cycle otherwise (its sweep does, a second
	 * time each GC, under GODEBUG=gcstoptheworld=2), and no snapshot could
	 * be placed.
	 */
	if (numgc % CYCLE_WRAP != cycle) {
		if (++h->mismatch == 3)
			gocheck_field(&h->g->chk, GS_ADDR_MPROFCYCLE, 0, "profile cycle %u at NumGC %u, "
				      "three reads on end", cycle, numgc);
		return 0;
	}
	h->mismatch = 0;
	if (rate <= 0 && h->n == 0) {
		if (h->rate_state == RATE_WANTED)
			return 0;	/* --heap-rate is about to turn it on */
		say_off(h);
		h->have_done = 1;
		h->done_cycle = cycle;
		return 0;
	}
	uint64_t f0 = gs_now_ns(CLOCK_THREAD_CPUTIME_ID);

	if (find_new(h) < 0)
		return -1;
	h->find_ns = gs_now_ns(CLOCK_THREAD_CPUTIME_ID) - f0;
	if (h->broken)
		return spent(h, now, c0);
	if (h->ranges_stale && plan_ranges(h) < 0)
		return -1;
	int readok = read_ranges(h) == 0;

	/* it moved while we read: again when the budget allows */
	if (!readok || read_cycle(h, &cycle2, &flushed2) < 0 || read_numgc(h, &numgc2) < 0 ||
	    cycle2 != cycle || !flushed2 || numgc2 != numgc)
		return spent(h, now, c0);
	h->g->chk.checked[GS_ADDR_MPROFCYCLE]++;	/* equal to NumGC, and stayed so */

	/* skipped: published cycles not read (the budget) */
	uint32_t skipped = h->have_done && cycle - h->done_cycle > 1 ? cycle - h->done_cycle - 1 : 0;
	int full = h->seq % HEAPROF_FULL_EVERY == 0;
	uint32_t nout = 0, settled = 1, fut = (cycle + 1) % NFUTURE, now_slot = cycle % NFUTURE;
	size_t ri = 0;

	/* by address, the ranges in step */
	for (uint32_t k = 0; k < h->n; k++) {
		const struct hbucket *b = &h->b[h->order[k]];

		while (ri + 1 < h->nr && b->rec >= h->r[ri + 1].lo)
			ri++;
		const uint64_t *w = (const uint64_t *)(h->buf + h->r[ri].off + (b->rec - h->r[ri].lo));
		const uint64_t *f = w + (size_t)(1 + fut) * (size_t)h->words;
		const uint64_t *c = w + (size_t)(1 + now_slot) * (size_t)h->words;

		if (f[0] || f[1])
			settled = 0;
		/* the flush empties the cycle's own slot, which nothing fills
		 * again until mark termination: one not empty is yet to be
		 * flushed (from Go 1.19 the flag goes up first) */
		if (c[0] || c[1])
			return spent(h, now, c0);
		/* the runtime's own identities: no more frees than allocs, and
		 * (before Go 1.27) bytes the counts times the bucket's size */
		int ok = w[1] <= w[0] &&
			 (h->words == 2 || (w[2] == w[0] * b->size && w[3] == w[1] * b->size));

		GOCHECK_FIELD(&h->g->chk, GS_ADDR_MBUCKETS, ok, "bucket %u: %llu allocs, %llu "
			      "frees, size %llu, %llu and %llu bytes", b->id,
			      (unsigned long long)w[0], (unsigned long long)w[1],
			      (unsigned long long)b->size,
			      (unsigned long long)(h->words == 4 ? w[2] : 0),
			      (unsigned long long)(h->words == 4 ? w[3] : 0));
		h->cur[2 * (b->id - 1)] = w[0];
		h->cur[2 * (b->id - 1) + 1] = w[1];
	}
	/* by id, for the record */
	for (uint32_t i = 0; i < h->n; i++) {
		struct hbucket *b = &h->b[i];
		uint64_t allocs = h->cur[2 * i], frees = h->cur[2 * i + 1];

		if (!full && allocs == b->allocs && frees == b->frees)
			continue;
		b->allocs = allocs;
		b->frees = frees;
		h->out[nout++] = (struct gs_heap_count){ b->id, allocs, frees };
	}
	uint64_t cost = charge(h, now, c0);
	struct gs_record r = { .type = GS_REC_HEAP_PROFILE };
	uint32_t described = settled ? numgc : numgc - 1;

	/*
	 * runtime.GC() publishes its own cycle once it has swept
	 * (mProf_PostSweep), within milliseconds of the mark termination a read
	 * may have come between; and every bucket's future[(C+1) % 3] empty
	 * says it did, or that nothing was sampled in the cycle and its sweep
	 * has freed nothing yet (those frees come later). So each published
	 * profile is read again, up to CONFIRM_READS times within CONFIRM_NS
	 * as the budget allows, and written again if it changed: a reader
	 * takes a cycle's last snapshot.
	 */
	if (!h->have_done || cycle != h->done_cycle) {
		h->confirm = CONFIRM_READS;
		h->confirm_until = now + CONFIRM_NS;
	}
	h->have_done = 1;
	h->done_cycle = cycle;
	/* the same cycle again (published early by runtime.GC, then by the
	 * next mark termination) and nothing changed: nothing to say */
	if (!full && !nout && h->seq && described == h->last_described) {
		h->skipped_carry += skipped;
		return 0;
	}
	skipped += h->skipped_carry;
	h->skipped_carry = 0;
	h->last_described = described;

	r.u.heap_profile = (struct gs_rec_heap_profile){
		now, ++h->seq, described, full ? GS_HEAP_FULL : 0,
		(uint64_t)(rate < 0 ? 0 : rate), skipped, cost, nout, h->out };
	if (gs_writer_add(h->g->w, &r) < 0)
		return -1;
	h->snaps++;
	h->skipped_total += skipped;
	if (rate <= 0)
		say_off(h);
	return 0;
}

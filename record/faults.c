/*
 * faults.c - records which code made the target's memory resident and when
 * it gave memory back: loads bpf/faults.bpf.c, attaches it to the minor and
 * major page-fault perf software events of every CPU (sample period
 * --fault-period, 1 by default: every fault) and, for the calls that give
 * memory back, to uprobes on the Go target's functions that make them and
 * on its C library's, or to the system calls' tracepoints (the raw
 * sys_enter tracepoint where tracefs is not mounted), and writes FAULT and
 * RELEASE records (FORMAT.md §6.17-6.18).
 */
#include <errno.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/proc.h"
#include "ebpf.h"
#include "faultrec.h"
#include "faults.h"
#include "faults.skel.h"

static int on_event(void *ctx, void *data, size_t len)
{
	struct faultrec *f = ctx;
	const struct gs_mem_event *e = data;
	struct gs_record r;

	if (len < GS_MEM_EVENT_SHORT || f->err)
		return 0;
	memset(&r, 0, sizeof(r));
	if (e->kind == GS_EV_FAULT) {
		uint32_t n = ebpf_frames(len, GS_MEM_EVENT_SHORT, e->nframes);
		int64_t id = stacks_id(f->stacks, (const uint64_t *)e->frames, n);

		if (id < 0) {
			f->err = errno ? errno : EIO;
			return -1;
		}
		r.type = GS_REC_FAULT;
		r.u.fault = (struct gs_rec_fault){ e->t_ns, e->addr, e->tid, (uint32_t)id, e->major,
						   e->goid, stacks_code_or_zero(f->stacks, e->sp_word) };
		f->faults++;
	} else {
		static const uint32_t kinds[] = { [GS_EV_MUNMAP] = GS_REL_MUNMAP,
			[GS_EV_MADVISE] = GS_REL_MADVISE, [GS_EV_MREMAP] = GS_REL_MREMAP,
			[GS_EV_BRK] = GS_REL_BRK };

		if (e->kind > GS_EV_BRK)
			return 0;
		r.type = GS_REC_RELEASE;
		r.u.release = (struct gs_rec_release){ e->t_ns, e->tid, kinds[e->kind], e->addr,
						       e->len, e->arg };
		f->releases++;
	}
	if (gs_writer_add(f->w, &r) < 0) {
		f->err = errno;
		return -1;
	}
	return 0;
}

/*
 * The calls that give memory back: on their own tracepoints where tracefs
 * lets libbpf find them, which spares every other system call the
 * program; else on the raw sys_enter tracepoint. Either way, while a
 * system call tracepoint is on, every system call of every task on the
 * machine takes the kernel's slower traced entry (about 60 ns a call here).
 */
static int attach_syscalls(struct faultrec *f)
{
	struct bpf_program *p[4] = { f->skel->progs.on_munmap, f->skel->progs.on_madvise,
				     f->skel->progs.on_mremap, f->skel->progs.on_brk };
	static const char *const name[4] = { "sys_enter_munmap", "sys_enter_madvise",
					     "sys_enter_mremap", "sys_enter_brk" };
	int i;

	for (i = 0; i < 4; i++)
		if (!(f->sys_enter[i] = bpf_program__attach_tracepoint(p[i], "syscalls", name[i])))
			break;
	if (i == 4)
		return 0;
	for (i = 0; i < 4; i++) {
		bpf_link__destroy(f->sys_enter[i]);
		f->sys_enter[i] = NULL;
	}
	f->sys_enter[0] = bpf_program__attach(f->skel->progs.on_sys_enter);
	return f->sys_enter[0] ? 0 : -1;
}

static void detach_probes(struct faultrec *f)
{
	for (int i = 0; i < f->nrel; i++)
		bpf_link__destroy(f->rel[i]);
	f->nrel = 0;
	f->madvise_calls = 0;
}

static int add_probe(struct faultrec *f, struct bpf_program *p, const char *path, uint64_t off,
		     const char *func)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = func);

	if (f->nrel == (int)(sizeof(f->rel) / sizeof(f->rel[0]))) {
		errno = ENOSPC;
		return -1;
	}
	f->rel[f->nrel] = bpf_program__attach_uprobe_opts(p, f->pid, path, off, &uo);
	if (!f->rel[f->nrel])
		return -1;
	f->nrel++;
	return 0;
}

/*
 * The Go functions that give memory back. The runtime's two are required:
 * without them the probes would miss the heap's releases, and the stream
 * comes from the system calls' tracepoints instead. The others are there
 * when the program uses the syscall package or golang.org/x/sys/unix for
 * mmap'd memory (a database file, say).
 */
#define NGOFN 7
#define GO_MADVISE 1
static const char *const go_fn_names[NGOFN] = {
	"runtime.munmap", "runtime.madvise", "syscall.munmap", "syscall.Madvise",
	"golang.org/x/sys/unix.munmap", "golang.org/x/sys/unix.Madvise",
	"golang.org/x/sys/unix.mremap",
};
/* which program each takes (attach_go's p[]), and whether it is required */
static const int go_fn_prog[NGOFN] = { 0, 3, 0, 1, 0, 1, 2 };
static const int go_fn_required[NGOFN] = { 1, 1, 0, 0, 0, 0, 0 };

/*
 * runtime.madvise is assembly whose first instruction the kernel would
 * single-step on every hit, about 13 us each (BENCHMARKS.md); the runtime
 * calls it at a few places (sysUnusedOS's release and its huge-page
 * advice, sysHugePageOS), and a probe on each CALL is emulated instead. 0
 * when probed there, 1 when its entry is to be probed, -1 on a failure.
 */
static int attach_madvise_calls(struct faultrec *f, const struct faultrec_opts *o)
{
	uint64_t site[16];
	int n = o->find_calls ? o->find_calls(o->find_ctx, go_fn_names[GO_MADVISE], site, 16) : -1;

	if (n < 1)
		return 1;
	for (int i = 0; i < n; i++)
		if (add_probe(f, f->skel->progs.on_rt_madvise_call, o->exe, site[i], NULL) < 0)
			return -1;
	f->madvise_calls = n;
	return 0;
}

/* 1 when the uprobes are on, 0 when the runtime's functions are not found. */
static int attach_go(struct faultrec *f, const struct faultrec_opts *o)
{
	struct bpf_program *p[4] = { f->skel->progs.on_go_munmap, f->skel->progs.on_go_madvise,
				     f->skel->progs.on_go_mremap, f->skel->progs.on_rt_madvise };
	uint64_t off[NGOFN];
	int have[NGOFN], entry;

	o->find_fns(o->find_ctx, go_fn_names, NGOFN, off, have);
	for (int i = 0; i < NGOFN; i++)
		if (go_fn_required[i] && !have[i])
			return 0;
	entry = attach_madvise_calls(f, o);
	for (int i = 0; i < NGOFN && entry >= 0; i++)
		if (have[i] && (i != GO_MADVISE || entry) &&
		    add_probe(f, p[go_fn_prog[i]], o->exe, off[i], NULL) < 0)
			entry = -1;
	if (entry < 0) {
		int e = errno;

		detach_probes(f);
		errno = e;
		return -1;
	}
	return 1;
}

static int is_libc(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return !strncmp(b, "libc.so", 7) || (!strncmp(b, "libc-", 5) && strstr(b, ".so"));
}

int faultrec_maps(struct faultrec *f, const struct gs_smaps *s, char *err, size_t errlen)
{
	static const char *const fn[4] = { "munmap", "madvise", "mremap", "brk" };
	int done = 0;

	if (!f->probes || !f->skel)
		return 0;
	struct bpf_program *p[4] = { f->skel->progs.on_c_munmap, f->skel->progs.on_c_madvise,
				     f->skel->progs.on_c_mremap, f->skel->progs.on_c_brk };

	for (uint32_t i = 0; i < s->n; i++) {
		const struct gs_mapping *m = &s->m[i];
		char path[PATH_MAX];
		int k, seen = 0;

		if (!m->inode || m->path[0] != '/' || strstr(m->path, " (deleted)") || !is_libc(m->path))
			continue;
		for (k = 0; k < f->nlibc; k++)
			seen |= f->libc_ino[k] == m->inode;
		if (seen)
			continue;
		if (f->nlibc == (int)(sizeof(f->libc_ino) / sizeof(f->libc_ino[0])))
			return done;
		f->libc_ino[f->nlibc++] = m->inode;
		/* the target's own view of the path: it may live in another mount namespace */
		snprintf(path, sizeof(path), "/proc/%d/root%s", (int)f->pid, m->path);
		for (k = 0; k < 4; k++)
			if (add_probe(f, p[k], path, 0, fn[k]) < 0) {
				snprintf(err, errlen, "cannot put a uprobe on %s in %s: %s", fn[k], m->path,
					 strerror(errno));
				return -1;
			}
		done = 1;
	}
	return done;
}

/*
 * The C library as the target maps it now, probed before the target runs
 * on: an attached target's own; a launched one's, before it execs, is
 * gsrec's forked copy, which is the library the command will load unless
 * it brings its own (then the maps poll finds that one). Probes set now see
 * the command's first calls, which a probe set at the first maps poll, up
 * to 50 ms later, would miss. A failure here is said, and the rest goes on.
 */
static void attach_libc_now(struct faultrec *f)
{
	char path[64];
	struct gs_file text = { 0 };
	struct gs_smaps maps = { 0 };

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)f->pid);
	if (gs_file_read_path(&text, path) == 0 &&
	    gs_smaps_parse(text.buf, text.len, &maps, f->libc_err, sizeof(f->libc_err)) == 0) {
		f->libc_err[0] = 0;
		faultrec_maps(f, &maps, f->libc_err, sizeof(f->libc_err));
	}
	gs_smaps_free(&maps);
	gs_file_free(&text);
}

int faultrec_open(struct faultrec *f, pid_t tgid, const struct faultrec_opts *o,
		  struct stacks *stacks, struct gs_writer *w, char *err, size_t errlen)
{
	int ncpu = libbpf_num_possible_cpus();

	memset(f, 0, sizeof(*f));
	f->w = w;
	f->stacks = stacks;
	f->skel = faults_bpf__open();
	if (!f->skel) {
		snprintf(err, errlen, "cannot open the fault program: %s", strerror(errno));
		goto fail;
	}
	f->skel->rodata->target_tgid = (__u32)tgid;
	f->skel->rodata->off_goid = o->off_goid;
	f->skel->rodata->off_g_m = o->off_g_m;
	f->skel->rodata->off_m_curg = o->off_m_curg;
	bpf_map__set_max_entries(f->skel->maps.events, o->ringbuf_kb * 1024);
	f->skel->rodata->wakeup_bytes = (__u64)o->ringbuf_kb * 1024 / 4;
	f->skel->rodata->wait_exec = (__u32)!!o->wait_exec;
	if (faults_bpf__load(f->skel)) {
		snprintf(err, errlen, "cannot load the fault program: %s", strerror(errno));
		goto fail;
	}
	f->links = calloc((size_t)ncpu * 2, sizeof(*f->links));
	f->pfd = calloc((size_t)ncpu * 2, sizeof(*f->pfd));
	if (!f->links || !f->pfd) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	f->pid = tgid;
	f->exec = bpf_program__attach(f->skel->progs.on_exec);
	if (f->exec && o->exe && o->find_fns) {
		int r = attach_go(f, o);

		if (r < 0) {
			snprintf(err, errlen, "cannot put uprobes on %s's release functions: %s", o->exe,
				 strerror(errno));
			goto fail;
		}
		f->probes = r;
	}
	if (f->probes)
		attach_libc_now(f);
	if (f->exec && !f->probes && attach_syscalls(f) < 0) {
		snprintf(err, errlen, "cannot attach to munmap, madvise, mremap and brk: %s", strerror(errno));
		goto fail;
	}
	/* The page faults last: what comes before takes tens of milliseconds
	 * (libbpf reads the C library's symbols once per probe), and a target
	 * already running could fill the ring buffer meanwhile. */
	for (int cpu = 0; cpu < ncpu; cpu++) {
		for (int maj = 0; maj < 2; maj++) {
			struct perf_event_attr attr = {
				.type = PERF_TYPE_SOFTWARE, .size = sizeof(attr),
				.config = maj ? PERF_COUNT_SW_PAGE_FAULTS_MAJ : PERF_COUNT_SW_PAGE_FAULTS_MIN,
				.sample_period = o->period, .sample_type = PERF_SAMPLE_ADDR,
			};
			int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
			int k = f->npfd++;

			f->pfd[k] = fd;
			if (fd < 0) {
				if (errno == ENODEV)
					continue;
				snprintf(err, errlen, "perf_event_open (page faults) on CPU %d: %s", cpu,
					 strerror(errno));
				goto fail;
			}
			f->links[k] = bpf_program__attach_perf_event(
				maj ? f->skel->progs.on_fault_maj : f->skel->progs.on_fault_min, fd);
			if (!f->links[k]) {
				snprintf(err, errlen, "cannot attach to page faults on CPU %d: %s", cpu,
					 strerror(errno));
				goto fail;
			}
		}
	}
	f->rb = ring_buffer__new(bpf_map__fd(f->skel->maps.events), on_event, f, NULL);
	if (!f->rb) {
		snprintf(err, errlen, "cannot set up the fault ring buffer: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	faultrec_close(f);
	return -1;
}

int faultrec_fd(struct faultrec *f)
{
	return f->rb ? ring_buffer__epoll_fd(f->rb) : -1;
}

int faultrec_poll(struct faultrec *f)
{
	return ebpf_drain(f->rb, f->err);
}

int faultrec_lost(struct faultrec *f, uint64_t now)
{
	return f->skel ? ebpf_report_lost(bpf_map__fd(f->skel->maps.stats), GS_MEM_DROPPED,
					  GS_STREAM_MEM, &f->lost_reported, f->w, now) : 0;
}

void faultrec_close(struct faultrec *f)
{
	ring_buffer__free(f->rb);
	for (int i = 0; i < 4; i++)
		bpf_link__destroy(f->sys_enter[i]);
	detach_probes(f);
	bpf_link__destroy(f->exec);
	for (int i = 0; f->links && i < f->npfd; i++)
		bpf_link__destroy(f->links[i]);
	for (int i = 0; f->pfd && i < f->npfd; i++)
		if (f->pfd[i] > 0)
			close(f->pfd[i]);
	faults_bpf__destroy(f->skel);
	free(f->links);
	free(f->pfd);
	memset(f, 0, sizeof(*f));
}

/*
 * cpu.c - the on-CPU sampler: loads bpf/cpu.bpf.c through its skeleton,
 * opens a cpu-clock perf event per CPU at the sampling frequency, and turns
 * what the ring buffer delivers into trace records: each distinct stack once
 * (STACK, deduplicated here), then a CPU_SAMPLE per sample naming it.
 * Samples the BPF side could not queue are counted there and written as
 * LOST records, so a trace says what it is missing.
 *
 * Lifecycle, as in bcc's libbpf-tools: open -> set rodata -> load ->
 * attach, with one cleanup path.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cpu.h"
#include "cpu.skel.h"
#include "cpurec.h"
#include "ebpf.h"

static int on_event(void *ctx, void *data, size_t len)
{
	struct cpurec *c = ctx;
	const struct gs_cpu_event *e = data;
	uint32_t n;
	int64_t id;

	if (len < GS_CPU_EVENT_SHORT || c->err)
		return 0;
	n = ebpf_frames(len, GS_CPU_EVENT_SHORT, e->nframes);
	id = stacks_id(c->stacks, (const uint64_t *)e->frames, n);
	if (id < 0) {
		c->err = errno ? errno : EIO;
		return -1;
	}
	struct gs_record r = { .type = GS_REC_CPU_SAMPLE };

	r.u.cpu = (struct gs_rec_cpu_sample){ e->t_ns, e->tid, (uint32_t)id, e->goid,
					      stacks_code_or_zero(c->stacks, e->sp_word) };
	if (gs_writer_add(c->w, &r) < 0) {
		c->err = errno;
		return -1;
	}
	c->samples++;
	return 0;
}

int cpurec_open(struct cpurec *c, pid_t tgid, const struct cpurec_opts *o,
		struct stacks *stacks, struct gs_writer *w, char *err, size_t errlen)
{
	int ncpu = libbpf_num_possible_cpus();

	memset(c, 0, sizeof(*c));
	c->w = w;
	c->stacks = stacks;
	libbpf_set_print(NULL);	/* our messages say what failed */
	c->skel = cpu_bpf__open();
	if (!c->skel) {
		snprintf(err, errlen, "cannot open the BPF program: %s", strerror(errno));
		goto fail;
	}
	c->skel->rodata->target_tgid = (__u32)tgid;
	c->skel->rodata->off_goid = o->off_goid;
	c->skel->rodata->off_g_m = o->off_g_m;
	c->skel->rodata->off_m_curg = o->off_m_curg;
	bpf_map__set_max_entries(c->skel->maps.events, o->ringbuf_kb * 1024);
	c->skel->rodata->wakeup_bytes = (__u64)o->ringbuf_kb * 1024 / 4;
	c->skel->rodata->wait_exec = (__u32)!!o->wait_exec;
	if (cpu_bpf__load(c->skel)) {
		snprintf(err, errlen, "cannot load the BPF program: %s%s", strerror(errno),
			 errno == EPERM ? " (needs CAP_BPF and CAP_PERFMON, or root)" : "");
		goto fail;
	}
	c->links = calloc((size_t)ncpu, sizeof(*c->links));
	c->pfd = calloc((size_t)ncpu, sizeof(*c->pfd));
	if (!c->links || !c->pfd) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_CPU_CLOCK,
			.size = sizeof(attr), .freq = 1, .sample_freq = o->freq,
		};
		int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		c->pfd[cpu] = fd;
		if (fd < 0) {
			if (errno == ENODEV)	/* a possible CPU that is not online */
				continue;
			snprintf(err, errlen, "perf_event_open on CPU %d: %s", cpu, strerror(errno));
			goto fail;
		}
		c->links[cpu] = bpf_program__attach_perf_event(c->skel->progs.on_cpu_sample, fd);
		if (!c->links[cpu]) {
			snprintf(err, errlen, "cannot attach to the perf event on CPU %d: %s", cpu,
				 strerror(errno));
			goto fail;
		}
	}
	c->ncpu = ncpu;
	c->exec = bpf_program__attach(c->skel->progs.on_exec);
	if (!c->exec) {
		snprintf(err, errlen, "cannot attach to sched_process_exec: %s", strerror(errno));
		goto fail;
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_event, c, NULL);
	if (!c->rb) {
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	c->ncpu = ncpu;
	cpurec_close(c);
	return -1;
}

int cpurec_fd(struct cpurec *c)
{
	return c->rb ? ring_buffer__epoll_fd(c->rb) : -1;
}

int cpurec_poll(struct cpurec *c)
{
	return ebpf_drain(c->rb, c->err);
}

int cpurec_lost(struct cpurec *c, uint64_t now)
{
	return c->skel ? ebpf_report_lost(bpf_map__fd(c->skel->maps.stats), GS_CPU_DROPPED,
					  GS_STREAM_CPU, &c->lost_reported, c->w, now) : 0;
}

void cpurec_close(struct cpurec *c)
{
	ring_buffer__free(c->rb);
	bpf_link__destroy(c->exec);
	for (int i = 0; c->links && i < c->ncpu; i++)
		bpf_link__destroy(c->links[i]);
	for (int i = 0; c->pfd && i < c->ncpu; i++)
		if (c->pfd[i] > 0)
			close(c->pfd[i]);
	cpu_bpf__destroy(c->skel);
	free(c->links);
	free(c->pfd);
	memset(c, 0, sizeof(*c));
}

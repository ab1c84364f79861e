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

static uint64_t hash_stack(const uint64_t *pc, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ pc[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

/* Id of this stack, writing a STACK record the first time. -1 on error. */
static int64_t stack_id(struct cpurec *c, const uint64_t *pc, uint32_t n)
{
	uint64_t h = hash_stack(pc, n);

	if (c->count * 2 >= c->size) {	/* grow the open-addressing table */
		uint32_t size = c->size ? c->size * 2 : 4096;
		struct stackent *t = calloc(size, sizeof(*t));

		if (!t)
			return -1;
		for (uint32_t i = 0; i < c->size; i++) {
			if (!c->tab[i].hash)
				continue;
			uint32_t j = (uint32_t)c->tab[i].hash & (size - 1);

			while (t[j].hash)
				j = (j + 1) & (size - 1);
			t[j] = c->tab[i];
		}
		free(c->tab);
		c->tab = t;
		c->size = size;
	}
	uint32_t j = (uint32_t)h & (c->size - 1);

	for (; c->tab[j].hash; j = (j + 1) & (c->size - 1))
		if (c->tab[j].hash == h && c->tab[j].n == n &&
		    !memcmp(c->tab[j].pc, pc, n * sizeof(*pc)))
			return c->tab[j].id;
	uint64_t *copy = malloc(n * sizeof(*pc) + 1);

	if (!copy)
		return -1;
	memcpy(copy, pc, n * sizeof(*pc));
	c->tab[j] = (struct stackent){ h, c->next_id++, n, copy };
	c->count++;
	struct gs_record r = { .type = GS_REC_STACK };

	r.u.stack = (struct gs_rec_stack){ c->tab[j].id, n, copy };
	if (gs_writer_add(c->w, &r) < 0)
		return -1;
	return c->tab[j].id;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct cpurec *c = ctx;
	const struct gs_cpu_event *e = data;
	uint32_t n;
	int64_t id;

	if (len < sizeof(*e) || c->err)
		return 0;
	n = e->nframes < GS_MAX_FRAMES ? e->nframes : GS_MAX_FRAMES;
	id = stack_id(c, (const uint64_t *)e->frames, n);
	if (id < 0) {
		c->err = errno ? errno : EIO;
		return -1;
	}
	struct gs_record r = { .type = GS_REC_CPU_SAMPLE };

	r.u.cpu = (struct gs_rec_cpu_sample){ e->t_ns, e->tid, (uint32_t)id, e->goid };
	if (gs_writer_add(c->w, &r) < 0) {
		c->err = errno;
		return -1;
	}
	c->samples++;
	return 0;
}

int cpurec_open(struct cpurec *c, pid_t tgid, const struct cpurec_opts *o,
		struct gs_writer *w, char *err, size_t errlen)
{
	int ncpu = libbpf_num_possible_cpus();

	memset(c, 0, sizeof(*c));
	c->w = w;
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
	if (!c->rb)
		return 0;
	if (ring_buffer__consume(c->rb) < 0 || c->err) {
		errno = c->err ? c->err : EIO;
		return -1;
	}
	return 0;
}

int cpurec_lost(struct cpurec *c, uint64_t now)
{
	__u32 key = GS_CPU_DROPPED;
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v = calloc((size_t)ncpu, sizeof(*v)), total = 0;

	if (!c->skel || !v) {
		free(v);
		return 0;
	}
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.stats), &key, v) == 0)
		for (int i = 0; i < ncpu; i++)
			total += v[i];
	free(v);
	if (total <= c->lost_reported)
		return 0;
	struct gs_record r = { .type = GS_REC_LOST };

	r.u.lost = (struct gs_rec_lost){ now, GS_STREAM_CPU, total - c->lost_reported };
	c->lost_reported = total;
	return gs_writer_add(c->w, &r);
}

void cpurec_close(struct cpurec *c)
{
	ring_buffer__free(c->rb);
	for (int i = 0; c->links && i < c->ncpu; i++)
		bpf_link__destroy(c->links[i]);
	for (int i = 0; c->pfd && i < c->ncpu; i++)
		if (c->pfd[i] > 0)
			close(c->pfd[i]);
	cpu_bpf__destroy(c->skel);
	for (uint32_t i = 0; i < c->size; i++)
		free(c->tab[i].pc);
	free(c->tab);
	free(c->links);
	free(c->pfd);
	memset(c, 0, sizeof(*c));
}

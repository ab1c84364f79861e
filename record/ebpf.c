/*
 * ebpf.c - see ebpf.h.
 */
#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ebpf.h"

int ebpf_report_lost(int map_fd, uint32_t key, unsigned stream, uint64_t *reported,
		     struct gs_writer *w, uint64_t now)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v = ncpu > 0 ? calloc((size_t)ncpu, sizeof(*v)) : NULL, total = 0;

	if (!v)
		return 0;
	if (bpf_map_lookup_elem(map_fd, &key, v) == 0)
		for (int i = 0; i < ncpu; i++)
			total += v[i];
	free(v);
	if (total <= *reported)
		return 0;
	struct gs_record r = { .type = GS_REC_LOST };

	r.u.lost = (struct gs_rec_lost){ now, stream, total - *reported };
	*reported = total;
	return gs_writer_add(w, &r);
}

int ebpf_drain(struct ring_buffer *rb, int err)
{
	if (!rb)
		return 0;
	if (ring_buffer__consume(rb) < 0 || err) {
		errno = err ? err : EIO;
		return -1;
	}
	return 0;
}

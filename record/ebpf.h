/*
 * ebpf.h - what gsrec's eBPF recorders share: turning a per-CPU drop
 * counter into LOST records, and draining a ring buffer.
 */
#ifndef GS_EBPF_H
#define GS_EBPF_H

#include <stdint.h>

#include "format/trace.h"

struct ring_buffer;

/*
 * Sum the per-CPU counter at key of the array map map_fd and write what is
 * new since *reported as a LOST record of stream. 0, or -1 (errno) when the
 * writer failed.
 */
int ebpf_report_lost(int map_fd, uint32_t key, unsigned stream, uint64_t *reported,
		     struct gs_writer *w, uint64_t now);
/* Consume what rb holds. 0, or -1 with errno (err, the callback's, first). */
int ebpf_drain(struct ring_buffer *rb, int err);

/*
 * The frames an event of len bytes holds: events with stacks are written
 * only as long as their stack (bpf/target.h's output()), header bytes and
 * then nframes of 8; a count its length cannot hold is cut to what it can.
 * len is at least header.
 */
static inline uint32_t ebpf_frames(size_t len, size_t header, uint32_t nframes)
{
	size_t room = (len - header) / 8;

	return nframes < room ? nframes : (uint32_t)room;
}

#endif

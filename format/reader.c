/*
 * reader.c - reads a trace frame by frame (FORMAT.md §2-§4, §7).
 *
 * Memory is bounded by one frame (at most GS_FRAME_MAX_RAW raw bytes), never
 * by the trace's size. Anything wrong after a valid file header - a torn last
 * frame from a killed recorder, a checksum mismatch, an impossible length -
 * ends the stream at the last good frame and is described in the health
 * record; only a bad file header makes the whole file unreadable.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "codec.h"

struct gs_reader {
	int fd;				/* -1 when reading from memory */
	const uint8_t *mem;
	size_t mem_len, mem_pos;
	uint64_t off;			/* file offset of the next frame */
	ZSTD_DCtx *dctx;
	uint8_t *z, *raw;
	size_t zcap, rawcap;
	size_t raw_len, raw_pos;	/* the current frame's records */
	uint32_t frame_records, frame_seen;
	uint32_t seq;
	int done;
	struct gs_arena *arena;
	struct gs_health h;
};

/* Read up to n bytes at the current position; returns how many were read. */
static size_t src_read(struct gs_reader *r, void *buf, size_t n)
{
	if (r->fd < 0) {
		size_t k = r->mem_len - r->mem_pos < n ? r->mem_len - r->mem_pos : n;

		if (k == 0)
			return 0;	/* buf may be NULL for an empty payload */
		memcpy(buf, r->mem + r->mem_pos, k);
		r->mem_pos += k;
		return k;
	}
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(r->fd, (uint8_t *)buf + got, n - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

static void stop(struct gs_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void stop(struct gs_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->h.why, sizeof(r->h.why), fmt, ap);
	va_end(ap);
	r->h.damaged = 1;
	r->done = 1;
}

static int read_header(struct gs_reader *r, enum gs_open_error *err,
		       char *msg, size_t msglen)
{
	uint8_t h[GS_FILE_HEADER_LEN];
	size_t n = src_read(r, h, sizeof(h));

	if (n == 0) {
		*err = GS_E_EMPTY;
		snprintf(msg, msglen, "the file is empty (was the recording started?)");
		return -1;
	}
	if (n < GS_FILE_MAGIC_LEN || memcmp(h, GS_FILE_MAGIC, GS_FILE_MAGIC_LEN)) {
		*err = GS_E_NOT_TRACE;
		snprintf(msg, msglen, "not a gsmapper trace (no trace magic at the start; "
			 "traces are written by gsrec)");
		return -1;
	}
	if (n < GS_FILE_HEADER_LEN) {
		*err = GS_E_HEADER;
		snprintf(msg, msglen, "the trace header is cut short (%zu of %d bytes)",
			 n, GS_FILE_HEADER_LEN);
		return -1;
	}
	/* Magic and version stay where they are in every version (§2). */
	r->h.version_major = gs_rd16(h + 8);
	r->h.version_minor = gs_rd16(h + 10);
	if (r->h.version_major > GS_VERSION_MAJOR) {
		*err = GS_E_VERSION;
		snprintf(msg, msglen, "trace format version %u.%u is newer than this build "
			 "reads (version %d.x and older); use a newer gsreport",
			 r->h.version_major, r->h.version_minor, GS_VERSION_MAJOR);
		return -1;
	}
	if (gs_crc32(0, h, 28) != gs_rd32(h + 28)) {
		*err = GS_E_HEADER;
		snprintf(msg, msglen, "the trace header is damaged (checksum mismatch)");
		return -1;
	}
	if (r->h.version_major == 0 || gs_rd32(h + 12) || gs_rd32(h + 24)) {
		*err = GS_E_HEADER;
		snprintf(msg, msglen, "the trace header is invalid (version 0 or "
			 "reserved fields set)");
		return -1;
	}
	r->h.created_real_ns = gs_rd64(h + 16);
	r->off = GS_FILE_HEADER_LEN;
	r->h.good_bytes = GS_FILE_HEADER_LEN;
	return 0;
}

static struct gs_reader *reader_new(void)
{
	struct gs_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = -1;
	r->dctx = ZSTD_createDCtx();
	r->arena = gs_arena_new();
	if (!r->dctx || !r->arena) {
		ZSTD_freeDCtx(r->dctx);
		gs_arena_free(r->arena);
		free(r);
		return NULL;
	}
	return r;
}

struct gs_reader *gs_reader_open(const char *path, enum gs_open_error *err,
				 char *msg, size_t msglen)
{
	struct gs_reader *r = reader_new();
	struct stat st;

	if (!r) {
		*err = GS_E_IO;
		snprintf(msg, msglen, "out of memory");
		return NULL;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0 || fstat(r->fd, &st) < 0) {
		*err = GS_E_IO;
		snprintf(msg, msglen, "%s", strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		*err = GS_E_IO;
		errno = EISDIR;
		snprintf(msg, msglen, "is a directory");
		goto fail;
	}
	r->h.file_bytes = (uint64_t)st.st_size;
	if (read_header(r, err, msg, msglen) < 0)
		goto fail;
	*err = GS_OK;
	return r;
fail:
	{
		int saved = errno;

		gs_reader_close(r);
		errno = saved;
	}
	return NULL;
}

struct gs_reader *gs_reader_open_mem(const uint8_t *buf, size_t len,
				     enum gs_open_error *err, char *msg,
				     size_t msglen)
{
	struct gs_reader *r = reader_new();

	if (!r) {
		*err = GS_E_IO;
		snprintf(msg, msglen, "out of memory");
		return NULL;
	}
	r->mem = buf;
	r->mem_len = len;
	r->h.file_bytes = len;
	if (read_header(r, err, msg, msglen) < 0) {
		gs_reader_close(r);
		return NULL;
	}
	*err = GS_OK;
	return r;
}

static int grow(uint8_t **p, size_t *cap, size_t n)
{
	if (n <= *cap)
		return 0;
	uint8_t *q = realloc(*p, n);

	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Load the next frame into r->raw. 1 loaded, 0 clean end, -1 stopped. */
static int next_frame(struct gs_reader *r)
{
	uint8_t h[GS_FRAME_HEADER_LEN];
	size_t n = src_read(r, h, sizeof(h));
	uint32_t raw_len, zlen, nrec, crc;

	if (n == 0)
		return 0;
	if (n < sizeof(h)) {
		stop(r, "frame %u is cut short at offset %" PRIu64
		     " (header %zu of %d bytes): the recording was interrupted",
		     r->seq, r->off, n, GS_FRAME_HEADER_LEN);
		return -1;
	}
	if (gs_rd32(h) != GS_FRAME_MAGIC) {
		stop(r, "no frame at offset %" PRIu64 " (frame %u): the file is damaged",
		     r->off, r->seq);
		return -1;
	}
	raw_len = gs_rd32(h + 8);
	zlen = gs_rd32(h + 12);
	nrec = gs_rd32(h + 16);
	if (gs_rd32(h + 4) != r->seq || raw_len > GS_FRAME_MAX_RAW ||
	    zlen > ZSTD_compressBound(GS_FRAME_MAX_RAW) ||
	    nrec > GS_FRAME_MAX_RECORDS ||
	    (uint64_t)nrec * GS_RECORD_HEADER_LEN > raw_len) {
		stop(r, "frame %u at offset %" PRIu64 " has an invalid header: the file "
		     "is damaged", r->seq, r->off);
		return -1;
	}
	if (grow(&r->z, &r->zcap, zlen) || grow(&r->raw, &r->rawcap, raw_len)) {
		stop(r, "out of memory reading frame %u", r->seq);
		return -1;
	}
	n = src_read(r, r->z, zlen);
	if (n < zlen) {
		stop(r, "frame %u is cut short at offset %" PRIu64 " (%zu of %u bytes): "
		     "the recording was interrupted", r->seq, r->off, n, zlen);
		return -1;
	}
	crc = gs_crc32(gs_crc32(0, h, 20), r->z, zlen);
	if (crc != gs_rd32(h + 20)) {
		stop(r, "frame %u at offset %" PRIu64 " fails its checksum: the file is "
		     "damaged", r->seq, r->off);
		return -1;
	}
	size_t got = ZSTD_decompressDCtx(r->dctx, r->raw, raw_len, r->z, zlen);

	if (ZSTD_isError(got) || got != raw_len) {
		stop(r, "frame %u at offset %" PRIu64 " does not decompress (%s)", r->seq,
		     r->off, ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size mismatch");
		return -1;
	}
	/* Check the framing of every record before handing out any. */
	size_t pos = 0;
	uint32_t count = 0, tables = 0;
	uint64_t table_raw = 0;

	while (pos < raw_len) {
		if (raw_len - pos < GS_RECORD_HEADER_LEN ||
		    gs_rd16(r->raw + pos + 2) != 0 ||
		    gs_rd32(r->raw + pos + 4) > raw_len - pos - GS_RECORD_HEADER_LEN)
			break;
		unsigned type = gs_rd16(r->raw + pos);

		if (type == GS_REC_OBJECT_TABLE)
			table_raw += gs_rd32(r->raw + pos + 4);
		tables += type == GS_REC_OBJECT || type == GS_REC_OBJECT_TABLE ||
			  type == GS_REC_GO_LAYOUT;
		pos += GS_RECORD_HEADER_LEN + gs_rd32(r->raw + pos + 4);
		count++;
	}
	if (pos != raw_len || count != nrec) {
		stop(r, "frame %u at offset %" PRIu64 " holds malformed records", r->seq,
		     r->off);
		return -1;
	}
	/* What symbol tables cost in the file: gsrec gives them frames of their own. */
	r->h.table_raw_bytes += table_raw;
	if (count && tables == count)
		r->h.table_frame_bytes += sizeof(h) + zlen;
	r->off += sizeof(h) + zlen;
	r->raw_len = raw_len;
	r->raw_pos = 0;
	r->frame_records = nrec;
	r->seq++;
	r->h.frames++;
	r->h.good_bytes = r->off;
	return 1;
}

int gs_reader_next(struct gs_reader *r, struct gs_record *rec)
{
	for (;;) {
		if (r->done)
			return 0;
		if (r->raw_pos >= r->raw_len) {
			int k = next_frame(r);

			if (k <= 0) {
				r->done = 1;
				return 0;
			}
			continue;
		}
		const uint8_t *p = r->raw + r->raw_pos;
		unsigned type = gs_rd16(p);
		uint32_t len = gs_rd32(p + 4);

		r->raw_pos += GS_RECORD_HEADER_LEN + len;
		gs_arena_reset(r->arena);
		if (gs_decode_body(type, p + GS_RECORD_HEADER_LEN, len, rec, r->arena) < 0) {
			/* The frame's checksum held, so the writer produced this. */
			stop(r, "a %s record in frame %u is malformed", gs_rtype_name(type),
			     r->seq - 1);
			return 0;
		}
		r->h.records++;
		if (!gs_rtype_name(type))
			r->h.unknown_records++;
		return 1;
	}
}

const struct gs_health *gs_reader_health(const struct gs_reader *r)
{
	return &r->h;
}

void gs_reader_close(struct gs_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	gs_arena_free(r->arena);
	free(r->z);
	free(r->raw);
	free(r);
}

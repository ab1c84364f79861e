/*
 * reader.c - reads a trace frame by frame (FORMAT.md §2-§4, §7).
 *
 * Memory is bounded by one frame (at most GS_FRAME_MAX_RAW raw bytes), never
 * by the trace's size. Damage after a valid file header loses only the
 * damaged stretch: a frame that is not whole (wrong magic, impossible
 * lengths, a checksum that fails, a payload that does not decompress, records
 * that do not frame) is skipped, and the reader resynchronises on the next
 * offset that holds a whole frame with a later sequence number (§3.1). A
 * frame's CRC covers its header and payload, so a resync on bytes that only
 * look like a frame is a 1 in 2^32 chance for each candidate. A file that
 * ends inside a frame (a killed recorder) is cut short there. What was
 * skipped, where and why, is in the health record; only a bad file header
 * makes the whole file unreadable.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
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
	uint64_t off;			/* file offset of the next frame */
	ZSTD_DCtx *dctx;
	uint8_t *z, *raw;
	size_t zcap, rawcap;
	size_t raw_len, raw_pos;	/* the current frame's records */
	uint32_t seq;			/* the sequence number the next frame should have */
	uint32_t frame_seq;		/* the current frame's */
	int done;
	struct gs_arena *arena;
	struct gs_health h;
};

/* Read up to n bytes at off; returns how many there were. */
static size_t src_pread(struct gs_reader *r, uint64_t off, void *buf, size_t n)
{
	if (r->fd < 0) {
		if (off >= r->h.file_bytes)
			return 0;
		size_t k = r->h.file_bytes - off < n ? (size_t)(r->h.file_bytes - off) : n;

		memcpy(buf, r->mem + off, k);
		return k;
	}
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(r->fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

static void note_why(struct gs_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note_why(struct gs_reader *r, const char *fmt, ...)
{
	va_list ap;

	r->h.damaged = 1;
	if (r->h.why[0])
		return;		/* the first problem is the one to tell */
	va_start(ap, fmt);
	vsnprintf(r->h.why, sizeof(r->h.why), fmt, ap);
	va_end(ap);
}

static int read_header(struct gs_reader *r, enum gs_open_error *err,
		       char *msg, size_t msglen)
{
	uint8_t h[GS_FILE_HEADER_LEN];
	size_t n = src_pread(r, 0, h, sizeof(h));

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

enum frame_result { FR_OK, FR_END, FR_CUT, FR_BAD, FR_NOMEM };

/*
 * Load the frame at off into r->raw if it is whole and its sequence number is
 * at least min_seq. FR_CUT: the file ends inside it; FR_BAD: it is not a whole
 * frame (why says how). Nothing in r but the buffers changes unless FR_OK.
 */
static enum frame_result load_frame(struct gs_reader *r, uint64_t off, uint32_t min_seq,
				    char *why, size_t whylen)
{
	uint8_t h[GS_FRAME_HEADER_LEN];
	size_t n = src_pread(r, off, h, sizeof(h));
	uint32_t seq, raw_len, zlen, nrec;

	if (n == 0)
		return FR_END;
	if (n < sizeof(h) && !memcmp(h, "\x21\x47\x53\x46", n < 4 ? n : 4)) {
		snprintf(why, whylen, "frame %u is cut short at offset %" PRIu64 " (header %zu of "
			 "%d bytes): the recording was interrupted", min_seq, off, n,
			 GS_FRAME_HEADER_LEN);
		return FR_CUT;
	}
	if (n < sizeof(h) || gs_rd32(h) != GS_FRAME_MAGIC) {
		snprintf(why, whylen, "no frame at offset %" PRIu64 " (frame %u)", off, min_seq);
		return FR_BAD;
	}
	seq = gs_rd32(h + 4);
	raw_len = gs_rd32(h + 8);
	zlen = gs_rd32(h + 12);
	nrec = gs_rd32(h + 16);
	/* A frame holds at least one record, so its payload is never empty
	 * (and an empty one would pass any CRC of zeros). */
	if (seq < min_seq || !nrec || !zlen || raw_len > GS_FRAME_MAX_RAW ||
	    zlen > ZSTD_compressBound(GS_FRAME_MAX_RAW) || nrec > GS_FRAME_MAX_RECORDS ||
	    (uint64_t)nrec * GS_RECORD_HEADER_LEN > raw_len) {
		snprintf(why, whylen, "frame %u at offset %" PRIu64 " has an invalid header",
			 min_seq, off);
		return FR_BAD;
	}
	if (grow(&r->z, &r->zcap, zlen) || grow(&r->raw, &r->rawcap, raw_len))
		return FR_NOMEM;
	n = src_pread(r, off + sizeof(h), r->z, zlen);
	if (n < zlen) {
		/* A header that checks out as far as it goes, and then the end
		 * (next_frame tells a damaged length from a cut tail). */
		snprintf(why, whylen, "frame %u is cut short at offset %" PRIu64 " (%zu of %u "
			 "bytes): the recording was interrupted", seq, off, n, zlen);
		return off + sizeof(h) + n >= r->h.file_bytes ? FR_CUT : FR_BAD;
	}
	if (gs_crc32(gs_crc32(0, h, 20), r->z, zlen) != gs_rd32(h + 20)) {
		snprintf(why, whylen, "frame %u at offset %" PRIu64 " fails its checksum", min_seq,
			 off);
		return FR_BAD;
	}
	size_t got = ZSTD_decompressDCtx(r->dctx, r->raw, raw_len, r->z, zlen);

	if (ZSTD_isError(got) || got != raw_len) {
		snprintf(why, whylen, "frame %u at offset %" PRIu64 " does not decompress (%s)", seq,
			 off, ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size mismatch");
		return FR_BAD;
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
		snprintf(why, whylen, "frame %u at offset %" PRIu64 " holds malformed records", seq,
			 off);
		return FR_BAD;
	}
	/* What symbol tables cost in the file: gsrec gives them frames of their own. */
	r->h.table_raw_bytes += table_raw;
	if (count && tables == count)
		r->h.table_frame_bytes += sizeof(h) + zlen;
	r->raw_len = raw_len;
	r->raw_pos = 0;
	r->frame_seq = seq;
	r->off = off + sizeof(h) + zlen;
	r->seq = seq + 1;
	r->h.frames++;
	r->h.good_bytes += sizeof(h) + zlen;
	return FR_OK;
}

static void add_damage(struct gs_reader *r, uint64_t off, uint64_t bytes, uint32_t frames,
		       const char *why)
{
	r->h.gaps++;
	r->h.skipped_bytes += bytes;
	r->h.frames_lost += frames;
	if (r->h.ndamage < GS_HEALTH_DAMAGES) {
		struct gs_damage *d = &r->h.damage[r->h.ndamage++];

		*d = (struct gs_damage){ off, bytes, frames, "" };
		snprintf(d->why, sizeof(d->why), "%s", why);
	}
}

/*
 * The frame at r->off is damaged: find the next offset holding a whole frame
 * whose sequence number is not below the one expected (§3.1). Candidates
 * are the places the frame magic appears; the CRC decides. 1 found (and
 * loaded), 0 none: the rest of the file is lost.
 */
static int resync(struct gs_reader *r, const char *why, int maybe_cut)
{
	enum { BLK = 1 << 16 };
	static const uint8_t magic[4] = { 0x21, 0x47, 0x53, 0x46 };
	uint8_t buf[BLK + 3];
	uint64_t start = r->off, pos = r->off + 1;
	uint32_t want = r->seq;
	char cwhy[160];

	while (pos < r->h.file_bytes) {
		size_t n = src_pread(r, pos, buf, sizeof(buf));

		if (n < 4)
			break;
		for (size_t i = 0; i + 4 <= n; i++) {
			if (buf[i] != magic[0] || memcmp(buf + i, magic, 4))
				continue;
			enum frame_result fr = load_frame(r, pos + i, want, cwhy, sizeof(cwhy));

			if (fr == FR_OK) {
				add_damage(r, start, pos + i - start, r->frame_seq - want, why);
				return 1;
			}
			if (fr == FR_NOMEM)
				return 0;
		}
		pos += n - 3;
	}
	if (!maybe_cut)
		add_damage(r, start, r->h.file_bytes - start, 0, why);
	return 0;
}

/* Load the next good frame into r->raw. 1 loaded, 0 nothing more to read. */
static int next_frame(struct gs_reader *r)
{
	char why[160];
	enum frame_result fr = load_frame(r, r->off, r->seq, why, sizeof(why));

	switch (fr) {
	case FR_OK:
		return 1;
	case FR_END:
		return 0;
	case FR_CUT:
		/* A file that ends inside a frame was cut short, unless a damaged
		 * length made it look so: a whole frame further on tells. */
		if (resync(r, why, 1)) {
			note_why(r, "%s: the damaged bytes are skipped", why);
			return 1;
		}
		r->h.cut_short = 1;
		note_why(r, "%s", why);
		return 0;
	case FR_NOMEM:
		note_why(r, "out of memory reading frame %u", r->seq);
		return 0;
	case FR_BAD:
		break;
	}
	note_why(r, "%s: the damaged bytes are skipped", why);
	return resync(r, why, 0);
}

int gs_reader_next(struct gs_reader *r, struct gs_record *rec)
{
	for (;;) {
		if (r->done)
			return 0;
		if (r->raw_pos >= r->raw_len) {
			if (next_frame(r) <= 0) {
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
			/* The frame's checksum held, so the writer produced this: the
			 * record is skipped, the rest of the frame is still good. */
			r->h.bad_records++;
			note_why(r, "a %s record in frame %u is malformed, and is skipped",
				 gs_rtype_name(type), r->frame_seq);
			continue;
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

uint32_t gs_reader_gaps(const struct gs_reader *r)
{
	return r->h.gaps;
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

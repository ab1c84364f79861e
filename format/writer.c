/*
 * writer.c - appends records to a trace (FORMAT.md §2-§4).
 *
 * Records accumulate in an uncompressed chunk; a chunk becomes one frame
 * (header + zstd frame) when it reaches chunk_bytes, when flush_ms has
 * passed, or at close. Frames are only ever appended and each carries its own
 * checksum, so a recorder killed at any instant leaves a file that reads up
 * to its last complete frame: at most one flush interval is lost.
 *
 * A staged writer (gsrec's) writes to a temporary file in the folder of
 * its path and renames it into place when told the recording has begun, so
 * that a run which fails before that never harms a file already there.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "codec.h"

struct gs_writer {
	int fd, own_fd;
	char *path, *tmp;		/* staged: the final name and the temporary one */
	int committed;			/* renamed into place */
	int err;			/* errno of the first failure; sticky */
	struct gs_writer_opts o;
	ZSTD_CCtx *cctx;
	struct gs_buf chunk;		/* raw records not yet framed */
	uint32_t chunk_records;
	uint8_t *zbuf;
	size_t zcap;
	uint32_t seq;
	uint64_t last_flush_ns;
	uint64_t file_bytes, records, raw_bytes;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int write_all(struct gs_writer *w, const void *p, size_t n)
{
	const uint8_t *q = p;

	while (n) {
		ssize_t k = write(w->fd, q, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			w->err = errno;
			return -1;
		}
		q += k;
		n -= (size_t)k;
		w->file_bytes += (uint64_t)k;
	}
	return 0;
}

/*
 * The temporary file goes in path's own folder, so that the rename into
 * place is atomic and cannot cross file systems; mkstemp makes it 0600.
 */
static int open_staged(struct gs_writer *w, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return 0;	/* a device or FIFO: written directly */
	/* a symbolic link to a trace: the file it names takes the new one's place */
	w->path = lstat(path, &st) == 0 && S_ISLNK(st.st_mode) ? realpath(path, NULL) : NULL;
	if (!w->path)
		w->path = strdup(path);
	if (!w->path || asprintf(&w->tmp, "%s.tmp-XXXXXX", w->path) < 0) {
		w->tmp = NULL;
		errno = ENOMEM;
		return -1;
	}
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		free(w->tmp);
		w->tmp = NULL;
		return -1;
	}
	w->own_fd = 1;
	return 0;
}

/* Make a rename in dir durable (the folder's entry, not only the data). */
static void sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int gs_writer_commit(struct gs_writer *w, const char *keep_suffix)
{
	struct stat st;

	if (!w->tmp)
		return 0;
	if (keep_suffix && stat(w->path, &st) == 0 && S_ISREG(st.st_mode)) {
		char *old;

		if (asprintf(&old, "%s%s", w->path, keep_suffix) < 0) {
			errno = ENOMEM;
			return -1;
		}
		int r = rename(w->path, old);

		free(old);
		if (r < 0)
			return -1;
	}
	if (rename(w->tmp, w->path) < 0)
		return -1;
	free(w->tmp);
	w->tmp = NULL;
	w->committed = 1;	/* the folder is synced at close: not on the recording's path */
	return 0;
}

struct gs_writer *gs_writer_open(const char *path, int fd,
				 const struct gs_writer_opts *opts)
{
	struct gs_writer *w = calloc(1, sizeof(*w));
	uint8_t h[GS_FILE_HEADER_LEN] = { 0 };
	struct timespec now;
	int saved;

	if (!w)
		return NULL;
	if (opts)
		w->o = *opts;
	if (!w->o.chunk_bytes)
		w->o.chunk_bytes = 1u << 20;
	if (w->o.chunk_bytes > GS_FRAME_MAX_RAW / 2)
		w->o.chunk_bytes = GS_FRAME_MAX_RAW / 2;
	if (!w->o.flush_ms)
		w->o.flush_ms = 1000;
	if (!w->o.level)
		w->o.level = 3;

	w->fd = fd;
	if (path && w->o.staged && open_staged(w, path) < 0)
		goto fail;
	if (path && !w->tmp) {
		w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (w->fd < 0)
			goto fail;
		w->own_fd = 1;
		/* An existing file keeps its mode through O_TRUNC: traces are
		 * private. (Not a device's: -o /dev/stdout must not chmod it.) */
		struct stat st;

		if (fstat(w->fd, &st) < 0 || (S_ISREG(st.st_mode) && fchmod(w->fd, 0600) < 0))
			goto fail;
	}
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx) {
		errno = ENOMEM;
		goto fail;
	}
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->o.level);
	/* Content checksum: the decompressor verifies what it produced too. */
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);

	clock_gettime(CLOCK_REALTIME, &now);
	memcpy(h, GS_FILE_MAGIC, GS_FILE_MAGIC_LEN);
	gs_le16(h + 8, GS_VERSION_MAJOR);
	gs_le16(h + 10, GS_VERSION_MINOR);
	gs_le32(h + 12, 0);	/* flags: none defined in v1 */
	gs_le64(h + 16, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
	gs_le32(h + 24, 0);	/* reserved */
	gs_le32(h + 28, gs_crc32(0, h, 28));
	if (write_all(w, h, sizeof(h)) < 0) {
		errno = w->err;
		goto fail;
	}
	w->last_flush_ns = mono_ns();
	return w;
fail:
	saved = errno;
	if (w->own_fd && w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	ZSTD_freeCCtx(w->cctx);
	free(w->tmp);
	free(w->path);
	free(w);
	errno = saved;
	return NULL;
}

int gs_writer_flush(struct gs_writer *w)
{
	uint8_t h[GS_FRAME_HEADER_LEN];
	size_t bound, zlen;
	uint32_t crc;

	if (w->err) {
		errno = w->err;
		return -1;
	}
	w->last_flush_ns = mono_ns();
	if (!w->chunk.len)
		return 0;
	bound = ZSTD_compressBound(w->chunk.len);
	if (bound > w->zcap) {
		uint8_t *z = realloc(w->zbuf, bound);

		if (!z) {
			w->err = errno = ENOMEM;
			return -1;
		}
		w->zbuf = z;
		w->zcap = bound;
	}
	zlen = ZSTD_compress2(w->cctx, w->zbuf, w->zcap, w->chunk.p, w->chunk.len);
	if (ZSTD_isError(zlen)) {
		w->err = errno = EIO;
		return -1;
	}
	gs_le32(h + 0, GS_FRAME_MAGIC);
	gs_le32(h + 4, w->seq);
	gs_le32(h + 8, (uint32_t)w->chunk.len);
	gs_le32(h + 12, (uint32_t)zlen);
	gs_le32(h + 16, w->chunk_records);
	crc = gs_crc32(0, h, 20);
	crc = gs_crc32(crc, w->zbuf, zlen);
	gs_le32(h + 20, crc);
	/*
	 * Header and payload in one buffer would save a syscall, but a torn write
	 * is detected either way: the reader checks lengths and the CRC.
	 */
	if (write_all(w, h, sizeof(h)) < 0 || write_all(w, w->zbuf, zlen) < 0) {
		errno = w->err;
		return -1;
	}
	w->seq++;
	w->chunk.len = 0;
	w->chunk_records = 0;
	return 0;
}

int gs_writer_maybe_flush(struct gs_writer *w, uint64_t now_ns)
{
	if (w->chunk.len && now_ns - w->last_flush_ns >= (uint64_t)w->o.flush_ms * 1000000u)
		return gs_writer_flush(w);
	return w->err ? (errno = w->err, -1) : 0;
}

int gs_writer_add(struct gs_writer *w, const struct gs_record *rec)
{
	struct gs_buf *b = &w->chunk;
	size_t at;

	if (w->err) {
		errno = w->err;
		return -1;
	}
	at = b->len;
	if (gs_buf_reserve(b, GS_RECORD_HEADER_LEN)) {
		w->err = errno = ENOMEM;
		return -1;
	}
	b->len += GS_RECORD_HEADER_LEN;
	if (gs_encode_body(b, rec) < 0) {
		b->len = at;
		if (b->oom) {
			w->err = errno = ENOMEM;
			return -1;
		}
		errno = EINVAL;
		return -1;
	}
	size_t body = b->len - at - GS_RECORD_HEADER_LEN;

	/* A record must fit in a frame on its own, with room to spare. */
	if (body + GS_RECORD_HEADER_LEN > GS_FRAME_MAX_RAW / 2) {
		b->len = at;
		errno = EFBIG;
		return -1;
	}
	if (at > 0 && b->len > GS_FRAME_MAX_RAW / 2) {
		/* Frame what came before; move this record to the next chunk. */
		uint8_t *tmp = malloc(b->len - at);

		if (!tmp) {
			w->err = errno = ENOMEM;
			return -1;
		}
		memcpy(tmp, b->p + at, b->len - at);
		size_t n = b->len - at;

		b->len = at;
		if (gs_writer_flush(w) < 0) {
			free(tmp);
			return -1;
		}
		gs_put_bytes(b, tmp, n);
		free(tmp);
		at = 0;
	}
	gs_le16(b->p + at, (uint16_t)rec->type);
	gs_le16(b->p + at + 2, 0);
	gs_le32(b->p + at + 4, (uint32_t)body);
	w->chunk_records++;
	w->records++;
	w->raw_bytes += body + GS_RECORD_HEADER_LEN;
	if (b->len >= w->o.chunk_bytes)
		return gs_writer_flush(w);
	return 0;
}

int gs_writer_close(struct gs_writer *w)
{
	int ret = gs_writer_flush(w);
	int saved = errno;

	if (w->own_fd) {
		if (ret == 0 && fsync(w->fd) < 0 && errno != EINVAL) {
			ret = -1;
			saved = errno;
		}
		if (close(w->fd) < 0 && ret == 0) {
			ret = -1;
			saved = errno;
		}
	}
	if (w->committed)
		sync_dir_of(w->path);
	if (w->tmp)
		unlink(w->tmp);	/* never committed: the recording did not begin */
	ZSTD_freeCCtx(w->cctx);
	gs_buf_free(&w->chunk);
	free(w->zbuf);
	free(w->tmp);
	free(w->path);
	free(w);
	errno = saved;
	return ret;
}

uint64_t gs_writer_file_bytes(const struct gs_writer *w) { return w->file_bytes; }
uint64_t gs_writer_records(const struct gs_writer *w) { return w->records; }
uint64_t gs_writer_raw_bytes(const struct gs_writer *w) { return w->raw_bytes; }

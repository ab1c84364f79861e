/*
 * codec.h - byte-level helpers private to format/: little-endian fixed
 * fields, LEB128 varints, length-prefixed strings (FORMAT.md §4), and a
 * bounds-checked cursor that turns every overrun into a sticky error instead
 * of a read past the end. Nothing outside format/ includes this.
 */
#ifndef GS_CODEC_H
#define GS_CODEC_H

#include <stdint.h>
#include <string.h>
#include "trace.h"

static inline void gs_le16(uint8_t *p, uint16_t v)
{
	p[0] = v; p[1] = v >> 8;
}

static inline void gs_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static inline void gs_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static inline uint16_t gs_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t gs_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t gs_rd64(const uint8_t *p)
{
	return (uint64_t)gs_rd32(p) | (uint64_t)gs_rd32(p + 4) << 32;
}

/* ---- growable output buffer ---- */

int gs_buf_reserve(struct gs_buf *b, size_t more);
void gs_buf_free(struct gs_buf *b);

static inline void gs_put_bytes(struct gs_buf *b, const void *p, size_t n)
{
	if (gs_buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void gs_put_uv(struct gs_buf *b, uint64_t v)
{
	if (gs_buf_reserve(b, 10))
		return;
	while (v >= 0x80) {
		b->p[b->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->len++] = (uint8_t)v;
}

static inline void gs_put_str(struct gs_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	gs_put_uv(b, n);
	gs_put_bytes(b, s, n);
}

static inline void gs_put_blob(struct gs_buf *b, const void *p, size_t n)
{
	gs_put_uv(b, n);
	gs_put_bytes(b, p, n);
}

/* ---- bounds-checked input cursor ---- */

struct gs_cur {
	const uint8_t *p, *end;
	int bad;		/* set on any overrun or malformed varint */
};

static inline uint64_t gs_get_uv(struct gs_cur *c)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->end) {
			c->bad = 1;
			return 0;
		}
		uint8_t byte = *c->p++;

		/* The tenth byte may carry only the top bit of a u64. */
		if (shift == 63 && byte > 1) {
			c->bad = 1;
			return 0;
		}
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return v;
	}
	c->bad = 1;
	return 0;
}

static inline uint32_t gs_get_u32(struct gs_cur *c)
{
	uint64_t v = gs_get_uv(c);

	if (v > UINT32_MAX) {
		c->bad = 1;
		return 0;
	}
	return (uint32_t)v;
}

/* A length-prefixed byte string; *n its length. Points into the input. */
static inline const uint8_t *gs_get_blob(struct gs_cur *c, uint32_t *n)
{
	uint64_t len = gs_get_uv(c);

	if (c->bad || len > (uint64_t)(c->end - c->p)) {
		c->bad = 1;
		*n = 0;
		return NULL;
	}
	const uint8_t *p = c->p;

	c->p += len;
	*n = (uint32_t)len;
	return p;
}

/* ---- arena for decoded strings and arrays ---- */

void *gs_arena_alloc(struct gs_arena *a, size_t n);
/* NUL-terminated copy of n bytes. */
char *gs_arena_strndup(struct gs_arena *a, const void *p, size_t n);

uint32_t gs_crc32(uint32_t crc, const void *p, size_t n);

#endif

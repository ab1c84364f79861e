/*
 * smaps.c - /proc/PID/smaps parsing and Go memory classes.
 *
 * The parser is on gsrec's hot path (every read of a large target), so it
 * makes one pass over the text, in place, with no allocation per line.
 * Unknown field lines are ignored: kernels add fields over time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smaps.h"

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static uint64_t hex(char **p)
{
	uint64_t v = 0;

	for (; is_hex(**p); (*p)++) {
		char c = **p;

		v = v << 4 | (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

static uint64_t dec(char **p)
{
	uint64_t v = 0;

	while (**p >= '0' && **p <= '9')
		v = v * 10 + (uint64_t)(*(*p)++ - '0');
	return v;
}

/* "start-end perms offset maj:min inode   path" */
static int parse_header(char *line, char *eol, struct gs_mapping *m)
{
	char *p = line;

	memset(m, 0, sizeof(*m));
	m->thp_eligible = -1;
	m->start = hex(&p);
	if (*p++ != '-')
		return -1;
	m->end = hex(&p);
	if (*p++ != ' ' || eol - p < 5)
		return -1;
	m->perms = (p[0] == 'r' ? GS_PERM_R : 0) | (p[1] == 'w' ? GS_PERM_W : 0) |
		   (p[2] == 'x' ? GS_PERM_X : 0) | (p[3] == 's' ? GS_PERM_SHARED : 0);
	p += 4;
	if (*p++ != ' ')
		return -1;
	m->offset = hex(&p);
	if (*p++ != ' ')
		return -1;
	m->dev_major = (uint32_t)hex(&p);
	if (*p++ != ':')
		return -1;
	m->dev_minor = (uint32_t)hex(&p);
	if (*p++ != ' ')
		return -1;
	m->inode = dec(&p);
	if (p < eol && *p != ' ')
		return -1;
	/* The kernel pads to a column, then prints the path up to the newline:
	 * spaces inside the path and a " (deleted)" suffix belong to it. */
	while (p < eol && *p == ' ')
		p++;
	*eol = 0;
	m->path = p;
	m->vmflags = "";
	return m->end < m->start ? -1 : 0;
}

int gs_smaps_parse(char *text, size_t len, struct gs_smaps *out, char *err,
		   size_t errlen)
{
	char *p = text, *end = text + len;
	struct gs_mapping *cur = NULL;
	unsigned lineno = 0;

	out->n = 0;
	text[len] = 0;
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		lineno++;
		char *colon = memchr(p, ':', (size_t)(eol - p));
		char *dash = memchr(p, '-', (size_t)(eol - p));

		if (is_hex(*p) && dash && (!colon || dash < colon) &&
		    memchr(p, ' ', (size_t)(eol - p)) > (void *)dash) {
			if (out->n == out->cap) {
				uint32_t cap = out->cap ? out->cap * 2 : 256;
				struct gs_mapping *m = realloc(out->m, cap * sizeof(*m));

				if (!m) {
					snprintf(err, errlen, "out of memory");
					return -1;
				}
				out->m = m;
				out->cap = cap;
			}
			cur = &out->m[out->n];
			if (parse_header(p, eol, cur) < 0) {
				snprintf(err, errlen, "line %u: not an smaps mapping line", lineno);
				return -1;
			}
			out->n++;
		} else if (colon && cur) {
			char *v = colon + 1;
			size_t nlen = (size_t)(colon - p);

			while (v < eol && *v == ' ')
				v++;
			if (nlen == 7 && !memcmp(p, "VmFlags", 7)) {
				*eol = 0;
				/* trailing space the kernel leaves after the last flag */
				for (char *t = eol; t > v && t[-1] == ' ';)
					*--t = 0;
				cur->vmflags = v;
			} else if (nlen == 11 && !memcmp(p, "THPeligible", 11)) {
				cur->thp_eligible = (int32_t)dec(&v);
			} else if (nlen == 14 && !memcmp(p, "KernelPageSize", 14)) {
				cur->kernel_page_kb = (uint32_t)dec(&v);
			} else if (nlen == 11 && !memcmp(p, "MMUPageSize", 11)) {
				cur->mmu_page_kb = (uint32_t)dec(&v);
			} else {
				int f = gs_smaps_field_index(p, nlen);

				if (f >= 0) {
					cur->v[f] = dec(&v);
					cur->present |= 1u << f;
				}
			}
		} else if (eol > p) {
			snprintf(err, errlen, "line %u: %s", lineno,
				 cur ? "not a field line" : "no mapping line before it");
			return -1;
		}
		p = eol + 1;
	}
	return 0;
}

void gs_smaps_free(struct gs_smaps *s)
{
	free(s->m);
	memset(s, 0, sizeof(*s));
}

/* ---- classes ---- */

static const char *const class_names[GS_NCLASSES] = {
	"heap", "runtime", "binary", "libs", "thread_stacks", "c_heap", "file",
	"anon_other",
};

const char *gs_class_name(int cls)
{
	return cls >= 0 && cls < GS_NCLASSES ? class_names[cls] : NULL;
}

/*
 * Go's heap arenas start at the hint 0xc000000000 and grow upward; further
 * hints are i<<40 | 0xc000000000. The kernel's top-down mmap area, where all
 * other anonymous memory goes, starts at most about 1 TB below 0x7fffffffffff
 * (28 bits of ASLR), so everything from the first hint to 0x7e0000000000 is
 * taken to be arena space.
 */
#define GO_ARENA_LO	0xc000000000ull
#define GO_ARENA_HI	0x7e0000000000ull

/* glibc's malloc heaps for non-main arenas: HEAP_MAX_SIZE-aligned reservations. */
#define GLIBC_HEAP_MAX	(64ull << 20)

static int is_anon(const struct gs_mapping *m)
{
	return m->inode == 0 && (!m->path[0] || !strncmp(m->path, "[anon:", 6));
}

static int is_lib_path(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	const char *so = strstr(base, ".so");

	return so && (so[3] == 0 || so[3] == '.' || so[3] == ' ');
}

static int is_exe(const struct gs_mapping *m, const struct gs_classify_ctx *c)
{
	if (c->exe_inode && m->inode == c->exe_inode &&
	    m->dev_major == c->exe_dev_major && m->dev_minor == c->exe_dev_minor)
		return 1;
	/* overlayfs and friends report other numbers: the path still matches */
	return c->exe_path && c->exe_path[0] && !strcmp(m->path, c->exe_path);
}

static int has_libc(const struct gs_mapping *const *m, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const char *base = strrchr(m[i]->path, '/');

		if (base && (!strncmp(base + 1, "libc.so", 7) || !strncmp(base + 1, "libc-", 5) ||
			     !strncmp(base + 1, "ld-linux", 8)))
			return 1;
	}
	return 0;
}

void gs_classify(const struct gs_mapping *const *m, uint32_t n,
		 const struct gs_classify_ctx *ctx, uint8_t *cls)
{
	int libc = has_libc(m, n);

	for (uint32_t i = 0; i < n; i++) {
		const struct gs_mapping *x = m[i], *prev = i ? m[i - 1] : NULL;
		const struct gs_mapping *next = i + 1 < n ? m[i + 1] : NULL;
		uint64_t size = x->end - x->start;
		int adj_prev = prev && prev->end == x->start;
		uint8_t c;

		if (!strcmp(x->path, "[heap]")) {
			c = GS_CL_C_HEAP;
		} else if (!strcmp(x->path, "[stack]")) {
			c = GS_CL_THREAD_STACKS;
		} else if (!strcmp(x->path, "[vdso]") || !strcmp(x->path, "[vvar]") ||
			   !strcmp(x->path, "[vsyscall]") || !strncmp(x->path, "[vvar_", 6)) {
			c = GS_CL_LIBS;
		} else if (!is_anon(x)) {
			if (is_exe(x, ctx))
				c = GS_CL_BINARY;
			else if (x->path[0] == '/' && is_lib_path(x->path))
				c = GS_CL_LIBS;
			else if (x->path[0] == '[')
				c = GS_CL_ANON_OTHER;	/* kernel-named areas we do not know */
			else
				c = GS_CL_FILE;
		} else if (adj_prev && !is_anon(prev) && (prev->perms & GS_PERM_W) &&
			   (cls[i - 1] == GS_CL_BINARY || cls[i - 1] == GS_CL_LIBS)) {
			c = cls[i - 1];		/* .bss after a writable data segment */
		} else if (ctx->is_go && x->start >= GO_ARENA_LO && x->start < GO_ARENA_HI) {
			c = GS_CL_HEAP;
		} else if (libc && (x->perms & GS_PERM_W) && adj_prev && is_anon(prev) &&
			   !(prev->perms & (GS_PERM_R | GS_PERM_W)) &&
			   prev->end - prev->start <= 64 * 1024 && size >= 64 * 1024) {
			c = GS_CL_THREAD_STACKS;	/* pthread stack above its guard */
		} else if (libc && (x->perms & GS_PERM_W) && x->start % GLIBC_HEAP_MAX == 0 &&
			   (size == GLIBC_HEAP_MAX ||
			    (next && next->start == x->end && is_anon(next) &&
			     !(next->perms & (GS_PERM_R | GS_PERM_W)) &&
			     next->end == x->start + GLIBC_HEAP_MAX))) {
			c = GS_CL_C_HEAP;		/* a glibc arena's heap */
		} else if (libc && !(x->perms & (GS_PERM_R | GS_PERM_W)) && adj_prev &&
			   cls[i - 1] == GS_CL_C_HEAP && is_anon(prev) &&
			   x->end % GLIBC_HEAP_MAX == 0 &&
			   x->end - prev->start <= GLIBC_HEAP_MAX) {
			c = GS_CL_C_HEAP;		/* the unused rest of that arena */
		} else {
			c = ctx->is_go ? GS_CL_RUNTIME : GS_CL_ANON_OTHER;
		}
		cls[i] = c;
	}
}
